/* Non-INVITE SIP transactions with libuv timers. */
#include "sip_txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Initial buckets; the table doubles when it holds twice as many
 * transactions (Timer K keeps every UDP one for 5 s: tens of thousands at
 * a few thousand REGISTERs a second). */
#define BUCKETS 4096

static size_t hash(const char *s)
{
	size_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static void push_ours(struct txn_table *t, struct txn *x)
{
	struct txn **head = &t->ours[x->h_ours & (t->n_buckets - 1)];
	x->next_ours = *head;
	if (*head)
		(*head)->pprev_ours = &x->next_ours;
	*head = x;
	x->pprev_ours = head;
}

static void push_up(struct txn_table *t, struct txn *x)
{
	struct txn **head = &t->up[x->h_up & (t->n_buckets - 1)];
	x->next_up = *head;
	if (*head)
		(*head)->pprev_up = &x->next_up;
	*head = x;
	x->pprev_up = head;
}

int txn_table_init(struct txn_table *t, uv_loop_t *loop, txn_timeout_h *timeout,
		   txn_send_h *send, void (*free_req)(void *), void *arg)
{
	memset(t, 0, sizeof(*t));
	t->ours = calloc(BUCKETS, sizeof(*t->ours));
	t->up = calloc(BUCKETS, sizeof(*t->up));
	if (!t->ours || !t->up) {
		free(t->ours);
		free(t->up);
		return ENOMEM;
	}
	t->n_buckets = BUCKETS;
	t->loop = loop;
	uv_timer_init(loop, &t->k_timer);
	t->k_timer.data = t;
	t->timeout = timeout;
	t->send = send;
	t->free_req = free_req;
	t->arg = arg;
	return 0;
}

/* Doubles the buckets; on ENOMEM the table stays as it is (longer
 * chains, still correct). */
static void grow(struct txn_table *t)
{
	size_t n = t->n_buckets * 2;
	struct txn **ours = calloc(n, sizeof(*ours)), **up = calloc(n, sizeof(*up));
	struct txn *all = NULL;

	if (!ours || !up) {
		free(ours);
		free(up);
		return;
	}
	for (size_t i = 0; i < t->n_buckets; i++) /* every transaction is in ours */
		while (t->ours[i]) {
			struct txn *x = t->ours[i];
			t->ours[i] = x->next_ours;
			x->next_ours = all;
			all = x;
		}
	free(t->ours);
	free(t->up);
	t->ours = ours;
	t->up = up;
	t->n_buckets = n;
	while (all) {
		struct txn *x = all;
		all = x->next_ours;
		push_ours(t, x);
		if (x->kind == TXN_SERVER)
			push_up(t, x);
	}
}

static void unlink_txn(struct txn *x)
{
	struct txn_table *t = x->table;
	*x->pprev_ours = x->next_ours;
	if (x->next_ours)
		x->next_ours->pprev_ours = x->pprev_ours;
	if (x->pprev_up) {
		*x->pprev_up = x->next_up;
		if (x->next_up)
			x->next_up->pprev_up = x->pprev_up;
	}
	t->n--;
}

static void handle_closed(uv_handle_t *h)
{
	struct txn *x = h->data;
	if (--x->handles_open)
		return;
	free(x->wire);
	if (x->req && x->table->free_req)
		x->table->free_req(x->req);
	free(x);
}

void txn_destroy(struct txn *x)
{
	if (uv_is_closing((uv_handle_t *)&x->lifetime))
		return;
	unlink_txn(x);
	uv_close((uv_handle_t *)&x->retransmit, handle_closed);
	uv_close((uv_handle_t *)&x->lifetime, handle_closed);
}

void txn_table_close(struct txn_table *t)
{
	t->k_head = t->k_tail = NULL; /* all destroyed below */
	uv_close((uv_handle_t *)&t->k_timer, NULL);
	for (size_t i = 0; i < t->n_buckets; i++)
		while (t->ours[i])
			txn_destroy(t->ours[i]);
	free(t->ours);
	free(t->up);
	t->ours = t->up = NULL;
}

static struct txn *txn_new(struct txn_table *t, enum txn_kind kind,
			   const char *branch, uint64_t flow_id)
{
	struct txn *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->table = t;
	x->kind = kind;
	x->flow_id = flow_id;
	strncpy(x->branch, branch, sizeof(x->branch) - 1);
	uv_timer_init(t->loop, &x->retransmit);
	uv_timer_init(t->loop, &x->lifetime);
	x->retransmit.data = x->lifetime.data = x;
	x->handles_open = 2;
	if (t->n >= 2 * t->n_buckets)
		grow(t);
	x->h_ours = hash(x->branch);
	push_ours(t, x);
	t->n++;
	return x;
}

static void on_retransmit(uv_timer_t *tm)
{
	struct txn *x = tm->data;
	x->table->send(x->table->arg, x->wire, x->wire_len, &x->peer);
	/* Timer E doubles up to T2 (RFC 3261 17.1.2.2). */
	x->rtx_ms = x->rtx_ms * 2 > SIP_T2_MS ? SIP_T2_MS : x->rtx_ms * 2;
	uv_timer_start(&x->retransmit, on_retransmit, x->rtx_ms, 0);
}

static void on_lifetime(uv_timer_t *tm)
{
	struct txn *x = tm->data;
	if (x->kind == TXN_CLIENT && !x->final && x->table->timeout)
		x->table->timeout(x->table->arg, x); /* Timer F */
	txn_destroy(x); /* Timer F, K or J */
}

struct txn *txn_client_start(struct txn_table *t, const char *branch,
			     uint64_t flow_id, const struct ims_peer *to,
			     char *wire, size_t wire_len, void *req)
{
	struct txn *x = txn_new(t, TXN_CLIENT, branch, flow_id);
	if (!x) {
		free(wire);
		if (req && t->free_req)
			t->free_req(req);
		return NULL;
	}
	x->peer = *to;
	x->wire = wire;
	x->wire_len = wire_len;
	x->req = req;
	x->rtx_ms = SIP_T1_MS;
	t->send(t->arg, wire, wire_len, to);
	if (to->transport == IMS_UDP)
		uv_timer_start(&x->retransmit, on_retransmit, SIP_T1_MS, 0);
	uv_timer_start(&x->lifetime, on_lifetime, 64 * SIP_T1_MS, 0);
	return x;
}

/* Timer K fired for the transactions at the head of the queue. */
static void on_timer_k(uv_timer_t *tm)
{
	struct txn_table *t = tm->data;
	uint64_t now = uv_now(t->loop);

	while (t->k_head && t->k_head->k_due <= now) {
		struct txn *x = t->k_head;
		t->k_head = x->k_next;
		if (!t->k_head)
			t->k_tail = NULL;
		txn_destroy(x);
	}
	if (t->k_head)
		uv_timer_start(&t->k_timer, on_timer_k, t->k_head->k_due - now, 0);
}

static void start_timer_k(struct txn *x)
{
	struct txn_table *t = x->table;

	uv_timer_stop(&x->lifetime);
	x->k_due = uv_now(t->loop) + SIP_T4_MS;
	x->k_next = NULL;
	if (t->k_tail)
		t->k_tail->k_next = x;
	else
		t->k_head = x;
	t->k_tail = x;
	if (!uv_is_active((uv_handle_t *)&t->k_timer))
		uv_timer_start(&t->k_timer, on_timer_k, SIP_T4_MS, 0);
}

void txn_client_response(struct txn *x, int status)
{
	if (x->final)
		return;
	if (status < 200) {
		/* Proceeding: keep retransmitting, at T2 (17.1.2.2). */
		x->rtx_ms = SIP_T2_MS;
		return;
	}
	x->final = 1;
	uv_timer_stop(&x->retransmit);
	/* Timer K: absorb retransmitted responses for T4; 0 when reliable. */
	if (x->peer.transport == IMS_UDP)
		start_timer_k(x);
	else
		uv_timer_start(&x->lifetime, on_lifetime, 0, 0);
}

void txn_client_drop_request(struct txn *x)
{
	free(x->wire);
	x->wire = NULL;
	x->wire_len = 0;
	if (x->req && x->table->free_req)
		x->table->free_req(x->req);
	x->req = NULL;
}

struct txn *txn_server_start(struct txn_table *t, const char *our_branch,
			     const char *up_branch, uint64_t flow_id,
			     const struct ims_peer *from)
{
	struct txn *x = txn_new(t, TXN_SERVER, our_branch, flow_id);
	if (!x)
		return NULL;
	strncpy(x->up_branch, up_branch, sizeof(x->up_branch) - 1);
	x->h_up = hash(x->up_branch);
	push_up(x->table, x);
	x->peer = *from;
	/* Without an answer from the browser the IMS side gives up at its
	 * Timer F; keep state as long. */
	uv_timer_start(&x->lifetime, on_lifetime, 64 * SIP_T1_MS, 0);
	return x;
}

void txn_server_final(struct txn *x, const char *buf, size_t len)
{
	char *copy = malloc(len);
	x->table->send(x->table->arg, buf, len, &x->peer);
	if (copy) {
		memcpy(copy, buf, len);
		free(x->wire);
		x->wire = copy;
		x->wire_len = len;
	}
	x->final = 1;
	/* Timer J: 64*T1 on UDP, 0 when reliable. */
	uv_timer_start(&x->lifetime, on_lifetime,
		       x->peer.transport == IMS_UDP ? 64 * SIP_T1_MS : 0, 0);
}

struct txn *txn_find_ours(const struct txn_table *t, const char *branch)
{
	for (struct txn *x = t->ours[hash(branch) & (t->n_buckets - 1)]; x; x = x->next_ours)
		if (!strcmp(x->branch, branch))
			return x;
	return NULL;
}

struct txn *txn_find_up(const struct txn_table *t, const char *up_branch)
{
	for (struct txn *x = t->up[hash(up_branch) & (t->n_buckets - 1)]; x; x = x->next_up)
		if (!strcmp(x->up_branch, up_branch))
			return x;
	return NULL;
}
