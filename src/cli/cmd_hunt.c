/*
 * cmd_hunt.c: `tidewatch hunt`, hunting packet captures for the shared
 * intelligence through every telecom encapsulation. Alerts are EVE JSON lines
 * (Suricata's fields plus ours under "tidewatch"); sightings are a STIX 2.1
 * bundle ready for the hub; the summary goes to standard error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

#include "cli.h"
#include "intel_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/capture.h"
#include "tidewatch/dns.h"
#include "tidewatch/eve.h"
#include "tidewatch/hash.h"
#include "tidewatch/hunt.h"
#include "tidewatch/sighting.h"
#include "tidewatch/taxii_client.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

static const char hunt_help[] =
        "usage: tidewatch hunt -i BUNDLE [-i BUNDLE]... [options] CAPTURE...\n"
        "\n"
        "Hunt pcap and pcapng captures for the indicators of STIX bundles, through\n"
        "VLAN/QinQ, MPLS, PPPoE, GRE, ERSPAN, VXLAN, GTP-U and IP-in-IP. A CAPTURE is a\n"
        "file, a directory (its captures in time order) or '-' for standard input.\n"
        "Addresses are matched at every layer of the encapsulation; domains in DNS,\n"
        "TLS SNI and HTTP Host; URLs, JA3 and JA4; indicators whose patterns ask for\n"
        "more (ports, protocols, sequences) are verified when their flow ends.\n"
        "\n"
        "options:\n"
        "  -i, --intel FILE        a STIX 2.1 bundle of indicators (repeatable)\n"
        "  -o, --eve FILE          EVE JSON lines (default: standard output)\n"
        "      --flows             also write a flow event for every flow\n"
        "      --metadata          also write dns, tls, http and ssh events\n"
        "      --sightings FILE    write STIX 2.1 sightings (one per indicator seen)\n"
        "      --org NAME          organisation named in the sightings (default: \"tidewatch "
        "sensor\")\n"
        "      --sightings-to URL  report the sightings to a hub collection (TAXII 2.1,\n"
        "                          https://HUB/API-ROOT/collections/ID/)\n"
        "      --key-file FILE     the API key for --sightings-to (default: $TIDEWATCH_KEY)\n"
        "      --ca-file FILE      PEM certificates to verify the hub with\n"
        "      --stats-json FILE   write the summary as JSON\n"
        "      --max-flows N       flows kept at once (default 1048576)\n"
        "      --respect-validity  only match indicators valid at the packet's time\n"
        "                          (default: every indicator not revoked, for retro-hunts)\n"
        "      --include-revoked   match revoked indicators too\n"
        "      --vxlan-port N      UDP port of VXLAN (default 4789; 0 = off)\n"
        "      --gtpu-port N       UDP port of GTP-U (default 2152; 0 = off)\n"
        "  -q, --quiet             no summary on standard error\n"
        "      --progress          a progress line on standard error (default: on a terminal)\n"
        "      --threads N         hunt on N threads (default 1): each reads the input and\n"
        "                          keeps its share of the flows; the output is the same\n"
        "                          (standard input is always read by one thread)\n"
        "  -h, --help              this help\n"
        "\n"
        "exit status: 0 hunted and something matched, 1 nothing matched, 2 usage,\n"
        "3 an input or output could not be read or written\n";

struct sink_ctx {
    FILE *eve;
    pthread_mutex_t *lock; /* guards the shared sightings when several workers run */
    const struct tw_index *idx;
    struct tw_sightings *sightings;
    bool flows, metadata;
    int io_error;
};

static void add_endpoints(json_t *e, const struct tw_flow *f)
{
    char a[TW_IP_STRLEN], b[TW_IP_STRLEN], pbuf[8];

    tw_ip_format(&f->key.src, a);
    tw_ip_format(&f->key.dst, b);
    json_object_set_new(e, "src_ip", json_string(a));
    if (f->key.kind == TW_FLOW_KIND_PORTS)
        json_object_set_new(e, "src_port", json_integer(f->key.sport));
    json_object_set_new(e, "dest_ip", json_string(b));
    if (f->key.kind == TW_FLOW_KIND_PORTS)
        json_object_set_new(e, "dest_port", json_integer(f->key.dport));
    json_object_set_new(e, "proto", json_string(tw_eve_proto(f->key.proto, pbuf)));
}

/* The Suricata-shaped application sections for a flow's metadata. */
static void add_app(json_t *e, const struct tw_flow_meta *m)
{
    if (m == NULL || m->app == TW_APP_NONE)
        return;
    json_object_set_new(e, "app_proto", json_string(tw_app_name((enum tw_app)m->app)));
    switch (m->app) {
        case TW_APP_DNS:
            /* Suricata writes the type by name ("A") and request/response. */
            json_object_set_new(e, "dns",
                    json_pack("{s:s,s:s,s:s}", "type", m->dns_response ? "response" : "request",
                            "rrname", m->dns_query, "rrtype", tw_dns_type_name(m->dns_qtype)));
            break;
        case TW_APP_TLS: {
            json_t *tls = json_pack(
                    "{s:s,s:{s:s},s:s}", "sni", m->tls_sni, "ja3", "hash", m->ja3, "ja4", m->ja4);
            if (tls != NULL && m->tls_cert_sha1[0] != '\0') {
                /* Suricata's form: lower-case hex pairs joined by colons. */
                char fp[60];
                size_t k = 0;
                for (size_t i = 0; i + 1 < 2 * TW_SHA1_LEN + 1 && m->tls_cert_sha1[i]; i += 2) {
                    if (k > 0)
                        fp[k++] = ':';
                    fp[k++] = m->tls_cert_sha1[i];
                    fp[k++] = m->tls_cert_sha1[i + 1];
                }
                fp[k] = '\0';
                json_object_set_new(tls, "fingerprint", json_string(fp));
            }
            json_object_set_new(e, "tls", tls);
            break;
        }
        case TW_APP_HTTP:
            json_object_set_new(e, "http",
                    json_pack("{s:s,s:s,s:s,s:s}", "hostname", m->http_host, "url", m->http_uri,
                            "http_method", m->http_method, "http_user_agent", m->http_ua));
            break;
        case TW_APP_SSH:
            json_object_set_new(e, "ssh",
                    json_pack("{s:{s:s},s:{s:s}}", "client", "software_version", m->ssh_client,
                            "server", "software_version", m->ssh_server));
            break;
        default:
            break;
    }
}

static json_t *event_head(int64_t ts, const struct tw_flow *f, uint64_t pcap_cnt, const char *type)
{
    char tsbuf[TW_EVE_TS_LEN];
    json_t *e = json_object();

    if (e == NULL)
        return NULL;
    tw_eve_timestamp(ts, tsbuf);
    json_object_set_new(e, "timestamp", json_string(tsbuf));
    json_object_set_new(e, "flow_id", json_integer((json_int_t)f->flow_id));
    if (pcap_cnt > 0)
        json_object_set_new(e, "pcap_cnt", json_integer((json_int_t)pcap_cnt));
    json_object_set_new(e, "event_type", json_string(type));
    add_endpoints(e, f);
    return e;
}

static void write_event(struct sink_ctx *c, json_t *e)
{
    if (e != NULL && tw_eve_write(c->eve, e) != TW_OK)
        c->io_error = 1;
    json_decref(e);
}

/* A stable 32-bit signature id from the indicator's UUID (Suricata's sid is a u32). */
static uint32_t sid_of(const struct tw_indicator *ind)
{
    uint32_t v = (uint32_t)ind->uuid[0] << 24 | (uint32_t)ind->uuid[1] << 16 |
                 (uint32_t)ind->uuid[2] << 8 | ind->uuid[3];
    return v & 0x7fffffffu;
}

static void sink_alert(void *arg, const struct tw_hunt_alert *a)
{
    struct sink_ctx *c = arg;
    const struct tw_indicator *ind = tw_index_get(c->idx, a->indicator);
    char id[64];
    json_t *e, *tw, *encap;

    if (c->lock != NULL)
        (void)pthread_mutex_lock(c->lock);
    tw_sightings_add(c->sightings, a->indicator, a->ts_ns);
    if (c->lock != NULL)
        (void)pthread_mutex_unlock(c->lock);
    e = event_head(a->ts_ns, a->flow, a->pcap_cnt, "alert");
    if (e == NULL) {
        c->io_error = 1;
        return;
    }
    tw_index_id(c->idx, a->indicator, id);
    json_object_set_new(e, "alert",
            json_pack("{s:s,s:i,s:I,s:i,s:s,s:s,s:i}", "action", "allowed", "gid", 1,
                    "signature_id", (json_int_t)sid_of(ind), "rev", 1, "signature",
                    tw_index_name(c->idx, a->indicator)[0] ? tw_index_name(c->idx, a->indicator)
                                                           : id,
                    "category", "Threat intelligence match", "severity", ind->severity));
    add_app(e, a->meta);
    encap = a->meta != NULL ? tw_eve_encapsulation(a->meta->tunnel, a->meta->n_tunnel)
                            : json_array();
    tw = json_pack("{s:{s:s,s:s},s:{s:s,s:s},s:s,s:o}", "indicator", "id", id, "name",
            tw_index_name(c->idx, a->indicator), "matched", "field", a->field, "value",
            a->value ? a->value : "", "tlp",
            ind->tlp == TW_TLP_NONE ? "unmarked" : tw_tlp_name((enum tw_tlp)ind->tlp),
            "encapsulation", encap ? encap : json_array());
    json_object_set_new(e, "tidewatch", tw);
    write_event(c, e);
}

static void sink_flow(void *arg, const struct tw_flow *f, const struct tw_flow_meta *m,
        enum tw_flow_end why, unsigned alerts)
{
    struct sink_ctx *c = arg;
    char start[TW_EVE_TS_LEN], end[TW_EVE_TS_LEN];
    json_t *e;

    if (!c->flows)
        return;
    e = event_head(f->last_ts_ns, f, 0, "flow");
    if (e == NULL)
        return;
    add_app(e, m);
    tw_eve_timestamp(f->first_ts_ns, start);
    tw_eve_timestamp(f->last_ts_ns, end);
    json_object_set_new(e, "flow",
            json_pack("{s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:s}", "pkts_toserver",
                    (json_int_t)f->pkts_toserver, "pkts_toclient", (json_int_t)f->pkts_toclient,
                    "bytes_toserver", (json_int_t)f->bytes_toserver, "bytes_toclient",
                    (json_int_t)f->bytes_toclient, "start", start, "end", end, "state",
                    tw_flow_state_name((enum tw_flow_state)f->state), "reason",
                    tw_flow_end_name(why)));
    json_object_set_new(json_object_get(e, "flow"), "alerted", json_boolean(alerts > 0));
    if (m != NULL && m->n_tunnel > 0)
        json_object_set_new(e, "tidewatch",
                json_pack("{s:o}", "encapsulation", tw_eve_encapsulation(m->tunnel, m->n_tunnel)));
    write_event(c, e);
}

static void sink_meta(void *arg, const struct tw_packet *p, const struct tw_flow *f,
        const struct tw_flow_meta *m, enum tw_app app)
{
    struct sink_ctx *c = arg;
    json_t *e;

    if (!c->metadata || m == NULL)
        return;
    e = event_head(p->ts_ns, f, p->num, tw_app_name(app));
    if (e == NULL)
        return;
    add_app(e, m);
    /* add_app put the section under the app's name; event_type says which. */
    write_event(c, e);
}

struct hunt_opts {
    const char *eve, *sightings, *org, *stats_json;
    const char *sightings_to, *key_file, *ca_file;
    unsigned threads;
    bool flows, metadata, quiet, progress;
    struct tw_hunt_config cfg;
};

/* Counters of all the workers of a hunt, merged. */
struct hunt_totals {
    struct tw_hunt_stats st;
    const uint64_t *ev; /* decode events (every worker decodes every packet) */
    uint64_t *per;      /* alerts per indicator, summed */
    struct tw_capture_stats cs;
};

static void print_summary(FILE *out, const struct hunt_totals *t, double secs)
{
    const struct tw_hunt_stats *st = &t->st;

    fprintf(out,
            "tidewatch hunt: %llu files, %llu packets, %llu bytes, %llu flows, %llu alerts in "
            "%.2f s (%.0f packets/s, %.1f MB/s)\n",
            (unsigned long long)t->cs.files, (unsigned long long)st->packets,
            (unsigned long long)st->bytes, (unsigned long long)st->flows,
            (unsigned long long)st->alerts, secs, secs > 0 ? (double)st->packets / secs : 0,
            secs > 0 ? (double)st->bytes / secs / 1e6 : 0);
    fprintf(out,
            "  metadata: %llu dns, %llu tls, %llu http, %llu ssh; fragments held %llu, "
            "dropped %llu; verified %llu, not matching %llu\n",
            (unsigned long long)st->dns, (unsigned long long)st->tls, (unsigned long long)st->http,
            (unsigned long long)st->ssh, (unsigned long long)st->held,
            (unsigned long long)st->dropped, (unsigned long long)st->verified,
            (unsigned long long)st->verify_failed);
    for (unsigned i = 1; i < TW_EV_COUNT; i++)
        if (t->ev[i] > 0)
            fprintf(out, "  decode: %s %llu\n", tw_decode_event_name(i),
                    (unsigned long long)t->ev[i]);
    if (t->cs.errors > 0)
        fprintf(out, "  capture errors: %llu (see above)\n", (unsigned long long)t->cs.errors);
}

static json_t *stats_json(const struct hunt_totals *t, const struct tw_index *idx, double secs)
{
    const struct tw_hunt_stats *st = &t->st;
    json_t *o, *dec = json_object(), *alerts = json_object();

    for (unsigned i = 1; dec != NULL && i < TW_EV_COUNT; i++)
        if (t->ev[i] > 0)
            json_object_set_new(dec, tw_decode_event_name(i), json_integer((json_int_t)t->ev[i]));
    o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:o,s:{s:I,s:I,s:I,s:I}}", "files",
            (json_int_t)t->cs.files, "packets", (json_int_t)st->packets, "bytes",
            (json_int_t)st->bytes, "flows", (json_int_t)st->flows, "alerts", (json_int_t)st->alerts,
            "fragments_held", (json_int_t)st->held, "fragments_dropped", (json_int_t)st->dropped,
            "capture_errors", (json_int_t)t->cs.errors, "seconds", secs, "packets_per_second",
            secs > 0 ? (double)st->packets / secs : 0.0, "decode_events", dec, "metadata", "dns",
            (json_int_t)st->dns, "tls", (json_int_t)st->tls, "http", (json_int_t)st->http, "ssh",
            (json_int_t)st->ssh);
    for (uint32_t i = 0; alerts != NULL && i < tw_index_count(idx); i++) {
        char id[64];
        if (t->per[i] == 0)
            continue;
        tw_index_id(idx, i, id);
        json_object_set_new(alerts, id, json_integer((json_int_t)t->per[i]));
    }
    if (o != NULL)
        json_object_set_new(o, "alerts_per_indicator", alerts);
    else
        json_decref(alerts);
    return o;
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Most hunting threads; each reads the whole input and keeps its share of the flows. */
#define TW_HUNT_MAX_THREADS 16u

/* One hunting thread: its own reader, decoder and flow table over the same input. */
struct worker {
    const struct hunt_opts *o;
    const char *const *paths;
    size_t n_paths;
    struct tw_hunt_config cfg;
    struct tw_capture_opts copts;
    struct sink_ctx sc;
    char *buf; /* its EVE lines when several workers run */
    size_t len;
    struct tw_hunt *h;
    struct tw_capture *cap;
    bool report; /* the first worker reports capture errors and progress */
    int status;
};

static void *worker_run(void *arg)
{
    static const char *const prog = "tidewatch hunt";
    struct worker *w = arg;
    struct tw_packet pkt;
    struct tw_err err;
    double last_progress = 0;

    tw_err_clear(&err);
    w->cfg.sink.ctx = &w->sc;
    if (tw_hunt_new(&w->cfg, &w->h) != TW_OK ||
            tw_capture_open_opts(&w->cap, w->paths, w->n_paths, &w->copts, &err) != TW_OK) {
        if (w->report)
            fprintf(stderr, "%s: %s\n", prog, err.msg[0] ? err.msg : "out of memory");
        w->status = TW_EXIT_ERROR;
        return NULL;
    }
    /* The reader and the decoder set every field they own, so the packet is
     * cleared once, not per packet (it is ~800 bytes). */
    memset(&pkt, 0, sizeof(pkt));
    for (;;) {
        int rc = tw_capture_next(w->cap, &pkt, &err);

        if (rc == 0)
            break;
        if (rc < 0) {
            if (w->report)
                fprintf(stderr, "%s: %s\n", prog, err.msg);
            w->status = TW_EXIT_ERROR;
            continue;
        }
        if (tw_hunt_packet(w->h, &pkt) != TW_OK) {
            if (w->report)
                fprintf(stderr, "%s: out of memory\n", prog);
            w->status = TW_EXIT_ERROR;
            break;
        }
        if (w->report && w->o->progress && (pkt.num & 0xffff) == 0 &&
                mono() - last_progress > 1.0) {
            uint64_t total = tw_capture_bytes_total(w->cap), done = tw_capture_bytes_read(w->cap);
            last_progress = mono();
            fprintf(stderr, "\r%llu packets, %.0f MB%s%.0f%%   ", (unsigned long long)pkt.num,
                    (double)done / 1e6, total ? ", " : "",
                    total ? 100.0 * (double)done / (double)total : 0.0);
        }
    }
    tw_hunt_finish(w->h);
    if (w->sc.io_error)
        w->status = TW_EXIT_ERROR;
    return NULL;
}

/* Merges the workers' counters; packets and decode events come from the first. */
static int merge_totals(
        struct worker *w, unsigned n, const struct tw_index *idx, struct hunt_totals *t)
{
    size_t n_ind = tw_index_count(idx);

    memset(t, 0, sizeof(*t));
    t->per = tw_calloc(n_ind ? n_ind : 1, sizeof(*t->per));
    if (t->per == NULL)
        return TW_ENOMEM;
    tw_hunt_stats(w[0].h, &t->st);
    t->ev = tw_hunt_decode_events(w[0].h);
    tw_capture_stats(w[0].cap, &t->cs);
    t->st.flows = t->st.alerts = t->st.verified = t->st.verify_failed = t->st.verify_errors = 0;
    t->st.dns = t->st.tls = t->st.http = t->st.ssh = 0;
    for (unsigned i = 0; i < n; i++) {
        struct tw_hunt_stats s;
        const uint64_t *per = tw_hunt_alerts_per_indicator(w[i].h);
        tw_hunt_stats(w[i].h, &s);
        t->st.flows += s.flows;
        t->st.alerts += s.alerts;
        t->st.verified += s.verified;
        t->st.verify_failed += s.verify_failed;
        t->st.verify_errors += s.verify_errors;
        t->st.dns += s.dns;
        t->st.tls += s.tls;
        t->st.http += s.http;
        t->st.ssh += s.ssh;
        for (size_t k = 0; k < n_ind; k++)
            t->per[k] += per[k];
    }
    return TW_OK;
}

/*
 * Posts the sightings bundle's objects to a hub collection as a TAXII
 * envelope and prints the hub's verdict. The key comes from --key-file or
 * TIDEWATCH_KEY and is wiped after use.
 */
static int report_sightings(
        const char *prog, const struct hunt_opts *o, const char *bundle, size_t len)
{
    struct tw_taxii_client tc;
    json_error_t je;
    json_t *doc = json_loadb(bundle, len, 0, &je), *env, *st = NULL;
    char key[256] = "", *text;
    struct tw_err err;
    int rc = TW_EXIT_OK;

    if (tw_cli_read_key(prog, o->key_file, key, sizeof(key)) != TW_EXIT_OK) {
        json_decref(doc);
        return TW_EXIT_ERROR;
    }
    env = json_pack("{s:O}", "objects", json_object_get(doc, "objects"));
    text = env != NULL ? json_dumps(env, JSON_COMPACT) : NULL;
    memset(&tc, 0, sizeof(tc));
    tc.collection_url = o->sightings_to;
    tc.key = key;
    tc.ca_file = o->ca_file;
    tw_err_clear(&err);
    if (text == NULL || tw_taxii_push(&tc, text, strlen(text), &st, &err) != TW_OK) {
        fprintf(stderr, "%s: reporting sightings: %s\n", prog,
                text == NULL ? "out of memory" : err.msg);
        rc = TW_EXIT_ERROR;
    } else {
        json_int_t okc = json_integer_value(json_object_get(st, "success_count"));
        json_int_t bad = json_integer_value(json_object_get(st, "failure_count"));
        if (!o->quiet || bad > 0)
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

int tw_cmd_hunt(int argc, char **argv)
{
    static const struct option opts[] = { { "intel", required_argument, NULL, 'i' },
        { "eve", required_argument, NULL, 'o' }, { "flows", no_argument, NULL, 'F' },
        { "metadata", no_argument, NULL, 'M' }, { "sightings", required_argument, NULL, 'S' },
        { "org", required_argument, NULL, 'g' }, { "stats-json", required_argument, NULL, 'J' },
        { "max-flows", required_argument, NULL, 'm' },
        { "respect-validity", no_argument, NULL, 'V' },
        { "include-revoked", no_argument, NULL, 'R' },
        { "vxlan-port", required_argument, NULL, 'x' },
        { "gtpu-port", required_argument, NULL, 'u' }, { "quiet", no_argument, NULL, 'q' },
        { "progress", no_argument, NULL, 'P' }, { "threads", required_argument, NULL, 'T' },
        { "sightings-to", required_argument, NULL, 'U' },
        { "key-file", required_argument, NULL, 'K' }, { "ca-file", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hunt";
    struct hunt_opts o;
    char **bundles = tw_calloc((size_t)argc + 1, sizeof(*bundles));
    int n_bundles = 0, c, status = TW_EXIT_OK;
    struct tw_index *idx = NULL;
    struct tw_sightings *sightings = NULL;
    struct tw_hunt_shared *shared = NULL;
    struct worker w[TW_HUNT_MAX_THREADS];
    struct hunt_totals totals;
    pthread_t tid[TW_HUNT_MAX_THREADS];
    bool started[TW_HUNT_MAX_THREADS] = { false };
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct tw_err err;
    FILE *eve = NULL;
    unsigned n_workers;
    double t0, secs;
    uint64_t v;

    if (bundles == NULL)
        return TW_EXIT_ERROR;
    memset(&o, 0, sizeof(o));
    memset(w, 0, sizeof(w));
    memset(&totals, 0, sizeof(totals));
    tw_hunt_config_init(&o.cfg);
    o.org = "tidewatch sensor";
    o.threads = 1;
    o.progress = isatty(STDERR_FILENO) != 0;
    while ((c = getopt_long(argc, argv, "i:o:qh", opts, NULL)) != -1) {
        switch (c) {
            case 'i':
                bundles[n_bundles++] = optarg;
                break;
            case 'o':
                o.eve = optarg;
                break;
            case 'F':
                o.flows = true;
                break;
            case 'M':
                o.metadata = true;
                break;
            case 'S':
                o.sightings = optarg;
                break;
            case 'U':
                o.sightings_to = optarg;
                break;
            case 'K':
                o.key_file = optarg;
                break;
            case 'C':
                o.ca_file = optarg;
                break;
            case 'g':
                o.org = optarg;
                break;
            case 'J':
                o.stats_json = optarg;
                break;
            case 'm':
                if (tw_parse_u64(tw_str_cstr(optarg), TW_FLOW_MAX_FLOWS, &v) != TW_OK || v == 0) {
                    tw_free(bundles);
                    return tw_cli_usage_error(prog, "bad --max-flows '%s'", optarg);
                }
                o.cfg.max_flows = (uint32_t)v;
                break;
            case 'V':
                o.cfg.respect_validity = true;
                break;
            case 'R':
                o.cfg.include_revoked = true;
                break;
            case 'x':
            case 'u':
                if (tw_parse_u64(tw_str_cstr(optarg), 65535, &v) != TW_OK) {
                    tw_free(bundles);
                    return tw_cli_usage_error(prog, "bad port '%s'", optarg);
                }
                if (c == 'x')
                    o.cfg.decoder.vxlan_port = (uint16_t)v;
                else
                    o.cfg.decoder.gtpu_port = (uint16_t)v;
                break;
            case 'q':
                o.quiet = true;
                break;
            case 'P':
                o.progress = true;
                break;
            case 'T':
                if (tw_parse_u64(tw_str_cstr(optarg), TW_HUNT_MAX_THREADS, &v) != TW_OK || v == 0) {
                    tw_free(bundles);
                    return tw_cli_usage_error(
                            prog, "bad --threads '%s' (1..%u)", optarg, TW_HUNT_MAX_THREADS);
                }
                o.threads = (unsigned)v;
                break;
            case 'h':
                fputs(hunt_help, stdout);
                tw_free(bundles);
                return TW_EXIT_OK;
            default:
                tw_free(bundles);
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (n_bundles == 0 || optind >= argc) {
        tw_free(bundles);
        return tw_cli_usage_error(prog, n_bundles == 0 ? "no --intel bundle" : "no capture");
    }
    idx = tw_intel_load_index(n_bundles, bundles, &status);
    tw_free(bundles);
    if (idx == NULL)
        return TW_EXIT_ERROR;
    status = TW_EXIT_OK;
    n_workers = o.threads;
    for (int i = optind; i < argc; i++)
        if (strcmp(argv[i], "-") == 0)
            n_workers = 1; /* a pipe can be read once */
    eve = o.eve == NULL || strcmp(o.eve, "-") == 0 ? stdout : fopen(o.eve, "w");
    sightings = tw_sightings_new(idx);
    shared = tw_hunt_shared_new(idx);
    if (eve == NULL || sightings == NULL || shared == NULL) {
        fprintf(stderr, "%s: cannot open %s\n", prog, o.eve ? o.eve : "output");
        status = TW_EXIT_ERROR;
        goto out;
    }
    for (unsigned i = 0; i < n_workers; i++) {
        w[i].o = &o;
        w[i].paths = (const char *const *)(argv + optind);
        w[i].n_paths = (size_t)(argc - optind);
        w[i].cfg = o.cfg;
        w[i].cfg.index = idx;
        w[i].cfg.n_shards = n_workers;
        w[i].cfg.shard = i;
        w[i].cfg.shared = shared;
        w[i].cfg.max_flows = o.cfg.max_flows / n_workers ? o.cfg.max_flows / n_workers : 1;
        w[i].cfg.sink.alert = sink_alert;
        /* Only what is written: a hunt does less for a sink that reads less (JA3/JA4). */
        w[i].cfg.sink.flow_end = o.flows ? sink_flow : NULL;
        w[i].cfg.sink.metadata = o.metadata ? sink_meta : NULL;
        /* One hunt reads large files ahead on a helper thread; several keep the cores busy. */
        w[i].copts.io = n_workers > 1 ? TW_CAPTURE_IO_READ : TW_CAPTURE_IO_AUTO;
        w[i].sc.idx = idx;
        w[i].sc.flows = o.flows;
        w[i].sc.metadata = o.metadata;
        w[i].sc.sightings = sightings;
        w[i].sc.lock = n_workers > 1 ? &lock : NULL;
        w[i].sc.eve = n_workers > 1 ? open_memstream(&w[i].buf, &w[i].len) : eve;
        w[i].report = i == 0;
        if (w[i].sc.eve == NULL) {
            status = TW_EXIT_ERROR;
            goto out;
        }
    }
    t0 = mono();
    for (unsigned i = 1; i < n_workers; i++)
        started[i] = pthread_create(&tid[i], NULL, worker_run, &w[i]) == 0;
    (void)worker_run(&w[0]);
    for (unsigned i = 1; i < n_workers; i++) {
        if (started[i])
            (void)pthread_join(tid[i], NULL);
        else
            (void)worker_run(&w[i]); /* no thread: do its share here */
    }
    secs = mono() - t0;
    if (o.progress)
        fputs("\r\033[K", stderr);
    /* Each worker's events in shard order, so the output is the same every run. */
    for (unsigned i = 0; i < n_workers; i++) {
        status = TW_MAX(status, w[i].status);
        if (n_workers > 1) {
            if (fclose(w[i].sc.eve) != 0 ||
                    (w[i].len > 0 && fwrite(w[i].buf, 1, w[i].len, eve) != w[i].len))
                status = TW_EXIT_ERROR;
            w[i].sc.eve = NULL;
        }
    }
    if (w[0].h == NULL || w[0].cap == NULL) {
        status = TW_EXIT_ERROR;
        goto out;
    }
    for (unsigned i = 1; i < n_workers; i++)
        if (w[i].h == NULL || w[i].cap == NULL)
            status = TW_EXIT_ERROR;
    if (status == TW_EXIT_ERROR && (w[0].h == NULL))
        goto out;
    if (merge_totals(w, n_workers, idx, &totals) != TW_OK) {
        status = TW_EXIT_ERROR;
        goto out;
    }
    if (!o.quiet)
        print_summary(stderr, &totals, secs);
    if (o.stats_json != NULL) {
        json_t *j = stats_json(&totals, idx, secs);
        char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (text == NULL || tw_cli_write(o.stats_json, text, strlen(text), &err) != TW_OK)
            status = TW_EXIT_ERROR;
        free(text);
        json_decref(j);
    }
    if (o.sightings != NULL || o.sightings_to != NULL) {
        struct tw_buf b;
        tw_buf_init(&b, (size_t)1 << 30);
        if (tw_sightings_write(sightings, o.org, tw_time_now().sec * 1000000000LL, &b) != TW_OK) {
            fprintf(stderr, "%s: cannot build the sightings\n", prog);
            status = TW_EXIT_ERROR;
        } else {
            if (o.sightings != NULL &&
                    tw_cli_write(o.sightings, b.ptr ? b.ptr : "", b.len, &err) != TW_OK) {
                fprintf(stderr, "%s: cannot write sightings to %s\n", prog, o.sightings);
                status = TW_EXIT_ERROR;
            }
            if (o.sightings_to != NULL &&
                    report_sightings(prog, &o, b.ptr ? b.ptr : "", b.len) != TW_EXIT_OK)
                status = TW_EXIT_ERROR;
        }
        tw_buf_cleanup(&b);
    }
    if (fflush(eve) != 0) {
        fprintf(stderr, "%s: error writing EVE output\n", prog);
        status = TW_EXIT_ERROR;
    }
    if (status == TW_EXIT_OK && totals.st.alerts == 0)
        status = TW_EXIT_FINDINGS;
out:
    for (unsigned i = 0; i < n_workers && i < TW_HUNT_MAX_THREADS; i++) {
        if (n_workers > 1 && w[i].sc.eve != NULL)
            (void)fclose(w[i].sc.eve);
        free(w[i].buf);
        tw_capture_close(w[i].cap);
        tw_hunt_free(w[i].h);
    }
    tw_free(totals.per);
    if (eve != NULL && eve != stdout)
        (void)fclose(eve);
    tw_sightings_free(sightings);
    tw_hunt_shared_free(shared);
    tw_index_free(idx);
    return status;
}

int tw_hunt_capture_mem(const struct tw_index *idx, const void *data, size_t len, const char *name,
        FILE *eve, struct tw_hunt_stats *st)
{
    struct tw_hunt_config cfg;
    struct sink_ctx sc;
    struct tw_hunt *h = NULL;
    struct tw_capture *cap = NULL;
    struct tw_packet pkt;
    struct tw_err err;
    int rc, status = TW_EXIT_OK;

    memset(&sc, 0, sizeof(sc));
    sc.eve = eve;
    sc.idx = idx;
    sc.sightings = tw_sightings_new(idx);
    tw_hunt_config_init(&cfg);
    cfg.index = idx;
    cfg.sink.alert = sink_alert;
    cfg.sink.ctx = &sc;
    if (sc.sightings == NULL || tw_hunt_new(&cfg, &h) != TW_OK ||
            tw_capture_open_mem(&cap, data, len, name, NULL, &err) != TW_OK) {
        status = TW_EXIT_ERROR;
        goto out;
    }
    for (;;) {
        memset(&pkt, 0, sizeof(pkt));
        rc = tw_capture_next(cap, &pkt, &err);
        if (rc <= 0) {
            if (rc < 0)
                status = TW_EXIT_ERROR;
            break;
        }
        if (tw_hunt_packet(h, &pkt) != TW_OK) {
            status = TW_EXIT_ERROR;
            break;
        }
    }
    tw_hunt_finish(h);
    tw_hunt_stats(h, st);
    if (sc.io_error)
        status = TW_EXIT_ERROR;
out:
    tw_capture_close(cap);
    tw_hunt_free(h);
    tw_sightings_free(sc.sightings);
    return status;
}
