/*  =========================================================================
    server_actor - one MCP server: its transport and its JSON-RPC client

    One thread per server. It owns the transport (the child process, or the
    HTTP connection) and all client state: the initialize handshake and
    version negotiation, request ids and the table of calls in flight, their
    timeouts, tools/list pagination, list_changed, ping, requests from the
    server, and orderly shutdown. It restarts a server that dies after it
    was ready, with backoff.

    It speaks two ways, both ZeroMQ:
    - a DEALER to its owner's ROUTER (a session or agent actor; see
      actor_new_routed), its one connection while idle:
        (at start)  READY report_json | FAILED report_json
        (to the registry, which the owner forwards to, as is)
                    TOOLS server_id name endpoint tools_json  (each (re)list;
                                                               "null": withdrawn while down)
                    GONE server_id                             (when it stops)
        $TERM       -> stops the transport and the thread
        REMOVE      -> the same, its owner removed it: every call in
                       flight, on the lane or unread at its socket is
                       answered "server NAME was removed"
    - a ROUTER at its endpoint, to callers (wire.h):
        CALL / CANCEL / STATUS  ->  RESULT
        ANSWER ask_id payload   (a host thread answers a server's request)
        ROOTS                   (the owner's roots changed)

    Callers talk to it directly: the registry publishes which endpoint owns
    which tool and is not on the call path.
    =========================================================================
*/

#ifndef MCPACT_SERVER_ACTOR_H_INCLUDED
#define MCPACT_SERVER_ACTOR_H_INCLUDED

#include "actor.h"
#include "asks.h"
#include "server_config.h"

//  Starts a server actor that reports to the owner's ROUTER `router`,
//  bound at `endpoint`, as routing id `rid`; the config is handed over
//  (and copied by the caller first if it needs to keep one), and so is
//  the reference `asks` (the owner's roots and handlers; may be NULL).
//  Returns at once; the actor's first word is READY or FAILED, with its
//  report.
actor_t *server_actor_new (mcpact_server_config_t *config, unsigned id, asks_t *asks,
                           zsock_t *router, const char *endpoint, const char *rid);

//  The endpoint callers connect to for server `id`.
void server_actor_endpoint (unsigned id, char *buffer, size_t size);

#endif
