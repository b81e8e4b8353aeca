/*
 * http.h: HTTP/1.x request-head parser for metadata extraction.
 *
 * Reads the request line and header block at the start of a client byte
 * stream (RFC 9112): method, request target, version, the Host header
 * (normalised, with its port kept apart), User-Agent and a count of header
 * fields. It stops at the blank line that ends the head; the body is not
 * looked at. Bare LF line ends are accepted as well as CRLF, and runs of
 * spaces or tabs between the request-line parts are tolerated. Bytes that
 * cannot occur in a request head (NUL and other control bytes, a method that
 * is not a token) end parsing with TW_EINVAL at once, so binary traffic on a
 * web port is turned away after a few bytes rather than after the cap.
 *
 * Nothing is allocated. method, target, version and user_agent are slices
 * that borrow from the caller's buffer: they are valid as long as it is. The
 * host is copied into a fixed array because it is rewritten.
 */
#ifndef TIDEWATCH_HTTP_H
#define TIDEWATCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

#define TW_HTTP_HEAD_MAX   8192 /* bytes of request line and headers, blank line included */
#define TW_HTTP_METHOD_MAX 32   /* bytes of a method token */
#define TW_HTTP_HOST_MAX   255  /* bytes of a normalised host */

/* Where tw_http_request.host came from. */
enum tw_http_host_src {
    TW_HTTP_HOST_NONE = 0,   /* no Host header and no absolute URI */
    TW_HTTP_HOST_HEADER = 1, /* the first Host header */
    TW_HTTP_HOST_URI = 2,    /* the authority of an absolute-form target (no Host header) */
};

struct tw_http_request {
    struct tw_str method;  /* borrowed, e.g. "GET" */
    struct tw_str target;  /* borrowed request target as sent ("/a?b", "http://h/x", "*") */
    struct tw_str version; /* borrowed, e.g. "HTTP/1.1"; empty for an HTTP/0.9 request */
    uint8_t version_major; /* 1 for HTTP/1.x, 0 for HTTP/0.9 */
    uint8_t version_minor;
    bool absolute_uri;               /* the target has a scheme ("http://...") */
    uint8_t host_src;                /* an enum tw_http_host_src */
    char host[TW_HTTP_HOST_MAX + 1]; /* lowercase, no port, no trailing dot, no brackets */
    uint16_t host_len;
    bool has_port; /* host carried a valid ":port" */
    uint16_t port;
    uint16_t n_host_headers;  /* Host headers seen (more than one is suspicious) */
    struct tw_str user_agent; /* borrowed, trimmed; empty when absent */
    bool has_user_agent;
    uint32_t n_headers; /* header fields, continuation lines not counted */
    size_t head_len;    /* bytes up to and including the blank line */
};

/*
 * Parses the request head at the start of p[0..len) into *req, which is
 * overwritten. Returns TW_OK; TW_ETRUNC while the blank line ending the head
 * has not arrived (and what arrived looks like HTTP); TW_EINVAL for bytes that
 * are not an HTTP/1.x request head, with err->offset at the offending byte;
 * TW_ELIMIT when no blank line appears within TW_HTTP_HEAD_MAX bytes. err may
 * be NULL.
 */
int tw_http_parse_request(const uint8_t *p, size_t len, struct tw_http_request *req,
        struct tw_err *err) TW_MUST_CHECK;

/*
 * Normalises a Host value (or URI authority) into out (TW_HTTP_HOST_MAX + 1
 * bytes): strips surrounding space, any "user@" part, the port (stored in
 * *port with *has_port set when it is 1..65535 in decimal), IPv6 brackets and
 * one trailing dot, and lowers ASCII letters. Returns the length written, or
 * TW_EINVAL (writing "") when the host is empty, ends in an empty label ("a.."),
 * is longer than TW_HTTP_HOST_MAX or holds a control byte, space or one of "/?#".
 */
int tw_http_normalize_host(
        struct tw_str in, char *out, bool *has_port, uint16_t *port) TW_MUST_CHECK;

#endif
