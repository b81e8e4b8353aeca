/*
 * flowhunt.h: retro-hunting flow archives for the intelligence.
 *
 * The hunt lists the archive files overlapping the time window, skips files
 * and blocks whose summaries cannot hold a record in the window, reads only
 * the address columns of each block, looks every source and destination up
 * in the indicator index (IPv4 and IPv6 addresses and networks), and reads
 * the remaining columns only for blocks with a hit. A hit whose indicator's
 * pattern also constrains ports or the protocol (for example
 * "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 22]")
 * is kept only when the flow satisfies that pattern. Files are shared among
 * `threads` workers; hits are delivered to the callback in archive order
 * (file, block, record) whatever the number of threads, from one thread at
 * a time.
 */
#ifndef TIDEWATCH_FLOWHUNT_H
#define TIDEWATCH_FLOWHUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/flowfilter.h"
#include "tidewatch/flowrec.h"
#include "tidewatch/index.h"

enum tw_flowhunt_side {
    TW_FLOWHUNT_SRC = 1, /* the source address matched */
    TW_FLOWHUNT_DST = 2, /* the destination address matched */
};

struct tw_flowhunt_hit {
    const struct tw_flowrec *rec; /* the flow */
    const char *file;             /* the archive file it came from */
    enum tw_flowhunt_side side;
    uint32_t indicator; /* index of the indicator (tw_index_get) */
};

/* Return nonzero to stop the hunt (the value is returned by tw_flowhunt_run). */
typedef int (*tw_flowhunt_hit_fn)(const struct tw_flowhunt_hit *hit, void *arg);

struct tw_flowhunt_config {
    const struct tw_index *index;       /* required */
    int64_t from_ms;                    /* INT64_MIN: no lower bound (on last_ms) */
    int64_t to_ms;                      /* INT64_MAX: no upper bound (on first_ms) */
    const struct tw_flowfilter *filter; /* optional extra condition */
    unsigned threads;                   /* 0 = one per online CPU */
    unsigned cols;                      /* TW_FARCH_COL_* the hits' records must carry besides the
                                           addresses; 0 = all. Other fields may be zero. Reading
                                           fewer columns makes blocks with hits cheaper. */
};

struct tw_flowhunt_stats {
    uint64_t files;          /* files listed in the window */
    uint64_t files_skipped;  /* skipped whole by their summary */
    uint64_t files_bad;      /* files that could not be read (reported, rest hunted) */
    uint64_t blocks;         /* blocks read */
    uint64_t blocks_skipped; /* skipped by their summary */
    uint64_t blocks_bad;     /* blocks that could not be decoded */
    uint64_t records;        /* records looked at */
    uint64_t hits;           /* hits delivered */
};

void tw_flowhunt_config_init(struct tw_flowhunt_config *cfg, const struct tw_index *index);

/*
 * Hunts the archive under `dir`. Files or blocks that cannot be read are
 * counted and reported through tw_log (file and byte offset) and the hunt
 * goes on; `err` is set only for a failure of the whole hunt.
 */
int tw_flowhunt_run(const struct tw_flowhunt_config *cfg, const char *dir, tw_flowhunt_hit_fn fn,
        void *arg, struct tw_flowhunt_stats *stats, struct tw_err *err) TW_MUST_CHECK;

#endif
