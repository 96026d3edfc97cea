/* Iq+ frame header and stream framer (SPEC.md 3.1-3.6). */
#include "iqp_frame.h"

#include "byte_order.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const actions[] = {
	"none", "close", "reply", "ack", "local", "ignore",
};

const char *iqp_action_name(unsigned action)
{
	return action < sizeof(actions) / sizeof(actions[0]) ? actions[action]
							     : "?";
}

int iqp_action_by_name(const char *name)
{
	for (unsigned i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(actions[i], name))
			return (int)i;
	return -1;
}

void iqp_error_set(struct iqp_error *err, unsigned code, unsigned action,
		   const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	err->code = (uint16_t)code;
	err->action = (uint8_t)action;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
}

void iqp_header_encode(const struct iqp_header *h, uint8_t out[IQP_HEADER_LEN])
{
	out[0] = IQP_MAGIC0;
	out[1] = IQP_MAGIC1;
	out[2] = h->version;
	out[3] = h->kind;
	be16_put(out + 4, h->flags);
	be16_put(out + 6, h->code);
	be32_put(out + 8, h->txid);
	be32_put(out + 12, h->body_len);
}

void iqp_header_decode(const uint8_t in[IQP_HEADER_LEN], struct iqp_header *h)
{
	h->version = in[2];
	h->kind = in[3];
	h->flags = be16_get(in + 4);
	h->code = be16_get(in + 6);
	h->txid = be32_get(in + 8);
	h->body_len = be32_get(in + 12);
}

int iqp_header_check_code(const struct iqp_header *h, unsigned sender,
			  struct iqp_error *err)
{
	const struct iqp_msg_def *d;
	unsigned act;

	if (sender != IQP_ROLE_AGW && sender != IQP_ROLE_CONTROLLER) {
		iqp_error_set(err, IQP_ERR_PROTOCOL, IQP_ACT_CLOSE, "bad role");
		return EINVAL;
	}
	if (h->kind == IQP_KIND_CLOSE)
		return 0; /* the code of a CLOSE is not examined */
	d = iqp_msg_def_find(h->code);
	switch (h->kind) {
	case IQP_KIND_REQUEST:
	case IQP_KIND_NOTIFY:
		act = h->kind == IQP_KIND_REQUEST ? IQP_ACT_REPLY : IQP_ACT_ACK;
		if (!d) {
			iqp_error_set(err, IQP_ERR_UNKNOWN_COMMAND, act,
				      "unknown message code 0x%04x", h->code);
			return EPROTO;
		}
		if (d->kind != h->kind) {
			iqp_error_set(err, IQP_ERR_PROTOCOL, act,
				      "%s is not a %s", d->name,
				      iqp_kind_name(h->kind));
			return EPROTO;
		}
		if (!(d->senders & (1u << sender))) {
			iqp_error_set(err, IQP_ERR_UNAUTHORIZED, act,
				      "%s not permitted from the %s", d->name,
				      sender == IQP_ROLE_AGW ? "AGW" : "controller");
			return EPROTO;
		}
		return 0;
	case IQP_KIND_REPLY:
	case IQP_KIND_PENDING:
	case IQP_KIND_ACK:
		if (d && d->kind != (h->kind == IQP_KIND_ACK ? IQP_KIND_NOTIFY
							     : IQP_KIND_REQUEST)) {
			iqp_error_set(err, IQP_ERR_PROTOCOL, IQP_ACT_CLOSE,
				      "%s answers no %s", iqp_kind_name(h->kind),
				      d->name);
			return EPROTO;
		}
		return 0;
	default:
		iqp_error_set(err, IQP_ERR_BAD_HEADER, IQP_ACT_CLOSE,
			      "invalid kind %u", h->kind);
		return EPROTO;
	}
}

void iqp_framer_init(struct iqp_framer *f)
{
	memset(f, 0, sizeof(*f));
	f->max_frame = IQP_MAX_FRAME_MIN;
	iqp_framer_allow_major(f, IQP_VERSION_MAJOR, true);
}

void iqp_framer_free(struct iqp_framer *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

int iqp_framer_set_max_frame(struct iqp_framer *f, uint32_t max_frame)
{
	if (max_frame < IQP_MAX_FRAME_MIN || max_frame > IQP_MAX_FRAME_MAX)
		return EINVAL;
	f->max_frame = max_frame;
	/* Keep the promise of holding at most one maximum frame. */
	if (f->buf_cap > max_frame - IQP_HEADER_LEN && f->hdr_got < IQP_HEADER_LEN) {
		free(f->buf);
		f->buf = NULL;
		f->buf_cap = 0;
	}
	return 0;
}

void iqp_framer_allow_major(struct iqp_framer *f, uint8_t major, bool on)
{
	if (on)
		f->majors[major / 8] |= (uint8_t)(1u << (major % 8));
	else
		f->majors[major / 8] &= (uint8_t)~(1u << (major % 8));
}

void iqp_framer_lock_major(struct iqp_framer *f, uint8_t major)
{
	memset(f->majors, 0, sizeof(f->majors));
	iqp_framer_allow_major(f, major, true);
}

bool iqp_framer_partial(const struct iqp_framer *f)
{
	return !f->failed && f->hdr_got > 0;
}

uint64_t iqp_framer_frames(const struct iqp_framer *f)
{
	return f->frames;
}

static int refuse(struct iqp_framer *f, unsigned code, const char *why)
{
	f->failed = true;
	iqp_error_set(&f->err, code, IQP_ACT_CLOSE, "%s", why);
	return EPROTO;
}

/* 3.5 checks 1-5 on the header bytes received so far: each check runs as
 * soon as the bytes it examines are present, always in the order of the
 * table, so the first failing check is the same whatever the chunking. */
static int check_header(struct iqp_framer *f)
{
	const uint8_t *h = f->hdr;
	size_t n = f->hdr_got;

	if (n >= 1 && h[0] != IQP_MAGIC0)
		return refuse(f, IQP_ERR_BAD_MAGIC, "bad magic");
	if (n >= 2 && h[1] != IQP_MAGIC1)
		return refuse(f, IQP_ERR_BAD_MAGIC, "bad magic");
	if (n >= 3 && !(f->majors[h[2] / 8] & (1u << (h[2] % 8))))
		return refuse(f, IQP_ERR_VERSION, "version not supported");
	if (n >= 4 && (h[3] < IQP_KIND_REQUEST || h[3] > IQP_KIND_CLOSE))
		return refuse(f, IQP_ERR_BAD_HEADER, "invalid kind");
	if (n < IQP_HEADER_LEN)
		return 0;
	iqp_header_decode(h, &f->h);
	if ((uint64_t)IQP_HEADER_LEN + f->h.body_len > f->max_frame)
		return refuse(f, IQP_ERR_FRAME_TOO_LARGE, "frame too large");
	if ((f->h.txid == 0) != (f->h.kind == IQP_KIND_CLOSE))
		return refuse(f, IQP_ERR_BAD_HEADER, "invalid transaction id");
	return 0;
}

static void deliver(struct iqp_framer *f, const uint8_t *body,
		    struct iqp_frame *out)
{
	out->ready = true;
	out->hdr = f->h;
	out->body = f->h.body_len ? body : NULL;
	f->hdr_got = 0;
	f->body_got = 0;
	f->frames++;
}

int iqp_framer_feed(struct iqp_framer *f, const uint8_t *data, size_t len,
		    size_t *used, struct iqp_frame *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	*used = 0;
	if (f->failed)
		return EPROTO;
	while (pos < len) {
		if (f->hdr_got < IQP_HEADER_LEN) {
			size_t take = IQP_HEADER_LEN - f->hdr_got;
			if (take > len - pos)
				take = len - pos;
			memcpy(f->hdr + f->hdr_got, data + pos, take);
			f->hdr_got += take;
			pos += take;
			*used = pos;
			int rc = check_header(f);
			if (rc)
				return rc;
			if (f->hdr_got == IQP_HEADER_LEN && f->h.body_len == 0) {
				deliver(f, NULL, out);
				return 0;
			}
			continue;
		}
		size_t want = f->h.body_len - f->body_got;
		if (f->body_got == 0 && len - pos >= want) {
			/* The whole body is in data: no copy. */
			*used = pos + want;
			deliver(f, data + pos, out);
			return 0;
		}
		if (f->buf_cap < f->h.body_len) {
			uint8_t *nb = realloc(f->buf, f->h.body_len);
			if (!nb)
				return ENOMEM;
			f->buf = nb;
			f->buf_cap = f->h.body_len;
		}
		size_t take = want < len - pos ? want : len - pos;
		memcpy(f->buf + f->body_got, data + pos, take);
		f->body_got += take;
		pos += take;
		*used = pos;
		if (f->body_got == f->h.body_len) {
			deliver(f, f->buf, out);
			return 0;
		}
	}
	return 0;
}
