/*
 * cmd_intel.c: `tidewatch intel`, what an analyst does with intelligence that
 * has just arrived: check it against STIX 2.1, count what is in it, convert it
 * from and to the formats sensors use, and look values up in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>
#include <sys/stat.h>

#include "cli.h"
#include "intel_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/convert.h"
#include "tidewatch/index.h"
#include "tidewatch/pattern.h"
#include "tidewatch/stix.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

/* ==== check ==== */

static const char check_help[] =
        "usage: tidewatch intel check [options] FILE...\n"
        "\n"
        "Validate STIX 2.1 documents (bundles, TAXII envelopes or single objects)\n"
        "against the specification. Every problem is printed with the object id and\n"
        "the JSON path of the offending value. '-' reads standard input.\n"
        "\n"
        "options:\n"
        "  -f, --format FMT   problems as 'text' lines (default) or 'json' lines\n"
        "  -s, --strict       warnings also make the exit status 1\n"
        "  -q, --quiet        no per-file summary line\n"
        "  -h, --help         this help\n"
        "\n"
        "exit status: 0 all valid, 1 a problem found, 2 usage, 3 a file unreadable\n";

int tw_intel_check_one(
        struct tw_stix_bundle *b, enum tw_stix_format fmt, bool quiet, bool strict, FILE *out)
{
    size_t n_err = tw_stix_bundle_n_errors(b), n_warn = tw_stix_bundle_n_warnings(b);

    if (tw_stix_problems_write(b, out, fmt) != TW_OK)
        return TW_EXIT_ERROR;
    if (!quiet && fmt == TW_STIX_TEXT)
        fprintf(out, "%s: %zu objects, %zu valid, %zu error%s, %zu warning%s\n",
                tw_stix_bundle_name(b), tw_stix_bundle_count(b), tw_stix_bundle_n_valid(b), n_err,
                n_err == 1 ? "" : "s", n_warn, n_warn == 1 ? "" : "s");
    return (n_err > 0 || (strict && n_warn > 0)) ? TW_EXIT_FINDINGS : TW_EXIT_OK;
}

/*
 * Reads one file into a bundle, printing a failure in the requested format.
 * flags are tw_stix_read_mem's (TW_STIX_NO_PATTERNS when the caller compiles
 * the patterns itself, as the index does).
 */
static int read_bundle_flags(
        const char *path, enum tw_stix_format fmt, unsigned flags, struct tw_stix_bundle **b)
{
    struct tw_err err;
    struct tw_buf in;
    int rc;

    tw_err_clear(&err);
    rc = tw_cli_slurp(path, TW_STIX_MAX_INPUT + 1, &in, &err);
    if (rc == TW_OK) {
        rc = tw_stix_read_mem(
                in.ptr, in.len, strcmp(path, "-") == 0 ? "stdin" : path, flags, b, &err);
        tw_buf_cleanup(&in);
    }
    if (rc == TW_OK)
        return TW_EXIT_OK;
    if (fmt == TW_STIX_JSONL) {
        struct tw_buf j;
        tw_buf_init(&j, 4096);
        if (tw_buf_puts(&j, "{\"file\":\"") == TW_OK &&
                tw_buf_json_escape(&j, path, strlen(path)) == TW_OK &&
                tw_buf_printf(&j,
                        "\",\"severity\":\"error\",\"offset\":%lld,\"line\":%zu,"
                        "\"column\":%zu,\"message\":\"",
                        err.offset == TW_NOPOS ? -1LL : (long long)err.offset, err.line,
                        err.column) == TW_OK &&
                tw_buf_json_escape(&j, err.msg, strlen(err.msg)) == TW_OK &&
                tw_buf_puts(&j, "\"}\n") == TW_OK)
            fputs(j.ptr, stdout);
        tw_buf_cleanup(&j);
    } else {
        fprintf(stdout, "%s: ERROR: %s\n", path, err.msg);
    }
    return rc == TW_EIO ? TW_EXIT_ERROR : TW_EXIT_FINDINGS;
}

static int read_bundle(const char *path, enum tw_stix_format fmt, struct tw_stix_bundle **b)
{
    return read_bundle_flags(path, fmt, 0, b);
}

static int intel_check(int argc, char **argv)
{
    static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
        { "strict", no_argument, NULL, 's' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    enum tw_stix_format fmt = TW_STIX_TEXT;
    bool strict = false, quiet = false;
    int c, status = TW_EXIT_OK;

    while ((c = getopt_long(argc, argv, "f:sqh", opts, NULL)) != -1) {
        switch (c) {
            case 'f':
                if (strcmp(optarg, "text") == 0)
                    fmt = TW_STIX_TEXT;
                else if (strcmp(optarg, "json") == 0)
                    fmt = TW_STIX_JSONL;
                else
                    return tw_cli_usage_error("tidewatch intel check", "bad --format '%s'", optarg);
                break;
            case 's':
                strict = true;
                break;
            case 'q':
                quiet = true;
                break;
            case 'h':
                fputs(check_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error("tidewatch intel check", "bad option");
        }
    }
    if (optind >= argc)
        return tw_cli_usage_error("tidewatch intel check", "no input file");
    for (int i = optind; i < argc; i++) {
        struct tw_stix_bundle *b = NULL;
        int s = read_bundle(argv[i], fmt, &b);

        if (s == TW_EXIT_OK) {
            s = tw_intel_check_one(b, fmt, quiet, strict, stdout);
            tw_stix_bundle_free(b);
        }
        status = TW_MAX(status, s);
    }
    return status;
}

/* ==== stats ==== */

static const char stats_help[] =
        "usage: tidewatch intel stats [options] FILE...\n"
        "\n"
        "Count what a set of STIX documents holds: objects by type and by TLP,\n"
        "indicators by the kind of value they name and by how they match, and\n"
        "indicators by validity (active, expired, not yet valid, revoked).\n"
        "\n"
        "options:\n"
        "  -j, --json      one JSON object instead of text\n"
        "      --at TIME   judge validity at this RFC 3339 time (default: now)\n"
        "  -h, --help      this help\n"
        "\n"
        "exit status: 0 counted, 1 an input had STIX errors (still counted), 2 usage,\n"
        "3 a file unreadable\n";

/* A small ordered name -> count table that owns copies of its names. */
struct tally {
    char *name[128];
    size_t count[128];
    size_t n;
    size_t other; /* names past the table's size, counted together */
};

static void tally_add(struct tally *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->name[i], name) == 0) {
            t->count[i]++;
            return;
        }
    }
    if (t->n < TW_ARRAY_LEN(t->name) && (t->name[t->n] = tw_strdup(name)) != NULL)
        t->count[t->n++] = 1;
    else
        t->other++;
}

static void tally_cleanup(struct tally *t)
{
    for (size_t i = 0; i < t->n; i++)
        tw_free(t->name[i]);
    t->n = 0;
}

enum match_class { MATCH_EXACT, MATCH_VERIFY, MATCH_UNINDEXED, MATCH_BAD, MATCH_CLASS_COUNT };
static const char *const match_names[MATCH_CLASS_COUNT] = { "exact", "verify", "unindexed",
    "not-indexable" };

/* Per-indicator kind label derived from the pattern's atoms. */
struct kind_probe {
    unsigned mask; /* bit per tw_index_kind, plus bit 15 for a CIDR */
    bool unusable;
};

static int probe_atom(const struct tw_pattern_atom *atom, void *arg)
{
    struct kind_probe *p = arg;
    bool keeps;
    int k = tw_index_kind_of_atom(atom, &keeps);

    if (k < 0)
        p->unusable = true;
    else if (k == TW_INDEX_ADDR &&
             (atom->op == TW_ATOM_SUBSET || tw_str_find(atom->value, '/') >= 0))
        p->mask |= 1u << 15;
    else
        p->mask |= 1u << k;
    return TW_OK;
}

const char *tw_intel_indicator_kind(const struct tw_pattern *pat, enum tw_index_kind *kind_out)
{
    struct kind_probe p = { 0, false };
    bool exact;
    int rc = tw_pattern_atoms(pat, probe_atom, &p, &exact);

    if (rc != TW_OK || p.unusable || p.mask == 0)
        return "pattern";
    if ((p.mask & (p.mask - 1)) != 0)
        return "mixed";
    if (p.mask == 1u << 15)
        return "cidr";
    for (int k = 0; k < TW_INDEX_KIND_COUNT; k++) {
        if (p.mask == 1u << k) {
            if (kind_out != NULL)
                *kind_out = (enum tw_index_kind)k;
            return tw_index_kind_name((enum tw_index_kind)k);
        }
    }
    return "mixed";
}

struct stats {
    size_t files, objects, valid;
    struct tally types, kinds;
    size_t tlp[TW_TLP_RED + 1];
    size_t indicators;
    size_t match[MATCH_CLASS_COUNT];
    size_t state[4];
    struct tw_index *idx;
    int64_t at;
};

static int stats_indicator(const struct tw_stix_indicator *ind, void *arg)
{
    struct stats *st = arg;
    struct tw_pattern *pat = NULL;
    struct tw_err err;
    enum match_class mc;
    uint32_t n;

    st->indicators++;
    if (strcmp(ind->pattern_type, "stix") != 0 ||
            tw_pattern_parse(ind->pattern, &pat, &err) != TW_OK) {
        tally_add(&st->kinds, strcmp(ind->pattern_type, "stix") != 0 ? "non-stix" : "invalid");
        st->match[MATCH_BAD]++;
        return TW_OK;
    }
    tally_add(&st->kinds, tw_intel_indicator_kind(pat, NULL));
    tw_pattern_free(pat);
    if (tw_index_add(st->idx, ind->obj->json, (uint8_t)ind->tlp, &err) != TW_OK) {
        st->match[MATCH_BAD]++;
        return TW_OK;
    }
    n = (uint32_t)tw_index_count(st->idx) - 1;
    if (tw_index_get(st->idx, n)->flags & TW_IND_EXACT)
        mc = MATCH_EXACT;
    else if (tw_index_get(st->idx, n)->flags & TW_IND_UNINDEXED)
        mc = MATCH_UNINDEXED;
    else
        mc = MATCH_VERIFY;
    st->match[mc]++;
    st->state[tw_index_state(st->idx, n, st->at)]++;
    return TW_OK;
}

static const char *const state_names[4] = { "active", "not-yet-valid", "expired", "revoked" };

static void stats_print_text(const struct stats *st)
{
    printf("files        %zu\nobjects      %zu (%zu valid, %zu invalid)\n\nby type\n", st->files,
            st->objects, st->valid, st->objects - st->valid);
    for (size_t i = 0; i < st->types.n; i++)
        printf("  %-24s %zu\n", st->types.name[i], st->types.count[i]);
    printf("\nby TLP (effective, object-level)\n");
    for (int t = 0; t <= TW_TLP_RED; t++)
        if (st->tlp[t] > 0)
            printf("  %-24s %zu\n", t == TW_TLP_NONE ? "unmarked" : tw_tlp_name((enum tw_tlp)t),
                    st->tlp[t]);
    printf("\nindicators   %zu\n\nby kind\n", st->indicators);
    for (size_t i = 0; i < st->kinds.n; i++)
        printf("  %-24s %zu\n", st->kinds.name[i], st->kinds.count[i]);
    printf("\nby matching\n");
    for (int m = 0; m < MATCH_CLASS_COUNT; m++)
        printf("  %-24s %zu\n", match_names[m], st->match[m]);
    printf("\nby validity\n");
    for (int s = 0; s < 4; s++)
        printf("  %-24s %zu\n", state_names[s], st->state[s]);
}

static int stats_print_json(const struct stats *st)
{
    json_t *o = json_object(), *types = json_object(), *tlp = json_object(), *ind = json_object(),
           *kinds = json_object(), *match = json_object(), *state = json_object();
    char *s;
    int rc = TW_EXIT_OK;

    if (o == NULL || types == NULL || tlp == NULL || ind == NULL || kinds == NULL ||
            match == NULL || state == NULL) {
        json_decref(o);
        json_decref(types);
        json_decref(tlp);
        json_decref(ind);
        json_decref(kinds);
        json_decref(match);
        json_decref(state);
        return TW_EXIT_ERROR;
    }
    for (size_t i = 0; i < st->types.n; i++)
        json_object_set_new(types, st->types.name[i], json_integer((json_int_t)st->types.count[i]));
    for (int t = 0; t <= TW_TLP_RED; t++)
        json_object_set_new(tlp, t == TW_TLP_NONE ? "unmarked" : tw_tlp_name((enum tw_tlp)t),
                json_integer((json_int_t)st->tlp[t]));
    for (size_t i = 0; i < st->kinds.n; i++)
        json_object_set_new(kinds, st->kinds.name[i], json_integer((json_int_t)st->kinds.count[i]));
    for (int m = 0; m < MATCH_CLASS_COUNT; m++)
        json_object_set_new(match, match_names[m], json_integer((json_int_t)st->match[m]));
    for (int i = 0; i < 4; i++)
        json_object_set_new(state, state_names[i], json_integer((json_int_t)st->state[i]));
    json_object_set_new(o, "files", json_integer((json_int_t)st->files));
    json_object_set_new(o, "objects", json_integer((json_int_t)st->objects));
    json_object_set_new(o, "valid", json_integer((json_int_t)st->valid));
    json_object_set_new(o, "invalid", json_integer((json_int_t)(st->objects - st->valid)));
    json_object_set_new(o, "by_type", types);
    json_object_set_new(o, "by_tlp", tlp);
    json_object_set_new(ind, "total", json_integer((json_int_t)st->indicators));
    json_object_set_new(ind, "by_kind", kinds);
    json_object_set_new(ind, "by_matching", match);
    json_object_set_new(ind, "by_validity", state);
    json_object_set_new(o, "indicators", ind);
    s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2));
    if (s == NULL)
        rc = TW_EXIT_ERROR;
    else
        printf("%s\n", s);
    free(s);
    json_decref(o);
    return rc;
}

/* Adds one bundle's objects and indicators to the counts. */
static int stats_add_bundle(struct stats *st, const struct tw_stix_bundle *b)
{
    st->files++;
    for (size_t i = 0; i < tw_stix_bundle_count(b); i++) {
        const struct tw_stix_object *o = tw_stix_bundle_object(b, i);
        st->objects++;
        st->valid += o->valid;
        tally_add(&st->types, o->type[0] ? o->type : "(no type)");
        st->tlp[o->tlp]++;
    }
    return tw_stix_each_indicator(b, stats_indicator, st);
}

static int stats_print(const struct stats *st, bool json)
{
    if (json)
        return stats_print_json(st);
    stats_print_text(st);
    return TW_EXIT_OK;
}

static void stats_cleanup(struct stats *st)
{
    tally_cleanup(&st->types);
    tally_cleanup(&st->kinds);
    tw_index_free(st->idx);
}

int tw_intel_stats_bundle(const struct tw_stix_bundle *b, int64_t at, bool json)
{
    struct stats st;
    int rc = TW_EXIT_ERROR;

    memset(&st, 0, sizeof(st));
    st.at = at;
    st.idx = tw_index_new(TW_INDEX_MAX_INDICATORS);
    if (st.idx != NULL && stats_add_bundle(&st, b) == TW_OK)
        rc = stats_print(&st, json);
    stats_cleanup(&st);
    return rc;
}

int tw_intel_parse_at(const char *text, int64_t *at)
{
    struct tw_time t;

    if (tw_time_parse(tw_str_cstr(text), TW_TIME_ALLOW_OFFSET, &t, NULL) != TW_OK)
        return TW_EINVAL;
    *at = t.sec;
    return TW_OK;
}

static int intel_stats(int argc, char **argv)
{
    static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
        { "at", required_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    struct stats st;
    bool json = false;
    int c, status = TW_EXIT_OK;

    memset(&st, 0, sizeof(st));
    st.at = tw_time_now().sec;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
            case 'j':
                json = true;
                break;
            case 'a':
                if (tw_intel_parse_at(optarg, &st.at) != TW_OK)
                    return tw_cli_usage_error("tidewatch intel stats", "bad --at '%s'", optarg);
                break;
            case 'h':
                fputs(stats_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error("tidewatch intel stats", "bad option");
        }
    }
    if (optind >= argc)
        return tw_cli_usage_error("tidewatch intel stats", "no input file");
    st.idx = tw_index_new(TW_INDEX_MAX_INDICATORS);
    if (st.idx == NULL)
        return TW_EXIT_ERROR;
    for (int i = optind; i < argc && status != TW_EXIT_ERROR; i++) {
        struct tw_stix_bundle *b = NULL;
        int s = read_bundle(argv[i], TW_STIX_TEXT, &b);

        if (s != TW_EXIT_OK) {
            status = TW_MAX(status, s);
            continue;
        }
        if (tw_stix_bundle_n_errors(b) > 0) {
            fprintf(stderr,
                    "%s: %zu STIX errors; invalid objects are counted but not "
                    "indexed (see 'tidewatch intel check')\n",
                    argv[i], tw_stix_bundle_n_errors(b));
            status = TW_MAX(status, TW_EXIT_FINDINGS);
        }
        if (stats_add_bundle(&st, b) != TW_OK)
            status = TW_EXIT_ERROR;
        tw_stix_bundle_free(b);
    }
    if (status != TW_EXIT_ERROR && st.files > 0 && stats_print(&st, json) != TW_EXIT_OK)
        status = TW_EXIT_ERROR;
    stats_cleanup(&st);
    return status;
}

/* ==== convert ==== */

static const char convert_help[] =
        "usage: tidewatch intel convert [options] FILE...\n"
        "\n"
        "Convert indicator lists, CSV files and Zeek intel files into a STIX 2.1\n"
        "bundle with deterministic ids (converting twice gives the same bundle), or\n"
        "STIX bundles into a Zeek intel file or Suricata dataset files. Several STIX\n"
        "inputs are merged; list, CSV and Zeek inputs are converted one at a time.\n"
        "\n"
        "options:\n"
        "  -F, --from FMT      list, csv, zeek or stix (default: from the file name:\n"
        "                      .csv, .intel/.zeek/.dat, .json; anything else is a list)\n"
        "  -T, --to FMT        stix (default), zeek or suricata\n"
        "  -o, --output PATH   output file (stix, zeek; default standard output) or\n"
        "                      directory (suricata; default the current directory)\n"
        "      --timestamp T   RFC 3339 time for created, modified and the default\n"
        "                      valid_from (default: the input file's modification time)\n"
        "      --source NAME   name of the identity that creates the indicators\n"
        "      --tlp LEVEL     TLP for rows that name none (clear, green, amber,\n"
        "                      amber+strict, red)\n"
        "      --type TYPE     lists only: the type of every line (e.g. ja3, sha256)\n"
        "      --indent N      JSON indentation (default 2; 0 for one line)\n"
        "  -h, --help          this help\n"
        "\n"
        "exit status: 0 everything converted, 1 rows or indicators skipped (each is\n"
        "reported on standard error), 2 usage, 3 an input unreadable or output unwritable\n";

enum conv_fmt { CONV_AUTO, CONV_LIST, CONV_CSV, CONV_ZEEK, CONV_STIX, CONV_SURICATA };

static int parse_conv_fmt(const char *s, enum conv_fmt *out)
{
    static const struct {
        const char *name;
        enum conv_fmt fmt;
    } names[] = { { "list", CONV_LIST }, { "csv", CONV_CSV }, { "zeek", CONV_ZEEK },
        { "stix", CONV_STIX }, { "suricata", CONV_SURICATA } };

    for (size_t i = 0; i < TW_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].fmt;
            return TW_OK;
        }
    }
    return TW_EINVAL;
}

static enum conv_fmt guess_fmt(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (dot == NULL)
        return CONV_LIST;
    if (strcmp(dot, ".csv") == 0)
        return CONV_CSV;
    if (strcmp(dot, ".intel") == 0 || strcmp(dot, ".zeek") == 0 || strcmp(dot, ".dat") == 0)
        return CONV_ZEEK;
    if (strcmp(dot, ".json") == 0)
        return CONV_STIX;
    return CONV_LIST;
}

static void print_problems(const struct tw_convert_problems *pr, const char *fallback)
{
    const char *file = pr->file ? pr->file : fallback;

    for (size_t i = 0; i < pr->n; i++) {
        const struct tw_convert_problem *p = &pr->items[i];
        if (p->column > 0)
            fprintf(stderr, "%s:%zu:%zu: %s: %s\n", file, p->line, p->column,
                    p->warning ? "warning" : "error", p->msg);
        else
            fprintf(stderr, "%s:%zu: %s: %s\n", file, p->line, p->warning ? "warning" : "error",
                    p->msg);
    }
    if (pr->n_dropped > 0)
        fprintf(stderr, "%s: %zu more problems not shown\n", file, pr->n_dropped);
}

struct convert_opts {
    enum conv_fmt from, to;
    const char *output, *timestamp, *source, *tlp, *type;
    int indent;
};

static int convert_import(const char *path, const struct convert_opts *co)
{
    struct tw_convert_opts opts = { 0 };
    struct tw_convert_result res;
    struct tw_buf in, out;
    struct tw_err err;
    char ts[TW_TIME_STRLEN];
    enum conv_fmt from = co->from == CONV_AUTO ? guess_fmt(path) : co->from;
    int rc, status = TW_EXIT_OK;

    tw_err_clear(&err);
    if (co->timestamp != NULL) {
        opts.timestamp = co->timestamp;
    } else {
        struct stat st;
        struct tw_time t = tw_time_now();
        if (strcmp(path, "-") != 0 && stat(path, &st) == 0) {
            t.sec = st.st_mtim.tv_sec;
            t.nsec = 0;
        } else {
            fprintf(stderr, "tidewatch intel convert: no --timestamp: using the current time\n");
        }
        tw_time_format(&t, 3, ts);
        opts.timestamp = ts;
    }
    opts.file = strcmp(path, "-") == 0 ? "stdin" : path;
    opts.source = co->source;
    opts.tlp = co->tlp;
    opts.default_type = co->type;
    if (tw_cli_slurp(path, TW_CONVERT_MAX_INPUT + 1, &in, &err) != TW_OK) {
        fprintf(stderr, "tidewatch intel convert: %s\n", err.msg);
        return TW_EXIT_ERROR;
    }
    tw_convert_result_init(&res);
    if (from == CONV_CSV)
        rc = tw_convert_csv(in.ptr, in.len, &opts, &res, &err);
    else if (from == CONV_ZEEK)
        rc = tw_convert_zeek(in.ptr, in.len, &opts, &res, &err);
    else
        rc = tw_convert_list(in.ptr, in.len, &opts, &res, &err);
    tw_buf_cleanup(&in);
    print_problems(&res.problems, opts.file);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", opts.file, err.msg);
        tw_convert_result_cleanup(&res);
        return rc == TW_EINVAL ? TW_EXIT_USAGE : TW_EXIT_FINDINGS;
    }
    fprintf(stderr, "%s: %zu rows read, %zu indicators written, %zu rejected, %zu duplicates\n",
            opts.file, res.n_read, res.n_converted, res.n_rejected, res.n_duplicates);
    if (res.n_rejected > 0)
        status = TW_EXIT_FINDINGS;
    tw_buf_init(&out, TW_CONVERT_MAX_OUTPUT);
    rc = tw_convert_dump(res.bundle, co->indent, &out);
    if (rc == TW_OK)
        rc = tw_cli_write(co->output, out.ptr, out.len, &err);
    if (rc != TW_OK) {
        fprintf(stderr, "tidewatch intel convert: %s\n", err.msg[0] ? err.msg : tw_strerror(rc));
        status = TW_EXIT_ERROR;
    }
    tw_buf_cleanup(&out);
    tw_convert_result_cleanup(&res);
    return status;
}

static void print_export_summary(const struct tw_export_result *res, const char *what)
{
    fprintf(stderr, "%s: %zu indicators, %zu exported as %zu lines", what, res->n_indicators,
            res->n_exported, res->n_lines);
    for (int r = 0; r < TW_SKIP__COUNT; r++)
        if (res->n_skipped[r] > 0)
            fprintf(stderr, ", %zu %s", res->n_skipped[r],
                    tw_export_skip_name((enum tw_export_skip)r));
    fputc('\n', stderr);
}

static int write_suricata(const struct tw_suricata_out *so, const char *dir)
{
    struct tw_err err;
    char path[4096];

    for (int i = 0; i < TW_SURI__COUNT; i++) {
        const struct tw_suricata_file *f = &so->files[i];
        int n;

        if (f->n_lines == 0)
            continue;
        n = snprintf(path, sizeof(path), "%s/%s", dir, f->file_name);
        if (n < 0 || (size_t)n >= sizeof(path) ||
                tw_cli_write(path, f->content.ptr ? f->content.ptr : "", f->content.len, &err) !=
                        TW_OK) {
            fprintf(stderr, "tidewatch intel convert: cannot write %s\n", path);
            return TW_EXIT_ERROR;
        }
        fprintf(stderr, "%s: %zu entries; load with: %s\n", path, f->n_lines, f->rule);
    }
    if (so->files[TW_SURI_IPREP].n_lines > 0) {
        int n = snprintf(path, sizeof(path), "%s/tw-iprep-categories.txt", dir);
        if (n < 0 || (size_t)n >= sizeof(path) ||
                tw_cli_write(path, so->iprep_categories.ptr ? so->iprep_categories.ptr : "",
                        so->iprep_categories.len, &err) != TW_OK) {
            fprintf(stderr, "tidewatch intel convert: cannot write %s\n", path);
            return TW_EXIT_ERROR;
        }
    }
    return TW_EXIT_OK;
}

/* Collects the valid objects of every STIX input into one array. */
static int gather_objects(int n, char **paths, json_t *all)
{
    int status = TW_EXIT_OK;

    for (int i = 0; i < n; i++) {
        struct tw_stix_bundle *b = NULL;
        int s = read_bundle(paths[i], TW_STIX_TEXT, &b);

        if (s != TW_EXIT_OK) {
            status = TW_MAX(status, s);
            continue;
        }
        if (tw_stix_bundle_n_errors(b) > 0) {
            fprintf(stderr, "%s: %zu invalid objects left out (see 'tidewatch intel check')\n",
                    paths[i], tw_stix_bundle_count(b) - tw_stix_bundle_n_valid(b));
            status = TW_MAX(status, TW_EXIT_FINDINGS);
        }
        for (size_t k = 0; k < tw_stix_bundle_count(b); k++) {
            const struct tw_stix_object *o = tw_stix_bundle_object(b, k);
            if (o->valid && json_array_append(all, (json_t *)(uintptr_t)o->json) != 0)
                status = TW_EXIT_ERROR;
        }
        tw_stix_bundle_free(b);
    }
    return status;
}

int tw_intel_export(const json_t *objects, int to, const char *output)
{
    struct tw_export_result res;
    struct tw_err err;
    int status = TW_EXIT_OK, rc;

    tw_err_clear(&err);
    tw_export_result_init(&res);
    if (to == TW_INTEL_TO_ZEEK) {
        struct tw_buf out;
        tw_buf_init(&out, TW_CONVERT_MAX_OUTPUT);
        rc = tw_export_zeek(objects, &out, &res, &err);
        if (rc == TW_OK)
            rc = tw_cli_write(output, out.ptr ? out.ptr : "", out.len, &err);
        tw_buf_cleanup(&out);
        if (rc == TW_OK)
            print_export_summary(
                    &res, output != NULL && strcmp(output, "-") != 0 ? output : "zeek intel");
    } else {
        struct tw_suricata_out so;
        tw_suricata_out_init(&so);
        rc = tw_export_suricata(objects, &so, &res, &err);
        if (rc == TW_OK) {
            print_export_summary(&res, "suricata datasets");
            status = write_suricata(&so, output ? output : ".");
        }
        tw_suricata_out_cleanup(&so);
    }
    if (rc != TW_OK) {
        fprintf(stderr, "tidewatch intel convert: %s\n", err.msg[0] ? err.msg : tw_strerror(rc));
        status = TW_EXIT_ERROR;
    } else if (status == TW_EXIT_OK && (res.n_exported < res.n_indicators)) {
        status = TW_EXIT_FINDINGS;
    }
    tw_export_result_cleanup(&res);
    return status;
}

static int intel_convert(int argc, char **argv)
{
    static const struct option opts[] = { { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 'T' }, { "output", required_argument, NULL, 'o' },
        { "timestamp", required_argument, NULL, 't' }, { "source", required_argument, NULL, 's' },
        { "tlp", required_argument, NULL, 'l' }, { "type", required_argument, NULL, 'y' },
        { "indent", required_argument, NULL, 'i' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch intel convert";
    struct convert_opts co = { CONV_AUTO, CONV_STIX, NULL, NULL, NULL, NULL, NULL, 2 };
    enum conv_fmt from_all;
    json_t *all;
    int c, status;

    while ((c = getopt_long(argc, argv, "F:T:o:h", opts, NULL)) != -1) {
        uint64_t v;
        switch (c) {
            case 'F':
                if (parse_conv_fmt(optarg, &co.from) != TW_OK || co.from == CONV_SURICATA)
                    return tw_cli_usage_error(prog, "bad --from '%s'", optarg);
                break;
            case 'T':
                if (parse_conv_fmt(optarg, &co.to) != TW_OK ||
                        (co.to != CONV_STIX && co.to != CONV_ZEEK && co.to != CONV_SURICATA))
                    return tw_cli_usage_error(prog, "bad --to '%s'", optarg);
                break;
            case 'o':
                co.output = optarg;
                break;
            case 't': {
                struct tw_time t;
                if (tw_time_parse(tw_str_cstr(optarg), 0, &t, NULL) != TW_OK)
                    return tw_cli_usage_error(
                            prog, "bad --timestamp '%s' (want RFC 3339, Z)", optarg);
                co.timestamp = optarg;
                break;
            }
            case 's':
                co.source = optarg;
                break;
            case 'l': {
                enum tw_tlp l;
                if (tw_tlp_parse(tw_str_cstr(optarg), &l) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --tlp '%s'", optarg);
                co.tlp = optarg;
                break;
            }
            case 'y':
                co.type = optarg;
                break;
            case 'i':
                if (tw_parse_u64(tw_str_cstr(optarg), 31, &v) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --indent '%s' (0..31)", optarg);
                co.indent = (int)v;
                break;
            case 'h':
                fputs(convert_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind >= argc)
        return tw_cli_usage_error(prog, "no input file");
    from_all = co.from == CONV_AUTO ? guess_fmt(argv[optind]) : co.from;
    if (from_all != CONV_STIX) {
        if (co.to != CONV_STIX)
            return tw_cli_usage_error(prog, "convert %s to STIX first, then STIX to %s",
                    from_all == CONV_CSV    ? "CSV"
                    : from_all == CONV_ZEEK ? "Zeek"
                                            : "lists",
                    co.to == CONV_ZEEK ? "Zeek" : "Suricata");
        if (argc - optind > 1)
            return tw_cli_usage_error(prog, "list, CSV and Zeek inputs: one file at a time");
        return convert_import(argv[optind], &co);
    }
    if (co.to == CONV_STIX)
        return tw_cli_usage_error(
                prog, "STIX to STIX: nothing to convert (use --to zeek|suricata)");
    all = json_array();
    if (all == NULL)
        return TW_EXIT_ERROR;
    status = gather_objects(argc - optind, argv + optind, all);
    if (status != TW_EXIT_ERROR)
        status = TW_MAX(status,
                tw_intel_export(all, co.to == CONV_ZEEK ? TW_INTEL_TO_ZEEK : TW_INTEL_TO_SURICATA,
                        co.output));
    json_decref(all);
    return status;
}

/* ==== lookup ==== */

static const char lookup_help[] =
        "usage: tidewatch intel lookup -i BUNDLE [-i BUNDLE]... [options] VALUE...\n"
        "\n"
        "Is this address, domain, URL, e-mail address or hash in our intelligence,\n"
        "and which indicators say so? Each VALUE is classified and looked up in the\n"
        "index built from the bundles; '-' reads values from standard input, one per\n"
        "line. A 'candidate' hit names an indicator whose pattern asks for more than\n"
        "the value (a port, a direction, a sequence): the hunt verifies those.\n"
        "\n"
        "options:\n"
        "  -i, --intel FILE   a STIX bundle or compiled index file (repeatable)\n"
        "  -j, --json         one JSON object per value\n"
        "      --at TIME      judge validity at this RFC 3339 time (default: now)\n"
        "  -h, --help         this help\n"
        "\n"
        "exit status: 0 at least one value matched, 1 none matched, 2 usage,\n"
        "3 a bundle unreadable\n";

/*
 * Adds one input to idx: a compiled index file (by its magic) or a STIX
 * bundle. Returns an exit status.
 */
static int load_one(struct tw_index *idx, const char *path)
{
    struct tw_stix_bundle *b = NULL;
    struct tw_err err;
    struct tw_buf in;
    int rc, s;

    tw_err_clear(&err);
    rc = tw_cli_slurp(path, TW_STIX_MAX_INPUT + 1, &in, &err);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: ERROR: %s\n", path, err.msg);
        return rc == TW_EIO ? TW_EXIT_ERROR : TW_EXIT_FINDINGS;
    }
    if (tw_index_is_file(in.ptr, in.len)) {
        rc = tw_index_load(idx, in.ptr, in.len, &err);
        tw_buf_cleanup(&in);
        if (rc == TW_OK)
            return TW_EXIT_OK;
        if (err.offset != TW_NOPOS)
            fprintf(stderr, "%s: ERROR at byte %zu: %s\n", path, err.offset, err.msg);
        else
            fprintf(stderr, "%s: ERROR: %s\n", path, err.msg);
        return TW_EXIT_ERROR;
    }
    /* The index compiles every pattern itself and reports those that fail. */
    rc = tw_stix_read_mem(
            in.ptr, in.len, strcmp(path, "-") == 0 ? "stdin" : path, TW_STIX_NO_PATTERNS, &b, &err);
    tw_buf_cleanup(&in);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: ERROR: %s\n", path, err.msg);
        return rc == TW_EIO || rc == TW_ENOMEM ? TW_EXIT_ERROR : TW_EXIT_FINDINGS;
    }
    if (tw_stix_bundle_count(b) > tw_stix_bundle_n_valid(b))
        fprintf(stderr, "%s: %zu invalid objects left out (see 'tidewatch intel check')\n", path,
                tw_stix_bundle_count(b) - tw_stix_bundle_n_valid(b));
    s = tw_intel_index_bundle(idx, b) == TW_OK ? TW_EXIT_OK : TW_EXIT_ERROR;
    tw_stix_bundle_free(b);
    return s;
}

struct tw_index *tw_intel_load_index_ex(int n, char **paths, bool keep_source, int *status)
{
    struct tw_index *idx = tw_index_new(TW_INDEX_MAX_INDICATORS);

    *status = TW_EXIT_OK;
    if (idx == NULL) {
        *status = TW_EXIT_ERROR;
        return NULL;
    }
    if (keep_source)
        tw_index_keep_source(idx);
    for (int i = 0; i < n; i++) {
        int s = load_one(idx, paths[i]); /* TW_MAX evaluates its arguments twice */
        *status = TW_MAX(*status, s);
    }
    if (tw_index_build(idx) != TW_OK)
        *status = TW_EXIT_ERROR;
    if (*status == TW_EXIT_ERROR) {
        tw_index_free(idx);
        return NULL;
    }
    return idx;
}

struct tw_index *tw_intel_load_index(int n, char **paths, int *status)
{
    return tw_intel_load_index_ex(n, paths, false, status);
}

static int index_one(const struct tw_stix_indicator *ind, void *arg)
{
    struct tw_err err;
    int rc = tw_index_add(arg, ind->obj->json, (uint8_t)ind->tlp, &err);

    if (rc == TW_ENOMEM || rc == TW_ELIMIT) {
        fprintf(stderr, "%s: %s\n", ind->id, err.msg);
        return rc;
    }
    if (rc != TW_OK)
        fprintf(stderr, "%s: not indexed: %s\n", ind->id, err.msg);
    return TW_OK;
}

int tw_intel_index_bundle(struct tw_index *idx, const struct tw_stix_bundle *b)
{
    return tw_stix_each_indicator(b, index_one, idx);
}

/* Looks one value up and prints the result; returns the number of hits. */
size_t tw_intel_lookup_print(
        const struct tw_index *idx, const char *value, int64_t at, bool json, FILE *out)
{
    static const char *const states[] = { "active", "not-yet-valid", "expired", "revoked" };
    uint32_t hits[256];
    enum tw_index_kind kind = TW_INDEX_ADDR;
    long n = tw_index_lookup_text(idx, tw_str_cstr(value), &kind, hits, TW_ARRAY_LEN(hits));
    size_t shown = n > 0 ? TW_MIN((size_t)n, TW_ARRAY_LEN(hits)) : 0;
    json_t *j = NULL, *arr = NULL;

    if (json) {
        j = json_object();
        arr = json_array();
        if (j == NULL || arr == NULL) {
            json_decref(j);
            json_decref(arr);
            return 0;
        }
        json_object_set_new(j, "value", json_string(value));
        json_object_set_new(
                j, "kind", json_string(n < 0 ? "unrecognised" : tw_index_kind_name(kind)));
    } else if (n < 0) {
        fprintf(out, "%s: not an address, domain, URL, e-mail address or hash\n", value);
        return 0;
    } else if (n == 0) {
        fprintf(out, "%s (%s): no indicator\n", value, tw_index_kind_name(kind));
    } else {
        fprintf(out, "%s (%s): %ld indicator%s\n", value, tw_index_kind_name(kind), n,
                n == 1 ? "" : "s");
    }
    for (size_t i = 0; i < shown; i++) {
        const struct tw_indicator *ind = tw_index_get(idx, hits[i]);
        const char *match = (ind->flags & TW_IND_EXACT) ? "match" : "candidate";
        const char *tlp = ind->tlp == TW_TLP_NONE ? "unmarked" : tw_tlp_name((enum tw_tlp)ind->tlp);
        const char *state = states[tw_index_state(idx, hits[i], at)];
        char id[64];

        tw_index_id(idx, hits[i], id);
        if (json) {
            json_t *h = json_object();
            if (h == NULL)
                continue;
            json_object_set_new(h, "id", json_string(id));
            json_object_set_new(h, "name", json_string(tw_index_name(idx, hits[i])));
            json_object_set_new(h, "tlp", json_string(tlp));
            json_object_set_new(h, "validity", json_string(state));
            json_object_set_new(h, "match", json_string(match));
            json_array_append_new(arr, h);
        } else {
            fprintf(out, "  %-9s %s  %-16s %-13s %s\n", match, id, tlp, state,
                    tw_index_name(idx, hits[i]));
        }
    }
    if (json) {
        char *s;
        json_object_set_new(j, "indicators", arr);
        s = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
        if (s != NULL)
            fprintf(out, "%s\n", s);
        free(s);
        json_decref(j);
    } else if (n > 0 && (size_t)n > shown) {
        fprintf(out, "  ... and %zu more\n", (size_t)n - shown);
    }
    return n > 0 ? (size_t)n : 0;
}

static int intel_lookup(int argc, char **argv)
{
    static const struct option opts[] = { { "intel", required_argument, NULL, 'i' },
        { "json", no_argument, NULL, 'j' }, { "at", required_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch intel lookup";
    char **bundles = tw_calloc((size_t)argc + 1, sizeof(*bundles));
    int n_bundles = 0, c, status;
    int64_t at = tw_time_now().sec;
    bool json = false;
    size_t total = 0;
    struct tw_index *idx;

    if (bundles == NULL)
        return TW_EXIT_ERROR;
    while ((c = getopt_long(argc, argv, "i:jh", opts, NULL)) != -1) {
        switch (c) {
            case 'i':
                bundles[n_bundles++] = optarg;
                break;
            case 'j':
                json = true;
                break;
            case 'a':
                if (tw_intel_parse_at(optarg, &at) != TW_OK) {
                    tw_free(bundles);
                    return tw_cli_usage_error(prog, "bad --at '%s'", optarg);
                }
                break;
            case 'h':
                fputs(lookup_help, stdout);
                tw_free(bundles);
                return TW_EXIT_OK;
            default:
                tw_free(bundles);
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (n_bundles == 0 || optind >= argc) {
        tw_free(bundles);
        return tw_cli_usage_error(prog, n_bundles == 0 ? "no --intel bundle" : "no value");
    }
    idx = tw_intel_load_index(n_bundles, bundles, &status);
    tw_free(bundles);
    if (idx == NULL)
        return TW_EXIT_ERROR;
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            char line[8192];
            while (fgets(line, sizeof(line), stdin) != NULL) {
                line[strcspn(line, "\r\n")] = '\0';
                if (line[0] != '\0' && line[0] != '#')
                    total += tw_intel_lookup_print(idx, line, at, json, stdout);
            }
        } else {
            total += tw_intel_lookup_print(idx, argv[i], at, json, stdout);
        }
    }
    tw_index_free(idx);
    if (status == TW_EXIT_ERROR)
        return status;
    return total > 0 ? TW_EXIT_OK : TW_EXIT_FINDINGS;
}

/* ==== compile ==== */

static const char compile_help[] =
        "usage: tidewatch intel compile -o FILE [options] INPUT...\n"
        "\n"
        "Compiles the indicators of STIX bundles (and of other compiled files) into\n"
        "one compiled index file. 'tidewatch hunt --intel' and 'intel lookup -i'\n"
        "take it in place of the bundles and load it without parsing or validating\n"
        "JSON again: for large bundles, loading goes from seconds to milliseconds.\n"
        "Invalid objects and unindexable indicators are left out and reported, as\n"
        "when a hunt loads the bundles. The file is checksummed; tidewatch refuses\n"
        "a corrupt or foreign one. Compile again when the bundles change.\n"
        "\n"
        "options:\n"
        "  -o, --output FILE  the compiled file to write ('-' for standard output)\n"
        "  -q, --quiet        no summary line\n"
        "  -h, --help         this help\n"
        "\n"
        "exit status: 0 written, 1 an input was not a valid bundle (the rest was\n"
        "compiled), 2 usage, 3 an input unreadable or the file not written\n";

static int intel_compile(int argc, char **argv)
{
    static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch intel compile";
    const char *output = NULL;
    bool quiet = false;
    struct tw_index *idx;
    struct tw_buf out;
    struct tw_err err;
    int c, status;

    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
            case 'o':
                output = optarg;
                break;
            case 'q':
                quiet = true;
                break;
            case 'h':
                fputs(compile_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (output == NULL)
        return tw_cli_usage_error(prog, "no --output file");
    if (optind >= argc)
        return tw_cli_usage_error(prog, "no input file");
    idx = tw_intel_load_index_ex(argc - optind, argv + optind, true, &status);
    if (idx == NULL)
        return TW_EXIT_ERROR;
    tw_buf_init(&out, SIZE_MAX / 2);
    tw_err_clear(&err);
    if (tw_index_save(idx, &out) != TW_OK) {
        fprintf(stderr, "%s: cannot compile the index: out of memory\n", prog);
        status = TW_EXIT_ERROR;
    } else if (tw_cli_write_atomic(output, out.ptr, out.len, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
    } else if (!quiet) {
        fprintf(stderr, "%s: %zu indicators, %zu values, %zu bytes\n",
                strcmp(output, "-") == 0 ? "stdout" : output, tw_index_count(idx),
                tw_index_n_values(idx), out.len);
    }
    tw_buf_cleanup(&out);
    tw_index_free(idx);
    return status;
}

/* ==== The family ==== */

static const struct tw_cmd intel_cmds[] = {
    { "check", intel_check, "validate STIX 2.1 bundles against the specification" },
    { "stats", intel_stats, "count objects, TLP levels, indicator kinds and validity" },
    { "convert", intel_convert, "lists/CSV/Zeek to STIX; STIX to Zeek intel or Suricata datasets" },
    { "lookup", intel_lookup, "which indicators name this address, domain, URL or hash" },
    { "compile", intel_compile, "compile bundles into an index file that loads in milliseconds" },
    { "pull", tw_intel_pull, "pull a hub collection (TAXII 2.1) into a bundle or index" },
    { "push", tw_intel_push, "push a bundle into a hub collection and show the verdicts" },
};

int tw_cmd_intel(int argc, char **argv)
{
    return tw_cli_dispatch("tidewatch intel",
            "Validate, count, convert and search threat intelligence (STIX 2.1).", intel_cmds,
            TW_ARRAY_LEN(intel_cmds), argc, argv);
}
