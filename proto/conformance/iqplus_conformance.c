/* iqplus-conformance: tests an Iq+ implementation against proto/SPEC.md.
 * Pointed at a controller it plays an AGW; pointed at an AGW it plays the
 * controller.  One TAP line per case ("ok N - [clause] title"), then
 * "N passed, N failed"; exit 1 on any failure.  See proto/README.md. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cf_suite.h"
#include "conf.h"
#include "iqp_tls.h"
#include "tls_identity.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: iqplus-conformance --target controller --connect ADDR [options]\n"
		"       iqplus-conformance --target agw --listen ADDR [options]\n"
		"       iqplus-conformance --print-fingerprint [--state-dir D] [--node-id ID]\n"
		"options:\n"
		"  --plain              plain TCP (the implementation must be configured for it)\n"
		"  --state-dir DIR      where our generated certificate lives (default ./iqplus-conformance)\n"
		"  --cert FILE --key FILE  our certificate instead of a generated one\n"
		"  --node-id ID         our NODE_ID (default iqplus-conformance)\n"
		"  --trust FP           SHA-256 fingerprint of the peer's certificate (repeatable)\n"
		"  --ca FILE            CA file the peer's certificate chains to\n"
		"  --name NAME          controller under test: the name its certificate must carry\n"
		"  --slow               also run the cases that wait for 10 s timers\n"
		"  --only TEXT          run only the cases whose clause or title contains TEXT\n"
		"  --list               list the cases and exit\n");
}

static void fill_self(struct cf_ctx *x, const char *node_id)
{
	struct iqp_node_info *s = &x->self;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(s->node_id, sizeof(s->node_id), "%s", node_id);
	s->epoch = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	s->n_versions = 1;
	s->versions[0] = IQP_VERSION_1_0;
	s->sc_method = IQP_SC_RESTART;
	s->sc_reason = 901;
	s->params.hb_interval = x->hb_ms;
	snprintf(s->software, sizeof(s->software), "iqplus-conformance " VERSION);
	/* As an AGW: what a controller needs to accept us (7.2.3 check 5). */
	s->max_contexts = 100;
	s->n_realms = 2;
	snprintf(s->realms[0].name, sizeof(s->realms[0].name), "w3");
	s->realms[0].side = 1;
	snprintf(s->realms[1].name, sizeof(s->realms[1].name), "ims");
	s->realms[1].side = 2;
	for (int i = 0; i < 2; i++) {
		s->realms[i].n_addr = 1;
		s->realms[i].addr[0].family = 4;
		memcpy(s->realms[i].addr[0].addr, "\x7f\x00\x00\x01", 4);
	}
	s->caps.ice_modes = 1u << 1;
	s->caps.dtls_setups = 1u << IQP_SETUP_ACTIVE | 1u << IQP_SETUP_PASSIVE;
	s->caps.n_srtp = 1;
	s->caps.srtp[0] = 0x0001;
}

static bool selected(const struct cf_case *c, const char *only)
{
	return !only || strstr(c->clause, only) || strstr(c->title, only);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target", 1, 0, 't' }, { "connect", 1, 0, 'c' }, { "listen", 1, 0, 'l' },
		{ "plain", 0, 0, 'p' }, { "state-dir", 1, 0, 's' }, { "cert", 1, 0, 'C' },
		{ "key", 1, 0, 'K' }, { "node-id", 1, 0, 'n' }, { "trust", 1, 0, 'T' },
		{ "ca", 1, 0, 'A' }, { "name", 1, 0, 'N' }, { "slow", 0, 0, 'S' },
		{ "only", 1, 0, 'o' }, { "list", 0, 0, 'L' }, { "print-fingerprint", 0, 0, 'F' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *target = NULL, *addr = NULL, *state = "iqplus-conformance", *cert = "",
		   *key = "", *node_id = "iqplus-conformance", *ca = "", *only = NULL;
	const char *pins[16];
	size_t n_pins = 0;
	bool plain = false, list = false, print_fp = false;
	struct cf_ctx x = { .timeout_ms = 5000, .hb_ms = 5000, .lfd = -1 };
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 't': target = optarg; break;
		case 'c': case 'l': addr = optarg; break;
		case 'p': plain = true; break;
		case 's': state = optarg; break;
		case 'C': cert = optarg; break;
		case 'K': key = optarg; break;
		case 'n': node_id = optarg; break;
		case 'T':
			if (n_pins == 16) {
				fprintf(stderr, "iqplus-conformance: at most 16 --trust\n");
				return 2;
			}
			pins[n_pins++] = optarg;
			break;
		case 'A': ca = optarg; break;
		case 'N': x.expect_name = optarg; break;
		case 'S': x.slow = true; break;
		case 'o': only = optarg; break;
		case 'L': list = true; break;
		case 'F': print_fp = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (list) {
		for (size_t i = 0; i < cf_n_controller_cases; i++)
			printf("controller  [%s] %s%s\n", cf_controller_cases[i].clause,
			       cf_controller_cases[i].title, cf_controller_cases[i].slow ? " (slow)" : "");
		for (size_t i = 0; i < cf_n_agw_cases; i++)
			printf("agw         [%s] %s%s\n", cf_agw_cases[i].clause, cf_agw_cases[i].title,
			       cf_agw_cases[i].slow ? " (slow)" : "");
		return 0;
	}

	struct tls_identity id;
	struct iqp_tls_ctx tls;
	char err[512];
	if (!plain || print_fp) {
		if (iqp_tls_identity_load(&id, cert, key, state, node_id, err, sizeof(err))) {
			fprintf(stderr, "iqplus-conformance: %s\n", err);
			return 2;
		}
		if (print_fp) {
			printf("%s\n", id.fingerprint_sha256);
			tls_identity_free(&id);
			return 0;
		}
	}
	if (!target || (strcmp(target, "controller") && strcmp(target, "agw")) || !addr) {
		usage(stderr);
		return 2;
	}
	x.target = !strcmp(target, "controller") ? CF_CONTROLLER : CF_AGW;
	struct conf_addr ca_addr;
	if (conf_addr_parse(addr, &ca_addr)) {
		fprintf(stderr, "iqplus-conformance: \"%s\" is not an address (IPv4:port or [IPv6]:port)\n", addr);
		return 2;
	}
	if (!plain) {
		if (iqp_tls_ctx_init(&tls, x.target == CF_AGW, &id, pins, n_pins, ca, err, sizeof(err))) {
			fprintf(stderr, "iqplus-conformance: %s\n", err);
			return 2;
		}
		x.tls = &tls;
	}
	fill_self(&x, node_id);
	memcpy(&x.addr, &ca_addr.ss, sizeof(x.addr));
	x.addr_len = ca_addr.len;
	if (x.target == CF_AGW) {
		int one = 1;
		x.lfd = socket(x.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (x.lfd < 0 || setsockopt(x.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(x.lfd, (struct sockaddr *)&x.addr, x.addr_len) || listen(x.lfd, 8)) {
			fprintf(stderr, "iqplus-conformance: cannot listen on %s: %s\n", addr, strerror(errno));
			return 2;
		}
	}

	const struct cf_case *cases = x.target == CF_AGW ? cf_agw_cases : cf_controller_cases;
	size_t n = x.target == CF_AGW ? cf_n_agw_cases : cf_n_controller_cases;
	unsigned passed = 0, failed = 0, num = 0;
	printf("# iqplus-conformance %s against the %s at %s (%s)\n", VERSION, target, addr,
	       plain ? "plain TCP" : "TLS 1.3");
	for (size_t i = 0; i < n; i++) {
		const struct cf_case *c = &cases[i];
		char why[512] = "";
		if (!selected(c, only))
			continue;
		num++;
		if (c->slow && !x.slow) {
			printf("ok %u - [%s] %s # SKIP slow (--slow)\n", num, c->clause, c->title);
			passed++;
			continue;
		}
		enum cf_result r = c->run(&x, why, sizeof(why));
		if (r == CF_FAIL) {
			printf("not ok %u - [%s] %s\n#   %s\n", num, c->clause, c->title, why);
			failed++;
		} else {
			printf("ok %u - [%s] %s%s%s\n", num, c->clause, c->title,
			       r == CF_SKIP ? " # SKIP " : why[0] ? " # " : "", why);
			passed++;
		}
		fflush(stdout);
	}
	cf_controller_unlink(&x);
	printf("%u passed, %u failed\n", passed, failed);
	if (x.lfd >= 0)
		close(x.lfd);
	if (!plain) {
		iqp_tls_ctx_free(&tls);
		tls_identity_free(&id);
	}
	return failed ? 1 : 0;
}
