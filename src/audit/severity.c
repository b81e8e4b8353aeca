/*
 * severity.c: the names of severities and builtin rules, shared by the rule
 * parser, the reports and the command line.
 */
#include "tidewatch/audit.h"

static const char *const sev_names[TW_SEV_COUNT] = {
    [TW_SEV_INFO] = "info",
    [TW_SEV_LOW] = "low",
    [TW_SEV_MEDIUM] = "medium",
    [TW_SEV_HIGH] = "high",
    [TW_SEV_CRITICAL] = "critical",
};

static const char *const builtin_names[TW_BUILTIN_COUNT] = {
    [TW_BUILTIN_NONE] = "",
    [TW_BUILTIN_IOC_ADDRESSES] = "ioc-addresses",
    [TW_BUILTIN_CVE] = "cve",
    [TW_BUILTIN_VERSION_UNKNOWN] = "version-unknown",
    [TW_BUILTIN_DRIFT] = "drift",
};

const char *tw_severity_name(enum tw_severity s)
{
    return (unsigned)s < TW_SEV_COUNT ? sev_names[s] : "unknown";
}

int tw_severity_parse(struct tw_str s, enum tw_severity *out)
{
    for (unsigned i = 0; i < TW_SEV_COUNT; i++) {
        if (tw_str_caseeq(s, tw_str_cstr(sev_names[i]))) {
            *out = (enum tw_severity)i;
            return TW_OK;
        }
    }
    return TW_EINVAL;
}

const char *tw_builtin_name(enum tw_builtin b)
{
    return (unsigned)b < TW_BUILTIN_COUNT ? builtin_names[b] : "";
}
