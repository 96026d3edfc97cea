/* Worker processes of a daemon (eims-agw's `workers` option): the process
 * the operator started becomes a supervisor that runs the same program N
 * times (exec of /proc/self/exe with the same command line and
 * DAEMON_WORKER=<k>,<supervisor pid> in the environment).  Each worker is a
 * whole daemon with its own loop; it pins itself to one CPU.  The
 * supervisor passes SIGHUP, SIGUSR1 and SIGUSR2 on to every worker, starts
 * a worker that exits again (1 s, doubling to 30 s while it keeps dying
 * within 10 s of its start), and on stop sends SIGTERM to all and ends
 * when the last has exited (SIGKILL after SUPERVISOR_KILL_MS).  Nothing is
 * shared between workers but the configuration they read. */
#ifndef COMMON_SUPERVISOR_H
#define COMMON_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "log.h"
#include "metrics.h"

#define SUPERVISOR_MAX_WORKERS 128
#define SUPERVISOR_KILL_MS 7000
#define SUPERVISOR_ENV "DAEMON_WORKER"

struct supervisor;

struct supervisor_worker {
	struct supervisor *sup;     /* borrowed: the owner */
	unsigned k;
	uv_process_t proc;          /* open while `running` */
	uv_timer_t restart;         /* the next start after an exit */
	bool running;
	uint64_t started_ms;        /* loop time of the last start */
	unsigned backoff_ms;        /* delay of the next restart */
	unsigned restarts;
};

struct supervisor {
	uv_loop_t *loop;                 /* borrowed */
	const struct log *log;           /* borrowed */
	unsigned n;
	struct supervisor_worker *w;     /* owned, n of them */
	char exe[4096];
	char **argv;                     /* borrowed: the daemon's command line */
	uv_signal_t sig_usr1, sig_usr2;
	uv_timer_t kill_deadline;
	bool stopping;
	int exit_code;                   /* 1 when a worker failed while stopping */
	struct metric *m_running, *m_restarts;
};

/* Starts n workers (2..SUPERVISOR_MAX_WORKERS) running argv.  Returns 0
 * or an errno value with err set. */
int supervisor_start(struct supervisor *s, uv_loop_t *loop, const struct log *log,
		     struct metrics *metrics, unsigned n, char **argv, char *err,
		     size_t errlen);
/* Sends signum to every running worker (SIGHUP: reload). */
void supervisor_forward(struct supervisor *s, int signum);
/* SIGTERM to every worker, no more restarts; the supervisor's handles
 * close once the last worker has exited, which lets the loop end. */
void supervisor_stop(struct supervisor *s);
/* After the loop has ended. */
void supervisor_free(struct supervisor *s);

/* In a worker: parses SUPERVISOR_ENV ("<k>,<pid>") into *k and *ppid.
 * Returns 0, ENOENT when unset, EINVAL when malformed. */
int supervisor_worker_env(unsigned *k, long *ppid);
/* In worker k: asks for SIGTERM when the supervisor dies (ESRCH when it
 * already has) and pins the process to the k-th allowed CPU (modulo their
 * number), stored in *cpu.  Returns 0 or an errno value. */
int supervisor_worker_setup(unsigned k, long ppid, int *cpu);
/* The CPUs this process may run on (its affinity mask), at least 1. */
unsigned supervisor_cpus(void);

#endif
