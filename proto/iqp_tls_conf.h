/* The security settings of a daemon's Iq+ end (SPEC.md 2.2, 2.3) turned
 * into an identity and a TLS context at start-up, with configuration
 * errors that name the option and where it was set. */
#ifndef PROTO_IQP_TLS_CONF_H
#define PROTO_IQP_TLS_CONF_H

#include <stdbool.h>

#include "conf.h"
#include "iqp_tls.h"

struct iqp_tls_conf {
	const char *cert, *key;         /* iq.cert, iq.key ("": generated) */
	const char *state_dir;
	const char *node_id;            /* goes into a generated certificate;
					 * several separated by spaces: all */
	const struct conf_list *pins;   /* iq.trusted_fingerprints */
	const char *ca_file;            /* iq.ca_file ("": none) */
	/* Where each option was set ("file:line", "<default>"...). */
	const char *where_cert, *where_key, *where_ca, *where_state_dir;
};

/* Checks the pins, loads (or generates) the identity and makes the
 * context.  On error one line naming the option; nothing to free then.
 * On success the caller frees ctx then id. */
int iqp_tls_conf_load(struct iqp_tls_ctx *ctx, struct tls_identity *id,
		      bool server, const struct iqp_tls_conf *c, char *err,
		      size_t errlen);

/* NODE_ID syntax (7.2.2): 1-64 bytes of [A-Za-z0-9._-]. */
bool iqp_node_id_valid(const char *s);

#endif
