/*
 * cli.h: what the subcommand files share: the command table row, exit codes
 * and small helpers for usage and option errors. Commands are rows in static
 * tables (nginx/Suricata style); a family such as `intel` has a table of its own.
 */
#ifndef TW_CLI_H
#define TW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <sys/socket.h>

/* Exit statuses, documented in tidewatch(1). */
enum tw_exit {
    TW_EXIT_OK = 0,       /* success: all valid, something found */
    TW_EXIT_FINDINGS = 1, /* ran fine, and the answer is "no": invalid input, no match */
    TW_EXIT_USAGE = 2,    /* bad command line */
    TW_EXIT_ERROR = 3,    /* could not do the job: I/O error, out of memory */
};

typedef int tw_cmd_fn(int argc, char **argv);

struct tw_cmd {
    const char *name;
    tw_cmd_fn *fn;
    const char *summary; /* one line for the parent's --help */
};

/*
 * Runs the row of `cmds` named by argv[1]. `prog` is the command path so far
 * ("tidewatch intel"), `about` a paragraph for --help. Handles -h/--help and
 * "help" itself. Returns the command's exit status.
 */
int tw_cli_dispatch(const char *prog, const char *about, const struct tw_cmd *cmds, size_t n,
        int argc, char **argv);

/* Prints "prog: message" and a hint to run --help; returns TW_EXIT_USAGE. */
int tw_cli_usage_error(const char *prog, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

struct tw_buf;
struct tw_err;

/*
 * Reads the whole file at `path` ("-" for standard input) into out, which this
 * initialises with cap `max`. Returns TW_OK, TW_EIO or TW_ELIMIT with err set.
 */
int tw_cli_slurp(const char *path, size_t max, struct tw_buf *out, struct tw_err *err);
/* Writes data to `path`, or to standard output when path is NULL or "-". */
int tw_cli_write(const char *path, const char *data, size_t len, struct tw_err *err);
/* Like tw_cli_write, but a file appears whole or not at all: the data goes to
 * a temporary file beside it, which is synced and renamed over the path. */
int tw_cli_write_atomic(const char *path, const char *data, size_t len, struct tw_err *err);

/*
 * An API key from the first line of `file`, or else from TIDEWATCH_KEY, into
 * out. Returns an exit status, having said what is wrong on stderr.
 */
int tw_cli_read_key(const char *prog, const char *file, char *out, size_t size);

struct sockaddr_storage;

/*
 * Parses "ADDR:PORT" (numeric IPv4) or "[ADDR]:PORT" (numeric IPv6) into a
 * socket address; host names are refused. Port 0 (the kernel chooses) only
 * when `port0`. Returns 0, or -1 with `why` set.
 */
int tw_cli_parse_sockaddr(
        const char *s, bool port0, struct sockaddr_storage *ss, socklen_t *len, const char **why);

/* The family entry points (src/cli/cmd_<name>.c). */
int tw_cmd_intel(int argc, char **argv);
int tw_cmd_hunt(int argc, char **argv);
int tw_cmd_demo(int argc, char **argv);
int tw_cmd_hub(int argc, char **argv);
int tw_cmd_audit(int argc, char **argv);
int tw_cmd_flows(int argc, char **argv);
/* `tidewatch hub import` (cmd_hub_import.c), a row of the hub family's table. */
int tw_hub_import(int argc, char **argv);
/* The sharing loop of `tidewatch demo` through a live hub (demo_hub.c). */
int tw_demo_hub(void);
/* Step 9 of `tidewatch demo`: the sample fleet audited (demo_audit.c); html_path may be NULL. */
int tw_demo_audit(const char *html_path);
struct tw_index;
/* Step 10 of the demo (demo_flows.c): NetFlow collected over loopback, then hunted. */
int tw_demo_flows(const struct tw_index *idx);

#endif
