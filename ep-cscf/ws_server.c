/* libwebsockets glue for SIP over WebSocket. */
#include "ws_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ws_server_int.h"

static struct ws_conn *conn_of(struct ka_entry *e)
{
	return (struct ws_conn *)(void *)e;
}

static void sockaddr_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
			  (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  buf, (socklen_t)len);
	else
		snprintf(buf, len, "?");
}

/* Answers the upgrade request with an HTTP error and a one-line reason;
 * returns what the CONFIRM_UPGRADE callback must return.  Written by hand:
 * at this stage lws would label the status line HTTP/1.0. */
static int refuse_upgrade(struct lws *wsi, unsigned status, const char *why)
{
	unsigned char buf[LWS_PRE + 512];
	char *start = (char *)buf + LWS_PRE;
	int n = snprintf(start, sizeof(buf) - LWS_PRE,
			 "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s\n",
			 status, status == 403 ? "Forbidden" : "Bad Request", strlen(why) + 1, why);
	if (n <= 0 || (size_t)n >= sizeof(buf) - LWS_PRE ||
	    lws_write(wsi, (unsigned char *)start, (size_t)n, LWS_WRITE_HTTP_HEADERS) < n)
		return -1;
	return 1;
}

static int header(struct lws *wsi, enum lws_token_indexes t, char *buf, int len)
{
	int n = lws_hdr_copy(wsi, buf, len, t);
	if (n < 0)
		buf[0] = '\0';
	return n;
}

/* Does the comma-separated Sec-WebSocket-Protocol list offer "sip"? */
static int offers_sip(const char *list)
{
	const char *p = list;
	while (*p) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,");
		if (n == 3 && !strncmp(p, "sip", 3))
			return 1;
		p += n;
	}
	return 0;
}

static int confirm_upgrade(struct ws_server *s, struct lws *wsi, const char *to)
{
	char origin[WWSF_ORIGIN_MAX], proto[256], peer[64];

	lws_get_peer_simple(wsi, peer, sizeof(peer));
	if (!to || strcmp(to, "websocket"))
		return refuse_upgrade(wsi, 400, "only WebSocket upgrades");
	if (header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin)) <= 0 ||
	    !wwsf_policy_match(s->cfg.policy, origin)) {
		metric_inc(s->m_rej_origin);
		log_info(s->log, s->sub, NULL, "upgrade refused",
			 LF_S("reason", origin[0] ? "origin not allowed" : "no Origin"),
			 LF_S("origin", origin), LF_S("peer", peer), LF_I("status", 403));
		return refuse_upgrade(wsi, 403, "origin not allowed");
	}
	if (header(wsi, WSI_TOKEN_PROTOCOL, proto, sizeof(proto)) <= 0 ||
	    !offers_sip(proto)) {
		metric_inc(s->m_rej_proto);
		log_info(s->log, s->sub, NULL, "upgrade refused",
			 LF_S("reason", "subprotocol sip not offered (RFC 7118)"),
			 LF_S("protocols", proto), LF_S("peer", peer), LF_I("status", 400));
		return refuse_upgrade(wsi, 400, "subprotocol sip required (RFC 7118)");
	}
	return 0;
}

/* Once a second: ping flows silent for ping_s, hang up on flows that did
 * not answer a ping (what lws's validity timers did, in O(1) a flow). */
static void on_ka_tick(uv_timer_t *t)
{
	struct ws_server *s = t->data;
	uint64_t now = uv_now(s->loop);
	struct ws_conn *c;

	struct ka_entry *e;

	while ((e = ka_due(&s->ka_ping, now))) {
		c = conn_of(e);
		ka_unlink(e);
		log_info(s->log, s->sub, NULL, "flow closed", LF_S("flow", c->flow->token),
			 LF_S("reason", "no answer to ping"), LF_U("secs", s->ka_ping.delay_ms / 1000));
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	while ((e = ka_due(&s->ka_idle, now))) {
		c = conn_of(e);
		ka_arm(&s->ka_ping, e, now);
		if (!c->close_code) {
			c->ping_pending = 1;
			lws_callback_on_writable(c->wsi);
		}
	}
}

static int established(struct ws_server *s, struct lws *wsi, struct ws_conn **pss)
{
	char origin[WWSF_ORIGIN_MAX];
	struct ws_conn *c = calloc(1, sizeof(*c));
	struct flow *f = c ? flow_table_add(s->flows) : NULL;
	struct ws_ip_count *ipc;

	if (!f) {
		free(c);
		return -1;
	}
	c->wsi = wsi;
	c->flow = f;
	c->tokens = s->cfg.msg_burst;
	c->refill_ms = uv_now(s->loop);
	f->conn = c;
	f->secure = lws_is_ssl(wsi);
	lws_get_peer_simple(wsi, f->peer, sizeof(f->peer));
	snprintf(c->ip, sizeof(c->ip), "%s", f->peer);
	header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	wwsf_origin_normalize(origin, f->origin, sizeof(f->origin));
	f->wwsf = wwsf_policy_match(s->cfg.policy, origin);
	if ((ipc = ws_ip_find(&s->ips, c->ip, 1)))
		ipc->n++;
	else
		c->ip[0] = '\0';
	*pss = c;
	ka_arm(&s->ka_idle, &c->ka, uv_now(s->loop));
	metric_inc(s->m_opened);
	log_info(s->log, s->sub, NULL, "flow opened", LF_S("flow", f->token),
		 LF_S("peer", f->peer), LF_S("origin", f->origin),
		 LF_S("wwsf", f->wwsf ? f->wwsf->name : ""),
		 LF_S("transport", f->secure ? "wss" : "ws"));
	if (s->ops.opened)
		s->ops.opened(s->ops.arg, f);
	return 0;
}

static void conn_free(struct ws_server *s, struct ws_conn *c)
{
	ka_unlink(&c->ka);
	ws_send_drop_queue(c);
	free(c->rx);
	if (c->ip[0])
		ws_ip_release(&s->ips, c->ip);
	free(c);
}

/* Token bucket: msg_rate per second, msg_burst deep. */
static int rate_ok(struct ws_server *s, struct ws_conn *c)
{
	uint64_t now = uv_now(s->loop);
	c->tokens += (double)(now - c->refill_ms) * s->cfg.msg_rate / 1000.0;
	if (c->tokens > s->cfg.msg_burst)
		c->tokens = s->cfg.msg_burst;
	c->refill_ms = now;
	if (c->tokens < 1)
		return 0;
	c->tokens -= 1;
	return 1;
}

static int receive(struct ws_server *s, struct ws_conn *c, const void *in, size_t len)
{
	struct flow *f = c->flow;

	if (c->close_code)
		return 0; /* closing: ignore the rest */
	ka_arm(&s->ka_idle, &c->ka, uv_now(s->loop)); /* the peer is alive: no ping for ping_s */
	if (c->rx_len + len > s->cfg.max_message) {
		metric_inc(s->m_rej_size);
		log_info(s->log, s->sub, NULL, "flow closed", LF_S("flow", f->token),
			 LF_S("reason", "message too big"),
			 LF_U("limit", s->cfg.max_message), LF_I("code", 1009));
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 (unsigned char *)"message too big", 15);
		return -1;
	}
	int last = lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi);
	if (!last || c->rx_len) {
		/* A message in several pieces (fragments, or bigger than
		 * rx_buffer_size): reassemble it. */
		if (c->rx_len + len > c->rx_cap) {
			size_t cap = c->rx_cap ? c->rx_cap : 2048;
			while (cap < c->rx_len + len)
				cap *= 2;
			char *p = realloc(c->rx, cap);
			if (!p)
				return -1;
			c->rx = p;
			c->rx_cap = cap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		if (!last)
			return 0;
	}

	/* Whole in lws's buffer (the common case) or reassembled. */
	const char *msg = c->rx_len ? c->rx : in;
	size_t n = c->rx_len ? c->rx_len : len;
	c->rx_len = 0;
	if (!rate_ok(s, c)) {
		metric_inc(s->m_rej_rate);
		log_info(s->log, s->sub, NULL, "flow closed", LF_S("flow", f->token),
			 LF_S("reason", "message rate exceeded"),
			 LF_U("rate", s->cfg.msg_rate), LF_I("code", 1008));
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"message rate exceeded", 21);
		return -1;
	}
	metric_inc(s->m_msgs_in);
	if (s->ops.message)
		s->ops.message(s->ops.arg, f, msg, n);
	/* Idle flows keep no receive buffer (it cost 2 KiB a flow). */
	free(c->rx);
	c->rx = NULL;
	c->rx_cap = 0;
	return 0;
}

/* At most this many connections between accept and WebSocket established
 * (TLS and upgrade handshakes): libwebsockets keeps each one's timeout in
 * one sorted list, O(handshakes) per insertion; more wait in the kernel's
 * backlog (ws_listen.h). */
#define MAX_HANDSHAKES 256
#define LISTEN_BACKLOG 4096

static int handshake_room(void *arg)
{
	struct ws_server *s = arg;
	return !s->stopping && s->handshakes < MAX_HANDSHAKES;
}

/* A connection adopted by lws is marked with the server as its opaque
 * data until its handshake is over (established or gone). */
static void handshake_over(struct ws_server *s, struct lws *wsi)
{
	if (lws_get_opaque_user_data(wsi) != s)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	s->handshakes--;
	if (s->stopping)
		return;
	ws_listen_resume(&s->lst_wss);
	ws_listen_resume(&s->lst_ws);
}

static void on_accept(void *arg, struct ws_listen *l, int fd, const struct sockaddr *peer)
{
	struct ws_server *s = arg;
	char ip[INET6_ADDRSTRLEN];
	lws_sock_file_fd_type d = { .sockfd = fd };

	sockaddr_ip(peer, ip, sizeof(ip));
	struct ws_ip_count *c = ws_ip_find(&s->ips, ip, 0);
	if (c && c->n >= s->cfg.max_per_ip) {
		metric_inc(s->m_rej_ip);
		log_info(s->log, s->sub, NULL, "connection refused",
			 LF_S("reason", "too many flows from this address"),
			 LF_S("ip", ip), LF_U("limit", s->cfg.max_per_ip));
		close(fd);
		return;
	}
	int secure = l == &s->lst_wss;
	struct lws *wsi = lws_adopt_descriptor_vhost(
		secure ? s->vh_wss : s->vh_ws,
		LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | (secure ? LWS_ADOPT_ALLOW_SSL : 0), d, NULL,
		NULL);
	if (!wsi)
		return; /* lws closed fd (over its connection limit, or out of memory) */
	lws_set_opaque_user_data(wsi, s);
	s->handshakes++;
}

static int callback_sip(struct lws *wsi, enum lws_callback_reasons reason,
			void *user, void *in, size_t len)
{
	struct lws_vhost *vh = lws_get_vhost(wsi);
	struct ws_server *s = vh ? lws_get_vhost_user(vh) : NULL;
	struct ws_conn **pss = user;

	if (!s)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_WSI_DESTROY:
		handshake_over(s, wsi); /* if it ended before the upgrade */
		return 0;
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		/* user is the SSL_CTX: free the 32 KiB of record buffers of
		 * idle connections, and refuse anything below TLS 1.2. */
		SSL_CTX_set_mode((SSL_CTX *)user, SSL_MODE_RELEASE_BUFFERS);
		SSL_CTX_set_min_proto_version((SSL_CTX *)user, TLS1_2_VERSION);
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(s, wsi, in);
	case LWS_CALLBACK_HTTP:
		/* Not an upgrade: this port only speaks SIP over WebSocket. */
		if (lws_return_http_status(wsi, 426, "SIP over WebSocket only"))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		handshake_over(s, wsi);
		return established(s, wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return *pss ? receive(s, *pss, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return *pss ? ws_send_writeable(s, *pss) : -1;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (*pss && !(*pss)->close_code)
			ka_arm(&s->ka_idle, &(*pss)->ka, uv_now(s->loop));
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (*pss)
			(*pss)->peer_closing = 1;
		if (*pss && len >= 2) {
			const unsigned char *b = in;
			log_debug(s->log, s->sub, NULL, "peer closing",
				  LF_S("flow", (*pss)->flow->token), LF_I("code", b[0] << 8 | b[1]));
		}
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (*pss) {
			struct ws_conn *c = *pss;
			*pss = NULL;
			log_info(s->log, s->sub, NULL, "flow closed", LF_S("flow", c->flow->token),
				 LF_S("peer", c->flow->peer));
			if (s->ops.closed)
				s->ops.closed(s->ops.arg, c->flow);
			flow_table_remove(s->flows, c->flow);
			conn_free(s, c);
		}
		return 0;
	default:
		return 0;
	}
}

/* lws's own diagnostics, as our log lines (lws logging is process-wide). */
static void lws_log_emit(int level, const char *line)
{
	char buf[1024], msg[512];
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	snprintf(msg, sizeof(msg), "%.*s", (int)n, line);
	struct log_field f = LF_S("lws", msg);
	log_format_line(buf, sizeof(buf), LOG_FORMAT_LOGFMT, "-",
			level == LLL_ERR ? "error" : "warn", "ws", NULL, "libwebsockets",
			&f, 1);
	fputs(buf, stderr);
}

static struct lws_vhost *make_vhost(struct ws_server *s, const struct conf_addr *a,
				    int secure, char *err, size_t errlen)
{
	struct lws_context_creation_info vi;
	char text[80];

	memset(&vi, 0, sizeof(vi));
	conf_addr_format((const struct sockaddr *)&a->ss, text, sizeof(text));
	vi.vhost_name = secure ? "wss" : "ws";
	vi.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* ws_listen accepts */
	vi.protocols = s->protocols;
	vi.user = s;
	vi.retry_and_idle_policy = &s->retry;
	vi.alpn = "http/1.1"; /* WebSocket upgrades are HTTP/1.1 (RFC 6455) */
	vi.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
		     (a->ss.ss_family == AF_INET ? LWS_SERVER_OPTION_DISABLE_IPV6 : 0);
	if (secure) {
		vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		vi.ssl_cert_filepath = s->cfg.cert_path;
		vi.ssl_private_key_filepath = s->cfg.key_path;
		vi.ssl_cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
				     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
				     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
		vi.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
				     SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
	}
	struct lws_vhost *vh = lws_create_vhost(s->ctx, &vi);
	if (!vh)
		snprintf(err, errlen, "%s: TLS setup failed", text);
	return vh;
}

int ws_server_start(struct ws_server **out, uv_loop_t *loop,
		    const struct ws_server_cfg *cfg, struct flow_table *flows,
		    const struct ws_server_ops *ops, const struct log *log,
		    unsigned log_sub, struct metrics *m, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	void *foreign[1] = { loop };
	struct ws_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	s->lst_wss.fd = s->lst_ws.fd = -1;
	s->cfg = *cfg;
	s->flows = flows;
	s->ops = *ops;
	s->log = log;
	s->sub = log_sub;
	s->loop = loop;
	s->protocols[0] = (struct lws_protocols){
		.name = "sip",
		.callback = callback_sip,
		.per_session_data_size = sizeof(struct ws_conn *),
		.rx_buffer_size = 4096,
	};
	/* Keep-alive is ours (ka_): a hangup of 0 turns lws's off. */
	s->retry = (lws_retry_bo_t){ .secs_since_valid_ping = 0, .secs_since_valid_hangup = 0 };
	s->ka_idle.delay_ms = (uint64_t)cfg->ping_s * 1000;
	s->ka_ping.delay_ms = ((uint64_t)cfg->ping_s + 10) * 1000;
#define REJ(var, why) \
	s->var = metrics_add(m, "epcscf_ws_refused_total", \
			     "WebSocket connections refused or closed by policy.", \
			     METRIC_COUNTER, "reason", why, (const char *)NULL)
	REJ(m_rej_origin, "origin");
	REJ(m_rej_proto, "subprotocol");
	REJ(m_rej_ip, "per_ip_limit");
	REJ(m_rej_size, "message_size");
	REJ(m_rej_rate, "message_rate");
	REJ(m_rej_slow, "not_reading");
#undef REJ
	s->m_opened = metrics_add(m, "epcscf_ws_flows_opened_total",
				  "WebSocket flows established.", METRIC_COUNTER,
				  (const char *)NULL);
	s->m_msgs_in = metrics_add(m, "epcscf_ws_messages_total", "SIP messages over WebSocket.",
				   METRIC_COUNTER, "direction", "in", (const char *)NULL);
	s->m_msgs_out = metrics_add(m, "epcscf_ws_messages_total", "SIP messages over WebSocket.",
				    METRIC_COUNTER, "direction", "out", (const char *)NULL);

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.foreign_loops = foreign;
	info.timeout_secs = cfg->handshake_s;
	info.fd_limit_per_thread = cfg->max_conns + 16;
	info.count_threads = 1;
	s->ctx = lws_create_context(&info);
	if (!s->ctx) {
		snprintf(err, errlen, "cannot create the WebSocket context (libuv event library missing?)");
		free(s);
		return EIO;
	}
	if ((cfg->wss.len && !(s->vh_wss = make_vhost(s, &cfg->wss, 1, err, errlen))) ||
	    (cfg->ws.len && !(s->vh_ws = make_vhost(s, &cfg->ws, 0, err, errlen)))) {
		*out = s; /* the caller stops and frees it like a running one */
		return EIO;
	}
	int rc = 0;
	if ((cfg->wss.len && (rc = ws_listen_open(&s->lst_wss, loop, &cfg->wss, LISTEN_BACKLOG,
						  on_accept, handshake_room, s, err, errlen))) ||
	    (cfg->ws.len && (rc = ws_listen_open(&s->lst_ws, loop, &cfg->ws, LISTEN_BACKLOG,
						 on_accept, handshake_room, s, err, errlen)))) {
		*out = s;
		return rc;
	}
	uv_timer_init(loop, &s->ka_timer);
	s->ka_timer.data = s;
	s->ka_ready = 1;
	uv_timer_start(&s->ka_timer, on_ka_tick, 1000, 1000);
	*out = s;
	return 0;
}

int ws_server_port(const struct ws_server *s, int secure)
{
	return ws_listen_port(secure ? &s->lst_wss : &s->lst_ws);
}

void ws_server_stop(struct ws_server *s)
{
	/* With a foreign libuv loop the first destroy only starts the
	 * teardown: lws closes its handles as the loop keeps running. */
	if (s && s->ctx && !s->stopping) {
		s->stopping = 1;
		ws_listen_close(&s->lst_wss);
		ws_listen_close(&s->lst_ws);
		if (s->ka_ready)
			uv_close((uv_handle_t *)&s->ka_timer, NULL); /* s outlives the loop */
		lws_context_destroy(s->ctx);
	}
}

void ws_server_free(struct ws_server *s)
{
	if (!s)
		return;
	ws_server_stop(s);
	/* The loop has ended: the second destroy frees the context. */
	if (s->ctx)
		lws_context_destroy(s->ctx);
	ws_ip_table_free(&s->ips);
	free(s->tx_scratch);
	free(s);
}
