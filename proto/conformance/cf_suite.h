/* The Iq+ conformance suite (iqplus-conformance): the state shared by the
 * cases, the case table, and helpers for building and checking messages.
 *
 * A case tests one requirement of proto/SPEC.md, named by its clause.  It
 * returns CF_PASS, CF_FAIL with a reason, or CF_SKIP when the setup does not
 * allow it (e.g. a TLS-only check on a plain TCP link). */
#ifndef IQPLUS_CF_SUITE_H
#define IQPLUS_CF_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cf_conn.h"
#include "iqp_build.h"
#include "iqp_link_reg.h"

enum cf_result { CF_PASS, CF_FAIL, CF_SKIP };

/* In a case (char *why, size_t len, enum cf_result rc, label out): fail
 * with a reason. */
#define FAIL(...) do { snprintf(why, len, __VA_ARGS__); rc = CF_FAIL; goto out; } while (0)
/* FAIL with the current reason as the first %s. */
#define FAIL_WHY(fmt, ...) do { char t_[512]; snprintf(t_, sizeof(t_), "%s", why); \
		FAIL(fmt, t_, ##__VA_ARGS__); } while (0)


#define CF_SEEN 64

/* The implementation under test. */
enum cf_target { CF_CONTROLLER = 1, CF_AGW = 2 };

struct cf_ctx {
	enum cf_target target;
	/* The controller under test: where to connect. */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *expect_name;        /* its certificate's name, or NULL */
	/* The AGW under test: our listening socket. */
	int lfd;
	const struct iqp_tls_ctx *tls;  /* borrowed; NULL: plain TCP */
	struct iqp_node_info self;      /* what we register as (controller
					 * under test) or answer (AGW) */
	uint32_t txid;                  /* our next txid (6.1) */
	int timeout_ms;                 /* for an answer that is due now */
	uint32_t hb_ms;                 /* HB_INTERVAL we propose/grant */
	bool slow;                      /* run cases that wait for 10 s timers */
	/* AGW under test: its current registered connection and REGISTER. */
	struct cf_conn link;
	bool linked;
	struct iqp_node_info agw;
	/* Controller under test: RELEASEs it sent us while we waited for an
	 * answer (answered 411: the suite holds no contexts). */
	unsigned peer_releases;
	/* AGW under test: what it sent of its own accord while the suite
	 * waited for something else, answered as a controller would (7.1.2,
	 * 11.4, 11.5).  Rings of the last CF_SEEN entries. */
	uint8_t agw_state;              /* CF_IN_SERVICE ... (our view) */
	unsigned links;                 /* registrations accepted so far */
	uint16_t first_request;         /* code of the first REQUEST on this link */
	unsigned n_sc, n_status;        /* received so far (not capped) */
	unsigned n_events;              /* EVENT NOTIFYs received so far */
	struct cf_sc {
		uint8_t method;
		uint16_t reason;
		uint32_t delay;             /* SC_DELAY, 0 absent */
		unsigned answer;            /* our error code, 0 success */
		unsigned link;              /* links at the time */
	} sc[CF_SEEN];
	struct cf_status {
		struct iqp_load load;
		long long rx_ms;            /* our monotonic clock */
		bool has_ts;
		uint64_t ts;                /* TIMESTAMP */
		uint32_t mark;              /* x->mark at the time */
	} status[CF_SEEN];
	uint32_t mark;                  /* a counter a case may bump */
	char agw_bad[256];              /* the first such frame that was invalid */
};

/* Link states of the AGW as the suite (controller) sees them (7.1.2). */
enum { CF_IN_SERVICE, CF_DRAINING, CF_OUT_OF_SERVICE };

typedef enum cf_result cf_case_h(struct cf_ctx *x, char *why, size_t len);

struct cf_case {
	const char *clause;             /* "7.5 item 1" */
	const char *title;
	enum cf_target target;
	bool slow;                      /* waits for a 10 s timer */
	cf_case_h *run;
};

extern const struct cf_case cf_controller_cases[];
extern const size_t cf_n_controller_cases;
extern const struct cf_case cf_agw_cases[];
extern const size_t cf_n_agw_cases;

/* Next txid of ours (never 0). */
uint32_t cf_txid(struct cf_ctx *x);

/* A message being built: the iqp_msg and its arena. */
struct cf_msg {
	struct iqp_msg m;
	uint8_t arena[16384];
};
/* Starts a message of kind/code with a new txid (REQUEST, NOTIFY) or the
 * given one (answers; 0 for CLOSE). */
void cf_msg_start(struct cf_ctx *x, struct cf_msg *b, unsigned kind, unsigned code,
		  uint32_t txid);

/* Builds and sends a 16-byte header with the given fields and body_len,
 * followed by `body` (may be shorter than body_len, or NULL). */
int cf_send_header(struct cf_conn *c, uint8_t version, uint8_t kind, uint16_t flags,
		   uint16_t code, uint32_t txid, uint32_t body_len, const void *body,
		   size_t body_have);

/* Waits for the answer to txid/code, skipping HEARTBEAT requests from the
 * peer (which it answers) and PENDINGs.  Returns 0 with *f, or an errno
 * with why. */
int cf_expect_answer(struct cf_ctx *x, struct cf_conn *c, uint32_t txid, unsigned kind,
		     unsigned code, struct cf_frame *f, char *why, size_t len);

/* Sends the REQUEST or NOTIFY built in b and waits for its REPLY or ACK. */
int cf_request(struct cf_ctx *x, struct cf_conn *c, struct cf_msg *b, struct cf_frame *f,
	       char *why, size_t len);

/* Waits for CLOSE from the peer (answering its HEARTBEATs); true with the
 * code in *code when one came; false (why) if the connection ended or the
 * time ran out without one. */
bool cf_expect_close(struct cf_ctx *x, struct cf_conn *c, int timeout_ms, unsigned *code,
		     char *why, size_t len);

/* Controller under test: connects and registers as x->self.  Returns 0
 * with the reply in *reply if not NULL (cf_frame_free it), or an errno
 * with why. */
int cf_agw_connect(struct cf_ctx *x, struct cf_conn *c, char *why, size_t len);
int cf_agw_register(struct cf_ctx *x, struct cf_conn *c, const struct iqp_node_info *me,
		    struct cf_frame *reply, char *why, size_t len);

/* AGW under test: waits up to timeout_ms, answering what the AGW sends
 * (HEARTBEAT, NOTIFY, SERVICE_CHANGE), until done(x, arg) holds (checked
 * first, then after each frame).  Returns true when it did; false on
 * timeout, or with why when the AGW sent anything else or the link
 * ended. */
bool cf_agw_wait(struct cf_ctx *x, int timeout_ms, bool (*done)(const struct cf_ctx *x, void *arg),
		 void *arg, char *why, size_t len);
/* Monotonic milliseconds. */
long long cf_now_ms(void);

/* AGW under test: makes sure x->link is a registered connection (accepts
 * and answers the AGW's REGISTER when needed). */
int cf_controller_link(struct cf_ctx *x, char *why, size_t len);
/* AGW under test, in pieces: accepts a connection on listener lfd into c
 * and reads its REGISTER (validated, into *agw; its txid); then answers
 * it with success (c == &x->link: the suite's link from now on).  Return
 * 0 or an errno with why (c closed). */
int cf_controller_accept(struct cf_ctx *x, int lfd, int timeout_ms, struct cf_conn *c,
			 uint32_t *txid, struct iqp_node_info *agw, char *why, size_t len);
int cf_controller_accept_reply(struct cf_ctx *x, struct cf_conn *c, uint32_t txid, char *why,
			       size_t len);
/* After a case that closed the link on purpose. */
void cf_controller_unlink(struct cf_ctx *x);

/* Adds an ERROR-free unknown element (code 0x3F00 + n, not registered) with
 * M set or clear under parent. */
int cf_add_unknown(struct cf_msg *b, struct iqp_elem *parent, bool mandatory);

#endif
