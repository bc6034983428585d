/*  =========================================================================
    resources - the CLI's commands for resources and prompts, and its
    printer of server log messages

    `mcpact resources`, `mcpact read URI`, `mcpact prompts` and `mcpact
    prompt NAME [ARG=VALUE...]` (docs/cli.md), on the public API alone;
    mcpact.c parses the common options and hands the words after the
    command over. Single-threaded but for the log printer, which the
    runtime calls on a worker thread and which writes through the display
    (thread-safe).
    =========================================================================
*/

#ifndef MCPACT_CLI_RESOURCES_H_INCLUDED
#define MCPACT_CLI_RESOURCES_H_INCLUDED

#include <mcpact.h>

#include "display.h"
#include "serve.h"

#include <stdbool.h>
#include <stdio.h>

//  What the commands take from the command line.
typedef struct {
    const char *command;      //  resources | read | prompts | prompt
    const char *const *words; //  the words after the command
    int word_count;           //  how many
    const char *server;       //  --server NAME, or NULL
    bool json;                //  --json
    int timeout_ms;           //  --timeout (read, prompt); 0: the server's
    remote_t *remote;         //  --connect: the daemon asked instead of `agent`
    const char *agent_name;   //  with `remote`: its agent ("" the default)
} cli_resources_t;

//  True if `name` is one of these commands.
bool cli_resources_is_command (const char *name);

//  Prints the help of `command` (one of these).
void cli_resources_help (const char *command, FILE *out);

//  Checks the words after the command; NULL if they do, else what is
//  wrong (a static string, or one in `buffer`).
const char *cli_resources_check (const char *command, const char *const *words, int count,
                                 char *buffer, size_t size);

//  Runs the command on a started agent, or with opts->remote on the
//  daemon's agent. Returns an exit code (as `mcpact call`'s for read and
//  prompt).
int cli_resources_run (mcpact_agent_t *agent, const cli_resources_t *opts);

//  The server log printer: prints each message at or above `level` (an
//  MCP level name) through `display`. NULL if the level is not one.
typedef struct _cli_server_log_t cli_server_log_t;
cli_server_log_t *cli_server_log_new (const char *level, display_t *display);
void cli_server_log_destroy (cli_server_log_t **self_p);

//  The log callback (mcpact_server_log_fn); `arg` is the printer.
void cli_server_log_print (const char *log_json, void *arg);

#endif
