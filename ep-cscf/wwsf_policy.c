/* WWSF origin allow-lists. */
#include "wwsf_policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impu_range.h"

int wwsf_origin_normalize(const char *in, char *out, size_t outlen)
{
	const char *host, *port = NULL, *end;
	int https;

	if (!strncasecmp(in, "https://", 8)) {
		https = 1;
		host = in + 8;
	} else if (!strncasecmp(in, "http://", 7)) {
		https = 0;
		host = in + 7;
	} else {
		return EINVAL;
	}
	end = host + strlen(host);
	if (host == end || strpbrk(host, "/?#@ \t"))
		return EINVAL; /* an origin has no path, query or userinfo */
	if (*host == '[') {
		const char *rb = strchr(host, ']');
		/* an IPv6 literal: hex digits, colons (and a dotted tail) */
		if (!rb || rb == host + 1 ||
		    strspn(host + 1, "0123456789abcdefABCDEF:.") != (size_t)(rb - host - 1))
			return EINVAL;
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1])
			return EINVAL;
		end = rb + 1;
	} else {
		const char *colon = strchr(host, ':');
		if (strpbrk(host, "[]"))
			return EINVAL;
		if (colon) {
			port = colon + 1;
			end = colon;
		}
	}
	if (end == host)
		return EINVAL;
	long pn = https ? 443 : 80;
	if (port) {
		char *pe;
		if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
			return EINVAL;
		pn = strtol(port, &pe, 10);
		if (pn < 1 || pn > 65535)
			return EINVAL;
	}
	size_t hl = (size_t)(end - host), pos;
	int n = snprintf(out, outlen, "%s://", https ? "https" : "http");
	if (n < 0 || (size_t)n + hl + 7 >= outlen)
		return EINVAL;
	pos = (size_t)n;
	for (size_t i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)host[i];
		if (c < 0x21 || c > 0x7e)
			return EINVAL;
		out[pos++] = (char)tolower(c);
	}
	out[pos] = '\0';
	if (pn != (https ? 443 : 80))
		snprintf(out + pos, outlen - pos, ":%ld", pn);
	return 0;
}

/* Appends item (at most w-1 chars) to a fixed-width array. */
static int add_item(void *arrp, size_t *n, size_t w, const char *item)
{
	char **arr = arrp;
	char *grown = realloc(*arr, (*n + 1) * w);
	if (!grown)
		return ENOMEM;
	*arr = grown;
	snprintf(grown + *n * w, w, "%s", item);
	(*n)++;
	return 0;
}

static int bad(char *err, size_t errlen, const char *where, const struct wwsf *w,
	       const char *why)
{
	snprintf(err, errlen, "%s: wwsf %s: %s", where, w->name, why);
	return EINVAL;
}

static int parse_origins(struct wwsf *w, char *list, const char *where, char *err,
			 size_t errlen)
{
	char *save2 = NULL;
	for (char *o = strtok_r(list, ",", &save2); o; o = strtok_r(NULL, ",", &save2)) {
		char norm[WWSF_ORIGIN_MAX], why[160];
		if (wwsf_origin_normalize(o, norm, sizeof(norm))) {
			snprintf(why, sizeof(why),
				 "\"%.80s\" is not an origin (scheme://host[:port])", o);
			return bad(err, errlen, where, w, why);
		}
		if (add_item(&w->origins, &w->n_origins, WWSF_ORIGIN_MAX, norm)) {
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
	}
	return 0;
}

static int parse_patterns(struct wwsf *w, char *list, int ranges, const char *where,
			  char *err, size_t errlen)
{
	char *save2 = NULL, why[200];
	for (char *o = strtok_r(list, ",", &save2); o; o = strtok_r(NULL, ",", &save2)) {
		if (impu_pattern_check(o, why, sizeof(why)))
			return bad(err, errlen, where, w, why);
		if (ranges && !strchr(o, '*')) {
			snprintf(why, sizeof(why), "range \"%.80s\" has no '*'", o);
			return bad(err, errlen, where, w, why);
		}
		if (add_item(ranges ? (void *)&w->ranges : (void *)&w->impus,
			     ranges ? &w->n_ranges : &w->n_impus, WWSF_PATTERN_MAX, o)) {
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
	}
	return 0;
}

static int parse_attr(struct wwsf *w, char *tok, const char *where, char *err, size_t errlen)
{
	char *eq = strchr(tok, '='), why[160];
	if (!eq || eq == tok) {
		snprintf(why, sizeof(why), "unknown attribute \"%.40s\"", tok);
		return bad(err, errlen, where, w, why);
	}
	*eq = '\0';
	char *v = eq + 1;
	if (!strcmp(tok, "origins"))
		return parse_origins(w, v, where, err, errlen);
	if (!strcmp(tok, "impus") || !strcmp(tok, "ranges"))
		return parse_patterns(w, v, tok[0] == 'r', where, err, errlen);
	if (!strcmp(tok, "issuer")) {
		if (strlen(v) >= WWSF_ISSUER_MAX || strpbrk(v, "\"\\"))
			return bad(err, errlen, where, w, "issuer too long or with quotes");
		snprintf(w->issuer, sizeof(w->issuer), "%s", v);
		return 0;
	}
	if (!strcmp(tok, "jwks")) {
		free(w->jwks_path);
		w->jwks_path = NULL;
		if (!*v)
			return 0;
		if (!(w->jwks_path = strdup(v))) {
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
		return 0;
	}
	if (!strcmp(tok, "wafs")) {
		char *save2 = NULL;
		for (char *o = strtok_r(v, ",", &save2); o; o = strtok_r(NULL, ",", &save2)) {
			if (strlen(o) >= WWSF_NAME_MAX)
				return bad(err, errlen, where, w, "WAF identity too long");
			if (add_item(&w->wafs, &w->n_wafs, WWSF_NAME_MAX, o)) {
				snprintf(err, errlen, "out of memory");
				return ENOMEM;
			}
		}
		return 0;
	}
	if (!strcmp(tok, "max_registrations")) {
		char *end;
		long long q = strtoll(v, &end, 10);
		if (*end || q < 0 || q > 10000000 || strspn(v, "0123456789") != strlen(v))
			return bad(err, errlen, where, w,
				   "max_registrations is not a number in 0..10000000");
		w->max_registrations = (unsigned)q;
		return 0;
	}
	if (!strcmp(tok, "barred")) {
		if (!strcmp(v, "yes"))
			w->barred = 1;
		else if (!strcmp(v, "no"))
			w->barred = 0;
		else
			return bad(err, errlen, where, w, "barred is not yes or no");
		return 0;
	}
	*eq = '=';
	snprintf(why, sizeof(why), "unknown attribute \"%.40s\"", tok);
	return bad(err, errlen, where, w, why);
}

static int parse_tokens(struct wwsf *w, char *buf, const char *where, char *err,
			size_t errlen)
{
	char *save = NULL, *tok;
	int rc;

	tok = strtok_r(buf, " \t", &save);
	if (!tok || strlen(tok) >= WWSF_NAME_MAX || strchr(tok, '=')) {
		snprintf(err, errlen, "%s: wwsf: expected \"NAME origins=ORIGIN[,ORIGIN...]\"",
			 where);
		return EINVAL;
	}
	snprintf(w->name, sizeof(w->name), "%s", tok);
	while ((tok = strtok_r(NULL, " \t", &save)))
		if ((rc = parse_attr(w, tok, where, err, errlen)))
			return rc;
	if (!w->n_origins)
		return bad(err, errlen, where, w, "no origins");
	if (!!w->issuer[0] != !!w->jwks_path)
		return bad(err, errlen, where, w, "issuer and jwks go together");
	if (w->issuer[0] && !w->n_impus && !w->n_ranges)
		return bad(err, errlen, where, w, "a token issuer needs impus or ranges");
	if (!w->issuer[0] && (w->n_impus || w->n_ranges || w->n_wafs))
		return bad(err, errlen, where, w, "impus, ranges and wafs need an issuer");
	if (w->jwks_path) {
		char why[400], msg[600];
		if ((rc = wwsf_keys_load(w->jwks_path, &w->keys, why, sizeof(why)))) {
			snprintf(msg, sizeof(msg), "jwks %s: %s", w->jwks_path, why);
			bad(err, errlen, where, w, msg);
			return rc;
		}
	}
	return 0;
}

/* Lines have no length limit (a copy cut to a fixed buffer could turn
 * "https://b.example.com" into another valid origin). */
static int parse_line(struct wwsf *w, const char *line, const char *where,
		      char *err, size_t errlen)
{
	char *buf = strdup(line);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	int rc = parse_tokens(w, buf, where, err, errlen);
	free(buf);
	return rc;
}

/* An origin listed twice (under one WWSF or two) would make the match
 * depend on the order of the lines. */
static int check_duplicates(const struct wwsf_policy *p, size_t i, const char *where,
			    char *err, size_t errlen)
{
	const struct wwsf *w = &p->v[i];

	for (size_t k = 0; k < w->n_origins; k++)
		for (size_t a = 0; a <= i; a++)
			for (size_t b = 0; b < (a == i ? k : p->v[a].n_origins); b++)
				if (!strcmp(p->v[a].origins[b], w->origins[k])) {
					snprintf(err, errlen,
						 "%s: wwsf %s: origin \"%s\" already listed under wwsf %s",
						 where, w->name, w->origins[k], p->v[a].name);
					return EINVAL;
				}
	return 0;
}

/* Tokens find their key by kid alone (the issuer is only trusted after the
 * signature), so a kid names one key in the whole policy. */
static int check_kids(const struct wwsf_policy *p, size_t i, const char *where, char *err,
		      size_t errlen)
{
	const struct wwsf *w = &p->v[i];
	for (size_t k = 0; k < w->keys.n; k++)
		for (size_t a = 0; a < i; a++)
			if (wwsf_keys_find(&p->v[a].keys, w->keys.v[k].kid)) {
				snprintf(err, errlen,
					 "%s: wwsf %s: kid \"%s\" already used by wwsf %s",
					 where, w->name, w->keys.v[k].kid, p->v[a].name);
				return EINVAL;
			}
	for (size_t a = 0; a < i; a++)
		if (w->issuer[0] && !strcmp(w->issuer, p->v[a].issuer)) {
			snprintf(err, errlen, "%s: wwsf %s: issuer \"%s\" already used by wwsf %s",
				 where, w->name, w->issuer, p->v[a].name);
			return EINVAL;
		}
	return 0;
}

int wwsf_policy_load(struct wwsf_policy *p, const struct conf_list *l,
		     char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (!l->n)
		return 0;
	p->v = calloc(l->n, sizeof(*p->v));
	if (!p->v) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++) {
		int rc = parse_line(&p->v[i], l->items[i], l->where[i], err, errlen);
		p->n = i + 1;
		if (!rc)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(p->v[j].name, p->v[i].name)) {
					snprintf(err, errlen, "%s: wwsf %s: defined twice",
						 l->where[i], p->v[i].name);
					rc = EINVAL;
				}
		if (!rc)
			rc = check_duplicates(p, i, l->where[i], err, errlen);
		if (!rc)
			rc = check_kids(p, i, l->where[i], err, errlen);
		if (rc) {
			wwsf_policy_free(p);
			return rc;
		}
	}
	return 0;
}

void wwsf_policy_free(struct wwsf_policy *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].origins);
		free(p->v[i].jwks_path);
		wwsf_keys_free(&p->v[i].keys);
		free(p->v[i].impus);
		free(p->v[i].ranges);
		free(p->v[i].wafs);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

const struct wwsf *wwsf_policy_match(const struct wwsf_policy *p,
				     const char *origin)
{
	char norm[WWSF_ORIGIN_MAX];

	if (!origin || wwsf_origin_normalize(origin, norm, sizeof(norm)))
		return NULL; /* includes "null" and anything malformed */
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->v[i].n_origins; j++)
			if (!strcmp(p->v[i].origins[j], norm))
				return &p->v[i];
	return NULL;
}

int wwsf_policy_reload_keys(struct wwsf_policy *p, char *err, size_t errlen)
{
	struct wwsf_keyset *fresh = calloc(p->n ? p->n : 1, sizeof(*fresh));
	int rc = 0;

	if (!fresh) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	for (size_t i = 0; i < p->n && !rc; i++) {
		char why[400];
		if (p->v[i].jwks_path &&
		    (rc = wwsf_keys_load(p->v[i].jwks_path, &fresh[i], why, sizeof(why))))
			snprintf(err, errlen, "wwsf %s: jwks %s: %s", p->v[i].name,
				 p->v[i].jwks_path, why);
	}
	for (size_t i = 0; i < p->n && !rc; i++)
		for (size_t k = 0; k < fresh[i].n && !rc; k++)
			for (size_t a = 0; a < i && !rc; a++)
				if (wwsf_keys_find(&fresh[a], fresh[i].v[k].kid)) {
					snprintf(err, errlen, "wwsf %s: kid \"%s\" already used by wwsf %s",
						 p->v[i].name, fresh[i].v[k].kid, p->v[a].name);
					rc = EINVAL;
				}
	for (size_t i = 0; i < p->n; i++) {
		if (!rc) {
			wwsf_keys_free(&p->v[i].keys);
			p->v[i].keys = fresh[i];
		} else {
			wwsf_keys_free(&fresh[i]);
		}
	}
	free(fresh);
	return rc;
}

const struct wwsf_key *wwsf_policy_find_key(const struct wwsf_policy *p, const char *kid,
					    const struct wwsf **owner)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct wwsf_key *k = wwsf_keys_find(&p->v[i].keys, kid);
		if (k) {
			*owner = &p->v[i];
			return k;
		}
	}
	return NULL;
}
