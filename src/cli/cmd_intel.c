#include "cli.h"
int tw_cmd_intel(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return TW_EXIT_ERROR;
}
int tw_cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return TW_EXIT_ERROR;
}
