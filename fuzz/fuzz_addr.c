/*
 * fuzz_addr.c: address, CIDR and domain parsers on arbitrary bytes.
 *
 * Invariants checked (a failure traps): a parsed address formats to text that
 * parses back to the same address and formats to the same text again; a
 * parsed CIDR has no host bits left and contains its own network address; a
 * normalised domain normalises to itself.
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/addr.h"
#include "tidewatch/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_str s = tw_str_make((const char *)data, size);
    struct tw_ip ip, again, net;
    struct tw_err err;
    char text[TW_IP_STRLEN], text2[TW_IP_STRLEN];
    char dom[TW_DOMAIN_MAX_LEN + 1], dom2[TW_DOMAIN_MAX_LEN + 1];
    size_t dom_len, dom2_len;
    unsigned plen, flags;

    if (tw_ip_parse(s, &ip, &err) == TW_OK) {
        int n = tw_ip_format(&ip, text);
        if (n <= 0 || n >= TW_IP_STRLEN || (size_t)n != strlen(text))
            __builtin_trap();
        if (tw_ip_parse(tw_str_make(text, (size_t)n), &again, NULL) != TW_OK)
            __builtin_trap();
        if (tw_ip_cmp(&ip, &again) != 0)
            __builtin_trap();
        if (tw_ip_format(&again, text2) != n || memcmp(text, text2, (size_t)n) != 0)
            __builtin_trap();
    } else if (err.offset > size) {
        __builtin_trap();
    }

    if (tw_cidr_parse_flags(s, &net, &plen, &flags, &err) == TW_OK) {
        if (plen > tw_ip_max_prefix(&net) || tw_ip_host_bits_set(&net, plen))
            __builtin_trap();
        if (!tw_ip_in_cidr(&net, &net, plen))
            __builtin_trap();
    } else if (err.offset > size) {
        __builtin_trap();
    }

    if (tw_domain_normalize(s, dom, sizeof(dom), &dom_len, &err) == TW_OK) {
        if (dom_len == 0 || dom_len > TW_DOMAIN_MAX_LEN || strlen(dom) != dom_len)
            __builtin_trap();
        if (tw_domain_normalize(tw_str_make(dom, dom_len), dom2, sizeof(dom2), &dom2_len, NULL) !=
                        TW_OK ||
                dom2_len != dom_len || memcmp(dom, dom2, dom_len) != 0)
            __builtin_trap();
        (void)tw_domain_warnings(tw_str_make(dom, dom_len));
    } else if (err.offset != TW_NOPOS && err.offset > size) {
        __builtin_trap();
    }
    return 0;
}
