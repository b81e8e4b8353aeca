/*
 * rules_int.h: the rule engine's private types, shared by its files only.
 *
 * rules_parse.c turns rule files (docs/audit-rules.md) into the structures
 * below; rules_regex.c compiles their regexes with PCRE2 and extracts, from
 * each anchored regex, the literal prefixes every matching statement must
 * start with; rules_eval.c evaluates the checks over a parsed device through a
 * per-evaluation index of the statements by parent and first word, so that a
 * regex is only run on statements that can match it; catalogue.c parses the
 * compiled-in catalogue. docs/internals/AUDIT.md describes the design.
 *
 * A rule owns its memory: one arena for its strings, checks and filters, and
 * a list of the PCRE2 codes it compiled, so that a later file can replace a
 * rule in place by freeing the old one. Once parsed, a rule set is read-only:
 * evaluations share it between threads and keep all mutable state (match
 * data, the statement index, the cache of substituted regexes) per call.
 */
#ifndef TW_AUDIT_RULES_INT_H
#define TW_AUDIT_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcre2.h>

#include "tidewatch/arena.h"
#include "tidewatch/audit.h"

/* ==== Limits ==== */

#define TW__RULE_ID_MAX       63                 /* longest rule id */
#define TW__RULE_FILE_MAX     ((size_t)16 << 20) /* longest rule file */
#define TW__RULE_BYTES_MAX    ((size_t)4 << 20)  /* memory of one rule's arena */
#define TW__RULE_CHECKS_MAX   256                /* checks in one rule */
#define TW__RULE_DRIFTS_MAX   64                 /* drift lines in one rule */
#define TW__RULE_FILTERS_MAX  64                 /* filters in one check */
#define TW__RULE_IN_MAX       8                  /* nested `in` of one check */
#define TW__RULE_PREFIXES_MAX 8                  /* literal prefixes kept per regex */
#define TW__RULE_PREFIX_MAX   96                 /* longest literal prefix kept */
#define TW__RULE_NEED_MAX     64                 /* longest required literal kept */
#define TW__RULE_CAPTURES     10                 /* $0 (whole match) and $1..$9 */
#define TW__RULE_REFS_MAX     16                 /* $N substitutions in one regex */
/* Longest regex after `$N` substitution; a longer one counts as no match (regex_limit). */
#define TW__RULE_SUBST_MAX 8192
/*
 * Statements one evaluation may try with substituted regexes (each candidate
 * of such a filter scans anew: quadratic on a hostile configuration); past
 * it those filters see no match, counted in regex_limit.
 */
#define TW__RULE_SUBST_BUDGET 4000000u
/* Bytes of substituted regexes one evaluation keeps compiled. */
#define TW__RULE_SUBST_CACHE_BYTES ((size_t)256 << 10)
/* PCRE2 limits on one match: backtracking steps, depth and heap (KiB). */
#define TW__RULE_MATCH_LIMIT 100000u
#define TW__RULE_DEPTH_LIMIT 1000u
#define TW__RULE_HEAP_LIMIT  4096u

/* ==== Regexes ==== */

/*
 * A literal every statement the regex matches starts with. key_len is the
 * length of its first word when the prefix shows where that word ends (a
 * blank inside it, or `\s` or `$` right after it), else 0: then the prefix
 * cannot pick a bucket of the index and only filters a scan.
 */
struct tw__prefix {
    const char *lit; /* owned by the rule's arena; NUL-terminated */
    uint16_t len;
    uint16_t key_len;
    uint32_t key_hash; /* tw__word_hash of lit[0..key_len) when key_len > 0 */
};

struct tw__regex {
    pcre2_code *code; /* NULL for a template: compiled per evaluation after substitution */
    const char *src;  /* as written between the slashes (for "absent: /re/") */
    uint32_t src_len; /* bytes of src */
    bool caseless;    /* the /i flag */
    bool subst;       /* holds $1..$9 to substitute (with/without/exists/missing only) */
    uint8_t max_ref;  /* highest $N it substitutes */
    uint8_t n_refs;   /* $N substitutions */
    uint16_t ref_off[TW__RULE_REFS_MAX]; /* offset of each `$` in src */
    uint32_t n_groups;                   /* capture groups */
    uint32_t memo;    /* slot of its exists/missing result in an evaluation, or UINT32_MAX */
    uint8_t n_prefix; /* 0: no literal prefix (every statement is tried) */
    struct tw__prefix prefix[TW__RULE_PREFIXES_MAX];
    const char *need; /* a literal every match contains somewhere, or NULL */
    uint16_t need_len;
    uint16_t need_anchor;         /* the byte of need searched for first (the least common) */
    uint32_t line, col;           /* where it is written (1-based; col of the opening slash) */
    struct tw__regex *next_owned; /* the rule's list of regexes (to free their codes) */
};

/* ==== Checks ==== */

enum tw__anchor {
    TW__ANCHOR_NONE = 0,
    TW__ANCHOR_HAS,
    TW__ANCHOR_LACKS,
};

enum tw__filter_kind {
    TW__FILTER_IF = 0,
    TW__FILTER_WITH,
    TW__FILTER_WITHOUT,
    TW__FILTER_EXISTS,
    TW__FILTER_MISSING,
};

enum tw__cmp {
    TW__CMP_EQ = 0,
    TW__CMP_NE,
    TW__CMP_LT,
    TW__CMP_LE,
    TW__CMP_GT,
    TW__CMP_GE,
    TW__CMP_MATCH,  /* =~ */
    TW__CMP_NMATCH, /* !~ */
};

enum tw__operand_kind {
    TW__OPND_CAPTURE = 0, /* $1..$9 */
    TW__OPND_HOSTNAME,    /* $hostname */
    TW__OPND_NUMBER,
    TW__OPND_STRING,
};

struct tw__operand {
    enum tw__operand_kind kind;
    unsigned capture; /* 1..9 for TW__OPND_CAPTURE */
    const char *text; /* literal text (numbers and strings) */
    size_t len;
    double num;   /* value of a number */
    uint32_t col; /* where it is written */
};

struct tw__filter {
    enum tw__filter_kind kind;
    enum tw__cmp cmp;        /* TW__FILTER_IF */
    struct tw__operand a, b; /* TW__FILTER_IF (b unused for =~ and !~) */
    struct tw__regex *re;    /* the regex of with/without/exists/missing, =~ and !~ */
    uint32_t line;
    struct tw__filter *next;
};

struct tw__check {
    unsigned platforms; /* TW_PLAT_BIT set */
    int output;         /* -1: the configuration; else the enum tw_opout it reads */
    struct tw__regex *in[TW__RULE_IN_MAX];
    unsigned n_in;
    enum tw__anchor anchor;
    struct tw__regex *anchor_re;
    struct tw__filter *filters; /* in file order */
    const char *message;        /* "" when none */
    bool implicit;
    int severity; /* enum tw_severity override, or -1 for the rule's */
    uint32_t line;
    struct tw__check *next;
};

struct tw__drift {
    unsigned platforms;
    struct tw__regex *re;
    struct tw__drift *next;
};

struct tw__rule {
    struct tw_rule_info info;
    struct tw__check *checks; /* in file order */
    struct tw__drift *drifts; /* in file order */
    unsigned n_drifts;
    struct tw__regex *regexes; /* every regex of the rule, to free their codes */
    struct tw_arena arena;     /* everything else the rule holds */
};

/* One drift line in the set's dispatch table, once per key of its prefixes. */
struct tw__drift_ref {
    const struct tw__drift *drift;
    uint32_t rule;    /* index of its rule */
    bool fallback;    /* its rule is the `drift` builtin: owns only what no other rule owns */
    uint16_t key_len; /* the first word it is filed under (0: unkeyed) */
    uint32_t key_hash;
    uint32_t next; /* next entry of the same bucket + 1, 0 at the end */
};

/*
 * The drift lines of a set by the first word their statements must start
 * with (drift_owner tries only one bucket and the lines without a key).
 */
struct tw__drift_table {
    struct tw__drift_ref *refs;
    size_t n_refs;
    size_t cap_refs;
    uint32_t *slots; /* bucket heads (entry + 1) */
    size_t n_slots;
    uint32_t *unkeyed; /* entries without a key */
    size_t n_unkeyed;
};

struct tw_ruleset {
    struct tw__rule **rules; /* in file order */
    size_t n_rules;
    size_t cap_rules;
    size_t *id_slots; /* open addressing: rule index + 1, 0 when empty */
    size_t n_id_slots;
    uint32_t n_memo; /* exists/missing result slots handed out so far */
    bool no_jit;     /* compile without JIT (tests of the fallback) */
    bool no_index;   /* evaluate without prefixes and index (benchmark baseline) */
    pcre2_general_context *gctx;
    pcre2_compile_context *cctx;
    pcre2_match_context *mctx; /* limits; read-only once created */
    struct tw__drift_table drift;
};

/* ==== Shared helpers ==== */

/* FNV-1a over the ASCII-lowercased bytes of a word. */
static inline uint32_t tw__word_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)tw_ascii_lower(p[i]);
        h *= 16777619u;
    }
    return h;
}

/* True for the bytes that end a statement's first word (PCRE2's \s). */
static inline bool tw__word_end(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Compiles re->src (flags from re) into re->code or, when allow_subst and it
 * holds `$1`..`$9`, makes it a template (code NULL) after checking that it
 * compiles with its `$N` replaced by a literal. Extracts the literal
 * prefixes (arena a holds them). On error returns TW_ESYNTAX (a message in
 * msg: PCRE2's, or a `$N` where none is substituted; *err_off is the offset
 * in src), TW_ELIMIT (too many `$N`) or TW_ENOMEM.
 */
int tw__regex_compile(const struct tw_ruleset *rs, struct tw__regex *re, bool allow_subst,
        struct tw_arena *a, char *msg, size_t msg_cap, size_t *err_off) TW_MUST_CHECK;

/*
 * Writes into out the template re with each `$N` replaced by capture N,
 * escaped so that it matches literally; caps[N] is a slice (NULL ptr: empty).
 * Returns the length, or (size_t)-1 when it would not fit in cap bytes.
 */
size_t tw__regex_subst(const struct tw__regex *re, const struct tw_str caps[TW__RULE_CAPTURES],
        char *out, size_t cap);

/*
 * The prefilter: false when re cannot match text because text does not
 * start with one of its prefixes or lacks its required literal.
 */
bool tw__regex_prefilter(const struct tw__regex *re, const char *text, size_t len);

/* True when s[0..n) is a decimal number (optional sign, digits, optional fraction); *out its value.
 */
bool tw__rules_number(const char *s, size_t n, double *out);

/* Frees the PCRE2 codes of a rule's regexes. */
void tw__regex_free_all(struct tw__regex *list);

/*
 * The drift table of a set: allocated for at most cap entries (TW_OK or
 * TW_ENOMEM), filled from the set's rules (cannot fail once allocated), freed.
 */
int tw__drift_table_alloc(struct tw__drift_table *t, size_t cap) TW_MUST_CHECK;
void tw__drift_table_fill(struct tw__drift_table *t, const struct tw_ruleset *rs);
void tw__drift_table_free(struct tw__drift_table *t);
/* Entries a rule's drift lines need in the table. */
size_t tw__drift_table_need(const struct tw__rule *r);

/* Test and benchmark switches; call before parsing. */
void tw__ruleset_set_jit(struct tw_ruleset *rs, bool on);
void tw__ruleset_set_index(struct tw_ruleset *rs, bool on);

#endif
