/*
 * fuzz_pcap.c: the capture reader (capture.h) on arbitrary bytes, read twice:
 * from memory (tw_capture_open_mem) and as a stream from a memfd with a tiny
 * read() size taken from the input, so records straddle refills. Invariants,
 * checked with __builtin_trap():
 *   - every packet lies inside the input, caplen <= TW_CAPTURE_SNAPLEN_MAX;
 *   - num is 1, 2, 3, ... (strictly increasing);
 *   - the stream reader returns the same packets (lengths, link type,
 *     timestamp, bytes) and then the same status and error offset.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sys/syscall.h>
#include <unistd.h>

#include "tidewatch/alloc.h"
#include "tidewatch/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    const uint8_t *data;
    uint32_t caplen, wirelen, linktype;
    int64_t ts_ns;
};

/* Reads the input from a memfd in chunks of `chunk` bytes and compares with `want`. */
static void stream_compare(const uint8_t *data, size_t size, const struct seen *want, size_t n_want,
        int want_rc, size_t want_off)
{
    struct tw_capture_opts opts = { 0, TW_CAPTURE_IO_READ, 1 + size % 13 };
    struct tw_capture *c = NULL;
    struct tw_packet p;
    struct tw_err err;
    char path[64];
    const char *pp = path;
    size_t n = 0;
    int rc;
    long fd = syscall(SYS_memfd_create, "fuzz_pcap", 0);

    if (fd < 0)
        return;
    if (size > 0 && write((int)fd, data, size) != (ssize_t)size) {
        (void)close((int)fd);
        return;
    }
    (void)snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
    tw_err_clear(&err);
    if (tw_capture_open_opts(&c, &pp, 1, &opts, &err) != TW_OK) {
        (void)close((int)fd);
        return;
    }
    while ((rc = tw_capture_next(c, &p, &err)) == 1) {
        if (n >= n_want || p.caplen != want[n].caplen || p.wirelen != want[n].wirelen ||
                p.linktype != want[n].linktype || p.ts_ns != want[n].ts_ns ||
                memcmp(p.data, want[n].data, p.caplen) != 0)
            __builtin_trap();
        n++;
    }
    if (n != n_want || rc != want_rc || (rc < 0 && err.offset != want_off))
        __builtin_trap();
    tw_capture_close(c);
    (void)close((int)fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_capture *c = NULL;
    struct tw_packet p;
    struct tw_err err;
    struct seen *seen;
    size_t n = 0, max = size / 12 + 1, err_off = 0;
    int rc;

    if (size > (1u << 20))
        return 0;
    seen = tw_calloc(max, sizeof(*seen));
    if (seen == NULL)
        return 0;
    if (tw_capture_open_mem(&c, data, size, "fuzz", NULL, &err) != TW_OK) {
        tw_free(seen);
        return 0;
    }
    while ((rc = tw_capture_next(c, &p, &err)) == 1) {
        if (p.num != n + 1 || p.caplen > TW_CAPTURE_SNAPLEN_MAX || p.data < data ||
                p.data > data + size || p.caplen > (size_t)(data + size - p.data) || n >= max)
            __builtin_trap();
        seen[n].data = p.data;
        seen[n].caplen = p.caplen;
        seen[n].wirelen = p.wirelen;
        seen[n].linktype = p.linktype;
        seen[n].ts_ns = p.ts_ns;
        n++;
    }
    if (rc < 0)
        err_off = err.offset;
    if (tw_capture_next(c, &p, &err) != 0)
        __builtin_trap();
    tw_capture_close(c);
    stream_compare(data, size, seen, n, rc, err_off);
    tw_free(seen);
    return 0;
}
