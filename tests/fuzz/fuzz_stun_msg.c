/* libFuzzer: STUN parsing, integrity and fingerprint checks on arbitrary
 * bytes, and builder round trips driven by the same bytes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stun_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key[] = "VOkJxbRl1RmTxUk/WvJxBt";

static void check_parsed(const uint8_t *data, size_t size, const struct stun_msg *m)
{
	const char *s;
	const uint8_t *mac;
	size_t n;
	uint32_t u32;
	uint64_t u64;
	int code;
	struct stun_addr a;
	uint16_t types[4];

	if (m->len != size || m->txid != data + 8 || m->n_unknown > STUN_UNKNOWN_MAX ||
	    m->method > 0xfff || (unsigned)m->cls > 3)
		abort();
	for (int i = 0; i < STUN_SLOT_COUNT; i++)
		if (m->at[i] && (m->at[i] < STUN_HEADER_LEN || m->at[i] % 4 ||
				 m->at[i] + 4 + m->vlen[i] > size))
			abort();
	for (size_t i = 0; i < m->n_unknown; i++)
		if (m->unknown[i] >= 0x8000)
			abort();
	size_t fp = m->at[STUN_SLOT_FINGERPRINT], mi = m->at[STUN_SLOT_MESSAGE_INTEGRITY];
	if (fp && fp != size - 8)
		abort();
	if (fp && mi && mi > fp)
		abort();
	if (data[0] <= 3 && !stun_msg_is_stun(data, size))
		abort();

	int rc = stun_msg_integrity_check(m, key, sizeof(key) - 1);
	if (rc != 0 && rc != ENOENT && rc != EBADMSG)
		abort();
	if ((rc == ENOENT) != !mi)
		abort();
	rc = stun_msg_fingerprint_check(m);
	if ((rc == ENOENT) != !fp || (rc != 0 && rc != ENOENT && rc != EBADMSG))
		abort();

	/* Every accessor either finds a valid value or reports absence. */
	if (!stun_msg_username(m, &s, &n) && n > STUN_USERNAME_MAX)
		abort();
	if (!stun_msg_software(m, &s, &n) && n > STUN_TEXT_MAX)
		abort();
	stun_msg_realm(m, &s, &n);
	stun_msg_nonce(m, &s, &n);
	stun_msg_priority(m, &u32);
	stun_msg_ice_controlling(m, &u64);
	stun_msg_ice_controlled(m, &u64);
	if (!stun_msg_xor_mapped_address(m, &a) && a.family != AF_INET && a.family != AF_INET6)
		abort();
	if (!stun_msg_mapped_address(m, &a) && a.family != AF_INET && a.family != AF_INET6)
		abort();
	if (!stun_msg_error_code(m, &code, &s, &n) && (code < 300 || code > 699))
		abort();
	stun_msg_unknown_attributes(m, types, 4, &n);
	if (!stun_msg_integrity_sha256(m, &mac, &n) && (n < 16 || n > 32))
		abort();
	stun_msg_fingerprint(m, &u32);
}

/* Builds messages from the input's bytes and parses them back. */
static void round_trip(const uint8_t *data, size_t size)
{
	uint8_t buf[STUN_REQUEST_MAX];
	struct stun_msg m;
	struct stun_addr a, b;
	char user[64];
	size_t len;

	if (size < 40)
		return;
	memset(&a, 0, sizeof(a));
	a.family = data[12] & 1 ? AF_INET6 : AF_INET;
	a.port = (uint16_t)(data[13] << 8 | data[14]);
	memcpy(a.ip, data + 15, a.family == AF_INET ? 4 : 16);
	if (stun_msg_build_success(buf, sizeof(buf), data, &a, data + 31, data[11] % 8,
				   &len) ||
	    stun_msg_parse(buf, len, &m) || m.cls != STUN_SUCCESS ||
	    stun_msg_xor_mapped_address(&m, &b) || b.family != a.family ||
	    b.port != a.port || memcmp(a.ip, b.ip, 16) ||
	    stun_msg_integrity_check(&m, data + 31, data[11] % 8) ||
	    stun_msg_fingerprint_check(&m))
		abort();

	int code = 300 + (int)((data[12] << 8 | data[13]) % 400);
	uint16_t unk[2] = { (uint16_t)(data[14] & 0x7f), data[15] };
	bool auth = code == 487 || (code != 401 && (data[16] & 1));
	size_t n_unk = code == 420 ? 2 : 0;
	if (stun_msg_build_error(buf, sizeof(buf), data[17] & 0x0f, data, code, unk, n_unk,
				 auth ? key : NULL, auth ? sizeof(key) - 1 : 0, &len) ||
	    stun_msg_parse(buf, len, &m) || m.cls != STUN_ERROR ||
	    stun_msg_has(&m, STUN_SLOT_MESSAGE_INTEGRITY) != auth ||
	    (auth && stun_msg_integrity_check(&m, key, sizeof(key) - 1)))
		abort();
	int got;
	const char *s;
	size_t n;
	if (stun_msg_error_code(&m, &got, &s, &n) || got != code)
		abort();

	size_t ul = data[18] % sizeof(user);
	for (size_t i = 0; i < ul; i++)
		user[i] = (char)(' ' + data[19 + i % 21] % 95);
	user[ul] = '\0';
	struct stun_binding_request r = {
		.txid = data, .username = data[0] & 1 ? user : NULL,
		.has_priority = data[0] & 2, .priority = (uint32_t)data[1] << 24 | data[2],
		.role = (enum stun_ice_role)(data[3] % 3), .tiebreaker = data[4],
		.use_candidate = data[5] & 1, .key = data[6] & 1 ? key : NULL,
		.key_len = sizeof(key) - 1,
	};
	uint64_t tb;
	uint32_t prio;
	if (stun_msg_build_request(buf, sizeof(buf), &r, &len) ||
	    stun_msg_parse(buf, len, &m) || m.cls != STUN_REQUEST ||
	    stun_msg_has(&m, STUN_SLOT_USE_CANDIDATE) != r.use_candidate ||
	    (r.key && stun_msg_integrity_check(&m, key, sizeof(key) - 1)) ||
	    stun_msg_fingerprint_check(&m) || m.n_unknown)
		abort();
	if (r.username && (stun_msg_username(&m, &s, &n) || n != ul || memcmp(s, user, n)))
		abort();
	if (r.has_priority && (stun_msg_priority(&m, &prio) || prio != r.priority))
		abort();
	if (r.role == STUN_ROLE_CONTROLLING &&
	    (stun_msg_ice_controlling(&m, &tb) || tb != r.tiebreaker))
		abort();
	if (r.role == STUN_ROLE_CONTROLLED &&
	    (stun_msg_ice_controlled(&m, &tb) || tb != r.tiebreaker))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	int rc = stun_msg_parse(data, size, &m);

	if (rc != 0 && rc != EPROTO && rc != EBADMSG)
		abort();
	if (rc == EPROTO && stun_msg_is_stun(data, size))
		abort();
	if (rc == 0)
		check_parsed(data, size, &m);
	round_trip(data, size);
	return 0;
}
