/* cmd_flows_query.c: `tidewatch flows query` (being written). */
#include <stdio.h>

#include "cli.h"
#include "flows_cli.h"

int tw_flows_query(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    (void)fputs("tidewatch flows query: not available yet\n", stderr);
    return TW_EXIT_ERROR;
}
