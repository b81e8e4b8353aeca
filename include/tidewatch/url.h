/*
 * url.h: URL normalisation for matching.
 *
 * Two spellings of one URL must compare equal in the index, so both the
 * indicator's URL and the URL seen on the wire go through tw_url_normalize:
 *   - scheme and host lower-cased; a trailing dot on the host removed;
 *   - the default port dropped (http :80, https :443, ftp :21);
 *   - an empty path becomes "/";
 *   - percent-escapes of unreserved characters (RFC 3986 section 2.3) decoded,
 *     the hex digits of the remaining escapes upper-cased, and a '%' that
 *     starts no escape written as "%25" (so the normal form is stable);
 *   - the fragment removed (it never travels on the wire);
 *   - user information kept (it can be what identifies a phishing URL).
 * A URL without a scheme ("evil.com/x", as Zeek writes them) is read as http.
 */
#ifndef TIDEWATCH_URL_H
#define TIDEWATCH_URL_H

#include <stddef.h>

#include "tidewatch/buf.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

/* Longest URL accepted, in bytes. */
#define TW_URL_MAX_LEN 8192

/*
 * Appends the normalised form of `url` to `out`. Returns TW_OK, TW_EINVAL (with
 * err->offset) for text that is not a URL, TW_ELIMIT when the input or its
 * normal form is longer than TW_URL_MAX_LEN, or the buffer's error. On
 * TW_ELIMIT for the normal form, out is left as it was; after other errors it
 * may hold part of the URL.
 */
int tw_url_normalize(struct tw_str url, struct tw_buf *out, struct tw_err *err) TW_MUST_CHECK;

#endif
