/* One SDP (RFC 8866) read with sofia-sip's parser into a flat model of its
 * m-lines, with what the IMS-ALG needs already decoded: codecs (rtpmap,
 * fmtp, rtcp-fb), direction, ptime, c= and a=rtcp addresses, ICE (RFC
 * 8839: credentials, candidates with IP-literal addresses only), DTLS
 * (RFC 8122 fingerprints, RFC 8842 setup and tls-id), BUNDLE (RFC 8843
 * group, mid, bundle-only), rtcp-mux, rtcp-rsize and the SSRCs.
 * Session-level ICE, DTLS and direction attributes are inherited by every
 * m-line that does not carry its own.
 *
 * Pure: no I/O, no logging.  All strings of a model are borrowed from the
 * model's own memory (one sofia su_home), freed by sdp_model_free. */
#ifndef EPCSCF_SDP_MODEL_H
#define EPCSCF_SDP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_tlv.h"

#define SDPM_MAX_MEDIA 16   /* m-lines: 8.1 item 5 (16 streams) */
#define SDPM_MAX_CODECS 32  /* CODEC per STREAM (12.1.7) */
#define SDPM_MAX_FB 16      /* RTCP_FB per CODEC */
#define SDPM_MAX_CANDS 32   /* REMOTE_CANDIDATE per ICE */
#define SDPM_MAX_FPS 4      /* *_FINGERPRINT per DTLS */
#define SDPM_MAX_SSRCS 16   /* SSRC per BUNDLE_ENTRY */
#define SDPM_MAX_BYTES 65536 /* a bigger SDP is refused */

/* Direction bits, from the describing side's point of view. */
#define SDPM_SEND 0x1u
#define SDPM_RECV 0x2u
enum sdpm_dir {
	SDPM_INACTIVE = 0,
	SDPM_SENDONLY = SDPM_SEND,
	SDPM_RECVONLY = SDPM_RECV,
	SDPM_SENDRECV = SDPM_SEND | SDPM_RECV,
};

/* a=setup values (RFC 4145); 0 when absent. */
enum { SDPM_SETUP_HOLDCONN = 4 };

struct sdpm_codec {
	uint8_t pt;
	uint8_t channels;          /* 1 when not given */
	uint32_t rate;
	const char *name;          /* borrowed */
	const char *fmtp;          /* borrowed; NULL if none */
	const char *fb[SDPM_MAX_FB]; /* rtcp-fb values (after the pt) */
	unsigned n_fb;
};

struct sdpm_cand {
	const char *foundation;    /* borrowed */
	uint8_t component;         /* 1 RTP, 2 RTCP */
	uint8_t transport;         /* IQP_CAND_UDP, IQP_CAND_TCP */
	uint8_t type;              /* CAND_TYPE enum: 1 host .. 4 relay */
	uint8_t tcptype;           /* CAND_TCPTYPE enum, 0 for UDP */
	uint32_t priority;
	struct iqp_ipport addr;
	bool has_raddr;
	struct iqp_ipport raddr;
};

struct sdpm_fp {
	uint8_t hash;              /* FP_HASH enum */
	uint8_t len;               /* 20..64 */
	uint8_t value[64];
};

struct sdpm_media {
	const char *media;         /* m= media token, as written */
	const char *proto_name;    /* m= proto token, as written */
	const char *fmt0;          /* first m= format token */
	uint8_t media_type;        /* IQP_MEDIA_*; 0: other */
	uint8_t proto;             /* TRANSPORT_PROTO enum; 0: other */
	uint16_t port;             /* 0: rejected or bundle-only */
	bool has_conn;             /* c= (media, else session) is an IP */
	bool conn_unspec;          /* c= is 0.0.0.0 or :: (RFC 2543 hold) */
	struct iqp_ip conn;
	bool has_rtcp;             /* a=rtcp (RFC 3605) */
	bool has_rtcp_addr;
	uint16_t rtcp_port;
	struct iqp_ip rtcp_addr;
	uint8_t dir;               /* enum sdpm_dir; sendrecv when absent */
	uint16_t ptime, maxptime;  /* 0 when absent */
	struct sdpm_codec *codecs; /* borrowed; in m= order, RTP protos only */
	unsigned n_codecs;
	const char *mid;           /* NULL when absent */
	bool bundle_only, rtcp_mux, rtcp_rsize, end_of_cands;
	const char *ice_ufrag, *ice_pwd; /* media, else session; or NULL */
	bool ice_lite;             /* session a=ice-lite */
	struct sdpm_cand *cands;   /* usable candidates only */
	unsigned n_cands;
	unsigned n_cands_dropped;  /* mDNS, FQDN, unparsable or excess */
	struct sdpm_fp fps[SDPM_MAX_FPS];
	unsigned n_fps;
	uint8_t setup;             /* IQP_SETUP_*, SDPM_SETUP_HOLDCONN, 0 */
	const char *tls_id;        /* NULL when absent */
	uint32_t ssrcs[SDPM_MAX_SSRCS];
	unsigned n_ssrcs;
	uint8_t mid_ext_id;             /* a=extmap id of sdes:mid (1-14), 0 none */
};

struct sdpm_session {
	void *home;                /* owned: su_home_t holding everything */
	uint64_t o_id, o_version;  /* o= */
	struct sdpm_media *media;  /* n_media entries */
	unsigned n_media;
	const char *bundle[SDPM_MAX_MEDIA]; /* mids of the first BUNDLE group */
	unsigned n_bundle;
	bool has_bundle;
};

/* Parses len bytes of SDP (no NUL needed).  Returns 0 with *out (free with
 * sdp_model_free), EBADMSG with a reason in why (SDP that does not parse
 * or breaks a rule the model relies on: a payload type that is not a
 * number, a fingerprint that is not hex of its hash's length, a port
 * above 65535...), E2BIG (more than SDPM_MAX_MEDIA m-lines, or an SDP
 * above SDPM_MAX_BYTES) or ENOMEM. */
int sdp_model_parse(const char *sdp, size_t len, struct sdpm_session **out,
		    char *why, size_t why_len);
void sdp_model_free(struct sdpm_session *s);

/* The index of the m-line with a=mid `mid`, or -1. */
int sdp_model_find_mid(const struct sdpm_session *s, const char *mid);
/* Whether m-line i's mid is in the session's first BUNDLE group. */
bool sdp_model_in_bundle(const struct sdpm_session *s, unsigned i);

/* Same codec (RFC 3264 6.1): encoding name (case-insensitive), clock
 * rate and channels. */
bool sdpm_codec_same(const struct sdpm_codec *a, const struct sdpm_codec *b);

/* Text helpers shared with the printers. */
const char *sdpm_hash_name(uint8_t hash);    /* "sha-256" ... */
const char *sdpm_dir_name(uint8_t dir);      /* "sendrecv" ... */
const char *sdpm_proto_name(uint8_t proto);  /* "RTP/AVP" ... or NULL */
/* "IP4 a.b.c.d" / "IP6 ::1" into buf; returns buf. */
const char *sdpm_ip_text(const struct iqp_ip *ip, char *buf, size_t cap);
/* Parses an IP literal (no FQDN, no ".local").  0 or EINVAL. */
int sdpm_ip_parse(const char *s, struct iqp_ip *out);

#endif
