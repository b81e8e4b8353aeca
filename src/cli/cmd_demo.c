/*
 * cmd_demo.c: `tidewatch demo`, the intelligence workflow on the sample
 * bundle compiled into the binary (samples/intel/salt-typhoon-demo.json):
 * check it, count it, look values up, verify a behaviour pattern against
 * observations, read its TLP markings and export it for sensors; then hunt a
 * capture, share through a hub and audit a sample fleet of device
 * configurations (demo_audit.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>

#include "cli.h"
#include "intel_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hunt.h"
#include "tidewatch/pattern.h"
#include "tidewatch/stix.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

extern const unsigned char tw_demo_bundle[];
extern const unsigned long tw_demo_bundle_len;
extern const unsigned char tw_demo_capture[];
extern const unsigned long tw_demo_capture_len;

static const char demo_help[] =
        "usage: tidewatch demo [--write-bundle FILE] [--audit-html FILE]\n"
        "\n"
        "Run the intelligence workflow on the sample bundle built into tidewatch: a\n"
        "demonstration package about Salt Typhoon with indicators under every TLP\n"
        "level (documentation addresses and .example domains; the actor, techniques\n"
        "and vulnerabilities are public facts). Nothing is written unless asked.\n"
        "\n"
        "options:\n"
        "      --write-bundle FILE   also write the sample bundle to FILE, to try the\n"
        "                            'tidewatch intel' commands on it\n"
        "      --audit-html FILE     also write the sample fleet's audit report (step 9)\n"
        "                            as one HTML page\n"
        "  -h, --help                this help\n";

/* Two observation sets for the "GRE then SSH within 10 minutes" behaviour rule. */
static const char obs_match[] =
        "[{\"first_observed\":\"2025-10-13T22:04:11Z\",\"last_observed\":\"2025-10-13T22:04:11Z\","
        "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113."
        "17\"},"
        "\"1\":{\"type\":\"network-traffic\",\"dst_ref\":\"0\",\"protocols\":[\"ipv4\",\"gre\"]}}},"
        "{\"first_observed\":\"2025-10-13T22:09:30Z\",\"last_observed\":\"2025-10-13T22:09:30Z\","
        "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113."
        "17\"},"
        "\"1\":{\"type\":\"network-traffic\",\"dst_ref\":\"0\",\"dst_port\":22,"
        "\"protocols\":[\"ipv4\",\"tcp\"]}}}]";
static const char obs_late[] =
        "[{\"first_observed\":\"2025-10-13T22:04:11Z\",\"last_observed\":\"2025-10-13T22:04:11Z\","
        "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113."
        "17\"},"
        "\"1\":{\"type\":\"network-traffic\",\"dst_ref\":\"0\",\"protocols\":[\"ipv4\",\"gre\"]}}},"
        "{\"first_observed\":\"2025-10-13T22:31:02Z\",\"last_observed\":\"2025-10-13T22:31:02Z\","
        "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113."
        "17\"},"
        "\"1\":{\"type\":\"network-traffic\",\"dst_ref\":\"0\",\"dst_port\":22,"
        "\"protocols\":[\"ipv4\",\"tcp\"]}}}]";

static void heading(const char *title)
{
    printf("\n== %s\n\n", title);
    fflush(stdout);
}

/* Finds the behaviour rule in the bundle: the indicator using FOLLOWEDBY. */
static const struct tw_stix_object *find_sequence_rule(const struct tw_stix_bundle *b)
{
    for (size_t i = 0; i < tw_stix_bundle_count(b); i++) {
        const struct tw_stix_object *o = tw_stix_bundle_object(b, i);
        const char *p = json_string_value(json_object_get(o->json, "pattern"));
        if (p != NULL && strstr(p, "FOLLOWEDBY") != NULL)
            return o;
    }
    return NULL;
}

static int verify_demo(const struct tw_stix_bundle *b)
{
    const struct tw_stix_object *o = find_sequence_rule(b);
    const char *sets[2] = { obs_match, obs_late };
    const char *what[2] = { "GRE at 22:04:11, SSH at 22:09:30",
        "GRE at 22:04:11, SSH at 22:31:02" };
    struct tw_pattern *pat = NULL;
    struct tw_err err;
    const char *text;

    if (o == NULL)
        return TW_EXIT_ERROR;
    text = json_string_value(json_object_get(o->json, "pattern"));
    if (tw_pattern_parse(tw_str_cstr(text), &pat, &err) != TW_OK) {
        fprintf(stderr, "demo: %s\n", err.msg);
        return TW_EXIT_ERROR;
    }
    printf("rule    %s\npattern %s\nlevel   %d (STIX 2.1 section 12.7)\n\n",
            json_string_value(json_object_get(o->json, "name")), text, tw_pattern_level(pat));
    for (int i = 0; i < 2; i++) {
        json_error_t jerr;
        json_t *obs = json_loads(sets[i], 0, &jerr);
        bool matched = false;
        int rc = obs ? tw_pattern_match(pat, obs, &matched, &err) : TW_EINVAL;
        printf("  %-36s -> %s\n", what[i],
                rc != TW_OK ? "error"
                : matched   ? "MATCH"
                            : "no match (outside 600 s)");
        json_decref(obs);
    }
    tw_pattern_free(pat);
    return TW_EXIT_OK;
}

/* Hunts the built-in capture and prints its alerts as a table, and one as EVE JSON. */
static int hunt_demo(const struct tw_index *idx)
{
    struct tw_hunt_stats st;
    char *buf = NULL, *example = NULL;
    size_t len = 0;
    FILE *eve = open_memstream(&buf, &len);
    struct tw_str rest, line;
    int rc;

    if (eve == NULL)
        return TW_EXIT_ERROR;
    rc = tw_hunt_capture_mem(
            idx, tw_demo_capture, tw_demo_capture_len, "salt-typhoon-demo.pcap", eve, &st);
    (void)fclose(eve);
    if (rc != TW_EXIT_OK || buf == NULL) {
        free(buf);
        return TW_EXIT_ERROR;
    }
    printf("%llu packets, %llu flows (VLAN, MPLS, GRE, VXLAN, GTP-U, IPv6-in-IPv4), %llu "
           "alerts\n\n",
            (unsigned long long)st.packets, (unsigned long long)st.flows,
            (unsigned long long)st.alerts);
    printf("  %-8s %-20s %-15s %-18s %-22s %s\n", "time", "tunnel", "source", "destination",
            "matched", "indicator");
    rest = tw_str_make(buf, len);
    while (tw_str_next_line(&rest, &line)) {
        json_error_t jerr;
        json_t *e = json_loadb(line.ptr, line.len, 0, &jerr);
        json_t *enc = json_object_get(json_object_get(e, "tidewatch"), "encapsulation");
        char tunnel[64] = "";
        size_t i, k = 0;
        json_t *l;

        json_array_foreach(enc, i, l)
        {
            const char *name = json_string_value(json_object_get(l, "layer"));
            int n = snprintf(
                    tunnel + k, sizeof(tunnel) - k, "%s%s", k ? "/" : "", name ? name : "?");
            if (n < 0 || (size_t)n >= sizeof(tunnel) - k)
                break;
            k += (size_t)n;
        }
        printf("  %-8.8s %-20s %-15s %-18s %-22s %s\n",
                json_string_value(json_object_get(e, "timestamp")) + 11, k ? tunnel : "-",
                json_string_value(json_object_get(e, "src_ip")),
                json_string_value(json_object_get(e, "dest_ip")),
                json_string_value(json_object_get(
                        json_object_get(json_object_get(e, "tidewatch"), "matched"), "field")),
                json_string_value(json_object_get(json_object_get(e, "alert"), "signature")));
        if (example == NULL && json_object_get(e, "dns") != NULL)
            example = json_dumps(e, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(e);
    }
    if (example != NULL)
        printf("\nOne alert as EVE JSON (Suricata's fields, tidewatch's under "
               "\"tidewatch\"):\n%s\n",
                example);
    free(example);
    free(buf);
    return TW_EXIT_OK;
}

static void tlp_demo(const struct tw_stix_bundle *b)
{
    for (size_t i = 0; i < tw_stix_bundle_count(b); i++) {
        const struct tw_stix_object *o = tw_stix_bundle_object(b, i);
        const char *name = json_string_value(json_object_get(o->json, "name"));

        if (strcmp(o->type, "indicator") != 0 && strcmp(o->type, "report") != 0)
            continue;
        printf("  %-16s %-9s %s\n", o->tlp ? tw_tlp_name(o->tlp) : "unmarked", o->type,
                name ? name : o->id);
        if (strcmp(o->type, "report") == 0)
            printf("  %-16s           (its description only: granular marking)\n",
                    tw_tlp_name(tw_stix_property_tlp(b, o, "description")));
    }
}

int tw_cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = { { "write-bundle", required_argument, NULL, 'w' },
        { "audit-html", required_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const lookups[] = { "203.0.113.17", "192.0.2.200", "2001:db8:5a17::41",
        "Telemetry-Update.example.", "mx1.cdn-edge-sync.example",
        "http://TELEMETRY-UPDATE.example:80/fw/update.bin#top",
        "A3C1F0D5E2B8497C6D1E0F9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A0B9C", "192.0.2.110",
        "198.51.100.99", "8.8.8.8" };
    const char *write_to = NULL, *audit_html = NULL;
    struct tw_stix_bundle *b = NULL;
    struct tw_index *idx = NULL;
    struct tw_err err;
    int64_t now = tw_time_now().sec;
    int c, status = TW_EXIT_OK;
    json_t *objects;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'w':
                write_to = optarg;
                break;
            case 'a':
                audit_html = optarg;
                break;
            case 'h':
                fputs(demo_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error("tidewatch demo", "bad option");
        }
    }
    if (write_to != NULL && tw_cli_write(write_to, (const char *)tw_demo_bundle, tw_demo_bundle_len,
                                    &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: %s\n", err.msg);
        return TW_EXIT_ERROR;
    }
    printf("tidewatch demo: a Salt Typhoon intelligence package as an operator receives it\n");

    heading("1. Check it against STIX 2.1   (tidewatch intel check)");
    if (tw_stix_read_mem((const char *)tw_demo_bundle, tw_demo_bundle_len, "salt-typhoon-demo.json",
                0, &b, &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: %s\n", err.msg);
        return TW_EXIT_ERROR;
    }
    status = tw_intel_check_one(b, TW_STIX_TEXT, false, false, stdout);

    heading("2. What is in it   (tidewatch intel stats)");
    if (tw_intel_stats_bundle(b, now, false) != TW_EXIT_OK)
        status = TW_EXIT_ERROR;

    heading("3. Who may see what: effective TLP per object");
    tlp_demo(b);

    heading("4. Is it in our intelligence?   (tidewatch intel lookup)");
    idx = tw_index_new(TW_INDEX_MAX_INDICATORS);
    if (idx == NULL || tw_intel_index_bundle(idx, b) != TW_OK || tw_index_build(idx) != TW_OK) {
        status = TW_EXIT_ERROR;
    } else {
        for (size_t i = 0; i < TW_ARRAY_LEN(lookups); i++)
            (void)tw_intel_lookup_print(idx, lookups[i], now, false, stdout);
    }
    tw_index_free(idx);

    heading("5. Verify a behaviour rule against observations");
    if (verify_demo(b) != TW_EXIT_OK)
        status = TW_EXIT_ERROR;

    heading("6. Hunt a capture from the network   (tidewatch hunt)");
    idx = tw_index_new(TW_INDEX_MAX_INDICATORS);
    if (idx == NULL || tw_intel_index_bundle(idx, b) != TW_OK || tw_index_build(idx) != TW_OK ||
            hunt_demo(idx) != TW_EXIT_OK)
        status = TW_EXIT_ERROR;
    tw_index_free(idx);
    idx = NULL;

    heading("7. For the sensors: a Zeek intel file   (tidewatch intel convert --to zeek)");
    objects = json_array();
    for (size_t i = 0; objects != NULL && i < tw_stix_bundle_count(b); i++)
        (void)json_array_append(objects, (json_t *)(uintptr_t)tw_stix_bundle_object(b, i)->json);
    fflush(stdout);
    if (objects == NULL || tw_intel_export(objects, TW_INTEL_TO_ZEEK, "-") == TW_EXIT_ERROR)
        status = TW_EXIT_ERROR;
    json_decref(objects);
    fflush(stderr);

    heading("8. Share it: publish, pull under TLP, hunt, report sightings   (tidewatch hub)");
    fflush(stdout);
    if (tw_demo_hub() != TW_EXIT_OK)
        status = TW_EXIT_ERROR;

    heading("9. Audit the fleet's configurations   (tidewatch audit)");
    if (tw_demo_audit(audit_html) != TW_EXIT_OK)
        status = TW_EXIT_ERROR;

    heading("10. Collect NetFlow and retro-hunt it   (tidewatch flows collect, flows hunt)");
    fflush(stdout);
    idx = tw_index_new(TW_INDEX_MAX_INDICATORS);
    if (idx == NULL || tw_intel_index_bundle(idx, b) != TW_OK || tw_index_build(idx) != TW_OK ||
            tw_demo_flows(idx) != TW_EXIT_OK)
        status = TW_EXIT_ERROR;
    tw_index_free(idx);
    idx = NULL;

    printf("\nTry it yourself: tidewatch demo --write-bundle demo.json; then\n"
           "  tidewatch intel check demo.json\n"
           "  tidewatch intel lookup -i demo.json 203.0.113.17\n"
           "  tidewatch intel convert --to suricata -o /tmp demo.json\n"
           "  tidewatch hunt -i demo.json --sightings sightings.json CAPTURE.pcap\n"
           "  tidewatch audit --intel demo.json --baseline samples/audit/baseline samples/audit\n"
           "  tidewatch flows hunt --archive DIR -i demo.json --eve alerts.json\n");
    tw_stix_bundle_free(b);
    return status == TW_EXIT_FINDINGS ? TW_EXIT_ERROR : status;
}
