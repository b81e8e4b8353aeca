/*
 * test_drift.c: tw_audit_drift and drift through tw_audit_device: an added
 * user, a removed logging host, a changed TACACS+ address, a password hash
 * that changed (only a masked value differs), reordered stanzas and
 * volatile lines (no change), statements no rule owns (ignored), which rule
 * owns a statement (the most severe; the first among equals), Junos in
 * brace and set form (no change) and deactivated statements, and that no
 * secret of either configuration reaches a finding.
 */
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"
#include "tidewatch/devconf.h"
#include "tw_test.h"

/* ==== Fixtures ==== */

static const char rules_text[] =
        "rule AUD-AAA-04\n"
        "    title \"Privileged local accounts beyond break-glass\"\n"
        "    severity high\n"
        "    drift ios iosxe /^username /\n"
        "end\n"
        "rule AUD-CRY-14\n"
        "    title \"Default or known-malicious account names\"\n"
        "    severity critical\n"
        "    drift ios iosxe /^username (cisco|admin)\\b/\n"
        "end\n"
        "rule AUD-AAA-06\n"
        "    title \"AAA server address not in approved set\"\n"
        "    severity critical\n"
        "    drift ios iosxe /^(tacacs server |tacacs-server host |radius server )/\n"
        "    drift junos /^system (tacplus-server|radius-server) /\n"
        "end\n"
        "rule AUD-LOG-02\n"
        "    title \"Log destination removed or changed\"\n"
        "    severity high\n"
        "    drift ios iosxe /^logging (host )?[0-9]/\n"
        "    drift junos /^system syslog host /\n"
        "end\n"
        "rule AUD-LOG-06\n"
        "    title \"NTP absent or unauthenticated\"\n"
        "    severity medium\n"
        "    drift ios iosxe /^ntp /\n"
        "end\n"
        "rule AUD-SVC-07\n"
        "    title \"On-box automation or scripts present\"\n"
        "    severity medium\n"
        "    drift ios iosxe /^event manager applet /\n"
        "end\n"
        "rule AUD-SVC-07B\n"
        "    title \"Automation, second owner of equal severity\"\n"
        "    severity medium\n"
        "    drift ios iosxe /^event manager /\n"
        "end\n";

static const char drift_rule[] = "rule AUD-DRF-01\n"
                                 "    title \"Security-relevant stanza differs from baseline\"\n"
                                 "    severity medium\n"
                                 "    needs baseline\n"
                                 "    builtin drift\n"
                                 "end\n";

static const char *const secrets[] = { "BASEhash", "EVILhash", "OPShash", "NEWhash", "094F471A1A0A",
    "abcdefg", "JUNOSsecret" };

static const char baseline_text[] =
        "version 17.9\n"                                            /* 1 */
        "hostname core1\n"                                          /* 2 */
        "username admin privilege 15 secret 9 $9$BASEhash0123456\n" /* 3 */
        "username ops privilege 1 secret 9 $9$OPShash0123456\n"     /* 4 */
        "tacacs server TAC1\n"                                      /* 5 */
        " address ipv4 198.51.100.9\n"                              /* 6 */
        " key 7 094F471A1A0A\n"                                     /* 7 */
        "logging host 192.0.2.20\n"                                 /* 8 */
        "logging host 192.0.2.21\n"                                 /* 9 */
        "ntp clock-period 17179869\n"                               /* 10 */
        "ntp server 192.0.2.123\n"                                  /* 11 */
        "event manager applet WATCH\n"                              /* 12 */
        " action 1.0 syslog msg \"hi\"\n"                           /* 13 */
        "end\n";

/* The device: a new user, admin's hash changed, a logging host gone, TACACS+ moved, and
 * everything in a different order, with different volatile lines and hostname. */
static const char device_text[] =
        "! Last configuration change at 09:37:40 CEST Tue Aug 20 2024 by oxidized\n" /* 1 */
        "version 17.9\n"                                                             /* 2 */
        "hostname core1-renamed\n"                                                   /* 3 */
        "event manager applet WATCH\n"                                               /* 4 */
        " action 1.0 syslog msg \"bye\"\n"                                           /* 5 */
        "ntp server 192.0.2.123\n"                                                   /* 6 */
        "ntp clock-period 17180000\n"                                                /* 7 */
        "logging host 192.0.2.20\n"                                                  /* 8 */
        "tacacs server TAC1\n"                                                       /* 9 */
        " key 7 094F471A1A0A\n"                                                      /* 10 */
        " address ipv4 203.0.113.9\n"                                                /* 11 */
        "username ops privilege 1 secret 9 $9$OPShash0123456\n"                      /* 12 */
        "username admin privilege 15 secret 9 $9$NEWhash01234567\n"                  /* 13 */
        "username evil privilege 15 secret 9 $9$EVILhash0123456\n"                   /* 14 */
        "end\n";

/* The baseline reordered: stanzas and the lines inside them. */
static const char reordered_text[] = "version 17.9\n"
                                     "event manager applet WATCH\n"
                                     " action 1.0 syslog msg \"hi\"\n"
                                     "ntp server 192.0.2.123\n"
                                     "logging host 192.0.2.21\n"
                                     "tacacs server TAC1\n"
                                     " key 7 094F471A1A0A\n"
                                     " address ipv4 198.51.100.9\n"
                                     "username ops privilege 1 secret 9 $9$OPShash0123456\n"
                                     "logging host 192.0.2.20\n"
                                     "hostname core1\n"
                                     "username admin privilege 15 secret 9 $9$BASEhash0123456\n"
                                     "ntp clock-period 99999999\n"
                                     "end\n";

static struct tw_ruleset *rules(bool with_drift_rule)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;

    assert_non_null(rs);
    if (tw_ruleset_parse(rs, rules_text, strlen(rules_text), "drift.rules", &err) != TW_OK)
        fail_msg("rules: %s", err.msg);
    if (with_drift_rule &&
            tw_ruleset_parse(rs, drift_rule, strlen(drift_rule), "drf.rules", &err) != TW_OK)
        fail_msg("rules: %s", err.msg);
    return rs;
}

static struct tw_devconf *device(const char *text, const char *path, enum tw_platform p)
{
    struct tw_devconf *d = NULL;
    struct tw_err err;

    if (tw_devconf_parse(text, strlen(text), path, p, &d, &err) != TW_OK)
        fail_msg("%s: %s", path, err.msg);
    return d;
}

/* ==== Collecting ==== */

#define MAX_FINDINGS 32

struct got {
    size_t n;
    char rule[MAX_FINDINGS][32];
    char touches[MAX_FINDINGS][32];
    char file[MAX_FINDINGS][64];
    char evidence[MAX_FINDINGS][256];
    char context[MAX_FINDINGS][256];
    char message[MAX_FINDINGS][512];
    uint32_t line[MAX_FINDINGS];
    char delta[MAX_FINDINGS];
    enum tw_severity sev[MAX_FINDINGS];
};

static int collect(void *ctx, const struct tw_finding *f)
{
    struct got *g = ctx;
    const char *fields[] = { f->device, f->file, f->rule_id, f->title, f->context, f->evidence,
        f->message, f->touches, f->ref };
    size_t i = g->n;

    for (size_t k = 0; k < TW_ARRAY_LEN(fields); k++) {
        assert_non_null(fields[k]);
        for (size_t s = 0; s < TW_ARRAY_LEN(secrets); s++)
            if (strstr(fields[k], secrets[s]) != NULL)
                fail_msg("secret '%s' in a drift finding: %s", secrets[s], fields[k]);
    }
    assert_true(i < MAX_FINDINGS);
    snprintf(g->rule[i], sizeof(g->rule[i]), "%s", f->rule_id);
    snprintf(g->touches[i], sizeof(g->touches[i]), "%s", f->touches);
    snprintf(g->file[i], sizeof(g->file[i]), "%s", f->file);
    snprintf(g->evidence[i], sizeof(g->evidence[i]), "%s", f->evidence);
    snprintf(g->context[i], sizeof(g->context[i]), "%s", f->context);
    snprintf(g->message[i], sizeof(g->message[i]), "%s", f->message);
    g->line[i] = f->line;
    g->delta[i] = f->delta;
    g->sev[i] = f->severity;
    g->n++;
    return 0;
}

/* The finding with this delta and evidence, or -1. */
static long find(const struct got *g, char delta, const char *evidence)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->delta[i] == delta && strcmp(g->evidence[i], evidence) == 0)
            return (long)i;
    return -1;
}

static struct got drift(const struct tw_ruleset *rs, const struct tw_devconf *d,
        const struct tw_devconf *base, uint64_t *changes)
{
    struct got g;

    memset(&g, 0, sizeof(g));
    assert_int_equal(tw_audit_drift(rs, d, base, collect, &g, changes), TW_OK);
    return g;
}

/* ==== IOS family ==== */

static void drift_reports_added_removed_and_changed_lines(void **state)
{
    struct tw_ruleset *rs = rules(true);
    struct tw_devconf *base = device(baseline_text, "base/core1.cfg", TW_PLAT_IOSXE);
    struct tw_devconf *d = device(device_text, "now/core1.cfg", TW_PLAT_IOSXE);
    uint64_t changes = 0;
    struct got g = drift(rs, d, base, &changes);
    long i;

    (void)state;
    /* Added user: a finding of the drift rule, touching the owner, with its severity. */
    i = find(&g, '+', "username evil privilege 15 secret 9 <masked>");
    assert_true(i >= 0);
    assert_string_equal(g.rule[i], "AUD-DRF-01");
    assert_string_equal(g.touches[i], "AUD-AAA-04");
    assert_int_equal(g.sev[i], TW_SEV_HIGH);
    assert_int_equal(g.line[i], 14);
    assert_string_equal(g.file[i], "now/core1.cfg");
    assert_non_null(strstr(g.message[i], "added"));
    /* Removed logging host: the baseline's line and file, and the message says so. */
    i = find(&g, '-', "logging host 192.0.2.21");
    assert_true(i >= 0);
    assert_string_equal(g.touches[i], "AUD-LOG-02");
    assert_int_equal(g.line[i], 9);
    assert_string_equal(g.file[i], "base/core1.cfg");
    assert_non_null(strstr(g.message[i], "removed"));
    assert_non_null(strstr(g.message[i], "baseline"));
    assert_non_null(strstr(g.message[i], "line 9"));
    /* Changed TACACS+ address: the old line removed, the new added, under their stanza. */
    i = find(&g, '-', "address ipv4 198.51.100.9");
    assert_true(i >= 0);
    assert_string_equal(g.context[i], "tacacs server TAC1");
    assert_string_equal(g.touches[i], "AUD-AAA-06");
    assert_int_equal(g.sev[i], TW_SEV_CRITICAL);
    assert_int_equal(g.line[i], 6);
    i = find(&g, '+', "address ipv4 203.0.113.9");
    assert_true(i >= 0);
    assert_int_equal(g.line[i], 11);
    /* Admin's hash changed: only in a masked value, owned by the more severe rule. */
    i = find(&g, '+', "username admin privilege 15 secret 9 <masked>");
    assert_true(i >= 0);
    assert_string_equal(g.touches[i], "AUD-CRY-14");
    assert_int_equal(g.sev[i], TW_SEV_CRITICAL);
    assert_non_null(strstr(g.message[i], "only in a masked value"));
    i = find(&g, '-', "username admin privilege 15 secret 9 <masked>");
    assert_true(i >= 0);
    assert_non_null(strstr(g.message[i], "only in a masked value"));
    /* The applet's action changed: of two owners of equal severity the first owns it. */
    i = find(&g, '+', "action 1.0 syslog msg \"bye\"");
    assert_true(i >= 0);
    assert_string_equal(g.touches[i], "AUD-SVC-07");
    assert_string_equal(g.context[i], "event manager applet WATCH");
    /* Nothing else: the hostname has no owner, ntp clock-period and the comment are volatile. */
    assert_int_equal(changes, 8);
    assert_int_equal(g.n, 8);
    /* Removed lines come first, in baseline order, then added lines in device order. */
    for (size_t k = 1; k < g.n; k++) {
        assert_false(g.delta[k - 1] == '+' && g.delta[k] == '-');
        if (g.delta[k - 1] == g.delta[k])
            assert_true(g.line[k - 1] <= g.line[k]);
    }
    tw_devconf_free(d);
    tw_devconf_free(base);
    tw_ruleset_free(rs);
}

static void drift_reordering_and_volatile_lines_are_no_change(void **state)
{
    struct tw_ruleset *rs = rules(true);
    struct tw_devconf *base = device(baseline_text, "base/core1.cfg", TW_PLAT_IOSXE);
    struct tw_devconf *d = device(reordered_text, "now/core1.cfg", TW_PLAT_IOSXE);
    uint64_t changes = 99;
    struct got g = drift(rs, d, base, &changes);

    (void)state;
    assert_int_equal(changes, 0);
    assert_int_equal(g.n, 0);
    /* A device against itself. */
    g = drift(rs, base, base, &changes);
    assert_int_equal(changes, 0);
    tw_devconf_free(d);
    tw_devconf_free(base);
    tw_ruleset_free(rs);
}

static void drift_without_a_drift_rule_reports_through_the_owner(void **state)
{
    struct tw_ruleset *rs = rules(false);
    struct tw_devconf *base = device(baseline_text, "base/core1.cfg", TW_PLAT_IOSXE);
    struct tw_devconf *d = device(device_text, "now/core1.cfg", TW_PLAT_IOSXE);
    struct got g = drift(rs, d, base, NULL);
    long i = find(&g, '-', "logging host 192.0.2.21");

    (void)state;
    assert_true(i >= 0);
    assert_string_equal(g.rule[i], "AUD-LOG-02");
    assert_string_equal(g.touches[i], "AUD-LOG-02");
    tw_devconf_free(d);
    tw_devconf_free(base);
    tw_ruleset_free(rs);
}

static void drift_through_audit_device(void **state)
{
    struct tw_ruleset *rs = rules(true);
    struct tw_devconf *base = device(baseline_text, "base/core1.cfg", TW_PLAT_IOSXE);
    struct tw_devconf *d = device(device_text, "now/core1.cfg", TW_PLAT_IOSXE);
    struct tw_audit_config c = { rs, NULL, NULL, false, TW_SEV_HIGH };
    struct tw_audit_stats st;
    struct got g;

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_int_equal(tw_audit_device(&c, d, base, collect, &g, &st), TW_OK);
    assert_int_equal(st.drift_changes, 8);
    /* The medium applet changes are below the threshold. */
    assert_int_equal(g.n, 6);
    for (size_t i = 0; i < g.n; i++)
        assert_true(g.sev[i] >= TW_SEV_HIGH);
    /* No baseline: no drift. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(tw_audit_device(&c, d, NULL, collect, &g, &st), TW_OK);
    assert_int_equal(st.drift_changes, 0);
    assert_int_equal(g.n, 0);
    tw_devconf_free(d);
    tw_devconf_free(base);
    tw_ruleset_free(rs);
}

/* ==== Junos ==== */

static const char junos_brace[] = "## Last commit: 2024-12-06 11:41:05 UTC by root\n"
                                  "version 22.4R3-S2.11;\n"
                                  "system {\n"
                                  "    host-name srx1;\n"
                                  "    syslog {\n"
                                  "        host 192.0.2.20 {\n"
                                  "            any any;\n"
                                  "        }\n"
                                  "    }\n"
                                  "    tacplus-server {\n"
                                  "        198.51.100.9 {\n"
                                  "            secret \"$9$abcdefgJUNOSsecret\"; ## SECRET-DATA\n"
                                  "        }\n"
                                  "    }\n"
                                  "}\n";

static const char junos_set[] = "set version 22.4R3-S2.11\n"
                                "set system tacplus-server 198.51.100.9 secret "
                                "\"$9$abcdefgJUNOSsecret\"\n"
                                "set system host-name srx1\n"
                                "set system syslog host 192.0.2.20 any any\n";

static const char junos_set_changed[] = "set version 22.4R3-S2.11\n"
                                        "set system host-name srx1\n"
                                        "set system syslog host 203.0.113.20 any any\n"
                                        "set system tacplus-server 198.51.100.9 secret "
                                        "\"$9$abcdefgJUNOSsecret\"\n"
                                        "deactivate system tacplus-server 198.51.100.9\n";

static void drift_junos_brace_and_set_forms_are_the_same(void **state)
{
    struct tw_ruleset *rs = rules(true);
    struct tw_devconf *brace = device(junos_brace, "base/srx1.conf", TW_PLAT_JUNOS);
    struct tw_devconf *set = device(junos_set, "now/srx1.set", TW_PLAT_JUNOS);
    uint64_t changes = 99;
    struct got g = drift(rs, set, brace, &changes);

    (void)state;
    assert_int_equal(changes, 0);
    assert_int_equal(g.n, 0);
    g = drift(rs, brace, set, &changes);
    assert_int_equal(changes, 0);
    tw_devconf_free(set);
    tw_devconf_free(brace);
    tw_ruleset_free(rs);
}

static void drift_junos_changes_and_deactivation(void **state)
{
    struct tw_ruleset *rs = rules(true);
    struct tw_devconf *brace = device(junos_brace, "base/srx1.conf", TW_PLAT_JUNOS);
    struct tw_devconf *d = device(junos_set_changed, "now/srx1.set", TW_PLAT_JUNOS);
    uint64_t changes = 0;
    struct got g = drift(rs, d, brace, &changes);
    long i;

    (void)state;
    i = find(&g, '-', "system syslog host 192.0.2.20 any any");
    assert_true(i >= 0);
    assert_string_equal(g.touches[i], "AUD-LOG-02");
    assert_string_equal(g.file[i], "base/srx1.conf");
    assert_true(find(&g, '+', "system syslog host 203.0.113.20 any any") >= 0);
    /* Deactivating the TACACS+ server is a change of that statement, not a masked value. */
    for (size_t k = 0; k < g.n; k++) {
        if (strcmp(g.touches[k], "AUD-AAA-06") != 0)
            continue;
        assert_non_null(strstr(g.evidence[k], "system tacplus-server 198.51.100.9"));
        assert_null(strstr(g.message[k], "masked value"));
    }
    assert_int_equal(changes, 4);
    tw_devconf_free(d);
    tw_devconf_free(brace);
    tw_ruleset_free(rs);
}

/* ==== Robustness ==== */

static int stop(void *ctx, const struct tw_finding *f)
{
    (void)f;
    (*(int *)ctx)++;
    return 3;
}

static void drift_callback_stops_and_allocation_failures(void **state)
{
    struct tw_ruleset *rs = rules(true);
    struct tw_devconf *base = device(baseline_text, "base/core1.cfg", TW_PLAT_IOSXE);
    struct tw_devconf *d = device(device_text, "now/core1.cfg", TW_PLAT_IOSXE);
    int calls = 0;
    bool done = false;

    (void)state;
    assert_int_equal(tw_audit_drift(rs, d, base, stop, &calls, NULL), 3);
    assert_int_equal(calls, 1);
    assert_int_equal(tw_audit_drift(rs, d, NULL, stop, &calls, NULL), TW_EINVAL);
    /*
     * Every failure point: TW_ENOMEM or a clean result, never a crash or a leak. The
     * rule set's owner lookup (tw_ruleset_drift_owner) answers "no owner" when it cannot
     * allocate, so a run under injection may find fewer changes; it must find them all
     * once allocations succeed.
     */
    for (long fail = 0; fail < 1000 && !done; fail++) {
        struct got g;
        uint64_t changes = 0;
        int rc;

        memset(&g, 0, sizeof(g));
        tw_alloc_fail_after(fail);
        rc = tw_audit_drift(rs, d, base, collect, &g, &changes);
        tw_alloc_fail_reset();
        if (rc == TW_OK) {
            assert_true(g.n <= 8);
            assert_int_equal(changes, g.n);
            done = g.n == 8 && fail > 200;
        } else {
            assert_int_equal(rc, TW_ENOMEM);
        }
    }
    assert_true(done);
    tw_devconf_free(d);
    tw_devconf_free(base);
    tw_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drift_reports_added_removed_and_changed_lines),
        cmocka_unit_test(drift_reordering_and_volatile_lines_are_no_change),
        cmocka_unit_test(drift_without_a_drift_rule_reports_through_the_owner),
        cmocka_unit_test(drift_through_audit_device),
        cmocka_unit_test(drift_junos_brace_and_set_forms_are_the_same),
        cmocka_unit_test(drift_junos_changes_and_deactivation),
        cmocka_unit_test(drift_callback_stops_and_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
