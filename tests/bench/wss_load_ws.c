/* The load client's WebSocket over TLS (RFC 6455 client side): the
 * upgrade with the "sip" subprotocol (RFC 7118), masked frames out, frames
 * in; one frame in flight per connection. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "wss_load.h"

static void b64(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Pushes c->out through TLS; 0 when written or pending, -1 on error. */
int flush_out(struct client *cl, struct conn *c)
{
	if (!c->out_len)
		return 0;
	int n = SSL_write(c->ssl, c->out, (int)c->out_len);
	if (n > 0) {
		c->out_len = 0;
		c->want_write = 0;
		return 0;
	}
	int e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
		c->want_write = e == SSL_ERROR_WANT_WRITE;
		return 0;
	}
	(void)cl;
	return -1;
}

/* Queues one masked WebSocket frame (opcode op) and tries to send it:
 * 0 sent or pending, 1 busy (a frame is still pending), -1 error. */
int ws_send(struct client *cl, struct conn *c, int op, const char *p, size_t n)
{
	unsigned char *o = (unsigned char *)c->out;
	size_t h = 2;

	if (n + 14 > OUT_CAP)
		return -1;
	if (c->out_len)
		return 1; /* one frame at a time per connection: busy */
	o[0] = (unsigned char)(0x80 | op);
	if (n < 126) {
		o[1] = (unsigned char)(0x80 | n);
	} else {
		o[1] = 0x80 | 126;
		o[2] = (unsigned char)(n >> 8);
		o[3] = (unsigned char)n;
		h = 4;
	}
	uint64_t r = rnd(cl);
	unsigned char mask[4] = { (unsigned char)r, (unsigned char)(r >> 8),
				  (unsigned char)(r >> 16), (unsigned char)(r >> 24) };
	memcpy(o + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		o[h + i] = (unsigned char)p[i] ^ mask[i & 3];
	c->out_len = h + n;
	return flush_out(cl, c);
}

/* Parses the frames in c->in; -1 when the connection must go. */
int on_frames(struct client *cl, struct conn *c)
{
	size_t off = 0;
	while (c->in_len - off >= 2) {
		unsigned char *p = c->in + off;
		int op = p[0] & 0x0f;
		uint64_t n = p[1] & 0x7f;
		size_t h = 2;
		if (p[1] & 0x80)
			return -1; /* servers never mask */
		if (n == 126) {
			if (c->in_len - off < 4)
				break;
			n = (uint64_t)p[2] << 8 | p[3];
			h = 4;
		} else if (n == 127) {
			if (c->in_len - off < 10)
				break;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | p[2 + i];
			h = 10;
		}
		if (n + h + 1 > IN_CAP)
			return -1;
		if (c->in_len - off < h + n)
			break;
		char *pl = (char *)p + h;
		if (op == 1 || op == 2) {
			char save = pl[n];
			on_sip(cl, c, pl, (size_t)n);
			if (c->st == C_DEAD)
				return 0;
			pl[n] = save;
		} else if (op == 9) {
			if (ws_send(cl, c, 10, pl, (size_t)n) < 0)
				return -1; /* busy: this pong is skipped */
		} else if (op == 8) {
			return -1;
		}
		off += h + n;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

int tls_read(struct conn *c)
{
	for (;;) {
		if (c->in_len >= IN_CAP - 1)
			return -1;
		int n = SSL_read(c->ssl, c->in + c->in_len, (int)(IN_CAP - 1 - c->in_len));
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		int e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return 0;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = 1;
			return 0;
		}
		return -1;
	}
}

void send_upgrade(struct client *cl, struct conn *c)
{
	unsigned char k[16];
	uint64_t a = rnd(cl), b = rnd(cl);
	memcpy(k, &a, 8);
	memcpy(k + 8, &b, 8);
	b64(k, 16, c->key);
	int n = snprintf(c->out, sizeof(c->out),
			 "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
			 "Sec-WebSocket-Protocol: sip\r\nOrigin: %s\r\n"
			 "User-Agent: bench-wss-load\r\n\r\n",
			 cl->o.host, cl->o.port, c->key, cl->o.origin);
	c->out_len = (size_t)n;
}

int check_upgrade(struct conn *c)
{
	char want[64], got[128], proto[64];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0;
	char *end = strstr((char *)c->in, "\r\n\r\n");

	if (strncmp((char *)c->in, "HTTP/1.1 101", 12))
		return -1;
	*end = '\0';
	snprintf(got, sizeof(got), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", c->key);
	EVP_Digest(got, strlen(got), md, &mdn, EVP_sha1(), NULL);
	b64(md, mdn, want);
	if (header_value((char *)c->in, "Sec-WebSocket-Accept", got, sizeof(got)) || strcmp(got, want) ||
	    header_value((char *)c->in, "Sec-WebSocket-Protocol", proto, sizeof(proto)) ||
	    strcmp(proto, "sip"))
		return -1;
	size_t used = (size_t)(end + 4 - (char *)c->in);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	return 0;
}
