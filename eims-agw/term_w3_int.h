/* Internals shared by term_w3.c (sockets, ICE, packet path, timers) and
 * term_w3_dtls.c (the DTLS association and its SRTP keys). */
#ifndef AGW_TERM_W3_INT_H
#define AGW_TERM_W3_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "term_w3.h"

static inline socklen_t sa_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static inline bool sa_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

/* n characters of the ice-char set (RFC 8839) from the CSPRNG: 0 or EIO. */
int w3_random_ice(char *out, size_t n);

/* term_w3_dtls.c */
void w3_fail(struct media_term *t);                 /* -> FAILED */
void w3_dtls_failed(struct media_term *t, unsigned code, const char *why); /* event 6 */
void w3_check_active(struct media_term *t);         /* -> ACTIVE when pair + keys */
void w3_srtp_drop(struct media_term *t);            /* frees both SRTP contexts */
void w3_dtls_progress(struct media_term *t);        /* after input or a timer */
void w3_start_dtls(struct media_term *t, enum dtls_role role, uint64_t now);
void w3_maybe_start_client(struct media_term *t);   /* DTLS_SETUP ACTIVE + pair */
void w3_drop_association(struct media_term *t);

#endif
