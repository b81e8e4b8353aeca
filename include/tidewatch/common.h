/*
 * common.h: compiler attributes and small macros shared by every module.
 * It has no code and no dependencies beyond the C library.
 */
#ifndef TIDEWATCH_COMMON_H
#define TIDEWATCH_COMMON_H

#include <stddef.h>

/* A fallible function whose status must not be ignored (curl's WARN_UNUSED_RESULT). */
#define TW_MUST_CHECK __attribute__((warn_unused_result))
/* printf-style argument checking: f is the format's position, a the first argument's. */
#define TW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TW_UNUSED       __attribute__((unused))
/* An intended fall-through between switch labels (gcc and clang both check). */
#define TW_FALLTHROUGH __attribute__((fallthrough))
#define TW_LIKELY(x)   __builtin_expect(!!(x), 1)
#define TW_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define TW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TW_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define TW_MAX(a, b)    ((a) > (b) ? (a) : (b))

#endif
