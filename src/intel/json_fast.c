/*
 * json_fast.c: a quick path to the jansson tree of a well-formed JSON text.
 *
 * jansson's loader reads its input one character at a time through a stream
 * abstraction and looks every key up twice (JSON_REJECT_DUPLICATES); for the
 * STIX documents the hub ingests that was half the instructions of a POST
 * (docs/internals/HUB.md, "Figures, third round"). This scanner builds the
 * same tree with jansson's own constructors, so everything downstream still
 * sees json_t, but reads the text with pointer arithmetic and copies each
 * string once.
 *
 * It handles only the plain case and gives up (returns NULL, having freed
 * what it built) on anything else, for the caller to run json_loadb, whose
 * result and error messages are then exactly what they were: a \u escape, a
 * number with a fraction or an exponent, an integer json_int_t cannot hold,
 * a leading zero, a control character or a NUL byte, invalid UTF-8, a
 * duplicate key, nesting deeper than TW_JSON_FAST_DEPTH, anything after the
 * value but whitespace, or running out of memory. What it accepts it builds
 * to a tree equal to json_loadb's (members in the same order); the fuzz
 * target json_fast checks that against the jansson this is linked with.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stix_int.h"

#define TW_JSON_FAST_DEPTH 128

struct jf {
    const unsigned char *p;
    const unsigned char *end;
    char *tmp; /* unescaped string, when the text has escapes */
    size_t tmp_cap;
    unsigned depth;
};

static json_t *value(struct jf *s);

static void skip_ws(struct jf *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Checks one UTF-8 sequence starting at p (a byte >= 0x80); returns its length or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    uint32_t v;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07u;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0u) != 0x80u)
            return 0;
        v = (v << 6) | (p[i] & 0x3fu);
    }
    /* Overlong forms, surrogates and values past U+10FFFF, as jansson refuses them. */
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
            (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return n;
}

/*
 * Scans the string whose opening quote is at s->p. On success *out points at
 * its text (in the input, or in s->tmp when it had escapes) and *len is its
 * length; s->p is past the closing quote.
 */
static int string_text(struct jf *s, const char **out, size_t *len)
{
    const unsigned char *start = ++s->p;
    const unsigned char *p = start;
    size_t n = 0;
    bool escaped = false;

    /* First pass: find the end, check the bytes, count the unescaped length. */
    while (p < s->end && *p != '"') {
        unsigned c = *p;

        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (p + 1 >= s->end)
                return -1;
            switch (p[1]) {
                case '"':
                case '\\':
                case '/':
                case 'b':
                case 'f':
                case 'n':
                case 'r':
                case 't':
                    break;
                default:
                    return -1; /* \u and anything else: jansson's */
            }
            escaped = true;
            p += 2;
            n++;
        } else if (c >= 0x80) {
            size_t k = utf8_seq(p, s->end);

            if (k == 0)
                return -1;
            p += k;
            n += k;
        } else {
            p++;
            n++;
        }
    }
    if (p >= s->end)
        return -1;
    s->p = p + 1;
    if (!escaped) {
        *out = (const char *)start;
        *len = n;
        return 0;
    }
    if (n + 1 > s->tmp_cap) {
        size_t cap = s->tmp_cap ? s->tmp_cap : 256;
        char *t;

        while (cap < n + 1)
            cap *= 2;
        t = realloc(s->tmp, cap);
        if (t == NULL)
            return -1;
        s->tmp = t;
        s->tmp_cap = cap;
    }
    n = 0;
    for (const unsigned char *q = start; q < p; q++) {
        if (*q != '\\') {
            s->tmp[n++] = (char)*q;
            continue;
        }
        q++;
        switch (*q) {
            case 'b':
                s->tmp[n++] = '\b';
                break;
            case 'f':
                s->tmp[n++] = '\f';
                break;
            case 'n':
                s->tmp[n++] = '\n';
                break;
            case 'r':
                s->tmp[n++] = '\r';
                break;
            case 't':
                s->tmp[n++] = '\t';
                break;
            default:
                s->tmp[n++] = (char)*q; /* " \ / */
                break;
        }
    }
    *out = s->tmp;
    *len = n;
    return 0;
}

static json_t *number(struct jf *s)
{
    const unsigned char *p = s->p;
    bool neg = false;
    uint64_t v = 0;
    const uint64_t lim = (uint64_t)LLONG_MAX; /* json_int_t is long long */

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (p >= s->end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0') {
        p++;
        if (p < s->end && *p >= '0' && *p <= '9')
            return NULL;
    } else {
        while (p < s->end && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');

            if (v > (lim + (neg ? 1u : 0u) - d) / 10)
                return NULL; /* too big: jansson's error */
            v = v * 10 + d;
            p++;
        }
    }
    if (p < s->end && (*p == '.' || *p == 'e' || *p == 'E'))
        return NULL; /* a real: jansson's strtod */
    s->p = p;
    if (neg)
        return json_integer(v == lim + 1u ? (json_int_t)LLONG_MIN : -(json_int_t)v);
    return json_integer((json_int_t)v);
}

static json_t *object(struct jf *s)
{
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return o;
    }
    for (;;) {
        const char *k;
        size_t klen;
        json_t *v;
        char key[64];
        char *kcopy = key;

        if (s->p >= s->end || *s->p != '"' || string_text(s, &k, &klen) != 0)
            goto fail;
        /* The key may live in s->tmp, which the value can overwrite. */
        if (klen >= sizeof(key)) {
            kcopy = malloc(klen + 1);
            if (kcopy == NULL)
                goto fail;
        }
        memcpy(kcopy, k, klen);
        kcopy[klen] = '\0';
        if (json_object_getn(o, kcopy, klen) != NULL) {
            if (kcopy != key)
                free(kcopy);
            goto fail; /* a duplicate: jansson reports it */
        }
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') {
            if (kcopy != key)
                free(kcopy);
            goto fail;
        }
        s->p++;
        skip_ws(s);
        v = value(s);
        if (v == NULL || json_object_setn_new_nocheck(o, kcopy, klen, v) != 0) {
            if (kcopy != key)
                free(kcopy);
            goto fail;
        }
        if (kcopy != key)
            free(kcopy);
        skip_ws(s);
        if (s->p >= s->end)
            goto fail;
        if (*s->p == '}') {
            s->p++;
            return o;
        }
        if (*s->p != ',')
            goto fail;
        s->p++;
        skip_ws(s);
    }
fail:
    json_decref(o);
    return NULL;
}

static json_t *array(struct jf *s)
{
    json_t *a = json_array();

    if (a == NULL)
        return NULL;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return a;
    }
    for (;;) {
        json_t *v = value(s);

        if (v == NULL || json_array_append_new(a, v) != 0)
            goto fail;
        skip_ws(s);
        if (s->p >= s->end)
            goto fail;
        if (*s->p == ']') {
            s->p++;
            return a;
        }
        if (*s->p != ',')
            goto fail;
        s->p++;
        skip_ws(s);
    }
fail:
    json_decref(a);
    return NULL;
}

static bool literal(struct jf *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

static json_t *value(struct jf *s)
{
    json_t *v = NULL;

    if (s->p >= s->end)
        return NULL;
    switch (*s->p) {
        case '{':
        case '[':
            if (s->depth >= TW_JSON_FAST_DEPTH)
                return NULL;
            s->depth++;
            v = *s->p == '{' ? object(s) : array(s);
            s->depth--;
            return v;
        case '"': {
            const char *t;
            size_t n;

            if (string_text(s, &t, &n) != 0)
                return NULL;
            return json_stringn_nocheck(t, n);
        }
        case 't':
            return literal(s, "true", 4) ? json_true() : NULL;
        case 'f':
            return literal(s, "false", 5) ? json_false() : NULL;
        case 'n':
            return literal(s, "null", 4) ? json_null() : NULL;
        default:
            return number(s);
    }
}

json_t *tw__json_fast_load(const char *data, size_t len)
{
    struct jf s = { (const unsigned char *)data, (const unsigned char *)data + len, NULL, 0, 0 };
    json_t *root;

    skip_ws(&s);
    root = value(&s);
    if (root != NULL) {
        skip_ws(&s);
        if (s.p != s.end) {
            json_decref(root);
            root = NULL;
        }
    }
    free(s.tmp);
    return root;
}
