/*
 * fuzz_vulndb.c: libFuzzer target for the vulnerability data and the
 * version comparison. Every input is parsed as vulnerability data: a
 * rejected one must leave no data set and an error that names the input; an
 * accepted one is checked for every platform against a few versions, and
 * every hit must be consistent (an affected hit names a train and a fixed
 * release, strings are never NULL, the requires field is never "-"). The
 * first line of the input is also split at its first blank into two
 * versions compared under every platform: the comparison must be
 * antisymmetric and a version equal to itself (invariants checked with
 * __builtin_trap).
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Versions each accepted data set is checked against, per platform. */
static const char *const probe_versions[] = { NULL, "", "17.9.3", "17.9.4a", "16.12.4",
    "15.2(4)E10", "12.2(55)SE12", "7.3(13)N1(1)", "10.4(5)", "7.9.2", "22.4R3-S2.11", "23.2R1-EVO",
    "9.12(4)67", "junk" };

static int check_hit(void *ctx, const struct tw_vuln_hit *h)
{
    size_t *n = ctx;

    if (h->cve == NULL || h->rule_id == NULL || h->requires == NULL || h->train == NULL ||
            h->fixed == NULL || h->source == NULL)
        __builtin_trap();
    if (strncmp(h->cve, "CVE-", 4) != 0 || h->rule_id[0] == '\0' || strcmp(h->requires, "-") == 0)
        __builtin_trap();
    if (h->state == TW_VULN_AFFECTED && (h->train[0] == '\0' || h->fixed[0] == '\0'))
        __builtin_trap();
    if (h->state != TW_VULN_AFFECTED && h->state != TW_VULN_UNKNOWN)
        __builtin_trap();
    (*n)++;
    return 0;
}

/* Compares the two halves of the first line under every platform. */
static void compare_versions(const uint8_t *data, size_t size)
{
    char a[80], b[80];
    size_t n = 0, i = 0, k = 0;

    while (n < size && data[n] != '\n' && n < 150)
        n++;
    while (i < n && data[i] != ' ' && i < sizeof(a) - 1) {
        a[i] = (char)data[i];
        i++;
    }
    a[i] = '\0';
    if (i < n && data[i] == ' ')
        i++;
    while (i < n && k < sizeof(b) - 1)
        b[k++] = (char)data[i++];
    b[k] = '\0';
    for (int p = 0; p <= TW_PLAT_COUNT; p++) {
        int ab = 0, ba = 0, aa = 0;
        int r1 = tw_version_cmp((enum tw_platform)p, a, b, &ab);
        int r2 = tw_version_cmp((enum tw_platform)p, b, a, &ba);

        if ((r1 == TW_OK) != (r2 == TW_OK))
            __builtin_trap();
        if (r1 == TW_OK && (ab != -ba || ab < -1 || ab > 1))
            __builtin_trap();
        if (tw_version_cmp((enum tw_platform)p, a, a, &aa) == TW_OK && aa != 0)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_vulndb *db = (struct tw_vulndb *)&db;
    struct tw_err err;
    int rc = tw_vulndb_parse((const char *)data, size, "fuzz.tsv", &db, &err);

    compare_versions(data, size);
    if (rc != TW_OK) {
        if (db != NULL || err.code != rc || strncmp(err.msg, "fuzz.tsv", 8) != 0)
            __builtin_trap();
        return 0;
    }
    if (db == NULL)
        __builtin_trap();
    for (int p = 0; p < TW_PLAT_COUNT; p++) {
        for (size_t v = 0; v < sizeof(probe_versions) / sizeof(probe_versions[0]); v++) {
            size_t hits = 0;
            if (tw_vulndb_check(db, (enum tw_platform)p, probe_versions[v], check_hit, &hits) !=
                    TW_OK)
                __builtin_trap();
            /* At most one hit per row, since each CVE and platform gives at most one. */
            if (hits > tw_vulndb_count(db))
                __builtin_trap();
        }
    }
    tw_vulndb_free(db);
    return 0;
}
