/* SIP messages through sofia-sip's parser and printer (never its
 * transaction stack): parse and validate one message received on a
 * message-oriented or datagram transport, build responses, print. */
#ifndef EPCSCF_SIP_MSG_H
#define EPCSCF_SIP_MSG_H

#include <stddef.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#define SIP_REASON_MAX 128

/* Why a message was refused.  status is the response to send (400, 416,
 * 505, 513...) or 0 when no response can be built (the message is dropped
 * and the reason logged). */
struct sip_msg_error {
	int status;
	char reason[SIP_REASON_MAX];
};

/* Parses buf (one whole message).  On success *out is a new msg_t that the
 * caller owns (msg_destroy); for a message with a bad header the proxy does
 * not need, e->reason names it (status 0) and the message is still usable.  On failure returns EBADMSG, fills e and, when
 * e->status != 0, still sets *out so that a response can be built from it
 * (the caller destroys it). */
int sip_msg_parse(const char *buf, size_t len, msg_t **out,
		  struct sip_msg_error *e);

/* Builds a response to request `req` (Via, From, To, Call-ID, CSeq copied;
 * a To tag added for non-100 responses when missing).  Returns a new
 * msg_t owned by the caller, or NULL on ENOMEM. */
msg_t *sip_msg_response(msg_t *req, int status, const char *phrase,
			const char *to_tag);

/* Serializes msg; *text points into msg's memory (valid until the message
 * is destroyed or changed).  Returns 0 or ENOMEM/EINVAL. */
int sip_msg_print(msg_t *msg, char **text, size_t *len);

#endif
