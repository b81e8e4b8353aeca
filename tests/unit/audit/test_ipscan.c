/*
 * test_ipscan.c: the IP literal scanner over a table of real-looking
 * statements of every platform (many from the Oxidized configurations in
 * the shared data): what is a literal, in which form, and what only looks
 * like one (versions, OIDs, MACs, WWNs, interface names, times, route
 * distinguishers).
 */
#include <string.h>

#include "audit_int.h"
#include "tw_test.h"

struct scan_case {
    enum tw_platform p;
    const char *line;
    const char *want; /* literals as "ADDR/LEN<form>" joined by ' ' (form: a c m w n) */
};

static const struct scan_case cases[] = {
    /* IOS / IOS XE. */
    { TW_PLAT_IOSXE, "access-list 20 permit 203.0.113.77", "203.0.113.77/32a" },
    { TW_PLAT_IOSXE, "10 permit 10.0.0.0 0.0.0.255", "10.0.0.0/24w" },
    { TW_PLAT_IOSXE, "permit tcp host 192.0.2.1 eq 22 any", "192.0.2.1/32a" },
    { TW_PLAT_IOSXE, "permit ip 10.0.0.0 0.255.255.255 host 198.51.100.7 log",
            "10.0.0.0/8w 198.51.100.7/32a" },
    { TW_PLAT_IOSXE, "deny   ip any 0.0.0.0 255.255.255.255", "0.0.0.0/0w" },
    { TW_PLAT_IOSXE, "permit ip 10.0.1.0 0.0.254.0 any", "10.0.1.0/32n" },
    { TW_PLAT_IOSXE, "network 10.1.1.1 0.0.0.0 area 0", "10.1.1.1/32w" },
    { TW_PLAT_IOSXE, "ip route 0.0.0.0 0.0.0.0 10.41.2.1", "0.0.0.0/0m 10.41.2.1/32a" },
    { TW_PLAT_IOSXE, "ip route vrf Mgmt-intf 0.0.0.0 0.0.0.0 10.41.1.1 250",
            "0.0.0.0/0m 10.41.1.1/32a" },
    { TW_PLAT_IOSXE, "ip route 10.0.0.0 255.0.0.0 Tunnel99 10.255.255.2",
            "10.0.0.0/8m 10.255.255.2/32a" },
    { TW_PLAT_IOSXE, "ip route 192.0.2.9 255.255.255.255 Null0", "192.0.2.9/32m" },
    { TW_PLAT_IOSXE, "ip address 10.42.11.42 255.255.255.0", "10.42.11.42/24m" },
    { TW_PLAT_IOSXE, "ip address 111.111.111.111 111.111.111.111",
            "111.111.111.111/32a 111.111.111.111/32a" },
    { TW_PLAT_IOSXE, "ip name-server 10.42.0.1 10.42.0.2", "10.42.0.1/32a 10.42.0.2/32a" },
    { TW_PLAT_IOSXE, "tunnel destination 203.0.113.50", "203.0.113.50/32a" },
    { TW_PLAT_IOSXE, "ip address 203.0.113.51", "203.0.113.51/32a" },
    { TW_PLAT_IOSXE, "snmp-server host 10.42.0.33 version 2c <masked>", "10.42.0.33/32a" },
    { TW_PLAT_IOSXE, "snmp-server host 10.42.0.35 vrf Mgmt-vrf informs version 2c <masked>  tty",
            "10.42.0.35/32a" },
    { TW_PLAT_IOSXE, "client 10.10.20.20 server-key 7 <masked>", "10.10.20.20/32a" },
    { TW_PLAT_IOSXE, "server-private 111.111.111.111 key 7 <masked>", "111.111.111.111/32a" },
    { TW_PLAT_IOSXE, "ip prefix-list PL seq 5 permit 10.0.0.0/8 le 24", "10.0.0.0/8c" },
    { TW_PLAT_IOSXE, "crypto isakmp key 6 <masked> address 203.0.113.9", "203.0.113.9/32a" },
    { TW_PLAT_IOSXE, "set peer 203.0.113.9", "203.0.113.9/32a" },
    { TW_PLAT_IOSXE, "path tftp://203.0.113.60/cfg", "203.0.113.60/32a" },
    { TW_PLAT_IOSXE, "ip flow-export destination 192.0.2.40 2055", "192.0.2.40/32a" },
    { TW_PLAT_IOSXE, "ipv6 route 2001:DB8::/32 2001:db8::1", "2001:db8::/32c 2001:db8::1/128a" },
    { TW_PLAT_IOSXE, "ipv6 address FE80::1 link-local", "fe80::1/128a" },
    { TW_PLAT_IOSXE, "ipv6 route ::/0 Null0", "::/0c" },
    { TW_PLAT_IOSXE, "range 10.0.0.1 10.0.0.10", "10.0.0.1/32a 10.0.0.10/32a" },
    { TW_PLAT_IOSXE, "description uplink to 192.0.2.1.", "192.0.2.1/32a" },
    { TW_PLAT_IOSXE, "ip ssh port 22022 rotary 1", "" },
    { TW_PLAT_IOSXE, "version 17.9", "" },
    { TW_PLAT_IOSXE, "! Last configuration change at 09:37:40 CEST Tue Aug 20 2024 by oxidized",
            "" },
    { TW_PLAT_IOSXE, "clock summer-time CEST recurring last Sun Mar 2:00 last Sun Oct 2:00", "" },
    { TW_PLAT_IOSXE, "interface GigabitEthernet0/0/1.100", "" },
    { TW_PLAT_IOSXE, "interface AppGigabitEthernet1/0/1", "" },
    { TW_PLAT_IOSXE, "mac-address 0000.0c07.ac01", "" },
    { TW_PLAT_IOSXE, "snmp-server view V 1.3.6.1 included", "" },
    { TW_PLAT_IOSXE, "snmp-server view V 1.3.6.1.4.1.9.9.41 excluded", "" },
    { TW_PLAT_IOSXE, "snmp-server enable traps 1.3.6.1.4.1.9.9.41", "" },
    { TW_PLAT_IOSXE, "boot system flash:cat9k_iosxe.17.09.04a.SPA.bin", "" },
    { TW_PLAT_IOSXE, "boot system flash:c2960-lanbasek9-mz.122-55.SE12.bin", "" },
    { TW_PLAT_IOSXE, "! Cisco IOS XE Software, Version 17.09.04a", "" },
    { TW_PLAT_IOSXE, "address ipv4 10.0.0.256", "" },
    { TW_PLAT_IOSXE, "address ipv4 010.0.0.1", "" },
    { TW_PLAT_IOSXE, "ip address 10.0.0.1/33", "10.0.0.1/32a" },
    /* NX-OS. */
    { TW_PLAT_NXOS, "ip route 0.0.0.0/0 10.1.1.1", "0.0.0.0/0c 10.1.1.1/32a" },
    { TW_PLAT_NXOS, "destination ip 203.0.113.51", "203.0.113.51/32a" },
    { TW_PLAT_NXOS, "ip address 10.0.0.5/24", "10.0.0.5/24c" },
    { TW_PLAT_NXOS, "logging server 192.0.2.20 5 use-vrf management", "192.0.2.20/32a" },
    { TW_PLAT_NXOS, "10 permit ip 10.0.0.0/8 any", "10.0.0.0/8c" },
    { TW_PLAT_NXOS, "version 10.4(5) Bios:version 01.11", "" },
    { TW_PLAT_NXOS, "boot nxos bootflash:/nxos64-cs.10.4.5.M.bin", "" },
    { TW_PLAT_NXOS, "boot system bootflash:/n5000-uk9.7.3.13.N1.1.bin", "" },
    { TW_PLAT_NXOS, "rd 65000:1", "" },
    { TW_PLAT_NXOS, "route-target import 192.0.2.1:100", "" },
    { TW_PLAT_NXOS, "member pwwn 20:00:00:25:b5:00:00:0f", "" },
    { TW_PLAT_NXOS, "clock summer-time MESZ 5 Sun Mar 02:00 5 Sun Oct 03:00 60", "" },
    { TW_PLAT_NXOS, "!Time: Tue Sep 30 09:02:26 2025", "" },
    { TW_PLAT_NXOS, "interface Ethernet1/1", "" },
    { TW_PLAT_NXOS, "mac address-table static 0011.2233.4455 vlan 10 interface Ethernet1/1", "" },
    { TW_PLAT_NXOS, "hardware access-list tcam region ing-racl 1536", "" },
    /* IOS XR. */
    { TW_PLAT_IOSXR, "router static address-family ipv4 unicast 0.0.0.0/0 192.0.2.1",
            "0.0.0.0/0c 192.0.2.1/32a" },
    { TW_PLAT_IOSXR, "logging 192.0.2.20 vrf MGMT", "192.0.2.20/32a" },
    { TW_PLAT_IOSXR, "10 permit ipv4 10.0.0.0 0.0.0.255 any", "10.0.0.0/24w" },
    { TW_PLAT_IOSXR, "interface GigabitEthernet0/0/0/9", "" },
    { TW_PLAT_IOSXR, "!! IOS XR Configuration 7.9.2", "" },
    { TW_PLAT_IOSXR, "!! Last configuration change at Tue Feb 20 10:01:02 2024 by admin", "" },
    /* Junos, set form as the parser writes it. */
    { TW_PLAT_JUNOS, "system syslog host 192.0.2.20 any any", "192.0.2.20/32a" },
    { TW_PLAT_JUNOS, "interfaces ge-0/0/0 unit 0 family inet address 192.168.1.1/24",
            "192.168.1.1/24c" },
    { TW_PLAT_JUNOS, "routing-options static route 0.0.0.0/0 next-hop 192.0.2.1",
            "0.0.0.0/0c 192.0.2.1/32a" },
    { TW_PLAT_JUNOS, "policy-options prefix-list MGMT 192.0.2.0/24", "192.0.2.0/24c" },
    { TW_PLAT_JUNOS, "security address-book global address h1 2001:db8::5/128",
            "2001:db8::5/128c" },
    { TW_PLAT_JUNOS, "interfaces gr-0/0/0 unit 0 tunnel destination 203.0.113.50",
            "203.0.113.50/32a" },
    { TW_PLAT_JUNOS, "snmp view ALL oid 1.3.6.1 include", "" },
    { TW_PLAT_JUNOS, "version 22.4R3-S2.11", "" },
    { TW_PLAT_JUNOS, "interfaces xe-0/0/0:1 unit 0 family inet", "" },
    { TW_PLAT_JUNOS, "interfaces xe-0/0/0:0:1 unit 0", "" },
    { TW_PLAT_JUNOS,
            "system archival configuration archive-sites \"ftp://demouser2@203.0.113.11/backup/\"",
            "203.0.113.11/32a" },
    { TW_PLAT_JUNOS,
            "system archival configuration archive-sites "
            "\"pasvftp://demouser:<masked>@203.0.113.10/backup/\"",
            "203.0.113.10/32a" },
    { TW_PLAT_JUNOS, "system name-server 8.8.8.8", "8.8.8.8/32a" },
    { TW_PLAT_JUNOS, "access address-assignment pool p family inet range r low 192.168.1.2",
            "192.168.1.2/32a" },
    /* ASA. */
    { TW_PLAT_ASA, "ip address 10.42.1.2 255.255.255.240", "10.42.1.2/28m" },
    { TW_PLAT_ASA, "subnet 10.42.3.64 255.255.255.224", "10.42.3.64/27m" },
    { TW_PLAT_ASA, "host 2001:db8:0000:4202::4:4", "2001:db8:0:4202::4:4/128a" },
    { TW_PLAT_ASA, "ipv6 route WAN 2001:db8:0000:4200::/56 2001:db8:0000:4203::801",
            "2001:db8:0:4200::/56c 2001:db8:0:4203::801/128a" },
    { TW_PLAT_ASA, "ssh 10.42.0.0 255.255.0.0 management", "10.42.0.0/16m" },
    { TW_PLAT_ASA, "access-list OUT extended permit ip 0.0.0.0 0.0.0.0 any", "0.0.0.0/0m" },
    { TW_PLAT_ASA, "url http://203.0.113.5:8080/x", "203.0.113.5/32a" },
    { TW_PLAT_ASA, "aaa-server TACACS (management) host 10.42.0.12", "10.42.0.12/32a" },
    { TW_PLAT_ASA, "ASA Version 9.12(4)67", "" },
    { TW_PLAT_ASA, "! SSP Operating System Version 2.6(1.272)", "" },
    /* Edges. */
    { TW_PLAT_IOSXE, "", "" },
    { TW_PLAT_IOSXE, "::", "" },
    { TW_PLAT_IOSXE, "1.2.3.4", "1.2.3.4/32a" },
    { TW_PLAT_IOSXE, "x1.2.3.4 1.2.3.4x 1.2.3.4_ _1.2.3.4", "" },
    { TW_PLAT_IOSXE, "10.0.0.1-10.0.0.10", "10.0.0.1/32a 10.0.0.10/32a" },
};

struct out {
    char text[512];
};

static int append(void *ctx, const struct tw__ip_literal *lit)
{
    static const char forms[] = "acmwn";
    struct out *o = ctx;
    char ip[TW_IP_STRLEN];
    size_t n = strlen(o->text);

    assert_true(tw_ip_format(&lit->ip, ip) > 0);
    snprintf(o->text + n, sizeof(o->text) - n, "%s%s/%u%c", n ? " " : "", ip, lit->prefix_len,
            forms[lit->form]);
    return 0;
}

static void ipscan_finds_literals_of_every_platform(void **state)
{
    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        struct out o = { "" };

        assert_int_equal(
                tw__ipscan(cases[i].p, cases[i].line, strlen(cases[i].line), append, &o), TW_OK);
        if (strcmp(o.text, cases[i].want) != 0)
            fail_msg("'%s': want '%s', got '%s'", cases[i].line, cases[i].want, o.text);
    }
}

struct spans {
    uint32_t off[4];
    uint32_t len[4];
    size_t n;
};

static int record_span(void *ctx, const struct tw__ip_literal *lit)
{
    struct spans *sp = ctx;

    assert_true(sp->n < 4);
    sp->off[sp->n] = lit->off;
    sp->len[sp->n] = lit->len;
    sp->n++;
    return 0;
}

/* Offsets and lengths point at the literal as written, mask included. */
static void ipscan_spans_cover_the_literal(void **state)
{
    const char *line = "ip route 10.0.0.0 255.0.0.0 192.0.2.1";
    const char *v6 = "ipv6 route 2001:db8::/32 Null0";
    struct spans sp;

    (void)state;
    memset(&sp, 0, sizeof(sp));
    assert_int_equal(tw__ipscan(TW_PLAT_IOS, line, strlen(line), record_span, &sp), TW_OK);
    assert_int_equal(sp.n, 2);
    assert_int_equal(sp.off[0], 9);
    assert_int_equal(sp.len[0], strlen("10.0.0.0 255.0.0.0"));
    assert_int_equal(sp.off[1], 28);
    assert_int_equal(sp.len[1], strlen("192.0.2.1"));
    memset(&sp, 0, sizeof(sp));
    assert_int_equal(tw__ipscan(TW_PLAT_IOS, v6, strlen(v6), record_span, &sp), TW_OK);
    assert_int_equal(sp.n, 1);
    assert_int_equal(sp.off[0], 11);
    assert_int_equal(sp.len[0], strlen("2001:db8::/32"));
}

static int stop_at_first(void *ctx, const struct tw__ip_literal *lit)
{
    (void)lit;
    (*(int *)ctx)++;
    return 7;
}

static void ipscan_callback_stops_the_scan(void **state)
{
    const char *line = "ip name-server 10.42.0.1 10.42.0.2";
    int n = 0;

    (void)state;
    assert_int_equal(tw__ipscan(TW_PLAT_IOS, line, strlen(line), stop_at_first, &n), 7);
    assert_int_equal(n, 1);
    assert_int_equal(tw__ipscan(TW_PLAT_IOS, NULL, 0, stop_at_first, &n), TW_OK);
}

static int count_all(void *ctx, const struct tw__ip_literal *lit)
{
    (void)lit;
    (*(int *)ctx)++;
    return 0;
}

/* A long line of literals and noise is scanned in one pass with no cap on literals. */
static void ipscan_handles_long_lines(void **state)
{
    static char line[64 * 1024];
    size_t n = 0;
    int count = 0, seen = 0;

    (void)state;
    while (n + 40 < sizeof(line)) {
        n += (size_t)snprintf(
                line + n, sizeof(line) - n, "192.0.%d.%d :::: 1.3.6 ", count % 250, count % 200);
        count++;
    }
    assert_int_equal(tw__ipscan(TW_PLAT_IOS, line, n, count_all, &seen), TW_OK);
    assert_int_equal(seen, count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipscan_finds_literals_of_every_platform),
        cmocka_unit_test(ipscan_spans_cover_the_literal),
        cmocka_unit_test(ipscan_callback_stops_the_scan),
        cmocka_unit_test(ipscan_handles_long_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
