/* EVENT notifications (proto/SPEC.md 9) and STATS (9.4). */
#include "iq_calls.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void iq_ipport_from_sa(const struct sockaddr *sa, struct iqp_ipport *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		out->ip.family = 6;
		memcpy(out->ip.addr, &in6->sin6_addr, 16);
		out->port = ntohs(in6->sin6_port);
	} else {
		const struct sockaddr_in *in = (const void *)sa;
		out->ip.family = 4;
		memcpy(out->ip.addr, &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
	}
}

void iq_sa_from_ipport(const struct iqp_ipport *a, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (a->ip.family == 6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, a->ip.addr, 16);
		in6->sin6_port = htons(a->port);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a->ip.addr, 4);
		in->sin_port = htons(a->port);
	}
}

static int add_sa(struct iqp_msg *m, struct iqp_elem *p, uint16_t code, const struct sockaddr *sa)
{
	struct iqp_ipport a;
	iq_ipport_from_sa(sa, &a);
	return iqp_add_ipport(m, p, code, &a);
}

int iq_events_add_stream_stats(struct iqp_msg *m, struct iqp_elem *parent,
				const struct media_stream *s, uint64_t now)
{
	struct iqp_elem *st, *stats, *rx, *tx;

	iqp_add_container(m, parent, IQP_E_STREAM, &st);
	iqp_add_u16(m, st, IQP_E_STREAM_ID, s->id);
	iqp_add_container(m, st, IQP_E_STATS, &stats);
	iqp_add_container(m, stats, IQP_E_STATS_RX, &rx);
	iqp_add_u64(m, rx, IQP_E_PACKETS, s->rx.packets);
	iqp_add_u64(m, rx, IQP_E_OCTETS, s->rx.octets);
	if (s->rx.started) {
		iqp_add_u64(m, rx, IQP_E_PACKETS_LOST, rtp_stats_lost(&s->rx));
		iqp_add_u32(m, rx, IQP_E_JITTER, rtp_stats_jitter_us(&s->rx));
	}
	iqp_add_container(m, stats, IQP_E_STATS_TX, &tx);
	iqp_add_u64(m, tx, IQP_E_PACKETS, s->tx_packets);
	iqp_add_u64(m, tx, IQP_E_OCTETS, s->tx_octets);
	uint64_t d = now > s->created_ms ? now - s->created_ms : 0;
	iqp_add_u32(m, stats, IQP_E_DURATION, d > UINT32_MAX ? UINT32_MAX : (uint32_t)d);
	return m->err;
}

int iq_events_add_stats(struct iqp_msg *m, struct iqp_elem *parent, const struct media_term *t,
			uint64_t now)
{
	for (unsigned i = 0; i < t->n_streams; i++)
		iq_events_add_stream_stats(m, parent, t->s[i], now);
	return m->err;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_ack(void *arg, struct iqp_link *l, const struct iqp_msg *reply,
		   const struct iqp_error *err)
{
	struct iq_calls *c = arg;
	(void)l;
	(void)reply;
	if (err) {
		c->events_lost++;
		log_warn(c->log, c->sub, NULL, "iq event not acknowledged", LF_U("code", err->code),
			 LF_S("reason", err->text));
	} else {
		c->events_acked++;
	}
}

/* Keeps m (ownership taken) for when the link is back. */
static void hold_event(struct iq_calls *c, struct iqp_msg *m, const struct media_event *ev)
{
	if (!c->held && !(c->held = calloc(IQ_EVENTS_HELD, sizeof(*c->held)))) {
		iqp_msg_free(m);
		c->events_lost++;
		return;
	}
	if (c->held_n == IQ_EVENTS_HELD) {
		iqp_msg_free(&c->held[c->held_first]);
		c->held_first = (c->held_first + 1) % IQ_EVENTS_HELD;
		c->held_n--;
		c->events_lost++;
	}
	c->held[(c->held_first + c->held_n++) % IQ_EVENTS_HELD] = *m;
	log_info(c->log, c->sub, NULL, "iq event held: link down", LF_U("type", ev->type),
		 LF_U("context", ev->ctx_id), LF_U("term", ev->term_id), LF_U("held", c->held_n));
}

void iq_events_held(struct iq_calls *c, bool flush)
{
	struct iqp_link_uv *u = c->iq->u;
	unsigned sent = 0;

	while (c->held_n) {
		struct iqp_msg *m = &c->held[c->held_first];
		if (flush && u && u->link.state == IQP_LINK_IN_SERVICE &&
		    !iqp_link_request(&u->link, uv_now(c->mp->loop), m, on_ack, c)) {
			c->events_sent++;
			sent++;
		} else {
			c->events_lost++;
		}
		iqp_msg_free(m);
		c->held_first = (c->held_first + 1) % IQ_EVENTS_HELD;
		c->held_n--;
	}
	if (sent) {
		iqp_link_uv_post(u);
		log_info(c->log, c->sub, NULL, "iq held events sent", LF_U("events", sent));
	}
	if (!flush) {
		free(c->held);
		c->held = NULL;
		c->held_first = 0;
	}
}

void iq_events_send(void *arg, const struct media_event *ev)
{
	struct iq_calls *c = arg;
	struct iqp_link_uv *u = c->iq->u;
	struct iqp_header h = { .version = IQP_VERSION_MAJOR, .kind = IQP_KIND_NOTIFY,
				.code = IQP_MSG_EVENT };
	struct iqp_elem *e, *er;
	struct iqp_msg m;
	int rc;

	if (iqp_msg_init(&m, &h, NULL, 16384))
		return;
	iqp_add_container(&m, NULL, IQP_E_EVENT, &e);
	iqp_add_u64(&m, e, IQP_E_TIMESTAMP, wall_ms());
	iqp_add_u32(&m, e, IQP_E_CONTEXT_ID, ev->ctx_id);
	iqp_add_u32(&m, e, IQP_E_TERM_ID, ev->term_id);
	iqp_add_u16(&m, e, IQP_E_EVENT_TYPE, (uint16_t)ev->type);
	if (ev->stream_id)
		iqp_add_u16(&m, e, IQP_E_STREAM_ID, ev->stream_id);
	switch (ev->type) {
	case 1:
		add_sa(&m, e, IQP_E_SELECTED_LOCAL, ev->local);
		add_sa(&m, e, IQP_E_SELECTED_REMOTE, ev->remote);
		iqp_add_enum(&m, e, IQP_E_CAND_TRANSPORT, IQP_CAND_UDP);
		if (ev->cand_type)
			iqp_add_enum(&m, e, IQP_E_CAND_TYPE, ev->cand_type);
		break;
	case 2:
		add_sa(&m, e, IQP_E_PEER_ADDR, ev->remote);
		iqp_add_enum(&m, e, IQP_E_CAND_TRANSPORT, IQP_CAND_UDP);
		break;
	case 3:
		if (ev->remote)
			add_sa(&m, e, IQP_E_SELECTED_REMOTE, ev->remote);
		break;
	case 5:
		iqp_add_enum(&m, e, IQP_E_DTLS_SETUP, ev->setup);
		iqp_add_u16(&m, e, IQP_E_SRTP_PROFILE, ev->profile);
		break;
	case 6:
		if (ev->alert)
			iqp_add_u8(&m, e, IQP_E_DTLS_ALERT, ev->alert);
		break;
	case 7:
		if (ev->term)
			iq_events_add_stats(&m, e, ev->term, uv_now(c->mp->loop));
		break;
	case 8:
		iqp_add_enum(&m, e, IQP_E_MEDIA_DIRECTION, 1); /* RX */
		break;
	}
	if (ev->error) {
		iqp_add_container(&m, e, IQP_E_ERROR, &er);
		iqp_add_u16(&m, er, IQP_E_ERROR_CODE, (uint16_t)ev->error);
		if (ev->text && *ev->text) {
			char t[257];
			snprintf(t, sizeof(t), "%s", ev->text);
			iqp_add_str(&m, er, IQP_E_ERROR_TEXT, t);
		}
	}
	if (!m.err && (!u || u->link.state != IQP_LINK_IN_SERVICE)) {
		hold_event(c, &m, ev);
		return;
	}
	if ((rc = m.err) || (rc = iqp_link_request(&u->link, uv_now(c->mp->loop), &m, on_ack, c))) {
		c->events_lost++;
		log_warn(c->log, c->sub, NULL, "iq event not sent", LF_U("type", ev->type),
			 LF_S("reason", strerror(rc)));
	} else {
		c->events_sent++;
		iqp_link_uv_post(u);
	}
	iqp_msg_free(&m);
}
