/*
 * stix_int.h: what the STIX reader's files share (stix.c reads documents and
 * owns the bundle, stix_check.c holds the property checks, stix_types.c the
 * per-type tables). Nothing here is part of the library's surface.
 *
 * Checking walks one object at a time with a struct tw__stix_ctx that knows
 * the object being checked and the JSON path of the value being looked at.
 * Every check reports through tw__stix_report, which records a problem with
 * the current path and never stops the walk.
 */
#ifndef TIDEWATCH_STIX_INT_H
#define TIDEWATCH_STIX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tidewatch/stix.h"

/* A recorded problem and the one allocation holding its three strings. */
struct tw__stix_problem_rec {
    struct tw_stix_problem pub;
    char *mem;
};

struct tw_stix_bundle {
    char *name;   /* label for messages */
    json_t *root; /* the whole document */
    enum tw_stix_container container;
    const char *id;              /* borrowed from root, or NULL */
    struct tw_stix_object *objs; /* n_objs records */
    size_t n_objs;
    size_t n_valid;
    struct tw__stix_problem_rec *problems;
    size_t n_problems;
    size_t cap_problems;
    size_t n_errors; /* including those past the cap */
    size_t n_warnings;
    size_t n_dropped;   /* problems past TW_STIX_MAX_PROBLEMS */
    uint32_t *id_slots; /* open addressing: object index + 1 of each id's latest version */
    size_t n_id_slots;  /* power of two, or 0 */
    json_t *tlp_local;  /* non-canonical marking id -> TLP level */
    unsigned flags;
    bool oom; /* an allocation failed while recording */
};

/* One step of a JSON path: an object key, or an array index when key is NULL. */
struct tw__stix_seg {
    const char *key; /* borrowed: must outlive the push (jansson keys, literals) */
    size_t n;        /* the key's length (SIZE_MAX: up to its NUL), or the index */
};

/*
 * Steps kept for the path. Each step is at least two characters (".k",
 * "[0]", "['']"), so steps past this many never fit in TW_STIX_MAX_PATH.
 */
#define TW__STIX_MAX_SEGS (TW_STIX_MAX_PATH / 2)

/*
 * Where the checker is. The path always starts with "$". Pushing a step
 * only records it: the text (".key", "['key']", "[i]", cut with "..." past
 * TW_STIX_MAX_PATH) is formatted by tw__stix_report, as most checks report
 * nothing.
 */
struct tw__stix_ctx {
    struct tw_stix_bundle *b;
    struct tw_stix_object *obj; /* NULL for document-level checks */
    size_t index;               /* obj's index, or TW_NOPOS */
    const char *label;          /* id, "objects[N]" or the bundle's label */
    char label_buf[48];
    size_t n_segs; /* steps pushed, including any past segs[] */
    struct tw__stix_seg segs[TW__STIX_MAX_SEGS];
};

/* Property value kinds the tables use. */
enum tw__stix_pk {
    PK_ANY = 0, /* any JSON value */
    PK_STRING,  /* string */
    PK_TIME,    /* STIX timestamp */
    PK_INT,     /* integer within [min, max] */
    PK_FLOAT,   /* number within [min, max] */
    PK_BOOL,    /* true / false */
    PK_STRLIST, /* non-empty list of strings */
    PK_REF,     /* identifier, target type from `targets` */
    PK_REFS,    /* non-empty list of identifiers */
    PK_KCP,     /* kill_chain_phases */
    PK_HASHES,  /* hashes dictionary */
    PK_DICT,    /* JSON object */
    PK_OBJLIST, /* non-empty list of JSON objects */
    PK_LIST,    /* non-empty list of anything */
    PK_HEX,     /* string of hex digits */
    PK_BINARY,  /* base64 string */
};

#define PF_REQ 0x1u /* required */

/*
 * One property of a type. `targets` restricts reference targets: a space
 * separated list of type names and the classes "@sdo", "@sco", "@sro",
 * "@core" (SDO or SCO) and "@any"; NULL means any identifier.
 */
struct tw__stix_prop {
    const char *name;
    enum tw__stix_pk kind;
    unsigned flags;
    const char *targets;
    int64_t min;
    int64_t max;
};

typedef void tw__stix_check_fn(struct tw__stix_ctx *c, const json_t *o);

struct tw__stix_type {
    const char *name;
    enum tw_stix_kind kind;
    const struct tw__stix_prop *props; /* ends with a row whose name is NULL */
    tw__stix_check_fn *check;          /* checks beyond the table, or NULL */
    const char *id_props;              /* SCO id-contributing properties, space separated */
};

/* ==== stix.c ==== */

void tw__stix_report(struct tw__stix_ctx *c, enum tw_stix_severity sev, const char *fmt, ...)
        TW_PRINTF(3, 4);
/*
 * Pushes ".key" (or "['key']") / "[i]" on the path; returns the mark for pop.
 * The key is borrowed until it is popped.
 */
size_t tw__stix_push_key(struct tw__stix_ctx *c, const char *key);
size_t tw__stix_push_index(struct tw__stix_ctx *c, size_t i);
void tw__stix_pop(struct tw__stix_ctx *c, size_t mark);

/* ==== stix_types.c ==== */

const struct tw__stix_type *tw__stix_type_find(const char *name);

/* ==== stix_check.c ==== */

/* Checks one object (c->obj) completely: common properties, its type's table, customs. */
void tw__stix_check_object(struct tw__stix_ctx *c, const json_t *o);
/* Checks one property value against a table row; the path must already point at it. */
void tw__stix_check_value(struct tw__stix_ctx *c, const struct tw__stix_prop *p, const json_t *v);
/* Reads a timestamp property; reports bad ones. True when present and valid. */
bool tw__stix_get_time(struct tw__stix_ctx *c, const json_t *o, const char *key, unsigned flags,
        struct tw_time *out);
/* Reports when both are present and `later` is before `earlier` (or not after, when strict). */
void tw__stix_check_order(struct tw__stix_ctx *c, const json_t *o, const char *earlier,
        const char *later, bool strict);
/* Whether a reference to `type` is allowed by a `targets` list. */
bool tw__stix_target_ok(struct tw_str type, const char *targets);

/*
 * json_fast.c: the tree json_loadb(data, len, JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY) would build, for plain well-formed JSON; NULL when the
 * text needs jansson's own loader (an error, or a case this does not handle).
 */
json_t *tw__json_fast_load(const char *data, size_t len);

#endif
