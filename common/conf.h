/* Configuration: one option table per daemon drives the embedded defaults,
 * the configuration file ("key = value" lines) and command-line overrides
 * ("--key=value").  Values land in the daemon's own config struct at the
 * offsets the table gives; each option remembers where it was last set so
 * that later checks (a certificate that cannot be read) can name the
 * file and line. */
#ifndef COMMON_CONF_H
#define COMMON_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum conf_type {
	CONF_STRING, /* char *, heap, owned by the values struct */
	CONF_PATH,   /* char *, like CONF_STRING; empty means "not set" */
	CONF_INT,    /* long long within [min, max] */
	CONF_BOOL,   /* bool: yes/no, true/false, on/off, 1/0 */
	CONF_ENUM,   /* int: index into choices */
	CONF_ADDR,   /* struct conf_addr: IPv4 or [IPv6] literal with port;
		      * empty means "off" (len 0) */
	CONF_LOGLEVELS, /* char *: "info,sip=debug"; checked by the daemon */
	CONF_LIST,   /* struct conf_list: the key may repeat, one item per line;
		      * a later source (file, command line) replaces the
		      * items of an earlier one.  def items are '\n'-separated. */
};

#define CONF_RELOADABLE 0x1u /* SIGHUP applies a new value without restart */

struct conf_opt {
	const char *key;
	enum conf_type type;
	size_t offset;
	const char *def; /* embedded default, parsed like file input */
	long long min, max;
	const char *const *choices; /* CONF_ENUM, NULL-terminated */
	unsigned flags;
	const char *help;
};

struct conf_addr {
	struct sockaddr_storage ss;
	socklen_t len; /* 0: not set */
};

#define CONF_WHERE_MAX 320

/* Items of a CONF_LIST option, each with where it was set. */
struct conf_list {
	size_t n;
	char **items;  /* owned, n entries */
	char **where;  /* owned, n entries: "path:line" or "command line" */
};

#define CONF_ERR_MAX 640

enum conf_source { CONF_SRC_DEFAULT, CONF_SRC_FILE, CONF_SRC_CLI };

/* Where each option was last set: "<default>", "command line" or
 * "path:line".  Owned by the daemon root, one per table entry. */
struct conf_where {
	char text[CONF_WHERE_MAX];
	enum conf_source source;
};

/* Command-line result: borrowed pointers into argv. */
struct conf_cli {
	const char *config_path;  /* -c/--config, NULL if none */
	const char **overrides;   /* "key=value" strings, heap array (owned) */
	size_t n_overrides;
	bool check_only;          /* --check-config */
	bool help, version;
};

/* Parses argv.  Returns 0, or EINVAL with the reason in err.  Free the
 * result with conf_cli_free. */
int conf_cli_parse(struct conf_cli *cli, int argc, char **argv,
		   const struct conf_opt *opts, size_t n_opts, char *err,
		   size_t errlen);
void conf_cli_free(struct conf_cli *cli);

/* Fills `values` (zeroed by the caller) from defaults, then the file at
 * `path` (may be NULL), then the overrides.  `where` has n_opts entries.
 * Returns 0, or an errno value with one line in err naming the place and
 * key.  On failure, values may be partly filled: call conf_free. */
int conf_load(const struct conf_opt *opts, size_t n_opts, void *values,
	      struct conf_where *where, const char *path,
	      const char *const *overrides, size_t n_overrides, char *err,
	      size_t errlen);

/* Parses text as if it were a file named `name` (pure; used by conf_load
 * and the tests). */
int conf_load_text(const struct conf_opt *opts, size_t n_opts, void *values,
		   struct conf_where *where, const char *name,
		   const char *text, size_t len, char *err, size_t errlen);

/* Frees the heap strings inside values. */
void conf_free(const struct conf_opt *opts, size_t n_opts, void *values);

/* True when option i holds the same value in a and b. */
bool conf_opt_equal(const struct conf_opt *opt, const void *a, const void *b);

/* Formats option i's value of `values` ("127.0.0.1:9101", "yes", ...). */
void conf_opt_format(const struct conf_opt *opt, const void *values,
		     char *buf, size_t len);

/* Index of key in the table, or -1. */
int conf_find(const struct conf_opt *opts, size_t n_opts, const char *key);

/* Parses "1.2.3.4:80" or "[::1]:80" (port 0 allowed: pick any).
 * Returns 0 or EINVAL. */
int conf_addr_parse(const char *text, struct conf_addr *out);

/* "127.0.0.1:9101" / "[::1]:9101". */
void conf_addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* Prints --help text for the table. */
void conf_print_help(const char *prog, const struct conf_opt *opts,
		     size_t n_opts);

#endif
