/* IMPU patterns and wildcarded IMPU ranges of a WWSF (TR 23.701 5.3.2.1.4/5,
 * NOTE 3 of A.2.1.1; TS 29.228 7.2b Wildcarded Public Identity).
 *
 * A pattern is a SIP or tel URI with at most one '*', standing for one or
 * more characters of a user part (never '@', ':', ';', '?', '<', '>', ',',
 * '"', '!' or white space; '!' is the delimiter of a wildcard in IMS
 * wildcarded identities).  "sip:*@ims.test" allows any user of ims.test;
 * "sip:guest-*@ims.test" a guest range.  The IMS form of a range, as the
 * HSS stores a wildcarded public user identity, is
 * "sip:guest-!.*!@ims.test" (range_register.h registers it).
 * Pure functions. */
#ifndef EPCSCF_IMPU_RANGE_H
#define EPCSCF_IMPU_RANGE_H

#include <stdbool.h>
#include <stddef.h>

#define IMPU_MAX 256

/* 0, or EINVAL with the reason in why. */
int impu_pattern_check(const char *pattern, char *why, size_t whylen);
/* True when uri (a bare URI, no <>) matches pattern exactly. */
bool impu_pattern_match(const char *pattern, const char *uri);
/* The wildcarded public identity of a range pattern: '*' becomes "!.*!"
 * (TS 23.003 13.4A, whose format is that of a wildcarded PSI, 13.5: an
 * extended regular expression between two '!' in the userinfo or
 * telephone-subscriber part; '!' is not allowed in the fixed parts, which
 * impu_pattern_check ensures).  ".*" also matches the empty string, which
 * '*' does not: the IMS form covers "sip:guest-@..." too, an IMPU no token
 * can hold (impu_pattern_match).  Returns 0 or EMSGSIZE. */
int impu_range_wildcarded(const char *pattern, char *out, size_t outlen);

#endif
