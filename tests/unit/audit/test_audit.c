/*
 * test_audit.c: tw_audit_device over small rule sets (tw_ruleset_parse),
 * small configurations (tw_devconf_parse, with `show version` supplied as an
 * output) and an intelligence index built from a STIX bundle: IOC addresses
 * in an ACL, a tunnel destination and an ERSPAN destination, inside an ACL
 * prefix, revoked and expired indicators; the cve builtin on both sides of
 * a fixed release, in unknown trains, with its precondition met or not;
 * version-unknown; min_severity; a stable order; stats; the callback's stop;
 * allocation failures; and that no secret of the configuration reaches any
 * finding.
 */
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"
#include "tidewatch/buf.h"
#include "tidewatch/devconf.h"
#include "tidewatch/index.h"
#include "tidewatch/stix.h"
#include "tw_test.h"

/* ==== Fixtures ==== */

static const char rules_text[] = "rule AUD-MGT-04\n"
                                 "    title \"Clear-text HTTP management server\"\n"
                                 "    severity high\n"
                                 "    check ios iosxe\n"
                                 "        has /^ip http server$/\n"
                                 "end\n"
                                 "rule AUD-MGT-05\n"
                                 "    title \"IOS XE HTTPS web UI enabled\"\n"
                                 "    severity medium\n"
                                 "    check iosxe\n"
                                 "        has /^ip http secure-server$/\n"
                                 "end\n"
                                 "rule AUD-MGT-08\n"
                                 "    title \"Smart Install client not disabled\"\n"
                                 "    severity critical\n"
                                 "    check ios iosxe\n"
                                 "        lacks /^no vstack$/\n"
                                 "end\n"
                                 "rule AUD-ACL-01\n"
                                 "    title \"IOC address present in config\"\n"
                                 "    severity critical\n"
                                 "    needs config intel\n"
                                 "    builtin ioc-addresses\n"
                                 "end\n"
                                 "rule AUD-VER-01\n"
                                 "    title \"IOS XE web UI CVE-2023-20198 / -20273\"\n"
                                 "    severity critical\n"
                                 "    builtin cve\n"
                                 "end\n"
                                 "rule AUD-VER-02\n"
                                 "    title \"Smart Install CVE-2018-0171\"\n"
                                 "    severity critical\n"
                                 "    builtin cve\n"
                                 "end\n"
                                 "rule AUD-VER-08\n"
                                 "    title \"Exact version not determinable\"\n"
                                 "    severity info\n"
                                 "    builtin version-unknown\n"
                                 "end\n";

/* Secrets of the configuration below; none may appear in a finding. */
static const char *const secrets[] = { "S3cretComm", "SECRETHASHvalue", "094F471A1A0A",
    "ENABLEsecret", "t0ps3cret" };

static const char config_text[] =
        "!\n"
        "version 17.9\n"
        "hostname edge1\n"
        "!\n"
        "username admin privilege 15 secret 9 $9$SECRETHASHvalue1234567890abc\n"
        "enable secret 9 $9$ENABLEsecretHASHabcdefghij\n"
        "ip http server\n"
        "ip http secure-server\n"
        "snmp-server community S3cretComm RW 20\n"
        "snmp-server community 203.0.113.77 RO\n"
        "access-list 20 permit 203.0.113.77\n"
        "access-list 20 permit 198.51.100.0 0.0.0.255\n"
        "tacacs server TAC1\n"
        " address ipv4 198.51.100.9\n"
        " key 7 094F471A1A0A\n"
        "interface Tunnel99\n"
        " ip address 10.255.255.1 255.255.255.252\n"
        " tunnel source Loopback99\n"
        " tunnel destination 203.0.113.77\n"
        "monitor session 1 type erspan-source\n"
        " source interface Gi1/0/1 both\n"
        " destination\n"
        "  erspan-id 99\n"
        "  ip address 203.0.113.77\n"
        "  origin ip address 10.255.255.1\n"
        "logging host 192.0.2.20\n"
        "ipv6 route 2001:db8:1::/48 2001:db8::66\n"
        "archive\n"
        " path tftp://backup:t0ps3cret@192.0.2.99/cfg\n"
        "line vty 0 4\n"
        " transport input ssh\n"
        "end\n";

/* Line numbers of config_text. */
#define LINE_COMMUNITY_IP 10
#define LINE_ACL_HOST     11
#define LINE_ACL_PREFIX   12
#define LINE_TACACS_ADDR  14
#define LINE_TUNNEL_DEST  19
#define LINE_ERSPAN_DEST  24
#define LINE_LOGGING      26
#define LINE_IPV6_ROUTE   27

#define IND(n) "indicator--00000000-0000-4000-8000-0000000000" #n

/* The bundle: a C2 address, a revoked one, one inside an ACL prefix, an expired one, IPv6. */
static const char bundle[] =
        "{\"type\": \"bundle\", \"id\": \"bundle--00000000-0000-4000-8000-000000000001\","
        " \"objects\": ["
        "{\"type\": \"indicator\", \"spec_version\": \"2.1\", \"id\": \"" IND(
                01) "\","
                    " \"created\": \"2025-01-01T00:00:00.000Z\", \"modified\": "
                    "\"2025-01-01T00:00:00.000Z\","
                    " \"name\": \"Salt Typhoon C2\", \"pattern\": \"[ipv4-addr:value = "
                    "'203.0.113.77']\","
                    " \"pattern_type\": \"stix\", \"valid_from\": \"2025-01-01T00:00:00Z\"},"
                    "{\"type\": \"indicator\", \"spec_version\": \"2.1\", \"id\": \"" IND(
                            02) "\","
                                " \"created\": \"2025-01-01T00:00:00.000Z\", \"modified\": "
                                "\"2025-01-01T00:00:00.000Z\","
                                " \"name\": \"Withdrawn\", \"pattern\": \"[ipv4-addr:value = "
                                "'192.0.2.20']\","
                                " \"pattern_type\": \"stix\", \"valid_from\": "
                                "\"2025-01-01T00:00:00Z\", \"revoked\": true},"
                                "{\"type\": \"indicator\", \"spec_version\": \"2.1\", \"id\": "
                                "\"" IND(
                                        03) "\","
                                            " \"created\": \"2025-01-01T00:00:00.000Z\", "
                                            "\"modified\": \"2025-01-01T00:00:00.000Z\","
                                            " \"name\": \"Inside\", \"pattern\": "
                                            "\"[ipv4-addr:value = '198.51.100.42']\","
                                            " \"pattern_type\": \"stix\", \"valid_from\": "
                                            "\"2025-01-01T00:00:00Z\"},"
                                            "{\"type\": \"indicator\", \"spec_version\": \"2.1\", "
                                            "\"id\": \"" IND(
                                                    04) "\","
                                                        " \"created\": "
                                                        "\"2020-01-01T00:00:00.000Z\", "
                                                        "\"modified\": "
                                                        "\"2020-01-01T00:00:00.000Z\","
                                                        " \"name\": \"Old AAA\", \"pattern\": "
                                                        "\"[ipv4-addr:value = '198.51.100.9']\","
                                                        " \"pattern_type\": \"stix\", "
                                                        "\"valid_from\": \"2020-01-01T00:00:00Z\","
                                                        " \"valid_until\": "
                                                        "\"2021-01-01T00:00:00Z\"},"
                                                        "{\"type\": \"indicator\", "
                                                        "\"spec_version\": \"2.1\", \"id\": \"" IND(
                                                                05) "\","
                                                                    " \"created\": "
                                                                    "\"2025-01-01T00:00:00.000Z\", "
                                                                    "\"modified\": "
                                                                    "\"2025-01-01T00:00:00.000Z\","
                                                                    " \"name\": \"v6\", "
                                                                    "\"pattern\": "
                                                                    "\"[ipv6-addr:value = "
                                                                    "'2001:db8::66']\","
                                                                    " \"pattern_type\": \"stix\", "
                                                                    "\"valid_from\": "
                                                                    "\"2025-01-01T00:00:00Z\"}"
                                                                    "]}";

static int add_indicator(const struct tw_stix_indicator *ind, void *ctx)
{
    struct tw_err err;

    if (tw_index_add(ctx, ind->obj->json, (uint8_t)ind->tlp, &err) != TW_OK)
        fail_msg("indicator %s: %s", ind->id, err.msg);
    return 0;
}

static struct tw_index *intel(void)
{
    struct tw_stix_bundle *b = NULL;
    struct tw_index *idx = tw_index_new(100);
    struct tw_err err;

    assert_non_null(idx);
    if (tw_stix_read_mem(bundle, sizeof(bundle) - 1, "test.json", 0, &b, &err) != TW_OK)
        fail_msg("bundle: %s", err.msg);
    assert_int_equal(tw_stix_bundle_n_errors(b), 0);
    assert_int_equal(tw_stix_each_indicator(b, add_indicator, idx), TW_OK);
    assert_int_equal(tw_index_count(idx), 5);
    assert_int_equal(tw_index_build(idx), TW_OK);
    tw_stix_bundle_free(b);
    return idx;
}

static struct tw_ruleset *rules(const char *text)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;

    assert_non_null(rs);
    if (tw_ruleset_parse(rs, text, strlen(text), "test.rules", &err) != TW_OK)
        fail_msg("rules: %s", err.msg);
    return rs;
}

/* A device from text, with `show version` saying version when it is not NULL. */
static struct tw_devconf *device(const char *text, const char *version)
{
    struct tw_devconf *d = NULL;
    struct tw_err err;

    if (tw_devconf_parse(text, strlen(text), "edge1.cfg", TW_PLAT_UNKNOWN, &d, &err) != TW_OK)
        fail_msg("config: %s", err.msg);
    if (version != NULL) {
        char sv[512];
        snprintf(sv, sizeof(sv),
                "Cisco IOS XE Software, Version %s\n"
                "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), "
                "Version %s, RELEASE SOFTWARE (fc2)\n"
                "cisco C9300-24T (X86) processor with 1338934K/6147K bytes of memory.\n",
                version, version);
        if (tw_devconf_add_output(d, TW_OP_SHOW_VERSION, sv, strlen(sv), &err) != TW_OK)
            fail_msg("show version: %s", err.msg);
    }
    return d;
}

/* ==== Collecting findings ==== */

#define MAX_FINDINGS 64

struct got {
    size_t n;
    char rule[MAX_FINDINGS][32];
    char evidence[MAX_FINDINGS][256];
    char context[MAX_FINDINGS][256];
    char message[MAX_FINDINGS][512];
    char ref[MAX_FINDINGS][64];
    uint32_t line[MAX_FINDINGS];
    enum tw_severity sev[MAX_FINDINGS];
    int stop_at; /* return 5 at this finding (1-based), 0: never */
};

/* Fails when any string of f holds a secret of the configuration. */
static void check_no_secret(const struct tw_finding *f)
{
    const char *fields[] = { f->device, f->file, f->rule_id, f->title, f->context, f->evidence,
        f->message, f->touches, f->ref };

    for (size_t i = 0; i < TW_ARRAY_LEN(fields); i++) {
        assert_non_null(fields[i]);
        for (size_t s = 0; s < TW_ARRAY_LEN(secrets); s++)
            if (strstr(fields[i], secrets[s]) != NULL)
                fail_msg("secret '%s' in a finding of %s: %s", secrets[s], f->rule_id, fields[i]);
    }
}

static int collect(void *ctx, const struct tw_finding *f)
{
    struct got *g = ctx;
    size_t i = g->n;

    check_no_secret(f);
    assert_true(i < MAX_FINDINGS);
    snprintf(g->rule[i], sizeof(g->rule[i]), "%s", f->rule_id);
    snprintf(g->evidence[i], sizeof(g->evidence[i]), "%s", f->evidence);
    snprintf(g->context[i], sizeof(g->context[i]), "%s", f->context);
    snprintf(g->message[i], sizeof(g->message[i]), "%s", f->message);
    snprintf(g->ref[i], sizeof(g->ref[i]), "%s", f->ref);
    g->line[i] = f->line;
    g->sev[i] = f->severity;
    g->n++;
    return g->stop_at != 0 && (int)g->n == g->stop_at ? 5 : 0;
}

/* Index of the n-th (0-based) finding of rule id at line (0: any line), or -1. */
static long find(const struct got *g, const char *rule, uint32_t line, const char *ref)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->rule[i], rule) == 0 && (line == 0 || g->line[i] == line) &&
                (ref == NULL || strcmp(g->ref[i], ref) == 0))
            return (long)i;
    return -1;
}

static size_t count(const struct got *g, const char *rule)
{
    size_t n = 0;

    for (size_t i = 0; i < g->n; i++)
        n += strcmp(g->rule[i], rule) == 0;
    return n;
}

struct world {
    struct tw_ruleset *rs;
    struct tw_vulndb *db;
    struct tw_index *idx;
    struct tw_devconf *d;
};

static struct world world(const char *version)
{
    struct world w;
    struct tw_err err;

    w.rs = rules(rules_text);
    w.db = NULL;
    assert_int_equal(tw_vulndb_builtin(&w.db, &err), TW_OK);
    w.idx = intel();
    w.d = device(config_text, version);
    return w;
}

static void world_free(struct world *w)
{
    tw_devconf_free(w->d);
    tw_index_free(w->idx);
    tw_vulndb_free(w->db);
    tw_ruleset_free(w->rs);
}

static struct got audit(const struct world *w, bool respect_validity, enum tw_severity min,
        struct tw_audit_stats *st)
{
    struct tw_audit_config c = { w->rs, w->db, w->idx, respect_validity, min };
    struct got g;

    memset(&g, 0, sizeof(g));
    assert_int_equal(tw_audit_device(&c, w->d, NULL, collect, &g, st), TW_OK);
    return g;
}

/* ==== IOC addresses ==== */

static void audit_ioc_addresses_hit_acl_tunnel_and_erspan(void **state)
{
    struct world w = world("17.09.03");
    struct tw_audit_stats st;
    struct got g = audit(&w, false, TW_SEV_INFO, &st);
    long i;

    (void)state;
    /* The ACL entry, the tunnel destination and the ERSPAN destination, each naming the C2. */
    i = find(&g, "AUD-ACL-01", LINE_ACL_HOST, IND(01));
    assert_true(i >= 0);
    assert_string_equal(g.evidence[i], "access-list 20 permit 203.0.113.77");
    assert_string_equal(g.context[i], "");
    assert_non_null(strstr(g.message[i], "Salt Typhoon C2"));
    assert_non_null(strstr(g.message[i], "203.0.113.77"));
    assert_int_equal(g.sev[i], TW_SEV_CRITICAL);
    i = find(&g, "AUD-ACL-01", LINE_TUNNEL_DEST, IND(01));
    assert_true(i >= 0);
    assert_string_equal(g.evidence[i], "tunnel destination 203.0.113.77");
    assert_string_equal(g.context[i], "interface Tunnel99");
    i = find(&g, "AUD-ACL-01", LINE_ERSPAN_DEST, IND(01));
    assert_true(i >= 0);
    assert_string_equal(g.evidence[i], "ip address 203.0.113.77");
    assert_string_equal(g.context[i], "monitor session 1 type erspan-source > destination");
    /* An indicator inside the ACL's 198.51.100.0/24. */
    i = find(&g, "AUD-ACL-01", LINE_ACL_PREFIX, IND(03));
    assert_true(i >= 0);
    assert_non_null(strstr(g.message[i], "198.51.100.0/24 contains 198.51.100.42"));
    /* Expired but not revoked: a hit when validity is not respected, at the AAA server and
     * inside the same ACL prefix. */
    assert_true(find(&g, "AUD-ACL-01", LINE_TACACS_ADDR, IND(04)) >= 0);
    i = find(&g, "AUD-ACL-01", LINE_ACL_PREFIX, IND(04));
    assert_true(i >= 0);
    assert_non_null(strstr(g.message[i], "198.51.100.0/24 contains 198.51.100.9"));
    /* IPv6. */
    assert_true(find(&g, "AUD-ACL-01", LINE_IPV6_ROUTE, IND(05)) >= 0);
    /* The revoked indicator never hits; an address inside a masked community is never seen. */
    assert_int_equal(find(&g, "AUD-ACL-01", LINE_LOGGING, NULL), -1);
    assert_int_equal(find(&g, "AUD-ACL-01", 0, IND(02)), -1);
    assert_int_equal(find(&g, "AUD-ACL-01", LINE_COMMUNITY_IP, NULL), -1);
    assert_int_equal(count(&g, "AUD-ACL-01"), 7);
    /* 11 literals: the community that looks like an address is masked, never scanned. */
    assert_int_equal(st.ip_literals, 11);
    world_free(&w);
}

static void audit_respect_validity_drops_expired_indicators(void **state)
{
    struct world w = world("17.09.03");
    struct got g = audit(&w, true, TW_SEV_INFO, NULL);

    (void)state;
    assert_int_equal(find(&g, "AUD-ACL-01", LINE_TACACS_ADDR, NULL), -1);
    assert_int_equal(find(&g, "AUD-ACL-01", 0, IND(04)), -1);
    assert_int_equal(count(&g, "AUD-ACL-01"), 5);
    world_free(&w);
}

static void audit_without_intel_has_no_ioc_findings(void **state)
{
    struct world w = world("17.09.03");
    struct tw_audit_config c = { w.rs, w.db, NULL, false, TW_SEV_INFO };
    struct got g;

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_int_equal(tw_audit_device(&c, w.d, NULL, collect, &g, NULL), TW_OK);
    assert_int_equal(count(&g, "AUD-ACL-01"), 0);
    world_free(&w);
}

/*
 * Searching inside prefixes has a budget per device (about a million lookups): an
 * indicator inside the first prefixes is found, one inside a prefix past the budget is
 * not (that prefix is still looked up by its network address). The log says so.
 */
static void audit_inside_prefix_search_is_bounded(void **state)
{
    struct tw_ruleset *rs = rules(rules_text);
    struct tw_index *idx = intel();
    struct tw_buf text;
    struct tw_devconf *d = NULL;
    struct tw_err err;
    struct tw_audit_config c = { rs, NULL, idx, false, TW_SEV_INFO };
    struct got g;

    (void)state;
    tw_buf_init(&text, (size_t)1 << 20);
    /* 198.51.100.0/24 first (holds indicator 3), then 5000 /24s, then 203.0.113.0/24. */
    assert_int_equal(tw_buf_puts(&text, "access-list 20 permit 198.51.100.0 0.0.0.255\n"), TW_OK);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(tw_buf_printf(&text, "access-list 20 permit 10.%d.%d.0 0.0.0.255\n",
                                 i / 256, i % 256),
                TW_OK);
    assert_int_equal(
            tw_buf_puts(&text, "access-list 20 permit 203.0.113.0 0.0.0.255\nend\n"), TW_OK);
    if (tw_devconf_parse(text.ptr, text.len, "big.cfg", TW_PLAT_IOS, &d, &err) != TW_OK)
        fail_msg("config: %s", err.msg);
    memset(&g, 0, sizeof(g));
    assert_int_equal(tw_audit_device(&c, d, NULL, collect, &g, NULL), TW_OK);
    assert_true(find(&g, "AUD-ACL-01", 1, IND(03)) >= 0);
    assert_int_equal(find(&g, "AUD-ACL-01", 0, IND(01)), -1);
    tw_devconf_free(d);
    tw_buf_cleanup(&text);
    tw_index_free(idx);
    tw_ruleset_free(rs);
}

/* ==== cve and version-unknown ==== */

static void audit_cve_below_fixed_release_with_http_server(void **state)
{
    struct world w = world("17.09.03");
    struct got g = audit(&w, false, TW_SEV_INFO, NULL);
    long i;

    (void)state;
    assert_string_equal(w.d->version, "17.9.3");
    assert_true(find(&g, "AUD-MGT-04", 0, NULL) >= 0);
    i = find(&g, "AUD-VER-01", 0, "CVE-2023-20198");
    assert_true(i >= 0);
    assert_non_null(strstr(g.message[i], "CVE-2023-20198"));
    assert_non_null(strstr(g.message[i], "train 17.9"));
    assert_non_null(strstr(g.message[i], "fixed release 17.9.4a"));
    assert_non_null(strstr(g.message[i], "AUD-MGT-04"));
    assert_int_equal(g.line[i], 2); /* the `version 17.9` statement */
    assert_true(find(&g, "AUD-VER-01", 0, "CVE-2023-20273") >= 0);
    /* Smart Install: the precondition fired (no `no vstack`), no fixed release: cannot determine.
     */
    assert_true(find(&g, "AUD-MGT-08", 0, NULL) >= 0);
    i = find(&g, "AUD-VER-02", 0, "CVE-2018-0171");
    assert_true(i >= 0);
    assert_non_null(strstr(g.message[i], "cannot determine"));
    /* The version is known: no version-unknown finding. */
    assert_int_equal(count(&g, "AUD-VER-08"), 0);
    world_free(&w);
}

static void audit_cve_fixed_release_is_not_reported(void **state)
{
    struct world w = world("17.09.04a");
    struct got g = audit(&w, false, TW_SEV_INFO, NULL);

    (void)state;
    assert_int_equal(count(&g, "AUD-VER-01"), 0);
    assert_int_equal(count(&g, "AUD-VER-02"), 1);
    world_free(&w);
}

static void audit_cve_unknown_train_cannot_be_determined(void **state)
{
    struct world w = world("17.06.05");
    struct got g = audit(&w, false, TW_SEV_INFO, NULL);
    long i = find(&g, "AUD-VER-01", 0, "CVE-2023-20198");

    (void)state;
    assert_true(i >= 0);
    assert_non_null(strstr(g.message[i], "cannot determine"));
    assert_non_null(strstr(g.message[i], "train 17.6"));
    world_free(&w);
}

static void audit_cve_needs_its_precondition(void **state)
{
    static const char no_http[] = "version 17.9\nhostname quiet\nno vstack\n"
                                  "line vty 0 4\n transport input ssh\nend\n";
    struct world w = world("17.09.03");
    struct got g;

    (void)state;
    tw_devconf_free(w.d);
    w.d = device(no_http, "17.09.03");
    g = audit(&w, false, TW_SEV_INFO, NULL);
    /* Neither HTTP rule nor Smart Install fired: no CVE finding at all. */
    assert_int_equal(count(&g, "AUD-MGT-04"), 0);
    assert_int_equal(count(&g, "AUD-VER-01"), 0);
    assert_int_equal(count(&g, "AUD-VER-02"), 0);
    world_free(&w);
}

static void audit_unknown_version_says_what_would_settle_it(void **state)
{
    struct world w = world(NULL);
    struct got g = audit(&w, false, TW_SEV_INFO, NULL);
    long i;

    (void)state;
    assert_string_equal(w.d->version, "");
    i = find(&g, "AUD-VER-08", 0, NULL);
    assert_true(i >= 0);
    assert_int_equal(count(&g, "AUD-VER-08"), 1);
    assert_non_null(strstr(g.message[i], "show version"));
    assert_non_null(strstr(g.message[i], "17.9"));
    assert_string_equal(g.evidence[i], "version 17.9");
    assert_int_equal(g.line[i], 2);
    /* Every CVE of IOS XE is then "cannot determine", preconditions still required. */
    i = find(&g, "AUD-VER-01", 0, "CVE-2023-20198");
    assert_true(i >= 0);
    assert_non_null(strstr(g.message[i], "cannot determine"));
    assert_non_null(strstr(g.message[i], "show version"));
    world_free(&w);
}

/* A rule the data names but the set lacks, or that is not `builtin cve`, reports nothing. */
static void audit_cve_needs_a_cve_rule(void **state)
{
    static const char data[] =
            "CVE-2099-0001\tiosxe\t17.9\t17.9.9\tno\tAUD-NONE\t-\thttps://example.test/a\n"
            "CVE-2099-0002\tiosxe\t17.9\t17.9.9\tno\tAUD-MGT-04\t-\thttps://example.test/b\n"
            "CVE-2099-0003\tiosxe\t17.9\t17.9.9\tyes\tAUD-VER-01\t-\thttps://example.test/c\n";
    struct world w = world("17.09.03");
    struct tw_err err;
    struct got g;
    long i;

    (void)state;
    tw_vulndb_free(w.db);
    assert_int_equal(tw_vulndb_parse(data, sizeof(data) - 1, "t.tsv", &w.db, &err), TW_OK);
    g = audit(&w, false, TW_SEV_INFO, NULL);
    assert_int_equal(find(&g, "AUD-VER-01", 0, "CVE-2099-0001"), -1);
    assert_int_equal(find(&g, "AUD-MGT-04", 0, "CVE-2099-0002"), -1);
    i = find(&g, "AUD-VER-01", 0, "CVE-2099-0003");
    assert_true(i >= 0);
    assert_non_null(strstr(g.message[i], "CISA KEV"));
    assert_int_equal(count(&g, "AUD-VER-01"), 1);
    world_free(&w);
}

/* ==== Threshold, order, stats, stop ==== */

static void audit_min_severity_filters_but_preconditions_hold(void **state)
{
    struct world w = world("17.09.03");
    struct tw_audit_stats st;
    struct got g = audit(&w, false, TW_SEV_CRITICAL, &st);

    (void)state;
    for (size_t i = 0; i < g.n; i++)
        assert_int_equal(g.sev[i], TW_SEV_CRITICAL);
    /* AUD-MGT-04 (high) is not reported, yet it fired: AUD-VER-01 is. */
    assert_int_equal(count(&g, "AUD-MGT-04"), 0);
    assert_true(count(&g, "AUD-VER-01") == 2);
    assert_int_equal(st.rules.findings, g.n);
    world_free(&w);
}

static void audit_order_is_stable(void **state)
{
    struct world w = world("17.09.03");
    struct got a = audit(&w, false, TW_SEV_INFO, NULL);
    struct got b = audit(&w, false, TW_SEV_INFO, NULL);
    long first_builtin = -1;

    (void)state;
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.rule[i], b.rule[i]);
        assert_int_equal(a.line[i], b.line[i]);
        assert_string_equal(a.message[i], b.message[i]);
    }
    /* Checks first, then the builtins in rule order; IOC findings in line order. */
    for (size_t i = 0; i < a.n; i++) {
        if (strcmp(a.rule[i], "AUD-ACL-01") == 0 && first_builtin < 0)
            first_builtin = (long)i;
        if (first_builtin >= 0)
            assert_true(strncmp(a.rule[i], "AUD-MGT", 7) != 0);
        if (i > 0 && strcmp(a.rule[i], "AUD-ACL-01") == 0 &&
                strcmp(a.rule[i - 1], "AUD-ACL-01") == 0)
            assert_true(a.line[i - 1] <= a.line[i]);
    }
    assert_true(first_builtin > 0);
    assert_true(find(&a, "AUD-VER-01", 0, NULL) > find(&a, "AUD-ACL-01", 0, NULL));
    world_free(&w);
}

static void audit_callback_stops_the_audit(void **state)
{
    struct world w = world("17.09.03");
    struct tw_audit_config c = { w.rs, w.db, w.idx, false, TW_SEV_INFO };
    struct got g;

    (void)state;
    memset(&g, 0, sizeof(g));
    g.stop_at = 1;
    assert_int_equal(tw_audit_device(&c, w.d, NULL, collect, &g, NULL), 5);
    assert_int_equal(g.n, 1);
    /* The same stop in the middle of the builtins. */
    memset(&g, 0, sizeof(g));
    g.stop_at = 8;
    assert_int_equal(tw_audit_device(&c, w.d, NULL, collect, &g, NULL), 5);
    assert_int_equal(g.n, 8);
    world_free(&w);
}

static void audit_rejects_missing_arguments(void **state)
{
    struct tw_audit_config c = { NULL, NULL, NULL, false, TW_SEV_INFO };
    struct tw_audit_stats st;
    struct got g;

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_int_equal(tw_audit_device(&c, NULL, NULL, collect, &g, &st), TW_EINVAL);
    assert_int_equal(tw_audit_device(NULL, NULL, NULL, collect, &g, NULL), TW_EINVAL);
}

static int count_only(void *ctx, const struct tw_finding *f)
{
    (void)f;
    (*(size_t *)ctx)++;
    return 0;
}

static void audit_survives_allocation_failures(void **state)
{
    struct world w = world("17.09.03");
    struct tw_audit_config c = { w.rs, w.db, w.idx, false, TW_SEV_INFO };
    size_t want = 0;
    bool done = false;

    (void)state;
    assert_int_equal(tw_audit_device(&c, w.d, NULL, count_only, &want, NULL), TW_OK);
    for (long fail = 0; fail < 2000 && !done; fail++) {
        size_t n = 0;
        int rc;

        tw_alloc_fail_after(fail);
        rc = tw_audit_device(&c, w.d, NULL, count_only, &n, NULL);
        tw_alloc_fail_reset();
        if (rc == TW_OK) {
            assert_int_equal(n, want);
            done = true;
        } else {
            assert_int_equal(rc, TW_ENOMEM);
        }
    }
    assert_true(done);
    world_free(&w);
}

/* The Oxidized configurations, when the shared data is there: no secret, sane stats. */
static void audit_shared_configs(void **state)
{
    static const char *const files[] = { "configs/ios_C9200L-24P-4G_17.09.04a.txt",
        "configs/ios_C9800-L-F-K9_17.06.05.txt", "configs/ios_asr920_16.8.1b.txt",
        "configs/nxos_C93180YC-FX3J_10.4.5.txt", "configs/nxos_N5548_7.3.13.txt",
        "configs/junos_srx300_22.4.txt", "configs/asa_5512_9.12-4-67_single-context.txt" };
    const char *probe = tw_test_shared("configs");
    struct tw_ruleset *rs;
    struct tw_vulndb *db = NULL;
    struct tw_err err;

    (void)state;
    if (probe == NULL) {
        skip();
        return;
    }
    rs = rules(rules_text);
    assert_int_equal(tw_vulndb_builtin(&db, &err), TW_OK);
    for (size_t i = 0; i < TW_ARRAY_LEN(files); i++) {
        size_t len = 0;
        char *text = tw_test_slurp(tw_test_shared(files[i]), &len);
        struct tw_devconf *d = NULL;
        struct tw_audit_config c = { rs, db, NULL, false, TW_SEV_INFO };
        struct tw_audit_stats st;
        struct got g;

        if (tw_devconf_parse(text, len, files[i], TW_PLAT_UNKNOWN, &d, &err) != TW_OK)
            fail_msg("%s: %s", files[i], err.msg);
        memset(&g, 0, sizeof(g));
        assert_int_equal(tw_audit_device(&c, d, NULL, collect, &g, &st), TW_OK);
        assert_int_equal(st.rules.findings, g.n);
        /* The C9200L runs 17.9.4a, the fixed release: never the web UI CVEs as affected. */
        if (i == 0) {
            long k = find(&g, "AUD-VER-01", 0, "CVE-2023-20198");
            assert_true(k < 0 || strstr(g.message[k], "below the fixed release") == NULL);
        }
        tw_devconf_free(d);
        tw_free(text);
    }
    tw_vulndb_free(db);
    tw_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audit_ioc_addresses_hit_acl_tunnel_and_erspan),
        cmocka_unit_test(audit_respect_validity_drops_expired_indicators),
        cmocka_unit_test(audit_without_intel_has_no_ioc_findings),
        cmocka_unit_test(audit_inside_prefix_search_is_bounded),
        cmocka_unit_test(audit_cve_below_fixed_release_with_http_server),
        cmocka_unit_test(audit_cve_fixed_release_is_not_reported),
        cmocka_unit_test(audit_cve_unknown_train_cannot_be_determined),
        cmocka_unit_test(audit_cve_needs_its_precondition),
        cmocka_unit_test(audit_unknown_version_says_what_would_settle_it),
        cmocka_unit_test(audit_cve_needs_a_cve_rule),
        cmocka_unit_test(audit_min_severity_filters_but_preconditions_hold),
        cmocka_unit_test(audit_order_is_stable),
        cmocka_unit_test(audit_callback_stops_the_audit),
        cmocka_unit_test(audit_rejects_missing_arguments),
        cmocka_unit_test(audit_survives_allocation_failures),
        cmocka_unit_test(audit_shared_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
