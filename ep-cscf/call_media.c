/* The media step: messages of a call in arrival order through the SDP
 * handling of the configured anchoring. */
#include "call_media.h"

#include <stdlib.h>
#include <string.h>

#include "call_session.h"
#include "sip_proxy.h"

struct held {
	struct held *next;
	msg_t *msg;                  /* owned */
	enum call_side from;
	call_media_done_h *done;
};

struct call_media {
	struct held *head, *tail;    /* owned: waiting, in arrival order */
	int busy;                    /* the head is being worked on */
};

static struct call_media *media_of(struct call *c)
{
	if (!c->media)
		c->media = calloc(1, sizeof(*c->media));
	return c->media;
}

/* Runs the queue until it is empty or its head waits. */
static void run(struct sip_proxy *p, struct call *c)
{
	struct call_media *m = c->media;

	while (m && m->head && !m->busy) {
		struct held *h = m->head;
		if (!(m->head = h->next))
			m->tail = NULL;
		if (c->state == CALL_ENDED && c->released) {
			msg_destroy(h->msg);
			free(h);
			continue;
		}
		/* Without anchoring the SDP passes unchanged. */
		m->busy = 1;
		h->done(p, c, h->msg, h->from, 0, NULL);
		free(h);
		if (!(m = c->media))
			return;
		m->busy = 0;
	}
}

void call_media_sdp(struct sip_proxy *p, struct call *c, enum call_side from, msg_t *msg,
		    call_media_done_h *done)
{
	struct call_media *m = media_of(c);
	struct held *h = calloc(1, sizeof(*h));

	if (!m || !h) {
		free(h);
		done(p, c, msg, from, 500, "out of memory");
		return;
	}
	h->msg = msg;
	h->from = from;
	h->done = done;
	if (m->tail)
		m->tail->next = h;
	else
		m->head = h;
	m->tail = h;
	run(p, c);
}

void call_media_abandon(struct sip_proxy *p, struct call *c)
{
	(void)p;
	(void)c;
}

void call_media_release(struct sip_proxy *p, struct call *c)
{
	(void)p;
	if (c->released)
		return;
	c->released = 1;
}

int call_media_busy(const struct call *c)
{
	return c->media && (c->media->busy || c->media->head);
}

void call_media_free(struct call *c)
{
	struct call_media *m = c->media;
	if (!m)
		return;
	while (m->head) {
		struct held *h = m->head;
		m->head = h->next;
		msg_destroy(h->msg);
		free(h);
	}
	free(m);
	c->media = NULL;
}
