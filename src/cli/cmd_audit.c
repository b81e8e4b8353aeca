/*
 * cmd_audit.c: `tidewatch audit`, auditing router, switch and firewall
 * configurations against the rule catalogue, the campaign's vulnerable
 * versions, the shared intelligence and a known-good baseline.
 *
 * The command gathers the configurations (files, and directories walked in
 * name order), each with the operational outputs beside it
 * (NAME.show-version.txt and the other names of devconf.h's tw_opout), then
 * parses and audits every device on --threads workers. Devices are recorded
 * in the report in input order whatever the threads' timing: a worker copies
 * a device's findings into its slot of a small ring, and the main thread
 * moves the slots into the report one after the other, so the output of N
 * threads is byte for byte the output of one. Parsed devices are freed once
 * recorded; memory is the report plus the devices in flight.
 *
 * A device that cannot be read is named on standard error with its file and
 * line or byte offset, recorded in the report as such, and the others are
 * still audited; the exit status is then 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "intel_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/arena.h"
#include "tidewatch/audit.h"
#include "tidewatch/buf.h"
#include "tidewatch/devconf.h"

static const char prog[] = "tidewatch audit";

static const char audit_help[] =
        "usage: tidewatch audit [options] PATH...\n"
        "\n"
        "Audit network device configurations (Cisco IOS, IOS XE, NX-OS, IOS XR, ASA;\n"
        "Juniper Junos in brace or set form) for hardening gaps, the Salt Typhoon\n"
        "campaign's tradecraft, vulnerable versions, addresses of the intelligence and\n"
        "drift from a known-good baseline. A PATH is a configuration or a directory\n"
        "(walked recursively in name order; hidden files, *.md, README and LICENSE\n"
        "files are skipped). NAME.<output>.txt beside a configuration NAME.EXT is\n"
        "that device's operational output: show-version, dir, show-monitor-capture,\n"
        "show-app-hosting-list, processes, show-vstack-config, show-ip-ssh.\n"
        "\n"
        "options:\n"
        "      --rules FILE        also read the rules of FILE (repeatable); a rule with\n"
        "                          the id of a shipped one replaces it\n"
        "      --no-catalogue      use only the --rules files, not the shipped catalogue\n"
        "      --list-rules        list the rules (id, severity, platforms, title) and exit\n"
        "  -i, --intel FILE        a STIX 2.1 bundle or compiled index (.twi): addresses\n"
        "                          in configurations that it names are findings (repeatable)\n"
        "      --respect-validity  only indicators valid now (default: all not revoked)\n"
        "      --vulns FILE        vulnerability data instead of the shipped data\n"
        "      --baseline DIR      known-good configurations: drift against the file with\n"
        "                          the same relative path in DIR, else the same hostname\n"
        "      --platform NAME     force the platform: ios, iosxe, nxos, iosxr, junos, asa\n"
        "      --format FMT        text (default), jsonl, csv or html\n"
        "  -o, --output FILE       write the report to FILE (whole or not at all)\n"
        "      --min-severity S    leave out findings below S (info, low, medium, high,\n"
        "                          critical)\n"
        "      --fail-on S         exit 1 when a finding at or above S exists (default: never)\n"
        "      --threads N         audit N devices at once (default 1; same output)\n"
        "  -q, --quiet             no parser warnings on standard error\n"
        "      --stats             devices, statements, bytes, findings, time and rates on\n"
        "                          standard error\n"
        "  -h, --help              this help\n"
        "\n"
        "exit status: 0 audited (and nothing at or above --fail-on), 1 a finding at or\n"
        "above --fail-on, 2 usage error or a file that could not be read (the others\n"
        "are still audited and reported), 3 the report could not be written\n";

/* Most configurations in one run, and deepest directory walk. */
#define AUDIT_MAX_DEVICES ((size_t)1 << 22)
#define AUDIT_MAX_DEPTH   32
/* Most rule, intelligence and vulnerability files on one command line. */
#define AUDIT_MAX_FILES 256
/* Most audit threads, and devices in flight per thread. */
#define AUDIT_MAX_THREADS     64u
#define AUDIT_RING_PER_THREAD 4u
/* Most parser warnings printed per device (the rest are counted). */
#define AUDIT_MAX_WARNINGS_SHOWN 3u

/* ==== Options ==== */

struct audit_opts {
    const char *rules[AUDIT_MAX_FILES];
    char *intel[AUDIT_MAX_FILES];
    int n_rules, n_intel;
    const char *vulns, *baseline, *output;
    enum tw_platform platform;
    enum tw_report_format format;
    enum tw_severity min_severity;
    int fail_on; /* a severity, or -1: never */
    unsigned threads;
    bool no_catalogue, list_rules, quiet, stats, respect_validity, format_set;
};

/* ==== Gathering the configurations ==== */

/* One configuration to audit. */
struct entry {
    char *path; /* as it will be opened and named */
    char *rel;  /* relative to the directory argument it was found under, else its file name */
    int err_no; /* a directory that could not be listed: why (it is reported as unreadable) */
};

struct entries {
    struct entry *v;
    size_t n, cap;
    dev_t skip_dev; /* the baseline directory, never walked as part of the fleet */
    ino_t skip_ino;
    bool skip;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (tw_ascii_lower(*s) != tw_ascii_lower(*prefix))
            return false;
    return true;
}

/* Files that are never configurations: hidden files, documentation and licences. */
static bool skipped_name(const char *name)
{
    return name[0] == '.' || ends_with(name, ".md") || starts_with_ci(name, "README") ||
           starts_with_ci(name, "LICENSE") || starts_with_ci(name, "COPYING");
}

/*
 * When name is NAME.<output>.txt, returns the output kind and NAME's length;
 * otherwise -1.
 */
static int output_name(const char *name, size_t *stem_len)
{
    size_t n = strlen(name);
    const char *dot;
    enum tw_opout k;

    if (n < 5 || !ends_with(name, ".txt"))
        return -1;
    n -= 4;
    for (dot = name + n; dot > name && dot[-1] != '.'; dot--)
        ;
    if (dot <= name + 1)
        return -1;
    if (tw_opout_parse(tw_str_make(dot, (size_t)(name + n - dot)), &k) != TW_OK)
        return -1;
    *stem_len = (size_t)(dot - 1 - name);
    return (int)k;
}

/* The part of a configuration's file name that its outputs start with: the name without its
 * extension. */
static size_t config_stem(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
}

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    bool slash = na > 0 && a[na - 1] != '/';
    char *p = tw_malloc(na + nb + 2);

    if (p == NULL)
        return NULL;
    (void)snprintf(p, na + nb + 2, "%s%s%s", a, slash ? "/" : "", b);
    return p;
}

static int add_entry(struct entries *e, const char *path, const char *rel, int err_no)
{
    struct entry *v;

    if (e->n >= AUDIT_MAX_DEVICES)
        return TW_ELIMIT;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        v = tw_reallocarray(e->v, cap, sizeof(*v));
        if (v == NULL)
            return TW_ENOMEM;
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n].path = tw_strdup(path);
    e->v[e->n].rel = tw_strdup(rel);
    e->v[e->n].err_no = err_no;
    if (e->v[e->n].path == NULL || e->v[e->n].rel == NULL) {
        tw_free(e->v[e->n].path);
        tw_free(e->v[e->n].rel);
        return TW_ENOMEM;
    }
    e->n++;
    return TW_OK;
}

static void entries_free(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        tw_free(e->v[i].path);
        tw_free(e->v[i].rel);
    }
    tw_free(e->v);
    memset(e, 0, sizeof(*e));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tw_free(v[i]);
    tw_free((void *)v);
}

/*
 * The entry names of a directory, sorted, without . and .. (free_list them).
 * TW_OK, TW_EIO (it cannot be opened: errno says why) or TW_ENOMEM.
 */
static int list_dir(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = NULL;
    size_t cap = 0;
    int rc = TW_OK;

    *out = NULL;
    *n = 0;
    if (d == NULL)
        return TW_EIO;
    while (rc == TW_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            char **nv;
            cap = cap ? cap * 2 : 64;
            nv = tw_reallocarray(v, cap, sizeof(char *));
            if (nv == NULL) {
                rc = TW_ENOMEM;
                break;
            }
            v = nv;
        }
        v[*n] = tw_strdup(de->d_name);
        if (v[*n] == NULL)
            rc = TW_ENOMEM;
        else
            (*n)++;
    }
    (void)closedir(d);
    if (rc != TW_OK) {
        free_list(v, *n);
        *n = 0;
        return rc;
    }
    if (*n > 1)
        qsort((void *)v, *n, sizeof(char *), cmp_str);
    *out = v;
    return TW_OK;
}

/* Whether names (sorted) holds a configuration NAME.EXT or NAME whose stem is name[0..stem). */
static bool has_config(char *const *names, size_t n, const char *name, size_t stem)
{
    for (size_t i = 0; i < n; i++) {
        size_t k;
        if (strncmp(names[i], name, stem) != 0 || skipped_name(names[i]) ||
                output_name(names[i], &k) >= 0)
            continue;
        if (config_stem(names[i]) == stem || strlen(names[i]) == stem)
            return true;
    }
    return false;
}

/* Whether the file at path is an operational output of a configuration beside it. */
static bool is_output_file(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    char *dir;
    char **names;
    size_t stem, n;
    bool yes;

    if (output_name(name, &stem) < 0)
        return false;
    dir = slash ? tw_strndup(path, (size_t)(slash - path) + (slash == path)) : tw_strdup(".");
    if (dir == NULL)
        return false;
    yes = list_dir(dir, &names, &n) == TW_OK && has_config(names, n, name, stem);
    free_list(names, n);
    tw_free(dir);
    return yes;
}

static int walk(struct entries *e, const char *dir, const char *rel, unsigned depth, bool quiet)
{
    size_t n;
    char **names;
    int rc = TW_OK;

    if (depth > AUDIT_MAX_DEPTH) {
        fprintf(stderr, "%s: %s: deeper than %d directories, not walked\n", prog, dir,
                AUDIT_MAX_DEPTH);
        return TW_OK;
    }
    rc = list_dir(dir, &names, &n);
    if (rc == TW_EIO) /* recorded, and named with the devices that cannot be read */
        return add_entry(e, dir, rel[0] ? rel : dir, errno ? errno : EIO);
    if (rc != TW_OK)
        return rc;
    for (size_t i = 0; i < n && rc == TW_OK; i++) {
        const char *name = names[i];
        char *path, *r;
        struct stat st;
        size_t stem;

        if (skipped_name(name))
            continue;
        path = join(dir, name);
        r = rel[0] ? join(rel, name) : tw_strdup(name);
        if (path == NULL || r == NULL) {
            rc = TW_ENOMEM;
        } else if (stat(path, &st) != 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            if (!(e->skip && st.st_dev == e->skip_dev && st.st_ino == e->skip_ino))
                rc = walk(e, path, r, depth + 1, quiet);
        } else if (S_ISREG(st.st_mode)) {
            if (output_name(name, &stem) >= 0) {
                if (!has_config(names, n, name, stem) && !quiet)
                    fprintf(stderr,
                            "%s: %s: an operational output without its configuration, "
                            "skipped\n",
                            prog, path);
            } else {
                rc = add_entry(e, path, r, 0);
            }
        }
        tw_free(path);
        tw_free(r);
    }
    free_list(names, n);
    return rc;
}

/* The configurations named by the arguments, in order. TW_OK, or an exit-worthy error (said). */
static int gather(struct entries *e, int argc, char **argv, bool quiet)
{
    for (int i = 0; i < argc; i++) {
        struct stat st;
        int rc;

        if (stat(argv[i], &st) != 0) {
            rc = add_entry(e, argv[i], argv[i], errno); /* recorded as unreadable */
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(e, argv[i], "", 0, quiet);
        } else {
            const char *slash = strrchr(argv[i], '/');
            if (is_output_file(argv[i]))
                continue; /* read with its configuration */
            rc = add_entry(e, argv[i], slash ? slash + 1 : argv[i], 0);
        }
        if (rc != TW_OK) {
            fprintf(stderr, "%s: %s\n", prog,
                    rc == TW_ELIMIT ? "too many configurations" : "out of memory");
            return rc;
        }
    }
    return TW_OK;
}

/* ==== Baselines ==== */

struct host_path {
    char *host;
    char *path;
    size_t order; /* place in the walk: the first in name order wins among equal hostnames */
};

struct baselines {
    const char *dir; /* NULL: no --baseline */
    enum tw_platform platform;
    pthread_mutex_t lock; /* guards the lazy hostname table */
    bool hosts_built;
    struct host_path *hosts; /* sorted by host, then order */
    size_t n_hosts;
};

static int cmp_host(const void *a, const void *b)
{
    const struct host_path *x = a, *y = b;
    int c = strcmp(x->host, y->host);

    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Parses every configuration of the baseline directory once, for its hostname. */
static void build_hosts(struct baselines *b)
{
    struct entries e;
    size_t k = 0;

    memset(&e, 0, sizeof(e));
    b->hosts_built = true;
    if (walk(&e, b->dir, "", 0, true) != TW_OK || e.n == 0) {
        entries_free(&e);
        return;
    }
    b->hosts = tw_calloc(e.n, sizeof(*b->hosts));
    for (size_t i = 0; b->hosts != NULL && i < e.n; i++) {
        struct tw_buf text;
        struct tw_devconf *d = NULL;
        struct tw_err err;

        if (tw_cli_slurp(e.v[i].path, TW_CFG_MAX_BYTES, &text, &err) != TW_OK)
            continue;
        if (tw_devconf_parse(text.ptr, text.len, e.v[i].path, b->platform, &d, &err) == TW_OK &&
                d->hostname[0] != '\0') {
            b->hosts[k].host = tw_strdup(d->hostname);
            b->hosts[k].path = tw_strdup(e.v[i].path);
            b->hosts[k].order = i;
            if (b->hosts[k].host != NULL && b->hosts[k].path != NULL) {
                k++;
            } else {
                tw_free(b->hosts[k].host);
                tw_free(b->hosts[k].path);
            }
        }
        tw_devconf_free(d);
        tw_buf_cleanup(&text);
    }
    b->n_hosts = k;
    if (k > 1)
        qsort(b->hosts, k, sizeof(*b->hosts), cmp_host);
    entries_free(&e);
}

/* The path of the baseline for a device (tw_free it), or NULL when there is none. */
static char *baseline_path(struct baselines *b, const struct entry *en, const struct tw_devconf *d)
{
    char *p;
    struct stat st;
    char *found = NULL;
    size_t lo = 0, hi;

    if (b->dir == NULL)
        return NULL;
    p = join(b->dir, en->rel);
    if (p != NULL && stat(p, &st) == 0 && S_ISREG(st.st_mode))
        return p;
    tw_free(p);
    if (d->hostname[0] == '\0')
        return NULL;
    (void)pthread_mutex_lock(&b->lock);
    if (!b->hosts_built)
        build_hosts(b);
    /* The first entry with this hostname: a lower bound over the sorted table. */
    hi = b->n_hosts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(b->hosts[mid].host, d->hostname) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < b->n_hosts && strcmp(b->hosts[lo].host, d->hostname) == 0)
        found = tw_strdup(b->hosts[lo].path);
    (void)pthread_mutex_unlock(&b->lock);
    return found;
}

static void baselines_cleanup(struct baselines *b)
{
    for (size_t i = 0; i < b->n_hosts; i++) {
        tw_free(b->hosts[i].host);
        tw_free(b->hosts[i].path);
    }
    tw_free(b->hosts);
    b->hosts = NULL;
    b->n_hosts = 0;
}

/* ==== Auditing one device ==== */

/* A device in flight: parsed and audited by a worker, recorded by the main thread. */
struct job {
    size_t idx; /* entry index */
    bool done;
    struct tw_devconf *d; /* NULL when it could not be read */
    struct tw_err err;    /* why, when d is NULL */
    struct tw_arena arena;
    struct tw_finding *f; /* its findings, strings in arena */
    size_t n_f, cap_f;
    struct tw_buf notes; /* lines for standard error, printed in device order */
    struct tw_audit_stats st;
    int rc; /* TW_ENOMEM when something could not be kept */
};

/* What every worker shares. */
struct run {
    const struct audit_opts *o;
    const struct entries *e;
    struct tw_audit_config cfg;
    struct baselines *bl;
    long drift_rule; /* the rule of the `drift` builtin, or -1 */
    /* The ring. */
    struct job *ring;
    size_t ring_n;
    size_t next_take, next_emit;
    bool stop;
    pthread_mutex_t lock;
    pthread_cond_t space, done;
};

/* Adds a line for standard error to a job's notes (a note past the cap is dropped). */
static void note(struct job *j, const char *fmt, ...) TW_PRINTF(2, 3);

static void note(struct job *j, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = tw_buf_vprintf(&j->notes, fmt, ap);
    va_end(ap);
    (void)rc;
}

static char *arena_dup(struct tw_arena *a, const char *s)
{
    return tw_arena_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

/* The tw_finding_fn of a job: copies the finding into the job's arena. */
static int collect(void *ctx, const struct tw_finding *f)
{
    struct job *j = ctx;
    struct tw_finding *c;

    if (j->n_f == j->cap_f) {
        size_t cap = j->cap_f ? j->cap_f * 2 : 32;
        struct tw_finding *v = tw_reallocarray(j->f, cap, sizeof(*v));
        if (v == NULL)
            return TW_ENOMEM;
        j->f = v;
        j->cap_f = cap;
    }
    c = &j->f[j->n_f];
    *c = *f;
    c->device = arena_dup(&j->arena, f->device);
    c->file = arena_dup(&j->arena, f->file);
    c->rule_id = arena_dup(&j->arena, f->rule_id);
    c->title = arena_dup(&j->arena, f->title);
    c->context = arena_dup(&j->arena, f->context);
    c->evidence = arena_dup(&j->arena, f->evidence);
    c->message = arena_dup(&j->arena, f->message);
    c->touches = arena_dup(&j->arena, f->touches);
    c->ref = arena_dup(&j->arena, f->ref);
    if (c->device == NULL || c->file == NULL || c->rule_id == NULL || c->title == NULL ||
            c->context == NULL || c->evidence == NULL || c->message == NULL || c->touches == NULL ||
            c->ref == NULL)
        return TW_ENOMEM;
    j->n_f++;
    return TW_OK;
}

/* Reads the outputs beside a configuration: DIR/STEM.<name>.txt. */
static void read_outputs(struct job *j, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    size_t stem = config_stem(name);

    for (unsigned k = 0; k < TW_OP_COUNT; k++) {
        struct tw_buf p, text;
        struct tw_err err;
        struct stat st;

        tw_buf_init(&p, 8192);
        if (tw_buf_append(&p, path, dir_len) != TW_OK ||
                tw_buf_printf(&p, "%.*s.%s.txt", (int)stem, name,
                        tw_opout_name((enum tw_opout)k)) != TW_OK ||
                stat(p.ptr, &st) != 0 || !S_ISREG(st.st_mode)) {
            tw_buf_cleanup(&p);
            continue;
        }
        tw_err_clear(&err);
        if (tw_cli_slurp(p.ptr, TW_CFG_MAX_BYTES, &text, &err) != TW_OK) {
            note(j, "%s: %s: not read: %s\n", prog, p.ptr, err.msg);
        } else {
            int rc = tw_devconf_add_output_file(
                    j->d, (enum tw_opout)k, text.ptr, text.len, p.ptr, &err);
            if (rc == TW_ENOMEM)
                j->rc = rc;
            else if (rc != TW_OK)
                note(j, "%s: %s: not used: %s\n", prog, p.ptr, err.msg);
            tw_buf_cleanup(&text);
        }
        tw_buf_cleanup(&p);
    }
}

/* The info finding of a device that has no baseline (see the manual page). */
static void no_baseline(struct run *run, struct job *j)
{
    const struct tw_rule_info *ri;
    struct tw_finding f;
    char msg[512];

    if (run->drift_rule < 0) {
        note(j, "%s: %s: no baseline in %s: drift not checked\n", prog, j->d->path, run->bl->dir);
        return;
    }
    if (run->cfg.min_severity > TW_SEV_INFO)
        return;
    ri = tw_ruleset_rule(run->cfg.rules, (size_t)run->drift_rule);
    (void)snprintf(msg, sizeof(msg),
            "no baseline in %s by file name or hostname: drift not checked", run->bl->dir);
    memset(&f, 0, sizeof(f));
    f.device = j->d->name;
    f.file = j->d->path;
    f.platform = j->d->platform;
    f.rule = (size_t)run->drift_rule;
    f.rule_id = ri->id;
    f.severity = TW_SEV_INFO;
    f.title = ri->title;
    f.context = "";
    f.evidence = "";
    f.message = msg;
    f.touches = "";
    f.ref = "";
    if (collect(j, &f) != TW_OK)
        j->rc = TW_ENOMEM;
}

static void audit_one(struct run *run, struct job *j)
{
    const struct entry *en = &run->e->v[j->idx];
    struct tw_buf text;
    struct tw_devconf *base = NULL;
    char *bpath;
    bool has_baseline;
    int rc;

    tw_err_clear(&j->err);
    if (en->err_no != 0) {
        (void)tw_err_set(&j->err, TW_EIO, TW_NOPOS, "%s", strerror(en->err_no));
        return;
    }
    rc = tw_cli_slurp(en->path, TW_CFG_MAX_BYTES, &text, &j->err);
    if (rc != TW_OK) {
        if (rc == TW_ELIMIT)
            (void)tw_err_set(
                    &j->err, TW_ELIMIT, TW_NOPOS, "larger than %zu bytes", TW_CFG_MAX_BYTES);
        return;
    }
    rc = tw_devconf_parse(text.ptr, text.len, en->path, run->o->platform, &j->d, &j->err);
    tw_buf_cleanup(&text);
    if (rc != TW_OK) {
        j->d = NULL;
        if (j->err.code == TW_OK)
            (void)tw_err_set(&j->err, rc, TW_NOPOS, "%s", tw_strerror(rc));
        if (rc == TW_ENOMEM)
            j->rc = rc;
        return;
    }
    read_outputs(j, en->path);
    bpath = baseline_path(run->bl, en, j->d);
    has_baseline = bpath != NULL;
    if (bpath != NULL) {
        struct tw_err berr;
        tw_err_clear(&berr);
        rc = tw_cli_slurp(bpath, TW_CFG_MAX_BYTES, &text, &berr);
        if (rc == TW_OK) {
            rc = tw_devconf_parse(text.ptr, text.len, bpath, j->d->platform, &base, &berr);
            tw_buf_cleanup(&text);
        }
        if (rc != TW_OK) {
            base = NULL;
            note(j, "%s: %s: baseline %s not read: %s\n", prog, en->path, bpath, berr.msg);
        }
        tw_free(bpath);
    }
    rc = tw_audit_device(&run->cfg, j->d, base, collect, j, &j->st);
    if (rc != TW_OK)
        j->rc = TW_ENOMEM;
    if (run->bl->dir != NULL && !has_baseline)
        no_baseline(run, j);
    tw_devconf_free(base);
}

static void job_reset(struct job *j)
{
    tw_devconf_free(j->d);
    j->d = NULL;
    j->n_f = 0;
    j->done = false;
    j->rc = TW_OK;
    memset(&j->st, 0, sizeof(j->st));
    tw_arena_reset(&j->arena);
    tw_buf_reset(&j->notes);
}

/* ==== The pipeline ==== */

struct totals {
    size_t devices, unreadable, warnings;
    uint64_t statements, bytes, findings;
    struct tw_audit_stats st;
};

/* Whether msg already says where: "WORD N" with N a number ("line 3", "offset 17"). */
static bool says_where(const char *msg, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = strstr(msg, word); p != NULL; p = strstr(p + 1, word))
        if (p[n] == ' ' && p[n + 1] >= '0' && p[n + 1] <= '9')
            return true;
    return false;
}

static void error_text(const struct tw_err *err, char *out, size_t cap)
{
    if (err->line > 0 && !says_where(err->msg, "line"))
        (void)snprintf(out, cap, "line %zu: %s", err->line, err->msg);
    else if (err->line == 0 && err->offset != TW_NOPOS && !says_where(err->msg, "offset") &&
             !says_where(err->msg, "byte"))
        (void)snprintf(out, cap, "byte %zu: %s", err->offset, err->msg);
    else
        (void)snprintf(out, cap, "%s", err->msg[0] ? err->msg : tw_strerror(err->code));
}

/* Moves a finished job into the report (main thread, in device order). */
static int emit(struct run *run, struct job *j, struct tw_report *r, struct totals *t)
{
    const struct entry *en = &run->e->v[j->idx];
    int rc = j->rc;

    if (j->notes.len > 0)
        fputs(j->notes.ptr, stderr);
    if (j->d == NULL) {
        char msg[sizeof(j->err.msg) + 64];
        /* Strip a leading "PATH: " the reader may have put in its message. */
        size_t pl = strlen(en->path);
        struct tw_err e2 = j->err;
        if (strncmp(e2.msg, en->path, pl) == 0 && e2.msg[pl] == ':' && e2.msg[pl + 1] == ' ')
            memmove(e2.msg, e2.msg + pl + 2, strlen(e2.msg + pl + 2) + 1);
        error_text(&e2, msg, sizeof(msg));
        fprintf(stderr, "%s: %s: %s\n", prog, en->path, msg);
        t->unreadable++;
        return rc != TW_OK ? rc : tw_report_device_error(r, en->path, &e2);
    }
    if (!run->o->quiet && j->d->n_warnings > 0) {
        unsigned shown = TW_MIN(j->d->n_warnings, AUDIT_MAX_WARNINGS_SHOWN);
        shown = TW_MIN(shown, TW_CFG_MAX_WARNINGS);
        for (unsigned i = 0; i < shown; i++)
            fprintf(stderr, "%s: %s:%u: warning: %s\n", prog, en->path, j->d->warnings[i].line,
                    j->d->warnings[i].msg);
        if (j->d->n_warnings > shown)
            fprintf(stderr, "%s: %s: %u more warnings\n", prog, en->path, j->d->n_warnings - shown);
    }
    t->devices++;
    t->warnings += j->d->n_warnings;
    t->statements += j->d->n_nodes;
    t->bytes += j->d->bytes;
    t->findings += j->n_f;
    t->st.rules.checks_run += j->st.rules.checks_run;
    t->st.rules.checks_skipped += j->st.rules.checks_skipped;
    t->st.rules.findings += j->st.rules.findings;
    t->st.rules.regex_limit += j->st.rules.regex_limit;
    t->st.ip_literals += j->st.ip_literals;
    t->st.drift_changes += j->st.drift_changes;
    if (rc == TW_OK)
        rc = tw_report_device(r, j->d);
    for (size_t i = 0; i < j->n_f && rc == TW_OK; i++)
        rc = tw_report_add(r, &j->f[i]);
    return rc;
}

static void *worker(void *arg)
{
    struct run *run = arg;

    for (;;) {
        size_t i;
        struct job *j;

        (void)pthread_mutex_lock(&run->lock);
        while (!run->stop && run->next_take < run->e->n &&
                run->next_take >= run->next_emit + run->ring_n)
            (void)pthread_cond_wait(&run->space, &run->lock);
        if (run->stop || run->next_take >= run->e->n) {
            (void)pthread_mutex_unlock(&run->lock);
            return NULL;
        }
        i = run->next_take++;
        j = &run->ring[i % run->ring_n];
        j->idx = i; /* under the lock: the main thread reads it while waiting */
        (void)pthread_mutex_unlock(&run->lock);
        audit_one(run, j);
        (void)pthread_mutex_lock(&run->lock);
        j->done = true;
        (void)pthread_cond_broadcast(&run->done);
        (void)pthread_mutex_unlock(&run->lock);
    }
}

/* Audits every entry into r. TW_OK or TW_ENOMEM. */
static int run_all(struct run *run, unsigned threads, struct tw_report *r, struct totals *t)
{
    pthread_t tid[AUDIT_MAX_THREADS];
    bool started[AUDIT_MAX_THREADS] = { false };
    size_t n = run->e->n;
    int rc = TW_OK;

    run->ring_n = threads == 1 ? 1 : (size_t)threads * AUDIT_RING_PER_THREAD;
    run->ring = tw_calloc(run->ring_n, sizeof(*run->ring));
    if (run->ring == NULL)
        return TW_ENOMEM;
    for (size_t i = 0; i < run->ring_n; i++) {
        tw_arena_init(&run->ring[i].arena, (size_t)16 << 10, (size_t)1 << 30);
        tw_buf_init(&run->ring[i].notes, (size_t)1 << 20);
    }
    if (threads == 1) {
        for (size_t i = 0; i < n && rc == TW_OK; i++) {
            struct job *j = &run->ring[0];
            j->idx = i;
            audit_one(run, j);
            rc = emit(run, j, r, t);
            job_reset(j);
        }
    } else {
        unsigned n_started = 0;
        (void)pthread_mutex_init(&run->lock, NULL);
        (void)pthread_cond_init(&run->space, NULL);
        (void)pthread_cond_init(&run->done, NULL);
        for (unsigned i = 0; i < threads; i++) {
            started[i] = pthread_create(&tid[i], NULL, worker, run) == 0;
            n_started += started[i];
        }
        if (n_started == 0) /* no thread at all: do the work here */
            (void)worker(run);
        for (size_t k = 0; k < n; k++) {
            struct job *j = &run->ring[k % run->ring_n];
            (void)pthread_mutex_lock(&run->lock);
            while (!(j->done && j->idx == k))
                (void)pthread_cond_wait(&run->done, &run->lock);
            (void)pthread_mutex_unlock(&run->lock);
            if (rc == TW_OK)
                rc = emit(run, j, r, t);
            job_reset(j);
            (void)pthread_mutex_lock(&run->lock);
            run->next_emit = k + 1;
            if (rc != TW_OK)
                run->stop = true;
            (void)pthread_cond_broadcast(&run->space);
            (void)pthread_mutex_unlock(&run->lock);
            if (rc != TW_OK)
                break;
        }
        for (unsigned i = 0; i < threads; i++)
            if (started[i])
                (void)pthread_join(tid[i], NULL);
        /* Jobs finished after a stop are dropped. */
        for (size_t i = 0; i < run->ring_n; i++)
            job_reset(&run->ring[i]);
        (void)pthread_cond_destroy(&run->space);
        (void)pthread_cond_destroy(&run->done);
        (void)pthread_mutex_destroy(&run->lock);
    }
    for (size_t i = 0; i < run->ring_n; i++) {
        tw_devconf_free(run->ring[i].d);
        tw_free(run->ring[i].f);
        tw_arena_cleanup(&run->ring[i].arena);
        tw_buf_cleanup(&run->ring[i].notes);
    }
    tw_free(run->ring);
    run->ring = NULL;
    return rc;
}

/* ==== Output ==== */

/*
 * Where the report goes: standard output, a device or pipe written in place
 * (-o /dev/null), or a regular file that appears whole or not at all (a
 * temporary file beside it, synced and renamed over it, as
 * tw_cli_write_atomic does, but streamed rather than held in memory).
 */
struct sink {
    FILE *f;
    const char *path;
    char *tmp; /* the temporary file, for a regular file */
};

static int sink_open(struct sink *s, const char *path)
{
    struct stat st;
    int fd;

    memset(s, 0, sizeof(s[0]));
    s->path = path;
    if (path == NULL || strcmp(path, "-") == 0) {
        s->f = stdout;
        return TW_OK;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        s->f = fopen(path, "w");
        return s->f != NULL ? TW_OK : TW_EIO;
    }
    s->tmp = tw_malloc(strlen(path) + 16);
    if (s->tmp == NULL)
        return TW_ENOMEM;
    (void)snprintf(s->tmp, strlen(path) + 16, "%s.tmp-XXXXXX", path);
    fd = mkstemp(s->tmp);
    if (fd < 0 || (s->f = fdopen(fd, "w")) == NULL) {
        if (fd >= 0) {
            (void)close(fd);
            (void)unlink(s->tmp);
        }
        tw_free(s->tmp);
        s->tmp = NULL;
        return TW_EIO;
    }
    return TW_OK;
}

/* Finishes the output: ok false throws a temporary file away. TW_OK or TW_EIO. */
static int sink_close(struct sink *s, bool ok)
{
    int rc = TW_OK;

    if (s->f == NULL)
        return TW_EIO;
    if (s->f == stdout)
        return fflush(stdout) == 0 && !ferror(stdout) ? TW_OK : TW_EIO;
    if (fflush(s->f) != 0 || ferror(s->f))
        rc = TW_EIO;
    if (rc == TW_OK && s->tmp != NULL &&
            (fchmod(fileno(s->f), 0644) != 0 || fsync(fileno(s->f)) != 0))
        rc = TW_EIO;
    if (fclose(s->f) != 0)
        rc = TW_EIO;
    s->f = NULL;
    if (s->tmp != NULL) {
        if (ok && rc == TW_OK && rename(s->tmp, s->path) != 0)
            rc = TW_EIO;
        if (!ok || rc != TW_OK)
            (void)unlink(s->tmp);
        tw_free(s->tmp);
        s->tmp = NULL;
    }
    return rc;
}

/* ==== --list-rules ==== */

static void platforms_text(unsigned set, char *out, size_t cap)
{
    size_t k = 0;

    out[0] = '\0';
    for (unsigned p = TW_PLAT_IOS; p < TW_PLAT_COUNT; p++) {
        int w;
        if (!(set & TW_PLAT_BIT(p)))
            continue;
        w = snprintf(out + k, cap - k, "%s%s", k ? "," : "", tw_platform_name((enum tw_platform)p));
        if (w < 0 || (size_t)w >= cap - k)
            break;
        k += (size_t)w;
    }
    if (k == 0)
        (void)snprintf(out, cap, "-");
}

static int list_rules(const struct tw_ruleset *rs, enum tw_report_format fmt, FILE *out)
{
    static const char *const needs_names[] = { "config", "operational", "baseline", "intel" };

    for (size_t i = 0; i < tw_ruleset_count(rs); i++) {
        const struct tw_rule_info *ri = tw_ruleset_rule(rs, i);
        char plats[96];

        if (fmt == TW_REPORT_JSONL) {
            json_t *o = json_object(), *p = json_array(), *n = json_array();
            if (o == NULL || p == NULL || n == NULL) {
                json_decref(o);
                json_decref(p);
                json_decref(n);
                return TW_ENOMEM;
            }
            for (unsigned k = TW_PLAT_IOS; k < TW_PLAT_COUNT; k++)
                if (ri->platforms & TW_PLAT_BIT(k))
                    json_array_append_new(p, json_string(tw_platform_name((enum tw_platform)k)));
            for (unsigned k = 0; k < TW_ARRAY_LEN(needs_names); k++)
                if (ri->needs & (1u << k))
                    json_array_append_new(n, json_string(needs_names[k]));
            json_object_set_new(o, "id", json_string(ri->id));
            json_object_set_new(o, "severity", json_string(tw_severity_name(ri->severity)));
            json_object_set_new(o, "platforms", p);
            json_object_set_new(o, "title", json_string(ri->title));
            json_object_set_new(o, "needs", n);
            json_object_set_new(o, "builtin",
                    ri->builtin != TW_BUILTIN_NONE ? json_string(tw_builtin_name(ri->builtin))
                                                   : json_null());
            json_object_set_new(o, "checks", json_integer(ri->n_checks));
            json_object_set_new(o, "source", json_string(ri->source));
            json_object_set_new(o, "file", json_string(ri->file));
            json_object_set_new(o, "line", json_integer(ri->line));
            if (json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0)
                fputs("{}", out);
            fputc('\n', out);
            json_decref(o);
        } else {
            platforms_text(ri->platforms, plats, sizeof(plats));
            fprintf(out, "%-12s %-8s %-32s %s\n", ri->id, tw_severity_name(ri->severity), plats,
                    ri->title);
        }
    }
    return TW_OK;
}

/* ==== The command ==== */

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_severity(const char *s, enum tw_severity *out)
{
    return tw_severity_parse(tw_str_cstr(s), out);
}

/* Parses the command line into o; returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct audit_opts *o)
{
    enum {
        OPT_RULES = 256,
        OPT_NOCAT,
        OPT_LIST,
        OPT_VULNS,
        OPT_BASE,
        OPT_PLAT,
        OPT_FMT,
        OPT_MIN,
        OPT_FAIL,
        OPT_THREADS,
        OPT_STATS,
        OPT_VALID
    };
    static const struct option opts[] = { { "rules", required_argument, NULL, OPT_RULES },
        { "no-catalogue", no_argument, NULL, OPT_NOCAT },
        { "list-rules", no_argument, NULL, OPT_LIST }, { "intel", required_argument, NULL, 'i' },
        { "respect-validity", no_argument, NULL, OPT_VALID },
        { "vulns", required_argument, NULL, OPT_VULNS },
        { "baseline", required_argument, NULL, OPT_BASE },
        { "platform", required_argument, NULL, OPT_PLAT },
        { "format", required_argument, NULL, OPT_FMT }, { "output", required_argument, NULL, 'o' },
        { "min-severity", required_argument, NULL, OPT_MIN },
        { "fail-on", required_argument, NULL, OPT_FAIL },
        { "threads", required_argument, NULL, OPT_THREADS }, { "quiet", no_argument, NULL, 'q' },
        { "stats", no_argument, NULL, OPT_STATS }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    int c;

    memset(o, 0, sizeof(*o));
    o->fail_on = -1;
    o->threads = 1;
    while ((c = getopt_long(argc, argv, "i:o:qh", opts, NULL)) != -1) {
        enum tw_severity s;
        uint64_t v;

        switch (c) {
            case OPT_RULES:
                if (o->n_rules >= AUDIT_MAX_FILES)
                    return tw_cli_usage_error(prog, "too many --rules files");
                o->rules[o->n_rules++] = optarg;
                break;
            case OPT_NOCAT:
                o->no_catalogue = true;
                break;
            case OPT_LIST:
                o->list_rules = true;
                break;
            case 'i':
                if (o->n_intel >= AUDIT_MAX_FILES)
                    return tw_cli_usage_error(prog, "too many --intel files");
                o->intel[o->n_intel++] = optarg;
                break;
            case OPT_VALID:
                o->respect_validity = true;
                break;
            case OPT_VULNS:
                o->vulns = optarg;
                break;
            case OPT_BASE:
                o->baseline = optarg;
                break;
            case OPT_PLAT:
                if (tw_platform_parse(tw_str_cstr(optarg), &o->platform) != TW_OK ||
                        o->platform == TW_PLAT_UNKNOWN)
                    return tw_cli_usage_error(prog,
                            "bad --platform '%s' (ios, iosxe, nxos, iosxr, junos or asa)", optarg);
                break;
            case OPT_FMT:
                if (tw_report_format_parse(tw_str_cstr(optarg), &o->format) != TW_OK)
                    return tw_cli_usage_error(
                            prog, "bad --format '%s' (text, jsonl, csv or html)", optarg);
                o->format_set = true;
                break;
            case 'o':
                o->output = optarg;
                break;
            case OPT_MIN:
            case OPT_FAIL:
                if (parse_severity(optarg, &s) != TW_OK)
                    return tw_cli_usage_error(prog,
                            "bad severity '%s' (info, low, medium, high or critical)", optarg);
                if (c == OPT_MIN)
                    o->min_severity = s;
                else
                    o->fail_on = (int)s;
                break;
            case OPT_THREADS:
                if (tw_parse_u64(tw_str_cstr(optarg), AUDIT_MAX_THREADS, &v) != TW_OK || v == 0)
                    return tw_cli_usage_error(
                            prog, "bad --threads '%s' (1..%u)", optarg, AUDIT_MAX_THREADS);
                o->threads = (unsigned)v;
                break;
            case 'q':
                o->quiet = true;
                break;
            case OPT_STATS:
                o->stats = true;
                break;
            case 'h':
                fputs(audit_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    return -1;
}

static void print_err(const char *path, const struct tw_err *err)
{
    size_t n = strlen(path);

    /* The rule and vulnerability parsers name the file and position in the message already. */
    if (strncmp(err->msg, path, n) == 0 && err->msg[n] == ':')
        fprintf(stderr, "%s: %s\n", prog, err->msg);
    else if (err->line > 0 && err->column > 0)
        fprintf(stderr, "%s: %s:%zu:%zu: %s\n", prog, path, err->line, err->column, err->msg);
    else if (err->line > 0)
        fprintf(stderr, "%s: %s:%zu: %s\n", prog, path, err->line, err->msg);
    else
        fprintf(stderr, "%s: %s: %s\n", prog, path, err->msg);
}

/* The rule set of the options; NULL after saying why. */
static struct tw_ruleset *load_rules(const struct audit_opts *o)
{
    struct tw_ruleset *rs = tw_ruleset_new();
    struct tw_err err;

    if (rs == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return NULL;
    }
    tw_err_clear(&err);
    if (!o->no_catalogue && tw_ruleset_add_builtin_catalogue(rs, &err) != TW_OK) {
        print_err("the shipped catalogue", &err);
        tw_ruleset_free(rs);
        return NULL;
    }
    for (int i = 0; i < o->n_rules; i++) {
        struct tw_buf text;
        int rc;

        tw_err_clear(&err);
        rc = tw_cli_slurp(o->rules[i], (size_t)TW_RULES_MAX * TW_RULE_LINE_MAX, &text, &err);
        if (rc != TW_OK) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            tw_ruleset_free(rs);
            return NULL;
        }
        rc = tw_ruleset_parse(rs, text.ptr, text.len, o->rules[i], &err);
        tw_buf_cleanup(&text);
        if (rc != TW_OK) {
            print_err(o->rules[i], &err);
            tw_ruleset_free(rs);
            return NULL;
        }
    }
    return rs;
}

static struct tw_vulndb *load_vulns(const struct audit_opts *o)
{
    struct tw_vulndb *db = NULL;
    struct tw_err err;
    int rc;

    tw_err_clear(&err);
    if (o->vulns == NULL) {
        rc = tw_vulndb_builtin(&db, &err);
        if (rc != TW_OK)
            print_err("the shipped vulnerability data", &err);
        return rc == TW_OK ? db : NULL;
    }
    {
        struct tw_buf text;
        rc = tw_cli_slurp(o->vulns, (size_t)64 << 20, &text, &err);
        if (rc != TW_OK) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            return NULL;
        }
        rc = tw_vulndb_parse(text.ptr, text.len, o->vulns, &db, &err);
        tw_buf_cleanup(&text);
        if (rc != TW_OK) {
            print_err(o->vulns, &err);
            return NULL;
        }
    }
    return db;
}

static void print_stats(const struct totals *t, size_t n_rules, double secs)
{
    double s = secs > 0 ? secs : 1e-9;

    fprintf(stderr,
            "%s: %zu devices (%zu unreadable), %llu statements, %.1f MB, %llu findings in %.2f s: "
            "%.0f configs/s, %.1f MB/s\n",
            prog, t->devices, t->unreadable, (unsigned long long)t->statements,
            (double)t->bytes / 1e6, (unsigned long long)t->findings, secs,
            (double)(t->devices + t->unreadable) / s, (double)t->bytes / 1e6 / s);
    fprintf(stderr,
            "  %zu rules; checks run %llu, skipped for want of an output %llu; regex limit hit "
            "%llu; IP literals checked %llu; drift changes %llu; parser warnings %zu\n",
            n_rules, (unsigned long long)t->st.rules.checks_run,
            (unsigned long long)t->st.rules.checks_skipped,
            (unsigned long long)t->st.rules.regex_limit, (unsigned long long)t->st.ip_literals,
            (unsigned long long)t->st.drift_changes, t->warnings);
}

int tw_cmd_audit(int argc, char **argv)
{
    struct audit_opts o;
    struct tw_ruleset *rs = NULL;
    struct tw_vulndb *vulns = NULL;
    struct tw_index *intel = NULL;
    struct tw_report *r = NULL;
    struct entries e;
    struct baselines bl;
    struct run run;
    struct totals t;
    struct sink out;
    double t0;
    int status, rc;

    status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    memset(&e, 0, sizeof(e));
    memset(&bl, 0, sizeof(bl));
    memset(&t, 0, sizeof(t));
    if (o.list_rules && o.format != TW_REPORT_TEXT && o.format != TW_REPORT_JSONL)
        return tw_cli_usage_error(prog, "--list-rules writes text or jsonl");
    if (!o.list_rules && optind >= argc)
        return tw_cli_usage_error(prog, "no configuration to audit");
    if (o.no_catalogue && o.n_rules == 0)
        return tw_cli_usage_error(prog, "--no-catalogue needs at least one --rules file");
    if (o.baseline != NULL) {
        struct stat st;
        if (stat(o.baseline, &st) != 0 || !S_ISDIR(st.st_mode))
            return tw_cli_usage_error(prog, "--baseline '%s' is not a directory", o.baseline);
        e.skip = true;
        e.skip_dev = st.st_dev;
        e.skip_ino = st.st_ino;
    }
    rs = load_rules(&o);
    if (rs == NULL)
        return TW_EXIT_USAGE;
    if (o.list_rules) {
        status = list_rules(rs, o.format, stdout) == TW_OK ? TW_EXIT_OK : TW_EXIT_ERROR;
        tw_ruleset_free(rs);
        return status;
    }
    t0 = mono();
    status = TW_EXIT_OK;
    vulns = load_vulns(&o);
    if (vulns == NULL) {
        status = TW_EXIT_USAGE;
        goto out;
    }
    if (o.n_intel > 0) {
        intel = tw_intel_load_index(o.n_intel, o.intel, &rc);
        if (intel == NULL || rc != TW_EXIT_OK) {
            fprintf(stderr, "%s: the intelligence could not be read\n", prog);
            status = TW_EXIT_USAGE;
            goto out;
        }
    }
    rc = gather(&e, argc - optind, argv + optind, o.quiet);
    if (rc != TW_OK) {
        status = TW_EXIT_ERROR;
        goto out;
    }
    if (e.n == 0) {
        fprintf(stderr, "%s: no configuration found\n", prog);
        status = TW_EXIT_USAGE;
        goto out;
    }
    r = tw_report_new(rs);
    if (r == NULL) {
        status = TW_EXIT_ERROR;
        goto out;
    }
    bl.dir = o.baseline;
    bl.platform = o.platform;
    (void)pthread_mutex_init(&bl.lock, NULL);
    memset(&run, 0, sizeof(run));
    run.o = &o;
    run.e = &e;
    run.bl = &bl;
    run.cfg.rules = rs;
    run.cfg.vulns = vulns;
    run.cfg.intel = intel;
    run.cfg.respect_validity = o.respect_validity;
    run.cfg.min_severity = o.min_severity;
    run.drift_rule = -1;
    for (size_t i = 0; i < tw_ruleset_count(rs); i++) {
        if (tw_ruleset_rule(rs, i)->builtin == TW_BUILTIN_DRIFT) {
            run.drift_rule = (long)i;
            break;
        }
    }
    rc = run_all(&run, (unsigned)TW_MIN((size_t)o.threads, e.n), r, &t);
    baselines_cleanup(&bl);
    (void)pthread_mutex_destroy(&bl.lock);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = TW_EXIT_ERROR;
        goto out;
    }
    if (sink_open(&out, o.output) != TW_OK) {
        fprintf(stderr, "%s: %s: cannot write: %s\n", prog, o.output, strerror(errno));
        status = TW_EXIT_ERROR;
        goto out;
    }
    rc = tw_report_write(r, o.format, out.f);
    if (sink_close(&out, rc == TW_OK) != TW_OK || rc != TW_OK) {
        fprintf(stderr, "%s: %s: the report could not be written\n", prog,
                o.output ? o.output : "standard output");
        status = TW_EXIT_ERROR;
        goto out;
    }
    if (o.stats)
        print_stats(&t, tw_ruleset_count(rs), mono() - t0);
    if (t.unreadable > 0)
        status = TW_EXIT_USAGE;
    else if (o.fail_on >= 0 && tw_report_max_severity(r) >= o.fail_on)
        status = TW_EXIT_FINDINGS;
out:
    tw_report_free(r);
    entries_free(&e);
    tw_index_free(intel);
    tw_vulndb_free(vulns);
    tw_ruleset_free(rs);
    return status;
}
