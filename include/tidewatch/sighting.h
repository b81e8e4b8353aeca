/*
 * sighting.h: STIX 2.1 sightings of indicators, ready to report to a hub.
 *
 * The hunt records every match of an indicator (its time); at the end the
 * tally becomes one `sighting` object per indicator seen (STIX 2.1 section
 * 5.2): sighting_of_ref, first_seen, last_seen, count, and where_sighted_refs
 * naming the reporting organisation's identity. Ids are UUIDv5 over the
 * indicator, the organisation and the first sighting time, so reporting the
 * same run twice gives the same objects (a hub takes an exact duplicate
 * without error, TAXII 2.1 section 5.5).
 */
#ifndef TIDEWATCH_SIGHTING_H
#define TIDEWATCH_SIGHTING_H

#include <stdint.h>

#include "tidewatch/buf.h"
#include "tidewatch/common.h"
#include "tidewatch/index.h"

struct tw_sightings;

/* A tally over the indicators of idx (borrowed; must outlive the tally). NULL on ENOMEM. */
struct tw_sightings *tw_sightings_new(const struct tw_index *idx);
void tw_sightings_free(struct tw_sightings *s);
/* Counts one sighting of indicator n at ts_ns. */
void tw_sightings_add(struct tw_sightings *s, uint32_t n, int64_t ts_ns);
/* Number of indicators sighted at least once. */
size_t tw_sightings_count(const struct tw_sightings *s);
/* Times indicator n was sighted. */
uint64_t tw_sightings_of(const struct tw_sightings *s, uint32_t n);

/*
 * Appends a STIX 2.1 bundle to out: an identity for `org` (the reporting
 * organisation, "identity_class": "organization"), then one sighting per
 * sighted indicator in indicator order. `now_ns` stamps created/modified.
 * Returns TW_OK, TW_ENOMEM or TW_ELIMIT (out's cap).
 */
int tw_sightings_write(const struct tw_sightings *s, const char *org, int64_t now_ns,
        struct tw_buf *out) TW_MUST_CHECK;

#endif
