/* Established WebSocket flows per source address. */
#include "ws_ip_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned ip_hash(const char *ip)
{
	unsigned h = 2166136261u;
	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h & 255;
}

struct ws_ip_count *ws_ip_find(struct ws_ip_table *t, const char *ip, int create)
{
	struct ws_ip_count **pp = &t->slot[ip_hash(ip)];
	for (; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->ip, ip))
			return *pp;
	if (!create)
		return NULL;
	struct ws_ip_count *c = calloc(1, sizeof(*c));
	if (c) {
		snprintf(c->ip, sizeof(c->ip), "%s", ip);
		*pp = c;
	}
	return c;
}

void ws_ip_release(struct ws_ip_table *t, const char *ip)
{
	struct ws_ip_count **pp = &t->slot[ip_hash(ip)];
	for (; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->ip, ip)) {
			if (--(*pp)->n == 0) {
				struct ws_ip_count *c = *pp;
				*pp = c->next;
				free(c);
			}
			return;
		}
}

void ws_ip_table_free(struct ws_ip_table *t)
{
	for (size_t i = 0; i < 256; i++)
		while (t->slot[i]) {
			struct ws_ip_count *c = t->slot[i];
			t->slot[i] = c->next;
			free(c);
		}
}
