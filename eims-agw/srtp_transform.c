/* SRTP/SRTCP packet transform: AES-CM + HMAC-SHA1 (RFC 3711) and AES-GCM
 * (RFC 7714) on OpenSSL contexts keyed once per direction. */

/* HMAC-SHA1 runs on SHA-1 states with the key pads already absorbed
 * (hmac_sha1.h), copied per packet: OpenSSL 3.0's EVP_MAC and EVP_MD_CTX
 * re-initialisation allocate on every call. */
#include "srtp_transform.h"

#include "hmac_sha1.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "openssl_arena.h"
#include "srtp_aes_cm.h"
#include "srtp_window.h"

#define RTP_HEADER_LEN 12
#define RTCP_HEADER_LEN 8
#define SRTCP_INDEX_LEN 4
#define SRTCP_E_FLAG 0x80000000u
#define SRTCP_INDEX_MAX 0x7fffffffu
#define GCM_IV_LEN 12
#define GCM_TAG_LEN 16

/* RFC 3711 4.3.2 labels. */
enum {
	LABEL_RTP_ENC = 0x00,
	LABEL_RTP_AUTH = 0x01,
	LABEL_RTP_SALT = 0x02,
	LABEL_RTCP_ENC = 0x03,
	LABEL_RTCP_AUTH = 0x04,
	LABEL_RTCP_SALT = 0x05,
};

/* Keyed state of one of SRTP and SRTCP. */
struct srtp_keyed {
	EVP_CIPHER_CTX *cipher; /* owned: AES-ECB (AES-CM) or AES-GCM, keyed */
	uint8_t salt[SRTP_TRANSFORM_SALT_MAX]; /* session salt */
	struct hmac_sha1 hmac;  /* AES-CM: auth key absorbed once */
};

/* One SSRC's state. */
struct srtp_ssrc {
	uint32_t ssrc;
	uint32_t rtcp_sent;      /* outbound: last SRTCP index sent, 0 none */
	struct srtp_window rtp;  /* SRTP index (ROC, s_l) and replay window */
	struct srtp_window rtcp; /* inbound: SRTCP index and replay window */
};

/* Room for the RTP cipher context OpenSSL allocates (openssl_arena.h):
 * OpenSSL 3.0 takes 184 bytes for the EVP context and 448 (AES-ECB) or
 * 960 (AES-GCM) for the provider's, plus a transient name; what does not
 * fit comes from the heap. */
#define CIPHER_ARENA 1280

/* The RTP half first: its keyed state, the cipher context placed right
 * after it, the SSRC table; the whole struct in one page (TRANSFORM_PAGE). */
struct srtp_transform {
	bool placed;                      /* in the caller's page (srtp_transform_create_at) */
	enum srtp_profile profile;
	enum srtp_transform_dir dir;
	struct srtp_profile_info info;
	struct srtp_keyed rtp;
	struct openssl_arena arena;       /* over cipher_mem */
	_Alignas(16) uint8_t cipher_mem[CIPHER_ARENA];
	unsigned n_ssrc;
	struct srtp_ssrc ssrc[SRTP_TRANSFORM_MAX_SSRC];
	struct srtp_keyed rtcp;           /* per RTCP packet: after the table */
};

#define TRANSFORM_PAGE SRTP_TRANSFORM_PAGE
_Static_assert(sizeof(struct srtp_transform) <= TRANSFORM_PAGE, "a transform in one page");

static const struct {
	enum srtp_profile profile;
	struct srtp_profile_info info;
} profiles[] = {
	{ SRTP_PROFILE_AES128_CM_HMAC_SHA1_80,
	  { "SRTP_AES128_CM_SHA1_80", 16, 14, 10, 10, false } },
	{ SRTP_PROFILE_AES128_CM_HMAC_SHA1_32,
	  { "SRTP_AES128_CM_SHA1_32", 16, 14, 4, 10, false } },
	{ SRTP_PROFILE_AEAD_AES_128_GCM,
	  { "SRTP_AEAD_AES_128_GCM", 16, 12, 16, 16, true } },
	{ SRTP_PROFILE_AEAD_AES_256_GCM,
	  { "SRTP_AEAD_AES_256_GCM", 32, 12, 16, 16, true } },
};

void srtp_transform_rtp_lines(const struct srtp_transform *t, const void **out)
{
	/* The keyed state (cipher pointer, salt, HMAC states: ~216 bytes)
	 * by line: four of its at most five; the EVP context's lines with
	 * its provider pointer (the first and third); the provider state
	 * (the largest placed allocation: its first lines hold what a block
	 * update reads first), when placed; the first SSRC. */
	const char *k = (const char *)&t->rtp;
	const char *c = (const char *)t->rtp.cipher;
	const char *prov = t->arena.largest;

	for (unsigned i = 0; i < 4; i++)
		out[i] = k + 64 * i;
	out[4] = c;
	out[5] = c + 128;
	out[6] = prov;
	out[7] = prov ? prov + 64 : NULL;
	out[8] = &t->ssrc[0];
}

int srtp_transform_profile_info(enum srtp_profile profile,
				struct srtp_profile_info *out)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (profiles[i].profile == profile) {
			*out = profiles[i].info;
			return 0;
		}
	return ENOTSUP;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- key derivation and set-up ---------------------------------------- */

int srtp_transform_derive(enum srtp_profile profile,
			  const uint8_t *master_key, size_t key_len,
			  const uint8_t *master_salt, size_t salt_len,
			  struct srtp_session_keys *rtp,
			  struct srtp_session_keys *rtcp)
{
	struct srtp_profile_info info;
	uint8_t salt[SRTP_AES_CM_SALT_LEN] = { 0 };
	EVP_CIPHER_CTX *prf = NULL;
	int rc;

	if (srtp_transform_profile_info(profile, &info))
		return ENOTSUP;
	if (!master_key || !master_salt || key_len != info.key_len ||
	    salt_len != info.salt_len)
		return EINVAL;
	memset(rtp, 0, sizeof(*rtp));
	memset(rtcp, 0, sizeof(*rtcp));
	memcpy(salt, master_salt, salt_len); /* GCM: salt * 2^16 */
	rc = srtp_aes_cm_ecb_new(master_key, key_len, &prf);
	if (rc)
		goto out;
	if ((rc = srtp_aes_cm_kdf(prf, salt, LABEL_RTP_ENC, rtp->enc, key_len)) ||
	    (rc = srtp_aes_cm_kdf(prf, salt, LABEL_RTP_SALT, rtp->salt, salt_len)) ||
	    (rc = srtp_aes_cm_kdf(prf, salt, LABEL_RTCP_ENC, rtcp->enc, key_len)) ||
	    (rc = srtp_aes_cm_kdf(prf, salt, LABEL_RTCP_SALT, rtcp->salt, salt_len)))
		goto out;
	if (!info.aead &&
	    ((rc = srtp_aes_cm_kdf(prf, salt, LABEL_RTP_AUTH, rtp->auth,
				   SRTP_TRANSFORM_AUTH_KEY_LEN)) ||
	     (rc = srtp_aes_cm_kdf(prf, salt, LABEL_RTCP_AUTH, rtcp->auth,
				   SRTP_TRANSFORM_AUTH_KEY_LEN))))
		goto out;
out:
	EVP_CIPHER_CTX_free(prf);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (rc) {
		OPENSSL_cleanse(rtp, sizeof(*rtp));
		OPENSSL_cleanse(rtcp, sizeof(*rtcp));
	}
	return rc;
}

static int keyed_init(struct srtp_keyed *k, const struct srtp_profile_info *info,
		      enum srtp_transform_dir dir,
		      const struct srtp_session_keys *keys)
{
	memcpy(k->salt, keys->salt, info->salt_len);
	if (!info->aead) {
		int rc = srtp_aes_cm_ecb_new(keys->enc, info->key_len, &k->cipher);
		if (!rc)
			hmac_sha1_init(&k->hmac, keys->auth, SRTP_TRANSFORM_AUTH_KEY_LEN);
		return rc;
	}

	const EVP_CIPHER *gcm = info->key_len == 32 ? EVP_aes_256_gcm()
						    : EVP_aes_128_gcm();
	k->cipher = EVP_CIPHER_CTX_new();
	if (!k->cipher)
		return ENOMEM;
	int ok = dir == SRTP_TRANSFORM_OUTBOUND
			 ? EVP_EncryptInit_ex(k->cipher, gcm, NULL, keys->enc, NULL)
			 : EVP_DecryptInit_ex(k->cipher, gcm, NULL, keys->enc, NULL);
	return ok == 1 ? 0 : EIO;
}

/* In page (the caller's) or, page NULL, in a page of its own. */
static int create_in(void *page, enum srtp_profile profile, enum srtp_transform_dir dir,
		     const struct srtp_session_keys *rtp, const struct srtp_session_keys *rtcp,
		     struct srtp_transform **out)
{
	struct srtp_profile_info info;
	int rc;

	if (srtp_transform_profile_info(profile, &info))
		return ENOTSUP;
	if ((dir != SRTP_TRANSFORM_OUTBOUND && dir != SRTP_TRANSFORM_INBOUND) ||
	    !rtp || !rtcp || ((uintptr_t)page & (TRANSFORM_PAGE - 1)))
		return EINVAL;
	struct srtp_transform *t = page ? page : aligned_alloc(TRANSFORM_PAGE, TRANSFORM_PAGE);
	if (!t)
		return ENOMEM;
	memset(t, 0, TRANSFORM_PAGE);
	t->placed = page != NULL;
	t->profile = profile;
	t->dir = dir;
	t->info = info;
	openssl_arena_init(&t->arena, t->cipher_mem, sizeof(t->cipher_mem));
	/* The RTP cipher context in this page (the packet path's), the
	 * RTCP one wherever the heap puts it -- and first: the same cipher,
	 * so that what OpenSSL allocates for itself on a cipher's first use
	 * (its method cache, kept for the process) is not placed here. */
	if (!(rc = keyed_init(&t->rtcp, &info, dir, rtcp))) {
		openssl_arena_begin(&t->arena);
		rc = keyed_init(&t->rtp, &info, dir, rtp);
		openssl_arena_end();
	}
	if (rc) {
		srtp_transform_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int srtp_transform_create_session(enum srtp_profile profile,
				  enum srtp_transform_dir dir,
				  const struct srtp_session_keys *rtp,
				  const struct srtp_session_keys *rtcp,
				  struct srtp_transform **out)
{
	return create_in(NULL, profile, dir, rtp, rtcp, out);
}

int srtp_transform_create_at(void *page, enum srtp_profile profile,
			     enum srtp_transform_dir dir,
			     const uint8_t *master_key, size_t key_len,
			     const uint8_t *master_salt, size_t salt_len,
			     struct srtp_transform **out)
{
	struct srtp_session_keys rtp, rtcp;
	int rc = srtp_transform_derive(profile, master_key, key_len, master_salt,
				       salt_len, &rtp, &rtcp);
	if (!rc)
		rc = create_in(page, profile, dir, &rtp, &rtcp, out);
	OPENSSL_cleanse(&rtp, sizeof(rtp));
	OPENSSL_cleanse(&rtcp, sizeof(rtcp));
	return rc;
}

int srtp_transform_create(enum srtp_profile profile,
			  enum srtp_transform_dir dir,
			  const uint8_t *master_key, size_t key_len,
			  const uint8_t *master_salt, size_t salt_len,
			  struct srtp_transform **out)
{
	return srtp_transform_create_at(NULL, profile, dir, master_key, key_len, master_salt,
					salt_len, out);
}

bool srtp_transform_free(struct srtp_transform *t)
{
	if (!t)
		return true;
	/* Freeing a cipher context wipes its key schedule. */
	EVP_CIPHER_CTX_free(t->rtp.cipher);
	EVP_CIPHER_CTX_free(t->rtcp.cipher);
	/* Memory OpenSSL placed here and still holds (not expected: it
	 * frees what a context allocated with the context) must not be
	 * reused: the page is leaked rather than freed, its keys wiped. */
	if (!openssl_arena_idle(&t->arena)) {
		OPENSSL_cleanse(&t->rtp, sizeof(t->rtp));
		OPENSSL_cleanse(&t->rtcp, sizeof(t->rtcp));
		return false;
	}
	bool placed = t->placed;
	OPENSSL_cleanse(t, sizeof(*t));
	if (!placed)
		free(t);
	return true;
}

/* ---- per-SSRC state ----------------------------------------------------- */

/* The state of `ssrc` in *out: its table entry, or *scratch initialised
 * for a new SSRC (entered by ssrc_commit once the packet is good).
 * ENOSPC when it is new and the table is full. */
static int ssrc_find(struct srtp_transform *t, uint32_t ssrc,
		     struct srtp_ssrc *scratch, struct srtp_ssrc **out)
{
	for (unsigned i = 0; i < t->n_ssrc; i++)
		if (t->ssrc[i].ssrc == ssrc) {
			*out = &t->ssrc[i];
			return 0;
		}
	if (t->n_ssrc == SRTP_TRANSFORM_MAX_SSRC)
		return ENOSPC;
	memset(scratch, 0, sizeof(*scratch));
	scratch->ssrc = ssrc;
	*out = scratch;
	return 0;
}

static void ssrc_commit(struct srtp_transform *t, const struct srtp_ssrc *s,
			const struct srtp_ssrc *scratch)
{
	if (s == scratch)
		t->ssrc[t->n_ssrc++] = *scratch;
}

/* ---- primitives on the keyed state -------------------------------------- */

/* HMAC-SHA1(auth key, a || b) into out (20 bytes): a copy of the keyed
 * state per packet, no allocation. */
static int auth_tag(const struct srtp_keyed *k, const uint8_t *a, size_t alen,
		    const uint8_t *b, size_t blen, uint8_t *out)
{
	struct hmac_sha1 m = k->hmac;

	hmac_sha1_update(&m, a, alen);
	if (blen)
		hmac_sha1_update(&m, b, blen);
	hmac_sha1_final(&m, out);
	return 0;
}

/* AES-CM IV (RFC 3711 4.1.1): salt * 2^16 ^ SSRC * 2^64 ^ index * 2^16. */
static void cm_iv(const struct srtp_keyed *k, uint32_t ssrc, uint64_t index,
		  uint8_t *iv)
{
	memcpy(iv, k->salt, SRTP_AES_CM_SALT_LEN);
	iv[14] = 0;
	iv[15] = 0;
	for (int i = 0; i < 4; i++)
		iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
	for (int i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

/* AES-GCM IV (RFC 7714 8.1 and 9.1): salt ^ (0 0 || SSRC || tail), tail
 * being ROC || SEQ for SRTP and 0 0 || SRTCP index for SRTCP, i.e. the
 * low 48 bits of `tail48`. */
static void gcm_iv(const struct srtp_keyed *k, uint32_t ssrc, uint64_t tail48,
		   uint8_t *iv)
{
	memcpy(iv, k->salt, GCM_IV_LEN);
	for (int i = 0; i < 4; i++)
		iv[2 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
	for (int i = 0; i < 6; i++)
		iv[6 + i] ^= (uint8_t)(tail48 >> (40 - 8 * i));
}

/* GCM encrypt data in place with AAD a1 || a2; the tag goes to `tag`. */
static int gcm_seal(EVP_CIPHER_CTX *c, const uint8_t *iv, const uint8_t *a1,
		    size_t a1len, const uint8_t *a2, size_t a2len, uint8_t *data,
		    size_t len, uint8_t *tag)
{
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
						  GCM_TAG_LEN),
		OSSL_PARAM_construct_end(),
	};
	int outl;

	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &outl, a1, (int)a1len) != 1 ||
	    (a2len && EVP_EncryptUpdate(c, NULL, &outl, a2, (int)a2len) != 1) ||
	    (len && EVP_EncryptUpdate(c, data, &outl, data, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(c, data + len, &outl) != 1 ||
	    EVP_CIPHER_CTX_get_params(c, params) != 1)
		return EIO;
	return 0;
}

/* GCM decrypt data in place and check `tag`; EBADMSG (data zeroed) when it
 * does not authenticate. */
static int gcm_open(EVP_CIPHER_CTX *c, const uint8_t *iv, const uint8_t *a1,
		    size_t a1len, const uint8_t *a2, size_t a2len, uint8_t *data,
		    size_t len, uint8_t *tag)
{
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
						  GCM_TAG_LEN),
		OSSL_PARAM_construct_end(),
	};
	int outl;

	if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &outl, a1, (int)a1len) != 1 ||
	    (a2len && EVP_DecryptUpdate(c, NULL, &outl, a2, (int)a2len) != 1) ||
	    (len && EVP_DecryptUpdate(c, data, &outl, data, (int)len) != 1) ||
	    EVP_CIPHER_CTX_set_params(c, params) != 1)
		return EIO;
	if (EVP_DecryptFinal_ex(c, data + len, &outl) != 1) {
		memset(data, 0, len); /* never leave unauthenticated plaintext */
		return EBADMSG;
	}
	return 0;
}

/* ---- SRTP --------------------------------------------------------------- */

/* Length of the RTP header (fixed part, CSRCs, extension) in pkt[0..len). */
static int rtp_header_len(const uint8_t *pkt, size_t len, size_t *out)
{
	if (len < RTP_HEADER_LEN || pkt[0] >> 6 != 2)
		return EINVAL;
	size_t n = RTP_HEADER_LEN + 4u * (pkt[0] & 0x0f);
	if (pkt[0] & 0x10) {
		if (len < n + 4)
			return EINVAL;
		n += 4 + 4u * rd16(pkt + n + 2);
	}
	if (n > len)
		return EINVAL;
	*out = n;
	return 0;
}

/* The SRTP transform proper, on pkt[0..len) whose header is hlen bytes;
 * protect appends the tag at pkt + len, unprotect checks the one there. */
static int rtp_crypt(struct srtp_transform *t, uint8_t *pkt, size_t hlen,
		     size_t len, uint32_t ssrc, uint64_t index)
{
	struct srtp_keyed *k = &t->rtp;
	bool out = t->dir == SRTP_TRANSFORM_OUTBOUND;
	uint8_t iv[SRTP_AES_CM_IV_LEN], mac[SHA_DIGEST_LENGTH], roc[4];
	int rc;

	if (t->info.aead) {
		gcm_iv(k, ssrc, index, iv);
		return out ? gcm_seal(k->cipher, iv, pkt, hlen, NULL, 0, pkt + hlen,
				      len - hlen, pkt + len)
			   : gcm_open(k->cipher, iv, pkt, hlen, NULL, 0, pkt + hlen,
				      len - hlen, pkt + len);
	}
	cm_iv(k, ssrc, index, iv);
	wr32(roc, (uint32_t)(index >> 16));
	if (out) {
		if ((rc = srtp_aes_cm_xor(k->cipher, iv, 0, pkt + hlen, len - hlen)) ||
		    (rc = auth_tag(k, pkt, len, roc, 4, mac)))
			return rc;
		memcpy(pkt + len, mac, t->info.rtp_tag_len);
		return 0;
	}
	if ((rc = auth_tag(k, pkt, len, roc, 4, mac)))
		return rc;
	if (CRYPTO_memcmp(mac, pkt + len, t->info.rtp_tag_len))
		return EBADMSG;
	return srtp_aes_cm_xor(k->cipher, iv, 0, pkt + hlen, len - hlen);
}

/* Both directions of SRTP: `body` is the packet without its tag, `hlen`
 * its header length. */
static int rtp_transform(struct srtp_transform *t, uint8_t *pkt, size_t hlen,
			 size_t body)
{
	struct srtp_ssrc scratch, *s;
	uint32_t ssrc = rd32(pkt + 8);
	int rc;

	if ((rc = ssrc_find(t, ssrc, &scratch, &s)))
		return rc;
	uint64_t index = srtp_window_rtp_index(&s->rtp, rd16(pkt + 2));
	if (index >= SRTP_INDEX_LIMIT)
		return EKEYEXPIRED;
	if ((rc = srtp_window_check(&s->rtp, index)) ||
	    (rc = rtp_crypt(t, pkt, hlen, body, ssrc, index)))
		return rc;
	srtp_window_accept(&s->rtp, index);
	ssrc_commit(t, s, &scratch);
	return 0;
}

int srtp_transform_protect_rtp(struct srtp_transform *t, uint8_t *pkt,
			       size_t *len, size_t cap)
{
	size_t n = *len, hlen;
	int rc;

	if (t->dir != SRTP_TRANSFORM_OUTBOUND)
		return EINVAL;
	if (n > SRTP_TRANSFORM_MAX_PACKET)
		return EMSGSIZE;
	if ((rc = rtp_header_len(pkt, n, &hlen)))
		return rc;
	if (cap < n + t->info.rtp_tag_len)
		return EMSGSIZE;
	if ((rc = rtp_transform(t, pkt, hlen, n)))
		return rc;
	*len = n + t->info.rtp_tag_len;
	return 0;
}

int srtp_transform_unprotect_rtp(struct srtp_transform *t, uint8_t *pkt,
				 size_t *len)
{
	size_t n = *len, tag = t->info.rtp_tag_len, hlen;
	int rc;

	if (t->dir != SRTP_TRANSFORM_INBOUND)
		return EINVAL;
	if (n > SRTP_TRANSFORM_MAX_PACKET)
		return EMSGSIZE;
	if (n < RTP_HEADER_LEN + tag)
		return EINVAL;
	if ((rc = rtp_header_len(pkt, n - tag, &hlen)) ||
	    (rc = rtp_transform(t, pkt, hlen, n - tag)))
		return rc;
	*len = n - tag;
	return 0;
}

/* ---- SRTCP -------------------------------------------------------------- */

/* The SRTCP transform proper.  pkt[0..len) is the RTCP packet (inbound:
 * without E||index and tag), `word` the E flag and index; the tag is at
 * `tag`.  Protect writes it there, unprotect checks it. */
static int rtcp_crypt(struct srtp_transform *t, uint8_t *pkt, size_t len,
		      uint32_t ssrc, uint32_t word, uint8_t *tag)
{
	struct srtp_keyed *k = &t->rtcp;
	bool out = t->dir == SRTP_TRANSFORM_OUTBOUND;
	bool enc = word & SRTCP_E_FLAG;
	uint32_t index = word & SRTCP_INDEX_MAX;
	uint8_t iv[SRTP_AES_CM_IV_LEN], mac[SHA_DIGEST_LENGTH], w[4];
	int rc;

	wr32(w, word);
	if (t->info.aead) {
		/* RFC 7714 9.2: AAD is the first 8 octets and E||index; with E
		 * clear (9.3) the whole packet is AAD and nothing is encrypted. */
		size_t alen = enc ? RTCP_HEADER_LEN : len;
		gcm_iv(k, ssrc, index, iv);
		return out ? gcm_seal(k->cipher, iv, pkt, alen, w, 4, pkt + alen,
				      len - alen, tag)
			   : gcm_open(k->cipher, iv, pkt, alen, w, 4, pkt + alen,
				      len - alen, tag);
	}
	cm_iv(k, ssrc, index, iv);
	if (out) {
		/* Encrypt, then authenticate header || ciphertext || E||index
		 * (the trailer already sits at pkt + len). */
		if ((rc = srtp_aes_cm_xor(k->cipher, iv, 0, pkt + RTCP_HEADER_LEN,
					  len - RTCP_HEADER_LEN)) ||
		    (rc = auth_tag(k, pkt, len + SRTCP_INDEX_LEN, NULL, 0, mac)))
			return rc;
		memcpy(tag, mac, t->info.rtcp_tag_len);
		return 0;
	}
	if ((rc = auth_tag(k, pkt, len + SRTCP_INDEX_LEN, NULL, 0, mac)))
		return rc;
	if (CRYPTO_memcmp(mac, tag, t->info.rtcp_tag_len))
		return EBADMSG;
	if (!enc)
		return 0;
	return srtp_aes_cm_xor(k->cipher, iv, 0, pkt + RTCP_HEADER_LEN,
			       len - RTCP_HEADER_LEN);
}

int srtp_transform_protect_rtcp(struct srtp_transform *t, uint8_t *pkt,
				size_t *len, size_t cap)
{
	size_t n = *len, tag = t->info.rtcp_tag_len;
	struct srtp_ssrc scratch, *s;
	int rc;

	if (t->dir != SRTP_TRANSFORM_OUTBOUND)
		return EINVAL;
	if (n > SRTP_TRANSFORM_MAX_PACKET)
		return EMSGSIZE;
	if (n < RTCP_HEADER_LEN || pkt[0] >> 6 != 2)
		return EINVAL;
	if (cap < n + SRTCP_INDEX_LEN + tag)
		return EMSGSIZE;
	uint32_t ssrc = rd32(pkt + 4);
	if ((rc = ssrc_find(t, ssrc, &scratch, &s)))
		return rc;
	if (s->rtcp_sent == SRTCP_INDEX_MAX)
		return EKEYEXPIRED;
	uint32_t index = s->rtcp_sent + 1;
	uint32_t word = SRTCP_E_FLAG | index;

	/* Layout: AES-CM  RTCP || E+index || tag   (RFC 3711 3.4)
	 *         AES-GCM RTCP || tag || E+index   (RFC 7714 17) */
	if (t->info.aead) {
		rc = rtcp_crypt(t, pkt, n, ssrc, word, pkt + n);
		wr32(pkt + n + tag, word);
	} else {
		wr32(pkt + n, word);
		rc = rtcp_crypt(t, pkt, n, ssrc, word, pkt + n + SRTCP_INDEX_LEN);
	}
	if (rc)
		return rc;
	s->rtcp_sent = index;
	ssrc_commit(t, s, &scratch);
	*len = n + SRTCP_INDEX_LEN + tag;
	return 0;
}

int srtp_transform_unprotect_rtcp(struct srtp_transform *t, uint8_t *pkt,
				  size_t *len)
{
	size_t n = *len, tag = t->info.rtcp_tag_len;
	struct srtp_ssrc scratch, *s;
	uint8_t *tag_at;
	uint32_t word;
	int rc;

	if (t->dir != SRTP_TRANSFORM_INBOUND)
		return EINVAL;
	if (n > SRTP_TRANSFORM_MAX_PACKET)
		return EMSGSIZE;
	if (n < RTCP_HEADER_LEN + SRTCP_INDEX_LEN + tag || pkt[0] >> 6 != 2)
		return EINVAL;
	size_t body = n - SRTCP_INDEX_LEN - tag;
	if (t->info.aead) {
		tag_at = pkt + body;
		word = rd32(pkt + n - SRTCP_INDEX_LEN);
	} else {
		word = rd32(pkt + body);
		tag_at = pkt + body + SRTCP_INDEX_LEN;
	}
	uint32_t ssrc = rd32(pkt + 4);
	uint32_t index = word & SRTCP_INDEX_MAX;
	if ((rc = ssrc_find(t, ssrc, &scratch, &s)) ||
	    (rc = srtp_window_check(&s->rtcp, index)) ||
	    (rc = rtcp_crypt(t, pkt, body, ssrc, word, tag_at)))
		return rc;
	srtp_window_accept(&s->rtcp, index);
	ssrc_commit(t, s, &scratch);
	*len = body;
	return 0;
}
