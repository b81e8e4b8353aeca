/*
 * proto.h: a cheap guess at the application protocol of a byte stream.
 *
 * Flows on non-standard ports still need the right parser. tw_proto_guess()
 * looks at the first bytes one direction sent (at most the first 16 matter)
 * and names the protocol they look like, without parsing further. It is a
 * guess: the chosen parser (tls.h, http.h, ssh.h, dns.h) has the last word.
 */
#ifndef TIDEWATCH_PROTO_H
#define TIDEWATCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum tw_proto {
    TW_PROTO_UNKNOWN = 0,
    TW_PROTO_TLS,     /* a TLS handshake record (ClientHello or ServerHello) */
    TW_PROTO_HTTP,    /* an HTTP/1.x request line or status line */
    TW_PROTO_SSH,     /* "SSH-" */
    TW_PROTO_DNS_TCP, /* a length-prefixed DNS message with a plausible header */
};

/*
 * Returns the protocol p[0..len) most likely starts, or TW_PROTO_UNKNOWN
 * when nothing matches or too few bytes have arrived to tell (a caller may ask
 * again with more). Never reads past p[len - 1]; p may be NULL when len is 0.
 */
enum tw_proto tw_proto_guess(const uint8_t *p, size_t len);

/* Lowercase name of a protocol ("tls", "http", "ssh", "dns", "unknown"). */
const char *tw_proto_name(enum tw_proto proto);

#endif
