/*
 * convert_int.h: what the converter's files share (convert.c holds the row to
 * indicator step and the bundle; convert_csv.c, convert_zeek.c and
 * convert_list.c read their formats into rows; convert_export.c writes Zeek
 * and Suricata files). Not part of the library's surface.
 */
#ifndef TW_CONVERT_INT_H
#define TW_CONVERT_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tidewatch/convert.h"
#include "tidewatch/hash.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"

/* Room for "indicator--" and a UUID with its NUL. */
#define TW__ID_LEN 48

/* A mask bit beside the kinds: the type accepts a URL without a scheme (Zeek). */
#define TW__KIND_BARE_URL (1u << TW_IOC__COUNT)

/* One input row after its format's reader split it into named fields. */
struct tw__row {
    size_t line;         /* 1-based line where the row starts */
    struct tw_str type;  /* type name; empty means detect */
    struct tw_str value; /* the indicator, possibly defanged */
    struct tw_str name;  /* the other fields are empty when absent */
    struct tw_str desc;
    struct tw_str tlp;
    struct tw_str valid_from;
    struct tw_str valid_until;
    struct tw_str confidence;
    struct tw_str labels; /* ';'-separated */
    struct tw_str source;
    struct tw_str url; /* an external reference URL (Zeek meta.url) */
    size_t col_type;   /* 1-based field numbers for messages, 0 when absent */
    size_t col_value;
    size_t col_tlp;
    size_t col_valid_from;
    size_t col_valid_until;
    size_t col_confidence;
};

/* Import state shared by the three readers. */
struct tw__conv {
    const struct tw_convert_opts *opts;
    struct tw_convert_result *res;
    json_t *objects;         /* bundle objects in order */
    uint8_t ns[16];          /* TW_CONVERT_NAMESPACE */
    char ts[TW_TIME_STRLEN]; /* created/modified, millisecond precision */
    unsigned default_kinds;  /* plain lists: mask of the default type */
    int default_tlp;         /* index into the TLP table, -1 for none */
    uint8_t (*ids)[16];      /* open-addressed set of ids in the bundle */
    size_t ids_cap;          /* power of two, 0 before the first insert */
    size_t ids_n;
    char (*ind_ids)[TW__ID_LEN]; /* indicator ids, for the bundle id */
    size_t ind_n;
    size_t ind_cap;
    struct tw_buf scratch; /* refanged value */
    struct tw_buf canon;   /* canonical value */
    struct tw_buf pattern; /* the pattern */
};

/* Reads one whole input into the converter's rows. */
typedef int tw__conv_reader_fn(
        struct tw__conv *c, const char *text, size_t len, struct tw_err *err);

/*
 * The body every importer shares: begin, check the input size, read it with
 * `read`, finish into res->bundle, end. Returns as the tw_convert_* functions.
 */
int tw__conv_run(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err, tw__conv_reader_fn *read) TW_MUST_CHECK;

/* Sets up c for one import; TW_EINVAL (with err) for bad options. */
int tw__conv_begin(struct tw__conv *c, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err) TW_MUST_CHECK;
/*
 * Converts one row: appends an indicator (and its identity and marking
 * objects) or records a problem. Returns TW_OK in both cases; only TW_ENOMEM
 * or TW_ELIMIT stop the import.
 */
int tw__conv_row(struct tw__conv *c, const struct tw__row *row) TW_MUST_CHECK;
/* Builds res->bundle from the objects. Returns TW_OK or TW_ENOMEM. */
int tw__conv_finish(struct tw__conv *c, struct tw_err *err) TW_MUST_CHECK;
/* Frees c's state (not the result). */
void tw__conv_end(struct tw__conv *c);

/*
 * Records a problem at line/column (printf-style message, prefixed with the
 * file name). warning selects the counter. Never fails: past the cap, or when
 * memory runs out, the problem is only counted.
 */
void tw__conv_problem(struct tw__conv *c, size_t line, size_t column, bool warning, const char *fmt,
        ...) TW_PRINTF(5, 6);
/* The same for any problem list. */
void tw__problem_add(struct tw_convert_problems *p, size_t line, size_t column, bool warning,
        const char *fmt, va_list ap) TW_PRINTF(5, 0);
void tw__problems_free(struct tw_convert_problems *p);

/* Writes at most 40 bytes of s into out[48], with non-printable bytes as '?'. */
void tw__conv_quote(struct tw_str s, char out[48]);

/* True when s is well-formed UTF-8. */
bool tw__utf8_valid(struct tw_str s);

/* Internal classify that also says why a value was refused (a static string). */
enum tw_ioc_kind tw__classify(
        struct tw_str value, unsigned allowed, struct tw_buf *out, const char **why);

/* Counts a data row against TW_CONVERT_MAX_ROWS; TW_ELIMIT (with err) past it. */
int tw__conv_count_row(struct tw__conv *c, struct tw_err *err) TW_MUST_CHECK;

#endif
