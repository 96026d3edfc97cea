/* An Iq+ link driven by a libuv loop: connection, timer, link. */
#include "iqp_link_uv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static void post(struct iqp_link_uv *u);

struct iqp_link_uv *iqp_link_uv_of(struct iqp_link *l)
{
	return (struct iqp_link_uv *)(void *)((char *)l - offsetof(struct iqp_link_uv, link));
}

/* --- The link's connection (struct iqp_link_io) --------------------------- */

static int io_send(void *arg, const uint8_t *f, size_t len)
{
	struct iqp_link_uv *u = arg;
	return u->conn ? iqp_conn_send(u->conn, f, len) : ENOTCONN;
}

static void io_close(void *arg, unsigned code, const char *text)
{
	struct iqp_link_uv *u = arg;
	if (u->conn) {
		iqp_conn_close(u->conn, code, text);
		u->conn = NULL;
	}
}

static const struct iqp_conn_ops conn_ops;

static void io_connect(void *arg, size_t target, const struct iqp_redirect *redirect)
{
	struct iqp_link_uv *u = arg;
	const struct iqp_target *t = &u->targets[target];

	if (redirect) {
		iqp_target_from_redirect(redirect, u->targets, u->link.cfg.n_targets,
					 &u->redirect);
		t = &u->redirect;
	}

	snprintf(u->peer, sizeof(u->peer), "%s", t->text);
	u->connect_failed = iqp_conn_connect(&u->conn, u->loop,
					     (const struct sockaddr *)&t->addr, u->tls,
					     t->name, &conn_ops, u);
	if (u->connect_failed)
		u->conn = NULL; /* reported by post() */
}

static void io_limits(void *arg, uint32_t max_frame, uint8_t major, uint32_t hb)
{
	struct iqp_link_uv *u = arg;
	/* 2.4: TCP_USER_TIMEOUT = 3 x HB_INTERVAL. */
	if (u->conn)
		iqp_conn_set_limits(u->conn, max_frame, major, 3 * hb);
}

static const struct iqp_link_io link_io = {
	.send = io_send,
	.close = io_close,
	.connect = io_connect,
	.limits = io_limits,
};

/* --- Connection events ------------------------------------------------- */

static void on_ready(void *arg)
{
	struct iqp_link_uv *u = arg;
	iqp_link_connected(&u->link, uv_now(u->loop));
	post(u);
}

static void on_frame(void *arg, const struct iqp_frame *f)
{
	struct iqp_link_uv *u = arg;
	iqp_link_frame(&u->link, uv_now(u->loop), &f->hdr, f->body);
	post(u);
}

static void on_down(void *arg, const struct iqp_conn_end *end)
{
	struct iqp_link_uv *u = arg;
	const char *fp = u->conn ? iqp_conn_peer_fingerprint(u->conn) : "";
	char fpc[IQP_FP_LEN * 3];

	snprintf(fpc, sizeof(fpc), "%s", fp);
	u->conn = NULL;
	if (u->ops->tls_failed && end->tls)
		u->ops->tls_failed(u->arg, u, end->auth, end->text, fpc);
	iqp_link_conn_down(&u->link, uv_now(u->loop), end->code, end->text);
	post(u);
}

static const struct iqp_conn_ops conn_ops = {
	.ready = on_ready,
	.frame = on_frame,
	.down = on_down,
};

/* --- Timer and teardown --------------------------------------------- */

static void on_timer_closed(uv_handle_t *h)
{
	struct iqp_link_uv *u = h->data;

	u->ops->gone(u->arg, u);
	iqp_link_free(&u->link, uv_now(u->loop));
	free(u);
}

static void on_timer(uv_timer_t *t)
{
	struct iqp_link_uv *u = t->data;
	iqp_link_tick(&u->link, uv_now(u->loop));
	post(u);
}

/* After every call into the link: report a failed connect, end a closed
 * controller link, and arm the timer at the next deadline. */
static void post(struct iqp_link_uv *u)
{
	uint64_t now = uv_now(u->loop), d;

	while (u->connect_failed && !u->ending) {
		char why[96];
		snprintf(why, sizeof(why), "connect failed: %s", strerror(u->connect_failed));
		u->connect_failed = 0;
		iqp_link_conn_down(&u->link, now, 0, why);
	}
	if (u->ending)
		return;
	if ((u->link.state == IQP_LINK_CLOSED ||
	     (u->link.stopping && u->link.state == IQP_LINK_IDLE)) && !u->conn) {
		u->ending = true;
		uv_close((uv_handle_t *)&u->timer, on_timer_closed);
		return;
	}
	d = iqp_link_deadline(&u->link);
	if (d == UINT64_MAX)
		uv_timer_stop(&u->timer);
	else
		uv_timer_start(&u->timer, on_timer, d > now ? d - now : 0, 0);
}

int iqp_link_uv_new(struct iqp_link_uv **out, uv_loop_t *loop,
		    const struct iqp_link_cfg *cfg,
		    const struct iqp_link_hooks *hooks, void *hook_arg,
		    const struct iqp_tls_ctx *tls, const struct iqp_target *targets,
		    const struct iqp_link_uv_ops *ops, void *arg)
{
	struct iqp_link_uv *u = calloc(1, sizeof(*u));
	int rc;

	if (!u)
		return ENOMEM;
	if ((rc = iqp_link_init(&u->link, cfg, &link_io, u, hooks, hook_arg))) {
		free(u);
		return rc;
	}
	u->loop = loop;
	u->tls = tls;
	u->targets = targets;
	u->ops = ops;
	u->arg = arg;
	uv_timer_init(loop, &u->timer);
	u->timer.data = u;
	*out = u;
	return 0;
}

void iqp_link_uv_start(struct iqp_link_uv *u)
{
	iqp_link_start(&u->link, uv_now(u->loop));
	post(u);
}

int iqp_link_uv_accept(struct iqp_link_uv *u, uv_stream_t *server)
{
	int rc = iqp_conn_accept(&u->conn, u->loop, server, u->tls, &conn_ops, u);

	if (rc) {
		u->conn = NULL;
		return rc;
	}
	snprintf(u->peer, sizeof(u->peer), "%s", iqp_conn_peer(u->conn));
	iqp_link_start(&u->link, uv_now(u->loop));
	post(u);
	return 0;
}

void iqp_link_uv_stop(struct iqp_link_uv *u, unsigned code, const char *text)
{
	if (u->ending)
		return;
	iqp_link_stop(&u->link, uv_now(u->loop), code, text);
	if (u->conn) { /* never started (accept failed): nothing to say */
		iqp_conn_close(u->conn, 0, NULL);
		u->conn = NULL;
	}
	post(u);
}

int iqp_link_uv_request(struct iqp_link_uv *u, struct iqp_msg *req, iqp_link_done_h *done,
			void *arg)
{
	int rc = iqp_link_request(&u->link, uv_now(u->loop), req, done, arg);
	if (!u->ending)
		post(u);
	return rc;
}

int iqp_link_uv_answer(struct iqp_link_uv *u, struct iqp_msg *ans, unsigned err_code)
{
	int rc = iqp_link_answer(&u->link, uv_now(u->loop), ans, err_code);
	if (!u->ending)
		post(u);
	return rc;
}

int iqp_link_uv_handoff(struct iqp_link_uv *u, const struct iqp_redirect *t, size_t n)
{
	int rc = iqp_link_handoff(&u->link, uv_now(u->loop), t, n);
	if (!u->ending)
		post(u);
	return rc;
}

bool iqp_link_uv_peer_has_name(const struct iqp_link_uv *u, const char *name)
{
	return u->conn && iqp_conn_peer_has_name(u->conn, name);
}

bool iqp_link_uv_secure(const struct iqp_link_uv *u)
{
	return u->tls != NULL;
}

void iqp_target_from_redirect(const struct iqp_redirect *r, const struct iqp_target *conf,
			      size_t n_conf, struct iqp_target *out)
{
	memset(out, 0, sizeof(*out));
	if (r->addr.ip.family == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&out->addr;
		a->sin_family = AF_INET;
		a->sin_port = htons(r->addr.port);
		memcpy(&a->sin_addr, r->addr.ip.addr, 4);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->addr;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(r->addr.port);
		memcpy(&a->sin6_addr, r->addr.ip.addr, 16);
	}
	conf_addr_format((const struct sockaddr *)&out->addr, out->text, sizeof(out->text));
	if (r->name[0]) {
		snprintf(out->name, sizeof(out->name), "%s", r->name);
		return;
	}
	/* 7.4 item 4: else the configured name of that address. */
	for (size_t i = 0; i < n_conf; i++)
		if (!strcmp(conf[i].text, out->text)) {
			snprintf(out->name, sizeof(out->name), "%s", conf[i].name);
			return;
		}
}

int iqp_target_parse(const char *text, struct iqp_target *out)
{
	struct conf_addr a;
	char addr[80];
	const char *sp = strchr(text, ' ');
	size_t n = sp ? (size_t)(sp - text) : strlen(text);

	memset(out, 0, sizeof(*out));
	if (!n || n >= sizeof(addr))
		return EINVAL;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (conf_addr_parse(addr, &a) || !a.len)
		return EINVAL;
	if (((struct sockaddr_in *)&a.ss)->sin_port == 0)
		return EINVAL;
	memcpy(&out->addr, &a.ss, sizeof(out->addr));
	conf_addr_format((struct sockaddr *)&a.ss, out->text, sizeof(out->text));
	if (sp) {
		while (*sp == ' ')
			sp++;
		if (!*sp || strlen(sp) >= sizeof(out->name) || strchr(sp, ' '))
			return EINVAL;
		snprintf(out->name, sizeof(out->name), "%s", sp);
	}
	return 0;
}

void iqp_link_uv_post(struct iqp_link_uv *u)
{
	post(u);
}
