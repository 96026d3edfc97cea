/* IMPU patterns with one '*'. */
#include "impu_range.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NOT_IN_USER "@:;?<>,\"! \t\r\n"

int impu_pattern_check(const char *p, char *why, size_t whylen)
{
	const char *star = strchr(p, '*');

	if (strncmp(p, "sip:", 4) && strncmp(p, "tel:", 4)) {
		snprintf(why, whylen, "\"%.80s\" is not a sip: or tel: URI", p);
		return EINVAL;
	}
	if (strlen(p) >= IMPU_MAX || strlen(p) < 5) {
		snprintf(why, whylen, "\"%.80s\" has a bad length", p);
		return EINVAL;
	}
	if (star && strchr(star + 1, '*')) {
		snprintf(why, whylen, "\"%.80s\" has more than one '*'", p);
		return EINVAL;
	}
	if (strpbrk(p + 4, "<>\"! \t\r\n,")) {
		snprintf(why, whylen, "\"%.80s\" holds a character not allowed in an IMPU", p);
		return EINVAL;
	}
	if (star && !strncmp(p, "sip:", 4)) {
		const char *at = strchr(p, '@');
		if (!at || star > at) {
			snprintf(why, whylen, "\"%.80s\": '*' must be in the user part", p);
			return EINVAL;
		}
	}
	return 0;
}

bool impu_pattern_match(const char *p, const char *uri)
{
	const char *star = strchr(p, '*');
	size_t ul = strlen(uri);

	if (!star)
		return !strcmp(p, uri);
	size_t pre = (size_t)(star - p), post = strlen(star + 1);
	if (ul < pre + post + 1 || strncmp(uri, p, pre) || strcmp(uri + ul - post, star + 1))
		return false;
	/* The characters the '*' stands for. */
	size_t mid = ul - pre - post;
	for (size_t i = 0; i < mid; i++)
		if (strchr(NOT_IN_USER, uri[pre + i]) || (unsigned char)uri[pre + i] < 0x21 ||
		    (unsigned char)uri[pre + i] > 0x7e)
			return false;
	return true;
}

int impu_range_wildcarded(const char *p, char *out, size_t outlen)
{
	const char *star = strchr(p, '*');
	int n = star ? snprintf(out, outlen, "%.*s!.*!%s", (int)(star - p), p, star + 1)
		     : snprintf(out, outlen, "%s", p);
	return n < 0 || (size_t)n >= outlen ? EMSGSIZE : 0;
}
