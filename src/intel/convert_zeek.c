/*
 * convert_zeek.c: the Zeek intel file importer.
 *
 * A Zeek intel file is tab-separated text. A `#fields` line names the columns
 * (indicator, indicator_type, meta.source, meta.desc, meta.url, ...); other
 * lines starting with '#' are comments, except `#separator \x09`, which sets
 * the separator (Zeek writes it as a \xHH escape). In data lines "-" is the
 * unset value and "(empty)" the empty one. Indicator types map as follows:
 * ADDR, SUBNET, DOMAIN, URL (written without a scheme; "http://" is added),
 * EMAIL, FILE_HASH (by length), CERT_HASH (a certificate's SHA-1), FILE_NAME,
 * USER_NAME and SOFTWARE all have STIX forms; PUBKEY_HASH and unknown types
 * are reported per line. meta.source becomes the source identity, meta.desc
 * the description and meta.url an external reference.
 */
#include <string.h>

#include "convert_int.h"
#include "tidewatch/convert.h"

enum zcol { Z_INDICATOR = 0, Z_TYPE, Z_SOURCE, Z_DESC, Z_URL, Z__COUNT };

static const char *const zcol_names[Z__COUNT] = { "indicator", "indicator_type", "meta.source",
    "meta.desc", "meta.url" };

struct zeek_state {
    char sep;
    bool have_header;
    size_t n_cols;
    long map[Z__COUNT];
};

/* "#separator \x09" (or a literal single character). */
static void parse_separator(struct zeek_state *z, struct tw_str arg)
{
    uint64_t v;

    arg = tw_str_trim(arg);
    if (arg.len == 4 && arg.ptr[0] == '\\' && arg.ptr[1] == 'x' &&
            tw_parse_hex_u64(tw_str_make(arg.ptr + 2, 2), 255, &v) == TW_OK && v != '\n' && v != 0)
        z->sep = (char)v;
    else if (arg.len == 1)
        z->sep = arg.ptr[0];
}

static int parse_fields(struct tw__conv *c, struct zeek_state *z, struct tw_str rest, size_t line,
        struct tw_err *err)
{
    struct tw_str tok;
    size_t n = 0;
    size_t n_ignored = 0;
    char first_ignored[48] = "";

    for (size_t k = 0; k < Z__COUNT; k++)
        z->map[k] = -1;
    while (tw_str_split(&rest, z->sep, &tok)) {
        bool known = false;
        if (n >= TW_CONVERT_MAX_COLUMNS) {
            (void)TW_E_HERE(err, TW_ESYNTAX, TW_NOPOS, "more than %d columns in #fields",
                    TW_CONVERT_MAX_COLUMNS);
            if (err != NULL)
                err->line = line;
            return TW_ESYNTAX;
        }
        for (size_t k = 0; k < Z__COUNT; k++) {
            if (z->map[k] < 0 && tw_str_eq_cstr(tw_str_trim(tok), zcol_names[k])) {
                z->map[k] = (long)n;
                known = true;
                break;
            }
        }
        if (!known && n_ignored++ == 0)
            tw__conv_quote(tw_str_trim(tok), first_ignored);
        n++;
    }
    if (z->map[Z_INDICATOR] < 0 || z->map[Z_TYPE] < 0) {
        (void)TW_E_HERE(
                err, TW_ESYNTAX, TW_NOPOS, "#fields must name 'indicator' and 'indicator_type'");
        if (err != NULL)
            err->line = line;
        return TW_ESYNTAX;
    }
    if (n_ignored > 0)
        tw__conv_problem(c, line, 0, true, "ignoring %zu column%s not mapped to STIX (first '%s')",
                n_ignored, n_ignored == 1 ? "" : "s", first_ignored);
    z->n_cols = n;
    z->have_header = true;
    return TW_OK;
}

static struct tw_str zval(struct tw_str s)
{
    if (tw_str_eq_cstr(s, "-") || tw_str_eq_cstr(s, "(empty)"))
        return tw_str_make("", 0);
    return s;
}

static int data_line(struct tw__conv *c, struct zeek_state *z, struct tw_str l, size_t line)
{
    struct tw_str fields[TW_CONVERT_MAX_COLUMNS];
    struct tw_str tok;
    struct tw__row row;
    size_t n = 0;

    while (tw_str_split(&l, z->sep, &tok)) {
        if (n < TW_CONVERT_MAX_COLUMNS)
            fields[n] = tok;
        n++;
    }
    if (n != z->n_cols) {
        tw__conv_problem(c, line, 0, false, "%zu field%s but #fields names %zu", n,
                n == 1 ? "" : "s", z->n_cols);
        c->res->n_rejected++;
        return TW_OK;
    }
    memset(&row, 0, sizeof(row));
    row.line = line;
    row.col_value = (size_t)z->map[Z_INDICATOR] + 1;
    row.col_type = (size_t)z->map[Z_TYPE] + 1;
    row.value = zval(fields[z->map[Z_INDICATOR]]);
    row.type = zval(fields[z->map[Z_TYPE]]);
    if (row.type.len == 0) {
        tw__conv_problem(c, line, row.col_type, false, "indicator_type is empty");
        c->res->n_rejected++;
        return TW_OK;
    }
    if (z->map[Z_SOURCE] >= 0)
        row.source = zval(fields[z->map[Z_SOURCE]]);
    if (z->map[Z_DESC] >= 0)
        row.desc = zval(fields[z->map[Z_DESC]]);
    if (z->map[Z_URL] >= 0)
        row.url = zval(fields[z->map[Z_URL]]);
    return tw__conv_row(c, &row);
}

static int read_zeek(struct tw__conv *c, const char *text, size_t len, struct tw_err *err)
{
    struct zeek_state z = { .sep = '\t' };
    struct tw_str rest = tw_str_skip_bom(tw_str_make(text, len)), l;
    size_t line = 0;
    size_t n_early = 0;

    if (text == NULL)
        return TW_EINVAL;
    while (tw_str_next_line(&rest, &l)) {
        int rc;

        line++;
        if (tw_str_trim(l).len == 0)
            continue;
        if (l.ptr[0] == '#') {
            if (tw_str_starts_with(l, TW_STR("#separator ")))
                parse_separator(&z, tw_str_make(l.ptr + 11, l.len - 11));
            else if (l.len > 7 && tw_str_starts_with(l, TW_STR("#fields")) &&
                     (l.ptr[7] == z.sep || l.ptr[7] == ' ' || l.ptr[7] == '\t')) {
                rc = parse_fields(c, &z, tw_str_make(l.ptr + 8, l.len - 8), line, err);
                if (rc != TW_OK)
                    return rc;
            }
            continue;
        }
        if ((rc = tw__conv_count_row(c, err)) != TW_OK)
            return rc;
        if (!z.have_header) {
            tw__conv_problem(c, line, 0, false, "data before the #fields line");
            c->res->n_rejected++;
            n_early++;
            continue;
        }
        if ((rc = data_line(c, &z, l, line)) != TW_OK)
            return TW_E_HERE(err, rc, TW_NOPOS, "%s at line %zu", tw_strerror(rc), line);
    }
    if (!z.have_header && n_early > 0)
        return TW_E_HERE(err, TW_ESYNTAX, TW_NOPOS, "no #fields line");
    return TW_OK;
}

int tw_convert_zeek(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err)
{
    return tw__conv_run(text, len, opts, res, err, read_zeek);
}
