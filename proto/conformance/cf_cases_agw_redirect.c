/* Redirect and handoff toward an AGW (SPEC.md 7.4, 2.5 item 4): the suite
 * refuses the AGW's REGISTER with 1300 naming a second listener of its
 * own (same certificate, TARGET_NAME = the suite's node id), or orders a
 * HANDOFF, and checks where and how the AGW registers next.  Each case
 * ends the shared link first and leaves a registered one behind. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>

#include "cf_agw.h"

/* A second listener on the suite's address, any port: its fd, and the
 * REDIRECT_TARGET naming it.  Returns -1 with why on failure. */
static int listener(struct cf_ctx *x, struct iqp_redirect *t, char *why, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1;

	memset(t, 0, sizeof(*t));
	if (getsockname(x->lfd, (struct sockaddr *)&ss, &sl))
		goto fail;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl))
		goto fail;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		t->addr.ip.family = 4;
		memcpy(t->addr.ip.addr, &a->sin_addr, 4);
		t->addr.port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
		t->addr.ip.family = 6;
		memcpy(t->addr.ip.addr, &a->sin6_addr, 16);
		t->addr.port = ntohs(a->sin6_port);
	}
	snprintf(t->name, sizeof(t->name), "%s", x->self.node_id);
	return fd;
fail:
	snprintf(why, len, "cannot open a second listener: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A target where nobody listens: a port bound, then closed. */
static int dead_target(struct cf_ctx *x, struct iqp_redirect *t, char *why, size_t len)
{
	int fd = listener(x, t, why, len);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Answers the REGISTER txid on c with 1300 and the targets, then expects
 * the AGW's CLOSE 1000 (7.4 item 1) and closes c. */
static int redirect(struct cf_ctx *x, struct cf_conn *c, uint32_t txid,
		    const struct iqp_redirect *t, size_t n, char *why, size_t len)
{
	struct cf_msg b;
	unsigned code = 0;
	int rc = 0;

	cf_msg_start(x, &b, IQP_KIND_REPLY, IQP_MSG_REGISTER, txid);
	b.m.hdr.flags = IQP_FLAG_E;
	iqp_link_reg_add_error(&b.m, 1300, "redirected by the conformance suite", 0);
	for (size_t i = 0; i < n; i++)
		iqp_link_reg_add_redirect(&b.m, &t[i]);
	if ((rc = cf_conn_send_msg(c, &b.m)))
		snprintf(why, len, "cannot send the 1300 reply: %s", strerror(rc));
	else if (!cf_expect_close(x, c, x->timeout_ms, &code, why, len) || code != 1000)
		rc = EPROTO; /* why says what came */
	cf_conn_close(c);
	return rc;
}

/* The REGISTER after a redirect: HANDOFF 903, the epoch unchanged. */
static bool handoff_register(const struct iqp_node_info *was, const struct iqp_node_info *a,
			     char *why, size_t len)
{
	if (a->sc_method != IQP_SC_HANDOFF || a->sc_reason != 903) {
		snprintf(why, len, "REGISTER at the target has SC_METHOD %u SC_REASON %u, want "
			 "HANDOFF (%u) 903 (7.2.1)", a->sc_method, a->sc_reason, IQP_SC_HANDOFF);
		return false;
	}
	if (a->epoch != was->epoch || strcmp(a->node_id, was->node_id)) {
		snprintf(why, len, "REGISTER at the target: %s epoch %llu, was %s epoch %llu",
			 a->node_id, (unsigned long long)a->epoch, was->node_id,
			 (unsigned long long)was->epoch);
		return false;
	}
	return true;
}

/* 7.4 item 1: 1300 naming a second listener: CLOSE 1000, then REGISTER
 * HANDOFF 903 there, accepted. */
enum cf_result cf_a_redirect(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	struct iqp_redirect t;
	struct iqp_node_info was = x->agw, a;
	struct cf_conn c;
	uint32_t txid;
	int fd;

	cf_controller_unlink(x);
	if ((fd = listener(x, &t, why, len)) < 0)
		return CF_FAIL;
	if (cf_controller_accept(x, x->lfd, 40000, &c, &txid, &a, why, len))
		FAIL_WHY("%s (before the redirect)");
	if (redirect(x, &c, txid, &t, 1, why, len))
		FAIL_WHY("after 1300: %s; want CLOSE 1000");
	long long t0 = cf_now_ms();
	if (cf_controller_accept(x, fd, 5000, &x->link, &txid, &x->agw, why, len))
		FAIL_WHY("at the redirect target: %s");
	long long dt = cf_now_ms() - t0;
	if (!handoff_register(&was, &x->agw, why, len)) {
		cf_conn_close(&x->link);
		rc = CF_FAIL;
		goto out;
	}
	if (cf_controller_accept_reply(x, &x->link, txid, why, len))
		FAIL_WHY("%s");
	snprintf(why, len, "registered at port %u after %lld ms, HANDOFF 903", t.addr.port, dt);
out:
	close(fd);
	return rc;
}

/* 7.4 item 1: every target fails (nobody listens): the AGW returns to its
 * configured list (the suite's first listener), not HANDOFF there. */
enum cf_result cf_a_redirect_dead(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	struct iqp_redirect t[2];
	struct iqp_node_info a;
	struct cf_conn c;
	uint32_t txid;

	cf_controller_unlink(x);
	if (dead_target(x, &t[0], why, len) || dead_target(x, &t[1], why, len))
		return CF_FAIL;
	if (cf_controller_accept(x, x->lfd, 40000, &c, &txid, &a, why, len))
		FAIL_WHY("%s (before the redirect)");
	if (redirect(x, &c, txid, t, 2, why, len))
		FAIL_WHY("after 1300: %s; want CLOSE 1000");
	if (cf_controller_accept(x, x->lfd, 40000, &x->link, &txid, &x->agw, why, len))
		FAIL_WHY("not back on the configured list: %s");
	if (x->agw.sc_method == IQP_SC_HANDOFF) {
		cf_conn_close(&x->link);
		FAIL("back on the configured list with HANDOFF 903: no redirect is followed there");
	}
	if (cf_controller_accept_reply(x, &x->link, txid, why, len))
		FAIL_WHY("%s");
	snprintf(why, len, "both targets refused; registered on the configured list, method %u "
		 "reason %u", x->agw.sc_method, x->agw.sc_reason);
out:
	return rc;
}

/* 7.4 item 3, 2.5 item 4: MAX_REDIRECTS (3) consecutive redirects are
 * followed; a fourth 1300 is not: the AGW comes back to its configured
 * list, not to the target. */
enum cf_result cf_a_redirect_limit(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	struct iqp_redirect t;
	struct iqp_node_info a;
	struct cf_conn c;
	uint32_t txid;
	int fd;

	cf_controller_unlink(x);
	if ((fd = listener(x, &t, why, len)) < 0)
		return CF_FAIL;
	if (cf_controller_accept(x, x->lfd, 40000, &c, &txid, &a, why, len))
		FAIL_WHY("%s (before the redirects)");
	for (int i = 1; i <= 4; i++) {
		if (redirect(x, &c, txid, &t, 1, why, len))
			FAIL_WHY("%s (after 1300 number %d; want CLOSE 1000)", i);
		if (i == 4)
			break;
		if (cf_controller_accept(x, fd, 5000, &c, &txid, &a, why, len))
			FAIL_WHY("%s (redirect %d not followed)", i);
	}
	if (cf_controller_accept(x, x->lfd, 40000, &x->link, &txid, &x->agw, why, len))
		FAIL_WHY("after the fourth 1300, not back on the configured list: %s");
	if (cf_controller_accept_reply(x, &x->link, txid, why, len))
		FAIL_WHY("%s");
	struct cf_conn extra;
	if (!cf_conn_accept(&extra, fd, NULL, 0)) {
		cf_conn_close(&extra);
		FAIL("the fourth redirect was followed as well");
	}
	snprintf(why, len, "3 redirects followed, the fourth not");
out:
	close(fd);
	return rc;
}

/* 7.4 item 2: SERVICE_CHANGE HANDOFF 903 with a target: success reply,
 * CLOSE 1000, REGISTER HANDOFF 903 at the target. */
enum cf_result cf_a_handoff(struct cf_ctx *x, char *why, size_t len)
{
	enum cf_result rc = CF_PASS;
	struct iqp_redirect t;
	struct iqp_node_info was;
	struct cf_frame f;
	struct cf_msg b;
	unsigned code = 0;
	uint32_t txid;
	int fd;

	LINK();
	was = x->agw;
	if ((fd = listener(x, &t, why, len)) < 0)
		return CF_FAIL;
	cf_msg_start(x, &b, IQP_KIND_REQUEST, IQP_MSG_SERVICE_CHANGE, 0);
	iqp_add_enum(&b.m, NULL, IQP_E_SC_METHOD, IQP_SC_HANDOFF);
	iqp_add_u16(&b.m, NULL, IQP_E_SC_REASON, 903);
	iqp_link_reg_add_redirect(&b.m, &t);
	if (cf_request(x, &x->link, &b, &f, why, len)) {
		cf_controller_unlink(x);
		FAIL_WHY("SERVICE_CHANGE HANDOFF: %s");
	}
	bool err = f.hdr.flags & IQP_FLAG_E;
	code = f.error_code;
	cf_frame_free(&f);
	if (err) {
		cf_controller_unlink(x);
		FAIL("SERVICE_CHANGE HANDOFF 903 refused: %u", code);
	}
	if (!cf_expect_close(x, &x->link, x->timeout_ms, &code, why, len) || code != 1000) {
		cf_controller_unlink(x);
		FAIL_WHY("after the HANDOFF reply: %s; want CLOSE 1000");
	}
	cf_controller_unlink(x);
	if (cf_controller_accept(x, fd, 5000, &x->link, &txid, &x->agw, why, len))
		FAIL_WHY("at the handoff target: %s");
	if (!handoff_register(&was, &x->agw, why, len)) {
		cf_conn_close(&x->link);
		rc = CF_FAIL;
		goto out;
	}
	if (cf_controller_accept_reply(x, &x->link, txid, why, len))
		FAIL_WHY("%s");
	snprintf(why, len, "registered at port %u, HANDOFF 903", t.addr.port);
out:
	close(fd);
	return rc;
}
