/*
 * fuzz_decode_raw.c: the packet decoder on raw IP captures. The first input
 * byte picks the link type (0: RAW 101, 1: IPV4 228, 2: IPV6 229, modulo 3);
 * the rest is packets in the format of fuzz_decode.h, which also lists the
 * invariants.
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t types[3] = { TW_LINK_RAW, TW_LINK_IPV4, TW_LINK_IPV6 };

    if (size < 1)
        return 0;
    return fuzz_decode_run(data + 1, size - 1, types[data[0] % 3]);
}
