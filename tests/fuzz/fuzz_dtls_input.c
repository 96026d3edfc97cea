/* libFuzzer: arbitrary datagrams into a passive (server) DTLS-SRTP session,
 * as a browser or an attacker could send them to a W3 port.  The input is
 * split into datagrams by a 2-byte big-endian length before each. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Process-wide by nature of libFuzzer: one identity and context for all
 * inputs (generating a key per input would measure only key generation). */
static struct tls_identity id;
static struct dtls_ctx ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (tls_identity_generate(&id, "fuzz", 30) || dtls_ctx_init(&ctx, &id))
		abort();
	return 0;
}

static void sink(void *arg, const uint8_t *buf, size_t len)
{
	(void)arg;
	if (len > DTLS_MTU_DEFAULT)
		abort(); /* never a datagram above the MTU */
	(void)buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dtls_session s;

	if (dtls_session_start(&s, &ctx, DTLS_PASSIVE, id.fingerprint_sha256, 0, sink, NULL, 0))
		abort();
	while (size >= 2) {
		size_t n = (size_t)(data[0] << 8 | data[1]);
		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		dtls_session_input(&s, data, n, 0);
		data += n;
		size -= n;
	}
	dtls_session_free(&s);
	return 0;
}
