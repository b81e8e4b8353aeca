/*
 * cmd_flows_collect.c: `tidewatch flows collect`, the NetFlow v5 / v9 /
 * IPFIX collector.
 *
 * One UDP socket (IPv4 or IPv6) is read with recvmmsg in batches of
 * COL_BATCH datagrams; each datagram goes through tw_nf_decode, whose
 * records go straight to tw_farch_writer_add with the batch's receipt time
 * as the partition time. A timer (the socket's receive timeout bounds the
 * wait) calls tw_farch_writer_tick once a second so that a quiet interval
 * still becomes visible, and prints the counters every --stats-every
 * seconds. SIGINT and SIGTERM stop the loop: the datagrams already queued
 * in the socket are read, the open partitions are completed and the
 * decoder's counters are printed.
 *
 * One thread does everything: on a two-core machine it decodes and archives
 * a million v9 flows a second with a quarter of a core (tidewatch-flows(1)
 * has the figures), so a second thread would only add a queue. A killed
 * collector loses at most its open intervals: the archive writes each file
 * under a temporary name and renames it into place when complete.
 *
 * The receive buffer is asked for with SO_RCVBUFFORCE (allowed with
 * CAP_NET_ADMIN), else SO_RCVBUF (capped by net.core.rmem_max); the size
 * obtained is printed. The kernel's count of datagrams dropped for want of
 * buffer space comes with the datagrams (SO_RXQ_OVFL) and, at the end, from
 * /proc/net/udp or /proc/net/udp6 (the socket's line, by inode).
 */
/* NOLINTNEXTLINE(readability-identifier-naming): the C library's feature macro */
#define _GNU_SOURCE /* recvmmsg, SO_RCVBUFFORCE */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "flows_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/netflow.h"
#include "tidewatch/str.h"

/* ==== Types ==== */

/* Datagrams read by one recvmmsg. */
#define COL_BATCH 64u
/* Bytes kept per datagram slot: the largest UDP payload. */
#define COL_SLOT 65536u
/* Default receive buffer asked for. */
#define COL_DEFAULT_RCVBUF (64 << 20)
/* Longest wait in recvmmsg before the timer runs, in milliseconds. */
#define COL_WAIT_MS 200
/* Malformed datagrams described on standard error; the rest are only counted. */
#define COL_MAX_REPORTS 10u
/* Longest time spent reading what is left in the socket after a stop signal. */
#define COL_DRAIN_S 5.0

static const char collect_help[] =
        "usage: tidewatch flows collect --listen ADDR:PORT --archive DIR [options]\n"
        "\n"
        "Collect NetFlow v5, NetFlow v9 and IPFIX over UDP into a flow archive: one\n"
        "file per exporter interval (default 300 s) under DIR, visible only when\n"
        "complete. A template cache is kept per exporter and observation domain;\n"
        "sequence gaps are counted as lost flows; malformed datagrams are counted and\n"
        "dropped. Prints 'listening on ADDR:PORT' once bound (port 0: the kernel picks\n"
        "one). SIGINT or SIGTERM completes the open files, prints the counters and\n"
        "exits.\n"
        "\n"
        "options:\n"
        "      --listen ADDR:PORT  numeric IPv4 address, or [IPv6]:PORT (required)\n"
        "      --archive DIR       the archive directory, created when missing (required)\n"
        "      --interval S        partition length in seconds (default 300)\n"
        "      --rcvbuf BYTES      socket receive buffer to ask for (default 64 MiB)\n"
        "      --stats-every S     print the counters every S seconds (default 60; 0: never)\n"
        "      --no-fsync          do not sync files before they become visible\n"
        "  -q, --quiet             no counters on standard error\n"
        "  -h, --help              this help\n"
        "\n"
        "exit status: 0 stopped by a signal, 2 usage, 3 the socket or the archive failed\n";

struct col_opts {
    const char *listen;
    const char *archive;
    uint32_t interval_s;
    uint64_t rcvbuf;
    uint32_t stats_every;
    bool fsync;
    bool quiet;
};

struct col {
    int fd;
    struct tw_nf_decoder *dec;
    struct tw_farch_writer *w;
    int64_t now_ms; /* receipt time of the batch being decoded */
    struct tw_err werr;
    bool write_failed;
    uint64_t reports;   /* malformed datagrams described so far */
    uint64_t truncated; /* datagrams longer than a slot (never for UDP over IPv4/IPv6) */
    uint32_t ovfl;      /* the kernel's drop counter, as SO_RXQ_OVFL last gave it */
    uint64_t packets;   /* sum of the records' packets */
    uint64_t bytes;     /* sum of the records' bytes */
    double first_rx;    /* monotonic time of the first batch, 0 before */
    double last_rx;     /* of the latest batch */
    bool quiet;
    /* recvmmsg state */
    struct mmsghdr msgs[COL_BATCH];
    struct iovec iov[COL_BATCH];
    struct sockaddr_storage names[COL_BATCH];
    struct {
        _Alignas(size_t) char buf[CMSG_SPACE(sizeof(uint32_t))]; /* cmsghdr's alignment */
    } ctl[COL_BATCH];
    uint8_t *slots; /* COL_BATCH * COL_SLOT bytes */
};

static volatile sig_atomic_t col_stop;

/* ==== Helpers ==== */

static void col_on_signal(int sig)
{
    (void)sig;
    col_stop = 1;
}

static int64_t col_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double col_mono(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The datagram's source as a struct tw_ip (IPv4-mapped IPv6 becomes IPv4). */
static void col_exporter(const struct sockaddr_storage *ss, struct tw_ip *out)
{
    memset(out, 0, sizeof(*out));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        out->family = 4;
        memcpy(out->bytes, &a->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        out->family = 6;
        memcpy(out->bytes, &a->sin6_addr, 16);
        (void)tw_ip_unmap(out);
    }
}

/*
 * The kernel's drop counter of the socket with inode `ino`, from one of the
 * /proc/net/udp tables. Each line after the header is
 *   sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt
 *   uid timeout inode ref pointer drops
 * separated by runs of spaces. Returns 0 and sets *drops, or -1 when the
 * socket's line is not found or is not in this shape.
 */
static int col_proc_drops(const char *table, unsigned long ino, uint64_t *drops)
{
    struct tw_buf text;
    struct tw_str rest, line;
    int found = -1;

    if (tw_cli_slurp(table, (size_t)16 << 20, &text, NULL) != TW_OK)
        return -1;
    rest = tw_str_make(text.ptr != NULL ? text.ptr : "", text.len);
    (void)tw_str_next_line(&rest, &line); /* the header */
    while (found != 0 && tw_str_next_line(&rest, &line)) {
        struct tw_str cols[13], tok;
        unsigned n = 0;
        uint64_t v;

        while (n < TW_ARRAY_LEN(cols) && tw_str_split(&line, ' ', &tok)) {
            if (tok.len > 0)
                cols[n++] = tok;
        }
        if (n < TW_ARRAY_LEN(cols))
            continue;
        if (tw_parse_u64(cols[9], UINT64_MAX, &v) != TW_OK || v != ino)
            continue;
        if (tw_parse_u64(cols[12], UINT64_MAX, &v) == TW_OK) {
            *drops = v;
            found = 0;
        }
    }
    tw_buf_cleanup(&text);
    return found;
}

/* ==== Receiving ==== */

/* tw_nf_emit_fn: one decoded record into the archive. */
static int col_emit(const struct tw_flowrec *rec, void *arg)
{
    struct col *c = arg;

    c->packets += rec->packets;
    c->bytes += rec->bytes;
    if (tw_farch_writer_add(c->w, c->now_ms, rec, &c->werr) != TW_OK) {
        c->write_failed = true;
        return 1;
    }
    return 0;
}

static void col_report(struct col *c, const struct tw_ip *exporter, const struct tw_err *err)
{
    char a[TW_IP_STRLEN];

    c->reports++;
    if (c->quiet || c->reports > COL_MAX_REPORTS)
        return;
    if (tw_ip_format(exporter, a) < 0)
        (void)snprintf(a, sizeof(a), "?");
    if (err->offset != TW_NOPOS && strstr(err->msg, "offset") == NULL)
        fprintf(stderr, "tidewatch flows collect: datagram from %s: %s at offset %zu\n", a,
                err->msg, err->offset);
    else
        fprintf(stderr, "tidewatch flows collect: datagram from %s: %s\n", a, err->msg);
    if (c->reports == COL_MAX_REPORTS)
        fprintf(stderr, "tidewatch flows collect: further bad datagrams are only counted\n");
}

/* Prepares the recvmmsg vectors (the kernel overwrites the lengths). */
static void col_arm(struct col *c)
{
    for (unsigned i = 0; i < COL_BATCH; i++) {
        struct msghdr *h = &c->msgs[i].msg_hdr;

        c->iov[i].iov_base = c->slots + (size_t)i * COL_SLOT;
        c->iov[i].iov_len = COL_SLOT;
        h->msg_name = &c->names[i];
        h->msg_namelen = sizeof(c->names[i]);
        h->msg_iov = &c->iov[i];
        h->msg_iovlen = 1;
        h->msg_control = c->ctl[i].buf;
        h->msg_controllen = sizeof(c->ctl[i].buf);
        h->msg_flags = 0;
        c->msgs[i].msg_len = 0;
    }
}

/* Decodes the n datagrams of the batch just read. */
static void col_batch(struct col *c, unsigned n)
{
    c->now_ms = col_now_ms();
    c->last_rx = col_mono();
    if (c->first_rx == 0)
        c->first_rx = c->last_rx;
    for (unsigned i = 0; i < n && !c->write_failed; i++) {
        struct msghdr *h = &c->msgs[i].msg_hdr;
        struct tw_ip exp;
        struct tw_err err;

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm != NULL; cm = CMSG_NXTHDR(h, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL &&
                    cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t)))
                memcpy(&c->ovfl, CMSG_DATA(cm), sizeof(uint32_t));
        }
        if (h->msg_flags & MSG_TRUNC) {
            c->truncated++;
            continue;
        }
        col_exporter(&c->names[i], &exp);
        tw_err_clear(&err);
        if (tw_nf_decode(c->dec, &exp, c->iov[i].iov_base, c->msgs[i].msg_len, col_emit, c, &err) !=
                        TW_OK &&
                !c->write_failed)
            col_report(c, &exp, &err);
    }
}

/* ==== Reporting ==== */

static void col_print_stats(const struct col *c, const char *what, uint64_t drops)
{
    struct tw_nf_stats ns;
    struct tw_farch_writer_stats ws;
    double secs = c->last_rx - c->first_rx;

    tw_nf_decoder_stats(c->dec, &ns);
    tw_farch_writer_stats(c->w, &ws);
    /* The rate is over the time datagrams arrived, first batch to last. */
    fprintf(stderr,
            "tidewatch flows collect: %s: %llu datagrams (%llu v5, %llu v9, %llu IPFIX), %llu "
            "records in %.2f s (%.0f records/s), %llu files (%llu bytes)\n"
            "  flows carried %llu packets and %llu bytes\n",
            what, (unsigned long long)ns.datagrams, (unsigned long long)ns.datagrams_v5,
            (unsigned long long)ns.datagrams_v9, (unsigned long long)ns.datagrams_ipfix,
            (unsigned long long)ns.records, secs, secs > 0 ? (double)ns.records / secs : 0.0,
            (unsigned long long)ws.files, (unsigned long long)ws.bytes_written,
            (unsigned long long)c->packets, (unsigned long long)c->bytes);
    fprintf(stderr,
            "  malformed %llu, unsupported %llu, lost %llu, sequence resets %llu, no template "
            "%llu (about %llu records), templates %llu, withdrawals %llu, options records %llu, "
            "truncated %llu, dropped by the kernel %llu\n",
            (unsigned long long)ns.malformed, (unsigned long long)ns.unsupported,
            (unsigned long long)ns.lost, (unsigned long long)ns.seq_resets,
            (unsigned long long)ns.no_template, (unsigned long long)ns.records_no_template,
            (unsigned long long)ns.templates, (unsigned long long)ns.template_withdrawals,
            (unsigned long long)ns.options_records, (unsigned long long)c->truncated,
            (unsigned long long)drops);
}

/* The kernel's drop count: /proc when it has the socket, else the last SO_RXQ_OVFL. */
static uint64_t col_drops(const struct col *c, int family)
{
    struct stat st;
    uint64_t drops;

    if (fstat(c->fd, &st) == 0 &&
            col_proc_drops(family == AF_INET6 ? "/proc/net/udp6" : "/proc/net/udp",
                    (unsigned long)st.st_ino, &drops) == 0)
        return drops;
    return c->ovfl;
}

/* ==== The command ==== */

static int col_parse_opts(int argc, char **argv, struct col_opts *o, bool *help)
{
    static const struct option opts[] = { { "listen", required_argument, NULL, 'l' },
        { "archive", required_argument, NULL, 'a' }, { "interval", required_argument, NULL, 'i' },
        { "rcvbuf", required_argument, NULL, 'b' }, { "stats-every", required_argument, NULL, 's' },
        { "no-fsync", no_argument, NULL, 'F' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch flows collect";
    uint64_t v;
    int c;

    memset(o, 0, sizeof(*o));
    o->interval_s = TW_FARCH_DEFAULT_INTERVAL_S;
    o->rcvbuf = COL_DEFAULT_RCVBUF;
    o->stats_every = 60;
    o->fsync = true;
    *help = false;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
            case 'l':
                o->listen = optarg;
                break;
            case 'a':
                o->archive = optarg;
                break;
            case 'i':
                if (tw_parse_u64(tw_str_cstr(optarg), 86400, &v) != TW_OK || v == 0)
                    return tw_cli_usage_error(prog, "bad --interval '%s' (1..86400 s)", optarg);
                o->interval_s = (uint32_t)v;
                break;
            case 'b':
                if (tw_parse_u64(tw_str_cstr(optarg), (uint64_t)1 << 30, &v) != TW_OK || v < 4096)
                    return tw_cli_usage_error(
                            prog, "bad --rcvbuf '%s' (4096 .. 1 GiB bytes)", optarg);
                o->rcvbuf = v;
                break;
            case 's':
                if (tw_parse_u64(tw_str_cstr(optarg), 86400, &v) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --stats-every '%s'", optarg);
                o->stats_every = (uint32_t)v;
                break;
            case 'F':
                o->fsync = false;
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
    if (o->listen == NULL || o->archive == NULL)
        return tw_cli_usage_error(prog, "--listen ADDR:PORT and --archive DIR are required");
    return TW_EXIT_OK;
}

/* Opens, sizes and binds the socket; prints where it listens. Returns the fd or -1. */
static int col_socket(const struct col_opts *o, const struct sockaddr_storage *ss, socklen_t len)
{
    static const char *const prog = "tidewatch flows collect";
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    struct timeval tv = { 0, (suseconds_t)COL_WAIT_MS * 1000 };
    char host[INET6_ADDRSTRLEN] = "?";
    int fd, want = (int)o->rcvbuf, got = 0, one = 1;
    socklen_t glen = sizeof(got);
    bool forced;
    unsigned port = 0;

    fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
        return -1;
    }
    forced = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) == 0;
    if (!forced)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
    (void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(fd, (const struct sockaddr *)ss, len) != 0) {
        fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, o->listen, strerror(errno));
        (void)close(fd);
        return -1;
    }
    memset(&bound, 0, sizeof(bound));
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0) {
        if (bound.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&bound;
            (void)inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
            port = ntohs(a->sin6_port);
        } else {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&bound;
            (void)inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
            port = ntohs(a->sin_port);
        }
    }
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &glen) != 0)
        got = 0;
    if (!o->quiet) {
        /* Linux reports twice the size asked for: half is its bookkeeping. */
        fprintf(stderr,
                "tidewatch flows collect: receive buffer %d bytes (asked for %d with %s)%s\n", got,
                want, forced ? "SO_RCVBUFFORCE" : "SO_RCVBUF",
                got / 2 < want ? "; raise net.core.rmem_max or run with CAP_NET_ADMIN for more"
                               : "");
    }
    fprintf(stderr, "listening on %s%s%s:%u\n", ss->ss_family == AF_INET6 ? "[" : "", host,
            ss->ss_family == AF_INET6 ? "]" : "", port);
    (void)fflush(stderr);
    return fd;
}

int tw_flows_collect(int argc, char **argv)
{
    static const char *const prog = "tidewatch flows collect";
    struct tw_farch_writer_config wc;
    struct tw_nf_config nc;
    struct col_opts o;
    struct col *c = NULL;
    struct sockaddr_storage ss;
    struct sigaction sa;
    socklen_t ss_len = 0;
    const char *why = NULL;
    struct tw_err err;
    double last_stats, drain_until = 0;
    int64_t last_tick;
    bool help;
    int status = TW_EXIT_OK, rc;

    rc = col_parse_opts(argc, argv, &o, &help);
    if (rc != TW_EXIT_OK)
        return rc;
    if (help) {
        fputs(collect_help, stdout);
        return TW_EXIT_OK;
    }
    if (tw_cli_parse_sockaddr(o.listen, true, &ss, &ss_len, &why) != 0)
        return tw_cli_usage_error(prog, "--listen %s: %s", o.listen, why);

    c = tw_calloc(1, sizeof(*c));
    if (c != NULL)
        c->slots = tw_malloc((size_t)COL_BATCH * COL_SLOT);
    if (c == NULL || c->slots == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        if (c != NULL)
            tw_free(c->slots);
        tw_free(c);
        return TW_EXIT_ERROR;
    }
    c->fd = -1;
    c->quiet = o.quiet;
    tw_err_clear(&err);
    tw_nf_config_init(&nc);
    tw_farch_writer_config_init(&wc);
    wc.interval_s = o.interval_s;
    wc.fsync = o.fsync;
    if (tw_nf_decoder_new(&nc, &c->dec) != TW_OK) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = TW_EXIT_ERROR;
        goto out;
    }
    if (tw_farch_writer_open(o.archive, &wc, &c->w, &err) != TW_OK) {
        fprintf(stderr, "%s: %s: %s\n", prog, o.archive, err.msg);
        status = TW_EXIT_ERROR;
        goto out;
    }

    /* Signals interrupt recvmmsg (no SA_RESTART), so a stop is seen at once. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = col_on_signal;
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);

    c->fd = col_socket(&o, &ss, ss_len);
    if (c->fd < 0) {
        status = TW_EXIT_ERROR;
        goto out;
    }
    last_stats = col_mono();
    last_tick = col_now_ms();
    for (;;) {
        int n, flags = MSG_WAITFORONE;

        if (col_stop) {
            /* Read what is already queued, then stop. */
            if (drain_until == 0)
                drain_until = col_mono() + COL_DRAIN_S;
            flags = MSG_DONTWAIT;
        }
        col_arm(c);
        n = recvmmsg(c->fd, c->msgs, COL_BATCH, flags, NULL);
        if (n < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                fprintf(stderr, "%s: recvmmsg: %s\n", prog, strerror(errno));
                status = TW_EXIT_ERROR;
                break;
            }
            if (col_stop && errno != EINTR)
                break; /* drained */
            n = 0;
        }
        if (n > 0)
            col_batch(c, (unsigned)n);
        if (c->write_failed) {
            fprintf(stderr, "%s: %s\n", prog, c->werr.msg);
            status = TW_EXIT_ERROR;
            break;
        }
        if (col_stop && col_mono() > drain_until)
            break;
        if (n == 0 || col_now_ms() - last_tick >= 1000) {
            int64_t now = col_now_ms();

            if (now - last_tick >= 1000) {
                last_tick = now;
                tw_err_clear(&err);
                if (tw_farch_writer_tick(c->w, now, &err) != TW_OK) {
                    fprintf(stderr, "%s: %s\n", prog, err.msg);
                    status = TW_EXIT_ERROR;
                    break;
                }
            }
            if (!o.quiet && o.stats_every > 0 && col_mono() - last_stats >= o.stats_every) {
                last_stats = col_mono();
                col_print_stats(c, "so far", col_drops(c, ss.ss_family));
            }
        }
    }
    tw_err_clear(&err);
    if (tw_farch_writer_flush(c->w, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
    }
    if (!o.quiet)
        col_print_stats(c, "stopped", col_drops(c, ss.ss_family));
out:
    if (c->w != NULL && tw_farch_writer_close(c->w, false, &err) != TW_OK && status == TW_EXIT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
    }
    if (c->fd >= 0)
        (void)close(c->fd);
    tw_nf_decoder_free(c->dec);
    tw_free(c->slots);
    tw_free(c);
    return status;
}
