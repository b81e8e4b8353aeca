/*
 * fuzz_decode_sll.c: the packet decoder on Linux cooked captures. The first
 * input byte picks the version (even: SLL, link type 113; odd: SLL2, 276); the
 * rest is packets in the format of fuzz_decode.h, which also lists the
 * invariants.
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    return fuzz_decode_run(data + 1, size - 1, (data[0] & 1) ? TW_LINK_SLL2 : TW_LINK_SLL);
}
