/*
 * tlp.h: the Traffic Light Protocol as STIX 2.1 carries it.
 *
 * TLP reaches a STIX object through marking-definition ids in its
 * object_marking_refs (the whole object) or granular_markings (named
 * properties). Two generations of ids are in use and both are accepted:
 *
 *   TLP 1.0, predefined by STIX 2.1 section 7.2.1.4 (definition_type "tlp"):
 *     WHITE  marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9
 *     GREEN  marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da
 *     AMBER  marking-definition--f88d31f6-486f-44da-b317-01333bde0b82
 *     RED    marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed
 *   TLP 2.0, published by OASIS as an extension (extension-definition
 *   --60a3c5c5-0d10-413e-aab3-9e08dde9e88d, property "tlp_2_0"):
 *     CLEAR         marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487
 *     GREEN         marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
 *     AMBER         marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
 *     AMBER+STRICT  marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003
 *     RED           marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1
 *
 * TLP 1.0 WHITE is read as CLEAR. AMBER and AMBER+STRICT stay distinct. The
 * enum is ordered so that a larger value is more restrictive, and the TLP of
 * something marked several times is the most restrictive of its markings.
 * Nothing here allocates; JSON arguments are borrowed.
 */
#ifndef TIDEWATCH_TLP_H
#define TIDEWATCH_TLP_H

#include <stdbool.h>

#include <jansson.h>

#include "tidewatch/common.h"
#include "tidewatch/str.h"

/* TLP levels, least to most restrictive. TW_TLP_NONE means "no TLP marking". */
enum tw_tlp {
    TW_TLP_NONE = 0,     /* unmarked */
    TW_TLP_CLEAR,        /* TLP:CLEAR (TLP 1.0 WHITE) */
    TW_TLP_GREEN,        /* TLP:GREEN */
    TW_TLP_AMBER,        /* TLP:AMBER */
    TW_TLP_AMBER_STRICT, /* TLP:AMBER+STRICT (TLP 2.0 only) */
    TW_TLP_RED,          /* TLP:RED */
};

/* Which TLP generation a marking-definition belongs to. */
#define TW_TLP_V1 1
#define TW_TLP_V2 2

/* The OASIS extension that carries TLP 2.0 markings. */
#define TW_TLP2_EXTENSION_ID "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/*
 * Returns the printable name of a level: "TLP:CLEAR", "TLP:GREEN",
 * "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED", or "unmarked" for TW_TLP_NONE.
 * The string is static. Out-of-range values give "unmarked".
 */
const char *tw_tlp_name(enum tw_tlp level);

/*
 * Parses a level's name, ignoring ASCII case and an optional "TLP:" prefix:
 * "clear", "white" (TLP 1.0, read as CLEAR), "green", "amber", "amber+strict",
 * "red", and "none"/"unmarked" for TW_TLP_NONE. Returns TW_OK with *out set,
 * or TW_EINVAL (and *out untouched) for anything else.
 */
int tw_tlp_parse(struct tw_str name, enum tw_tlp *out) TW_MUST_CHECK;

/* The more restrictive of two levels. */
static inline enum tw_tlp tw_tlp_max(enum tw_tlp a, enum tw_tlp b)
{
    return a > b ? a : b;
}

/*
 * Maps a canonical TLP marking-definition id (either generation, table above)
 * to its level and stores the generation in *version when version is not
 * NULL. Any other id gives TW_TLP_NONE (and *version = 0). The comparison is
 * exact: ids are lower case in every published marking.
 */
enum tw_tlp tw_tlp_from_marking_id(struct tw_str id, int *version);

/*
 * Returns the canonical marking-definition id for a level in the given
 * generation (TW_TLP_V1 or TW_TLP_V2), or NULL when that generation has no
 * such level (AMBER+STRICT in TLP 1.0, NONE in either). TLP 1.0 CLEAR gives
 * the WHITE id. The string is static.
 */
const char *tw_tlp_marking_id(enum tw_tlp level, int version);

/*
 * Reads a marking-definition object and says whether it declares a TLP level
 * by its content: TLP 1.0 (definition_type "tlp", definition {"tlp": "amber"})
 * or TLP 2.0 (extensions[TW_TLP2_EXTENSION_ID].tlp_2_0 = "amber+strict"). The
 * id is not consulted, so a caller can compare the declared level with
 * tw_tlp_from_marking_id(id) to catch a redeclaration under another id.
 * Returns TW_OK with *level and *version set, TW_ENOTFOUND when the object
 * declares no TLP, or TW_EINVAL when it tries to but the level is unknown or
 * has the wrong JSON type.
 */
int tw_tlp_from_definition(const json_t *mdef, enum tw_tlp *level, int *version) TW_MUST_CHECK;

/*
 * Resolves a marking-definition id that is not a canonical TLP id, for callers
 * that know local redeclarations (tw_stix does this for the markings of one
 * bundle). Returns the level or TW_TLP_NONE.
 */
typedef enum tw_tlp tw_tlp_resolve_fn(struct tw_str marking_id, void *ctx);

/*
 * The effective TLP of a STIX object: the most restrictive level among the
 * ids in its object_marking_refs, each looked up with tw_tlp_from_marking_id
 * and then, when that gives nothing, with resolve (which may be NULL).
 * Malformed or absent object_marking_refs give TW_TLP_NONE.
 */
enum tw_tlp tw_tlp_of_object(const json_t *obj, tw_tlp_resolve_fn *resolve, void *ctx);

/*
 * Whether a granular-marking selector (STIX 2.1 section 7.2.3.1, for example
 * "external_references.[1].url") applies to the property `prop` written in
 * the same syntax: true when one is the other or a path inside the other.
 * A marking on "external_references" thus covers "external_references.[0].url",
 * and a marking on "external_references.[0].url" is relevant to anyone asking
 * for the whole "external_references".
 */
bool tw_tlp_selector_covers(struct tw_str selector, struct tw_str prop);

/*
 * The TLP that applies to one property of an object: the object's effective
 * TLP combined with every granular marking whose marking_ref is a TLP marking
 * and one of whose selectors covers `prop` (tw_tlp_selector_covers). Markings
 * are resolved as in tw_tlp_of_object.
 */
enum tw_tlp tw_tlp_of_property(
        const json_t *obj, struct tw_str prop, tw_tlp_resolve_fn *resolve, void *ctx);

#endif
