/*
 * devconf.c: the parsed device configuration (include/tidewatch/devconf.h):
 * platform and output names, the memory of a device, warnings, the entry
 * point that checks, copies and dispatches an input to its platform's parser,
 * operational outputs, and the context path of a node.
 *
 * A device owns one arena. The input is copied into it once; the IOS-family
 * parser then points its nodes into that copy (cutting lines in place), the
 * Junos parser writes its set-form statements beside it. Nothing is freed
 * before tw_devconf_free, which releases the arena and the struct. Input is
 * checked before parsing: empty, oversized and mostly binary input is refused
 * with an error naming the file and byte offset; a line holding NUL or other
 * control bytes in an otherwise textual file is blanked with a warning, so
 * the parsers only ever see text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devconf_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"

/* ==== Names ==== */

static const char *const plat_names[TW_PLAT_COUNT] = {
    [TW_PLAT_UNKNOWN] = "unknown",
    [TW_PLAT_IOS] = "ios",
    [TW_PLAT_IOSXE] = "iosxe",
    [TW_PLAT_NXOS] = "nxos",
    [TW_PLAT_IOSXR] = "iosxr",
    [TW_PLAT_JUNOS] = "junos",
    [TW_PLAT_ASA] = "asa",
};

static const char *const plat_titles[TW_PLAT_COUNT] = {
    [TW_PLAT_UNKNOWN] = "unknown platform",
    [TW_PLAT_IOS] = "Cisco IOS",
    [TW_PLAT_IOSXE] = "Cisco IOS XE",
    [TW_PLAT_NXOS] = "Cisco NX-OS",
    [TW_PLAT_IOSXR] = "Cisco IOS XR",
    [TW_PLAT_JUNOS] = "Juniper Junos",
    [TW_PLAT_ASA] = "Cisco ASA",
};

static const char *const op_names[TW_OP_COUNT] = {
    [TW_OP_SHOW_VERSION] = "show-version",
    [TW_OP_DIR] = "dir",
    [TW_OP_MONITOR_CAPTURE] = "show-monitor-capture",
    [TW_OP_APP_HOSTING] = "show-app-hosting-list",
    [TW_OP_PROCESSES] = "processes",
    [TW_OP_VSTACK] = "show-vstack-config",
    [TW_OP_SSH] = "show-ip-ssh",
};

const char *tw_platform_name(enum tw_platform p)
{
    return (unsigned)p < TW_PLAT_COUNT ? plat_names[p] : plat_names[TW_PLAT_UNKNOWN];
}

const char *tw_platform_title(enum tw_platform p)
{
    return (unsigned)p < TW_PLAT_COUNT ? plat_titles[p] : plat_titles[TW_PLAT_UNKNOWN];
}

int tw_platform_parse(struct tw_str name, enum tw_platform *out)
{
    for (unsigned i = 0; i < TW_PLAT_COUNT; i++) {
        if (tw_str_eq_cstr(name, plat_names[i])) {
            *out = (enum tw_platform)i;
            return TW_OK;
        }
    }
    return TW_EINVAL;
}

const char *tw_opout_name(enum tw_opout k)
{
    return (unsigned)k < TW_OP_COUNT ? op_names[k] : "unknown";
}

int tw_opout_parse(struct tw_str name, enum tw_opout *out)
{
    for (unsigned i = 0; i < TW_OP_COUNT; i++) {
        if (tw_str_eq_cstr(name, op_names[i])) {
            *out = (enum tw_opout)i;
            return TW_OK;
        }
    }
    return TW_EINVAL;
}

/* ==== Memory, nodes, warnings ==== */

/* A device and its private part, allocated together. */
struct devconf_box {
    struct tw_devconf d;
    struct tw__devconf_mem m;
};

void *tw__cfg_alloc(struct tw__devconf_mem *m, size_t n)
{
    size_t need = (n + 15u) & ~(size_t)15u;

    if (need < n || need > m->arena.max || m->arena.used > m->arena.max - need) {
        m->limit_hit = true;
        return NULL;
    }
    return tw_arena_alloc(&m->arena, n);
}

struct tw_cfg_node *tw__cfg_node_new(
        struct tw__cfg_ctx *c, const char *text, size_t len, uint32_t line)
{
    struct tw_cfg_node *n = tw__cfg_alloc(c->mem, sizeof(*n));

    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof(*n));
    n->text = text;
    n->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    n->line = line;
    return n;
}

void tw__cfg_append_top(struct tw__cfg_ctx *c, struct tw_cfg_node *n)
{
    n->parent = &c->d->root;
    n->depth = 0;
    if (c->root_tail == NULL)
        c->d->root.child = n;
    else
        c->root_tail->next = n;
    c->root_tail = n;
    c->d->n_nodes++;
}

static void warn_v(struct tw_devconf *d, struct tw__devconf_mem *m, uint32_t line, const char *fmt,
        va_list ap) TW_PRINTF(4, 0);

static void warn_v(
        struct tw_devconf *d, struct tw__devconf_mem *m, uint32_t line, const char *fmt, va_list ap)
{
    struct tw_cfg_warning *w;

    if (d->n_warnings < UINT32_MAX)
        d->n_warnings++;
    if (m->n_kept >= TW_CFG_MAX_WARNINGS)
        return;
    if (m->warnings == NULL) {
        m->warnings = tw__cfg_alloc(m, sizeof(*m->warnings) * TW_CFG_MAX_WARNINGS);
        if (m->warnings == NULL) {
            m->limit_hit = false; /* a lost warning is not a failed parse */
            return;
        }
        d->warnings = m->warnings;
    }
    w = &m->warnings[m->n_kept++];
    w->line = line;
    (void)vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
}

void tw__cfg_warn(struct tw__cfg_ctx *c, uint32_t line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    warn_v(c->d, c->mem, line, fmt, ap);
    va_end(ap);
}

static void dev_warn(struct tw_devconf *d, uint32_t line, const char *fmt, ...) TW_PRINTF(3, 4);

static void dev_warn(struct tw_devconf *d, uint32_t line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    warn_v(d, d->mem, line, fmt, ap);
    va_end(ap);
}

static char *arena_str(struct tw__devconf_mem *m, const char *s, size_t n)
{
    char *p = tw__cfg_alloc(m, n + 1);

    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ==== Checking input ==== */

/*
 * Byte weights: 1 for NUL and the control bytes no configuration holds (tab,
 * LF, VT, FF, CR and ETX, the banner delimiter, are text), 2^32 for a byte of
 * a multi-byte UTF-8 sequence or another 8-bit encoding, 0 for text. One sum
 * over the input counts both (inputs are below 2^32 bytes).
 */
#define W_BAD  UINT64_C(1)
#define W_HIGH (UINT64_C(1) << 32)
#define W_H8   W_HIGH, W_HIGH, W_HIGH, W_HIGH, W_HIGH, W_HIGH, W_HIGH, W_HIGH
#define W_H64  W_H8, W_H8, W_H8, W_H8, W_H8, W_H8, W_H8, W_H8

static const uint64_t byte_weight[256] = {
    [0x00] = W_BAD,
    [0x01] = W_BAD,
    [0x02] = W_BAD,
    [0x04] = W_BAD,
    [0x05] = W_BAD,
    [0x06] = W_BAD,
    [0x07] = W_BAD,
    [0x08] = W_BAD,
    [0x0e] = W_BAD,
    [0x0f] = W_BAD,
    [0x10] = W_BAD,
    [0x11] = W_BAD,
    [0x12] = W_BAD,
    [0x13] = W_BAD,
    [0x14] = W_BAD,
    [0x15] = W_BAD,
    [0x16] = W_BAD,
    [0x17] = W_BAD,
    [0x18] = W_BAD,
    [0x19] = W_BAD,
    [0x1a] = W_BAD,
    [0x1b] = W_BAD,
    [0x1c] = W_BAD,
    [0x1d] = W_BAD,
    [0x1e] = W_BAD,
    [0x1f] = W_BAD,
    [0x7f] = W_BAD,
    W_H64,
    W_H64,
};

static bool is_bad_byte(unsigned char b)
{
    return byte_weight[b] == W_BAD;
}

struct byte_stats {
    size_t bad;       /* NUL and control bytes */
    size_t high;      /* bytes >= 0x80 */
    size_t first_bad; /* offset of the first bad byte, or TW_NOPOS */
};

static void scan_bytes(const char *text, size_t len, struct byte_stats *st)
{
    const unsigned char *p = (const unsigned char *)text;
    uint64_t sum = 0;

    for (size_t i = 0; i < len; i++)
        sum += byte_weight[p[i]];
    st->bad = (size_t)(sum & UINT32_MAX);
    st->high = (size_t)(sum >> 32);
    st->first_bad = TW_NOPOS;
    for (size_t i = 0; st->bad > 0 && i < len; i++) {
        if (is_bad_byte(p[i])) {
            st->first_bad = i;
            break;
        }
    }
}

/* Mostly binary: a quarter control bytes, or half non-ASCII with any control byte. */
static bool is_binary(const struct byte_stats *st, size_t len)
{
    return st->bad > len / 4 || (st->bad > 0 && st->bad + st->high > len / 2);
}

static int check_input(const char *text, size_t len, const char *name, const char *what,
        struct byte_stats *st, struct tw_err *err)
{
    if (text == NULL && len > 0)
        return TW_E_HERE(err, TW_EINVAL, 0, "%s: no text given", name);
    if (len > TW_CFG_MAX_BYTES)
        return TW_E_HERE(err, TW_ELIMIT, TW_CFG_MAX_BYTES,
                "%s: %zu bytes, over the limit of %zu bytes for a %s", name, len, TW_CFG_MAX_BYTES,
                what);
    scan_bytes(text, len, st);
    if (len > 0 && is_binary(st, len)) {
        int rc = TW_E_HERE(err, TW_EINVAL, st->first_bad,
                "%s: binary data (%zu of %zu bytes are NUL or control bytes, the first at byte "
                "offset %zu); not a %s",
                name, st->bad, len, st->first_bad, what);
        tw_err_locate(err, text, len);
        return rc;
    }
    return TW_OK;
}

/*
 * Blanks every line of text holding a bad byte (the newline stays, so line
 * numbers hold) and warns about it. Called only when scan_bytes found one.
 */
static void blank_bad_lines(
        struct tw_devconf *d, char *text, size_t len, const char *what, uint32_t line_base)
{
    size_t i = 0;
    uint32_t line = line_base;

    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        bool bad = false;

        line++;
        for (size_t j = i; j < end; j++) {
            if (is_bad_byte((unsigned char)text[j])) {
                bad = true;
                break;
            }
        }
        if (bad) {
            memset(text + i, ' ', end - i);
            dev_warn(d, line, "%sNUL or control bytes in the line; line skipped", what);
        }
        i = end + 1;
    }
}

/* ==== Finishing a device ==== */

static const char *meta_str(struct tw__cfg_ctx *c, struct tw_str s, bool strip_quotes)
{
    char *p;

    if (strip_quotes && s.len >= 2 && s.ptr[0] == '"' && s.ptr[s.len - 1] == '"') {
        s.ptr++;
        s.len -= 2;
    }
    if (s.len > TW__META_MAX)
        s.len = TW__META_MAX;
    p = arena_str(c->mem, s.ptr, s.len);
    return p != NULL ? p : "";
}

static const char *version_str(struct tw__devconf_mem *m, enum tw_platform p, struct tw_str v)
{
    char buf[TW__META_MAX + 1];
    size_t n = tw__version_normalise(p, v, buf, sizeof(buf));
    char *s = arena_str(m, buf, n);

    return s != NULL ? s : "";
}

/* The file's base name without its last extension. */
static struct tw_str base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash != NULL ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = strlen(b);

    if (dot != NULL && dot != b)
        n = (size_t)(dot - b);
    if (n == 0) {
        b = path;
        n = strlen(path);
    }
    return tw_str_make(b, n);
}

static bool is_ios_family(enum tw_platform p)
{
    return p == TW_PLAT_IOS || p == TW_PLAT_IOSXE;
}

static void finish_device(struct tw__cfg_ctx *c)
{
    struct tw_devconf *d = c->d;
    struct tw__meta *m = &c->meta;

    for (unsigned k = 0; k < TW_OP_COUNT; k++)
        d->op_path[k] = "";
    if (is_ios_family(d->platform) && (m->says_xe || tw__train_is_xe(m->train)))
        d->platform = TW_PLAT_IOSXE;
    if (m->version.len > 0) {
        d->version = version_str(c->mem, d->platform, m->version);
        d->version_from = d->version[0] != '\0' ? m->version_from : "";
    }
    if (m->model.len > 0)
        d->model = meta_str(c, m->model, false);
    if (m->last_by.len > 0)
        d->last_change_by = meta_str(c, m->last_by, false);
    if (m->train.len > 0)
        d->train = meta_str(c, m->train, false);
    if (m->hostname.len > 0)
        d->hostname = meta_str(c, m->hostname, true);
    if (d->hostname[0] != '\0') {
        d->name = d->hostname;
    } else {
        struct tw_str b = base_name(d->path);
        char *s = arena_str(c->mem, b.ptr, b.len);
        d->name = s != NULL ? s : d->path;
    }
}

/* ==== Parsing ==== */

int tw_devconf_parse(const char *text, size_t len, const char *path, enum tw_platform platform,
        struct tw_devconf **out, struct tw_err *err)
{
    const char *name = path != NULL ? path : "<input>";
    struct byte_stats st = { 0, 0, TW_NOPOS };
    struct devconf_box *box;
    struct tw__cfg_ctx c;
    size_t max;
    char *copy;
    int rc;

    if (out == NULL)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "%s: no place for the result", name);
    *out = NULL;
    if ((unsigned)platform >= TW_PLAT_COUNT)
        return TW_E_HERE(
                err, TW_EINVAL, TW_NOPOS, "%s: platform %d out of range", name, (int)platform);
    rc = check_input(text, len, name, "configuration", &st, err);
    if (rc != TW_OK)
        return rc;
    if (len == 0)
        return TW_E_HERE(err, TW_EINVAL, 0, "%s: empty file, not a configuration", name);

    box = tw_calloc(1, sizeof(*box));
    if (box == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", name);
    max = TW__DEVCONF_ARENA_BASE + (size_t)TW__DEVCONF_ARENA_PER_BYTE * len;
    tw_arena_init(&box->m.arena, TW__DEVCONF_BLOCK, max);
    box->d.mem = &box->m;
    box->d.bytes = len;
    box->d.name = box->d.hostname = box->d.version = box->d.version_from = "";
    box->d.train = box->d.model = box->d.last_change_by = "";
    box->d.root.text = "";
    for (unsigned k = 0; k < TW_OP_COUNT; k++)
        box->d.op[k].text = op_names[k];
    box->d.path = arena_str(&box->m, name, strlen(name));
    copy = arena_str(&box->m, text, len);
    if (box->d.path == NULL || copy == NULL) {
        tw_devconf_free(&box->d);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", name);
    }
    if (st.bad > 0)
        blank_bad_lines(&box->d, copy, len, "", 0);

    memset(&c, 0, sizeof(c));
    c.d = &box->d;
    c.mem = &box->m;
    c.text = copy;
    c.len = len;
    if (len >= 3 && memcmp(copy, "\xEF\xBB\xBF", 3) == 0) {
        c.text += 3;
        c.len -= 3;
    }
    if (platform == TW_PLAT_UNKNOWN)
        platform = tw_platform_detect(c.text, c.len);
    if (platform == TW_PLAT_UNKNOWN) {
        tw_devconf_free(&box->d);
        return TW_E_HERE(err, TW_EINVAL, 0,
                "%s: cannot tell the platform (no collector header, version or statement "
                "typical of IOS, IOS XE, NX-OS, IOS XR, ASA or Junos); name it",
                name);
    }
    c.platform = platform;
    box->d.platform = platform;
    rc = platform == TW_PLAT_JUNOS ? tw__junos_parse(&c) : tw__ios_parse(&c);
    if (rc != TW_OK) {
        bool limit = box->m.limit_hit;
        tw_devconf_free(&box->d);
        if (limit)
            return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS,
                    "%s: the configuration expands past %zu bytes of memory", name, max);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", name);
    }
    if (box->d.n_nodes == 0) {
        tw_devconf_free(&box->d);
        return TW_E_HERE(
                err, TW_EINVAL, 0, "%s: no configuration statement in %zu bytes", name, len);
    }
    finish_device(&c);
    *out = &box->d;
    return TW_OK;
}

void tw_devconf_free(struct tw_devconf *d)
{
    struct devconf_box *box;

    if (d == NULL)
        return;
    box = (struct devconf_box *)(void *)d;
    tw_arena_cleanup(&box->m.arena);
    tw_free(box);
}

/* ==== Operational outputs ==== */

int tw_devconf_add_output(
        struct tw_devconf *d, enum tw_opout kind, const char *text, size_t len, struct tw_err *err)
{
    return tw_devconf_add_output_file(d, kind, text, len, NULL, err);
}

int tw_devconf_add_output_file(struct tw_devconf *d, enum tw_opout kind, const char *text,
        size_t len, const char *path, struct tw_err *err)
{
    struct tw__devconf_mem *m;
    struct tw_cfg_node *head = NULL, *tail = NULL;
    struct tw__meta meta;
    struct byte_stats st = { 0, 0, TW_NOPOS };
    char what[64];
    uint32_t line = 0;
    char *copy;
    size_t i = 0;
    int rc;

    if (d == NULL || d->mem == NULL || (unsigned)kind >= TW_OP_COUNT)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "no device or unknown output kind");
    m = d->mem;
    (void)snprintf(what, sizeof(what), "%s output", op_names[kind]);
    rc = check_input(text, len, d->path, what, &st, err);
    if (rc != TW_OK)
        return rc;
    /* Each output brings its own share of the arena's cap. */
    if (m->arena.max <= SIZE_MAX - (size_t)TW__DEVCONF_ARENA_PER_BYTE * (len + 1024))
        m->arena.max += (size_t)TW__DEVCONF_ARENA_PER_BYTE * (len + 1024);
    copy = arena_str(m, text != NULL ? text : "", len);
    if (copy == NULL)
        goto nomem;
    if (st.bad > 0) {
        (void)snprintf(what, sizeof(what), "%s: ", op_names[kind]);
        blank_bad_lines(d, copy, len, what, 0);
    }
    memset(&meta, 0, sizeof(meta));
    while (i < len) {
        char *s = copy + i;
        char *nl = memchr(s, '\n', len - i);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - i;
        struct tw_cfg_node *node;

        i += n + 1;
        line++;
        while (n > 0 && tw_ascii_isspace(s[n - 1]))
            n--;
        while (n > 0 && tw_ascii_isspace(s[0])) {
            s++;
            n--;
        }
        if (n == 0)
            continue;
        s[n] = '\0'; /* the copy is ours: cut the line in place */
        node = tw__cfg_alloc(m, sizeof(*node));
        if (node == NULL)
            goto nomem;
        memset(node, 0, sizeof(*node));
        node->text = s;
        node->len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        node->line = line;
        node->parent = &d->op[kind];
        if (tail == NULL)
            head = node;
        else
            tail->next = node;
        tail = node;
        if (kind == TW_OP_SHOW_VERSION)
            tw__meta_line(&meta, s, n, "show-version");
    }
    d->op[kind].child = head;
    d->op[kind].text = op_names[kind];
    d->op_present[kind] = true;
    d->op_path[kind] = "";
    if (path != NULL && (d->op_path[kind] = arena_str(m, path, strlen(path))) == NULL) {
        d->op_path[kind] = "";
        goto nomem;
    }
    if (kind == TW_OP_SHOW_VERSION) {
        if (is_ios_family(d->platform) && meta.says_xe)
            d->platform = TW_PLAT_IOSXE;
        if (meta.version.len > 0) {
            const char *v = version_str(m, d->platform, meta.version);
            if (v[0] != '\0') {
                d->version = v;
                d->version_from = "show-version";
            }
        }
        if (meta.model.len > 0) {
            struct tw_str md = meta.model;
            char *s = arena_str(m, md.ptr, TW_MIN(md.len, (size_t)TW__META_MAX));
            if (s != NULL)
                d->model = s;
        }
    }
    return TW_OK;

nomem:
    if (m->limit_hit) {
        m->limit_hit = false;
        return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "%s: the %s output expands past the memory cap",
                d->path, op_names[kind]);
    }
    return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory reading the %s output", d->path,
            op_names[kind]);
}

/* ==== Context paths ==== */

/* Most ancestors a path shows; deeper ones are elided with "... > ". */
#define PATH_MAX_ITEMS (TW_CFG_MAX_DEPTH + 2)

size_t tw_devconf_path(enum tw_platform p, const struct tw_cfg_node *n, char *out, size_t cap)
{
    const struct tw_cfg_node *chain[PATH_MAX_ITEMS];
    size_t k = 0, w = 0;
    bool elided = false;

    if (out == NULL || cap == 0)
        return 0;
    out[0] = '\0';
    for (const struct tw_cfg_node *x = n; x != NULL && x->parent != NULL; x = x->parent) {
        if (k == PATH_MAX_ITEMS) {
            /* Only possible for a hand-made tree: keep the innermost items. */
            elided = true;
            break;
        }
        chain[k++] = x;
    }
    if (elided && cap > 6) {
        memcpy(out, "... > ", 6);
        w = 6;
    }
    while (k > 0 && w + 1 < cap) {
        const struct tw_cfg_node *x = chain[--k];
        const char *nl = memchr(x->text, '\n', x->len);
        size_t tl = nl != NULL ? (size_t)(nl - x->text) : x->len;

        w += tw_devconf_mask(p, x->text, tl, out + w, cap - w);
        if (k > 0 && w + 3 < cap) {
            memcpy(out + w, " > ", 3);
            w += 3;
            out[w] = '\0';
        } else if (k > 0) {
            break;
        }
    }
    return w;
}
