/*
 * convert_csv.c: the CSV importer (RFC 4180 with the usual leniencies).
 *
 * Records end in CRLF or LF. A field that starts with '"' is quoted: it may
 * hold commas, line breaks and "" for one quote, and must be followed by a
 * comma or the end of the record. A quote inside an unquoted field is kept as
 * a character. Unquoted fields are trimmed of blanks. Blank records and
 * records whose first field starts with '#' are skipped. The first other
 * record is the header: column names are matched without regard to case,
 * with '-' and ' ' read as '_', and `value` is required (`type` is optional;
 * without it every value's kind is detected). Every data record must have as
 * many fields as the header. Problems name the record's first line and the
 * 1-based field number.
 */
#include <string.h>

#include "convert_int.h"
#include "tidewatch/buf.h"
#include "tidewatch/convert.h"

/* ==== Columns ==== */

enum col {
    COL_TYPE = 0,
    COL_VALUE,
    COL_NAME,
    COL_DESC,
    COL_TLP,
    COL_VALID_FROM,
    COL_VALID_UNTIL,
    COL_CONFIDENCE,
    COL_LABELS,
    COL_SOURCE,
    COL_URL,
    COL__COUNT
};

static const struct col_name {
    const char *name;
    enum col col;
} col_names[] = {
    { "type", COL_TYPE },
    { "indicator_type", COL_TYPE },
    { "kind", COL_TYPE },
    { "value", COL_VALUE },
    { "indicator", COL_VALUE },
    { "ioc", COL_VALUE },
    { "name", COL_NAME },
    { "title", COL_NAME },
    { "description", COL_DESC },
    { "desc", COL_DESC },
    { "comment", COL_DESC },
    { "tlp", COL_TLP },
    { "valid_from", COL_VALID_FROM },
    { "valid_until", COL_VALID_UNTIL },
    { "expires", COL_VALID_UNTIL },
    { "confidence", COL_CONFIDENCE },
    { "labels", COL_LABELS },
    { "tags", COL_LABELS },
    { "source", COL_SOURCE },
    { "reference", COL_URL },
};

/* ==== Records ==== */

/* One record: fields decoded into data, found by offset (data may move). */
struct csv_rec {
    struct tw_buf data;
    size_t off[TW_CONVERT_MAX_COLUMNS];
    size_t len[TW_CONVERT_MAX_COLUMNS];
    bool quoted[TW_CONVERT_MAX_COLUMNS];
    size_t n;        /* fields seen; past the cap they are only counted */
    size_t line;     /* where the record starts */
    const char *bad; /* the first problem, a static message */
    size_t bad_col;
    bool full; /* data reached TW_CONVERT_MAX_RECORD */
};

static void rec_bad(struct csv_rec *r, const char *msg)
{
    if (r->bad == NULL) {
        r->bad = msg;
        r->bad_col = r->n + 1;
    }
}

static int rec_put(struct csv_rec *r, const char *p, size_t n)
{
    int rc;

    if (r->full || n == 0)
        return TW_OK;
    rc = tw_buf_append(&r->data, p, n);
    if (rc == TW_ELIMIT) {
        r->full = true;
        rec_bad(r, "record longer than the limit");
        return TW_OK;
    }
    return rc;
}

static size_t count_nl(const char *p, size_t n)
{
    size_t k = 0;

    for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))) != NULL; q++)
        k++;
    return k;
}

/* Reads one quoted field body after its opening quote. */
static int read_quoted(const char *t, size_t len, size_t *pos, size_t *line, struct csv_rec *r)
{
    int rc;

    for (;;) {
        const char *qp;
        size_t stop;

        if (*pos >= len) {
            rec_bad(r, "unterminated quoted field");
            return TW_OK;
        }
        qp = memchr(t + *pos, '"', len - *pos);
        stop = qp != NULL ? (size_t)(qp - t) : len;
        *line += count_nl(t + *pos, stop - *pos);
        if ((rc = rec_put(r, t + *pos, stop - *pos)) != TW_OK)
            return rc;
        *pos = stop;
        if (qp == NULL)
            continue;
        if (stop + 1 < len && t[stop + 1] == '"') {
            if ((rc = rec_put(r, "\"", 1)) != TW_OK)
                return rc;
            *pos = stop + 2;
            continue;
        }
        *pos = stop + 1;
        return TW_OK;
    }
}

static bool at_record_end(const char *t, size_t len, size_t p)
{
    return p >= len || t[p] == '\n' || (t[p] == '\r' && (p + 1 == len || t[p + 1] == '\n'));
}

/* Reads the record at *pos into r and moves *pos and *line past it. */
static int read_record(const char *t, size_t len, size_t *pos, size_t *line, struct csv_rec *r)
{
    int rc;

    tw_buf_reset(&r->data);
    r->n = 0;
    r->line = *line;
    r->bad = NULL;
    r->bad_col = 0;
    r->full = false;
    for (;;) {
        size_t start = r->data.len;
        bool quoted = false;
        size_t lead = *pos;

        /* Blanks before an opening quote are allowed. */
        while (lead < len && (t[lead] == ' ' || t[lead] == '\t'))
            lead++;
        if (lead < len && t[lead] == '"') {
            quoted = true;
            *pos = lead + 1;
            if ((rc = read_quoted(t, len, pos, line, r)) != TW_OK)
                return rc;
            while (*pos < len && (t[*pos] == ' ' || t[*pos] == '\t'))
                (*pos)++;
            if (*pos < len && t[*pos] != ',' && !at_record_end(t, len, *pos)) {
                rec_bad(r, "text after a closing quote");
                while (*pos < len && t[*pos] != ',' && t[*pos] != '\n')
                    (*pos)++;
            }
        } else {
            size_t stop = *pos;
            struct tw_str f;

            while (stop < len && t[stop] != ',' && t[stop] != '\n')
                stop++;
            f = tw_str_trim(tw_str_make(t + *pos, stop - *pos));
            if ((rc = rec_put(r, f.ptr, f.len)) != TW_OK)
                return rc;
            *pos = stop;
        }
        if (r->n < TW_CONVERT_MAX_COLUMNS) {
            r->off[r->n] = start;
            r->len[r->n] = r->data.len - start;
            r->quoted[r->n] = quoted;
        } else if (r->n == TW_CONVERT_MAX_COLUMNS) {
            rec_bad(r, "too many fields");
        }
        r->n++;
        if (*pos < len && t[*pos] == ',') {
            (*pos)++;
            continue;
        }
        if (*pos < len && t[*pos] == '\r')
            (*pos)++;
        if (*pos < len && t[*pos] == '\n') {
            (*pos)++;
            (*line)++;
        }
        return TW_OK;
    }
}

static struct tw_str rec_field(const struct csv_rec *r, size_t i)
{
    if (i >= r->n || i >= TW_CONVERT_MAX_COLUMNS || r->data.ptr == NULL)
        return tw_str_make("", 0);
    return tw_str_make(r->data.ptr + r->off[i], r->len[i]);
}

/* ==== Header ==== */

static int match_col(struct tw_str h)
{
    char norm[32];

    h = tw_str_trim(h);
    if (h.len == 0 || h.len >= sizeof(norm))
        return -1;
    for (size_t i = 0; i < h.len; i++) {
        char ch = tw_ascii_lower(h.ptr[i]);
        if (ch == '-' || ch == ' ')
            ch = '_';
        norm[i] = ch;
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(col_names); i++) {
        if (tw_str_eq_cstr(tw_str_make(norm, h.len), col_names[i].name))
            return (int)col_names[i].col;
    }
    return -1;
}

static int read_header(
        struct tw__conv *c, const struct csv_rec *r, long map[COL__COUNT], struct tw_err *err)
{
    char ignored[120] = "";
    size_t n_ignored = 0;

    if (r->bad != NULL) {
        (void)TW_E_HERE(err, TW_ESYNTAX, TW_NOPOS, "header row: %s", r->bad);
        if (err != NULL)
            err->line = r->line;
        return TW_ESYNTAX;
    }
    for (size_t k = 0; k < COL__COUNT; k++)
        map[k] = -1;
    for (size_t i = 0; i < r->n; i++) {
        int col = match_col(rec_field(r, i));
        if (col >= 0 && map[col] < 0) {
            map[col] = (long)i;
            continue;
        }
        if (n_ignored++ < 4) {
            char q[48];
            size_t used = strlen(ignored);
            tw__conv_quote(rec_field(r, i), q);
            (void)snprintf(ignored + used, sizeof(ignored) - used, "%s'%s'", used ? ", " : "", q);
        }
    }
    if (map[COL_VALUE] < 0) {
        (void)TW_E_HERE(err, TW_ESYNTAX, TW_NOPOS, "the header row has no 'value' column");
        if (err != NULL)
            err->line = r->line;
        return TW_ESYNTAX;
    }
    if (n_ignored > 0)
        tw__conv_problem(c, r->line, 0, true, "ignoring %zu unknown column%s: %s%s", n_ignored,
                n_ignored == 1 ? "" : "s", ignored, n_ignored > 4 ? ", ..." : "");
    return TW_OK;
}

/* ==== Import ==== */

static struct tw_str pick(
        const struct csv_rec *r, const long map[COL__COUNT], enum col col, size_t *colno)
{
    if (map[col] < 0) {
        if (colno != NULL)
            *colno = 0;
        return tw_str_make("", 0);
    }
    if (colno != NULL)
        *colno = (size_t)map[col] + 1;
    return rec_field(r, (size_t)map[col]);
}

static int read_csv(struct tw__conv *c, const char *t, size_t len, struct tw_err *err)
{
    struct csv_rec r;
    long map[COL__COUNT];
    size_t n_cols = 0;
    bool have_header = false;
    size_t pos = 0;
    size_t line = 1;
    int rc = TW_OK;

    if (t == NULL)
        return TW_EINVAL;
    memset(&r, 0, sizeof(r));
    tw_buf_init(&r.data, TW_CONVERT_MAX_RECORD);
    if (len >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len && rc == TW_OK) {
        struct tw__row row;
        struct tw_str first;

        if ((rc = read_record(t, len, &pos, &line, &r)) != TW_OK)
            break;
        first = rec_field(&r, 0);
        if (r.n == 1 && first.len == 0 && !r.quoted[0] && r.bad == NULL)
            continue;
        if (!r.quoted[0] && first.len > 0 && first.ptr[0] == '#')
            continue;
        if (!have_header) {
            if ((rc = read_header(c, &r, map, err)) != TW_OK)
                break;
            have_header = true;
            n_cols = r.n;
            continue;
        }
        if ((rc = tw__conv_count_row(c, err)) != TW_OK)
            break;
        if (r.bad != NULL) {
            tw__conv_problem(c, r.line, r.bad_col, false, "%s", r.bad);
            c->res->n_rejected++;
            continue;
        }
        if (r.n != n_cols) {
            tw__conv_problem(c, r.line, 0, false, "%zu field%s but the header has %zu", r.n,
                    r.n == 1 ? "" : "s", n_cols);
            c->res->n_rejected++;
            continue;
        }
        memset(&row, 0, sizeof(row));
        row.line = r.line;
        row.type = pick(&r, map, COL_TYPE, &row.col_type);
        row.value = pick(&r, map, COL_VALUE, &row.col_value);
        row.name = pick(&r, map, COL_NAME, NULL);
        row.desc = pick(&r, map, COL_DESC, NULL);
        row.tlp = pick(&r, map, COL_TLP, &row.col_tlp);
        row.valid_from = pick(&r, map, COL_VALID_FROM, &row.col_valid_from);
        row.valid_until = pick(&r, map, COL_VALID_UNTIL, &row.col_valid_until);
        row.confidence = pick(&r, map, COL_CONFIDENCE, &row.col_confidence);
        row.labels = pick(&r, map, COL_LABELS, NULL);
        row.source = pick(&r, map, COL_SOURCE, NULL);
        row.url = pick(&r, map, COL_URL, NULL);
        if ((rc = tw__conv_row(c, &row)) != TW_OK)
            rc = TW_E_HERE(err, rc, TW_NOPOS, "%s at line %zu", tw_strerror(rc), r.line);
    }
    if (rc == TW_ENOMEM && (err == NULL || err->code == TW_OK))
        rc = TW_E_HERE(err, rc, TW_NOPOS, "out of memory at line %zu", line);
    tw_buf_cleanup(&r.data);
    return rc;
}

int tw_convert_csv(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err)
{
    return tw__conv_run(text, len, opts, res, err, read_csv);
}
