/*
 * str.h: string slices and checked number parsing.
 *
 * A `struct tw_str` borrows bytes it does not own and is never assumed to be
 * NUL-terminated. Number parsers accept the whole slice or nothing: no
 * leading/trailing space, no sign where none is allowed, no overflow.
 */
#ifndef TIDEWATCH_STR_H
#define TIDEWATCH_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"

struct tw_str {
    const char *ptr;
    size_t len;
};

/* A slice of a string literal. */
#define TW_STR(lit) ((struct tw_str){ (lit), sizeof(lit) - 1 })

struct tw_str tw_str_make(const char *p, size_t len);
struct tw_str tw_str_cstr(const char *s); /* s may be NULL: gives the empty slice */
bool tw_str_eq(struct tw_str a, struct tw_str b);
bool tw_str_eq_cstr(struct tw_str a, const char *s);
bool tw_str_caseeq(struct tw_str a, struct tw_str b); /* ASCII case-insensitive */
bool tw_str_starts_with(struct tw_str s, struct tw_str prefix);
bool tw_str_ends_with(struct tw_str s, struct tw_str suffix);
/* Removes ASCII whitespace (space, tab, CR, LF, VT, FF) from both ends. */
struct tw_str tw_str_trim(struct tw_str s);
/* Index of the first byte c in s, or -1. */
long tw_str_find(struct tw_str s, char c);
/*
 * Splits off the text before the next `sep` into *tok and advances *s past the
 * separator. Returns false when *s was exhausted before the call. A slice with
 * no separator yields itself as the last token.
 */
bool tw_str_split(struct tw_str *s, char sep, struct tw_str *tok);

/* s without a leading UTF-8 byte order mark (EF BB BF), if it has one. */
struct tw_str tw_str_skip_bom(struct tw_str s);
/*
 * Splits the next line off *rest into *line, without its "\n" or "\r\n", and
 * advances *rest past it. Returns false when *rest is empty. A last line with
 * no newline is still a line; a lone "\r" inside a line is kept.
 */
bool tw_str_next_line(struct tw_str *rest, struct tw_str *line);

/* Decimal unsigned integer, at most `max`. TW_OK, TW_EINVAL (not a number) or TW_ERANGE. */
int tw_parse_u64(struct tw_str s, uint64_t max, uint64_t *out) TW_MUST_CHECK;
/* Decimal signed integer with optional leading '-' or '+', within [min, max]. */
int tw_parse_i64(struct tw_str s, int64_t min, int64_t max, int64_t *out) TW_MUST_CHECK;
/* Hexadecimal unsigned integer (no 0x prefix), at most `max`. */
int tw_parse_hex_u64(struct tw_str s, uint64_t max, uint64_t *out) TW_MUST_CHECK;
/* A finite decimal floating-point number (strtod syntax, no hex, inf or nan). */
int tw_parse_double(struct tw_str s, double *out) TW_MUST_CHECK;

/* ASCII helpers that ignore the locale. */
static inline char tw_ascii_lower(char c)
{
    if (c < 'A' || c > 'Z')
        return c;
    /* NOLINTNEXTLINE(bugprone-narrowing-conversions): 'a'..'z' fits any char */
    return (char)(c - 'A' + 'a');
}
static inline bool tw_ascii_isdigit(char c)
{
    return c >= '0' && c <= '9';
}
static inline bool tw_ascii_isxdigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* Value of a hex digit (either case), or -1 when c is not one. */
static inline int tw_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
static inline bool tw_ascii_isalpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool tw_ascii_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

#endif
