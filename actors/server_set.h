/*  =========================================================================
    server_set - the MCP servers one owner (session or agent) started

    Starts every server actor at once (all in parallel; a server's
    initialize goes out the moment its child is spawned, on its own
    thread), collects each READY or FAILED into the start report (a
    failure is logged and skipped), passes what is for the registry on to
    it (tool lists, departures, state changes with the host's state
    callback: state_sink.h), and stops them all in parallel: every actor
    is told to stop first, then each is waited for. Servers may be added
    and removed after start; the registry is told the set's list (OWNER)
    at start and at each change, and every view on the set follows it.

    Used by the one actor thread that owns it.
    =========================================================================
*/

#ifndef MCPACT_SERVER_SET_H_INCLUDED
#define MCPACT_SERVER_SET_H_INCLUDED

#include "actor.h"
#include "server_config.h"

#include <jansson.h>
#include <stdatomic.h>
#include <zmq.h>

typedef struct _server_set_t server_set_t;

//  `control` is the registry's control endpoint: a removal waits there
//  until the views have dropped the server (SYNC), before it stops it.
server_set_t *server_set_new (const char *control);
void server_set_destroy (server_set_t **self_p);

//  Takes the configuration on success (0); -1 if a server of that name is
//  in the set already. Once the set has started, ADD (server_set_command)
//  starts what it adds.
int server_set_add (server_set_t *self, mcpact_server_config_t *config, char **error);

//  Removes the server `name`: the registry's views drop it, then its actor
//  stops (the full close sequence, waited for), answering every call in
//  flight or queued with "server NAME was removed". -1 and *error
//  (malloc'ed) if there is no such server.
int server_set_remove (server_set_t *self, const char *name, char **error);

//  The set's owner id, unique in the process: its list at the registry
//  (OWNER, docs/protocol.md) is under it, and views name it to follow it.
unsigned server_set_owner (server_set_t *self);

size_t server_set_size (server_set_t *self);

//  Starts all servers; their tool lists go to the registry at `registry`.
//  Server ids come from `ids`. Reports that come in while it starts the
//  rest are taken as server_set_handle does (progress may be NULL).
void server_set_start (server_set_t *self, const char *registry, atomic_uint *ids,
                       mcpact_progress_fn *progress, void *progress_arg);

bool server_set_started (server_set_t *self);

//  True once every server is ready or failed.
bool server_set_done (server_set_t *self);

//  The socket the servers report on, once started (NULL before): owners
//  poll it and call server_set_handle when it has input.
zsock_t *server_set_sock (server_set_t *self);

//  Takes everything the servers have said, without waiting: start reports
//  (calling progress, if set, with each entry as it arrives), and tool
//  lists and departures, which it forwards to the registry. An owner that
//  is about to ask the registry for something calls it first, so that the
//  registry has had everything its servers sent before.
void server_set_handle (server_set_t *self, mcpact_progress_fn *progress, void *progress_arg);

//  Starts the servers (if not yet) and waits until every one has reported,
//  calling progress (if set) for each as it does.
void server_set_run (server_set_t *self, const char *registry, atomic_uint *ids,
                     mcpact_progress_fn *progress, void *progress_arg);

//  Handles the pipe commands that sessions and agents share:
//    ADD config_ptr            ->  OK ["started"] | ERROR reason
//    REMOVE name               ->  OK ["started"] | ERROR reason
//    PROGRESS fn_ptr arg_ptr   ->  OK
//    STATES sink_ptr           ->  OK   (a state_sink_t reference, handed over)
//    ASKS asks_ptr             ->  OK   (an asks_t reference, handed over)
//  "started": the set had started; an ADD is then answered once the new
//  server is ready or has failed (the owner serves the rest meanwhile),
//  its tools forwarded to the registry before.
//  Returns true if `verb` was one of them.
bool server_set_command (server_set_t *self, const char *verb, zmsg_t *msg, zsock_t *pipe,
                         mcpact_progress_fn **progress, void **progress_arg);

//  {"servers": [report entries, in declaration order], "ms": total}
json_t *server_set_report (server_set_t *self);

//  [{"id", "name", "endpoint"}] in declaration order.
json_t *server_set_servers (server_set_t *self);

#endif
