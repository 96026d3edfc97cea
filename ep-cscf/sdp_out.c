/* SDP builder on sofia-sip's session structures and printer (sdp_out.h). */
#include "sdp_out.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "sdp_model.h"

struct sdp_out {
	su_home_t home[1];          /* first: su_home_new's object */
	sdp_session_t s;
	sdp_origin_t o;
	sdp_time_t t;
	sdp_media_t **mtail;
	sdp_attribute_t **atail;    /* session attributes */
	int err;
};

struct sdp_out_media {
	sdp_media_t m;              /* first: the sofia media */
	sdp_list_t **ftail;
	sdp_rtpmap_t **rtail;
	sdp_attribute_t **atail;
};

static sdp_connection_t *conn_new(struct sdp_out *o,
				  const struct iqp_ip *addr)
{
	sdp_connection_t *c = su_zalloc(o->home, sizeof(*c));
	char text[64];
	const char *a;

	if (!c) {
		o->err = ENOMEM;
		return NULL;
	}
	c->c_size = sizeof(*c);
	c->c_nettype = sdp_net_in;
	if (addr) {
		sdpm_ip_text(addr, text, sizeof(text));
		a = text + 4; /* after "IP4 " */
		c->c_addrtype = addr->family == 6 ? sdp_addr_ip6 : sdp_addr_ip4;
	} else {
		a = "127.0.0.1";
		c->c_addrtype = sdp_addr_ip4;
	}
	c->c_address = su_strdup(o->home, a);
	if (!c->c_address)
		o->err = ENOMEM;
	return c;
}

struct sdp_out *sdp_out_new(uint64_t id, uint64_t version,
			    const struct iqp_ip *addr, const char *name)
{
	struct sdp_out *o = su_home_new(sizeof(*o));

	if (!o)
		return NULL;
	o->s.sdp_size = sizeof(o->s);
	o->o.o_size = sizeof(o->o);
	o->o.o_username = "-";
	o->o.o_id = id;
	o->o.o_version = version;
	o->o.o_address = conn_new(o, addr);
	o->t.t_size = sizeof(o->t);
	o->s.sdp_origin = &o->o;
	o->s.sdp_subject = su_strdup(o->home, name && *name ? name : "-");
	o->s.sdp_time = &o->t;
	o->mtail = &o->s.sdp_media;
	o->atail = &o->s.sdp_attributes;
	if (!o->s.sdp_subject)
		o->err = ENOMEM;
	return o;
}

void sdp_out_free(struct sdp_out *o)
{
	if (o)
		su_home_unref(o->home);
}

void sdp_out_conn(struct sdp_out *o, const struct iqp_ip *addr)
{
	o->s.sdp_connection = conn_new(o, addr);
}

static void attr_add(struct sdp_out *o, sdp_attribute_t ***tail,
		     const char *name, const char *fmt, va_list ap)
{
	sdp_attribute_t *a = su_zalloc(o->home, sizeof(*a));

	if (!a) {
		o->err = ENOMEM;
		return;
	}
	a->a_size = sizeof(*a);
	a->a_name = name;
	if (fmt && !(a->a_value = su_vsprintf(o->home, fmt, ap))) {
		o->err = ENOMEM;
		return;
	}
	**tail = a;
	*tail = &a->a_next;
}

void sdp_out_attr(struct sdp_out *o, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	attr_add(o, &o->atail, name, fmt, ap);
	va_end(ap);
}

struct sdp_out_media *sdp_out_media(struct sdp_out *o, const char *media,
				    unsigned port, const char *proto)
{
	struct sdp_out_media *m = su_zalloc(o->home, sizeof(*m));

	if (!m) {
		o->err = ENOMEM;
		return NULL;
	}
	m->m.m_size = sizeof(m->m);
	m->m.m_session = &o->s;
	/* Unknown type and proto: sofia prints the names as given. */
	m->m.m_type = sdp_media_x;
	m->m.m_type_name = su_strdup(o->home, media);
	m->m.m_proto = sdp_proto_x;
	m->m.m_proto_name = su_strdup(o->home, proto);
	m->m.m_port = port;
	m->m.m_rejected = port == 0;
	m->ftail = &m->m.m_format;
	m->rtail = &m->m.m_rtpmaps;
	m->atail = &m->m.m_attributes;
	if (!m->m.m_type_name || !m->m.m_proto_name)
		o->err = ENOMEM;
	*o->mtail = &m->m;
	o->mtail = &m->m.m_next;
	return m;
}

void sdp_out_media_conn(struct sdp_out *o, struct sdp_out_media *m,
			const struct iqp_ip *addr)
{
	if (m)
		m->m.m_connections = conn_new(o, addr);
}

void sdp_out_fmt(struct sdp_out *o, struct sdp_out_media *m, const char *fmt)
{
	sdp_list_t *l;

	if (!m)
		return;
	if (!(l = su_zalloc(o->home, sizeof(*l))) ||
	    !(l->l_text = su_strdup(o->home, fmt))) {
		o->err = ENOMEM;
		return;
	}
	l->l_size = sizeof(*l);
	*m->ftail = l;
	m->ftail = &l->l_next;
}

void sdp_out_codec(struct sdp_out *o, struct sdp_out_media *m, unsigned pt,
		   const char *name, unsigned long rate, unsigned channels,
		   const char *fmtp)
{
	sdp_rtpmap_t *r;

	if (!m)
		return;
	if (!(r = su_zalloc(o->home, sizeof(*r)))) {
		o->err = ENOMEM;
		return;
	}
	r->rm_size = sizeof(*r);
	r->rm_pt = pt & 127;
	r->rm_encoding = su_strdup(o->home, name);
	r->rm_rate = rate;
	if (channels > 1)
		r->rm_params = su_sprintf(o->home, "%u", channels);
	if (fmtp)
		r->rm_fmtp = su_strdup(o->home, fmtp);
	if (!r->rm_encoding || (channels > 1 && !r->rm_params) ||
	    (fmtp && !r->rm_fmtp))
		o->err = ENOMEM;
	*m->rtail = r;
	m->rtail = &r->rm_next;
}

void sdp_out_media_attr(struct sdp_out *o, struct sdp_out_media *m,
			const char *name, const char *fmt, ...)
{
	va_list ap;

	if (!m)
		return;
	va_start(ap, fmt);
	attr_add(o, &m->atail, name, fmt, ap);
	va_end(ap);
}

int sdp_out_print(struct sdp_out *o, char *out, size_t cap, size_t *len)
{
	sdp_printer_t *p;
	const char *msg;
	size_t n;
	int e = 0;

	if (o->err)
		return o->err;
	p = sdp_print(o->home, &o->s, NULL, 0, sdp_f_mode_manual);
	if (!p)
		return ENOMEM;
	msg = sdp_message(p);
	if (!msg || sdp_printing_error(p)) {
		e = EINVAL;
	} else if ((n = strlen(msg)) + 1 > cap) {
		e = ENOSPC;
	} else {
		memcpy(out, msg, n + 1);
		*len = n;
	}
	sdp_printer_free(p);
	return e;
}
