/*
 * fuzz_decode_eth.c: the packet decoder on Ethernet frames (link type 1),
 * several packets per input so fragments can be reassembled. The input format
 * and the invariants are in fuzz_decode.h.
 */
#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_decode_run(data, size, TW_LINK_ETHERNET);
}
