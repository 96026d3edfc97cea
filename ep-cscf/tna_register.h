/* Web authentication on browser flows (TS 24.371 A.3.2 and 7.2.1; TR
 * 23.701 A.2.1.3; TS 33.203 Annex U): requests carrying
 * `Authorization: Bearer <token>` from a flow whose Origin belongs to a
 * token-issuing WWSF.
 *
 * REGISTER: the token is verified (jwt_verify.h) and bound to the flow,
 * the Bearer credentials are removed and replaced by the Trusted Node
 * Authentication credentials toward IMS:
 *
 *   Authorization: Digest username="IMPI", realm="DOMAIN", uri="R-URI",
 *     nonce="", response="", integrity-protected="auth-done"
 *
 * A missing token on such a flow, or a bad one, gets 401 with
 * WWW-Authenticate: Bearer (RFC 6750 3: error and error_description); a
 * token that may not be used here (origin of another WWSF, an IMPU it may
 * not grant or that is not the one registered, a barred WWSF, its quota
 * full) gets 403.  Refreshes are re-checked the same way.
 *
 * Other requests: a Bearer token present is checked and removed; with
 * auth.bearer_every_request it is required.  After the flow's token has
 * expired, requests are refused (TS 24.371 7.2.1), and a registration not
 * renewed with a fresh token by then is ended: the owner's `expired`
 * callback de-registers toward IMS and ends the flow. */
#ifndef EPCSCF_TNA_REGISTER_H
#define EPCSCF_TNA_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "flow_table.h"
#include "jti_cache.h"
#include "jwt_verify.h"
#include "log.h"
#include "metrics.h"
#include "wwsf_policy.h"

#define TNA_CALLID_MAX 256
#define TNA_CONTACT_MAX 512

/* A flow's web-authentication state. */
struct tna_flow {
	struct tna_flow *next;  /* owned by struct tna */
	uint64_t flow_id;
	const struct wwsf *wwsf; /* borrowed from the policy */
	char impu[IMPU_MAX];
	char impi[JWT_IMPI_MAX];
	char range[WWSF_PATTERN_MAX]; /* the WWSF range the IMPU came from, or "" */
	long long exp;            /* the newest token's expiry (Unix time) */
	bool registered;          /* a 2xx to a token REGISTER arrived */
	/* What a de-registration on token expiry needs. */
	char call_id[TNA_CALLID_MAX];
	char contact[TNA_CONTACT_MAX];
	char ruri[IMPU_MAX];
	uint32_t cseq;
};

/* Called when a registered flow's token has expired without renewal. */
typedef void (tna_expired_h)(void *arg, const struct tna_flow *tf);

struct tna_cfg {
	struct jwt_verify_cfg verify; /* audience borrowed */
	bool every_request;
	size_t jti_capacity;
};

struct tna {
	const struct log *log;        /* borrowed */
	unsigned sub;
	struct wwsf_policy *policy;   /* borrowed (quota counters live there) */
	struct tna_cfg cfg;
	struct jti_cache jti;         /* owned */
	struct tna_flow *head;        /* owned */
	size_t n;
	uv_timer_t sweep;             /* token expiry */
	tna_expired_h *expired;
	void *arg;
	struct metric *m_ok, *m_401, *m_403, *m_expired;
};

/* A refusal: status, phrase, and the WWW-Authenticate line for 401s. */
struct tna_refusal {
	int status;
	const char *phrase;
	char www_authenticate[320];
	char reason[160];
};

int tna_init(struct tna *t, uv_loop_t *loop, const struct tna_cfg *cfg,
	     struct wwsf_policy *policy, tna_expired_h *expired, void *arg,
	     struct metrics *m, const struct log *log, unsigned sub);
void tna_close(struct tna *t); /* closes the timer */
void tna_free(struct tna *t);  /* after the loop has ended */

/* Checks and rewrites a request from flow f before it is forwarded.
 * Returns 0 (forward msg, possibly rewritten), ENOMEM, or EACCES/EPERM/
 * EBUSY with r filled (answer r->status on the flow; the reason is also
 * logged here). */
/* *removed: bytes of Bearer credentials taken out (the message may now
 * fit a datagram). */
int tna_request(struct tna *t, const struct flow *f, msg_t *msg, sip_t *sip,
		struct tna_refusal *r, size_t *removed);

/* A final response to a REGISTER of flow_id reached us: registered (2xx
 * with our contact kept) or not. */
void tna_register_result(struct tna *t, uint64_t flow_id, bool registered);
void tna_flow_closed(struct tna *t, uint64_t flow_id);
struct tna_flow *tna_find(struct tna *t, uint64_t flow_id);

/* The TNA Authorization header line for a flow's identities. */
int tna_authorization_line(const char *impi, const char *impu, const char *ruri,
			   char *out, size_t len);

#endif
