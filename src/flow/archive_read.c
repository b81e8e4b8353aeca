/*
 * archive_read.c: the flow archive reader (flowarch.h; the bytes are in
 * archive_int.h).
 *
 * Opening a file reads its header, footer and block index and checks them
 * whole before anything is used: magics, version, checksums, the number of
 * blocks (at most TW__FARCH_MAX_BLOCKS), blocks that tile the space between
 * the header and the index exactly, record counts of 1 .. 65536 per block,
 * block lengths no larger than a block of that many records can compress
 * to, and a file summary equal to the union of the block summaries.
 *
 * Reading a block checks its header (magic, record count equal to the
 * index's, known columns only, header checksum, column lengths that add up
 * to the block length, raw lengths that a block of N records can have, a
 * compressed length within zstd's bound for that raw length), then for each
 * column asked for: its checksum, that its zstd frame is the whole column
 * and declares exactly the expected raw length, the decompression itself,
 * and the decoding (families and flags that hold their few allowed
 * values). So a hostile file can make the reader
 * allocate no more than a block's worth of buffers, and a damaged one is
 * reported with its file name and byte offset instead of being misread.
 *
 * Buffers are per reader and sized for the largest block of the file: the
 * compressed bytes of the columns asked for (read with pread for a file on
 * disk, used in place for one in memory), one column's raw bytes, and the
 * decoded arrays, each allocated the first time its column is asked for.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "archive_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"

/* ==== Types ==== */

const struct tw__farch_coldef tw__farch_cols[TW__FC_COUNT] = {
    [TW__FC_FIRST] = { "first", TW__FK_PLANES, 8, TW_FARCH_COL_TIME },
    [TW__FC_DUR] = { "duration", TW__FK_PLANES, 8, TW_FARCH_COL_TIME },
    [TW__FC_SRC4] = { "src4", TW__FK_PLANES, 4, TW_FARCH_COL_ADDR },
    [TW__FC_DST4] = { "dst4", TW__FK_PLANES, 4, TW_FARCH_COL_ADDR },
    [TW__FC_V6] = { "v6", TW__FK_V6, 1, TW_FARCH_COL_ADDR },
    [TW__FC_PORT_LO] = { "port_lo", TW__FK_PLANES, 2, TW_FARCH_COL_PORTS },
    [TW__FC_PORT_HI] = { "port_hi", TW__FK_PLANES, 2, TW_FARCH_COL_PORTS },
    [TW__FC_PORT_SWAP] = { "port_swap", TW__FK_PLANES, 1, TW_FARCH_COL_PORTS },
    [TW__FC_PROTO] = { "proto", TW__FK_PLANES, 1, TW_FARCH_COL_PROTO },
    [TW__FC_TCP_FLAGS] = { "tcp_flags", TW__FK_PLANES, 1, TW_FARCH_COL_PROTO },
    [TW__FC_TOS] = { "tos", TW__FK_PLANES, 1, TW_FARCH_COL_PROTO },
    [TW__FC_PACKETS] = { "packets", TW__FK_PLANES, 8, TW_FARCH_COL_COUNTERS },
    [TW__FC_BYTES] = { "bytes", TW__FK_PLANES, 8, TW_FARCH_COL_COUNTERS },
    [TW__FC_IN_IF] = { "in_if", TW__FK_PLANES, 4, TW_FARCH_COL_IFACE },
    [TW__FC_OUT_IF] = { "out_if", TW__FK_PLANES, 4, TW_FARCH_COL_IFACE },
    [TW__FC_VLAN] = { "vlan", TW__FK_PLANES, 2, TW_FARCH_COL_IFACE },
    [TW__FC_NEXTHOP] = { "nexthop", TW__FK_IP, 1, TW_FARCH_COL_ROUTING },
    [TW__FC_SRC_AS] = { "src_as", TW__FK_PLANES, 4, TW_FARCH_COL_ROUTING },
    [TW__FC_DST_AS] = { "dst_as", TW__FK_PLANES, 4, TW_FARCH_COL_ROUTING },
    [TW__FC_SRC_MASK] = { "src_mask", TW__FK_PLANES, 1, TW_FARCH_COL_ROUTING },
    [TW__FC_DST_MASK] = { "dst_mask", TW__FK_PLANES, 1, TW_FARCH_COL_ROUTING },
    [TW__FC_EXPORTER] = { "exporter", TW__FK_IP, 1, TW_FARCH_COL_EXPORTER },
    [TW__FC_DOMAIN] = { "domain", TW__FK_PLANES, 4, TW_FARCH_COL_EXPORTER },
    [TW__FC_SOURCE] = { "source", TW__FK_PLANES, 1, TW_FARCH_COL_EXPORTER },
    [TW__FC_SAMPLING] = { "sampling", TW__FK_PLANES, 4, TW_FARCH_COL_EXPORTER },
};

/* Longest block header: every column stored. */
#define BLOCK_HDR_MAX (TW__FARCH_BLOCK_FIXED + TW__FC_COUNT * TW__FARCH_COL_ENTRY + 8)

struct farch_entry {
    uint64_t off;
    uint32_t len;
    uint32_t records;
};

/* A parsed block header: where each stored column is, relative to the block. */
struct farch_blk {
    uint32_t present;
    uint32_t clen[TW__FC_COUNT];
    uint32_t rlen[TW__FC_COUNT];
    uint64_t hash[TW__FC_COUNT];
    uint32_t coff[TW__FC_COUNT];
};

struct tw_farch_reader {
    char *name;
    int fd;             /* -1 for a file in memory */
    const uint8_t *mem; /* the file in memory, or NULL */
    uint64_t size;
    struct tw_farch_summary sum;
    size_t n_blocks;
    struct farch_entry *ent;
    struct tw_farch_summary *bsum;
    size_t max_n; /* records of the largest block */
    ZSTD_DCtx *dctx;
    uint8_t hdr[BLOCK_HDR_MAX]; /* a block header read from disk */
    uint8_t *cbuf;              /* compressed columns read from disk */
    size_t cbuf_cap;
    uint8_t *raw; /* one column's raw bytes */
    size_t raw_cap;
    size_t v6_dirty; /* src6/dst6 entries at or beyond this are zero */
    /* Decoded arrays, max_n entries each, allocated when first asked for. */
    int64_t *first_ms;
    int64_t *last_ms;
    uint64_t *packets;
    uint64_t *bytes;
    uint32_t *src4;
    uint32_t *dst4;
    uint32_t *in_if;
    uint32_t *out_if;
    uint32_t *src_as;
    uint32_t *dst_as;
    uint32_t *domain;
    uint32_t *sampling;
    uint16_t *sport;
    uint16_t *dport;
    uint16_t *vlan;
    uint8_t *port_swap; /* the port_swap column */
    uint8_t *is_v6;
    uint8_t *proto;
    uint8_t *tcp_flags;
    uint8_t *tos;
    uint8_t *src_mask;
    uint8_t *dst_mask;
    uint8_t *source;
    uint8_t (*src6)[16];
    uint8_t (*dst6)[16];
    struct tw_ip *nexthop;
    struct tw_ip *exporter;
};

/* ==== Shared helpers (archive_int.h) ==== */

size_t tw__farch_raw_max(unsigned c, size_t n)
{
    switch (tw__farch_cols[c].kind) {
        case TW__FK_PLANES:
            return tw__farch_cols[c].width * n;
        case TW__FK_IP:
            return 21 * n;
        default:
            return 33 * n;
    }
}

void tw__farch_summary_init(struct tw_farch_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->first_ms = INT64_MAX;
    s->last_ms = INT64_MIN;
    s->src4_min = UINT32_MAX;
    s->dst4_min = UINT32_MAX;
}

void tw__farch_summary_merge(struct tw_farch_summary *into, const struct tw_farch_summary *s)
{
    into->records += s->records;
    into->first_ms = TW_MIN(into->first_ms, s->first_ms);
    into->last_ms = TW_MAX(into->last_ms, s->last_ms);
    if (s->has_v4) {
        into->src4_min = TW_MIN(into->src4_min, s->src4_min);
        into->src4_max = TW_MAX(into->src4_max, s->src4_max);
        into->dst4_min = TW_MIN(into->dst4_min, s->dst4_min);
        into->dst4_max = TW_MAX(into->dst4_max, s->dst4_max);
        into->has_v4 = true;
    }
    into->has_v6 = into->has_v6 || s->has_v6;
    for (size_t i = 0; i < sizeof(into->protos); i++)
        into->protos[i] |= s->protos[i];
}

void tw__farch_put_summary(uint8_t *p, const struct tw_farch_summary *s)
{
    memset(p, 0, TW__FARCH_SUMMARY_LEN);
    tw__put64(p, (uint64_t)s->first_ms);
    tw__put64(p + 8, (uint64_t)s->last_ms);
    tw__put32(p + 16, s->src4_min);
    tw__put32(p + 20, s->src4_max);
    tw__put32(p + 24, s->dst4_min);
    tw__put32(p + 28, s->dst4_max);
    memcpy(p + 32, s->protos, 32);
    p[64] = (uint8_t)((s->has_v4 ? TW__FARCH_SUM_HAS_V4 : 0) |
                      (s->has_v6 ? TW__FARCH_SUM_HAS_V6 : 0));
}

void tw__farch_get_summary(const uint8_t *p, struct tw_farch_summary *s)
{
    s->first_ms = (int64_t)tw__get64(p);
    s->last_ms = (int64_t)tw__get64(p + 8);
    s->src4_min = tw__get32(p + 16);
    s->src4_max = tw__get32(p + 20);
    s->dst4_min = tw__get32(p + 24);
    s->dst4_max = tw__get32(p + 28);
    memcpy(s->protos, p + 32, 32);
    s->has_v4 = (p[64] & TW__FARCH_SUM_HAS_V4) != 0;
    s->has_v6 = (p[64] & TW__FARCH_SUM_HAS_V6) != 0;
}

int tw__farch_check_header(const uint8_t *p, const char *name, uint32_t *interval_s,
        int64_t *start_ms, struct tw_err *err)
{
    uint32_t iv;
    int64_t start;

    if (memcmp(p, TW__FARCH_MAGIC, 8) != 0)
        return TW_E_HERE(err, TW_EINVAL, 0, "%s: not a flow archive file (bad magic)", name);
    if (tw__get16(p + 8) != TW__FARCH_VERSION)
        return TW_E_HERE(err, TW_EINVAL, 8, "%s: unsupported flow archive version %u", name,
                tw__get16(p + 8));
    if (tw__get16(p + 10) != TW__FARCH_HEADER_LEN)
        return TW_E_HERE(err, TW_EINVAL, 10, "%s: bad header length %u", name, tw__get16(p + 10));
    if (tw__get64(p + 56) != tw_hash64(p, 56, 0))
        return TW_E_HERE(err, TW_EINVAL, 56, "%s: header checksum mismatch", name);
    iv = tw__get32(p + 12);
    start = (int64_t)tw__get64(p + 16);
    if (iv == 0 || iv > TW__FARCH_MAX_INTERVAL)
        return TW_E_HERE(err, TW_EINVAL, 12, "%s: partition interval %u s out of range", name, iv);
    if (start < TW__FARCH_MIN_PART_MS || start > TW__FARCH_MAX_PART_MS ||
            start % ((int64_t)iv * 1000) != 0)
        return TW_E_HERE(
                err, TW_EINVAL, 16, "%s: bad partition start %lld", name, (long long)start);
    *interval_s = iv;
    *start_ms = start;
    return TW_OK;
}

/* ==== Opening ==== */

/* Largest length of a block of n records: a full header and every column at zstd's bound. */
static uint64_t block_len_max(size_t n)
{
    uint64_t len = BLOCK_HDR_MAX;

    for (unsigned c = 0; c < TW__FC_COUNT; c++)
        len += ZSTD_compressBound(tw__farch_raw_max(c, n));
    return len;
}

static int pread_all(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t k = pread(fd, buf, len, (off_t)off);

        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0) {
            errno = 0;
            return -1;
        }
        buf += k;
        len -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static int read_err(struct tw_farch_reader *r, uint64_t off, struct tw_err *err)
{
    if (errno == 0)
        return TW_E_HERE(err, TW_ETRUNC, (size_t)off, "%s: file ends before offset %llu", r->name,
                (unsigned long long)off);
    return TW_E_HERE(err, TW_EIO, (size_t)off, "%s: read at offset %llu: %s", r->name,
            (unsigned long long)off, strerror(errno));
}

static bool summary_equal(const struct tw_farch_summary *a, const struct tw_farch_summary *b)
{
    return a->records == b->records && a->first_ms == b->first_ms && a->last_ms == b->last_ms &&
           a->has_v4 == b->has_v4 && a->has_v6 == b->has_v6 &&
           (!a->has_v4 || (a->src4_min == b->src4_min && a->src4_max == b->src4_max &&
                                  a->dst4_min == b->dst4_min && a->dst4_max == b->dst4_max)) &&
           memcmp(a->protos, b->protos, sizeof(a->protos)) == 0;
}

/* Checks the footer at offset size-128; stores the block count and index offset. */
static int parse_footer(struct tw_farch_reader *r, const uint8_t *foot, uint64_t *index_off,
        uint64_t *index_hash, struct tw_err *err)
{
    uint64_t foff = r->size - TW__FARCH_FOOTER_LEN;
    uint32_t nb;

    if (memcmp(foot + 120, TW__FARCH_MAGIC_END, 8) != 0)
        return TW_E_HERE(err, TW_EINVAL, (size_t)(foff + 120),
                "%s: no footer at the end (incomplete or truncated file)", r->name);
    if (tw__get64(foot + 112) != tw_hash64(foot, 112, 0))
        return TW_E_HERE(
                err, TW_EINVAL, (size_t)(foff + 112), "%s: footer checksum mismatch", r->name);
    nb = tw__get32(foot + 80);
    if (nb > TW__FARCH_MAX_BLOCKS)
        return TW_E_HERE(err, TW_ELIMIT, (size_t)(foff + 80), "%s: %u blocks (at most %u)", r->name,
                nb, TW__FARCH_MAX_BLOCKS);
    *index_off = tw__get64(foot + 88);
    if (*index_off < TW__FARCH_HEADER_LEN ||
            *index_off != foff - (uint64_t)nb * TW__FARCH_INDEX_ENTRY)
        return TW_E_HERE(err, TW_EINVAL, (size_t)(foff + 88),
                "%s: index offset %llu does not fit %u blocks", r->name,
                (unsigned long long)*index_off, nb);
    *index_hash = tw__get64(foot + 96);
    r->n_blocks = nb;
    r->sum.records = tw__get64(foot);
    tw__farch_get_summary(foot + 8, &r->sum);
    return TW_OK;
}

static int parse_index(struct tw_farch_reader *r, const uint8_t *index, uint64_t index_off,
        uint64_t index_hash, struct tw_err *err)
{
    struct tw_farch_summary all;
    uint64_t expect = TW__FARCH_HEADER_LEN;
    size_t len = r->n_blocks * TW__FARCH_INDEX_ENTRY;

    if (tw_hash64(index, len, 0) != index_hash)
        return TW_E_HERE(err, TW_EINVAL, (size_t)index_off, "%s: index checksum mismatch", r->name);
    if (r->n_blocks > 0) {
        r->ent = tw_calloc(r->n_blocks, sizeof(*r->ent));
        r->bsum = tw_calloc(r->n_blocks, sizeof(*r->bsum));
        if (r->ent == NULL || r->bsum == NULL)
            return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", r->name);
    }
    tw__farch_summary_init(&all);
    for (size_t i = 0; i < r->n_blocks; i++) {
        const uint8_t *e = index + i * TW__FARCH_INDEX_ENTRY;
        size_t eoff = (size_t)(index_off + i * TW__FARCH_INDEX_ENTRY);
        struct farch_entry *en = &r->ent[i];

        en->off = tw__get64(e);
        en->len = tw__get32(e + 8);
        en->records = tw__get32(e + 12);
        if (en->off != expect)
            return TW_E_HERE(err, TW_EINVAL, eoff, "%s: block %zu at offset %llu, expected %llu",
                    r->name, i, (unsigned long long)en->off, (unsigned long long)expect);
        if (en->records == 0 || en->records > TW_FARCH_BLOCK_RECORDS)
            return TW_E_HERE(err, TW_EINVAL, eoff + 12, "%s: block %zu has %u records", r->name, i,
                    en->records);
        if (en->len < TW__FARCH_BLOCK_FIXED + 8 || en->len > block_len_max(en->records) ||
                en->len > index_off - en->off)
            return TW_E_HERE(err, TW_EINVAL, eoff + 8, "%s: block %zu has a bad length %u", r->name,
                    i, en->len);
        expect = en->off + en->len;
        tw__farch_get_summary(e + 16, &r->bsum[i]);
        r->bsum[i].records = en->records;
        tw__farch_summary_merge(&all, &r->bsum[i]);
        r->max_n = TW_MAX(r->max_n, (size_t)en->records);
    }
    if (expect != index_off)
        return TW_E_HERE(err, TW_EINVAL, (size_t)expect,
                "%s: %llu bytes between the last block and the index", r->name,
                (unsigned long long)(index_off - expect));
    if (r->n_blocks > 0 && !summary_equal(&all, &r->sum))
        return TW_E_HERE(err, TW_EINVAL, (size_t)(r->size - TW__FARCH_FOOTER_LEN),
                "%s: the file summary does not match its blocks", r->name);
    if (r->n_blocks == 0 && r->sum.records != 0)
        return TW_E_HERE(err, TW_EINVAL, (size_t)(r->size - TW__FARCH_FOOTER_LEN),
                "%s: %llu records in no block", r->name, (unsigned long long)r->sum.records);
    return TW_OK;
}

/* A new reader named `name`, or NULL when memory runs out. */
static struct tw_farch_reader *reader_new(const char *name)
{
    struct tw_farch_reader *r = tw_calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->fd = -1;
    r->name = tw_strdup(name != NULL ? name : "(memory)");
    r->dctx = ZSTD_createDCtx();
    if (r->name == NULL || r->dctx == NULL) {
        tw_farch_reader_close(r);
        return NULL;
    }
    return r;
}

/* Checks the file's size and header. */
static int open_common(struct tw_farch_reader *r, const uint8_t *hdr, struct tw_err *err)
{
    uint32_t interval;
    int64_t start;

    if (r->size < TW__FARCH_HEADER_LEN + TW__FARCH_FOOTER_LEN)
        return TW_E_HERE(err, TW_ETRUNC, (size_t)r->size,
                "%s: %llu bytes, too short for a flow archive file", r->name,
                (unsigned long long)r->size);
    return tw__farch_check_header(hdr, r->name, &interval, &start, err);
}

int tw_farch_reader_open_mem(const uint8_t *data, size_t len, const char *name,
        struct tw_farch_reader **out, struct tw_err *err)
{
    struct tw_farch_reader *r = NULL;
    uint64_t index_off = 0, index_hash = 0;
    int rc;

    *out = NULL;
    r = reader_new(name);
    if (r == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    r->mem = data;
    r->size = len;
    rc = open_common(r, data, err);
    if (rc == TW_OK)
        rc = parse_footer(r, data + len - TW__FARCH_FOOTER_LEN, &index_off, &index_hash, err);
    if (rc == TW_OK)
        rc = parse_index(r, data + index_off, index_off, index_hash, err);
    if (rc != TW_OK) {
        tw_farch_reader_close(r);
        return rc;
    }
    *out = r;
    return TW_OK;
}

int tw_farch_reader_open(const char *path, struct tw_farch_reader **out, struct tw_err *err)
{
    struct tw_farch_reader *r = NULL;
    uint8_t hdr[TW__FARCH_HEADER_LEN] = { 0 }, foot[TW__FARCH_FOOTER_LEN] = { 0 };
    uint64_t index_off = 0, index_hash = 0;
    uint8_t *index = NULL;
    struct stat st;
    int rc;

    *out = NULL;
    r = reader_new(path);
    if (r == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        rc = TW_E_HERE(err, errno == ENOENT ? TW_ENOTFOUND : TW_EIO, TW_NOPOS, "cannot open %s: %s",
                path, strerror(errno));
        tw_farch_reader_close(r);
        return rc;
    }
    if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = TW_E_HERE(err, TW_EIO, TW_NOPOS, "%s: not a regular file", path);
        tw_farch_reader_close(r);
        return rc;
    }
    r->size = (uint64_t)st.st_size;
    if (r->size < TW__FARCH_HEADER_LEN + TW__FARCH_FOOTER_LEN)
        rc = open_common(r, NULL, err);
    else if (pread_all(r->fd, hdr, sizeof(hdr), 0) != 0)
        rc = read_err(r, 0, err);
    else if (pread_all(r->fd, foot, sizeof(foot), r->size - sizeof(foot)) != 0)
        rc = read_err(r, r->size - sizeof(foot), err);
    else
        rc = open_common(r, hdr, err);
    if (rc == TW_OK)
        rc = parse_footer(r, foot, &index_off, &index_hash, err);
    if (rc == TW_OK) {
        size_t len = r->n_blocks * TW__FARCH_INDEX_ENTRY;

        index = tw_malloc(len > 0 ? len : 1);
        if (index == NULL)
            rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", path);
        else if (len > 0 && pread_all(r->fd, index, len, index_off) != 0)
            rc = read_err(r, index_off, err);
        else
            rc = parse_index(r, index, index_off, index_hash, err);
    }
    tw_free(index);
    if (rc != TW_OK) {
        tw_farch_reader_close(r);
        return rc;
    }
    *out = r;
    return TW_OK;
}

void tw_farch_reader_close(struct tw_farch_reader *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        (void)close(r->fd);
    ZSTD_freeDCtx(r->dctx);
    tw_free(r->name);
    tw_free(r->ent);
    tw_free(r->bsum);
    tw_free(r->cbuf);
    tw_free(r->raw);
    tw_free(r->first_ms);
    tw_free(r->last_ms);
    tw_free(r->packets);
    tw_free(r->bytes);
    tw_free(r->src4);
    tw_free(r->dst4);
    tw_free(r->in_if);
    tw_free(r->out_if);
    tw_free(r->src_as);
    tw_free(r->dst_as);
    tw_free(r->domain);
    tw_free(r->sampling);
    tw_free(r->sport);
    tw_free(r->dport);
    tw_free(r->vlan);
    tw_free(r->port_swap);
    tw_free(r->is_v6);
    tw_free(r->proto);
    tw_free(r->tcp_flags);
    tw_free(r->tos);
    tw_free(r->src_mask);
    tw_free(r->dst_mask);
    tw_free(r->source);
    tw_free(r->src6);
    tw_free(r->dst6);
    tw_free(r->nexthop);
    tw_free(r->exporter);
    tw_free(r);
}

const struct tw_farch_summary *tw_farch_reader_summary(const struct tw_farch_reader *r)
{
    return &r->sum;
}

size_t tw_farch_reader_nblocks(const struct tw_farch_reader *r)
{
    return r->n_blocks;
}

const struct tw_farch_summary *tw_farch_block_summary(const struct tw_farch_reader *r, size_t i)
{
    return i < r->n_blocks ? &r->bsum[i] : NULL;
}

/* ==== Reading a block ==== */

/* Checks a raw length against what column c of a block of n records can have. */
static bool raw_len_ok(unsigned c, size_t n, uint32_t rlen)
{
    const struct tw__farch_coldef *d = &tw__farch_cols[c];

    switch (d->kind) {
        case TW__FK_PLANES:
            return rlen == d->width * n;
        case TW__FK_IP:
            return rlen >= 5 * n && rlen <= 21 * n && (rlen - 5 * n) % 16 == 0;
        default:
            return rlen >= n && rlen <= 33 * n && (rlen - n) % 32 == 0;
    }
}

static int parse_block_header(struct tw_farch_reader *r, size_t bi, const uint8_t *h, size_t avail,
        struct farch_blk *b, struct tw_err *err)
{
    const struct farch_entry *en = &r->ent[bi];
    uint64_t off = en->off;
    uint32_t hlen, pos;
    size_t k = 0;
    unsigned ncols;
    const uint8_t *e;

    memset(b, 0, sizeof(*b));
    if (avail < TW__FARCH_BLOCK_FIXED + 8 || memcmp(h, TW__FARCH_BLOCK_MAGIC, 4) != 0)
        return TW_E_HERE(err, TW_EINVAL, (size_t)off, "%s: block %zu at offset %llu: bad magic",
                r->name, bi, (unsigned long long)off);
    if (tw__get32(h + 4) != en->records)
        return TW_E_HERE(err, TW_EINVAL, (size_t)(off + 4),
                "%s: block %zu at offset %llu: %u records, the index says %u", r->name, bi,
                (unsigned long long)off, tw__get32(h + 4), en->records);
    b->present = tw__get32(h + 8);
    ncols = tw__get16(h + 12);
    hlen = tw__get16(h + 14);
    if ((b->present >> TW__FC_COUNT) != 0 || ncols != (unsigned)__builtin_popcount(b->present) ||
            hlen != TW__FARCH_BLOCK_FIXED + ncols * TW__FARCH_COL_ENTRY + 8 || hlen > avail)
        return TW_E_HERE(err, TW_EINVAL, (size_t)(off + 8),
                "%s: block %zu at offset %llu: bad column set", r->name, bi,
                (unsigned long long)off);
    if (tw__get64(h + hlen - 8) != tw_hash64(h, hlen - 8, 0))
        return TW_E_HERE(err, TW_EINVAL, (size_t)(off + hlen - 8),
                "%s: block %zu at offset %llu: header checksum mismatch", r->name, bi,
                (unsigned long long)off);
    e = h + TW__FARCH_BLOCK_FIXED;
    pos = hlen;
    for (unsigned c = 0; c < TW__FC_COUNT; c++) {
        uint32_t clen, rlen;

        if ((b->present & (1u << c)) == 0)
            continue;
        clen = tw__get32(e + k * TW__FARCH_COL_ENTRY);
        rlen = tw__get32(e + k * TW__FARCH_COL_ENTRY + 4);
        if (!raw_len_ok(c, en->records, rlen) || clen == 0 || clen > ZSTD_compressBound(rlen) ||
                clen > en->len - pos)
            return TW_E_HERE(err, TW_EINVAL,
                    (size_t)(off + TW__FARCH_BLOCK_FIXED + k * TW__FARCH_COL_ENTRY),
                    "%s: block %zu at offset %llu: column %s has bad lengths (%u, %u)", r->name, bi,
                    (unsigned long long)off, tw__farch_cols[c].name, clen, rlen);
        b->clen[c] = clen;
        b->rlen[c] = rlen;
        b->hash[c] = tw__get64(e + k * TW__FARCH_COL_ENTRY + 8);
        b->coff[c] = pos;
        pos += clen;
        k++;
    }
    if (pos != en->len)
        return TW_E_HERE(err, TW_EINVAL, (size_t)(off + pos),
                "%s: block %zu at offset %llu: columns end at %u of %u bytes", r->name, bi,
                (unsigned long long)off, pos, en->len);
    return TW_OK;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    uint8_t *p;

    if (need <= *cap)
        return TW_OK;
    p = tw_realloc(*buf, need);
    if (p == NULL)
        return TW_ENOMEM;
    *buf = p;
    *cap = need;
    return TW_OK;
}

/*
 * Checks and decompresses stored column c (compressed bytes at src) into
 * dst, which holds exactly its raw length.
 */
static int col_unpack(struct tw_farch_reader *r, size_t bi, const struct farch_blk *b, unsigned c,
        const uint8_t *src, uint8_t *dst, struct tw_err *err)
{
    uint64_t off = r->ent[bi].off + b->coff[c];
    size_t clen = b->clen[c], rlen = b->rlen[c], got;

    if (tw_hash64(src, clen, 0) != b->hash[c])
        return TW_E_HERE(err, TW_EINVAL, (size_t)off,
                "%s: block %zu column %s at offset %llu: checksum mismatch", r->name, bi,
                tw__farch_cols[c].name, (unsigned long long)off);
    if (ZSTD_getFrameContentSize(src, clen) != rlen ||
            ZSTD_findFrameCompressedSize(src, clen) != clen)
        return TW_E_HERE(err, TW_EINVAL, (size_t)off,
                "%s: block %zu column %s at offset %llu: not one zstd frame of %zu bytes", r->name,
                bi, tw__farch_cols[c].name, (unsigned long long)off, rlen);
    got = ZSTD_decompressDCtx(r->dctx, dst, rlen, src, clen);
    if (ZSTD_isError(got) || got != rlen)
        return TW_E_HERE(err, TW_EINVAL, (size_t)off, "%s: block %zu column %s at offset %llu: %s",
                r->name, bi, tw__farch_cols[c].name, (unsigned long long)off,
                ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short decompression");
    return TW_OK;
}

static int bad_data(struct tw_farch_reader *r, size_t bi, const struct farch_blk *b, unsigned c,
        const char *what, struct tw_err *err)
{
    uint64_t off = r->ent[bi].off + b->coff[c];

    return TW_E_HERE(err, TW_EINVAL, (size_t)off, "%s: block %zu column %s at offset %llu: %s",
            r->name, bi, tw__farch_cols[c].name, (unsigned long long)off, what);
}

/*
 * Plane recombination runs for every address a hunt reads. The loops work in
 * chunks of a constant CHUNK values on restrict pointers so that the compiler
 * can turn each chunk into vector instructions at -O2.
 */
#define CHUNK 16

static void unplane32(uint32_t *restrict out, const uint8_t *restrict p, size_t n)
{
    const uint8_t *restrict p1 = p + n, *restrict p2 = p + 2 * n, *restrict p3 = p + 3 * n;
    size_t i = 0;

    for (; i + CHUNK <= n; i += CHUNK)
        for (size_t k = i; k < i + CHUNK; k++)
            out[k] = (uint32_t)p[k] | (uint32_t)p1[k] << 8 | (uint32_t)p2[k] << 16 |
                     (uint32_t)p3[k] << 24;
    for (; i < n; i++)
        out[i] = (uint32_t)p[i] | (uint32_t)p1[i] << 8 | (uint32_t)p2[i] << 16 |
                 (uint32_t)p3[i] << 24;
}

static void unplane16(uint16_t *restrict out, const uint8_t *restrict p, size_t n)
{
    const uint8_t *restrict p1 = p + n;
    size_t i = 0;

    for (; i + CHUNK <= n; i += CHUNK)
        for (size_t k = i; k < i + CHUNK; k++)
            out[k] = (uint16_t)(p[k] | p1[k] << 8);
    for (; i < n; i++)
        out[i] = (uint16_t)(p[i] | p1[i] << 8);
}

static uint64_t get_plane64(const uint8_t *p, size_t n, size_t i)
{
    return (uint64_t)p[i] | (uint64_t)p[n + i] << 8 | (uint64_t)p[2 * n + i] << 16 |
           (uint64_t)p[3 * n + i] << 24 | (uint64_t)p[4 * n + i] << 32 |
           (uint64_t)p[5 * n + i] << 40 | (uint64_t)p[6 * n + i] << 48 |
           (uint64_t)p[7 * n + i] << 56;
}

static void unplane64(uint64_t *restrict out, const uint8_t *restrict p, size_t n)
{
    size_t i = 0;

    for (; i + CHUNK <= n; i += CHUNK)
        for (size_t k = i; k < i + CHUNK; k++)
            out[k] = get_plane64(p, n, k);
    for (; i < n; i++)
        out[i] = get_plane64(p, n, i);
}

static uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

/* Decodes an ip column (families, IPv4 planes, IPv6 tail). */
static bool get_ips(const uint8_t *raw, size_t len, size_t n, struct tw_ip *out)
{
    const uint8_t *tail = raw + 5 * n;
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (raw[i] == 6)
            k++;
        else if (raw[i] != 0 && raw[i] != 4)
            return false;
    }
    if (len != 5 * n + 16 * k)
        return false;
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].family = raw[i];
        if (raw[i] == 4) {
            out[i].bytes[0] = raw[4 * n + i];
            out[i].bytes[1] = raw[3 * n + i];
            out[i].bytes[2] = raw[2 * n + i];
            out[i].bytes[3] = raw[n + i];
        } else if (raw[i] == 6) {
            memcpy(out[i].bytes, tail, 16);
            tail += 16;
        }
    }
    return true;
}

/* Clears the IPv6 address arrays up to where a previous block wrote. */
static void v6_clear(struct tw_farch_reader *r)
{
    if (r->v6_dirty > 0) {
        memset(r->src6, 0, r->v6_dirty * 16);
        memset(r->dst6, 0, r->v6_dirty * 16);
        r->v6_dirty = 0;
    }
}

/* Decodes the v6 column: flags into is_v6, addresses into src6/dst6 (zero elsewhere). */
static bool get_v6(struct tw_farch_reader *r, const uint8_t *raw, size_t len, size_t n)
{
    const uint8_t *tail = raw + n;
    size_t k = 0, dirty = 0;

    for (size_t i = 0; i < n; i++) {
        if (raw[i] > 1)
            return false;
        k += raw[i];
    }
    if (len != n + 32 * k)
        return false;
    memcpy(r->is_v6, raw, n);
    for (size_t i = 0; i < n; i++) {
        if (raw[i]) {
            memcpy(r->src6[i], tail, 16);
            memcpy(r->dst6[i], tail + 16, 16);
            tail += 32;
            dirty = i + 1;
        } else if (i < r->v6_dirty) {
            memset(r->src6[i], 0, 16);
            memset(r->dst6[i], 0, 16);
        }
    }
    if (r->v6_dirty > n) {
        memset(r->src6[n], 0, (r->v6_dirty - n) * 16);
        memset(r->dst6[n], 0, (r->v6_dirty - n) * 16);
    }
    r->v6_dirty = dirty;
    return true;
}

/* Allocates the decoded arrays of the groups in `cols`. */
static int alloc_arrays(struct tw_farch_reader *r, unsigned cols)
{
    size_t m = r->max_n;
    bool ok = true;

#define NEED(field)                                                                                \
    do {                                                                                           \
        if (r->field == NULL)                                                                      \
            ok = ok && (r->field = tw_calloc(m, sizeof(*r->field))) != NULL;                       \
    } while (0)
    if (cols & TW_FARCH_COL_TIME) {
        NEED(first_ms);
        NEED(last_ms);
    }
    if (cols & TW_FARCH_COL_ADDR) {
        NEED(src4);
        NEED(dst4);
        NEED(is_v6);
        NEED(src6);
        NEED(dst6);
    }
    if (cols & TW_FARCH_COL_PORTS) {
        NEED(sport);
        NEED(dport);
        NEED(port_swap);
    }
    if (cols & TW_FARCH_COL_PROTO) {
        NEED(proto);
        NEED(tcp_flags);
        NEED(tos);
    }
    if (cols & TW_FARCH_COL_COUNTERS) {
        NEED(packets);
        NEED(bytes);
    }
    if (cols & TW_FARCH_COL_IFACE) {
        NEED(in_if);
        NEED(out_if);
        NEED(vlan);
    }
    if (cols & TW_FARCH_COL_ROUTING) {
        NEED(nexthop);
        NEED(src_as);
        NEED(dst_as);
        NEED(src_mask);
        NEED(dst_mask);
    }
    if (cols & TW_FARCH_COL_EXPORTER) {
        NEED(exporter);
        NEED(domain);
        NEED(source);
        NEED(sampling);
    }
#undef NEED
    return ok ? TW_OK : TW_ENOMEM;
}

/* The decoded array and width of a planes column, or NULL. */
static void *planes_target(struct tw_farch_reader *r, unsigned c)
{
    switch (c) {
        case TW__FC_SRC4:
            return r->src4;
        case TW__FC_DST4:
            return r->dst4;
        case TW__FC_PORT_LO:
            return r->sport;
        case TW__FC_PORT_HI:
            return r->dport;
        case TW__FC_PORT_SWAP:
            return r->port_swap;
        case TW__FC_PROTO:
            return r->proto;
        case TW__FC_TCP_FLAGS:
            return r->tcp_flags;
        case TW__FC_TOS:
            return r->tos;
        case TW__FC_IN_IF:
            return r->in_if;
        case TW__FC_OUT_IF:
            return r->out_if;
        case TW__FC_VLAN:
            return r->vlan;
        case TW__FC_SRC_AS:
            return r->src_as;
        case TW__FC_DST_AS:
            return r->dst_as;
        case TW__FC_SRC_MASK:
            return r->src_mask;
        case TW__FC_DST_MASK:
            return r->dst_mask;
        case TW__FC_DOMAIN:
            return r->domain;
        case TW__FC_SOURCE:
            return r->source;
        case TW__FC_SAMPLING:
            return r->sampling;
        default:
            return NULL;
    }
}

/* Fills the decoded values of a column that is not stored (all zero). */
static void col_absent(struct tw_farch_reader *r, unsigned c, size_t n)
{
    const struct tw__farch_coldef *d = &tw__farch_cols[c];

    switch (c) {
        case TW__FC_FIRST:
            memset(r->first_ms, 0, n * sizeof(*r->first_ms));
            return;
        case TW__FC_DUR:
            memcpy(r->last_ms, r->first_ms, n * sizeof(*r->last_ms));
            return;
        case TW__FC_V6:
            memset(r->is_v6, 0, n);
            v6_clear(r);
            return;
        case TW__FC_PACKETS:
            memset(r->packets, 0, n * sizeof(*r->packets));
            return;
        case TW__FC_BYTES:
            memset(r->bytes, 0, n * sizeof(*r->bytes));
            return;
        case TW__FC_NEXTHOP:
            memset(r->nexthop, 0, n * sizeof(*r->nexthop));
            return;
        case TW__FC_EXPORTER:
            memset(r->exporter, 0, n * sizeof(*r->exporter));
            return;
        default:
            memset(planes_target(r, c), 0, n * d->width);
            return;
    }
}

/* Decodes stored column c of block bi from its compressed bytes at src. */
static int col_decode(struct tw_farch_reader *r, size_t bi, const struct farch_blk *b, unsigned c,
        const uint8_t *src, size_t n, struct tw_err *err)
{
    const struct tw__farch_coldef *d = &tw__farch_cols[c];
    size_t rlen = b->rlen[c];
    uint8_t *dst;
    int rc;

    if (c == TW__FC_PORT_SWAP) {
        /* After port_lo and port_hi (in sport and dport): swap where flagged. */
        rc = col_unpack(r, bi, b, c, src, r->port_swap, err);
        if (rc != TW_OK)
            return rc;
        for (size_t i = 0; i < n; i++) {
            uint16_t lo = r->sport[i], hi = r->dport[i];

            if (r->port_swap[i] > 1)
                return bad_data(r, bi, b, c, "bad port swap flag", err);
            r->sport[i] = r->port_swap[i] ? hi : lo;
            r->dport[i] = r->port_swap[i] ? lo : hi;
        }
        return TW_OK;
    }
    if (d->kind == TW__FK_PLANES && d->width == 1)
        return col_unpack(r, bi, b, c, src, planes_target(r, c), err);
    if (grow(&r->raw, &r->raw_cap, rlen) != TW_OK)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", r->name);
    dst = r->raw;
    rc = col_unpack(r, bi, b, c, src, dst, err);
    if (rc != TW_OK)
        return rc;
    switch (c) {
        case TW__FC_FIRST: {
            uint64_t *v = (uint64_t *)(void *)r->first_ms, prev = 0;

            unplane64(v, dst, n);
            for (size_t i = 0; i < n; i++) {
                prev += unzigzag(v[i]);
                v[i] = prev;
            }
            return TW_OK;
        }
        case TW__FC_DUR: {
            uint64_t *v = (uint64_t *)(void *)r->last_ms;

            unplane64(v, dst, n);
            for (size_t i = 0; i < n; i++)
                v[i] = (uint64_t)r->first_ms[i] + unzigzag(v[i]);
            return TW_OK;
        }
        case TW__FC_PACKETS:
            unplane64(r->packets, dst, n);
            return TW_OK;
        case TW__FC_BYTES:
            unplane64(r->bytes, dst, n);
            return TW_OK;
        case TW__FC_V6:
            if (!get_v6(r, dst, rlen, n))
                return bad_data(r, bi, b, c, "bad IPv6 flags or length", err);
            return TW_OK;
        case TW__FC_NEXTHOP:
        case TW__FC_EXPORTER:
            if (!get_ips(dst, rlen, n, c == TW__FC_NEXTHOP ? r->nexthop : r->exporter))
                return bad_data(r, bi, b, c, "bad address families or length", err);
            return TW_OK;
        default:
            if (d->width == 8)
                unplane64(planes_target(r, c), dst, n);
            else if (d->width == 4)
                unplane32(planes_target(r, c), dst, n);
            else
                unplane16(planes_target(r, c), dst, n);
            return TW_OK;
    }
}

int tw_farch_read_block(struct tw_farch_reader *r, size_t i, unsigned cols,
        struct tw_farch_block *out, struct tw_err *err)
{
    struct farch_blk b;
    const struct farch_entry *en;
    const uint8_t *h, *data = NULL;
    uint32_t need = 0, lo = UINT32_MAX, hi = 0;
    size_t n;
    int rc;

    memset(out, 0, sizeof(*out));
    if (i >= r->n_blocks)
        return TW_E_HERE(
                err, TW_EINVAL, TW_NOPOS, "%s: no block %zu (%zu blocks)", r->name, i, r->n_blocks);
    en = &r->ent[i];
    n = en->records;
    cols &= TW_FARCH_COL_ALL;
    if (alloc_arrays(r, cols) != TW_OK)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", r->name);
    if (r->mem != NULL) {
        h = r->mem + en->off;
        rc = parse_block_header(r, i, h, en->len, &b, err);
    } else {
        size_t hl = TW_MIN((size_t)en->len, sizeof(r->hdr));

        if (pread_all(r->fd, r->hdr, hl, en->off) != 0)
            return read_err(r, en->off, err);
        h = r->hdr;
        rc = parse_block_header(r, i, h, hl, &b, err);
    }
    if (rc != TW_OK)
        return rc;
    for (unsigned c = 0; c < TW__FC_COUNT; c++) {
        if ((tw__farch_cols[c].group & cols) == 0)
            continue;
        need |= 1u << c;
        if (b.present & (1u << c)) {
            lo = TW_MIN(lo, b.coff[c]);
            hi = TW_MAX(hi, b.coff[c] + b.clen[c]);
        }
    }
    if (hi > 0) {
        if (r->mem != NULL) {
            data = r->mem + en->off + lo;
        } else {
            if (grow(&r->cbuf, &r->cbuf_cap, hi - lo) != TW_OK)
                return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", r->name);
            if (pread_all(r->fd, r->cbuf, hi - lo, en->off + lo) != 0)
                return read_err(r, en->off + lo, err);
            data = r->cbuf;
        }
    }
    for (unsigned c = 0; c < TW__FC_COUNT; c++) {
        if ((need & (1u << c)) == 0)
            continue;
        if ((b.present & (1u << c)) == 0) {
            col_absent(r, c, n);
            continue;
        }
        rc = col_decode(r, i, &b, c, data + (b.coff[c] - lo), n, err);
        if (rc != TW_OK)
            return rc;
    }
    out->n = n;
    if (cols & TW_FARCH_COL_TIME) {
        out->first_ms = r->first_ms;
        out->last_ms = r->last_ms;
    }
    if (cols & TW_FARCH_COL_ADDR) {
        out->src4 = r->src4;
        out->dst4 = r->dst4;
        out->is_v6 = r->is_v6;
        out->src6 = (const uint8_t(*)[16])r->src6;
        out->dst6 = (const uint8_t(*)[16])r->dst6;
    }
    if (cols & TW_FARCH_COL_PORTS) {
        out->sport = r->sport;
        out->dport = r->dport;
    }
    if (cols & TW_FARCH_COL_PROTO) {
        out->proto = r->proto;
        out->tcp_flags = r->tcp_flags;
        out->tos = r->tos;
    }
    if (cols & TW_FARCH_COL_COUNTERS) {
        out->packets = r->packets;
        out->bytes = r->bytes;
    }
    if (cols & TW_FARCH_COL_IFACE) {
        out->in_if = r->in_if;
        out->out_if = r->out_if;
        out->vlan = r->vlan;
    }
    if (cols & TW_FARCH_COL_ROUTING) {
        out->nexthop = r->nexthop;
        out->src_as = r->src_as;
        out->dst_as = r->dst_as;
        out->src_mask = r->src_mask;
        out->dst_mask = r->dst_mask;
    }
    if (cols & TW_FARCH_COL_EXPORTER) {
        out->exporter = r->exporter;
        out->domain = r->domain;
        out->source = r->source;
        out->sampling = r->sampling;
    }
    return TW_OK;
}

void tw_farch_block_record(const struct tw_farch_block *b, size_t j, struct tw_flowrec *out)
{
    memset(out, 0, sizeof(*out));
    if (j >= b->n)
        return;
    if (b->first_ms != NULL) {
        out->first_ms = b->first_ms[j];
        out->last_ms = b->last_ms[j];
    }
    if (b->src4 != NULL) {
        if (b->is_v6[j]) {
            out->src.family = 6;
            out->dst.family = 6;
            memcpy(out->src.bytes, b->src6[j], 16);
            memcpy(out->dst.bytes, b->dst6[j], 16);
        } else {
            tw_ip_from_v4(&out->src, b->src4[j]);
            tw_ip_from_v4(&out->dst, b->dst4[j]);
        }
    }
    if (b->sport != NULL) {
        out->sport = b->sport[j];
        out->dport = b->dport[j];
    }
    if (b->proto != NULL) {
        out->proto = b->proto[j];
        out->tcp_flags = b->tcp_flags[j];
        out->tos = b->tos[j];
    }
    if (b->packets != NULL) {
        out->packets = b->packets[j];
        out->bytes = b->bytes[j];
    }
    if (b->in_if != NULL) {
        out->in_if = b->in_if[j];
        out->out_if = b->out_if[j];
        out->vlan = b->vlan[j];
    }
    if (b->nexthop != NULL) {
        out->nexthop = b->nexthop[j];
        out->src_as = b->src_as[j];
        out->dst_as = b->dst_as[j];
        out->src_mask = b->src_mask[j];
        out->dst_mask = b->dst_mask[j];
    }
    if (b->exporter != NULL) {
        out->exporter = b->exporter[j];
        out->domain = b->domain[j];
        out->source = b->source[j];
        out->sampling = b->sampling[j];
    }
}
