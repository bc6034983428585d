/*  =========================================================================
    runtime - the host-side runtime, session and agent objects

    Each object owns one actor and talks to it over the actor's pipe, under
    the object's pipe lock (the pipe is a ZeroMQ socket: one thread at a
    time); its own fields are under its other lock, taken first when both
    are, so that a server starting for a running session or agent does not
    hold up the object's other functions. Everything that happens takes
    place in the actors; these functions send a message and, where the API
    is synchronous, wait for the answer. Shutdown is top-down: a runtime destroys its sessions, a
    session its agents, and each actor stops what it started.
    =========================================================================
*/

#include "api.h"

#include "agent_actor.h"
#include "functions.h"
#include "log.h"
#include "registry_actor.h"
#include "roots.h"
#include "session_actor.h"
#include "spawner.h"
#include "wire.h"

#include <czmq.h>
#include <sys/resource.h>

//  Enough sockets for a thousand servers and their callers.
#define RUNTIME_MAX_SOCKETS 32768
#define FUNCTION_WORKERS 4

static atomic_uint s_ids;

unsigned
api_next_id (void)
{
    return atomic_fetch_add (&s_ids, 1) + 1;
}

atomic_uint *
api_ids (void)
{
    return &s_ids;
}

//  --------------------------------------------------------------------------
//  Runtime

//  Each server takes a few sockets (an eventfd each) and a child's pipes:
//  a thousand servers need several thousand descriptors. Raise the soft
//  limit towards the hard one, as far as that goes.
static void
s_raise_fd_limit (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
        return;
    rlim_t want =
        limit.rlim_max == RLIM_INFINITY || limit.rlim_max > 65536 ? 65536 : limit.rlim_max;
    if (limit.rlim_cur < want) {
        limit.rlim_cur = want;
        if (setrlimit (RLIMIT_NOFILE, &limit) == 0)
            log_debug ("raised the open-file limit to %llu", (unsigned long long) want);
    }
}

static void
s_zsys_init (void)
{
    //  libcurl is loaded with the first HTTP server (transports/curl_lib.h).
    //  CZMQ would catch SIGINT/SIGTERM in the host's process: not ours to.
    zsys_handler_set (NULL);
    void *context = zsys_init ();
    //  Takes effect if no socket was made yet in this process.
    int limit = zmq_ctx_get (context, ZMQ_SOCKET_LIMIT);
    int max = limit > 0 && limit < RUNTIME_MAX_SOCKETS ? limit : RUNTIME_MAX_SOCKETS;
    if (zmq_ctx_get (context, ZMQ_MAX_SOCKETS) < max)
        zmq_ctx_set (context, ZMQ_MAX_SOCKETS, max);
    s_raise_fd_limit ();
}

mcpact_runtime_t *
mcpact_runtime_new (void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once (&once, s_zsys_init);
    mcpact_runtime_t *self = (mcpact_runtime_t *) calloc (1, sizeof (mcpact_runtime_t));
    if (!self)
        return NULL;
    //  Forked now, before this runtime's threads and descriptors exist:
    //  the host is at its smallest (see spawner.h). Failing, servers are
    //  started directly.
    spawner_start ();
    pthread_mutex_init (&self->lock, NULL);
    unsigned id = api_next_id ();
    snprintf (self->registry_intake, sizeof self->registry_intake, "inproc://mcpact-%u-registry",
              id);
    snprintf (self->registry_control, sizeof self->registry_control,
              "inproc://mcpact-%u-registry-control", id);
    snprintf (self->functions_endpoint, sizeof self->functions_endpoint,
              "inproc://mcpact-%u-functions", id);
    snprintf (self->events_endpoint, sizeof self->events_endpoint, "inproc://mcpact-%u-events", id);
    char *error = NULL;
    self->registry = registry_actor_new (self->registry_intake, self->registry_control,
                                         self->functions_endpoint, self->events_endpoint);
    if (!self->registry || actor_wait (self->registry, &error) != 0) {
        log_error ("cannot start the registry: %s", error ? error : "no thread");
        goto fail;
    }
    self->functions = functions_actor_new (self->functions_endpoint, FUNCTION_WORKERS);
    if (!self->functions || actor_wait (self->functions, &error) != 0) {
        log_error ("cannot start the function-tool workers: %s", error ? error : "no thread");
        goto fail;
    }
    return self;

fail:
    free (error);
    actor_destroy (&self->functions);
    actor_destroy (&self->registry);
    pthread_mutex_destroy (&self->lock);
    spawner_stop ();
    free (self);
    return NULL;
}

void
mcpact_runtime_destroy (mcpact_runtime_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcpact_runtime_t *self = *self_p;
    while (true) {
        pthread_mutex_lock (&self->lock);
        mcpact_session_t *session = self->sessions_count ? self->sessions[0] : NULL;
        pthread_mutex_unlock (&self->lock);
        if (!session)
            break;
        mcpact_session_destroy (&session);
    }
    actor_destroy (&self->functions);
    actor_destroy (&self->registry);
    free (self->sessions);
    pthread_mutex_destroy (&self->lock);
    spawner_stop ();
    free (self);
    *self_p = NULL;
}

const char *
mcpact_runtime_events_endpoint (mcpact_runtime_t *self)
{
    return self ? self->events_endpoint : NULL;
}

static int
s_register_function (mcpact_runtime_t *runtime, json_t *functions, const char *name,
                     const char *description, const char *parameters, mcpact_function_fn *fn,
                     void *arg)
{
    if (!name || !catalog_name_valid (name) || !fn) {
        log_error ("function tool %s: the name must be 1..64 of [A-Za-z0-9_-], and the "
                   "callback set",
                   name ? name : "(null)");
        return -1;
    }
    size_t index;
    json_t *function;
    json_array_foreach (functions, index, function)
        if (strcmp (json_string_value (json_object_get (function, "name")), name) == 0) {
            log_error ("function tool %s: added twice", name);
            return -1;
        }
    json_error_t error;
    json_t *schema = parameters ? json_loads (parameters, 0, &error)
                                : json_pack ("{s:s,s:{}}", "type", "object", "properties");
    if (!json_is_object (schema)) {
        log_error ("function tool %s: parameters are not a JSON object%s%s", name,
                   parameters ? ": " : "", schema ? "" : error.text);
        json_decref (schema);
        return -1;
    }
    char key[32];
    snprintf (key, sizeof key, "f%u", api_next_id ());
    pthread_mutex_lock (&runtime->lock);
    zsock_t *pipe = actor_sock (runtime->functions);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "ADD");
    zmsg_addstr (msg, key);
    void *fn_bytes;
    memcpy (&fn_bytes, &fn, sizeof fn_bytes);
    zmsg_addmem (msg, &fn_bytes, sizeof fn_bytes);
    zmsg_addmem (msg, &arg, sizeof arg);
    zmsg_send (&msg, pipe);
    char *reply = zstr_recv (pipe);
    pthread_mutex_unlock (&runtime->lock);
    free (reply);
    json_array_append_new (functions,
                           json_pack ("{s:s,s:s,s:o,s:s,s:s}", "name", name, "description",
                                      description ? description : "", "inputSchema", schema, "key",
                                      key, "endpoint", runtime->functions_endpoint));
    return 0;
}

static void
s_unregister_functions (mcpact_runtime_t *runtime, json_t *functions)
{
    size_t index;
    json_t *function;
    json_array_foreach (functions, index, function) {
        pthread_mutex_lock (&runtime->lock);
        zstr_sendx (actor_sock (runtime->functions), "REMOVE",
                    json_string_value (json_object_get (function, "key")), NULL);
        char *reply = zstr_recv (actor_sock (runtime->functions));
        pthread_mutex_unlock (&runtime->lock);
        free (reply);
    }
}

//  Sends a request to an actor's pipe and takes its answer:
//  OK ["started"] -> 0, or 1 if the owner had started; ERROR reason -> -1
//  and *reason (malloc'ed).
static int
s_pipe_request (zsock_t *pipe, zmsg_t **request_p, char **reason)
{
    zmsg_send (request_p, pipe);
    zmsg_t *reply = zmsg_recv (pipe);
    char *verb = reply ? zmsg_popstr (reply) : NULL;
    char *detail = reply ? zmsg_popstr (reply) : NULL;
    zmsg_destroy (&reply);
    int rc = !verb || strcmp (verb, "OK") != 0 ? -1 : detail && strcmp (detail, "started") == 0;
    if (rc < 0)
        *reason = detail ? detail : strdup ("no answer");
    else
        free (detail);
    free (verb);
    return rc;
}

//  Hands a config to an actor's pipe: ADD ptr -> OK ["started"] | ERROR
//  reason. Returns as s_pipe_request; `owner` names the session or agent
//  in the error.
static int
s_add_server (zsock_t *pipe, mcpact_server_config_t **config_p, const char *owner)
{
    if (!config_p || !*config_p)
        return -1;
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, "ADD");
    actor_handoff_release (*config_p);
    zmsg_addmem (request, config_p, sizeof *config_p);
    char *reason = NULL;
    int rc = s_pipe_request (pipe, &request, &reason);
    if (rc >= 0)
        *config_p = NULL;
    else {
        actor_handoff_acquire (*config_p); //  refused: ours again
        log_error ("cannot add server %s to %s: %s", (*config_p)->name, owner, reason);
    }
    free (reason);
    return rc;
}

//  REMOVE name -> OK ["started"] | ERROR reason, as s_add_server.
static int
s_remove_server (zsock_t *pipe, const char *name, const char *owner)
{
    if (!name)
        return -1;
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, "REMOVE");
    zmsg_addstr (request, name);
    char *reason = NULL;
    int rc = s_pipe_request (pipe, &request, &reason);
    if (rc < 0)
        log_error ("cannot remove server %s from %s: %s", name, owner, reason);
    free (reason);
    return rc;
}

//  Returns once the registry has built from everything sent to it before
//  (a server set's new list and its servers' tools): the views of a
//  session's agents are then current.
static void
s_registry_sync (mcpact_runtime_t *runtime)
{
    zsock_t *registry = zsock_new_dealer (runtime->registry_control);
    if (!registry)
        return;
    zstr_sendx (registry, "SYNC", "0", NULL);
    char *verb = NULL, *id = NULL;
    zsock_recv (registry, "ss", &verb, &id);
    free (verb);
    free (id);
    zsock_destroy (&registry);
}

static void
s_set_progress (zsock_t *pipe, mcpact_progress_fn *fn, void *arg)
{
    void *fn_pointer;
    memcpy (&fn_pointer, &fn, sizeof fn_pointer);
    actor_handoff_release (arg);
    zsock_send (pipe, "spp", "PROGRESS", fn_pointer, arg);
    char *reply = zstr_recv (pipe);
    free (reply);
}

//  --------------------------------------------------------------------------
//  Server state callbacks (state_sink.h): the host object keeps the sink,
//  and its actor, which owns the servers, gets a reference to it.

//  How long a session or agent being destroyed waits for the state events
//  of its servers' stopping to reach the host's callback.
#define STATE_CLOSE_MS 5000

//  Gives the actor its reference: STATES sink -> OK.
static void
s_give_states (actor_t *actor, state_sink_t *states)
{
    actor_send_ptr (actor_sock (actor), "STATES", state_sink_ref (states));
    free (zstr_recv (actor_sock (actor)));
}

//  Sets the callback in *states, made (and given to `actor`, if there is
//  one yet) the first time. Called under the object's lock.
static int
s_set_states (state_sink_t **states, actor_t *actor, mcpact_server_state_fn *fn, void *arg)
{
    if (*states) {
        state_sink_set (*states, fn, arg);
        return 0;
    }
    if (!(*states = state_sink_new ()))
        return -1;
    state_sink_set (*states, fn, arg);
    if (actor)
        s_give_states (actor, *states);
    return 0;
}

//  After the object's actor has stopped its servers: their last events
//  reach the callback, and then nothing does.
static void
s_close_states (state_sink_t **states)
{
    state_sink_close (states, STATE_CLOSE_MS);
}

int
mcpact_session_set_server_state (mcpact_session_t *self, mcpact_server_state_fn *fn, void *arg)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->lock);
    int rc = s_set_states (&self->states, self->actor, fn, arg);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
mcpact_agent_set_server_state (mcpact_agent_t *self, mcpact_server_state_fn *fn, void *arg)
{
    if (!self)
        return -1;
    //  Without servers of its own the agent has no actor yet: the sink
    //  goes to the actor its first server brings (s_agent_actor).
    pthread_mutex_lock (&self->lock);
    int rc = s_set_states (&self->states, self->actor, fn, arg);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

//  Gives an actor, which owns servers, a reference to the roots and
//  handlers of its session or agent (asks.h): ASKS asks -> OK.
static void
s_give_asks (actor_t *actor, asks_t *asks)
{
    actor_send_ptr (actor_sock (actor), "ASKS", asks_ref (asks));
    free (zstr_recv (actor_sock (actor)));
}

//  --------------------------------------------------------------------------
//  Session

mcpact_session_t *
mcpact_session_new (mcpact_runtime_t *runtime)
{
    if (!runtime)
        return NULL;
    mcpact_session_t *self = (mcpact_session_t *) calloc (1, sizeof (mcpact_session_t));
    if (!self)
        return NULL;
    self->runtime = runtime;
    pthread_mutex_init (&self->lock, NULL);
    pthread_mutex_init (&self->pipe_lock, NULL);
    self->functions = json_array ();
    snprintf (self->endpoint, sizeof self->endpoint, "inproc://mcpact-session-%u", api_next_id ());
    char *error = NULL;
    self->actor = session_actor_new (self->endpoint, runtime->registry_intake,
                                     runtime->registry_control, api_ids ());
    self->views = agent_views_new (self->endpoint, runtime->registry_control);
    if (!self->actor || !self->views || actor_wait (self->actor, &error) != 0) {
        log_error ("cannot start a session: %s", error ? error : "no thread");
        free (error);
        actor_destroy (&self->actor);
        agent_views_destroy (&self->views);
        json_decref (self->functions);
        pthread_mutex_destroy (&self->lock);
        pthread_mutex_destroy (&self->pipe_lock);
        free (self);
        return NULL;
    }
    //  Its actor holds a reference for the servers it starts.
    if ((self->asks = asks_new (NULL, NULL)))
        s_give_asks (self->actor, self->asks);
    pthread_mutex_lock (&runtime->lock);
    mcpact_session_t **sessions = (mcpact_session_t **) realloc (
        runtime->sessions, (runtime->sessions_count + 1) * sizeof (mcpact_session_t *));
    if (sessions) {
        runtime->sessions = sessions;
        runtime->sessions[runtime->sessions_count++] = self;
    }
    pthread_mutex_unlock (&runtime->lock);
    return self;
}

static mcpact_session_t *
s_session_from_config (mcpact_runtime_t *runtime, config_t *config)
{
    mcpact_session_t *self = mcpact_session_new (runtime);
    if (!self) {
        config_destroy (&config);
        return NULL;
    }
    self->policy = config->name_policy;
    if (config->roots)
        mcpact_session_set_roots (self, config->roots);
    for (size_t i = 0; i < config->servers_count; i++) {
        mcpact_server_config_t *server = mcpact_server_config_dup (config->servers[i]);
        if (mcpact_session_add_server (self, &server) != 0)
            mcpact_server_config_destroy (&server);
    }
    self->config = config;
    return self;
}

mcpact_session_t *
mcpact_session_load (mcpact_runtime_t *runtime, const char *path, char **error)
{
    config_t *config = config_load (path, error);
    return config ? s_session_from_config (runtime, config) : NULL;
}

mcpact_session_t *
mcpact_session_load_string (mcpact_runtime_t *runtime, const char *text, const char *origin,
                            char **error)
{
    config_t *config = config_parse (text, origin ? origin : "(config)", error);
    return config ? s_session_from_config (runtime, config) : NULL;
}

void
mcpact_session_destroy (mcpact_session_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcpact_session_t *self = *self_p;
    while (true) {
        pthread_mutex_lock (&self->lock);
        mcpact_agent_t *agent = self->agents_count ? self->agents[0] : NULL;
        pthread_mutex_unlock (&self->lock);
        if (!agent)
            break;
        mcpact_agent_destroy (&agent);
    }
    mcpact_runtime_t *runtime = self->runtime;
    pthread_mutex_lock (&runtime->lock);
    for (size_t i = 0; i < runtime->sessions_count; i++)
        if (runtime->sessions[i] == self) {
            runtime->sessions[i] = runtime->sessions[--runtime->sessions_count];
            break;
        }
    pthread_mutex_unlock (&runtime->lock);
    actor_destroy (&self->actor);
    agent_views_destroy (&self->views);
    s_close_states (&self->states);
    s_close_states (&self->logs);
    asks_close (&self->asks, STATE_CLOSE_MS);
    s_unregister_functions (runtime, self->functions);
    json_decref (self->functions);
    config_destroy (&self->config);
    free (self->agents);
    pthread_mutex_destroy (&self->lock);
    pthread_mutex_destroy (&self->pipe_lock);
    free (self);
    *self_p = NULL;
}

int
mcpact_session_add_server (mcpact_session_t *self, mcpact_server_config_t **config_p)
{
    if (!self)
        return -1;
    //  Only the pipe's lock: while a server starts, the session's other
    //  functions (a new agent, a hand-off) go on.
    pthread_mutex_lock (&self->pipe_lock);
    int rc = s_add_server (actor_sock (self->actor), config_p, "the session");
    //  Added to a running session: its agents' sets have its tools when
    //  this returns.
    if (rc == 1)
        s_registry_sync (self->runtime);
    pthread_mutex_unlock (&self->pipe_lock);
    return rc < 0 ? -1 : 0;
}

int
mcpact_session_remove_server (mcpact_session_t *self, const char *name)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->pipe_lock);
    int rc = s_remove_server (actor_sock (self->actor), name, "the session");
    if (rc == 1)
        s_registry_sync (self->runtime);
    pthread_mutex_unlock (&self->pipe_lock);
    return rc < 0 ? -1 : 0;
}

int
mcpact_session_add_function (mcpact_session_t *self, const char *name, const char *description,
                             const char *parameters, mcpact_function_fn *fn, void *arg)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->lock);
    int rc = s_register_function (self->runtime, self->functions, name, description, parameters, fn,
                                  arg);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
mcpact_session_set_name_policy (mcpact_session_t *self, mcpact_name_policy_t policy)
{
    if (!self || policy < MCPACT_NAMES_REJECT || policy > MCPACT_NAMES_PREFIX_ON_CONFLICT)
        return -1;
    pthread_mutex_lock (&self->lock);
    self->policy = policy;
    pthread_mutex_unlock (&self->lock);
    return 0;
}

void
mcpact_session_set_progress (mcpact_session_t *self, mcpact_progress_fn *fn, void *arg)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    pthread_mutex_lock (&self->pipe_lock);
    s_set_progress (actor_sock (self->actor), fn, arg);
    pthread_mutex_unlock (&self->pipe_lock);
    self->progress_arg = arg;
    pthread_mutex_unlock (&self->lock);
}

char *
mcpact_session_start (mcpact_session_t *self)
{
    if (!self)
        return NULL;
    pthread_mutex_lock (&self->lock);
    //  What the host wrote for its progress callback before starting is
    //  the callback's to read (see server_set_run).
    if (self->progress_arg)
        actor_handoff_release (self->progress_arg);
    pthread_mutex_lock (&self->pipe_lock);
    zstr_send (actor_sock (self->actor), "START");
    char *verb = NULL, *report = NULL;
    zsock_recv (actor_sock (self->actor), "ss", &verb, &report);
    pthread_mutex_unlock (&self->pipe_lock);
    if (self->progress_arg)
        actor_handoff_acquire (self->progress_arg);
    pthread_mutex_unlock (&self->lock);
    free (verb);
    return report;
}

char *
mcpact_session_agent_names (mcpact_session_t *self)
{
    json_t *names = json_array ();
    if (self && self->config)
        for (size_t i = 0; i < self->config->agents_count; i++)
            json_array_append_new (names, json_string (self->config->agents[i].name));
    char *text = json_dumps (names, JSON_COMPACT);
    json_decref (names);
    return text;
}

char *
mcpact_session_server_names (mcpact_session_t *self, const char *agent)
{
    json_t *names = json_array ();
    const config_t *config = self ? self->config : NULL;
    mcpact_server_config_t **servers = config ? config->servers : NULL;
    size_t count = config ? config->servers_count : 0;
    //  An agent with servers of its own starts those instead
    for (size_t i = 0; config && agent && i < config->agents_count; i++)
        if (strcmp (config->agents[i].name, agent) == 0 && config->agents[i].servers_count) {
            servers = config->agents[i].servers;
            count = config->agents[i].servers_count;
        }
    for (size_t i = 0; i < count; i++)
        json_array_append_new (names, json_string (mcpact_server_config_name (servers[i])));
    char *text = json_dumps (names, JSON_COMPACT);
    json_decref (names);
    return text;
}

//  --------------------------------------------------------------------------
//  Agent

mcpact_agent_t *
mcpact_agent_new (mcpact_session_t *session, const char *name)
{
    if (!session)
        return NULL;
    mcpact_agent_t *self = (mcpact_agent_t *) calloc (1, sizeof (mcpact_agent_t));
    if (!self)
        return NULL;
    self->session = session;
    pthread_mutex_init (&self->lock, NULL);
    pthread_mutex_init (&self->pipe_lock, NULL);
    catalog_slot_init (&self->slot);
    self->slot.agent = name ? strdup (name) : NULL;
    self->functions = json_array ();
    self->view_id = api_next_id ();
    self->asks = asks_new (session->asks, name);
    //  No thread yet: it comes with the agent's first server (s_agent_actor).
    self->view = agent_view_new (session->views);
    if (!self->view || !self->functions) {
        log_error ("cannot make agent %s: out of memory", name ? name : "");
        agent_view_destroy (&self->view);
        json_decref (self->functions);
        catalog_slot_fini (&self->slot);
        pthread_mutex_destroy (&self->lock);
        pthread_mutex_destroy (&self->pipe_lock);
        free (self);
        return NULL;
    }
    pthread_mutex_lock (&session->lock);
    mcpact_agent_t **agents = (mcpact_agent_t **) realloc (
        session->agents, (session->agents_count + 1) * sizeof (mcpact_agent_t *));
    if (agents) {
        session->agents = agents;
        session->agents[session->agents_count++] = self;
    }
    pthread_mutex_unlock (&session->lock);
    return self;
}

mcpact_agent_t *
mcpact_agent_from_config (mcpact_session_t *session, const char *name)
{
    if (!session || !session->config || !name)
        return NULL;
    config_agent_t *found = NULL;
    for (size_t i = 0; i < session->config->agents_count; i++)
        if (strcmp (session->config->agents[i].name, name) == 0)
            found = &session->config->agents[i];
    if (!found)
        return NULL;
    mcpact_agent_t *self = mcpact_agent_new (session, name);
    if (self && found->roots)
        mcpact_agent_set_roots (self, found->roots);
    for (size_t i = 0; self && i < found->servers_count; i++) {
        mcpact_server_config_t *server = mcpact_server_config_dup (found->servers[i]);
        if (mcpact_agent_add_server (self, &server) != 0)
            mcpact_server_config_destroy (&server);
    }
    return self;
}

void
mcpact_agent_destroy (mcpact_agent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcpact_agent_t *self = *self_p;
    mcpact_session_t *session = self->session;
    pthread_mutex_lock (&session->lock);
    for (size_t i = 0; i < session->agents_count; i++)
        if (session->agents[i] == self) {
            session->agents[i] = session->agents[--session->agents_count];
            break;
        }
    pthread_mutex_unlock (&session->lock);
    //  The view is dropped first, so nothing publishes into the slot once
    //  it is gone; then the actor (if any) stops the agent's own servers.
    agent_view_destroy (&self->view);
    actor_destroy (&self->actor);
    s_close_states (&self->states);
    s_close_states (&self->logs);
    asks_close (&self->asks, STATE_CLOSE_MS);
    for (size_t i = 0; i < self->pool_count; i++)
        mcpact_caller_destroy (&self->pool[i]);
    free (self->pool);
    s_unregister_functions (session->runtime, self->functions);
    json_decref (self->functions);
    catalog_slot_fini (&self->slot);
    free (self->report);
    pthread_mutex_destroy (&self->lock);
    pthread_mutex_destroy (&self->pipe_lock);
    free (self);
    *self_p = NULL;
}

//  Starts the agent's actor, which owns its own servers, if it has none
//  yet. The view goes with it: the actor keeps it from now on. Called with
//  the agent's lock held, before the agent starts.
static int
s_agent_actor (mcpact_agent_t *self)
{
    if (self->actor)
        return 0;
    mcpact_runtime_t *runtime = self->session->runtime;
    char *error = NULL;
    self->actor = agent_actor_new (self->session->endpoint, runtime->registry_intake,
                                   runtime->registry_control, api_ids ());
    if (!self->actor || actor_wait (self->actor, &error) != 0) {
        log_error ("cannot start agent %s: %s", self->slot.agent ? self->slot.agent : "",
                   error ? error : "no thread");
        free (error);
        actor_destroy (&self->actor);
        return -1;
    }
    agent_view_destroy (&self->view); //  not registered yet: nothing to drop
    if (self->states)
        s_give_states (self->actor, self->states);
    if (self->logs)
        api_give_logs (self->actor, self->logs);
    if (self->asks)
        s_give_asks (self->actor, self->asks);
    if (self->progress)
        s_set_progress (actor_sock (self->actor), self->progress, self->progress_arg);
    return 0;
}

//  The agent's name for messages.
static const char *
s_agent_name (mcpact_agent_t *self)
{
    return self->slot.agent ? self->slot.agent : "(unnamed)";
}

//  Has a started agent's actor pass on what its servers said, and the
//  registry build from it: the agent's set is then current. Called with
//  the pipe's lock held.
static void
s_agent_sync (mcpact_agent_t *self)
{
    zstr_send (actor_sock (self->actor), "SYNC");
    free (zstr_recv (actor_sock (self->actor)));
}

int
mcpact_agent_add_server (mcpact_agent_t *self, mcpact_server_config_t **config_p)
{
    if (!self || !config_p || !*config_p)
        return -1;
    char owner[128];
    snprintf (owner, sizeof owner, "agent %s", s_agent_name (self));
    pthread_mutex_lock (&self->lock);
    //  Once started, the actor stays as it is: only the pipe's lock is
    //  held while the server starts, and the agent's calls go on.
    bool running = self->report && self->actor;
    int rc = -1;
    if (running)
        ;
    else if (self->report)
        //  Its own servers would replace the session's it started with.
        log_error ("cannot add server %s to agent %s: the agent started on its session's "
                   "servers; add it to the session, or give the agent servers of its own "
                   "before it starts",
                   (*config_p)->name, s_agent_name (self));
    else if (s_agent_actor (self) == 0) {
        pthread_mutex_lock (&self->pipe_lock);
        rc = s_add_server (actor_sock (self->actor), config_p, owner);
        pthread_mutex_unlock (&self->pipe_lock);
    }
    pthread_mutex_unlock (&self->lock);
    if (running) {
        pthread_mutex_lock (&self->pipe_lock);
        rc = s_add_server (actor_sock (self->actor), config_p, owner);
        if (rc == 1)
            s_agent_sync (self);
        pthread_mutex_unlock (&self->pipe_lock);
    }
    return rc < 0 ? -1 : 0;
}

int
mcpact_agent_remove_server (mcpact_agent_t *self, const char *name)
{
    if (!self || !name)
        return -1;
    char owner[128];
    snprintf (owner, sizeof owner, "agent %s", s_agent_name (self));
    pthread_mutex_lock (&self->lock);
    actor_t *actor = self->actor; //  made before start, kept until destroyed
    pthread_mutex_unlock (&self->lock);
    if (!actor) {
        log_error ("cannot remove server %s from agent %s: the agent has no servers of its "
                   "own (it uses its session's: remove it from the session)",
                   name, s_agent_name (self));
        return -1;
    }
    pthread_mutex_lock (&self->pipe_lock);
    int rc = s_remove_server (actor_sock (actor), name, owner);
    if (rc == 1)
        s_agent_sync (self);
    pthread_mutex_unlock (&self->pipe_lock);
    return rc < 0 ? -1 : 0;
}

int
mcpact_agent_add_function (mcpact_agent_t *self, const char *name, const char *description,
                           const char *parameters, mcpact_function_fn *fn, void *arg)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->lock);
    int rc = self->report ? -1
                          : s_register_function (self->session->runtime, self->functions, name,
                                                 description, parameters, fn, arg);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
mcpact_agent_set_progress (mcpact_agent_t *self, mcpact_progress_fn *fn, void *arg)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->lock);
    self->progress = fn;
    self->progress_arg = arg;
    if (self->actor) {
        pthread_mutex_lock (&self->pipe_lock);
        s_set_progress (actor_sock (self->actor), fn, arg);
        pthread_mutex_unlock (&self->pipe_lock);
    }
    //  Fallback agents start through the session: it reports there.
    mcpact_session_set_progress (self->session, fn, arg);
    pthread_mutex_unlock (&self->lock);
    return 0;
}

const char *
agent_ensure_started (mcpact_agent_t *self)
{
    pthread_mutex_lock (&self->lock);
    if (!self->report) {
        //  The agent's function tools first, then the session's.
        json_t *functions = json_deep_copy (self->functions);
        mcpact_session_t *session = self->session;
        pthread_mutex_lock (&session->lock);
        json_array_extend (functions, session->functions);
        mcpact_name_policy_t policy = session->policy;
        pthread_mutex_unlock (&session->lock);
        char *functions_text = json_dumps (functions, JSON_COMPACT);
        json_decref (functions);
        char view[16], slot[32], policy_text[8];
        snprintf (view, sizeof view, "%u", self->view_id);
        snprintf (slot, sizeof slot, "%llx", (unsigned long long) (uintptr_t) &self->slot);
        snprintf (policy_text, sizeof policy_text, "%d", (int) policy);
        actor_handoff_release (&self->slot);
        pthread_mutex_lock (&session->lock);
        if (session->progress_arg)
            actor_handoff_release (session->progress_arg);
        pthread_mutex_unlock (&session->lock);
        if (self->actor) {
            pthread_mutex_lock (&self->pipe_lock);
            zstr_sendx (actor_sock (self->actor), "START", view, slot, policy_text, functions_text,
                        NULL);
            char *verb = NULL;
            zsock_recv (actor_sock (self->actor), "ss", &verb, &self->report);
            pthread_mutex_unlock (&self->pipe_lock);
            free (verb);
        } else if (self->view)
            self->report = agent_view_start (self->view, view, slot, policy_text, functions_text);
        free (functions_text);
        pthread_mutex_lock (&session->lock);
        if (session->progress_arg)
            actor_handoff_acquire (session->progress_arg);
        pthread_mutex_unlock (&session->lock);
    }
    pthread_mutex_unlock (&self->lock);
    return self->report;
}

char *
mcpact_agent_start (mcpact_agent_t *self)
{
    if (!self)
        return NULL;
    const char *report = agent_ensure_started (self);
    return report ? strdup (report) : NULL;
}

char *
mcpact_agent_tools (mcpact_agent_t *self)
{
    if (!self)
        return NULL;
    agent_ensure_started (self);
    catalog_t *catalog = catalog_slot_get (&self->slot);
    char *tools = strdup (catalog_tools_json (catalog));
    catalog_unref (&catalog);
    return tools;
}

size_t
mcpact_agent_tool_count (mcpact_agent_t *self)
{
    if (!self)
        return 0;
    agent_ensure_started (self);
    catalog_t *catalog = catalog_slot_get (&self->slot);
    size_t count = catalog_size (catalog);
    catalog_unref (&catalog);
    return count;
}

mcpact_caller_t *
mcpact_caller_new (mcpact_agent_t *agent)
{
    if (!agent)
        return NULL;
    agent_ensure_started (agent);
    return caller_new (&agent->slot);
}

static mcpact_caller_t *
s_pool_take (mcpact_agent_t *self)
{
    pthread_mutex_lock (&self->lock);
    mcpact_caller_t *caller = self->pool_count ? self->pool[--self->pool_count] : NULL;
    pthread_mutex_unlock (&self->lock);
    return caller ? caller : caller_new (&self->slot);
}

static void
s_pool_give (mcpact_agent_t *self, mcpact_caller_t *caller)
{
    pthread_mutex_lock (&self->lock);
    if (self->pool_count == self->pool_max) {
        size_t max = self->pool_max ? self->pool_max * 2 : 4;
        mcpact_caller_t **pool =
            (mcpact_caller_t **) realloc (self->pool, max * sizeof (mcpact_caller_t *));
        if (pool) {
            self->pool = pool;
            self->pool_max = max;
        }
    }
    if (self->pool_count < self->pool_max) {
        self->pool[self->pool_count++] = caller;
        caller = NULL;
    }
    pthread_mutex_unlock (&self->lock);
    mcpact_caller_destroy (&caller);
}

mcpact_result_t *
mcpact_agent_call (mcpact_agent_t *self, const char *tool, const char *args_json, int timeout_ms)
{
    if (!self)
        return result_error (0, MCPACT_ERR_INTERNAL, "no agent");
    agent_ensure_started (self);
    mcpact_caller_t *caller = s_pool_take (self);
    if (!caller)
        return result_error (0, MCPACT_ERR_INTERNAL, "cannot make a caller");
    mcpact_result_t *result = caller_call (caller, tool, args_json, timeout_ms);
    s_pool_give (self, caller);
    if (!result)
        return result_error (0, MCPACT_ERR_INTERNAL, "the call was lost");
    return result;
}

//  Sends `verb` to every server of `servers` at once and takes the answers
//  as they come (each request has its own deadline, so this ends).
//  Returns one result per server, in order; NULL where a server could not
//  be asked. The caller destroys them and frees the array.
static mcpact_result_t **
s_ask_servers (mcpact_agent_t *self, json_t *servers, const char *verb, int timeout_ms)
{
    size_t count = json_array_size (servers);
    mcpact_result_t **results = (mcpact_result_t **) calloc (count + 1, sizeof *results);
    int64_t *ids = (int64_t *) calloc (count + 1, sizeof (int64_t));
    mcpact_caller_t *caller = s_pool_take (self);
    size_t waiting = 0;
    for (size_t i = 0; caller && i < count; i++) {
        json_t *endpoint = json_object_get (json_array_get (servers, i), "endpoint");
        ids[i] = caller_verb_send (caller, json_string_value (endpoint), verb, timeout_ms);
        waiting += ids[i] > 0;
    }
    while (waiting > 0) {
        mcpact_result_t *result = mcpact_caller_next (caller, -1);
        if (!result)
            break;
        for (size_t i = 0; i < count; i++)
            if (ids[i] == mcpact_result_id (result) && !results[i]) {
                results[i] = result;
                result = NULL;
                waiting--;
                break;
            }
        mcpact_result_destroy (&result);
    }
    free (ids);
    if (caller)
        s_pool_give (self, caller);
    return results;
}

char *
mcpact_agent_status (mcpact_agent_t *self)
{
    if (!self)
        return NULL;
    const char *report_text = agent_ensure_started (self);
    //  The start report's rejections, beside their servers (most reports
    //  have none, and are not read).
    json_t *report = report_text && strstr (report_text, "\"rejected\"")
                         ? json_loads (report_text, 0, NULL)
                         : NULL;
    catalog_t *catalog = catalog_slot_get (&self->slot);
    json_t *servers = catalog_servers (catalog);
    mcpact_result_t **results = s_ask_servers (self, servers, "STATUS", 2000);
    json_t *statuses = json_array ();
    for (size_t i = 0; i < json_array_size (servers); i++) {
        json_error_t error;
        json_t *status = results[i] && mcpact_result_status (results[i]) == MCPACT_OK
                             ? json_loads (mcpact_result_json (results[i]), 0, &error)
                             : NULL;
        if (!json_is_object (status)) {
            json_decref (status);
            status = json_pack ("{s:O,s:s}", "name",
                                json_object_get (json_array_get (servers, i), "name"), "state",
                                "unknown");
        }
        json_t *rejected = NULL;
        const char *name = json_string_value (json_object_get (status, "name"));
        size_t index;
        json_t *entry;
        json_array_foreach (json_object_get (report, "servers"), index, entry) {
            const char *entry_name = json_string_value (json_object_get (entry, "name"));
            if (name && entry_name && strcmp (name, entry_name) == 0)
                rejected = json_object_get (entry, "rejected");
        }
        json_object_set_new (status, "rejectedTools",
                             json_is_array (rejected) ? json_deep_copy (rejected) : json_array ());
        json_array_append_new (statuses, status);
        mcpact_result_destroy (&results[i]);
    }
    free (results);
    json_decref (report);
    catalog_unref (&catalog);
    char *text = json_dumps (statuses, JSON_COMPACT);
    json_decref (statuses);
    return text;
}

int
mcpact_agent_set_tools_changed (mcpact_agent_t *self, mcpact_tools_changed_fn *fn, void *arg)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->slot.lock);
    self->slot.changed = fn;
    self->slot.changed_arg = arg;
    pthread_mutex_unlock (&self->slot.lock);
    return 0;
}

int
mcpact_agent_set_tool_filter (mcpact_agent_t *self, mcpact_tool_filter_fn *fn, void *arg)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->slot.lock);
    self->slot.filter = fn;
    self->slot.filter_arg = arg;
    pthread_mutex_unlock (&self->slot.lock);
    return 0;
}

char *
mcpact_agent_reload (mcpact_agent_t *self)
{
    if (!self)
        return NULL;
    agent_ensure_started (self);
    catalog_t *before = catalog_slot_get (&self->slot);
    json_t *servers = catalog_servers (before);
    //  Every server lists again at once; each answers when its new list is
    //  with the registry (or why not).
    mcpact_result_t **results = s_ask_servers (self, servers, "RELOAD", 0);
    json_t *errors = json_array ();
    for (size_t i = 0; i < json_array_size (servers); i++) {
        if (!results[i] || mcpact_result_status (results[i]) != MCPACT_OK)
            json_array_append_new (
                errors,
                json_pack ("{s:O,s:s}", "server",
                           json_object_get (json_array_get (servers, i), "name"), "error",
                           results[i] ? mcpact_result_error (results[i]) : "could not be asked"));
        mcpact_result_destroy (&results[i]);
    }
    free (results);
    //  The registry has the new lists by now; make sure it has built from
    //  them before we look.
    pthread_mutex_lock (&self->lock);
    if (self->actor) {
        pthread_mutex_lock (&self->pipe_lock);
        s_agent_sync (self);
        pthread_mutex_unlock (&self->pipe_lock);
    } else if (self->view)
        agent_view_sync (self->view);
    pthread_mutex_unlock (&self->lock);
    catalog_t *after = catalog_slot_get (&self->slot);
    json_t *change = catalog_diff (before, after);
    json_object_set_new (change, "errors", errors);
    char *text = json_dumps (change, JSON_COMPACT);
    json_decref (change);
    catalog_unref (&before);
    catalog_unref (&after);
    return text;
}

//  --------------------------------------------------------------------------
//  Servers that ask back (asks.h): what the host supplies goes into the
//  session's or agent's asks_t, which its servers read as they connect.

static int
s_set_roots (asks_t *asks, const char *roots_json, const char *owner)
{
    if (!asks)
        return -1;
    json_t *roots = NULL;
    if (roots_json) {
        json_error_t parse_error;
        json_t *value = json_loads (roots_json, 0, &parse_error);
        char *error = NULL;
        roots = value ? roots_list (value, &error) : NULL;
        json_decref (value);
        if (!roots) {
            log_error ("%s: roots: %s", owner, error ? error : parse_error.text);
            free (error);
            return -1;
        }
    }
    asks_set_roots (asks, roots);
    return 0;
}

int
mcpact_session_set_roots (mcpact_session_t *self, const char *roots_json)
{
    return self ? s_set_roots (self->asks, roots_json, "the session") : -1;
}

int
mcpact_agent_set_roots (mcpact_agent_t *self, const char *roots_json)
{
    return self ? s_set_roots (self->asks, roots_json, s_agent_name (self)) : -1;
}

int
mcpact_session_set_sampling (mcpact_session_t *self, mcpact_ask_fn *fn, void *arg)
{
    if (!self || !self->asks)
        return -1;
    asks_set_sampling (self->asks, fn, arg);
    return 0;
}

int
mcpact_agent_set_sampling (mcpact_agent_t *self, mcpact_ask_fn *fn, void *arg)
{
    if (!self || !self->asks)
        return -1;
    asks_set_sampling (self->asks, fn, arg);
    return 0;
}

int
mcpact_session_set_elicitation (mcpact_session_t *self, mcpact_ask_fn *fn, void *arg, int modes)
{
    if (!self || !self->asks)
        return -1;
    asks_set_elicitation (self->asks, fn, arg, modes);
    return 0;
}

int
mcpact_agent_set_elicitation (mcpact_agent_t *self, mcpact_ask_fn *fn, void *arg, int modes)
{
    if (!self || !self->asks)
        return -1;
    asks_set_elicitation (self->asks, fn, arg, modes);
    return 0;
}

int
mcpact_session_set_ask_timeout (mcpact_session_t *self, int timeout_ms)
{
    if (!self || !self->asks || timeout_ms < 0)
        return -1;
    asks_set_timeout (self->asks, timeout_ms);
    return 0;
}

int
mcpact_agent_set_ask_timeout (mcpact_agent_t *self, int timeout_ms)
{
    if (!self || !self->asks || timeout_ms < 0)
        return -1;
    asks_set_timeout (self->asks, timeout_ms);
    return 0;
}
