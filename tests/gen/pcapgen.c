/*
 * pcapgen.c: the command line of tw_pcapgen.
 *
 * tw_pcapgen makes the captures the project tests and benchmarks with:
 *   cases OUTDIR            one small pcap per encapsulation/protocol case,
 *                           <case>.expect.json beside it, and intel.json
 *   intel OUT.json          the STIX 2.1 bundle for the values the cases plant
 *   bench OUT.pcap          a large mixed capture (--size, --seed, --bad-sites)
 *   bench-intel OUT.json    a large bundle (--indicators, --hit-rate, --seed)
 * Every output is a pure function of the arguments: the same command writes
 * the same bytes.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"
#include "tidewatch/str.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static void usage(FILE *f);

/* Parses "123", "64K", "100M", "1G" (powers of 1024) into *out. */
static int parse_size(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    uint64_t mult = 1, v;

    if (n && (s[n - 1] == 'K' || s[n - 1] == 'k'))
        mult = 1ull << 10;
    else if (n && (s[n - 1] == 'M' || s[n - 1] == 'm'))
        mult = 1ull << 20;
    else if (n && (s[n - 1] == 'G' || s[n - 1] == 'g'))
        mult = 1ull << 30;
    if (mult > 1)
        n--;
    if (tw_parse_u64(tw_str_make(s, n), UINT64_MAX / mult, &v) != 0)
        return -1;
    *out = v * mult;
    return 0;
}

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
    return tw_parse_u64(tw_str_cstr(s), max, out) == 0 ? 0 : -1;
}

static int bad_option(const char *cmd, const char *opt)
{
    (void)fprintf(stderr, "tw_pcapgen %s: bad or missing value for %s (see --help)\n", cmd, opt);
    return 2;
}

static int run_cases(int argc, char **argv)
{
    if (argc != 2)
        return bad_option("cases", "OUTDIR");
    return gen_cmd_cases(argv[1]);
}

static int run_demo(int argc, char **argv)
{
    if (argc != 2)
        return bad_option("demo", "OUT.pcap");
    return gen_cmd_demo(argv[1]);
}

static int run_intel(int argc, char **argv)
{
    if (argc != 2)
        return bad_option("intel", "OUT.json");
    return gen_cmd_intel(argv[1]);
}

static int run_bench(int argc, char **argv)
{
    uint64_t size = 1ull << 30, seed = 1, bad = 1000;

    if (argc < 2)
        return bad_option("bench", "OUT.pcap");
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--size") == 0 && parse_size(v, &size) == 0)
            i++;
        else if (strcmp(argv[i], "--seed") == 0 && parse_num(v, UINT32_MAX, &seed) == 0)
            i++;
        else if (strcmp(argv[i], "--bad-sites") == 0 && parse_num(v, 200000, &bad) == 0)
            i++;
        else
            return bad_option("bench", argv[i]);
    }
    return gen_cmd_bench(argv[1], size, seed, (unsigned)bad);
}

static int run_bench_intel(int argc, char **argv)
{
    uint64_t n = 100000, seed = 1;
    double rate = 0.01;

    if (argc < 2)
        return bad_option("bench-intel", "OUT.json");
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--indicators") == 0 && parse_num(v, 10000000, &n) == 0) {
            i++;
        } else if (strcmp(argv[i], "--seed") == 0 && parse_num(v, UINT32_MAX, &seed) == 0) {
            i++;
        } else if (strcmp(argv[i], "--hit-rate") == 0 &&
                   tw_parse_double(tw_str_cstr(v), &rate) == 0 && rate >= 0 && rate <= 1) {
            i++;
        } else {
            return bad_option("bench-intel", argv[i]);
        }
    }
    return gen_cmd_bench_intel(argv[1], (unsigned)n, rate, seed);
}

static const struct command commands[] = {
    { "cases", run_cases, "cases OUTDIR" },
    { "intel", run_intel, "intel OUT.json" },
    { "demo", run_demo, "demo OUT.pcap   (the capture of `tidewatch demo`)" },
    { "bench", run_bench, "bench OUT.pcap [--size 1G] [--seed N] [--bad-sites 1000]" },
    { "bench-intel", run_bench_intel,
            "bench-intel OUT.json [--indicators 100000] [--hit-rate 0.01] [--seed N]" },
};

static void usage(FILE *f)
{
    (void)fprintf(f,
            "usage: tw_pcapgen COMMAND ARGS\n"
            "Writes test and benchmark captures for tidewatch; the same arguments always give\n"
            "the same bytes.\n\n");
    for (size_t i = 0; i < TW_ARRAY_LEN(commands); i++)
        (void)fprintf(f, "  tw_pcapgen %s\n", commands[i].usage);
    (void)fprintf(f,
            "\n"
            "cases        one classic pcap per encapsulation/protocol case in OUTDIR, with\n"
            "             <case>.expect.json (layers, flows, metadata, expected matches)\n"
            "             and intel.json (the indicators the expectations refer to)\n"
            "intel        only the STIX 2.1 bundle of the cases\n"
            "bench        a large capture: TLS, HTTP and DNS sessions, a share inside VLAN,\n"
            "             MPLS, GRE, VXLAN and GTP-U; prints how many flows should match\n"
            "bench-intel  a bundle of mostly IPv4 indicators; --hit-rate of them (as bad\n"
            "             sites) appear in a bench capture made with the same --seed and\n"
            "             --bad-sites equal to indicators x hit-rate\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    (void)fprintf(stderr, "tw_pcapgen: unknown command '%s' (see --help)\n", argv[1]);
    return 2;
}
