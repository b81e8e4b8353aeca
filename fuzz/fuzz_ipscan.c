/*
 * fuzz_ipscan.c: libFuzzer target for the IP literal scanner of the
 * auditor (src/audit/ipscan.c). Every input is scanned as one statement
 * under every platform; each literal must lie inside the input, after the
 * previous one, not glued to a word on its left, with a prefix length its
 * family allows, and its address text must parse to the address reported
 * (invariants checked with __builtin_trap).
 */
#include <stdint.h>
#include <string.h>

#include "../src/audit/audit_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    const char *text;
    size_t len;
    size_t next; /* the earliest offset the next literal may start at */
    size_t n;
};

static int check(void *ctx, const struct tw__ip_literal *lit)
{
    struct state *st = ctx;
    size_t end = lit->off, off = lit->off;
    struct tw_ip ip;
    char before;

    if (off < st->next || lit->len == 0 || off + lit->len > st->len)
        __builtin_trap();
    if (lit->prefix_len > tw_ip_max_prefix(&lit->ip) || lit->form > TW__IP_NONCONTIG)
        __builtin_trap();
    before = off > 0 ? st->text[off - 1] : ' ';
    if (tw_ascii_isalpha(before) || tw_ascii_isdigit(before) || before == '_')
        __builtin_trap();
    while (end < off + lit->len && st->text[end] != ' ' && st->text[end] != '\t' &&
            st->text[end] != '/')
        end++;
    if (tw_ip_parse(tw_str_make(st->text + off, end - off), &ip, NULL) != TW_OK ||
            memcmp(&ip, &lit->ip, sizeof(ip)) != 0)
        __builtin_trap();
    st->next = off + lit->len;
    st->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int p = 0; p <= TW_PLAT_COUNT; p++) {
        struct state st = { (const char *)data, size, 0, 0 };

        if (tw__ipscan((enum tw_platform)p, (const char *)data, size, check, &st) != TW_OK)
            __builtin_trap();
        /* A literal needs at least two bytes ("::" is never one alone). */
        if (st.n > size / 2 + 1)
            __builtin_trap();
    }
    return 0;
}
