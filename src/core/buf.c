/*
 * buf.c: bounded growable buffer (see include/tidewatch/buf.h).
 */
#include "tidewatch/buf.h"

#include <stdio.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"

void tw_buf_init(struct tw_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void tw_buf_cleanup(struct tw_buf *b)
{
    tw_free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void tw_buf_reset(struct tw_buf *b)
{
    b->len = 0;
    if (b->ptr != NULL)
        b->ptr[0] = '\0';
}

int tw_buf_reserve(struct tw_buf *b, size_t extra)
{
    size_t need, ncap;
    char *p;

    if (extra > b->max || b->len > b->max - extra)
        return TW_ELIMIT;
    need = b->len + extra + 1; /* room for the NUL */
    if (need <= b->cap)
        return TW_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = (ncap > (size_t)-1 / 2) ? need : ncap * 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    p = tw_realloc(b->ptr, ncap);
    if (p == NULL)
        return TW_ENOMEM;
    b->ptr = p;
    b->cap = ncap;
    return TW_OK;
}

int tw_buf_append(struct tw_buf *b, const void *p, size_t n)
{
    int rc = tw_buf_reserve(b, n);

    if (rc != TW_OK)
        return rc;
    if (n > 0)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return TW_OK;
}

int tw_buf_puts(struct tw_buf *b, const char *s)
{
    return tw_buf_append(b, s, strlen(s));
}

int tw_buf_putc(struct tw_buf *b, char c)
{
    return tw_buf_append(b, &c, 1);
}

int tw_buf_vprintf(struct tw_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return TW_EINVAL;
    rc = tw_buf_reserve(b, (size_t)n);
    if (rc != TW_OK)
        return rc;
    (void)vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return TW_OK;
}

int tw_buf_printf(struct tw_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = tw_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int tw_buf_json_escape(struct tw_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t elen = 0;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = tw_buf_append(b, s + run, i - run);
        if (rc != TW_OK)
            return rc;
        esc[0] = '\\';
        switch (c) {
            case '"':
                esc[1] = '"';
                elen = 2;
                break;
            case '\\':
                esc[1] = '\\';
                elen = 2;
                break;
            case '\n':
                esc[1] = 'n';
                elen = 2;
                break;
            case '\r':
                esc[1] = 'r';
                elen = 2;
                break;
            case '\t':
                esc[1] = 't';
                elen = 2;
                break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                elen = 6;
                break;
        }
        rc = tw_buf_append(b, esc, elen);
        if (rc != TW_OK)
            return rc;
        run = i + 1;
    }
    return tw_buf_append(b, s + run, n - run);
}

char *tw_buf_take(struct tw_buf *b, size_t *len)
{
    char *p = b->ptr;

    if (len != NULL)
        *len = b->len;
    if (p == NULL)
        p = tw_strndup("", 0);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
