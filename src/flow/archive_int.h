/*
 * archive_int.h: the byte layout of flow archive files (flowarch.h), shared
 * by the writer (archive_write.c), the reader (archive_read.c) and the
 * listing (archive_list.c). docs/internals/FLOWARCH.md explains the choices;
 * this header is the reference for the bytes. Every integer is
 * little-endian.
 *
 * File:
 *   offset  size  field
 *   0       64    file header
 *   64      ...   blocks, back to back (block 0 at 64, each next one where
 *                 the previous ends)
 *   I       88*B  block index, one entry per block (B blocks)
 *   I+88*B  128   footer; the file ends with it
 *
 * File header:
 *   0       8     magic "\x89TWFARC\n"
 *   8       2     version (1)
 *   10      2     header length (64)
 *   12      4     partition interval in seconds (1 .. 86400)
 *   16      8     partition start, ms since the epoch (a multiple of the interval)
 *   24      32    zero
 *   56      8     XXH3-64 (seed 0) of bytes 0 .. 55
 *
 * Block:
 *   0       4     magic "TWFB"
 *   4       4     records N (1 .. 65536)
 *   8       4     stored columns: bit c set when column c is stored; an absent
 *                 column's raw bytes are all zero (every value 0)
 *   12      2     number of stored columns K (the bits set above)
 *   14      2     block header length H = 24 + 16 * K
 *   16      16*K  one entry per stored column, in column order:
 *                 compressed length u32, raw length u32, XXH3-64 of the
 *                 compressed bytes u64
 *   H-8     8     XXH3-64 of bytes 0 .. H-9
 *   H       ...   the stored columns' compressed bytes, in column order,
 *                 back to back; each is exactly one zstd frame that records
 *                 its content size
 *
 * Index entry (88 bytes) and the summary part of the footer share one
 * encoding (the summary, 72 bytes at offset 16 of an entry):
 *   0       8     block offset in the file
 *   8       4     block length (header and columns)
 *   12      4     records in the block
 *   16      8     smallest first_ms
 *   24      8     largest last_ms
 *   32      4     smallest IPv4 source (host order)
 *   36      4     largest IPv4 source
 *   40      4     smallest IPv4 destination
 *   44      4     largest IPv4 destination
 *   48      32    bitmap of IP protocols present (bit p of byte p/8)
 *   80      1     flags: 1 = has IPv4 records, 2 = has IPv6 records
 *   81      7     zero
 *
 * Footer (128 bytes):
 *   0       8     records in the file
 *   8       72    summary of the file (as in an index entry from its offset 16)
 *   80      4     blocks B (at most TW__FARCH_MAX_BLOCKS)
 *   84      4     zero
 *   88      8     index offset I
 *   96      8     XXH3-64 of the index (88*B bytes)
 *   104     8     zero
 *   112     8     XXH3-64 of footer bytes 0 .. 111
 *   120     8     magic "TWFAEND\n"
 *
 * Raw column encodings (before zstd), for a block of N records:
 *   planes W   N values of W bytes split into W byte planes: byte j of
 *              value i at j*N + i (raw length W*N)
 *   zigzag     planes 8 of (v << 1) ^ (v >> 63) for a signed value v, so
 *              small negative values stay small
 *   delta      zigzag of each value minus the previous one (the first one
 *              minus 0), in two's complement arithmetic
 *   ports      port_lo and port_hi hold min and max of (sport, dport) as
 *              planes 2; port_swap is 1 where sport was the larger
 *   ip         N family bytes (0, 4 or 6), then 4 planes of the IPv4 word
 *              (host order, 0 unless family 4), then 16 bytes for each
 *              family 6 record in order (raw length 5*N + 16*k)
 *   v6         N flag bytes (1 = IPv6 record), then source and destination
 *              (16 + 16 bytes) of each flagged record in order (raw length
 *              N + 32*k)
 */
#ifndef TIDEWATCH_ARCHIVE_INT_H
#define TIDEWATCH_ARCHIVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/err.h"
#include "tidewatch/flowarch.h"

/* ==== Constants ==== */

#define TW__FARCH_MAGIC        "\x89TWFARC\n"
#define TW__FARCH_MAGIC_END    "TWFAEND\n"
#define TW__FARCH_BLOCK_MAGIC  "TWFB"
#define TW__FARCH_VERSION      1u
#define TW__FARCH_HEADER_LEN   64u
#define TW__FARCH_FOOTER_LEN   128u
#define TW__FARCH_INDEX_ENTRY  88u
#define TW__FARCH_SUMMARY_LEN  72u
#define TW__FARCH_BLOCK_FIXED  16u /* block header before the column entries */
#define TW__FARCH_COL_ENTRY    16u
#define TW__FARCH_MAX_BLOCKS   (1u << 20)
#define TW__FARCH_MAX_INTERVAL 86400u /* one day */
#define TW__FARCH_SUM_HAS_V4   0x01u
#define TW__FARCH_SUM_HAS_V6   0x02u
#define TW__FARCH_MAX_VARINT   10u
/* Temporary files: "." + final name + ".tmp". */
#define TW__FARCH_TMP_PREFIX ".flows-"
#define TW__FARCH_TMP_SUFFIX ".twf.tmp"
/* Longest path the archive builds (directory included). */
#define TW__FARCH_PATH_MAX 4096u
/* Files of one interval told apart by SEQ: 0 .. 9999. */
#define TW__FARCH_MAX_SEQ 10000u
/* Smallest and largest partition start the names can hold (0000 .. 9999 AD is wider). */
#define TW__FARCH_MIN_PART_MS INT64_C(0)
#define TW__FARCH_MAX_PART_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

/* Stored columns, in file order. */
enum tw__farch_col {
    TW__FC_FIRST = 0, /* planes 8: first_ms, delta */
    TW__FC_DUR,       /* planes 8: last_ms - first_ms, zigzag */
    TW__FC_SRC4,      /* planes 4 */
    TW__FC_DST4,      /* planes 4 */
    TW__FC_V6,        /* v6 */
    TW__FC_PORT_LO,   /* planes 2: the smaller of sport and dport */
    TW__FC_PORT_HI,   /* planes 2: the larger */
    TW__FC_PORT_SWAP, /* planes 1: 1 when sport is the larger one */
    TW__FC_PROTO,     /* planes 1 */
    TW__FC_TCP_FLAGS, /* planes 1 */
    TW__FC_TOS,       /* planes 1 */
    TW__FC_PACKETS,   /* planes 8 */
    TW__FC_BYTES,     /* planes 8 */
    TW__FC_IN_IF,     /* planes 4 */
    TW__FC_OUT_IF,    /* planes 4 */
    TW__FC_VLAN,      /* planes 2 */
    TW__FC_NEXTHOP,   /* ip */
    TW__FC_SRC_AS,    /* planes 4 */
    TW__FC_DST_AS,    /* planes 4 */
    TW__FC_SRC_MASK,  /* planes 1 */
    TW__FC_DST_MASK,  /* planes 1 */
    TW__FC_EXPORTER,  /* ip */
    TW__FC_DOMAIN,    /* planes 4 */
    TW__FC_SOURCE,    /* planes 1 */
    TW__FC_SAMPLING,  /* planes 4 */
    TW__FC_COUNT
};

/* How a stored column's raw bytes are laid out. */
enum tw__farch_kind {
    TW__FK_PLANES = 0,
    TW__FK_IP,
    TW__FK_V6,
};

struct tw__farch_coldef {
    const char *name; /* for messages */
    uint8_t kind;     /* enum tw__farch_kind */
    uint8_t width;    /* bytes per value for TW__FK_PLANES */
    uint16_t group;   /* the TW_FARCH_COL_* bit that asks for it */
};

/* The columns' definitions, indexed by enum tw__farch_col (archive_read.c). */
extern const struct tw__farch_coldef tw__farch_cols[TW__FC_COUNT];

/* ==== Little-endian helpers ==== */

static inline void tw__put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void tw__put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void tw__put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t tw__get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t tw__get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t tw__get64(const uint8_t *p)
{
    return (uint64_t)tw__get32(p) | (uint64_t)tw__get32(p + 4) << 32;
}

/* ==== Shared helpers ==== */

/* Largest raw length of column c for a block of n records. */
size_t tw__farch_raw_max(unsigned c, size_t n);

/* Encodes a summary (TW__FARCH_SUMMARY_LEN bytes; the record count is stored elsewhere). */
void tw__farch_put_summary(uint8_t *p, const struct tw_farch_summary *s);
/* Decodes a summary; `records` is filled by the caller. */
void tw__farch_get_summary(const uint8_t *p, struct tw_farch_summary *s);
/* An empty summary (no records; minima at their largest value, maxima at their smallest). */
void tw__farch_summary_init(struct tw_farch_summary *s);
/* Widens `into` by `s`. */
void tw__farch_summary_merge(struct tw_farch_summary *into, const struct tw_farch_summary *s);

/*
 * Checks a file header (TW__FARCH_HEADER_LEN bytes). Returns TW_OK and the
 * interval and partition start, or TW_EINVAL with err naming `name` and the
 * offset.
 */
int tw__farch_check_header(const uint8_t *p, const char *name, uint32_t *interval_s,
        int64_t *start_ms, struct tw_err *err) TW_MUST_CHECK;

/* ==== Names (archive_list.c) ==== */

/*
 * Splits ms since the epoch into a UTC date and time. Valid for the range
 * TW__FARCH_MIN_PART_MS .. TW__FARCH_MAX_PART_MS.
 */
void tw__farch_civil(
        int64_t ms, unsigned *year, unsigned *mon, unsigned *day, unsigned *hour, unsigned *min);

/*
 * Writes "DIR/YYYY/MM/DD" for the partition starting at start_ms into out
 * (size `cap`). Returns the length, or TW_ELIMIT when it does not fit.
 */
int tw__farch_day_dir(const char *dir, int64_t start_ms, char *out, size_t cap) TW_MUST_CHECK;

/*
 * Writes the file name (no directory) "flows-YYYYMMDDhhmm-SEQ.twf", or with
 * `tmp` the temporary name ".flows-YYYYMMDDhhmm-SEQ.twf.tmp". Returns the
 * length, or TW_ELIMIT when it does not fit.
 */
int tw__farch_file_name(
        int64_t start_ms, unsigned seq, bool tmp, char *out, size_t cap) TW_MUST_CHECK;

/* Parses a complete file's name; true and its partition start when it is one. */
bool tw__farch_parse_name(const char *name, int64_t *start_ms);

#endif
