/* libFuzzer: the IMS-ALG (ep-cscf/ims_alg.h) with SDP from outside.
 * Input: one selector byte (bit 0: first offer from IMS, else W3; bit 1:
 * BUNDLE-less mode; bit 2: RTP/AVPF toward IMS; bit 3: re-offer from IMS,
 * else W3; bit 4: the re-offer is first refused after the AGW applied it,
 * undone with alg_offer_revert, then made again), then up to three SDPs separated by a line "--": the offer,
 * the answer, a re-offer (and its answer reuses the first answer).  The
 * AGW is the canned one of the unit test (tests/unit/alg_canned_agw.h).
 *
 * Oracles: every request the ALG builds passes proto's validator (sender:
 * controller), every SDP it writes parses again with the SDP model, error
 * statuses are 400, 488, 491 or 500, and nothing leaks (ASan). */
#include <stdlib.h>
#include <string.h>

#include "../unit/alg_canned_agw.h"
#include "ims_alg.h"
#include "iqp_validate.h"
#include "sdp_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	uint8_t arena[1 << 17];
	char out[1 << 16];
	uint8_t frame[1 << 16];
};

static void check_status(const struct alg_error *err)
{
	if (err->sip_status != 400 && err->sip_status != 488 &&
	    err->sip_status != 491 && err->sip_status != 500)
		abort();
}

static void validate(const struct iqp_msg *m, unsigned sender, uint8_t *buf,
		     size_t cap)
{
	size_t n = 0;
	struct iqp_header h;
	struct iqp_msg d;
	struct iqp_error err;

	if (iqp_msg_encode(m, buf, cap, &n))
		abort();
	iqp_header_decode(buf, &h);
	if (iqp_msg_decode(&d, &h, buf + IQP_HEADER_LEN, sender, 0, NULL, 0,
			   &err))
		abort();
	iqp_msg_free(&d);
}

static void check_sdp(const char *s, size_t len)
{
	struct sdpm_session *m = NULL;
	char why[128];

	if (strlen(s) != len || sdp_model_parse(s, len, &m, why, sizeof(why)))
		abort();
	sdp_model_free(m);
}

/* Sends req to the canned AGW and hands its reply to the ALG step. */
static int agw_step(struct fz *z, struct canned_agw *agw, struct alg_call *c,
		    struct iqp_msg *req, bool offer)
{
	struct iqp_msg rep;
	struct alg_error err;
	size_t len = 0;
	int e;

	req->hdr.txid = 1;
	validate(req, IQP_ROLE_CONTROLLER, z->frame, sizeof(z->frame));
	if (canned_agw_reply(agw, req, &rep)) {
		iqp_msg_free(&rep);
		return -1;
	}
	validate(&rep, IQP_ROLE_AGW, z->frame, sizeof(z->frame));
	e = offer ? alg_offer_out(c, &rep, z->out, sizeof(z->out), &len, &err) :
		alg_answer_out(c, &rep, z->out, sizeof(z->out), &len, &err);
	iqp_msg_free(&rep);
	if (e)
		check_status(&err);
	else
		check_sdp(z->out, len);
	return e;
}

/* The offer step done, the offer is refused: the undoing MODIFY must be
 * a valid request the AGW takes. */
static void refuse(struct fz *z, struct canned_agw *agw, struct alg_call *c)
{
	struct iqp_msg req, rep;

	if (alg_offer_revert(c, &req, z->arena, sizeof(z->arena)))
		return;
	if (req.hdr.code != IQP_MSG_MODIFY)
		abort();
	req.hdr.txid = 1;
	validate(&req, IQP_ROLE_CONTROLLER, z->frame, sizeof(z->frame));
	if (!canned_agw_reply(agw, &req, &rep))
		validate(&rep, IQP_ROLE_AGW, z->frame, sizeof(z->frame));
	iqp_msg_free(&rep);
	iqp_msg_free(&req);
}

static int exchange(struct fz *z, struct canned_agw *agw, struct alg_call *c,
		    enum alg_side from, const char *offer, size_t olen,
		    const char *answer, size_t alen, bool refused)
{
	struct iqp_msg req;
	struct alg_error err;
	int e;

	e = alg_offer_in(c, from, offer, olen, &req, z->arena,
			 sizeof(z->arena), &err);
	if (e) {
		check_status(&err);
		return e;
	}
	e = agw_step(z, agw, c, &req, true);
	iqp_msg_free(&req);
	if (!e && refused) {
		refuse(z, agw, c);
		return -1;
	}
	if (e || !answer) {
		alg_offer_abandon(c);
		return e;
	}
	e = alg_answer_in(c, answer, alen, &req, z->arena, sizeof(z->arena),
			  &err);
	if (e) {
		check_status(&err);
		alg_offer_abandon(c);
		return e;
	}
	e = agw_step(z, agw, c, &req, false);
	iqp_msg_free(&req);
	if (e)
		alg_offer_abandon(c);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n--\n";
	const char *part[3] = { NULL, NULL, NULL };
	size_t plen[3] = { 0, 0, 0 };
	struct alg_cfg cfg = { "w3", "ims", true, false, "-" };
	struct canned_agw agw;
	struct alg_call *c = NULL;
	struct fz *z;
	struct iqp_msg req;
	const char *p, *end;
	unsigned n = 0;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (n < 3 && p <= end) {
		const char *s = memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1);

		part[n] = p;
		plen[n++] = (size_t)((s ? s : end) - p);
		if (!s)
			break;
		p = s + sizeof(sep) - 1;
	}
	cfg.bundle = !(sel & 2);
	cfg.ims_avpf = sel & 4;
	z = malloc(sizeof(*z));
	if (!z || alg_call_new(&c, &cfg)) {
		free(z);
		return 0;
	}
	canned_agw_init(&agw);
	if (!exchange(z, &agw, c, sel & 1 ? ALG_IMS : ALG_W3, part[0], plen[0],
		      part[1], plen[1], false) && part[2]) {
		if (sel & 16)
			exchange(z, &agw, c, sel & 8 ? ALG_IMS : ALG_W3, part[2],
				 plen[2], part[1], plen[1], true);
		exchange(z, &agw, c, sel & 8 ? ALG_IMS : ALG_W3, part[2],
			 plen[2], part[1], plen[1], false);
	}
	if (!alg_release(c, &req, z->arena, sizeof(z->arena))) {
		validate(&req, IQP_ROLE_CONTROLLER, z->frame, sizeof(z->frame));
		iqp_msg_free(&req);
	}
	alg_call_free(c);
	free(z);
	return 0;
}
