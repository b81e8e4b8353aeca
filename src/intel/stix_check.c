/*
 * stix_check.c: checks one STIX 2.1 object.
 *
 * The order is: the identity of the object (type, id, spec_version), the
 * common properties of its family (STIX 2.1 section 3.2), the properties of
 * its type from the tables in stix_types.c, its type's own rules, and last
 * every property nobody defines (custom properties, section 11.1). Each
 * finding goes through tw__stix_report with the JSON path of the value; no
 * finding stops the walk. Only the top level of an object and the nested
 * structures STIX defines (external references, markings, hashes, kill chain
 * phases, extensions) are walked, so the depth of the work is fixed.
 */
#include <string.h>

#include "stix_int.h"
#include "tidewatch/hash.h"
#include "tidewatch/time.h"

/* ==== Tables ==== */

/* Common properties and which families define them (section 3.2). */
#define FAM_SDO  0x1u /* SDOs, SROs, custom objects, extension-definition, language-content */
#define FAM_SCO  0x2u
#define FAM_MARK 0x4u /* marking-definition */
#define FAM_ALL  (FAM_SDO | FAM_SCO | FAM_MARK)

struct common_prop {
    const char *name;
    unsigned families;
};

static const struct common_prop common_props[] = {
    { "type", FAM_ALL },
    { "spec_version", FAM_ALL },
    { "id", FAM_ALL },
    { "created_by_ref", FAM_SDO | FAM_MARK },
    { "created", FAM_SDO | FAM_MARK },
    { "modified", FAM_SDO },
    { "revoked", FAM_SDO },
    { "labels", FAM_SDO },
    { "confidence", FAM_SDO },
    { "lang", FAM_SDO },
    { "external_references", FAM_SDO | FAM_MARK },
    { "object_marking_refs", FAM_ALL },
    { "granular_markings", FAM_ALL },
    { "extensions", FAM_ALL },
    { "defanged", FAM_SCO },
};

/* Property names STIX 2.1 reserves (sections 3.x); they must not be used. */
static const char *const reserved_props[] = {
    "action",
    "addresses",
    "phone_numbers",
    "severity",
    "username",
    "usernames",
};

/* Predefined SCO extensions (section 6) and the type each belongs to. */
struct predef_ext {
    const char *name;
    const char *type;
};

static const struct predef_ext predef_exts[] = {
    { "archive-ext", "file" },
    { "ntfs-ext", "file" },
    { "pdf-ext", "file" },
    { "raster-image-ext", "file" },
    { "windows-pebinary-ext", "file" },
    { "http-request-ext", "network-traffic" },
    { "icmp-ext", "network-traffic" },
    { "socket-ext", "network-traffic" },
    { "tcp-ext", "network-traffic" },
    { "windows-process-ext", "process" },
    { "windows-service-ext", "process" },
    { "unix-account-ext", "user-account" },
};

/* Hash algorithms of hash-algorithm-ov with a fixed hex length (0: free form). */
struct hash_algo {
    const char *name;
    size_t hex_len;
};

static const struct hash_algo hash_algos[] = {
    { "MD5", 32 },
    { "SHA-1", 40 },
    { "SHA-256", 64 },
    { "SHA-512", 128 },
    { "SHA3-256", 64 },
    { "SHA3-512", 128 },
    { "SSDEEP", 0 },
    { "TLSH", 0 },
};

/* ==== Small helpers ==== */

static struct tw_str jstr(const json_t *s)
{
    return tw_str_make(json_string_value(s), json_string_length(s));
}

static const char *json_kind_name(const json_t *v)
{
    switch (json_typeof(v)) {
        case JSON_OBJECT:
            return "an object";
        case JSON_ARRAY:
            return "a list";
        case JSON_STRING:
            return "a string";
        case JSON_INTEGER:
            return "an integer";
        case JSON_REAL:
            return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
            return "a boolean";
        case JSON_NULL:
        default:
            return "null";
    }
}

static void wrong_type(struct tw__stix_ctx *c, const char *want, const json_t *v)
{
    tw__stix_report(c, TW_STIX_ERROR, "must be %s, not %s", want, json_kind_name(v));
}

static bool name_chars_ok(struct tw_str s, bool upper, bool hyphen, bool underscore)
{
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.ptr[i];
        bool ok = (ch >= 'a' && ch <= 'z') || tw_ascii_isdigit(ch) ||
                  (upper && ch >= 'A' && ch <= 'Z') || (hyphen && ch == '-') ||
                  (underscore && ch == '_');

        if (!ok) {
            return false;
        }
    }
    return true;
}

/* A type name: 3..250 of a-z, 0-9 and '-', and no "--" (it would split the id). */
static bool type_name_ok(struct tw_str s)
{
    if (s.len < 3 || s.len > 250 || !name_chars_ok(s, false, true, false)) {
        return false;
    }
    for (size_t i = 0; i + 1 < s.len; i++) {
        if (s.ptr[i] == '-' && s.ptr[i + 1] == '-') {
            return false;
        }
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* ==== Identifiers ==== */

/* Splits "<type>--<uuid>" and parses the UUID; false when the shape is wrong. */
static bool split_id(struct tw_str s, struct tw_str *type, uint8_t uuid[16])
{
    if (s.len < 36 + 2 + 1) {
        return false;
    }
    type->ptr = s.ptr;
    type->len = s.len - 36 - 2;
    if (s.ptr[type->len] != '-' || s.ptr[type->len + 1] != '-') {
        return false;
    }
    return tw_uuid_parse(tw_str_make(s.ptr + type->len + 2, 36), uuid);
}

static bool uuid_rfc4122(const uint8_t u[16])
{
    unsigned v = tw_uuid_version(u);

    return (u[8] & 0xc0u) == 0x80u && v >= 1 && v <= 5;
}

bool tw_stix_id_valid(struct tw_str s, struct tw_str *type)
{
    struct tw_str t;
    uint8_t u[16];

    if (s.ptr == NULL || !split_id(s, &t, u) || !type_name_ok(t) || !uuid_rfc4122(u)) {
        return false;
    }
    if (type != NULL) {
        *type = t;
    }
    return true;
}

bool tw__stix_target_ok(struct tw_str type, const char *targets)
{
    enum tw_stix_kind kind;
    struct tw_str list;
    struct tw_str tok;

    if (targets == NULL) {
        return true;
    }
    kind = tw_stix_type_kind(type);
    list = tw_str_cstr(targets);
    while (tw_str_split(&list, ' ', &tok)) {
        if (tw_str_eq_cstr(tok, "@any") || tw_str_eq(tok, type)) {
            return true;
        }
        if (tw_str_eq_cstr(tok, "@sdo") && (kind == TW_STIX_SDO || kind == TW_STIX_CUSTOM)) {
            return true;
        }
        if (tw_str_eq_cstr(tok, "@sco") && (kind == TW_STIX_SCO || kind == TW_STIX_CUSTOM)) {
            return true;
        }
        if (tw_str_eq_cstr(tok, "@core") &&
                (kind == TW_STIX_SDO || kind == TW_STIX_SCO || kind == TW_STIX_CUSTOM)) {
            return true;
        }
    }
    return false;
}

static const char *targets_text(const char *targets)
{
    if (strcmp(targets, "@sdo") == 0) {
        return "a domain object (SDO)";
    }
    if (strcmp(targets, "@sco") == 0) {
        return "a cyber-observable (SCO)";
    }
    if (strcmp(targets, "@core") == 0) {
        return "an SDO or SCO (not a relationship, sighting, marking or bundle)";
    }
    if (strcmp(targets, "@sco relationship") == 0) {
        return "an SCO or relationship";
    }
    return targets;
}

/* Checks one identifier value at the current path. */
static void check_ref_value(struct tw__stix_ctx *c, const json_t *v, const char *targets)
{
    struct tw_str type;

    if (!json_is_string(v)) {
        wrong_type(c, "an identifier string", v);
        return;
    }
    if (!tw_stix_id_valid(jstr(v), &type)) {
        tw__stix_report(c, TW_STIX_ERROR, "not a STIX identifier (<type>--<RFC 4122 UUID>)");
        return;
    }
    if (!tw__stix_target_ok(type, targets)) {
        tw__stix_report(c, TW_STIX_ERROR, "must reference %s, not %.*s", targets_text(targets),
                (int)TW_MIN(type.len, 64), type.ptr);
    }
}

/* ==== Value kinds ==== */

static void check_time_value(struct tw__stix_ctx *c, const json_t *v, unsigned flags)
{
    struct tw_time t;
    struct tw_err err;

    if (!json_is_string(v)) {
        wrong_type(c, "a timestamp string", v);
        return;
    }
    if (tw_time_parse(jstr(v), flags, &t, &err) != TW_OK) {
        if ((flags & TW_TIME_MILLIS) != 0 && tw_time_parse(jstr(v), 0, &t, NULL) == TW_OK) {
            tw__stix_report(c, TW_STIX_ERROR,
                    "timestamp must have at least millisecond precision (section 3.2)");
        } else {
            tw__stix_report(c, TW_STIX_ERROR,
                    "not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z): %s", err.msg);
        }
    }
}

static void check_string_list(struct tw__stix_ctx *c, const json_t *v)
{
    size_t i;
    const json_t *e;

    if (!json_is_array(v)) {
        wrong_type(c, "a list of strings", v);
        return;
    }
    if (json_array_size(v) == 0) {
        tw__stix_report(c, TW_STIX_ERROR, "lists must not be empty");
        return;
    }
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) {
            size_t m = tw__stix_push_index(c, i);

            wrong_type(c, "a string", e);
            tw__stix_pop(c, m);
        }
    }
}

static bool check_nonempty_list(struct tw__stix_ctx *c, const json_t *v, const char *what)
{
    if (!json_is_array(v)) {
        wrong_type(c, what, v);
        return false;
    }
    if (json_array_size(v) == 0) {
        tw__stix_report(c, TW_STIX_ERROR, "lists must not be empty");
        return false;
    }
    return true;
}

static void check_hashes(struct tw__stix_ctx *c, const json_t *v)
{
    const char *key;
    const json_t *h;

    if (!json_is_object(v)) {
        wrong_type(c, "a dictionary of hashes", v);
        return;
    }
    if (json_object_size(v) == 0) {
        tw__stix_report(c, TW_STIX_ERROR, "hashes must not be empty");
        return;
    }
    json_object_foreach((json_t *)(uintptr_t)v, key, h)
    {
        size_t m = tw__stix_push_key(c, key);
        const struct hash_algo *algo = NULL;
        struct tw_str k = tw_str_cstr(key);

        for (size_t i = 0; i < TW_ARRAY_LEN(hash_algos); i++) {
            if (strcmp(key, hash_algos[i].name) == 0) {
                algo = &hash_algos[i];
            }
        }
        if (algo == NULL && (k.len < 3 || k.len > 250 || !name_chars_ok(k, true, true, true))) {
            tw__stix_report(c, TW_STIX_ERROR,
                    "custom hash names must be 3 to 250 characters of a-z, A-Z, 0-9, '_', '-'");
        }
        if (!json_is_string(h)) {
            wrong_type(c, "a string", h);
        } else if (algo != NULL && algo->hex_len != 0) {
            struct tw_str s = jstr(h);
            bool ok = s.len == algo->hex_len;

            for (size_t i = 0; i < s.len && ok; i++) {
                ok = tw_ascii_isxdigit(s.ptr[i]);
            }
            if (!ok) {
                tw__stix_report(
                        c, TW_STIX_ERROR, "a %s hash is %zu hex digits", algo->name, algo->hex_len);
            }
        }
        tw__stix_pop(c, m);
    }
}

static void check_kill_chain(struct tw__stix_ctx *c, const json_t *v)
{
    size_t i;
    const json_t *e;

    if (!check_nonempty_list(c, v, "a list of kill-chain phases")) {
        return;
    }
    json_array_foreach(v, i, e)
    {
        size_t m = tw__stix_push_index(c, i);

        if (!json_is_object(e)) {
            wrong_type(c, "a kill-chain-phase object", e);
        } else {
            static const char *const req[] = { "kill_chain_name", "phase_name" };

            for (size_t k = 0; k < TW_ARRAY_LEN(req); k++) {
                const json_t *s = json_object_get(e, req[k]);
                size_t m2 = tw__stix_push_key(c, req[k]);

                if (s == NULL) {
                    tw__stix_report(c, TW_STIX_ERROR, "missing required property");
                } else if (!json_is_string(s)) {
                    wrong_type(c, "a string", s);
                }
                tw__stix_pop(c, m2);
            }
        }
        tw__stix_pop(c, m);
    }
}

static bool chars_in(struct tw_str s, const char *set, bool hex)
{
    for (size_t i = 0; i < s.len; i++) {
        bool ok = hex ? tw_ascii_isxdigit(s.ptr[i])
                      : (tw_ascii_isalpha(s.ptr[i]) || tw_ascii_isdigit(s.ptr[i]) ||
                                strchr(set, s.ptr[i]) != NULL);

        if (!ok || s.ptr[i] == '\0') {
            return false;
        }
    }
    return true;
}

void tw__stix_check_value(struct tw__stix_ctx *c, const struct tw__stix_prop *p, const json_t *v)
{
    size_t i;
    const json_t *e;

    switch (p->kind) {
        case PK_ANY:
            break;
        case PK_STRING:
            if (!json_is_string(v)) {
                wrong_type(c, "a string", v);
            }
            break;
        case PK_TIME:
            check_time_value(c, v, 0);
            break;
        case PK_INT:
            if (!json_is_integer(v)) {
                wrong_type(c, "an integer", v);
            } else if (json_integer_value(v) < p->min || json_integer_value(v) > p->max) {
                tw__stix_report(c, TW_STIX_ERROR, "must be between %lld and %lld",
                        (long long)p->min, (long long)p->max);
            }
            break;
        case PK_FLOAT:
            if (!json_is_number(v)) {
                wrong_type(c, "a number", v);
            } else if (json_number_value(v) < (double)p->min ||
                       json_number_value(v) > (double)p->max) {
                tw__stix_report(c, TW_STIX_ERROR, "must be between %lld and %lld",
                        (long long)p->min, (long long)p->max);
            }
            break;
        case PK_BOOL:
            if (!json_is_boolean(v)) {
                wrong_type(c, "a boolean", v);
            }
            break;
        case PK_STRLIST:
            check_string_list(c, v);
            break;
        case PK_REF:
            check_ref_value(c, v, p->targets);
            break;
        case PK_REFS:
            if (check_nonempty_list(c, v, "a list of identifiers")) {
                json_array_foreach(v, i, e)
                {
                    size_t m = tw__stix_push_index(c, i);

                    check_ref_value(c, e, p->targets);
                    tw__stix_pop(c, m);
                }
            }
            break;
        case PK_KCP:
            check_kill_chain(c, v);
            break;
        case PK_HASHES:
            check_hashes(c, v);
            break;
        case PK_DICT:
            if (!json_is_object(v)) {
                wrong_type(c, "a dictionary", v);
            } else if (json_object_size(v) == 0) {
                tw__stix_report(c, TW_STIX_ERROR, "dictionaries must not be empty");
            }
            break;
        case PK_OBJLIST:
            if (check_nonempty_list(c, v, "a list of objects")) {
                json_array_foreach(v, i, e)
                {
                    if (!json_is_object(e)) {
                        size_t m = tw__stix_push_index(c, i);

                        wrong_type(c, "an object", e);
                        tw__stix_pop(c, m);
                    }
                }
            }
            break;
        case PK_LIST:
            (void)check_nonempty_list(c, v, "a list");
            break;
        case PK_HEX:
            if (!json_is_string(v)) {
                wrong_type(c, "a hex string", v);
            } else if (!chars_in(jstr(v), "", true)) {
                tw__stix_report(c, TW_STIX_ERROR, "must hold only hex digits");
            }
            break;
        case PK_BINARY:
            if (!json_is_string(v)) {
                wrong_type(c, "a base64 string", v);
            } else if (!chars_in(jstr(v), "+/=", false) || json_string_length(v) % 4 != 0) {
                tw__stix_report(c, TW_STIX_ERROR, "must be base64 (RFC 4648)");
            }
            break;
    }
}

bool tw__stix_get_time(struct tw__stix_ctx *c, const json_t *o, const char *key, unsigned flags,
        struct tw_time *out)
{
    const json_t *v = json_object_get(o, key);

    (void)c;
    return json_is_string(v) && tw_time_parse(jstr(v), flags, out, NULL) == TW_OK;
}

void tw__stix_check_order(struct tw__stix_ctx *c, const json_t *o, const char *earlier,
        const char *later, bool strict)
{
    struct tw_time a;
    struct tw_time b;
    int cmp;

    if (!tw__stix_get_time(c, o, earlier, 0, &a) || !tw__stix_get_time(c, o, later, 0, &b)) {
        return;
    }
    cmp = tw_time_cmp(&b, &a);
    if (cmp < 0 || (strict && cmp == 0)) {
        size_t m = tw__stix_push_key(c, later);

        tw__stix_report(c, TW_STIX_ERROR, "%s must be %s %s", later,
                strict ? "later than" : "the same as or later than", earlier);
        tw__stix_pop(c, m);
    }
}

/* ==== Common structures ==== */

static void check_external_refs(struct tw__stix_ctx *c, const json_t *v)
{
    size_t i;
    const json_t *e;

    if (!check_nonempty_list(c, v, "a list of external references")) {
        return;
    }
    json_array_foreach(v, i, e)
    {
        size_t m = tw__stix_push_index(c, i);
        const json_t *sn;
        const json_t *eid;
        static const char *const strs[] = { "source_name", "description", "url", "external_id" };

        if (!json_is_object(e)) {
            wrong_type(c, "an external-reference object", e);
            tw__stix_pop(c, m);
            continue;
        }
        sn = json_object_get(e, "source_name");
        eid = json_object_get(e, "external_id");
        for (size_t k = 0; k < TW_ARRAY_LEN(strs); k++) {
            const json_t *s = json_object_get(e, strs[k]);

            if (s != NULL && !json_is_string(s)) {
                size_t m2 = tw__stix_push_key(c, strs[k]);

                wrong_type(c, "a string", s);
                tw__stix_pop(c, m2);
            }
        }
        if (sn == NULL) {
            size_t m2 = tw__stix_push_key(c, "source_name");

            tw__stix_report(c, TW_STIX_ERROR, "missing required property");
            tw__stix_pop(c, m2);
        }
        if (!json_object_get(e, "description") && !json_object_get(e, "url") && eid == NULL) {
            tw__stix_report(c, TW_STIX_ERROR,
                    "an external reference needs at least one of description, url, external_id");
        }
        if (json_object_get(e, "hashes") != NULL) {
            size_t m2 = tw__stix_push_key(c, "hashes");

            check_hashes(c, json_object_get(e, "hashes"));
            tw__stix_pop(c, m2);
        }
        if (json_is_string(sn) && (strcmp(json_string_value(sn), "capec") == 0 ||
                                          strcmp(json_string_value(sn), "cve") == 0)) {
            bool capec = strcmp(json_string_value(sn), "capec") == 0;
            const char *prefix = capec ? "CAPEC-" : "CVE-";
            bool ok = json_is_string(eid) && tw_str_starts_with(jstr(eid), tw_str_cstr(prefix)) &&
                      json_string_length(eid) > strlen(prefix);

            if (!ok) {
                size_t m2 = tw__stix_push_key(c, "external_id");

                tw__stix_report(c, TW_STIX_ERROR,
                        "source_name \"%s\" requires external_id as a %sID (section 2.5.1)",
                        capec ? "capec" : "cve", prefix);
                tw__stix_pop(c, m2);
            }
        }
        tw__stix_pop(c, m);
    }
}

/* Follows a granular-marking selector (section 7.2.3.1) into o. */
static bool selector_resolves(const json_t *o, struct tw_str sel)
{
    const json_t *cur = o;
    struct tw_str tok;

    if (sel.len == 0) {
        return false;
    }
    while (tw_str_split(&sel, '.', &tok)) {
        if (tok.len == 0 || cur == NULL) {
            return false;
        }
        if (tok.ptr[0] == '[') {
            uint64_t idx;

            if (tok.len < 3 || tok.ptr[tok.len - 1] != ']' || !json_is_array(cur) ||
                    tw_parse_u64(tw_str_make(tok.ptr + 1, tok.len - 2), SIZE_MAX, &idx) != TW_OK ||
                    idx >= json_array_size(cur)) {
                return false;
            }
            cur = json_array_get(cur, (size_t)idx);
        } else {
            if (!json_is_object(cur)) {
                return false;
            }
            cur = json_object_getn(cur, tok.ptr, tok.len);
        }
    }
    return cur != NULL;
}

static void check_granular(struct tw__stix_ctx *c, const json_t *o, const json_t *v)
{
    size_t i;
    const json_t *gm;

    if (!check_nonempty_list(c, v, "a list of granular markings")) {
        return;
    }
    json_array_foreach(v, i, gm)
    {
        size_t m = tw__stix_push_index(c, i);
        const json_t *ref;
        const json_t *lang;
        const json_t *sels;

        if (!json_is_object(gm)) {
            wrong_type(c, "a granular-marking object", gm);
            tw__stix_pop(c, m);
            continue;
        }
        ref = json_object_get(gm, "marking_ref");
        lang = json_object_get(gm, "lang");
        sels = json_object_get(gm, "selectors");
        if ((ref == NULL) == (lang == NULL)) {
            tw__stix_report(c, TW_STIX_ERROR,
                    "a granular marking needs exactly one of marking_ref and lang");
        }
        if (ref != NULL) {
            size_t m2 = tw__stix_push_key(c, "marking_ref");

            check_ref_value(c, ref, "marking-definition");
            tw__stix_pop(c, m2);
        }
        if (lang != NULL && !json_is_string(lang)) {
            size_t m2 = tw__stix_push_key(c, "lang");

            wrong_type(c, "a string", lang);
            tw__stix_pop(c, m2);
        }
        if (sels == NULL) {
            size_t m2 = tw__stix_push_key(c, "selectors");

            tw__stix_report(c, TW_STIX_ERROR, "missing required property");
            tw__stix_pop(c, m2);
        } else {
            size_t m2 = tw__stix_push_key(c, "selectors");
            size_t k;
            const json_t *s;

            check_string_list(c, sels);
            json_array_foreach(sels, k, s)
            {
                if (json_is_string(s) && !selector_resolves(o, jstr(s))) {
                    size_t m3 = tw__stix_push_index(c, k);

                    tw__stix_report(c, TW_STIX_ERROR,
                            "selector does not resolve to a property of this object");
                    tw__stix_pop(c, m3);
                }
            }
            tw__stix_pop(c, m2);
        }
        tw__stix_pop(c, m);
    }
}

/* Which extension_type the object's extension-definition entries declare, as a bit set. */
#define EXT_NEW_OBJECT 0x1u
#define EXT_TOPLEVEL   0x2u
#define EXT_NEW_SCO    0x4u

static unsigned extension_kinds(const json_t *o)
{
    const json_t *exts = json_object_get(o, "extensions");
    const char *key;
    const json_t *e;
    unsigned kinds = 0;

    if (!json_is_object(exts)) {
        return 0;
    }
    json_object_foreach((json_t *)(uintptr_t)exts, key, e)
    {
        const json_t *t = json_object_get(e, "extension_type");

        if (!json_is_string(t)) {
            continue;
        }
        if (strcmp(json_string_value(t), "new-sco") == 0) {
            kinds |= EXT_NEW_OBJECT | EXT_NEW_SCO;
        } else if (strncmp(json_string_value(t), "new-", 4) == 0) {
            kinds |= EXT_NEW_OBJECT;
        } else if (strcmp(json_string_value(t), "toplevel-property-extension") == 0) {
            kinds |= EXT_TOPLEVEL;
        }
    }
    return kinds;
}

static void check_extensions(struct tw__stix_ctx *c, const char *type, const json_t *v)
{
    static const char *const ext_types[] = { "new-sdo", "new-sco", "new-sro", "property-extension",
        "toplevel-property-extension" };
    const char *key;
    const json_t *e;

    if (!json_is_object(v)) {
        wrong_type(c, "a dictionary of extensions", v);
        return;
    }
    if (json_object_size(v) == 0) {
        tw__stix_report(c, TW_STIX_ERROR, "extensions must not be empty");
        return;
    }
    json_object_foreach((json_t *)(uintptr_t)v, key, e)
    {
        size_t m = tw__stix_push_key(c, key);
        struct tw_str t;
        const json_t *et = json_object_get(e, "extension_type");

        if (!json_is_object(e)) {
            wrong_type(c, "an extension object", e);
        } else if (tw_stix_id_valid(tw_str_cstr(key), &t)) {
            if (!tw_str_eq_cstr(t, "extension-definition")) {
                tw__stix_report(c, TW_STIX_ERROR,
                        "extension keys must be extension-definition ids or predefined names");
            } else if (et != NULL) {
                bool ok = false;

                for (size_t i = 0; i < TW_ARRAY_LEN(ext_types) && json_is_string(et); i++) {
                    ok = ok || strcmp(json_string_value(et), ext_types[i]) == 0;
                }
                if (!ok) {
                    size_t m2 = tw__stix_push_key(c, "extension_type");

                    tw__stix_report(c, TW_STIX_ERROR, "not a value of extension-type-enum");
                    tw__stix_pop(c, m2);
                }
            }
        } else {
            const struct predef_ext *pe = NULL;

            for (size_t i = 0; i < TW_ARRAY_LEN(predef_exts); i++) {
                if (strcmp(key, predef_exts[i].name) == 0) {
                    pe = &predef_exts[i];
                }
            }
            if (pe != NULL && strcmp(pe->type, type) != 0) {
                tw__stix_report(
                        c, TW_STIX_ERROR, "%s is defined for %s objects only", pe->name, pe->type);
            } else if (pe == NULL && ends_with(key, "-ext") && type_name_ok(tw_str_cstr(key))) {
                tw__stix_report(c, TW_STIX_WARNING,
                        "custom -ext extensions are deprecated: use an extension-definition");
            } else if (pe == NULL) {
                tw__stix_report(c, TW_STIX_ERROR,
                        "extension keys must be extension-definition ids or predefined names");
            }
        }
        tw__stix_pop(c, m);
    }
}

/* ==== The object walk ==== */

static unsigned family_of(enum tw_stix_kind kind, const char *type)
{
    if (kind == TW_STIX_SCO) {
        return FAM_SCO;
    }
    if (strcmp(type, "marking-definition") == 0) {
        return FAM_MARK;
    }
    return FAM_SDO;
}

static bool is_common(const char *key, unsigned fam)
{
    /* (the first byte first: this runs for every key of every object) */
    for (size_t i = 0; i < TW_ARRAY_LEN(common_props); i++) {
        if ((common_props[i].families & fam) != 0 && key[0] == common_props[i].name[0] &&
                strcmp(key, common_props[i].name) == 0) {
            return true;
        }
    }
    return false;
}

static const struct tw__stix_prop *table_find(const struct tw__stix_type *t, const char *key)
{
    if (t == NULL) {
        return NULL;
    }
    for (const struct tw__stix_prop *p = t->props; p->name != NULL; p++) {
        if (p->name[0] == key[0] && strcmp(p->name, key) == 0) {
            return p;
        }
    }
    return NULL;
}

static void check_id(struct tw__stix_ctx *c, const json_t *o, struct tw_str type,
        enum tw_stix_kind kind, const struct tw__stix_type *t)
{
    const json_t *id = json_object_get(o, "id");
    struct tw_str idt;
    uint8_t u[16];
    size_t m = tw__stix_push_key(c, "id");

    if (id == NULL) {
        tw__stix_report(c, TW_STIX_ERROR, "missing required property");
    } else if (!json_is_string(id)) {
        wrong_type(c, "an identifier string", id);
    } else if (!split_id(jstr(id), &idt, u)) {
        tw__stix_report(c, TW_STIX_ERROR, "not a STIX identifier (<type>--<RFC 4122 UUID>)");
    } else if (!uuid_rfc4122(u)) {
        tw__stix_report(c, TW_STIX_ERROR, "the UUID is not an RFC 4122 UUID (variant/version)");
    } else if (type.len > 0 && !tw_str_eq(idt, type)) {
        tw__stix_report(c, TW_STIX_ERROR, "the id's prefix must equal the object's type");
    } else if (kind == TW_STIX_SCO) {
        bool contrib = false;

        if (t != NULL && t->id_props != NULL) {
            struct tw_str list = tw_str_cstr(t->id_props);
            struct tw_str tok;

            while (tw_str_split(&list, ' ', &tok)) {
                contrib = contrib || json_object_getn(o, tok.ptr, tok.len) != NULL;
            }
        }
        if (contrib && tw_uuid_version(u) != 5) {
            tw__stix_report(c, TW_STIX_WARNING,
                    "SCO ids should be UUIDv5 over the id-contributing properties (section 2.9)");
        }
    } else if (tw_uuid_version(u) != 4) {
        tw__stix_report(
                c, TW_STIX_WARNING, "ids of non-SCO objects should be UUIDv4 (section 2.9)");
    }
    tw__stix_pop(c, m);
}

static void check_spec_version(struct tw__stix_ctx *c, const json_t *o, enum tw_stix_kind kind)
{
    const json_t *sv = json_object_get(o, "spec_version");
    size_t m = tw__stix_push_key(c, "spec_version");

    if (sv == NULL) {
        if (kind != TW_STIX_SCO) {
            tw__stix_report(c, TW_STIX_ERROR, "missing required property (must be \"2.1\")");
        }
    } else if (!json_is_string(sv)) {
        wrong_type(c, "a string", sv);
    } else if (strcmp(json_string_value(sv), "2.1") != 0) {
        if (strcmp(json_string_value(sv), "2.0") == 0) {
            tw__stix_report(
                    c, TW_STIX_WARNING, "object declares STIX 2.0; it is checked against STIX 2.1");
        } else {
            tw__stix_report(c, TW_STIX_ERROR, "must be \"2.1\"");
        }
    }
    tw__stix_pop(c, m);
}

static void check_created_modified(struct tw__stix_ctx *c, const json_t *o, unsigned fam)
{
    const json_t *cr = json_object_get(o, "created");
    const json_t *mo = json_object_get(o, "modified");
    struct tw_stix_object *obj = c->obj;
    size_t m;

    if ((fam & (FAM_SDO | FAM_MARK)) == 0) {
        return;
    }
    m = tw__stix_push_key(c, "created");
    if (cr == NULL) {
        tw__stix_report(c, TW_STIX_ERROR, "missing required property");
    } else {
        check_time_value(c, cr, TW_TIME_MILLIS);
    }
    tw__stix_pop(c, m);
    if (fam == FAM_SDO) {
        m = tw__stix_push_key(c, "modified");
        if (mo == NULL) {
            tw__stix_report(c, TW_STIX_ERROR, "missing required property");
        } else {
            check_time_value(c, mo, TW_TIME_MILLIS);
        }
        tw__stix_pop(c, m);
    }
    if (obj != NULL) {
        obj->has_created = tw__stix_get_time(c, o, "created", TW_TIME_MILLIS, &obj->created);
        obj->has_modified = fam == FAM_SDO &&
                            tw__stix_get_time(c, o, "modified", TW_TIME_MILLIS, &obj->modified);
        if (obj->has_created && obj->has_modified &&
                tw_time_cmp(&obj->modified, &obj->created) < 0) {
            m = tw__stix_push_key(c, "modified");
            tw__stix_report(c, TW_STIX_ERROR, "modified must not be earlier than created");
            tw__stix_pop(c, m);
        }
    }
}

static void check_common(struct tw__stix_ctx *c, const json_t *o, const char *type, unsigned fam)
{
    static const struct tw__stix_prop p_cbr = { "created_by_ref", PK_REF, 0, "identity", 0, 0 };
    static const struct tw__stix_prop p_revoked = { "revoked", PK_BOOL, 0, NULL, 0, 0 };
    static const struct tw__stix_prop p_labels = { "labels", PK_STRLIST, 0, NULL, 0, 0 };
    static const struct tw__stix_prop p_conf = { "confidence", PK_INT, 0, NULL, 0, 100 };
    static const struct tw__stix_prop p_lang = { "lang", PK_STRING, 0, NULL, 0, 0 };
    static const struct tw__stix_prop p_omr = { "object_marking_refs", PK_REFS, 0,
        "marking-definition", 0, 0 };
    static const struct tw__stix_prop p_defanged = { "defanged", PK_BOOL, 0, NULL, 0, 0 };
    static const struct tw__stix_prop *const simple[] = { &p_cbr, &p_revoked, &p_labels, &p_conf,
        &p_lang, &p_omr, &p_defanged };
    const json_t *v;
    size_t m;

    check_created_modified(c, o, fam);
    for (size_t i = 0; i < TW_ARRAY_LEN(simple); i++) {
        v = json_object_get(o, simple[i]->name);
        if (v != NULL && is_common(simple[i]->name, fam)) {
            m = tw__stix_push_key(c, simple[i]->name);
            tw__stix_check_value(c, simple[i], v);
            tw__stix_pop(c, m);
        }
    }
    v = json_object_get(o, "external_references");
    if (v != NULL && is_common("external_references", fam)) {
        m = tw__stix_push_key(c, "external_references");
        check_external_refs(c, v);
        tw__stix_pop(c, m);
    }
    v = json_object_get(o, "granular_markings");
    if (v != NULL) {
        m = tw__stix_push_key(c, "granular_markings");
        check_granular(c, o, v);
        tw__stix_pop(c, m);
    }
    v = json_object_get(o, "extensions");
    if (v != NULL) {
        m = tw__stix_push_key(c, "extensions");
        check_extensions(c, type, v);
        tw__stix_pop(c, m);
    }
}

static void check_table(struct tw__stix_ctx *c, const json_t *o, const struct tw__stix_type *t)
{
    for (const struct tw__stix_prop *p = t->props; p->name != NULL; p++) {
        const json_t *v = json_object_get(o, p->name);
        size_t m = tw__stix_push_key(c, p->name);

        if (v == NULL) {
            if ((p->flags & PF_REQ) != 0) {
                tw__stix_report(c, TW_STIX_ERROR, "missing required property");
            }
        } else {
            tw__stix_check_value(c, p, v);
        }
        tw__stix_pop(c, m);
    }
}

static void check_customs(struct tw__stix_ctx *c, const json_t *o, const struct tw__stix_type *t,
        unsigned fam, bool custom_object)
{
    unsigned ext = extension_kinds(o);
    const char *key;
    const json_t *v;

    json_object_foreach((json_t *)(uintptr_t)o, key, v)
    {
        struct tw_str k = tw_str_cstr(key);
        size_t m;
        bool reserved = false;

        if (is_common(key, fam) || table_find(t, key) != NULL) {
            continue;
        }
        m = tw__stix_push_key(c, key);
        for (size_t i = 0; i < TW_ARRAY_LEN(reserved_props); i++) {
            reserved = reserved || strcmp(key, reserved_props[i]) == 0;
        }
        if (reserved) {
            tw__stix_report(c, TW_STIX_ERROR,
                    "reserved property name: STIX 2.1 reserves it for future use");
        } else if (k.len < 3 || k.len > 250 || !name_chars_ok(k, false, false, true)) {
            tw__stix_report(c, TW_STIX_ERROR,
                    "custom property names must be 3 to 250 characters of a-z, 0-9 and '_'");
        } else if (!custom_object && (ext & EXT_TOPLEVEL) == 0 &&
                   !tw_str_starts_with(k, TW_STR("x_"))) {
            tw__stix_report(c, TW_STIX_WARNING,
                    "not a property of this type: custom properties should start with x_");
        }
        if (ends_with(key, "_ref")) {
            check_ref_value(c, v, NULL);
        } else if (ends_with(key, "_refs") && check_nonempty_list(c, v, "a list of identifiers")) {
            size_t i;
            const json_t *e;

            json_array_foreach(v, i, e)
            {
                size_t m2 = tw__stix_push_index(c, i);

                check_ref_value(c, e, NULL);
                tw__stix_pop(c, m2);
            }
        } else if (json_is_array(v) && json_array_size(v) == 0) {
            tw__stix_report(c, TW_STIX_ERROR, "lists must not be empty");
        }
        tw__stix_pop(c, m);
    }
}

void tw__stix_check_object(struct tw__stix_ctx *c, const json_t *o)
{
    const json_t *jt;
    struct tw_str type = { "", 0 };
    const struct tw__stix_type *t = NULL;
    enum tw_stix_kind kind = TW_STIX_UNKNOWN;
    const char *type_cstr = "";
    unsigned fam;
    size_t m;

    if (!json_is_object(o)) {
        wrong_type(c, "a STIX object", o);
        return;
    }
    jt = json_object_get(o, "type");
    m = tw__stix_push_key(c, "type");
    if (jt == NULL) {
        tw__stix_report(c, TW_STIX_ERROR, "missing required property");
    } else if (!json_is_string(jt)) {
        wrong_type(c, "a string", jt);
    } else if (!type_name_ok(jstr(jt))) {
        tw__stix_report(
                c, TW_STIX_ERROR, "type names are 3 to 250 characters of a-z, 0-9 and single '-'");
    } else if (strcmp(json_string_value(jt), "bundle") == 0) {
        tw__stix_report(c, TW_STIX_ERROR, "a bundle cannot be an object of a bundle");
    } else {
        type = jstr(jt);
        type_cstr = json_string_value(jt);
        t = tw__stix_type_find(type_cstr);
        kind = t != NULL ? t->kind : TW_STIX_CUSTOM;
    }
    tw__stix_pop(c, m);
    if (c->obj != NULL) {
        c->obj->kind = kind;
    }
    if (kind == TW_STIX_CUSTOM) {
        if ((extension_kinds(o) & EXT_NEW_OBJECT) == 0) {
            m = tw__stix_push_key(c, "type");
            tw__stix_report(c, TW_STIX_WARNING,
                    "custom object types are deprecated (section 11.2): define new objects with "
                    "an extension-definition");
            tw__stix_pop(c, m);
        }
    }
    fam = family_of(kind, type_cstr);
    if (kind == TW_STIX_CUSTOM && (extension_kinds(o) & EXT_NEW_SCO) != 0) {
        fam = FAM_SCO; /* a new SCO type defined by an extension-definition */
    }
    check_id(c, o, type, kind, t);
    check_spec_version(c, o, fam == FAM_SCO ? TW_STIX_SCO : kind);
    check_common(c, o, type_cstr, fam);
    if (t != NULL) {
        check_table(c, o, t);
        if (t->check != NULL) {
            t->check(c, o);
        }
    }
    check_customs(c, o, t, fam, kind == TW_STIX_CUSTOM || kind == TW_STIX_UNKNOWN);
}
