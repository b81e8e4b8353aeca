/*
 * bench_decode.c: decoder cost per packet for a few encapsulations, on one
 * core, packets already in memory (no capture cost).
 *
 * Usage: bench_decode [iterations]   (default 5000000 per packet shape)
 *
 * Shapes: Ethernet + IPv4 + TCP; Ethernet + VLAN + IPv4 + UDP + GTP-U (with a
 * PDU session container) + IPv4 + UDP; Ethernet + IPv6 + UDP + VXLAN +
 * Ethernet + IPv4 + TCP; Ethernet + VLAN + MPLS + IPv4 + GRE + ERSPAN II +
 * Ethernet + IPv4 + TCP. The program prints ns/packet and makes no assertions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tidewatch/decode.h"

struct shape {
    const char *name;
    uint8_t b[256];
    uint32_t n;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(struct shape *s, const char *hex)
{
    /* Appends bytes written as hex digit pairs; spaces are ignored. */
    for (const char *p = hex; p[0] != '\0';) {
        char pair[3] = { 0 };
        char *end;
        unsigned long v;
        if (p[0] == ' ') {
            p++;
            continue;
        }
        pair[0] = p[0];
        pair[1] = p[1];
        v = strtoul(pair, &end, 16);
        if (end != pair + 2)
            return;
        s->b[s->n++] = (uint8_t)v;
        p += 2;
    }
}

/* Sets a 16-bit big-endian length field at off. */
static void len16(struct shape *s, uint32_t off, uint32_t v)
{
    s->b[off] = (uint8_t)(v >> 8);
    s->b[off + 1] = (uint8_t)v;
}

#define MAC   "001122334455 66778899aabb "
#define IPV4H "4500 0000 0001 0000 4006 0000 0a000001 0a000002 " /* len set later */
#define TCPH  "04d2 0050 00000001 00000000 5018 ffff 0000 0000 "

int main(int argc, char **argv)
{
    long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 5000000;
    struct shape sh[4];
    struct tw_decoder *d = tw_decoder_new(NULL);
    uint64_t sink = 0;

    if (d == NULL || iters <= 0)
        return 1;
    memset(sh, 0, sizeof(sh));

    sh[0].name = "eth+ipv4+tcp";
    put(&sh[0], MAC "0800 " IPV4H TCPH "41414141");
    len16(&sh[0], 16, 44);

    sh[1].name = "eth+vlan+ipv4+udp+gtpu(ext)+ipv4+udp";
    put(&sh[1], MAC "8100 0007 0800 "
                    "4500 0000 0001 0000 4011 0000 0a0a0001 0a0a0002 "
                    "0868 0868 0000 0000 "
                    "34ff 0000 00001000 0000 0085 01000900 "
                    "4500 0000 0001 0000 4011 0000 64400001 08080808 "
                    "9c40 0035 0000 0000 1234");
    len16(&sh[1], 20, sh[1].n - 18);
    len16(&sh[1], 42, sh[1].n - 38);
    len16(&sh[1], 48, sh[1].n - 54);
    len16(&sh[1], 64, sh[1].n - 62);
    len16(&sh[1], 86, sh[1].n - 82);

    sh[2].name = "eth+ipv6+udp+vxlan+eth+ipv4+tcp";
    put(&sh[2], MAC "86dd 60000000 0000 11 40 20010db8000000000000000000000001 "
                    "20010db8000000000000000000000002 c350 12b5 0000 0000 08000000 00100000 " MAC
                    "0800 " IPV4H TCPH);
    len16(&sh[2], 18, sh[2].n - 54);
    len16(&sh[2], 58, sh[2].n - 54);
    len16(&sh[2], 86, 40);

    sh[3].name = "eth+vlan+mpls+ipv4+gre+erspan2+eth+ipv4+tcp";
    put(&sh[3], MAC "8100 000a 8847 001f4140 "
                    "4500 0000 0001 0000 402f 0000 ac100001 ac100002 "
                    "1000 88be 00000001 1017 004d 00000000 " MAC "0800 " IPV4H TCPH);
    len16(&sh[3], 24, sh[3].n - 22);
    len16(&sh[3], 74, 40);

    for (int s = 0; s < 4; s++) {
        struct tw_packet p;
        double t0, t1;

        memset(&p, 0, sizeof(p));
        p.data = sh[s].b;
        p.caplen = sh[s].n;
        p.linktype = TW_LINK_ETHERNET;
        if (tw_decode(d, &p) != TW_DECODE_OK || p.event != 0 || p.l4 < 0) {
            fprintf(stderr, "bench_decode: %s does not decode cleanly (event %s, %u layers)\n",
                    sh[s].name, tw_decode_event_name(p.event), p.n_layers);
            tw_decoder_free(d);
            return 1;
        }
        t0 = now();
        for (long i = 0; i < iters; i++) {
            p.data = sh[s].b;
            p.caplen = sh[s].n;
            if (tw_decode(d, &p) == TW_DECODE_OK)
                sink += (uint64_t)p.n_layers + p.tunnel_hash;
        }
        t1 = now();
        printf("%-48s %2u layers %7.1f ns/packet  %6.2f Mpps\n", sh[s].name, p.n_layers,
                (t1 - t0) * 1e9 / (double)iters, (double)iters / (t1 - t0) / 1e6);
    }
    printf("(checksum %llu)\n", (unsigned long long)sink);
    tw_decoder_free(d);
    return 0;
}
