/* Iq+ transaction layer (SPEC.md clause 6). */
#include "iqp_txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define container(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static void list_init(struct iqp_txn_list *l)
{
	l->head.prev = l->head.next = &l->head;
	l->n = 0;
}

static void list_push(struct iqp_txn_list *l, struct iqp_txn_link *e)
{
	e->prev = l->head.prev;
	e->next = &l->head;
	l->head.prev->next = e;
	l->head.prev = e;
	l->n++;
}

static void list_del(struct iqp_txn_list *l, struct iqp_txn_link *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
	l->n--;
}

static struct iqp_txn_link *list_first(const struct iqp_txn_list *l)
{
	return l->head.next == &l->head ? NULL : l->head.next;
}

static unsigned bucket(uint32_t txid)
{
	return (txid * 2654435761u) >> 24; /* 256 buckets */
}

static bool uncounted(uint16_t code)
{
	return code == IQP_MSG_HEARTBEAT; /* 6.7 item 1 */
}

void iqp_txn_init(struct iqp_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->next_txid = 1;
	t->peer_max_outstanding = IQP_MAX_OUTSTANDING;
	t->peer_cache_ttl = IQP_CACHE_TTL_MS;
	t->t_txn = IQP_T_TXN_MS;
	t->t_txn_max = IQP_T_TXN_MAX_MS;
	t->max_outstanding = IQP_MAX_OUTSTANDING;
	t->cache_ttl = IQP_CACHE_TTL_MS;
	list_init(&t->queued);
	list_init(&t->by_deadline);
	list_init(&t->by_first);
	list_init(&t->abandoned);
	list_init(&t->in_progress);
	list_init(&t->done);
}

uint32_t iqp_txn_alloc_id(struct iqp_txn *t)
{
	uint32_t id = t->next_txid;
	t->next_txid = id == UINT32_MAX ? 1 : id + 1;
	return id;
}

/* --- Requester ------------------------------------------------------ */

static struct iqp_txn_out *out_find(const struct iqp_txn *t, uint32_t txid)
{
	struct iqp_txn_out *o = t->out[bucket(txid)];
	while (o && o->txid != txid)
		o = o->hnext;
	return o;
}

static void out_unhash(struct iqp_txn *t, struct iqp_txn_out *o)
{
	struct iqp_txn_out **pp = &t->out[bucket(o->txid)];
	while (*pp != o)
		pp = &(*pp)->hnext;
	*pp = o->hnext;
}

static void out_free(struct iqp_txn *t, struct iqp_txn_out *o)
{
	out_unhash(t, o);
	free(o->frame);
	free(o);
}

static bool window_open(const struct iqp_txn *t, uint16_t code)
{
	if (uncounted(code))
		return !t->hb_in_flight;
	return t->in_flight < t->peer_max_outstanding;
}

static void fly(struct iqp_txn *t, struct iqp_txn_out *o, uint64_t now)
{
	o->state = IQP_TXN_S_IN_FLIGHT;
	o->first = now;
	o->deadline = now + t->t_txn;
	list_push(&t->by_deadline, &o->q);
	list_push(&t->by_first, &o->f);
	if (uncounted(o->code))
		t->hb_in_flight = true;
	else
		t->in_flight++;
}

/* Leaves flight (answered, timed out or failed). */
static void land(struct iqp_txn *t, struct iqp_txn_out *o)
{
	list_del(&t->by_deadline, &o->q);
	list_del(&t->by_first, &o->f);
	if (uncounted(o->code))
		t->hb_in_flight = false;
	else
		t->in_flight--;
}

static void abandon(struct iqp_txn *t, struct iqp_txn_out *o, uint64_t now)
{
	land(t, o);
	o->state = IQP_TXN_S_ABANDONED;
	o->deadline = now + t->peer_cache_ttl;
	list_push(&t->abandoned, &o->q);
}

int iqp_txn_start(struct iqp_txn *t, const uint8_t *frame, size_t len,
		  void *user, uint64_t now, bool *send_now)
{
	struct iqp_header h;
	struct iqp_txn_out *o, *old;

	if (len < IQP_HEADER_LEN)
		return EINVAL;
	iqp_header_decode(frame, &h);
	if ((h.kind != IQP_KIND_REQUEST && h.kind != IQP_KIND_NOTIFY) || !h.txid)
		return EINVAL;
	if (uncounted(h.code) && t->hb_in_flight)
		return EBUSY;
	if ((old = out_find(t, h.txid))) {
		if (old->state != IQP_TXN_S_ABANDONED)
			return EEXIST;
		/* 6.1 item 3 is the sender's duty; a counter that wrapped
		 * around within CACHE_TTL replaces the oldest record. */
		list_del(&t->abandoned, &old->q);
		out_free(t, old);
	}
	if (!(o = calloc(1, sizeof(*o))))
		return ENOMEM;
	o->txid = h.txid;
	o->code = h.code;
	o->kind = h.kind;
	o->user = user;
	if (window_open(t, h.code)) {
		fly(t, o, now);
		*send_now = true;
	} else {
		if (!(o->frame = malloc(len))) {
			free(o);
			return ENOMEM;
		}
		memcpy(o->frame, frame, len);
		o->len = len;
		o->state = IQP_TXN_S_QUEUED;
		list_push(&t->queued, &o->q);
		*send_now = false;
	}
	o->hnext = t->out[bucket(o->txid)];
	t->out[bucket(o->txid)] = o;
	return 0;
}

bool iqp_txn_dequeue(struct iqp_txn *t, uint64_t now, uint8_t **frame,
		     size_t *len)
{
	struct iqp_txn_link *l = list_first(&t->queued);
	struct iqp_txn_out *o;

	if (!l)
		return false;
	o = container(l, struct iqp_txn_out, q);
	if (!window_open(t, o->code))
		return false;
	list_del(&t->queued, &o->q);
	*frame = o->frame;
	*len = o->len;
	o->frame = NULL;
	o->len = 0;
	fly(t, o, now);
	return true;
}

int iqp_txn_answer(struct iqp_txn *t, const struct iqp_header *h,
		   uint64_t now, void **user)
{
	struct iqp_txn_out *o = out_find(t, h->txid);
	uint8_t want = h->kind == IQP_KIND_ACK ? IQP_KIND_NOTIFY : IQP_KIND_REQUEST;

	if (!o || o->state == IQP_TXN_S_QUEUED)
		return IQP_TXN_LATE;
	if (o->code != h->code || o->kind != want ||
	    (h->kind == IQP_KIND_PENDING && o->kind != IQP_KIND_REQUEST))
		return IQP_TXN_MISMATCH;
	if (o->state == IQP_TXN_S_ABANDONED) {
		if (h->kind != IQP_KIND_PENDING) {
			list_del(&t->abandoned, &o->q);
			out_free(t, o);
		}
		return IQP_TXN_ABANDONED;
	}
	*user = o->user;
	if (h->kind == IQP_KIND_PENDING) {
		/* 6.2 item 1: each PENDING restarts T_TXN (not T_TXN_MAX). */
		list_del(&t->by_deadline, &o->q);
		o->deadline = now + t->t_txn;
		list_push(&t->by_deadline, &o->q);
		return IQP_TXN_PENDING;
	}
	land(t, o);
	out_free(t, o);
	return IQP_TXN_MATCHED;
}

static void end_of(const struct iqp_txn_out *o, struct iqp_txn_end *end)
{
	end->txid = o->txid;
	end->code = o->code;
	end->kind = o->kind;
	end->user = o->user;
}

/* --- Responder ------------------------------------------------------ */

static struct iqp_txn_in *in_find(const struct iqp_txn *t, uint32_t txid)
{
	struct iqp_txn_in *e = t->in[bucket(txid)];
	while (e && e->txid != txid)
		e = e->hnext;
	return e;
}

static void in_free(struct iqp_txn *t, struct iqp_txn_in *e)
{
	struct iqp_txn_in **pp = &t->in[bucket(e->txid)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	list_del(e->done ? &t->done : &t->in_progress, &e->l);
	if (e->counted && !e->done)
		t->executing--;
	free(e->answer);
	free(e);
}

static void sweep(struct iqp_txn *t, uint64_t now)
{
	struct iqp_txn_link *l;

	while ((l = list_first(&t->done)) &&
	       container(l, struct iqp_txn_in, l)->expires <= now)
		in_free(t, container(l, struct iqp_txn_in, l));
	while ((l = list_first(&t->abandoned)) &&
	       container(l, struct iqp_txn_out, q)->deadline <= now) {
		struct iqp_txn_out *o = container(l, struct iqp_txn_out, q);
		list_del(&t->abandoned, &o->q);
		out_free(t, o);
	}
}

int iqp_txn_received(struct iqp_txn *t, const struct iqp_header *h,
		     uint64_t now, const uint8_t **cached, size_t *cached_len)
{
	struct iqp_txn_in *e;

	sweep(t, now);
	if (uncounted(h->code))
		return IQP_TXN_NEW;
	if ((e = in_find(t, h->txid)) && e->kind == h->kind) {
		if (!e->done)
			return IQP_TXN_RUNNING;
		*cached = e->answer;
		*cached_len = e->len;
		return IQP_TXN_REPEAT;
	}
	if (e) /* the same txid as a NOTIFY and a REQUEST: keep the newer */
		in_free(t, e);
	if (t->executing >= t->max_outstanding) {
		t->excess++;
		if (t->executing + t->excess > 2u * t->max_outstanding)
			return IQP_TXN_FLOOD;
		return IQP_TXN_EXCESS;
	}
	if (!(e = calloc(1, sizeof(*e))))
		return IQP_TXN_EXCESS; /* no memory: "try again", not executed */
	e->txid = h->txid;
	e->code = h->code;
	e->kind = h->kind;
	e->counted = true;
	e->pend_at = h->kind == IQP_KIND_REQUEST ? now + IQP_T_PEND_MS : UINT64_MAX;
	t->executing++;
	list_push(&t->in_progress, &e->l);
	e->hnext = t->in[bucket(e->txid)];
	t->in[bucket(e->txid)] = e;
	return IQP_TXN_NEW;
}

/* 6.5 item 4. */
static bool cacheable(uint16_t code, unsigned err_code)
{
	return code != IQP_MSG_REGISTER && code != IQP_MSG_HEARTBEAT &&
	       code != IQP_MSG_AUDIT && err_code != IQP_ERR_FLOW &&
	       err_code != IQP_ERR_NOT_READY;
}

int iqp_txn_answered(struct iqp_txn *t, const uint8_t *frame, size_t len,
		     unsigned err_code, uint64_t now)
{
	struct iqp_header h;
	struct iqp_txn_in *e;
	uint8_t want;

	if (len < IQP_HEADER_LEN)
		return EINVAL;
	iqp_header_decode(frame, &h);
	if (uncounted(h.code))
		return 0;
	want = h.kind == IQP_KIND_ACK ? IQP_KIND_NOTIFY : IQP_KIND_REQUEST;
	if (!(e = in_find(t, h.txid)) || e->done || e->kind != want)
		return ENOENT;
	if (t->executing-- <= t->max_outstanding)
		t->excess = 0; /* the window is open again */
	e->counted = false;
	if (!cacheable(e->code, err_code)) {
		in_free(t, e);
		return 0;
	}
	if (!(e->answer = malloc(len))) {
		in_free(t, e);
		return ENOMEM;
	}
	memcpy(e->answer, frame, len);
	e->len = len;
	list_del(&t->in_progress, &e->l);
	e->done = true;
	e->expires = now + t->cache_ttl;
	list_push(&t->done, &e->l);
	return 0;
}

bool iqp_txn_pend_due(struct iqp_txn *t, uint64_t now, uint32_t *txid,
		      uint16_t *code, bool *give_up)
{
	/* Few entries are ever in progress (commands run on the loop and
	 * answer at once unless they wait for something): a walk is fine. */
	for (struct iqp_txn_link *l = t->in_progress.head.next; l != &t->in_progress.head;
	     l = l->next) {
		struct iqp_txn_in *e = container(l, struct iqp_txn_in, l);
		if (e->pend_at > now)
			continue;
		*txid = e->txid;
		*code = e->code;
		*give_up = e->pendings >= IQP_N_PEND;
		e->pendings++;
		e->pend_at = *give_up ? UINT64_MAX : e->pend_at + IQP_T_PEND_MS;
		return true;
	}
	return false;
}

bool iqp_txn_awaits_answer(const struct iqp_txn *t, unsigned answer_kind,
			   uint16_t code, uint32_t txid)
{
	if (uncounted(code))
		return true;
	const struct iqp_txn_in *e = in_find(t, txid);
	uint8_t want = answer_kind == IQP_KIND_ACK ? IQP_KIND_NOTIFY : IQP_KIND_REQUEST;
	return e && !e->done && e->kind == want;
}

/* --- Both ------------------------------------------------------------ */

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t iqp_txn_next_deadline(const struct iqp_txn *t)
{
	uint64_t d = UINT64_MAX;
	struct iqp_txn_link *l;

	if ((l = list_first(&t->by_deadline)))
		d = min64(d, container(l, struct iqp_txn_out, q)->deadline);
	if ((l = list_first(&t->by_first)))
		d = min64(d, container(l, struct iqp_txn_out, f)->first + t->t_txn_max);
	if ((l = list_first(&t->abandoned)))
		d = min64(d, container(l, struct iqp_txn_out, q)->deadline);
	if ((l = list_first(&t->done)))
		d = min64(d, container(l, struct iqp_txn_in, l)->expires);
	for (l = t->in_progress.head.next; l != &t->in_progress.head; l = l->next)
		d = min64(d, container(l, struct iqp_txn_in, l)->pend_at);
	return d;
}

bool iqp_txn_expire(struct iqp_txn *t, uint64_t now, struct iqp_txn_end *end)
{
	struct iqp_txn_link *l;
	struct iqp_txn_out *o = NULL;

	sweep(t, now);
	if ((l = list_first(&t->by_deadline)) &&
	    container(l, struct iqp_txn_out, q)->deadline <= now)
		o = container(l, struct iqp_txn_out, q);
	else if ((l = list_first(&t->by_first)) &&
		 container(l, struct iqp_txn_out, f)->first + t->t_txn_max <= now)
		o = container(l, struct iqp_txn_out, f);
	if (!o)
		return false;
	end_of(o, end);
	abandon(t, o, now);
	return true;
}

bool iqp_txn_fail(struct iqp_txn *t, uint64_t now, struct iqp_txn_end *end)
{
	struct iqp_txn_link *l;
	struct iqp_txn_out *o;

	if ((l = list_first(&t->by_first))) {
		o = container(l, struct iqp_txn_out, f);
		end_of(o, end);
		abandon(t, o, now);
		return true;
	}
	if ((l = list_first(&t->queued))) {
		o = container(l, struct iqp_txn_out, q);
		end_of(o, end);
		list_del(&t->queued, &o->q);
		out_free(t, o);
		return true;
	}
	return false;
}

void iqp_txn_flush(struct iqp_txn *t)
{
	struct iqp_txn_link *l;

	while ((l = list_first(&t->done)))
		in_free(t, container(l, struct iqp_txn_in, l));
	while ((l = list_first(&t->abandoned))) {
		struct iqp_txn_out *o = container(l, struct iqp_txn_out, q);
		list_del(&t->abandoned, &o->q);
		out_free(t, o);
	}
}

void iqp_txn_free(struct iqp_txn *t)
{
	struct iqp_txn_end end;
	struct iqp_txn_link *l;

	while (iqp_txn_fail(t, 0, &end))
		;
	iqp_txn_flush(t);
	while ((l = list_first(&t->in_progress)))
		in_free(t, container(l, struct iqp_txn_in, l));
}

size_t iqp_txn_in_flight(const struct iqp_txn *t)
{
	return t->in_flight;
}

size_t iqp_txn_queued(const struct iqp_txn *t)
{
	return t->queued.n;
}
