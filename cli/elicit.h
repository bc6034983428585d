/*  =========================================================================
    elicit - the CLI's answer to a server's elicitation/create

    On a terminal (stdin and stderr both one) the user is asked, field by
    field, with each field's default shown (an empty line keeps it), each
    answer checked as it is typed and asked again if it does not fit; off a
    terminal every request is declined. An mcpact_ask_fn: it runs on the
    runtime's thread for the request, prompts one request at a time, and
    gives up when the server cancels or the request times out.
    =========================================================================
*/

#ifndef MCPACT_CLI_ELICIT_H_INCLUDED
#define MCPACT_CLI_ELICIT_H_INCLUDED

#include "mcpact.h"

void cli_elicit (mcpact_ask_t *ask, void *arg);

//  The command is over (`why`: its outcome): a prompt still waiting
//  ends, saying so. The first reason stays. Any thread.
void cli_elicit_end (const char *why);

#endif
