/*
 * fuzz_taxii_req.c: libFuzzer target for the text a TAXII client controls
 * (src/hub/taxii_req.c): the query string, Accept and Content-Type headers,
 * the Authorization header and the paging cursor.
 *
 * The input is split at the first three NUL bytes into query, Accept,
 * Authorization and cursor. Invariants checked with __builtin_trap():
 *   - a refused query always says why (the 400 body is never empty);
 *   - an accepted query has at most TW_STORE_MAX_MATCH values per match
 *     field;
 *   - a cursor that parses formats back to text that parses to the same
 *     position;
 *   - credentials that parse fit the buffer, NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/hub/taxii_int.h"
#include "tidewatch/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 4), *part[4];
    struct tw_taxii_query q;
    struct tw_arena a;
    size_t k = 0;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    memset(copy + size, 0, 4);
    part[0] = copy;
    for (size_t i = 0; i < size && k < 3; i++)
        if (copy[i] == '\0')
            part[++k] = copy + i + 1;
    while (k < 3)
        part[++k] = copy + size;

    tw_arena_init(&a, 4096, (size_t)16 << 20);
    if (tw__taxii_parse_query(part[0], &a, &q) != TW_OK) {
        if (q.error[0] == '\0')
            __builtin_trap();
    } else {
        if (q.n_ids > TW_STORE_MAX_MATCH || q.n_types > TW_STORE_MAX_MATCH ||
                q.n_version_list > TW_STORE_MAX_MATCH || q.n_spec_versions > TW_STORE_MAX_MATCH)
            __builtin_trap();
    }
    tw_arena_cleanup(&a);

    (void)tw__taxii_accept_ok(part[1]);
    (void)tw__taxii_content_type_ok(part[1]);
    {
        char key[128];
        if (tw__taxii_credentials(part[2], key, sizeof(key)) == TW_OK &&
                strnlen(key, sizeof(key)) == sizeof(key))
            __builtin_trap();
    }
    {
        int64_t d, s, d2, s2;
        char text[48];
        if (tw__taxii_cursor_parse(part[3], &d, &s) == TW_OK) {
            if (tw__taxii_cursor_format(d, s, text, sizeof(text)) != TW_OK ||
                    tw__taxii_cursor_parse(text, &d2, &s2) != TW_OK || d != d2 || s != s2)
                __builtin_trap();
        }
    }
    free(copy);
    return 0;
}
