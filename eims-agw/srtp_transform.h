/* SRTP and SRTCP packet transform (RFC 3711; AES-GCM per RFC 7714) on
 * OpenSSL, for the media plane.  A pure core: buffers in, buffers out; no
 * I/O, no logging, no global state, no allocation per packet.
 *
 * One context protects one direction of one DTLS-SRTP association: an
 * outbound context protects (RTP toward the browser), an inbound one
 * unprotects.  Session keys are derived once at creation (RFC 3711 4.3,
 * key derivation rate 0) and every OpenSSL context is keyed once; a packet
 * only re-IVs them.  Each context keeps per-SSRC state (rollover counter,
 * highest index, a replay window of 128 packets for
 * SRTP and for SRTCP, the next SRTCP index) in a table of
 * SRTP_TRANSFORM_MAX_SSRC entries allocated with the context; an SSRC is
 * entered only by a packet that was protected or authenticated.
 *
 * Packets are transformed in place.  Protect appends the tag (SRTCP: the
 * E flag and index, and the tag) and needs `cap` bytes of buffer;
 * unprotect removes them.  The SRTP header (CSRCs, header extension) stays
 * in the clear: with AES-CM it is authenticated, with AES-GCM it is the
 * associated data.  Header extensions are not encrypted (no RFC 6904).
 *
 * Errors (returned as positive errno values; the packet must then be
 * dropped, *len is unchanged, and on a failed unprotect the payload bytes
 * may have been overwritten):
 *   EINVAL       malformed or truncated packet (not RTP/RTCP version 2,
 *                shorter than header and tag, CSRCs or header extension
 *                past the end), or a call on the wrong direction
 *   EMSGSIZE     protect: cap too small for the tag; any: longer than
 *                SRTP_TRANSFORM_MAX_PACKET
 *   EBADMSG      authentication failed (wrong key, tampered, forged)
 *   EALREADY     replay: the index was already accepted, or is too far
 *                behind the highest to tell (protect refuses to send an
 *                index twice, which would reuse keystream)
 *   ENOSPC       a new SSRC while SRTP_TRANSFORM_MAX_SSRC are in use
 *   EKEYEXPIRED  the index space is used up (2^48 SRTP, 2^31 SRTCP
 *                packets): the association needs new keys
 *   EIO          OpenSSL failed (not expected once the context exists)
 *
 * Sending SRTCP indices start at 1, as libsrtp's (which browsers use);
 * received ones may start anywhere.  Received SRTCP with the E flag clear
 * (authenticated, not encrypted) is accepted; sent SRTCP is always
 * encrypted. */
#ifndef AGW_SRTP_TRANSFORM_H
#define AGW_SRTP_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DTLS-SRTP protection profile numbers (RFC 5764 4.1.2, RFC 7714 14.2),
 * as SSL_get_selected_srtp_profile() reports them.  (Not named like
 * OpenSSL's SRTP_* macros, which would expand here.) */
enum srtp_profile {
	SRTP_PROFILE_AES128_CM_HMAC_SHA1_80 = 0x0001,
	SRTP_PROFILE_AES128_CM_HMAC_SHA1_32 = 0x0002, /* SRTCP tag stays 80 bits */
	SRTP_PROFILE_AEAD_AES_128_GCM = 0x0007,
	SRTP_PROFILE_AEAD_AES_256_GCM = 0x0008,
};

enum srtp_transform_dir {
	SRTP_TRANSFORM_OUTBOUND = 1, /* protect */
	SRTP_TRANSFORM_INBOUND = 2,  /* unprotect */
};

#define SRTP_TRANSFORM_MAX_SSRC 16
#define SRTP_TRANSFORM_MAX_PACKET 65535 /* no datagram is larger */
#define SRTP_TRANSFORM_PAGE 4096 /* a transform's memory (srtp_transform_create_at) */
#define SRTP_TRANSFORM_RTP_OVERHEAD_MAX 16  /* largest SRTP tag */
#define SRTP_TRANSFORM_RTCP_OVERHEAD_MAX 20 /* tag + E flag and index */
#define SRTP_TRANSFORM_KEY_MAX 32
#define SRTP_TRANSFORM_SALT_MAX 14
#define SRTP_TRANSFORM_AUTH_KEY_LEN 20

struct srtp_profile_info {
	const char *name;    /* static: "SRTP_AES128_CM_SHA1_80" ... */
	size_t key_len;      /* master and session key: 16 or 32 */
	size_t salt_len;     /* master and session salt: 14 (AES-CM), 12 (GCM) */
	size_t rtp_tag_len;  /* SRTP overhead: 10, 4, 16, 16 */
	size_t rtcp_tag_len; /* SRTCP overhead is this + 4: 10, 10, 16, 16 */
	bool aead;
};

/* Session keys of one of SRTP and SRTCP. */
struct srtp_session_keys {
	uint8_t enc[SRTP_TRANSFORM_KEY_MAX];       /* key_len bytes used */
	uint8_t salt[SRTP_TRANSFORM_SALT_MAX];     /* salt_len bytes used */
	uint8_t auth[SRTP_TRANSFORM_AUTH_KEY_LEN]; /* HMAC-SHA1; AES-CM only */
};

struct srtp_transform; /* opaque */

/* Lengths and name of a profile.  Returns 0 or ENOTSUP. */
int srtp_transform_profile_info(enum srtp_profile profile,
				struct srtp_profile_info *out);

/* RFC 3711 4.3 key derivation (kdr 0; AES-CM PRF of the profile's key
 * size, a 12-byte GCM master salt zero-padded per RFC 7714 11 with
 * erratum 4938).  Fills *rtp and *rtcp (wipe them after use).  Returns 0,
 * ENOTSUP (profile), EINVAL (key or salt length), ENOMEM or EIO. */
int srtp_transform_derive(enum srtp_profile profile,
			  const uint8_t *master_key, size_t key_len,
			  const uint8_t *master_salt, size_t salt_len,
			  struct srtp_session_keys *rtp,
			  struct srtp_session_keys *rtcp);

/* A context for one direction, keyed from the master key and salt (as
 * RFC 5764 4.2 splits them out of the DTLS exporter).  *out is set on
 * success; free it with srtp_transform_free.  Returns 0, ENOTSUP, EINVAL,
 * ENOMEM or EIO. */
int srtp_transform_create(enum srtp_profile profile,
			  enum srtp_transform_dir dir,
			  const uint8_t *master_key, size_t key_len,
			  const uint8_t *master_salt, size_t salt_len,
			  struct srtp_transform **out);

/* The same from session keys already derived (srtp_transform_derive, or
 * published test vectors).  Returns 0, ENOTSUP, EINVAL, ENOMEM or EIO. */
int srtp_transform_create_session(enum srtp_profile profile,
				  enum srtp_transform_dir dir,
				  const struct srtp_session_keys *rtp,
				  const struct srtp_session_keys *rtcp,
				  struct srtp_transform **out);

/* The same in page, which the caller owns and keeps until after
 * srtp_transform_free: SRTP_TRANSFORM_PAGE bytes on a page boundary
 * (eims-agw's come from its huge-page pool).  Returns 0, ENOTSUP, EINVAL
 * (also: page not page-aligned), ENOMEM or EIO; on failure the page is
 * the caller's again at once. */
int srtp_transform_create_at(void *page, enum srtp_profile profile,
			     enum srtp_transform_dir dir,
			     const uint8_t *master_key, size_t key_len,
			     const uint8_t *master_salt, size_t salt_len,
			     struct srtp_transform **out);

/* Wipes the keys and frees the context (its page too unless the caller's).
 * Returns false when OpenSSL still holds memory placed in the page (never
 * seen: a context frees what it allocated): the page is then kept, and a
 * caller who supplied it must not reuse it.  NULL is allowed (true). */
bool srtp_transform_free(struct srtp_transform *t);

/* RTP packet of *len bytes in pkt (buffer of cap bytes) -> SRTP.  On
 * success *len grows by the profile's rtp_tag_len. */
int srtp_transform_protect_rtp(struct srtp_transform *t, uint8_t *pkt,
			       size_t *len, size_t cap);

/* SRTP packet of *len bytes -> RTP.  On success *len shrinks by the tag. */
int srtp_transform_unprotect_rtp(struct srtp_transform *t, uint8_t *pkt,
				 size_t *len);

#define SRTP_TRANSFORM_LINES 9
/* The addresses of the lines an RTP packet reads of t (keyed state,
 * HMAC state, cipher context, the first SSRC's window; NULL: none), for prefetch
 * hints (udp_sock.hint); written to out[0..SRTP_TRANSFORM_LINES-1]. */
void srtp_transform_rtp_lines(const struct srtp_transform *t, const void **out);

/* RTCP (compound) packet -> SRTCP, encrypted, with the next SRTCP index
 * of its sender SSRC.  On success *len grows by rtcp_tag_len + 4. */
int srtp_transform_protect_rtcp(struct srtp_transform *t, uint8_t *pkt,
				size_t *len, size_t cap);

/* SRTCP packet -> RTCP.  On success *len shrinks by rtcp_tag_len + 4. */
int srtp_transform_unprotect_rtcp(struct srtp_transform *t, uint8_t *pkt,
				  size_t *len);

#endif
