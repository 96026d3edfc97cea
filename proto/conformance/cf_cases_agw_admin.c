/* SERVICE_CHANGE toward an AGW and what it reports of its own state
 * (SPEC.md 7.1, 7.7, 7.8, 11.4): drain, out of service, restoration, the
 * state surviving a link loss. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cf_agw.h"

/* Our SERVICE_CHANGE; the answer must carry `want` (0: success, and the
 * suite's view of the AGW's state follows, 7.1.2). */
static enum cf_result sc(struct cf_ctx *x, uint8_t method, uint16_t reason, uint32_t delay,
			 unsigned want, char *why, size_t len)
{
	struct cf_msg b;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, 0);
	iqp_add_enum(&b.m, NULL, IQP_E_SC_METHOD, method);
	iqp_add_u16(&b.m, NULL, IQP_E_SC_REASON, reason);
	if (delay)
		iqp_add_u32(&b.m, NULL, IQP_E_SC_DELAY, delay);
	enum cf_result r = cf_agw_answered(x, &b, want, why, len);
	if (r == CF_PASS && !want)
		x->agw_state = method == IQP_SC_GRACEFUL ? CF_DRAINING
			     : method == IQP_SC_FORCED ? CF_OUT_OF_SERVICE : CF_IN_SERVICE;
	if (r != CF_PASS) {
		char t[512];
		snprintf(t, sizeof(t), "SERVICE_CHANGE %u/%u: %s", method, reason, why);
		snprintf(why, len, "%s", t);
	}
	return r;
}

/* A RESERVE of a new IMS context; its CONTEXT_ID in *id (0 if refused). */
static enum cf_result reserve(struct cf_ctx *x, uint32_t *id, unsigned want, char *why, size_t len)
{
	unsigned done = 0;
	int e = cf_agw_reserve_many(x, 1, 1, NULL, id, &done, why, len);

	if (!done)
		*id = 0;
	if (e < 0)
		return CF_FAIL;
	if ((unsigned)e != want) {
		if (e)
			snprintf(why, len, "RESERVE of a new context: %d, want %u", e, want);
		else
			snprintf(why, len, "RESERVE of a new context succeeded, want %u", want);
		return CF_FAIL;
	}
	return CF_PASS;
}

/* A RESERVE adding one IMS termination to context id. */
static enum cf_result reserve_into(struct cf_ctx *x, uint32_t id, unsigned want, char *why,
				   size_t len)
{
	struct cf_msg b2;
	struct iqp_elem *c2, *t2, *st, *codec;
	cf_msg_start(x, &b2, IQP_KIND_REQUEST, IQP_MSG_RESERVE, 0);
	iqp_add_container(&b2.m, NULL, IQP_E_CONTEXT, &c2);
	iqp_add_u32(&b2.m, c2, IQP_E_CONTEXT_ID, id);
	iqp_add_container(&b2.m, c2, IQP_E_TERMINATION, &t2);
	iqp_add_u32(&b2.m, t2, IQP_E_TERM_ID, IQP_CHOOSE);
	iqp_add_enum(&b2.m, t2, IQP_E_TERM_KIND, IQP_TERM_IMS);
	iqp_add_str(&b2.m, t2, IQP_E_REALM_NAME, cf_agw_ims_realm(x));
	iqp_add_container(&b2.m, t2, IQP_E_STREAM, &st);
	iqp_add_u16(&b2.m, st, IQP_E_STREAM_ID, 1);
	iqp_add_enum(&b2.m, st, IQP_E_MEDIA_TYPE, IQP_MEDIA_AUDIO);
	iqp_add_enum(&b2.m, st, IQP_E_TRANSPORT_PROTO, 1);
	iqp_add_container(&b2.m, st, IQP_E_CODEC, &codec);
	iqp_add_u8(&b2.m, codec, IQP_E_PAYLOAD_TYPE, 0);
	iqp_add_str(&b2.m, codec, IQP_E_CODEC_NAME, "PCMU");
	iqp_add_u32(&b2.m, codec, IQP_E_CLOCK_RATE, 8000);
	return cf_agw_answered(x, &b2, want, why, len);
}

/* A SERVICE_CHANGE from the AGW after index `from` of x->sc. */
struct sc_wait {
	unsigned from;
	uint8_t method;
	uint16_t reason;
};

static bool sc_seen(const struct cf_ctx *x, void *arg)
{
	const struct sc_wait *w = arg;
	for (unsigned i = w->from; i < x->n_sc; i++) {
		const struct cf_sc *s = &x->sc[i % CF_SEEN];
		if (s->method == w->method && s->reason == w->reason)
			return true;
	}
	return false;
}

static enum cf_result expect_sc(struct cf_ctx *x, unsigned from, uint8_t method, uint16_t reason,
				int timeout_ms, char *why, size_t len)
{
	struct sc_wait w = { from, method, reason };
	char t[256];

	if (cf_agw_wait(x, timeout_ms, sc_seen, &w, t, sizeof(t)))
		return CF_PASS;
	snprintf(why, len, "no SERVICE_CHANGE %u/%u from the AGW within %d ms%s%s", method, reason,
		 timeout_ms, t[0] ? ": " : "", t);
	return CF_FAIL;
}

/* Every SERVICE_CHANGE the AGW sent since `from` was accepted. */
static enum cf_result all_accepted(const struct cf_ctx *x, unsigned from, char *why, size_t len)
{
	for (unsigned i = from; i < x->n_sc; i++) {
		const struct cf_sc *s = &x->sc[i % CF_SEEN];
		if (s->answer) {
			snprintf(why, len, "the AGW sent SERVICE_CHANGE %u/%u that does not fit (%u)",
				 s->method, s->reason, s->answer);
			return CF_FAIL;
		}
	}
	return CF_PASS;
}

static bool no_ims(struct cf_ctx *x, char *why, size_t len)
{
	if (cf_agw_ims_realm(x))
		return false;
	snprintf(why, len, "the AGW registered no realm serving IMS");
	return true;
}

#define STEP(e) do { if ((e) != CF_PASS) { rc = CF_FAIL; goto out; } } while (0)

static bool never(const struct cf_ctx *x, void *arg)
{
	(void)x;
	(void)arg;
	return false;
}

/* Leaves the AGW IN_SERVICE and without our contexts, whatever happened:
 * what it still sends of its own (a FORCED at the end of a drain) is read
 * first. */
static void cleanup(struct cf_ctx *x, enum cf_result *rc, char *why, size_t len)
{
	char keep[512], t[256];
	snprintf(keep, sizeof(keep), "%s", why);
	for (int i = 0; i < 3 && x->linked && x->agw_state != CF_IN_SERVICE; i++) {
		cf_agw_wait(x, 300, never, NULL, t, sizeof(t));
		if (x->agw_state != CF_IN_SERVICE)
			sc(x, IQP_SC_RESTART, x->agw_state == CF_DRAINING ? 918 : 900, 0, 0, why, len);
	}
	if (x->linked && (x->agw_state != CF_IN_SERVICE ||
			  cf_agw_release(x, IQP_ALL, 0, why, len) != CF_PASS) && *rc == CF_PASS)
		*rc = CF_FAIL;
	else
		snprintf(why, len, "%s", keep);
}

/* 7.7 items 2, 3, 5: GRACEFUL 905 from the controller: a new context is
 * refused with 521, the existing one still takes a RESERVE; RESTART 918
 * restores, and new contexts are taken again. */
enum cf_result cf_a_drain(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t a = 0, b = 0;
	unsigned from = x->n_sc;

	LINK();
	if (no_ims(x, why, len))
		return CF_SKIP;
	STEP(reserve(x, &a, 0, why, len));
	STEP(sc(x, IQP_SC_GRACEFUL, 905, 0, 0, why, len));
	STEP(reserve(x, &b, 521, why, len));
	STEP(reserve_into(x, a, 0, why, len));
	STEP(sc(x, IQP_SC_RESTART, 918, 0, 0, why, len));
	STEP(reserve(x, &b, 0, why, len));
	STEP(all_accepted(x, from, why, len));
	if (x->n_sc != from)
		FAIL("the AGW sent a SERVICE_CHANGE while a context was left");
	snprintf(why, len, "context %u kept, 521 while draining, %u after RESTART 918", a, b);
out:
	cleanup(x, &rc, why, len);
	return rc;
}

/* 7.7 item 4, 7.8 item 3: draining, the release of the last context makes
 * the AGW send FORCED 905; out of service it refuses RESERVE with 503 but
 * serves HEARTBEAT and AUDIT; RESTART 900 restores. */
enum cf_result cf_a_drain_last_release(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t a = 0, b = 0;
	unsigned from = x->n_sc;
	struct cf_msg m;

	LINK();
	if (no_ims(x, why, len))
		return CF_SKIP;
	STEP(reserve(x, &a, 0, why, len));
	STEP(sc(x, IQP_SC_GRACEFUL, 905, 0, 0, why, len));
	STEP(cf_agw_release(x, a, 0, why, len));
	STEP(expect_sc(x, from, IQP_SC_FORCED, 905, 5000, why, len));
	STEP(all_accepted(x, from, why, len));
	STEP(reserve(x, &b, 503, why, len));
	cf_msg_start(x, &m, IQP_KIND_REQUEST, IQP_MSG_AUDIT, 0);
	iqp_add_enum(&m.m, NULL, IQP_E_AUDIT_SCOPE, IQP_AUDIT_CONTEXT_LIST);
	STEP(cf_agw_answered(x, &m, 0, why, len));
	STEP(sc(x, IQP_SC_RESTART, 900, 0, 0, why, len));
	STEP(reserve(x, &b, 0, why, len));
	snprintf(why, len, "FORCED 905 after the last RELEASE, 503, then context %u", b);
out:
	cleanup(x, &rc, why, len);
	return rc;
}

/* 7.7 item 4: at SC_DELAY the AGW releases what is left and sends FORCED
 * 905; the context is gone (411). */
enum cf_result cf_a_drain_delay(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t a = 0;
	unsigned from = x->n_sc;
	long long t0;

	LINK();
	if (no_ims(x, why, len))
		return CF_SKIP;
	STEP(reserve(x, &a, 0, why, len));
	t0 = cf_now_ms();
	STEP(sc(x, IQP_SC_GRACEFUL, 905, 1, 0, why, len));
	STEP(expect_sc(x, from, IQP_SC_FORCED, 905, 6000, why, len));
	long long took = cf_now_ms() - t0;
	if (took < 900)
		FAIL("FORCED after %lld ms, before SC_DELAY (1 s)", took);
	STEP(all_accepted(x, from, why, len));
	STEP(cf_agw_release(x, a, 411, why, len));
	STEP(sc(x, IQP_SC_RESTART, 900, 0, 0, why, len));
	snprintf(why, len, "FORCED 905 after %lld ms, context %u gone", took, a);
out:
	cleanup(x, &rc, why, len);
	return rc;
}

/* 7.8 item 2, 7.1: FORCED 905 from the controller releases every context
 * of the link, without EVENTs; then RESERVE and CONFIGURE get 503 and
 * RELEASE 411; RESTART 900 restores. */
enum cf_result cf_a_forced(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t a = 0, b = 0, c = 0;
	unsigned events = x->n_events;
	struct cf_msg m;
	struct iqp_elem *ctx, *t;

	LINK();
	if (no_ims(x, why, len))
		return CF_SKIP;
	STEP(reserve(x, &a, 0, why, len));
	STEP(reserve(x, &b, 0, why, len));
	STEP(sc(x, IQP_SC_FORCED, 905, 0, 0, why, len));
	STEP(cf_agw_release(x, a, 411, why, len));
	STEP(cf_agw_release(x, b, 411, why, len));
	STEP(reserve(x, &c, 503, why, len));
	cf_msg_start(x, &m, IQP_KIND_REQUEST, IQP_MSG_CONFIGURE, 0);
	iqp_add_container(&m.m, NULL, IQP_E_CONTEXT, &ctx);
	iqp_add_u32(&m.m, ctx, IQP_E_CONTEXT_ID, a);
	iqp_add_container(&m.m, ctx, IQP_E_TERMINATION, &t);
	iqp_add_u32(&m.m, t, IQP_E_TERM_ID, 1);
	STEP(cf_agw_answered(x, &m, 503, why, len));
	if (x->n_events != events)
		FAIL("%u EVENTs about the released contexts (7.8 item 2: none)", x->n_events - events);
	STEP(sc(x, IQP_SC_RESTART, 900, 0, 0, why, len));
	STEP(reserve(x, &c, 0, why, len));
	snprintf(why, len, "contexts %u and %u released, then %u", a, b, c);
out:
	cleanup(x, &rc, why, len);
	return rc;
}

/* 11.4: a SERVICE_CHANGE that does not fit the state is refused with 401,
 * a method/reason not permitted from a controller with 449. */
enum cf_result cf_a_sc_refused(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;

	unsigned from = x->n_sc;

	LINK();
	STEP(sc(x, IQP_SC_RESTART, 918, 0, 401, why, len));
	STEP(sc(x, IQP_SC_RESTART, 900, 0, 401, why, len));
	STEP(sc(x, IQP_SC_GRACEFUL, 908, 0, 449, why, len));
	STEP(sc(x, IQP_SC_FORCED, 904, 0, 449, why, len));
	/* Drained without a context: out of service at once (7.7 item 4). */
	STEP(sc(x, IQP_SC_GRACEFUL, 905, 0, 0, why, len));
	STEP(expect_sc(x, from, IQP_SC_FORCED, 905, 5000, why, len));
	STEP(sc(x, IQP_SC_GRACEFUL, 905, 0, 401, why, len));
	STEP(sc(x, IQP_SC_RESTART, 918, 0, 401, why, len));
	STEP(sc(x, IQP_SC_RESTART, 900, 0, 0, why, len));
	snprintf(why, len, "401 and 449 as in 11.4; GRACEFUL without contexts: FORCED 905");
out:
	cleanup(x, &rc, why, len);
	return rc;
}

/* 7.7 item 6: the AGW's state survives a link loss: after it registers
 * again its first request is the SERVICE_CHANGE that restores the
 * controller's view (GRACEFUL while a context is left); the context is
 * kept (same epochs, 7.9), new ones still get 521. */
enum cf_result cf_a_drain_link_loss(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t a = 0, b = 0;
	unsigned from;

	LINK();
	if (no_ims(x, why, len))
		return CF_SKIP;
	STEP(reserve(x, &a, 0, why, len));
	STEP(sc(x, IQP_SC_GRACEFUL, 905, 0, 0, why, len));
	cf_controller_unlink(x); /* link loss (7.10) */
	if (cf_controller_link(x, why, len)) {
		rc = CF_FAIL;
		goto out;
	}
	from = x->n_sc; /* what the AGW sends after REGISTER is read from here on */
	STEP(expect_sc(x, from, IQP_SC_GRACEFUL, 905, 5000, why, len));
	if (x->first_request != IQP_MSG_SERVICE_CHANGE)
		FAIL("first request after registration: code 0x%04x, want SERVICE_CHANGE",
		     x->first_request);
	STEP(all_accepted(x, from, why, len));
	STEP(reserve(x, &b, 521, why, len));
	from = x->n_sc;
	STEP(cf_agw_release(x, a, 0, why, len));
	STEP(expect_sc(x, from, IQP_SC_FORCED, 905, 5000, why, len));
	STEP(sc(x, IQP_SC_RESTART, 900, 0, 0, why, len));
	snprintf(why, len, "GRACEFUL 905 first after re-registration, context %u kept", a);
out:
	cleanup(x, &rc, why, len);
	return rc;
}
