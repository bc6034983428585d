/*  =========================================================================
    session_actor - a session's servers, shared by all its agents

    Owns the session's server set (the shared default of its agents). Agents
    without servers of their own ask it for them, by message; it starts the
    servers the first time anyone asks (the host, or an agent) and answers
    everyone waiting once every server is ready or failed. Its servers stay
    up across agents (hand-off) until the session is destroyed.

    pipe (from the host API, which serialises access):
      ADD config_ptr            ->  OK | ERROR reason   (config handed over on OK)
      PROGRESS fn_ptr arg_ptr   ->  OK
      START                     ->  REPORT report_json
      $TERM
    agents (ROUTER at its endpoint):
      SERVERS                   ->  SERVERS servers_json report_json
    =========================================================================
*/

#ifndef MCPACT_SESSION_ACTOR_H_INCLUDED
#define MCPACT_SESSION_ACTOR_H_INCLUDED

#include "actor.h"

#include <stdatomic.h>

actor_t *session_actor_new (const char *endpoint, const char *registry, atomic_uint *ids);

#endif
