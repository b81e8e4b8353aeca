/*
 * stix_types.c: what STIX 2.1 defines for each object type.
 *
 * One table row per property a type defines beyond the common ones
 * (STIX 2.1 sections 4 to 7), giving its value kind, whether it is required
 * and, for references, which types it may point at. Rules a table cannot
 * express (one of two properties must be present, ranges between two
 * timestamps) live in the type's check function. stix_check.c walks these
 * tables; adding a type means adding one table and one row in `types`.
 */
#include <string.h>

#include "stix_int.h"
#include "tidewatch/pattern.h"
#include "tidewatch/tlp.h"

/* ==== Helpers for the check functions ==== */

#define ROW_END                                                                                    \
    {                                                                                              \
        NULL, PK_ANY, 0, NULL, 0, 0                                                                \
    }
#define STR(n)                                                                                     \
    {                                                                                              \
        n, PK_STRING, 0, NULL, 0, 0                                                                \
    }
#define STRR(n)                                                                                    \
    {                                                                                              \
        n, PK_STRING, PF_REQ, NULL, 0, 0                                                           \
    }
#define TIME(n)                                                                                    \
    {                                                                                              \
        n, PK_TIME, 0, NULL, 0, 0                                                                  \
    }
#define SLIST(n)                                                                                   \
    {                                                                                              \
        n, PK_STRLIST, 0, NULL, 0, 0                                                               \
    }
#define KCP                                                                                        \
    {                                                                                              \
        "kill_chain_phases", PK_KCP, 0, NULL, 0, 0                                                 \
    }
#define HASHES                                                                                     \
    {                                                                                              \
        "hashes", PK_HASHES, 0, NULL, 0, 0                                                         \
    }
#define BOOL(n)                                                                                    \
    {                                                                                              \
        n, PK_BOOL, 0, NULL, 0, 0                                                                  \
    }
#define REF(n, t)                                                                                  \
    {                                                                                              \
        n, PK_REF, 0, t, 0, 0                                                                      \
    }
#define REFS(n, t)                                                                                 \
    {                                                                                              \
        n, PK_REFS, 0, t, 0, 0                                                                     \
    }
#define UINT(n, mx)                                                                                \
    {                                                                                              \
        n, PK_INT, 0, NULL, 0, mx                                                                  \
    }

static bool has(const json_t *o, const char *key)
{
    return json_object_get(o, key) != NULL;
}

static void at_key(
        struct tw__stix_ctx *c, const char *key, enum tw_stix_severity sev, const char *msg)
{
    size_t m = tw__stix_push_key(c, key);

    tw__stix_report(c, sev, "%s", msg);
    tw__stix_pop(c, m);
}

/* ==== SDOs (section 4) ==== */

static const struct tw__stix_prop p_attack_pattern[] = {
    STRR("name"),
    STR("description"),
    SLIST("aliases"),
    KCP,
    ROW_END,
};

static const struct tw__stix_prop p_campaign[] = {
    STRR("name"),
    STR("description"),
    SLIST("aliases"),
    TIME("first_seen"),
    TIME("last_seen"),
    STR("objective"),
    ROW_END,
};

static void check_seen(struct tw__stix_ctx *c, const json_t *o)
{
    tw__stix_check_order(c, o, "first_seen", "last_seen", false);
}

static const struct tw__stix_prop p_course_of_action[] = {
    STRR("name"),
    STR("description"),
    ROW_END,
};

static const struct tw__stix_prop p_grouping[] = {
    STR("name"),
    STR("description"),
    STRR("context"),
    { "object_refs", PK_REFS, PF_REQ, "@any", 0, 0 },
    ROW_END,
};

static const struct tw__stix_prop p_identity[] = {
    STRR("name"),
    STR("description"),
    SLIST("roles"),
    STR("identity_class"),
    SLIST("sectors"),
    STR("contact_information"),
    ROW_END,
};

static const struct tw__stix_prop p_incident[] = {
    STRR("name"),
    STR("description"),
    KCP,
    ROW_END,
};

static const struct tw__stix_prop p_indicator[] = {
    STR("name"),
    STR("description"),
    SLIST("indicator_types"),
    STRR("pattern"),
    STRR("pattern_type"),
    STR("pattern_version"),
    { "valid_from", PK_TIME, PF_REQ, NULL, 0, 0 },
    TIME("valid_until"),
    KCP,
    ROW_END,
};

static void check_indicator(struct tw__stix_ctx *c, const json_t *o)
{
    const json_t *pt = json_object_get(o, "pattern_type");
    const json_t *pat = json_object_get(o, "pattern");
    struct tw_pattern *compiled = NULL;
    struct tw_err err;
    size_t m;
    int rc;

    tw__stix_check_order(c, o, "valid_from", "valid_until", true);
    if (!json_is_string(pt) || strcmp(json_string_value(pt), "stix") != 0 || !json_is_string(pat) ||
            (c->b->flags & TW_STIX_NO_PATTERNS) != 0) {
        return;
    }
    tw_err_clear(&err);
    rc = tw_pattern_parse(
            tw_str_make(json_string_value(pat), json_string_length(pat)), &compiled, &err);
    tw_pattern_free(compiled);
    if (rc == TW_OK) {
        return;
    }
    if (rc == TW_ENOMEM) {
        c->b->oom = true;
        return;
    }
    m = tw__stix_push_key(c, "pattern");
    if (err.offset != TW_NOPOS) {
        tw__stix_report(c, TW_STIX_ERROR, "invalid STIX pattern at character %zu: %s", err.offset,
                err.msg[0] != '\0' ? err.msg : tw_strerror(rc));
    } else {
        tw__stix_report(c, TW_STIX_ERROR, "invalid STIX pattern: %s",
                err.msg[0] != '\0' ? err.msg : tw_strerror(rc));
    }
    tw__stix_pop(c, m);
}

static const struct tw__stix_prop p_infrastructure[] = {
    STRR("name"),
    STR("description"),
    SLIST("infrastructure_types"),
    SLIST("aliases"),
    KCP,
    TIME("first_seen"),
    TIME("last_seen"),
    ROW_END,
};

static const struct tw__stix_prop p_intrusion_set[] = {
    STRR("name"),
    STR("description"),
    SLIST("aliases"),
    TIME("first_seen"),
    TIME("last_seen"),
    SLIST("goals"),
    STR("resource_level"),
    STR("primary_motivation"),
    SLIST("secondary_motivations"),
    ROW_END,
};

static const struct tw__stix_prop p_location[] = {
    STR("name"),
    STR("description"),
    { "latitude", PK_FLOAT, 0, NULL, -90, 90 },
    { "longitude", PK_FLOAT, 0, NULL, -180, 180 },
    { "precision", PK_FLOAT, 0, NULL, 0, INT64_MAX },
    STR("region"),
    STR("country"),
    STR("administrative_area"),
    STR("city"),
    STR("street_address"),
    STR("postal_code"),
    ROW_END,
};

static void check_location(struct tw__stix_ctx *c, const json_t *o)
{
    bool lat = has(o, "latitude");
    bool lon = has(o, "longitude");

    if (!has(o, "region") && !has(o, "country") && !(lat && lon)) {
        tw__stix_report(c, TW_STIX_ERROR,
                "location needs at least one of region, country, or latitude and longitude");
    }
    if (lat != lon) {
        at_key(c, lat ? "latitude" : "longitude", TW_STIX_ERROR,
                "latitude and longitude must be given together");
    }
    if (has(o, "precision") && !(lat && lon)) {
        at_key(c, "precision", TW_STIX_ERROR, "precision requires latitude and longitude");
    }
}

static const struct tw__stix_prop p_malware[] = {
    STR("name"),
    STR("description"),
    SLIST("malware_types"),
    { "is_family", PK_BOOL, PF_REQ, NULL, 0, 0 },
    SLIST("aliases"),
    KCP,
    TIME("first_seen"),
    TIME("last_seen"),
    REFS("operating_system_refs", "software"),
    SLIST("architecture_execution_envs"),
    SLIST("implementation_languages"),
    SLIST("capabilities"),
    REFS("sample_refs", "file artifact"),
    ROW_END,
};

static void check_malware(struct tw__stix_ctx *c, const json_t *o)
{
    check_seen(c, o);
    if (json_is_true(json_object_get(o, "is_family")) && !has(o, "name")) {
        tw__stix_report(c, TW_STIX_ERROR, "a malware family (is_family true) must have a name");
    }
}

static const struct tw__stix_prop p_malware_analysis[] = {
    STRR("product"),
    STR("version"),
    REF("host_vm_ref", "software"),
    REF("operating_system_ref", "software"),
    REFS("installed_software_refs", "software"),
    STR("configuration_version"),
    SLIST("modules"),
    STR("analysis_engine_version"),
    STR("analysis_definition_version"),
    TIME("submitted"),
    TIME("analysis_started"),
    TIME("analysis_ended"),
    STR("result_name"),
    STR("result"),
    REFS("analysis_sco_refs", "@sco"),
    REF("sample_ref", "file network-traffic artifact"),
    ROW_END,
};

static void check_malware_analysis(struct tw__stix_ctx *c, const json_t *o)
{
    if (!has(o, "result") && !has(o, "analysis_sco_refs")) {
        tw__stix_report(c, TW_STIX_ERROR,
                "malware-analysis needs at least one of result or analysis_sco_refs");
    }
    tw__stix_check_order(c, o, "analysis_started", "analysis_ended", false);
}

static const struct tw__stix_prop p_note[] = {
    STR("abstract"),
    STRR("content"),
    SLIST("authors"),
    { "object_refs", PK_REFS, PF_REQ, "@any", 0, 0 },
    ROW_END,
};

static const struct tw__stix_prop p_observed_data[] = {
    { "first_observed", PK_TIME, PF_REQ, NULL, 0, 0 },
    { "last_observed", PK_TIME, PF_REQ, NULL, 0, 0 },
    { "number_observed", PK_INT, PF_REQ, NULL, 1, 999999999 },
    { "objects", PK_DICT, 0, NULL, 0, 0 },
    REFS("object_refs", "@sco relationship"),
    ROW_END,
};

static void check_observed_data(struct tw__stix_ctx *c, const json_t *o)
{
    bool objs = has(o, "objects");
    bool refs = has(o, "object_refs");

    tw__stix_check_order(c, o, "first_observed", "last_observed", false);
    if (objs && refs) {
        at_key(c, "objects", TW_STIX_ERROR, "objects and object_refs must not both be present");
    } else if (!objs && !refs) {
        tw__stix_report(c, TW_STIX_ERROR, "observed-data needs object_refs");
    } else if (objs) {
        at_key(c, "objects", TW_STIX_WARNING,
                "objects is deprecated since STIX 2.1: use object_refs");
    }
}

static const struct tw__stix_prop p_opinion[] = {
    STR("explanation"),
    SLIST("authors"),
    STRR("opinion"),
    { "object_refs", PK_REFS, PF_REQ, "@any", 0, 0 },
    ROW_END,
};

static void check_opinion(struct tw__stix_ctx *c, const json_t *o)
{
    static const char *const values[] = { "strongly-disagree", "disagree", "neutral", "agree",
        "strongly-agree" };
    const json_t *v = json_object_get(o, "opinion");

    if (!json_is_string(v)) {
        return;
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(values); i++) {
        if (strcmp(json_string_value(v), values[i]) == 0) {
            return;
        }
    }
    at_key(c, "opinion", TW_STIX_ERROR, "opinion must be a value of opinion-enum");
}

static const struct tw__stix_prop p_report[] = {
    STRR("name"),
    STR("description"),
    SLIST("report_types"),
    { "published", PK_TIME, PF_REQ, NULL, 0, 0 },
    { "object_refs", PK_REFS, PF_REQ, "@any", 0, 0 },
    ROW_END,
};

static const struct tw__stix_prop p_threat_actor[] = {
    STRR("name"),
    STR("description"),
    SLIST("threat_actor_types"),
    SLIST("aliases"),
    TIME("first_seen"),
    TIME("last_seen"),
    SLIST("roles"),
    SLIST("goals"),
    STR("sophistication"),
    STR("resource_level"),
    STR("primary_motivation"),
    SLIST("secondary_motivations"),
    SLIST("personal_motivations"),
    ROW_END,
};

static const struct tw__stix_prop p_tool[] = {
    STRR("name"),
    STR("description"),
    SLIST("tool_types"),
    SLIST("aliases"),
    KCP,
    STR("tool_version"),
    ROW_END,
};

static const struct tw__stix_prop p_vulnerability[] = {
    STRR("name"),
    STR("description"),
    ROW_END,
};

/* ==== SROs (section 5) ==== */

static const struct tw__stix_prop p_relationship[] = {
    STRR("relationship_type"),
    STR("description"),
    { "source_ref", PK_REF, PF_REQ, "@core", 0, 0 },
    { "target_ref", PK_REF, PF_REQ, "@core", 0, 0 },
    TIME("start_time"),
    TIME("stop_time"),
    ROW_END,
};

static void check_relationship(struct tw__stix_ctx *c, const json_t *o)
{
    const json_t *rt = json_object_get(o, "relationship_type");

    tw__stix_check_order(c, o, "start_time", "stop_time", true);
    if (json_is_string(rt)) {
        const char *s = json_string_value(rt);
        size_t n = json_string_length(rt);
        bool ok = n > 0;

        for (size_t i = 0; i < n && ok; i++) {
            ok = (s[i] >= 'a' && s[i] <= 'z') || tw_ascii_isdigit(s[i]) || s[i] == '-';
        }
        if (!ok) {
            at_key(c, "relationship_type", TW_STIX_ERROR,
                    "relationship_type may only hold a-z, 0-9 and '-'");
        }
    }
}

static const struct tw__stix_prop p_sighting[] = {
    STR("description"),
    TIME("first_seen"),
    TIME("last_seen"),
    { "count", PK_INT, 0, NULL, 0, 999999999 },
    { "sighting_of_ref", PK_REF, PF_REQ, "@sdo", 0, 0 },
    REFS("observed_data_refs", "observed-data"),
    REFS("where_sighted_refs", "identity location"),
    BOOL("summary"),
    ROW_END,
};

/* ==== SMOs (section 7) ==== */

static const struct tw__stix_prop p_marking_definition[] = {
    STR("name"),
    STR("definition_type"),
    { "definition", PK_DICT, 0, NULL, 0, 0 },
    ROW_END,
};

static void check_tlp_identity(struct tw__stix_ctx *c, const json_t *o)
{
    const json_t *id = json_object_get(o, "id");
    enum tw_tlp declared;
    enum tw_tlp canonical;
    int version = 0;
    int canon_version = 0;
    int rc = tw_tlp_from_definition(o, &declared, &version);

    if (rc == TW_ENOTFOUND) {
        return;
    }
    if (rc != TW_OK) {
        at_key(c, has(o, "definition_type") ? "definition" : "extensions", TW_STIX_ERROR,
                "declares TLP with an unknown level or a value that is not a string");
        return;
    }
    if (!json_is_string(id)) {
        return;
    }
    canonical = tw_tlp_from_marking_id(
            tw_str_make(json_string_value(id), json_string_length(id)), &canon_version);
    if (canonical == TW_TLP_NONE) {
        at_key(c, "id", TW_STIX_WARNING,
                version == TW_TLP_V1
                        ? "declares a TLP 1.0 level under a non-canonical id (STIX 2.1 7.2.1.4 "
                          "forbids new TLP marking-definitions): use the predefined id"
                        : "declares a TLP 2.0 level under a non-canonical id: use the OASIS id");
    } else if (canonical != declared || canon_version != version) {
        at_key(c, "id", TW_STIX_ERROR,
                "this canonical TLP id stands for a different TLP level than declared");
    }
}

static void check_marking_definition(struct tw__stix_ctx *c, const json_t *o)
{
    const json_t *dt = json_object_get(o, "definition_type");
    const json_t *def = json_object_get(o, "definition");

    if (has(o, "modified")) {
        at_key(c, "modified", TW_STIX_ERROR,
                "marking-definition objects are not versioned and have no modified");
    }
    if (dt != NULL && def == NULL) {
        tw__stix_report(c, TW_STIX_ERROR, "definition_type requires definition");
    } else if (dt == NULL && def != NULL) {
        tw__stix_report(c, TW_STIX_ERROR, "definition requires definition_type");
    } else if (dt == NULL && !has(o, "extensions")) {
        tw__stix_report(c, TW_STIX_ERROR,
                "marking-definition needs definition_type and definition, or an extension");
    }
    if (json_is_string(dt) && json_is_object(def)) {
        const char *t = json_string_value(dt);

        if (strcmp(t, "statement") == 0 && !json_is_string(json_object_get(def, "statement"))) {
            at_key(c, "definition", TW_STIX_ERROR,
                    "a statement marking needs definition.statement as a string");
        }
    }
    check_tlp_identity(c, o);
}

static const struct tw__stix_prop p_extension_definition[] = {
    STRR("name"),
    STR("description"),
    STRR("schema"),
    STRR("version"),
    { "extension_types", PK_STRLIST, PF_REQ, NULL, 0, 0 },
    SLIST("extension_properties"),
    ROW_END,
};

static void check_extension_definition(struct tw__stix_ctx *c, const json_t *o)
{
    static const char *const allowed[] = { "new-sdo", "new-sco", "new-sro", "property-extension",
        "toplevel-property-extension" };
    const json_t *types = json_object_get(o, "extension_types");
    size_t i;
    const json_t *v;

    if (!has(o, "created_by_ref")) {
        tw__stix_report(c, TW_STIX_ERROR, "extension-definition requires created_by_ref");
    }
    if (!json_is_array(types)) {
        return;
    }
    json_array_foreach(types, i, v)
    {
        bool ok = false;

        for (size_t k = 0; k < TW_ARRAY_LEN(allowed) && json_is_string(v); k++) {
            ok = ok || strcmp(json_string_value(v), allowed[k]) == 0;
        }
        if (!ok) {
            size_t m1 = tw__stix_push_key(c, "extension_types");
            size_t m2 = tw__stix_push_index(c, i);

            tw__stix_report(c, TW_STIX_ERROR, "not a value of extension-type-enum");
            tw__stix_pop(c, m2);
            tw__stix_pop(c, m1);
        }
    }
}

static const struct tw__stix_prop p_language_content[] = {
    { "object_ref", PK_REF, PF_REQ, "@any", 0, 0 },
    TIME("object_modified"),
    { "contents", PK_DICT, PF_REQ, NULL, 0, 0 },
    ROW_END,
};

/* ==== SCOs (section 6) ==== */

static const struct tw__stix_prop p_artifact[] = {
    STR("mime_type"),
    { "payload_bin", PK_BINARY, 0, NULL, 0, 0 },
    STR("url"),
    HASHES,
    STR("encryption_algorithm"),
    STR("decryption_key"),
    ROW_END,
};

static void check_artifact(struct tw__stix_ctx *c, const json_t *o)
{
    if (has(o, "payload_bin") && has(o, "url")) {
        at_key(c, "url", TW_STIX_ERROR, "payload_bin and url must not both be present");
    }
    if (has(o, "url") && !has(o, "hashes")) {
        at_key(c, "url", TW_STIX_ERROR, "an artifact with url must have hashes");
    }
}

static const struct tw__stix_prop p_autonomous_system[] = {
    { "number", PK_INT, PF_REQ, NULL, 0, 4294967295 },
    STR("name"),
    STR("rir"),
    ROW_END,
};

static const struct tw__stix_prop p_directory[] = {
    STRR("path"),
    STR("path_enc"),
    TIME("ctime"),
    TIME("mtime"),
    TIME("atime"),
    REFS("contains_refs", "file directory"),
    ROW_END,
};

static const struct tw__stix_prop p_domain_name[] = {
    STRR("value"),
    REFS("resolves_to_refs", "ipv4-addr ipv6-addr domain-name"),
    ROW_END,
};

static const struct tw__stix_prop p_email_addr[] = {
    STRR("value"),
    STR("display_name"),
    REF("belongs_to_ref", "user-account"),
    ROW_END,
};

static const struct tw__stix_prop p_email_message[] = {
    { "is_multipart", PK_BOOL, PF_REQ, NULL, 0, 0 },
    TIME("date"),
    STR("content_type"),
    REF("from_ref", "email-addr"),
    REF("sender_ref", "email-addr"),
    REFS("to_refs", "email-addr"),
    REFS("cc_refs", "email-addr"),
    REFS("bcc_refs", "email-addr"),
    STR("message_id"),
    STR("subject"),
    SLIST("received_lines"),
    { "additional_header_fields", PK_DICT, 0, NULL, 0, 0 },
    STR("body"),
    { "body_multipart", PK_OBJLIST, 0, NULL, 0, 0 },
    REF("raw_email_ref", "artifact"),
    ROW_END,
};

static void check_email_message(struct tw__stix_ctx *c, const json_t *o)
{
    const json_t *mp = json_object_get(o, "is_multipart");

    if (json_is_false(mp) && has(o, "body_multipart")) {
        at_key(c, "body_multipart", TW_STIX_ERROR, "body_multipart requires is_multipart true");
    }
    if (json_is_true(mp) && has(o, "body")) {
        at_key(c, "body", TW_STIX_ERROR, "body must not be present when is_multipart is true");
    }
}

static const struct tw__stix_prop p_file[] = {
    HASHES,
    { "size", PK_INT, 0, NULL, 0, INT64_MAX },
    STR("name"),
    STR("name_enc"),
    { "magic_number_hex", PK_HEX, 0, NULL, 0, 0 },
    STR("mime_type"),
    TIME("ctime"),
    TIME("mtime"),
    TIME("atime"),
    REF("parent_directory_ref", "directory"),
    REFS("contains_refs", "@sco"),
    REF("content_ref", "artifact"),
    ROW_END,
};

static void check_file(struct tw__stix_ctx *c, const json_t *o)
{
    if (!has(o, "hashes") && !has(o, "name")) {
        tw__stix_report(c, TW_STIX_ERROR, "a file needs hashes or name");
    }
}

static const struct tw__stix_prop p_ip_addr[] = {
    STRR("value"),
    REFS("resolves_to_refs", "mac-addr"),
    REFS("belongs_to_refs", "autonomous-system"),
    ROW_END,
};

static const struct tw__stix_prop p_value_only[] = {
    STRR("value"),
    ROW_END,
};

static const struct tw__stix_prop p_mutex[] = {
    STRR("name"),
    ROW_END,
};

static const struct tw__stix_prop p_network_traffic[] = {
    TIME("start"),
    TIME("end"),
    BOOL("is_active"),
    REF("src_ref", "ipv4-addr ipv6-addr mac-addr domain-name"),
    REF("dst_ref", "ipv4-addr ipv6-addr mac-addr domain-name"),
    UINT("src_port", 65535),
    UINT("dst_port", 65535),
    { "protocols", PK_STRLIST, PF_REQ, NULL, 0, 0 },
    UINT("src_byte_count", INT64_MAX),
    UINT("dst_byte_count", INT64_MAX),
    UINT("src_packets", INT64_MAX),
    UINT("dst_packets", INT64_MAX),
    { "ipfix", PK_DICT, 0, NULL, 0, 0 },
    REF("src_payload_ref", "artifact"),
    REF("dst_payload_ref", "artifact"),
    REFS("encapsulates_refs", "network-traffic"),
    REF("encapsulated_by_ref", "network-traffic"),
    ROW_END,
};

static void check_network_traffic(struct tw__stix_ctx *c, const json_t *o)
{
    if (!has(o, "src_ref") && !has(o, "dst_ref")) {
        tw__stix_report(c, TW_STIX_ERROR, "network-traffic needs src_ref or dst_ref");
    }
    tw__stix_check_order(c, o, "start", "end", false);
    if (json_is_true(json_object_get(o, "is_active")) && has(o, "end")) {
        at_key(c, "end", TW_STIX_ERROR, "end must not be present when is_active is true");
    }
}

static const struct tw__stix_prop p_process[] = {
    BOOL("is_hidden"),
    { "pid", PK_INT, 0, NULL, INT64_MIN, INT64_MAX },
    TIME("created_time"),
    STR("cwd"),
    STR("command_line"),
    { "environment_variables", PK_DICT, 0, NULL, 0, 0 },
    REFS("opened_connection_refs", "network-traffic"),
    REF("creator_user_ref", "user-account"),
    REF("image_ref", "file"),
    REF("parent_ref", "process"),
    REFS("child_refs", "process"),
    ROW_END,
};

static const struct tw__stix_prop p_software[] = {
    STRR("name"),
    STR("cpe"),
    STR("swid"),
    SLIST("languages"),
    STR("vendor"),
    STR("version"),
    ROW_END,
};

static const struct tw__stix_prop p_user_account[] = {
    STR("user_id"),
    STR("credential"),
    STR("account_login"),
    STR("account_type"),
    STR("display_name"),
    BOOL("is_service_account"),
    BOOL("is_privileged"),
    BOOL("can_escalate_privs"),
    BOOL("is_disabled"),
    TIME("account_created"),
    TIME("account_expires"),
    TIME("credential_last_changed"),
    TIME("account_first_login"),
    TIME("account_last_login"),
    ROW_END,
};

static const struct tw__stix_prop p_registry_key[] = {
    STR("key"),
    { "values", PK_OBJLIST, 0, NULL, 0, 0 },
    TIME("modified_time"),
    REF("creator_user_ref", "user-account"),
    UINT("number_of_subkeys", INT64_MAX),
    ROW_END,
};

static const struct tw__stix_prop p_x509[] = {
    BOOL("is_self_signed"),
    HASHES,
    STR("version"),
    STR("serial_number"),
    STR("signature_algorithm"),
    STR("issuer"),
    TIME("validity_not_before"),
    TIME("validity_not_after"),
    STR("subject"),
    STR("subject_public_key_algorithm"),
    STR("subject_public_key_modulus"),
    UINT("subject_public_key_exponent", INT64_MAX),
    { "x509_v3_extensions", PK_DICT, 0, NULL, 0, 0 },
    ROW_END,
};

static void check_x509(struct tw__stix_ctx *c, const json_t *o)
{
    tw__stix_check_order(c, o, "validity_not_before", "validity_not_after", false);
}

/* ==== The type table ==== */

static const struct tw__stix_type types[] = {
    { "attack-pattern", TW_STIX_SDO, p_attack_pattern, NULL, NULL },
    { "campaign", TW_STIX_SDO, p_campaign, check_seen, NULL },
    { "course-of-action", TW_STIX_SDO, p_course_of_action, NULL, NULL },
    { "grouping", TW_STIX_SDO, p_grouping, NULL, NULL },
    { "identity", TW_STIX_SDO, p_identity, NULL, NULL },
    { "incident", TW_STIX_SDO, p_incident, NULL, NULL },
    { "indicator", TW_STIX_SDO, p_indicator, check_indicator, NULL },
    { "infrastructure", TW_STIX_SDO, p_infrastructure, check_seen, NULL },
    { "intrusion-set", TW_STIX_SDO, p_intrusion_set, check_seen, NULL },
    { "location", TW_STIX_SDO, p_location, check_location, NULL },
    { "malware", TW_STIX_SDO, p_malware, check_malware, NULL },
    { "malware-analysis", TW_STIX_SDO, p_malware_analysis, check_malware_analysis, NULL },
    { "note", TW_STIX_SDO, p_note, NULL, NULL },
    { "observed-data", TW_STIX_SDO, p_observed_data, check_observed_data, NULL },
    { "opinion", TW_STIX_SDO, p_opinion, check_opinion, NULL },
    { "report", TW_STIX_SDO, p_report, NULL, NULL },
    { "threat-actor", TW_STIX_SDO, p_threat_actor, check_seen, NULL },
    { "tool", TW_STIX_SDO, p_tool, NULL, NULL },
    { "vulnerability", TW_STIX_SDO, p_vulnerability, NULL, NULL },
    { "relationship", TW_STIX_SRO, p_relationship, check_relationship, NULL },
    { "sighting", TW_STIX_SRO, p_sighting, check_seen, NULL },
    { "marking-definition", TW_STIX_SMO, p_marking_definition, check_marking_definition, NULL },
    { "extension-definition", TW_STIX_SMO, p_extension_definition, check_extension_definition,
            NULL },
    { "language-content", TW_STIX_SMO, p_language_content, NULL, NULL },
    { "artifact", TW_STIX_SCO, p_artifact, check_artifact, "hashes payload_bin" },
    { "autonomous-system", TW_STIX_SCO, p_autonomous_system, NULL, "number" },
    { "directory", TW_STIX_SCO, p_directory, NULL, "path" },
    { "domain-name", TW_STIX_SCO, p_domain_name, NULL, "value" },
    { "email-addr", TW_STIX_SCO, p_email_addr, NULL, "value" },
    { "email-message", TW_STIX_SCO, p_email_message, check_email_message, "from_ref subject body" },
    { "file", TW_STIX_SCO, p_file, check_file, "hashes name extensions parent_directory_ref" },
    { "ipv4-addr", TW_STIX_SCO, p_ip_addr, NULL, "value" },
    { "ipv6-addr", TW_STIX_SCO, p_ip_addr, NULL, "value" },
    { "mac-addr", TW_STIX_SCO, p_value_only, NULL, "value" },
    { "mutex", TW_STIX_SCO, p_mutex, NULL, "name" },
    { "network-traffic", TW_STIX_SCO, p_network_traffic, check_network_traffic,
            "start end src_ref dst_ref src_port dst_port protocols extensions" },
    { "process", TW_STIX_SCO, p_process, NULL, NULL },
    { "software", TW_STIX_SCO, p_software, NULL, "name cpe swid vendor version" },
    { "url", TW_STIX_SCO, p_value_only, NULL, "value" },
    { "user-account", TW_STIX_SCO, p_user_account, NULL, "account_type user_id account_login" },
    { "windows-registry-key", TW_STIX_SCO, p_registry_key, NULL, "key values" },
    { "x509-certificate", TW_STIX_SCO, p_x509, check_x509, "hashes serial_number" },
};

const struct tw__stix_type *tw__stix_type_find(const char *name)
{
    for (size_t i = 0; i < TW_ARRAY_LEN(types); i++) {
        if (strcmp(types[i].name, name) == 0) {
            return &types[i];
        }
    }
    return NULL;
}

enum tw_stix_kind tw_stix_type_kind(struct tw_str type)
{
    if (type.len == 0) {
        return TW_STIX_UNKNOWN;
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(types); i++) {
        if (tw_str_eq_cstr(type, types[i].name)) {
            return types[i].kind;
        }
    }
    if (tw_str_eq_cstr(type, "bundle")) {
        return TW_STIX_UNKNOWN;
    }
    return TW_STIX_CUSTOM;
}
