/*
 * test_mem.c: the allocator hook, bounded buffers and arenas.
 */
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/arena.h"
#include "tidewatch/buf.h"
#include "tidewatch/err.h"
#include "tw_test.h"

static void buf_grows_up_to_its_cap(void **state)
{
    struct tw_buf b;

    (void)state;
    tw_buf_init(&b, 10);
    assert_int_equal(tw_buf_puts(&b, "hello"), TW_OK);
    assert_int_equal(tw_buf_printf(&b, "%d", 1234), TW_OK);
    assert_string_equal(b.ptr, "hello1234");
    assert_int_equal(tw_buf_puts(&b, "xy"), TW_ELIMIT);
    assert_string_equal(b.ptr, "hello1234"); /* unchanged on failure */
    assert_int_equal(tw_buf_putc(&b, '!'), TW_OK);
    assert_int_equal(b.len, 10);
    assert_int_equal(tw_buf_putc(&b, '!'), TW_ELIMIT);
    tw_buf_cleanup(&b);
}

static void buf_escapes_json_and_takes(void **state)
{
    struct tw_buf b;
    size_t len;
    char *s;

    (void)state;
    tw_buf_init(&b, 1024);
    assert_int_equal(tw_buf_json_escape(&b, "a\"b\\c\n\x01", 7), TW_OK);
    s = tw_buf_take(&b, &len);
    assert_string_equal(s, "a\\\"b\\\\c\\n\\u0001");
    assert_int_equal(len, strlen(s));
    assert_null(b.ptr);
    tw_free(s);
    s = tw_buf_take(&b, NULL);
    assert_string_equal(s, "");
    tw_free(s);
}

static void alloc_failure_injection_propagates(void **state)
{
    struct tw_buf b;
    char *p;

    (void)state;
    tw_alloc_fail_after(0);
    assert_null(tw_malloc(8));
    assert_null(tw_strdup("x"));
    tw_buf_init(&b, 100);
    assert_int_equal(tw_buf_puts(&b, "x"), TW_ENOMEM);
    tw_alloc_fail_after(1);
    p = tw_malloc(8);
    assert_non_null(p);
    assert_null(tw_malloc(8));
    tw_alloc_fail_reset();
    tw_free(p);
    assert_null(tw_calloc((size_t)-1, 16));
    tw_buf_cleanup(&b);
}

static void arena_aligns_caps_and_resets(void **state)
{
    struct tw_arena a;
    char *s, *big;

    (void)state;
    tw_arena_init(&a, 64, 1000);
    for (int i = 0; i < 10; i++) {
        void *p = tw_arena_alloc(&a, 3);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % sizeof(max_align_t), 0);
    }
    s = tw_arena_strndup(&a, "abcdef", 3);
    assert_string_equal(s, "abc");
    big = tw_arena_alloc(&a, 500); /* larger than a block */
    assert_non_null(big);
    memset(big, 1, 500);
    assert_null(tw_arena_alloc(&a, 600)); /* past the cap */
    tw_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_non_null(tw_arena_calloc(&a, 4, 4));
    tw_arena_cleanup(&a);
}

static void err_records_and_locates(void **state)
{
    static const char text[] = "line one\nline two\nthird";
    struct tw_err err;

    (void)state;
    tw_err_clear(&err);
    assert_int_equal(err.code, TW_OK);
    assert_int_equal(TW_E_HERE(&err, TW_EINVAL, 12, "bad %s", "thing"), TW_EINVAL);
    assert_string_equal(err.msg, "bad thing");
    tw_err_locate(&err, text, sizeof(text) - 1);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 4);
    assert_int_equal(tw_err_set(NULL, TW_ENOMEM, 0, "x"), TW_ENOMEM);
    assert_string_equal(tw_strerror(TW_ELIMIT), "limit reached");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_grows_up_to_its_cap),
        cmocka_unit_test(buf_escapes_json_and_takes),
        cmocka_unit_test(alloc_failure_injection_propagates),
        cmocka_unit_test(arena_aligns_caps_and_resets),
        cmocka_unit_test(err_records_and_locates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
