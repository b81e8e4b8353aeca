/*
 * fuzz_index_file.c: libFuzzer target for compiled index files (index.h).
 *
 * The input is loaded into an empty index twice: as it is, and with its
 * checksum recomputed, so mutations reach the record checks behind the
 * checksum. Invariants checked with __builtin_trap():
 *   - a refused file leaves the index empty (nothing half-added);
 *   - a loaded file builds, and saving and loading it again gives the same
 *     indicators, values and bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tidewatch/hash.h"
#include "tidewatch/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void load_one(const unsigned char *data, size_t size)
{
    struct tw_index *idx = tw_index_new(1u << 20), *again = NULL;
    struct tw_buf out, out2;
    struct tw_err err;
    int rc;

    if (idx == NULL)
        return;
    tw_index_keep_source(idx);
    rc = tw_index_load(idx, data, size, &err);
    if (rc != TW_OK) {
        if (rc != TW_ENOMEM && (tw_index_count(idx) != 0 || tw_index_n_values(idx) != 0))
            __builtin_trap();
        tw_index_free(idx);
        return;
    }
    if (tw_index_build(idx) != TW_OK) {
        tw_index_free(idx);
        return;
    }
    tw_buf_init(&out, (size_t)1 << 30);
    tw_buf_init(&out2, (size_t)1 << 30);
    again = tw_index_new(1u << 20);
    if (again != NULL && tw_index_save(idx, &out) == TW_OK) {
        tw_index_keep_source(again);
        if (tw_index_load(again, out.ptr, out.len, &err) != TW_OK ||
                tw_index_count(again) != tw_index_count(idx) ||
                tw_index_n_values(again) != tw_index_n_values(idx))
            __builtin_trap();
        if (tw_index_save(again, &out2) == TW_OK &&
                (out.len != out2.len || memcmp(out.ptr, out2.ptr, out.len) != 0))
            __builtin_trap();
    }
    tw_buf_cleanup(&out);
    tw_buf_cleanup(&out2);
    tw_index_free(again);
    tw_index_free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy;

    load_one(data, size);
    if (size < 64 || !tw_index_is_file(data, size))
        return 0;
    copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    put64(copy + 48, tw_hash64(copy + 64, size - 64, 0));
    load_one(copy, size);
    free(copy);
    return 0;
}
