/*
 * err.c: status strings and the error record (see include/tidewatch/err.h).
 */
#include "tidewatch/err.h"

#include <stdio.h>
#include <string.h>

const char *tw_strerror(int code)
{
    switch (code) {
        case TW_OK:
            return "success";
        case TW_ENOMEM:
            return "out of memory";
        case TW_EINVAL:
            return "invalid input";
        case TW_ETRUNC:
            return "input truncated";
        case TW_ELIMIT:
            return "limit reached";
        case TW_EIO:
            return "input/output error";
        case TW_EDB:
            return "store error";
        case TW_ENOTFOUND:
            return "not found";
        case TW_ERANGE:
            return "number out of range";
        case TW_ESYNTAX:
            return "syntax error";
        case TW_EEXIST:
            return "already exists";
        default:
            return "unknown error";
    }
}

void tw_err_clear(struct tw_err *err)
{
    if (err == NULL)
        return;
    err->code = TW_OK;
    err->offset = TW_NOPOS;
    err->line = 0;
    err->column = 0;
    err->src_file = NULL;
    err->src_line = 0;
    err->msg[0] = '\0';
}

int tw_err_vset(struct tw_err *err, int code, size_t offset, const char *fmt, va_list ap)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->offset = offset;
    err->line = 0;
    err->column = 0;
    err->src_file = NULL;
    err->src_line = 0;
    if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
        err->msg[0] = '\0';
    return code;
}

int tw_err_set(struct tw_err *err, int code, size_t offset, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)tw_err_vset(err, code, offset, fmt, ap);
    va_end(ap);
    return code;
}

int tw__err_set_at(struct tw_err *err, const char *file, int line, int code, size_t offset,
        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)tw_err_vset(err, code, offset, fmt, ap);
    va_end(ap);
    if (err != NULL) {
        err->src_file = file;
        err->src_line = line;
    }
    return code;
}

void tw_err_locate(struct tw_err *err, const char *text, size_t len)
{
    size_t line = 1, col = 1;

    if (err == NULL || err->offset == TW_NOPOS || text == NULL)
        return;
    for (size_t i = 0; i < len && i < err->offset; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    err->line = line;
    err->column = col;
}
