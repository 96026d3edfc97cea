/* DTLS-SRTP between two in-memory peers: handshake in both roles, keys
 * agree (client's local = server's remote), no datagram above the MTU,
 * a lost flight is retransmitted, a wrong fingerprint fails, garbage and
 * silence end cleanly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/srtp.h>

#include "dtls_session.h"

#define QMAX 64

struct queue {
	uint8_t buf[QMAX][1500];
	size_t len[QMAX];
	unsigned n, biggest, drop_next;
};

static void enqueue(void *arg, const uint8_t *buf, size_t len)
{
	struct queue *q = arg;
	if (len > q->biggest)
		q->biggest = (unsigned)len;
	if (q->drop_next) {
		q->drop_next--;
		return; /* lost on the wire */
	}
	assert_true(q->n < QMAX);
	assert_true(len <= sizeof(q->buf[0]));
	memcpy(q->buf[q->n], buf, len);
	q->len[q->n++] = len;
}

/* Delivers everything queued for s; returns how many datagrams. */
static unsigned deliver(struct queue *q, struct dtls_session *s, uint64_t now)
{
	unsigned n = q->n;
	struct queue copy;
	memcpy(&copy, q, sizeof(copy));
	q->n = 0;
	for (unsigned i = 0; i < n; i++)
		dtls_session_input(s, copy.buf[i], copy.len[i], now);
	return n;
}

/* Real monotonic milliseconds: OpenSSL times retransmissions itself. */
static uint64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct pair {
	struct tls_identity id_a, id_b;
	struct dtls_ctx ctx_a, ctx_b;
	struct dtls_session a, b; /* a: active (client), b: passive (server) */
	struct queue to_a, to_b;
};

static struct pair *pair_new(const char *fp_for_a_override, unsigned drop_first)
{
	struct pair *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	assert_int_equal(tls_identity_generate(&p->id_a, "agw", 30), 0);
	assert_int_equal(tls_identity_generate(&p->id_b, "browser", 30), 0);
	assert_int_equal(dtls_ctx_init(&p->ctx_a, &p->id_a), 0);
	assert_int_equal(dtls_ctx_init(&p->ctx_b, &p->id_b), 0);
	p->to_b.drop_next = drop_first;
	assert_int_equal(dtls_session_start(&p->b, &p->ctx_b, DTLS_PASSIVE,
					    p->id_a.fingerprint_sha256, 0, enqueue, &p->to_a, real_ms()), 0);
	assert_int_equal(dtls_session_start(&p->a, &p->ctx_a, DTLS_ACTIVE,
					    fp_for_a_override ? fp_for_a_override
							      : p->id_b.fingerprint_sha256,
					    0, enqueue, &p->to_b, real_ms()), 0);
	return p;
}

static void pair_free(struct pair *p)
{
	dtls_session_free(&p->a);
	dtls_session_free(&p->b);
	dtls_ctx_free(&p->ctx_a);
	dtls_ctx_free(&p->ctx_b);
	tls_identity_free(&p->id_a);
	tls_identity_free(&p->id_b);
	free(p);
}

static void sleep_until(uint64_t when)
{
	uint64_t now = real_ms();
	if (when > now) {
		struct timespec ts = { (time_t)((when - now) / 1000), (long)((when - now) % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* Runs the exchange in real time, firing timers when nothing is in flight. */
static void run(struct pair *p, uint64_t until)
{
	uint64_t now = 0, start = real_ms();
	until += start;
	for (int rounds = 0; rounds < 200 && now <= until; rounds++) {
		now = real_ms();
		unsigned moved = deliver(&p->to_b, &p->b, now) + deliver(&p->to_a, &p->a, now);
		if (p->a.state != DTLS_HANDSHAKING && p->b.state != DTLS_HANDSHAKING)
			return;
		if (!moved) {
			uint64_t da = dtls_session_deadline(&p->a, now);
			uint64_t db = dtls_session_deadline(&p->b, now);
			uint64_t next = da < db ? da : db;
			if (next == UINT64_MAX)
				return;
			sleep_until(next);
			now = real_ms();
			dtls_session_tick(&p->a, now);
			dtls_session_tick(&p->b, now);
		}
	}
}

static void test_handshake_and_keys(void **state)
{
	struct pair *p = pair_new(NULL, 0);
	(void)state;

	run(p, 1000);
	assert_int_equal(p->a.state, DTLS_CONNECTED);
	assert_int_equal(p->b.state, DTLS_CONNECTED);
	/* The server picked its first choice among what the client offered. */
	assert_int_equal(p->a.keys.profile, SRTP_AEAD_AES_256_GCM);
	assert_int_equal(p->a.keys.profile, p->b.keys.profile);
	assert_int_equal(p->a.keys.key_len, 32);
	assert_int_equal(p->a.keys.salt_len, 12);
	assert_memory_equal(p->a.keys.local_key, p->b.keys.remote_key, 32);
	assert_memory_equal(p->a.keys.remote_key, p->b.keys.local_key, 32);
	assert_memory_equal(p->a.keys.local_salt, p->b.keys.remote_salt, 12);
	assert_memory_equal(p->a.keys.remote_salt, p->b.keys.local_salt, 12);
	assert_memory_not_equal(p->a.keys.local_key, p->a.keys.remote_key, 32);
	/* MTU-safe: no datagram over 1200 bytes either way. */
	assert_true(p->to_a.biggest <= DTLS_MTU_DEFAULT);
	assert_true(p->to_b.biggest <= DTLS_MTU_DEFAULT);
	assert_int_equal(dtls_session_deadline(&p->a, 5), UINT64_MAX);
	pair_free(p);
}

static void test_small_mtu_fragments(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	(void)state;
	assert_non_null(p);
	assert_int_equal(tls_identity_generate(&p->id_a, "agw", 30), 0);
	assert_int_equal(tls_identity_generate(&p->id_b, "browser", 30), 0);
	assert_int_equal(dtls_ctx_init(&p->ctx_a, &p->id_a), 0);
	assert_int_equal(dtls_ctx_init(&p->ctx_b, &p->id_b), 0);
	assert_int_equal(dtls_session_start(&p->b, &p->ctx_b, DTLS_PASSIVE, p->id_a.fingerprint_sha256,
					    400, enqueue, &p->to_a, 0), 0);
	assert_int_equal(dtls_session_start(&p->a, &p->ctx_a, DTLS_ACTIVE, p->id_b.fingerprint_sha256,
					    400, enqueue, &p->to_b, 0), 0);
	run(p, 1000);
	assert_int_equal(p->a.state, DTLS_CONNECTED);
	assert_int_equal(p->b.state, DTLS_CONNECTED);
	assert_true(p->to_a.biggest <= 400);
	assert_true(p->to_b.biggest <= 400);
	pair_free(p);
}

static void test_lost_client_hello(void **state)
{
	struct pair *p = pair_new(NULL, 1); /* the first ClientHello is lost */
	(void)state;

	assert_int_equal(p->to_b.n, 0);
	/* First retransmission 250 ms after the session's start. */
	uint64_t t0 = real_ms();
	assert_true(dtls_session_deadline(&p->a, t0) <= t0 + 260);
	run(p, 5000);
	assert_int_equal(p->a.state, DTLS_CONNECTED);
	assert_int_equal(p->b.state, DTLS_CONNECTED);
	pair_free(p);
}

static void test_wrong_fingerprint(void **state)
{
	const char *wrong = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
			    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
	struct pair *p = pair_new(wrong, 0);
	(void)state;

	run(p, 1000);
	assert_int_equal(p->a.state, DTLS_FAILED);
	assert_non_null(strstr(p->a.fail_reason, "does not match the SDP fingerprint"));
	assert_true(p->a.fp_mismatch);
	pair_free(p);
	assert_int_equal(dtls_session_start(&(struct dtls_session){ 0 }, NULL, DTLS_ACTIVE, "AB",
					    0, enqueue, NULL, 0), EINVAL);
}

/* A passive session started before the SDP answer (no fingerprint yet,
 * 8.9.2 items 2-3): it completes unverified; the fingerprint decides
 * later.  Also: a per-session SRTP profile list. */
static struct pair *pair_unverified(const char *b_profiles)
{
	struct pair *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	assert_int_equal(tls_identity_generate(&p->id_a, "browser", 30), 0);
	assert_int_equal(tls_identity_generate(&p->id_b, "agw", 30), 0);
	assert_int_equal(dtls_ctx_init(&p->ctx_a, &p->id_a), 0);
	assert_int_equal(dtls_ctx_init(&p->ctx_b, &p->id_b), 0);
	assert_int_equal(dtls_session_start_ex(&p->b, &p->ctx_b, DTLS_PASSIVE, NULL, b_profiles, 0,
					       enqueue, &p->to_a, real_ms()), 0);
	assert_int_equal(dtls_session_start(&p->a, &p->ctx_a, DTLS_ACTIVE, p->id_b.fingerprint_sha256,
					    0, enqueue, &p->to_b, real_ms()), 0);
	return p;
}

static void test_verify_later(void **state)
{
	const char *wrong = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
			    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
	struct pair *p = pair_unverified("SRTP_AES128_CM_SHA1_80");
	(void)state;

	run(p, 1000);
	assert_int_equal(p->b.state, DTLS_CONNECTED);
	assert_true(p->b.unverified);
	assert_int_equal(p->b.keys.profile, SRTP_AES128_CM_SHA1_80);
	assert_int_equal(dtls_session_verify(&p->b, "AB"), EINVAL);
	assert_int_equal(dtls_session_verify(&p->b, p->id_a.fingerprint_sha256), 0);
	assert_false(p->b.unverified);
	assert_int_equal(dtls_session_verify(&p->b, p->id_a.fingerprint_sha256), EINVAL);
	pair_free(p);

	p = pair_unverified(NULL);
	run(p, 1000);
	assert_int_equal(p->b.state, DTLS_CONNECTED);
	assert_int_equal(dtls_session_verify(&p->b, wrong), EACCES);
	assert_int_equal(p->b.state, DTLS_FAILED);
	assert_true(p->b.fp_mismatch);
	pair_free(p);

	/* A profile OpenSSL does not know is refused. */
	struct tls_identity id;
	struct dtls_ctx ctx;
	struct dtls_session s;
	assert_int_equal(tls_identity_generate(&id, "agw", 30), 0);
	assert_int_equal(dtls_ctx_init(&ctx, &id), 0);
	assert_int_equal(dtls_session_start_ex(&s, &ctx, DTLS_PASSIVE, NULL, "NO_SUCH_PROFILE", 0,
					       enqueue, NULL, 0), EINVAL);
	dtls_ctx_free(&ctx);
	tls_identity_free(&id);
}

/* No common cipher suite: the server sends a fatal handshake_failure
 * alert (40), recorded on both sides (DTLS_ALERT of Iq+ event 6). */
static void test_fatal_alert(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	(void)state;
	assert_non_null(p);
	assert_int_equal(tls_identity_generate(&p->id_a, "agw", 30), 0);
	assert_int_equal(tls_identity_generate(&p->id_b, "browser", 30), 0);
	assert_int_equal(dtls_ctx_init(&p->ctx_a, &p->id_a), 0);
	assert_int_equal(dtls_ctx_init(&p->ctx_b, &p->id_b), 0);
	/* The client offers only RSA suites; both certificates are ECDSA. */
	assert_int_equal(SSL_CTX_set_cipher_list(p->ctx_a.ctx, "ECDHE-RSA-AES128-GCM-SHA256"), 1);
	assert_int_equal(dtls_session_start(&p->b, &p->ctx_b, DTLS_PASSIVE, p->id_a.fingerprint_sha256,
					    0, enqueue, &p->to_a, real_ms()), 0);
	assert_int_equal(dtls_session_start(&p->a, &p->ctx_a, DTLS_ACTIVE, p->id_b.fingerprint_sha256,
					    0, enqueue, &p->to_b, real_ms()), 0);
	run(p, 1000);
	assert_int_equal(p->b.state, DTLS_FAILED);
	assert_int_equal(p->b.alert, 40);
	assert_true(p->b.alert_sent);
	assert_int_equal(p->a.state, DTLS_FAILED);
	assert_int_equal(p->a.alert, 40);
	assert_false(p->a.alert_sent);
	pair_free(p);
}

static void test_garbage_and_silence(void **state)
{
	struct pair *p = pair_new(NULL, 0);
	uint8_t junk[300];
	(void)state;

	/* The passive side gets garbage before the real ClientHello. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 22);
	dtls_session_input(&p->b, junk, sizeof(junk), 0);
	dtls_session_input(&p->b, junk, 13, 0);
	assert_true(p->b.state == DTLS_HANDSHAKING || p->b.state == DTLS_FAILED);
	pair_free(p);

	/* A client whose peer never answers gives up at the overall deadline. */
	struct tls_identity id;
	struct dtls_ctx ctx;
	struct dtls_session s;
	struct queue *q = calloc(1, sizeof(*q));
	assert_non_null(q);
	assert_int_equal(tls_identity_generate(&id, "x", 30), 0);
	assert_int_equal(dtls_ctx_init(&ctx, &id), 0);
	assert_int_equal(dtls_session_start(&s, &ctx, DTLS_ACTIVE, id.fingerprint_sha256, 0,
					    enqueue, q, 0), 0);
	uint64_t now = 0;
	for (int i = 0; i < 100 && s.state == DTLS_HANDSHAKING; i++) {
		now = dtls_session_deadline(&s, now);
		q->n = 0;
		dtls_session_tick(&s, now);
	}
	assert_int_equal(s.state, DTLS_FAILED);
	assert_true(now >= DTLS_HANDSHAKE_TIMEOUT_MS);
	assert_non_null(strstr(s.fail_reason, "timed out"));
	dtls_session_free(&s);
	dtls_ctx_free(&ctx);
	tls_identity_free(&id);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_keys),
		cmocka_unit_test(test_small_mtu_fragments),
		cmocka_unit_test(test_lost_client_hello),
		cmocka_unit_test(test_wrong_fingerprint),
		cmocka_unit_test(test_garbage_and_silence),
		cmocka_unit_test(test_verify_later),
		cmocka_unit_test(test_fatal_alert),
	};
	return cmocka_run_group_tests_name("dtls_session", tests, NULL, NULL);
}
