/* eims-agw: the IMS access gateway enhanced for WebRTC (media plane).  This file holds the option
 * table and the root object; media features hang off struct agw as
 * they land. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "tls_identity.h"

enum agw_subsys { SUB_CORE, SUB_DTLS, N_SUBSYS };
static const char *const subsys_names[N_SUBSYS] = { "core", "dtls" };

struct agw_cfg {
	struct daemon_cfg common; /* must be first */
	char *dtls_cert;
	char *dtls_key;
};

static const struct conf_opt opts[] = {
	DAEMON_COMMON_OPTS(struct agw_cfg, "/var/lib/eims-agw", "127.0.0.1:9102"),
	{ "dtls.cert", CONF_PATH, offsetof(struct agw_cfg, dtls_cert), "", 0, 0,
	  NULL, 0, "PEM certificate for DTLS-SRTP (empty: generated under state_dir)" },
	{ "dtls.key", CONF_PATH, offsetof(struct agw_cfg, dtls_key), "", 0, 0,
	  NULL, 0, "PEM private key for dtls.cert (empty: in the same file)" },
};

/* Root of the daemon's ownership tree (below struct daemon). */
struct agw {
	struct tls_identity dtls; /* owned: one certificate per process (RFC 5763) */
};

static int agw_prepare(struct daemon *d, char *err, size_t errlen)
{
	struct agw *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->app = e;
	return daemon_load_identity(d, &e->dtls, "dtls.cert", "dtls.key", "eims-agw",
				    err, errlen);
}

static int agw_start(struct daemon *d, char *err, size_t errlen)
{
	struct agw *e = d->app;
	(void)err;
	(void)errlen;
	log_info(&d->log, SUB_DTLS, NULL, "dtls identity",
		 LF_S("cert", e->dtls.cert_path),
		 LF_S("generated", e->dtls.generated ? "yes" : "no"),
		 LF_S("fingerprint", e->dtls.fingerprint_sha256));
	return 0;
}

static void agw_stop(struct daemon *d)
{
	(void)d; /* nothing beyond the common handles is open yet */
}

static void agw_destroy(struct daemon *d)
{
	struct agw *e = d->app;
	if (!e)
		return;
	tls_identity_free(&e->dtls);
	free(e);
	d->app = NULL;
}

static const struct daemon_ops agw_ops = {
	.name = "eims-agw",
	.opts = opts,
	.n_opts = sizeof(opts) / sizeof(opts[0]),
	.cfg_size = sizeof(struct agw_cfg),
	.subsys = subsys_names,
	.n_subsys = N_SUBSYS,
	.build_info_metric = "eimsagw_build_info",
	.prepare = agw_prepare,
	.start = agw_start,
	.stop = agw_stop,
	.destroy = agw_destroy,
};

int main(int argc, char **argv)
{
	return daemon_main(&agw_ops, argc, argv);
}
