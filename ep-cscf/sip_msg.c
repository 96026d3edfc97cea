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
 *    Kamailio's sl replies do).
 * The checks of the parsed message (bad headers, URIs, the RFC 3261 16.3
 * request rules) are sip_msg_check.c. */
#include "sip_msg.h"
#include "sip_msg_check.h"

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

	if (!sip || !sip->sip_status || !sip->sip_cseq || sip_msg_find_error(sip, "CSeq"))
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
		rc = sip_msg_fail(e, 0, "empty message");
		goto out;
	}
	size_t hl = header_section_len(w.buf, w.len);
	if (hl > HEADERS_MAX) {
		msg = make_to_answer(&w, 0);
		sip = msg ? sip_object(msg) : NULL;
		if (sip && sip->sip_request && (sip->sip_via || sip_msg_find_error(sip, "Via")))
			rc = sip_msg_fail(e, 513, "Message Too Large");
		else
			rc = sip_msg_fail(e, 0, "headers too large");
		goto out;
	}
	if ((rc = strip_quoted_nul(&w, hl))) {
		rc = rc == ENOMEM ? sip_msg_fail(e, 0, "out of memory") : sip_msg_fail(e, 0, "NUL byte in header section");
		goto out;
	}
	if (w.owned) /* NULs were taken out */
		hl = header_section_len(w.buf, w.len);
	/* A response is parsed as is first: its CSeq method is one sofia
	 * reads but for odd ones, which take the stand-in path below. */
	int response = status_line_first(&w);
	if (!response && standin_method(&w, hl)) {
		rc = sip_msg_fail(e, 0, "out of memory");
		goto out;
	}
	msg = make(&w, 0);
	if (response && !cseq_read_as_is(msg)) {
		if (msg)
			msg_destroy(msg);
		if (standin_method(&w, hl)) {
			msg = NULL;
			rc = sip_msg_fail(e, 0, "out of memory");
			goto out;
		}
		msg = make(&w, 0);
	}
	if (!msg) {
		rc = sip_msg_fail(e, 0, "unparsable message");
		goto out;
	}
	sip = sip_object(msg);
	if (!sip) {
		rc = sip_msg_fail(e, 0, "unparsable message");
		goto out;
	}
	if (sip->sip_status) {
		rc = sip_msg_check_response(msg, sip, e);
		goto out;
	}
	if (!sip->sip_request) {
		if (w.len >= 4 && !strncasecmp(w.buf, "SIP/", 4)) {
			rc = sip_msg_fail(e, 0, "malformed status line");
			goto out;
		}
		msg_destroy(msg);
		msg = make_to_answer(&w, 1);
		sip = msg ? sip_object(msg) : NULL;
		if (sip && (sip->sip_via || sip_msg_find_error(sip, "Via")))
			rc = sip_msg_fail(e, 400, "Malformed Request-Line");
		else
			rc = sip_msg_fail(e, 0, "malformed request line and no Via");
		goto out;
	}
	rc = sip_msg_check_request(msg, sip, e);
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
