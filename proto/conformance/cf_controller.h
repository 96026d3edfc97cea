/* Cases run against a controller (the suite plays an AGW): helpers and
 * cases shared by cf_cases_controller.c (framing, registration, errors;
 * the case table) and cf_cases_controller_link.c (timers, SERVICE_CHANGE,
 * reply cache, notifications). */
#ifndef IQPLUS_CF_CONTROLLER_H
#define IQPLUS_CF_CONTROLLER_H

#include "cf_suite.h"

/* Opens a connection and registers as x->self; the registration's reply
 * in *reply when not NULL.  CF_FAIL with why when either fails. */
enum cf_result cf_ctl_open_registered(struct cf_ctx *x, struct cf_conn *c,
				      struct cf_frame *reply, char *why, size_t len);

cf_case_h cf_c_inactivity, cf_c_reg_wait, cf_c_frame_timeout, cf_c_drain, cf_c_forced,
	cf_c_service_change_refused, cf_c_reply_cache, cf_c_event_unknown_context,
	cf_c_reconcile;

#endif
