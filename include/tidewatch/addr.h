/*
 * addr.h: IPv4 and IPv6 addresses and CIDR prefixes.
 *
 * A `struct tw_ip` holds either family in 16 bytes of network-order storage
 * (IPv4 uses bytes[0..3]; the other bytes are always zero, so two equal
 * addresses compare equal with memcmp). The parsers are strict on purpose:
 * indicators arrive from many feeds, and "010.1.1.1" means 8.1.1.1 to one tool
 * and 10.1.1.1 to another, so such forms are rejected rather than guessed at.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) parse as IPv6 and format in the
 * mixed notation of RFC 5952 section 5. tw_ip_unmap() turns them into IPv4
 * when a caller wants one family for both (the ipset module does so).
 */
#ifndef TIDEWATCH_ADDR_H
#define TIDEWATCH_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

struct tw_ip {
    uint8_t family;    /* 4 or 6 */
    uint8_t bytes[16]; /* v4 in bytes[0..3], network order; unused bytes are zero */
};

/* Longest formatted address ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") plus a NUL. */
#define TW_IP_STRLEN 46

/* Flags reported by tw_cidr_parse_flags(). */
#define TW_CIDR_HOST_BITS 0x1u /* bits after the prefix were set and have been cleared */
#define TW_CIDR_BARE      0x2u /* no "/n" was given: the whole address (/32 or /128) */

/*
 * Parses one address, the whole slice and nothing else: a dotted quad of four
 * decimal octets without leading zeros, or an RFC 4291 IPv6 address with at
 * most one "::" and an optional trailing dotted quad. Zone ids ("%eth0"),
 * brackets, ports and surrounding space are rejected. Returns TW_OK and fills
 * *out, or TW_EINVAL with err->offset at the first offending byte (out is then
 * unspecified). err may be NULL.
 */
int tw_ip_parse(struct tw_str s, struct tw_ip *out, struct tw_err *err) TW_MUST_CHECK;

/*
 * Writes the text form of ip and a NUL into out: a dotted quad for IPv4, the
 * RFC 5952 canonical form for IPv6 (lowercase, no leading zeros, the longest
 * run of two or more zero fields as "::", the first such run on a tie, and
 * ::ffff:a.b.c.d for IPv4-mapped addresses). Returns the length written, or
 * TW_EINVAL (writing "") when ip->family is neither 4 nor 6.
 */
int tw_ip_format(const struct tw_ip *ip, char out[TW_IP_STRLEN]);

/*
 * Parses "a.b.c.d/n", "x::/n" or a bare address (taken as /32 or /128). The
 * prefix length is decimal without leading zeros and at most 32 or 128. Host
 * bits set after the prefix are accepted and cleared in *net; use
 * tw_cidr_parse_flags() to learn that it happened. Returns TW_OK or TW_EINVAL
 * with err->offset at the offending byte.
 */
int tw_cidr_parse(
        struct tw_str s, struct tw_ip *net, unsigned *prefix_len, struct tw_err *err) TW_MUST_CHECK;

/*
 * Like tw_cidr_parse, and also stores TW_CIDR_* bits in *flags (when flags is
 * not NULL) so that a validator can warn about "10.1.2.3/8".
 */
int tw_cidr_parse_flags(struct tw_str s, struct tw_ip *net, unsigned *prefix_len, unsigned *flags,
        struct tw_err *err) TW_MUST_CHECK;

/*
 * True when ip lies inside net/prefix_len. Families must match (no mapping is
 * applied here); a prefix_len longer than the family allows never matches.
 */
bool tw_ip_in_cidr(const struct tw_ip *ip, const struct tw_ip *net, unsigned prefix_len);

/* Orders addresses: every IPv4 before every IPv6, then bytewise. Returns <0, 0 or >0. */
int tw_ip_cmp(const struct tw_ip *a, const struct tw_ip *b);

/* Clears every bit of ip after the first prefix_len bits (clamped to the family's width). */
void tw_ip_mask(struct tw_ip *ip, unsigned prefix_len);

/* True when some bit after the first prefix_len bits of ip is set. */
bool tw_ip_host_bits_set(const struct tw_ip *ip, unsigned prefix_len);

/* Maximum prefix length of ip's family: 32, 128, or 0 for an invalid family. */
unsigned tw_ip_max_prefix(const struct tw_ip *ip);

/* True when ip is an IPv4-mapped IPv6 address (::ffff:0:0/96). */
bool tw_ip_is_v4mapped(const struct tw_ip *ip);

/*
 * When ip is IPv4-mapped, rewrites it in place as the plain IPv4 address and
 * returns true; otherwise leaves it alone and returns false.
 */
bool tw_ip_unmap(struct tw_ip *ip);

/* Builds an IPv4 address from a host-order integer (0x01020304 is 1.2.3.4). */
void tw_ip_from_v4(struct tw_ip *out, uint32_t addr_host_order);

/* The IPv4 address of ip as a host-order integer; ip->family must be 4. */
uint32_t tw_ip_v4(const struct tw_ip *ip);

#endif
