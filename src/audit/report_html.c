/*
 * report_html.c: the HTML report of a fleet, one self-contained file.
 *
 * The file loads nothing: the style is inline, there is no script, and a
 * Content-Security-Policy meta element forbids every external load (an
 * auditor's report is opened in air-gapped SOCs and must not call home). Its
 * parts: a fleet summary table (devices by severity, each row linking to the
 * device), the devices that could not be read, one section per device with its
 * findings most severe first, and an appendix with each rule's rationale,
 * remediation and source once. Checkboxes at the top hide severities with
 * CSS alone. Every text that comes from a configuration, a file name or a
 * rule is HTML-escaped; sources are shown as plain text, never as links.
 */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/version.h"

/* Writes s with & < > " ' escaped, for element content and quoted attributes. */
static void esc(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
            case '&':
                fputs("&amp;", out);
                break;
            case '<':
                fputs("&lt;", out);
                break;
            case '>':
                fputs("&gt;", out);
                break;
            case '"':
                fputs("&quot;", out);
                break;
            case '\'':
                fputs("&#39;", out);
                break;
            default:
                if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                    fputs("\xef\xbf\xbd", out); /* U+FFFD: controls are not HTML text */
                else
                    fputc(*s, out);
        }
    }
}

/* An id attribute value for a rule: its id with anything but [A-Za-z0-9._-] as '_'. */
static void rule_anchor(FILE *out, const char *id)
{
    fputs("rule-", out);
    for (; *id; id++) {
        char c = *id;
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
        fputc(keep ? c : '_', out);
    }
}

static const char style[] =
        "body{font:14px/1.45 system-ui,sans-serif;margin:0 2em 3em;color:#1d2329;background:#fff}"
        "h1{font-size:1.5em;margin:.8em 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .4em;"
        "border-bottom:1px solid #ccd3da}h3{font-size:1em;margin:1em 0 .2em}"
        "table{border-collapse:collapse;margin:.4em 0}td,th{padding:.2em .6em;text-align:left;"
        "vertical-align:top;border-bottom:1px solid #e3e7eb}th{background:#f2f4f6}"
        "td.n{text-align:right;font-variant-numeric:tabular-nums}"
        ".meta{color:#56606b;margin:.2em 0}code,.ev{font-family:ui-monospace,monospace;"
        "font-size:.92em;white-space:pre-wrap;word-break:break-all}"
        ".sev{font-weight:600;text-transform:uppercase;font-size:.8em;white-space:nowrap}"
        "tr.sev-critical td.sev{color:#fff;background:#8e1b1b}"
        "tr.sev-high td.sev{color:#fff;background:#c2410c}"
        "tr.sev-medium td.sev{background:#f4c542}tr.sev-low td.sev{background:#cfe3f5}"
        "tr.sev-info td.sev{background:#eceff2}.lbl{color:#56606b;font-size:.85em}"
        ".err{color:#8e1b1b}.filters{margin:.6em 0}.filters label{margin-right:1em}"
        ".rule dl{display:grid;grid-template-columns:8em 1fr;margin:.2em 0}"
        ".rule dd{margin:0 0 .3em}"
        "#hide-critical:checked~main tr.sev-critical,#hide-high:checked~main tr.sev-high,"
        "#hide-medium:checked~main tr.sev-medium,#hide-low:checked~main tr.sev-low,"
        "#hide-info:checked~main tr.sev-info{display:none}";

static void head(const struct tw_report *r, FILE *out)
{
    size_t n_ok = r->n_devices - r->n_errors;

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
          "<meta name=\"referrer\" content=\"no-referrer\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            out);
    fprintf(out, "<title>tidewatch audit: %zu devices, %zu findings</title>\n", n_ok,
            r->n_findings);
    fprintf(out, "<style>%s</style>\n</head>\n<body>\n", style);
    /* The filters: checkboxes before <main>, so CSS sibling selectors can hide rows. */
    fputs("<h1>Configuration audit</h1>\n", out);
    fprintf(out,
            "<p class=\"meta\">%zu device%s audited, %zu could not be read, %zu finding%s. "
            "Written by tidewatch %s.</p>\n",
            n_ok, n_ok == 1 ? "" : "s", r->n_errors, r->n_findings, r->n_findings == 1 ? "" : "s",
            TW_VERSION_STRING);
    fputs("<span class=\"filters\">Hide:</span>\n", out);
    for (int s = TW_SEV_COUNT - 1; s >= 0; s--) {
        const char *n = tw_severity_name((enum tw_severity)s);
        fprintf(out, "<input type=\"checkbox\" id=\"hide-%s\"><label for=\"hide-%s\">%s</label>\n",
                n, n, n);
    }
}

static void summary(const struct tw_report *r, FILE *out)
{
    fputs("<main>\n<section id=\"summary\">\n<h2>Fleet summary</h2>\n<table>\n<thead><tr>"
          "<th>device</th><th>platform</th><th>version</th>",
            out);
    for (int s = TW_SEV_COUNT - 1; s >= 0; s--)
        fprintf(out, "<th>%s</th>", tw_severity_name((enum tw_severity)s));
    fputs("<th>total</th></tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct rep_device *d = &r->devices[i];
        fprintf(out, "<tr><td><a href=\"#dev-%zu\">", i);
        esc(out, d->name);
        fputs("</a></td>", out);
        if (d->failed) {
            fprintf(out, "<td colspan=\"%d\" class=\"err\">could not be read</td></tr>\n",
                    TW_SEV_COUNT + 3);
            continue;
        }
        fprintf(out, "<td>%s</td><td>", tw_platform_title(d->platform));
        if (d->version[0])
            esc(out, d->version);
        else
            fputs("<span class=\"lbl\">unknown</span>", out);
        fputs("</td>", out);
        for (int s = TW_SEV_COUNT - 1; s >= 0; s--)
            fprintf(out, "<td class=\"n\">%u</td>", d->counts[s]);
        fprintf(out, "<td class=\"n\">%u</td></tr>\n", d->n);
    }
    fputs("</tbody>\n<tfoot><tr><th colspan=\"3\">fleet</th>", out);
    for (int s = TW_SEV_COUNT - 1; s >= 0; s--)
        fprintf(out, "<th class=\"n\">%llu</th>", (unsigned long long)r->counts[s]);
    fprintf(out, "<th class=\"n\">%zu</th></tr></tfoot>\n</table>\n</section>\n", r->n_findings);
}

static void device_head(const struct rep_device *d, size_t i, FILE *out)
{
    fprintf(out, "<section class=\"device\" id=\"dev-%zu\">\n<h2>", i);
    esc(out, d->name);
    fputs("</h2>\n<p class=\"meta\">", out);
    if (d->failed) {
        fputs("<span class=\"err\">could not be read:</span> <code>", out);
        esc(out, d->path);
        fputs("</code>: ", out);
        esc(out, d->error);
        fputs("</p>\n</section>\n", out);
        return;
    }
    fprintf(out, "%s, ", tw_platform_title(d->platform));
    if (d->version[0]) {
        fputs("version ", out);
        esc(out, d->version);
        if (d->version_from[0]) {
            fputs(" (from ", out);
            esc(out, d->version_from);
            fputc(')', out);
        }
    } else {
        fputs("version unknown", out);
    }
    if (d->model[0]) {
        fputs(", ", out);
        esc(out, d->model);
    }
    fputs("<br><code>", out);
    esc(out, d->path);
    fprintf(out, "</code>: %u lines, %u statements", d->n_lines, d->n_nodes);
    if (d->n_warnings > 0)
        fprintf(out, ", %u parser warning%s", d->n_warnings, d->n_warnings == 1 ? "" : "s");
    fprintf(out, "; %u finding%s</p>\n", d->n, d->n == 1 ? "" : "s");
}

static void finding_row(const struct rep_finding *f, FILE *out)
{
    const char *sev = tw_severity_name((enum tw_severity)f->severity);
    const char *delta = tw__report_delta_name(f->delta);

    fprintf(out, "<tr class=\"sev-%s\"><td class=\"sev\">%s</td><td><a href=\"#", sev, sev);
    rule_anchor(out, f->rule_id);
    fputs("\">", out);
    esc(out, f->rule_id);
    fputs("</a></td><td><code>", out);
    esc(out, f->file);
    if (f->line > 0)
        fprintf(out, ":%u", f->line);
    fputs("</code></td><td>", out);
    esc(out, f->title);
    if (f->context[0]) {
        fputs("<br><span class=\"lbl\">context</span> <span class=\"ev\">", out);
        esc(out, f->context);
        fputs("</span>", out);
    }
    if (f->evidence[0]) {
        fprintf(out, "<br><span class=\"lbl\">%s</span> <span class=\"ev\">",
                delta ? delta : "evidence");
        esc(out, f->evidence);
        fputs("</span>", out);
        if (f->implicit)
            fputs(" <span class=\"lbl\">(platform default)</span>", out);
    }
    if (f->message[0]) {
        fputs("<br><span class=\"lbl\">message</span> ", out);
        esc(out, f->message);
    }
    if (f->touches[0] && strcmp(f->touches, f->rule_id) != 0) {
        fputs("<br><span class=\"lbl\">touches</span> <a href=\"#", out);
        rule_anchor(out, f->touches);
        fputs("\">", out);
        esc(out, f->touches);
        fputs("</a>", out);
    }
    if (f->ref[0]) {
        fputs("<br><span class=\"lbl\">ref</span> <code>", out);
        esc(out, f->ref);
        fputs("</code>", out);
    }
    fputs("</td></tr>\n", out);
}

/* The rules the findings name (or touch), each once, in rule-set order. */
static void appendix(const struct tw_report *r, FILE *out)
{
    size_t n_rules = r->rs != NULL ? tw_ruleset_count(r->rs) : 0;
    bool *used = tw_calloc(n_rules ? n_rules : 1, sizeof(*used));

    fputs("<section id=\"rules\">\n<h2>Rules</h2>\n", out);
    if (used == NULL) {
        fputs("<p>(out of memory)</p>\n</section>\n", out);
        return;
    }
    for (size_t i = 0; i < r->n_findings; i++) {
        const struct rep_finding *f = &r->findings[i];
        long t;
        if (f->rule < n_rules)
            used[f->rule] = true;
        if (f->touches[0] && (t = tw_ruleset_find(r->rs, f->touches)) >= 0 && (size_t)t < n_rules)
            used[t] = true;
    }
    for (size_t i = 0; i < n_rules; i++) {
        const struct tw_rule_info *ri = tw_ruleset_rule(r->rs, i);
        const char *needs[4];
        size_t n_needs = tw__report_needs(ri->needs, needs);
        if (!used[i])
            continue;
        fputs("<div class=\"rule\" id=\"", out);
        rule_anchor(out, ri->id);
        fputs("\">\n<h3>", out);
        esc(out, ri->id);
        fputs(" ", out);
        esc(out, ri->title);
        fprintf(out, "</h3>\n<dl><dt>severity</dt><dd>%s</dd><dt>needs</dt><dd>",
                tw_severity_name(ri->severity));
        for (size_t k = 0; k < n_needs; k++)
            fprintf(out, "%s%s", k ? ", " : "", needs[k]);
        fputs("</dd>", out);
        if (ri->rationale[0]) {
            fputs("<dt>rationale</dt><dd>", out);
            esc(out, ri->rationale);
            fputs("</dd>", out);
        }
        if (ri->remediation[0]) {
            fputs("<dt>remediation</dt><dd>", out);
            esc(out, ri->remediation);
            fputs("</dd>", out);
        }
        if (ri->source[0]) {
            fputs("<dt>source</dt><dd>", out);
            esc(out, ri->source);
            fputs("</dd>", out);
        }
        fputs("</dl>\n</div>\n", out);
    }
    tw_free(used);
    fputs("</section>\n", out);
}

int tw__report_write_html(const struct tw_report *r, FILE *out)
{
    const struct rep_finding **v = tw__report_sorted(r);
    size_t k = 0;

    if (v == NULL)
        return TW_ENOMEM;
    head(r, out);
    summary(r, out);
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct rep_device *d = &r->devices[i];
        device_head(d, i, out);
        if (d->failed)
            continue;
        if (d->n > 0)
            fputs("<table class=\"findings\">\n<thead><tr><th>severity</th><th>rule</th>"
                  "<th>where</th><th>finding</th></tr></thead>\n<tbody>\n",
                    out);
        for (; k < r->n_findings && v[k]->device == i; k++)
            finding_row(v[k], out);
        if (d->n > 0)
            fputs("</tbody>\n</table>\n", out);
        fputs("</section>\n", out);
    }
    appendix(r, out);
    fputs("</main>\n</body>\n</html>\n", out);
    tw_free((void *)v);
    return TW_OK;
}
