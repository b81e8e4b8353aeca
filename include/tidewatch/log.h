/*
 * log.h: process-wide logging to a stream, as text lines or JSON lines.
 *
 * Text:  2026-11-23T10:00:00.123Z WARN intel: message
 * JSON:  {"timestamp":"2026-11-23T10:00:00.123Z","level":"warn","module":"intel","message":"..."}
 * Messages below the configured level cost one comparison. Callers must never
 * pass secrets (keys, passwords) into a message.
 */
#ifndef TIDEWATCH_LOG_H
#define TIDEWATCH_LOG_H

#include <stdio.h>

#include "tidewatch/common.h"

enum tw_log_level {
    TW_LOG_ERROR = 0,
    TW_LOG_WARN = 1,
    TW_LOG_INFO = 2,
    TW_LOG_DEBUG = 3,
};

enum tw_log_format {
    TW_LOG_TEXT = 0,
    TW_LOG_JSON = 1,
};

/* Sets the destination (NULL means stderr), format and threshold. */
void tw_log_setup(FILE *out, enum tw_log_format format, enum tw_log_level level);
enum tw_log_level tw_log_get_level(void);
/* Parses "error", "warn", "info" or "debug". Returns TW_OK or TW_EINVAL. */
int tw_log_level_parse(const char *s, enum tw_log_level *out) TW_MUST_CHECK;
/* Parses "text" or "json". Returns TW_OK or TW_EINVAL. */
int tw_log_format_parse(const char *s, enum tw_log_format *out) TW_MUST_CHECK;
/* Writes one record if level is at or below the threshold. */
void tw_log(enum tw_log_level level, const char *module, const char *fmt, ...) TW_PRINTF(3, 4);

#endif
