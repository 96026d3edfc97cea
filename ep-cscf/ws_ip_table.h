/* Established WebSocket flows per source address, for the per-address
 * limit (ws.max_flows_per_ip): a small hash of counts keyed by the
 * address text. */
#ifndef EPCSCF_WS_IP_TABLE_H
#define EPCSCF_WS_IP_TABLE_H

#include <netinet/in.h>

struct ws_ip_count {
	struct ws_ip_count *next;
	unsigned n;
	char ip[INET6_ADDRSTRLEN];
};

struct ws_ip_table {
	struct ws_ip_count *slot[256]; /* owned */
};

/* The count of `ip`, or NULL; with create, a new zero count is made
 * (NULL on ENOMEM).  The entry is owned by the table. */
struct ws_ip_count *ws_ip_find(struct ws_ip_table *t, const char *ip, int create);

/* One flow of `ip` fewer; the entry goes at zero. */
void ws_ip_release(struct ws_ip_table *t, const char *ip);

void ws_ip_table_free(struct ws_ip_table *t);

#endif
