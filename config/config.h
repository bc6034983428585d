/*  =========================================================================
    config - the `mcpServers` / `servers` JSON configuration loader

    Reads the configuration format used by desktop MCP clients, with
    mcpact's extra keys (docs/config.md), into plain value objects. ${VAR}
    in env values, header values and url is expanded from the environment.
    A problem that concerns one server only (an unset variable, say) does
    not fail the file: that server's config carries the error and fails
    when started, so the others still come up. Not thread-aware: the
    result belongs to the caller.
    =========================================================================
*/

#ifndef MCPACT_CONFIG_H_INCLUDED
#define MCPACT_CONFIG_H_INCLUDED

#include "server_config.h"

typedef struct {
    char *name;                       //  agent name (key in "agents")
    mcpact_server_config_t **servers; //  its own servers (owned copies)
    size_t servers_count;             //  0 = falls back to the session's
    char *roots;                      //  "roots" (JSON text, roots.h form), or NULL
} config_agent_t;

typedef struct {
    mcpact_server_config_t **servers; //  session servers, file order (owned)
    size_t servers_count;             //  number of session servers
    config_agent_t *agents;           //  agents, file order
    size_t agents_count;              //  number of agents
    mcpact_name_policy_t name_policy; //  "toolNames": reject|prefix|prefix_on_conflict
    char *roots;                      //  "roots" (JSON text, roots.h form), or NULL
} config_t;

//  Parses configuration text. On error returns NULL and sets *error to a
//  malloc'ed message that names `origin` and the key, e.g.
//  "servers.json: mcpServers.files.args: must be an array of strings".
config_t *config_parse (const char *text, const char *origin, char **error);

//  Reads and parses a file; errors name the path.
config_t *config_load (const char *path, char **error);

void config_destroy (config_t **self_p);

//  Expands ${VAR} in `text` from the environment. Returns a malloc'ed
//  string, or NULL and sets *missing to the malloc'ed name of the first
//  unset variable. "$${" is a literal "${".
char *config_expand (const char *text, char **missing);

#endif
