/* ep-cscf: the P-CSCF enhanced for WebRTC.  This file holds the daemon's
 * life cycle (prepare, start, reload, stop, destroy) and wires the parts
 * together (the option table is epcscf_options.c, the root object
 * epcscf_root.h, the Iq+ start-up epcscf_iq.c):
 *
 *   browser --WSS--> ws_server --> sip_proxy --UDP--> IMS core
 *                                  (flows, transactions, registrations)
 *   eims-agw --Iq+ (TLS)--> iq_server (links, AGW registry)
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>

#include "epcscf_root.h"
#include "iq_drain.h"
#include "sip_tls.h"

static const char *const subsys_names[N_SUBSYS] = { "core", "tls", "ws", "sip", "iq" };

/* SIP over TLS toward IMS: both contexts, with the WSS identity. */
static int ims_tls_prepare(struct daemon *d, struct epcscf *e, char *err, size_t errlen)
{
	struct epcscf_cfg *c = d->cfg;
	char why[256];
	const char *key = c->ims_tls_pins.n ? "ims.tls.trusted_fingerprints" : "ims.tls.ca_file";

	if (c->ims_transport == IMS_T_TLS && !c->ims_tls_listen.len) {
		snprintf(err, errlen, "%s: ims.tls.listen: needed when ims.transport is tls",
			 daemon_where(d, "ims.transport"));
		return -1;
	}
	if (!c->ims_tls_listen.len)
		return 0;
	for (size_t i = 0; i < c->ims_tls_pins.n; i++) {
		uint8_t fp[IQP_FP_LEN];
		if (iqp_tls_fingerprint_parse(c->ims_tls_pins.items[i], fp)) {
			snprintf(err, errlen, "%s: ims.tls.trusted_fingerprints: \"%s\" is not a SHA-256 fingerprint",
				 c->ims_tls_pins.where[i], c->ims_tls_pins.items[i]);
			return -1;
		}
	}
	if (sip_tls_ctx_init(&e->ims_tls_srv, true, &e->tls,
			     (const char *const *)c->ims_tls_pins.items, c->ims_tls_pins.n,
			     c->ims_tls_ca_file, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s: %s", daemon_where(d, key), key, why);
		return -1;
	}
	if (sip_tls_ctx_init(&e->ims_tls_cli, false, &e->tls,
			     (const char *const *)c->ims_tls_pins.items, c->ims_tls_pins.n,
			     c->ims_tls_ca_file, why, sizeof(why))) {
		iqp_tls_ctx_free(&e->ims_tls_srv);
		snprintf(err, errlen, "%s: %s: %s", daemon_where(d, key), key, why);
		return -1;
	}
	e->ims_tls_ready = 1;
	return 0;
}

static int epcscf_prepare(struct daemon *d, char *err, size_t errlen)
{
	struct epcscf_cfg *c = d->cfg;
	struct epcscf *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->app = e;
	if (!c->wss_listen.len && !c->ws_listen.len) {
		snprintf(err, errlen, "%s: sip.wss.listen: no WebSocket listener configured",
			 daemon_where(d, "sip.wss.listen"));
		return -1;
	}
	if (!c->ims_listen.len || !c->ims_next_hop.len) {
		snprintf(err, errlen, "%s: ims.next_hop: the IMS side needs ims.listen and ims.next_hop",
			 daemon_where(d, "ims.next_hop"));
		return -1;
	}
	if (wwsf_policy_load(&e->policy, &c->wwsf, err, errlen))
		return -1;
	/* REALM_NAME has the syntax of a NODE_ID (SPEC.md 12). */
	if (!iqp_node_id_valid(c->media_w3_realm) || !iqp_node_id_valid(c->media_ims_realm)) {
		const char *k = iqp_node_id_valid(c->media_w3_realm) ? "media.ims_realm" : "media.w3_realm";
		snprintf(err, errlen, "%s: %s: \"%s\" is not a realm name (1-64 of A-Z a-z 0-9 . _ -)",
			 daemon_where(d, k), k,
			 iqp_node_id_valid(c->media_w3_realm) ? c->media_ims_realm : c->media_w3_realm);
		return -1;
	}
	if (c->media_anchor == MEDIA_ANCHOR_AGW && !c->iq_listen.len) {
		snprintf(err, errlen, "%s: iq.listen: empty, but media.anchor agw needs an Iq+ listener for the AGWs",
			 daemon_where(d, "iq.listen"));
		return -1;
	}
	if (daemon_load_identity(d, &e->tls, "tls.cert", "tls.key", "ep-cscf", err, errlen))
		return -1;
	if (ims_tls_prepare(d, e, err, errlen))
		return -1;
	return epcscf_iq_prepare(d, e, err, errlen);
}

static void on_ws_message(void *arg, struct flow *f, const char *buf, size_t len)
{
	sip_proxy_from_ws(&((struct epcscf *)arg)->proxy, f, buf, len);
}

static void on_ws_closed(void *arg, struct flow *f)
{
	sip_proxy_flow_closed(&((struct epcscf *)arg)->proxy, f);
}

static void on_udp(void *arg, const char *buf, size_t len, const struct sockaddr *from)
{
	struct ims_peer peer = { .transport = IMS_UDP };
	memcpy(&peer.addr, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in));
	sip_proxy_from_ims(&((struct epcscf *)arg)->proxy, buf, len, &peer);
}

static void on_stream(struct epcscf *e, enum ims_transport tp, uint64_t conn_id,
		      const char *buf, size_t len, const struct sockaddr *from)
{
	struct ims_peer peer = { .transport = tp, .conn_id = conn_id };
	memcpy(&peer.addr, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in));
	sip_proxy_from_ims(&e->proxy, buf, len, &peer);
}

static void on_tcp(void *arg, uint64_t conn_id, const char *buf, size_t len,
		   const struct sockaddr *from)
{
	on_stream(arg, IMS_TCP, conn_id, buf, len, from);
}

static void on_tls(void *arg, uint64_t conn_id, const char *buf, size_t len,
		   const struct sockaddr *from)
{
	on_stream(arg, IMS_TLS, conn_id, buf, len, from);
}

/* SIP takes the same port on UDP and TCP.  With port 0, find one free for
 * both (a kernel-chosen UDP port may have its TCP twin taken); the real
 * binds then report any race clearly. */
static void sip_port_for_udp_and_tcp(struct conf_addr *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	uint16_t *port = a->ss.ss_family == AF_INET6 ? &sin6->sin6_port : &sin->sin_port;

	for (int attempt = 0; *port == 0 && attempt < 32; attempt++) {
		struct sockaddr_storage probe = a->ss;
		socklen_t len = a->len;
		int u = socket(a->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int t = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (u >= 0 && t >= 0 && !bind(u, (struct sockaddr *)&probe, len) &&
		    !getsockname(u, (struct sockaddr *)&probe, &len) &&
		    !bind(t, (struct sockaddr *)&probe, len))
			*port = probe.ss_family == AF_INET6
					? ((struct sockaddr_in6 *)&probe)->sin6_port
					: ((struct sockaddr_in *)&probe)->sin_port;
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
	}
}

static double flows_gauge(void *arg)
{
	return (double)((struct flow_table *)arg)->n;
}

/* SIGHUP: the WWSFs' JWKS files are read again (key rollover); iq.drain,
 * reloadable, is applied again (7.7 item 2; idempotent). */
static void epcscf_reload(struct daemon *d)
{
	struct epcscf *e = d->app;
	struct epcscf_cfg *c = d->cfg;
	char err[CONF_ERR_MAX];
	if (e->iq_ready && e->iq.calls)
		iq_drain_apply(&e->iq, &c->iq_drain);
	if (!e->tna_ready)
		return;
	if (wwsf_policy_reload_keys(&e->policy, err, sizeof(err)))
		log_error(&d->log, SUB_SIP, NULL, "jwks reload failed, keys unchanged",
			  LF_S("reason", err));
	else
		log_info(&d->log, SUB_SIP, NULL, "jwks reloaded");
}

static int epcscf_start(struct daemon *d, char *err, size_t errlen)
{
	struct epcscf *e = d->app;
	struct epcscf_cfg *c = d->cfg;
	struct sip_proxy_cfg pc;
	char addr[80];
	int rc;

	log_info(&d->log, SUB_TLS, NULL, "tls identity", LF_S("cert", e->tls.cert_path),
		 LF_S("generated", e->tls.generated ? "yes" : "no"),
		 LF_S("fingerprint", e->tls.fingerprint_sha256));
	if ((rc = flow_table_init(&e->flows))) {
		snprintf(err, errlen, "cannot create the flow table");
		return rc;
	}
	e->flows_ready = 1;
	metrics_add_fn(&d->metrics, "epcscf_ws_flows", "Open WebSocket flows.", METRIC_GAUGE,
		       flows_gauge, &e->flows);

	struct conf_addr ims_addr = c->ims_listen;
	sip_port_for_udp_and_tcp(&ims_addr);
	if ((rc = ims_udp_start(&e->udp, &d->loop, &ims_addr, on_udp, e, err, errlen))) {
		char why[512];
		snprintf(why, sizeof(why), "%s: ims.listen: %s", daemon_where(d, "ims.listen"), err);
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	/* TCP on the same address and port as UDP, as SIP expects. */
	struct conf_addr tcp_addr = c->ims_listen;
	memcpy(&tcp_addr.ss, &e->udp.bound, sizeof(tcp_addr.ss));
	if ((rc = ims_tcp_start(&e->tcp, &d->loop, &tcp_addr, (size_t)c->max_message, on_tcp, e,
				&d->log, SUB_SIP, err, errlen))) {
		char why[512];
		snprintf(why, sizeof(why), "%s: ims.listen: %s", daemon_where(d, "ims.listen"), err);
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	e->tcp_ready = 1;
	memset(&pc, 0, sizeof(pc));
	if (e->ims_tls_ready) {
		if ((rc = ims_tcp_start(&e->tls_tcp, &d->loop, &c->ims_tls_listen,
					(size_t)c->max_message, on_tls, e, &d->log, SUB_SIP, err,
					errlen))) {
			char why[512];
			snprintf(why, sizeof(why), "%s: ims.tls.listen: %s",
				 daemon_where(d, "ims.tls.listen"), err);
			snprintf(err, errlen, "%s", why);
			e->tls_tcp_ready = 1; /* the listener handle is open: close it */
			return rc;
		}
		e->tls_tcp_ready = 1;
		if ((rc = ims_tcp_set_tls(&e->tls_tcp, &e->ims_tls_srv, &e->ims_tls_cli,
					  c->ims_tls_name))) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
		struct sockaddr_storage b;
		int blen = sizeof(b);
		uv_tcp_getsockname(&e->tls_tcp.listener, (struct sockaddr *)&b, &blen);
		conf_addr_format((struct sockaddr *)&b, pc.ims_tls_host, sizeof(pc.ims_tls_host));
	}
	memcpy(&pc.next_hop, &c->ims_next_hop.ss, c->ims_next_hop.len);
	pc.transport = c->ims_transport == IMS_T_TLS   ? IMS_TLS
		       : c->ims_transport == IMS_T_TCP ? IMS_TCP
						       : IMS_UDP;
	conf_addr_format((struct sockaddr *)&e->udp.bound, pc.ims_host, sizeof(pc.ims_host));
	conf_addr_format((struct sockaddr *)(c->wss_listen.len ? &c->wss_listen.ss : &c->ws_listen.ss),
			 pc.ws_host, sizeof(pc.ws_host));
	snprintf(pc.visited_network, sizeof(pc.visited_network), "%s", c->visited_network);
	if ((rc = sip_proxy_init(&e->proxy, &d->loop, &pc, &e->flows, &e->udp, &e->tcp,
				 &d->metrics, &d->log, SUB_SIP))) {
		snprintf(err, errlen, "cannot create the SIP proxy");
		return rc;
	}
	e->proxy_ready = 1;
	e->media.anchor = c->media_anchor == 1 ? MEDIA_ANCHOR_NONE : MEDIA_ANCHOR_AGW;
	e->media.alg.w3_realm = c->media_w3_realm;
	e->media.alg.ims_realm = c->media_ims_realm;
	e->media.alg.bundle = c->media_bundle;
	e->media.alg.ims_avpf = c->media_ims_avpf;
	e->media.alg.session_name = "-";
	e->media.iq = &e->iq_calls;
	e->proxy.media = &e->media;
	if (e->tls_tcp_ready)
		sip_proxy_attach_tls(&e->proxy, &e->tls_tcp);
	struct tna_cfg tc = {
		.verify = { .audience = c->auth_audience, .leeway_s = c->auth_leeway,
			    .max_bytes = (size_t)c->auth_max_token },
		.every_request = c->auth_every_request,
		.jti_capacity = (size_t)c->auth_jti_cache,
	};
	if ((rc = tna_init(&e->tna, &d->loop, &tc, &e->policy, sip_proxy_token_expired, &e->proxy,
			   &d->metrics, &d->log, SUB_SIP))) {
		snprintf(err, errlen, "cannot create the token checks");
		return rc;
	}
	e->tna_ready = 1;
	sip_proxy_attach_tna(&e->proxy, &e->tna);
	/* Before the WebSocket server: libwebsockets cannot be torn down
	 * after a failed start. */
	if ((rc = epcscf_iq_start(d, e, err, errlen)))
		return rc;

	struct ws_server_cfg wc = {
		.wss = c->wss_listen,
		.ws = c->ws_listen,
		.cert_path = e->tls.cert_path,
		.key_path = e->tls.key_path,
		.max_message = (size_t)c->max_message,
		.max_per_ip = (unsigned)c->max_per_ip,
		.max_conns = (unsigned)c->max_conns,
		.msg_rate = (unsigned)c->msg_rate,
		.msg_burst = (unsigned)c->msg_burst,
		.ping_s = (unsigned)c->ping_s,
		.handshake_s = (unsigned)c->handshake_s,
		.policy = &e->policy,
	};
	struct ws_server_ops ops = { .message = on_ws_message, .closed = on_ws_closed, .arg = e };
	if ((rc = ws_server_start(&e->ws, &d->loop, &wc, &e->flows, &ops, &d->log, SUB_WS,
				  &d->metrics, err, errlen))) {
		char why[512];
		const char *k = c->wss_listen.len ? "sip.wss.listen" : "sip.ws.listen";
		snprintf(why, sizeof(why), "%s: %s: %s", daemon_where(d, k), k, err);
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	sip_proxy_attach_ws(&e->proxy, e->ws);

	if (c->wss_listen.len) {
		conf_addr_format((struct sockaddr *)&c->wss_listen.ss, addr, sizeof(addr));
		log_info(&d->log, SUB_WS, NULL, "listening", LF_S("service", "sip-wss"),
			 LF_S("addr", addr));
	}
	if (c->ws_listen.len) {
		conf_addr_format((struct sockaddr *)&c->ws_listen.ss, addr, sizeof(addr));
		log_info(&d->log, SUB_WS, NULL, "listening", LF_S("service", "sip-ws"),
			 LF_S("addr", addr));
	}
	log_info(&d->log, SUB_SIP, NULL, "listening", LF_S("service", "sip-ims"),
		 LF_S("addr", pc.ims_host), LF_S("transports", "udp,tcp"),
		 LF_S("next_hop_transport", epcscf_transports[c->ims_transport]));
	if (e->tls_tcp_ready)
		log_info(&d->log, SUB_SIP, NULL, "listening", LF_S("service", "sip-ims-tls"),
			 LF_S("addr", pc.ims_tls_host), LF_S("fingerprint", e->tls.fingerprint_sha256));
	return 0;
}

static void epcscf_stop(struct daemon *d)
{
	struct epcscf *e = d->app;
	if (!e)
		return;
	ws_server_stop(e->ws);
	if (e->proxy_ready)
		sip_proxy_close(&e->proxy);
	if (e->tna_ready)
		tna_close(&e->tna);
	ims_udp_close(&e->udp);
	if (e->tcp_ready)
		ims_tcp_close(&e->tcp);
	if (e->tls_tcp_ready)
		ims_tcp_close(&e->tls_tcp);
	if (e->iq_ready) {
		iq_calls_close(&e->iq_calls);
		iq_server_close(&e->iq);
	}
}

static void epcscf_destroy(struct daemon *d)
{
	struct epcscf *e = d->app;
	if (!e)
		return;
	ws_server_free(e->ws);
	if (e->proxy_ready)
		sip_proxy_free(&e->proxy);
	if (e->tna_ready)
		tna_free(&e->tna);
	if (e->flows_ready)
		flow_table_free(&e->flows);
	wwsf_policy_free(&e->policy);
	tls_identity_free(&e->tls);
	if (e->iq_ready)
		iq_server_free(&e->iq);
	if (e->iq_tls_ready) {
		iqp_tls_ctx_free(&e->iq_tls);
		tls_identity_free(&e->iq_id);
	}
	if (e->ims_tls_ready) {
		iqp_tls_ctx_free(&e->ims_tls_srv);
		iqp_tls_ctx_free(&e->ims_tls_cli);
	}
	free(e);
	d->app = NULL;
}

int main(int argc, char **argv)
{
	const struct daemon_ops ops = {
		.name = "ep-cscf",
		.opts = epcscf_opts,
		.n_opts = epcscf_n_opts,
		.cfg_size = sizeof(struct epcscf_cfg),
		.subsys = subsys_names,
		.n_subsys = N_SUBSYS,
		.build_info_metric = "epcscf_build_info",
		.prepare = epcscf_prepare,
		.start = epcscf_start,
		.stop = epcscf_stop,
		.reload = epcscf_reload,
		.destroy = epcscf_destroy,
	};

	return daemon_main(&ops, argc, argv);
}
