/*
 * gen.h: the pieces of tw_pcapgen, the project's own capture generator.
 *
 * tw_pcapgen writes packets byte by byte without the project's decoders, so
 * that the captures it makes can test them. A packet is built from the inside
 * out in a struct gen_pkt: the application payload first, then each header is
 * prepended in front of what is already there, so every header knows the
 * length (and, for checksums, the bytes) of what it carries. An encapsulation
 * is data, a struct gen_encap listing the outer headers outermost first;
 * gen_wrap() prepends them all. When a packet records its layers (case mode),
 * each prepend also writes a JSON object describing the header, which becomes
 * the packet's "layers" list in the case's expectation file.
 *
 * gen_pkt.c holds the builder, checksums and the pcap writer; gen_app.c the
 * application payloads (DNS, TLS ClientHello with JA3/JA4, HTTP, SSH);
 * gen_cases.c the fixture cases and their STIX bundle; gen_bench.c the large
 * benchmark capture and bundle; pcapgen.c the command line.
 */
#ifndef TW_GEN_H
#define TW_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/addr.h"
#include "tidewatch/buf.h"

/* ==== Packet builder ==== */

#define GEN_HEADROOM   1024 /* room for every outer header in front of the payload */
#define GEN_PKT_MAX    9216 /* largest payload a packet may carry */
#define GEN_MAX_LAYERS 16
#define GEN_LAYER_TEXT 256 /* one layer's JSON object */

/* Header kinds, both for encapsulation specs and for recorded layers. */
enum gen_kind {
    GK_NONE = 0,
    GK_ETH,
    GK_VLAN, /* 802.1Q (tpid 0x8100) or 802.1ad (0x88a8) tag */
    GK_MPLS,
    GK_PWCW, /* pseudowire control word (RFC 4385), then Ethernet */
    GK_PPPOE,
    GK_IPV4,
    GK_IPV6,
    GK_GRE,
    GK_ERSPAN2,
    GK_ERSPAN3,
    GK_UDP,
    GK_VXLAN,
    GK_GTPU,
    GK_SLL,
    GK_SLL2,
    GK_NULL, /* BSD loopback */
    GK_TCP,
    GK_ICMP,
    GK_ICMPV6,
    GK_SCTP,
};

/* The layers one packet recorded, outermost first in text[first .. GEN_MAX_LAYERS). */
struct gen_rec {
    int first;
    uint8_t kind[GEN_MAX_LAYERS];
    char text[GEN_MAX_LAYERS][GEN_LAYER_TEXT];
};

struct gen_pkt {
    uint8_t buf[GEN_HEADROOM + GEN_PKT_MAX];
    size_t off;          /* first byte of the packet so far */
    size_t end;          /* one past its last byte */
    struct gen_rec *rec; /* layer descriptions, or NULL (bench mode) */
};

/* Empties p; rec (may be NULL) receives the layers prepended from now on. */
void gen_pkt_init(struct gen_pkt *p, struct gen_rec *rec);
static inline uint8_t *gen_pkt_data(struct gen_pkt *p)
{
    return p->buf + p->off;
}
static inline size_t gen_pkt_len(const struct gen_pkt *p)
{
    return p->end - p->off;
}
/* Appends n payload bytes at the end (only before any header is prepended). */
void gen_pkt_put(struct gen_pkt *p, const void *data, size_t n);
/* Makes room for n bytes in front and returns a pointer to them. */
uint8_t *gen_pkt_push(struct gen_pkt *p, size_t n);
/* Records a layer description (printf-style JSON members, without braces). */
void gen_rec_layer(struct gen_pkt *p, enum gen_kind kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Big-endian stores. */
static inline void gen_be16(uint8_t *d, uint32_t v)
{
    d[0] = (uint8_t)(v >> 8);
    d[1] = (uint8_t)v;
}
static inline void gen_be32(uint8_t *d, uint32_t v)
{
    d[0] = (uint8_t)(v >> 24);
    d[1] = (uint8_t)(v >> 16);
    d[2] = (uint8_t)(v >> 8);
    d[3] = (uint8_t)v;
}

/* Internet checksum helpers (RFC 1071): a running 32-bit sum, then folding. */
uint32_t gen_csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t gen_csum_fold(uint32_t sum);
/* The pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 or IPv6. */
uint32_t gen_pseudo_sum(
        const struct tw_ip *src, const struct tw_ip *dst, uint8_t proto, size_t len);
/* CRC-32C (Castagnoli) as SCTP uses it. */
uint32_t gen_crc32c(const uint8_t *p, size_t n);

/* ==== Headers ==== */

/* TCP flag bits. */
#define GEN_FIN 0x01
#define GEN_SYN 0x02
#define GEN_RST 0x04
#define GEN_PSH 0x08
#define GEN_ACK 0x10

void gen_tcp(struct gen_pkt *p, const struct tw_ip *src, const struct tw_ip *dst, uint16_t sport,
        uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags);
void gen_udp(struct gen_pkt *p, const struct tw_ip *src, const struct tw_ip *dst, uint16_t sport,
        uint16_t dport);
/* IPv4 with optional options (a multiple of 4 bytes); frag_off in bytes, mf = more fragments. */
void gen_ipv4(struct gen_pkt *p, const struct tw_ip *src, const struct tw_ip *dst, uint8_t proto,
        uint16_t id, const uint8_t *opts, size_t opts_len, unsigned frag_off, bool mf);
/* IPv6; when ext is true a hop-by-hop and a destination options header come first. */
void gen_ipv6(
        struct gen_pkt *p, const struct tw_ip *src, const struct tw_ip *dst, uint8_t nh, bool ext);
/* An IPv6 fragment header in front of what is there (call before gen_ipv6 with nh 44). */
void gen_ipv6_frag(struct gen_pkt *p, uint8_t nh, unsigned frag_off, bool mf, uint32_t ident);
void gen_eth(struct gen_pkt *p, const uint8_t dst[6], const uint8_t src[6], uint16_t ethertype);

/* ==== Encapsulations ==== */

/* One outer header of an encapsulation; the fields used depend on kind. */
struct gen_hdr {
    uint8_t kind;          /* enum gen_kind */
    bool noswap;           /* keep src/dst as written for replies (mirror sessions) */
    uint16_t tpid;         /* GK_VLAN: 0x8100 or 0x88a8 */
    uint16_t vid;          /* GK_VLAN; GK_ERSPAN*: the mirrored VLAN */
    uint32_t label;        /* GK_MPLS */
    uint16_t session;      /* GK_PPPOE, GK_ERSPAN* */
    struct tw_ip src, dst; /* GK_IPV4, GK_IPV6 */
    bool has_key, has_seq; /* GK_GRE */
    uint32_t key, seq;     /* GK_GRE; seq also for ERSPAN's GRE */
    uint16_t sport, dport; /* GK_UDP */
    uint32_t vni;          /* GK_VXLAN */
    uint32_t teid;         /* GK_GTPU, client to server (uplink) */
    uint32_t teid_rev;     /* GK_GTPU, server to client (downlink) */
    bool gtp_ext;          /* GK_GTPU: add a PDU session container extension */
    uint8_t mac_a[6];      /* GK_ETH: source for client-to-server packets */
    uint8_t mac_b[6];
};

#define GEN_MAX_ENCAP 12

struct gen_encap {
    uint32_t linktype; /* pcap LINKTYPE_* */
    int n;
    struct gen_hdr h[GEN_MAX_ENCAP]; /* outermost first */
};

/*
 * Prepends every header of e in front of the inner IP packet in p (whose
 * family is inner_family, 4 or 6). dir 0 is client to server, 1 the reply:
 * replies swap outer addresses, MACs and ports unless a header says noswap,
 * and GTP-U uses teid_rev. seq_no numbers GRE sequence fields.
 */
void gen_wrap(
        struct gen_pkt *p, const struct gen_encap *e, int dir, int inner_family, uint32_t seq_no);

/* ==== pcap writer ==== */

#define GEN_LINK_NULL 0
#define GEN_LINK_ETH  1
#define GEN_LINK_RAW  101
#define GEN_LINK_SLL  113
#define GEN_LINK_IPV4 228
#define GEN_LINK_SLL2 276

/* Appends the pcap file header (microsecond, little-endian) to b. */
int gen_pcap_header(struct tw_buf *b, uint32_t linktype);
/* Appends one record with its timestamp in microseconds since the epoch. */
int gen_pcap_record(struct tw_buf *b, int64_t ts_us, const uint8_t *data, size_t len);

/* ==== Application payloads ==== */

/* A DNS resource record in a response. */
struct gen_dns_rr {
    const char *name;
    uint16_t type;    /* 1 A, 5 CNAME, 28 AAAA */
    const char *data; /* address text or target name */
};

/* Writes a DNS query (rr == NULL) or response into out; returns its length. */
size_t gen_dns_msg(uint8_t *out, size_t cap, uint16_t id, const char *qname, uint16_t qtype,
        const struct gen_dns_rr *rr, size_t n_rr);

/* The two ClientHello fingerprints the cases use. */
enum gen_hello { GEN_HELLO_BROWSER, GEN_HELLO_IMPLANT };

/*
 * Writes a TLS record holding a ClientHello for sni into out and returns its
 * length. ja3 (>= 512 bytes) receives the JA3 string, ja3_md5 (33 bytes) its
 * MD5 in hex, ja4 (>= 48 bytes) the JA4 fingerprint; any may be NULL.
 */
size_t gen_tls_client_hello(uint8_t *out, size_t cap, enum gen_hello kind, const char *sni,
        uint32_t seed, char *ja3, char *ja3_md5, char *ja4);
/* A short ServerHello-shaped record, enough for the server side of a flow. */
size_t gen_tls_server_hello(uint8_t *out, size_t cap, uint32_t seed);

/* ==== Commands ==== */

int gen_cmd_cases(const char *outdir);
/* Writes the demonstration capture of `tidewatch demo` (samples/pcap/). */
int gen_cmd_demo(const char *path);
int gen_cmd_intel(const char *path);
int gen_cmd_bench(const char *path, uint64_t size, uint64_t seed, unsigned bad_sites);
int gen_cmd_bench_intel(const char *path, unsigned n_indicators, double hit_rate, uint64_t seed);

/* Writes n bytes to path (created or truncated). Returns 0 or -1 after printing why. */
int gen_write_file(const char *path, const void *data, size_t n);

#endif
