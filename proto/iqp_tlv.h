/* Iq+ message bodies as element trees (SPEC.md clause 4): the generic
 * C-bit tree walk of 4.3 (validation pass 1: structure), and typed
 * accessors for the value types of 4.2.  The schema passes 2 and 3 are in
 * iqp_validate.h, building and encoding in iqp_build.h.
 *
 * Ownership: a struct iqp_msg owns (or borrows, see iqp_msg_parse) one
 * block of memory holding its element nodes; a decoded message's values
 * point into the body it was decoded from, which the caller keeps alive
 * for the life of the message.  Nodes hold no other resource. */
#ifndef PROTO_IQP_TLV_H
#define PROTO_IQP_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iqp_frame.h"
#include "iqp_registry.h"

/* Set by the validator on elements to be ignored: unknown or misplaced
 * with M clear (4.4 pass 2a, 2c).  Accessors skip them. */
#define IQP_EF_SKIP 0x01u

struct iqp_elem {
	struct iqp_elem *next;          /* next sibling */
	struct iqp_elem *child;         /* first child; containers (C set) */
	struct iqp_elem *last;          /* last child */
	struct iqp_elem *parent;        /* NULL at the top level */
	const uint8_t *value;           /* borrowed, len bytes; NULL for
					 * containers of a built message */
	const struct iqp_elem_def *def; /* registry entry, NULL if unregistered */
	uint32_t len;                   /* value length (decoded messages) */
	uint32_t offset;                /* first header byte, from body start */
	uint16_t type;                  /* type field: M, C and code (4.1) */
	uint8_t depth;                  /* 1 at the top level (4.3) */
	uint8_t flags;                  /* IQP_EF_* */
	uint8_t node;                   /* validator: schema node of children */
};

struct iqp_msg {
	struct iqp_header hdr;
	struct iqp_elem *first, *last;  /* top-level elements */
	size_t n_elems;
	uint8_t *mem;                   /* nodes from the front, built values
					 * from the back; owned if mem_owned */
	size_t mem_cap, mem_lo, mem_hi;
	bool mem_owned;
	int err;                        /* first builder error, sticky */
};

struct iqp_ip {
	uint8_t family;                 /* 4 or 6 */
	uint8_t addr[16];               /* 4 or 16 bytes used */
};

struct iqp_ipport {
	struct iqp_ip ip;
	uint16_t port;
};

/* What a receiver does about an error in the body of a frame of this
 * kind (4.4 "Reporting"). */
unsigned iqp_body_error_action(unsigned kind);

/* Pass 1 (4.4): checks the structure of a body of h->body_len bytes and
 * builds its tree.  `body` must outlive m.  Memory: exactly one node per
 * element (at most MAX_ELEMENTS, at most body_len / 6), taken from `arena`
 * when not NULL (ENOBUFS if arena_len is too small; the arena must outlive
 * m) or from one malloc otherwise.  Returns 0; EBADMSG with err (1001,
 * 1002, 1003); ENOBUFS; ENOMEM.  Free with iqp_msg_free. */
int iqp_msg_parse(struct iqp_msg *m, const struct iqp_header *h,
		  const uint8_t *body, void *arena, size_t arena_len,
		  struct iqp_error *err);
/* Bytes of arena iqp_msg_parse needs for n elements. */
size_t iqp_msg_parse_need(size_t n_elems);
void iqp_msg_free(struct iqp_msg *m);

/* Navigation, skipping IQP_EF_SKIP elements.  parent NULL: top level. */
const struct iqp_elem *iqp_find(const struct iqp_msg *m,
				const struct iqp_elem *parent, uint16_t code);
const struct iqp_elem *iqp_next_same(const struct iqp_elem *e);
size_t iqp_count(const struct iqp_msg *m, const struct iqp_elem *parent,
		 uint16_t code);
uint16_t iqp_elem_code(const struct iqp_elem *e);

/* Typed access to one element's value (4.2).  Each returns 0 with *out
 * set, or EBADMSG when the value is not a valid encoding of that type
 * (length, bool > 1, UTF-8, NUL, IP family).  They do not check the
 * registered type of the code: the validator has done that. */
int iqp_elem_u8(const struct iqp_elem *e, uint8_t *out);
int iqp_elem_u16(const struct iqp_elem *e, uint16_t *out);
int iqp_elem_u32(const struct iqp_elem *e, uint32_t *out);
int iqp_elem_u64(const struct iqp_elem *e, uint64_t *out);
int iqp_elem_bool(const struct iqp_elem *e, bool *out);
int iqp_elem_enum(const struct iqp_elem *e, uint8_t *out);
/* String: pointer into the value and length (not NUL-terminated). */
int iqp_elem_str(const struct iqp_elem *e, const char **out, size_t *len);
/* String copied with a terminating NUL; ENOSPC if cap is too small. */
int iqp_elem_strcpy(const struct iqp_elem *e, char *buf, size_t cap);
int iqp_elem_octets(const struct iqp_elem *e, const uint8_t **out,
		    size_t *len);
int iqp_elem_ip(const struct iqp_elem *e, struct iqp_ip *out);
int iqp_elem_ipport(const struct iqp_elem *e, struct iqp_ipport *out);

/* Value encoding checks shared with the validator. */
bool iqp_utf8_valid(const uint8_t *s, size_t n);
/* 0 if len bytes are a valid encoding of vtype (strings: UTF-8, no NUL, no
 * leading BOM; length ranges are not checked), else EBADMSG. */
int iqp_value_check(unsigned vtype, const uint8_t *v, size_t len);

#endif
