/* libFuzzer: what range registrations read from IMS (range_register.h):
 * the lifetime a response grants our bnc contact (range_reg_granted) and
 * the IMPU a terminating request is for (range_called_impu: its
 * P-Called-Party-ID, else its Request-URI), on any message sip_msg_parse
 * accepts, into output buffers of every size. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>

#include "range_register.h"
#include "sip_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct range_table ranges;
static struct range_reg *range;
static struct wwsf demo = { .name = "demo" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char rnd[24];
	struct sip_msg_error e;
	msg_t *msg = NULL;
	int err;

	if (!range && !(range = range_table_get(&ranges, &demo, "sip:guest-*@ims.test", rnd,
						 "127.0.0.1:5070", &err)))
		abort();
	if (sip_msg_parse((const char *)data, size, &msg, &e)) {
		if (msg)
			msg_destroy(msg);
		return 0;
	}
	sip_t const *sip = sip_object(msg);
	if (range_reg_granted(sip, "127.0.0.1:5070") < 0)
		abort();
	/* An exact-size heap buffer, so that ASan sees any overflow. */
	size_t len = size ? (size_t)data[0] % (IMPU_MAX + 1) + 1 : 1;
	char *out = malloc(len);
	if (!out)
		abort();
	int rc = range_called_impu(sip, range, out, len);
	if (rc != 0 && rc != EINVAL)
		abort();
	if (rc == 0) {
		size_t l = strnlen(out, len);
		if (l == len || l < 5 || strncasecmp(out, "sip:", 4))
			abort();
		(void)impu_pattern_match(range->pattern, out);
	}
	free(out);
	msg_destroy(msg);
	return 0;
}
