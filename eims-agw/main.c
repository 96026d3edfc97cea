/* eims-agw: the IMS access gateway enhanced for WebRTC (media plane).  This file holds the option
 * table and the root object.
 *
 *   iq_client --Iq+ (TLS)--> ep-cscf (registration, heartbeats)
 *   iq_calls  RESERVE/CONFIGURE/MODIFY/RELEASE, EVENTs --> media_plane
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "iq_admin.h"
#include "iq_calls.h"
#include "iq_client.h"
#include "iq_status.h"
#include "iqp_tls_conf.h"
#include "media_context.h"
#include "media_loop.h"
#include "openssl_arena.h"
#include "tls_identity.h"
#include "worker_share.h"

enum agw_subsys { SUB_CORE, SUB_DTLS, SUB_IQ, SUB_MEDIA, N_SUBSYS };
static const char *const subsys_names[N_SUBSYS] = { "core", "dtls", "iq", "media" };

struct agw_cfg {
	struct daemon_cfg common; /* must be first */
	char *dtls_cert;
	char *dtls_key;
	char *node_id;
	struct conf_list iq_controllers;
	int iq_security;
	struct conf_list iq_pins;
	char *iq_ca_file, *iq_cert, *iq_key, *iq_realm;
	long long iq_max_contexts, iq_max_ports, iq_hb_interval;
	long long port_min, port_max, consent_timeout, ice_timeout, dtls_timeout, term_hb, iq_hold;
	long long iq_drain_timeout, overload_minor, overload_major, overload_critical;
	bool strict_source;
	int media_io;
	char *workers;
};

static const char *const iq_securities[] = { "tls", "tcp", NULL };
/* In enum udp_io_mode's order. */
static const char *const media_ios[] = { "auto", "io_uring", "epoll", NULL };
enum { IQ_TLS, IQ_TCP };

static const struct conf_opt opts[] = {
	DAEMON_COMMON_OPTS(struct agw_cfg, "/var/lib/eims-agw", "127.0.0.1:9102"),
	{ "dtls.cert", CONF_PATH, offsetof(struct agw_cfg, dtls_cert), "", 0, 0,
	  NULL, 0, "PEM certificate for DTLS-SRTP (empty: generated under state_dir)" },
	{ "dtls.key", CONF_PATH, offsetof(struct agw_cfg, dtls_key), "", 0, 0,
	  NULL, 0, "PEM private key for dtls.cert (empty: in the same file)" },
#define O(f) offsetof(struct agw_cfg, f)
	{ "node_id", CONF_STRING, O(node_id), "", 0, 0, NULL, 0,
	  "NODE_ID registered with controllers, 1-64 of A-Z a-z 0-9 . _ - (empty: the host name)" },
	{ "workers", CONF_STRING, O(workers), "1", 0, 0, NULL, 0,
	  "worker processes, 1-128 or auto (one per CPU this process may use): each pinned to a "
	  "CPU, registered as NODE_ID-w<k> with its slice of the media ports" },
	{ "iq.controllers", CONF_LIST, O(iq_controllers), "127.0.0.1:7190", 0, 0, NULL, 0,
	  "an Iq+ controller: IP:PORT[ NAME], NAME being required in its certificate (repeatable, in order)" },
	{ "iq.security", CONF_ENUM, O(iq_security), "tls", 0, 0, iq_securities, 0,
	  "Iq+ transport: tls (mutual TLS 1.3) or tcp (plain, only where both ends say so)" },
	{ "iq.trusted_fingerprints", CONF_LIST, O(iq_pins), "", 0, 0, NULL, 0,
	  "SHA-256 fingerprint of a trusted controller certificate (repeatable)" },
	{ "iq.ca_file", CONF_PATH, O(iq_ca_file), "", 0, 0, NULL, 0,
	  "PEM CA certificates that controller certificates may chain to (empty: pins only)" },
	{ "iq.cert", CONF_PATH, O(iq_cert), "", 0, 0, NULL, 0,
	  "PEM certificate for Iq+ TLS, carrying node_id (empty: generated under state_dir/iq)" },
	{ "iq.key", CONF_PATH, O(iq_key), "", 0, 0, NULL, 0,
	  "PEM private key for iq.cert (empty: in the same file)" },
	{ "iq.realm", CONF_STRING, O(iq_realm), "w3=127.0.0.1 ims=127.0.0.1", 0, 0, NULL, 0,
	  "IP realms registered: NAME[:w3|ims|both]=ADDR[,ADDR...] separated by spaces" },
	{ "iq.max_contexts", CONF_INT, O(iq_max_contexts), "1000", 1, 10000000, NULL, 0,
	  "CAPACITY: simultaneous contexts (sessions) offered" },
	{ "iq.max_ports", CONF_INT, O(iq_max_ports), "20000", 0, 1000000, NULL, 0,
	  "CAPACITY: media ports offered (0: not declared)" },
	{ "iq.hb_interval", CONF_INT, O(iq_hb_interval), "5000", 1000, 60000, NULL, 0,
	  "heartbeat interval in ms proposed to controllers (T_INACT is 3 times it)" },
	{ "iq.drain_timeout", CONF_INT, O(iq_drain_timeout), "0", 0, 86400, NULL, 0,
	  "SC_DELAY in s of a drain asked by SIGUSR1: contexts left then are released (0: none)" },
	{ "iq.overload_minor", CONF_INT, O(overload_minor), "70", 1, 100, NULL, 0,
	  "OVERLOAD_LEVEL MINOR from this percentage of contexts or media ports in use" },
	{ "iq.overload_major", CONF_INT, O(overload_major), "85", 1, 100, NULL, 0,
	  "OVERLOAD_LEVEL MAJOR (ADMIT_PERCENT 50) from this percentage in use" },
	{ "iq.overload_critical", CONF_INT, O(overload_critical), "95", 1, 100, NULL, 0,
	  "OVERLOAD_LEVEL CRITICAL from this percentage in use: new non-priority contexts get 511" },
	{ "iq.hold_timeout", CONF_INT, O(iq_hold), "60000", 1000, 3600000, NULL, 0,
	  "T_HOLD in ms: contexts kept after the Iq+ link is lost; then released, new epoch" },
	{ "media.port_min", CONF_INT, O(port_min), "20000", 1024, 65534, NULL, 0,
	  "lowest UDP port for media (W3 and IMS sides)" },
	{ "media.port_max", CONF_INT, O(port_max), "39999", 1025, 65535, NULL, 0,
	  "highest UDP port for media" },
	{ "media.consent_timeout", CONF_INT, O(consent_timeout), "30000", 1000, 300000, NULL, 0,
	  "T_CONSENT in ms: no valid ICE check on the selected pair for this long = consent lost" },
	{ "media.ice_timeout", CONF_INT, O(ice_timeout), "30000", 1000, 300000, NULL, 0,
	  "T_ICE in ms: a configured W3 termination without a selected pair fails after this" },
	{ "media.dtls_timeout", CONF_INT, O(dtls_timeout), "30000", 1000, 300000, NULL, 0,
	  "T_DTLS in ms: DTLS not established this long after pair selection fails" },
	{ "media.strict_source", CONF_BOOL, O(strict_source), "false", 0, 0, NULL, 0,
	  "IMS side without LATCHING: drop media not from the stream's REMOTE_ADDR" },
	{ "media.io", CONF_ENUM, O(media_io), "auto", 0, 0, media_ios, 0,
	  "media socket I/O: io_uring (one system call per loop pass; Linux 6.1+, where not "
	  "disabled by kernel.io_uring_disabled or seccomp), epoll (a receive and a send per "
	  "packet), or auto (io_uring where the kernel allows it, else epoll)" },
	{ "media.term_heartbeat", CONF_INT, O(term_hb), "1800000", 1000, 86400000, NULL, 0,
	  "T_TERM_HB in ms: TERM_HEARTBEAT events, for terminations whose EVENT_MASK asks" },
#undef O
};

/* Root of the daemon's ownership tree (below struct daemon). */
struct agw {
	struct tls_identity dtls; /* owned: one certificate per process (RFC 5763) */
	char node_id[IQP_NODE_ID_MAX + 1];  /* this process's (a worker: node_id-w<k>) */
	char *node_names;          /* owned: every worker's NODE_ID, for the Iq+ certificate */
	struct worker_share share; /* this process's ports and capacity */
	struct tls_identity iq_id; /* owned: Iq+ identity (iq.security tls) */
	struct iqp_tls_ctx iq_tls; /* owned, idem */
	struct iq_client iq;       /* owned; its link frees itself */
	struct media_plane media;  /* owned: contexts, sockets, DTLS context */
	struct iq_calls calls;     /* owned: RESERVE ... RELEASE, EVENTs */
	struct iq_admin admin;     /* owned: drain, out of service (SIGUSR1, SIGUSR2) */
	struct iq_status status;   /* owned: overload level, NODE_STATUS */
	int iq_tls_ready, iq_started, media_ready, admin_ready, status_ready;
};

/* With workers: every worker's NODE_ID (all go into a generated Iq+
 * certificate, so that one pin trusts the node), and this worker's. */
static int node_names(struct daemon *d, struct agw *e, char *err, size_t errlen)
{
	unsigned n = d->n_workers > 1 ? d->n_workers : 1;
	size_t cap = n * (IQP_NODE_ID_MAX + 2), at = 0;
	char id[IQP_NODE_ID_MAX + 1];

	if (!(e->node_names = malloc(cap))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* One limit whatever the worker count, so that raising `workers` later
	 * cannot make a node id too long. */
	bool too_long = n > 1 && strlen(e->node_id) > IQP_NODE_ID_MAX - WORKER_SHARE_ID_SUFFIX_MAX;
	for (unsigned k = 0; k < n; k++) {
		if (too_long || worker_node_id(id, sizeof(id), e->node_id, k, n) || !iqp_node_id_valid(id)) {
			snprintf(err, errlen, "%s: node_id: \"%s\" is too long for %u workers "
				 "(at most %d characters: each adds \"-w<k>\")",
				 daemon_where(d, "node_id"), e->node_id, n,
				 IQP_NODE_ID_MAX - WORKER_SHARE_ID_SUFFIX_MAX);
			return -1;
		}
		at += (size_t)snprintf(e->node_names + at, cap - at, "%s%s", k ? " " : "", id);
	}
	if (d->is_worker) {
		memcpy(id, e->node_id, sizeof(id));
		worker_node_id(e->node_id, sizeof(e->node_id), id, d->worker, n);
	}
	return 0;
}

/* NODE_ID (7.2.2), the Iq+ identity and context with TLS, the controller
 * list and the realms. */
static int iq_prepare(struct daemon *d, struct agw *e, char *err, size_t errlen)
{
	struct agw_cfg *c = d->cfg;
	struct iqp_tls_conf tc = {
		.cert = c->iq_cert, .key = c->iq_key, .state_dir = c->common.state_dir, .pins = &c->iq_pins, .ca_file = c->iq_ca_file,
		.where_cert = daemon_where(d, "iq.cert"), .where_key = daemon_where(d, "iq.key"),
		.where_ca = daemon_where(d, "iq.ca_file"),
		.where_state_dir = daemon_where(d, "state_dir"),
	};
	struct iq_client_cfg ic = {
		.controllers = &c->iq_controllers, .realms = c->iq_realm,
		.where_realm = daemon_where(d, "iq.realm"), .node_id = e->node_id,
		.max_contexts = e->share.max_contexts,
		.max_ports = e->share.max_ports,
		.hb_interval = (uint32_t)c->iq_hb_interval,
		.calls = iq_calls_table(), .calls_arg = &e->calls,
		.n_contexts = &e->media.n_ctxs, .bundle = true,
		.free_ports = &e->media.ports.n_free, .link_change = iq_calls_link_change,
		.peer_changed = iq_calls_peer_changed,
	};

	if (*c->node_id) {
		snprintf(e->node_id, sizeof(e->node_id), "%s", c->node_id);
	} else if (gethostname(e->node_id, sizeof(e->node_id)) || !iqp_node_id_valid(e->node_id)) {
		snprintf(err, errlen, "%s: node_id: the host name is not a node id; set node_id",
			 daemon_where(d, "node_id"));
		return -1;
	}
	if (!iqp_node_id_valid(e->node_id)) {
		snprintf(err, errlen, "%s: node_id: \"%s\" is not a node id (1-64 of A-Z a-z 0-9 . _ -)",
			 daemon_where(d, "node_id"), e->node_id);
		return -1;
	}
	if (node_names(d, e, err, errlen))
		return -1;
	tc.node_id = e->node_names;
	if (c->iq_security == IQ_TLS) {
		/* 2.2 item 5: a name to check needs a CA; pins name the peer. */
		for (size_t i = 0; i < c->iq_controllers.n; i++)
			if (*c->iq_ca_file && !strchr(c->iq_controllers.items[i], ' ')) {
				snprintf(err, errlen, "%s: iq.controllers: \"%s\" needs the name its "
					 "certificate carries (IP:PORT NAME) when iq.ca_file is set",
					 c->iq_controllers.where[i], c->iq_controllers.items[i]);
				return -1;
			}
		if (iqp_tls_conf_load(&e->iq_tls, &e->iq_id, false, &tc, err, errlen))
			return -1;
		e->iq_tls_ready = 1;
		ic.tls = &e->iq_tls;
	}
	return iq_client_prepare(&e->iq, &ic, err, errlen);
}

/* `workers`, and this process's share of ports and capacity. */
static int workers_prepare(struct daemon *d, struct agw *e, char *err, size_t errlen)
{
	struct agw_cfg *c = d->cfg;
	unsigned n;
	char why[256];

	if (worker_count_parse(c->workers, supervisor_cpus(), SUPERVISOR_MAX_WORKERS, &n)) {
		snprintf(err, errlen, "%s: workers: \"%s\" is not a number of workers (1-%u) or auto",
			 daemon_where(d, "workers"), c->workers, SUPERVISOR_MAX_WORKERS);
		return -1;
	}
	d->n_workers = n;
	struct worker_share node = {
		.port_min = (uint16_t)c->port_min, .port_max = (uint16_t)c->port_max,
		.max_contexts = (uint32_t)c->iq_max_contexts, .max_ports = (uint32_t)c->iq_max_ports,
	};
	if (node.port_min >= node.port_max) {
		snprintf(err, errlen, "%s: media.port_min must be below media.port_max",
			 daemon_where(d, "media.port_min"));
		return -1;
	}
	if (worker_share_of(&node, d->is_worker && d->worker < n ? d->worker : 0, n, &e->share,
			    why, sizeof(why))) {
		snprintf(err, errlen, "%s: workers: %s", daemon_where(d, "workers"), why);
		return -1;
	}
	return 0;
}

static int agw_prepare(struct daemon *d, char *err, size_t errlen)
{
	struct agw *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->app = e;
	if (workers_prepare(d, e, err, errlen))
		return -1;
	if (daemon_load_identity(d, &e->dtls, "dtls.cert", "dtls.key", "eims-agw", err, errlen))
		return -1;
	return iq_prepare(d, e, err, errlen);
}

/* media_plane.watch: a context came or went (a drain may be over, the
 * load may be worth a NODE_STATUS). */
static void contexts_changed(void *arg)
{
	struct agw *e = arg;
	iq_admin_contexts_changed(&e->admin);
	iq_status_kick(&e->status);
}

static int agw_start(struct daemon *d, char *err, size_t errlen)
{
	struct agw *e = d->app;
	struct agw_cfg *c = d->cfg;

	log_info(&d->log, SUB_DTLS, NULL, "dtls identity",
		 LF_S("cert", e->dtls.cert_path),
		 LF_S("generated", e->dtls.generated ? "yes" : "no"),
		 LF_S("fingerprint", e->dtls.fingerprint_sha256));
	if (e->iq_tls_ready) {
		log_info(&d->log, SUB_IQ, NULL, "iq identity", LF_S("node_id", e->node_id),
			 LF_S("cert", e->iq_id.cert_path),
			 LF_S("generated", e->iq_id.generated ? "yes" : "no"),
			 LF_S("fingerprint", e->iq_id.fingerprint_sha256));
		if (!iqp_tls_cert_has_name(e->iq_id.cert, e->node_id))
			log_warn(&d->log, SUB_IQ, NULL, "iq certificate without node_id",
				 LF_S("node_id", e->node_id), LF_S("cert", e->iq_id.cert_path),
				 LF_S("reason", "controllers refuse the registration (504)"));
		if (!c->iq_pins.n && !*c->iq_ca_file)
			log_warn(&d->log, SUB_IQ, NULL, "iq no trusted controller",
				 LF_S("reason", "iq.trusted_fingerprints and iq.ca_file are empty: "
					       "every controller is refused"));
	}
	if (d->is_worker)
		log_info(&d->log, SUB_CORE, NULL, "worker share", LF_S("node_id", e->node_id),
			 LF_U("port_min", e->share.port_min), LF_U("port_max", e->share.port_max),
			 LF_U("max_contexts", e->share.max_contexts),
			 LF_U("max_ports", e->share.max_ports));
	struct media_plane_cfg mc = {
		.port_min = e->share.port_min, .port_max = e->share.port_max,
		.consent_timeout_ms = (uint32_t)c->consent_timeout,
		.ice_timeout_ms = (uint32_t)c->ice_timeout,
		.dtls_timeout_ms = (uint32_t)c->dtls_timeout,
		.term_hb_ms = (uint32_t)c->term_hb,
		.strict_source = c->strict_source,
		.io_mode = (enum udp_io_mode)c->media_io,
	};
	if (media_plane_init(&e->media, &d->loop, &d->log, SUB_MEDIA, &mc, &e->dtls,
			     e->iq.self.realms, e->iq.self.n_realms, &d->metrics, err, errlen))
		return -1;
	e->media_ready = 1;
	if (e->media.io->uring_err)
		log_warn(&d->log, SUB_MEDIA, NULL, "media io", LF_S("backend", "epoll"),
			 LF_S("reason", strerror(e->media.io->uring_err)),
			 LF_S("detail", "media.io auto: io_uring unavailable, a receive and a send "
					"per packet instead"));
	else
		log_info(&d->log, SUB_MEDIA, NULL, "media io",
			 LF_S("backend", udp_io_backend(e->media.io)));
	iq_calls_init(&e->calls, &e->media, &e->iq, &d->log, SUB_IQ, (uint32_t)c->iq_hold);
	if (iq_admin_start(&e->admin, &e->calls, (uint32_t)c->iq_drain_timeout, &d->metrics, err,
			   errlen))
		return -1;
	e->admin_ready = 1;
	struct load_thresholds th = { (uint8_t)c->overload_minor, (uint8_t)c->overload_major,
				      (uint8_t)c->overload_critical };
	if (load_thresholds_check(&th)) {
		snprintf(err, errlen, "%s: iq.overload_minor, iq.overload_major and "
			 "iq.overload_critical must increase", daemon_where(d, "iq.overload_major"));
		return -1;
	}
	if (iq_status_start(&e->status, &e->calls, &th, &d->metrics, err, errlen))
		return -1;
	e->status_ready = 1;
	e->media.watch.changed = contexts_changed;
	e->media.watch.arg = e;
	if (iq_client_start(&e->iq, &d->loop, &d->log, SUB_IQ, &d->metrics, err, errlen))
		return -1;
	e->iq_started = 1;
	return 0;
}

static void agw_stop(struct daemon *d)
{
	struct agw *e = d->app;
	if (e && e->media_ready)
		e->media.watch.changed = NULL;
	if (e && e->status_ready)
		iq_status_stop(&e->status);
	if (e && e->admin_ready)
		iq_admin_stop(&e->admin);
	if (e && e->media_ready) {
		iq_calls_stop(&e->calls);
		media_plane_stop(&e->media);
	}
	if (e && e->iq_started)
		iq_client_stop(&e->iq);
}

static void agw_destroy(struct daemon *d)
{
	struct agw *e = d->app;
	if (!e)
		return;
	if (e->media_ready)
		media_plane_free(&e->media);
	tls_identity_free(&e->dtls);
	if (e->iq_tls_ready) {
		iqp_tls_ctx_free(&e->iq_tls);
		tls_identity_free(&e->iq_id);
	}
	free(e->node_names);
	free(e);
	d->app = NULL;
}

/* The worker's loop is the media loop (media_loop.h) once the media plane
 * exists; a supervisor, or a start that failed before it, runs libuv's. */
static void agw_run(struct daemon *d)
{
	struct agw *e = d->app;

	if (!e || !e->media_ready) {
		uv_run(&d->loop, UV_RUN_DEFAULT);
		return;
	}
	int rc = media_loop_run(&d->loop, e->media.io);
	if (rc) {
		/* epoll or timerfd refused: nothing can be relayed any more. */
		log_error(&d->log, SUB_MEDIA, NULL, "media loop failed", LF_S("reason", strerror(rc)));
		daemon_stop(d, DAEMON_EXIT_FATAL);
		udp_io_reap(e->media.io);
		uv_run(&d->loop, UV_RUN_DEFAULT);
	}
}

static const struct daemon_ops agw_ops = {
	.name = "eims-agw",
	.opts = opts,
	.n_opts = sizeof(opts) / sizeof(opts[0]),
	.cfg_size = sizeof(struct agw_cfg),
	.subsys = subsys_names,
	.n_subsys = N_SUBSYS,
	.build_info_metric = "eimsagw_build_info",
	.prepare = agw_prepare,
	.start = agw_start,
	.stop = agw_stop,
	.destroy = agw_destroy,
	.run = agw_run,
};

int main(int argc, char **argv)
{
	/* First, before OpenSSL allocates: the SRTP transforms place their
	 * cipher contexts in their own page (openssl_arena.h). */
	if (openssl_arena_install())
		fprintf(stderr, "eims-agw: OpenSSL allocated before start-up; "
				"SRTP cipher contexts stay on the heap\n");
	return daemon_main(&agw_ops, argc, argv);
}
