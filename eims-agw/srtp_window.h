/* Packet index state of one SRTP or SRTCP stream: the highest index
 * accepted so far and the replay window behind it (RFC 3711 3.3.2), and
 * for SRTP the estimation of the 48-bit index from a 16-bit sequence
 * number (RFC 3711 3.3.1 and Appendix A).  Internal to the SRTP
 * transform (srtp_transform.c).
 *
 * The caller checks a packet's index before authenticating it and
 * accepts it only after the packet authenticated, so a forged packet never
 * moves the state. */
#ifndef AGW_SRTP_WINDOW_H
#define AGW_SRTP_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define SRTP_WINDOW_SIZE 128 /* packets remembered behind the highest */
#define SRTP_INDEX_LIMIT ((uint64_t)1 << 48) /* first index SRTP cannot use */

struct srtp_window {
	uint64_t top;     /* highest accepted index (SRTP: ROC << 16 | s_l) */
	uint64_t seen[2]; /* bit d (word d / 64): index top - d was accepted */
	bool started;     /* false until the first packet is accepted */
};

/* The index of the SRTP packet with sequence number seq, per RFC 3711
 * Appendix A, relative to the highest accepted index (ROC and s_l).
 * Before the first packet the ROC is 0 (no ROC is signalled to us).
 * Where Appendix A would take ROC - 1 with ROC = 0, which no packet can
 * carry, the ROC stays 0 (libsrtp does the same).  A result >=
 * SRTP_INDEX_LIMIT means the ROC would wrap: the key must be renewed. */
uint64_t srtp_window_rtp_index(const struct srtp_window *w, uint16_t seq);

/* 0 if `index` may be accepted; EALREADY if it was accepted before or is
 * more than SRTP_WINDOW_SIZE - 1 behind the highest (a replay, or too old
 * to tell). */
int srtp_window_check(const struct srtp_window *w, uint64_t index);

/* Records `index`, which srtp_window_check allowed. */
void srtp_window_accept(struct srtp_window *w, uint64_t index);

#endif
