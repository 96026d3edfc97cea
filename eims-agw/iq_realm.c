/* Parser of the iq.realm setting. */
#include "iq_realm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iqp_tls_conf.h"

static int side_of(const char *s, size_t n)
{
	if (n == 2 && !strncasecmp(s, "w3", 2))
		return 1;
	if (n == 3 && !strncasecmp(s, "ims", 3))
		return 2;
	if (n == 4 && !strncasecmp(s, "both", 4))
		return 3;
	return 0;
}

static int parse_addr(const char *s, size_t n, struct iqp_ip *ip)
{
	char buf[64];

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (!n || n >= sizeof(buf))
		return EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, ip->addr) == 1) {
		ip->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, ip->addr) == 1) {
		ip->family = 6;
		return 0;
	}
	return EINVAL;
}

/* One spec: NAME[:SIDE]=ADDR[,ADDR...] of len bytes. */
static int parse_one(const char *s, size_t len, struct iqp_realm *r, char *err,
		     size_t errlen)
{
	const char *eq = memchr(s, '=', len), *colon, *p, *end = s + len;
	size_t nlen;

	memset(r, 0, sizeof(*r));
	if (!eq) {
		snprintf(err, errlen, "\"%.*s\" is not NAME[:SIDE]=ADDR[,ADDR...]", (int)len, s);
		return EINVAL;
	}
	colon = memchr(s, ':', (size_t)(eq - s));
	nlen = (size_t)((colon ? colon : eq) - s);
	if (!nlen || nlen > IQP_NODE_ID_MAX) {
		snprintf(err, errlen, "\"%.*s\": realm name must be 1-64 bytes", (int)len, s);
		return EINVAL;
	}
	memcpy(r->name, s, nlen);
	r->name[nlen] = '\0';
	if (!iqp_node_id_valid(r->name)) {
		snprintf(err, errlen, "realm name \"%s\" has characters outside A-Z a-z 0-9 . _ -",
			 r->name);
		return EINVAL;
	}
	r->side = (uint8_t)(colon ? side_of(colon + 1, (size_t)(eq - colon - 1))
				  : side_of(s, nlen));
	if (!r->side) {
		snprintf(err, errlen, colon ? "realm \"%s\": side must be w3, ims or both"
					    : "realm \"%s\": give its side (NAME:w3, NAME:ims or NAME:both)",
			 r->name);
		return EINVAL;
	}
	for (p = eq + 1; p <= end; ) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		if (r->n_addr == IQP_MAX_REALM_ADDRS) {
			snprintf(err, errlen, "realm \"%s\": more than %d addresses", r->name,
				 IQP_MAX_REALM_ADDRS);
			return EINVAL;
		}
		if (parse_addr(p, (size_t)(stop - p), &r->addr[r->n_addr])) {
			snprintf(err, errlen, "realm \"%s\": \"%.*s\" is not an IP address", r->name,
				 (int)(stop - p), p);
			return EINVAL;
		}
		r->n_addr++;
		p = stop + 1;
	}
	return 0;
}

int iq_realm_parse(const char *text, struct iqp_realm *out, size_t *n,
		   char *err, size_t errlen)
{
	const char *p = text;
	size_t k = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " \t");
		if (k == IQP_MAX_REALMS) {
			snprintf(err, errlen, "more than %d realms", IQP_MAX_REALMS);
			return EINVAL;
		}
		if (parse_one(p, len, &out[k], err, errlen))
			return EINVAL;
		for (size_t i = 0; i < k; i++)
			if (!strcmp(out[i].name, out[k].name)) {
				snprintf(err, errlen, "realm \"%s\" defined twice", out[k].name);
				return EINVAL;
			}
		k++;
		p += len;
	}
	if (!k) {
		snprintf(err, errlen, "no realm (NAME[:SIDE]=ADDR[,ADDR...])");
		return EINVAL;
	}
	*n = k;
	return 0;
}
