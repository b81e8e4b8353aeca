/*
 * fuzz_bundle.c: libFuzzer target for the STIX bundle reader and validator.
 *
 * Feeds the input to tw_stix_read_mem (patterns are compiled too, so the
 * pattern parser is reached through indicators), then walks everything the
 * bundle hands out: objects, problems in both output formats, indicators and
 * per-property TLP. Invariants checked with __builtin_trap():
 *   - a bundle comes back exactly when the status is TW_OK;
 *   - an object is valid exactly when no error was recorded against it, and
 *     n_valid counts the valid objects;
 *   - every problem has an object label and a path starting with "$";
 *   - an indicator is handed out only for valid indicator objects.
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/stix.h"

static int check_indicator(const struct tw_stix_indicator *ind, void *ctx)
{
    (void)ctx;
    if (!ind->obj->valid || strcmp(ind->obj->type, "indicator") != 0 || ind->id == NULL) {
        __builtin_trap();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_stix_bundle *b = NULL;
    struct tw_err err;
    struct tw_buf out;
    size_t n_valid = 0;
    int rc = tw_stix_read_mem((const char *)data, size, "fuzz", 0, &b, &err);

    if ((rc == TW_OK) != (b != NULL)) {
        __builtin_trap();
    }
    if (b == NULL) {
        return 0;
    }
    for (size_t i = 0; i < tw_stix_bundle_count(b); i++) {
        const struct tw_stix_object *o = tw_stix_bundle_object(b, i);

        if (o->valid != (o->n_errors == 0) || o->type == NULL || o->index != i) {
            __builtin_trap();
        }
        n_valid += o->valid ? 1 : 0;
        if (o->id != NULL && tw_stix_bundle_find(b, o->id) == NULL) {
            __builtin_trap();
        }
        (void)tw_stix_property_tlp(b, o, "description");
        (void)tw_stix_property_tlp(b, o, "external_references.[0].url");
    }
    if (n_valid != tw_stix_bundle_n_valid(b)) {
        __builtin_trap();
    }
    tw_buf_init(&out, 1024 * 1024);
    for (size_t i = 0; i < tw_stix_bundle_n_problems(b); i++) {
        const struct tw_stix_problem *p = tw_stix_bundle_problem(b, i);

        if (p->object == NULL || p->path == NULL || p->path[0] != '$' || p->msg == NULL) {
            __builtin_trap();
        }
        tw_buf_reset(&out);
        if (tw_stix_problem_format(p, "fuzz", TW_STIX_TEXT, &out) != TW_OK ||
                tw_stix_problem_format(p, "fuzz", TW_STIX_JSONL, &out) != TW_OK) {
            __builtin_trap();
        }
    }
    tw_buf_cleanup(&out);
    if (tw_stix_each_indicator(b, check_indicator, NULL) != TW_OK) {
        __builtin_trap();
    }
    tw_stix_bundle_free(b);
    return 0;
}
