/* A FIFO of timers that all have the same delay: appending keeps it
 * sorted by due time, so arming, cancelling and expiring cost O(1) each.
 * (libwebsockets 4.1 keeps its timers in one sorted list walked from the
 * head on every insertion: O(timers) each.)  Entries are embedded in the
 * caller's objects (struct ka_entry member) and never owned by the queue. */
#ifndef EPCSCF_KA_QUEUE_H
#define EPCSCF_KA_QUEUE_H

#include <stdint.h>

struct ka_queue;

struct ka_entry {
	struct ka_entry *prev, *next;
	struct ka_queue *q; /* NULL when on none */
	uint64_t due_ms;
};

struct ka_queue {
	struct ka_entry *head, *tail;
	uint64_t delay_ms;
};

/* Takes e off its queue, if any. */
void ka_unlink(struct ka_entry *e);

/* (Re)queues e at the tail of q, due at now_ms + q's delay. */
void ka_arm(struct ka_queue *q, struct ka_entry *e, uint64_t now_ms);

/* The head of q when it is due at now_ms, else NULL (not unlinked). */
struct ka_entry *ka_due(const struct ka_queue *q, uint64_t now_ms);

#endif
