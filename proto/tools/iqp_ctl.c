/* iqp-ctl: a scripted Iq+ controller (proto/SPEC.md 7.1.2) for tests and
 * the conformance suite.  It accepts one AGW connection (mutual TLS with
 * pinned fingerprints, or plain TCP when both ends say so), runs the
 * controller side of the link (proto/iqp_link.h), then reads requests as
 * JSON lines on stdin (the decoded form of proto/iqp_json.h), sends them,
 * and prints replies, EVENTs (which it ACKs) and link events as JSON lines
 * on stdout.  See proto/README.md "iqp-ctl" for the line formats. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "conf.h"
#include "iqp_build.h"
#include "iqp_json.h"
#include "iqp_link_uv.h"
#include "iqp_tls_conf.h"
#include "tls_identity.h"

#define LINE_MAX_BYTES (1u << 20)
#define MAX_PINS 16

struct ctl;

/* One request in flight: the tag the input line carried. */
struct pending {
	struct ctl *c;
	json_t *tag;               /* owned, may be NULL */
	char code[32];
};

struct ctl {
	uv_loop_t loop;
	uv_tcp_t listener;
	uv_pipe_t in;
	uv_signal_t sigterm, sigint;
	bool in_open, in_eof, stopping, tls_on;
	struct iqp_tls_ctx tls;
	struct tls_identity id;
	struct iqp_node_info self;
	struct iqp_link_cfg cfg;
	struct iqp_link_uv *u;     /* owned until gone: the one AGW link */
	bool registered;
	char *buf;                 /* stdin line assembly, owned */
	size_t len, cap;
	json_t *queue;             /* lines read before registration, owned */
	unsigned outstanding;
	int exit_code;
	bool exit_on_lost;
};

static void out(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		free(s);
	}
	json_decref(j);
}

static void note(const char *what, const char *key, json_t *val)
{
	json_t *j = json_pack("{s:s}", "link", what);
	if (j && key)
		json_object_set_new(j, key, val);
	else
		json_decref(val);
	out(j);
}

static void maybe_finish(struct ctl *c);
static void ctl_send_line(struct ctl *c, json_t *line);

/* --- Link hooks ------------------------------------------------------------- */

static void on_event(void *arg, struct iqp_link *l, const struct iqp_link_event *ev)
{
	struct ctl *c = arg;
	json_t *j;
	(void)l;

	switch (ev->type) {
	case IQP_LEV_REGISTERED:
		c->registered = true;
		j = json_pack("{s:s,s:s,s:I,s:i}", "link", "registered", "node_id", ev->peer->node_id,
			      "epoch", (json_int_t)ev->peer->epoch, "hb_interval", (int)ev->hb_interval);
		out(j);
		/* Lines read while registering go out now. */
		if (c->queue) {
			size_t i;
			json_t *line;
			json_t *q = c->queue;
			c->queue = NULL;
			json_array_foreach(q, i, line)
				json_incref(line);
			json_array_foreach(q, i, line)
				ctl_send_line(c, line);
			json_decref(q);
		}
		maybe_finish(c);
		break;
	case IQP_LEV_REFUSED:
		note("refused", "code", json_integer(ev->code));
		break;
	case IQP_LEV_LOST:
		c->registered = false;
		note("lost", "code", json_integer(ev->code));
		break;
	case IQP_LEV_FAILED:
		note("failed", "code", json_integer(ev->code));
		break;
	case IQP_LEV_DISCARDED:
		j = json_pack("{s:s,s:i,s:i,s:s}", "link", "discarded", "msg_code", (int)ev->msg_code,
			      "code", (int)ev->code, "text", ev->text ? ev->text : "");
		out(j);
		break;
	}
}

static unsigned on_authorize(void *arg, struct iqp_link *l, const struct iqp_node_info *agw,
			     char *text, size_t len)
{
	struct ctl *c = arg;
	/* 7.2.3 check 2: with TLS the NODE_ID must be a name of the certificate. */
	if (!c->tls_on || iqp_link_uv_peer_has_name(iqp_link_uv_of(l), agw->node_id))
		return 0;
	snprintf(text, len, "NODE_ID is not a name of the client certificate");
	return 504;
}

static unsigned on_admit(void *arg, struct iqp_link *l, const struct iqp_node_info *agw,
			 char *text, size_t len, uint32_t *retry_after)
{
	(void)arg;
	(void)l;
	(void)agw;
	(void)text;
	(void)len;
	(void)retry_after;
	return 0;
}

/* EVENT from the AGW: print it, ACK it (6.4). */
static void on_notify(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	struct ctl *c = arg;
	struct iqp_header h = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_ACK,
				.code = m->hdr.code, .txid = m->hdr.txid };
	struct iqp_msg ack;
	json_t *j;

	if (!iqp_json_from_msg(m, &j))
		out(json_pack("{s:o}", "event", j));
	if (!iqp_msg_init(&ack, &h, NULL, 256)) {
		iqp_link_answer(l, uv_now(&c->loop), &ack, 0);
		iqp_msg_free(&ack);
	}
}

/* SERVICE_CHANGE from the AGW (7.7, 7.8, 7.12): print it, accept it.  The
 * script judges whether it fits (this controller keeps no AGW state). */
static void on_service_change(void *arg, struct iqp_link *l, const struct iqp_msg *m)
{
	struct ctl *c = arg;
	struct iqp_header h = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_REPLY,
				.code = m->hdr.code, .txid = m->hdr.txid };
	struct iqp_msg r;
	json_t *j;

	if (!iqp_json_from_msg(m, &j))
		out(json_pack("{s:o}", "service_change", j));
	if (!iqp_msg_init(&r, &h, NULL, 256)) {
		iqp_link_answer(l, uv_now(&c->loop), &r, 0);
		iqp_msg_free(&r);
	}
}

static const struct iqp_link_hooks hooks = {
	.event = on_event,
	.authorize = on_authorize,
	.admit = on_admit,
	.calls = { .event = on_notify, .service_change = on_service_change },
};

static void on_gone(void *arg, struct iqp_link_uv *u)
{
	struct ctl *c = arg;

	if (u && u != c->u)
		return; /* a refused second connection */
	c->u = NULL;
	c->registered = false;
	if (c->exit_on_lost || c->stopping) {
		if (!c->stopping)
			note("closed", NULL, NULL);
		c->stopping = true;
		if (!uv_is_closing((uv_handle_t *)&c->listener))
			uv_close((uv_handle_t *)&c->listener, NULL);
		if (c->in_open && !uv_is_closing((uv_handle_t *)&c->in))
			uv_close((uv_handle_t *)&c->in, NULL);
		uv_close((uv_handle_t *)&c->sigterm, NULL);
		uv_close((uv_handle_t *)&c->sigint, NULL);
	}
}

static void on_tls_failed(void *arg, struct iqp_link_uv *u, bool auth, const char *why,
			  const char *fp)
{
	(void)arg;
	(void)u;
	out(json_pack("{s:s,s:b,s:s,s:s}", "link", "tls_failed", "auth", auth, "reason",
		      why ? why : "", "fingerprint", fp ? fp : ""));
}

static const struct iqp_link_uv_ops uv_ops = { .gone = on_gone, .tls_failed = on_tls_failed };

/* --- Requests --------------------------------------------------------------- */

/* Rebuilds src's children under dparent in canonical order (4.7). */
static void canon_copy(struct iqp_msg *dst, struct iqp_elem *dparent, const struct iqp_elem *first)
{
	for (const struct iqp_elem *e = first; e; e = e->next) {
		struct iqp_elem *n = NULL;
		bool registered = e->def && e->type == iqp_elem_def_type(e->def);
		if (e->type & IQP_TYPE_C) {
			if (registered)
				iqp_add_container(dst, dparent, iqp_elem_code(e), &n);
			else
				iqp_append_raw(dst, dparent, e->type, NULL, 0, &n);
			canon_copy(dst, n, e->child);
		} else if (registered) {
			iqp_add(dst, dparent, iqp_elem_code(e), e->value, e->len, NULL);
		} else {
			iqp_append_raw(dst, dparent, e->type, e->value, e->len, NULL);
		}
	}
}

static void on_done(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		    const struct iqp_error *err)
{
	struct pending *p = arg;
	struct ctl *c = p->c;
	json_t *j = json_object(), *r;
	(void)l;

	json_object_set_new(j, "request", json_string(p->code));
	if (p->tag)
		json_object_set(j, "tag", p->tag);
	if (reply && !iqp_json_from_msg(reply, &r))
		json_object_set_new(j, "reply", r);
	if (err)
		json_object_set_new(j, "error", json_pack("{s:i,s:s}", "code", (int)err->code,
							  "text", err->text));
	out(j);
	json_decref(p->tag);
	free(p);
	c->outstanding--;
	maybe_finish(c);
}

static void say_error(json_t *tag, const char *why)
{
	json_t *j = json_pack("{s:s}", "input_error", why);
	if (tag)
		json_object_set(j, "tag", tag);
	out(j);
}

/* Sends one parsed input line (consumes the reference). */
static void ctl_send_line(struct ctl *c, json_t *line)
{
	json_t *hdr = json_object_get(line, "header"), *tag = json_object_get(line, "tag");
	struct iqp_msg src, dst;
	struct pending *p;
	char err[160];
	int rc;

	if (!json_is_object(hdr)) {
		say_error(tag, "no header object");
		goto out;
	}
	/* Defaults: only "code" is needed (the link sets kind and txid). */
	if (!json_object_get(hdr, "version"))
		json_object_set_new(hdr, "version", json_integer(IQP_VERSION_MAJOR));
	if (!json_object_get(hdr, "kind"))
		json_object_set_new(hdr, "kind", json_string("REQUEST"));
	if (!json_object_get(hdr, "flags"))
		json_object_set_new(hdr, "flags", json_integer(0));
	if (!json_object_get(hdr, "txid"))
		json_object_set_new(hdr, "txid", json_integer(0));
	if (!json_object_get(line, "body"))
		json_object_set_new(line, "body", json_array());
	if (iqp_json_to_msg(line, &src, err, sizeof(err))) {
		say_error(tag, err);
		goto out;
	}
	if (json_is_true(json_object_get(line, "raw"))) {
		dst = src;
	} else {
		if (iqp_msg_init(&dst, &src.hdr, NULL, 2 * src.mem_cap + 1024)) {
			iqp_msg_free(&src);
			say_error(tag, "out of memory");
			goto out;
		}
		canon_copy(&dst, NULL, src.first);
		iqp_msg_free(&src);
		if (dst.err) {
			iqp_msg_free(&dst);
			say_error(tag, "body does not fit the registry (use \"raw\": true)");
			goto out;
		}
	}
	if (!c->u || !c->registered) {
		iqp_msg_free(&dst);
		say_error(tag, "no registered AGW");
		goto out;
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		iqp_msg_free(&dst);
		goto out;
	}
	p->c = c;
	p->tag = tag ? json_incref(tag) : NULL;
	const struct iqp_msg_def *d = iqp_msg_def_find(dst.hdr.code);
	snprintf(p->code, sizeof(p->code), "%s", d ? d->name : "?");
	if ((rc = iqp_link_request(&c->u->link, uv_now(&c->loop), &dst, on_done, p))) {
		say_error(tag, strerror(rc));
		json_decref(p->tag);
		free(p);
	} else {
		c->outstanding++;
		iqp_link_uv_post(c->u);
	}
	iqp_msg_free(&dst);
out:
	json_decref(line);
}

static void handle_line(struct ctl *c, const char *s)
{
	json_error_t je;
	json_t *line;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	if (!*s || *s == '#')
		return;
	if (!(line = json_loads(s, 0, &je))) {
		say_error(NULL, je.text);
		return;
	}
	if (json_is_true(json_object_get(line, "close"))) {
		/* {"close": true}: end the link now (CLOSE 1000). */
		json_decref(line);
		c->stopping = true;
		if (c->u)
			iqp_link_uv_stop(c->u, IQP_ERR_NORMAL_CLOSE, "iqp-ctl done");
		return;
	}
	if (!c->registered) {
		if (!c->queue)
			c->queue = json_array();
		json_array_append_new(c->queue, line);
		return;
	}
	ctl_send_line(c, line);
}

static void maybe_finish(struct ctl *c)
{
	if (c->in_eof && !c->outstanding && !c->queue && c->registered && !c->stopping) {
		c->stopping = true;
		note("done", NULL, NULL);
		iqp_link_uv_stop(c->u, IQP_ERR_NORMAL_CLOSE, "iqp-ctl done");
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct ctl *c = h->data;
	(void)suggested;
	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? 2 * c->cap : 65536;
		char *n = cap <= 2 * LINE_MAX_BYTES ? realloc(c->buf, cap) : NULL;
		if (n) {
			c->buf = n;
			c->cap = cap;
		}
	}
	*b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ctl *c = s->data;
	(void)b;

	if (n < 0) {
		c->in_eof = true;
		uv_close((uv_handle_t *)&c->in, NULL);
		c->in_open = false;
		maybe_finish(c);
		return;
	}
	c->len += (size_t)n;
	char *start = c->buf, *nl;
	while ((nl = memchr(start, '\n', c->len - (size_t)(start - c->buf)))) {
		*nl = 0;
		handle_line(c, start);
		start = nl + 1;
	}
	c->len -= (size_t)(start - c->buf);
	memmove(c->buf, start, c->len);
	if (c->len > LINE_MAX_BYTES) {
		say_error(NULL, "line too long");
		c->len = 0;
	}
}

/* --- Connections and start-up ------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl *c = server->data;
	struct iqp_link_uv *u;

	if (status < 0 || c->stopping)
		return;
	if (iqp_link_uv_new(&u, &c->loop, &c->cfg, &hooks, c, c->tls_on ? &c->tls : NULL, NULL,
			    &uv_ops, c))
		return;
	if (iqp_link_uv_accept(u, server)) {
		iqp_link_uv_stop(u, 0, NULL);
		return;
	}
	if (c->u) {
		/* One AGW at a time: a second connection is refused. */
		iqp_link_uv_stop(u, 503, "iqp-ctl serves one AGW");
		return;
	}
	c->u = u;
	note("accepted", "addr", json_string(u->peer));
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct ctl *c = h->data;
	(void)signum;
	c->stopping = true;
	if (c->u)
		iqp_link_uv_stop(c->u, IQP_ERR_NORMAL_CLOSE, "iqp-ctl stopped");
	else
		on_gone(c, NULL);
}

static void usage(void)
{
	fputs("usage: iqp-ctl [--listen IP:PORT] [--security tls|tcp] [--node-id NAME]\n"
	      "               [--state-dir DIR] [--cert PEM --key PEM] [--pin SHA256]...\n"
	      "               [--hb-interval MS] [--exit-on-lost]\n"
	      "Accepts one eims-agw, then sends JSON-line requests read on stdin and prints\n"
	      "replies and EVENTs as JSON lines (proto/README.md).\n", stderr);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "security", required_argument, NULL, 's' },
		{ "node-id", required_argument, NULL, 'n' }, { "state-dir", required_argument, NULL, 'd' },
		{ "cert", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'k' },
		{ "pin", required_argument, NULL, 'p' }, { "hb-interval", required_argument, NULL, 'h' },
		{ "exit-on-lost", no_argument, NULL, 'x' }, { "help", no_argument, NULL, '?' },
		{ "epoch", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = "127.0.0.1:7190", *node = "iqp-ctl", *state = "/tmp/iqp-ctl";
	const char *cert = "", *key = "";
	char *pins[MAX_PINS], *where[MAX_PINS];
	struct conf_list pin_list = { 0, pins, where };
	struct conf_addr addr;
	struct ctl c;
	char err[CONF_ERR_MAX];
	int opt;
	unsigned hb = 5000;
	uint64_t epoch = 0; /* 0: a new one, from the clock */

	memset(&c, 0, sizeof(c));
	c.tls_on = true;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen = optarg; break;
		case 's':
			if (strcmp(optarg, "tls") && strcmp(optarg, "tcp")) {
				usage();
				return 2;
			}
			c.tls_on = !strcmp(optarg, "tls");
			break;
		case 'n': node = optarg; break;
		case 'd': state = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'p':
			if (pin_list.n == MAX_PINS) {
				fputs("iqp-ctl: too many --pin\n", stderr);
				return 2;
			}
			pins[pin_list.n] = optarg;
			where[pin_list.n++] = (char *)"command line";
			break;
		case 'h': hb = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'x': c.exit_on_lost = true; break;
		case 'e': /* a restart that kept its state keeps its epoch (SPEC 7.9) */
			epoch = strtoull(optarg, NULL, 10);
			if (!epoch) {
				fputs("iqp-ctl: --epoch: a non-zero integer\n", stderr);
				return 2;
			}
			break;
		default: usage(); return 2;
		}
	}
	if (conf_addr_parse(listen, &addr)) {
		fprintf(stderr, "iqp-ctl: --listen %s: not IP:PORT\n", listen);
		return 2;
	}
	if (!iqp_node_id_valid(node)) {
		fprintf(stderr, "iqp-ctl: --node-id %s: not a node id\n", node);
		return 2;
	}
	if (c.tls_on) {
		struct iqp_tls_conf tc = {
			.cert = cert, .key = key, .state_dir = state, .node_id = node,
			.pins = &pin_list, .ca_file = "", .where_cert = "--cert",
			.where_key = "--key", .where_ca = "--ca", .where_state_dir = "--state-dir",
		};
		if (iqp_tls_conf_load(&c.tls, &c.id, true, &tc, err, sizeof(err))) {
			fprintf(stderr, "iqp-ctl: %s\n", err);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&c.loop);
	snprintf(c.self.node_id, sizeof(c.self.node_id), "%s", node);
	c.self.epoch = epoch ? epoch : (uint64_t)time(NULL) * 1000;
	snprintf(c.self.software, sizeof(c.self.software), "iqp-ctl");
	c.cfg.role = IQP_ROLE_CONTROLLER;
	c.cfg.self = &c.self;
	c.cfg.params.hb_interval = hb;
	c.cfg.params.max_frame = IQP_MAX_FRAME_MIN;
	c.cfg.params.max_outstanding = IQP_MAX_OUTSTANDING;
	c.cfg.params.cache_ttl = IQP_CACHE_TTL_MS;
	c.cfg.seed = c.self.epoch ^ (uint64_t)getpid();

	uv_tcp_init(&c.loop, &c.listener);
	c.listener.data = &c;
	int rc = uv_tcp_bind(&c.listener, (const struct sockaddr *)&addr.ss, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&c.listener, 8, on_connection);
	if (rc) {
		fprintf(stderr, "iqp-ctl: cannot listen on %s: %s\n", listen, uv_strerror(rc));
		return 2;
	}
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	char bound[80];
	uv_tcp_getsockname(&c.listener, (struct sockaddr *)&ss, &sl);
	conf_addr_format((struct sockaddr *)&ss, bound, sizeof(bound));
	json_t *j = json_pack("{s:s,s:s,s:s}", "link", "listening", "addr", bound, "security",
			      c.tls_on ? "tls" : "tcp");
	if (c.tls_on)
		json_object_set_new(j, "fingerprint", json_string(c.id.fingerprint_sha256));
	out(j);

	uv_pipe_init(&c.loop, &c.in, 0);
	c.in.data = &c;
	if (!uv_pipe_open(&c.in, 0) && !uv_read_start((uv_stream_t *)&c.in, on_alloc, on_read)) {
		c.in_open = true;
	} else {
		uv_close((uv_handle_t *)&c.in, NULL);
		c.in_eof = true;
	}
	uv_signal_init(&c.loop, &c.sigterm);
	uv_signal_init(&c.loop, &c.sigint);
	c.sigterm.data = c.sigint.data = &c;
	uv_signal_start(&c.sigterm, on_signal, SIGTERM);
	uv_signal_start(&c.sigint, on_signal, SIGINT);

	uv_run(&c.loop, UV_RUN_DEFAULT);
	uv_loop_close(&c.loop);
	free(c.buf);
	json_decref(c.queue);
	if (c.tls_on) {
		iqp_tls_ctx_free(&c.tls);
		tls_identity_free(&c.id);
	}
	return c.exit_code;
}
