/*
 * bench_gen_fleet.c: writes a synthetic fleet of device configurations for the
 * audit benchmark (bench/run_audit.sh).
 *
 *   bench_gen_fleet OUTDIR [--devices N] [--seed S] [--tradecraft PERCENT]
 *
 * The mix follows a carrier's estate: about 60% Cisco IOS XE (half of them
 * with `show version` prepended as collector comments, as Oxidized does), 15%
 * NX-OS, 12% IOS XR, 7% Junos in brace form and 6% Junos in set form. Each
 * device has 300 to 1,500 lines: interfaces, ACLs, local users, AAA, SNMP,
 * logging, NTP and routing, with the usual redacted secrets. A few percent
 * (--tradecraft, default 3) carry the campaign's tradecraft: a numbered ACL 20
 * with an actor address, SSH on 22022 with a rotary group, HTTP on 18080,
 * Guest Shell, a GRE tunnel and ERSPAN to outside addresses. Addresses come
 * from the private and documentation ranges. The output depends only on the
 * seed. A summary line (devices, lines, bytes, per platform) goes to standard
 * output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#define GEN_MAX_DEVICES 1000000u

/* ==== Randomness (splitmix64: small, seedable, the same everywhere) ==== */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A number in [lo, hi]. */
static unsigned rnd(unsigned lo, unsigned hi)
{
    return lo + (unsigned)(rng_next() % (uint64_t)(hi - lo + 1));
}

/* ==== Output with a line count ==== */

struct out {
    FILE *f;
    unsigned lines;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(o->f, fmt, ap);
    va_end(ap);
    fputc('\n', o->f);
    o->lines++;
}

static void blank(struct out *o)
{
    fputc('\n', o->f);
    o->lines++;
}

static const char *const xe_versions[] = { "17.03.08a", "17.06.05", "17.06.06a", "17.09.04a",
    "17.09.05", "17.12.03", "16.12.10a", "17.03.04" };
static const char *const xe_models[] = { "C9300-48P", "C9500-48Y4C", "ISR4451-X/K9",
    "C8300-1N1S-6T", "ASR1001-X", "C9200L-24P-4G" };
static const char *const nx_versions[] = { "9.3(10)", "9.3(13)", "10.2(5)", "10.3(4a)", "10.4(5)",
    "7.3(13)N1(1)" };
static const char *const xr_versions[] = { "7.5.2", "7.9.2", "7.10.1", "24.2.1", "6.5.3" };
static const char *const jn_versions[] = { "21.4R3-S5.4", "22.4R3-S2.11", "23.2R2-S1.3",
    "20.4R3-S9.2" };

/* The campaign's addresses in the sample bundle (documentation ranges). */
static const char *const actor[] = { "203.0.113.17", "198.51.100.23", "198.51.100.24",
    "192.0.2.130" };

/* ==== IOS XE ==== */

static void gen_iosxe(struct out *o, unsigned id, unsigned target, bool bad)
{
    const char *ver = xe_versions[rnd(0, 7)];
    unsigned n_if, n_acl = rnd(10, 60), n_users = rnd(1, 5);
    int major = 17, minor = 9;

    (void)sscanf(ver, "%d.%d", &major, &minor);
    if (rnd(0, 1)) {
        emit(o, "! Cisco IOS XE Software, Version %s", ver);
        emit(o, "! Image: Software: X86_64_LINUX_IOSD-UNIVERSALK9-M, %s, RELEASE SOFTWARE (fc2)",
                ver);
        emit(o, "! Chassis type: %s", xe_models[rnd(0, 5)]);
        emit(o, "! Processor ID: FDO%05u%c%c", id, 'A' + rnd(0, 25), 'A' + rnd(0, 25));
        emit(o, "!");
    }
    emit(o, "Building configuration...");
    blank(o);
    emit(o, "Current configuration : %u bytes", target * 32);
    emit(o, "!");
    emit(o, "! Last configuration change at 10:%02u:%02u UTC Mon Sep 1 2025 by netops%u",
            rnd(0, 59), rnd(0, 59), rnd(1, 9));
    emit(o, "!");
    emit(o, "version %d.%d", major, minor);
    emit(o, "service timestamps debug datetime msec");
    emit(o, "service timestamps log datetime msec");
    emit(o, "service password-encryption");
    if (rnd(0, 3))
        emit(o, "no service pad");
    emit(o, "!");
    emit(o, "hostname xe-%05u", id);
    emit(o, "!");
    emit(o, "vrf definition Mgmt-vrf");
    emit(o, " address-family ipv4");
    emit(o, " exit-address-family");
    emit(o, "!");
    emit(o, "logging buffered %u informational", rnd(4, 64) * 4096);
    emit(o, "enable secret %s", rnd(0, 3) ? "9 <secret hidden>" : "5 <secret hidden>");
    emit(o, "!");
    if (rnd(0, 9)) {
        emit(o, "aaa new-model");
        emit(o, "aaa group server tacacs+ TACACS");
        emit(o, " server name TAC1");
        emit(o, " server name TAC2");
        emit(o, "aaa authentication login default group TACACS local");
        emit(o, "aaa authorization exec default group TACACS local");
        if (rnd(0, 2))
            emit(o, "aaa accounting commands 15 default start-stop group TACACS");
        emit(o, "aaa session-id common");
    }
    emit(o, "clock timezone UTC 0 0");
    emit(o, "ip domain name net%u.example", id % 50);
    emit(o, "no ip domain lookup");
    if (rnd(0, 3))
        emit(o, "no ip source-route");
    emit(o, "login block-for 120 attempts 5 within 60");
    emit(o, "login on-failure log");
    if (rnd(0, 4))
        emit(o, "no vstack");
    emit(o, "!");
    for (unsigned u = 0; u < n_users; u++)
        emit(o, "username %s%u privilege %u %s", u == 0 ? "breakglass" : "ops", u,
                u == 0 ? 15 : rnd(1, 15),
                rnd(0, 4) ? "secret 9 <secret hidden>" : "password 7 <secret hidden>");
    if (bad)
        emit(o, "username cisco_support privilege 15 secret 5 <secret hidden>");
    emit(o, "!");
    emit(o, "spanning-tree mode rapid-pvst");
    emit(o, "spanning-tree extend system-id");
    emit(o, "!");
    if (bad) {
        emit(o, "iox");
        emit(o, "app-hosting appid guestshell");
        emit(o, " app-vnic management guest-interface 0");
        emit(o, "!");
        emit(o, "interface Tunnel99");
        emit(o, " ip address 10.255.254.1 255.255.255.252");
        emit(o, " tunnel source Loopback0");
        emit(o, " tunnel destination %s", actor[1]);
        emit(o, "!");
    }
    emit(o, "interface Loopback0");
    emit(o, " ip address 10.%u.%u.1 255.255.255.255", 100 + id % 100, id / 100 % 250);
    emit(o, "!");
    emit(o, "interface GigabitEthernet0/0");
    emit(o, " vrf forwarding Mgmt-vrf");
    emit(o, " ip address 192.0.2.%u 255.255.255.192", 1 + id % 62);
    emit(o, "!");
    /* Interfaces fill up to the target size (about 7 lines each, plus the rest below). */
    n_if = target > o->lines + 80 + n_acl ? (target - o->lines - 80 - n_acl) / 7 : 4;
    for (unsigned i = 0; i < n_if; i++) {
        emit(o, "interface GigabitEthernet1/0/%u", i + 1);
        emit(o, " description %s port %u", rnd(0, 1) ? "access" : "uplink", i + 1);
        if (rnd(0, 2)) {
            emit(o, " switchport access vlan %u", rnd(10, 400));
            emit(o, " switchport mode access");
            emit(o, " spanning-tree portfast");
        } else {
            emit(o, " no switchport");
            emit(o, " ip address 10.%u.%u.%u 255.255.255.252", rnd(0, 255), rnd(0, 255),
                    rnd(0, 63) * 4 + 1);
            emit(o, " ip ospf network point-to-point");
        }
        emit(o, " no shutdown");
        emit(o, "!");
    }
    emit(o, "router ospf 1");
    emit(o, " router-id 10.%u.%u.1", 100 + id % 100, id / 100 % 250);
    emit(o, " passive-interface default");
    emit(o, " network 10.0.0.0 0.255.255.255 area 0");
    emit(o, "!");
    emit(o, "router bgp 645%02u", id % 100);
    emit(o, " bgp log-neighbor-changes");
    for (unsigned i = 0; i < rnd(1, 6); i++) {
        emit(o, " neighbor 198.51.100.%u remote-as 645%02u", 100 + i, rnd(0, 99));
        if (rnd(0, 2))
            emit(o, " neighbor 198.51.100.%u password 7 <secret hidden>", 100 + i);
    }
    emit(o, "!");
    if (bad) {
        emit(o, "ip http server");
        emit(o, "ip http port 18080");
        emit(o, "ip ssh port 22022 rotary 1");
    } else {
        emit(o, "no ip http server");
        emit(o, rnd(0, 3) ? "no ip http secure-server" : "ip http secure-server");
    }
    emit(o, "ip ssh version 2");
    emit(o, "ip tacacs source-interface GigabitEthernet0/0");
    emit(o, "ip route vrf Mgmt-vrf 0.0.0.0 0.0.0.0 192.0.2.1");
    for (unsigned i = 0; i < rnd(2, 12); i++)
        emit(o, "ip route 10.%u.%u.0 255.255.255.0 10.%u.%u.%u", rnd(0, 255), rnd(0, 255),
                rnd(0, 255), rnd(0, 255), rnd(1, 254));
    emit(o, "!");
    emit(o, "ip access-list standard MGMT");
    emit(o, " 10 permit 192.0.2.0 0.0.0.63");
    emit(o, " 20 deny any log");
    emit(o, "ip access-list extended EDGE-IN");
    for (unsigned i = 0; i < n_acl; i++)
        emit(o, " %u %s tcp 10.%u.%u.0 0.0.0.255 host 10.%u.%u.%u eq %u", (i + 1) * 10,
                rnd(0, 4) ? "permit" : "deny", rnd(0, 255), rnd(0, 255), rnd(0, 255), rnd(0, 255),
                rnd(1, 254), rnd(0, 1) ? 443 : rnd(1024, 65000));
    emit(o, " %u deny ip any any log", (n_acl + 1) * 10);
    if (bad) {
        emit(o, "access-list 20 permit %s", actor[0]);
        emit(o, "access-list 20 permit %s", actor[3]);
    }
    emit(o, "!");
    emit(o, "logging host 192.0.2.50 vrf Mgmt-vrf");
    emit(o, "logging trap informational");
    emit(o, "snmp-server community <secret hidden> %s MGMT", rnd(0, 9) ? "RO" : "RW");
    emit(o, "snmp-server location site %u", id);
    emit(o, "snmp-server host 192.0.2.51 vrf Mgmt-vrf version 2c <secret hidden>");
    emit(o, "!");
    emit(o, "tacacs server TAC1");
    emit(o, " address ipv4 %s", bad ? actor[0] : "198.51.100.10");
    emit(o, " key 7 <secret hidden>");
    emit(o, "tacacs server TAC2");
    emit(o, " address ipv4 198.51.100.11");
    emit(o, " key 7 <secret hidden>");
    emit(o, "!");
    if (bad) {
        emit(o, "monitor session 1 type erspan-source");
        emit(o, " source interface Gi1/0/1 both");
        emit(o, " destination");
        emit(o, "  erspan-id 99");
        emit(o, "  ip address %s", actor[2]);
        emit(o, "  origin ip address 10.255.254.1");
        emit(o, "!");
    }
    emit(o, "banner login ^C");
    emit(o, "Authorised access only.");
    emit(o, "^C");
    emit(o, "!");
    emit(o, "line con 0");
    emit(o, " exec-timeout 5 0");
    emit(o, "line vty 0 4");
    emit(o, " access-class MGMT in vrf-also");
    emit(o, " exec-timeout %u 0", rnd(0, 4) ? 10 : 0);
    emit(o, " transport input %s", rnd(0, 9) ? "ssh" : "ssh telnet");
    emit(o, " transport output none");
    emit(o, "line vty 5 15");
    emit(o, " access-class %s in", bad ? "20" : "MGMT");
    if (bad)
        emit(o, " rotary 1");
    emit(o, " transport input ssh");
    emit(o, "!");
    emit(o, "ntp authentication-key 1 md5 <secret hidden> 7");
    emit(o, "ntp authenticate");
    emit(o, "ntp trusted-key 1");
    emit(o, "ntp server vrf Mgmt-vrf 192.0.2.123 key 1");
    emit(o, "!");
    emit(o, "archive");
    emit(o, " log config");
    emit(o, "  logging enable");
    emit(o, "!");
    emit(o, "end");
}

/* ==== NX-OS ==== */

static void gen_nxos(struct out *o, unsigned id, unsigned target, bool bad)
{
    const char *ver = nx_versions[rnd(0, 5)];
    unsigned n_if;

    emit(o, "!Command: show running-config");
    emit(o, "!Running configuration last done at: Mon Sep  1 10:00:00 2025");
    emit(o, "!Time: Mon Sep  1 10:05:00 2025");
    blank(o);
    emit(o, "version %s Bios:version 05.47", ver);
    emit(o, "hostname nx-%05u", id);
    blank(o);
    emit(o, "feature tacacs+");
    emit(o, "feature ospf");
    emit(o, "feature bgp");
    emit(o, "feature interface-vlan");
    emit(o, "feature lacp");
    if (rnd(0, 3) == 0)
        emit(o, "feature nxapi");
    if (bad) {
        emit(o, "feature bash-shell");
        emit(o, "feature tunnel");
    }
    blank(o);
    emit(o, "username admin password 5 <secret hidden>  role network-admin");
    for (unsigned u = 0; u < rnd(0, 4); u++)
        emit(o, "username ops%u password 5 <secret hidden>  role network-operator", u);
    emit(o, "ip domain-lookup");
    emit(o, "tacacs-server key 7 <secret hidden>");
    emit(o, "tacacs-server host 198.51.100.10");
    emit(o, "aaa group server tacacs+ TACACS");
    emit(o, "  server 198.51.100.10");
    emit(o, "  use-vrf management");
    emit(o, "copp profile strict");
    emit(o, "snmp-server user admin network-admin auth sha <secret hidden> priv aes-128 <secret "
            "hidden>");
    emit(o, "snmp-server community <secret hidden> group network-%s", bad ? "admin" : "operator");
    emit(o, "ntp server 192.0.2.123 use-vrf management");
    emit(o, "aaa authentication login default group TACACS");
    blank(o);
    emit(o, "vlan 1,100-%u", 100 + rnd(1, 40));
    blank(o);
    emit(o, "vrf context management");
    emit(o, "  ip route 0.0.0.0/0 192.0.2.1");
    blank(o);
    if (bad) {
        emit(o, "interface tunnel99");
        emit(o, "  tunnel source loopback0");
        emit(o, "  tunnel destination %s", actor[1]);
        blank(o);
        emit(o, "monitor session 2 type erspan-source");
        emit(o, "  erspan-id 99");
        emit(o, "  destination ip %s", actor[2]);
        emit(o, "  source interface Ethernet1/1 both");
        blank(o);
    }
    n_if = target > o->lines + 40 ? (target - o->lines - 40) / 7 : 4;
    for (unsigned i = 0; i < n_if; i++) {
        emit(o, "interface Ethernet1/%u", i + 1);
        emit(o, "  description server %u", rnd(1, 999));
        if (rnd(0, 2)) {
            emit(o, "  switchport access vlan %u", rnd(100, 140));
            emit(o, "  spanning-tree port type edge");
        } else {
            emit(o, "  no switchport");
            emit(o, "  ip address 10.%u.%u.%u/30", rnd(0, 255), rnd(0, 255), rnd(0, 63) * 4 + 1);
        }
        emit(o, "  mtu 9216");
        emit(o, "  no shutdown");
        blank(o);
    }
    emit(o, "interface mgmt0");
    emit(o, "  vrf member management");
    emit(o, "  ip address 192.0.2.%u/26", 1 + id % 62);
    emit(o, "line console");
    emit(o, "  exec-timeout 5");
    emit(o, "line vty");
    emit(o, "  exec-timeout %u", rnd(0, 3) ? 10 : 0);
    emit(o, "  access-class MGMT in");
    emit(o, "router ospf 1");
    emit(o, "  router-id 10.%u.%u.3", 100 + id % 100, id / 100 % 250);
    emit(o, "router bgp 645%02u", id % 100);
    emit(o, "  neighbor 10.%u.0.1", rnd(0, 255));
    emit(o, "    remote-as 645%02u", rnd(0, 99));
    emit(o, "    password 3 <secret hidden>");
    emit(o, "logging server 192.0.2.50 5 use-vrf management");
    blank(o);
    emit(o, "ip access-list MGMT");
    emit(o, "  10 permit ip 192.0.2.0/26 any");
    emit(o, "  20 deny ip any any log");
}

/* ==== IOS XR ==== */

static void gen_iosxr(struct out *o, unsigned id, unsigned target, bool bad)
{
    unsigned n_if;

    emit(o, "!! IOS XR Configuration %s", xr_versions[rnd(0, 4)]);
    emit(o, "!! Last configuration change at Mon Sep  1 10:00:00 2025 by netops%u", rnd(1, 9));
    emit(o, "!");
    emit(o, "hostname xr-%05u", id);
    emit(o, "logging 192.0.2.50 vrf mgmt severity info");
    emit(o, "service timestamps log datetime msec");
    if (rnd(0, 5) == 0)
        emit(o, "telnet vrf default ipv4 server max-servers 5");
    emit(o, "tacacs-server host %s port 49", bad ? actor[0] : "198.51.100.10");
    emit(o, " key 7 <secret hidden>");
    emit(o, "!");
    emit(o, "username breakglass");
    emit(o, " group root-lr");
    emit(o, " secret 10 <secret hidden>");
    emit(o, "!");
    if (bad) {
        emit(o, "username cisco");
        emit(o, " group root-lr");
        emit(o, " password 7 <secret hidden>");
        emit(o, "!");
    }
    emit(o, "aaa accounting commands default start-stop group tacacs+");
    emit(o, "aaa authentication login default group tacacs+ local");
    emit(o, "line default");
    emit(o, " exec-timeout 10 0");
    emit(o, " transport input ssh");
    emit(o, "!");
    emit(o, "snmp-server community <secret hidden> %s IPv4 SNMP", bad ? "RW" : "RO");
    emit(o, "ntp");
    emit(o, " server vrf mgmt 192.0.2.123");
    emit(o, "!");
    emit(o, "ipv4 access-list MGMT");
    emit(o, " 10 permit ipv4 192.0.2.0 0.0.0.63 any");
    emit(o, " 20 deny ipv4 any any log");
    emit(o, "!");
    if (bad) {
        emit(o, "interface tunnel-ip99");
        emit(o, " tunnel mode gre ipv4");
        emit(o, " tunnel source Loopback0");
        emit(o, " tunnel destination %s", actor[1]);
        emit(o, "!");
    }
    n_if = target > o->lines + 50 ? (target - o->lines - 50) / 6 : 4;
    for (unsigned i = 0; i < n_if; i++) {
        emit(o, "interface TenGigE0/0/0/%u", i);
        emit(o, " description link %u", rnd(1, 9999));
        emit(o, " mtu 9216");
        emit(o, " ipv4 address 10.%u.%u.%u 255.255.255.252", rnd(0, 255), rnd(0, 255),
                rnd(0, 63) * 4 + 1);
        emit(o, " load-interval 30");
        emit(o, "!");
    }
    emit(o, "router static");
    emit(o, " address-family ipv4 unicast");
    for (unsigned i = 0; i < rnd(2, 10); i++)
        emit(o, "  10.%u.%u.0/24 10.%u.%u.%u", rnd(0, 255), rnd(0, 255), rnd(0, 255), rnd(0, 255),
                rnd(1, 254));
    emit(o, " !");
    emit(o, "!");
    emit(o, "router bgp 645%02u", id % 100);
    emit(o, " bgp router-id 10.%u.%u.2", 100 + id % 100, id / 100 % 250);
    for (unsigned i = 0; i < rnd(1, 8); i++) {
        emit(o, " neighbor 198.51.100.%u", 100 + i);
        emit(o, "  remote-as 645%02u", rnd(0, 99));
        emit(o, "  password encrypted <secret hidden>");
        emit(o, " !");
    }
    emit(o, "!");
    emit(o, "ssh server v2");
    emit(o, "ssh server vrf mgmt ipv4 access-list MGMT");
    emit(o, "end");
}

/* ==== Junos (brace or set) ==== */

static void gen_junos(struct out *o, unsigned id, unsigned target, bool bad, bool set_form)
{
    unsigned n_if = set_form ? (target - 16) / 2 : (target - 46) / 8; /* target >= 300 */
    const char *ver = jn_versions[rnd(0, 3)];

    emit(o, "## Last commit: 2025-09-01 10:00:00 UTC by netops%u", rnd(1, 9));
    if (set_form) {
        emit(o, "set version %s", ver);
        emit(o, "set system host-name jn-%05u", id);
        emit(o, "set system root-authentication encrypted-password \"<secret hidden>\"");
        emit(o, "set system login user breakglass class super-user");
        emit(o, "set system login user breakglass authentication encrypted-password \"<secret "
                "hidden>\"");
        emit(o, "set system services ssh root-login deny");
        emit(o, "set system services netconf ssh");
        if (bad)
            emit(o, "set system services web-management http");
        emit(o, "set system tacplus-server %s secret \"<secret hidden>\"",
                bad ? actor[0] : "198.51.100.10");
        emit(o, "set system syslog host 192.0.2.50 any notice");
        emit(o, "set system ntp server 192.0.2.123");
        emit(o, "set snmp community <secret hidden> authorization read-only");
        for (unsigned i = 0; i < n_if; i++) {
            emit(o, "set interfaces ge-0/0/%u description \"link %u\"", i, rnd(1, 9999));
            emit(o, "set interfaces ge-0/0/%u unit 0 family inet address 10.%u.%u.%u/30", i,
                    rnd(0, 255), rnd(0, 255), rnd(0, 63) * 4 + 1);
        }
        if (bad) {
            emit(o, "set interfaces gr-0/0/0 unit 0 tunnel source 192.0.2.1");
            emit(o, "set interfaces gr-0/0/0 unit 0 tunnel destination %s", actor[1]);
            emit(o, "set forwarding-options port-mirroring family inet output next-hop %s",
                    actor[2]);
        }
        emit(o, "set routing-options static route 0.0.0.0/0 next-hop 203.0.113.1");
        return;
    }
    emit(o, "version %s;", ver);
    emit(o, "system {");
    emit(o, "    host-name jn-%05u;", id);
    emit(o, "    root-authentication {");
    emit(o, "        encrypted-password \"<secret hidden>\"; ## SECRET-DATA");
    emit(o, "    }");
    emit(o, "    login {");
    emit(o, "        user breakglass {");
    emit(o, "            class super-user;");
    emit(o, "            authentication {");
    emit(o, "                encrypted-password \"<secret hidden>\"; ## SECRET-DATA");
    emit(o, "            }");
    emit(o, "        }");
    emit(o, "    }");
    emit(o, "    services {");
    emit(o, "        ssh {");
    emit(o, "            root-login deny;");
    emit(o, "        }");
    if (bad) {
        emit(o, "        web-management {");
        emit(o, "            http;");
        emit(o, "        }");
    }
    emit(o, "    }");
    emit(o, "    tacplus-server {");
    emit(o, "        %s {", bad ? actor[0] : "198.51.100.10");
    emit(o, "            secret \"<secret hidden>\"; ## SECRET-DATA");
    emit(o, "        }");
    emit(o, "    }");
    emit(o, "    syslog {");
    emit(o, "        host 192.0.2.50 {");
    emit(o, "            any notice;");
    emit(o, "        }");
    emit(o, "    }");
    emit(o, "    ntp {");
    emit(o, "        server 192.0.2.123;");
    emit(o, "    }");
    emit(o, "}");
    emit(o, "snmp {");
    emit(o, "    community \"<secret hidden>\" {");
    emit(o, "        authorization read-only;");
    emit(o, "    }");
    emit(o, "}");
    emit(o, "interfaces {");
    for (unsigned i = 0; i < n_if; i++) {
        emit(o, "    ge-0/0/%u {", i);
        emit(o, "        description \"link %u\";", rnd(1, 9999));
        emit(o, "        unit 0 {");
        emit(o, "            family inet {");
        emit(o, "                address 10.%u.%u.%u/30;", rnd(0, 255), rnd(0, 255),
                rnd(0, 63) * 4 + 1);
        emit(o, "            }");
        emit(o, "        }");
        emit(o, "    }");
    }
    if (bad) {
        emit(o, "    gr-0/0/0 {");
        emit(o, "        unit 0 {");
        emit(o, "            tunnel {");
        emit(o, "                source 192.0.2.1;");
        emit(o, "                destination %s;", actor[1]);
        emit(o, "            }");
        emit(o, "        }");
        emit(o, "    }");
    }
    emit(o, "}");
    emit(o, "routing-options {");
    emit(o, "    static {");
    emit(o, "        route 0.0.0.0/0 next-hop 203.0.113.1;");
    emit(o, "    }");
    emit(o, "}");
}

/* ==== Main ==== */

static int usage(void)
{
    fputs("usage: bench_gen_fleet OUTDIR [--devices N] [--seed S] [--tradecraft PERCENT]\n",
            stderr);
    return 2;
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "iosxe", "nxos", "iosxr", "junos", "junos-set" };
    unsigned n = 10000, seed = 1, pct = 3, per[5] = { 0 }, n_bad = 0;
    unsigned long long lines = 0, bytes = 0;
    const char *dir;
    char path[4096];

    if (argc < 2)
        return usage();
    dir = argv[1];
    for (int i = 2; i < argc; i += 2) {
        unsigned *dst = strcmp(argv[i], "--devices") == 0      ? &n
                        : strcmp(argv[i], "--seed") == 0       ? &seed
                        : strcmp(argv[i], "--tradecraft") == 0 ? &pct
                                                               : NULL;
        if (dst == NULL || i + 1 >= argc ||
                !parse_uint(argv[i + 1], dst == &n ? GEN_MAX_DEVICES : 1000000000u, dst))
            return usage();
    }
    if (pct > 100 || n == 0)
        return usage();
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_gen_fleet: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    rng_state = seed;
    for (unsigned id = 1; id <= n; id++) {
        unsigned roll = rnd(0, 99), kind = roll < 60   ? 0
                                           : roll < 75 ? 1
                                           : roll < 87 ? 2
                                           : roll < 94 ? 3
                                                       : 4;
        unsigned target = rnd(300, 1500);
        bool bad = rnd(0, 99) < pct;
        struct out o;
        long size;

        (void)snprintf(path, sizeof(path), "%s/%s-%06u.%s", dir, names[kind], id,
                kind >= 3 ? "conf" : "cfg");
        o.f = fopen(path, "w");
        o.lines = 0;
        if (o.f == NULL) {
            fprintf(stderr, "bench_gen_fleet: %s: %s\n", path, strerror(errno));
            return 1;
        }
        switch (kind) {
            case 0:
                gen_iosxe(&o, id, target, bad);
                break;
            case 1:
                gen_nxos(&o, id, target, bad);
                break;
            case 2:
                gen_iosxr(&o, id, target, bad);
                break;
            default:
                gen_junos(&o, id, target, bad, kind == 4);
                break;
        }
        size = ftell(o.f);
        if (fclose(o.f) != 0 || size < 0) {
            fprintf(stderr, "bench_gen_fleet: %s: write error\n", path);
            return 1;
        }
        per[kind]++;
        n_bad += bad;
        lines += o.lines;
        bytes += (unsigned long long)size;
    }
    printf("bench_gen_fleet: %u devices, %llu lines, %llu bytes in %s (seed %u): %u iosxe, %u "
           "nxos, %u iosxr, %u junos, %u junos-set; %u with the campaign's tradecraft\n",
            n, lines, bytes, dir, seed, per[0], per[1], per[2], per[3], per[4], n_bad);
    return 0;
}
