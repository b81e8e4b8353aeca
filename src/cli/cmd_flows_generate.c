/* cmd_flows_generate.c: `tidewatch flows generate` (being written). */
#include <stdio.h>

#include "cli.h"
#include "flows_cli.h"

int tw_flows_generate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    (void)fputs("tidewatch flows generate: not available yet\n", stderr);
    return TW_EXIT_ERROR;
}
