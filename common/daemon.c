/* Daemon life cycle shared by ep-cscf and eims-agw. */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef VERSION
#define VERSION "dev"
#endif

#define ERR_MAX 768
#define STOP_DEADLINE_MS 5000

const char *const daemon_log_formats[] = { "logfmt", "json", NULL };

const char *daemon_where(const struct daemon *d, const char *key)
{
	int i = conf_find(d->ops->opts, d->ops->n_opts, key);
	return i < 0 ? "?" : d->where[i].text;
}

/* Applies log.level and log.format from cfg to the logger. */
static int apply_log_settings(struct daemon *d, const void *cfg,
			      const struct conf_where *where, char *err,
			      size_t errlen)
{
	const struct daemon_cfg *c = cfg;
	unsigned char levels[LOG_MAX_SUBSYS];
	char why[256];

	if (log_levels_parse(c->log_level, d->ops->subsys, d->ops->n_subsys, levels,
			     why, sizeof(why))) {
		int i = conf_find(d->ops->opts, d->ops->n_opts, "log.level");
		snprintf(err, errlen, "%s: log.level: %s", where[i].text, why);
		return EINVAL;
	}
	memcpy(d->log.level, levels, d->ops->n_subsys);
	d->log.format = c->log_format == 1 ? LOG_FORMAT_JSON : LOG_FORMAT_LOGFMT;
	return 0;
}

static size_t field_size(enum conf_type t)
{
	switch (t) {
	case CONF_STRING:
	case CONF_PATH:
	case CONF_LOGLEVELS:
		return sizeof(char *);
	case CONF_INT:
		return sizeof(long long);
	case CONF_BOOL:
		return sizeof(bool);
	case CONF_ENUM:
		return sizeof(int);
	case CONF_ADDR:
		return sizeof(struct conf_addr);
	case CONF_LIST:
		return sizeof(struct conf_list);
	}
	return 0;
}

/* SIGHUP: re-read file and overrides; apply what is reloadable, name what
 * needs a restart, keep everything on error. */
static void reload(struct daemon *d)
{
	const struct daemon_ops *ops = d->ops;
	char err[ERR_MAX];
	void *fresh = calloc(1, ops->cfg_size);
	struct conf_where *where = calloc(ops->n_opts, sizeof(*where));
	unsigned char saved[LOG_MAX_SUBSYS];
	enum log_format saved_fmt = d->log.format;

	memcpy(saved, d->log.level, sizeof(saved));
	if (!fresh || !where) {
		log_error(&d->log, 0, NULL, "reload failed", LF_S("reason", "out of memory"));
		goto out;
	}
	if (conf_load(ops->opts, ops->n_opts, fresh, where, d->cli.config_path,
		      d->cli.overrides, d->cli.n_overrides, err, sizeof(err)) ||
	    apply_log_settings(d, fresh, where, err, sizeof(err))) {
		memcpy(d->log.level, saved, sizeof(saved));
		d->log.format = saved_fmt;
		log_error(&d->log, 0, NULL, "reload failed, configuration unchanged",
			  LF_S("reason", err));
		goto out;
	}
	for (size_t i = 0; i < ops->n_opts; i++) {
		const struct conf_opt *o = &ops->opts[i];
		if (conf_opt_equal(o, d->cfg, fresh))
			continue;
		if (!(o->flags & CONF_RELOADABLE)) {
			log_warn(&d->log, 0, NULL, "setting changed; restart to apply",
				 LF_S("key", o->key), LF_S("where", where[i].text));
			continue;
		}
		/* Swap the field so the old value is freed with `fresh`. */
		char tmp[sizeof(struct conf_addr) > sizeof(struct conf_list)
				 ? sizeof(struct conf_addr) : sizeof(struct conf_list)];
		char *a = (char *)d->cfg + o->offset, *b = (char *)fresh + o->offset;
		size_t n = field_size(o->type);
		memcpy(tmp, a, n);
		memcpy(a, b, n);
		memcpy(b, tmp, n);
		d->where[i] = where[i];
		log_info(&d->log, 0, NULL, "setting reloaded", LF_S("key", o->key),
			 LF_S("where", where[i].text));
	}
	log_info(&d->log, 0, NULL, "reloaded");
out:
	if (fresh)
		conf_free(ops->opts, ops->n_opts, fresh);
	free(fresh);
	free(where);
}

static void on_stop_deadline(uv_timer_t *t)
{
	struct daemon *d = t->data;
	log_error(&d->log, 0, NULL, "stop deadline passed; exiting with handles open",
		  LF_U("deadline_ms", d->supervising ? SUPERVISOR_KILL_MS + STOP_DEADLINE_MS
						     : STOP_DEADLINE_MS));
	exit(DAEMON_EXIT_FATAL);
}

void daemon_stop(struct daemon *d, int exit_code)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	d->exit_code = exit_code;
	if (d->supervising)
		supervisor_stop(&d->sup);
	else if (d->ops->stop)
		d->ops->stop(d);
	metrics_http_close(&d->http, NULL, NULL);
	/* Keep the signal watchers until exit, unreferenced so the loop can
	 * end: a second SIGTERM or Ctrl-C while stopping must not fall back
	 * to the default action and kill the process mid-cleanup. */
	uv_unref((uv_handle_t *)&d->sig_term);
	uv_unref((uv_handle_t *)&d->sig_int);
	uv_unref((uv_handle_t *)&d->sig_hup);
	/* A handle that never closes must not keep the process alive. */
	uv_timer_start(&d->stop_deadline, on_stop_deadline,
		       d->supervising ? SUPERVISOR_KILL_MS + STOP_DEADLINE_MS : STOP_DEADLINE_MS, 0);
	uv_unref((uv_handle_t *)&d->stop_deadline);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (d->stopping) {
		log_info(&d->log, 0, NULL, "already stopping", LF_I("signal", signum));
		return;
	}
	if (signum == SIGHUP) {
		log_info(&d->log, 0, NULL, "reloading", LF_S("signal", "SIGHUP"));
		reload(d);
		if (d->ops->reload && d->app)
			d->ops->reload(d);
		if (d->supervising)
			supervisor_forward(&d->sup, SIGHUP);
		return;
	}
	log_info(&d->log, 0, NULL, "stopping",
		 LF_S("signal", signum == SIGTERM ? "SIGTERM" : "SIGINT"));
	daemon_stop(d, DAEMON_EXIT_OK);
}

int daemon_load_identity(struct daemon *d, struct tls_identity *id,
			 const char *cert_key, const char *key_key,
			 const char *common_name, char *err, size_t errlen)
{
	const struct daemon_ops *ops = d->ops;
	int ci = conf_find(ops->opts, ops->n_opts, cert_key);
	int ki = conf_find(ops->opts, ops->n_opts, key_key);
	const char *cert = *(char **)((char *)d->cfg + ops->opts[ci].offset);
	const char *key = *(char **)((char *)d->cfg + ops->opts[ki].offset);
	char why[512];
	int rc;

	if (!*cert && *key) {
		snprintf(err, errlen, "%s: %s: set without %s", d->where[ki].text,
			 key_key, cert_key);
		return EINVAL;
	}
	rc = tls_identity_load(id, cert, key, daemon_common(d)->state_dir,
			       common_name, why, sizeof(why));
	if (rc) {
		/* Name the setting that led to the file: the certificate
		 * option when configured, else the state directory. */
		const char *k = *cert ? (*key && strstr(why, "private key") ? key_key : cert_key)
				      : "state_dir";
		snprintf(err, errlen, "%s: %s: %s", daemon_where(d, k), k, why);
		return rc;
	}
	return 0;
}

static void print_config(const struct daemon *d)
{
	char val[512];
	for (size_t i = 0; i < d->ops->n_opts; i++) {
		conf_opt_format(&d->ops->opts[i], d->cfg, val, sizeof(val));
		printf("%s = %s  # %s\n", d->ops->opts[i].key, val, d->where[i].text);
	}
}

static void worker_port(struct conf_addr *a, unsigned k);

static int start(struct daemon *d, char *err, size_t errlen)
{
	struct daemon_cfg *c = daemon_common(d);
	char url[96];
	int rc;

	uv_signal_init(&d->loop, &d->sig_term);
	uv_signal_init(&d->loop, &d->sig_int);
	uv_signal_init(&d->loop, &d->sig_hup);
	uv_timer_init(&d->loop, &d->stop_deadline);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	d->stop_deadline.data = d;
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);

	struct metric *bi = metrics_add(&d->metrics, d->ops->build_info_metric,
					"Build information; always 1.", METRIC_GAUGE,
					"version", VERSION, (const char *)NULL);
	if (!bi || metrics_add_process(&d->metrics)) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	metric_set(bi, 1);
	struct conf_addr listen = c->metrics_listen;
	if (d->is_worker)
		worker_port(&listen, d->worker);
	if ((rc = metrics_http_start(&d->http, &d->loop, &listen,
				     &d->metrics, &d->log, 0, err, errlen))) {
		char why[ERR_MAX];
		snprintf(why, sizeof(why), "%s: metrics.listen: %s",
			 daemon_where(d, "metrics.listen"), err);
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	conf_addr_format((const struct sockaddr *)&d->http.bound, url, sizeof(url));
	log_info(&d->log, 0, NULL, "listening", LF_S("service", "metrics"),
		 LF_S("addr", url));
	if (d->n_workers > 1 && !d->is_worker) {
		if ((rc = supervisor_start(&d->sup, &d->loop, &d->log, &d->metrics,
					   d->n_workers, d->argv, err, errlen)))
			return rc;
		d->supervising = true;
		return 0;
	}
	return d->ops->start(d, err, errlen);
}

static uint16_t addr_port(const struct conf_addr *a)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
	return ntohs(a->ss.ss_family == AF_INET6 ? in6->sin6_port : in->sin_port);
}

/* A worker's metrics port: the configured one + 1 + k (0 stays 0). */
static void worker_port(struct conf_addr *a, unsigned k)
{
	uint16_t p = addr_port(a);
	if (!p)
		return;
	p = (uint16_t)(p + 1 + k);
	if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(p);
	else
		((struct sockaddr_in *)&a->ss)->sin_port = htons(p);
}

/* What only workers and their supervisor check: the worker's number
 * against the configuration, the metrics ports, the CPU pinning. */
static int workers_check(struct daemon *d, char *err, size_t errlen)
{
	unsigned n = d->n_workers > 1 ? d->n_workers : 1;
	uint16_t port = addr_port(&daemon_common(d)->metrics_listen);

	if (d->is_worker && d->worker >= n) {
		snprintf(err, errlen, "%s=%u,%ld: worker %u of %u workers (the configuration changed; "
			 "restart the daemon)", SUPERVISOR_ENV, d->worker, d->supervisor_pid,
			 d->worker, n);
		return EINVAL;
	}
	if (n > 1 && port && (unsigned)port + n > 65535) {
		snprintf(err, errlen, "%s: metrics.listen: port %u leaves no room for the %u "
			 "workers' ports (%u + 1 ... %u + %u)", daemon_where(d, "metrics.listen"),
			 port, n, port, port, n);
		return EINVAL;
	}
	return 0;
}

static int worker_setup(struct daemon *d, char *err, size_t errlen)
{
	int cpu = -1, rc = supervisor_worker_setup(d->worker, d->supervisor_pid, &cpu);
	if (rc) {
		snprintf(err, errlen, "worker %u: %s", d->worker,
			 rc == ESRCH ? "the supervisor is gone" : strerror(rc));
		return rc;
	}
	log_info(&d->log, 0, NULL, "worker pinned", LF_I("cpu", cpu),
		 LF_I("supervisor_pid", d->supervisor_pid));
	return 0;
}

/* Closes whatever is still open after a failed start, then runs the loop
 * until the close callbacks have fired. */
static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int daemon_main(const struct daemon_ops *ops, int argc, char **argv)
{
	struct daemon d;
	char err[ERR_MAX];
	int rc = DAEMON_EXIT_CONFIG, loop_ready = 0;

	memset(&d, 0, sizeof(d));
	d.ops = ops;
	d.argv = argv;
	signal(SIGPIPE, SIG_IGN); /* peers vanish; write errors are handled */
	if (log_init(&d.log, ops->name, ops->subsys, ops->n_subsys)) {
		fprintf(stderr, "%s: error: too many log subsystems\n", ops->name);
		return DAEMON_EXIT_FATAL;
	}
	int wrc = supervisor_worker_env(&d.worker, &d.supervisor_pid);
	if (wrc == EINVAL) {
		fprintf(stderr, "%s: error: %s: not <worker>,<supervisor pid>\n", ops->name,
			SUPERVISOR_ENV);
		return DAEMON_EXIT_CONFIG;
	}
	d.is_worker = d.log.is_worker = !wrc;
	d.log.worker = d.worker;
	metrics_init(&d.metrics, 10000);
	d.cfg = calloc(1, ops->cfg_size);
	d.where = calloc(ops->n_opts, sizeof(*d.where));
	if (!d.cfg || !d.where) {
		fprintf(stderr, "%s: error: out of memory\n", ops->name);
		rc = DAEMON_EXIT_FATAL;
		goto out;
	}
	if (conf_cli_parse(&d.cli, argc, argv, ops->opts, ops->n_opts, err,
			   sizeof(err)))
		goto fail;
	if (d.cli.help) {
		conf_print_help(ops->name, ops->opts, ops->n_opts);
		rc = DAEMON_EXIT_OK;
		goto out;
	}
	if (d.cli.version) {
		printf("%s %s\n", ops->name, VERSION);
		rc = DAEMON_EXIT_OK;
		goto out;
	}
	if (conf_load(ops->opts, ops->n_opts, d.cfg, d.where, d.cli.config_path,
		      d.cli.overrides, d.cli.n_overrides, err, sizeof(err)) ||
	    apply_log_settings(&d, d.cfg, d.where, err, sizeof(err)))
		goto fail;
	if (!*daemon_common(&d)->state_dir) {
		snprintf(err, sizeof(err), "%s: state_dir: must not be empty",
			 daemon_where(&d, "state_dir"));
		goto fail;
	}
	if (ops->prepare(&d, err, sizeof(err)) || workers_check(&d, err, sizeof(err)))
		goto fail;
	if (d.cli.check_only) {
		print_config(&d);
		rc = DAEMON_EXIT_OK;
		goto out;
	}
	if ((rc = uv_loop_init(&d.loop))) {
		snprintf(err, sizeof(err), "cannot create event loop: %s", uv_strerror(rc));
		goto fail;
	}
	loop_ready = 1;
	if ((d.is_worker && worker_setup(&d, err, sizeof(err))) || start(&d, err, sizeof(err)))
		goto fail;
	log_info(&d.log, 0, NULL, "started", LF_S("version", VERSION),
		 LF_I("pid", (long long)getpid()));
	uv_run(&d.loop, UV_RUN_DEFAULT);
	if (d.supervising && d.sup.exit_code && !d.exit_code)
		d.exit_code = DAEMON_EXIT_FATAL; /* a worker failed to stop cleanly */
	log_info(&d.log, 0, NULL, "stopped", LF_I("exit_code", d.exit_code));
	rc = d.exit_code;
	goto out;
fail:
	fprintf(stderr, "%s: error: %s\n", ops->name, err);
	rc = DAEMON_EXIT_CONFIG;
	if (loop_ready && !d.stopping) {
		/* Stop as SIGTERM does and let the loop run: libraries on it
		 * (libwebsockets) close their own handles asynchronously, and
		 * closing those for them would abort in libuv. */
		daemon_stop(&d, DAEMON_EXIT_CONFIG);
		uv_run(&d.loop, UV_RUN_DEFAULT);
	}
out:
	if (loop_ready) {
		/* From here on a stop signal has nothing left to stop; block it
		 * so that closing the watchers (which restores the default
		 * action) cannot turn a clean exit into death by signal. */
		sigset_t late;
		sigemptyset(&late);
		sigaddset(&late, SIGTERM);
		sigaddset(&late, SIGINT);
		sigaddset(&late, SIGHUP);
		sigprocmask(SIG_BLOCK, &late, NULL);
		uv_walk(&d.loop, walk_close, NULL);
		uv_run(&d.loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&d.loop) == UV_EBUSY)
			fprintf(stderr, "%s: error: handles left open at exit\n", ops->name);
	}
	if (d.supervising)
		supervisor_free(&d.sup);
	if (ops->destroy)
		ops->destroy(&d);
	metrics_free(&d.metrics);
	if (d.cfg)
		conf_free(ops->opts, ops->n_opts, d.cfg);
	free(d.cfg);
	free(d.where);
	conf_cli_free(&d.cli);
	return rc;
}
