/* A W3 termination's transport (proto/SPEC.md 8.9): one UDP port per
 * realm address, ICE-lite (ice_lite.c) on it, DTLS-SRTP (dtls_session.c,
 * srtp_transform.c), rtcp-mux, and the packet path between the browser
 * and the connected IMS streams.  Everything runs in the receive
 * callbacks of udp_batch.c and in the termination's timer. */
#ifndef AGW_TERM_W3_H
#define AGW_TERM_W3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice_lite.h"
#include "media_context.h"
#include "srtp_transform.h"
#include "w3_bundle.h"

#define W3_MAX_SOCKS IQP_MAX_REALM_ADDRS
#define W3_MAX_RCAND 32
#define W3_UFRAG_LEN 8     /* 48 bits of randomness (>= 24, 8.9.1 item 2) */
#define W3_PWD_LEN 24      /* 144 bits (>= 128) */
#define W3_TLS_ID_LEN 24
#define W3_MAX_PROFILES 4

struct term_w3 {
	/* The packet path's fields first: with the struct on a line
	 * boundary (media_zalloc), a packet from the browser reads line 0
	 * (the SRTP contexts, the flags, the BUNDLE switch), its socket and
	 * ICE's verdict (ice_lite keeps its per-packet fields first: state,
	 * the selected candidate's index, the consent time, then cand[0]). */
	/* (_Alignas on its own declaration: on a list it aligns each one.) */
	_Alignas(64) struct srtp_transform *srtp_in;  /* owned */
	struct srtp_transform *srtp_out;              /* owned */
	struct udp_sock *sel_sock;            /* borrowed: selected pair */
	bool has_sel;
	bool restarting;                      /* ICE restart: old pair until a new one */
	bool bundle_on;                       /* bundle.on, mirrored by apply_bundle */
	union ice_lite_sa sel;                /* the selected pair's remote address */
	/* The sockets (a datagram's first read) right after line 0, then
	 * ICE: the packet path's part of this 12 KiB struct in its first
	 * KiB, i.e. mostly in one page. */
	struct udp_sock sock[W3_MAX_SOCKS];   /* owned */
	struct ice_lite ice;
	struct w3_bundle bundle;              /* BUNDLE map and learned SSRCs */
	uint16_t port[W3_MAX_SOCKS];
	unsigned n_sock;
	char lufrag[W3_UFRAG_LEN + 1], lpwd[W3_PWD_LEN + 1];
	char rufrag[ICE_LITE_UFRAG_MAX + 1], rpwd[ICE_LITE_PWD_MAX + 1];
	bool has_rcreds;
	struct sockaddr_storage rcand[W3_MAX_RCAND]; /* REMOTE_CANDIDATE addresses */
	uint8_t rcand_type[W3_MAX_RCAND];
	unsigned n_rcand;
	uint8_t setup;                        /* DTLS_SETUP (13) as configured */
	char rfp[96];                         /* "AB:CD:..." sha-256 */
	bool has_rfp;
	char ltls_id[W3_TLS_ID_LEN + 1];
	char rtls_id[256];
	uint16_t profiles[W3_MAX_PROFILES];   /* SRTP_PROFILE list, 0 entries: default */
	unsigned n_profiles;
	bool rtcp_mux, rtcp_rsize;
	/* DTLS */
	struct dtls_session dtls;
	bool dtls_on, dtls_reported;
	struct udp_sock *dtls_sock;           /* borrowed: where records go */
	struct sockaddr_storage dtls_peer;
	uint64_t configured_ms, selected_ms;
};

/* Where the packet path's fields of struct term_w3 end (its first
 * candidate, checked in term_w3.c): media_context.c keeps them in the
 * first page of the termination's allocation. */
#define TERM_W3_HOT_END (offsetof(struct term_w3, ice) + offsetof(struct ice_lite, cand) + \
			 sizeof(struct ice_lite_cand))

/* Builds the W3 transport of t, in t's allocation (media_term_w3_storage),
 * on the realm's addresses of `family` (0: all): ports, ICE credentials,
 * LOCAL_TLS_ID.  Returns 0, EINVAL (t is not W3), EIO (no randomness), or
 * EADDRNOTAVAIL (no port, or no address of that family). */
int term_w3_open(struct media_term *t, const struct iqp_realm *realm, uint8_t family);
/* Closes the sockets (handles of t); term_w3_free then frees what the
 * state owns and wipes it (its memory goes with t). */
void term_w3_close(struct media_term *t);
void term_w3_free(struct media_term *t);

/* Remote parameters from RESERVE, CONFIGURE or MODIFY, applied after the
 * handler checked them. */
void term_w3_set_remote_ice(struct media_term *t, const char *ufrag, const char *pwd);
void term_w3_set_remote_fp(struct media_term *t, const char *fp);
void term_w3_set_setup(struct media_term *t, uint8_t setup);
/* A new REMOTE_TLS_ID: a new association (8.9.2 item 6). */
void term_w3_new_association(struct media_term *t, const char *tls_id);
/* ICE restart (8.9.1 item 6): new local credentials; the old pair keeps
 * forwarding until a new one is selected. */
int term_w3_ice_restart(struct media_term *t, const char *ufrag, const char *pwd);
/* After a change: state transitions (8.8), DTLS start as client. */
void term_w3_update(struct media_term *t);

/* Timer work; returns true if t was released. */
bool term_w3_tick(struct media_term *t, uint64_t now);
uint64_t term_w3_deadline(const struct media_term *t, uint64_t now);

/* Prefetch hints (udp_sock.hint) for `sock`, an IMS socket of stream
 * `from` whose RTP is relayed to the W3 stream `to`: the lines
 * term_w3_send_rtp reads (termination, W3 state, SRTP context, selected
 * socket) and what on_ims reads of the IMS side (stream, termination,
 * statistics, payload type map, remote address). */
void term_w3_hint_toward(struct udp_sock *sock, const struct media_stream *from,
			 const struct media_stream *to);

/* Media toward the browser from a connected IMS stream: payload type
 * already rewritten; pkt has cap bytes of room for the SRTP tag. */
void term_w3_send_rtp(struct media_stream *s, uint8_t *pkt, size_t len, size_t cap,
		      size_t payload_len);
void term_w3_send_rtcp(struct media_stream *s, uint8_t *pkt, size_t len, size_t cap);

#endif
