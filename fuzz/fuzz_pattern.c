/*
 * fuzz_pattern.c: libFuzzer target for the STIX pattern module. Every input is
 * parsed as a pattern; accepted ones must print canonical text that parses
 * again to the same canonical text and the same conformance level (the
 * round-trip invariant, checked with __builtin_trap), their atoms are walked,
 * and they are evaluated against a small fixed set of observations so the
 * matcher sees every tree the parser accepts.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "tidewatch/alloc.h"
#include "tidewatch/pattern.h"

static json_t *observations;

static const char obs_json[] =
        "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"last_observed\": "
        "\"2024-01-01T00:00:05Z\", \"objects\": {"
        "\"0\": {\"type\": \"ipv4-addr\", \"value\": \"10.0.0.1\"},"
        "\"1\": {\"type\": \"network-traffic\", \"dst_ref\": \"0\", \"dst_port\": 443,"
        " \"protocols\": [\"tcp\"], \"start\": \"2024-01-01T00:00:01Z\"},"
        "\"2\": {\"type\": \"file\", \"name\": \"a.exe\", \"size\": 10, \"hashes\": "
        "{\"MD5\": \"00\"}, \"magic_number_hex\": \"ffd8\"}}},"
        " {\"first_observed\": \"2024-01-01T00:01:00Z\", \"objects\": {"
        "\"0\": {\"type\": \"ipv6-addr\", \"value\": \"2001:db8::1\"},"
        "\"1\": {\"type\": \"domain-name\", \"value\": \"example.com\", \"resolves_to_refs\": "
        "[\"0\"]},"
        "\"2\": {\"type\": \"artifact\", \"payload_bin\": \"aGk=\"}}},"
        " {\"first_observed\": \"2024-01-01T00:02:00Z\", \"objects\": {"
        "\"0\": {\"type\": \"ipv4-addr\", \"value\": \"10.0.0.1\"}}}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_atom(const struct tw_pattern_atom *a, void *ctx)
{
    size_t *n = ctx;

    /* Read every byte of the slices so ASan checks they are alive. */
    for (size_t i = 0; i < a->type.len; i++)
        *n += (unsigned char)a->type.ptr[i] == 0xff;
    for (size_t i = 0; i < a->path.len; i++)
        *n += (unsigned char)a->path.ptr[i] == 0xff;
    for (size_t i = 0; i < a->value.len; i++)
        *n += (unsigned char)a->value.ptr[i] == 0xff;
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_pattern *p = NULL, *q = NULL;
    struct tw_err err;
    char *t1, *t2;
    size_t n_atoms = 0;
    bool exact = false, matched = false;

    if (observations == NULL) {
        observations = json_loads(obs_json, 0, NULL);
        if (observations == NULL)
            __builtin_trap();
    }
    if (tw_pattern_parse(tw_str_make((const char *)data, size), &p, &err) != TW_OK) {
        if (p != NULL || err.code == TW_OK)
            __builtin_trap();
        return 0;
    }
    t1 = tw_pattern_format(p);
    if (t1 == NULL)
        __builtin_trap();
    if (tw_pattern_parse(tw_str_cstr(t1), &q, &err) != TW_OK)
        __builtin_trap();
    t2 = tw_pattern_format(q);
    if (t2 == NULL || strcmp(t1, t2) != 0)
        __builtin_trap();
    if (tw_pattern_level(p) != tw_pattern_level(q) || tw_pattern_level(p) < 1 ||
            tw_pattern_level(p) > 3)
        __builtin_trap();
    if (tw_pattern_atoms(p, count_atom, &n_atoms, &exact) == TW_OK && n_atoms == 0)
        __builtin_trap();
    /* A failed evaluation never reports a match. */
    if (tw_pattern_match(p, observations, &matched, &err) != TW_OK && matched)
        __builtin_trap();
    tw_free(t2);
    tw_free(t1);
    tw_pattern_free(q);
    tw_pattern_free(p);
    return 0;
}
