/* Minimal HTTP/1.x request-head parser for the management endpoints
 * (/metrics, /healthz).  Pure: buffer in, structure out. */
#ifndef COMMON_HTTP_REQUEST_H
#define COMMON_HTTP_REQUEST_H

#include <stddef.h>

#define HTTP_METHOD_MAX 16
#define HTTP_PATH_MAX 256

struct http_request {
	char method[HTTP_METHOD_MAX];
	char path[HTTP_PATH_MAX]; /* without the query string */
	int minor;                /* HTTP/1.<minor> */
	size_t head_len;          /* bytes up to and including the blank line */
};

/* Returns 0 when a complete head was parsed, -1 when more bytes are
 * needed, or the HTTP status to answer with: 400 malformed, 414 target
 * too long, 431 head larger than max_head, 505 not HTTP/1.x. */
int http_request_parse(const char *buf, size_t len, size_t max_head,
		       struct http_request *req);

#endif
