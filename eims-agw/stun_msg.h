/* STUN message codec (RFC 8489) as used by ICE (RFC 8445) and consent
 * freshness (RFC 7675).  Pure: buffers in, buffers out; no allocation, no
 * I/O.  MESSAGE-INTEGRITY is HMAC-SHA1 (hmac_sha1.c: OpenSSL's SHA-1 without
 * the allocations of its HMAC API). */
#ifndef AGW_STUN_MSG_H
#define AGW_STUN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HEADER_LEN 20
#define STUN_TXID_LEN 12
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_FINGERPRINT_XOR 0x5354554eu
#define STUN_MI_LEN 20                /* HMAC-SHA1 */
#define STUN_USERNAME_MAX 513         /* RFC 5389 bound; RFC 8489 says < 509 */
#define STUN_TEXT_MAX 763             /* SOFTWARE, REALM, NONCE, reason phrase */
#define STUN_UNKNOWN_MAX 8            /* unknown attributes kept for a 420 */
#define STUN_RESPONSE_MAX 160         /* any response the builders below make */
#define STUN_REQUEST_MAX (STUN_RESPONSE_MAX + STUN_USERNAME_MAX + 3) /* any request */

enum stun_class {
	STUN_REQUEST = 0,
	STUN_INDICATION = 1,
	STUN_SUCCESS = 2,
	STUN_ERROR = 3,
};

#define STUN_METHOD_BINDING 0x001

enum stun_attr_type {
	STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	STUN_ATTR_USERNAME = 0x0006,
	STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	STUN_ATTR_ERROR_CODE = 0x0009,
	STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	STUN_ATTR_REALM = 0x0014,
	STUN_ATTR_NONCE = 0x0015,
	STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	STUN_ATTR_PRIORITY = 0x0024,
	STUN_ATTR_USE_CANDIDATE = 0x0025,
	STUN_ATTR_SOFTWARE = 0x8022,
	STUN_ATTR_FINGERPRINT = 0x8028,
	STUN_ATTR_ICE_CONTROLLED = 0x8029,
	STUN_ATTR_ICE_CONTROLLING = 0x802A,
};

/* One slot per attribute the parser understands (see stun_msg.c). */
enum stun_slot {
	STUN_SLOT_MAPPED_ADDRESS,
	STUN_SLOT_USERNAME,
	STUN_SLOT_MESSAGE_INTEGRITY,
	STUN_SLOT_ERROR_CODE,
	STUN_SLOT_UNKNOWN_ATTRIBUTES,
	STUN_SLOT_REALM,
	STUN_SLOT_NONCE,
	STUN_SLOT_MESSAGE_INTEGRITY_SHA256,
	STUN_SLOT_XOR_MAPPED_ADDRESS,
	STUN_SLOT_PRIORITY,
	STUN_SLOT_USE_CANDIDATE,
	STUN_SLOT_SOFTWARE,
	STUN_SLOT_FINGERPRINT,
	STUN_SLOT_ICE_CONTROLLED,
	STUN_SLOT_ICE_CONTROLLING,
	STUN_SLOT_COUNT
};

/* A transport address; family is AF_INET or AF_INET6. */
struct stun_addr {
	int family;
	uint16_t port;   /* host order */
	uint8_t ip[16];  /* network order; the first 4 bytes for AF_INET */
};

/* A parsed message.  Points into the datagram it was parsed from, which
 * must outlive it.  Only the first occurrence of an attribute counts
 * (RFC 8489 14); attributes after MESSAGE-INTEGRITY other than
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored (14.5, 14.6). */
struct stun_msg {
	const uint8_t *buf;             /* borrowed: the datagram */
	size_t len;                     /* header + attributes */
	enum stun_class cls;
	uint16_t method;
	const uint8_t *txid;            /* borrowed: 12 bytes inside buf */
	size_t at[STUN_SLOT_COUNT];     /* offset of the attribute header, 0 = absent */
	uint16_t vlen[STUN_SLOT_COUNT]; /* value length (unpadded) */
	/* Comprehension-required (0x0000-0x7FFF) types not understood, once
	 * each, in order; n_unknown counts all of them, unknown[] keeps the
	 * first STUN_UNKNOWN_MAX. */
	uint16_t unknown[STUN_UNKNOWN_MAX];
	size_t n_unknown;
};

/* The demultiplexer's test (RFC 7983): first byte 0-3, magic cookie, and
 * a length that is a multiple of 4 and matches the datagram. */
bool stun_msg_is_stun(const uint8_t *buf, size_t len);

/* Parses one datagram.  Returns 0; EPROTO when the header is not STUN
 * (first bits, cookie, length); EBADMSG when an attribute overruns the
 * message, a known attribute is malformed, or FINGERPRINT is not last. */
int stun_msg_parse(const uint8_t *buf, size_t len, struct stun_msg *msg);

/* Whether the attribute of that slot is present (and counted). */
bool stun_msg_has(const struct stun_msg *msg, enum stun_slot slot);

/* Typed access.  Each returns 0 or ENOENT when the attribute is absent;
 * the values were validated by stun_msg_parse.  Strings are not
 * NUL-terminated. */
int stun_msg_username(const struct stun_msg *msg, const char **s, size_t *len);
int stun_msg_software(const struct stun_msg *msg, const char **s, size_t *len);
int stun_msg_realm(const struct stun_msg *msg, const char **s, size_t *len);
int stun_msg_nonce(const struct stun_msg *msg, const char **s, size_t *len);
int stun_msg_priority(const struct stun_msg *msg, uint32_t *prio);
int stun_msg_ice_controlling(const struct stun_msg *msg, uint64_t *tiebreaker);
int stun_msg_ice_controlled(const struct stun_msg *msg, uint64_t *tiebreaker);
int stun_msg_xor_mapped_address(const struct stun_msg *msg, struct stun_addr *a);
int stun_msg_mapped_address(const struct stun_msg *msg, struct stun_addr *a);
int stun_msg_error_code(const struct stun_msg *msg, int *code,
			const char **reason, size_t *reason_len);
/* The types listed in an UNKNOWN-ATTRIBUTES attribute: *n is their count,
 * at most cap of them are stored. */
int stun_msg_unknown_attributes(const struct stun_msg *msg, uint16_t *types,
				size_t cap, size_t *n);
int stun_msg_integrity_sha256(const struct stun_msg *msg, const uint8_t **mac,
			      size_t *len);
int stun_msg_fingerprint(const struct stun_msg *msg, uint32_t *crc);

/* Checks MESSAGE-INTEGRITY (RFC 8489 14.5: HMAC-SHA1 over the message up
 * to the attribute, with the header length ending after it) with the
 * short-term key, i.e. the password.  Constant time in the MAC.  Returns
 * 0, ENOENT when absent, EBADMSG when it does not match. */
int stun_msg_integrity_check(const struct stun_msg *msg, const void *key,
			     size_t key_len);

/* Checks FINGERPRINT (CRC-32 of what precedes it, XOR 0x5354554e).
 * Returns 0, ENOENT when absent, EBADMSG when it does not match. */
int stun_msg_fingerprint_check(const struct stun_msg *msg);

/* Builders.  Each writes a complete message into buf (cap bytes) and its
 * length into *len; returns 0, EMSGSIZE when it does not fit, or EINVAL.
 * Every message built ends with FINGERPRINT (RFC 8445 7.2.2). */

/* Binding success response: XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY with
 * key (the password that authenticated the request), FINGERPRINT. */
int stun_msg_build_success(uint8_t *buf, size_t cap, const uint8_t *txid,
			   const struct stun_addr *mapped, const void *key,
			   size_t key_len, size_t *len);

/* Error response for a request of `method`, codes 300-699.  It carries
 * MESSAGE-INTEGRITY exactly when the request was authenticated, i.e. when
 * key is given (RFC 8489 9.1.3).  401 means authentication failed, so it
 * never has a key; 487 (RFC 8445 7.3.1.1) only follows a successful one
 * and needs the key; 400 is either (no key when USERNAME or
 * MESSAGE-INTEGRITY was missing).  Exactly the 420 lists unknown types. */
int stun_msg_build_error(uint8_t *buf, size_t cap, uint16_t method,
			 const uint8_t *txid, int code, const uint16_t *unknown,
			 size_t n_unknown, const void *key, size_t key_len,
			 size_t *len);

enum stun_ice_role { STUN_ROLE_NONE, STUN_ROLE_CONTROLLING, STUN_ROLE_CONTROLLED };

struct stun_binding_request {
	const uint8_t *txid;         /* 12 bytes */
	const char *username;        /* "theirufrag:ourufrag", NULL for none */
	bool has_priority;
	uint32_t priority;
	enum stun_ice_role role;
	uint64_t tiebreaker;
	bool use_candidate;
	const void *key;             /* the peer's password; NULL: no MI */
	size_t key_len;
};

int stun_msg_build_request(uint8_t *buf, size_t cap,
			   const struct stun_binding_request *req, size_t *len);

#endif
