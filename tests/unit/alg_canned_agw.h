/* A canned eIMS-AGW for the IMS-ALG tests and fuzz target: answers a
 * RESERVE, CONFIGURE, MODIFY or RELEASE built by the ALG with the reply
 * SPEC.md 8.3-8.6 describes, with deterministic allocations (context 7,
 * terminations from 101, W3 candidates on 203.0.113.10 and 2001:db8::10,
 * IMS ports on 10.0.0.10 from 30000).  It is the generator of the golden
 * reply files (the reply files of tests/golden/alg/<case>/), which are then the
 * test inputs; it never runs in the daemons.  Header-only so that the
 * unit test and the fuzz target share it. */
#ifndef TESTS_ALG_CANNED_AGW_H
#define TESTS_ALG_CANNED_AGW_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "iqp_build.h"
#include "iqp_registry.h"

struct canned_agw {
	uint32_t next_ctx, next_term;
	unsigned next_port, ice_gen, tls_gen;
	struct { uint32_t term; char tls[256]; } tls[8];
	unsigned n_tls;
	struct { uint32_t term; uint8_t kind; } kinds[16];
	unsigned n_kinds;
};

static uint8_t canned_kind(struct canned_agw *a, uint32_t term, uint8_t kind)
{
	for (unsigned i = 0; i < a->n_kinds; i++)
		if (a->kinds[i].term == term)
			return a->kinds[i].kind;
	if (kind && a->n_kinds < 16) {
		a->kinds[a->n_kinds].term = term;
		a->kinds[a->n_kinds++].kind = kind;
	}
	return kind;
}

static void canned_agw_init(struct canned_agw *a)
{
	memset(a, 0, sizeof(*a));
	a->next_ctx = 7;
	a->next_term = 101;
	a->next_port = 30000;
}

static const struct iqp_elem *cq_find(const struct iqp_msg *m,
				      const struct iqp_elem *p, uint16_t c)
{
	return iqp_find(m, p, c);
}

static void canned_ice(struct canned_agw *a, struct iqp_msg *r,
		       struct iqp_elem *te, unsigned k)
{
	struct iqp_elem *ice = NULL, *lc = NULL;
	char u[32], p[64];
	struct iqp_ipport v4 = { { 4, { 203, 0, 113, 10 } },
				 (uint16_t)(40000 + 2 * k) };
	struct iqp_ipport v6 = { { 6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
				       0, 0, 0, 0, 0, 0, 0x10 } },
				 (uint16_t)(40000 + 2 * k) };

	a->ice_gen++;
	snprintf(u, sizeof(u), "agw%u", a->ice_gen);
	snprintf(p, sizeof(p), "agwIcePassword%uxxxxxxxxxxxxxx", a->ice_gen);
	iqp_add_container(r, te, IQP_E_ICE, &ice);
	iqp_add_enum(r, ice, IQP_E_ICE_MODE, 1);
	iqp_add_str(r, ice, IQP_E_ICE_LOCAL_UFRAG, u);
	iqp_add_str(r, ice, IQP_E_ICE_LOCAL_PWD, p);
	iqp_add_container(r, ice, IQP_E_LOCAL_CANDIDATE, &lc);
	iqp_add_str(r, lc, IQP_E_CAND_FOUNDATION, "1");
	iqp_add_u8(r, lc, IQP_E_CAND_COMPONENT, 1);
	iqp_add_enum(r, lc, IQP_E_CAND_TRANSPORT, IQP_CAND_UDP);
	iqp_add_u32(r, lc, IQP_E_CAND_PRIORITY, 2130706431u);
	iqp_add_ipport(r, lc, IQP_E_CAND_ADDR, &v4);
	iqp_add_enum(r, lc, IQP_E_CAND_TYPE, 1);
	iqp_add_container(r, ice, IQP_E_LOCAL_CANDIDATE, &lc);
	iqp_add_str(r, lc, IQP_E_CAND_FOUNDATION, "2");
	iqp_add_u8(r, lc, IQP_E_CAND_COMPONENT, 1);
	iqp_add_enum(r, lc, IQP_E_CAND_TRANSPORT, IQP_CAND_UDP);
	iqp_add_u32(r, lc, IQP_E_CAND_PRIORITY, 2130706175u);
	iqp_add_ipport(r, lc, IQP_E_CAND_ADDR, &v6);
	iqp_add_enum(r, lc, IQP_E_CAND_TYPE, 1);
	iqp_add_container(r, ice, IQP_E_LOCAL_CANDIDATE, &lc);
	iqp_add_str(r, lc, IQP_E_CAND_FOUNDATION, "3");
	iqp_add_u8(r, lc, IQP_E_CAND_COMPONENT, 1);
	iqp_add_enum(r, lc, IQP_E_CAND_TRANSPORT, IQP_CAND_TCP);
	iqp_add_u32(r, lc, IQP_E_CAND_PRIORITY, 1694498815u);
	v4.port = (uint16_t)(v4.port + 1);
	iqp_add_ipport(r, lc, IQP_E_CAND_ADDR, &v4);
	iqp_add_enum(r, lc, IQP_E_CAND_TYPE, 1);
	iqp_add_enum(r, lc, IQP_E_CAND_TCPTYPE, 2);
}

static void canned_dtls(struct canned_agw *a, struct iqp_msg *r,
			struct iqp_elem *te, uint8_t setup)
{
	struct iqp_elem *d = NULL, *fp = NULL;
	uint8_t v[32];
	char id[40];

	a->tls_gen++;
	for (unsigned i = 0; i < 32; i++)
		v[i] = (uint8_t)(0xa0 + i + a->tls_gen);
	snprintf(id, sizeof(id), "agwTlsId%02uabcdefghijklmnop", a->tls_gen);
	iqp_add_container(r, te, IQP_E_DTLS, &d);
	iqp_add_enum(r, d, IQP_E_DTLS_SETUP, setup);
	iqp_add_container(r, d, IQP_E_LOCAL_FINGERPRINT, &fp);
	iqp_add_enum(r, fp, IQP_E_FP_HASH, IQP_FP_SHA256);
	iqp_add_octets(r, fp, IQP_E_FP_VALUE, v, sizeof(v));
	iqp_add_str(r, d, IQP_E_LOCAL_TLS_ID, id);
}

/* Whether the request's REMOTE_TLS_ID renews the association of term. */
static bool canned_tls_renewed(struct canned_agw *a, uint32_t term,
			       const char *tls, size_t n, bool created)
{
	unsigned i;
	bool renewed;

	for (i = 0; i < a->n_tls; i++)
		if (a->tls[i].term == term)
			break;
	if (i == a->n_tls) {
		if (i == 8)
			return false;
		a->n_tls++;
		a->tls[i].term = term;
		a->tls[i].tls[0] = 0;
	}
	renewed = !created && a->tls[i].tls[0] &&
		  (strlen(a->tls[i].tls) != n || memcmp(a->tls[i].tls, tls, n));
	if (n < sizeof(a->tls[i].tls)) {
		memcpy(a->tls[i].tls, tls, n);
		a->tls[i].tls[n] = 0;
	}
	return renewed;
}

/* Builds into rep (malloc'ed, iqp_msg_free) the success reply to req. */
static int canned_agw_reply(struct canned_agw *a, const struct iqp_msg *req,
			    struct iqp_msg *rep)
{
	struct iqp_header h = { 1, IQP_KIND_REPLY, 0, req->hdr.code,
				req->hdr.txid, 0 };
	const struct iqp_elem *ctx = cq_find(req, NULL, IQP_E_CONTEXT), *te;
	struct iqp_elem *rc = NULL;
	uint32_t cid = 0;
	unsigned k = 0;
	int e = iqp_msg_init(rep, &h, NULL, 1 << 16);

	if (e)
		return e;
	if (!ctx || iqp_elem_u32(cq_find(req, ctx, IQP_E_CONTEXT_ID), &cid))
		return EINVAL;
	if (cid == IQP_CHOOSE)
		cid = a->next_ctx++;
	iqp_add_container(rep, NULL, IQP_E_CONTEXT, &rc);
	iqp_add_u32(rep, rc, IQP_E_CONTEXT_ID, cid);
	if (req->hdr.code == IQP_MSG_RELEASE)
		return rep->err;
	for (te = cq_find(req, ctx, IQP_E_TERMINATION); te;
	     te = iqp_next_same(te), k++) {
		struct iqp_elem *rt = NULL;
		const struct iqp_elem *e1, *st, *ice, *dtls;
		uint32_t tid = 0;
		uint8_t kind = 0, setup = 0;
		bool created, w3, restart = false;

		iqp_elem_u32(cq_find(req, te, IQP_E_TERM_ID), &tid);
		created = tid == IQP_CHOOSE;
		if (created)
			tid = a->next_term++;
		if ((e1 = cq_find(req, te, IQP_E_TERM_KIND)))
			iqp_elem_enum(e1, &kind);
		ice = cq_find(req, te, IQP_E_ICE);
		dtls = cq_find(req, te, IQP_E_DTLS);
		kind = canned_kind(a, tid, kind);
		w3 = kind == IQP_TERM_W3;
		iqp_add_container(rep, rc, IQP_E_TERMINATION, &rt);
		iqp_add_u32(rep, rt, IQP_E_TERM_ID, tid);
		if (created) {
			const char *rn;
			size_t rl;
			char realm[65];

			iqp_add_enum(rep, rt, IQP_E_TERM_KIND, kind);
			if (!iqp_elem_str(cq_find(req, te, IQP_E_REALM_NAME),
					  &rn, &rl) && rl < sizeof(realm)) {
				memcpy(realm, rn, rl);
				realm[rl] = 0;
				iqp_add_str(rep, rt, IQP_E_REALM_NAME, realm);
			}
		}
		iqp_add_enum(rep, rt, IQP_E_TERM_STATE,
			     created ? 1 : w3 ? 2 : 4);
		if (ice && (e1 = cq_find(req, ice, IQP_E_ICE_RESTART)))
			iqp_elem_bool(e1, &restart);
		if (w3 && (created || restart))
			canned_ice(a, rep, rt, k + (restart ? 8 : 0));
		if (dtls && (e1 = cq_find(req, dtls, IQP_E_DTLS_SETUP)))
			iqp_elem_enum(e1, &setup);
		if (w3 && dtls) {
			const char *tls = "";
			size_t tl = 0;
			bool renewed = false;

			if ((e1 = cq_find(req, dtls, IQP_E_REMOTE_TLS_ID)) &&
			    !iqp_elem_str(e1, &tls, &tl))
				renewed = canned_tls_renewed(a, tid, tls, tl,
							     created);
			if (created || renewed)
				canned_dtls(a, rep, rt,
					    setup ? setup : IQP_SETUP_ACTIVE);
		}
		for (st = cq_find(req, te, IQP_E_STREAM); st;
		     st = iqp_next_same(st)) {
			struct iqp_elem *rs = NULL;
			uint16_t sid = 0;
			struct iqp_ipport la = { { 4, { 10, 0, 0, 10 } }, 0 };

			if ((w3 || !cq_find(req, st, IQP_E_MEDIA_TYPE)) &&
			    !cq_find(req, st, IQP_E_REMOVE))
				continue;
			iqp_elem_u16(cq_find(req, st, IQP_E_STREAM_ID), &sid);
			iqp_add_container(rep, rt, IQP_E_STREAM, &rs);
			iqp_add_u16(rep, rs, IQP_E_STREAM_ID, sid);
			if (cq_find(req, st, IQP_E_REMOVE) || w3)
				continue;
			la.port = (uint16_t)a->next_port;
			a->next_port += 2;
			iqp_add_ipport(rep, rs, IQP_E_LOCAL_ADDR, &la);
			la.port = (uint16_t)(la.port + 1);
			iqp_add_ipport(rep, rs, IQP_E_LOCAL_RTCP_ADDR, &la);
		}
	}
	return rep->err;
}

#endif
