/*
 * devconf_mask.c: the only form of a configuration line that may leave the
 * auditor (tw_devconf_mask in include/tidewatch/devconf.h).
 *
 * A statement is split into words (a double-quoted string is one word; a
 * redaction marker such as `<secret hidden>` is one word even with blanks in
 * it). Keywords that introduce a secret are looked up in a table; each kind
 * knows its grammar: an optional type digit that stays (`password 7
 * <masked>`, `secret 9 <masked>`, `key 7 <masked>`), sub-words that stay
 * (`set-key ascii 0`, `pre-shared-key ascii-text`, `message-digest-key 1
 * md5`), and for the IOS family a clear-text (type 0 or untyped) password or
 * secret that runs to the end of the line, since IOS takes the rest of the
 * line as the secret (`password 0 MGMT PASSW0RD` -> `password 0 <masked>`).
 * Positional secrets are handled by line: the community of `snmp-server host
 * IP [vrf V] [informs|traps] [version V [auth|noauth|priv]] COMMUNITY`, the
 * auth and priv phrases of `snmp-server user`, the community name after
 * `snmp community` (Junos) and `snmp-server community`. A URL's password
 * (`ftp://user:pass@host`) is masked in any word. A quoted secret keeps its
 * quotes (`encrypted-password "<masked>"`); redaction markers stay as they
 * are; Junos `ssh-rsa "..."` and other public keys stay (they are not
 * secrets). Every word after every keyword is examined, even when an earlier
 * keyword masked it, so no keyword shadows another.
 *
 * Masking errs on the side of hiding: a word after a keyword that is not a
 * known non-secret (`password encryption aes`, Junos `login password
 * minimum-length`, a key-chain `key 1`) is masked.
 */
#include <string.h>

#include "devconf_int.h"
#include "tidewatch/alloc.h"

/* Words of a statement examined without allocating; longer statements allocate their list. */
#define MASK_STACK_WORDS 128u
/* Secrets masked one by one per statement; past this the rest of the statement is masked. */
#define MASK_MAX_SPANS 64u
/* Longest redaction marker recognised as one word ("<configuration removed>"). */
#define MASK_MARKER_MAX 48u

static const char masked[] = "<masked>";

struct mword {
    size_t off, n;
};

struct span {
    size_t a, b;
};

struct masker {
    const char *s;
    size_t len;
    struct mword *w;
    size_t nw;
    struct span sp[MASK_MAX_SPANS];
    size_t ns;
    size_t rest_from; /* mask everything from here (spans overflowed), or SIZE_MAX */
    bool ios_clear_rest;
    bool asa;
    bool isakmp; /* `crypto isakmp key 7 address ...`: a lone digit before address is the key */
    bool seen_authkey; /* an authentication-key came before (Junos ntp `value X`) */
    size_t rest_until; /* end of the last span that hides the rest of a line */
};

/* ==== Words ==== */

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* End of the word starting at i. */
static size_t word_end(const char *s, size_t len, size_t i)
{
    if (s[i] == '"') {
        size_t k = i + 1;
        while (k < len && s[k] != '"') {
            if (s[k] == '\\' && k + 1 < len)
                k++;
            k++;
        }
        return k < len ? k + 1 : len;
    }
    if (s[i] == '<') {
        size_t k = i + 1;
        while (k < len && k - i <= MASK_MARKER_MAX && s[k] != '>' && s[k] != '<' && s[k] != '\n')
            k++;
        if (k < len && s[k] == '>')
            return k + 1;
    }
    while (i < len && !blank(s[i]))
        i++;
    return i;
}

static size_t count_words(const char *s, size_t len)
{
    size_t n = 0, i = 0;

    while (i < len) {
        while (i < len && blank(s[i]))
            i++;
        if (i >= len)
            break;
        i = word_end(s, len, i);
        n++;
    }
    return n;
}

static void split_words(struct masker *m, size_t max)
{
    size_t i = 0;

    m->nw = 0;
    while (i < m->len && m->nw < max) {
        while (i < m->len && blank(m->s[i]))
            i++;
        if (i >= m->len)
            break;
        m->w[m->nw].off = i;
        i = word_end(m->s, m->len, i);
        m->w[m->nw].n = i - m->w[m->nw].off;
        m->nw++;
    }
}

static bool word_eq(const struct masker *m, size_t k, const char *lit, size_t ln)
{
    return k < m->nw && m->w[k].n == ln && memcmp(m->s + m->w[k].off, lit, ln) == 0;
}

/* Word k is the string literal lit. */
#define IS(m, k, lit) word_eq((m), (k), (lit), sizeof(lit) - 1)

static bool is_any(const struct masker *m, size_t k, const char *const *list, size_t n)
{
    for (size_t i = 0; k < m->nw && i < n; i++) {
        if (word_eq(m, k, list[i], strlen(list[i])))
            return true;
    }
    return false;
}

static bool is_number(const struct masker *m, size_t k, size_t max_digits)
{
    const char *p;

    if (k >= m->nw || m->w[k].n == 0 || m->w[k].n > max_digits)
        return false;
    p = m->s + m->w[k].off;
    for (size_t i = 0; i < m->w[k].n; i++) {
        if (!tw_ascii_isdigit(p[i]))
            return false;
    }
    return true;
}

static bool is_marker(const struct masker *m, size_t k)
{
    const char *p = m->s + m->w[k].off;
    size_t n = m->w[k].n;

    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        p++;
        n -= 2;
    }
    return n >= 2 && p[0] == '<' && p[n - 1] == '>';
}

/* ==== Spans ==== */

static void add_span(struct masker *m, size_t a, size_t b)
{
    if (b <= a)
        return;
    if (m->ns == MASK_MAX_SPANS) {
        if (a < m->rest_from)
            m->rest_from = a;
        return;
    }
    m->sp[m->ns].a = a;
    m->sp[m->ns].b = b;
    m->ns++;
}

/* Masks word k (inside its quotes when quoted); markers stay. */
static void mask_word(struct masker *m, size_t k)
{
    size_t a, b;

    if (k >= m->nw || is_marker(m, k))
        return;
    a = m->w[k].off;
    b = a + m->w[k].n;
    if (m->s[a] == '"') {
        a++;
        if (b > a && m->s[b - 1] == '"')
            b--;
        if (b == a)
            return; /* "" hides nothing */
    }
    add_span(m, a, b);
}

/* Masks from word k to the end of its line. */
static void mask_rest(struct masker *m, size_t k)
{
    const char *nl;
    size_t a, b;

    if (k >= m->nw)
        return;
    if (k + 1 == m->nw && is_marker(m, k))
        return;
    a = m->w[k].off;
    nl = memchr(m->s + a, '\n', m->len - a);
    b = nl != NULL ? (size_t)(nl - m->s) : m->len;
    /* Whole words only: a quoted word may run past the line's end. */
    for (size_t j = k; j < m->nw && m->w[j].off < b; j++) {
        if (m->w[j].off + m->w[j].n > b)
            b = m->w[j].off + m->w[j].n;
    }
    while (b > a && blank(m->s[b - 1]))
        b--;
    add_span(m, a, b);
    if (b > m->rest_until)
        m->rest_until = b;
}

/* ==== Grammar of secrets ==== */

enum kw_kind {
    KW_NONE = 0,
    KW_VALUE,     /* [type] SECRET */
    KW_PASSWORD,  /* [level N] [type] SECRET; IOS clear text runs to the end of the line */
    KW_KEY,       /* key [type] SECRET, not a key-chain `key 1` nor `crypto key ...` */
    KW_KEYSTRING, /* key-string [password|encrypted|clear] [type] SECRET */
    KW_SUBWORD,   /* set-key / wpa-psk / pre-shared-key [ascii|hex|local|...] [type] SECRET */
    KW_AUTHKEY,   /* authentication-key: Junos "X", IOS ntp N md5 X [t], ospf [t] X */
    KW_MDKEY,     /* message-digest-key N md5 [t] X */
    KW_COMMUNITY, /* snmp-server community X, snmp community X, ASA host ... community X */
    KW_TEXT,      /* authentication text X (HSRP, VRRP) */
    KW_NTPVALUE,  /* Junos ntp authentication-key N type md5 value X */
    KW_AUTH,      /* ip nhrp authentication X; standby|vrrp|glbp N authentication X */
    KW_REST,      /* everything after it: manual IPsec keys (session-key, ipsec spi N ...) */
};

struct keyword {
    const char *word;
    size_t len;
    enum kw_kind kind;
};

#define KW(w, k)                                                                                   \
    {                                                                                              \
        (w), sizeof(w) - 1, (k)                                                                    \
    }

static const struct keyword keywords[] = {
    KW("password", KW_PASSWORD), KW("secret", KW_PASSWORD), KW("passwd", KW_VALUE),
    KW("key", KW_KEY), KW("key-string", KW_KEYSTRING), KW("set-key", KW_SUBWORD),
    KW("wpa-psk", KW_SUBWORD), KW("pre-shared-key", KW_SUBWORD),
    KW("authentication-key", KW_AUTHKEY), KW("message-digest-key", KW_MDKEY),
    KW("community", KW_COMMUNITY), KW("community-name", KW_VALUE), KW("text", KW_TEXT),
    KW("value", KW_NTPVALUE), KW("password-encrypt", KW_VALUE), KW("passphrase", KW_VALUE),
    KW("plain-text-password-value", KW_VALUE), KW("authentication", KW_AUTH),
    KW("cak", KW_VALUE),        /* Junos MACsec pre-shared-key ckn NAME cak "X" */
    KW("session-key", KW_REST), /* IOS/ASA manual IPsec: set session-key ... cipher X ... */
    KW("spi", KW_REST),         /* OSPFv3: authentication|encryption ipsec spi N alg [..] X */
};

/* Words after `password` or `secret` that are settings, not secrets. */
static const char *const not_secret[] = {
    "encryption",
    "format",
    "minimum-length",
    "maximum-length",
    "change-type",
    "minimum-changes",
    "minimum-character-changes",
    "minimum-lower-cases",
    "minimum-numerics",
    "minimum-punctuations",
    "minimum-upper-cases",
    "minimum-reuse",
    "maximum-lifetime",
    "minimum-lifetime",
    "prompt",
    "policy",
    "history",
};

static const char *const key_not_secret[] = {
    "chain",
    "config-key",
    "generate",
    "zeroize",
    "import",
    "export",
    "pubkey-chain",
    "storage",
    "decrypt",
    "encrypt",
};

static const char *const subwords[] = {
    "ascii",
    "hex",
    "ascii-text",
    "hexadecimal",
    "local",
    "remote",
};

static const char *const hash_algos[] = {
    "md5",
    "sha",
    "sha1",
    "sha-1",
    "sha224",
    "sha-224",
    "sha256",
    "sha-256",
    "sha384",
    "sha-384",
    "sha512",
    "sha-512",
    "hmac-sha1",
    "hmac-sha2-256",
    "cmac-aes-128",
};

static const char *const priv_algos[] = {
    "des",
    "3des",
    "des56",
    "aes",
    "aes-128",
    "aes-192",
    "aes-256",
    "aes128",
    "aes192",
    "aes256",
};

static enum kw_kind keyword_kind(const struct masker *m, size_t k)
{
    const char *p = m->s + m->w[k].off;
    size_t n = m->w[k].n;

    for (size_t i = 0; i < TW_ARRAY_LEN(keywords); i++) {
        if (n == keywords[i].len && p[0] == keywords[i].word[0] &&
                memcmp(p, keywords[i].word, n) == 0)
            return keywords[i].kind;
    }
    /* encrypted-password, simple-password, authentication-password, ldap-login-password, ... */
    if (n > 9 && memcmp(p + n - 9, "-password", 9) == 0 && !IS(m, k, "plain-text-password"))
        return KW_VALUE;
    if (n > 7 && memcmp(p + n - 7, "-secret", 7) == 0)
        return KW_VALUE;
    if (n > 4 && memcmp(p + n - 4, "-key", 4) == 0)
        return KW_KEY; /* server-key, privacy-key, ntp trusted-key 1 (an id) */
    return KW_NONE;
}

/* A type word that stays: a digit (IOS 0-9, XR 10) or XR's encrypted / clear. */
static bool is_type(const struct masker *m, size_t k, bool words)
{
    return is_number(m, k, 2) || (words && (IS(m, k, "encrypted") || IS(m, k, "clear")));
}

/* Word k, or the word after it when k is XR's `encrypted` or `clear` before a value. */
static size_t skip_type_word(const struct masker *m, size_t k)
{
    if ((IS(m, k, "encrypted") || IS(m, k, "clear")) && k + 1 < m->nw)
        return k + 1;
    return k;
}

/* [type] SECRET at word v; rest: IOS clear text may run to the end of the line. */
static void value_at(struct masker *m, size_t v, bool rest, bool type_words)
{
    bool clear = true;

    (void)type_words; /* XR's `encrypted` / `clear` are type words wherever a value follows */
    /* Qualifiers before the value (`key ascii-text X`, `lsp-password hmac-md5 encrypted X`). */
    while (v + 1 < m->nw && (is_any(m, v, subwords, TW_ARRAY_LEN(subwords)) ||
                                    is_any(m, v, hash_algos, TW_ARRAY_LEN(hash_algos)) ||
                                    IS(m, v, "hmac-md5") || IS(m, v, "text")))
        v++;
    if (v >= m->nw)
        return;
    if (is_type(m, v, true) && v + 1 < m->nw) {
        if (m->isakmp && (IS(m, v + 1, "address") || IS(m, v + 1, "hostname"))) {
            mask_word(m, v); /* crypto isakmp key 7 address ...: "7" is the key */
            return;
        }
        if (keyword_kind(m, v + 1) != KW_NONE && v + 2 < m->nw)
            return; /* an id, then a keyword with its own value: `key 0 secret "X"` */
        clear = IS(m, v, "0") || IS(m, v, "clear");
        v++;
    }
    if (is_marker(m, v))
        return; /* redacted already, or masked: what follows is not the secret */
    if (m->s[m->w[v].off] != '"' && is_any(m, v, not_secret, TW_ARRAY_LEN(not_secret)))
        return;
    if (v + 1 < m->nw && keyword_kind(m, v) != KW_NONE)
        return; /* another keyword with a value of its own: `config-key password-encrypt X` */
    if (rest && clear && m->ios_clear_rest && m->s[m->w[v].off] != '"')
        mask_rest(m, v); /* a quoted value is whole: `password "X"` */
    else
        mask_word(m, v);
}

static void on_keyword(struct masker *m, size_t k, enum kw_kind kind, size_t first)
{
    size_t v = k + 1;

    switch (kind) {
        case KW_VALUE:
            value_at(m, v, false, false);
            break;
        case KW_PASSWORD:
            if (IS(m, v, "level") && is_number(m, v + 1, 3))
                v += 2;
            value_at(m, v, true, true);
            break;
        case KW_KEY:
            if (k == first + 1 && (IS(m, first, "crypto") || IS(m, first, "tunnel")))
                break; /* crypto key generate ..., tunnel key 5 */
            if (is_any(m, v, key_not_secret, TW_ARRAY_LEN(key_not_secret)))
                break;
            if (is_number(m, v, 3) && v + 1 >= m->nw)
                break; /* an id: key-chain `key 1`, `ntp trusted-key 1` */
            value_at(m, v, false, false);
            break;
        case KW_KEYSTRING:
            if (IS(m, v, "password"))
                v++;
            value_at(m, v, true, true);
            break;
        case KW_SUBWORD:
            while (is_any(m, v, subwords, TW_ARRAY_LEN(subwords)))
                v++;
            if (IS(m, v, "address") || IS(m, v, "hostname") || IS(m, v, "key"))
                break; /* `pre-shared-key address IP key X`: `key` masks it */
            value_at(m, v, !IS(m, k, "pre-shared-key"), false);
            break;
        case KW_AUTHKEY:
            if (is_number(m, v, 10) && v + 1 < m->nw) {
                if (is_any(m, v + 1, hash_algos, TW_ARRAY_LEN(hash_algos))) {
                    /* ntp authentication-key 1 md5 X [7]; XR: 1 md5 encrypted X */
                    mask_word(m, skip_type_word(m, v + 2));
                    break;
                }
                if (IS(m, v + 1, "type"))
                    break; /* Junos ntp: `value` masks it */
            }
            value_at(m, v, false, false);
            break;
        case KW_MDKEY:
            if (is_number(m, v, 10))
                v++;
            if (is_any(m, v, hash_algos, TW_ARRAY_LEN(hash_algos)))
                v++;
            value_at(m, v, true, false);
            break;
        case KW_COMMUNITY:
            if (!IS(m, first, "snmp-server") && !IS(m, first, "snmp"))
                break;
            if (m->asa && is_number(m, v, 1) && v + 1 < m->nw)
                v++; /* ASA: community 0|8 X */
            mask_word(m, v);
            break;
        case KW_AUTH:
            if (k > 0 && IS(m, k - 1, "nhrp")) {
                mask_word(m, v);
            } else if (k > 1 &&
                       (IS(m, k - 2, "standby") || IS(m, k - 2, "vrrp") || IS(m, k - 2, "glbp"))) {
                if (!IS(m, v, "text") && !IS(m, v, "md5"))
                    mask_word(m, v); /* `standby 1 authentication X`: a clear-text key */
            }
            break;
        case KW_TEXT:
            if (k > 0 && IS(m, k - 1, "authentication"))
                mask_word(m, v);
            break;
        case KW_NONE:
            break;
        case KW_REST:
            mask_rest(m, v);
            break;
        case KW_NTPVALUE:
            if (m->seen_authkey)
                mask_word(m, v);
            break;
    }
}

/* snmp-server host IP [vrf V] [informs|traps] [version V [auth|noauth|priv]] COMMUNITY ... */
static void snmp_host(struct masker *m, size_t first)
{
    size_t i = first + 3;

    while (i < m->nw) {
        if (IS(m, i, "vrf") || IS(m, i, "use-vrf") || IS(m, i, "filter-vrf") ||
                IS(m, i, "source-interface")) {
            i += 2;
        } else if (IS(m, i, "informs") || IS(m, i, "traps")) {
            i++;
        } else if (IS(m, i, "version")) {
            bool v3 = IS(m, i + 1, "3");
            i += 2;
            if (v3 && (IS(m, i, "auth") || IS(m, i, "noauth") || IS(m, i, "priv")))
                i++;
        } else {
            if (!IS(m, i, "community"))
                mask_word(m, i);
            return;
        }
    }
}

/* snmp-server user U G [...] auth ALGO X priv [ALGO [BITS]] Y */
static void snmp_user(struct masker *m, size_t first)
{
    for (size_t i = first + 3; i < m->nw; i++) {
        size_t j = i + 1;
        if (IS(m, i, "auth")) {
            if (is_any(m, j, hash_algos, TW_ARRAY_LEN(hash_algos)))
                j++;
            mask_word(m, skip_type_word(m, j)); /* XR: auth sha encrypted X */
        } else if (IS(m, i, "priv")) {
            if (IS(m, j, "aes") && is_number(m, j + 1, 3))
                j += 2;
            else if (is_any(m, j, priv_algos, TW_ARRAY_LEN(priv_algos)))
                j++;
            mask_word(m, skip_type_word(m, j));
        }
    }
}

/* scheme://user:PASSWORD@host in any word. */
static void url_password(struct masker *m, size_t k)
{
    const char *p = m->s + m->w[k].off;
    size_t n = m->w[k].n;
    long sch = tw__find(p, n, "://");
    size_t a, end, at = 0, colon = 0;

    if (sch < 0)
        return;
    a = (size_t)sch + 3;
    end = a;
    while (end < n && p[end] != '/' && p[end] != '"')
        end++;
    for (size_t i = a; i < end; i++) {
        if (p[i] == '@')
            at = i;
    }
    if (at == 0)
        return;
    for (size_t i = a; i < at; i++) {
        if (p[i] == ':') {
            colon = i;
            break;
        }
    }
    if (colon != 0 && at > colon + 1)
        add_span(m, m->w[k].off + colon + 1, m->w[k].off + at);
}

/* ==== Output ==== */

static void sort_spans(struct span *sp, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct span t = sp[i];
        size_t j = i;
        while (j > 0 && sp[j - 1].a > t.a) {
            sp[j] = sp[j - 1];
            j--;
        }
        sp[j] = t;
    }
}

static void put(char *out, size_t cap, size_t *w, const char *s, size_t n)
{
    size_t room = cap - 1 - *w; /* *w < cap always */

    if (n > room)
        n = room;
    if (n > 0)
        memcpy(out + *w, s, n);
    *w += n;
}

/* Writes the text with each span (overlapping ones merged) replaced by one marker. */
static size_t write_out(struct masker *m, char *out, size_t cap)
{
    struct span all[MASK_MAX_SPANS + 1];
    size_t n = m->ns, w = 0, pos = 0;

    memcpy(all, m->sp, n * sizeof(all[0]));
    if (m->rest_from < m->len) {
        all[n].a = m->rest_from;
        all[n].b = m->len;
        n++;
    }
    sort_spans(all, n);
    for (size_t i = 0; i < n; i++) {
        if (all[i].b <= pos)
            continue;
        if (all[i].a > pos || pos == 0) {
            put(out, cap, &w, m->s + pos, all[i].a - pos);
            put(out, cap, &w, masked, sizeof(masked) - 1);
        }
        pos = all[i].b;
    }
    if (pos < m->len)
        put(out, cap, &w, m->s + pos, m->len - pos);
    out[w] = '\0';
    return w;
}

size_t tw_devconf_mask(enum tw_platform p, const char *text, size_t len, char *out, size_t cap)
{
    struct mword stack_words[MASK_STACK_WORDS];
    struct masker m;
    size_t first = 0, total, w;

    if (out == NULL || cap == 0)
        return 0;
    out[0] = '\0';
    if (text == NULL || len == 0)
        return 0;
    memset(&m, 0, sizeof(m));
    m.s = text;
    m.len = len;
    m.rest_from = SIZE_MAX;
    m.ios_clear_rest = p == TW_PLAT_IOS || p == TW_PLAT_IOSXE || p == TW_PLAT_UNKNOWN;
    m.asa = p == TW_PLAT_ASA;
    m.w = stack_words;
    total = count_words(text, len);
    if (total > MASK_STACK_WORDS) {
        m.w = tw_malloc(total * sizeof(*m.w));
        if (m.w == NULL) {
            /* No room to look: show the first word only. */
            m.w = stack_words;
            split_words(&m, 1);
            m.rest_from = m.nw > 0 ? m.w[0].off + m.w[0].n : 0;
            return write_out(&m, out, cap);
        }
    }
    split_words(&m, total > MASK_STACK_WORDS ? total : MASK_STACK_WORDS);
    if (IS(&m, 0, "no"))
        first = 1;
    m.isakmp = IS(&m, first, "crypto") && IS(&m, first + 1, "isakmp");
    if (IS(&m, first, "snmp-server") && IS(&m, first + 1, "host") && !m.asa)
        snmp_host(&m, first);
    if ((IS(&m, first, "snmp-server") || IS(&m, first, "snmp")) && IS(&m, first + 1, "user"))
        snmp_user(&m, first);
    for (size_t k = 0; k < m.nw; k++) {
        enum kw_kind kind;
        if (m.w[k].off < m.rest_until)
            continue; /* hidden with the rest of its line already */
        kind = keyword_kind(&m, k);
        if (kind == KW_AUTHKEY)
            m.seen_authkey = true;
        if (kind != KW_NONE)
            on_keyword(&m, k, kind, first);
        if (memchr(m.s + m.w[k].off, ':', m.w[k].n) != NULL)
            url_password(&m, k);
    }
    w = write_out(&m, out, cap);
    if (m.w != stack_words)
        tw_free(m.w);
    return w;
}
