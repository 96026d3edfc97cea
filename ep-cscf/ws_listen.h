/* A listening TCP socket that hands its connections over only while its
 * owner has room for them: accept4() in a loop while room() says so, and
 * no polling of the socket otherwise (the kernel's backlog holds the
 * rest until ws_listen_resume()).  The WebSocket server uses it to bound
 * the TLS + upgrade handshakes in flight: libwebsockets accepts all it
 * can at once and keeps each handshake's timeout in one sorted list,
 * O(handshakes) per insertion, so 10,000 connects at once made set-up
 * quadratic and cut handshakes at their timeout. */
#ifndef EPCSCF_WS_LISTEN_H
#define EPCSCF_WS_LISTEN_H

#include <sys/socket.h>
#include <uv.h>

#include "conf.h"

struct ws_listen;

/* Takes fd (accepted, non-blocking, close-on-exec) from peer. */
typedef void (ws_listen_accept_h)(void *arg, struct ws_listen *l, int fd,
				  const struct sockaddr *peer);
/* Whether the owner takes one more connection now. */
typedef int (ws_listen_room_h)(void *arg);

struct ws_listen {
	int fd;                 /* owned; -1 when closed */
	uv_poll_t poll;         /* on fd while not paused */
	uv_timer_t retry;       /* after EMFILE and the like */
	int polling, handles;   /* handles: initialized libuv handles */
	ws_listen_accept_h *accept;
	ws_listen_room_h *room;
	void *arg;
};

/* Binds and listens on a (backlog connections waiting in the kernel) and
 * starts accepting.  Returns 0, or an errno value with err set. */
int ws_listen_open(struct ws_listen *l, uv_loop_t *loop, const struct conf_addr *a,
		   int backlog, ws_listen_accept_h *accept, ws_listen_room_h *room,
		   void *arg, char *err, size_t errlen);

/* Accepts again (after room() said no); no-op when accepting or closed. */
void ws_listen_resume(struct ws_listen *l);

/* The bound port, or -1. */
int ws_listen_port(const struct ws_listen *l);

/* Stops and closes the socket; its libuv handles close with the loop
 * running (l must outlive that). */
void ws_listen_close(struct ws_listen *l);

#endif
