/*  =========================================================================
    server_requests - requests a server actor makes of its server for
    callers: resources, prompts, logging (docs/protocol.md, "Requests")

    A caller sends REQUEST call_id method params_json timeout_ms; the
    server actor checks that the method is one it sends on request and
    that the server declared the capability it needs, writes the JSON-RPC
    request, and keeps it here until the server answers (the raw result
    is forwarded as it came: a resource's base64 blob is never parsed nor
    copied but into the RESULT frame), the deadline passes (the server is
    told notifications/cancelled, the caller status 3), or the server is
    lost (status 4). Requests without a caller are the actor's own (a
    logging level or a resource subscription sent again after a restart):
    their answers are only logged. One owner thread: the server actor's.
    =========================================================================
*/

#ifndef MCPACT_SERVER_REQUESTS_H_INCLUDED
#define MCPACT_SERVER_REQUESTS_H_INCLUDED

#include "jsonrpc.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

typedef struct _server_requests_t server_requests_t;

//  Told of each request whose deadline passed, to cancel it at the server.
typedef void (server_requests_cancel_fn) (void *arg, uint64_t rpc_id, const char *reason);

//  A table for the server `name` (kept for messages). NULL without memory.
server_requests_t *server_requests_new (const char *name);
void server_requests_destroy (server_requests_t **self_p);

//  The rank of an MCP logging level (RFC 5424 severities as MCP names
//  them): debug 0, info, notice, warning, error, critical, alert,
//  emergency 7; -1 for anything else.
int server_log_rank (const char *level);

//  Whether `method` may be sent on request, and the capability it needs
//  of the server: 0 and *capability ("resources", "resources.subscribe",
//  "prompts", "logging", "completions", or NULL for none); -1 if the
//  method is not one mcpact sends on request.
int server_requests_method (const char *method, const char **capability);

//  True if `capabilities` (the initialize result's) declare `capability`
//  as server_requests_method names it (NULL: always).
bool server_requests_declared (json_t *capabilities, const char *capability);

//  Writes the request line {"jsonrpc","id","method","params"?} into
//  `line` from its start; `params` is a JSON object (NULL: none). 0, or -1
//  out of memory.
int server_requests_line (jsonbuf_t *line, uint64_t rpc_id, const char *method, json_t *params);

//  Keeps request `rpc_id`, sent for `caller`'s `call_id` (caller NULL:
//  the actor's own, `what` names it in the log). 0, or -1 out of memory.
int server_requests_add (server_requests_t *self, zmq_msg_t *caller, uint64_t call_id,
                         uint64_t rpc_id, int timeout_ms, bool own_timeout, const char *what);

//  If `rpc_id` is one of ours: answers its caller from the response `msg`
//  (status 0 with the raw result, 5 with the raw JSON-RPC error) on
//  `router`, forgets it, and returns true. With `peer_status` (a
//  transport whose peer is another mcpact, status_in_error), an error
//  carrying the peer's own status (server_peer_status) is answered with
//  that status and its message, after the server's name.
bool server_requests_answer (server_requests_t *self, void *router, uint64_t rpc_id,
                             const jsonrpc_msg_t *msg, bool peer_status);

//  The status another mcpact put in a JSON-RPC error it sent for a
//  failed request (`error`: the error object's text, `size` bytes):
//  error.data.mcpactStatus when it is one a failed request can have
//  (MCPACT_ERR_UNKNOWN_TOOL to MCPACT_ERR_BUSY), with error.message in
//  *message (the caller frees it). -1 if the error carries none.
int server_peer_status (const char *error, size_t size, char **message);

//  The earliest deadline (ms, monotonic), or INT64_MAX.
int64_t server_requests_next (server_requests_t *self);

//  Ends the requests whose deadline has passed by `now`: cancel is told
//  of each, the caller gets status 3.
void server_requests_expire (server_requests_t *self, void *router, int64_t now,
                             server_requests_cancel_fn *cancel, void *arg);

//  Ends every request with status 4 and `message` (the server is lost).
void server_requests_fail_all (server_requests_t *self, void *router, const char *message);

//  Requests waiting for an answer.
size_t server_requests_size (server_requests_t *self);

#endif
