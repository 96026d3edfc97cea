/* W3 transport: ICE-lite, DTLS-SRTP, rtcp-mux, packets both ways. */
#include "term_w3.h"
#include "term_w3_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "byte_order.h"
#include "demux.h"
#include "media_relay.h"
#include "rtcp_ccm.h"
#include "rtcp_filter.h"
#include "rtp_ext.h"
#include "term_ims.h"

static const char ice_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* n characters of the ice-char set (RFC 8839) from the CSPRNG. */
int w3_random_ice(char *out, size_t n)
{
	uint8_t r[64];

	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		return EIO;
	for (size_t i = 0; i < n; i++)
		out[i] = ice_chars[r[i] & 63];
	out[n] = 0;
	return 0;
}

static bool known_candidate(const struct term_w3 *w, const struct sockaddr *a, uint8_t *type)
{
	for (unsigned i = 0; i < w->n_rcand; i++)
		if (sa_equal((const struct sockaddr *)&w->rcand[i], a)) {
			*type = w->rcand_type[i];
			return true;
		}
	return false;
}

/* --- Packets from the browser ---------------------------------------------- */

/* ICE's verdict on a non-STUN datagram; during an ICE restart the old
 * selected pair keeps working until a new one is selected (8.9.1 item 6). */
static bool allowed(const struct term_w3 *w, const struct sockaddr *from, uint64_t now)
{
	return ice_lite_media_allowed(&w->ice, from, now) ||
	       (w->restarting && w->has_sel && sa_equal(from, (const struct sockaddr *)&w->sel));
}

static void on_stun(struct media_term *t, struct udp_sock *sock, const uint8_t *buf, size_t len,
		    const struct sockaddr *from, uint64_t now)
{
	struct term_w3 *w = t->w3;
	struct media_plane *mp = t->mp;
	uint8_t reply[ICE_LITE_REPLY_MAX];
	struct ice_lite_result r;
	uint8_t type = 3; /* PRFLX */

	if (ice_lite_process(&w->ice, buf, len, from, now, reply, sizeof(reply), &r)) {
		media_drop(mp, DROP_STUN);
		return;
	}
	if (r.verdict == ICE_LITE_REPLY && udp_sock_send(sock, reply, r.reply_len, from))
		media_drop(mp, DROP_SEND);
	if (r.verdict == ICE_LITE_DROP || r.status) {
		media_drop(mp, DROP_STUN);
		return;
	}
	if (t->state == TERM_CONFIGURED)
		media_term_set_state(t, TERM_CONNECTING);
	if ((r.events & ICE_LITE_EV_NEW_CANDIDATE) && !known_candidate(w, from, &type)) {
		struct media_event ev = { .type = 2, .remote = from };
		media_term_event(t, &ev);
	}
	if (r.events & ICE_LITE_EV_SELECTED) {
		bool first = !w->has_sel;
		w->restarting = false;
		w->sel_sock = sock;
		memcpy(&w->sel, from, sa_len(from));
		w->has_sel = true;
		if (first)
			w->selected_ms = now;
		/* DTLS follows the selected pair. */
		if (w->dtls_on) {
			w->dtls_sock = sock;
			memcpy(&w->dtls_peer, from, sa_len(from));
		}
		known_candidate(w, from, &type);
		struct media_event ev = { .type = 1, .local = (struct sockaddr *)&sock->bound,
					  .remote = from, .cand_type = type };
		media_term_event(t, &ev);
		w3_maybe_start_client(t);
		w3_check_active(t);
	}
	media_term_arm(t);
}

static void on_dtls(struct media_term *t, struct udp_sock *sock, const uint8_t *buf, size_t len,
		    const struct sockaddr *from, uint64_t now)
{
	struct term_w3 *w = t->w3;

	if (!allowed(w, from, now)) {
		media_drop(t->mp, DROP_DTLS);
		return;
	}
	if (!w->dtls_on) {
		/* 8.9.2 item 2: PASSIVE, or ACTPASS when a ClientHello comes
		 * first; an ACTIVE AGW is the client and waits for its pair. */
		if (w->setup == IQP_SETUP_ACTIVE || t->state == TERM_FAILED) {
			media_drop(t->mp, DROP_DTLS);
			return;
		}
		w->dtls_sock = sock;
		memcpy(&w->dtls_peer, from, sa_len(from));
		w3_start_dtls(t, DTLS_PASSIVE, now);
		if (!w->dtls_on)
			return;
	}
	if (!w->has_sel) {
		w->dtls_sock = sock;
		memcpy(&w->dtls_peer, from, sa_len(from));
	}
	dtls_session_input(&w->dtls, buf, len, now);
	w3_dtls_progress(t);
	media_term_arm(t);
}

/* The stream an RTP packet from the browser belongs to: the only one, or
 * by the BUNDLE map (8.9.4). */
static struct media_stream *route_rtp(struct media_term *t, const uint8_t *p, size_t len)
{
	struct term_w3 *w = t->w3;

	if (!w->bundle_on)
		return t->n_streams ? t->s[0] : NULL;
	uint16_t id = w3_bundle_route_rtp(&w->bundle, p, len, be32_get(p + 8));
	return id ? media_term_stream(t, id) : NULL;
}

static struct media_stream *route_rtcp(struct media_term *t, const struct rtcp_route *r)
{
	struct term_w3 *w = t->w3;

	if (!w->bundle_on)
		return t->n_streams ? t->s[0] : NULL;
	uint16_t id = w3_bundle_route_rtcp(&w->bundle, r);
	return id ? media_term_stream(t, id) : NULL;
}

static bool srtp_ok(struct media_plane *mp, int rc)
{
	if (!rc)
		return true;
	media_drop(mp, rc == EBADMSG ? DROP_SRTP_AUTH : rc == EALREADY ? DROP_SRTP_REPLAY
						       : DROP_SRTP_OTHER);
	return false;
}

/* Prefetch hints of `sock` (udp_batch.h): the SRTP context x's lines,
 * then the relay's: RELAY_HINTS more. */
#define RELAY_HINTS 9
_Static_assert(UDP_HINTS == SRTP_TRANSFORM_LINES + RELAY_HINTS, "one hint array");

static void set_hints(struct udp_sock *sock, const struct srtp_transform *x,
		      const void *const relay[RELAY_HINTS])
{
	srtp_transform_rtp_lines(x, sock->hint);
	memcpy(sock->hint + SRTP_TRANSFORM_LINES, relay, RELAY_HINTS * sizeof(*relay));
}

/* What the next RTP packet from the browser on `sock` reads, for the
 * media loop to prefetch ahead of it: the termination, line 0 of the W3
 * state and ICE's verdict, the SRTP context, the stream's line 0,
 * statistics and payload type map, its peer's line 0, remote address
 * and socket. */
static void hint_from_w3(struct udp_sock *sock, const struct media_term *t,
			 const struct media_stream *s)
{
	const struct media_stream *p = s->peer;
	const void *relay[RELAY_HINTS] = { t, t->w3, &t->w3->ice, s, &s->rx, &s->pt_map, p,
					   p ? &p->remote : NULL, p ? &p->rtp : NULL };

	set_hints(sock, t->w3->srtp_in, relay);
}

/* What a packet reads of term_w3 (line 0, the sockets, ICE's verdict and
 * first candidate) ends at TERM_W3_HOT_END: media_context.c keeps it in
 * the termination's first page. */
_Static_assert(offsetof(struct term_w3, sel) + sizeof(((struct term_w3 *)0)->sel) <= 64,
	       "the selected address beyond term_w3's line 0");
_Static_assert(TERM_W3_HOT_END == offsetof(struct term_w3, ice) + offsetof(struct ice_lite, cand) +
			sizeof(struct ice_lite_cand),
	       "TERM_W3_HOT_END is the end of ICE's first candidate");

static void on_media(struct media_term *t, struct udp_sock *sock, uint8_t *buf, size_t len,
		     const struct sockaddr *from, bool rtcp, uint64_t now)
{
	struct term_w3 *w = t->w3;
	struct media_plane *mp = t->mp;
	struct media_stream *s;
	size_t plen;

	if (!w->srtp_in || t->state == TERM_FAILED) {
		media_drop(mp, DROP_NO_KEYS);
		return;
	}
	if (!allowed(w, from, now)) {
		media_drop(mp, DROP_NOT_ALLOWED);
		return;
	}
	if (rtcp) {
		struct rtcp_route r;
		if (!srtp_ok(mp, srtp_transform_unprotect_rtcp(w->srtp_in, buf, &len)))
			return;
		/* 8.9.3: browser-only feedback stays on the W3 leg. */
		if (rtcp_filter_to_ims(buf, &len, &r)) {
			media_drop(mp, DROP_MALFORMED);
			return;
		}
		metric_add(mp->rtcp_filtered, r.removed);
		if (!len)
			return;
		if (!(s = route_rtcp(t, &r))) {
			media_drop(mp, DROP_NO_ROUTE);
			return;
		}
		metric_inc(mp->rtcp_w3_ims_in);
		struct media_stream *ims = media_stream_peer(s);
		unsigned n_fir = 0;
		if (ims && media_stream_fir_only(ims)) {
			/* 8.9.3 item 3: an IMS peer of "ccm fir" only gets FIRs;
			 * a compound that cannot grow goes on as it is. */
			if (!rtcp_pli_to_fir(buf, &len, UDP_MTU, &ims->fir_seq, &n_fir))
				metric_add(mp->rtcp_pli_to_fir, n_fir);
		}
		media_relay_rtcp(s, buf, len, UDP_MTU);
		return;
	}
	if (!srtp_ok(mp, srtp_transform_unprotect_rtp(w->srtp_in, buf, &len)))
		return;
	if (len < 12 || !(s = route_rtp(t, buf, len))) {
		media_drop(mp, DROP_NO_ROUTE);
		return;
	}
	if (!media_stream_source_ok(s, from))
		return;
	size_t wire = len;
	if (media_relay_ingress(s, buf, len, now, &plen) || rtp_ext_strip(buf, &len)) {
		media_drop(mp, DROP_MALFORMED);
		return;
	}
	if (!media_stream_police(s, from, wire, now))
		return;
	metric_inc(mp->relayed_w3_ims);
	hint_from_w3(sock, t, s);
	media_relay_rtp(s, buf, len, UDP_MTU, plen);
}

static void on_w3(void *arg, struct udp_sock *sock, uint8_t *buf, size_t len,
		  const struct sockaddr *from)
{
	struct media_term *t = arg;
	uint64_t now = media_now(t->mp);

	if (t->released)
		return;
	switch (demux_classify(buf, len)) {
	case DEMUX_STUN:
		on_stun(t, sock, buf, len, from, now);
		break;
	case DEMUX_DTLS:
		on_dtls(t, sock, buf, len, from, now);
		break;
	case DEMUX_RTP:
		on_media(t, sock, buf, len, from, false, now);
		break;
	case DEMUX_RTCP:
		on_media(t, sock, buf, len, from, true, now);
		break;
	default:
		media_drop(t->mp, DROP_DEMUX);
		break;
	}
}

/* --- Packets toward the browser --------------------------------------------- */

void term_w3_hint_toward(struct udp_sock *sock, const struct media_stream *from,
			 const struct media_stream *to)
{
	const struct media_term *t = to->term;
	const struct term_w3 *w = t->w3;

	if (!w || !w->srtp_out)
		return;
	const void *relay[RELAY_HINTS] = { from, from->term, &from->rx, &from->pt_map,
					   &from->remote, to, t, w, w->sel_sock };
	set_hints(sock, w->srtp_out, relay);
}

void term_w3_send_rtp(struct media_stream *s, uint8_t *pkt, size_t len, size_t cap,
		      size_t payload_len)
{
	struct media_term *t = s->term;
	struct term_w3 *w = t->w3;

	if (!w->srtp_out || !w->has_sel || t->state == TERM_FAILED) {
		media_drop(t->mp, DROP_NO_ROUTE);
		return;
	}
	if (w->bundle_on && len >= 12)
		w3_bundle_note_tx(&w->bundle, be32_get(pkt + 8), s->id);
	if (!srtp_ok(t->mp, srtp_transform_protect_rtp(w->srtp_out, pkt, &len, cap)))
		return;
	if (udp_sock_send(w->sel_sock, pkt, len, (struct sockaddr *)&w->sel)) {
		media_drop(t->mp, DROP_SEND);
		return;
	}
	s->tx_packets++;
	s->tx_octets += payload_len;
}

void term_w3_send_rtcp(struct media_stream *s, uint8_t *pkt, size_t len, size_t cap)
{
	struct media_term *t = s->term;
	struct term_w3 *w = t->w3;

	if (!w->srtp_out || !w->has_sel || t->state == TERM_FAILED) {
		media_drop(t->mp, DROP_NO_ROUTE);
		return;
	}
	if (!srtp_ok(t->mp, srtp_transform_protect_rtcp(w->srtp_out, pkt, &len, cap)))
		return;
	if (udp_sock_send(w->sel_sock, pkt, len, (struct sockaddr *)&w->sel))
		media_drop(t->mp, DROP_SEND);
}

/* --- Timers ------------------------------------------------------------------ */

bool term_w3_tick(struct media_term *t, uint64_t now)
{
	struct term_w3 *w = t->w3;
	struct media_plane *mp = t->mp;

	if (w->dtls_on && w->dtls.state == DTLS_HANDSHAKING &&
	    now >= dtls_session_deadline(&w->dtls, now)) {
		dtls_session_tick(&w->dtls, now);
		w3_dtls_progress(t);
		udp_io_flush(mp->io);
	}
	if ((ice_lite_poll(&w->ice, now) & ICE_LITE_EV_CONSENT_LOST) && t->state != TERM_FAILED) {
		struct media_event ev = { .type = 3, .error = 1304, .text = "ICE consent lost",
					  .remote = w->has_sel ? (struct sockaddr *)&w->sel : NULL };
		log_info(mp->log, mp->sub, NULL, "ice consent lost", LF_U("context", t->ctx ? t->ctx->id : 0),
			 LF_U("term", t->id));
		media_term_event(t, &ev);
		w3_fail(t);
	}
	if ((t->state == TERM_CONFIGURED || t->state == TERM_CONNECTING) && !w->has_sel &&
	    now >= w->configured_ms + mp->cfg.ice_timeout_ms) {
		struct media_event ev = { .type = 4, .error = 1303, .text = "no pair selected" };
		media_term_event(t, &ev);
		w3_fail(t);
	}
	if (t->state == TERM_CONNECTING && w->has_sel && !w->srtp_out && !w->dtls_reported &&
	    now >= w->selected_ms + mp->cfg.dtls_timeout_ms)
		w3_dtls_failed(t, 1302, "DTLS not established in time (T_DTLS)");
	return false;
}

uint64_t term_w3_deadline(const struct media_term *t, uint64_t now)
{
	const struct term_w3 *w = t->w3;
	const struct media_plane *mp = t->mp;
	uint64_t next = ice_lite_deadline(&w->ice), d;

	if (w->dtls_on && w->dtls.state == DTLS_HANDSHAKING &&
	    (d = dtls_session_deadline(&w->dtls, now)) < next)
		next = d;
	if ((t->state == TERM_CONFIGURED || t->state == TERM_CONNECTING) && !w->has_sel &&
	    w->configured_ms + mp->cfg.ice_timeout_ms < next)
		next = w->configured_ms + mp->cfg.ice_timeout_ms;
	if (t->state == TERM_CONNECTING && w->has_sel && !w->srtp_out && !w->dtls_reported &&
	    w->selected_ms + mp->cfg.dtls_timeout_ms < next)
		next = w->selected_ms + mp->cfg.dtls_timeout_ms;
	return next;
}

/* --- Set-up and changes --------------------------------------------------------- */

static void on_closed(struct udp_sock *us)
{
	struct media_term *t = us->arg;
	struct term_w3 *w = t->w3;

	for (unsigned i = 0; i < w->n_sock; i++)
		if (&w->sock[i] == us)
			port_pool_put(&t->mp->ports, w->port[i]);
	media_term_handle_closed(t);
}

int term_w3_open(struct media_term *t, const struct iqp_realm *realm, uint8_t family)
{
	struct media_plane *mp = t->mp;
	struct term_w3 *w = media_term_w3_storage(t); /* zeroed with t */
	struct sockaddr_storage ss;
	int rc = EADDRNOTAVAIL;

	if (!w)
		return EINVAL;
	t->w3 = w;
	w->setup = IQP_SETUP_ACTPASS;
	w->rtcp_mux = true;
	if (w3_random_ice(w->lufrag, W3_UFRAG_LEN) || w3_random_ice(w->lpwd, W3_PWD_LEN) ||
	    w3_random_ice(w->ltls_id, W3_TLS_ID_LEN))
		return EIO;
	struct ice_lite_creds local = { w->lufrag, w->lpwd };
	if (ice_lite_init(&w->ice, &local, mp->cfg.consent_timeout_ms))
		return EINVAL;
	for (unsigned i = 0; i < realm->n_addr && w->n_sock < W3_MAX_SOCKS; i++) {
		if (family && realm->addr[i].family != family)
			continue;
		for (unsigned tries = 0; tries < 16; tries++) {
			uint16_t p = port_pool_get(&mp->ports);
			if (!p)
				return EADDRNOTAVAIL;
			media_sockaddr(&ss, &realm->addr[i], p);
			struct udp_sock *us = &w->sock[w->n_sock];
			if (!(rc = udp_sock_open(us, mp->io, (struct sockaddr *)&ss, on_w3, t))) {
				us->on_closed = on_closed;
				w->port[w->n_sock++] = p;
				t->handles++;
				break;
			}
			/* Taken by another process: keep it marked, try another. */
			if (rc != EADDRINUSE)
				return rc;
		}
		if (rc)
			return rc;
	}
	return w->n_sock ? 0 : EADDRNOTAVAIL;
}

void term_w3_close(struct media_term *t)
{
	struct term_w3 *w = t->w3;

	for (unsigned i = 0; i < w->n_sock; i++)
		udp_sock_close(&w->sock[i]);
}

void term_w3_free(struct media_term *t)
{
	struct term_w3 *w = t->w3;

	if (w->dtls_on)
		dtls_session_free(&w->dtls);
	w3_srtp_drop(t);
	OPENSSL_cleanse(w, sizeof(*w)); /* the memory goes with t */
	t->w3 = NULL;
}

void term_w3_set_remote_ice(struct media_term *t, const char *ufrag, const char *pwd)
{
	struct term_w3 *w = t->w3;
	struct ice_lite_creds r = { ufrag, pwd };

	snprintf(w->rufrag, sizeof(w->rufrag), "%s", ufrag);
	snprintf(w->rpwd, sizeof(w->rpwd), "%s", pwd);
	w->has_rcreds = !ice_lite_set_remote(&w->ice, &r);
}

void term_w3_set_remote_fp(struct media_term *t, const char *fp)
{
	struct term_w3 *w = t->w3;

	snprintf(w->rfp, sizeof(w->rfp), "%s", fp);
	w->has_rfp = true;
}

void term_w3_set_setup(struct media_term *t, uint8_t setup)
{
	t->w3->setup = setup;
}

int term_w3_ice_restart(struct media_term *t, const char *ufrag, const char *pwd)
{
	struct term_w3 *w = t->w3;
	char lu[W3_UFRAG_LEN + 1], lp[W3_PWD_LEN + 1];
	struct ice_lite_creds local = { lu, lp }, remote = { ufrag, pwd };
	union ice_lite_sa keep_sel = w->sel;
	bool had_sel = w->has_sel;
	int rc;

	if ((rc = w3_random_ice(lu, W3_UFRAG_LEN)) || (rc = w3_random_ice(lp, W3_PWD_LEN)))
		return rc;
	if ((rc = ice_lite_restart(&w->ice, &local, &remote)))
		return rc;
	memcpy(w->lufrag, lu, sizeof(lu));
	memcpy(w->lpwd, lp, sizeof(lp));
	snprintf(w->rufrag, sizeof(w->rufrag), "%s", ufrag);
	snprintf(w->rpwd, sizeof(w->rpwd), "%s", pwd);
	w->has_rcreds = true;
	/* 8.9.1 item 6: the old pair keeps forwarding until a new one is
	 * selected (sel stays; ice_lite no longer vouches for it). */
	w->sel = keep_sel;
	w->has_sel = had_sel;
	w->restarting = had_sel;
	if (t->state == TERM_FAILED) {
		/* The old pair is dead: T_ICE runs for the new one. */
		w->has_sel = w->restarting = false;
		media_term_set_state(t, TERM_CONFIGURED);
	}
	w->configured_ms = media_now(t->mp);
	return 0;
}

void term_w3_update(struct media_term *t)
{
	struct term_w3 *w = t->w3;

	if (t->state == TERM_RESERVED && w->has_rcreds && w->has_rfp) {
		w->configured_ms = media_now(t->mp);
		media_term_set_state(t, TERM_CONFIGURED);
	}
	w3_maybe_start_client(t);
	w3_dtls_progress(t); /* a fingerprint may complete an early handshake */
	w3_check_active(t);
	media_term_arm(t);
	udp_io_flush(t->mp->io);
}
