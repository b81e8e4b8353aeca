/*
 * fuzz_http.c: the request-head parser never reads out of bounds, and on
 * success its borrowed slices lie inside the input and the normalised host is
 * a NUL-terminated string of the stated length that normalises to itself.
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(struct tw_str s, const uint8_t *data, size_t size)
{
    const char *b = (const char *)data;

    return s.len == 0 || (s.ptr >= b && s.ptr + s.len <= b + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_http_request q;
    char again[TW_HTTP_HOST_MAX + 1];
    bool has_port;
    uint16_t port;

    if (tw_http_parse_request(data, size, &q, NULL) != TW_OK)
        return 0;
    if (q.head_len > size || !inside(q.method, data, size) || !inside(q.target, data, size) ||
            !inside(q.version, data, size) || !inside(q.user_agent, data, size))
        __builtin_trap();
    if (strlen(q.host) != q.host_len)
        __builtin_trap();
    if (q.host_len > 0 && q.host[0] != '[' && strchr(q.host, ':') == NULL) {
        int n = tw_http_normalize_host(tw_str_make(q.host, q.host_len), again, &has_port, &port);

        /* a normalised host is a fixed point of normalisation */
        if (n < 0 || strcmp(again, q.host) != 0)
            __builtin_trap();
    }
    return 0;
}
