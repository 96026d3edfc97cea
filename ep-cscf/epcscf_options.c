/* ep-cscf's option table: every setting, its default, limits and help
 * (printed by --help, checked at start-up with file:line in errors). */
#include <stddef.h>

#include "epcscf_root.h"

static const char *const anchors[] = { "agw", "none", NULL };
const char *const epcscf_transports[] = { "udp", "tcp", "tls", NULL };
static const char *const iq_securities[] = { "tls", "tcp", NULL };

#define O(f) offsetof(struct epcscf_cfg, f)
const struct conf_opt epcscf_opts[] = {
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
	  0, 0, NULL, 0, "a trusted WWSF: NAME origins=ORIGIN[,...] [issuer=URL jwks=FILE "
	  "impus=PATTERN[,...] ranges=PATTERN[,...] wafs=ID[,...] max_registrations=N "
	  "barred=yes|no] (repeatable)" },
	{ "auth.audience", CONF_STRING, O(auth_audience), "sip:ep-cscf.ims.test", 0, 0, NULL, 0,
	  "this eP-CSCF's identity: the \"aud\" a WWSF token must name" },
	{ "auth.leeway", CONF_INT, O(auth_leeway), "30", 0, 300, NULL, 0,
	  "seconds of clock skew allowed on a token's exp, nbf and iat" },
	{ "auth.max_token_bytes", CONF_INT, O(auth_max_token), "4096", 256, 16384, NULL, 0,
	  "longest Bearer token accepted" },
	{ "auth.jti_cache", CONF_INT, O(auth_jti_cache), "100000", 16, 10000000, NULL, 0,
	  "token ids kept for replay detection (full of live ids: new tokens refused)" },
	{ "auth.bearer_every_request", CONF_BOOL, O(auth_every_request), "no", 0, 0, NULL, 0,
	  "require and re-check the Bearer token on every request of a token registration "
	  "(TS 24.371 7.2.1), not only on REGISTER" },
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
	{ "ims.transport", CONF_ENUM, O(ims_transport), "udp", 0, 0, epcscf_transports, 0,
	  "transport toward ims.next_hop: udp, tcp or tls (big requests over udp use tcp)" },
	{ "ims.tls.listen", CONF_ADDR, O(ims_tls_listen), "", 0, 0, NULL, 0,
	  "SIP over TLS listener toward IMS (empty: none; needed for ims.transport tls)" },
	{ "ims.tls.trusted_fingerprints", CONF_LIST, O(ims_tls_pins), "", 0, 0, NULL, 0,
	  "SHA-256 fingerprint of a trusted IMS node certificate (repeatable)" },
	{ "ims.tls.ca_file", CONF_PATH, O(ims_tls_ca_file), "", 0, 0, NULL, 0,
	  "PEM CA certificates that IMS node certificates may chain to" },
	{ "ims.tls.server_name", CONF_STRING, O(ims_tls_name), "", 0, 0, NULL, 0,
	  "name the next hop's certificate must carry (empty: pins or CA only)" },
	{ "ims.visited_network", CONF_STRING, O(visited_network), "ims.test", 0, 0, NULL, 0,
	  "P-Visited-Network-ID added to REGISTER" },
	{ "iq.listen", CONF_ADDR, O(iq_listen), "127.0.0.1:7190", 0, 0, NULL, 0,
	  "Iq+ listener for eIMS-AGWs (empty: none)" },
	{ "iq.security", CONF_ENUM, O(iq_security), "tls", 0, 0, iq_securities, 0,
	  "Iq+ transport: tls (mutual TLS 1.3) or tcp (plain, only where both ends say so)" },
	{ "iq.trusted_fingerprints", CONF_LIST, O(iq_pins), "", 0, 0, NULL, 0,
	  "SHA-256 fingerprint of a trusted AGW certificate (repeatable)" },
	{ "iq.ca_file", CONF_PATH, O(iq_ca_file), "", 0, 0, NULL, 0,
	  "PEM CA certificates that AGW certificates may chain to (empty: pins only)" },
	{ "iq.cert", CONF_PATH, O(iq_cert), "", 0, 0, NULL, 0,
	  "PEM certificate for Iq+ TLS (empty: generated under state_dir/iq)" },
	{ "iq.key", CONF_PATH, O(iq_key), "", 0, 0, NULL, 0,
	  "PEM private key for iq.cert (empty: in the same file)" },
	{ "iq.node_id", CONF_STRING, O(iq_node_id), "ep-cscf", 0, 0, NULL, 0,
	  "NODE_ID of this controller (1-64 of A-Z a-z 0-9 . _ -)" },
	{ "iq.drain", CONF_LIST, O(iq_drain), "", 0, 0, NULL, CONF_RELOADABLE,
	  "NODE_IDs of the AGWs to drain (SPEC 7.7 item 2; reloadable: edit, then SIGHUP): "
	  "no new calls, out of service when the last ends; removed again, they are restored" },
	{ "iq.hold_timeout", CONF_INT, O(iq_hold), "60000", 1000, 3600000, NULL, 0,
	  "T_HOLD, ms (SPEC 7.10): how long the calls of a lost AGW are kept for it to come back" },
	{ "iq.hb_interval", CONF_INT, O(iq_hb_interval), "5000", 1000, 60000, NULL, 0,
	  "heartbeat interval in ms for AGWs that propose none" },
	{ "media.anchor", CONF_ENUM, O(media_anchor), "agw", 0, 0, anchors, 0,
	  "media of calls: agw (IMS-ALG rewrites SDP, eIMS-AGWs over Iq+ carry it) or none "
	  "(SDP passes unchanged, for peers that speak WebRTC media themselves)" },
	{ "media.w3_realm", CONF_STRING, O(media_w3_realm), "w3", 0, 0, NULL, 0,
	  "AGW realm of browser-side terminations (REALM_NAME)" },
	{ "media.ims_realm", CONF_STRING, O(media_ims_realm), "ims", 0, 0, NULL, 0,
	  "AGW realm of IMS-side terminations (REALM_NAME)" },
	{ "media.bundle", CONF_BOOL, O(media_bundle), "yes", 0, 0, NULL, 0,
	  "offer BUNDLE toward browsers (no: one transport per m-line)" },
	{ "media.ims_avpf", CONF_BOOL, O(media_ims_avpf), "no", 0, 0, NULL, 0,
	  "offer RTP/AVPF toward IMS (no: RTP/AVP)" },
};
#undef O

const size_t epcscf_n_opts = sizeof(epcscf_opts) / sizeof(epcscf_opts[0]);
