/*
 * capture.h: the offline capture reader.
 *
 * Reads classic pcap (microsecond and nanosecond, either byte order, and the
 * 24-byte-record variant) and pcapng (any number of sections in either byte
 * order, per-interface link type, if_tsresol and if_tsoffset, Enhanced, Simple
 * and obsolete Packet Blocks; other blocks are skipped by their length) from
 * files, directories and standard input, and hands the packets out one at a
 * time as struct tw_packet (packet.h), filling the fields marked "set by the
 * capture reader". It is our own parser, not libpcap: files, standard
 * input and pipes are read with 1 MiB read()s into a bounded buffer (regular
 * files may be mapped instead, TW_CAPTURE_IO_MMAP). Memory is bounded by the
 * largest record (TW_CAPTURE_MAX_BLOCK), never by the capture's size.
 *
 * Every length in the input is checked before it is used. A file whose next
 * record cannot be read (truncated, a length past the end or over a cap, an
 * unknown interface, a packet before any interface...) ends there: the reader
 * reports one error naming the file and the byte offset of the bad record,
 * the packets already read stay valid, and the next call goes on with the
 * next file. docs/internals/CAPTURE.md has the formats and the full policy.
 */
#ifndef TIDEWATCH_CAPTURE_H
#define TIDEWATCH_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/packet.h"

/* Default and largest accepted captured length of one packet (libpcap's cap). */
#define TW_CAPTURE_SNAPLEN_MAX 262144u
/* Largest pcapng block the reader buffers (SHB, IDB, packet blocks); others are skipped. */
#define TW_CAPTURE_MAX_BLOCK 16777216u /* 16 MiB */
/* Most interfaces one pcapng section may describe. */
#define TW_CAPTURE_MAX_IFACES 4096u
/* Most files one reader accepts after expanding directories. */
#define TW_CAPTURE_MAX_FILES 100000u
/* Size of one read() when streaming (standard input, or TW_CAPTURE_IO_READ). */
#define TW_CAPTURE_READ_CHUNK 1048576u /* 1 MiB */

/*
 * How regular files are read. Standard input and pipes are always streamed.
 * read() is the default: on a warm page cache it ran at 12.5 GB/s against
 * 3.8 GB/s for MAP_POPULATE (mapping 4 KiB pages costs more than copying
 * them into a 1 MiB buffer that stays in cache), and a file truncated while
 * mapped would raise SIGBUS. bench/bench_capture.c measures both. A regular
 * file of TW_CAPTURE_THREAD_MIN bytes or more is read() ahead by a helper
 * thread, so that copying it out of the page cache overlaps the caller's
 * work on the previous chunk (docs/internals/CAPTURE.md).
 */
enum tw_capture_io {
    TW_CAPTURE_IO_AUTO = 0, /* READ, or THREAD for regular files of TW_CAPTURE_THREAD_MIN+ bytes */
    TW_CAPTURE_IO_MMAP,     /* mmap with MAP_POPULATE, read() when mmap fails */
    TW_CAPTURE_IO_READ,     /* read() in chunks of read_chunk bytes */
    TW_CAPTURE_IO_THREAD,   /* regular files: read() ahead on a helper thread; else READ */
};

/* Smallest regular file TW_CAPTURE_IO_AUTO reads ahead on a helper thread. */
#define TW_CAPTURE_THREAD_MIN ((uint64_t)16 << 20)

struct tw_capture_opts {
    uint32_t snaplen_max; /* caplen cap; 0 = TW_CAPTURE_SNAPLEN_MAX (also its maximum) */
    int io;               /* enum tw_capture_io */
    size_t read_chunk;    /* bytes per read(); 0 = TW_CAPTURE_READ_CHUNK (tests use tiny ones) */
};

struct tw_capture_stats {
    uint64_t files;             /* files opened (including ones that failed later) */
    uint64_t packets;           /* packets handed out */
    uint64_t bytes;             /* captured bytes handed out (sum of caplen) */
    uint64_t wire_bytes;        /* sum of wirelen */
    uint64_t truncated_records; /* files that ended inside a record */
    uint64_t skipped_blocks;    /* pcapng blocks skipped by length (unknown, statistics...) */
    uint64_t errors;            /* error records returned by tw_capture_next */
};

struct tw_capture;

/*
 * Opens a reader over `paths` in order. Each path is a capture file, a
 * directory (its capture files, not recursive, in the order of their first
 * packet's timestamp, ties by name; files that do not start with a pcap or
 * pcapng magic and names starting with '.' are left out) or "-" for standard
 * input. Nothing is read from files yet except the first packet of each file
 * inside a directory. Returns TW_OK and a new reader in *out, or
 * TW_ENOTFOUND (a path does not exist), TW_EIO (a directory cannot be listed),
 * TW_ELIMIT (more than TW_CAPTURE_MAX_FILES files), TW_EINVAL (no paths) or
 * TW_ENOMEM, with *out NULL and err naming the path. paths are copied.
 */
int tw_capture_open(struct tw_capture **out, const char *const *paths, size_t n_paths,
        struct tw_err *err) TW_MUST_CHECK;
/* tw_capture_open with options; opts NULL means all defaults. */
int tw_capture_open_opts(struct tw_capture **out, const char *const *paths, size_t n_paths,
        const struct tw_capture_opts *opts, struct tw_err *err) TW_MUST_CHECK;
/*
 * A reader over one capture held in memory (`name` appears in errors; it may
 * be NULL). The bytes are borrowed: they must outlive the reader.
 */
int tw_capture_open_mem(struct tw_capture **out, const void *data, size_t len, const char *name,
        const struct tw_capture_opts *opts, struct tw_err *err) TW_MUST_CHECK;

/*
 * Reads the next packet into p's reader fields (data, caplen, wirelen,
 * linktype, ts_ns, num); the decoder's fields are left alone. p->data is
 * borrowed and valid until the next call on c (or tw_capture_close). Returns
 * 1 for a packet, 0 at the end of all input, or a negative TW_E* code when
 * the current file cannot be read further: err then names the file and the
 * byte offset of the bad record. Calling again goes on with the next file.
 */
int tw_capture_next(struct tw_capture *c, struct tw_packet *p, struct tw_err *err) TW_MUST_CHECK;

/* Closes every file and frees the reader. c may be NULL. */
void tw_capture_close(struct tw_capture *c);

/* Copies the running counters into *out. */
void tw_capture_stats(const struct tw_capture *c, struct tw_capture_stats *out);
/* The path of the file being read ("-" for standard input), or NULL before the first and after the
 * last. */
const char *tw_capture_current_file(const struct tw_capture *c);
/* Link type of the last packet's interface (or the pcap header's), 0 before any. */
uint32_t tw_capture_linktype(const struct tw_capture *c);
/* Bytes consumed so far over all files, for a progress line. */
uint64_t tw_capture_bytes_read(const struct tw_capture *c);
/* Total size of the regular files given (standard input and pipes count 0). */
uint64_t tw_capture_bytes_total(const struct tw_capture *c);

#endif
