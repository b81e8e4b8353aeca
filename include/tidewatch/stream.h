/*
 * stream.h: bounded in-order TCP reassembly, for metadata parsers.
 *
 * A struct tw_stream collects, for each direction of one TCP flow, the bytes
 * from the start of the stream in order, up to a cap (8 KiB by default): just
 * enough for a TLS ClientHello spread over several segments, an HTTP request
 * head, an SSH banner or a DNS-over-TCP message. It is not a full reassembler:
 * bytes past the cap are dropped and the direction is marked truncated.
 *
 * Byte 0 of a direction is the byte after the SYN's sequence number (SYN or
 * SYN+ACK). When the capture missed the SYN, byte 0 is the first byte of the
 * first segment with payload seen in that direction; a segment that started
 * earlier and arrives later is trimmed to what lies after byte 0.
 *
 * Segments are placed by sequence number relative to byte 0 (modulo 2^32, so
 * wraparound needs no special case): a retransmission adds nothing, overlaps
 * keep the bytes that arrived first, and out-of-order segments are held in the
 * buffer itself at their offset (at most TW_STREAM_MAX_RANGES separate held
 * ranges) until the gap before them fills. Data after a RST or past a FIN is
 * ignored.
 *
 * Memory: nothing is allocated until the first payload byte of a direction;
 * then one buffer of `cap` bytes, freed by tw_stream_cleanup(). An optional
 * shared struct tw_stream_budget caps the total over all streams and keeps
 * released buffers for reuse.
 *
 * The struct is caller-owned (the matcher keeps it in the flow's extra area)
 * and not thread-safe.
 */
#ifndef TIDEWATCH_STREAM_H
#define TIDEWATCH_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/packet.h"

#define TW_STREAM_DEFAULT_CAP 8192u      /* bytes kept per direction by default */
#define TW_STREAM_MAX_CAP     (1u << 20) /* largest cap tw_stream_init() accepts */
#define TW_STREAM_MAX_RANGES  8u         /* out-of-order ranges held per direction */

/* Bits of tw_stream_dir.flags. */
#define TW_STREAM_F_BASE      0x01u /* byte 0's sequence number is known */
#define TW_STREAM_F_SYN       0x02u /* ... and came from a SYN (else: missed SYN) */
#define TW_STREAM_F_TRUNCATED 0x04u /* bytes at or past the cap were seen and dropped */
#define TW_STREAM_F_FIN       0x08u /* FIN seen; fin_off is valid */
#define TW_STREAM_F_RST       0x10u /* RST seen: nothing more is accepted */
#define TW_STREAM_F_NOMEM     0x20u /* the buffer could not be had: no bytes are kept */
#define TW_STREAM_F_OOO_DROPPED                                                                    \
    0x40u /* an out-of-order segment found no free range and was dropped */

/* One held out-of-order range, [start, end) in stream offsets. */
struct tw_stream_range {
    uint32_t start;
    uint32_t end;
};

/* One direction. Read-only for callers; use tw_stream_data() for the bytes. */
struct tw_stream_dir {
    uint8_t *buf;      /* cap bytes, allocated at the first payload byte; else NULL */
    uint32_t len;      /* contiguous bytes from byte 0 */
    uint32_t base_seq; /* sequence number of byte 0 (when TW_STREAM_F_BASE) */
    uint32_t fin_off;  /* stream offset of the FIN (when TW_STREAM_F_FIN) */
    uint16_t flags;    /* TW_STREAM_F_* */
    uint8_t n_ranges;
    struct tw_stream_range ranges[TW_STREAM_MAX_RANGES]; /* sorted, disjoint, after len */
    uint32_t n_segments;                                 /* segments with payload offered */
    uint32_t n_old;         /* of which added nothing (retransmission, before byte 0, past FIN) */
    uint32_t n_ooo;         /* of which arrived ahead of a gap */
    uint64_t overlap_bytes; /* bytes offered again for offsets already held (first copy kept) */
};

/*
 * A shared cap on the bytes all streams using it may allocate. It can also
 * keep up to max_spare released buffers for reuse, so that streams that come
 * and go do not churn the allocator (and reuse buffers still in cache); they
 * do not count in used_bytes. Zero-initialise, set max_bytes (and
 * max_spare), and call tw_stream_budget_cleanup() after the last stream.
 */
struct tw_stream_budget {
    uint64_t max_bytes;  /* set by the caller */
    uint64_t used_bytes; /* maintained by the streams */
    uint32_t max_spare;  /* set by the caller: buffers kept for reuse (0 = none) */
    uint32_t n_spare;    /* maintained by the streams */
    uint32_t spare_cap;  /* size of the spare buffers */
    void *spare;         /* spare buffers, each linked to the next by its first bytes */
};

/* Both directions of one TCP flow. */
struct tw_stream {
    uint32_t cap;                    /* bytes kept per direction */
    struct tw_stream_budget *budget; /* borrowed; may be NULL */
    struct tw_stream_dir dir[2];     /* [0] to the server, [1] to the client */
};

/*
 * Prepares s for a new flow: empty, nothing allocated. cap is the number of
 * bytes kept per direction (0 means TW_STREAM_DEFAULT_CAP). budget, when not
 * NULL, must outlive the stream. Returns TW_OK, or TW_EINVAL when cap exceeds
 * TW_STREAM_MAX_CAP (s is then empty with no buffers and may be cleaned up).
 */
int tw_stream_init(
        struct tw_stream *s, uint32_t cap, struct tw_stream_budget *budget) TW_MUST_CHECK;

/*
 * Releases both buffers: their bytes go back to the budget, the buffers to its
 * spare list when it has room, else to the allocator. s may be reused after
 * init.
 */
void tw_stream_cleanup(struct tw_stream *s);

/* Frees the spare buffers a budget holds. NULL is a no-op. */
void tw_stream_budget_cleanup(struct tw_stream_budget *b);

/*
 * Offers one TCP segment: its flags, sequence number and payload (data may be
 * NULL when len is 0). *appended, when not NULL, receives how many bytes the
 * contiguous prefix of that direction grew by: nonzero means a parser that
 * returned TW_ETRUNC is worth retrying. Returns TW_OK; TW_ELIMIT when the
 * budget has no room for this direction's buffer or TW_ENOMEM when allocation
 * failed (once: the direction is then marked TW_STREAM_F_NOMEM and later
 * segments are ignored with TW_OK).
 */
int tw_stream_segment(struct tw_stream *s, bool to_server, uint8_t tcp_flags, uint32_t seq,
        const uint8_t *data, uint32_t len, uint32_t *appended) TW_MUST_CHECK;

/*
 * tw_stream_segment() for a decoded packet: takes flags, sequence number and
 * payload from its TCP layer. Returns TW_EINVAL when the packet's transport
 * layer is not TCP, otherwise as tw_stream_segment().
 */
int tw_stream_add_packet(struct tw_stream *s, bool to_server, const struct tw_packet *p,
        uint32_t *appended) TW_MUST_CHECK;

/*
 * The contiguous bytes of one direction so far (borrowed: valid until the next
 * segment or cleanup) and their count in *len. Returns NULL with *len 0 when
 * none are held.
 */
const uint8_t *tw_stream_data(const struct tw_stream *s, bool to_server, uint32_t *len);

/*
 * True when no more contiguous bytes can come in that direction: RST seen,
 * the prefix reached the FIN or the cap, or the buffer could not be had.
 */
bool tw_stream_done(const struct tw_stream *s, bool to_server);

#endif
