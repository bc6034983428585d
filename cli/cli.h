/*  =========================================================================
    cli - what the parts of the command-line tool share

    Constants only: mcpact.c and bench_init.c both print --json outputs,
    which carry one version of their shape.
    =========================================================================
*/

#ifndef MCPACT_CLI_CLI_H_INCLUDED
#define MCPACT_CLI_CLI_H_INCLUDED

//  "schemaVersion" of every --json output: raised when a key changes
//  meaning or goes away (new keys may come without it).
#define CLI_JSON_SCHEMA_VERSION 1

#endif
