/*
 * tlp.c: Traffic Light Protocol levels, their STIX marking-definition ids,
 * and the TLP of a whole object or of one of its properties.
 *
 * The id tables below are the canonical TLP 1.0 (STIX 2.1 section 7.2.1.4)
 * and TLP 2.0 (OASIS cti-stix-common-objects) marking definitions. Nothing
 * here allocates; the JSON is only read.
 */
#include "tidewatch/tlp.h"

#include <string.h>

#include "tidewatch/err.h"

/* ==== Tables ==== */

struct tlp_id {
    const char *id;
    enum tw_tlp level;
    int version;
};

static const struct tlp_id tlp_ids[] = {
    { "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", TW_TLP_CLEAR, TW_TLP_V1 },
    { "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", TW_TLP_GREEN, TW_TLP_V1 },
    { "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", TW_TLP_AMBER, TW_TLP_V1 },
    { "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", TW_TLP_RED, TW_TLP_V1 },
    { "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", TW_TLP_CLEAR, TW_TLP_V2 },
    { "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", TW_TLP_GREEN, TW_TLP_V2 },
    { "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", TW_TLP_AMBER, TW_TLP_V2 },
    { "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", TW_TLP_AMBER_STRICT, TW_TLP_V2 },
    { "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", TW_TLP_RED, TW_TLP_V2 },
};

struct tlp_name {
    const char *name; /* lower case, without "tlp:" */
    enum tw_tlp level;
};

static const struct tlp_name tlp_names[] = {
    { "clear", TW_TLP_CLEAR },
    { "white", TW_TLP_CLEAR },
    { "green", TW_TLP_GREEN },
    { "amber", TW_TLP_AMBER },
    { "amber+strict", TW_TLP_AMBER_STRICT },
    { "red", TW_TLP_RED },
    { "none", TW_TLP_NONE },
    { "unmarked", TW_TLP_NONE },
};

/* ==== Static helpers ==== */

static enum tw_tlp resolve_id(struct tw_str id, tw_tlp_resolve_fn *resolve, void *ctx)
{
    enum tw_tlp level = tw_tlp_from_marking_id(id, NULL);

    if (level == TW_TLP_NONE && resolve != NULL) {
        level = resolve(id, ctx);
    }
    return level;
}

static struct tw_str json_slice(const json_t *s)
{
    return tw_str_make(json_string_value(s), json_string_length(s));
}

/* A TLP 1.0 definition value ("white", "green", "amber", "red"); NONE when unknown. */
static enum tw_tlp v1_level(struct tw_str s)
{
    if (tw_str_eq_cstr(s, "white")) {
        return TW_TLP_CLEAR;
    }
    if (tw_str_eq_cstr(s, "green")) {
        return TW_TLP_GREEN;
    }
    if (tw_str_eq_cstr(s, "amber")) {
        return TW_TLP_AMBER;
    }
    if (tw_str_eq_cstr(s, "red")) {
        return TW_TLP_RED;
    }
    return TW_TLP_NONE;
}

/* A TLP 2.0 "tlp_2_0" value; NONE when unknown. */
static enum tw_tlp v2_level(struct tw_str s)
{
    if (tw_str_eq_cstr(s, "clear")) {
        return TW_TLP_CLEAR;
    }
    if (tw_str_eq_cstr(s, "green")) {
        return TW_TLP_GREEN;
    }
    if (tw_str_eq_cstr(s, "amber")) {
        return TW_TLP_AMBER;
    }
    if (tw_str_eq_cstr(s, "amber+strict")) {
        return TW_TLP_AMBER_STRICT;
    }
    if (tw_str_eq_cstr(s, "red")) {
        return TW_TLP_RED;
    }
    return TW_TLP_NONE;
}

/* ==== Public API ==== */

const char *tw_tlp_name(enum tw_tlp level)
{
    switch (level) {
        case TW_TLP_CLEAR:
            return "TLP:CLEAR";
        case TW_TLP_GREEN:
            return "TLP:GREEN";
        case TW_TLP_AMBER:
            return "TLP:AMBER";
        case TW_TLP_AMBER_STRICT:
            return "TLP:AMBER+STRICT";
        case TW_TLP_RED:
            return "TLP:RED";
        case TW_TLP_NONE:
        default:
            return "unmarked";
    }
}

int tw_tlp_parse(struct tw_str name, enum tw_tlp *out)
{
    struct tw_str s = name;

    if (s.len >= 4 && tw_str_caseeq(tw_str_make(s.ptr, 4), TW_STR("tlp:"))) {
        s.ptr += 4;
        s.len -= 4;
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(tlp_names); i++) {
        if (tw_str_caseeq(s, tw_str_cstr(tlp_names[i].name))) {
            *out = tlp_names[i].level;
            return TW_OK;
        }
    }
    return TW_EINVAL;
}

enum tw_tlp tw_tlp_from_marking_id(struct tw_str id, int *version)
{
    for (size_t i = 0; i < TW_ARRAY_LEN(tlp_ids); i++) {
        if (tw_str_eq_cstr(id, tlp_ids[i].id)) {
            if (version != NULL) {
                *version = tlp_ids[i].version;
            }
            return tlp_ids[i].level;
        }
    }
    if (version != NULL) {
        *version = 0;
    }
    return TW_TLP_NONE;
}

const char *tw_tlp_marking_id(enum tw_tlp level, int version)
{
    for (size_t i = 0; i < TW_ARRAY_LEN(tlp_ids); i++) {
        if (tlp_ids[i].level == level && tlp_ids[i].version == version) {
            return tlp_ids[i].id;
        }
    }
    return NULL;
}

int tw_tlp_from_definition(const json_t *mdef, enum tw_tlp *level, int *version)
{
    const json_t *dt;
    const json_t *ext;

    if (!json_is_object(mdef)) {
        return TW_ENOTFOUND;
    }
    dt = json_object_get(mdef, "definition_type");
    if (json_is_string(dt) && strcmp(json_string_value(dt), "tlp") == 0) {
        const json_t *def = json_object_get(mdef, "definition");
        const json_t *t = json_is_object(def) ? json_object_get(def, "tlp") : NULL;
        enum tw_tlp l;

        if (!json_is_string(t)) {
            return TW_EINVAL;
        }
        l = v1_level(json_slice(t));
        if (l == TW_TLP_NONE) {
            return TW_EINVAL;
        }
        *level = l;
        *version = TW_TLP_V1;
        return TW_OK;
    }
    ext = json_object_get(mdef, "extensions");
    ext = json_is_object(ext) ? json_object_get(ext, TW_TLP2_EXTENSION_ID) : NULL;
    if (ext != NULL) {
        const json_t *t = json_is_object(ext) ? json_object_get(ext, "tlp_2_0") : NULL;
        enum tw_tlp l;

        if (!json_is_string(t)) {
            return TW_EINVAL;
        }
        l = v2_level(json_slice(t));
        if (l == TW_TLP_NONE) {
            return TW_EINVAL;
        }
        *level = l;
        *version = TW_TLP_V2;
        return TW_OK;
    }
    return TW_ENOTFOUND;
}

enum tw_tlp tw_tlp_of_object(const json_t *obj, tw_tlp_resolve_fn *resolve, void *ctx)
{
    const json_t *refs = json_is_object(obj) ? json_object_get(obj, "object_marking_refs") : NULL;
    enum tw_tlp level = TW_TLP_NONE;
    size_t i;
    const json_t *v;

    if (!json_is_array(refs)) {
        return TW_TLP_NONE;
    }
    json_array_foreach(refs, i, v)
    {
        if (json_is_string(v)) {
            level = tw_tlp_max(level, resolve_id(json_slice(v), resolve, ctx));
        }
    }
    return level;
}

bool tw_tlp_selector_covers(struct tw_str selector, struct tw_str prop)
{
    struct tw_str shorter = selector.len <= prop.len ? selector : prop;
    struct tw_str longer = selector.len <= prop.len ? prop : selector;

    if (shorter.len == 0) {
        return false;
    }
    if (memcmp(shorter.ptr, longer.ptr, shorter.len) != 0) {
        return false;
    }
    return longer.len == shorter.len || longer.ptr[shorter.len] == '.';
}

enum tw_tlp tw_tlp_of_property(
        const json_t *obj, struct tw_str prop, tw_tlp_resolve_fn *resolve, void *ctx)
{
    enum tw_tlp level = tw_tlp_of_object(obj, resolve, ctx);
    const json_t *gms = json_is_object(obj) ? json_object_get(obj, "granular_markings") : NULL;
    size_t i;
    const json_t *gm;

    if (!json_is_array(gms)) {
        return level;
    }
    json_array_foreach(gms, i, gm)
    {
        const json_t *ref = json_object_get(gm, "marking_ref");
        const json_t *sels = json_object_get(gm, "selectors");
        enum tw_tlp l;
        size_t j;
        const json_t *sel;

        if (!json_is_string(ref) || !json_is_array(sels)) {
            continue;
        }
        l = resolve_id(json_slice(ref), resolve, ctx);
        if (l <= level) {
            continue;
        }
        json_array_foreach(sels, j, sel)
        {
            if (json_is_string(sel) && tw_tlp_selector_covers(json_slice(sel), prop)) {
                level = l;
                break;
            }
        }
    }
    return level;
}
