/*
 * bench_ipset.c: build time, memory per entry and lookup rates of the ipset
 * and domainset modules at indicator-feed scale, on one core.
 *
 * Usage: bench_ipset [entries] [lookups]   (defaults: 1000000 and 20000000)
 *
 * The IPv4/IPv6 mix is ~70% IPv4 /32, ~20% IPv4 prefixes /8../31 and ~10%
 * IPv6 (half /128, half /32../64), all random. Prefix lengths follow a
 * feed-like distribution where a length L is drawn with weight 2^(L/2) (so
 * /24../31 dominate and /8 is rare); a second run draws them uniformly from
 * /8../31 as a stress case in which every address sits in dozens of prefixes.
 * Inputs come from a fixed-seed generator, so runs are repeatable. The
 * program prints numbers and makes no assertions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tidewatch/addr.h"
#include "tidewatch/domain.h"
#include "tidewatch/ipset.h"

static uint64_t rng = 0x853c49e6748fea9bull;

static uint32_t rnd32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A prefix length in 8..31: weighted 2^(L/2), or uniform. */
static unsigned draw_len(int uniform)
{
    static double cdf[24];
    static int ready;
    double r;

    if (uniform)
        return 8 + rnd32() % 24;
    if (!ready) {
        double sum = 0;
        for (int l = 0; l < 24; l++) {
            double w = 1;
            for (int k = 0; k < 8 + l; k++)
                w *= 1.4142135623730951;
            sum += w;
            cdf[l] = sum;
        }
        for (int l = 0; l < 24; l++)
            cdf[l] /= sum;
        ready = 1;
    }
    r = (double)rnd32() / 4294967296.0;
    for (int l = 0; l < 24; l++)
        if (r < cdf[l])
            return 8 + (unsigned)l;
    return 31;
}

struct v4pfx {
    uint32_t net;
    unsigned len;
};

static void bench_ipset(size_t n, size_t n_lookups, int uniform)
{
    struct tw_ipset *s = tw_ipset_new(n);
    uint32_t *exact = malloc(n * sizeof(uint32_t));
    struct v4pfx *pfx = malloc(n * sizeof(struct v4pfx));
    const size_t n_q = (size_t)1 << 22;
    uint32_t *q = malloc(n_q * sizeof(uint32_t));
    size_t n_exact = 0, n_pfx = 0, n_v6 = 0;
    uint32_t vals[16];
    size_t found = 0, hits_any = 0;
    double t0, t1, t2;

    if (s == NULL || exact == NULL || pfx == NULL || q == NULL) {
        fprintf(stderr, "bench_ipset: out of memory\n");
        exit(1);
    }
    printf("== ipset: %zu entries, prefix lengths %s ==\n", n,
            uniform ? "uniform /8../31 (stress)" : "weighted 2^(L/2) over /8../31");
    t0 = now();
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd32() % 100;
        struct tw_ip ip;
        unsigned len;

        if (r < 70) {
            exact[n_exact] = rnd32();
            tw_ip_from_v4(&ip, exact[n_exact++]);
            len = 32;
        } else if (r < 90) {
            len = draw_len(uniform);
            tw_ip_from_v4(&ip, rnd32());
            tw_ip_mask(&ip, len);
            pfx[n_pfx].net = tw_ip_v4(&ip);
            pfx[n_pfx++].len = len;
        } else {
            memset(&ip, 0, sizeof(ip));
            ip.family = 6;
            ip.bytes[0] = 0x20;
            ip.bytes[1] = 0x01;
            for (int k = 2; k < 16; k++)
                ip.bytes[k] = (uint8_t)rnd32();
            len = (r & 1) ? 128 : 32 + rnd32() % 33;
            n_v6++;
        }
        if (tw_ipset_add(s, &ip, len, (uint32_t)i) != 0) {
            fprintf(stderr, "bench_ipset: add failed\n");
            exit(1);
        }
    }
    t1 = now();
    if (tw_ipset_build(s) != 0) {
        fprintf(stderr, "bench_ipset: build failed\n");
        exit(1);
    }
    t2 = now();
    printf("mix: %zu IPv4 /32, %zu IPv4 prefixes, %zu IPv6\n", n_exact, n_pfx, n_v6);
    printf("add: %.3f s   build: %.3f s   memory: %zu bytes = %.1f bytes/entry\n", t1 - t0, t2 - t1,
            tw_ipset_memory(s), (double)tw_ipset_memory(s) / (double)n);

    /* Random IPv4 addresses. */
    for (size_t i = 0; i < n_q; i++)
        q[i] = rnd32();
    t0 = now();
    for (size_t i = 0; i < n_lookups; i++) {
        size_t k = tw_ipset_lookup_v4(s, q[i & (n_q - 1)], vals, 16);
        found += k;
        hits_any += k != 0;
    }
    t1 = now();
    printf("random IPv4 lookups: %.1f M/s (%.1f ns each), %.1f%% matched, %.2f values/lookup\n",
            (double)n_lookups / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double)n_lookups,
            100.0 * (double)hits_any / (double)n_lookups, (double)found / (double)n_lookups);

    /* Addresses that hit: 70% listed /32s, 30% inside a listed prefix. */
    for (size_t i = 0; i < n_q; i++) {
        if (rnd32() % 10 < 7 || n_pfx == 0) {
            q[i] = exact[rnd32() % n_exact];
        } else {
            const struct v4pfx *p = &pfx[rnd32() % n_pfx];
            q[i] = p->net | (rnd32() & (0xffffffffu >> p->len));
        }
    }
    found = hits_any = 0;
    t0 = now();
    for (size_t i = 0; i < n_lookups; i++) {
        size_t k = tw_ipset_lookup_v4(s, q[i & (n_q - 1)], vals, 16);
        found += k;
        hits_any += k != 0;
    }
    t1 = now();
    printf("hitting IPv4 lookups: %.1f M/s (%.1f ns each), %.1f%% matched, %.2f values/lookup\n",
            (double)n_lookups / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double)n_lookups,
            100.0 * (double)hits_any / (double)n_lookups, (double)found / (double)n_lookups);

    /* Random IPv6 addresses inside 2001::/16 (through tw_ipset_lookup). */
    {
        size_t n6 = n_lookups / 10;
        struct tw_ip ip;

        memset(&ip, 0, sizeof(ip));
        ip.family = 6;
        ip.bytes[0] = 0x20;
        ip.bytes[1] = 0x01;
        found = 0;
        t0 = now();
        for (size_t i = 0; i < n6; i++) {
            uint32_t a = rnd32(), b = rnd32();
            memcpy(ip.bytes + 2, &a, 4);
            memcpy(ip.bytes + 12, &b, 4);
            found += tw_ipset_lookup(s, &ip, vals, 16);
        }
        t1 = now();
        printf("random IPv6 lookups: %.1f M/s (%.1f ns each), %.3f values/lookup\n",
                (double)n6 / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double)n6,
                (double)found / (double)n6);
    }
    tw_ipset_free(s);
    free(exact);
    free(pfx);
    free(q);
}

/* Writes a random domain of 2..3 labels into out and returns its length. */
static size_t random_domain(char *out)
{
    static const char *const tlds[] = { "com", "net", "org", "ru", "info", "xyz", "top", "io" };
    size_t len = 0;
    unsigned labels = 1 + rnd32() % 2;

    for (unsigned l = 0; l < labels; l++) {
        unsigned ll = 4 + rnd32() % 9;
        for (unsigned k = 0; k < ll; k++)
            out[len++] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd32() % 36];
        out[len++] = '.';
    }
    {
        const char *t = tlds[rnd32() % 8];
        size_t tl = strlen(t);
        memcpy(out + len, t, tl);
        len += tl;
    }
    out[len] = '\0';
    return len;
}

static void bench_domainset(size_t n, size_t n_lookups)
{
    struct tw_domainset *s = tw_domainset_new(n);
    const size_t n_q = (size_t)1 << 20;
    char(*names)[48] = malloc(n_q * sizeof(*names));
    size_t *lens = malloc(n_q * sizeof(size_t));
    size_t total_len = 0, found = 0, hits_any = 0;
    uint32_t vals[16];
    double t0, t1;

    if (s == NULL || names == NULL || lens == NULL) {
        fprintf(stderr, "bench_ipset: out of memory\n");
        exit(1);
    }
    printf("== domainset: %zu entries (70%% exact, 30%% suffix) ==\n", n);
    t0 = now();
    for (size_t i = 0; i < n; i++) {
        char name[48];
        size_t len = random_domain(name);
        enum tw_domain_match how = rnd32() % 10 < 7 ? TW_DOMAIN_EXACT : TW_DOMAIN_SUFFIX;

        total_len += len;
        if (i < n_q) {
            memcpy(names[i], name, len + 1);
            lens[i] = len;
        }
        if (tw_domainset_add(s, tw_str_make(name, len), how, (uint32_t)i) != 0) {
            fprintf(stderr, "bench_ipset: domain add failed\n");
            exit(1);
        }
    }
    t1 = now();
    printf("add: %.3f s (%.2f M/s), mean name %.1f bytes, memory: %zu bytes = %.1f bytes/entry\n",
            t1 - t0, (double)n / (t1 - t0) / 1e6, (double)total_len / (double)n,
            tw_domainset_memory(s), (double)tw_domainset_memory(s) / (double)n);

    /* Half listed names with a "www." in front, half fresh random names. */
    for (size_t i = 0; i < n_q; i++) {
        if (i % 2 == 0 && i < n) {
            size_t len = lens[i];
            memmove(names[i] + 4, names[i], len + 1);
            memcpy(names[i], "www.", 4);
            lens[i] = len + 4;
        } else {
            lens[i] = random_domain(names[i]);
        }
    }
    t0 = now();
    for (size_t i = 0; i < n_lookups; i++) {
        size_t j = i & (n_q - 1);
        size_t k = tw_domainset_lookup(s, tw_str_make(names[j], lens[j]), vals, 16);
        found += k;
        hits_any += k != 0;
    }
    t1 = now();
    printf("lookups (half subdomains of listed names, half random): %.1f M/s (%.1f ns each), "
           "%.1f%% matched\n",
            (double)n_lookups / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double)n_lookups,
            100.0 * (double)hits_any / (double)n_lookups);
    (void)found;
    tw_domainset_free(s);
    free(names);
    free(lens);
}

int main(int argc, char **argv)
{
    size_t n = 1000000, n_lookups = 20000000;

    if (argc > 1)
        n = (size_t)strtoull(argv[1], NULL, 10);
    if (argc > 2)
        n_lookups = (size_t)strtoull(argv[2], NULL, 10);
    if (n == 0 || n_lookups == 0) {
        fprintf(stderr, "usage: bench_ipset [entries] [lookups]\n");
        return 2;
    }
    bench_ipset(n, n_lookups, 0);
    bench_ipset(n, n_lookups / 4, 1);
    bench_domainset(n, n_lookups / 4);
    return 0;
}
