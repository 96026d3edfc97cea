/* RFC 5104 codec control toward IMS (SPEC 8.9.3 item 3, CCM_INTERWORK):
 * an IMS peer that negotiated "ccm fir" but not "nack pli" (RFC 4585)
 * gets a Full Intra Request where the browser sent a Picture Loss
 * Indication.  Pure. */
#ifndef AGW_RTCP_CCM_H
#define AGW_RTCP_CCM_H

#include <stddef.h>
#include <stdint.h>

/* Rewrites, in place, every PLI (PSFB FMT 1) of the compound RTCP packet
 * p[*len] (cap bytes of room) into a FIR (PSFB FMT 4, RFC 5104 4.3.1)
 * for the PLI's media source, with the sequence number *fir_seq, which
 * is then incremented (one counter per stream: a new request per PLI).
 * Returns 0 (*len grows by 8 per PLI; *converted counts them), EINVAL
 * (malformed compound: nothing changed) or ENOSPC (does not fit in cap:
 * nothing changed). */
int rtcp_pli_to_fir(uint8_t *p, size_t *len, size_t cap, uint8_t *fir_seq,
		    unsigned *converted);

#endif
