/* REGISTER content (SPEC.md 7.2, 11.2, 5.2, 7.6) as plain structures, with
 * pure builders and parsers for both ends: what an AGW declares about
 * itself (node, epoch, versions, link parameters, capacity, load, realms,
 * capabilities) and what the controller answers. */
#ifndef PROTO_IQP_LINK_REG_H
#define PROTO_IQP_LINK_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_build.h"

#define IQP_NODE_ID_MAX 64
#define IQP_MAX_REALMS 32
#define IQP_MAX_REALM_ADDRS 8
#define IQP_MAX_VERSIONS 16
#define IQP_MAX_SRTP 8
#define IQP_HB_INTERVAL_MS 5000u /* 7.2.4 absent value */

/* LOAD (7.6); `has` says which members are present (IQP_LOAD_*). */
#define IQP_LOAD_ACTIVE 0x01u
#define IQP_LOAD_FREE_PORTS 0x02u
#define IQP_LOAD_CPU 0x04u
#define IQP_LOAD_TRANSCODE 0x08u
#define IQP_LOAD_LEVEL 0x10u
#define IQP_LOAD_ADMIT 0x20u
struct iqp_load {
	uint8_t has;
	uint32_t active_contexts, free_ports, active_transcode;
	uint8_t cpu_load, overload_level, admit_percent;
};

struct iqp_realm {
	char name[IQP_NODE_ID_MAX + 1];
	uint8_t side;                 /* REALM_SIDE: 1 W3, 2 IMS, 3 BOTH */
	uint8_t n_addr;
	struct iqp_ip addr[IQP_MAX_REALM_ADDRS];
};

struct iqp_caps {
	uint8_t ice_modes;            /* bit (1 << ICE_MODE) */
	uint8_t dtls_setups;          /* bit (1 << DTLS_SETUP), ACTIVE/PASSIVE */
	bool ice_tcp, bundle;
	uint8_t n_srtp;
	uint16_t srtp[IQP_MAX_SRTP];  /* in preference order */
};

/* Link parameters (7.2.4); 0 = absent. */
struct iqp_link_params {
	uint32_t hb_interval, max_frame, max_outstanding, cache_ttl;
};

/* A node as it registers (AGW, REGISTER request) or answers (controller,
 * REGISTER reply: node_id, epoch, one version, params, software). */
struct iqp_node_info {
	char node_id[IQP_NODE_ID_MAX + 1];
	uint64_t epoch;
	uint8_t n_versions;
	uint16_t versions[IQP_MAX_VERSIONS]; /* major << 8 | minor */
	uint8_t sc_method;
	uint16_t sc_reason;
	struct iqp_link_params params;
	char software[129];
	uint32_t max_contexts, max_ports, max_transcode; /* CAPACITY; 0 absent
							  * (but MAX_CONTEXTS) */
	bool has_load;
	struct iqp_load load;
	uint8_t n_realms;
	struct iqp_realm realms[IQP_MAX_REALMS];
	struct iqp_caps caps;
};

/* REDIRECT_TARGET (7.4, 12.1.2): a controller to register with instead. */
#define IQP_MAX_REDIRECT_TARGETS 8
struct iqp_redirect {
	struct iqp_ipport addr;       /* TARGET_ADDR */
	char name[256];               /* TARGET_NAME, "" when absent */
};

/* Adds LOAD { ... } under parent (NULL: top level). */
int iqp_link_reg_add_load(struct iqp_msg *m, struct iqp_elem *parent,
			  const struct iqp_load *load);
/* Reads a LOAD container. */
void iqp_link_reg_load(const struct iqp_msg *m, const struct iqp_elem *e,
		       struct iqp_load *out);

/* The body of a REGISTER request for `self` (m initialised by the caller
 * with the request header).  Uses self's versions, method, reason, params,
 * capacity, realms, capabilities and software; load when has_load. */
int iqp_link_reg_build_request(struct iqp_msg *m, const struct iqp_node_info *self);
/* Reads a validated REGISTER request (iqp_msg_decode passed). */
void iqp_link_reg_parse_request(const struct iqp_msg *m, struct iqp_node_info *out);

/* 5.2 item 2: the version the controller selects from the AGW's list
 * against its own (ours: n entries), or 0 when no major is common. */
uint16_t iqp_link_reg_select_version(const uint16_t *agw, size_t n_agw,
				     const uint16_t *ours, size_t n_ours);

/* 7.2.3 check 5 for this controller: a realm serving W3, a realm serving
 * IMS, and an SRTP profile of 13 it can use.  Returns 0 or 449 with text. */
unsigned iqp_link_reg_check_caps(const struct iqp_node_info *agw, char *text,
				 size_t len);

/* The success reply body: NODE_ID, EPOCH, the selected VERSION,
 * LINK_PARAMS (hb_interval decided, our other parameters), SOFTWARE. */
int iqp_link_reg_build_reply(struct iqp_msg *m, const struct iqp_node_info *self,
			     uint16_t version, const struct iqp_link_params *p);
/* Reads a validated success reply. */
void iqp_link_reg_parse_reply(const struct iqp_msg *m, struct iqp_node_info *out);

/* ERROR { ERROR_CODE, ERROR_TEXT, RETRY_SCOPE, RETRY_AFTER (if not 0) }
 * at the top level. */
int iqp_link_reg_add_error(struct iqp_msg *m, unsigned code, const char *text,
			   uint32_t retry_after);
/* The first ERROR's code, text (copied, may be cut) and RETRY_AFTER of a
 * decoded message; code 0 when there is none.  Tolerant of bodies that
 * failed validation (CLOSE, 2.6). */
void iqp_link_reg_error(const struct iqp_msg *m, unsigned *code, char *text,
			size_t len, uint32_t *retry_after);
/* REDIRECT_TARGET { TARGET_ADDR, TARGET_NAME when not "" } at the top
 * level (1300 reply, SERVICE_CHANGE HANDOFF). */
int iqp_link_reg_add_redirect(struct iqp_msg *m, const struct iqp_redirect *t);
/* The REDIRECT_TARGETs at the top level of a validated message, in
 * preference order; those without a usable TARGET_ADDR (port 0) are
 * skipped.  Returns how many were stored (at most max). */
size_t iqp_link_reg_redirects(const struct iqp_msg *m, struct iqp_redirect *out, size_t max);
/* The VERSION list at the top level (406 replies and CLOSE). */
size_t iqp_link_reg_versions(const struct iqp_msg *m, uint16_t *out, size_t max);

#endif
