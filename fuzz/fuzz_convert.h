/*
 * fuzz_convert.h: the checks the importer fuzz targets share. Invariants,
 * checked with __builtin_trap():
 *   - a successful import gives a bundle that serialises, and jansson reads
 *     the text back;
 *   - rows read = converted + rejected + duplicates;
 *   - every indicator it wrote compiles with tw_pattern_parse and exports to
 *     Zeek as an exact list entry (no bad-pattern, not-exact or bad-value skips).
 */
#ifndef TW_FUZZ_CONVERT_H
#define TW_FUZZ_CONVERT_H

#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "tidewatch/buf.h"
#include "tidewatch/convert.h"

/* The importers' common signature (tw_convert_csv, tw_convert_zeek, tw_convert_list). */
typedef int fuzz_importer_fn(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err);

/* Runs one importer on the input and checks the invariants above. */
static int fuzz_import(fuzz_importer_fn *import, const uint8_t *data, size_t size)
{
    static const struct tw_convert_opts opts = { "fuzz", "2025-01-01T00:00:00Z", "fuzz-source",
        NULL, "amber" };
    struct tw_convert_result res;
    struct tw_export_result ex;
    struct tw_buf text;
    struct tw_buf zeek;
    json_t *back;
    int rc;

    if (size > 1 << 20)
        return 0;
    tw_convert_result_init(&res);
    rc = import((const char *)data, size, &opts, &res, NULL);
    if (res.n_read != res.n_converted + res.n_rejected + res.n_duplicates)
        __builtin_trap();
    if (rc != TW_OK) {
        if (res.bundle != NULL)
            __builtin_trap();
        tw_convert_result_cleanup(&res);
        return 0;
    }
    tw_buf_init(&text, 64u << 20);
    if (tw_convert_dump(res.bundle, 1, &text) != TW_OK)
        __builtin_trap();
    back = json_loadb(text.ptr, text.len, 0, NULL);
    if (back == NULL)
        __builtin_trap();
    json_decref(back);
    tw_buf_cleanup(&text);

    tw_export_result_init(&ex);
    tw_buf_init(&zeek, 64u << 20);
    if (tw_export_zeek(res.bundle, &zeek, &ex, NULL) != TW_OK)
        __builtin_trap();
    if (ex.n_indicators != res.n_converted || ex.n_skipped[TW_SKIP_BAD_PATTERN] != 0 ||
            ex.n_skipped[TW_SKIP_NOT_EXACT] != 0 || ex.n_skipped[TW_SKIP_BAD_VALUE] != 0)
        __builtin_trap();
    tw_buf_cleanup(&zeek);
    tw_export_result_cleanup(&ex);
    tw_convert_result_cleanup(&res);
    return 0;
}

#endif
