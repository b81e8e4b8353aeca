/*
 * vulndb.c: the vulnerability data (docs/audit-rules.md, "Vulnerability
 * data"): rows of CVE, platform, release train, fixed release, KEV flag, the
 * rule that reports it, the rules one of which must have fired, and the
 * source, parsed all or nothing, and matched against a device's platform and
 * software version.
 *
 * Fields are separated by tabs (runs of tabs or spaces are accepted, since
 * no field holds a blank). A train is "*" (every release of the platform) or
 * a version prefix of the platform's family (audit_int.h); a fixed release
 * must belong to its row's train. For each CVE and platform the most
 * specific train holding the device's version decides: below its fixed
 * release is TW_VULN_AFFECTED, `unknown` is TW_VULN_UNKNOWN ("cannot
 * determine"), and a version the data cannot place (not given, or not a
 * version of the family) makes every CVE of the platform TW_VULN_UNKNOWN.
 * Nothing is ever reported as a pass for want of data.
 *
 * The compiled-in data (tw_audit_cves, made by cmake/EmbedDir.cmake from
 * data/audit/ *.tsv) carries "# file: NAME" lines; errors in it name that file
 * and the line within it.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/arena.h"
#include "tidewatch/str.h"

extern const unsigned char tw_audit_cves[];
extern const unsigned long tw_audit_cves_len;

/* ==== Types and limits ==== */

/* Largest vulnerability data accepted, most rows, longest line. */
#define TW_VULNDB_MAX_BYTES ((size_t)16 << 20)
#define TW_VULNDB_MAX_ROWS  65536u
#define TW_VULNDB_LINE_MAX  4096u
/* Longest fields. */
#define VULN_CVE_MAX      31u
#define VULN_RULE_MAX     63u
#define VULN_REQUIRES_MAX 255u
#define VULN_SOURCE_MAX   1024u
/* Most rule ids in one `requires` field. */
#define VULN_REQUIRES_IDS 16u
/* Fields of a row. */
#define VULN_FIELDS 8u

struct vrow {
    const char *cve;
    const char *train_text;
    const char *fixed_text; /* "" when the data says `unknown` */
    const char *rule;
    const char *requires; /* "" when the data says `-` */
    const char *source;
    enum tw_platform platform;
    struct tw__train train;
    struct tw__version fixed;
    bool has_fixed;
    bool kev;
    bool first;         /* the first row of its (CVE, platform) in file order */
    uint32_t next_same; /* the next row of the same (CVE, platform), or UINT32_MAX */
    uint32_t line;      /* line in its file */
    const char *file;   /* its file (the path, or the "# file:" name of compiled-in data) */
};

struct tw_vulndb {
    struct vrow *rows;
    size_t n;
    size_t cap;
    struct tw_arena arena;
};

/* Where the parser is, for errors. */
struct vparse {
    struct tw_vulndb *db;
    const char *text;
    size_t len;
    const char *file; /* the path, or the name of the last "# file:" line */
    size_t line_base; /* absolute line number of the current file's line 0 */
    bool builtin;
    struct tw_err *err;
};

/* ==== Errors ==== */

/* Copies at most 40 bytes of s for a message, printable ASCII only. */
static void shown(const char *s, size_t n, char out[48])
{
    size_t k = 0;

    for (size_t i = 0; i < n && k < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[k++] = s[i];
        else
            out[k++] = '?';
    }
    if (n > 40) {
        out[k++] = '.';
        out[k++] = '.';
        out[k++] = '.';
    }
    out[k] = '\0';
}

/*
 * Records an error at byte offset off of the whole text: "FILE:LINE:COL:
 * what". The line is counted within the current file.
 */
static int fail(struct vparse *ps, int code, size_t off, size_t abs_line, size_t col,
        const char *what, const char *detail)
{
    size_t line = abs_line - ps->line_base;

    if (ps->err == NULL)
        return code;
    tw_err_set(ps->err, code, off, "%s:%zu:%zu: %s%s%s", ps->file, line, col, what,
            detail[0] != '\0' ? ": " : "", detail);
    ps->err->line = line;
    ps->err->column = col;
    return code;
}

/* ==== Field checks ==== */

static bool is_id_char(char c)
{
    return tw_ascii_isalpha(c) || tw_ascii_isdigit(c) || c == '.' || c == '_' || c == '-';
}

/* A rule id: letters, digits, '.', '_', '-', at most 63. */
static bool rule_id_ok(struct tw_str s)
{
    if (s.len == 0 || s.len > VULN_RULE_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_id_char(s.ptr[i]))
            return false;
    return true;
}

/* CVE-YYYY-NNNN with four or more digits (at most seven). */
static bool cve_ok(struct tw_str s)
{
    uint64_t year;

    if (s.len < 13 || s.len > 17 || memcmp(s.ptr, "CVE-", 4) != 0 || s.ptr[8] != '-')
        return false;
    if (tw_parse_u64(tw_str_make(s.ptr + 4, 4), 9999, &year) != TW_OK || year < 1999)
        return false;
    for (size_t i = 9; i < s.len; i++)
        if (!tw_ascii_isdigit(s.ptr[i]))
            return false;
    return true;
}

/* "-" or ids joined by '|'. */
static bool requires_ok(struct tw_str s)
{
    struct tw_str rest = s, tok;
    unsigned n = 0;

    if (s.len == 1 && s.ptr[0] == '-')
        return true;
    if (s.len > VULN_REQUIRES_MAX)
        return false;
    while (tw_str_split(&rest, '|', &tok)) {
        if (!rule_id_ok(tok) || ++n > VULN_REQUIRES_IDS)
            return false;
    }
    return n > 0;
}

/* An http(s) URL of printable ASCII without blanks. */
static bool source_ok(struct tw_str s)
{
    size_t scheme;

    if (tw_str_starts_with(s, TW_STR("https://")))
        scheme = 8;
    else if (tw_str_starts_with(s, TW_STR("http://")))
        scheme = 7;
    else
        return false;
    if (s.len <= scheme || s.len > VULN_SOURCE_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

/* ==== Rows ==== */

static char *keep(struct tw_vulndb *db, struct tw_str s)
{
    return tw_arena_strndup(&db->arena, s.ptr, s.len);
}

static int add_row(struct tw_vulndb *db, const struct vrow *r)
{
    if (db->n == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 32;
        struct vrow *rows = tw_reallocarray(db->rows, cap, sizeof(*rows));
        if (rows == NULL)
            return TW_ENOMEM;
        db->rows = rows;
        db->cap = cap;
    }
    db->rows[db->n++] = *r;
    return TW_OK;
}

/* Splits one line into at most VULN_FIELDS + 1 fields on runs of blanks. */
static size_t split_fields(struct tw_str line, struct tw_str *f, size_t *col, size_t max)
{
    size_t n = 0, i = 0;

    while (i < line.len && n < max) {
        size_t start;

        while (i < line.len && (line.ptr[i] == '\t' || line.ptr[i] == ' '))
            i++;
        if (i == line.len)
            break;
        start = i;
        while (i < line.len && line.ptr[i] != '\t' && line.ptr[i] != ' ')
            i++;
        f[n] = tw_str_make(line.ptr + start, i - start);
        col[n] = start + 1;
        n++;
    }
    return n;
}

/* Parses one data line (not blank, not a comment) at byte offset off. */
static int parse_row(struct vparse *ps, struct tw_str line, size_t off, size_t abs_line)
{
    struct tw_str f[VULN_FIELDS + 1];
    size_t col[VULN_FIELDS + 1];
    size_t n = split_fields(line, f, col, VULN_FIELDS + 1);
    struct vrow r;
    char what[48];

    memset(&r, 0, sizeof(r));
    if (n != VULN_FIELDS) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%zu fields, want %u", n, VULN_FIELDS);
        return fail(ps, TW_ESYNTAX, off + (n > VULN_FIELDS ? col[VULN_FIELDS] - 1 : line.len),
                abs_line, n > VULN_FIELDS ? col[VULN_FIELDS] : line.len + 1,
                "a row is: cve platform train fixed kev rule requires source", detail);
    }
#define FIELD_FAIL(i, msg)                                                                         \
    do {                                                                                           \
        shown(f[i].ptr, f[i].len, what);                                                           \
        return fail(ps, TW_ESYNTAX, off + col[i] - 1, abs_line, col[i], msg, what);                \
    } while (0)
    if (!cve_ok(f[0]))
        FIELD_FAIL(0, "not a CVE id (CVE-YYYY-NNNN)");
    if (tw_platform_parse(f[1], &r.platform) != TW_OK || r.platform == TW_PLAT_UNKNOWN)
        FIELD_FAIL(1, "unknown platform (ios, iosxe, nxos, iosxr, junos, asa)");
    if (tw__train_parse(r.platform, f[2].ptr, f[2].len, &r.train) != TW_OK)
        FIELD_FAIL(2, "not a release train of the platform (\"*\", \"17.9\", \"15.2E\", ...)");
    if (tw_str_eq_cstr(f[3], "unknown")) {
        r.has_fixed = false;
    } else if (tw__version_parse(r.platform, f[3].ptr, f[3].len, &r.fixed) != TW_OK) {
        FIELD_FAIL(3, "fixed release is neither \"unknown\" nor a version of the platform");
    } else if (!tw__train_holds(&r.train, &r.fixed)) {
        FIELD_FAIL(3, "fixed release is not in the row's train");
    } else {
        r.has_fixed = true;
    }
    if (tw_str_eq_cstr(f[4], "yes"))
        r.kev = true;
    else if (!tw_str_eq_cstr(f[4], "no"))
        FIELD_FAIL(4, "kev is \"yes\" or \"no\"");
    if (!rule_id_ok(f[5]))
        FIELD_FAIL(5, "not a rule id");
    if (!requires_ok(f[6]))
        FIELD_FAIL(6, "requires is \"-\" or rule ids joined by \"|\"");
    if (!source_ok(f[7]))
        FIELD_FAIL(7, "source is an http(s) URL");
#undef FIELD_FAIL
    if (ps->db->n >= TW_VULNDB_MAX_ROWS)
        return fail(ps, TW_ELIMIT, off, abs_line, 1, "too many rows", "");
    r.cve = keep(ps->db, f[0]);
    r.train_text = keep(ps->db, f[2]);
    r.fixed_text = keep(ps->db, r.has_fixed ? f[3] : TW_STR(""));
    r.rule = keep(ps->db, f[5]);
    r.requires = keep(ps->db, tw_str_eq_cstr(f[6], "-") ? TW_STR("") : f[6]);
    r.source = keep(ps->db, f[7]);
    r.line = (uint32_t)(abs_line - ps->line_base);
    r.file = ps->file;
    r.next_same = UINT32_MAX;
    if (r.cve == NULL || r.train_text == NULL || r.fixed_text == NULL || r.rule == NULL ||
            r.requires == NULL || r.source == NULL)
        return TW_ENOMEM;
    return add_row(ps->db, &r);
}

/* "# file: NAME" in the compiled-in data starts a file: lines count from there. */
static int file_marker(struct vparse *ps, struct tw_str line, size_t abs_line)
{
    struct tw_str name;
    char shown_name[48];
    const char *file;

    if (!ps->builtin || !tw_str_starts_with(line, TW_STR("# file: ")))
        return TW_OK;
    name = tw_str_trim(tw_str_make(line.ptr + 8, line.len - 8));
    shown(name.ptr, name.len, shown_name);
    file = tw_arena_strndup(&ps->db->arena, shown_name, strlen(shown_name));
    if (file == NULL)
        return TW_ENOMEM;
    ps->file = file;
    ps->line_base = abs_line;
    return TW_OK;
}

/* ==== Duplicates and grouping ==== */

/* A row's place in a sort: the rows ride along because qsort has no context argument. */
struct sidx {
    const struct vrow *rows;
    uint32_t i;
};

static int cmp_u32(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

/* Rows of the same CVE and platform form a group. */
static int cmp_group(const struct vrow *a, const struct vrow *b)
{
    int r = strcmp(a->cve, b->cve);

    if (r == 0)
        r = cmp_u32((uint32_t)a->platform, (uint32_t)b->platform);
    return r;
}

/* Orders trains so that two holding the same releases are equal ("17.9" and "17.09"). */
static int cmp_train(const struct tw__train *a, const struct tw__train *b)
{
    int r = cmp_u32(a->any, b->any);

    if (r == 0)
        r = cmp_u32(a->n_num, b->n_num);
    for (unsigned i = 0; r == 0 && i < a->n_num && i < 4; i++)
        r = cmp_u32(a->num[i], b->num[i]);
    if (r == 0)
        r = strcmp(a->letters, b->letters);
    if (r == 0)
        r = cmp_u32(a->evo, b->evo);
    return r;
}

/* Group, then train, then file order. */
static int cmp_by_train(const void *pa, const void *pb)
{
    const struct sidx *a = pa, *b = pb;
    const struct vrow *ra = &a->rows[a->i], *rb = &b->rows[b->i];
    int r = cmp_group(ra, rb);

    if (r == 0)
        r = cmp_train(&ra->train, &rb->train);
    if (r == 0)
        r = cmp_u32(a->i, b->i);
    return r;
}

/* Group, then file order. */
static int cmp_by_position(const void *pa, const void *pb)
{
    const struct sidx *a = pa, *b = pb;
    int r = cmp_group(&a->rows[a->i], &b->rows[b->i]);

    if (r == 0)
        r = cmp_u32(a->i, b->i);
    return r;
}

/*
 * Rejects two rows of the same CVE, platform and train (naming the first
 * row, in file order, that repeats an earlier one), then links the rows of
 * each (CVE, platform) in file order. O(n log n).
 */
static int link_rows(struct vparse *ps)
{
    struct tw_vulndb *db = ps->db;
    struct sidx *ix;
    uint32_t dup = UINT32_MAX, dup_of = 0;

    if (db->n == 0)
        return TW_OK;
    ix = tw_calloc(db->n, sizeof(*ix));
    if (ix == NULL)
        return TW_ENOMEM;
    for (size_t i = 0; i < db->n; i++) {
        ix[i].rows = db->rows;
        ix[i].i = (uint32_t)i;
    }
    qsort(ix, db->n, sizeof(*ix), cmp_by_train);
    for (size_t k = 1; k < db->n; k++) {
        const struct vrow *a = &db->rows[ix[k - 1].i], *b = &db->rows[ix[k].i];
        if (cmp_group(a, b) == 0 && cmp_train(&a->train, &b->train) == 0 && ix[k].i < dup) {
            dup = ix[k].i;
            dup_of = ix[k - 1].i;
        }
    }
    if (dup != UINT32_MAX) {
        const struct vrow *r = &db->rows[dup];
        char detail[96];

        tw_free(ix);
        snprintf(detail, sizeof(detail), "%s %s %s, first at line %u", r->cve,
                tw_platform_name(r->platform), r->train_text, (unsigned)db->rows[dup_of].line);
        /* Found after parsing: the position is the row's file and line only. */
        ps->file = r->file;
        ps->line_base = 0;
        return fail(ps, TW_ESYNTAX, TW_NOPOS, r->line, 1,
                "a second row for the same CVE, platform and train", detail);
    }
    qsort(ix, db->n, sizeof(*ix), cmp_by_position);
    for (size_t k = 0; k < db->n; k++) {
        struct vrow *r = &db->rows[ix[k].i];
        bool starts = k == 0 || cmp_group(&db->rows[ix[k - 1].i], r) != 0;

        r->first = starts;
        if (!starts)
            db->rows[ix[k - 1].i].next_same = ix[k].i;
    }
    tw_free(ix);
    return TW_OK;
}

/* ==== Public API ==== */

static struct tw_vulndb *db_new(void)
{
    struct tw_vulndb *db = tw_calloc(1, sizeof(*db));

    if (db != NULL)
        tw_arena_init(&db->arena, 0, TW_VULNDB_MAX_BYTES * 2);
    return db;
}

void tw_vulndb_free(struct tw_vulndb *db)
{
    if (db == NULL)
        return;
    tw_arena_cleanup(&db->arena);
    tw_free(db->rows);
    tw_free(db);
}

static int parse(const char *text, size_t len, const char *path, bool builtin,
        struct tw_vulndb **out, struct tw_err *err)
{
    struct vparse ps;
    struct tw_str rest, line;
    size_t abs_line = 0;
    int rc = TW_OK;

    *out = NULL;
    tw_err_clear(err);
    memset(&ps, 0, sizeof(ps));
    ps.text = text;
    ps.len = len;
    ps.file = path != NULL ? path : "<input>";
    ps.builtin = builtin;
    ps.err = err;
    if (text == NULL && len != 0)
        return fail(&ps, TW_ESYNTAX, 0, 1, 1, "no data", "");
    if (len > TW_VULNDB_MAX_BYTES)
        return fail(&ps, TW_ELIMIT, TW_VULNDB_MAX_BYTES, 1, 1, "vulnerability data too large", "");
    ps.db = db_new();
    if (ps.db == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", ps.file);
    rest = tw_str_make(text, len);
    rest = tw_str_skip_bom(rest);
    while (rc == TW_OK && tw_str_next_line(&rest, &line)) {
        size_t off = (size_t)(line.ptr - text);
        const void *nul = memchr(line.ptr, '\0', line.len);
        struct tw_str body;

        abs_line++;
        if (line.len > 0 && line.ptr[line.len - 1] == '\r')
            line.len--;
        if (nul != NULL) {
            size_t at = (size_t)((const char *)nul - line.ptr);
            rc = fail(&ps, TW_ESYNTAX, off + at, abs_line, at + 1, "NUL byte", "");
            break;
        }
        if (line.len > TW_VULNDB_LINE_MAX) {
            rc = fail(&ps, TW_ELIMIT, off + TW_VULNDB_LINE_MAX, abs_line, TW_VULNDB_LINE_MAX + 1,
                    "line too long", "");
            break;
        }
        body = tw_str_trim(line);
        if (body.len == 0)
            continue;
        if (body.ptr[0] == '#') {
            rc = file_marker(&ps, body, abs_line);
            continue;
        }
        rc = parse_row(&ps, line, off, abs_line);
    }
    if (rc == TW_OK)
        rc = link_rows(&ps);
    if (rc != TW_OK) {
        if (rc == TW_ENOMEM && err != NULL && err->code == TW_OK)
            tw_err_set(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", ps.file);
        tw_vulndb_free(ps.db);
        return rc;
    }
    *out = ps.db;
    return TW_OK;
}

int tw_vulndb_parse(
        const char *text, size_t len, const char *path, struct tw_vulndb **out, struct tw_err *err)
{
    return parse(text, len, path, false, out, err);
}

int tw_vulndb_builtin(struct tw_vulndb **out, struct tw_err *err)
{
    return parse(
            (const char *)tw_audit_cves, (size_t)tw_audit_cves_len, "<builtin>", true, out, err);
}

size_t tw_vulndb_count(const struct tw_vulndb *db)
{
    return db != NULL ? db->n : 0;
}

static int emit(
        const struct vrow *r, enum tw_vuln_state state, bool with_train, tw_vuln_fn fn, void *ctx)
{
    struct tw_vuln_hit h;

    h.cve = r->cve;
    h.rule_id = r->rule;
    h.requires = r->requires;
    h.train = with_train ? r->train_text : "";
    h.fixed = with_train ? r->fixed_text : "";
    h.source = r->source;
    h.kev = r->kev;
    h.state = state;
    return fn(ctx, &h);
}

int tw_vulndb_check(const struct tw_vulndb *db, enum tw_platform p, const char *version,
        tw_vuln_fn fn, void *ctx)
{
    struct tw__version v;
    bool known;

    if (db == NULL || fn == NULL)
        return TW_OK;
    known = version != NULL && version[0] != '\0' &&
            tw__version_parse(p, version, strlen(version), &v) == TW_OK;
    for (size_t i = 0; i < db->n; i++) {
        const struct vrow *r = &db->rows[i], *best = NULL;
        int rc, c = 0;

        if (!r->first || r->platform != p)
            continue;
        if (!known) {
            rc = emit(r, TW_VULN_UNKNOWN, false, fn, ctx);
            if (rc != 0)
                return rc;
            continue;
        }
        for (uint32_t k = (uint32_t)i; k != UINT32_MAX; k = db->rows[k].next_same) {
            const struct vrow *q = &db->rows[k];
            if (tw__train_holds(&q->train, &v) &&
                    (best == NULL ||
                            tw__train_specificity(&q->train) > tw__train_specificity(&best->train)))
                best = q;
        }
        if (best == NULL)
            continue;
        /* No fixed release, or one the version cannot be compared with: cannot determine. */
        if (!best->has_fixed || tw__version_compare(&v, &best->fixed, &c) != TW_OK)
            rc = emit(best, TW_VULN_UNKNOWN, true, fn, ctx);
        else if (c < 0)
            rc = emit(best, TW_VULN_AFFECTED, true, fn, ctx);
        else
            rc = 0;
        if (rc != 0)
            return rc;
    }
    return TW_OK;
}
