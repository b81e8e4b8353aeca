/*
 * bench_audit_rules.c: the rule engine's evaluation, measured.
 *
 *   bench_audit_rules [N] [CONFIG_DIR] [RULES_FILE] [fast|naive]
 *
 * Evaluates a rule set (the compiled-in catalogue, plus RULES_FILE when
 * given) over N devices (default 10,000): generated IOS XE access switches
 * of about 500 lines (64 interfaces, ACLs, users, AAA, SNMP, lines; varied
 * so no two are alike), and, when CONFIG_DIR holds configurations (the
 * shared Oxidized samples), those too, in turn. Devices are parsed once
 * (tw_devconf_parse, not timed with the evaluation) and evaluated in a loop
 * on one core. It reports ns per device and per statement for:
 *   - the engine as shipped (prefix index, JIT);
 *   - the same without JIT;
 *   - the naive engine (every regex on every statement of its context, no
 *     prefixes, no index; JIT on), the baseline the index is measured against;
 * and the total for N devices, against the 10 s budget for 10,000 devices.
 * The runs must agree on the number of findings; a mismatch is an error.
 * A fourth argument "fast" or "naive" runs that engine only, after the
 * warm-up (for profiles and callgrind instruction counts).
 * Build it without sanitizers (-O2) for meaningful figures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>

#include "../src/audit/rules_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"
#include "tidewatch/buf.h"
#include "tidewatch/devconf.h"

#define N_GENERATED 200 /* distinct generated devices; the N evaluations cycle over them */
#define MAX_DEVICES 256

static double now_s(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An IOS XE access switch of about 500 lines, varied by seed. */
static int gen_config(unsigned seed, struct tw_buf *b)
{
    int rc = TW_OK;

#define P(...)                                                                                     \
    do {                                                                                           \
        if (rc == TW_OK)                                                                           \
            rc = tw_buf_printf(b, __VA_ARGS__);                                                    \
    } while (0)
    P("!\n! Last configuration change at 10:00:00 UTC Mon Jan 1 2024 by admin\n!\n");
    P("version 17.9\nservice timestamps debug datetime msec\nservice timestamps log datetime "
      "msec\n");
    if (seed % 3 != 0)
        P("service password-encryption\n");
    P("hostname sw%u\n!\nboot-start-marker\nboot-end-marker\n!\n", seed);
    P("vrf definition Mgmt-vrf\n !\n address-family ipv4\n exit-address-family\n!\n");
    P("logging buffered 64000\nno logging console\n");
    if (seed % 5 != 0)
        P("aaa new-model\naaa group server tacacs+ TAC\n server name T1\n server name T2\n");
    P("aaa authentication login default group tacacs+ local\n");
    if (seed % 4 != 0)
        P("aaa accounting exec default start-stop group tacacs+\naaa accounting commands 15 "
          "default start-stop group tacacs+\n");
    P("aaa session-id common\nclock timezone UTC 0 0\n");
    P("ip domain name site%u.example.net\nip name-server 192.0.2.53\n", seed % 17);
    if (seed % 7 == 0)
        P("ip http server\nip http secure-server\n");
    else
        P("no ip http server\nno ip http secure-server\n");
    if (seed % 11 == 0)
        P("ip ssh port 22022 rotary 1\n");
    P("ip ssh version 2\nip ssh time-out 60\nlogin block-for 120 attempts 3 within 60\n");
    P("username admin privilege 15 secret 9 $9$abcdefghijklmn$opqrstuvwxyz0123456789ABCDEFGHIJ\n");
    if (seed % 6 == 0)
        P("username cisco privilege 15 password 7 0822455D0A16\n");
    for (unsigned v = 1; v <= 12; v++)
        P("vlan %u\n name VLAN%u-%u\n", v * 10, v, seed);
    P("spanning-tree mode rapid-pvst\nspanning-tree extend system-id\n");
    for (unsigned i = 1; i <= 64; i++) {
        P("interface GigabitEthernet1/0/%u\n description access port %u/%u\n", i, seed, i);
        P(" switchport access vlan %u\n switchport mode access\n", 10 * (1 + (i + seed) % 12));
        if ((i + seed) % 9 == 0)
            P(" shutdown\n");
        P(" spanning-tree portfast\n");
    }
    P("interface Vlan10\n ip address 10.%u.%u.2 255.255.255.0\n", seed % 250, (seed / 250) % 250);
    P("interface Loopback0\n ip address 10.255.%u.%u 255.255.255.255\n", seed % 250, seed % 200);
    P("ip route 0.0.0.0 0.0.0.0 10.%u.%u.1\n", seed % 250, (seed / 250) % 250);
    P("ip access-list standard MGMT\n 10 permit 192.0.2.0 0.0.0.255\n 20 deny any log\n");
    P("ip access-list extended EDGE-IN\n");
    for (unsigned i = 1; i <= 24; i++)
        P(" %u permit tcp 198.51.100.0 0.0.0.255 host 10.%u.0.%u eq %u\n", i * 10, seed % 250, i,
                1000 + i);
    P(" 1000 deny ip any any log\n");
    P("access-list 10 permit 192.0.2.%u\n", seed % 250);
    P("snmp-server community c%uRO RO 10\n", seed);
    if (seed % 8 == 0)
        P("snmp-server community private RW\n");
    P("snmp-server location rack %u\nsnmp-server host 192.0.2.60 version 2c c%uRO\n", seed, seed);
    P("tacacs server T1\n address ipv4 192.0.2.10\n key 7 1511021F07257A767B\n");
    P("tacacs server T2\n address ipv4 192.0.2.11\n key 7 1511021F07257A767B\n");
    P("logging host 192.0.2.50\nntp server 192.0.2.1\nntp server 192.0.2.2\n");
    P("banner motd ^C\nAuthorised access only\n^C\n");
    P("line con 0\n exec-timeout 10 0\n stopbits 1\n");
    P("line vty 0 4\n access-class MGMT in\n exec-timeout %u 0\n transport input %s\n", seed % 20,
            seed % 10 == 0 ? "telnet ssh" : "ssh");
    P("line vty 5 15\n access-class MGMT in\n transport input ssh\n");
    P("!\nend\n");
#undef P
    return rc;
}

struct device {
    struct tw_devconf *d;
    char name[64];
};

static int count_fn(void *ctx, const struct tw_finding *f)
{
    (void)f;
    (*(uint64_t *)ctx)++;
    return 0;
}

static struct tw_ruleset *load_rules(bool index, bool jit, const char *extra)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;

    if (rs == NULL)
        return NULL;
    tw__ruleset_set_index(rs, index);
    tw__ruleset_set_jit(rs, jit);
    if (tw_ruleset_add_builtin_catalogue(rs, &err) != TW_OK) {
        fprintf(stderr, "catalogue: %s\n", err.msg);
        tw_ruleset_free(rs);
        return NULL;
    }
    if (extra != NULL) {
        FILE *f = fopen(extra, "rb");
        static char text[1 << 20];
        size_t n;
        if (f == NULL) {
            fprintf(stderr, "cannot open %s\n", extra);
            tw_ruleset_free(rs);
            return NULL;
        }
        n = fread(text, 1, sizeof(text), f);
        (void)fclose(f);
        if (tw_ruleset_parse(rs, text, n, extra, &err) != TW_OK) {
            fprintf(stderr, "%s\n", err.msg);
            tw_ruleset_free(rs);
            return NULL;
        }
    }
    return rs;
}

/* Evaluates n devices (cycling over devs) and prints the figures; returns the findings. */
static uint64_t run(const char *what, const struct tw_ruleset *rs, struct device *devs,
        size_t n_devs, size_t n, double *ns_per_dev)
{
    uint64_t findings = 0, lines = 0, regex_limit = 0;
    struct tw_rule_stats st;
    double t0, t;

    t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        const struct tw_devconf *d = devs[i % n_devs].d;
        memset(&st, 0, sizeof(st));
        if (tw_ruleset_eval(rs, d, count_fn, &findings, &st) != TW_OK) {
            fprintf(stderr, "evaluation failed on %s\n", devs[i % n_devs].name);
            exit(1);
        }
        lines += d->n_nodes;
        regex_limit += st.regex_limit;
    }
    t = now_s() - t0;
    *ns_per_dev = t * 1e9 / (double)n;
    printf("%-24s %8zu devices %9.0f ns/device %7.1f ns/statement  total %.3f s  findings %llu%s\n",
            what, n, *ns_per_dev, t * 1e9 / (double)lines, t, (unsigned long long)findings,
            regex_limit ? "  (regex limits hit)" : "");
    return findings;
}

static size_t load_dir(const char *dir, struct device *devs, size_t n)
{
    DIR *dh = opendir(dir);
    struct dirent *e;

    if (dh == NULL)
        return n;
    while ((e = readdir(dh)) != NULL && n < MAX_DEVICES) {
        char path[4096];
        FILE *f;
        static char text[8 << 20];
        size_t len;
        if (e->d_name[0] == '.')
            continue;
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if ((f = fopen(path, "rb")) == NULL)
            continue;
        len = fread(text, 1, sizeof(text), f);
        (void)fclose(f);
        if (tw_devconf_parse(text, len, path, TW_PLAT_UNKNOWN, &devs[n].d, NULL) == TW_OK) {
            (void)snprintf(devs[n].name, sizeof(devs[n].name), "%.63s", e->d_name);
            n++;
        }
    }
    (void)closedir(dh);
    return n;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    const char *dir = argc > 2 ? argv[2] : NULL;
    const char *extra = argc > 3 && argv[3][0] != '\0' ? argv[3] : NULL;
    const char *only = argc > 4 ? argv[4] : "";
    static struct device devs[MAX_DEVICES];
    size_t n_gen = 0, n_devs, stmts = 0;
    struct tw_ruleset *fast, *nojit, *naive;
    double ns_fast, ns_nojit, ns_naive;
    uint64_t f1, f2, f3;
    struct tw_buf b;

    if (n == 0)
        n = 10000;
    for (unsigned s = 0; s < N_GENERATED; s++) {
        tw_buf_init(&b, 1 << 20);
        if (gen_config(s + 1, &b) != TW_OK ||
                tw_devconf_parse(b.ptr, b.len, "gen.cfg", TW_PLAT_IOSXE, &devs[n_gen].d, NULL) !=
                        TW_OK) {
            fprintf(stderr, "generated configuration %u did not parse\n", s);
            return 1;
        }
        (void)snprintf(devs[n_gen].name, sizeof(devs[n_gen].name), "gen%u", s);
        n_gen++;
        tw_buf_cleanup(&b);
    }
    n_devs = dir != NULL ? load_dir(dir, devs, n_gen) : n_gen;
    for (size_t i = 0; i < n_devs; i++)
        stmts += devs[i].d->n_nodes;
    fast = load_rules(true, true, extra);
    nojit = load_rules(true, false, extra);
    naive = load_rules(false, true, extra);
    if (fast == NULL || nojit == NULL || naive == NULL)
        return 1;
    printf("rules: %zu (the catalogue%s%s); devices: %zu generated + %zu from %s, %.0f "
           "statements on average\n",
            tw_ruleset_count(fast), extra ? " and " : "", extra ? extra : "", n_gen, n_devs - n_gen,
            dir ? dir : "-", (double)stmts / (double)n_devs);
    /* Warm up caches and the allocator. */
    (void)run("warm-up", fast, devs, n_devs, n_devs, &ns_fast);
    if (strcmp(only, "naive") == 0) {
        (void)run("naive (no index), JIT", naive, devs, n_devs, n, &ns_naive);
        return 0;
    }
    f1 = run("index + JIT (shipped)", fast, devs, n_devs, n, &ns_fast);
    if (strcmp(only, "fast") == 0)
        return 0;
    f2 = run("index, no JIT", nojit, devs, n_devs, n, &ns_nojit);
    f3 = run("naive (no index), JIT", naive, devs, n_devs, n, &ns_naive);
    printf("index speed-up over naive: %.1fx; 10,000 devices: %.2f s (budget 10 s)\n",
            ns_naive / ns_fast, ns_fast * 10000 / 1e9);
    for (size_t i = 0; i < n_devs; i++)
        tw_devconf_free(devs[i].d);
    tw_ruleset_free(naive);
    tw_ruleset_free(nojit);
    tw_ruleset_free(fast);
    if (f1 != f2 || f1 != f3) {
        fprintf(stderr, "the runs disagree: %llu, %llu, %llu findings\n", (unsigned long long)f1,
                (unsigned long long)f2, (unsigned long long)f3);
        return 1;
    }
    return 0;
}
