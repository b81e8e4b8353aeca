/*
 * fuzz_rules.c: libFuzzer target for the audit rule language. Every input
 * is parsed as a rule file twice: by the engine as shipped (literal
 * prefixes, statement index, JIT) and by the naive engine (no prefixes, no
 * index, no JIT). A failed parse must leave an error and no rule. An
 * accepted file is evaluated over a small fixed IOS configuration (with
 * operational outputs) and a small Junos one by both engines, which must
 * report the same findings in the same order (the prefilter may only skip
 * statements a regex cannot match) and name the same drift owners; no
 * finding's evidence or context may carry a secret of the configurations.
 * Invariant failures trap.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../src/audit/rules_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"
#include "tidewatch/devconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ios_cfg[] = "!\n"
                              "version 17.9\n"
                              "hostname edge1\n"
                              "service password-encryption\n"
                              "enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0\n"
                              "username cisco privilege 15 password 7 0822455D0A16\n"
                              "username ops privilege 1 secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0\n"
                              "aaa new-model\n"
                              "ip http server\n"
                              "ip ssh port 22022 rotary 1\n"
                              "snmp-server community Fuzz5ecret RW 20\n"
                              "snmp-server community public RO\n"
                              "tacacs server T1\n"
                              " address ipv4 192.0.2.9\n"
                              " key 7 1511021F07257A767B\n"
                              "ip access-list standard MGMT\n"
                              " 10 permit 192.0.2.0 0.0.0.255\n"
                              " 20 deny any log\n"
                              "access-list 20 permit any\n"
                              "interface Tunnel7\n"
                              " tunnel source Loopback0\n"
                              " tunnel destination 203.0.113.7\n"
                              "interface GigabitEthernet0/1\n"
                              " description uplink\n"
                              " ip address 10.1.0.1 255.255.255.0\n"
                              " shutdown\n"
                              "monitor session 1 source interface Gi0/1\n"
                              "banner motd ^C\n"
                              "Authorised access only\n"
                              "^C\n"
                              "line con 0\n"
                              " exec-timeout 0 0\n"
                              "line vty 0 4\n"
                              " access-class MGMT in\n"
                              " transport input telnet ssh\n"
                              "line vty 5 15\n"
                              " access-class NOPE in\n"
                              " rotary 1\n"
                              "end\n";

static const char ios_dir[] = "Directory of flash:/\n"
                              "    1  -rw-   1048576  Jan 1 2024 00:00:00 +00:00  tac.pcap\n"
                              "    2  -rw-       512  Jan 1 2024 00:00:00 +00:00  map.tcl\n";
static const char ios_vstack[] = "Role: Client (SmartInstall enabled)\nVstack Director IP address: "
                                 "0.0.0.0\n";

static const char junos_cfg[] = "set version 22.4R3-S2.11\n"
                                "set system host-name core2\n"
                                "set system root-authentication encrypted-password "
                                "\"$6$Fuzz5ecret$abcdefghijkl\"\n"
                                "set system services ssh root-login allow\n"
                                "set system services telnet\n"
                                "set system services web-management http\n"
                                "set system syslog host 192.0.2.50 any any\n"
                                "set snmp community Fuzz5ecret authorization read-write\n"
                                "set system login user ops class super-user\n"
                                "set interfaces gr-0/0/0 unit 0 tunnel destination 203.0.113.9\n"
                                "set interfaces lo0 unit 0 family inet address 10.0.0.1/32\n"
                                "deactivate system services telnet\n";

static struct tw_devconf *devs[2];

/* Folds every field of every finding into a hash, and checks for secrets. */
struct digest {
    uint64_t h;
    uint64_t n;
};

static void mix(struct digest *g, const char *s)
{
    for (; *s != '\0'; s++)
        g->h = (g->h ^ (uint8_t)*s) * 1099511628211ull;
    g->h = (g->h ^ 0xff) * 1099511628211ull;
}

static int on_finding(void *ctx, const struct tw_finding *f)
{
    struct digest *g = ctx;
    char num[32];

    if (f->evidence == NULL || f->context == NULL || f->message == NULL || f->file == NULL ||
            f->device == NULL || f->rule_id == NULL || f->title == NULL)
        __builtin_trap();
    if (f->line != 0 && (strstr(f->evidence, "Fuzz5ecret") != NULL ||
                                strstr(f->evidence, "0822455D0A16") != NULL ||
                                strstr(f->evidence, "1511021F07257A767B") != NULL))
        __builtin_trap();
    if (strstr(f->context, "Fuzz5ecret") != NULL)
        __builtin_trap();
    (void)snprintf(num, sizeof(num), "%zu/%u/%d/%d", f->rule, (unsigned)f->line, (int)f->severity,
            (int)f->implicit);
    mix(g, num);
    mix(g, f->rule_id);
    mix(g, f->evidence);
    mix(g, f->context);
    mix(g, f->message);
    g->n++;
    return 0;
}

static void init(void)
{
    static const char *const texts[2] = { ios_cfg, junos_cfg };
    static const enum tw_platform plats[2] = { TW_PLAT_IOSXE, TW_PLAT_JUNOS };

    for (int i = 0; i < 2; i++) {
        if (tw_devconf_parse(texts[i], strlen(texts[i]), "fuzz.cfg", plats[i], &devs[i], NULL) !=
                TW_OK)
            __builtin_trap();
    }
    if (tw_devconf_add_output(devs[0], TW_OP_DIR, ios_dir, strlen(ios_dir), NULL) != TW_OK ||
            tw_devconf_add_output(devs[0], TW_OP_VSTACK, ios_vstack, strlen(ios_vstack), NULL) !=
                    TW_OK)
        __builtin_trap();
}

static struct tw_ruleset *parse(const uint8_t *data, size_t size, bool fast, int *rc)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;

    if (rs == NULL)
        __builtin_trap();
    tw__ruleset_set_index(rs, fast);
    tw__ruleset_set_jit(rs, fast);
    *rc = tw_ruleset_parse(rs, (const char *)data, size, "fuzz.rules", &err);
    if (*rc != TW_OK && (err.code != *rc || err.msg[0] == '\0' || tw_ruleset_count(rs) != 0))
        __builtin_trap();
    return rs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_ruleset *fast, *naive;
    int rc_fast, rc_naive;

    if (devs[0] == NULL)
        init();
    fast = parse(data, size, true, &rc_fast);
    naive = parse(data, size, false, &rc_naive);
    if (rc_fast != rc_naive)
        __builtin_trap();
    if (rc_fast == TW_OK) {
        if (tw_ruleset_count(fast) != tw_ruleset_count(naive))
            __builtin_trap();
        for (int i = 0; i < 2; i++) {
            struct digest a = { 1469598103934665603ull, 0 }, b = a;
            struct tw_rule_stats sa, sb;
            memset(&sa, 0, sizeof(sa));
            memset(&sb, 0, sizeof(sb));
            if (tw_ruleset_eval(fast, devs[i], on_finding, &a, &sa) != TW_OK ||
                    tw_ruleset_eval(naive, devs[i], on_finding, &b, &sb) != TW_OK)
                __builtin_trap();
            /* A match stopped by the limit may differ with JIT; compare only when none was. */
            if (sa.regex_limit == 0 && sb.regex_limit == 0 && (a.h != b.h || a.n != b.n))
                __builtin_trap();
            if (sa.checks_run != sb.checks_run || sa.checks_skipped != sb.checks_skipped ||
                    sa.findings != a.n)
                __builtin_trap();
            for (const struct tw_cfg_node *n = devs[i]->root.child; n != NULL; n = n->next) {
                if (tw_ruleset_drift_owner(fast, devs[i]->platform, n->text, n->len) !=
                        tw_ruleset_drift_owner(naive, devs[i]->platform, n->text, n->len))
                    __builtin_trap();
            }
        }
    }
    tw_ruleset_free(naive);
    tw_ruleset_free(fast);
    return 0;
}
