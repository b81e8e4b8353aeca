/*
 * fuzz_list.c: the plain indicator-list importer (convert_list.c and the row
 * conversion in convert.c), with the invariants of fuzz_convert.h.
 */
#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_import(tw_convert_list, data, size);
}
