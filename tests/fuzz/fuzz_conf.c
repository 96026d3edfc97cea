/* libFuzzer: configuration file parser and log-level lists. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct cfg {
	char *s;
	long long i;
	bool b;
	int e;
	struct conf_addr a;
	char *p;
	char *levels;
};

static const char *const choices[] = { "one", "two", NULL };
static const struct conf_opt opts[] = {
	{ "s", CONF_STRING, offsetof(struct cfg, s), "x", 0, 0, NULL, 0, "" },
	{ "i", CONF_INT, offsetof(struct cfg, i), "1", -5, 5000, NULL, 0, "" },
	{ "b", CONF_BOOL, offsetof(struct cfg, b), "no", 0, 0, NULL, 0, "" },
	{ "e", CONF_ENUM, offsetof(struct cfg, e), "one", 0, 0, choices, 0, "" },
	{ "a.b", CONF_ADDR, offsetof(struct cfg, a), "[::1]:1", 0, 0, NULL, 0, "" },
	{ "p", CONF_PATH, offsetof(struct cfg, p), "", 0, 0, NULL, 0, "" },
	{ "log.level", CONF_LOGLEVELS, offsetof(struct cfg, levels), "info", 0, 0, NULL, 0, "" },
};
#define N (sizeof(opts) / sizeof(opts[0]))
static const char *const subsys[] = { "core", "sip", "iq" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	struct conf_where where[N];
	char err[CONF_ERR_MAX], buf[256];
	unsigned char lv[3];

	memset(&c, 0, sizeof(c));
	if (conf_load(opts, N, &c, where, NULL, NULL, 0, err, sizeof(err)))
		abort(); /* defaults must always load */
	if (conf_load_text(opts, N, &c, where, "f", (const char *)data, size, err,
			   sizeof(err)) == 0) {
		for (size_t i = 0; i < N; i++)
			conf_opt_format(&opts[i], &c, buf, sizeof(buf));
		log_levels_parse(c.levels, subsys, 3, lv, err, sizeof(err));
	}
	conf_free(opts, N, &c);
	return 0;
}
