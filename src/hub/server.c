/*
 * server.c: the hub's server half (docs/internals/HUB.md, "The server half").
 *
 * The only file in tidewatch that includes microhttpd.h. It binds the listen
 * address, speaks HTTP/1.1 over TLS 1.2/1.3 (GnuTLS inside libmicrohttpd) or,
 * on loopback only, plain HTTP, and turns each complete request into one call
 * of tw_hub_handle, the protocol half, which never sees a socket.
 *
 * Threads. libmicrohttpd runs a pool of worker threads, each with its own
 * epoll set; a connection stays on one worker for its life. The workers move
 * bytes; complete requests are handed to a pool of handler threads
 * (SERVER_HANDLERS_EACH per worker, at most SERVER_MAX_HANDLERS) while their
 * connection is suspended, so a worker goes on serving its other connections
 * while a request waits for the store. Most of that wait is the access-log commit, which the store
 * shares between the requests waiting at the same time (group commit): the
 * more requests wait together, the fewer disk syncs per request. Each thread
 * that calls the store owns one store handle, opened at its first request and
 * kept in a pthread key whose destructor closes it when the thread ends.
 * The thread that called tw_hub_serve only polls *stop; at stop it lets the
 * handlers finish every request they hold (so no connection is left
 * suspended), joins them, then stops libmicrohttpd.
 *
 * One request, as libmicrohttpd delivers it:
 *   1. the URI log callback sees the raw request target ("/path?query")
 *      before libmicrohttpd splits and percent-decodes it; a struct request
 *      is allocated there, keeps the raw target (the query string is the
 *      part after the first '?') and the peer address, and becomes con_cls;
 *   2. the access handler is called once with the headers: a Content-Length
 *      above max_body is answered at once (413 from tw_hub_handle) without
 *      reading the body;
 *   3. it is called once per body chunk: chunks go into a buffer capped at
 *      max_body; past the cap they are read and dropped;
 *   4. it is called once more at the end: the connection is suspended and
 *      the request queued for a handler thread, which runs tw_hub_handle
 *      (the access-log record is committed before it returns) and resumes
 *      the connection; libmicrohttpd then calls the access handler again,
 *      and the answer is queued. When there are no handlers (none could be
 *      started, or the server is stopping) the worker answers itself;
 *   5. the completion callback frees the struct request, whatever happened.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hub_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/log.h"
#include "tidewatch/str.h"

/* ==== Limits and settings ==== */

#define SERVER_POLL_NS         (100L * 1000 * 1000) /* how often *stop is looked at */
#define SERVER_CONN_TIMEOUT_S  30u                 /* idle seconds before a connection is dropped */
#define SERVER_MAX_CONNECTIONS 1024u               /* concurrent connections, all workers */
#define SERVER_CONN_MEMORY     ((size_t)64 << 10)  /* per connection: request line and headers */
#define SERVER_MAX_THREADS     256u                /* cap on the worker pool */
#define SERVER_MAX_RESPONSE    ((size_t)256 << 20) /* cap on one response body */
#define SERVER_MAX_PEM         ((size_t)1 << 20)   /* cap on a certificate or key file */
#define SERVER_HANDLERS_EACH   8u                  /* handler threads per worker thread */
#define SERVER_MAX_HANDLERS    64u                 /* cap on the handler pool */

/*
 * GnuTLS priorities: TLS 1.3 and 1.2 only, AEAD ciphers only (AES-GCM and
 * ChaCha20-Poly1305), ephemeral ECDH only, so no suite on RFC 7540 Appendix
 * A's list (which bans every non-AEAD suite and every static-RSA or PSK key
 * exchange) can be negotiated. SECURE128 as the base keeps GnuTLS's choice of
 * groups and signature algorithms at 128-bit strength (no SHA-1 signatures).
 * The server's order wins. TLS 1.3 0-RTT would need GNUTLS_ENABLE_EARLY_DATA,
 * which libmicrohttpd passes to gnutls_init only under
 * MHD_USE_INSECURE_TLS_EARLY_DATA (never set here), and a session ticket to
 * resume from, which libmicrohttpd never issues.
 */
#define SERVER_TLS_PRIORITIES                                                                      \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"                                                \
    ":-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM"                                    \
    ":-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

#define SERVER_TAXII_TYPE "application/taxii+json;version=2.1"

/* ==== Types ==== */

/* The parsed listen address. */
struct listen_addr {
    struct sockaddr_storage ss; /* a sockaddr_in or sockaddr_in6 */
    bool v6;
    bool loopback;
    char host[INET6_ADDRSTRLEN]; /* numeric, as inet_ntop writes it */
    uint16_t port;               /* 0: the kernel picks one */
};

struct request;

/* What every callback shares; lives on tw_hub_serve's stack. */
struct server {
    struct tw_hub *hub;
    const char *store;        /* store location for tw_store_open */
    size_t max_body;          /* request bodies above this get 413 */
    pthread_key_t store_key;  /* a worker's or handler's struct tw_store * */
    atomic_bool running;      /* set once MHD_start_daemon returned */
    atomic_llong store_log_s; /* when the last "cannot open the store" line was printed */
    pthread_mutex_t msg_lock; /* guards start_msg */
    char start_msg[200];      /* libmicrohttpd's last message before running */
    /* The handler pool; jobs_lock guards the fields up to n_handlers. */
    pthread_mutex_t jobs_lock;
    pthread_cond_t jobs_cond;  /* a job was queued, or the pool is stopping */
    pthread_cond_t idle_cond;  /* in_flight fell to 0 */
    struct request *jobs_head; /* queued requests, oldest first */
    struct request **jobs_tail;
    size_t in_flight; /* requests queued or being handled */
    bool stopping;    /* no new jobs; handlers leave when the queue is empty */
    pthread_t handlers[SERVER_MAX_HANDLERS];
    unsigned n_handlers; /* started */
};

/* Where a request is between the access-handler calls. */
enum request_state {
    REQ_READING = 0, /* headers and body are arriving */
    REQ_QUEUED,      /* suspended, with the handler pool */
    REQ_ANSWERED,    /* a handler filled rs; to be sent on the next call */
};

/* One request's state between the access-handler calls (con_cls). */
struct request {
    char *raw_target;              /* the request target as sent: path and raw query */
    struct tw_buf body;            /* capped at max_body */
    bool headers_seen;             /* the first access-handler call happened */
    bool too_large;                /* body past max_body: bytes are being dropped */
    bool no_memory;                /* buffering failed for want of memory */
    char remote[INET6_ADDRSTRLEN]; /* peer address, "" when unknown */
    enum request_state state;
    struct MHD_Connection *con; /* set while queued */
    struct tw_http_req rq;      /* built by the worker (header values stay libmicrohttpd's) */
    struct tw_http_resp rs;     /* the answer; initialised when the request is complete */
    bool has_rs;                /* rs needs tw_http_resp_cleanup */
    struct request *next_job;   /* the pool's queue */
};

/* ==== Configuration helpers ==== */

static bool is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/*
 * Parses "ADDR:PORT": a numeric IPv4 address, or an IPv6 address in brackets
 * ("[::1]:8443"). Host names are refused, so what is bound is exactly what
 * the operator wrote.
 */
static int parse_listen(const char *s, struct listen_addr *la, struct tw_err *err)
{
    char host[INET6_ADDRSTRLEN];
    struct tw_str port_text;
    uint64_t port;
    size_t host_len;
    const char *colon;

    memset(la, 0, sizeof(*la));
    if (!is_set(s))
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "no listen address (ADDR:PORT)");
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':')
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                    "listen address %s: an IPv6 address is written [ADDR]:PORT", s);
        host_len = (size_t)(close - s - 1);
        if (host_len == 0 || host_len >= sizeof(host))
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "listen address %s: bad IPv6 address", s);
        memcpy(host, s + 1, host_len);
        la->v6 = true;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "listen address %s: expected ADDR:PORT", s);
        host_len = (size_t)(colon - s);
        if (memchr(s, ':', host_len) != NULL)
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                    "listen address %s: an IPv6 address is written [ADDR]:PORT", s);
        if (host_len == 0 || host_len >= sizeof(host))
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "listen address %s: bad address", s);
        memcpy(host, s, host_len);
    }
    host[host_len] = '\0';

    port_text = tw_str_cstr(colon + 1);
    if (tw_parse_u64(port_text, UINT16_MAX, &port) != TW_OK)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                "listen address %s: the port must be a number from 0 to 65535", s);
    la->port = (uint16_t)port;

    if (la->v6) {
        struct sockaddr_in6 sin6;

        memset(&sin6, 0, sizeof(sin6));
        if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1)
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                    "listen address %s: %s is not a numeric IPv6 address", s, host);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(la->port);
        la->loopback = IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr);
        memcpy(&la->ss, &sin6, sizeof(sin6));
        (void)inet_ntop(AF_INET6, &sin6.sin6_addr, la->host, sizeof(la->host));
    } else {
        struct sockaddr_in sin;

        memset(&sin, 0, sizeof(sin));
        if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                    "listen address %s: %s is not a numeric IPv4 address", s, host);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(la->port);
        la->loopback = (ntohl(sin.sin_addr.s_addr) >> 24) == 127;
        memcpy(&la->ss, &sin, sizeof(sin));
        (void)inet_ntop(AF_INET, &sin.sin_addr, la->host, sizeof(la->host));
    }
    return TW_OK;
}

/* Reads a PEM file (at most SERVER_MAX_PEM bytes) into b, NUL-terminated. */
static int read_pem(const char *path, const char *what, struct tw_buf *b, struct tw_err *err)
{
    char chunk[4096];
    FILE *f;
    size_t n;
    int rc = TW_OK;

    f = fopen(path, "rb");
    if (f == NULL)
        return TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot open the TLS %s %s: %s", what, path,
                strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = tw_buf_append(b, chunk, n);
        if (rc != TW_OK)
            break;
    }
    if (rc == TW_OK && ferror(f))
        rc = TW_EIO;
    (void)fclose(f);
    explicit_bzero(chunk, sizeof(chunk));
    if (rc == TW_ELIMIT)
        return TW_E_HERE(err, rc, TW_NOPOS, "the TLS %s %s is larger than %zu bytes", what, path,
                SERVER_MAX_PEM);
    if (rc != TW_OK)
        return TW_E_HERE(err, rc, TW_NOPOS, "cannot read the TLS %s %s", what, path);
    if (b->len == 0)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "the TLS %s %s is empty", what, path);
    return TW_OK;
}

/* Empties a buffer that held key material, overwriting it first. */
static void wipe_buf(struct tw_buf *b)
{
    if (b->ptr != NULL)
        explicit_bzero(b->ptr, b->cap);
    tw_buf_cleanup(b);
}

/* cfg.threads, or one per online CPU for 0; never above SERVER_MAX_THREADS. */
static int pick_threads(unsigned configured, unsigned *out, struct tw_err *err)
{
    long cpus;

    if (configured > SERVER_MAX_THREADS)
        return TW_E_HERE(
                err, TW_EINVAL, TW_NOPOS, "%u threads: at most %u", configured, SERVER_MAX_THREADS);
    if (configured > 0) {
        *out = configured;
        return TW_OK;
    }
    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    *out = cpus > (long)SERVER_MAX_THREADS ? SERVER_MAX_THREADS : (unsigned)cpus;
    return TW_OK;
}

/* ==== Per-thread store handles ==== */

/* The pthread key's destructor: runs in each worker as libmicrohttpd joins it. */
static void store_key_close(void *p)
{
    tw_store_close(p);
}

/*
 * The calling worker's store handle, opened on first use. NULL when the
 * store cannot be opened (logged at most once a second, server-wide); the
 * next request tries again.
 */
static struct tw_store *thread_store(struct server *srv)
{
    struct tw_store *st = pthread_getspecific(srv->store_key);
    struct tw_err err;
    long long now;

    if (st != NULL)
        return st;
    tw_err_clear(&err);
    if (tw_store_open(srv->store, false, &st, &err) == TW_OK) {
        if (pthread_setspecific(srv->store_key, st) == 0)
            return st;
        tw_store_close(st);
        (void)tw_err_set(&err, TW_ENOMEM, TW_NOPOS, "no room for a thread-specific value");
    }
    now = (long long)time(NULL);
    if (atomic_exchange(&srv->store_log_s, now) != now)
        tw_log(TW_LOG_ERROR, "hub", "cannot open the store for a worker thread: %s", err.msg);
    return NULL;
}

/* ==== Requests ==== */

static void request_free(struct request *r)
{
    if (r == NULL)
        return;
    /* Never while queued: a suspended connection does not complete. */
    assert(r->state != REQ_QUEUED);
    if (r->has_rs)
        tw_http_resp_cleanup(&r->rs);
    tw_buf_cleanup(&r->body);
    tw_free(r->raw_target);
    tw_free(r);
}

/* The peer's address in numeric form, or "" when libmicrohttpd cannot tell. */
static void format_remote(struct MHD_Connection *con, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;

    out[0] = '\0';
    ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;

        memcpy(&sin, sa, sizeof(sin));
        if (inet_ntop(AF_INET, &sin.sin_addr, out, (socklen_t)size) == NULL)
            out[0] = '\0';
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;

        memcpy(&sin6, sa, sizeof(sin6));
        if (inet_ntop(AF_INET6, &sin6.sin6_addr, out, (socklen_t)size) == NULL)
            out[0] = '\0';
    }
}

/*
 * MHD_OPTION_URI_LOG_CALLBACK: called once per request with the request
 * target exactly as the client sent it (path and query, not yet split or
 * percent-decoded). Its return value becomes the request's con_cls; NULL
 * (out of memory) makes the access handler answer 503.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    const struct server *srv = cls;
    struct request *r;

    r = tw_calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->raw_target = tw_strdup(uri != NULL ? uri : "");
    if (r->raw_target == NULL) {
        tw_free(r);
        return NULL;
    }
    tw_buf_init(&r->body, srv->max_body);
    format_remote(con, r->remote, sizeof(r->remote));
    return r;
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is over (answered, failed or timed out). */
static void on_completed(
        void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    request_free(*con_cls);
    *con_cls = NULL;
}

/* Adds a header; one that libmicrohttpd refuses (a bug upstream of here) is logged and left out. */
static void add_header(struct MHD_Response *resp, const char *name, const char *value)
{
    if (MHD_add_response_header(resp, name, value) != MHD_YES)
        tw_log(TW_LOG_ERROR, "hub", "response header %s refused by libmicrohttpd", name);
}

/* Queues a response: rs's status, media type, headers and body, plus the fixed headers. */
/* libmicrohttpd's free callback for a body taken from a tw_buf. */
static void free_body(void *p)
{
    tw_free(p);
}

/*
 * Queues rs on the connection. The body is handed over to libmicrohttpd,
 * which frees it once sent (a page is about 100 KB: copying it cost about
 * a twentieth of the page); rs->body is left empty.
 */
static enum MHD_Result send_response(struct MHD_Connection *con, struct tw_http_resp *rs)
{
    static char empty[1];
    struct MHD_Response *resp;
    enum MHD_Result ret;
    unsigned status = 500;
    size_t n = TW_MIN(rs->n_headers, (size_t)TW_HUB_MAX_HEADERS), len = 0;
    char *body = NULL;

    if (rs->status >= 100 && rs->status <= 599)
        status = (unsigned)rs->status;
    if (rs->body.len > 0)
        body = tw_buf_take(&rs->body, &len);
    if (body != NULL)
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, free_body);
    else
        resp = MHD_create_response_from_buffer(0, empty, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        tw_free(body);
        return MHD_NO;
    }
    if (rs->content_type != NULL)
        add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    for (size_t i = 0; i < n; i++)
        add_header(resp, rs->headers[i].name, rs->headers[i].value);
    add_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    add_header(resp, "X-Content-Type-Options", "nosniff");
    ret = MHD_queue_response(con, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/*
 * An answer without the protocol half: a TAXII error object for the failures
 * that happen before tw_hub_handle can run (no store, no memory). title is
 * a constant without characters that JSON would escape. An rs whose body
 * cannot even hold that stays a bodiless 500 of tw_http_resp_init.
 */
static void fill_error(struct tw_http_resp *rs, int status, const char *title)
{
    tw_buf_reset(&rs->body);
    rs->n_headers = 0;
    if (tw_buf_printf(&rs->body, "{\"title\":\"%s\",\"http_status\":\"%d\"}", title, status) ==
            TW_OK) {
        rs->status = status;
        rs->content_type = SERVER_TAXII_TYPE;
    }
}

static enum MHD_Result send_error(struct MHD_Connection *con, int status, const char *title)
{
    struct tw_http_resp rs;
    enum MHD_Result ret;

    tw_http_resp_init(&rs, 512);
    fill_error(&rs, status, title);
    ret = send_response(con, &rs);
    tw_http_resp_cleanup(&rs);
    return ret;
}

/*
 * Fills r->rq from the request; the header values point into libmicrohttpd's
 * memory for the connection, which stays put until the request completes.
 * Called on the connection's worker: libmicrohttpd's lookups are not meant
 * for other threads.
 */
static void build_req(
        struct MHD_Connection *con, const char *url, const char *method, struct request *r)
{
    struct tw_http_req *rq = &r->rq;
    const char *q = strchr(r->raw_target, '?');

    memset(rq, 0, sizeof(*rq));
    rq->method = method;
    rq->path = url;
    rq->query = q != NULL ? q + 1 : "";
    rq->accept = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    rq->content_type =
            MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    rq->authorization =
            MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    rq->body = r->body.ptr != NULL ? r->body.ptr : "";
    rq->body_len = r->body.len;
    rq->remote = r->remote;
    rq->body_too_large = r->too_large;
}

/*
 * Runs the protocol half on r->rq with the calling thread's store and leaves
 * the answer in r->rs. Touches no libmicrohttpd object, so any thread may
 * run it. tw_hub_handle returns only after the request's access-log record is
 * committed (or with a 503 when it could not be).
 */
static void handle(struct server *srv, struct request *r)
{
    struct tw_store *st;

    tw_http_resp_init(&r->rs, SERVER_MAX_RESPONSE);
    r->has_rs = true;
    if (r->no_memory) {
        fill_error(&r->rs, 503, "The server is out of memory");
        return;
    }
    st = thread_store(srv);
    if (st == NULL) {
        fill_error(&r->rs, 503, "The store is unavailable");
        return;
    }
    tw_hub_handle(srv->hub, st, &r->rq, &r->rs);
}

/* Queues r->rs on the connection and frees it. */
static enum MHD_Result send_answer(struct MHD_Connection *con, struct request *r)
{
    enum MHD_Result ret = send_response(con, &r->rs);

    tw_http_resp_cleanup(&r->rs);
    r->has_rs = false;
    return ret;
}

/* Answers on the calling worker: the handler pool is not there or is stopping. */
static enum MHD_Result answer(struct server *srv, struct MHD_Connection *con, const char *url,
        const char *method, struct request *r)
{
    build_req(con, url, method, r);
    handle(srv, r);
    return send_answer(con, r);
}

/* ==== The handler pool ==== */

/*
 * Hands a complete request to the pool: suspends its connection and queues
 * it. False (nothing done) when the pool has no threads or is stopping; the
 * caller then answers itself. The job is counted in in_flight before the
 * connection is suspended, so tw_hub_serve cannot stop libmicrohttpd while
 * this connection is suspended.
 */
static bool dispatch(struct server *srv, struct MHD_Connection *con, const char *url,
        const char *method, struct request *r)
{
    (void)pthread_mutex_lock(&srv->jobs_lock);
    if (srv->stopping || srv->n_handlers == 0) {
        (void)pthread_mutex_unlock(&srv->jobs_lock);
        return false;
    }
    srv->in_flight++;
    (void)pthread_mutex_unlock(&srv->jobs_lock);

    build_req(con, url, method, r);
    r->con = con;
    r->state = REQ_QUEUED;
    r->next_job = NULL;
    MHD_suspend_connection(con);

    (void)pthread_mutex_lock(&srv->jobs_lock);
    *srv->jobs_tail = r;
    srv->jobs_tail = &r->next_job;
    (void)pthread_cond_signal(&srv->jobs_cond);
    (void)pthread_mutex_unlock(&srv->jobs_lock);
    return true;
}

/*
 * A handler thread: takes queued requests, answers each into its rs and
 * resumes its connection; libmicrohttpd then calls the access handler on the
 * connection's worker, which sends the answer. The request may complete and
 * be freed as soon as it is resumed, so it is not touched afterwards.
 */
static void *handler_main(void *arg)
{
    struct server *srv = arg;

    for (;;) {
        struct request *r;
        struct MHD_Connection *con;

        (void)pthread_mutex_lock(&srv->jobs_lock);
        /* At stop, a job counted by dispatch may still be on its way to the queue. */
        while (srv->jobs_head == NULL && !(srv->stopping && srv->in_flight == 0))
            (void)pthread_cond_wait(&srv->jobs_cond, &srv->jobs_lock);
        r = srv->jobs_head;
        if (r == NULL) { /* stopping, and nothing left */
            (void)pthread_mutex_unlock(&srv->jobs_lock);
            break;
        }
        srv->jobs_head = r->next_job;
        if (srv->jobs_head == NULL)
            srv->jobs_tail = &srv->jobs_head;
        (void)pthread_mutex_unlock(&srv->jobs_lock);

        handle(srv, r);
        con = r->con;
        r->state = REQ_ANSWERED;
        MHD_resume_connection(con);

        (void)pthread_mutex_lock(&srv->jobs_lock);
        if (--srv->in_flight == 0 && srv->stopping) {
            (void)pthread_cond_broadcast(&srv->idle_cond);
            (void)pthread_cond_broadcast(&srv->jobs_cond); /* the others may leave now */
        }
        (void)pthread_mutex_unlock(&srv->jobs_lock);
    }
    return NULL;
}

/* Starts up to n handler threads; the pool works with however many started (0: none). */
static void pool_start(struct server *srv, unsigned n)
{
    srv->jobs_tail = &srv->jobs_head;
    for (unsigned i = 0; i < n && i < SERVER_MAX_HANDLERS; i++) {
        if (pthread_create(&srv->handlers[i], NULL, handler_main, srv) != 0) {
            tw_log(TW_LOG_WARN, "hub", "started %u of %u handler threads", i, n);
            break;
        }
        (void)pthread_mutex_lock(&srv->jobs_lock);
        srv->n_handlers = i + 1;
        (void)pthread_mutex_unlock(&srv->jobs_lock);
    }
}

/*
 * Waits until every request given to the pool is answered and its connection
 * resumed, then joins the handlers (which close their store handles). From
 * the moment it starts, workers answer new requests themselves. Safe to call
 * again: the second call finds no handlers.
 */
static void pool_stop(struct server *srv)
{
    unsigned n;

    (void)pthread_mutex_lock(&srv->jobs_lock);
    srv->stopping = true;
    (void)pthread_cond_broadcast(&srv->jobs_cond);
    while (srv->in_flight > 0)
        (void)pthread_cond_wait(&srv->idle_cond, &srv->jobs_lock);
    n = srv->n_handlers;
    srv->n_handlers = 0;
    (void)pthread_mutex_unlock(&srv->jobs_lock);
    for (unsigned i = 0; i < n; i++)
        (void)pthread_join(srv->handlers[i], NULL);
}

/* True when the request announces a body larger than max. */
static bool content_length_over(struct MHD_Connection *con, size_t max)
{
    const char *v;
    uint64_t n;

    v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (v == NULL)
        return false;
    /* libmicrohttpd has already refused a Content-Length that is not a number. */
    if (tw_parse_u64(tw_str_cstr(v), UINT64_MAX, &n) != TW_OK)
        return false;
    return n > (uint64_t)max;
}

/* The access handler: called for the headers, each body chunk, and the end. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
        const char *method, const char *version, const char *upload_data, size_t *upload_data_size,
        void **con_cls)
{
    struct server *srv = cls;
    struct request *r = *con_cls;

    (void)version;
    if (r == NULL) /* the URI log callback ran out of memory */
        return send_error(con, 503, "The server is out of memory");

    if (!r->headers_seen) {
        r->headers_seen = true;
        if (content_length_over(con, srv->max_body)) {
            /* Answered before the body is read; libmicrohttpd then closes. */
            r->too_large = true;
            return answer(srv, con, url, method, r);
        }
        return MHD_YES;
    }

    if (r->state == REQ_ANSWERED) /* called again after a handler resumed the connection */
        return send_answer(con, r);
    assert(r->state == REQ_READING);
    if (*upload_data_size > 0) {
        if (!r->too_large && !r->no_memory) {
            int rc = tw_buf_append(&r->body, upload_data, *upload_data_size);

            if (rc == TW_ELIMIT)
                r->too_large = true;
            else if (rc != TW_OK)
                r->no_memory = true;
            if (rc != TW_OK)
                tw_buf_cleanup(&r->body); /* drop what came so far; the rest is read and dropped */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (dispatch(srv, con, url, method, r))
        return MHD_YES;
    return answer(srv, con, url, method, r);
}

/*
 * MHD_OPTION_EXTERNAL_LOGGER. Until the daemon runs, the last message is kept
 * for the error tw_hub_serve returns (a failed bind says why there); after
 * that, messages (mostly failed TLS handshakes and dropped connections) are
 * info-level log lines.
 */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) TW_PRINTF(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct server *srv = cls;
    char msg[sizeof(srv->start_msg)];
    size_t len;

    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        return;
    len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '.'))
        msg[--len] = '\0';
    if (atomic_load(&srv->running)) {
        tw_log(TW_LOG_INFO, "hub", "libmicrohttpd: %s", msg);
        return;
    }
    if (pthread_mutex_lock(&srv->msg_lock) == 0) {
        memcpy(srv->start_msg, msg, len + 1);
        (void)pthread_mutex_unlock(&srv->msg_lock);
    }
}

/* ==== Public API ==== */

/*
 * Binds cfg.listen, prints "listening on ADDR:PORT" on stderr, serves until
 * *stop is non-zero, then stops the daemon (waiting for the workers, which
 * close their store handles) and returns TW_OK. Refuses with TW_EINVAL a bad
 * listen address, a certificate without key or the reverse, and plain HTTP
 * on an address outside 127.0.0.0/8 and ::1; TW_EIO when a PEM file cannot
 * be read or the daemon cannot start (err says why: a taken port, a bad key).
 * SIGPIPE is ignored while serving and restored on return.
 */
/* NOLINTNEXTLINE(readability-non-const-parameter): the signature is hub.h's */
int tw_hub_serve(struct tw_hub *hub, volatile sig_atomic_t *stop, struct tw_err *err)
{
    const struct tw_hub_config *cfg = &hub->cfg;
    struct MHD_OptionItem opts[8];
    struct listen_addr la;
    struct server srv;
    struct tw_buf cert, key;
    struct sigaction ign, old_pipe;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    unsigned flags, threads = 1;
    size_t n_opts = 0;
    bool tls;
    int rc;

    tw_err_clear(err);
    rc = parse_listen(cfg->listen, &la, err);
    if (rc != TW_OK)
        return rc;
    if (is_set(cfg->tls_cert) != is_set(cfg->tls_key))
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                "a TLS certificate needs its key and a key its certificate: give both or neither");
    tls = is_set(cfg->tls_cert);
    if (!tls && !la.loopback)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                "refusing plain HTTP on %s, which is not a loopback address: API keys would cross "
                "the network in the clear; give a TLS certificate and key",
                la.host);
    rc = pick_threads(cfg->threads, &threads, err);
    if (rc != TW_OK)
        return rc;
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "this libmicrohttpd was built without TLS");

    tw_buf_init(&cert, SERVER_MAX_PEM);
    tw_buf_init(&key, SERVER_MAX_PEM);
    if (tls) {
        rc = read_pem(cfg->tls_cert, "certificate", &cert, err);
        if (rc == TW_OK)
            rc = read_pem(cfg->tls_key, "key", &key, err);
        if (rc != TW_OK)
            goto out_pem;
    }

    memset(&srv, 0, sizeof(srv));
    srv.hub = hub;
    srv.store = cfg->store;
    srv.max_body = cfg->max_body > 0 ? cfg->max_body : TW_HUB_DEFAULT_MAX_BODY;
    atomic_init(&srv.running, false);
    atomic_init(&srv.store_log_s, 0);
    if (pthread_mutex_init(&srv.msg_lock, NULL) != 0) {
        rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "cannot create a mutex");
        goto out_pem;
    }
    if (pthread_key_create(&srv.store_key, store_key_close) != 0) {
        rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "cannot create a thread-specific key");
        goto out_mutex;
    }
    if (pthread_mutex_init(&srv.jobs_lock, NULL) != 0) {
        rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "cannot create a mutex");
        goto out_key;
    }
    if (pthread_cond_init(&srv.jobs_cond, NULL) != 0) {
        rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "cannot create a condition variable");
        goto out_jobs_lock;
    }
    if (pthread_cond_init(&srv.idle_cond, NULL) != 0) {
        rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "cannot create a condition variable");
        goto out_jobs_cond;
    }
    pool_start(&srv, TW_MIN(threads * SERVER_HANDLERS_EACH, SERVER_MAX_HANDLERS));

    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
        flags |= MHD_USE_EPOLL;
    if (la.v6)
        flags |= MHD_USE_IPv6;
    if (threads > 1)
        opts[n_opts++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, threads, NULL };
    if (tls) {
        flags |= MHD_USE_TLS;
        opts[n_opts++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, cert.ptr };
        opts[n_opts++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, key.ptr };
        opts[n_opts++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
            (void *)(uintptr_t)SERVER_TLS_PRIORITIES };
    }
    opts[n_opts] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    assert(n_opts < TW_ARRAY_LEN(opts));

    /* libmicrohttpd's sockets already avoid SIGPIPE; this covers every other write. */
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    (void)sigemptyset(&ign.sa_mask);
    (void)sigaction(SIGPIPE, &ign, &old_pipe);

    d = MHD_start_daemon(flags, la.port, NULL, NULL, on_request, &srv, MHD_OPTION_EXTERNAL_LOGGER,
            on_mhd_log, &srv, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&la.ss,
            MHD_OPTION_URI_LOG_CALLBACK, on_uri, &srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
            &srv, MHD_OPTION_CONNECTION_TIMEOUT, SERVER_CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
            SERVER_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, SERVER_CONN_MEMORY,
            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (d == NULL) {
        rc = TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot serve on %s%s%s:%u: %s%s", la.v6 ? "[" : "",
                la.host, la.v6 ? "]" : "", (unsigned)la.port,
                srv.start_msg[0] != '\0' ? srv.start_msg : "libmicrohttpd refused to start",
                tls ? " (are the certificate and key PEM files of one key pair?)" : "");
        goto out_signal;
    }
    atomic_store(&srv.running, true);
    /* The key's bytes now live in GnuTLS's credentials. */
    wipe_buf(&key);

    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (!tls)
        tw_log(TW_LOG_WARN, "hub",
                "serving plain HTTP on loopback %s: requests and API keys are not encrypted; "
                "give a TLS certificate and key for anything but local use",
                la.host);
    atomic_store(&hub->port, info != NULL ? (unsigned)info->port : (unsigned)la.port);
    (void)fprintf(stderr, "listening on %s%s%s:%u\n", la.v6 ? "[" : "", la.host, la.v6 ? "]" : "",
            atomic_load(&hub->port));
    (void)fflush(stderr);

    while (!*stop) {
        struct timespec ts = { 0, SERVER_POLL_NS };

        (void)nanosleep(&ts, NULL); /* a signal cuts it short; *stop is read again */
    }
    /* No connection may be suspended when libmicrohttpd stops: drain the pool first. */
    pool_stop(&srv);
    MHD_stop_daemon(d);
    rc = TW_OK;

out_signal:
    (void)sigaction(SIGPIPE, &old_pipe, NULL);
    pool_stop(&srv); /* a no-op when it ran above */
    (void)pthread_cond_destroy(&srv.idle_cond);
out_jobs_cond:
    (void)pthread_cond_destroy(&srv.jobs_cond);
out_jobs_lock:
    (void)pthread_mutex_destroy(&srv.jobs_lock);
out_key:
    (void)pthread_key_delete(srv.store_key);
out_mutex:
    (void)pthread_mutex_destroy(&srv.msg_lock);
out_pem:
    wipe_buf(&key);
    tw_buf_cleanup(&cert);
    return rc;
}
