/* The load client's SIP: REGISTER with IMS digest (MD5, qop=auth) and
 * the handling of its responses. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wss_load.h"

static void md5_hex(const char *s, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int send_register(struct client *cl, struct conn *c)
{
	char msg[2048];
	char auth[AUTH_MAX + 32] = "";

	if (c->auth[0])
		snprintf(auth, sizeof(auth), "Authorization: %s\r\n", c->auth);
	c->cseq++;
	c->branch++;
	int n = snprintf(msg, sizeof(msg),
			 "REGISTER sip:%s SIP/2.0\r\n"
			 "Via: SIP/2.0/WSS bench%u.invalid;branch=z9hG4bK%sx%u\r\n"
			 "Max-Forwards: 69\r\n"
			 "To: <sip:%s@%s>\r\n"
			 "From: <sip:%s@%s>;tag=%s\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %u REGISTER\r\n"
			 "Contact: <sip:bench@bench.invalid;transport=ws>;+sip.ice;reg-id=1;"
			 "+sip.instance=\"<urn:uuid:6f1b4c2e-0000-4000-8000-00000000be00>\";expires=600\r\n"
			 "Expires: 600\r\n"
			 "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\r\n"
			 "Supported: path,gruu,outbound\r\n"
			 "User-Agent: bench-wss-load\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 cl->o.domain, (unsigned)(c - cl->c), c->call_id, c->branch, cl->o.user,
			 cl->o.domain, cl->o.user, cl->o.domain, c->tag, c->call_id, c->cseq, auth);
	if (n <= 0 || (size_t)n >= sizeof(msg))
		return -1;
	c->waiting = 1;
	c->t_start = now_s();
	return ws_send(cl, c, 1, msg, (size_t)n);
}

/* Value of header `name` (case-insensitive, at a line start) in a SIP
 * message or an HTTP response, copied. */
int header_value(const char *msg, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(msg, "\r\n"); p; p = strstr(p, "\r\n")) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			v += strspn(v, " \t");
			size_t n = strcspn(v, "\r\n");
			if (n >= len)
				n = len - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		if (p[0] == '\r')
			break;
	}
	return -1;
}

static void param(const char *hdr, const char *name, char *out, size_t len)
{
	char pat[32];
	out[0] = '\0';
	snprintf(pat, sizeof(pat), "%s=", name);
	for (const char *p = strstr(hdr, pat); p; p = strstr(p + 1, pat)) {
		if (p != hdr && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t')
			continue;
		p += strlen(pat);
		int q = *p == '"';
		p += q;
		size_t n = strcspn(p, q ? "\"" : ", \t");
		if (n >= len)
			n = len - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return;
	}
}

static int make_auth(struct client *cl, struct conn *c, const char *www)
{
	char realm[128], nonce[256], qop[64], opaque[128], buf[512];
	char ha1[33], ha2[33], resp[33], cnonce[17];

	param(www, "realm", realm, sizeof(realm));
	param(www, "nonce", nonce, sizeof(nonce));
	param(www, "qop", qop, sizeof(qop));
	param(www, "opaque", opaque, sizeof(opaque));
	if (!nonce[0])
		return -1;
	snprintf(cnonce, sizeof(cnonce), "%016llx", (unsigned long long)rnd(cl));
	snprintf(buf, sizeof(buf), "%s:%s:%s", cl->o.user, realm, cl->o.password);
	md5_hex(buf, ha1);
	snprintf(buf, sizeof(buf), "REGISTER:sip:%s", cl->o.domain);
	md5_hex(buf, ha2);
	int has_qop = strstr(qop, "auth") != NULL;
	if (has_qop)
		snprintf(buf, sizeof(buf), "%s:%s:00000001:%s:auth:%s", ha1, nonce, cnonce, ha2);
	else
		snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, nonce, ha2);
	md5_hex(buf, resp);
	int n = snprintf(c->auth, sizeof(c->auth),
			 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"sip:%s\", "
			 "response=\"%s\", algorithm=MD5%s%s%s%s%s%s",
			 cl->o.user, realm, nonce, cl->o.domain, resp,
			 has_qop ? ", qop=auth, nc=00000001, cnonce=\"" : "", has_qop ? cnonce : "",
			 has_qop ? "\"" : "", opaque[0] ? ", opaque=\"" : "", opaque,
			 opaque[0] ? "\"" : "");
	return n > 0 && (size_t)n < sizeof(c->auth) ? 0 : -1;
}

void on_sip(struct client *cl, struct conn *c, char *msg, size_t n)
{
	char www[600];
	msg[n] = '\0';
	if (strncmp(msg, "SIP/2.0 ", 8) || !c->waiting)
		return; /* keep-alive pong, or a request (none expected) */
	int status = atoi(msg + 8);
	if (status < 200)
		return;
	if (status == 401 && c->challenges < 3 &&
	    !header_value(msg, "WWW-Authenticate", www, sizeof(www)) && !make_auth(cl, c, www)) {
		c->challenges++;
		if (cl->in_loop)
			cl->rechallenge++;
		if (send_register(cl, c)) {
			conn_fail(cl, c, F_CLOSED);
			return;
		}
		conn_events(cl, c);
		return;
	}
	if (status != 200) {
		if (cl->fails[F_SIP]++ < 5)
			fprintf(stderr, "bench_wss_load: REGISTER got %.60s\n", msg);
	}
	c->challenges = 0;
	reg_done(cl, c, status == 200);
}
