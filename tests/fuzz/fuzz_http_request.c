/* libFuzzer: HTTP request heads sent to the /metrics endpoint. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request r;
	int rc = http_request_parse((const char *)data, size, 8192, &r);

	if (rc == 0 && (r.head_len > size || r.path[0] != '/' ||
			strlen(r.method) >= HTTP_METHOD_MAX))
		abort();
	if (rc > 0 && rc != 400 && rc != 414 && rc != 431 && rc != 505)
		abort();
	return 0;
}
