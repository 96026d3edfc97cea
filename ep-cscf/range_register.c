/* Range registrations: state and pure pieces. */
#include "range_register.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include "reg_binding.h"

static void range_free(struct range_reg *r)
{
	while (r->pending) {
		struct range_pending *q = r->pending;
		r->pending = q->next;
		msg_destroy(q->msg);
		free(q);
	}
	free(r->service_route);
	free(r);
}

void range_table_free(struct range_table *t)
{
	while (t->head) {
		struct range_reg *r = t->head;
		t->head = r->next;
		range_free(r);
	}
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The SIP form of a range: wildcarded identity, IMPI and domain. */
static int range_names(struct range_reg *r, const char *pattern)
{
	const char *at = strchr(pattern, '@');

	if (strncmp(pattern, "sip:", 4) || !at || !strchr(pattern, '*'))
		return EINVAL; /* tel: ranges have no domain to REGISTER in */
	if (impu_range_wildcarded(pattern, r->wildcarded, sizeof(r->wildcarded)))
		return EINVAL;
	size_t dl = strcspn(at + 1, ";?>");
	if (!dl || dl >= sizeof(r->domain))
		return EINVAL;
	memcpy(r->domain, at + 1, dl);
	r->domain[dl] = '\0';
	/* The IMPI of the range's subscription: user@domain of its
	 * wildcarded identity (NAI form, TS 23.003 13.3). */
	const char *w = r->wildcarded + 4;
	size_t wl = strcspn(w, ";?>");
	if (wl >= sizeof(r->impi))
		return EINVAL;
	memcpy(r->impi, w, wl);
	r->impi[wl] = '\0';
	return 0;
}

struct range_reg *range_table_get(struct range_table *t, const struct wwsf *w,
				  const char *pattern, const unsigned char rnd[24],
				  const char *ims_host, int *err)
{
	struct range_reg *r;

	for (r = t->head; r; r = r->next)
		if (r->wwsf == w && !strcmp(r->pattern, pattern))
			return r;
	if (strlen(pattern) >= sizeof(r->pattern)) {
		*err = EINVAL;
		return NULL;
	}
	if (!(r = calloc(1, sizeof(*r)))) {
		*err = ENOMEM;
		return NULL;
	}
	if (range_names(r, pattern)) {
		free(r);
		*err = EINVAL;
		return NULL;
	}
	r->wwsf = w;
	snprintf(r->pattern, sizeof(r->pattern), "%s", pattern);
	char h[25];
	hex(rnd, 12, h);
	snprintf(r->token, sizeof(r->token), "wr%s", h);
	hex(rnd + 12, 8, h);
	snprintf(r->call_id, sizeof(r->call_id), "%s@%.*s", h, (int)strcspn(ims_host, ":"),
		 ims_host);
	hex(rnd + 20, 4, h);
	snprintf(r->from_tag, sizeof(r->from_tag), "%s", h);
	r->next = t->head;
	t->head = r;
	return r;
}

struct range_reg *range_table_by_token(const struct range_table *t, const char *token)
{
	for (struct range_reg *r = t->head; r; r = r->next)
		if (!strcmp(r->token, token))
			return r;
	return NULL;
}

struct range_reg *range_table_by_call_id(const struct range_table *t, const char *call_id)
{
	for (struct range_reg *r = t->head; r; r = r->next)
		if (!strcmp(r->call_id, call_id))
			return r;
	return NULL;
}

int range_reg_print(const struct range_reg *r, const struct range_reg_hop *h, unsigned expires,
		    char *out, size_t len, size_t *n)
{
	int k = snprintf(out, len,
			 "REGISTER sip:%s SIP/2.0\r\n"
			 "Via: %s\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <%s>;tag=%s\r\n"
			 "To: <%s>\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "Contact: <sip:%s%s;bnc>;expires=%u\r\n"
			 "Expires: %u\r\n"
			 "Require: gin\r\n"
			 "Proxy-Require: gin\r\n"
			 "Supported: path, gin\r\n"
			 "Path: <sip:%s@%s%s;lr>\r\n"
			 "P-Visited-Network-ID: \"%s\"\r\n"
			 "%s\r\n"
			 "Content-Length: 0\r\n\r\n",
			 r->domain, h->via, r->wildcarded, r->from_tag, r->wildcarded, r->call_id,
			 r->cseq, h->ims_host, h->transport, expires, expires, r->token, h->ims_host,
			 h->transport, h->visited, h->authorization);
	if (k < 0 || (size_t)k >= len)
		return EMSGSIZE;
	*n = (size_t)k;
	return 0;
}

static int is_our_bnc(const url_t *u, const char *ims_host)
{
	char hp[RANGE_HOST_MAX];

	if (!u->url_host || u->url_user || !url_has_param(u, "bnc"))
		return 0;
	snprintf(hp, sizeof(hp), "%s:%s", u->url_host, u->url_port ? u->url_port : "5060");
	return !strcasecmp(hp, ims_host);
}

long range_reg_granted(sip_t const *rsp, const char *ims_host)
{
	for (sip_contact_t const *m = rsp->sip_contact; m; m = m->m_next) {
		if (!is_our_bnc(m->m_url, ims_host))
			continue;
		if (m->m_expires) {
			long v = strtol(m->m_expires, NULL, 10);
			return v > 0 ? v : 0;
		}
		return rsp->sip_expires ? (long)rsp->sip_expires->ex_delta : 3600;
	}
	return 0;
}

int range_called_impu(sip_t const *sip, const struct range_reg *r, char *out, size_t len)
{
	const char *v = sip_unknown_value(sip, "P-Called-Party-ID");
	int k;

	if (v) {
		/* name-addr ("Name" <uri>;params) or addr-spec (uri;params). */
		const char *lt = strchr(v, '<');
		const char *u = lt ? lt + 1 : v;
		size_t n = strcspn(u, lt ? ">;?" : ";? \t");
		if (n <= 4 || strncasecmp(u, "sip:", 4) || n >= len)
			return EINVAL;
		memcpy(out, u, n);
		out[n] = '\0';
		return 0;
	}
	const url_t *ru = sip->sip_request ? sip->sip_request->rq_url : NULL;
	if (!ru || !ru->url_user || !*ru->url_user)
		return EINVAL;
	k = snprintf(out, len, "sip:%s@%s", ru->url_user, r->domain);
	return k < 0 || (size_t)k >= len ? EINVAL : 0;
}
