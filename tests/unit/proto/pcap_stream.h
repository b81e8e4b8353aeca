/*
 * pcap_stream.h: rebuilds one direction of a TCP connection from a classic
 * pcap file, for the proto tests that check parsers against real captures.
 *
 * The test may not link libpcap, and needs little of it: the classic format
 * is a 24-byte global header (magic 0xa1b2c3d4 or 0xa1b23c4d, either byte
 * order; link type at offset 20) and, per packet, a 16-byte record header
 * (seconds, fraction, captured length, original length) then the bytes. Only
 * Ethernet (link type 1), optional 802.1Q tags, IPv4 and TCP are walked.
 * Payload bytes are appended in sequence order; a segment that does not start
 * at the next expected sequence number (a retransmission) is skipped.
 */
#ifndef PCAP_STREAM_H
#define PCAP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t pcs_rd32(const uint8_t *p, bool swap)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

    if (swap)
        v = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    return v;
}

/*
 * Appends to out[0..cap) the TCP payload of packets whose source port is
 * sport (when sport != 0) and destination port is dport (when dport != 0).
 * Returns the number of bytes written, or -1 when the file is not a pcap this
 * walker reads.
 */
static inline long pcs_tcp_stream(
        const uint8_t *f, size_t flen, uint16_t sport, uint16_t dport, uint8_t *out, size_t cap)
{
    size_t off = 24, n = 0;
    bool swap, have_seq = false;
    uint32_t magic, next_seq = 0;

    if (flen < 24)
        return -1;
    magic = pcs_rd32(f, false);
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
        swap = false;
    else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
        swap = true;
    else
        return -1;
    if (pcs_rd32(f + 20, swap) != 1)
        return -1;
    while (flen - off >= 16) {
        size_t caplen = pcs_rd32(f + off + 8, swap);
        const uint8_t *pk = f + off + 16;
        size_t l2 = 14, ihl, thl, plen;
        uint16_t et, sp, dp;
        uint32_t seq;

        if (caplen > flen - off - 16)
            break;
        off += 16 + caplen;
        if (caplen < 14)
            continue;
        et = (uint16_t)(pk[12] << 8 | pk[13]);
        while (et == 0x8100 && caplen >= l2 + 4) {
            et = (uint16_t)(pk[l2 + 2] << 8 | pk[l2 + 3]);
            l2 += 4;
        }
        if (et != 0x0800 || caplen < l2 + 20 || pk[l2 + 9] != 6)
            continue;
        ihl = (size_t)(pk[l2] & 0xf) * 4;
        plen = (size_t)(pk[l2 + 2] << 8 | pk[l2 + 3]);
        if (ihl < 20 || plen > caplen - l2 || plen < ihl + 20)
            continue;
        thl = (size_t)(pk[l2 + ihl + 12] >> 4) * 4;
        if (thl < 20 || plen < ihl + thl)
            continue;
        sp = (uint16_t)(pk[l2 + ihl] << 8 | pk[l2 + ihl + 1]);
        dp = (uint16_t)(pk[l2 + ihl + 2] << 8 | pk[l2 + ihl + 3]);
        if ((sport != 0 && sp != sport) || (dport != 0 && dp != dport))
            continue;
        seq = (uint32_t)pk[l2 + ihl + 4] << 24 | (uint32_t)pk[l2 + ihl + 5] << 16 |
              (uint32_t)pk[l2 + ihl + 6] << 8 | pk[l2 + ihl + 7];
        plen -= ihl + thl;
        if (plen == 0)
            continue;
        if (have_seq && seq != next_seq)
            continue;
        if (plen > cap - n)
            return -1;
        memcpy(out + n, pk + l2 + ihl + thl, plen);
        n += plen;
        next_seq = seq + (uint32_t)plen;
        have_seq = true;
    }
    return (long)n;
}

#endif
