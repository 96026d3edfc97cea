/* The IMS-ALG's internals shared by its files (ims_alg.h is the public
 * interface):
 *
 *   ims_alg.c       the call state machine (offer/answer phases, 491,
 *                   abandon, release)
 *   alg_offer.c     an offer's plan: which m-lines the AGW serves, BUNDLE,
 *                   W3 terminations, added/kept/removed streams
 *   alg_answer.c    an answer against that plan: accepted codecs, modes,
 *                   rejected lines, the remote parameters
 *   alg_iq_build.c  plan -> RESERVE / MODIFY / CONFIGURE / RELEASE
 *   alg_iq_reply.c  AGW replies -> the AGW's allocations in the state
 *   sdp_w3_print.c  offers and answers toward the browser
 *   sdp_ims_print.c offers and answers toward IMS
 *
 * m-line i of the browser's SDP is m-line i of the IMS SDP, always: lines
 * the AGW does not serve stay in place with port 0 on both sides (RFC
 * 3264 keeps the count and order of m-lines; a line rejected toward one
 * side is offered with port 0 to the other, which answers port 0). */
#ifndef EPCSCF_ALG_INT_H
#define EPCSCF_ALG_INT_H

#include "ims_alg.h"
#include "iqp_build.h"
#include "iqp_registry.h"
#include "sdp_model.h"

#define ALG_MAX_M SDPM_MAX_MEDIA
#define ALG_MAX_W3 7       /* 8 terminations per context, one is IMS */
#define ALG_MAX_LCANDS 16  /* AGW candidates kept per W3 termination */

/* The AGW's side of one W3 termination (from its replies) and what was
 * last configured as the browser's side. */
struct alg_lcand {
	char foundation[33];
	uint8_t component, transport, type, tcptype;
	uint32_t priority;
	struct iqp_ipport addr;
};

struct alg_w3 {
	uint32_t term_id;          /* 0 until the RESERVE reply */
	bool in_use;
	bool bundle;               /* carries a BUNDLE map */
	bool ice_lite;             /* the AGW's ICE_MODE is LITE */
	uint8_t setup;             /* the AGW's DTLS_SETUP */
	bool rtcp_rsize;
	char ufrag[257], pwd[257];
	struct alg_lcand cands[ALG_MAX_LCANDS];
	unsigned n_cands;
	struct sdpm_fp fps[SDPM_MAX_FPS];
	unsigned n_fps;
	char tls_id[256];
	/* The browser's transport as last sent to the AGW. */
	char r_ufrag[257], r_pwd[257], r_tls_id[256];
	uint8_t r_fp_hash, r_fp_len;
	uint8_t r_fp[64];
};

/* One m-line position. */
struct alg_line {
	uint16_t sid;              /* STREAM_ID; 0: not served */
	int8_t w3;                 /* its W3 termination, -1 */
	uint8_t media_type;
	uint8_t ims_proto;         /* TRANSPORT_PROTO on IMS */
	char mid[33];              /* mid toward W3 ("" none) */
	struct iqp_ipport ims_local, ims_local_rtcp;
	/* A W3 stream left INACTIVE because MODIFY may not remove the last
	 * stream of a termination (8.5 item 2); released with the call. */
	uint16_t parked_sid;
};

struct alg_state {
	uint32_t context_id;
	uint32_t ims_term;
	unsigned n_m;
	struct alg_line m[ALG_MAX_M];
	struct alg_w3 w3[ALG_MAX_W3];
	uint16_t next_sid;
	uint64_t o_id[2], o_ver[2]; /* o= of the SDP we send, per side */
};

/* What an offer does to m-line i. */
enum alg_act {
	ALG_A_NONE = 0,            /* not served before nor now: port 0 */
	ALG_A_NEW,                 /* a new stream */
	ALG_A_KEEP,                /* an existing stream, updated */
	ALG_A_REMOVE,              /* an existing stream goes */
};

struct alg_plan_line {
	uint8_t act;
	uint8_t answer_ok;         /* after the answer: line accepted */
	bool w3_new_term;          /* its W3 termination is created now */
	bool ice_restart;          /* new browser ICE credentials */
	bool dtls_new;             /* new tls-id / fingerprint: DTLS set */
	bool tag;                  /* transport source of its W3 termination */
	const char *why;           /* why it is not served (static text) */
};

enum alg_phase {
	ALG_P_IDLE = 0,
	ALG_P_OFFER_REQ,           /* request built, AGW reply awaited */
	ALG_P_OFFER_OUT,           /* offer sent on, answer awaited */
	ALG_P_ANSWER_REQ,          /* request built, AGW reply awaited */
};

struct alg_call {
	struct alg_cfg cfg;        /* strings point into the arrays below */
	char w3_realm[65], ims_realm[65], session_name[128];
	struct alg_state cur;      /* state, changed as the exchange goes */
	struct alg_state saved;    /* before the outstanding offer */
	enum alg_phase phase;
	enum alg_side offerer;
	bool first;                /* the outstanding offer creates the call */
	uint16_t req_code;         /* IQP_MSG_* of the outstanding request */
	struct sdpm_session *offer;  /* owned */
	struct sdpm_session *answer; /* owned */
	struct alg_plan_line plan[ALG_MAX_M];
	/* The last completed exchange (what the AGW was last configured
	 * from): a refused re-offer's MODIFY is undone from it. */
	struct sdpm_session *est_offer;  /* owned */
	struct sdpm_session *est_answer; /* owned */
	enum alg_side est_offerer;
	struct alg_plan_line est_plan[ALG_MAX_M];
	bool released;             /* the answer's request was RELEASE */
	/* TERMINATIONs of the outstanding request, in order: a W3 index or
	 * -1 for IMS (the reply has them in the same order, 8.3). */
	int8_t req_term[ALG_MAX_W3 + 1];
	unsigned n_req_term;
};

/* alg_offer.c: fills c->plan and c->cur.m for the offer in c->offer. */
int alg_offer_plan(struct alg_call *c, struct alg_error *err);
/* alg_answer.c: checks c->answer against the plan, sets answer_ok. */
int alg_answer_plan(struct alg_call *c, struct alg_error *err);
/* Codecs of m-line i that the AGW is told about and that go on: the
 * usable ones of `m` (no rtx, red, ulpfec, flexfec), in order. */
bool alg_codec_usable(const struct sdpm_codec *k);
/* The offer's codec an answered codec stands for: the same codec under
 * the same payload type, else the first same codec; NULL if none. */
const struct sdpm_codec *alg_offer_codec(const struct sdpm_media *o,
				       const struct sdpm_codec *ak);
/* The answer's codecs of line i that were offered (answer order). */
unsigned alg_answer_codecs(const struct alg_call *c, unsigned i,
			   const struct sdpm_codec **out, unsigned max);
/* Whether an rtcp-fb value goes on to the other side / the AGW. */
bool alg_fb_kept(const char *fb);
/* The o= session id of the SDP we send to `side` (the first context id). */
uint64_t alg_o_id(struct alg_call *c, enum alg_side side);
/* The W3-side and IMS-side SDPs of the exchange. */
const struct sdpm_session *alg_w3_sdp(const struct alg_call *c);
const struct sdpm_session *alg_ims_sdp(const struct alg_call *c);
/* Index of the line whose transport parameters W3 termination w uses in
 * SDP s (the tag), or -1. */
int alg_w3_tag_line(const struct alg_call *c, const struct sdpm_session *s,
		    int w);
/* STREAM_MODE of the W3 / IMS stream of line i for the exchange so far
 * (offer only, or offer and answer). */
uint8_t alg_mode(const struct alg_call *c, unsigned i, enum alg_side term,
		 bool with_answer);

/* alg_iq_build.c */
int alg_build_offer_req(struct alg_call *c, struct iqp_msg *req, void *arena,
			size_t cap);
int alg_build_answer_req(struct alg_call *c, struct iqp_msg *req, void *arena,
			 size_t cap);
int alg_build_release(const struct alg_call *c, struct iqp_msg *req,
		      void *arena, size_t cap);
/* The MODIFY that takes the AGW from `applied` (after a re-offer's
 * request) back to c->cur, with c->offer/answer/offerer/plan set to the
 * exchange that configured c->cur. */
int alg_build_revert_req(struct alg_call *c, const struct alg_state *applied,
			 struct iqp_msg *req, void *arena, size_t cap);

/* alg_iq_reply.c: 0 or EPROTO with err (500). */
int alg_reply_offer(struct alg_call *c, const struct iqp_msg *reply,
		    struct alg_error *err);
int alg_reply_answer(struct alg_call *c, const struct iqp_msg *reply,
		     struct alg_error *err);

/* sdp_w3_print.c / sdp_ims_print.c: 0, ENOSPC, ENOMEM. */
int sdp_w3_print_offer(struct alg_call *c, char *out, size_t cap,
		       size_t *len);
int sdp_w3_print_answer(struct alg_call *c, char *out, size_t cap,
			size_t *len);
int sdp_ims_print_offer(struct alg_call *c, char *out, size_t cap,
			size_t *len);
int sdp_ims_print_answer(struct alg_call *c, char *out, size_t cap,
			 size_t *len);

/* sdp_ims_print.c: one payload format with its kept rtcp-fb lines,
 * under payload type pt; and the rejected form of line i (port 0). */
struct sdp_out;
struct sdp_out_media;
void alg_print_codec(struct sdp_out *o, struct sdp_out_media *om,
		     const struct sdpm_codec *k, unsigned pt);
void alg_print_rejected(struct sdp_out *o, const struct sdpm_media *m,
			enum alg_side toward, const struct alg_cfg *cfg,
			const char *mid);
/* The answered codecs of line i, each under the payload type the offer
 * gave it (RFC 3264 6.1); returns how many. */
unsigned alg_answered_pts(const struct alg_call *c, unsigned i,
			  const struct sdpm_codec **k, unsigned *pt,
			  unsigned max);

void alg_err(struct alg_error *err, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
