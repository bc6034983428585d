/*  =========================================================================
    server_actor - one MCP server: its transport and its JSON-RPC client

    One thread per server. It owns the transport (the child process, or the
    HTTP connection) and all client state: the initialize handshake and
    version negotiation, request ids and the table of calls in flight, their
    timeouts, tools/list pagination, list_changed, ping, requests from the
    server, and orderly shutdown. It restarts a server that dies after it
    was ready, with backoff.

    It speaks three ways, all ZeroMQ:
    - its pipe, to the owner (a session or agent actor):
        (at start)  READY report_json | FAILED report_json
        $TERM       -> stops the transport and the thread
    - a ROUTER at its endpoint, to callers (wire.h):
        CALL / CANCEL / STATUS  ->  RESULT
    - a PUSH to the registry:
        TOOLS server_id name endpoint tools_json   (after each (re)list)

    Callers talk to it directly: the registry publishes which endpoint owns
    which tool and is not on the call path.
    =========================================================================
*/

#ifndef MCPACT_SERVER_ACTOR_H_INCLUDED
#define MCPACT_SERVER_ACTOR_H_INCLUDED

#include "actor.h"
#include "server_config.h"

typedef struct {
    mcpact_server_config_t *config; //  handed over to the actor
    unsigned id;                    //  unique in the process
    char *registry;                 //  registry intake endpoint (copied)
} server_actor_args_t;

//  Starts a server actor; the config is handed over (and copied by the
//  caller first if it needs to keep one). Returns at once; the owner waits
//  for the handshake with actor_wait, then for READY or FAILED.
actor_t *server_actor_new (mcpact_server_config_t *config, unsigned id, const char *registry);

//  The endpoint callers connect to for server `id`.
void server_actor_endpoint (unsigned id, char *buffer, size_t size);

#endif
