/* SIP message framing on a byte stream (RFC 3261 section 18.3): a message
 * ends Content-Length bytes after the blank line that ends its headers.
 * Pure: buffer in, message length out. */
#ifndef EPCSCF_SIP_STREAM_H
#define EPCSCF_SIP_STREAM_H

#include <stddef.h>

enum sip_stream_result {
	SIP_STREAM_MESSAGE,   /* *out_len bytes form one message */
	SIP_STREAM_KEEPALIVE, /* *out_len bytes of CRLF keep-alive (RFC 5626 4.4.1) */
	SIP_STREAM_NEED_MORE, /* not complete yet */
	SIP_STREAM_ERROR,     /* unframeable: the connection must be closed */
};

/* Examines the start of buf.  On SIP_STREAM_ERROR, why names the reason.
 * max bounds one message (headers and body). */
enum sip_stream_result sip_stream_frame(const char *buf, size_t len, size_t max,
					size_t *out_len, const char **why);

#endif
