/* Contexts, terminations and streams: creation, lookup, timers, release. */
#include "media_context.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term_ims.h"
#include "term_w3.h"

#include <netinet/ip.h>

static const char *const drop_names[DROP_N] = {
	[DROP_DEMUX] = "demux", [DROP_STUN] = "stun", [DROP_DTLS] = "dtls",
	[DROP_NOT_ALLOWED] = "ice_not_allowed", [DROP_NO_KEYS] = "no_srtp_keys",
	[DROP_SRTP_AUTH] = "srtp_auth", [DROP_SRTP_REPLAY] = "srtp_replay",
	[DROP_SRTP_OTHER] = "srtp_other", [DROP_NO_ROUTE] = "no_route",
	[DROP_GATE] = "gate", [DROP_CODEC] = "codec", [DROP_SOURCE] = "source",
	[DROP_MALFORMED] = "malformed", [DROP_SEND] = "send", [DROP_POLICED] = "policed",
};

const char *media_drop_name(unsigned why)
{
	return why < DROP_N ? drop_names[why] : "?";
}

uint64_t media_now(const struct media_plane *mp)
{
	return uv_now(mp->loop);
}

static double ctx_gauge(void *arg)
{
	return (double)((struct media_plane *)arg)->n_ctxs;
}

static double uring_gauge(void *arg)
{
	const struct udp_io *io = ((struct media_plane *)arg)->io;
	return io && io->ur ? 1 : 0;
}

static double pages_mapped(void *arg)
{
	return (double)page_pool_bytes_mapped(&((struct media_plane *)arg)->pages);
}

static double pages_huge(void *arg)
{
	return (double)((struct media_plane *)arg)->pages.huge_bytes;
}

static double nobufs_count(void *arg)
{
	const struct udp_io *io = ((struct media_plane *)arg)->io;
	return io ? (double)io->rx_nobufs : 0;
}

static double term_gauge(void *arg)
{
	return (double)((struct media_plane *)arg)->n_terms;
}

static double ports_gauge(void *arg)
{
	return (double)((struct media_plane *)arg)->ports.n_free;
}

static int add_metrics(struct media_plane *mp, struct metrics *m)
{
	static const char drop_help[] = "Media packets dropped, by reason.";
	static const char rel_help[] = "Media packets relayed between the W3 and IMS sides.";
	static const char *const ev_names[10] = {
		NULL, "ice_selected_pair", "ice_new_peer_reflexive", "ice_consent_lost",
		"ice_failed", "dtls_established", "dtls_failed", "bearer_released",
		"media_inactivity", "term_heartbeat",
	};

	for (unsigned i = 0; i < DROP_N; i++)
		mp->drops[i] = metrics_add(m, "eimsagw_media_dropped_total", drop_help,
					   METRIC_COUNTER, "reason", drop_names[i], (const char *)NULL);
	mp->relayed_w3_ims = metrics_add(m, "eimsagw_media_relayed_total", rel_help, METRIC_COUNTER,
					 "dir", "w3_to_ims", "kind", "rtp", (const char *)NULL);
	mp->relayed_ims_w3 = metrics_add(m, "eimsagw_media_relayed_total", rel_help, METRIC_COUNTER,
					 "dir", "ims_to_w3", "kind", "rtp", (const char *)NULL);
	mp->rtcp_w3_ims = metrics_add(m, "eimsagw_media_relayed_total", rel_help, METRIC_COUNTER,
				      "dir", "w3_to_ims", "kind", "rtcp", (const char *)NULL);
	mp->rtcp_ims_w3 = metrics_add(m, "eimsagw_media_relayed_total", rel_help, METRIC_COUNTER,
				      "dir", "ims_to_w3", "kind", "rtcp", (const char *)NULL);
	mp->rtcp_w3_ims_in = metrics_add(m, "eimsagw_media_rtcp_routed_total",
					 "RTCP compounds from the WIC routed to a stream.", METRIC_COUNTER,
					 (const char *)NULL);
	mp->rtcp_filtered = metrics_add(m, "eimsagw_media_rtcp_feedback_removed_total",
					"Browser-only RTCP feedback (transport-cc, REMB) not forwarded to IMS.",
					METRIC_COUNTER, (const char *)NULL);
	mp->rtcp_pli_to_fir = metrics_add(m, "eimsagw_media_rtcp_pli_to_fir_total",
					  "PLIs from the WIC sent on as FIRs to an IMS peer that negotiated only ccm fir.",
					  METRIC_COUNTER, (const char *)NULL);
	for (unsigned i = 1; i < 10; i++)
		mp->ev_sent[i] = metrics_add(m, "eimsagw_iq_events_total",
					     "Iq+ EVENT notifications sent, by type.", METRIC_COUNTER,
					     "type", ev_names[i], (const char *)NULL);
	if (!metrics_add_fn(m, "eimsagw_media_contexts", "Iq+ contexts in use.", METRIC_GAUGE,
			    ctx_gauge, mp) ||
	    !metrics_add_fn(m, "eimsagw_media_terminations", "Iq+ terminations in use.",
			    METRIC_GAUGE, term_gauge, mp) ||
	    !metrics_add_fn(m, "eimsagw_media_ports_free", "Free ports in the media range.",
			    METRIC_GAUGE, ports_gauge, mp) ||
	    !metrics_add_fn(m, "eimsagw_media_io_uring",
			    "1: media sockets on io_uring; 0: on epoll (media.io).", METRIC_GAUGE,
			    uring_gauge, mp) ||
	    !metrics_add_fn(m, "eimsagw_media_rx_nobufs_total",
			    "io_uring: socket receives ended for want of free receive buffers "
			    "(re-armed at once; the datagrams wait in the socket).",
			    METRIC_COUNTER, nobufs_count, mp) ||
	    !metrics_add_fn(m, "eimsagw_media_pool_bytes",
			    "Memory held for terminations, streams and SRTP contexts (kept at its "
			    "high-water mark).", METRIC_GAUGE, pages_mapped, mp) ||
	    !metrics_add_fn(m, "eimsagw_media_pool_huge_bytes",
			    "Of that memory, what is advised for transparent huge pages with THP "
			    "enabled (0 under THP never).",
			    METRIC_GAUGE, pages_huge, mp))
		return ENOMEM;
	return 0;
}

static int hex_nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
	     : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int media_plane_init(struct media_plane *mp, uv_loop_t *loop, const struct log *log,
		     unsigned sub, const struct media_plane_cfg *cfg,
		     const struct tls_identity *dtls_id, const struct iqp_realm *realms,
		     size_t n_realms, struct metrics *metrics, char *err, size_t errlen)
{
	int rc;

	memset(mp, 0, sizeof(*mp));
	mp->loop = loop;
	mp->log = log;
	mp->sub = sub;
	mp->cfg = *cfg;
	mp->realms = realms;
	mp->n_realms = n_realms;
	mp->id = dtls_id;
	mp->next_ctx_id = 1;
	mp->next_term_id = 1;
	page_pool_init(&mp->pages, 0);
	for (size_t i = 0; i < 32; i++) {
		const char *f = dtls_id->fingerprint_sha256 + 3 * i;
		int hi = hex_nibble(f[0]), lo = hex_nibble(f[1]);
		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "DTLS certificate fingerprint unreadable");
			return EINVAL;
		}
		mp->fp_sha256[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!(mp->io = malloc(sizeof(*mp->io)))) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	if ((rc = udp_io_init(mp->io, loop, cfg->io_mode))) {
		snprintf(err, errlen, cfg->io_mode == UDP_IO_URING
			 ? "media.io io_uring: cannot set up the ring: %s (media.io epoll or auto works "
			   "without it)"
			 : "cannot set up media socket I/O: %s", strerror(rc));
		goto fail;
	}
	if ((rc = dtls_ctx_init(&mp->dtls, dtls_id))) {
		snprintf(err, errlen, "cannot create the DTLS context");
		goto fail;
	}
	if ((rc = port_pool_init(&mp->ports, cfg->port_min, cfg->port_max))) {
		snprintf(err, errlen, "media port range %u-%u unusable", cfg->port_min,
			 cfg->port_max);
		dtls_ctx_free(&mp->dtls);
		goto fail;
	}
	if ((rc = add_metrics(mp, metrics))) {
		snprintf(err, errlen, "out of memory");
		dtls_ctx_free(&mp->dtls);
		port_pool_free(&mp->ports);
		goto fail;
	}
	return 0;
fail:
	udp_io_free(mp->io);
	free(mp->io);
	mp->io = NULL;
	return rc;
}

void media_plane_stop(struct media_plane *mp)
{
	mp->stopping = true;
	while (mp->ctxs)
		media_ctx_release(mp, mp->ctxs);
}

void media_ctx_release(struct media_plane *mp, struct media_ctx *c)
{
	struct media_term *t[MEDIA_MAX_TERMS];
	unsigned n = c->n_terms;

	/* The last release deletes c: work from a copy. */
	memcpy(t, c->t, n * sizeof(t[0]));
	for (unsigned i = n; i-- > 0;)
		media_term_release(mp, t[i]);
}

void media_plane_free(struct media_plane *mp)
{
	if (!mp->io)
		return;
	dtls_ctx_free(&mp->dtls);
	port_pool_free(&mp->ports);
	/* Every termination is gone by now: what the pool still has handed
	 * out is a leak that ASan cannot see (it sees the pool's blocks). */
	if (mp->pages.bytes_used)
		log_error(mp->log, mp->sub, NULL, "media page pool leak",
			  LF_U("bytes", mp->pages.bytes_used));
	page_pool_destroy(&mp->pages);
	udp_io_free(mp->io);
	free(mp->io);
	mp->io = NULL;
}

/* --- Contexts ----------------------------------------------------------- */

struct media_ctx *media_ctx_find(struct media_plane *mp, uint32_t id)
{
	for (struct media_ctx *c = mp->ctxs; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

struct media_ctx *media_ctx_new(struct media_plane *mp, const void *owner)
{
	struct media_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = mp->next_ctx_id++;
	c->owner = owner;
	c->next = mp->ctxs;
	mp->ctxs = c;
	mp->n_ctxs++;
	if (mp->watch.changed)
		mp->watch.changed(mp->watch.arg);
	return c;
}

void media_ctx_delete(struct media_plane *mp, struct media_ctx *c)
{
	for (struct media_ctx **pp = &mp->ctxs; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			mp->n_ctxs--;
			free(c);
			if (mp->watch.changed)
				mp->watch.changed(mp->watch.arg);
			return;
		}
}

struct media_term *media_ctx_term(const struct media_ctx *c, uint32_t term_id)
{
	for (unsigned i = 0; i < c->n_terms; i++)
		if (c->t[i]->id == term_id)
			return c->t[i];
	return NULL;
}

struct media_term *media_term_find_any(struct media_plane *mp, uint32_t term_id)
{
	for (struct media_ctx *c = mp->ctxs; c; c = c->next) {
		struct media_term *t = media_ctx_term(c, term_id);
		if (t)
			return t;
	}
	return NULL;
}

/* --- Terminations -------------------------------------------------------- */

static void term_free(struct media_term *t)
{
	for (unsigned i = 0; i < t->n_streams; i++)
		media_stream_free(t->s[i]);
	if (t->w3)
		term_w3_free(t);
	if (media_free(t->mp, t))
		log_error(t->mp->log, t->mp->sub, NULL, "termination not from the page pool",
			  LF_U("term", t->id));
}

static void handle_closed(struct media_term *t)
{
	if (--t->handles == 0 && t->released)
		term_free(t);
}

static void on_timer_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

static void on_timer(uv_timer_t *h)
{
	struct media_term *t = h->data;
	struct media_plane *mp = t->mp;
	uint64_t now = media_now(mp);

	if (t->released)
		return;
	if (t->w3 && term_w3_tick(t, now))
		return; /* released */
	/* T_UNUSED (8.8): a reservation never used, or failed and left. */
	if ((t->state == TERM_RESERVED || t->state == TERM_FAILED) && t->unused_timeout_s &&
	    now >= t->state_since_ms + (uint64_t)t->unused_timeout_s * 1000) {
		struct media_event ev = { .type = 7, .error = 1305,
					  .text = "reservation timer expired", .term = t };
		media_term_event(t, &ev);
		media_term_release(mp, t);
		return;
	}
	/* TERM_HEARTBEAT (9.2 event 9), only when EVENT_MASK enables it. */
	if ((t->event_mask & (1u << 8)) && now >= t->hb_next_ms) {
		struct media_event ev = { .type = 9 };
		t->hb_next_ms = now + mp->cfg.term_hb_ms;
		media_term_event(t, &ev);
	}
	/* MEDIA_INACTIVITY (9.2 event 8), once per silence. */
	for (unsigned i = 0; i < t->n_streams; i++) {
		struct media_stream *s = t->s[i];
		uint64_t last = s->last_rx_ms ? s->last_rx_ms : s->created_ms;
		if (s->inactivity_ms && !s->inactive && now >= last + s->inactivity_ms) {
			struct media_event ev = { .type = 8, .stream_id = s->id };
			s->inactive = true;
			media_term_event(t, &ev);
		}
	}
	media_term_arm(t);
}

void media_term_arm(struct media_term *t)
{
	uint64_t next = UINT64_MAX, now = media_now(t->mp);

	if (t->released)
		return;
	if ((t->state == TERM_RESERVED || t->state == TERM_FAILED) && t->unused_timeout_s)
		next = t->state_since_ms + (uint64_t)t->unused_timeout_s * 1000;
	if (t->w3) {
		uint64_t d = term_w3_deadline(t, now);
		if (d < next)
			next = d;
	}
	if ((t->event_mask & (1u << 8)) && t->hb_next_ms < next)
		next = t->hb_next_ms;
	for (unsigned i = 0; i < t->n_streams; i++) {
		const struct media_stream *s = t->s[i];
		uint64_t last = s->last_rx_ms ? s->last_rx_ms : s->created_ms;
		if (s->inactivity_ms && !s->inactive && last + s->inactivity_ms < next)
			next = last + s->inactivity_ms;
	}
	if (next == UINT64_MAX)
		uv_timer_stop(&t->timer);
	else
		uv_timer_start(&t->timer, on_timer, next > now ? next - now : 0, 0);
}

/* A W3 termination and its W3 state are one allocation, the state right
 * after the termination: what a packet reads of both (the termination's
 * line 0, the W3 state's packet-path fields) then shares one page. */
#define W3_STATE_OFF ((sizeof(struct media_term) + 63) & ~(size_t)63)
_Static_assert(W3_STATE_OFF + TERM_W3_HOT_END <= 4096,
	       "a W3 termination's packet-path fields beyond its first page");

struct term_w3 *media_term_w3_storage(struct media_term *t)
{
	return t->kind == IQP_TERM_W3 ? (struct term_w3 *)((char *)t + W3_STATE_OFF) : NULL;
}

struct media_term *media_term_new(struct media_plane *mp, uint8_t kind)
{
	struct media_term *t = media_zalloc(mp, kind == IQP_TERM_W3
						    ? W3_STATE_OFF + sizeof(struct term_w3)
						    : sizeof(*t));

	if (!t)
		return NULL;
	t->mp = mp;
	t->kind = kind;
	t->id = mp->next_term_id++;
	t->state = TERM_RESERVED;
	t->state_since_ms = media_now(mp);
	t->unused_timeout_s = MEDIA_UNUSED_TIMEOUT_S;
	t->event_mask = MEDIA_EVENT_MASK_DEFAULT;
	t->hb_next_ms = t->state_since_ms + mp->cfg.term_hb_ms;
	uv_timer_init(mp->loop, &t->timer);
	t->timer.data = t;
	t->handles = 1;
	mp->n_terms++;
	return t;
}

void media_term_attach(struct media_ctx *c, struct media_term *t)
{
	t->ctx = c;
	c->t[c->n_terms++] = t;
	media_ctx_peers_update(c);
}

void media_term_release(struct media_plane *mp, struct media_term *t)
{
	struct media_ctx *c = t->ctx;

	if (t->released)
		return;
	if (c) {
		for (unsigned i = 0; i < c->n_terms; i++)
			if (c->t[i] == t) {
				memmove(&c->t[i], &c->t[i + 1], (c->n_terms - i - 1) * sizeof(c->t[0]));
				c->n_terms--;
				break;
			}
		if (!c->n_terms)
			media_ctx_delete(mp, c);
		else
			media_ctx_peers_update(c);
	}
	t->ctx = NULL;
	for (unsigned i = 0; i < t->n_streams; i++)
		t->s[i]->peer = NULL;
	t->released = true;
	mp->n_terms--;
	for (unsigned i = 0; i < t->n_streams; i++)
		term_ims_close_stream(t->s[i]);
	if (t->w3)
		term_w3_close(t);
	uv_timer_stop(&t->timer);
	uv_close((uv_handle_t *)&t->timer, on_timer_closed);
}

/* --- Streams ------------------------------------------------------------- */

/* Two streams to a block: slot 0 at its start, slot 1 at STREAM_SLOT1,
 * the block's first page holding both streams' packet-path fields (up to
 * the IMS RTP socket): a packet relayed between a stream and its peer in
 * the other slot reads one page of streams, not two.  The slots in use
 * are a bit mask in the gap before slot 1. */
#define STREAM_SLOT1 3072
#define STREAM_USED_OFF (STREAM_SLOT1 - 64)
#define STREAM_PATH_END (offsetof(struct media_stream, rtp) + sizeof(struct udp_sock))
_Static_assert(sizeof(struct media_stream) <= STREAM_USED_OFF, "slot 0 overlaps the mask");
_Static_assert(STREAM_SLOT1 + STREAM_PATH_END <= 4096,
	       "slot 1's packet-path fields beyond the block's first page");

static uint8_t *stream_used(struct media_stream *s)
{
	return (uint8_t *)s - s->slot * STREAM_SLOT1 + STREAM_USED_OFF;
}

/* The free slot of the block of the stream that will be s's peer, or a
 * new block (zeroed); the slot is zeroed, s->slot set.  NULL: ENOMEM. */
static struct media_stream *stream_alloc(struct media_term *t, uint16_t id)
{
	struct media_ctx *c = t->ctx;

	for (unsigned i = 0; c && i < c->n_terms; i++) {
		if (c->t[i] == t)
			continue;
		for (unsigned k = 0; k < c->t[i]->n_streams; k++) {
			struct media_stream *q = c->t[i]->s[k];
			uint8_t *used = stream_used(q);
			if (q->id != id || *used == 3)
				continue;
			unsigned slot = *used & 1 ? 1 : 0;
			struct media_stream *s =
				(void *)((uint8_t *)q - q->slot * STREAM_SLOT1 + slot * STREAM_SLOT1);
			memset(s, 0, sizeof(*s));
			s->slot = (uint8_t)slot;
			*used |= (uint8_t)(1u << slot);
			return s;
		}
	}
	struct media_stream *s = media_zalloc(t->mp, STREAM_SLOT1 + sizeof(*s));
	if (s)
		*stream_used(s) = 1; /* slot 0 */
	return s;
}

void media_stream_free(struct media_stream *s)
{
	uint8_t *used = stream_used(s);
	uint8_t *block = (uint8_t *)s - s->slot * STREAM_SLOT1;

	*used &= (uint8_t)~(1u << s->slot);
	if (!*used && media_free(s->term->mp, block))
		log_error(s->term->mp->log, s->term->mp->sub, NULL, "stream block not from the page pool",
			  LF_U("stream", s->id));
}

struct media_stream *media_stream_new(struct media_term *t, uint16_t id)
{
	struct media_stream *s = stream_alloc(t, id);

	if (!s)
		return NULL;
	s->term = t;
	s->term_kind = t->kind;
	s->term_failed = t->state == TERM_FAILED;
	s->clk_pt = MEDIA_PT_NONE;
	s->id = id;
	s->mode = MODE_SENDRECV;
	s->latching = LATCH_OFF;
	s->ccm_interwork = true;
	s->created_ms = media_now(t->mp);
	memset(s->pt_map, MEDIA_PT_NONE, sizeof(s->pt_map));
	t->s[t->n_streams++] = s;
	if (t->ctx)
		media_ctx_peers_update(t->ctx);
	return s;
}

bool media_stream_fir_only(const struct media_stream *s)
{
	uint8_t fb = 0;

	if (!s->ccm_interwork)
		return false;
	for (unsigned i = 0; i < s->n_codecs; i++)
		fb |= s->codecs[i].fb;
	return fb == MEDIA_FB_FIR;
}

struct media_stream *media_term_stream(const struct media_term *t, uint16_t id)
{
	for (unsigned i = 0; i < t->n_streams; i++)
		if (t->s[i]->id == id)
			return t->s[i];
	return NULL;
}

/* The search media_stream_peer's answer comes from. */
static struct media_stream *peer_find(const struct media_stream *s)
{
	const struct media_ctx *c = s->term->ctx;

	if (!c)
		return NULL;
	for (unsigned i = 0; i < c->n_terms; i++) {
		struct media_stream *p;
		if (c->t[i] != s->term && (p = media_term_stream(c->t[i], s->id)))
			return p;
	}
	return NULL;
}

void media_ctx_peers_update(struct media_ctx *c)
{
	for (unsigned i = 0; i < c->n_terms; i++)
		for (unsigned k = 0; k < c->t[i]->n_streams; k++)
			c->t[i]->s[k]->peer = peer_find(c->t[i]->s[k]);
}

void media_stream_remove(struct media_term *t, struct media_stream *s)
{
	for (unsigned i = 0; i < t->n_streams; i++)
		if (t->s[i] == s) {
			memmove(&t->s[i], &t->s[i + 1], (t->n_streams - i - 1) * sizeof(t->s[0]));
			t->n_streams--;
			break;
		}
	s->peer = NULL;
	if (t->ctx)
		media_ctx_peers_update(t->ctx);
	s->removed = true;
	term_ims_close_stream(s); /* frees s once its sockets closed */
}

static void refill(struct media_bucket *b, uint64_t now)
{
	if (b->rate && now > b->last_ms) {
		b->tokens += (double)b->rate * (double)(now - b->last_ms) / 1000.0;
		if (b->tokens > b->size)
			b->tokens = b->size;
		b->last_ms = now;
	}
}

static bool conforms(const struct media_bucket *b, size_t bytes)
{
	return !b->rate || b->tokens >= (double)bytes;
}

static void take(struct media_bucket *b, size_t bytes)
{
	if (b->rate)
		b->tokens -= (double)bytes;
}

bool media_stream_source_ok(struct media_stream *s, const struct sockaddr *from)
{
	struct media_plane *mp = s->term->mp;

	if (s->n_filter) {
		bool ok = false;
		for (unsigned i = 0; i < s->n_filter && !ok; i++) {
			const struct iqp_ip *f = &s->filter[i];
			if (f->family == 4 && from->sa_family == AF_INET)
				ok = !memcmp(&((const struct sockaddr_in *)from)->sin_addr, f->addr, 4);
			else if (f->family == 6 && from->sa_family == AF_INET6)
				ok = !memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr, f->addr, 16);
		}
		if (!ok) {
			media_drop(mp, DROP_SOURCE);
			return false;
		}
	}
	return true;
}

bool media_stream_police(struct media_stream *s, const struct sockaddr *from, size_t len,
			 uint64_t now)
{
	struct media_plane *mp = s->term->mp;
	size_t ip = len + 8 + (from->sa_family == AF_INET6 ? 40 : 20);
	if (s->police.rate) {
		/* Both buckets must conform; only then are tokens taken. */
		refill(&s->police, now);
		refill(&s->peak, now);
		if (!conforms(&s->police, ip) || !conforms(&s->peak, ip)) {
			media_drop(mp, DROP_POLICED);
			return false;
		}
		take(&s->police, ip);
		take(&s->peak, ip);
	}
	return true;
}

static void sock_dscp(struct udp_sock *us, uint8_t dscp)
{
	int tos = dscp << 2;

	if (us->bound.ss_family == AF_INET6)
		setsockopt(us->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		setsockopt(us->fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}

void media_term_apply_dscp(struct media_term *t)
{
	uint8_t most = 0;

	for (unsigned i = 0; i < t->n_streams; i++) {
		struct media_stream *s = t->s[i];
		if (s->dscp > most)
			most = s->dscp;
		if (s->rtp_open)
			sock_dscp(&s->rtp, s->dscp);
		if (s->rtcp_open)
			sock_dscp(&s->rtcp, s->dscp);
	}
	/* W3: one socket carries every bundled stream; it gets the highest. */
	if (t->w3)
		for (unsigned i = 0; i < t->w3->n_sock; i++)
			sock_dscp(&t->w3->sock[i], most);
}

/* --- State and events ------------------------------------------------------ */

void media_term_set_state(struct media_term *t, uint8_t state)
{
	if (t->state == state)
		return;
	log_debug(t->mp->log, t->mp->sub, NULL, "termination state", LF_U("context", t->ctx ? t->ctx->id : 0),
		  LF_U("term", t->id), LF_U("from", t->state), LF_U("to", state));
	t->state = state;
	for (unsigned i = 0; i < t->n_streams; i++)
		t->s[i]->term_failed = state == TERM_FAILED;
	t->state_since_ms = media_now(t->mp);
	media_term_arm(t);
}

void media_term_event(struct media_term *t, struct media_event *ev)
{
	struct media_plane *mp = t->mp;

	/* 9.3: types 3, 4, 6 and 7 whatever the mask. */
	bool forced = ev->type == 3 || ev->type == 4 || ev->type == 6 || ev->type == 7;
	if (!forced && (ev->type > 32 || !(t->event_mask & (1u << (ev->type - 1)))))
		return;
	if (!t->ctx || mp->stopping)
		return; /* 9.1 item 5: nothing after a RELEASE */
	ev->ctx_id = t->ctx->id;
	ev->term_id = t->id;
	if (ev->type < 10)
		metric_inc(mp->ev_sent[ev->type]);
	if (mp->sink.event)
		mp->sink.event(mp->sink.arg, ev);
}

void media_term_handle_closed(struct media_term *t)
{
	handle_closed(t);
}

void media_sockaddr(struct sockaddr_storage *ss, const struct iqp_ip *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, ip->addr, 4);
		in->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, ip->addr, 16);
		in6->sin6_port = htons(port);
	}
}
