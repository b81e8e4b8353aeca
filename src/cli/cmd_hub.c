/*
 * cmd_hub.c: `tidewatch hub`: create, serve and administer the sharing hub.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>
#include <signal.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"
#include "tidewatch/hash.h"
#include "tidewatch/hub.h"
#include "tidewatch/stix.h"
#include "tidewatch/store.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

static int64_t now_us(void)
{
    struct tw_time t = tw_time_now();

    return t.sec * 1000000 + t.nsec / 1000;
}

static struct tw_store *open_store(const char *prog, const char *db)
{
    struct tw_store *st = NULL;
    struct tw_err err;

    if (db == NULL) {
        (void)tw_cli_usage_error(prog, "no --db store");
        return NULL;
    }
    tw_err_clear(&err);
    if (tw_store_open(db, false, &st, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return NULL;
    }
    return st;
}

static int parse_role(const char *s, enum tw_role *out)
{
    static const struct {
        const char *name;
        enum tw_role role;
    } roles[] = { { "reader", TW_ROLE_READER }, { "contributor", TW_ROLE_CONTRIBUTOR },
        { "org-admin", TW_ROLE_ORG_ADMIN }, { "hub-admin", TW_ROLE_HUB_ADMIN } };

    for (size_t i = 0; i < TW_ARRAY_LEN(roles); i++)
        if (strcmp(s, roles[i].name) == 0) {
            *out = roles[i].role;
            return TW_OK;
        }
    return TW_EINVAL;
}

static const char *role_name(enum tw_role r)
{
    switch (r) {
        case TW_ROLE_READER:
            return "reader";
        case TW_ROLE_CONTRIBUTOR:
            return "contributor";
        case TW_ROLE_ORG_ADMIN:
            return "org-admin";
        case TW_ROLE_HUB_ADMIN:
            return "hub-admin";
    }
    return "?";
}

/* Creates a key for org and prints it once. */
static int make_key(struct tw_store *st, int64_t org, enum tw_role role, const char *label,
        uint32_t rate, const char *prog)
{
    struct tw_key k;
    struct tw_err err;
    char full[TW_HUB_KEY_LEN + 1];

    memset(&k, 0, sizeof(k));
    if (tw_hub_key_generate(&k, full) != TW_OK) {
        fprintf(stderr, "%s: no randomness available\n", prog);
        return TW_EXIT_ERROR;
    }
    k.org = org;
    k.role = role;
    k.rate_per_min = rate;
    (void)snprintf(k.label, sizeof(k.label), "%s", label != NULL ? label : "");
    k.created = now_us();
    if (tw_store_key_add(st, &k, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        memset(full, 0, sizeof(full));
        return TW_EXIT_ERROR;
    }
    printf("key id: %s\nrole: %s\napi key: %s\n", k.key_id, role_name(role), full);
    fprintf(stderr, "%s: the key is shown once; the hub keeps only its hash\n", prog);
    memset(full, 0, sizeof(full));
    return TW_EXIT_OK;
}

/* ==== init ==== */

static const char init_help[] =
        "usage: tidewatch hub init --db STORE [options]\n"
        "\n"
        "Creates the hub's store (a SQLite file, or postgresql://... for PostgreSQL),\n"
        "its first API root and the hub operator's organisation, and prints the\n"
        "first hub-admin API key. The key is shown once: the store keeps its hash.\n"
        "\n"
        "options:\n"
        "      --db STORE       SQLite path or postgresql:// URL (required)\n"
        "      --org NAME       the operator's organisation (default \"hub operator\")\n"
        "      --sector SECTOR  its STIX industry sector (default government-national)\n"
        "      --root NAME      the first API root's path segment (default api)\n"
        "      --title TEXT     the API root's title (default \"tidewatch\")\n"
        "  -h, --help           this help\n";

static int hub_init(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "org", required_argument, NULL, 'o' }, { "sector", required_argument, NULL, 's' },
        { "root", required_argument, NULL, 'r' }, { "title", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hub init";
    const char *db = NULL, *org_name = "hub operator", *sector = "government-national";
    struct tw_api_root root;
    struct tw_store *st = NULL;
    struct tw_org org;
    struct tw_err err;
    int c, status;

    memset(&root, 0, sizeof(root));
    (void)snprintf(root.name, sizeof(root.name), "api");
    (void)snprintf(root.title, sizeof(root.title), "tidewatch");
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'd':
                db = optarg;
                break;
            case 'o':
                org_name = optarg;
                break;
            case 's':
                sector = optarg;
                break;
            case 'r':
                (void)snprintf(root.name, sizeof(root.name), "%s", optarg);
                break;
            case 't':
                (void)snprintf(root.title, sizeof(root.title), "%s", optarg);
                break;
            case 'h':
                fputs(init_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (db == NULL)
        return tw_cli_usage_error(prog, "no --db store");
    if (strcmp(root.name, "taxii2") == 0 || strcmp(root.name, "admin") == 0 ||
            strcmp(root.name, "tally") == 0 || strcmp(root.name, "dashboard") == 0 ||
            strchr(root.name, '/') != NULL || root.name[0] == '\0')
        return tw_cli_usage_error(prog, "bad --root '%s'", root.name);
    tw_err_clear(&err);
    if (tw_store_open(db, true, &st, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return TW_EXIT_ERROR;
    }
    memset(&org, 0, sizeof(org));
    (void)snprintf(org.name, sizeof(org.name), "%s", org_name);
    (void)snprintf(org.sector, sizeof(org.sector), "%s", sector);
    tw_hub_org_identity(org_name, org.identity_id);
    if (tw_store_root_add(st, &root, &err) != TW_OK || tw_store_org_add(st, &org, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        tw_store_close(st);
        return TW_EXIT_ERROR;
    }
    printf("store: %s (%s)\napi root: /%s/\norganisation: %s\n", db, tw_store_backend(st),
            root.name, org.name);
    status = make_key(st, org.id, TW_ROLE_HUB_ADMIN, "first hub admin", 0, prog);
    tw_store_close(st);
    return status;
}

/* ==== serve ==== */

static const char serve_help[] =
        "usage: tidewatch hub serve --db STORE [options]\n"
        "\n"
        "Serves TAXII 2.1 over HTTPS. Without --tls-cert/--tls-key it serves plain\n"
        "HTTP, and only on a loopback address. Prints 'listening on ADDR:PORT' once\n"
        "bound; stops cleanly on SIGINT or SIGTERM.\n"
        "\n"
        "options:\n"
        "      --db STORE          SQLite path or postgresql:// URL (required)\n"
        "      --listen ADDR:PORT  where to listen (default 127.0.0.1:8443; port 0: any)\n"
        "      --tls-cert FILE     PEM certificate chain\n"
        "      --tls-key FILE      PEM private key\n"
        "      --threads N         worker threads (default: one per core)\n"
        "      --max-body BYTES    largest request body (default 64 MiB; larger: 413)\n"
        "      --max-page N        largest page a client may ask for (default 1000)\n"
        "      --rate N            requests per minute per key (default 6000)\n"
        "      --title TEXT        the discovery title\n"
        "  -q, --quiet             no request lines on standard error\n"
        "  -h, --help              this help\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/*
 * The allocator's policy for a long-running hub. Every POST parses its body
 * into a JSON tree of tens of thousands of small blocks and frees them all
 * at once; with glibc's defaults those frees go to fast bins that are merged
 * again (malloc_consolidate) whenever a large block is asked for, and the
 * top of each thread's heap is given back to the kernel and faulted in again
 * at the next POST. Without fast bins, and with 64 MiB kept before trimming,
 * an ingest costs about a tenth less CPU (docs/internals/HUB.md, "Figures,
 * third round"). At most 64 MiB of free memory stays per allocator arena.
 */
static void serve_malloc_policy(void)
{
#ifdef __GLIBC__
    (void)mallopt(M_MXFAST, 0);
    (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
    (void)mallopt(M_TOP_PAD, 16 << 20);
    (void)mallopt(M_MMAP_THRESHOLD, 64 << 20);
#endif
}

static int hub_serve(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' }, { "tls-cert", required_argument, NULL, 'c' },
        { "tls-key", required_argument, NULL, 'k' }, { "threads", required_argument, NULL, 'T' },
        { "max-body", required_argument, NULL, 'b' }, { "max-page", required_argument, NULL, 'p' },
        { "rate", required_argument, NULL, 'r' }, { "title", required_argument, NULL, 't' },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hub serve";
    struct tw_hub_config cfg;
    struct tw_hub *hub = NULL;
    struct tw_store *st;
    struct tw_err err;
    struct sigaction sa;
    uint64_t v;
    int c, rc;

    tw_hub_config_init(&cfg);
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
            case 'd':
                cfg.store = optarg;
                break;
            case 'l':
                cfg.listen = optarg;
                break;
            case 'c':
                cfg.tls_cert = optarg;
                break;
            case 'k':
                cfg.tls_key = optarg;
                break;
            case 'T':
                if (tw_parse_u64(tw_str_cstr(optarg), 256, &v) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --threads '%s' (0..256)", optarg);
                cfg.threads = (unsigned)v;
                break;
            case 'b':
                if (tw_parse_u64(tw_str_cstr(optarg), (uint64_t)1 << 32, &v) != TW_OK || v < 1024)
                    return tw_cli_usage_error(prog, "bad --max-body '%s'", optarg);
                cfg.max_body = (size_t)v;
                break;
            case 'p':
                if (tw_parse_u64(tw_str_cstr(optarg), 100000, &v) != TW_OK || v == 0)
                    return tw_cli_usage_error(prog, "bad --max-page '%s'", optarg);
                cfg.max_page = (size_t)v;
                break;
            case 'r':
                if (tw_parse_u64(tw_str_cstr(optarg), 10000000, &v) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --rate '%s'", optarg);
                cfg.rate_per_min = (uint32_t)v;
                break;
            case 't':
                cfg.title = optarg;
                break;
            case 'q':
                cfg.quiet = true;
                break;
            case 'h':
                fputs(serve_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if ((cfg.tls_cert == NULL) != (cfg.tls_key == NULL))
        return tw_cli_usage_error(prog, "--tls-cert and --tls-key go together");
    /* Check the store opens before binding. */
    st = open_store(prog, cfg.store);
    if (st == NULL)
        return cfg.store == NULL ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    tw_store_close(st);
    tw_err_clear(&err);
    if (tw_hub_new(&cfg, &hub, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return TW_EXIT_ERROR;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    serve_malloc_policy();
    rc = tw_hub_serve(hub, &stop_flag, &err);
    tw_hub_free(hub);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return rc == TW_EINVAL ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    }
    return TW_EXIT_OK;
}

/* ==== org ==== */

static const char org_help[] =
        "usage: tidewatch hub org add --db STORE NAME [--sector S] [--identity ID]\n"
        "                             [--disclose-sightings]\n"
        "       tidewatch hub org list --db STORE\n"
        "\n"
        "Organisations own keys and receive grants. --sector is the STIX industry\n"
        "sector (telecommunications, government-national, ...); government sectors see\n"
        "who reported sightings. --identity is the STIX identity standing for the\n"
        "organisation (default: a stable id derived from the name). With\n"
        "--disclose-sightings other operators see this organisation as the reporter\n"
        "of its sightings; otherwise they see an anonymous identity.\n";

static int print_org(const struct tw_org *o, void *arg)
{
    (void)arg;
    printf("%-4lld %-32s %-24s %s%s\n", (long long)o->id, o->name, o->sector, o->identity_id,
            o->disclose_sightings ? "  discloses sightings" : "");
    return 0;
}

static int hub_org(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "sector", required_argument, NULL, 's' }, { "identity", required_argument, NULL, 'i' },
        { "disclose-sightings", no_argument, NULL, 'D' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hub org";
    const char *db = NULL, *verb;
    struct tw_org o;
    struct tw_store *st;
    struct tw_err err;
    struct tw_str type;
    int c, status = TW_EXIT_OK;

    memset(&o, 0, sizeof(o));
    (void)snprintf(o.sector, sizeof(o.sector), "telecommunications");
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'd':
                db = optarg;
                break;
            case 's':
                (void)snprintf(o.sector, sizeof(o.sector), "%s", optarg);
                break;
            case 'i':
                if (!tw_stix_id_valid(tw_str_cstr(optarg), &type) ||
                        !tw_str_eq_cstr(type, "identity"))
                    return tw_cli_usage_error(prog, "bad --identity '%s'", optarg);
                (void)snprintf(o.identity_id, sizeof(o.identity_id), "%s", optarg);
                break;
            case 'D':
                o.disclose_sightings = true;
                break;
            case 'h':
                fputs(org_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind >= argc)
        return tw_cli_usage_error(prog, "add or list?");
    verb = argv[optind++];
    if (strcmp(verb, "add") == 0 && optind + 1 != argc)
        return tw_cli_usage_error(prog, "org add takes one NAME");
    if (strcmp(verb, "add") != 0 && strcmp(verb, "list") != 0)
        return tw_cli_usage_error(prog, "unknown verb '%s'", verb);
    if ((st = open_store(prog, db)) == NULL)
        return db == NULL ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    if (strcmp(verb, "add") == 0) {
        (void)snprintf(o.name, sizeof(o.name), "%s", argv[optind]);
        if (o.identity_id[0] == '\0')
            tw_hub_org_identity(o.name, o.identity_id);
        if (tw_store_org_add(st, &o, &err) != TW_OK) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            status = TW_EXIT_ERROR;
        } else {
            print_org(&o, NULL);
        }
    } else if (tw_store_org_each(st, print_org, NULL, &err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
    }
    tw_store_close(st);
    return status;
}

/* ==== key ==== */

static const char key_help[] =
        "usage: tidewatch hub key create --db STORE --org NAME --role ROLE [--label TEXT]\n"
        "                                [--rate N]\n"
        "       tidewatch hub key list --db STORE [--org NAME]\n"
        "       tidewatch hub key revoke --db STORE KEY_ID\n"
        "\n"
        "Roles: reader, contributor (and write where granted), org-admin, hub-admin.\n"
        "A key is shown once, when created; the hub keeps its SHA-256 only. Revoking\n"
        "takes effect on the next request. --rate overrides the hub's per-key rate\n"
        "(requests per minute).\n";

static int print_key(const struct tw_key *k, void *arg)
{
    (void)arg;
    printf("%s  org %-4lld %-12s %-8s %s\n", k->key_id, (long long)k->org, role_name(k->role),
            k->revoked ? "revoked" : "live", k->label);
    return 0;
}

static int hub_key(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "org", required_argument, NULL, 'o' }, { "role", required_argument, NULL, 'r' },
        { "label", required_argument, NULL, 'l' }, { "rate", required_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hub key";
    const char *db = NULL, *org_name = NULL, *label = NULL, *verb;
    enum tw_role role = TW_ROLE_READER;
    bool have_role = false;
    uint64_t rate = 0;
    struct tw_store *st;
    struct tw_org o;
    struct tw_err err;
    int c, status = TW_EXIT_OK;

    memset(&o, 0, sizeof(o));
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'd':
                db = optarg;
                break;
            case 'o':
                org_name = optarg;
                break;
            case 'r':
                if (parse_role(optarg, &role) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --role '%s'", optarg);
                have_role = true;
                break;
            case 'l':
                label = optarg;
                break;
            case 'R':
                if (tw_parse_u64(tw_str_cstr(optarg), 10000000, &rate) != TW_OK)
                    return tw_cli_usage_error(prog, "bad --rate '%s'", optarg);
                break;
            case 'h':
                fputs(key_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind >= argc)
        return tw_cli_usage_error(prog, "create, list or revoke?");
    verb = argv[optind++];
    if (strcmp(verb, "create") == 0 && (org_name == NULL || !have_role))
        return tw_cli_usage_error(prog, "key create needs --org and --role");
    if (strcmp(verb, "revoke") == 0 && optind + 1 != argc)
        return tw_cli_usage_error(prog, "key revoke takes one KEY_ID");
    if (strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0 && strcmp(verb, "revoke") != 0)
        return tw_cli_usage_error(prog, "unknown verb '%s'", verb);
    if ((st = open_store(prog, db)) == NULL)
        return db == NULL ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    tw_err_clear(&err);
    if (org_name != NULL && tw_store_org_get(st, org_name, 0, &o, &err) != TW_OK) {
        fprintf(stderr, "%s: no organisation '%s'\n", prog, org_name);
        status = TW_EXIT_ERROR;
    } else if (strcmp(verb, "create") == 0) {
        status = make_key(st, o.id, role, label, (uint32_t)rate, prog);
    } else if (strcmp(verb, "list") == 0) {
        if (tw_store_key_each(st, org_name != NULL ? o.id : -1, print_key, NULL, &err) != TW_OK) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            status = TW_EXIT_ERROR;
        }
    } else if (tw_store_key_revoke(st, argv[optind], now_us(), &err) != TW_OK) {
        fprintf(stderr, "%s: no live key '%s'\n", prog, argv[optind]);
        status = TW_EXIT_FINDINGS;
    } else {
        printf("revoked %s\n", argv[optind]);
    }
    tw_store_close(st);
    return status;
}

/* ==== group ==== */

static const char group_help[] =
        "usage: tidewatch hub group add --db STORE NAME\n"
        "       tidewatch hub group member --db STORE GROUP ORG\n"
        "\n"
        "A sharing group names organisations; a collection's group is its AMBER\n"
        "audience, and grants may go to a group instead of one organisation.\n";

static int hub_group(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hub group";
    const char *db = NULL, *verb;
    struct tw_store *st;
    struct tw_err err;
    struct tw_org o;
    int64_t gid;
    int c, rc, status = TW_EXIT_OK;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd') {
            db = optarg;
        } else if (c == 'h') {
            fputs(group_help, stdout);
            return TW_EXIT_OK;
        } else {
            return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind >= argc)
        return tw_cli_usage_error(prog, "add or member?");
    verb = argv[optind++];
    if (!((strcmp(verb, "add") == 0 && optind + 1 == argc) ||
                (strcmp(verb, "member") == 0 && optind + 2 == argc)))
        return tw_cli_usage_error(prog, "add NAME, or member GROUP ORG");
    if ((st = open_store(prog, db)) == NULL)
        return db == NULL ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    tw_err_clear(&err);
    if (strcmp(verb, "add") == 0)
        rc = tw_store_group_add(st, argv[optind], &gid, &err);
    else if ((rc = tw_store_group_get(st, argv[optind], &gid, &err)) == TW_OK &&
             (rc = tw_store_org_get(st, argv[optind + 1], 0, &o, &err)) == TW_OK)
        rc = tw_store_group_member_add(st, gid, o.id, &err);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        status = TW_EXIT_ERROR;
    }
    tw_store_close(st);
    return status;
}

/* ==== collection ==== */

static const char collection_help[] =
        "usage: tidewatch hub collection add --db STORE --title TEXT [options]\n"
        "       tidewatch hub collection list --db STORE\n"
        "       tidewatch hub collection grant --db STORE COLLECTION (--org NAME|--group NAME)\n"
        "                                      [--read] [--write]\n"
        "\n"
        "options of add:\n"
        "      --root NAME         the API root (default api)\n"
        "      --alias NAME        a short name, unique in the root\n"
        "      --description TEXT\n"
        "      --default-tlp TLP   marking of objects that carry none (default amber)\n"
        "      --group NAME        the sharing group that is its AMBER audience\n"
        "\n"
        "A collection is named by its id or alias. Organisations granted read see its\n"
        "CLEAR and GREEN objects; its AMBER objects only when granted directly or\n"
        "through its group; AMBER+STRICT and RED only when named by the producer.\n";

static int print_collection(const struct tw_collection *c, void *arg)
{
    (void)arg;
    printf("%s  /%s/  %-16s %-12s %s\n", c->uuid, c->root, c->alias[0] ? c->alias : "-",
            tw_tlp_name((enum tw_tlp)c->default_tlp), c->title);
    return 0;
}

static int hub_collection(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "title", required_argument, NULL, 't' }, { "root", required_argument, NULL, 'r' },
        { "alias", required_argument, NULL, 'a' }, { "description", required_argument, NULL, 'D' },
        { "default-tlp", required_argument, NULL, 'L' }, { "group", required_argument, NULL, 'g' },
        { "org", required_argument, NULL, 'o' }, { "read", no_argument, NULL, 'R' },
        { "write", no_argument, NULL, 'W' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hub collection";
    const char *db = NULL, *group = NULL, *org_name = NULL, *verb;
    bool can_read = false, can_write = false, have_title = false;
    struct tw_collection col;
    struct tw_store *st;
    struct tw_err err;
    struct tw_org o;
    enum tw_tlp tlp;
    int64_t gid = 0;
    uint8_t u[16];
    int c, rc = TW_OK, status = TW_EXIT_OK;

    memset(&col, 0, sizeof(col));
    (void)snprintf(col.root, sizeof(col.root), "api");
    col.default_tlp = TW_TLP_AMBER;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'd':
                db = optarg;
                break;
            case 't':
                (void)snprintf(col.title, sizeof(col.title), "%s", optarg);
                have_title = true;
                break;
            case 'r':
                (void)snprintf(col.root, sizeof(col.root), "%s", optarg);
                break;
            case 'a':
                (void)snprintf(col.alias, sizeof(col.alias), "%s", optarg);
                break;
            case 'D':
                (void)snprintf(col.description, sizeof(col.description), "%s", optarg);
                break;
            case 'L':
                if (tw_tlp_parse(tw_str_cstr(optarg), &tlp) != TW_OK || tlp == TW_TLP_NONE)
                    return tw_cli_usage_error(prog, "bad --default-tlp '%s'", optarg);
                col.default_tlp = (uint8_t)tlp;
                break;
            case 'g':
                group = optarg;
                break;
            case 'o':
                org_name = optarg;
                break;
            case 'R':
                can_read = true;
                break;
            case 'W':
                can_write = true;
                break;
            case 'h':
                fputs(collection_help, stdout);
                return TW_EXIT_OK;
            default:
                return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind >= argc)
        return tw_cli_usage_error(prog, "add, list or grant?");
    verb = argv[optind++];
    if (strcmp(verb, "add") == 0 && !have_title)
        return tw_cli_usage_error(prog, "collection add needs --title");
    if (strcmp(verb, "grant") == 0 && (optind + 1 != argc || (org_name == NULL) == (group == NULL)))
        return tw_cli_usage_error(prog, "grant COLLECTION with --org or --group");
    if (strcmp(verb, "add") != 0 && strcmp(verb, "list") != 0 && strcmp(verb, "grant") != 0)
        return tw_cli_usage_error(prog, "unknown verb '%s'", verb);
    if ((st = open_store(prog, db)) == NULL)
        return db == NULL ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    tw_err_clear(&err);
    if (group != NULL)
        rc = tw_store_group_get(st, group, &gid, &err);
    if (rc != TW_OK) {
        /* err says which */
    } else if (strcmp(verb, "add") == 0) {
        col.group = gid;
        if ((rc = tw_uuid_v4(u)) == TW_OK) {
            tw_uuid_format(u, col.uuid);
            col.created = now_us();
            rc = tw_store_collection_add(st, &col, &err);
        }
        if (rc == TW_OK)
            print_collection(&col, NULL);
    } else if (strcmp(verb, "list") == 0) {
        rc = tw_store_collection_each(st, NULL, print_collection, NULL, &err);
    } else if ((rc = tw_store_collection_get(st, col.root, argv[optind], &col, &err)) == TW_OK &&
               (org_name == NULL || (rc = tw_store_org_get(st, org_name, 0, &o, &err)) == TW_OK)) {
        rc = tw_store_grant(
                st, col.id, org_name != NULL ? o.id : 0, gid, can_read, can_write, &err);
        if (rc == TW_OK)
            printf("%s: %s%s%s to %s\n", col.title, can_read ? "read" : "",
                    can_read && can_write ? "+" : "", can_write ? "write" : "",
                    org_name != NULL ? org_name : group);
    }
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg[0] ? err.msg : tw_strerror(rc));
        status = TW_EXIT_ERROR;
    }
    tw_store_close(st);
    return status;
}

/* ==== log verify ==== */

static const char log_help[] =
        "usage: tidewatch hub log verify --db STORE\n"
        "       tidewatch hub log show --db STORE\n"
        "\n"
        "Every request leaves an access log record (who, what, when, the result, and\n"
        "the ids of AMBER, AMBER+STRICT and RED objects returned), chained to the\n"
        "previous record by SHA-256. verify recomputes the chain and names the first\n"
        "record that does not match: exit 0 unbroken, 1 broken.\n";

/* Prints one access log record (hub log show). */
static int show_rec(const struct tw_log_rec *r, void *arg)
{
    char t[TW_TIME_STRLEN];
    struct tw_time tt = { r->time / 1000000, (uint32_t)(r->time % 1000000) * 1000, 6 };

    (void)arg;
    (void)tw_time_format(&tt, 6, t);
    printf("%lld %s %s %s %s %d %s\n", (long long)r->seq, t, r->key_id[0] ? r->key_id : "-",
            r->method, r->path, r->status, r->ids);
    return 0;
}

static int hub_log(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hub log";
    const char *db = NULL;
    int64_t n_ok = 0, bad_seq = 0;
    bool show;
    struct tw_store *st;
    struct tw_err err;
    int c, rc;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd') {
            db = optarg;
        } else if (c == 'h') {
            fputs(log_help, stdout);
            return TW_EXIT_OK;
        } else {
            return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind + 1 != argc ||
            (strcmp(argv[optind], "verify") != 0 && strcmp(argv[optind], "show") != 0))
        return tw_cli_usage_error(prog, "verify or show?");
    if ((st = open_store(prog, db)) == NULL)
        return db == NULL ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    show = strcmp(argv[optind], "show") == 0;
    tw_err_clear(&err);
    rc = tw_store_log_verify(st, show ? show_rec : NULL, NULL, &n_ok, &bad_seq, &err);
    tw_store_close(st);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return TW_EXIT_ERROR;
    }
    if (bad_seq != 0) {
        printf("access log BROKEN at record %lld (%lld records before it verify)\n",
                (long long)bad_seq, (long long)n_ok);
        return TW_EXIT_FINDINGS;
    }
    if (!show)
        printf("access log verifies: %lld records, chain unbroken\n", (long long)n_ok);
    return TW_EXIT_OK;
}

/* ==== tally ==== */

static const char tally_help[] =
        "usage: tidewatch hub tally --db STORE [--json]\n"
        "\n"
        "The sightings tally over every collection: per sighted indicator, and per\n"
        "intrusion set and campaign an 'indicates' relationship links it to, how\n"
        "many distinct organisations reported sightings, first and last seen, and\n"
        "the total count. Readers get their own view over the API: GET /tally/.\n";

static int print_tally(const struct tw_tally_row *r, void *arg)
{
    struct tw_time f = { r->first_seen / 1000000, (uint32_t)(r->first_seen % 1000000) * 1000, 3 };
    struct tw_time l = { r->last_seen / 1000000, (uint32_t)(r->last_seen % 1000000) * 1000, 3 };
    char fs[TW_TIME_STRLEN], ls[TW_TIME_STRLEN];

    (void)tw_time_format(&f, 0, fs);
    (void)tw_time_format(&l, 0, ls);
    if (*(bool *)arg)
        printf("{\"ref\":\"%s\",\"organisations\":%zu,\"first_seen\":\"%s\",\"last_seen\":"
               "\"%s\",\"count\":%lld}\n",
                r->ref, r->orgs, fs, ls, (long long)r->count);
    else
        printf("%-52s %4zu orgs  %8lld sightings  %s .. %s\n", r->ref, r->orgs, (long long)r->count,
                fs, ls);
    return 0;
}

static int hub_tally(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    static const char *const prog = "tidewatch hub tally";
    const char *db = NULL;
    bool json = false;
    struct tw_viewer v;
    struct tw_store *st;
    struct tw_err err;
    int c, rc;

    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'd') {
            db = optarg;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'h') {
            fputs(tally_help, stdout);
            return TW_EXIT_OK;
        } else {
            return tw_cli_usage_error(prog, "bad option");
        }
    }
    if (optind != argc)
        return tw_cli_usage_error(prog, "no arguments expected");
    if ((st = open_store(prog, db)) == NULL)
        return db == NULL ? TW_EXIT_USAGE : TW_EXIT_ERROR;
    memset(&v, 0, sizeof(v));
    v.all = true;
    v.max_tlp = TW_TLP_RED;
    tw_err_clear(&err);
    rc = tw_store_tally(st, &v, print_tally, &json, &err);
    tw_store_close(st);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return TW_EXIT_ERROR;
    }
    return TW_EXIT_OK;
}

/* ==== The family ==== */

static const struct tw_cmd hub_cmds[] = {
    { "init", hub_init, "create the store and print the first hub-admin key" },
    { "serve", hub_serve, "serve TAXII 2.1 over HTTPS" },
    { "org", hub_org, "add and list organisations" },
    { "key", hub_key, "create, list and revoke API keys" },
    { "group", hub_group, "sharing groups and their members" },
    { "collection", hub_collection, "collections and their read/write grants" },
    { "log", hub_log, "verify or show the hash-chained access log" },
    { "tally", hub_tally, "sightings per indicator, intrusion set and campaign" },
    { "import", tw_hub_import, "copy a TAXII 2.1 server's collections and history into the store" },
};

int tw_cmd_hub(int argc, char **argv)
{
    return tw_cli_dispatch("tidewatch hub",
            "The sharing hub: a TAXII 2.1 server with organisations, keys, roles and TLP\n"
            "enforced by the server on every object.",
            hub_cmds, TW_ARRAY_LEN(hub_cmds), argc, argv);
}
