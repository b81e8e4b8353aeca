/*
 * devconf_int.h: what the files of the device-configuration parser share, and
 * nothing else includes.
 *
 * devconf.c owns the entry points (tw_devconf_parse, outputs, paths, names),
 * the memory of a device (one arena per tw_devconf, holding a copy of the
 * input, every node and every string), warnings and the final fill-in of the
 * device's metadata. devconf_meta.c recognises what collectors and `show
 * version` write (versions, models, platform hints, last change) and guesses
 * platforms. devconf_ios.c builds the indentation tree of the IOS family,
 * devconf_junos.c flattens Junos brace and set forms into set-form
 * statements, and devconf_mask.c masks secrets. Parsers make one pass over
 * the text, allocate only from the arena (plus one reusable scratch buffer
 * in the Junos parser) and never use regexes.
 */
#ifndef TIDEWATCH_AUDIT_DEVCONF_INT_H
#define TIDEWATCH_AUDIT_DEVCONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/arena.h"
#include "tidewatch/devconf.h"
#include "tidewatch/str.h"

/* Size of the arena's usual block; a big input copy gets a block of its own. */
#define TW__DEVCONF_BLOCK ((size_t)64 * 1024)
/* Cap on a device's arena: nodes and strings may take this many bytes per input byte, plus a base.
 */
#define TW__DEVCONF_ARENA_PER_BYTE 32u
#define TW__DEVCONF_ARENA_BASE     ((size_t)16 << 20)
/* Longest version, model or user name kept from the inputs. */
#define TW__META_MAX 63u

/* The private part of a tw_devconf. */
struct tw__devconf_mem {
    struct tw_arena arena;
    struct tw_cfg_warning *warnings; /* TW_CFG_MAX_WARNINGS slots, from the arena, on first use */
    uint32_t n_kept;                 /* warnings stored */
    bool limit_hit;                  /* an allocation failed because of the arena's cap */
};

/*
 * Facts read from collector comments, `show version` or the configuration
 * itself. Slices point into the device's copy of its input. A candidate of a
 * higher rank replaces a lower one; `from` names the source of the version.
 */
struct tw__meta {
    struct tw_str version;
    int version_rank;
    const char *version_from;
    struct tw_str model;
    int model_rank;
    struct tw_str last_by; /* "Last configuration change ... by U", "Last commit: ... by U" */
    struct tw_str train;   /* IOS-family `version 17.9` */
    struct tw_str hostname;
    bool says_ios;   /* "Cisco IOS Software" */
    bool says_xe;    /* "IOS XE", "IOS-XE", an iosxe image name */
    bool says_nxos;  /* "Cisco Nexus Operating System", "NXOS: version" */
    bool says_xr;    /* "IOS XR" */
    bool says_asa;   /* "Adaptive Security Appliance" */
    bool says_junos; /* "Junos:", "JUNOS Software Release" */
};

/* Ranks of version candidates: a config statement, then what collectors and show version say. */
#define TW__RANK_CONFIG  1
#define TW__RANK_WEAK    2 /* kickstart versions, image strings */
#define TW__RANK_GOOD    4 /* the IOS line of an IOS XE show version; JUNOS Software Release */
#define TW__RANK_DEFINED 5 /* "Cisco IOS XE Software, Version", "NXOS: version", "Junos:" */

/*
 * The state every platform parser fills: the device, the tail of the
 * top-level list and the metadata seen so far.
 */
struct tw__cfg_ctx {
    struct tw_devconf *d;
    struct tw__devconf_mem *mem;
    struct tw__meta meta;
    struct tw_cfg_node *root_tail; /* last top-level statement, NULL when none */
    char *text;                    /* the device's copy of its input (writable, NUL-terminated) */
    size_t len;
    enum tw_platform platform;
};

/* ==== devconf.c ==== */

/* Allocates from the device's arena; NULL on failure (and records a cap hit). */
void *tw__cfg_alloc(struct tw__devconf_mem *m, size_t n);
/* A new node (zeroed but for text, len and line); NULL on failure. */
struct tw_cfg_node *tw__cfg_node_new(
        struct tw__cfg_ctx *c, const char *text, size_t len, uint32_t line);
/* Appends a top-level statement to the device (root.child list). */
void tw__cfg_append_top(struct tw__cfg_ctx *c, struct tw_cfg_node *n);
/* Records a warning about `line` (message formatted, never holding input text). */
void tw__cfg_warn(struct tw__cfg_ctx *c, uint32_t line, const char *fmt, ...) TW_PRINTF(3, 4);

/* ==== devconf_meta.c ==== */

/*
 * Reads one comment or `show version` line (its comment marks and leading
 * blanks removed) into m. from is the version_from value for versions found
 * in it ("comments" or "show-version").
 */
void tw__meta_line(struct tw__meta *m, const char *s, size_t n, const char *from);
/* Reads one top-level configuration statement of an IOS-family device (version, hostname, boot).
 */
void tw__meta_ios_statement(struct tw__meta *m, const char *s, size_t n);
/* Reads one Junos statement in set form (version, system host-name). */
void tw__meta_junos_statement(struct tw__meta *m, const char *s, size_t n);
/*
 * Writes the normalised form of version v for platform p into out (cap
 * bytes): IOS / IOS XE / IOS XR lose zero padding (17.09.04a -> 17.9.4a).
 * Returns the length.
 */
size_t tw__version_normalise(enum tw_platform p, struct tw_str v, char *out, size_t cap);
/* True when the train (`version 16.x` or later) says IOS XE. */
bool tw__train_is_xe(struct tw_str train);
/* Case-sensitive search for lit in s; index or -1. */
long tw__find(const char *s, size_t n, const char *lit);
/* ASCII case-insensitive search. */
long tw__find_nocase(const char *s, size_t n, const char *lit);

/* ==== devconf_ios.c, devconf_junos.c ==== */

/* Builds the statements of c->text. TW_OK, TW_ENOMEM or TW_ELIMIT (warnings for bad lines). */
int tw__ios_parse(struct tw__cfg_ctx *c) TW_MUST_CHECK;
int tw__junos_parse(struct tw__cfg_ctx *c) TW_MUST_CHECK;

/* True when the text holds a redaction marker (<secret hidden>, <removed>, ...). */
bool tw__has_redaction(const char *s, size_t n);

#endif
