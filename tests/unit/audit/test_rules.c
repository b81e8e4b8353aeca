/*
 * test_rules.c: the rule language (docs/audit-rules.md) and its evaluation.
 *
 * Parsing: every statement, every grammar error with its file, line and
 * column, limits, all-or-nothing files and replacement of a rule by a later
 * file. Evaluation: anchors, contexts, filters and captures, `$N`
 * substitution (captures match literally), operational outputs, severity
 * overrides, deduplication, drift ownership, the regex match limit, masking
 * of evidence, allocation failures, and the differential oracle that an
 * evaluation with the prefix index gives the same findings as one without
 * (on small trees and on the real configurations of the shared data).
 * Small trees are built by a helper (one space of indentation per level, as
 * IOS writes them); real snippets go through tw_devconf_parse.
 */
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <pthread.h>

#include "rules_int.h"
#include "tidewatch/alloc.h"
#include "tw_test.h"

/* ==== Helpers ==== */

#define FAKE_NODES 512

/* A device tree built by hand: one space of indentation per level. */
struct fake {
    struct tw_devconf d;
    struct tw_cfg_node nodes[FAKE_NODES];
    char pool[1 << 16]; /* the statements' texts */
    size_t used;
    size_t n;
};

/* Adds lines under root; flat: every line is a top-level statement (an output). */
static void fake_lines(struct fake *f, struct tw_cfg_node *root, const char *lines, bool flat)
{
    struct tw_cfg_node *last[TW_CFG_MAX_DEPTH + 1] = { 0 };
    struct tw_cfg_node *tail_root = NULL;
    const char *p = lines;
    uint32_t line = 0;

    while (*p != '\0') {
        const char *e = strchr(p, '\n');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p), depth = 0;
        struct tw_cfg_node *n;
        line++;
        while (depth < len && p[depth] == ' ')
            depth++;
        if (len > depth) {
            char *t = f->pool + f->used;
            assert_true(f->n < FAKE_NODES);
            assert_true(len - depth < sizeof(f->pool) - f->used);
            memcpy(t, p + depth, len - depth);
            t[len - depth] = '\0';
            f->used += len - depth + 1;
            n = &f->nodes[f->n++];
            n->text = t;
            n->len = (uint32_t)(len - depth);
            n->line = line;
            if (flat)
                depth = 0;
            n->depth = (uint16_t)depth;
            if (depth == 0) {
                n->parent = root;
                if (tail_root == NULL)
                    root->child = n;
                else
                    tail_root->next = n;
                tail_root = n;
            } else {
                struct tw_cfg_node *parent = last[depth - 1], *c;
                assert_non_null(parent);
                n->parent = parent;
                if (parent->child == NULL) {
                    parent->child = n;
                } else {
                    for (c = parent->child; c->next != NULL; c = c->next)
                        ;
                    c->next = n;
                }
            }
            last[depth] = n;
            for (size_t k = depth + 1; k <= TW_CFG_MAX_DEPTH; k++)
                last[k] = NULL;
        }
        p = e != NULL ? e + 1 : p + len;
    }
}

static struct fake *fake_new(enum tw_platform plat, const char *hostname, const char *lines)
{
    struct fake *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->d.path = "dev.cfg";
    f->d.name = hostname[0] != '\0' ? hostname : "dev";
    f->d.hostname = hostname;
    f->d.platform = plat;
    f->d.version = f->d.version_from = f->d.train = f->d.model = f->d.last_change_by = "";
    fake_lines(f, &f->d.root, lines, false);
    f->d.n_nodes = (uint32_t)f->n;
    return f;
}

static void fake_output(struct fake *f, enum tw_opout k, const char *lines)
{
    fake_lines(f, &f->d.op[k], lines, true);
    f->d.op_present[k] = true;
}

#define GOT_MAX 512

struct got_finding {
    char rule[64];
    enum tw_severity sev;
    unsigned line;
    char evidence[256];
    char context[256];
    char message[128];
    char file[64];
    char device[64];
    bool implicit;
};

struct got {
    size_t n;
    int stop_after; /* return 7 after this many findings, or 0 */
    struct got_finding f[GOT_MAX];
};

static int collect(void *ctx, const struct tw_finding *f)
{
    struct got *g = ctx;
    struct got_finding *x;

    assert_true(g->n < GOT_MAX);
    assert_non_null(f->rule_id);
    assert_non_null(f->title);
    assert_non_null(f->touches);
    assert_non_null(f->ref);
    assert_int_equal(f->delta, 0);
    x = &g->f[g->n++];
    (void)snprintf(x->rule, sizeof(x->rule), "%s", f->rule_id);
    (void)snprintf(x->evidence, sizeof(x->evidence), "%s", f->evidence);
    (void)snprintf(x->context, sizeof(x->context), "%s", f->context);
    (void)snprintf(x->message, sizeof(x->message), "%s", f->message);
    (void)snprintf(x->file, sizeof(x->file), "%s", f->file);
    (void)snprintf(x->device, sizeof(x->device), "%s", f->device);
    x->sev = f->severity;
    x->line = f->line;
    x->implicit = f->implicit;
    if (g->stop_after > 0 && g->n == (size_t)g->stop_after)
        return 7;
    return 0;
}

static struct tw_ruleset *parse_ok(const char *text)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;
    int rc;

    assert_non_null(rs);
    rc = tw_ruleset_parse(rs, text, strlen(text), "t.rules", &err);
    if (rc != TW_OK)
        print_error("unexpected parse error: %s\n", err.msg);
    assert_int_equal(rc, TW_OK);
    return rs;
}

/* Parses text expecting an error: code, message start, line and column. */
static void parse_err(const char *text, int code, const char *msg, size_t line, size_t col)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;
    int rc;

    assert_non_null(rs);
    rc = tw_ruleset_parse(rs, text, strlen(text), "t.rules", &err);
    if (rc != code || strncmp(err.msg, msg, strlen(msg)) != 0)
        print_error("got %d '%s', want %d '%s'\n", rc, err.msg, code, msg);
    assert_int_equal(rc, code);
    assert_int_equal(err.code, code);
    assert_true(strncmp(err.msg, msg, strlen(msg)) == 0);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, col);
    assert_int_equal(tw_ruleset_count(rs), 0);
    tw_ruleset_free(rs);
}

static int parse_s(struct tw_ruleset *rs, const char *text, const char *path, struct tw_err *err)
{
    return tw_ruleset_parse(rs, text, strlen(text), path, err);
}

static void eval_ok(const struct tw_ruleset *rs, const struct tw_devconf *d, struct got *g,
        struct tw_rule_stats *st)
{
    memset(g, 0, sizeof(*g));
    memset(st, 0, sizeof(*st));
    assert_int_equal(tw_ruleset_eval(rs, d, collect, g, st), TW_OK);
    assert_int_equal(st->findings, g->n);
}

/* A rule with one check around the given check lines. */
#define RULE(id, sev, checks)                                                                      \
    "rule " id "\n    title \"t " id "\"\n    severity " sev "\n" checks "end\n"

/* ==== Parsing ==== */

static void rules_parse_full_rule(void **state)
{
    static const char text[] = "# A comment line.\n"
                               "\n"
                               "rule AUD-MGT-01   # trailing comment\n"
                               "    title \"Telnet \\\"allowed\\\" \\\\ for management\"\n"
                               "    severity high\n"
                               "    needs config baseline\n"
                               "    source \"CIS 1.2.2\"\n"
                               "    rationale \"clear text\"\n"
                               "    remediation \"transport input ssh\"\n"
                               "    drift ios iosxe /^line vty /\n"
                               "    check ios iosxe\n"
                               "        in /^line vty /\n"
                               "        has /^transport input .*\\b(telnet|all)\\b/\n"
                               "    check ios\n"
                               "        in /^line vty /\n"
                               "        lacks /^transport input /\n"
                               "        implicit\n"
                               "        message \"no transport input line\"\n"
                               "        severity medium\n"
                               "    check nxos\n"
                               "        has /^feature telnet$/\n"
                               "    check junos\n"
                               "        has /^system services telnet\\b/\n"
                               "end\n"
                               "rule AUD-VER-08\n"
                               "  title \"Exact version not determinable\"\n"
                               "  severity INFO\n"
                               "  builtin version-unknown\n"
                               "end\n"
                               "rule AUD-LOG-02\n"
                               "  title \"Log destination changed\"\n"
                               "  severity high\n"
                               "  needs baseline\n"
                               "  drift all /^logging host /\n"
                               "end\n";
    struct tw_ruleset *rs = parse_ok(text);
    const struct tw_rule_info *r;

    (void)state;
    assert_int_equal(tw_ruleset_count(rs), 3);
    r = tw_ruleset_rule(rs, 0);
    assert_string_equal(r->id, "AUD-MGT-01");
    assert_string_equal(r->title, "Telnet \"allowed\" \\ for management");
    assert_int_equal(r->severity, TW_SEV_HIGH);
    assert_int_equal(r->needs, TW_NEEDS_CONFIG | TW_NEEDS_BASELINE);
    assert_string_equal(r->source, "CIS 1.2.2");
    assert_string_equal(r->rationale, "clear text");
    assert_string_equal(r->remediation, "transport input ssh");
    assert_int_equal(r->builtin, TW_BUILTIN_NONE);
    assert_int_equal(r->n_checks, 4);
    assert_int_equal(r->platforms, TW_PLAT_BIT(TW_PLAT_IOS) | TW_PLAT_BIT(TW_PLAT_IOSXE) |
                                           TW_PLAT_BIT(TW_PLAT_NXOS) | TW_PLAT_BIT(TW_PLAT_JUNOS));
    assert_string_equal(r->file, "t.rules");
    assert_int_equal(r->line, 3);
    r = tw_ruleset_rule(rs, 1);
    assert_string_equal(r->id, "AUD-VER-08");
    assert_int_equal(r->severity, TW_SEV_INFO);
    assert_int_equal(r->builtin, TW_BUILTIN_VERSION_UNKNOWN);
    assert_int_equal(r->needs, TW_NEEDS_CONFIG);
    assert_int_equal(r->n_checks, 0);
    assert_true((r->platforms & TW_PLAT_BIT(TW_PLAT_ASA)) != 0);
    assert_string_equal(r->source, "");
    r = tw_ruleset_rule(rs, 2);
    assert_int_equal(r->needs, TW_NEEDS_BASELINE);
    assert_true((r->platforms & TW_PLAT_BIT(TW_PLAT_JUNOS)) != 0);
    assert_int_equal(tw_ruleset_find(rs, "AUD-VER-08"), 1);
    assert_int_equal(tw_ruleset_find(rs, "AUD-VER-09"), -1);
    assert_int_equal(tw_ruleset_find(rs, "AUD-VER"), -1);
    assert_null(tw_ruleset_rule(rs, 3));
    tw_ruleset_free(rs);
}

static void rules_parse_empty_and_comments(void **state)
{
    struct tw_ruleset *rs = parse_ok("# only a comment\n\n   \t\n# file: x.rules\n");

    (void)state;
    assert_int_equal(tw_ruleset_count(rs), 0);
    assert_int_equal(tw_ruleset_parse(rs, "", 0, NULL, NULL), TW_OK);
    /* CRLF line ends and a byte order mark. */
    assert_int_equal(parse_s(rs,
                             "\xef\xbb\xbfrule A\r\n title \"t\"\r\n severity low\r\n "
                             "check all\r\n  has /^x$/\r\nend\r\n",
                             "crlf.rules", NULL),
            TW_OK);
    assert_int_equal(tw_ruleset_count(rs), 1);
    tw_ruleset_free(rs);
    tw_ruleset_free(NULL);
}

static void rules_parse_errors_strings(void **state)
{
    (void)state;
    parse_err(
            "rule A\n title \"a\\nb\"\n", TW_ESYNTAX, "t.rules:2:10: unknown escape '\\n'", 2, 10);
    parse_err("rule A\n title \"abc\n", TW_ESYNTAX,
            "t.rules:2:8: unterminated string (expected a closing '\"')", 2, 8);
    parse_err(
            "rule A\n title \"abc\"x\n", TW_ESYNTAX, "t.rules:2:13: expected a blank after", 2, 13);
    parse_err("rule A\n title abc\n", TW_ESYNTAX,
            "t.rules:2:8: expected a \"string\", found word 'abc'", 2, 8);
    parse_err("rule A\n title \"\"\n", TW_ESYNTAX, "t.rules:2:8: empty 'title'", 2, 8);
    parse_err("rule A\n title \"a\"\n title \"b\"\n", TW_ESYNTAX, "t.rules:3:2: duplicate 'title'",
            3, 2);
    parse_err("rule A\n title \"a\" \"b\"\n", TW_ESYNTAX,
            "t.rules:2:12: unexpected string 'b' after the string", 2, 12);
}

static void rules_parse_errors_regex(void **state)
{
    (void)state;
    parse_err(RULE("A", "low", " check all\n  has /^x/g\n"), TW_ESYNTAX,
            "t.rules:5:11: unknown regex flag 'g' (only i)", 5, 11);
    parse_err(RULE("A", "low", " check all\n  has /^x\n"), TW_ESYNTAX,
            "t.rules:5:7: unterminated regex", 5, 7);
    parse_err(RULE("A", "low", " check all\n  has /^x/y\n"), TW_ESYNTAX,
            "t.rules:5:11: unknown regex flag 'y'", 5, 11);
    parse_err(RULE("A", "low", " check all\n  has /^x/-\n"), TW_ESYNTAX,
            "t.rules:5:11: expected a blank after the regex", 5, 11);
    /* PCRE2's own message, at the column of the problem inside the regex. */
    parse_err(RULE("A", "low", " check all\n  has /^(ab/\n"), TW_ESYNTAX,
            "t.rules:5:12: bad regex /^(ab/: missing closing parenthesis", 5, 12);
    parse_err(RULE("A", "low", " check all\n  has /a**+/\n"), TW_ESYNTAX,
            "t.rules:5:10: bad regex /a**+/: quantifier does not follow a repeatable item", 5, 10);
    /* $N is only substituted in with/without/exists/missing. */
    parse_err(RULE("A", "low", " check all\n  has /^a $1/\n"), TW_ESYNTAX,
            "t.rules:5:11: bad regex /^a $1/: '$1' is substituted only in with", 5, 11);
    /* $N beyond the capture groups of the capture source. */
    parse_err(RULE("A", "low", " check all\n  has /^a (b)/\n  missing /^c $2$/\n"), TW_ESYNTAX,
            "t.rules:6:15: $2 names no capture: the check's capture source has 1 capture group", 6,
            15);
    parse_err(RULE("A", "low", " check all\n  lacks /^a (b)/\n  if $1 == 3\n"), TW_ESYNTAX,
            "t.rules:6:6: $1 names no capture: the check's context has 0 capture groups", 6, 6);
    parse_err(RULE("A", "low", " check all\n  has /^a/\n  if 1 =~ x\n"), TW_ESYNTAX,
            "t.rules:6:11: expected a /regex/ after the operator, found word 'x'", 6, 11);
}

static void rules_parse_errors_structure(void **state)
{
    (void)state;
    parse_err("rule A\n title \"t\"\n severity low\n check ios\n  has /x/\n", TW_ESYNTAX,
            "t.rules:1:1: rule 'A' has no 'end'", 1, 1);
    parse_err("rule A\n title \"t\"\nrule B\n", TW_ESYNTAX,
            "t.rules:3:1: expected 'end' of rule 'A' (line 1) before a new rule", 3, 1);
    parse_err("rule A\n title \"t\"\n severity low\n check\n  has /x/\nend\n", TW_ESYNTAX,
            "t.rules:4:7: expected the platforms of the check", 4, 7);
    parse_err("rule A\n title \"t\"\n severity low\n builtin cve\n check ios\n  has /x/\nend\n",
            TW_ESYNTAX, "t.rules:5:2: a rule has checks or a builtin, not both", 5, 2);
    parse_err("rule A\n title \"t\"\n severity low\n check ios\n  has /x/\n builtin cve\nend\n",
            TW_ESYNTAX, "t.rules:6:2: a rule has checks or a builtin, not both", 6, 2);
    parse_err("rule A\n tittle \"t\"\n", TW_ESYNTAX, "t.rules:2:2: unknown keyword 'tittle'", 2, 2);
    parse_err(RULE("A", "low", " check ios\n  has /x/\n  wiht /y/\n"), TW_ESYNTAX,
            "t.rules:6:3: unknown keyword 'wiht'", 6, 3);
    parse_err("title \"t\"\n", TW_ESYNTAX, "t.rules:1:1: 'title' outside a rule", 1, 1);
    parse_err("rule A\n title \"t\"\n has /x/\n", TW_ESYNTAX,
            "t.rules:3:2: 'has' outside a check (start one with 'check PLATFORMS')", 3, 2);
    parse_err(
            "rule A\n severity low\nend\n", TW_ESYNTAX, "t.rules:3:1: rule 'A' has no title", 3, 1);
    parse_err("rule A\n title \"t\"\nend\n", TW_ESYNTAX, "t.rules:3:1: rule 'A' has no severity", 3,
            1);
    parse_err("rule A\n title \"t\"\n severity low\nend\n", TW_ESYNTAX,
            "t.rules:4:1: rule 'A' has no check, builtin or drift line", 4, 1);
    parse_err(RULE("A", "low", " check ios\n  with /x/\n"), TW_ESYNTAX,
            "t.rules:4:1: the check selects nothing: it needs 'in', 'has' or 'lacks'", 4, 1);
    parse_err(RULE("A", "low", " check ios\n  has /x/\n  lacks /y/\n"), TW_ESYNTAX,
            "t.rules:6:3: a check has one anchor at most", 6, 3);
    parse_err(RULE("A", "loud", " check ios\n  has /x/\n"), TW_ESYNTAX,
            "t.rules:3:14: unknown severity 'loud'", 3, 14);
    parse_err("rule A\n title \"t\"\n severity low\n needs coffee\n", TW_ESYNTAX,
            "t.rules:4:8: unknown need 'coffee'", 4, 8);
    parse_err("rule A\n title \"t\"\n severity low\n builtin magic\n", TW_ESYNTAX,
            "t.rules:4:10: unknown builtin 'magic'", 4, 10);
    parse_err(RULE("A", "low", " check ios\n  output show-tech\n  has /x/\n"), TW_ESYNTAX,
            "t.rules:5:10: unknown output 'show-tech'", 5, 10);
    parse_err("rule A/B\n", TW_ESYNTAX, "t.rules:1:6: bad rule id 'A/B'", 1, 6);
    parse_err("rule\n", TW_ESYNTAX, "t.rules:1:5: expected a rule id after 'rule'", 1, 5);
    parse_err(RULE("A", "low", " drift ios\n"), TW_ESYNTAX,
            "t.rules:4:11: expected a /regex/ after the platforms", 4, 11);
    parse_err(RULE("A", "low", " drift /x/\n"), TW_ESYNTAX,
            "t.rules:4:8: expected the platforms of the drift line", 4, 8);
    parse_err(RULE("A", "low", " check ios\n  has /x/\n  if $1 ~= 2\n"), TW_ESYNTAX,
            "t.rules:6:9: expected an operator", 6, 9);
    parse_err(RULE("A", "low", " check ios\n  has /(x)/\n  if $1 == public\n"), TW_ESYNTAX,
            "t.rules:6:12: expected $1..$9, $hostname, a number or a string", 6, 12);
    parse_err("rule A\n\x01\n", TW_ESYNTAX, "t.rules:2:1: control character 0x01", 2, 1);
    parse_err(RULE("A", "low", " check ios\n  has /x/\n  message \"a\"\n  message \"b\"\n"),
            TW_ESYNTAX, "t.rules:7:3: duplicate 'message' in a check", 7, 3);
    parse_err(RULE("A", "low", " check ios\n  has /x/\n  severity high\n  severity low\n"),
            TW_ESYNTAX, "t.rules:7:3: duplicate 'severity' in a check", 7, 3);
    parse_err("rule A\n title \"t\"\n severity low\n check ios\n  has /x/\nend extra\n", TW_ESYNTAX,
            "t.rules:6:5: unexpected word 'extra' after 'end'", 6, 5);
}

/* The example of the brief: the file, line and column, and what was expected. */
static void rules_parse_error_unknown_platform(void **state)
{
    static const char text[] = "rule AUD-MGT-01\n"
                               "    title \"Telnet\"\n"
                               "    severity high\n"
                               "    check ios\n"
                               "        has /^ip http server$/\n"
                               "end\n"
                               "\n"
                               "rule AUD-MGT-02\n"
                               "    title \"Outbound\"\n"
                               "    severity medium\n"
                               "\n"
                               "  check iox\n"
                               "        has /x/\n"
                               "end\n";
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_ruleset_parse(rs, text, strlen(text), "rules/mgt.rules", &err), TW_ESYNTAX);
    assert_true(strncmp(err.msg, "rules/mgt.rules:12:9: unknown platform 'iox'", 44) == 0);
    assert_int_equal(err.line, 12);
    assert_int_equal(err.column, 9);
    assert_int_equal(err.offset, (size_t)(strstr(text, "iox") - text));
    /* All or nothing: the good first rule was not added either. */
    assert_int_equal(tw_ruleset_count(rs), 0);
    tw_ruleset_free(rs);
}

static void rules_parse_limits(void **state)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_buf b;
    struct tw_err err;
    char *line = malloc(TW_RULE_LINE_MAX + 40);

    (void)state;
    assert_non_null(line);
    /* An over-long line. */
    memset(line, ' ', TW_RULE_LINE_MAX + 30);
    memcpy(line, "rule A\n title \"", 15);
    line[TW_RULE_LINE_MAX + 20] = '"';
    line[TW_RULE_LINE_MAX + 21] = '\n';
    assert_int_equal(
            tw_ruleset_parse(rs, line, TW_RULE_LINE_MAX + 22, "long.rules", &err), TW_ELIMIT);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "line longer than 4096 bytes"));
    free(line);
    /* TW_RULES_MAX: one rule too many fails the whole file. */
    tw_buf_init(&b, 1 << 24);
    for (int i = 0; i <= TW_RULES_MAX; i++)
        assert_int_equal(
                tw_buf_printf(&b, "rule R%d\n title \"t\"\n severity low\n builtin cve\nend\n", i),
                TW_OK);
    assert_int_equal(tw_ruleset_parse(rs, b.ptr, b.len, "many.rules", &err), TW_ELIMIT);
    assert_int_equal(err.line, (size_t)TW_RULES_MAX * 5 + 1);
    assert_non_null(strstr(err.msg, "more than 4096 rules"));
    assert_int_equal(tw_ruleset_count(rs), 0);
    /* Exactly TW_RULES_MAX is fine, and replacing one of them still is. */
    b.len = (size_t)(strstr(b.ptr, "rule R4096\n") - b.ptr);
    assert_int_equal(tw_ruleset_parse(rs, b.ptr, b.len, "many.rules", &err), TW_OK);
    assert_int_equal(tw_ruleset_count(rs), TW_RULES_MAX);
    assert_int_equal(tw_ruleset_find(rs, "R4095"), 4095);
    assert_int_equal(parse_s(rs, "rule R7\n title \"again\"\n severity high\n builtin cve\nend\n",
                             "over.rules", &err),
            TW_OK);
    assert_int_equal(tw_ruleset_count(rs), TW_RULES_MAX);
    assert_string_equal(tw_ruleset_rule(rs, 7)->title, "again");
    assert_int_equal(parse_s(rs, "rule R9999\n title \"new\"\n severity high\n builtin cve\nend\n",
                             "over.rules", &err),
            TW_ELIMIT);
    tw_buf_cleanup(&b);
    tw_ruleset_free(rs);
}

static void rules_parse_duplicates_and_replacement(void **state)
{
    static const char base[] = RULE("A", "low", " check ios\n  has /^alpha$/\n") RULE("B", "medium",
            " check ios\n  has /^beta$/\n") RULE("C", "high", " check ios\n  has /^gamma$/\n");
    static const char user[] = RULE("B", "critical", " check ios\n  has /^delta$/\n")
            RULE("D", "low", " check ios\n  has /^alpha$/\n");
    struct tw_ruleset *rs = parse_ok(base);
    struct fake *f = fake_new(TW_PLAT_IOS, "r1", "alpha\nbeta\ngamma\ndelta\n");
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    parse_err(RULE("A", "low", " check ios\n  has /x/\n")
                      RULE("A", "low", " check ios\n  has /y/\n"),
            TW_ESYNTAX, "t.rules:7:6: duplicate rule id 'A' (first at line 1)", 7, 6);
    assert_int_equal(tw_ruleset_parse(rs, user, strlen(user), "user.rules", NULL), TW_OK);
    /* B replaced in place; D appended. */
    assert_int_equal(tw_ruleset_count(rs), 4);
    assert_int_equal(tw_ruleset_find(rs, "B"), 1);
    assert_int_equal(tw_ruleset_rule(rs, 1)->severity, TW_SEV_CRITICAL);
    assert_string_equal(tw_ruleset_rule(rs, 1)->file, "user.rules");
    assert_int_equal(tw_ruleset_find(rs, "D"), 3);
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.f[0].rule, "A");
    assert_string_equal(g.f[1].rule, "B");
    assert_string_equal(g.f[1].evidence, "delta");
    assert_int_equal(g.f[1].sev, TW_SEV_CRITICAL);
    assert_string_equal(g.f[2].rule, "C");
    assert_string_equal(g.f[3].rule, "D");
    /* A failing file leaves the set as it was. */
    assert_int_equal(parse_s(rs, RULE("A", "info", " check ios\n  has /^none$/\n") "rule E\n",
                             "bad.rules", NULL),
            TW_ESYNTAX);
    assert_int_equal(tw_ruleset_rule(rs, 0)->severity, TW_SEV_LOW);
    free(f);
    tw_ruleset_free(rs);
}

static void rules_catalogue_parses(void **state)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;
    int rc;

    (void)state;
    rc = tw_ruleset_add_builtin_catalogue(rs, &err);
    if (rc != TW_OK)
        print_error("catalogue: %s\n", err.msg);
    assert_int_equal(rc, TW_OK);
    for (size_t i = 0; i < tw_ruleset_count(rs); i++) {
        const struct tw_rule_info *r = tw_ruleset_rule(rs, i);
        assert_string_equal(r->file, "<catalogue>");
        assert_true(r->title[0] != '\0');
    }
    print_message("catalogue: %zu rules\n", tw_ruleset_count(rs));
    tw_ruleset_free(rs);
}

/* Errors in the concatenated catalogue also name the file and its own line. */
static void rules_parse_catalogue_markers(void **state)
{
    static const char text[] = "# file: a.rules\n" RULE("A", "low",
            " check ios\n  has /x/\n") "\n# file: b.rules\nrule B\n title \"t\"\n severity nope\n";
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_ruleset_parse(rs, text, strlen(text), "<catalogue>", &err), TW_ESYNTAX);
    assert_non_null(strstr(err.msg, "<catalogue>:12:11: unknown severity 'nope'"));
    assert_non_null(strstr(err.msg, "(b.rules line 3)"));
    tw_ruleset_free(rs);
}

/* ==== Regex prefixes ==== */

static void check_prefixes(
        const char *src, bool caseless, const char *const *want, const int *key_len, size_t n_want)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw__regex re;
    struct tw_arena a;
    char msg[160];
    size_t off;

    memset(&re, 0, sizeof(re));
    re.src = src;
    re.src_len = (uint32_t)strlen(src);
    re.caseless = caseless;
    tw_arena_init(&a, 0, 1 << 16);
    assert_int_equal(tw__regex_compile(rs, &re, true, &a, msg, sizeof(msg), &off), TW_OK);
    if (re.n_prefix != n_want)
        print_error("%s: %u prefixes, want %zu\n", src, re.n_prefix, n_want);
    assert_int_equal(re.n_prefix, n_want);
    for (size_t i = 0; i < n_want; i++) {
        assert_string_equal(re.prefix[i].lit, want[i]);
        assert_int_equal(re.prefix[i].key_len, key_len[i]);
    }
    pcre2_code_free(re.code);
    tw_arena_cleanup(&a);
    tw_ruleset_free(rs);
}

static void rules_regex_prefixes(void **state)
{
    (void)state;
    check_prefixes("^snmp-server community ", false,
            (const char *const[]){ "snmp-server community " }, (const int[]){ 11 }, 1);
    check_prefixes("^transport input .*\\b(telnet|all)\\b", false,
            (const char *const[]){ "transport input " }, (const int[]){ 9 }, 1);
    check_prefixes("^(ip access-list (standard|extended) $1$|access-list $1 )", false,
            (const char *const[]){ "ip access-list ", "access-list " }, (const int[]){ 2, 11 }, 2);
    check_prefixes("^(?:ip|ipv6) http", false, (const char *const[]){ "ip http", "ipv6 http" },
            (const int[]){ 2, 4 }, 2);
    /* A group of plain alternatives: the literal after it too; `?` adds the empty one. */
    check_prefixes("^(no )?iox$", false, (const char *const[]){ "no iox", "iox" },
            (const int[]){ 2, 3 }, 2);
    check_prefixes("^(tacacs|radius) server ", false,
            (const char *const[]){ "tacacs server ", "radius server " }, (const int[]){ 6, 6 }, 2);
    check_prefixes("^(tacacs\\+|radius)\\s", false, (const char *const[]){ "tacacs+", "radius" },
            (const int[]){ 7, 6 }, 2);
    check_prefixes("^(a|b)+c", false, (const char *const[]){ "a", "b" }, (const int[]){ 0, 0 }, 2);
    check_prefixes("^x(a|b)??c", false, (const char *const[]){ "xac", "xbc", "xc" },
            (const int[]){ 0, 0, 0 }, 3);
    check_prefixes("^(a|b)*c", false, NULL, NULL, 0);
    check_prefixes("^(\\d+ )?deny", false, NULL, NULL, 0);
    check_prefixes("^(a|b|c|d|e|f|g|h)x", false, NULL, NULL, 0);
    check_prefixes("^iox$", false, (const char *const[]){ "iox" }, (const int[]){ 3 }, 1);
    check_prefixes(
            "^feature\\s+telnet", false, (const char *const[]){ "feature" }, (const int[]){ 7 }, 1);
    check_prefixes(
            "^feature\\s*telnet", false, (const char *const[]){ "feature" }, (const int[]){ 0 }, 1);
    check_prefixes("^Line VTY ", true, (const char *const[]){ "Line VTY " }, (const int[]){ 4 }, 1);
    check_prefixes(
            "^a\\/b\\.c d", false, (const char *const[]){ "a/b.c d" }, (const int[]){ 5 }, 1);
    /* A quantifier takes the byte before it away; + keeps it and ends the literal. */
    check_prefixes("^abc?d", false, (const char *const[]){ "ab" }, (const int[]){ 0 }, 1);
    check_prefixes("^ab+c", false, (const char *const[]){ "ab" }, (const int[]){ 0 }, 1);
    check_prefixes("^ab{2}", false, (const char *const[]){ "a" }, (const int[]){ 0 }, 1);
    /* No prefix: unanchored, top-level alternation, optional group, empty alternative. */
    check_prefixes("community", false, NULL, NULL, 0);
    check_prefixes("^abc|def", false, NULL, NULL, 0);
    check_prefixes("^(abc|def)?x", false, (const char *const[]){ "abcx", "defx", "x" },
            (const int[]){ 0, 0, 0 }, 3);
    check_prefixes(
            "^x(abc|)", false, (const char *const[]){ "xabc", "x" }, (const int[]){ 0, 0 }, 2);
    check_prefixes("^x(abc\\d|)", false, (const char *const[]){ "x" }, (const int[]){ 0 }, 1);
    check_prefixes("^(?i)abc", false, NULL, NULL, 0);
    check_prefixes("^[ab]c", false, NULL, NULL, 0);
    check_prefixes("^ab(?#c|d)|x", false, NULL, NULL, 0);
    check_prefixes("^ab[|]c", false, (const char *const[]){ "ab" }, (const int[]){ 0 }, 1);
    check_prefixes("^ab\\Q|\\E", false, (const char *const[]){ "ab" }, (const int[]){ 0 }, 1);
}

static void check_need(const char *src, const char *want)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw__regex re;
    struct tw_arena a;
    char msg[160];
    size_t off;

    memset(&re, 0, sizeof(re));
    re.src = src;
    re.src_len = (uint32_t)strlen(src);
    tw_arena_init(&a, 0, 1 << 16);
    assert_int_equal(tw__regex_compile(rs, &re, true, &a, msg, sizeof(msg), &off), TW_OK);
    if (want == NULL) {
        assert_null(re.need);
    } else {
        assert_non_null(re.need);
        assert_int_equal(re.need_len, strlen(want));
        assert_memory_equal(re.need, want, re.need_len);
    }
    pcre2_code_free(re.code);
    tw_arena_cleanup(&a);
    tw_ruleset_free(rs);
}

/* The literal every match contains somewhere (for regexes a prefix cannot place). */
static void rules_regex_required_literal(void **state)
{
    struct tw__regex re;

    (void)state;
    check_need("\\b(password|secret) 0 \\S", " 0 ");
    check_need("^username (\\S+) .*\\bprivilege 15\\b", "privilege 15");
    check_need("^snmp-server community ", NULL); /* the prefix says it all */
    check_need("ab?c", NULL);
    check_need("abc{2}d", "ab");
    check_need("\\x41BC", "BC");
    check_need("\\x{41}BC", "BC");
    check_need("\\cXYZ", "YZ");
    check_need("\\12AB", "AB");
    check_need("foo(?i)barbaz", "foo");
    check_need("abcd|efgh", NULL);
    check_need("a\\.b+cd", "a.b");
    check_need("\\Qab|cd\\E", NULL);
    check_need("[abc]def", "def");
    check_need("x$1yz", "yz");
    check_need("(?#a|b)xyz", "xyz");
    check_need("(a|b)+tail(?:x)?", "tail");
    /* Matching: the literal must be there, in the regex's case mode. */
    memset(&re, 0, sizeof(re));
    re.need = " 0 ";
    re.need_len = 3;
    assert_true(tw__regex_prefilter(&re, "password 0 x", 12));
    assert_false(tw__regex_prefilter(&re, "password 7 x", 12));
    assert_false(tw__regex_prefilter(&re, " 0", 2));
    re.need = "Priv";
    re.need_len = 4;
    assert_false(tw__regex_prefilter(&re, "username a privilege 15", 23));
    re.caseless = true;
    assert_true(tw__regex_prefilter(&re, "username a privilege 15", 23));
}

static void rules_regex_subst_escapes(void **state)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw__regex re;
    struct tw_arena a;
    struct tw_str caps[TW__RULE_CAPTURES];
    char msg[160], out[128];
    size_t off, n;

    (void)state;
    memset(&re, 0, sizeof(re));
    memset(caps, 0, sizeof(caps));
    re.src = "^x $1 $2$";
    re.src_len = 9;
    tw_arena_init(&a, 0, 1 << 16);
    assert_int_equal(tw__regex_compile(rs, &re, true, &a, msg, sizeof(msg), &off), TW_OK);
    assert_true(re.subst);
    assert_null(re.code);
    assert_int_equal(re.n_refs, 2);
    caps[1] = tw_str_cstr("a.b*(c)");
    caps[2] = tw_str_make("\x01 \xff", 3);
    n = tw__regex_subst(&re, caps, out, sizeof(out));
    assert_string_equal(out, "^x (?:a\\.b\\*\\(c\\)) (?:\\x{01}\\ \\x{ff})$");
    assert_int_equal(n, strlen(out));
    /* Too long for the buffer. */
    assert_int_equal(tw__regex_subst(&re, caps, out, 20), (size_t)-1);
    tw_arena_cleanup(&a);
    tw_ruleset_free(rs);
}

/* ==== Evaluation ==== */

static const char ios_cfg[] = "hostname core1\n"
                              "service password-encryption\n"
                              "ip http server\n"
                              "ip ssh port 22022 rotary 1\n"
                              "snmp-server community s3cretC0mm RW 20\n"
                              "snmp-server community public RO\n"
                              "ip access-list standard MGMT\n"
                              " permit 192.0.2.0 0.0.0.255\n"
                              "access-list 20 permit 198.51.100.7\n"
                              "interface Loopback0\n"
                              " ip address 10.0.0.1 255.255.255.255\n"
                              "interface GigabitEthernet0/1\n"
                              " description uplink\n"
                              " ip address 10.1.0.1 255.255.255.0\n"
                              "line con 0\n"
                              " exec-timeout 0 0\n"
                              "line vty 0 4\n"
                              " access-class MGMT in\n"
                              " transport input telnet ssh\n"
                              "line vty 5 15\n"
                              " access-class M.GMT in\n"
                              " exec-timeout 30 0\n";

static void rules_eval_anchors(void **state)
{
    static const char text[] = RULE(
            "HAS-TOP", "high", " check ios\n  has /^ip http server$/\n") RULE("HAS-IN", "high",
            " check ios\n  in /^line vty /\n  has /^transport input .*\\btelnet\\b/\n")
            RULE("LACKS-TOP", "medium", " check ios\n  lacks /^no ip source-route$/\n") RULE(
                    "LACKS-IN", "low",
                    " check ios\n  in /^line vty /\n  lacks /^transport input /\n")
                    RULE("IN-ONLY", "info", " check ios\n  in /^interface Loopback/\n")
                            RULE("NESTED", "info",
                                    " check all\n  in /^interface /\n  in "
                                    "/^ip address /\n  has /x/\n check ios\n  in "
                                    "/^interface /\n  has /^ip address /\n")
                                    RULE("NOPE", "info", " check junos\n  has /^ip http/\n");
    struct tw_ruleset *rs = parse_ok(text);
    struct fake *f = fake_new(TW_PLAT_IOSXE, "core1", ios_cfg);
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(g.n, 7);
    assert_string_equal(g.f[0].rule, "HAS-TOP");
    assert_int_equal(g.f[0].line, 3);
    assert_string_equal(g.f[0].evidence, "ip http server");
    assert_string_equal(g.f[0].context, "");
    assert_string_equal(g.f[0].file, "dev.cfg");
    assert_string_equal(g.f[0].device, "core1");
    assert_int_equal(g.f[0].sev, TW_SEV_HIGH);
    assert_string_equal(g.f[1].rule, "HAS-IN");
    assert_int_equal(g.f[1].line, 19);
    assert_string_equal(g.f[1].evidence, "transport input telnet ssh");
    assert_string_equal(g.f[1].context, "line vty 0 4");
    assert_string_equal(g.f[2].rule, "LACKS-TOP");
    assert_int_equal(g.f[2].line, 0);
    assert_string_equal(g.f[2].evidence, "absent: /^no ip source-route$/");
    assert_string_equal(g.f[2].context, "");
    assert_string_equal(g.f[3].rule, "LACKS-IN");
    assert_int_equal(g.f[3].line, 20);
    assert_string_equal(g.f[3].evidence, "line vty 5 15");
    assert_string_equal(g.f[4].rule, "IN-ONLY");
    assert_int_equal(g.f[4].line, 10);
    assert_string_equal(g.f[4].evidence, "interface Loopback0");
    assert_string_equal(g.f[5].rule, "NESTED");
    assert_int_equal(g.f[5].line, 11);
    assert_string_equal(g.f[5].context, "interface Loopback0");
    assert_string_equal(g.f[6].rule, "NESTED");
    assert_int_equal(g.f[6].line, 14);
    /* NESTED's first check runs (all) and finds nothing; NOPE's does not run. */
    assert_int_equal(st.checks_run, 7);
    assert_int_equal(st.checks_skipped, 0);
    assert_int_equal(st.regex_limit, 0);
    free(f);
    tw_ruleset_free(rs);
}

static void rules_eval_filters_and_captures(void **state)
{
    static const char text[] =
            /* Numeric comparison of a capture; escalation by severity override. */
            RULE("PORT", "high",
                    " check ios\n  has /^ip ssh port (\\d+)/\n  if $1 != 22\n  message \"ssh on "
                    "a non-standard port\"\n"
                    " check ios\n  has /^ip ssh port (\\d+)/\n  if $1 =~ /^\\d+22$/\n  severity "
                    "critical\n  message \"the campaign's xxx22 pattern\"\n")
            /* String comparisons and $hostname. */
            RULE("COMM", "high",
                    " check ios\n  has /^snmp-server community (\\S+)/\n  if $1 == \"public\"\n"
                    " check ios\n  has /^snmp-server community (\\S+)/\n  if $1 == $hostname\n")
            /* Ordering against a non-number is false; >= and < on numbers. */
            RULE("TIMEOUT", "low",
                    " check ios\n  in /^line /\n  has /^exec-timeout (\\d+) (\\d+)/\n  if $1 >= "
                    "11\n"
                    " check ios\n  in /^line /\n  has /^exec-timeout (\\d+) (\\d+)/\n  if $1 < "
                    "1\n  if $2 <= 0\n"
                    " check ios\n  in /^line /\n  has /^exec-timeout (\\d+)/\n  if $1 > \"abc\"\n"
                    " check ios\n  in /^line /\n  has /^exec-timeout (\\d+)/\n  if \"a\" < "
                    "\"b\"\n")
            /* with / without / exists / missing. */
            RULE("HTTP-ACL", "medium",
                    " check ios\n  has /^ip http server$/\n  missing /^ip http access-class /\n")
                    RULE("VTY-NOSSH", "medium",
                            " check ios\n  in /^line vty /\n  without /^transport input ssh$/\n  "
                            "with "
                            "/^access-class /\n") RULE("PWENC", "info",
                            " check ios\n  has /^hostname /\n  exists /^service "
                            "password-encryption$/\n")
            /* A capture in the innermost in without has; !~ ; a group that did not take part is "".
             */
            RULE("VTY-N", "info",
                    " check ios\n  in /^line vty (\\d+) (\\d+)(x)?/\n  if $2 > 10\n  if $3 == "
                    "\"\"\n  if $1 !~ /^0$/\n");
    struct tw_ruleset *rs = parse_ok(text);
    struct fake *f = fake_new(TW_PLAT_IOS, "public", ios_cfg);
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    eval_ok(rs, &f->d, &g, &st);
    /* PORT: both checks hit line 4 and the more severe one is kept. */
    assert_string_equal(g.f[0].rule, "PORT");
    assert_int_equal(g.f[0].line, 4);
    assert_int_equal(g.f[0].sev, TW_SEV_CRITICAL);
    assert_string_equal(g.f[0].message, "the campaign's xxx22 pattern");
    /* COMM: "public" by both checks (hostname is "public"): one finding. */
    assert_string_equal(g.f[1].rule, "COMM");
    assert_int_equal(g.f[1].line, 6);
    assert_string_equal(g.f[2].rule, "TIMEOUT");
    assert_int_equal(g.f[2].line, 16);
    assert_string_equal(g.f[2].context, "line con 0");
    assert_string_equal(g.f[3].rule, "TIMEOUT");
    assert_int_equal(g.f[3].line, 22);
    assert_string_equal(g.f[4].rule, "HTTP-ACL");
    assert_int_equal(g.f[4].line, 3);
    assert_string_equal(g.f[5].rule, "VTY-NOSSH");
    assert_int_equal(g.f[5].line, 17);
    assert_string_equal(g.f[6].rule, "VTY-NOSSH");
    assert_int_equal(g.f[6].line, 20);
    assert_string_equal(g.f[7].rule, "PWENC");
    assert_int_equal(g.f[7].line, 1);
    assert_string_equal(g.f[8].rule, "VTY-N");
    assert_int_equal(g.f[8].line, 20);
    assert_int_equal(g.n, 9);
    free(f);
    tw_ruleset_free(rs);
}

/* References: an ACL named by a vty but defined nowhere, with captures matched literally. */
static void rules_eval_references(void **state)
{
    static const char text[] = RULE("ACL-04", "high",
            " check ios iosxe\n"
            "  in /^line vty /\n"
            "  has /^access-class (\\S+) in/\n"
            "  missing /^(ip access-list (standard|extended) $1$|access-list $1 )/\n"
            "  message \"the ACL is not defined\"\n");
    struct tw_ruleset *rs = parse_ok(text);
    struct fake *f = fake_new(TW_PLAT_IOS, "r", ios_cfg);
    struct fake *f2 = fake_new(TW_PLAT_IOS, "r",
            "access-list M.GMT permit any\n"
            "ip access-list extended MxGMT\n"
            "line vty 0 4\n"
            " access-class M.GMT in\n"
            "line vty 5 15\n"
            " access-class MxGMT in\n"
            "line vty 16 20\n"
            " access-class M in\n");
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    /* MGMT is defined; "M.GMT" is not, and does not match the defined "MGMT" as a regex would. */
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.f[0].line, 21);
    assert_string_equal(g.f[0].evidence, "access-class M.GMT in");
    assert_string_equal(g.f[0].context, "line vty 5 15");
    assert_string_equal(g.f[0].message, "the ACL is not defined");
    /* Both forms of definition count; "M" is a prefix of defined names but not one itself. */
    eval_ok(rs, &f2->d, &g, &st);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.f[0].line, 8);
    free(f2);
    free(f);
    tw_ruleset_free(rs);
}

static void rules_eval_outputs(void **state)
{
    static const char text[] = RULE("TUN-07", "high",
            " check all\n  output dir\n  has /\\.pcap$/\n  message \"capture file\"\n")
            RULE("MGT-08", "critical",
                    " check ios\n  output show-vstack-config\n  has /^Role: Client/\n  "
                    "missing /^no vstack$/\n"
                    " check ios\n  lacks /^no vstack$/\n  implicit\n");
    struct tw_ruleset *rs = parse_ok(text);
    struct fake *f = fake_new(TW_PLAT_IOS, "sw1", "hostname sw1\n");
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    /* Outputs absent: their checks are skipped and counted. */
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(st.checks_skipped, 2);
    assert_int_equal(st.checks_run, 1);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.f[0].rule, "MGT-08");
    assert_int_equal(g.f[0].line, 0);
    assert_true(g.f[0].implicit);
    /* Outputs present. */
    fake_output(f, TW_OP_DIR, "Directory of flash:/\n  1 -rw- 100 tac.pcap\n  2 -rw- 5 a.bin\n");
    fake_output(f, TW_OP_VSTACK, "Role: Client (SmartInstall enabled)\nVstack Director IP\n");
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(st.checks_skipped, 0);
    assert_int_equal(st.checks_run, 3);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.f[0].rule, "TUN-07");
    assert_int_equal(g.f[0].line, 2);
    assert_string_equal(g.f[0].evidence, "1 -rw- 100 tac.pcap");
    assert_string_equal(g.f[0].context, "");
    assert_string_equal(g.f[0].message, "capture file");
    assert_string_equal(g.f[1].rule, "MGT-08");
    assert_int_equal(g.f[1].line, 0);
    assert_string_equal(g.f[2].rule, "MGT-08");
    assert_int_equal(g.f[2].line, 1);
    assert_false(g.f[2].implicit);
    free(f);
    tw_ruleset_free(rs);
}

static void rules_eval_platforms(void **state)
{
    static const char text[] = RULE("P", "low",
            " check iosxe\n  has /^a$/\n message \"xe\"\n"
            " check nxos iosxr\n  has /^a$/\n  message \"nx\"\n"
            " check asa\n  has /^a$/\n  message \"asa\"\n");
    struct tw_ruleset *rs = parse_ok(text);
    struct fake *f = fake_new(TW_PLAT_IOS, "r", "a\n");
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(g.n, 0);
    assert_int_equal(st.checks_run, 0);
    f->d.platform = TW_PLAT_IOSXE;
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.f[0].message, "xe");
    f->d.platform = TW_PLAT_IOSXR;
    eval_ok(rs, &f->d, &g, &st);
    assert_string_equal(g.f[0].message, "nx");
    f->d.platform = TW_PLAT_ASA;
    eval_ok(rs, &f->d, &g, &st);
    assert_string_equal(g.f[0].message, "asa");
    free(f);
    tw_ruleset_free(rs);
}

static void rules_eval_caseless_and_slash(void **state)
{
    static const char text[] = RULE("CI", "low", " check all\n  has /^IP HTTP server$/i\n")
            RULE("SLASH", "low", " check all\n  has /^archive path tftp:\\/\\//\n")
                    RULE("ABS", "low", " check all\n  lacks /^NO CDP RUN$/i\n");
    struct tw_ruleset *rs = parse_ok(text);
    struct fake *f = fake_new(TW_PLAT_NXOS, "r", "Ip Http Server\narchive path tftp://h/x\n");
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.f[0].evidence, "Ip Http Server");
    assert_string_equal(g.f[1].rule, "SLASH");
    assert_string_equal(g.f[2].evidence, "absent: /^NO CDP RUN$/i");
    free(f);
    tw_ruleset_free(rs);
}

static void rules_eval_callback_stops(void **state)
{
    static const char text[] = RULE("A", "low", " check all\n  has /^x/\n");
    struct tw_ruleset *rs = parse_ok(text);
    struct fake *f = fake_new(TW_PLAT_IOS, "r", "x1\nx2\nx3\n");
    struct got g;

    (void)state;
    memset(&g, 0, sizeof(g));
    g.stop_after = 2;
    assert_int_equal(tw_ruleset_eval(rs, &f->d, collect, &g, NULL), 7);
    assert_int_equal(g.n, 2);
    assert_int_equal(tw_ruleset_eval(NULL, &f->d, collect, &g, NULL), TW_EINVAL);
    free(f);
    tw_ruleset_free(rs);
}

/* A catastrophic regex on a hostile line: stopped by the match limit, counted, no hang. */
static void rules_eval_match_limit(void **state)
{
    static const char text[] = RULE("EVIL", "low", " check all\n  has /^(a+)+$/\n")
            RULE("EVIL2", "low", " check all\n  has /^x/\n  exists /(a|aa)+$/\n")
                    RULE("FINE", "low", " check all\n  has /^b/\n");
    char *line = malloc(4096);
    struct tw_ruleset *rs = parse_ok(text), *rs2 = tw_ruleset_new();
    struct fake *f;
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    assert_non_null(line);
    memset(line, 'a', 4000);
    memcpy(line + 4000, "!\nxb\nb\n", 8);
    f = fake_new(TW_PLAT_IOS, "r", line);
    eval_ok(rs, &f->d, &g, &st);
    assert_true(st.regex_limit >= 2);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.f[0].rule, "FINE");
    /* The same without JIT (the interpreter's limits). */
    tw__ruleset_set_jit(rs2, false);
    assert_int_equal(tw_ruleset_parse(rs2, text, strlen(text), "t.rules", NULL), TW_OK);
    eval_ok(rs2, &f->d, &g, &st);
    assert_true(st.regex_limit >= 2);
    assert_int_equal(g.n, 1);
    free(f);
    free(line);
    tw_ruleset_free(rs2);
    tw_ruleset_free(rs);
}

static void rules_drift_owner(void **state)
{
    static const char text[] =
            RULE("LOW", "low", " drift ios /^snmp-server /\n drift junos /^snmp /\n")
                    RULE("HIGH", "high", " drift ios /^snmp-server community /\n")
                            RULE("HIGH2", "high", " drift all /^snmp-server community \\S+ RW/\n")
                                    RULE("ANY", "info", " builtin drift\n drift all /./\n")
                                            RULE("USER", "medium", " drift ios /^username /\n");
    struct tw_ruleset *rs = parse_ok(text);
    const char *s;

    (void)state;
    /* The most severe owner; the first in file order among equals. */
    s = "snmp-server community x RW";
    assert_int_equal(tw_ruleset_drift_owner(rs, TW_PLAT_IOS, s, strlen(s)), 1);
    s = "snmp-server location x";
    assert_int_equal(tw_ruleset_drift_owner(rs, TW_PLAT_IOSXE, s, strlen(s)), 0);
    s = "snmp-server community x RW";
    assert_int_equal(tw_ruleset_drift_owner(rs, TW_PLAT_NXOS, s, strlen(s)), 2);
    s = "snmp community public";
    assert_int_equal(tw_ruleset_drift_owner(rs, TW_PLAT_JUNOS, s, strlen(s)), 0);
    s = "username bob privilege 15";
    assert_int_equal(tw_ruleset_drift_owner(rs, TW_PLAT_IOS, s, strlen(s)), 4);
    /* The drift builtin owns only what no other rule owns. */
    assert_int_equal(tw_ruleset_drift_owner(rs, TW_PLAT_IOS, "hostname r1", 11), 3);
    assert_int_equal(tw_ruleset_drift_owner(rs, TW_PLAT_IOS, "", 0), -1);
    assert_int_equal(tw_ruleset_drift_owner(NULL, TW_PLAT_IOS, "x", 1), -1);
    /* After a replacement the table follows the set. */
    assert_int_equal(parse_s(rs, RULE("HIGH", "info", " drift iosxr /^x/\n"), "u", NULL), TW_OK);
    s = "snmp-server community x RO";
    assert_int_equal(tw_ruleset_drift_owner(rs, TW_PLAT_IOS, s, strlen(s)), 0);
    tw_ruleset_free(rs);
}

static void rules_eval_builtins_skipped(void **state)
{
    static const char text[] =
            "rule V\n title \"t\"\n severity info\n builtin version-unknown\nend\n";
    struct tw_ruleset *rs = parse_ok(text);
    struct fake *f = fake_new(TW_PLAT_IOS, "r", "a\n");
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    eval_ok(rs, &f->d, &g, &st);
    assert_int_equal(g.n, 0);
    assert_int_equal(st.checks_run, 0);
    free(f);
    tw_ruleset_free(rs);
}

/* ==== Real parsing: masking and Junos ==== */

static struct tw_devconf *parse_cfg(const char *text, enum tw_platform p)
{
    struct tw_devconf *d = NULL;
    struct tw_err err;
    int rc = tw_devconf_parse(text, strlen(text), "snippet.cfg", p, &d, &err);

    if (rc != TW_OK)
        print_error("devconf: %s\n", err.msg);
    assert_int_equal(rc, TW_OK);
    return d;
}

static void rules_eval_masks_evidence(void **state)
{
    static const char text[] = RULE(
            "CRY-09", "critical", " check ios\n  has /^snmp-server community (\\S+) RW/\n")
            RULE("CRY-04", "high", " check ios\n  has /^username \\S+ .*password 7 /\n")
                    RULE("KEY", "medium", " check ios\n  in /^tacacs server /\n  has /^key /\n");
    static const char cfg[] = "hostname r1\n"
                              "username cisco privilege 15 password 7 0822455D0A16\n"
                              "snmp-server community Sup3rS3cret RW 20\n"
                              "tacacs server T1\n"
                              " address ipv4 192.0.2.9\n"
                              " key 7 1511021F07257A767B\n";
    struct tw_ruleset *rs = parse_ok(text);
    struct tw_devconf *d = parse_cfg(cfg, TW_PLAT_IOS);
    struct tw_rule_stats st;
    struct got g;

    (void)state;
    eval_ok(rs, d, &g, &st);
    assert_int_equal(g.n, 3);
    for (size_t i = 0; i < g.n; i++) {
        assert_null(strstr(g.f[i].evidence, "Sup3rS3cret"));
        assert_null(strstr(g.f[i].evidence, "0822455D0A16"));
        assert_null(strstr(g.f[i].evidence, "1511021F07257A767B"));
        assert_null(strstr(g.f[i].context, "1511021F07257A767B"));
        assert_non_null(strstr(g.f[i].evidence, "<masked>"));
    }
    /* Rule order, then line order. */
    assert_string_equal(g.f[0].rule, "CRY-09");
    assert_int_equal(g.f[0].line, 3);
    assert_string_equal(g.f[1].rule, "CRY-04");
    assert_int_equal(g.f[1].line, 2);
    assert_string_equal(g.f[2].context, "tacacs server T1");
    assert_int_equal(g.f[2].line, 6);
    tw_devconf_free(d);
    tw_ruleset_free(rs);
}

static void rules_eval_junos(void **state)
{
    static const char text[] = RULE(
            "MGT-01", "high", " check junos\n  has /^system services telnet\\b/\n") RULE("CRY-16",
            "medium", " check junos\n  has /^system services ssh root-login allow$/\n")
            RULE("LOG-01", "high", " check junos\n  lacks /^system syslog host /\n");
    static const char brace[] = "system {\n"
                                "    host-name edge1;\n"
                                "    services {\n"
                                "        ssh {\n"
                                "            root-login allow;\n"
                                "        }\n"
                                "        telnet;\n"
                                "    }\n"
                                "}\n";
    static const char set[] = "set system host-name edge1\n"
                              "set system services ssh root-login allow\n"
                              "set system services telnet\n"
                              "set system syslog host 192.0.2.1 any any\n"
                              "deactivate system syslog host 192.0.2.1\n";
    struct tw_ruleset *rs = parse_ok(text);
    struct tw_devconf *d1 = parse_cfg(brace, TW_PLAT_JUNOS), *d2 = parse_cfg(set, TW_PLAT_JUNOS);
    struct tw_rule_stats st;
    struct got g1, g2;

    (void)state;
    eval_ok(rs, d1, &g1, &st);
    eval_ok(rs, d2, &g2, &st);
    assert_int_equal(g1.n, 3);
    assert_int_equal(g2.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(g1.f[i].rule, g2.f[i].rule);
        assert_string_equal(g1.f[i].evidence, g2.f[i].evidence);
    }
    assert_string_equal(g1.f[0].evidence, "system services telnet");
    assert_int_equal(g1.f[0].line, 7);
    assert_int_equal(g2.f[0].line, 3);
    assert_string_equal(g1.f[1].evidence, "system services ssh root-login allow");
    assert_string_equal(g1.f[2].evidence, "absent: /^system syslog host /");
    /* A deactivated statement is not in effect. */
    assert_string_equal(g2.f[2].evidence, "absent: /^system syslog host /");
    tw_devconf_free(d2);
    tw_devconf_free(d1);
    tw_ruleset_free(rs);
}

/* ==== Differential: index and JIT change nothing ==== */

static const char diff_rules[] = RULE(
        "D1", "high", " check ios nxos\n  has /^snmp-server community /\n") RULE("D2", "high",
        " check ios\n  in /^line (vty|con) /\n  has /^exec-timeout (\\d+)/\n  if $1 > 10\n")
        RULE("D3", "medium",
                " check ios\n  in /^line vty /\n  lacks /^transport input ssh$/\n") RULE("D4",
                "low",
                " check all\n  has /^(?:ntp|logging) (server|host) (\\S+)/\n  missing "
                "/^access-list \\S+ permit $2$/\n") RULE("D5", "low",
                " check all\n  in /^interface /i\n  has /^ip address /\n  without /^shutdown$/\n")
                RULE("D6", "low", " check all\n  has /^(ip|ipv6) http/\n") RULE(
                        "D7", "info", " check all\n  has /^feature\\s+\\S+/\n") RULE("D8", "info",
                        " check all\n  has /^username (\\S+)/\n  if $1 =~ /^(cisco|admin)$/\n")
                        RULE("D9", "info",
                                " check all\n  in /^interface/\n  has /^description\\s/\n")
                                RULE("D10", "info",
                                        " check junos\n  has /^system services /\n") RULE("D11",
                                        "info",
                                        " check junos\n  has /^interfaces \\S+ unit \\d+ family "
                                        "inet address /\n  exists /^system syslog host /\n")
                                        RULE("D12", "info",
                                                " check all\n  has /^vrf context /\n  missing /^ip "
                                                "route /\n") RULE("D13", "info",
                                                " check all\n  has /^aaa/i\n") RULE("D14", "info",
                                                " check all\n  has /(?i)^LOGGING /\n");

struct run_result {
    struct got g;
    struct tw_rule_stats st;
};

/* Evaluates rules (NULL: the builtin catalogue) with and without the index and JIT. */
static void diff_eval(const struct tw_devconf *d, const char *what, const char *rules)
{
    struct tw_ruleset *rs[3] = { tw_ruleset_new(), tw_ruleset_new(), tw_ruleset_new() };
    struct run_result *r = calloc(3, sizeof(*r));

    assert_non_null(r);
    tw__ruleset_set_index(rs[1], false);
    tw__ruleset_set_jit(rs[2], false);
    for (int i = 0; i < 3; i++) {
        if (rules != NULL)
            assert_int_equal(parse_s(rs[i], rules, "d.rules", NULL), TW_OK);
        else
            assert_int_equal(tw_ruleset_add_builtin_catalogue(rs[i], NULL), TW_OK);
        eval_ok(rs[i], d, &r[i].g, &r[i].st);
    }
    for (int i = 1; i < 3; i++) {
        if (r[i].g.n != r[0].g.n)
            print_error("%s: %zu findings with the index, %zu in run %d\n", what, r[0].g.n,
                    r[i].g.n, i);
        assert_int_equal(r[i].g.n, r[0].g.n);
        assert_int_equal(r[i].st.checks_run, r[0].st.checks_run);
        for (size_t k = 0; k < r[0].g.n; k++) {
            assert_string_equal(r[i].g.f[k].rule, r[0].g.f[k].rule);
            assert_int_equal(r[i].g.f[k].line, r[0].g.f[k].line);
            assert_string_equal(r[i].g.f[k].evidence, r[0].g.f[k].evidence);
        }
    }
    print_message("%s (%s): %zu findings, same with and without the index and JIT\n", what,
            rules != NULL ? "test rules" : "catalogue", r[0].g.n);
    free(r);
    for (int i = 0; i < 3; i++)
        tw_ruleset_free(rs[i]);
}

static void rules_eval_index_differential(void **state)
{
    struct fake *f = fake_new(TW_PLAT_IOS, "r",
            "hostname r\nsnmp-server community a RO\nsnmp-server communityX\nline vty 0 4\n "
            "exec-timeout 60 0\n transport input ssh\nline con 0\n exec-timeout 5 0\n"
            "ntp server 192.0.2.1\naccess-list 5 permit 192.0.2.1\nlogging host 192.0.2.2\n"
            "INTERFACE Gi1\n ip address 1.2.3.4 255.0.0.0\ninterface Gi2\n ip address 1 2\n "
            "shutdown\nip http server\nipv6 http x\nipx http\nfeature\tbash\nfeature  x\n"
            "username admin secret 9 x\nusername bob\nAAA new-model\naaa x\nlogging on\n");

    (void)state;
    diff_eval(&f->d, "fake", diff_rules);
    diff_eval(&f->d, "fake", NULL);
    free(f);
}

static void rules_eval_shared_configs(void **state)
{
    const char *dir = tw_test_shared("configs");
    char base[4096];
    size_t n_done = 0;
    DIR *dh;
    struct dirent *e;

    (void)state;
    if (dir == NULL) {
        skip();
        return;
    }
    (void)snprintf(base, sizeof(base), "%s", dir);
    dh = opendir(base);
    assert_non_null(dh);
    while ((e = readdir(dh)) != NULL) {
        char path[4400];
        char *text;
        size_t len;
        struct tw_devconf *d = NULL;
        if (e->d_name[0] == '.')
            continue;
        (void)snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
        text = tw_test_slurp(path, &len);
        if (tw_devconf_parse(text, len, path, TW_PLAT_UNKNOWN, &d, NULL) == TW_OK) {
            diff_eval(d, e->d_name, diff_rules);
            diff_eval(d, e->d_name, NULL);
            tw_devconf_free(d);
            n_done++;
        }
        tw_free(text);
    }
    assert_int_equal(closedir(dh), 0);
    assert_true(n_done >= 8);
}

/* ==== Threads ==== */

struct thread_arg {
    const struct tw_ruleset *rs;
    const struct tw_devconf *d;
    size_t findings;
    int rc;
};

static int count_only(void *ctx, const struct tw_finding *f)
{
    (void)f;
    (*(size_t *)ctx)++;
    return 0;
}

static void *thread_main(void *p)
{
    struct thread_arg *a = p;

    for (int i = 0; i < 200 && a->rc == TW_OK; i++) {
        size_t n = 0;
        a->rc = tw_ruleset_eval(a->rs, a->d, count_only, &n, NULL);
        if (i == 0)
            a->findings = n;
        else if (n != a->findings)
            a->rc = -100;
    }
    return NULL;
}

static void rules_eval_threads(void **state)
{
    struct tw_ruleset *rs = parse_ok(diff_rules);
    struct fake *f[4];
    pthread_t t[4];
    struct thread_arg a[4];

    (void)state;
    for (int i = 0; i < 4; i++) {
        f[i] = fake_new(TW_PLAT_IOS, "r", ios_cfg);
        a[i].rs = rs;
        a[i].d = &f[i]->d;
        a[i].rc = TW_OK;
        a[i].findings = 0;
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(a[i].rc, TW_OK);
        assert_int_equal(a[i].findings, a[0].findings);
        free(f[i]);
    }
    assert_true(a[0].findings > 0);
    tw_ruleset_free(rs);
}

/*
 * A substituted regex scans anew for each candidate: quadratic on a hostile
 * configuration (here 2,100 vty lines naming 2,100 undefined ACLs beside
 * 2,100 other ACLs). The evaluation's budget bounds the work; past it the
 * filter sees no match, and that is counted.
 */
static void rules_eval_subst_budget(void **state)
{
    static const char text[] = RULE("ACL-04", "high",
            " check ios\n  in /^line vty /\n  has /^access-class (\\S+) in/\n  missing "
            "/^(ip access-list (standard|extended) $1$|access-list $1 )/\n");
    struct tw_ruleset *rs = parse_ok(text);
    struct tw_devconf *d;
    struct tw_rule_stats st;
    struct tw_buf b;
    size_t n = 0;

    (void)state;
    tw_buf_init(&b, 1 << 24);
    assert_int_equal(tw_buf_puts(&b, "hostname r1\n"), TW_OK);
    for (int i = 0; i < 2100; i++)
        assert_int_equal(tw_buf_printf(&b, "access-list OK%d permit any\n", i), TW_OK);
    for (int i = 0; i < 2100; i++)
        assert_int_equal(
                tw_buf_printf(&b, "line vty %d %d\n access-class BAD%d in\n", i, i, i), TW_OK);
    d = parse_cfg(b.ptr, TW_PLAT_IOS);
    memset(&st, 0, sizeof(st));
    assert_int_equal(tw_ruleset_eval(rs, d, count_only, &n, &st), TW_OK);
    assert_int_equal(n, 2100);
    assert_true(st.regex_limit > 0 && st.regex_limit < 200);
    tw_devconf_free(d);
    tw_buf_cleanup(&b);
    tw_ruleset_free(rs);
}

/* ==== Allocation failures ==== */

static void rules_parse_alloc_failures(void **state)
{
    static const char text[] = RULE("A", "low",
            " drift ios /^snmp /\n check ios\n  in /^line /\n  has /^x (\\S+)/\n  missing /^y "
            "$1$/\n  message \"m\"\n") RULE("B", "low", " builtin drift\n drift all /./\n");
    long n;

    (void)state;
    for (n = 0; n < 10000; n++) {
        struct tw_ruleset *rs;
        struct tw_err err;
        int rc;
        tw_alloc_fail_after(n);
        rs = tw_ruleset_new();
        rc = rs != NULL ? tw_ruleset_parse(rs, text, strlen(text), "t.rules", &err) : TW_ENOMEM;
        tw_alloc_fail_reset();
        if (rc == TW_OK) {
            assert_int_equal(tw_ruleset_count(rs), 2);
            tw_ruleset_free(rs);
            break;
        }
        if (rc != TW_ENOMEM)
            print_error("after %ld allocations: %s\n", n, err.msg);
        assert_int_equal(rc, TW_ENOMEM);
        if (rs != NULL)
            assert_int_equal(tw_ruleset_count(rs), 0);
        tw_ruleset_free(rs);
    }
    assert_true(n > 5 && n < 10000);
}

static void rules_eval_alloc_failures(void **state)
{
    struct tw_ruleset *rs = parse_ok(diff_rules);
    struct fake *f = fake_new(TW_PLAT_IOS, "r", ios_cfg);
    size_t want = 0;
    long n;

    (void)state;
    assert_int_equal(tw_ruleset_eval(rs, &f->d, count_only, &want, NULL), TW_OK);
    for (n = 0; n < 10000; n++) {
        size_t got = 0;
        int rc;
        tw_alloc_fail_after(n);
        rc = tw_ruleset_eval(rs, &f->d, count_only, &got, NULL);
        tw_alloc_fail_reset();
        if (rc == TW_OK) {
            assert_int_equal(got, want);
            break;
        }
        assert_int_equal(rc, TW_ENOMEM);
    }
    assert_true(n > 3 && n < 10000);
    free(f);
    tw_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_parse_full_rule),
        cmocka_unit_test(rules_parse_empty_and_comments),
        cmocka_unit_test(rules_parse_errors_strings),
        cmocka_unit_test(rules_parse_errors_regex),
        cmocka_unit_test(rules_parse_errors_structure),
        cmocka_unit_test(rules_parse_error_unknown_platform),
        cmocka_unit_test(rules_parse_limits),
        cmocka_unit_test(rules_parse_duplicates_and_replacement),
        cmocka_unit_test(rules_catalogue_parses),
        cmocka_unit_test(rules_parse_catalogue_markers),
        cmocka_unit_test(rules_regex_prefixes),
        cmocka_unit_test(rules_regex_required_literal),
        cmocka_unit_test(rules_regex_subst_escapes),
        cmocka_unit_test(rules_eval_anchors),
        cmocka_unit_test(rules_eval_filters_and_captures),
        cmocka_unit_test(rules_eval_references),
        cmocka_unit_test(rules_eval_outputs),
        cmocka_unit_test(rules_eval_platforms),
        cmocka_unit_test(rules_eval_caseless_and_slash),
        cmocka_unit_test(rules_eval_callback_stops),
        cmocka_unit_test(rules_eval_match_limit),
        cmocka_unit_test(rules_eval_subst_budget),
        cmocka_unit_test(rules_drift_owner),
        cmocka_unit_test(rules_eval_builtins_skipped),
        cmocka_unit_test(rules_eval_masks_evidence),
        cmocka_unit_test(rules_eval_junos),
        cmocka_unit_test(rules_eval_index_differential),
        cmocka_unit_test(rules_eval_shared_configs),
        cmocka_unit_test(rules_eval_threads),
        cmocka_unit_test(rules_parse_alloc_failures),
        cmocka_unit_test(rules_eval_alloc_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
