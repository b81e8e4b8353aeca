/*
 * test_devconf.c: the device-configuration parser (tidewatch/devconf.h).
 *
 * Tree shapes for every platform (children, depths, lines, banners,
 * terminators, preambles), Junos brace and set forms giving the same
 * statements (on a written config and on the real SRX300 config against a
 * set-form rendition of part of it), platform detection and metadata
 * (version, model, hostname, last change) on the real Oxidized configs in
 * $TW_SHARED_DATA/configs (skipped visibly when absent) and on plain
 * configs and `show version` outputs of every platform, and hostile input:
 * empty, binary, NUL bytes, a 1 MB line, 100k levels of nesting, unbalanced
 * braces, truncation at every byte, and allocation failure at every step.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devconf_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/devconf.h"
#include "tw_test.h"

/* ==== Helpers ==== */

static struct tw_devconf *parse_as(const char *text, enum tw_platform p)
{
    struct tw_devconf *d = NULL;
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_devconf_parse(text, strlen(text), "test.cfg", p, &d, &err), TW_OK);
    assert_non_null(d);
    return d;
}

static const struct tw_cfg_node *nth(const struct tw_cfg_node *n, unsigned i)
{
    while (n != NULL && i-- > 0)
        n = n->next;
    assert_non_null(n);
    return n;
}

static unsigned count(const struct tw_cfg_node *n)
{
    unsigned k = 0;

    for (; n != NULL; n = n->next)
        k++;
    return k;
}

static const struct tw_cfg_node *find_top(const struct tw_devconf *d, const char *text)
{
    for (const struct tw_cfg_node *n = d->root.child; n != NULL; n = n->next) {
        if (strcmp(n->text, text) == 0)
            return n;
    }
    return NULL;
}

static char *slurp_shared(const char *name, size_t *len)
{
    char rel[256];
    const char *p;

    (void)snprintf(rel, sizeof(rel), "configs/%s", name);
    p = tw_test_shared(rel);
    return p != NULL ? tw_test_slurp(p, len) : NULL;
}

/* Every node's links agree: parent pointers, depths and the node count. */
static unsigned check_links(const struct tw_cfg_node *parent, uint16_t depth)
{
    unsigned k = 0;

    for (const struct tw_cfg_node *n = parent->child; n != NULL; n = n->next) {
        assert_ptr_equal(n->parent, parent);
        assert_int_equal(n->depth, depth);
        assert_int_equal(strlen(n->text), n->len);
        assert_true(n->line >= 1);
        k += 1 + check_links(n, (uint16_t)(depth + 1));
    }
    return k;
}

static void check_device(const struct tw_devconf *d)
{
    assert_int_equal(check_links(&d->root, 0), d->n_nodes);
    assert_non_null(d->name);
    assert_non_null(d->hostname);
    assert_non_null(d->version);
    assert_non_null(d->version_from);
    assert_non_null(d->train);
    assert_non_null(d->model);
    assert_non_null(d->last_change_by);
}

/* ==== Names ==== */

static void devconf_names_round_trip(void **state)
{
    (void)state;
    for (int p = 0; p < TW_PLAT_COUNT; p++) {
        enum tw_platform q = TW_PLAT_COUNT;
        const char *name = tw_platform_name((enum tw_platform)p);
        assert_int_equal(tw_platform_parse(tw_str_cstr(name), &q), TW_OK);
        assert_int_equal(q, p);
        assert_true(strlen(tw_platform_title((enum tw_platform)p)) > 0);
    }
    for (int k = 0; k < TW_OP_COUNT; k++) {
        enum tw_opout q = TW_OP_COUNT;
        assert_int_equal(tw_opout_parse(tw_str_cstr(tw_opout_name((enum tw_opout)k)), &q), TW_OK);
        assert_int_equal(q, k);
    }
    assert_string_equal(tw_platform_name(TW_PLAT_IOSXE), "iosxe");
    assert_string_equal(tw_platform_title(TW_PLAT_JUNOS), "Juniper Junos");
    assert_string_equal(tw_platform_name((enum tw_platform)77), "unknown");
    assert_string_equal(tw_opout_name(TW_OP_APP_HOSTING), "show-app-hosting-list");
    {
        enum tw_platform q;
        enum tw_opout k;
        assert_int_equal(tw_platform_parse(TW_STR("IOS"), &q), TW_EINVAL);
        assert_int_equal(tw_platform_parse(TW_STR("cisco"), &q), TW_EINVAL);
        assert_int_equal(tw_opout_parse(TW_STR("show version"), &k), TW_EINVAL);
    }
}

/* ==== IOS family trees ==== */

static const char ios_cfg[] = "Building configuration...\n"           /* 1 */
                              "\n"                                    /* 2 */
                              "Current configuration : 1234 bytes\n"  /* 3 */
                              "!\n"                                   /* 4 */
                              "version 15.2\n"                        /* 5 */
                              "hostname R1\n"                         /* 6 */
                              "!\n"                                   /* 7 */
                              "interface GigabitEthernet0/1\n"        /* 8 */
                              " description uplink\n"                 /* 9 */
                              " ip address 192.0.2.1 255.255.255.0\n" /* 10 */
                              " service instance 2 ethernet\n"        /* 11 */
                              "  encapsulation untagged\n"            /* 12 */
                              " !\n"                                  /* 13 */
                              " no shutdown\n"                        /* 14 */
                              "!\n"                                   /* 15 */
                              "class-map match-any X\n"               /* 16 */
                              "  description two blanks\n"            /* 17 */
                              " match dscp 45\n"                      /* 18 */
                              "router bgp 65000\n"                    /* 19 */
                              " address-family ipv4\n"                /* 20 */
                              "  neighbor 192.0.2.2 activate\n"       /* 21 */
                              " exit-address-family\n"                /* 22 */
                              "line vty 0 4\n"                        /* 23 */
                              " transport input telnet\n"             /* 24 */
                              " exit\n"                               /* 25 */
                              "end\n";                                /* 26 */

static void devconf_ios_tree_shape(void **state)
{
    struct tw_devconf *d = parse_as(ios_cfg, TW_PLAT_UNKNOWN);
    const struct tw_cfg_node *intf, *si, *cm, *bgp, *af, *vty;

    (void)state;
    check_device(d);
    assert_int_equal(d->platform, TW_PLAT_IOS);
    assert_int_equal(count(d->root.child), 6);
    assert_string_equal(nth(d->root.child, 0)->text, "version 15.2");
    assert_int_equal(nth(d->root.child, 0)->line, 5);
    intf = nth(d->root.child, 2);
    assert_string_equal(intf->text, "interface GigabitEthernet0/1");
    assert_int_equal(intf->line, 8);
    assert_int_equal(count(intf->child), 4);
    assert_string_equal(nth(intf->child, 1)->text, "ip address 192.0.2.1 255.255.255.0");
    assert_int_equal(nth(intf->child, 1)->line, 10);
    si = nth(intf->child, 2);
    assert_string_equal(si->text, "service instance 2 ethernet");
    assert_int_equal(si->depth, 1);
    assert_string_equal(si->child->text, "encapsulation untagged");
    assert_int_equal(si->child->depth, 2);
    assert_int_equal(si->child->line, 12);
    assert_string_equal(nth(intf->child, 3)->text, "no shutdown");
    /* Uneven indentation: two blanks then one are siblings. */
    cm = nth(d->root.child, 3);
    assert_int_equal(count(cm->child), 2);
    assert_string_equal(nth(cm->child, 1)->text, "match dscp 45");
    bgp = nth(d->root.child, 4);
    assert_int_equal(count(bgp->child), 2);
    af = bgp->child;
    assert_string_equal(af->child->text, "neighbor 192.0.2.2 activate");
    assert_string_equal(nth(bgp->child, 1)->text, "exit-address-family");
    /* `exit` and `end` are terminators, not statements. */
    vty = nth(d->root.child, 5);
    assert_string_equal(vty->text, "line vty 0 4");
    assert_int_equal(count(vty->child), 1);
    assert_int_equal(d->n_nodes, 17);
    assert_int_equal(d->n_lines, 26);
    assert_int_equal(d->n_warnings, 0);
    assert_string_equal(d->train, "15.2");
    assert_string_equal(d->version, "");
    assert_string_equal(d->hostname, "R1");
    assert_string_equal(d->name, "R1");
    tw_devconf_free(d);
}

static void devconf_ios_crlf_tabs_blanks(void **state)
{
    static const char cfg[] = "hostname R2  \r\n"
                              "interface Loopback0\r\n"
                              "\tdescription tabbed \t\r\n"
                              "\t ip address 192.0.2.9 255.255.255.255\r\n"
                              "line vty 0 4\r\n"
                              "  transport input ssh";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_IOS);
    const struct tw_cfg_node *lo;

    (void)state;
    check_device(d);
    assert_string_equal(d->hostname, "R2");
    lo = nth(d->root.child, 1);
    assert_int_equal(count(lo->child), 1);
    assert_string_equal(lo->child->text, "description tabbed");
    /* A tab then a blank is deeper than a tab. */
    assert_string_equal(lo->child->child->text, "ip address 192.0.2.9 255.255.255.255");
    assert_int_equal(lo->child->child->line, 4);
    assert_string_equal(nth(d->root.child, 2)->child->text, "transport input ssh");
    assert_int_equal(d->n_lines, 6);
    tw_devconf_free(d);
}

static void devconf_ios_banners(void **state)
{
    static const char cfg[] = "hostname B\n"                     /* 1 */
                              "banner motd ^C\n"                 /* 2 */
                              "Authorised access only\n"         /* 3 */
                              " indented line\r\n"               /* 4 */
                              "^C\n"                             /* 5 */
                              "banner login ^CSame line start\n" /* 6 */
                              "second ^C\n"                      /* 7 */
                              "banner exec #one line#\n"         /* 8 */
                              "banner incoming \x03"
                              "etx body\n"          /* 9 */
                              "\x03\n"              /* 10 */
                              "banner ^C\n"         /* 11 */
                              "default kind\n"      /* 12 */
                              "^C\n"                /* 13 */
                              "ip ssh version 2\n"; /* 14 */
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_IOS);
    const struct tw_cfg_node *b;

    (void)state;
    check_device(d);
    assert_int_equal(count(d->root.child), 7);
    b = nth(d->root.child, 1);
    assert_int_equal(b->flags & TW_CFG_BANNER, TW_CFG_BANNER);
    assert_string_equal(b->text, "banner motd ^C\nAuthorised access only\n indented line");
    assert_int_equal(b->line, 2);
    assert_null(b->child);
    b = nth(d->root.child, 2);
    assert_string_equal(b->text, "banner login ^C\nSame line start\nsecond");
    assert_int_equal(b->line, 6);
    b = nth(d->root.child, 3);
    assert_string_equal(b->text, "banner exec #\none line");
    assert_int_equal(b->line, 8);
    b = nth(d->root.child, 4);
    assert_string_equal(b->text, "banner incoming \x03\netx body");
    b = nth(d->root.child, 5);
    assert_string_equal(b->text, "banner ^C\ndefault kind");
    assert_int_equal(b->line, 11);
    b = nth(d->root.child, 6);
    assert_string_equal(b->text, "ip ssh version 2");
    assert_int_equal(b->line, 14);
    assert_int_equal(d->n_warnings, 0);
    tw_devconf_free(d);
}

static void devconf_ios_banner_unterminated(void **state)
{
    static const char cfg[] = "banner motd ^C\n"
                              "never closed\n"
                              "hostname KEPT\n"
                              "interface Vlan1\n"
                              " shutdown\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_IOS);

    (void)state;
    check_device(d);
    /* The banner keeps its first line; the lines after it are statements again. */
    assert_string_equal(d->root.child->text, "banner motd ^C");
    assert_int_equal(d->root.child->flags & TW_CFG_BANNER, 0);
    assert_non_null(find_top(d, "hostname KEPT"));
    assert_string_equal(find_top(d, "interface Vlan1")->child->text, "shutdown");
    assert_int_equal(d->n_warnings, 1);
    assert_int_equal(d->warnings[0].line, 1);
    assert_non_null(strstr(d->warnings[0].msg, "banner"));
    assert_string_equal(d->hostname, "KEPT");
    tw_devconf_free(d);
}

static void devconf_ios_macro(void **state)
{
    static const char cfg[] = "macro name access-port\n"
                              "switchport mode access\n"
                              "no vstack\n"
                              " spanning-tree portfast\n"
                              "@\n"
                              "vstack\n"
                              "macro name never-closed\n"
                              "shutdown\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_IOS);
    const struct tw_cfg_node *m;

    (void)state;
    check_device(d);
    /* The body's commands are the macro's children, not top-level statements. */
    assert_int_equal(count(d->root.child), 3);
    m = d->root.child;
    assert_int_equal(count(m->child), 3);
    assert_string_equal(nth(m->child, 1)->text, "no vstack");
    assert_string_equal(nth(m->child, 2)->text, "spanning-tree portfast");
    assert_int_equal(nth(m->child, 2)->depth, 1);
    assert_string_equal(nth(d->root.child, 1)->text, "vstack");
    assert_null(find_top(d, "no vstack"));
    assert_string_equal(nth(d->root.child, 2)->child->text, "shutdown");
    assert_int_equal(d->n_warnings, 1);
    assert_int_equal(d->warnings[0].line, 7);
    tw_devconf_free(d);
}

static void devconf_nxos_tree(void **state)
{
    static const char cfg[] = "!Command: show running-config\n"
                              "!Running configuration last done at: Tue Sep 30 09:02:26 2025\n"
                              "!Time: Tue Sep 30 09:05:00 2025\n"
                              "\n"
                              "version 9.3(10) Bios:version 05.47\n"
                              "switchname N9K-1\n"
                              "feature telnet\n"
                              "feature bash-shell\n"
                              "username admin password 5 $5$ABC role network-admin\n"
                              "interface Ethernet1/1\n"
                              "  description to core\n"
                              "  no shutdown\n"
                              "line vty\n"
                              "  access-class MGMT in\n"
                              "banner motd #\n"
                              "NX banner\n"
                              "#\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_UNKNOWN);
    const struct tw_cfg_node *e;

    (void)state;
    check_device(d);
    assert_int_equal(d->platform, TW_PLAT_NXOS);
    assert_string_equal(d->version, "9.3(10)");
    assert_string_equal(d->version_from, "config");
    assert_string_equal(d->hostname, "N9K-1");
    assert_string_equal(d->train, "");
    e = find_top(d, "interface Ethernet1/1");
    assert_non_null(e);
    assert_int_equal(count(e->child), 2);
    assert_int_equal(e->child->line, 11);
    assert_string_equal(nth(d->root.child, 7)->text, "banner motd #\nNX banner");
    assert_int_equal(nth(d->root.child, 7)->flags, TW_CFG_BANNER);
    assert_int_equal(d->n_nodes, 11);
    tw_devconf_free(d);
}

static void devconf_xr_tree(void **state)
{
    static const char cfg[] = "Building configuration...\n"
                              "!! IOS XR Configuration 7.10.1\n"
                              "!! Last configuration change at Tue Jun 11 10:12:34 2024 by netops\n"
                              "!\n"
                              "hostname XR1\n"
                              "username admin\n"
                              " group root-lr\n"
                              " secret 10 $6$abc\n"
                              "!\n"
                              "interface GigabitEthernet0/0/0/0\n"
                              " ipv4 address 192.0.2.1 255.255.255.0\n"
                              "!\n"
                              "route-policy PASS\n"
                              "  pass\n"
                              "end-policy\n"
                              "!\n"
                              "router bgp 65000\n"
                              " neighbor 192.0.2.2\n"
                              "  remote-as 65001\n"
                              "  address-family ipv4 unicast\n"
                              "  !\n"
                              " !\n"
                              "!\n"
                              "ssh server v2\n"
                              "end\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_UNKNOWN);
    const struct tw_cfg_node *bgp;

    (void)state;
    check_device(d);
    assert_int_equal(d->platform, TW_PLAT_IOSXR);
    assert_string_equal(d->version, "7.10.1");
    assert_string_equal(d->version_from, "config");
    assert_string_equal(d->last_change_by, "netops");
    assert_string_equal(d->hostname, "XR1");
    assert_int_equal(count(find_top(d, "username admin")->child), 2);
    bgp = find_top(d, "router bgp 65000");
    assert_int_equal(count(bgp->child->child), 2);
    assert_int_equal(bgp->child->child->depth, 2);
    assert_non_null(find_top(d, "end-policy"));
    assert_non_null(find_top(d, "ssh server v2"));
    tw_devconf_free(d);
}

static void devconf_asa_tree(void **state)
{
    static const char cfg[] = ": Saved\n"
                              ": \n"
                              ": Serial Number: FCH0000\n"
                              ": Hardware:   ASA5516, 8192 MB RAM\n"
                              ":\n"
                              "ASA Version 9.8(4)32 \n"
                              "!\n"
                              "hostname FW1\n"
                              "enable password $sha512$X pbkdf2\n"
                              "interface GigabitEthernet0/0\n"
                              " nameif outside\n"
                              " security-level 0\n"
                              "!\n"
                              "banner motd First line\n"
                              "banner motd ^C not a delimiter here\n"
                              "aaa-server T (inside) host 192.0.2.5\n"
                              " key S3CR3T\n"
                              "Cryptochecksum:0123456789abcdef\n"
                              ": end\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_UNKNOWN);

    (void)state;
    check_device(d);
    assert_int_equal(d->platform, TW_PLAT_ASA);
    assert_string_equal(d->version, "9.8(4)32");
    assert_string_equal(d->version_from, "config");
    assert_string_equal(d->model, "ASA5516");
    assert_string_equal(d->hostname, "FW1");
    /* ASA banners are one statement per line, never delimited. */
    assert_non_null(find_top(d, "banner motd First line"));
    assert_non_null(find_top(d, "banner motd ^C not a delimiter here"));
    assert_string_equal(
            find_top(d, "aaa-server T (inside) host 192.0.2.5")->child->text, "key S3CR3T");
    assert_int_equal(d->n_nodes, 10);
    tw_devconf_free(d);
}

static void devconf_redaction_flag(void **state)
{
    static const char cfg[] = "hostname R\n"
                              "enable secret 5 <secret hidden>\n"
                              "snmp-server community <configuration removed> RO\n"
                              "snmp-server location lab <3>\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_IOS);

    (void)state;
    assert_int_equal(nth(d->root.child, 0)->flags & TW_CFG_REDACTED, 0);
    assert_int_equal(nth(d->root.child, 1)->flags & TW_CFG_REDACTED, TW_CFG_REDACTED);
    assert_int_equal(nth(d->root.child, 2)->flags & TW_CFG_REDACTED, TW_CFG_REDACTED);
    assert_int_equal(nth(d->root.child, 3)->flags & TW_CFG_REDACTED, 0);
    tw_devconf_free(d);
}

static void devconf_depth_capped(void **state)
{
    /* 3,000 lines, each indented one blank more than the last (4.5 MB). */
    size_t n = 3000, len = 0;
    char *cfg = tw_malloc(n * (n + 3) / 2 + 16);
    struct tw_devconf *d = NULL;
    const struct tw_cfg_node *x;
    unsigned depth = 0;

    (void)state;
    assert_non_null(cfg);
    for (size_t i = 0; i < n; i++) {
        memset(cfg + len, ' ', i);
        len += i;
        memcpy(cfg + len, "x\n", 2);
        len += 2;
    }
    assert_int_equal(tw_devconf_parse(cfg, len, NULL, TW_PLAT_IOS, &d, NULL), TW_OK);
    assert_int_equal(check_links(&d->root, 0), d->n_nodes);
    assert_int_equal(d->n_nodes, n);
    for (x = d->root.child; x->child != NULL; x = x->child)
        depth++;
    /* The deepest level kept is TW_CFG_MAX_DEPTH - 1; deeper lines are its siblings. */
    assert_int_equal(depth, TW_CFG_MAX_DEPTH - 1);
    assert_int_equal(count(x), n - (TW_CFG_MAX_DEPTH - 1));
    assert_int_equal(d->n_warnings, n - TW_CFG_MAX_DEPTH);
    assert_int_equal(d->warnings[0].line, TW_CFG_MAX_DEPTH + 1);
    assert_string_equal(d->name, "<input>");
    tw_devconf_free(d);
    tw_free(cfg);
}

/* ==== Junos ==== */

static const char junos_brace[] =
        "## Last commit: 2025-01-02 03:04:05 UTC by alice\n"            /* 1 */
        "version 21.4R3-S5.4;\n"                                        /* 2 */
        "system {\n"                                                    /* 3 */
        "    host-name \"edge 1\";\n"                                   /* 4 */
        "    /* an annotation\n"                                        /* 5 */
        "       over two lines */\n"                                    /* 6 */
        "    services {\n"                                              /* 7 */
        "        ssh {\n"                                               /* 8 */
        "            root-login allow;\n"                               /* 9 */
        "        }\n"                                                   /* 10 */
        "        telnet;\n"                                             /* 11 */
        "    }\n"                                                       /* 12 */
        "    login {\n"                                                 /* 13 */
        "        message \"say \\\"hi\\\" { not a brace }\";\n"         /* 14 */
        "        user ops {\n"                                          /* 15 */
        "            authentication {\n"                                /* 16 */
        "                encrypted-password \"$6$x\"; ## SECRET-DATA\n" /* 17 */
        "            }\n"                                               /* 18 */
        "        }\n"                                                   /* 19 */
        "    }\n"                                                       /* 20 */
        "    inactive: syslog {\n"                                      /* 21 */
        "        host 192.0.2.7 {\n"                                    /* 22 */
        "            any any;\n"                                        /* 23 */
        "        }\n"                                                   /* 24 */
        "    }\n"                                                       /* 25 */
        "}\n"                                                           /* 26 */
        "# a comment line\n"                                            /* 27 */
        "vlans {\n"                                                     /* 28 */
        "    v10 {\n"                                                   /* 29 */
        "        vlan-id 10;\n"                                         /* 30 */
        "        members [ ge-0/0/1 ge-0/0/2\n"                         /* 31 */
        "                  ge-0/0/3 ];\n"                               /* 32 */
        "    }\n"                                                       /* 33 */
        "    protect: v20 {\n"                                          /* 34 */
        "    }\n"                                                       /* 35 */
        "}\n"                                                           /* 36 */
        "inactive: snmp {\n"                                            /* 37 */
        "    community public {\n"                                      /* 38 */
        "        authorization read-only;\n"                            /* 39 */
        "    }\n"                                                       /* 40 */
        "}\n";                                                          /* 41 */

static const char *const junos_expected[] = {
    "version 21.4R3-S5.4",
    "system host-name \"edge 1\"",
    "system services ssh root-login allow",
    "system services telnet",
    "system login message \"say \\\"hi\\\" { not a brace }\"",
    "system login user ops authentication encrypted-password \"$6$x\"",
    "system syslog host 192.0.2.7 any any",
    "vlans v10 vlan-id 10",
    "vlans v10 members ge-0/0/1",
    "vlans v10 members ge-0/0/2",
    "vlans v10 members ge-0/0/3",
    "vlans v20",
    "snmp community public authorization read-only",
};

static const char junos_set[] =
        "# Junos: 21.4R3-S5.4\n"
        "set version 21.4R3-S5.4\n"
        "set system host-name \"edge 1\"\n"
        "set system services ssh root-login allow\n"
        "set system services telnet\n"
        "set system login message \"say \\\"hi\\\" { not a brace }\"\n"
        "set system login user ops authentication encrypted-password \"$6$x\"\n"
        "set system syslog host 192.0.2.7 any any\n"
        "deactivate system syslog\n"
        "set vlans v10 vlan-id 10\n"
        "set vlans v10 members [ ge-0/0/1 ge-0/0/2 ge-0/0/3 ]\n"
        "set vlans v20\n"
        "deactivate snmp\n"
        "set snmp community public authorization read-only\n";

static void check_junos_expected(const struct tw_devconf *d)
{
    const struct tw_cfg_node *n = d->root.child;

    assert_int_equal(d->n_nodes, TW_ARRAY_LEN(junos_expected));
    for (size_t i = 0; i < TW_ARRAY_LEN(junos_expected); i++, n = n->next) {
        bool inactive = strncmp(junos_expected[i], "system syslog", 13) == 0 ||
                        strncmp(junos_expected[i], "snmp ", 5) == 0;
        assert_non_null(n);
        assert_string_equal(n->text, junos_expected[i]);
        assert_int_equal(n->depth, 0);
        assert_null(n->child);
        assert_int_equal((n->flags & TW_CFG_INACTIVE) != 0, inactive);
    }
    assert_null(n);
}

static void devconf_junos_brace_tree(void **state)
{
    struct tw_devconf *d = parse_as(junos_brace, TW_PLAT_UNKNOWN);

    (void)state;
    check_device(d);
    assert_int_equal(d->platform, TW_PLAT_JUNOS);
    check_junos_expected(d);
    /* A leaf has the line of its ';'; a list the line where it ends; an empty container its '{'. */
    assert_int_equal(nth(d->root.child, 0)->line, 2);
    assert_int_equal(nth(d->root.child, 2)->line, 9);
    assert_int_equal(nth(d->root.child, 5)->line, 17);
    assert_int_equal(nth(d->root.child, 8)->line, 32);
    assert_int_equal(nth(d->root.child, 11)->line, 34);
    assert_int_equal(d->n_warnings, 0);
    assert_string_equal(d->hostname, "edge 1");
    assert_string_equal(d->name, "edge 1");
    assert_string_equal(d->version, "21.4R3-S5.4");
    assert_string_equal(d->version_from, "config");
    assert_string_equal(d->last_change_by, "alice");
    assert_int_equal(d->n_lines, 41);
    tw_devconf_free(d);
}

static void devconf_junos_set_equals_brace(void **state)
{
    struct tw_devconf *d = parse_as(junos_set, TW_PLAT_UNKNOWN);

    (void)state;
    check_device(d);
    assert_int_equal(d->platform, TW_PLAT_JUNOS);
    check_junos_expected(d);
    assert_int_equal(nth(d->root.child, 2)->line, 4);
    assert_string_equal(d->version, "21.4R3-S5.4");
    assert_string_equal(d->version_from, "comments");
    tw_devconf_free(d);
}

static void devconf_junos_set_ops(void **state)
{
    static const char cfg[] = "set system services telnet\n"
                              "set system services ssh\n"
                              "set snmp community c1 authorization read-write\n"
                              "set snmp community c2 authorization read-only\n"
                              "deactivate system services\n"
                              "set system services netconf ssh\n"
                              "activate system services ssh\n"
                              "delete snmp community c1\n"
                              "set snmp location lab\n"
                              "rename foo to bar\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_JUNOS);
    const struct tw_cfg_node *n;

    (void)state;
    check_device(d);
    assert_int_equal(d->n_nodes, 5);
    n = find_top(d, "system services telnet");
    assert_int_equal(n->flags & TW_CFG_INACTIVE, TW_CFG_INACTIVE);
    n = find_top(d, "system services ssh");
    assert_int_equal(n->flags & TW_CFG_INACTIVE, 0);
    /* Set after the deactivate of its parent: inactive too. */
    n = find_top(d, "system services netconf ssh");
    assert_int_equal(n->flags & TW_CFG_INACTIVE, TW_CFG_INACTIVE);
    assert_null(find_top(d, "snmp community c1 authorization read-write"));
    assert_non_null(find_top(d, "snmp community c2 authorization read-only"));
    assert_string_equal(nth(d->root.child, 4)->text, "snmp location lab");
    assert_int_equal(d->n_warnings, 1);
    assert_int_equal(d->warnings[0].line, 10);
    tw_devconf_free(d);
}

static void devconf_junos_unbalanced(void **state)
{
    static const char extra_close[] = "system {\n"
                                      "    services {\n"
                                      "        ssh;\n"
                                      "    }\n"
                                      "}\n"
                                      "}\n"
                                      "snmp {\n"
                                      "    location lab;\n"
                                      "}\n";
    static const char missing_close[] = "system {\n"
                                        "    services {\n"
                                        "        ssh;\n"
                                        "    }\n"
                                        "snmp {\n"
                                        "    location lab;\n"
                                        "    contact ops\n"
                                        "}\n"
                                        "interfaces { ge-0/0/0 { unit 0 { family inet { address "
                                        "192.0.2.1/24; } } }\n";
    struct tw_devconf *d = parse_as(extra_close, TW_PLAT_JUNOS);

    (void)state;
    assert_int_equal(d->n_nodes, 2);
    assert_non_null(find_top(d, "snmp location lab"));
    assert_int_equal(d->n_warnings, 1);
    assert_int_equal(d->warnings[0].line, 6);
    tw_devconf_free(d);

    d = parse_as(missing_close, TW_PLAT_JUNOS);
    assert_non_null(find_top(d, "system services ssh"));
    assert_non_null(find_top(d, "system snmp location lab"));
    assert_non_null(find_top(d, "system snmp contact ops"));
    assert_non_null(
            find_top(d, "system interfaces ge-0/0/0 unit 0 family inet address 192.0.2.1/24"));
    /* The '}' without ';' (line 8) and the unclosed brace at the end (line 10). */
    assert_int_equal(d->n_warnings, 2);
    assert_int_equal(d->warnings[0].line, 8);
    assert_non_null(strstr(d->warnings[1].msg, "never closed"));
    tw_devconf_free(d);
}

static void devconf_junos_unclosed_tokens(void **state)
{
    static const char cfg[] = "system {\n"
                              "    host-name r1;\n"
                              "    login {\n"
                              "        message \"no end;\n"
                              "    }\n"
                              "}\n"
                              "/* never closed\n"
                              "snmp { location x; }\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_JUNOS);

    (void)state;
    check_device(d);
    assert_non_null(find_top(d, "system host-name r1"));
    assert_true(d->n_warnings >= 2);
    assert_string_equal(d->hostname, "r1");
    tw_devconf_free(d);
}

static void devconf_junos_deep_nesting(void **state)
{
    size_t n = 100000, len = 0;
    char *cfg = tw_malloc(n * 4 + 64);
    struct tw_devconf *d = NULL;

    (void)state;
    assert_non_null(cfg);
    for (size_t i = 0; i < n; i++) {
        memcpy(cfg + len, "a {", 3);
        len += 3;
    }
    memcpy(cfg + len, "leaf;", 5);
    len += 5;
    for (size_t i = 0; i < n; i++)
        cfg[len++] = '}';
    cfg[len++] = '\n';
    assert_int_equal(tw_devconf_parse(cfg, len, "deep.conf", TW_PLAT_JUNOS, &d, NULL), TW_OK);
    assert_int_equal(d->n_nodes, 1);
    /* The path keeps the first TW_CFG_MAX_DEPTH containers. */
    assert_int_equal(d->root.child->len, TW_CFG_MAX_DEPTH * 2 + 4);
    assert_true(d->n_warnings > 1000);
    assert_string_equal(d->name, "deep");
    tw_devconf_free(d);
    tw_free(cfg);
}

/*
 * The real SRX300 configuration against the set form of its system,
 * snmp and vlans parts, written by hand from the brace form (as `show
 * configuration | display set` prints them).
 */
static const char srx_set[] =
        "set version 22.4R3-S2.11\n"
        "set system root-authentication encrypted-password \"very-secret-encrypted-password\"\n"
        "set system login user oxidized uid 2002\n"
        "set system login user oxidized class super-user\n"
        "set system login user oxidized authentication encrypted-password "
        "\"very-secret-encrypted-password\"\n"
        "set system services ssh\n"
        "set system services netconf ssh\n"
        "set system services dhcp-local-server group jdhcp-group interface irb.0\n"
        "set system services web-management https system-generated-certificate\n"
        "set system name-server 8.8.8.8\n"
        "set system name-server 8.8.4.4\n"
        "set system syslog archive size 100k files 3\n"
        "set system syslog user * any emergency\n"
        "set system syslog file interactive-commands interactive-commands any\n"
        "set system syslog file messages any notice\n"
        "set system syslog file messages authorization info\n"
        "set system archival configuration transfer-on-commit\n"
        "set system archival configuration archive-sites "
        "\"pasvftp://demouser:CorrectHorseBattery@203.0.113.10/backup/\"\n"
        "set system archival configuration archive-sites \"ftp://demouser2@203.0.113.11/backup/\" "
        "password \"$9$FAKEHASHDATAXXXXXXXXXXXXXXXXXXXX\"\n"
        "set system max-configurations-on-flash 5\n"
        "set system max-configuration-rollbacks 5\n"
        "set system license autoupdate url https://ae1.juniper.net/junos/key_retrieval\n"
        "set system phone-home server https://redirect.juniper.net\n"
        "set system phone-home rfc-compliant\n"
        "set snmp location \"42 Wallaby Way, Sydney\"\n"
        "set vlans vlan-trust vlan-id 3\n"
        "set vlans vlan-trust l3-interface irb.0\n";

static bool wanted(const char *text)
{
    return strncmp(text, "version ", 8) == 0 || strncmp(text, "system ", 7) == 0 ||
           strncmp(text, "snmp ", 5) == 0 || strncmp(text, "vlans ", 6) == 0;
}

static void devconf_junos_real_brace_vs_set(void **state)
{
    size_t len = 0;
    char *text = slurp_shared("junos_srx300_22.4.txt", &len);
    struct tw_devconf *d = NULL, *s;
    const struct tw_cfg_node *a, *b;

    (void)state;
    if (text == NULL) {
        skip();
        return;
    }
    assert_int_equal(
            tw_devconf_parse(text, len, "junos_srx300_22.4.txt", TW_PLAT_UNKNOWN, &d, NULL), TW_OK);
    s = parse_as(srx_set, TW_PLAT_UNKNOWN);
    assert_int_equal(s->platform, TW_PLAT_JUNOS);
    b = s->root.child;
    for (a = d->root.child; a != NULL; a = a->next) {
        if (!wanted(a->text))
            continue;
        assert_non_null(b);
        assert_string_equal(a->text, b->text);
        assert_int_equal(a->flags, b->flags);
        b = b->next;
    }
    assert_null(b);
    assert_int_equal(d->n_warnings, 0);
    tw_devconf_free(s);
    tw_devconf_free(d);
    tw_free(text);
}

/* ==== Detection and metadata on the real configs ==== */

struct real_case {
    const char *file;
    enum tw_platform platform;
    const char *hostname;
    const char *version;
    const char *version_from;
    const char *model;
    const char *last_by;
    const char *train;
};

static const struct real_case real_cases[] = {
    { "ios_C9200L-24P-4G_17.09.04a.txt", TW_PLAT_IOSXE, "LAB-SW123_9200L", "17.9.4a", "comments",
            "C9200L-24P-4G", "oxidized", "17.9" },
    { "ios_C9800-L-F-K9_17.06.05.txt", TW_PLAT_IOSXE, "OXIDIZED-WLC1", "17.6.5", "comments",
            "C9800-L-F-K9", "", "17.6" },
    { "ios_asr920_16.8.1b.txt", TW_PLAT_IOSXE, "hostname", "16.8.1b", "comments", "ASR-920-24TZ-M",
            "123456", "16.8" },
    { "nxos_C93180YC-FX3J_10.4.5.txt", TW_PLAT_NXOS, "TEST-12345", "10.4(5)", "comments",
            "C93180YC-FX3H", "", "" },
    { "nxos_N5548_7.3.13.txt", TW_PLAT_NXOS, "TEST-12345", "7.3(13)N1(1)", "comments", "Nexus5548",
            "", "" },
    { "junos_srx300_22.4.txt", TW_PLAT_JUNOS, "", "22.4R3-S2.11", "comments", "srx300", "root",
            "" },
    { "junos_srx300_22.4_wo_cluster.txt", TW_PLAT_JUNOS, "", "22.4R3-S2.11", "comments", "srx300",
            "root", "" },
    { "asa_5512_9.12-4-67_single-context.txt", TW_PLAT_ASA, "LAB-ASA12-Oxidized-IPv6", "9.12(4)67",
            "comments", "ASA5512", "", "" },
};

static void devconf_real_configs(void **state)
{
    (void)state;
    if (tw_test_shared("configs") == NULL) {
        skip();
        return;
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(real_cases); i++) {
        const struct real_case *rc = &real_cases[i];
        size_t len = 0;
        char *text = slurp_shared(rc->file, &len);
        struct tw_devconf *d = NULL;
        struct tw_err err;

        assert_non_null(text);
        print_message("  %s\n", rc->file);
        assert_int_equal(tw_platform_detect(text, len), rc->platform);
        assert_int_equal(tw_devconf_parse(text, len, rc->file, TW_PLAT_UNKNOWN, &d, &err), TW_OK);
        check_device(d);
        assert_int_equal(d->platform, rc->platform);
        assert_string_equal(d->hostname, rc->hostname);
        assert_string_equal(d->version, rc->version);
        assert_string_equal(d->version_from, rc->version_from);
        assert_string_equal(d->model, rc->model);
        assert_string_equal(d->last_change_by, rc->last_by);
        assert_string_equal(d->train, rc->train);
        assert_string_equal(d->path, rc->file);
        if (rc->hostname[0] == '\0')
            assert_int_equal(strncmp(d->name, rc->file, strlen(d->name)), 0);
        else
            assert_string_equal(d->name, rc->hostname);
        assert_int_equal(d->n_warnings, 0);
        assert_true(d->n_nodes > 5);
        assert_int_equal(d->bytes, len);
        tw_devconf_free(d);
        tw_free(text);
    }
}

static void devconf_real_shapes(void **state)
{
    size_t len = 0;
    char *text;
    struct tw_devconf *d = NULL;
    const struct tw_cfg_node *n;

    (void)state;
    text = slurp_shared("ios_C9200L-24P-4G_17.09.04a.txt", &len);
    if (text == NULL) {
        skip();
        return;
    }
    assert_int_equal(tw_devconf_parse(text, len, "c9200l", TW_PLAT_UNKNOWN, &d, NULL), TW_OK);
    n = find_top(d, "aaa server radius dynamic-author");
    assert_non_null(n);
    assert_int_equal(count(n->child), 2);
    assert_int_equal(n->child->line, 76);
    n = find_top(d, "vrf definition Mgmt-vrf");
    assert_int_equal(count(n->child), 4);
    n = find_top(d, "snmp mib expression owner nat name 1");
    assert_int_equal(n->child->flags & TW_CFG_REDACTED, TW_CFG_REDACTED);
    n = nth(d->root.child, d->n_nodes > 0 ? count(d->root.child) - 1 : 0);
    assert_string_equal(n->text, "banner login ^C\n.\nLogin banner.\n.");
    assert_int_equal(n->line, 200);
    n = find_top(d, "snmp-server community public RW 5");
    assert_non_null(n);
    assert_int_equal(n->line, 181);
    tw_devconf_free(d);
    tw_free(text);

    text = slurp_shared("nxos_C93180YC-FX3J_10.4.5.txt", &len);
    assert_non_null(text);
    assert_int_equal(tw_devconf_parse(text, len, "n9k", TW_PLAT_UNKNOWN, &d, NULL), TW_OK);
    /* Oxidized's "(...)" lines are not statements. */
    assert_int_equal(d->n_nodes, 7);
    assert_string_equal(d->root.child->text, "version 10.4(5) Bios:version 01.11");
    tw_devconf_free(d);
    tw_free(text);
}

/* ==== Detection of plain configurations ==== */

static void devconf_detect_plain(void **state)
{
    static const struct {
        const char *text;
        enum tw_platform p;
    } cases[] = {
        { "hostname R1\ninterface FastEthernet0/0\n ip address 192.0.2.1 255.255.255.0\n"
          "line vty 0 4\n login\n",
                TW_PLAT_IOS },
        { "version 15.2\nservice timestamps log datetime msec\nhostname R1\n", TW_PLAT_IOS },
        { "version 17.9\nhostname R1\nip http server\n", TW_PLAT_IOSXE },
        { "version 16.12\nhostname R1\n", TW_PLAT_IOSXE },
        { "!\nhostname SW\nboot system flash:cat9k_iosxe.17.09.04a.SPA.bin\n", TW_PLAT_IOSXE },
        { "version 9.3(10)\nhostname N9K\nfeature lacp\n", TW_PLAT_NXOS },
        { "hostname N\nfeature telnet\nfeature bash-shell\n"
          "interface Ethernet1/1\n  no shutdown\n",
                TW_PLAT_NXOS },
        { "hostname XR\ninterface GigabitEthernet0/0/0/0\n ipv4 address 192.0.2.1 "
          "255.255.255.0\n!\nend\n",
                TW_PLAT_IOSXR },
        { "!! IOS XR Configuration version = 6.5.1\nhostname XR\n", TW_PLAT_IOSXR },
        { "ASA Version 9.16(4)\nhostname FW\n", TW_PLAT_ASA },
        { "hostname FW\ninterface GigabitEthernet0/0\n nameif inside\n security-level 100\n",
                TW_PLAT_ASA },
        { "system {\n    host-name r1;\n}\n", TW_PLAT_JUNOS },
        { "set system host-name r1\nset system services ssh\n", TW_PLAT_JUNOS },
        { "!RANCID-CONTENT-TYPE: cisco-nx\nhostname X\n", TW_PLAT_NXOS },
        { "!RANCID-CONTENT-TYPE: juniper\nhostname X\n", TW_PLAT_JUNOS },
        { "!RANCID-CONTENT-TYPE: cisco-xr\nhostname X\n", TW_PLAT_IOSXR },
        { "! Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E6, "
          "RELEASE SOFTWARE (fc2)\nhostname S\n",
                TW_PLAT_IOS },
        { "! Cisco IOS Software, IOS-XE Software, Catalyst 4500 L3 Switch Software "
          "(cat4500e-UNIVERSALK9-M), Version 03.06.05.E RELEASE SOFTWARE (fc2)\nversion 15.2\n",
                TW_PLAT_IOSXE },
        { "Dear diary, today nothing happened.\n", TW_PLAT_UNKNOWN },
        { "", TW_PLAT_UNKNOWN },
        { "\n\n   \n", TW_PLAT_UNKNOWN },
    };

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        print_message("  case %zu\n", i);
        assert_int_equal(tw_platform_detect(cases[i].text, strlen(cases[i].text)), cases[i].p);
    }
    assert_int_equal(tw_platform_detect(NULL, 0), TW_PLAT_UNKNOWN);
}

/* ==== show version ==== */

struct sv_case {
    const char *config;
    enum tw_platform platform; /* of the config as parsed */
    const char *show_version;
    enum tw_platform after; /* platform once show version is added */
    const char *version;
    const char *model;
};

static const struct sv_case sv_cases[] = {
    { "version 15.2\nhostname S\n", TW_PLAT_IOS,
            "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E6, "
            "RELEASE SOFTWARE (fc2)\n"
            "Technical Support: http://www.cisco.com/techsupport\n"
            "ROM: Bootstrap program is C2960X boot loader\n"
            "S uptime is 1 year, 2 weeks\n"
            "System image file is \"flash:c2960x-universalk9-mz.152-7.E6.bin\"\n"
            "cisco WS-C2960X-48FPD-L (APM86XXX) processor (revision B0) with 524288K bytes of "
            "memory.\n"
            "Model number                    : WS-C2960X-48FPD-L\n",
            TW_PLAT_IOS, "15.2(7)E6", "WS-C2960X-48FPD-L" },
    { "version 15.2\nhostname S\n", TW_PLAT_IOS,
            "Cisco IOS XE Software, Version 03.11.04.E\n"
            "Cisco IOS Software, IOS-XE Software, Catalyst 4500 L3 Switch  Software "
            "(cat4500es8-UNIVERSALK9-M), Version 15.2(7)E4, RELEASE SOFTWARE (fc2)\n"
            "cisco WS-C4500X-16 (MPC8572) processor (revision 2) with 4194304K/20480K bytes of "
            "memory.\n",
            TW_PLAT_IOSXE, "3.11.4.E", "WS-C4500X-16" },
    { "version 17.9\nhostname S\n", TW_PLAT_IOSXE,
            "Cisco IOS XE Software, Version 17.09.04a\n"
            "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version "
            "17.9.4a, RELEASE SOFTWARE (fc3)\n"
            "System image file is \"flash:packages.conf\"\n"
            "cisco C9300-48P (X86) processor with 1331521K/6147K bytes of memory.\n"
            "Model Number                       : C9300-48P\n",
            TW_PLAT_IOSXE, "17.9.4a", "C9300-48P" },
    { "version 10.2(5)\nhostname N\nfeature lacp\n", TW_PLAT_NXOS,
            "Cisco Nexus Operating System (NX-OS) Software\n"
            "Software\n"
            "  BIOS: version 05.47\n"
            " NXOS: version 10.4(5) [Maintenance Release]\n"
            "  NXOS image file is: bootflash:///nxos64-cs.10.4.5.M.bin\n"
            "Hardware\n"
            "  cisco Nexus9000 C93180YC-FX3 Chassis\n",
            TW_PLAT_NXOS, "10.4(5)", "C93180YC-FX3" },
    { "version 7.3(13)N1(1)\nhostname N\n", TW_PLAT_NXOS,
            "Software\n"
            "  BIOS:      version 3.6.0\n"
            "  kickstart: version 7.3(8)N1(1)\n"
            "  system:    version 7.3(13)N1(1)\n"
            "Hardware\n"
            "  cisco Nexus 3048 Chassis (\"48x1GE + 4x10G Supervisor\")\n",
            TW_PLAT_NXOS, "7.3(13)N1(1)", "Nexus 3048" },
    { "hostname XR\ninterface GigabitEthernet0/0/0/0\n ipv4 address 192.0.2.1 255.255.255.0\n",
            TW_PLAT_IOSXR,
            "Cisco IOS XR Software, Version 7.9.2 LNT\n"
            "Copyright (c) 2013-2023 by Cisco Systems, Inc.\n"
            "Build Information:\n"
            " Built By     : user\n"
            "cisco NCS-5500 () processor\n",
            TW_PLAT_IOSXR, "7.9.2", "NCS-5500" },
    { "hostname XR\n!! IOS XR Configuration 4.1.0\n", TW_PLAT_IOSXR,
            "Cisco IOS XR Software, Version 4.1.0[Default]\n"
            "cisco ASR9K Series (Intel 686 F6M14S4) processor with 6291456K bytes of memory.\n",
            TW_PLAT_IOSXR, "4.1.0", "ASR9K" },
    { "system { host-name r; }\n", TW_PLAT_JUNOS,
            "Hostname: r\n"
            "Model: mx240\n"
            "Junos: 21.4R3-S3.4\n"
            "JUNOS OS Kernel 64-bit  [20230301.0c3b2d4_builder_stable_12_214]\n",
            TW_PLAT_JUNOS, "21.4R3-S3.4", "mx240" },
    { "set system host-name r\n", TW_PLAT_JUNOS,
            "Hostname: r\n"
            "Model: ex4200-48t\n"
            "JUNOS Base OS boot [13.3R1.4]\n"
            "JUNOS Base OS Software Suite [13.3R1.4]\n"
            "JUNOS Software Release [13.3R1.5]\n",
            TW_PLAT_JUNOS, "13.3R1.5", "ex4200-48t" },
    { "ASA Version 9.8(4)\nhostname FW\n", TW_PLAT_ASA,
            "Cisco Adaptive Security Appliance Software Version 9.12(4)67\n"
            "SSP Operating System Version 2.6(1.272)\n"
            "Hardware:   ASA5512, 4096 MB RAM, CPU Clarkdale 2800 MHz, 1 CPU (2 cores)\n",
            TW_PLAT_ASA, "9.12(4)67", "ASA5512" },
};

static void devconf_show_version_outputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(sv_cases); i++) {
        const struct sv_case *c = &sv_cases[i];
        struct tw_devconf *d = parse_as(c->config, TW_PLAT_UNKNOWN);
        struct tw_err err;

        print_message("  case %zu\n", i);
        assert_int_equal(d->platform, c->platform);
        assert_false(d->op_present[TW_OP_SHOW_VERSION]);
        assert_int_equal(tw_devconf_add_output(d, TW_OP_SHOW_VERSION, c->show_version,
                                 strlen(c->show_version), &err),
                TW_OK);
        assert_int_equal(d->platform, c->after);
        assert_string_equal(d->version, c->version);
        assert_string_equal(d->version_from, "show-version");
        assert_string_equal(d->model, c->model);
        assert_true(d->op_present[TW_OP_SHOW_VERSION]);
        assert_non_null(d->op[TW_OP_SHOW_VERSION].child);
        assert_int_equal(d->op[TW_OP_SHOW_VERSION].child->line, 1);
        assert_ptr_equal(d->op[TW_OP_SHOW_VERSION].child->parent, &d->op[TW_OP_SHOW_VERSION]);
        tw_devconf_free(d);
    }
}

static void devconf_outputs_lines(void **state)
{
    static const char dir[] = "Directory of bootflash:/\n"
                              "\n"
                              "   11  -rw-      1048576  Jan 1 2024 00:00:00 +00:00  cap.pcap  \r\n"
                              "   12  -rw-         2048  Jan 1 2024 00:00:00 +00:00  map.tcl\n";
    struct tw_devconf *d = parse_as("hostname R\n", TW_PLAT_IOS);
    const struct tw_cfg_node *n;
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_devconf_add_output(d, TW_OP_DIR, dir, strlen(dir), &err), TW_OK);
    n = d->op[TW_OP_DIR].child;
    assert_int_equal(count(n), 3);
    assert_string_equal(
            nth(n, 1)->text, "11  -rw-      1048576  Jan 1 2024 00:00:00 +00:00  cap.pcap");
    assert_int_equal(nth(n, 1)->line, 3);
    assert_int_equal(nth(n, 1)->depth, 0);
    assert_string_equal(d->op[TW_OP_DIR].text, "dir");
    /* A second output of a kind replaces the first; binary is refused. */
    assert_int_equal(tw_devconf_add_output(d, TW_OP_DIR, "x.pcap\n", 7, &err), TW_OK);
    assert_int_equal(count(d->op[TW_OP_DIR].child), 1);
    assert_int_equal(
            tw_devconf_add_output(d, TW_OP_SSH, "\x01\x02\x03\x04\x05\x06", 6, &err), TW_EINVAL);
    assert_false(d->op_present[TW_OP_SSH]);
    assert_int_equal(tw_devconf_add_output(d, TW_OP_SSH, "", 0, &err), TW_OK);
    assert_true(d->op_present[TW_OP_SSH]);
    assert_null(d->op[TW_OP_SSH].child);
    assert_int_equal(tw_devconf_add_output(d, TW_OP_COUNT, "x", 1, &err), TW_EINVAL);
    assert_int_equal(tw_devconf_add_output(NULL, TW_OP_DIR, "x", 1, &err), TW_EINVAL);
    /* A NUL inside an output: that line is skipped with a warning. */
    assert_int_equal(tw_devconf_add_output(d, TW_OP_PROCESSES, "a\nb\0c\nd\n", 8, &err), TW_OK);
    assert_int_equal(count(d->op[TW_OP_PROCESSES].child), 2);
    assert_int_equal(d->n_warnings, 1);
    assert_int_equal(d->warnings[0].line, 2);
    assert_non_null(strstr(d->warnings[0].msg, "processes"));
    tw_devconf_free(d);
}

static void devconf_version_normalise(void **state)
{
    static const struct {
        enum tw_platform p;
        const char *in, *out;
    } cases[] = {
        { TW_PLAT_IOSXE, "17.09.04a", "17.9.4a" },
        { TW_PLAT_IOSXE, "16.08.01b", "16.8.1b" },
        { TW_PLAT_IOSXE, "17.10.01", "17.10.1" },
        { TW_PLAT_IOSXE, "03.06.05E", "3.6.5E" },
        { TW_PLAT_IOSXE, "17.00.0", "17.0.0" },
        { TW_PLAT_IOS, "15.2(4)E10", "15.2(4)E10" },
        { TW_PLAT_IOS, "12.2(55)SE05", "12.2(55)SE05" },
        { TW_PLAT_IOSXR, "07.10.01", "7.10.1" },
        { TW_PLAT_NXOS, "10.4(5)", "10.4(5)" },
        { TW_PLAT_JUNOS, "22.4R3-S2.11", "22.4R3-S2.11" },
        { TW_PLAT_JUNOS, "15.1X49-D170.4", "15.1X49-D170.4" },
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        size_t n = tw__version_normalise(cases[i].p, tw_str_cstr(cases[i].in), buf, sizeof(buf));
        assert_string_equal(buf, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
    }
    assert_int_equal(tw__version_normalise(TW_PLAT_IOSXE, TW_STR("17.09.04a"), buf, 4), 3);
    assert_string_equal(buf, "17.");
    assert_true(tw__train_is_xe(TW_STR("17.9")));
    assert_true(tw__train_is_xe(TW_STR("16.12")));
    assert_false(tw__train_is_xe(TW_STR("15.2")));
    assert_false(tw__train_is_xe(TW_STR("17")));
}

/* ==== Hostile input ==== */

static void devconf_refuses_non_configs(void **state)
{
    static const char binary[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xed\xbd\x07\x60\x1c"
                                 "\x49\x96\x25\x26\x2f\x6d\xca\x7b\x7f\x4a\xf5\x4a\xd7\xe0\x74";
    static const char utf16[] = "h\0o\0s\0t\0n\0a\0m\0e\0 \0R\0\n\0";
    struct tw_devconf *d = (struct tw_devconf *)1;
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_devconf_parse("", 0, "empty.cfg", TW_PLAT_UNKNOWN, &d, &err), TW_EINVAL);
    assert_null(d);
    assert_non_null(strstr(err.msg, "empty.cfg"));
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(
            tw_devconf_parse(binary, sizeof(binary) - 1, "blob.bin", TW_PLAT_UNKNOWN, &d, &err),
            TW_EINVAL);
    assert_non_null(strstr(err.msg, "binary"));
    assert_non_null(strstr(err.msg, "blob.bin"));
    assert_int_equal(err.offset, 0);
    assert_int_equal(
            tw_devconf_parse(utf16, sizeof(utf16) - 1, NULL, TW_PLAT_IOS, &d, &err), TW_EINVAL);
    assert_non_null(strstr(err.msg, "<input>"));
    assert_int_equal(
            tw_devconf_parse("!\n! only comments\n!\n", 20, "c.cfg", TW_PLAT_IOS, &d, &err),
            TW_EINVAL);
    assert_non_null(strstr(err.msg, "no configuration statement"));
    assert_int_equal(
            tw_devconf_parse("# nothing\n/* here */\n", 21, "c.conf", TW_PLAT_JUNOS, &d, &err),
            TW_EINVAL);
    assert_int_equal(tw_devconf_parse("Dear diary\n", 11, "diary.txt", TW_PLAT_UNKNOWN, &d, &err),
            TW_EINVAL);
    assert_non_null(strstr(err.msg, "platform"));
    assert_int_equal(tw_devconf_parse("hostname R\n", TW_CFG_MAX_BYTES + 1, "huge.cfg", TW_PLAT_IOS,
                             &d, &err),
            TW_ELIMIT);
    assert_int_equal(
            tw_devconf_parse("hostname R\n", 11, "x", (enum tw_platform)42, &d, &err), TW_EINVAL);
    assert_int_equal(tw_devconf_parse(NULL, 5, "x", TW_PLAT_IOS, &d, &err), TW_EINVAL);
    assert_int_equal(tw_devconf_parse("hostname R\n", 11, "x", TW_PLAT_IOS, NULL, &err), TW_EINVAL);
    tw_devconf_free(NULL);
}

static void devconf_nul_bytes_skip_line(void **state)
{
    static const char cfg[] = "hostname R\n"
                              "interface Vlan1\n"
                              " descr\0iption bad\n"
                              " ip address 192.0.2.1 255.255.255.0\n"
                              "snmp\x1b[31m-server x\n"
                              "ip ssh version 2\n";
    struct tw_devconf *d = NULL;
    struct tw_err err;

    (void)state;
    assert_int_equal(
            tw_devconf_parse(cfg, sizeof(cfg) - 1, "nul.cfg", TW_PLAT_IOS, &d, &err), TW_OK);
    assert_int_equal(d->n_nodes, 4);
    assert_string_equal(
            find_top(d, "interface Vlan1")->child->text, "ip address 192.0.2.1 255.255.255.0");
    assert_int_equal(find_top(d, "interface Vlan1")->child->line, 4);
    assert_int_equal(d->n_warnings, 2);
    assert_int_equal(d->warnings[0].line, 3);
    assert_int_equal(d->warnings[1].line, 5);
    tw_devconf_free(d);
}

static void devconf_megabyte_line(void **state)
{
    size_t big = 1u << 20;
    char *cfg = tw_malloc(big + 64);
    struct tw_devconf *d = NULL;
    size_t len;

    (void)state;
    assert_non_null(cfg);
    memcpy(cfg, "hostname R\ndescription ", 23);
    memset(cfg + 23, 'A', big);
    len = 23 + big;
    memcpy(cfg + len, "\nip ssh version 2\n", 18);
    len += 18;
    assert_int_equal(tw_devconf_parse(cfg, len, "big.cfg", TW_PLAT_IOS, &d, NULL), TW_OK);
    assert_int_equal(d->n_nodes, 3);
    assert_int_equal(nth(d->root.child, 1)->len, big + 12);
    assert_string_equal(nth(d->root.child, 2)->text, "ip ssh version 2");
    tw_devconf_free(d);
    /* The same line in a Junos statement. */
    memcpy(cfg, "system {desc ", 13);
    memset(cfg + 13, 'B', big);
    memcpy(cfg + 13 + big, ";}\n", 3);
    assert_int_equal(tw_devconf_parse(cfg, big + 16, "big.conf", TW_PLAT_JUNOS, &d, NULL), TW_OK);
    assert_int_equal(d->root.child->len, big + 12);
    tw_devconf_free(d);
    tw_free(cfg);
}

/* Every complete statement before the cut survives a truncated file. */
static void truncation_sweep(const char *cfg, enum tw_platform p, bool flags)
{
    size_t len = strlen(cfg);
    struct tw_devconf *full = parse_as(cfg, p);

    for (size_t cut = 0; cut <= len; cut++) {
        struct tw_devconf *d = NULL;
        char *copy = tw_strndup(cfg, cut); /* an allocation of exactly cut bytes */
        uint32_t cut_line = 1;
        int rc;

        assert_non_null(copy);
        for (size_t i = 0; i < cut; i++)
            cut_line += cfg[i] == '\n';
        rc = tw_devconf_parse(copy, cut, "cut", p, &d, NULL);
        assert_true(rc == TW_OK || rc == TW_EINVAL);
        if (rc == TW_OK) {
            check_device(d);
        }
        for (const struct tw_cfg_node *n = full->root.child; n != NULL; n = n->next) {
            const struct tw_cfg_node *m;
            if (n->line >= cut_line)
                break;
            assert_int_equal(rc, TW_OK);
            m = find_top(d, n->text);
            assert_non_null(m);
            assert_int_equal(m->line, n->line);
            if (flags)
                assert_int_equal(m->flags, n->flags);
        }
        tw_devconf_free(d);
        tw_free(copy);
    }
    tw_devconf_free(full);
}

static void devconf_truncation_every_byte(void **state)
{
    static const char ios[] = "hostname T\n"
                              "enable secret 9 $9$abc\n"
                              "interface Vlan1\n"
                              " ip address 192.0.2.1 255.255.255.0\n"
                              "line vty 0 4\n"
                              " transport input ssh\n"
                              "snmp-server community c RO\n";
    (void)state;
    truncation_sweep(ios, TW_PLAT_IOS, true);
    truncation_sweep(junos_brace, TW_PLAT_JUNOS, true);
    /* Set form: a later deactivate line changes earlier flags, so only texts are compared. */
    truncation_sweep(junos_set, TW_PLAT_JUNOS, false);
}

static void devconf_warnings_capped(void **state)
{
    size_t n = 500, len = 0;
    char *cfg = tw_malloc(n * 4 + 32);
    struct tw_devconf *d = NULL;

    (void)state;
    assert_non_null(cfg);
    memcpy(cfg, "a;\n", 3);
    len = 3;
    for (size_t i = 0; i < n; i++) {
        memcpy(cfg + len, "}\n", 2);
        len += 2;
    }
    assert_int_equal(tw_devconf_parse(cfg, len, "w", TW_PLAT_JUNOS, &d, NULL), TW_OK);
    assert_int_equal(d->n_warnings, n);
    for (unsigned i = 0; i < TW_CFG_MAX_WARNINGS; i++)
        assert_int_equal(d->warnings[i].line, i + 2);
    tw_devconf_free(d);
    tw_free(cfg);
}

/* ==== Allocation failure ==== */

static void alloc_sweep(const char *cfg, enum tw_platform p, bool with_output)
{
    bool done = false;

    for (long fail = 0; !done && fail < 10000; fail++) {
        struct tw_devconf *d = NULL;
        struct tw_err err;
        int rc;

        tw_alloc_fail_after(fail);
        rc = tw_devconf_parse(cfg, strlen(cfg), "alloc.cfg", p, &d, &err);
        if (rc == TW_OK && with_output) {
            rc = tw_devconf_add_output(d, TW_OP_SHOW_VERSION, sv_cases[2].show_version,
                    strlen(sv_cases[2].show_version), &err);
            if (rc != TW_OK)
                assert_false(d->op_present[TW_OP_SHOW_VERSION]);
        }
        tw_alloc_fail_reset();
        if (rc == TW_OK) {
            assert_non_null(d);
            check_device(d);
            done = true;
        } else {
            assert_int_equal(rc, TW_ENOMEM);
            assert_non_null(strstr(err.msg, "memory"));
        }
        tw_devconf_free(d);
    }
    assert_true(done);
}

static void devconf_allocation_failures(void **state)
{
    (void)state;
    alloc_sweep(ios_cfg, TW_PLAT_IOS, true);
    alloc_sweep(junos_brace, TW_PLAT_JUNOS, false);
    alloc_sweep(junos_set, TW_PLAT_JUNOS, true);
}

/* ==== Paths ==== */

static void devconf_paths(void **state)
{
    static const char cfg[] = "tacacs server TAC1\n"
                              " address ipv4 198.51.100.9\n"
                              " key 7 094F471A1A0A\n"
                              "line vty 0 4\n"
                              " transport input telnet\n"
                              "banner motd ^C\nhello\n^C\n";
    struct tw_devconf *d = parse_as(cfg, TW_PLAT_IOS);
    const struct tw_cfg_node *key = nth(d->root.child->child, 1);
    char buf[128];

    (void)state;
    assert_int_equal(tw_devconf_path(d->platform, key, buf, sizeof(buf)),
            strlen("tacacs server TAC1 > key 7 <masked>"));
    assert_string_equal(buf, "tacacs server TAC1 > key 7 <masked>");
    tw_devconf_path(d->platform, nth(d->root.child, 1)->child, buf, sizeof(buf));
    assert_string_equal(buf, "line vty 0 4 > transport input telnet");
    tw_devconf_path(d->platform, nth(d->root.child, 1), buf, sizeof(buf));
    assert_string_equal(buf, "line vty 0 4");
    /* A banner's path is its first line. */
    tw_devconf_path(d->platform, nth(d->root.child, 2), buf, sizeof(buf));
    assert_string_equal(buf, "banner motd ^C");
    /* Cut to fit, never past the buffer, never a secret. */
    assert_int_equal(tw_devconf_path(d->platform, key, buf, 10), 9);
    assert_string_equal(buf, "tacacs se");
    assert_int_equal(tw_devconf_path(d->platform, key, buf, 25), 24);
    assert_null(strstr(buf, "094F"));
    assert_int_equal(tw_devconf_path(d->platform, key, buf, 0), 0);
    assert_int_equal(tw_devconf_path(d->platform, &d->root, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    tw_devconf_free(d);
}

/* ==== Speed ==== */

static void devconf_speed_typical(void **state)
{
    char *cfg = tw_malloc(64 * 1024);
    size_t len = 0;
    struct timespec a, b;
    double us;
    int rounds = 200;

    (void)state;
    assert_non_null(cfg);
    len += (size_t)snprintf(cfg + len, 1024, "version 17.9\nhostname SPEED\n");
    for (int i = 0; i < 98; i++)
        len += (size_t)snprintf(cfg + len, 1024,
                "interface GigabitEthernet1/0/%d\n description port %d\n switchport mode "
                "access\n switchport access vlan %d\n!\n",
                i, i, i % 40);
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &a), 0);
    for (int r = 0; r < rounds; r++) {
        struct tw_devconf *d = NULL;
        assert_int_equal(tw_devconf_parse(cfg, len, "speed", TW_PLAT_UNKNOWN, &d, NULL), TW_OK);
        tw_devconf_free(d);
    }
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &b), 0);
    us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / rounds;
    print_message("  500-line config: %.1f us per parse (sanitizer builds are slower)\n", us);
    /* Generous even under ASan: catches quadratic behaviour, not fine regressions. */
    assert_true(us < 5000.0);
    tw_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(devconf_names_round_trip),
        cmocka_unit_test(devconf_ios_tree_shape),
        cmocka_unit_test(devconf_ios_crlf_tabs_blanks),
        cmocka_unit_test(devconf_ios_banners),
        cmocka_unit_test(devconf_ios_banner_unterminated),
        cmocka_unit_test(devconf_ios_macro),
        cmocka_unit_test(devconf_nxos_tree),
        cmocka_unit_test(devconf_xr_tree),
        cmocka_unit_test(devconf_asa_tree),
        cmocka_unit_test(devconf_redaction_flag),
        cmocka_unit_test(devconf_depth_capped),
        cmocka_unit_test(devconf_junos_brace_tree),
        cmocka_unit_test(devconf_junos_set_equals_brace),
        cmocka_unit_test(devconf_junos_set_ops),
        cmocka_unit_test(devconf_junos_unbalanced),
        cmocka_unit_test(devconf_junos_unclosed_tokens),
        cmocka_unit_test(devconf_junos_deep_nesting),
        cmocka_unit_test(devconf_junos_real_brace_vs_set),
        cmocka_unit_test(devconf_real_configs),
        cmocka_unit_test(devconf_real_shapes),
        cmocka_unit_test(devconf_detect_plain),
        cmocka_unit_test(devconf_show_version_outputs),
        cmocka_unit_test(devconf_outputs_lines),
        cmocka_unit_test(devconf_version_normalise),
        cmocka_unit_test(devconf_refuses_non_configs),
        cmocka_unit_test(devconf_nul_bytes_skip_line),
        cmocka_unit_test(devconf_megabyte_line),
        cmocka_unit_test(devconf_truncation_every_byte),
        cmocka_unit_test(devconf_warnings_capped),
        cmocka_unit_test(devconf_allocation_failures),
        cmocka_unit_test(devconf_paths),
        cmocka_unit_test(devconf_speed_typical),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
