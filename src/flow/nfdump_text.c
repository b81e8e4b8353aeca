/*
 * nfdump_text.c: one line of nfdump's TW_NFDUMP_FMT output into a flow
 * record (nfdump_text.h). nfdump writes times in UTC when TZ=UTC0, which
 * `flows import` sets; addresses in full with -6.
 */
#include "tidewatch/nfdump_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tidewatch/addr.h"
#include "tidewatch/common.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"

enum nf_field {
    F_TS = 0,
    F_TE,
    F_PR,
    F_SA,
    F_SP,
    F_DA,
    F_DP,
    F_PKT,
    F_BYT,
    F_FLG,
    F_TOS,
    F_IN,
    F_OUT,
    F_SAS,
    F_DAS,
    F_SMK,
    F_DMK,
    F_NH,
    F_RA,
    F_SVLN,
    F_ENG,
    F_COUNT,
};

static const char *const field_names[F_COUNT] = { "first seen", "last seen", "protocol",
    "source address", "source port", "destination address", "destination port", "packets", "bytes",
    "TCP flags", "ToS", "input interface", "output interface", "source AS", "destination AS",
    "source mask", "destination mask", "next hop", "router", "VLAN", "engine" };

_Static_assert(F_COUNT == TW_NFDUMP_FIELDS, "nfdump_text.h and the field list agree");

const char *tw_nfdump_field_name(unsigned i)
{
    return i < F_COUNT ? field_names[i] : "line";
}

/* "YYYY-MM-DD hh:mm:ss.mmm" (UTC) into ms since the epoch; nfdump's zero time is 0. */
static int nf_parse_time(struct tw_str s, int64_t *out)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd.ddd";
    unsigned v[7] = { 0 }, k = 0;

    if (s.len != sizeof(shape) - 1)
        return -1;
    for (size_t i = 0; i < s.len; i++) {
        if (shape[i] == 'd') {
            if (!tw_ascii_isdigit(s.ptr[i]))
                return -1;
            v[k] = v[k] * 10 + (unsigned)(s.ptr[i] - '0');
        } else if (s.ptr[i] != shape[i]) {
            return -1;
        } else {
            k++;
        }
    }
    /* v: year, month, day, hour, minute, second, millisecond */
    if (v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] == 0 && v[4] == 0 && v[5] == 0 && v[6] == 0) {
        *out = 0;
        return 0;
    }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 ||
            v[5] > 60)
        return -1;
    *out = ((tw_days_from_civil(v[0], v[1], v[2]) * 24 + v[3]) * 60 + v[4]) * INT64_C(60000) +
           (int64_t)v[5] * 1000 + v[6];
    return 0;
}

static int nf_parse_uint(struct tw_str s, uint64_t max, uint64_t *out)
{
    return tw_parse_u64(s, max, out) == TW_OK ? 0 : -1;
}

/* An address; nfdump's all-zero address (not exported) gives family 0 when `zero_ok`. */
static int nf_parse_addr(struct tw_str s, struct tw_ip *out, bool zero_ok)
{
    static const uint8_t zero[16] = { 0 };

    if (tw_ip_parse(s, out, NULL) != TW_OK)
        return -1;
    if (zero_ok && memcmp(out->bytes, zero, sizeof(zero)) == 0)
        memset(out, 0, sizeof(*out));
    return 0;
}

/* nfdump's flag letters "CEUAPRSF" with '.' for a clear bit, or "0xNN". */
static int nf_parse_flags(struct tw_str s, uint8_t *out)
{
    static const char letters[] = "CEUAPRSF";
    uint64_t v;

    if (s.len > 2 && s.ptr[0] == '0' && (s.ptr[1] == 'x' || s.ptr[1] == 'X')) {
        if (tw_parse_hex_u64(tw_str_make(s.ptr + 2, s.len - 2), 0xff, &v) != TW_OK)
            return -1;
        *out = (uint8_t)v;
        return 0;
    }
    if (s.len != 8)
        return -1;
    *out = 0;
    for (size_t i = 0; i < 8; i++) {
        if (s.ptr[i] == letters[i])
            *out |= (uint8_t)(0x80u >> i);
        else if (s.ptr[i] != '.')
            return -1;
    }
    return 0;
}

/* "A/B" with both parts at most 255 (engine type/id), or "T.C" (ICMP type.code). */
static int nf_parse_pair(struct tw_str s, char sep, uint16_t *out)
{
    struct tw_str a, b;
    uint64_t x, y;
    long at = tw_str_find(s, sep);

    if (at < 0)
        return -1;
    a = tw_str_trim(tw_str_make(s.ptr, (size_t)at));
    b = tw_str_trim(tw_str_make(s.ptr + at + 1, s.len - (size_t)at - 1));
    if (nf_parse_uint(a, 255, &x) != 0 || nf_parse_uint(b, 255, &y) != 0)
        return -1;
    *out = (uint16_t)(x << 8 | y);
    return 0;
}

/*
 * Parses one line of nfdump's TW_NFDUMP_FMT output into *rec. Returns 0,
 * or -1 with *bad the index of the first field that is wrong (F_COUNT when
 * the line does not have F_COUNT fields). Never reads outside `line`.
 */
int tw_nfdump_parse_line(struct tw_str line, struct tw_flowrec *rec, unsigned *bad)
{
    struct tw_str f[F_COUNT], tok;
    unsigned n = 0;
    uint64_t v;
    uint16_t pair;

    memset(rec, 0, sizeof(*rec));
    *bad = F_COUNT;
    while (tw_str_split(&line, '|', &tok)) {
        if (n == F_COUNT)
            return -1; /* too many fields */
        f[n++] = tw_str_trim(tok);
    }
    if (n != F_COUNT)
        return -1;
#define IMP_FAIL(i)                                                                                \
    do {                                                                                           \
        *bad = (i);                                                                                \
        return -1;                                                                                 \
    } while (0)
    if (nf_parse_time(f[F_TS], &rec->first_ms) != 0)
        IMP_FAIL(F_TS);
    if (nf_parse_time(f[F_TE], &rec->last_ms) != 0)
        IMP_FAIL(F_TE);
    if (nf_parse_uint(f[F_PR], 255, &v) != 0)
        IMP_FAIL(F_PR);
    rec->proto = (uint8_t)v;
    if (nf_parse_addr(f[F_SA], &rec->src, false) != 0)
        IMP_FAIL(F_SA);
    if (nf_parse_addr(f[F_DA], &rec->dst, false) != 0 || rec->dst.family != rec->src.family)
        IMP_FAIL(F_DA);
    if (nf_parse_uint(f[F_SP], UINT16_MAX, &v) != 0)
        IMP_FAIL(F_SP);
    rec->sport = (uint16_t)v;
    if (nf_parse_uint(f[F_DP], UINT16_MAX, &v) == 0)
        rec->dport = (uint16_t)v;
    else if (nf_parse_pair(f[F_DP], '.', &pair) == 0)
        rec->dport = pair; /* ICMP type.code */
    else
        IMP_FAIL(F_DP);
    if (nf_parse_uint(f[F_PKT], UINT64_MAX, &rec->packets) != 0)
        IMP_FAIL(F_PKT);
    if (nf_parse_uint(f[F_BYT], UINT64_MAX, &rec->bytes) != 0)
        IMP_FAIL(F_BYT);
    if (nf_parse_flags(f[F_FLG], &rec->tcp_flags) != 0)
        IMP_FAIL(F_FLG);
    if (nf_parse_uint(f[F_TOS], 255, &v) != 0)
        IMP_FAIL(F_TOS);
    rec->tos = (uint8_t)v;
    if (nf_parse_uint(f[F_IN], UINT32_MAX, &v) != 0)
        IMP_FAIL(F_IN);
    rec->in_if = (uint32_t)v;
    if (nf_parse_uint(f[F_OUT], UINT32_MAX, &v) != 0)
        IMP_FAIL(F_OUT);
    rec->out_if = (uint32_t)v;
    if (nf_parse_uint(f[F_SAS], UINT32_MAX, &v) != 0)
        IMP_FAIL(F_SAS);
    rec->src_as = (uint32_t)v;
    if (nf_parse_uint(f[F_DAS], UINT32_MAX, &v) != 0)
        IMP_FAIL(F_DAS);
    rec->dst_as = (uint32_t)v;
    if (nf_parse_uint(f[F_SMK], rec->src.family == 4 ? 32 : 128, &v) != 0)
        IMP_FAIL(F_SMK);
    rec->src_mask = (uint8_t)v;
    if (nf_parse_uint(f[F_DMK], rec->src.family == 4 ? 32 : 128, &v) != 0)
        IMP_FAIL(F_DMK);
    rec->dst_mask = (uint8_t)v;
    if (nf_parse_addr(f[F_NH], &rec->nexthop, true) != 0)
        IMP_FAIL(F_NH);
    if (nf_parse_addr(f[F_RA], &rec->exporter, true) != 0)
        IMP_FAIL(F_RA);
    if (nf_parse_uint(f[F_SVLN], UINT16_MAX, &v) != 0)
        IMP_FAIL(F_SVLN);
    rec->vlan = (uint16_t)v;
    if (nf_parse_pair(f[F_ENG], '/', &pair) != 0)
        IMP_FAIL(F_ENG);
    rec->domain = pair;
#undef IMP_FAIL
    rec->source = TW_FLOWREC_NFDUMP;
    return 0;
}
