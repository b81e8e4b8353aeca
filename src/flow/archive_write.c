/*
 * archive_write.c: the flow archive writer (flowarch.h; the bytes are in
 * archive_int.h, the reasons in docs/internals/FLOWARCH.md).
 *
 * The writer keeps at most TW_FARCH_MAX_OPEN partitions open. Each open
 * partition owns a temporary file `.flows-YYYYMMDDhhmm-SEQ.twf.tmp` in its
 * final directory and the records of its current block as column arrays
 * (struct farch_cols, grown from a small capacity up to
 * TW_FARCH_BLOCK_RECORDS). When a block is full it is encoded (every column
 * turned into its raw bytes, compressed on its own with zstd, an all-zero
 * column left out) and appended to the temporary file; the block's index
 * entry stays in memory. Completing a partition writes its last block, the
 * index and the footer, syncs the file when asked, renames it to its final
 * name and syncs the directory, so a reader sees a whole file or none.
 *
 * A record whose partition is not open opens it; when TW_FARCH_MAX_OPEN are
 * open already, the least recently used one is completed first (records out
 * of order across a few intervals then cost nothing, a long tail of late
 * records costs one small file per interval and visit).
 *
 * The SEQ of a new file is the smallest one for which neither the final
 * file nor the temporary file exists. The temporary file is created with
 * O_EXCL, which reserves the SEQ against other writers; the final name is
 * looked at again after that, because another writer may have renamed its
 * file of the same SEQ in between.
 *
 * A failure to write a partition's file (disk full, I/O error) loses that
 * partition: its temporary file is removed, the error returned, and the
 * next record of the interval starts a new file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "archive_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"
#include "tidewatch/log.h"

/* ==== Types ==== */

/* Partitions open at once; the least recently used one is completed beyond. */
#define TW_FARCH_MAX_OPEN 4

/* First capacity of a partition's column arrays (grown by doubling). */
#define COLS_INITIAL 1024u

/* Temporary files a new writer removes when older than this. */
#define STALE_TMP_S 3600u

/* The per-record fields of the current block: X(type, name). */
#define FARCH_WCOLS(X)                                                                             \
    X(int64_t, first)                                                                              \
    X(int64_t, last)                                                                               \
    X(uint64_t, packets)                                                                           \
    X(uint64_t, bytes)                                                                             \
    X(uint32_t, src4)                                                                              \
    X(uint32_t, dst4)                                                                              \
    X(uint32_t, in_if)                                                                             \
    X(uint32_t, out_if)                                                                            \
    X(uint32_t, src_as)                                                                            \
    X(uint32_t, dst_as)                                                                            \
    X(uint32_t, domain)                                                                            \
    X(uint32_t, sampling)                                                                          \
    X(uint16_t, sport)                                                                             \
    X(uint16_t, dport)                                                                             \
    X(uint16_t, vlan)                                                                              \
    X(uint8_t, is_v6)                                                                              \
    X(uint8_t, proto)                                                                              \
    X(uint8_t, tcp_flags)                                                                          \
    X(uint8_t, tos)                                                                                \
    X(uint8_t, src_mask)                                                                           \
    X(uint8_t, dst_mask)                                                                           \
    X(uint8_t, source)                                                                             \
    X(struct tw_ip, nexthop)                                                                       \
    X(struct tw_ip, exporter)

struct farch_cols {
    size_t n;   /* records in the block */
    size_t cap; /* capacity of every array below */
#define X(type, name) type *name;
    FARCH_WCOLS(X)
#undef X
    uint8_t *addr6; /* 32 bytes (source, destination) per IPv6 record */
    size_t n6;
    size_t cap6;
};

struct farch_part {
    bool used;
    int64_t start_ms;
    unsigned seq;
    int fd;
    uint64_t off; /* bytes written to the temporary file */
    uint64_t lru; /* writer clock of the last record */
    char tmp_path[TW__FARCH_PATH_MAX];
    char final_path[TW__FARCH_PATH_MAX];
    char day_dir[TW__FARCH_PATH_MAX];
    struct farch_cols cols;       /* the current block */
    struct tw_farch_summary bsum; /* of the current block */
    struct tw_farch_summary fsum; /* of the blocks written */
    uint8_t *index;               /* TW__FARCH_INDEX_ENTRY bytes per block written */
    size_t n_blocks;
    size_t index_cap; /* entries */
};

struct tw_farch_writer {
    char *dir;
    bool fsync;
    uint32_t interval_s;
    int64_t interval_ms;
    int level;
    ZSTD_CCtx *cctx;
    uint8_t *raw; /* one column's raw bytes */
    size_t raw_cap;
    uint8_t *blk; /* the compressed columns of one block */
    size_t blk_cap;
    struct farch_part parts[TW_FARCH_MAX_OPEN];
    size_t last; /* the partition of the previous record */
    uint64_t clock;
    struct tw_farch_writer_stats stats;
};

/* ==== Files and directories ==== */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);

        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    (void)close(fd);
    return rc;
}

/*
 * Creates every missing directory of `path` (like mkdir -p). With `sync`,
 * the parent of each directory created is synced so the new entry is on
 * disk.
 */
static int mkdir_p(const char *path, bool sync, struct tw_err *err)
{
    char buf[TW__FARCH_PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf))
        return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "archive path too long or empty");
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        if (buf[i - 1] == '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) == 0) {
            if (sync) {
                char *slash = strrchr(buf, '/');

                if (slash != NULL && slash != buf) {
                    *slash = '\0';
                    (void)fsync_dir(buf);
                    *slash = '/';
                } else if (slash == NULL) {
                    (void)fsync_dir(".");
                }
            }
        } else if (errno != EEXIST) {
            return TW_E_HERE(
                    err, TW_EIO, TW_NOPOS, "cannot create directory %s: %s", buf, strerror(errno));
        }
        if (i < len)
            buf[i] = '/';
    }
    return TW_OK;
}

/* ==== Column arrays ==== */

static void cols_free(struct farch_cols *c)
{
#define X(type, name) tw_free(c->name);
    FARCH_WCOLS(X)
#undef X
    tw_free(c->addr6);
    memset(c, 0, sizeof(*c));
}

static int cols_grow(struct farch_cols *c)
{
    size_t cap = c->cap == 0 ? COLS_INITIAL : c->cap * 2;

    if (cap > TW_FARCH_BLOCK_RECORDS)
        cap = TW_FARCH_BLOCK_RECORDS;
#define X(type, name)                                                                              \
    {                                                                                              \
        void *p = tw_reallocarray(c->name, cap, sizeof(*c->name));                                 \
        if (p == NULL)                                                                             \
            return TW_ENOMEM;                                                                      \
        c->name = p;                                                                               \
    }
    FARCH_WCOLS(X)
#undef X
    c->cap = cap;
    return TW_OK;
}

static int cols_add_v6(struct farch_cols *c, const struct tw_flowrec *rec)
{
    if (c->n6 == c->cap6) {
        size_t cap = c->cap6 == 0 ? 64 : c->cap6 * 2;
        uint8_t *p = tw_reallocarray(c->addr6, cap, 32);

        if (p == NULL)
            return TW_ENOMEM;
        c->addr6 = p;
        c->cap6 = cap;
    }
    memcpy(c->addr6 + 32 * c->n6, rec->src.bytes, 16);
    memcpy(c->addr6 + 32 * c->n6 + 16, rec->dst.bytes, 16);
    c->n6++;
    return TW_OK;
}

static uint32_t v4_word(const struct tw_ip *ip)
{
    return (uint32_t)ip->bytes[0] << 24 | (uint32_t)ip->bytes[1] << 16 |
           (uint32_t)ip->bytes[2] << 8 | (uint32_t)ip->bytes[3];
}

/* An address of a rarely-set field: families other than 4 and 6 are "not exported". */
static void norm_ip(struct tw_ip *out, const struct tw_ip *in)
{
    memset(out, 0, sizeof(*out));
    if (in->family == 4) {
        out->family = 4;
        memcpy(out->bytes, in->bytes, 4);
    } else if (in->family == 6) {
        out->family = 6;
        memcpy(out->bytes, in->bytes, 16);
    }
}

/* ==== Raw column encodings ==== */

static uint64_t zigzag(uint64_t d)
{
    return (d << 1) ^ (0 - (d >> 63));
}

static void planes64(uint8_t *out, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned j = 0; j < 8; j++)
            out[j * n + i] = (uint8_t)(v[i] >> (8 * j));
}

static void planes32(uint8_t *out, const uint32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)v[i];
        out[n + i] = (uint8_t)(v[i] >> 8);
        out[2 * n + i] = (uint8_t)(v[i] >> 16);
        out[3 * n + i] = (uint8_t)(v[i] >> 24);
    }
}

static void planes16(uint8_t *out, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)v[i];
        out[n + i] = (uint8_t)(v[i] >> 8);
    }
}

static size_t ip_column(uint8_t *out, const struct tw_ip *ip, size_t n)
{
    size_t k = 5 * n;

    for (size_t i = 0; i < n; i++) {
        uint32_t word = ip[i].family == 4 ? v4_word(&ip[i]) : 0;

        out[i] = ip[i].family;
        out[n + i] = (uint8_t)word;
        out[2 * n + i] = (uint8_t)(word >> 8);
        out[3 * n + i] = (uint8_t)(word >> 16);
        out[4 * n + i] = (uint8_t)(word >> 24);
        if (ip[i].family == 6) {
            memcpy(out + k, ip[i].bytes, 16);
            k += 16;
        }
    }
    return k;
}

/* Writes the raw bytes of column `col` for the block in `c` into out; returns their length. */
static size_t raw_column(unsigned col, const struct farch_cols *c, uint8_t *out)
{
    size_t n = c->n;
    uint64_t prev = 0;

    switch (col) {
        case TW__FC_FIRST:
            for (size_t i = 0; i < n; i++) {
                uint64_t z = zigzag((uint64_t)c->first[i] - prev);

                prev = (uint64_t)c->first[i];
                for (unsigned j = 0; j < 8; j++)
                    out[j * n + i] = (uint8_t)(z >> (8 * j));
            }
            return 8 * n;
        case TW__FC_DUR:
            for (size_t i = 0; i < n; i++) {
                uint64_t z = zigzag((uint64_t)c->last[i] - (uint64_t)c->first[i]);

                for (unsigned j = 0; j < 8; j++)
                    out[j * n + i] = (uint8_t)(z >> (8 * j));
            }
            return 8 * n;
        case TW__FC_SRC4:
            planes32(out, c->src4, n);
            return 4 * n;
        case TW__FC_DST4:
            planes32(out, c->dst4, n);
            return 4 * n;
        case TW__FC_V6:
            memcpy(out, c->is_v6, n);
            if (c->n6 > 0)
                memcpy(out + n, c->addr6, 32 * c->n6);
            return n + 32 * c->n6;
        case TW__FC_PORT_LO:
        case TW__FC_PORT_HI:
            for (size_t i = 0; i < n; i++) {
                bool lo = (col == TW__FC_PORT_LO) == (c->sport[i] <= c->dport[i]);
                uint16_t v = lo ? c->sport[i] : c->dport[i];

                out[i] = (uint8_t)v;
                out[n + i] = (uint8_t)(v >> 8);
            }
            return 2 * n;
        case TW__FC_PORT_SWAP:
            for (size_t i = 0; i < n; i++)
                out[i] = c->sport[i] > c->dport[i];
            return n;
        case TW__FC_PROTO:
            memcpy(out, c->proto, n);
            return n;
        case TW__FC_TCP_FLAGS:
            memcpy(out, c->tcp_flags, n);
            return n;
        case TW__FC_TOS:
            memcpy(out, c->tos, n);
            return n;
        case TW__FC_PACKETS:
            planes64(out, c->packets, n);
            return 8 * n;
        case TW__FC_BYTES:
            planes64(out, c->bytes, n);
            return 8 * n;
        case TW__FC_IN_IF:
            planes32(out, c->in_if, n);
            return 4 * n;
        case TW__FC_OUT_IF:
            planes32(out, c->out_if, n);
            return 4 * n;
        case TW__FC_VLAN:
            planes16(out, c->vlan, n);
            return 2 * n;
        case TW__FC_NEXTHOP:
            return ip_column(out, c->nexthop, n);
        case TW__FC_SRC_AS:
            planes32(out, c->src_as, n);
            return 4 * n;
        case TW__FC_DST_AS:
            planes32(out, c->dst_as, n);
            return 4 * n;
        case TW__FC_SRC_MASK:
            memcpy(out, c->src_mask, n);
            return n;
        case TW__FC_DST_MASK:
            memcpy(out, c->dst_mask, n);
            return n;
        case TW__FC_EXPORTER:
            return ip_column(out, c->exporter, n);
        case TW__FC_DOMAIN:
            planes32(out, c->domain, n);
            return 4 * n;
        case TW__FC_SOURCE:
            memcpy(out, c->source, n);
            return n;
        case TW__FC_SAMPLING:
            planes32(out, c->sampling, n);
            return 4 * n;
        default:
            return 0;
    }
}

/* True when p[0..n) is all zero; stops at the first nonzero word. */
static bool all_zero(const uint8_t *p, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t w;

        memcpy(&w, p + i, 8);
        if (w != 0)
            return false;
    }
    for (; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* ==== Partitions ==== */

static void part_reset(struct farch_part *p)
{
    cols_free(&p->cols);
    tw_free(p->index);
    p->index = NULL;
    p->n_blocks = 0;
    p->index_cap = 0;
    p->used = false;
    p->fd = -1;
}

/* Drops a partition after a failure: its temporary file is removed. */
static void part_abandon(struct farch_part *p)
{
    if (p->fd >= 0)
        (void)close(p->fd);
    p->fd = -1;
    if (p->tmp_path[0] != '\0' && unlink(p->tmp_path) != 0 && errno != ENOENT)
        tw_log(TW_LOG_WARN, "farch", "cannot remove %s: %s", p->tmp_path, strerror(errno));
    part_reset(p);
}

static int ensure_cap(uint8_t **buf, size_t *cap, size_t need)
{
    uint8_t *p;
    size_t want;

    if (need <= *cap)
        return TW_OK;
    want = *cap == 0 ? 65536 : *cap;
    while (want < need)
        want *= 2;
    p = tw_realloc(*buf, want);
    if (p == NULL)
        return TW_ENOMEM;
    *buf = p;
    *cap = want;
    return TW_OK;
}

/* Encodes the current block of p and appends it to its temporary file. */
static int block_write(struct tw_farch_writer *w, struct farch_part *p, struct tw_err *err)
{
    struct farch_cols *c = &p->cols;
    uint8_t hdr[TW__FARCH_BLOCK_FIXED + TW__FC_COUNT * TW__FARCH_COL_ENTRY + 8];
    uint8_t *entry = hdr + TW__FARCH_BLOCK_FIXED, *ix;
    uint32_t present = 0;
    unsigned ncols = 0;
    size_t pos = 0, hlen;
    int rc;

    if (p->n_blocks == TW__FARCH_MAX_BLOCKS)
        return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "%s: more than %u blocks", p->tmp_path,
                TW__FARCH_MAX_BLOCKS);
    for (unsigned col = 0; col < TW__FC_COUNT; col++) {
        size_t raw_len, bound, clen;

        rc = ensure_cap(&w->raw, &w->raw_cap, tw__farch_raw_max(col, c->n));
        if (rc != TW_OK)
            return TW_E_HERE(err, rc, TW_NOPOS, "out of memory encoding a block");
        raw_len = raw_column(col, c, w->raw);
        if (all_zero(w->raw, raw_len))
            continue;
        bound = ZSTD_compressBound(raw_len);
        rc = ensure_cap(&w->blk, &w->blk_cap, pos + bound);
        if (rc != TW_OK)
            return TW_E_HERE(err, rc, TW_NOPOS, "out of memory encoding a block");
        clen = ZSTD_compressCCtx(w->cctx, w->blk + pos, bound, w->raw, raw_len, w->level);
        if (ZSTD_isError(clen))
            return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "zstd: %s", ZSTD_getErrorName(clen));
        tw__put32(entry, (uint32_t)clen);
        tw__put32(entry + 4, (uint32_t)raw_len);
        tw__put64(entry + 8, tw_hash64(w->blk + pos, clen, 0));
        entry += TW__FARCH_COL_ENTRY;
        present |= 1u << col;
        ncols++;
        pos += clen;
    }
    hlen = TW__FARCH_BLOCK_FIXED + ncols * TW__FARCH_COL_ENTRY + 8;
    memcpy(hdr, TW__FARCH_BLOCK_MAGIC, 4);
    tw__put32(hdr + 4, (uint32_t)c->n);
    tw__put32(hdr + 8, present);
    tw__put16(hdr + 12, (uint16_t)ncols);
    tw__put16(hdr + 14, (uint16_t)hlen);
    tw__put64(hdr + hlen - 8, tw_hash64(hdr, hlen - 8, 0));

    if (p->n_blocks == p->index_cap) {
        size_t cap = p->index_cap == 0 ? 16 : p->index_cap * 2;
        uint8_t *q = tw_reallocarray(p->index, cap, TW__FARCH_INDEX_ENTRY);

        if (q == NULL)
            return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory for a block index");
        p->index = q;
        p->index_cap = cap;
    }
    if (write_all(p->fd, hdr, hlen) != 0 || write_all(p->fd, w->blk, pos) != 0)
        return TW_E_HERE(
                err, TW_EIO, (size_t)p->off, "cannot write %s: %s", p->tmp_path, strerror(errno));
    ix = p->index + p->n_blocks * TW__FARCH_INDEX_ENTRY;
    tw__put64(ix, p->off);
    tw__put32(ix + 8, (uint32_t)(hlen + pos));
    tw__put32(ix + 12, (uint32_t)c->n);
    p->bsum.records = c->n;
    tw__farch_put_summary(ix + 16, &p->bsum);
    tw__farch_summary_merge(&p->fsum, &p->bsum);
    p->n_blocks++;
    p->off += hlen + pos;
    w->stats.blocks++;
    c->n = 0;
    c->n6 = 0;
    tw__farch_summary_init(&p->bsum);
    return TW_OK;
}

/* Opens the temporary file of a new partition starting at start_ms. */
static int part_open(
        struct tw_farch_writer *w, struct farch_part *p, int64_t start_ms, struct tw_err *err)
{
    uint8_t hdr[TW__FARCH_HEADER_LEN];
    char name[64], tmp_name[64];
    int rc, len;

    memset(p, 0, sizeof(*p));
    p->fd = -1;
    p->start_ms = start_ms;
    tw__farch_summary_init(&p->bsum);
    tw__farch_summary_init(&p->fsum);
    len = tw__farch_day_dir(w->dir, start_ms, p->day_dir, sizeof(p->day_dir));
    if (len < 0)
        return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "archive path too long");
    rc = mkdir_p(p->day_dir, w->fsync, err);
    if (rc != TW_OK)
        return rc;
    for (unsigned seq = 0; seq < TW__FARCH_MAX_SEQ; seq++) {
        struct stat st;

        if (tw__farch_file_name(start_ms, seq, false, name, sizeof(name)) < 0 ||
                tw__farch_file_name(start_ms, seq, true, tmp_name, sizeof(tmp_name)) < 0 ||
                snprintf(p->final_path, sizeof(p->final_path), "%s/%s", p->day_dir, name) >=
                        (int)sizeof(p->final_path) ||
                snprintf(p->tmp_path, sizeof(p->tmp_path), "%s/%s", p->day_dir, tmp_name) >=
                        (int)sizeof(p->tmp_path))
            return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "archive path too long");
        if (lstat(p->final_path, &st) == 0)
            continue;
        p->fd = open(p->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (p->fd < 0) {
            if (errno == EEXIST)
                continue;
            rc = TW_E_HERE(
                    err, TW_EIO, TW_NOPOS, "cannot create %s: %s", p->tmp_path, strerror(errno));
            p->tmp_path[0] = '\0';
            return rc;
        }
        if (lstat(p->final_path, &st) == 0) {
            /* Another writer completed this SEQ between our two looks. */
            (void)close(p->fd);
            p->fd = -1;
            (void)unlink(p->tmp_path);
            continue;
        }
        p->seq = seq;
        break;
    }
    if (p->fd < 0) {
        p->tmp_path[0] = '\0';
        return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "%s: %u files of one interval already",
                p->day_dir, TW__FARCH_MAX_SEQ);
    }
    memset(hdr, 0, sizeof(hdr));
    memcpy(hdr, TW__FARCH_MAGIC, 8);
    tw__put16(hdr + 8, TW__FARCH_VERSION);
    tw__put16(hdr + 10, TW__FARCH_HEADER_LEN);
    tw__put32(hdr + 12, w->interval_s);
    tw__put64(hdr + 16, (uint64_t)start_ms);
    tw__put64(hdr + 56, tw_hash64(hdr, 56, 0));
    if (write_all(p->fd, hdr, sizeof(hdr)) != 0) {
        rc = TW_E_HERE(err, TW_EIO, 0, "cannot write %s: %s", p->tmp_path, strerror(errno));
        part_abandon(p);
        return rc;
    }
    p->off = sizeof(hdr);
    p->used = true;
    return TW_OK;
}

/* Writes the last block, the index and the footer, and makes the file visible. */
static int part_complete(struct tw_farch_writer *w, struct farch_part *p, struct tw_err *err)
{
    uint8_t foot[TW__FARCH_FOOTER_LEN];
    uint64_t index_off;
    size_t index_len;
    int rc;

    if (p->cols.n > 0 && (rc = block_write(w, p, err)) != TW_OK) {
        part_abandon(p);
        return rc;
    }
    index_off = p->off;
    index_len = p->n_blocks * TW__FARCH_INDEX_ENTRY;
    memset(foot, 0, sizeof(foot));
    tw__put64(foot, p->fsum.records);
    tw__farch_put_summary(foot + 8, &p->fsum);
    tw__put32(foot + 80, (uint32_t)p->n_blocks);
    tw__put64(foot + 88, index_off);
    tw__put64(foot + 96, tw_hash64(p->index, index_len, 0));
    tw__put64(foot + 112, tw_hash64(foot, 112, 0));
    memcpy(foot + 120, TW__FARCH_MAGIC_END, 8);
    if ((index_len > 0 && write_all(p->fd, p->index, index_len) != 0) ||
            write_all(p->fd, foot, sizeof(foot)) != 0) {
        rc = TW_E_HERE(err, TW_EIO, (size_t)index_off, "cannot write %s: %s", p->tmp_path,
                strerror(errno));
        part_abandon(p);
        return rc;
    }
    if (w->fsync && fsync(p->fd) != 0) {
        rc = TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot sync %s: %s", p->tmp_path, strerror(errno));
        part_abandon(p);
        return rc;
    }
    if (close(p->fd) != 0) {
        p->fd = -1;
        rc = TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot close %s: %s", p->tmp_path, strerror(errno));
        part_abandon(p);
        return rc;
    }
    p->fd = -1;
    if (rename(p->tmp_path, p->final_path) != 0) {
        rc = TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot rename %s to %s: %s", p->tmp_path,
                p->final_path, strerror(errno));
        part_abandon(p);
        return rc;
    }
    if (w->fsync && fsync_dir(p->day_dir) != 0)
        tw_log(TW_LOG_WARN, "farch", "cannot sync directory %s: %s", p->day_dir, strerror(errno));
    w->stats.files++;
    w->stats.bytes_written += index_off + index_len + sizeof(foot);
    p->tmp_path[0] = '\0';
    part_reset(p);
    return TW_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The open partition that starts at start_ms, opening it (and completing another) if needed. */
static int part_get(
        struct tw_farch_writer *w, int64_t start_ms, struct farch_part **out, struct tw_err *err)
{
    size_t free_slot = TW_FARCH_MAX_OPEN, lru = TW_FARCH_MAX_OPEN;
    int rc;

    if (w->parts[w->last].used && w->parts[w->last].start_ms == start_ms) {
        *out = &w->parts[w->last];
        return TW_OK;
    }
    for (size_t i = 0; i < TW_FARCH_MAX_OPEN; i++) {
        struct farch_part *p = &w->parts[i];

        if (!p->used) {
            if (free_slot == TW_FARCH_MAX_OPEN)
                free_slot = i;
            continue;
        }
        if (p->start_ms == start_ms) {
            w->last = i;
            *out = p;
            return TW_OK;
        }
        if (lru == TW_FARCH_MAX_OPEN || p->lru < w->parts[lru].lru)
            lru = i;
    }
    if (free_slot == TW_FARCH_MAX_OPEN) {
        free_slot = lru;
        rc = part_complete(w, &w->parts[lru], err);
        if (rc != TW_OK)
            return rc;
    }
    rc = part_open(w, &w->parts[free_slot], start_ms, err);
    if (rc != TW_OK)
        return rc;
    w->last = free_slot;
    *out = &w->parts[free_slot];
    return TW_OK;
}

static void summary_add(struct tw_farch_summary *s, const struct tw_flowrec *rec, bool v6,
        uint32_t src4, uint32_t dst4)
{
    if (rec->first_ms < s->first_ms)
        s->first_ms = rec->first_ms;
    if (rec->last_ms > s->last_ms)
        s->last_ms = rec->last_ms;
    if (v6) {
        s->has_v6 = true;
    } else {
        s->has_v4 = true;
        s->src4_min = TW_MIN(s->src4_min, src4);
        s->src4_max = TW_MAX(s->src4_max, src4);
        s->dst4_min = TW_MIN(s->dst4_min, dst4);
        s->dst4_max = TW_MAX(s->dst4_max, dst4);
    }
    s->protos[rec->proto >> 3] |= (uint8_t)(1u << (rec->proto & 7));
}

/* ==== Public API ==== */

void tw_farch_writer_config_init(struct tw_farch_writer_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->interval_s = TW_FARCH_DEFAULT_INTERVAL_S;
    cfg->zstd_level = 3;
}

int tw_farch_writer_open(const char *dir, const struct tw_farch_writer_config *cfg,
        struct tw_farch_writer **out, struct tw_err *err)
{
    struct tw_farch_writer *w;
    struct tw_err cerr;
    uint32_t interval =
            cfg != NULL && cfg->interval_s != 0 ? cfg->interval_s : TW_FARCH_DEFAULT_INTERVAL_S;
    int level = cfg != NULL && cfg->zstd_level != 0 ? cfg->zstd_level : 3;
    long removed;
    int rc;

    *out = NULL;
    if (dir == NULL || dir[0] == '\0')
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "no archive directory given");
    if (interval > TW__FARCH_MAX_INTERVAL)
        return TW_E_HERE(err, TW_ERANGE, TW_NOPOS,
                "partition interval %u s is longer than a day (%u s)", interval,
                TW__FARCH_MAX_INTERVAL);
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return TW_E_HERE(err, TW_ERANGE, TW_NOPOS, "zstd level %d outside %d .. %d", level,
                ZSTD_minCLevel(), ZSTD_maxCLevel());
    if (strlen(dir) > TW__FARCH_PATH_MAX - 64)
        return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "archive path too long");
    rc = mkdir_p(dir, cfg != NULL && cfg->fsync, err);
    if (rc != TW_OK)
        return rc;
    w = tw_calloc(1, sizeof(*w));
    if (w == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    w->dir = tw_strdup(dir);
    w->cctx = ZSTD_createCCtx();
    if (w->dir == NULL || w->cctx == NULL) {
        tw_free(w->dir);
        ZSTD_freeCCtx(w->cctx);
        tw_free(w);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    w->fsync = cfg != NULL && cfg->fsync;
    w->interval_s = interval;
    w->interval_ms = (int64_t)interval * 1000;
    w->level = level;
    for (size_t i = 0; i < TW_FARCH_MAX_OPEN; i++)
        w->parts[i].fd = -1;
    removed = tw_farch_cleanup(dir, STALE_TMP_S, &cerr);
    if (removed > 0)
        tw_log(TW_LOG_INFO, "farch", "%s: removed %ld temporary files of killed writers", dir,
                removed);
    else if (removed < 0)
        tw_log(TW_LOG_WARN, "farch", "%s", cerr.msg);
    *out = w;
    return TW_OK;
}

int tw_farch_writer_add(struct tw_farch_writer *w, int64_t part_ms, const struct tw_flowrec *rec,
        struct tw_err *err)
{
    struct farch_part *p;
    struct farch_cols *c;
    bool v6;
    uint32_t src4 = 0, dst4 = 0;
    size_t i;
    int rc;

    if (rec->src.family != rec->dst.family || (rec->src.family != 4 && rec->src.family != 6))
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                "record addresses of families %u and %u (both 4 or both 6 expected)",
                rec->src.family, rec->dst.family);
    if (part_ms < TW__FARCH_MIN_PART_MS || part_ms > TW__FARCH_MAX_PART_MS)
        return TW_E_HERE(err, TW_ERANGE, TW_NOPOS,
                "partition time %lld ms outside years 1970 .. 9999", (long long)part_ms);
    rc = part_get(w, floor_div(part_ms, w->interval_ms) * w->interval_ms, &p, err);
    if (rc != TW_OK)
        return rc;
    c = &p->cols;
    if (c->n == c->cap && (rc = cols_grow(c)) != TW_OK)
        return TW_E_HERE(err, rc, TW_NOPOS, "out of memory");
    v6 = rec->src.family == 6;
    if (v6) {
        rc = cols_add_v6(c, rec);
        if (rc != TW_OK)
            return TW_E_HERE(err, rc, TW_NOPOS, "out of memory");
    } else {
        src4 = v4_word(&rec->src);
        dst4 = v4_word(&rec->dst);
    }
    i = c->n++;
    c->first[i] = rec->first_ms;
    c->last[i] = rec->last_ms;
    c->packets[i] = rec->packets;
    c->bytes[i] = rec->bytes;
    c->src4[i] = src4;
    c->dst4[i] = dst4;
    c->in_if[i] = rec->in_if;
    c->out_if[i] = rec->out_if;
    c->src_as[i] = rec->src_as;
    c->dst_as[i] = rec->dst_as;
    c->domain[i] = rec->domain;
    c->sampling[i] = rec->sampling;
    c->sport[i] = rec->sport;
    c->dport[i] = rec->dport;
    c->vlan[i] = rec->vlan;
    c->is_v6[i] = v6 ? 1 : 0;
    c->proto[i] = rec->proto;
    c->tcp_flags[i] = rec->tcp_flags;
    c->tos[i] = rec->tos;
    c->src_mask[i] = rec->src_mask;
    c->dst_mask[i] = rec->dst_mask;
    c->source[i] = rec->source;
    norm_ip(&c->nexthop[i], &rec->nexthop);
    norm_ip(&c->exporter[i], &rec->exporter);
    summary_add(&p->bsum, rec, v6, src4, dst4);
    p->lru = ++w->clock;
    w->stats.records++;
    if (c->n == TW_FARCH_BLOCK_RECORDS && (rc = block_write(w, p, err)) != TW_OK) {
        part_abandon(p);
        return rc;
    }
    return TW_OK;
}

int tw_farch_writer_tick(struct tw_farch_writer *w, int64_t now_ms, struct tw_err *err)
{
    int first = TW_OK;

    for (size_t i = 0; i < TW_FARCH_MAX_OPEN; i++) {
        struct farch_part *p = &w->parts[i];

        if (p->used && p->start_ms + w->interval_ms <= now_ms) {
            int rc = part_complete(w, p, first == TW_OK ? err : NULL);

            if (first == TW_OK)
                first = rc;
        }
    }
    return first;
}

int tw_farch_writer_flush(struct tw_farch_writer *w, struct tw_err *err)
{
    int first = TW_OK;

    /* Oldest interval first, so files become visible in time order. */
    for (;;) {
        struct farch_part *p = NULL;
        int rc;

        for (size_t i = 0; i < TW_FARCH_MAX_OPEN; i++)
            if (w->parts[i].used && (p == NULL || w->parts[i].start_ms < p->start_ms))
                p = &w->parts[i];
        if (p == NULL)
            return first;
        rc = part_complete(w, p, first == TW_OK ? err : NULL);
        if (first == TW_OK)
            first = rc;
    }
}

int tw_farch_writer_close(struct tw_farch_writer *w, bool discard, struct tw_err *err)
{
    int rc = TW_OK;

    if (w == NULL)
        return TW_OK;
    if (!discard)
        rc = tw_farch_writer_flush(w, err);
    for (size_t i = 0; i < TW_FARCH_MAX_OPEN; i++)
        if (w->parts[i].used)
            part_abandon(&w->parts[i]);
    ZSTD_freeCCtx(w->cctx);
    tw_free(w->raw);
    tw_free(w->blk);
    tw_free(w->dir);
    tw_free(w);
    return rc;
}

void tw_farch_writer_stats(const struct tw_farch_writer *w, struct tw_farch_writer_stats *out)
{
    *out = w->stats;
}
