/*
 * audit.c: auditing one device (tw_audit_device): the rule set's checks
 * (tw_ruleset_eval), then the builtin rules the set holds, in rule order:
 *
 *   ioc-addresses    every IP literal of every statement (ipscan.c) looked
 *                    up in the intelligence index; revoked indicators never
 *                    hit, and with respect_validity neither do indicators
 *                    not valid now (hunt's meaning). A prefix written in the
 *                    configuration (a.b.c.0/24, or an address with a mask or
 *                    wildcard) hits an indicator whose own range contains
 *                    its network address, and, for prefixes of at most 256
 *                    addresses, an indicator naming any address inside it:
 *                    the index answers point lookups only, so a larger
 *                    prefix cannot be searched for the indicators inside it.
 *   cve              the vulnerability data (vulndb.c) rows that name the
 *                    rule, reported when one of the row's `requires` rules
 *                    fired on this device (or it requires nothing); rows
 *                    the data cannot decide say "cannot determine".
 *   version-unknown  the inputs do not carry the exact software version.
 *   drift            changes against the baseline (drift.c), when one is
 *                    given.
 *
 * Operational outputs are not scanned for addresses: their lines carry no
 * file of their own to point a finding at. Findings below min_severity are
 * dropped (after they count as "fired" for the cve preconditions); the
 * stats' rules.findings counts the findings passed to the callback. Every string a finding carries
 * comes from a masked statement (tw_devconf_mask), the rule set, the vulnerability data or the
 * intelligence index, never from a raw configuration line.
 */
#include <string.h>

#include "audit_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/index.h"
#include "tidewatch/log.h"
#include "tidewatch/time.h"

/* ==== Limits ==== */

/* Indicators named per address lookup (an address more indicators name shows the first 64). */
#define AUDIT_HITS_MAX 64
/* Indicators named per statement (one finding each). */
#define AUDIT_STMT_HITS_MAX 256
/* Largest prefix searched address by address for indicators inside it. */
#define AUDIT_ENUM_V4_MIN_PREFIX 24u
#define AUDIT_ENUM_V6_MIN_PREFIX 120u
/* Address-by-address lookups per device, over all prefixes. */
#define AUDIT_ENUM_BUDGET ((uint64_t)1 << 20)

/* ==== Shared helpers (audit_int.h) ==== */

int tw__audit_mask_node(
        enum tw_platform p, const struct tw_cfg_node *n, char **out, size_t *out_len)
{
    size_t len = n->len, cap = len + 64, most = len * 9 + 64;

    *out = NULL;
    *out_len = 0;
    for (;;) {
        char *buf = tw_malloc(cap);
        size_t w;

        if (buf == NULL)
            return TW_ENOMEM;
        w = tw_devconf_mask(p, n->text, len, buf, cap);
        if (w + 1 < cap || cap >= most) {
            buf[TW_MIN(w, cap - 1)] = '\0';
            *out = buf;
            *out_len = TW_MIN(w, cap - 1);
            return TW_OK;
        }
        tw_free(buf);
        cap = TW_MIN(cap * 2, most);
    }
}

int tw__audit_context(enum tw_platform p, const struct tw_cfg_node *n, char **out)
{
    char *buf = tw_malloc(TW_AUDIT_MSG_MAX);

    *out = buf;
    if (buf == NULL)
        return TW_ENOMEM;
    buf[0] = '\0';
    if (n->parent != NULL && n->depth > 0)
        (void)tw_devconf_path(p, n->parent, buf, TW_AUDIT_MSG_MAX);
    return TW_OK;
}

/* ==== The evaluation of one device ==== */

struct audit {
    const struct tw_audit_config *c;
    const struct tw_devconf *d;
    tw_finding_fn fn;
    void *fn_ctx;
    struct tw_audit_stats *st;
    bool *fired; /* per rule: it found something on this device (any severity) */
    size_t n_rules;
    uint64_t delivered;
    int64_t now;          /* seconds, for indicator validity */
    uint64_t enum_budget; /* address-by-address lookups left */
    bool enum_warned;     /* the budget ran out and the log says so */
};

/* Passes f on unless it is below the threshold. */
static int deliver(struct audit *a, const struct tw_finding *f)
{
    if (f->severity < a->c->min_severity)
        return 0;
    a->delivered++;
    return a->fn(a->fn_ctx, f);
}

static int on_rule_finding(void *ctx, const struct tw_finding *f)
{
    struct audit *a = ctx;

    if (f->rule < a->n_rules)
        a->fired[f->rule] = true;
    return deliver(a, f);
}

/* A finding of rule i with everything else empty. */
static void finding_init(struct audit *a, size_t i, struct tw_finding *f)
{
    const struct tw_rule_info *r = tw_ruleset_rule(a->c->rules, i);

    memset(f, 0, sizeof(*f));
    f->device = a->d->name;
    f->file = a->d->path;
    f->platform = a->d->platform;
    f->rule = i;
    f->rule_id = r->id;
    f->severity = r->severity;
    f->title = r->title;
    f->context = "";
    f->evidence = "";
    f->message = "";
    f->touches = "";
    f->ref = "";
}

/* Copies s into out as printable ASCII (cut at cap - 1). */
static void printable(const char *s, char *out, size_t cap)
{
    size_t k = 0;

    for (; s != NULL && *s != '\0' && k + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f)
            out[k++] = *s;
        else
            out[k++] = '?';
    }
    out[k] = '\0';
}

/* The top-level `version ...` statement, or NULL. */
static const struct tw_cfg_node *version_node(const struct tw_devconf *d)
{
    for (const struct tw_cfg_node *n = d->root.child; n != NULL; n = n->next)
        if (n->len > 8 && memcmp(n->text, "version ", 8) == 0)
            return n;
    return NULL;
}

/* ==== ioc-addresses ==== */

/* One indicator a statement names, and what named it. */
struct stmt_hit {
    uint32_t ind;
    bool inside;   /* found inside a prefix of the statement, not at its address */
    bool verify;   /* the indicator's pattern has conditions beyond the address */
    char lit[64];  /* the literal as found: "203.0.113.77", "203.0.113.0/24" */
    char addr[48]; /* the address inside a prefix that the indicator names */
};

struct ioc_stmt {
    struct audit *a;
    struct stmt_hit hits[AUDIT_STMT_HITS_MAX];
    size_t n_hits;
    uint32_t found[AUDIT_HITS_MAX];
};

/* Whether an indicator may hit: never when revoked; with respect_validity only when valid now. */
static bool usable(const struct audit *a, uint32_t n)
{
    enum tw_ind_state s = tw_index_state(a->c->intel, n, a->now);

    if (s == TW_IND_STATE_REVOKED)
        return false;
    return !a->c->respect_validity || s == TW_IND_ACTIVE;
}

static size_t lookup(const struct tw_index *idx, const struct tw_ip *ip, uint32_t *out)
{
    size_t n = ip->family == 4 ? tw_index_lookup_ipv4(idx, tw_ip_v4(ip), out, AUDIT_HITS_MAX)
                               : tw_index_lookup_ip(idx, ip, out, AUDIT_HITS_MAX);

    return TW_MIN(n, (size_t)AUDIT_HITS_MAX);
}

static void literal_text(const struct tw__ip_literal *lit, char *out, size_t cap)
{
    char ip[TW_IP_STRLEN];

    (void)tw_ip_format(&lit->ip, ip);
    if (lit->form == TW__IP_ADDR || lit->form == TW__IP_NONCONTIG)
        snprintf(out, cap, "%s", ip);
    else
        snprintf(out, cap, "%s/%u", ip, lit->prefix_len);
}

/* Records the usable indicators among found[0..n) for this statement, once each. */
static void record(
        struct ioc_stmt *s, size_t n, const struct tw__ip_literal *lit, const struct tw_ip *inside)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t ind = s->found[k];
        struct stmt_hit *h;
        bool seen = false;

        if (!usable(s->a, ind))
            continue;
        for (size_t j = 0; j < s->n_hits && !seen; j++)
            seen = s->hits[j].ind == ind;
        if (seen || s->n_hits == AUDIT_STMT_HITS_MAX)
            continue;
        h = &s->hits[s->n_hits++];
        memset(h, 0, sizeof(*h));
        h->ind = ind;
        h->inside = inside != NULL;
        h->verify = (tw_index_get(s->a->c->intel, ind)->flags & TW_IND_EXACT) == 0;
        literal_text(lit, h->lit, sizeof(h->lit));
        if (inside != NULL)
            (void)tw_ip_format(inside, h->addr);
    }
}

/* Adds 1 to the address (host order within its family); false on wrap. */
static bool ip_next(struct tw_ip *ip)
{
    int last = ip->family == 4 ? 3 : 15;

    for (int i = last; i >= 0; i--) {
        if (++ip->bytes[i] != 0)
            return true;
    }
    return false;
}

/* Looks up every address of a small prefix (its network address aside), within the budget. */
static void search_inside(struct ioc_stmt *s, const struct tw__ip_literal *lit)
{
    struct audit *a = s->a;
    unsigned max = tw_ip_max_prefix(&lit->ip);
    unsigned min_prefix = lit->ip.family == 4 ? AUDIT_ENUM_V4_MIN_PREFIX : AUDIT_ENUM_V6_MIN_PREFIX;
    struct tw_ip net = lit->ip, cur;
    uint64_t count;

    if (lit->form != TW__IP_CIDR && lit->form != TW__IP_MASK && lit->form != TW__IP_WILDCARD)
        return;
    if (lit->prefix_len < min_prefix || lit->prefix_len >= max ||
            tw_ip_host_bits_set(&lit->ip, lit->prefix_len))
        return;
    count = (uint64_t)1 << (max - lit->prefix_len);
    tw_ip_mask(&net, lit->prefix_len);
    cur = net;
    if (a->enum_budget < count - 1 && !a->enum_warned) {
        a->enum_warned = true;
        tw_log(TW_LOG_WARN, "audit",
                "%s: more than %llu addresses inside configured prefixes; the rest are looked "
                "up by their network address only",
                a->d->name, (unsigned long long)AUDIT_ENUM_BUDGET);
    }
    for (uint64_t k = 1; k < count && a->enum_budget > 0; k++) {
        size_t n;

        if (!ip_next(&cur))
            break;
        a->enum_budget--;
        n = lookup(a->c->intel, &cur, s->found);
        if (n > 0)
            record(s, n, lit, &cur);
    }
}

static int on_literal(void *ctx, const struct tw__ip_literal *lit)
{
    struct ioc_stmt *s = ctx;
    size_t n;

    s->a->st->ip_literals++;
    n = lookup(s->a->c->intel, &lit->ip, s->found);
    if (n > 0)
        record(s, n, lit, NULL);
    search_inside(s, lit);
    return 0;
}

/* One finding per indicator the statement names. */
static int ioc_findings(struct audit *a, size_t rule, const struct tw_cfg_node *n,
        const struct ioc_stmt *s, const char *masked)
{
    char *context = NULL, *evidence;
    char msg[TW_AUDIT_MSG_MAX], id[64], name[160];
    const char *nl;
    int rc = TW_OK;

    if (s->n_hits == 0)
        return TW_OK;
    if (tw__audit_context(a->d->platform, n, &context) != TW_OK)
        return TW_ENOMEM;
    nl = strchr(masked, '\n');
    evidence = tw_strndup(masked, nl != NULL ? (size_t)(nl - masked) : strlen(masked));
    if (evidence == NULL) {
        tw_free(context);
        return TW_ENOMEM;
    }
    for (size_t i = 0; i < s->n_hits && rc == 0; i++) {
        const struct stmt_hit *h = &s->hits[i];
        struct tw_finding f;
        const char *raw_name = tw_index_name(a->c->intel, h->ind);

        tw_index_id(a->c->intel, h->ind, id);
        printable(raw_name, name, sizeof(name));
        if (h->inside)
            snprintf(msg, sizeof(msg), "%s contains %s, named by indicator %s%s%s(%s)%s", h->lit,
                    h->addr, name[0] ? "\"" : "", name, name[0] ? "\" " : "", id,
                    h->verify ? "; its pattern has conditions beyond the address" : "");
        else
            snprintf(msg, sizeof(msg), "%s matches indicator %s%s%s(%s)%s", h->lit,
                    name[0] ? "\"" : "", name, name[0] ? "\" " : "", id,
                    h->verify ? "; its pattern has conditions beyond the address" : "");
        finding_init(a, rule, &f);
        f.line = n->line;
        f.context = context;
        f.evidence = evidence;
        f.message = msg;
        f.ref = id;
        rc = deliver(a, &f);
    }
    tw_free(evidence);
    tw_free(context);
    return rc;
}

/* The next statement in file order (depth first). */
static const struct tw_cfg_node *next_node(const struct tw_cfg_node *n)
{
    if (n->child != NULL)
        return n->child;
    while (n != NULL) {
        if (n->next != NULL)
            return n->next;
        n = n->parent;
        if (n != NULL && n->parent == NULL)
            return NULL; /* back at the root */
    }
    return NULL;
}

static int run_ioc(struct audit *a, size_t rule)
{
    struct ioc_stmt *s = tw_calloc(1, sizeof(*s));
    int rc = TW_OK;

    if (s == NULL)
        return TW_ENOMEM;
    s->a = a;
    for (const struct tw_cfg_node *n = a->d->root.child; n != NULL && rc == 0; n = next_node(n)) {
        char *masked = NULL;
        size_t mlen = 0;

        if (tw__audit_mask_node(a->d->platform, n, &masked, &mlen) != TW_OK) {
            rc = TW_ENOMEM;
            break;
        }
        s->n_hits = 0;
        (void)tw__ipscan(a->d->platform, masked, mlen, on_literal, s);
        rc = ioc_findings(a, rule, n, s, masked);
        tw_free(masked);
    }
    tw_free(s);
    return rc;
}

/* ==== cve and version-unknown ==== */

/*
 * The platform whose vulnerability rows apply: an IOS-family device whose
 * version or `version` statement is 16 or later runs IOS XE whatever the
 * platform detection said (classic IOS trains end at 15.x).
 */
static enum tw_platform vuln_platform(const struct tw_devconf *d)
{
    struct tw__version v;
    uint64_t major = 0;
    struct tw_str train;
    long dot;

    if (d->platform != TW_PLAT_IOS)
        return d->platform;
    if (d->version[0] != '\0') {
        size_t n = strlen(d->version);
        if (tw__version_parse(TW_PLAT_IOS, d->version, n, &v) == TW_OK)
            return TW_PLAT_IOS;
        if (tw__version_parse(TW_PLAT_IOSXE, d->version, n, &v) == TW_OK && v.num[0] >= 16)
            return TW_PLAT_IOSXE;
        return TW_PLAT_IOS;
    }
    train = tw_str_cstr(d->train);
    dot = tw_str_find(train, '.');
    if (dot > 0 && tw_parse_u64(tw_str_make(train.ptr, (size_t)dot), 999, &major) == TW_OK &&
            major >= 16)
        return TW_PLAT_IOSXE;
    return TW_PLAT_IOS;
}

struct cve_run {
    struct audit *a;
    size_t rule;
    const char *rule_id;
    enum tw_platform vp;
    int rc;
};

/* The first rule of requires ("A|B") that fired, or NULL when none did. */
static const char *fired_requirement(struct audit *a, const char *requires, char *buf, size_t cap)
{
    struct tw_str rest = tw_str_cstr(requires), tok;

    while (tw_str_split(&rest, '|', &tok)) {
        long i;

        if (tok.len == 0 || tok.len >= cap)
            continue;
        memcpy(buf, tok.ptr, tok.len);
        buf[tok.len] = '\0';
        i = tw_ruleset_find(a->c->rules, buf);
        if (i >= 0 && (size_t)i < a->n_rules && a->fired[i])
            return buf;
    }
    return NULL;
}

static int on_vuln(void *ctx, const struct tw_vuln_hit *h)
{
    struct cve_run *cr = ctx;
    struct audit *a = cr->a;
    const struct tw_devconf *d = a->d;
    const struct tw_cfg_node *vn = version_node(d);
    char msg[TW_AUDIT_MSG_MAX], why[128] = "", ver[64], train[48], evidence[160], req[80];
    const char *fired = NULL, *title = tw_platform_title(cr->vp);
    struct tw_finding f;

    if (strcmp(h->rule_id, cr->rule_id) != 0)
        return 0;
    if (h->requires[0] != '\0') {
        fired = fired_requirement(a, h->requires, req, sizeof(req));
        if (fired == NULL)
            return 0;
        snprintf(why, sizeof(why), "; precondition %s fired", fired);
    }
    printable(d->version, ver, sizeof(ver));
    printable(d->train, train, sizeof(train));
    if (h->state == TW_VULN_AFFECTED)
        snprintf(msg, sizeof(msg), "%s%s: %s %s is in train %s, below the fixed release %s%s",
                h->cve, h->kev ? " (CISA KEV)" : "", title, ver, h->train, h->fixed, why);
    else if (strcmp(h->train, "*") == 0)
        snprintf(msg, sizeof(msg),
                "%s%s: cannot determine whether %s %s is affected: the data has no fixed "
                "release for any %s train%s",
                h->cve, h->kev ? " (CISA KEV)" : "", title, ver, title, why);
    else if (h->train[0] != '\0')
        snprintf(msg, sizeof(msg),
                "%s%s: cannot determine whether %s %s is affected: the data has no fixed "
                "release for train %s%s",
                h->cve, h->kev ? " (CISA KEV)" : "", title, ver, h->train, why);
    else if (ver[0] != '\0')
        snprintf(msg, sizeof(msg),
                "%s%s: cannot determine: version \"%s\" is not a %s release the data can "
                "place%s",
                h->cve, h->kev ? " (CISA KEV)" : "", ver, title, why);
    else if (train[0] != '\0')
        snprintf(msg, sizeof(msg),
                "%s%s: cannot determine: the configuration names train %s only, not the exact "
                "release (supply show version)%s",
                h->cve, h->kev ? " (CISA KEV)" : "", train, why);
    else
        snprintf(msg, sizeof(msg),
                "%s%s: cannot determine: the exact software version is not known (supply "
                "show version)%s",
                h->cve, h->kev ? " (CISA KEV)" : "", why);
    if (ver[0] != '\0') {
        char from[32];
        printable(d->version_from, from, sizeof(from));
        snprintf(evidence, sizeof(evidence), "software version %s%s%s%s", ver,
                from[0] ? " (from " : "", from, from[0] ? ")" : "");
    } else {
        snprintf(evidence, sizeof(evidence), "absent: exact software version");
    }
    finding_init(a, cr->rule, &f);
    f.line = vn != NULL ? vn->line : 0;
    f.evidence = evidence;
    f.message = msg;
    f.ref = h->cve;
    cr->rc = deliver(a, &f);
    return cr->rc;
}

static int run_cve(struct audit *a, size_t rule)
{
    struct cve_run cr = { a, rule, tw_ruleset_rule(a->c->rules, rule)->id, vuln_platform(a->d), 0 };
    int rc = tw_vulndb_check(a->c->vulns, cr.vp, a->d->version, on_vuln, &cr);

    return rc != 0 ? rc : cr.rc;
}

static int run_version_unknown(struct audit *a, size_t rule)
{
    const struct tw_devconf *d = a->d;
    const struct tw_cfg_node *vn = version_node(d);
    char msg[TW_AUDIT_MSG_MAX], train[48];
    char *evidence = NULL;
    size_t elen = 0;
    struct tw_finding f;
    int rc;

    if (d->version[0] != '\0')
        return 0;
    printable(d->train, train, sizeof(train));
    snprintf(msg, sizeof(msg),
            "the exact software version is not in the inputs%s%s%s: supply `show version` "
            "output (FILE.show-version.txt beside the configuration) so that vulnerable "
            "releases can be checked",
            train[0] ? " (the configuration names train " : "", train, train[0] ? " only)" : "");
    if (vn != NULL && tw__audit_mask_node(d->platform, vn, &evidence, &elen) != TW_OK)
        return TW_ENOMEM;
    finding_init(a, rule, &f);
    f.line = vn != NULL ? vn->line : 0;
    f.evidence = evidence != NULL ? evidence : "absent: exact software version";
    f.message = msg;
    rc = deliver(a, &f);
    tw_free(evidence);
    return rc;
}

/* ==== Drift through the threshold ==== */

static int on_drift_finding(void *ctx, const struct tw_finding *f)
{
    return deliver(ctx, f);
}

/* ==== Public ==== */

int tw_audit_device(const struct tw_audit_config *c, const struct tw_devconf *d,
        const struct tw_devconf *baseline, tw_finding_fn fn, void *ctx,
        struct tw_audit_stats *stats)
{
    struct tw_audit_stats local;
    struct audit a;
    bool drift_done = false;
    int rc;

    if (stats == NULL)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    if (c == NULL || c->rules == NULL || d == NULL || fn == NULL)
        return TW_EINVAL;
    memset(&a, 0, sizeof(a));
    a.c = c;
    a.d = d;
    a.fn = fn;
    a.fn_ctx = ctx;
    a.st = stats;
    a.n_rules = tw_ruleset_count(c->rules);
    a.now = tw_time_now().sec;
    a.enum_budget = AUDIT_ENUM_BUDGET;
    a.fired = tw_calloc(a.n_rules > 0 ? a.n_rules : 1, sizeof(*a.fired));
    if (a.fired == NULL)
        return TW_ENOMEM;
    rc = tw_ruleset_eval(c->rules, d, on_rule_finding, &a, &stats->rules);
    for (size_t i = 0; i < a.n_rules && rc == 0; i++) {
        const struct tw_rule_info *r = tw_ruleset_rule(c->rules, i);

        if (r->builtin == TW_BUILTIN_NONE || (r->platforms & TW_PLAT_BIT(d->platform)) == 0)
            continue;
        switch (r->builtin) {
            case TW_BUILTIN_IOC_ADDRESSES:
                if (c->intel != NULL)
                    rc = run_ioc(&a, i);
                break;
            case TW_BUILTIN_CVE:
                if (c->vulns != NULL)
                    rc = run_cve(&a, i);
                break;
            case TW_BUILTIN_VERSION_UNKNOWN:
                rc = run_version_unknown(&a, i);
                break;
            case TW_BUILTIN_DRIFT:
                if (baseline != NULL && !drift_done) {
                    drift_done = true;
                    rc = tw__audit_drift_run(c->rules, d, baseline, (long)i, on_drift_finding, &a,
                            &stats->drift_changes);
                }
                break;
            default:
                break;
        }
    }
    stats->rules.findings = a.delivered;
    tw_free(a.fired);
    return rc;
}
