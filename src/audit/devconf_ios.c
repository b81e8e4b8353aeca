/*
 * devconf_ios.c: the IOS family's configurations (IOS, IOS XE, NX-OS, IOS XR,
 * ASA) as a tree of statements nested by indentation.
 *
 * One pass over the device's copy of the input. Each line is cut in place
 * (its trailing blanks and CR replaced by a NUL), so a node's text points
 * into the copy and costs no allocation beyond the node. The current chain
 * of open statements is a fixed stack of TW_CFG_MAX_DEPTH entries holding
 * each one's indentation (tabs advance to the next multiple of 8) and last
 * child: a line becomes a child of the nearest open statement indented less
 * than itself, which copes with the uneven indentation IOS writes (a class
 * map's `  description` at two blanks beside ` match` at one).
 *
 * Not statements: `!` and `:` comment lines (read for collector metadata,
 * see devconf_meta.c), blank lines, the `end`, `exit` and `quit`
 * terminators, and the `Building configuration...`, `Current configuration
 * : N bytes`, `Cryptochecksum:` and Oxidized `(...)` lines. A banner (`banner
 * motd ^C ... ^C`, any one-byte delimiter or the two-byte `^C`, on one line or
 * many) is one node whose text is its first line, then '\n' and the body;
 * an unterminated banner keeps its first line and the lines after it are
 * parsed as statements again. ASA banners are one statement per line. The
 * body of a `macro name X` (up to a lone `@`) is its children, whatever
 * their indentation, so its commands are not taken for top-level ones.
 */
#include <string.h>

#include "devconf_int.h"

/* A banner delimiter: the two bytes "^C" or one byte. */
struct delim {
    char c[2];
    size_t n;
};

struct ios_state {
    struct tw__cfg_ctx *c;
    /* Offset from which delimiter byte k (256: "^C") is known not to occur again. */
    size_t no_more[257];
};

struct open_stmt {
    size_t indent;
    struct tw_cfg_node *node;
    struct tw_cfg_node *tail; /* its last child */
};

static const char *const banner_kinds[] = {
    "motd",
    "login",
    "exec",
    "incoming",
    "slip-ppp",
    "prompt-timeout",
    "config-save",
};

static bool is_kind(const char *s, size_t n)
{
    for (size_t k = 0; k < TW_ARRAY_LEN(banner_kinds); k++) {
        size_t kl = strlen(banner_kinds[k]);
        if (n == kl && memcmp(s, banner_kinds[k], kl) == 0)
            return true;
    }
    return false;
}

/* Where delimiter d next occurs in text[from, len), or len when it does not. */
static size_t find_delim(struct ios_state *st, const struct delim *d, size_t from)
{
    const char *t = st->c->text;
    size_t len = st->c->len;
    size_t slot = d->n == 2 ? 256 : (unsigned char)d->c[0];
    size_t i = from;

    if (from >= st->no_more[slot])
        return len;
    while (i < len) {
        const char *p = memchr(t + i, d->c[0], len - i);
        if (p == NULL)
            break;
        i = (size_t)(p - t);
        if (d->n == 1 || (i + 1 < len && t[i + 1] == d->c[1]))
            return i;
        i++;
    }
    st->no_more[slot] = from;
    return len;
}

/*
 * Reads the banner whose statement is b[0..bl) (a line starting at offset
 * `at` of the text). On success returns the node (text: the statement, '\n',
 * the body) and sets *next to the offset after the banner's last line and
 * *lines to the lines it spans beyond the first. Returns NULL with *next 0
 * when this is not a delimited banner or it never closes (the caller then
 * keeps the line as a plain statement), and NULL with *next 1 on allocation
 * failure.
 */
static struct tw_cfg_node *banner(struct ios_state *st, char *b, size_t bl, size_t line_end,
        uint32_t line, size_t *next, uint32_t *lines)
{
    struct tw__cfg_ctx *c = st->c;
    const char *t = c->text;
    struct delim d;
    size_t p = 7, body, close, head, end, w;
    struct tw_cfg_node *n;
    char *text;

    *next = 0;
    *lines = 0;
    while (p < bl && (b[p] == ' ' || b[p] == '\t'))
        p++;
    {
        size_t q = p;
        while (q < bl && b[q] != ' ' && b[q] != '\t')
            q++;
        if (is_kind(b + p, q - p)) {
            p = q;
            while (p < bl && (b[p] == ' ' || b[p] == '\t'))
                p++;
        }
    }
    if (p >= bl)
        return NULL; /* `banner motd` with nothing after it */
    if (b[p] == '^' && p + 1 < bl && b[p + 1] == 'C') {
        d.c[0] = '^';
        d.c[1] = 'C';
        d.n = 2;
    } else {
        d.c[0] = b[p];
        d.c[1] = '\0';
        d.n = 1;
    }
    head = p + d.n;
    body = (size_t)(b - t) + head;
    close = find_delim(st, &d, body);
    if (close >= c->len) {
        tw__cfg_warn(c, line, "banner delimiter never closes; banner body ignored");
        return NULL;
    }
    /* The banner ends with the line holding its closing delimiter. */
    {
        const char *nl = close < line_end ? NULL : memchr(t + close, '\n', c->len - close);
        end = close < line_end ? line_end : (nl != NULL ? (size_t)(nl - t) : c->len);
    }
    for (size_t k = line_end; k < close; k++)
        *lines += t[k] == '\n';
    /* Text: statement, '\n', body without CRs, surrounding newlines and trailing blanks. */
    {
        /* A first line with nothing after the delimiter: the body starts on the next line. */
        size_t k = body;
        while (k < close && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r'))
            k++;
        if (k == close || t[k] == '\n')
            body = k < close ? k + 1 : close;
    }
    {
        size_t ce = close;
        while (ce > body && tw_ascii_isspace(t[ce - 1]))
            ce--;
        text = tw__cfg_alloc(c->mem, head + 1 + (ce - body) + 1);
        if (text == NULL) {
            *next = 1;
            return NULL;
        }
        memcpy(text, b, head);
        w = head;
        if (ce > body) {
            text[w++] = '\n';
            for (size_t k = body; k < ce; k++) {
                if (t[k] != '\r')
                    text[w++] = t[k];
            }
        }
        text[w] = '\0';
    }
    n = tw__cfg_node_new(c, text, w, line);
    if (n == NULL) {
        *next = 1;
        return NULL;
    }
    n->flags |= TW_CFG_BANNER;
    *next = end + 1;
    return n;
}

/* s[0..n) is the string literal lit. */
#define IS_WORD(s, n, lit) ((n) == sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* s[0..n) starts with the string literal lit. */
#define STARTS(s, n, lit) ((n) >= sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* A line that is not a statement: terminators and the preambles of show running-config. */
static bool is_noise(const char *s, size_t n, size_t indent)
{
    switch (s[0]) {
        case 'e':
            return (indent == 0 && IS_WORD(s, n, "end")) || IS_WORD(s, n, "exit");
        case 'q':
            return IS_WORD(s, n, "quit");
        case 'B':
            return STARTS(s, n, "Building configuration");
        case 'C':
            return STARTS(s, n, "Current configuration :") || STARTS(s, n, "Cryptochecksum:");
        case '(':
            return IS_WORD(s, n, "(...)");
        default:
            return false;
    }
}

static void comment(struct tw__cfg_ctx *c, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && (s[i] == '!' || s[i] == ':' || s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n)
        tw__meta_line(&c->meta, s + i, n - i, "comments");
}

int tw__ios_parse(struct tw__cfg_ctx *c)
{
    struct open_stmt stack[TW_CFG_MAX_DEPTH + 1];
    struct ios_state st;
    struct tw_devconf *d = c->d;
    bool banners = c->platform != TW_PLAT_ASA;
    char *t = c->text;
    size_t len = c->len, i = 0;
    unsigned sp = 0;
    uint32_t line = 0, macro_line = 0; /* macro_line: line of an open `macro name`, else 0 */

    st.c = c;
    for (size_t k = 0; k < TW_ARRAY_LEN(st.no_more); k++)
        st.no_more[k] = SIZE_MAX;
    stack[0].indent = 0;
    stack[0].node = &d->root;
    stack[0].tail = NULL;
    while (i < len) {
        char *s = t + i;
        char *nl = memchr(s, '\n', len - i);
        size_t n = nl != NULL ? (size_t)(nl - s) : len - i;
        size_t next = i + n + 1, ind = 0, col = 0, e = n;
        struct tw_cfg_node *node = NULL;
        char *b;
        size_t bl;

        if (line < UINT32_MAX)
            line++;
        while (ind < n && (s[ind] == ' ' || s[ind] == '\t')) {
            col = s[ind] == '\t' ? (col / 8 + 1) * 8 : col + 1;
            ind++;
        }
        while (e > ind && tw_ascii_isspace(s[e - 1]))
            e--;
        if (e == ind) {
            i = next;
            continue;
        }
        b = s + ind;
        bl = e - ind;
        if (b[0] == '!' || b[0] == ':') {
            comment(c, b, bl);
            i = next;
            continue;
        }
        if (macro_line != 0) {
            /* A macro's body: its lines, whatever their indentation, up to a lone '@'. */
            if (bl == 1 && b[0] == '@') {
                macro_line = 0;
                i = next;
                continue;
            }
            col = SIZE_MAX;
        } else if (is_noise(b, bl, ind)) {
            i = next;
            continue;
        }
        if (banners && STARTS(b, bl, "banner ")) {
            size_t bnext;
            uint32_t extra;
            node = banner(&st, b, bl, i + n, line, &bnext, &extra);
            if (node == NULL && bnext == 1)
                return TW_ENOMEM;
            if (node != NULL) {
                next = bnext;
                line = line > UINT32_MAX - extra ? UINT32_MAX : line + extra;
            }
        }
        if (node == NULL) {
            b[bl] = '\0';
            node = tw__cfg_node_new(c, b, bl, line);
            if (node == NULL)
                return TW_ENOMEM;
        }
        if (tw__has_redaction(b, bl))
            node->flags |= TW_CFG_REDACTED;

        if (macro_line != 0)
            sp = 1; /* under the macro, all at one level */
        while (sp > 0 && stack[sp].indent >= col)
            sp--;
        if (sp == TW_CFG_MAX_DEPTH) {
            tw__cfg_warn(c, node->line, "nesting deeper than %d levels; statement kept at level %d",
                    TW_CFG_MAX_DEPTH, TW_CFG_MAX_DEPTH);
            sp--;
        }
        node->parent = stack[sp].node;
        node->depth = (uint16_t)sp;
        if (stack[sp].tail == NULL)
            stack[sp].node->child = node;
        else
            stack[sp].tail->next = node;
        stack[sp].tail = node;
        d->n_nodes++;
        if (sp == 0) {
            c->root_tail = node;
            tw__meta_ios_statement(&c->meta, node->text, node->len);
            if (STARTS(node->text, node->len, "macro name "))
                macro_line = node->line;
        }
        if (col == SIZE_MAX) {
            i = next;
            continue; /* a macro's body line opens nothing */
        }
        sp++;
        stack[sp].indent = col;
        stack[sp].node = node;
        stack[sp].tail = NULL;
        i = next;
    }
    if (macro_line != 0)
        tw__cfg_warn(c, macro_line, "macro body never closed with '@'");
    d->n_lines = line;
    return TW_OK;
}
