/* Iq+ messages as JSON: the decoded form of the test vectors
 * (proto/vectors/README.md), for vectors, tests and diagnostics.  Uses
 * jansson; kept apart so that programs that do not print JSON need not
 * link it.
 *
 *   {"header": {"version": 1, "kind": "REQUEST", "flags": 0,
 *               "code": "RESERVE", "txid": 42},
 *    "body": [ {"CONTEXT": [ {"CONTEXT_ID": 4294967294}, ... ]} ]}
 *
 * A registered element with its registered type field and a value valid
 * for its type is {"NAME": value}; any other element is written raw as
 * {"type": "0x9f01", "hex": "0102"} or, with C set,
 * {"type": "0x5f01", "elements": [...]}. */
#ifndef PROTO_IQP_JSON_H
#define PROTO_IQP_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "iqp_tlv.h"

/* The decoded form of m, header and body in tree order.  Returns 0 with a
 * new reference in *out (the caller json_decref()s it), or ENOMEM. */
int iqp_json_from_msg(const struct iqp_msg *m, json_t **out);

/* Builds m from the decoded form j, elements in the order given.  m owns
 * one allocation sized from j (free with iqp_msg_free).  Returns 0, or
 * EINVAL with the reason in err, or ENOMEM. */
int iqp_json_to_msg(const json_t *j, struct iqp_msg *m, char *err,
		    size_t errlen);

/* The header object alone (0 or ENOMEM), and back (EINVAL with err). */
int iqp_json_header(const struct iqp_header *h, json_t **out);
int iqp_json_parse_header(const json_t *j, struct iqp_header *h, char *err,
			  size_t errlen);

#endif
