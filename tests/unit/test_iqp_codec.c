/* Iq+ codec against the test vectors of proto/vectors (one cmocka test per
 * vector): framing at every chunk size, header checks, the passes of 4.4
 * with the exact error, the decoded form, and byte-exact re-encoding.
 * Run from the repository root: the vectors are read from proto/vectors. */
#include <dirent.h>
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
#include "iqp_frame.h"
#include "iqp_json.h"
#include "iqp_validate.h"

#define VEC_DIR "proto/vectors"

struct vec {
	char name[96];
	json_t *j;
	uint8_t *bytes;
	size_t len;
	unsigned sender, opts;
	uint32_t max_frame;
};

struct vecs {
	struct vec *v;
	size_t n;
};

/* What one pass of the receive path produced. */
struct result {
	bool incomplete;       /* the bytes ended inside a frame */
	bool failed;           /* err is set */
	struct iqp_error err;
	uint8_t *frame;        /* the frame delivered (header + body), owned */
	size_t frame_len;
};

static int unhex(const char *s, uint8_t **out, size_t *n)
{
	size_t len = strlen(s);
	if (len % 2)
		return EINVAL;
	uint8_t *b = malloc(len / 2 + 1);
	if (!b)
		return ENOMEM;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned x;
		if (sscanf(s + 2 * i, "%2x", &x) != 1) {
			free(b);
			return EINVAL;
		}
		b[i] = (uint8_t)x;
	}
	*out = b;
	*n = len / 2;
	return 0;
}

static int load_vec(const char *file, struct vec *v)
{
	char path[512];
	json_error_t je;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%.*s", (int)(strlen(file) - 5), file);
	snprintf(path, sizeof(path), "%s/%s", VEC_DIR, file);
	v->j = json_load_file(path, 0, &je);
	if (!v->j) {
		fprintf(stderr, "%s: %s (line %d)\n", path, je.text, je.line);
		return EINVAL;
	}
	const char *sender = json_string_value(json_object_get(v->j, "sender"));
	const char *hex = json_string_value(json_object_get(v->j, "hex"));
	if (!sender || !hex || !json_is_string(json_object_get(v->j, "description")) ||
	    !json_is_string(json_object_get(v->j, "spec_clause")) ||
	    unhex(hex, &v->bytes, &v->len)) {
		fprintf(stderr, "%s: missing or bad fields\n", path);
		return EINVAL;
	}
	v->sender = !strcmp(sender, "AGW") ? IQP_ROLE_AGW
		    : !strcmp(sender, "CONTROLLER") ? IQP_ROLE_CONTROLLER : 0;
	v->opts = json_is_true(json_object_get(v->j, "reserved")) ? IQP_V_RESERVED : 0;
	json_t *mf = json_object_get(v->j, "max_frame");
	v->max_frame = mf ? (uint32_t)json_integer_value(mf) : IQP_MAX_FRAME_MIN;
	return v->sender ? 0 : EINVAL;
}

/* Feeds v's bytes to a framer `chunk` bytes at a time (0: all at once). */
static void run_framer(const struct vec *v, size_t chunk, struct result *r)
{
	struct iqp_framer f;
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	iqp_framer_init(&f);
	assert_int_equal(iqp_framer_set_max_frame(&f, v->max_frame), 0);
	while (pos < v->len && !r->failed) {
		size_t n = chunk && chunk < v->len - pos ? chunk : v->len - pos;
		const uint8_t *p = v->bytes + pos;
		pos += n;
		while (n) {
			struct iqp_frame fr;
			size_t used;
			int rc = iqp_framer_feed(&f, p, n, &used, &fr);
			if (rc) {
				assert_int_equal(rc, EPROTO);
				r->failed = true;
				r->err = f.err;
				break;
			}
			assert_true(used <= n);
			p += used;
			n -= used;
			if (!fr.ready)
				continue;
			if (r->frame)
				fail_msg("%s: more than one frame", v->name);
			r->frame_len = IQP_HEADER_LEN + fr.hdr.body_len;
			r->frame = malloc(r->frame_len);
			assert_non_null(r->frame);
			iqp_header_encode(&fr.hdr, r->frame);
			if (fr.hdr.body_len)
				memcpy(r->frame + IQP_HEADER_LEN, fr.body, fr.hdr.body_len);
		}
	}
	if (!r->failed && !r->frame)
		r->incomplete = iqp_framer_partial(&f);
	if (!r->failed && r->frame)
		assert_false(iqp_framer_partial(&f));
	iqp_framer_free(&f);
}

/* The receive path after framing. */
static void run_decode(const struct vec *v, struct result *r)
{
	struct iqp_header h;
	struct iqp_msg m;

	if (r->failed || !r->frame)
		return;
	iqp_header_decode(r->frame, &h);
	if (iqp_msg_decode(&m, &h, r->frame + IQP_HEADER_LEN, v->sender, v->opts,
			   NULL, 0, &r->err))
		r->failed = true;
	iqp_msg_free(&m);
}

static void check_error(const struct vec *v, const struct result *r)
{
	const json_t *e = json_object_get(v->j, "error");

	if (!e) {
		if (r->failed)
			fail_msg("%s: unexpected error %u (%s) action %s", v->name,
				 r->err.code, r->err.text, iqp_action_name(r->err.action));
		if (r->incomplete || !r->frame)
			fail_msg("%s: no frame", v->name);
		if (r->frame_len != v->len)
			fail_msg("%s: frame of %zu bytes, input %zu", v->name,
				 r->frame_len, v->len);
		return;
	}
	unsigned code = (unsigned)json_integer_value(json_object_get(e, "code"));
	const char *action = json_string_value(json_object_get(e, "action"));
	assert_non_null(action);
	if (!strcmp(action, "incomplete")) {
		if (!r->incomplete || r->failed)
			fail_msg("%s: expected an incomplete frame", v->name);
		assert_int_equal(code, IQP_ERR_FRAME_TIMEOUT);
		return;
	}
	if (!r->failed)
		fail_msg("%s: expected error %u, got none", v->name, code);
	if (r->err.code != code || strcmp(iqp_action_name(r->err.action), action))
		fail_msg("%s: expected %u/%s, got %u/%s (%s)", v->name, code, action,
			 r->err.code, iqp_action_name(r->err.action), r->err.text);
	const json_t *el = json_object_get(e, "element"), *off = json_object_get(e, "offset");
	if (el) {
		unsigned want = (unsigned)strtoul(json_string_value(el), NULL, 16);
		if (!r->err.has_element || r->err.element != want)
			fail_msg("%s: expected element 0x%04x, got %s0x%04x", v->name, want,
				 r->err.has_element ? "" : "none ", r->err.element);
	} else if (r->err.has_element) {
		fail_msg("%s: unexpected element 0x%04x", v->name, r->err.element);
	}
	if (off) {
		if (!r->err.has_offset || r->err.offset != json_integer_value(off))
			fail_msg("%s: expected offset %lld, got %u", v->name,
				 (long long)json_integer_value(off), r->err.offset);
	} else if (r->err.has_offset) {
		fail_msg("%s: unexpected offset %u", v->name, r->err.offset);
	}
}

/* Rebuilds the tree of src with iqp_add, adding each sibling list in
 * descending code order (instances of one code keep their order): returns
 * false when an element is not registered. */
static bool rebuild(struct iqp_msg *m, struct iqp_elem *parent,
		    const struct iqp_elem *first)
{
	const struct iqp_elem *list[IQP_MAX_ELEMENTS];
	size_t n = 0;

	for (const struct iqp_elem *e = first; e; e = e->next) {
		size_t j = n++;
		for (; j > 0 && iqp_elem_code(list[j - 1]) < iqp_elem_code(e); j--)
			list[j] = list[j - 1];
		list[j] = e;
	}
	for (size_t i = 0; i < n; i++) {
		const struct iqp_elem *e = list[i];
		struct iqp_elem *copy;
		if (!e->def)
			return false;
		if (iqp_add(m, parent, iqp_elem_code(e),
			    (e->type & IQP_TYPE_C) ? NULL : e->value,
			    (e->type & IQP_TYPE_C) ? 0 : e->len, &copy))
			return false;
		if ((e->type & IQP_TYPE_C) && !rebuild(m, copy, e->child))
			return false;
	}
	return true;
}

static void check_decoded(const struct vec *v, const struct result *r)
{
	const json_t *want = json_object_get(v->j, "decoded");
	struct iqp_header h;
	struct iqp_msg m, b;
	struct iqp_error err;
	json_t *got;
	char why[200];
	size_t len;

	if (!r->frame || r->frame_len != v->len) {
		if (want)
			fail_msg("%s: decoded form of bytes that are not a frame", v->name);
		return;
	}
	iqp_header_decode(r->frame, &h);
	if (iqp_msg_parse(&m, &h, r->frame + IQP_HEADER_LEN, NULL, 0, &err)) {
		if (want)
			fail_msg("%s: pass 1 failed (%u) but decoded is given", v->name, err.code);
		return;
	}
	if (!want)
		fail_msg("%s: decodable body without a decoded form", v->name);
	assert_int_equal(iqp_json_from_msg(&m, &got), 0);
	if (!json_equal(got, (json_t *)want)) {
		char *s = json_dumps(got, JSON_COMPACT);
		fail_msg("%s: decoded form differs; got %.2000s", v->name, s);
	}
	json_decref(got);

	/* The decoded form builds the same bytes. */
	assert_int_equal(iqp_json_to_msg(want, &b, why, sizeof(why)), 0);
	uint8_t *out = malloc(v->len);
	assert_non_null(out);
	assert_int_equal(iqp_msg_encode(&b, out, v->len, &len), 0);
	assert_int_equal(len, v->len);
	if (memcmp(out, v->bytes, len))
		fail_msg("%s: re-encoding differs", v->name);
	iqp_msg_free(&b);

	/* Valid vectors are canonical: any build order encodes them again. */
	if (!json_object_get(v->j, "error")) {
		assert_true(iqp_msg_is_canonical(&m));
		assert_int_equal(iqp_msg_init(&b, &h, NULL, 2 * v->len + 4096 * sizeof(struct iqp_elem)), 0);
		if (rebuild(&b, NULL, m.first)) {
			memset(out, 0, v->len);
			assert_int_equal(iqp_msg_encode(&b, out, v->len, &len), 0);
			if (len != v->len || memcmp(out, v->bytes, len))
				fail_msg("%s: canonical rebuild differs", v->name);
		}
		iqp_msg_free(&b);
	}
	free(out);
	iqp_msg_free(&m);
}

static void same_result(const struct vec *v, size_t chunk, const struct result *a,
			const struct result *b)
{
	if (a->failed != b->failed || a->incomplete != b->incomplete ||
	    (a->failed && a->err.code != b->err.code) ||
	    a->frame_len != b->frame_len ||
	    (a->frame && memcmp(a->frame, b->frame, a->frame_len)))
		fail_msg("%s: chunks of %zu bytes give another result", v->name, chunk);
}

static void test_vector(void **state)
{
	const struct vec *v = *state;
	struct result one, r;

	run_framer(v, 0, &one);
	check_decoded(v, &one);
	run_decode(v, &one);
	check_error(v, &one);

	/* Every chunk size gives the same frames and errors.  Big inputs get
	 * every size up to 1024, then a spread. */
	for (size_t c = 1; c <= v->len; c = c < 1024 || v->len <= 8192 ? c + 1 : c * 3 / 2) {
		run_framer(v, c, &r);
		run_decode(v, &r);
		same_result(v, c, &one, &r);
		free(r.frame);
	}
	free(one.frame);
}

/* All frames of the valid vectors as one stream, in chunks of every size
 * up to 1024 and of a repeating irregular pattern. */
static void test_stream(void **state)
{
	const struct vecs *vs = *state;
	size_t total = 0, nframes = 0, pos;
	uint8_t *all;

	for (size_t i = 0; i < vs->n; i++)
		if (!json_object_get(vs->v[i].j, "error"))
			total += vs->v[i].len;
	all = malloc(total);
	assert_non_null(all);
	pos = 0;
	for (size_t i = 0; i < vs->n; i++)
		if (!json_object_get(vs->v[i].j, "error")) {
			memcpy(all + pos, vs->v[i].bytes, vs->v[i].len);
			pos += vs->v[i].len;
			nframes++;
		}
	for (size_t c = 0; c <= 1025; c++) {
		struct iqp_framer f;
		size_t off = 0, got = 0, k = 0, vi = 0;
		static const size_t pattern[] = { 1, 15, 2, 16, 17, 3, 100, 7, 1000 };
		iqp_framer_init(&f);
		while (off < total) {
			size_t n = c ? c : pattern[k++ % 9];
			if (c == 1025)
				n = total;
			if (n > total - off)
				n = total - off;
			const uint8_t *p = all + off;
			off += n;
			while (n) {
				struct iqp_frame fr;
				size_t used;
				assert_int_equal(iqp_framer_feed(&f, p, n, &used, &fr), 0);
				p += used;
				n -= used;
				if (!fr.ready)
					continue;
				while (json_object_get(vs->v[vi].j, "error"))
					vi++;
				const struct vec *v = &vs->v[vi++];
				assert_int_equal(IQP_HEADER_LEN + fr.hdr.body_len, v->len);
				assert_memory_equal(fr.body ? fr.body : v->bytes + IQP_HEADER_LEN,
						    v->bytes + IQP_HEADER_LEN, fr.hdr.body_len);
				got++;
			}
		}
		assert_int_equal(got, nframes);
		assert_int_equal(iqp_framer_frames(&f), nframes);
		assert_false(iqp_framer_partial(&f));
		iqp_framer_free(&f);
	}
	free(all);
}

static void collect(const json_t *list, bool *seen)
{
	size_t i, ndefs;
	const json_t *x;
	const struct iqp_elem_def *defs = iqp_elem_defs(&ndefs);

	json_array_foreach(list, i, x) {
		const char *key;
		const json_t *val;
		json_object_foreach((json_t *)x, key, val) {
			const struct iqp_elem_def *d = iqp_elem_def_by_name(key);
			if (d)
				seen[d - defs] = true;
			if (json_is_array(val))
				collect(val, seen);
		}
	}
}

/* The valid vectors use every message code and every element code. */
static void test_coverage(void **state)
{
	const struct vecs *vs = *state;
	size_t ndefs, nmsgs, valid = 0;
	const struct iqp_elem_def *defs = iqp_elem_defs(&ndefs);
	const struct iqp_msg_def *msgs = iqp_msg_defs(&nmsgs);
	bool seen[256] = { false }, mseen[16] = { false };

	assert_true(ndefs <= 256 && nmsgs <= 16);
	for (size_t i = 0; i < vs->n; i++) {
		const json_t *d = json_object_get(vs->v[i].j, "decoded");
		if (json_object_get(vs->v[i].j, "error") || !d)
			continue;
		valid++;
		struct iqp_header h;
		char why[100];
		assert_int_equal(iqp_json_parse_header(json_object_get(d, "header"), &h,
						       why, sizeof(why)), 0);
		for (size_t k = 0; k < nmsgs; k++)
			if (msgs[k].code == h.code)
				mseen[k] = true;
		collect(json_object_get(d, "body"), seen);
	}
	for (size_t k = 0; k < nmsgs; k++)
		if (!mseen[k])
			fail_msg("no valid vector with message %s", msgs[k].name);
	for (size_t k = 0; k < ndefs; k++)
		if (!seen[k])
			fail_msg("no valid vector with element %s", defs[k].name);
	print_message("%zu vectors, %zu valid, %zu malformed\n", vs->n, valid,
		      vs->n - valid);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	DIR *d = opendir(VEC_DIR);
	struct vecs vs = { NULL, 0 };
	char *names[1024];
	size_t n = 0;
	struct dirent *de;
	int failed;

	if (!d) {
		fprintf(stderr, "test_iqp_codec: cannot open %s (run from the repository "
			"root): %s\n", VEC_DIR, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) && n < 1024) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".json"))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (!n) {
		fprintf(stderr, "test_iqp_codec: no vectors in %s\n", VEC_DIR);
		return 1;
	}
	qsort(names, n, sizeof(names[0]), by_name);
	vs.v = calloc(n, sizeof(*vs.v));
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	if (!vs.v || !tests)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (load_vec(names[i], &vs.v[i]))
			return 1;
		tests[i].name = vs.v[i].name;
		tests[i].test_func = test_vector;
		tests[i].initial_state = &vs.v[i];
		free(names[i]);
	}
	vs.n = n;
	const struct CMUnitTest suite[] = {
		{ "stream_of_all_valid_frames", test_stream, NULL, NULL, &vs },
		{ "coverage_of_codes", test_coverage, NULL, NULL, &vs },
	};
	failed = _cmocka_run_group_tests("iqp_vectors", tests, n, NULL, NULL);
	failed += _cmocka_run_group_tests("iqp_vector_set", suite, 2, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		json_decref(vs.v[i].j);
		free(vs.v[i].bytes);
	}
	free(vs.v);
	free(tests);
	return failed;
}
