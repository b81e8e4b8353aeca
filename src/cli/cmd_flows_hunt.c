/*
 * cmd_flows_hunt.c: `tidewatch flows hunt`, retro-hunting a flow archive for
 * the addresses (and, where patterns ask, the ports and protocols) of the
 * shared intelligence. Alerts are EVE JSON lines shaped like those of
 * `tidewatch hunt` (Suricata's fields, "flow" with the record's packets and
 * bytes, tidewatch's fields under "tidewatch") plus a "netflow" section with
 * the exporter, interfaces and NetFlow times; sightings are a STIX 2.1
 * bundle with one sighting per indicator (count, first and last seen from
 * the flows); the summary goes to standard error.
 *
 * This file also holds the time parser the flows subcommands share
 * (tw_flows_parse_time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <getopt.h>
#include <jansson.h>

#include "cli.h"
#include "flows_cli.h"
#include "intel_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/eve.h"
#include "tidewatch/flowfilter.h"
#include "tidewatch/flowhunt.h"
#include "tidewatch/hash.h"
#include "tidewatch/sighting.h"
#include "tidewatch/taxii_client.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

/* Shared with cmd_flows_query.c. */
int tw_flows_parse_time(const char *text, int64_t *ms);

static const char flows_hunt_help[] =
        "usage: tidewatch flows hunt --archive DIR -i BUNDLE|INDEX [-i ...] [options]\n"
        "\n"
        "Hunt a flow archive for the indicators of STIX bundles or compiled indexes\n"
        "(tidewatch intel compile): every flow whose source or destination address is\n"
        "an indicator's address or lies in its network, and for indicators whose pattern\n"
        "also asks for a port, a direction or a protocol, only flows that have them.\n"
        "Indicators that name ports alone match on the flows' ports. Files and blocks\n"
        "whose summaries cannot hold a match are skipped unread.\n"
        "\n"
        "options:\n"
        "  -a, --archive DIR       the flow archive (required)\n"
        "  -i, --intel FILE        a STIX 2.1 bundle or compiled index (repeatable)\n"
        "      --from TIME         only flows that end at or after TIME\n"
        "      --to TIME           only flows that start before TIME\n"
        "                          TIME: RFC 3339 (2025-03-01T10:00:00Z), \"YYYY-MM-DD\",\n"
        "                          \"YYYY-MM-DD hh:mm[:ss]\" (UTC) or seconds since 1970\n"
        "  -f, --filter EXPR       also require a flow filter (see tidewatch flows query)\n"
        "  -o, --eve FILE          EVE JSON alerts (default: standard output)\n"
        "      --sightings FILE    write STIX 2.1 sightings (one per indicator seen)\n"
        "      --org NAME          organisation named in the sightings (default: \"tidewatch "
        "sensor\")\n"
        "      --sightings-to URL  report the sightings to a hub collection (TAXII 2.1,\n"
        "                          https://HUB/API-ROOT/collections/ID/)\n"
        "      --key-file FILE     the API key for --sightings-to (default: $TIDEWATCH_KEY)\n"
        "      --ca-file FILE      PEM certificates to verify the hub with\n"
        "      --stats-json FILE   write the summary as JSON\n"
        "      --threads N         hunting threads (default: one per CPU)\n"
        "  -q, --quiet             no summary on standard error\n"
        "  -h, --help              this help\n"
        "\n"
        "exit status: 0 hunted and something matched, 1 nothing matched, 2 usage,\n"
        "3 the archive, the intelligence or an output could not be read or written\n";

/* ==== Times ==== */

/* Reads exactly n digits at *p; false when they are not all digits. */
static bool digits(const char **p, int n, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (!tw_ascii_isdigit(c))
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : d[m - 1];
}

/*
 * Parses a time of the command line into ms since the epoch: RFC 3339 (with
 * Z or an offset), "YYYY-MM-DD", "YYYY-MM-DD hh:mm" or "YYYY-MM-DD hh:mm:ss"
 * (UTC; a 'T' may stand for the space), or decimal seconds since 1970.
 * Returns TW_OK or TW_EINVAL.
 */
int tw_flows_parse_time(const char *text, int64_t *ms)
{
    struct tw_str s = tw_str_cstr(text);
    struct tw_time t;
    const char *p = text;
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    uint64_t v;

    if (s.len == 0)
        return TW_EINVAL;
    if (tw_parse_u64(s, (uint64_t)INT64_MAX / 1000, &v) == TW_OK) {
        *ms = (int64_t)v * 1000;
        return TW_OK;
    }
    if (tw_time_parse(s, TW_TIME_ALLOW_OFFSET | TW_TIME_ALLOW_LOWER, &t, NULL) == TW_OK) {
        *ms = t.sec * 1000 + (int64_t)(t.nsec / 1000000u);
        return TW_OK;
    }
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
            !digits(&p, 2, &d))
        return TW_EINVAL;
    if (*p == ' ' || *p == 'T' || *p == 't') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return TW_EINVAL;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                return TW_EINVAL;
        }
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
            sec > 59)
        return TW_EINVAL;
    *ms = ((tw_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * INT64_C(60000) +
          (int64_t)sec * 1000;
    return TW_OK;
}

/* ==== Alerts ==== */

struct hunt_ctx {
    const struct tw_index *idx;
    FILE *eve;
    struct tw_buf line;
    struct tw_sightings *sightings;
    int64_t *first_ms, *last_ms; /* per indicator: the sighted flows' extent */
    bool io_error;
};

/* A stable 32-bit signature id from the indicator's UUID, as `tidewatch hunt` makes it. */
static uint32_t sid_of(const struct tw_indicator *ind)
{
    uint32_t v = (uint32_t)ind->uuid[0] << 24 | (uint32_t)ind->uuid[1] << 16 |
                 (uint32_t)ind->uuid[2] << 8 | ind->uuid[3];
    return v & 0x7fffffffu;
}

static const char *source_name(uint8_t source)
{
    switch (source) {
        case TW_FLOWREC_NFV5:
            return "netflow-v5";
        case TW_FLOWREC_NFV9:
            return "netflow-v9";
        case TW_FLOWREC_IPFIX:
            return "ipfix";
        case TW_FLOWREC_CAPTURE:
            return "capture";
        case TW_FLOWREC_NFDUMP:
            return "nfdump";
        default:
            return "unknown";
    }
}

static bool has_ports(uint8_t proto)
{
    return proto == 6 || proto == 17 || proto == 132 || proto == 33 || proto == 136;
}

/* The flow's id: a hash of what identifies the record, in 52 bits (exact in a JSON double). */
static uint64_t flow_id(const struct tw_flowrec *r)
{
    uint8_t k[80];
    size_t n = 0;

    memcpy(k + n, &r->src, sizeof(r->src));
    n += sizeof(r->src);
    memcpy(k + n, &r->dst, sizeof(r->dst));
    n += sizeof(r->dst);
    memcpy(k + n, &r->exporter, sizeof(r->exporter));
    n += sizeof(r->exporter);
    for (int i = 0; i < 8; i++)
        k[n++] = (uint8_t)((uint64_t)r->first_ms >> (8 * i));
    k[n++] = (uint8_t)(r->sport >> 8);
    k[n++] = (uint8_t)r->sport;
    k[n++] = (uint8_t)(r->dport >> 8);
    k[n++] = (uint8_t)r->dport;
    k[n++] = r->proto;
    for (int i = 0; i < 4; i++)
        k[n++] = (uint8_t)(r->domain >> (8 * i));
    return tw_hash64(k, n, 0) & ((UINT64_C(1) << 52) - 1);
}

/*
 * Appenders for the alert lines. Alerts are written one per hit, up to
 * hundreds of thousands in a hunt, so numbers, times and IPv4 addresses are
 * formatted by hand rather than through printf. Each returns TW_OK or the
 * buffer's error.
 */
static int app(struct tw_buf *b, const char *lit)
{
    return tw_buf_append(b, lit, strlen(lit));
}

/* Writes v in decimal at the end of out (at least 20 bytes); returns the length. */
static size_t u64_text(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0, k = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0)
        out[k++] = tmp[--n];
    return k;
}

static int app_u64(struct tw_buf *b, uint64_t v)
{
    char t[20];

    return tw_buf_append(b, t, u64_text(v, t));
}

/* ,"key":v */
static int app_key_u64(struct tw_buf *b, const char *key, uint64_t v)
{
    int rc = tw_buf_putc(b, ',');

    if (rc == TW_OK)
        rc = tw_buf_putc(b, '"');
    if (rc == TW_OK)
        rc = app(b, key);
    if (rc == TW_OK)
        rc = tw_buf_append(b, "\":", 2);
    return rc == TW_OK ? app_u64(b, v) : rc;
}

/* ,"key":"v" with v escaped. */
static int app_key_str(struct tw_buf *b, const char *key, const char *v)
{
    int rc = tw_buf_append(b, ",\"", 2);

    if (rc == TW_OK)
        rc = app(b, key);
    if (rc == TW_OK)
        rc = tw_buf_append(b, "\":\"", 3);
    if (rc == TW_OK)
        rc = tw_buf_json_escape(b, v, strlen(v));
    return rc == TW_OK ? tw_buf_putc(b, '"') : rc;
}

static void two(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/*
 * ,"key":"2025-03-01T10:00:10.000000+0000" (Suricata's form, as tw_eve_timestamp
 * writes it) for ms since the epoch, years 0 .. 9999.
 */
static int app_key_ts(struct tw_buf *b, const char *key, int64_t ms)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    /* Howard Hinnant's civil_from_days. */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
    char t[23];
    int rc;

    if (y < 0 || y > 9999) {
        char tsb[TW_EVE_TS_LEN];
        tw_eve_timestamp(ms * 1000000, tsb);
        rc = tw_buf_printf(b, ",\"%s\":\"%s\"", key, tsb);
        return rc;
    }
    two(t, (unsigned)(y / 100));
    two(t + 2, (unsigned)(y % 100));
    t[4] = '-';
    two(t + 5, m);
    t[7] = '-';
    two(t + 8, d);
    t[10] = 'T';
    two(t + 11, (unsigned)(rem / 3600000));
    t[13] = ':';
    two(t + 14, (unsigned)(rem / 60000 % 60));
    t[16] = ':';
    two(t + 17, (unsigned)(rem / 1000 % 60));
    t[19] = '.';
    t[20] = (char)('0' + rem % 1000 / 100);
    two(t + 21, (unsigned)(rem % 100));
    rc = tw_buf_append(b, ",\"", 2);
    if (rc == TW_OK)
        rc = app(b, key);
    if (rc == TW_OK)
        rc = tw_buf_append(b, "\":\"", 3);
    if (rc == TW_OK)
        rc = tw_buf_append(b, t, 23);
    return rc == TW_OK ? app(b, "000+0000\"") : rc;
}

/* ,"key":"address", or null when the record has none. */
static int app_key_ip(struct tw_buf *b, const char *key, const struct tw_ip *ip)
{
    char text[TW_IP_STRLEN];
    size_t n = 0;
    int rc = tw_buf_append(b, ",\"", 2);

    if (rc == TW_OK)
        rc = app(b, key);
    if (rc != TW_OK)
        return rc;
    if (ip->family == 4) {
        for (int i = 0; i < 4; i++) {
            if (i > 0)
                text[n++] = '.';
            n += u64_text(ip->bytes[i], text + n);
        }
    } else if (ip->family == 6) {
        n = (size_t)tw_ip_format(ip, text);
    } else {
        return tw_buf_append(b, "\":null", 6);
    }
    rc = tw_buf_append(b, "\":\"", 3);
    if (rc == TW_OK)
        rc = tw_buf_append(b, text, n);
    return rc == TW_OK ? tw_buf_putc(b, '"') : rc;
}

/* Where the indicator matched: "ip.src", "ip.dst", "src_port", "dest_port" or "pattern". */
static void matched(const struct tw_index *idx, const struct tw_flowhunt_hit *hit,
        const char **field, char *value, size_t size)
{
    const struct tw_flowrec *r = hit->rec;
    char a[TW_IP_STRLEN], b[TW_IP_STRLEN];
    bool src = false, dst = false;
    uint32_t found[256];
    size_t n;

    if (tw_index_pattern(idx, hit->indicator) != NULL) {
        *field = "pattern";
        (void)snprintf(value, size, "%s", tw_index_name(idx, hit->indicator));
        return;
    }
    n = TW_MIN(tw_index_lookup_ip(idx, &r->src, found, TW_ARRAY_LEN(found)), TW_ARRAY_LEN(found));
    for (size_t k = 0; k < n && (hit->side & TW_FLOWHUNT_SRC); k++)
        src = src || found[k] == hit->indicator;
    n = TW_MIN(tw_index_lookup_ip(idx, &r->dst, found, TW_ARRAY_LEN(found)), TW_ARRAY_LEN(found));
    for (size_t k = 0; k < n && (hit->side & TW_FLOWHUNT_DST); k++)
        dst = dst || found[k] == hit->indicator;
    (void)tw_ip_format(&r->src, a);
    (void)tw_ip_format(&r->dst, b);
    if (src && dst) {
        *field = "ip.src,ip.dst";
        (void)snprintf(value, size, "%s,%s", a, b);
    } else if (src || dst) {
        *field = src ? "ip.src" : "ip.dst";
        (void)snprintf(value, size, "%s", src ? a : b);
    } else {
        /* Not an address: the indicator names the port. */
        *field = (hit->side & TW_FLOWHUNT_DST) ? "dest_port" : "src_port";
        (void)snprintf(
                value, size, "%u", (unsigned)((hit->side & TW_FLOWHUNT_DST) ? r->dport : r->sport));
    }
}

/* One alert as an EVE JSON line in b (see docs/man, section HUNT, for the fields). */
static int format_alert(
        const struct tw_index *idx, const struct tw_flowhunt_hit *hit, struct tw_buf *b)
{
    static const char *const flag_names[8] = { "fin", "syn", "rst", "psh", "ack", "urg", "ecn",
        "cwr" };
    static const char hex[] = "0123456789abcdef";
    const struct tw_flowrec *r = hit->rec;
    const struct tw_indicator *ind = tw_index_get(idx, hit->indicator);
    const char *name = tw_index_name(idx, hit->indicator), *field;
    char id[64], pbuf[8], value[TW_IP_STRLEN * 2 + 8];
    int rc;

    tw_index_id(idx, hit->indicator, id);
    matched(idx, hit, &field, value, sizeof(value));
    tw_buf_reset(b);
    rc = app_key_ts(b, "timestamp", r->first_ms);
    if (rc == TW_OK)
        b->ptr[0] = '{'; /* the first key's comma opens the object */
    if (rc == TW_OK)
        rc = app_key_u64(b, "flow_id", flow_id(r));
    if (rc == TW_OK)
        rc = app(b, ",\"event_type\":\"alert\"");
    if (rc == TW_OK)
        rc = app_key_ip(b, "src_ip", &r->src);
    if (rc == TW_OK && has_ports(r->proto))
        rc = app_key_u64(b, "src_port", r->sport);
    if (rc == TW_OK)
        rc = app_key_ip(b, "dest_ip", &r->dst);
    if (rc == TW_OK && has_ports(r->proto))
        rc = app_key_u64(b, "dest_port", r->dport);
    if (rc == TW_OK)
        rc = app_key_str(b, "proto", tw_eve_proto(r->proto, pbuf));
    if (rc == TW_OK && (r->proto == 1 || r->proto == 58)) {
        rc = app_key_u64(b, "icmp_type", (unsigned)(r->dport >> 8));
        if (rc == TW_OK)
            rc = app_key_u64(b, "icmp_code", (unsigned)(r->dport & 0xff));
    }
    if (rc == TW_OK)
        rc = app(b, ",\"alert\":{\"action\":\"allowed\",\"gid\":1");
    if (rc == TW_OK)
        rc = app_key_u64(b, "signature_id", sid_of(ind));
    if (rc == TW_OK)
        rc = app(b, ",\"rev\":1");
    if (rc == TW_OK)
        rc = app_key_str(b, "signature", name[0] ? name : id);
    if (rc == TW_OK)
        rc = app(b, ",\"category\":\"Threat intelligence match\"");
    if (rc == TW_OK)
        rc = app_key_u64(b, "severity", ind->severity);
    if (rc == TW_OK)
        rc = app(b, "},\"flow\":{\"pkts_toserver\":");
    if (rc == TW_OK)
        rc = app_u64(b, r->packets);
    if (rc == TW_OK)
        rc = app(b, ",\"pkts_toclient\":0");
    if (rc == TW_OK)
        rc = app_key_u64(b, "bytes_toserver", r->bytes);
    if (rc == TW_OK)
        rc = app(b, ",\"bytes_toclient\":0");
    if (rc == TW_OK)
        rc = app_key_ts(b, "start", r->first_ms);
    if (rc == TW_OK)
        rc = app_key_ts(b, "end", r->last_ms);
    if (rc == TW_OK)
        rc = app_key_u64(b, "age",
                r->last_ms > r->first_ms ? (uint64_t)(r->last_ms - r->first_ms) / 1000 : 0);
    if (rc == TW_OK)
        rc = tw_buf_putc(b, '}');
    if (rc == TW_OK && r->proto == 6) {
        char fl[2] = { hex[r->tcp_flags >> 4], hex[r->tcp_flags & 15] };
        rc = app(b, ",\"tcp\":{\"tcp_flags\":\"");
        if (rc == TW_OK)
            rc = tw_buf_append(b, fl, 2);
        if (rc == TW_OK)
            rc = tw_buf_putc(b, '"');
        for (unsigned k = 0; k < 8 && rc == TW_OK; k++) {
            if ((r->tcp_flags & (1u << k)) == 0)
                continue;
            rc = app(b, ",\"");
            if (rc == TW_OK)
                rc = app(b, flag_names[k]);
            if (rc == TW_OK)
                rc = app(b, "\":true");
        }
        if (rc == TW_OK)
            rc = tw_buf_putc(b, '}');
    }
    if (rc == TW_OK)
        rc = app(b, ",\"netflow\":{\"source\":\"");
    if (rc == TW_OK)
        rc = app(b, source_name(r->source));
    if (rc == TW_OK)
        rc = tw_buf_putc(b, '"');
    if (rc == TW_OK)
        rc = app_key_ip(b, "exporter", &r->exporter);
    if (rc == TW_OK)
        rc = app_key_u64(b, "domain", r->domain);
    if (rc == TW_OK)
        rc = app_key_u64(b, "in_if", r->in_if);
    if (rc == TW_OK)
        rc = app_key_u64(b, "out_if", r->out_if);
    if (rc == TW_OK)
        rc = app_key_ts(b, "first", r->first_ms);
    if (rc == TW_OK)
        rc = app_key_ts(b, "last", r->last_ms);
    if (rc == TW_OK)
        rc = app_key_u64(b, "vlan", r->vlan);
    if (rc == TW_OK)
        rc = app_key_u64(b, "tos", r->tos);
    if (rc == TW_OK)
        rc = app_key_u64(b, "sampling", r->sampling);
    if (rc == TW_OK)
        rc = app(b, "},\"tidewatch\":{\"indicator\":{\"id\":\"");
    if (rc == TW_OK)
        rc = app(b, id);
    if (rc == TW_OK)
        rc = tw_buf_putc(b, '"');
    if (rc == TW_OK)
        rc = app_key_str(b, "name", name);
    if (rc == TW_OK)
        rc = app(b, "},\"matched\":{\"field\":\"");
    if (rc == TW_OK)
        rc = app(b, field);
    if (rc == TW_OK)
        rc = tw_buf_putc(b, '"');
    if (rc == TW_OK)
        rc = app_key_str(b, "value", value);
    if (rc == TW_OK)
        rc = tw_buf_putc(b, '}');
    if (rc == TW_OK)
        rc = app_key_str(b, "tlp",
                ind->tlp == TW_TLP_NONE ? "unmarked" : tw_tlp_name((enum tw_tlp)ind->tlp));
    if (rc == TW_OK)
        rc = app_key_str(b, "archive_file", hit->file);
    if (rc == TW_OK)
        rc = app(b, "}}\n");
    return rc;
}

static int on_hit(const struct tw_flowhunt_hit *hit, void *arg)
{
    struct hunt_ctx *c = arg;
    uint32_t n = hit->indicator;

    if (tw_sightings_of(c->sightings, n) == 0 || hit->rec->first_ms < c->first_ms[n])
        c->first_ms[n] = hit->rec->first_ms;
    if (tw_sightings_of(c->sightings, n) == 0 || hit->rec->last_ms > c->last_ms[n])
        c->last_ms[n] = hit->rec->last_ms;
    tw_sightings_add(c->sightings, n, hit->rec->first_ms * 1000000);
    if (c->eve == NULL)
        return 0;
    if (format_alert(c->idx, hit, &c->line) != TW_OK ||
            fwrite(c->line.ptr, 1, c->line.len, c->eve) != c->line.len) {
        c->io_error = true;
        return 1;
    }
    return 0;
}

/* ==== Sightings ==== */

static void stix_ms(int64_t ms, char out[TW_TIME_STRLEN])
{
    struct tw_time t;

    t.sec = ms / 1000;
    t.nsec = (uint32_t)((ms % 1000 + 1000) % 1000) * 1000000u;
    if (ms < 0 && ms % 1000 != 0)
        t.sec--;
    t.frac_digits = 3;
    (void)tw_time_format(&t, 3, out);
}

/*
 * The sightings bundle, with each sighting's last_seen set to the end of the
 * last flow sighted (the tally records one time per hit, the flows' starts).
 * Returns a new string ending in a newline (free()) or NULL.
 */
static char *sightings_bundle(const struct hunt_ctx *c, const char *org)
{
    struct tw_buf b;
    json_error_t je;
    json_t *doc, *o;
    char *text = NULL;
    size_t i;
    uint32_t n = 0, n_ind = (uint32_t)tw_index_count(c->idx);

    tw_buf_init(&b, (size_t)1 << 30);
    if (tw_sightings_write(c->sightings, org, tw_time_now().sec * 1000000000LL, &b) != TW_OK) {
        tw_buf_cleanup(&b);
        return NULL;
    }
    doc = json_loadb(b.ptr, b.len, 0, &je);
    tw_buf_cleanup(&b);
    if (doc == NULL)
        return NULL;
    /* The sightings come in indicator order: one pass pairs them with the tally. */
    json_array_foreach(json_object_get(doc, "objects"), i, o)
    {
        const char *ref = json_string_value(json_object_get(o, "sighting_of_ref"));
        char id[64], last[TW_TIME_STRLEN];
        if (ref == NULL)
            continue;
        for (; n < n_ind; n++) {
            if (tw_sightings_of(c->sightings, n) == 0)
                continue;
            tw_index_id(c->idx, n, id);
            if (strcmp(id, ref) == 0)
                break;
        }
        if (n == n_ind)
            break; /* not in order after all: leave the rest as written */
        stix_ms(c->last_ms[n], last);
        (void)json_object_set_new(o, "last_seen", json_string(last));
        n++;
    }
    text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_INDENT(2));
    json_decref(doc);
    if (text != NULL) {
        size_t len = strlen(text);
        char *nl = realloc(text, len + 2);
        if (nl == NULL) {
            free(text);
            return NULL;
        }
        memcpy(nl + len, "\n", 2);
        text = nl;
    }
    return text;
}

/* Posts the sightings to a hub collection as a TAXII envelope. */
static int report_sightings(const char *prog, const char *url, const char *key_file,
        const char *ca_file, bool quiet, const char *bundle_text)
{
    struct tw_taxii_client tc;
    json_error_t je;
    json_t *doc = json_loads(bundle_text, 0, &je), *env, *st = NULL;
    char key[256] = "", *text;
    struct tw_err err;
    int rc = TW_EXIT_OK;

    if (tw_cli_read_key(prog, key_file, key, sizeof(key)) != TW_EXIT_OK) {
        json_decref(doc);
        return TW_EXIT_ERROR;
    }
    env = json_pack("{s:O}", "objects", json_object_get(doc, "objects"));
    text = env != NULL ? json_dumps(env, JSON_COMPACT) : NULL;
    memset(&tc, 0, sizeof(tc));
    tc.collection_url = url;
    tc.key = key;
    tc.ca_file = ca_file;
    tw_err_clear(&err);
    if (text == NULL || tw_taxii_push(&tc, text, strlen(text), &st, &err) != TW_OK) {
        fprintf(stderr, "%s: reporting sightings: %s\n", prog,
                text == NULL ? "out of memory" : err.msg);
        rc = TW_EXIT_ERROR;
    } else {
        json_int_t okc = json_integer_value(json_object_get(st, "success_count"));
        json_int_t bad = json_integer_value(json_object_get(st, "failure_count"));
        if (!quiet || bad > 0)
            fprintf(stderr, "%s: sightings reported to the hub: %lld accepted, %lld refused\n",
                    prog, (long long)okc, (long long)bad);
        if (bad > 0)
            rc = TW_EXIT_ERROR;
    }
    memset(key, 0, sizeof(key));
    free(text);
    json_decref(st);
    json_decref(env);
    json_decref(doc);
    return rc;
}

/* ==== The command ==== */

struct opts {
    const char *archive, *eve, *sightings, *org, *stats_json, *filter;
    const char *sightings_to, *key_file, *ca_file;
    int64_t from_ms, to_ms;
    unsigned threads;
    bool quiet;
};

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_summary(const struct tw_flowhunt_stats *st, size_t sighted, double secs)
{
    fprintf(stderr,
            "tidewatch flows hunt: %llu files (%llu skipped, %llu unreadable), %llu blocks read "
            "(%llu skipped, %llu unreadable), %llu records, %llu hits on %zu indicators in %.2f s "
            "(%.1f M records/s)\n",
            (unsigned long long)st->files, (unsigned long long)st->files_skipped,
            (unsigned long long)st->files_bad, (unsigned long long)st->blocks,
            (unsigned long long)st->blocks_skipped, (unsigned long long)st->blocks_bad,
            (unsigned long long)st->records, (unsigned long long)st->hits, sighted, secs,
            secs > 0 ? (double)st->records / secs / 1e6 : 0.0);
}

static int write_stats_json(
        const char *path, const struct tw_flowhunt_stats *st, size_t sighted, double secs)
{
    json_t *j = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "files",
            (json_int_t)st->files, "files_skipped", (json_int_t)st->files_skipped, "files_bad",
            (json_int_t)st->files_bad, "blocks", (json_int_t)st->blocks, "blocks_skipped",
            (json_int_t)st->blocks_skipped, "blocks_bad", (json_int_t)st->blocks_bad, "records",
            (json_int_t)st->records, "hits", (json_int_t)st->hits, "indicators_sighted",
            (json_int_t)sighted, "seconds", secs);
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    struct tw_err err;
    int rc = text != NULL && tw_cli_write(path, text, strlen(text), &err) == TW_OK ? TW_OK : TW_EIO;

    free(text);
    json_decref(j);
    return rc;
}

static int parse_args(int argc, char **argv, struct opts *o, char **intel, int *n_intel)
{
    static const struct option lopts[] = { { "archive", required_argument, NULL, 'a' },
        { "intel", required_argument, NULL, 'i' }, { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 't' }, { "filter", required_argument, NULL, 'f' },
        { "eve", required_argument, NULL, 'o' }, { "sightings", required_argument, NULL, 'S' },
        { "org", required_argument, NULL, 'g' }, { "stats-json", required_argument, NULL, 'J' },
        { "sightings-to", required_argument, NULL, 'U' },
        { "key-file", required_argument, NULL, 'K' }, { "ca-file", required_argument, NULL, 'C' },
        { "threads", required_argument, NULL, 'T' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch flows hunt";
    uint64_t v;
    int c;

    while ((c = getopt_long(argc, argv, "a:i:f:o:qh", lopts, NULL)) != -1) {
        switch (c) {
            case 'a':
                o->archive = optarg;
                break;
            case 'i':
                intel[(*n_intel)++] = optarg;
                break;
            case 'F':
            case 't':
                if (tw_flows_parse_time(optarg, c == 'F' ? &o->from_ms : &o->to_ms) != TW_OK)
                    return tw_cli_usage_error(
                            prog, "bad time '%s' for --%s", optarg, c == 'F' ? "from" : "to");
                break;
            case 'f':
                o->filter = optarg;
                break;
            case 'o':
                o->eve = optarg;
                break;
            case 'S':
                o->sightings = optarg;
                break;
            case 'g':
                o->org = optarg;
                break;
            case 'J':
                o->stats_json = optarg;
                break;
            case 'U':
                o->sightings_to = optarg;
                break;
            case 'K':
                o->key_file = optarg;
                break;
            case 'C':
                o->ca_file = optarg;
                break;
            case 'T':
                if (tw_parse_u64(tw_str_cstr(optarg), 64, &v) != TW_OK || v == 0)
                    return tw_cli_usage_error(prog, "bad --threads '%s' (1..64)", optarg);
                o->threads = (unsigned)v;
                break;
            case 'q':
                o->quiet = true;
                break;
            case 'h':
                fputs(flows_hunt_help, stdout);
                return -1;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind < argc)
        return tw_cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (o->archive == NULL)
        return tw_cli_usage_error(prog, "no --archive");
    if (*n_intel == 0)
        return tw_cli_usage_error(prog, "no --intel bundle or index");
    if (o->from_ms >= o->to_ms)
        return tw_cli_usage_error(prog, "--from must be before --to");
    return TW_EXIT_OK;
}

int tw_flows_hunt(int argc, char **argv)
{
    static const char *const prog = "tidewatch flows hunt";
    struct opts o;
    struct hunt_ctx ctx;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st;
    struct tw_flowfilter *filter = NULL;
    struct tw_index *idx = NULL;
    struct tw_err err;
    char **intel = tw_calloc((size_t)argc + 1, sizeof(*intel));
    int n_intel = 0, status, rc;
    size_t n_ind;
    double t0, secs;

    if (intel == NULL)
        return TW_EXIT_ERROR;
    memset(&o, 0, sizeof(o));
    memset(&ctx, 0, sizeof(ctx));
    memset(&st, 0, sizeof(st));
    o.org = "tidewatch sensor";
    o.from_ms = INT64_MIN;
    o.to_ms = INT64_MAX;
    status = parse_args(argc, argv, &o, intel, &n_intel);
    if (status != TW_EXIT_OK) {
        tw_free(intel);
        return status < 0 ? TW_EXIT_OK : status;
    }
    tw_err_clear(&err);
    if (o.filter != NULL && tw_flowfilter_parse(o.filter, &filter, &err) != TW_OK) {
        tw_free(intel);
        return tw_cli_usage_error(prog, "bad --filter: %s", err.msg);
    }
    /* Kept source: the hunt flattens the index's addresses into its prefilter. */
    idx = tw_intel_load_index_ex(n_intel, intel, true, &status);
    tw_free(intel);
    if (idx == NULL) {
        tw_flowfilter_free(filter);
        return TW_EXIT_ERROR;
    }
    status = TW_EXIT_OK;
    n_ind = tw_index_count(idx);
    ctx.idx = idx;
    tw_buf_init(&ctx.line, (size_t)1 << 20);
    ctx.sightings = tw_sightings_new(idx);
    ctx.first_ms = tw_calloc(n_ind ? n_ind : 1, sizeof(*ctx.first_ms));
    ctx.last_ms = tw_calloc(n_ind ? n_ind : 1, sizeof(*ctx.last_ms));
    ctx.eve = o.eve == NULL || strcmp(o.eve, "-") == 0 ? stdout : fopen(o.eve, "w");
    if (ctx.sightings == NULL || ctx.first_ms == NULL || ctx.last_ms == NULL || ctx.eve == NULL) {
        fprintf(stderr, "%s: cannot open %s\n", prog, o.eve ? o.eve : "output");
        status = TW_EXIT_ERROR;
        goto out;
    }
    tw_flowhunt_config_init(&cfg, idx);
    cfg.from_ms = o.from_ms;
    cfg.to_ms = o.to_ms;
    cfg.filter = filter;
    cfg.threads = o.threads;
    /* What the alerts print: routing (next hop, AS numbers, masks) is left unread. */
    cfg.cols = TW_FARCH_COL_TIME | TW_FARCH_COL_PORTS | TW_FARCH_COL_PROTO | TW_FARCH_COL_COUNTERS |
               TW_FARCH_COL_IFACE | TW_FARCH_COL_EXPORTER;
    t0 = mono();
    rc = tw_flowhunt_run(&cfg, o.archive, on_hit, &ctx, &st, &err);
    secs = mono() - t0;
    if (rc != TW_OK && !ctx.io_error) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
        goto out;
    }
    if (ctx.io_error || fflush(ctx.eve) != 0) {
        fprintf(stderr, "%s: error writing EVE output\n", prog);
        status = TW_EXIT_ERROR;
    }
    if (!o.quiet)
        print_summary(&st, tw_sightings_count(ctx.sightings), secs);
    if (o.stats_json != NULL &&
            write_stats_json(o.stats_json, &st, tw_sightings_count(ctx.sightings), secs) != TW_OK) {
        fprintf(stderr, "%s: cannot write %s\n", prog, o.stats_json);
        status = TW_EXIT_ERROR;
    }
    if (o.sightings != NULL || o.sightings_to != NULL) {
        char *text = sightings_bundle(&ctx, o.org);
        if (text == NULL) {
            fprintf(stderr, "%s: cannot build the sightings\n", prog);
            status = TW_EXIT_ERROR;
        } else {
            if (o.sightings != NULL &&
                    tw_cli_write(o.sightings, text, strlen(text), &err) != TW_OK) {
                fprintf(stderr, "%s: cannot write sightings to %s\n", prog, o.sightings);
                status = TW_EXIT_ERROR;
            }
            if (o.sightings_to != NULL && report_sightings(prog, o.sightings_to, o.key_file,
                                                  o.ca_file, o.quiet, text) != TW_EXIT_OK)
                status = TW_EXIT_ERROR;
            free(text);
        }
    }
    if (status == TW_EXIT_OK && st.hits == 0)
        status = TW_EXIT_FINDINGS;
out:
    if (ctx.eve != NULL && ctx.eve != stdout)
        (void)fclose(ctx.eve);
    tw_buf_cleanup(&ctx.line);
    tw_free(ctx.first_ms);
    tw_free(ctx.last_ms);
    tw_sightings_free(ctx.sightings);
    tw_flowfilter_free(filter);
    tw_index_free(idx);
    return status;
}
