/*
 * time.c: RFC 3339 parsing and formatting (see include/tidewatch/time.h).
 *
 * Grammar accepted (RFC 3339 section 5.6):
 *   date-fullyear "-" date-month "-" date-mday "T" time-hour ":" time-minute ":"
 *   time-second [ "." 1*DIGIT ] ( "Z" / ("+" / "-") time-hour ":" time-minute )
 */
#include "tidewatch/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t tw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y += *m <= 2;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n digits at s.ptr[*i]; returns -1 when they are not there. */
static long digits(struct tw_str s, size_t *i, size_t n)
{
    long v = 0;

    if (*i + n > s.len)
        return -1;
    for (size_t k = 0; k < n; k++) {
        char c = s.ptr[*i + k];
        if (!tw_ascii_isdigit(c))
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += n;
    return v;
}

static int expect(struct tw_str s, size_t *i, char c, bool lower_ok)
{
    if (*i < s.len && (s.ptr[*i] == c || (lower_ok && s.ptr[*i] == tw_ascii_lower(c)))) {
        (*i)++;
        return 1;
    }
    return 0;
}

int tw_time_parse(struct tw_str s, unsigned flags, struct tw_time *out, struct tw_err *err)
{
    bool lower = (flags & TW_TIME_ALLOW_LOWER) != 0;
    size_t i = 0, start;
    long year, mon, mday, hour, min, sec, off_min = 0;
    uint32_t nsec = 0;
    unsigned nfrac = 0;
    int64_t t;

    if ((year = digits(s, &i, 4)) < 0)
        return tw_err_set(err, TW_EINVAL, i, "timestamp: expected a four-digit year");
    if (!expect(s, &i, '-', false) || (mon = digits(s, &i, 2)) < 0 || !expect(s, &i, '-', false) ||
            (mday = digits(s, &i, 2)) < 0)
        return tw_err_set(err, TW_EINVAL, i, "timestamp: expected YYYY-MM-DD");
    if (mon < 1 || mon > 12)
        return tw_err_set(err, TW_EINVAL, 5, "timestamp: month %ld out of range", mon);
    if (mday < 1 || (unsigned)mday > days_in_month(year, (unsigned)mon))
        return tw_err_set(err, TW_EINVAL, 8, "timestamp: day %ld out of range", mday);
    if (!expect(s, &i, 'T', lower))
        return tw_err_set(err, TW_EINVAL, i, "timestamp: expected 'T' between date and time");
    if ((hour = digits(s, &i, 2)) < 0 || !expect(s, &i, ':', false) ||
            (min = digits(s, &i, 2)) < 0 || !expect(s, &i, ':', false) ||
            (sec = digits(s, &i, 2)) < 0)
        return tw_err_set(err, TW_EINVAL, i, "timestamp: expected HH:MM:SS");
    if (hour > 23 || min > 59 || sec > 60)
        return tw_err_set(err, TW_EINVAL, 11, "timestamp: time of day out of range");
    if (i < s.len && s.ptr[i] == '.') {
        i++;
        start = i;
        while (i < s.len && tw_ascii_isdigit(s.ptr[i])) {
            if (nfrac < 9) {
                nsec = nsec * 10 + (uint32_t)(s.ptr[i] - '0');
                nfrac++;
            }
            i++;
        }
        if (i == start)
            return tw_err_set(err, TW_EINVAL, i, "timestamp: expected digits after '.'");
        for (unsigned k = nfrac; k < 9; k++)
            nsec *= 10;
    }
    if ((flags & TW_TIME_MILLIS) && nfrac < 3)
        return tw_err_set(err, TW_EINVAL, i,
                "timestamp: at least millisecond precision (three fractional digits) required");
    if (expect(s, &i, 'Z', lower)) {
        /* UTC */
    } else if (i < s.len && (s.ptr[i] == '+' || s.ptr[i] == '-')) {
        long oh, om;
        int sign = s.ptr[i] == '-' ? -1 : 1;
        size_t at = i;

        if (!(flags & TW_TIME_ALLOW_OFFSET))
            return tw_err_set(err, TW_EINVAL, i, "timestamp: must be UTC with a 'Z' suffix");
        i++;
        if ((oh = digits(s, &i, 2)) < 0 || !expect(s, &i, ':', false) ||
                (om = digits(s, &i, 2)) < 0 || oh > 23 || om > 59)
            return tw_err_set(err, TW_EINVAL, at, "timestamp: bad UTC offset");
        off_min = sign * (oh * 60 + om);
    } else {
        return tw_err_set(err, TW_EINVAL, i, "timestamp: expected 'Z' time zone designator");
    }
    if (i != s.len)
        return tw_err_set(err, TW_EINVAL, i, "timestamp: unexpected characters after the time");

    t = tw_days_from_civil(year, (unsigned)mon, (unsigned)mday) * 86400 + hour * 3600 + min * 60 +
        sec - off_min * 60;
    out->sec = t;
    out->nsec = nsec;
    out->frac_digits = (uint8_t)nfrac;
    return TW_OK;
}

int tw_time_format(const struct tw_time *t, int digits_wanted, char *out)
{
    int64_t days = t->sec / 86400, rem = t->sec % 86400, y;
    unsigned m, d;
    int n, nd = digits_wanted < 0 ? t->frac_digits : digits_wanted;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    n = snprintf(out, TW_TIME_STRLEN, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
            (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (nd > 9)
        nd = 9;
    if (nd > 0) {
        char frac[10];
        snprintf(frac, sizeof(frac), "%09u", (unsigned)t->nsec);
        out[n++] = '.';
        memcpy(out + n, frac, (size_t)nd);
        n += nd;
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return n;
}

int tw_time_cmp(const struct tw_time *a, const struct tw_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

struct tw_time tw_time_now(void)
{
    struct timespec ts;
    struct tw_time t;

    clock_gettime(CLOCK_REALTIME, &ts);
    t.sec = ts.tv_sec;
    t.nsec = (uint32_t)(ts.tv_nsec / 1000 * 1000);
    t.frac_digits = 6;
    return t;
}
