/*
 * fuzz_farch.c: libFuzzer target for flow archive files (flowarch.h).
 *
 * The input is opened with tw_farch_reader_open_mem and every block is read
 * with TW_FARCH_COL_ALL, twice: as it is, and with every checksum (header,
 * block headers, columns, index, footer) recomputed where the structure can
 * be followed, so mutations reach the length, frame and value checks behind
 * the checksums. Invariants checked with __builtin_trap():
 *   - a block read with every column has as many records as its summary;
 *   - reading the same block's address columns alone then succeeds and
 *     gives the same addresses;
 *   - every record of a decoded block converts without reading outside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/flow/archive_int.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t addr_hash(const struct tw_farch_block *b)
{
    uint64_t h = tw_hash64(b->src4, b->n * sizeof(*b->src4), 1);

    h ^= tw_hash64(b->dst4, b->n * sizeof(*b->dst4), 2);
    h ^= tw_hash64(b->is_v6, b->n, 3);
    h ^= tw_hash64(b->src6, b->n * 16, 4);
    return h ^ tw_hash64(b->dst6, b->n * 16, 5);
}

static void read_all(const uint8_t *data, size_t size)
{
    struct tw_farch_reader *r = NULL;
    struct tw_farch_block b;
    struct tw_flowrec rec;
    struct tw_err err;

    if (tw_farch_reader_open_mem(data, size, "fuzz.twf", &r, &err) != TW_OK)
        return;
    for (size_t i = 0; i < tw_farch_reader_nblocks(r); i++) {
        uint64_t h;

        if (tw_farch_read_block(r, i, TW_FARCH_COL_ALL, &b, &err) != TW_OK)
            continue;
        if (b.n != tw_farch_block_summary(r, i)->records)
            __builtin_trap();
        for (size_t j = 0; j < b.n; j++)
            tw_farch_block_record(&b, j, &rec);
        h = addr_hash(&b);
        if (tw_farch_read_block(r, i, TW_FARCH_COL_ADDR, &b, &err) != TW_OK || addr_hash(&b) != h)
            __builtin_trap();
    }
    tw_farch_reader_close(r);
}

/* Recomputes the checksums of one block at off (length len) where its header can be followed. */
static void fix_block(uint8_t *p, uint64_t off, uint64_t len)
{
    uint8_t *h = p + off;
    uint32_t present;
    uint64_t hlen, pos;
    unsigned k = 0;

    if (len < TW__FARCH_BLOCK_FIXED + 8)
        return;
    present = tw__get32(h + 8);
    hlen = tw__get16(h + 14);
    if (hlen < TW__FARCH_BLOCK_FIXED + 8 || hlen > len ||
            (uint64_t)__builtin_popcount(present) * TW__FARCH_COL_ENTRY >
                    hlen - TW__FARCH_BLOCK_FIXED - 8)
        return;
    pos = hlen;
    for (unsigned c = 0; c < 32; c++) {
        uint8_t *e = h + TW__FARCH_BLOCK_FIXED + k * TW__FARCH_COL_ENTRY;
        uint32_t clen;

        if ((present & (1u << c)) == 0)
            continue;
        k++;
        clen = tw__get32(e);
        if (clen > len - pos)
            break;
        tw__put64(e + 8, tw_hash64(h + pos, clen, 0));
        pos += clen;
    }
    tw__put64(h + hlen - 8, tw_hash64(h, hlen - 8, 0));
}

static void fix_checksums(uint8_t *p, size_t size)
{
    uint8_t *foot = p + size - TW__FARCH_FOOTER_LEN;
    uint64_t ioff = tw__get64(foot + 88), nb = tw__get32(foot + 80);

    tw__put64(p + 56, tw_hash64(p, 56, 0));
    if (ioff <= size - TW__FARCH_FOOTER_LEN &&
            nb <= (size - TW__FARCH_FOOTER_LEN - ioff) / TW__FARCH_INDEX_ENTRY) {
        for (uint64_t i = 0; i < nb; i++) {
            const uint8_t *e = p + ioff + i * TW__FARCH_INDEX_ENTRY;
            uint64_t off = tw__get64(e), len = tw__get32(e + 8);

            if (off <= ioff && len <= ioff - off)
                fix_block(p, off, len);
        }
        tw__put64(foot + 96, tw_hash64(p + ioff, nb * TW__FARCH_INDEX_ENTRY, 0));
    }
    tw__put64(foot + 112, tw_hash64(foot, 112, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;

    read_all(data, size);
    if (size < TW__FARCH_HEADER_LEN + TW__FARCH_FOOTER_LEN)
        return 0;
    copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    fix_checksums(copy, size);
    read_all(copy, size);
    free(copy);
    return 0;
}
