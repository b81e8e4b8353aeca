/*
 * cli.c: subcommand dispatch and usage helpers shared by src/cli/cmd_*.c.
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include <getopt.h>

static void print_table(
        FILE *out, const char *prog, const char *about, const struct tw_cmd *cmds, size_t n)
{
    fprintf(out, "usage: %s <command> [options] [args]\n\n%s\n\ncommands:\n", prog, about);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(out, "\nRun '%s <command> --help' for a command's options.\n", prog);
}

int tw_cli_dispatch(const char *prog, const char *about, const struct tw_cmd *cmds, size_t n,
        int argc, char **argv)
{
    const char *name;

    if (argc < 2) {
        print_table(stderr, prog, about, cmds, n);
        return TW_EXIT_USAGE;
    }
    name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        print_table(stdout, prog, about, cmds, n);
        return TW_EXIT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cmds[i].name, name) == 0) {
            optind = 0; /* glibc: full getopt reset for the subcommand */
            return cmds[i].fn(argc - 1, argv + 1);
        }
    }
    return tw_cli_usage_error(prog, "unknown command '%s'", name);
}

int tw_cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;

    (void)fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun '%s --help' for usage.\n", prog);
    return TW_EXIT_USAGE;
}
