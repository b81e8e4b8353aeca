/*
 * err.h: status codes and the error record.
 *
 * Every fallible function returns an int: TW_OK (0) on success or a negative
 * TW_E* code. Parsers also take an optional `struct tw_err *` that receives the
 * code, a human-readable message and where in the input the problem is (byte
 * offset, and line/column where the parser tracks them). Passing NULL is always
 * allowed. Parsers never abort on bad input: bad input is an error record.
 */
#ifndef TIDEWATCH_ERR_H
#define TIDEWATCH_ERR_H

#include <stdarg.h>
#include <stddef.h>

#include "tidewatch/common.h"

enum tw_status {
    TW_OK = 0,
    TW_ENOMEM = -1,    /* allocation failed */
    TW_EINVAL = -2,    /* invalid input or argument */
    TW_ETRUNC = -3,    /* input ended early or output did not fit */
    TW_ELIMIT = -4,    /* a configured bound was reached */
    TW_EIO = -5,       /* reading or writing a file or socket failed */
    TW_EDB = -6,       /* the store reported an error */
    TW_ENOTFOUND = -7, /* the thing asked for does not exist */
    TW_ERANGE = -8,    /* a number is outside its allowed range */
    TW_ESYNTAX = -9,   /* input does not follow its grammar */
    TW_EEXIST = -10,   /* the thing to create exists already */
};

/* Sentinel meaning "no position known" for tw_err.offset/line. */
#define TW_NOPOS ((size_t)-1)

struct tw_err {
    int code;             /* a TW_E* code; TW_OK when nothing was recorded */
    size_t offset;        /* byte offset into the input, or TW_NOPOS */
    size_t line;          /* 1-based line, or 0 when unknown */
    size_t column;        /* 1-based column, or 0 when unknown */
    const char *src_file; /* where it was raised (debug builds) */
    int src_line;
    char msg[256]; /* NUL-terminated message, never holds input secrets */
};

/* Returns a static description of a TW_* status ("out of memory", ...). */
const char *tw_strerror(int code);

/* Clears *err (code TW_OK, positions unknown). err may be NULL. */
void tw_err_clear(struct tw_err *err);

/*
 * Records an error in *err (if err is not NULL) and returns `code`, so that
 * callers can write `return tw_err_set(err, TW_EINVAL, off, "bad %s", what);`.
 * The message is formatted into err->msg and truncated to fit.
 */
int tw_err_set(struct tw_err *err, int code, size_t offset, const char *fmt, ...) TW_PRINTF(4, 5);
int tw_err_vset(struct tw_err *err, int code, size_t offset, const char *fmt, va_list ap)
        TW_PRINTF(4, 0);
int tw__err_set_at(struct tw_err *err, const char *file, int line, int code, size_t offset,
        const char *fmt, ...) TW_PRINTF(6, 7);

/* Like tw_err_set but also records the source location in debug builds (SQLite's BKPT). */
#ifndef NDEBUG
#define TW_E_HERE(err, code, offset, ...)                                                          \
    tw__err_set_at((err), __FILE__, __LINE__, (code), (offset), __VA_ARGS__)
#else
#define TW_E_HERE(err, code, offset, ...) tw_err_set((err), (code), (offset), __VA_ARGS__)
#endif

/*
 * Fills err->line and err->column from err->offset by counting newlines in
 * text[0..len). Does nothing when the offset is unknown or err is NULL.
 */
void tw_err_locate(struct tw_err *err, const char *text, size_t len);

#endif
