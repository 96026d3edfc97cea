/* sip_msg_parse, sip_msg_response and sip_msg_print on hostile and odd
 * messages of our own: duplicate single-instance headers (a remote crash
 * once), NUL bytes, extension methods, bad headers in responses, bare LF
 * line ends, leading CRLFs, oversized header sections (sofia parses many
 * headers in quadratic time). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sofia-sip/sip_header.h>

#include "sip_msg.h"

static const char *find(const char *text, size_t len, const char *s)
{
	return memmem(text, len, s, strlen(s));
}

static int parse_str(const char *s, size_t len, msg_t **msg, struct sip_msg_error *e)
{
	return sip_msg_parse(s, len, msg, e);
}

#define REQ_TAIL \
	"Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK776\r\n" \
	"To: <sip:bob@example.com>\r\nFrom: \"A\" <sip:alice@example.com>;tag=1\r\n" \
	"Call-ID: c1\r\nMax-Forwards: 70\r\n"

/* A second instance of a header that may appear once (To, CSeq, Call-ID,
 * differing Content-Lengths) is a 400 that can still be answered, never a
 * crash. */
static void test_duplicate_single_headers(void **state)
{
	static const char *const dups[] = {
		"MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
		"To: <sip:carol@example.com>\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
		"MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
		"CSeq: 1 MESSAGE\r\nCSeq: 2 MESSAGE\r\nContent-Length: 0\r\n\r\n",
		"MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
		"Call-ID: other\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
		"MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
		"CSeq: 1 MESSAGE\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		msg_t *msg;
		struct sip_msg_error e;
		char *text;
		size_t len;
		assert_int_equal(sip_msg_parse(dups[i], strlen(dups[i]), &msg, &e), EBADMSG);
		assert_int_equal(e.status, 400);
		assert_non_null(msg);
		msg_t *rsp = sip_msg_response(msg, e.status, e.reason, "t");
		assert_non_null(rsp);
		assert_int_equal(sip_msg_print(rsp, &text, &len), 0);
		assert_true(len > 16 && !memcmp(text, "SIP/2.0 400 ", 12));
		msg_destroy(rsp);
		msg_destroy(msg);
	}
}

static void test_variants(void **state)
{
	msg_t *msg;
	struct sip_msg_error e;
	(void)state;

	/* A NUL outside a quoted-pair in the headers would silently stop
	 * sofia's parser: dropped. */
	static const char nul_hdr[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
				      "X-A: a\0b\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(nul_hdr, sizeof(nul_hdr) - 1, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 0);
	assert_string_equal(e.reason, "NUL byte in header section");
	assert_null(msg);

	/* "\\" then NUL is an escaped backslash and a bare NUL. */
	static const char nul_bs[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
				     "Subject: \"a\\\\\0\"\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(nul_bs, sizeof(nul_bs) - 1, &msg, &e), EBADMSG);
	assert_string_equal(e.reason, "NUL byte in header section");

	/* NULs in a body are data. */
	static const char nul_body[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
				       "CSeq: 1 MESSAGE\r\nContent-Type: application/octet-stream\r\n"
				       "Content-Length: 3\r\n\r\n\0\1\0";
	assert_int_equal(parse_str(nul_body, sizeof(nul_body) - 1, &msg, &e), 0);
	assert_int_equal(sip_object(msg)->sip_payload->pl_len, 3);
	msg_destroy(msg);

	/* Extension methods with digits: matched against CSeq, 501 when not. */
	static const char ext_ok[] = "X9+ sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
				     "CSeq: 4 X9+\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(ext_ok, sizeof(ext_ok) - 1, &msg, &e), 0);
	assert_string_equal(sip_object(msg)->sip_request->rq_method_name, "X9+");
	msg_destroy(msg);
	static const char ext_bad[] = "X9+ sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
				      "CSeq: 4 X9\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(ext_bad, sizeof(ext_bad) - 1, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 501);
	msg_destroy(msg);

	/* sofia's method parser takes "PING" in a request line but not at the
	 * end of a CSeq value (it compares it with "PUBLISH"). */
	static const char ping[] = "PING sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
				   "CSeq: 4 PING\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(ping, sizeof(ping) - 1, &msg, &e), 0);
	assert_string_equal(sip_object(msg)->sip_cseq->cs_method_name, "PING");
	msg_destroy(msg);
	static const char ping_ok[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
				      "CSeq: 4 PING\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(ping_ok, sizeof(ping_ok) - 1, &msg, &e), 0);
	assert_string_equal(sip_object(msg)->sip_cseq->cs_method_name, "PING");
	char *out;
	size_t out_len;
	assert_int_equal(sip_msg_print(msg, &out, &out_len), 0);
	assert_non_null(find(out, out_len, "\r\nCSeq: 4 PING\r\n"));
	msg_destroy(msg);

	/* A response keeps flowing with a bad header it does not need... */
	static const char rsp_date[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
				       "CSeq: 1 MESSAGE\r\nDate: yesterday\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(rsp_date, sizeof(rsp_date) - 1, &msg, &e), 0);
	assert_string_equal(e.reason, "bad header Date");
	msg_destroy(msg);
	/* ...not with a line that is no header, nor a URI sofia would print
	 * differently... */
	static const char rsp_line[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
				       "CSeq: 1 MESSAGE\r\nNo header here\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(rsp_line, sizeof(rsp_line) - 1, &msg, &e), EBADMSG);
	assert_string_equal(e.reason, "malformed header line");
	assert_null(msg);
	static const char rsp_uri[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
				      "CSeq: 1 REGISTER\r\nContact: <sip:a@b c SIP/x: <d>\r\n"
				      "Content-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(rsp_uri, sizeof(rsp_uri) - 1, &msg, &e), EBADMSG);
	assert_string_equal(e.reason, "bad header Contact");
	assert_null(msg);
	/* ...nor with a status line of another version... */
	static const char rsp_ver[] = "xSIP/2.0 200 OK\r\n" REQ_TAIL
				      "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(rsp_ver, sizeof(rsp_ver) - 1, &msg, &e), EBADMSG);
	assert_string_equal(e.reason, "malformed status line");
	assert_null(msg);
	/* (a request gets a 400 for such a URI, which sofia would print as
	 * "sip:a$b:c") */
	static const char req_route[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
					"Route: <sip:a$b:/c;lr>\r\nCSeq: 1 MESSAGE\r\n"
					"Content-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(req_route, sizeof(req_route) - 1, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.reason, "Bad header Route");
	msg_destroy(msg);
	/* ...nor with a truncated body. */
	static const char rsp_short[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
					"CSeq: 1 MESSAGE\r\nContent-Length: 10\r\n\r\nabc";
	assert_int_equal(parse_str(rsp_short, sizeof(rsp_short) - 1, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 0);
	assert_null(msg);

	/* CRLFs before the start line are ignored (RFC 3261 7.5), also when
	 * the response must echo a header sofia could not parse. */
	static const char lead[] = "\r\n\r\nOPTIONS sip:bob@example.com SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
				   "To: \"Bob <sip:bob@example.com>\r\n"
				   "From: <sip:a@example.com>;tag=1\r\nCall-ID: c2\r\n"
				   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(parse_str(lead, sizeof(lead) - 1, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.reason, "Bad header To");
	msg_t *rsp = sip_msg_response(msg, e.status, e.reason, "t");
	char *text;
	size_t len;
	assert_int_equal(sip_msg_print(rsp, &text, &len), 0);
	assert_non_null(find(text, len, "\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"));
	assert_non_null(find(text, len, "\r\nTo: \"Bob <sip:bob@example.com>\r\n"));
	msg_destroy(rsp);
	msg_destroy(msg);

	/* Bare LF line ends (or a bare CR before the body): what we print
	 * ends its headers with CRLF CRLF. */
	static const char lf[] = "MESSAGE sip:bob@example.com SIP/2.0\n"
				 "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK2\n"
				 "To: <sip:bob@example.com>\nFrom: <sip:a@example.com>;tag=1\n"
				 "Call-ID: c3\nCSeq: 1 MESSAGE\nContent-Length: 2\n\nhi";
	static const char cr[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK2\r\n"
				 "To: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n"
				 "Call-ID: c3\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\rhi";
	const char *const seps[] = { lf, cr };
	const size_t sep_len[] = { sizeof(lf) - 1, sizeof(cr) - 1 };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(parse_str(seps[i], sep_len[i], &msg, &e), 0);
		assert_int_equal(sip_msg_print(msg, &text, &len), 0);
		assert_non_null(find(text, len, "\r\nContent-Length: 2\r\n\r\nhi"));
		assert_true(len > 4 && !memcmp(text + len - 6, "\r\n\r\nhi", 6));
		msg_destroy(msg);
	}

	/* Headers over 16 KiB (sofia parses many headers in quadratic time):
	 * 513 to a request, a response dropped; a big body is fine. */
	static const char big_head[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
				       "CSeq: 1 MESSAGE\r\n";
	size_t n_lines = 20000 / 8, blen = sizeof(big_head) - 1 + n_lines * 8 + 40 + 100000;
	char *big = malloc(blen);
	assert_non_null(big);
	size_t bp = sizeof(big_head) - 1;
	memcpy(big, big_head, bp);
	for (size_t i = 0; i < n_lines; i++, bp += 8)
		memcpy(big + bp, "X-A: a\r\n", 8);
	bp += (size_t)sprintf(big + bp, "Content-Length: 0\r\n\r\n");
	assert_int_equal(sip_msg_parse(big, bp, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 513);
	assert_string_equal(e.reason, "Message Too Large");
	rsp = sip_msg_response(msg, e.status, e.reason, "t");
	assert_int_equal(sip_msg_print(rsp, &text, &len), 0);
	assert_true(len > 31 && !memcmp(text, "SIP/2.0 513 Message Too Large\r\n", 31));
	assert_non_null(find(text, len, "\r\nCall-ID: c1\r\n"));
	msg_destroy(rsp);
	msg_destroy(msg);
	memcpy(big, "SIP/2.0 200 OK\r\n", 16);
	memmove(big + 16, big + 37, bp - 37);
	assert_int_equal(sip_msg_parse(big, bp - 21, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 0);
	assert_string_equal(e.reason, "headers too large");
	assert_null(msg);
	bp = sizeof(big_head) - 1;
	memcpy(big, big_head, bp);
	bp += (size_t)sprintf(big + bp, "Content-Length: 100000\r\n\r\n");
	memset(big + bp, 'x', 100000);
	assert_int_equal(sip_msg_parse(big, bp + 100000, &msg, &e), 0);
	assert_int_equal(sip_object(msg)->sip_payload->pl_len, 100000);
	msg_destroy(msg);
	free(big);

	/* A request line that is garbage and no Via: nothing to answer. */
	static const char junk[] = "\x01\x02 hello\r\nFoo: bar\r\n\r\n";
	assert_int_equal(parse_str(junk, sizeof(junk) - 1, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 0);
	assert_null(msg);
	assert_int_equal(parse_str("", 0, &msg, &e), EBADMSG);
	assert_null(msg);
}

/* The end of the header section wherever it falls in the 8-byte words
 * header_section_len() skips, after bytes of 0x80 and up (which its word
 * test may take for line ends), with CRLF, LF or CR line ends. */
static void test_header_section_end(void **state)
{
	static const char *const eols[] = { "\r\n", "\n", "\r" };
	char buf[512], name[32];
	msg_t *msg;
	struct sip_msg_error e;

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		const char *nl = eols[k];
		for (size_t pad = 0; pad < 17; pad++) {
			memset(name, 'a', pad);
			name[pad] = '\0';
			int n = snprintf(buf, sizeof(buf),
					 "MESSAGE sip:bob@example.com SIP/2.0%s"
					 "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK776%s"
					 "To: <sip:bob@example.com>%sFrom: <sip:a@example.com>;tag=1%s"
					 "Call-ID: c1%sCSeq: 1 MESSAGE%sSubject: \xc3\xa9t\xc3\xa9%s%s"
					 "Content-Length: 5%s%shello",
					 nl, nl, nl, nl, nl, nl, nl, name, nl, nl);
			assert_true(n > 0 && (size_t)n < sizeof(buf));
			assert_int_equal(sip_msg_parse(buf, (size_t)n, &msg, &e), 0);
			sip_t const *sip = sip_object(msg);
			assert_non_null(sip->sip_payload);
			assert_int_equal(sip->sip_payload->pl_len, 5);
			assert_memory_equal(sip->sip_payload->pl_data, "hello", 5);
			msg_destroy(msg);
		}
	}
}

/* Responses are parsed as they are and only parsed again behind a
 * stand-in method when their CSeq is not plain: an extension method
 * sofia refuses at the end of CSeq, two CSeq headers, a CSeq that does
 * not parse. */
static void test_response_cseq(void **state)
{
	static const char plain[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
				    "CSeq: 4 REGISTER\r\nContent-Length: 0\r\n\r\n";
	static const char odd[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
				  "CSeq: 4 X9+\r\nContent-Length: 0\r\n\r\n";
	static const char two[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
				  "CSeq: 4 PING\r\nCSeq: 5 PING\r\nContent-Length: 0\r\n\r\n";
	static const char bad[] = "SIP/2.0 200 OK\r\n" REQ_TAIL
				  "CSeq: four PING\r\nContent-Length: 0\r\n\r\n";
	static const char none[] = "SIP/2.0 200 OK\r\n" REQ_TAIL "Content-Length: 0\r\n\r\n";
	msg_t *msg;
	struct sip_msg_error e;
	char *out;
	size_t out_len;

	(void)state;
	assert_int_equal(parse_str(plain, sizeof(plain) - 1, &msg, &e), 0);
	assert_int_equal(sip_object(msg)->sip_cseq->cs_method, sip_method_register);
	msg_destroy(msg);
	assert_int_equal(parse_str(odd, sizeof(odd) - 1, &msg, &e), 0);
	assert_string_equal(sip_object(msg)->sip_cseq->cs_method_name, "X9+");
	assert_int_equal(sip_msg_print(msg, &out, &out_len), 0);
	assert_non_null(find(out, out_len, "\r\nCSeq: 4 X9+\r\n"));
	msg_destroy(msg);
	assert_int_equal(parse_str(two, sizeof(two) - 1, &msg, &e), EBADMSG);
	assert_string_equal(e.reason, "duplicate header CSeq");
	assert_null(msg);
	assert_int_equal(parse_str(bad, sizeof(bad) - 1, &msg, &e), EBADMSG);
	assert_int_equal(e.status, 0);
	assert_null(msg);
	assert_int_equal(parse_str(none, sizeof(none) - 1, &msg, &e), EBADMSG);
	assert_string_equal(e.reason, "missing Via, From, To, Call-ID or CSeq");
	assert_null(msg);
}

/* A parsed header changed in place is printed as changed (the printer
 * encodes every header from its parsed form). */
static void test_print_changed(void **state)
{
	static const char req[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n" REQ_TAIL
				  "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
	msg_t *msg;
	struct sip_msg_error e;
	char *out;
	size_t out_len;

	(void)state;
	assert_int_equal(parse_str(req, sizeof(req) - 1, &msg, &e), 0);
	sip_object(msg)->sip_max_forwards->mf_count--;
	assert_int_equal(sip_msg_print(msg, &out, &out_len), 0);
	assert_non_null(find(out, out_len, "\r\nMax-Forwards: 69\r\n"));
	assert_null(find(out, out_len, "Max-Forwards: 70"));
	assert_int_equal(out_len, strlen(out));
	msg_destroy(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicate_single_headers),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_header_section_end),
		cmocka_unit_test(test_response_cseq),
		cmocka_unit_test(test_print_changed),
	};
	return cmocka_run_group_tests_name("sip_msg", tests, NULL, NULL);
}
