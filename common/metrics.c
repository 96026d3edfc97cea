/* Prometheus registry and text-format renderer. */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

void metrics_init(struct metrics *m, size_t max_series)
{
	memset(m, 0, sizeof(*m));
	m->max_series = max_series;
}

void metrics_free(struct metrics *m)
{
	struct metric *s = m->head;
	while (s) {
		struct metric *next = s->next;
		for (unsigned i = 0; i < s->n_labels; i++)
			free(s->label_val[i]);
		free(s);
		s = next;
	}
	memset(m, 0, sizeof(*m));
}

static int name_ok(const char *n)
{
	if (!n || !*n || (*n >= '0' && *n <= '9'))
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '_' || *n == ':'))
			return 0;
	return 1;
}

static struct metric *append(struct metrics *m, const char *name,
			     const char *help, enum metric_type type)
{
	if (!name_ok(name) || m->n >= m->max_series)
		return NULL;
	struct metric *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->name = name;
	s->help = help;
	s->type = type;
	/* Keep a family's series together: insert after its last member. */
	struct metric *after = NULL;
	for (struct metric *p = m->head; p; p = p->next)
		if (!strcmp(p->name, name))
			after = p;
	if (after) {
		s->next = after->next;
		after->next = s;
		if (m->tail == after)
			m->tail = s;
	} else if (m->tail) {
		m->tail->next = s;
		m->tail = s;
	} else {
		m->head = m->tail = s;
	}
	m->n++;
	return s;
}

static void unlink_last(struct metrics *m, struct metric *s)
{
	struct metric **pp = &m->head, *prev = NULL;
	while (*pp && *pp != s) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = s->next;
	if (m->tail == s)
		m->tail = prev;
	m->n--;
	for (unsigned i = 0; i < s->n_labels; i++)
		free(s->label_val[i]);
	free(s);
}

struct metric *metrics_add(struct metrics *m, const char *name,
			   const char *help, enum metric_type type, ...)
{
	struct metric *s = append(m, name, help, type);
	va_list ap;
	const char *k;

	if (!s)
		return NULL;
	va_start(ap, type);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		if (s->n_labels == METRIC_MAX_LABELS || !name_ok(k) || !v ||
		    !(s->label_val[s->n_labels] = strdup(v))) {
			va_end(ap);
			unlink_last(m, s);
			return NULL;
		}
		s->label_key[s->n_labels++] = k;
	}
	va_end(ap);
	return s;
}

struct metric *metrics_add_fn(struct metrics *m, const char *name,
			      const char *help, enum metric_type type,
			      double (*fn)(void *arg), void *arg)
{
	struct metric *s = append(m, name, help, type);
	if (s) {
		s->fn = fn;
		s->fn_arg = arg;
	}
	return s;
}

struct metric *metrics_get(struct metrics *m, const char *name,
			   const char *help, enum metric_type type,
			   const char *k1, const char *v1)
{
	for (struct metric *s = m->head; s; s = s->next)
		if (!strcmp(s->name, name) && s->n_labels == 1 &&
		    !strcmp(s->label_key[0], k1) && !strcmp(s->label_val[0], v1))
			return s;
	return metrics_add(m, name, help, type, k1, v1, (const char *)NULL);
}

/* Growable output for the renderer. */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* Escapes per the exposition format: \\ and \n always, \" in labels. */
static void sb_escaped(struct sbuf *b, const char *s, int label)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_puts(b, "\\\\");
		else if (*s == '\n')
			sb_puts(b, "\\n");
		else if (label && *s == '"')
			sb_puts(b, "\\\"");
		else
			sb_put(b, s, 1);
	}
}

static void sb_value(struct sbuf *b, double v)
{
	char num[40];
	if (v == (double)(long long)v && v < 9e15 && v > -9e15)
		snprintf(num, sizeof(num), "%lld", (long long)v);
	else
		snprintf(num, sizeof(num), "%.17g", v);
	sb_puts(b, num);
}

int metrics_render(const struct metrics *m, char **out, size_t *len)
{
	struct sbuf b = { 0 };
	const char *family = NULL;

	sb_puts(&b, ""); /* an empty registry still renders "" */
	for (const struct metric *s = m->head; s; s = s->next) {
		if (!family || strcmp(family, s->name)) {
			family = s->name;
			sb_puts(&b, "# HELP ");
			sb_puts(&b, s->name);
			sb_puts(&b, " ");
			sb_escaped(&b, s->help ? s->help : "", 0);
			sb_puts(&b, "\n# TYPE ");
			sb_puts(&b, s->name);
			sb_puts(&b, s->type == METRIC_COUNTER ? " counter\n" : " gauge\n");
		}
		sb_puts(&b, s->name);
		for (unsigned i = 0; i < s->n_labels; i++) {
			sb_puts(&b, i ? "," : "{");
			sb_puts(&b, s->label_key[i]);
			sb_puts(&b, "=\"");
			sb_escaped(&b, s->label_val[i], 1);
			sb_puts(&b, "\"");
		}
		if (s->n_labels)
			sb_puts(&b, "}");
		sb_puts(&b, " ");
		sb_value(&b, s->fn ? s->fn(s->fn_arg) : s->value);
		sb_puts(&b, "\n");
	}
	if (b.oom) {
		free(b.p);
		return ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

static double proc_start_time(void *arg)
{
	return *(const double *)arg;
}

static double proc_cpu_seconds(void *arg)
{
	struct rusage ru;
	(void)arg;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double proc_rss_bytes(void *arg)
{
	unsigned long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	(void)arg;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &rss) != 2)
		rss = 0;
	fclose(f);
	return (double)rss * (double)sysconf(_SC_PAGESIZE);
}

static double proc_open_fds(void *arg)
{
	double n = 0;
	DIR *d = opendir("/proc/self/fd");
	(void)arg;
	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own fd */
}

int metrics_add_process(struct metrics *m)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	m->start_time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	if (!metrics_add_fn(m, "process_start_time_seconds",
			    "Start time of the process since unix epoch in seconds.",
			    METRIC_GAUGE, proc_start_time, &m->start_time) ||
	    !metrics_add_fn(m, "process_cpu_seconds_total",
			    "Total user and system CPU time spent in seconds.",
			    METRIC_COUNTER, proc_cpu_seconds, NULL) ||
	    !metrics_add_fn(m, "process_resident_memory_bytes",
			    "Resident memory size in bytes.", METRIC_GAUGE,
			    proc_rss_bytes, NULL) ||
	    !metrics_add_fn(m, "process_open_fds", "Number of open file descriptors.",
			    METRIC_GAUGE, proc_open_fds, NULL))
		return ENOMEM;
	return 0;
}
