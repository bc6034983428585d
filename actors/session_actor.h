/*  =========================================================================
    session_actor - a session's servers, shared by all its agents

    Owns the session's server set (the shared default of its agents). Agents
    without servers of their own ask it for them, by message; it starts the
    servers the first time anyone asks (the host, or an agent) and answers
    everyone waiting once every server is ready or failed. Its servers stay
    up across agents (hand-off) until removed or the session is destroyed;
    servers added later start at once, and its agents' views follow.

    pipe (from the host API, which serialises access):
      ADD config_ptr            ->  OK ["started"] | ERROR reason
                                    (config handed over on OK; once started,
                                    answered when the server is ready or failed)
      REMOVE name               ->  OK ["started"] | ERROR reason
                                    (answered once the server has stopped)
      PROGRESS fn_ptr arg_ptr   ->  OK
      START                     ->  REPORT report_json
      $TERM
    agents (ROUTER at its endpoint):
      SERVERS                   ->  SERVERS servers_json report_json owner_id
      DRAIN                     ->  DRAINED
    =========================================================================
*/

#ifndef MCPACT_SESSION_ACTOR_H_INCLUDED
#define MCPACT_SESSION_ACTOR_H_INCLUDED

#include "actor.h"

#include <stdatomic.h>

//  Binds `endpoint` for agents; its servers report to the registry's
//  intake `registry`, and a removal syncs on its `control` endpoint.
actor_t *session_actor_new (const char *endpoint, const char *registry, const char *control,
                            atomic_uint *ids);

#endif
