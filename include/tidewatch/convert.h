/*
 * convert.h: indicator lists to STIX 2.1 and STIX 2.1 to sensor formats.
 *
 * Importers read the lists analysts and feeds actually exchange (one value per
 * line, CSV with a header row, Zeek intel files) and turn every good row into
 * one STIX indicator with a `pattern_type: "stix"` pattern, collected in a
 * bundle. A bad row becomes a problem record (line, column, message) and never
 * stops the rows after it. Output is deterministic: ids are UUIDv5 over
 * TW_CONVERT_NAMESPACE and the canonical pattern (plus the source, when there
 * is one), timestamps come from the caller, and objects are built with a fixed
 * key order, so converting the same input with the same options twice gives
 * byte-identical text.
 *
 * Exporters walk indicator objects, compile their patterns (pattern.h) and
 * write the exact ones as a Zeek intel file or as Suricata dataset files.
 * Everything that cannot be expressed is counted by reason and reported.
 *
 * docs/internals/CONVERT.md describes the formats and decisions in full.
 */
#ifndef TIDEWATCH_CONVERT_H
#define TIDEWATCH_CONVERT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tidewatch/buf.h"
#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

/* Namespace of every id the converter derives (UUIDv5); never change it. */
#define TW_CONVERT_NAMESPACE "8a4c7f0e-2d5b-4e61-9f3a-6b1c0d2e7a95"

/* Hard bounds. Past MAX_INPUT or MAX_ROWS the importer stops with TW_ELIMIT. */
#define TW_CONVERT_MAX_INPUT    ((size_t)256 * 1024 * 1024) /* bytes of input text */
#define TW_CONVERT_MAX_ROWS     ((size_t)2 * 1000 * 1000)   /* data rows per input */
#define TW_CONVERT_MAX_RECORD   ((size_t)1024 * 1024)       /* bytes in one CSV record */
#define TW_CONVERT_MAX_COLUMNS  64                          /* columns in a CSV/Zeek header */
#define TW_CONVERT_MAX_VALUE    ((size_t)8192)              /* bytes in one indicator value */
#define TW_CONVERT_MAX_PROBLEMS 10000 /* problem records kept; later ones are only counted */
#define TW_CONVERT_MAX_OUTPUT   ((size_t)1024 * 1024 * 1024) /* bytes of exporter output */

/* Kinds of indicator value the converter understands. */
enum tw_ioc_kind {
    TW_IOC_NONE = 0,
    TW_IOC_IPV4,        /* 192.0.2.1 */
    TW_IOC_IPV4_CIDR,   /* 192.0.2.0/24 */
    TW_IOC_IPV6,        /* 2001:db8::1 */
    TW_IOC_IPV6_CIDR,   /* 2001:db8::/32 */
    TW_IOC_DOMAIN,      /* example.com */
    TW_IOC_URL,         /* http://example.com/x */
    TW_IOC_EMAIL,       /* a@example.com */
    TW_IOC_MD5,         /* file hash, 32 hex digits */
    TW_IOC_SHA1,        /* file hash, 40 hex digits */
    TW_IOC_SHA256,      /* file hash, 64 hex digits */
    TW_IOC_SHA512,      /* file hash, 128 hex digits */
    TW_IOC_JA3,         /* TLS client fingerprint, 32 hex digits (explicit type only) */
    TW_IOC_JA4,         /* t13d1516h2_8daaf6152771_e5627efa2ab1 (explicit type only) */
    TW_IOC_X509_SHA1,   /* certificate fingerprint (explicit type only) */
    TW_IOC_X509_SHA256, /* certificate fingerprint (explicit type only) */
    TW_IOC_FILE_NAME,   /* file:name (explicit type only) */
    TW_IOC_USER_NAME,   /* user-account:user_id (explicit type only) */
    TW_IOC_SOFTWARE,    /* software:name (explicit type only) */
    TW_IOC__COUNT
};

/* One problem found in the input (importers) or one skipped indicator (exporters). */
struct tw_convert_problem {
    size_t line;   /* 1-based line (importers) or 1-based object position (exporters) */
    size_t column; /* 1-based field number (CSV, Zeek), 0 when not applicable */
    bool warning;  /* true: informational, the row was still converted */
    char msg[200]; /* NUL-terminated; quotes at most a short, sanitised piece of input */
};

/* The problem list both directions share. */
struct tw_convert_problems {
    char *file;                       /* input name the lines refer to (owned), or NULL */
    struct tw_convert_problem *items; /* n items, owned */
    size_t n;
    size_t cap;
    size_t n_dropped; /* problems past TW_CONVERT_MAX_PROBLEMS, counted only */
};

/* Options of the importers. Every pointer is borrowed and may be NULL unless noted. */
struct tw_convert_opts {
    const char *file;         /* name used in problem messages; "<input>" when NULL */
    const char *timestamp;    /* required: RFC 3339 time for created/modified and the
                                 default valid_from; written with millisecond precision */
    const char *source;       /* default source name; adds an identity and created_by_ref */
    const char *default_type; /* plain lists: a type name (as in CSV) applied to every
                                 line, e.g. "ja3"; NULL detects the kind per line */
    const char *tlp;          /* default TLP level for rows without one ("green", ...) */
};

/* What an importer produced. Initialise with tw_convert_result_init. */
struct tw_convert_result {
    json_t *bundle;      /* the STIX bundle (owned; NULL until an import succeeds) */
    size_t n_read;       /* data rows read (no header, comment or blank lines) */
    size_t n_converted;  /* indicators written to the bundle */
    size_t n_rejected;   /* rows with a problem that stopped their conversion */
    size_t n_duplicates; /* rows whose indicator id was already in the bundle */
    size_t n_warnings;   /* warnings recorded (rows converted anyway, ignored columns) */
    struct tw_convert_problems problems;
};

void tw_convert_result_init(struct tw_convert_result *res);
/* Frees the bundle and the problems; the result may be initialised again. */
void tw_convert_result_cleanup(struct tw_convert_result *res);

/*
 * The three importers. Each reads text[0..len) (need not be NUL-terminated)
 * into res, which must be initialised and empty. They return TW_OK when the
 * input could be read as a whole, even if rows were rejected (see res). They
 * return TW_EINVAL for bad options (no timestamp, unknown default type or TLP),
 * TW_ESYNTAX when the file itself is unusable (CSV without a header naming
 * `type` and `value` columns, Zeek data without a `#fields` line naming
 * `indicator` and `indicator_type`), TW_ELIMIT past the TW_CONVERT_MAX_* caps
 * or TW_ENOMEM; err then says why (with the line for TW_ESYNTAX). On any
 * error res->bundle is NULL but the counts and problems so far are kept.
 */
int tw_convert_list(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err) TW_MUST_CHECK;
int tw_convert_csv(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err) TW_MUST_CHECK;
int tw_convert_zeek(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err) TW_MUST_CHECK;

/*
 * Serialises a bundle (or any JSON value) with the converter's stable key
 * order, `indent` spaces per level (0 for one line, at most 31), and a final
 * newline, appending to out. Returns TW_OK, TW_ENOMEM or TW_ELIMIT (out's cap).
 */
int tw_convert_dump(const json_t *bundle, int indent, struct tw_buf *out) TW_MUST_CHECK;

/*
 * Undoes the common defanging forms (hxxp, fxp, [.], (.), {.}, [dot], [@],
 * [at], [:], [://]) in s and appends the result to out. Returns TW_OK,
 * TW_ENOMEM or TW_ELIMIT.
 */
int tw_convert_refang(struct tw_str s, struct tw_buf *out) TW_MUST_CHECK;

/*
 * Maps a type name as CSV and Zeek files write it ("ipv4", "sha256",
 * "Intel::ADDR", "FILE_HASH", ...) to the bit set of kinds it allows, with
 * bit (1u << kind) per kind. The empty name and "auto" allow every kind that
 * can be told apart from the value alone. Returns 0 for an unknown name.
 */
unsigned tw_convert_type_kinds(struct tw_str type_name);

/*
 * Classifies a refanged value among the kinds in `allowed` (a mask from
 * tw_convert_type_kinds) and writes its canonical form (lowercase hashes and
 * domains, compressed IPv6, a /32 or /128 network as a plain address, "http://"
 * added to a scheme-less URL) into out. Returns the kind, or TW_IOC_NONE when
 * the value is none of them.
 */
enum tw_ioc_kind tw_convert_classify(struct tw_str value, unsigned allowed, struct tw_buf *out);

/* Name of a kind ("ipv4", "sha256", ...), for messages. */
const char *tw_convert_kind_name(enum tw_ioc_kind kind);

/*
 * Appends the STIX pattern for a canonical value of `kind` to out, e.g.
 * [ipv4-addr:value ISSUBSET '10.0.0.0/8'], escaping ' and \ in the value.
 * Returns TW_OK, TW_EINVAL for TW_IOC_NONE, TW_ENOMEM or TW_ELIMIT.
 */
int tw_convert_pattern(
        enum tw_ioc_kind kind, struct tw_str value, struct tw_buf *out) TW_MUST_CHECK;

/* ==== Exporters ==== */

/* Why an indicator (or one of its atoms) was not exported. */
enum tw_export_skip {
    TW_SKIP_NOT_STIX = 0, /* pattern_type is not "stix" or the object has no pattern */
    TW_SKIP_REVOKED,      /* revoked: true */
    TW_SKIP_BAD_PATTERN,  /* the pattern does not parse */
    TW_SKIP_NOT_EXACT,    /* its atoms do not decide the match (needs the evaluator) */
    TW_SKIP_UNSUPPORTED,  /* an atom the target format has no type for (per atom) */
    TW_SKIP_BAD_VALUE,    /* an atom value the format cannot carry, e.g. a tab (per atom) */
    TW_SKIP__COUNT
};

/* Counts of an export. Initialise with tw_export_result_init. */
struct tw_export_result {
    size_t n_objects;                    /* objects looked at */
    size_t n_indicators;                 /* of which indicators */
    size_t n_exported;                   /* indicators with at least one line written */
    size_t n_lines;                      /* lines (values) written over all files */
    size_t n_skipped[TW_SKIP__COUNT];    /* indicator-level reasons count indicators,
                                            UNSUPPORTED and BAD_VALUE count atoms */
    struct tw_convert_problems problems; /* one per skip, line = object position */
};

void tw_export_result_init(struct tw_export_result *res);
void tw_export_result_cleanup(struct tw_export_result *res);

/* Short name of a skip reason ("not-exact", ...). */
const char *tw_export_skip_name(enum tw_export_skip reason);

/*
 * Writes a Zeek intel file for `objects` (a JSON array of STIX objects, or a
 * bundle) to out: the #fields header, then one line per exported atom with
 * meta.source = the indicator's name (its id when it has none), meta.desc =
 * its description and meta.url = its first external reference URL. Objects
 * other than indicators are ignored. Returns TW_OK (see res for the skips),
 * TW_EINVAL when objects is neither an array nor a bundle, TW_ENOMEM or
 * TW_ELIMIT (out's cap), with err set.
 */
int tw_export_zeek(const json_t *objects, struct tw_buf *out, struct tw_export_result *res,
        struct tw_err *err) TW_MUST_CHECK;

/* The Suricata datasets the exporter writes, one file each. */
enum tw_suricata_set {
    TW_SURI_IP = 0,    /* tw-ip.lst, type ip: IPv4 and IPv6 addresses */
    TW_SURI_DOMAIN,    /* tw-domains.lst, type string: domain names (base64) */
    TW_SURI_JA3,       /* tw-ja3.lst, type string: JA3 hashes as hex text (base64) */
    TW_SURI_JA4,       /* tw-ja4.lst, type string: JA4 fingerprints (base64) */
    TW_SURI_CERT_SHA1, /* tw-tls-cert-sha1.lst, type string: aa:bb:.. fingerprints (base64) */
    TW_SURI_MD5,       /* tw-md5.lst, type md5: file MD5s (hex) */
    TW_SURI_SHA256,    /* tw-sha256.lst, type sha256: file SHA-256s (hex) */
    TW_SURI_IPREP,     /* tw-iprep.list: CIDRs as IP reputation lines, category 1 */
    TW_SURI__COUNT
};

/* One output file of the Suricata exporter. */
struct tw_suricata_file {
    const char *set_name;  /* dataset or iprep category name (static) */
    const char *file_name; /* suggested file name (static) */
    const char *type;      /* dataset type, or "iprep" (static) */
    const char *rule;      /* suggested rule snippet that loads it (static) */
    struct tw_buf content; /* the file's lines */
    size_t n_lines;
};

/* All Suricata files. Initialise with tw_suricata_out_init. */
struct tw_suricata_out {
    struct tw_suricata_file files[TW_SURI__COUNT];
    struct tw_buf iprep_categories; /* the iprep categories file (one line) */
};

void tw_suricata_out_init(struct tw_suricata_out *out);
void tw_suricata_out_cleanup(struct tw_suricata_out *out);

/*
 * Appends each exact atom of `objects` (array or bundle) to the dataset file
 * of its kind in out. Domains, JA3/JA4 and certificate fingerprints go to
 * string datasets (base64 per line, as Suricata reads them), file hashes to
 * md5/sha256 datasets in hex, addresses to the ip dataset, and CIDRs, which a
 * dataset cannot hold, to an iprep file. Returns as tw_export_zeek.
 */
int tw_export_suricata(const json_t *objects, struct tw_suricata_out *out,
        struct tw_export_result *res, struct tw_err *err) TW_MUST_CHECK;

#endif
