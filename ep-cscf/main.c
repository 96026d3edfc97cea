/* ep-cscf: the P-CSCF enhanced for WebRTC.  This file holds the option
 * table and the root object; signalling features hang off struct epcscf as
 * they land. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "tls_identity.h"

enum epcscf_subsys { SUB_CORE, SUB_TLS, N_SUBSYS };
static const char *const subsys_names[N_SUBSYS] = { "core", "tls" };

struct epcscf_cfg {
	struct daemon_cfg common; /* must be first */
	char *tls_cert;
	char *tls_key;
};

static const struct conf_opt opts[] = {
	DAEMON_COMMON_OPTS(struct epcscf_cfg, "/var/lib/ep-cscf", "127.0.0.1:9101"),
	{ "tls.cert", CONF_PATH, offsetof(struct epcscf_cfg, tls_cert), "", 0, 0,
	  NULL, 0, "PEM certificate for WSS/TLS (empty: generated under state_dir)" },
	{ "tls.key", CONF_PATH, offsetof(struct epcscf_cfg, tls_key), "", 0, 0,
	  NULL, 0, "PEM private key for tls.cert (empty: in the same file)" },
};

/* Root of the daemon's ownership tree (below struct daemon). */
struct epcscf {
	struct tls_identity tls; /* owned */
};

static int epcscf_prepare(struct daemon *d, char *err, size_t errlen)
{
	struct epcscf *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->app = e;
	return daemon_load_identity(d, &e->tls, "tls.cert", "tls.key", "ep-cscf",
				    err, errlen);
}

static int epcscf_start(struct daemon *d, char *err, size_t errlen)
{
	struct epcscf *e = d->app;
	(void)err;
	(void)errlen;
	log_info(&d->log, SUB_TLS, NULL, "tls identity",
		 LF_S("cert", e->tls.cert_path),
		 LF_S("generated", e->tls.generated ? "yes" : "no"),
		 LF_S("fingerprint", e->tls.fingerprint_sha256));
	return 0;
}

static void epcscf_stop(struct daemon *d)
{
	(void)d; /* nothing beyond the common handles is open yet */
}

static void epcscf_destroy(struct daemon *d)
{
	struct epcscf *e = d->app;
	if (!e)
		return;
	tls_identity_free(&e->tls);
	free(e);
	d->app = NULL;
}

static const struct daemon_ops epcscf_ops = {
	.name = "ep-cscf",
	.opts = opts,
	.n_opts = sizeof(opts) / sizeof(opts[0]),
	.cfg_size = sizeof(struct epcscf_cfg),
	.subsys = subsys_names,
	.n_subsys = N_SUBSYS,
	.build_info_metric = "epcscf_build_info",
	.prepare = epcscf_prepare,
	.start = epcscf_start,
	.stop = epcscf_stop,
	.destroy = epcscf_destroy,
};

int main(int argc, char **argv)
{
	return daemon_main(&epcscf_ops, argc, argv);
}
