/*
 * fuzz_taxii_spans.c: libFuzzer target for the envelope scanner of the hub's
 * POST path (tw__taxii_object_spans and tw__taxii_compact in
 * src/hub/taxii_req.c), which lets the hub store a posted object's own bytes
 * instead of serialising it again.
 *
 * The input is a request body. Invariants checked with __builtin_trap():
 *   - every span lies inside the body;
 *   - when jansson accepts the body and the scanner vouches for it, the
 *     spans are exactly the elements of its "objects" array, in order: each
 *     span parses to an element equal to the one jansson parsed, and a span
 *     marked canonical, once compacted, is byte for byte what json_dumps
 *     writes for that element (the text the hub would otherwise store).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../src/hub/taxii_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SPANS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_taxii_span spans[MAX_SPANS];
    const char *body = (const char *)data;
    json_t *root, *objects;
    long n = tw__taxii_object_spans(body, size, spans, MAX_SPANS);

    for (long i = 0; i < n; i++)
        if (spans[i].off > size || spans[i].len > size - spans[i].off)
            __builtin_trap();
    root = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL || n < 0) {
        json_decref(root);
        return 0;
    }
    objects = json_object_get(root, "objects");
    if (!json_is_array(objects) || json_array_size(objects) != (size_t)n)
        __builtin_trap();
    for (long i = 0; i < n; i++) {
        json_t *want = json_array_get(objects, (size_t)i);
        json_t *got = json_loadb(body + spans[i].off, spans[i].len, JSON_DECODE_ANY, NULL);

        if (got == NULL || !json_equal(got, want))
            __builtin_trap();
        json_decref(got);
        if (spans[i].canonical) {
            char *dump = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            char *compact = malloc(spans[i].len + 1);
            size_t m;

            if (dump == NULL || compact == NULL) {
                free(dump);
                free(compact);
                break;
            }
            m = tw__taxii_compact(body + spans[i].off, spans[i].len, compact);
            if (m != strlen(dump) || memcmp(compact, dump, m) != 0)
                __builtin_trap();
            free(dump);
            free(compact);
        }
    }
    json_decref(root);
    return 0;
}
