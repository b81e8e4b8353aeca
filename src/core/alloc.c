/*
 * alloc.c: allocation wrappers with a fail-after-N hook for tests and fuzzers.
 */
#include "tidewatch/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Allocations left before injected failures start; negative means never. */
static long fail_countdown = -1;

static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0)
        return 1;
    fail_countdown--;
    return 0;
}

void tw_alloc_fail_after(long n)
{
    fail_countdown = n;
}

void tw_alloc_fail_reset(void)
{
    fail_countdown = -1;
}

void *tw_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n == 0 ? 1 : n);
}

void *tw_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    return calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *tw_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n == 0 ? 1 : n);
}

void *tw_reallocarray(void *p, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    return tw_realloc(p, count * size);
}

void tw_free(void *p)
{
    free(p);
}

char *tw_strndup(const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX)
        return NULL;
    p = tw_malloc(len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *tw_strdup(const char *s)
{
    return tw_strndup(s, strlen(s));
}
