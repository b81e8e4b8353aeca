/*
 * devconf.h: network device configurations as the auditor sees them.
 *
 * A configuration file, as operators collect it (a plain `show
 * running-config`, Oxidized or RANCID output with `show version` prepended as
 * comments, Junos in brace or `display set` form), becomes a tree of
 * statements:
 *
 *   - Cisco IOS / IOS XE, NX-OS, IOS XR and ASA: one node per statement line,
 *     nested by indentation (`line vty 0 4` has `transport input ssh` as a
 *     child). Comment lines (`!`, and the `!` / `exit` terminators), blank
 *     lines and the `Building configuration...` / `Current configuration`
 *     preamble are not nodes. A banner's body belongs to its banner node.
 *   - Juniper Junos: one top-level node per statement, written as its full
 *     path in `set` form without the leading `set ` (`system services ssh
 *     root-login allow`), whichever form the file uses, so rules match both
 *     forms alike. Brace form gives each leaf statement the line of its `;`
 *     statement; `inactive:` statements and those a `deactivate` line names
 *     are kept with TW_CFG_INACTIVE. Comments and annotations (C-style
 *     comments, `##` and `#` lines) are not nodes.
 *
 * Bad input is data: an unknown or malformed line is kept or skipped with a
 * warning naming its line; only input that is not a configuration at all
 * (empty, binary, no statement) is an error. Secrets are kept as written in
 * the tree (rules must see their type digits); tw_devconf_mask gives the
 * only form that may be shown to anyone.
 *
 * Operational outputs (`show version`, `dir`, `show monitor capture`, ...)
 * supplied beside a configuration are kept as a flat list of lines each, for
 * the rules that need them; a `show version` one also supplies the exact
 * software version. See docs/internals/AUDIT.md.
 */
#ifndef TIDEWATCH_DEVCONF_H
#define TIDEWATCH_DEVCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

enum tw_platform {
    TW_PLAT_UNKNOWN = 0,
    TW_PLAT_IOS,   /* classic IOS */
    TW_PLAT_IOSXE, /* IOS XE (an IOS-family config whose version says IOS XE) */
    TW_PLAT_NXOS,
    TW_PLAT_IOSXR,
    TW_PLAT_JUNOS,
    TW_PLAT_ASA,
    TW_PLAT_COUNT,
};

/* Bit of a platform in a platform set (rules name the platforms they apply to). */
#define TW_PLAT_BIT(p) (1u << (unsigned)(p))

/* "ios", "iosxe", "nxos", "iosxr", "junos", "asa", "unknown". */
const char *tw_platform_name(enum tw_platform p);
/* Human name: "Cisco IOS XE", "Juniper Junos", ... */
const char *tw_platform_title(enum tw_platform p);
/* Parses a name of tw_platform_name. TW_OK or TW_EINVAL. */
int tw_platform_parse(struct tw_str name, enum tw_platform *out) TW_MUST_CHECK;

/*
 * Operational outputs. Beside a config FILE.EXT the auditor reads
 * FILE.<name>.txt for each name below (docs/man/tidewatch-audit.1).
 */
enum tw_opout {
    TW_OP_SHOW_VERSION = 0, /* "show-version" */
    TW_OP_DIR,              /* "dir": dir / file list of device storage */
    TW_OP_MONITOR_CAPTURE,  /* "show-monitor-capture" */
    TW_OP_APP_HOSTING,      /* "show-app-hosting-list" (also show guestshell / virtual-service) */
    TW_OP_PROCESSES,        /* "processes": show processes, run netstat -ltnp, LPTS bindings */
    TW_OP_VSTACK,           /* "show-vstack-config" */
    TW_OP_SSH,              /* "show-ip-ssh": show ip ssh, show crypto key mypubkey rsa */
    TW_OP_COUNT,
};

const char *tw_opout_name(enum tw_opout k);
int tw_opout_parse(struct tw_str name, enum tw_opout *out) TW_MUST_CHECK;

/* Node flags. */
#define TW_CFG_REDACTED 0x01u /* holds a redaction marker: <secret hidden>, <removed>, ... */
#define TW_CFG_INACTIVE 0x02u /* Junos: inactive: or deactivated */
#define TW_CFG_BANNER   0x04u /* a banner statement; its body lines are in `text` after '\n' */

/*
 * One statement. `text` is the line without its indentation, trailing
 * blanks and CR, NUL-terminated (Junos: the statement's full path in set
 * form). Owned by the tw_devconf.
 */
struct tw_cfg_node {
    const char *text;
    uint32_t len;
    uint32_t line;              /* 1-based line in the file the statement came from */
    uint16_t depth;             /* 0 for a top-level statement */
    uint16_t flags;             /* TW_CFG_* */
    struct tw_cfg_node *parent; /* NULL for the root */
    struct tw_cfg_node *child;  /* first child, NULL when none */
    struct tw_cfg_node *next;   /* next sibling, NULL when last */
};

/* A problem the parser stepped over. */
struct tw_cfg_warning {
    uint32_t line;
    char msg[120];
};

/* Most warnings kept per device (the rest are counted in n_warnings only). */
#define TW_CFG_MAX_WARNINGS 64
/* Longest configuration or output file accepted. */
#define TW_CFG_MAX_BYTES ((size_t)64 << 20)
/* Deepest nesting kept; deeper statements are attached at this depth, with a warning. */
#define TW_CFG_MAX_DEPTH 32

/*
 * A parsed device. Every string is NUL-terminated and never NULL ("" when
 * unknown). Everything is owned by the struct and freed by tw_devconf_free.
 */
struct tw_devconf {
    const char *path;     /* the file, as given */
    const char *name;     /* hostname from the config, else the file name without extension */
    const char *hostname; /* hostname/switchname/host-name statement, "" when none */
    enum tw_platform platform;
    /*
     * The exact software version, normalised (IOS XE "17.09.04a" -> "17.9.4a",
     * IOS XR "7.9.2 LNT" -> "7.9.2", NX-OS "10.4(5)", Junos "22.4R3-S2.11"),
     * "" when the inputs do not carry it; version_from says where it was found:
     * "show-version" (an output file), "comments" (show version prepended by a
     * collector), "config" (NX-OS/IOS XR/Junos header or version statement).
     */
    const char *version;
    const char *version_from;
    const char *train; /* IOS-family `version 17.9` statement: "17.9"; "" when none */
    const char *model; /* chassis or model when the inputs say ("C9200L-24P-4G", "srx300") */
    const char *last_change_by; /* user of "Last configuration change ... by U" / "## Last commit:
                                   ... by U" */
    struct tw_cfg_node root;    /* root.child: the top-level statements in file order */
    /* Operational outputs: op[k].child lists their lines (depth 0) when op_present[k]. */
    struct tw_cfg_node op[TW_OP_COUNT];
    bool op_present[TW_OP_COUNT];
    const char *op_path[TW_OP_COUNT]; /* the file each output came from ("" when none given) */
    uint32_t n_lines;                 /* lines of the file */
    uint32_t n_nodes;                 /* statements in the tree */
    size_t bytes;                     /* size of the file */
    uint32_t n_warnings; /* warnings raised (only the first TW_CFG_MAX_WARNINGS are kept) */
    const struct tw_cfg_warning *warnings;
    struct tw__devconf_mem *mem; /* private */
};

/*
 * Guesses the platform of a configuration text: RANCID's
 * `!RANCID-CONTENT-TYPE:` header, collector comments (`Cisco IOS XE
 * Software`, `Cisco Nexus Operating System`, `IOS XR`, `Junos:`,
 * `Adaptive Security Appliance`), then statements typical of each
 * (`feature `, `!! IOS XR Configuration`, braces or `set ` lines, ...).
 * Returns TW_PLAT_UNKNOWN when nothing says.
 */
enum tw_platform tw_platform_detect(const char *text, size_t len);

/*
 * Parses one configuration. platform TW_PLAT_UNKNOWN detects it (an
 * IOS-family file whose inputs say IOS XE becomes TW_PLAT_IOSXE). path names
 * the file in warnings and errors and may be NULL ("<input>"). Returns TW_OK
 * and *out (free with tw_devconf_free), or TW_EINVAL (not a configuration:
 * empty, binary, no statement, platform unknown; err says why, with the line
 * or byte offset), TW_ELIMIT (over TW_CFG_MAX_BYTES) or TW_ENOMEM.
 */
int tw_devconf_parse(const char *text, size_t len, const char *path, enum tw_platform platform,
        struct tw_devconf **out, struct tw_err *err) TW_MUST_CHECK;

/*
 * Adds an operational output to d (a second one of the same kind replaces the
 * first). A `show version` output sets d->version, version_from
 * "show-version" and d->model when it carries them (an IOS-family device it
 * shows to run IOS XE becomes TW_PLAT_IOSXE). TW_OK, TW_EINVAL (binary),
 * TW_ELIMIT or TW_ENOMEM.
 */
int tw_devconf_add_output(struct tw_devconf *d, enum tw_opout kind, const char *text, size_t len,
        struct tw_err *err) TW_MUST_CHECK;
/*
 * The same, naming the file the output came from (path may be NULL): findings
 * on the output's lines point at that file (d->op_path[kind]).
 */
int tw_devconf_add_output_file(struct tw_devconf *d, enum tw_opout kind, const char *text,
        size_t len, const char *path, struct tw_err *err) TW_MUST_CHECK;

void tw_devconf_free(struct tw_devconf *d);

/*
 * Writes into out (cap bytes, NUL-terminated, cut to fit) the statement text
 * with every secret replaced by "<masked>": passwords, secrets and keys with
 * their type digit kept (`password 7 <masked>`, `secret 9 <masked>`, Junos
 * `encrypted-password "<masked>"`), SNMP community strings, pre-shared keys,
 * NTP/TACACS+/RADIUS/BGP/OSPF keys, key-strings, SNMPv3 auth/priv phrases,
 * the password in a URL's user part. Returns the length written. This is
 * the only form of a configuration line that findings, logs and reports may
 * carry.
 */
size_t tw_devconf_mask(enum tw_platform p, const char *text, size_t len, char *out, size_t cap);

/*
 * The context of node n for a finding: its ancestors' masked texts joined
 * with " > " (`line vty 0 4 > transport input telnet` for the transport
 * line, with n itself last). Returns the length written (cut to fit cap).
 */
size_t tw_devconf_path(enum tw_platform p, const struct tw_cfg_node *n, char *out, size_t cap);

#endif
