/* Content-Length framing of SIP over TCP/TLS. */
#include "sip_stream.h"

#include <string.h>
#include <strings.h>

/* Finds "\r\n\r\n" within the first n bytes; returns the offset after it. */
static size_t head_end(const char *buf, size_t n)
{
	for (size_t i = 3; i < n; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* Content-Length (or compact "l") of the header block; -1 absent, -2 bad. */
static long content_length(const char *h, size_t n)
{
	long found = -1;
	const char *p = h, *end = h + n;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			const char *ne = colon;
			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			size_t nl = (size_t)(ne - p);
			if ((nl == 14 && !strncasecmp(p, "Content-Length", 14)) ||
			    (nl == 1 && (*p == 'l' || *p == 'L'))) {
				const char *v = colon + 1;
				while (v < eol && (*v == ' ' || *v == '\t'))
					v++;
				long val = 0;
				int digits = 0;
				while (v < eol && *v >= '0' && *v <= '9' && digits < 9) {
					val = val * 10 + (*v++ - '0');
					digits++;
				}
				while (v < eol && (*v == ' ' || *v == '\t' || *v == '\r'))
					v++;
				if (!digits || v != eol || (found >= 0 && found != val))
					return -2; /* garbage, too long, or two that differ */
				found = val;
			}
		}
		p = eol + 1;
	}
	return found;
}

enum sip_stream_result sip_stream_frame(const char *buf, size_t len, size_t max,
					size_t *out_len, const char **why)
{
	size_t crlf = 0;

	/* Leading CRLFs are keep-alives (or the tail of one). */
	while (crlf < len && (buf[crlf] == '\r' || buf[crlf] == '\n'))
		crlf++;
	if (crlf) {
		*out_len = crlf;
		return SIP_STREAM_KEEPALIVE;
	}
	size_t scan = len < max ? len : max;
	size_t hl = head_end(buf, scan);
	if (!hl) {
		if (len >= max) {
			*why = "header block larger than the message limit";
			return SIP_STREAM_ERROR;
		}
		return SIP_STREAM_NEED_MORE;
	}
	long cl = content_length(buf, hl);
	if (cl == -1) {
		*why = "no Content-Length on a stream transport";
		return SIP_STREAM_ERROR;
	}
	if (cl < 0) {
		*why = "bad Content-Length";
		return SIP_STREAM_ERROR;
	}
	if (hl + (size_t)cl > max) {
		*why = "message larger than the limit";
		return SIP_STREAM_ERROR;
	}
	if (len < hl + (size_t)cl)
		return SIP_STREAM_NEED_MORE;
	*out_len = hl + (size_t)cl;
	return SIP_STREAM_MESSAGE;
}
