/*  =========================================================================
    state_sink - where a session's or an agent's server state events go

    The host's state callback (mcpact_session_set_server_state) sits in a
    sink that the host object, its servers' owner and every event on its
    way share, each with a reference: the owner (server_set) puts the sink
    beside each STATE its servers send and passes it on towards the
    registry, which has the function broker run state_sink_deliver on a
    worker, which calls the host and drops the event's reference. So an
    event outlives neither its sink nor, once the host object is gone, its
    reach: state_sink_close waits for the events on their way, then no
    more calls come.

    Threading: any thread; the callback and its argument are read and
    written under the sink's lock, the callback itself runs outside it.
    =========================================================================
*/

#ifndef MCPACT_STATE_SINK_H_INCLUDED
#define MCPACT_STATE_SINK_H_INCLUDED

#include "mcpact.h"

typedef struct _state_sink_t state_sink_t;

//  A sink without a callback, with one reference (the host object's).
state_sink_t *state_sink_new (void);

//  Sets the callback (NULL: none); events already on their way see the new one.
void state_sink_set (state_sink_t *self, mcpact_server_state_fn *fn, void *arg);

//  Another reference, for an owner or an event on its way. Before the
//  pointer crosses to another thread inside a message, the sender marks
//  the hand-over (actor_handoff_release).
state_sink_t *state_sink_ref (state_sink_t *self);

//  Drops a reference; frees the sink with the last. Nulls *self_p.
void state_sink_unref (state_sink_t **self_p);

//  Runs on a function-broker worker (an mcpact_tools_changed_fn, as the
//  broker's EVENT takes it): calls the host with `state_json`, then drops
//  the reference the event held on `sink`.
void state_sink_deliver (const char *state_json, void *sink);

//  The host object goes: waits until the events on their way have been
//  delivered (at most `timeout_ms`), so that the callback sees what the
//  servers said last; then it is never called again. Drops the host's
//  reference. The owner must have dropped its own first.
void state_sink_close (state_sink_t **self_p, int timeout_ms);

#endif
