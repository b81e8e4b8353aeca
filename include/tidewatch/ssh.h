/*
 * ssh.h: SSH identification string parser (RFC 4253 section 4.2).
 *
 * Each side of an SSH connection opens with one line
 * "SSH-protoversion-softwareversion SP comments CR LF" of at most 255 bytes.
 * A server may send other lines first (a banner); they are skipped and
 * counted. The parser reads the start of one direction's byte stream and
 * extracts the protocol and software versions and the comments.
 *
 * Nothing is allocated: the slices in struct tw_ssh_ident borrow from the
 * caller's buffer and are valid as long as it is.
 */
#ifndef TIDEWATCH_SSH_H
#define TIDEWATCH_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

#define TW_SSH_LINE_MAX      255  /* bytes of one line, CR LF included (RFC 4253) */
#define TW_SSH_MAX_PRE_LINES 32   /* lines accepted before the identification line */
#define TW_SSH_PRE_MAX       8192 /* bytes accepted before the identification line */

struct tw_ssh_ident {
    struct tw_str proto_version;    /* "2.0", "1.99" */
    struct tw_str software_version; /* "OpenSSH_9.2p1" (may hold '-', as real servers send) */
    struct tw_str comments;         /* text after the first space; empty when none */
    uint32_t n_pre_lines;           /* lines skipped before the identification line */
    size_t line_offset;             /* offset of "SSH-" in the input */
    size_t consumed;                /* bytes up to and including the line's LF */
};

/*
 * Finds and parses the identification line at the start of p[0..len) into
 * *id, which is overwritten. Returns TW_OK; TW_ETRUNC while the line (or a
 * preceding line) has not ended and may still; TW_EINVAL with err->offset at
 * the offending byte for a line over TW_SSH_LINE_MAX bytes, a NUL or control
 * byte, or an identification line with an empty version; TW_ELIMIT when more
 * than TW_SSH_MAX_PRE_LINES lines or TW_SSH_PRE_MAX bytes precede it. A line
 * ending in a bare LF is accepted. err may be NULL.
 */
int tw_ssh_parse_ident(
        const uint8_t *p, size_t len, struct tw_ssh_ident *id, struct tw_err *err) TW_MUST_CHECK;

#endif
