/* The life cycle both daemons share: command line, configuration, logging,
 * the libuv loop with its signals, the /metrics endpoint, SIGHUP reload and
 * a clean stop.  Each daemon supplies its option table and hooks
 * (struct daemon_ops); struct daemon is the root of its ownership tree. */
#ifndef COMMON_DAEMON_H
#define COMMON_DAEMON_H

#include <stddef.h>
#include <uv.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "supervisor.h"
#include "tls_identity.h"

/* Exit codes: 0 clean stop; 1 fatal error while running; 2 bad
 * configuration, bad command line or a start-up failure (port in use,
 * unreadable certificate). */
enum { DAEMON_EXIT_OK = 0, DAEMON_EXIT_FATAL = 1, DAEMON_EXIT_CONFIG = 2 };

/* Options every daemon has; the first member of each daemon's config
 * struct, so that common code can reach it. */
struct daemon_cfg {
	char *log_level;
	int log_format;
	char *state_dir;
	struct conf_addr metrics_listen;
};

extern const char *const daemon_log_formats[];

/* Table entries for struct daemon_cfg inside the daemon's config `type`. */
#define DAEMON_COMMON_OPTS(type, state_dir_def, metrics_def)                        \
	{ "log.level", CONF_LOGLEVELS, offsetof(type, common.log_level), "info",     \
	  0, 0, NULL, CONF_RELOADABLE,                                               \
	  "log levels: LEVEL[,SUBSYS=LEVEL...] (error warn info debug trace)" },     \
	{ "log.format", CONF_ENUM, offsetof(type, common.log_format), "logfmt",      \
	  0, 0, daemon_log_formats, CONF_RELOADABLE, "log line format: logfmt or json" }, \
	{ "state_dir", CONF_PATH, offsetof(type, common.state_dir), state_dir_def,   \
	  0, 0, NULL, 0, "directory for generated certificates and state" },         \
	{ "metrics.listen", CONF_ADDR, offsetof(type, common.metrics_listen),        \
	  metrics_def, 0, 0, NULL, 0, "address of the HTTP /metrics and /healthz endpoint" }

struct daemon;

struct daemon_ops {
	const char *name;              /* "ep-cscf" */
	const struct conf_opt *opts;
	size_t n_opts;
	size_t cfg_size;               /* sizeof the daemon's config struct */
	const char *const *subsys;     /* log subsystems; [0] is "core" */
	unsigned n_subsys;
	const char *build_info_metric; /* "epcscf_build_info" */

	/* Checks the loaded configuration and loads the files it names
	 * (certificates), without opening sockets; runs for --check-config
	 * too.  Creates d->app.  On error writes one line naming the key and
	 * where it was set.  May set d->n_workers (> 1: this process, unless
	 * it is a worker itself, supervises that many workers instead of
	 * calling start; common/supervisor.h). */
	int (*prepare)(struct daemon *d, char *err, size_t errlen);
	/* Opens listeners on d->loop and logs where they listen. */
	int (*start)(struct daemon *d, char *err, size_t errlen);
	/* Begins closing every handle start() opened; the loop ends when
	 * they are closed. */
	void (*stop)(struct daemon *d);
	/* Frees d->app after the loop has ended (or after a failed start). */
	void (*destroy)(struct daemon *d);
	/* Optional: on SIGHUP, after the options were reloaded, reloads what
	 * the daemon keeps outside the option table (files it read at start). */
	void (*reload)(struct daemon *d);
	/* Optional: runs d->loop until nothing is left to run, as
	 * uv_run(UV_RUN_DEFAULT) does (the default); for a daemon that waits
	 * on more than libuv's handles (eims-agw's media sockets). */
	void (*run)(struct daemon *d);
};

struct daemon {
	const struct daemon_ops *ops;
	uv_loop_t loop;
	struct log log;
	void *cfg;                /* owned: the daemon's config struct */
	struct conf_where *where; /* owned: where each option was set */
	struct conf_cli cli;      /* owned */
	struct metrics metrics;   /* owned */
	struct metrics_http http; /* owned */
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t stop_deadline;
	void *app;                /* the daemon's own root, owned via ops */
	int stopping;
	int exit_code;
	char **argv;              /* borrowed: main's, to start workers with */
	/* Workers: n_workers from ops->prepare (0 or 1: none).  A worker
	 * (SUPERVISOR_ENV set) is number `worker`, its metrics listener on
	 * metrics.listen's port + 1 + worker (port 0: any). */
	unsigned n_workers;
	bool is_worker;
	unsigned worker;
	long supervisor_pid;
	bool supervising;         /* this process runs the workers */
	struct supervisor sup;    /* owned while supervising */
};

static inline struct daemon_cfg *daemon_common(const struct daemon *d)
{
	return (struct daemon_cfg *)d->cfg;
}

/* Where option `key` was set ("path:line", "command line", "<default>"). */
const char *daemon_where(const struct daemon *d, const char *key);

/* Loads the identity named by options cert_key/key_key (CONF_PATH), or
 * the generated one under state_dir when cert_key is empty.  Errors name
 * the option and where it was set. */
int daemon_load_identity(struct daemon *d, struct tls_identity *id,
			 const char *cert_key, const char *key_key,
			 const char *common_name, char *err, size_t errlen);

/* Runs the daemon; returns the process exit code. */
int daemon_main(const struct daemon_ops *ops, int argc, char **argv);

/* Asks the daemon to stop (as SIGTERM does) with the given exit code. */
void daemon_stop(struct daemon *d, int exit_code);

#endif
