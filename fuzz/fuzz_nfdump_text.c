/*
 * fuzz_nfdump_text.c: libFuzzer target for the reader of nfdump's text
 * output (tw_nfdump_parse_line, src/flow/nfdump_text.c). The input is split
 * into lines as `flows import --nfdump` splits nfdump's output.
 *
 * Invariants checked with __builtin_trap():
 *   - a refused line names a field index no larger than TW_NFDUMP_FIELDS,
 *     and a name for it exists;
 *   - an accepted line gives a record with both addresses of one family (4
 *     or 6), and a next hop and router of family 0, 4 or 6. (First and last
 *     may come reversed: nfdump 1.7.1 swaps softflowd's IPFIX times, and the
 *     import puts them right.)
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/nfdump_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int family_ok(const struct tw_ip *ip, int zero_ok)
{
    return ip->family == 4 || ip->family == 6 || (zero_ok && ip->family == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        struct tw_flowrec rec;
        unsigned bad = 0;

        if (tw_nfdump_parse_line(tw_str_make(p, len), &rec, &bad) != 0) {
            if (bad > TW_NFDUMP_FIELDS || tw_nfdump_field_name(bad) == NULL)
                __builtin_trap();
        } else {
            if (!family_ok(&rec.src, 0) || rec.dst.family != rec.src.family ||
                    !family_ok(&rec.nexthop, 1) || !family_ok(&rec.exporter, 1))
                __builtin_trap();
        }
        p += len + 1;
    }
    return 0;
}
