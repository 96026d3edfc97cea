/* Configuration: file syntax, types, errors with file:line, overrides. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "conf.h"

struct cfg {
	char *name;
	long long port_count;
	bool flag;
	int mode;
	struct conf_addr listen;
	char *path;
};

static const char *const modes[] = { "fast", "safe", NULL };

static const struct conf_opt opts[] = {
	{ "name", CONF_STRING, offsetof(struct cfg, name), "demo", 0, 0, NULL, 0, "" },
	{ "ports.count", CONF_INT, offsetof(struct cfg, port_count), "10", 1, 1000, NULL, 0, "" },
	{ "flag", CONF_BOOL, offsetof(struct cfg, flag), "no", 0, 0, NULL, CONF_RELOADABLE, "" },
	{ "mode", CONF_ENUM, offsetof(struct cfg, mode), "safe", 0, 0, modes, 0, "" },
	{ "listen", CONF_ADDR, offsetof(struct cfg, listen), "127.0.0.1:9101", 0, 0, NULL, 0, "" },
	{ "path", CONF_PATH, offsetof(struct cfg, path), "", 0, 0, NULL, 0, "" },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

struct fixture {
	struct cfg c;
	struct conf_where where[N_OPTS];
	char err[CONF_ERR_MAX];
};

static int load(struct fixture *f, const char *text)
{
	memset(f, 0, sizeof(*f));
	int rc = conf_load(opts, N_OPTS, &f->c, f->where, NULL, NULL, 0, f->err,
			   sizeof(f->err));
	assert_int_equal(rc, 0);
	return conf_load_text(opts, N_OPTS, &f->c, f->where, "t.conf", text,
			      strlen(text), f->err, sizeof(f->err));
}

static void test_defaults(void **state)
{
	struct fixture f;
	(void)state;
	assert_int_equal(load(&f, ""), 0);
	assert_string_equal(f.c.name, "demo");
	assert_int_equal(f.c.port_count, 10);
	assert_false(f.c.flag);
	assert_int_equal(f.c.mode, 1);
	assert_int_equal(f.c.listen.ss.ss_family, AF_INET);
	assert_string_equal(f.c.path, "");
	assert_string_equal(f.where[0].text, "<default>");
	conf_free(opts, N_OPTS, &f.c);
}

static void test_file_syntax(void **state)
{
	struct fixture f;
	(void)state;
	assert_int_equal(load(&f, "# comment\n\n  name = \"a # b\"  # trailing\r\n"
				  "ports.count=20 # c\nflag = on\nmode = fast\n"
				  "listen = [::1]:0\npath = /x#y\n"), 0);
	assert_string_equal(f.c.name, "a # b");
	assert_int_equal(f.c.port_count, 20);
	assert_true(f.c.flag);
	assert_int_equal(f.c.mode, 0);
	assert_int_equal(f.c.listen.ss.ss_family, AF_INET6);
	assert_string_equal(f.c.path, "/x#y");
	assert_string_equal(f.where[0].text, "t.conf:3");
	assert_string_equal(f.where[5].text, "t.conf:8");
	conf_free(opts, N_OPTS, &f.c);
}

/* Each bad input and the exact line it must produce. */
static void test_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "nope = 1\n", "t.conf:1: unknown key \"nope\"" },
		{ "\nname\n", "t.conf:2: expected \"key = value\"" },
		{ "= 3\n", "t.conf:1: missing key before \"=\"" },
		{ "Name = x\n", "t.conf:1: bad character in key \"Name\"" },
		{ "ports.count = 0\n", "t.conf:1: ports.count: 0 is out of range [1, 1000]" },
		{ "ports.count = 12x\n", "t.conf:1: ports.count: \"12x\" is not an integer" },
		{ "ports.count = 99999999999999999999\n",
		  "t.conf:1: ports.count: \"99999999999999999999\" is not an integer" },
		{ "flag = maybe\n", "t.conf:1: flag: \"maybe\" is not a boolean (yes or no)" },
		{ "mode = slow\n", "t.conf:1: mode: \"slow\" is not one of fast, safe" },
		{ "listen = localhost:80\n",
		  "t.conf:1: listen: \"localhost:80\" is not an address (IPv4:port or [IPv6]:port)" },
		{ "listen = 1.2.3.4:65536\n",
		  "t.conf:1: listen: \"1.2.3.4:65536\" is not an address (IPv4:port or [IPv6]:port)" },
		{ "listen = ::1:80\n",
		  "t.conf:1: listen: \"::1:80\" is not an address (IPv4:port or [IPv6]:port)" },
		{ "name = \"open\n", "t.conf:1: name: unterminated quoted value" },
		{ "name = \"a\" b\n", "t.conf:1: name: text after quoted value" },
		{ "name = a\nname = b\n", "t.conf:2: name: set twice (first at line 1)" },
		{ "name = a\x01\n", "t.conf:1: name: control character in value" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		assert_int_not_equal(load(&f, cases[i].text), 0);
		assert_string_equal(f.err, cases[i].err);
		conf_free(opts, N_OPTS, &f.c);
	}
}

static void test_nul_and_long_line(void **state)
{
	struct fixture f;
	char *big = malloc(5000);
	(void)state;
	assert_int_not_equal(conf_load_text(opts, N_OPTS, &f.c, f.where, "t.conf",
					    "name = a\0b\n", 11, f.err, sizeof(f.err)), 0);
	memset(&f, 0, sizeof(f));
	assert_non_null(big);
	memset(big, 'a', 4999);
	big[4999] = '\0';
	assert_int_equal(load(&f, big), EINVAL);
	assert_string_equal(f.err, "t.conf:1: line longer than 4096 bytes");
	conf_free(opts, N_OPTS, &f.c);
	free(big);
}

static void test_overrides_and_file(void **state)
{
	struct cfg c = { 0 };
	struct conf_where where[N_OPTS];
	char err[CONF_ERR_MAX];
	const char *ov[] = { "ports.count=7" };
	const char *bad[] = { "ports.count=-1" };
	(void)state;

	assert_int_equal(conf_load(opts, N_OPTS, &c, where, NULL, ov, 1, err, sizeof(err)), 0);
	assert_int_equal(c.port_count, 7);
	assert_string_equal(where[1].text, "command line");
	conf_free(opts, N_OPTS, &c);

	assert_int_not_equal(conf_load(opts, N_OPTS, &c, where, NULL, bad, 1, err, sizeof(err)), 0);
	assert_string_equal(err, "command line: ports.count: -1 is out of range [1, 1000]");
	conf_free(opts, N_OPTS, &c);

	assert_int_equal(conf_load(opts, N_OPTS, &c, where, "/nonexistent/x.conf", NULL, 0,
				   err, sizeof(err)), ENOENT);
	assert_string_equal(err, "/nonexistent/x.conf: cannot open: No such file or directory");
	conf_free(opts, N_OPTS, &c);
}

static void test_cli(void **state)
{
	struct conf_cli cli;
	char err[CONF_ERR_MAX];
	char *ok[] = { "d", "-c", "f.conf", "--ports.count=3", "--check-config", NULL };
	char *unknown[] = { "d", "--bogus=1", NULL };
	char *noval[] = { "d", "--flag", NULL };
	char *stray[] = { "d", "extra", NULL };
	char *nofile[] = { "d", "-c", NULL };
	(void)state;

	assert_int_equal(conf_cli_parse(&cli, 5, ok, opts, N_OPTS, err, sizeof(err)), 0);
	assert_string_equal(cli.config_path, "f.conf");
	assert_int_equal(cli.n_overrides, 1);
	assert_string_equal(cli.overrides[0], "ports.count=3");
	assert_true(cli.check_only);
	conf_cli_free(&cli);

	assert_int_equal(conf_cli_parse(&cli, 2, unknown, opts, N_OPTS, err, sizeof(err)), EINVAL);
	assert_string_equal(err, "command line: unknown option \"--bogus\" (see --help)");
	assert_int_equal(conf_cli_parse(&cli, 2, noval, opts, N_OPTS, err, sizeof(err)), EINVAL);
	assert_string_equal(err, "command line: --flag needs a value: --flag=VALUE");
	assert_int_equal(conf_cli_parse(&cli, 2, stray, opts, N_OPTS, err, sizeof(err)), EINVAL);
	assert_string_equal(err, "command line: unknown argument \"extra\" (see --help)");
	assert_int_equal(conf_cli_parse(&cli, 2, nofile, opts, N_OPTS, err, sizeof(err)), EINVAL);
	assert_string_equal(err, "command line: -c needs a file");
}

static void test_addr_format_and_equal(void **state)
{
	struct cfg a = { 0 }, b = { 0 };
	struct conf_where where[N_OPTS];
	char err[CONF_ERR_MAX], buf[64];
	(void)state;

	assert_int_equal(conf_load(opts, N_OPTS, &a, where, NULL, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(conf_load(opts, N_OPTS, &b, where, NULL, NULL, 0, err, sizeof(err)), 0);
	for (size_t i = 0; i < N_OPTS; i++)
		assert_true(conf_opt_equal(&opts[i], &a, &b));
	conf_opt_format(&opts[4], &a, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:9101");
	assert_int_equal(conf_addr_parse("[2001:db8::1]:5060", &b.listen), 0);
	assert_false(conf_opt_equal(&opts[4], &a, &b));
	conf_opt_format(&opts[4], &b, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:5060");
	conf_opt_format(&opts[2], &a, buf, sizeof(buf));
	assert_string_equal(buf, "no");
	conf_free(opts, N_OPTS, &a);
	conf_free(opts, N_OPTS, &b);
}

struct lcfg {
	struct conf_list l;
	struct conf_addr off;
};
static const struct conf_opt lopts[] = {
	{ "item", CONF_LIST, offsetof(struct lcfg, l), "d1\nd2", 0, 0, NULL, 0, "" },
	{ "off", CONF_ADDR, offsetof(struct lcfg, off), "", 0, 0, NULL, 0, "" },
};

static void test_list_sources(void **state)
{
	struct lcfg c = { 0 };
	struct conf_where where[2];
	char err[CONF_ERR_MAX], buf[128];
	const char *ov[] = { "item=c1", "item=c2" };
	(void)state;

	/* Defaults: two items; no file. */
	assert_int_equal(conf_load(lopts, 2, &c, where, NULL, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(c.l.n, 2);
	assert_string_equal(c.l.items[1], "d2");
	assert_int_equal(c.off.len, 0);
	conf_opt_format(&lopts[1], &c, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* A file replaces the defaults; the key may repeat. */
	assert_int_equal(conf_load_text(lopts, 2, &c, where, "f", "item = a\nitem = b\n", 18,
					err, sizeof(err)), 0);
	assert_int_equal(c.l.n, 2);
	assert_string_equal(c.l.items[0], "a");
	assert_string_equal(c.l.where[1], "f:2");
	conf_opt_format(&lopts[0], &c, buf, sizeof(buf));
	assert_string_equal(buf, "a | b");
	conf_free(lopts, 2, &c);
	/* The command line replaces the file. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(conf_load(lopts, 2, &c, where, NULL, ov, 2, err, sizeof(err)), 0);
	assert_int_equal(c.l.n, 2);
	assert_string_equal(c.l.items[0], "c1");
	assert_string_equal(c.l.where[1], "command line");
	conf_free(lopts, 2, &c);
	assert_int_equal(c.l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_syntax),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_and_long_line),
		cmocka_unit_test(test_overrides_and_file),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_addr_format_and_equal),
		cmocka_unit_test(test_list_sources),
	};
	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
