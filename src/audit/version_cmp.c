/*
 * version_cmp.c: software versions of Cisco IOS, IOS XE, NX-OS, IOS XR, ASA
 * and Juniper Junos, parsed by family, compared, and matched against the
 * release trains of the vulnerability data.
 *
 * Each family has its own grammar (audit_int.h shows the fields each
 * fills). Numbers are compared as numbers, so zero padding does not matter
 * (IOS XE 17.09.04a is 17.9.4a). Letters are compared only where they order
 * releases (an IOS XE rebuild letter: 17.9.4 < 17.9.4a); where they name a
 * train (IOS 15.2(4)E10 against 15.2(4)M7, NX-OS N1 against U6, Junos R
 * against X, Junos OS against Junos OS Evolved) versions of different trains
 * are not comparable and the comparison says so with TW_EINVAL rather than
 * guessing. Anything else is TW_EINVAL too: the caller reports "cannot
 * determine" rather than a pass.
 */
#include <string.h>

#include "audit_int.h"
#include "tidewatch/str.h"

/* ==== Scanning ==== */

/* Largest number accepted in any field (a release, a build). */
#define VERSION_NUM_MAX 999999u

struct cur {
    const char *p;
    const char *end;
};

static bool at(const struct cur *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static bool accept(struct cur *c, char ch)
{
    if (!at(c, ch))
        return false;
    c->p++;
    return true;
}

static bool is_upper(char ch)
{
    return ch >= 'A' && ch <= 'Z';
}

static bool is_lower(char ch)
{
    return ch >= 'a' && ch <= 'z';
}

/* A decimal number of at most 6 digits. */
static bool number(struct cur *c, uint32_t *out)
{
    uint32_t v = 0;
    unsigned n = 0;

    while (c->p < c->end && tw_ascii_isdigit(*c->p)) {
        if (++n > 6)
            return false;
        v = v * 10u + (uint32_t)(*c->p - '0');
        c->p++;
    }
    if (n == 0 || v > VERSION_NUM_MAX)
        return false;
    *out = v;
    return true;
}

/* Up to max letters of one case into out (NUL-terminated); returns how many. */
static unsigned letters(struct cur *c, bool (*cls)(char), char *out, unsigned max)
{
    unsigned n = 0;

    while (c->p < c->end && cls(*c->p) && n < max)
        out[n++] = *c->p++;
    out[n] = '\0';
    return n;
}

/* One optional lower-case letter. */
static char lower_letter(struct cur *c)
{
    if (c->p < c->end && is_lower(*c->p))
        return *c->p++;
    return 0;
}

/* "N.N" and up to max_num numbers in all. */
static bool dotted(struct cur *c, struct tw__version *v, unsigned min_num, unsigned max_num)
{
    v->n_num = 0;
    do {
        if (v->n_num == max_num || !number(c, &v->num[v->n_num]))
            return false;
        v->n_num++;
    } while (accept(c, '.'));
    return v->n_num >= min_num;
}

/* "(N[a])" into rel and rel_letter. */
static bool paren_release(struct cur *c, uint32_t *rel, char *letter)
{
    if (!accept(c, '(') || !number(c, rel))
        return false;
    *letter = lower_letter(c);
    return accept(c, ')');
}

/* ==== Grammars, one per family ==== */

/*
 * IOS XE: 17.9.4a, 16.12.10a, 17.09.04a, 3.x with train letters (03.06.05E).
 * At least three numbers: "17.9" is a train (the `version 17.9` statement of
 * a configuration), not a release.
 */
static bool parse_iosxe(struct cur *c, struct tw__version *v)
{
    if (!dotted(c, v, 3, 4))
        return false;
    if (c->p < c->end && is_upper(*c->p))
        (void)letters(c, is_upper, v->suffix, 2);
    else
        (void)letters(c, is_lower, v->suffix, 2);
    return true;
}

/* IOS XR: 7.9.2, 6.5.1, 7.10.1.1; "7.9" is a train. */
static bool parse_iosxr(struct cur *c, struct tw__version *v)
{
    return dotted(c, v, 3, 4);
}

/* IOS: 12.2(55)SE12, 15.2(4)E10, 15.9(3)M7, 12.4(25g), 12.4(24)T, 15.2(7)E8a. */
static bool parse_ios(struct cur *c, struct tw__version *v)
{
    if (!dotted(c, v, 2, 2) || !paren_release(c, &v->rel, &v->rel_letter))
        return false;
    if (letters(c, is_upper, v->train, 4) == 0)
        return true;
    if (c->p < c->end && tw_ascii_isdigit(*c->p)) {
        if (!number(c, &v->reb))
            return false;
        v->has_reb = true;
        v->reb_letter = lower_letter(c);
    }
    return true;
}

/* NX-OS: 9.3(5), 10.4(5), 7.3(13)N1(1), 6.0(2)U6(10), 9.3(5)I9(1), 10.2(3)F. */
static bool parse_nxos(struct cur *c, struct tw__version *v)
{
    if (!dotted(c, v, 2, 2) || !paren_release(c, &v->rel, &v->rel_letter))
        return false;
    if (letters(c, is_upper, v->train, 3) == 0)
        return true;
    if (c->p < c->end && tw_ascii_isdigit(*c->p)) {
        if (!number(c, &v->train_num) || !paren_release(c, &v->reb, &v->reb_letter))
            return false;
        v->has_train_num = true;
        v->has_reb = true;
    } else {
        /* A release-type letter alone (F feature, M maintenance) names no other train. */
        v->train[0] = '\0';
    }
    return true;
}

/* Junos: 22.4R3-S2.11, 21.4R3-S3.4, 18.4R2, 20.2R1-S1, 23.2R1-EVO, 15.1X49-D200.3, 13.3R1.4. */
static bool parse_junos(struct cur *c, struct tw__version *v)
{
    if (!dotted(c, v, 2, 2) || c->p >= c->end || !is_upper(*c->p))
        return false;
    v->train[0] = *c->p++;
    v->train[1] = '\0';
    if (!number(c, &v->rel))
        return false;
    if (c->end - c->p >= 2 && c->p[0] == '-' && (c->p[1] == 'S' || c->p[1] == 'D')) {
        v->svc_kind = c->p[1];
        c->p += 2;
        if (!number(c, &v->reb))
            return false;
        v->has_reb = true;
    }
    if (accept(c, '.')) {
        if (!number(c, &v->build))
            return false;
        v->has_build = true;
    }
    if (c->end - c->p == 4 && memcmp(c->p, "-EVO", 4) == 0) {
        v->evo = true;
        c->p += 4;
    }
    return true;
}

/* ASA: 9.12(4)67, 9.16(3)19, 9.8(4). */
static bool parse_asa(struct cur *c, struct tw__version *v)
{
    char none = 0;

    if (!dotted(c, v, 2, 2) || !paren_release(c, &v->rel, &none) || none != 0)
        return false;
    if (c->p < c->end && tw_ascii_isdigit(*c->p)) {
        if (!number(c, &v->reb))
            return false;
        v->has_reb = true;
    }
    return true;
}

int tw__version_parse(enum tw_platform p, const char *text, size_t len, struct tw__version *out)
{
    struct cur c = { text, text + len };
    bool ok;

    memset(out, 0, sizeof(*out));
    out->family = (uint8_t)p;
    if (text == NULL || len == 0 || len > TW_VERSION_MAX_LEN)
        return TW_EINVAL;
    switch (p) {
        case TW_PLAT_IOSXE:
            ok = parse_iosxe(&c, out);
            break;
        case TW_PLAT_IOSXR:
            ok = parse_iosxr(&c, out);
            break;
        case TW_PLAT_IOS:
            ok = parse_ios(&c, out);
            break;
        case TW_PLAT_NXOS:
            ok = parse_nxos(&c, out);
            break;
        case TW_PLAT_JUNOS:
            ok = parse_junos(&c, out);
            break;
        case TW_PLAT_ASA:
            ok = parse_asa(&c, out);
            break;
        default:
            ok = false;
            break;
    }
    return ok && c.p == c.end ? TW_OK : TW_EINVAL;
}

/* ==== Comparison ==== */

static int cmp_u32(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

/* Numbers in order; a version with fewer numbers sorts first when the rest are equal. */
static int cmp_nums(const struct tw__version *a, const struct tw__version *b)
{
    unsigned n = TW_MIN(a->n_num, b->n_num);

    for (unsigned i = 0; i < n; i++) {
        int r = cmp_u32(a->num[i], b->num[i]);
        if (r != 0)
            return r;
    }
    return cmp_u32(a->n_num, b->n_num);
}

/* A letter that orders rebuilds: none < 'a' < 'b'. */
static int cmp_letter(char a, char b)
{
    return cmp_u32((unsigned char)a, (unsigned char)b);
}

int tw__version_compare(const struct tw__version *a, const struct tw__version *b, int *out)
{
    int r;

    *out = 0;
    if (a->family != b->family)
        return TW_EINVAL;
    switch ((enum tw_platform)a->family) {
        case TW_PLAT_IOSXE:
            /* 3.x train letters (upper case) must agree; rebuild letters order. */
            r = cmp_nums(a, b);
            if (r != 0)
                break;
            if ((is_upper(a->suffix[0]) || is_upper(b->suffix[0])) &&
                    strcmp(a->suffix, b->suffix) != 0)
                return TW_EINVAL;
            r = strcmp(a->suffix, b->suffix);
            break;
        case TW_PLAT_IOSXR:
            r = cmp_nums(a, b);
            break;
        case TW_PLAT_IOS:
            r = cmp_nums(a, b);
            if (r == 0)
                r = cmp_u32(a->rel, b->rel);
            if (r == 0)
                r = cmp_letter(a->rel_letter, b->rel_letter);
            if (r != 0)
                break;
            if (strcmp(a->train, b->train) != 0)
                return TW_EINVAL;
            r = cmp_u32(a->reb, b->reb);
            if (r == 0)
                r = cmp_letter(a->reb_letter, b->reb_letter);
            break;
        case TW_PLAT_NXOS:
            r = cmp_nums(a, b);
            if (r == 0)
                r = cmp_u32(a->rel, b->rel);
            if (r == 0)
                r = cmp_letter(a->rel_letter, b->rel_letter);
            if (r != 0)
                break;
            if (strcmp(a->train, b->train) != 0 || a->has_train_num != b->has_train_num)
                return TW_EINVAL;
            r = cmp_u32(a->train_num, b->train_num);
            if (r == 0)
                r = cmp_u32(a->reb, b->reb);
            if (r == 0)
                r = cmp_letter(a->reb_letter, b->reb_letter);
            break;
        case TW_PLAT_JUNOS:
            if (a->evo != b->evo)
                return TW_EINVAL;
            r = cmp_nums(a, b);
            if (r != 0)
                break;
            if (strcmp(a->train, b->train) != 0)
                return TW_EINVAL;
            r = cmp_u32(a->rel, b->rel);
            if (r != 0)
                break;
            /* R3 < R3-S1: a service release comes after its base release. */
            if (a->has_reb && b->has_reb && a->svc_kind != b->svc_kind)
                return TW_EINVAL;
            r = cmp_u32(a->has_reb ? a->reb + 1u : 0u, b->has_reb ? b->reb + 1u : 0u);
            if (r == 0)
                r = cmp_u32(a->build, b->build);
            break;
        case TW_PLAT_ASA:
            r = cmp_nums(a, b);
            if (r == 0)
                r = cmp_u32(a->rel, b->rel);
            if (r == 0)
                r = cmp_u32(a->reb, b->reb);
            break;
        default:
            return TW_EINVAL;
    }
    *out = (r > 0) - (r < 0);
    return TW_OK;
}

int tw_version_cmp(enum tw_platform p, const char *a, const char *b, int *out)
{
    struct tw__version va, vb;
    int r = 0, rc;

    if (out != NULL)
        *out = 0;
    if (a == NULL || b == NULL || out == NULL)
        return TW_EINVAL;
    if (tw__version_parse(p, a, strlen(a), &va) != TW_OK ||
            tw__version_parse(p, b, strlen(b), &vb) != TW_OK)
        return TW_EINVAL;
    rc = tw__version_compare(&va, &vb, &r);
    if (rc != TW_OK)
        return rc;
    *out = r;
    return TW_OK;
}

/* ==== Trains ==== */

int tw__train_parse(enum tw_platform p, const char *text, size_t len, struct tw__train *out)
{
    struct cur c = { text, text + len };
    struct tw__version v;

    memset(out, 0, sizeof(*out));
    out->family = (uint8_t)p;
    if (text == NULL || len == 0 || len > TW_VERSION_MAX_LEN)
        return TW_EINVAL;
    if (p <= TW_PLAT_UNKNOWN || p >= TW_PLAT_COUNT)
        return TW_EINVAL;
    if (len == 1 && text[0] == '*') {
        out->any = true;
        return TW_OK;
    }
    memset(&v, 0, sizeof(v));
    if (!dotted(&c, &v, 1, (p == TW_PLAT_IOSXE || p == TW_PLAT_IOSXR) ? 4 : 2))
        return TW_EINVAL;
    out->n_num = v.n_num;
    memcpy(out->num, v.num, sizeof(out->num));
    if ((p == TW_PLAT_IOS || p == TW_PLAT_NXOS) && out->n_num == 2)
        (void)letters(&c, is_upper, out->letters, 4);
    if (p == TW_PLAT_JUNOS && c.end - c.p == 4 && memcmp(c.p, "-EVO", 4) == 0) {
        out->evo = true;
        c.p += 4;
    }
    return c.p == c.end ? TW_OK : TW_EINVAL;
}

bool tw__train_holds(const struct tw__train *t, const struct tw__version *v)
{
    if (t->family != v->family)
        return false;
    if (t->any)
        return true;
    if (v->n_num < t->n_num)
        return false;
    for (unsigned i = 0; i < t->n_num; i++)
        if (t->num[i] != v->num[i])
            return false;
    if (t->letters[0] != '\0' && strcmp(t->letters, v->train) != 0)
        return false;
    if ((enum tw_platform)t->family == TW_PLAT_JUNOS && t->evo != v->evo)
        return false;
    return true;
}

unsigned tw__train_specificity(const struct tw__train *t)
{
    if (t->any)
        return 0;
    return 2u * t->n_num + (t->letters[0] != '\0' ? 1u : 0u);
}
