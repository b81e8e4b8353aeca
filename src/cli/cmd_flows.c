/*
 * cmd_flows.c: `tidewatch flows`, NetFlow/IPFIX collection into the flow
 * archive and retro-hunting over it. Each subcommand is in its own file.
 */
#include "cli.h"
#include "flows_cli.h"
#include "tidewatch/common.h"

static const struct tw_cmd flows_cmds[] = {
    { "collect", tw_flows_collect, "collect NetFlow v5/v9 and IPFIX over UDP into an archive" },
    { "import", tw_flows_import, "turn captures or nfdump files into archive flow records" },
    { "hunt", tw_flows_hunt, "retro-hunt an archive for the intelligence's addresses" },
    { "query", tw_flows_query, "filter, count and rank the flows of an archive" },
    { "generate", tw_flows_generate, "send synthetic NetFlow/IPFIX to a collector" },
};

int tw_cmd_flows(int argc, char **argv)
{
    return tw_cli_dispatch("tidewatch flows",
            "Flow records from routers (NetFlow v5, v9, IPFIX), captures and nfdump\n"
            "archives, kept in a compressed time-partitioned archive and hunted for the\n"
            "shared intelligence.",
            flows_cmds, TW_ARRAY_LEN(flows_cmds), argc, argv);
}
