/*
 * cmd_intel_remote.c: `tidewatch intel pull` and `intel push`: a hub
 * collection to a local bundle or compiled index, and a bundle to a hub
 * collection (TAXII 2.1, taxii_client.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>

#include "cli.h"
#include "intel_cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"
#include "tidewatch/index.h"
#include "tidewatch/stix.h"
#include "tidewatch/str.h"
#include "tidewatch/taxii_client.h"
#include "tidewatch/time.h"

/* ==== pull ==== */

static const char pull_help[] =
        "usage: tidewatch intel pull --url COLLECTION_URL -o FILE [options]\n"
        "\n"
        "Pulls a hub collection's objects (TAXII 2.1, page by page) into a STIX\n"
        "bundle, or, when FILE ends in .twi, into a compiled index for hunting.\n"
        "With --state FILE only objects added since the last pull are fetched:\n"
        "the file keeps the server's X-TAXII-Date-Added-Last between runs.\n"
        "\n"
        "options:\n"
        "      --url URL          https://HUB/API-ROOT/collections/ID/\n"
        "  -o, --output FILE      bundle (.json) or compiled index (.twi) to write\n"
        "      --key-file FILE    the API key (default: $TIDEWATCH_KEY)\n"
        "      --state FILE       remember where this pull ended; start from there\n"
        "      --added-after TIME only objects the hub added after TIME\n"
        "      --ca-file FILE     PEM certificates to verify the hub with\n"
        "      --insecure         do not verify the hub's certificate (testing only)\n"
        "  -h, --help             this help\n"
        "\n"
        "exit status: 0 pulled, 2 usage, 3 the hub or a file failed\n";

static int collect(const json_t *objects, void *arg)
{
    return json_array_extend(arg, (json_t *)(uintptr_t)objects) == 0 ? 0 : 1;
}

static int intel_pull(int argc, char **argv)
{
    static const struct option opts[] = { { "url", required_argument, NULL, 'u' },
        { "output", required_argument, NULL, 'o' }, { "key-file", required_argument, NULL, 'k' },
        { "state", required_argument, NULL, 's' }, { "added-after", required_argument, NULL, 'a' },
        { "ca-file", required_argument, NULL, 'c' }, { "insecure", no_argument, NULL, 'I' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch intel pull";
    struct tw_taxii_client tc;
    const char *output = NULL, *state = NULL, *after = NULL, *key_file = NULL;
    char key[256], last[TW_TIME_STRLEN], from_state[TW_TIME_STRLEN] = "";
    json_t *objects = json_array(), *bundle = NULL;
    struct tw_err err;
    size_t n = 0;
    int c, status;

    memset(&tc, 0, sizeof(tc));
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
            case 'u':
                tc.collection_url = optarg;
                break;
            case 'o':
                output = optarg;
                break;
            case 'k':
                key_file = optarg;
                break;
            case 's':
                state = optarg;
                break;
            case 'a': {
                struct tw_time t;
                if (tw_time_parse(tw_str_cstr(optarg), 0, &t, NULL) != TW_OK) {
                    json_decref(objects);
                    return tw_cli_usage_error(prog, "bad --added-after '%s'", optarg);
                }
                after = optarg;
                break;
            }
            case 'c':
                tc.ca_file = optarg;
                break;
            case 'I':
                tc.insecure = true;
                break;
            case 'h':
                json_decref(objects);
                fputs(pull_help, stdout);
                return TW_EXIT_OK;
            default:
                json_decref(objects);
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (tc.collection_url == NULL || output == NULL || optind != argc) {
        json_decref(objects);
        return tw_cli_usage_error(prog, "needs --url and --output, and no other arguments");
    }
    if ((status = tw_cli_read_key(prog, key_file, key, sizeof(key))) != TW_EXIT_OK) {
        json_decref(objects);
        return status;
    }
    tc.key = key;
    if (state != NULL && after == NULL) {
        FILE *f = fopen(state, "r");
        if (f != NULL) {
            if (fgets(from_state, sizeof(from_state), f) != NULL)
                from_state[strcspn(from_state, "\r\n")] = '\0';
            (void)fclose(f);
            if (from_state[0] != '\0')
                after = from_state;
        }
    }
    tw_err_clear(&err);
    if (objects == NULL || tw_taxii_pull(&tc, after, collect, objects, last, &n, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg[0] ? err.msg : "out of memory");
        memset(key, 0, sizeof(key));
        json_decref(objects);
        return TW_EXIT_ERROR;
    }
    memset(key, 0, sizeof(key));
    bundle = json_pack("{s:s, s:s, s:O}", "type", "bundle", "id",
            "bundle--00000000-0000-4000-8000-000000000000", "objects", objects);
    status = TW_EXIT_OK;
    {
        uint8_t u[16];
        char uuid[TW_UUID_STRLEN + 8], id[64];
        if (bundle != NULL && tw_uuid_v4(u) == TW_OK) {
            tw_uuid_format(u, uuid);
            (void)snprintf(id, sizeof(id), "bundle--%s", uuid);
            json_object_set_new(bundle, "id", json_string(id));
        }
    }
    {
        size_t olen = strlen(output);
        char *text =
                bundle != NULL ? json_dumps(bundle, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
        if (text == NULL) {
            status = TW_EXIT_ERROR;
        } else if (olen > 4 && strcmp(output + olen - 4, ".twi") == 0) {
            struct tw_stix_bundle *b = NULL;
            struct tw_index *idx = tw_index_new(TW_INDEX_MAX_INDICATORS);
            struct tw_buf out;

            tw_buf_init(&out, SIZE_MAX / 2);
            if (idx == NULL || tw_stix_read_mem(text, strlen(text), "pulled", TW_STIX_NO_PATTERNS,
                                       &b, &err) != TW_OK) {
                fprintf(stderr, "%s: %s\n", prog, idx == NULL ? "out of memory" : err.msg);
                status = TW_EXIT_ERROR;
            } else {
                tw_index_keep_source(idx);
                if (tw_intel_index_bundle(idx, b) != TW_OK || tw_index_build(idx) != TW_OK ||
                        tw_index_save(idx, &out) != TW_OK ||
                        tw_cli_write_atomic(output, out.ptr, out.len, &err) != TW_OK) {
                    fprintf(stderr, "%s: cannot write %s\n", prog, output);
                    status = TW_EXIT_ERROR;
                }
            }
            tw_stix_bundle_free(b);
            tw_index_free(idx);
            tw_buf_cleanup(&out);
        } else if (tw_cli_write_atomic(output, text, strlen(text), &err) != TW_OK) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            status = TW_EXIT_ERROR;
        }
        free(text);
    }
    if (status == TW_EXIT_OK && state != NULL && last[0] != '\0') {
        char line[TW_TIME_STRLEN + 2];
        int len = snprintf(line, sizeof(line), "%s\n", last);
        if (tw_cli_write_atomic(state, line, (size_t)len, &err) != TW_OK) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            status = TW_EXIT_ERROR;
        }
    }
    if (status == TW_EXIT_OK)
        fprintf(stderr, "%s: %zu objects%s%s\n", output, n, last[0] ? ", last added " : "", last);
    json_decref(bundle);
    json_decref(objects);
    return status;
}

/* ==== push ==== */

static const char push_help[] =
        "usage: tidewatch intel push --url COLLECTION_URL [options] BUNDLE\n"
        "\n"
        "Posts a bundle's objects to a hub collection (TAXII 2.1 Add Objects) and\n"
        "prints the hub's verdict on each: the hub validates every object and stores\n"
        "the valid ones. Large bundles go in envelopes of --batch objects.\n"
        "\n"
        "options:\n"
        "      --url URL        https://HUB/API-ROOT/collections/ID/\n"
        "      --key-file FILE  the API key (default: $TIDEWATCH_KEY)\n"
        "      --batch N        objects per request (default 5000)\n"
        "      --ca-file FILE   PEM certificates to verify the hub with\n"
        "      --insecure       do not verify the hub's certificate (testing only)\n"
        "  -j, --json           print the status resources as JSON lines\n"
        "  -h, --help           this help\n"
        "\n"
        "exit status: 0 every object accepted, 1 some refused, 2 usage, 3 failure\n";

static int intel_push(int argc, char **argv)
{
    static const struct option opts[] = { { "url", required_argument, NULL, 'u' },
        { "key-file", required_argument, NULL, 'k' }, { "batch", required_argument, NULL, 'b' },
        { "ca-file", required_argument, NULL, 'c' }, { "insecure", no_argument, NULL, 'I' },
        { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch intel push";
    struct tw_taxii_client tc;
    const char *key_file = NULL;
    char key[256];
    uint64_t batch = 5000;
    bool as_json = false;
    struct tw_buf in;
    struct tw_err err;
    json_t *doc = NULL;
    const json_t *objs;
    json_error_t je;
    size_t total = 0, ok = 0, failed = 0;
    int c, status;

    memset(&tc, 0, sizeof(tc));
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
            case 'u':
                tc.collection_url = optarg;
                break;
            case 'k':
                key_file = optarg;
                break;
            case 'b':
                if (tw_parse_u64(tw_str_cstr(optarg), 1000000, &batch) != TW_OK || batch == 0)
                    return tw_cli_usage_error(prog, "bad --batch '%s'", optarg);
                break;
            case 'c':
                tc.ca_file = optarg;
                break;
            case 'I':
                tc.insecure = true;
                break;
            case 'j':
                as_json = true;
                break;
            case 'h':
                fputs(push_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (tc.collection_url == NULL || optind + 1 != argc)
        return tw_cli_usage_error(prog, "needs --url and one BUNDLE");
    if ((status = tw_cli_read_key(prog, key_file, key, sizeof(key))) != TW_EXIT_OK)
        return status;
    tc.key = key;
    tw_err_clear(&err);
    if (tw_cli_slurp(argv[optind], TW_STIX_MAX_INPUT, &in, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        memset(key, 0, sizeof(key));
        return TW_EXIT_ERROR;
    }
    doc = json_loadb(in.ptr, in.len, 0, &je);
    tw_buf_cleanup(&in);
    objs = json_object_get(doc, "objects");
    if (!json_is_array(objs)) {
        fprintf(stderr, "%s: %s: line %d: not a bundle or envelope%s%s\n", prog, argv[optind],
                je.line, doc == NULL ? ": " : "", doc == NULL ? je.text : "");
        json_decref(doc);
        memset(key, 0, sizeof(key));
        return TW_EXIT_FINDINGS;
    }
    status = TW_EXIT_OK;
    for (size_t start = 0; start < json_array_size(objs) && status != TW_EXIT_ERROR;
            start += (size_t)batch) {
        json_t *env = json_object(), *part = json_array(), *st = NULL;
        char *text;

        for (size_t i = start; i < json_array_size(objs) && i < start + (size_t)batch; i++)
            json_array_append(part, json_array_get(objs, i));
        json_object_set_new(env, "objects", part);
        text = json_dumps(env, JSON_COMPACT);
        json_decref(env);
        if (text == NULL || tw_taxii_push(&tc, text, strlen(text), &st, &err) != TW_OK) {
            fprintf(stderr, "%s: %s\n", prog, text == NULL ? "out of memory" : err.msg);
            status = TW_EXIT_ERROR;
        } else {
            const json_t *fails = json_object_get(st, "failures"), *f;
            size_t k;

            total += (size_t)json_integer_value(json_object_get(st, "total_count"));
            ok += (size_t)json_integer_value(json_object_get(st, "success_count"));
            failed += (size_t)json_integer_value(json_object_get(st, "failure_count"));
            if (as_json) {
                char *s = json_dumps(st, JSON_COMPACT);
                if (s != NULL)
                    printf("%s\n", s);
                free(s);
            } else {
                json_array_foreach(fails, k, f)
                {
                    printf("refused %s: %s\n", json_string_value(json_object_get(f, "id")),
                            json_string_value(json_object_get(f, "message")));
                }
            }
        }
        free(text);
        json_decref(st);
    }
    memset(key, 0, sizeof(key));
    json_decref(doc);
    if (!as_json)
        printf("%zu objects sent, %zu accepted, %zu refused\n", total, ok, failed);
    if (status == TW_EXIT_OK && failed > 0)
        status = TW_EXIT_FINDINGS;
    return status;
}

/* The rows `tidewatch intel` adds for these (cmd_intel.c's table). */
int tw_intel_pull(int argc, char **argv)
{
    return intel_pull(argc, argv);
}

int tw_intel_push(int argc, char **argv)
{
    return intel_push(argc, argv);
}
