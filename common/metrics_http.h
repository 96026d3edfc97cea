/* HTTP endpoint for operators: GET /metrics (Prometheus text format) and
 * GET /healthz.  One request per connection, bounded head size, idle
 * timeout and connection limit; runs on the daemon's libuv loop. */
#ifndef COMMON_METRICS_HTTP_H
#define COMMON_METRICS_HTTP_H

#include <uv.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"

struct metrics_http_conn;

struct metrics_http {
	uv_tcp_t listener;
	uv_loop_t *loop;
	struct metrics *metrics; /* borrowed from the daemon root */
	const struct log *log;   /* borrowed */
	unsigned log_sub;
	struct metrics_http_conn *conns; /* owned, doubly linked */
	unsigned n_conns, max_conns;
	unsigned idle_ms;
	struct sockaddr_storage bound; /* actual address (port 0 resolved) */
	struct metric *m_requests, *m_rejected;
	int open;
	int listener_open; /* listener handle not yet closed */
	void (*on_closed)(void *arg);
	void *on_closed_arg;
};

/* Binds and listens.  Returns 0, or a positive errno value with a reason
 * in err (e.g. "address already in use"). */
int metrics_http_start(struct metrics_http *h, uv_loop_t *loop,
		       const struct conf_addr *addr, struct metrics *metrics,
		       const struct log *log, unsigned log_sub, char *err,
		       size_t errlen);

/* Closes the listener and every connection; on_closed runs once all
 * handles are closed (may be NULL). */
void metrics_http_close(struct metrics_http *h, void (*on_closed)(void *arg),
			void *arg);

#endif
