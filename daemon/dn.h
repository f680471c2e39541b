/*
 * dn.h: distinguished names (RFC 4514) in a canonical form for comparison.
 *
 * Use: dn_normalize() returns a new string the caller frees; it never logs.
 */
#ifndef ROSTERD_DN_H
#define ROSTERD_DN_H

#include <stddef.h>

/* Canonical form of a DN for comparison: attribute types lower-cased (known
 * OIDs to names), values case-folded with inner spaces collapsed and outer
 * spaces dropped, escapes decoded and re-encoded minimally, multi-valued RDNs
 * sorted, no spaces around separators. Two DNs name the same entry when their
 * normal forms are equal. Returns 0, -EINVAL (not a DN) or -ENOMEM. */
int dn_normalize(const char *dn, size_t len, char **out);

#endif
