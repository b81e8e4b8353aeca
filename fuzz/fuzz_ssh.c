/*
 * fuzz_ssh.c: the identification-line parser never reads out of bounds, and
 * on success the versions are non-empty slices inside the line it consumed.
 */
#include <stdint.h>

#include "tidewatch/proto.h"
#include "tidewatch/ssh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_ssh_ident id;
    const char *b = (const char *)data;

    (void)tw_proto_guess(data, size);
    if (tw_ssh_parse_ident(data, size, &id, NULL) != TW_OK)
        return 0;
    if (id.consumed > size || id.line_offset >= id.consumed)
        __builtin_trap();
    if (id.proto_version.len == 0 || id.software_version.len == 0)
        __builtin_trap();
    if (id.software_version.ptr < b + id.line_offset ||
            id.software_version.ptr + id.software_version.len > b + id.consumed)
        __builtin_trap();
    return 0;
}
