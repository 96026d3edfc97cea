/* STUN message codec: RFC 5769 vectors, builders, bad input.  OpenSSL's
 * HMAC and MD5 and a bitwise CRC-32 here are the oracles for the codec's
 * own SHA-1 and nibble-table CRC. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun_msg.h"

/* RFC 5769 2.1: username "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt". */
static const uint8_t req_vec[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2: 192.0.2.1 port 32853. */
static const uint8_t resp4_vec[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 2.3: 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t resp6_vec[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* RFC 5769 2.4: long-term credentials, no FINGERPRINT. */
static const uint8_t lt_vec[] = {
	0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33,
	0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12,
	0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83,
	0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00, 0x15, 0x00, 0x1c,
	0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
	0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79,
	0x36, 0x34, 0x73, 0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d,
	0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x08, 0x00, 0x14,
	0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71,
	0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};

static const char pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t txid[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
				  0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };

#define PARSE(v, m) stun_msg_parse(v, sizeof(v), m)

static void assert_text(const char *s, size_t n, const char *want)
{
	assert_int_equal(n, strlen(want));
	assert_memory_equal(s, want, n);
}

/* ---- oracles and message crafting ---- */

static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320 & (0u - (c & 1)));
	}
	return ~c;
}

static void set16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Starts a message of the given type with the RFC 5769 transaction id. */
static size_t craft_begin(uint8_t *b, uint16_t type)
{
	memset(b, 0, 20);
	set16(b, type);
	b[4] = 0x21, b[5] = 0x12, b[6] = 0xa4, b[7] = 0x42;
	memcpy(b + 8, txid, 12);
	return 20;
}

static size_t craft_attr(uint8_t *b, size_t len, uint16_t type, const void *v, size_t n)
{
	set16(b + len, type);
	set16(b + len + 2, n);
	if (n)
		memcpy(b + len + 4, v, n);
	size_t padded = (n + 3) & ~(size_t)3;
	memset(b + len + 4 + n, 0, padded - n);
	len += 4 + padded;
	set16(b + 2, len - 20);
	return len;
}

/* Appends MESSAGE-INTEGRITY computed by OpenSSL. */
static size_t craft_mi(uint8_t *b, size_t len, const void *key, size_t klen)
{
	unsigned ml;
	set16(b + 2, len + 24 - 20);
	uint8_t *mac = HMAC(EVP_sha1(), key, (int)klen, b, len, b + len + 4, &ml);
	assert_non_null(mac);
	assert_int_equal(ml, 20);
	set16(b + len, STUN_ATTR_MESSAGE_INTEGRITY);
	set16(b + len + 2, 20);
	return len + 24;
}

static size_t craft_fp(uint8_t *b, size_t len)
{
	set16(b + 2, len + 8 - 20);
	uint32_t c = ref_crc32(b, len) ^ 0x5354554e;
	set16(b + len, STUN_ATTR_FINGERPRINT);
	set16(b + len + 2, 4);
	b[len + 4] = (uint8_t)(c >> 24), b[len + 5] = (uint8_t)(c >> 16);
	b[len + 6] = (uint8_t)(c >> 8), b[len + 7] = (uint8_t)c;
	return len + 8;
}

/* ---- RFC 5769 ---- */

static void test_rfc5769_request(void **state)
{
	struct stun_msg m;
	const char *s;
	size_t n;
	uint32_t prio, fp;
	uint64_t tb;
	struct stun_addr a;
	(void)state;

	assert_true(stun_msg_is_stun(req_vec, sizeof(req_vec)));
	assert_int_equal(PARSE(req_vec, &m), 0);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_int_equal(m.method, STUN_METHOD_BINDING);
	assert_int_equal(m.len, sizeof(req_vec));
	assert_memory_equal(m.txid, txid, 12);
	assert_int_equal(stun_msg_software(&m, &s, &n), 0);
	assert_text(s, n, "STUN test client");
	assert_int_equal(stun_msg_username(&m, &s, &n), 0);
	assert_text(s, n, "evtj:h6vY");
	assert_int_equal(stun_msg_priority(&m, &prio), 0);
	assert_int_equal(prio, 0x6e0001ff);
	assert_int_equal(stun_msg_ice_controlled(&m, &tb), 0);
	assert_true(tb == 0x932ff9b151263b36ull);
	assert_int_equal(stun_msg_ice_controlling(&m, &tb), ENOENT);
	assert_false(stun_msg_has(&m, STUN_SLOT_USE_CANDIDATE));
	assert_int_equal(stun_msg_xor_mapped_address(&m, &a), ENOENT);
	assert_int_equal(m.at[STUN_SLOT_MESSAGE_INTEGRITY], 76);
	assert_int_equal(m.at[STUN_SLOT_FINGERPRINT], 100);
	assert_int_equal(m.n_unknown, 0);
	assert_int_equal(stun_msg_fingerprint(&m, &fp), 0);
	assert_int_equal(fp, 0xe57a3bcf);
	assert_int_equal(stun_msg_fingerprint_check(&m), 0);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_msg_integrity_check(&m, "VOkJxbRl1RmTxUk/WvJxBT", 22), EBADMSG);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, 21), EBADMSG);
}

static void check_response(const uint8_t *v, size_t len, int family,
			   const char *ip)
{
	struct stun_msg m;
	struct stun_addr a;
	uint8_t want[16];
	const char *s;
	size_t n;

	assert_int_equal(stun_msg_parse(v, len, &m), 0);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_int_equal(m.method, STUN_METHOD_BINDING);
	assert_int_equal(stun_msg_software(&m, &s, &n), 0);
	assert_text(s, n, "test vector");
	assert_int_equal(stun_msg_xor_mapped_address(&m, &a), 0);
	assert_int_equal(a.family, family);
	assert_int_equal(a.port, 32853);
	assert_int_equal(inet_pton(family, ip, want), 1);
	assert_memory_equal(a.ip, want, family == AF_INET ? 4 : 16);
	assert_int_equal(stun_msg_mapped_address(&m, &a), ENOENT);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_msg_fingerprint_check(&m), 0);
}

static void test_rfc5769_responses(void **state)
{
	(void)state;
	check_response(resp4_vec, sizeof(resp4_vec), AF_INET, "192.0.2.1");
	check_response(resp6_vec, sizeof(resp6_vec), AF_INET6,
		       "2001:db8:1234:5678:11:2233:4455:6677");
}

static void test_rfc5769_long_term(void **state)
{
	static const char user[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
	struct stun_msg m;
	const char *s;
	size_t n;
	uint32_t fp;
	uint8_t key[16];
	unsigned kl;
	char input[64];
	(void)state;

	assert_int_equal(PARSE(lt_vec, &m), 0);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_int_equal(m.method, STUN_METHOD_BINDING);
	assert_memory_equal(m.txid, "\x78\xad\x34\x33\xc6\xad\x72\xc0\x29\xda\x41\x2e", 12);
	assert_int_equal(stun_msg_username(&m, &s, &n), 0);
	assert_text(s, n, user);
	assert_int_equal(stun_msg_nonce(&m, &s, &n), 0);
	assert_text(s, n, "f//499k954d6OL34oL9FSTvy64sA");
	assert_int_equal(stun_msg_realm(&m, &s, &n), 0);
	assert_text(s, n, "example.org");
	assert_int_equal(m.n_unknown, 0);
	assert_int_equal(stun_msg_fingerprint(&m, &fp), ENOENT);
	assert_int_equal(stun_msg_fingerprint_check(&m), ENOENT);
	/* Long-term key: MD5(username ":" realm ":" SASLprep(password)). */
	int il = snprintf(input, sizeof(input), "%s:example.org:TheMatrIX", user);
	assert_int_equal(EVP_Digest(input, (size_t)il, key, &kl, EVP_md5(), NULL), 1);
	assert_int_equal(stun_msg_integrity_check(&m, key, kl), 0);
	key[0] ^= 1;
	assert_int_equal(stun_msg_integrity_check(&m, key, kl), EBADMSG);
}

/* ---- builders ---- */

static void test_build_success(void **state)
{
	static const char *const ips[] = { "198.51.100.7", "2001:db8::1", "::" };
	static const uint16_t ports[] = { 9, 65535, 0 };
	uint8_t buf[STUN_RESPONSE_MAX];
	struct stun_msg m;
	struct stun_addr a, b;
	size_t len;
	(void)state;

	for (size_t i = 0; i < 3; i++) {
		memset(&a, 0, sizeof(a));
		a.family = strchr(ips[i], ':') ? AF_INET6 : AF_INET;
		a.port = ports[i];
		assert_int_equal(inet_pton(a.family, ips[i], a.ip), 1);
		assert_int_equal(stun_msg_build_success(buf, sizeof(buf), txid, &a, pwd,
							strlen(pwd), &len), 0);
		assert_int_equal(len, a.family == AF_INET ? 64 : 76);
		assert_true(stun_msg_is_stun(buf, len));
		assert_int_equal(stun_msg_parse(buf, len, &m), 0);
		assert_int_equal(m.cls, STUN_SUCCESS);
		assert_int_equal(m.method, STUN_METHOD_BINDING);
		assert_memory_equal(m.txid, txid, 12);
		assert_int_equal(stun_msg_xor_mapped_address(&m, &b), 0);
		assert_int_equal(b.family, a.family);
		assert_int_equal(b.port, a.port);
		assert_memory_equal(b.ip, a.ip, 16);
		assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), 0);
		assert_int_equal(stun_msg_integrity_check(&m, "x", 1), EBADMSG);
		assert_int_equal(stun_msg_fingerprint_check(&m), 0);
		assert_false(stun_msg_has(&m, STUN_SLOT_USERNAME));
		/* Too small a buffer at every size. */
		for (size_t cap = 0; cap < len; cap++)
			assert_int_equal(stun_msg_build_success(buf, cap, txid, &a, pwd,
								strlen(pwd), &len), EMSGSIZE);
	}
	a.family = AF_UNIX;
	assert_int_equal(stun_msg_build_success(buf, sizeof(buf), txid, &a, pwd, 3, &len), EINVAL);
	a.family = AF_INET;
	assert_int_equal(stun_msg_build_success(buf, sizeof(buf), txid, &a, NULL, 0, &len), EINVAL);
}

static void check_error(const uint8_t *buf, size_t len, int code, const char *reason,
			bool with_mi)
{
	struct stun_msg m;
	const char *s;
	size_t n;
	int c;

	assert_int_equal(stun_msg_parse(buf, len, &m), 0);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(stun_msg_error_code(&m, &c, &s, &n), 0);
	assert_int_equal(c, code);
	assert_text(s, n, reason);
	assert_int_equal(stun_msg_has(&m, STUN_SLOT_MESSAGE_INTEGRITY), with_mi);
	if (with_mi)
		assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_msg_fingerprint_check(&m), 0);
}

static void test_build_errors(void **state)
{
	static const uint16_t unk[] = { 0x7777, 0x0003, 0x001e };
	uint8_t buf[STUN_RESPONSE_MAX];
	struct stun_msg m;
	uint16_t types[8];
	size_t len, n;
	(void)state;

	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 400, NULL, 0,
					      NULL, 0, &len), 0);
	check_error(buf, len, 400, "Bad Request", false);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 401, NULL, 0,
					      NULL, 0, &len), 0);
	check_error(buf, len, 401, "Unauthenticated", false);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 487, NULL, 0,
					      pwd, strlen(pwd), &len), 0);
	check_error(buf, len, 487, "Role Conflict", true);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 420, unk, 3,
					      pwd, strlen(pwd), &len), 0);
	check_error(buf, len, 420, "Unknown Attribute", true);
	assert_int_equal(stun_msg_parse(buf, len, &m), 0);
	assert_int_equal(stun_msg_unknown_attributes(&m, types, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(types, unk, sizeof(unk));
	assert_int_equal(stun_msg_unknown_attributes(&m, types, 1, &n), 0);
	assert_int_equal(n, 3);
	/* An error for another method keeps that method. */
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 0x003, txid, 400, NULL,
					      0, NULL, 0, &len), 0);
	assert_int_equal(stun_msg_parse(buf, len, &m), 0);
	assert_int_equal(m.method, 0x003);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 0xabc, txid, 500, NULL,
					      0, NULL, 0, &len), 0);
	assert_int_equal(stun_msg_parse(buf, len, &m), 0);
	assert_int_equal(m.method, 0xabc);
	check_error(buf, len, 500, "Server Error", false);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 699, NULL, 0,
					      pwd, strlen(pwd), &len), 0);
	check_error(buf, len, 699, "Error", true);

	/* The integrity rules. */
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 401, NULL, 0,
					      pwd, 3, &len), EINVAL);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 487, NULL, 0,
					      NULL, 0, &len), EINVAL);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 420, NULL, 0,
					      pwd, 3, &len), EINVAL);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 400, unk, 1,
					      NULL, 0, &len), EINVAL);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 200, NULL, 0,
					      NULL, 0, &len), EINVAL);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 0x1000, txid, 400, NULL,
					      0, NULL, 0, &len), EINVAL);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 420, unk, 9,
					      pwd, 3, &len), EINVAL);
	assert_int_equal(stun_msg_build_error(buf, sizeof(buf), 1, txid, 420, unk, 3,
					      pwd, strlen(pwd), &len), 0);
	for (size_t cap = 0; cap < len; cap++)
		assert_int_equal(stun_msg_build_error(buf, cap, 1, txid, 420, unk, 3, pwd,
						      strlen(pwd), &n), EMSGSIZE);
}

static void test_build_request(void **state)
{
	uint8_t buf[STUN_REQUEST_MAX];
	struct stun_binding_request r = {
		.txid = txid, .username = "evtj:h6vY", .has_priority = true,
		.priority = 0x6e0001ff, .role = STUN_ROLE_CONTROLLING,
		.tiebreaker = 0x0102030405060708ull, .use_candidate = true,
		.key = pwd, .key_len = strlen(pwd),
	};
	struct stun_msg m;
	const char *s;
	size_t len, n;
	uint32_t prio;
	uint64_t tb;
	(void)state;

	assert_int_equal(stun_msg_build_request(buf, sizeof(buf), &r, &len), 0);
	assert_int_equal(stun_msg_parse(buf, len, &m), 0);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_int_equal(m.method, STUN_METHOD_BINDING);
	assert_int_equal(stun_msg_username(&m, &s, &n), 0);
	assert_text(s, n, "evtj:h6vY");
	assert_int_equal(stun_msg_priority(&m, &prio), 0);
	assert_int_equal(prio, 0x6e0001ff);
	assert_int_equal(stun_msg_ice_controlling(&m, &tb), 0);
	assert_true(tb == 0x0102030405060708ull);
	assert_int_equal(stun_msg_ice_controlled(&m, &tb), ENOENT);
	assert_true(stun_msg_has(&m, STUN_SLOT_USE_CANDIDATE));
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_msg_fingerprint_check(&m), 0);
	for (size_t cap = 0; cap < len; cap++)
		assert_int_equal(stun_msg_build_request(buf, cap, &r, &n), EMSGSIZE);

	/* Controlled, no nomination, no priority, no key. */
	r.role = STUN_ROLE_CONTROLLED;
	r.use_candidate = false;
	r.has_priority = false;
	r.key = NULL;
	assert_int_equal(stun_msg_build_request(buf, sizeof(buf), &r, &len), 0);
	assert_int_equal(stun_msg_parse(buf, len, &m), 0);
	assert_int_equal(stun_msg_ice_controlled(&m, &tb), 0);
	assert_true(tb == 0x0102030405060708ull);
	assert_false(stun_msg_has(&m, STUN_SLOT_USE_CANDIDATE));
	assert_int_equal(stun_msg_priority(&m, &prio), ENOENT);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), ENOENT);
	assert_int_equal(stun_msg_fingerprint_check(&m), 0);

	/* Longest username fits STUN_REQUEST_MAX; one more byte is refused. */
	char user[STUN_USERNAME_MAX + 2];
	memset(user, 'u', sizeof(user) - 1);
	user[STUN_USERNAME_MAX] = '\0';
	r = (struct stun_binding_request){ .txid = txid, .username = user,
		.has_priority = true, .role = STUN_ROLE_CONTROLLING,
		.use_candidate = true, .key = pwd, .key_len = strlen(pwd) };
	assert_int_equal(stun_msg_build_request(buf, sizeof(buf), &r, &len), 0);
	assert_int_equal(stun_msg_parse(buf, len, &m), 0);
	assert_int_equal(stun_msg_username(&m, &s, &n), 0);
	assert_int_equal(n, STUN_USERNAME_MAX);
	user[STUN_USERNAME_MAX] = 'u';
	user[STUN_USERNAME_MAX + 1] = '\0';
	assert_int_equal(stun_msg_build_request(buf, sizeof(buf), &r, &len), EINVAL);
	r.username = NULL;
	r.txid = NULL;
	assert_int_equal(stun_msg_build_request(buf, sizeof(buf), &r, &len), EINVAL);
}

/* MESSAGE-INTEGRITY against OpenSSL's HMAC-SHA1 and FINGERPRINT against a
 * bitwise CRC-32, across SHA-1 block boundaries and key sizes (keys over
 * 64 bytes are hashed first). */
static void test_integrity_oracle(void **state)
{
	static const size_t klens[] = { 0, 1, 22, 63, 64, 65, 100, 256 };
	uint8_t key[256], buf[STUN_REQUEST_MAX], copy[STUN_REQUEST_MAX], mac[20];
	char user[200];
	struct stun_msg m;
	size_t len;
	unsigned ml;
	(void)state;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 3);
	for (size_t ul = 0; ul < 150; ul++) {
		memset(user, 'a' + (int)(ul % 26), ul);
		user[ul] = '\0';
		for (size_t k = 0; k < sizeof(klens) / sizeof(klens[0]); k++) {
			struct stun_binding_request r = {
				.txid = txid, .username = user, .key = key,
				.key_len = klens[k], .has_priority = ul & 1,
			};
			assert_int_equal(stun_msg_build_request(buf, sizeof(buf), &r, &len), 0);
			assert_int_equal(stun_msg_parse(buf, len, &m), 0);
			size_t at = m.at[STUN_SLOT_MESSAGE_INTEGRITY];
			memcpy(copy, buf, at);
			set16(copy + 2, at + 24 - 20);
			HMAC(EVP_sha1(), key, (int)klens[k], copy, at, mac, &ml);
			assert_memory_equal(buf + at + 4, mac, 20);
			uint32_t fp, want = ref_crc32(buf, len - 8) ^ 0x5354554e;
			assert_int_equal(stun_msg_fingerprint(&m, &fp), 0);
			assert_int_equal(fp, want);
			assert_int_equal(stun_msg_integrity_check(&m, key, klens[k]), 0);
			assert_int_equal(stun_msg_fingerprint_check(&m), 0);
		}
	}
}

/* ---- bad input ---- */

static void test_truncated(void **state)
{
	static const struct {
		const uint8_t *v;
		size_t len;
	} vecs[] = {
		{ req_vec, sizeof(req_vec) }, { resp4_vec, sizeof(resp4_vec) },
		{ resp6_vec, sizeof(resp6_vec) }, { lt_vec, sizeof(lt_vec) },
	};
	struct stun_msg m;
	(void)state;

	for (size_t i = 0; i < 4; i++) {
		/* Copied to the heap so ASan catches any read past the end. */
		for (size_t n = 0; n < vecs[i].len; n++) {
			uint8_t *p = malloc(n ? n : 1);
			assert_non_null(p);
			memcpy(p, vecs[i].v, n);
			assert_int_equal(stun_msg_parse(p, n, &m), EPROTO);
			assert_false(stun_msg_is_stun(p, n));
			free(p);
		}
		/* A header length shortened to match the cut (a multiple of 4)
		 * leaves an attribute overrunning the message, or FINGERPRINT
		 * missing. */
		uint8_t *p = malloc(vecs[i].len);
		assert_non_null(p);
		for (size_t n = 24; n < vecs[i].len; n += 4) {
			memcpy(p, vecs[i].v, n);
			set16(p + 2, n - 20);
			int rc = stun_msg_parse(p, n, &m);
			assert_true(rc == 0 || rc == EBADMSG);
			if (rc == 0)
				assert_int_equal(stun_msg_fingerprint(&m, &(uint32_t){ 0 }), ENOENT);
		}
		free(p);
	}
}

static void test_bad_header(void **state)
{
	uint8_t b[sizeof(req_vec) + 4];
	struct stun_msg m;
	(void)state;

	memcpy(b, req_vec, sizeof(req_vec));
	b[4] ^= 1; /* cookie */
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), EPROTO);
	assert_false(stun_msg_is_stun(b, sizeof(req_vec)));
	memcpy(b, req_vec, sizeof(req_vec));
	b[0] |= 0x40; /* first two bits */
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), EPROTO);
	assert_false(stun_msg_is_stun(b, sizeof(req_vec)));
	memcpy(b, req_vec, sizeof(req_vec));
	b[0] = 0x04; /* valid STUN, but outside the RFC 7983 demux range */
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), 0);
	assert_false(stun_msg_is_stun(b, sizeof(req_vec)));
	/* Length not a multiple of 4, with a datagram that matches it. */
	memcpy(b, req_vec, sizeof(req_vec));
	b[sizeof(req_vec)] = 0;
	set16(b + 2, sizeof(req_vec) - 20 + 1);
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec) + 1, &m), EPROTO);
	assert_false(stun_msg_is_stun(b, sizeof(req_vec) + 1));
	/* Length past the end of the datagram, and short of it. */
	memcpy(b, req_vec, sizeof(req_vec));
	set16(b + 2, sizeof(req_vec) - 20 + 4);
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), EPROTO);
	memset(b + sizeof(req_vec), 0, 4);
	set16(b + 2, sizeof(req_vec) - 20);
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec) + 4, &m), EPROTO);
	assert_false(stun_msg_is_stun(b, sizeof(req_vec) + 4));
	/* Other protocols on the same port (RFC 7983). */
	static const uint8_t rtp[24] = { 0x80, 0x60, 0, 1 };
	static const uint8_t dtls[24] = { 22, 0xfe, 0xfd };
	assert_false(stun_msg_is_stun(rtp, sizeof(rtp)));
	assert_false(stun_msg_is_stun(dtls, sizeof(dtls)));
	assert_int_equal(stun_msg_parse(rtp, sizeof(rtp), &m), EPROTO);
	assert_int_equal(stun_msg_parse(dtls, sizeof(dtls), &m), EPROTO);
	/* The header alone is a valid message. */
	size_t len = craft_begin(b, 0x0011);
	assert_true(stun_msg_is_stun(b, len));
	assert_int_equal(stun_msg_parse(b, len, &m), 0);
	assert_int_equal(m.cls, STUN_INDICATION);
	assert_int_equal(m.method, STUN_METHOD_BINDING);
}

static void test_bad_attributes(void **state)
{
	uint8_t b[256];
	struct stun_msg m;
	size_t len;
	(void)state;

	/* Attribute length running past the message. */
	memcpy(b, req_vec, sizeof(req_vec));
	set16(b + 22, 0x100); /* SOFTWARE 16 -> 256 */
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), EBADMSG);
	set16(b + 22, 0x11); /* 17: the walk lands inside PRIORITY and overruns */
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), EBADMSG);
	memcpy(b, req_vec, sizeof(req_vec));
	set16(b + sizeof(req_vec) - 6, 5); /* FINGERPRINT length 5, padded 8 */
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), EBADMSG);

	/* FINGERPRINT not last. */
	memcpy(b, req_vec, sizeof(req_vec));
	len = craft_attr(b, sizeof(req_vec), 0x8022, "x", 1);
	assert_int_equal(stun_msg_parse(b, len, &m), EBADMSG);
	/* Two FINGERPRINTs. */
	len = craft_fp(b, sizeof(req_vec));
	assert_int_equal(stun_msg_parse(b, len, &m), EBADMSG);

	/* Wrong MI and wrong FINGERPRINT. */
	memcpy(b, req_vec, sizeof(req_vec));
	b[80] ^= 0x80;
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), 0);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), EBADMSG);
	assert_int_equal(stun_msg_fingerprint_check(&m), EBADMSG);
	memcpy(b, req_vec, sizeof(req_vec));
	b[65] = 'E'; /* "evtj" -> "eEtj": covered by both */
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), 0);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), EBADMSG);
	assert_int_equal(stun_msg_fingerprint_check(&m), EBADMSG);
	memcpy(b, req_vec, sizeof(req_vec));
	b[sizeof(req_vec) - 1] ^= 1;
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), 0);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_msg_fingerprint_check(&m), EBADMSG);
	/* Padding bytes are not checked, but they are covered. */
	memcpy(b, req_vec, sizeof(req_vec));
	b[73] = 0;
	assert_int_equal(stun_msg_parse(b, sizeof(req_vec), &m), 0);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), EBADMSG);

	/* Malformed known attributes. */
	static const struct {
		uint16_t type;
		const char *v;
		size_t n;
	} bad[] = {
		{ STUN_ATTR_PRIORITY, "\0\0\1", 3 },
		{ STUN_ATTR_PRIORITY, "\0\0\0\1\0", 5 },
		{ STUN_ATTR_USE_CANDIDATE, "\0\0\0\0", 4 },
		{ STUN_ATTR_ICE_CONTROLLING, "\0\0\0\0", 4 },
		{ STUN_ATTR_ICE_CONTROLLED, "123456789", 9 },
		{ STUN_ATTR_MESSAGE_INTEGRITY, "0123456789012345678", 19 },
		{ STUN_ATTR_MESSAGE_INTEGRITY_SHA256, "012345678901", 12 },
		{ STUN_ATTR_MESSAGE_INTEGRITY_SHA256, "0123456789012345678", 19 },
		{ STUN_ATTR_XOR_MAPPED_ADDRESS, "\0\3\0\1\1\2\3\4", 8 },
		{ STUN_ATTR_XOR_MAPPED_ADDRESS, "\0\1\0\1\1\2\3\4\5\6\7\10", 12 },
		{ STUN_ATTR_MAPPED_ADDRESS, "\0\2\0\1\1\2\3\4", 8 },
		{ STUN_ATTR_ERROR_CODE, "\0\0\7\0", 4 },
		{ STUN_ATTR_ERROR_CODE, "\0\0\4\144", 4 },
		{ STUN_ATTR_ERROR_CODE, "\0\0\4", 3 },
		{ STUN_ATTR_UNKNOWN_ATTRIBUTES, "\0\1\0", 3 },
		{ STUN_ATTR_FINGERPRINT, "\0\0\0", 3 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = craft_begin(b, 0x0001);
		len = craft_attr(b, len, bad[i].type, bad[i].v, bad[i].n);
		assert_int_equal(stun_msg_parse(b, len, &m), EBADMSG);
	}
	static uint8_t big[900];
	uint8_t *p = malloc(2048);
	assert_non_null(p);
	len = craft_begin(p, 0x0001);
	len = craft_attr(p, len, STUN_ATTR_USERNAME, big, STUN_USERNAME_MAX + 1);
	assert_int_equal(stun_msg_parse(p, len, &m), EBADMSG);
	len = craft_begin(p, 0x0001);
	len = craft_attr(p, len, STUN_ATTR_SOFTWARE, big, STUN_TEXT_MAX + 1);
	assert_int_equal(stun_msg_parse(p, len, &m), EBADMSG);
	len = craft_begin(p, 0x0001);
	len = craft_attr(p, len, STUN_ATTR_USERNAME, big, STUN_USERNAME_MAX);
	len = craft_attr(p, len, STUN_ATTR_SOFTWARE, big, STUN_TEXT_MAX);
	assert_int_equal(stun_msg_parse(p, len, &m), 0);
	free(p);
}

static void test_duplicates_and_order(void **state)
{
	uint8_t b[256];
	struct stun_msg m;
	const char *s;
	size_t len, n;
	uint32_t prio;
	(void)state;

	/* Only the first occurrence counts. */
	len = craft_begin(b, 0x0001);
	len = craft_attr(b, len, STUN_ATTR_USERNAME, "first:a", 7);
	len = craft_attr(b, len, STUN_ATTR_USERNAME, "second:b", 8);
	len = craft_attr(b, len, STUN_ATTR_PRIORITY, "\0\0\0\7", 4);
	len = craft_attr(b, len, STUN_ATTR_PRIORITY, "\0\0\0\10", 4);
	len = craft_mi(b, len, pwd, strlen(pwd));
	size_t mi_at = len - 24;
	/* A second MESSAGE-INTEGRITY (wrong), a malformed PRIORITY and an
	 * unknown comprehension-required attribute after it: ignored. */
	len = craft_attr(b, len, STUN_ATTR_MESSAGE_INTEGRITY, "01234567890123456789", 20);
	len = craft_attr(b, len, STUN_ATTR_PRIORITY, "\1", 1);
	len = craft_attr(b, len, 0x7fff, "z", 1);
	len = craft_fp(b, len);
	assert_int_equal(stun_msg_parse(b, len, &m), 0);
	assert_int_equal(stun_msg_username(&m, &s, &n), 0);
	assert_text(s, n, "first:a");
	assert_int_equal(stun_msg_priority(&m, &prio), 0);
	assert_int_equal(prio, 7);
	assert_int_equal(m.at[STUN_SLOT_MESSAGE_INTEGRITY], mi_at);
	assert_int_equal(m.n_unknown, 0);
	/* MI covers only what precedes it; the length field is adjusted. */
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_msg_fingerprint_check(&m), 0);

	/* MESSAGE-INTEGRITY-SHA256 may follow MESSAGE-INTEGRITY; after it
	 * only FINGERPRINT counts. */
	static const uint8_t sha[32] = { 1, 2, 3 };
	const uint8_t *mac;
	len = craft_begin(b, 0x0001);
	len = craft_attr(b, len, STUN_ATTR_USERNAME, "u:v", 3);
	len = craft_mi(b, len, pwd, strlen(pwd));
	len = craft_attr(b, len, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, sha, 32);
	len = craft_attr(b, len, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	len = craft_fp(b, len);
	assert_int_equal(stun_msg_parse(b, len, &m), 0);
	assert_int_equal(stun_msg_integrity_sha256(&m, &mac, &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(mac, sha, 32);
	assert_false(stun_msg_has(&m, STUN_SLOT_USE_CANDIDATE));
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_msg_fingerprint_check(&m), 0);
	/* MESSAGE-INTEGRITY-SHA256 alone: a MESSAGE-INTEGRITY after it is
	 * ignored. */
	len = craft_begin(b, 0x0001);
	len = craft_attr(b, len, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, sha, 16);
	len = craft_mi(b, len, pwd, strlen(pwd));
	assert_int_equal(stun_msg_parse(b, len, &m), 0);
	assert_int_equal(stun_msg_integrity_sha256(&m, &mac, &n), 0);
	assert_int_equal(n, 16);
	assert_int_equal(stun_msg_integrity_check(&m, pwd, strlen(pwd)), ENOENT);
}

static void test_unknown_attributes(void **state)
{
	uint8_t b[256];
	struct stun_msg m;
	size_t len;
	(void)state;

	len = craft_begin(b, 0x0001);
	/* Comprehension-optional unknowns (browser extensions) are ignored;
	 * long-term attributes not understood here are collected. */
	len = craft_attr(b, len, 0xc057, "\0\1\0\2", 4); /* GOOG-NETWORK-INFO */
	len = craft_attr(b, len, 0x001e, "h", 1);        /* USERHASH */
	len = craft_attr(b, len, 0x0003, "\0\0\0\0", 4); /* CHANGE-REQUEST */
	len = craft_attr(b, len, 0x001e, "h", 1);        /* once only */
	for (uint16_t t = 0x7000; t < 0x700a; t++)
		len = craft_attr(b, len, t, NULL, 0);
	assert_int_equal(stun_msg_parse(b, len, &m), 0);
	assert_int_equal(m.n_unknown, STUN_UNKNOWN_MAX);
	assert_int_equal(m.unknown[0], 0x001e);
	assert_int_equal(m.unknown[1], 0x0003);
	assert_int_equal(m.unknown[2], 0x7000);
	assert_int_equal(m.unknown[7], 0x7005);

	/* MAPPED-ADDRESS (plain) and a padded text value. */
	len = craft_begin(b, 0x0101);
	len = craft_attr(b, len, STUN_ATTR_MAPPED_ADDRESS, "\0\1\x80\x55\xc0\0\2\1", 8);
	len = craft_attr(b, len, STUN_ATTR_SOFTWARE, "abcde", 5);
	struct stun_addr a;
	const char *s;
	size_t n;
	assert_int_equal(stun_msg_parse(b, len, &m), 0);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_int_equal(stun_msg_mapped_address(&m, &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.port, 32853);
	assert_memory_equal(a.ip, "\xc0\0\2\1", 4);
	assert_int_equal(stun_msg_software(&m, &s, &n), 0);
	assert_text(s, n, "abcde");
	assert_int_equal(stun_msg_error_code(&m, &(int){ 0 }, &s, &n), ENOENT);
	assert_int_equal(stun_msg_unknown_attributes(&m, NULL, 0, &n), ENOENT);
	assert_int_equal(stun_msg_integrity_sha256(&m, &(const uint8_t *){ NULL }, &n), ENOENT);
	assert_int_equal(stun_msg_realm(&m, &s, &n), ENOENT);
	assert_int_equal(stun_msg_nonce(&m, &s, &n), ENOENT);
	assert_int_equal(stun_msg_username(&m, &s, &n), ENOENT);
	assert_int_equal(stun_msg_software(&m, &s, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5769_request),
		cmocka_unit_test(test_rfc5769_responses),
		cmocka_unit_test(test_rfc5769_long_term),
		cmocka_unit_test(test_build_success),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_integrity_oracle),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_attributes),
		cmocka_unit_test(test_duplicates_and_order),
		cmocka_unit_test(test_unknown_attributes),
	};
	return cmocka_run_group_tests_name("stun_msg", tests, NULL, NULL);
}
