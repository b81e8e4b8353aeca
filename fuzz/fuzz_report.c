/*
 * fuzz_report.c: libFuzzer target for the fleet report (src/audit/report.c,
 * report_html.c). The input is cut at NUL bytes into strings that become the
 * devices and findings of a report (device names, files, versions, rule ids,
 * titles, contexts, evidence, messages, references; the first byte of each
 * piece picks a severity and the drift mark), which is then written in all
 * four formats. Invariants, checked with __builtin_trap: every JSON line
 * parses as JSON with jansson and there is one per finding; the CSV has one
 * record per finding plus the header (RFC 4180 quoting kept); the HTML never
 * carries a tag from the input; the text report has no control character
 * but the newline.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Most pieces taken from one input. */
#define FUZZ_MAX_PIECES 256

static char *render(const struct tw_report *r, enum tw_report_format fmt, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);

    if (f == NULL)
        return NULL;
    if (tw_report_write(r, fmt, f) != TW_OK) {
        (void)fclose(f);
        free(buf);
        return NULL;
    }
    (void)fclose(f);
    return buf;
}

/* Counts CSV records: newlines outside quotes (quotes toggle; "" inside is two toggles). */
static size_t csv_records(const char *s, size_t n)
{
    size_t rec = 0;
    int quoted = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == '\n' && !quoted)
            rec++;
    }
    if (quoted)
        __builtin_trap();
    return rec;
}

static bool contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return true;
    return false;
}

static void check(const struct tw_report *r, size_t n_findings)
{
    size_t len, lines = 0;
    char *t;

    t = render(r, TW_REPORT_JSONL, &len);
    if (t != NULL) {
        const char *p = t;
        while (p < t + len) {
            const char *nl = memchr(p, '\n', (size_t)(t + len - p));
            json_error_t je;
            json_t *o;
            if (nl == NULL)
                __builtin_trap(); /* every object ends its line */
            o = json_loadb(p, (size_t)(nl - p), 0, &je);
            if (o == NULL)
                __builtin_trap();
            json_decref(o);
            lines++;
            p = nl + 1;
        }
        if (lines != n_findings)
            __builtin_trap();
        free(t);
    }
    t = render(r, TW_REPORT_CSV, &len);
    if (t != NULL) {
        if (csv_records(t, len) != n_findings + 1)
            __builtin_trap();
        free(t);
    }
    t = render(r, TW_REPORT_HTML, &len);
    if (t != NULL) {
        /* The writer's own tags never include these; the input's are escaped. */
        if (contains(t, len, "<script") || contains(t, len, "<img") || contains(t, len, "<x"))
            __builtin_trap();
        free(t);
    }
    t = render(r, TW_REPORT_TEXT, &len);
    if (t != NULL) {
        for (size_t i = 0; i < len; i++)
            if (((unsigned char)t[i] < 0x20 && t[i] != '\n') || t[i] == 0x7f)
                __builtin_trap();
        free(t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *piece[FUZZ_MAX_PIECES];
    char *copy = tw_malloc(size + 1);
    size_t n = 0, n_findings = 0, k = 0;
    struct tw_report *r;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (size_t i = 0; i <= size && n < FUZZ_MAX_PIECES; i++) {
        if (i == 0 || copy[i - 1] == '\0')
            piece[n++] = copy + i;
    }
    r = tw_report_new(NULL);
    if (r == NULL) {
        tw_free(copy);
        return 0;
    }
    /* Device: name, version, path; then findings of 8 pieces while they last. */
    while (k + 3 <= n) {
        struct tw_devconf d;
        unsigned char sel = (unsigned char)piece[k][0];

        memset(&d, 0, sizeof(d));
        d.name = d.hostname = piece[k];
        d.version = piece[k + 1];
        d.path = piece[k + 2];
        d.version_from = d.train = d.model = d.last_change_by = "";
        d.platform = (enum tw_platform)(sel % TW_PLAT_COUNT);
        k += 3;
        if (sel % 7 == 0) {
            struct tw_err err;
            tw_err_clear(&err);
            (void)tw_err_set(&err, TW_EINVAL, sel, "%s", d.version);
            if (tw_report_device_error(r, d.path, &err) != TW_OK)
                break;
            continue;
        }
        if (tw_report_device(r, &d) != TW_OK)
            break;
        for (unsigned f_i = 0; f_i < (unsigned)(sel % 5) && k + 8 <= n; f_i++, k += 8) {
            struct tw_finding f;
            unsigned char b = (unsigned char)piece[k][0];
            memset(&f, 0, sizeof(f));
            f.device = d.name;
            f.file = piece[k];
            f.rule_id = piece[k + 1];
            f.title = piece[k + 2];
            f.context = piece[k + 3];
            f.evidence = piece[k + 4];
            f.message = piece[k + 5];
            f.touches = piece[k + 6];
            f.ref = piece[k + 7];
            f.severity = (enum tw_severity)(b % TW_SEV_COUNT);
            f.line = b;
            f.delta = b & 0x10 ? '+' : b & 0x20 ? '-' : 0;
            f.implicit = (b & 0x40) != 0;
            f.rule = b;
            if (tw_report_add(r, &f) != TW_OK)
                break;
            n_findings++;
        }
    }
    check(r, n_findings);
    tw_report_free(r);
    tw_free(copy);
    return 0;
}
