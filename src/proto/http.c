/*
 * http.c: HTTP/1.x request-head parser; see include/tidewatch/http.h.
 *
 * The head is read one line at a time. Each line's bytes are checked as they
 * are found (no control byte but HT, a token for the method and header
 * names), so garbage fails on its first bad byte even while the head is
 * incomplete. Only when the blank line is found is a TW_OK possible; until
 * then the result is TW_ETRUNC, or TW_ELIMIT past TW_HTTP_HEAD_MAX bytes.
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   header-field = field-name ":" OWS field-value OWS CRLF
 *   head         = request-line *( header-field ) CRLF
 */
#include "tidewatch/http.h"

#include <stdint.h>
#include <string.h>

/* ==== Static helpers ==== */

/* RFC 9110 tchar: the characters of a method or field name. */
static bool is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* True for bytes that never occur inside a head line (the line's LF excepted). */
static bool is_bad_byte(uint8_t c)
{
    return (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f;
}

/*
 * Checks the bytes p[from..to) of a line, or of the part of it that has
 * arrived: no control bytes, and a CR only as the last byte (before the LF).
 * Returns the offset of the first bad byte, or `to` when all are fine.
 */
static size_t check_line(const uint8_t *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (is_bad_byte(p[i]) || (p[i] == '\r' && i + 1 != to))
            return i;
    }
    return to;
}

/* Checks the method prefix of the first line: tchars up to the first space. */
static int check_method(const uint8_t *p, size_t start, size_t end, struct tw_err *err)
{
    size_t i = start;

    while (i < end && is_tchar(p[i]))
        i++;
    if (i - start > TW_HTTP_METHOD_MAX)
        return TW_E_HERE(err, TW_EINVAL, start + TW_HTTP_METHOD_MAX, "http: method too long");
    if (i < end && (!is_ws(p[i]) || i == start))
        return TW_E_HERE(err, TW_EINVAL, i, "http: method is not a token");
    return TW_OK;
}

static struct tw_str slice(const uint8_t *p, size_t a, size_t b)
{
    return tw_str_make((const char *)p + a, b - a);
}

/* Splits off the next run of non-blank bytes in p[*i..end). */
static struct tw_str next_word(const uint8_t *p, size_t *i, size_t end)
{
    size_t a;

    while (*i < end && is_ws(p[*i]))
        (*i)++;
    a = *i;
    while (*i < end && !is_ws(p[*i]))
        (*i)++;
    return slice(p, a, *i);
}

static int parse_request_line(
        const uint8_t *p, size_t start, size_t end, struct tw_http_request *req, struct tw_err *err)
{
    size_t i = start;
    struct tw_str rest;

    req->method = next_word(p, &i, end);
    req->target = next_word(p, &i, end);
    req->version = next_word(p, &i, end);
    rest = next_word(p, &i, end);
    if (req->method.len == 0 || req->target.len == 0)
        return TW_E_HERE(err, TW_EINVAL, end, "http: request line without a target");
    if (rest.len != 0)
        return TW_E_HERE(err, TW_EINVAL, (size_t)((const uint8_t *)rest.ptr - p),
                "http: extra words on the request line");
    if (req->version.len == 0) {
        req->version_major = 0;
        req->version_minor = 9;
    } else {
        const char *v = req->version.ptr;

        if (req->version.len != 8 || memcmp(v, "HTTP/", 5) != 0 || !tw_ascii_isdigit(v[5]) ||
                v[6] != '.' || !tw_ascii_isdigit(v[7]))
            return TW_E_HERE(err, TW_EINVAL, (size_t)((const uint8_t *)v - p), "http: bad version");
        req->version_major = (uint8_t)(v[5] - '0');
        req->version_minor = (uint8_t)(v[7] - '0');
        if (req->version_major != 1)
            return TW_E_HERE(err, TW_EINVAL, (size_t)((const uint8_t *)v - p) + 5,
                    "http: version %u is not HTTP/1.x", req->version_major);
    }
    for (size_t k = 0; k < req->target.len; k++) {
        if (req->target.ptr[k] == ':' && k + 2 < req->target.len && req->target.ptr[k + 1] == '/' &&
                req->target.ptr[k + 2] == '/') {
            req->absolute_uri = k > 0;
            break;
        }
        if (!tw_ascii_isalpha(req->target.ptr[k]) && !tw_ascii_isdigit(req->target.ptr[k]) &&
                req->target.ptr[k] != '+' && req->target.ptr[k] != '-' && req->target.ptr[k] != '.')
            break;
    }
    return TW_OK;
}

/* Handles one complete header line p[a..b) (line end removed). */
static int parse_header(
        const uint8_t *p, size_t a, size_t b, struct tw_http_request *req, struct tw_err *err)
{
    size_t i = a, colon;
    struct tw_str name, value;

    while (i < b && is_tchar(p[i]))
        i++;
    if (i == a)
        return TW_E_HERE(err, TW_EINVAL, a, "http: header line without a name");
    name = slice(p, a, i);
    while (i < b && is_ws(p[i])) /* "Name : value" is tolerated */
        i++;
    if (i >= b || p[i] != ':')
        return TW_E_HERE(err, TW_EINVAL, i, "http: header name not followed by ':'");
    colon = i;
    value = tw_str_trim(slice(p, colon + 1, b));
    req->n_headers++;
    if (tw_str_caseeq(name, TW_STR("host"))) {
        if (req->n_host_headers++ == 0) {
            int n = tw_http_normalize_host(value, req->host, &req->has_port, &req->port);

            if (n >= 0) {
                req->host_len = (uint16_t)n;
                req->host_src = TW_HTTP_HOST_HEADER;
            }
        }
    } else if (tw_str_caseeq(name, TW_STR("user-agent")) && !req->has_user_agent) {
        req->user_agent = value;
        req->has_user_agent = true;
    }
    return TW_OK;
}

/* Takes the host from an absolute-form target when there was no Host header. */
static void host_from_uri(struct tw_http_request *req)
{
    struct tw_str t = req->target;
    size_t i = 0, a;
    int n;

    while (i + 2 < t.len && !(t.ptr[i] == ':' && t.ptr[i + 1] == '/' && t.ptr[i + 2] == '/'))
        i++;
    a = i + 3;
    for (i = a; i < t.len && t.ptr[i] != '/' && t.ptr[i] != '?' && t.ptr[i] != '#'; i++)
        ;
    if (a > t.len)
        return;
    n = tw_http_normalize_host(
            tw_str_make(t.ptr + a, i - a), req->host, &req->has_port, &req->port);
    if (n >= 0) {
        req->host_len = (uint16_t)n;
        req->host_src = TW_HTTP_HOST_URI;
    }
}

/* ==== Public API ==== */

int tw_http_normalize_host(struct tw_str in, char *out, bool *has_port, uint16_t *port)
{
    struct tw_str h = tw_str_trim(in);
    size_t n = 0, end;
    long at = -1;

    *has_port = false;
    *port = 0;
    out[0] = '\0'; /* on every error the output is the empty string */
    for (size_t i = 0; i < h.len; i++)
        if (h.ptr[i] == '@')
            at = (long)i;
    if (at >= 0)
        h = tw_str_make(h.ptr + at + 1, h.len - (size_t)at - 1);
    end = h.len;
    if (h.len > 0 && h.ptr[0] == '[') {
        long rb = tw_str_find(h, ']');

        if (rb < 0)
            return TW_EINVAL;
        end = (size_t)rb + 1;
        if (end < h.len && h.ptr[end] != ':')
            return TW_EINVAL;
    } else {
        long colon = -1;
        unsigned n_colons = 0;

        for (size_t i = 0; i < h.len; i++)
            if (h.ptr[i] == ':') {
                colon = (long)i;
                n_colons++;
            }
        if (n_colons == 1)
            end = (size_t)colon;
    }
    if (end < h.len) {
        uint64_t v;

        if (tw_parse_u64(tw_str_make(h.ptr + end + 1, h.len - end - 1), 65535, &v) != TW_OK ||
                v == 0)
            return TW_EINVAL;
        *has_port = true;
        *port = (uint16_t)v;
    }
    if (end >= 2 && h.ptr[0] == '[') {
        h = tw_str_make(h.ptr + 1, end - 2);
        end = h.len;
    }
    if (end > 0 && h.ptr[end - 1] == '.')
        end--;
    /* "a.." or "." would leave an empty last label: refuse rather than guess */
    if (end == 0 || end > TW_HTTP_HOST_MAX || h.ptr[end - 1] == '.') {
        *has_port = false;
        *port = 0;
        return TW_EINVAL;
    }
    for (size_t i = 0; i < end; i++) {
        unsigned char c = (unsigned char)h.ptr[i];

        if (c <= 0x20 || c == 0x7f || c == '/' || c == '?' || c == '#' || c == '[' || c == ']') {
            *has_port = false;
            *port = 0;
            out[0] = '\0';
            return TW_EINVAL;
        }
        out[n++] = tw_ascii_lower((char)c);
    }
    out[n] = '\0';
    return (int)n;
}

int tw_http_parse_request(
        const uint8_t *p, size_t len, struct tw_http_request *req, struct tw_err *err)
{
    size_t lim = TW_MIN(len, (size_t)TW_HTTP_HEAD_MAX);
    size_t pos = 0, line_no = 0;
    int rc;

    memset(req, 0, sizeof(*req));
    /* RFC 9112 section 2.2: empty lines before the request line are ignored. */
    while (pos < lim && pos < 4 && (p[pos] == '\r' || p[pos] == '\n'))
        pos++;
    while (pos < lim) {
        const uint8_t *lf = memchr(p + pos, '\n', lim - pos);
        size_t end = lf != NULL ? (size_t)(lf - p) : lim;
        size_t bad = check_line(p, pos, end);
        size_t content_end = end;

        if (line_no == 0 && (rc = check_method(p, pos, bad, err)) != TW_OK)
            return rc;
        if (bad < end)
            return TW_E_HERE(err, TW_EINVAL, bad, "http: control byte 0x%02x in head", p[bad]);
        if (lf == NULL)
            break;
        if (content_end > pos && p[content_end - 1] == '\r')
            content_end--;
        if (line_no == 0) {
            if ((rc = parse_request_line(p, pos, content_end, req, err)) != TW_OK)
                return rc;
            if (req->version_major == 0) {
                req->head_len = end + 1;
                return TW_OK;
            }
        } else if (content_end == pos) {
            req->head_len = end + 1;
            if (req->n_host_headers == 0 && req->absolute_uri)
                host_from_uri(req);
            return TW_OK;
        } else if (is_ws(p[pos])) {
            if (line_no == 1)
                return TW_E_HERE(err, TW_EINVAL, pos, "http: continuation line with no header");
        } else if ((rc = parse_header(p, pos, content_end, req, err)) != TW_OK) {
            return rc;
        }
        line_no++;
        pos = end + 1;
    }
    if (lim == TW_HTTP_HEAD_MAX)
        return TW_E_HERE(
                err, TW_ELIMIT, lim, "http: no end of head within %d bytes", TW_HTTP_HEAD_MAX);
    return TW_E_HERE(err, TW_ETRUNC, len, "http: head cut short");
}
