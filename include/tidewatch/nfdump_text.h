/*
 * nfdump_text.h: one line of nfdump's text output, as `flows import
 * --nfdump` asks nfdump 1.7 for it (TW_NFDUMP_FMT, fields separated by '|'
 * and padded with spaces), into a flow record. The line is hostile input:
 * every field is checked for syntax and range, nothing outside the line is
 * read, and the first bad field is named.
 */
#ifndef TIDEWATCH_NFDUMP_TEXT_H
#define TIDEWATCH_NFDUMP_TEXT_H

#include "tidewatch/flowrec.h"
#include "tidewatch/str.h"

/* The -o argument for nfdump: the fields tw_nfdump_parse_line reads, in order. */
#define TW_NFDUMP_FMT                                                                              \
    "fmt:%ts|%te|%pr|%sa|%sp|%da|%dp|%pkt|%byt|%flg|%tos|%in|%out|%sas|%das|%smk|%dmk|%nh|%ra|"    \
    "%svln|%eng"
/* Fields of a line. */
#define TW_NFDUMP_FIELDS 21u

/*
 * Parses one line (without its newline) into *rec. Returns 0, or -1 with
 * *bad the index of the first wrong field (TW_NFDUMP_FIELDS when the line
 * does not have TW_NFDUMP_FIELDS fields).
 */
int tw_nfdump_parse_line(struct tw_str line, struct tw_flowrec *rec, unsigned *bad);

/* The name of field i ("first seen", "bytes" ...), or "line" when out of range. */
const char *tw_nfdump_field_name(unsigned i);

#endif
