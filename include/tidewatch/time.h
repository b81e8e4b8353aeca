/*
 * time.h: RFC 3339 timestamps with STIX's and TAXII's precision rules.
 *
 * STIX 2.1 (section 3.2, "timestamp") writes YYYY-MM-DDTHH:MM:SS[.s+]Z: UTC
 * with a literal "Z" and any number of fractional digits; `created` and
 * `modified` must carry at least millisecond precision. TAXII 2.1 timestamps
 * carry exactly six fractional digits. RFC 3339 in general also allows a
 * numeric offset (+02:00), which TW_TIME_ALLOW_OFFSET accepts.
 */
#ifndef TIDEWATCH_TIME_H
#define TIDEWATCH_TIME_H

#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

struct tw_time {
    int64_t sec;         /* seconds since 1970-01-01T00:00:00Z (may be negative) */
    uint32_t nsec;       /* 0 .. 999,999,999 */
    uint8_t frac_digits; /* fractional digits the text had (0 .. 9; more are truncated) */
};

/* Flags for tw_time_parse. */
#define TW_TIME_ALLOW_OFFSET 0x1u /* accept +hh:mm / -hh:mm besides Z */
#define TW_TIME_MILLIS       0x2u /* require at least three fractional digits */
#define TW_TIME_ALLOW_LOWER  0x4u /* accept lower-case 't' and 'z' (RFC 3339 permits them) */

/* Big enough for any timestamp tw_time_format writes, with its NUL. */
#define TW_TIME_STRLEN 40

/*
 * Parses s as an RFC 3339 timestamp. With no flags only the STIX form (UTC,
 * "Z") is accepted. A leap second (:60) is accepted and folded into the next
 * second. Returns TW_OK or TW_EINVAL with err naming the offending offset.
 */
int tw_time_parse(
        struct tw_str s, unsigned flags, struct tw_time *out, struct tw_err *err) TW_MUST_CHECK;

/*
 * Writes t as YYYY-MM-DDTHH:MM:SS[.fff]Z into out (at least TW_TIME_STRLEN
 * bytes). digits is the number of fractional digits (0..9), or -1 to use
 * t->frac_digits. Returns the length written.
 */
int tw_time_format(const struct tw_time *t, int digits, char *out);

/* Negative, zero or positive as a is before, equal to or after b. */
int tw_time_cmp(const struct tw_time *a, const struct tw_time *b);

/* The current UTC time with microsecond precision (6 fractional digits). */
struct tw_time tw_time_now(void);

/* Days since the epoch for a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t tw_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
