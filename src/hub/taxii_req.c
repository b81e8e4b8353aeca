/*
 * taxii_req.c: the parts of a TAXII 2.1 request that are pure text: media
 * types (Accept with q-values, Content-Type), query filters, the paging
 * cursor, credentials, and where each object of a POSTed envelope lies in
 * the body. See taxii_int.h.
 */
#include <string.h>

#include <nettle/base64.h>

#include "taxii_int.h"
#include "tidewatch/hash.h"
#include "tidewatch/stix.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"

/* ==== Media types (TAXII 2.1 sections 1.6.8, 3.1) ==== */

/* Trims spaces and tabs. */
static struct tw_str trim(struct tw_str s)
{
    while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
        s.ptr++, s.len--;
    while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* Splits s at the first c: *head before, *rest after (empty when absent). */
static void split(struct tw_str s, char c, struct tw_str *head, struct tw_str *rest)
{
    long i = tw_str_find(s, c);

    if (i < 0) {
        *head = s;
        *rest = tw_str_make(s.ptr + s.len, 0);
        return;
    }
    *head = tw_str_make(s.ptr, (size_t)i);
    *rest = tw_str_make(s.ptr + i + 1, s.len - (size_t)i - 1);
}

static bool ieq(struct tw_str a, const char *b)
{
    size_t n = strlen(b);

    if (a.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tw_ascii_lower(a.ptr[i]) != tw_ascii_lower(b[i]))
            return false;
    return true;
}

/*
 * Reads one media range "type/sub; k=v; q=0.5": whether it names TAXII 2.1
 * (exactly, or through a wildcard when `wild` is allowed) and its q-value.
 */
static bool media_range(struct tw_str range, bool wild, double *q)
{
    struct tw_str type, params, p;
    bool ok, version_ok = true;

    split(range, ';', &type, &params);
    type = trim(type);
    *q = 1.0;
    if (ieq(type, "application/taxii+json"))
        ok = true;
    else
        ok = wild && (ieq(type, "*/*") || ieq(type, "application/*"));
    while (params.len > 0) {
        struct tw_str k, v;

        split(params, ';', &p, &params);
        split(trim(p), '=', &k, &v);
        k = trim(k);
        v = trim(v);
        if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
            v = tw_str_make(v.ptr + 1, v.len - 2);
        if (ieq(k, "version"))
            version_ok = tw_str_eq_cstr(v, "2.1");
        else if (ieq(k, "q")) {
            /* q = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), RFC 9110 12.4.2 */
            double val = 0, scale = 1;
            bool bad = v.len == 0 || (v.ptr[0] != '0' && v.ptr[0] != '1');
            for (size_t i = 0; i < v.len && !bad; i++) {
                if (i == 0)
                    val = v.ptr[0] - '0';
                else if (i == 1)
                    bad = v.ptr[1] != '.';
                else if (i < 5 && tw_ascii_isdigit(v.ptr[i]))
                    val += (v.ptr[i] - '0') * (scale /= 10);
                else
                    bad = true;
            }
            *q = bad || val > 1 ? 0 : val;
        }
    }
    return ok && version_ok;
}

bool tw__taxii_accept_ok(const char *accept)
{
    struct tw_str rest, range;

    if (accept == NULL || *accept == '\0')
        return true; /* clients MUST send one; a missing header is not worth a 406 */
    rest = tw_str_cstr(accept);
    while (rest.len > 0) {
        double q;

        split(rest, ',', &range, &rest);
        if (trim(range).len > 0 && media_range(range, true, &q) && q > 0)
            return true;
    }
    return false;
}

bool tw__taxii_content_type_ok(const char *ct)
{
    double q;

    return ct != NULL && media_range(tw_str_cstr(ct), false, &q);
}

/* ==== Query filters (TAXII 2.1 section 3.4) ==== */

static int hexval(char c)
{
    return tw_hex_digit(c);
}

/* Percent-decodes s into out (arena); NULL on a bad escape or a NUL byte. */
static char *pct_decode(struct tw_arena *a, struct tw_str s)
{
    char *out = tw_arena_alloc(a, s.len + 1);
    size_t w = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];

        if (c == '%') {
            int h, l;
            if (i + 2 >= s.len)
                return NULL;
            h = hexval(s.ptr[i + 1]);
            l = hexval(s.ptr[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return NULL;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '\0') {
            return NULL;
        }
        out[w++] = c;
    }
    out[w] = '\0';
    return out;
}

static bool is_type_name(const char *s)
{
    size_t n = strlen(s);

    if (n < 3 || n > 250)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || tw_ascii_isdigit(s[i]) || s[i] == '-'))
            return false;
    return true;
}

static bool is_spec_version(const char *s)
{
    return strcmp(s, "2.0") == 0 || strcmp(s, "2.1") == 0;
}

/* Splits a comma list into the arena; NULL on an empty item. */
static const char **split_list(struct tw_arena *a, char *v, size_t *n)
{
    size_t cnt = 1;
    const char **items;

    for (char *p = v; *p; p++)
        cnt += *p == ',';
    if (cnt > TW_STORE_MAX_MATCH)
        return NULL;
    items = tw_arena_alloc(a, cnt * sizeof(*items));
    if (items == NULL)
        return NULL;
    *n = 0;
    for (char *p = v;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*p == '\0')
            return NULL;
        items[(*n)++] = p;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return items;
}

/* Records why the query is malformed: `what` then `why`. */
static int bad(struct tw_taxii_query *q, const char *what, const char *why)
{
    (void)snprintf(q->error, sizeof(q->error), "%s%s", what, why);
    return TW_EINVAL;
}

int tw__taxii_parse_query(const char *raw, struct tw_arena *a, struct tw_taxii_query *q)
{
    struct tw_str rest = tw_str_cstr(raw ? raw : "");
    bool seen_added = false, seen_limit = false, seen_next = false, seen[4] = { false };
    static const char *const fields[4] = { "id", "type", "version", "spec_version" };

    memset(q, 0, sizeof(*q));
    while (rest.len > 0) {
        struct tw_str item, k, v;
        char *key, *val;

        split(rest, '&', &item, &rest);
        if (item.len == 0)
            continue;
        split(item, '=', &k, &v);
        key = pct_decode(a, k);
        val = pct_decode(a, v);
        if (key == NULL || val == NULL)
            return bad(q, "bad percent-encoding in the query", "");
        if (strcmp(key, "added_after") == 0) {
            struct tw_time t;
            if (seen_added)
                return bad(q, "added_after", " may appear only once");
            seen_added = true;
            if (tw_time_parse(tw_str_cstr(val), 0, &t, NULL) != TW_OK)
                return bad(q, "added_after", " is not a timestamp (YYYY-MM-DDTHH:MM:SS[.ssssss]Z)");
            q->added_after = t.sec * 1000000 + t.nsec / 1000;
            q->has_added_after = true;
        } else if (strcmp(key, "limit") == 0) {
            uint64_t lim;
            if (seen_limit)
                return bad(q, "limit", " may appear only once");
            seen_limit = true;
            if (tw_parse_u64(tw_str_cstr(val), UINT32_MAX, &lim) != TW_OK || lim == 0)
                return bad(q, "limit", " must be a positive integer");
            q->limit = (size_t)lim;
        } else if (strcmp(key, "next") == 0) {
            if (seen_next)
                return bad(q, "next", " may appear only once");
            seen_next = true;
            if (tw__taxii_cursor_parse(val, &q->after_date, &q->after_seq) != TW_OK)
                return bad(q, "next", " is not a cursor this server issued");
            q->has_next = true;
        } else if (strncmp(key, "match[", 6) == 0 && key[strlen(key) - 1] == ']') {
            size_t flen = strlen(key) - 7, n = 0;
            int f = -1;
            const char **items;

            for (int i = 0; i < 4; i++)
                if (strlen(fields[i]) == flen && strncmp(key + 6, fields[i], flen) == 0)
                    f = i;
            if (f < 0)
                continue; /* unknown match fields MAY be ignored (3.4.1) */
            if (seen[f])
                return bad(q, key, " may appear only once");
            seen[f] = true;
            items = split_list(a, val, &n);
            if (items == NULL)
                return bad(q, key, " has an empty value or too many values");
            for (size_t i = 0; i < n; i++) {
                bool ok = true;
                if (f == 0)
                    ok = tw_stix_id_valid(tw_str_cstr(items[i]), NULL);
                else if (f == 1)
                    ok = is_type_name(items[i]);
                else if (f == 3)
                    ok = is_spec_version(items[i]);
                else if (strcmp(items[i], "first") == 0 || strcmp(items[i], "last") == 0 ||
                         strcmp(items[i], "all") == 0)
                    ok = n == 1;
                else {
                    struct tw_time t;
                    ok = tw_time_parse(tw_str_cstr(items[i]), 0, &t, NULL) == TW_OK;
                }
                if (!ok)
                    return bad(q, key, " has a malformed value");
            }
            if (f == 0) {
                q->ids = items;
                q->n_ids = n;
            } else if (f == 1) {
                q->types = items;
                q->n_types = n;
            } else if (f == 3) {
                q->spec_versions = items;
                q->n_spec_versions = n;
            } else if (strcmp(items[0], "first") == 0) {
                q->versions = TW_VERSIONS_FIRST;
            } else if (strcmp(items[0], "all") == 0) {
                q->versions = TW_VERSIONS_ALL;
            } else if (strcmp(items[0], "last") != 0) {
                q->versions = TW_VERSIONS_LIST;
                q->version_list = items;
                q->n_version_list = n;
            }
        }
        /* other parameters are not TAXII's: ignored */
    }
    return TW_OK;
}

/* ==== The paging cursor ==== */

int tw__taxii_cursor_format(int64_t date, int64_t seq, char *out, size_t size)
{
    int n = snprintf(out, size, "%llx.%llx", (unsigned long long)date, (unsigned long long)seq);

    return n > 0 && (size_t)n < size ? TW_OK : TW_ETRUNC;
}

int tw__taxii_cursor_parse(const char *s, int64_t *date, int64_t *seq)
{
    uint64_t v[2] = { 0, 0 };
    int part = 0;
    size_t digits = 0;

    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            if (digits == 0 || digits > 15)
                return TW_EINVAL;
            if (*p == '\0')
                break;
            if (++part > 1)
                return TW_EINVAL;
            digits = 0;
            continue;
        }
        if (hexval(*p) < 0 || (*p >= 'A' && *p <= 'F'))
            return TW_EINVAL;
        v[part] = v[part] * 16 + (uint64_t)hexval(*p);
        digits++;
    }
    if (part != 1)
        return TW_EINVAL;
    *date = (int64_t)v[0];
    *seq = (int64_t)v[1];
    return TW_OK;
}

/* ==== Credentials ==== */

int tw__taxii_credentials(const char *authorization, char *key, size_t size)
{
    struct tw_str h, scheme, rest;

    if (authorization == NULL)
        return TW_ENOTFOUND;
    h = trim(tw_str_cstr(authorization));
    split(h, ' ', &scheme, &rest);
    rest = trim(rest);
    if (ieq(scheme, "Bearer")) {
        if (rest.len == 0 || rest.len >= size)
            return TW_EINVAL;
        memcpy(key, rest.ptr, rest.len);
        key[rest.len] = '\0';
        return TW_OK;
    }
    if (ieq(scheme, "Basic")) {
        /* RFC 7617: base64(user ":" password); the key is the password. */
        struct base64_decode_ctx ctx;
        uint8_t buf[512];
        size_t dlen = sizeof(buf);
        const char *colon;

        if (rest.len == 0 || BASE64_DECODE_LENGTH(rest.len) > sizeof(buf))
            return TW_EINVAL;
        base64_decode_init(&ctx);
        if (!base64_decode_update(&ctx, &dlen, buf, rest.len, rest.ptr) ||
                !base64_decode_final(&ctx))
            return TW_EINVAL;
        colon = memchr(buf, ':', dlen);
        if (colon == NULL)
            return TW_EINVAL;
        dlen -= (size_t)(colon + 1 - (const char *)buf);
        if (dlen == 0 || dlen >= size || memchr(colon + 1, '\0', dlen) != NULL)
            return TW_EINVAL;
        memcpy(key, colon + 1, dlen);
        key[dlen] = '\0';
        return TW_OK;
    }
    return TW_EINVAL;
}

/* ==== Timestamps ==== */

void tw__taxii_time(int64_t us, char *out)
{
    struct tw_time t;

    t.sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    t.nsec = (uint32_t)((us - t.sec * 1000000) * 1000);
    t.frac_digits = 6;
    (void)tw_time_format(&t, 6, out);
}

/* ==== Envelope elements as bytes (POST) ==== */

/*
 * A scan over JSON text that jansson has already accepted, strict anyway:
 * anything unexpected ends it with false, and the caller then serialises
 * the parsed objects as before. The counters describe the element of
 * "objects" being scanned.
 */
struct jscan {
    const char *p, *end;
    int depth;
    bool in_element;
    bool canonical;
    bool space;
    size_t members;
};

static bool js_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void js_skip(struct jscan *s)
{
    const char *p = s->p;

    while (p < s->end && js_is_space(*p))
        p++;
    if (p != s->p && s->in_element)
        s->space = true;
    s->p = p;
}

/* Whether the next byte is c (and there is one). */
static bool js_at(const struct jscan *s, char c)
{
    return s->p < s->end && *s->p == c;
}

/*
 * Bytes of the word w that are '"', '\\' or below 0x20 have their high bit
 * set in the result (no false negatives; a byte above 0x7f can be flagged
 * too, and is then looked at one byte at a time).
 */
static uint64_t js_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

    return ((q - ones) | (b - ones) | (w - ones * 0x20)) & highs;
}

/* A string from its opening quote. */
static bool js_string(struct jscan *s)
{
    const char *p = s->p + 1;

    for (;;) {
        const char *stop;

        /* eight plain bytes at a time; a word that may hold a special byte, one by one */
        while (s->end - p >= 8) {
            uint64_t w;

            memcpy(&w, p, sizeof(w));
            if (js_special(w) != 0)
                break;
            p += 8;
        }
        stop = s->end - p >= 8 ? p + 8 : s->end;
        while (p < stop && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            p++;
        if (p == stop && p < s->end)
            continue; /* nothing special in that word after all (bytes above 0x7f) */
        if (p >= s->end || (unsigned char)*p < 0x20)
            return false;
        if (*p == '"')
            break;
        if (s->end - p < 2)
            return false;
        switch (p[1]) {
            case '"':
            case '\\':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2; /* as jansson writes it */
                break;
            case '/':
                s->canonical = false; /* written back as a plain '/' */
                p += 2;
                break;
            case 'u':
                if (s->end - p < 6 || !tw_ascii_isxdigit(p[2]) || !tw_ascii_isxdigit(p[3]) ||
                        !tw_ascii_isxdigit(p[4]) || !tw_ascii_isxdigit(p[5]))
                    return false;
                s->canonical = false; /* written back as UTF-8, or in another case */
                p += 6;
                break;
            default:
                return false;
        }
    }
    s->p = p + 1;
    return true;
}

static const char *js_digits(const char *p, const char *end)
{
    while (p < end && tw_ascii_isdigit(*p))
        p++;
    return p;
}

/* A number; only integers other than -0 come back from jansson as they were written. */
static bool js_number(struct jscan *s)
{
    const char *p = s->p, *int_start;
    bool neg = false;

    if (*p == '-') {
        neg = true;
        p++;
    }
    int_start = p;
    if (p >= s->end || !tw_ascii_isdigit(*p))
        return false;
    p = *p == '0' ? p + 1 : js_digits(p, s->end);
    if (neg && p - int_start == 1 && *int_start == '0')
        s->canonical = false;
    if (p < s->end && *p == '.') {
        s->canonical = false;
        p++;
        if (p >= s->end || !tw_ascii_isdigit(*p))
            return false;
        p = js_digits(p, s->end);
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        s->canonical = false;
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || !tw_ascii_isdigit(*p))
            return false;
        p = js_digits(p, s->end);
    }
    s->p = p;
    return true;
}

static bool js_word(struct jscan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool js_value(struct jscan *s);

/* An object or an array from its opening bracket. */
static bool js_container(struct jscan *s, bool object)
{
    char close = object ? '}' : ']';

    if (++s->depth > TW_TAXII_SPAN_DEPTH)
        return false;
    s->p++;
    js_skip(s);
    if (js_at(s, close)) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        if (object) {
            if (!js_at(s, '"') || !js_string(s))
                return false;
            js_skip(s);
            if (!js_at(s, ':'))
                return false;
            s->p++;
            js_skip(s);
            s->members++;
        }
        if (!js_value(s))
            return false;
        js_skip(s);
        if (js_at(s, close))
            break;
        if (!js_at(s, ','))
            return false;
        s->p++;
        js_skip(s);
    }
    s->p++;
    s->depth--;
    return true;
}

static bool js_value(struct jscan *s)
{
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
        case '{':
            return js_container(s, true);
        case '[':
            return js_container(s, false);
        case '"':
            return js_string(s);
        case 't':
            return js_word(s, "true", 4);
        case 'f':
            return js_word(s, "false", 5);
        case 'n':
            return js_word(s, "null", 4);
        default:
            return js_number(s);
    }
}

/* The "objects" array from its opening bracket: one span per element. */
static long js_elements(struct jscan *s, const char *body, struct tw_taxii_span *spans, size_t cap)
{
    size_t n = 0;

    if (!js_at(s, '[') || ++s->depth > TW_TAXII_SPAN_DEPTH)
        return -1;
    s->p++;
    js_skip(s);
    if (js_at(s, ']')) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        struct tw_taxii_span *sp;

        if (n == cap)
            return -1;
        sp = &spans[n++];
        sp->off = (size_t)(s->p - body);
        s->in_element = true;
        s->canonical = true;
        s->space = false;
        s->members = 0;
        if (!js_value(s))
            return -1;
        s->in_element = false;
        sp->len = (size_t)(s->p - body) - sp->off;
        sp->n_members = s->members;
        sp->canonical = s->canonical;
        sp->has_space = s->space;
        js_skip(s);
        if (js_at(s, ']'))
            break;
        if (!js_at(s, ','))
            return -1;
        s->p++;
        js_skip(s);
    }
    s->p++;
    s->depth--;
    return (long)n;
}

long tw__taxii_object_spans(const char *body, size_t len, struct tw_taxii_span *spans, size_t cap)
{
    struct jscan s;
    long n = -1;

    memset(&s, 0, sizeof(s));
    s.p = body;
    s.end = body + len;
    js_skip(&s);
    if (!js_at(&s, '{'))
        return -1;
    s.p++;
    s.depth = 1;
    js_skip(&s);
    if (js_at(&s, '}'))
        return -1; /* no "objects" */
    for (;;) {
        const char *key = s.p;
        bool is_objects;

        if (!js_at(&s, '"') || !js_string(&s))
            return -1;
        is_objects = s.p - key == 9 && memcmp(key, "\"objects\"", 9) == 0;
        js_skip(&s);
        if (!js_at(&s, ':'))
            return -1;
        s.p++;
        js_skip(&s);
        if (is_objects) {
            if (n >= 0)
                return -1; /* a second "objects": jansson kept the last one */
            n = js_elements(&s, body, spans, cap);
            if (n < 0)
                return -1;
        } else if (!js_value(&s)) {
            return -1;
        }
        js_skip(&s);
        if (js_at(&s, '}'))
            break;
        if (!js_at(&s, ','))
            return -1;
        s.p++;
        js_skip(&s);
    }
    s.p++;
    js_skip(&s);
    return s.p == s.end ? n : -1;
}

size_t tw__taxii_compact(const char *src, size_t len, char *dst)
{
    size_t n = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        char c = src[i];

        if (in_string) {
            dst[n++] = c;
            if (c == '\\' && i + 1 < len)
                dst[n++] = src[++i];
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
            dst[n++] = c;
        } else if (!js_is_space(c)) {
            dst[n++] = c;
        }
    }
    return n;
}
