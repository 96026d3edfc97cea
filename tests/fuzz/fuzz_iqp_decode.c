/* libFuzzer: Iq+ body decoding.  Input: one selector byte (bit 0: sender
 * role, bit 1: reserved elements implemented, bit 2: caller arena), then a
 * 16-byte header whose body length is replaced by the size of the rest.
 *
 * Oracles: errors are the codes SPEC.md 3.5 and 4.4 allow, with offsets
 * inside the body; a parsed body re-encodes to the same bytes, also through
 * its JSON form; accepted elements have valid values; the error REPLY or
 * ACK built for a refused frame passes the validator. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iqp_build.h"
#include "iqp_json.h"
#include "iqp_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_bytes(const struct iqp_msg *m, const struct iqp_header *h,
		       const uint8_t *body)
{
	size_t total = IQP_HEADER_LEN + h->body_len, len;
	uint8_t *out = malloc(total), hdr[IQP_HEADER_LEN];

	if (!out)
		abort();
	if (iqp_msg_encode(m, out, total, &len) || len != total)
		abort();
	iqp_header_encode(h, hdr);
	if (memcmp(out, hdr, IQP_HEADER_LEN) ||
	    memcmp(out + IQP_HEADER_LEN, body, h->body_len))
		abort();
	free(out);
}

static void json_round_trip(const struct iqp_msg *m, const struct iqp_header *h,
			    const uint8_t *body)
{
	json_t *j, *again;
	struct iqp_msg b;
	char why[200];

	if (iqp_json_from_msg(m, &j))
		abort();
	char *text = json_dumps(j, JSON_COMPACT);
	if (!text)
		abort();
	again = json_loads(text, 0, NULL);
	if (!again || !json_equal(j, again))
		abort();
	if (iqp_json_to_msg(again, &b, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		abort();
	}
	same_bytes(&b, h, body);
	iqp_msg_free(&b);
	free(text);
	json_decref(again);
	json_decref(j);
}

static void check_values(const struct iqp_elem *e)
{
	for (; e; e = e->next) {
		if (e->flags & IQP_EF_SKIP)
			continue;
		/* Accepted: registered, with the registered C bit (M may differ). */
		if (!e->def || (e->type | IQP_TYPE_M) !=
				       (iqp_elem_def_type(e->def) | IQP_TYPE_M))
			abort();
		if (e->def->vtype == IQP_VT_CONTAINER) {
			check_values(e->child);
			continue;
		}
		if (iqp_value_check(e->def->vtype, e->value, e->len))
			abort();
		if (e->def->vtype == IQP_VT_STRING) {
			const char *s;
			size_t n;
			if (iqp_elem_str(e, &s, &n) || n < e->def->lo || n > e->def->hi)
				abort();
		}
	}
}

/* The answer a receiver sends for a refused frame must itself be valid. */
static void check_answer(const struct iqp_header *h, unsigned sender,
			 const struct iqp_error *err)
{
	struct iqp_header ah = *h;
	struct iqp_msg a, d;
	struct iqp_error e2;
	uint8_t buf[512];
	size_t len;

	if (err->action == IQP_ACT_REPLY) {
		ah.kind = IQP_KIND_REPLY;
		ah.flags = IQP_FLAG_E;
	} else if (err->action == IQP_ACT_ACK) {
		ah.kind = IQP_KIND_ACK;
		ah.flags = 0;
	} else {
		return;
	}
	/* Answers to unknown or mis-kinded codes (443, 401) carry a code the
	 * sender chose, which their receiver refuses by 3.5 itself. */
	const struct iqp_msg_def *md = iqp_msg_def_find(h->code);
	if (!md || md->kind != h->kind)
		return;
	if (iqp_msg_init(&a, &ah, NULL, 4096) || iqp_add_error(&a, err) ||
	    iqp_msg_encode(&a, buf, sizeof(buf), &len))
		abort();
	iqp_header_decode(buf, &ah);
	unsigned peer = sender == IQP_ROLE_AGW ? IQP_ROLE_CONTROLLER : IQP_ROLE_AGW;
	if (iqp_msg_decode(&d, &ah, buf + IQP_HEADER_LEN, peer, 0, NULL, 0, &e2)) {
		fprintf(stderr, "answer refused: %u %s\n", e2.code, e2.text);
		abort();
	}
	iqp_msg_free(&d);
	iqp_msg_free(&a);
}

static bool allowed(unsigned code)
{
	static const unsigned ok[] = { 401, 402, 434, 443, 446, 447, 448, 449, 455,
				       456, 472, 1001, 1002, 1003, 1004, 1005, 1102 };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == code)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iqp_header h;
	struct iqp_error err;
	struct iqp_msg m;
	void *arena = NULL;
	size_t arena_len = 0;
	int rc;

	if (size < 1 + IQP_HEADER_LEN || size - 1 - IQP_HEADER_LEN > UINT32_MAX)
		return 0;
	unsigned sender = data[0] & 1 ? IQP_ROLE_AGW : IQP_ROLE_CONTROLLER;
	unsigned opts = data[0] & 2 ? IQP_V_RESERVED : 0;
	iqp_header_decode(data + 1, &h);
	h.body_len = (uint32_t)(size - 1 - IQP_HEADER_LEN);
	const uint8_t *body = data + 1 + IQP_HEADER_LEN;
	if (data[0] & 4) {
		arena_len = iqp_msg_parse_need(h.body_len / IQP_ELEM_HDR_LEN);
		arena = malloc(arena_len);
		if (!arena)
			return 0;
	}

	rc = iqp_msg_parse(&m, &h, body, arena, arena_len, &err);
	if (rc) {
		if (rc != EBADMSG || err.code < 1001 || err.code > 1003 ||
		    !err.has_offset || err.offset >= h.body_len)
			abort();
		free(arena);
		return 0;
	}
	same_bytes(&m, &h, body);
	json_round_trip(&m, &h, body);

	rc = iqp_header_check_code(&h, sender, &err);
	if (!rc)
		rc = iqp_msg_validate(&m, sender, opts, &err);
	if (rc == 0) {
		check_values(m.first);
		same_bytes(&m, &h, body);
	} else {
		if ((rc != EBADMSG && rc != EPROTO) || !allowed(err.code))
			abort();
		if (rc == EBADMSG && (!err.has_offset ||
				      (err.offset >= h.body_len && err.offset != 0)))
			abort();
		check_answer(&h, sender, &err);
	}
	iqp_msg_free(&m);
	free(arena);
	return 0;
}
