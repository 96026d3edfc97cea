/* HTTP/1.x request head parser (RFC 9112 section 3), strict and bounded. */
#include "http_request.h"

#include <string.h>

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *find_head_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' &&
		    buf[i] == '\n')
			return buf + i + 1;
	return NULL;
}

int http_request_parse(const char *buf, size_t len, size_t max_head,
		       struct http_request *req)
{
	const char *end = find_head_end(buf, len < max_head ? len : max_head);
	const char *p = buf, *line_end;
	size_t n;

	memset(req, 0, sizeof(*req));
	if (!end) {
		/* A bare LF or NUL is never valid; say so early. */
		for (size_t i = 0; i < len && i < max_head; i++)
			if (buf[i] == '\0' || (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')))
				return 400;
		return len >= max_head ? 431 : -1;
	}
	req->head_len = (size_t)(end - buf);

	/* Request line: method SP target SP HTTP/1.x CRLF */
	line_end = memchr(p, '\r', (size_t)(end - p));
	for (n = 0; p + n < line_end && is_tchar((unsigned char)p[n]); n++)
		;
	if (n == 0 || p[n] != ' ')
		return 400;
	if (n >= HTTP_METHOD_MAX)
		return 400;
	memcpy(req->method, p, n);
	p += n + 1;

	const char *sp = memchr(p, ' ', (size_t)(line_end - p));
	if (!sp || *p != '/')
		return 400;
	for (const char *q = p; q < sp; q++)
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f)
			return 400;
	const char *query = memchr(p, '?', (size_t)(sp - p));
	n = (size_t)((query ? query : sp) - p);
	if (n >= HTTP_PATH_MAX)
		return 414;
	memcpy(req->path, p, n);
	p = sp + 1;

	if ((size_t)(line_end - p) != 8 || memcmp(p, "HTTP/1.", 7))
		return (size_t)(line_end - p) >= 5 && !memcmp(p, "HTTP/", 5) ? 505 : 400;
	if (p[7] != '0' && p[7] != '1')
		return 505;
	req->minor = p[7] - '0';
	p = line_end + 2;

	/* Header fields: name ":" OWS value CRLF; only their form is checked. */
	while (p < end - 2) {
		line_end = memchr(p, '\r', (size_t)(end - p));
		if (!line_end || line_end[1] != '\n')
			return 400;
		for (n = 0; p + n < line_end && is_tchar((unsigned char)p[n]); n++)
			;
		if (n == 0 || p[n] != ':')
			return 400;
		for (const char *q = p + n + 1; q < line_end; q++)
			if ((unsigned char)*q < ' ' && *q != '\t')
				return 400;
		p = line_end + 2;
	}
	return 0;
}
