/*
 * bench_flow.c: flow table lookup rate and memory per flow, on one core.
 *
 * Usage: bench_flow [flows] [packets_per_flow]   (defaults: 1000000 and 10)
 *
 * Traffic model: flows start one after another; each packet either starts the
 * next flow (probability 1/packets_per_flow) or belongs to a flow drawn
 * uniformly from the 65536 most recently started ones, in a random direction,
 * so the hit ratio is about 1 - 1/packets_per_flow and the working set is a
 * sliding window, as on a link. 70% of flows are TCP (first packet a SYN),
 * 30% UDP; addresses are random IPv4, 10% of flows carry a tunnel_hash.
 * Packet time advances 2 us per packet, so nothing times out. Run 1 sizes the
 * table for every flow (no eviction); run 2 caps it at a quarter of the flows
 * (evictions on most new flows). Inputs come from a fixed-seed generator.
 * Times are the process's CPU time. The program prints numbers and makes no
 * assertions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tidewatch/flow.h"

#define WINDOW 65536u

struct gen_flow {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t tunnel;
    uint8_t tcp;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

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

    /* CPU time of this process: other jobs on a shared machine do not inflate it. */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t ended;

static void on_end(struct tw_flow *f, enum tw_flow_end reason, void *arg)
{
    (void)f;
    (void)reason;
    (void)arg;
    ended++;
}

/* Points the template packet at flow g in one direction. */
static void fill(struct tw_packet *p, const struct gen_flow *g, int reverse, uint8_t flags)
{
    struct tw_layer *ip = &p->layers[0], *l4 = &p->layers[1];

    tw_ip_from_v4(&ip->u.ip.src, reverse ? g->dst : g->src);
    tw_ip_from_v4(&ip->u.ip.dst, reverse ? g->src : g->dst);
    ip->u.ip.proto = g->tcp ? 6 : 17;
    l4->kind = g->tcp ? TW_L_TCP : TW_L_UDP;
    l4->u.l4.sport = reverse ? g->dport : g->sport;
    l4->u.l4.dport = reverse ? g->sport : g->dport;
    l4->u.l4.tcp_flags = flags;
    p->tunnel_hash = g->tunnel;
}

static int run(const struct gen_flow *flows, uint32_t n_flows, uint32_t ppf, uint32_t max_flows)
{
    struct tw_flow_config cfg;
    struct tw_flow_table *t;
    struct tw_packet p;
    struct tw_flow_stats st;
    uint32_t started = 0;
    uint64_t n_pkts = 0, hits = 0;
    double t0, dt;

    tw_flow_config_init(&cfg);
    cfg.max_flows = max_flows;
    cfg.extra_size = 64; /* room a matcher might use */
    cfg.on_end = on_end;
    if (tw_flow_table_new(&cfg, &t) != 0) {
        fprintf(stderr, "bench_flow: cannot create a table of %u flows\n", max_flows);
        return 1;
    }
    memset(&p, 0, sizeof(p));
    p.n_layers = 2;
    p.inner_ip = 0;
    p.l4 = 1;
    p.wirelen = 400;
    p.layers[0].kind = TW_L_IPV4;
    ended = 0;
    rng = 0x1234567887654321ull;

    t0 = now();
    while (started < n_flows) {
        struct tw_flow_lookup r;

        if (started == 0 || rnd32() % ppf == 0) {
            const struct gen_flow *g = &flows[started++];
            fill(&p, g, 0, g->tcp ? 0x02 : 0);
        } else {
            uint32_t w = started < WINDOW ? started : WINDOW;
            uint32_t pick = rnd32();
            fill(&p, &flows[started - 1 - pick % w], (int)(pick >> 31), 0x10);
        }
        p.ts_ns = 1700000000 * INT64_C(1000000000) + (int64_t)n_pkts * 2000;
        if (tw_flow_table_lookup(t, &p, &r) != 0)
            return 1;
        hits += !r.created;
        n_pkts++;
    }
    dt = now() - t0;
    tw_flow_table_stats(t, &st);
    printf("table %8u slots: %10llu packets in %.3f s = %6.2f M lookups/s, %5.1f ns/lookup, "
           "hit ratio %.3f, %llu evicted\n",
            max_flows, (unsigned long long)n_pkts, dt, (double)n_pkts / dt / 1e6,
            dt * 1e9 / (double)n_pkts, (double)hits / (double)n_pkts,
            (unsigned long long)st.evicted);
    printf("    memory %.1f MiB = %.1f bytes per flow slot (struct tw_flow %zu bytes, "
           "extra area 64, bucket 4 to 8)\n",
            (double)tw_flow_table_memory(t) / 1048576.0,
            (double)tw_flow_table_memory(t) / (double)max_flows, sizeof(struct tw_flow));
    t0 = now();
    (void)tw_flow_table_flush(t);
    dt = now() - t0;
    printf("    flush: %zu flows ended in %.3f s (%zu callbacks in total)\n", (size_t)st.active, dt,
            ended);
    tw_flow_table_free(t);
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t n_flows = 1000000, ppf = 10;
    struct gen_flow *flows;
    int rc;

    if (argc > 1)
        n_flows = (uint32_t)strtoul(argv[1], NULL, 10);
    if (argc > 2)
        ppf = (uint32_t)strtoul(argv[2], NULL, 10);
    if (n_flows < 4 || n_flows > TW_FLOW_MAX_FLOWS || ppf == 0) {
        fprintf(stderr, "usage: bench_flow [flows 4..%u] [packets_per_flow >= 1]\n",
                TW_FLOW_MAX_FLOWS);
        return 2;
    }
    flows = calloc(n_flows, sizeof(*flows));
    if (flows == NULL)
        return 1;
    for (uint32_t i = 0; i < n_flows; i++) {
        flows[i].src = rnd32();
        flows[i].dst = rnd32();
        flows[i].sport = (uint16_t)(1024 + rnd32() % 60000);
        flows[i].dport = (uint16_t)(rnd32() % 4 == 0 ? 53 : rnd32() % 2 ? 443 : rnd32());
        flows[i].tcp = rnd32() % 10 < 7;
        flows[i].tunnel = rnd32() % 10 == 0 ? rnd32() | 1 : 0;
    }
    printf("bench_flow: %u flows, ~%u packets per flow, window %u flows\n", n_flows, ppf, WINDOW);
    rc = run(flows, n_flows, ppf, n_flows);
    if (rc == 0)
        rc = run(flows, n_flows, ppf, n_flows / 4);
    free(flows);
    return rc;
}
