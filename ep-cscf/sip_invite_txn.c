/* INVITE client and server transactions with libuv timers. */
#include "sip_invite_txn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reliable(const struct itxn *x)
{
	return x->dest.ws || x->dest.peer.transport != IMS_UDP;
}

static void send_bytes(struct itxn *x, const char *buf, size_t len)
{
	x->ops->send(x->owner, x, buf, len);
}

static void handle_closed(uv_handle_t *h)
{
	struct itxn *x = h->data;
	if (--x->handles_open)
		return;
	free(x->wire);
	free(x->ack);
	free(x);
}

void itxn_terminate(struct itxn *x)
{
	if (x->state == ITXN_TERMINATED)
		return;
	x->state = ITXN_TERMINATED;
	x->ops->done(x->owner, x);
	uv_close((uv_handle_t *)&x->rtx, handle_closed);
	uv_close((uv_handle_t *)&x->life, handle_closed);
}

static struct itxn *itxn_new(uv_loop_t *loop, const struct itxn_ops *ops, void *owner,
			     enum itxn_kind kind, const char *branch,
			     const struct itxn_dest *dest)
{
	struct itxn *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->ops = ops;
	x->owner = owner;
	x->loop = loop;
	x->kind = kind;
	x->state = kind == ITXN_CLIENT ? ITXN_CALLING : ITXN_PROCEEDING;
	snprintf(x->branch, sizeof(x->branch), "%s", branch);
	x->dest = *dest;
	uv_timer_init(loop, &x->rtx);
	uv_timer_init(loop, &x->life);
	x->rtx.data = x->life.data = x;
	x->handles_open = 2;
	return x;
}

static void on_life(uv_timer_t *t)
{
	struct itxn *x = t->data;

	if (x->state == ITXN_CALLING)
		x->ops->timeout(x->owner, x, ITXN_TIMER_B);
	else if (x->kind == ITXN_CLIENT && x->state == ITXN_PROCEEDING)
		x->ops->timeout(x->owner, x, ITXN_TIMER_C);
	else if (x->kind == ITXN_SERVER && x->state == ITXN_COMPLETED)
		x->ops->timeout(x->owner, x, ITXN_TIMER_H);
	else if (x->kind == ITXN_SERVER && x->state == ITXN_PROCEEDING)
		return; /* the server side waits for the client side's outcome */
	itxn_terminate(x); /* B, C, D, H, I, L, M */
}

/* Timer A (client, Calling) and Timer G (server, Completed). */
static void on_rtx(uv_timer_t *t)
{
	struct itxn *x = t->data;

	if (x->kind == ITXN_CLIENT && x->state == ITXN_CALLING) {
		send_bytes(x, x->wire, x->wire_len);
		x->rtx_ms *= 2; /* Timer A doubles without bound (17.1.1.2) */
	} else if (x->kind == ITXN_SERVER && x->state == ITXN_COMPLETED) {
		send_bytes(x, x->wire, x->wire_len);
		x->rtx_ms = x->rtx_ms * 2 > SIP_T2_MS ? SIP_T2_MS : x->rtx_ms * 2;
	} else {
		return;
	}
	uv_timer_start(&x->rtx, on_rtx, x->rtx_ms, 0);
}

int itxn_client_start(struct itxn **out, uv_loop_t *loop, const struct itxn_ops *ops,
		      void *owner, const char *branch, const struct itxn_dest *to,
		      char *wire, size_t wire_len)
{
	struct itxn *x = itxn_new(loop, ops, owner, ITXN_CLIENT, branch, to);
	if (!x) {
		free(wire);
		return ENOMEM;
	}
	x->wire = wire;
	x->wire_len = wire_len;
	x->rtx_ms = SIP_T1_MS;
	*out = x;
	send_bytes(x, wire, wire_len);
	if (!reliable(x))
		uv_timer_start(&x->rtx, on_rtx, SIP_T1_MS, 0);
	uv_timer_start(&x->life, on_life, 64 * SIP_T1_MS, 0); /* Timer B */
	return 0;
}

int itxn_client_response(struct itxn *x, int status)
{
	switch (x->state) {
	case ITXN_CALLING:
	case ITXN_PROCEEDING:
		break;
	case ITXN_COMPLETED:
		if (status >= 300 && x->ack)
			send_bytes(x, x->ack, x->ack_len); /* 17.1.1.2: re-ACK */
		return 0;
	case ITXN_ACCEPTED:
		return status >= 200 && status < 300; /* 2xx retransmission */
	default:
		return 0;
	}
	uv_timer_stop(&x->rtx);
	if (status < 200) {
		int first = x->state == ITXN_CALLING || status != x->status;
		if (x->state == ITXN_CALLING)
			uv_timer_start(&x->life, on_life, SIP_TIMER_C_MS, 0);
		x->state = ITXN_PROCEEDING;
		x->status = status;
		return first;
	}
	x->status = status;
	if (status < 300) {
		x->state = ITXN_ACCEPTED;
		uv_timer_start(&x->life, on_life, 64 * SIP_T1_MS, 0); /* Timer M */
	} else {
		x->state = ITXN_COMPLETED;
		/* Timer D: at least 32 s unreliable, 0 reliable. */
		uv_timer_start(&x->life, on_life, reliable(x) ? 0 : 32000, 0);
	}
	return 1;
}

void itxn_client_ack(struct itxn *x, char *ack, size_t len)
{
	free(x->ack);
	x->ack = ack;
	x->ack_len = len;
	if (ack)
		send_bytes(x, ack, len);
}

int itxn_server_start(struct itxn **out, uv_loop_t *loop, const struct itxn_ops *ops,
		      void *owner, const char *branch, const struct itxn_dest *from)
{
	struct itxn *x = itxn_new(loop, ops, owner, ITXN_SERVER, branch, from);
	if (!x)
		return ENOMEM;
	*out = x;
	return 0;
}

void itxn_server_respond(struct itxn *x, int status, const char *buf, size_t len)
{
	char *copy;

	if (x->state != ITXN_PROCEEDING && !(x->state == ITXN_ACCEPTED && status < 300 && status >= 200))
		return;
	if ((copy = malloc(len ? len : 1))) {
		memcpy(copy, buf, len);
		free(x->wire);
		x->wire = copy;
		x->wire_len = len;
	}
	x->status = status;
	send_bytes(x, buf, len);
	if (status < 200 || x->state == ITXN_ACCEPTED)
		return;
	if (status < 300) {
		x->state = ITXN_ACCEPTED;
		uv_timer_start(&x->life, on_life, 64 * SIP_T1_MS, 0); /* Timer L */
		return;
	}
	x->state = ITXN_COMPLETED;
	if (!reliable(x) && x->wire == copy) {
		x->rtx_ms = SIP_T1_MS;
		uv_timer_start(&x->rtx, on_rtx, SIP_T1_MS, 0); /* Timer G */
	}
	uv_timer_start(&x->life, on_life, 64 * SIP_T1_MS, 0); /* Timer H */
}

void itxn_server_retransmit(struct itxn *x)
{
	if (x->wire && (x->state == ITXN_PROCEEDING || x->state == ITXN_COMPLETED ||
			x->state == ITXN_ACCEPTED))
		send_bytes(x, x->wire, x->wire_len);
}

int itxn_server_ack(struct itxn *x)
{
	if (x->state == ITXN_CONFIRMED)
		return 1;
	if (x->state != ITXN_COMPLETED)
		return 0;
	x->state = ITXN_CONFIRMED;
	uv_timer_stop(&x->rtx);
	/* Timer I: T4 unreliable, 0 reliable. */
	uv_timer_start(&x->life, on_life, reliable(x) ? 0 : SIP_T4_MS, 0);
	return 1;
}
