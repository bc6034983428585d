/*  =========================================================================
    token_store - the default token storage: one file per server

    $XDG_CONFIG_HOME/mcpact/oauth/<server>.json (else ~/.config/...), mode
    0600 in a directory of mode 0700, written whole to a new file and
    renamed over the old one. Stateless: safe from any thread; two
    processes writing one server's file at once leave one whole record.
    =========================================================================
*/

#ifndef MCPACT_TOKEN_STORE_H_INCLUDED
#define MCPACT_TOKEN_STORE_H_INCLUDED

#include "mcpact.h"

//  mcpact_oauth_load_fn and mcpact_oauth_save_fn over the files (arg is
//  unused).
char *token_store_load (void *arg, const char *server, const char *url);
int token_store_save (void *arg, const char *server, const char *url, const char *record);

//  The file's path for a server (malloc'ed), or NULL without a home.
char *token_store_path (const char *server);

#endif
