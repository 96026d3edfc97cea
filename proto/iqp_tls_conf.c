/* Iq+ security settings: pins, identity, TLS context. */
#include "iqp_tls_conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool iqp_node_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

int iqp_tls_conf_load(struct iqp_tls_ctx *ctx, struct tls_identity *id,
		      bool server, const struct iqp_tls_conf *c, char *err,
		      size_t errlen)
{
	uint8_t fp[IQP_FP_LEN];
	char why[512];
	int rc;

	for (size_t i = 0; i < c->pins->n; i++)
		if (iqp_tls_fingerprint_parse(c->pins->items[i], fp)) {
			snprintf(err, errlen,
				 "%s: iq.trusted_fingerprints: \"%s\" is not a SHA-256 fingerprint",
				 c->pins->where[i], c->pins->items[i]);
			return EINVAL;
		}
	if (!*c->cert && *c->key) {
		snprintf(err, errlen, "%s: iq.key: set without iq.cert", c->where_key);
		return EINVAL;
	}
	if ((rc = iqp_tls_identity_load(id, c->cert, c->key, c->state_dir, c->node_id,
					why, sizeof(why)))) {
		const char *k = !*c->cert ? "state_dir"
			      : *c->key && strstr(why, "private key") ? "iq.key" : "iq.cert";
		const char *w = !*c->cert ? c->where_state_dir
			      : !strcmp(k, "iq.key") ? c->where_key : c->where_cert;
		snprintf(err, errlen, "%s: %s: %s", w, k, why);
		return rc;
	}
	if ((rc = iqp_tls_ctx_init(ctx, server, id, (const char *const *)c->pins->items,
				   c->pins->n, c->ca_file, why, sizeof(why)))) {
		snprintf(err, errlen, "%s: %s: %s", *c->ca_file ? c->where_ca : c->where_cert,
			 *c->ca_file ? "iq.ca_file" : "iq.cert", why);
		tls_identity_free(id);
		return rc;
	}
	return 0;
}
