/*
 * cmd_flows_generate.c: `tidewatch flows generate`, the project's own
 * NetFlow v5 / v9 / IPFIX exporter for tests, benchmarks and the demo.
 *
 * Records come from tw_nf_synth_record (deterministic for a seed), go
 * through a tw_nf_encoder (templates in the first datagram and every
 * GEN_TEMPLATE_EVERY datagrams) and leave as UDP datagrams to one collector,
 * batched with sendmmsg. With --rate the stream is paced by a token bucket
 * (checked once per batch of datagrams, the batch sized to about a
 * millisecond of traffic); without it the datagrams leave as fast as the
 * socket takes them.
 *
 * Export times: a datagram's header clock is taken from its first record,
 * so each record is encoded with an export time no earlier than the last
 * packet of any record that may share its datagram (the largest last_ms of
 * its own chunk of GEN_CHUNK records and the next), and never earlier than
 * the export time before it: exporters report flows that have ended.
 */
/* NOLINTNEXTLINE(readability-identifier-naming): the C library's feature macro */
#define _GNU_SOURCE /* sendmmsg */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "flows_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/netflow.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"

/* ==== Types ==== */

/* Records generated ahead, to find the export time of a datagram. */
#define GEN_CHUNK 128u
/* Datagrams handed to one sendmmsg at most. */
#define GEN_BATCH 64u
/* Largest datagram the encoder is asked to build. */
#define GEN_MAX_DATAGRAM 1400u
/* Default flow time step when no --rate gives one, in microseconds. */
#define GEN_DEFAULT_STEP_US 100u
/* Datagrams between template refreshes (v9, IPFIX), so a collector started late learns them. */
#define GEN_TEMPLATE_EVERY 100u

static const char generate_help[] =
        "usage: tidewatch flows generate --to ADDR:PORT [options]\n"
        "\n"
        "Send synthetic flow records as NetFlow v5, NetFlow v9 or IPFIX datagrams to a\n"
        "collector over UDP, like a router would: deterministic for a seed, inside\n"
        "addresses from 10.0.0.0/8 and outside ones from 20.0.0.0/10. v9 and IPFIX\n"
        "send their templates in the first datagram and again periodically.\n"
        "\n"
        "options:\n"
        "      --to ADDR:PORT    the collector (numeric IPv4, or [IPv6]:PORT)\n"
        "      --version V       5, 9 (default) or 10 (IPFIX)\n"
        "      --flows N         records to send (default 10000; 0: until interrupted)\n"
        "      --rate FLOWS/S    pace the stream (default: as fast as possible)\n"
        "      --seed S          the stream's seed (default 1)\n"
        "      --start T         time of the first flow, RFC 3339 or seconds since the\n"
        "                        epoch (default: now, minus the stream's duration)\n"
        "      --domain N        v9 source id, IPFIX observation domain, or v5 engine\n"
        "                        type * 256 + engine id (default 0)\n"
        "      --v6-every N      one record in N is IPv6 (default 0: none; not with v5)\n"
        "  -q, --quiet           no summary on standard output\n"
        "  -h, --help            this help\n"
        "\n"
        "exit status: 0 sent, 2 usage, 3 the socket failed\n";

struct gen_sender {
    int fd;
    struct mmsghdr msgs[GEN_BATCH];
    struct iovec iov[GEN_BATCH];
    uint8_t *bufs; /* GEN_BATCH slots of buf_size bytes */
    size_t buf_size;
    unsigned n;        /* datagrams waiting in the batch */
    unsigned flush_at; /* batch size that triggers a send */
    uint64_t datagrams;
    uint64_t bytes;
    uint64_t refused; /* sends refused (ICMP port unreachable for an earlier datagram) */
    int error;        /* errno of a failure that stops the run */
};

struct gen_opts {
    const char *to;
    int version;
    uint64_t flows;
    uint64_t rate;
    uint64_t seed;
    int64_t start_ms;
    bool has_start;
    uint32_t domain;
    uint32_t v6_every;
    bool quiet;
};

static volatile sig_atomic_t gen_stop;

/* ==== Helpers ==== */

static void gen_on_signal(int sig)
{
    (void)sig;
    gen_stop = 1;
}

static double gen_mono(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t gen_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parses --start: RFC 3339 (any offset) or integer seconds since the epoch. */
static int gen_parse_start(const char *s, int64_t *out_ms)
{
    struct tw_time t;
    int64_t sec;

    if (tw_parse_i64(tw_str_cstr(s), -(INT64_C(1) << 40), INT64_C(1) << 40, &sec) == TW_OK) {
        *out_ms = sec * 1000;
        return 0;
    }
    if (tw_time_parse(tw_str_cstr(s), TW_TIME_ALLOW_OFFSET | TW_TIME_ALLOW_LOWER, &t, NULL) !=
            TW_OK)
        return -1;
    if (t.sec > (INT64_C(1) << 40) || t.sec < -(INT64_C(1) << 40))
        return -1;
    *out_ms = t.sec * 1000 + (int64_t)(t.nsec / 1000000u);
    return 0;
}

/* ==== Sending ==== */

/* Sends the datagrams of the batch; a refused one is counted and dropped. */
static int gen_flush(struct gen_sender *s)
{
    unsigned done = 0;

    while (done < s->n) {
        int r = sendmmsg(s->fd, s->msgs + done, s->n - done, 0);

        if (r < 0) {
            if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) {
                if (gen_stop && errno == EINTR)
                    break;
                continue;
            }
            if (errno == ECONNREFUSED) {
                /* The error belongs to an earlier datagram; this one was not sent. */
                s->refused++;
                continue;
            }
            s->error = errno;
            return -1;
        }
        for (int i = 0; i < r; i++)
            s->bytes += s->msgs[done + (unsigned)i].msg_len;
        s->datagrams += (unsigned)r;
        done += (unsigned)r;
    }
    s->n = 0;
    return 0;
}

/* tw_nf_send_fn: copies the datagram into the batch, sending the batch when full. */
static int gen_send(const uint8_t *datagram, size_t len, void *arg)
{
    struct gen_sender *s = arg;
    uint8_t *slot;

    if (len > s->buf_size)
        return TW_ELIMIT;
    slot = s->bufs + (size_t)s->n * s->buf_size;
    memcpy(slot, datagram, len);
    s->iov[s->n].iov_base = slot;
    s->iov[s->n].iov_len = len;
    memset(&s->msgs[s->n], 0, sizeof(s->msgs[s->n]));
    s->msgs[s->n].msg_hdr.msg_iov = &s->iov[s->n];
    s->msgs[s->n].msg_hdr.msg_iovlen = 1;
    s->n++;
    if (s->n >= s->flush_at && gen_flush(s) != 0)
        return TW_EIO;
    return TW_OK;
}

/* Sleeps until `sent` flows are due at `rate` flows/s since t0 (a token bucket without burst). */
static void gen_pace(double t0, uint64_t sent, uint64_t rate)
{
    double due = t0 + (double)sent / (double)rate;
    double now = gen_mono();

    if (due > now) {
        struct timespec ts;
        double d = due - now;

        ts.tv_sec = (time_t)d;
        ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
        (void)nanosleep(&ts, NULL);
    }
}

static int64_t gen_chunk_max_last(const struct tw_flowrec *r, size_t n)
{
    int64_t m = INT64_MIN;

    for (size_t i = 0; i < n; i++)
        if (r[i].last_ms > m)
            m = r[i].last_ms;
    return m;
}

static const char *gen_version_name(int v)
{
    return v == 5 ? "NetFlow v5" : v == 9 ? "NetFlow v9" : "IPFIX";
}

/* ==== The command ==== */

static int gen_parse_opts(int argc, char **argv, struct gen_opts *o, bool *help)
{
    static const struct option opts[] = { { "to", required_argument, NULL, 't' },
        { "version", required_argument, NULL, 'V' }, { "flows", required_argument, NULL, 'n' },
        { "rate", required_argument, NULL, 'r' }, { "seed", required_argument, NULL, 's' },
        { "start", required_argument, NULL, 'S' }, { "domain", required_argument, NULL, 'd' },
        { "v6-every", required_argument, NULL, '6' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch flows generate";
    uint64_t v;
    int c;

    memset(o, 0, sizeof(*o));
    o->version = 9;
    o->flows = 10000;
    o->seed = 1;
    *help = false;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
            case 't':
                o->to = optarg;
                break;
            case 'V':
                if (tw_parse_u64(tw_str_cstr(optarg), 10, &v) != TW_OK ||
                        (v != 5 && v != 9 && v != 10))
                    return tw_cli_usage_error(prog, "bad --version '%s' (5, 9 or 10)", optarg);
                o->version = (int)v;
                break;
            case 'n':
                if (tw_parse_u64(tw_str_cstr(optarg), UINT64_MAX / 2, &v) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --flows '%s'", optarg);
                o->flows = v;
                break;
            case 'r':
                if (tw_parse_u64(tw_str_cstr(optarg), 1000000000, &v) != TW_OK || v == 0)
                    return tw_cli_usage_error(
                            prog, "bad --rate '%s' (flows per second, 1..1e9)", optarg);
                o->rate = v;
                break;
            case 's':
                if (tw_parse_u64(tw_str_cstr(optarg), UINT64_MAX, &v) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --seed '%s'", optarg);
                o->seed = v;
                break;
            case 'S':
                if (gen_parse_start(optarg, &o->start_ms) != 0)
                    return tw_cli_usage_error(
                            prog, "bad --start '%s' (RFC 3339 or seconds since the epoch)", optarg);
                o->has_start = true;
                break;
            case 'd':
                if (tw_parse_u64(tw_str_cstr(optarg), UINT32_MAX, &v) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --domain '%s'", optarg);
                o->domain = (uint32_t)v;
                break;
            case '6':
                if (tw_parse_u64(tw_str_cstr(optarg), UINT32_MAX, &v) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --v6-every '%s'", optarg);
                o->v6_every = (uint32_t)v;
                break;
            case 'q':
                o->quiet = true;
                break;
            case 'h':
                *help = true;
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind < argc)
        return tw_cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (o->to == NULL)
        return tw_cli_usage_error(prog, "--to ADDR:PORT is required");
    if (o->version == 5 && o->v6_every != 0)
        return tw_cli_usage_error(prog, "NetFlow v5 carries IPv4 only: no --v6-every with it");
    if (o->version == 5 && o->domain > 0xffff)
        return tw_cli_usage_error(prog, "NetFlow v5 has a 16-bit engine type and id");
    return TW_EXIT_OK;
}

int tw_flows_generate(int argc, char **argv)
{
    static const char *const prog = "tidewatch flows generate";
    struct tw_flowrec *cur = NULL, *next = NULL;
    struct tw_nf_encoder *enc = NULL;
    struct tw_nf_encoder_config ec;
    struct tw_nf_synth syn;
    struct gen_sender snd;
    struct gen_opts o;
    struct sockaddr_storage ss;
    struct sigaction sa;
    socklen_t ss_len = 0;
    const char *why = NULL;
    uint64_t i = 0, sent = 0;
    int64_t export_ms = INT64_MIN;
    double t0, secs;
    bool help;
    int status = TW_EXIT_OK;
    int rc;

    rc = gen_parse_opts(argc, argv, &o, &help);
    if (rc != TW_EXIT_OK)
        return rc;
    if (help) {
        fputs(generate_help, stdout);
        return TW_EXIT_OK;
    }
    if (tw_cli_parse_sockaddr(o.to, false, &ss, &ss_len, &why) != 0)
        return tw_cli_usage_error(prog, "--to %s: %s", o.to, why);

    memset(&syn, 0, sizeof(syn));
    syn.seed = o.seed;
    syn.step_us = o.rate > 0 ? (uint32_t)TW_MAX(1u, 1000000u / o.rate) : GEN_DEFAULT_STEP_US;
    syn.v6_every = o.v6_every;
    if (o.has_start) {
        syn.start_ms = o.start_ms;
    } else {
        /* The stream ends about now (unbounded streams start now). */
        uint64_t span_ms = o.flows / 1000 * syn.step_us;
        syn.start_ms = gen_now_ms() - (int64_t)TW_MIN(span_ms, (uint64_t)INT32_MAX);
    }

    tw_nf_encoder_config_init(&ec, o.version);
    ec.domain = o.domain;
    ec.max_datagram = GEN_MAX_DATAGRAM;
    ec.template_every = GEN_TEMPLATE_EVERY;
    /* Booted a minute before the first flow: uptime-relative times stay positive. */
    ec.boot_ms = syn.start_ms - 60000;

    memset(&snd, 0, sizeof(snd));
    snd.fd = -1;
    snd.buf_size = 65536;
    snd.flush_at = GEN_BATCH;
    if (o.rate > 0) {
        /* About one millisecond of traffic per batch (some 30 records per datagram). */
        uint64_t per_ms = o.rate / 30000;
        snd.flush_at = (unsigned)TW_MAX(1u, TW_MIN((uint64_t)GEN_BATCH, per_ms));
    }
    snd.bufs = tw_malloc((size_t)GEN_BATCH * snd.buf_size);
    cur = tw_calloc(GEN_CHUNK, sizeof(*cur));
    next = tw_calloc(GEN_CHUNK, sizeof(*next));
    if (snd.bufs == NULL || cur == NULL || next == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = TW_EXIT_ERROR;
        goto out;
    }
    rc = tw_nf_encoder_new(&ec, &enc);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: cannot make the encoder: %s\n", prog, tw_strerror(rc));
        status = TW_EXIT_ERROR;
        goto out;
    }
    snd.fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (snd.fd < 0 || connect(snd.fd, (const struct sockaddr *)&ss, ss_len) != 0) {
        fprintf(stderr, "%s: cannot send to %s: %s\n", prog, o.to, strerror(errno));
        status = TW_EXIT_ERROR;
        goto out;
    }
    {
        int sndbuf = 4 << 20;
        (void)setsockopt(snd.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = gen_on_signal;
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);

    for (size_t k = 0; k < GEN_CHUNK; k++)
        tw_nf_synth_record(&syn, k, &next[k]);
    t0 = gen_mono();
    while (!gen_stop && (o.flows == 0 || i < o.flows)) {
        size_t n_cur, n_next;
        int64_t e;
        struct tw_flowrec *tmp = cur;

        /* cur = next; next = the chunk after it. */
        cur = next;
        next = tmp;
        n_cur = o.flows == 0 ? GEN_CHUNK : (size_t)TW_MIN((uint64_t)GEN_CHUNK, o.flows - i);
        n_next = o.flows == 0 ? GEN_CHUNK
                              : (size_t)TW_MIN((uint64_t)GEN_CHUNK,
                                        o.flows - i > n_cur ? o.flows - i - n_cur : 0);
        for (size_t k = 0; k < n_next; k++)
            tw_nf_synth_record(&syn, i + GEN_CHUNK + k, &next[k]);
        e = gen_chunk_max_last(cur, n_cur);
        if (n_next > 0)
            e = TW_MAX(e, gen_chunk_max_last(next, n_next));
        export_ms = TW_MAX(export_ms, e);
        for (size_t k = 0; k < n_cur; k++) {
            rc = tw_nf_encode(enc, &cur[k], export_ms, gen_send, &snd);
            if (rc != TW_OK)
                break;
            sent++;
            if (o.rate > 0 && snd.n == 0)
                gen_pace(t0, sent, o.rate);
        }
        if (rc != TW_OK)
            break;
        i += n_cur;
    }
    if (rc == TW_OK)
        rc = tw_nf_encode_flush(enc, gen_send, &snd);
    if (rc == TW_OK && snd.n > 0 && gen_flush(&snd) != 0)
        rc = TW_EIO;
    secs = gen_mono() - t0;
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, snd.error != 0 ? strerror(snd.error) : tw_strerror(rc));
        status = TW_EXIT_ERROR;
    }
    if (!o.quiet) {
        printf("sent %llu flows in %llu datagrams (%llu bytes) to %s as %s, domain %u, seed "
               "%llu, in %.2f s (%.0f flows/s)\n",
                (unsigned long long)sent, (unsigned long long)snd.datagrams,
                (unsigned long long)snd.bytes, o.to, gen_version_name(o.version),
                (unsigned)o.domain, (unsigned long long)o.seed, secs,
                secs > 0 ? (double)sent / secs : 0.0);
        if (snd.refused > 0)
            printf("%s refused datagrams %llu times (ICMP port unreachable: nothing "
                   "listening?)\n",
                    o.to, (unsigned long long)snd.refused);
    }
out:
    if (snd.fd >= 0)
        (void)close(snd.fd);
    tw_nf_encoder_free(enc);
    tw_free(snd.bufs);
    tw_free(cur);
    tw_free(next);
    return status;
}
