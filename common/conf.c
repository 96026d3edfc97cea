/* Option-table configuration: defaults, file, command line. */
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONF_FILE_MAX (1u << 20) /* a config bigger than this is a mistake */
#define CONF_LINE_MAX 4096

int conf_find(const struct conf_opt *opts, size_t n_opts, const char *key)
{
	for (size_t i = 0; i < n_opts; i++)
		if (!strcmp(opts[i].key, key))
			return (int)i;
	return -1;
}

int conf_addr_parse(const char *text, struct conf_addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':')
			return EINVAL;
		hl = (size_t)(end - text - 1);
		if (hl >= sizeof(host))
			return EINVAL;
		memcpy(host, text + 1, hl);
		port_s = end + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return EINVAL; /* bare IPv6 needs brackets */
		hl = (size_t)(colon - text);
		if (hl >= sizeof(host))
			return EINVAL;
		memcpy(host, text, hl);
		port_s = colon + 1;
	}
	host[hl] = '\0';
	if (!*port_s || strspn(port_s, "0123456789") != strlen(port_s) ||
	    strlen(port_s) > 5)
		return EINVAL;
	long port = strtol(port_s, NULL, 10);
	if (port > 65535)
		return EINVAL;

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	if (text[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		out->len = sizeof(*sin);
		return 0;
	}
	if (text[0] == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*sin6);
		return 0;
	}
	return EINVAL;
}

void conf_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return EINVAL;
}

/* Stores `val` into option `o` of `values`.  On error writes the reason
 * (without place or key) to err. */
static int set_value(const struct conf_opt *o, void *values, const char *val,
		     char *err, size_t errlen)
{
	char *field = (char *)values + o->offset;

	for (const unsigned char *p = (const unsigned char *)val; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "control character in value");
			return EINVAL;
		}

	switch (o->type) {
	case CONF_STRING:
	case CONF_PATH:
	case CONF_LOGLEVELS: {
		char *copy = strdup(val);
		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case CONF_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(val, &end, 10);
		if (!*val || *end || errno) {
			snprintf(err, errlen, "\"%s\" is not an integer", val);
			return EINVAL;
		}
		if (v < o->min || v > o->max) {
			snprintf(err, errlen, "%lld is out of range [%lld, %lld]", v,
				 o->min, o->max);
			return ERANGE;
		}
		*(long long *)field = v;
		return 0;
	}
	case CONF_BOOL:
		if (parse_bool(val, (bool *)field)) {
			snprintf(err, errlen, "\"%s\" is not a boolean (yes or no)", val);
			return EINVAL;
		}
		return 0;
	case CONF_ENUM:
		for (int i = 0; o->choices[i]; i++)
			if (!strcmp(o->choices[i], val)) {
				*(int *)field = i;
				return 0;
			}
		{
			size_t n = (size_t)snprintf(err, errlen, "\"%s\" is not one of", val);
			for (int i = 0; o->choices[i] && n < errlen; i++)
				n += (size_t)snprintf(err + n, errlen - n, "%s %s",
						      i ? "," : "", o->choices[i]);
		}
		return EINVAL;
	case CONF_ADDR:
		if (!*val) {
			memset(field, 0, sizeof(struct conf_addr));
			return 0;
		}
		if (conf_addr_parse(val, (struct conf_addr *)field)) {
			snprintf(err, errlen,
				 "\"%s\" is not an address (IPv4:port or [IPv6]:port)", val);
			return EINVAL;
		}
		return 0;
	case CONF_LIST:
		break; /* handled by list_add */
	}
	snprintf(err, errlen, "bad option type");
	return EINVAL;
}

static void list_clear(struct conf_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i]);
		free(l->where[i]);
	}
	free(l->items);
	free(l->where);
	memset(l, 0, sizeof(*l));
}

static int list_add(struct conf_list *l, const char *val, const char *place,
		    char *err, size_t errlen)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof(char *));
	if (items)
		l->items = items;
	char **where = realloc(l->where, (l->n + 1) * sizeof(char *));
	if (where)
		l->where = where;
	char *v = strdup(val), *w = strdup(place);
	if (!items || !where || !v || !w) {
		free(v);
		free(w);
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	l->items[l->n] = v;
	l->where[l->n] = w;
	l->n++;
	return 0;
}

static int set_key(const struct conf_opt *opts, size_t n_opts, void *values,
		   struct conf_where *where, enum conf_source src,
		   const char *place, const char *key, const char *val,
		   char *err, size_t errlen)
{
	char why[CONF_ERR_MAX / 2];
	int i = conf_find(opts, n_opts, key), rc;

	if (i < 0) {
		snprintf(err, errlen, "%s: unknown key \"%.64s\"", place, key);
		return ENOENT;
	}
	if (opts[i].type == CONF_LIST) {
		struct conf_list *l = (void *)((char *)values + opts[i].offset);
		if (where[i].source != src)
			list_clear(l); /* a later source replaces the list */
		rc = *val ? list_add(l, val, place, why, sizeof(why)) : 0;
	} else {
		rc = set_value(&opts[i], values, val, why, sizeof(why));
	}
	if (rc) {
		snprintf(err, errlen, "%s: %s: %s", place, key, why);
		return rc;
	}
	snprintf(where[i].text, sizeof(where[i].text), "%s", place);
	where[i].source = src;
	return 0;
}

static void trim(char **s, char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* Splits one line into key and value in place.  Returns 1 for a setting,
 * 0 for blank/comment, -1 with err on a syntax error. */
static int split_line(char *line, char **key, char **val, char *err,
		      size_t errlen)
{
	char *s = line, *e = line + strlen(line);

	trim(&s, &e);
	if (s == e || *s == '#')
		return 0;
	char *eq = memchr(s, '=', (size_t)(e - s));
	if (!eq) {
		snprintf(err, errlen, "expected \"key = value\"");
		return -1;
	}
	char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
	trim(&ks, &ke);
	trim(&vs, &ve);
	if (ks == ke) {
		snprintf(err, errlen, "missing key before \"=\"");
		return -1;
	}
	for (char *p = ks; p < ke; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-')) {
			snprintf(err, errlen, "bad character in key \"%.*s\"",
				 (int)(ke - ks > 64 ? 64 : ke - ks), ks);
			return -1;
		}
	*ke = '\0';
	if (vs < ve && *vs == '"') {
		/* Quoted: everything up to the closing quote, then only a
		 * comment may follow. */
		char *q = memchr(vs + 1, '"', (size_t)(ve - vs - 1));
		if (!q) {
			snprintf(err, errlen, "%s: unterminated quoted value", ks);
			return -1;
		}
		char *rest = q + 1, *re = ve;
		trim(&rest, &re);
		if (rest < re && *rest != '#') {
			snprintf(err, errlen, "%s: text after quoted value", ks);
			return -1;
		}
		*q = '\0';
		vs++;
	} else {
		/* Unquoted: a " #" starts a comment. */
		for (char *p = vs; p < ve; p++)
			if (*p == '#' && (p == vs || p[-1] == ' ' || p[-1] == '\t')) {
				ve = p;
				trim(&vs, &ve);
				break;
			}
		*ve = '\0';
	}
	*key = ks;
	*val = vs;
	return 1;
}

int conf_load_text(const struct conf_opt *opts, size_t n_opts, void *values,
		   struct conf_where *where, const char *name,
		   const char *text, size_t len, char *err, size_t errlen)
{
	char line[CONF_LINE_MAX + 2], place[CONF_WHERE_MAX], why[256];
	/* Line of the first setting of each key, to refuse duplicates. */
	unsigned *seen = calloc(n_opts ? n_opts : 1, sizeof(*seen));
	size_t pos = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (!seen) {
		snprintf(err, errlen, "%s: out of memory", name);
		return ENOMEM;
	}
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *key, *val;

		lineno++;
		snprintf(place, sizeof(place), "%s:%u", name, lineno);
		if (n > CONF_LINE_MAX) {
			snprintf(err, errlen, "%s: line longer than %u bytes", place,
				 CONF_LINE_MAX);
			rc = EINVAL;
			break;
		}
		if (memchr(text + pos, '\0', n)) {
			snprintf(err, errlen, "%s: NUL byte in file", place);
			rc = EINVAL;
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);

		int kind = split_line(line, &key, &val, why, sizeof(why));
		if (kind < 0) {
			snprintf(err, errlen, "%s: %s", place, why);
			rc = EINVAL;
		} else if (kind > 0) {
			int i = conf_find(opts, n_opts, key);
			if (i >= 0 && seen[i] && opts[i].type != CONF_LIST) {
				snprintf(err, errlen, "%s: %s: set twice (first at line %u)",
					 place, key, seen[i]);
				rc = EEXIST;
				break;
			}
			rc = set_key(opts, n_opts, values, where, CONF_SRC_FILE, place,
				     key, val, err, errlen);
			if (!rc)
				seen[i] = lineno;
		}
	}
	free(seen);
	return rc;
}

static int read_file(const char *path, char **out, size_t *len, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return e;
	}
	char *buf = malloc(CONF_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return ENOMEM;
	}
	size_t n = fread(buf, 1, CONF_FILE_MAX + 1, f);
	int rerr = ferror(f);
	fclose(f);
	if (rerr) {
		free(buf);
		snprintf(err, errlen, "%s: read error", path);
		return EIO;
	}
	if (n > CONF_FILE_MAX) {
		free(buf);
		snprintf(err, errlen, "%s: file larger than %u bytes", path,
			 CONF_FILE_MAX);
		return EFBIG;
	}
	*out = buf;
	*len = n;
	return 0;
}

int conf_load(const struct conf_opt *opts, size_t n_opts, void *values,
	      struct conf_where *where, const char *path,
	      const char *const *overrides, size_t n_overrides, char *err,
	      size_t errlen)
{
	int rc;

	for (size_t i = 0; i < n_opts; i++) {
		const char *def = opts[i].def ? opts[i].def : "";
		where[i].source = CONF_SRC_DEFAULT;
		if (opts[i].type == CONF_LIST) {
			/* Several default items, one per '\n'-separated part. */
			char item[CONF_LINE_MAX];
			while (*def) {
				size_t n = strcspn(def, "\n");
				snprintf(item, sizeof(item), "%.*s", (int)n, def);
				rc = set_key(opts, n_opts, values, where, CONF_SRC_DEFAULT,
					     "<default>", opts[i].key, item, err, errlen);
				if (rc)
					return rc;
				def += n + (def[n] == '\n');
			}
			snprintf(where[i].text, sizeof(where[i].text), "<default>");
			continue;
		}
		rc = set_key(opts, n_opts, values, where, CONF_SRC_DEFAULT, "<default>",
			     opts[i].key, def, err, errlen);
		if (rc)
			return rc; /* a bad embedded default is a build bug */
	}
	if (path) {
		char *text = NULL;
		size_t len = 0;
		rc = read_file(path, &text, &len, err, errlen);
		if (rc)
			return rc;
		rc = conf_load_text(opts, n_opts, values, where, path, text, len,
				    err, errlen);
		free(text);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < n_overrides; i++) {
		char key[128];
		const char *eq = strchr(overrides[i], '=');
		size_t kl = eq ? (size_t)(eq - overrides[i]) : 0;
		if (!eq || kl >= sizeof(key)) {
			snprintf(err, errlen, "command line: bad override \"%.64s\"",
				 overrides[i]);
			return EINVAL;
		}
		memcpy(key, overrides[i], kl);
		key[kl] = '\0';
		rc = set_key(opts, n_opts, values, where, CONF_SRC_CLI, "command line",
			     key, eq + 1, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

void conf_free(const struct conf_opt *opts, size_t n_opts, void *values)
{
	for (size_t i = 0; i < n_opts; i++) {
		enum conf_type t = opts[i].type;
		if (t == CONF_STRING || t == CONF_PATH || t == CONF_LOGLEVELS) {
			char **p = (char **)((char *)values + opts[i].offset);
			free(*p);
			*p = NULL;
		} else if (t == CONF_LIST) {
			list_clear((struct conf_list *)(void *)((char *)values + opts[i].offset));
		}
	}
}

bool conf_opt_equal(const struct conf_opt *o, const void *a, const void *b)
{
	const char *fa = (const char *)a + o->offset;
	const char *fb = (const char *)b + o->offset;

	switch (o->type) {
	case CONF_STRING:
	case CONF_PATH:
	case CONF_LOGLEVELS: {
		const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
		return (!sa && !sb) || (sa && sb && !strcmp(sa, sb));
	}
	case CONF_INT:
		return *(const long long *)fa == *(const long long *)fb;
	case CONF_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case CONF_ENUM:
		return *(const int *)fa == *(const int *)fb;
	case CONF_ADDR: {
		const struct conf_addr *x = (const void *)fa, *y = (const void *)fb;
		return x->len == y->len && !memcmp(&x->ss, &y->ss, x->len);
	}
	case CONF_LIST: {
		const struct conf_list *x = (const void *)fa, *y = (const void *)fb;
		if (x->n != y->n)
			return false;
		for (size_t i = 0; i < x->n; i++)
			if (strcmp(x->items[i], y->items[i]))
				return false;
		return true;
	}
	}
	return false;
}

void conf_opt_format(const struct conf_opt *o, const void *values, char *buf,
		     size_t len)
{
	const char *f = (const char *)values + o->offset;

	switch (o->type) {
	case CONF_STRING:
	case CONF_PATH:
	case CONF_LOGLEVELS: {
		const char *s = *(char *const *)f;
		snprintf(buf, len, "%s", s ? s : "");
		return;
	}
	case CONF_INT:
		snprintf(buf, len, "%lld", *(const long long *)f);
		return;
	case CONF_BOOL:
		snprintf(buf, len, "%s", *(const bool *)f ? "yes" : "no");
		return;
	case CONF_ENUM:
		snprintf(buf, len, "%s", o->choices[*(const int *)f]);
		return;
	case CONF_ADDR: {
		const struct conf_addr *a = (const void *)f;
		if (!a->len)
			snprintf(buf, len, "%s", "");
		else
			conf_addr_format((const struct sockaddr *)&a->ss, buf, len);
		return;
	}
	case CONF_LIST: {
		/* Items joined with " | " (display only). */
		const struct conf_list *l = (const void *)f;
		size_t pos = 0;
		buf[0] = '\0';
		for (size_t i = 0; i < l->n && pos < len; i++)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s",
						i ? " | " : "", l->items[i]);
		return;
	}
	}
	snprintf(buf, len, "?");
}

int conf_cli_parse(struct conf_cli *cli, int argc, char **argv,
		   const struct conf_opt *opts, size_t n_opts, char *err,
		   size_t errlen)
{
	memset(cli, 0, sizeof(*cli));
	cli->overrides = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
	if (!cli->overrides) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli->help = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			cli->version = true;
		} else if (!strcmp(a, "--check-config")) {
			cli->check_only = true;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "command line: %s needs a file", a);
				goto fail;
			}
			cli->config_path = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			cli->config_path = a + 9;
		} else if (!strncmp(a, "--", 2) && a[2]) {
			/* --key=value, or --key value */
			const char *eq = strchr(a + 2, '=');
			size_t kl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			char key[128];
			if (kl >= sizeof(key))
				kl = sizeof(key) - 1;
			memcpy(key, a + 2, kl);
			key[kl] = '\0';
			if (conf_find(opts, n_opts, key) < 0) {
				snprintf(err, errlen,
					 "command line: unknown option \"--%.64s\" (see --help)", key);
				goto fail;
			}
			if (!eq) {
				snprintf(err, errlen,
					 "command line: --%s needs a value: --%s=VALUE", key, key);
				goto fail;
			}
			cli->overrides[cli->n_overrides++] = a + 2;
		} else {
			snprintf(err, errlen,
				 "command line: unknown argument \"%.64s\" (see --help)", a);
			goto fail;
		}
	}
	return 0;
fail:
	conf_cli_free(cli);
	return EINVAL;
}

void conf_cli_free(struct conf_cli *cli)
{
	free(cli->overrides);
	cli->overrides = NULL;
	cli->n_overrides = 0;
}

void conf_print_help(const char *prog, const struct conf_opt *opts,
		     size_t n_opts)
{
	printf("usage: %s [-c FILE] [--check-config] [--KEY=VALUE ...]\n\n"
	       "  -c, --config FILE  read settings (\"key = value\" lines)\n"
	       "  --check-config     load and check the configuration, print it, exit\n"
	       "  -V, --version      print the version\n"
	       "  --KEY=VALUE        override one setting (keys below)\n\n"
	       "settings (default in brackets; * = applied on SIGHUP):\n",
	       prog);
	for (size_t i = 0; i < n_opts; i++)
		printf("  %-24s%s %s [%s]\n", opts[i].key,
		       opts[i].flags & CONF_RELOADABLE ? "*" : " ", opts[i].help,
		       opts[i].def ? opts[i].def : "");
}
