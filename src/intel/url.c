/*
 * url.c: URL normalisation (see include/tidewatch/url.h).
 *
 *   scheme "://" [ userinfo "@" ] host [ ":" port ] [ path ] [ "?" query ] [ "#" fragment ]
 */
#include "tidewatch/url.h"

#include <string.h>

static bool is_unreserved(unsigned char c)
{
    return tw_ascii_isalpha((char)c) || tw_ascii_isdigit((char)c) || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* Appends path/query text with escapes normalised. */
static int put_escaped(struct tw_buf *out, const char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = TW_OK;

    for (size_t i = 0; i < n && rc == TW_OK; i++) {
        int hi = -1, lo = -1;

        if (p[i] == '%' && i + 2 < n) {
            hi = tw_hex_digit(p[i + 1]);
            lo = tw_hex_digit(p[i + 2]);
        }
        if (hi >= 0 && lo >= 0) {
            unsigned char c = (unsigned char)(hi << 4 | lo);
            if (is_unreserved(c)) {
                rc = tw_buf_putc(out, (char)c);
            } else {
                char esc[3] = { '%', hex[hi], hex[lo] };
                rc = tw_buf_append(out, esc, 3);
            }
            i += 2;
        } else if (p[i] == '%') {
            /* A '%' that starts no valid escape is written as one, so that a
             * decoded character after it can never form a new escape: the
             * normal form must normalise to itself. */
            rc = tw_buf_append(out, "%25", 3);
        } else {
            rc = tw_buf_putc(out, p[i]);
        }
    }
    return rc;
}

int tw_url_normalize(struct tw_str url, struct tw_buf *out, struct tw_err *err)
{
    struct tw_str s = tw_str_trim(url), scheme = TW_STR("http"), auth, rest;
    size_t out_start = out->len;
    size_t i = 0, host_start, host_end, port_start = 0, auth_end, at;
    long colon;
    int rc;

    if (s.len == 0)
        return tw_err_set(err, TW_EINVAL, 0, "url: empty");
    if (s.len > TW_URL_MAX_LEN)
        return tw_err_set(
                err, TW_ELIMIT, TW_URL_MAX_LEN, "url: longer than %d bytes", TW_URL_MAX_LEN);
    for (size_t k = 0; k < s.len; k++) {
        unsigned char c = (unsigned char)s.ptr[k];
        if (c <= 0x20 || c == 0x7f)
            return tw_err_set(err, TW_EINVAL, k, "url: control character or space");
    }
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by "://" */
    while (i < s.len && (tw_ascii_isalpha(s.ptr[i]) ||
                                (i > 0 && (tw_ascii_isdigit(s.ptr[i]) || s.ptr[i] == '+' ||
                                                  s.ptr[i] == '-' || s.ptr[i] == '.'))))
        i++;
    if (i > 0 && i + 3 <= s.len && memcmp(s.ptr + i, "://", 3) == 0) {
        scheme = tw_str_make(s.ptr, i);
        i += 3;
    } else {
        i = 0; /* no scheme: Zeek's form */
    }
    auth_end = i;
    while (auth_end < s.len && s.ptr[auth_end] != '/' && s.ptr[auth_end] != '?' &&
            s.ptr[auth_end] != '#')
        auth_end++;
    auth = tw_str_make(s.ptr + i, auth_end - i);
    rest = tw_str_make(s.ptr + auth_end, s.len - auth_end);
    if (auth.len == 0)
        return tw_err_set(err, TW_EINVAL, i, "url: no host");

    for (size_t k = 0; k < scheme.len; k++)
        if ((rc = tw_buf_putc(out, tw_ascii_lower(scheme.ptr[k]))) != TW_OK)
            return rc;
    if ((rc = tw_buf_puts(out, "://")) != TW_OK)
        return rc;

    /* userinfo, kept as is */
    at = 0;
    for (size_t k = auth.len; k > 0; k--) {
        if (auth.ptr[k - 1] == '@') {
            at = k;
            break;
        }
    }
    if (at > 0 && (rc = tw_buf_append(out, auth.ptr, at)) != TW_OK)
        return rc;
    host_start = at;
    host_end = auth.len;
    if (host_start < auth.len && auth.ptr[host_start] == '[') {
        long close = tw_str_find(tw_str_make(auth.ptr + host_start, auth.len - host_start), ']');
        if (close < 0)
            return tw_err_set(err, TW_EINVAL, i + host_start, "url: unclosed '[' in host");
        host_end = host_start + (size_t)close + 1;
        if (host_end < auth.len) {
            if (auth.ptr[host_end] != ':')
                return tw_err_set(err, TW_EINVAL, i + host_end, "url: junk after ']'");
            port_start = host_end + 1;
        }
    } else {
        colon = tw_str_find(tw_str_make(auth.ptr + host_start, auth.len - host_start), ':');
        if (colon >= 0) {
            host_end = host_start + (size_t)colon;
            port_start = host_end + 1;
        }
    }
    if (host_end == host_start)
        return tw_err_set(err, TW_EINVAL, i + host_start, "url: empty host");
    while (host_end - host_start > 1 && auth.ptr[host_end - 1] == '.' &&
            auth.ptr[host_start] != '[')
        host_end--;
    for (size_t k = host_start; k < host_end; k++)
        if ((rc = tw_buf_putc(out, tw_ascii_lower(auth.ptr[k]))) != TW_OK)
            return rc;
    if (port_start > 0) {
        struct tw_str port = tw_str_make(auth.ptr + port_start, auth.len - port_start);
        uint64_t pn;
        bool dflt;

        if (port.len > 0) {
            if (tw_parse_u64(port, 65535, &pn) != TW_OK)
                return tw_err_set(err, TW_EINVAL, i + port_start, "url: bad port");
            dflt = (pn == 80 && tw_str_caseeq(scheme, TW_STR("http"))) ||
                   (pn == 443 && tw_str_caseeq(scheme, TW_STR("https"))) ||
                   (pn == 21 && tw_str_caseeq(scheme, TW_STR("ftp")));
            if (!dflt && (rc = tw_buf_printf(out, ":%u", (unsigned)pn)) != TW_OK)
                return rc;
        }
    }
    /* path and query; the fragment is dropped */
    {
        long hash = tw_str_find(rest, '#');
        if (hash >= 0)
            rest.len = (size_t)hash;
    }
    if (rest.len == 0 || rest.ptr[0] != '/')
        if ((rc = tw_buf_putc(out, '/')) != TW_OK)
            return rc;
    if ((rc = put_escaped(out, rest.ptr, rest.len)) != TW_OK)
        return rc;
    /* Escaping can make the normal form longer than the input; it must obey
     * the same limit, or normalising it again would fail. */
    if (out->len - out_start > TW_URL_MAX_LEN) {
        out->len = out_start;
        out->ptr[out_start] = '\0';
        return tw_err_set(
                err, TW_ELIMIT, TW_NOPOS, "url: normal form longer than %d bytes", TW_URL_MAX_LEN);
    }
    return TW_OK;
}
