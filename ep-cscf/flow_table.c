/* Flow table and flow tokens. */
#include "flow_table.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 1024

int flow_table_init(struct flow_table *t)
{
	memset(t, 0, sizeof(*t));
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return ENOMEM;
	t->n_buckets = INITIAL_BUCKETS;
	if (RAND_bytes(t->key, sizeof(t->key)) != 1 ||
	    RAND_bytes((unsigned char *)&t->next_id, sizeof(t->next_id)) != 1) {
		free(t->buckets);
		return EIO;
	}
	t->next_id >>= 16; /* random start, far from wrapping */
	return 0;
}

void flow_table_free(struct flow_table *t)
{
	for (size_t i = 0; i < t->n_buckets; i++)
		while (t->buckets[i]) {
			struct flow *f = t->buckets[i];
			t->buckets[i] = f->next;
			free(f);
		}
	free(t->buckets);
	OPENSSL_cleanse(t->key, sizeof(t->key));
	memset(t, 0, sizeof(*t));
}

static size_t bucket(const struct flow_table *t, uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)(id & (t->n_buckets - 1));
}

static void tag(const struct flow_table *t, uint64_t id, unsigned char out[8])
{
	unsigned char md[EVP_MAX_MD_SIZE], msg[8];
	unsigned int n = 0;
	for (int i = 0; i < 8; i++)
		msg[i] = (unsigned char)(id >> (56 - 8 * i));
	HMAC(EVP_sha256(), t->key, sizeof(t->key), msg, sizeof(msg), md, &n);
	memcpy(out, md, 8);
}

static void grow(struct flow_table *t)
{
	size_t n = t->n_buckets * 2;
	struct flow **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* keep working with longer chains */
	struct flow **old = t->buckets;
	size_t old_n = t->n_buckets;
	t->buckets = b;
	t->n_buckets = n;
	for (size_t i = 0; i < old_n; i++)
		while (old[i]) {
			struct flow *f = old[i];
			old[i] = f->next;
			size_t k = bucket(t, f->id);
			f->next = b[k];
			b[k] = f;
		}
	free(old);
}

struct flow *flow_table_add(struct flow_table *t)
{
	struct flow *f = calloc(1, sizeof(*f));
	unsigned char mac[8];

	if (!f)
		return NULL;
	f->id = t->next_id++;
	tag(t, f->id, mac);
	snprintf(f->token, sizeof(f->token), "%016llx%02x%02x%02x%02x%02x%02x%02x%02x",
		 (unsigned long long)f->id, mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5], mac[6], mac[7]);
	if (t->n >= t->n_buckets)
		grow(t);
	size_t k = bucket(t, f->id);
	f->next = t->buckets[k];
	t->buckets[k] = f;
	t->n++;
	return f;
}

void flow_table_remove(struct flow_table *t, struct flow *f)
{
	for (struct flow **pp = &t->buckets[bucket(t, f->id)]; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			t->n--;
			free(f);
			return;
		}
}

struct flow *flow_table_get(const struct flow_table *t, uint64_t id)
{
	for (struct flow *f = t->buckets[bucket(t, id)]; f; f = f->next)
		if (f->id == id)
			return f;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int flow_token_verify(const struct flow_table *t, const char *token,
		      size_t len, uint64_t *id)
{
	unsigned char got[16], want[8];

	if (len != FLOW_TOKEN_LEN)
		return EINVAL;
	for (size_t i = 0; i < 16; i++) {
		int hi = hexval(token[2 * i]), lo = hexval(token[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return EINVAL;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | got[i];
	tag(t, v, want);
	if (CRYPTO_memcmp(want, got + 8, 8))
		return EINVAL;
	*id = v;
	return 0;
}
