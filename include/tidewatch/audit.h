/*
 * audit.h: auditing device configurations against rules, vulnerability data,
 * the intelligence index and a known-good baseline.
 *
 * The parts, each in its own file under src/audit/:
 *
 *   rule set   rules written as data (docs/audit-rules.md), parsed from rule
 *              files and evaluated over a parsed device (devconf.h);
 *   vuln data  software versions against the campaign's CVEs
 *              (docs/audit-rules.md, "Vulnerability data");
 *   builtins   rules whose logic is code but whose id, severity and texts
 *              come from the rule file: every IP literal against the
 *              intelligence index, the vulnerable-version rules, the
 *              undeterminable-version rule, drift against a baseline;
 *   report     findings of a fleet as text, JSON lines, CSV and one HTML file.
 *
 * A finding names the device, rule, severity, file and line, and carries
 * evidence masked by tw_devconf_mask: no secret of a configuration ever
 * reaches a finding. See docs/internals/AUDIT.md.
 */
#ifndef TIDEWATCH_AUDIT_H
#define TIDEWATCH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tidewatch/common.h"
#include "tidewatch/devconf.h"
#include "tidewatch/err.h"
#include "tidewatch/index.h"
#include "tidewatch/str.h"

/* ==== Severities ==== */

enum tw_severity {
    TW_SEV_INFO = 0,
    TW_SEV_LOW,
    TW_SEV_MEDIUM,
    TW_SEV_HIGH,
    TW_SEV_CRITICAL,
    TW_SEV_COUNT,
};

/* "info", "low", "medium", "high", "critical". */
const char *tw_severity_name(enum tw_severity s);
/* Parses a name of tw_severity_name, ASCII case-insensitively. TW_OK or TW_EINVAL. */
int tw_severity_parse(struct tw_str s, enum tw_severity *out) TW_MUST_CHECK;

/* ==== Rules ==== */

/* What a rule needs (its `needs` line). */
#define TW_NEEDS_CONFIG      0x01u
#define TW_NEEDS_OPERATIONAL 0x02u
#define TW_NEEDS_BASELINE    0x04u
#define TW_NEEDS_INTEL       0x08u

/* Rules whose logic is code (`builtin NAME` in a rule). */
enum tw_builtin {
    TW_BUILTIN_NONE = 0,
    TW_BUILTIN_IOC_ADDRESSES,   /* "ioc-addresses": IP literals found in the intelligence index */
    TW_BUILTIN_CVE,             /* "cve": vulnerability data rows that name this rule */
    TW_BUILTIN_VERSION_UNKNOWN, /* "version-unknown": the exact version cannot be determined */
    TW_BUILTIN_DRIFT,           /* "drift": changes against the baseline */
    TW_BUILTIN_COUNT,
};

const char *tw_builtin_name(enum tw_builtin b);

/* A rule as written. Strings are owned by the rule set and never NULL. */
struct tw_rule_info {
    const char *id; /* "AUD-MGT-01" */
    const char *title;
    const char *rationale;
    const char *remediation;
    const char *source;
    enum tw_severity severity;
    unsigned needs;     /* TW_NEEDS_* */
    unsigned platforms; /* TW_PLAT_BIT set: platforms of its checks (or builtin: all) */
    enum tw_builtin builtin;
    unsigned n_checks;
    const char *file; /* the rule file and line where the rule starts */
    uint32_t line;
};

struct tw_ruleset;

/* An empty rule set; NULL on ENOMEM. */
struct tw_ruleset *tw_ruleset_new(void);
void tw_ruleset_free(struct tw_ruleset *rs);

/*
 * Parses one rule file (path names it in errors; may be NULL) and adds its
 * rules. A rule whose id is already in the set replaces the earlier one in
 * place (so a user's file can override a shipped rule). All or nothing: on
 * error no rule of this file is added and err names the line and column.
 * TW_OK, TW_ESYNTAX (grammar, bad regex, unknown keyword or platform),
 * TW_ELIMIT (over TW_RULES_MAX rules or an over-long line) or TW_ENOMEM.
 */
int tw_ruleset_parse(struct tw_ruleset *rs, const char *text, size_t len, const char *path,
        struct tw_err *err) TW_MUST_CHECK;

/* Most rules in one set, and longest rule-file line. */
#define TW_RULES_MAX     4096
#define TW_RULE_LINE_MAX 4096

/* The shipped catalogue, compiled in (the files of rules/). TW_OK or an error of tw_ruleset_parse.
 */
int tw_ruleset_add_builtin_catalogue(struct tw_ruleset *rs, struct tw_err *err) TW_MUST_CHECK;

size_t tw_ruleset_count(const struct tw_ruleset *rs);
/* Rule i (0 <= i < count), in file order. */
const struct tw_rule_info *tw_ruleset_rule(const struct tw_ruleset *rs, size_t i);
/* Index of the rule with this id, or -1. */
long tw_ruleset_find(const struct tw_ruleset *rs, const char *id);

/*
 * The rule whose `drift` patterns own this top-level statement of a device of
 * platform p (the most severe owner, the first in file order among equals),
 * or -1 when no rule owns it: drift ignores statements no rule owns.
 */
long tw_ruleset_drift_owner(
        const struct tw_ruleset *rs, enum tw_platform p, const char *text, size_t len);

/* ==== Findings ==== */

/*
 * One finding. Everything is borrowed for the duration of the callback;
 * every string is masked already and never NULL ("" when absent).
 */
struct tw_finding {
    const char *device; /* device name (devconf.h) */
    const char *file;   /* the file the evidence is in (a config or an output) */
    enum tw_platform platform;
    size_t rule; /* index in the rule set */
    const char *rule_id;
    enum tw_severity severity; /* the rule's, or its check's override */
    const char *title;
    uint32_t line;        /* 1-based line of the evidence, 0 when it is an absence at top level */
    const char *context;  /* tw_devconf_path of the evidence's parent, "" at top level */
    const char *evidence; /* the masked statement, or what is missing ("absent: /^no vstack$/") */
    const char *message; /* the check's message, or the builtin's detail (CVE, indicator, change) */
    bool implicit;       /* rests on a platform default rather than an explicit line */
    char delta;          /* drift: '+' added since the baseline, '-' removed; 0 otherwise */
    const char *touches; /* drift: the id of the rule that owns the changed stanza, else "" */
    const char *ref;     /* builtins: CVE id or STIX indicator id; "" otherwise */
};

/* Receives findings; a non-zero return stops the evaluation and is returned. */
typedef int (*tw_finding_fn)(void *ctx, const struct tw_finding *f);

/* Counters of one evaluation. */
struct tw_rule_stats {
    uint64_t checks_run;     /* checks evaluated (platform matched) */
    uint64_t checks_skipped; /* checks not evaluated: their operational output was not supplied */
    uint64_t findings;
    uint64_t regex_limit; /* regex matches stopped by the match limit (counted as no match) */
};

/*
 * Evaluates every non-builtin rule of rs on device d, in rule order, calling
 * fn for each finding (one per rule and evidence line). Thread-safe for
 * concurrent calls on distinct devices. TW_OK, fn's non-zero return, or
 * TW_ENOMEM.
 */
int tw_ruleset_eval(const struct tw_ruleset *rs, const struct tw_devconf *d, tw_finding_fn fn,
        void *ctx, struct tw_rule_stats *stats) TW_MUST_CHECK;

/* ==== Vulnerability data ==== */

struct tw_vulndb;

/*
 * Parses vulnerability data (docs/audit-rules.md, "Vulnerability data"):
 * rows of CVE, platform, train, fixed release or "unknown", KEV flag, the
 * rule that reports it, the rules whose findings are its precondition, and
 * the source. All or nothing; err names the line. TW_OK, TW_ESYNTAX,
 * TW_ELIMIT or TW_ENOMEM.
 */
int tw_vulndb_parse(const char *text, size_t len, const char *path, struct tw_vulndb **out,
        struct tw_err *err) TW_MUST_CHECK;
/* The shipped data, compiled in (data/audit/cves.tsv). */
int tw_vulndb_builtin(struct tw_vulndb **out, struct tw_err *err) TW_MUST_CHECK;
void tw_vulndb_free(struct tw_vulndb *db);
size_t tw_vulndb_count(const struct tw_vulndb *db);

/*
 * Compares two versions of platform p's family: *out < 0, 0 or > 0.
 * IOS XE 17.9.4a, IOS 15.2(4)E10, NX-OS 9.3(5) / 7.3(13)N1(1), IOS XR 7.9.2,
 * Junos 22.4R3-S2.11. TW_OK, or TW_EINVAL when either is not a version of
 * that family.
 */
int tw_version_cmp(enum tw_platform p, const char *a, const char *b, int *out) TW_MUST_CHECK;

/* What the data says of one CVE for one device. */
enum tw_vuln_state {
    TW_VULN_AFFECTED, /* in an affected train, below its fixed release */
    TW_VULN_UNKNOWN,  /* the platform is affected but the data has no fixed release for its train,
                         or the device's version cannot be determined */
};

struct tw_vuln_hit {
    const char *cve;
    const char *rule_id;  /* the rule that reports it */
    const char *requires; /* rule ids ("|"-separated) one of which must have fired, "" = none */
    const char *train;
    const char *fixed; /* "" when unknown */
    const char *source;
    bool kev;
    enum tw_vuln_state state;
};

typedef int (*tw_vuln_fn)(void *ctx, const struct tw_vuln_hit *h);

/*
 * Calls fn for each CVE of the data that applies to a device of platform p
 * running version (NULL or "" when not determinable: every CVE of the
 * platform is then TW_VULN_UNKNOWN). TW_OK or fn's non-zero return.
 */
int tw_vulndb_check(const struct tw_vulndb *db, enum tw_platform p, const char *version,
        tw_vuln_fn fn, void *ctx) TW_MUST_CHECK;

/* ==== Auditing a device ==== */

struct tw_audit_config {
    const struct tw_ruleset *rules; /* required */
    const struct tw_vulndb *vulns;  /* NULL: no vulnerable-version findings */
    const struct tw_index *intel;   /* NULL: no IOC-address findings */
    bool respect_validity;          /* ignore indicators not valid now (hunt's meaning) */
    enum tw_severity min_severity;  /* findings below are not reported */
};

struct tw_audit_stats {
    struct tw_rule_stats rules;
    uint64_t ip_literals;   /* IP literals checked against the intelligence */
    uint64_t drift_changes; /* changes against the baseline */
};

/*
 * Audits one device: its rules, then the builtins (IOC addresses, versions,
 * drift when baseline is not NULL). Findings go to fn in a stable order.
 * TW_OK, fn's non-zero return, or TW_ENOMEM.
 */
int tw_audit_device(const struct tw_audit_config *c, const struct tw_devconf *d,
        const struct tw_devconf *baseline, tw_finding_fn fn, void *ctx,
        struct tw_audit_stats *stats) TW_MUST_CHECK;

/*
 * Drift alone: the statements of d and baseline that rules own (their
 * `drift` patterns), compared as sets of "stanza > line" paths with
 * volatile lines ignored; each added or removed line is a finding of the
 * `drift` builtin rule, with the owning rule's id in `touches` and its
 * severity. TW_OK, fn's non-zero return, or TW_ENOMEM.
 */
int tw_audit_drift(const struct tw_ruleset *rs, const struct tw_devconf *d,
        const struct tw_devconf *baseline, tw_finding_fn fn, void *ctx,
        uint64_t *n_changes) TW_MUST_CHECK;

/* ==== Reports ==== */

enum tw_report_format {
    TW_REPORT_TEXT = 0, /* grouped by device, then severity */
    TW_REPORT_JSONL,    /* one JSON object per finding */
    TW_REPORT_CSV,      /* RFC 4180, a header row */
    TW_REPORT_HTML,     /* one self-contained file for the fleet */
};

int tw_report_format_parse(struct tw_str s, enum tw_report_format *out) TW_MUST_CHECK;

/*
 * A report collects the findings of a fleet (copied: the devices may be freed
 * once audited) and the devices' summaries, then writes them in one format.
 */
struct tw_report;

/* A report over the rule set rs (borrowed; its texts fill the HTML report). NULL on ENOMEM. */
struct tw_report *tw_report_new(const struct tw_ruleset *rs);
void tw_report_free(struct tw_report *r);
/* Records a device (call before its findings). TW_OK or TW_ENOMEM. */
int tw_report_device(struct tw_report *r, const struct tw_devconf *d) TW_MUST_CHECK;
/* Records a device that could not be read: its path and the error. TW_OK or TW_ENOMEM. */
int tw_report_device_error(
        struct tw_report *r, const char *path, const struct tw_err *err) TW_MUST_CHECK;
/* A tw_finding_fn: ctx is the report. Copies f. */
int tw_report_add(void *ctx, const struct tw_finding *f);
/* Highest severity among the findings, or -1 when there are none. */
int tw_report_max_severity(const struct tw_report *r);
/* Counts of findings per severity. */
void tw_report_counts(const struct tw_report *r, uint64_t out[TW_SEV_COUNT]);
/* Writes the report. TW_OK or TW_EIO. */
int tw_report_write(const struct tw_report *r, enum tw_report_format fmt, FILE *out) TW_MUST_CHECK;

#endif
