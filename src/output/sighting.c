/*
 * sighting.c: the per-indicator tally of a hunt and its STIX 2.1 sightings
 * (see include/tidewatch/sighting.h).
 */
#include "tidewatch/sighting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"
#include "tidewatch/time.h"

struct tally {
    uint64_t count;
    int64_t first_ns, last_ns;
};

struct tw_sightings {
    const struct tw_index *idx;
    struct tally *t; /* one per indicator of idx */
    size_t n;
    size_t n_sighted;
};

/* Namespace of the ids this module derives (UUIDv5); never change it. */
static const uint8_t sighting_ns[16] = { 0x3c, 0x1e, 0x7a, 0x52, 0x9b, 0x04, 0x4f, 0x6d, 0x8e, 0x21,
    0x5a, 0x97, 0xc3, 0x40, 0xde, 0x18 };

struct tw_sightings *tw_sightings_new(const struct tw_index *idx)
{
    struct tw_sightings *s = tw_calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->idx = idx;
    s->n = tw_index_count(idx);
    s->t = tw_calloc(s->n ? s->n : 1, sizeof(*s->t));
    if (s->t == NULL) {
        tw_free(s);
        return NULL;
    }
    return s;
}

void tw_sightings_free(struct tw_sightings *s)
{
    if (s == NULL)
        return;
    tw_free(s->t);
    tw_free(s);
}

void tw_sightings_add(struct tw_sightings *s, uint32_t n, int64_t ts_ns)
{
    struct tally *t;

    if (n >= s->n)
        return;
    t = &s->t[n];
    if (t->count == 0) {
        t->first_ns = t->last_ns = ts_ns;
        s->n_sighted++;
    } else {
        if (ts_ns < t->first_ns)
            t->first_ns = ts_ns;
        if (ts_ns > t->last_ns)
            t->last_ns = ts_ns;
    }
    t->count++;
}

size_t tw_sightings_count(const struct tw_sightings *s)
{
    return s->n_sighted;
}

uint64_t tw_sightings_of(const struct tw_sightings *s, uint32_t n)
{
    return n < s->n ? s->t[n].count : 0;
}

static void stix_time(int64_t ns, char out[TW_TIME_STRLEN])
{
    struct tw_time t;

    t.sec = ns / 1000000000;
    t.nsec = (uint32_t)(ns % 1000000000);
    if (ns < 0 && t.nsec != 0) {
        t.sec--;
        t.nsec = (uint32_t)(ns % 1000000000 + 1000000000);
    }
    t.frac_digits = 3;
    tw_time_format(&t, 3, out);
}

static void derive_id(const char *type, const char *name, char *out, size_t out_size)
{
    uint8_t u[16];
    char text[TW_UUID_STRLEN];

    tw_uuid_v5(sighting_ns, name, strlen(name), u);
    tw_uuid_format(u, text);
    (void)snprintf(out, out_size, "%s--%s", type, text);
}

int tw_sightings_write(
        const struct tw_sightings *s, const char *org, int64_t now_ns, struct tw_buf *out)
{
    json_t *bundle = json_object(), *objs = json_array(), *ident = json_object();
    char org_id[64], now[TW_TIME_STRLEN], name[256], bundle_name[128];
    char *text = NULL;
    int rc = TW_OK;

    if (bundle == NULL || objs == NULL || ident == NULL) {
        rc = TW_ENOMEM;
        goto out;
    }
    (void)snprintf(name, sizeof(name), "identity\n%s", org);
    derive_id("identity", name, org_id, sizeof(org_id));
    stix_time(now_ns, now);
    if (json_object_set_new(ident, "type", json_string("identity")) != 0 ||
            json_object_set_new(ident, "spec_version", json_string("2.1")) != 0 ||
            json_object_set_new(ident, "id", json_string(org_id)) != 0 ||
            json_object_set_new(ident, "created", json_string("2020-01-01T00:00:00.000Z")) != 0 ||
            json_object_set_new(ident, "modified", json_string("2020-01-01T00:00:00.000Z")) != 0 ||
            json_object_set_new(ident, "name", json_string(org)) != 0 ||
            json_object_set_new(ident, "identity_class", json_string("organization")) != 0 ||
            json_array_append(objs, ident) != 0) {
        rc = TW_ENOMEM;
        goto out;
    }
    for (uint32_t n = 0; n < s->n && rc == TW_OK; n++) {
        const struct tally *t = &s->t[n];
        char ind_id[64], sid[64], first[TW_TIME_STRLEN], last[TW_TIME_STRLEN];
        json_t *o, *where;

        if (t->count == 0)
            continue;
        tw_index_id(s->idx, n, ind_id);
        stix_time(t->first_ns, first);
        stix_time(t->last_ns, last);
        (void)snprintf(name, sizeof(name), "sighting\n%s\n%s\n%s", ind_id, org_id, first);
        derive_id("sighting", name, sid, sizeof(sid));
        o = json_object();
        where = json_array();
        if (o == NULL || where == NULL || json_array_append_new(where, json_string(org_id)) != 0 ||
                json_object_set_new(o, "type", json_string("sighting")) != 0 ||
                json_object_set_new(o, "spec_version", json_string("2.1")) != 0 ||
                json_object_set_new(o, "id", json_string(sid)) != 0 ||
                json_object_set_new(o, "created", json_string(now)) != 0 ||
                json_object_set_new(o, "modified", json_string(now)) != 0 ||
                json_object_set_new(o, "created_by_ref", json_string(org_id)) != 0 ||
                json_object_set_new(o, "sighting_of_ref", json_string(ind_id)) != 0 ||
                json_object_set_new(o, "first_seen", json_string(first)) != 0 ||
                json_object_set_new(o, "last_seen", json_string(last)) != 0 ||
                json_object_set_new(o, "count",
                        json_integer((json_int_t)(t->count > 999999999 ? 999999999 : t->count))) !=
                        0 ||
                json_object_set_new(o, "where_sighted_refs", where) != 0) {
            json_decref(o);
            rc = TW_ENOMEM;
            break;
        }
        where = NULL;
        if (json_array_append_new(objs, o) != 0)
            rc = TW_ENOMEM;
    }
    if (rc != TW_OK)
        goto out;
    (void)snprintf(bundle_name, sizeof(bundle_name), "bundle\n%s\n%s", org_id, now);
    derive_id("bundle", bundle_name, name, sizeof(name));
    if (json_object_set_new(bundle, "type", json_string("bundle")) != 0 ||
            json_object_set_new(bundle, "id", json_string(name)) != 0 ||
            json_object_set(bundle, "objects", objs) != 0) {
        rc = TW_ENOMEM;
        goto out;
    }
    text = json_dumps(bundle, JSON_PRESERVE_ORDER | JSON_INDENT(2));
    if (text == NULL)
        rc = TW_ENOMEM;
    else if ((rc = tw_buf_puts(out, text)) == TW_OK)
        rc = tw_buf_putc(out, '\n');
out:
    free(text);
    json_decref(ident);
    json_decref(objs);
    json_decref(bundle);
    return rc;
}
