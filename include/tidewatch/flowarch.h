/*
 * flowarch.h: the flow archive, a directory of time-partitioned files of flow
 * records in a compressed columnar layout.
 *
 * Layout of a directory: DIR/YYYY/MM/DD/flows-YYYYMMDDhhmm-SEQ.twf, one file
 * per partition interval (default 300 s, aligned to the epoch, UTC) and
 * writer; SEQ tells apart files of one interval (several writers, or a
 * writer that came back to an interval). A file is written as
 * `.flows-...twf.tmp`, synced and renamed into place when complete: readers
 * list only `*.twf`, so a file is visible only whole, and a killed writer
 * leaves at most its open intervals' temporary files (removed by the next
 * writer that opens the directory, older than an hour, or with
 * tw_farch_cleanup).
 *
 * A file holds blocks of up to TW_FARCH_BLOCK_RECORDS records. Each block
 * stores each field as its own column (times as deltas, addresses as IPv4
 * words plus an IPv6 side column, counters as varints), each column
 * compressed with zstd, with a checksum per column and a summary per block
 * (record count, time range, smallest and largest IPv4 source and
 * destination, whether there are IPv6 records, protocol bitmap). The file
 * ends with an index of its blocks and a summary of the whole file, so a
 * reader can skip a file or a block whose summary cannot match and read only
 * the columns it needs. Integers are little-endian. docs/internals/FLOWS.md
 * describes the bytes.
 *
 * The reader takes every file as hostile: every offset, length and count is
 * checked against the file size and limits before use; a bad block is
 * reported with its file and byte offset (and skipped by callers that want
 * the rest) and never read past.
 */
#ifndef TIDEWATCH_FLOWARCH_H
#define TIDEWATCH_FLOWARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/flowrec.h"

#define TW_FARCH_BLOCK_RECORDS      65536u
#define TW_FARCH_DEFAULT_INTERVAL_S 300u

/* ---- Writing ---- */

struct tw_farch_writer_config {
    uint32_t interval_s; /* partition length in seconds; 0 = TW_FARCH_DEFAULT_INTERVAL_S */
    int zstd_level;      /* 0 = default (3) */
    bool fsync;          /* sync each file (and its directory) before it becomes visible */
};

struct tw_farch_writer_stats {
    uint64_t records;       /* records added */
    uint64_t files;         /* files completed */
    uint64_t bytes_written; /* bytes of completed files */
    uint64_t blocks;        /* blocks written */
};

struct tw_farch_writer;

void tw_farch_writer_config_init(struct tw_farch_writer_config *cfg);

/* Opens (creating it when needed) the archive directory for writing. */
int tw_farch_writer_open(const char *dir, const struct tw_farch_writer_config *cfg,
        struct tw_farch_writer **out, struct tw_err *err) TW_MUST_CHECK;

/*
 * Adds a record to the partition that holds `part_ms` (the collector passes
 * the time the record was received, an import the record's last_ms). The
 * writer keeps a small number of partitions open; when a record's partition
 * is not open and the limit is reached, the oldest open one is completed.
 */
int tw_farch_writer_add(struct tw_farch_writer *w, int64_t part_ms, const struct tw_flowrec *rec,
        struct tw_err *err) TW_MUST_CHECK;

/*
 * Completes every open partition that ends at or before `now_ms` (the
 * collector calls this on a timer so that a quiet interval still becomes
 * visible).
 */
int tw_farch_writer_tick(
        struct tw_farch_writer *w, int64_t now_ms, struct tw_err *err) TW_MUST_CHECK;

/* Completes every open partition. */
int tw_farch_writer_flush(struct tw_farch_writer *w, struct tw_err *err) TW_MUST_CHECK;

/* Flushes (unless `discard`) and frees. NULL is a no-op. */
int tw_farch_writer_close(struct tw_farch_writer *w, bool discard, struct tw_err *err);

void tw_farch_writer_stats(const struct tw_farch_writer *w, struct tw_farch_writer_stats *out);

/* ---- Listing ---- */

struct tw_farch_file {
    char *path;       /* full path */
    int64_t start_ms; /* the partition's interval, from the name */
    int64_t end_ms;
};

/*
 * The complete files of the archive under `dir` whose partition interval
 * overlaps [from_ms, to_ms) (INT64_MIN / INT64_MAX for no bound), sorted by
 * start time then name. Free with tw_farch_files_free.
 */
int tw_farch_list(const char *dir, int64_t from_ms, int64_t to_ms, struct tw_farch_file **out,
        size_t *n, struct tw_err *err) TW_MUST_CHECK;
void tw_farch_files_free(struct tw_farch_file *files, size_t n);

/* ---- Reading ---- */

/* Column bits for tw_farch_read_block. */
#define TW_FARCH_COL_TIME     0x0001u /* first_ms, last_ms */
#define TW_FARCH_COL_ADDR     0x0002u /* src, dst (v4 words, v6 side column) */
#define TW_FARCH_COL_PORTS    0x0004u /* sport, dport */
#define TW_FARCH_COL_PROTO    0x0008u /* proto, tcp_flags, tos */
#define TW_FARCH_COL_COUNTERS 0x0010u /* packets, bytes */
#define TW_FARCH_COL_IFACE    0x0020u /* in_if, out_if, vlan */
#define TW_FARCH_COL_ROUTING  0x0040u /* nexthop, src_as, dst_as, src_mask, dst_mask */
#define TW_FARCH_COL_EXPORTER 0x0080u /* exporter, domain, source, sampling */
#define TW_FARCH_COL_ALL      0x00ffu

struct tw_farch_summary {
    uint64_t records;
    int64_t first_ms;  /* smallest first_ms */
    int64_t last_ms;   /* largest last_ms */
    uint32_t src4_min; /* smallest / largest IPv4 source as a host-order word */
    uint32_t src4_max;
    uint32_t dst4_min;
    uint32_t dst4_max;
    bool has_v4;        /* any IPv4 record (the min/max above are meaningful) */
    bool has_v6;        /* any IPv6 record */
    uint8_t protos[32]; /* bitmap of the IP protocols present */
};

/*
 * A decoded block, structure of arrays. Only the columns asked for are
 * filled; the others are NULL. `src4[i]`/`dst4[i]` hold IPv4 addresses as
 * host-order words; for an IPv6 record `is_v6[i]` is 1 and the address is in
 * `src6[i]`/`dst6[i]` (16 bytes each), src4/dst4 being 0. Arrays stay valid
 * until the next tw_farch_read_block on the same reader or its close.
 */
struct tw_farch_block {
    size_t n;
    const int64_t *first_ms;
    const int64_t *last_ms;
    const uint32_t *src4;
    const uint32_t *dst4;
    const uint8_t *is_v6;
    const uint8_t (*src6)[16];
    const uint8_t (*dst6)[16];
    const uint16_t *sport;
    const uint16_t *dport;
    const uint8_t *proto;
    const uint8_t *tcp_flags;
    const uint8_t *tos;
    const uint64_t *packets;
    const uint64_t *bytes;
    const uint32_t *in_if;
    const uint32_t *out_if;
    const uint16_t *vlan;
    const struct tw_ip *nexthop;
    const uint32_t *src_as;
    const uint32_t *dst_as;
    const uint8_t *src_mask;
    const uint8_t *dst_mask;
    const struct tw_ip *exporter;
    const uint32_t *domain;
    const uint8_t *source;
    const uint32_t *sampling;
};

struct tw_farch_reader;

/* Opens one archive file and reads its index and summaries. */
int tw_farch_reader_open(
        const char *path, struct tw_farch_reader **out, struct tw_err *err) TW_MUST_CHECK;
/* The same for a file already in memory (fuzzing, tests); `data` must outlive the reader. */
int tw_farch_reader_open_mem(const uint8_t *data, size_t len, const char *name,
        struct tw_farch_reader **out, struct tw_err *err) TW_MUST_CHECK;
void tw_farch_reader_close(struct tw_farch_reader *r);

const struct tw_farch_summary *tw_farch_reader_summary(const struct tw_farch_reader *r);
size_t tw_farch_reader_nblocks(const struct tw_farch_reader *r);
const struct tw_farch_summary *tw_farch_block_summary(const struct tw_farch_reader *r, size_t i);

/* Decodes the columns `cols` (TW_FARCH_COL_*) of block `i`. */
int tw_farch_read_block(struct tw_farch_reader *r, size_t i, unsigned cols,
        struct tw_farch_block *out, struct tw_err *err) TW_MUST_CHECK;

/* Record `j` of a block read with TW_FARCH_COL_ALL, as a struct. */
void tw_farch_block_record(const struct tw_farch_block *b, size_t j, struct tw_flowrec *out);

/* Removes temporary files older than `age_s` seconds left by killed writers; returns the count. */
long tw_farch_cleanup(const char *dir, uint32_t age_s, struct tw_err *err);

#endif
