/* Iq+ registries as constant tables (SPEC.md 11.1, 12, 13, 10.3). */
#include "iqp_registry.h"

#include <string.h>

#define ANY 0, UINT64_MAX
#define NOPAR { 0, 0, 0, 0 }
#define PA(p, lo, hi) { IQP_E_##p, lo, hi, 0 }
/* Element: name, value type, M, flags, enumeration, range, parents. */
#define X(name, vt, m, fl, en, ...)                                          \
	X_(IQP_E_##name, #name, IQP_VT_##vt, m, fl, IQP_EN_##en, __VA_ARGS__)
#define X_(code, name, vt, m, fl, en, lo, hi, ...)                            \
	{ code, name, vt, m, fl, en, lo, hi, { __VA_ARGS__ } }
#define TOP IQP_DF_TOP
#define RES IQP_DF_RESERVED

static const struct iqp_elem_def elems[] = {
	/* 12.1.1 General */
	X(ERROR, CONTAINER, 1, TOP, NONE, 0, 0, PA(EVENT, 0, 1)),
	X(ERROR_CODE, U16, 1, 0, NONE, ANY, PA(ERROR, 1, 1)),
	X(ERROR_TEXT, STRING, 0, 0, NONE, 0, 256, PA(ERROR, 0, 1)),
	X(ERROR_ELEMENT, U16, 0, 0, NONE, ANY, PA(ERROR, 0, 1)),
	X(ERROR_OFFSET, U32, 0, 0, NONE, ANY, PA(ERROR, 0, 1)),
	X(RETRY_SCOPE, ENUM, 0, 0, RETRY_SCOPE, ANY, PA(ERROR, 0, 1)),
	X(RETRY_AFTER, U32, 0, 0, NONE, ANY, PA(ERROR, 0, 1)),
	X(TIMESTAMP, U64, 0, TOP, NONE, ANY, PA(EVENT, 0, 1)),
	X(CALL_REF, STRING, 0, 0, NONE, 0, 128, PA(CONTEXT, 0, 1)),
	X(EXTENSION, STRING, 0, TOP, NONE, 1, 64, NOPAR),
	/* 12.1.2 Link and node */
	X(NODE_ID, STRING, 1, TOP | IQP_DF_NODE_ID, NONE, 1, 64, NOPAR),
	X(EPOCH, U64, 1, TOP, NONE, 1, UINT64_MAX, NOPAR),
	X(VERSION, U16, 1, TOP, NONE, ANY, NOPAR),
	X(SC_METHOD, ENUM, 1, TOP, SC_METHOD, ANY, NOPAR),
	X(SC_REASON, U16, 1, TOP, NONE, ANY, NOPAR),
	X(SC_DELAY, U32, 1, TOP, NONE, ANY, NOPAR),
	X(REDIRECT_TARGET, CONTAINER, 1, TOP, NONE, 0, 0, NOPAR),
	X(TARGET_ADDR, IPPORT, 1, 0, NONE, ANY, PA(REDIRECT_TARGET, 1, 1)),
	X(TARGET_NAME, STRING, 1, 0, NONE, 1, 255, PA(REDIRECT_TARGET, 0, 1)),
	X(LINK_PARAMS, CONTAINER, 1, TOP, NONE, 0, 0, NOPAR),
	X(HB_INTERVAL, U32, 1, 0, NONE, 1000, 60000, PA(LINK_PARAMS, 0, 1)),
	X(MAX_FRAME, U32, 1, 0, NONE, 65536, 1048576, PA(LINK_PARAMS, 0, 1)),
	X(MAX_OUTSTANDING, U32, 1, 0, NONE, 1, 65535, PA(LINK_PARAMS, 0, 1)),
	X(CACHE_TTL, U32, 1, 0, NONE, 5000, 300000, PA(LINK_PARAMS, 0, 1)),
	X(SOFTWARE, STRING, 0, TOP, NONE, 0, 128, NOPAR),
	X(AUDIT_SCOPE, ENUM, 1, TOP, AUDIT_SCOPE, ANY, NOPAR),
	X(AUDIT_CURSOR, U32, 1, TOP, NONE, ANY, NOPAR),
	X(AUDIT_LIMIT, U32, 1, TOP, NONE, 1, 4096, NOPAR),
	X(AUDIT_MORE, BOOL, 1, TOP, NONE, ANY, NOPAR),
	/* 12.1.3 Capacity, load, realms and capabilities */
	X(CAPACITY, CONTAINER, 1, TOP, NONE, 0, 0, NOPAR),
	X(MAX_CONTEXTS, U32, 1, 0, NONE, ANY, PA(CAPACITY, 1, 1)),
	X(MAX_PORTS, U32, 0, 0, NONE, ANY, PA(CAPACITY, 0, 1)),
	X(MAX_TRANSCODE, U32, 0, 0, NONE, ANY, PA(CAPACITY, 0, 1)),
	X(LOAD, CONTAINER, 1, TOP, NONE, 0, 0, NOPAR),
	X(ACTIVE_CONTEXTS, U32, 0, 0, NONE, ANY, PA(LOAD, 0, 1)),
	X(FREE_PORTS, U32, 0, 0, NONE, ANY, PA(LOAD, 0, 1)),
	X(CPU_LOAD, U8, 0, 0, NONE, 0, 100, PA(LOAD, 0, 1)),
	X(ACTIVE_TRANSCODE, U32, 0, 0, NONE, ANY, PA(LOAD, 0, 1)),
	X(OVERLOAD_LEVEL, ENUM, 1, 0, OVERLOAD_LEVEL, ANY, PA(LOAD, 0, 1)),
	X(ADMIT_PERCENT, U8, 1, 0, NONE, 0, 100, PA(LOAD, 0, 1)),
	X(REALM, CONTAINER, 1, TOP, NONE, 0, 0, NOPAR),
	X(REALM_NAME, STRING, 1, 0, NONE, 1, 64, PA(REALM, 1, 1),
	  PA(TERMINATION, 0, 1)),
	X(REALM_SIDE, ENUM, 1, 0, REALM_SIDE, ANY, PA(REALM, 0, 1)),
	X(REALM_ADDR, IP, 1, 0, NONE, ANY, PA(REALM, 0, 8)),
	X(REALM_AVAILABLE, BOOL, 1, 0, NONE, ANY, PA(REALM, 0, 1)),
	X(PORT_MIN, U16, 0, 0, NONE, ANY, PA(REALM, 0, 1)),
	X(PORT_MAX, U16, 0, 0, NONE, ANY, PA(REALM, 0, 1)),
	X(CAPABILITIES, CONTAINER, 1, TOP, NONE, 0, 0, NOPAR),
	X(CAP_ICE_MODE, ENUM, 0, 0, ICE_MODE, ANY, PA(CAPABILITIES, 1, 2)),
	X(CAP_ICE_TCP, BOOL, 0, 0, NONE, ANY, PA(CAPABILITIES, 0, 1)),
	X(CAP_DTLS_SETUP, ENUM, 0, IQP_DF_NO_ACTPASS, SETUP, ANY,
	  PA(CAPABILITIES, 1, 2)),
	X(SRTP_PROFILE, U16, 1, 0, NONE, ANY, PA(CAPABILITIES, 1, 8),
	  PA(DTLS, 0, 8), PA(EVENT, 0, 1)),
	X(CAP_DC_KIND, ENUM, 0, 0, DC_KIND, ANY, PA(CAPABILITIES, 0, 8)),
	X(CAP_CODEC, CONTAINER, 0, 0, NONE, 0, 0, PA(CAPABILITIES, 0, 64)),
	X(CAP_TRANSCODE, BOOL, 0, 0, NONE, ANY, PA(CAP_CODEC, 0, 1)),
	X(CAP_BUNDLE, BOOL, 0, 0, NONE, ANY, PA(CAPABILITIES, 0, 1)),
	/* 12.1.4 Context, termination and stream */
	X(CONTEXT, CONTAINER, 1, TOP, NONE, 0, 0, NOPAR),
	X(CONTEXT_ID, U32, 1, 0, NONE, ANY, PA(CONTEXT, 1, 1), PA(EVENT, 1, 1)),
	X(EMERGENCY, BOOL, 1, 0, NONE, ANY, PA(CONTEXT, 0, 1)),
	X(PRIORITY, U8, 1, 0, NONE, 0, 15, PA(CONTEXT, 0, 1)),
	X(TERMINATION, CONTAINER, 1, 0, NONE, 0, 0, PA(CONTEXT, 0, 8)),
	X(TERM_ID, U32, 1, 0, NONE, ANY, PA(TERMINATION, 1, 1), PA(EVENT, 0, 1)),
	X(TERM_KIND, ENUM, 1, 0, TERM_KIND, ANY, PA(TERMINATION, 0, 1)),
	X(STREAM, CONTAINER, 1, 0, NONE, 0, 0, PA(TERMINATION, 0, 16),
	  PA(EVENT, 0, 16)),
	X(STREAM_ID, U16, 1, 0, NONE, 1, 65535, PA(STREAM, 1, 1),
	  PA(BUNDLE_ENTRY, 1, 1), PA(EVENT, 0, 1)),
	X(MEDIA_TYPE, ENUM, 1, 0, MEDIA_TYPE, ANY, PA(STREAM, 0, 1)),
	X(STREAM_MODE, ENUM, 1, 0, STREAM_MODE, ANY, PA(STREAM, 0, 1)),
	X(TRANSPORT_PROTO, ENUM, 1, 0, TRANSPORT_PROTO, ANY, PA(STREAM, 0, 1)),
	X(LOCAL_ADDR, IPPORT, 1, 0, NONE, ANY, PA(STREAM, 0, 1)),
	X(REMOTE_ADDR, IPPORT, 1, 0, NONE, ANY, PA(STREAM, 0, 1)),
	X(LOCAL_RTCP_ADDR, IPPORT, 1, 0, NONE, ANY, PA(STREAM, 0, 1)),
	X(REMOTE_RTCP_ADDR, IPPORT, 1, 0, NONE, ANY, PA(STREAM, 0, 1)),
	X(ADDR_FAMILY, ENUM, 1, 0, ADDR_FAMILY, ANY, PA(TERMINATION, 0, 1)),
	X(REMOVE, BOOL, 1, 0, NONE, ANY, PA(STREAM, 0, 1)),
	X(UNUSED_TIMEOUT, U32, 1, 0, NONE, ANY, PA(TERMINATION, 0, 1)),
	X(TERM_STATE, ENUM, 0, 0, TERM_STATE, ANY, PA(TERMINATION, 0, 1)),
	X(EVENT_MASK, U32, 1, 0, NONE, ANY, PA(TERMINATION, 0, 1)),
	X(INACTIVITY_TIMEOUT, U32, 1, 0, NONE, ANY, PA(STREAM, 0, 1)),
	/* 12.1.5 ICE */
	X(ICE, CONTAINER, 1, 0, NONE, 0, 0, PA(TERMINATION, 0, 1)),
	X(ICE_MODE, ENUM, 1, 0, ICE_MODE, ANY, PA(ICE, 0, 1)),
	X(ICE_ROLE, ENUM, 1, 0, ICE_ROLE, ANY, PA(ICE, 0, 1)),
	X(ICE_LOCAL_UFRAG, STRING, 1, 0, NONE, 4, 256, PA(ICE, 0, 1)),
	X(ICE_LOCAL_PWD, STRING, 1, 0, NONE, 22, 256, PA(ICE, 0, 1)),
	X(ICE_REMOTE_UFRAG, STRING, 1, 0, NONE, 4, 256, PA(ICE, 0, 1)),
	X(ICE_REMOTE_PWD, STRING, 1, 0, NONE, 22, 256, PA(ICE, 0, 1)),
	X(ICE_REMOTE_LITE, BOOL, 1, 0, NONE, ANY, PA(ICE, 0, 1)),
	X(ICE_RESTART, BOOL, 1, 0, NONE, ANY, PA(ICE, 0, 1)),
	X(ICE_TCP, BOOL, 1, 0, NONE, ANY, PA(ICE, 0, 1)),
	X(LOCAL_CANDIDATE, CONTAINER, 1, 0, NONE, 0, 0, PA(ICE, 0, 32)),
	X(REMOTE_CANDIDATE, CONTAINER, 1, 0, NONE, 0, 0, PA(ICE, 0, 32)),
	X(CAND_FOUNDATION, STRING, 1, 0, NONE, 1, 32, PA(LOCAL_CANDIDATE, 1, 1),
	  PA(REMOTE_CANDIDATE, 1, 1)),
	X(CAND_COMPONENT, U8, 1, 0, NONE, 1, 2, PA(LOCAL_CANDIDATE, 1, 1),
	  PA(REMOTE_CANDIDATE, 1, 1)),
	X(CAND_TRANSPORT, ENUM, 1, 0, CAND_TRANSPORT, ANY,
	  PA(LOCAL_CANDIDATE, 1, 1), PA(REMOTE_CANDIDATE, 1, 1), PA(EVENT, 0, 1)),
	X(CAND_PRIORITY, U32, 1, 0, NONE, ANY, PA(LOCAL_CANDIDATE, 1, 1),
	  PA(REMOTE_CANDIDATE, 1, 1), PA(EVENT, 0, 1)),
	X(CAND_ADDR, IPPORT, 1, 0, NONE, ANY, PA(LOCAL_CANDIDATE, 1, 1),
	  PA(REMOTE_CANDIDATE, 1, 1)),
	X(CAND_TYPE, ENUM, 1, 0, CAND_TYPE, ANY, PA(LOCAL_CANDIDATE, 1, 1),
	  PA(REMOTE_CANDIDATE, 1, 1), PA(EVENT, 0, 1)),
	X(CAND_RADDR, IPPORT, 0, IQP_DF_PORT0, NONE, ANY,
	  PA(LOCAL_CANDIDATE, 0, 1), PA(REMOTE_CANDIDATE, 0, 1)),
	X(CAND_TCPTYPE, ENUM, 1, 0, CAND_TCPTYPE, ANY,
	  { IQP_E_LOCAL_CANDIDATE, 1, 1, IQP_C_CAND_TCP },
	  { IQP_E_REMOTE_CANDIDATE, 1, 1, IQP_C_CAND_TCP }),
	X(ICE_END_OF_CANDIDATES, BOOL, 0, 0, NONE, ANY, PA(ICE, 0, 1)),
	X(SELECTED_LOCAL, IPPORT, 1, 0, NONE, ANY, PA(EVENT, 0, 1)),
	X(SELECTED_REMOTE, IPPORT, 1, 0, NONE, ANY, PA(EVENT, 0, 1)),
	X(PEER_ADDR, IPPORT, 1, 0, NONE, ANY, PA(EVENT, 0, 1)),
	/* 12.1.6 DTLS */
	X(DTLS, CONTAINER, 1, 0, NONE, 0, 0, PA(TERMINATION, 0, 1)),
	X(DTLS_SETUP, ENUM, 1, 0, SETUP, ANY, PA(DTLS, 0, 1), PA(EVENT, 0, 1)),
	X(REMOTE_FINGERPRINT, CONTAINER, 1, 0, NONE, 0, 0, PA(DTLS, 0, 4)),
	X(LOCAL_FINGERPRINT, CONTAINER, 1, 0, NONE, 0, 0, PA(DTLS, 0, 4)),
	X(FP_HASH, ENUM, 1, 0, FP_HASH, ANY, PA(REMOTE_FINGERPRINT, 1, 1),
	  PA(LOCAL_FINGERPRINT, 1, 1)),
	X(FP_VALUE, OCTETS, 1, 0, NONE, 20, 64, PA(REMOTE_FINGERPRINT, 1, 1),
	  PA(LOCAL_FINGERPRINT, 1, 1)),
	X(REMOTE_TLS_ID, STRING, 1, 0, NONE, 20, 255, PA(DTLS, 0, 1)),
	X(LOCAL_TLS_ID, STRING, 1, 0, NONE, 20, 255, PA(DTLS, 0, 1)),
	X(DTLS_ALERT, U8, 0, 0, NONE, ANY, PA(EVENT, 0, 1)),
	/* 12.1.7 RTP, codecs, RTCP and BUNDLE */
	X(CODEC, CONTAINER, 1, 0, NONE, 0, 0, PA(STREAM, 0, 32)),
	X(PAYLOAD_TYPE, U8, 1, 0, NONE, 0, 127, PA(CODEC, 1, 1),
	  PA(BUNDLE_ENTRY, 0, 32)),
	X(CODEC_NAME, STRING, 1, 0, NONE, 1, 32, PA(CODEC, 1, 1),
	  PA(CAP_CODEC, 1, 1)),
	X(CLOCK_RATE, U32, 1, 0, NONE, ANY, PA(CODEC, 1, 1), PA(CAP_CODEC, 1, 1)),
	X(CHANNELS, U8, 1, 0, NONE, 1, 8, PA(CODEC, 0, 1), PA(CAP_CODEC, 0, 1)),
	X(FMTP, STRING, 1, 0, NONE, 0, 1024, PA(CODEC, 0, 1)),
	X(RTCP_FB, STRING, 0, 0, NONE, 1, 64, PA(CODEC, 0, 16)),
	X(PTIME, U16, 1, 0, NONE, 10, 200, PA(STREAM, 0, 1)),
	X(MAXPTIME, U16, 1, 0, NONE, 10, 200, PA(STREAM, 0, 1)),
	X(RTCP_MUX, BOOL, 1, 0, NONE, ANY, PA(TERMINATION, 0, 1),
	  PA(STREAM, 0, 1)),
	X(RTCP_RSIZE, BOOL, 1, 0, NONE, ANY, PA(TERMINATION, 0, 1),
	  PA(STREAM, 0, 1)),
	X(BUNDLE, CONTAINER, 1, 0, NONE, 0, 0, PA(TERMINATION, 0, 1)),
	X(BUNDLE_ENTRY, CONTAINER, 1, 0, NONE, 0, 0, PA(BUNDLE, 1, 16)),
	X(MID, STRING, 1, 0, NONE, 1, 32, PA(BUNDLE_ENTRY, 1, 1)),
	X(SSRC, U32, 1, 0, NONE, ANY, PA(BUNDLE_ENTRY, 0, 16)),
	X(CCM_INTERWORK, BOOL, 0, 0, NONE, ANY, PA(STREAM, 0, 1)),
	X(MID_EXT_ID, U8, 1, 0, NONE, 1, 14, PA(BUNDLE, 0, 1)),
	/* 12.1.8 Gate, QoS and policing */
	X(DSCP, U8, 1, 0, NONE, 0, 63, PA(STREAM, 0, 1)),
	X(POLICING, CONTAINER, 1, 0, NONE, 0, 0, PA(STREAM, 0, 1)),
	X(POLICE_SDR, U32, 1, 0, NONE, ANY, PA(POLICING, 1, 1)),
	X(POLICE_MBS, U32, 1, 0, NONE, ANY, PA(POLICING, 1, 1)),
	X(POLICE_PDR, U32, 1, 0, NONE, ANY, PA(POLICING, 0, 1)),
	X(LATCHING, ENUM, 1, 0, LATCHING, ANY, PA(STREAM, 0, 1)),
	X(SOURCE_FILTER, IP, 1, 0, NONE, ANY, PA(STREAM, 0, 4)),
	/* 12.1.9 Events */
	X(EVENT, CONTAINER, 1, TOP, NONE, 0, 0, NOPAR),
	X(EVENT_TYPE, U16, 1, 0, NONE, ANY, PA(EVENT, 1, 1)),
	X(MEDIA_DIRECTION, ENUM, 1, 0, MEDIA_DIRECTION, ANY, PA(EVENT, 0, 1)),
	/* 12.1.10 Statistics */
	X(STATS, CONTAINER, 0, 0, NONE, 0, 0, PA(STREAM, 0, 1)),
	X(STATS_RX, CONTAINER, 0, 0, NONE, 0, 0, PA(STATS, 0, 1)),
	X(STATS_TX, CONTAINER, 0, 0, NONE, 0, 0, PA(STATS, 0, 1)),
	X(PACKETS, U64, 0, 0, NONE, ANY, PA(STATS_RX, 1, 1), PA(STATS_TX, 1, 1)),
	X(OCTETS, U64, 0, 0, NONE, ANY, PA(STATS_RX, 1, 1), PA(STATS_TX, 1, 1)),
	X(PACKETS_LOST, U64, 0, 0, NONE, ANY, PA(STATS_RX, 0, 1),
	  PA(STATS_TX, 0, 1)),
	X(JITTER, U32, 0, 0, NONE, ANY, PA(STATS_RX, 0, 1), PA(STATS_TX, 0, 1)),
	X(DURATION, U32, 0, 0, NONE, ANY, PA(STATS, 0, 1)),
	X(RTT, U32, 0, 0, NONE, ANY, PA(STATS, 0, 1)),
	/* 12.2 Reserved elements */
	X(DATACHANNEL, CONTAINER, 1, RES, NONE, 0, 0, PA(STREAM, 0, 1)),
	X(SCTP_LOCAL_PORT, U16, 1, RES, NONE, ANY, PA(DATACHANNEL, 0, 1)),
	X(SCTP_REMOTE_PORT, U16, 1, RES, NONE, ANY, PA(DATACHANNEL, 0, 1)),
	X(MAX_MESSAGE_SIZE, U32, 1, RES, NONE, ANY, PA(DATACHANNEL, 0, 1)),
	X(DC_CHANNEL, CONTAINER, 1, RES, NONE, 0, 0, PA(DATACHANNEL, 0, 64)),
	X(DC_STREAM_ID, U16, 1, RES, NONE, 0, 65534, PA(DC_CHANNEL, 1, 1)),
	X(DC_SUBPROTOCOL, ENUM, 1, RES, DC_KIND, ANY, PA(DC_CHANNEL, 1, 1)),
	X(DC_LABEL, STRING, 1, RES, NONE, 0, 255, PA(DC_CHANNEL, 0, 1)),
	X(DC_ORDERED, BOOL, 1, RES, NONE, ANY, PA(DC_CHANNEL, 0, 1)),
	X(DC_MAX_RETRANSMITS, U16, 1, RES, NONE, ANY, PA(DC_CHANNEL, 0, 1)),
	X(DC_MAX_LIFETIME, U16, 1, RES, NONE, ANY, PA(DC_CHANNEL, 0, 1)),
	X(DC_NEGOTIATION, ENUM, 1, RES, DC_NEGOTIATION, ANY, PA(DC_CHANNEL, 0, 1)),
	X(DC_TARGET_STREAM, U16, 1, RES, NONE, ANY, PA(DC_CHANNEL, 0, 1)),
	X(MSRP, CONTAINER, 1, RES, NONE, 0, 0, PA(STREAM, 0, 1),
	  PA(DC_CHANNEL, 0, 1)),
	X(MSRP_LOCAL_PATH, STRING, 1, RES, NONE, 1, 1024, PA(MSRP, 0, 1)),
	X(MSRP_REMOTE_PATH, STRING, 1, RES, NONE, 1, 1024, PA(MSRP, 0, 1)),
	X(MSRP_SETUP, ENUM, 1, RES, SETUP, ANY, PA(MSRP, 0, 1)),
	X(MSRP_CEMA, BOOL, 1, RES, NONE, ANY, PA(MSRP, 0, 1)),
	X(MSRP_ACCEPT_TYPES, STRING, 1, RES, NONE, 1, 1024, PA(MSRP, 0, 1)),
	X(T140, CONTAINER, 1, RES, NONE, 0, 0, PA(STREAM, 0, 1),
	  PA(DC_CHANNEL, 0, 1)),
	X(T140_RED_LEVEL, U8, 1, RES, NONE, 0, 5, PA(T140, 0, 1)),
	X(T140_CPS, U16, 1, RES, NONE, ANY, PA(T140, 0, 1)),
	X(BFCP, CONTAINER, 1, RES, NONE, 0, 0, PA(STREAM, 0, 1),
	  PA(DC_CHANNEL, 0, 1)),
	X(BFCP_FLOORCTRL, ENUM, 1, RES, BFCP_FLOORCTRL, ANY, PA(BFCP, 0, 1)),
	X(BFCP_CONF_ID, U32, 1, RES, NONE, ANY, PA(BFCP, 0, 1)),
	X(BFCP_USER_ID, U16, 1, RES, NONE, ANY, PA(BFCP, 0, 1)),
	X(BFCP_FLOOR_ID, U16, 1, RES, NONE, ANY, PA(BFCP, 0, 16)),
};

#define BOTH ((1u << IQP_ROLE_AGW) | (1u << IQP_ROLE_CONTROLLER))
#define AGW (1u << IQP_ROLE_AGW)
#define CTL (1u << IQP_ROLE_CONTROLLER)

static const struct iqp_msg_def msgs[] = {
	{ IQP_MSG_CLOSE, "CLOSE", IQP_KIND_CLOSE, BOTH },
	{ IQP_MSG_REGISTER, "REGISTER", IQP_KIND_REQUEST, AGW },
	{ IQP_MSG_HEARTBEAT, "HEARTBEAT", IQP_KIND_REQUEST, BOTH },
	{ IQP_MSG_SERVICE_CHANGE, "SERVICE_CHANGE", IQP_KIND_REQUEST, BOTH },
	{ IQP_MSG_NODE_STATUS, "NODE_STATUS", IQP_KIND_NOTIFY, AGW },
	{ IQP_MSG_AUDIT, "AUDIT", IQP_KIND_REQUEST, CTL },
	{ IQP_MSG_RESERVE, "RESERVE", IQP_KIND_REQUEST, CTL },
	{ IQP_MSG_CONFIGURE, "CONFIGURE", IQP_KIND_REQUEST, CTL },
	{ IQP_MSG_MODIFY, "MODIFY", IQP_KIND_REQUEST, CTL },
	{ IQP_MSG_RELEASE, "RELEASE", IQP_KIND_REQUEST, CTL },
	{ IQP_MSG_EVENT, "EVENT", IQP_KIND_NOTIFY, AGW },
};

static const char *const kinds[] = {
	NULL, "REQUEST", "REPLY", "PENDING", "NOTIFY", "ACK", "CLOSE",
};

#define V(v, n) { v, n }
static const struct iqp_enum_val en_retry[] = { V(1, "NEVER"), V(2, "SAME"),
						V(3, "OTHER") };
static const struct iqp_enum_val en_sc[] = {
	V(1, "GRACEFUL"), V(2, "FORCED"), V(3, "RESTART"), V(4, "DISCONNECTED"),
	V(5, "HANDOFF"), V(6, "FAILOVER"), V(7, "CAPABILITY_UPDATE"),
};
static const struct iqp_enum_val en_audit[] = {
	V(1, "CAPABILITIES"), V(2, "CONTEXT_LIST"), V(3, "CONTEXT"),
	V(4, "STATISTICS"),
};
static const struct iqp_enum_val en_overload[] = {
	V(1, "NONE"), V(2, "MINOR"), V(3, "MAJOR"), V(4, "CRITICAL"),
};
static const struct iqp_enum_val en_side[] = { V(1, "W3"), V(2, "IMS"),
					       V(3, "BOTH") };
static const struct iqp_enum_val en_ice_mode[] = { V(1, "LITE"), V(2, "FULL") };
static const struct iqp_enum_val en_ice_role[] = { V(1, "CONTROLLING"),
						   V(2, "CONTROLLED") };
static const struct iqp_enum_val en_setup[] = { V(1, "ACTIVE"), V(2, "PASSIVE"),
						V(3, "ACTPASS") };
static const struct iqp_enum_val en_dc_kind[] = {
	V(1, "T140"), V(2, "MSRP"), V(3, "BFCP"), V(4, "GENERIC"),
};
static const struct iqp_enum_val en_term_kind[] = { V(1, "W3"), V(2, "IMS") };
static const struct iqp_enum_val en_media[] = {
	V(1, "AUDIO"), V(2, "VIDEO"), V(3, "TEXT"), V(4, "APPLICATION"),
	V(5, "MESSAGE"),
};
static const struct iqp_enum_val en_stream_mode[] = {
	V(1, "SENDRECV"), V(2, "SENDONLY"), V(3, "RECVONLY"), V(4, "INACTIVE"),
};
static const struct iqp_enum_val en_proto[] = {
	V(1, "RTP/AVP"), V(2, "RTP/AVPF"), V(3, "RTP/SAVP"), V(4, "RTP/SAVPF"),
	V(5, "UDP/TLS/RTP/SAVP"), V(6, "UDP/TLS/RTP/SAVPF"),
	V(7, "UDP/DTLS/SCTP"), V(8, "TCP/DTLS/SCTP"), V(9, "TCP/MSRP"),
	V(10, "TCP/TLS/MSRP"), V(11, "TCP/BFCP"), V(12, "TCP/TLS/BFCP"),
};
static const struct iqp_enum_val en_family[] = { V(4, "IPV4"), V(6, "IPV6") };
static const struct iqp_enum_val en_term_state[] = {
	V(1, "RESERVED"), V(2, "CONFIGURED"), V(3, "CONNECTING"), V(4, "ACTIVE"),
	V(5, "FAILED"),
};
static const struct iqp_enum_val en_cand_transport[] = { V(1, "UDP"),
							 V(2, "TCP") };
static const struct iqp_enum_val en_cand_type[] = {
	V(1, "HOST"), V(2, "SRFLX"), V(3, "PRFLX"), V(4, "RELAY"),
};
static const struct iqp_enum_val en_tcptype[] = { V(1, "ACTIVE"), V(2, "PASSIVE"),
						  V(3, "SO") };
static const struct iqp_enum_val en_fp_hash[] = {
	V(1, "SHA-1"), V(2, "SHA-224"), V(3, "SHA-256"), V(4, "SHA-384"),
	V(5, "SHA-512"),
};
static const struct iqp_enum_val en_latching[] = { V(1, "OFF"), V(2, "LATCH"),
						   V(3, "RELATCH") };
static const struct iqp_enum_val en_direction[] = { V(1, "RX"), V(2, "TX") };
static const struct iqp_enum_val en_dc_neg[] = { V(1, "DCEP"), V(2, "SDP") };
static const struct iqp_enum_val en_floorctrl[] = {
	V(1, "C_ONLY"), V(2, "S_ONLY"), V(3, "C_S"),
};

#define ENUM_TABLE(t) { t, sizeof(t) / sizeof(t[0]) }
static const struct {
	const struct iqp_enum_val *v;
	size_t n;
} enums[IQP_EN_COUNT] = {
	[IQP_EN_RETRY_SCOPE] = ENUM_TABLE(en_retry),
	[IQP_EN_SC_METHOD] = ENUM_TABLE(en_sc),
	[IQP_EN_AUDIT_SCOPE] = ENUM_TABLE(en_audit),
	[IQP_EN_OVERLOAD_LEVEL] = ENUM_TABLE(en_overload),
	[IQP_EN_REALM_SIDE] = ENUM_TABLE(en_side),
	[IQP_EN_ICE_MODE] = ENUM_TABLE(en_ice_mode),
	[IQP_EN_ICE_ROLE] = ENUM_TABLE(en_ice_role),
	[IQP_EN_SETUP] = ENUM_TABLE(en_setup),
	[IQP_EN_DC_KIND] = ENUM_TABLE(en_dc_kind),
	[IQP_EN_TERM_KIND] = ENUM_TABLE(en_term_kind),
	[IQP_EN_MEDIA_TYPE] = ENUM_TABLE(en_media),
	[IQP_EN_STREAM_MODE] = ENUM_TABLE(en_stream_mode),
	[IQP_EN_TRANSPORT_PROTO] = ENUM_TABLE(en_proto),
	[IQP_EN_ADDR_FAMILY] = ENUM_TABLE(en_family),
	[IQP_EN_TERM_STATE] = ENUM_TABLE(en_term_state),
	[IQP_EN_CAND_TRANSPORT] = ENUM_TABLE(en_cand_transport),
	[IQP_EN_CAND_TYPE] = ENUM_TABLE(en_cand_type),
	[IQP_EN_CAND_TCPTYPE] = ENUM_TABLE(en_tcptype),
	[IQP_EN_FP_HASH] = ENUM_TABLE(en_fp_hash),
	[IQP_EN_LATCHING] = ENUM_TABLE(en_latching),
	[IQP_EN_MEDIA_DIRECTION] = ENUM_TABLE(en_direction),
	[IQP_EN_DC_NEGOTIATION] = ENUM_TABLE(en_dc_neg),
	[IQP_EN_BFCP_FLOORCTRL] = ENUM_TABLE(en_floorctrl),
};

#define NEVER IQP_RETRY_NEVER
#define SAME IQP_RETRY_SAME
#define OTHER IQP_RETRY_OTHER
static const struct iqp_err_def errs[] = {
	{ 400, "Syntax error in message", NEVER },
	{ 401, "Protocol error", NEVER },
	{ 402, "Unauthorized", NEVER },
	{ 406, "Version not supported", OTHER },
	{ 410, "Incorrect identifier", NEVER },
	{ 411, "The transaction refers to an unknown ContextId", NEVER },
	{ 412, "No ContextIDs available", OTHER },
	{ 430, "Unknown TerminationID", NEVER },
	{ 434, "Max number of Terminations in a Context exceeded", NEVER },
	{ 435, "Termination ID is not in specified Context", NEVER },
	{ 443, "Unsupported or Unknown Command", NEVER },
	{ 446, "Unsupported or Unknown Parameter", NEVER },
	{ 447, "Descriptor not legal in this command", NEVER },
	{ 448, "Descriptor appears twice in a command", NEVER },
	{ 449, "Unsupported or Unknown Parameter or Property Value", NEVER },
	{ 455, "Property illegal in this Descriptor", NEVER },
	{ 456, "Property appears twice in this Descriptor", NEVER },
	{ 472, "Required Information Missing", NEVER },
	{ 473, "Conflicting Property Values", NEVER },
	{ 500, "Internal software failure in MG", OTHER },
	{ 501, "Not Implemented", OTHER },
	{ 502, "Not ready", SAME },
	{ 503, "Service Unavailable", OTHER },
	{ 504, "Command Received from unauthorized entity", NEVER },
	{ 505, "Transaction Request Received before a Service Change Reply "
	       "has been received", SAME },
	{ 506, "Number of Transaction Pendings Exceeded", OTHER },
	{ 510, "Insufficient resources", OTHER },
	{ 511, "Temporarily Busy", OTHER },
	{ 515, "Unsupported Media Type", OTHER },
	{ 521, "Termination is ServiceChangeing", OTHER },
	{ 526, "Insufficient bandwidth", OTHER },
	{ 533, "Response exceeds maximum transport PDU size", NEVER },
	{ 542, "Command is not allowed on this termination", NEVER },
	{ 1000, "Normal close", 0 },
	{ 1001, "Element overrun", NEVER },
	{ 1002, "Nesting too deep", NEVER },
	{ 1003, "Too many elements", NEVER },
	{ 1004, "Invalid value encoding", NEVER },
	{ 1005, "Cardinality exceeded", NEVER },
	{ 1100, "Bad magic", 0 },
	{ 1101, "Frame too large", 0 },
	{ 1102, "Invalid header field", 0 },
	{ 1103, "Incomplete frame timeout", 0 },
	{ 1104, "Inactivity timeout", 0 },
	{ 1105, "Registration timeout", 0 },
	{ 1106, "Superseded by a newer connection", 0 },
	{ 1200, "Too many outstanding transactions", SAME },
	{ 1201, "Transaction id reused with different content", NEVER },
	{ 1202, "Transaction timed out or outcome unknown", 0 },
	{ 1300, "Redirect", OTHER },
	{ 1301, "DTLS fingerprint mismatch", 0 },
	{ 1302, "DTLS handshake failure", 0 },
	{ 1303, "ICE failed", 0 },
	{ 1304, "ICE consent lost", 0 },
	{ 1305, "Reservation timer expired", 0 },
	{ 1306, "Released by the AGW", 0 },
	{ 1307, "No common codec and transcoding unavailable", OTHER },
	{ 1308, "Realm unavailable", OTHER },
	{ 1309, "Unknown stream", NEVER },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct iqp_elem_def *iqp_elem_defs(size_t *n)
{
	*n = COUNT(elems);
	return elems;
}

const struct iqp_elem_def *iqp_elem_def_find(uint16_t code)
{
	size_t lo = 0, hi = COUNT(elems);

	code &= IQP_TYPE_CODE;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (elems[mid].code == code)
			return &elems[mid];
		if (elems[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct iqp_elem_def *iqp_elem_def_by_name(const char *name)
{
	for (size_t i = 0; i < COUNT(elems); i++)
		if (!strcmp(elems[i].name, name))
			return &elems[i];
	return NULL;
}

uint16_t iqp_elem_def_type(const struct iqp_elem_def *d)
{
	return (uint16_t)(d->code | (d->m ? IQP_TYPE_M : 0) |
			  (d->vtype == IQP_VT_CONTAINER ? IQP_TYPE_C : 0));
}

const struct iqp_msg_def *iqp_msg_defs(size_t *n)
{
	*n = COUNT(msgs);
	return msgs;
}

const struct iqp_msg_def *iqp_msg_def_find(uint16_t code)
{
	for (size_t i = 0; i < COUNT(msgs); i++)
		if (msgs[i].code == code)
			return &msgs[i];
	return NULL;
}

const struct iqp_msg_def *iqp_msg_def_by_name(const char *name)
{
	for (size_t i = 0; i < COUNT(msgs); i++)
		if (!strcmp(msgs[i].name, name))
			return &msgs[i];
	return NULL;
}

const char *iqp_kind_name(unsigned kind)
{
	return kind < COUNT(kinds) ? kinds[kind] : NULL;
}

unsigned iqp_kind_by_name(const char *name)
{
	for (unsigned k = 1; k < COUNT(kinds); k++)
		if (!strcmp(kinds[k], name))
			return k;
	return 0;
}

const struct iqp_enum_val *iqp_enum_vals(unsigned e, size_t *n)
{
	if (e >= IQP_EN_COUNT) {
		*n = 0;
		return NULL;
	}
	*n = enums[e].n;
	return enums[e].v;
}

const char *iqp_enum_name(unsigned e, unsigned value)
{
	size_t n;
	const struct iqp_enum_val *v = iqp_enum_vals(e, &n);

	for (size_t i = 0; i < n; i++)
		if (v[i].value == value)
			return v[i].name;
	return NULL;
}

unsigned iqp_enum_value(unsigned e, const char *name)
{
	size_t n;
	const struct iqp_enum_val *v = iqp_enum_vals(e, &n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return v[i].value;
	return 0;
}

const struct iqp_err_def *iqp_err_def_find(unsigned code)
{
	for (size_t i = 0; i < COUNT(errs); i++)
		if (errs[i].code == code)
			return &errs[i];
	return NULL;
}

unsigned iqp_err_default_scope(unsigned code)
{
	const struct iqp_err_def *d = iqp_err_def_find(code);

	if (d && d->scope)
		return d->scope;
	if (!d && code >= 500 && code <= 599)
		return IQP_RETRY_OTHER;
	return IQP_RETRY_NEVER;
}
