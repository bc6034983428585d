/*  =========================================================================
    registry_actor - the merged tool catalogue of every agent, kept current

    One per runtime. Server actors push their tool lists to its intake; an
    agent actor registers a view (its servers, its and its session's
    function tools, the name policy, and the slot to publish into). For
    every view the registry builds a catalog (catalog.h) and publishes it;
    whenever a server's tools change, every view holding that server is
    rebuilt and republished. It is not on the call path.

    intake (PULL, from server actors):
      TOOLS server_id name endpoint tools_json
      GONE server_id
    control (ROUTER, from agent actors):
      VIEW view_id slot policy functions_json servers_json
                                         ->  VIEWED view_id rejected_json
      DROP view_id                       ->  DROPPED view_id
    pipe: $TERM
    =========================================================================
*/

#ifndef MCPACT_REGISTRY_ACTOR_H_INCLUDED
#define MCPACT_REGISTRY_ACTOR_H_INCLUDED

#include "actor.h"

//  Starts the registry; `intake` and `control` are the endpoints it binds.
actor_t *registry_actor_new (const char *intake, const char *control);

#endif
