/*  =========================================================================
    agent_actor - what one agent's LLM sees: its servers and its view

    An agent with servers of its own starts them (they replace the
    session's; no merge) and stops them when it goes; an agent without asks
    its session actor for the session's, by message. Either way it then
    registers its view with the registry: those servers plus its own and
    its session's function tools (always both), under the session's name
    policy.
    The registry publishes the merged catalog into the agent's slot.

    pipe (from the host API, which serialises access):
      ADD config_ptr            ->  OK | ERROR reason   (config handed over on OK)
      PROGRESS fn_ptr arg_ptr   ->  OK
      START view_id slot policy functions_json
                                ->  REPORT report_json
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

#endif
