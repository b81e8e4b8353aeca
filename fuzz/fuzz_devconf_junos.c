/*
 * fuzz_devconf_junos.c: libFuzzer target for the Junos configuration parser
 * (brace and set forms). Each input is detected, then parsed as Junos; every
 * statement must be top-level and childless, and is masked and pathed as
 * Junos and as an unknown platform (all families' rules). See
 * fuzz_devconf.h for the invariants and the allocation-failure mode.
 */
#include "fuzz_devconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum tw_platform junos[] = { TW_PLAT_JUNOS, TW_PLAT_UNKNOWN };
    size_t skip = fuzz_devconf_alloc_mode(data, size);
    const char *text = (const char *)data + skip;

    size -= skip;
    (void)tw_platform_detect(text, size);
    fuzz_devconf_run(text, size, TW_PLAT_JUNOS, junos, 2, true);
    tw_alloc_fail_reset();
    return 0;
}
