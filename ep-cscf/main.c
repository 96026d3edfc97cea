/* ep-cscf: the P-CSCF enhanced for WebRTC.  This file holds the option
 * table and the root object, and wires the parts together:
 *
 *   browser --WSS--> ws_server --> sip_proxy --UDP--> IMS core
 *                                  (flows, transactions, registrations)
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "flow_table.h"
#include "ims_tcp.h"
#include "ims_udp.h"
#include "sip_proxy.h"
#include "tls_identity.h"
#include "ws_server.h"
#include "wwsf_policy.h"

enum epcscf_subsys { SUB_CORE, SUB_TLS, SUB_WS, SUB_SIP, N_SUBSYS };
static const char *const subsys_names[N_SUBSYS] = { "core", "tls", "ws", "sip" };

struct epcscf_cfg {
	struct daemon_cfg common; /* must be first */
	char *tls_cert;
	char *tls_key;
	struct conf_addr wss_listen, ws_listen;
	struct conf_list wwsf;
	long long max_message, max_per_ip, max_conns, msg_rate, msg_burst;
	long long ping_s, handshake_s;
	struct conf_addr ims_listen, ims_next_hop;
	int ims_transport;
	char *visited_network;
};

static const char *const transports[] = { "udp", "tcp", NULL };

#define O(f) offsetof(struct epcscf_cfg, f)
static const struct conf_opt opts[] = {
	DAEMON_COMMON_OPTS(struct epcscf_cfg, "/var/lib/ep-cscf", "127.0.0.1:9101"),
	{ "tls.cert", CONF_PATH, O(tls_cert), "", 0, 0, NULL, 0,
	  "PEM certificate for WSS/TLS (empty: generated under state_dir)" },
	{ "tls.key", CONF_PATH, O(tls_key), "", 0, 0, NULL, 0,
	  "PEM private key for tls.cert (empty: in the same file)" },
	{ "sip.wss.listen", CONF_ADDR, O(wss_listen), "127.0.0.1:8443", 0, 0, NULL, 0,
	  "SIP over secure WebSocket listener (empty: none)" },
	{ "sip.ws.listen", CONF_ADDR, O(ws_listen), "", 0, 0, NULL, 0,
	  "SIP over plain WebSocket listener, for tests behind TLS offload (empty: none)" },
	{ "wwsf", CONF_LIST, O(wwsf), "demo origins=https://localhost:8080,https://127.0.0.1:8080",
	  0, 0, NULL, 0, "a trusted WWSF and its origins: NAME origins=ORIGIN[,ORIGIN...] (repeatable)" },
	{ "ws.max_message_bytes", CONF_INT, O(max_message), "65536", 1024, 1048576, NULL, 0,
	  "largest SIP message over WebSocket (bigger: close 1009)" },
	{ "ws.max_flows_per_ip", CONF_INT, O(max_per_ip), "100", 1, 1000000, NULL, 0,
	  "WebSocket flows per source address" },
	{ "ws.max_connections", CONF_INT, O(max_conns), "20000", 1, 1000000, NULL, 0,
	  "WebSocket connections in all" },
	{ "ws.message_rate", CONF_INT, O(msg_rate), "20", 1, 100000, NULL, 0,
	  "SIP messages per second per flow (more: close 1008)" },
	{ "ws.message_burst", CONF_INT, O(msg_burst), "50", 1, 100000, NULL, 0,
	  "burst allowance for ws.message_rate" },
	{ "ws.ping_interval", CONF_INT, O(ping_s), "30", 5, 3600, NULL, 0,
	  "seconds of silence before a WebSocket ping" },
	{ "ws.handshake_timeout", CONF_INT, O(handshake_s), "10", 1, 120, NULL, 0,
	  "seconds to complete TLS and the upgrade" },
	{ "ims.listen", CONF_ADDR, O(ims_listen), "127.0.0.1:5070", 0, 0, NULL, 0,
	  "SIP/UDP address toward the IMS core" },
	{ "ims.next_hop", CONF_ADDR, O(ims_next_hop), "127.0.0.1:5060", 0, 0, NULL, 0,
	  "IMS entry point (I-CSCF or registrar), SIP/UDP" },
	{ "ims.transport", CONF_ENUM, O(ims_transport), "udp", 0, 0, transports, 0,
	  "transport toward ims.next_hop (udp or tcp; big requests use tcp anyway)" },
	{ "ims.visited_network", CONF_STRING, O(visited_network), "ims.test", 0, 0, NULL, 0,
	  "P-Visited-Network-ID added to REGISTER" },
};
#undef O

/* Root of the daemon's ownership tree (below struct daemon). */
struct epcscf {
	struct tls_identity tls;   /* owned */
	struct wwsf_policy policy; /* owned */
	struct flow_table flows;   /* owned */
	struct ims_udp udp;        /* owned */
	struct ims_tcp tcp;        /* owned */
	struct sip_proxy proxy;    /* owned */
	struct ws_server *ws;      /* owned */
	int flows_ready, proxy_ready, tcp_ready;
};

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
	return daemon_load_identity(d, &e->tls, "tls.cert", "tls.key", "ep-cscf",
				    err, errlen);
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

static void on_tcp(void *arg, uint64_t conn_id, const char *buf, size_t len,
		   const struct sockaddr *from)
{
	struct ims_peer peer = { .transport = IMS_TCP, .conn_id = conn_id };
	memcpy(&peer.addr, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in));
	sip_proxy_from_ims(&((struct epcscf *)arg)->proxy, buf, len, &peer);
}

static double flows_gauge(void *arg)
{
	return (double)((struct flow_table *)arg)->n;
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

	if ((rc = ims_udp_start(&e->udp, &d->loop, &c->ims_listen, on_udp, e, err, errlen))) {
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
	memcpy(&pc.next_hop, &c->ims_next_hop.ss, c->ims_next_hop.len);
	pc.transport = c->ims_transport == 1 ? IMS_TCP : IMS_UDP;
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
		 LF_S("next_hop_transport", pc.transport == IMS_TCP ? "tcp" : "udp"));
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
	ims_udp_close(&e->udp);
	if (e->tcp_ready)
		ims_tcp_close(&e->tcp);
}

static void epcscf_destroy(struct daemon *d)
{
	struct epcscf *e = d->app;
	if (!e)
		return;
	ws_server_free(e->ws);
	if (e->proxy_ready)
		sip_proxy_free(&e->proxy);
	if (e->flows_ready)
		flow_table_free(&e->flows);
	wwsf_policy_free(&e->policy);
	tls_identity_free(&e->tls);
	free(e);
	d->app = NULL;
}

static const struct daemon_ops epcscf_ops = {
	.name = "ep-cscf",
	.opts = opts,
	.n_opts = sizeof(opts) / sizeof(opts[0]),
	.cfg_size = sizeof(struct epcscf_cfg),
	.subsys = subsys_names,
	.n_subsys = N_SUBSYS,
	.build_info_metric = "epcscf_build_info",
	.prepare = epcscf_prepare,
	.start = epcscf_start,
	.stop = epcscf_stop,
	.destroy = epcscf_destroy,
};

int main(int argc, char **argv)
{
	return daemon_main(&epcscf_ops, argc, argv);
}
