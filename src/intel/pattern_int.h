/*
 * pattern_int.h: the compiled form of a STIX pattern, shared by the files of
 * the pattern module and nothing else.
 *
 * pattern_parse.c builds the tree (lexer, recursive-descent parser, semantic
 * checks), pattern_format.c prints it and extracts index atoms, and
 * pattern_match.c evaluates it against observations. Every node, literal and
 * string lives in the pattern's arena; compiled regular expressions live
 * outside it and are chained on the pattern so tw_pattern_free can release
 * them. Chains of the same binary operator are flattened into one n-ary node,
 * so the tree is only as deep as the text's nesting, which the parser caps at
 * TW_PATTERN_MAX_DEPTH; every recursive walk relies on that.
 */
#ifndef TIDEWATCH_INTEL_PATTERN_INT_H
#define TIDEWATCH_INTEL_PATTERN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tidewatch/arena.h"
#include "tidewatch/pattern.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"

/* Cap on the steps of one object path (a.b[0].c has four). */
#define TW__PATTERN_MAX_PATH_STEPS 64
/* Cap on the distinct object types one bracket may name. */
#define TW__PATTERN_MAX_TYPES 256

/* ==== Literals ==== */

enum tw__lit_kind {
    TW__LIT_STR = 0, /* 'text' */
    TW__LIT_INT,     /* 42, -7 */
    TW__LIT_FLOAT,   /* 1.5, -.25 */
    TW__LIT_BOOL,    /* true, false */
    TW__LIT_TIME,    /* t'2024-01-01T00:00:00Z' */
    TW__LIT_HEX,     /* h'00ff' */
    TW__LIT_BIN,     /* b'AAE=' */
};

struct tw__lit {
    enum tw__lit_kind kind;
    size_t off;           /* byte offset of the literal in the text */
    struct tw_str text;   /* STR: unescaped content; INT: decimal; FLOAT: canonical digits;
                             BOOL: true/false; TIME: the timestamp; HEX: lowercase digits;
                             BIN: the base64 text. This is also the atom value. */
    int64_t i;            /* INT */
    double f;             /* FLOAT (and INT converted) */
    bool b;               /* BOOL */
    struct tw_time t;     /* TIME */
    const uint8_t *bytes; /* HEX, BIN: decoded bytes */
    size_t n_bytes;
};

/* ==== Object paths ==== */

enum tw__step_kind {
    TW__STEP_KEY = 0, /* .name or .'quoted name' (and the first component) */
    TW__STEP_INDEX,   /* [n]; negative n counts from the end */
    TW__STEP_ANY,     /* [*] */
};

struct tw__step {
    enum tw__step_kind kind;
    struct tw_str key; /* KEY: unescaped name */
    int64_t index;     /* INDEX */
};

struct tw__path {
    struct tw_str type;     /* object type, e.g. "network-traffic" */
    struct tw__step *steps; /* n_steps >= 1; steps[0] is a KEY */
    size_t n_steps;
    struct tw_str canon; /* canonical text after the colon, e.g. "hashes.'SHA-256'" */
    size_t off;          /* byte offset of the path in the text */
    size_t type_slot;    /* index of `type` in the enclosing bracket's type table */
};

/* ==== Comparison expressions (inside brackets) ==== */

enum tw__cmp_op {
    TW__OP_EQ = 0,
    TW__OP_NE,
    TW__OP_LT,
    TW__OP_LE,
    TW__OP_GT,
    TW__OP_GE,
    TW__OP_IN,
    TW__OP_LIKE,
    TW__OP_MATCHES,
    TW__OP_ISSUBSET,
    TW__OP_ISSUPERSET,
    TW__OP_EXISTS,
};

/* An address or network from an ISSUBSET/ISSUPERSET literal or a property. */
struct tw__cidr {
    uint8_t family; /* 4 or 6 */
    uint8_t prefix; /* 0..32 or 0..128 */
    uint8_t addr[16];
};

enum tw__cmp_kind {
    TW__CMP_TEST = 0, /* one comparison */
    TW__CMP_AND,
    TW__CMP_OR,
};

struct tw__cmp {
    enum tw__cmp_kind kind;
    /* AND, OR */
    struct tw__cmp **kids;
    size_t n_kids;
    /* TEST */
    struct tw__path path;
    enum tw__cmp_op op;
    bool negated;         /* NOT before the operator */
    struct tw__lit *lits; /* one literal; IN: the set's elements; EXISTS: none */
    size_t n_lits;
    struct tw__cidr cidr; /* ISSUBSET, ISSUPERSET */
    pcre2_code *re;       /* MATCHES */
};

/* ==== Observation expressions ==== */

enum tw__obs_kind {
    TW__OBS_BRACKET = 0, /* [ comparison expression ] */
    TW__OBS_AND,
    TW__OBS_OR,
    TW__OBS_FOLLOWEDBY,
    TW__OBS_WITHIN,  /* kid WITHIN n SECONDS */
    TW__OBS_REPEATS, /* kid REPEATS n TIMES */
    TW__OBS_STARTSTOP,
};

/* Qualifier kinds as bits, for "at most one of each per expression". */
#define TW__QUAL_WITHIN    0x1u
#define TW__QUAL_REPEATS   0x2u
#define TW__QUAL_STARTSTOP 0x4u

struct tw__obs {
    enum tw__obs_kind kind;
    /* BRACKET */
    struct tw__cmp *cmp;
    struct tw_str *types; /* distinct object types the comparison mentions */
    size_t n_types;
    size_t leaf_id; /* 0..n_leaves-1, indexes per-leaf match caches */
    /* AND, OR, FOLLOWEDBY: n_kids >= 2; qualifiers: one kid */
    struct tw__obs **kids;
    size_t n_kids;
    /* WITHIN */
    struct tw__lit within; /* INT or FLOAT, > 0 */
    /* REPEATS */
    int64_t repeats;
    /* STARTSTOP */
    struct tw__lit start, stop;
};

struct tw_regex_link {
    pcre2_code *re;
    struct tw_regex_link *next;
};

struct tw_pattern {
    struct tw_arena arena;
    struct tw__obs *root;
    size_t n_leaves;               /* bracket count */
    struct tw_regex_link *regexes; /* compiled MATCHES operands, freed with the pattern */
};

/* ==== Cross-file helpers ==== */

/*
 * Parses an IPv4/IPv6 address with an optional /prefix. Strict: dotted quads
 * without leading zeros, RFC 4291 text for IPv6, prefix within the family's
 * width. A bare address gets the full prefix. Returns true on success.
 */
bool tw__pattern_cidr_parse(struct tw_str s, struct tw__cidr *out);

/* True when the network `inner` lies inside `outer` (same family). */
bool tw__pattern_cidr_within(const struct tw__cidr *inner, const struct tw__cidr *outer);

/*
 * Decodes canonical base64 (padding required, no whitespace) into out, which
 * must hold at least s.len / 4 * 3 bytes. Returns the decoded length, or -1
 * when s is not valid base64.
 */
long tw__pattern_b64_decode(struct tw_str s, uint8_t *out);

/* True for the keywords that a bare property name cannot be. */
bool tw__pattern_is_keyword(struct tw_str s);

#endif
