/*
 * main.c: the tidewatch binary. Global options, then the subcommand table;
 * each family lives in src/cli/cmd_<family>.c.
 */
#include <stdio.h>
#include <string.h>

#include <getopt.h>

#include "cli.h"
#include "tidewatch/log.h"
#include "tidewatch/version.h"

static const struct tw_cmd commands[] = {
    { "intel", tw_cmd_intel, "validate, convert, index and look up threat intelligence" },
    { "hunt", tw_cmd_hunt, "hunt packet captures for the intelligence, through every tunnel" },
    { "hub", tw_cmd_hub, "the TAXII 2.1 sharing hub: organisations, keys, TLP, access log" },
    { "audit", tw_cmd_audit, "audit device configurations: hardening, tradecraft, CVEs, drift" },
    { "flows", tw_cmd_flows, "collect NetFlow/IPFIX into an archive and retro-hunt it" },
    { "demo", tw_cmd_demo, "run the intelligence workflow on the embedded sample bundle" },
};

static const char about[] =
        "tidewatch: shared intelligence, hunting, device audit and exposure scoping\n"
        "for telecom networks under attack.\n\n"
        "global options (before the command):\n"
        "  --log-level LEVEL   error, warn (default), info or debug\n"
        "  --log-format FMT    text (default) or json, written to standard error\n"
        "  --version           print the version and exit\n"
        "  -h, --help          this help";

int main(int argc, char **argv)
{
    enum tw_log_level level = TW_LOG_WARN;
    enum tw_log_format format = TW_LOG_TEXT;
    int i = 1;

    /* Global options stop at the first non-option (the command). */
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0) {
            printf("tidewatch %s\n", TW_VERSION_STRING);
            return TW_EXIT_OK;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            break;
        } else if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
            if (tw_log_level_parse(argv[++i], &level) != 0)
                return tw_cli_usage_error("tidewatch", "bad --log-level '%s'", argv[i]);
        } else if (strcmp(a, "--log-format") == 0 && i + 1 < argc) {
            if (tw_log_format_parse(argv[++i], &format) != 0)
                return tw_cli_usage_error("tidewatch", "bad --log-format '%s'", argv[i]);
        } else {
            return tw_cli_usage_error("tidewatch", "unknown option '%s'", a);
        }
    }
    int status;

    tw_log_setup(stderr, format, level);
    status = tw_cli_dispatch("tidewatch", about, commands, sizeof(commands) / sizeof(commands[0]),
            argc - i + 1, argv + i - 1);
    /* Every report goes to standard output; a failed write there (full disk,
     * closed pipe) must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tidewatch: error writing standard output\n");
        return TW_EXIT_ERROR;
    }
    return status;
}
