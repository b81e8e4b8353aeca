/*
 * fuzz_dns.c: the DNS parser never reads out of bounds, terminates on any
 * compression graph, and leaves consistent results: kept counts within their
 * bounds, names NUL-terminated at their stated length, the parsed length
 * inside the input. The same bytes are also tried as a DNS-over-TCP stream.
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/dns.h"
#include "tidewatch/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tw_dns_msg msg;

static void check(size_t size)
{
    if (msg.n_questions > TW_DNS_MAX_QUESTIONS || msg.n_rrs > TW_DNS_MAX_RRS || msg.len > size)
        __builtin_trap();
    for (unsigned i = 0; i < msg.n_questions; i++)
        if (strlen(msg.q[i].name) != msg.q[i].name_len)
            __builtin_trap();
    for (unsigned i = 0; i < msg.n_rrs; i++) {
        if (strlen(msg.rr[i].name) != msg.rr[i].name_len)
            __builtin_trap();
        if (msg.rr[i].kind == TW_DNS_RDATA_NAME && strlen(msg.rr[i].data) != msg.rr[i].data_len)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t need;

    if (tw_dns_parse(data, size, &msg, NULL) == TW_OK)
        check(size);
    if (tw_dns_parse_tcp(data, size, &msg, NULL) == TW_OK) {
        if (tw_dns_tcp_need(data, size, &need) != TW_OK || need > size)
            __builtin_trap();
        check(size);
    }
    (void)tw_proto_guess(data, size);
    return 0;
}
