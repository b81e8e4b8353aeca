/*
 * bench_index.c: the indicator index and the bundle reader, measured.
 *
 *   bench_index [N] [DIR]
 *
 * Generates N mixed indicators (70% IPv4 addresses, 10% IPv4 CIDRs /8../31
 * weighted towards long prefixes as real feeds are, 20% domains; default
 * 1,000,000), then reports:
 *   - index build rate (pattern parse + atoms + insertion), indicators/s;
 *   - IPv4 lookup rate on one core, for random addresses and for addresses in
 *     the set, and the domain lookup rate;
 *   - bytes per indicator (tw_index_memory / N);
 *   - bundle parse rate in MB/s for a bundle written to DIR (default /tmp):
 *     tidewatch's full STIX validation, jansson's parse alone, and jq reading
 *     the same file in the same run, with the ratio.
 * Figures are rates from one run on a shared machine: compare ratios, not
 * absolute numbers, across machines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tidewatch/index.h"
#include "tidewatch/stix.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A CIDR length in /8../31 drawn with weight 2^(L/2), so most are /24../31 as
 * in real feeds (a uniform draw would put every address inside ~30 prefixes).
 */
static unsigned cidr_len(void)
{
    static double cum[32];
    double u;

    if (cum[31] == 0) {
        double total = 0;
        for (unsigned l = 8; l < 32; l++)
            cum[l] = (total += (double)(1u << (l / 2)));
        for (unsigned l = 8; l < 32; l++)
            cum[l] /= total;
    }
    u = (double)(rng() >> 11) / 9007199254740992.0;
    for (unsigned l = 8; l < 32; l++)
        if (u < cum[l])
            return l;
    return 31;
}

static void make_pattern(size_t i, char *pat, size_t n, uint32_t *addr, char *dom, size_t dn)
{
    unsigned kind = (unsigned)(i % 10);
    uint32_t a = (uint32_t)rng();

    *addr = 0;
    dom[0] = '\0';
    if (kind < 7) {
        *addr = a;
        snprintf(pat, n, "[ipv4-addr:value = '%u.%u.%u.%u']", a >> 24, (a >> 16) & 255,
                (a >> 8) & 255, a & 255);
    } else if (kind < 8) {
        unsigned plen = cidr_len();
        a &= plen == 0 ? 0 : ~0u << (32 - plen);
        snprintf(pat, n, "[ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%u']", a >> 24, (a >> 16) & 255,
                (a >> 8) & 255, a & 255, plen);
    } else {
        snprintf(dom, dn, "h%08x.d%05u.example", (unsigned)a, (unsigned)(i % 50000));
        snprintf(pat, n, "[domain-name:value = '%s']", dom);
    }
}

static json_t *make_indicator(size_t i, const char *pattern)
{
    char id[64];

    snprintf(id, sizeof(id), "indicator--%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(i >> 8),
            (unsigned)(i & 0xffff), (unsigned)(i & 0xfff), (unsigned)((i >> 12) & 0xfff),
            (unsigned long long)i);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "indicator", "spec_version",
            "2.1", "id", id, "created", "2025-09-02T08:00:00.000Z", "modified",
            "2025-09-02T08:00:00.000Z", "pattern", pattern, "pattern_type", "stix", "valid_from",
            "2025-09-01T00:00:00Z");
}

static double run_cmd(const char *cmd)
{
    double t0 = now_s();
    int rc = system(cmd);

    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        return -1;
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    json_t **objs = calloc(n, sizeof(*objs));
    uint32_t *addrs = calloc(n, sizeof(*addrs));
    char(*doms)[64] = calloc(n / 5 + 2, sizeof(*doms));
    size_t n_addrs = 0, n_doms = 0, hits = 0;
    struct tw_index *idx = tw_index_new(n + 1);
    uint32_t out[64];
    double t0, t1;
    char pat[128], dom[64], path[4096], cmd[8192];

    if (n == 0 || objs == NULL || addrs == NULL || doms == NULL || idx == NULL) {
        fprintf(stderr, "bench_index: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t a;
        make_pattern(i, pat, sizeof(pat), &a, dom, sizeof(dom));
        objs[i] = make_indicator(i, pat);
        if (a != 0)
            addrs[n_addrs++] = a;
        if (dom[0] != '\0')
            memcpy(doms[n_doms++], dom, sizeof(dom));
    }

    t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        struct tw_err err;
        if (tw_index_add(idx, objs[i], 0, &err) != TW_OK) {
            fprintf(stderr, "bench_index: indicator %zu: %s\n", i, err.msg);
            return 1;
        }
    }
    if (tw_index_build(idx) != TW_OK)
        return 1;
    t1 = now_s();
    printf("indicators            %zu (70%% IPv4, 10%% IPv4 CIDR /8../31 weighted 2^(L/2), "
           "20%% domains)\n",
            n);
    printf("index build           %.2f s, %.0f indicators/s (parse + atoms + insert)\n", t1 - t0,
            (double)n / (t1 - t0));
    printf("index memory          %.1f bytes per indicator (%.1f MiB)\n",
            (double)tw_index_memory(idx) / (double)n, (double)tw_index_memory(idx) / 1048576.0);

    {
        const size_t L = 20000000;
        uint32_t *q = malloc(L * sizeof(*q));
        if (q == NULL)
            return 1;
        for (size_t i = 0; i < L; i++)
            q[i] = (uint32_t)rng();
        t0 = now_s();
        for (size_t i = 0; i < L; i++)
            hits += tw_index_lookup_ipv4(idx, q[i], out, 64);
        t1 = now_s();
        printf("IPv4 lookups, random  %.1f M/s on one core (%zu hits in %zu)\n",
                (double)L / (t1 - t0) / 1e6, hits, L);
        for (size_t i = 0; i < L; i++)
            q[i] = addrs[rng() % n_addrs];
        hits = 0;
        t0 = now_s();
        for (size_t i = 0; i < L; i++)
            hits += tw_index_lookup_ipv4(idx, q[i], out, 64) > 0;
        t1 = now_s();
        printf("IPv4 lookups, hits    %.1f M/s on one core (%zu of %zu found)\n",
                (double)L / (t1 - t0) / 1e6, hits, L);
        free(q);
    }
    {
        const size_t L = 5000000;
        char name[96];
        hits = 0;
        t0 = now_s();
        for (size_t i = 0; i < L; i++) {
            const char *d = doms[rng() % n_doms];
            size_t len = strlen(d);
            if (i & 1) {
                hits += tw_index_lookup_domain(idx, tw_str_make(d, len), out, 64) > 0;
            } else {
                int m = snprintf(name, sizeof(name), "www.%s", d);
                hits += tw_index_lookup_domain(idx, tw_str_make(name, (size_t)m), out, 64) > 0;
            }
        }
        t1 = now_s();
        printf("domain lookups        %.1f M/s on one core (%zu of %zu found; half are "
               "subdomains that must miss)\n",
                (double)L / (t1 - t0) / 1e6, hits, L);
    }
    tw_index_free(idx);

    /* A bundle of up to 48 MB (the reader's cap is TW_STIX_MAX_INPUT). */
    {
        json_t *bundle = json_object(), *arr = json_array();
        struct tw_stix_bundle *b = NULL;
        struct tw_err err;
        struct stat st;
        json_error_t jerr;
        json_t *raw;
        double mb, t_tw, t_jansson, t_jq;
        size_t k = n < 150000 ? n : 150000;

        for (size_t i = 0; i < k; i++)
            json_array_append(arr, objs[i]);
        json_object_set_new(bundle, "type", json_string("bundle"));
        json_object_set_new(
                bundle, "id", json_string("bundle--6b1a9c1e-8f0d-4c52-9a7e-3d2f1b0c4e5a"));
        json_object_set_new(bundle, "objects", arr);
        snprintf(path, sizeof(path), "%s/tw-bench-bundle.json", dir);
        if (json_dump_file(bundle, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
                stat(path, &st) != 0) {
            fprintf(stderr, "bench_index: cannot write %s\n", path);
            return 1;
        }
        json_decref(bundle);
        mb = (double)st.st_size / 1e6;
        t0 = now_s();
        if (tw_stix_read_file(path, 0, &b, &err) != TW_OK) {
            fprintf(stderr, "bench_index: %s\n", err.msg);
            return 1;
        }
        t_tw = now_s() - t0;
        if (tw_stix_bundle_n_errors(b) != 0)
            fprintf(stderr, "bench_index: unexpected: %zu errors\n", tw_stix_bundle_n_errors(b));
        tw_stix_bundle_free(b);
        t0 = now_s();
        raw = json_load_file(path, 0, &jerr);
        t_jansson = now_s() - t0;
        json_decref(raw);
        snprintf(cmd, sizeof(cmd), "jq -c '.objects | length' '%s' >/dev/null", path);
        t_jq = run_cmd(cmd);
        printf("bundle                %.1f MB, %zu indicators\n", mb, k);
        printf("  tidewatch check     %.1f MB/s (parse + validate every object + compile "
               "patterns)\n",
                mb / t_tw);
        printf("  jansson parse only  %.1f MB/s\n", mb / t_jansson);
        if (t_jq > 0)
            printf("  jq '.objects|length' %.1f MB/s\n  ratio               tidewatch check is "
                   "%.1fx jq on the same file\n",
                    mb / t_jq, t_jq / t_tw);
        else
            printf("  jq                  not available\n");
        remove(path);
    }
    for (size_t i = 0; i < n; i++)
        json_decref(objs[i]);
    free(objs);
    free(addrs);
    free(doms);
    return 0;
}
