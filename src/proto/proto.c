/*
 * proto.c: protocol guess from a stream's first bytes; see include/tidewatch/proto.h.
 *
 * Each test looks only at fixed offsets near the start, so a guess costs a few
 * comparisons. The order matters little since the signatures do not overlap:
 * TLS starts with 0x16 0x03, SSH with "SSH-", HTTP with an upper-case method
 * and a space, and DNS over TCP with a length whose header fields agree with it.
 */
#include "tidewatch/proto.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ==== Static helpers ==== */

static bool looks_tls(const uint8_t *p, size_t len)
{
    /* handshake record, version 3.0..3.4, and (when present) a hello type */
    if (len < 3 || p[0] != 0x16 || p[1] != 0x03 || p[2] > 0x04)
        return false;
    return len < 6 || p[5] == 0x01 || p[5] == 0x02;
}

static bool looks_http(const uint8_t *p, size_t len)
{
    static const char *const starts[] = { "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ",
        "CONNECT ", "TRACE ", "PATCH ", "HTTP/1." };

    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        size_t n = strlen(starts[i]);

        if (len >= n && memcmp(p, starts[i], n) == 0)
            return true;
    }
    return false;
}

static bool looks_dns_tcp(const uint8_t *p, size_t len)
{
    size_t mlen, rr;
    unsigned opcode, qd;

    if (len < 14)
        return false;
    mlen = (size_t)p[0] << 8 | p[1];
    if (mlen < 12 + 5) /* header and at least the root name, qtype and qclass */
        return false;
    opcode = (p[4] >> 3) & 0xfu;
    if (opcode != 0 && opcode != 1 && opcode != 2 && opcode != 4 && opcode != 5)
        return false;
    if ((p[5] & 0x40) != 0) /* the Z bit is zero */
        return false;
    if (len < 14 + 8)
        return false;
    qd = (unsigned)p[6] << 8 | p[7];
    rr = ((size_t)p[8] << 8 | p[9]) + ((size_t)p[10] << 8 | p[11]) + ((size_t)p[12] << 8 | p[13]);
    /* one question (UPDATE: one zone) and no more records than the length allows */
    return qd == 1 && 12 + 5 + rr * 11 <= mlen;
}

/* ==== Public API ==== */

enum tw_proto tw_proto_guess(const uint8_t *p, size_t len)
{
    if (len == 0 || p == NULL)
        return TW_PROTO_UNKNOWN;
    if (looks_tls(p, len))
        return TW_PROTO_TLS;
    if (len >= 4 && memcmp(p, "SSH-", 4) == 0)
        return TW_PROTO_SSH;
    if (looks_http(p, len))
        return TW_PROTO_HTTP;
    if (looks_dns_tcp(p, len))
        return TW_PROTO_DNS_TCP;
    return TW_PROTO_UNKNOWN;
}

const char *tw_proto_name(enum tw_proto proto)
{
    switch (proto) {
        case TW_PROTO_TLS:
            return "tls";
        case TW_PROTO_HTTP:
            return "http";
        case TW_PROTO_SSH:
            return "ssh";
        case TW_PROTO_DNS_TCP:
            return "dns";
        case TW_PROTO_UNKNOWN:
            break;
    }
    return "unknown";
}
