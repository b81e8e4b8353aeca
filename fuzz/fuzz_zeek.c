/*
 * fuzz_zeek.c: the Zeek intel file importer (convert_zeek.c and the row conversion
 * in convert.c), with the invariants of fuzz_convert.h.
 */
#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_import(tw_convert_zeek, data, size);
}
