/*
 * archive_list.c: names of flow archive files, listing the complete files of
 * a time window, and removing the temporary files of killed writers
 * (flowarch.h).
 *
 * An archive is DIR/YYYY/MM/DD/flows-YYYYMMDDhhmm-SEQ.twf (UTC). The
 * listing walks only the year, month and day directories that can hold a
 * file overlapping the window (a partition is at most a day long, so a file
 * of day D ends before D+2), takes only names of that exact form (so
 * temporary files, which start with a dot, are never listed), and reads each
 * candidate's 64-byte header for its interval, which gives the file's end.
 * A file whose header cannot be read is still listed, with the default
 * interval, so that whoever opens it reports what is wrong with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/log.h"
#include "tidewatch/time.h"

/* ==== Names ==== */

#define DAY_MS INT64_C(86400000)

/* Most files a listing returns. */
#define TW_FARCH_LIST_MAX (1u << 24)

void tw__farch_civil(
        int64_t ms, unsigned *year, unsigned *mon, unsigned *day, unsigned *hour, unsigned *min)
{
    int64_t days = ms / DAY_MS, rem = ms % DAY_MS;
    int64_t z, era, y;
    unsigned doe, yoe, doy, mp;

    if (rem < 0) {
        rem += DAY_MS;
        days--;
    }
    /* Howard Hinnant's civil_from_days. */
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *mon = mp < 10 ? mp + 3 : mp - 9;
    *year = (unsigned)(y + (*mon <= 2));
    *hour = (unsigned)(rem / 3600000);
    *min = (unsigned)(rem / 60000 % 60);
}

int tw__farch_day_dir(const char *dir, int64_t start_ms, char *out, size_t cap)
{
    unsigned y, m, d, h, mi;
    int len;

    tw__farch_civil(start_ms, &y, &m, &d, &h, &mi);
    len = snprintf(out, cap, "%s/%04u/%02u/%02u", dir, y, m, d);
    return len < 0 || (size_t)len >= cap ? TW_ELIMIT : len;
}

int tw__farch_file_name(int64_t start_ms, unsigned seq, bool tmp, char *out, size_t cap)
{
    unsigned y, m, d, h, mi;
    int len;

    tw__farch_civil(start_ms, &y, &m, &d, &h, &mi);
    len = snprintf(out, cap, "%sflows-%04u%02u%02u%02u%02u-%04u.twf%s", tmp ? "." : "", y, m, d, h,
            mi, seq, tmp ? ".tmp" : "");
    return len < 0 || (size_t)len >= cap ? TW_ELIMIT : len;
}

/* Reads `n` decimal digits at p; false when one is not a digit. */
static bool digits(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
        return 29;
    return len[m - 1];
}

static bool valid_date(unsigned y, unsigned m, unsigned d)
{
    return y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

bool tw__farch_parse_name(const char *name, int64_t *start_ms)
{
    unsigned y, mo, d, h, mi, seq;
    size_t len = strlen(name), nseq;

    /* "flows-" 12 digits "-" 1..9 digits ".twf" */
    if (len < 6 + 12 + 1 + 1 + 4 || len > 6 + 12 + 1 + 9 + 4 || memcmp(name, "flows-", 6) != 0 ||
            name[18] != '-' || memcmp(name + len - 4, ".twf", 4) != 0)
        return false;
    nseq = len - 4 - 19;
    if (!digits(name + 6, 4, &y) || !digits(name + 10, 2, &mo) || !digits(name + 12, 2, &d) ||
            !digits(name + 14, 2, &h) || !digits(name + 16, 2, &mi) ||
            !digits(name + 19, nseq, &seq))
        return false;
    if (!valid_date(y, mo, d) || h > 23 || mi > 59)
        return false;
    *start_ms = tw_days_from_civil(y, mo, d) * DAY_MS + (int64_t)(h * 60 + mi) * 60000;
    return true;
}

/* ==== Walking the date directories ==== */

/* Called for each day directory; returns TW_OK to go on. */
typedef int (*day_fn)(const char *path, void *arg, struct tw_err *err);

/* True when directory entry `name` is `n` digits. */
static bool digit_name(const char *name, size_t n, unsigned *v)
{
    return strlen(name) == n && digits(name, n, v);
}

/* Calls fn for every DIR/YYYY/MM/DD that can hold a file overlapping [from, to). */
static int walk_days(
        const char *dir, int64_t from, int64_t to, day_fn fn, void *arg, struct tw_err *err)
{
    char ypath[TW__FARCH_PATH_MAX], mpath[TW__FARCH_PATH_MAX], dpath[TW__FARCH_PATH_MAX];
    DIR *yd = opendir(dir);
    const struct dirent *ye;
    int rc = TW_OK;

    if (yd == NULL)
        return TW_E_HERE(err, errno == ENOENT ? TW_ENOTFOUND : TW_EIO, TW_NOPOS,
                "cannot open archive %s: %s", dir, strerror(errno));
    while (rc == TW_OK && (ye = readdir(yd)) != NULL) {
        unsigned y;
        int64_t ys, yend;
        DIR *md;
        const struct dirent *me;

        if (!digit_name(ye->d_name, 4, &y) || y < 1970)
            continue;
        ys = tw_days_from_civil(y, 1, 1) * DAY_MS;
        yend = tw_days_from_civil((int64_t)y + 1, 1, 1) * DAY_MS;
        if (ys >= to || yend + DAY_MS <= from)
            continue;
        if (snprintf(ypath, sizeof(ypath), "%s/%s", dir, ye->d_name) >= (int)sizeof(ypath))
            continue;
        md = opendir(ypath);
        if (md == NULL)
            continue;
        while (rc == TW_OK && (me = readdir(md)) != NULL) {
            unsigned m;
            int64_t ms, mend;
            DIR *dd;
            const struct dirent *de;

            if (!digit_name(me->d_name, 2, &m) || m < 1 || m > 12)
                continue;
            ms = tw_days_from_civil(y, m, 1) * DAY_MS;
            mend = ms + (int64_t)days_in_month(y, m) * DAY_MS;
            if (ms >= to || mend + DAY_MS <= from)
                continue;
            if (snprintf(mpath, sizeof(mpath), "%s/%s", ypath, me->d_name) >= (int)sizeof(mpath))
                continue;
            dd = opendir(mpath);
            if (dd == NULL)
                continue;
            while (rc == TW_OK && (de = readdir(dd)) != NULL) {
                unsigned d;
                int64_t ds;

                if (!digit_name(de->d_name, 2, &d) || !valid_date(y, m, d))
                    continue;
                ds = tw_days_from_civil(y, m, d) * DAY_MS;
                if (ds >= to || ds + 2 * DAY_MS <= from)
                    continue;
                if (snprintf(dpath, sizeof(dpath), "%s/%s", mpath, de->d_name) >=
                        (int)sizeof(dpath))
                    continue;
                rc = fn(dpath, arg, err);
            }
            (void)closedir(dd);
        }
        (void)closedir(md);
    }
    (void)closedir(yd);
    return rc;
}

/* ==== Listing ==== */

struct list_ctx {
    int64_t from, to;
    struct tw_farch_file *files;
    size_t n, cap;
};

/* The partition interval recorded in a file's header, or the default when it cannot be read. */
static uint32_t file_interval(const char *path, int64_t start_ms)
{
    uint8_t hdr[TW__FARCH_HEADER_LEN];
    uint32_t iv;
    int64_t start;
    ssize_t k;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return TW_FARCH_DEFAULT_INTERVAL_S;
    k = pread(fd, hdr, sizeof(hdr), 0);
    (void)close(fd);
    if (k != (ssize_t)sizeof(hdr) ||
            tw__farch_check_header(hdr, path, &iv, &start, NULL) != TW_OK || start != start_ms)
        return TW_FARCH_DEFAULT_INTERVAL_S;
    return iv;
}

static int list_day(const char *path, void *arg, struct tw_err *err)
{
    struct list_ctx *ctx = arg;
    DIR *d = opendir(path);
    const struct dirent *e;
    int rc = TW_OK;

    if (d == NULL)
        return TW_OK;
    while ((e = readdir(d)) != NULL) {
        char full[TW__FARCH_PATH_MAX];
        int64_t start, end;
        struct tw_farch_file *f;

        if (!tw__farch_parse_name(e->d_name, &start) || start >= ctx->to)
            continue;
        if (snprintf(full, sizeof(full), "%s/%s", path, e->d_name) >= (int)sizeof(full))
            continue;
        end = start + (int64_t)file_interval(full, start) * 1000;
        if (end <= ctx->from)
            continue;
        if (ctx->n == ctx->cap) {
            size_t cap = ctx->cap == 0 ? 64 : ctx->cap * 2;

            if (ctx->n >= TW_FARCH_LIST_MAX) {
                rc = TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "more than %u archive files in the window",
                        TW_FARCH_LIST_MAX);
                break;
            }
            f = tw_reallocarray(ctx->files, cap, sizeof(*f));
            if (f == NULL) {
                rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory listing the archive");
                break;
            }
            ctx->files = f;
            ctx->cap = cap;
        }
        f = &ctx->files[ctx->n];
        f->path = tw_strdup(full);
        if (f->path == NULL) {
            rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory listing the archive");
            break;
        }
        f->start_ms = start;
        f->end_ms = end;
        ctx->n++;
    }
    (void)closedir(d);
    return rc;
}

static int file_cmp(const void *a, const void *b)
{
    const struct tw_farch_file *x = a, *y = b;

    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return strcmp(x->path, y->path);
}

int tw_farch_list(const char *dir, int64_t from_ms, int64_t to_ms, struct tw_farch_file **out,
        size_t *n, struct tw_err *err)
{
    struct list_ctx ctx = { from_ms, to_ms, NULL, 0, 0 };
    int rc;

    *out = NULL;
    *n = 0;
    if (from_ms >= to_ms)
        return TW_OK;
    rc = walk_days(dir, from_ms, to_ms, list_day, &ctx, err);
    if (rc != TW_OK) {
        tw_farch_files_free(ctx.files, ctx.n);
        return rc;
    }
    if (ctx.n > 1)
        qsort(ctx.files, ctx.n, sizeof(*ctx.files), file_cmp);
    *out = ctx.files;
    *n = ctx.n;
    return TW_OK;
}

void tw_farch_files_free(struct tw_farch_file *files, size_t n)
{
    if (files == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        tw_free(files[i].path);
    tw_free(files);
}

/* ==== Cleanup ==== */

struct cleanup_ctx {
    time_t now;
    uint32_t age_s;
    long removed;
};

static bool tmp_name(const char *name)
{
    size_t len = strlen(name), pl = strlen(TW__FARCH_TMP_PREFIX), sl = strlen(TW__FARCH_TMP_SUFFIX);

    return len > pl + sl && memcmp(name, TW__FARCH_TMP_PREFIX, pl) == 0 &&
           memcmp(name + len - sl, TW__FARCH_TMP_SUFFIX, sl) == 0;
}

static int cleanup_day(const char *path, void *arg, struct tw_err *err)
{
    struct cleanup_ctx *ctx = arg;
    DIR *d = opendir(path);
    const struct dirent *e;

    (void)err;
    if (d == NULL)
        return TW_OK;
    while ((e = readdir(d)) != NULL) {
        struct stat st;

        if (!tmp_name(e->d_name))
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (ctx->age_s > 0 && ctx->now - st.st_mtime < (time_t)ctx->age_s)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            ctx->removed++;
        else if (errno != ENOENT)
            tw_log(TW_LOG_WARN, "farch", "cannot remove %s/%s: %s", path, e->d_name,
                    strerror(errno));
    }
    (void)closedir(d);
    return TW_OK;
}

long tw_farch_cleanup(const char *dir, uint32_t age_s, struct tw_err *err)
{
    struct cleanup_ctx ctx = { time(NULL), age_s, 0 };
    int rc = walk_days(dir, INT64_MIN, INT64_MAX, cleanup_day, &ctx, err);

    return rc != TW_OK ? rc : ctx.removed;
}
