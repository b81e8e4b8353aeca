/*
 * tw_test.c: fixture paths and file reading for the unit tests.
 */
#include "tw_test.h"

#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "tidewatch/alloc.h"

static char path_buf[4096];

static const char *join(const char *env, const char *rel)
{
    const char *base = getenv(env);
    int n;

    if (base == NULL)
        return NULL;
    n = snprintf(path_buf, sizeof(path_buf), "%s/%s", base, rel);
    if (n < 0 || (size_t)n >= sizeof(path_buf))
        return NULL;
    return path_buf;
}

const char *tw_test_data(const char *rel)
{
    const char *p = join("TW_TEST_DATA", rel);

    assert_non_null(p);
    return p;
}

const char *tw_test_shared(const char *rel)
{
    const char *p = join("TW_SHARED_DATA", rel);
    struct stat st;

    if (p == NULL || stat(p, &st) != 0) {
        print_message("SKIP: shared sample data not found (%s); it lives in ../shared/data "
                      "beside the project\n",
                p ? p : "TW_SHARED_DATA unset");
        return NULL;
    }
    return p;
}

char *tw_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = tw_malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    (void)fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}
