/*
 * convert_list.c: the plain-list importer, one indicator per line.
 *
 * Lines end in LF or CRLF. Blank lines and lines whose first non-blank
 * character is '#' are skipped; so is a trailing comment that follows
 * whitespace ("198.51.100.7   # C2"). What remains must be a single token.
 * Its kind is detected (or fixed by opts->default_type) and converted by
 * convert.c. A UTF-8 byte order mark at the start is ignored.
 */
#include <string.h>

#include "convert_int.h"
#include "tidewatch/convert.h"

/* Cuts a comment that starts with '#' after whitespace. */
static struct tw_str strip_comment(struct tw_str s)
{
    for (size_t i = 1; i < s.len; i++) {
        if (s.ptr[i] == '#' && tw_ascii_isspace(s.ptr[i - 1]))
            return tw_str_trim(tw_str_make(s.ptr, i));
    }
    return s;
}

static int read_list(struct tw__conv *c, const char *text, size_t len, struct tw_err *err)
{
    struct tw_str rest = tw_str_skip_bom(tw_str_make(text, len)), l;
    size_t line = 0;

    if (text == NULL)
        return TW_EINVAL;
    while (tw_str_next_line(&rest, &l)) {
        struct tw__row row;
        int rc;

        line++;
        l = tw_str_trim(l);
        if (l.len == 0 || l.ptr[0] == '#')
            continue;
        l = strip_comment(l);
        if ((rc = tw__conv_count_row(c, err)) != TW_OK)
            return rc;
        for (size_t i = 0; i < l.len; i++) {
            if (l.ptr[i] == ' ' || l.ptr[i] == '\t') {
                tw__conv_problem(c, line, 0, false, "more than one value on the line");
                c->res->n_rejected++;
                l.len = 0;
                break;
            }
        }
        if (l.len == 0)
            continue;
        memset(&row, 0, sizeof(row));
        row.line = line;
        row.value = l;
        if ((rc = tw__conv_row(c, &row)) != TW_OK)
            return TW_E_HERE(err, rc, TW_NOPOS, "%s at line %zu", tw_strerror(rc), line);
    }
    return TW_OK;
}

int tw_convert_list(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err)
{
    return tw__conv_run(text, len, opts, res, err, read_list);
}
