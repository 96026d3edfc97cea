/* Registration state bound to a flow (TS 24.229 5.2.2): the IMPUs from
 * P-Associated-URI and the Service-Route learned from a 200 OK to
 * REGISTER, used to route and assert identity on the flow's originating
 * requests.  Keyed by flow id; released when the flow closes or the
 * registration ends (Expires 0, or expiry without refresh). */
#ifndef EPCSCF_REG_BINDING_H
#define EPCSCF_REG_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#define REG_MAX_IMPU 8
#define REG_URI_MAX 256

struct reg_binding {
	struct reg_binding *next, *prev; /* all bindings; owned by the table */
	struct reg_binding *hnext;      /* hash chain by flow_id */
	uint64_t flow_id;
	char *impu[REG_MAX_IMPU];       /* owned strings; first is the default */
	unsigned n_impu;
	char *service_route;            /* owned: "<sip:..>,<sip:..>" or NULL */
	uint64_t expires_ms;            /* loop time when it lapses */
};

/* Bindings by flow id: a hash (every REGISTER and originating request
 * looks its flow's binding up; a list walk was two thirds of the CPU per
 * REGISTER at 10,000 flows) and a list for the expiry sweep.  Zeroed
 * memory is an empty table. */
struct reg_table {
	struct reg_binding *head;       /* owned */
	struct reg_binding **buckets;   /* owned array of n_buckets */
	size_t n, n_buckets;
};

void reg_table_free(struct reg_table *t);
struct reg_binding *reg_find(struct reg_table *t, uint64_t flow_id);
void reg_remove(struct reg_table *t, uint64_t flow_id);

/* Applies a 2xx response to the REGISTER `req` sent for flow_id: stores
 * IMPUs and Service-Route, or removes the binding when the request's
 * contact is no longer registered.  Returns 0, ENOMEM, or ENOENT when the
 * binding was removed. */
int reg_apply_200(struct reg_table *t, uint64_t flow_id, sip_t const *sip,
		  sip_t const *req, uint64_t now_ms);

/* A binding made by the eP-CSCF itself, with no REGISTER toward IMS: a
 * guest IMPU from a WWSF range registered locally (range_proxy.c).
 * impu becomes its only IMPU; service_route (may be NULL) the route of
 * its originating requests.  Returns 0, EINVAL (impu too long) or ENOMEM
 * (a new binding is then removed). */
int reg_set_local(struct reg_table *t, uint64_t flow_id, const char *impu,
		  const char *service_route, uint64_t expires_ms);

/* The identity to assert for a request: the preferred one when it is a
 * registered IMPU, else the default IMPU; NULL when not registered. */
const char *reg_asserted_identity(const struct reg_binding *b,
				  const char *preferred);

/* Value of the first header named `name` among unknown headers, or NULL. */
const char *sip_unknown_value(sip_t const *sip, const char *name);

#endif
