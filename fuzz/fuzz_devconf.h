/*
 * fuzz_devconf.h: what the two device-configuration fuzz targets share
 * (fuzz_devconf_ios.c, fuzz_devconf_junos.c). An input starting with the
 * byte 0xFF runs in allocation-failure mode: the next byte says after how
 * many allocations tw_malloc starts failing, and the rest is the text.
 * Every parsed device is walked: the tree's links must agree (parent
 * pointers, depths within TW_CFG_MAX_DEPTH, texts as long as their len,
 * the node count), and every node is masked and pathed for each platform
 * given; masking must fit its buffer and be idempotent (masking a masked
 * statement changes nothing; not checked while allocations fail, when
 * masking may hide a whole statement). A broken invariant is a
 * __builtin_trap.
 */
#ifndef TW_FUZZ_DEVCONF_H
#define TW_FUZZ_DEVCONF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/devconf.h"

/* Allocation-failure mode: masking may fall back to hiding a whole statement. */
static bool fuzz_devconf_failing;

static void fuzz_devconf_check(
        enum tw_platform p, const struct tw_cfg_node *n, unsigned depth, unsigned *count)
{
    static char a[8192], b[8192], path[8192];

    for (; n != NULL; n = n->next) {
        size_t la, lb, lp;

        if (n->depth != depth || depth >= TW_CFG_MAX_DEPTH || strlen(n->text) != n->len ||
                n->line == 0)
            __builtin_trap();
        if (n->child != NULL && n->child->parent != n)
            __builtin_trap();
        la = tw_devconf_mask(p, n->text, n->len, a, sizeof(a));
        if (la >= sizeof(a) || a[la] != '\0' || strlen(a) != la)
            __builtin_trap();
        if (la < sizeof(a) - 1 && !fuzz_devconf_failing) {
            lb = tw_devconf_mask(p, a, la, b, sizeof(b));
            if (lb != la || memcmp(a, b, la) != 0)
                __builtin_trap();
        }
        lp = tw_devconf_path(p, n, path, sizeof(path));
        if (lp >= sizeof(path) || path[lp] != '\0')
            __builtin_trap();
        (*count)++;
        fuzz_devconf_check(p, n->child, depth + 1, count);
    }
}

/* Parses text as platform `as`, then checks the tree, masking with each of mask_as[]. */
static void fuzz_devconf_run(const char *text, size_t len, enum tw_platform as,
        const enum tw_platform *mask_as, size_t n_mask, bool with_output)
{
    struct tw_devconf *d = NULL;
    struct tw_err err;
    unsigned count;

    if (tw_devconf_parse(text, len, "fuzz.cfg", as, &d, &err) != TW_OK) {
        if (d != NULL || err.code == TW_OK)
            __builtin_trap();
        return;
    }
    if (with_output && tw_devconf_add_output(d, TW_OP_SHOW_VERSION, text, len, &err) == TW_OK &&
            !d->op_present[TW_OP_SHOW_VERSION])
        __builtin_trap();
    for (size_t i = 0; i < n_mask; i++) {
        count = 0;
        fuzz_devconf_check(mask_as[i], d->root.child, 0, &count);
        if (count != d->n_nodes)
            __builtin_trap();
    }
    if (d->name == NULL || d->version == NULL || d->model == NULL || d->hostname == NULL ||
            d->last_change_by == NULL || d->train == NULL || d->version_from == NULL)
        __builtin_trap();
    tw_devconf_free(d);
}

/* Splits off the allocation-failure prefix; returns the number of bytes to skip. */
static size_t fuzz_devconf_alloc_mode(const uint8_t *data, size_t size)
{
    fuzz_devconf_failing = size >= 2 && data[0] == 0xff;
    if (fuzz_devconf_failing) {
        tw_alloc_fail_after((long)data[1]);
        return 2;
    }
    return 0;
}

#endif
