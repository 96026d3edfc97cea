/* REGISTER content: build and parse (SPEC.md 7.2, 11.2). */
#include "iqp_link_reg.h"

#include <stdio.h>
#include <string.h>

int iqp_link_reg_add_load(struct iqp_msg *m, struct iqp_elem *parent,
			  const struct iqp_load *l)
{
	struct iqp_elem *e;

	iqp_add_container(m, parent, IQP_E_LOAD, &e);
	if (l->has & IQP_LOAD_ACTIVE)
		iqp_add_u32(m, e, IQP_E_ACTIVE_CONTEXTS, l->active_contexts);
	if (l->has & IQP_LOAD_FREE_PORTS)
		iqp_add_u32(m, e, IQP_E_FREE_PORTS, l->free_ports);
	if (l->has & IQP_LOAD_CPU)
		iqp_add_u8(m, e, IQP_E_CPU_LOAD, l->cpu_load);
	if (l->has & IQP_LOAD_TRANSCODE)
		iqp_add_u32(m, e, IQP_E_ACTIVE_TRANSCODE, l->active_transcode);
	if (l->has & IQP_LOAD_LEVEL)
		iqp_add_enum(m, e, IQP_E_OVERLOAD_LEVEL, l->overload_level);
	if (l->has & IQP_LOAD_ADMIT)
		iqp_add_u8(m, e, IQP_E_ADMIT_PERCENT, l->admit_percent);
	return m->err;
}

static bool get32(const struct iqp_msg *m, const struct iqp_elem *p,
		  uint16_t code, uint32_t *out)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	return e && !iqp_elem_u32(e, out);
}

static bool get8(const struct iqp_msg *m, const struct iqp_elem *p,
		 uint16_t code, uint8_t *out)
{
	const struct iqp_elem *e = iqp_find(m, p, code);
	return e && !iqp_elem_u8(e, out);
}

void iqp_link_reg_load(const struct iqp_msg *m, const struct iqp_elem *e,
		       struct iqp_load *l)
{
	memset(l, 0, sizeof(*l));
	if (get32(m, e, IQP_E_ACTIVE_CONTEXTS, &l->active_contexts))
		l->has |= IQP_LOAD_ACTIVE;
	if (get32(m, e, IQP_E_FREE_PORTS, &l->free_ports))
		l->has |= IQP_LOAD_FREE_PORTS;
	if (get8(m, e, IQP_E_CPU_LOAD, &l->cpu_load))
		l->has |= IQP_LOAD_CPU;
	if (get32(m, e, IQP_E_ACTIVE_TRANSCODE, &l->active_transcode))
		l->has |= IQP_LOAD_TRANSCODE;
	if (get8(m, e, IQP_E_OVERLOAD_LEVEL, &l->overload_level))
		l->has |= IQP_LOAD_LEVEL;
	if (get8(m, e, IQP_E_ADMIT_PERCENT, &l->admit_percent))
		l->has |= IQP_LOAD_ADMIT;
}

static void add_params(struct iqp_msg *m, const struct iqp_link_params *p)
{
	struct iqp_elem *lp;

	iqp_add_container(m, NULL, IQP_E_LINK_PARAMS, &lp);
	if (p->hb_interval)
		iqp_add_u32(m, lp, IQP_E_HB_INTERVAL, p->hb_interval);
	if (p->max_frame)
		iqp_add_u32(m, lp, IQP_E_MAX_FRAME, p->max_frame);
	if (p->max_outstanding)
		iqp_add_u32(m, lp, IQP_E_MAX_OUTSTANDING, p->max_outstanding);
	if (p->cache_ttl)
		iqp_add_u32(m, lp, IQP_E_CACHE_TTL, p->cache_ttl);
}

static void read_params(const struct iqp_msg *m, struct iqp_link_params *p)
{
	const struct iqp_elem *lp = iqp_find(m, NULL, IQP_E_LINK_PARAMS);

	memset(p, 0, sizeof(*p));
	if (!lp)
		return;
	get32(m, lp, IQP_E_HB_INTERVAL, &p->hb_interval);
	get32(m, lp, IQP_E_MAX_FRAME, &p->max_frame);
	get32(m, lp, IQP_E_MAX_OUTSTANDING, &p->max_outstanding);
	get32(m, lp, IQP_E_CACHE_TTL, &p->cache_ttl);
}

static void read_identity(const struct iqp_msg *m, struct iqp_node_info *o)
{
	const struct iqp_elem *e;

	if ((e = iqp_find(m, NULL, IQP_E_NODE_ID)))
		iqp_elem_strcpy(e, o->node_id, sizeof(o->node_id));
	if ((e = iqp_find(m, NULL, IQP_E_EPOCH)))
		iqp_elem_u64(e, &o->epoch);
	if ((e = iqp_find(m, NULL, IQP_E_SOFTWARE)) &&
	    iqp_elem_strcpy(e, o->software, sizeof(o->software)))
		o->software[0] = '\0';
	o->n_versions = (uint8_t)iqp_link_reg_versions(m, o->versions, IQP_MAX_VERSIONS);
	read_params(m, &o->params);
}

int iqp_link_reg_build_request(struct iqp_msg *m, const struct iqp_node_info *s)
{
	struct iqp_elem *e;

	iqp_add_str(m, NULL, IQP_E_NODE_ID, s->node_id);
	iqp_add_u64(m, NULL, IQP_E_EPOCH, s->epoch);
	for (size_t i = 0; i < s->n_versions; i++)
		iqp_add_u16(m, NULL, IQP_E_VERSION, s->versions[i]);
	iqp_add_enum(m, NULL, IQP_E_SC_METHOD, s->sc_method);
	iqp_add_u16(m, NULL, IQP_E_SC_REASON, s->sc_reason);
	add_params(m, &s->params);
	if (s->software[0])
		iqp_add_str(m, NULL, IQP_E_SOFTWARE, s->software);
	iqp_add_container(m, NULL, IQP_E_CAPACITY, &e);
	iqp_add_u32(m, e, IQP_E_MAX_CONTEXTS, s->max_contexts);
	if (s->max_ports)
		iqp_add_u32(m, e, IQP_E_MAX_PORTS, s->max_ports);
	if (s->max_transcode)
		iqp_add_u32(m, e, IQP_E_MAX_TRANSCODE, s->max_transcode);
	if (s->has_load)
		iqp_link_reg_add_load(m, NULL, &s->load);
	for (size_t i = 0; i < s->n_realms; i++) {
		const struct iqp_realm *r = &s->realms[i];
		iqp_add_container(m, NULL, IQP_E_REALM, &e);
		iqp_add_str(m, e, IQP_E_REALM_NAME, r->name);
		iqp_add_enum(m, e, IQP_E_REALM_SIDE, r->side);
		for (size_t k = 0; k < r->n_addr; k++)
			iqp_add_ip(m, e, IQP_E_REALM_ADDR, &r->addr[k]);
	}
	iqp_add_container(m, NULL, IQP_E_CAPABILITIES, &e);
	for (uint8_t v = 1; v <= 2; v++)
		if (s->caps.ice_modes & (1u << v))
			iqp_add_enum(m, e, IQP_E_CAP_ICE_MODE, v);
	if (s->caps.ice_tcp)
		iqp_add_bool(m, e, IQP_E_CAP_ICE_TCP, true);
	for (uint8_t v = IQP_SETUP_ACTIVE; v <= IQP_SETUP_PASSIVE; v++)
		if (s->caps.dtls_setups & (1u << v))
			iqp_add_enum(m, e, IQP_E_CAP_DTLS_SETUP, v);
	for (size_t i = 0; i < s->caps.n_srtp; i++)
		iqp_add_u16(m, e, IQP_E_SRTP_PROFILE, s->caps.srtp[i]);
	if (s->caps.bundle)
		iqp_add_bool(m, e, IQP_E_CAP_BUNDLE, true);
	return m->err;
}

void iqp_link_reg_parse_request(const struct iqp_msg *m, struct iqp_node_info *o)
{
	const struct iqp_elem *e, *c;
	uint8_t v;
	bool b;

	memset(o, 0, sizeof(*o));
	read_identity(m, o);
	if ((e = iqp_find(m, NULL, IQP_E_SC_METHOD)))
		iqp_elem_enum(e, &o->sc_method);
	if ((e = iqp_find(m, NULL, IQP_E_SC_REASON)))
		iqp_elem_u16(e, &o->sc_reason);
	if ((e = iqp_find(m, NULL, IQP_E_CAPACITY))) {
		get32(m, e, IQP_E_MAX_CONTEXTS, &o->max_contexts);
		get32(m, e, IQP_E_MAX_PORTS, &o->max_ports);
		get32(m, e, IQP_E_MAX_TRANSCODE, &o->max_transcode);
	}
	if ((e = iqp_find(m, NULL, IQP_E_LOAD))) {
		o->has_load = true;
		iqp_link_reg_load(m, e, &o->load);
	}
	for (e = iqp_find(m, NULL, IQP_E_REALM); e && o->n_realms < IQP_MAX_REALMS;
	     e = iqp_next_same(e)) {
		struct iqp_realm *r = &o->realms[o->n_realms++];
		if ((c = iqp_find(m, e, IQP_E_REALM_NAME)))
			iqp_elem_strcpy(c, r->name, sizeof(r->name));
		if ((c = iqp_find(m, e, IQP_E_REALM_SIDE)))
			iqp_elem_enum(c, &r->side);
		for (c = iqp_find(m, e, IQP_E_REALM_ADDR);
		     c && r->n_addr < IQP_MAX_REALM_ADDRS; c = iqp_next_same(c))
			if (!iqp_elem_ip(c, &r->addr[r->n_addr]))
				r->n_addr++;
	}
	if (!(e = iqp_find(m, NULL, IQP_E_CAPABILITIES)))
		return;
	for (c = iqp_find(m, e, IQP_E_CAP_ICE_MODE); c; c = iqp_next_same(c))
		if (!iqp_elem_enum(c, &v) && v < 8)
			o->caps.ice_modes |= (uint8_t)(1u << v);
	for (c = iqp_find(m, e, IQP_E_CAP_DTLS_SETUP); c; c = iqp_next_same(c))
		if (!iqp_elem_enum(c, &v) && v < 8)
			o->caps.dtls_setups |= (uint8_t)(1u << v);
	if ((c = iqp_find(m, e, IQP_E_CAP_ICE_TCP)) && !iqp_elem_bool(c, &b))
		o->caps.ice_tcp = b;
	if ((c = iqp_find(m, e, IQP_E_CAP_BUNDLE)) && !iqp_elem_bool(c, &b))
		o->caps.bundle = b;
	for (c = iqp_find(m, e, IQP_E_SRTP_PROFILE); c && o->caps.n_srtp < IQP_MAX_SRTP;
	     c = iqp_next_same(c))
		if (!iqp_elem_u16(c, &o->caps.srtp[o->caps.n_srtp]))
			o->caps.n_srtp++;
}

uint16_t iqp_link_reg_select_version(const uint16_t *agw, size_t n_agw,
				     const uint16_t *ours, size_t n_ours)
{
	uint16_t best = 0;

	for (size_t i = 0; i < n_agw; i++)
		for (size_t k = 0; k < n_ours; k++) {
			unsigned major = agw[i] >> 8, a = agw[i] & 0xff,
				 o = ours[k] & 0xff;
			if (major != (unsigned)(ours[k] >> 8))
				continue;
			/* Highest common major, then min of the minors. */
			uint16_t v = (uint16_t)(major << 8 | (a < o ? a : o));
			if (v > best)
				best = v;
		}
	return best;
}

unsigned iqp_link_reg_check_caps(const struct iqp_node_info *a, char *text,
				 size_t len)
{
	bool w3 = false, ims = false, srtp = false;

	for (size_t i = 0; i < a->n_realms; i++) {
		w3 |= a->realms[i].side == 1 || a->realms[i].side == 3;
		ims |= a->realms[i].side == 2 || a->realms[i].side == 3;
	}
	/* 13: the profiles this controller offers to browsers. */
	for (size_t i = 0; i < a->caps.n_srtp; i++)
		srtp |= a->caps.srtp[i] == 0x0001 || a->caps.srtp[i] == 0x0002 ||
			a->caps.srtp[i] == 0x0007 || a->caps.srtp[i] == 0x0008;
	if (!w3 || !ims) {
		snprintf(text, len, "no realm serving the %s side", w3 ? "IMS" : "W3");
		return IQP_ERR_VALUE;
	}
	if (!srtp) {
		snprintf(text, len, "no SRTP profile in common");
		return IQP_ERR_VALUE;
	}
	if (!(a->caps.ice_modes & (1u << 1 | 1u << 2))) {
		snprintf(text, len, "no ICE mode in common");
		return IQP_ERR_VALUE;
	}
	return 0;
}

int iqp_link_reg_build_reply(struct iqp_msg *m, const struct iqp_node_info *s,
			     uint16_t version, const struct iqp_link_params *p)
{
	iqp_add_str(m, NULL, IQP_E_NODE_ID, s->node_id);
	iqp_add_u64(m, NULL, IQP_E_EPOCH, s->epoch);
	iqp_add_u16(m, NULL, IQP_E_VERSION, version);
	add_params(m, p);
	if (s->software[0])
		iqp_add_str(m, NULL, IQP_E_SOFTWARE, s->software);
	return m->err;
}

void iqp_link_reg_parse_reply(const struct iqp_msg *m, struct iqp_node_info *o)
{
	memset(o, 0, sizeof(*o));
	read_identity(m, o);
}

int iqp_link_reg_add_error(struct iqp_msg *m, unsigned code, const char *text,
			   uint32_t retry_after)
{
	struct iqp_elem *e;

	iqp_add_container(m, NULL, IQP_E_ERROR, &e);
	iqp_add_u16(m, e, IQP_E_ERROR_CODE, (uint16_t)code);
	if (text && *text)
		iqp_add_str(m, e, IQP_E_ERROR_TEXT, text);
	iqp_add_enum(m, e, IQP_E_RETRY_SCOPE, (uint8_t)iqp_err_default_scope(code));
	if (retry_after)
		iqp_add_u32(m, e, IQP_E_RETRY_AFTER, retry_after);
	return m->err;
}

void iqp_link_reg_error(const struct iqp_msg *m, unsigned *code, char *text,
			size_t len, uint32_t *retry_after)
{
	const struct iqp_elem *e = iqp_find(m, NULL, IQP_E_ERROR), *c;
	uint16_t v;

	*code = 0;
	*retry_after = 0;
	if (len)
		text[0] = '\0';
	if (!e || !(e->type & IQP_TYPE_C))
		return;
	if ((c = iqp_find(m, e, IQP_E_ERROR_CODE)) && !iqp_elem_u16(c, &v))
		*code = v;
	if ((c = iqp_find(m, e, IQP_E_ERROR_TEXT)) && len &&
	    iqp_elem_strcpy(c, text, len)) {
		const char *s;
		size_t n;
		/* Too long for the buffer: keep its start when it is text. */
		if (!iqp_elem_str(c, &s, &n)) {
			n = n < len - 1 ? n : len - 1;
			memcpy(text, s, n);
			text[n] = '\0';
		} else {
			text[0] = '\0';
		}
	}
	if ((c = iqp_find(m, e, IQP_E_RETRY_AFTER)))
		iqp_elem_u32(c, retry_after);
}

size_t iqp_link_reg_versions(const struct iqp_msg *m, uint16_t *out, size_t max)
{
	size_t n = 0;

	for (const struct iqp_elem *e = iqp_find(m, NULL, IQP_E_VERSION); e && n < max;
	     e = iqp_next_same(e))
		if (!iqp_elem_u16(e, &out[n]))
			n++;
	return n;
}

int iqp_link_reg_add_redirect(struct iqp_msg *m, const struct iqp_redirect *t)
{
	struct iqp_elem *e;

	iqp_add_container(m, NULL, IQP_E_REDIRECT_TARGET, &e);
	iqp_add_ipport(m, e, IQP_E_TARGET_ADDR, &t->addr);
	if (t->name[0])
		iqp_add_str(m, e, IQP_E_TARGET_NAME, t->name);
	return m->err;
}

size_t iqp_link_reg_redirects(const struct iqp_msg *m, struct iqp_redirect *out, size_t max)
{
	size_t n = 0;

	for (const struct iqp_elem *e = iqp_find(m, NULL, IQP_E_REDIRECT_TARGET); e && n < max;
	     e = iqp_next_same(e)) {
		const struct iqp_elem *a = iqp_find(m, e, IQP_E_TARGET_ADDR);
		const struct iqp_elem *nm = iqp_find(m, e, IQP_E_TARGET_NAME);
		struct iqp_redirect *t = &out[n];

		memset(t, 0, sizeof(*t));
		if (!a || iqp_elem_ipport(a, &t->addr) || !t->addr.port)
			continue;
		if (nm && iqp_elem_strcpy(nm, t->name, sizeof(t->name)))
			continue; /* 1..255 bytes after validation: cannot happen */
		n++;
	}
	return n;
}
