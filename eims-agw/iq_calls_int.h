/* Internals shared by iq_calls.c (the commands) and iq_call_params.c
 * (pass-4 checks and parameter application): error holder, element
 * getters, reply helpers. */
#ifndef AGW_IQ_CALLS_INT_H
#define AGW_IQ_CALLS_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "iq_calls.h"

/* A pass-4 failure: code of 10.3 and the element at fault. */
struct call_err {
	unsigned code;
	const struct iqp_elem *e;
	char text[96];
};

__attribute__((format(printf, 4, 5)))
static inline int bad(struct call_err *ce, unsigned code, const struct iqp_elem *e,
		      const char *fmt, ...)
{
	va_list ap;

	ce->code = code;
	ce->e = e;
	va_start(ap, fmt);
	vsnprintf(ce->text, sizeof(ce->text), fmt, ap);
	va_end(ap);
	return (int)code;
}

static inline uint32_t get_u32(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code,
			       uint32_t dflt)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	uint32_t v;
	return e && !iqp_elem_u32(e, &v) ? v : dflt;
}

static inline uint16_t get_u16(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code,
			       uint16_t dflt)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	uint16_t v;
	return e && !iqp_elem_u16(e, &v) ? v : dflt;
}

static inline uint8_t get_enum(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code,
			       uint8_t dflt)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	uint8_t v;
	return e && !iqp_elem_enum(e, &v) ? v : dflt;
}

/* 1 true, 0 false, -1 absent. */
static inline int get_bool(const struct iqp_msg *m, const struct iqp_elem *p, uint16_t code)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	bool v;
	return e && !iqp_elem_bool(e, &v) ? v : -1;
}

#define EACH(e, m, p, code) \
	for (const struct iqp_elem *e = iqp_find(m, p, code); e; e = iqp_next_same(e))

/* iq_calls.c: replies and lookups shared by the commands. */
int iqc_reply_start(struct iqp_msg *r, const struct iqp_msg *req, unsigned flags);
void iqc_reply_error(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *req,
		     const struct call_err *ce);
/* Sends r (freed) or, if building it failed, error 500. */
void iqc_reply_send(struct iq_calls *c, struct iqp_link *l, struct iqp_msg *r,
		    const struct iqp_msg *req);
/* CONTEXT_ID of the request: 410, or 411 when unknown or another link's. */
int iqc_find_ctx(struct iq_calls *c, struct iqp_link *l, const struct iqp_msg *m,
		 const struct iqp_elem *ctxe, struct media_ctx **out, struct call_err *ce);
/* TERM_ID in ctx: 410, 430, or 435 when in another context. */
int iqc_find_term(struct iq_calls *c, const struct iqp_msg *m, const struct iqp_elem *te,
		  struct media_ctx *ctx, struct media_term **out, struct call_err *ce);

/* iq_admin.c: SERVICE_CHANGE from the controller (7.7, 7.8, 11.4), and
 * the admission of a command of code cmd with CONTEXT ctxe: by the
 * administrative state (7.1 table: 521, 503) and the overload level (7.6:
 * 511); new_ctx: a RESERVE creating a context. */
void iqc_on_service_change(void *arg, struct iqp_link *l, const struct iqp_msg *m);
int iqc_admit(struct iq_calls *c, const struct iqp_msg *m, const struct iqp_elem *ctxe,
	      unsigned cmd, bool new_ctx, struct call_err *ce);

/* iq_audit.c */
void iqc_on_audit(void *arg, struct iqp_link *l, const struct iqp_msg *m);

/* iq_calls_release.c */
void iqc_on_release(void *arg, struct iqp_link *l, const struct iqp_msg *m);

/* iq_call_params.c */
const struct iqp_realm *iqc_realm_find(const struct iq_calls *c, const struct iqp_msg *m,
				       const struct iqp_elem *e, unsigned *index);
/* 473 for elements of the wrong termination kind (8.7 suffixes w, i),
 * children of parent checked against column node. */
int iqc_check_kind_walk(const struct iqp_elem *parent, unsigned node, uint8_t kind,
			struct call_err *ce);
/* Streams of one TERMINATION (t NULL: new). */
int iqc_check_streams(struct iq_calls *c, const struct iqp_msg *m, const struct iqp_elem *te,
		      uint8_t kind, const struct media_term *t, unsigned cmd, struct call_err *ce);
/* ICE, DTLS, RTCP_MUX, BUNDLE of a W3 TERMINATION (t NULL: new). */
int iqc_check_w3(const struct iqp_msg *m, const struct iqp_elem *te, const struct media_term *t,
		 unsigned cmd, struct call_err *ce);
/* 8.1 item 3 and 8.11 item 3 over the request (ctx NULL: new context). */
int iqc_check_connections(const struct iqp_msg *m, const struct iqp_elem *ctxe,
			  const struct media_ctx *ctx, struct call_err *ce);
/* Applies checked parameters; true when the DTLS association was renewed. */
bool iqc_apply_term(const struct iqp_msg *m, const struct iqp_elem *te, struct media_term *t);
/* Codec maps, state transitions and timers after a change. */
void iqc_after_apply(struct media_ctx *ctx);

#endif
