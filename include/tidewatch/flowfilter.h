/*
 * flowfilter.h: filters over flow records, in the spirit of nfdump's filter
 * language (nfdump(1), "FILTER"), for `flows query` and `flows hunt --filter`.
 *
 * Grammar (keywords case-insensitive):
 *   expr    := term { "or" term }
 *   term    := factor { "and" factor }          ("and" may be left out)
 *   factor  := "not" factor | "(" expr ")" | prim
 *   prim    := [dir] "ip" ADDR | [dir] "host" ADDR
 *            | [dir] "net" CIDR | [dir] "ip" "in" "[" ADDR|CIDR ... "]"
 *            | [dir] "port" [cmp] N | [dir] "port" "in" "[" N ... "]"
 *            | "proto" (tcp|udp|icmp|icmp6|gre|esp|ah|sctp|N)
 *            | "exporter" ADDR | ("in" | "out") "if" N | "vlan" N
 *            | ("bytes" | "packets") cmp N[k|m|g] | "flags" LETTERS ("AFPRSU")
 *            | "inet" | "inet6" | "any"
 *   dir     := "src" | "dst"   (absent: either side)
 *   cmp     := "=" | "==" | "<" | ">" | "<=" | ">="  (absent: "=")
 * List elements are separated by spaces or commas.
 *
 * Errors name the byte offset in the expression. Matching is pure; a filter
 * is immutable after parsing and can be shared between threads.
 */
#ifndef TIDEWATCH_FLOWFILTER_H
#define TIDEWATCH_FLOWFILTER_H

#include <stdbool.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/flowrec.h"

struct tw_flowfilter;

int tw_flowfilter_parse(
        const char *expr, struct tw_flowfilter **out, struct tw_err *err) TW_MUST_CHECK;
void tw_flowfilter_free(struct tw_flowfilter *f);

bool tw_flowfilter_match(const struct tw_flowfilter *f, const struct tw_flowrec *r);

/*
 * False only when no record summarised by `s` can match (a file or block the
 * reader may skip); true when it may.
 */
bool tw_flowfilter_may_match(const struct tw_flowfilter *f, const struct tw_farch_summary *s);

/* The TW_FARCH_COL_* columns the filter reads. */
unsigned tw_flowfilter_columns(const struct tw_flowfilter *f);

#endif
