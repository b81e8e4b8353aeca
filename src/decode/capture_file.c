/*
 * capture_file.c: one capture file: its byte source (map, memory or stream)
 * and the classic pcap and pcapng parsers that read packets from it.
 *
 * The parsers never read a field before src_need() has made the whole record
 * (or block) available, and check each length against what is left before
 * using it. Any problem ends the file with one error naming the file and the
 * offset where the bad record starts; docs/internals/CAPTURE.md lists them.
 *
 * Classic pcap file header (24 bytes, in the writer's byte order):
 *
 *   OFFSET SIZE DESCRIPTION
 *      0     4  magic: A1B2C3D4 (us), A1B23C4D (ns), A1B2CD34 (us, 24-byte records)
 *      4     2  major version (2)
 *      6     2  minor version (4)
 *      8     4  time zone (unused)
 *     12     4  sigfigs (unused)
 *     16     4  snap length
 *     20     4  link type (low 16 bits; the high bits carry FCS information)
 *
 * Record header (16 bytes, or 24 for A1B2CD34, whose extra 8 bytes we skip):
 *
 *      0     4  seconds since the epoch (unsigned)
 *      4     4  microseconds or nanoseconds
 *      8     4  captured length (bytes that follow)
 *     12     4  original length on the wire
 *
 * pcapng block (every block; lengths include header and trailer):
 *
 *      0     4  block type
 *      4     4  block total length (multiple of 4, at least 12)
 *      8     -  body
 *    L-4     4  block total length again
 *
 * Section Header Block (0x0A0D0D0A, a palindrome, so readable before the
 * byte order is known): body = byte-order magic 1A2B3C4D (4), major (2),
 * minor (2), section length (8), options. Interface Description Block (1):
 * link type (2), reserved (2), snap length (4), options (if_tsresol = 9,
 * if_tsoffset = 14). Enhanced Packet Block (6): interface (4), timestamp high
 * (4), low (4), captured length (4), original length (4), data padded to 4,
 * options. Obsolete Packet Block (2): the same with a 2-byte interface and a
 * 2-byte drop count. Simple Packet Block (3): original length (4), data.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_int.h"
#include "tidewatch/alloc.h"

/* ==== Constants ==== */

#define PCAP_MAGIC_US  0xA1B2C3D4u
#define PCAP_MAGIC_NS  0xA1B23C4Du
#define PCAP_MAGIC_KUZ 0xA1B2CD34u
#define PCAP_HDR_LEN   24u

#define NG_SHB      0x0A0D0D0Au
#define NG_IDB      0x00000001u
#define NG_PB       0x00000002u
#define NG_SPB      0x00000003u
#define NG_EPB      0x00000006u
#define NG_BOM      0x1A2B3C4Du
#define NG_MIN_SHB  28u /* header 8 + BOM 4 + versions 4 + section length 8 + trailer 4 */
#define NG_MIN_IDB  20u
#define NG_MIN_EPB  32u
#define NG_MIN_SPB  16u
#define OPT_END     0u
#define OPT_TSRESOL 9u
#define OPT_TSOFF   14u

#define NS_PER_S 1000000000LL

/* 128-bit integers for timestamp scaling (gcc and clang both have them). */
__extension__ typedef __int128 tw_i128;
__extension__ typedef unsigned __int128 tw_u128;

/* ==== Byte order ==== */

static inline uint32_t rd32(const uint8_t *p, bool swap)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static inline uint16_t rd16(const uint8_t *p, bool swap)
{
    uint16_t v;

    memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
}

static inline uint64_t rd64(const uint8_t *p, bool swap)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return swap ? __builtin_bswap64(v) : v;
}

/* ==== Errors ==== */

/* Records "<file>: <message> at offset N" and counts it. Returns code. */
static int TW_PRINTF(5, 6) ferr(
        struct tw__capfile *f, struct tw_err *err, int code, uint64_t off, const char *fmt, ...)
{
    char what[192];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (code == TW_ETRUNC && f->stats != NULL)
        f->stats->truncated_records++;
    return tw_err_set(err, code, (size_t)off, "%s: %s at offset %llu", f->name, what,
            (unsigned long long)off);
}

/* ==== Byte sources ==== */

static inline size_t src_avail(const struct tw__src *s)
{
    return s->end - s->pos;
}

static inline const uint8_t *src_ptr(const struct tw__src *s)
{
    return s->buf + s->pos;
}

static inline uint64_t src_off(const struct tw__src *s)
{
    return s->base + s->pos;
}

/* One read(), retried on EINTR. Returns bytes read, 0 at end, -1 on error. */
static ssize_t read_some(int fd, uint8_t *dst, size_t n)
{
    ssize_t r;

    do {
        r = read(fd, dst, n);
    } while (r < 0 && errno == EINTR);
    return r;
}

/*
 * Stream slow path of src_need: moves the unread bytes to the front, grows
 * the buffer to hold n bytes (n is bounded by the callers' caps) and reads
 * until n bytes are there or the stream ends. TW_OK, TW_ENOMEM or TW_EIO.
 */
static int src_fill(struct tw__src *s, size_t n)
{
    size_t have = src_avail(s);

    if (s->pos > 0) {
        if (have > 0)
            memmove(s->sbuf, s->sbuf + s->pos, have);
        s->base += s->pos;
        s->pos = 0;
        s->end = have;
    }
    if (s->scap < n || s->scap < s->chunk) {
        size_t want = TW_MAX(n, s->chunk);
        uint8_t *nb = tw_realloc(s->sbuf, want);

        if (nb == NULL)
            return TW_ENOMEM;
        s->sbuf = nb;
        s->scap = want;
        s->buf = nb;
    }
    while (s->end < n && !s->eof) {
        ssize_t r = read_some(s->fd, s->sbuf + s->end, TW_MIN(s->scap - s->end, s->chunk));

        if (r < 0)
            return TW_EIO;
        if (r == 0)
            s->eof = true;
        s->end += (size_t)r;
    }
    return TW_OK;
}

/* ==== Read-ahead ==== */

/*
 * A helper thread read()s the chunks of a large regular file ahead, into a
 * ring of RA_BUFS buffers, while the parsers work in the current one, so
 * that copying the file out of the page cache (a fifth of a hunt's time on
 * one core) overlaps the work on the packets. Each buffer has RA_HEAD bytes
 * of headroom before its chunk: when the window runs out, its unread tail
 * (part of one record, shorter than the request, which is at most RA_HEAD)
 * is copied in front of the next chunk and the window moves there, so
 * records stay contiguous without moving whole chunks, and the buffer left
 * behind goes back to the helper. The helper fills the buffers strictly in
 * ring order, so the window takes them in file order. (Four buffers instead
 * of two made no difference we could measure on a busy 2-core machine.)
 *
 * A request the headroom cannot serve (a pcapng block longer than RA_HEAD)
 * or a skip past the window stops the helper; the bytes it read and the
 * window's tail move to an ordinary stream buffer, and reading carries on
 * with plain read()s from where the helper stopped (ra_to_stream).
 */
#define RA_HEAD ((size_t)TW_CAPTURE_SNAPLEN_MAX + 64)
#define RA_BUFS 2

struct tw__readahead {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int fd;
    size_t chunk;
    uint8_t *buf[RA_BUFS]; /* RA_HEAD + chunk bytes each */
    size_t len[RA_BUFS];   /* bytes read after the headroom, valid when full */
    int err[RA_BUFS];      /* errno of a failed read, valid when full */
    bool full[RA_BUFS];    /* read and not yet handed back (a length of 0 marks the end) */
    bool stop;             /* the reader wants the helper to end */
    int cur;               /* buffer the window is in; -1 before the first */
};

static void *ra_main(void *arg)
{
    struct tw__readahead *r = arg;

    for (int i = 0;; i = (i + 1) % RA_BUFS) {
        size_t got = 0;
        int e = 0;

        (void)pthread_mutex_lock(&r->lock);
        while (r->full[i] && !r->stop)
            (void)pthread_cond_wait(&r->cond, &r->lock);
        if (r->stop) {
            (void)pthread_mutex_unlock(&r->lock);
            return NULL;
        }
        (void)pthread_mutex_unlock(&r->lock);
        while (got < r->chunk) {
            ssize_t n = read_some(r->fd, r->buf[i] + RA_HEAD + got, r->chunk - got);

            if (n < 0)
                e = errno != 0 ? errno : EIO;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        (void)pthread_mutex_lock(&r->lock);
        r->len[i] = got;
        r->err[i] = e;
        r->full[i] = true;
        (void)pthread_cond_broadcast(&r->cond);
        (void)pthread_mutex_unlock(&r->lock);
        if (got == 0 || e != 0)
            return NULL; /* end of file (after delivering a last, empty buffer) or error */
    }
}

/* Frees what ra_start allocated (the lock and condition only when `sync`); no helper runs. */
static void ra_free(struct tw__readahead *r, bool sync)
{
    if (sync) {
        (void)pthread_cond_destroy(&r->cond);
        (void)pthread_mutex_destroy(&r->lock);
    }
    for (int i = 0; i < RA_BUFS; i++)
        tw_free(r->buf[i]);
    tw_free(r);
}

/* Starts reading s ahead. On any failure s simply stays a plain stream. */
static void ra_start(struct tw__src *s)
{
    struct tw__readahead *r = tw_calloc(1, sizeof(*r));
    bool ok = r != NULL;

    if (!ok)
        return;
    r->fd = s->fd;
    r->chunk = s->chunk;
    r->cur = -1;
    for (int i = 0; i < RA_BUFS && ok; i++)
        ok = (r->buf[i] = tw_malloc(RA_HEAD + r->chunk)) != NULL;
    if (!ok || pthread_mutex_init(&r->lock, NULL) != 0) {
        ra_free(r, false);
        return;
    }
    if (pthread_cond_init(&r->cond, NULL) != 0) {
        (void)pthread_mutex_destroy(&r->lock);
        ra_free(r, false);
        return;
    }
    if (pthread_create(&r->thread, NULL, ra_main, r) != 0) {
        ra_free(r, true);
        return;
    }
    s->ra = r;
}

/* Asks the helper to end and waits for it. */
static void ra_join(struct tw__readahead *r)
{
    (void)pthread_mutex_lock(&r->lock);
    r->stop = true;
    (void)pthread_cond_broadcast(&r->cond);
    (void)pthread_mutex_unlock(&r->lock);
    (void)pthread_join(r->thread, NULL);
}

/*
 * Stops the helper and turns s into a plain stream holding the window's
 * unread bytes and whatever the helper had read beyond them; the descriptor
 * is then positioned right after those bytes. TW_OK, TW_ENOMEM or TW_EIO.
 */
static int ra_to_stream(struct tw__src *s)
{
    struct tw__readahead *r = s->ra;
    /* The buffers the helper filled after the window's, in ring (= file) order. */
    int first = r->cur < 0 ? 0 : (r->cur + 1) % RA_BUFS;
    int n_ahead = r->cur < 0 ? RA_BUFS : RA_BUFS - 1, n_taken = 0;
    size_t have = src_avail(s), more = 0, want;
    int rc = TW_OK;

    ra_join(r);
    for (int k = 0; k < n_ahead; k++) {
        int i = (first + k) % RA_BUFS;
        if (!r->full[i])
            break;
        if (r->err[i] != 0) {
            rc = TW_EIO;
            break;
        }
        if (r->len[i] == 0) {
            s->eof = true;
            break;
        }
        n_taken++;
        more += r->len[i];
    }
    want = TW_MAX(have + more, s->chunk);
    s->sbuf = tw_malloc(want);
    if (s->sbuf == NULL) {
        rc = TW_ENOMEM;
        want = have = 0;
        n_taken = 0;
    } else if (have > 0) {
        memcpy(s->sbuf, s->buf + s->pos, have);
    }
    s->base += s->pos;
    s->buf = s->sbuf;
    s->pos = 0;
    s->end = have;
    s->scap = want;
    for (int k = 0; k < n_taken; k++) {
        int i = (first + k) % RA_BUFS;
        memcpy(s->sbuf + s->end, r->buf[i] + RA_HEAD, r->len[i]);
        s->end += r->len[i];
    }
    s->ra = NULL;
    ra_free(r, true);
    return rc;
}

/*
 * Read-ahead path of src_need (the window holds fewer than n bytes): moves
 * the window to the next chunk, with the unread tail in front of it, until n
 * bytes are there or the file ends. TW_OK, TW_ENOMEM or TW_EIO.
 */
static int ra_fill(struct tw__src *s, size_t n)
{
    struct tw__readahead *r = s->ra;

    if (n > RA_HEAD) {
        int rc = ra_to_stream(s);

        return rc < 0 || s->eof ? rc : src_fill(s, n);
    }
    while (src_avail(s) < n) {
        size_t have = src_avail(s); /* < n <= RA_HEAD: fits the headroom */
        int nx = r->cur < 0 ? 0 : (r->cur + 1) % RA_BUFS;

        (void)pthread_mutex_lock(&r->lock);
        while (!r->full[nx])
            (void)pthread_cond_wait(&r->cond, &r->lock);
        (void)pthread_mutex_unlock(&r->lock);
        if (r->err[nx] != 0)
            return TW_EIO;
        if (r->len[nx] == 0) {
            s->eof = true;
            return TW_OK;
        }
        if (have > 0)
            memcpy(r->buf[nx] + RA_HEAD - have, s->buf + s->pos, have);
        /* base + pos stays the file offset of the first unread byte (modulo 2^64). */
        s->base = s->base + s->pos - (uint64_t)(RA_HEAD - have);
        s->buf = r->buf[nx];
        s->pos = RA_HEAD - have;
        s->end = RA_HEAD + r->len[nx];
        if (r->cur >= 0) {
            (void)pthread_mutex_lock(&r->lock);
            r->full[r->cur] = false;
            (void)pthread_cond_broadcast(&r->cond);
            (void)pthread_mutex_unlock(&r->lock);
        }
        r->cur = nx;
    }
    return TW_OK;
}

/*
 * Makes n bytes available at the read position when the input has them.
 * Returns TW_OK (check src_avail: fewer than n means the input ended), or
 * TW_ENOMEM / TW_EIO from a stream.
 */
static inline int src_need(struct tw__src *s, size_t n)
{
    if (TW_LIKELY(src_avail(s) >= n) || s->fd < 0 || s->eof)
        return TW_OK;
    if (s->ra != NULL)
        return ra_fill(s, n);
    return src_fill(s, n);
}

/*
 * Skips n bytes. Returns TW_OK, TW_ETRUNC when the input ends first (the
 * source is then at its end), or TW_EIO.
 */
static int src_skip(struct tw__src *s, uint64_t n)
{
    if (n <= src_avail(s)) {
        s->pos += (size_t)n;
        return TW_OK;
    }
    if (s->ra != NULL) {
        int rc = ra_to_stream(s);

        if (rc < 0)
            return rc;
        if (n <= src_avail(s)) {
            s->pos += (size_t)n;
            return TW_OK;
        }
    }
    n -= src_avail(s);
    s->pos = s->end;
    if (s->fd < 0 || s->eof)
        return TW_ETRUNC;
    /* Stream: read and drop, one chunk at a time, into the emptied buffer. */
    s->base += s->end;
    s->pos = s->end = 0;
    if (s->scap < s->chunk) {
        int rc = src_fill(s, 0);

        if (rc < 0)
            return rc;
    }
    while (n > 0) {
        ssize_t r = read_some(s->fd, s->sbuf, TW_MIN(s->scap, s->chunk));

        if (r < 0)
            return TW_EIO;
        if (r == 0) {
            s->eof = true;
            return TW_ETRUNC;
        }
        if ((uint64_t)r > n) {
            /* Keep the bytes after the skipped range. */
            s->pos = (size_t)n;
            s->end = (size_t)r;
            return TW_OK;
        }
        s->base += (uint64_t)r;
        n -= (uint64_t)r;
    }
    return TW_OK;
}

static void src_close(struct tw__src *s)
{
    if (s->ra != NULL) {
        ra_join(s->ra);
        ra_free(s->ra, true);
    }
    if (s->map != NULL)
        (void)munmap(s->map, s->map_len);
    if (s->own_fd && s->fd >= 0)
        (void)close(s->fd);
    tw_free(s->sbuf);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

/* ==== Timestamps ==== */

static int64_t clamp_ns(tw_i128 v)
{
    if (v > (tw_i128)INT64_MAX)
        return INT64_MAX;
    if (v < (tw_i128)INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

/* Nanoseconds since the epoch of a pcapng timestamp on interface i. */
static int64_t iface_ts_ns(const struct tw__iface *i, uint64_t t)
{
    tw_i128 v;

    if (i->ts_mode == TW__TS_MUL)
        v = (tw_i128)t * (tw_i128)i->ts_factor;
    else if (i->ts_mode == TW__TS_DIV)
        v = (tw_i128)(t / i->ts_factor);
    else
        v = (tw_i128)(((tw_u128)t * (tw_u128)NS_PER_S) >> i->ts_shift);
    if (i->ts_off_s != 0)
        v += (tw_i128)i->ts_off_s * NS_PER_S;
    return clamp_ns(v);
}

/* Sets the conversion for an if_tsresol byte. TW_OK or TW_ERANGE. */
static int iface_set_tsresol(struct tw__iface *i, uint8_t r)
{
    uint8_t e = (uint8_t)(r & 0x7fu);

    if (r & 0x80u) {
        if (e > 63)
            return TW_ERANGE;
        i->ts_mode = TW__TS_SHIFT;
        i->ts_shift = e;
        return TW_OK;
    }
    if (e > 19) /* 10^20 does not fit 64 bits */
        return TW_ERANGE;
    i->ts_factor = 1;
    if (e <= 9) {
        for (uint8_t k = e; k < 9; k++)
            i->ts_factor *= 10;
        i->ts_mode = TW__TS_MUL;
    } else {
        for (uint8_t k = 9; k < e; k++)
            i->ts_factor *= 10;
        i->ts_mode = TW__TS_DIV;
    }
    return TW_OK;
}

/* ==== Classic pcap ==== */

static int pcap_header(struct tw__capfile *f, struct tw_err *err)
{
    struct tw__src *s = &f->src;
    const uint8_t *h;
    uint32_t magic;
    uint16_t major;
    int rc = src_need(s, PCAP_HDR_LEN);

    if (rc < 0)
        return ferr(f, err, rc, 0, "cannot read the file header");
    if (src_avail(s) < PCAP_HDR_LEN)
        return ferr(f, err, TW_ETRUNC, 0, "truncated pcap file header (%zu of %u bytes)",
                src_avail(s), PCAP_HDR_LEN);
    h = src_ptr(s);
    memcpy(&magic, h, 4);
    f->swap = false;
    if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS && magic != PCAP_MAGIC_KUZ) {
        f->swap = true;
        magic = __builtin_bswap32(magic);
    }
    f->ts_mul = magic == PCAP_MAGIC_NS ? 1u : 1000u;
    f->rec_hdr = magic == PCAP_MAGIC_KUZ ? 24u : 16u;
    major = rd16(h + 4, f->swap);
    if (major < 2)
        return ferr(f, err, TW_ESYNTAX, 4, "unsupported pcap version %u", major);
    f->linktype = rd32(h + 20, f->swap) & 0xffffu;
    f->fmt = TW__FMT_PCAP;
    s->pos += PCAP_HDR_LEN;
    return TW_OK;
}

/* The record loop of classic pcap: the hot path. */
static int pcap_next(struct tw__capfile *f, struct tw_packet *p, struct tw_err *err)
{
    struct tw__src *s = &f->src;
    const size_t hl = f->rec_hdr;
    const uint8_t *h;
    uint32_t caplen;
    int rc = src_need(s, hl);

    if (TW_UNLIKELY(rc < 0))
        return ferr(f, err, rc, src_off(s), "read failed");
    if (TW_UNLIKELY(src_avail(s) < hl)) {
        if (src_avail(s) == 0)
            return 0;
        return ferr(f, err, TW_ETRUNC, src_off(s),
                "truncated dump file: record header has %zu of %zu bytes", src_avail(s), hl);
    }
    h = src_ptr(s);
    caplen = rd32(h + 8, f->swap);
    if (TW_UNLIKELY(caplen > f->snap_max))
        return ferr(f, err, TW_ELIMIT, src_off(s), "captured length %u is over the cap of %u",
                caplen, f->snap_max);
    if (TW_UNLIKELY(src_avail(s) < hl + caplen)) {
        rc = src_need(s, hl + caplen);
        if (rc < 0)
            return ferr(f, err, rc, src_off(s), "read failed");
        if (src_avail(s) < hl + caplen)
            return ferr(f, err, TW_ETRUNC, src_off(s),
                    "truncated dump file: record needs %zu bytes, %zu left", hl + caplen,
                    src_avail(s));
        h = src_ptr(s);
    }
    p->data = h + hl;
    p->caplen = caplen;
    p->wirelen = rd32(h + 12, f->swap);
    p->linktype = f->linktype;
    p->ts_ns = (int64_t)rd32(h, f->swap) * NS_PER_S + (int64_t)rd32(h + 4, f->swap) * f->ts_mul;
    s->pos += hl + caplen;
    return 1;
}

/* ==== pcapng ==== */

/*
 * Reads a Section Header Block at the read position (its first 4 bytes are
 * already known to be NG_SHB): byte order, version, and a fresh interface list.
 */
static int ng_shb(struct tw__capfile *f, struct tw_err *err)
{
    struct tw__src *s = &f->src;
    uint64_t off = src_off(s);
    const uint8_t *b;
    uint32_t bom, len;
    uint16_t major;
    int rc = src_need(s, 12);

    if (rc < 0)
        return ferr(f, err, rc, off, "read failed");
    if (src_avail(s) < 12)
        return ferr(f, err, TW_ETRUNC, off, "truncated section header block");
    b = src_ptr(s);
    memcpy(&bom, b + 8, 4);
    if (bom == NG_BOM)
        f->swap = false;
    else if (bom == __builtin_bswap32(NG_BOM))
        f->swap = true;
    else
        return ferr(f, err, TW_ESYNTAX, off + 8, "bad pcapng byte-order magic 0x%08x", bom);
    len = rd32(b + 4, f->swap);
    if (len < NG_MIN_SHB || len % 4 != 0)
        return ferr(f, err, TW_EINVAL, off, "bad section header block length %u", len);
    if (len > TW_CAPTURE_MAX_BLOCK)
        return ferr(f, err, TW_ELIMIT, off, "section header block length %u is over the cap", len);
    rc = src_need(s, len);
    if (rc < 0)
        return ferr(f, err, rc, off, "read failed");
    if (src_avail(s) < len)
        return ferr(f, err, TW_ETRUNC, off, "truncated dump file: block needs %u bytes, %zu left",
                len, src_avail(s));
    b = src_ptr(s);
    if (rd32(b + len - 4, f->swap) != len)
        return ferr(f, err, TW_EINVAL, off, "block trailer length differs from header (%u)", len);
    major = rd16(b + 12, f->swap);
    if (major != 1)
        return ferr(f, err, TW_ESYNTAX, off + 12, "unsupported pcapng version %u.%u", major,
                rd16(b + 14, f->swap));
    f->fmt = TW__FMT_PCAPNG;
    f->n_ifaces = 0;
    s->pos += len;
    return TW_OK;
}

/* Reads an Interface Description Block of length len at b (whole block present). */
static int ng_idb(
        struct tw__capfile *f, const uint8_t *b, uint32_t len, uint64_t off, struct tw_err *err)
{
    struct tw__iface ifc;
    size_t o = 16, end = len - 4;

    if (len < NG_MIN_IDB)
        return ferr(
                f, err, TW_EINVAL, off, "interface description block length %u is too short", len);
    if (f->n_ifaces >= TW_CAPTURE_MAX_IFACES)
        return ferr(f, err, TW_ELIMIT, off, "more than %u interfaces in one section",
                TW_CAPTURE_MAX_IFACES);
    memset(&ifc, 0, sizeof(ifc));
    ifc.linktype = rd16(b + 8, f->swap);
    ifc.snaplen = rd32(b + 12, f->swap);
    (void)iface_set_tsresol(&ifc, 6); /* default: microseconds */
    while (o + 4 <= end) {
        uint16_t code = rd16(b + o, f->swap), olen = rd16(b + o + 2, f->swap);
        size_t padded = ((size_t)olen + 3u) & ~(size_t)3u;

        if (code == OPT_END)
            break;
        if (padded > end - o - 4)
            return ferr(f, err, TW_EINVAL, off + o, "option %u of length %u runs past its block",
                    code, olen);
        if (code == OPT_TSRESOL) {
            if (olen != 1)
                return ferr(f, err, TW_EINVAL, off + o, "if_tsresol has length %u, not 1", olen);
            if (iface_set_tsresol(&ifc, b[o + 4]) < 0)
                return ferr(
                        f, err, TW_ERANGE, off + o, "if_tsresol 0x%02x is out of range", b[o + 4]);
        } else if (code == OPT_TSOFF) {
            if (olen != 8)
                return ferr(f, err, TW_EINVAL, off + o, "if_tsoffset has length %u, not 8", olen);
            ifc.ts_off_s = (int64_t)rd64(b + o + 4, f->swap);
        }
        o += 4 + padded;
    }
    if (f->n_ifaces == f->cap_ifaces) {
        size_t ncap = f->cap_ifaces ? f->cap_ifaces * 2 : 4;
        struct tw__iface *ni = tw_reallocarray(f->ifaces, ncap, sizeof(*ni));

        if (ni == NULL)
            return ferr(f, err, TW_ENOMEM, off, "out of memory for interfaces");
        f->ifaces = ni;
        f->cap_ifaces = ncap;
    }
    f->ifaces[f->n_ifaces++] = ifc;
    return TW_OK;
}

/* The interface a packet block names, or NULL after recording the error. */
static const struct tw__iface *ng_iface(
        struct tw__capfile *f, uint32_t id, uint64_t off, struct tw_err *err)
{
    if (TW_UNLIKELY(id >= f->n_ifaces)) {
        if (f->n_ifaces == 0)
            (void)ferr(
                    f, err, TW_EINVAL, off, "packet block before any interface description block");
        else
            (void)ferr(f, err, TW_EINVAL, off, "packet names interface %u; the section has %zu", id,
                    f->n_ifaces);
        return NULL;
    }
    return &f->ifaces[id];
}

/*
 * Reads an Enhanced (epb = true) or obsolete Packet Block. Both have the
 * captured and original lengths at 20 and 24 and the data at 28.
 */
static int ng_packet(struct tw__capfile *f, const uint8_t *b, uint32_t len, uint64_t off, bool epb,
        struct tw_packet *p, struct tw_err *err)
{
    const struct tw__iface *ifc;
    uint32_t id, caplen;
    uint64_t t;

    if (len < NG_MIN_EPB)
        return ferr(f, err, TW_EINVAL, off, "packet block length %u is too short", len);
    id = epb ? rd32(b + 8, f->swap) : rd16(b + 8, f->swap);
    ifc = ng_iface(f, id, off, err);
    if (ifc == NULL)
        return TW_EINVAL;
    caplen = rd32(b + 20, f->swap);
    if (caplen > f->snap_max)
        return ferr(f, err, TW_ELIMIT, off, "captured length %u is over the cap of %u", caplen,
                f->snap_max);
    if (caplen > len - NG_MIN_EPB)
        return ferr(f, err, TW_EINVAL, off, "captured length %u runs past its block of %u", caplen,
                len);
    t = ((uint64_t)rd32(b + 12, f->swap) << 32) | rd32(b + 16, f->swap);
    p->data = b + 28;
    p->caplen = caplen;
    p->wirelen = rd32(b + 24, f->swap);
    p->linktype = ifc->linktype;
    p->ts_ns = iface_ts_ns(ifc, t);
    return 1;
}

/* Reads a Simple Packet Block: interface 0, no timestamp, caplen from the snap length. */
static int ng_spb(struct tw__capfile *f, const uint8_t *b, uint32_t len, uint64_t off,
        struct tw_packet *p, struct tw_err *err)
{
    const struct tw__iface *ifc;
    uint32_t wirelen, caplen, snap;

    if (len < NG_MIN_SPB)
        return ferr(f, err, TW_EINVAL, off, "simple packet block length %u is too short", len);
    ifc = ng_iface(f, 0, off, err);
    if (ifc == NULL)
        return TW_EINVAL;
    wirelen = rd32(b + 8, f->swap);
    snap = ifc->snaplen == 0 || ifc->snaplen > f->snap_max ? f->snap_max : ifc->snaplen;
    caplen = TW_MIN(wirelen, snap);
    if (caplen > len - NG_MIN_SPB)
        return ferr(f, err, TW_EINVAL, off, "simple packet of %u bytes runs past its block of %u",
                caplen, len);
    p->data = b + 12;
    p->caplen = caplen;
    p->wirelen = wirelen;
    p->linktype = ifc->linktype;
    p->ts_ns = 0;
    return 1;
}

/* The block loop of pcapng: returns at the next packet, at the end, or at an error. */
static int ng_next(struct tw__capfile *f, struct tw_packet *p, struct tw_err *err)
{
    struct tw__src *s = &f->src;

    for (;;) {
        uint64_t off = src_off(s);
        const uint8_t *b;
        uint32_t type, len;
        int rc = src_need(s, 8);

        if (rc < 0)
            return ferr(f, err, rc, off, "read failed");
        if (src_avail(s) < 8) {
            if (src_avail(s) == 0)
                return 0;
            return ferr(f, err, TW_ETRUNC, off,
                    "truncated dump file: block header has %zu of 8 bytes", src_avail(s));
        }
        b = src_ptr(s);
        type = rd32(b, f->swap);
        if (type == NG_SHB) {
            rc = ng_shb(f, err);
            if (rc < 0)
                return rc;
            continue;
        }
        len = rd32(b + 4, f->swap);
        if (len < 12 || len % 4 != 0)
            return ferr(
                    f, err, TW_EINVAL, off, "bad block length %u (block type 0x%08x)", len, type);
        if (type != NG_EPB && type != NG_SPB && type != NG_IDB && type != NG_PB) {
            /* Skip by length, then check the trailer. */
            uint32_t trailer;

            rc = src_skip(s, (uint64_t)len - 4);
            if (rc == TW_OK)
                rc = src_need(s, 4);
            if (rc == TW_ETRUNC || (rc == TW_OK && src_avail(s) < 4))
                return ferr(f, err, TW_ETRUNC, off,
                        "truncated dump file: block of type 0x%08x and length %u", type, len);
            if (rc < 0)
                return ferr(f, err, rc, off, "read failed");
            trailer = rd32(src_ptr(s), f->swap);
            if (trailer != len)
                return ferr(f, err, TW_EINVAL, off,
                        "block trailer length %u differs from header (%u)", trailer, len);
            s->pos += 4;
            if (f->stats != NULL)
                f->stats->skipped_blocks++;
            continue;
        }
        if (len > TW_CAPTURE_MAX_BLOCK)
            return ferr(f, err, TW_ELIMIT, off, "block length %u is over the cap of %u", len,
                    TW_CAPTURE_MAX_BLOCK);
        rc = src_need(s, len);
        if (rc < 0)
            return ferr(f, err, rc, off, "read failed");
        if (src_avail(s) < len)
            return ferr(f, err, TW_ETRUNC, off,
                    "truncated dump file: block needs %u bytes, %zu left", len, src_avail(s));
        b = src_ptr(s);
        if (rd32(b + len - 4, f->swap) != len)
            return ferr(
                    f, err, TW_EINVAL, off, "block trailer length differs from header (%u)", len);
        switch (type) {
            case NG_EPB:
                rc = ng_packet(f, b, len, off, true, p, err);
                break;
            case NG_PB:
                rc = ng_packet(f, b, len, off, false, p, err);
                break;
            case NG_SPB:
                rc = ng_spb(f, b, len, off, p, err);
                break;
            default:
                rc = ng_idb(f, b, len, off, err);
                break;
        }
        if (rc < 0)
            return rc;
        s->pos += len;
        if (rc == 1)
            return 1;
    }
}

/* ==== Opening ==== */

bool tw__capfile_magic_ok(const uint8_t *p, size_t n)
{
    uint32_t m;

    if (n < 4)
        return false;
    memcpy(&m, p, 4);
    if (m == NG_SHB)
        return true;
    if (m != PCAP_MAGIC_US && m != PCAP_MAGIC_NS && m != PCAP_MAGIC_KUZ)
        m = __builtin_bswap32(m);
    return m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS || m == PCAP_MAGIC_KUZ;
}

static void capfile_init(struct tw__capfile *f, const char *name,
        const struct tw_capture_opts *opts, struct tw_capture_stats *stats)
{
    memset(f, 0, sizeof(*f));
    f->src.fd = -1;
    f->name = name != NULL ? name : "(memory)";
    f->stats = stats;
    f->snap_max = TW_CAPTURE_SNAPLEN_MAX;
    f->src.chunk = TW_CAPTURE_READ_CHUNK;
    if (opts != NULL && opts->snaplen_max != 0 && opts->snaplen_max < TW_CAPTURE_SNAPLEN_MAX)
        f->snap_max = opts->snaplen_max;
    if (opts != NULL && opts->read_chunk != 0)
        f->src.chunk = TW_MIN(opts->read_chunk, (size_t)TW_CAPTURE_MAX_BLOCK);
}

/* Reads the file header once the source is set up. */
static int capfile_start(struct tw__capfile *f, struct tw_err *err)
{
    struct tw__src *s = &f->src;
    int rc = src_need(s, 4);

    if (rc < 0)
        return ferr(f, err, rc, 0, "cannot read the file header");
    if (src_avail(s) == 0)
        return ferr(f, err, TW_ETRUNC, 0, "empty file");
    if (!tw__capfile_magic_ok(src_ptr(s), src_avail(s)))
        return ferr(f, err, TW_ESYNTAX, 0, "not a pcap or pcapng file");
    if (rd32(src_ptr(s), false) == NG_SHB)
        return ng_shb(f, err);
    return pcap_header(f, err);
}

int tw__capfile_open_mem(struct tw__capfile *f, const void *data, size_t len, const char *name,
        const struct tw_capture_opts *opts, struct tw_capture_stats *stats, struct tw_err *err)
{
    int rc;

    capfile_init(f, name, opts, stats);
    f->src.buf = data;
    f->src.end = data != NULL ? len : 0;
    rc = capfile_start(f, err);
    if (rc < 0)
        tw__capfile_close(f);
    return rc;
}

int tw__capfile_open(struct tw__capfile *f, const char *path, const struct tw_capture_opts *opts,
        struct tw_capture_stats *stats, struct tw_err *err)
{
    struct tw__src *s = &f->src;
    struct stat st;
    int io = opts != NULL ? opts->io : TW_CAPTURE_IO_AUTO;
    int rc;

    capfile_init(f, path, opts, stats);
    if (strcmp(path, "-") == 0) {
        s->fd = STDIN_FILENO;
        s->own_fd = false;
    } else {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            rc = errno == ENOENT ? TW_ENOTFOUND : TW_EIO;
            return tw_err_set(err, rc, 0, "%s: cannot open: %s", path, strerror(errno));
        }
        s->own_fd = true;
    }
    if (fstat(s->fd, &st) != 0) {
        rc = tw_err_set(err, TW_EIO, 0, "%s: cannot stat: %s", path, strerror(errno));
        tw__capfile_close(f);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        tw__capfile_close(f);
        return tw_err_set(err, TW_EINVAL, 0, "%s: is a directory", path);
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0 && io == TW_CAPTURE_IO_MMAP &&
            (uint64_t)st.st_size <= (uint64_t)SIZE_MAX) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, s->fd, 0);

        if (m != MAP_FAILED) {
            (void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
            s->map = m;
            s->map_len = (size_t)st.st_size;
            s->buf = m;
            s->end = s->map_len;
            if (s->own_fd)
                (void)close(s->fd);
            s->fd = -1;
        }
    }
    if (s->map == NULL && S_ISREG(st.st_mode) &&
            (io == TW_CAPTURE_IO_THREAD ||
                    (io == TW_CAPTURE_IO_AUTO && (uint64_t)st.st_size >= TW_CAPTURE_THREAD_MIN)))
        ra_start(s);
    rc = capfile_start(f, err);
    if (rc < 0)
        tw__capfile_close(f);
    return rc;
}

/* ==== Reading ==== */

int tw__capfile_next(struct tw__capfile *f, struct tw_packet *p, struct tw_err *err)
{
    if (f->fmt == TW__FMT_PCAP)
        return pcap_next(f, p, err);
    return ng_next(f, p, err);
}

uint64_t tw__capfile_offset(const struct tw__capfile *f)
{
    return src_off(&f->src);
}

void tw__capfile_close(struct tw__capfile *f)
{
    src_close(&f->src);
    tw_free(f->ifaces);
    f->ifaces = NULL;
    f->n_ifaces = f->cap_ifaces = 0;
    f->fmt = 0;
}
