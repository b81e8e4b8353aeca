/*
 * http_resp.c: the response record that the hub's two halves hand each other
 * (include/tidewatch/hub.h). The protocol half fills it (status, media type,
 * up to TW_HUB_MAX_HEADERS extra headers, a bounded body); the server half
 * sends it. Nothing here knows about sockets or TAXII.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "tidewatch/hub.h"

/* ==== Static helpers ==== */

/*
 * Copies src into dst[size], truncating, and turns control characters into
 * spaces: a CR or LF taken from a request must never split a response header.
 */
static void copy_header_text(char *dst, size_t size, const char *src)
{
    size_t i;

    for (i = 0; src[i] != '\0' && i + 1 < size; i++) {
        unsigned char c = (unsigned char)src[i];

        if (c < 0x20 || c == 0x7f)
            dst[i] = ' ';
        else
            dst[i] = src[i];
    }
    dst[i] = '\0';
}

/* ==== Public API ==== */

/*
 * Empties rs for one response: status 500 until the handler sets one (a
 * handler that forgets is a visible error, never an accidental 200), no media
 * type, no extra headers, and a body that may grow to max_body bytes.
 */
void tw_http_resp_init(struct tw_http_resp *rs, size_t max_body)
{
    memset(rs, 0, sizeof(*rs));
    rs->status = 500;
    tw_buf_init(&rs->body, max_body);
}

/* Frees the body. rs may be initialised again afterwards. */
void tw_http_resp_cleanup(struct tw_http_resp *rs)
{
    tw_buf_cleanup(&rs->body);
    rs->n_headers = 0;
}

/*
 * Appends one header. Name and value are truncated to the record's fixed
 * fields and control characters become spaces. A header past
 * TW_HUB_MAX_HEADERS is a programming error: it asserts in debug builds and
 * is dropped otherwise.
 */
void tw_http_resp_header(struct tw_http_resp *rs, const char *name, const char *value)
{
    struct tw_http_header *h;

    assert(rs->n_headers < TW_HUB_MAX_HEADERS);
    if (rs->n_headers >= TW_HUB_MAX_HEADERS)
        return;
    h = &rs->headers[rs->n_headers++];
    copy_header_text(h->name, sizeof(h->name), name);
    copy_header_text(h->value, sizeof(h->value), value ? value : "");
}
