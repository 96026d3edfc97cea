/* Iq+ element trees: decode limits and arenas, typed accessors, the
 * builder and encoder, validator behaviour, and the JSON form's errors
 * (SPEC.md 4). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "iqp_build.h"
#include "iqp_json.h"
#include "iqp_validate.h"

/* Appendix A.1 and A.4 (SPEC.md). */
static const char a1_hex[] =
	"495101010000000100000001000000d88040000000056167772d3180410000000800"
	"00019b76daa8008042000000020100804300000001038044000000020385c0490000"
	"001e804a0000000400001388804b0000000400040000804c0000000400000100c080"
	"0000000a808100000004000007d0c08b0000001a808c000000027733808d00000001"
	"01808e0000000504cb00710ac08b0000001c808c00000004636f7265808d00000001"
	"02808e00000005040a00000ac0920000002c00930000000101009400000001010095"
	"00000001010095000000010280960000000200018096000000020007";
static const char a4_hex[] =
	"49510102000201010000002a00000046c0010000004080020000000201be00030000"
	"0019756e6b6e6f776e206d616e6461746f727920656c656d656e740004000000029f"
	"010005000000040000005a00060000000101";

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0, len = strlen(s);

	assert_int_equal(len % 2, 0);
	for (size_t i = 0; i < len; i += 2) {
		unsigned x;
		assert_int_equal(sscanf(s + i, "%2x", &x), 1);
		assert_true(n < cap);
		out[n++] = (uint8_t)x;
	}
	return n;
}

static void parse_frame(struct iqp_msg *m, const uint8_t *f, size_t n)
{
	struct iqp_header h;
	struct iqp_error err;

	iqp_header_decode(f, &h);
	assert_int_equal(h.body_len + IQP_HEADER_LEN, n);
	assert_int_equal(iqp_msg_parse(m, &h, f + IQP_HEADER_LEN, NULL, 0, &err), 0);
}

/* A.1 built with the typed adders in a scrambled order encodes to the
 * SPEC's bytes: the builder places every element canonically. */
static void test_build_a1(void **state)
{
	struct iqp_header h = { 1, IQP_KIND_REQUEST, 0, IQP_MSG_REGISTER, 1, 0 };
	struct iqp_msg m;
	struct iqp_elem *caps, *lp, *r1, *r2, *cap;
	uint8_t want[300], got[300], arena[4096];
	size_t n = unhex(a1_hex, want, sizeof(want)), len;
	struct iqp_ip w3 = { 4, { 203, 0, 113, 10 } }, core = { 4, { 10, 0, 0, 10 } };
	(void)state;

	assert_int_equal(iqp_msg_init(&m, &h, arena, sizeof(arena)), 0);
	iqp_add_container(&m, NULL, IQP_E_CAPABILITIES, &caps);
	iqp_add_u16(&m, caps, IQP_E_SRTP_PROFILE, 1);
	iqp_add_enum(&m, caps, IQP_E_CAP_DTLS_SETUP, IQP_SETUP_ACTIVE);
	iqp_add_u16(&m, caps, IQP_E_SRTP_PROFILE, 7);
	iqp_add_bool(&m, caps, IQP_E_CAP_ICE_TCP, true);
	iqp_add_enum(&m, caps, IQP_E_CAP_DTLS_SETUP, IQP_SETUP_PASSIVE);
	iqp_add_enum(&m, caps, IQP_E_CAP_ICE_MODE, 1);
	iqp_add_container(&m, NULL, IQP_E_REALM, &r1);
	iqp_add_ip(&m, r1, IQP_E_REALM_ADDR, &w3);
	iqp_add_container(&m, NULL, IQP_E_REALM, &r2);
	iqp_add_enum(&m, r2, IQP_E_REALM_SIDE, 2);
	iqp_add_str(&m, r1, IQP_E_REALM_NAME, "w3");
	iqp_add_enum(&m, r1, IQP_E_REALM_SIDE, 1);
	iqp_add_ip(&m, r2, IQP_E_REALM_ADDR, &core);
	iqp_add_str(&m, r2, IQP_E_REALM_NAME, "core");
	iqp_add_container(&m, NULL, IQP_E_LINK_PARAMS, &lp);
	iqp_add_u32(&m, lp, IQP_E_MAX_OUTSTANDING, 256);
	iqp_add_u32(&m, lp, IQP_E_HB_INTERVAL, 5000);
	iqp_add_u32(&m, lp, IQP_E_MAX_FRAME, 262144);
	iqp_add_u16(&m, NULL, IQP_E_SC_REASON, 901);
	iqp_add_container(&m, NULL, IQP_E_CAPACITY, &cap);
	iqp_add_u32(&m, cap, IQP_E_MAX_CONTEXTS, 2000);
	iqp_add_enum(&m, NULL, IQP_E_SC_METHOD, IQP_SC_RESTART);
	iqp_add_u16(&m, NULL, IQP_E_VERSION, IQP_VERSION_1_0);
	iqp_add_u64(&m, NULL, IQP_E_EPOCH, 1767225600000ull);
	iqp_add_str(&m, NULL, IQP_E_NODE_ID, "agw-1");
	assert_int_equal(m.err, 0);
	assert_true(iqp_msg_is_canonical(&m));
	assert_int_equal(iqp_msg_encoded_len(&m, &len), 0);
	assert_int_equal(len, n);
	assert_int_equal(iqp_msg_encode(&m, got, len - 1, &len), EMSGSIZE);
	assert_int_equal(iqp_msg_encode(&m, got, sizeof(got), &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	assert_false(m.mem_owned);
	iqp_msg_free(&m);
}

/* The error REPLY of A.4 from the validator's error. */
static void test_build_error(void **state)
{
	struct iqp_header h = { 1, IQP_KIND_REPLY, IQP_FLAG_E, IQP_MSG_RESERVE, 42, 0 };
	struct iqp_error err;
	struct iqp_msg m;
	uint8_t want[100], got[100];
	size_t n = unhex(a4_hex, want, sizeof(want)), len;
	(void)state;

	iqp_error_set(&err, 446, IQP_ACT_REPLY, "unknown mandatory element");
	err.has_element = err.has_offset = true;
	err.element = 0x9f01;
	err.offset = 90;
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 1024), 0);
	assert_int_equal(iqp_add_error(&m, &err), 0);
	assert_int_equal(iqp_msg_encode(&m, got, sizeof(got), &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	iqp_msg_free(&m);
}

static void test_build_errors(void **state)
{
	struct iqp_header h = { 1, IQP_KIND_REQUEST, 0, IQP_MSG_RELEASE, 5, 0 };
	struct iqp_msg m;
	struct iqp_elem *e, *p;
	uint8_t arena[200], buf[64];
	size_t len;
	(void)state;

	/* Wrong type for the code, sticky. */
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	assert_int_equal(iqp_add_u16(&m, NULL, IQP_E_CONTEXT_ID, 7), EINVAL);
	assert_int_equal(iqp_add_u32(&m, NULL, IQP_E_CONTEXT_ID, 7), EINVAL);
	assert_int_equal(iqp_msg_encode(&m, buf, sizeof(buf), &len), EINVAL);
	iqp_msg_free(&m);
	/* Unregistered code, value of the wrong size, leaf as parent,
	 * invalid UTF-8. */
	static const uint16_t bad_codes[] = { 0x1f01, 0x8101 };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
		assert_int_equal(iqp_add(&m, NULL, bad_codes[i], "\0\0\0\1", 4, NULL), EINVAL);
		iqp_msg_free(&m);
	}
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	assert_int_equal(iqp_add(&m, NULL, IQP_E_CONTEXT_ID, "\0\0\1", 3, NULL), EINVAL);
	iqp_msg_free(&m);
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	assert_int_equal(iqp_add(&m, NULL, IQP_E_CONTEXT_ID, "\0\0\0\1", 4, &e), 0);
	assert_int_equal(iqp_add_u32(&m, e, IQP_E_TERM_ID, 1), EINVAL);
	iqp_msg_free(&m);
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	assert_int_equal(iqp_add_str(&m, NULL, IQP_E_CALL_REF, "\xc0\xaf"), EINVAL);
	iqp_msg_free(&m);
	/* Depth: MAX_DEPTH containers, then no more. */
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	p = NULL;
	for (int d = 0; d < IQP_MAX_DEPTH; d++) {
		assert_int_equal(iqp_append_raw(&m, p, 0x5f00, NULL, 0, &e), 0);
		p = e;
	}
	assert_int_equal(iqp_append_raw(&m, p, 0x1f00, NULL, 0, NULL), E2BIG);
	iqp_msg_free(&m);
	/* Raw container with a value. */
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4096), 0);
	assert_int_equal(iqp_append_raw(&m, NULL, 0x5f00, "x", 1, NULL), EINVAL);
	iqp_msg_free(&m);
	/* The arena runs out: ENOMEM, never an overflow. */
	assert_int_equal(iqp_msg_init(&m, &h, arena, sizeof(arena)), 0);
	int rc = 0;
	for (int i = 0; i < 100 && !rc; i++)
		rc = iqp_add_str(&m, NULL, IQP_E_CALL_REF, "some call reference");
	assert_int_equal(rc, ENOMEM);
	assert_true(m.mem_lo <= m.mem_hi && m.mem_hi <= sizeof(arena));
	iqp_msg_free(&m);
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 0), EINVAL);
	/* MAX_ELEMENTS. */
	assert_int_equal(iqp_msg_init(&m, &h, NULL, 4097 * sizeof(struct iqp_elem) + 64), 0);
	for (int i = 0; i < IQP_MAX_ELEMENTS; i++)
		assert_int_equal(iqp_append_raw(&m, NULL, 0x1f00, NULL, 0, NULL), 0);
	assert_int_equal(iqp_append_raw(&m, NULL, 0x1f00, NULL, 0, NULL), E2BIG);
	iqp_msg_free(&m);
}

static void test_accessors(void **state)
{
	struct iqp_header h = { 1, IQP_KIND_REQUEST, 0, IQP_MSG_HEARTBEAT, 1, 0 };
	struct iqp_msg m;
	struct iqp_ipport ap;
	struct iqp_ip ip;
	uint8_t u8, buf[8];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	bool b;
	const char *s;
	const uint8_t *o;
	size_t n;
	struct iqp_elem *e[12];
	(void)state;

	assert_int_equal(iqp_msg_init(&m, &h, NULL, 8192), 0);
	iqp_append_raw(&m, NULL, 0x1f01, "\x07", 1, &e[0]);
	iqp_append_raw(&m, NULL, 0x1f02, "\x01\x02", 2, &e[1]);
	iqp_append_raw(&m, NULL, 0x1f03, "\x01\x02\x03\x04", 4, &e[2]);
	iqp_append_raw(&m, NULL, 0x1f04, "\x00\x00\x01\x9b\x76\xda\xa8\x00", 8, &e[3]);
	iqp_append_raw(&m, NULL, 0x1f05, "\x02", 1, &e[4]);
	iqp_append_raw(&m, NULL, 0x1f06, "caf\xc3\xa9", 5, &e[5]);
	iqp_append_raw(&m, NULL, 0x1f07, "\x06\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 17, &e[6]);
	iqp_append_raw(&m, NULL, 0x1f08, "\x04\xc6\x33\x64\x07\xc3\x50", 7, &e[7]);
	iqp_append_raw(&m, NULL, 0x1f09, "a\0b", 3, &e[8]);
	iqp_append_raw(&m, NULL, 0x1f09, "\xef\xbb\xbfx", 4, &e[9]);
	iqp_append_raw(&m, NULL, 0x1f0a, "\x05\x01\x02\x03\x04", 5, &e[10]);
	iqp_append_raw(&m, NULL, 0x1f01, "\x09", 1, &e[11]);
	assert_int_equal(m.err, 0);

	assert_int_equal(iqp_elem_u8(e[0], &u8), 0);
	assert_int_equal(u8, 7);
	assert_int_equal(iqp_elem_enum(e[0], &u8), 0);
	assert_int_equal(iqp_elem_u8(e[1], &u8), EBADMSG);
	assert_int_equal(iqp_elem_u16(e[1], &u16), 0);
	assert_int_equal(u16, 0x0102);
	assert_int_equal(iqp_elem_u16(e[2], &u16), EBADMSG);
	assert_int_equal(iqp_elem_u32(e[2], &u32), 0);
	assert_int_equal(u32, 0x01020304);
	assert_int_equal(iqp_elem_u32(e[3], &u32), EBADMSG);
	assert_int_equal(iqp_elem_u64(e[3], &u64), 0);
	assert_true(u64 == 1767225600000ull);
	assert_int_equal(iqp_elem_u64(e[2], &u64), EBADMSG);
	assert_int_equal(iqp_elem_bool(e[4], &b), EBADMSG); /* 2 is not a bool */
	assert_int_equal(iqp_elem_bool(e[0], &b), EBADMSG);
	assert_int_equal(iqp_elem_str(e[5], &s, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(s, "caf\xc3\xa9", 5);
	char small[5], big[6];
	assert_int_equal(iqp_elem_strcpy(e[5], small, sizeof(small)), ENOSPC);
	assert_int_equal(iqp_elem_strcpy(e[5], big, sizeof(big)), 0);
	assert_string_equal(big, "caf\xc3\xa9");
	assert_int_equal(iqp_elem_str(e[8], &s, &n), EBADMSG); /* NUL */
	assert_int_equal(iqp_elem_str(e[9], &s, &n), EBADMSG); /* BOM */
	assert_int_equal(iqp_elem_octets(e[8], &o, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(iqp_elem_ip(e[6], &ip), 0);
	assert_int_equal(ip.family, 6);
	assert_int_equal(ip.addr[15], 1);
	assert_int_equal(iqp_elem_ipport(e[6], &ap), EBADMSG);
	assert_int_equal(iqp_elem_ipport(e[7], &ap), 0);
	assert_int_equal(ap.ip.family, 4);
	assert_int_equal(ap.port, 50000);
	assert_int_equal(ap.ip.addr[0], 198);
	assert_int_equal(iqp_elem_ip(e[7], &ip), EBADMSG);
	assert_int_equal(iqp_elem_ip(e[10], &ip), EBADMSG); /* family 5 */

	/* Navigation skips what the validator set aside. */
	assert_ptr_equal(iqp_find(&m, NULL, 0x1f01), e[0]);
	assert_ptr_equal(iqp_next_same(e[0]), e[11]);
	assert_int_equal(iqp_count(&m, NULL, 0x1f01), 2);
	e[0]->flags |= IQP_EF_SKIP;
	assert_ptr_equal(iqp_find(&m, NULL, 0x1f01), e[11]);
	assert_int_equal(iqp_count(&m, NULL, 0x1f01), 1);
	assert_null(iqp_next_same(e[11]));
	assert_int_equal(iqp_elem_code(e[6]), 0x1f07);
	(void)buf;
	iqp_msg_free(&m);

	/* UTF-8 (RFC 3629) at the edges. */
	assert_true(iqp_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));
	assert_false(iqp_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
	assert_false(iqp_utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));
	assert_false(iqp_utf8_valid((const uint8_t *)"\xf0\x80\x80\xaf", 4));
	assert_true(iqp_utf8_valid((const uint8_t *)"\xed\x9f\xbf", 3));
	assert_false(iqp_utf8_valid((const uint8_t *)"\xed\xbf\xbf", 3));
	assert_false(iqp_utf8_valid((const uint8_t *)"\x80", 1));
	assert_false(iqp_utf8_valid((const uint8_t *)"\xc3", 1));
}

static void test_parse_arena(void **state)
{
	uint8_t f[300], small[64];
	size_t n = unhex(a1_hex, f, sizeof(f));
	struct iqp_header h;
	struct iqp_msg m;
	struct iqp_error err;
	(void)state;

	iqp_header_decode(f, &h);
	assert_int_equal(iqp_msg_parse(&m, &h, f + 16, small, sizeof(small), &err), ENOBUFS);
	iqp_msg_free(&m);
	size_t need = iqp_msg_parse_need(26);
	uint8_t *arena = malloc(need + 1);
	assert_non_null(arena);
	/* One node per element, from a caller arena of any alignment. */
	assert_int_equal(iqp_msg_parse(&m, &h, f + 16, arena + 1, need - 1, &err), ENOBUFS);
	assert_int_equal(iqp_msg_parse(&m, &h, f + 16, arena + 1, need, &err), 0);
	assert_int_equal((uintptr_t)m.first % _Alignof(struct iqp_elem), 0);
	assert_int_equal(m.n_elems, 26);
	assert_false(m.mem_owned);
	assert_int_equal(iqp_msg_validate(&m, IQP_ROLE_AGW, 0, &err), 0);
	uint32_t hb;
	const struct iqp_elem *lp = iqp_find(&m, NULL, IQP_E_LINK_PARAMS);
	assert_non_null(lp);
	assert_int_equal(iqp_elem_u32(iqp_find(&m, lp, IQP_E_HB_INTERVAL), &hb), 0);
	assert_int_equal(hb, 5000);
	iqp_msg_free(&m);
	free(arena);
	/* An empty body needs no memory. */
	h.body_len = 0;
	assert_int_equal(iqp_msg_parse(&m, &h, NULL, NULL, 0, &err), 0);
	assert_null(m.mem);
	h.body_len = 1;
	assert_int_equal(iqp_msg_parse(&m, &h, NULL, NULL, 0, &err), EINVAL);
	(void)n;
}

/* Reverses every sibling list of a tree. */
static void reverse(struct iqp_elem **first, struct iqp_elem **last)
{
	struct iqp_elem *prev = NULL, *e = *first;

	*last = e;
	while (e) {
		struct iqp_elem *next = e->next;
		e->next = prev;
		if (e->type & IQP_TYPE_C)
			reverse(&e->child, &e->last);
		prev = e;
		e = next;
	}
	*first = prev;
}

static void test_validate(void **state)
{
	uint8_t f[300];
	size_t n = unhex(a1_hex, f, sizeof(f));
	struct iqp_msg m;
	struct iqp_error err;
	(void)state;

	/* 4.7 item 1: elements are accepted in any order (the reversal also
	 * reverses same-code lists, which changes preference, not validity). */
	parse_frame(&m, f, n);
	reverse(&m.first, &m.last);
	assert_false(iqp_msg_is_canonical(&m));
	assert_int_equal(iqp_msg_validate(&m, IQP_ROLE_AGW, 0, &err), 0);
	/* Validation is repeatable, and depends on the sender's role. */
	assert_int_equal(iqp_msg_validate(&m, IQP_ROLE_AGW, 0, &err), 0);
	assert_int_equal(iqp_msg_validate(&m, 3, 0, &err), EINVAL);
	iqp_msg_free(&m);
	/* Unknown and misplaced M-clear elements are marked and skipped. */
	struct iqp_header rh = { 1, IQP_KIND_REQUEST, 0, IQP_MSG_RELEASE, 3, 0 };
	struct iqp_msg b;
	struct iqp_elem *ctx, *unk, *cref;
	uint8_t buf[100];
	size_t len;
	assert_int_equal(iqp_msg_init(&b, &rh, NULL, 2048), 0);
	iqp_add_container(&b, NULL, IQP_E_CONTEXT, &ctx);
	iqp_add_u32(&b, ctx, IQP_E_CONTEXT_ID, 7);
	iqp_append_raw(&b, ctx, 0x2001, "x", 1, &unk);
	iqp_add_str(&b, ctx, IQP_E_CALL_REF, "not in RELEASE");
	assert_int_equal(iqp_msg_encode(&b, buf, sizeof(buf), &len), 0);
	parse_frame(&m, buf, len);
	assert_int_equal(iqp_msg_validate(&m, IQP_ROLE_CONTROLLER, 0, &err), 0);
	ctx = (struct iqp_elem *)iqp_find(&m, NULL, IQP_E_CONTEXT);
	/* Canonical insertion put CALL_REF (0x0009) first. */
	cref = ctx->child;
	unk = cref->next->next;
	assert_int_equal(cref->type, 0x0009);
	assert_int_equal(unk->type, 0x2001);
	assert_true(unk->flags & IQP_EF_SKIP);
	assert_true(cref->flags & IQP_EF_SKIP);
	assert_false(cref->next->flags & IQP_EF_SKIP);
	assert_null(iqp_find(&m, ctx, IQP_E_CALL_REF));
	/* From the AGW, RELEASE is refused before the body (3.5 check 9). */
	iqp_msg_free(&m);
	struct iqp_header dh;
	iqp_header_decode(buf, &dh);
	assert_int_equal(iqp_msg_decode(&m, &dh, buf + 16, IQP_ROLE_AGW, 0, NULL, 0, &err),
			 EPROTO);
	assert_int_equal(err.code, 402);
	iqp_msg_free(&m);
	iqp_msg_free(&b);

	/* A REPLY whose code is no request code: no schema, CLOSE 401. */
	f[3] = IQP_KIND_REPLY;
	f[7] = 0x77;
	parse_frame(&m, f, n);
	assert_int_equal(iqp_msg_validate(&m, IQP_ROLE_AGW, 0, &err), EPROTO);
	assert_int_equal(err.code, 401);
	assert_int_equal(err.action, IQP_ACT_CLOSE);
	iqp_msg_free(&m);
}

static void test_json(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"header\": {\"version\": 1, \"kind\": \"REQUEST\", \"flags\": 0, \"code\": "
		"\"RESERVE\", \"txid\": 1}}",
		"{\"header\": {\"version\": 1, \"kind\": \"NOPE\", \"flags\": 0, \"code\": 1, "
		"\"txid\": 1}, \"body\": []}",
		"{\"header\": {\"version\": 1, \"kind\": 1, \"flags\": 0, \"code\": \"X\", "
		"\"txid\": 1}, \"body\": []}",
		"{\"header\": {\"version\": 256, \"kind\": 1, \"flags\": 0, \"code\": 1, "
		"\"txid\": 1}, \"body\": []}",
		"{\"header\": {\"version\": 1, \"kind\": 1, \"flags\": 0, \"code\": 1, "
		"\"txid\": 4294967296}, \"body\": []}",
	};
	static const char *const bad_body[] = {
		"[{\"NO_SUCH\": 1}]",
		"[{\"CONTEXT_ID\": 1, \"TERM_ID\": 2}]",
		"[{\"CONTEXT_ID\": -1}]",
		"[{\"CONTEXT_ID\": 4294967296}]",
		"[{\"CONTEXT_ID\": \"7\"}]",
		"[{\"PRIORITY\": 256}]",
		"[{\"EMERGENCY\": 1}]",
		"[{\"TERM_KIND\": \"W4\"}]",
		"[{\"TERM_KIND\": 256}]",
		"[{\"CALL_REF\": 5}]",
		"[{\"FP_VALUE\": \"abc\"}]",
		"[{\"FP_VALUE\": \"zz\"}]",
		"[{\"REALM_ADDR\": \"1.2.3\"}]",
		"[{\"CAND_ADDR\": \"1.2.3.4\"}]",
		"[{\"CAND_ADDR\": \"1.2.3.4:65536\"}]",
		"[{\"CAND_ADDR\": \"[1.2.3.4]:5\"}]",
		"[{\"CAND_ADDR\": \"2001:db8::1:5\"}]",
		"[{\"EPOCH\": \"-1\"}]",
		"[{\"EPOCH\": \"18446744073709551616\"}]",
		"[{\"CONTEXT\": 1}]",
		"[{\"CONTEXT\": [{\"CONTEXT_ID\": 1}, 2]}]",
		"[{\"type\": \"0x8101\"}]",
		"[{\"type\": \"8101\", \"hex\": \"00\"}]",
		"[{\"type\": \"0x18101\", \"hex\": \"00\"}]",
		"[{\"type\": \"0xc101\", \"hex\": \"00\"}]",
		"[{\"type\": \"0x8101\", \"hex\": \"0\"}]",
		"[{\"type\": \"0x8101\", \"elements\": []}]",
		"[{\"type\": \"0x5f00\", \"elements\": [{\"type\": \"0x5f00\", \"elements\": "
		"[{\"type\": \"0x5f00\", \"elements\": [{\"type\": \"0x5f00\", \"elements\": "
		"[{\"type\": \"0x5f00\", \"elements\": [{\"type\": \"0x5f00\", \"elements\": "
		"[{\"type\": \"0x5f00\", \"elements\": [{\"type\": \"0x5f00\", \"elements\": "
		"[{\"type\": \"0x1f00\", \"hex\": \"\"}]}]}]}]}]}]}]}]}]",
	};
	char why[200], text[2048];
	struct iqp_msg m;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		assert_int_equal(iqp_json_to_msg(j, &m, why, sizeof(why)), EINVAL);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(bad_body) / sizeof(bad_body[0]); i++) {
		snprintf(text, sizeof(text), "{\"header\": {\"version\": 1, \"kind\": "
			 "\"REQUEST\", \"flags\": 0, \"code\": \"RELEASE\", \"txid\": 1}, "
			 "\"body\": %s}", bad_body[i]);
		json_t *j = json_loads(text, 0, NULL);
		assert_non_null(j);
		if (iqp_json_to_msg(j, &m, why, sizeof(why)) != EINVAL)
			fail_msg("accepted: %s", bad_body[i]);
		json_decref(j);
	}
	/* u64 beyond 2^63-1 as a decimal string, undefined enum values as
	 * numbers; both ways. */
	const char *ok = "{\"header\": {\"version\": 1, \"kind\": \"NOTIFY\", \"flags\": 1, "
			 "\"code\": \"EVENT\", \"txid\": 4294967295}, \"body\": "
			 "[{\"EVENT\": [{\"TIMESTAMP\": \"18446744073709551615\"}, "
			 "{\"MEDIA_DIRECTION\": 9}, {\"SELECTED_LOCAL\": \"[2001:db8::1]:0\"}]}]}";
	json_t *j = json_loads(ok, 0, NULL), *back;
	uint8_t out[200];
	size_t len;
	assert_int_equal(iqp_json_to_msg(j, &m, why, sizeof(why)), 0);
	assert_int_equal(iqp_msg_encode(&m, out, sizeof(out), &len), 0);
	assert_int_equal(len, 16 + 6 + 14 + 7 + 25);
	assert_int_equal(iqp_json_from_msg(&m, &back), 0);
	assert_true(json_equal(j, back));
	json_decref(back);
	json_decref(j);
	iqp_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_a1),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_parse_arena),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
