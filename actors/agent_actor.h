/*  =========================================================================
    agent_actor - what one agent's LLM sees: its servers and its view

    An agent with servers of its own starts them (they replace the
    session's; no merge) and stops them when it goes; an agent without asks
    its session actor for the session's, by message. Either way it then
    registers its view with the registry: those servers plus its own and
    its session's function tools (always both), under the session's name
    policy.
    The registry publishes the merged catalog into the agent's slot.

    An agent without servers of its own needs no thread of its own: the
    host API keeps an agent_view_t instead, and does on the host's thread
    (serialised by the agent's lock) what the actor would do for it. That
    makes handing a conversation to a new agent cheap: no thread to start
    and join, two fewer hand-offs each way.

    pipe (from the host API, which serialises access):
      ADD config_ptr            ->  OK ["started"] | ERROR reason
                                    (config handed over on OK; once started,
                                    answered when the server is ready or failed)
      REMOVE name               ->  OK ["started"] | ERROR reason
                                    (answered once the server has stopped)
      PROGRESS fn_ptr arg_ptr   ->  OK
      START view_id slot policy functions_json
                                ->  REPORT report_json
      SYNC                      ->  OK (the registry has built from all sent)
      $TERM                     (drops the view, stops its own servers)
    =========================================================================
*/

#ifndef MCPACT_AGENT_ACTOR_H_INCLUDED
#define MCPACT_AGENT_ACTOR_H_INCLUDED

#include "actor.h"

#include <stdatomic.h>

//  `session` is the session actor's endpoint; `registry` the registry's
//  intake, `control` its control endpoint.
actor_t *agent_actor_new (const char *session, const char *registry, const char *control,
                          atomic_uint *ids);

//  The sockets through which a session's agent views talk, kept for all
//  of them: one DEALER to the session actor (`session`, its endpoint) and
//  one to the registry's control (`control`), made on first use. A
//  hand-off to a new agent then makes and closes no socket (each would
//  wake the actor at the other end, and libzmq's reaper). Any thread: a
//  lock serialises the views' requests, each answered before the next.
//  Destroy it after the session's last view.
typedef struct _agent_views_t agent_views_t;
agent_views_t *agent_views_new (const char *session, const char *control);
void agent_views_destroy (agent_views_t **self_p);

//  An agent's view at the registry, for an agent without servers of its
//  own, talking through `views` (its session's). Not thread-safe: one
//  thread at a time, as the caller serialises.
typedef struct _agent_view_t agent_view_t;
agent_view_t *agent_view_new (agent_views_t *views);

//  What START does for an agent without servers: asks the session for its
//  servers (starting them if need be) and registers the view. Returns the
//  start report (JSON text, ours).
char *agent_view_start (agent_view_t *self, const char *view_id, const char *slot,
                        const char *policy, const char *functions);

//  What SYNC does: returns once the registry has built from everything the
//  session's servers said before.
void agent_view_sync (agent_view_t *self);

//  Drops the view, so nothing publishes into its slot any more, and frees it.
void agent_view_destroy (agent_view_t **self_p);

#endif
