/* libFuzzer: SIP parsing and validation (sip_msg_parse), responses to what
 * it accepts or refuses (sip_msg_response), printing and re-parsing
 * (sip_msg_print), plus the two other checks on network input: flow
 * tokens (flow_token_verify) and Origin values (wwsf_origin_normalize). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>

#include "flow_table.h"
#include "sip_msg.h"
#include "wwsf_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct flow_table flows; /* one key for the whole run */
static struct flow *flow;

static int starts(const char *text, size_t len, const char *s)
{
	return len >= strlen(s) && !memcmp(text, s, strlen(s));
}

/* A message we print ends its header block once and parses again. */
static void check_printed(msg_t *msg, int is_response_we_built)
{
	char *text;
	size_t len;
	struct sip_msg_error e;
	msg_t *back;

	if (sip_msg_print(msg, &text, &len) || !text || !len)
		abort();
	if (!memmem(text, len, "\r\n\r\n", 4))
		abort();
	int rc = sip_msg_parse(text, len, &back, &e);
	if (rc != 0 && rc != EBADMSG)
		abort();
	if (is_response_we_built) {
		/* Echoed raw headers may keep it from parsing; otherwise it
		 * must be a response. */
		if (!rc && !sip_object(back)->sip_status)
			abort();
	} else if (rc) {
		abort(); /* what we forward, we would accept ourselves */
	}
	if (back)
		msg_destroy(back);
}

static void check_response(msg_t *req, int status, const char *phrase)
{
	msg_t *rsp = sip_msg_response(req, status, phrase, "fuzztag");
	char *text, first[16];
	size_t len;

	if (!rsp)
		abort();
	if (sip_msg_print(rsp, &text, &len))
		abort();
	snprintf(first, sizeof(first), "SIP/2.0 %d ", status);
	if (!starts(text, len, first))
		abort();
	check_printed(rsp, 1);
	msg_destroy(rsp);
}

static void fuzz_sip(const uint8_t *data, size_t size)
{
	struct sip_msg_error e;
	msg_t *msg = (msg_t *)&e;
	int rc = sip_msg_parse((const char *)data, size, &msg, &e);

	if (rc != 0 && rc != EBADMSG)
		abort();
	if (memchr(e.reason, '\r', sizeof(e.reason)) || memchr(e.reason, '\n', sizeof(e.reason)) ||
	    !memchr(e.reason, '\0', sizeof(e.reason)))
		abort(); /* the reason becomes a reason phrase */
	if (rc == 0) {
		sip_t *sip = sip_object(msg);
		if (!msg || !sip || e.status || (!sip->sip_request == !sip->sip_status))
			abort();
		if (!sip->sip_via || !sip->sip_from || !sip->sip_to || !sip->sip_call_id ||
		    !sip->sip_cseq)
			abort();
		check_printed(msg, 0);
		if (sip->sip_request) {
			check_response(msg, 200, NULL);
			check_response(msg, 100, "Trying");
			check_response(msg, 430, "Flow Failed");
		}
		msg_destroy(msg);
		return;
	}
	if (e.status == 0) {
		if (msg)
			abort();
		return;
	}
	switch (e.status) {
	case 400: case 416: case 420: case 501: case 505:
	case 513: /* a request whose header section is over 16 KiB */
		break;
	default:
		abort();
	}
	if (!msg || !sip_object(msg)->sip_request || !e.reason[0])
		abort();
	check_response(msg, e.status, e.reason);
	msg_destroy(msg);
}

static void fuzz_token(const uint8_t *data, size_t size)
{
	uint64_t id = 0xdeadbeef;
	int rc = flow_token_verify(&flows, (const char *)data, size, &id);

	if (rc == 0) {
		/* Only a genuine token: 32 lower-case hex digits naming id. */
		if (size != FLOW_TOKEN_LEN)
			abort();
		for (size_t i = 0; i < size; i++)
			if (!strchr("0123456789abcdef", data[i]) || !data[i])
				abort();
	} else if (rc != EINVAL || id != 0xdeadbeef) {
		abort();
	}
	/* The real token with the input spliced in verifies only if intact. */
	char tok[FLOW_TOKEN_LEN];
	memcpy(tok, flow->token, FLOW_TOKEN_LEN);
	size_t at = size ? data[0] % FLOW_TOKEN_LEN : 0;
	size_t n = size > 1 ? size - 1 : 0;
	if (n > FLOW_TOKEN_LEN - at)
		n = FLOW_TOKEN_LEN - at;
	memcpy(tok + at, data + (size > 1), n);
	rc = flow_token_verify(&flows, tok, FLOW_TOKEN_LEN, &id);
	int same = !memcmp(tok, flow->token, FLOW_TOKEN_LEN);
	if (same ? (rc || id != flow->id) : rc != EINVAL)
		abort();
}

static void fuzz_origin(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	if (!in)
		return;
	memcpy(in, data, size);
	in[size] = '\0';
	/* An exact-size heap buffer, so that ASan sees any overflow. */
	size_t outlen = size ? (size_t)data[size - 1] % 80 + 1 : 1;
	char *out = malloc(outlen);
	if (!out) {
		free(in);
		return;
	}
	int rc = wwsf_origin_normalize(in, out, outlen);
	if (rc != 0 && rc != EINVAL)
		abort();
	if (rc == 0) {
		size_t l = strnlen(out, outlen);
		if (l == outlen || !(starts(out, l, "https://") || starts(out, l, "http://")))
			abort();
		const char *host = strstr(out, "://") + 3;
		if (!*host || strpbrk(host, "/?#@ \t") || strpbrk(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
			abort();
		for (size_t i = 0; i < l; i++)
			if ((unsigned char)out[i] < 0x21 || (unsigned char)out[i] > 0x7e)
				abort();
		char again[WWSF_ORIGIN_MAX];
		if (wwsf_origin_normalize(out, again, sizeof(again)) || strcmp(again, out))
			abort(); /* idempotent */
	}
	free(out);
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!flow) {
		if (flow_table_init(&flows) || !(flow = flow_table_add(&flows)))
			abort();
	}
	fuzz_sip(data, size);
	fuzz_token(data, size);
	fuzz_origin(data, size);
	return 0;
}
