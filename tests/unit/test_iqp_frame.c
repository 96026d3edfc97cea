/* Iq+ registry and schema consistency, frame header checks and the stream
 * framer (SPEC.md 3, 11, 12). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iqp_frame.h"
#include "iqp_schema.h"

static void test_registry(void **state)
{
	size_t n, reserved = 0, nmsg;
	const struct iqp_elem_def *d = iqp_elem_defs(&n);
	const struct iqp_msg_def *msgs = iqp_msg_defs(&nmsg);
	(void)state;

	/* 12: 146 elements of 1.0 and 27 reserved, sorted, unique. */
	assert_int_equal(n, 174);
	for (size_t i = 0; i < n; i++) {
		reserved += !!(d[i].flags & IQP_DF_RESERVED);
		assert_true(d[i].code > 0 && d[i].code <= IQP_TYPE_CODE);
		if (i)
			assert_true(d[i - 1].code < d[i].code);
		assert_ptr_equal(iqp_elem_def_find(d[i].code), &d[i]);
		assert_ptr_equal(iqp_elem_def_find(iqp_elem_def_type(&d[i])), &d[i]);
		assert_ptr_equal(iqp_elem_def_by_name(d[i].name), &d[i]);
		assert_true((d[i].vtype == IQP_VT_ENUM) == (d[i].enum_id != IQP_EN_NONE));
		assert_true(d[i].vtype >= IQP_VT_U8 && d[i].vtype <= IQP_VT_CONTAINER);
		assert_true(d[i].lo <= d[i].hi);
		if (d[i].flags & IQP_DF_RESERVED)
			assert_int_equal(d[i].m, 1); /* 12.2 */
		/* Every element has a place: the top level or a parent container. */
		assert_true((d[i].flags & IQP_DF_TOP) || d[i].parents[0].code);
		for (size_t k = 0; k < IQP_MAX_PARENTS && d[i].parents[k].code; k++) {
			const struct iqp_elem_def *p = iqp_elem_def_find(d[i].parents[k].code);
			assert_non_null(p);
			assert_int_equal(p->vtype, IQP_VT_CONTAINER);
			assert_true(d[i].parents[k].min <= d[i].parents[k].max);
			assert_true(d[i].parents[k].max >= 1);
		}
	}
	assert_int_equal(reserved, 27);
	assert_int_equal(iqp_elem_def_type(iqp_elem_def_find(IQP_E_CONTEXT)), 0xc100);
	assert_int_equal(iqp_elem_def_type(iqp_elem_def_find(IQP_E_ERROR_TEXT)), 0x0003);
	assert_int_equal(iqp_elem_def_type(iqp_elem_def_find(IQP_E_CAP_CODEC)), 0x4098);
	assert_null(iqp_elem_def_find(0x1f01));
	assert_null(iqp_elem_def_by_name("NO_SUCH"));

	/* 11.1 */
	assert_int_equal(nmsg, 11);
	for (size_t i = 0; i < nmsg; i++) {
		assert_ptr_equal(iqp_msg_def_find(msgs[i].code), &msgs[i]);
		assert_ptr_equal(iqp_msg_def_by_name(msgs[i].name), &msgs[i]);
	}
	assert_int_equal(iqp_msg_def_find(IQP_MSG_EVENT)->kind, IQP_KIND_NOTIFY);
	assert_null(iqp_msg_def_find(0x0006));

	/* 13 and 10.3 */
	assert_string_equal(iqp_enum_name(IQP_EN_TRANSPORT_PROTO, 6), "UDP/TLS/RTP/SAVPF");
	assert_int_equal(iqp_enum_value(IQP_EN_FP_HASH, "SHA-256"), 3);
	assert_null(iqp_enum_name(IQP_EN_TERM_KIND, 0));
	assert_null(iqp_enum_name(IQP_EN_ADDR_FAMILY, 5));
	assert_int_equal(iqp_enum_value(IQP_EN_ADDR_FAMILY, "IPV6"), 6);
	assert_int_equal(iqp_err_default_scope(505), IQP_RETRY_SAME);
	assert_int_equal(iqp_err_default_scope(1307), IQP_RETRY_OTHER);
	assert_int_equal(iqp_err_default_scope(599), IQP_RETRY_OTHER); /* unknown 5xx */
	assert_int_equal(iqp_err_default_scope(498), IQP_RETRY_NEVER);
	assert_int_equal(iqp_err_default_scope(1100), IQP_RETRY_NEVER);
	assert_string_equal(iqp_err_def_find(449)->name,
			    "Unsupported or Unknown Parameter or Property Value");
	assert_string_equal(iqp_kind_name(IQP_KIND_PENDING), "PENDING");
	assert_null(iqp_kind_name(7));
	assert_int_equal(iqp_kind_by_name("ACK"), IQP_KIND_ACK);
	assert_int_equal(iqp_action_by_name("incomplete"), -1);
	assert_int_equal(iqp_action_by_name(iqp_action_name(IQP_ACT_LOCAL)), IQP_ACT_LOCAL);
}

/* Every rule of every node names a registered element placed (in the
 * registry) where the node puts it, with a cardinality within the
 * registry's; and every node fits IQP_SCHEMA_MAX_RULES. */
static void check_node(unsigned node, uint16_t pcode)
{
	struct iqp_rule r[IQP_SCHEMA_MAX_RULES + 8];
	size_t n = iqp_schema_rules(node, pcode, r, IQP_SCHEMA_MAX_RULES + 8);

	assert_true(n <= IQP_SCHEMA_MAX_RULES);
	for (size_t i = 0; i < n; i++) {
		const struct iqp_elem_def *d = iqp_elem_def_find(r[i].code);
		struct iqp_rule one;
		assert_non_null(d);
		if (i)
			assert_true(r[i - 1].code < r[i].code);
		assert_true(r[i].min <= r[i].max && r[i].max > 0);
		assert_true(r[i].min <= 1);
		assert_true(iqp_schema_rule(node, pcode, r[i].code, &one));
		assert_memory_equal(&one, &r[i], sizeof(one));
		if (pcode == 0) {
			assert_true(d->flags & IQP_DF_TOP);
		} else {
			bool placed = false;
			for (size_t k = 0; k < IQP_MAX_PARENTS; k++)
				if (d->parents[k].code == pcode) {
					placed = true;
					assert_true(r[i].max <= d->parents[k].max);
				}
			assert_true(placed);
		}
		if (d->vtype == IQP_VT_CONTAINER)
			check_node(r[i].node, d->code);
		else
			assert_int_equal(r[i].node, IQP_N_REGISTRY);
	}
}

static void test_schema(void **state)
{
	struct iqp_header h = { 1, 0, 0, 0, 1, 0 };
	unsigned node;
	(void)state;

	for (unsigned k = IQP_KIND_REQUEST; k <= IQP_KIND_CLOSE; k++)
		for (unsigned e = 0; e < 2; e++)
			for (unsigned role = 1; role <= 2; role++) {
				size_t nm;
				const struct iqp_msg_def *m = iqp_msg_defs(&nm);
				for (size_t i = 0; i < nm; i++) {
					h.kind = (uint8_t)k;
					h.code = m[i].code;
					h.flags = e ? IQP_FLAG_E : 0;
					if (!iqp_schema_form(&h, role, &node))
						check_node(node, 0);
				}
			}
	/* 8.7 covers every registry child of its five parents: each is
	 * permitted in at least one column. */
	static const uint16_t parents[] = { IQP_E_CONTEXT, IQP_E_TERMINATION,
					    IQP_E_STREAM, IQP_E_ICE, IQP_E_DTLS };
	size_t n;
	const struct iqp_elem_def *d = iqp_elem_defs(&n);
	for (size_t p = 0; p < 5; p++)
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < IQP_MAX_PARENTS; k++) {
				if (d[i].parents[k].code != parents[p])
					continue;
				struct iqp_rule r;
				bool somewhere = false;
				for (unsigned c = IQP_N_COL_RV; c <= IQP_N_COL_AU; c++)
					somewhere |= iqp_schema_rule(c, parents[p], d[i].code, &r);
				if (!somewhere)
					fail_msg("%s under %s is in no 8.7 column", d[i].name,
						 iqp_elem_def_find(parents[p])->name);
			}
	/* Forms. */
	h.kind = IQP_KIND_REPLY;
	h.code = 0x0777;
	h.flags = 0;
	assert_int_equal(iqp_schema_form(&h, IQP_ROLE_AGW, &node), ENOENT);
	h.code = IQP_MSG_EVENT;
	h.flags = IQP_FLAG_E;
	assert_int_equal(iqp_schema_form(&h, IQP_ROLE_AGW, &node), ENOENT);
	h.code = IQP_MSG_REGISTER;
	assert_int_equal(iqp_schema_form(&h, IQP_ROLE_CONTROLLER, &node), 0);
	assert_int_equal(node, IQP_N_REGISTER_ERR);
	h.kind = IQP_KIND_REQUEST;
	h.code = IQP_MSG_HEARTBEAT;
	assert_int_equal(iqp_schema_form(&h, IQP_ROLE_CONTROLLER, &node), 0);
	assert_int_equal(node, IQP_N_EMPTY);
	assert_string_equal(iqp_schema_node_name(IQP_N_COL_AU), "AUDIT reply (8.7 Au)");
	/* Rules: W3 and IMS restrictions for pass 4; columns. */
	struct iqp_rule r;
	assert_true(iqp_schema_rule(IQP_N_COL_RV, IQP_E_TERMINATION, IQP_E_ICE, &r));
	assert_true(r.flags & IQP_RF_W3);
	assert_true(r.flags & IQP_RF_REQ_IF);
	assert_int_equal(r.cond, IQP_C_TERM_W3);
	assert_int_equal(r.node, IQP_N_COL_RV);
	assert_true(iqp_schema_rule(IQP_N_COL_MD, IQP_E_STREAM, IQP_E_LOCAL_ADDR, &r));
	assert_true(r.flags & IQP_RF_IMS);
	assert_int_equal(r.min, 0);
	assert_false(iqp_schema_rule(IQP_N_COL_CF, IQP_E_TERMINATION, IQP_E_TERM_KIND, &r));
	assert_false(iqp_schema_rule(IQP_N_COL_AU, IQP_E_ICE, IQP_E_ICE_REMOTE_PWD, &r));
	assert_true(iqp_schema_rule(IQP_N_COL_AU, IQP_E_TERMINATION, IQP_E_TERM_STATE, &r));
	assert_int_equal(r.min, 0); /* union of the AUDIT scopes */
	assert_true(iqp_schema_rule(IQP_N_COL_AU, IQP_E_TERMINATION, IQP_E_TERM_ID, &r));
	assert_int_equal(r.min, 1);
	assert_true(iqp_schema_rule(IQP_N_REGISTRY, IQP_E_REMOTE_CANDIDATE,
				    IQP_E_CAND_TCPTYPE, &r));
	assert_int_equal(r.cond, IQP_C_CAND_TCP);
	assert_false(iqp_schema_rule(IQP_N_COUNT, 0, IQP_E_ERROR, &r));
}

static void test_header(void **state)
{
	struct iqp_header h = { 1, IQP_KIND_REPLY, IQP_FLAG_E, IQP_MSG_RESERVE, 42, 70 }, g;
	uint8_t b[IQP_HEADER_LEN];
	static const uint8_t a4[] = { 0x49, 0x51, 0x01, 0x02, 0x00, 0x02, 0x01, 0x01,
				      0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x46 };
	struct iqp_error err;
	(void)state;

	iqp_header_encode(&h, b);
	assert_memory_equal(b, a4, sizeof(a4));
	iqp_header_decode(b, &g);
	assert_memory_equal(&g, &h, sizeof(h));

	/* 3.5 checks 6 to 9. */
	static const struct {
		uint8_t kind;
		uint16_t code;
		unsigned sender, want, action;
	} cases[] = {
		{ IQP_KIND_REQUEST, IQP_MSG_RESERVE, IQP_ROLE_CONTROLLER, 0, 0 },
		{ IQP_KIND_REQUEST, 0x0006, IQP_ROLE_CONTROLLER, 443, IQP_ACT_REPLY },
		{ IQP_KIND_NOTIFY, 0x7fff, IQP_ROLE_AGW, 443, IQP_ACT_ACK },
		{ IQP_KIND_NOTIFY, IQP_MSG_AUDIT, IQP_ROLE_AGW, 401, IQP_ACT_ACK },
		{ IQP_KIND_REQUEST, IQP_MSG_NODE_STATUS, IQP_ROLE_AGW, 401, IQP_ACT_REPLY },
		{ IQP_KIND_REQUEST, IQP_MSG_CLOSE, IQP_ROLE_AGW, 401, IQP_ACT_REPLY },
		{ IQP_KIND_REQUEST, IQP_MSG_AUDIT, IQP_ROLE_AGW, 402, IQP_ACT_REPLY },
		{ IQP_KIND_REQUEST, IQP_MSG_HEARTBEAT, IQP_ROLE_AGW, 0, 0 },
		{ IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, IQP_ROLE_CONTROLLER, 0, 0 },
		{ IQP_KIND_NOTIFY, IQP_MSG_NODE_STATUS, IQP_ROLE_CONTROLLER, 402, IQP_ACT_ACK },
		{ IQP_KIND_REPLY, 0x0777, IQP_ROLE_AGW, 0, 0 },
		{ IQP_KIND_REPLY, IQP_MSG_NODE_STATUS, IQP_ROLE_AGW, 401, IQP_ACT_CLOSE },
		{ IQP_KIND_PENDING, IQP_MSG_CLOSE, IQP_ROLE_AGW, 401, IQP_ACT_CLOSE },
		{ IQP_KIND_ACK, IQP_MSG_EVENT, IQP_ROLE_CONTROLLER, 0, 0 },
		{ IQP_KIND_ACK, IQP_MSG_MODIFY, IQP_ROLE_CONTROLLER, 401, IQP_ACT_CLOSE },
		{ IQP_KIND_CLOSE, IQP_MSG_RESERVE, IQP_ROLE_CONTROLLER, 0, 0 },
		{ 9, IQP_MSG_RESERVE, IQP_ROLE_CONTROLLER, 1102, IQP_ACT_CLOSE },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h.kind = cases[i].kind;
		h.code = cases[i].code;
		int rc = iqp_header_check_code(&h, cases[i].sender, &err);
		if (!cases[i].want) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, EPROTO);
		assert_int_equal(err.code, cases[i].want);
		assert_int_equal(err.action, cases[i].action);
	}
	assert_int_equal(iqp_header_check_code(&h, 0, &err), EINVAL);
}

/* Feeds a whole buffer; returns the framer's result, frames counted. */
static int feed_all(struct iqp_framer *f, const uint8_t *p, size_t n,
		    size_t *frames)
{
	*frames = 0;
	while (n) {
		struct iqp_frame fr;
		size_t used;
		int rc = iqp_framer_feed(f, p, n, &used, &fr);
		if (rc)
			return rc;
		p += used;
		n -= used;
		*frames += fr.ready;
	}
	return 0;
}

static uint8_t *frame_of(size_t body_len, uint8_t version)
{
	struct iqp_header h = { version, IQP_KIND_REQUEST, 0, IQP_MSG_HEARTBEAT, 9,
				(uint32_t)body_len };
	uint8_t *b = calloc(1, IQP_HEADER_LEN + body_len);
	assert_non_null(b);
	iqp_header_encode(&h, b);
	for (size_t i = 0; i < body_len; i++)
		b[IQP_HEADER_LEN + i] = (uint8_t)i;
	return b;
}

static void test_framer_limits(void **state)
{
	struct iqp_framer f;
	size_t frames;
	uint8_t *max = frame_of(IQP_MAX_FRAME_MIN - IQP_HEADER_LEN, 1);
	uint8_t *over = frame_of(IQP_MAX_FRAME_MIN - IQP_HEADER_LEN + 1, 1);
	(void)state;

	/* 3.4: exactly MAX_FRAME is accepted, one byte more is refused
	 * before any body byte is read. */
	iqp_framer_init(&f);
	assert_int_equal(feed_all(&f, max, IQP_MAX_FRAME_MIN, &frames), 0);
	assert_int_equal(frames, 1);
	assert_int_equal(feed_all(&f, over, IQP_HEADER_LEN, &frames), EPROTO);
	assert_int_equal(f.err.code, IQP_ERR_FRAME_TOO_LARGE);
	assert_int_equal(f.err.action, IQP_ACT_CLOSE);
	assert_false(iqp_framer_partial(&f));
	/* A failed framer refuses everything, consuming nothing. */
	assert_int_equal(feed_all(&f, max, IQP_MAX_FRAME_MIN, &frames), EPROTO);
	iqp_framer_free(&f);

	/* After REGISTER, a larger MAX_FRAME; invalid values refused. */
	iqp_framer_init(&f);
	assert_int_equal(iqp_framer_set_max_frame(&f, IQP_MAX_FRAME_MIN - 1), EINVAL);
	assert_int_equal(iqp_framer_set_max_frame(&f, IQP_MAX_FRAME_MAX + 1), EINVAL);
	assert_int_equal(iqp_framer_set_max_frame(&f, IQP_MAX_FRAME_MAX), 0);
	assert_int_equal(feed_all(&f, over, IQP_MAX_FRAME_MIN + 1, &frames), 0);
	assert_int_equal(frames, 1);
	assert_true(f.buf_cap <= IQP_MAX_FRAME_MAX - IQP_HEADER_LEN);
	/* Lowering it again drops a buffer bigger than the new maximum. */
	assert_int_equal(iqp_framer_set_max_frame(&f, IQP_MAX_FRAME_MIN), 0);
	assert_true(f.buf_cap <= IQP_MAX_FRAME_MIN - IQP_HEADER_LEN);
	iqp_framer_free(&f);
	free(max);
	free(over);
}

static void test_framer_versions(void **state)
{
	struct iqp_framer f;
	size_t frames;
	uint8_t *v2 = frame_of(0, 2), *v1 = frame_of(0, 1);
	(void)state;

	iqp_framer_init(&f);
	assert_int_equal(feed_all(&f, v2, IQP_HEADER_LEN, &frames), EPROTO);
	assert_int_equal(f.err.code, IQP_ERR_VERSION);
	iqp_framer_free(&f);

	iqp_framer_init(&f);
	iqp_framer_allow_major(&f, 2, true);
	assert_int_equal(feed_all(&f, v2, IQP_HEADER_LEN, &frames), 0);
	assert_int_equal(feed_all(&f, v1, IQP_HEADER_LEN, &frames), 0);
	/* 5.2 item 2: after negotiation only the selected major. */
	iqp_framer_lock_major(&f, 2);
	assert_int_equal(feed_all(&f, v2, IQP_HEADER_LEN, &frames), 0);
	/* Refused at the third byte, before the rest of the header. */
	struct iqp_frame fr;
	size_t used;
	assert_int_equal(iqp_framer_feed(&f, v1, 3, &used, &fr), EPROTO);
	assert_int_equal(used, 3);
	assert_int_equal(f.err.code, IQP_ERR_VERSION);
	iqp_framer_free(&f);
	free(v1);
	free(v2);
}

static void test_framer_stream(void **state)
{
	struct iqp_framer f;
	struct iqp_frame fr;
	size_t used;
	uint8_t *a = frame_of(5, 1), *b = frame_of(0, 1), *c = frame_of(300, 1);
	uint8_t s[16 + 5 + 16 + 16 + 300];
	(void)state;

	memcpy(s, a, 21);
	memcpy(s + 21, b, 16);
	memcpy(s + 37, c, 316);
	iqp_framer_init(&f);
	assert_false(iqp_framer_partial(&f));
	/* Three frames in one read come out one per call, without copy. */
	assert_int_equal(iqp_framer_feed(&f, s, sizeof(s), &used, &fr), 0);
	assert_true(fr.ready);
	assert_int_equal(used, 21);
	assert_ptr_equal(fr.body, s + 16);
	assert_int_equal(iqp_framer_feed(&f, s + 21, sizeof(s) - 21, &used, &fr), 0);
	assert_true(fr.ready && fr.hdr.body_len == 0 && !fr.body);
	assert_int_equal(used, 16);
	/* The third split: partial, then complete from the framer's buffer. */
	assert_int_equal(iqp_framer_feed(&f, s + 37, 100, &used, &fr), 0);
	assert_false(fr.ready);
	assert_int_equal(used, 100);
	assert_true(iqp_framer_partial(&f));
	assert_int_equal(iqp_framer_feed(&f, s + 137, sizeof(s) - 137, &used, &fr), 0);
	assert_true(fr.ready);
	assert_ptr_equal(fr.body, f.buf);
	assert_memory_equal(fr.body, c + 16, 300);
	assert_int_equal(iqp_framer_frames(&f), 3);
	assert_false(iqp_framer_partial(&f));
	/* Bad magic is refused at the first byte that shows it. */
	assert_int_equal(iqp_framer_feed(&f, (const uint8_t *)"IX", 2, &used, &fr), EPROTO);
	assert_int_equal(f.err.code, IQP_ERR_BAD_MAGIC);
	assert_int_equal(used, 2);
	iqp_framer_free(&f);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_framer_limits),
		cmocka_unit_test(test_framer_versions),
		cmocka_unit_test(test_framer_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
