/* The media worker's event loop: one epoll set holding the media sockets
 * (udp_batch.h) and, as one more member, libuv's own epoll fd.
 *
 * Why not libuv alone: with every media socket a uv_poll_t, each wake-up
 * paid a libuv iteration (two clock reads, timer, idle, prepare and check
 * queues) and each ready socket a watcher-table lookup before reaching
 * its record, and epoll_wait always carried libuv's nearest timer as a
 * timeout (an hrtimer armed and cancelled in the kernel per wake-up).
 * Here a datagram goes from epoll_wait's event straight to its socket,
 * the wait has no timeout (libuv's next timer is a timerfd in the set,
 * re-armed only when that deadline moves), and libuv runs one
 * non-blocking pass only when it has something to do: its fd is
 * readable, its timer is due, it has pending or closing work, or a
 * handler started or changed a watcher.
 *
 * Everything stays on one thread: handlers may use libuv freely.  A
 * watcher a media handler starts or changes reaches libuv's epoll set
 * only at libuv's next pass; uv_backend_timeout is 0 while such changes
 * wait (libuv 1.44 and later), so the next wait does not block
 * (test_media_loop checks it). */
#ifndef AGW_MEDIA_LOOP_H
#define AGW_MEDIA_LOOP_H

#include <stdbool.h>
#include <uv.h>

#include "udp_batch.h"

/* Runs until libuv's loop has no active handles and every media socket
 * of io is closed (as uv_run(UV_RUN_DEFAULT) does for a libuv loop).
 * Returns 0, or an errno value when the epoll set or the timerfd fails. */
int media_loop_run(uv_loop_t *loop, struct udp_io *io);

#endif
