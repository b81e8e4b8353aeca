/*
 * str.c: string slices and checked number parsing (see include/tidewatch/str.h).
 */
#include "tidewatch/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "tidewatch/err.h"

struct tw_str tw_str_make(const char *p, size_t len)
{
    struct tw_str s = { p, len };
    return s;
}

struct tw_str tw_str_cstr(const char *s)
{
    struct tw_str r = { s ? s : "", s ? strlen(s) : 0 };
    return r;
}

bool tw_str_eq(struct tw_str a, struct tw_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool tw_str_eq_cstr(struct tw_str a, const char *s)
{
    return tw_str_eq(a, tw_str_cstr(s));
}

bool tw_str_caseeq(struct tw_str a, struct tw_str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (tw_ascii_lower(a.ptr[i]) != tw_ascii_lower(b.ptr[i]))
            return false;
    return true;
}

bool tw_str_starts_with(struct tw_str s, struct tw_str prefix)
{
    return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

bool tw_str_ends_with(struct tw_str s, struct tw_str suffix)
{
    return s.len >= suffix.len &&
           (suffix.len == 0 || memcmp(s.ptr + s.len - suffix.len, suffix.ptr, suffix.len) == 0);
}

struct tw_str tw_str_trim(struct tw_str s)
{
    while (s.len > 0 && tw_ascii_isspace(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && tw_ascii_isspace(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

long tw_str_find(struct tw_str s, char c)
{
    const char *p = s.len ? memchr(s.ptr, c, s.len) : NULL;
    return p ? (long)(p - s.ptr) : -1;
}

bool tw_str_split(struct tw_str *s, char sep, struct tw_str *tok)
{
    long i;

    if (s->ptr == NULL)
        return false;
    i = tw_str_find(*s, sep);
    if (i < 0) {
        *tok = *s;
        s->ptr = NULL; /* exhausted: the next call returns false */
        s->len = 0;
        return true;
    }
    tok->ptr = s->ptr;
    tok->len = (size_t)i;
    s->ptr += i + 1;
    s->len -= (size_t)i + 1;
    return true;
}

struct tw_str tw_str_skip_bom(struct tw_str s)
{
    if (s.len >= 3 && memcmp(s.ptr, "\xef\xbb\xbf", 3) == 0) {
        s.ptr += 3;
        s.len -= 3;
    }
    return s;
}

bool tw_str_next_line(struct tw_str *rest, struct tw_str *line)
{
    const char *nl;

    if (rest->len == 0)
        return false;
    nl = memchr(rest->ptr, '\n', rest->len);
    line->ptr = rest->ptr;
    line->len = nl != NULL ? (size_t)(nl - rest->ptr) : rest->len;
    rest->ptr += line->len + (nl != NULL);
    rest->len -= line->len + (nl != NULL);
    if (line->len > 0 && line->ptr[line->len - 1] == '\r')
        line->len--;
    return true;
}

int tw_parse_u64(struct tw_str s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0)
        return TW_EINVAL;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d;

        if (!tw_ascii_isdigit(s.ptr[i]))
            return TW_EINVAL;
        d = (unsigned)(s.ptr[i] - '0');
        if (v > (max - d) / 10)
            return TW_ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return TW_OK;
}

int tw_parse_i64(struct tw_str s, int64_t min, int64_t max, int64_t *out)
{
    bool neg = false;
    uint64_t mag, lim;
    int rc;

    if (s.len > 0 && (s.ptr[0] == '-' || s.ptr[0] == '+')) {
        neg = s.ptr[0] == '-';
        s.ptr++;
        s.len--;
    }
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    rc = tw_parse_u64(s, lim, &mag);
    if (rc != TW_OK)
        return rc;
    if (neg) {
        int64_t v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        if (v < min)
            return TW_ERANGE;
        *out = v;
    } else {
        if ((int64_t)mag > max)
            return TW_ERANGE;
        *out = (int64_t)mag;
    }
    if (*out < min || *out > max)
        return TW_ERANGE;
    return TW_OK;
}

int tw_parse_hex_u64(struct tw_str s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0)
        return TW_EINVAL;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        unsigned d;

        if (tw_ascii_isdigit(c))
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return TW_EINVAL;
        if (v > (max - d) / 16)
            return TW_ERANGE;
        v = v * 16 + d;
    }
    *out = v;
    return TW_OK;
}

int tw_parse_double(struct tw_str s, double *out)
{
    char tmp[64];
    char *end;
    double v;

    if (s.len == 0 || s.len >= sizeof(tmp))
        return TW_EINVAL;
    /* strtod accepts more than a decimal number; check the characters first. */
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!(tw_ascii_isdigit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return TW_EINVAL;
    }
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    errno = 0;
    v = strtod(tmp, &end);
    if (end != tmp + s.len)
        return TW_EINVAL;
    if (errno == ERANGE || !isfinite(v))
        return TW_ERANGE;
    *out = v;
    return TW_OK;
}
