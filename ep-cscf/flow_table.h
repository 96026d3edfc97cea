/* Flows (RFC 5626): one per browser WebSocket connection.  A flow is named
 * toward IMS by a flow token (in Path and Record-Route) that carries its id
 * and an HMAC over it, so a token in a Route header cannot be forged or
 * guessed.  Transactions and registrations refer to flows by id, never by
 * pointer: a flow may close at any time. */
#ifndef EPCSCF_FLOW_TABLE_H
#define EPCSCF_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define FLOW_TOKEN_LEN 32 /* hex of 8-byte id + 8-byte HMAC tag */

struct wwsf;
struct ws_conn; /* transport state, owned by ws_server */

struct flow {
	struct flow *next;          /* hash chain; owned by the table */
	uint64_t id;                /* never reused within a process */
	char token[FLOW_TOKEN_LEN + 1];
	struct ws_conn *conn;       /* borrowed; the transport owns it */
	const struct wwsf *wwsf;    /* borrowed from the policy */
	char origin[256];
	char peer[64];              /* "ip:port" */
	int secure;                 /* arrived over WSS */
};

struct flow_table {
	struct flow **buckets; /* owned */
	size_t n_buckets, n;
	uint64_t next_id;
	unsigned char key[32]; /* HMAC key, random per process */
};

int flow_table_init(struct flow_table *t);
void flow_table_free(struct flow_table *t); /* frees remaining flows */

/* Creates a flow with a fresh id and token.  Returns NULL on ENOMEM. */
struct flow *flow_table_add(struct flow_table *t);
void flow_table_remove(struct flow_table *t, struct flow *f); /* frees f */
struct flow *flow_table_get(const struct flow_table *t, uint64_t id);

/* Checks a token's HMAC and returns its id in *id.  0 when the token is
 * genuine (the flow may still be gone: look it up), EINVAL otherwise. */
int flow_token_verify(const struct flow_table *t, const char *token,
		      size_t len, uint64_t *id);

#endif
