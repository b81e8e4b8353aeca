/*
 * capture_int.h: the one-file reader shared by capture.c (the public reader
 * over many files) and capture_file.c (byte sources and the pcap/pcapng
 * parsers). Private to src/decode.
 *
 * A file is read through a byte source, a window [buf+pos, buf+end) over the
 * file whose first byte sits at file offset `base`. A mapped file or a memory
 * buffer is one window over everything; a stream (standard input, a pipe, or
 * a file read with read()) is a bounded buffer that src_need() refills in
 * chunks, moving the unread tail to the front first. The parsers ask for the
 * bytes of one whole record before reading any field of it, so they work
 * unchanged on both, and a stream never holds more than the largest record
 * plus one chunk. A large regular file is read ahead by a helper thread into
 * two buffers the window alternates between (capture_file.c, "Read-ahead").
 */
#ifndef TW_CAPTURE_INT_H
#define TW_CAPTURE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/capture.h"

struct tw__src {
    const uint8_t *buf; /* current window */
    size_t pos;         /* next unread byte in buf */
    size_t end;         /* end of valid bytes in buf */
    uint64_t base;      /* file offset of buf[0] */
    int fd;             /* stream descriptor, -1 for a map or memory */
    bool own_fd;        /* close fd when done (false for standard input) */
    bool eof;           /* the stream's read() returned 0 */
    uint8_t *sbuf;      /* stream buffer (buf == sbuf for streams) */
    size_t scap;        /* bytes allocated at sbuf */
    size_t chunk;       /* largest single read() */
    void *map;          /* mmap'd file, or NULL */
    size_t map_len;
    struct tw__readahead *ra; /* a helper thread reading ahead (large regular files), or NULL */
};

/* One pcapng interface: link type, snap length and the timestamp conversion. */
struct tw__iface {
    uint32_t linktype;
    uint32_t snaplen;   /* 0 = no limit */
    uint8_t ts_mode;    /* TW__TS_MUL, TW__TS_DIV or TW__TS_SHIFT */
    uint8_t ts_shift;   /* TW__TS_SHIFT: units are 2^-ts_shift s */
    uint64_t ts_factor; /* TW__TS_MUL: ns per unit; TW__TS_DIV: units per ns */
    int64_t ts_off_s;   /* if_tsoffset, seconds added to every timestamp */
};

#define TW__TS_MUL   0
#define TW__TS_DIV   1
#define TW__TS_SHIFT 2

#define TW__FMT_PCAP   1
#define TW__FMT_PCAPNG 2

struct tw__capfile {
    struct tw__src src;
    const char *name;               /* for messages (borrowed) */
    struct tw_capture_stats *stats; /* counters to bump (borrowed) */
    uint32_t snap_max;              /* caplen cap */
    int fmt;                        /* TW__FMT_* */
    bool swap;                      /* file byte order differs from ours */
    /* classic pcap */
    uint32_t linktype;
    uint32_t ts_mul; /* 1000 (microseconds) or 1 (nanoseconds) */
    size_t rec_hdr;  /* 16, or 24 for the extended (Kuznetsov) records */
    /* pcapng: the current section's interfaces */
    struct tw__iface *ifaces;
    size_t n_ifaces, cap_ifaces;
};

/*
 * Opens one file ("-" is standard input) and reads its file header (pcap
 * header or first Section Header Block). read_chunk is the largest read(),
 * io a TW_CAPTURE_IO_* value. Returns TW_OK, or a negative code with err
 * naming the file; on error f holds nothing to close.
 */
int tw__capfile_open(struct tw__capfile *f, const char *path, const struct tw_capture_opts *opts,
        struct tw_capture_stats *stats, struct tw_err *err);
/* Same over borrowed memory. */
int tw__capfile_open_mem(struct tw__capfile *f, const void *data, size_t len, const char *name,
        const struct tw_capture_opts *opts, struct tw_capture_stats *stats, struct tw_err *err);
/*
 * Next packet of this file: 1 (p's reader fields set except num), 0 at the
 * clean end of the file, or a negative code (err names file and offset).
 * After 0 or an error the file must be closed.
 */
int tw__capfile_next(struct tw__capfile *f, struct tw_packet *p, struct tw_err *err);
/* File offset of the next unread byte. */
uint64_t tw__capfile_offset(const struct tw__capfile *f);
/* Unmaps, closes and frees everything f holds. Safe on a zeroed f. */
void tw__capfile_close(struct tw__capfile *f);
/* True when the first bytes are a pcap or pcapng magic (n >= 4). */
bool tw__capfile_magic_ok(const uint8_t *p, size_t n);

#endif
