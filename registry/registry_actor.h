/*  =========================================================================
    registry_actor - the merged tool catalogue of every agent, kept current

    One per runtime. Server actors push their tool lists to its intake; an
    agent actor registers a view (its servers, its and its session's
    function tools, the name policy, and the slot to publish into). For
    every view the registry builds a catalog (catalog.h) and publishes it;
    whenever a server's tools change, every view holding that server is
    rebuilt and republished. It is not on the call path. A view names the
    server set (owner) whose servers it has; when the owner's list changes
    (a server added or removed while running), every view on it takes the
    new list and is rebuilt.

    intake (PULL, from server actors through their owner, and owners):
      TOOLS server_id name endpoint tools_json  ("null": withdrawn while the
                                              server is down; it counts as not up)
      GONE server_id
      STATE server_id state_json [fn arg]   (a state change; fn and arg
                                              when the host has a callback)
      OWNER owner_id [servers_json]         (the owner's list now; none: gone)
    control (ROUTER, from agent actors):
      VIEW view_id slot policy functions_json servers_json owner_id
                                         ->  VIEWED view_id rejected_json
      SYNC view_id                       ->  SYNCED view_id
      DROP view_id                       ->  DROPPED view_id
    events (PUB), whenever a started view's tool set changes:
      TOOLS_CHANGED view_id {"agent"?, "added", "removed", "tools"}
    and whenever a server's state changes:
      SERVER_STATE server_id {"server", "state", "reason"?, "time"}
    and the host's callbacks are run by the function broker:
      (DEALER to it) EVENT fn arg change_json | EVENT fn arg state_json
    pipe: $TERM
    =========================================================================
*/

#ifndef MCPACT_REGISTRY_ACTOR_H_INCLUDED
#define MCPACT_REGISTRY_ACTOR_H_INCLUDED

#include "actor.h"

//  Starts the registry; it binds `intake`, `control` and `events`, and
//  hands host callbacks to the function broker at `functions`.
actor_t *registry_actor_new (const char *intake, const char *control, const char *functions,
                             const char *events);

#endif
