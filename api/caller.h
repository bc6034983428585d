/*  =========================================================================
    caller - calls from one host thread, straight to the owning actor

    What the API objects (runtime.c) need of callers and results beyond the
    public API: a caller reads the catalog through the slot it is given and
    knows nothing of agents or sessions, so that this layer depends on the
    catalog, the wire and the lanes alone. Threading: a caller belongs to one
    thread at a time (see caller.c).
    =========================================================================
*/

#ifndef MCPACT_CALLER_H_INCLUDED
#define MCPACT_CALLER_H_INCLUDED

#include "mcpact.h"

#include "catalog.h"

//  A caller routing by the catalogs published in `slot`, which must
//  outlive it. NULL on out of memory.
mcpact_caller_t *caller_new (catalog_slot_t *slot);

//  One blocking call on an idle caller; the result's id is 0.
mcpact_result_t *caller_call (mcpact_caller_t *self, const char *tool, const char *args_json,
                              int timeout_ms);

//  A call from a caller with nothing in flight whose thread must not
//  wait long (the gateway's loop): on the owner's lane if it lent one,
//  waiting at most `wait_us` for the answer (then the owner finishes the
//  call and answers by message); else by message, asking for the lane.
//  Returns the call's id, as mcpact_caller_send does; answered on the
//  lane, *result is its result (the caller's), with that id.
int64_t caller_send_lane (mcpact_caller_t *self, const char *tool, const char *args_json,
                          int timeout_ms, int64_t wait_us, mcpact_result_t **result);

//  Sends "verb call_id" (STATUS, RELOAD) to an actor; returns the id to
//  wait for, or -1. The answer is a result whose JSON is the raw payload;
//  it times out after timeout_ms (0: a default of 10 s).
int64_t caller_verb_send (mcpact_caller_t *self, const char *endpoint, const char *verb,
                          int timeout_ms);

//  Sends "verb call_id frames..." (REQUEST, LOGLEVEL: docs/protocol.md)
//  to the actor of `server` (its name, for messages); returns the id to wait for, or -1. As for
//  caller_verb_send, an OK answer is a result whose JSON is the raw
//  payload; the actor times the request out (timeout_ms, 0: the server's
//  call timeout).
int64_t caller_request_send (mcpact_caller_t *self, const char *endpoint, const char *server,
                             const char *verb, const char **frames, int count, int timeout_ms);

//  The id of the last call sent or refused: a refused mcpact_caller_send
//  (-1) queues its result under this id.
int64_t caller_last_id (mcpact_caller_t *self);

//  A result made here (an error that never left the host).
mcpact_result_t *result_error (int64_t id, mcpact_status_t status, const char *message);

//  A result with status MCPACT_OK whose JSON is `json` (`size` bytes) as
//  it is: a resource's or prompt's, not a tool result (no content check).
mcpact_result_t *result_raw (int64_t id, const char *json, size_t size);

#endif
