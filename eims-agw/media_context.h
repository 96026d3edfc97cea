/* The media plane's object model (proto/SPEC.md 8.1): contexts, their
 * terminations and the streams of each, and struct media_plane, the root
 * that owns them all (hung off struct agw).
 *
 *   struct media_plane                 one per process, one libuv loop
 *    |- struct udp_io io               batched I/O buffers shared by every socket
 *    |- struct dtls_ctx dtls           SSL_CTX with the process certificate
 *    |- struct port_pool ports         the media port range
 *    `- struct media_ctx *ctxs         owned list, by CONTEXT_ID
 *        `- struct media_term *t[8]    owned; freed once its handles closed
 *            |- struct media_stream *s[16]   owned, two to a block (beside
 *            |                               the peer); IMS: RTP + RTCP sockets
 *            `- struct term_w3 *w3     (W3) inside the termination's own
 *                                       allocation: sockets, ICE, DTLS, SRTP
 *
 * A termination being released is unlinked from its context at once (no
 * lookups find it, no packet is forwarded to it) and freed when its last
 * libuv handle has closed.  Packets find their objects through the socket's
 * arg pointer: no lookup table on the packet path.
 *
 * Events for the controller leave through media_plane.sink (iq_calls.c). */
#ifndef AGW_MEDIA_CONTEXT_H
#define AGW_MEDIA_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "dtls_session.h"
#include "iqp_link_reg.h"
#include "log.h"
#include "metrics.h"
#include "page_pool.h"
#include "port_pool.h"
#include "rtp_stats.h"
#include "udp_batch.h"

#define MEDIA_MAX_TERMS 8       /* per context (8.1 item 5, 434) */
#define MEDIA_MAX_STREAMS 16    /* per termination (1005) */
#define MEDIA_MAX_CODECS 32
#define MEDIA_UNUSED_TIMEOUT_S 180
#define MEDIA_T_ICE_MS 30000
#define MEDIA_T_DTLS_MS 30000
#define MEDIA_EVENT_MASK_DEFAULT 0x000000ffu
#define MEDIA_PT_NONE 0xff

/* TERM_STATE (13). */
enum { TERM_RESERVED = 1, TERM_CONFIGURED, TERM_CONNECTING, TERM_ACTIVE, TERM_FAILED };
/* STREAM_MODE (13). */
enum { MODE_SENDRECV = 1, MODE_SENDONLY, MODE_RECVONLY, MODE_INACTIVE };
/* LATCHING (13). */
enum { LATCH_OFF = 1, LATCH_LATCH, LATCH_RELATCH };

/* Why packets were dropped (counted per reason in /metrics). */
enum media_drop {
	DROP_DEMUX,        /* not STUN, DTLS or RTP/RTCP (RFC 7983) */
	DROP_STUN,         /* malformed, bad integrity, not for us */
	DROP_DTLS,         /* DTLS from an address without ICE consent */
	DROP_NOT_ALLOWED,  /* media from an address ICE has not validated */
	DROP_NO_KEYS,      /* SRTP before DTLS completed and was verified */
	DROP_SRTP_AUTH,    /* authentication failed */
	DROP_SRTP_REPLAY,
	DROP_SRTP_OTHER,   /* malformed, too many SSRCs */
	DROP_NO_ROUTE,     /* no connected stream, no remote address, no pair */
	DROP_GATE,         /* STREAM_MODE */
	DROP_CODEC,        /* payload type not allowed on the egress leg */
	DROP_SOURCE,       /* IMS: source filter or strict source */
	DROP_MALFORMED,    /* RTP/RTCP too short */
	DROP_SEND,         /* queueing for send failed (size) */
	DROP_POLICED,      /* POLICING: over the token bucket (8.12 item 3) */
	DROP_N
};
const char *media_drop_name(unsigned why);

/* Feedback a codec's RTCP_FB values allow (RFC 4585 "nack pli", RFC 5104
 * "ccm fir"). */
enum { MEDIA_FB_PLI = 1, MEDIA_FB_FIR = 2 };

struct media_codec {
	uint8_t pt;
	uint8_t channels;
	uint8_t fb;                    /* MEDIA_FB_* */
	uint32_t clock;
	char name[33];
};

struct media_term;
struct term_w3;

struct media_stream {
	/* The packet path's fields first, by cache line (the stream is
	 * allocated on a line boundary, media_zalloc): line 0 is what both
	 * directions read of a stream (its termination's kind and FAILED
	 * state are mirrored here, so that a packet does not read the peer
	 * stream's termination), then the policing buckets and receive
	 * statistics, the payload type map, the IMS remote address. */
	_Alignas(64) struct media_term *term; /* borrowed: owner */
	uint16_t id;
	uint8_t media_type, transport, mode;
	uint8_t n_codecs;
	bool inactive;                 /* event 8 sent, not re-armed yet */
	bool rtp_open, rtcp_open;      /* IMS side: sockets open */
	bool has_remote, has_remote_rtcp, rtcp_mux, latched;
	uint8_t latching;
	bool removed;                  /* MODIFY removed it: freed once closed */
	uint8_t n_filter;              /* SOURCE_FILTER entries, 0: any */
	uint8_t term_kind;             /* term->kind (IQP_TERM_*), set once */
	bool term_failed;              /* term->state == TERM_FAILED (media_term_set_state) */
	/* The clock rate of payload type clk_pt (MEDIA_PT_NONE: not known)
	 * for the receive statistics without a codec-list search per
	 * packet; forgotten when the codecs change (media_relay_update). */
	uint8_t clk_pt;
	uint32_t clk_hz;
	uint64_t last_rx_ms;
	uint64_t tx_packets, tx_octets;
	struct media_stream *peer;     /* borrowed: media_stream_peer */
	/* POLICING (8.12 item 3): token buckets in bytes, 0 rate: off */
	struct media_bucket { uint32_t rate, size; double tokens; uint64_t last_ms; } police, peak;
	struct rtp_rx_stats rx;        /* STATS_RX */
	/* Egress payload type for each payload type received on this stream
	 * (8.11), MEDIA_PT_NONE: dropped.  Rebuilt when codecs change. */
	uint8_t pt_map[128];
	struct sockaddr_storage remote; /* IMS side: where RTP goes */
	/* IMS side (term kind IMS), next to the remote address: a relayed
	 * packet's lines of this stream within one page. */
	struct udp_sock rtp, rtcp;     /* owned when *_open */
	uint8_t dscp;                  /* DSCP (8.12 item 2), 0: configuration */
	uint16_t port;                 /* from the pool (RTP; RTCP is port+1) */
	uint32_t inactivity_ms;        /* 0: off */
	struct media_codec codecs[MEDIA_MAX_CODECS];
	uint64_t created_ms;
	struct sockaddr_storage local, local_rtcp;
	struct sockaddr_storage remote_rtcp;
	/* SOURCE_FILTER (8.10 item 4): accepted source addresses */
	struct iqp_ip filter[4];
	/* CCM_INTERWORK (8.9.3 item 3, default true) and the FIR sequence
	 * number of PLIs turned into FIRs toward this (IMS) stream (per
	 * RTCP packet, not per RTP packet: kept out of the hot lines). */
	bool ccm_interwork;
	uint8_t fir_seq;
	uint8_t slot;                  /* in its block (media_stream_new) */
};

/* Whether RTCP toward s needs PLI -> FIR: its codecs (what the IMS peer
 * negotiated) allow FIR but no PLI, and CCM_INTERWORK is on. */
bool media_stream_fir_only(const struct media_stream *s);

/* SOURCE_FILTER (before anything is counted) and POLICING (after the
 * receive statistics, 9.4) of a packet of len bytes received on s from
 * `from` (IP and UDP headers count for policing).  false: drop (counted). */
/* An Iq+ IP address and a port as a socket address (ss zeroed first). */
void media_sockaddr(struct sockaddr_storage *ss, const struct iqp_ip *ip, uint16_t port);

bool media_stream_source_ok(struct media_stream *s, const struct sockaddr *from);
bool media_stream_police(struct media_stream *s, const struct sockaddr *from, size_t len,
			 uint64_t now);

struct media_ctx;

struct media_term {
	_Alignas(64) struct media_ctx *ctx; /* borrowed: NULL once released */
	struct media_plane *mp;        /* borrowed */
	uint32_t id;
	uint8_t kind, state;
	uint8_t realm;                 /* index into mp->realms */
	uint8_t family;                /* ADDR_FAMILY wanted, 0: any */
	bool released;
	unsigned n_streams;
	struct term_w3 *w3;            /* W3 only: in this allocation (media_term_w3_storage) */
	struct media_stream *s[MEDIA_MAX_STREAMS]; /* owned */
	uint32_t unused_timeout_s, event_mask;
	uint64_t state_since_ms;       /* entered the current state */
	uint64_t hb_next_ms;           /* T_TERM_HB: next event 9 */
	uv_timer_t timer;              /* owned: the next deadline */
	unsigned handles;              /* libuv handles still open */
};

struct media_ctx {
	struct media_ctx *next;        /* mp->ctxs list */
	uint32_t id;
	const void *owner;             /* borrowed: the link that created it */
	struct media_term *t[MEDIA_MAX_TERMS];
	unsigned n_terms;
	bool emergency;
	uint8_t priority;
	char call_ref[257];
};

/* What the media plane tells the controller (9.2). */
struct media_event {
	unsigned type;                 /* 1..9 */
	uint32_t ctx_id, term_id;
	uint16_t stream_id;            /* 0: none */
	unsigned error;                /* ERROR_CODE, 0: none */
	const char *text;
	const struct sockaddr *local, *remote; /* events 1, 2, 3 */
	uint8_t cand_type;             /* event 1: of the remote candidate */
	uint8_t setup;                 /* event 5 */
	uint16_t profile;              /* event 5 */
	uint8_t alert;                 /* event 6, 0: none */
	const struct media_term *term; /* event 7: streams and stats */
};

struct media_sink {
	void (*event)(void *arg, const struct media_event *ev);
	void *arg;
};

struct media_plane_cfg {
	uint16_t port_min, port_max;
	uint32_t consent_timeout_ms;   /* T_CONSENT */
	uint32_t ice_timeout_ms, dtls_timeout_ms; /* T_ICE, T_DTLS */
	uint32_t term_hb_ms;           /* T_TERM_HB (event 9, when enabled) */
	bool strict_source;            /* IMS, LATCHING OFF: only from REMOTE_ADDR */
	enum udp_io_mode io_mode;      /* media.io */
};

struct media_plane {
	uv_loop_t *loop;                       /* borrowed */
	const struct log *log;                 /* borrowed */
	unsigned sub;
	struct media_plane_cfg cfg;
	const struct iqp_realm *realms;        /* borrowed (iq_client's) */
	size_t n_realms;
	const struct tls_identity *id;         /* borrowed: DTLS identity */
	uint8_t fp_sha256[32];                 /* of id's certificate */
	struct udp_io *io;                     /* owned (large: heap) */
	struct dtls_ctx dtls;                  /* owned */
	struct port_pool ports;                /* owned */
	struct page_pool pages;                /* owned: terminations, streams, SRTP */
	struct media_ctx *ctxs;                /* owned list */
	size_t n_ctxs, n_terms;
	uint32_t next_ctx_id, next_term_id;
	struct media_sink sink;
	/* Told whenever a context is created or deleted (iq_admin.c: the end
	 * of a drain); changed NULL: nobody. */
	struct media_watch {
		void (*changed)(void *arg);
		void *arg;
	} watch;
	bool stopping;
	/* metrics */
	struct metric *drops[DROP_N];
	struct metric *relayed_w3_ims, *relayed_ims_w3, *rtcp_w3_ims, *rtcp_ims_w3;
	struct metric *rtcp_w3_ims_in;         /* RTCP from the WIC routed to a stream */
	struct metric *rtcp_filtered;          /* browser-only feedback removed */
	struct metric *rtcp_pli_to_fir;        /* PLIs sent on as FIRs (RFC 5104) */
	struct metric *ev_sent[10];
};

int media_plane_init(struct media_plane *mp, uv_loop_t *loop, const struct log *log,
		     unsigned sub, const struct media_plane_cfg *cfg,
		     const struct tls_identity *dtls_id, const struct iqp_realm *realms,
		     size_t n_realms, struct metrics *metrics, char *err, size_t errlen);
/* Releases every termination (no events); handles close on the loop. */
void media_plane_stop(struct media_plane *mp);
/* After the loop ended. */
void media_plane_free(struct media_plane *mp);

/* A zeroed object from the plane's page pool (page_pool.h): page-aligned,
 * so that its packet-path fields (laid out by cache line, all in its
 * first KiBs) share one page, and that page on a huge page with the
 * other calls': each page a packet touches is a TLB entry, and on a VM a
 * TLB miss is a nested page walk.  Freed with media_free.  NULL: ENOMEM. */
static inline void *media_zalloc(struct media_plane *mp, size_t n)
{
	return page_pool_zalloc(&mp->pages, n);
}

/* Gives back p (from media_zalloc of mp; NULL allowed).  EINVAL: p is not
 * one of the pool's objects (a bug: nothing is freed). */
static inline int media_free(struct media_plane *mp, void *p)
{
	return page_pool_free(&mp->pages, p);
}

static inline void media_drop(struct media_plane *mp, enum media_drop why)
{
	metric_inc(mp->drops[why]);
}

/* Contexts. */
struct media_ctx *media_ctx_find(struct media_plane *mp, uint32_t id);
/* A new empty context with the next CONTEXT_ID; NULL: ENOMEM. */
struct media_ctx *media_ctx_new(struct media_plane *mp, const void *owner);
/* Releases every termination of c (no events), which deletes c. */
void media_ctx_release(struct media_plane *mp, struct media_ctx *c);
/* Unlinks and frees a context without terminations. */
void media_ctx_delete(struct media_plane *mp, struct media_ctx *c);
struct media_term *media_ctx_term(const struct media_ctx *c, uint32_t term_id);
/* Finds a termination of any context (435 checks). */
struct media_term *media_term_find_any(struct media_plane *mp, uint32_t term_id);

/* Terminations.  media_term_new allocates the object (no sockets yet). */
struct media_term *media_term_new(struct media_plane *mp, uint8_t kind);
/* The W3 state's place inside a W3 termination's allocation (term_w3_open
 * builds it there; it is freed with the termination), NULL for IMS. */
struct term_w3 *media_term_w3_storage(struct media_term *t);
/* Adds t to c (c->n_terms < MEDIA_MAX_TERMS). */
void media_term_attach(struct media_ctx *c, struct media_term *t);
/* Releases t: detaches it, closes its sockets and timer; freed once they
 * closed.  Deletes the context when it was its last termination. */
void media_term_release(struct media_plane *mp, struct media_term *t);
/* A new stream of t; NULL: ENOMEM.  Streams live two to a block, the
 * second beside its peer (the same STREAM_ID in another termination of
 * the context): a relayed packet reads both streams' packet-path fields
 * in one page.  Freed with media_stream_free. */
struct media_stream *media_stream_new(struct media_term *t, uint16_t id);
/* Frees s's slot, and its block once both slots are free. */
void media_stream_free(struct media_stream *s);
struct media_stream *media_term_stream(const struct media_term *t, uint16_t id);
/* The stream with the same STREAM_ID in another termination of the same
 * context (8.1 item 3), or NULL: kept in s->peer by media_context.c
 * whenever a termination joins or leaves a context or a stream is added
 * or removed (the only places that change it), so the packet path reads
 * one pointer instead of searching the context. */
static inline struct media_stream *media_stream_peer(const struct media_stream *s)
{
	return s->peer;
}
/* Recomputes media_stream_peer for every stream of c (media_context.c
 * calls it on every change; media_relay_update too). */
void media_ctx_peers_update(struct media_ctx *c);
/* Removes one stream (MODIFY); its sockets close on the loop. */
void media_stream_remove(struct media_term *t, struct media_stream *s);

/* DSCP of the streams onto their sockets (8.12 item 2): IMS sockets per
 * stream, W3 sockets the highest of the bundled streams.  Not per packet:
 * once per change. */
void media_term_apply_dscp(struct media_term *t);

/* State changes (8.8): sets the state, restarts timers that depend on it. */
void media_term_set_state(struct media_term *t, uint8_t state);
/* Recomputes the termination's timer from its deadlines. */
void media_term_arm(struct media_term *t);
/* Sends an event if the termination's EVENT_MASK allows it (9.3). */
void media_term_event(struct media_term *t, struct media_event *ev);

/* A libuv handle of t (timer, socket) has closed: frees t after the last
 * one once released. */
void media_term_handle_closed(struct media_term *t);

/* The loop's clock in ms. */
uint64_t media_now(const struct media_plane *mp);

#endif
