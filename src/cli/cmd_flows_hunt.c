/* cmd_flows_hunt.c: `tidewatch flows hunt` (being written). */
#include <stdio.h>

#include "cli.h"
#include "flows_cli.h"

int tw_flows_hunt(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    (void)fputs("tidewatch flows hunt: not available yet\n", stderr);
    return TW_EXIT_ERROR;
}
