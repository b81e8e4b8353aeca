/*
 * alloc.h: the allocator every module uses.
 *
 * Thin wrappers over the C library that return NULL on failure (never abort),
 * plus a test hook that makes the Nth allocation from now on fail, so unit
 * tests and fuzzers can walk every out-of-memory path (curl's torture mode).
 */
#ifndef TIDEWATCH_ALLOC_H
#define TIDEWATCH_ALLOC_H

#include <stddef.h>

#include "tidewatch/common.h"

void *tw_malloc(size_t n);
void *tw_calloc(size_t count, size_t size); /* NULL when count*size overflows */
void *tw_realloc(void *p, size_t n);
/* Like tw_realloc for an array of count elements of size bytes; NULL on overflow. */
void *tw_reallocarray(void *p, size_t count, size_t size);
void tw_free(void *p); /* tw_free(NULL) is a no-op */
/* Copies s (len bytes, need not be NUL-terminated) into a new NUL-terminated string. */
char *tw_strndup(const char *s, size_t len);
char *tw_strdup(const char *s);

/*
 * Test hook: after `n` more successful allocations, every allocation fails
 * until tw_alloc_fail_reset(). n < 0 disables injection. Not thread-safe.
 */
void tw_alloc_fail_after(long n);
void tw_alloc_fail_reset(void);

#endif
