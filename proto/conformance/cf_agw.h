/* Cases run against an AGW (the suite plays the controller): helpers
 * shared by cf_cases_agw.c (framing, errors, call procedures; the case
 * table), cf_cases_agw_audit.c (AUDIT, 7.11), cf_cases_agw_admin.c
 * (SERVICE_CHANGE toward the AGW, 7.7 and 7.8), cf_cases_agw_status.c
 * (NODE_STATUS and overload, 7.6) and cf_cases_agw_redirect.c (redirect
 * and handoff, 7.4). */
#ifndef IQPLUS_CF_AGW_H
#define IQPLUS_CF_AGW_H

#include "cf_suite.h"

#define LINK() do { if (cf_controller_link(x, why, len)) return CF_FAIL; } while (0)

/* A request of ours on the link; its answer must carry error `want`
 * (0: success); the link must still answer a HEARTBEAT afterwards. */
enum cf_result cf_agw_answered(struct cf_ctx *x, struct cf_msg *b, unsigned want, char *why,
			       size_t len);
/* A RESERVE of one IMS termination with one PCMU stream in `realm`. */
void cf_agw_reserve_ims(struct cf_ctx *x, struct cf_msg *b, const char *realm);
/* The AGW's realm serving IMS (W3), from its REGISTER; NULL if none. */
const char *cf_agw_ims_realm(const struct cf_ctx *x);
const char *cf_agw_w3_realm(const struct cf_ctx *x);
/* RELEASE of a context (IQP_ALL: every one of the link), answer `want`. */
enum cf_result cf_agw_release(struct cf_ctx *x, uint32_t ctx_id, unsigned want, char *why,
			      size_t len);
/* A case's clean-up: RELEASE of ctx_id.  Its failure makes a passing *rc a
 * failure with the release's reason (rc NULL: ignored); otherwise `why`,
 * the case's own result, is kept. */
void cf_agw_cleanup_release(struct cf_ctx *x, uint32_t ctx_id, enum cf_result *rc, char *why,
			    size_t len);
/* CONTEXT_ID, TERM_ID and the IMS stream's addresses of a RESERVE reply;
 * false when one is missing. */
bool cf_agw_reserve_reply(const struct cf_frame *f, uint32_t *ctx_id, uint32_t *term_id,
			  struct iqp_ipport *rtp, struct iqp_ipport *rtcp);

/* Sends b on the link and waits for its REPLY.  Returns 0 with a success
 * reply in *f, validated as an AGW's (passes 1-3) into *m; EACCES with an
 * error reply in *f (its code in f->error_code, m unset); or another
 * errno with why (nothing to free; the link is dropped when it failed).
 * Free with cf_agw_call_free. */
int cf_agw_call(struct cf_ctx *x, struct cf_msg *b, struct cf_frame *f, struct iqp_msg *m,
		char *why, size_t len);
void cf_agw_call_free(struct cf_frame *f, struct iqp_msg *m);
/* RESERVE of n contexts of `terms` IMS terminations each (1: as
 * cf_agw_reserve_ims; more: each with one muxed stream) and a CALL_REF
 * from ref_fmt (%u = index) or none; ids[i] their CONTEXT_IDs.  Returns 0,
 * or the error code of the refusal (*done reserved before it), or -1 with
 * why.  Each success adds 1 to x->mark. */
int cf_agw_reserve_many(struct cf_ctx *x, unsigned n, unsigned terms, const char *ref_fmt,
			uint32_t *ids, unsigned *done, char *why, size_t len);

/* Value readers on a decoded message: false when absent or bad. */
bool cf_u32(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code, uint32_t *v);
bool cf_u8(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code, uint8_t *v);
bool cf_bool(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code, bool *v);
/* The element of code anywhere under p (NULL: the whole body), pre-order. */
const struct iqp_elem *cf_find_deep(const struct iqp_msg *m, const struct iqp_elem *p,
				    uint16_t code);

/* cf_cases_agw_audit.c */
cf_case_h cf_a_audit_capabilities, cf_a_audit_list_paging, cf_a_audit_list_frame,
	cf_a_audit_list_elements, cf_a_audit_context, cf_a_audit_statistics, cf_a_audit_unknown;
/* cf_cases_agw_admin.c */
cf_case_h cf_a_drain, cf_a_drain_last_release, cf_a_drain_delay, cf_a_forced, cf_a_sc_refused,
	cf_a_drain_link_loss;
/* cf_cases_agw_redirect.c */
cf_case_h cf_a_redirect, cf_a_redirect_dead, cf_a_redirect_limit, cf_a_handoff;
/* cf_cases_agw_status.c */
cf_case_h cf_a_node_status, cf_a_overload;

#endif
