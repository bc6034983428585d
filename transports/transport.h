/*  =========================================================================
    transport - what a server actor needs of a transport: an ops table

    Every transport (stdio now; streamable HTTP and HTTP+SSE next) is a set
    of small, alike operations on an opaque state, all driven from the
    owning server actor's single poll loop: the transport says what to poll
    (poll_items) and for how long at most (timeout), then handles what
    became ready, handing each complete message to the actor. Nothing here
    blocks except stop. A transport is used by exactly one thread.
    =========================================================================
*/

#ifndef MCPACT_TRANSPORT_H_INCLUDED
#define MCPACT_TRANSPORT_H_INCLUDED

#include "lane.h"
#include "server_config.h"

#include <jansson.h>
#include <zmq.h>

//  Receives one complete message (a JSON-RPC text, not terminated). The
//  text is only valid during the call.
typedef void (transport_msg_fn) (void *owner, const char *msg, size_t size);

//  Largest message accepted from a server; a larger one is dropped with an
//  error naming the server.
#define TRANSPORT_MAX_MESSAGE (64 * 1024 * 1024)

typedef struct {
    const char *name;
    //  Starts connecting (spawns the child, ...). Returns the state, or
    //  NULL and sets *error (malloc'ed).
    void *(*open) (const mcpact_server_config_t *config, char **error);
    //  Queues one message; frames it as the transport needs. 0 or -1.
    int (*send) (void *self, const char *msg, size_t size);
    //  Fills at most `max` poll items; returns how many.
    int (*poll_items) (void *self, zmq_pollitem_t *items, int max);
    //  Milliseconds until the transport needs attention, -1 for none.
    int (*timeout) (void *self);
    //  Handles the items from poll_items after a poll; hands complete
    //  messages to on_msg. Returns 0, -1 once the transport is dead, or 1
    //  if it needs its pipes back from a lane first (then call again).
    int (*handle) (void *self, zmq_pollitem_t *items, int count, transport_msg_fn *on_msg,
                   void *owner);
    //  Bytes of requests waiting for the server to take them; *stalled_ms
    //  says for how long it has taken none of them (0 if it is taking
    //  them, or nothing waits). NULL if the transport holds nothing.
    size_t (*queued) (void *self, int64_t *stalled_ms);
    //  Why the transport died (or NULL).
    const char *(*error) (void *self);
    //  Adds what the host should see in the server's status (pid, stderr
    //  tail, ...) to `status`.
    void (*describe) (void *self, json_t *status);
    //  Lends the pipes that carry requests and answers to `lane`
    //  (lane.h): 0, or -1 if they cannot be lent now (requests wait to be
    //  written, or the pipes are closed). Until take_back, poll_items and
    //  handle leave them alone. NULL where a transport has no such pipes.
    int (*lend) (void *self, lane_t *lane, uint64_t next_id, int call_ms);
    //  Takes them back from `lane`, which is the actor's again, with the
    //  bytes of a request it had not written yet.
    void (*take_back) (void *self, lane_t *lane);
    //  Closes in order and frees; may block for the close sequence's
    //  bounded waits. Idempotent on NULL.
    void (*stop) (void **self_p);
    //  The server's tools are withdrawn while it is down: a peer on
    //  another machine may be away for long, where a local process is
    //  back in a moment (and its tools are kept, its calls failing fast).
    bool withdraw_when_down;
    //  A call's JSON-RPC error may carry the status the call ended with
    //  at the peer, as error.data.mcpactStatus (a mcpact_status_t other
    //  than 0 and 1), which the call then ends with here: a peer that is
    //  itself an mcpact (a group) failed the call for a reason of its own
    //  (its server died, busy, cancelled), not with an MCP error. Only
    //  for such a transport: an MCP server's error data is its own.
    bool status_in_error;
} transport_ops_t;

extern const transport_ops_t transport_stdio;

//  A URL fit for logs and status: scheme, host, port and path, without
//  credentials or query (which may hold tokens). The caller frees it.
char *http_safe_url (const char *url);

extern const transport_ops_t transport_http;

//  A group of servers behind another mcpact's gateway (group.c).
extern const transport_ops_t transport_group;

#endif
