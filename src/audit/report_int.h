/*
 * report_int.h: what report.c (text, JSON lines, CSV) and report_html.c (the
 * HTML report) share inside src/audit: the report's rows and its helpers.
 * Nothing here is part of the library's surface; include/tidewatch/audit.h
 * has the tw_report API.
 */
#ifndef TW_AUDIT_REPORT_INT_H
#define TW_AUDIT_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tidewatch/arena.h"
#include "tidewatch/audit.h"

/* Longest string a report keeps (longer ones are cut and end in "..."). */
#define TW_REPORT_MAX_STR 4096
/* Caps of one report: bytes of strings, distinct strings, devices, findings. */
#define TW_REPORT_MAX_BYTES    ((size_t)2 << 30)
#define TW_REPORT_MAX_STRINGS  ((size_t)1 << 26)
#define TW_REPORT_MAX_DEVICES  ((size_t)1 << 22)
#define TW_REPORT_MAX_FINDINGS ((size_t)1 << 26)

/* A device as recorded: every string interned, never NULL. */
struct rep_device {
    const char *name;
    const char *hostname;
    const char *path;
    const char *version; /* "" when unknown */
    const char *version_from;
    const char *model;
    const char *error; /* why it could not be read, when failed */
    enum tw_platform platform;
    uint32_t n_lines;
    uint32_t n_nodes;
    uint32_t n_warnings;
    size_t bytes;
    size_t first;                  /* index of its first finding */
    uint32_t n;                    /* its findings */
    uint32_t counts[TW_SEV_COUNT]; /* its findings per severity */
    bool failed;                   /* could not be read: only path and error are set */
};

/* A finding as recorded: strings interned, never NULL. */
struct rep_finding {
    const char *file;
    const char *rule_id;
    const char *title;
    const char *context;
    const char *evidence;
    const char *message;
    const char *touches;
    const char *ref;
    size_t rule;     /* index in the rule set */
    uint32_t device; /* index in devices */
    uint32_t line;
    uint8_t severity;
    char delta; /* '+', '-' or 0 */
    bool implicit;
};

/* One slot of the intern table (open addressing, linear probing). */
struct rep_slot {
    const char *str;
    size_t len;
    uint64_t hash;
};

struct tw_report {
    const struct tw_ruleset *rs; /* borrowed; may be NULL */
    struct tw_arena arena;       /* the interned strings */
    struct rep_slot *slots;
    size_t slots_cap; /* a power of two */
    size_t n_strings;
    struct rep_device *devices;
    size_t n_devices, devices_cap;
    size_t n_errors; /* devices that could not be read */
    struct rep_finding *findings;
    size_t n_findings, findings_cap;
    uint64_t counts[TW_SEV_COUNT];
    bool failed; /* a string could not be kept (out of memory) */
};

/*
 * The report's copy of s: valid UTF-8, at most TW_REPORT_MAX_STR - 1 bytes,
 * shared by equal strings, owned by the report. "" for NULL or empty; NULL
 * when memory or the string cap runs out.
 */
const char *tw__report_intern(struct tw_report *r, const char *s);
/* The findings in writing order (device, severity down, rule, file, line); tw_free it. NULL on
 * ENOMEM. */
const struct rep_finding **tw__report_sorted(const struct tw_report *r);
/* The rule a finding names, or NULL when the report has no rule set or the index is out of it. */
const struct tw_rule_info *tw__report_rule(const struct tw_report *r, size_t rule);
/* "added", "removed" or NULL. */
const char *tw__report_delta_name(char delta);
/* The names of a TW_NEEDS_* set ("config", "operational", "baseline", "intel"); returns how many.
 */
size_t tw__report_needs(unsigned needs, const char *out[4]);
/* The text report's closing summary (the demo prints it alone). */
void tw__report_summary_text(const struct tw_report *r, FILE *out);
/* The HTML report (report_html.c). TW_OK, TW_ENOMEM or TW_EIO. */
int tw__report_write_html(const struct tw_report *r, FILE *out);

#endif
