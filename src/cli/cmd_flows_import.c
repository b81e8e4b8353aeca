/*
 * cmd_flows_import.c: `tidewatch flows import`, flow records from captures
 * and from nfdump (nfcapd) files into the flow archive.
 *
 * Captures (pcap, pcapng, directories of them, standard input) are read
 * and decoded as `tidewatch hunt` does, tunnels included, and run through
 * the bidirectional flow table. When a flow ends it becomes what a NetFlow
 * exporter would have reported: a client-to-server record and, when the
 * server answered, a server-to-client one. Each record carries its own
 * direction's first and last packet times, packets, layer-3 bytes and TCP
 * flags, the ToS and ICMP type/code of the direction's first packet, the
 * outermost VLAN id, exporter 0 and source TW_FLOWREC_CAPTURE.
 *
 * Layer-3 bytes: the flow table counts wire bytes (link headers included),
 * so the import keeps its own per-direction count of the IP datagram's
 * length (the IPv4 total length, or 40 plus the IPv6 payload length) of the
 * innermost IP header, the one the record's addresses come from. A datagram
 * that arrived in fragments is reassembled first and counts as one packet of
 * its whole length (an exporter on the path would count each fragment).
 *
 * nfdump files (--nfdump): each input, a file or a directory, is read by
 * nfdump itself, started without a shell (posix_spawnp) as
 *   nfdump -6 -q -N -o 'TW_NFDUMP_FMT' -r FILE   (-R DIR)
 * with TZ=UTC0 (its times are printed in local time) and its output is
 * parsed as hostile input: every line must have exactly the fields asked
 * for, each checked for its syntax and range; a bad line is reported with
 * the input and the line number and skipped. Records are partitioned by
 * their last_ms.
 */
/* NOLINTNEXTLINE(readability-identifier-naming): the C library's feature macro */
#define _GNU_SOURCE /* pipe2 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "flows_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/capture.h"
#include "tidewatch/decode.h"
#include "tidewatch/flow.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/nfdump_text.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"

/* ==== Types ==== */

/* Flows the capture import keeps at once by default (hunt's default). */
#define IMP_DEFAULT_MAX_FLOWS 1048576u
/* Longest line of nfdump output accepted (its lines are some 300 bytes). */
#define IMP_MAX_LINE 4096u
/* Bad lines or packets described on standard error per input; the rest are counted. */
#define IMP_MAX_REPORTS 10u

static const char import_help[] =
        "usage: tidewatch flows import --archive DIR [options] CAPTURE...\n"
        "       tidewatch flows import --archive DIR --nfdump [options] NFCAPD...\n"
        "\n"
        "Add flow records to a flow archive. A CAPTURE (pcap or pcapng file, a\n"
        "directory of them, or '-' for standard input) is decoded through its tunnels\n"
        "and turned into flows; each flow ends as one record per direction that has\n"
        "packets, as a NetFlow exporter would report it. With --nfdump each input is an\n"
        "nfcapd file or a directory of them, read through nfdump (1.7 or later).\n"
        "\n"
        "options:\n"
        "      --archive DIR     the archive directory, created when missing (required)\n"
        "      --nfdump          the inputs are nfcapd files or directories\n"
        "      --nfdump-bin FILE the nfdump program (default: nfdump on PATH)\n"
        "      --interval S      partition length in seconds (default 300)\n"
        "      --max-flows N     flows kept at once from captures (default 1048576)\n"
        "      --no-fsync        do not sync files before they become visible\n"
        "  -q, --quiet           no summary on standard output\n"
        "  -h, --help            this help\n"
        "\n"
        "exit status: 0 imported, 1 imported but some nfdump lines were bad, 2 usage,\n"
        "3 an input could not be read or the archive could not be written\n";

/* What the import keeps per flow direction, in the flow's extra area. */
struct imp_dir {
    int64_t first_ns; /* first packet this way */
    int64_t last_ns;  /* last packet this way */
    uint64_t l3_bytes;
    uint16_t icmp; /* type << 8 | code of the first ICMP packet this way */
    uint8_t tos;   /* ToS / traffic class of the first packet this way */
    uint8_t seen;
};

struct imp_flow {
    struct imp_dir d[2]; /* [0] client to server, [1] server to client */
    uint16_t vlan;       /* outermost 802.1Q id of the first packet */
};

struct imp_opts {
    const char *archive;
    const char *nfdump_bin;
    uint32_t interval_s;
    uint32_t max_flows;
    bool nfdump;
    bool fsync;
    bool quiet;
};

struct imp {
    struct tw_farch_writer *w;
    struct tw_err werr;
    bool write_failed;
    /* captures */
    uint64_t packets;
    uint64_t no_ip;    /* packets without an IP layer to key a flow on */
    uint64_t held;     /* fragments held for reassembly */
    uint64_t dropped;  /* fragments the reassembler refused */
    uint64_t flows;    /* flows ended */
    uint64_t records;  /* records written */
    uint64_t cap_errs; /* capture errors */
    /* nfdump */
    uint64_t lines;
    uint64_t bad_lines;
    uint64_t repaired; /* last seen before first seen: the two swapped */
    uint64_t reports;  /* bad lines described for the current input */
};

/* ==== Helpers ==== */

static uint16_t imp_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static int imp_add(struct imp *m, const struct tw_flowrec *rec)
{
    if (m->write_failed)
        return -1;
    if (tw_farch_writer_add(m->w, rec->last_ms, rec, &m->werr) != TW_OK) {
        m->write_failed = true;
        return -1;
    }
    m->records++;
    return 0;
}

static int64_t imp_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ==== Captures ==== */

/* The flow table's end callback: one record per direction with packets. */
static void imp_on_end(struct tw_flow *f, enum tw_flow_end why, void *arg)
{
    struct imp *m = arg;
    const struct imp_flow *x = tw_flow_extra(f);

    (void)why;
    m->flows++;
    for (int dir = 0; dir < 2; dir++) {
        const struct imp_dir *d = &x->d[dir];
        uint64_t pkts = dir == 0 ? f->pkts_toserver : f->pkts_toclient;
        struct tw_flowrec rec;

        if (pkts == 0 || !d->seen)
            continue;
        memset(&rec, 0, sizeof(rec));
        rec.first_ms = imp_floor_div(d->first_ns, 1000000);
        rec.last_ms = imp_floor_div(d->last_ns, 1000000);
        rec.src = dir == 0 ? f->key.src : f->key.dst;
        rec.dst = dir == 0 ? f->key.dst : f->key.src;
        rec.packets = pkts;
        rec.bytes = d->l3_bytes;
        rec.proto = f->key.proto;
        rec.tos = d->tos;
        rec.vlan = x->vlan;
        rec.tcp_flags = dir == 0 ? f->tcp_flags_ts : f->tcp_flags_tc;
        rec.source = TW_FLOWREC_CAPTURE;
        switch (f->key.kind) {
            case TW_FLOW_KIND_PORTS:
                rec.sport = dir == 0 ? f->key.sport : f->key.dport;
                rec.dport = dir == 0 ? f->key.dport : f->key.sport;
                break;
            case TW_FLOW_KIND_ICMP_ECHO:
            case TW_FLOW_KIND_ICMP:
                rec.dport = d->icmp; /* NetFlow's convention: type << 8 | code */
                break;
            default:
                break;
        }
        if (imp_add(m, &rec) != 0)
            return;
    }
}

/* Length of the IP datagram whose header is layer `l` of packet `p`. */
static uint64_t imp_l3_len(const struct tw_packet *p, const struct tw_layer *l)
{
    const uint8_t *h = p->data + l->offset;

    if (l->u.ip.reassembled || (uint32_t)l->offset + 8 > p->caplen)
        return p->caplen > l->offset ? p->caplen - l->offset : 0;
    if (l->kind == TW_L_IPV4)
        return imp_rd16(h + 2);
    return 40u + imp_rd16(h + 4);
}

static uint8_t imp_tos(const struct tw_packet *p, const struct tw_layer *l)
{
    const uint8_t *h = p->data + l->offset;

    if ((uint32_t)l->offset + 2 > p->caplen)
        return 0;
    if (l->kind == TW_L_IPV4)
        return h[1];
    return (uint8_t)((h[0] & 0x0f) << 4 | h[1] >> 4);
}

/* Counts a decoded packet in its flow's direction. */
static void imp_packet(struct tw_flow_table *t, struct imp *m, struct tw_packet *p)
{
    const struct tw_layer *ip = &p->layers[p->inner_ip];
    struct tw_flow_lookup fl;
    struct imp_flow *x;
    struct imp_dir *d;

    if (tw_flow_table_lookup(t, p, &fl) != TW_OK) {
        m->no_ip++;
        return;
    }
    x = tw_flow_extra(fl.flow);
    if (fl.created) {
        for (int i = 0; i < p->n_layers; i++) {
            if (p->layers[i].kind == TW_L_VLAN) {
                x->vlan = p->layers[i].u.vlan.vid;
                break;
            }
        }
    }
    d = &x->d[fl.to_server ? 0 : 1];
    if (!d->seen) {
        d->seen = 1;
        d->first_ns = p->ts_ns;
        d->tos = imp_tos(p, ip);
        if (p->l4 >= 0 &&
                (p->layers[p->l4].kind == TW_L_ICMP || p->layers[p->l4].kind == TW_L_ICMPV6))
            d->icmp = (uint16_t)(p->layers[p->l4].u.icmp.type << 8 | p->layers[p->l4].u.icmp.code);
    }
    if (p->ts_ns < d->first_ns)
        d->first_ns = p->ts_ns;
    if (p->ts_ns > d->last_ns)
        d->last_ns = p->ts_ns;
    d->l3_bytes += imp_l3_len(p, ip);
}

static int imp_captures(struct imp *m, const struct imp_opts *o, char **paths, size_t n)
{
    static const char *const prog = "tidewatch flows import";
    struct tw_flow_config fc;
    struct tw_flow_table *t = NULL;
    struct tw_decoder *dec = NULL;
    struct tw_capture *cap = NULL;
    struct tw_packet pkt;
    struct tw_err err;
    int status = TW_EXIT_OK;

    tw_err_clear(&err);
    tw_flow_config_init(&fc);
    fc.max_flows = o->max_flows;
    fc.extra_size = sizeof(struct imp_flow);
    fc.on_end = imp_on_end;
    fc.on_end_arg = m;
    if (tw_flow_table_new(&fc, &t) != TW_OK || (dec = tw_decoder_new(NULL)) == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = TW_EXIT_ERROR;
        goto out;
    }
    if (tw_capture_open(&cap, (const char *const *)paths, n, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
        goto out;
    }
    /* The reader and the decoder set every field they own (see cmd_hunt.c). */
    memset(&pkt, 0, sizeof(pkt));
    while (!m->write_failed) {
        int rc = tw_capture_next(cap, &pkt, &err);

        if (rc == 0)
            break;
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            m->cap_errs++;
            status = TW_EXIT_ERROR;
            continue;
        }
        m->packets++;
        rc = tw_decode(dec, &pkt);
        if (rc == TW_DECODE_HELD) {
            m->held++;
            continue;
        }
        if (rc == TW_DECODE_DROPPED) {
            m->dropped++;
            continue;
        }
        if (pkt.inner_ip < 0) {
            m->no_ip++;
            continue;
        }
        imp_packet(t, m, &pkt);
    }
    (void)tw_flow_table_flush(t);
out:
    tw_capture_close(cap);
    tw_decoder_free(dec);
    tw_flow_table_free(t);
    return status;
}

/* ==== nfdump output ==== */

/* Copies at most 40 bytes of s into out, printable ASCII only (others become '?'). */
static void imp_printable(struct tw_str s, char out[48])
{
    size_t n = TW_MIN(s.len, (size_t)40), k = 0;

    for (size_t i = 0; i < n; i++) {
        char ch = s.ptr[i];

        if (ch < 0x20 || ch >= 0x7f)
            ch = '?';
        out[k++] = ch;
    }
    if (s.len > n) {
        out[k++] = '.';
        out[k++] = '.';
        out[k++] = '.';
    }
    out[k] = '\0';
}

static void imp_bad_line(
        struct imp *m, const char *input, uint64_t lineno, const char *what, struct tw_str value)
{
    char shown[48];

    m->bad_lines++;
    m->reports++;
    if (m->reports > IMP_MAX_REPORTS)
        return;
    imp_printable(value, shown);
    fprintf(stderr, "tidewatch flows import: %s: nfdump output line %llu: %s '%s'\n", input,
            (unsigned long long)lineno, what, shown);
    if (m->reports == IMP_MAX_REPORTS)
        fprintf(stderr, "tidewatch flows import: %s: further bad lines are only counted\n", input);
}

/* One line of nfdump output (without its newline). */
static void imp_nfdump_line(struct imp *m, const char *input, uint64_t lineno, struct tw_str line)
{
    struct tw_flowrec rec;
    unsigned bad;

    if (tw_str_trim(line).len == 0)
        return;
    m->lines++;
    if (line.len > IMP_MAX_LINE) {
        imp_bad_line(m, input, lineno, "line longer than 4096 bytes:", line);
        return;
    }
    if (tw_nfdump_parse_line(line, &rec, &bad) != 0) {
        struct tw_str rest = line, tok = line;

        if (bad == TW_NFDUMP_FIELDS) {
            imp_bad_line(m, input, lineno, "not the fields asked for:", line);
            return;
        }
        for (unsigned i = 0; i <= bad; i++) {
            if (!tw_str_split(&rest, '|', &tok))
                break;
        }
        imp_bad_line(m, input, lineno, tw_nfdump_field_name(bad), tw_str_trim(tok));
        return;
    }
    if (rec.last_ms < rec.first_ms) {
        /* nfdump 1.7 reads some exporters' IPFIX times the wrong way round. */
        int64_t t = rec.first_ms;

        m->repaired++;
        rec.first_ms = rec.last_ms;
        rec.last_ms = t;
    }
    (void)imp_add(m, &rec);
}

/* The environment for nfdump: ours, with TZ=UTC0 and LC_ALL=C. Free with tw_free. */
static char **imp_child_env(void)
{
    static char tz[] = "TZ=UTC0", lc[] = "LC_ALL=C";
    size_t n = 0, k = 0;
    char **env;

    while (environ != NULL && environ[n] != NULL)
        n++;
    env = tw_calloc(n + 3, sizeof(*env));
    if (env == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "TZ=", 3) == 0 || strncmp(environ[i], "LC_ALL=", 7) == 0)
            continue;
        env[k++] = environ[i];
    }
    env[k++] = tz;
    env[k++] = lc;
    env[k] = NULL;
    return env;
}

/*
 * Runs nfdump over one input and imports its output. Returns an exit
 * status: TW_EXIT_ERROR when nfdump could not run or failed.
 */
static int imp_nfdump(struct imp *m, const struct imp_opts *o, const char *input)
{
    static const char *const prog = "tidewatch flows import";
    char fmt[] = TW_NFDUMP_FMT;
    char opt6[] = "-6", optq[] = "-q", optn[] = "-N", opto[] = "-o", optr[] = "-r",
         opt_big_r[] = "-R";
    char *argv[10];
    char **env = NULL;
    char *buf = NULL;
    posix_spawn_file_actions_t fa;
    struct stat st;
    size_t len = 0;
    uint64_t lineno = 0;
    bool skipping = false; /* inside a line longer than IMP_MAX_LINE */
    int fds[2] = { -1, -1 }, status = TW_EXIT_OK, ws = 0, rc;
    pid_t pid;

    m->reports = 0;
    if (stat(input, &st) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, input, strerror(errno));
        return TW_EXIT_ERROR;
    }
    argv[0] = (char *)(uintptr_t)o->nfdump_bin;
    argv[1] = opt6;
    argv[2] = optq;
    argv[3] = optn;
    argv[4] = opto;
    argv[5] = fmt;
    argv[6] = S_ISDIR(st.st_mode) ? opt_big_r : optr;
    argv[7] = (char *)(uintptr_t)input;
    argv[8] = NULL;
    env = imp_child_env();
    buf = tw_malloc(IMP_MAX_LINE + 65536);
    if (env == NULL || buf == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        tw_free(env);
        tw_free(buf);
        return TW_EXIT_ERROR;
    }
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
        tw_free(env);
        tw_free(buf);
        return TW_EXIT_ERROR;
    }
    (void)posix_spawn_file_actions_init(&fa);
    (void)posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    rc = posix_spawnp(&pid, o->nfdump_bin, &fa, NULL, argv, env);
    (void)posix_spawn_file_actions_destroy(&fa);
    (void)close(fds[1]);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot run %s: %s\n", prog, o->nfdump_bin, strerror(rc));
        (void)close(fds[0]);
        tw_free(env);
        tw_free(buf);
        return TW_EXIT_ERROR;
    }
    for (;;) {
        ssize_t r = read(fds[0], buf + len, IMP_MAX_LINE + 65536 - len);
        size_t start = 0;

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(stderr, "%s: reading nfdump's output: %s\n", prog, strerror(errno));
            status = TW_EXIT_ERROR;
            break;
        }
        if (r == 0) {
            if (len > 0 && !skipping)
                imp_nfdump_line(m, input, ++lineno, tw_str_make(buf, len));
            break;
        }
        len += (size_t)r;
        for (size_t i = 0; i < len; i++) {
            if (buf[i] != '\n')
                continue;
            if (skipping)
                skipping = false; /* the end of an overlong line, already counted */
            else
                imp_nfdump_line(m, input, ++lineno, tw_str_make(buf + start, i - start));
            start = i + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (len >= IMP_MAX_LINE) {
            if (!skipping) {
                m->lines++;
                imp_bad_line(
                        m, input, ++lineno, "line longer than 4096 bytes:", tw_str_make(buf, len));
            }
            skipping = true;
            len = 0;
        }
        if (m->write_failed)
            break;
    }
    (void)close(fds[0]);
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (status == TW_EXIT_OK && !m->write_failed && (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)) {
        if (WIFEXITED(ws))
            fprintf(stderr, "%s: %s: nfdump exited with status %d\n", prog, input, WEXITSTATUS(ws));
        else
            fprintf(stderr, "%s: %s: nfdump was killed by signal %d\n", prog, input,
                    WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
        status = TW_EXIT_ERROR;
    }
    tw_free(env);
    tw_free(buf);
    return status;
}

/* ==== The command ==== */

static int imp_parse_opts(int argc, char **argv, struct imp_opts *o, bool *help)
{
    static const struct option opts[] = { { "archive", required_argument, NULL, 'a' },
        { "nfdump", no_argument, NULL, 'N' }, { "nfdump-bin", required_argument, NULL, 'B' },
        { "interval", required_argument, NULL, 'i' }, { "max-flows", required_argument, NULL, 'm' },
        { "no-fsync", no_argument, NULL, 'F' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch flows import";
    uint64_t v;
    int c;

    memset(o, 0, sizeof(*o));
    o->nfdump_bin = "nfdump";
    o->interval_s = TW_FARCH_DEFAULT_INTERVAL_S;
    o->max_flows = IMP_DEFAULT_MAX_FLOWS;
    o->fsync = true;
    *help = false;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
            case 'a':
                o->archive = optarg;
                break;
            case 'N':
                o->nfdump = true;
                break;
            case 'B':
                o->nfdump_bin = optarg;
                break;
            case 'i':
                if (tw_parse_u64(tw_str_cstr(optarg), 86400, &v) != TW_OK || v == 0)
                    return tw_cli_usage_error(prog, "bad --interval '%s' (1..86400 s)", optarg);
                o->interval_s = (uint32_t)v;
                break;
            case 'm':
                if (tw_parse_u64(tw_str_cstr(optarg), TW_FLOW_MAX_FLOWS, &v) != TW_OK || v == 0)
                    return tw_cli_usage_error(prog, "bad --max-flows '%s' (1..%u)", optarg,
                            (unsigned)TW_FLOW_MAX_FLOWS);
                o->max_flows = (uint32_t)v;
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
    if (o->archive == NULL)
        return tw_cli_usage_error(prog, "--archive DIR is required");
    if (optind >= argc)
        return tw_cli_usage_error(prog, "no input given");
    return TW_EXIT_OK;
}

int tw_flows_import(int argc, char **argv)
{
    static const char *const prog = "tidewatch flows import";
    struct tw_farch_writer_config wc;
    struct tw_farch_writer_stats ws;
    struct imp_opts o;
    struct imp m;
    struct tw_err err;
    bool help;
    int status = TW_EXIT_OK, rc;

    rc = imp_parse_opts(argc, argv, &o, &help);
    if (rc != TW_EXIT_OK)
        return rc;
    if (help) {
        fputs(import_help, stdout);
        return TW_EXIT_OK;
    }
    memset(&m, 0, sizeof(m));
    tw_err_clear(&err);
    tw_farch_writer_config_init(&wc);
    wc.interval_s = o.interval_s;
    wc.fsync = o.fsync;
    if (tw_farch_writer_open(o.archive, &wc, &m.w, &err) != TW_OK) {
        fprintf(stderr, "%s: %s: %s\n", prog, o.archive, err.msg);
        return TW_EXIT_ERROR;
    }
    if (o.nfdump) {
        for (int i = optind; i < argc && !m.write_failed; i++) {
            rc = imp_nfdump(&m, &o, argv[i]);
            if (rc != TW_EXIT_OK)
                status = rc;
        }
    } else {
        status = imp_captures(&m, &o, argv + optind, (size_t)(argc - optind));
    }
    if (m.write_failed) {
        fprintf(stderr, "%s: %s\n", prog, m.werr.msg);
        status = TW_EXIT_ERROR;
    }
    tw_err_clear(&err);
    if (tw_farch_writer_flush(m.w, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
    }
    tw_farch_writer_stats(m.w, &ws);
    if (!o.quiet) {
        if (o.nfdump)
            printf("imported %d nfdump input%s: %" PRIu64 " flows read, %" PRIu64
                   " records written, %" PRIu64 " bad lines, %" PRIu64
                   " with last seen before first seen (swapped)\n",
                    argc - optind, argc - optind == 1 ? "" : "s", m.lines - m.bad_lines, m.records,
                    m.bad_lines, m.repaired);
        else
            printf("imported %" PRIu64 " packets: %" PRIu64 " flows, %" PRIu64
                   " records written; %" PRIu64 " packets without IP, %" PRIu64
                   " fragments held, %" PRIu64 " dropped, %" PRIu64 " capture errors\n",
                    m.packets, m.flows, m.records, m.no_ip, m.held, m.dropped, m.cap_errs);
        printf("archive %s: %" PRIu64 " files, %" PRIu64 " bytes written\n", o.archive, ws.files,
                ws.bytes_written);
    }
    if (tw_farch_writer_close(m.w, false, &err) != TW_OK && status == TW_EXIT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
    }
    if (status == TW_EXIT_OK && m.bad_lines > 0)
        status = TW_EXIT_FINDINGS;
    return status;
}
