/* WWSF origin allow-lists. */
#include "wwsf_policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int parse_tokens(struct wwsf *w, char *buf, const char *where, char *err,
			size_t errlen)
{
	char *save = NULL, *tok;

	tok = strtok_r(buf, " \t", &save);
	if (!tok || strlen(tok) >= WWSF_NAME_MAX || strchr(tok, '=')) {
		snprintf(err, errlen, "%s: wwsf: expected \"NAME origins=ORIGIN[,ORIGIN...]\"",
			 where);
		return EINVAL;
	}
	snprintf(w->name, sizeof(w->name), "%s", tok);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		if (strncmp(tok, "origins=", 8)) {
			snprintf(err, errlen, "%s: wwsf %s: unknown attribute \"%.40s\"",
				 where, w->name, tok);
			return EINVAL;
		}
		char *save2 = NULL;
		for (char *o = strtok_r(tok + 8, ",", &save2); o;
		     o = strtok_r(NULL, ",", &save2)) {
			char (*grown)[WWSF_ORIGIN_MAX] =
				realloc(w->origins, (w->n_origins + 1) * sizeof(*w->origins));
			if (!grown) {
				snprintf(err, errlen, "out of memory");
				return ENOMEM;
			}
			w->origins = grown;
			if (wwsf_origin_normalize(o, w->origins[w->n_origins],
						  WWSF_ORIGIN_MAX)) {
				snprintf(err, errlen,
					 "%s: wwsf %s: \"%.80s\" is not an origin (scheme://host[:port])",
					 where, w->name, o);
				return EINVAL;
			}
			w->n_origins++;
		}
	}
	if (!w->n_origins) {
		snprintf(err, errlen, "%s: wwsf %s: no origins", where, w->name);
		return EINVAL;
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
		if (rc) {
			wwsf_policy_free(p);
			return rc;
		}
	}
	return 0;
}

void wwsf_policy_free(struct wwsf_policy *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].origins);
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
