/* FIFO of equal-delay timers. */
#include "ka_queue.h"

#include <stddef.h>

void ka_unlink(struct ka_entry *e)
{
	struct ka_queue *q = e->q;
	if (!q)
		return;
	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	e->prev = e->next = NULL;
	e->q = NULL;
}

void ka_arm(struct ka_queue *q, struct ka_entry *e, uint64_t now_ms)
{
	ka_unlink(e);
	e->due_ms = now_ms + q->delay_ms;
	e->q = q;
	e->prev = q->tail;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
}

struct ka_entry *ka_due(const struct ka_queue *q, uint64_t now_ms)
{
	return q->head && q->head->due_ms <= now_ms ? q->head : NULL;
}
