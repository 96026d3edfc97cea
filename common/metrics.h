/* Prometheus metrics registry.  Series are registered once (at start-up or
 * when a new label value first appears) and updated in place: updating a
 * series never allocates.  The registry is owned by the daemon root and
 * rendered by metrics_render (text format 0.0.4) on each scrape. */
#ifndef COMMON_METRICS_H
#define COMMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

#define METRIC_MAX_LABELS 3

struct metric {
	struct metric *next;      /* registry order; owned by the registry */
	const char *name;         /* borrowed static string */
	const char *help;         /* borrowed static string */
	enum metric_type type;
	unsigned n_labels;
	const char *label_key[METRIC_MAX_LABELS]; /* borrowed static */
	char *label_val[METRIC_MAX_LABELS];       /* owned copies */
	double value;
	double (*fn)(void *arg);  /* if set, value is read at scrape time */
	void *fn_arg;
};

struct metrics {
	struct metric *head, *tail;
	size_t n;
	size_t max_series; /* bound on label cardinality from the network */
	double start_time; /* unix time, for process_start_time_seconds */
};

void metrics_init(struct metrics *m, size_t max_series);
void metrics_free(struct metrics *m);

/* Registers a series.  Labels are (key, value) pairs ending with NULL.
 * Returns NULL on ENOMEM, when the cardinality bound is reached, or on a
 * bad name; the caller keeps counting nothing rather than failing. */
struct metric *metrics_add(struct metrics *m, const char *name,
			   const char *help, enum metric_type type, ...);

/* Registers a series whose value comes from fn at scrape time. */
struct metric *metrics_add_fn(struct metrics *m, const char *name,
			      const char *help, enum metric_type type,
			      double (*fn)(void *arg), void *arg);

/* Finds a series by name and label values (same order as registered),
 * registering it on first use. */
struct metric *metrics_get(struct metrics *m, const char *name,
			   const char *help, enum metric_type type,
			   const char *k1, const char *v1);

static inline void metric_inc(struct metric *s)
{
	if (s)
		s->value += 1;
}
static inline void metric_add(struct metric *s, double v)
{
	if (s)
		s->value += v;
}
static inline void metric_set(struct metric *s, double v)
{
	if (s)
		s->value = v;
}

/* Renders the registry into a heap buffer (*out, caller frees).  Returns
 * 0 or ENOMEM. */
int metrics_render(const struct metrics *m, char **out, size_t *len);

/* Standard process_* series (start time, CPU, RSS, open fds). */
int metrics_add_process(struct metrics *m);

#endif
