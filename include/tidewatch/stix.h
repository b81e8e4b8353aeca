/*
 * stix.h: reading and validating STIX 2.1 bundles.
 *
 * tw_stix_read_file / tw_stix_read_mem parse a JSON document and check every
 * object in it against STIX 2.1. Three shapes of document are accepted, and
 * the bundle records which one it saw (tw_stix_bundle_container):
 *
 *   {"type": "bundle", "id": "bundle--<uuid>", "objects": [...]}   a bundle
 *   {"objects": [...], "more": false, ...}                          a TAXII 2.1 envelope
 *   {"type": "indicator", "id": "indicator--<uuid>", ...}          a single object
 *
 * A bad object never stops the others from being read. Every problem found
 * is recorded as a struct tw_stix_problem with a severity, the object it is
 * about, a JSON path to the offending value and a message; an object is
 * "valid" when no ERROR was recorded against it (warnings do not count).
 *
 * Ownership: the bundle owns the parsed JSON, every tw_stix_object and every
 * problem. Pointers handed out (object records, json_t values, strings) stay
 * valid until tw_stix_bundle_free. A caller that wants an object's JSON beyond
 * that takes its own reference with json_incref.
 */
#ifndef TIDEWATCH_STIX_H
#define TIDEWATCH_STIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "tidewatch/buf.h"
#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

/* Largest document tw_stix_read_* accept, in bytes; larger gives TW_ELIMIT. */
#define TW_STIX_MAX_INPUT ((size_t)64 * 1024 * 1024)
/* Most objects one document may hold; more gives TW_ELIMIT. */
#define TW_STIX_MAX_OBJECTS 1000000u
/* Most problems recorded per bundle; later ones are only counted. */
#define TW_STIX_MAX_PROBLEMS 10000u
/* Longest JSON path kept in a problem; longer paths end in "...". */
#define TW_STIX_MAX_PATH 256u

/* Flags for tw_stix_read_*. */
#define TW_STIX_NO_PATTERNS 0x1u /* do not compile indicator patterns */

enum tw_stix_severity {
    TW_STIX_ERROR = 1,   /* breaks a MUST of STIX 2.1: the object is not valid */
    TW_STIX_WARNING = 2, /* breaks a SHOULD, or uses a deprecated feature */
};

/* The shape of the document that was read. */
enum tw_stix_container {
    TW_STIX_BUNDLE = 1, /* "type": "bundle" */
    TW_STIX_ENVELOPE,   /* an object with "objects" and no "type" (TAXII envelope) */
    TW_STIX_SINGLE,     /* one bare STIX object */
    TW_STIX_OTHER,      /* not a JSON object, or nothing recognisable: see the problems */
};

/* What family an object's type belongs to (STIX 2.1 sections 4 to 7). */
enum tw_stix_kind {
    TW_STIX_UNKNOWN = 0, /* no usable type */
    TW_STIX_SDO,         /* domain object (indicator, malware, ...) */
    TW_STIX_SCO,         /* cyber-observable (ipv4-addr, file, ...) */
    TW_STIX_SRO,         /* relationship or sighting */
    TW_STIX_SMO,         /* marking-definition, extension-definition, language-content */
    TW_STIX_CUSTOM,      /* a type STIX 2.1 does not define */
};

struct tw_stix_problem {
    enum tw_stix_severity severity;
    size_t index;       /* the object's position in "objects", or TW_NOPOS for the document */
    const char *object; /* the object's id, "objects[3]" when it has no usable id, or the
                           bundle id / "bundle" for document-level problems */
    const char *path;   /* JSON path: "$.objects[3].valid_from" */
    const char *msg;    /* what is wrong; never quotes property values */
};

struct tw_stix_object {
    const json_t *json; /* the object as parsed; owned by the bundle */
    size_t index;       /* position in "objects" (0 for a single object) */
    const char *type;   /* "type" when it is a string, else "" */
    const char *id;     /* "id" when it is a well-formed id, else NULL */
    enum tw_stix_kind kind;
    bool has_created;  /* created parsed */
    bool has_modified; /* modified parsed */
    struct tw_time created;
    struct tw_time modified;
    enum tw_tlp tlp; /* effective TLP from object_marking_refs */
    bool valid;      /* no ERROR was recorded against this object */
    unsigned n_errors;
    unsigned n_warnings;
};

struct tw_stix_bundle; /* opaque */

/*
 * Reads and validates the document in data[0..len). `name` labels the input
 * in messages (a file name, "stdin"); NULL gives "-". The bytes are borrowed
 * for the call only.
 *
 * Returns TW_OK with *out set to a new bundle (free it with
 * tw_stix_bundle_free) whenever the input is JSON, however bad its STIX: look
 * at tw_stix_bundle_n_errors and the problems. Otherwise *out is NULL and the
 * status is TW_ESYNTAX for malformed JSON (err holds the line, the column, the
 * byte offset and a message that names `name`), TW_ELIMIT when len exceeds
 * TW_STIX_MAX_INPUT or there are more than TW_STIX_MAX_OBJECTS objects, or
 * TW_ENOMEM.
 *
 * Duplicate keys are not a JSON syntax error here: the document is read with
 * the last value of each duplicated key winning, and the first duplicate is
 * recorded as an ERROR against the object that holds it.
 */
int tw_stix_read_mem(const char *data, size_t len, const char *name, unsigned flags,
        struct tw_stix_bundle **out, struct tw_err *err) TW_MUST_CHECK;

/*
 * Like tw_stix_read_mem for the file at `path`, which also becomes the name
 * used in messages. TW_EIO when the file cannot be opened or read, and
 * TW_ELIMIT when it is larger than TW_STIX_MAX_INPUT.
 */
int tw_stix_read_file(const char *path, unsigned flags, struct tw_stix_bundle **out,
        struct tw_err *err) TW_MUST_CHECK;

/* Frees the bundle, its JSON and its problems. NULL is a no-op. */
void tw_stix_bundle_free(struct tw_stix_bundle *b);

/* The name given when reading. */
const char *tw_stix_bundle_name(const struct tw_stix_bundle *b);
/* The shape of the document. */
enum tw_stix_container tw_stix_bundle_container(const struct tw_stix_bundle *b);
/* The bundle's "id" when it has a string one, else NULL. */
const char *tw_stix_bundle_id(const struct tw_stix_bundle *b);
/* The whole parsed document, owned by the bundle. */
const json_t *tw_stix_bundle_json(const struct tw_stix_bundle *b);

/* Number of objects read, valid or not (every element of "objects"). */
size_t tw_stix_bundle_count(const struct tw_stix_bundle *b);
/* Number of valid objects. */
size_t tw_stix_bundle_n_valid(const struct tw_stix_bundle *b);
/* The i-th object, or NULL when i is out of range. */
const struct tw_stix_object *tw_stix_bundle_object(const struct tw_stix_bundle *b, size_t i);
/*
 * The object with this id, or NULL. When several versions are present the
 * one with the latest "modified" is returned (the later one in the document
 * on a tie).
 */
const struct tw_stix_object *tw_stix_bundle_find(const struct tw_stix_bundle *b, const char *id);

/* Number of problems recorded (at most TW_STIX_MAX_PROBLEMS). */
size_t tw_stix_bundle_n_problems(const struct tw_stix_bundle *b);
/* The i-th problem in the order found, or NULL when out of range. */
const struct tw_stix_problem *tw_stix_bundle_problem(const struct tw_stix_bundle *b, size_t i);
/* Errors and warnings found, including any beyond TW_STIX_MAX_PROBLEMS. */
size_t tw_stix_bundle_n_errors(const struct tw_stix_bundle *b);
size_t tw_stix_bundle_n_warnings(const struct tw_stix_bundle *b);

/*
 * The TLP that applies to one property of an object (a granular-marking
 * selector such as "description" or "external_references.[0].url"): the
 * object's effective TLP combined with the TLP granular markings that cover
 * the property. Marking-definitions in the same bundle that redeclare a TLP
 * level under another id count with the level they declare.
 */
enum tw_tlp tw_stix_property_tlp(
        const struct tw_stix_bundle *b, const struct tw_stix_object *o, const char *prop);

/* ==== Indicators ==== */

/* A read-only view of one indicator. Strings and slices borrow from the bundle. */
struct tw_stix_indicator {
    const struct tw_stix_object *obj;
    const char *id;
    const char *name; /* NULL when absent */
    struct tw_str pattern;
    const char *pattern_type; /* "stix", "snort", ... */
    struct tw_time valid_from;
    bool has_valid_until;
    struct tw_time valid_until;
    bool revoked;
    enum tw_tlp tlp; /* the object's effective TLP */
};

/*
 * Fills *out from an object. Returns TW_OK when the object is a valid
 * indicator, TW_EINVAL otherwise (wrong type or not valid).
 */
int tw_stix_indicator_get(
        const struct tw_stix_object *o, struct tw_stix_indicator *out) TW_MUST_CHECK;

typedef int tw_stix_indicator_fn(const struct tw_stix_indicator *ind, void *ctx);

/*
 * Calls fn for every valid indicator in document order, including revoked and
 * expired ones (the caller decides what to do with them). Stops at and
 * returns the first non-zero value fn returns; TW_OK otherwise.
 */
int tw_stix_each_indicator(
        const struct tw_stix_bundle *b, tw_stix_indicator_fn *fn, void *ctx) TW_MUST_CHECK;

/* ==== Reporting problems ==== */

enum tw_stix_format {
    TW_STIX_TEXT = 1, /* FILE: ERROR: <object> <path>: message */
    TW_STIX_JSONL,    /* {"file":..,"severity":"error","object":..,"path":..,"message":..} */
};

/*
 * Appends one problem as a line (with its newline) to out. Returns TW_OK,
 * TW_ENOMEM or TW_ELIMIT (out's cap). `file` names the input (NULL gives "-").
 */
int tw_stix_problem_format(const struct tw_stix_problem *p, const char *file,
        enum tw_stix_format fmt, struct tw_buf *out) TW_MUST_CHECK;

/*
 * Writes every problem of the bundle to fp, one line each, followed in text
 * form by a line saying how many were not recorded when the cap was hit.
 * Returns TW_OK, TW_EIO when writing fails, or TW_ENOMEM.
 */
int tw_stix_problems_write(
        const struct tw_stix_bundle *b, FILE *fp, enum tw_stix_format fmt) TW_MUST_CHECK;

/* "error" / "warning". */
const char *tw_stix_severity_name(enum tw_stix_severity s);

/*
 * Whether s is a well-formed STIX identifier "<type>--<RFC 4122 UUID>" with a
 * type of 3 to 250 characters from a-z, 0-9 and '-'. When type is not NULL it
 * receives the type part.
 */
bool tw_stix_id_valid(struct tw_str s, struct tw_str *type);

/* The family of a type name; TW_STIX_CUSTOM for names STIX 2.1 does not define. */
enum tw_stix_kind tw_stix_type_kind(struct tw_str type);

#endif
