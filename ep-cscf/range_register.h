/* IMPU ranges of WWSFs registered toward IMS by the eP-CSCF (TR 23.701
 * 5.3.2.1.4 "registration mode" and 5.3.2.1.5; NOTE 3 of A.2.1.1).
 *
 * A WWSF owns a range such as "sip:guest-*@ims.test" (impu_range.h) and
 * gives its users individual IMPUs from it ("sip:guest-7@ims.test").  The
 * IMS knows the range as one wildcarded public user identity, the range
 * with its '*' written as the delimited regular expression "!.*!" (TS
 * 23.003 13.4A and 13.5: "sip:guest-!.*!@ims.test").  The eP-CSCF
 * registers that identity once for all of the range's users, as a
 * business trunking registration does (RFC 6140: a Contact without user
 * part and with the "bnc" parameter, Require and Proxy-Require "gin"), with
 * Trusted Node Authentication (tna_register.h), and acts itself as the
 * registrar of the WICs given IMPUs from the range: their REGISTERs are
 * answered by the eP-CSCF and never reach IMS.  A terminating request for
 * an IMPU of the range reaches the eP-CSCF through the range registration
 * (its Path names the range), and the eP-CSCF delivers it on the flow
 * registered for that IMPU: the one in P-Called-Party-ID (TS 24.229
 * 5.4.3.3: the S-CSCF inserts the Request-URI it received), else the user
 * part of the Request-URI (RFC 6140: the bnc contact with the target's
 * user part).
 *
 * This file: the state of each range's registration and the pure pieces
 * (the REGISTER text, the lifetime a 200 grants, the called IMPU of a
 * terminating request).  The SIP side (transactions, local answers,
 * dispatch) is range_proxy.h. */
#ifndef EPCSCF_RANGE_REGISTER_H
#define EPCSCF_RANGE_REGISTER_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "impu_range.h"
#include "sip_txn.h"
#include "wwsf_policy.h"

#define RANGE_TOKEN_LEN 26 /* "wr" + 24 hex: the user part of its Path */
#define RANGE_CALLID_MAX 96
#define RANGE_HOST_MAX 128

enum range_state {
	RANGE_IDLE,        /* not registered, nothing pending */
	RANGE_REGISTERING, /* first REGISTER sent; guests wait for it */
	RANGE_REGISTERED,  /* a 2xx granted the registration */
};

/* A guest REGISTER waiting for its range's registration. */
struct range_pending {
	struct range_pending *next; /* owned by the range */
	uint64_t flow_id;
	msg_t *msg;                 /* owned */
};

struct range_reg {
	struct range_reg *next;     /* owned by the table */
	const struct wwsf *wwsf;    /* borrowed from the policy */
	char pattern[WWSF_PATTERN_MAX];   /* "sip:guest-*@ims.test" */
	char wildcarded[IMPU_MAX];        /* "sip:guest-!.*!@ims.test" */
	char impi[IMPU_MAX];              /* "guest-!.*!@ims.test" */
	char domain[RANGE_HOST_MAX];      /* "ims.test": the REGISTER's R-URI */
	char token[RANGE_TOKEN_LEN + 1];  /* names the range in its Path */
	char call_id[RANGE_CALLID_MAX];
	char from_tag[24];
	uint32_t cseq;                    /* of the last REGISTER sent */
	char branch[SIP_BRANCH_MAX];      /* of the REGISTER in flight, or "" */
	int deregistering;                /* the one in flight has Expires 0 */
	enum range_state state;
	uint64_t expires_ms, refresh_ms;  /* loop time: lapses, refresh due */
	char *service_route;              /* owned: from the last 2xx, or NULL */
	struct range_pending *pending;    /* owned */
};

struct range_table {
	struct range_reg *head; /* owned */
};

/* Frees every range and its pending messages. */
void range_table_free(struct range_table *t);

/* The range registration of (wwsf, pattern), made IDLE when new (random
 * Call-ID, tag and token from `rnd`, 24 bytes).  NULL on ENOMEM, or on
 * EINVAL when the pattern has no SIP form to register (a tel: range, or
 * one too long); *err then says which. */
struct range_reg *range_table_get(struct range_table *t, const struct wwsf *w,
				  const char *pattern, const unsigned char rnd[24],
				  const char *ims_host, int *err);
struct range_reg *range_table_by_token(const struct range_table *t, const char *token);
struct range_reg *range_table_by_call_id(const struct range_table *t, const char *call_id);

/* What a REGISTER of a range needs besides the range itself. */
struct range_reg_hop {
	const char *via;        /* our Via value (sip_proxy_via_value) */
	const char *ims_host;   /* our "ip:port" toward IMS (Contact, Path) */
	const char *transport;  /* ";transport=tcp" or "" for our URIs */
	const char *visited;    /* P-Visited-Network-ID */
	const char *authorization; /* the TNA Authorization line, no CRLF */
};

/* Prints the REGISTER of range r with CSeq r->cseq and lifetime `expires`
 * seconds (0: de-registration) into out.  Returns 0 (*n set) or
 * EMSGSIZE. */
int range_reg_print(const struct range_reg *r, const struct range_reg_hop *h, unsigned expires,
		    char *out, size_t len, size_t *n);

/* The lifetime a 2xx to a range REGISTER grants our contact (the one with
 * host ims_host and the bnc parameter): its expires parameter, else the
 * Expires header, else 3600; 0 when our contact is not listed. */
long range_reg_granted(sip_t const *rsp, const char *ims_host);

/* The IMPU a terminating request reaching range r is for: the URI in
 * P-Called-Party-ID when present, else "sip:" + the Request-URI's user part
 * + "@" + r->domain.  Returns 0 (out set) or EINVAL (no user, or too long
 * for out). */
int range_called_impu(sip_t const *sip, const struct range_reg *r, char *out, size_t len);

#endif
