/* Iq+ message schema: which elements a body may and must contain, per
 * message (SPEC.md clause 11), per command for contexts, terminations and
 * streams (8.7), and otherwise per the element registry (12).  The
 * validator (iqp_validate.h) walks a body with it; command handlers use
 * iqp_schema_rule for the W3/IMS restrictions they check in pass 4.
 *
 * A schema node says how the children of one container (or of the top
 * level) are checked.  Nested nodes either follow the registry for the
 * parent's code (IQP_N_REGISTRY), patch it, replace it, or are a column of
 * the 8.7 table. */
#ifndef PROTO_IQP_SCHEMA_H
#define PROTO_IQP_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_frame.h"

enum iqp_node {
	IQP_N_REGISTRY,      /* children per clause 12 */
	/* Top levels (11), one per message form. */
	IQP_N_REGISTER_REQ,
	IQP_N_REGISTER_OK,
	IQP_N_REGISTER_ERR,
	IQP_N_ERROR_REPLY,   /* error REPLY of every other command */
	IQP_N_EMPTY,         /* PENDING; HEARTBEAT and SERVICE_CHANGE replies;
			      * HEARTBEAT from the controller */
	IQP_N_HEARTBEAT_AGW,
	IQP_N_SC_AGW,
	IQP_N_SC_CTL,
	IQP_N_NODE_STATUS,
	IQP_N_ACK,
	IQP_N_AUDIT_REQ,
	IQP_N_AUDIT_REPLY,
	IQP_N_RESERVE_REQ,
	IQP_N_CONFIGURE_REQ,
	IQP_N_MODIFY_REQ,
	IQP_N_RELEASE_REQ,
	IQP_N_CALL_REPLY,    /* RESERVE, CONFIGURE, MODIFY replies */
	IQP_N_RELEASE_REPLY,
	IQP_N_EVENT,
	IQP_N_CLOSE,
	/* Nested nodes that patch or replace the registry. */
	IQP_N_LINK_PARAMS_OK,
	IQP_N_REALM_REG,
	IQP_N_REALM_STATUS,
	IQP_N_AUDIT_CONTEXT,
	IQP_N_AUDIT_TERM,
	IQP_N_EVENT_ELEM,
	IQP_N_EVENT_STREAM,
	/* 8.7 columns, for CONTEXT, TERMINATION, STREAM, ICE and DTLS. */
	IQP_N_COL_RV,
	IQP_N_COL_CF,
	IQP_N_COL_MD,
	IQP_N_COL_RL,
	IQP_N_COL_RP,
	IQP_N_COL_AU,
	IQP_N_COUNT,
};

#define IQP_RF_ONLY_IF 0x01u /* permitted only when cond holds (2c) */
#define IQP_RF_REQ_IF 0x02u  /* min applies only when cond holds (3) */
#define IQP_RF_W3 0x04u      /* W3 terminations only: 473 in pass 4 */
#define IQP_RF_IMS 0x08u     /* IMS terminations only: 473 in pass 4 */
#define IQP_RF_PORT0 0x10u   /* ipport: port 0 ("any port") acceptable here */

/* One permitted child of a node. */
struct iqp_rule {
	uint16_t code;
	uint16_t min, max;   /* cardinality per parent instance */
	uint8_t node;        /* node for the child's own children */
	uint8_t cond;        /* enum iqp_cond, with IQP_RF_ONLY_IF/REQ_IF */
	uint8_t flags;       /* IQP_RF_* */
	uint32_t values;     /* enum values acceptable here (bit v); 0: all */
};

/* Maximum permitted children of any node (checked by the unit test). */
#define IQP_SCHEMA_MAX_RULES 48

/* Top-level node of a frame's body, from its header and sender role.
 * Returns 0, or ENOENT for a REPLY whose code this node does not know. */
int iqp_schema_form(const struct iqp_header *h, unsigned sender,
		    unsigned *node);

/* The rule for child `code` in `node` under a parent of code parent_code
 * (0 at the top level).  False when the child is never permitted there;
 * conditions (IQP_RF_ONLY_IF) are the caller's to evaluate. */
bool iqp_schema_rule(unsigned node, uint16_t parent_code, uint16_t code,
		     struct iqp_rule *out);

/* Every permitted child of (node, parent_code), in ascending code order.
 * Writes at most max rules; returns how many there are. */
size_t iqp_schema_rules(unsigned node, uint16_t parent_code,
			struct iqp_rule *out, size_t max);

const char *iqp_schema_node_name(unsigned node);

#endif
