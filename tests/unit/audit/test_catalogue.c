/*
 * test_catalogue.c: the shipped rule catalogue (the files of rules/) and the proof
 * that each of its rules works.
 *
 * The catalogue is loaded as the binary ships it (tw_ruleset_add_builtin_
 * catalogue) and checked for size and documentation. Then every fixture of
 * tests/fixtures/audit is audited: hardened/ holds one plausible, hardened
 * configuration per platform, rules/ one or more positive fixtures per rule
 * (RULE-ID[-n].PLATFORM.EXT, built from the platform's hardened
 * configuration plus the trigger) and the four synthetic compromised devices
 * of the reference brief. A fixture lists what it must raise in comment lines
 * at its top (the format is in tests/fixtures/audit/rules/README.md):
 *
 *   ! expect RULE LINE SEVERITY [OUTPUT]      a rule-evaluation finding
 *   ! expect-drift OWNER +|- LINE SEVERITY    a drift finding against the baseline
 *   ! baseline ../hardened/ios.cfg            the baseline for expect-drift
 *
 * and the findings must equal that list exactly (as a multiset of rule,
 * line and severity). Operational outputs sit beside a fixture as
 * FILE.<output>.txt (devconf.h). The tests also check that every rule with
 * checks or drift lines has a fixture named after it that expects it, that
 * the hardened configurations raise nothing above info, that no planted
 * secret of a fixture reaches a finding, that drift ownership gives the rule
 * the catalogue means, and, when the shared data is present, that the real
 * configurations keep their secrets and the verdicts of the catalogue review
 * (docs/internals/AUDIT.md).
 */
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>

#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"
#include "tidewatch/devconf.h"
#include "tw_test.h"

/* ==== Limits and types ==== */

#define CAT_MAX_FIXTURES 1024 /* fixture files in one directory */
#define CAT_MAX_EXPECT   256  /* expect lines of one fixture */
#define CAT_MAX_FOUND    512  /* findings of one fixture */
#define CAT_ID_MAX       64   /* a rule id */
#define CAT_PATH_MAX     1024 /* a path */
#define CAT_EVIDENCE_MAX 160  /* evidence kept for a diff */
#define CAT_MIN_RULES    60   /* rules that need the config or a baseline */

/* One expected or found finding. */
struct cat_item {
    char rule[CAT_ID_MAX]; /* the rule id; for drift, the owning rule (touches) */
    uint32_t line;
    int severity;
    char delta; /* 0, or '+' / '-' for drift */
    bool matched;
    char evidence[CAT_EVIDENCE_MAX]; /* found only: masked evidence for the diff */
};

/* The outcome of auditing one fixture. */
struct cat_run {
    struct cat_item expect[CAT_MAX_EXPECT];
    size_t n_expect;
    struct cat_item found[CAT_MAX_FOUND];
    size_t n_found;
    int max_severity;        /* of the rule-evaluation findings; -1 when none */
    size_t n_leaks;          /* finding texts that hold a planted secret */
    char leak[CAT_PATH_MAX]; /* the first of them */
    bool bad_drift_rule;     /* a drift finding not reported by the drift builtin */
    bool overflow;           /* more findings or expect lines than kept */
    char baseline[CAT_PATH_MAX];
    const struct tw_ruleset *rs;
    const char *const *needles; /* planted secrets (NULL-terminated) */
};

/* Secrets planted in the fixtures: passwords, keys and communities. */
static const char *const fixture_secrets[] = {
    "S3cr3t-plant",
    "s3cret",
    "0822455D0A16",
    "094F471A1A0A",
    NULL,
};

/* Secrets of the real configurations (Oxidized test data, already masked there). */
static const char *const real_secrets[] = {
    "AAAAAAAAAABBBBBBBBBB",
    "SECRET_OXIDIZED",
    "SECRET_ENABLE",
    "SECRET_REMOVED",
    "REMOVED_SECRET",
    "WLANSECR3T",
    "WLAN SECR3T",
    "DOT1XPASSW0RD",
    "DOT1X PASSW0RD",
    "MGMTPASSW0RD",
    "MGMT PASSW0RD",
    "MGMTSECR3T",
    "MGMT SECR3T",
    "7df35f90c92ecff2a803",
    "very-secret-encrypted-password",
    "CorrectHorseBattery",
    "FAKEHASHDATA",
    "ABCDEFGH1234",
    "community public",
    NULL,
};

/* ==== Helpers ==== */

static struct tw_ruleset *load_catalogue(void)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;

    memset(&err, 0, sizeof(err));
    assert_non_null(rs);
    if (tw_ruleset_add_builtin_catalogue(rs, &err) != TW_OK)
        fail_msg("the catalogue does not parse: %s (line %zu, column %zu)", err.msg, err.line,
                err.column);
    return rs;
}

static const char *fixture_root(const char *sub, char *buf, size_t cap)
{
    const char *src = getenv("TW_SOURCE_DIR");
    int n;

    assert_non_null(src);
    n = snprintf(buf, cap, "%s/tests/fixtures/audit/%s", src, sub);
    assert_true(n > 0 && (size_t)n < cap);
    return buf;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Lists the files of dir whose names end with one of the suffixes, sorted.
 * Returns the count; names[i] are tw_malloc'd (free with free_names).
 */
static size_t list_files(const char *dir, const char *const *suffixes, char **names)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        bool keep = false;
        for (size_t i = 0; suffixes[i] != NULL; i++)
            keep = keep || has_suffix(e->d_name, suffixes[i]);
        if (!keep)
            continue;
        assert_true(n < CAT_MAX_FIXTURES);
        names[n] = tw_malloc(strlen(e->d_name) + 1);
        assert_non_null(names[n]);
        memcpy(names[n], e->d_name, strlen(e->d_name) + 1);
        n++;
    }
    (void)closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tw_free(names[i]);
}

static const char *const config_suffixes[] = { ".cfg", ".conf", ".set", NULL };

/* The platform a fixture's name gives: NAME.PLATFORM.EXT, or PLATFORM.EXT in hardened/. */
static enum tw_platform fixture_platform(const char *name)
{
    const char *ext = strrchr(name, '.');
    const char *p = ext;
    enum tw_platform plat = TW_PLAT_UNKNOWN;

    assert_non_null(ext);
    while (p > name && p[-1] != '.')
        p--;
    if (tw_platform_parse(tw_str_make(p, (size_t)(ext - p)), &plat) != TW_OK)
        fail_msg("%s: no platform in the file name", name);
    return plat;
}

static void copy_str(char *dst, size_t cap, struct tw_str s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;

    if (n > 0)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static int parse_severity(const char *path, struct tw_str s)
{
    enum tw_severity sev = TW_SEV_INFO;

    if (tw_severity_parse(s, &sev) != TW_OK)
        fail_msg("%s: bad severity '%.*s' in an expect line", path, (int)s.len, s.ptr);
    return (int)sev;
}

static uint32_t parse_line_no(const char *path, struct tw_str s)
{
    uint64_t v = 0;

    if (tw_parse_u64(s, UINT32_MAX, &v) != TW_OK)
        fail_msg("%s: bad line number '%.*s' in an expect line", path, (int)s.len, s.ptr);
    return (uint32_t)v;
}

/* Reads the expect, expect-drift and baseline lines of a fixture. */
static void read_expectations(const char *path, const char *text, size_t len, struct cat_run *r)
{
    struct tw_str rest = tw_str_make(text, len), line;

    while (tw_str_next_line(&rest, &line)) {
        struct tw_str tok[6];
        size_t n = 0;
        struct cat_item *it;

        memset(tok, 0, sizeof(tok));

        if (line.len < 2 || (line.ptr[0] != '!' && line.ptr[0] != '#') || line.ptr[1] != ' ')
            continue;
        line = tw_str_make(line.ptr + 2, line.len - 2);
        while (n < 6) {
            struct tw_str t;
            if (!tw_str_split(&line, ' ', &t))
                break;
            if (t.len > 0)
                tok[n++] = t;
        }
        if (n == 0)
            continue;
        if (tw_str_eq_cstr(tok[0], "baseline") && n >= 2) {
            char dir[CAT_PATH_MAX];
            const char *slash = strrchr(path, '/');
            assert_non_null(slash);
            copy_str(dir, sizeof(dir), tw_str_make(path, (size_t)(slash - path)));
            assert_true((size_t)snprintf(r->baseline, sizeof(r->baseline), "%s/%.*s", dir,
                                (int)tok[1].len, tok[1].ptr) < sizeof(r->baseline));
            continue;
        }
        if (!tw_str_eq_cstr(tok[0], "expect") && !tw_str_eq_cstr(tok[0], "expect-drift"))
            continue;
        if (r->n_expect == CAT_MAX_EXPECT) {
            r->overflow = true;
            continue;
        }
        it = &r->expect[r->n_expect++];
        memset(it, 0, sizeof(*it));
        if (tw_str_eq_cstr(tok[0], "expect")) {
            if (n < 4) {
                fail_msg("%s: expect needs RULE LINE SEVERITY", path);
                return;
            }
            copy_str(it->rule, sizeof(it->rule), tok[1]);
            it->line = parse_line_no(path, tok[2]);
            it->severity = parse_severity(path, tok[3]);
        } else {
            if (n < 5 || tok[2].len != 1 || (tok[2].ptr[0] != '+' && tok[2].ptr[0] != '-')) {
                fail_msg("%s: expect-drift needs OWNER +|- LINE SEVERITY", path);
                return;
            }
            copy_str(it->rule, sizeof(it->rule), tok[1]);
            it->delta = tok[2].ptr[0];
            it->line = parse_line_no(path, tok[3]);
            it->severity = parse_severity(path, tok[4]);
        }
    }
}

static void note_leak(struct cat_run *r, const char *what, const char *text)
{
    for (size_t i = 0; r->needles[i] != NULL; i++) {
        if (strstr(text, r->needles[i]) == NULL)
            continue;
        if (r->n_leaks++ == 0)
            (void)snprintf(r->leak, sizeof(r->leak), "%s holds '%s'", what, r->needles[i]);
    }
}

/* A tw_finding_fn: keeps the finding and looks for planted secrets in its texts. */
static int collect(void *ctx, const struct tw_finding *f)
{
    struct cat_run *r = ctx;
    struct cat_item *it;

    note_leak(r, "evidence", f->evidence);
    note_leak(r, "context", f->context);
    note_leak(r, "message", f->message);
    note_leak(r, "device", f->device);
    note_leak(r, "ref", f->ref);
    if (f->delta != 0) {
        const struct tw_rule_info *ri = tw_ruleset_rule(r->rs, f->rule);
        r->bad_drift_rule = r->bad_drift_rule || ri == NULL || ri->builtin != TW_BUILTIN_DRIFT;
    } else if ((int)f->severity > r->max_severity) {
        r->max_severity = (int)f->severity;
    }
    if (r->n_found == CAT_MAX_FOUND) {
        r->overflow = true;
        return 0;
    }
    it = &r->found[r->n_found++];
    memset(it, 0, sizeof(*it));
    (void)snprintf(it->rule, sizeof(it->rule), "%s", f->delta != 0 ? f->touches : f->rule_id);
    it->line = f->line;
    it->severity = (int)f->severity;
    it->delta = f->delta;
    (void)snprintf(it->evidence, sizeof(it->evidence), "%s", f->evidence);
    return 0;
}

static struct tw_devconf *parse_file(const char *path, enum tw_platform plat)
{
    size_t len = 0;
    char *text = tw_test_slurp(path, &len);
    struct tw_devconf *d = NULL;
    struct tw_err err;

    memset(&err, 0, sizeof(err));
    if (tw_devconf_parse(text, len, path, plat, &d, &err) != TW_OK)
        fail_msg("%s: does not parse: %s", path, err.msg);
    tw_free(text);
    return d;
}

/* Adds the FILE.<output>.txt files that sit beside the fixture at path. */
static void add_outputs(struct tw_devconf *d, const char *path)
{
    const char *ext = strrchr(path, '.');

    for (int k = 0; k < (int)TW_OP_COUNT; k++) {
        char out[CAT_PATH_MAX];
        struct stat st;
        size_t len = 0;
        char *text;
        struct tw_err err;

        assert_true((size_t)snprintf(out, sizeof(out), "%.*s.%s.txt", (int)(ext - path), path,
                            tw_opout_name((enum tw_opout)k)) < sizeof(out));
        if (stat(out, &st) != 0)
            continue;
        text = tw_test_slurp(out, &len);
        memset(&err, 0, sizeof(err));
        if (tw_devconf_add_output(d, (enum tw_opout)k, text, len, &err) != TW_OK)
            fail_msg("%s: output not accepted: %s", out, err.msg);
        tw_free(text);
    }
}

/* Audits the fixture at path: expectations, findings (and drift against its baseline). */
static struct cat_run *run_fixture(const struct tw_ruleset *rs, const char *path,
        enum tw_platform plat, const char *const *needles)
{
    struct cat_run *r = tw_calloc(1, sizeof(*r));
    size_t len = 0;
    char *text = tw_test_slurp(path, &len);
    struct tw_devconf *d;
    struct tw_rule_stats stats;

    assert_non_null(r);
    r->rs = rs;
    r->needles = needles;
    r->max_severity = -1;
    read_expectations(path, text, len, r);
    tw_free(text);
    d = parse_file(path, plat);
    add_outputs(d, path);
    memset(&stats, 0, sizeof(stats));
    assert_int_equal(tw_ruleset_eval(rs, d, collect, r, &stats), TW_OK);
    if (r->baseline[0] != '\0') {
        struct tw_devconf *b = parse_file(r->baseline, plat);
        uint64_t n_changes = 0;
        assert_int_equal(tw_audit_drift(rs, d, b, collect, r, &n_changes), TW_OK);
        tw_devconf_free(b);
    }
    tw_devconf_free(d);
    return r;
}

static bool same(const struct cat_item *a, const struct cat_item *b)
{
    return a->line == b->line && a->severity == b->severity && a->delta == b->delta &&
           strcmp(a->rule, b->rule) == 0;
}

/* Matches found against expected; prints a diff and returns false when they differ. */
static bool compare(const char *name, struct cat_run *r)
{
    size_t missing = 0, extra = 0;

    for (size_t i = 0; i < r->n_expect; i++) {
        for (size_t j = 0; j < r->n_found && !r->expect[i].matched; j++) {
            if (!r->found[j].matched && same(&r->expect[i], &r->found[j])) {
                r->expect[i].matched = true;
                r->found[j].matched = true;
            }
        }
    }
    for (size_t i = 0; i < r->n_expect; i++)
        missing += !r->expect[i].matched;
    for (size_t j = 0; j < r->n_found; j++)
        extra += !r->found[j].matched;
    if (missing == 0 && extra == 0 && !r->overflow && !r->bad_drift_rule)
        return true;
    print_message(
            "FIXTURE %s: %zu expected finding(s) missing, %zu unexpected\n", name, missing, extra);
    for (size_t i = 0; i < r->n_expect; i++) {
        const struct cat_item *e = &r->expect[i];
        if (!e->matched)
            print_message("  - missing     %s%s%c line %u %s\n", e->delta ? "drift " : "", e->rule,
                    e->delta ? e->delta : ' ', e->line,
                    tw_severity_name((enum tw_severity)e->severity));
    }
    for (size_t j = 0; j < r->n_found; j++) {
        const struct cat_item *f = &r->found[j];
        if (!f->matched)
            print_message("  + unexpected  %s%s%c line %u %s  [%s]\n", f->delta ? "drift " : "",
                    f->rule, f->delta ? f->delta : ' ', f->line,
                    tw_severity_name((enum tw_severity)f->severity), f->evidence);
    }
    if (r->overflow)
        print_message(
                "  more than %d findings or %d expect lines\n", CAT_MAX_FOUND, CAT_MAX_EXPECT);
    if (r->bad_drift_rule)
        print_message("  a drift finding was not reported by the drift builtin rule\n");
    return false;
}

/* The rule a fixture name is about (RULE-ID or RULE-ID-n), or -1. */
static long fixture_subject(const struct tw_ruleset *rs, const char *name)
{
    char id[CAT_ID_MAX];
    const char *dot = strchr(name, '.');
    size_t n;
    long i;

    if (dot == NULL || (size_t)(dot - name) >= sizeof(id))
        return -1;
    n = (size_t)(dot - name);
    memcpy(id, name, n);
    id[n] = '\0';
    i = tw_ruleset_find(rs, id);
    if (i < 0) {
        char *dash = strrchr(id, '-');
        if (dash != NULL && dash[1] >= '0' && dash[1] <= '9' && dash[2] == '\0') {
            *dash = '\0';
            i = tw_ruleset_find(rs, id);
        }
    }
    return i;
}

/* ==== Catalogue ==== */

static void catalogue_has_enough_config_rules(void **state)
{
    struct tw_ruleset *rs = load_catalogue();
    size_t n_cb = 0;

    (void)state;
    for (size_t i = 0; i < tw_ruleset_count(rs); i++) {
        const struct tw_rule_info *ri = tw_ruleset_rule(rs, i);
        n_cb += (ri->needs & (TW_NEEDS_CONFIG | TW_NEEDS_BASELINE)) != 0;
    }
    print_message("catalogue: %zu rules, %zu need the configuration or a baseline\n",
            tw_ruleset_count(rs), n_cb);
    assert_true(n_cb >= CAT_MIN_RULES);
    tw_ruleset_free(rs);
}

static void catalogue_rules_are_documented(void **state)
{
    struct tw_ruleset *rs = load_catalogue();
    size_t bad = 0;

    (void)state;
    for (size_t i = 0; i < tw_ruleset_count(rs); i++) {
        const struct tw_rule_info *ri = tw_ruleset_rule(rs, i);
        const char *id = ri->id;
        bool ok = strlen(id) == 10 && strncmp(id, "AUD-", 4) == 0 && id[7] == '-' &&
                  ri->title[0] != '\0' && ri->source[0] != '\0' && ri->rationale[0] != '\0' &&
                  ri->remediation[0] != '\0' && (unsigned)ri->severity < TW_SEV_COUNT &&
                  ri->needs != 0 && ri->platforms != 0 && strlen(ri->rationale) >= 40 &&
                  strlen(ri->remediation) >= 20;
        if (!ok) {
            print_message("rule %s lacks an id of the form AUD-XXX-NN, a title, source, "
                          "rationale, remediation, needs or platforms\n",
                    id);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    tw_ruleset_free(rs);
}

static void catalogue_builtins_are_the_expected_ones(void **state)
{
    static const struct {
        const char *id;
        enum tw_builtin b;
    } want[] = {
        { "AUD-ACL-01", TW_BUILTIN_IOC_ADDRESSES },
        { "AUD-VER-01", TW_BUILTIN_CVE },
        { "AUD-VER-02", TW_BUILTIN_CVE },
        { "AUD-VER-03", TW_BUILTIN_CVE },
        { "AUD-VER-08", TW_BUILTIN_VERSION_UNKNOWN },
        { "AUD-DRF-01", TW_BUILTIN_DRIFT },
    };
    struct tw_ruleset *rs = load_catalogue();
    size_t n_builtin = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        long k = tw_ruleset_find(rs, want[i].id);
        assert_true(k >= 0);
        assert_int_equal(tw_ruleset_rule(rs, (size_t)k)->builtin, want[i].b);
        assert_int_equal(tw_ruleset_rule(rs, (size_t)k)->n_checks, 0);
    }
    for (size_t i = 0; i < tw_ruleset_count(rs); i++)
        n_builtin += tw_ruleset_rule(rs, i)->builtin != TW_BUILTIN_NONE;
    assert_int_equal(n_builtin, sizeof(want) / sizeof(want[0]));
    tw_ruleset_free(rs);
}

/* ==== Fixtures ==== */

/* Runs every fixture of sub; returns how many failed their expectations. */
static size_t run_dir(const struct tw_ruleset *rs, const char *sub, size_t *n_files,
        size_t *n_leaks, int *max_severity)
{
    char dir[CAT_PATH_MAX];
    char **names = tw_calloc(CAT_MAX_FIXTURES, sizeof(*names));
    size_t n, failed = 0;

    assert_non_null(names);
    fixture_root(sub, dir, sizeof(dir));
    n = list_files(dir, config_suffixes, names);
    for (size_t i = 0; i < n; i++) {
        char path[CAT_PATH_MAX];
        struct cat_run *r;

        assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path));
        r = run_fixture(rs, path, fixture_platform(names[i]), fixture_secrets);
        failed += !compare(names[i], r);
        if (r->n_leaks > 0)
            print_message("FIXTURE %s: a finding's %s\n", names[i], r->leak);
        *n_leaks += r->n_leaks;
        if (r->max_severity > *max_severity) {
            *max_severity = r->max_severity;
            if (strcmp(sub, "hardened") == 0 && r->max_severity > (int)TW_SEV_INFO)
                print_message("HARDENED %s raises %s findings\n", names[i],
                        tw_severity_name((enum tw_severity)r->max_severity));
        }
        tw_free(r);
    }
    *n_files = n;
    free_names(names, n);
    tw_free(names);
    return failed;
}

static void fixtures_raise_exactly_their_expectations(void **state)
{
    struct tw_ruleset *rs = load_catalogue();
    size_t n_hard = 0, n_rules = 0, leaks = 0, failed;
    int max_sev = -1;

    (void)state;
    failed = run_dir(rs, "hardened", &n_hard, &leaks, &max_sev);
    failed += run_dir(rs, "rules", &n_rules, &leaks, &max_sev);
    print_message(
            "fixtures: %zu hardened, %zu rule fixtures, %zu failed\n", n_hard, n_rules, failed);
    assert_true(n_hard >= 6);
    assert_true(n_rules >= 100);
    assert_int_equal(failed, 0);
    tw_ruleset_free(rs);
}

static void hardened_configs_raise_nothing_above_info(void **state)
{
    struct tw_ruleset *rs = load_catalogue();
    size_t n = 0, leaks = 0;
    int max_sev = -1;

    (void)state;
    (void)run_dir(rs, "hardened", &n, &leaks, &max_sev);
    assert_true(n >= 6);
    assert_true(max_sev <= (int)TW_SEV_INFO);
    tw_ruleset_free(rs);
}

static void findings_never_show_planted_secrets(void **state)
{
    struct tw_ruleset *rs = load_catalogue();
    size_t n_hard = 0, n_rules = 0, leaks = 0;
    int max_sev = -1;

    (void)state;
    (void)run_dir(rs, "hardened", &n_hard, &leaks, &max_sev);
    (void)run_dir(rs, "rules", &n_rules, &leaks, &max_sev);
    assert_int_equal(leaks, 0);
    tw_ruleset_free(rs);
}

/* True when the fixture at path expects rule id (a finding or a drift owner). */
static bool fixture_expects(const char *path, const char *id)
{
    size_t len = 0;
    char *text = tw_test_slurp(path, &len);
    struct cat_run *r = tw_calloc(1, sizeof(*r));
    bool found = false;

    assert_non_null(r);
    read_expectations(path, text, len, r);
    for (size_t i = 0; i < r->n_expect && !found; i++)
        found = strcmp(r->expect[i].rule, id) == 0;
    tw_free(r);
    tw_free(text);
    return found;
}

static void fixtures_cover_every_rule(void **state)
{
    struct tw_ruleset *rs = load_catalogue();
    char dir[CAT_PATH_MAX];
    char **names = tw_calloc(CAT_MAX_FIXTURES, sizeof(*names));
    size_t n, uncovered = 0;
    bool *covered = tw_calloc(tw_ruleset_count(rs) + 1, sizeof(*covered));

    (void)state;
    assert_non_null(names);
    assert_non_null(covered);
    fixture_root("rules", dir, sizeof(dir));
    n = list_files(dir, config_suffixes, names);
    for (size_t i = 0; i < n; i++) {
        long k = fixture_subject(rs, names[i]);
        char path[CAT_PATH_MAX];

        if (k < 0)
            continue;
        assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path));
        if (fixture_expects(path, tw_ruleset_rule(rs, (size_t)k)->id))
            covered[k] = true;
        else
            print_message("FIXTURE %s is named after %s but does not expect it\n", names[i],
                    tw_ruleset_rule(rs, (size_t)k)->id);
    }
    for (size_t i = 0; i < tw_ruleset_count(rs); i++) {
        const struct tw_rule_info *ri = tw_ruleset_rule(rs, i);
        if (ri->builtin == TW_BUILTIN_NONE && !covered[i]) {
            print_message(
                    "rule %s has no positive fixture in tests/fixtures/audit/rules\n", ri->id);
            uncovered++;
        }
    }
    assert_int_equal(uncovered, 0);
    free_names(names, n);
    tw_free(names);
    tw_free(covered);
    tw_ruleset_free(rs);
}

/* Parses every fixture of sub without naming its platform; returns the mismatches. */
static size_t detect_dir(const char *sub, size_t *n_files)
{
    char dir[CAT_PATH_MAX];
    char **names = tw_calloc(CAT_MAX_FIXTURES, sizeof(*names));
    size_t n, bad = 0;

    assert_non_null(names);
    fixture_root(sub, dir, sizeof(dir));
    n = list_files(dir, config_suffixes, names);
    for (size_t i = 0; i < n; i++) {
        char path[CAT_PATH_MAX];
        struct tw_devconf *d;

        assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path));
        d = parse_file(path, TW_PLAT_UNKNOWN);
        if (d->platform != fixture_platform(names[i])) {
            print_message(
                    "FIXTURE %s is detected as %s\n", names[i], tw_platform_name(d->platform));
            bad++;
        }
        tw_devconf_free(d);
    }
    *n_files = n;
    free_names(names, n);
    tw_free(names);
    return bad;
}

/* The command line detects platforms: every fixture must be detected as it is named. */
static void fixtures_are_detected_as_named(void **state)
{
    size_t n_hard = 0, n_rules = 0, bad;

    (void)state;
    bad = detect_dir("hardened", &n_hard);
    bad += detect_dir("rules", &n_rules);
    assert_true(n_hard + n_rules > 0);
    assert_int_equal(bad, 0);
}

/* ==== Drift ownership ==== */

static void drift_owners_are_the_rules_meant(void **state)
{
    static const struct {
        enum tw_platform p;
        const char *stmt;
        const char *owner; /* NULL: no rule owns it */
    } cases[] = {
        { TW_PLAT_IOS, "access-list 20 permit 203.0.113.77", "AUD-ACL-02" },
        { TW_PLAT_IOS, "ip access-list standard 50", "AUD-ACL-02" },
        { TW_PLAT_IOS, "access-list 110 permit ip any any", "AUD-ACL-03" },
        { TW_PLAT_IOS, "ip access-list extended VTY-IN", "AUD-ACL-03" },
        { TW_PLAT_IOS, "tacacs server TAC-1", "AUD-AAA-06" },
        { TW_PLAT_IOS, "aaa group server tacacs+ TACACS-MGMT", "AUD-AAA-06" },
        { TW_PLAT_IOS, "username ops privilege 15 secret 9 $9$x", "AUD-AAA-04" },
        { TW_PLAT_IOS, "ip ssh pubkey-chain", "AUD-AAA-09" },
        { TW_PLAT_IOS, "ip ssh source-interface Loopback0", "AUD-AAA-07" },
        { TW_PLAT_IOS, "ip ssh port 2222 rotary 1", "AUD-MGT-07" },
        { TW_PLAT_IOS, "snmp-server community x RO 10", "AUD-CRY-09" },
        { TW_PLAT_IOS, "snmp-server host 10.0.0.1 version 3 priv u", "AUD-LOG-08" },
        { TW_PLAT_IOS, "logging host 10.0.0.2", "AUD-LOG-02" },
        { TW_PLAT_IOS, "interface Tunnel99", "AUD-TUN-01" },
        { TW_PLAT_IOS, "crypto isakmp key 6 x address 203.0.113.50", "AUD-TUN-02" },
        { TW_PLAT_IOS, "ip route 0.0.0.0 0.0.0.0 192.0.2.1", "AUD-TUN-03" },
        { TW_PLAT_IOS, "monitor session 1 type erspan-source", "AUD-TUN-04" },
        { TW_PLAT_IOS, "interface Loopback0", "AUD-TUN-06" },
        { TW_PLAT_IOS, "event manager applet X", "AUD-SVC-07" },
        { TW_PLAT_IOS, "line vty 0 4", "AUD-MGT-01" },
        { TW_PLAT_IOS, "aaa authorization exec default group T local", "AUD-DRF-01" },
        { TW_PLAT_IOS, "hostname R1", NULL },
        { TW_PLAT_IOS, "interface GigabitEthernet0/1", NULL },
        { TW_PLAT_IOSXE, "app-hosting appid guestshell", "AUD-MGT-09" },
        { TW_PLAT_IOSXE, "monitor capture TAC match ipv4 any any", "AUD-TUN-05" },
        { TW_PLAT_NXOS, "feature telnet", "AUD-MGT-01" },
        { TW_PLAT_NXOS, "feature bash-shell", "AUD-MGT-10" },
        { TW_PLAT_NXOS, "username admin sshkey ssh-rsa AAAA", "AUD-AAA-09" },
        { TW_PLAT_NXOS, "username ops password 5 $5$x role network-admin", "AUD-AAA-04" },
        { TW_PLAT_NXOS, "feature interface-vlan", "AUD-DRF-01" },
        { TW_PLAT_IOSXR, "interface tunnel-ip1", "AUD-TUN-01" },
        { TW_PLAT_IOSXR, "monitor-session CAP ethernet", "AUD-TUN-04" },
        { TW_PLAT_IOSXR, "router static", "AUD-TUN-03" },
        { TW_PLAT_JUNOS, "system login user ops class super-user", "AUD-AAA-04" },
        { TW_PLAT_JUNOS, "system login user ops authentication ssh-rsa \"ssh-rsa AAAA\"",
                "AUD-AAA-09" },
        { TW_PLAT_JUNOS, "system syslog host 10.0.0.2 any notice", "AUD-LOG-02" },
        { TW_PLAT_JUNOS, "interfaces gr-0/0/0 unit 0 tunnel destination 203.0.113.50",
                "AUD-TUN-01" },
        { TW_PLAT_JUNOS, "system services telnet", "AUD-MGT-01" },
        { TW_PLAT_JUNOS, "interfaces ge-0/0/1 unit 0 family inet address 10.0.0.1/30", NULL },
        { TW_PLAT_ASA, "username ops password x pbkdf2 privilege 15", "AUD-AAA-04" },
        { TW_PLAT_ASA, "access-list OUTSIDE extended permit ip any any", "AUD-DRF-01" },
    };
    struct tw_ruleset *rs = load_catalogue();
    size_t bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long k = tw_ruleset_drift_owner(rs, cases[i].p, cases[i].stmt, strlen(cases[i].stmt));
        const char *got = k >= 0 ? tw_ruleset_rule(rs, (size_t)k)->id : NULL;
        bool ok = got == NULL ? cases[i].owner == NULL
                              : cases[i].owner != NULL && strcmp(got, cases[i].owner) == 0;
        if (!ok) {
            print_message("%s '%s': owner %s, want %s\n", tw_platform_name(cases[i].p),
                    cases[i].stmt, got ? got : "none", cases[i].owner ? cases[i].owner : "none");
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    tw_ruleset_free(rs);
}

/* ==== Real configurations ==== */

/* A verdict of the catalogue review of the real configurations. */
struct cat_verdict {
    const char *file;
    const char *rule;
    long line; /* the finding's line, or -1: the rule must not fire on this file */
    const char *why;
};

static const struct cat_verdict verdicts[] = {
    { "ios_C9800-L-F-K9_17.06.05.txt", "AUD-AAA-01", -1,
            "AAA commands in the excerpt imply aaa new-model" },
    { "ios_C9200L-24P-4G_17.09.04a.txt", "AUD-MGT-08", -1,
            "IOS XE 17 disables the Smart Install client by default" },
    { "nxos_N5548_7.3.13.txt", "AUD-ACL-05", -1, "the Nexus 5500 has no copp profile command" },
    { "junos_srx300_22.4.txt", "AUD-CRY-16", -1, "Junos 22.4 denies root password logins" },
    { "ios_C9200L-24P-4G_17.09.04a.txt", "AUD-CRY-09", 181, "community RW" },
    { "ios_C9200L-24P-4G_17.09.04a.txt", "AUD-CRY-10", 181, "default community" },
    { "ios_C9800-L-F-K9_17.06.05.txt", "AUD-CRY-05", 151, "WLAN PSK in clear text" },
    { "ios_C9800-L-F-K9_17.06.05.txt", "AUD-MGT-04", 133, "ip http server" },
    { "ios_asr920_16.8.1b.txt", "AUD-CRY-01", 0, "16.8 without ip ssh version 2" },
    { "ios_asr920_16.8.1b.txt", "AUD-MGT-03", 501, "line vty 0 4 without access-class" },
    { "junos_srx300_22.4.txt", "AUD-SVC-05", 73, "pasvftp archive site" },
    { "junos_srx300_22.4.txt", "AUD-SVC-05", 74, "ftp archive site" },
    { "nxos_C93180YC-FX3J_10.4.5.txt", "AUD-CRY-12", 84, "SNMPv3 user with MD5" },
    { "asa_5512_9.12-4-67_single-context.txt", "AUD-CRY-04", 90, "passwd with the MD5 hash" },
};

static void real_configs_keep_secrets_and_verdicts(void **state)
{
    static const char *const txt[] = { ".txt", NULL };
    const char *shared = tw_test_shared("configs");
    char dir[CAT_PATH_MAX];
    char **names;
    struct tw_ruleset *rs;
    size_t n, leaks = 0, bad = 0, n_cfg = 0;

    (void)state;
    if (shared == NULL) {
        skip();
        return;
    }
    assert_true((size_t)snprintf(dir, sizeof(dir), "%s", shared) < sizeof(dir));
    names = tw_calloc(CAT_MAX_FIXTURES, sizeof(*names));
    assert_non_null(names);
    rs = load_catalogue();
    n = list_files(dir, txt, names);
    for (size_t i = 0; i < n; i++) {
        char path[CAT_PATH_MAX];
        struct cat_run *r;

        if (strncmp(names[i], "LICENSE", 7) == 0)
            continue;
        assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path));
        r = run_fixture(rs, path, TW_PLAT_UNKNOWN, real_secrets);
        n_cfg++;
        if (r->n_leaks > 0)
            print_message("REAL %s: a finding's %s\n", names[i], r->leak);
        leaks += r->n_leaks;
        for (size_t v = 0; v < sizeof(verdicts) / sizeof(verdicts[0]); v++) {
            bool hit = false;
            if (strcmp(verdicts[v].file, names[i]) != 0)
                continue;
            for (size_t j = 0; j < r->n_found && !hit; j++)
                hit = strcmp(r->found[j].rule, verdicts[v].rule) == 0 &&
                      (verdicts[v].line < 0 || r->found[j].line == (uint32_t)verdicts[v].line);
            if (hit != (verdicts[v].line >= 0)) {
                print_message("REAL %s: %s %s line %ld (%s)\n", names[i], verdicts[v].rule,
                        hit ? "fires, but the review says it must not" : "does not fire at",
                        verdicts[v].line, verdicts[v].why);
                bad++;
            }
        }
        tw_free(r);
    }
    assert_true(n_cfg >= 8);
    assert_int_equal(leaks, 0);
    assert_int_equal(bad, 0);
    free_names(names, n);
    tw_free(names);
    tw_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalogue_has_enough_config_rules),
        cmocka_unit_test(catalogue_rules_are_documented),
        cmocka_unit_test(catalogue_builtins_are_the_expected_ones),
        cmocka_unit_test(fixtures_raise_exactly_their_expectations),
        cmocka_unit_test(hardened_configs_raise_nothing_above_info),
        cmocka_unit_test(findings_never_show_planted_secrets),
        cmocka_unit_test(fixtures_cover_every_rule),
        cmocka_unit_test(fixtures_are_detected_as_named),
        cmocka_unit_test(drift_owners_are_the_rules_meant),
        cmocka_unit_test(real_configs_keep_secrets_and_verdicts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
