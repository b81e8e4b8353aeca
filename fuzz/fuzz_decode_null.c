/*
 * fuzz_decode_null.c: the packet decoder on BSD loopback captures. The first
 * input byte picks the link type (even: NULL 0, host-order family; odd: LOOP
 * 108, network order); the rest is packets in the format of fuzz_decode.h,
 * which also lists the invariants.
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    return fuzz_decode_run(data + 1, size - 1, (data[0] & 1) ? TW_LINK_LOOP : TW_LINK_NULL);
}
