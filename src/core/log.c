/*
 * log.c: text or JSON log lines (see include/tidewatch/log.h).
 */
#include "tidewatch/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tidewatch/buf.h"
#include "tidewatch/err.h"
#include "tidewatch/time.h"

static FILE *log_out;
static enum tw_log_format log_format = TW_LOG_TEXT;
static enum tw_log_level log_level = TW_LOG_WARN;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void tw_log_setup(FILE *out, enum tw_log_format format, enum tw_log_level level)
{
    log_out = out;
    log_format = format;
    log_level = level;
}

enum tw_log_level tw_log_get_level(void)
{
    return log_level;
}

int tw_log_level_parse(const char *s, enum tw_log_level *out)
{
    for (size_t i = 0; i < TW_ARRAY_LEN(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum tw_log_level)i;
            return TW_OK;
        }
    }
    return TW_EINVAL;
}

int tw_log_format_parse(const char *s, enum tw_log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = TW_LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = TW_LOG_JSON;
    else
        return TW_EINVAL;
    return TW_OK;
}

void tw_log(enum tw_log_level level, const char *module, const char *fmt, ...)
{
    char ts[TW_TIME_STRLEN], msg[1024];
    struct tw_time now;
    FILE *out = log_out ? log_out : stderr;
    va_list ap;

    if (level > log_level)
        return;
    now = tw_time_now();
    tw_time_format(&now, 3, ts);
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);

    if (log_format == TW_LOG_JSON) {
        struct tw_buf b;
        int rc;

        tw_buf_init(&b, sizeof(msg) * 8);
        rc = tw_buf_printf(
                &b, "{\"timestamp\":\"%s\",\"level\":\"%s\",\"module\":\"", ts, level_names[level]);
        if (rc == TW_OK)
            rc = tw_buf_json_escape(&b, module, strlen(module));
        if (rc == TW_OK)
            rc = tw_buf_puts(&b, "\",\"message\":\"");
        if (rc == TW_OK)
            rc = tw_buf_json_escape(&b, msg, strlen(msg));
        if (rc == TW_OK)
            rc = tw_buf_puts(&b, "\"}\n");
        if (rc == TW_OK)
            (void)fputs(b.ptr, out);
        tw_buf_cleanup(&b);
    } else {
        char up[8];
        size_t i;

        for (i = 0; level_names[level][i] && i + 1 < sizeof(up); i++)
            up[i] = (char)(level_names[level][i] - 'a' + 'A');
        up[i] = '\0';
        (void)fprintf(out, "%s %s %s: %s\n", ts, up, module, msg);
    }
    (void)fflush(out);
}
