/* ICE-lite responder for one W3 transport. */
#include "ice_lite.h"

#include <errno.h>
#include <string.h>

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 5.4). */
static bool ice_chars(const char *s, size_t min, size_t max, size_t *len)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++) {
		char c = s[n];
		if (n == max || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	*len = n;
	return n >= min;
}

bool ice_lite_ufrag_valid(const char *ufrag)
{
	size_t n;
	return ice_chars(ufrag, 4, ICE_LITE_UFRAG_MAX, &n);
}

bool ice_lite_pwd_valid(const char *pwd)
{
	size_t n;
	return ice_chars(pwd, 22, ICE_LITE_PWD_MAX, &n);
}

static bool creds_ok(const struct ice_lite_creds *c, size_t *ufrag_len,
		     size_t *pwd_len)
{
	return c && ice_chars(c->ufrag, 4, ICE_LITE_UFRAG_MAX, ufrag_len) &&
	       ice_chars(c->pwd, 22, ICE_LITE_PWD_MAX, pwd_len);
}

static void set_local(struct ice_lite *ice, const struct ice_lite_creds *c,
		      size_t ufrag_len, size_t pwd_len)
{
	memcpy(ice->lufrag, c->ufrag, ufrag_len + 1);
	memcpy(ice->lpwd, c->pwd, pwd_len + 1);
	ice->lufrag_len = ufrag_len;
	ice->lpwd_len = pwd_len;
}

static void set_remote(struct ice_lite *ice, const struct ice_lite_creds *c,
		       size_t ufrag_len, size_t pwd_len)
{
	memcpy(ice->rufrag, c->ufrag, ufrag_len + 1);
	memcpy(ice->rpwd, c->pwd, pwd_len + 1);
	ice->rufrag_len = ufrag_len;
	ice->remote_known = true;
}

static void forget_pairs(struct ice_lite *ice)
{
	memset(ice->cand, 0, sizeof(ice->cand));
	ice->n_cand = 0;
	ice->selected = -1;
	ice->state = ICE_LITE_WAITING;
	ice->consent_ms = 0;
}

int ice_lite_init(struct ice_lite *ice, const struct ice_lite_creds *local,
		  uint64_t consent_timeout_ms)
{
	size_t ul, pl;

	if (!creds_ok(local, &ul, &pl))
		return EINVAL;
	memset(ice, 0, sizeof(*ice));
	set_local(ice, local, ul, pl);
	forget_pairs(ice);
	ice->consent_timeout_ms =
		consent_timeout_ms ? consent_timeout_ms : ICE_LITE_CONSENT_TIMEOUT_MS;
	return 0;
}

int ice_lite_set_remote(struct ice_lite *ice, const struct ice_lite_creds *remote)
{
	size_t ul, pl;

	if (!creds_ok(remote, &ul, &pl))
		return EINVAL;
	set_remote(ice, remote, ul, pl);
	return 0;
}

int ice_lite_restart(struct ice_lite *ice, const struct ice_lite_creds *local,
		     const struct ice_lite_creds *remote)
{
	size_t ul, pl, rul = 0, rpl = 0;

	if (!creds_ok(local, &ul, &pl) || (remote && !creds_ok(remote, &rul, &rpl)))
		return EINVAL;
	explicit_bzero(ice->lpwd, sizeof(ice->lpwd));
	explicit_bzero(ice->rpwd, sizeof(ice->rpwd));
	set_local(ice, local, ul, pl);
	ice->remote_known = false;
	ice->rufrag[0] = '\0';
	ice->rufrag_len = 0;
	if (remote)
		set_remote(ice, remote, rul, rpl);
	forget_pairs(ice);
	return 0;
}

/* ---- addresses ---- */

static int sa_copy(const struct sockaddr *src, union ice_lite_sa *out)
{
	memset(out, 0, sizeof(*out));
	if (src->sa_family == AF_INET)
		memcpy(&out->in, src, sizeof(out->in));
	else if (src->sa_family == AF_INET6)
		memcpy(&out->in6, src, sizeof(out->in6));
	else
		return EINVAL;
	return 0;
}

static bool sa_equal(const union ice_lite_sa *a, const struct sockaddr *b)
{
	if (a->sa.sa_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)b;
		return a->in.sin_port == in->sin_port &&
		       a->in.sin_addr.s_addr == in->sin_addr.s_addr;
	}
	if (b->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)b;
		return a->in6.sin6_port == in6->sin6_port &&
		       a->in6.sin6_scope_id == in6->sin6_scope_id &&
		       !memcmp(&a->in6.sin6_addr, &in6->sin6_addr, 16);
	}
	return false;
}

/* The address as XOR-MAPPED-ADDRESS shows it: an IPv4-mapped IPv6 source
 * (dual-stack socket) is the IPv4 address the peer sent from. */
static void sa_to_stun(const union ice_lite_sa *sa, struct stun_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa.sa_family == AF_INET) {
		a->family = AF_INET;
		a->port = ntohs(sa->in.sin_port);
		memcpy(a->ip, &sa->in.sin_addr, 4);
	} else if (IN6_IS_ADDR_V4MAPPED(&sa->in6.sin6_addr)) {
		a->family = AF_INET;
		a->port = ntohs(sa->in6.sin6_port);
		memcpy(a->ip, sa->in6.sin6_addr.s6_addr + 12, 4);
	} else {
		a->family = AF_INET6;
		a->port = ntohs(sa->in6.sin6_port);
		memcpy(a->ip, &sa->in6.sin6_addr, 16);
	}
}

static int cand_find(const struct ice_lite *ice, const struct sockaddr *sa)
{
	for (size_t i = 0; i < ice->n_cand; i++)
		if (sa_equal(&ice->cand[i].addr, sa))
			return (int)i;
	return -1;
}

/* Adds an address; when the table is full, the unselected entry with the
 * oldest valid check makes room. */
static int cand_add(struct ice_lite *ice, const union ice_lite_sa *sa)
{
	size_t at = ice->n_cand;

	if (at == ICE_LITE_CAND_MAX) {
		at = ice->selected == 0 ? 1 : 0;
		for (size_t i = 0; i < ICE_LITE_CAND_MAX; i++)
			if ((int)i != ice->selected &&
			    ice->cand[i].last_ms < ice->cand[at].last_ms)
				at = i;
	} else {
		ice->n_cand++;
	}
	ice->cand[at].addr = *sa;
	return (int)at;
}

/* ---- consent ---- */

static bool consent_expired(const struct ice_lite *ice, uint64_t now_ms)
{
	return now_ms >= ice->consent_ms &&
	       now_ms - ice->consent_ms >= ice->consent_timeout_ms;
}

static unsigned expire(struct ice_lite *ice, uint64_t now_ms)
{
	if (ice->state != ICE_LITE_SELECTED || !consent_expired(ice, now_ms))
		return 0;
	ice->state = ICE_LITE_CONSENT_LOST;
	ice->selected = -1;
	return ICE_LITE_EV_CONSENT_LOST;
}

unsigned ice_lite_poll(struct ice_lite *ice, uint64_t now_ms)
{
	return expire(ice, now_ms);
}

uint64_t ice_lite_deadline(const struct ice_lite *ice)
{
	if (ice->state != ICE_LITE_SELECTED)
		return UINT64_MAX;
	if (ice->consent_ms > UINT64_MAX - ice->consent_timeout_ms)
		return UINT64_MAX;
	return ice->consent_ms + ice->consent_timeout_ms;
}

/* ---- checks ---- */

/* USERNAME is "<local ufrag>:<remote ufrag>" (RFC 8445 7.2.2); the remote
 * part is anything until the remote description is applied. */
static bool username_ok(const struct ice_lite *ice, const struct stun_msg *m)
{
	const char *u;
	size_t n, l = ice->lufrag_len;

	if (stun_msg_username(m, &u, &n) || n <= l || memcmp(u, ice->lufrag, l) ||
	    u[l] != ':')
		return false;
	if (!ice->remote_known)
		return true;
	return n - l - 1 == ice->rufrag_len && !memcmp(u + l + 1, ice->rufrag, ice->rufrag_len);
}

static int reply_error(const struct ice_lite *ice, const struct stun_msg *m,
		       int code, bool authenticated, uint8_t *reply, size_t cap,
		       struct ice_lite_result *r)
{
	int rc = stun_msg_build_error(reply, cap, m->method, m->txid, code,
				      code == 420 ? m->unknown : NULL,
				      code == 420 ? m->n_unknown : 0,
				      authenticated ? ice->lpwd : NULL,
				      authenticated ? ice->lpwd_len : 0, &r->reply_len);
	if (rc)
		return rc;
	r->verdict = ICE_LITE_REPLY;
	r->status = code;
	return 0;
}

/* A valid check from `from`: learn the address, nominate, refresh
 * consent. */
static unsigned check_succeeded(struct ice_lite *ice, const union ice_lite_sa *from,
				bool use_candidate, uint64_t now_ms)
{
	unsigned ev = 0;
	int i = cand_find(ice, &from->sa);

	if (i < 0) {
		i = cand_add(ice, from);
		ev |= ICE_LITE_EV_NEW_CANDIDATE;
	}
	ice->cand[i].last_ms = now_ms;
	if (use_candidate) {
		if (ice->state != ICE_LITE_SELECTED || ice->selected != i)
			ev |= ICE_LITE_EV_SELECTED;
		ice->selected = i;
		ice->state = ICE_LITE_SELECTED;
		ice->consent_ms = now_ms;
	} else if (ice->state == ICE_LITE_SELECTED && ice->selected == i) {
		ice->consent_ms = now_ms;
	}
	return ev;
}

int ice_lite_process(struct ice_lite *ice, const uint8_t *pkt, size_t len,
		     const struct sockaddr *src, uint64_t now_ms, uint8_t *reply,
		     size_t reply_cap, struct ice_lite_result *res)
{
	struct ice_lite_result r = { ICE_LITE_DROP, 0, 0, ICE_LITE_DROP_NONE, 0 };
	union ice_lite_sa from;
	struct stun_addr mapped;
	struct stun_msg m;
	int rc;

	if (reply_cap < ICE_LITE_REPLY_MAX || sa_copy(src, &from))
		return EINVAL;
	r.events = expire(ice, now_ms);

	if (stun_msg_parse(pkt, len, &m)) {
		r.drop = ICE_LITE_DROP_MALFORMED;
		goto out;
	}
	if (m.cls != STUN_REQUEST) {
		/* A lite agent sends no requests, so every response is
		 * unsolicited; indications (keepalives) need no answer. */
		r.drop = m.cls == STUN_INDICATION ? ICE_LITE_DROP_INDICATION
						  : ICE_LITE_DROP_RESPONSE;
		goto out;
	}
	/* FINGERPRINT is checked when present: RFC 8445 requires it, but a
	 * check without it is still authenticated by MESSAGE-INTEGRITY. */
	if (stun_msg_fingerprint_check(&m) == EBADMSG) {
		r.drop = ICE_LITE_DROP_FINGERPRINT;
		goto out;
	}
	/* RFC 8489 9.1.3: 400 without USERNAME or MESSAGE-INTEGRITY (only
	 * HMAC-SHA1 is verified here, which is what ICE uses), 401 when
	 * either is wrong; neither response is authenticated. */
	if (m.method != STUN_METHOD_BINDING || !stun_msg_has(&m, STUN_SLOT_USERNAME) ||
	    !stun_msg_has(&m, STUN_SLOT_MESSAGE_INTEGRITY)) {
		rc = reply_error(ice, &m, 400, false, reply, reply_cap, &r);
		goto built;
	}
	if (!username_ok(ice, &m) ||
	    stun_msg_integrity_check(&m, ice->lpwd, ice->lpwd_len)) {
		rc = reply_error(ice, &m, 401, false, reply, reply_cap, &r);
		goto built;
	}
	/* After authentication (RFC 8489 6.3): unknown comprehension-required
	 * attributes, then role conflicts; both answers are authenticated. */
	if (m.n_unknown) {
		rc = reply_error(ice, &m, 420, true, reply, reply_cap, &r);
		goto built;
	}
	/* RFC 8445 7.3.1.1 from the controlled side: a peer claiming the
	 * controlled role conflicts with us.  Its rule switches us to
	 * controlling when our tie-breaker is the larger, but a lite agent
	 * cannot control (6.1.1: a full peer must), so we always take the
	 * other branch: 487, keep our role, and the full agent switches to
	 * controlling on the 487 (7.2.5.1). */
	if (stun_msg_has(&m, STUN_SLOT_ICE_CONTROLLED)) {
		rc = reply_error(ice, &m, 487, true, reply, reply_cap, &r);
		goto built;
	}

	sa_to_stun(&from, &mapped);
	rc = stun_msg_build_success(reply, reply_cap, m.txid, &mapped, ice->lpwd,
				    ice->lpwd_len, &r.reply_len);
	if (!rc) {
		r.verdict = ICE_LITE_REPLY;
		r.events |= check_succeeded(ice, &from,
					    stun_msg_has(&m, STUN_SLOT_USE_CANDIDATE),
					    now_ms);
	}
built:
	/* Every reply fits ICE_LITE_REPLY_MAX, so this does not happen; were
	 * it to, nothing is sent and nothing was learned. */
	if (rc) {
		r.verdict = ICE_LITE_DROP;
		r.drop = ICE_LITE_DROP_MALFORMED;
		r.status = 0;
		r.reply_len = 0;
	}
out:
	*res = r;
	return 0;
}

bool ice_lite_media_allowed(const struct ice_lite *ice, const struct sockaddr *src,
			    uint64_t now_ms)
{
	switch (ice->state) {
	case ICE_LITE_WAITING:
		return cand_find(ice, src) >= 0;
	case ICE_LITE_SELECTED:
		return !consent_expired(ice, now_ms) &&
		       sa_equal(&ice->cand[ice->selected].addr, src);
	case ICE_LITE_CONSENT_LOST:
		return false;
	}
	return false;
}

const struct sockaddr *ice_lite_selected(const struct ice_lite *ice, socklen_t *len)
{
	if (ice->state != ICE_LITE_SELECTED)
		return NULL;
	const union ice_lite_sa *a = &ice->cand[ice->selected].addr;
	*len = a->sa.sa_family == AF_INET ? sizeof(a->in) : sizeof(a->in6);
	return &a->sa;
}
