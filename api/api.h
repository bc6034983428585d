/*  =========================================================================
    api - what the host-side API objects share between their files

    The runtime, session and agent objects (runtime.c), which make callers
    (caller.h) for their calls. Host-side only: these objects are used by host
    threads; each guards its own state with its own lock, and talks to its
    actor over that actor's pipe under that lock.
    =========================================================================
*/

#ifndef MCPACT_API_H_INCLUDED
#define MCPACT_API_H_INCLUDED

#include "mcpact.h"

#include "actor.h"
#include "agent_actor.h"
#include "asks.h"
#include "caller.h"
#include "catalog.h"
#include "config.h"
#include "state_sink.h"

#include <pthread.h>
#include <stdatomic.h>

struct _mcpact_runtime_t {
    pthread_mutex_t lock;        //  guards sessions and the actors' pipes
    char registry_intake[64];    //  server actors push tools here
    char registry_control[64];   //  agent actors register views here
    char functions_endpoint[64]; //  function-tool calls go here
    char events_endpoint[64];    //  the registry publishes events here
    actor_t *registry;           //  the registry actor
    actor_t *functions;          //  the function-tool broker
    mcpact_session_t **sessions; //  sessions not destroyed yet
    size_t sessions_count;       //  how many
};

struct _mcpact_session_t {
    mcpact_runtime_t *runtime;   //  owner
    pthread_mutex_t lock;        //  guards the fields below
    pthread_mutex_t pipe_lock;   //  guards the actor's pipe (taken after lock, if both)
    actor_t *actor;              //  the session actor
    char endpoint[64];           //  where agent actors reach it
    json_t *functions;           //  function tools, catalog.h form
    mcpact_name_policy_t policy; //  tool-name policy
    void *progress_arg;          //  host's progress argument (see s_set_progress)
    config_t *config;            //  the loaded file, for its agents
    mcpact_agent_t **agents;     //  agents not destroyed yet
    size_t agents_count;         //  how many
    state_sink_t *states;        //  the host's server state callback, once set
    agent_views_t *views;        //  the sockets its agents' views talk through
    state_sink_t *logs;          //  the host's server log callback, once set
    asks_t *asks;                //  roots and handlers for its servers' requests
};

struct _mcpact_agent_t {
    mcpact_session_t *session;    //  owner
    pthread_mutex_t lock;         //  guards the fields below
    pthread_mutex_t pipe_lock;    //  guards the actor's pipe (taken after lock, if both)
    actor_t *actor;               //  the agent actor, once it has servers of its own
    agent_view_t *view;           //  else its view, kept on the host's side
    mcpact_progress_fn *progress; //  the host's progress callback, for the actor
    void *progress_arg;           //  its argument
    json_t *functions;            //  its own function tools
    catalog_slot_t slot;          //  the registry publishes here
    unsigned view_id;             //  its view at the registry
    char *report;                 //  start report, once started
    mcpact_caller_t **pool;       //  idle callers for blocking calls
    size_t pool_count;            //  idle callers
    size_t pool_max;              //  allocated
    state_sink_t *states;         //  the host's server state callback, once set
    state_sink_t *logs;           //  the host's server log callback, once set
    asks_t *asks;                 //  roots and handlers for its own servers' requests
};

//  A process-wide source of ids (servers, views, callers, functions), so
//  that inproc endpoints never clash, even across runtimes.
unsigned api_next_id (void);
atomic_uint *api_ids (void);

//  Gives an actor that owns servers its reference to the host's server
//  log callback: LOGS sink -> OK (resources.c). Under the object's lock.
void api_give_logs (actor_t *actor, state_sink_t *logs);

//  Starts the agent if it has not; returns its report (owned by agent).
const char *agent_ensure_started (mcpact_agent_t *self);

#endif
