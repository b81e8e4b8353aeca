/*
 * replay.c: runs a fuzz target's LLVMFuzzerTestOneInput over files and
 * directories given on the command line, with any compiler (SQLite's
 * fuzzcheck, Suricata's onefile). ctest runs it on each target's corpus and
 * regressions in every build, so harnesses keep compiling and fixed crashes
 * stay fixed. A directory that does not exist is skipped; finding no input at
 * all is a failure, since a corpus must exist.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long n_run;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot size %s\n", path);
        (void)fclose(f);
        return -1;
    }
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        (void)fclose(f);
        return -1;
    }
    (void)fclose(f);
    /* Copy into an exact-size allocation so ASan sees reads past the end. */
    {
        uint8_t *exact = malloc((size_t)n ? (size_t)n : 1);
        if (exact == NULL) {
            free(buf);
            return -1;
        }
        memcpy(exact, buf, (size_t)n);
        free(buf);
        (void)LLVMFuzzerTestOneInput(exact, (size_t)n);
        free(exact);
    }
    n_run++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (d == NULL)
        return 0; /* absent: nothing to replay here */
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
            if (nn == NULL) {
                rc = -1;
                break;
            }
            names = nn;
        }
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (names[n] == NULL) {
            rc = -1;
            break;
        }
        (void)snprintf(names[n], strlen(dir) + strlen(e->d_name) + 2, "%s/%s", dir, e->d_name);
        n++;
    }
    (void)closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            rc = run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL)
        (void)LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int rc;

        if (stat(argv[i], &st) != 0)
            continue;
        rc = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
        if (rc != 0) {
            printf("%lu passed, 1 failed\n", n_run);
            return 1;
        }
    }
    if (n_run == 0) {
        fprintf(stderr, "replay: no inputs found (a corpus is required)\n");
        return 1;
    }
    printf("%lu passed, 0 failed\n", n_run);
    return 0;
}
