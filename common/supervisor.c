/* Worker processes: start, restart, signal, stop (supervisor.h). */
#include "supervisor.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define RESTART_FIRST_MS 1000
#define RESTART_MAX_MS 30000
#define RESTART_STABLE_MS 10000

extern char **environ;

static void spawn(struct supervisor_worker *w);

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static unsigned n_running(const struct supervisor *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->n; i++)
		n += s->w[i].running;
	return n;
}

/* Once stopping and the last worker is gone, nothing keeps the loop. */
static void maybe_done(struct supervisor *s)
{
	if (!s->stopping || n_running(s))
		return;
	for (unsigned i = 0; i < s->n; i++)
		close_handle((uv_handle_t *)&s->w[i].restart);
	close_handle((uv_handle_t *)&s->sig_usr1);
	close_handle((uv_handle_t *)&s->sig_usr2);
	close_handle((uv_handle_t *)&s->kill_deadline);
	log_info(s->log, 0, NULL, "workers stopped", LF_U("workers", s->n));
}

static void on_restart(uv_timer_t *t)
{
	struct supervisor_worker *w = t->data;
	if (!w->sup->stopping)
		spawn(w);
}

static void on_exit_(uv_process_t *p, int64_t status, int signum)
{
	struct supervisor_worker *w = p->data;
	struct supervisor *s = w->sup;
	uint64_t lived = uv_now(s->loop) - w->started_ms;

	w->running = false;
	close_handle((uv_handle_t *)p);
	metric_set(s->m_running, n_running(s));
	if (s->stopping) {
		if (status || signum)
			s->exit_code = 1;
		log_info(s->log, 0, NULL, "worker stopped", LF_U("worker", w->k),
			 LF_I("pid", p->pid), LF_I("exit_code", status), LF_I("signal", signum));
		maybe_done(s);
		return;
	}
	w->backoff_ms = lived >= RESTART_STABLE_MS ? RESTART_FIRST_MS
		      : w->backoff_ms ? (w->backoff_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS
									: w->backoff_ms * 2)
				      : RESTART_FIRST_MS;
	log_error(s->log, 0, NULL, "worker exited; restarting", LF_U("worker", w->k),
		  LF_I("pid", p->pid), LF_I("exit_code", status), LF_I("signal", signum),
		  LF_U("lived_ms", lived), LF_U("restart_in_ms", w->backoff_ms));
	uv_timer_start(&w->restart, on_restart, w->backoff_ms, 0);
}

/* The environment of worker k: ours without SUPERVISOR_ENV, plus it.
 * Heap; freed by the caller with free_env. */
static char **worker_env(unsigned k)
{
	size_t n = 0, j = 0;
	size_t plen = strlen(SUPERVISOR_ENV);
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], SUPERVISOR_ENV "=", plen + 1))
			env[j++] = environ[i];
	char *mine = malloc(plen + 48);
	if (!mine) {
		free(env);
		return NULL;
	}
	snprintf(mine, plen + 48, "%s=%u,%ld", SUPERVISOR_ENV, k, (long)getpid());
	env[j] = mine;
	return env;
}

static void free_env(char **env)
{
	if (!env)
		return;
	size_t n = 0;
	while (env[n + 1])
		n++;
	free(env[n]); /* ours is the last one */
	free(env);
}

static void spawn(struct supervisor_worker *w)
{
	struct supervisor *s = w->sup;
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_INHERIT_FD, .data.fd = 0 },
		{ .flags = UV_INHERIT_FD, .data.fd = 1 },
		{ .flags = UV_INHERIT_FD, .data.fd = 2 },
	};
	char **env = worker_env(w->k);
	uv_process_options_t o = {
		.exit_cb = on_exit_, .file = s->exe, .args = s->argv, .env = env,
		.stdio_count = 3, .stdio = stdio,
	};
	int rc = env ? uv_spawn(s->loop, &w->proc, &o) : UV_ENOMEM;

	free_env(env);
	if (rc) {
		/* uv_spawn leaves a handle to close even when it fails. */
		if (env)
			close_handle((uv_handle_t *)&w->proc);
		w->backoff_ms = w->backoff_ms ? w->backoff_ms : RESTART_FIRST_MS;
		log_error(s->log, 0, NULL, "worker start failed", LF_U("worker", w->k),
			  LF_S("reason", uv_strerror(rc)), LF_U("retry_in_ms", w->backoff_ms));
		uv_timer_start(&w->restart, on_restart, w->backoff_ms, 0);
		return;
	}
	w->proc.data = w;
	w->running = true;
	w->started_ms = uv_now(s->loop);
	if (w->restarts++)
		metric_inc(s->m_restarts);
	metric_set(s->m_running, n_running(s));
	log_info(s->log, 0, NULL, "worker started", LF_U("worker", w->k),
		 LF_I("pid", w->proc.pid));
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct supervisor *s = h->data;
	log_info(s->log, 0, NULL, "passing signal to workers",
		 LF_S("signal", signum == SIGUSR1 ? "SIGUSR1" : "SIGUSR2"));
	supervisor_forward(s, signum);
}

static void on_kill_deadline(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	log_error(s->log, 0, NULL, "workers still running; killing them",
		  LF_U("deadline_ms", SUPERVISOR_KILL_MS), LF_U("running", n_running(s)));
	supervisor_forward(s, SIGKILL);
}

int supervisor_start(struct supervisor *s, uv_loop_t *loop, const struct log *log,
		     struct metrics *metrics, unsigned n, char **argv, char *err,
		     size_t errlen)
{
	size_t len = sizeof(s->exe);
	int rc;

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->log = log;
	s->argv = argv;
	if (n < 2 || n > SUPERVISOR_MAX_WORKERS) {
		snprintf(err, errlen, "workers: %u is not 2-%u", n, SUPERVISOR_MAX_WORKERS);
		return EINVAL;
	}
	if ((rc = uv_exepath(s->exe, &len))) {
		snprintf(err, errlen, "cannot find the program to start workers: %s",
			 uv_strerror(rc));
		return EIO;
	}
	if (!(s->w = calloc(n, sizeof(*s->w)))) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	s->n = n;
	s->m_running = metrics_add(metrics, "supervisor_workers_running",
				   "Worker processes running.", METRIC_GAUGE, (const char *)NULL);
	s->m_restarts = metrics_add(metrics, "supervisor_worker_restarts_total",
				    "Worker processes started again after they exited.",
				    METRIC_COUNTER, (const char *)NULL);
	uv_signal_init(loop, &s->sig_usr1);
	uv_signal_init(loop, &s->sig_usr2);
	uv_timer_init(loop, &s->kill_deadline);
	s->sig_usr1.data = s->sig_usr2.data = s->kill_deadline.data = s;
	uv_signal_start(&s->sig_usr1, on_signal, SIGUSR1);
	uv_signal_start(&s->sig_usr2, on_signal, SIGUSR2);
	for (unsigned i = 0; i < n; i++) {
		struct supervisor_worker *w = &s->w[i];
		w->sup = s;
		w->k = i;
		uv_timer_init(loop, &w->restart);
		w->restart.data = w;
	}
	for (unsigned i = 0; i < n; i++)
		spawn(&s->w[i]);
	return 0;
}

void supervisor_forward(struct supervisor *s, int signum)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->w[i].running)
			uv_process_kill(&s->w[i].proc, signum);
}

void supervisor_stop(struct supervisor *s)
{
	if (!s->w || s->stopping)
		return;
	s->stopping = true;
	for (unsigned i = 0; i < s->n; i++)
		uv_timer_stop(&s->w[i].restart);
	supervisor_forward(s, SIGTERM);
	uv_timer_start(&s->kill_deadline, on_kill_deadline, SUPERVISOR_KILL_MS, 0);
	maybe_done(s);
}

void supervisor_free(struct supervisor *s)
{
	free(s->w);
	memset(s, 0, sizeof(*s));
}

int supervisor_worker_env(unsigned *k, long *ppid)
{
	const char *v = getenv(SUPERVISOR_ENV);
	char *end;

	if (!v)
		return ENOENT;
	errno = 0;
	unsigned long kk = strtoul(v, &end, 10);
	if (errno || end == v || *end != ',' || kk >= SUPERVISOR_MAX_WORKERS)
		return EINVAL;
	v = end + 1;
	long pp = strtol(v, &end, 10);
	if (errno || end == v || *end || pp <= 1)
		return EINVAL;
	*k = (unsigned)kk;
	*ppid = pp;
	return 0;
}

unsigned supervisor_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}

int supervisor_worker_setup(unsigned k, long ppid, int *cpu)
{
	cpu_set_t set, one;
	unsigned n, want;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM))
		return errno;
	if (getppid() != (pid_t)ppid)
		return ESRCH; /* the supervisor died before we asked */
	if (sched_getaffinity(0, sizeof(set), &set))
		return errno;
	n = (unsigned)CPU_COUNT(&set);
	if (!n)
		return EINVAL;
	want = k % n;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set) || want--)
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			return errno;
		*cpu = c;
		return 0;
	}
	return EINVAL;
}
