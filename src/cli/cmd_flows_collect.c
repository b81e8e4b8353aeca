/* cmd_flows_collect.c: `tidewatch flows collect` (being written). */
#include <stdio.h>

#include "cli.h"
#include "flows_cli.h"

int tw_flows_collect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    (void)fputs("tidewatch flows collect: not available yet\n", stderr);
    return TW_EXIT_ERROR;
}
