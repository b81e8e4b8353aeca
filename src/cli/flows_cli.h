/*
 * flows_cli.h: the subcommands of `tidewatch flows`, one file each
 * (cmd_flows_<name>.c); cmd_flows.c dispatches.
 */
#ifndef TW_FLOWS_CLI_H
#define TW_FLOWS_CLI_H

int tw_flows_collect(int argc, char **argv);  /* cmd_flows_collect.c */
int tw_flows_import(int argc, char **argv);   /* cmd_flows_import.c */
int tw_flows_hunt(int argc, char **argv);     /* cmd_flows_hunt.c */
int tw_flows_query(int argc, char **argv);    /* cmd_flows_query.c */
int tw_flows_generate(int argc, char **argv); /* cmd_flows_generate.c */

#endif
