/*
 * demo_audit.c: step 9 of `tidewatch demo`, auditing the sample fleet
 * (samples/audit, compiled in) against the sample bundle and the compromised
 * device's known-good baseline, through the real `tidewatch audit` command.
 *
 * The fleet, its baseline and the bundle are written to a temporary
 * directory laid out like the source tree (samples/audit,
 * samples/audit/baseline, samples/intel), so the report names the files as
 * a user who runs the command from a checkout would see them. The step prints
 * the text report's fleet summary and the compromised device's findings, and
 * writes the HTML report when asked (tidewatch demo --audit-html FILE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

extern const unsigned char tw_demo_fleet[];
extern const unsigned long tw_demo_fleet_len;
extern const unsigned char tw_demo_fleet_baseline[];
extern const unsigned long tw_demo_fleet_baseline_len;
extern const unsigned char tw_demo_bundle[];
extern const unsigned long tw_demo_bundle_len;

/* The device the campaign left its marks on. */
#define DEMO_COMPROMISED "kst-agg-rtr02"

/*
 * Writes the files of an EmbedDir blob ("# file: NAME" before each) into dir.
 * TW_OK or TW_EIO.
 */
static int unpack(const unsigned char *blob, unsigned long len, const char *dir)
{
    static const char mark[] = "# file: ";
    struct tw_str rest = tw_str_make((const char *)blob, len), line;
    FILE *f = NULL;
    int rc = TW_OK;

    while (rc == TW_OK && tw_str_next_line(&rest, &line)) {
        if (line.len > sizeof(mark) - 1 && memcmp(line.ptr, mark, sizeof(mark) - 1) == 0) {
            struct tw_buf path;
            struct tw_str name =
                    tw_str_make(line.ptr + sizeof(mark) - 1, line.len - (sizeof(mark) - 1));
            if (f != NULL && fclose(f) != 0)
                rc = TW_EIO;
            f = NULL;
            if (tw_str_find(name, '/') >= 0 || name.len == 0 || name.ptr[0] == '.')
                return TW_EIO;
            tw_buf_init(&path, 4096);
            if (tw_buf_printf(&path, "%s/%.*s", dir, (int)name.len, name.ptr) != TW_OK ||
                    (f = fopen(path.ptr, "w")) == NULL)
                rc = TW_EIO;
            tw_buf_cleanup(&path);
            continue;
        }
        if (f != NULL && (fwrite(line.ptr, 1, line.len, f) != line.len || fputc('\n', f) == EOF))
            rc = TW_EIO;
    }
    if (f != NULL && fclose(f) != 0)
        rc = TW_EIO;
    return rc;
}

/* Runs `tidewatch audit` with these arguments (NULL-terminated); returns its exit status. */
static int run_audit(const char *const *args)
{
    char *argv[24];
    int argc = 0, rc = TW_EXIT_ERROR;

    for (; argc < (int)TW_ARRAY_LEN(argv) - 1 && args[argc] != NULL; argc++)
        if ((argv[argc] = tw_strdup(args[argc])) == NULL)
            goto out;
    argv[argc] = NULL;
    optind = 0; /* glibc: a full getopt reset, as tw_cli_dispatch does */
    rc = tw_cmd_audit(argc, argv);
    optind = 0;
out:
    for (int i = 0; i < argc; i++)
        tw_free(argv[i]);
    return rc;
}

/* Prints the lines of text from the one starting with `from` to the end. */
static void print_from(const char *text, size_t len, const char *from)
{
    struct tw_str rest = tw_str_make(text, len), line;
    bool on = false;

    while (tw_str_next_line(&rest, &line)) {
        on = on || tw_str_starts_with(line, tw_str_cstr(from));
        if (on)
            printf("  %.*s\n", (int)line.len, line.ptr);
    }
}

/*
 * Prints the section of one device of the text report: its heading and its
 * critical findings in full, then how many findings of each other severity
 * follow (the HTML report has them all).
 */
static void print_device(const char *text, size_t len, const char *name)
{
    static const char *const sev[] = { "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO" };
    struct tw_str rest = tw_str_make(text, len), line;
    size_t counts[TW_ARRAY_LEN(sev)] = { 0 };
    char head[256];
    bool on = false;
    int cur = -1;

    (void)snprintf(head, sizeof(head), "== %s  (", name);
    while (tw_str_next_line(&rest, &line)) {
        if (!on) {
            on = tw_str_starts_with(line, tw_str_cstr(head));
            if (on)
                printf("  %.*s\n", (int)line.len, line.ptr);
            continue;
        }
        if (tw_str_starts_with(line, TW_STR("== ")))
            break;
        for (size_t i = 0; i < TW_ARRAY_LEN(sev); i++) {
            if (tw_str_starts_with(line, tw_str_cstr(sev[i])) && line.len > strlen(sev[i]) &&
                    line.ptr[strlen(sev[i])] == ' ') {
                cur = (int)i;
                counts[i]++;
            }
        }
        if (cur <= 0 && line.len > 0)
            printf("  %.*s\n", (int)line.len, line.ptr);
    }
    printf("\n  ... and %zu high, %zu medium, %zu low and %zu info findings more on this device.\n",
            counts[1], counts[2], counts[3], counts[4]);
}

/* Removes the files of an EmbedDir blob from dir. */
static void unlink_blob(const unsigned char *blob, unsigned long len, const char *dir)
{
    struct tw_str rest = tw_str_make((const char *)blob, len), line;
    struct tw_buf p;

    tw_buf_init(&p, 8192);
    while (tw_str_next_line(&rest, &line)) {
        if (line.len <= 8 || memcmp(line.ptr, "# file: ", 8) != 0)
            continue;
        tw_buf_reset(&p);
        if (tw_buf_printf(&p, "%s/%.*s", dir, (int)line.len - 8, line.ptr + 8) == TW_OK)
            (void)unlink(p.ptr);
    }
    tw_buf_cleanup(&p);
}

/* Removes what the demo wrote under root (run from root), then root itself. */
static void cleanup(const char *root)
{
    unlink_blob(tw_demo_fleet_baseline, tw_demo_fleet_baseline_len, "samples/audit/baseline");
    unlink_blob(tw_demo_fleet, tw_demo_fleet_len, "samples/audit");
    (void)unlink("samples/intel/salt-typhoon-demo.json");
    (void)unlink("report.txt");
    (void)rmdir("samples/audit/baseline");
    (void)rmdir("samples/audit");
    (void)rmdir("samples/intel");
    (void)rmdir("samples");
    (void)root;
}

int tw_demo_audit(const char *html_path)
{
    const char *tmp = getenv("TMPDIR");
    char root[4096], html_abs[4096] = "";
    struct tw_buf report;
    struct tw_err err;
    int cwd = -1, status = TW_EXIT_OK, rc;
    bool in_root = false;

    /* The HTML path as the user gave it, made absolute before the chdir below. */
    if (html_path != NULL) {
        if (html_path[0] == '/') {
            (void)snprintf(html_abs, sizeof(html_abs), "%s", html_path);
        } else {
            char here[4096];
            if (getcwd(here, sizeof(here)) == NULL ||
                    snprintf(html_abs, sizeof(html_abs), "%s/%s", here, html_path) >=
                            (int)sizeof(html_abs)) {
                fprintf(stderr, "tidewatch demo: %s: path too long\n", html_path);
                return TW_EXIT_ERROR;
            }
        }
    }
    (void)snprintf(root, sizeof(root), "%s/tw-demo-audit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(root) == NULL) {
        fprintf(stderr, "tidewatch demo: cannot make a temporary directory: %s\n", strerror(errno));
        return TW_EXIT_ERROR;
    }
    cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    in_root = cwd >= 0 && chdir(root) == 0;
    if (!in_root || mkdir("samples", 0700) != 0 || mkdir("samples/audit", 0700) != 0 ||
            mkdir("samples/audit/baseline", 0700) != 0 || mkdir("samples/intel", 0700) != 0 ||
            unpack(tw_demo_fleet, tw_demo_fleet_len, "samples/audit") != TW_OK ||
            unpack(tw_demo_fleet_baseline, tw_demo_fleet_baseline_len, "samples/audit/baseline") !=
                    TW_OK ||
            tw_cli_write("samples/intel/salt-typhoon-demo.json", (const char *)tw_demo_bundle,
                    tw_demo_bundle_len, &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: cannot write the sample fleet under %s\n", root);
        status = TW_EXIT_ERROR;
        goto out;
    }
    printf("Five devices of a fictional carrier (samples/audit): an IOS XE core switch\n"
           "with its show version beside it, an IOS XE router whose collector prepended\n"
           "show version, an IOS XR PE, an NX-OS leaf and a Junos SRX. One of them was left\n"
           "the way the campaign leaves devices; its known-good configuration is the baseline.\n\n"
           "$ tidewatch audit --intel samples/intel/salt-typhoon-demo.json \\\n"
           "      --baseline samples/audit/baseline samples/audit\n\n");
    fflush(stdout);
    {
        static const char *const args[] = { "audit", "-q", "--intel",
            "samples/intel/salt-typhoon-demo.json", "--baseline", "samples/audit/baseline", "-o",
            "report.txt", "samples/audit", NULL };
        rc = run_audit(args);
    }
    if (rc != TW_EXIT_OK || tw_cli_slurp("report.txt", (size_t)64 << 20, &report, &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: the audit failed (exit %d)\n", rc);
        status = TW_EXIT_ERROR;
        goto out;
    }
    print_from(report.ptr, report.len, "== fleet summary");
    printf("\nThe compromised device's critical findings:\n\n");
    print_device(report.ptr, report.len, DEMO_COMPROMISED);
    tw_buf_cleanup(&report);
    if (html_path != NULL) {
        const char *const args[] = { "audit", "-q", "--intel",
            "samples/intel/salt-typhoon-demo.json", "--baseline", "samples/audit/baseline",
            "--format", "html", "-o", html_abs, "samples/audit", NULL };
        rc = run_audit(args);
        if (rc != TW_EXIT_OK) {
            fprintf(stderr, "tidewatch demo: the HTML report could not be written\n");
            status = TW_EXIT_ERROR;
        } else {
            printf("\nThe whole fleet as one self-contained HTML page: %s\n", html_path);
        }
    } else {
        printf("\n(tidewatch demo --audit-html FILE also writes the fleet's HTML report.)\n");
    }
out:
    /* Only inside the temporary directory: these are relative paths. */
    if (in_root)
        cleanup(root);
    if (cwd >= 0) {
        if (fchdir(cwd) != 0)
            status = TW_EXIT_ERROR;
        (void)close(cwd);
    }
    (void)rmdir(root);
    return status;
}
