/* Iq+ message schema tables (SPEC.md 11, 8.7) over the registry (12). */
#include "iqp_schema.h"

#include <errno.h>
#include <string.h>

#define R(c, lo, hi) { IQP_E_##c, lo, hi, IQP_N_REGISTRY, 0, 0, 0 }
#define RN(c, lo, hi, n) { IQP_E_##c, lo, hi, IQP_N_##n, 0, 0, 0 }
#define RV(c, lo, hi, mask) { IQP_E_##c, lo, hi, IQP_N_REGISTRY, 0, 0, mask }
#define RC(c, lo, hi, n, cond, fl)                                            \
	{ IQP_E_##c, lo, hi, IQP_N_##n, IQP_C_##cond, fl, 0 }
#define ONLY IQP_RF_ONLY_IF
#define REQ IQP_RF_REQ_IF
#define B(v) (1u << (v))

/* 11.2 REGISTER */
static const struct iqp_rule register_req[] = {
	R(EXTENSION, 0, 32), R(NODE_ID, 1, 1), R(EPOCH, 1, 1),
	R(VERSION, 1, 16),
	RV(SC_METHOD, 1, 1, B(IQP_SC_RESTART) | B(IQP_SC_DISCONNECTED) |
				    B(IQP_SC_HANDOFF) | B(IQP_SC_FAILOVER)),
	R(SC_REASON, 1, 1), R(LINK_PARAMS, 0, 1), R(SOFTWARE, 0, 1),
	R(CAPACITY, 1, 1), R(LOAD, 0, 1), RN(REALM, 1, 32, REALM_REG),
	R(CAPABILITIES, 1, 1),
};
static const struct iqp_rule register_ok[] = {
	R(EXTENSION, 0, 32), R(NODE_ID, 1, 1), R(EPOCH, 1, 1), R(VERSION, 1, 1),
	RN(LINK_PARAMS, 1, 1, LINK_PARAMS_OK), R(SOFTWARE, 0, 1),
};
static const struct iqp_rule register_err[] = {
	R(ERROR, 1, 1),
	RC(VERSION, 0, 16, REGISTRY, ERR_406, ONLY),
	RC(REDIRECT_TARGET, 1, 8, REGISTRY, ERR_1300, ONLY | REQ),
};
static const struct iqp_rule error_reply[] = { R(ERROR, 1, 1) };
/* 11.3 HEARTBEAT: LOAD from the AGW only. */
static const struct iqp_rule heartbeat_agw[] = { R(LOAD, 0, 1) };
/* 11.4 SERVICE_CHANGE: methods per direction. */
#define SC_RULES(methods)                                                     \
	RV(SC_METHOD, 1, 1, methods), R(SC_REASON, 1, 1),                     \
	RC(SC_DELAY, 0, 1, REGISTRY, SC_GRACEFUL, ONLY),                      \
	RC(REDIRECT_TARGET, 1, 8, REGISTRY, SC_HANDOFF, ONLY | REQ),          \
	RC(CAPACITY, 0, 1, REGISTRY, SC_CAPUPD, ONLY),                        \
	RC(REALM, 0, 32, REALM_REG, SC_CAPUPD, ONLY),                         \
	RC(CAPABILITIES, 0, 1, REGISTRY, SC_CAPUPD, ONLY)
static const struct iqp_rule sc_agw[] = {
	SC_RULES(B(IQP_SC_GRACEFUL) | B(IQP_SC_FORCED) | B(IQP_SC_RESTART) |
		 B(IQP_SC_CAPABILITY_UPDATE)),
};
static const struct iqp_rule sc_ctl[] = {
	SC_RULES(B(IQP_SC_GRACEFUL) | B(IQP_SC_FORCED) | B(IQP_SC_RESTART) |
		 B(IQP_SC_HANDOFF)),
};
/* 11.5 NODE_STATUS: at least one of LOAD and REALM. */
static const struct iqp_rule node_status[] = {
	R(TIMESTAMP, 0, 1), RC(LOAD, 1, 1, REGISTRY, NO_REALM, REQ),
	RN(REALM, 0, 32, REALM_STATUS),
};
static const struct iqp_rule ack[] = { R(ERROR, 0, 1) };
/* 11.6 AUDIT.  The reply does not name its scope: it is checked against
 * the union of the scopes (8.7 column Au as explained there). */
static const struct iqp_rule audit_req[] = {
	R(AUDIT_SCOPE, 1, 1),
	RC(AUDIT_CURSOR, 0, 1, REGISTRY, AUDIT_LIST, ONLY),
	RC(AUDIT_LIMIT, 0, 1, REGISTRY, AUDIT_LIST, ONLY),
	RC(CONTEXT, 1, 1, AUDIT_CONTEXT, AUDIT_CTX, ONLY | REQ),
};
static const struct iqp_rule audit_reply[] = {
	R(AUDIT_CURSOR, 0, 1), R(AUDIT_MORE, 0, 1), R(CAPACITY, 0, 1),
	R(LOAD, 0, 1), R(REALM, 0, 32), R(CAPABILITIES, 0, 1),
	RN(CONTEXT, 0, 4096, COL_AU),
};
static const struct iqp_rule audit_context[] = {
	R(CONTEXT_ID, 1, 1), RC(TERMINATION, 0, 8, AUDIT_TERM, AUDIT_STATS, ONLY),
};
static const struct iqp_rule audit_term[] = { R(TERM_ID, 1, 1) };
/* 8.3-8.6 */
static const struct iqp_rule reserve_req[] = { RN(CONTEXT, 1, 1, COL_RV) };
static const struct iqp_rule configure_req[] = { RN(CONTEXT, 1, 1, COL_CF) };
static const struct iqp_rule modify_req[] = { RN(CONTEXT, 1, 1, COL_MD) };
static const struct iqp_rule release_req[] = { RN(CONTEXT, 1, 1, COL_RL) };
static const struct iqp_rule call_reply[] = { RN(CONTEXT, 1, 1, COL_RP) };
/* 8.6 item 2: releasing ALL gives an empty reply. */
static const struct iqp_rule release_reply[] = { RN(CONTEXT, 0, 1, COL_RP) };
/* 11.7, 9.1, 9.2 */
static const struct iqp_rule event[] = { RN(EVENT, 1, 64, EVENT_ELEM) };
static const struct iqp_rule event_elem[] = { RN(STREAM, 0, 16, EVENT_STREAM) };
static const struct iqp_rule event_stream[] = { R(STREAM_ID, 1, 1),
						R(STATS, 0, 1) };
/* 11.8 CLOSE */
static const struct iqp_rule close_body[] = {
	R(ERROR, 1, 1), RC(VERSION, 0, 16, REGISTRY, ERR_406, ONLY),
};
/* Registry patches: 7.2.4, 11.2, 11.5 */
static const struct iqp_rule link_params_ok[] = { R(HB_INTERVAL, 1, 1) };
static const struct iqp_rule realm_reg[] = { R(REALM_SIDE, 1, 1),
					     R(REALM_ADDR, 1, 8) };
static const struct iqp_rule realm_status[] = { R(REALM_AVAILABLE, 1, 1) };

enum { T_REGISTRY, T_RULES, T_PATCH, T_COLUMN };

#define NODE(t, rules, name) { t, 0, rules, sizeof(rules) / sizeof(rules[0]), name }
#define COLUMN(c, name) { T_COLUMN, c, NULL, 0, name }
static const struct {
	uint8_t type, column;
	const struct iqp_rule *rules;
	size_t n;
	const char *name;
} nodes[IQP_N_COUNT] = {
	[IQP_N_REGISTRY] = { T_REGISTRY, 0, NULL, 0, "registry" },
	[IQP_N_REGISTER_REQ] = NODE(T_RULES, register_req, "REGISTER request"),
	[IQP_N_REGISTER_OK] = NODE(T_RULES, register_ok, "REGISTER reply"),
	[IQP_N_REGISTER_ERR] = NODE(T_RULES, register_err,
				    "REGISTER error reply"),
	[IQP_N_ERROR_REPLY] = NODE(T_RULES, error_reply, "error reply"),
	[IQP_N_EMPTY] = { T_RULES, 0, NULL, 0, "empty body" },
	[IQP_N_HEARTBEAT_AGW] = NODE(T_RULES, heartbeat_agw,
				     "HEARTBEAT from the AGW"),
	[IQP_N_SC_AGW] = NODE(T_RULES, sc_agw, "SERVICE_CHANGE from the AGW"),
	[IQP_N_SC_CTL] = NODE(T_RULES, sc_ctl,
			      "SERVICE_CHANGE from the controller"),
	[IQP_N_NODE_STATUS] = NODE(T_RULES, node_status, "NODE_STATUS"),
	[IQP_N_ACK] = NODE(T_RULES, ack, "ACK"),
	[IQP_N_AUDIT_REQ] = NODE(T_RULES, audit_req, "AUDIT request"),
	[IQP_N_AUDIT_REPLY] = NODE(T_RULES, audit_reply, "AUDIT reply"),
	[IQP_N_RESERVE_REQ] = NODE(T_RULES, reserve_req, "RESERVE request"),
	[IQP_N_CONFIGURE_REQ] = NODE(T_RULES, configure_req,
				     "CONFIGURE request"),
	[IQP_N_MODIFY_REQ] = NODE(T_RULES, modify_req, "MODIFY request"),
	[IQP_N_RELEASE_REQ] = NODE(T_RULES, release_req, "RELEASE request"),
	[IQP_N_CALL_REPLY] = NODE(T_RULES, call_reply, "command reply"),
	[IQP_N_RELEASE_REPLY] = NODE(T_RULES, release_reply, "RELEASE reply"),
	[IQP_N_EVENT] = NODE(T_RULES, event, "EVENT"),
	[IQP_N_CLOSE] = NODE(T_RULES, close_body, "CLOSE"),
	[IQP_N_LINK_PARAMS_OK] = NODE(T_PATCH, link_params_ok,
				      "LINK_PARAMS in REGISTER reply"),
	[IQP_N_REALM_REG] = NODE(T_PATCH, realm_reg, "REALM in REGISTER"),
	[IQP_N_REALM_STATUS] = NODE(T_PATCH, realm_status,
				    "REALM in NODE_STATUS"),
	[IQP_N_AUDIT_CONTEXT] = NODE(T_RULES, audit_context,
				     "CONTEXT in AUDIT request"),
	[IQP_N_AUDIT_TERM] = NODE(T_RULES, audit_term,
				  "TERMINATION in AUDIT request"),
	[IQP_N_EVENT_ELEM] = NODE(T_PATCH, event_elem, "EVENT element"),
	[IQP_N_EVENT_STREAM] = NODE(T_RULES, event_stream, "STREAM in EVENT"),
	[IQP_N_COL_RV] = COLUMN(0, "RESERVE request (8.7 Rv)"),
	[IQP_N_COL_CF] = COLUMN(1, "CONFIGURE request (8.7 Cf)"),
	[IQP_N_COL_MD] = COLUMN(2, "MODIFY request (8.7 Md)"),
	[IQP_N_COL_RL] = COLUMN(3, "RELEASE request (8.7 Rl)"),
	[IQP_N_COL_RP] = COLUMN(4, "command reply (8.7 Rp)"),
	[IQP_N_COL_AU] = COLUMN(5, "AUDIT reply (8.7 Au)"),
};

enum { COL_RV, COL_CF, COL_MD, COL_RL, COL_RP, COL_AU };

/* 8.7, one row per element, columns Rv Cf Md Rl Rp Au: R required, N "Rn",
 * O optional, P permitted, - not permitted.  `cond` qualifies N in Rv
 * ("Rn w", footnote 1). */
static const struct col_row {
	uint16_t parent, code;
	char use[7];
	uint8_t flags, cond;
} col[] = {
#define W IQP_RF_W3
#define I IQP_RF_IMS
#define ROW(p, c, u, ...) { IQP_E_##p, IQP_E_##c, u, __VA_ARGS__ }
	ROW(CONTEXT, CONTEXT_ID, "RRRRRR", 0, 0),
	ROW(CONTEXT, EMERGENCY, "O-O--O", 0, 0),
	ROW(CONTEXT, PRIORITY, "O-O--O", 0, 0),
	ROW(CONTEXT, CALL_REF, "O-O--O", 0, 0),
	ROW(CONTEXT, TERMINATION, "RRROPR", 0, 0),
	ROW(TERMINATION, TERM_ID, "RRRRRR", 0, 0),
	ROW(TERMINATION, TERM_KIND, "N---PR", 0, 0),
	ROW(TERMINATION, REALM_NAME, "N---PR", 0, 0),
	ROW(TERMINATION, ADDR_FAMILY, "O----O", 0, 0),
	ROW(TERMINATION, UNUSED_TIMEOUT, "OOO--O", 0, 0),
	ROW(TERMINATION, EVENT_MASK, "OOO--O", 0, 0),
	ROW(TERMINATION, TERM_STATE, "----PR", 0, 0),
	ROW(TERMINATION, ICE, "NOO-PR", W, IQP_C_TERM_W3),
	ROW(TERMINATION, DTLS, "NOO-PR", W, IQP_C_TERM_W3),
	ROW(TERMINATION, RTCP_MUX, "OOO--O", W, 0),
	ROW(TERMINATION, RTCP_RSIZE, "OOO--O", W, 0),
	ROW(TERMINATION, BUNDLE, "OOO--O", W, 0),
	ROW(TERMINATION, STREAM, "NOO-PR", 0, 0),
	ROW(STREAM, STREAM_ID, "RRR-RR", 0, 0),
	ROW(STREAM, MEDIA_TYPE, "N-N--R", 0, 0),
	ROW(STREAM, TRANSPORT_PROTO, "N-O--R", 0, 0),
	ROW(STREAM, CODEC, "NOO--O", 0, IQP_C_MEDIA_RTP),
	ROW(STREAM, STREAM_MODE, "OOO--O", 0, 0),
	ROW(STREAM, PTIME, "OOO--O", 0, 0),
	ROW(STREAM, MAXPTIME, "OOO--O", 0, 0),
	ROW(STREAM, CCM_INTERWORK, "OOO--O", 0, 0),
	ROW(STREAM, DSCP, "OOO--O", 0, 0),
	ROW(STREAM, POLICING, "OOO--O", 0, 0),
	ROW(STREAM, SOURCE_FILTER, "OOO--O", 0, 0),
	ROW(STREAM, INACTIVITY_TIMEOUT, "OOO--O", 0, 0),
	ROW(STREAM, LOCAL_ADDR, "O-O-PR", I, 0),
	ROW(STREAM, LOCAL_RTCP_ADDR, "----PO", I, 0),
	ROW(STREAM, REMOTE_ADDR, "OOO--O", I, 0),
	ROW(STREAM, REMOTE_RTCP_ADDR, "OOO--O", I, 0),
	ROW(STREAM, RTCP_MUX, "OOO--O", I, 0),
	ROW(STREAM, RTCP_RSIZE, "OOO--O", I, 0),
	ROW(STREAM, LATCHING, "OOO--O", I, 0),
	ROW(STREAM, REMOVE, "--O---", 0, 0),
	/* Au: "STATS is permitted under STREAM (scope STATISTICS)", the
	 * paragraph under the 8.7 table. */
	ROW(STREAM, STATS, "----PO", 0, 0),
	ROW(STREAM, DATACHANNEL, "OOO-PO", 0, 0),
	ROW(STREAM, MSRP, "OOO-PO", 0, 0),
	ROW(STREAM, T140, "OOO-PO", 0, 0),
	ROW(STREAM, BFCP, "OOO-PO", 0, 0),
	ROW(ICE, ICE_MODE, "O---PR", 0, 0),
	ROW(ICE, ICE_ROLE, "OOO-PO", 0, 0),
	ROW(ICE, ICE_LOCAL_UFRAG, "----PR", 0, 0),
	ROW(ICE, ICE_LOCAL_PWD, "----P-", 0, 0),
	ROW(ICE, ICE_REMOTE_UFRAG, "OOO--O", 0, 0),
	ROW(ICE, ICE_REMOTE_PWD, "OOO---", 0, 0), /* footnote 4 */
	ROW(ICE, ICE_REMOTE_LITE, "OOO--O", 0, 0),
	ROW(ICE, REMOTE_CANDIDATE, "OOO--O", 0, 0),
	ROW(ICE, ICE_END_OF_CANDIDATES, "OOO--O", 0, 0),
	ROW(ICE, ICE_RESTART, "--O---", 0, 0),
	ROW(ICE, ICE_TCP, "O-O--O", 0, 0),
	ROW(ICE, LOCAL_CANDIDATE, "----PR", 0, 0),
	ROW(DTLS, DTLS_SETUP, "NOO-PR", 0, 0),
	ROW(DTLS, SRTP_PROFILE, "O-O--O", 0, 0),
	ROW(DTLS, REMOTE_FINGERPRINT, "OOO--O", 0, 0),
	ROW(DTLS, REMOTE_TLS_ID, "OOO--O", 0, 0),
	ROW(DTLS, LOCAL_FINGERPRINT, "----PR", 0, 0),
	ROW(DTLS, LOCAL_TLS_ID, "----PR", 0, 0),
#undef ROW
#undef W
#undef I
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int iqp_schema_form(const struct iqp_header *h, unsigned sender,
		    unsigned *node)
{
	bool agw = sender == IQP_ROLE_AGW;
	unsigned n = IQP_N_COUNT;

	switch (h->kind) {
	case IQP_KIND_REQUEST:
		switch (h->code) {
		case IQP_MSG_REGISTER: n = IQP_N_REGISTER_REQ; break;
		case IQP_MSG_HEARTBEAT:
			n = agw ? IQP_N_HEARTBEAT_AGW : IQP_N_EMPTY;
			break;
		case IQP_MSG_SERVICE_CHANGE: n = agw ? IQP_N_SC_AGW : IQP_N_SC_CTL; break;
		case IQP_MSG_AUDIT: n = IQP_N_AUDIT_REQ; break;
		case IQP_MSG_RESERVE: n = IQP_N_RESERVE_REQ; break;
		case IQP_MSG_CONFIGURE: n = IQP_N_CONFIGURE_REQ; break;
		case IQP_MSG_MODIFY: n = IQP_N_MODIFY_REQ; break;
		case IQP_MSG_RELEASE: n = IQP_N_RELEASE_REQ; break;
		}
		break;
	case IQP_KIND_REPLY:
		if (h->flags & IQP_FLAG_E) {
			const struct iqp_msg_def *d = iqp_msg_def_find(h->code);
			if (h->code == IQP_MSG_REGISTER)
				n = IQP_N_REGISTER_ERR;
			else if (d && d->kind == IQP_KIND_REQUEST)
				n = IQP_N_ERROR_REPLY;
			break;
		}
		switch (h->code) {
		case IQP_MSG_REGISTER: n = IQP_N_REGISTER_OK; break;
		case IQP_MSG_HEARTBEAT:
		case IQP_MSG_SERVICE_CHANGE: n = IQP_N_EMPTY; break;
		case IQP_MSG_AUDIT: n = IQP_N_AUDIT_REPLY; break;
		case IQP_MSG_RESERVE:
		case IQP_MSG_CONFIGURE:
		case IQP_MSG_MODIFY: n = IQP_N_CALL_REPLY; break;
		case IQP_MSG_RELEASE: n = IQP_N_RELEASE_REPLY; break;
		}
		break;
	case IQP_KIND_PENDING: n = IQP_N_EMPTY; break;
	case IQP_KIND_NOTIFY:
		if (h->code == IQP_MSG_NODE_STATUS)
			n = IQP_N_NODE_STATUS;
		else if (h->code == IQP_MSG_EVENT)
			n = IQP_N_EVENT;
		break;
	case IQP_KIND_ACK: n = IQP_N_ACK; break;
	case IQP_KIND_CLOSE: n = IQP_N_CLOSE; break;
	}
	if (n == IQP_N_COUNT)
		return ENOENT;
	*node = n;
	return 0;
}

/* Placement of code under parent in the registry. */
static const struct iqp_parent *placement(const struct iqp_elem_def *d,
					  uint16_t parent)
{
	for (size_t i = 0; d && i < IQP_MAX_PARENTS && d->parents[i].code; i++)
		if (d->parents[i].code == parent)
			return &d->parents[i];
	return NULL;
}

static bool registry_rule(uint16_t parent, const struct iqp_elem_def *d,
			  struct iqp_rule *out)
{
	const struct iqp_parent *p = placement(d, parent);

	if (!p)
		return false;
	memset(out, 0, sizeof(*out));
	out->code = d->code;
	out->min = p->min;
	out->max = p->max;
	out->node = IQP_N_REGISTRY;
	if (p->cond) {
		out->cond = p->cond;
		out->flags = IQP_RF_REQ_IF;
	}
	return true;
}

static bool column_rule(const struct col_row *r, unsigned c,
			struct iqp_rule *out)
{
	char u = r->use[c];
	const struct iqp_parent *p = placement(iqp_elem_def_find(r->code),
					       r->parent);

	if (u == '-' || !p)
		return false;
	memset(out, 0, sizeof(*out));
	out->code = r->code;
	out->max = p->max;
	out->flags = r->flags;
	if (r->code == IQP_E_TERMINATION || r->code == IQP_E_STREAM ||
	    r->code == IQP_E_ICE || r->code == IQP_E_DTLS)
		out->node = (uint8_t)(IQP_N_COL_RV + c);
	/* Au: an AUDIT reply is checked against the union of its scopes,
	 * where only the identifiers are always present (8.7). */
	if (u == 'R' && (c != COL_AU || r->code == IQP_E_CONTEXT_ID ||
			 r->code == IQP_E_TERM_ID || r->code == IQP_E_STREAM_ID))
		out->min = 1;
	/* 8.7 note 2: a requested LOCAL_ADDR may leave the port to the AGW. */
	if (r->code == IQP_E_LOCAL_ADDR && (c == COL_RV || c == COL_MD))
		out->flags |= IQP_RF_PORT0;
	/* Rn: every object of a RESERVE is new; in MODIFY only the command
	 * handler knows whether a stream is. */
	if (u == 'N' && c == COL_RV) {
		out->min = 1;
		if (r->cond) {
			out->cond = r->cond;
			out->flags |= IQP_RF_REQ_IF;
		}
	}
	return true;
}

bool iqp_schema_rule(unsigned node, uint16_t parent_code, uint16_t code,
		     struct iqp_rule *out)
{
	if (node >= IQP_N_COUNT)
		return false;
	if (nodes[node].type == T_COLUMN) {
		for (size_t i = 0; i < COUNT(col); i++)
			if (col[i].parent == parent_code && col[i].code == code)
				return column_rule(&col[i], nodes[node].column, out);
		return false;
	}
	for (size_t i = 0; i < nodes[node].n; i++)
		if (nodes[node].rules[i].code == code) {
			*out = nodes[node].rules[i];
			return out->max > 0;
		}
	if (nodes[node].type == T_RULES)
		return false;
	/* Registry nodes, and patch nodes for the children not patched. */
	return registry_rule(parent_code, iqp_elem_def_find(code), out);
}

size_t iqp_schema_rules(unsigned node, uint16_t parent_code,
			struct iqp_rule *out, size_t max)
{
	struct iqp_rule r;
	size_t n = 0, ndefs;
	const struct iqp_elem_def *defs = iqp_elem_defs(&ndefs);

	if (node >= IQP_N_COUNT)
		return 0;
	if (nodes[node].type == T_RULES) {
		for (size_t i = 0; i < nodes[node].n; i++, n++)
			if (n < max)
				out[n] = nodes[node].rules[i];
	} else if (nodes[node].type == T_COLUMN) {
		for (size_t i = 0; i < COUNT(col); i++)
			if (col[i].parent == parent_code &&
			    column_rule(&col[i], nodes[node].column, &r)) {
				if (n < max)
					out[n] = r;
				n++;
			}
	} else {
		for (size_t i = 0; i < ndefs; i++)
			if (placement(&defs[i], parent_code) &&
			    iqp_schema_rule(node, parent_code, defs[i].code, &r)) {
				if (n < max)
					out[n] = r;
				n++;
			}
	}
	/* Ascending code order (insertion sort; lists are short). */
	size_t k = n < max ? n : max;
	for (size_t i = 1; i < k; i++) {
		r = out[i];
		size_t j = i;
		for (; j > 0 && out[j - 1].code > r.code; j--)
			out[j] = out[j - 1];
		out[j] = r;
	}
	return n;
}

const char *iqp_schema_node_name(unsigned node)
{
	return node < IQP_N_COUNT ? nodes[node].name : "?";
}
