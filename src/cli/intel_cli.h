/*
 * intel_cli.h: pieces of `tidewatch intel` that `tidewatch demo` reuses.
 */
#ifndef TW_INTEL_CLI_H
#define TW_INTEL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "tidewatch/index.h"
#include "tidewatch/stix.h"

#define TW_INTEL_TO_ZEEK     1
#define TW_INTEL_TO_SURICATA 2

/* Prints a bundle's problems and summary; returns an exit status. */
int tw_intel_check_one(
        struct tw_stix_bundle *b, enum tw_stix_format fmt, bool quiet, bool strict, FILE *out);
/* Prints `intel stats` for one bundle; returns an exit status. */
int tw_intel_stats_bundle(const struct tw_stix_bundle *b, int64_t at, bool json);
/* The kind label of a pattern ("address", "cidr", "domain", "mixed", "pattern", ...). */
const char *tw_intel_indicator_kind(const struct tw_pattern *pat, enum tw_index_kind *kind_out);
/* Parses an RFC 3339 time (offsets allowed) into seconds. */
int tw_intel_parse_at(const char *text, int64_t *at);
/* Adds every valid indicator of b to idx, reporting the ones it cannot index. */
int tw_intel_index_bundle(struct tw_index *idx, const struct tw_stix_bundle *b);
/* Reads bundles into a built index; NULL on a fatal error. *status gets an exit status. */
struct tw_index *tw_intel_load_index(int n, char **paths, int *status);
/* The same; keep_source makes the index savable (tw_index_save). Each path is a
 * STIX bundle or a compiled index file. */
struct tw_index *tw_intel_load_index_ex(int n, char **paths, bool keep_source, int *status);
/* Looks one value up and prints the hits; returns how many indicators matched. */
size_t tw_intel_lookup_print(
        const struct tw_index *idx, const char *value, int64_t at, bool json, FILE *out);
/* Exports objects (array) to Zeek (output file) or Suricata (output directory). */
int tw_intel_export(const json_t *objects, int to, const char *output);

/* `intel pull` and `intel push` (cmd_intel_remote.c). */
int tw_intel_pull(int argc, char **argv);
int tw_intel_push(int argc, char **argv);

struct tw_hunt_stats;
/* Hunts a capture held in memory, writing EVE alerts to eve (cmd_hunt.c). */
int tw_hunt_capture_mem(const struct tw_index *idx, const void *data, size_t len, const char *name,
        FILE *eve, struct tw_hunt_stats *st);

#endif
