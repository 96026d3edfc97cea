/* Load generator of the relay benchmark (tests/bench/relay_bench.py): N
 * streams of SRTP toward a relay (eims-agw or rtpengine), the plain RTP
 * the relay produces received back on one IMS-side socket.
 *
 * stdin, one line each:
 *   dtls IP PORT UFRAG PWD FINGERPRINT   a stream to an eims-agw W3 port:
 *                                         ICE check with USE-CANDIDATE, DTLS
 *                                         client, keys from the exporter
 *   sdes IP PORT KEY_BASE64              a stream to a relay keyed by SDES
 *                                         (AES_CM_128_HMAC_SHA1_80)
 *   setup                                 runs the handshakes, prints "ready N"
 *   run SECONDS PPS PAYLOAD               sends PPS packets/s per stream of
 *                                         PAYLOAD bytes for 1 s of warm-up
 *                                         and SECONDS measured; prints "t0"
 *                                         and "t1" around the measurement,
 *                                         then one JSON line of results
 * argv: W3_SOURCE_PORT IMS_RECEIVE_PORT [SRTP_PROFILES]: the DTLS-SRTP
 * profiles the client offers (OpenSSL names, ':'-separated; default
 * SRTP_AES128_CM_SHA1_80, the profile of issue 5 and of the SDES streams,
 * so that every relay does the same crypto).
 *
 * Each RTP packet carries its stream index as SSRC; its send time is kept
 * here by (stream, sequence number), and a packet received more than 100 ms
 * after it was sent counts as lost.  A run's packets are protected before
 * it starts (run_packets): SRTP on the send path took about a third of the
 * generator's core at 4,000 streams, and one core cannot then offer what
 * one relay core forwards.  Sending and receiving are batched
 * (sendmmsg/recvmmsg) in one thread; the caller pins this process to its
 * own core. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dtls_session.h"
#include "srtp_transform.h"
#include "stun_msg.h"
#include "tls_identity.h"

#define MAX_STREAMS 20000
#define BATCH 64
#define LATE_NS 100000000ull

struct stream {
	struct sockaddr_in dst;
	char ufrag[64], pwd[128], fp[100];
	bool dtls;
	uint8_t key[30];
	struct dtls_session s;
	struct srtp_transform *out;
	uint16_t seq;   /* of the next run's first packet */
	uint16_t seq0;  /* of this run's first packet */
	uint32_t ts;
	unsigned k;     /* packets of this run sent */
	uint64_t sent, got, late;
};

/* One run's packets, protected in advance: packet j of stream i at
 * (j * n + i) * stride, the order they are sent in (the streams fall due
 * round and round), so sending walks memory forward. */
struct run_packets {
	uint8_t *buf;      /* owned: mmap'ed */
	size_t buf_len, stride;
	uint16_t *len;     /* owned: each packet's length; 0: not made */
	uint64_t *sent_at; /* owned: send time (ns), 0: unsent or warm-up */
	unsigned per;      /* packets per stream */
};

static struct stream *st;
static unsigned n;
static int w3_fd, ims_fd;
static const char *srtp_profiles = "SRTP_AES128_CM_SHA1_80";
static const char *negotiated = "SRTP_AES128_CM_SHA1_80"; /* static; SDES: this one */
static uint32_t *lat_us;       /* latencies of received packets */
static size_t n_lat, cap_lat;
static struct run_packets rp;  /* the current run's */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t real_ms(void)
{
	return now_ns() / 1000000;
}

static int udp(uint16_t port, int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("bind");
		exit(2);
	}
	return fd;
}

static void dtls_out(void *arg, const uint8_t *buf, size_t len)
{
	struct stream *s = arg;
	sendto(w3_fd, buf, len, 0, (struct sockaddr *)&s->dst, sizeof(s->dst));
}

static struct stream *by_addr(const struct sockaddr_in *a)
{
	for (unsigned i = 0; i < n; i++)
		if (st[i].dst.sin_port == a->sin_port && st[i].dst.sin_addr.s_addr == a->sin_addr.s_addr)
			return &st[i];
	return NULL;
}

#define LOCAL_UFRAG "benchgen"

/* ICE checks (nomination; then consent freshness, RFC 7675) to the
 * eims-agw streams among count streams from first (wrapping); returns how
 * many were sent. */
static unsigned ice_checks_some(unsigned first, unsigned count)
{
	uint8_t buf[512];
	unsigned sent = 0;

	for (unsigned j = 0; j < count && j < n; j++) {
		struct stream *s = &st[(first + j) % n];
		char user[160];
		uint8_t txid[12];
		size_t len;
		if (!s->dtls)
			continue;
		for (int k = 0; k < 12; k++)
			txid[k] = (uint8_t)rand();
		snprintf(user, sizeof(user), "%s:%s", s->ufrag, LOCAL_UFRAG);
		struct stun_binding_request r = { .txid = txid, .username = user, .has_priority = true,
						  .priority = 1853824767, .role = STUN_ROLE_CONTROLLING,
						  .tiebreaker = 42, .use_candidate = true, .key = s->pwd,
						  .key_len = strlen(s->pwd) };
		if (stun_msg_build_request(buf, sizeof(buf), &r, &len))
			continue;
		sendto(w3_fd, buf, len, 0, (struct sockaddr *)&s->dst, sizeof(s->dst));
		sent++;
	}
	return sent;
}

static unsigned ice_checks(void)
{
	return ice_checks_some(0, n);
}

/* Consent freshness as independent browsers send it (RFC 7675: every
 * 4-6 s per pair, each on its own timer): a hundredth of the streams per
 * call, one call per 50 ms, so each stream every 5 s.  All at once would
 * hand the relay thousands of checks in one burst, milliseconds of work
 * that delays the media behind it (an artefact rtpengine and the minimal
 * relay, keyed by SDES, never see). */
static unsigned consent_next;

static void consent_slice(void)
{
	unsigned k = (n + 99) / 100;

	ice_checks_some(consent_next, k);
	consent_next = n ? (consent_next + k) % n : 0;
}

static void drain_w3(void)
{
	uint8_t buf[2048];
	while (recv(w3_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* ICE check with USE-CANDIDATE and DTLS client handshakes, all streams at
 * once, driven by one poll loop. */
static int setup_dtls(struct dtls_ctx *ctx)
{
	uint8_t buf[2048];
	uint64_t start = real_ms();
	unsigned pending = ice_checks();

	/* Responses first (the AGW selects the pair), then DTLS. */
	unsigned answered = 0;
	while (answered < pending && real_ms() - start < 10000) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t k = recvfrom(w3_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (k < 0) {
			struct pollfd p = { w3_fd, POLLIN, 0 };
			poll(&p, 1, 10);
			continue;
		}
		if (stun_msg_is_stun(buf, (size_t)k))
			answered++;
	}
	if (answered < pending)
		return ETIMEDOUT;
	for (unsigned i = 0; i < n; i++)
		if (st[i].dtls && dtls_session_start_ex(&st[i].s, ctx, DTLS_ACTIVE, st[i].fp,
							srtp_profiles, 0, dtls_out, &st[i], real_ms()))
			return EINVAL;
	unsigned done = 0;
	while (done < pending && real_ms() - start < 60000) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t k = recvfrom(w3_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (k < 0) {
			struct pollfd p = { w3_fd, POLLIN, 0 };
			poll(&p, 1, 5);
			uint64_t t = real_ms();
			for (unsigned i = 0; i < n; i++)
				if (st[i].dtls && st[i].s.state == DTLS_HANDSHAKING &&
				    t >= dtls_session_deadline(&st[i].s, t))
					dtls_session_tick(&st[i].s, t);
			continue;
		}
		struct stream *s = by_addr(&from);
		if (!s || !s->dtls || s->s.state != DTLS_HANDSHAKING)
			continue;
		if (dtls_session_input(&s->s, buf, (size_t)k, real_ms()) == DTLS_CONNECTED) {
			const struct dtls_keys *kk = &s->s.keys;
			struct srtp_profile_info info;
			if (!srtp_transform_profile_info(kk->profile, &info))
				negotiated = info.name;
			if (srtp_transform_create(kk->profile, SRTP_TRANSFORM_OUTBOUND, kk->local_key,
						  kk->key_len, kk->local_salt, kk->salt_len, &s->out))
				return EIO;
			done++;
		} else if (s->s.state == DTLS_FAILED) {
			fprintf(stderr, "dtls failed: %s\n", s->s.fail_reason);
			return EPROTO;
		}
	}
	return done == pending ? 0 : ETIMEDOUT;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void receive_all(bool measuring)
{
	static struct mmsghdr m[BATCH];
	static struct iovec iov[BATCH];
	static uint8_t bufs[BATCH][1600];

	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		int k = recvmmsg(ims_fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (k <= 0)
			return;
		uint64_t t = now_ns();
		for (int i = 0; i < k; i++) {
			const uint8_t *p = bufs[i];
			if (m[i].msg_len < 12 + 16 || (p[1] & 0x7f) >= 72)
				continue; /* RTCP or too short */
			uint32_t ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
			if (ssrc >= n || !measuring)
				continue;
			/* A previous run's packet maps past per; warm-up
			 * packets have no send time: neither is counted. */
			unsigned j = (uint16_t)((p[2] << 8 | p[3]) - st[ssrc].seq0);
			uint64_t sent = j < rp.per ? rp.sent_at[(size_t)j * n + ssrc] : 0;
			if (!sent)
				continue;
			uint64_t d = t > sent ? t - sent : 0;
			if (d > LATE_NS) {
				st[ssrc].late++;
				continue;
			}
			st[ssrc].got++;
			if (n_lat == cap_lat) {
				cap_lat = cap_lat ? 2 * cap_lat : 1 << 20;
				lat_us = realloc(lat_us, cap_lat * sizeof(*lat_us));
			}
			lat_us[n_lat++] = (uint32_t)(d / 1000);
		}
	}
}

static void run_packets_free(struct run_packets *r)
{
	if (r->buf)
		munmap(r->buf, r->buf_len);
	free(r->len);
	free(r->sent_at);
	*r = (struct run_packets){ 0 };
}

/* Protects every packet a run of this length may send (each stream's
 * first falls within the first period, so at most (1 + seconds) * pps + 1
 * each).  The streams' next run starts after all of them, sent or not: a
 * sender's sequence numbers only move forward.  0 or ENOMEM. */
static int run_packets_make(struct run_packets *r, double seconds, unsigned pps, unsigned payload)
{
	r->per = (unsigned)((1.0 + seconds) * pps) + 2;
	r->stride = (12 + payload + SRTP_TRANSFORM_RTP_OVERHEAD_MAX + 63) & ~(size_t)63;
	r->buf_len = (size_t)r->per * n * r->stride;
	r->buf = mmap(NULL, r->buf_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		return ENOMEM;
	}
	madvise(r->buf, r->buf_len, MADV_HUGEPAGE); /* fewer TLB misses; may fail */
	r->len = calloc((size_t)r->per * n, sizeof(*r->len));
	r->sent_at = calloc((size_t)r->per * n, sizeof(*r->sent_at));
	if (!r->len || !r->sent_at)
		return ENOMEM;
	for (unsigned i = 0; i < n; i++)
		st[i].seq0 = st[i].seq;
	for (unsigned j = 0; j < r->per; j++)
		for (unsigned i = 0; i < n; i++) {
			struct stream *s = &st[i];
			size_t at = (size_t)j * n + i, len = 12 + payload;
			uint8_t *p = r->buf + at * r->stride;
			p[0] = 0x80, p[1] = 0;
			p[2] = (uint8_t)(s->seq >> 8), p[3] = (uint8_t)s->seq;
			p[4] = (uint8_t)(s->ts >> 24), p[5] = (uint8_t)(s->ts >> 16),
			p[6] = (uint8_t)(s->ts >> 8), p[7] = (uint8_t)s->ts;
			p[8] = (uint8_t)(i >> 24), p[9] = (uint8_t)(i >> 16), p[10] = (uint8_t)(i >> 8),
			p[11] = (uint8_t)i;
			memset(p + 12, 0x55, payload);
			s->seq++;
			s->ts += 160;
			if (!srtp_transform_protect_rtp(s->out, p, &len, r->stride))
				r->len[at] = (uint16_t)len;
		}
	return 0;
}

static void run(double seconds, unsigned pps, unsigned payload, bool spin)
{
	static struct mmsghdr m[BATCH];
	static struct iovec iov[BATCH];

	if (run_packets_make(&rp, seconds, pps, payload)) {
		fprintf(stderr, "run: out of memory for %u streams\n", n);
		exit(2);
	}
	uint64_t period = 1000000000ull / pps, start = now_ns();
	uint64_t warm_end = start + 1000000000ull, end = warm_end + (uint64_t)(seconds * 1e9);
	uint64_t *next = calloc(n, sizeof(*next));
	bool measuring = false;
	unsigned q = 0;
	uint64_t consent = start; /* next consent_slice */
	unsigned due = 0; /* the stream whose packet is due first */

	/* Counters are per run. */
	n_lat = 0;
	for (unsigned i = 0; i < n; i++) {
		st[i].sent = st[i].got = st[i].late = 0;
		st[i].k = 0;
		next[i] = start + period * i / n; /* spread the streams over a period */
	}
	for (;;) {
		uint64_t t = now_ns();
		if (!measuring && t >= warm_end) {
			measuring = true;
			printf("t0\n");
			fflush(stdout);
		}
		if (t >= end)
			break;
		/* The streams fall due in index order, round and round (each
		 * moves a period on when sent, behind all the others): walk
		 * from the first due, not over all n every pass, which at
		 * 5,000 streams took the generator's core before the relay's
		 * did.  At most one round per pass. */
		for (unsigned k = 0; k < n && next[due] <= t; k++, due = due + 1 == n ? 0 : due + 1) {
			unsigned i = due;
			struct stream *s = &st[i];
			next[i] += period;
			if (s->k == rp.per)
				continue; /* cannot happen: per bounds the run */
			size_t at = (size_t)s->k++ * n + i;
			if (!rp.len[at])
				continue; /* protect failed */
			if (measuring)
				rp.sent_at[at] = t;
			iov[q].iov_base = rp.buf + at * rp.stride;
			iov[q].iov_len = rp.len[at];
			m[q].msg_hdr = (struct msghdr){ .msg_name = &s->dst, .msg_namelen = sizeof(s->dst),
							.msg_iov = &iov[q], .msg_iovlen = 1 };
			if (measuring)
				s->sent++;
			if (++q == BATCH) {
				sendmmsg(w3_fd, m, q, 0);
				q = 0;
			}
		}
		if (q) {
			sendmmsg(w3_fd, m, q, 0);
			q = 0;
		}
		receive_all(measuring);
		if (t >= consent) {
			consent_slice();
			consent = t + 50000000ull;
		}
		drain_w3();
		struct pollfd pf = { ims_fd, POLLIN, 0 };
		poll(&pf, 1, 0);
		if (!spin && !(pf.revents & POLLIN)) {
			struct timespec ts = { 0, 100000 }; /* 0.1 ms */
			nanosleep(&ts, NULL);
		}
	}
	printf("t1\n");
	fflush(stdout);
	/* Packets in flight at the end: 100 ms to arrive. */
	uint64_t drain = now_ns() + LATE_NS;
	while (now_ns() < drain) {
		receive_all(true);
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
	uint64_t sent = 0, got = 0, late = 0;
	for (unsigned i = 0; i < n; i++) {
		sent += st[i].sent;
		got += st[i].got;
		late += st[i].late;
	}
	run_packets_free(&rp);
	qsort(lat_us, n_lat, sizeof(*lat_us), cmp_u32);
	printf("{\"streams\": %u, \"seconds\": %.3f, \"sent\": %llu, \"received\": %llu, \"late\": %llu, "
	       "\"p50_us\": %u, \"p99_us\": %u}\n",
	       n, seconds, (unsigned long long)sent, (unsigned long long)got, (unsigned long long)late,
	       n_lat ? lat_us[n_lat / 2] : 0, n_lat ? lat_us[n_lat * 99 / 100] : 0);
	fflush(stdout);
	free(next);
}

static int b64(const char *in, uint8_t *out, size_t want)
{
	uint8_t tmp[64];
	int k = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)strlen(in));
	if (k < (int)want)
		return EINVAL;
	memcpy(out, tmp, want);
	return 0;
}

int main(int argc, char **argv)
{
	struct tls_identity id;
	struct dtls_ctx ctx;
	char line[1024];

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: bench_relay_load W3_PORT IMS_PORT [SRTP_PROFILES] < commands\n");
		return 2;
	}
	if (argc == 4)
		srtp_profiles = argv[3];
	w3_fd = udp((uint16_t)atoi(argv[1]), 8 << 20);
	ims_fd = udp((uint16_t)atoi(argv[2]), 32 << 20);
	st = calloc(MAX_STREAMS, sizeof(*st));
	if (tls_identity_generate(&id, "bench", 30) || dtls_ctx_init(&ctx, &id))
		return 2;
	printf("fingerprint %s\n", id.fingerprint_sha256);
	fflush(stdout);
	/* Unbuffered: poll on fd 0 below must see every pending line. */
	setvbuf(stdin, NULL, _IONBF, 0);
	bool ready = false;
	for (;;) {
		/* Idle between runs (--interleave runs the other relays then),
		 * consent checks every 5 s as a browser sends them whether or
		 * not it sends media (RFC 7675): a relay idle for more than 30 s
		 * would otherwise lose consent and drop the next run. */
		struct pollfd in = { 0, POLLIN, 0 };
		int pr = poll(&in, 1, ready ? 50 : -1);
		if (pr == 0) {
			consent_slice(); /* all at once would also hold the
					  * relays' core while another is measured */
			drain_w3();
			continue;
		}
		if (pr < 0 && errno == EINTR)
			continue;
		if (!fgets(line, sizeof(line), stdin))
			break;
		char ip[64], a[128], b[128], c[128];
		unsigned port;
		if (!strncmp(line, "dtls ", 5) && n < MAX_STREAMS &&
		    sscanf(line, "dtls %63s %u %127s %127s %127s", ip, &port, a, b, c) == 5) {
			struct stream *s = &st[n++];
			s->dst.sin_family = AF_INET;
			s->dst.sin_port = htons((uint16_t)port);
			inet_pton(AF_INET, ip, &s->dst.sin_addr);
			snprintf(s->ufrag, sizeof(s->ufrag), "%s", a);
			snprintf(s->pwd, sizeof(s->pwd), "%s", b);
			snprintf(s->fp, sizeof(s->fp), "%s", c);
			s->dtls = true;
		} else if (!strncmp(line, "sdes ", 5) && n < MAX_STREAMS &&
			   sscanf(line, "sdes %63s %u %127s", ip, &port, a) == 3) {
			struct stream *s = &st[n++];
			s->dst.sin_family = AF_INET;
			s->dst.sin_port = htons((uint16_t)port);
			inet_pton(AF_INET, ip, &s->dst.sin_addr);
			if (b64(a, s->key, 30) ||
			    srtp_transform_create(SRTP_PROFILE_AES128_CM_HMAC_SHA1_80, SRTP_TRANSFORM_OUTBOUND,
						  s->key, 16, s->key + 16, 14, &s->out)) {
				fprintf(stderr, "bad key\n");
				return 2;
			}
		} else if (!strncmp(line, "setup", 5)) {
			int rc = setup_dtls(&ctx);
			if (rc)
				printf("failed %d\n", rc);
			else
				printf("ready %u %s\n", n, negotiated);
			ready = !rc;
			fflush(stdout);
		} else if (!strncmp(line, "run ", 4)) {
			double secs;
			unsigned pps, payload;
			char mode[16] = "";
			if (sscanf(line, "run %lf %u %u %15s", &secs, &pps, &payload, mode) >= 3 && payload >= 16)
				run(secs, pps, payload, !strcmp(mode, "spin"));
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (st[i].dtls)
			dtls_session_free(&st[i].s);
		srtp_transform_free(st[i].out);
	}
	free(st);
	free(lat_us);
	dtls_ctx_free(&ctx);
	tls_identity_free(&id);
	return 0;
}
