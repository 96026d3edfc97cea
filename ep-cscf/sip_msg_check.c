/* Checks of a message sofia-sip has parsed (sip_msg_check.h). */
#include "sip_msg_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/sip_protos.h>

int sip_msg_fail(struct sip_msg_error *e, int status, const char *reason)
{
	e->status = status;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	return EBADMSG;
}

/* Name of the header behind an entry of the error list: sofia puts there
 * unparsable headers (error class, er_name) and extra instances of single
 * headers (their own class).  NULL for a line that is no header at all. */
static const char *error_name(msg_error_t const *er, int *duplicate)
{
	msg_hclass_t const *hc = er->er_common->h_class;

	*duplicate = hc->hc_hash != msg_error_hash;
	return *duplicate ? hc->hc_name : er->er_name;
}

static unsigned header_flags(const char *name)
{
	msg_href_t const *hr = msg_find_hclass(sip_default_mclass(), name, NULL);
	return hr ? hr->hr_flags : 0;
}

/* Describes the first bad header whose flags meet `mask` (any bad header
 * when mask is 0) in `out`, capitalized as a reason phrase when `phrase`.
 * Returns 1 when there is one. */
static int bad_header(sip_t const *sip, unsigned mask, int phrase, char *out, size_t outlen)
{
	for (msg_error_t const *er = sip->sip_error; er; er = er->er_next) {
		int dup;
		const char *name = error_name(er, &dup);
		if (!name || !name[0]) {
			if (mask)
				continue;
			snprintf(out, outlen, "%salformed header line", phrase ? "M" : "m");
			return 1;
		}
		if (mask && !(header_flags(name) & mask))
			continue;
		snprintf(out, outlen, "%s header %.60s",
			 dup ? (phrase ? "Duplicate" : "duplicate") : (phrase ? "Bad" : "bad"), name);
		return 1;
	}
	return 0;
}

/* The first entry of the error list for header `name` (a line that is no
 * header when NULL). */
msg_error_t const *sip_msg_find_error(sip_t const *sip, const char *name)
{
	for (msg_error_t const *er = sip->sip_error; er; er = er->er_next) {
		int dup;
		const char *n = error_name(er, &dup);
		if (name ? n && !strcasecmp(n, name) : !n || !n[0])
			return er;
	}
	return NULL;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_hex(char c)
{
	return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9');
}

/* The host and port of a SIP or SIPS URI, which sofia takes loosely
 * ("sip:a$b:/c" has host "a$b" and port "/c", printed as "c"). */
static int sip_hostport_bad(url_t const *u)
{
	const char *h = u->url_host;
	size_t hl = h ? strlen(h) : 0;

	if (!hl || u->url_path)
		return 1;
	if (h[0] == '[') {
		if (hl < 3 || h[hl - 1] != ']')
			return 1;
		for (size_t i = 1; i + 1 < hl; i++)
			if (!is_hex(h[i]) && h[i] != ':' && h[i] != '.')
				return 1;
	} else {
		for (size_t i = 0; i < hl; i++)
			if (!is_alnum(h[i]) && h[i] != '-' && h[i] != '.' && h[i] != '_')
				return 1;
	}
	if (!u->url_port)
		return 0;
	size_t pl = strlen(u->url_port);
	if (!pl || pl > 5)
		return 1;
	for (size_t i = 0; i < pl; i++)
		if (u->url_port[i] < '0' || u->url_port[i] > '9')
			return 1;
	return 0;
}

/* A byte allowed as is in any part of a URI we forward. */
static int uri_char_ok(unsigned char c)
{
	switch (c) {
	case '"': case '<': case '>': case '\\': case '^': case '`': case '{': case '|': case '}':
		return 0;
	default:
		return c > ' ' && c < 0x7f;
	}
}

#define URI_PARTS(u)                                                                   \
	{ (u)->url_scheme, (u)->url_user, (u)->url_password, (u)->url_host, (u)->url_port, \
	  (u)->url_path, (u)->url_params, (u)->url_headers, (u)->url_fragment }

/* A URI we would not forward as received: sofia's URI parser takes spaces,
 * "<" or 8-bit bytes, and things its printer changes ("x:y/[0:z" loses the
 * "/"), so each part must be clean and the printed URI must read back the
 * same. */
static int uri_bad(url_t const *u)
{
	char stack[1024], *a = stack;
	url_t v;
	int bad;

	if (!u)
		return 0;
	memset(&v, 0, sizeof(v));
	if (u->url_type == url_invalid ||
	    ((u->url_type == url_sip || u->url_type == url_sips) && sip_hostport_bad(u)))
		return 1;
	const char *p[] = URI_PARTS(u);
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		for (const char *c = p[i]; c && *c; c++)
			if (!uri_char_ok((unsigned char)*c))
				return 1;
	issize_t n = url_e(stack, sizeof(stack), u);
	if (n < 0)
		return 1;
	if ((size_t)n >= sizeof(stack)) {
		if (!(a = malloc((size_t)n + 1)))
			return 1;
		url_e(a, n + 1, u);
	}
	bad = url_d(&v, a) < 0 || v.url_type != u->url_type;
	const char *q[] = URI_PARTS(&v);
	for (size_t i = 0; !bad && i < sizeof(p) / sizeof(p[0]); i++)
		bad = (!p[i] != !q[i]) || (p[i] && strcmp(p[i], q[i]));
	if (a != stack)
		free(a);
	return bad;
}

/* A header whose URI sofia could not make sense of ("< sip:a@b >"). */
static const char *bad_uri_header(sip_t const *sip)
{
	if (uri_bad(sip->sip_to->a_url))
		return "To";
	if (uri_bad(sip->sip_from->a_url))
		return "From";
	for (sip_contact_t const *m = sip->sip_contact; m; m = m->m_next)
		if (uri_bad(m->m_url))
			return "Contact";
	for (sip_route_t const *r = sip->sip_route; r; r = r->r_next)
		if (uri_bad(r->r_url))
			return "Route";
	for (sip_record_route_t const *r = sip->sip_record_route; r; r = r->r_next)
		if (uri_bad(r->r_url))
			return "Record-Route";
	return NULL;
}

static int content_length_wrong(sip_t const *sip)
{
	if (!sip->sip_content_length)
		return 0;
	return sip->sip_content_length->l_length !=
	       (sip->sip_payload ? sip->sip_payload->pl_len : 0);
}

int sip_msg_check_response(msg_t *msg, sip_t *sip, struct sip_msg_error *e)
{
	char reason[SIP_REASON_MAX];
	const char *h;

	/* A response is relayed even with a bad header it does not need
	 * (dropping it would leave the transaction hanging); anything that
	 * makes its routing or matching doubtful drops it. */
	if (sip->sip_status->st_status < 100 || sip->sip_status->st_status > 699 ||
	    strcasecmp(sip->sip_status->st_version, "SIP/2.0"))
		return sip_msg_fail(e, 0, "malformed status line");
	if (msg_extract_errors(msg) & sip_mask_response) {
		if (!bad_header(sip, sip_mask_response, 0, reason, sizeof(reason)))
			snprintf(reason, sizeof(reason), "bad Via, From, To, Call-ID or CSeq");
		return sip_msg_fail(e, 0, reason);
	}
	if (!sip->sip_via || !sip->sip_from || !sip->sip_to || !sip->sip_call_id ||
	    !sip->sip_cseq)
		return sip_msg_fail(e, 0, "missing Via, From, To, Call-ID or CSeq");
	/* A line that is no header: sofia would relay it as it came. */
	if (sip_msg_find_error(sip, NULL))
		return sip_msg_fail(e, 0, "malformed header line");
	if ((sip->sip_flags & MSG_FLG_ERROR) || !(sip->sip_flags & MSG_FLG_COMPLETE) ||
	    content_length_wrong(sip))
		return sip_msg_fail(e, 0, "malformed response");
	if ((h = bad_uri_header(sip))) {
		snprintf(reason, sizeof(reason), "bad header %s", h);
		return sip_msg_fail(e, 0, reason);
	}
	/* RFC 4475 3.3.10: never relay toward a broadcast address. */
	for (sip_via_t const *v = sip->sip_via; v; v = v->v_next)
		if (v->v_host && !strcmp(v->v_host, "255.255.255.255"))
			return sip_msg_fail(e, 0, "broadcast address in Via");
	bad_header(sip, 0, 0, e->reason, sizeof(e->reason));
	return 0;
}

/* Request validation (RFC 3261 16.3 steps 1, 2 and 5).  Returns 0, or
 * EBADMSG with e->status 0 (drop) or the response to send. */
int sip_msg_check_request(msg_t *msg, sip_t *sip, struct sip_msg_error *e)
{
	const sip_request_t *rq = sip->sip_request;
	const unsigned mask = sip_mask_request | sip_mask_proxy;
	char reason[SIP_REASON_MAX];
	const char *h;

	if (!(sip->sip_via || sip_msg_find_error(sip, "Via")))
		return sip_msg_fail(e, 0, "missing Via");
	if (strcasecmp(rq->rq_version, "SIP/2.0"))
		return sip_msg_fail(e, 505, "Version Not Supported");
	if (msg_extract_errors(msg) & mask) {
		if (!bad_header(sip, mask, 1, reason, sizeof(reason)))
			snprintf(reason, sizeof(reason), "Bad header");
		return sip_msg_fail(e, 400, reason);
	}
	if (sip_msg_find_error(sip, NULL))
		return sip_msg_fail(e, 400, "Malformed header line");
	if (!sip->sip_from || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq || !sip->sip_via) {
		snprintf(reason, sizeof(reason), "Missing%s%s%s%s%s", !sip->sip_via ? " Via" : "",
			 !sip->sip_from ? " From" : "", !sip->sip_to ? " To" : "",
			 !sip->sip_call_id ? " Call-ID" : "", !sip->sip_cseq ? " CSeq" : "");
		return sip_msg_fail(e, 400, reason);
	}
	if (rq->rq_method == sip_method_unknown && !rq->rq_method_name[0])
		return sip_msg_fail(e, 400, "Bad method");
	if (uri_bad(rq->rq_url) || rq->rq_url->url_headers)
		return sip_msg_fail(e, 400, "Malformed Request-URI");
	if (rq->rq_url->url_type != url_sip && rq->rq_url->url_type != url_sips &&
	    rq->rq_url->url_type != url_tel)
		return sip_msg_fail(e, 416, "Unsupported URI Scheme");
	if (sip->sip_cseq->cs_method != rq->rq_method ||
	    (rq->rq_method == sip_method_unknown &&
	     strcmp(sip->sip_cseq->cs_method_name, rq->rq_method_name))) {
		/* RFC 4475 3.1.2.18: 501 for an unknown method is the
		 * future-proof answer. */
		if (rq->rq_method == sip_method_unknown)
			return sip_msg_fail(e, 501, "Not Implemented");
		return sip_msg_fail(e, 400, "CSeq method does not match request");
	}
	if (content_length_wrong(sip))
		return sip_msg_fail(e, 400, "Content-Length does not match body");
	if ((sip->sip_flags & MSG_FLG_ERROR) || !(sip->sip_flags & MSG_FLG_COMPLETE))
		return sip_msg_fail(e, 400, "Malformed message");
	if ((h = bad_uri_header(sip))) {
		snprintf(reason, sizeof(reason), "Bad header %s", h);
		return sip_msg_fail(e, 400, reason);
	}
	/* The branch keys our transactions: the magic cookie alone is no
	 * transaction id (RFC 4475 3.2.1). */
	if (sip->sip_via->v_branch && !strcmp(sip->sip_via->v_branch, "z9hG4bK"))
		return sip_msg_fail(e, 400, "Bad Via branch");
	/* This proxy supports no extension a request may require of it. */
	if (sip->sip_proxy_require)
		return sip_msg_fail(e, 420, "Bad Extension");
	/* A bad header the proxy does not use (Date...) is forwarded as is
	 * (sofia's printer leaves it out); the caller may log it. */
	bad_header(sip, 0, 0, e->reason, sizeof(e->reason));
	return 0;
}
