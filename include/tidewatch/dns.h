/*
 * dns.h: DNS message parser (RFC 1035) for metadata extraction.
 *
 * A pure parser over one DNS message in a byte buffer: the header, the
 * questions and the resource records of the answer, authority and additional
 * sections. The caller owns flow tracking; for DNS over TCP it hands over the
 * stream bytes and tw_dns_tcp_need() says how many the first message needs.
 *
 * Nothing is allocated. Results go into a caller-owned struct tw_dns_msg with
 * fixed arrays: at most TW_DNS_MAX_QUESTIONS questions and TW_DNS_MAX_RRS
 * records are kept, and the rest are still walked (so that truncation and
 * malformed input are detected) and counted in n_rr_dropped. The struct is
 * large (about 70 KiB): reuse one per worker rather than putting it on a small
 * stack.
 *
 * Names are given in one normal form: labels joined with '.', ASCII letters
 * lowered, no trailing dot, the root name as the empty string. Bytes outside
 * '!'..'~' are written as "\DDD" (three decimal digits), and '.' and '\'
 * inside a label as "\." and "\\" (the RFC 1035 master-file escapes), so the
 * text never holds a NUL or a control byte. Compression pointers are
 * followed at most TW_DNS_MAX_JUMPS times, and a name whose wire form exceeds
 * 255 bytes is rejected, which bounds the work per name whatever the input.
 * How the parser is built: docs/internals/PROTO.md.
 */
#ifndef TIDEWATCH_DNS_H
#define TIDEWATCH_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/addr.h"
#include "tidewatch/common.h"
#include "tidewatch/err.h"

#define TW_DNS_HEADER_LEN    12   /* fixed header, see the table in dns.c */
#define TW_DNS_NAME_WIRE_MAX 255  /* longest name on the wire, length bytes included */
#define TW_DNS_NAME_STRLEN   1024 /* presentation form of the longest name, escaped, plus NUL */
#define TW_DNS_TXT_MAX       255  /* one TXT character-string */
#define TW_DNS_MAX_QUESTIONS 4    /* questions kept; more are walked and counted */
#define TW_DNS_MAX_RRS       32   /* records kept over all three sections */
#define TW_DNS_MAX_JUMPS     128  /* compression pointers followed per name */

/* Record types this parser decodes the data of (others keep only their header). */
#define TW_DNS_TYPE_A     1
#define TW_DNS_TYPE_NS    2
#define TW_DNS_TYPE_CNAME 5
#define TW_DNS_TYPE_SOA   6
#define TW_DNS_TYPE_PTR   12
#define TW_DNS_TYPE_MX    15
#define TW_DNS_TYPE_TXT   16
#define TW_DNS_TYPE_AAAA  28
#define TW_DNS_TYPE_OPT   41

/* Which section a record came from. */
enum tw_dns_section {
    TW_DNS_SEC_ANSWER = 1,
    TW_DNS_SEC_AUTHORITY = 2,
    TW_DNS_SEC_ADDITIONAL = 3,
};

/* What tw_dns_rr.data holds. */
enum tw_dns_rdata_kind {
    TW_DNS_RDATA_NONE = 0, /* type not decoded: only the header fields are set */
    TW_DNS_RDATA_ADDR,     /* A or AAAA: `addr` */
    TW_DNS_RDATA_NAME,     /* CNAME, NS, PTR, MX (with `pref`): `data` is a normalised name */
    TW_DNS_RDATA_TEXT,     /* TXT: `data` holds the first string's raw bytes (may hold NUL) */
};

struct tw_dns_question {
    char name[TW_DNS_NAME_STRLEN]; /* normalised qname, NUL-terminated */
    uint16_t name_len;             /* bytes of name before the NUL */
    uint16_t qtype;
    uint16_t qclass;
};

struct tw_dns_rr {
    char name[TW_DNS_NAME_STRLEN]; /* normalised owner name, NUL-terminated */
    uint16_t name_len;
    uint16_t rrtype;
    uint16_t rrclass; /* for OPT this is the sender's UDP payload size */
    uint32_t ttl;
    uint16_t rdlength;
    uint8_t section;               /* an enum tw_dns_section */
    uint8_t kind;                  /* an enum tw_dns_rdata_kind */
    uint16_t pref;                 /* MX preference; 0 otherwise */
    struct tw_ip addr;             /* A/AAAA address when kind is TW_DNS_RDATA_ADDR */
    char data[TW_DNS_NAME_STRLEN]; /* name or TXT bytes, NUL-terminated */
    uint16_t data_len;             /* bytes of data before the terminating NUL */
};

struct tw_dns_msg {
    uint16_t id;
    uint16_t flags; /* the raw flags word */
    bool qr;        /* response */
    uint8_t opcode; /* 0 query, 1 iquery, 2 status, 4 notify, 5 update */
    uint8_t rcode;  /* low four bits of the response code */
    bool aa, tc, rd, ra;
    uint16_t qdcount, ancount, nscount, arcount; /* as in the header */
    uint16_t n_questions;                        /* questions kept in q[] */
    uint16_t n_rrs;                              /* records kept in rr[] */
    uint32_t n_questions_dropped;                /* parsed but not kept */
    uint32_t n_rrs_dropped;                      /* parsed but not kept */
    size_t len;                                  /* bytes of the message that were parsed */
    struct tw_dns_question q[TW_DNS_MAX_QUESTIONS];
    struct tw_dns_rr rr[TW_DNS_MAX_RRS];
};

/*
 * Parses one DNS message p[0..len) (a UDP payload, or a TCP message without
 * its length prefix) into *msg, which is overwritten. Returns TW_OK;
 * TW_ETRUNC when the buffer ends before the records the header announces (or a
 * compression pointer points past the end); TW_EINVAL for malformed input
 * (a label type other than 0 or 3, a pointer loop, a name over 255 bytes, a
 * record whose data does not match its type). On error err->offset is the
 * byte offset in p of the problem and *msg holds what was parsed before it.
 * Bytes after the last record are ignored. err may be NULL.
 */
int tw_dns_parse(
        const uint8_t *p, size_t len, struct tw_dns_msg *msg, struct tw_err *err) TW_MUST_CHECK;

/*
 * DNS over TCP framing (RFC 1035 section 4.2.2): a two-byte big-endian length
 * then the message. Stores in *need the number of stream bytes the first
 * message occupies, prefix included (2 while the prefix itself is incomplete),
 * and returns TW_OK when len >= *need, TW_ETRUNC when more bytes are needed, or
 * TW_EINVAL when the length is below the 12-byte DNS header.
 */
int tw_dns_tcp_need(const uint8_t *p, size_t len, size_t *need) TW_MUST_CHECK;

/*
 * Parses the first message of a DNS-over-TCP stream p[0..len). Returns as
 * tw_dns_parse, plus TW_ETRUNC while the framed message is incomplete.
 * err->offset counts from the start of the stream (the prefix included).
 */
int tw_dns_parse_tcp(
        const uint8_t *p, size_t len, struct tw_dns_msg *msg, struct tw_err *err) TW_MUST_CHECK;

/* Mnemonic of a record type ("A", "AAAA", ...), or NULL when this table does not know it. */
const char *tw_dns_type_name(uint16_t rrtype);

#endif
