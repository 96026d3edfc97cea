/* libFuzzer: one ICE-lite responder fed a sequence of operations: raw
 * datagrams and signed checks (right or wrong credentials, nominating or
 * not, possibly corrupted) from a few source addresses, time steps,
 * timer polls, ICE restarts and media-path queries.  Every reply must
 * parse and authenticate, and the state must stay consistent. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice_lite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ice_lite_creds creds[2][2] = {
	{ { "AGWu", "AGWpasswordAGWpassword" }, { "brws", "browserpasswordbrowser00" } },
	{ { "AGW2+/", "AGWpasswordAGWpassword22" }, { "brw2", "browserpasswordbrowser22" } },
};

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void sources(union ice_lite_sa src[4])
{
	memset(src, 0, 4 * sizeof(src[0]));
	src[0].in.sin_family = AF_INET;
	src[0].in.sin_port = htons(5000);
	inet_pton(AF_INET, "192.0.2.1", &src[0].in.sin_addr);
	src[1].in.sin_family = AF_INET;
	src[1].in.sin_port = htons(5001);
	inet_pton(AF_INET, "192.0.2.1", &src[1].in.sin_addr);
	src[2].in6.sin6_family = AF_INET6;
	src[2].in6.sin6_port = htons(6000);
	inet_pton(AF_INET6, "2001:db8::7", &src[2].in6.sin6_addr);
	src[3].in6.sin6_family = AF_INET6;
	src[3].in6.sin6_port = htons(5000);
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &src[3].in6.sin6_addr);
}

static void check_state(const struct ice_lite *ice)
{
	socklen_t len;
	const struct sockaddr *sel = ice_lite_selected(ice, &len);

	if (ice->n_cand > ICE_LITE_CAND_MAX || ice->selected >= (int)ice->n_cand ||
	    (ice->state == ICE_LITE_SELECTED) != (ice->selected >= 0) ||
	    (ice->state == ICE_LITE_SELECTED) != (sel != NULL))
		abort();
}

/* What the reply to a datagram from src must look like. */
static void check_reply(const struct ice_lite *ice, const struct ice_lite_result *r,
			const union ice_lite_sa *src, const uint8_t *reply)
{
	struct stun_msg m;
	struct stun_addr a;
	const char *s;
	size_t n;
	int code;

	if (r->verdict != ICE_LITE_REPLY) {
		if (r->drop == ICE_LITE_DROP_NONE || r->reply_len)
			abort();
		return;
	}
	if (r->reply_len > ICE_LITE_REPLY_MAX || stun_msg_parse(reply, r->reply_len, &m) ||
	    stun_msg_fingerprint_check(&m) || stun_msg_has(&m, STUN_SLOT_USERNAME))
		abort();
	bool mi = stun_msg_has(&m, STUN_SLOT_MESSAGE_INTEGRITY);
	if (mi && stun_msg_integrity_check(&m, ice->lpwd, ice->lpwd_len))
		abort();
	if (r->status == 0) {
		if (m.cls != STUN_SUCCESS || !mi || stun_msg_xor_mapped_address(&m, &a))
			abort();
		uint16_t port = src->sa.sa_family == AF_INET ? ntohs(src->in.sin_port)
							     : ntohs(src->in6.sin6_port);
		if (a.port != port)
			abort();
		if ((r->events & ICE_LITE_EV_SELECTED) && ice->state != ICE_LITE_SELECTED)
			abort();
		return;
	}
	if (m.cls != STUN_ERROR || stun_msg_error_code(&m, &code, &s, &n) ||
	    code != r->status || r->events & ~(unsigned)ICE_LITE_EV_CONSENT_LOST)
		abort();
	if ((code == 420 || code == 487) != mi || (code != 400 && code != 401 &&
						   code != 420 && code != 487))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	union ice_lite_sa src[4];
	struct ice_lite ice;
	uint8_t pkt[STUN_REQUEST_MAX], reply[ICE_LITE_REPLY_MAX];
	uint64_t now = 1000;
	int gen = 0;

	sources(src);
	if (ice_lite_init(&ice, &creds[0][0], (uint64_t)(next(&in) % 4) * 10000))
		abort();
	if (next(&in) & 1 && ice_lite_set_remote(&ice, &creds[0][1]))
		abort();

	while (in.n) {
		uint8_t op = next(&in);
		const union ice_lite_sa *from = &src[op >> 6];
		struct ice_lite_result r;
		size_t len = 0;
		int expect = -1; /* status a well-formed check must get */
		bool nominate = false;

		switch (op & 7) {
		case 0: { /* raw datagram */
			len = next(&in);
			len = len < in.n ? len : in.n;
			memcpy(pkt, in.p, len);
			in.p += len;
			in.n -= len;
			break;
		}
		case 1:
		case 2: { /* a check, as a browser sends it */
			uint8_t f = next(&in), txid[12];
			char user[32];
			const struct ice_lite_creds *l = &creds[gen][0], *rm = &creds[gen][1];
			bool good_pwd = !(f & 0x10);
			snprintf(user, sizeof(user), "%s:%s",
				 f & 0x04 ? "AGWx" : l->ufrag, f & 0x08 ? "zzzz" : rm->ufrag);
			const char *pwd = good_pwd ? l->pwd : rm->pwd;
			memset(txid, next(&in), sizeof(txid));
			struct stun_binding_request req = {
				.txid = txid, .username = user, .has_priority = true,
				.priority = 0x7e0000ff,
				.role = f & 0x20 ? STUN_ROLE_CONTROLLED : STUN_ROLE_CONTROLLING,
				.tiebreaker = f, .use_candidate = f & 0x01,
				.key = pwd, .key_len = strlen(pwd),
			};
			if (stun_msg_build_request(pkt, sizeof(pkt), &req, &len))
				abort();
			if (f & 0x40) { /* corrupt one byte */
				uint8_t at = next(&in);
				pkt[at % len] ^= (uint8_t)(next(&in) | 1);
			} else if (!good_pwd || (f & 0x04) || ((f & 0x08) && ice.remote_known)) {
				expect = 401;
			} else {
				expect = f & 0x20 ? 487 : 0;
			}
			nominate = f & 0x01;
			break;
		}
		case 3: /* time passes */
			now += (uint64_t)(next(&in) << 8 | next(&in)) * 4;
			break;
		case 4: /* timer */
			if (ice_lite_poll(&ice, now) & ~(unsigned)ICE_LITE_EV_CONSENT_LOST)
				abort();
			if (ice_lite_deadline(&ice) <= now)
				abort();
			break;
		case 5: /* ICE restart, with or without the answer */
			gen ^= 1;
			if (ice_lite_restart(&ice, &creds[gen][0], op & 8 ? &creds[gen][1] : NULL))
				abort();
			if (ice.n_cand || ice_lite_selected(&ice, &(socklen_t){ 0 }))
				abort();
			break;
		case 6: /* the answer arrives */
			if (ice_lite_set_remote(&ice, &creds[gen][1]))
				abort();
			break;
		case 7: { /* media path */
			bool ok = ice_lite_media_allowed(&ice, &from->sa, now);
			if (ok && ice.state == ICE_LITE_CONSENT_LOST)
				abort();
			break;
		}
		}
		if ((op & 7) <= 2) {
			if (ice_lite_process(&ice, pkt, len, &from->sa, now, reply,
					     sizeof(reply), &r))
				abort();
			check_reply(&ice, &r, from, reply);
			if (expect >= 0 && (r.verdict != ICE_LITE_REPLY || r.status != expect))
				abort();
			/* A nominating check selects its pair; any valid check
			 * opens the media path until something is selected. */
			if (expect == 0 && nominate &&
			    (ice.state != ICE_LITE_SELECTED ||
			     !ice_lite_media_allowed(&ice, &from->sa, now)))
				abort();
			if (expect == 0 && ice.state == ICE_LITE_WAITING &&
			    !ice_lite_media_allowed(&ice, &from->sa, now))
				abort();
		}
		check_state(&ice);
	}
	return 0;
}
