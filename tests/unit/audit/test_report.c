/*
 * test_report.c: the fleet report (report.c, report_html.c): what each format
 * writes and in which order, quoting and escaping of hostile strings (CSV
 * formula injection, HTML markup, invalid UTF-8), device errors, string
 * interning, the length cap and out-of-memory paths.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"
#include "tw_test.h"

/* ==== Helpers ==== */

/* A device as the parser would give it (only what the report reads). */
static void fake_device(struct tw_devconf *d, const char *name, enum tw_platform p,
        const char *version, const char *path)
{
    memset(d, 0, sizeof(*d));
    d->name = name;
    d->hostname = name;
    d->path = path;
    d->platform = p;
    d->version = version;
    d->version_from = version[0] ? "comments" : "";
    d->train = "";
    d->model = "";
    d->last_change_by = "";
    d->n_lines = 100;
    d->n_nodes = 80;
    d->bytes = 2000;
}

static struct tw_finding mk(const char *device, const char *rule_id, enum tw_severity sev,
        uint32_t line, const char *evidence)
{
    struct tw_finding f;

    memset(&f, 0, sizeof(f));
    f.device = device;
    f.file = "fleet/r1.cfg";
    f.platform = TW_PLAT_IOSXE;
    f.rule = 0;
    f.rule_id = rule_id;
    f.severity = sev;
    f.title = "A title";
    f.line = line;
    f.context = "";
    f.evidence = evidence;
    f.message = "";
    f.touches = "";
    f.ref = "";
    return f;
}

/* Writes r in fmt into a new NUL-terminated string (free it). */
static char *render(const struct tw_report *r, enum tw_report_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(tw_report_write(r, fmt, f), TW_OK);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A fleet of two devices and a device that could not be read. */
static struct tw_report *two_devices(void)
{
    struct tw_report *r = tw_report_new(NULL);
    struct tw_devconf a, b;
    struct tw_finding f;
    struct tw_err err;

    assert_non_null(r);
    fake_device(&a, "r1", TW_PLAT_IOSXE, "17.6.5", "fleet/r1.cfg");
    fake_device(&b, "sw2", TW_PLAT_NXOS, "", "fleet/sw2.cfg");
    assert_int_equal(tw_report_device(r, &a), TW_OK);
    f = mk("r1", "AUD-LOW-01", TW_SEV_LOW, 30, "service pad");
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    f = mk("r1", "AUD-CRIT-01", TW_SEV_CRITICAL, 12, "ip http server");
    f.rule = 3;
    f.context = "";
    f.message = "HTTP server on a vulnerable release";
    f.ref = "CVE-2023-20198";
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    f = mk("r1", "AUD-DRF-01", TW_SEV_HIGH, 40,
            "username cisco_support privilege 15 password 0 <masked>");
    f.delta = '+';
    f.touches = "AUD-AAA-04";
    f.rule = 1;
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    assert_int_equal(tw_report_device(r, &b), TW_OK);
    f = mk("sw2", "AUD-MED-01", TW_SEV_MEDIUM, 0, "absent: /^no vstack$/");
    f.file = "fleet/sw2.cfg";
    f.implicit = true;
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    tw_err_clear(&err);
    (void)tw_err_set(&err, TW_EINVAL, 17, "binary data (a NUL byte)");
    assert_int_equal(tw_report_device_error(r, "fleet/blob.bin", &err), TW_OK);
    return r;
}

/* ==== Tests ==== */

static void report_format_parse_names(void **state)
{
    enum tw_report_format f;

    (void)state;
    assert_int_equal(tw_report_format_parse(TW_STR("jsonl"), &f), TW_OK);
    assert_int_equal(f, TW_REPORT_JSONL);
    assert_int_equal(tw_report_format_parse(TW_STR("HTML"), &f), TW_OK);
    assert_int_equal(f, TW_REPORT_HTML);
    assert_int_equal(tw_report_format_parse(TW_STR("csv"), &f), TW_OK);
    assert_int_equal(tw_report_format_parse(TW_STR("text"), &f), TW_OK);
    assert_int_equal(tw_report_format_parse(TW_STR("json"), &f), TW_EINVAL);
    assert_int_equal(tw_report_format_parse(TW_STR(""), &f), TW_EINVAL);
}

static void report_counts_and_max_severity(void **state)
{
    struct tw_report *r = tw_report_new(NULL);
    uint64_t c[TW_SEV_COUNT];

    (void)state;
    assert_int_equal(tw_report_max_severity(r), -1);
    tw_report_free(r);
    r = two_devices();
    assert_int_equal(tw_report_max_severity(r), TW_SEV_CRITICAL);
    tw_report_counts(r, c);
    assert_int_equal(c[TW_SEV_CRITICAL], 1);
    assert_int_equal(c[TW_SEV_HIGH], 1);
    assert_int_equal(c[TW_SEV_MEDIUM], 1);
    assert_int_equal(c[TW_SEV_LOW], 1);
    assert_int_equal(c[TW_SEV_INFO], 0);
    tw_report_free(r);
    tw_report_free(NULL);
}

static void report_text_groups_by_device_then_severity(void **state)
{
    struct tw_report *r = two_devices();
    char *t = render(r, TW_REPORT_TEXT);
    const char *r1 = strstr(t, "== r1  (Cisco IOS XE, version 17.6.5 from comments)");
    const char *sw2 = strstr(t, "== sw2  (Cisco NX-OS, version unknown)");
    const char *crit = strstr(t, "CRITICAL AUD-CRIT-01 fleet/r1.cfg:12  A title");
    const char *high = strstr(t, "HIGH     AUD-DRF-01 fleet/r1.cfg:40  A title");
    const char *low = strstr(t, "LOW      AUD-LOW-01 fleet/r1.cfg:30  A title");

    (void)state;
    assert_non_null(r1);
    assert_non_null(sw2);
    assert_non_null(crit);
    assert_non_null(high);
    assert_non_null(low);
    /* Devices in the order recorded; within one, most severe first. */
    assert_true(r1 < crit && crit < high && high < low && low < sw2);
    assert_non_null(
            strstr(t, "    added:    username cisco_support privilege 15 password 0 <masked>"));
    assert_non_null(strstr(t, "    touches:  AUD-AAA-04"));
    assert_non_null(strstr(t, "    ref:      CVE-2023-20198"));
    assert_non_null(strstr(t, "    message:  HTTP server on a vulnerable release"));
    /* An absence at top level has no line number. */
    assert_non_null(strstr(t, "MEDIUM   AUD-MED-01 fleet/sw2.cfg  A title"));
    assert_non_null(strstr(t, "absent: /^no vstack$/  (platform default)"));
    assert_non_null(strstr(t, "== fleet/blob.bin  could not be read"));
    assert_non_null(strstr(t, "fleet/blob.bin: byte 17: binary data (a NUL byte)"));
    assert_non_null(strstr(t, "devices audited      2\n"));
    assert_non_null(strstr(t, "devices with errors  1\n"));
    assert_non_null(
            strstr(t, "findings             4: 1 critical, 1 high, 1 medium, 1 low, 0 info\n"));
    assert_non_null(strstr(t, "devices by worst     1 critical, 0 high, 1 medium, 0 low, 0 info, 0 "
                              "with no finding\n"));
    free(t);
    tw_report_free(r);
}

static void report_text_escapes_control_characters(void **state)
{
    struct tw_report *r = tw_report_new(NULL);
    struct tw_devconf d;
    struct tw_finding f;
    char *t;

    (void)state;
    fake_device(&d, "evil\x1b[31mred", TW_PLAT_IOS, "", "x.cfg");
    assert_int_equal(tw_report_device(r, &d), TW_OK);
    f = mk("evil", "R1", TW_SEV_INFO, 1, "banner motd ^C\nline two\x07");
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    t = render(r, TW_REPORT_TEXT);
    assert_null(strchr(t, '\x1b'));
    assert_null(strchr(t, '\x07'));
    assert_non_null(strstr(t, "evil\\x1b[31mred"));
    /* A multi-line evidence keeps its lines, indented under the label. */
    assert_non_null(strstr(t, "banner motd ^C\n              line two\\x07"));
    free(t);
    tw_report_free(r);
}

static void report_jsonl_one_object_per_finding(void **state)
{
    struct tw_report *r = two_devices();
    char *t = render(r, TW_REPORT_JSONL);
    struct tw_str rest = tw_str_cstr(t), line;
    static const char *const keys[] = { "device", "platform", "version", "file", "line", "rule_id",
        "severity", "title", "context", "evidence", "message", "implicit", "delta", "touches",
        "ref", "needs" };
    size_t n = 0;

    (void)state;
    while (tw_str_next_line(&rest, &line)) {
        json_error_t je;
        json_t *o = json_loadb(line.ptr, line.len, 0, &je);
        const char *k;
        json_t *v;
        size_t i = 0;

        assert_non_null(o);
        assert_int_equal(json_object_size(o), TW_ARRAY_LEN(keys));
        json_object_foreach(o, k, v)
        {
            assert_string_equal(k, keys[i]); /* in the documented order */
            i++;
        }
        if (n == 0) {
            /* The most severe finding of the first device comes first. */
            assert_string_equal(json_string_value(json_object_get(o, "rule_id")), "AUD-CRIT-01");
            assert_string_equal(json_string_value(json_object_get(o, "version")), "17.6.5");
            assert_string_equal(json_string_value(json_object_get(o, "platform")), "iosxe");
            assert_int_equal(json_integer_value(json_object_get(o, "line")), 12);
            assert_true(json_is_null(json_object_get(o, "delta")));
            assert_string_equal(json_string_value(json_object_get(o, "ref")), "CVE-2023-20198");
            assert_true(json_is_array(json_object_get(o, "needs")));
        }
        if (n == 1) {
            assert_string_equal(json_string_value(json_object_get(o, "delta")), "added");
            assert_string_equal(json_string_value(json_object_get(o, "touches")), "AUD-AAA-04");
        }
        if (n == 3) {
            assert_string_equal(json_string_value(json_object_get(o, "device")), "sw2");
            assert_true(json_is_null(json_object_get(o, "version")));
            assert_true(json_is_true(json_object_get(o, "implicit")));
            assert_int_equal(json_integer_value(json_object_get(o, "line")), 0);
        }
        json_decref(o);
        n++;
    }
    assert_int_equal(n, 4); /* the unreadable device has no line */
    free(t);
    tw_report_free(r);
}

static void report_jsonl_invalid_utf8_becomes_replacement(void **state)
{
    struct tw_report *r = tw_report_new(NULL);
    struct tw_devconf d;
    struct tw_finding f;
    json_error_t je;
    json_t *o;
    char *t;

    (void)state;
    fake_device(&d, "r\xff", TW_PLAT_IOS, "", "r.cfg");
    assert_int_equal(tw_report_device(r, &d), TW_OK);
    f = mk("r", "R1", TW_SEV_LOW, 3, "description caf\xc3\xa9 \xc3 \xed\xa0\x80 end");
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    t = render(r, TW_REPORT_JSONL);
    o = json_loads(t, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "device")), "r\xef\xbf\xbd");
    /* Valid UTF-8 is kept; a cut sequence and a surrogate become U+FFFD per byte. */
    assert_string_equal(json_string_value(json_object_get(o, "evidence")),
            "description caf\xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
    json_decref(o);
    free(t);
    tw_report_free(r);
}

static void report_csv_quotes_and_guards_formulas(void **state)
{
    struct tw_report *r = tw_report_new(NULL);
    struct tw_devconf d;
    struct tw_finding f;
    char *t;

    (void)state;
    fake_device(&d, "=HYPERLINK(\"http://x.example\")", TW_PLAT_IOS, "15.2(4)E10", "a,b.cfg");
    assert_int_equal(tw_report_device(r, &d), TW_OK);
    f = mk("x", "R1", TW_SEV_HIGH, 7, "description \"core\", uplink\nsecond");
    f.message = "@SUM(A1:A9)";
    f.context = "+cmd|' /C calc'!A0";
    f.file = "a,b.cfg";
    f.delta = '-';
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    t = render(r, TW_REPORT_CSV);
    assert_true(strncmp(t,
                        "device,platform,version,file,line,rule_id,severity,title,context,"
                        "evidence,message,implicit,delta,touches,ref,needs\r\n",
                        strlen("device,platform,version,file,line,rule_id,severity,title,context,"
                               "evidence,message,implicit,delta,touches,ref,needs\r\n")) == 0);
    assert_non_null(strstr(t,
            "\r\n\"'=HYPERLINK(\"\"http://x.example\"\")\",ios,15.2(4)E10,\"a,b.cfg\",7,R1,high,"));
    assert_non_null(strstr(t, ",\"'+cmd|' /C calc'!A0\","));
    assert_non_null(strstr(t, ",\"description \"\"core\"\", uplink\nsecond\","));
    assert_non_null(strstr(t, ",\"'@SUM(A1:A9)\",false,removed,,,\r\n"));
    assert_int_equal(count(t, "\r\n"), 2);
    free(t);
    tw_report_free(r);
}

static void report_html_escapes_everything_and_loads_nothing(void **state)
{
    struct tw_report *r = tw_report_new(NULL);
    struct tw_devconf d;
    struct tw_finding f;
    struct tw_err err;
    char *t;

    (void)state;
    fake_device(&d, "<script>alert(1)</script>", TW_PLAT_IOSXE, "17.9.4a\"><b>",
            "x\"onmouseover=\"alert(2).cfg");
    assert_int_equal(tw_report_device(r, &d), TW_OK);
    f = mk("x", "AUD-X-\"><script>", TW_SEV_CRITICAL, 5,
            "description '><img src=x onerror=alert(3)> & <iframe src=\"https://evil.example\">");
    f.title = "<b>bold</b>";
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    tw_err_clear(&err);
    (void)tw_err_set(&err, TW_EINVAL, TW_NOPOS, "not a configuration <svg onload=alert(4)>");
    assert_int_equal(tw_report_device_error(r, "<svg>.cfg", &err), TW_OK);
    t = render(r, TW_REPORT_HTML);
    assert_true(strncmp(t, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(t, "Content-Security-Policy\" content=\"default-src 'none';"));
    assert_null(strstr(t, "<script"));
    assert_null(strstr(t, "<img"));
    assert_null(strstr(t, "<iframe"));
    assert_null(strstr(t, "<svg"));
    assert_null(strstr(t, "<b>"));
    assert_null(strstr(t, "onmouseover=\""));
    assert_null(strstr(t, "src=\""));
    assert_null(strstr(t, "href=\"http"));
    assert_non_null(strstr(t, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(t, "17.9.4a&quot;&gt;&lt;b&gt;"));
    assert_non_null(strstr(t, "description &#39;&gt;&lt;img src=x onerror=alert(3)&gt; &amp; "
                              "&lt;iframe src=&quot;https://evil.example&quot;&gt;"));
    assert_non_null(strstr(t, "not a configuration &lt;svg onload=alert(4)&gt;"));
    /* The rule anchor keeps only safe characters. */
    assert_non_null(strstr(t, "href=\"#rule-AUD-X-___script_\""));
    assert_non_null(strstr(t, "</html>\n"));
    free(t);
    tw_report_free(r);
}

static void report_html_summary_and_sections(void **state)
{
    struct tw_report *r = two_devices();
    char *t = render(r, TW_REPORT_HTML);

    (void)state;
    assert_non_null(
            strstr(t, "<a href=\"#dev-0\">r1</a></td><td>Cisco IOS XE</td><td>17.6.5</td>"
                      "<td class=\"n\">1</td><td class=\"n\">1</td><td class=\"n\">0</td>"
                      "<td class=\"n\">1</td><td class=\"n\">0</td><td class=\"n\">3</td>"));
    assert_non_null(strstr(t, "<section class=\"device\" id=\"dev-1\">"));
    assert_non_null(strstr(t, "could not be read"));
    assert_int_equal(count(t, "<tr class=\"sev-"), 4);
    assert_true(strstr(t, "sev-critical") < strstr(t, "<tr class=\"sev-high\""));
    free(t);
    tw_report_free(r);
}

static void report_interns_repeated_strings(void **state)
{
    struct tw_report *r = tw_report_new(NULL);
    struct tw_devconf d;
    char title[32];
    size_t used;

    (void)state;
    (void)snprintf(title, sizeof(title), "%s", "Telnet allowed");
    assert_ptr_equal(tw__report_intern(r, title), tw__report_intern(r, "Telnet allowed"));
    assert_string_equal(tw__report_intern(r, NULL), "");
    fake_device(&d, "r1", TW_PLAT_IOS, "", "r1.cfg");
    assert_int_equal(tw_report_device(r, &d), TW_OK);
    used = r->arena.used;
    for (int i = 0; i < 10000; i++) {
        struct tw_finding f =
                mk("r1", "AUD-MGT-01", TW_SEV_HIGH, (uint32_t)i, "transport input telnet");
        assert_int_equal(tw_report_add(r, &f), TW_OK);
    }
    /* 10,000 findings with the same strings add no string bytes. */
    assert_true(r->arena.used - used < 1024);
    assert_int_equal(r->n_findings, 10000);
    tw_report_free(r);
}

static void report_cuts_long_strings(void **state)
{
    struct tw_report *r = tw_report_new(NULL);
    char *big = tw_malloc(3 * TW_REPORT_MAX_STR);
    const char *s;

    (void)state;
    memset(big, 'a', 3 * TW_REPORT_MAX_STR - 1);
    big[3 * TW_REPORT_MAX_STR - 1] = '\0';
    s = tw__report_intern(r, big);
    assert_non_null(s);
    assert_true(strlen(s) < TW_REPORT_MAX_STR);
    assert_string_equal(s + strlen(s) - 3, "...");
    tw_free(big);
    tw_report_free(r);
}

static void report_finding_before_any_device(void **state)
{
    struct tw_report *r = tw_report_new(NULL);
    struct tw_finding f = mk("orphan", "R1", TW_SEV_LOW, 1, "x");
    char *t;

    (void)state;
    assert_int_equal(tw_report_add(r, &f), TW_OK);
    t = render(r, TW_REPORT_TEXT);
    assert_non_null(strstr(t, "== orphan"));
    free(t);
    tw_report_free(r);
}

/* Every allocation of building and writing a report may fail: no crash, no leak, ENOMEM said. */
static void report_survives_allocation_failures(void **state)
{
    (void)state;
    for (long n = 0; n < 200; n++) {
        struct tw_report *r;
        struct tw_devconf d;
        int rc = TW_OK;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        tw_alloc_fail_after(n);
        r = tw_report_new(NULL);
        if (r != NULL) {
            fake_device(&d, "r1", TW_PLAT_IOS, "", "r1.cfg");
            rc = tw_report_device(r, &d);
            for (int i = 0; rc == TW_OK && i < 100; i++) {
                char ev[32];
                struct tw_finding fi;
                (void)snprintf(ev, sizeof(ev), "line %d", i);
                fi = mk("r1", "R1", TW_SEV_LOW, (uint32_t)i, ev);
                rc = tw_report_add(r, &fi);
            }
            assert_true(rc == TW_OK || rc == TW_ENOMEM);
        }
        tw_alloc_fail_reset();
        if (r != NULL) {
            f = open_memstream(&buf, &len);
            assert_non_null(f);
            tw_alloc_fail_after(n / 4);
            rc = tw_report_write(r, TW_REPORT_TEXT, f);
            assert_true(rc == TW_OK || rc == TW_ENOMEM);
            tw_alloc_fail_reset();
            (void)fclose(f);
            free(buf);
        }
        tw_report_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_format_parse_names),
        cmocka_unit_test(report_counts_and_max_severity),
        cmocka_unit_test(report_text_groups_by_device_then_severity),
        cmocka_unit_test(report_text_escapes_control_characters),
        cmocka_unit_test(report_jsonl_one_object_per_finding),
        cmocka_unit_test(report_jsonl_invalid_utf8_becomes_replacement),
        cmocka_unit_test(report_csv_quotes_and_guards_formulas),
        cmocka_unit_test(report_html_escapes_everything_and_loads_nothing),
        cmocka_unit_test(report_html_summary_and_sections),
        cmocka_unit_test(report_interns_repeated_strings),
        cmocka_unit_test(report_cuts_long_strings),
        cmocka_unit_test(report_finding_before_any_device),
        cmocka_unit_test(report_survives_allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
