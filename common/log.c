/* Structured log lines (logfmt or JSON) with per-subsystem levels. */
#include "log.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LOG_LINE_MAX 4096

static const char *const level_names[] = { "error", "warn", "info", "debug",
					   "trace" };

const char *log_level_name(enum log_level lvl)
{
	return (unsigned)lvl <= LOG_TRACE ? level_names[lvl] : "?";
}

static int level_from_name(const char *s, size_t n)
{
	for (unsigned i = 0; i <= LOG_TRACE; i++)
		if (strlen(level_names[i]) == n && !strncasecmp(s, level_names[i], n))
			return (int)i;
	return -1;
}

int log_init(struct log *lg, const char *daemon, const char *const *subsys,
	     unsigned n_subsys)
{
	if (n_subsys == 0 || n_subsys > LOG_MAX_SUBSYS)
		return EINVAL;
	memset(lg, 0, sizeof(*lg));
	lg->daemon = daemon;
	lg->subsys = subsys;
	lg->n_subsys = n_subsys;
	for (unsigned i = 0; i < n_subsys; i++)
		lg->level[i] = LOG_INFO;
	lg->format = LOG_FORMAT_LOGFMT;
	lg->out = stderr;
	return 0;
}

int log_levels_parse(const char *spec, const char *const *subsys,
		     unsigned n_subsys, unsigned char *levels, char *err,
		     size_t errlen)
{
	unsigned char tmp[LOG_MAX_SUBSYS];
	int have_default = 0;

	if (n_subsys > LOG_MAX_SUBSYS)
		return EINVAL;
	for (unsigned i = 0; i < n_subsys; i++)
		tmp[i] = LOG_INFO;
	/* First pass applies the bare default level, second the overrides, so
	 * "sip=debug,warn" means what it says. */
	for (int pass = 0; pass < 2; pass++) {
		const char *p = spec;
		while (*p) {
			const char *end = strchr(p, ',');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			const char *eq = memchr(p, '=', n);
			if (n == 0) {
				snprintf(err, errlen, "empty item in level list");
				return EINVAL;
			}
			if (!eq) {
				int l = level_from_name(p, n);
				if (l < 0) {
					snprintf(err, errlen, "unknown level \"%.*s\" (error, warn, info, debug, trace)",
						 (int)n, p);
					return EINVAL;
				}
				if (pass == 0) {
					if (have_default++) {
						snprintf(err, errlen, "more than one default level");
						return EINVAL;
					}
					for (unsigned i = 0; i < n_subsys; i++)
						tmp[i] = (unsigned char)l;
				}
			} else if (pass == 1) {
				size_t kn = (size_t)(eq - p);
				int l = level_from_name(eq + 1, n - kn - 1);
				unsigned s;
				for (s = 0; s < n_subsys; s++)
					if (strlen(subsys[s]) == kn && !strncmp(p, subsys[s], kn))
						break;
				if (s == n_subsys) {
					snprintf(err, errlen, "unknown subsystem \"%.*s\"", (int)kn, p);
					return EINVAL;
				}
				if (l < 0) {
					snprintf(err, errlen, "unknown level \"%.*s\" for %s",
						 (int)(n - kn - 1), eq + 1, subsys[s]);
					return EINVAL;
				}
				tmp[s] = (unsigned char)l;
			}
			p += n + (end ? 1 : 0);
			if (end && !*p) {
				snprintf(err, errlen, "empty item in level list");
				return EINVAL;
			}
		}
	}
	memcpy(levels, tmp, n_subsys);
	return 0;
}

/* Bounded appender: remembers truncation instead of failing. */
struct out {
	char *buf;
	size_t len, pos;
	int trunc;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->pos + n >= o->len) {
		n = o->pos < o->len - 1 ? o->len - 1 - o->pos : 0;
		o->trunc = 1;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0; /* overlong, surrogate or beyond U+10FFFF */
	return need;
}

static int logfmt_needs_quotes(const char *s, size_t n)
{
	if (!n)
		return 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '"' || s[i] == '=' ||
		    s[i] == '\\' || (unsigned char)s[i] >= 0x7f)
			return 1;
	return 0;
}

/* Escapes n bytes of s: JSON string rules, or logfmt with \" \\ \n \t
 * \xNN.  NUL bytes are escaped too. */
static void put_escaped_n(struct out *o, const char *s, size_t n, int json)
{
	const unsigned char *p = (const unsigned char *)s;
	char tmp[8];

	while (n) {
		size_t u = utf8_len(p, n);
		if (u > 1) {
			put(o, (const char *)p, u);
		} else if (u == 0 || *p == 0x7f) {
			if (json)
				puts_(o, "\\ufffd");
			else {
				snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
				puts_(o, tmp);
			}
			u = 1;
		} else if (*p == '"' || *p == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			put(o, tmp, 2);
		} else if (*p == '\n') {
			puts_(o, "\\n");
		} else if (*p == '\r') {
			puts_(o, "\\r");
		} else if (*p == '\t') {
			puts_(o, "\\t");
		} else if (*p < 0x20) { /* includes NUL */
			snprintf(tmp, sizeof(tmp), json ? "\\u%04x" : "\\x%02x", *p);
			puts_(o, tmp);
		} else {
			put(o, (const char *)p, 1);
		}
		p += u;
		n -= u;
	}
}

static void put_escaped(struct out *o, const char *s, int json)
{
	put_escaped_n(o, s, strlen(s), json);
}

static void put_str_field(struct out *o, enum log_format fmt, int first,
			  const char *key, const char *val, size_t n)
{
	if (!val) {
		val = "";
		n = 0;
	} else if (n == LOG_NOLEN) {
		n = strlen(val);
	}
	if (fmt == LOG_FORMAT_JSON) {
		puts_(o, first ? "{\"" : ",\"");
		put_escaped(o, key, 1);
		puts_(o, "\":\"");
		put_escaped_n(o, val, n, 1);
		puts_(o, "\"");
	} else {
		if (!first)
			puts_(o, " ");
		put_escaped(o, key, 0);
		puts_(o, "=");
		if (logfmt_needs_quotes(val, n)) {
			puts_(o, "\"");
			put_escaped_n(o, val, n, 0);
			puts_(o, "\"");
		} else {
			put(o, val, n);
		}
	}
}

static void put_num_field(struct out *o, enum log_format fmt, const char *key,
			  const char *num)
{
	puts_(o, fmt == LOG_FORMAT_JSON ? ",\"" : " ");
	put_escaped(o, key, fmt == LOG_FORMAT_JSON);
	puts_(o, fmt == LOG_FORMAT_JSON ? "\":" : "=");
	puts_(o, num);
}

size_t log_format_line(char *buf, size_t len, enum log_format fmt,
		       const char *ts, const char *level, const char *subsys,
		       const struct log_ids *ids, const char *msg,
		       const struct log_field *f, size_t nf)
{
	/* Reserve room for the truncation mark, closing brace and newline. */
	struct out o = { buf, len > 96 ? len - 96 : len, 0, 0 };
	const char *dropped = NULL;
	char num[32];

	if (len < 128)
		return 0;
	buf[0] = '\0';
	put_str_field(&o, fmt, 1, "ts", ts, LOG_NOLEN);
	put_str_field(&o, fmt, 0, "level", level, LOG_NOLEN);
	put_str_field(&o, fmt, 0, "subsys", subsys, LOG_NOLEN);
	if (ids && ids->call_id)
		put_str_field(&o, fmt, 0, "call_id", ids->call_id, LOG_NOLEN);
	if (ids && ids->session_id)
		put_str_field(&o, fmt, 0, "session", ids->session_id, LOG_NOLEN);
	put_str_field(&o, fmt, 0, "msg", msg, LOG_NOLEN);
	for (size_t i = 0; i < nf && !o.trunc; i++) {
		size_t mark = o.pos;
		if (!f[i].key)
			continue;
		switch (f[i].type) {
		case LOG_F_STR:
			put_str_field(&o, fmt, 0, f[i].key, f[i].v.s, f[i].n);
			break;
		case LOG_F_INT:
			snprintf(num, sizeof(num), "%lld", f[i].v.i);
			put_num_field(&o, fmt, f[i].key, num);
			break;
		case LOG_F_UINT:
			snprintf(num, sizeof(num), "%llu", f[i].v.u);
			put_num_field(&o, fmt, f[i].key, num);
			break;
		}
		if (o.trunc) {
			/* Drop the whole field rather than emit half an escape. */
			o.pos = mark;
			buf[mark] = '\0';
			dropped = f[i].key;
		}
	}
	o.len = len;
	o.trunc = 0;
	if (dropped) {
		char key[48];
		snprintf(key, sizeof(key), "%s", dropped);
		put_str_field(&o, fmt, 0, "truncated", key, LOG_NOLEN);
	}
	if (fmt == LOG_FORMAT_JSON)
		puts_(&o, "}");
	puts_(&o, "\n");
	return o.pos;
}

#define LOG_EMIT_FIELDS_MAX 48

void log_emit(const struct log *lg, unsigned sub, enum log_level lvl,
	      const struct log_ids *ids, const char *msg,
	      const struct log_field *f, size_t nf)
{
	char line[LOG_LINE_MAX], ts[40];
	struct timespec now;
	struct tm tm;
	struct log_field all[LOG_EMIT_FIELDS_MAX];

	if (lg->is_worker && nf < LOG_EMIT_FIELDS_MAX) {
		if (nf)
			memcpy(all, f, nf * sizeof(*f));
		all[nf++] = LF_U("worker", lg->worker);
		f = all;
	}

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
	size_t n = log_format_line(line, sizeof(line), lg->format, ts,
				   log_level_name(lvl),
				   sub < lg->n_subsys ? lg->subsys[sub] : "?",
				   ids, msg, f, nf);
	/* One fwrite per line keeps lines whole when several processes share
	 * the same stderr (make run). */
	fwrite(line, 1, n, lg->out);
	fflush(lg->out);
}
