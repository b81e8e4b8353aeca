/*
 * fuzz_json_fast.c: libFuzzer target for the quick JSON path of the STIX
 * reader (tw__json_fast_load in src/intel/json_fast.c), differential against
 * jansson's json_loadb with the flags tw_stix_read_mem gives it.
 *
 * Invariants checked with __builtin_trap():
 *   - whatever the quick path accepts, jansson accepts too;
 *   - the two trees are equal (json_equal), and serialise to the same bytes
 *     with the members in their order (JSON_PRESERVE_ORDER), so a reader of
 *     the tree cannot tell which loader built it.
 * The quick path giving up where jansson succeeds is allowed (the reader then
 * uses jansson).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../src/intel/stix_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *fast = tw__json_fast_load((const char *)data, size);
    json_t *ref;
    char *a, *b;

    if (fast == NULL)
        return 0;
    ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (ref == NULL || !json_equal(fast, ref))
        __builtin_trap();
    a = json_dumps(fast, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    b = json_dumps(ref, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (a != NULL && b != NULL && strcmp(a, b) != 0)
        __builtin_trap();
    free(a);
    free(b);
    json_decref(fast);
    json_decref(ref);
    return 0;
}
