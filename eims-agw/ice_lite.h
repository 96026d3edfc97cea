/* ICE-lite responder (RFC 8445 lite agent, consent freshness RFC 7675)
 * for one W3 transport: one UDP port, possibly carrying a whole BUNDLE
 * group.  Pure logic: datagrams, source addresses and a monotonic time in
 * milliseconds go in; replies to send, events and verdicts come out.  No
 * I/O, no allocation; the state is bounded (ICE_LITE_CAND_MAX addresses).
 *
 * Always the controlled agent (RFC 8445 6.1.1).  The peer's addresses are
 * learned from authenticated Binding requests (peer-reflexive), so mDNS
 * candidates never need resolving.  A request with USE-CANDIDATE selects
 * its pair, and a later one replaces it (libwebrtc re-nominates, Firefox
 * nominates on every check); consent checks need no USE-CANDIDATE. */
#ifndef AGW_ICE_LITE_H
#define AGW_ICE_LITE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun_msg.h"

#define ICE_LITE_CAND_MAX 16
#define ICE_LITE_UFRAG_MAX 256  /* RFC 8839: ice-ufrag 4-256 ice-chars */
#define ICE_LITE_PWD_MAX 256    /* RFC 8839: ice-pwd 22-256 ice-chars */
#define ICE_LITE_CONSENT_TIMEOUT_MS 30000 /* RFC 7675 */
#define ICE_LITE_REPLY_MAX STUN_RESPONSE_MAX

/* Events, as a bit set. */
enum {
	ICE_LITE_EV_SELECTED = 1u << 0,      /* selected pair set or changed */
	ICE_LITE_EV_NEW_CANDIDATE = 1u << 1, /* new peer-reflexive address */
	ICE_LITE_EV_CONSENT_LOST = 1u << 2,  /* no valid check on the selected
						pair for the consent timeout */
};

enum ice_lite_verdict {
	ICE_LITE_DROP,  /* send nothing */
	ICE_LITE_REPLY, /* send reply[0..reply_len) to the source */
};

/* Why a datagram was dropped, for per-reason counters. */
enum ice_lite_drop {
	ICE_LITE_DROP_NONE,
	ICE_LITE_DROP_MALFORMED,   /* not STUN, or attributes broken */
	ICE_LITE_DROP_FINGERPRINT, /* wrong FINGERPRINT */
	ICE_LITE_DROP_RESPONSE,    /* a response we never asked for */
	ICE_LITE_DROP_INDICATION,  /* e.g. a Binding indication keepalive */
};

struct ice_lite_result {
	enum ice_lite_verdict verdict;
	size_t reply_len;
	int status;              /* 0: success response; else the error code
				    replied (400, 401, 420, 487) */
	enum ice_lite_drop drop; /* when verdict is ICE_LITE_DROP */
	unsigned events;         /* ICE_LITE_EV_* raised by this datagram */
};

/* Credentials as signalled in SDP (a=ice-ufrag, a=ice-pwd). */
struct ice_lite_creds {
	const char *ufrag;
	const char *pwd;
};

union ice_lite_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct ice_lite_cand {
	union ice_lite_sa addr;
	uint64_t last_ms; /* last valid check from this address */
};

enum ice_lite_state {
	ICE_LITE_WAITING,      /* nothing selected yet */
	ICE_LITE_SELECTED,     /* a pair is selected and has consent */
	ICE_LITE_CONSENT_LOST, /* until a new nomination */
};

/* Embedded by its owner (no allocation); callers read the fields only
 * through the functions below. */
struct ice_lite {
	/* What ice_lite_media_allowed reads per packet first, then the
	 * candidates (the selected one is usually the first). */
	enum ice_lite_state state;
	int selected;             /* index in cand, -1 for none */
	uint64_t consent_ms;      /* last valid check on the selected pair */
	uint64_t consent_timeout_ms;
	struct ice_lite_cand cand[ICE_LITE_CAND_MAX];
	size_t n_cand;
	char lufrag[ICE_LITE_UFRAG_MAX + 1], lpwd[ICE_LITE_PWD_MAX + 1];
	char rufrag[ICE_LITE_UFRAG_MAX + 1], rpwd[ICE_LITE_PWD_MAX + 1];
	size_t lufrag_len, lpwd_len, rufrag_len;
	bool remote_known;
};

/* Sets up a responder with our credentials (given by the controller);
 * consent_timeout_ms 0 means ICE_LITE_CONSENT_TIMEOUT_MS.  Returns 0 or
 * EINVAL for credentials outside RFC 8839's grammar. */
int ice_lite_init(struct ice_lite *ice, const struct ice_lite_creds *local,
		  uint64_t consent_timeout_ms);

/* The peer's credentials, once the remote description is applied.  Until
 * then checks with USERNAME "<local ufrag>:<anything>" are accepted; from
 * then on the part after the colon must be the remote ufrag.  EINVAL. */
int ice_lite_set_remote(struct ice_lite *ice, const struct ice_lite_creds *remote);
/* RFC 8839 5.4: a ufrag of 4 to ICE_LITE_UFRAG_MAX ice-chars, a pwd of 22 to
 * ICE_LITE_PWD_MAX; what ice_lite_set_remote accepts (for the controller's
 * values to be refused up front, SPEC 8.9.1). */
bool ice_lite_ufrag_valid(const char *ufrag);
bool ice_lite_pwd_valid(const char *pwd);

/* ICE restart: new local (and, when known, remote) credentials replace the
 * old ones; the selected pair and the learned addresses are cleared.
 * EINVAL leaves the state as it was. */
int ice_lite_restart(struct ice_lite *ice, const struct ice_lite_creds *local,
		     const struct ice_lite_creds *remote);

/* Handles one STUN datagram from src (a whole sockaddr_in or
 * sockaddr_in6, as recvmsg fills it) received at now_ms.  reply must hold ICE_LITE_REPLY_MAX bytes.  Fills *res and
 * returns 0, or EINVAL (bad src family, small reply buffer). */
int ice_lite_process(struct ice_lite *ice, const uint8_t *pkt, size_t len,
		     const struct sockaddr *src, uint64_t now_ms, uint8_t *reply,
		     size_t reply_cap, struct ice_lite_result *res);

/* Timer: returns the events due at now_ms (ICE_LITE_EV_CONSENT_LOST). */
unsigned ice_lite_poll(struct ice_lite *ice, uint64_t now_ms);

/* When ice_lite_poll next has something to do; UINT64_MAX for never. */
uint64_t ice_lite_deadline(const struct ice_lite *ice);

/* Media path: may a non-STUN datagram from src be accepted?  Only from the
 * selected pair's address once one is selected (and while it has
 * consent); before that, from addresses that sent a valid check; after
 * consent loss, from none. */
bool ice_lite_media_allowed(const struct ice_lite *ice, const struct sockaddr *src,
			    uint64_t now_ms);

/* The selected pair's remote address, or NULL; *len gets its size.  The
 * pointer is borrowed from ice and valid until its next change. */
const struct sockaddr *ice_lite_selected(const struct ice_lite *ice, socklen_t *len);

#endif
