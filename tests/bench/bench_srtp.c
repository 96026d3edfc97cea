/* Benchmark: SRTP protect and unprotect of a 172-byte RTP packet (12-byte
 * header + 160-byte G.711 payload), our transform against libsrtp2, for
 * each profile, with 1 live session and with 4,000 live sessions used
 * round-robin (per-session state out of cache, as on a loaded relay).
 * A session is what a gateway leg holds: one outbound and one inbound
 * context.  Prints nanoseconds per packet, the median of several runs.
 * Time is the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that other
 * processes on a shared machine do not count; what they do to the caches
 * still does.
 *
 * Each (profile, sessions) cell runs in its own process: libsrtp2's NSS
 * backend keeps global state that grows with every context created, and
 * one cell must not slow the next.  A run stops early once it has timed
 * RUN_BUDGET_NS and gone round every session at least once (libsrtp2 at
 * 4,000 sessions takes far longer per packet than at 1).
 *
 * usage: bench_srtp [PACKETS_PER_RUN [RUNS]]   (default 200000 5) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#include "srtp_transform.h"

#define PAYLOAD 160
#define PKT_LEN (12 + PAYLOAD)
#define BATCH 64 /* packets between two clock readings */
#define CAP 256
#define MAX_RUNS 15
#define RUN_BUDGET_NS 1.5e9

enum impl { OURS, LIBSRTP };
enum op { PROTECT, UNPROTECT };

/* Protect runs use tx / ltx.  Unprotect runs feed rx / lrx with packets
 * from our own senders feed[impl] (byte-identical to libsrtp's, as the
 * unit test shows), so each receiver sees every sequence number of its
 * sender, and libsrtp2 holds two contexts a session, as a gateway would. */
struct session {
	struct srtp_transform *tx, *rx, *feed[2]; /* owned */
	srtp_t ltx, lrx;                          /* owned */
	uint32_t ssrc;
	uint16_t seq[2][2]; /* next sequence number, per impl and op */
};

static const struct {
	enum srtp_profile ours;
	srtp_profile_t lib;
	const char *name;
} profiles[] = {
	{ SRTP_PROFILE_AES128_CM_HMAC_SHA1_80, srtp_profile_aes128_cm_sha1_80,
	  "AES128_CM_HMAC_SHA1_80" },
	{ SRTP_PROFILE_AES128_CM_HMAC_SHA1_32, srtp_profile_aes128_cm_sha1_32,
	  "AES128_CM_HMAC_SHA1_32" },
	{ SRTP_PROFILE_AEAD_AES_128_GCM, srtp_profile_aead_aes_128_gcm,
	  "AEAD_AES_128_GCM" },
	{ SRTP_PROFILE_AEAD_AES_256_GCM, srtp_profile_aead_aes_256_gcm,
	  "AEAD_AES_256_GCM" },
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_srtp: %s failed\n", what);
	exit(1);
}

static srtp_t lib_session(srtp_profile_t p, int outbound, uint8_t *master)
{
	srtp_policy_t pol;
	srtp_t s;

	memset(&pol, 0, sizeof(pol));
	if (srtp_crypto_policy_set_from_profile_for_rtp(&pol.rtp, p) ||
	    srtp_crypto_policy_set_from_profile_for_rtcp(&pol.rtcp, p))
		die("libsrtp policy");
	pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	pol.key = master;
	pol.window_size = 128;
	if (srtp_create(&s, &pol))
		die("srtp_create");
	return s;
}

static void make_packet(struct session *s, enum impl impl, enum op op,
			uint8_t *p)
{
	uint16_t seq = s->seq[impl][op]++;
	uint32_t ts = (uint32_t)seq * 160;

	p[0] = 0x80;
	p[1] = 0x00; /* PCMU */
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(s->ssrc >> 24);
	p[9] = (uint8_t)(s->ssrc >> 16);
	p[10] = (uint8_t)(s->ssrc >> 8);
	p[11] = (uint8_t)s->ssrc;
	memset(p + 12, 0xff, PAYLOAD); /* G.711 mu-law silence */
}

static size_t protect(struct session *s, enum impl impl, uint8_t *p)
{
	size_t len = PKT_LEN;
	int llen = PKT_LEN;

	if (impl == OURS) {
		if (srtp_transform_protect_rtp(s->tx, p, &len, CAP))
			die("srtp_transform_protect_rtp");
		return len;
	}
	if (srtp_protect(s->ltx, p, &llen))
		die("srtp_protect");
	return (size_t)llen;
}

static size_t feed(struct session *s, enum impl impl, uint8_t *p)
{
	size_t len = PKT_LEN;

	if (srtp_transform_protect_rtp(s->feed[impl], p, &len, CAP))
		die("srtp_transform_protect_rtp (feed)");
	return len;
}

static void unprotect(struct session *s, enum impl impl, uint8_t *p, size_t len)
{
	int llen = (int)len;

	if (impl == OURS) {
		if (srtp_transform_unprotect_rtp(s->rx, p, &len) || len != PKT_LEN)
			die("srtp_transform_unprotect_rtp");
		return;
	}
	if (srtp_unprotect(s->lrx, p, &llen) || llen != PKT_LEN)
		die("srtp_unprotect");
}

/* One run: ns per packet of `op`, sessions round-robin.  Only the
 * operation is timed; building (and, for unprotect, protecting) a batch
 * is not. */
static double run(struct session *ss, size_t n_sess, size_t *next,
		  enum impl impl, enum op op, size_t n)
{
	static uint8_t buf[BATCH][CAP];
	size_t len[BATCH];
	struct session *who[BATCH];
	double total = 0;
	size_t done = 0;

	for (; done < n; done += BATCH) {
		if (total > RUN_BUDGET_NS && done >= n_sess)
			break;
		for (size_t b = 0; b < BATCH; b++) {
			who[b] = &ss[*next];
			*next = (*next + 1) % n_sess;
			make_packet(who[b], impl, op, buf[b]);
			if (op == UNPROTECT)
				len[b] = feed(who[b], impl, buf[b]);
		}
		double t0 = now_ns();
		if (op == PROTECT)
			for (size_t b = 0; b < BATCH; b++)
				protect(who[b], impl, buf[b]);
		else
			for (size_t b = 0; b < BATCH; b++)
				unprotect(who[b], impl, buf[b], len[b]);
		total += now_ns() - t0;
	}
	return total / (double)done;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_run(struct session *ss, size_t n_sess, size_t *next,
			 enum impl impl, enum op op, size_t n, int runs)
{
	double r[MAX_RUNS];
	for (int i = 0; i < runs; i++)
		r[i] = run(ss, n_sess, next, impl, op, n);
	qsort(r, (size_t)runs, sizeof(r[0]), cmp_double);
	return r[runs / 2];
}

/* One table row, in a child process. */
static void cell(size_t pi, size_t n_sess, size_t n, int runs)
{
	struct srtp_profile_info info;
	uint8_t master[46];
	size_t next = 0;
	double r[4];

	if (srtp_init())
		die("srtp_init");
	if (srtp_transform_profile_info(profiles[pi].ours, &info))
		die("profile");
	struct session *ss = calloc(n_sess, sizeof(*ss));
	if (!ss)
		die("calloc");
	for (size_t i = 0; i < n_sess; i++) {
		for (size_t k = 0; k < sizeof(master); k++)
			master[k] = (uint8_t)(i * 131 + k * 7 + pi);
		const uint8_t *salt = master + info.key_len;
		struct srtp_transform **mine[] = { &ss[i].tx, &ss[i].feed[OURS],
						   &ss[i].feed[LIBSRTP] };
		for (size_t k = 0; k < 3; k++)
			if (srtp_transform_create(profiles[pi].ours,
						  SRTP_TRANSFORM_OUTBOUND, master,
						  info.key_len, salt, info.salt_len,
						  mine[k]))
				die("srtp_transform_create");
		if (srtp_transform_create(profiles[pi].ours, SRTP_TRANSFORM_INBOUND,
					  master, info.key_len, salt, info.salt_len,
					  &ss[i].rx))
			die("srtp_transform_create");
		ss[i].ltx = lib_session(profiles[pi].lib, 1, master);
		ss[i].lrx = lib_session(profiles[pi].lib, 0, master);
		ss[i].ssrc = 0x10000000u + (uint32_t)i;
		for (int a = 0; a < 2; a++)
			for (int b = 0; b < 2; b++)
				ss[i].seq[a][b] = (uint16_t)(i * 7919);
	}
	/* Warm-up: every context sees a packet (libsrtp creates its
	 * per-SSRC stream on the first one). */
	size_t warm = n_sess < BATCH ? BATCH : n_sess;
	for (int impl = OURS; impl <= LIBSRTP; impl++)
		for (int op = PROTECT; op <= UNPROTECT; op++)
			run(ss, n_sess, &next, (enum impl)impl, (enum op)op, warm);

	r[0] = median_run(ss, n_sess, &next, OURS, PROTECT, n, runs);
	r[1] = median_run(ss, n_sess, &next, LIBSRTP, PROTECT, n, runs);
	r[2] = median_run(ss, n_sess, &next, OURS, UNPROTECT, n, runs);
	r[3] = median_run(ss, n_sess, &next, LIBSRTP, UNPROTECT, n, runs);
	printf("%-24s %8zu | %9.0f %9.0f %6.3f | %9.0f %9.0f %6.3f\n",
	       profiles[pi].name, n_sess, r[0], r[1], r[0] / r[1], r[2], r[3],
	       r[2] / r[3]);
	fflush(stdout);

	for (size_t i = 0; i < n_sess; i++) {
		srtp_transform_free(ss[i].tx);
		srtp_transform_free(ss[i].rx);
		srtp_transform_free(ss[i].feed[OURS]);
		srtp_transform_free(ss[i].feed[LIBSRTP]);
		srtp_dealloc(ss[i].ltx);
		srtp_dealloc(ss[i].lrx);
	}
	free(ss);
	srtp_shutdown();
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	static const size_t counts[] = { 1, 4000 };

	if (n < BATCH || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench_srtp [PACKETS_PER_RUN>=%d [RUNS<=%d]]\n",
			BATCH, MAX_RUNS);
		return 2;
	}
	printf("SRTP protect/unprotect of a %d-byte RTP packet (12 + %d), CPU ns per\n"
	       "packet, median of %d runs of up to %zu packets; %s\n\n", PKT_LEN,
	       PAYLOAD, runs, n, srtp_get_version_string());
	printf("%-24s %8s | %9s %9s %6s | %9s %9s %6s\n", "profile", "sessions",
	       "protect", "libsrtp2", "ratio", "unprotect", "libsrtp2", "ratio");
	printf("%-24s %8s | %9s %9s %6s | %9s %9s %6s\n", "", "", "ours", "", "",
	       "ours", "", "");
	fflush(stdout);

	for (size_t pi = 0; pi < sizeof(profiles) / sizeof(profiles[0]); pi++)
		for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
			int status;
			pid_t pid = fork();
			if (pid < 0)
				die("fork");
			if (pid == 0) {
				cell(pi, counts[ci], n, runs);
				_exit(0);
			}
			if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0)
				die("benchmark cell");
		}
	printf("\nratio = ours / libsrtp2 (below 1: ours is faster)\n");
	return 0;
}
