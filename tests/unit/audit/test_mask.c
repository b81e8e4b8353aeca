/*
 * test_mask.c: secret masking (tw_devconf_mask), the only form of a
 * configuration line findings, logs and reports may carry.
 *
 * A table of statements per platform and their masked forms (type digits
 * kept, quoted secrets keep their quotes, redaction markers and public keys
 * stay, settings that look like secrets stay); a sweep over the real
 * configurations in $TW_SHARED_DATA/configs (skipped visibly when absent)
 * asserting that none of their known secrets survives and that no word after
 * password / secret / key / community is left in clear; a sweep over the
 * catalogue's fixtures (tests/fixtures/audit), whose every secret is a
 * planted `S3cr3t-plant...` or `s3cret`; and the edges: tiny
 * output buffers, long statements, many secrets in one statement, banners,
 * allocation failure.
 */
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include "tidewatch/alloc.h"
#include "tidewatch/devconf.h"
#include "tw_test.h"

struct mask_case {
    enum tw_platform p;
    const char *in;
    const char *out;
};

static const struct mask_case cases[] = {
    /* A qualifier or XR type word between the keyword and the value. */
    { TW_PLAT_IOSXR, "authentication-key encrypted SECRETX2",
            "authentication-key encrypted <masked>" },
    { TW_PLAT_IOSXR, "radius-server host 10.0.0.1 auth-port 1812 key encrypted SECRETX6",
            "radius-server host 10.0.0.1 auth-port 1812 key encrypted <masked>" },
    { TW_PLAT_IOSXR, "message-digest-key 1 md5 encrypted SECRETX3",
            "message-digest-key 1 md5 encrypted <masked>" },
    { TW_PLAT_IOSXR, "lsp-password hmac-md5 encrypted SECRETX10",
            "lsp-password hmac-md5 encrypted <masked>" },
    { TW_PLAT_JUNOS,
            "security ipsec vpn V manual authentication algorithm hmac-sha1-96 key ascii-text "
            "\"$9$SECRETMAN6\"",
            "security ipsec vpn V manual authentication algorithm hmac-sha1-96 key ascii-text "
            "\"<masked>\"" },
    { TW_PLAT_ASA, "failover key hex 0123456789SECRETFO4", "failover key hex <masked>" },
    /* Secrets with grammars of their own. */
    { TW_PLAT_JUNOS,
            "security macsec connectivity-association CA pre-shared-key ckn abcd cak "
            "\"$9$SECRETCAK4\"",
            "security macsec connectivity-association CA pre-shared-key <masked> abcd cak "
            "\"<masked>\"" },
    { TW_PLAT_IOS, "set session-key inbound esp 256 cipher SECRETCIPH1 authenticator SECRETAUTH2",
            "set session-key <masked>" },
    { TW_PLAT_IOS, "area 0 authentication ipsec spi 256 sha1 SECRETV3AUTH12",
            "area 0 authentication ipsec spi <masked>" },
    { TW_PLAT_IOS, "ipv6 ospf authentication ipsec spi 500 md5 SECRETV3MD5",
            "ipv6 ospf authentication ipsec spi <masked>" },
    /* IOS and IOS XE */
    { TW_PLAT_IOS, "enable secret 9 $9$abcdefgh", "enable secret 9 <masked>" },
    { TW_PLAT_IOS, "enable secret 5 $1$abcd$efgh", "enable secret 5 <masked>" },
    { TW_PLAT_IOS, "enable secret 5 password", "enable secret 5 <masked>" },
    { TW_PLAT_IOS, "enable secret level 15 5 $1$ab", "enable secret level 15 5 <masked>" },
    { TW_PLAT_IOS, "enable password 7 0822455D0A16", "enable password 7 <masked>" },
    { TW_PLAT_IOS, "enable password cisco123", "enable password <masked>" },
    { TW_PLAT_IOSXE, "username admin privilege 15 password 0 my clear pass",
            "username admin privilege 15 password 0 <masked>" },
    { TW_PLAT_IOS, "username cisco privilege 15 password 7 0822455D0A16",
            "username cisco privilege 15 password 7 <masked>" },
    { TW_PLAT_IOSXE, "username u secret 9 $9$xyz", "username u secret 9 <masked>" },
    { TW_PLAT_IOSXE, "mgmtuser username u password 0 MGMT PASSW0RD secret 0 MGMT SECR3T",
            "mgmtuser username u password 0 <masked>" },
    { TW_PLAT_IOS, "key 7 094F471A1A0A", "key 7 <masked>" },
    { TW_PLAT_IOS, "key 1", "key 1" },
    { TW_PLAT_IOS, "key chain OSPF", "key chain OSPF" },
    { TW_PLAT_IOS, "key-string 7 0822455D0A16", "key-string 7 <masked>" },
    { TW_PLAT_IOS, "key-string my clear key", "key-string <masked>" },
    { TW_PLAT_IOS, "key config-key password-encrypt MasterKey123",
            "key config-key password-encrypt <masked>" },
    { TW_PLAT_IOS, "tacacs-server key 7 094F471A1A0A", "tacacs-server key 7 <masked>" },
    { TW_PLAT_IOS, "tacacs-server host 192.0.2.1 key S3cr3t",
            "tacacs-server host 192.0.2.1 key <masked>" },
    { TW_PLAT_IOS, "radius-server key 0 s3cret", "radius-server key 0 <masked>" },
    { TW_PLAT_IOS, "radius-server host 192.0.2.2 auth-port 1812 acct-port 1813 key 7 0822",
            "radius-server host 192.0.2.2 auth-port 1812 acct-port 1813 key 7 <masked>" },
    { TW_PLAT_IOS, "server-private 192.0.2.3 key 7 ABCDEFGH1234",
            "server-private 192.0.2.3 key 7 <masked>" },
    { TW_PLAT_IOSXE, "client 10.10.10.10 server-key AAAABBBB",
            "client 10.10.10.10 server-key <masked>" },
    { TW_PLAT_IOSXE, "client 10.10.20.20 server-key 7 AAAABBBB",
            "client 10.10.20.20 server-key 7 <masked>" },
    { TW_PLAT_IOS, "snmp-server community s3cret RW 20", "snmp-server community <masked> RW 20" },
    { TW_PLAT_IOS, "no snmp-server community public RO", "no snmp-server community <masked> RO" },
    { TW_PLAT_IOS, "snmp-server host 192.0.2.5 version 2c s3cret",
            "snmp-server host 192.0.2.5 version 2c <masked>" },
    { TW_PLAT_IOS, "snmp-server host 192.0.2.5 s3cret", "snmp-server host 192.0.2.5 <masked>" },
    { TW_PLAT_IOS, "snmp-server host 192.0.2.5 vrf Mgmt informs version 3 priv user1 bgp",
            "snmp-server host 192.0.2.5 vrf Mgmt informs version 3 priv <masked> bgp" },
    { TW_PLAT_IOS, "snmp-server host 192.0.2.5 traps version 2c s3cret udp-port 2162 config",
            "snmp-server host 192.0.2.5 traps version 2c <masked> udp-port 2162 config" },
    { TW_PLAT_IOS, "snmp-server user u1 g1 v3 auth sha AuthPass1 priv aes 128 PrivPass1",
            "snmp-server user u1 g1 v3 auth sha <masked> priv aes 128 <masked>" },
    { TW_PLAT_IOS, "snmp-server user u1 g1 v3 encrypted auth md5 11:22:33 priv des 44:55",
            "snmp-server user u1 g1 v3 encrypted auth md5 <masked> priv des <masked>" },
    { TW_PLAT_IOS, "snmp-server group g1 v3 priv", "snmp-server group g1 v3 priv" },
    { TW_PLAT_IOS, "ntp authentication-key 1 md5 0822455D0A16 7",
            "ntp authentication-key 1 md5 <masked> 7" },
    { TW_PLAT_IOS, "ntp trusted-key 1", "ntp trusted-key 1" },
    { TW_PLAT_IOS, "crypto isakmp key S3cr3tK3y address 203.0.113.1",
            "crypto isakmp key <masked> address 203.0.113.1" },
    { TW_PLAT_IOS, "crypto isakmp key 6 S3cr3t address 203.0.113.1",
            "crypto isakmp key 6 <masked> address 203.0.113.1" },
    { TW_PLAT_IOS, "crypto isakmp key 7 address 203.0.113.1",
            "crypto isakmp key <masked> address 203.0.113.1" },
    { TW_PLAT_IOS, "crypto key generate rsa modulus 2048", "crypto key generate rsa modulus 2048" },
    { TW_PLAT_IOS, "pre-shared-key local 6 S3cr3t", "pre-shared-key local 6 <masked>" },
    { TW_PLAT_IOS, "pre-shared-key address 203.0.113.1 key S3cr3t",
            "pre-shared-key address 203.0.113.1 key <masked>" },
    { TW_PLAT_IOS, "neighbor 192.0.2.2 password 7 0822455D0A16",
            "neighbor 192.0.2.2 password 7 <masked>" },
    { TW_PLAT_IOS, "neighbor 192.0.2.2 password bgp pass", "neighbor 192.0.2.2 password <masked>" },
    { TW_PLAT_IOS, "ip ospf message-digest-key 1 md5 7 0822455D0A16",
            "ip ospf message-digest-key 1 md5 7 <masked>" },
    { TW_PLAT_IOS, "ip ospf message-digest-key 1 md5 plainkey",
            "ip ospf message-digest-key 1 md5 <masked>" },
    { TW_PLAT_IOS, "ip ospf authentication-key 7 0822", "ip ospf authentication-key 7 <masked>" },
    { TW_PLAT_IOS, "ip ftp password 7 0822455D0A16", "ip ftp password 7 <masked>" },
    { TW_PLAT_IOS, "ip ftp password S3cret", "ip ftp password <masked>" },
    { TW_PLAT_IOS, "ip ftp username backup", "ip ftp username backup" },
    { TW_PLAT_IOS, "ppp chap password 7 0822", "ppp chap password 7 <masked>" },
    { TW_PLAT_IOS, "ppp pap sent-username u password 0 pw",
            "ppp pap sent-username u password 0 <masked>" },
    { TW_PLAT_IOS, "wpa-psk ascii 0 MyWifiKey", "wpa-psk ascii 0 <masked>" },
    { TW_PLAT_IOSXE, "security wpa psk set-key ascii 0 WLAN SECR3T",
            "security wpa psk set-key ascii 0 <masked>" },
    { TW_PLAT_IOS, "archive path ftp://backup:Pa55w0rd@192.0.2.9/$h",
            "archive path ftp://backup:<masked>@192.0.2.9/$h" },
    { TW_PLAT_IOS, "archive path tftp://192.0.2.9/$h", "archive path tftp://192.0.2.9/$h" },
    { TW_PLAT_IOS, "standby 1 authentication md5 key-string 7 0822",
            "standby 1 authentication md5 key-string 7 <masked>" },
    { TW_PLAT_IOS, "standby 1 authentication text hsrpPw",
            "standby 1 authentication text <masked>" },
    { TW_PLAT_IOS, "standby 1 authentication hsrpPw", "standby 1 authentication <masked>" },
    { TW_PLAT_IOS, "standby 1 authentication md5 key-chain HSRP",
            "standby 1 authentication md5 key-chain HSRP" },
    { TW_PLAT_IOS, "ip nhrp authentication NhrpKey", "ip nhrp authentication <masked>" },
    { TW_PLAT_IOS, "vtp password VtpPass", "vtp password <masked>" },
    { TW_PLAT_IOS, "isis password IsisPw", "isis password <masked>" },
    { TW_PLAT_IOS, "area-password AreaPw", "area-password <masked>" },
    { TW_PLAT_IOS, "enable secret 5 <secret hidden>", "enable secret 5 <secret hidden>" },
    { TW_PLAT_IOS, "snmp-server community <configuration removed> RO",
            "snmp-server community <configuration removed> RO" },
    { TW_PLAT_IOS, "service password-encryption", "service password-encryption" },
    { TW_PLAT_IOS, "security passwords min-length 8", "security passwords min-length 8" },
    { TW_PLAT_IOS, "ip http authentication local", "ip http authentication local" },
    { TW_PLAT_IOS, "password encryption aes", "password encryption aes" },
    /* Errs on the side of hiding: a description naming a key loses a word. */
    { TW_PLAT_IOS, "description key switch uplink", "description key <masked> uplink" },
    { TW_PLAT_IOS, "banner motd ^C\npassword 0 clear words\nnext line",
            "banner motd ^C\npassword 0 <masked>\nnext line" },
    /* NX-OS */
    { TW_PLAT_NXOS, "username admin password 5 $5$abc role network-admin",
            "username admin password 5 <masked> role network-admin" },
    { TW_PLAT_NXOS, "username u password S3cret role network-operator",
            "username u password <masked> role network-operator" },
    { TW_PLAT_NXOS,
            "snmp-server user admin network-admin auth md5 AAAA priv aes-128 BBBB localizedV2key",
            "snmp-server user admin network-admin auth md5 <masked> priv aes-128 <masked> "
            "localizedV2key" },
    { TW_PLAT_NXOS, "snmp-server user u2 auth sha AAA priv BBB",
            "snmp-server user u2 auth sha <masked> priv <masked>" },
    { TW_PLAT_NXOS, "tacacs-server key 7 \"S3cr3t\"", "tacacs-server key 7 \"<masked>\"" },
    { TW_PLAT_NXOS, "tacacs-server host 192.0.2.1 key 7 \"S3cr3t\"",
            "tacacs-server host 192.0.2.1 key 7 \"<masked>\"" },
    { TW_PLAT_NXOS, "radius-server key 7 \"S3 cr3t\"", "radius-server key 7 \"<masked>\"" },
    { TW_PLAT_NXOS, "snmp-server community s3cret group network-admin",
            "snmp-server community <masked> group network-admin" },
    { TW_PLAT_NXOS, "snmp-server host 192.0.2.5 traps version 2c s3cret",
            "snmp-server host 192.0.2.5 traps version 2c <masked>" },
    { TW_PLAT_NXOS, "snmp-server host 192.0.2.5 use-vrf management",
            "snmp-server host 192.0.2.5 use-vrf management" },
    /* IOS XR */
    { TW_PLAT_IOSXR, "secret 10 $6$abc", "secret 10 <masked>" },
    { TW_PLAT_IOSXR, "password 7 0822455D0A16", "password 7 <masked>" },
    { TW_PLAT_IOSXR, "password encrypted 0822455D0A16", "password encrypted <masked>" },
    { TW_PLAT_IOSXR, "key-string password 0822455D", "key-string password <masked>" },
    { TW_PLAT_IOSXR, "snmp-server community s3cret RW", "snmp-server community <masked> RW" },
    { TW_PLAT_IOSXR,
            "snmp-server user u G v3 auth sha encrypted AuthX priv aes 128 encrypted PrivX",
            "snmp-server user u G v3 auth sha encrypted <masked> priv aes 128 encrypted "
            "<masked>" },
    { TW_PLAT_IOSXR, "authentication-key 1 md5 encrypted 0822455D",
            "authentication-key 1 md5 encrypted <masked>" },
    { TW_PLAT_IOSXR, "snmp-server host 192.0.2.5 traps version 2c s3cret",
            "snmp-server host 192.0.2.5 traps version 2c <masked>" },
    /* ASA */
    { TW_PLAT_ASA, "passwd 2KFQnbNIdI.2KYOU encrypted", "passwd <masked> encrypted" },
    { TW_PLAT_ASA, "enable password 8Ry2YjIyt7RRXU24 encrypted",
            "enable password <masked> encrypted" },
    { TW_PLAT_ASA, "username oxidized password $sha512$5000$AAA== pbkdf2 privilege 15",
            "username oxidized password <masked> pbkdf2 privilege 15" },
    { TW_PLAT_ASA, "key AAAABBBB", "key <masked>" },
    { TW_PLAT_ASA, "ikev1 pre-shared-key S3cr3t", "ikev1 pre-shared-key <masked>" },
    { TW_PLAT_ASA, "ikev2 remote-authentication pre-shared-key S3cr3t",
            "ikev2 remote-authentication pre-shared-key <masked>" },
    { TW_PLAT_ASA, "snmp-server host inside 192.0.2.5 community s3cret version 2c",
            "snmp-server host inside 192.0.2.5 community <masked> version 2c" },
    { TW_PLAT_ASA, "failover key S3cr3t", "failover key <masked>" },
    { TW_PLAT_ASA, "snmp-server host inside 192.0.2.5 community 8 EncComm version 2c",
            "snmp-server host inside 192.0.2.5 community 8 <masked> version 2c" },
    { TW_PLAT_ASA, "ldap-login-password S3cr3t", "ldap-login-password <masked>" },
    { TW_PLAT_ASA, "password encryption aes", "password encryption aes" },
    /* Junos */
    { TW_PLAT_JUNOS, "system root-authentication encrypted-password \"$6$abc\"",
            "system root-authentication encrypted-password \"<masked>\"" },
    { TW_PLAT_JUNOS, "system login user u authentication encrypted-password \"$1$x\"",
            "system login user u authentication encrypted-password \"<masked>\"" },
    { TW_PLAT_JUNOS, "system login user u authentication ssh-rsa \"ssh-rsa AAAAB3 u@h\"",
            "system login user u authentication ssh-rsa \"ssh-rsa AAAAB3 u@h\"" },
    { TW_PLAT_JUNOS, "system radius-server 192.0.2.1 secret \"$9$abc\"",
            "system radius-server 192.0.2.1 secret \"<masked>\"" },
    { TW_PLAT_JUNOS, "system tacplus-server 192.0.2.1 secret \"$9$abc\"",
            "system tacplus-server 192.0.2.1 secret \"<masked>\"" },
    { TW_PLAT_JUNOS, "protocols bgp group g authentication-key \"$9$abc\"",
            "protocols bgp group g authentication-key \"<masked>\"" },
    { TW_PLAT_JUNOS,
            "protocols ospf area 0.0.0.0 interface ge-0/0/0.0 authentication md5 1 key \"$9$a\"",
            "protocols ospf area 0.0.0.0 interface ge-0/0/0.0 authentication md5 1 key "
            "\"<masked>\"" },
    { TW_PLAT_JUNOS, "security ike policy p pre-shared-key ascii-text \"$9$abc\"",
            "security ike policy p pre-shared-key ascii-text \"<masked>\"" },
    { TW_PLAT_JUNOS, "snmp community s3cret authorization read-write",
            "snmp community <masked> authorization read-write" },
    { TW_PLAT_JUNOS, "snmp community public clients 192.0.2.0/24",
            "snmp community <masked> clients 192.0.2.0/24" },
    { TW_PLAT_JUNOS,
            "system archival configuration archive-sites \"ftp://u:pw@192.0.2.9/x\" password "
            "\"$9$x\"",
            "system archival configuration archive-sites \"ftp://u:<masked>@192.0.2.9/x\" "
            "password \"<masked>\"" },
    { TW_PLAT_JUNOS, "system ntp authentication-key 1 type md5 value \"$9$abc\"",
            "system ntp authentication-key 1 type md5 value \"<masked>\"" },
    { TW_PLAT_JUNOS, "system login password minimum-length 8",
            "system login password minimum-length 8" },
    { TW_PLAT_JUNOS, "system login password format sha512", "system login password format sha512" },
    { TW_PLAT_JUNOS,
            "protocols isis interface ge-0/0/0.0 level 2 hello-authentication-key \"$9$x\"",
            "protocols isis interface ge-0/0/0.0 level 2 hello-authentication-key \"<masked>\"" },
    { TW_PLAT_JUNOS,
            "snmp v3 usm local-engine user u authentication-sha authentication-key \"$9$x\"",
            "snmp v3 usm local-engine user u authentication-sha authentication-key \"<masked>\"" },
    { TW_PLAT_JUNOS, "snmp v3 usm local-engine user u privacy-aes128 privacy-key \"$9$y\"",
            "snmp v3 usm local-engine user u privacy-aes128 privacy-key \"<masked>\"" },
    { TW_PLAT_JUNOS, "security authentication-key-chains key-chain k key 0 secret \"$9$x\"",
            "security authentication-key-chains key-chain k key 0 secret \"<masked>\"" },
    { TW_PLAT_JUNOS, "security pki local-certificate c passphrase \"P4ss\"",
            "security pki local-certificate c passphrase \"<masked>\"" },
    { TW_PLAT_JUNOS, "system root-authentication plain-text-password-value \"P4ss\"",
            "system root-authentication plain-text-password-value \"<masked>\"" },
    { TW_PLAT_JUNOS, "policy-options community BLOCK members 65000:666",
            "policy-options community BLOCK members 65000:666" },
    { TW_PLAT_JUNOS, "system services ssh root-login allow",
            "system services ssh root-login allow" },
    { TW_PLAT_JUNOS, "system root-authentication encrypted-password \"<secret removed>\"",
            "system root-authentication encrypted-password \"<secret removed>\"" },
    { TW_PLAT_JUNOS, "system root-authentication encrypted-password \"\"",
            "system root-authentication encrypted-password \"\"" },
    /* Unknown platform: every family's rules. */
    { TW_PLAT_UNKNOWN, "username x password 0 a b c", "username x password 0 <masked>" },
};

static void mask_table(void **state)
{
    char out[512];

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        size_t n = tw_devconf_mask(cases[i].p, cases[i].in, strlen(cases[i].in), out, sizeof(out));
        if (strcmp(out, cases[i].out) != 0)
            print_message("  case %zu (%s): got \"%s\"\n", i, tw_platform_name(cases[i].p), out);
        assert_string_equal(out, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
    }
}

/* ==== The real configurations ==== */

/* Secrets written in the real configurations (masked by their contributors, but secrets here). */
static const char *const real_secrets[] = {
    "SECRET_ENABLE",
    "SECRET_OXIDIZED",
    "AAAAAAAAAABBBBBBBBBB",
    "ABCDEFGH1234",
    "REMOVED_SECRET",
    "SECRET_REMOVED",
    "WLANSECR3T",
    "SECR3T",
    "PASSW0RD",
    "7df35f90c92ecff2",
    "very-secret-encrypted-password",
    "CorrectHorseBattery",
    "FAKEHASHDATA",
    "sha512$5000",
    "community public",
    "secret 5 password",
};

static bool is_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* Next word of s at *i: [*start, *end). */
static bool next_word(const char *s, size_t *i, size_t *start, size_t *end)
{
    while (s[*i] == ' ' || s[*i] == '\n')
        (*i)++;
    if (s[*i] == '\0')
        return false;
    *start = *i;
    if (s[*i] == '<') {
        while (s[*i] != '\0' && s[*i] != '>')
            (*i)++;
        if (s[*i] == '>')
            (*i)++;
    } else {
        while (s[*i] != '\0' && s[*i] != ' ' && s[*i] != '\n')
            (*i)++;
    }
    *end = *i;
    return true;
}

#define WORD_IS(s, a, b, lit)                                                                      \
    ((b) - (a) == sizeof(lit) - 1 && memcmp((s) + (a), (lit), (b) - (a)) == 0)

/*
 * No word after password / secret / key / community (past a type digit)
 * is left in clear, in a masked statement.
 */
static void check_no_clear_secret(const char *masked, const char *first)
{
    size_t i = 0, a, b;

    while (next_word(masked, &i, &a, &b)) {
        size_t j = i, c, e;
        bool kw = WORD_IS(masked, a, b, "password") || WORD_IS(masked, a, b, "secret") ||
                  WORD_IS(masked, a, b, "key") ||
                  (WORD_IS(masked, a, b, "community") && strcmp(first, "snmp-server") == 0);
        if (!kw || !next_word(masked, &j, &c, &e))
            continue;
        if (is_digits(masked + c, e - c)) {
            size_t k = j, c2, e2;
            if (!next_word(masked, &k, &c2, &e2))
                continue; /* key-chain `key 1` */
            c = c2;
            e = e2;
        }
        if (WORD_IS(masked, c, e, "encryption") || WORD_IS(masked, c, e, "chain") ||
                WORD_IS(masked, c, e, "config-key"))
            continue;
        if (masked[c] != '<' && strncmp(masked + c, "\"<", 2) != 0)
            print_message("  in clear: %s\n", masked);
        assert_true(masked[c] == '<' || strncmp(masked + c, "\"<", 2) == 0);
    }
}

static void sweep_nodes(enum tw_platform p, const struct tw_cfg_node *n, unsigned *checked)
{
    char out[4096], first[64];

    for (; n != NULL; n = n->next) {
        size_t fl = strcspn(n->text, " ");
        tw_devconf_mask(p, n->text, n->len, out, sizeof(out));
        for (size_t k = 0; k < TW_ARRAY_LEN(real_secrets); k++) {
            if (strstr(out, real_secrets[k]) != NULL)
                print_message("  leaked %s: %s\n", real_secrets[k], out);
            assert_null(strstr(out, real_secrets[k]));
        }
        if (fl >= sizeof(first))
            fl = sizeof(first) - 1;
        memcpy(first, n->text, fl);
        first[fl] = '\0';
        check_no_clear_secret(out, first);
        (*checked)++;
        tw_devconf_path(p, n, out, sizeof(out));
        for (size_t k = 0; k < TW_ARRAY_LEN(real_secrets); k++)
            assert_null(strstr(out, real_secrets[k]));
        sweep_nodes(p, n->child, checked);
    }
}

static const char *const real_files[] = {
    "ios_C9200L-24P-4G_17.09.04a.txt",
    "ios_C9800-L-F-K9_17.06.05.txt",
    "ios_asr920_16.8.1b.txt",
    "nxos_C93180YC-FX3J_10.4.5.txt",
    "nxos_N5548_7.3.13.txt",
    "junos_srx300_22.4.txt",
    "junos_srx300_22.4_wo_cluster.txt",
    "asa_5512_9.12-4-67_single-context.txt",
};

static void mask_real_configs(void **state)
{
    unsigned checked = 0;

    (void)state;
    if (tw_test_shared("configs") == NULL) {
        skip();
        return;
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(real_files); i++) {
        char rel[128];
        size_t len = 0;
        char *text;
        struct tw_devconf *d = NULL;

        (void)snprintf(rel, sizeof(rel), "configs/%s", real_files[i]);
        text = tw_test_slurp(tw_test_shared(rel), &len);
        assert_int_equal(
                tw_devconf_parse(text, len, real_files[i], TW_PLAT_UNKNOWN, &d, NULL), TW_OK);
        sweep_nodes(d->platform, d->root.child, &checked);
        tw_devconf_free(d);
        tw_free(text);
    }
    assert_true(checked > 500);
}

/* ==== The catalogue's fixtures ==== */

static void sweep_planted(enum tw_platform p, const struct tw_cfg_node *n, unsigned *checked)
{
    char out[4096];

    for (; n != NULL; n = n->next) {
        tw_devconf_mask(p, n->text, n->len, out, sizeof(out));
        if (strstr(out, "S3cr3t") != NULL || strstr(out, "s3cret") != NULL)
            print_message("  planted secret shown: %s\n", out);
        assert_null(strstr(out, "S3cr3t"));
        assert_null(strstr(out, "s3cret"));
        (*checked)++;
        sweep_planted(p, n->child, checked);
    }
}

/* The platform of FIXTURE.PLATFORM.EXT (or PLATFORM.EXT); false for outputs and other files. */
static bool fixture_platform(const char *name, enum tw_platform *p)
{
    const char *ext = strrchr(name, '.'), *start;

    if (ext == NULL ||
            (strcmp(ext, ".cfg") != 0 && strcmp(ext, ".conf") != 0 && strcmp(ext, ".set") != 0))
        return false;
    start = ext;
    while (start > name && start[-1] != '.')
        start--;
    return tw_platform_parse(tw_str_make(start, (size_t)(ext - start)), p) == TW_OK;
}

static bool opendir_ok(const char *dir)
{
    DIR *dh = opendir(dir);

    if (dh == NULL)
        return false;
    (void)closedir(dh);
    return true;
}

static void sweep_dir(const char *dir, unsigned *files, unsigned *checked)
{
    DIR *dh = opendir(dir);
    const struct dirent *e;

    assert_non_null(dh);
    while ((e = readdir(dh)) != NULL) {
        char path[1024];
        enum tw_platform p;
        struct tw_devconf *d = NULL;
        size_t len = 0;
        char *text;

        if (!fixture_platform(e->d_name, &p))
            continue;
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        text = tw_test_slurp(path, &len);
        assert_int_equal(tw_devconf_parse(text, len, path, p, &d, NULL), TW_OK);
        sweep_planted(d->platform, d->root.child, checked);
        tw_devconf_free(d);
        tw_free(text);
        (*files)++;
    }
    (void)closedir(dh);
}

static void mask_fixture_secrets(void **state)
{
    const char *src = getenv("TW_SOURCE_DIR");
    char dir[1024];
    unsigned files = 0, checked = 0;

    (void)state;
    (void)snprintf(dir, sizeof(dir), "%s/tests/fixtures/audit/hardened", src ? src : ".");
    if (src == NULL || opendir_ok(dir) == false) {
        print_message("SKIP: the catalogue's fixtures are not there (%s)\n", dir);
        skip();
        return;
    }
    sweep_dir(dir, &files, &checked);
    (void)snprintf(dir, sizeof(dir), "%s/tests/fixtures/audit/rules", src);
    if (opendir_ok(dir))
        sweep_dir(dir, &files, &checked);
    print_message("  %u fixtures, %u statements\n", files, checked);
    assert_true(files >= 1);
}

/* ==== Edges ==== */

static void mask_small_buffers(void **state)
{
    static const char line[] = "enable password 7 0822455D0A16";
    char out[64];

    (void)state;
    memset(out, 'Z', sizeof(out));
    assert_int_equal(tw_devconf_mask(TW_PLAT_IOS, line, strlen(line), out, 0), 0);
    assert_int_equal(out[0], 'Z');
    assert_int_equal(tw_devconf_mask(TW_PLAT_IOS, line, strlen(line), out, 1), 0);
    assert_string_equal(out, "");
    for (size_t cap = 2; cap < 40; cap++) {
        size_t n = tw_devconf_mask(TW_PLAT_IOS, line, strlen(line), out, cap);
        assert_int_equal(n, strlen(out));
        assert_true(n < cap);
        assert_null(strstr(out, "0822"));
        assert_int_equal(strncmp(out, "enable password 7 <masked>", n), 0);
    }
    assert_int_equal(tw_devconf_mask(TW_PLAT_IOS, NULL, 5, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(tw_devconf_mask(TW_PLAT_IOS, line, 0, out, sizeof(out)), 0);
    assert_int_equal(tw_devconf_mask(TW_PLAT_IOS, line, strlen(line), NULL, 5), 0);
    /* Only len bytes are read: a secret past len is not looked at, nor copied. */
    assert_int_equal(tw_devconf_mask(TW_PLAT_IOS, line, 15, out, sizeof(out)), 15);
    assert_string_equal(out, "enable password");
}

static void mask_long_statement(void **state)
{
    char line[8192], out[8192];
    size_t n = 0;

    (void)state;
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "w%d ", i);
    n += (size_t)snprintf(line + n, sizeof(line) - n, "password 7 TOPSECRET");
    tw_devconf_mask(TW_PLAT_IOS, line, n, out, sizeof(out));
    assert_null(strstr(out, "TOPSECRET"));
    assert_non_null(strstr(out, "w299 password 7 <masked>"));
    /* Out of memory for the word list: only the first word is shown. */
    tw_alloc_fail_after(0);
    tw_devconf_mask(TW_PLAT_IOS, line, n, out, sizeof(out));
    tw_alloc_fail_reset();
    assert_string_equal(out, "w0<masked>");
}

static void mask_many_secrets(void **state)
{
    char line[4096], out[8192];
    size_t n = 0;

    (void)state;
    /* More secrets than one statement's span list holds: the rest is hidden whole. */
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "key 7 SEC%03d ", i);
    tw_devconf_mask(TW_PLAT_IOS, line, n, out, sizeof(out));
    assert_null(strstr(out, "SEC"));
    assert_non_null(strstr(out, "key 7 <masked> key 7 <masked>"));
}

static void mask_never_grows_unbounded(void **state)
{
    /* Every byte value in a statement: no crash, output NUL-terminated within cap. */
    char line[256], out[600];

    (void)state;
    for (int i = 0; i < 256; i++)
        line[i] = (char)(i == 0 ? 'x' : i);
    for (int p = 0; p < TW_PLAT_COUNT; p++) {
        size_t n = tw_devconf_mask((enum tw_platform)p, line, sizeof(line), out, sizeof(out));
        assert_true(n < sizeof(out));
        assert_int_equal(out[n], '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mask_table),
        cmocka_unit_test(mask_real_configs),
        cmocka_unit_test(mask_fixture_secrets),
        cmocka_unit_test(mask_small_buffers),
        cmocka_unit_test(mask_long_statement),
        cmocka_unit_test(mask_many_secrets),
        cmocka_unit_test(mask_never_grows_unbounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
