/* STUN message codec: parse, integrity and fingerprint checks, builders. */
#include "stun_msg.h"

#include "byte_order.h"

#include "hmac_sha1.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define ATTR_HDR 4
#define FP_ATTR_LEN 8 /* FINGERPRINT attribute with its header */

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* MESSAGE-INTEGRITY of msg whose MI attribute header is at mi_at: the
 * HMAC of everything before it, the header's length field counting up to
 * the end of the MI attribute (RFC 8489 14.5). */
static void integrity_compute(const uint8_t *msg, size_t mi_at, const void *key,
			      size_t key_len, uint8_t mac[20])
{
	struct hmac_sha1 m;
	uint8_t len[2];

	be16_put(len, (uint16_t)(mi_at + ATTR_HDR + STUN_MI_LEN - STUN_HEADER_LEN));
	hmac_sha1_init(&m, key, key_len);
	hmac_sha1_update(&m, msg, 2);
	hmac_sha1_update(&m, len, 2);
	hmac_sha1_update(&m, msg + 4, mi_at - 4);
	hmac_sha1_final(&m, mac);
}

/* CRC-32 (ISO-HDLC, as in zlib), a nibble at a time. */
static uint32_t crc32(const uint8_t *p, size_t n)
{
	static const uint32_t tab[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
		0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	uint32_t c = 0xffffffff;

	while (n--) {
		c ^= *p++;
		c = (c >> 4) ^ tab[c & 15];
		c = (c >> 4) ^ tab[c & 15];
	}
	return ~c;
}

/* ---- parsing ---- */

bool stun_msg_is_stun(const uint8_t *buf, size_t len)
{
	return len >= STUN_HEADER_LEN && buf[0] <= 3 &&
	       be32_get(buf + 4) == STUN_MAGIC_COOKIE && (be16_get(buf + 2) & 3) == 0 &&
	       (size_t)be16_get(buf + 2) + STUN_HEADER_LEN == len;
}

static int slot_of(uint16_t type)
{
	switch (type) {
	case STUN_ATTR_MAPPED_ADDRESS: return STUN_SLOT_MAPPED_ADDRESS;
	case STUN_ATTR_USERNAME: return STUN_SLOT_USERNAME;
	case STUN_ATTR_MESSAGE_INTEGRITY: return STUN_SLOT_MESSAGE_INTEGRITY;
	case STUN_ATTR_ERROR_CODE: return STUN_SLOT_ERROR_CODE;
	case STUN_ATTR_UNKNOWN_ATTRIBUTES: return STUN_SLOT_UNKNOWN_ATTRIBUTES;
	case STUN_ATTR_REALM: return STUN_SLOT_REALM;
	case STUN_ATTR_NONCE: return STUN_SLOT_NONCE;
	case STUN_ATTR_MESSAGE_INTEGRITY_SHA256: return STUN_SLOT_MESSAGE_INTEGRITY_SHA256;
	case STUN_ATTR_XOR_MAPPED_ADDRESS: return STUN_SLOT_XOR_MAPPED_ADDRESS;
	case STUN_ATTR_PRIORITY: return STUN_SLOT_PRIORITY;
	case STUN_ATTR_USE_CANDIDATE: return STUN_SLOT_USE_CANDIDATE;
	case STUN_ATTR_SOFTWARE: return STUN_SLOT_SOFTWARE;
	case STUN_ATTR_FINGERPRINT: return STUN_SLOT_FINGERPRINT;
	case STUN_ATTR_ICE_CONTROLLED: return STUN_SLOT_ICE_CONTROLLED;
	case STUN_ATTR_ICE_CONTROLLING: return STUN_SLOT_ICE_CONTROLLING;
	}
	return -1;
}

/* Whether a value of n bytes is well formed for its slot. */
static bool value_ok(int slot, const uint8_t *v, size_t n)
{
	switch (slot) {
	case STUN_SLOT_MAPPED_ADDRESS:
	case STUN_SLOT_XOR_MAPPED_ADDRESS:
		return (n == 8 && v[1] == 1) || (n == 20 && v[1] == 2);
	case STUN_SLOT_USERNAME:
		return n <= STUN_USERNAME_MAX;
	case STUN_SLOT_MESSAGE_INTEGRITY:
		return n == STUN_MI_LEN;
	case STUN_SLOT_ERROR_CODE:
		return n >= 4 && n <= 4 + STUN_TEXT_MAX && (v[2] & 7) >= 3 &&
		       (v[2] & 7) <= 6 && v[3] < 100;
	case STUN_SLOT_UNKNOWN_ATTRIBUTES:
		return n % 2 == 0;
	case STUN_SLOT_REALM:
	case STUN_SLOT_NONCE:
	case STUN_SLOT_SOFTWARE:
		return n <= STUN_TEXT_MAX;
	case STUN_SLOT_MESSAGE_INTEGRITY_SHA256:
		return n >= 16 && n <= 32 && n % 4 == 0;
	case STUN_SLOT_PRIORITY:
	case STUN_SLOT_FINGERPRINT:
		return n == 4;
	case STUN_SLOT_USE_CANDIDATE:
		return n == 0;
	case STUN_SLOT_ICE_CONTROLLED:
	case STUN_SLOT_ICE_CONTROLLING:
		return n == 8;
	}
	return false;
}

static void add_unknown(struct stun_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->n_unknown; i++)
		if (m->unknown[i] == type)
			return;
	if (m->n_unknown < STUN_UNKNOWN_MAX)
		m->unknown[m->n_unknown++] = type;
}

int stun_msg_parse(const uint8_t *buf, size_t len, struct stun_msg *msg)
{
	struct stun_msg m;
	bool after_mi = false, after_mi256 = false;

	if (len < STUN_HEADER_LEN || (buf[0] & 0xc0) ||
	    be32_get(buf + 4) != STUN_MAGIC_COOKIE)
		return EPROTO;
	size_t body = be16_get(buf + 2);
	if (body % 4 || body + STUN_HEADER_LEN != len)
		return EPROTO;

	memset(&m, 0, sizeof(m));
	uint16_t type = be16_get(buf);
	m.buf = buf;
	m.len = len;
	m.cls = (enum stun_class)(((type >> 7) & 2) | ((type >> 4) & 1));
	m.method = (uint16_t)((type & 0x000f) | ((type >> 1) & 0x0070) |
			      ((type >> 2) & 0x0f80));
	m.txid = buf + 8;

	for (size_t pos = STUN_HEADER_LEN; pos < len;) {
		uint16_t at = be16_get(buf + pos), n = be16_get(buf + pos + 2);
		size_t padded = pad4(n);
		bool take;

		if (m.at[STUN_SLOT_FINGERPRINT])
			return EBADMSG; /* FINGERPRINT must be last */
		if (padded > len - pos - ATTR_HDR)
			return EBADMSG;
		if (at == STUN_ATTR_FINGERPRINT)
			take = true;
		else if (after_mi256)
			take = false;
		else if (after_mi)
			take = at == STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
		else
			take = true;

		int slot = slot_of(at);
		if (take && slot < 0 && at < 0x8000) {
			add_unknown(&m, at);
		} else if (take && slot >= 0 && !m.at[slot]) {
			if (!value_ok(slot, buf + pos + ATTR_HDR, n))
				return EBADMSG;
			m.at[slot] = pos;
			m.vlen[slot] = n;
			after_mi |= slot == STUN_SLOT_MESSAGE_INTEGRITY;
			after_mi256 |= slot == STUN_SLOT_MESSAGE_INTEGRITY_SHA256;
		}
		pos += ATTR_HDR + padded;
	}
	*msg = m;
	return 0;
}

bool stun_msg_has(const struct stun_msg *msg, enum stun_slot slot)
{
	return msg->at[slot] != 0;
}

static const uint8_t *value(const struct stun_msg *msg, enum stun_slot slot)
{
	return msg->at[slot] ? msg->buf + msg->at[slot] + ATTR_HDR : NULL;
}

static int text(const struct stun_msg *msg, enum stun_slot slot, const char **s,
		size_t *len)
{
	const uint8_t *v = value(msg, slot);

	if (!v)
		return ENOENT;
	*s = (const char *)v;
	*len = msg->vlen[slot];
	return 0;
}

int stun_msg_username(const struct stun_msg *msg, const char **s, size_t *len)
{
	return text(msg, STUN_SLOT_USERNAME, s, len);
}

int stun_msg_software(const struct stun_msg *msg, const char **s, size_t *len)
{
	return text(msg, STUN_SLOT_SOFTWARE, s, len);
}

int stun_msg_realm(const struct stun_msg *msg, const char **s, size_t *len)
{
	return text(msg, STUN_SLOT_REALM, s, len);
}

int stun_msg_nonce(const struct stun_msg *msg, const char **s, size_t *len)
{
	return text(msg, STUN_SLOT_NONCE, s, len);
}

int stun_msg_priority(const struct stun_msg *msg, uint32_t *prio)
{
	const uint8_t *v = value(msg, STUN_SLOT_PRIORITY);

	if (!v)
		return ENOENT;
	*prio = be32_get(v);
	return 0;
}

static int u64_attr(const struct stun_msg *msg, enum stun_slot slot, uint64_t *out)
{
	const uint8_t *v = value(msg, slot);

	if (!v)
		return ENOENT;
	*out = (uint64_t)be32_get(v) << 32 | be32_get(v + 4);
	return 0;
}

int stun_msg_ice_controlling(const struct stun_msg *msg, uint64_t *tiebreaker)
{
	return u64_attr(msg, STUN_SLOT_ICE_CONTROLLING, tiebreaker);
}

int stun_msg_ice_controlled(const struct stun_msg *msg, uint64_t *tiebreaker)
{
	return u64_attr(msg, STUN_SLOT_ICE_CONTROLLED, tiebreaker);
}

/* Decodes a (XOR-)MAPPED-ADDRESS value; mask is 16 bytes (cookie and
 * transaction id) or all zeros. */
static void addr_decode(const uint8_t *v, const uint8_t *mask, struct stun_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = v[1] == 1 ? AF_INET : AF_INET6;
	a->port = be16_get(v + 2) ^ be16_get(mask);
	for (size_t i = 0; i < (a->family == AF_INET ? 4u : 16u); i++)
		a->ip[i] = v[4 + i] ^ mask[i];
}

int stun_msg_xor_mapped_address(const struct stun_msg *msg, struct stun_addr *a)
{
	const uint8_t *v = value(msg, STUN_SLOT_XOR_MAPPED_ADDRESS);
	uint8_t mask[16];

	if (!v)
		return ENOENT;
	be32_put(mask, STUN_MAGIC_COOKIE);
	memcpy(mask + 4, msg->txid, STUN_TXID_LEN);
	addr_decode(v, mask, a);
	return 0;
}

int stun_msg_mapped_address(const struct stun_msg *msg, struct stun_addr *a)
{
	static const uint8_t zero[16];
	const uint8_t *v = value(msg, STUN_SLOT_MAPPED_ADDRESS);

	if (!v)
		return ENOENT;
	addr_decode(v, zero, a);
	return 0;
}

int stun_msg_error_code(const struct stun_msg *msg, int *code,
			const char **reason, size_t *reason_len)
{
	const uint8_t *v = value(msg, STUN_SLOT_ERROR_CODE);

	if (!v)
		return ENOENT;
	*code = (v[2] & 7) * 100 + v[3];
	*reason = (const char *)v + 4;
	*reason_len = msg->vlen[STUN_SLOT_ERROR_CODE] - 4u;
	return 0;
}

int stun_msg_unknown_attributes(const struct stun_msg *msg, uint16_t *types,
				size_t cap, size_t *n)
{
	const uint8_t *v = value(msg, STUN_SLOT_UNKNOWN_ATTRIBUTES);

	if (!v)
		return ENOENT;
	*n = msg->vlen[STUN_SLOT_UNKNOWN_ATTRIBUTES] / 2u;
	for (size_t i = 0; i < *n && i < cap; i++)
		types[i] = be16_get(v + 2 * i);
	return 0;
}

int stun_msg_integrity_sha256(const struct stun_msg *msg, const uint8_t **mac,
			      size_t *len)
{
	const uint8_t *v = value(msg, STUN_SLOT_MESSAGE_INTEGRITY_SHA256);

	if (!v)
		return ENOENT;
	*mac = v;
	*len = msg->vlen[STUN_SLOT_MESSAGE_INTEGRITY_SHA256];
	return 0;
}

int stun_msg_fingerprint(const struct stun_msg *msg, uint32_t *crc)
{
	const uint8_t *v = value(msg, STUN_SLOT_FINGERPRINT);

	if (!v)
		return ENOENT;
	*crc = be32_get(v);
	return 0;
}

int stun_msg_integrity_check(const struct stun_msg *msg, const void *key,
			     size_t key_len)
{
	size_t at = msg->at[STUN_SLOT_MESSAGE_INTEGRITY];
	uint8_t mac[STUN_MI_LEN], diff = 0;

	if (!at)
		return ENOENT;
	integrity_compute(msg->buf, at, key, key_len, mac);
	for (size_t i = 0; i < STUN_MI_LEN; i++)
		diff |= mac[i] ^ msg->buf[at + ATTR_HDR + i];
	return diff ? EBADMSG : 0;
}

int stun_msg_fingerprint_check(const struct stun_msg *msg)
{
	size_t at = msg->at[STUN_SLOT_FINGERPRINT];

	if (!at)
		return ENOENT;
	uint32_t crc = crc32(msg->buf, at) ^ STUN_FINGERPRINT_XOR;
	return crc == be32_get(msg->buf + at + ATTR_HDR) ? 0 : EBADMSG;
}

/* ---- building ---- */

struct writer {
	uint8_t *buf;
	size_t cap, len;
	bool full; /* something did not fit */
};

static void wr_init(struct writer *w, uint8_t *buf, size_t cap,
		    enum stun_class cls, uint16_t method, const uint8_t *txid)
{
	uint16_t type = (uint16_t)((method & 0x000f) | (method & 0x0070) << 1 |
				   (method & 0x0f80) << 2 | (cls & 1) << 4 |
				   (cls & 2) << 7);

	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->full = cap < STUN_HEADER_LEN;
	if (w->full)
		return;
	be16_put(buf, type);
	be16_put(buf + 2, 0);
	be32_put(buf + 4, STUN_MAGIC_COOKIE);
	memcpy(buf + 8, txid, STUN_TXID_LEN);
	w->len = STUN_HEADER_LEN;
}

/* Appends an attribute header and zeroed padding, updates the header's
 * length field, and returns where the n value bytes go (NULL when full). */
static uint8_t *wr_attr(struct writer *w, uint16_t type, size_t n)
{
	size_t padded = pad4(n);

	if (w->full || ATTR_HDR + padded > w->cap - w->len ||
	    w->len + ATTR_HDR + padded - STUN_HEADER_LEN > 0xfffc) {
		w->full = true;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	be16_put(p, type);
	be16_put(p + 2, (uint16_t)n);
	memset(p + ATTR_HDR + n, 0, padded - n);
	w->len += ATTR_HDR + padded;
	be16_put(w->buf + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
	return p + ATTR_HDR;
}

static void wr_bytes(struct writer *w, uint16_t type, const void *v, size_t n)
{
	uint8_t *p = wr_attr(w, type, n);

	if (p && n)
		memcpy(p, v, n);
}

static void wr_u32(struct writer *w, uint16_t type, uint32_t x)
{
	uint8_t *p = wr_attr(w, type, 4);

	if (p)
		be32_put(p, x);
}

static void wr_u64(struct writer *w, uint16_t type, uint64_t x)
{
	uint8_t *p = wr_attr(w, type, 8);

	if (p) {
		be32_put(p, (uint32_t)(x >> 32));
		be32_put(p + 4, (uint32_t)x);
	}
}

static void wr_xor_addr(struct writer *w, const struct stun_addr *a)
{
	bool v4 = a->family == AF_INET;
	uint8_t *p = wr_attr(w, STUN_ATTR_XOR_MAPPED_ADDRESS, v4 ? 8 : 20);
	uint8_t mask[16];

	if (!p)
		return;
	be32_put(mask, STUN_MAGIC_COOKIE);
	memcpy(mask + 4, w->buf + 8, STUN_TXID_LEN);
	p[0] = 0;
	p[1] = v4 ? 1 : 2;
	be16_put(p + 2, a->port ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16));
	for (size_t i = 0; i < (v4 ? 4u : 16u); i++)
		p[4 + i] = a->ip[i] ^ mask[i];
}

static void wr_integrity(struct writer *w, const void *key, size_t key_len)
{
	size_t at = w->len;
	uint8_t *p = wr_attr(w, STUN_ATTR_MESSAGE_INTEGRITY, STUN_MI_LEN);

	if (p)
		integrity_compute(w->buf, at, key, key_len, p);
}

/* Adds FINGERPRINT and returns the message length. */
static int wr_finish(struct writer *w, size_t *len)
{
	uint8_t *p = wr_attr(w, STUN_ATTR_FINGERPRINT, 4);

	if (!p)
		return EMSGSIZE;
	be32_put(p, crc32(w->buf, w->len - FP_ATTR_LEN) ^ STUN_FINGERPRINT_XOR);
	*len = w->len;
	return 0;
}

int stun_msg_build_success(uint8_t *buf, size_t cap, const uint8_t *txid,
			   const struct stun_addr *mapped, const void *key,
			   size_t key_len, size_t *len)
{
	struct writer w;

	if (!txid || !key ||
	    (mapped->family != AF_INET && mapped->family != AF_INET6))
		return EINVAL;
	wr_init(&w, buf, cap, STUN_SUCCESS, STUN_METHOD_BINDING, txid);
	wr_xor_addr(&w, mapped);
	wr_integrity(&w, key, key_len);
	return wr_finish(&w, len);
}

static const char *reason_of(int code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthenticated";
	case 420: return "Unknown Attribute";
	case 487: return "Role Conflict";
	case 500: return "Server Error";
	}
	return "Error";
}

int stun_msg_build_error(uint8_t *buf, size_t cap, uint16_t method,
			 const uint8_t *txid, int code, const uint16_t *unknown,
			 size_t n_unknown, const void *key, size_t key_len,
			 size_t *len)
{
	struct writer w;

	if (!txid || method > 0xfff || code < 300 || code > 699 ||
	    (code == 401 && key) || (code == 487 && !key) ||
	    ((code == 420) != (n_unknown > 0)) || n_unknown > STUN_UNKNOWN_MAX)
		return EINVAL;
	wr_init(&w, buf, cap, STUN_ERROR, method, txid);

	const char *reason = reason_of(code);
	size_t rlen = strlen(reason);
	uint8_t *p = wr_attr(&w, STUN_ATTR_ERROR_CODE, 4 + rlen);
	if (p) {
		be16_put(p, 0);
		p[2] = (uint8_t)(code / 100);
		p[3] = (uint8_t)(code % 100);
		memcpy(p + 4, reason, rlen);
	}
	if (n_unknown) {
		p = wr_attr(&w, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n_unknown);
		for (size_t i = 0; p && i < n_unknown; i++)
			be16_put(p + 2 * i, unknown[i]);
	}
	if (key)
		wr_integrity(&w, key, key_len);
	return wr_finish(&w, len);
}

int stun_msg_build_request(uint8_t *buf, size_t cap,
			   const struct stun_binding_request *req, size_t *len)
{
	struct writer w;

	if (!req->txid ||
	    (req->username && strlen(req->username) > STUN_USERNAME_MAX))
		return EINVAL;
	wr_init(&w, buf, cap, STUN_REQUEST, STUN_METHOD_BINDING, req->txid);
	if (req->username)
		wr_bytes(&w, STUN_ATTR_USERNAME, req->username, strlen(req->username));
	if (req->has_priority)
		wr_u32(&w, STUN_ATTR_PRIORITY, req->priority);
	if (req->role == STUN_ROLE_CONTROLLING)
		wr_u64(&w, STUN_ATTR_ICE_CONTROLLING, req->tiebreaker);
	else if (req->role == STUN_ROLE_CONTROLLED)
		wr_u64(&w, STUN_ATTR_ICE_CONTROLLED, req->tiebreaker);
	if (req->use_candidate)
		wr_bytes(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	if (req->key)
		wr_integrity(&w, req->key, req->key_len);
	return wr_finish(&w, len);
}
