/*
 * stream.c: bounded in-order TCP reassembly (stream.h).
 *
 * Each direction owns one buffer of `cap` bytes indexed by stream offset
 * (sequence number minus the sequence number of byte 0, modulo 2^32). The
 * contiguous prefix is buf[0, len). A segment ahead of len is copied to its
 * own offset straight away and remembered as a held range; when a later
 * segment closes the gap, len jumps over every held range it now touches. So
 * out-of-order data costs no memory beyond the buffer, and what is held is
 * bounded by the cap and by TW_STREAM_MAX_RANGES.
 *
 * "Keep first": bytes are written only at offsets that hold nothing yet (not
 * inside the prefix, not inside a held range), so a later, different copy of
 * the same bytes never replaces the first one (Suricata's default policy, and
 * the one that makes evasion by overlapping segments visible rather than
 * effective for a metadata parser).
 */
#include "tidewatch/stream.h"

#include <stdint.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"

/* TCP flag bits (RFC 9293 section 3.1). */
#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u

/* Offsets at or above this are "before byte 0" (negative in sequence space). */
#define SEQ_HALF 0x80000000u

/* The first bytes of a spare buffer (malloc'ed, so aligned for it): the link to the next one. */
struct spare_buf {
    struct spare_buf *next;
};

/* ==== Static helpers ==== */

/* Writes data (stream offsets [a, b)) where the direction holds nothing yet; returns bytes written.
 */
static uint32_t copy_uncovered(struct tw_stream_dir *d, uint32_t a, uint32_t b, const uint8_t *data)
{
    uint32_t pos = a, written = 0;

    for (unsigned i = 0; i < d->n_ranges && pos < b; i++) {
        const struct tw_stream_range *r = &d->ranges[i];

        if (r->end <= pos)
            continue;
        if (r->start >= b)
            break;
        if (r->start > pos) {
            memcpy(d->buf + pos, data + (pos - a), r->start - pos);
            written += r->start - pos;
        }
        pos = r->end;
    }
    if (pos < b) {
        memcpy(d->buf + pos, data + (pos - a), b - pos);
        written += b - pos;
    }
    return written;
}

/* How many held ranges [a, b) would touch (overlap or abut). */
static unsigned ranges_touching(const struct tw_stream_dir *d, uint32_t a, uint32_t b)
{
    unsigned n = 0;

    for (unsigned i = 0; i < d->n_ranges; i++)
        if (d->ranges[i].end >= a && d->ranges[i].start <= b)
            n++;
    return n;
}

/* Adds [a, b) to the held ranges, merging what it touches; the caller checked there is room. */
static void ranges_insert(struct tw_stream_dir *d, uint32_t a, uint32_t b)
{
    struct tw_stream_range out[TW_STREAM_MAX_RANGES];
    unsigned n = 0, i = 0;

    while (i < d->n_ranges && d->ranges[i].end < a)
        out[n++] = d->ranges[i++];
    while (i < d->n_ranges && d->ranges[i].start <= b) {
        if (d->ranges[i].start < a)
            a = d->ranges[i].start;
        if (d->ranges[i].end > b)
            b = d->ranges[i].end;
        i++;
    }
    out[n].start = a;
    out[n].end = b;
    n++;
    while (i < d->n_ranges)
        out[n++] = d->ranges[i++];
    memcpy(d->ranges, out, n * sizeof(out[0]));
    d->n_ranges = (uint8_t)n;
}

/* Moves len over every held range that now starts at or before it. */
static void ranges_absorb(struct tw_stream_dir *d)
{
    unsigned i = 0;

    while (i < d->n_ranges && d->ranges[i].start <= d->len) {
        if (d->ranges[i].end > d->len)
            d->len = d->ranges[i].end;
        i++;
    }
    if (i > 0) {
        memmove(d->ranges, d->ranges + i, (d->n_ranges - i) * sizeof(d->ranges[0]));
        d->n_ranges = (uint8_t)(d->n_ranges - i);
    }
}

/* Allocates the direction's buffer within the budget, reusing a spare one when it can. */
static int dir_alloc(struct tw_stream *s, struct tw_stream_dir *d)
{
    struct tw_stream_budget *b = s->budget;

    if (b != NULL && b->used_bytes + s->cap > b->max_bytes) {
        d->flags |= TW_STREAM_F_NOMEM;
        return TW_ELIMIT;
    }
    if (b != NULL && b->spare != NULL && b->spare_cap == s->cap) {
        struct spare_buf *sb = b->spare;

        b->spare = sb->next;
        b->n_spare--;
        d->buf = (uint8_t *)(void *)sb;
    } else {
        d->buf = tw_malloc(s->cap);
    }
    if (d->buf == NULL) {
        d->flags |= TW_STREAM_F_NOMEM;
        return TW_ENOMEM;
    }
    if (s->budget != NULL)
        s->budget->used_bytes += s->cap;
    return TW_OK;
}

/* ==== Public API ==== */

int tw_stream_init(struct tw_stream *s, uint32_t cap, struct tw_stream_budget *budget)
{
    memset(s, 0, sizeof(*s));
    if (cap > TW_STREAM_MAX_CAP)
        return TW_EINVAL;
    s->cap = cap != 0 ? cap : TW_STREAM_DEFAULT_CAP;
    s->budget = budget;
    return TW_OK;
}

void tw_stream_cleanup(struct tw_stream *s)
{
    struct tw_stream_budget *b = s->budget;

    for (int i = 0; i < 2; i++) {
        uint8_t *buf = s->dir[i].buf;

        if (buf == NULL)
            continue;
        s->dir[i].buf = NULL;
        if (b == NULL) {
            tw_free(buf);
            continue;
        }
        b->used_bytes -= s->cap;
        if (b->n_spare < b->max_spare && s->cap >= sizeof(struct spare_buf) &&
                (b->spare == NULL || b->spare_cap == s->cap)) {
            struct spare_buf *sb = (struct spare_buf *)(void *)buf;

            sb->next = b->spare;
            b->spare = sb;
            b->spare_cap = s->cap;
            b->n_spare++;
        } else {
            tw_free(buf);
        }
    }
}

void tw_stream_budget_cleanup(struct tw_stream_budget *b)
{
    if (b == NULL)
        return;
    while (b->spare != NULL) {
        struct spare_buf *sb = b->spare;

        b->spare = sb->next;
        tw_free(sb);
    }
    b->n_spare = 0;
}

int tw_stream_segment(struct tw_stream *s, bool to_server, uint8_t tcp_flags, uint32_t seq,
        const uint8_t *data, uint32_t len, uint32_t *appended)
{
    struct tw_stream_dir *d = &s->dir[to_server ? 0 : 1];
    uint32_t off, end, before;
    int rc;

    if (appended != NULL)
        *appended = 0;
    if (d->flags & TW_STREAM_F_RST)
        return TW_OK;
    if (tcp_flags & TCP_RST) {
        d->flags |= TW_STREAM_F_RST;
        return TW_OK;
    }
    if (tcp_flags & TCP_SYN) {
        /* Data in a SYN (TCP Fast Open) starts one after the SYN's sequence number. */
        seq++;
        if (!(d->flags & TW_STREAM_F_BASE)) {
            d->base_seq = seq;
            d->flags |= TW_STREAM_F_BASE | TW_STREAM_F_SYN;
        }
    }
    if (!(d->flags & TW_STREAM_F_BASE)) {
        if (len == 0)
            return TW_OK; /* a bare ACK or FIN cannot tell where the data started */
        d->base_seq = seq;
        d->flags |= TW_STREAM_F_BASE;
    }

    off = seq - d->base_seq;
    if ((tcp_flags & TCP_FIN) && !(d->flags & TW_STREAM_F_FIN) && off < SEQ_HALF) {
        d->flags |= TW_STREAM_F_FIN;
        d->fin_off = off + len;
    }
    if (len == 0)
        return TW_OK;
    d->n_segments++;

    if (off >= SEQ_HALF) {
        /* Starts before byte 0: keep only what lies after it. */
        uint32_t back = d->base_seq - seq;

        if (back >= len) {
            d->n_old++;
            return TW_OK;
        }
        data += back;
        len -= back;
        off = 0;
    }
    if ((d->flags & TW_STREAM_F_FIN) && off >= d->fin_off) {
        d->n_old++;
        return TW_OK;
    }
    if (off >= s->cap) {
        d->flags |= TW_STREAM_F_TRUNCATED;
        return TW_OK;
    }
    /* off < cap <= 2^20 here, so off + len cannot overflow 64 bits and end fits 32. */
    if ((uint64_t)off + len > s->cap) {
        end = s->cap;
        d->flags |= TW_STREAM_F_TRUNCATED;
    } else {
        end = off + len;
    }
    if ((d->flags & TW_STREAM_F_FIN) && end > d->fin_off)
        end = d->fin_off; /* nothing is sent after a FIN */
    if (end <= d->len) {
        d->n_old++;
        d->overlap_bytes += end - off;
        return TW_OK;
    }
    if (off < d->len) {
        d->overlap_bytes += d->len - off;
        data += d->len - off;
        off = d->len;
    }
    if (d->flags & TW_STREAM_F_NOMEM)
        return TW_OK;
    if (off > d->len && ranges_touching(d, off, end) == 0 && d->n_ranges >= TW_STREAM_MAX_RANGES) {
        d->flags |= TW_STREAM_F_OOO_DROPPED;
        return TW_OK;
    }
    if (d->buf == NULL) {
        rc = dir_alloc(s, d);
        if (rc != TW_OK)
            return rc;
    }

    d->overlap_bytes += (end - off) - copy_uncovered(d, off, end, data);
    before = d->len;
    if (off == d->len) {
        d->len = end;
        ranges_absorb(d);
    } else {
        d->n_ooo++;
        ranges_insert(d, off, end);
    }
    if (appended != NULL)
        *appended = d->len - before;
    return TW_OK;
}

int tw_stream_add_packet(
        struct tw_stream *s, bool to_server, const struct tw_packet *p, uint32_t *appended)
{
    const struct tw_layer *l;

    if (appended != NULL)
        *appended = 0;
    if (p->l4 < 0 || p->l4 >= p->n_layers || p->l4 >= TW_MAX_LAYERS)
        return TW_EINVAL;
    l = &p->layers[p->l4];
    if (l->kind != TW_L_TCP)
        return TW_EINVAL;
    return tw_stream_segment(s, to_server, l->u.l4.tcp_flags, l->u.l4.seq,
            p->payload_len > 0 ? p->payload : NULL, p->payload != NULL ? p->payload_len : 0,
            appended);
}

const uint8_t *tw_stream_data(const struct tw_stream *s, bool to_server, uint32_t *len)
{
    const struct tw_stream_dir *d = &s->dir[to_server ? 0 : 1];

    if (d->buf == NULL || d->len == 0) {
        *len = 0;
        return NULL;
    }
    *len = d->len;
    return d->buf;
}

bool tw_stream_done(const struct tw_stream *s, bool to_server)
{
    const struct tw_stream_dir *d = &s->dir[to_server ? 0 : 1];

    return (d->flags & (TW_STREAM_F_RST | TW_STREAM_F_NOMEM)) || d->len >= s->cap ||
           ((d->flags & TW_STREAM_F_FIN) && d->len >= d->fin_off);
}
