/*
 * test_netflow_real.c: the decoder on captures of real exporters (Cisco
 * ASR9k IOS XR NetFlow v9 and IPFIX, Huawei IPFIX) from pmacct's test
 * suite, in $TW_SHARED_DATA/netflow/<case>/traffic-00.pcap, checked against
 * pmacct nfacctd's own output for the same capture (output-flow-00.json, one
 * JSON object per flow). Skipped, visibly, when the shared data is absent.
 *
 * The capture is read with the project's capture reader and packet decoder;
 * each UDP payload goes to tw_nf_decode with the datagram's IP source as the
 * exporter. The decoded records and the answer key are compared as
 * multisets on every field both sides have. Where pmacct reports a value
 * differently, the comparison says how:
 *   - peer_ip_src: pmacct's test harness replays the capture from its own
 *     address (172.21.1.101 or fd25::101), so the key names that address.
 *     Our exporter is the capture's IP source; both are checked.
 *   - packets/bytes: nfacctd renormalises by the sampling interval (here
 *     1 in 256 from the IPFIX sampling options). We keep the exported counts
 *     and report the interval in `sampling`: key = ours x sampling.
 *   - timestamp_start/end: nfacctd prints whole seconds, computed for
 *     NetFlow v9 as unix_secs - (sysUptime - first) / 1000 with integer
 *     division, which is our millisecond time rounded up to the second.
 * Fields of the key that a struct tw_flowrec does not carry (MPLS labels,
 * VRFs, forwarding status, pmacct's own labels) are listed in `unproduced`;
 * a key field in neither list fails the test, so nothing is skipped silently.
 */
#include <stdlib.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/capture.h"
#include "tidewatch/decode.h"
#include "tidewatch/err.h"
#include "tidewatch/netflow.h"
#include "tidewatch/str.h"
#include "tw_test.h"

/* ==== The answer key: flat JSON objects, one per line ==== */

#define MAX_MEMBERS 48

struct member {
    char key[40];
    const char *val; /* raw JSON text of the value */
    size_t val_len;
};

struct row {
    struct member m[MAX_MEMBERS];
    size_t n;
};

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* End of the JSON value starting at p (strings, objects, arrays, literals). */
static const char *value_end(const char *p)
{
    int depth = 0;
    bool in_str = false;

    for (; *p != '\0' && *p != '\n'; p++) {
        if (in_str) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                in_str = false;
            if (!in_str && depth == 0)
                return p + 1;
            continue;
        }
        if (*p == '"') {
            in_str = true;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth == 0)
                return p;
            if (--depth == 0)
                return p + 1;
        } else if (*p == ',' && depth == 0) {
            return p;
        }
    }
    return p;
}

/* Parses one line into members; returns the position after it. */
static const char *parse_row(const char *p, struct row *r)
{
    memset(r, 0, sizeof(*r));
    p = skip_ws(p);
    assert_int_equal(*p, '{');
    p++;
    for (;;) {
        const char *k, *v;
        struct member *m;

        p = skip_ws(p);
        if (*p == '}')
            break;
        assert_int_equal(*p, '"');
        k = ++p;
        while (*p != '"')
            p++;
        assert_true(r->n < MAX_MEMBERS);
        m = &r->m[r->n++];
        assert_true((size_t)(p - k) < sizeof(m->key));
        memcpy(m->key, k, (size_t)(p - k));
        p = skip_ws(p + 1);
        assert_int_equal(*p, ':');
        v = skip_ws(p + 1);
        p = value_end(v);
        m->val = v;
        m->val_len = (size_t)(p - v);
        p = skip_ws(p);
        if (*p == ',')
            p++;
    }
    while (*p != '\0' && *p != '\n')
        p++;
    return *p == '\n' ? p + 1 : p;
}

static const struct member *get(const struct row *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->m[i].key, key) == 0)
            return &r->m[i];
    return NULL;
}

static bool is_null(const struct member *m)
{
    return m == NULL || (m->val_len == 4 && memcmp(m->val, "null", 4) == 0);
}

static uint64_t get_u64(const struct row *r, const char *key)
{
    const struct member *m = get(r, key);
    uint64_t v = 0;

    assert_non_null(m);
    for (size_t i = 0; i < m->val_len; i++) {
        assert_true(m->val[i] >= '0' && m->val[i] <= '9');
        v = v * 10 + (uint64_t)(m->val[i] - '0');
    }
    return v;
}

/* A string value without its quotes, into out. */
static void get_str(const struct row *r, const char *key, char *out, size_t cap)
{
    const struct member *m = get(r, key);

    assert_non_null(m);
    assert_true(m->val_len >= 2 && m->val[0] == '"' && m->val_len - 2 < cap);
    memcpy(out, m->val + 1, m->val_len - 2);
    out[m->val_len - 2] = '\0';
}

static struct tw_ip get_ip(const struct row *r, const char *key)
{
    char s[64];
    struct tw_ip ip;

    get_str(r, key, s, sizeof(s));
    assert_int_equal(tw_ip_parse(tw_str_cstr(s), &ip, NULL), TW_OK);
    return ip;
}

/* pmacct's protocol names (getprotobynumber) for what the captures hold. */
static unsigned proto_number(const char *name)
{
    static const struct {
        const char *name;
        unsigned num;
    } names[] = { { "icmp", 1 }, { "ipip", 4 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 },
        { "ipv6-icmp", 58 }, { "vrrp", 112 } };

    for (size_t i = 0; i < TW_ARRAY_LEN(names); i++)
        if (strcmp(names[i].name, name) == 0)
            return names[i].num;
    fail_msg("protocol name %s is not in the table", name);
    return 0;
}

/* ["ACK", "FIN"] as TCP flag bits. */
static unsigned tcp_flags(const struct row *r)
{
    static const struct {
        const char *name;
        unsigned bit;
    } flags[] = { { "FIN", 0x01 }, { "SYN", 0x02 }, { "RST", 0x04 }, { "PSH", 0x08 },
        { "ACK", 0x10 }, { "URG", 0x20 }, { "ECE", 0x40 }, { "CWR", 0x80 } };
    const struct member *m = get(r, "tcp_flags");
    unsigned v = 0;

    assert_non_null(m);
    for (size_t i = 0; i < TW_ARRAY_LEN(flags); i++) {
        char quoted[8];

        (void)snprintf(quoted, sizeof(quoted), "\"%s\"", flags[i].name);
        for (size_t j = 0; j + strlen(quoted) <= m->val_len; j++)
            if (memcmp(m->val + j, quoted, strlen(quoted)) == 0)
                v |= flags[i].bit;
    }
    return v;
}

/* "1677577599.000000" as seconds. */
static int64_t get_ts(const struct row *r, const char *key)
{
    char s[32];
    int64_t v = 0;

    get_str(r, key, s, sizeof(s));
    for (const char *p = s; *p != '\0' && *p != '.'; p++)
        v = v * 10 + (*p - '0');
    assert_non_null(strstr(s, ".000000"));
    return v;
}

/* Key fields compared with a record. */
static const char *const compared[] = { "peer_ip_src", "ip_src", "ip_dst", "port_src", "port_dst",
    "ip_proto", "tos", "packets", "bytes", "iface_in", "iface_out", "mask_src", "mask_dst",
    "tcp_flags", "timestamp_start", "timestamp_end" };

/* Key fields a struct tw_flowrec has no place for. */
static const char *const unproduced[] = {
    "mpls_vpn_rd",        /* MPLS VPN route distinguisher (IE 90, or from the VRF options) */
    "mpls_vpn_rd_origin", /* pmacct: where the RD came from */
    "mpls_label_stack",   /* mplsTopLabelStackSection.. (IE 70-79) */
    "fwd_status",         /* forwardingStatus (IE 89) */
    "vrf_name",           /* VRF name from the Huawei VRF options records */
    "ingress_vrf_name",   /* idem */
    "egress_vrf_name",    /* idem */
    "custom_primitives",  /* pmacct custom primitives: VRF ids, MPLS top label */
    "net_src",            /* pmacct's network aggregation (0.0.0.0 here) */
    "net_dst",            /* idem */
    "label",              /* pmacct pre-tag labels */
    "flows",              /* pmacct's flow count (null here) */
    "writer_id",          /* pmacct's writer process */
};

static bool listed(const char *key, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/* ==== The capture ==== */

struct decoded {
    struct tw_flowrec r[256];
    size_t n;
    struct tw_ip exporter; /* IP source of the datagrams (all from one exporter) */
    size_t datagrams;
};

static int keep(const struct tw_flowrec *rec, void *arg)
{
    struct decoded *d = arg;

    assert_true(d->n < TW_ARRAY_LEN(d->r));
    d->r[d->n++] = *rec;
    return 0;
}

static void decode_capture(const char *path, struct tw_nf_decoder *nf, struct decoded *out)
{
    struct tw_capture *cap;
    struct tw_decoder *dec = tw_decoder_new(NULL);
    struct tw_packet p;
    struct tw_err err;
    int rc;

    assert_non_null(dec);
    assert_int_equal(tw_capture_open(&cap, &path, 1, &err), TW_OK);
    while ((rc = tw_capture_next(cap, &p, &err)) == 1) {
        const struct tw_ip *src;

        assert_int_equal(tw_decode(dec, &p), TW_DECODE_OK);
        assert_true(p.inner_ip >= 0 && p.l4 >= 0);
        assert_int_equal(p.layers[p.l4].kind, TW_L_UDP);
        src = &p.layers[p.inner_ip].u.ip.src;
        if (out->datagrams == 0)
            out->exporter = *src;
        assert_int_equal(tw_ip_cmp(src, &out->exporter), 0);
        out->datagrams++;
        tw_err_clear(&err);
        rc = tw_nf_decode(nf, src, p.payload, p.payload_len, keep, out, &err);
        if (rc != TW_OK)
            fail_msg(
                    "%s datagram %zu: %s at offset %zu", path, out->datagrams, err.msg, err.offset);
    }
    assert_int_equal(rc, 0);
    tw_capture_close(cap);
    tw_decoder_free(dec);
}

/* One capture and what is known about it. */
struct real_case {
    const char *dir;
    const char *capture_exporter; /* IP source of the datagrams in the capture */
    const char *replay_peer;      /* the address pmacct saw them from */
    struct tw_nf_stats st;        /* expected decoder counters */
    uint32_t sampling;            /* expected on every record */
};

static bool rec_matches(const struct tw_flowrec *r, const struct row *row, char *why, size_t cap)
{
    struct tw_ip src = get_ip(row, "ip_src"), dst = get_ip(row, "ip_dst");
    uint64_t mul = r->sampling > 1 ? r->sampling : 1;
    char proto[24];

    get_str(row, "ip_proto", proto, sizeof(proto));
#define CHECK(cond, what)                                                                          \
    if (!(cond)) {                                                                                 \
        (void)snprintf(why, cap, "%s", what);                                                      \
        return false;                                                                              \
    }
    CHECK(tw_ip_cmp(&r->src, &src) == 0, "ip_src");
    CHECK(tw_ip_cmp(&r->dst, &dst) == 0, "ip_dst");
    CHECK(r->sport == get_u64(row, "port_src"), "port_src");
    CHECK(r->dport == get_u64(row, "port_dst"), "port_dst");
    CHECK(r->proto == proto_number(proto), "ip_proto");
    CHECK(r->tos == get_u64(row, "tos"), "tos");
    CHECK(r->packets * mul == get_u64(row, "packets"), "packets");
    CHECK(r->bytes * mul == get_u64(row, "bytes"), "bytes");
    CHECK(r->in_if == get_u64(row, "iface_in"), "iface_in");
    CHECK(r->out_if == get_u64(row, "iface_out"), "iface_out");
    CHECK(r->tcp_flags == tcp_flags(row), "tcp_flags");
    if (!is_null(get(row, "mask_src")))
        CHECK(r->src_mask == get_u64(row, "mask_src"), "mask_src");
    if (!is_null(get(row, "mask_dst")))
        CHECK(r->dst_mask == get_u64(row, "mask_dst"), "mask_dst");
    if (!is_null(get(row, "timestamp_start")))
        CHECK((r->first_ms + 999) / 1000 == get_ts(row, "timestamp_start"), "timestamp_start");
    if (!is_null(get(row, "timestamp_end")))
        CHECK((r->last_ms + 999) / 1000 == get_ts(row, "timestamp_end"), "timestamp_end");
#undef CHECK
    return true;
}

static void run_case(const struct real_case *rc)
{
    char rel[256];
    const char *path;
    char *capture, *json;
    struct tw_nf_decoder *nf;
    struct decoded *got = calloc(1, sizeof(*got));
    bool used[256] = { false };
    struct tw_ip cap_exp, peer;
    struct tw_nf_stats st;
    size_t n_rows = 0;

    assert_non_null(got);
    (void)snprintf(rel, sizeof(rel), "netflow/%s/traffic-00.pcap", rc->dir);
    path = tw_test_shared(rel);
    if (path == NULL) {
        free(got);
        skip();
    }
    capture = tw_strdup(path);
    (void)snprintf(rel, sizeof(rel), "netflow/%s/output-flow-00.json", rc->dir);
    path = tw_test_shared(rel);
    assert_non_null(path);
    json = tw_test_slurp(path, NULL);

    assert_int_equal(tw_nf_decoder_new(NULL, &nf), TW_OK);
    decode_capture(capture, nf, got);
    tw_nf_decoder_stats(nf, &st);
    assert_int_equal(tw_ip_parse(tw_str_cstr(rc->capture_exporter), &cap_exp, NULL), TW_OK);
    assert_int_equal(tw_ip_parse(tw_str_cstr(rc->replay_peer), &peer, NULL), TW_OK);
    assert_int_equal(tw_ip_cmp(&got->exporter, &cap_exp), 0);

    for (const char *p = json; *p != '\0';) {
        struct row row;
        char why[64] = "no record";
        bool found = false;

        p = parse_row(p, &row);
        n_rows++;
        for (size_t i = 0; i < row.n; i++)
            if (!listed(row.m[i].key, compared, TW_ARRAY_LEN(compared)) &&
                    !listed(row.m[i].key, unproduced, TW_ARRAY_LEN(unproduced)))
                fail_msg("%s: key field %s is neither compared nor known to be absent", rc->dir,
                        row.m[i].key);
        {
            struct tw_ip row_peer = get_ip(&row, "peer_ip_src");

            assert_int_equal(tw_ip_cmp(&row_peer, &peer), 0);
        }
        for (size_t i = 0; i < got->n && !found; i++) {
            if (used[i] || !rec_matches(&got->r[i], &row, why, sizeof(why)))
                continue;
            used[i] = found = true;
        }
        if (!found)
            fail_msg("%s: row %zu has no matching record (the last candidate differed in %s)",
                    rc->dir, n_rows, why);
        while (*p == '\n')
            p++;
    }
    assert_int_equal(got->n, n_rows);
    for (size_t i = 0; i < got->n; i++) {
        assert_int_equal(tw_ip_cmp(&got->r[i].exporter, &cap_exp), 0);
        assert_int_equal(got->r[i].sampling, rc->sampling);
    }

    assert_int_equal(st.datagrams, got->datagrams);
    assert_int_equal(st.records, rc->st.records);
    assert_int_equal(st.templates, rc->st.templates);
    assert_int_equal(st.options_records, rc->st.options_records);
    assert_int_equal(st.no_template, rc->st.no_template);
    assert_int_equal(st.lost, rc->st.lost);
    assert_int_equal(st.seq_resets, rc->st.seq_resets);
    assert_int_equal(st.records_no_template, rc->st.records_no_template);
    assert_int_equal(st.malformed, 0);
    assert_int_equal(st.unsupported, 0);
    print_message("%s: %zu datagrams, %zu records match the answer key; lost %llu, "
                  "resets %llu\n",
            rc->dir, got->datagrams, got->n, (unsigned long long)st.lost,
            (unsigned long long)st.seq_resets);

    tw_nf_decoder_free(nf);
    tw_free(json);
    tw_free(capture);
    free(got);
}

/* ==== Cases ==== */

/*
 * Cisco ASR9k IPFIX, two observation domains (IPv4 template 260, IPv6 263):
 * 6 datagrams, 2 templates, 12 records. The domains' sequence numbers run
 * without gaps (each message carries the records counted before it).
 */
static void cisco_ipfix(void **state)
{
    const struct real_case c = { "100-IPFIXv10-CISCO", "138.187.0.13", "172.21.1.101",
        { .records = 12, .templates = 2 }, 0 };

    (void)state;
    run_case(&c);
}

/*
 * Cisco NetFlow v9, template 313 with IPv6 and IPv4 addresses (IPv4 used):
 * the template's datagram (sequence 147688) was moved to the front of the
 * capture, so the next one (147674) is taken for a restart; after it, the
 * capture lacks 24 of the datagrams the sequence numbers count.
 */
static void cisco_v9(void **state)
{
    const struct real_case c = { "101-NFv9-CISCO-cust_primitives", "138.187.57.55", "172.21.1.101",
        { .records = 51, .templates = 1, .lost = 24, .seq_resets = 1 }, 0 };

    (void)state;
    run_case(&c);
}

/*
 * Cisco IPFIX over IPv6 with sampling options (template 257: selectorId 1,
 * samplingSize 1, samplingPopulation 256) and data templates 339-342; the
 * capture is an excerpt: 12 records before sequence 76 and 9 before 86 are
 * not in it.
 */
static void cisco_ipfix_sampling(void **state)
{
    const struct real_case c = { "104-IPFIXv10-IPv6-CISCO-sampling_option", "2a02:a90:4007:700::54",
        "fd25::101", { .records = 3, .templates = 5, .options_records = 1, .lost = 21 }, 256 };

    (void)state;
    run_case(&c);
}

/*
 * Huawei IPFIX over IPv6: VRF options template 1514 (its record counted as
 * an options record), data templates 2599 (IPv6) and 6017 (outer IPv6, then
 * the inner IPv4 5-tuple: pmacct and we report the inner one), times as
 * sysUpTime with systemInitTimeMilliseconds in every record. The capture's
 * datagrams are out of order (sequence 1221457, 1221494, 1221469, 1221476,
 * 1221492, 1221493): two steps back count as restarts, and the steps
 * forward lose 37 + 7 + 16 records.
 */
static void huawei_ipfix(void **state)
{
    const struct real_case c = { "106-IPFIXv10-HUAWEI-vrf_name", "2001:db8:54::1", "fd25::101",
        { .records = 3, .templates = 3, .options_records = 1, .lost = 60, .seq_resets = 2 }, 0 };

    (void)state;
    run_case(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cisco_ipfix),
        cmocka_unit_test(cisco_v9),
        cmocka_unit_test(cisco_ipfix_sampling),
        cmocka_unit_test(huawei_ipfix),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
