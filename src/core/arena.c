/*
 * arena.c: bump allocator (see include/tidewatch/arena.h). Blocks are chained
 * newest first; an allocation larger than the block size gets a block of its own.
 */
#include "tidewatch/arena.h"

#include <stdint.h>
#include <string.h>

#include "tidewatch/alloc.h"

struct tw_arena_block {
    struct tw_arena_block *next; /* older block */
    size_t size;                 /* usable bytes in data[] */
    size_t used;                 /* bytes handed out from data[] */
    max_align_t data[];          /* storage, aligned for any type */
};

#define ALIGN (sizeof(max_align_t))

void tw_arena_init(struct tw_arena *a, size_t block_size, size_t max)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 4096;
    a->used = 0;
    a->max = max;
}

void tw_arena_cleanup(struct tw_arena *a)
{
    struct tw_arena_block *b = a->head;

    while (b != NULL) {
        struct tw_arena_block *next = b->next;
        tw_free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void tw_arena_reset(struct tw_arena *a)
{
    struct tw_arena_block *keep = a->head;

    if (keep == NULL)
        return;
    /* Keep the oldest block (normally the standard size) and free the rest. */
    while (keep->next != NULL) {
        struct tw_arena_block *next = keep->next;
        tw_free(keep);
        keep = next;
    }
    keep->used = 0;
    a->head = keep;
    a->used = 0;
}

void *tw_arena_alloc(struct tw_arena *a, size_t n)
{
    struct tw_arena_block *b = a->head;
    size_t need;
    void *p;

    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    need = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (need > a->max || a->used > a->max - need)
        return NULL;
    if (b == NULL || b->size - b->used < need) {
        size_t size = need > a->block_size ? need : a->block_size;
        struct tw_arena_block *nb = tw_malloc(sizeof(*nb) + size);
        if (nb == NULL)
            return NULL;
        nb->size = size;
        nb->used = 0;
        if (b != NULL && need > a->block_size) {
            /* A big one-off: chain it behind the current block to keep using its space. */
            nb->next = b->next;
            b->next = nb;
            nb->used = need;
            a->used += need;
            return nb->data;
        }
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    p = (char *)b->data + b->used;
    b->used += need;
    a->used += need;
    return p;
}

void *tw_arena_calloc(struct tw_arena *a, size_t count, size_t size)
{
    void *p;

    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    p = tw_arena_alloc(a, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

char *tw_arena_strndup(struct tw_arena *a, const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX)
        return NULL;
    p = tw_arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
