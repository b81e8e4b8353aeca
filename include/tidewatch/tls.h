/*
 * tls.h: TLS ClientHello parser and the JA3 and JA4 client fingerprints.
 *
 * The parser reads the client's bytes of a TCP connection from their start:
 * TLS records of content type 22 (handshake) carrying one ClientHello
 * (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2), which may be split over
 * several records. The caller does TCP reassembly and retries with more bytes
 * while the result is TW_ETRUNC. A ClientHello is at most TW_TLS_HELLO_MAX
 * bytes; a larger one is refused with TW_ELIMIT.
 *
 * Nothing is allocated. Lists are kept as sent, GREASE values included, in
 * fixed arrays; a list longer than its array is cut and TW_TLS_F_LISTS_CUT is
 * set, in which case the fingerprints cover the kept part only (no real
 * client comes near the bounds). The fingerprints follow Suricata's code:
 *
 *   JA3  "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats",
 *        decimal values joined by '-', GREASE (0x?a?a with equal bytes) removed
 *        from the ciphers, extensions and curves; then its MD5 in lowercase hex.
 *   JA4  "t13d1516h2_8daaf6152771_e5627efa2ab1": transport, highest version,
 *        SNI present (d) or not (i), cipher and extension counts (GREASE
 *        excluded, capped at 99), first and last character of the first ALPN
 *        value; then the first 12 hex digits of SHA-256 of the sorted cipher
 *        list, and of the sorted extensions without SNI and ALPN, "_", and the
 *        signature algorithms in their order.
 * Details and the corner cases: docs/internals/PROTO.md.
 */
#ifndef TIDEWATCH_TLS_H
#define TIDEWATCH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"

#define TW_TLS_HELLO_MAX     16384 /* bytes of the ClientHello handshake message */
#define TW_TLS_SNI_MAX       255   /* bytes of host name kept (a DNS name fits) */
#define TW_TLS_MAX_CIPHERS   512
#define TW_TLS_MAX_EXTS      128
#define TW_TLS_MAX_GROUPS    128
#define TW_TLS_MAX_POINTFMTS 32
#define TW_TLS_MAX_SIGALGS   128
#define TW_TLS_MAX_VERSIONS  32
#define TW_TLS_MAX_ALPN      16   /* ALPN protocol names kept */
#define TW_TLS_ALPN_LEN      64   /* bytes kept of one ALPN name */
#define TW_TLS_JA3_STRMAX    8192 /* a JA3 string of the longest kept lists, plus NUL */
#define TW_TLS_JA3_HEXLEN    33   /* 32 hex digits and a NUL */
#define TW_TLS_JA4_STRLEN    37   /* 36 characters and a NUL */

/* Bits of tw_tls_hello.flags. */
#define TW_TLS_F_LISTS_CUT 0x1u /* some list was longer than its array */
#define TW_TLS_F_SNI_CUT   0x2u /* the host name was longer than TW_TLS_SNI_MAX */
#define TW_TLS_F_ALPN_CUT  0x4u /* an ALPN name was longer than TW_TLS_ALPN_LEN */

/* Transport letters of JA4_a. */
#define TW_JA4_TCP  't'
#define TW_JA4_QUIC 'q'

struct tw_tls_alpn {
    uint8_t len;                /* bytes kept in name */
    uint8_t wire_len;           /* bytes on the wire (1..255) */
    char name[TW_TLS_ALPN_LEN]; /* raw bytes, not NUL-terminated */
};

struct tw_tls_hello {
    uint16_t record_version; /* version in the first record header */
    uint16_t legacy_version; /* client_version of the hello */
    uint16_t max_version;    /* highest non-GREASE of legacy_version and supported_versions */
    uint8_t random[32];
    uint8_t session_id_len;
    uint8_t n_compression;        /* compression methods offered */
    unsigned flags;               /* TW_TLS_F_* bits */
    bool has_sni;                 /* a server_name extension was present */
    char sni[TW_TLS_SNI_MAX + 1]; /* first host_name, lowercase, raw bytes then a NUL */
    uint16_t sni_len;
    uint16_t n_ciphers;
    uint16_t ciphers[TW_TLS_MAX_CIPHERS];
    uint16_t n_exts;
    uint16_t exts[TW_TLS_MAX_EXTS]; /* extension types in order */
    uint16_t n_groups;
    uint16_t groups[TW_TLS_MAX_GROUPS]; /* supported_groups (elliptic curves) */
    uint16_t n_pointfmts;
    uint8_t pointfmts[TW_TLS_MAX_POINTFMTS];
    uint16_t n_sigalgs;
    uint16_t sigalgs[TW_TLS_MAX_SIGALGS];
    uint16_t n_versions;
    uint16_t versions[TW_TLS_MAX_VERSIONS]; /* supported_versions */
    uint16_t n_alpn;
    struct tw_tls_alpn alpn[TW_TLS_MAX_ALPN];
    uint8_t alpn0_first, alpn0_last; /* first and last byte of the first ALPN name */
    size_t hello_len;                /* bytes of the handshake message, header included */
    size_t consumed;                 /* input bytes up to the ClientHello's last byte */
};

/*
 * Parses the ClientHello at the start of the client byte stream p[0..len)
 * into *h, which is overwritten. Returns TW_OK; TW_ETRUNC while the records
 * end before the whole ClientHello (retry with more bytes); TW_EINVAL when the
 * bytes are not a TLS handshake starting with a well-formed ClientHello;
 * TW_ELIMIT when the ClientHello is over TW_TLS_HELLO_MAX bytes. On
 * TW_EINVAL, err->offset is the offset in p of the offending byte. err may be
 * NULL.
 */
int tw_tls_parse_client_hello(
        const uint8_t *p, size_t len, struct tw_tls_hello *h, struct tw_err *err) TW_MUST_CHECK;

/*
 * Parses a bare ClientHello handshake message (type byte, 24-bit length and
 * body), as carried in QUIC CRYPTO frames. Same results as above, with offsets
 * into p.
 */
int tw_tls_parse_handshake(
        const uint8_t *p, size_t len, struct tw_tls_hello *h, struct tw_err *err) TW_MUST_CHECK;

/* True for the sixteen GREASE values of RFC 8701 (0x0a0a, 0x1a1a, ... 0xfafa). */
bool tw_tls_is_grease(uint16_t v);

/*
 * Writes the JA3 string of h and a NUL into out[0..out_size) and returns its
 * length, or TW_ETRUNC (writing "") when it does not fit; TW_TLS_JA3_STRMAX
 * always suffices.
 */
int tw_tls_ja3(const struct tw_tls_hello *h, char *out, size_t out_size) TW_MUST_CHECK;

/* Writes the MD5 of the JA3 string of h as 32 lowercase hex digits and a NUL. */
void tw_tls_ja3_hash(const struct tw_tls_hello *h, char out[TW_TLS_JA3_HEXLEN]);

/*
 * Writes the JA4 fingerprint of h (36 characters) and a NUL into out.
 * transport is TW_JA4_TCP or TW_JA4_QUIC.
 */
void tw_tls_ja4(const struct tw_tls_hello *h, char transport, char out[TW_TLS_JA4_STRLEN]);

/* Called with each certificate (DER bytes) of a server's Certificate message, leaf first. */
typedef int tw_tls_cert_fn(const uint8_t *der, size_t len, unsigned index, void *ctx);

/*
 * Finds the Certificate handshake message in a server's in-order bytes (the
 * clear part of a TLS 1.2 or earlier handshake: records of type handshake
 * from the start of the stream) and calls fn for each certificate in it.
 * Returns TW_OK when the message was walked; TW_ETRUNC when more bytes are
 * needed; TW_ENOTFOUND when the clear flight ended without one (TLS 1.3,
 * where certificates are encrypted, or a handshake without certificates);
 * TW_EINVAL (with err->offset) for malformed records or lengths; TW_ELIMIT
 * past 16 KiB of handshake bytes; or the first non-zero value fn returns.
 */
int tw_tls_server_certificates(const uint8_t *p, size_t len, tw_tls_cert_fn *fn, void *ctx,
        struct tw_err *err) TW_MUST_CHECK;

#endif
