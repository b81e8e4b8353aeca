/* cmd_flows_import.c: `tidewatch flows import` (being written). */
#include <stdio.h>

#include "cli.h"
#include "flows_cli.h"

int tw_flows_import(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    (void)fputs("tidewatch flows import: not available yet\n", stderr);
    return TW_EXIT_ERROR;
}
