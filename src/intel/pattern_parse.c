/*
 * pattern_parse.c: turns STIX 2.1 pattern text (section 9) into the tree of
 * pattern_int.h and checks it.
 *
 * A hand-written lexer feeds a recursive-descent parser that follows the
 * STIXPattern.g4 grammar of OASIS: observation expressions joined by AND, OR
 * and FOLLOWEDBY (tightest first, all left-associative), qualifiers after an
 * observation expression, and comparison expressions joined by AND and OR
 * inside brackets. After the syntax come the checks the grammar cannot
 * express: object type names, IN sets, regular expressions (compiled with
 * PCRE2 here, once), CIDR operands, positive qualifier values and START before
 * STOP. Errors carry the position of the offending token, counted in
 * characters (code points), which is what a person pointing at the text needs.
 * Recursion follows only brackets and parentheses and stops at
 * TW_PATTERN_MAX_DEPTH, so hostile nesting costs an error, not the stack.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pattern_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/err.h"
#include "tidewatch/hash.h"

/* ==== Tokens ==== */

enum tok_kind {
    TK_EOF = 0,
    TK_LBRACK,
    TK_RBRACK,
    TK_LPAREN,
    TK_RPAREN,
    TK_COLON,
    TK_DOT,
    TK_COMMA,
    TK_STAR,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_INT,
    TK_FLOAT,
    TK_STR,
    TK_HEX,
    TK_BIN,
    TK_TIME,
    TK_IDENT,
    /* keywords */
    TK_AND,
    TK_OR,
    TK_NOT,
    TK_FOLLOWEDBY,
    TK_LIKE,
    TK_MATCHES,
    TK_ISSUPERSET,
    TK_ISSUBSET,
    TK_LAST,
    TK_IN,
    TK_START,
    TK_STOP,
    TK_SECONDS,
    TK_TRUE,
    TK_FALSE,
    TK_WITHIN,
    TK_REPEATS,
    TK_TIMES,
    TK_EXISTS,
};

static const struct {
    const char *word;
    enum tok_kind kind;
} keywords[] = {
    { "AND", TK_AND },
    { "OR", TK_OR },
    { "NOT", TK_NOT },
    { "FOLLOWEDBY", TK_FOLLOWEDBY },
    { "LIKE", TK_LIKE },
    { "MATCHES", TK_MATCHES },
    { "ISSUPERSET", TK_ISSUPERSET },
    { "ISSUBSET", TK_ISSUBSET },
    { "LAST", TK_LAST },
    { "IN", TK_IN },
    { "START", TK_START },
    { "STOP", TK_STOP },
    { "SECONDS", TK_SECONDS },
    { "true", TK_TRUE },
    { "false", TK_FALSE },
    { "WITHIN", TK_WITHIN },
    { "REPEATS", TK_REPEATS },
    { "TIMES", TK_TIMES },
    { "EXISTS", TK_EXISTS },
};

struct tok {
    enum tok_kind kind;
    size_t off;         /* byte offset of the first character */
    size_t end;         /* byte offset just past the token */
    struct tw_str body; /* literal body between the quotes, or the identifier */
};

/* A singly linked list cell, allocated in the arena while a node's children are collected. */
struct cell {
    void *item;
    struct cell *next;
};

struct parser {
    struct tw_str text;
    size_t pos; /* lexer position (bytes) */
    struct tok tok;
    struct tw_pattern *pat;
    struct tw_err *err;
    int status; /* first error, kept so every path unwinds with it */
    unsigned depth;
    struct cell *types; /* object types seen in the current bracket, newest first */
    size_t n_types;
};

/* ==== Errors ==== */

/* Character (code point) count of text[0..off): bytes that are not UTF-8 continuation bytes. */
static size_t char_offset(struct tw_str text, size_t off)
{
    size_t n = 0;

    if (off > text.len)
        off = text.len;
    for (size_t i = 0; i < off; i++)
        n += ((unsigned char)text.ptr[i] & 0xc0) != 0x80;
    return n;
}

/* Records the first error, with " at <char offset>" appended, and returns its code. */
TW_PRINTF(4, 5)
static int perr(struct parser *p, int code, size_t off, const char *fmt, ...)
{
    char msg[200];
    size_t cpos = char_offset(p->text, off);
    va_list ap;

    if (p->status != TW_OK)
        return p->status;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->status = code;
    (void)TW_E_HERE(p->err, code, cpos, "%s at %zu", msg, cpos);
    return code;
}

static int oom(struct parser *p)
{
    return perr(p, TW_ENOMEM, p->tok.off, "out of memory");
}

static const char *tok_name(enum tok_kind k)
{
    switch (k) {
        case TK_EOF:
            return "end of pattern";
        case TK_LBRACK:
            return "'['";
        case TK_RBRACK:
            return "']'";
        case TK_LPAREN:
            return "'('";
        case TK_RPAREN:
            return "')'";
        case TK_COLON:
            return "':'";
        case TK_DOT:
            return "'.'";
        case TK_COMMA:
            return "','";
        case TK_STAR:
            return "'*'";
        case TK_EQ:
        case TK_NE:
        case TK_LT:
        case TK_LE:
        case TK_GT:
        case TK_GE:
            return "comparison operator";
        case TK_INT:
            return "integer";
        case TK_FLOAT:
            return "float";
        case TK_STR:
            return "string";
        case TK_HEX:
            return "hex literal";
        case TK_BIN:
            return "binary literal";
        case TK_TIME:
            return "timestamp";
        case TK_IDENT:
            return "identifier";
        default:
            return "keyword";
    }
}

/* Reports that the current token is not what was expected. */
static int unexpected(struct parser *p, const char *expected)
{
    const struct tok *t = &p->tok;

    if (t->kind == TK_EOF)
        return perr(p, TW_ESYNTAX, t->off, "expected %s, found end of pattern", expected);
    return perr(p, TW_ESYNTAX, t->off, "expected %s, found %s '%.*s'", expected, tok_name(t->kind),
            (int)TW_MIN(t->end - t->off, 40), p->text.ptr + t->off);
}

/* ==== Lexer ==== */

/* Length of the whitespace character at s[i], 0 when there is none. */
static size_t space_len(struct tw_str s, size_t i)
{
    const unsigned char *u = (const unsigned char *)s.ptr + i;
    size_t left = s.len - i;

    if (tw_ascii_isspace(s.ptr[i]))
        return 1;
    /* The grammar's Unicode spaces: U+0085, U+00A0, U+1680, U+2000-200A, U+2028,
     * U+2029, U+202F, U+205F, U+3000. */
    if (left >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0))
        return 2;
    if (left < 3)
        return 0;
    if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80)
        return 3;
    if (u[0] == 0xe2 && u[1] == 0x80 &&
            ((u[2] >= 0x80 && u[2] <= 0x8a) || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf))
        return 3;
    if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f)
        return 3;
    if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
        return 3;
    return 0;
}

/* Length of the valid UTF-8 sequence at s[0..len), or 0 when it is invalid. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (len < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static bool ident_start(char c)
{
    return tw_ascii_isalpha(c) || c == '_';
}

static bool ident_char(char c)
{
    return tw_ascii_isalpha(c) || tw_ascii_isdigit(c) || c == '_' || c == '-';
}

/*
 * Scans a quoted body starting at the opening quote at p->pos. For strings
 * (escapes true) \' and \\ are the only escapes. Sets tok->body to the raw
 * text between the quotes and advances past the closing quote.
 */
static int lex_quoted(struct parser *p, size_t open, bool escapes, struct tok *t)
{
    const char *s = p->text.ptr;
    size_t i = p->pos + 1;

    while (i < p->text.len && s[i] != '\'') {
        if (s[i] == '\\' && escapes) {
            if (i + 1 >= p->text.len || (s[i + 1] != '\'' && s[i + 1] != '\\'))
                return perr(p, TW_ESYNTAX, i, "invalid escape in string (only \\' and \\\\)");
            i += 2;
            continue;
        }
        if (s[i] == '\0')
            return perr(p, TW_ESYNTAX, i, "NUL byte in pattern");
        {
            size_t n = utf8_len((const unsigned char *)s + i, p->text.len - i);
            if (n == 0)
                return perr(p, TW_ESYNTAX, i, "invalid UTF-8 in literal");
            i += n;
        }
    }
    if (i >= p->text.len)
        return perr(p, TW_ESYNTAX, open, "unterminated literal");
    t->body = tw_str_make(s + p->pos + 1, i - p->pos - 1);
    p->pos = i + 1;
    return TW_OK;
}

/* Scans a number: [+-]? digits, or [+-]? digits? '.' digits. */
static int lex_number(struct parser *p, struct tok *t)
{
    const char *s = p->text.ptr;
    size_t i = p->pos, int_start, n_int;

    if (s[i] == '+' || s[i] == '-')
        i++;
    int_start = i;
    while (i < p->text.len && tw_ascii_isdigit(s[i]))
        i++;
    n_int = i - int_start;
    if (i + 1 < p->text.len && s[i] == '.' && tw_ascii_isdigit(s[i + 1])) {
        i++;
        while (i < p->text.len && tw_ascii_isdigit(s[i]))
            i++;
        t->kind = TK_FLOAT;
    } else {
        if (n_int == 0)
            return perr(p, TW_ESYNTAX, p->pos, "expected digits after '%c'", s[p->pos]);
        if (n_int > 1 && s[int_start] == '0')
            return perr(p, TW_ESYNTAX, int_start, "integer with a leading zero");
        t->kind = TK_INT;
    }
    t->body = tw_str_make(s + p->pos, i - p->pos);
    p->pos = i;
    return TW_OK;
}

/* Reads the next token into p->tok. */
static int next(struct parser *p)
{
    const char *s = p->text.ptr;
    struct tok *t = &p->tok;

    if (p->status != TW_OK)
        return p->status;
    /* Whitespace and comments. */
    for (;;) {
        size_t n;
        if (p->pos >= p->text.len)
            break;
        if ((n = space_len(p->text, p->pos)) > 0) {
            p->pos += n;
        } else if (s[p->pos] == '/' && p->pos + 1 < p->text.len && s[p->pos + 1] == '*') {
            size_t i = p->pos + 2;
            while (i + 1 < p->text.len && !(s[i] == '*' && s[i + 1] == '/'))
                i++;
            if (i + 1 >= p->text.len)
                return perr(p, TW_ESYNTAX, p->pos, "unterminated comment");
            p->pos = i + 2;
        } else if (s[p->pos] == '/' && p->pos + 1 < p->text.len && s[p->pos + 1] == '/') {
            while (p->pos < p->text.len && s[p->pos] != '\n' && s[p->pos] != '\r')
                p->pos++;
        } else {
            break;
        }
    }
    t->off = p->pos;
    t->body = tw_str_make(s + p->pos, 0);
    if (p->pos >= p->text.len) {
        t->kind = TK_EOF;
        t->end = p->pos;
        return TW_OK;
    }
    {
        char c = s[p->pos];
        char c1 = '\0';
        int rc = TW_OK;

        if (p->pos + 1 < p->text.len)
            c1 = s[p->pos + 1];
        switch (c) {
            case '[':
                t->kind = TK_LBRACK, p->pos++;
                break;
            case ']':
                t->kind = TK_RBRACK, p->pos++;
                break;
            case '(':
                t->kind = TK_LPAREN, p->pos++;
                break;
            case ')':
                t->kind = TK_RPAREN, p->pos++;
                break;
            case ':':
                t->kind = TK_COLON, p->pos++;
                break;
            case ',':
                t->kind = TK_COMMA, p->pos++;
                break;
            case '*':
                t->kind = TK_STAR, p->pos++;
                break;
            case '=':
                t->kind = TK_EQ;
                p->pos += c1 == '=' ? 2 : 1;
                break;
            case '!':
                if (c1 != '=')
                    return perr(p, TW_ESYNTAX, p->pos, "unexpected character '!'");
                t->kind = TK_NE, p->pos += 2;
                break;
            case '<':
                t->kind = c1 == '=' ? TK_LE : c1 == '>' ? TK_NE : TK_LT;
                p->pos += (c1 == '=' || c1 == '>') ? 2 : 1;
                break;
            case '>':
                t->kind = c1 == '=' ? TK_GE : TK_GT;
                p->pos += c1 == '=' ? 2 : 1;
                break;
            case '.':
                if (tw_ascii_isdigit(c1))
                    rc = lex_number(p, t);
                else
                    t->kind = TK_DOT, p->pos++;
                break;
            case '\'':
                t->kind = TK_STR;
                rc = lex_quoted(p, p->pos, true, t);
                break;
            default:
                if (c == '+' || c == '-' || tw_ascii_isdigit(c)) {
                    rc = lex_number(p, t);
                } else if ((c == 'h' || c == 'b' || c == 't') && c1 == '\'') {
                    t->kind = c == 'h' ? TK_HEX : c == 'b' ? TK_BIN : TK_TIME;
                    p->pos++;
                    rc = lex_quoted(p, p->pos - 1, false, t);
                } else if (ident_start(c)) {
                    size_t i = p->pos;
                    while (i < p->text.len && ident_char(s[i]))
                        i++;
                    t->kind = TK_IDENT;
                    t->body = tw_str_make(s + p->pos, i - p->pos);
                    for (size_t k = 0; k < TW_ARRAY_LEN(keywords); k++) {
                        if (tw_str_eq_cstr(t->body, keywords[k].word)) {
                            t->kind = keywords[k].kind;
                            break;
                        }
                    }
                    p->pos = i;
                } else if (c == '\0') {
                    return perr(p, TW_ESYNTAX, p->pos, "NUL byte in pattern");
                } else if ((unsigned char)c >= 0x80) {
                    return perr(p, TW_ESYNTAX, p->pos, "unexpected non-ASCII character");
                } else {
                    return perr(p, TW_ESYNTAX, p->pos, "unexpected character '%c'", c);
                }
                break;
        }
        if (rc != TW_OK)
            return rc;
    }
    t->end = p->pos;
    return TW_OK;
}

static int expect(struct parser *p, enum tok_kind k, const char *what)
{
    if (p->tok.kind != k)
        return unexpected(p, what);
    return next(p);
}

/* ==== Helpers ==== */

static void *alloc(struct parser *p, size_t n)
{
    void *v = tw_arena_calloc(&p->pat->arena, 1, n);

    if (v == NULL)
        (void)oom(p);
    return v;
}

static int push_cell(struct parser *p, struct cell **head, void *item)
{
    struct cell *c = alloc(p, sizeof(*c));

    if (c == NULL)
        return p->status;
    c->item = item;
    c->next = *head;
    *head = c;
    return TW_OK;
}

/* Copies a newest-first list of n items into a new array in text order. */
static void **list_to_array(struct parser *p, const struct cell *head, size_t n)
{
    void **v = tw_arena_calloc(&p->pat->arena, n ? n : 1, sizeof(void *));

    if (v == NULL) {
        (void)oom(p);
        return NULL;
    }
    for (size_t i = n; i > 0 && head != NULL; i--, head = head->next)
        v[i - 1] = head->item;
    return v;
}

static int enter(struct parser *p)
{
    if (++p->depth > TW_PATTERN_MAX_DEPTH)
        return perr(p, TW_ELIMIT, p->tok.off, "nesting deeper than %d", TW_PATTERN_MAX_DEPTH);
    return TW_OK;
}

bool tw__pattern_is_keyword(struct tw_str s)
{
    for (size_t k = 0; k < TW_ARRAY_LEN(keywords); k++) {
        if (tw_str_eq_cstr(s, keywords[k].word))
            return true;
    }
    return false;
}

/* Unescapes a string literal body (\' and \\) into the arena. */
static struct tw_str unescape(struct parser *p, struct tw_str body)
{
    char *out = tw_arena_alloc(&p->pat->arena, body.len + 1);
    size_t n = 0;

    if (out == NULL) {
        (void)oom(p);
        return tw_str_make("", 0);
    }
    for (size_t i = 0; i < body.len; i++) {
        if (body.ptr[i] == '\\')
            i++;
        out[n++] = body.ptr[i];
    }
    out[n] = '\0';
    return tw_str_make(out, n);
}

/* ==== Literals ==== */

/* Canonical float text: optional '-', integer part without extra zeros, '.', fraction without
 * trailing zeros. */
static int float_canon(struct parser *p, struct tw_str raw, struct tw__lit *lit)
{
    const char *s = raw.ptr;
    size_t i = 0, dot, fs, fe;
    bool neg = false;
    char buf[64];
    size_t n = 0;

    if (s[0] == '+' || s[0] == '-')
        neg = s[i++] == '-';
    dot = i;
    while (s[dot] != '.')
        dot++;
    while (i < dot && s[i] == '0')
        i++;
    fs = dot + 1;
    fe = raw.len;
    while (fe > fs + 1 && s[fe - 1] == '0')
        fe--;
    if ((dot - i) + (fe - fs) + 4 > sizeof(buf))
        return perr(p, TW_EINVAL, lit->off, "number has too many digits");
    if (neg)
        buf[n++] = '-';
    if (i == dot)
        buf[n++] = '0';
    memcpy(buf + n, s + i, dot - i);
    n += dot - i;
    buf[n++] = '.';
    memcpy(buf + n, s + fs, fe - fs);
    n += fe - fs;
    if (tw_parse_double(tw_str_make(buf, n), &lit->f) != TW_OK)
        return perr(p, TW_EINVAL, lit->off, "number out of range");
    lit->text.ptr = tw_arena_strndup(&p->pat->arena, buf, n);
    lit->text.len = n;
    if (lit->text.ptr == NULL)
        return oom(p);
    return TW_OK;
}

static int int_lit(struct parser *p, struct tw_str raw, struct tw__lit *lit)
{
    char buf[32];
    int n;

    if (tw_parse_i64(raw, INT64_MIN, INT64_MAX, &lit->i) != TW_OK)
        return perr(p, TW_EINVAL, lit->off, "integer out of range");
    lit->f = (double)lit->i;
    n = snprintf(buf, sizeof(buf), "%lld", (long long)lit->i);
    lit->text.ptr = tw_arena_strndup(&p->pat->arena, buf, (size_t)n);
    lit->text.len = (size_t)n;
    if (lit->text.ptr == NULL)
        return oom(p);
    return TW_OK;
}

/* Which literals a position accepts (grammar: primitiveLiteral, orderableLiteral, StringLiteral).
 */
enum lit_set { LITS_PRIMITIVE, LITS_ORDERABLE, LITS_STRING };

/* Parses the literal at the current token into *lit and advances. */
static int parse_literal(struct parser *p, enum lit_set set, struct tw__lit *lit)
{
    const struct tok *t = &p->tok;
    int rc;

    memset(lit, 0, sizeof(*lit));
    lit->off = t->off;
    switch (t->kind) {
        case TK_STR:
            lit->kind = TW__LIT_STR;
            lit->text = unescape(p, t->body);
            break;
        case TK_INT:
            lit->kind = TW__LIT_INT;
            if ((rc = int_lit(p, t->body, lit)) != TW_OK)
                return rc;
            break;
        case TK_FLOAT:
            lit->kind = TW__LIT_FLOAT;
            if ((rc = float_canon(p, t->body, lit)) != TW_OK)
                return rc;
            break;
        case TK_TRUE:
        case TK_FALSE:
            lit->kind = TW__LIT_BOOL;
            lit->b = t->kind == TK_TRUE;
            lit->text = lit->b ? TW_STR("true") : TW_STR("false");
            break;
        case TK_TIME: {
            struct tw_err terr;
            lit->kind = TW__LIT_TIME;
            tw_err_clear(&terr);
            if (tw_time_parse(t->body, 0, &lit->t, &terr) != TW_OK) {
                size_t at = terr.offset == TW_NOPOS ? 0 : TW_MIN(terr.offset, t->body.len);
                return perr(p, TW_ESYNTAX, t->off + 2 + at, "invalid timestamp (%s)", terr.msg);
            }
            lit->text = t->body;
            break;
        }
        case TK_HEX: {
            char *h;
            uint8_t *bytes;
            lit->kind = TW__LIT_HEX;
            for (size_t i = 0; i < t->body.len; i++) {
                if (!tw_ascii_isxdigit(t->body.ptr[i]))
                    return perr(p, TW_ESYNTAX, t->off + 2 + i, "invalid hex digit");
            }
            if (t->body.len % 2 != 0)
                return perr(p, TW_ESYNTAX, t->off, "hex literal needs an even number of digits");
            h = tw_arena_alloc(&p->pat->arena, t->body.len + 1);
            bytes = tw_arena_alloc(&p->pat->arena, t->body.len / 2 + 1);
            if (h == NULL || bytes == NULL)
                return oom(p);
            for (size_t i = 0; i < t->body.len; i++)
                h[i] = tw_ascii_lower(t->body.ptr[i]);
            h[t->body.len] = '\0';
            lit->text = tw_str_make(h, t->body.len);
            if (tw_hex_decode(lit->text, bytes, t->body.len / 2) != TW_OK)
                return perr(p, TW_ESYNTAX, t->off, "invalid hex literal");
            lit->bytes = bytes;
            lit->n_bytes = t->body.len / 2;
            break;
        }
        case TK_BIN: {
            uint8_t *bytes;
            long n;
            lit->kind = TW__LIT_BIN;
            bytes = tw_arena_alloc(&p->pat->arena, t->body.len / 4 * 3 + 1);
            if (bytes == NULL)
                return oom(p);
            n = t->body.len == 0 ? -1 : tw__pattern_b64_decode(t->body, bytes);
            if (n < 0)
                return perr(p, TW_ESYNTAX, t->off, "invalid base64 in binary literal");
            lit->text = t->body;
            lit->bytes = bytes;
            lit->n_bytes = (size_t)n;
            break;
        }
        default:
            return unexpected(p, set == LITS_STRING ? "a string literal" : "a literal");
    }
    if (p->status != TW_OK)
        return p->status;
    if (set == LITS_STRING && lit->kind != TW__LIT_STR)
        return unexpected(p, "a string literal");
    if (set == LITS_ORDERABLE && lit->kind == TW__LIT_BOOL)
        return unexpected(p, "an orderable literal (not a boolean)");
    return next(p);
}

/* ==== Object paths ==== */

static bool valid_type_name(struct tw_str s)
{
    if (s.len < 3 || s.len > 250)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!((c >= 'a' && c <= 'z') || tw_ascii_isdigit(c) || c == '-'))
            return false;
    }
    return true;
}

/* True when s can be written bare in a path: an identifier without hyphens that is no keyword. */
static bool bare_key(struct tw_str s)
{
    if (s.len == 0 || !ident_start(s.ptr[0]) || tw__pattern_is_keyword(s))
        return false;
    for (size_t i = 1; i < s.len; i++) {
        if (!(ident_char(s.ptr[i]) && s.ptr[i] != '-'))
            return false;
    }
    /* h, b and t before a quote would lex as literals, but a key never precedes a quote. */
    return true;
}

static int append_key(struct tw_buf *b, struct tw_str key)
{
    int rc;

    if (bare_key(key))
        return tw_buf_append(b, key.ptr, key.len);
    if ((rc = tw_buf_putc(b, '\'')) != TW_OK)
        return rc;
    for (size_t i = 0; i < key.len; i++) {
        if ((key.ptr[i] == '\'' || key.ptr[i] == '\\') && (rc = tw_buf_putc(b, '\\')) != TW_OK)
            return rc;
        if ((rc = tw_buf_putc(b, key.ptr[i])) != TW_OK)
            return rc;
    }
    return tw_buf_putc(b, '\'');
}

/* Builds the canonical text of a path's steps into the arena. */
static int path_canon(struct parser *p, struct tw__path *path)
{
    struct tw_buf b;
    int rc = TW_OK;

    tw_buf_init(&b, (size_t)TW_PATTERN_MAX_LEN * 2);
    for (size_t i = 0; i < path->n_steps && rc == TW_OK; i++) {
        const struct tw__step *st = &path->steps[i];
        if (st->kind == TW__STEP_KEY) {
            if (i > 0)
                rc = tw_buf_putc(&b, '.');
            if (rc == TW_OK)
                rc = append_key(&b, st->key);
        } else if (st->kind == TW__STEP_ANY) {
            rc = tw_buf_puts(&b, "[*]");
        } else {
            rc = tw_buf_printf(&b, "[%lld]", (long long)st->index);
        }
    }
    if (rc == TW_OK) {
        path->canon.ptr = tw_arena_strndup(&p->pat->arena, b.ptr ? b.ptr : "", b.len);
        path->canon.len = b.len;
        if (path->canon.ptr == NULL)
            rc = TW_ENOMEM;
    }
    tw_buf_cleanup(&b);
    if (rc == TW_ENOMEM)
        return oom(p);
    if (rc != TW_OK)
        return perr(p, TW_ELIMIT, path->off, "object path too long");
    return TW_OK;
}

/* Finds or adds the path's type in the current bracket's type table. */
static int note_type(struct parser *p, struct tw__path *path)
{
    size_t idx = p->n_types;

    for (const struct cell *c = p->types; c != NULL; c = c->next) {
        idx--;
        if (tw_str_eq(*(const struct tw_str *)c->item, path->type)) {
            path->type_slot = idx;
            return TW_OK;
        }
    }
    if (p->n_types >= TW__PATTERN_MAX_TYPES)
        return perr(p, TW_ELIMIT, path->off, "more than %d object types in one bracket",
                TW__PATTERN_MAX_TYPES);
    if (push_cell(p, &p->types, &path->type) != TW_OK)
        return p->status;
    path->type_slot = p->n_types++;
    return TW_OK;
}

/* objectPath: type ':' first ( '.' key | '[' index ']' )* */
static int parse_path(struct parser *p, struct tw__path *path)
{
    struct cell *steps = NULL;
    size_t n = 0;
    int rc;

    memset(path, 0, sizeof(*path));
    path->off = p->tok.off;
    if (p->tok.kind != TK_IDENT)
        return unexpected(p, "an object path");
    path->type = p->tok.body;
    if (!valid_type_name(path->type))
        return perr(p, TW_EINVAL, p->tok.off,
                "invalid object type '%.*s' (3-250 characters of a-z, 0-9 and '-')",
                (int)TW_MIN(path->type.len, 40), path->type.ptr);
    if ((rc = next(p)) != TW_OK)
        return rc;
    if ((rc = expect(p, TK_COLON, "':' after the object type")) != TW_OK)
        return rc;
    for (;;) {
        struct tw__step *st;
        bool first = n == 0;

        if (!first && p->tok.kind != TK_DOT && p->tok.kind != TK_LBRACK)
            break;
        if (n >= TW__PATTERN_MAX_PATH_STEPS)
            return perr(p, TW_ELIMIT, p->tok.off, "object path longer than %d steps",
                    TW__PATTERN_MAX_PATH_STEPS);
        if ((st = alloc(p, sizeof(*st))) == NULL)
            return p->status;
        if (!first && p->tok.kind == TK_LBRACK) {
            if ((rc = next(p)) != TW_OK)
                return rc;
            if (p->tok.kind == TK_STAR) {
                st->kind = TW__STEP_ANY;
            } else if (p->tok.kind == TK_INT) {
                st->kind = TW__STEP_INDEX;
                if (tw_parse_i64(p->tok.body, INT64_MIN, INT64_MAX, &st->index) != TW_OK)
                    return perr(p, TW_EINVAL, p->tok.off, "list index out of range");
            } else {
                return unexpected(p, "a list index or '*'");
            }
            if ((rc = next(p)) != TW_OK)
                return rc;
            if ((rc = expect(p, TK_RBRACK, "']' after the list index")) != TW_OK)
                return rc;
        } else {
            if (!first && (rc = next(p)) != TW_OK) /* the dot */
                return rc;
            st->kind = TW__STEP_KEY;
            if (p->tok.kind == TK_STR) {
                st->key = unescape(p, p->tok.body);
            } else if (p->tok.kind == TK_IDENT && tw_str_find(p->tok.body, '-') < 0) {
                st->key = p->tok.body;
            } else if (p->tok.kind == TK_IDENT) {
                return perr(p, TW_ESYNTAX, p->tok.off,
                        "property name with '-' must be quoted: '%.*s'",
                        (int)TW_MIN(p->tok.body.len, 40), p->tok.body.ptr);
            } else {
                return unexpected(p, "a property name");
            }
            if ((rc = next(p)) != TW_OK)
                return rc;
        }
        if (push_cell(p, &steps, st) != TW_OK)
            return p->status;
        n++;
    }
    path->steps = tw_arena_calloc(&p->pat->arena, n, sizeof(*path->steps));
    if (path->steps == NULL)
        return oom(p);
    for (size_t i = n; i > 0; i--, steps = steps->next)
        path->steps[i - 1] = *(struct tw__step *)steps->item;
    path->n_steps = n;
    if ((rc = path_canon(p, path)) != TW_OK)
        return rc;
    return note_type(p, path);
}

/* ==== Comparison expressions ==== */

static bool key_ends(const struct tw__step *st, const char *suffix)
{
    return st->kind == TW__STEP_KEY && tw_str_ends_with(st->key, tw_str_cstr(suffix));
}

/*
 * ISSUBSET/ISSUPERSET compare networks, so the path must name an address:
 * ipv4-addr:value, ipv6-addr:value, or a value reached through a reference
 * (network-traffic:dst_ref.value, x:resolves_to_refs[*].value).
 */
static int check_cidr_operand(struct parser *p, struct tw__cmp *c)
{
    const struct tw__path *path = &c->path;
    const struct tw__step *last = &path->steps[path->n_steps - 1];
    bool v4 = tw_str_eq_cstr(path->type, "ipv4-addr");
    bool v6 = tw_str_eq_cstr(path->type, "ipv6-addr");
    bool ok = false;

    if (last->kind == TW__STEP_KEY && tw_str_eq_cstr(last->key, "value")) {
        bool via_ref = path->n_steps >= 2 && key_ends(last - 1, "_ref");
        bool via_refs =
                path->n_steps >= 3 && last[-1].kind != TW__STEP_KEY && key_ends(last - 2, "_refs");
        ok = path->n_steps == 1 ? (v4 || v6) : (via_ref || via_refs);
    }
    if (!ok)
        return perr(p, TW_EINVAL, path->off,
                "%s needs an IP address path (ipv4-addr:value, ipv6-addr:value or *_ref.value)",
                c->op == TW__OP_ISSUBSET ? "ISSUBSET" : "ISSUPERSET");
    if (!tw__pattern_cidr_parse(c->lits[0].text, &c->cidr))
        return perr(p, TW_EINVAL, c->lits[0].off, "invalid IP address or CIDR '%.*s'",
                (int)TW_MIN(c->lits[0].text.len, 60), c->lits[0].text.ptr);
    if ((v4 && c->cidr.family != 4) || (v6 && c->cidr.family != 6))
        return perr(p, TW_EINVAL, c->lits[0].off, "address family does not match '%.*s'",
                (int)path->type.len, path->type.ptr);
    return TW_OK;
}

static int compile_regex(struct parser *p, struct tw__cmp *c)
{
    const struct tw__lit *lit = &c->lits[0];
    struct tw_regex_link *link;
    int errcode;
    PCRE2_SIZE erroff;

    c->re = pcre2_compile(
            (PCRE2_SPTR)lit->text.ptr, lit->text.len, PCRE2_UTF, &errcode, &erroff, NULL);
    if (c->re == NULL) {
        PCRE2_UCHAR msg[120];
        if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
            msg[0] = '\0';
        if (errcode == PCRE2_ERROR_NOMEMORY)
            return oom(p);
        return perr(p, TW_EINVAL, lit->off, "invalid regular expression: %s", (const char *)msg);
    }
    link = alloc(p, sizeof(*link));
    if (link == NULL) {
        pcre2_code_free(c->re);
        c->re = NULL;
        return p->status;
    }
    link->re = c->re;
    link->next = p->pat->regexes;
    p->pat->regexes = link;
    return TW_OK;
}

static bool numeric(enum tw__lit_kind k)
{
    return k == TW__LIT_INT || k == TW__LIT_FLOAT;
}

/* setLiteral: '(' literal (',' literal)* ')', non-empty and of one kind. */
static int parse_set(struct parser *p, struct tw__cmp *c)
{
    struct cell *items = NULL;
    size_t n = 0, open = p->tok.off;
    int rc;

    if ((rc = expect(p, TK_LPAREN, "'(' after IN")) != TW_OK)
        return rc;
    if (p->tok.kind == TK_RPAREN)
        return perr(p, TW_EINVAL, open, "IN needs at least one value");
    for (;;) {
        struct tw__lit *lit = alloc(p, sizeof(*lit));
        if (lit == NULL)
            return p->status;
        if ((rc = parse_literal(p, LITS_PRIMITIVE, lit)) != TW_OK)
            return rc;
        if (push_cell(p, &items, lit) != TW_OK)
            return p->status;
        n++;
        if (p->tok.kind != TK_COMMA)
            break;
        if ((rc = next(p)) != TW_OK)
            return rc;
    }
    if ((rc = expect(p, TK_RPAREN, "',' or ')' in the IN list")) != TW_OK)
        return rc;
    c->lits = tw_arena_calloc(&p->pat->arena, n, sizeof(*c->lits));
    if (c->lits == NULL)
        return oom(p);
    for (size_t i = n; i > 0; i--, items = items->next)
        c->lits[i - 1] = *(struct tw__lit *)items->item;
    c->n_lits = n;
    for (size_t i = 1; i < n; i++) {
        enum tw__lit_kind a = c->lits[0].kind, b = c->lits[i].kind;
        if (a != b && !(numeric(a) && numeric(b)))
            return perr(p, TW_EINVAL, c->lits[i].off, "IN list mixes kinds of values");
    }
    return TW_OK;
}

static int parse_cmp_or(struct parser *p, struct tw__cmp **out);

/* propTest: '(' comparisonExpression ')' | EXISTS path | path NOT? operator operand */
static int parse_cmp_unit(struct parser *p, struct tw__cmp **out)
{
    struct tw__cmp *c;
    enum tw__cmp_op op;
    enum lit_set set = LITS_STRING;
    int rc;

    if (p->tok.kind == TK_LPAREN) {
        if ((rc = enter(p)) != TW_OK || (rc = next(p)) != TW_OK)
            return rc;
        if ((rc = parse_cmp_or(p, out)) != TW_OK)
            return rc;
        p->depth--;
        return expect(p, TK_RPAREN, "')'");
    }
    if ((c = alloc(p, sizeof(*c))) == NULL)
        return p->status;
    c->kind = TW__CMP_TEST;
    *out = c;
    if (p->tok.kind == TK_EXISTS) {
        c->op = TW__OP_EXISTS;
        if ((rc = next(p)) != TW_OK)
            return rc;
        return parse_path(p, &c->path);
    }
    if (p->tok.kind == TK_NOT)
        return perr(p, TW_ESYNTAX, p->tok.off, "NOT goes between the object path and the operator");
    if ((rc = parse_path(p, &c->path)) != TW_OK)
        return rc;
    if (p->tok.kind == TK_NOT) {
        c->negated = true;
        if ((rc = next(p)) != TW_OK)
            return rc;
    }
    switch (p->tok.kind) {
        case TK_EQ:
            op = TW__OP_EQ, set = LITS_PRIMITIVE;
            break;
        case TK_NE:
            op = TW__OP_NE, set = LITS_PRIMITIVE;
            break;
        case TK_LT:
            op = TW__OP_LT, set = LITS_ORDERABLE;
            break;
        case TK_LE:
            op = TW__OP_LE, set = LITS_ORDERABLE;
            break;
        case TK_GT:
            op = TW__OP_GT, set = LITS_ORDERABLE;
            break;
        case TK_GE:
            op = TW__OP_GE, set = LITS_ORDERABLE;
            break;
        case TK_IN:
            op = TW__OP_IN;
            break;
        case TK_LIKE:
            op = TW__OP_LIKE;
            break;
        case TK_MATCHES:
            op = TW__OP_MATCHES;
            break;
        case TK_ISSUBSET:
            op = TW__OP_ISSUBSET;
            break;
        case TK_ISSUPERSET:
            op = TW__OP_ISSUPERSET;
            break;
        case TK_EXISTS:
            return perr(p, TW_ESYNTAX, p->tok.off, "EXISTS goes before the object path");
        case TK_IDENT:
            return perr(p, TW_ESYNTAX, p->tok.off, "unknown operator '%.*s'",
                    (int)TW_MIN(p->tok.body.len, 40), p->tok.body.ptr);
        default:
            return unexpected(p, "a comparison operator");
    }
    c->op = op;
    if ((rc = next(p)) != TW_OK)
        return rc;
    if (op == TW__OP_IN)
        return parse_set(p, c);
    if ((c->lits = alloc(p, sizeof(*c->lits))) == NULL)
        return p->status;
    c->n_lits = 1;
    if ((rc = parse_literal(p, set, c->lits)) != TW_OK)
        return rc;
    if (op == TW__OP_ISSUBSET || op == TW__OP_ISSUPERSET)
        return check_cidr_operand(p, c);
    if (op == TW__OP_MATCHES)
        return compile_regex(p, c);
    return TW_OK;
}

/* Parses `unit (OP unit)*` for one operator into an n-ary node (or the single unit). */
static int parse_cmp_chain(struct parser *p, enum tw__cmp_kind kind, struct tw__cmp **out)
{
    enum tok_kind op_tok = kind == TW__CMP_AND ? TK_AND : TK_OR;
    struct cell *kids = NULL;
    size_t n = 0;
    int rc;

    for (;;) {
        struct tw__cmp *k = NULL;
        rc = kind == TW__CMP_AND ? parse_cmp_unit(p, &k) : parse_cmp_chain(p, TW__CMP_AND, &k);
        if (rc != TW_OK)
            return rc;
        if (push_cell(p, &kids, k) != TW_OK)
            return p->status;
        n++;
        if (p->tok.kind != op_tok)
            break;
        if ((rc = next(p)) != TW_OK)
            return rc;
    }
    if (n == 1 && kids != NULL) {
        *out = kids->item;
        return TW_OK;
    }
    if ((*out = alloc(p, sizeof(**out))) == NULL)
        return p->status;
    (*out)->kind = kind;
    (*out)->kids = (struct tw__cmp **)list_to_array(p, kids, n);
    (*out)->n_kids = n;
    return p->status;
}

static int parse_cmp_or(struct parser *p, struct tw__cmp **out)
{
    return parse_cmp_chain(p, TW__CMP_OR, out);
}

/* ==== Observation expressions ==== */

static int parse_obs_fb(struct parser *p, struct tw__obs **out);

static int parse_bracket(struct parser *p, struct tw__obs **out)
{
    struct tw__obs *o;
    int rc;

    if ((o = alloc(p, sizeof(*o))) == NULL)
        return p->status;
    o->kind = TW__OBS_BRACKET;
    o->leaf_id = p->pat->n_leaves++;
    p->types = NULL;
    p->n_types = 0;
    if ((rc = enter(p)) != TW_OK || (rc = next(p)) != TW_OK)
        return rc;
    if (p->tok.kind == TK_RBRACK)
        return perr(p, TW_ESYNTAX, p->tok.off, "empty observation expression");
    if ((rc = parse_cmp_or(p, &o->cmp)) != TW_OK)
        return rc;
    if (p->tok.kind != TK_RBRACK)
        return unexpected(p, "']'");
    p->depth--;
    o->types = (struct tw_str *)tw_arena_calloc(&p->pat->arena, p->n_types, sizeof(*o->types));
    if (o->types == NULL)
        return oom(p);
    {
        size_t i = p->n_types;
        for (const struct cell *c = p->types; c != NULL; c = c->next)
            o->types[--i] = *(const struct tw_str *)c->item;
    }
    o->n_types = p->n_types;
    *out = o;
    return next(p);
}

static int parse_qualifier(struct parser *p, struct tw__obs *q)
{
    int rc;

    if (q->kind == TW__OBS_WITHIN) {
        if (p->tok.kind != TK_INT && p->tok.kind != TK_FLOAT)
            return unexpected(p, "a positive number of seconds");
        if (p->tok.body.ptr[0] == '-')
            return perr(p, TW_ESYNTAX, p->tok.off, "WITHIN needs a positive number");
        if ((rc = parse_literal(p, LITS_ORDERABLE, &q->within)) != TW_OK)
            return rc;
        if (q->within.f <= 0)
            return perr(p, TW_EINVAL, q->within.off, "WITHIN needs a positive number");
        return expect(p, TK_SECONDS, "SECONDS");
    }
    if (q->kind == TW__OBS_REPEATS) {
        struct tw__lit n;
        if (p->tok.kind != TK_INT)
            return unexpected(p, "a positive integer");
        if (p->tok.body.ptr[0] == '-')
            return perr(p, TW_ESYNTAX, p->tok.off, "REPEATS needs a positive integer");
        if ((rc = parse_literal(p, LITS_ORDERABLE, &n)) != TW_OK)
            return rc;
        if (n.i <= 0)
            return perr(p, TW_EINVAL, n.off, "REPEATS needs a positive integer");
        q->repeats = n.i;
        return expect(p, TK_TIMES, "TIMES");
    }
    if (p->tok.kind != TK_TIME)
        return unexpected(p, "a timestamp t'...' after START");
    if ((rc = parse_literal(p, LITS_ORDERABLE, &q->start)) != TW_OK)
        return rc;
    if ((rc = expect(p, TK_STOP, "STOP")) != TW_OK)
        return rc;
    if (p->tok.kind != TK_TIME)
        return unexpected(p, "a timestamp t'...' after STOP");
    if ((rc = parse_literal(p, LITS_ORDERABLE, &q->stop)) != TW_OK)
        return rc;
    if (tw_time_cmp(&q->stop.t, &q->start.t) <= 0)
        return perr(p, TW_EINVAL, q->stop.off, "STOP must be later than START");
    return TW_OK;
}

/* observationExpression: ( '[' ... ']' | '(' ... ')' ) qualifier* */
static int parse_obs_unit(struct parser *p, struct tw__obs **out)
{
    unsigned seen = 0;
    int rc;

    if (p->tok.kind == TK_LBRACK) {
        if ((rc = parse_bracket(p, out)) != TW_OK)
            return rc;
    } else if (p->tok.kind == TK_LPAREN) {
        if ((rc = enter(p)) != TW_OK || (rc = next(p)) != TW_OK)
            return rc;
        if ((rc = parse_obs_fb(p, out)) != TW_OK)
            return rc;
        p->depth--;
        if ((rc = expect(p, TK_RPAREN, "')'")) != TW_OK)
            return rc;
    } else {
        return unexpected(p, "'[' or '('");
    }
    for (;;) {
        struct tw__obs *q;
        enum tw__obs_kind kind;
        unsigned bit;
        size_t at = p->tok.off;

        if (p->tok.kind == TK_WITHIN)
            kind = TW__OBS_WITHIN, bit = TW__QUAL_WITHIN;
        else if (p->tok.kind == TK_REPEATS)
            kind = TW__OBS_REPEATS, bit = TW__QUAL_REPEATS;
        else if (p->tok.kind == TK_START)
            kind = TW__OBS_STARTSTOP, bit = TW__QUAL_STARTSTOP;
        else
            break;
        if (seen & bit)
            return perr(p, TW_ESYNTAX, at, "duplicate %s qualifier",
                    kind == TW__OBS_WITHIN    ? "WITHIN"
                    : kind == TW__OBS_REPEATS ? "REPEATS"
                                              : "START/STOP");
        seen |= bit;
        if ((q = alloc(p, sizeof(*q))) == NULL)
            return p->status;
        q->kind = kind;
        if ((q->kids = alloc(p, sizeof(struct tw__obs *))) == NULL)
            return p->status;
        q->kids[0] = *out;
        q->n_kids = 1;
        if ((rc = next(p)) != TW_OK || (rc = parse_qualifier(p, q)) != TW_OK)
            return rc;
        *out = q;
    }
    return TW_OK;
}

static int parse_obs_chain(struct parser *p, enum tw__obs_kind kind, struct tw__obs **out)
{
    enum tok_kind op_tok = kind == TW__OBS_AND  ? TK_AND
                           : kind == TW__OBS_OR ? TK_OR
                                                : TK_FOLLOWEDBY;
    struct cell *kids = NULL;
    size_t n = 0;
    int rc;

    for (;;) {
        struct tw__obs *k = NULL;
        if (kind == TW__OBS_AND)
            rc = parse_obs_unit(p, &k);
        else
            rc = parse_obs_chain(p, kind == TW__OBS_OR ? TW__OBS_AND : TW__OBS_OR, &k);
        if (rc != TW_OK)
            return rc;
        if (push_cell(p, &kids, k) != TW_OK)
            return p->status;
        n++;
        if (p->tok.kind != op_tok)
            break;
        if ((rc = next(p)) != TW_OK)
            return rc;
    }
    if (n == 1 && kids != NULL) {
        *out = kids->item;
        return TW_OK;
    }
    if ((*out = alloc(p, sizeof(**out))) == NULL)
        return p->status;
    (*out)->kind = kind;
    (*out)->kids = (struct tw__obs **)list_to_array(p, kids, n);
    (*out)->n_kids = n;
    return p->status;
}

static int parse_obs_fb(struct parser *p, struct tw__obs **out)
{
    return parse_obs_chain(p, TW__OBS_FOLLOWEDBY, out);
}

/* ==== Public API ==== */

int tw_pattern_parse(struct tw_str text, struct tw_pattern **out, struct tw_err *err)
{
    struct parser p;
    struct tw_pattern *pat;
    int rc;

    *out = NULL;
    tw_err_clear(err);
    memset(&p, 0, sizeof(p));
    p.text = text;
    p.err = err;
    if (text.ptr == NULL)
        p.text = tw_str_make("", 0);
    if (p.text.len > (size_t)TW_PATTERN_MAX_LEN)
        return perr(&p, TW_ELIMIT, (size_t)TW_PATTERN_MAX_LEN, "pattern longer than %d bytes",
                TW_PATTERN_MAX_LEN);
    pat = tw_calloc(1, sizeof(*pat));
    if (pat == NULL)
        return perr(&p, TW_ENOMEM, 0, "out of memory");
    tw_arena_init(&pat->arena, 0, (size_t)TW_PATTERN_MAX_LEN * 64);
    p.pat = pat;
    /* Parse a private copy: every slice in the tree then borrows from the pattern. */
    p.text.ptr = tw_arena_strndup(&pat->arena, p.text.ptr, p.text.len);
    if (p.text.ptr == NULL) {
        tw_pattern_free(pat);
        return perr(&p, TW_ENOMEM, 0, "out of memory");
    }
    if ((rc = next(&p)) == TW_OK) {
        if (p.tok.kind == TK_EOF)
            rc = perr(&p, TW_ESYNTAX, p.tok.off, "empty pattern");
        else
            rc = parse_obs_fb(&p, &pat->root);
    }
    if (rc == TW_OK && p.tok.kind != TK_EOF)
        rc = unexpected(&p, p.tok.kind == TK_RBRACK || p.tok.kind == TK_RPAREN
                                    ? "end of pattern (unbalanced brackets)"
                                    : "end of pattern");
    if (rc != TW_OK) {
        tw_pattern_free(pat);
        return rc;
    }
    *out = pat;
    return TW_OK;
}

void tw_pattern_free(struct tw_pattern *p)
{
    if (p == NULL)
        return;
    for (struct tw_regex_link *l = p->regexes; l != NULL; l = l->next)
        pcre2_code_free(l->re);
    tw_arena_cleanup(&p->arena);
    tw_free(p);
}

/* Level of an observation tree: 1 for a bracket, 2 with AND/OR, 3 with FOLLOWEDBY or a qualifier.
 */
static int obs_level(const struct tw__obs *o)
{
    int lvl;

    switch (o->kind) {
        case TW__OBS_BRACKET:
            return 1;
        case TW__OBS_AND:
        case TW__OBS_OR:
            lvl = 2;
            break;
        default:
            return 3;
    }
    for (size_t i = 0; i < o->n_kids && lvl < 3; i++)
        lvl = TW_MAX(lvl, obs_level(o->kids[i]));
    return lvl;
}

int tw_pattern_level(const struct tw_pattern *p)
{
    return obs_level(p->root);
}
