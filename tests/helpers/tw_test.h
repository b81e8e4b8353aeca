/*
 * tw_test.h: what every cmocka test binary shares: cmocka's headers in the
 * order it needs, and paths to fixtures.
 *
 * TW_TEST_DATA points at tests/data (always present). TW_SHARED_DATA points at
 * ../shared/data, which a user's clone does not have; tests that need it call
 * tw_test_shared() and skip (visibly, through cmocka's skip()) when it is NULL.
 */
#ifndef TW_TEST_H
#define TW_TEST_H

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>

/* Joins $TW_TEST_DATA and rel into a static buffer (valid until the next call). */
const char *tw_test_data(const char *rel);
/*
 * Joins $TW_SHARED_DATA and rel, or returns NULL (after printing why) when the
 * shared data folder is absent.
 */
const char *tw_test_shared(const char *rel);
/* Reads a whole file into a new NUL-terminated buffer (tw_free it). Fails the test on error. */
char *tw_test_slurp(const char *path, size_t *len);

#endif
