/* SDP value syntax (sdp_syntax.h). */
#include "sdp_syntax.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iqp_registry.h"

int sdp_syntax_bad(char *why, size_t why_len, const char *fmt,
		   const char *arg)
{
	snprintf(why, why_len, fmt, arg ? arg : "");
	return EBADMSG;
}

int sdp_syntax_ulong(const char *s, unsigned long max, unsigned long *out,
		       const char **end)
{
	unsigned long v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return EINVAL;
	}
	if (end)
		*end = p;
	else if (*p)
		return EINVAL;
	*out = v;
	return 0;
}

int sdpm_ip_parse(const char *s, struct iqp_ip *out)
{
	struct iqp_ip ip;

	memset(&ip, 0, sizeof(ip));
	if (inet_pton(AF_INET, s, ip.addr) == 1)
		ip.family = 4;
	else if (inet_pton(AF_INET6, s, ip.addr) == 1)
		ip.family = 6;
	else
		return EINVAL;
	*out = ip;
	return 0;
}

const char *sdpm_ip_text(const struct iqp_ip *ip, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(ip->family == 6 ? AF_INET6 : AF_INET, ip->addr, a,
		       sizeof(a)))
		a[0] = 0;
	snprintf(buf, cap, "%s %s", ip->family == 6 ? "IP6" : "IP4", a);
	return buf;
}

bool sdp_syntax_ice_chars(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/')
			return false;
	return true;
}

bool sdp_syntax_token(const char *s, size_t min, size_t max,
			const char *extra)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

static const char *const proto_names[] = {
	NULL, "RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF",
	"UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP",
	"TCP/DTLS/SCTP", "TCP/MSRP", "TCP/TLS/MSRP", "TCP/BFCP",
	"TCP/TLS/BFCP",
};

const char *sdpm_proto_name(uint8_t proto)
{
	return proto < sizeof(proto_names) / sizeof(proto_names[0]) ?
		proto_names[proto] : NULL;
}

uint8_t sdp_syntax_proto(const char *name)
{
	for (uint8_t i = 1; i < sizeof(proto_names) / sizeof(proto_names[0]);
	     i++)
		if (!strcasecmp(name, proto_names[i]))
			return i;
	return 0;
}

uint8_t sdp_syntax_media(const char *name)
{
	static const char *const n[] = { NULL, "audio", "video", "text",
					 "application", "message" };

	for (uint8_t i = 1; i < sizeof(n) / sizeof(n[0]); i++)
		if (!strcasecmp(name, n[i]))
			return i;
	return 0;
}

static const char *const hash_names[] = { NULL, "sha-1", "sha-224",
					  "sha-256", "sha-384", "sha-512" };
static const uint8_t hash_lens[] = { 0, 20, 28, 32, 48, 64 };

const char *sdpm_hash_name(uint8_t hash)
{
	return hash >= 1 && hash <= 5 ? hash_names[hash] : "sha-256";
}

const char *sdpm_dir_name(uint8_t dir)
{
	static const char *const n[] = { "inactive", "sendonly", "recvonly",
					 "sendrecv" };
	return n[dir & 3];
}

bool sdp_syntax_rtp_proto(uint8_t proto)
{
	return proto >= 1 && proto <= 6;
}

bool sdpm_codec_same(const struct sdpm_codec *a, const struct sdpm_codec *b)
{
	return !strcasecmp(a->name, b->name) && a->rate == b->rate &&
	       a->channels == b->channels;
}

/* a=fingerprint:<hash> <hex pairs> (RFC 8122).  Unknown hash functions
 * are skipped; a known one with a malformed value is an error. */
int sdp_syntax_fingerprint(struct sdpm_fp *fps, unsigned *n,
			     const char *v, char *why, size_t why_len)
{
	const char *sp = strchr(v, ' ');
	struct sdpm_fp fp;
	size_t hl;
	unsigned i;

	if (!sp)
		return sdp_syntax_bad(why, why_len, "malformed a=fingerprint",
				      NULL);
	hl = (size_t)(sp - v);
	memset(&fp, 0, sizeof(fp));
	for (i = 1; i <= 5; i++)
		if (strlen(hash_names[i]) == hl &&
		    !strncasecmp(v, hash_names[i], hl))
			break;
	if (i > 5)
		return 0;
	fp.hash = (uint8_t)i;
	fp.len = hash_lens[i];
	v = sp + 1;
	for (unsigned k = 0; k < fp.len; k++) {
		unsigned hi, lo;

		if (!isxdigit((unsigned char)v[0]) ||
		    !isxdigit((unsigned char)v[1]))
			return sdp_syntax_bad(why, why_len,
					      "malformed fingerprint value",
				   NULL);
		hi = (unsigned)(isdigit((unsigned char)v[0]) ? v[0] - '0' :
				(tolower((unsigned char)v[0]) - 'a' + 10));
		lo = (unsigned)(isdigit((unsigned char)v[1]) ? v[1] - '0' :
				(tolower((unsigned char)v[1]) - 'a' + 10));
		fp.value[k] = (uint8_t)(hi << 4 | lo);
		v += 2;
		if (k + 1 < fp.len && *v++ != ':')
			return sdp_syntax_bad(why, why_len,
				   "fingerprint value of the wrong length",
				   NULL);
	}
	if (*v)
		return sdp_syntax_bad(why, why_len,
				      "fingerprint value of the wrong length",
			   NULL);
	if (*n < SDPM_MAX_FPS)
		fps[(*n)++] = fp;
	return 0;
}

int sdp_syntax_setup(const char *v, uint8_t *out, char *why, size_t wl)
{
	if (!strcasecmp(v, "active"))
		*out = IQP_SETUP_ACTIVE;
	else if (!strcasecmp(v, "passive"))
		*out = IQP_SETUP_PASSIVE;
	else if (!strcasecmp(v, "actpass"))
		*out = IQP_SETUP_ACTPASS;
	else if (!strcasecmp(v, "holdconn"))
		*out = SDPM_SETUP_HOLDCONN;
	else
		return sdp_syntax_bad(why, wl, "unknown a=setup:%s", v);
	return 0;
}

/* Debian's sofia-sip (1.12.11) loops forever, allocating, on some m=
 * lines that break RFC 8866's grammar (found by fuzzing: a format or port
 * with characters outside tokens).  m= lines are checked against the
 * grammar before sofia sees them: media token, port[/n] in digits, proto
 * of tokens and "/", at least one format token. */
static bool media_line_ok(const char *p, const char *eol)
{
	static const char tok[] = "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				  "-!#$%&'*+.^_`{|}~";
	unsigned field = 0;

	while (p < eol) {
		const char *f = p;
		unsigned slashes = 0;

		while (p < eol && *p != ' ' && *p != '\t')
			p++;
		if (p == f) {
			p++;
			continue;
		}
		for (const char *q = f; q < p; q++) {
			if (*q == '/')
				slashes++;
			if (field == 1 ? !(isdigit((unsigned char)*q) ||
					   (*q == '/' && slashes == 1 &&
					    q > f && q + 1 < p)) :
			    !(strchr(tok, *q) || (*q == '/' && field == 2)))
				return false;
		}
		field++;
	}
	return field >= 4;
}

bool sdp_syntax_media_lines(const char *sdp, size_t len)
{
	const char *p = sdp, *end = sdp + len;

	while (p < end) {
		const char *eol = p;

		while (eol < end && *eol != '\r' && *eol != '\n')
			eol++;
		if (eol - p >= 2 && p[0] == 'm' && p[1] == '=' &&
		    !media_line_ok(p + 2, eol))
			return false;
		p = eol + 1;
	}
	return true;
}

