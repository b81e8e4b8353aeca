/*
 * audit_int.h: what the device-audit files of src/audit share and nothing
 * else: parsed software versions and release trains (version_cmp.c, used by
 * vulndb.c), the IP literal scanner (ipscan.c, used by audit.c), and the
 * finding helpers audit.c and drift.c both use.
 *
 * Versions are parsed per platform family into one structure whose fields
 * each family uses in its own way (see struct tw__version); the public
 * comparison is tw_version_cmp in audit.h. A release train is a prefix of a
 * version ("17.9", "15.2E", "22.4-EVO", "*") as the vulnerability data names
 * it (docs/audit-rules.md, "Vulnerability data").
 */
#ifndef TIDEWATCH_AUDIT_AUDIT_INT_H
#define TIDEWATCH_AUDIT_AUDIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/addr.h"
#include "tidewatch/audit.h"
#include "tidewatch/devconf.h"

/* ==== Versions and trains (version_cmp.c) ==== */

/* Longest version or train text accepted. */
#define TW_VERSION_MAX_LEN 63

/*
 * One parsed version. Which fields a family fills:
 *
 *   family   example            num[]      rel  train  train_num  reb   build  other
 *   IOS XE   17.9.4a            17 9 4     -    -      -          -     -      suffix "a"
 *   IOS XE   03.06.05E          3 6 5      -    -      -          -     -      suffix "E"
 *   IOS XR   7.9.2              7 9 2      -    -      -          -     -
 *   IOS      15.2(4)E10         15 2       4    "E"    -          10    -
 *   IOS      12.4(25g)          12 4       25g  ""     -          -     -
 *   NX-OS    7.3(13)N1(1)       7 3        13   "N"    1          1     -
 *   NX-OS    10.4(5)            10 4       5    ""     -          -     -
 *   Junos    22.4R3-S2.11       22 4       3    "R"    -          2     11     svc_kind 'S'
 *   Junos    23.2R1-EVO         23 2       1    "R"    -          -     -      evo
 *   ASA      9.12(4)67          9 12       4    -      -          67    -
 */
struct tw__version {
    uint8_t family;     /* enum tw_platform (TW_PLAT_IOSXE ...) */
    uint8_t n_num;      /* numbers used in num[] */
    uint32_t num[4];    /* the dotted numbers before any parenthesis or letter */
    uint32_t rel;       /* IOS, NX-OS, ASA: the number in parentheses; Junos: after the type */
    char rel_letter;    /* IOS, NX-OS: a letter inside the parentheses (12.4(25g)); 0 when none */
    char train[5];      /* IOS train letters, NX-OS train letters, Junos release type; "" */
    uint32_t train_num; /* NX-OS: the number after the train letters (N1 -> 1) */
    bool has_train_num; /* NX-OS: a numbered train with its own rebuild in parentheses */
    uint32_t reb;       /* IOS rebuild, NX-OS train rebuild, ASA interim, Junos service */
    bool has_reb;       /* reb was written */
    char reb_letter;    /* a letter after the rebuild (IOS E10a, NX-OS (9a)); 0 when none */
    char svc_kind;      /* Junos: 'S' (service release) or 'D'; 0 when none */
    uint32_t build;     /* Junos: the build after the last dot (S2.11 -> 11) */
    bool has_build;     /* Junos: a build was written */
    bool evo;           /* Junos OS Evolved (-EVO) */
    char suffix[3];     /* IOS XE: rebuild letters ("a") or 3.x train letters ("E"); "" */
};

/*
 * Parses text[0..len) as a version of platform p's family (IOS XE for
 * TW_PLAT_IOSXE, and so on). TW_OK, or TW_EINVAL when it is not one (or p
 * has no version family).
 */
int tw__version_parse(
        enum tw_platform p, const char *text, size_t len, struct tw__version *out) TW_MUST_CHECK;

/*
 * Compares two versions parsed for the same family: *out < 0, 0 or > 0.
 * TW_OK, or TW_EINVAL when they are not comparable (different IOS or NX-OS
 * trains at the same release, Junos OS against Junos OS Evolved, Junos
 * release types that differ).
 */
int tw__version_compare(
        const struct tw__version *a, const struct tw__version *b, int *out) TW_MUST_CHECK;

/* A release train: "*" (every version) or a prefix of a version. */
struct tw__train {
    uint8_t family;  /* enum tw_platform */
    bool any;        /* "*" */
    uint8_t n_num;   /* numbers in num[] (1..4) */
    uint32_t num[4]; /* leading numbers a version must start with */
    char letters[5]; /* IOS / NX-OS train letters the version must carry ("" = any) */
    bool evo;        /* Junos: the train is of Junos OS Evolved ("22.4-EVO") */
};

/* Parses a train of platform p's family. TW_OK or TW_EINVAL. */
int tw__train_parse(
        enum tw_platform p, const char *text, size_t len, struct tw__train *out) TW_MUST_CHECK;
/* True when version v belongs to train t (the same family assumed). */
bool tw__train_holds(const struct tw__train *t, const struct tw__version *v);
/* How specific a train is: 0 for "*", more for longer prefixes. */
unsigned tw__train_specificity(const struct tw__train *t);

/* ==== IP literals (ipscan.c) ==== */

/* How a literal was written. */
enum tw__ip_form {
    TW__IP_ADDR = 0,  /* a bare address: 192.0.2.1, 2001:db8::1 */
    TW__IP_CIDR,      /* address/length: 192.0.2.0/24, 2001:db8::/32 */
    TW__IP_MASK,      /* address and netmask: 192.0.2.0 255.255.255.0 */
    TW__IP_WILDCARD,  /* address and wildcard: 192.0.2.0 0.0.0.255 */
    TW__IP_NONCONTIG, /* address and a second quad that is no prefix (0.0.255.0) */
};

/* One literal found in a statement. */
struct tw__ip_literal {
    struct tw_ip ip;     /* the address as written (host bits kept) */
    unsigned prefix_len; /* 32 or 128 for an address; the prefix of a CIDR, mask or wildcard */
    enum tw__ip_form form;
    uint32_t off; /* where the literal starts in the text (the address) */
    uint32_t len; /* bytes it spans, a mask or wildcard and "/n" included */
};

/* Receives each literal in text order; a non-zero return stops the scan and is returned. */
typedef int (*tw__ipscan_fn)(void *ctx, const struct tw__ip_literal *lit);

/*
 * Finds every IPv4 and IPv6 literal of one statement's text: addresses,
 * a.b.c.d/nn and x::/nn prefixes, "address mask" and "address wildcard"
 * pairs (IOS ACLs and routes, ASA objects), in URLs too, and nothing that
 * only looks like one: versions (17.9.4, nxos.9.3.15.bin), OIDs in SNMP
 * views, MAC addresses, fibre-channel WWNs, interface names, times
 * (09:37:40), route distinguishers and targets (65000:1, 192.0.2.1:100).
 * Platform p decides 0.0.0.0 / 255.255.255.255 after an address (ASA: a
 * netmask; elsewhere a wildcard in permit/deny statements). Returns TW_OK
 * or fn's non-zero return. No allocation; linear in len.
 */
int tw__ipscan(enum tw_platform p, const char *text, size_t len, tw__ipscan_fn fn, void *ctx);

/* ==== Findings (audit.c, drift.c) ==== */

/* Longest message or evidence a builtin writes (cut to fit). */
#define TW_AUDIT_MSG_MAX 1024

/*
 * Writes into *out (a new tw_malloc'd, NUL-terminated string) the masked
 * form of n's text, and its length into *out_len. TW_OK or TW_ENOMEM.
 */
int tw__audit_mask_node(
        enum tw_platform p, const struct tw_cfg_node *n, char **out, size_t *out_len) TW_MUST_CHECK;

/*
 * Writes into *out (tw_malloc'd) the context of n for a finding: the masked
 * path of its parent, or "" for a top-level statement. TW_OK or TW_ENOMEM.
 */
int tw__audit_context(enum tw_platform p, const struct tw_cfg_node *n, char **out) TW_MUST_CHECK;

/*
 * Drift of d against baseline (drift.c): each change is a finding of rule
 * drift_rule, or of the change's owning rule when drift_rule is -1, passed
 * to fn; *n_changes (when not NULL) receives the number of changes. TW_OK,
 * fn's non-zero return or TW_ENOMEM.
 */
int tw__audit_drift_run(const struct tw_ruleset *rs, const struct tw_devconf *d,
        const struct tw_devconf *baseline, long drift_rule, tw_finding_fn fn, void *ctx,
        uint64_t *n_changes) TW_MUST_CHECK;

#endif
