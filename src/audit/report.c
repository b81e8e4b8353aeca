/*
 * report.c: the findings of a fleet as a report (the tw_report API of
 * include/tidewatch/audit.h).
 *
 * A report outlives the devices it describes: the command line parses a
 * device, audits it, records it and its findings here and frees it. So every
 * string is copied, once: the report interns its strings (rule ids, titles,
 * file names, contexts, evidence, messages) in an arena through a hash table,
 * and a finding is a row of pointers into it. A fleet of 10,000 devices with
 * 30 findings each costs about 90 bytes per finding plus each distinct string
 * once. Strings are made valid UTF-8 when they are interned (a stray byte
 * becomes U+FFFD) and cut at TW_REPORT_MAX_STR bytes, so every format can
 * carry them.
 *
 * Devices keep the order they were recorded in; the findings of a device are
 * written most severe first, then in rule order, file, line and arrival. The
 * four writers share that order: text (grouped by device, for people),
 * JSON lines and CSV (one finding per line or row, for machines and
 * spreadsheets) and HTML (one self-contained file, in report_html.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"

/* ==== Interning ==== */

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0u) != 0x80u)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3fu);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF. */
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
                (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t k = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

    if (k > n)
        return 0;
    return utf8_valid(s, k) ? k : 0;
}

/*
 * Copies s (n bytes) into out as valid UTF-8 of at most cap - 1 bytes (bytes
 * that are not UTF-8 become U+FFFD; a cut string ends in "..."), and returns
 * the length written. out has cap bytes.
 */
static size_t utf8_clean(const char *s, size_t n, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;

    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        size_t need = k ? k : 3;
        if (o + need + 4 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (k) {
            memcpy(out + o, s + i, k);
            i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            i++;
        }
        o += need;
    }
    out[o] = '\0';
    return o;
}

static int intern_grow(struct tw_report *r)
{
    size_t cap = r->slots_cap ? r->slots_cap * 2 : 1024;
    struct rep_slot *slots = tw_calloc(cap, sizeof(*slots));

    if (slots == NULL)
        return TW_ENOMEM;
    for (size_t i = 0; i < r->slots_cap; i++) {
        const struct rep_slot *s = &r->slots[i];
        size_t j;
        if (s->str == NULL)
            continue;
        for (j = s->hash & (cap - 1); slots[j].str != NULL; j = (j + 1) & (cap - 1))
            ;
        slots[j] = *s;
    }
    tw_free(r->slots);
    r->slots = slots;
    r->slots_cap = cap;
    return TW_OK;
}

const char *tw__report_intern(struct tw_report *r, const char *s)
{
    char clean[TW_REPORT_MAX_STR];
    size_t n, j;
    uint64_t h;
    char *copy;

    if (s == NULL || *s == '\0')
        return "";
    n = strlen(s);
    if (n >= TW_REPORT_MAX_STR || !utf8_valid((const unsigned char *)s, n)) {
        n = utf8_clean(s, n, clean, sizeof(clean));
        s = clean;
    }
    if (r->n_strings * 2 >= r->slots_cap) {
        if (r->n_strings >= TW_REPORT_MAX_STRINGS || intern_grow(r) != TW_OK)
            return NULL;
    }
    h = tw_hash64(s, n, 0x7e57ull);
    for (j = h & (r->slots_cap - 1); r->slots[j].str != NULL; j = (j + 1) & (r->slots_cap - 1)) {
        const struct rep_slot *sl = &r->slots[j];
        if (sl->hash == h && sl->len == n && memcmp(sl->str, s, n) == 0)
            return sl->str;
    }
    copy = tw_arena_strndup(&r->arena, s, n);
    if (copy == NULL)
        return NULL;
    r->slots[j].str = copy;
    r->slots[j].len = n;
    r->slots[j].hash = h;
    r->n_strings++;
    return copy;
}

/* ==== Building a report ==== */

int tw_report_format_parse(struct tw_str s, enum tw_report_format *out)
{
    static const char *const names[] = { "text", "jsonl", "csv", "html" };

    for (size_t i = 0; i < TW_ARRAY_LEN(names); i++) {
        if (tw_str_caseeq(s, tw_str_cstr(names[i]))) {
            *out = (enum tw_report_format)i;
            return TW_OK;
        }
    }
    return TW_EINVAL;
}

struct tw_report *tw_report_new(const struct tw_ruleset *rs)
{
    struct tw_report *r = tw_calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->rs = rs;
    tw_arena_init(&r->arena, (size_t)64 << 10, TW_REPORT_MAX_BYTES);
    if (intern_grow(r) != TW_OK) {
        tw_free(r);
        return NULL;
    }
    return r;
}

void tw_report_free(struct tw_report *r)
{
    if (r == NULL)
        return;
    tw_arena_cleanup(&r->arena);
    tw_free(r->slots);
    tw_free(r->devices);
    tw_free(r->findings);
    tw_free(r);
}

/* Grows an array of *cap elements of size bytes to hold one more; TW_OK, TW_ENOMEM or TW_ELIMIT. */
static int grow(void **arr, size_t n, size_t *cap, size_t size, size_t max)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return TW_OK;
    if (n >= max)
        return TW_ELIMIT;
    ncap = *cap ? *cap * 2 : 64;
    if (ncap > max)
        ncap = max;
    p = tw_reallocarray(*arr, ncap, size);
    if (p == NULL)
        return TW_ENOMEM;
    *arr = p;
    *cap = ncap;
    return TW_OK;
}

static struct rep_device *new_device(struct tw_report *r)
{
    struct rep_device *d;
    void *arr = r->devices;
    int rc = grow(&arr, r->n_devices, &r->devices_cap, sizeof(*r->devices), TW_REPORT_MAX_DEVICES);

    r->devices = arr;
    if (rc != TW_OK)
        return NULL;
    d = &r->devices[r->n_devices++];
    memset(d, 0, sizeof(*d));
    d->name = d->hostname = d->path = d->version = d->version_from = d->model = d->error = "";
    d->first = r->n_findings;
    return d;
}

/* Interns s into *dst; returns 1 on ENOMEM (the report is then marked failed), else 0. */
static unsigned put(struct tw_report *r, const char **dst, const char *s)
{
    const char *v = tw__report_intern(r, s);

    if (v == NULL) {
        r->failed = true;
        *dst = "";
        return 1;
    }
    *dst = v;
    return 0;
}

int tw_report_device(struct tw_report *r, const struct tw_devconf *d)
{
    struct rep_device *rd = new_device(r);
    unsigned bad;

    if (rd == NULL) {
        r->failed = true;
        return TW_ENOMEM;
    }
    bad = put(r, &rd->name, d->name) + put(r, &rd->hostname, d->hostname) +
          put(r, &rd->path, d->path) + put(r, &rd->version, d->version) +
          put(r, &rd->version_from, d->version_from) + put(r, &rd->model, d->model);
    rd->platform = d->platform;
    rd->n_lines = d->n_lines;
    rd->n_nodes = d->n_nodes;
    rd->n_warnings = d->n_warnings;
    rd->bytes = d->bytes;
    return bad == 0 ? TW_OK : TW_ENOMEM;
}

/* Whether msg already says where: "WORD N" with N a number ("line 3", "offset 17"). */
static bool says_where(const char *msg, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = strstr(msg, word); p != NULL; p = strstr(p + 1, word))
        if (p[n] == ' ' && p[n + 1] >= '0' && p[n + 1] <= '9')
            return true;
    return false;
}

int tw_report_device_error(struct tw_report *r, const char *path, const struct tw_err *err)
{
    struct rep_device *rd = new_device(r);
    char msg[sizeof(err->msg) + 64];

    if (rd == NULL) {
        r->failed = true;
        return TW_ENOMEM;
    }
    rd->failed = true;
    r->n_errors++;
    if (err == NULL) {
        (void)snprintf(msg, sizeof(msg), "could not be read");
    } else if (err->line > 0 && !says_where(err->msg, "line")) {
        (void)snprintf(msg, sizeof(msg), "line %zu: %s", err->line, err->msg);
    } else if (err->line == 0 && err->offset != TW_NOPOS && !says_where(err->msg, "offset") &&
               !says_where(err->msg, "byte")) {
        (void)snprintf(msg, sizeof(msg), "byte %zu: %s", err->offset, err->msg);
    } else {
        (void)snprintf(msg, sizeof(msg), "%s", err->msg[0] ? err->msg : tw_strerror(err->code));
    }
    if (put(r, &rd->path, path) + put(r, &rd->name, path) + put(r, &rd->error, msg) != 0)
        return TW_ENOMEM;
    return TW_OK;
}

int tw_report_add(void *ctx, const struct tw_finding *f)
{
    struct tw_report *r = ctx;
    struct rep_finding *rf;
    struct rep_device *d;
    void *arr = r->findings;
    unsigned bad;
    int rc;

    /* A finding before any device (a caller's slip) still gets a device. */
    if (r->n_devices == 0 || r->devices[r->n_devices - 1].failed) {
        d = new_device(r);
        if (d == NULL || put(r, &d->name, f->device) + put(r, &d->path, f->file) != 0) {
            r->failed = true;
            return TW_ENOMEM;
        }
        d->platform = f->platform;
    }
    rc = grow(&arr, r->n_findings, &r->findings_cap, sizeof(*r->findings), TW_REPORT_MAX_FINDINGS);
    r->findings = arr;
    if (rc != TW_OK) {
        r->failed = true;
        return rc;
    }
    rf = &r->findings[r->n_findings];
    memset(rf, 0, sizeof(*rf));
    bad = put(r, &rf->file, f->file) + put(r, &rf->rule_id, f->rule_id) +
          put(r, &rf->title, f->title) + put(r, &rf->context, f->context) +
          put(r, &rf->evidence, f->evidence) + put(r, &rf->message, f->message) +
          put(r, &rf->touches, f->touches) + put(r, &rf->ref, f->ref);
    if (bad != 0)
        return TW_ENOMEM;
    rf->rule = f->rule;
    rf->line = f->line;
    rf->severity = (unsigned)f->severity < TW_SEV_COUNT ? (uint8_t)f->severity : TW_SEV_INFO;
    if (f->delta == '+' || f->delta == '-')
        rf->delta = f->delta;
    rf->implicit = f->implicit;
    rf->device = (uint32_t)(r->n_devices - 1);
    d = &r->devices[r->n_devices - 1];
    d->n++;
    d->counts[rf->severity]++;
    r->counts[rf->severity]++;
    r->n_findings++;
    return TW_OK;
}

int tw_report_max_severity(const struct tw_report *r)
{
    for (int s = TW_SEV_COUNT - 1; s >= 0; s--)
        if (r->counts[s] > 0)
            return s;
    return -1;
}

void tw_report_counts(const struct tw_report *r, uint64_t out[TW_SEV_COUNT])
{
    for (unsigned s = 0; s < TW_SEV_COUNT; s++)
        out[s] = r->counts[s];
}

/* ==== Order and shared helpers ==== */

static int cmp_finding(const void *a, const void *b)
{
    const struct rep_finding *x = *(const struct rep_finding *const *)a;
    const struct rep_finding *y = *(const struct rep_finding *const *)b;
    int c;

    if (x->device != y->device)
        return x->device < y->device ? -1 : 1;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    c = strcmp(x->file, y->file);
    if (c != 0)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    /* Arrival order: rows of one array compare by address. */
    return x < y ? -1 : x > y ? 1 : 0;
}

const struct rep_finding **tw__report_sorted(const struct tw_report *r)
{
    const struct rep_finding **v =
            tw_calloc(r->n_findings ? r->n_findings : 1, sizeof(const struct rep_finding *));

    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < r->n_findings; i++)
        v[i] = &r->findings[i];
    if (r->n_findings > 1)
        qsort((void *)v, r->n_findings, sizeof(const struct rep_finding *), cmp_finding);
    return v;
}

const struct tw_rule_info *tw__report_rule(const struct tw_report *r, size_t rule)
{
    if (r->rs == NULL || rule >= tw_ruleset_count(r->rs))
        return NULL;
    return tw_ruleset_rule(r->rs, rule);
}

const char *tw__report_delta_name(char delta)
{
    return delta == '+' ? "added" : delta == '-' ? "removed" : NULL;
}

static const char *const needs_names[] = { "config", "operational", "baseline", "intel" };

size_t tw__report_needs(unsigned needs, const char *out[4])
{
    size_t n = 0;

    for (unsigned i = 0; i < TW_ARRAY_LEN(needs_names); i++)
        if (needs & (1u << i))
            out[n++] = needs_names[i];
    return n;
}

/* ==== Text ==== */

/* Writes s for a terminal: control characters as \xNN, a newline as a newline plus indent. */
static void text_put(FILE *out, const char *s, const char *indent)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' && indent != NULL)
            fprintf(out, "\n%s", indent);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
}

static void sev_upper(enum tw_severity s, char out[16])
{
    const char *n = tw_severity_name(s);
    size_t i = 0;

    for (; i < 15 && n[i]; i++)
        out[i] = (char)(n[i] >= 'a' && n[i] <= 'z' ? n[i] - 'a' + 'A' : n[i]);
    out[i] = '\0';
}

static void text_device_head(FILE *out, const struct rep_device *d)
{
    fputs("== ", out);
    text_put(out, d->name, NULL);
    if (d->failed) {
        fputs("  could not be read\n   ", out);
        text_put(out, d->path, NULL);
        fputs(": ", out);
        text_put(out, d->error, NULL);
        fputs("\n\n", out);
        return;
    }
    fprintf(out, "  (%s, ", tw_platform_title(d->platform));
    if (d->version[0]) {
        fputs("version ", out);
        text_put(out, d->version, NULL);
        if (d->version_from[0]) {
            fputs(" from ", out);
            text_put(out, d->version_from, NULL);
        }
    } else {
        fputs("version unknown", out);
    }
    if (d->model[0]) {
        fputs(", ", out);
        text_put(out, d->model, NULL);
    }
    fputs(")\n   ", out);
    text_put(out, d->path, NULL);
    fprintf(out, ": %u lines, %u statements", d->n_lines, d->n_nodes);
    if (d->n_warnings > 0)
        fprintf(out, ", %u parser warning%s", d->n_warnings, d->n_warnings == 1 ? "" : "s");
    fprintf(out, "; %u finding%s\n", d->n, d->n == 1 ? "" : "s");
}

static void text_finding(FILE *out, const struct rep_finding *f)
{
    static const char indent[] = "              ";
    char sev[16];

    sev_upper((enum tw_severity)f->severity, sev);
    fprintf(out, "%-8s ", sev);
    text_put(out, f->rule_id, NULL);
    fputc(' ', out);
    text_put(out, f->file, NULL);
    if (f->line > 0)
        fprintf(out, ":%u", f->line);
    fputs("  ", out);
    text_put(out, f->title, NULL);
    fputc('\n', out);
    if (f->context[0]) {
        fputs("    context:  ", out);
        text_put(out, f->context, indent);
        fputc('\n', out);
    }
    if (f->evidence[0]) {
        fprintf(out, "    %-9s ",
                f->delta == '+'   ? "added:"
                : f->delta == '-' ? "removed:"
                                  : "evidence:");
        text_put(out, f->evidence, indent);
        if (f->implicit)
            fputs("  (platform default)", out);
        fputc('\n', out);
    }
    if (f->message[0]) {
        fputs("    message:  ", out);
        text_put(out, f->message, indent);
        fputc('\n', out);
    }
    if (f->touches[0] && strcmp(f->touches, f->rule_id) != 0) {
        fputs("    touches:  ", out);
        text_put(out, f->touches, NULL);
        fputc('\n', out);
    }
    if (f->ref[0]) {
        fputs("    ref:      ", out);
        text_put(out, f->ref, NULL);
        fputc('\n', out);
    }
}

void tw__report_summary_text(const struct tw_report *r, FILE *out)
{
    uint64_t worst[TW_SEV_COUNT] = { 0 }, clean = 0, total = 0;

    for (size_t i = 0; i < r->n_devices; i++) {
        const struct rep_device *d = &r->devices[i];
        int w = -1;
        if (d->failed)
            continue;
        for (int s = TW_SEV_COUNT - 1; s >= 0 && w < 0; s--)
            if (d->counts[s] > 0)
                w = s;
        if (w < 0)
            clean++;
        else
            worst[w]++;
    }
    for (unsigned s = 0; s < TW_SEV_COUNT; s++)
        total += r->counts[s];
    fputs("== fleet summary\n", out);
    fprintf(out, "devices audited      %zu\n", r->n_devices - r->n_errors);
    fprintf(out, "devices with errors  %zu\n", r->n_errors);
    fprintf(out, "findings             %llu:", (unsigned long long)total);
    for (int s = TW_SEV_COUNT - 1; s >= 0; s--)
        fprintf(out, " %llu %s%s", (unsigned long long)r->counts[s],
                tw_severity_name((enum tw_severity)s), s > 0 ? "," : "\n");
    fputs("devices by worst    ", out);
    for (int s = TW_SEV_COUNT - 1; s >= 0; s--)
        fprintf(out, " %llu %s,", (unsigned long long)worst[s],
                tw_severity_name((enum tw_severity)s));
    fprintf(out, " %llu with no finding\n", (unsigned long long)clean);
}

static int write_text(const struct tw_report *r, FILE *out)
{
    const struct rep_finding **v = tw__report_sorted(r);
    size_t k = 0;

    if (v == NULL)
        return TW_ENOMEM;
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct rep_device *d = &r->devices[i];
        int last_sev = -1;
        text_device_head(out, d);
        if (d->failed)
            continue;
        for (; k < r->n_findings && v[k]->device == i; k++) {
            if (v[k]->severity != last_sev)
                fputc('\n', out);
            last_sev = v[k]->severity;
            text_finding(out, v[k]);
        }
        fputc('\n', out);
    }
    tw__report_summary_text(r, out);
    tw_free((void *)v);
    return TW_OK;
}

/* ==== JSON lines ==== */

static json_t *json_str(const char *s)
{
    /* Interned strings are valid UTF-8 already. */
    return json_stringn_nocheck(s, strlen(s));
}

static int write_jsonl(const struct tw_report *r, FILE *out)
{
    const struct rep_finding **v = tw__report_sorted(r);
    char buf[16384];
    int rc = TW_OK;
    size_t n;

    if (v == NULL)
        return TW_ENOMEM;
    for (size_t k = 0; k < r->n_findings && rc == TW_OK; k++) {
        const struct rep_finding *f = v[k];
        const struct rep_device *d = &r->devices[f->device];
        const struct tw_rule_info *ri = tw__report_rule(r, f->rule);
        const char *delta = tw__report_delta_name(f->delta);
        const char *needs[4];
        size_t n_needs = tw__report_needs(ri ? ri->needs : 0, needs);
        json_t *o = json_object(), *arr = json_array();

        for (size_t i = 0; arr != NULL && i < n_needs; i++)
            json_array_append_new(arr, json_string(needs[i]));
        if (o == NULL || arr == NULL) {
            json_decref(o);
            json_decref(arr);
            rc = TW_ENOMEM;
            break;
        }
        json_object_set_new(o, "device", json_str(d->name));
        json_object_set_new(o, "platform", json_string(tw_platform_name(d->platform)));
        json_object_set_new(o, "version", d->version[0] ? json_str(d->version) : json_null());
        json_object_set_new(o, "file", json_str(f->file));
        json_object_set_new(o, "line", json_integer(f->line));
        json_object_set_new(o, "rule_id", json_str(f->rule_id));
        json_object_set_new(
                o, "severity", json_string(tw_severity_name((enum tw_severity)f->severity)));
        json_object_set_new(o, "title", json_str(f->title));
        json_object_set_new(o, "context", json_str(f->context));
        json_object_set_new(o, "evidence", json_str(f->evidence));
        json_object_set_new(o, "message", json_str(f->message));
        json_object_set_new(o, "implicit", json_boolean(f->implicit));
        json_object_set_new(o, "delta", delta ? json_string(delta) : json_null());
        json_object_set_new(o, "touches", json_str(f->touches));
        json_object_set_new(o, "ref", json_str(f->ref));
        json_object_set_new(o, "needs", arr);
        /* One buffer and one fwrite per line: json_dumpf writes token by token. */
        n = json_dumpb(o, buf, sizeof(buf) - 1, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (n > 0 && n < sizeof(buf) - 1) {
            buf[n++] = '\n';
            if (fwrite(buf, 1, n, out) != n)
                rc = TW_EIO;
        } else if (json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
                   fputc('\n', out) == EOF) {
            rc = TW_EIO;
        }
        json_decref(o);
    }
    tw_free((void *)v);
    return rc;
}

/* ==== CSV ==== */

/*
 * One RFC 4180 cell. A cell that a spreadsheet would take for a formula
 * (starting with = + - @, a tab or a CR) gets a leading apostrophe.
 */
static void csv_cell(FILE *out, const char *s, bool first)
{
    bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                   s[0] == '\r';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;

    if (!first)
        fputc(',', out);
    if (quote)
        fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    if (quote)
        fputc('"', out);
}

static int write_csv(const struct tw_report *r, FILE *out)
{
    static const char *const head[] = { "device", "platform", "version", "file", "line", "rule_id",
        "severity", "title", "context", "evidence", "message", "implicit", "delta", "touches",
        "ref", "needs" };
    const struct rep_finding **v = tw__report_sorted(r);

    if (v == NULL)
        return TW_ENOMEM;
    for (size_t i = 0; i < TW_ARRAY_LEN(head); i++)
        csv_cell(out, head[i], i == 0);
    fputs("\r\n", out);
    for (size_t k = 0; k < r->n_findings; k++) {
        const struct rep_finding *f = v[k];
        const struct rep_device *d = &r->devices[f->device];
        const struct tw_rule_info *ri = tw__report_rule(r, f->rule);
        const char *delta = tw__report_delta_name(f->delta);
        const char *needs[4];
        size_t n_needs = tw__report_needs(ri ? ri->needs : 0, needs);
        char line[16], needs_text[64] = "";
        size_t nt = 0;

        for (size_t i = 0; i < n_needs; i++) {
            int w = snprintf(
                    needs_text + nt, sizeof(needs_text) - nt, "%s%s", i ? " " : "", needs[i]);
            if (w > 0 && (size_t)w < sizeof(needs_text) - nt)
                nt += (size_t)w;
        }
        (void)snprintf(line, sizeof(line), "%u", f->line);
        csv_cell(out, d->name, true);
        csv_cell(out, tw_platform_name(d->platform), false);
        csv_cell(out, d->version, false);
        csv_cell(out, f->file, false);
        csv_cell(out, line, false);
        csv_cell(out, f->rule_id, false);
        csv_cell(out, tw_severity_name((enum tw_severity)f->severity), false);
        csv_cell(out, f->title, false);
        csv_cell(out, f->context, false);
        csv_cell(out, f->evidence, false);
        csv_cell(out, f->message, false);
        csv_cell(out, f->implicit ? "true" : "false", false);
        csv_cell(out, delta ? delta : "", false);
        csv_cell(out, f->touches, false);
        csv_cell(out, f->ref, false);
        csv_cell(out, needs_text, false);
        fputs("\r\n", out);
    }
    tw_free((void *)v);
    return TW_OK;
}

/* ==== Writing ==== */

int tw_report_write(const struct tw_report *r, enum tw_report_format fmt, FILE *out)
{
    int rc;

    switch (fmt) {
        case TW_REPORT_TEXT:
            rc = write_text(r, out);
            break;
        case TW_REPORT_JSONL:
            rc = write_jsonl(r, out);
            break;
        case TW_REPORT_CSV:
            rc = write_csv(r, out);
            break;
        case TW_REPORT_HTML:
            rc = tw__report_write_html(r, out);
            break;
        default:
            return TW_EINVAL;
    }
    if (rc == TW_OK && (fflush(out) != 0 || ferror(out)))
        rc = TW_EIO;
    return rc;
}
