/* JWT checks: shape and algorithm by hand, signature by libjwt, claims by
 * jansson over the very payload libjwt verified. */
#include "jwt_verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>

#include "base64url.h"

#define HEADER_MAX 1024
#define PAYLOAD_MAX 8192
#define B64URL_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

__attribute__((format(printf, 4, 5)))
static int refuse(struct jwt_verdict *v, int status, const char *error, const char *fmt, ...)
{
	va_list ap;
	v->status = status;
	v->error = error;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	return status == 401 ? EACCES : EPERM;
}

/* Decodes one base64url part as a JSON object (duplicate names refused:
 * two "aud" members must not mean different things to different readers). */
static json_t *part_json(const char *s, size_t n, size_t max)
{
	unsigned char *buf;
	size_t len;
	json_t *j = NULL;

	if (n == 0 || b64url_decoded_max(n) > max + 2 || !(buf = malloc(b64url_decoded_max(n))))
		return NULL;
	if (!b64url_decode(s, n, buf, b64url_decoded_max(n), &len) && len <= max)
		j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static int str_claim(json_t *pl, const char *name, char *out, size_t cap, struct jwt_verdict *v)
{
	json_t *x = json_object_get(pl, name);
	if (!json_is_string(x))
		return refuse(v, 401, "invalid_token", "claim \"%s\" missing or not a string", name);
	if (!json_string_length(x) || json_string_length(x) >= cap ||
	    strlen(json_string_value(x)) != json_string_length(x))
		return refuse(v, 401, "invalid_token", "claim \"%s\" empty, too long or with NUL",
			      name);
	snprintf(out, cap, "%s", json_string_value(x));
	return 0;
}

/* NumericDate (RFC 7519 2): a JSON number; *present 0 when absent. */
static int time_claim(json_t *pl, const char *name, long long *t, int *present,
		      struct jwt_verdict *v)
{
	json_t *x = json_object_get(pl, name);
	*present = x != NULL;
	if (!x)
		return 0;
	if (json_is_integer(x)) {
		*t = json_integer_value(x);
	} else if (json_is_real(x) && json_real_value(x) > -1e15 && json_real_value(x) < 1e15) {
		*t = (long long)json_real_value(x);
	} else {
		return refuse(v, 401, "invalid_token", "claim \"%s\" is not a number", name);
	}
	return 0;
}

static int check_aud(json_t *pl, const char *aud, struct jwt_verdict *v)
{
	json_t *a = json_object_get(pl, "aud");
	if (json_is_string(a)) {
		if (!strcmp(json_string_value(a), aud))
			return 0;
	} else if (json_is_array(a)) {
		size_t i;
		json_t *e;
		json_array_foreach(a, i, e) {
			if (!json_is_string(e))
				return refuse(v, 401, "invalid_token",
					      "claim \"aud\" holds a non-string");
			if (!strcmp(json_string_value(e), aud))
				return 0;
		}
	} else {
		return refuse(v, 401, "invalid_token", "claim \"aud\" missing or not a string");
	}
	return refuse(v, 401, "invalid_token", "audience is not this eP-CSCF");
}

static int check_claims(json_t *pl, const struct jwt_verify_cfg *c, const struct wwsf *w,
			long long now, struct jwt_claims *out, struct jwt_verdict *v)
{
	char iss[WWSF_ISSUER_MAX], wwsf_id[WWSF_NAME_MAX];
	long long nbf = 0, iat = 0;
	int has_exp, has_nbf, has_iat;

	/* Types first, so that a claim of the wrong type is named as such. */
	if (str_claim(pl, "iss", iss, sizeof(iss), v) ||
	    time_claim(pl, "exp", &out->exp, &has_exp, v) ||
	    time_claim(pl, "nbf", &nbf, &has_nbf, v) || time_claim(pl, "iat", &iat, &has_iat, v) ||
	    str_claim(pl, "jti", out->jti, sizeof(out->jti), v) ||
	    str_claim(pl, "impu", out->impu, sizeof(out->impu), v) ||
	    str_claim(pl, "impi", out->impi, sizeof(out->impi), v) ||
	    str_claim(pl, "3gpp-wwsf", wwsf_id, sizeof(wwsf_id), v) ||
	    str_claim(pl, "3gpp-waf", out->waf, sizeof(out->waf), v))
		return EACCES;
	if (!has_exp)
		return refuse(v, 401, "invalid_token", "claim \"exp\" missing");
	if (strcmp(iss, w->issuer))
		return refuse(v, 401, "invalid_token", "issuer is not that of wwsf %s", w->name);
	if (check_aud(pl, c->audience, v))
		return EACCES;
	if (now > out->exp + c->leeway_s)
		return refuse(v, 401, "invalid_token", "token expired");
	if (has_nbf && now + c->leeway_s < nbf)
		return refuse(v, 401, "invalid_token", "token not yet valid");
	if (has_iat && now + c->leeway_s < iat)
		return refuse(v, 401, "invalid_token", "token issued in the future");
	if (strcmp(wwsf_id, w->name))
		return refuse(v, 401, "invalid_token", "claim \"3gpp-wwsf\" is not wwsf %s", w->name);
	if (strncmp(out->impu, "sip:", 4) && strncmp(out->impu, "tel:", 4))
		return refuse(v, 401, "invalid_token", "claim \"impu\" is not a sip: or tel: URI");
	if (strpbrk(out->impu, "<>\" \t\r\n,") || strpbrk(out->impi, "\"\\\r\n"))
		return refuse(v, 401, "invalid_token", "claim \"impu\" or \"impi\" has a bad character");
	return 0;
}

/* The header: algorithm, kid, key. */
static int check_header(const struct wwsf_policy *p, json_t *h, const struct wwsf_key **key,
			const struct wwsf **owner, jwt_alg_t *alg, struct jwt_verdict *v)
{
	json_t *a = json_object_get(h, "alg"), *kid = json_object_get(h, "kid");
	json_t *typ = json_object_get(h, "typ");

	if (!json_is_string(a))
		return refuse(v, 401, "invalid_token", "header \"alg\" missing or not a string");
	if (!strcmp(json_string_value(a), "ES256"))
		*alg = JWT_ALG_ES256;
	else if (!strcmp(json_string_value(a), "RS256"))
		*alg = JWT_ALG_RS256;
	else
		return refuse(v, 401, "invalid_token", "alg \"%.16s\" not allowed",
			      json_string_value(a));
	if (json_object_get(h, "crit"))
		return refuse(v, 401, "invalid_token", "header \"crit\" not supported");
	if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT")))
		return refuse(v, 401, "invalid_token", "header \"typ\" is not JWT");
	if (!json_is_string(kid))
		return refuse(v, 401, "invalid_token", "header \"kid\" missing or not a string");
	if (!(*key = wwsf_policy_find_key(p, json_string_value(kid), owner)))
		return refuse(v, 401, "invalid_token", "unknown kid \"%.40s\"", json_string_value(kid));
	if ((*alg == JWT_ALG_ES256) != ((*key)->type == WWSF_KEY_EC_P256))
		return refuse(v, 401, "invalid_token", "alg %s does not fit key \"%.40s\"",
			      *alg == JWT_ALG_ES256 ? "ES256" : "RS256", (*key)->kid);
	return 0;
}

/* The token is not NUL-terminated: no str* functions over it. */
static int all_b64url_or_dot(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0' || !strchr(B64URL_CHARS ".", s[i]))
			return 0;
	return 1;
}

int jwt_token_verify(const struct wwsf_policy *p, const struct jwt_verify_cfg *c,
		     const char *token, size_t len, long long now, struct jwt_claims *out,
		     struct jwt_verdict *v)
{
	const struct wwsf_key *key = NULL;
	const struct wwsf *owner = NULL;
	jwt_alg_t alg = JWT_ALG_NONE;
	json_t *h = NULL, *pl = NULL;
	jwt_t *jwt = NULL;
	char *copy = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > c->max_bytes)
		return refuse(v, 401, "invalid_token", "token larger than %zu bytes", c->max_bytes);
	const char *d1 = memchr(token, '.', len), *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	if (!d1 || !d2 || d1 == token || d2 == d1 + 1 || d2 + 1 == token + len ||
	    !all_b64url_or_dot(token, len) ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
		return refuse(v, 401, "invalid_token", "token is not three base64url parts");
	if (!(h = part_json(token, (size_t)(d1 - token), HEADER_MAX))) {
		rc = refuse(v, 401, "invalid_token", "header is not a JSON object");
		goto out;
	}
	if ((rc = check_header(p, h, &key, &owner, &alg, v)))
		goto out;
	size_t sig_len = len - (size_t)(d2 + 1 - token);
	if (alg == JWT_ALG_ES256 && sig_len != 86) { /* 64 octets: R || S (RFC 7518 3.4) */
		rc = refuse(v, 401, "invalid_token", "signature check failed");
		goto out;
	}
	if (!(pl = part_json(d1 + 1, (size_t)(d2 - d1 - 1), PAYLOAD_MAX))) {
		rc = refuse(v, 401, "invalid_token", "payload is not a JSON object");
		goto out;
	}
	/* libjwt wants a NUL-terminated token; the key fixes the algorithm
	 * family and we checked alg against it above. */
	if (!(copy = strndup(token, len))) {
		rc = refuse(v, 401, "invalid_token", "out of memory");
		goto out;
	}
	if (jwt_decode(&jwt, copy, (const unsigned char *)key->pem, (int)key->pem_len) ||
	    jwt_get_alg(jwt) != alg) {
		rc = refuse(v, 401, "invalid_token", "signature check failed");
		goto out;
	}
	out->wwsf = owner;
	rc = check_claims(pl, c, owner, now, out, v);
out:
	if (rc)
		out->wwsf = NULL;
	jwt_free(jwt);
	free(copy);
	json_decref(h);
	json_decref(pl);
	return rc;
}

int jwt_token_authorize(struct jwt_claims *c, const struct wwsf *flow_wwsf, const char *impu,
			struct jwt_verdict *v)
{
	const struct wwsf *w = c->wwsf;
	size_t i;

	if (w->barred)
		return refuse(v, 403, "insufficient_scope", "wwsf %s is barred", w->name);
	if (flow_wwsf != w)
		return refuse(v, 403, "insufficient_scope", "origin is not one of wwsf %s", w->name);
	for (i = 0; i < w->n_wafs && strcmp(w->wafs[i], c->waf); i++)
		;
	if (w->n_wafs && i == w->n_wafs)
		return refuse(v, 403, "insufficient_scope", "waf not allowed for wwsf %s", w->name);
	c->in_range = 0;
	for (i = 0; i < w->n_impus && !impu_pattern_match(w->impus[i], c->impu); i++)
		;
	if (i == w->n_impus) {
		for (i = 0; i < w->n_ranges && !impu_pattern_match(w->ranges[i], c->impu); i++)
			;
		if (i == w->n_ranges)
			return refuse(v, 403, "insufficient_scope",
				      "impu not allowed for wwsf %s", w->name);
		c->in_range = 1;
		snprintf(c->range, sizeof(c->range), "%s", w->ranges[i]);
	}
	if (impu && strcmp(impu, c->impu))
		return refuse(v, 403, "insufficient_scope", "token is for another impu");
	return 0;
}
