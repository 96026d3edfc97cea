/* SDP -> flat m-line model, on sofia-sip's SDP parser (sdp_model.h).
 *
 * sofia is asked not to interpret directions (sdp_f_mode_manual) and not
 * to require c= on every m-line (sdp_f_c_missing: bundle-only and
 * rejected lines may lack it; the ALG decides what it needs).  Depending
 * on the proto sofia knows (RTP/AVP, RTP/SAVP) it turns rtpmap/fmtp into
 * its rtpmap list, otherwise (UDP/TLS/RTP/SAVPF in Debian's sofia) it
 * leaves them as attributes: both forms are read here.  Value syntax
 * (numbers, fingerprints, setup, the m= grammar) is in sdp_syntax.c. */
#include "sdp_model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "iqp_registry.h"
#include "sdp_syntax.h"

struct sdpm_home {
	su_home_t home[1];         /* first: su_home_new's object */
	struct sdpm_session s;
};

/* Parse state of one m-line. */
struct mctx {
	struct sdpm_session *s;
	struct sdpm_media *m;
	su_home_t *home;
	char *why;
	size_t why_len;
	size_t cand_cap;
	bool fp_seen;              /* a fingerprint at this level already */
};


static int set_dir(const char *name, uint8_t *dir)
{
	static const char *const n[] = { "inactive", "sendonly", "recvonly",
					 "sendrecv" };

	for (uint8_t i = 0; i < 4; i++)
		if (!strcasecmp(name, n[i])) {
			*dir = i;
			return 1;
		}
	return 0;
}

/* a=candidate (RFC 8839 5.1).  Candidates the AGW cannot use (not an IP
 * literal: mDNS ".local" or FQDN, 8.9.1 item 4; unknown transport; port
 * 0; TCP without tcptype; malformed) are dropped and counted. */
static void parse_candidate(struct mctx *x, const char *v)
{
	char *dup = su_strdup(x->home, v), *save = NULL, *tok[32];
	unsigned nt = 0;
	unsigned long comp, prio, port;
	struct sdpm_cand c;
	struct sdpm_media *m = x->m;

	if (!dup)
		goto drop;
	for (char *t = strtok_r(dup, " ", &save); t && nt < 32;
	     t = strtok_r(NULL, " ", &save))
		tok[nt++] = t;
	memset(&c, 0, sizeof(c));
	if (nt < 8 || strcasecmp(tok[6], "typ") ||
	    !sdp_syntax_ice_chars(tok[0], 1, 32) ||
	    sdp_syntax_ulong(tok[1], 256, &comp, NULL) || comp < 1 ||
	    comp > 2 ||
	    sdp_syntax_ulong(tok[3], UINT32_MAX, &prio, NULL) ||
	    sdp_syntax_ulong(tok[5], 65535, &port, NULL) || port == 0 ||
	    sdpm_ip_parse(tok[4], &c.addr.ip))
		goto drop;
	c.foundation = tok[0];
	c.component = (uint8_t)comp;
	c.priority = (uint32_t)prio;
	c.addr.port = (uint16_t)port;
	if (!strcasecmp(tok[2], "udp"))
		c.transport = IQP_CAND_UDP;
	else if (!strcasecmp(tok[2], "tcp"))
		c.transport = IQP_CAND_TCP;
	else
		goto drop;
	if (!strcmp(tok[7], "host"))
		c.type = 1;
	else if (!strcmp(tok[7], "srflx"))
		c.type = 2;
	else if (!strcmp(tok[7], "prflx"))
		c.type = 3;
	else if (!strcmp(tok[7], "relay"))
		c.type = 4;
	else
		goto drop;
	for (unsigned i = 8; i + 1 < nt; i += 2) {
		if (!strcmp(tok[i], "raddr")) {
			if (sdpm_ip_parse(tok[i + 1], &c.raddr.ip))
				goto drop;
			c.has_raddr = true;
		} else if (!strcmp(tok[i], "rport")) {
			if (sdp_syntax_ulong(tok[i + 1], 65535, &port, NULL))
				goto drop;
			c.raddr.port = (uint16_t)port;
		} else if (!strcmp(tok[i], "tcptype")) {
			if (!strcmp(tok[i + 1], "active"))
				c.tcptype = 1;
			else if (!strcmp(tok[i + 1], "passive"))
				c.tcptype = 2;
			else if (!strcmp(tok[i + 1], "so"))
				c.tcptype = 3;
			else
				goto drop;
		}
	}
	if (c.transport == IQP_CAND_TCP && !c.tcptype)
		goto drop;
	if (c.transport == IQP_CAND_UDP)
		c.tcptype = 0;
	if (m->n_cands == x->cand_cap) {
		size_t cap = x->cand_cap ? x->cand_cap * 2 : 8;
		struct sdpm_cand *nc;

		if (cap > SDPM_MAX_CANDS)
			goto drop;
		nc = su_zalloc(x->home, cap * sizeof(*nc));
		if (!nc)
			goto drop;
		if (m->n_cands)
			memcpy(nc, m->cands, m->n_cands * sizeof(*nc));
		m->cands = nc;
		x->cand_cap = cap;
	}
	m->cands[m->n_cands++] = c;
	return;
drop:
	m->n_cands_dropped++;
}

static int xbad(const struct mctx *x, const char *fmt, const char *arg)
{
	return sdp_syntax_bad(x->why, x->why_len, fmt, arg);
}

static struct sdpm_codec *codec_by_pt(struct sdpm_media *m, unsigned long pt)
{
	for (unsigned i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	return NULL;
}

/* "name/rate[/channels]" into c (rtpmap form when sofia left it as an
 * attribute). */
static void parse_rtpmap_value(struct mctx *x, struct sdpm_codec *c,
			       const char *v)
{
	char *d = su_strdup(x->home, v), *slash;
	const char *end;
	unsigned long rate, ch = 1;

	if (!d || !(slash = strchr(d, '/')))
		return;
	*slash = 0;
	if (sdp_syntax_ulong(slash + 1, UINT32_MAX, &rate, &end))
		return;
	if (*end == '/') {
		if (sdp_syntax_ulong(end + 1, 255, &ch, NULL))
			return;
	} else if (*end) {
		return;
	}
	c->name = d;
	c->rate = (uint32_t)rate;
	c->channels = (uint8_t)ch;
}

/* The formats of the m= line: codecs for RTP protos. */
static int read_formats(struct mctx *x, const sdp_media_t *sm)
{
	struct sdpm_media *m = x->m;
	unsigned n = 0;

	if (sm->m_rtpmaps) {
		for (const sdp_rtpmap_t *r = sm->m_rtpmaps; r; r = r->rm_next)
			n++;
	} else {
		for (const sdp_list_t *l = sm->m_format; l; l = l->l_next)
			n++;
	}
	if (sm->m_rtpmaps)
		m->fmt0 = su_sprintf(x->home, "%u", sm->m_rtpmaps->rm_pt);
	else if (sm->m_format)
		m->fmt0 = sm->m_format->l_text;
	if (!sdp_syntax_rtp_proto(m->proto) || !n)
		return 0;
	if (n > 128)
		return xbad(x, "too many payload types", NULL);
	m->codecs = su_zalloc(x->home, n * sizeof(*m->codecs));
	if (!m->codecs)
		return ENOMEM;
	if (sm->m_rtpmaps) {
		for (const sdp_rtpmap_t *r = sm->m_rtpmaps; r; r = r->rm_next) {
			struct sdpm_codec *c = &m->codecs[m->n_codecs++];
			unsigned long ch = 1;

			c->pt = (uint8_t)r->rm_pt;
			c->name = r->rm_encoding;
			c->rate = (uint32_t)r->rm_rate;
			if (r->rm_params &&
			    sdp_syntax_ulong(r->rm_params, 255, &ch, NULL))
				ch = 0;
			c->channels = (uint8_t)ch;
			c->fmtp = r->rm_fmtp;
		}
		return 0;
	}
	for (const sdp_list_t *l = sm->m_format; l; l = l->l_next) {
		unsigned long pt;
		struct sdpm_codec *c;

		if (sdp_syntax_ulong(l->l_text, 127, &pt, NULL))
			return sdp_syntax_bad(x->why, x->why_len,
				   "payload type %s is not 0..127",
				   l->l_text);
		if (codec_by_pt(m, pt))
			continue;
		c = &m->codecs[m->n_codecs++];
		c->pt = (uint8_t)pt;
		c->channels = 1;
		if (sdp_rtpmap_well_known[pt]) {
			c->name = sdp_rtpmap_well_known[pt]->rm_encoding;
			c->rate = (uint32_t)sdp_rtpmap_well_known[pt]->rm_rate;
		}
	}
	for (const sdp_attribute_t *a = sm->m_attributes; a; a = a->a_next) {
		const char *rest;
		unsigned long pt;
		struct sdpm_codec *c;

		if (!a->a_value || (strcasecmp(a->a_name, "rtpmap") &&
				    strcasecmp(a->a_name, "fmtp")))
			continue;
		if (sdp_syntax_ulong(a->a_value, 127, &pt, &rest) ||
		    *rest != ' ' ||
		    !(c = codec_by_pt(m, pt)))
			continue;
		if (!strcasecmp(a->a_name, "rtpmap"))
			parse_rtpmap_value(x, c, rest + 1);
		else
			c->fmtp = rest + 1;
	}
	return 0;
}

/* Drops codecs that cannot be described (no name, channels outside
 * 1..8, oversized name or fmtp) and attaches rtcp-fb. */
static void finish_codecs(struct mctx *x, const sdp_media_t *sm)
{
	struct sdpm_media *m = x->m;
	unsigned k = 0;

	for (unsigned i = 0; i < m->n_codecs; i++) {
		struct sdpm_codec *c = &m->codecs[i];

		if (!c->name || !sdp_syntax_token(c->name, 1, 32, "-_.+") ||
		    !c->rate || c->channels < 1 || c->channels > 8 ||
		    (c->fmtp && (strlen(c->fmtp) > 1024 ||
				 !iqp_utf8_valid((const uint8_t *)c->fmtp,
						 strlen(c->fmtp)))))
			continue;
		m->codecs[k++] = *c;
	}
	m->n_codecs = k;
	for (const sdp_attribute_t *a = sm->m_attributes; a; a = a->a_next) {
		const char *v = a->a_value, *sp;
		unsigned long pt;
		bool all;

		if (strcasecmp(a->a_name, "rtcp-fb") || !v ||
		    !(sp = strchr(v, ' ')))
			continue;
		all = v[0] == '*' && sp == v + 1;
		if (!all && (sdp_syntax_ulong(v, 127, &pt, &v) || v != sp))
			continue;
		if (strlen(sp + 1) < 1 || strlen(sp + 1) > 64 ||
		    !iqp_utf8_valid((const uint8_t *)sp + 1, strlen(sp + 1)))
			continue;
		for (unsigned i = 0; i < m->n_codecs; i++) {
			struct sdpm_codec *c = &m->codecs[i];

			if ((all || c->pt == pt) && c->n_fb < SDPM_MAX_FB)
				c->fb[c->n_fb++] = sp + 1;
		}
	}
}

static int read_rtcp(struct mctx *x, const char *v)
{
	unsigned long port;
	const char *rest;
	char net[8], at[8], addr[64];

	if (sdp_syntax_ulong(v, 65535, &port, &rest) || (*rest && *rest != ' '))
		return xbad(x, "malformed a=rtcp:%s", v);
	x->m->has_rtcp = true;
	x->m->rtcp_port = (uint16_t)port;
	if (*rest && sscanf(rest, " %7s %7s %63s", net, at, addr) == 3 &&
	    !strcmp(net, "IN") && !sdpm_ip_parse(addr, &x->m->rtcp_addr))
		x->m->has_rtcp_addr = true;
	return 0;
}

/* One attribute, media level (x->m) or session level (inherited later). */
static int read_attr(struct mctx *x, const sdp_attribute_t *a)
{
	struct sdpm_media *m = x->m;
	const char *n = a->a_name, *v = a->a_value;
	unsigned long u;

	if (set_dir(n, &m->dir))
		return 0;
	if (!strcasecmp(n, "ice-ufrag") && v) {
		if (!sdp_syntax_ice_chars(v, 4, 256))
			return xbad(x, "bad a=ice-ufrag", NULL);
		m->ice_ufrag = v;
	} else if (!strcasecmp(n, "ice-pwd") && v) {
		if (!sdp_syntax_ice_chars(v, 22, 256))
			return xbad(x, "bad a=ice-pwd", NULL);
		m->ice_pwd = v;
	} else if (!strcasecmp(n, "ice-lite")) {
		m->ice_lite = true;
	} else if (!strcasecmp(n, "fingerprint") && v) {
		if (!x->fp_seen)
			m->n_fps = 0; /* media level replaces session level */
		x->fp_seen = true;
		return sdp_syntax_fingerprint(m->fps, &m->n_fps, v, x->why,
					 x->why_len);
	} else if (!strcasecmp(n, "setup") && v) {
		return sdp_syntax_setup(v, &m->setup, x->why, x->why_len);
	} else if (!strcasecmp(n, "tls-id") && v) {
		if (!sdp_syntax_token(v, 20, 255, "+/-_"))
			return xbad(x, "bad a=tls-id:%s", v);
		m->tls_id = v;
	} else if (!strcasecmp(n, "mid") && v) {
		if (!sdp_syntax_token(v, 1, 32, "!#$%&'*+-.^_`{|}~"))
			return xbad(x, "bad a=mid:%s", v);
		m->mid = v;
	} else if (!strcasecmp(n, "candidate") && v) {
		parse_candidate(x, v);
	} else if (!strcasecmp(n, "end-of-candidates")) {
		m->end_of_cands = true;
	} else if (!strcasecmp(n, "rtcp-mux")) {
		m->rtcp_mux = true;
	} else if (!strcasecmp(n, "rtcp-rsize")) {
		m->rtcp_rsize = true;
	} else if (!strcasecmp(n, "bundle-only")) {
		m->bundle_only = true;
	} else if (!strcasecmp(n, "rtcp") && v) {
		return read_rtcp(x, v);
	} else if ((!strcasecmp(n, "ptime") || !strcasecmp(n, "maxptime")) &&
		   v) {
		if (!sdp_syntax_ulong(v, 100000, &u, NULL) && u >= 10 &&
		    u <= 200)
			*(n[0] == 'p' || n[0] == 'P' ? &m->ptime :
						       &m->maxptime) =
				(uint16_t)u;
	} else if (!strcasecmp(n, "extmap") && v) {
		/* RFC 8285: "ID[/direction] URI ...": only the MID extension
		 * (RFC 8843 15.1) matters, for the AGW's BUNDLE demux; ids
		 * above 14 need the two-byte form, which it does not read. */
		const char *rest, *sp = strchr(v, ' ');
		if (!sdp_syntax_ulong(v, 4096, &u, &rest) && (*rest == ' ' || *rest == '/') && sp &&
		    !strncmp(sp + 1, "urn:ietf:params:rtp-hdrext:sdes:mid", 35) &&
		    (sp[36] == '\0' || sp[36] == ' ') && u >= 1 && u <= 14)
			m->mid_ext_id = (uint8_t)u;
	} else if (!strcasecmp(n, "ssrc") && v) {
		const char *rest;
		bool seen = false;

		if (sdp_syntax_ulong(v, UINT32_MAX, &u, &rest) ||
		    (*rest && *rest != ' '))
			return xbad(x, "malformed a=ssrc:%s",
				   v);
		for (unsigned i = 0; i < m->n_ssrcs; i++)
			seen |= m->ssrcs[i] == u;
		if (!seen && m->n_ssrcs < SDPM_MAX_SSRCS)
			m->ssrcs[m->n_ssrcs++] = (uint32_t)u;
	}
	return 0;
}

static int read_group(struct sdpm_session *s, su_home_t *home, const char *v)
{
	char *d, *save = NULL;

	if (s->has_bundle || strncasecmp(v, "BUNDLE", 6) ||
	    (v[6] && v[6] != ' '))
		return 0;
	s->has_bundle = true;
	if (!(d = su_strdup(home, v + 6)))
		return ENOMEM;
	for (char *t = strtok_r(d, " ", &save); t;
	     t = strtok_r(NULL, " ", &save))
		if (s->n_bundle < SDPM_MAX_MEDIA)
			s->bundle[s->n_bundle++] = t;
	return 0;
}

static int read_conn(const sdp_connection_t *c, struct sdpm_media *m)
{
	if (!c || c->c_nettype != sdp_net_in || !c->c_address)
		return 0;
	if (sdpm_ip_parse(c->c_address, &m->conn))
		return 0;
	m->has_conn = true;
	m->conn_unspec = true;
	for (unsigned i = 0; i < (m->conn.family == 4 ? 4u : 16u); i++)
		if (m->conn.addr[i])
			m->conn_unspec = false;
	return 0;
}

static int read_media(struct sdpm_session *s, su_home_t *home,
		      const sdp_session_t *ss, const sdp_media_t *sm,
		      const struct sdpm_media *sess, struct sdpm_media *m,
		      char *why, size_t why_len)
{
	struct mctx x = { s, m, home, why, why_len, 0, false };
	int e;

	/* Session-level values first; media-level attributes override. */
	*m = *sess;
	m->cands = NULL;
	m->n_cands = 0;
	if (sm->m_port > 65535)
		return sdp_syntax_bad(why, why_len, "m= port above 65535",
				      NULL);
	m->port = (uint16_t)sm->m_port;
	m->media = sm->m_type_name ? sm->m_type_name : "";
	m->proto_name = sm->m_proto_name ? sm->m_proto_name : "";
	m->media_type = sdp_syntax_media(m->media);
	m->proto = sdp_syntax_proto(m->proto_name);
	read_conn(sm->m_connections ? sm->m_connections : ss->sdp_connection,
		  m);
	if ((e = read_formats(&x, sm)))
		return e;
	for (const sdp_attribute_t *a = sm->m_attributes; a; a = a->a_next) {
		if ((e = read_attr(&x, a)))
			return e;
	}
	finish_codecs(&x, sm);
	return 0;
}

int sdp_model_parse(const char *sdp, size_t len, struct sdpm_session **out,
		    char *why, size_t why_len)
{
	struct sdpm_home *h;
	sdp_parser_t *p;
	const sdp_session_t *ss;
	struct sdpm_media sess;
	struct mctx x;
	unsigned n = 0;
	int e = 0;

	if (len > SDPM_MAX_BYTES) {
		snprintf(why, why_len, "SDP larger than %u bytes",
			 SDPM_MAX_BYTES);
		return E2BIG;
	}
	if (memchr(sdp, 0, len))
		return sdp_syntax_bad(why, why_len, "NUL byte in SDP", NULL);
	if (!sdp_syntax_media_lines(sdp, len))
		return sdp_syntax_bad(why, why_len, "malformed m= line", NULL);
	h = su_home_new(sizeof(*h));
	if (!h)
		return ENOMEM;
	p = sdp_parse(h->home, sdp, (issize_t)len,
		      sdp_f_mode_manual | sdp_f_c_missing);
	ss = p ? sdp_session(p) : NULL;
	if (!ss) {
		const char *pe = p ? sdp_parsing_error(p) : NULL;

		e = p ? sdp_syntax_bad(why, why_len, "SDP does not parse: %s",
			    pe ? pe : "?") : ENOMEM;
		goto fail;
	}
	for (const sdp_media_t *sm = ss->sdp_media; sm; sm = sm->m_next)
		n++;
	if (n > SDPM_MAX_MEDIA) {
		snprintf(why, why_len, "more than %u m-lines", SDPM_MAX_MEDIA);
		e = E2BIG;
		goto fail;
	}
	h->s.home = h;
	if (ss->sdp_origin) {
		h->s.o_id = ss->sdp_origin->o_id;
		h->s.o_version = ss->sdp_origin->o_version;
	}
	memset(&sess, 0, sizeof(sess));
	sess.dir = SDPM_SENDRECV;
	x = (struct mctx){ &h->s, &sess, h->home, why, why_len, 0, false };
	for (const sdp_attribute_t *a = ss->sdp_attributes; a; a = a->a_next) {
		if (!strcasecmp(a->a_name, "group") && a->a_value)
			e = read_group(&h->s, h->home, a->a_value);
		else if (strcasecmp(a->a_name, "candidate") &&
			 strcasecmp(a->a_name, "mid") &&
			 strcasecmp(a->a_name, "ssrc") &&
			 strcasecmp(a->a_name, "rtcp"))
			e = read_attr(&x, a);
		if (e)
			goto fail;
	}
	h->s.media = n ? su_zalloc(h->home, n * sizeof(*h->s.media)) : NULL;
	if (n && !h->s.media) {
		e = ENOMEM;
		goto fail;
	}
	for (const sdp_media_t *sm = ss->sdp_media; sm; sm = sm->m_next) {
		e = read_media(&h->s, h->home, ss, sm, &sess,
			       &h->s.media[h->s.n_media], why, why_len);
		if (e)
			goto fail;
		h->s.n_media++;
	}
	*out = &h->s;
	return 0;
fail:
	su_home_unref(h->home);
	return e;
}

void sdp_model_free(struct sdpm_session *s)
{
	if (s)
		su_home_unref(((struct sdpm_home *)s->home)->home);
}

int sdp_model_find_mid(const struct sdpm_session *s, const char *mid)
{
	for (unsigned i = 0; mid && i < s->n_media; i++)
		if (s->media[i].mid && !strcmp(s->media[i].mid, mid))
			return (int)i;
	return -1;
}

bool sdp_model_in_bundle(const struct sdpm_session *s, unsigned i)
{
	const char *mid = i < s->n_media ? s->media[i].mid : NULL;

	for (unsigned k = 0; mid && k < s->n_bundle; k++)
		if (!strcmp(s->bundle[k], mid))
			return true;
	return false;
}
