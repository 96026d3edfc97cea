/* IMS-side RTP/RTCP sockets of a stream, latching, packets toward W3. */
#include "term_ims.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "demux.h"
#include "media_relay.h"
#include "term_w3.h"

static socklen_t sa_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static bool sa_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

/* Latching (8.10 item 3): where media for the IMS peer goes. */
static void latch(struct media_stream *s, bool rtcp, const struct sockaddr *from)
{
	struct sockaddr_storage *dst = rtcp ? &s->remote_rtcp : &s->remote;
	bool *has = rtcp ? &s->has_remote_rtcp : &s->has_remote;

	if (s->latching == LATCH_OFF)
		return;
	if (s->latching == LATCH_LATCH && *has && (rtcp || s->latched))
		return;
	if (*has && sa_equal((struct sockaddr *)dst, from))
		return;
	memcpy(dst, from, sa_len(from));
	*has = true;
	if (!rtcp)
		s->latched = true;
}

/* media.strict_source: without latching, media is accepted only from the
 * peer's signalled address (RTP: address and port; the RTCP port: the
 * address, as peers differ on which port they send RTCP from). */
static bool strict_ok(struct media_stream *s, bool rtcp_port, const struct sockaddr *from)
{
	const struct sockaddr *r = (const struct sockaddr *)&s->remote;
	bool ok;

	if (!s->term->mp->cfg.strict_source || s->latching != LATCH_OFF || !s->has_remote)
		return true;
	if (!rtcp_port) {
		ok = sa_equal(from, r);
	} else if (from->sa_family != r->sa_family) {
		ok = false;
	} else if (from->sa_family == AF_INET) {
		ok = ((const struct sockaddr_in *)from)->sin_addr.s_addr ==
		     ((const struct sockaddr_in *)r)->sin_addr.s_addr;
	} else {
		ok = !memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr,
			     &((const struct sockaddr_in6 *)r)->sin6_addr, 16);
	}
	if (!ok)
		media_drop(s->term->mp, DROP_SOURCE);
	return ok;
}

static void on_ims(void *arg, struct udp_sock *sock, uint8_t *buf, size_t len,
		   const struct sockaddr *from)
{
	struct media_stream *s = arg;
	struct media_term *t = s->term;
	struct media_plane *mp = t->mp;
	bool rtcp_port = sock == &s->rtcp;
	size_t plen;

	if (t->released || s->removed)
		return;
	enum demux_kind k = demux_classify(buf, len);
	if (k != DEMUX_RTP && k != DEMUX_RTCP) {
		media_drop(mp, DROP_MALFORMED);
		return;
	}
	if (!media_stream_source_ok(s, from) || !strict_ok(s, rtcp_port, from))
		return;
	if (rtcp_port || k == DEMUX_RTCP) {
		latch(s, !s->rtcp_mux, from);
		metric_inc(mp->rtcp_ims_w3);
		media_relay_rtcp(s, buf, len, UDP_MTU);
		return;
	}
	latch(s, false, from);
	uint64_t now = media_now(mp);
	if (media_relay_ingress(s, buf, len, now, &plen)) {
		media_drop(mp, DROP_MALFORMED);
		return;
	}
	if (!media_stream_police(s, from, len, now))
		return;
	metric_inc(mp->relayed_ims_w3);
	if (s->peer && s->peer->term_kind == IQP_TERM_W3)
		term_w3_hint_toward(sock, s, s->peer);
	media_relay_rtp(s, buf, len, UDP_MTU, plen);
}

static void on_closed(struct udp_sock *us)
{
	struct media_stream *s = us->arg;
	struct media_term *t = s->term;
	uint16_t port = (uint16_t)(us == &s->rtcp ? s->port + 1 : s->port);

	port_pool_put(&t->mp->ports, port);
	if (us == &s->rtp)
		s->rtp_open = false;
	else
		s->rtcp_open = false;
	if (s->removed && !s->rtp_open && !s->rtcp_open)
		media_stream_free(s);
	media_term_handle_closed(t);
}

static int open_one(struct media_stream *s, struct udp_sock *us, const struct iqp_ip *ip,
		    uint16_t port, struct sockaddr_storage *local)
{
	struct media_plane *mp = s->term->mp;
	int rc;

	media_sockaddr(local, ip, port);
	if ((rc = udp_sock_open(us, mp->io, (struct sockaddr *)local, on_ims, s)))
		return rc;
	us->on_closed = on_closed;
	s->term->handles++;
	return 0;
}

int term_ims_open_stream(struct media_stream *s, const struct iqp_ip *addr, uint16_t want_port)
{
	struct media_plane *mp = s->term->mp;
	int rc = EADDRNOTAVAIL;

	for (unsigned tries = 0; tries < 16; tries++) {
		uint16_t p = want_port;
		if (!p && !(p = s->rtcp_mux ? port_pool_get(&mp->ports)
					      : port_pool_get_pair(&mp->ports)))
			return EADDRNOTAVAIL;
		if (want_port) {
			port_pool_mark(&mp->ports, p);
			if (!s->rtcp_mux)
				port_pool_mark(&mp->ports, (uint16_t)(p + 1));
		}
		s->port = p;
		if ((rc = open_one(s, &s->rtp, addr, p, &s->local))) {
			port_pool_put(&mp->ports, p);
			if (!s->rtcp_mux)
				port_pool_put(&mp->ports, (uint16_t)(p + 1));
			if (want_port || rc != EADDRINUSE)
				return rc;
			continue;
		}
		s->rtp_open = true;
		if (s->rtcp_mux)
			return 0;
		if (!(rc = open_one(s, &s->rtcp, addr, (uint16_t)(p + 1), &s->local_rtcp))) {
			s->rtcp_open = true;
			return 0;
		}
		/* RTCP port taken by someone else: give both back (the RTP
		 * port once its socket has closed; its struct cannot be
		 * reused before, so no retry here). */
		udp_sock_close(&s->rtp);
		port_pool_put(&mp->ports, (uint16_t)(p + 1));
		return rc;
	}
	return rc;
}

void term_ims_close_stream(struct media_stream *s)
{
	bool any = s->rtp_open || s->rtcp_open;

	if (s->rtp_open)
		udp_sock_close(&s->rtp);
	if (s->rtcp_open)
		udp_sock_close(&s->rtcp);
	if (!any && s->removed)
		media_stream_free(s);
}

void term_ims_send_rtp(struct media_stream *s, const uint8_t *pkt, size_t len,
		       size_t payload_len)
{
	/* The termination (s->term) is read on the error paths only. */
	if (!s->rtp_open || !s->has_remote) {
		media_drop(s->term->mp, DROP_NO_ROUTE);
		return;
	}
	if (udp_sock_send(&s->rtp, pkt, len, (struct sockaddr *)&s->remote)) {
		media_drop(s->term->mp, DROP_SEND);
		return;
	}
	s->tx_packets++;
	s->tx_octets += payload_len;
}

void term_ims_send_rtcp(struct media_stream *s, const uint8_t *pkt, size_t len)
{
	struct media_plane *mp = s->term->mp;
	struct sockaddr_storage dst;
	struct udp_sock *us = s->rtcp_mux ? &s->rtp : &s->rtcp;

	if (s->rtcp_mux) {
		if (!s->has_remote) {
			media_drop(mp, DROP_NO_ROUTE);
			return;
		}
		dst = s->remote;
	} else if (s->has_remote_rtcp) {
		dst = s->remote_rtcp;
	} else if (s->has_remote) {
		/* 8.10 item 2: absent REMOTE_RTCP_ADDR = REMOTE_ADDR port + 1. */
		dst = s->remote;
		if (dst.ss_family == AF_INET)
			((struct sockaddr_in *)&dst)->sin_port =
				htons((uint16_t)(ntohs(((struct sockaddr_in *)&dst)->sin_port) + 1));
		else
			((struct sockaddr_in6 *)&dst)->sin6_port =
				htons((uint16_t)(ntohs(((struct sockaddr_in6 *)&dst)->sin6_port) + 1));
	} else {
		media_drop(mp, DROP_NO_ROUTE);
		return;
	}
	if (!(s->rtcp_mux ? s->rtp_open : s->rtcp_open) ||
	    udp_sock_send(us, pkt, len, (struct sockaddr *)&dst)) {
		media_drop(mp, DROP_SEND);
		return;
	}
	metric_inc(mp->rtcp_w3_ims);
}
