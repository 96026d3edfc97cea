/* NODE_STATUS and overload of an AGW (SPEC.md 7.6, 11.5): reports when a
 * LOAD figure moves by more than 10 % of capacity, at most one per
 * T_STATUS_MIN; a rising OVERLOAD_LEVEL reported at once; CRITICAL refuses
 * new non-priority contexts with 511. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_agw.h"

#define T_STATUS_MIN 1000
#define SLACK_MS 50       /* clock granularity between the AGW's sends */

/* A NODE_STATUS after index `from` whose ACTIVE_CONTEXTS is between lo and hi. */
struct status_wait {
	unsigned from;
	uint32_t lo, hi;
};

static bool status_seen(const struct cf_ctx *x, void *arg)
{
	const struct status_wait *w = arg;
	for (unsigned i = w->from; i < x->n_status; i++) {
		const struct iqp_load *l = &x->status[i % CF_SEEN].load;
		if ((l->has & IQP_LOAD_ACTIVE) && l->active_contexts >= w->lo &&
		    l->active_contexts <= w->hi)
			return true;
	}
	return false;
}

static uint8_t level_of(const struct cf_status *s)
{
	return (s->load.has & IQP_LOAD_LEVEL) ? s->load.overload_level : 1;
}

/* 7.6 item 2: NODE_STATUS at most once per T_STATUS_MIN, except when the
 * level rose.  Statuses from index `from` on (the last CF_SEEN). */
static enum cf_result spacing(const struct cf_ctx *x, unsigned from, char *why, size_t len)
{
	if (x->n_status > CF_SEEN && from < x->n_status - CF_SEEN)
		from = x->n_status - CF_SEEN;
	for (unsigned i = from + 1; i < x->n_status; i++) {
		const struct cf_status *a = &x->status[(i - 1) % CF_SEEN], *b = &x->status[i % CF_SEEN];
		long long gap = a->has_ts && b->has_ts ? (long long)(b->ts - a->ts) : b->rx_ms - a->rx_ms;
		if (level_of(b) <= level_of(a) && gap < T_STATUS_MIN - SLACK_MS) {
			snprintf(why, len, "two NODE_STATUS %lld ms apart without a level rise "
				 "(T_STATUS_MIN 1 s)", gap);
			return CF_FAIL;
		}
	}
	return CF_PASS;
}

/* ACTIVE_CONTEXTS now, from an AUDIT CAPABILITIES (its LOAD). */
static int active_now(struct cf_ctx *x, uint32_t *n, char *why, size_t len)
{
	struct cf_msg b;
	struct cf_frame f;
	struct iqp_msg m;
	struct iqp_load l;
	const struct iqp_elem *e;

	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_AUDIT, 0);
	iqp_add_enum(&b.m, NULL, IQP_E_AUDIT_SCOPE, IQP_AUDIT_CAPABILITIES);
	int rc = cf_agw_call(x, &b, &f, &m, why, len);
	if (!rc) {
		if ((e = iqp_find(&m, NULL, IQP_E_LOAD)) && (iqp_link_reg_load(&m, e, &l), 1) &&
		    (l.has & IQP_LOAD_ACTIVE))
			*n = l.active_contexts;
		else
			rc = EBADMSG, snprintf(why, len, "AUDIT CAPABILITIES without LOAD ACTIVE_CONTEXTS");
	}
	cf_agw_call_free(&f, &m);
	return rc;
}

/* 7.6 item 2, 11.5: more than 10 % of MAX_CONTEXTS more contexts bring a
 * NODE_STATUS (within T_STATUS_MIN) whose ACTIVE_CONTEXTS is within 10 % of
 * MAX_CONTEXTS of the new count, and so does their release; never two
 * within T_STATUS_MIN without a level rise; every NODE_STATUS valid.  A
 * status sent part way through (another LOAD figure, CPU_LOAD say, moved)
 * resets what "changed" is measured from, so the last one reported may
 * trail the count by up to 10 %: only a larger gap is a failure. */
enum cf_result cf_a_node_status(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t base = 0, *ids = NULL;
	unsigned n, done = 0, from = x->n_status;
	int e;

	LINK();
	n = x->agw.max_contexts / 10 + 1;
	if (n > 1000 || !cf_agw_ims_realm(x)) {
		snprintf(why, len, "needs an IMS realm and MAX_CONTEXTS <= 9990 (has %u)",
			 x->agw.max_contexts);
		return CF_SKIP;
	}
	if (!(ids = calloc(n, sizeof(*ids))) || active_now(x, &base, why, len)) {
		rc = CF_FAIL;
		goto out;
	}
	if ((e = cf_agw_reserve_many(x, n, 1, NULL, ids, &done, why, len))) {
		if (e > 0)
			snprintf(why, len, "RESERVE %u of %u refused: %d", done + 1, n, e);
		rc = CF_FAIL;
		goto out;
	}
	uint32_t tenth = x->agw.max_contexts / 10;
	struct status_wait up = { from, base + n - tenth, base + n };
	char t[256];
	if (!cf_agw_wait(x, T_STATUS_MIN + 2000, status_seen, &up, t, sizeof(t)))
		FAIL("no NODE_STATUS with ACTIVE_CONTEXTS %u-%u after %u more contexts (10 %% of %u)%s%s",
		     up.lo, up.hi, n, x->agw.max_contexts, t[0] ? ": " : "", t);
	unsigned mid = x->n_status;
	if (cf_agw_release(x, IQP_ALL, 0, why, len) != CF_PASS) {
		rc = CF_FAIL;
		goto out;
	}
	done = 0;
	struct status_wait down = { mid, base, base + tenth };
	if (!cf_agw_wait(x, T_STATUS_MIN + 2000, status_seen, &down, t, sizeof(t)))
		FAIL("no NODE_STATUS with ACTIVE_CONTEXTS %u-%u after their release%s%s", down.lo,
		     down.hi, t[0] ? ": " : "", t);
	if (x->agw_bad[0])
		FAIL("invalid frame from the AGW: %s", x->agw_bad);
	if (spacing(x, from, why, len) != CF_PASS) {
		rc = CF_FAIL;
		goto out;
	}
	snprintf(why, len, "%u contexts up and down: %u NODE_STATUS", n, x->n_status - from);
out:
	if (done && x->linked)
		cf_agw_cleanup_release(x, IQP_ALL, &rc, why, len);
	free(ids);
	return rc;
}

/* A RESERVE of a new IMS context with EMERGENCY or PRIORITY; the answer
 * must be `want`; *id its CONTEXT_ID. */
static enum cf_result reserve_prio(struct cf_ctx *x, bool emergency, uint8_t prio, unsigned want,
				   char *why, size_t len)
{
	struct cf_msg b;
	cf_agw_reserve_ims(x, &b, cf_agw_ims_realm(x));
	if (emergency)
		iqp_add_bool(&b.m, b.m.first, IQP_E_EMERGENCY, true);
	if (prio)
		iqp_add_u8(&b.m, b.m.first, IQP_E_PRIORITY, prio);
	return cf_agw_answered(x, &b, want, why, len);
}

/* 7.6 items 2-4: contexts are added one at a time until the AGW reports
 * CRITICAL: each rise of OVERLOAD_LEVEL comes in a NODE_STATUS at once
 * (its ACTIVE_CONTEXTS is the count at the RESERVE that caused it); at
 * CRITICAL a non-priority RESERVE gets 511, EMERGENCY and PRIORITY 8 are
 * admitted; after the release the level falls back to NONE. */
enum cf_result cf_a_overload(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	uint32_t base = 0, id;
	unsigned done = 0, from = x->n_status, seen = from, max = x->agw.max_contexts;
	uint8_t top = 1, prev = 1;
	char rises[128] = "";
	int e = 0;

	LINK();
	if (!cf_agw_ims_realm(x) || max > 2000) {
		snprintf(why, len, "needs an IMS realm and MAX_CONTEXTS <= 2000 (has %u)", max);
		return CF_SKIP;
	}
	if (active_now(x, &base, why, len))
		return CF_FAIL;
	if (x->n_status)
		prev = top = level_of(&x->status[(x->n_status - 1) % CF_SEEN]);
	uint32_t start_mark = x->mark;
	for (;;) {
		unsigned one = 0;
		e = cf_agw_reserve_many(x, 1, 1, NULL, &id, &one, why, len);
		done += one;
		/* Statuses read while waiting for that reply. */
		for (; seen < x->n_status; seen++) {
			const struct cf_status *s = &x->status[seen % CF_SEEN];
			uint8_t l = level_of(s);
			uint32_t at = base + (s->mark - start_mark);
			if (l > prev) {
				if (!(s->load.has & IQP_LOAD_ACTIVE) || s->load.active_contexts + 1 < at ||
				    s->load.active_contexts > at + 1)
					FAIL("level %u reported with ACTIVE_CONTEXTS %u, %u contexts existed "
					     "then: not at once", l, s->load.active_contexts, at);
				snprintf(rises + strlen(rises), sizeof(rises) - strlen(rises), "%s%u@%u",
					 rises[0] ? ", " : "", l, s->load.active_contexts);
			}
			prev = l;
			if (l > top)
				top = l;
		}
		if (e || top >= 4)
			break;
	}
	if (e < 0) {
		rc = CF_FAIL;
		goto out;
	}
	if (top < 4) {
		snprintf(why, len, "RESERVE %u refused with %d before any CRITICAL (levels: %s)", done + 1,
			 e, rises[0] ? rises : "none");
		rc = e == 510 ? CF_SKIP : CF_FAIL; /* 511 without CRITICAL reported: wrong */
		goto out;
	}
	if (reserve_prio(x, false, 0, 511, why, len) != CF_PASS)
		FAIL_WHY("at CRITICAL, a non-priority RESERVE: %s");
	if (base + done + 2 < max) {
		if (reserve_prio(x, true, 0, 0, why, len) != CF_PASS ||
		    reserve_prio(x, false, 8, 0, why, len) != CF_PASS)
			FAIL_WHY("at CRITICAL, EMERGENCY or PRIORITY 8 (7.6 item 4, SHOULD): %s");
	}
	unsigned mid = x->n_status;
	if (cf_agw_release(x, IQP_ALL, 0, why, len) != CF_PASS) {
		rc = CF_FAIL;
		goto out;
	}
	done = 0;
	struct status_wait down = { mid, 0, base };
	char t[256];
	if (!cf_agw_wait(x, T_STATUS_MIN + 2000, status_seen, &down, t, sizeof(t)))
		FAIL("no NODE_STATUS after the release%s%s", t[0] ? ": " : "", t);
	const struct cf_status *last = &x->status[(x->n_status - 1) % CF_SEEN];
	if (base == 0 && level_of(last) != 1)
		FAIL("after the release the level is still %u", level_of(last));
	if (x->agw_bad[0])
		FAIL("invalid frame from the AGW: %s", x->agw_bad);
	if (spacing(x, from, why, len) != CF_PASS) {
		rc = CF_FAIL;
		goto out;
	}
	snprintf(why, len, "levels (level@contexts) %s; 511 at CRITICAL", rises);
out:
	if (done && x->linked)
		cf_agw_cleanup_release(x, IQP_ALL, &rc, why, len);
	return rc;
}
