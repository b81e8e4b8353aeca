/*
 * ssh.c: SSH identification string parser; see include/tidewatch/ssh.h.
 *
 * Lines are scanned in order. A line that starts with "SSH-" is the
 * identification line; any other line is a pre-banner line a server may send
 * (RFC 4253 section 4.2) and is skipped after a check for NUL bytes, which
 * no text protocol sends and which quickly rejects binary streams. Every
 * line, the identification line included, must end within 255 bytes.
 *
 *   ident = "SSH-" protoversion "-" softwareversion [ SP comments ] CR LF
 */
#include "tidewatch/ssh.h"

#include <stdint.h>
#include <string.h>

/* ==== Static helpers ==== */

/* Parses the identification line p[a..b) (line end removed). */
static int parse_ident(
        const uint8_t *p, size_t a, size_t b, struct tw_ssh_ident *id, struct tw_err *err)
{
    size_t i = a + 4, pv;

    for (size_t k = a; k < b; k++)
        if (p[k] < 0x20 || p[k] > 0x7e)
            return TW_E_HERE(err, TW_EINVAL, k, "ssh: byte 0x%02x in identification line", p[k]);
    pv = i;
    while (i < b && p[i] != '-' && p[i] != ' ')
        i++;
    if (i == pv || i >= b || p[i] != '-')
        return TW_E_HERE(err, TW_EINVAL, i, "ssh: no protocol version");
    id->proto_version = tw_str_make((const char *)p + pv, i - pv);
    pv = ++i;
    while (i < b && p[i] != ' ')
        i++;
    if (i == pv)
        return TW_E_HERE(err, TW_EINVAL, i, "ssh: no software version");
    id->software_version = tw_str_make((const char *)p + pv, i - pv);
    if (i < b)
        id->comments = tw_str_make((const char *)p + i + 1, b - i - 1);
    return TW_OK;
}

/* ==== Public API ==== */

int tw_ssh_parse_ident(const uint8_t *p, size_t len, struct tw_ssh_ident *id, struct tw_err *err)
{
    static const char magic[] = "SSH-";
    size_t pos = 0;

    memset(id, 0, sizeof(*id));
    for (;;) {
        size_t avail = len - pos;
        size_t window = TW_MIN(avail, (size_t)TW_SSH_LINE_MAX);
        const uint8_t *lf = window > 0 ? memchr(p + pos, '\n', window) : NULL;
        size_t end = lf != NULL ? (size_t)(lf - p) : pos + window;
        size_t cmp = TW_MIN(avail, (size_t)4);
        bool ident = memcmp(p + pos, magic, cmp) == 0;
        const uint8_t *nul = memchr(p + pos, 0, end - pos);

        if (nul != NULL)
            return TW_E_HERE(err, TW_EINVAL, (size_t)(nul - p), "ssh: NUL byte in a line");
        if (lf == NULL) {
            if (window == TW_SSH_LINE_MAX)
                return TW_E_HERE(
                        err, TW_EINVAL, pos + window, "ssh: line over %d bytes", TW_SSH_LINE_MAX);
            return TW_E_HERE(err, TW_ETRUNC, len, "ssh: line cut short");
        }
        if (ident && cmp == 4) {
            size_t content_end = end;

            if (content_end > pos && p[content_end - 1] == '\r')
                content_end--;
            id->line_offset = pos;
            id->consumed = end + 1;
            return parse_ident(p, pos, content_end, id, err);
        }
        id->n_pre_lines++;
        pos = end + 1;
        if (id->n_pre_lines > TW_SSH_MAX_PRE_LINES || pos > TW_SSH_PRE_MAX)
            return TW_E_HERE(err, TW_ELIMIT, pos, "ssh: too much before the identification line");
    }
}
