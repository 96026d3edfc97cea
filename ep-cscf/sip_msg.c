/* Parse/validate/print SIP messages with sofia-sip.
 *
 * sofia-sip's parser is lenient in places and strict in others; this file
 * fills the gaps that RFC 4475 and fuzzing show (tests/unit/
 * test_sip_torture.c, tests/fuzz/fuzz_sip_msg.c):
 *  - it reads C strings: a NUL in the headers silently ends them, so a
 *    quoted-pair NUL is removed first and any other NUL there drops;
 *  - its method parser refuses some valid extension methods: they are
 *    parsed under a stand-in name, restored afterwards;
 *  - a malformed request line stops it before the headers, which are then
 *    read behind a stand-in line so that a 400 can be sent;
 *  - bad headers show in msg_extract_errors() and the error list, where
 *    extra instances of single headers sit with their own class;
 *  - its URI parser takes what its printer changes: such URIs are refused;
 *  - many headers or parameters take it quadratic time: headers are capped;
 *  - responses to refused requests echo Via/From/To/Call-ID/CSeq even when
 *    unparsable, from a copy-mode parse that keeps the raw text (as
 *    Kamailio's sl replies do). */
#include "sip_msg.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>

#define METHOD_MAX 64
/* sofia parses many headers, or many parameters, in quadratic time (1 MiB
 * of "X:a" lines takes minutes); ours never need more than this. */
#define HEADERS_MAX 16384 /* bytes of start line and headers */
/* Parsed in place of an extension method sofia cannot parse. */
#define STANDIN_METHOD "EPCSCF-EXTENSION-METHOD"
#define STANDIN_LINE "OPTIONS sip:invalid.invalid SIP/2.0\r\n"

/* The message text handed to sofia and what was changed in it. */
struct work {
	const char *buf; /* borrowed from the caller, or `owned` */
	size_t len;
	char *owned;
	char method[METHOD_MAX + 1]; /* the real method, when a stand-in is used */
	int cseq_replaced;
};

static int fail(struct sip_msg_error *e, int status, const char *reason)
{
	e->status = status;
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	return EBADMSG;
}

static int is_eol(char c)
{
	return c == '\r' || c == '\n';
}

static int is_lws(char c)
{
	return c == ' ' || c == '\t' || is_eol(c);
}

/* RFC 3261 token. */
static int is_token_char(unsigned char c)
{
	switch (c) {
	case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`':
	case '\'': case '~':
		return 1;
	default:
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	}
}

/* Length of the LWS before the start line. */
static size_t start_of(const char *b, size_t len)
{
	size_t i = 0;
	while (i < len && is_lws(b[i]))
		i++;
	return i;
}

/* Whether one of the 8 bytes of w is below 14 (LF is 10, CR 13); may
 * also say so for a byte after one of 0x80 or more (then checked byte by
 * byte), never misses one. */
static int word_may_hold_eol(uint64_t w)
{
	return ((w - 0x0e0e0e0e0e0e0e0eull) & ~w & 0x8080808080808080ull) != 0;
}

/* Length of the start line and headers: up to the line end that is
 * followed by another line end (any of CRLF, CR, LF, as sofia reads).
 * Runs on every message: words without a line end are skipped whole. */
static size_t header_section_len(const char *b, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t w;
		if (i + 8 <= len) {
			memcpy(&w, b + i, sizeof(w));
			if (!word_may_hold_eol(w)) {
				i += 8;
				continue;
			}
		}
		if (!is_eol(b[i])) {
			i++;
			continue;
		}
		size_t n = b[i] == '\r' && i + 1 < len && b[i + 1] == '\n' ? 2 : 1;
		if (i + n >= len || is_eol(b[i + n]))
			return i + n;
		i += n;
	}
	return len;
}

/* Replaces the work text by `len` bytes of `b` (malloc'ed, now owned). */
static void work_take(struct work *w, char *b, size_t len)
{
	free(w->owned);
	w->owned = b;
	w->buf = b;
	w->len = len;
}

/* Removes every quoted-pair NUL ("\" %x00) from the header section, `hl`
 * bytes long.  Returns 0, or EBADMSG when a NUL stands elsewhere there. */
static int strip_quoted_nul(struct work *w, size_t hl)
{
	size_t o = 0;

	if (!memchr(w->buf, '\0', hl))
		return 0;
	char *b = malloc(w->len);
	if (!b)
		return ENOMEM;
	for (size_t i = 0; i < w->len; i++) {
		if (i < hl && w->buf[i] == '\0') {
			size_t bs = 0; /* backslashes just before */
			while (bs < o && b[o - 1 - bs] == '\\')
				bs++;
			if (bs % 2 == 0) {
				free(b);
				return EBADMSG;
			}
			o--; /* drop the pair */
			continue;
		}
		b[o++] = w->buf[i];
	}
	work_take(w, b, o);
	return 0;
}

/* Where the method of each CSeq header starts (at most `max`), and the
 * length of the first one.  Returns how many there are. */
static size_t find_cseq_methods(const char *b, size_t hl, size_t *at, size_t max,
				size_t *first_len)
{
	size_t n = 0, i = 0;

	while (i < hl && !is_eol(b[i])) /* skip the start line */
		i++;
	while (i < hl && n < max) {
		while (i < hl && is_eol(b[i]))
			i++;
		size_t name = i;
		while (i < hl && is_token_char((unsigned char)b[i]))
			i++;
		size_t name_len = i - name;
		while (i < hl && (b[i] == ' ' || b[i] == '\t'))
			i++;
		if (i < hl && b[i] == ':' && name_len == 4 && !strncasecmp(b + name, "CSeq", 4)) {
			i++;
			while (i < hl && is_lws(b[i]))
				i++;
			while (i < hl && b[i] >= '0' && b[i] <= '9')
				i++;
			while (i < hl && is_lws(b[i]))
				i++;
			size_t t = i;
			while (i < hl && !is_lws(b[i]))
				i++;
			if (!n)
				*first_len = i - t;
			at[n++] = t;
		}
		/* to the end of this header (continuation lines included) */
		for (;;) {
			while (i < hl && !is_eol(b[i]))
				i++;
			while (i < hl && is_eol(b[i]))
				i++;
			if (i >= hl || (b[i] != ' ' && b[i] != '\t'))
				break;
		}
	}
	return n;
}

/* Whether sofia's method parser reads method `m` both inside a request
 * line and at the end of a CSeq value. */
static int sofia_reads_method(const char *m, size_t ml)
{
	char probe[METHOD_MAX + 2];

	for (int end = 0; end < 2; end++) {
		char *p = probe;
		char const *name = NULL;
		memcpy(probe, m, ml);
		probe[ml] = end ? '\0' : ' ';
		probe[ml + 1] = '\0';
		if (sip_method_d(&p, &name) == sip_method_invalid)
			return 0;
	}
	return 1;
}

/* sofia's method parser refuses digits, "+" and "`", and in CSeq any
 * name shorter than a known method with the same initial ("PING" for
 * "PUBLISH"), though an extension method is any token.  Such a method
 * (of the request line, or of CSeq in a response) is replaced there and in
 * CSeq by a stand-in that restore_method() undoes after parsing. */
static int standin_method(struct work *w, size_t hl)
{
	size_t at[4], cl = 0, ml = 0, n = 0;

	while (ml < w->len && is_token_char((unsigned char)w->buf[ml]))
		ml++;
	/* sofia's test: a first token followed by "/" starts a status line */
	int request = ml < w->len && w->buf[ml] != '/';
	if (request) {
		/* The common case, a method sofia reads, needs no CSeq scan. */
		if (!ml || ml > METHOD_MAX || w->buf[ml] != ' ' || sofia_reads_method(w->buf, ml))
			return 0;
		n = find_cseq_methods(w->buf, hl, at, 4, &cl);
	} else {
		n = find_cseq_methods(w->buf, hl, at, 4, &cl);
		ml = n ? cl : 0;
	}
	const char *m = request ? w->buf : w->buf + (n ? at[0] : 0);
	if (!ml || ml > METHOD_MAX)
		return 0;
	for (size_t i = 0; i < ml; i++)
		if (!is_token_char((unsigned char)m[i]))
			return 0;
	if (!request && sofia_reads_method(m, ml))
		return 0;

	size_t sl = sizeof(STANDIN_METHOD) - 1, k = 0;
	for (size_t j = 0; j < n; j++) /* the CSeq methods equal to it */
		if (at[j] + ml <= w->len && !memcmp(w->buf + at[j], m, ml) &&
		    (at[j] + ml == hl || is_lws(w->buf[at[j] + ml])))
			at[k++] = at[j];
	char *b = malloc(w->len + (k + 1) * sl);
	if (!b)
		return ENOMEM;
	memcpy(w->method, m, ml);
	w->method[ml] = '\0';
	w->cseq_replaced = k > 0;

	size_t from = 0, o = 0;
	for (size_t j = request ? 0 : 1; j <= k; j++) {
		size_t pos = j == 0 ? 0 : at[j - 1];
		memcpy(b + o, w->buf + from, pos - from);
		o += pos - from;
		memcpy(b + o, STANDIN_METHOD, sl);
		o += sl;
		from = pos + ml;
	}
	memcpy(b + o, w->buf + from, w->len - from);
	o += w->len - from;
	work_take(w, b, o);
	return 0;
}

static void restore_method(const struct work *w, msg_t *msg)
{
	sip_t *sip = sip_object(msg);
	char *m;

	if (!w->method[0] || !sip || !(m = su_strdup(msg_home(msg), w->method)))
		return;
	if (sip->sip_request && !strcmp(sip->sip_request->rq_method_name, STANDIN_METHOD)) {
		sip->sip_request->rq_method_name = m;
		msg_fragment_clear(sip->sip_request->rq_common);
	}
	if (w->cseq_replaced && sip->sip_cseq &&
	    !strcmp(sip->sip_cseq->cs_method_name, STANDIN_METHOD)) {
		sip->sip_cseq->cs_method_name = m;
		msg_fragment_clear(sip->sip_cseq->cs_common);
	}
}

/* sofia's msg_make() with a bigger arena: its preload (the text and
 * 1 KiB) goes mostly to the copy of the text, so each parsed header then
 * cost a malloc and a free.  Three times the text and 4 KiB hold the
 * parsed headers, those the proxy adds, and the printed copy of a usual
 * message; sofia takes at most 65535 bytes of preload. */
static msg_t *make(const struct work *w, int flags)
{
	size_t arena = 3 * w->len + 4096;
	msg_iovec_t iov[2];
	msg_t *msg;

	if (!w->len || !(msg = msg_create(sip_default_mclass(), flags)))
		return NULL;
	su_home_preload(msg_home(msg), 1, arena > 65000 ? 65000 : arena);
	if (msg_recv_iovec(msg, iov, 2, w->len, 1) != 1 || iov[0].mv_len != w->len) {
		msg_destroy(msg);
		return NULL;
	}
	memcpy(iov[0].mv_base, w->buf, w->len);
	msg_recv_commit(msg, w->len, 1);
	if (msg_extract(msg) < 0)
		sip_object(msg)->sip_flags |= MSG_FLG_ERROR;
	restore_method(w, msg);
	return msg;
}

/* Parses, only to answer, the headers behind a stand-in request line
 * (when sofia stopped at a malformed one), or the first HEADERS_MAX bytes
 * of them cut after a whole header.  NULL when impossible. */
static msg_t *make_to_answer(const struct work *w, int standin_line)
{
	size_t from = 0, to = w->len, sl = standin_line ? sizeof(STANDIN_LINE) - 1 : 0;

	if (standin_line) {
		while (from < w->len && !is_eol(w->buf[from]))
			from++;
		if (from++ >= w->len)
			return NULL;
		from += w->buf[from - 1] == '\r' && from < w->len && w->buf[from] == '\n';
	} else {
		to = HEADERS_MAX; /* < w->len */
		while (to > 0 && !(w->buf[to - 1] == '\n' && w->buf[to] != ' ' && w->buf[to] != '\t'))
			to--;
		if (!to)
			return NULL;
	}
	struct work hw = { .len = sl + to - from + (standin_line ? 0 : 2) };
	char *b = malloc(hw.len);
	if (!b)
		return NULL;
	memcpy(b, STANDIN_LINE, sl);
	memcpy(b + sl, w->buf + from, to - from);
	if (!standin_line)
		memcpy(b + sl + to - from, "\r\n", 2);
	hw.buf = b;
	msg_t *msg = make(&hw, MSG_DO_EXTRACT_COPY);
	free(b);
	return msg;
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
static msg_error_t const *find_error(sip_t const *sip, const char *name)
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

static int parse_response(msg_t *msg, sip_t *sip, struct sip_msg_error *e)
{
	char reason[SIP_REASON_MAX];
	const char *h;

	/* A response is relayed even with a bad header it does not need
	 * (dropping it would leave the transaction hanging); anything that
	 * makes its routing or matching doubtful drops it. */
	if (sip->sip_status->st_status < 100 || sip->sip_status->st_status > 699 ||
	    strcasecmp(sip->sip_status->st_version, "SIP/2.0"))
		return fail(e, 0, "malformed status line");
	if (msg_extract_errors(msg) & sip_mask_response) {
		if (!bad_header(sip, sip_mask_response, 0, reason, sizeof(reason)))
			snprintf(reason, sizeof(reason), "bad Via, From, To, Call-ID or CSeq");
		return fail(e, 0, reason);
	}
	if (!sip->sip_via || !sip->sip_from || !sip->sip_to || !sip->sip_call_id ||
	    !sip->sip_cseq)
		return fail(e, 0, "missing Via, From, To, Call-ID or CSeq");
	/* A line that is no header: sofia would relay it as it came. */
	if (find_error(sip, NULL))
		return fail(e, 0, "malformed header line");
	if ((sip->sip_flags & MSG_FLG_ERROR) || !(sip->sip_flags & MSG_FLG_COMPLETE) ||
	    content_length_wrong(sip))
		return fail(e, 0, "malformed response");
	if ((h = bad_uri_header(sip))) {
		snprintf(reason, sizeof(reason), "bad header %s", h);
		return fail(e, 0, reason);
	}
	/* RFC 4475 3.3.10: never relay toward a broadcast address. */
	for (sip_via_t const *v = sip->sip_via; v; v = v->v_next)
		if (v->v_host && !strcmp(v->v_host, "255.255.255.255"))
			return fail(e, 0, "broadcast address in Via");
	bad_header(sip, 0, 0, e->reason, sizeof(e->reason));
	return 0;
}

/* Request validation (RFC 3261 16.3 steps 1, 2 and 5).  Returns 0, or
 * EBADMSG with e->status 0 (drop) or the response to send. */
static int check_request(msg_t *msg, sip_t *sip, struct sip_msg_error *e)
{
	const sip_request_t *rq = sip->sip_request;
	const unsigned mask = sip_mask_request | sip_mask_proxy;
	char reason[SIP_REASON_MAX];
	const char *h;

	if (!(sip->sip_via || find_error(sip, "Via")))
		return fail(e, 0, "missing Via");
	if (strcasecmp(rq->rq_version, "SIP/2.0"))
		return fail(e, 505, "Version Not Supported");
	if (msg_extract_errors(msg) & mask) {
		if (!bad_header(sip, mask, 1, reason, sizeof(reason)))
			snprintf(reason, sizeof(reason), "Bad header");
		return fail(e, 400, reason);
	}
	if (find_error(sip, NULL))
		return fail(e, 400, "Malformed header line");
	if (!sip->sip_from || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq || !sip->sip_via) {
		snprintf(reason, sizeof(reason), "Missing%s%s%s%s%s", !sip->sip_via ? " Via" : "",
			 !sip->sip_from ? " From" : "", !sip->sip_to ? " To" : "",
			 !sip->sip_call_id ? " Call-ID" : "", !sip->sip_cseq ? " CSeq" : "");
		return fail(e, 400, reason);
	}
	if (rq->rq_method == sip_method_unknown && !rq->rq_method_name[0])
		return fail(e, 400, "Bad method");
	if (uri_bad(rq->rq_url) || rq->rq_url->url_headers)
		return fail(e, 400, "Malformed Request-URI");
	if (rq->rq_url->url_type != url_sip && rq->rq_url->url_type != url_sips &&
	    rq->rq_url->url_type != url_tel)
		return fail(e, 416, "Unsupported URI Scheme");
	if (sip->sip_cseq->cs_method != rq->rq_method ||
	    (rq->rq_method == sip_method_unknown &&
	     strcmp(sip->sip_cseq->cs_method_name, rq->rq_method_name))) {
		/* RFC 4475 3.1.2.18: 501 for an unknown method is the
		 * future-proof answer. */
		if (rq->rq_method == sip_method_unknown)
			return fail(e, 501, "Not Implemented");
		return fail(e, 400, "CSeq method does not match request");
	}
	if (content_length_wrong(sip))
		return fail(e, 400, "Content-Length does not match body");
	if ((sip->sip_flags & MSG_FLG_ERROR) || !(sip->sip_flags & MSG_FLG_COMPLETE))
		return fail(e, 400, "Malformed message");
	if ((h = bad_uri_header(sip))) {
		snprintf(reason, sizeof(reason), "Bad header %s", h);
		return fail(e, 400, reason);
	}
	/* The branch keys our transactions: the magic cookie alone is no
	 * transaction id (RFC 4475 3.2.1). */
	if (sip->sip_via->v_branch && !strcmp(sip->sip_via->v_branch, "z9hG4bK"))
		return fail(e, 400, "Bad Via branch");
	/* This proxy supports no extension a request may require of it. */
	if (sip->sip_proxy_require)
		return fail(e, 420, "Bad Extension");
	/* A bad header the proxy does not use (Date...) is forwarded as is
	 * (sofia's printer leaves it out); the caller may log it. */
	bad_header(sip, 0, 0, e->reason, sizeof(e->reason));
	return 0;
}

/* What standin_method() takes for a status line: a first token followed
 * by "/", or nothing but a token. */
static int status_line_first(const struct work *w)
{
	size_t ml = 0;

	while (ml < w->len && is_token_char((unsigned char)w->buf[ml]))
		ml++;
	return !(ml < w->len && w->buf[ml] != '/');
}

/* Whether a response parsed without a stand-in is what standin_method()
 * would have left as is: one CSeq, parsed, with a method sofia reads.
 * Anything else is parsed again the long way. */
static int cseq_read_as_is(msg_t *msg)
{
	sip_t const *sip = msg ? sip_object(msg) : NULL;
	const char *m;

	if (!sip || !sip->sip_status || !sip->sip_cseq || find_error(sip, "CSeq"))
		return 0;
	m = sip->sip_cseq->cs_method_name;
	return m && m[0] && strlen(m) <= METHOD_MAX && sofia_reads_method(m, strlen(m));
}

int sip_msg_parse(const char *buf, size_t len, msg_t **out,
		  struct sip_msg_error *e)
{
	struct work w = { .buf = buf, .len = len };
	msg_t *msg = NULL;
	sip_t *sip;
	int rc;

	*out = NULL;
	memset(e, 0, sizeof(*e));
	/* RFC 3261 7.5: CRLFs before the start line are ignored (and break
	 * sofia's copy-mode parse) */
	w.buf += start_of(buf, len);
	w.len -= (size_t)(w.buf - buf);
	if (w.len == 0) {
		rc = fail(e, 0, "empty message");
		goto out;
	}
	size_t hl = header_section_len(w.buf, w.len);
	if (hl > HEADERS_MAX) {
		msg = make_to_answer(&w, 0);
		sip = msg ? sip_object(msg) : NULL;
		if (sip && sip->sip_request && (sip->sip_via || find_error(sip, "Via")))
			rc = fail(e, 513, "Message Too Large");
		else
			rc = fail(e, 0, "headers too large");
		goto out;
	}
	if ((rc = strip_quoted_nul(&w, hl))) {
		rc = rc == ENOMEM ? fail(e, 0, "out of memory") : fail(e, 0, "NUL byte in header section");
		goto out;
	}
	if (w.owned) /* NULs were taken out */
		hl = header_section_len(w.buf, w.len);
	/* A response is parsed as is first: its CSeq method is one sofia
	 * reads but for odd ones, which take the stand-in path below. */
	int response = status_line_first(&w);
	if (!response && standin_method(&w, hl)) {
		rc = fail(e, 0, "out of memory");
		goto out;
	}
	msg = make(&w, 0);
	if (response && !cseq_read_as_is(msg)) {
		if (msg)
			msg_destroy(msg);
		if (standin_method(&w, hl)) {
			msg = NULL;
			rc = fail(e, 0, "out of memory");
			goto out;
		}
		msg = make(&w, 0);
	}
	if (!msg) {
		rc = fail(e, 0, "unparsable message");
		goto out;
	}
	sip = sip_object(msg);
	if (!sip) {
		rc = fail(e, 0, "unparsable message");
		goto out;
	}
	if (sip->sip_status) {
		rc = parse_response(msg, sip, e);
		goto out;
	}
	if (!sip->sip_request) {
		if (w.len >= 4 && !strncasecmp(w.buf, "SIP/", 4)) {
			rc = fail(e, 0, "malformed status line");
			goto out;
		}
		msg_destroy(msg);
		msg = make_to_answer(&w, 1);
		sip = msg ? sip_object(msg) : NULL;
		if (sip && (sip->sip_via || find_error(sip, "Via")))
			rc = fail(e, 400, "Malformed Request-Line");
		else
			rc = fail(e, 0, "malformed request line and no Via");
		goto out;
	}
	rc = check_request(msg, sip, e);
	if (rc && e->status) {
		/* Answer from a parse that keeps the raw text of the headers
		 * sofia could not read, so the response can echo them. */
		msg_t *copy = make(&w, MSG_DO_EXTRACT_COPY);
		if (copy && sip_object(copy) && sip_object(copy)->sip_request) {
			msg_destroy(msg);
			msg = copy;
		} else if (copy) {
			msg_destroy(copy);
		}
	}
out:
	if (rc && !e->status && msg) {
		msg_destroy(msg);
		msg = NULL;
	}
	*out = msg;
	free(w.owned);
	return rc;
}

/* The raw value of the first unparsable header of class `hc`, unfolded,
 * in `home`; NULL when there is none. */
static char *raw_value(su_home_t *home, sip_t const *sip, msg_hclass_t const *hc)
{
	for (msg_error_t const *er = sip->sip_error; er; er = er->er_next) {
		msg_common_t const *c = er->er_common;
		if (c->h_class->hc_hash != msg_error_hash || !er->er_name ||
		    strcasecmp(er->er_name, hc->hc_name) || !c->h_data)
			continue;
		const char *d = c->h_data, *colon = memchr(d, ':', c->h_len);
		if (!colon)
			continue;
		size_t n = c->h_len - (size_t)(colon + 1 - d);
		char *v = su_strndup(home, colon + 1, (isize_t)n);
		if (!v)
			return NULL;
		for (char *p = v; *p; p++)
			if (is_lws(*p))
				*p = ' ';
		char *s = v + strspn(v, " ");
		size_t l = strlen(s);
		while (l && s[l - 1] == ' ')
			s[--l] = '\0';
		return s;
	}
	return NULL;
}

/* Inserts a copy of `h`, or else the raw text of the request's unparsable
 * header of class `hc` (as an unknown header of the same name); nothing
 * when the request has neither.  Returns -1 on ENOMEM. */
static int copy_header(msg_t *msg, sip_t *sip, sip_t const *rq, msg_hclass_t *hc,
		       msg_header_t *h)
{
	su_home_t *home = msg_home(msg);

	if (!h) {
		char *v = raw_value(home, rq, hc);
		if (!v)
			return 0;
		h = msg_header_format(home, sip_unknown_class, "%s: %s", hc->hc_name, v);
	}
	return h ? msg_header_insert(msg, (msg_pub_t *)sip, h) : -1;
}

msg_t *sip_msg_response(msg_t *req, int status, const char *phrase,
			const char *to_tag)
{
	sip_t const *rq = sip_object(req);
	msg_t *msg = msg_create(sip_default_mclass(), 0);
	su_home_t *home;
	sip_t *sip;

	if (!msg)
		return NULL;
	home = msg_home(msg);
	sip = sip_object(msg);
	if (!phrase)
		phrase = sip_status_phrase(status);
	sip_to_t *to = rq->sip_to ? sip_to_dup(home, rq->sip_to) : NULL;
	if (rq->sip_to && !to)
		goto fail;
	if (to && status > 100 && !to->a_tag && to_tag && sip_to_tag(home, to, to_tag) < 0)
		goto fail;
	if (msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_status_create(home, (unsigned)status,
								phrase ? phrase : "Unknown",
								NULL)) < 0 ||
	    copy_header(msg, sip, rq, sip_via_class,
			rq->sip_via ? (msg_header_t *)sip_via_dup(home, rq->sip_via) : NULL) < 0 ||
	    copy_header(msg, sip, rq, sip_from_class,
			rq->sip_from ? (msg_header_t *)sip_from_dup(home, rq->sip_from) : NULL) < 0 ||
	    copy_header(msg, sip, rq, sip_to_class, (msg_header_t *)to) < 0 ||
	    copy_header(msg, sip, rq, sip_call_id_class,
			rq->sip_call_id ? (msg_header_t *)sip_call_id_dup(home, rq->sip_call_id)
					: NULL) < 0 ||
	    copy_header(msg, sip, rq, sip_cseq_class,
			rq->sip_cseq ? (msg_header_t *)sip_cseq_dup(home, rq->sip_cseq) : NULL) < 0)
		goto fail;
	if (status == 420 && rq->sip_proxy_require &&
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      msg_header_dup_as(home, sip_unsupported_class,
						(msg_header_t *)rq->sip_proxy_require)) < 0)
		goto fail;
	if (msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_content_length_create(home, 0)) < 0)
		goto fail;
	return msg;
fail:
	msg_destroy(msg);
	return NULL;
}

int sip_msg_print(msg_t *msg, char **text, size_t *len)
{
	sip_t *sip = sip_object(msg);

	if (!sip || (!sip->sip_request && !sip->sip_status))
		return EINVAL;
	/* A message we built has no separator: without it the blank line
	 * that ends the headers is missing, which a stream peer waits for. */
	if (!sip->sip_separator &&
	    msg_header_insert(msg, (msg_pub_t *)sip,
			      (msg_header_t *)sip_separator_create(msg_home(msg))) < 0)
		return ENOMEM;
	/* A parsed one keeps the separator as received, maybe a bare CR or
	 * LF: the headers are printed with CRLF, so must the blank line be. */
	if (strcmp(sip->sip_separator->sep_data, "\r\n")) {
		strcpy(sip->sip_separator->sep_data, "\r\n");
		msg_fragment_clear(sip->sip_separator->sep_common);
	}
	/* msg_as_string() serializes and encodes every header itself (it
	 * ignores the encodings msg_prepare() would keep): a msg_prepare()
	 * before it encoded the message twice. */
	*text = msg_as_string(msg_home(msg), msg, NULL, 0, len);
	return *text ? 0 : ENOMEM;
}
