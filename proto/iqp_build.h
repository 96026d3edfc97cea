/* Building and encoding Iq+ messages (SPEC.md 4.1, 4.7).
 *
 * A message is built into one block of memory given at iqp_msg_init: nodes
 * from its front, copied values from its back; nothing else is allocated.
 * iqp_add_* insert each element at its canonical place (ascending code
 * within its parent, instances of one code in the order added), with the
 * M and C bits of the registry, so any build order encodes canonically
 * (4.7 item 3).  Builder errors are sticky: after the first failure every
 * later call returns the same error, and so does iqp_msg_encode, so a
 * caller may check once at the end. */
#ifndef PROTO_IQP_BUILD_H
#define PROTO_IQP_BUILD_H

#include "iqp_tlv.h"

/* Starts an empty message with header h (body_len is computed at encode).
 * arena: memory of cap bytes the message borrows (must outlive it), or
 * NULL to malloc cap bytes (freed by iqp_msg_free).  Returns 0, EINVAL,
 * ENOMEM. */
int iqp_msg_init(struct iqp_msg *m, const struct iqp_header *h, void *arena,
		 size_t cap);

/* Adds a registered element under parent (NULL: top level), canonically
 * placed.  Leaves copy len bytes from val; containers take no value.
 * Returns 0 (with *out, if not NULL), EINVAL (unregistered code, parent not
 * a container, value size wrong for a fixed-size type), E2BIG (deeper
 * than MAX_DEPTH or more than MAX_ELEMENTS), ENOMEM (arena full). */
int iqp_add(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
	    const void *val, size_t len, struct iqp_elem **out);
int iqp_add_container(struct iqp_msg *m, struct iqp_elem *parent,
		      uint16_t code, struct iqp_elem **out);

/* Typed variants: EINVAL when the registered value type of code differs. */
int iqp_add_u8(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
	       uint8_t v);
int iqp_add_u16(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		uint16_t v);
int iqp_add_u32(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		uint32_t v);
int iqp_add_u64(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		uint64_t v);
int iqp_add_bool(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		 bool v);
int iqp_add_enum(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		 uint8_t v);
/* NUL-terminated UTF-8 string. */
int iqp_add_str(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		const char *s);
int iqp_add_octets(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		   const void *p, size_t n);
int iqp_add_ip(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
	       const struct iqp_ip *ip);
int iqp_add_ipport(struct iqp_msg *m, struct iqp_elem *parent, uint16_t code,
		   const struct iqp_ipport *a);

/* ERROR { ERROR_CODE, ERROR_TEXT (if any), ERROR_ELEMENT, ERROR_OFFSET (if
 * known), RETRY_SCOPE of 10.3 } for err, at the top level (10.1). */
int iqp_add_error(struct iqp_msg *m, const struct iqp_error *err);

/* Appends an element with any type field as the last child of parent, for
 * test tools and for rebuilding received bodies in their own order.  With
 * C set, val must be NULL: the children are appended after it. */
int iqp_append_raw(struct iqp_msg *m, struct iqp_elem *parent, uint16_t type,
		   const void *val, size_t len, struct iqp_elem **out);

/* Size of the encoded frame (header + body). */
int iqp_msg_encoded_len(const struct iqp_msg *m, size_t *len);
/* Writes the frame (header with the computed body length, then the
 * elements in tree order) into buf.  Returns 0 with *len, the builder's
 * error, or EMSGSIZE when cap is too small or the body exceeds 2^32-1. */
int iqp_msg_encode(const struct iqp_msg *m, uint8_t *buf, size_t cap,
		   size_t *len);

/* True when every element has its registered M and C bits (unregistered
 * codes excepted) and siblings are in ascending code order (4.7). */
bool iqp_msg_is_canonical(const struct iqp_msg *m);

#endif
