/*
 * cli_io.c: reading whole inputs for the commands (files or standard input,
 * bounded) and writing outputs to a file or standard output.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

int tw_cli_slurp(const char *path, size_t max, struct tw_buf *out, struct tw_err *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = TW_OK;

    tw_buf_init(out, max);
    if (f == NULL)
        return tw_err_set(err, TW_EIO, TW_NOPOS, "%s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = tw_buf_append(out, chunk, n);
        if (rc != TW_OK) {
            (void)tw_err_set(
                    err, rc, out->len, "%s: %s (limit %zu bytes)", path, tw_strerror(rc), max);
            break;
        }
    }
    if (rc == TW_OK && ferror(f))
        rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: read error", path);
    if (!is_stdin)
        (void)fclose(f);
    if (rc == TW_OK && out->ptr == NULL)
        rc = tw_buf_append(out, "", 0);
    if (rc != TW_OK)
        tw_buf_cleanup(out);
    return rc;
}

int tw_cli_write(const char *path, const char *data, size_t len, struct tw_err *err)
{
    bool is_stdout = path == NULL || strcmp(path, "-") == 0;
    FILE *f = is_stdout ? stdout : fopen(path, "wb");
    int rc = TW_OK;

    if (f == NULL)
        return tw_err_set(err, TW_EIO, TW_NOPOS, "%s: %s", path, strerror(errno));
    if (len > 0 && fwrite(data, 1, len, f) != len)
        rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: write error", is_stdout ? "stdout" : path);
    if (is_stdout) {
        if (fflush(f) != 0)
            rc = tw_err_set(err, TW_EIO, TW_NOPOS, "stdout: write error");
    } else if (fclose(f) != 0 && rc == TW_OK) {
        rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: %s", path, strerror(errno));
    }
    return rc;
}

int tw_cli_write_atomic(const char *path, const char *data, size_t len, struct tw_err *err)
{
    struct tw_buf tmp;
    int fd, rc = TW_OK;
    size_t done = 0;

    if (path == NULL || strcmp(path, "-") == 0)
        return tw_cli_write(path, data, len, err);
    tw_buf_init(&tmp, 8192);
    if (tw_buf_printf(&tmp, "%s.tmp-XXXXXX", path) != TW_OK) {
        tw_buf_cleanup(&tmp);
        return tw_err_set(err, TW_ELIMIT, TW_NOPOS, "output path too long");
    }
    fd = mkstemp(tmp.ptr);
    if (fd < 0) {
        rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: cannot create: %s", tmp.ptr, strerror(errno));
        tw_buf_cleanup(&tmp);
        return rc;
    }
    while (done < len && rc == TW_OK) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: write error: %s", path, strerror(errno));
        else
            done += (size_t)w;
    }
    if (rc == TW_OK && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
        rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == TW_OK)
        rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: %s", path, strerror(errno));
    if (rc == TW_OK && rename(tmp.ptr, path) != 0)
        rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: %s", path, strerror(errno));
    if (rc != TW_OK)
        (void)unlink(tmp.ptr);
    tw_buf_cleanup(&tmp);
    return rc;
}

/* Reads the key from a file (first line) or the TIDEWATCH_KEY variable. */
int tw_cli_read_key(const char *prog, const char *file, char *out, size_t size)
{
    const char *env = getenv("TIDEWATCH_KEY");

    if (file != NULL) {
        FILE *f = fopen(file, "r");
        if (f == NULL || fgets(out, (int)size, f) == NULL) {
            if (f != NULL)
                (void)fclose(f);
            fprintf(stderr, "%s: cannot read the key from %s\n", prog, file);
            return TW_EXIT_ERROR;
        }
        (void)fclose(f);
        out[strcspn(out, "\r\n")] = '\0';
        return TW_EXIT_OK;
    }
    if (env == NULL || *env == '\0') {
        fprintf(stderr, "%s: no key: --key-file FILE or TIDEWATCH_KEY\n", prog);
        return TW_EXIT_USAGE;
    }
    (void)snprintf(out, size, "%s", env);
    return TW_EXIT_OK;
}

int tw_cli_parse_sockaddr(
        const char *s, bool port0, struct sockaddr_storage *ss, socklen_t *len, const char **why)
{
    char host[INET6_ADDRSTRLEN];
    const char *colon;
    size_t host_len;
    uint64_t port;
    bool v6 = false;

    if (s == NULL || s[0] == '\0') {
        *why = "no address";
        return -1;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            *why = "an IPv6 address is written [ADDR]:PORT";
            return -1;
        }
        host_len = (size_t)(close - s - 1);
        if (host_len == 0 || host_len >= sizeof(host)) {
            *why = "bad IPv6 address";
            return -1;
        }
        memcpy(host, s + 1, host_len);
        colon = close + 1;
        v6 = true;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(host) ||
                memchr(s, ':', (size_t)(colon - s)) != NULL) {
            *why = "expected ADDR:PORT ([ADDR]:PORT for IPv6)";
            return -1;
        }
        host_len = (size_t)(colon - s);
        memcpy(host, s, host_len);
    }
    host[host_len] = '\0';
    if (tw_parse_u64(tw_str_cstr(colon + 1), UINT16_MAX, &port) != TW_OK || (!port0 && port == 0)) {
        *why = port0 ? "the port must be a number from 0 to 65535"
                     : "the port must be a number from 1 to 65535";
        return -1;
    }
    memset(ss, 0, sizeof(*ss));
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
            *why = "not a numeric IPv6 address";
            return -1;
        }
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
            *why = "not a numeric IPv4 address";
            return -1;
        }
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        *len = sizeof(*a);
    }
    return 0;
}
