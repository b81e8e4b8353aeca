/*
 * index_int.h: the index's representation, shared by index.c (building and
 * lookups) and index_file.c (compiled index files) and nothing else.
 */
#ifndef TIDEWATCH_INTEL_INDEX_INT_H
#define TIDEWATCH_INTEL_INDEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/addr.h"
#include "tidewatch/buf.h"
#include "tidewatch/domain.h"
#include "tidewatch/index.h"
#include "tidewatch/ipset.h"
#include "tidewatch/str.h"
#include "tidewatch/url.h"

/* The compiled pattern of one indicator that needs verification. Appended in
 * indicator order, so the array is sorted by `ind`. */
struct verify {
    uint32_t ind;
    struct tw_pattern *pattern;
};

/* A (kind, key, indicator) triple waiting for tw_index_build. */
struct pending {
    uint32_t key_off; /* offset of the key in idx->keys */
    uint32_t key_len;
    uint32_t ind;
    uint8_t kind;
};

/* One distinct key of the string map after build. */
struct skey {
    uint32_t key_off;
    uint32_t key_len;
    uint32_t post_start; /* first indicator number in idx->postings */
    uint32_t post_count;
    uint8_t kind;
};

struct tw_index {
    size_t max_indicators;
    struct tw_indicator *inds;
    size_t n_inds, cap_inds;
    struct tw_buf names;     /* NUL-separated names; offset 0 is the empty name */
    struct verify *patterns; /* compiled patterns of non-exact indicators, by indicator */
    size_t n_patterns, cap_patterns;
    uint32_t *unindexed;
    size_t n_unindexed, cap_unindexed;
    struct tw_ipset *ips;
    struct tw_domainset *domains;
    struct tw_buf keys; /* key bytes of the string map */
    struct pending *pend;
    size_t n_pend, cap_pend;
    struct skey *skeys; /* after build */
    size_t n_skeys;
    uint32_t *slots; /* hash table of skey index + 1; 0 = empty */
    size_t n_slots;  /* power of two */
    uint32_t *postings;
    size_t n_postings;
    size_t kind_counts[TW_INDEX_KIND_COUNT];
    size_t n_atoms;
    bool built;
    bool broken;                /* an add failed half-way: only tw_index_free is allowed */
    bool keep_source;           /* record what tw_index_save writes (index_file.c) */
    struct tw_buf src_atoms;    /* atom records of the compiled file format */
    struct tw_buf src_patterns; /* pattern records of the compiled file format */
};

/* Longest key of the string map (a normalised URL is the longest). */
#define TW__INDEX_MAX_KEY TW_URL_MAX_LEN

/*
 * Commits one normalised value of indicator n (which the caller commits next):
 * an address range (net, plen), a domain (key, suffix) or a string-map key.
 * Records it for tw_index_save when the index keeps its source. Only running
 * out of memory can fail; the caller then marks the index broken.
 */
int tw__index_commit_atom(struct tw_index *idx, enum tw_index_kind kind, const struct tw_ip *net,
        unsigned plen, bool suffix, struct tw_str key, uint32_t n);

/* Records one committed value for tw_index_save (index_file.c). */
int tw__index_note_atom(struct tw_index *idx, enum tw_index_kind kind, const struct tw_ip *net,
        unsigned plen, bool suffix, struct tw_str key, uint32_t n);

/* Records the pattern text of non-exact indicator n for tw_index_save. */
int tw__index_note_pattern(struct tw_index *idx, uint32_t n, struct tw_str text);

/* grow() of index.c: makes room for `need` elements of `elem` bytes, capped at max. */
int tw__index_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max);

#endif
