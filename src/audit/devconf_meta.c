/*
 * devconf_meta.c: what a configuration says about the device beyond its
 * statements, and which platform wrote it.
 *
 * Collectors (Oxidized, RANCID) prepend `show version` and inventory output
 * as comments; operators supply `show version` beside the configuration.
 * tw__meta_line reads one such line and keeps the best candidate for the
 * exact software version (ranked: a definitive "Cisco IOS XE Software,
 * Version" beats the IOSd line of the same output, which beats a kickstart
 * version, which beats a configuration statement), the model, the user of
 * the last change and hints of the platform. The statement readers pick the
 * hostname, the IOS `version 17.9` train and configuration-level versions
 * (NX-OS `version 10.4(5)`, ASA `ASA Version`, Junos `version 22.4R3;`).
 * Every reader dispatches on a line's first bytes and compares prefixes, so
 * a line costs a few comparisons: no regex, no allocation.
 *
 * tw_platform_detect makes one pass over at most DETECT_MAX_LINES lines:
 * collector and RANCID headers decide, then statements typical of each
 * platform are scored.
 */
#include <string.h>

#include "devconf_int.h"

/* Lines tw_platform_detect reads before deciding on what it has seen. */
#define DETECT_MAX_LINES 4000u

/* ==== Small string helpers ==== */

long tw__find(const char *s, size_t n, const char *lit)
{
    size_t ln = strlen(lit);

    if (ln == 0)
        return 0;
    for (size_t i = 0; i + ln <= n; i++) {
        const char *p = memchr(s + i, lit[0], n - ln + 1 - i);
        if (p == NULL)
            return -1;
        i = (size_t)(p - s);
        if (memcmp(p, lit, ln) == 0)
            return (long)i;
    }
    return -1;
}

long tw__find_nocase(const char *s, size_t n, const char *lit)
{
    size_t ln = strlen(lit);

    for (size_t i = 0; i + ln <= n; i++) {
        size_t j = 0;
        while (j < ln && tw_ascii_lower(s[i + j]) == tw_ascii_lower(lit[j]))
            j++;
        if (j == ln)
            return (long)i;
    }
    return -1;
}

/* s[0..n) starts with the string literal lit (its length known at compile time). */
#define STARTS(s, n, lit) ((n) >= sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

static size_t skip_blanks(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* The word at s[i..]: up to a blank, comma, bracket, semicolon or quote. */
static struct tw_str word_at(const char *s, size_t n, size_t i)
{
    size_t j;

    i = skip_blanks(s, n, i);
    j = i;
    while (j < n && s[j] != ' ' && s[j] != '\t' && s[j] != ',' && s[j] != '[' && s[j] != ']' &&
            s[j] != ';' && s[j] != '"' && s[j] != '\r')
        j++;
    return tw_str_make(s + i, j - i);
}

/* The rest of the line from i, without surrounding blanks. */
static struct tw_str rest_at(const char *s, size_t n, size_t i)
{
    return tw_str_trim(tw_str_make(s + (i < n ? i : n), i < n ? n - i : 0));
}

/* ==== Candidates ==== */

static void offer_version(struct tw__meta *m, struct tw_str v, int rank, const char *from)
{
    if (v.len == 0 || !tw_ascii_isdigit(v.ptr[0]) || rank <= m->version_rank)
        return;
    m->version = v;
    m->version_rank = rank;
    m->version_from = from;
}

static void offer_model(struct tw__meta *m, struct tw_str v, int rank)
{
    if (v.len == 0 || rank <= m->model_rank)
        return;
    m->model = v;
    m->model_rank = rank;
}

/* The version after the first "Version " at or after i. */
static void version_after(
        struct tw__meta *m, const char *s, size_t n, const char *key, int rank, const char *from)
{
    long at = tw__find(s, n, key);

    if (at >= 0)
        offer_version(m, word_at(s, n, (size_t)at + strlen(key)), rank, from);
}

/* The bracketed version of "JUNOS Software Release [22.4R3-S2.11]". */
static void bracket_version(struct tw__meta *m, const char *s, size_t n, int rank, const char *from)
{
    long at = tw__find(s, n, "[");

    if (at >= 0)
        offer_version(m, word_at(s, n, (size_t)at + 1), rank, from);
}

/* The user after the last " by " of "Last configuration change at ... by U". */
static void last_by(struct tw__meta *m, const char *s, size_t n)
{
    long at = -1, from = 0, k;

    while ((k = tw__find(s + from, n - (size_t)from, " by ")) >= 0) {
        at = from + k;
        from = at + 4;
    }
    if (at >= 0) {
        struct tw_str u = word_at(s, n, (size_t)at + 4);
        if (u.len > 0)
            m->last_by = u;
    }
}

/* "cisco Nexus9000 C93180YC-FX3 Chassis" -> C93180YC-FX3; "cisco Nexus5548 Chassis" -> Nexus5548.
 */
static void nexus_model(struct tw__meta *m, const char *s, size_t n)
{
    long ch = tw__find(s, n, " Chassis");
    struct tw_str w1, w2;
    size_t i = 6; /* after "cisco " */

    if (ch < 0 || (size_t)ch < i)
        return;
    w1 = word_at(s, (size_t)ch, i);
    i = (size_t)(w1.ptr - s) + w1.len;
    w2 = word_at(s, (size_t)ch, i);
    if (w2.len == 0) {
        offer_model(m, w1, TW__RANK_GOOD);
    } else if (w1.len > 5 && STARTS(w1.ptr, w1.len, "Nexus")) {
        offer_model(m, tw_str_trim(tw_str_make(w2.ptr, (size_t)ch - (size_t)(w2.ptr - s))),
                TW__RANK_GOOD);
    } else {
        offer_model(m, tw_str_trim(tw_str_make(w1.ptr, (size_t)ch - (size_t)(w1.ptr - s))),
                TW__RANK_GOOD);
    }
}

static void cisco_line(struct tw__meta *m, const char *s, size_t n, const char *from)
{
    if (STARTS(s, n, "Cisco IOS XE Software") || STARTS(s, n, "Cisco IOS-XE Software")) {
        m->says_xe = true;
        version_after(m, s, n, "Version ", TW__RANK_DEFINED, from);
    } else if (STARTS(s, n, "Cisco IOS XR Software")) {
        m->says_xr = true;
        version_after(m, s, n, "Version ", TW__RANK_DEFINED, from);
    } else if (STARTS(s, n, "Cisco IOS Software")) {
        m->says_ios = true;
        if (tw__find_nocase(s, n, "iosxe") >= 0 || tw__find_nocase(s, n, "ios-xe") >= 0 ||
                tw__find(s, n, "IOS XE") >= 0)
            m->says_xe = true;
        version_after(m, s, n, ", Version ", TW__RANK_GOOD, from);
    } else if (STARTS(s, n, "Cisco Nexus Operating System")) {
        m->says_nxos = true;
    } else if (STARTS(s, n, "Cisco Adaptive Security Appliance")) {
        m->says_asa = true;
        version_after(m, s, n, "Software Version ", TW__RANK_DEFINED, from);
    }
}

void tw__meta_line(struct tw__meta *m, const char *s, size_t n, const char *from)
{
    if (n == 0)
        return;
    switch (s[0]) {
        case 'C':
            if (STARTS(s, n, "Cisco "))
                cisco_line(m, s, n, from);
            else if (STARTS(s, n, "Chassis type: "))
                offer_model(m, word_at(s, n, 14), TW__RANK_DEFINED);
            break;
        case 'c':
            if (STARTS(s, n, "cisco Nexus") && tw__find(s, n, " Chassis") > 0) {
                m->says_nxos = true;
                nexus_model(m, s, n);
            } else if (STARTS(s, n, "cisco ") && tw__find(s, n, " processor") > 0) {
                offer_model(m, word_at(s, n, 6), TW__RANK_GOOD);
            }
            break;
        case 'N':
            if (STARTS(s, n, "NXOS: version ")) {
                m->says_nxos = true;
                offer_version(m, word_at(s, n, 14), TW__RANK_DEFINED, from);
            } else if (STARTS(s, n, "NAME: \"Chassis\"") && tw__find(s, n, "Nexus") > 0) {
                m->says_nxos = true;
            }
            break;
        case 's':
            if (STARTS(s, n, "system:")) {
                size_t i = skip_blanks(s, n, 7);
                if (STARTS(s + i, n - i, "version ")) {
                    m->says_nxos = true;
                    offer_version(m, word_at(s, n, i + 8), TW__RANK_DEFINED, from);
                }
            }
            break;
        case 'k':
            if (STARTS(s, n, "kickstart:")) {
                size_t i = skip_blanks(s, n, 10);
                if (STARTS(s + i, n - i, "version "))
                    offer_version(m, word_at(s, n, i + 8), TW__RANK_WEAK, from);
            }
            break;
        case 'J':
            if (STARTS(s, n, "Junos: ")) {
                m->says_junos = true;
                offer_version(m, word_at(s, n, 7), TW__RANK_DEFINED, from);
            } else if (STARTS(s, n, "JUNOS Software Release [")) {
                m->says_junos = true;
                bracket_version(m, s, n, TW__RANK_GOOD, from);
            } else if (STARTS(s, n, "JUNOS Base OS boot [")) {
                m->says_junos = true;
                bracket_version(m, s, n, TW__RANK_GOOD - 1, from);
            } else if (STARTS(s, n, "JUNOS ")) {
                m->says_junos = true;
            }
            break;
        case 'M':
            if (STARTS(s, n, "Model: "))
                offer_model(m, word_at(s, n, 7), TW__RANK_DEFINED);
            else if (STARTS(s, n, "Model number") || STARTS(s, n, "Model Number")) {
                long c = tw__find(s, n, ":");
                if (c > 0)
                    offer_model(m, word_at(s, n, (size_t)c + 1), TW__RANK_GOOD);
            }
            break;
        case 'H':
            if (STARTS(s, n, "Hardware:")) {
                struct tw_str w = word_at(s, n, 9);
                offer_model(m, w, TW__RANK_GOOD);
            }
            break;
        case 'I':
            if (STARTS(s, n, "IOS XR Configuration")) {
                size_t i = skip_blanks(s, n, 20);
                m->says_xr = true;
                if (STARTS(s + i, n - i, "version"))
                    i = skip_blanks(s, n, i + 7);
                if (i < n && s[i] == '=')
                    i++;
                offer_version(m, word_at(s, n, i), TW__RANK_CONFIG, "config");
            } else if (STARTS(s, n, "IOS XE Version: ")) {
                m->says_xe = true;
                offer_version(m, word_at(s, n, 16), TW__RANK_DEFINED, from);
            } else if (STARTS(s, n, "Image: ") && tw__find_nocase(s, n, "iosxe") > 0) {
                m->says_xe = true;
            }
            break;
        case 'S':
            if (STARTS(s, n, "System image file is") && tw__find_nocase(s, n, "iosxe") > 0)
                m->says_xe = true;
            break;
        case 'L':
            if (STARTS(s, n, "Last configuration change") || STARTS(s, n, "Last commit:"))
                last_by(m, s, n);
            break;
        case 'R':
            if (STARTS(s, n, "RANCID-CONTENT-TYPE:")) {
                struct tw_str t = word_at(s, n, 20);
                if (tw_str_eq_cstr(t, "cisco-nx"))
                    m->says_nxos = true;
                else if (tw_str_eq_cstr(t, "cisco-xr"))
                    m->says_xr = true;
                else if (tw_str_eq_cstr(t, "juniper"))
                    m->says_junos = true;
                else if (tw_str_eq_cstr(t, "asa") || tw_str_eq_cstr(t, "cisco-asa"))
                    m->says_asa = true;
                else if (tw_str_eq_cstr(t, "cisco"))
                    m->says_ios = true;
            }
            break;
        default:
            break;
    }
}

void tw__meta_ios_statement(struct tw__meta *m, const char *s, size_t n)
{
    switch (s[0]) {
        case 'h':
            if (STARTS(s, n, "hostname "))
                m->hostname = rest_at(s, n, 9);
            break;
        case 's':
            if (STARTS(s, n, "switchname "))
                m->hostname = rest_at(s, n, 11);
            break;
        case 'v':
            if (STARTS(s, n, "version ")) {
                struct tw_str v = word_at(s, n, 8);
                if (memchr(v.ptr, '(', v.len) != NULL)
                    offer_version(m, v, TW__RANK_CONFIG, "config");
                else if (v.len > 0 && tw_ascii_isdigit(v.ptr[0]))
                    m->train = v;
            }
            break;
        case 'b':
            if (STARTS(s, n, "boot ") && tw__find_nocase(s, n, "iosxe") > 0)
                m->says_xe = true;
            break;
        case 'A':
        case 'P':
            if (STARTS(s, n, "ASA Version ") || STARTS(s, n, "PIX Version "))
                offer_version(m, word_at(s, n, 12), TW__RANK_CONFIG, "config");
            break;
        default:
            break;
    }
}

void tw__meta_junos_statement(struct tw__meta *m, const char *s, size_t n)
{
    if (STARTS(s, n, "version "))
        offer_version(m, word_at(s, n, 8), TW__RANK_CONFIG, "config");
    else if (STARTS(s, n, "system host-name "))
        m->hostname = rest_at(s, n, 17);
}

/* ==== Versions ==== */

size_t tw__version_normalise(enum tw_platform p, struct tw_str v, char *out, size_t cap)
{
    bool strip = p == TW_PLAT_IOS || p == TW_PLAT_IOSXE || p == TW_PLAT_IOSXR;
    bool in_dotted = true; /* still in the dotted part, before any '(' */
    size_t w = 0, i = 0;

    if (cap == 0)
        return 0;
    while (i < v.len && w + 1 < cap) {
        char ch;
        if (strip && in_dotted && (i == 0 || v.ptr[i - 1] == '.')) {
            /* Zero padding of a component: 17.09.04a -> 17.9.4a, 03.06.05E -> 3.6.5E. */
            while (i + 1 < v.len && v.ptr[i] == '0' && tw_ascii_isdigit(v.ptr[i + 1]))
                i++;
        }
        ch = v.ptr[i++];
        if (ch == '(')
            in_dotted = false;
        out[w++] = ch;
    }
    out[w] = '\0';
    return w;
}

bool tw__train_is_xe(struct tw_str train)
{
    unsigned major = 0;
    size_t i = 0;

    while (i < train.len && i < 4 && tw_ascii_isdigit(train.ptr[i]))
        major = major * 10u + (unsigned)(train.ptr[i++] - '0');
    return i > 0 && i < train.len && train.ptr[i] == '.' && major >= 16;
}

/* ==== Redaction markers ==== */

bool tw__has_redaction(const char *s, size_t n)
{
    const char *lt = memchr(s, '<', n);

    while (lt != NULL) {
        size_t off = (size_t)(lt - s);
        const char *gt = memchr(lt, '>', n - off);
        if (gt == NULL)
            return false;
        {
            size_t ml = (size_t)(gt - lt);
            if (tw__find(lt, ml, "hidden") >= 0 || tw__find(lt, ml, "removed") >= 0 ||
                    tw__find(lt, ml, "masked") >= 0 || tw__find(lt, ml, "redacted") >= 0)
                return true;
        }
        off = (size_t)(gt - s) + 1;
        lt = off < n ? memchr(s + off, '<', n - off) : NULL;
    }
    return false;
}

/* ==== Platform detection ==== */

struct detect_score {
    unsigned junos; /* lines ending in '{' or ';', '}' lines, set lines */
    unsigned cisco; /* other statement lines */
    unsigned ios, nxos, xr, asa;
    bool xe;
};

/* Top-level statements any IOS-family configuration is made of. */
static const char *const ios_words[] = {
    "hostname ",
    "interface ",
    "version ",
    "line ",
    "router ",
    "ip ",
    "ipv6 ",
    "no ",
    "service ",
    "logging ",
    "snmp-server ",
    "aaa ",
    "username ",
    "enable ",
    "ntp ",
    "access-list ",
    "banner ",
    "vlan ",
    "spanning-tree ",
    "crypto ",
    "end",
    "control-plane",
    "boot",
    "clock ",
    "archive",
    "license ",
    "redundancy",
    "class-map ",
    "policy-map ",
};

static void score_statement(struct detect_score *sc, const char *s, size_t n, size_t indent)
{
    char last = s[n - 1];

    if (last == '{' || last == ';' || last == '}') {
        sc->junos++;
        return;
    }
    if (indent == 0 && (STARTS(s, n, "set ") || STARTS(s, n, "deactivate ") ||
                               STARTS(s, n, "delete ") || STARTS(s, n, "activate "))) {
        sc->junos++;
        return;
    }
    sc->cisco++;
    if (indent > 0) {
        if (STARTS(s, n, "ipv4 address "))
            sc->xr += 2;
        else if (STARTS(s, n, "nameif ") || STARTS(s, n, "security-level "))
            sc->asa += 3;
        return;
    }
    if (STARTS(s, n, "version ")) {
        struct tw_str v = word_at(s, n, 8);
        if (memchr(v.ptr, '(', v.len) != NULL) {
            sc->nxos += 5;
        } else if (v.len > 0 && tw_ascii_isdigit(v.ptr[0])) {
            sc->ios += 3;
            if (tw__train_is_xe(v))
                sc->xe = true;
        }
        return;
    }
    if (STARTS(s, n, "ASA Version ") || STARTS(s, n, "PIX Version ")) {
        sc->asa += 10;
    } else if (STARTS(s, n, "feature ") || STARTS(s, n, "vrf context ")) {
        sc->nxos += 2;
    } else if (STARTS(s, n, "switchname ")) {
        sc->nxos += 3;
    } else if (STARTS(s, n, "end-policy") || STARTS(s, n, "end-set") ||
               STARTS(s, n, "route-policy ")) {
        sc->xr += 3;
    } else if (STARTS(s, n, "interface ")) {
        const char *sl = s;
        unsigned slashes = 0;
        while ((sl = memchr(sl, '/', n - (size_t)(sl - s))) != NULL) {
            slashes++;
            sl++;
        }
        if (slashes >= 3)
            sc->xr += 1;
        if (STARTS(s, n, "interface Ethernet"))
            sc->nxos += 1;
        sc->ios++;
    } else if (STARTS(s, n, "boot ") && tw__find_nocase(s, n, "iosxe") > 0) {
        sc->xe = true;
        sc->ios++;
    } else if (sc->ios == 0) {
        for (size_t k = 0; k < TW_ARRAY_LEN(ios_words); k++) {
            if (n >= strlen(ios_words[k]) && memcmp(s, ios_words[k], strlen(ios_words[k])) == 0) {
                sc->ios++;
                break;
            }
        }
    }
}

static void score_comment(struct detect_score *sc, struct tw__meta *m, const char *s, size_t n)
{
    bool double_bang = n >= 2 && s[1] == '!';
    size_t i = 0;

    while (i < n && (s[i] == '!' || s[i] == ' ' || s[i] == '\t'))
        i++;
    tw__meta_line(m, s + i, n - i, "comments");
    if (STARTS(s, n, "!Command: ") || STARTS(s, n, "!Time: ") ||
            STARTS(s, n, "!Running configuration last done"))
        sc->nxos += 5;
    else if (double_bang && STARTS(s + i, n - i, "Last configuration change"))
        sc->xr += 3;
    sc->ios++; /* '!' comments are an IOS-family habit */
}

/* A collector header names the platform: nothing later changes the answer. */
static bool decided(const struct tw__meta *m)
{
    return m->says_junos || m->says_nxos || m->says_xr || m->says_asa || m->says_xe;
}

enum tw_platform tw_platform_detect(const char *text, size_t len)
{
    struct detect_score sc;
    struct tw__meta m;
    size_t i = 0;
    unsigned lines = 0;

    if (text == NULL)
        return TW_PLAT_UNKNOWN;
    memset(&sc, 0, sizeof(sc));
    memset(&m, 0, sizeof(m));
    while (i < len && lines < DETECT_MAX_LINES && !decided(&m)) {
        const char *s = text + i;
        const char *nl = memchr(s, '\n', len - i);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - i;
        size_t indent = 0;

        i += n + 1;
        while (indent < n && (s[indent] == ' ' || s[indent] == '\t'))
            indent++;
        s += indent;
        n -= indent;
        while (n > 0 && tw_ascii_isspace(s[n - 1]))
            n--;
        if (n == 0)
            continue;
        lines++;
        if (s[0] == '!') {
            score_comment(&sc, &m, s, n);
        } else if (s[0] == '#') {
            size_t k = 0;
            while (k < n && (s[k] == '#' || s[k] == ' ' || s[k] == '\t'))
                k++;
            tw__meta_line(&m, s + k, n - k, "comments");
        } else if (s[0] == ':') {
            sc.asa++;
        } else if (STARTS(s, n, "Building configuration") ||
                   STARTS(s, n, "Current configuration :")) {
            sc.ios++;
        } else {
            score_statement(&sc, s, n, indent);
        }
    }
    /* Collector and RANCID headers decide. */
    if (m.says_junos)
        return TW_PLAT_JUNOS;
    if (m.says_nxos)
        return TW_PLAT_NXOS;
    if (m.says_xr)
        return TW_PLAT_IOSXR;
    if (m.says_asa)
        return TW_PLAT_ASA;
    if (m.says_xe)
        return TW_PLAT_IOSXE;
    if (m.says_ios)
        return sc.xe ? TW_PLAT_IOSXE : TW_PLAT_IOS;
    /* Then the statements. */
    if (sc.junos > 0 && sc.junos >= sc.cisco)
        return TW_PLAT_JUNOS;
    if (sc.cisco == 0 && sc.ios == 0)
        return TW_PLAT_UNKNOWN;
    if (sc.asa >= 3 && sc.asa >= sc.nxos && sc.asa >= sc.xr)
        return TW_PLAT_ASA;
    if (sc.nxos >= 2 && sc.nxos >= sc.xr)
        return TW_PLAT_NXOS;
    if (sc.xr >= 2)
        return TW_PLAT_IOSXR;
    if (sc.ios == 0)
        return TW_PLAT_UNKNOWN;
    return sc.xe ? TW_PLAT_IOSXE : TW_PLAT_IOS;
}
