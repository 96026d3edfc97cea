/* The calls the eP-CSCF is in (INVITE dialogs, RFC 3261 section 12): for
 * each, the browser flow, the direction, the dialog identifiers, what it
 * takes to send BYE on either side by itself (both parties' From/To, the
 * remote targets, the route set toward IMS, the highest CSeq each side
 * used), the INVITE transactions in progress, and the media state.
 *
 * A call is found by Call-ID and flow: a call between two browsers on
 * this eP-CSCF is two calls with one Call-ID (originating on one flow,
 * terminating on the other).  Pure table: no I/O, no timers. */
#ifndef EPCSCF_SIP_DIALOG_H
#define EPCSCF_SIP_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

struct itxn;
struct call_media;
struct sip_proxy;

/* The two sides of a call, in the ALG's order (ims_alg.h: ALG_W3 = 0). */
enum call_side { CALL_WS = 0, CALL_IMS = 1 };

enum call_dir {
	CALL_ORIG, /* the browser called (originating, TS 24.229 5.2.7.2) */
	CALL_TERM, /* the browser is called (terminating, 5.2.7.3) */
};

enum call_state {
	CALL_INIT,      /* INVITE received, nothing back yet */
	CALL_EARLY,     /* a provisional response with a To tag */
	CALL_CONFIRMED, /* 2xx */
	CALL_ENDED,     /* BYE, failure, CANCEL, or ended by us */
};

struct call {
	struct call *hnext;           /* Call-ID chain; owned by the table */
	struct call *ctx_next;        /* media context chain (call_index_context) */
	const void *ctx_link;         /* the AGW link of its media context, and */
	uint32_t ctx_id;              /* its CONTEXT_ID; 0: not indexed */
	struct call *prev, *next;     /* every call, for scans */
	struct sip_proxy *proxy;      /* borrowed: for transaction callbacks */
	uint64_t serial;              /* for logs: "call" */
	uint64_t flow_id;
	enum call_dir dir;
	enum call_state state;
	char *call_id;                /* owned */
	char *caller;                 /* owned: From of the INVITE, with tag */
	char *callee;                 /* owned: To, with the callee's tag once known */
	char *ws_target;              /* owned: the browser's Contact URI */
	char *ims_target;             /* owned: the far end's Contact URI */
	char *ims_route;              /* owned: route set toward IMS, or NULL */
	uint32_t cseq[2];             /* highest CSeq of requests from each side */
	struct itxn *txns;            /* INVITE transactions, each owned by the
				       * call until its done callback */
	struct itxn *srv, *cli;       /* borrowed from txns: the INVITE in
				       * progress (server side, client side) */
	char *up_inv;                 /* owned: that INVITE as received (for
				       * responses the eP-CSCF makes itself) */
	size_t up_inv_len;
	int up_inv_via;               /* up_inv has our Via on top */
	int ims_tcp;                  /* INVITEs toward IMS go over TCP */
	msg_t *held;                  /* owned: a message waiting for the media
				       * step (Iq+ reply) */
	struct call_media *media;     /* owned by call_media.c */
	uint64_t started_ms;          /* loop time of the INVITE */
	int released;                 /* media released (exactly once) */
	int bye_sent;                 /* we ended it with BYE */
};

struct call_table {
	struct call **buckets;        /* owned: by Call-ID */
	struct call **ctx_buckets;    /* owned: by media context (AGW link, id) */
	size_t n_buckets, n;
	struct call *all;             /* list of every call */
	uint64_t next_serial;
};

int call_table_init(struct call_table *t);
/* Frees the table; calls must have been removed. */
void call_table_free(struct call_table *t);

/* Creates a call (state INIT) with copies of the strings.  Returns NULL on
 * ENOMEM. */
struct call *call_add(struct call_table *t, const char *call_id, uint64_t flow_id,
		      enum call_dir dir);
/* Unlinks and frees (strings and held message; not the transactions or the
 * media state, which the caller has ended). */
void call_remove(struct call_table *t, struct call *c);

/* The live (not ENDED) call with this Call-ID on this flow, else the most
 * recent ended one, else NULL. */
struct call *call_find(const struct call_table *t, const char *call_id, uint64_t flow_id);
/* Iterates over calls with this Call-ID: start with prev NULL. */
struct call *call_next_with_id(const struct call_table *t, const char *call_id,
			       const struct call *prev);

/* The call's media context on an AGW link (EVENTs name contexts): indexed
 * once known, unindexed when released or the call is removed. */
void call_index_context(struct call_table *t, struct call *c, const void *link, uint32_t id);
void call_unindex_context(struct call_table *t, struct call *c);
struct call *call_by_context(const struct call_table *t, const void *link, uint32_t id);

/* Replaces *field with a copy of s (NULL clears).  Returns 0 or ENOMEM. */
int call_set(char **field, const char *s);

/* The header as a string (copy, malloc'd; NULL on ENOMEM or absent). */
char *call_header_string(msg_t *msg, const void *header);

#endif
