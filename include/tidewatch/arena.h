/*
 * arena.h: a bump allocator for objects that share one lifetime (a parsed
 * pattern, one request, one packet batch). Allocations are freed all at once
 * by tw_arena_reset or tw_arena_cleanup. Each arena has a cap on its total size.
 */
#ifndef TIDEWATCH_ARENA_H
#define TIDEWATCH_ARENA_H

#include <stddef.h>

#include "tidewatch/common.h"

struct tw_arena_block;

struct tw_arena {
    struct tw_arena_block *head; /* current block; older blocks chained behind */
    size_t block_size;           /* default size of a new block */
    size_t used;                 /* bytes handed out since the last reset */
    size_t max;                  /* cap on `used`; allocations past it fail */
};

/* Initialises an arena with blocks of block_size bytes (0 picks 4 KiB) and a total cap. */
void tw_arena_init(struct tw_arena *a, size_t block_size, size_t max);
/* Frees every block. */
void tw_arena_cleanup(struct tw_arena *a);
/* Frees everything allocated, keeping the first block for reuse. */
void tw_arena_reset(struct tw_arena *a);
/* Returns n bytes aligned for any type, or NULL (out of memory or past the cap). */
void *tw_arena_alloc(struct tw_arena *a, size_t n);
void *tw_arena_calloc(struct tw_arena *a, size_t count, size_t size);
/* Copies len bytes and a NUL terminator into the arena. */
char *tw_arena_strndup(struct tw_arena *a, const char *s, size_t len);

#endif
