/*
 * fuzz_devconf_ios.c: libFuzzer target for the IOS-family configuration
 * parser. Each input is detected, then parsed as IOS (delimited banners) and
 * as ASA (one-line banners), with a `show version` made of the same bytes;
 * every node is masked and pathed as IOS, IOS XE, NX-OS, IOS XR and ASA.
 * See fuzz_devconf.h for the invariants and the allocation-failure mode.
 */
#include "fuzz_devconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum tw_platform ios[] = { TW_PLAT_IOS, TW_PLAT_IOSXE };
    static const enum tw_platform asa[] = { TW_PLAT_ASA, TW_PLAT_NXOS, TW_PLAT_IOSXR };
    size_t skip = fuzz_devconf_alloc_mode(data, size);
    const char *text = (const char *)data + skip;

    size -= skip;
    (void)tw_platform_detect(text, size);
    fuzz_devconf_run(text, size, TW_PLAT_IOS, ios, 2, true);
    fuzz_devconf_run(text, size, TW_PLAT_ASA, asa, 3, false);
    tw_alloc_fail_reset();
    return 0;
}
