/* Structured logging: one line per event, logfmt or JSON, with a level per
 * subsystem.  Lines about a call or session carry its ids (struct log_ids).
 *
 * Values are passed as typed fields, never pre-formatted, so that text from
 * the network is escaped here once instead of at every call site. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };
enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };

#define LOG_MAX_SUBSYS 16

enum log_field_type { LOG_F_STR, LOG_F_INT, LOG_F_UINT };

#define LOG_NOLEN ((size_t)-1) /* a NUL-terminated string */

struct log_field {
	const char *key;
	enum log_field_type type;
	union {
		const char *s;
		long long i;
		unsigned long long u;
	} v;
	size_t n; /* LOG_F_STR: bytes of s, or LOG_NOLEN */
};

#define LF_S(k, val) ((struct log_field){ .key = (k), .type = LOG_F_STR, .v.s = (val), .n = LOG_NOLEN })
/* A string given by pointer and length (a network buffer, not terminated). */
#define LF_SN(k, val, len) ((struct log_field){ .key = (k), .type = LOG_F_STR, .v.s = (val), .n = (len) })
#define LF_I(k, val) ((struct log_field){ .key = (k), .type = LOG_F_INT, .v.i = (val) })
#define LF_U(k, val) ((struct log_field){ .key = (k), .type = LOG_F_UINT, .v.u = (val) })

/* Ids of the call or session a line is about; NULL members are omitted. */
struct log_ids {
	const char *call_id;
	const char *session_id;
};

/* One logger per daemon, owned by its root object.  `subsys` names are
 * borrowed (static tables); index 0 is the default subsystem. */
struct log {
	const char *daemon;
	const char *const *subsys;
	unsigned n_subsys;
	unsigned char level[LOG_MAX_SUBSYS];
	enum log_format format;
	FILE *out; /* borrowed; stderr by default */
	bool is_worker;  /* a worker process: worker=N ends every line */
	unsigned worker;
};

/* Sets every subsystem to LOG_INFO, logfmt, stderr.  Returns 0 or EINVAL
 * when there are too many subsystems. */
int log_init(struct log *lg, const char *daemon, const char *const *subsys,
	     unsigned n_subsys);

/* Parses a level spec such as "info" or "info,sip=debug,iq=trace" into
 * `levels` (n_subsys entries).  Returns 0, or EINVAL with a reason written
 * to `err` (at most errlen bytes). */
int log_levels_parse(const char *spec, const char *const *subsys,
		     unsigned n_subsys, unsigned char *levels, char *err,
		     size_t errlen);

static inline int log_enabled(const struct log *lg, unsigned sub,
			      enum log_level lvl)
{
	return sub < lg->n_subsys && (unsigned)lvl <= lg->level[sub];
}

/* Writes one line.  Never fails: an over-long line is truncated and marked
 * with truncated=1. */
void log_emit(const struct log *lg, unsigned sub, enum log_level lvl,
	      const struct log_ids *ids, const char *msg,
	      const struct log_field *f, size_t nf);

/* Formats one line into buf (pure; used by log_emit and by tests).  Returns
 * the length written, excluding the NUL. */
size_t log_format_line(char *buf, size_t len, enum log_format fmt,
		       const char *ts, const char *level, const char *subsys,
		       const struct log_ids *ids, const char *msg,
		       const struct log_field *f, size_t nf);

const char *log_level_name(enum log_level lvl);

#define LOG_FIELDS_(...) ((const struct log_field[]){ LF_S(NULL, NULL), ##__VA_ARGS__ })
#define LOG_NFIELDS_(...) (sizeof(LOG_FIELDS_(__VA_ARGS__)) / sizeof(struct log_field))

/* log_at(lg, sub, LOG_INFO, ids, "message", LF_S("k", v), LF_I("n", 3)).
 * Fields are only evaluated when the level is enabled.  The leading
 * placeholder field lets the list be empty; log_emit skips it. */
#define log_at(lg, sub, lvl, ids, msg, ...)                                   \
	do {                                                                  \
		if (log_enabled((lg), (sub), (lvl)))                          \
			log_emit((lg), (sub), (lvl), (ids), (msg),            \
				 LOG_FIELDS_(__VA_ARGS__) + 1,                \
				 LOG_NFIELDS_(__VA_ARGS__) - 1);              \
	} while (0)

#define log_error(lg, sub, ids, msg, ...) log_at(lg, sub, LOG_ERROR, ids, msg, ##__VA_ARGS__)
#define log_warn(lg, sub, ids, msg, ...)  log_at(lg, sub, LOG_WARN, ids, msg, ##__VA_ARGS__)
#define log_info(lg, sub, ids, msg, ...)  log_at(lg, sub, LOG_INFO, ids, msg, ##__VA_ARGS__)
#define log_debug(lg, sub, ids, msg, ...) log_at(lg, sub, LOG_DEBUG, ids, msg, ##__VA_ARGS__)
#define log_trace(lg, sub, ids, msg, ...) log_at(lg, sub, LOG_TRACE, ids, msg, ##__VA_ARGS__)

#endif
