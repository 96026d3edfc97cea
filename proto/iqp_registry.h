/* Iq+ registries (proto/SPEC.md clauses 3.2, 10.3, 11.1, 12, 13): message
 * codes, element codes with their value type, M bit, range and parents,
 * enumerations and error codes, as constant tables.  This is the one source
 * of truth for the encoder, the decoder, the validator (iqp_schema.h adds
 * the per-message tables of clauses 11 and 8.7) and the JSON printer. */
#ifndef PROTO_IQP_REGISTRY_H
#define PROTO_IQP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frame header (3.1) and limits (14.2). */
#define IQP_MAGIC0 0x49
#define IQP_MAGIC1 0x51
#define IQP_VERSION_MAJOR 1
#define IQP_VERSION_1_0 0x0100
#define IQP_HEADER_LEN 16
#define IQP_ELEM_HDR_LEN 6
#define IQP_MAX_FRAME_MIN 65536u
#define IQP_MAX_FRAME_MAX 1048576u
#define IQP_MAX_DEPTH 8
#define IQP_MAX_ELEMENTS 4096
#define IQP_TYPE_M 0x8000u
#define IQP_TYPE_C 0x4000u
#define IQP_TYPE_CODE 0x3fffu
#define IQP_CHOOSE 0xfffffffeu
#define IQP_ALL 0xffffffffu

/* Message kinds (3.2) and flags (3.3). */
enum iqp_kind {
	IQP_KIND_REQUEST = 1,
	IQP_KIND_REPLY = 2,
	IQP_KIND_PENDING = 3,
	IQP_KIND_NOTIFY = 4,
	IQP_KIND_ACK = 5,
	IQP_KIND_CLOSE = 6,
};
#define IQP_FLAG_R 0x0001u
#define IQP_FLAG_E 0x0002u

/* Who sends a frame (11.1 "Sent by"). */
enum iqp_role {
	IQP_ROLE_AGW = 1,
	IQP_ROLE_CONTROLLER = 2,
};

/* Message codes (11.1). */
enum iqp_msg_code {
	IQP_MSG_CLOSE = 0x0000, /* the code of every CLOSE */
	IQP_MSG_REGISTER = 0x0001,
	IQP_MSG_HEARTBEAT = 0x0002,
	IQP_MSG_SERVICE_CHANGE = 0x0003,
	IQP_MSG_NODE_STATUS = 0x0004,
	IQP_MSG_AUDIT = 0x0005,
	IQP_MSG_RESERVE = 0x0101,
	IQP_MSG_CONFIGURE = 0x0102,
	IQP_MSG_MODIFY = 0x0103,
	IQP_MSG_RELEASE = 0x0104,
	IQP_MSG_EVENT = 0x0201,
};

/* Element codes (12.1, 12.2), without the M and C bits. */
enum iqp_elem_code {
	IQP_E_ERROR = 0x0001, IQP_E_ERROR_CODE, IQP_E_ERROR_TEXT,
	IQP_E_ERROR_ELEMENT, IQP_E_ERROR_OFFSET, IQP_E_RETRY_SCOPE,
	IQP_E_RETRY_AFTER, IQP_E_TIMESTAMP, IQP_E_CALL_REF, IQP_E_EXTENSION,

	IQP_E_NODE_ID = 0x0040, IQP_E_EPOCH, IQP_E_VERSION, IQP_E_SC_METHOD,
	IQP_E_SC_REASON, IQP_E_SC_DELAY, IQP_E_REDIRECT_TARGET,
	IQP_E_TARGET_ADDR, IQP_E_TARGET_NAME, IQP_E_LINK_PARAMS,
	IQP_E_HB_INTERVAL, IQP_E_MAX_FRAME, IQP_E_MAX_OUTSTANDING,
	IQP_E_CACHE_TTL, IQP_E_SOFTWARE, IQP_E_AUDIT_SCOPE, IQP_E_AUDIT_CURSOR,
	IQP_E_AUDIT_LIMIT, IQP_E_AUDIT_MORE,

	IQP_E_CAPACITY = 0x0080, IQP_E_MAX_CONTEXTS, IQP_E_MAX_PORTS,
	IQP_E_MAX_TRANSCODE, IQP_E_LOAD, IQP_E_ACTIVE_CONTEXTS,
	IQP_E_FREE_PORTS, IQP_E_CPU_LOAD, IQP_E_ACTIVE_TRANSCODE,
	IQP_E_OVERLOAD_LEVEL, IQP_E_ADMIT_PERCENT, IQP_E_REALM,
	IQP_E_REALM_NAME, IQP_E_REALM_SIDE, IQP_E_REALM_ADDR,
	IQP_E_REALM_AVAILABLE, IQP_E_PORT_MIN, IQP_E_PORT_MAX,
	IQP_E_CAPABILITIES, IQP_E_CAP_ICE_MODE, IQP_E_CAP_ICE_TCP,
	IQP_E_CAP_DTLS_SETUP, IQP_E_SRTP_PROFILE, IQP_E_CAP_DC_KIND,
	IQP_E_CAP_CODEC, IQP_E_CAP_TRANSCODE, IQP_E_CAP_BUNDLE,

	IQP_E_CONTEXT = 0x0100, IQP_E_CONTEXT_ID, IQP_E_EMERGENCY,
	IQP_E_PRIORITY, IQP_E_TERMINATION, IQP_E_TERM_ID, IQP_E_TERM_KIND,
	IQP_E_STREAM, IQP_E_STREAM_ID, IQP_E_MEDIA_TYPE, IQP_E_STREAM_MODE,
	IQP_E_TRANSPORT_PROTO, IQP_E_LOCAL_ADDR, IQP_E_REMOTE_ADDR,
	IQP_E_LOCAL_RTCP_ADDR, IQP_E_REMOTE_RTCP_ADDR, IQP_E_ADDR_FAMILY,
	IQP_E_REMOVE, IQP_E_UNUSED_TIMEOUT, IQP_E_TERM_STATE,
	IQP_E_EVENT_MASK, IQP_E_INACTIVITY_TIMEOUT,

	IQP_E_ICE = 0x0140, IQP_E_ICE_MODE, IQP_E_ICE_ROLE,
	IQP_E_ICE_LOCAL_UFRAG, IQP_E_ICE_LOCAL_PWD, IQP_E_ICE_REMOTE_UFRAG,
	IQP_E_ICE_REMOTE_PWD, IQP_E_ICE_REMOTE_LITE, IQP_E_ICE_RESTART,
	IQP_E_ICE_TCP, IQP_E_LOCAL_CANDIDATE, IQP_E_REMOTE_CANDIDATE,
	IQP_E_CAND_FOUNDATION, IQP_E_CAND_COMPONENT, IQP_E_CAND_TRANSPORT,
	IQP_E_CAND_PRIORITY, IQP_E_CAND_ADDR, IQP_E_CAND_TYPE,
	IQP_E_CAND_RADDR, IQP_E_CAND_TCPTYPE, IQP_E_ICE_END_OF_CANDIDATES,
	IQP_E_SELECTED_LOCAL, IQP_E_SELECTED_REMOTE, IQP_E_PEER_ADDR,

	IQP_E_DTLS = 0x0180, IQP_E_DTLS_SETUP, IQP_E_REMOTE_FINGERPRINT,
	IQP_E_LOCAL_FINGERPRINT, IQP_E_FP_HASH, IQP_E_FP_VALUE,
	IQP_E_REMOTE_TLS_ID, IQP_E_LOCAL_TLS_ID, IQP_E_DTLS_ALERT,

	IQP_E_CODEC = 0x01c0, IQP_E_PAYLOAD_TYPE, IQP_E_CODEC_NAME,
	IQP_E_CLOCK_RATE, IQP_E_CHANNELS, IQP_E_FMTP, IQP_E_RTCP_FB,
	IQP_E_PTIME, IQP_E_MAXPTIME, IQP_E_RTCP_MUX, IQP_E_RTCP_RSIZE,
	IQP_E_BUNDLE, IQP_E_BUNDLE_ENTRY, IQP_E_MID, IQP_E_SSRC,
	IQP_E_CCM_INTERWORK, IQP_E_MID_EXT_ID,

	IQP_E_DSCP = 0x0200, IQP_E_POLICING, IQP_E_POLICE_SDR,
	IQP_E_POLICE_MBS, IQP_E_POLICE_PDR, IQP_E_LATCHING,
	IQP_E_SOURCE_FILTER,

	IQP_E_EVENT = 0x0240, IQP_E_EVENT_TYPE, IQP_E_MEDIA_DIRECTION,

	IQP_E_STATS = 0x0280, IQP_E_STATS_RX, IQP_E_STATS_TX, IQP_E_PACKETS,
	IQP_E_OCTETS, IQP_E_PACKETS_LOST, IQP_E_JITTER, IQP_E_DURATION,
	IQP_E_RTT,

	/* 12.2: reserved for a later minor version. */
	IQP_E_DATACHANNEL = 0x0300, IQP_E_SCTP_LOCAL_PORT,
	IQP_E_SCTP_REMOTE_PORT, IQP_E_MAX_MESSAGE_SIZE, IQP_E_DC_CHANNEL,
	IQP_E_DC_STREAM_ID, IQP_E_DC_SUBPROTOCOL, IQP_E_DC_LABEL,
	IQP_E_DC_ORDERED, IQP_E_DC_MAX_RETRANSMITS, IQP_E_DC_MAX_LIFETIME,
	IQP_E_DC_NEGOTIATION, IQP_E_DC_TARGET_STREAM,
	IQP_E_MSRP = 0x0340, IQP_E_MSRP_LOCAL_PATH, IQP_E_MSRP_REMOTE_PATH,
	IQP_E_MSRP_SETUP, IQP_E_MSRP_CEMA, IQP_E_MSRP_ACCEPT_TYPES,
	IQP_E_T140 = 0x0380, IQP_E_T140_RED_LEVEL, IQP_E_T140_CPS,
	IQP_E_BFCP = 0x03a0, IQP_E_BFCP_FLOORCTRL, IQP_E_BFCP_CONF_ID,
	IQP_E_BFCP_USER_ID, IQP_E_BFCP_FLOOR_ID,
};

/* Value types (4.2). */
enum iqp_vtype {
	IQP_VT_U8 = 1,
	IQP_VT_U16,
	IQP_VT_U32,
	IQP_VT_U64,
	IQP_VT_BOOL,
	IQP_VT_ENUM,
	IQP_VT_STRING,
	IQP_VT_OCTETS,
	IQP_VT_IP,
	IQP_VT_IPPORT,
	IQP_VT_CONTAINER,
};

/* Enumerations (13).  The iqp_enum_id names a value table. */
enum iqp_enum_id {
	IQP_EN_NONE,
	IQP_EN_RETRY_SCOPE,
	IQP_EN_SC_METHOD,
	IQP_EN_AUDIT_SCOPE,
	IQP_EN_OVERLOAD_LEVEL,
	IQP_EN_REALM_SIDE,
	IQP_EN_ICE_MODE,
	IQP_EN_ICE_ROLE,
	IQP_EN_SETUP,
	IQP_EN_DC_KIND,
	IQP_EN_TERM_KIND,
	IQP_EN_MEDIA_TYPE,
	IQP_EN_STREAM_MODE,
	IQP_EN_TRANSPORT_PROTO,
	IQP_EN_ADDR_FAMILY,
	IQP_EN_TERM_STATE,
	IQP_EN_CAND_TRANSPORT,
	IQP_EN_CAND_TYPE,
	IQP_EN_CAND_TCPTYPE,
	IQP_EN_FP_HASH,
	IQP_EN_LATCHING,
	IQP_EN_MEDIA_DIRECTION,
	IQP_EN_DC_NEGOTIATION,
	IQP_EN_BFCP_FLOORCTRL,
	IQP_EN_COUNT,
};

/* Enumeration values most used by the procedures (13). */
enum { IQP_RETRY_NEVER = 1, IQP_RETRY_SAME, IQP_RETRY_OTHER };
enum {
	IQP_SC_GRACEFUL = 1, IQP_SC_FORCED, IQP_SC_RESTART, IQP_SC_DISCONNECTED,
	IQP_SC_HANDOFF, IQP_SC_FAILOVER, IQP_SC_CAPABILITY_UPDATE,
};
enum {
	IQP_AUDIT_CAPABILITIES = 1, IQP_AUDIT_CONTEXT_LIST, IQP_AUDIT_CONTEXT,
	IQP_AUDIT_STATISTICS,
};
enum { IQP_TERM_W3 = 1, IQP_TERM_IMS };
enum { IQP_MEDIA_AUDIO = 1, IQP_MEDIA_VIDEO, IQP_MEDIA_TEXT,
       IQP_MEDIA_APPLICATION, IQP_MEDIA_MESSAGE };
enum { IQP_SETUP_ACTIVE = 1, IQP_SETUP_PASSIVE, IQP_SETUP_ACTPASS };
enum { IQP_CAND_UDP = 1, IQP_CAND_TCP };
enum { IQP_FP_SHA1 = 1, IQP_FP_SHA224, IQP_FP_SHA256, IQP_FP_SHA384,
       IQP_FP_SHA512 };

/* Error codes (10.3) and ServiceChange reasons (10.4) used by the codec. */
enum iqp_err_code {
	IQP_ERR_SYNTAX = 400,
	IQP_ERR_PROTOCOL = 401,
	IQP_ERR_UNAUTHORIZED = 402,
	IQP_ERR_VERSION = 406,
	IQP_ERR_UNKNOWN_COMMAND = 443,
	IQP_ERR_UNKNOWN_ELEMENT = 446,
	IQP_ERR_MISPLACED_CONTAINER = 447,
	IQP_ERR_DUPLICATE_CONTAINER = 448,
	IQP_ERR_VALUE = 449,
	IQP_ERR_MISPLACED_LEAF = 455,
	IQP_ERR_DUPLICATE_LEAF = 456,
	IQP_ERR_MISSING = 472,
	IQP_ERR_CONFLICT = 473,
	IQP_ERR_TOO_MANY_TERMINATIONS = 434,
	IQP_ERR_NORMAL_CLOSE = 1000,
	IQP_ERR_OVERRUN = 1001,
	IQP_ERR_TOO_DEEP = 1002,
	IQP_ERR_TOO_MANY_ELEMENTS = 1003,
	IQP_ERR_ENCODING = 1004,
	IQP_ERR_CARDINALITY = 1005,
	IQP_ERR_BAD_MAGIC = 1100,
	IQP_ERR_FRAME_TOO_LARGE = 1101,
	IQP_ERR_BAD_HEADER = 1102,
	IQP_ERR_FRAME_TIMEOUT = 1103,
};

/* Flags of an element definition. */
#define IQP_DF_RESERVED 0x01u /* 12.2: unknown unless the receiver opts in */
#define IQP_DF_TOP 0x02u      /* may appear at the top level of a body */
#define IQP_DF_PORT0 0x04u    /* ipport: port 0 acceptable everywhere (4.2) */
#define IQP_DF_NODE_ID 0x08u  /* string limited to [A-Za-z0-9._-] (7.2.2) */
#define IQP_DF_NO_ACTPASS 0x10u /* setup enum without ACTPASS (13) */

/* Conditions on the value of another element of the same message, used by
 * the registry ("1 if TCP") and by the message tables of clauses 11 and 8.7
 * ("only with 406", "GRACEFUL only", "required for scopes CONTEXT and
 * STATISTICS", "Rn w", footnote 1).  Evaluated as SPEC 4.4 says: on the
 * first instance of the referenced element, when correctly encoded. */
enum iqp_cond {
	IQP_C_NONE,
	IQP_C_ERR_406,     /* top ERROR's ERROR_CODE = 406 */
	IQP_C_ERR_1300,    /* top ERROR's ERROR_CODE = 1300 */
	IQP_C_SC_GRACEFUL, /* top SC_METHOD = GRACEFUL */
	IQP_C_SC_HANDOFF,  /* top SC_METHOD = HANDOFF */
	IQP_C_SC_CAPUPD,   /* top SC_METHOD = CAPABILITY_UPDATE */
	IQP_C_AUDIT_LIST,  /* top AUDIT_SCOPE = CONTEXT_LIST */
	IQP_C_AUDIT_CTX,   /* top AUDIT_SCOPE = CONTEXT or STATISTICS */
	IQP_C_AUDIT_STATS, /* top AUDIT_SCOPE = STATISTICS */
	IQP_C_TERM_W3,     /* sibling TERM_KIND = W3 */
	IQP_C_MEDIA_RTP,   /* sibling MEDIA_TYPE = AUDIO, VIDEO or TEXT */
	IQP_C_CAND_TCP,    /* sibling CAND_TRANSPORT = TCP */
	IQP_C_NO_REALM,    /* no sibling REALM */
	IQP_C_COUNT,
};

/* Placement of an element under a parent element (12 "Parents and
 * cardinality").  `cond` (0 for none) makes min apply only when that
 * condition holds ("1 if TCP"). */
struct iqp_parent {
	uint16_t code;
	uint16_t min, max;
	uint8_t cond;
};

#define IQP_MAX_PARENTS 3

struct iqp_elem_def {
	uint16_t code;
	const char *name;
	uint8_t vtype;         /* enum iqp_vtype */
	uint8_t m;             /* registered M bit */
	uint8_t flags;         /* IQP_DF_* */
	uint8_t enum_id;       /* enum iqp_enum_id for IQP_VT_ENUM */
	uint64_t lo, hi;       /* range: values, or bytes for string/octets */
	struct iqp_parent parents[IQP_MAX_PARENTS]; /* unused slots: code 0 */
};

struct iqp_msg_def {
	uint16_t code;
	const char *name;
	uint8_t kind;    /* IQP_KIND_REQUEST, _NOTIFY or _CLOSE */
	uint8_t senders; /* bit (1 << role) for each role that may send it */
};

struct iqp_enum_val {
	uint8_t value;
	const char *name;
};

struct iqp_err_def {
	uint16_t code;
	const char *name;
	uint8_t scope; /* IQP_RETRY_*, 0 where 10.3 gives none */
};

/* Element definitions, sorted by code; n receives the count. */
const struct iqp_elem_def *iqp_elem_defs(size_t *n);
/* Definition of an element code (type-field bits ignored), NULL if the
 * code is not registered. */
const struct iqp_elem_def *iqp_elem_def_find(uint16_t code);
/* Definition by registry name ("CONTEXT_ID"), NULL if none. */
const struct iqp_elem_def *iqp_elem_def_by_name(const char *name);
/* The type field a sender puts on the wire for d (code, M and C). */
uint16_t iqp_elem_def_type(const struct iqp_elem_def *d);

const struct iqp_msg_def *iqp_msg_defs(size_t *n);
/* Message definition by code; code 0 is CLOSE's.  NULL if unknown. */
const struct iqp_msg_def *iqp_msg_def_find(uint16_t code);
const struct iqp_msg_def *iqp_msg_def_by_name(const char *name);

/* Kind name ("REQUEST"), NULL for an invalid kind; and the reverse
 * (0 if unknown). */
const char *iqp_kind_name(unsigned kind);
unsigned iqp_kind_by_name(const char *name);

/* Enumeration values of e (13): name of a value (NULL if undefined), value
 * of a name (0 if none), and the table itself. */
const char *iqp_enum_name(unsigned e, unsigned value);
unsigned iqp_enum_value(unsigned e, const char *name);
const struct iqp_enum_val *iqp_enum_vals(unsigned e, size_t *n);

/* Error code registry (10.3): definition or NULL, and the retry scope a
 * receiver assumes when RETRY_SCOPE is absent (10.1 item 3). */
const struct iqp_err_def *iqp_err_def_find(unsigned code);
unsigned iqp_err_default_scope(unsigned code);

#endif
