/*
 * dns.c: DNS message parser (RFC 1035); see include/tidewatch/dns.h.
 *
 * Every read goes through a length check against the message end first, so
 * no input can make the parser read outside p[0..len). Names are decoded by
 * one function, read_name(), which follows compression pointers with two
 * independent bounds: at most TW_DNS_MAX_JUMPS pointers and at most 255 bytes
 * of wire name, so a pointer loop ends in TW_EINVAL after bounded work.
 *
 * Header (RFC 1035 section 4.1.1), all fields big-endian:
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       2     ID
 *   2       2     flags: QR(1) OPCODE(4) AA(1) TC(1) RD(1) RA(1) Z(1) AD(1) CD(1) RCODE(4)
 *   4       2     QDCOUNT, questions
 *   6       2     ANCOUNT, answer records
 *   8       2     NSCOUNT, authority records
 *   10      2     ARCOUNT, additional records
 *
 * Question: QNAME (name), QTYPE (2), QCLASS (2).
 * Record:   NAME (name), TYPE (2), CLASS (2), TTL (4), RDLENGTH (2), RDATA.
 * Name:     labels, each a length byte 1..63 and its bytes, ending in a zero
 *           byte or in a two-byte pointer (top bits 11, 14-bit offset).
 */
#include "tidewatch/dns.h"

#include <stdint.h>
#include <string.h>

#include "tidewatch/common.h"

/* ==== Static helpers ==== */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Appends one label byte to out in the escaped, lowercase presentation form. */
static size_t put_label_byte(char *out, size_t o, uint8_t c)
{
    if (c == '.' || c == '\\') {
        out[o++] = '\\';
        out[o++] = (char)c;
    } else if (c < 0x21 || c > 0x7e) {
        out[o++] = '\\';
        out[o++] = (char)('0' + c / 100);
        out[o++] = (char)('0' + (c / 10) % 10);
        out[o++] = (char)('0' + c % 10);
    } else {
        out[o++] = tw_ascii_lower((char)c);
    }
    return o;
}

/*
 * Decodes the name at p[off] into out (TW_DNS_NAME_STRLEN bytes, normalised,
 * NUL-terminated) and *out_len, and stores in *next the offset just after the
 * name's bytes at its original position (after the first pointer when there
 * is one). The whole message p[0..len) is the base for pointers.
 */
static int read_name(const uint8_t *p, size_t len, size_t off, char *out, uint16_t *out_len,
        size_t *next, struct tw_err *err)
{
    size_t pos = off;
    size_t o = 0;
    size_t wire = 0; /* wire bytes of the name so far, length bytes included */
    unsigned jumps = 0;
    bool jumped = false;

    for (;;) {
        uint8_t c;

        if (pos >= len)
            return TW_E_HERE(err, TW_ETRUNC, pos, "dns: name runs past the end");
        c = p[pos];
        if (c == 0) {
            if (!jumped)
                *next = pos + 1;
            break;
        }
        if ((c & 0xc0) == 0xc0) {
            size_t target;

            if (pos + 1 >= len)
                return TW_E_HERE(err, TW_ETRUNC, pos, "dns: compression pointer cut short");
            target = (size_t)(c & 0x3f) << 8 | p[pos + 1];
            if (!jumped)
                *next = pos + 2;
            jumped = true;
            if (++jumps > TW_DNS_MAX_JUMPS)
                return TW_E_HERE(err, TW_EINVAL, pos, "dns: too many compression pointers");
            if (target >= len)
                return TW_E_HERE(err, TW_ETRUNC, pos, "dns: compression pointer past the end");
            pos = target;
            continue;
        }
        if ((c & 0xc0) != 0)
            return TW_E_HERE(err, TW_EINVAL, pos, "dns: unsupported label type 0x%02x", c);
        wire += 1u + c;
        if (wire + 1 > TW_DNS_NAME_WIRE_MAX)
            return TW_E_HERE(err, TW_EINVAL, pos, "dns: name longer than 255 bytes");
        if (pos + 1 + c > len)
            return TW_E_HERE(err, TW_ETRUNC, pos, "dns: label runs past the end");
        if (o > 0)
            out[o++] = '.';
        for (size_t i = 0; i < c; i++)
            o = put_label_byte(out, o, p[pos + 1 + i]);
        pos += 1u + c;
    }
    /* 254 wire bytes of content give at most 253 bytes of which each takes <= 4 chars. */
    out[o] = '\0';
    *out_len = (uint16_t)o;
    return TW_OK;
}

/* Decodes the data of a record whose bytes are p[rd..rd+rdlen), already within len. */
static int read_rdata(
        const uint8_t *p, size_t len, size_t rd, struct tw_dns_rr *rr, struct tw_err *err)
{
    size_t rdlen = rr->rdlength;
    size_t next = 0;
    int rc;

    switch (rr->rrtype) {
        case TW_DNS_TYPE_A:
            if (rdlen != 4)
                return TW_E_HERE(err, TW_EINVAL, rd, "dns: A record of %zu bytes", rdlen);
            memset(&rr->addr, 0, sizeof(rr->addr));
            rr->addr.family = 4;
            memcpy(rr->addr.bytes, p + rd, 4);
            rr->kind = TW_DNS_RDATA_ADDR;
            return TW_OK;
        case TW_DNS_TYPE_AAAA:
            if (rdlen != 16)
                return TW_E_HERE(err, TW_EINVAL, rd, "dns: AAAA record of %zu bytes", rdlen);
            memset(&rr->addr, 0, sizeof(rr->addr));
            rr->addr.family = 6;
            memcpy(rr->addr.bytes, p + rd, 16);
            rr->kind = TW_DNS_RDATA_ADDR;
            return TW_OK;
        case TW_DNS_TYPE_MX:
            if (rdlen < 3)
                return TW_E_HERE(err, TW_EINVAL, rd, "dns: MX record of %zu bytes", rdlen);
            rr->pref = rd16(p + rd);
            rd += 2;
            rdlen -= 2;
            TW_FALLTHROUGH;
        case TW_DNS_TYPE_CNAME:
        case TW_DNS_TYPE_NS:
        case TW_DNS_TYPE_PTR:
            /* The name must end inside the record; pointers may reach before it. */
            rc = read_name(p, rd + rdlen, rd, rr->data, &rr->data_len, &next, err);
            if (rc == TW_ETRUNC)
                return TW_E_HERE(err, TW_EINVAL, rd, "dns: name overruns its record");
            if (rc != TW_OK)
                return rc;
            if (next != rd + rdlen)
                return TW_E_HERE(err, TW_EINVAL, next, "dns: bytes after the name in a record");
            rr->kind = TW_DNS_RDATA_NAME;
            return TW_OK;
        case TW_DNS_TYPE_TXT: {
            size_t n;

            if (rdlen < 1)
                return TW_E_HERE(err, TW_EINVAL, rd, "dns: empty TXT record");
            n = p[rd];
            if (n + 1 > rdlen)
                return TW_E_HERE(err, TW_EINVAL, rd, "dns: TXT string overruns its record");
            memcpy(rr->data, p + rd + 1, n);
            rr->data[n] = '\0';
            rr->data_len = (uint16_t)n;
            rr->kind = TW_DNS_RDATA_TEXT;
            return TW_OK;
        }
        default:
            (void)len;
            return TW_OK;
    }
}

/* ==== Public API ==== */

int tw_dns_parse(const uint8_t *p, size_t len, struct tw_dns_msg *msg, struct tw_err *err)
{
    static const uint8_t sections[3] = { TW_DNS_SEC_ANSWER, TW_DNS_SEC_AUTHORITY,
        TW_DNS_SEC_ADDITIONAL };
    struct tw_dns_question qscratch; /* questions past the kept ones are decoded here */
    struct tw_dns_rr scratch;        /* and so are records past the kept ones */
    size_t off = TW_DNS_HEADER_LEN;
    uint16_t counts[3];
    int rc;

    msg->n_questions = 0;
    msg->n_rrs = 0;
    msg->n_questions_dropped = 0;
    msg->n_rrs_dropped = 0;
    msg->len = 0;
    if (len < TW_DNS_HEADER_LEN)
        return TW_E_HERE(err, TW_ETRUNC, len, "dns: header needs 12 bytes");
    msg->id = rd16(p);
    msg->flags = rd16(p + 2);
    msg->qr = (msg->flags & 0x8000u) != 0;
    msg->opcode = (uint8_t)((msg->flags >> 11) & 0xfu);
    msg->aa = (msg->flags & 0x0400u) != 0;
    msg->tc = (msg->flags & 0x0200u) != 0;
    msg->rd = (msg->flags & 0x0100u) != 0;
    msg->ra = (msg->flags & 0x0080u) != 0;
    msg->rcode = (uint8_t)(msg->flags & 0xfu);
    msg->qdcount = rd16(p + 4);
    msg->ancount = rd16(p + 6);
    msg->nscount = rd16(p + 8);
    msg->arcount = rd16(p + 10);

    for (unsigned i = 0; i < msg->qdcount; i++) {
        /* cppcheck-suppress uninitvar ; read_name() writes q->name before any read */
        struct tw_dns_question *q = &qscratch;

        if (msg->n_questions < TW_DNS_MAX_QUESTIONS)
            q = &msg->q[msg->n_questions];

        rc = read_name(p, len, off, q->name, &q->name_len, &off, err);
        if (rc != TW_OK)
            return rc;
        if (len - off < 4)
            return TW_E_HERE(err, TW_ETRUNC, off, "dns: question cut short");
        q->qtype = rd16(p + off);
        q->qclass = rd16(p + off + 2);
        off += 4;
        if (q == &qscratch)
            msg->n_questions_dropped++;
        else
            msg->n_questions++;
    }

    counts[0] = msg->ancount;
    counts[1] = msg->nscount;
    counts[2] = msg->arcount;
    for (unsigned s = 0; s < 3; s++) {
        for (unsigned i = 0; i < counts[s]; i++) {
            struct tw_dns_rr *rr = msg->n_rrs < TW_DNS_MAX_RRS ? &msg->rr[msg->n_rrs] : &scratch;

            rc = read_name(p, len, off, rr->name, &rr->name_len, &off, err);
            if (rc != TW_OK)
                return rc;
            if (len - off < 10)
                return TW_E_HERE(err, TW_ETRUNC, off, "dns: record header cut short");
            rr->rrtype = rd16(p + off);
            rr->rrclass = rd16(p + off + 2);
            rr->ttl = rd32(p + off + 4);
            rr->rdlength = rd16(p + off + 8);
            rr->section = sections[s];
            rr->kind = TW_DNS_RDATA_NONE;
            rr->pref = 0;
            rr->data[0] = '\0';
            rr->data_len = 0;
            memset(&rr->addr, 0, sizeof(rr->addr));
            off += 10;
            if (len - off < rr->rdlength)
                return TW_E_HERE(err, TW_ETRUNC, off, "dns: record data cut short");
            rc = read_rdata(p, len, off, rr, err);
            if (rc != TW_OK)
                return rc;
            off += rr->rdlength;
            if (rr == &scratch)
                msg->n_rrs_dropped++;
            else
                msg->n_rrs++;
        }
    }
    msg->len = off;
    return TW_OK;
}

int tw_dns_tcp_need(const uint8_t *p, size_t len, size_t *need)
{
    size_t mlen;

    if (len < 2) {
        *need = 2;
        return TW_ETRUNC;
    }
    mlen = rd16(p);
    *need = 2 + mlen;
    if (mlen < TW_DNS_HEADER_LEN)
        return TW_EINVAL;
    return len >= *need ? TW_OK : TW_ETRUNC;
}

int tw_dns_parse_tcp(const uint8_t *p, size_t len, struct tw_dns_msg *msg, struct tw_err *err)
{
    size_t need = 0;
    int rc = tw_dns_tcp_need(p, len, &need);

    if (rc == TW_ETRUNC) {
        msg->n_questions = 0;
        msg->n_rrs = 0;
        return TW_E_HERE(err, TW_ETRUNC, len, "dns: TCP message needs %zu bytes", need);
    }
    if (rc != TW_OK) {
        msg->n_questions = 0;
        msg->n_rrs = 0;
        return TW_E_HERE(err, TW_EINVAL, 0, "dns: TCP length %zu is below the header", need - 2);
    }
    rc = tw_dns_parse(p + 2, need - 2, msg, err);
    if (rc != TW_OK) {
        /* A framed message is complete: running out inside it is malformed. */
        if (err != NULL && err->offset != TW_NOPOS)
            err->offset += 2;
        if (rc == TW_ETRUNC) {
            rc = TW_EINVAL;
            if (err != NULL)
                err->code = TW_EINVAL;
        }
        return rc;
    }
    return TW_OK;
}

const char *tw_dns_type_name(uint16_t rrtype)
{
    static const struct {
        uint16_t type;
        const char *name;
    } names[] = {
        { 1, "A" },
        { 2, "NS" },
        { 5, "CNAME" },
        { 6, "SOA" },
        { 12, "PTR" },
        { 13, "HINFO" },
        { 15, "MX" },
        { 16, "TXT" },
        { 28, "AAAA" },
        { 33, "SRV" },
        { 35, "NAPTR" },
        { 41, "OPT" },
        { 43, "DS" },
        { 46, "RRSIG" },
        { 47, "NSEC" },
        { 48, "DNSKEY" },
        { 64, "SVCB" },
        { 65, "HTTPS" },
        { 99, "SPF" },
        { 252, "AXFR" },
        { 255, "ANY" },
        { 257, "CAA" },
    };

    for (size_t i = 0; i < TW_ARRAY_LEN(names); i++)
        if (names[i].type == rrtype)
            return names[i].name;
    return NULL;
}
