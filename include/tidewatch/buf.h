/*
 * buf.h: a bounded, growable byte buffer (curl's dynbuf).
 *
 * The buffer always keeps a NUL after its content, so ptr is a C string when
 * the content has no NUL of its own. Every buffer has a hard cap set at init;
 * growing past it fails with TW_ELIMIT and leaves the content as it was.
 */
#ifndef TIDEWATCH_BUF_H
#define TIDEWATCH_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "tidewatch/common.h"

struct tw_buf {
    char *ptr;  /* content, NUL-terminated; NULL until the first append */
    size_t len; /* bytes of content */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len */
};

/* Initialises an empty buffer whose content may never exceed `max` bytes. */
void tw_buf_init(struct tw_buf *b, size_t max);
/* Frees the content; the buffer may be reused after another tw_buf_init. */
void tw_buf_cleanup(struct tw_buf *b);
/* Empties the buffer, keeping its memory. */
void tw_buf_reset(struct tw_buf *b);
/* Makes room for `extra` more bytes. Returns TW_OK, TW_ENOMEM or TW_ELIMIT. */
int tw_buf_reserve(struct tw_buf *b, size_t extra) TW_MUST_CHECK;
int tw_buf_append(struct tw_buf *b, const void *p, size_t n) TW_MUST_CHECK;
int tw_buf_puts(struct tw_buf *b, const char *s) TW_MUST_CHECK;
int tw_buf_putc(struct tw_buf *b, char c) TW_MUST_CHECK;
int tw_buf_printf(struct tw_buf *b, const char *fmt, ...) TW_PRINTF(2, 3) TW_MUST_CHECK;
int tw_buf_vprintf(struct tw_buf *b, const char *fmt, va_list ap) TW_PRINTF(2, 0) TW_MUST_CHECK;
/* Appends s as the body of a JSON string (escaped, without the quotes). */
int tw_buf_json_escape(struct tw_buf *b, const char *s, size_t n) TW_MUST_CHECK;
/*
 * Hands the content to the caller, who must tw_free() it, and leaves the buffer
 * empty. Returns an empty allocated string when there is no content, or NULL
 * when that allocation fails. *len receives the length when len is not NULL.
 */
char *tw_buf_take(struct tw_buf *b, size_t *len);

#endif
