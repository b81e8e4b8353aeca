/*
 * cmd_flows_query.c: `tidewatch flows query`, nfdump's questions over the
 * flow archive: the flows that match a filter (flowfilter.h) in a time
 * window, printed as lines, CSV or JSON, or a top-N statistic of one element
 * (addresses, ports, protocol, exporter, interfaces) ordered by flows,
 * packets or bytes; a summary line closes both.
 *
 * Reading: files and blocks whose summaries cannot hold a match (window,
 * filter) are skipped unread; a block is read first with the columns the
 * filter needs only, and the columns of the output are read only for blocks
 * where something matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <getopt.h>

#include "cli.h"
#include "flows_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/flowfilter.h"
#include "tidewatch/hash.h"
#include "tidewatch/log.h"
#include "tidewatch/time.h"

/* Shared with cmd_flows_hunt.c, which defines it. */
int tw_flows_parse_time(const char *text, int64_t *ms);

/* Longest filter taken from the command line, and most distinct keys of a statistic. */
#define QUERY_MAX_FILTER ((size_t)64 * 1024 * 1024)
#define QUERY_MAX_KEYS   ((size_t)64 * 1024 * 1024)
/* As in flowhunt.c: partitions this far outside the window are listed too. */
#define LIST_SLACK_MS (INT64_C(3600) * 1000)

static const char flows_query_help[] =
        "usage: tidewatch flows query --archive DIR [options] [FILTER...]\n"
        "\n"
        "Print the flows of an archive that match FILTER (the remaining arguments,\n"
        "joined by spaces, as nfdump takes them), or with -s a top-N statistic, and a\n"
        "summary. The filter language follows nfdump's:\n"
        "  [src|dst] ip|host ADDR     [src|dst] net CIDR      [src|dst] ip in [ADDR|CIDR ...]\n"
        "  [src|dst] port [CMP] N     [src|dst] port in [N ...]\n"
        "  proto tcp|udp|icmp|icmp6|gre|esp|ah|sctp|N      exporter ADDR|CIDR\n"
        "  in|out if [CMP] N   vlan N   [src|dst] as N   bytes|packets CMP N[k|m|g]\n"
        "  flags LETTERS (AFPRSUEC, X = all six)   inet   inet6   any\n"
        "  combined with not, and (may be left out), or and parentheses; CMP is\n"
        "  =, ==, <, >, <=, >= or eq, lt, gt, le, ge\n"
        "\n"
        "options:\n"
        "  -a, --archive DIR     the flow archive (required)\n"
        "      --from TIME       only flows that end at or after TIME\n"
        "      --to TIME         only flows that start before TIME\n"
        "                        TIME: RFC 3339, \"YYYY-MM-DD[ hh:mm[:ss]]\" (UTC) or seconds\n"
        "  -s, --stat ELEMENT[/ORDER]  top-N of srcip, dstip, ip, srcport, dstport, port,\n"
        "                        proto, exporter, inif or outif, ordered by flows (default),\n"
        "                        packets or bytes\n"
        "  -n, --top N           rows of the statistic (default 10; 0 = all)\n"
        "  -o, --output FORMAT   line (default), csv or json\n"
        "  -c, --limit N         stop after N matching flows\n"
        "  -q, --quiet           no header and no summary\n"
        "  -h, --help            this help\n"
        "\n"
        "exit status: 0 some flow matched, 1 none did, 2 usage, 3 the archive could\n"
        "not be read\n";

/* ==== Options ==== */

enum out_fmt {
    OUT_LINE = 0,
    OUT_CSV,
    OUT_JSON,
};

enum stat_el {
    ST_NONE = 0,
    ST_SRCIP,
    ST_DSTIP,
    ST_IP,
    ST_SRCPORT,
    ST_DSTPORT,
    ST_PORT,
    ST_PROTO,
    ST_EXPORTER,
    ST_INIF,
    ST_OUTIF,
};

enum stat_order {
    ORD_FLOWS = 0,
    ORD_PACKETS,
    ORD_BYTES,
};

static const struct {
    const char *name;
    enum stat_el el;
    unsigned cols;     /* columns the element needs */
    const char *title; /* column heading */
} stat_els[] = {
    { "srcip", ST_SRCIP, TW_FARCH_COL_ADDR, "Src IP Addr" },
    { "dstip", ST_DSTIP, TW_FARCH_COL_ADDR, "Dst IP Addr" },
    { "ip", ST_IP, TW_FARCH_COL_ADDR, "IP Addr" },
    { "srcport", ST_SRCPORT, TW_FARCH_COL_PORTS, "Src Port" },
    { "dstport", ST_DSTPORT, TW_FARCH_COL_PORTS, "Dst Port" },
    { "port", ST_PORT, TW_FARCH_COL_PORTS, "Port" },
    { "proto", ST_PROTO, TW_FARCH_COL_PROTO, "Protocol" },
    { "exporter", ST_EXPORTER, TW_FARCH_COL_EXPORTER, "Exporter" },
    { "inif", ST_INIF, TW_FARCH_COL_IFACE, "Input If" },
    { "outif", ST_OUTIF, TW_FARCH_COL_IFACE, "Output If" },
};

struct qopts {
    const char *archive;
    int64_t from_ms, to_ms;
    enum out_fmt fmt;
    enum stat_el stat;
    size_t stat_row; /* row of stat_els */
    enum stat_order order;
    uint64_t top, limit;
    bool quiet;
};

/* ==== Statistics ==== */

struct skey {
    uint8_t kind; /* 4, 6: address; 1: number */
    uint8_t bytes[16];
};

struct sent {
    struct skey key;
    bool used;
    uint64_t flows, packets, bytes;
    int64_t first_ms, last_ms;
};

struct stats {
    struct sent *tab;
    size_t n, cap;      /* cap: a power of two */
    struct sent *dense; /* ports and protocols: one entry per value */
    size_t n_dense;
};

static uint64_t skey_hash(const struct skey *k)
{
    return tw_hash64(k, sizeof(*k), 0x7377);
}

static int stats_grow(struct stats *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    struct sent *t;

    if (ncap > QUERY_MAX_KEYS)
        return TW_ELIMIT;
    t = tw_calloc(ncap, sizeof(*t));
    if (t == NULL)
        return TW_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        size_t at;
        if (!s->tab[i].used)
            continue;
        at = (size_t)skey_hash(&s->tab[i].key) & (ncap - 1);
        while (t[at].used)
            at = (at + 1) & (ncap - 1);
        t[at] = s->tab[i];
    }
    tw_free(s->tab);
    s->tab = t;
    s->cap = ncap;
    return TW_OK;
}

static int stats_add(struct stats *s, const struct skey *k, const struct tw_flowrec *r)
{
    size_t at;
    struct sent *e;

    if ((s->n + 1) * 2 > s->cap) {
        int rc = stats_grow(s);
        if (rc != TW_OK)
            return rc;
    }
    at = (size_t)skey_hash(k) & (s->cap - 1);
    while (s->tab[at].used && memcmp(&s->tab[at].key, k, sizeof(*k)) != 0)
        at = (at + 1) & (s->cap - 1);
    e = &s->tab[at];
    if (!e->used) {
        e->used = true;
        e->key = *k;
        e->first_ms = r->first_ms;
        e->last_ms = r->last_ms;
        s->n++;
    }
    e->flows++;
    e->packets += r->packets;
    e->bytes += r->bytes;
    e->first_ms = TW_MIN(e->first_ms, r->first_ms);
    e->last_ms = TW_MAX(e->last_ms, r->last_ms);
    return TW_OK;
}

static struct skey key_ip(const struct tw_ip *ip)
{
    struct skey k;

    memset(&k, 0, sizeof(k));
    k.kind = ip->family;
    memcpy(k.bytes, ip->bytes, 16);
    return k;
}

static struct skey key_num(uint32_t v)
{
    struct skey k;

    memset(&k, 0, sizeof(k));
    k.kind = 1;
    memcpy(k.bytes, &v, sizeof(v));
    return k;
}

static uint32_t key_value(const struct skey *k)
{
    uint32_t v;

    memcpy(&v, k->bytes, sizeof(v));
    return v;
}

/* Counts r under the number v of a dense statistic (ports, protocols). */
static int stats_dense(struct stats *s, size_t size, uint32_t v, const struct tw_flowrec *r)
{
    struct sent *e;

    if (s->dense == NULL) {
        s->dense = tw_calloc(size, sizeof(*s->dense));
        if (s->dense == NULL)
            return TW_ENOMEM;
        s->n_dense = size;
    }
    e = &s->dense[v];
    if (!e->used) {
        e->used = true;
        e->key = key_num(v);
        e->first_ms = r->first_ms;
        e->last_ms = r->last_ms;
    }
    e->flows++;
    e->packets += r->packets;
    e->bytes += r->bytes;
    e->first_ms = TW_MIN(e->first_ms, r->first_ms);
    e->last_ms = TW_MAX(e->last_ms, r->last_ms);
    return TW_OK;
}

/* Counts record r under the element's key(s). */
static int stats_record(struct stats *s, enum stat_el el, const struct tw_flowrec *r)
{
    struct skey a, b;
    bool two = false;
    int rc;

    switch (el) {
        case ST_SRCPORT:
            return stats_dense(s, 65536, r->sport, r);
        case ST_DSTPORT:
            return stats_dense(s, 65536, r->dport, r);
        case ST_PORT:
            rc = stats_dense(s, 65536, r->sport, r);
            if (rc == TW_OK && r->dport != r->sport)
                rc = stats_dense(s, 65536, r->dport, r);
            return rc;
        case ST_PROTO:
            return stats_dense(s, 256, r->proto, r);
        default:
            break;
    }
    switch (el) {
        case ST_SRCIP:
            a = key_ip(&r->src);
            break;
        case ST_DSTIP:
            a = key_ip(&r->dst);
            break;
        case ST_IP:
            a = key_ip(&r->src);
            b = key_ip(&r->dst);
            two = memcmp(&a, &b, sizeof(a)) != 0;
            break;
        case ST_EXPORTER:
            a = key_ip(&r->exporter);
            break;
        case ST_INIF:
            a = key_num(r->in_if);
            break;
        default:
            a = key_num(r->out_if);
            break;
    }
    rc = stats_add(s, &a, r);
    if (rc == TW_OK && two)
        rc = stats_add(s, &b, r);
    return rc;
}

static enum stat_order sort_order;

static uint64_t metric(const struct sent *e)
{
    return sort_order == ORD_BYTES ? e->bytes : sort_order == ORD_PACKETS ? e->packets : e->flows;
}

static int cmp_sent(const void *pa, const void *pb)
{
    const struct sent *a = pa, *b = pb;
    uint64_t x = metric(a), y = metric(b);

    if (x != y)
        return x > y ? -1 : 1;
    return memcmp(&a->key, &b->key, sizeof(a->key));
}

/* ==== Formatting ==== */

/* "2025-03-01 10:00:00.123" (UTC). */
static void fmt_date(int64_t ms, char out[TW_TIME_STRLEN])
{
    struct tw_time t;
    char buf[TW_TIME_STRLEN];
    int n;

    t.sec = ms / 1000;
    t.nsec = (uint32_t)((ms % 1000 + 1000) % 1000) * 1000000u;
    if (ms < 0 && ms % 1000 != 0)
        t.sec--;
    t.frac_digits = 3;
    n = tw_time_format(&t, 3, buf);
    buf[10] = ' ';
    buf[n - 1] = '\0'; /* the Z */
    memcpy(out, buf, (size_t)n);
}

static const char *proto_name(uint8_t p, char buf[8])
{
    switch (p) {
        case 1:
            return "ICMP";
        case 2:
            return "IGMP";
        case 6:
            return "TCP";
        case 17:
            return "UDP";
        case 41:
            return "IPv6";
        case 47:
            return "GRE";
        case 50:
            return "ESP";
        case 51:
            return "AH";
        case 58:
            return "ICMP6";
        case 89:
            return "OSPF";
        case 132:
            return "SCTP";
        default:
            (void)snprintf(buf, 8, "%u", (unsigned)p);
            return buf;
    }
}

/* A count scaled as nfdump prints it: "1500", "12.3 M", "4.5 G" (powers of 1000). */
static void fmt_num(double v, char out[16])
{
    if (v >= 1e12)
        (void)snprintf(out, 16, "%.1f T", v / 1e12);
    else if (v >= 1e9)
        (void)snprintf(out, 16, "%.1f G", v / 1e9);
    else if (v >= 1e6)
        (void)snprintf(out, 16, "%.1f M", v / 1e6);
    else
        (void)snprintf(out, 16, "%.0f", v);
}

/* "10.0.0.1:443", or nfdump's "2001:db8::1.443" for IPv6. */
static void fmt_endpoint(const struct tw_ip *ip, uint16_t port, char out[64])
{
    char a[TW_IP_STRLEN];

    if (ip->family != 4 && ip->family != 6)
        memcpy(a, "-", 2);
    else
        (void)tw_ip_format(ip, a);
    (void)snprintf(out, 64, "%s%c%u", a, ip->family == 6 ? '.' : ':', (unsigned)port);
}

static void fmt_ip(const struct tw_ip *ip, char out[TW_IP_STRLEN])
{
    if (ip->family != 4 && ip->family != 6)
        memcpy(out, "", 1);
    else
        (void)tw_ip_format(ip, out);
}

static void print_line_header(FILE *out)
{
    fprintf(out, "%-23s %9s %-5s %32s    %-32s %8s %8s %5s\n", "Date first seen", "Duration",
            "Proto", "Src IP Addr:Port", "Dst IP Addr:Port", "Packets", "Bytes", "Flows");
}

static void print_line(FILE *out, const struct tw_flowrec *r)
{
    char date[TW_TIME_STRLEN], pbuf[8], src[64], dst[64], pk[16], by[16];

    fmt_date(r->first_ms, date);
    fmt_endpoint(&r->src, r->sport, src);
    fmt_endpoint(&r->dst, r->dport, dst);
    fmt_num((double)r->packets, pk);
    fmt_num((double)r->bytes, by);
    fprintf(out, "%-23s %9.3f %-5s %32s -> %-32s %8s %8s %5u\n", date,
            (double)(r->last_ms - r->first_ms) / 1000.0, proto_name(r->proto, pbuf), src, dst, pk,
            by, 1u);
}

static const char csv_header[] = "ts,te,td,sa,da,sp,dp,pr,flg,stos,ipkt,ibyt,in,out,sas,das,smk,"
                                 "dmk,nh,svln,ra,dom,src\n";

static const char *source_name(uint8_t s)
{
    switch (s) {
        case TW_FLOWREC_NFV5:
            return "netflow-v5";
        case TW_FLOWREC_NFV9:
            return "netflow-v9";
        case TW_FLOWREC_IPFIX:
            return "ipfix";
        case TW_FLOWREC_CAPTURE:
            return "capture";
        case TW_FLOWREC_NFDUMP:
            return "nfdump";
        default:
            return "unknown";
    }
}

/* nfdump's flag string: "........" with UAPRSF (C, E in front). */
static void fmt_flags(uint8_t f, char out[9])
{
    static const char letters[8] = { 'C', 'E', 'U', 'A', 'P', 'R', 'S', 'F' };

    for (int i = 0; i < 8; i++) {
        out[i] = '.';
        if ((f >> (7 - i)) & 1)
            out[i] = letters[i];
    }
    out[8] = '\0';
}

static void print_csv(FILE *out, const struct tw_flowrec *r)
{
    char ts[TW_TIME_STRLEN], te[TW_TIME_STRLEN], sa[TW_IP_STRLEN], da[TW_IP_STRLEN],
            nh[TW_IP_STRLEN], ra[TW_IP_STRLEN], flg[9];

    fmt_date(r->first_ms, ts);
    fmt_date(r->last_ms, te);
    fmt_ip(&r->src, sa);
    fmt_ip(&r->dst, da);
    fmt_ip(&r->nexthop, nh);
    fmt_ip(&r->exporter, ra);
    fmt_flags(r->tcp_flags, flg);
    fprintf(out, "%s,%s,%.3f,%s,%s,%u,%u,%u,%s,%u,%llu,%llu,%u,%u,%u,%u,%u,%u,%s,%u,%s,%u,%s\n", ts,
            te, (double)(r->last_ms - r->first_ms) / 1000.0, sa, da, (unsigned)r->sport,
            (unsigned)r->dport, (unsigned)r->proto, flg, (unsigned)r->tos,
            (unsigned long long)r->packets, (unsigned long long)r->bytes, (unsigned)r->in_if,
            (unsigned)r->out_if, (unsigned)r->src_as, (unsigned)r->dst_as, (unsigned)r->src_mask,
            (unsigned)r->dst_mask, nh, (unsigned)r->vlan, ra, (unsigned)r->domain,
            source_name(r->source));
}

/* An address as a JSON value: quoted text, or null when absent. */
static void json_ip(const struct tw_ip *ip, char out[TW_IP_STRLEN + 2])
{
    char a[TW_IP_STRLEN];

    if (ip->family != 4 && ip->family != 6) {
        memcpy(out, "null", 5);
        return;
    }
    (void)tw_ip_format(ip, a);
    (void)snprintf(out, TW_IP_STRLEN + 2, "\"%s\"", a);
}

static void print_json(FILE *out, const struct tw_flowrec *r, bool first)
{
    char ts[TW_TIME_STRLEN], te[TW_TIME_STRLEN], sa[TW_IP_STRLEN], da[TW_IP_STRLEN],
            nh[TW_IP_STRLEN + 2], ra[TW_IP_STRLEN + 2], flg[9];
    struct tw_time t;

    t.frac_digits = 3;
    t.sec = r->first_ms / 1000 - (r->first_ms % 1000 < 0);
    t.nsec = (uint32_t)((r->first_ms % 1000 + 1000) % 1000) * 1000000u;
    (void)tw_time_format(&t, 3, ts);
    t.sec = r->last_ms / 1000 - (r->last_ms % 1000 < 0);
    t.nsec = (uint32_t)((r->last_ms % 1000 + 1000) % 1000) * 1000000u;
    (void)tw_time_format(&t, 3, te);
    fmt_ip(&r->src, sa);
    fmt_ip(&r->dst, da);
    json_ip(&r->nexthop, nh);
    json_ip(&r->exporter, ra);
    fmt_flags(r->tcp_flags, flg);
    fprintf(out,
            "%s{\"first\":\"%s\",\"last\":\"%s\",\"proto\":%u,\"src_addr\":\"%s\",\"dst_addr\":"
            "\"%s\",\"src_port\":%u,\"dst_port\":%u,\"tcp_flags\":\"%s\",\"tos\":%u,\"packets\":"
            "%llu,\"bytes\":%llu,\"in_if\":%u,\"out_if\":%u,\"vlan\":%u,\"src_as\":%u,\"dst_as\":"
            "%u,\"src_mask\":%u,\"dst_mask\":%u,\"nexthop\":%s,\"exporter\":%s,"
            "\"domain\":%u,\"source\":\"%s\",\"sampling\":%u}",
            first ? "[\n" : ",\n", ts, te, (unsigned)r->proto, sa, da, (unsigned)r->sport,
            (unsigned)r->dport, flg, (unsigned)r->tos, (unsigned long long)r->packets,
            (unsigned long long)r->bytes, (unsigned)r->in_if, (unsigned)r->out_if,
            (unsigned)r->vlan, (unsigned)r->src_as, (unsigned)r->dst_as, (unsigned)r->src_mask,
            (unsigned)r->dst_mask, nh, ra, (unsigned)r->domain, source_name(r->source),
            (unsigned)r->sampling);
}

/* The key of a statistic row as text. */
static void fmt_key(enum stat_el el, const struct skey *k, char out[TW_IP_STRLEN])
{
    char pbuf[8];

    if (el == ST_PROTO) {
        (void)snprintf(out, TW_IP_STRLEN, "%s", proto_name((uint8_t)key_value(k), pbuf));
    } else if (k->kind == 1) {
        (void)snprintf(out, TW_IP_STRLEN, "%u", (unsigned)key_value(k));
    } else {
        struct tw_ip ip;
        ip.family = k->kind;
        memcpy(ip.bytes, k->bytes, 16);
        fmt_ip(&ip, out);
        if (out[0] == '\0')
            memcpy(out, "-", 2);
    }
}

/* ==== The scan ==== */

struct totals {
    uint64_t flows, packets, bytes;
    int64_t first_ms, last_ms;
    uint64_t files, files_skipped, files_bad, blocks, blocks_skipped, blocks_bad, records;
};

struct query {
    const struct qopts *o;
    const struct tw_flowfilter *filter;
    unsigned fcols, ocols;
    struct stats st;
    struct totals tot;
    FILE *out;
    bool first_json;
    bool done; /* the limit was reached */
    bool wide; /* the last block matched widely: read everything at once */
};

/* Copies the fields of the column groups `cols` from `from` into `to`. */
static void merge_cols(struct tw_flowrec *to, const struct tw_flowrec *from, unsigned cols)
{
    if (cols & TW_FARCH_COL_TIME) {
        to->first_ms = from->first_ms;
        to->last_ms = from->last_ms;
    }
    if (cols & TW_FARCH_COL_ADDR) {
        to->src = from->src;
        to->dst = from->dst;
    }
    if (cols & TW_FARCH_COL_PORTS) {
        to->sport = from->sport;
        to->dport = from->dport;
    }
    if (cols & TW_FARCH_COL_PROTO) {
        to->proto = from->proto;
        to->tcp_flags = from->tcp_flags;
        to->tos = from->tos;
    }
    if (cols & TW_FARCH_COL_COUNTERS) {
        to->packets = from->packets;
        to->bytes = from->bytes;
    }
    if (cols & TW_FARCH_COL_IFACE) {
        to->in_if = from->in_if;
        to->out_if = from->out_if;
        to->vlan = from->vlan;
    }
    if (cols & TW_FARCH_COL_ROUTING) {
        to->nexthop = from->nexthop;
        to->src_as = from->src_as;
        to->dst_as = from->dst_as;
        to->src_mask = from->src_mask;
        to->dst_mask = from->dst_mask;
    }
    if (cols & TW_FARCH_COL_EXPORTER) {
        to->exporter = from->exporter;
        to->domain = from->domain;
        to->source = from->source;
        to->sampling = from->sampling;
    }
}

/*
 * Writes the fields of the column groups `cols` of record j into r and leaves
 * the others alone (the filter pass reuses one record, zeroed once).
 */
static void fill_rec(const struct tw_farch_block *b, size_t j, unsigned cols, struct tw_flowrec *r)
{
    if (cols & TW_FARCH_COL_TIME) {
        r->first_ms = b->first_ms[j];
        r->last_ms = b->last_ms[j];
    }
    if (cols & TW_FARCH_COL_ADDR) {
        if (b->is_v6[j]) {
            r->src.family = r->dst.family = 6;
            memcpy(r->src.bytes, b->src6[j], 16);
            memcpy(r->dst.bytes, b->dst6[j], 16);
        } else {
            tw_ip_from_v4(&r->src, b->src4[j]);
            tw_ip_from_v4(&r->dst, b->dst4[j]);
        }
    }
    if (cols & TW_FARCH_COL_PORTS) {
        r->sport = b->sport[j];
        r->dport = b->dport[j];
    }
    if (cols & TW_FARCH_COL_PROTO) {
        r->proto = b->proto[j];
        r->tcp_flags = b->tcp_flags[j];
        r->tos = b->tos[j];
    }
    if (cols & TW_FARCH_COL_COUNTERS) {
        r->packets = b->packets[j];
        r->bytes = b->bytes[j];
    }
    if (cols & TW_FARCH_COL_IFACE) {
        r->in_if = b->in_if[j];
        r->out_if = b->out_if[j];
        r->vlan = b->vlan[j];
    }
    if (cols & ~(TW_FARCH_COL_TIME | TW_FARCH_COL_ADDR | TW_FARCH_COL_PORTS | TW_FARCH_COL_PROTO |
                       TW_FARCH_COL_COUNTERS | TW_FARCH_COL_IFACE)) {
        /* Routing and exporter: the rare ones, through the reader's own copy. */
        struct tw_flowrec all;
        tw_farch_block_record(b, j, &all);
        merge_cols(r, &all, cols & (TW_FARCH_COL_ROUTING | TW_FARCH_COL_EXPORTER));
    }
}

static bool in_window(const struct qopts *o, const struct tw_farch_summary *s)
{
    return s->records > 0 && s->last_ms >= o->from_ms && s->first_ms < o->to_ms;
}

/* One matching record, complete in the output's columns. */
static int emit(struct query *q, const struct tw_flowrec *r)
{
    struct totals *t = &q->tot;

    if (t->flows == 0 || r->first_ms < t->first_ms)
        t->first_ms = r->first_ms;
    if (t->flows == 0 || r->last_ms > t->last_ms)
        t->last_ms = r->last_ms;
    t->flows++;
    t->packets += r->packets;
    t->bytes += r->bytes;
    if (q->o->stat != ST_NONE) {
        int rc = stats_record(&q->st, q->o->stat, r);
        if (rc != TW_OK)
            return rc;
    } else if (q->o->fmt == OUT_CSV) {
        print_csv(q->out, r);
    } else if (q->o->fmt == OUT_JSON) {
        print_json(q->out, r, q->first_json);
        q->first_json = false;
    } else {
        print_line(q->out, r);
    }
    if (q->o->limit > 0 && t->flows >= q->o->limit)
        q->done = true;
    return TW_OK;
}

/* Scans block bi of reader rd. Returns TW_OK, TW_ENOMEM, TW_ELIMIT or a read error. */
static int scan_block(struct query *q, struct tw_farch_reader *rd, size_t bi, uint32_t **match,
        size_t *cap, struct tw_err *err)
{
    const struct qopts *o = q->o;
    const struct tw_farch_summary *s = tw_farch_block_summary(rd, bi);
    struct tw_farch_block b;
    bool check_time;
    unsigned cols1, cols2;
    size_t n_match = 0;
    int rc;

    if (s == NULL || !in_window(o, s) || !tw_flowfilter_may_match(q->filter, s)) {
        q->tot.blocks_skipped++;
        return TW_OK;
    }
    check_time = !(s->first_ms >= o->from_ms && s->last_ms < o->to_ms);
    cols1 = q->fcols | (check_time ? TW_FARCH_COL_TIME : 0);
    /* When most records matched last time, read the output's columns at once. */
    if (q->wide)
        cols1 |= q->ocols;
    if (cols1 == 0)
        cols1 = TW_FARCH_COL_TIME; /* something to learn the record count from */
    rc = tw_farch_read_block(rd, bi, cols1, &b, err);
    if (rc != TW_OK)
        return rc;
    q->tot.blocks++;
    q->tot.records += b.n;
    if (*cap < b.n) {
        uint32_t *m = tw_reallocarray(*match, b.n, sizeof(**match));
        if (m == NULL)
            return TW_ENOMEM;
        *match = m;
        *cap = b.n;
    }
    {
        struct tw_flowrec r;
        memset(&r, 0, sizeof(r));
        for (size_t j = 0; j < b.n; j++) {
            fill_rec(&b, j, cols1, &r);
            if (check_time && (r.last_ms < o->from_ms || r.first_ms >= o->to_ms))
                continue;
            if (tw_flowfilter_match(q->filter, &r))
                (*match)[n_match++] = (uint32_t)j;
        }
    }
    q->wide = n_match > b.n / 8;
    if (n_match == 0)
        return TW_OK;
    cols2 = q->ocols & ~cols1;
    if (cols2 == 0) {
        struct tw_flowrec r;
        memset(&r, 0, sizeof(r));
        for (size_t k = 0; k < n_match && !q->done; k++) {
            fill_rec(&b, (*match)[k], cols1, &r);
            if ((rc = emit(q, &r)) != TW_OK)
                return rc;
        }
        return TW_OK;
    }
    {
        /* The first read's arrays end with the next read: keep the matches' fields. */
        struct tw_flowrec *keep = tw_calloc(n_match, sizeof(*keep));
        struct tw_farch_block b2;
        if (keep == NULL)
            return TW_ENOMEM;
        for (size_t k = 0; k < n_match; k++)
            fill_rec(&b, (*match)[k], cols1, &keep[k]);
        rc = tw_farch_read_block(rd, bi, cols2, &b2, err);
        for (size_t k = 0; rc == TW_OK && k < n_match && !q->done; k++) {
            fill_rec(&b2, (*match)[k], cols2, &keep[k]);
            rc = emit(q, &keep[k]);
        }
        tw_free(keep);
    }
    return rc;
}

static int run_query(struct query *q, struct tw_err *err)
{
    const struct qopts *o = q->o;
    struct tw_farch_file *files = NULL;
    size_t n_files = 0, cap = 0;
    uint32_t *match = NULL;
    int rc;

    rc = tw_farch_list(o->archive, o->from_ms == INT64_MIN ? INT64_MIN : o->from_ms - LIST_SLACK_MS,
            o->to_ms == INT64_MAX ? INT64_MAX : o->to_ms + LIST_SLACK_MS, &files, &n_files, err);
    if (rc != TW_OK)
        return rc;
    q->tot.files = n_files;
    for (size_t f = 0; f < n_files && !q->done && rc == TW_OK; f++) {
        struct tw_farch_reader *rd = NULL;
        const struct tw_farch_summary *s;
        struct tw_err e;

        tw_err_clear(&e);
        if (tw_farch_reader_open(files[f].path, &rd, &e) != TW_OK) {
            tw_log(TW_LOG_WARN, "flows", "%s (file skipped)", e.msg);
            q->tot.files_bad++;
            continue;
        }
        s = tw_farch_reader_summary(rd);
        if (!in_window(o, s) || !tw_flowfilter_may_match(q->filter, s)) {
            q->tot.files_skipped++;
            tw_farch_reader_close(rd);
            continue;
        }
        for (size_t bi = 0; bi < tw_farch_reader_nblocks(rd) && !q->done; bi++) {
            tw_err_clear(&e);
            rc = scan_block(q, rd, bi, &match, &cap, &e);
            if (rc == TW_ENOMEM || rc == TW_ELIMIT) {
                (void)tw_err_set(err, rc, TW_NOPOS, "%s",
                        rc == TW_ELIMIT ? "too many distinct keys" : "out of memory");
                break;
            }
            if (rc != TW_OK) {
                tw_log(TW_LOG_WARN, "flows", "%s (block skipped)", e.msg);
                q->tot.blocks_bad++;
                rc = TW_OK;
            }
        }
        tw_farch_reader_close(rd);
    }
    tw_free(match);
    tw_farch_files_free(files, n_files);
    return rc;
}

/* ==== Output of statistics and the summary ==== */

static void print_stats(struct query *q)
{
    const struct qopts *o = q->o;
    static const char *const orders[] = { "flows", "packets", "bytes" };
    struct sent *rows = tw_calloc(q->st.n + q->st.n_dense + 1, sizeof(*rows));
    size_t n = 0, shown;
    const struct totals *t = &q->tot;

    if (rows == NULL)
        return;
    for (size_t i = 0; i < q->st.cap; i++)
        if (q->st.tab[i].used)
            rows[n++] = q->st.tab[i];
    for (size_t i = 0; i < q->st.n_dense; i++)
        if (q->st.dense[i].used)
            rows[n++] = q->st.dense[i];
    sort_order = o->order;
    qsort(rows, n, sizeof(*rows), cmp_sent);
    shown = o->top == 0 ? n : (size_t)TW_MIN((uint64_t)n, o->top);
    if (o->fmt == OUT_JSON)
        fputs("[", q->out);
    else if (o->fmt == OUT_CSV)
        fprintf(q->out, "ts,te,td,val,fl,flP,pkt,pktP,byt,bytP,pps,bps,bpp\n");
    else if (!o->quiet)
        fprintf(q->out, "Top %zu %s ordered by %s:\n%-23s %9s %39s %14s %14s %14s %8s %8s %6s\n",
                shown, stat_els[o->stat_row].title, orders[o->order], "Date first seen", "Duration",
                stat_els[o->stat_row].title, "Flows(%)", "Packets(%)", "Bytes(%)", "pps", "bps",
                "bpp");
    for (size_t i = 0; i < shown; i++) {
        const struct sent *e = &rows[i];
        double dur = (double)(e->last_ms - e->first_ms) / 1000.0;
        double pf = t->flows ? 100.0 * (double)e->flows / (double)t->flows : 0;
        double pp = t->packets ? 100.0 * (double)e->packets / (double)t->packets : 0;
        double pb = t->bytes ? 100.0 * (double)e->bytes / (double)t->bytes : 0;
        double pps = dur > 0 ? (double)e->packets / dur : 0;
        double bps = dur > 0 ? 8.0 * (double)e->bytes / dur : 0;
        unsigned long long bpp = e->packets ? e->bytes / e->packets : 0;
        char key[TW_IP_STRLEN], date[TW_TIME_STRLEN], date2[TW_TIME_STRLEN];

        fmt_key(o->stat, &e->key, key);
        fmt_date(e->first_ms, date);
        if (o->fmt == OUT_JSON) {
            fmt_date(e->last_ms, date2);
            fprintf(q->out,
                    "%s\n{\"first\":\"%s\",\"last\":\"%s\",\"%s\":\"%s\",\"flows\":%llu,"
                    "\"packets\":%llu,\"bytes\":%llu,\"flows_pct\":%.2f,\"packets_pct\":%.2f,"
                    "\"bytes_pct\":%.2f,\"pps\":%.0f,\"bps\":%.0f,\"bpp\":%llu}",
                    i ? "," : "", date, date2, stat_els[o->stat_row].name, key,
                    (unsigned long long)e->flows, (unsigned long long)e->packets,
                    (unsigned long long)e->bytes, pf, pp, pb, pps, bps, bpp);
        } else if (o->fmt == OUT_CSV) {
            fmt_date(e->last_ms, date2);
            fprintf(q->out, "%s,%s,%.3f,%s,%llu,%.1f,%llu,%.1f,%llu,%.1f,%.0f,%.0f,%llu\n", date,
                    date2, dur, key, (unsigned long long)e->flows, pf,
                    (unsigned long long)e->packets, pp, (unsigned long long)e->bytes, pb, pps, bps,
                    bpp);
        } else {
            char fl[16], pk[16], by[16], ps[16], bs[16];
            fmt_num((double)e->flows, fl);
            fmt_num((double)e->packets, pk);
            fmt_num((double)e->bytes, by);
            fmt_num(pps, ps);
            fmt_num(bps, bs);
            fprintf(q->out, "%-23s %9.3f %39s %8s(%4.1f) %8s(%4.1f) %8s(%4.1f) %8s %8s %6llu\n",
                    date, dur, key, fl, pf, pk, pp, by, pb, ps, bs, bpp);
        }
    }
    if (o->fmt == OUT_JSON)
        fputs(shown ? "\n]\n" : "]\n", q->out);
    tw_free(rows);
}

static void print_summary(const struct query *q, FILE *out, double secs)
{
    const struct totals *t = &q->tot;
    char by[16], pk[16], bps[16], pps[16], first[TW_TIME_STRLEN], last[TW_TIME_STRLEN];
    double span = t->flows ? (double)(t->last_ms - t->first_ms) / 1000.0 : 0;

    fmt_num((double)t->bytes, by);
    fmt_num((double)t->packets, pk);
    fmt_num(span > 0 ? 8.0 * (double)t->bytes / span : 0, bps);
    fmt_num(span > 0 ? (double)t->packets / span : 0, pps);
    fprintf(out,
            "Summary: total flows: %llu, total bytes: %s, total packets: %s, avg bps: %s, avg "
            "pps: %s, avg bpp: %llu\n",
            (unsigned long long)t->flows, by, pk, bps, pps,
            (unsigned long long)(t->packets ? t->bytes / t->packets : 0));
    if (t->flows > 0) {
        fmt_date(t->first_ms, first);
        fmt_date(t->last_ms, last);
        fprintf(out, "Time window: %s - %s\n", first, last);
    }
    fprintf(out,
            "Total flows processed: %llu, files: %llu (%llu skipped, %llu unreadable), blocks "
            "read: %llu (%llu skipped, %llu unreadable), time: %.3f s\n",
            (unsigned long long)t->records, (unsigned long long)t->files,
            (unsigned long long)t->files_skipped, (unsigned long long)t->files_bad,
            (unsigned long long)t->blocks, (unsigned long long)t->blocks_skipped,
            (unsigned long long)t->blocks_bad, secs);
}

/* ==== The command ==== */

static int parse_stat(const char *text, struct qopts *o)
{
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);

    o->stat = ST_NONE;
    for (size_t i = 0; i < TW_ARRAY_LEN(stat_els); i++) {
        if (strlen(stat_els[i].name) == len && strncmp(stat_els[i].name, text, len) == 0) {
            o->stat = stat_els[i].el;
            o->stat_row = i;
        }
    }
    if (o->stat == ST_NONE)
        return TW_EINVAL;
    o->order = ORD_FLOWS;
    if (slash == NULL || strcmp(slash + 1, "flows") == 0)
        return TW_OK;
    if (strcmp(slash + 1, "packets") == 0)
        o->order = ORD_PACKETS;
    else if (strcmp(slash + 1, "bytes") == 0)
        o->order = ORD_BYTES;
    else
        return TW_EINVAL;
    return TW_OK;
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses the options; the filter words are left at argv[optind..]. -1: help printed. */
static int parse_args(int argc, char **argv, struct qopts *o)
{
    static const struct option lopts[] = { { "archive", required_argument, NULL, 'a' },
        { "from", required_argument, NULL, 'F' }, { "to", required_argument, NULL, 't' },
        { "stat", required_argument, NULL, 's' }, { "top", required_argument, NULL, 'n' },
        { "output", required_argument, NULL, 'o' }, { "limit", required_argument, NULL, 'c' },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch flows query";
    int c;

    while ((c = getopt_long(argc, argv, "a:s:n:o:c:qh", lopts, NULL)) != -1) {
        switch (c) {
            case 'a':
                o->archive = optarg;
                break;
            case 'F':
            case 't':
                if (tw_flows_parse_time(optarg, c == 'F' ? &o->from_ms : &o->to_ms) != TW_OK)
                    return tw_cli_usage_error(
                            prog, "bad time '%s' for --%s", optarg, c == 'F' ? "from" : "to");
                break;
            case 's':
                if (parse_stat(optarg, o) != TW_OK)
                    return tw_cli_usage_error(prog,
                            "bad statistic '%s' (srcip, dstip, ip, srcport, dstport, port, "
                            "proto, exporter, inif, outif; /flows, /packets or /bytes)",
                            optarg);
                break;
            case 'n':
            case 'c':
                if (tw_parse_u64(tw_str_cstr(optarg), UINT64_MAX, c == 'n' ? &o->top : &o->limit) !=
                        TW_OK)
                    return tw_cli_usage_error(prog, "bad number '%s' for -%c", optarg, c);
                break;
            case 'o':
                if (strcmp(optarg, "line") == 0)
                    o->fmt = OUT_LINE;
                else if (strcmp(optarg, "csv") == 0)
                    o->fmt = OUT_CSV;
                else if (strcmp(optarg, "json") == 0)
                    o->fmt = OUT_JSON;
                else
                    return tw_cli_usage_error(prog, "bad output '%s' (line, csv or json)", optarg);
                break;
            case 'q':
                o->quiet = true;
                break;
            case 'h':
                fputs(flows_query_help, stdout);
                return -1;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (o->archive == NULL)
        return tw_cli_usage_error(prog, "no --archive");
    if (o->from_ms >= o->to_ms)
        return tw_cli_usage_error(prog, "--from must be before --to");
    return TW_EXIT_OK;
}

int tw_flows_query(int argc, char **argv)
{
    static const char *const prog = "tidewatch flows query";
    struct qopts o;
    struct query q;
    struct tw_flowfilter *filter = NULL;
    struct tw_buf expr;
    struct tw_err err;
    double t0;
    int status, rc;

    memset(&o, 0, sizeof(o));
    o.from_ms = INT64_MIN;
    o.to_ms = INT64_MAX;
    o.top = 10;
    status = parse_args(argc, argv, &o);
    if (status != TW_EXIT_OK)
        return status < 0 ? TW_EXIT_OK : status;
    tw_buf_init(&expr, QUERY_MAX_FILTER);
    rc = TW_OK;
    for (int i = optind; i < argc && rc == TW_OK; i++) {
        if (i > optind)
            rc = tw_buf_putc(&expr, ' ');
        if (rc == TW_OK)
            rc = tw_buf_puts(&expr, argv[i]);
    }
    if (rc == TW_OK && expr.len == 0)
        rc = tw_buf_puts(&expr, "any");
    tw_err_clear(&err);
    if (rc != TW_OK || tw_flowfilter_parse(expr.ptr, &filter, &err) != TW_OK) {
        if (rc == TW_OK) {
            size_t at = err.offset != TW_NOPOS && err.offset <= expr.len ? err.offset : 0;
            fprintf(stderr, "%s: bad filter: %s\n  %s\n  %*s^\n", prog, err.msg, expr.ptr,
                    (int)TW_MIN(at, (size_t)200), "");
        }
        tw_buf_cleanup(&expr);
        return rc == TW_OK ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    }
    tw_buf_cleanup(&expr);
    memset(&q, 0, sizeof(q));
    q.o = &o;
    q.filter = filter;
    q.fcols = tw_flowfilter_columns(filter);
    q.out = stdout;
    q.first_json = true;
    if (o.stat != ST_NONE)
        q.ocols = TW_FARCH_COL_TIME | TW_FARCH_COL_COUNTERS | stat_els[o.stat_row].cols;
    else
        q.ocols = TW_FARCH_COL_ALL;
    if (o.stat == ST_NONE && !o.quiet) {
        if (o.fmt == OUT_LINE)
            print_line_header(q.out);
        else if (o.fmt == OUT_CSV)
            fputs(csv_header, q.out);
    }
    t0 = mono();
    tw_err_clear(&err);
    rc = run_query(&q, &err);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
    } else {
        if (o.stat != ST_NONE)
            print_stats(&q);
        else if (o.fmt == OUT_JSON)
            fputs(q.first_json ? "[]\n" : "\n]\n", q.out);
        /* Machine-readable output keeps the summary out of its way. */
        if (!o.quiet)
            print_summary(&q, o.fmt == OUT_LINE ? q.out : stderr, mono() - t0);
        status = q.tot.flows > 0 ? TW_EXIT_OK : TW_EXIT_FINDINGS;
    }
    tw_free(q.st.tab);
    tw_free(q.st.dense);
    tw_flowfilter_free(filter);
    return status;
}
