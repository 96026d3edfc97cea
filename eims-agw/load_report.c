/* Load reporting rules of the AGW (proto/SPEC.md 7.6). */
#include "load_report.h"

#include <errno.h>
#include <string.h>

int load_thresholds_check(const struct load_thresholds *t)
{
	return t->minor > 0 && t->minor < t->major && t->major < t->critical &&
	       t->critical <= 100 ? 0 : EINVAL;
}

unsigned load_percent(uint64_t used, uint64_t cap)
{
	if (!cap)
		return 0;
	if (used >= cap)
		return 100;
	return (unsigned)(used * 100 / cap);
}

uint8_t load_level(const struct load_thresholds *t, unsigned pct, uint8_t current)
{
	const unsigned start[3] = { t->minor, t->major, t->critical };
	uint8_t level = LOAD_NONE;

	for (unsigned i = 0; i < 3; i++) {
		uint8_t l = (uint8_t)(LOAD_MINOR + i);
		/* Entered at the threshold; kept down to LOAD_HYSTERESIS below. */
		unsigned keep = start[i] > LOAD_HYSTERESIS ? start[i] - LOAD_HYSTERESIS : 0;
		if (pct >= start[i] || (current >= l && pct >= keep))
			level = l;
	}
	return level;
}

uint8_t load_admit_percent(uint8_t level)
{
	return level >= LOAD_CRITICAL ? 0 : level == LOAD_MAJOR ? 50 : 100;
}

void load_report_reset(struct load_report *r)
{
	memset(r, 0, sizeof(*r));
}

void load_report_told(struct load_report *r, const struct iqp_load *cur)
{
	r->told = true;
	r->last = *cur;
}

void load_report_sent(struct load_report *r, const struct iqp_load *cur, uint64_t now)
{
	load_report_told(r, cur);
	r->status_sent = true;
	r->status_ms = now;
}

/* |a - b| more than 10 % of cap (cap 0: never). */
static bool moved(uint32_t a, uint32_t b, uint32_t cap)
{
	uint64_t d = a > b ? a - b : b - a;
	return cap && d * 10 > cap;
}

bool load_report_due(const struct load_report *r, const struct iqp_load *cur,
		     const struct load_capacity *cap, uint64_t now, uint64_t *retry_at)
{
	const struct iqp_load *l = &r->last;

	*retry_at = 0;
	if (!r->told)
		return false; /* not registered: REGISTER carries the load */
	if (cur->overload_level > l->overload_level)
		return true; /* at once (7.6 item 2) */
	bool change = cur->overload_level != l->overload_level ||
		      cur->admit_percent != l->admit_percent ||
		      moved(cur->active_contexts, l->active_contexts, cap->contexts) ||
		      moved(cur->free_ports, l->free_ports, cap->ports) ||
		      moved(cur->cpu_load, l->cpu_load, 100);
	if (!change)
		return false;
	if (r->status_sent && now < r->status_ms + LOAD_T_STATUS_MIN_MS) {
		*retry_at = r->status_ms + LOAD_T_STATUS_MIN_MS;
		return false;
	}
	return true;
}
