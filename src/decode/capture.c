/*
 * capture.c: the public capture reader (capture.h) over a list of inputs.
 *
 * tw_capture_open expands its arguments into a flat list of files once:
 * directories become their capture files sorted by first-packet timestamp,
 * "-" stays standard input. tw_capture_next then opens the files one at a
 * time (capture_file.c does the parsing), numbers the packets across all of
 * them, keeps the counters, and turns a file's error into one error return
 * after which the next file is opened on the following call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture_int.h"
#include "tidewatch/alloc.h"

/* ==== Types ==== */

/* Chunk used to read the first packet of each file when sorting a directory. */
#define SNIFF_CHUNK 65536u

struct cap_entry {
    char *path;
    uint64_t size; /* regular file size, 0 for standard input or pipes */
    int64_t first; /* first packet's timestamp (directory sorting only) */
};

struct tw_capture {
    struct cap_entry *files;
    size_t n_files, cap_files;
    size_t next;   /* index of the next file to open */
    size_t cur;    /* index of the file being read (or last read) */
    bool have_cur; /* cur names a file */
    bool open;     /* f is open */
    struct tw__capfile f;
    struct tw_capture_opts opts;
    struct tw_capture_stats stats;
    uint64_t done_bytes;  /* bytes of files finished */
    uint64_t total_bytes; /* sum of regular file sizes */
    uint32_t last_linktype;
    /* Memory input (tw_capture_open_mem). */
    const void *mem;
    size_t mem_len;
    bool is_mem;
};

/* ==== List building ==== */

static int add_file(struct tw_capture *c, const char *path, size_t len, uint64_t size,
        int64_t first, struct tw_err *err)
{
    struct cap_entry *e;

    if (c->n_files >= TW_CAPTURE_MAX_FILES)
        return tw_err_set(
                err, TW_ELIMIT, TW_NOPOS, "more than %u capture files", TW_CAPTURE_MAX_FILES);
    if (c->n_files == c->cap_files) {
        size_t ncap = c->cap_files ? c->cap_files * 2 : 8;
        struct cap_entry *nf = tw_reallocarray(c->files, ncap, sizeof(*nf));

        if (nf == NULL)
            return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
        c->files = nf;
        c->cap_files = ncap;
    }
    e = &c->files[c->n_files];
    e->path = tw_strndup(path, len);
    if (e->path == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    e->size = size;
    e->first = first;
    c->n_files++;
    c->total_bytes += size;
    return TW_OK;
}

/*
 * Timestamp of the first packet of a file that starts with a capture magic,
 * or INT64_MAX when it has none (or cannot be read): such files sort last.
 */
static int64_t first_ts(const char *path, const struct tw_capture_opts *opts)
{
    struct tw_capture_opts o = *opts;
    struct tw__capfile f;
    struct tw_packet p;
    int64_t ts = INT64_MAX;

    o.io = TW_CAPTURE_IO_READ;
    o.read_chunk = SNIFF_CHUNK;
    if (tw__capfile_open(&f, path, &o, NULL, NULL) < 0)
        return ts;
    if (tw__capfile_next(&f, &p, NULL) == 1)
        ts = p.ts_ns;
    tw__capfile_close(&f);
    return ts;
}

/* True when the file starts with a pcap or pcapng magic. */
static bool looks_like_capture(const char *path)
{
    uint8_t m[4];
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return false;
    do {
        r = read(fd, m, sizeof(m));
    } while (r < 0 && errno == EINTR);
    (void)close(fd);
    return r == (ssize_t)sizeof(m) && tw__capfile_magic_ok(m, sizeof(m));
}

static int entry_cmp(const void *a, const void *b)
{
    const struct cap_entry *x = a, *y = b;

    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Adds the capture files of directory `dir`, in time order. */
static int add_dir(struct tw_capture *c, const char *dir, struct tw_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t first = c->n_files;
    char *path = NULL;
    size_t path_cap = 0;
    int rc = TW_OK;

    if (d == NULL)
        return tw_err_set(err, TW_EIO, TW_NOPOS, "%s: cannot list: %s", dir, strerror(errno));
    path_cap = strlen(dir) + 256;
    path = tw_malloc(path_cap);
    if (path == NULL) {
        (void)closedir(d);
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    while ((de = readdir(d)) != NULL) {
        size_t need = strlen(dir) + 1 + strlen(de->d_name) + 1;
        struct stat st;

        if (de->d_name[0] == '.')
            continue;
        if (need > path_cap) {
            char *np = tw_realloc(path, need);

            if (np == NULL) {
                rc = tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
                break;
            }
            path = np;
            path_cap = need;
        }
        (void)snprintf(path, path_cap, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !looks_like_capture(path))
            continue;
        rc = add_file(c, path, strlen(path), (uint64_t)st.st_size, first_ts(path, &c->opts), err);
        if (rc < 0)
            break;
    }
    (void)closedir(d);
    tw_free(path);
    if (rc == TW_OK && c->n_files > first)
        qsort(c->files + first, c->n_files - first, sizeof(*c->files), entry_cmp);
    return rc;
}

static int add_path(struct tw_capture *c, const char *path, struct tw_err *err)
{
    struct stat st;

    if (strcmp(path, "-") == 0)
        return add_file(c, path, 1, 0, 0, err);
    if (stat(path, &st) != 0)
        return tw_err_set(err, errno == ENOENT ? TW_ENOTFOUND : TW_EIO, TW_NOPOS, "%s: %s", path,
                strerror(errno));
    if (S_ISDIR(st.st_mode))
        return add_dir(c, path, err);
    return add_file(c, path, strlen(path), S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, 0, err);
}

static struct tw_capture *capture_new(const struct tw_capture_opts *opts)
{
    struct tw_capture *c = tw_calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    if (opts != NULL)
        c->opts = *opts;
    c->f.src.fd = -1;
    return c;
}

/* ==== Public API ==== */

int tw_capture_open_opts(struct tw_capture **out, const char *const *paths, size_t n_paths,
        const struct tw_capture_opts *opts, struct tw_err *err)
{
    struct tw_capture *c;

    *out = NULL;
    if (paths == NULL || n_paths == 0)
        return tw_err_set(err, TW_EINVAL, TW_NOPOS, "no capture files given");
    c = capture_new(opts);
    if (c == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    for (size_t i = 0; i < n_paths; i++) {
        int rc = paths[i] != NULL ? add_path(c, paths[i], err)
                                  : tw_err_set(err, TW_EINVAL, TW_NOPOS, "NULL path");

        if (rc < 0) {
            tw_capture_close(c);
            return rc;
        }
    }
    *out = c;
    return TW_OK;
}

int tw_capture_open(
        struct tw_capture **out, const char *const *paths, size_t n_paths, struct tw_err *err)
{
    return tw_capture_open_opts(out, paths, n_paths, NULL, err);
}

int tw_capture_open_mem(struct tw_capture **out, const void *data, size_t len, const char *name,
        const struct tw_capture_opts *opts, struct tw_err *err)
{
    struct tw_capture *c;
    int rc;

    *out = NULL;
    c = capture_new(opts);
    if (c == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    rc = add_file(c, name != NULL ? name : "(memory)", strlen(name != NULL ? name : "(memory)"),
            len, 0, err);
    if (rc < 0) {
        tw_capture_close(c);
        return rc;
    }
    c->is_mem = true;
    c->mem = data;
    c->mem_len = len;
    *out = c;
    return TW_OK;
}

/* Closes the open file and adds its size to the progress. */
static void finish_file(struct tw_capture *c)
{
    const struct cap_entry *e = &c->files[c->cur];

    c->done_bytes += e->size != 0 ? e->size : tw__capfile_offset(&c->f);
    tw__capfile_close(&c->f);
    c->open = false;
}

int tw_capture_next(struct tw_capture *c, struct tw_packet *p, struct tw_err *err)
{
    for (;;) {
        int rc;

        if (!c->open) {
            if (c->next >= c->n_files) {
                c->have_cur = false;
                return 0;
            }
            c->cur = c->next++;
            c->have_cur = true;
            c->stats.files++;
            if (c->is_mem)
                rc = tw__capfile_open_mem(
                        &c->f, c->mem, c->mem_len, c->files[c->cur].path, &c->opts, &c->stats, err);
            else
                rc = tw__capfile_open(&c->f, c->files[c->cur].path, &c->opts, &c->stats, err);
            if (rc < 0) {
                c->done_bytes += c->files[c->cur].size;
                c->stats.errors++;
                return rc;
            }
            c->f.name = c->files[c->cur].path;
            c->open = true;
        }
        rc = tw__capfile_next(&c->f, p, err);
        if (TW_LIKELY(rc == 1)) {
            p->num = ++c->stats.packets;
            c->stats.bytes += p->caplen;
            c->stats.wire_bytes += p->wirelen;
            c->last_linktype = p->linktype;
            return 1;
        }
        finish_file(c);
        if (rc < 0) {
            c->stats.errors++;
            return rc;
        }
    }
}

void tw_capture_close(struct tw_capture *c)
{
    if (c == NULL)
        return;
    if (c->open)
        tw__capfile_close(&c->f);
    for (size_t i = 0; i < c->n_files; i++)
        tw_free(c->files[i].path);
    tw_free(c->files);
    tw_free(c);
}

void tw_capture_stats(const struct tw_capture *c, struct tw_capture_stats *out)
{
    *out = c->stats;
}

const char *tw_capture_current_file(const struct tw_capture *c)
{
    return c->have_cur ? c->files[c->cur].path : NULL;
}

uint32_t tw_capture_linktype(const struct tw_capture *c)
{
    return c->last_linktype;
}

uint64_t tw_capture_bytes_read(const struct tw_capture *c)
{
    return c->done_bytes + (c->open ? tw__capfile_offset(&c->f) : 0);
}

uint64_t tw_capture_bytes_total(const struct tw_capture *c)
{
    return c->total_bytes;
}
