/* The DTLS association of a W3 transport (SPEC 8.9.2): start in either
 * role, progress, fingerprint verification (possibly after the
 * handshake), SRTP contexts from the exported keys, failure events, and a
 * new association on a new tls-id. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term_w3_int.h"

static const char *profile_name(uint16_t p)
{
	switch (p) {
	case SRTP_PROFILE_AES128_CM_HMAC_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
	case SRTP_PROFILE_AES128_CM_HMAC_SHA1_32: return "SRTP_AES128_CM_SHA1_32";
	case SRTP_PROFILE_AEAD_AES_128_GCM: return "SRTP_AEAD_AES_128_GCM";
	case SRTP_PROFILE_AEAD_AES_256_GCM: return "SRTP_AEAD_AES_256_GCM";
	}
	return NULL;
}

/* --- Events and state ------------------------------------------------------ */

/* FAILED forwards nothing (on_media, term_w3_send_* check the state); the
 * SRTP contexts stay, so that an ICE restart can bring the termination
 * back on the same DTLS association. */
void w3_fail(struct media_term *t)
{
	media_term_set_state(t, TERM_FAILED);
}

void w3_dtls_failed(struct media_term *t, unsigned code, const char *why)
{
	struct media_event ev = { .type = 6, .error = code, .text = why, .alert = t->w3->dtls.alert };

	log_info(t->mp->log, t->mp->sub, NULL, "dtls failed", LF_U("context", t->ctx ? t->ctx->id : 0),
		 LF_U("term", t->id), LF_U("code", code), LF_S("reason", why));
	t->w3->dtls_reported = true;
	w3_srtp_drop(t);
	media_term_event(t, &ev);
	w3_fail(t);
}

/* CONNECTING -> ACTIVE once a pair is selected and DTLS is verified. */
void w3_check_active(struct media_term *t)
{
	struct term_w3 *w = t->w3;

	if (w->has_sel && w->srtp_out && (t->state == TERM_CONNECTING || t->state == TERM_CONFIGURED))
		media_term_set_state(t, TERM_ACTIVE);
}

/* Both SRTP contexts in one two-page object of the plane's pool (on a
 * huge page with the other calls' state), the inbound one at its start:
 * its address is the object's. */
static int srtp_make(struct media_term *t)
{
	struct term_w3 *w = t->w3;
	const struct dtls_keys *k = &w->dtls.keys;
	uint8_t *mem = media_zalloc(t->mp, 2 * SRTP_TRANSFORM_PAGE);
	int rc;

	if (!mem)
		return ENOMEM;
	if ((rc = srtp_transform_create_at(mem, k->profile, SRTP_TRANSFORM_INBOUND, k->remote_key,
					   k->key_len, k->remote_salt, k->salt_len, &w->srtp_in))) {
		media_free(t->mp, mem);
		return rc;
	}
	if ((rc = srtp_transform_create_at(mem + SRTP_TRANSFORM_PAGE, k->profile,
					   SRTP_TRANSFORM_OUTBOUND, k->local_key, k->key_len,
					   k->local_salt, k->salt_len, &w->srtp_out)))
		w3_srtp_drop(t);
	return rc;
}

void w3_srtp_drop(struct media_term *t)
{
	struct term_w3 *w = t->w3;
	void *mem = w->srtp_in; /* the object's start (srtp_make) */
	bool in_ok = srtp_transform_free(w->srtp_in);
	bool out_ok = srtp_transform_free(w->srtp_out);

	w->srtp_in = w->srtp_out = NULL;
	/* Memory OpenSSL still holds stays out of the pool (leaked). */
	if (mem && in_ok && out_ok && media_free(t->mp, mem))
		log_error(t->mp->log, t->mp->sub, NULL, "SRTP contexts not from the page pool",
			  LF_U("term", t->id));
}

static void keys_ready(struct media_term *t)
{
	struct term_w3 *w = t->w3;
	const struct dtls_keys *k = &w->dtls.keys;

	if (srtp_make(t)) {
		w3_dtls_failed(t, 1302, "SRTP context creation failed");
		return;
	}
	struct media_event ev = { .type = 5, .profile = k->profile,
				  .setup = w->dtls.role == DTLS_ACTIVE ? IQP_SETUP_ACTIVE
								       : IQP_SETUP_PASSIVE };
	w->dtls_reported = true;
	log_info(t->mp->log, t->mp->sub, NULL, "dtls established",
		 LF_U("context", t->ctx ? t->ctx->id : 0), LF_U("term", t->id),
		 LF_S("role", w->dtls.role == DTLS_ACTIVE ? "client" : "server"),
		 LF_S("profile", profile_name(k->profile)));
	media_term_event(t, &ev);
	w3_check_active(t);
}

/* After DTLS input or a timer: keys, verification, failure. */
void w3_dtls_progress(struct media_term *t)
{
	struct term_w3 *w = t->w3;

	if (!w->dtls_on || w->dtls_reported)
		return;
	if (w->dtls.state == DTLS_FAILED) {
		w3_dtls_failed(t, w->dtls.fp_mismatch ? 1301 : 1302, w->dtls.fail_reason);
		return;
	}
	if (w->dtls.state != DTLS_CONNECTED)
		return;
	if (w->dtls.unverified) {
		/* 8.9.2 item 3: no media until the fingerprint is known. */
		if (!w->has_rfp)
			return;
		if (dtls_session_verify(&w->dtls, w->rfp)) {
			w3_dtls_failed(t, 1301, w->dtls.fail_reason);
			return;
		}
	}
	keys_ready(t);
}

static void dtls_send(void *arg, const uint8_t *buf, size_t len)
{
	struct media_term *t = arg;
	struct term_w3 *w = t->w3;

	if (w->dtls_sock && udp_sock_send(w->dtls_sock, buf, len, (struct sockaddr *)&w->dtls_peer))
		media_drop(t->mp, DROP_SEND);
}

void w3_start_dtls(struct media_term *t, enum dtls_role role, uint64_t now)
{
	struct term_w3 *w = t->w3;
	char list[128] = "";
	size_t n = 0;

	for (unsigned i = 0; i < w->n_profiles; i++) {
		const char *p = profile_name(w->profiles[i]);
		if (p)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ":" : "", p);
	}
	w->dtls_on = true;
	w->dtls_reported = false;
	if (dtls_session_start_ex(&w->dtls, &t->mp->dtls, role, w->has_rfp ? w->rfp : NULL,
				  *list ? list : NULL, DTLS_MTU_DEFAULT, dtls_send, t, now)) {
		w->dtls_on = false;
		w3_dtls_failed(t, 1302, "cannot start DTLS");
		return;
	}
	w3_dtls_progress(t);
}

/* A client starts once a pair is selected (there is somewhere to send). */
void w3_maybe_start_client(struct media_term *t)
{
	struct term_w3 *w = t->w3;

	if (w->setup == IQP_SETUP_ACTIVE && !w->dtls_on && w->has_sel && t->state != TERM_FAILED) {
		w->dtls_sock = w->sel_sock;
		memcpy(&w->dtls_peer, &w->sel, sizeof(w->sel));
		w3_start_dtls(t, DTLS_ACTIVE, media_now(t->mp));
		udp_io_flush(t->mp->io);
	}
}

void w3_drop_association(struct media_term *t)
{
	struct term_w3 *w = t->w3;

	if (w->dtls_on)
		dtls_session_free(&w->dtls);
	w->dtls_on = false;
	w->dtls_reported = false;
	w3_srtp_drop(t);
}

void term_w3_new_association(struct media_term *t, const char *tls_id)
{
	struct term_w3 *w = t->w3;

	snprintf(w->rtls_id, sizeof(w->rtls_id), "%s", tls_id);
	w3_drop_association(t);
	w3_random_ice(w->ltls_id, W3_TLS_ID_LEN);
	if (t->state == TERM_FAILED || t->state == TERM_ACTIVE)
		media_term_set_state(t, TERM_CONFIGURED);
}

