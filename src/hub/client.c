/*
 * client.c: the TAXII 2.1 client (taxii_client.h), the only file that
 * includes curl.h. One easy handle per request; credentials as a Bearer
 * header or HTTP Basic, never across a redirect (none is followed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <strings.h>

#include "tidewatch/alloc.h"
#include "tidewatch/taxii_client.h"
#include "tidewatch/time.h"

#define MEDIA "application/taxii+json;version=2.1"

/* One response: body and the two TAXII date headers. */
struct reply {
    struct tw_buf body;
    char first[TW_TIME_STRLEN];
    char last[TW_TIME_STRLEN];
    long status;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;

    return tw_buf_append(&r->body, p, size * n) == TW_OK ? size * n : 0;
}

/* Copies the value of header line p[0..len) into out when its name is `name` (with ':'). */
static void header_value(const char *p, size_t len, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name), i = nl, j = 0;

    if (len <= nl || strncasecmp(p, name, nl) != 0)
        return;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    while (i < len && p[i] != '\r' && p[i] != '\n' && j + 1 < size)
        out[j++] = p[i++];
    out[j] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t len = size * n;

    header_value(p, len, "x-taxii-date-added-first:", r->first, sizeof(r->first));
    header_value(p, len, "x-taxii-date-added-last:", r->last, sizeof(r->last));
    return len;
}

static int request(const struct tw_taxii_client *c, const char *url, const char *body,
        size_t body_len, struct reply *r, struct tw_err *err)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char auth[320];
    CURLcode cc;
    int rc = TW_OK;

    memset(r->first, 0, sizeof(r->first));
    memset(r->last, 0, sizeof(r->last));
    r->status = 0;
    tw_buf_reset(&r->body);
    if (h == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "cannot start libcurl");
    (void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->key ? c->key : "");
    hdrs = curl_slist_append(hdrs, "Accept: " MEDIA);
    if (hdrs != NULL && c->key != NULL && c->user == NULL)
        hdrs = curl_slist_append(hdrs, auth);
    if (hdrs != NULL && body != NULL)
        hdrs = curl_slist_append(hdrs, "Content-Type: " MEDIA);
    memset(auth, 0, sizeof(auth));
    if (hdrs == NULL) {
        curl_easy_cleanup(h);
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    (void)curl_easy_setopt(h, CURLOPT_URL, url);
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(h, CURLOPT_USERAGENT, "tidewatch/0.1");
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    (void)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    (void)curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    (void)curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s > 0 ? c->timeout_s : 60L);
    (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    (void)curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->ca_file != NULL)
        (void)curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->user != NULL) {
        /* HTTP Basic, sent with the first request (TAXII 1.6.9: clients MUST support it). */
        (void)curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        (void)curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        (void)curl_easy_setopt(h, CURLOPT_PASSWORD, c->password != NULL ? c->password : "");
    }
    if (body != NULL) {
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = tw_err_set(err, TW_EIO, TW_NOPOS, "%s: %s", url, curl_easy_strerror(cc));
    } else {
        (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        if (r->status < 200 || r->status > 299) {
            json_error_t je;
            json_t *e = json_loadb(r->body.ptr ? r->body.ptr : "", r->body.len, 0, &je);
            const char *title = json_string_value(json_object_get(e, "title"));
            const char *desc = json_string_value(json_object_get(e, "description"));
            rc = tw_err_set(err, TW_EINVAL, TW_NOPOS, "%s: HTTP %ld%s%s%s%s", url, r->status,
                    title ? ": " : "", title ? title : "", desc ? ": " : "", desc ? desc : "");
            json_decref(e);
        }
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}

/* The collection URL with a trailing slash, then `suffix`. */
static int url_of(const struct tw_taxii_client *c, const char *suffix, struct tw_buf *out)
{
    size_t n = strlen(c->collection_url);

    tw_buf_reset(out);
    if (tw_buf_puts(out, c->collection_url) != TW_OK ||
            (n > 0 && c->collection_url[n - 1] != '/' && tw_buf_putc(out, '/') != TW_OK) ||
            tw_buf_puts(out, suffix) != TW_OK)
        return TW_ENOMEM;
    return TW_OK;
}

int tw_taxii_pull(const struct tw_taxii_client *c, const char *added_after, tw_taxii_page_fn *fn,
        void *arg, char *last_added, size_t *n_objects, struct tw_err *err)
{
    struct reply r;
    struct tw_buf url;
    char after[TW_TIME_STRLEN] = "", next[128] = "";
    size_t page = c->page ? c->page : 1000;
    int rc = TW_OK;

    tw_buf_init(&r.body, c->max_response ? c->max_response : (size_t)256 << 20);
    tw_buf_init(&url, 16384);
    if (n_objects != NULL)
        *n_objects = 0;
    if (last_added != NULL)
        last_added[0] = '\0';
    if (added_after != NULL)
        (void)snprintf(after, sizeof(after), "%s", added_after);
    for (;;) {
        json_error_t je;
        json_t *env;
        const json_t *objs;
        bool more;
        char q[256];

        if (next[0] != '\0')
            (void)snprintf(q, sizeof(q), "objects/?limit=%zu&next=%s", page, next);
        else if (after[0] != '\0')
            (void)snprintf(q, sizeof(q), "objects/?limit=%zu&added_after=%s", page, after);
        else
            (void)snprintf(q, sizeof(q), "objects/?limit=%zu", page);
        if ((rc = url_of(c, q, &url)) != TW_OK)
            break;
        if ((rc = request(c, url.ptr, NULL, 0, &r, err)) != TW_OK)
            break;
        env = json_loadb(r.body.ptr ? r.body.ptr : "", r.body.len, 0, &je);
        if (!json_is_object(env)) {
            json_decref(env);
            rc = tw_err_set(
                    err, TW_EINVAL, TW_NOPOS, "%s: the answer is not a TAXII envelope", url.ptr);
            break;
        }
        objs = json_object_get(env, "objects");
        if (json_array_size(objs) > 0) {
            if (fn != NULL && fn(objs, arg) != 0) {
                json_decref(env);
                break;
            }
            if (n_objects != NULL)
                *n_objects += json_array_size(objs);
            if (last_added != NULL && r.last[0] != '\0')
                (void)snprintf(last_added, TW_TIME_STRLEN, "%s", r.last);
        }
        more = json_is_true(json_object_get(env, "more"));
        next[0] = '\0';
        if (json_is_string(json_object_get(env, "next")) &&
                json_string_length(json_object_get(env, "next")) < sizeof(next))
            (void)snprintf(
                    next, sizeof(next), "%s", json_string_value(json_object_get(env, "next")));
        json_decref(env);
        if (!more)
            break;
        if (next[0] == '\0') {
            /* TAXII 3.5: without `next`, page on by the last date_added. */
            if (r.last[0] == '\0' || strcmp(r.last, after) == 0) {
                rc = tw_err_set(err, TW_EINVAL, TW_NOPOS,
                        "%s: the server says more but gives no way to page on", url.ptr);
                break;
            }
            (void)snprintf(after, sizeof(after), "%s", r.last);
        }
    }
    tw_buf_cleanup(&r.body);
    tw_buf_cleanup(&url);
    return rc;
}

int tw_taxii_push(const struct tw_taxii_client *c, const char *envelope, size_t len,
        json_t **status, struct tw_err *err)
{
    struct reply r;
    struct tw_buf url;
    json_error_t je;
    int rc;

    *status = NULL;
    tw_buf_init(&r.body, c->max_response ? c->max_response : (size_t)256 << 20);
    tw_buf_init(&url, 16384);
    rc = url_of(c, "objects/", &url);
    if (rc == TW_OK)
        rc = request(c, url.ptr, envelope, len, &r, err);
    if (rc == TW_OK) {
        *status = json_loadb(r.body.ptr ? r.body.ptr : "", r.body.len, 0, &je);
        if (!json_is_object(*status)) {
            json_decref(*status);
            *status = NULL;
            rc = tw_err_set(
                    err, TW_EINVAL, TW_NOPOS, "%s: the answer is not a status resource", url.ptr);
        }
    }
    tw_buf_cleanup(&r.body);
    tw_buf_cleanup(&url);
    return rc;
}

/* ==== Any TAXII URL ==== */

int tw_taxii_get(const struct tw_taxii_client *c, const char *url, struct tw_taxii_reply *out,
        struct tw_err *err)
{
    struct reply r;
    json_error_t je;
    int rc;

    memset(out, 0, sizeof(*out));
    tw_buf_init(&r.body, c->max_response ? c->max_response : (size_t)256 << 20);
    rc = request(c, url, NULL, 0, &r, err);
    out->status = r.status;
    memcpy(out->date_added_first, r.first, sizeof(out->date_added_first));
    memcpy(out->date_added_last, r.last, sizeof(out->date_added_last));
    if (r.status != 0 && r.body.len > 0) {
        out->json = json_loadb(r.body.ptr, r.body.len, 0, &je);
        if (!json_is_object(out->json)) {
            json_decref(out->json);
            out->json = NULL;
        }
    }
    if (rc == TW_OK && out->json == NULL)
        rc = tw_err_set(
                err, TW_EINVAL, TW_NOPOS, "%s: HTTP %ld but the answer is not JSON", url, r.status);
    tw_buf_cleanup(&r.body);
    return rc;
}

void tw_taxii_reply_cleanup(struct tw_taxii_reply *out)
{
    if (out == NULL)
        return;
    json_decref(out->json);
    out->json = NULL;
}

/* Scheme, host and port of a parsed URL (default ports filled in); false on failure. */
static bool origin_of(CURLU *u, char **scheme, char **host, char **port)
{
    *scheme = *host = *port = NULL;
    return curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
}

int tw_taxii_url_resolve(const char *base, const char *ref, struct tw_buf *out, bool *same_origin,
        struct tw_err *err)
{
    CURLU *b = curl_url(), *u = curl_url();
    char *bs = NULL, *bh = NULL, *bp = NULL, *us = NULL, *uh = NULL, *up = NULL, *text = NULL;
    int rc = TW_OK;

    if (same_origin != NULL)
        *same_origin = false;
    if (b == NULL || u == NULL) {
        rc = tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    } else if (curl_url_set(b, CURLUPART_URL, base, 0) != CURLUE_OK ||
               curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK) {
        rc = tw_err_set(err, TW_EINVAL, TW_NOPOS, "'%s' is not a URL", base);
    } else if (curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
               curl_url_get(u, CURLUPART_URL, &text, 0) != CURLUE_OK) {
        rc = tw_err_set(err, TW_EINVAL, TW_NOPOS, "'%s' is not a URL relative to %s", ref, base);
    } else if (!origin_of(b, &bs, &bh, &bp) || !origin_of(u, &us, &uh, &up) ||
               (strcasecmp(us, "http") != 0 && strcasecmp(us, "https") != 0)) {
        rc = tw_err_set(err, TW_EINVAL, TW_NOPOS, "'%s' is not an http or https URL", text);
    } else {
        if (same_origin != NULL)
            *same_origin =
                    strcasecmp(bs, us) == 0 && strcasecmp(bh, uh) == 0 && strcmp(bp, up) == 0;
        tw_buf_reset(out);
        rc = tw_buf_puts(out, text);
        if (rc != TW_OK)
            rc = tw_err_set(err, rc, TW_NOPOS, "URL too long");
    }
    curl_free(bs);
    curl_free(bh);
    curl_free(bp);
    curl_free(us);
    curl_free(uh);
    curl_free(up);
    curl_free(text);
    curl_url_cleanup(b);
    curl_url_cleanup(u);
    return rc;
}
