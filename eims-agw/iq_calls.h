/* The AGW's call procedures of Iq+ (proto/SPEC.md clause 8): RESERVE,
 * CONFIGURE, MODIFY and RELEASE on the media plane's contexts
 * (media_context.h), pass 4 of 4.4 (the checks that depend on the state:
 * 410, 411, 430, 435, 449, 473, 515, 1307, 1309...) before anything
 * changes (6.8), and the EVENT notifications of clause 9 (iq_events.c). */
#ifndef AGW_IQ_CALLS_H
#define AGW_IQ_CALLS_H

#include "iq_client.h"
#include "media_context.h"

struct iq_admin;
struct iq_status;

struct iq_calls {
	struct media_plane *mp;      /* borrowed */
	struct iq_client *iq;        /* borrowed: the link, realms, capabilities */
	const struct log *log;       /* borrowed */
	unsigned sub;
	uint64_t events_sent, events_acked, events_lost;
	/* EVENTs raised while the link is down (7.10 item 6), sent once it is
	 * registered again; bounded, oldest dropped; cleared at T_HOLD. */
	struct iqp_msg *held;        /* owned ring of IQ_EVENTS_HELD messages */
	unsigned held_first, held_n;
	uv_timer_t hold;             /* owned: T_HOLD after link loss (7.10) */
	uint32_t hold_ms;
	bool hold_open;
	struct iq_admin *admin;      /* borrowed: administrative state (iq_admin.h);
				      * NULL: always in service, SERVICE_CHANGE 501 */
	struct iq_status *status;    /* borrowed: load and overload (iq_status.h);
				      * NULL: no NODE_STATUS, no 511 */
};

/* Wires the handlers and the media plane's event sink; hold_ms: T_HOLD. */
void iq_calls_init(struct iq_calls *c, struct media_plane *mp, struct iq_client *iq,
		   const struct log *log, unsigned sub, uint32_t hold_ms);
/* Closes the T_HOLD timer. */
void iq_calls_stop(struct iq_calls *c);
/* For struct iq_client_cfg.link_change (7.10): T_HOLD runs while the link
 * is down; at expiry every context is released and a new epoch made. */
void iq_calls_link_change(void *arg, bool up);
/* For struct iq_client_cfg.peer_changed (7.9 item 4): registered with
 * another controller association; every context is released, no EVENTs. */
void iq_calls_peer_changed(void *arg);

/* The handlers, for struct iqp_link_calls (arg: struct iq_calls). */
const struct iqp_link_calls *iq_calls_table(void);

#define IQ_EVENTS_HELD 256

/* iq_events.c: the media plane's event sink (arg: struct iq_calls). */
void iq_events_send(void *arg, const struct media_event *ev);
/* Sends the EVENTs held while the link was down (in order), or drops
 * them (flush false: T_HOLD expired, or shutdown). */
void iq_events_held(struct iq_calls *c, bool flush);
/* STREAM { STREAM_ID, STATS } of every stream of t under parent. */
int iq_events_add_stats(struct iqp_msg *m, struct iqp_elem *parent, const struct media_term *t,
			uint64_t now);
/* STREAM { STREAM_ID, STATS } of one stream under parent. */
int iq_events_add_stream_stats(struct iqp_msg *m, struct iqp_elem *parent,
				const struct media_stream *s, uint64_t now);
/* sockaddr <-> ipport. */
void iq_ipport_from_sa(const struct sockaddr *sa, struct iqp_ipport *out);
void iq_sa_from_ipport(const struct iqp_ipport *a, struct sockaddr_storage *out);

#endif
