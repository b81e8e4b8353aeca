/*
 * fuzz_url.c: URL normalisation never crashes, and is idempotent: a
 * normalised URL normalises to itself (otherwise two spellings of one URL
 * could miss each other in the index).
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/buf.h"
#include "tidewatch/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_buf a, b;

    tw_buf_init(&a, 4 * (size_t)TW_URL_MAX_LEN);
    tw_buf_init(&b, 4 * (size_t)TW_URL_MAX_LEN);
    if (tw_url_normalize(tw_str_make((const char *)data, size), &a, NULL) == TW_OK) {
        if (tw_url_normalize(tw_str_make(a.ptr, a.len), &b, NULL) != TW_OK)
            __builtin_trap();
        if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0)
            __builtin_trap();
    }
    tw_buf_cleanup(&a);
    tw_buf_cleanup(&b);
    return 0;
}
