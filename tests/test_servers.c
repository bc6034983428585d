/*  =========================================================================
    test_servers - servers added to and removed from a running session or agent

    A server added once its owner (session or agent) has started starts at
    once and its tools join the set: the tools-changed callback and the
    runtime's TOOLS_CHANGED event say "added". A server removed stops with
    the full close sequence, leaves no process behind, and takes its tools
    with it (callback and event: "removed"); a call in flight on it, or on
    its lane, returns "server NAME was removed" at once, a later call is an
    unknown tool, and no host thread hangs. Agents on the session's servers
    follow the session; an agent with servers of its own follows only its
    own.
    =========================================================================
*/

#include "runtime_util.h"

#include "caller.h"
#include "catalog.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

//  --------------------------------------------------------------------------
//  What the tools-changed callback and the PUB socket said

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t came;
    char *changes[16]; //  the callback's JSON, in order
    int count;
} s_changes_t;

static void
s_changes_init (s_changes_t *self)
{
    memset (self, 0, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->came, NULL);
}

static void
s_changes_fini (s_changes_t *self)
{
    for (int i = 0; i < self->count; i++)
        free (self->changes[i]);
    pthread_cond_destroy (&self->came);
    pthread_mutex_destroy (&self->lock);
}

static void
s_on_change (const char *change_json, void *arg)
{
    s_changes_t *self = (s_changes_t *) arg;
    pthread_mutex_lock (&self->lock);
    if (self->count < 16)
        self->changes[self->count++] = strdup (change_json);
    pthread_cond_broadcast (&self->came);
    pthread_mutex_unlock (&self->lock);
}

//  The `index`th change the callback got (waiting for it under a
//  watchdog), parsed.
static json_t *
s_change (s_changes_t *self, int index)
{
    ru_watchdog_arm (30, "a tools-changed callback");
    pthread_mutex_lock (&self->lock);
    while (self->count <= index)
        pthread_cond_wait (&self->came, &self->lock);
    json_t *change = ru_json (self->changes[index]);
    pthread_mutex_unlock (&self->lock);
    ru_watchdog_disarm ();
    return change;
}

//  Waits (under a watchdog) until the callback had a JSON text holding
//  both `one` and `other`.
static void
s_wait_for (s_changes_t *self, const char *one, const char *other)
{
    ru_watchdog_arm (30, "a state callback");
    pthread_mutex_lock (&self->lock);
    for (int seen = 0;; seen++) {
        while (self->count <= seen && self->count < 16)
            pthread_cond_wait (&self->came, &self->lock);
        CHECK_MSG (seen < 16, "no %s %s among 16 callbacks", one, other);
        if (strstr (self->changes[seen], one) && strstr (self->changes[seen], other))
            break;
    }
    pthread_mutex_unlock (&self->lock);
    ru_watchdog_disarm ();
}

//  The next TOOLS_CHANGED event on `subscriber`, parsed.
static json_t *
s_event (zsock_t *subscriber)
{
    zsock_set_rcvtimeo (subscriber, 30000);
    char *verb = NULL, *view = NULL, *text = NULL;
    CHECK_MSG (zsock_recv (subscriber, "sss", &verb, &view, &text) == 0, "no TOOLS_CHANGED event");
    CHECK_STR (verb, "TOOLS_CHANGED");
    json_t *change = ru_json (text);
    free (verb);
    free (view);
    free (text);
    return change;
}

//  Whether the array `key` of a change holds `name`.
static bool
s_names (json_t *change, const char *key, const char *name)
{
    size_t index;
    json_t *item;
    json_array_foreach (json_object_get (change, key), index, item)
        if (strcmp (json_string_value (item), name) == 0)
            return true;
    return false;
}

//  Whether the agent's set has a tool called `name`.
static bool
s_has_tool (mcpact_agent_t *agent, const char *name)
{
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    bool has = ru_named (tools, name) != NULL;
    json_decref (tools);
    return has;
}

//  A fixture server `name` whose tools are `<name>_echo`, `<name>_sleep`, ...
static mcpact_server_config_t *
s_server (const char *name, const char *more)
{
    char prefix[32];
    snprintf (prefix, sizeof prefix, "%s_", name);
    return ru_fixture (name, "--prefix", prefix, more, NULL);
}

//  --------------------------------------------------------------------------
//  Adding

TEST (add_to_started_session)
{
    //  Made before the runtime's threads, which call back into it
    s_changes_t changes;
    s_changes_init (&changes);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_server ("a", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "planner");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_change, &changes) == 0);
    zsock_t *subscriber = zsock_new_sub (mcpact_runtime_events_endpoint (runtime), "TOOLS_CHANGED");
    CHECK (subscriber);
    free (mcpact_agent_start (agent));
    CHECK (s_has_tool (agent, "a_echo") && !s_has_tool (agent, "b_echo"));

    config = s_server ("b", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    CHECK (config == NULL);
    //  Its tools are there when the call returns
    CHECK (s_has_tool (agent, "b_echo") && s_has_tool (agent, "a_echo"));
    RU_CALL_IS (agent, "b_echo", "{\"message\":\"new\"}", "new");
    json_t *change = s_change (&changes, 0);
    CHECK (s_names (change, "added", "b_echo") && s_names (change, "added", "b_sleep"));
    CHECK (json_array_size (json_object_get (change, "removed")) == 0);
    CHECK_STR (ru_str (change, "agent"), "planner");
    json_decref (change);
    change = s_event (subscriber);
    CHECK (s_names (change, "added", "b_echo"));
    json_decref (change);
    //  Its status is there too
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK_STR (ru_str (ru_named (status, "b"), "state"), "ready");
    json_decref (status);

    //  A name taken by another server of the session is refused; the
    //  configuration stays the host's
    config = s_server ("b", NULL);
    CHECK (mcpact_session_add_server (session, &config) == -1);
    CHECK (config != NULL);
    mcpact_server_config_destroy (&config);
    RU_CALL_IS (agent, "b_echo", "{\"message\":\"still\"}", "still");

    zsock_destroy (&subscriber);
    ru_teardown (&agent, &session, &runtime);
    s_changes_fini (&changes);
}

//  While a server added to a running session starts, the session goes on:
//  a new agent starts (the server "starting" in its report) and calls are
//  made. The server here never answers initialize; the test ends its
//  start by killing it, so the add cannot have returned before.

typedef struct {
    mcpact_session_t *session;
    mcpact_server_config_t *config;
    atomic_int done;
    int rc;
} s_adder_t;

static void *
s_add (void *arg)
{
    s_adder_t *self = (s_adder_t *) arg;
    self->rc = mcpact_session_add_server (self->session, &self->config);
    atomic_store (&self->done, 1);
    return NULL;
}

TEST (add_does_not_hold_up_the_session)
{
    char dir[] = "/tmp/mcpact-servers-XXXXXX";
    CHECK (mkdtemp (dir));
    char pid_file[64];
    snprintf (pid_file, sizeof pid_file, "%s/pid", dir);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_server ("a", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *first = mcpact_agent_new (session, NULL);
    CHECK (first);
    free (mcpact_agent_start (first));

    s_adder_t adder = { session, ru_fixture ("slow", "--no-answer", "--pid-file", pid_file, NULL),
                        0, -1 };
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, s_add, &adder) == 0);
    ru_watchdog_arm (60, "the session's work while a server is added");
    FILE *file = NULL;
    while (!(file = fopen (pid_file, "r")))
        ru_sleep_ms (10);
    long pid = 0;
    //  Written at once, but maybe not yet whole
    while (fscanf (file, "%ld", &pid) != 1 || pid <= 0) {
        ru_sleep_ms (10);
        rewind (file);
    }
    fclose (file);

    mcpact_agent_t *second = mcpact_agent_new (session, NULL);
    CHECK (second);
    json_t *report = ru_json_take (mcpact_agent_start (second));
    CHECK_STR (ru_state (report, "slow"), "starting");
    CHECK_STR (ru_state (report, "a"), "ready");
    json_decref (report);
    RU_CALL_IS (second, "a_echo", "{\"message\":\"meanwhile\"}", "meanwhile");
    RU_CALL_IS (first, "a_echo", "{\"message\":\"meanwhile\"}", "meanwhile");
    CHECK (atomic_load (&adder.done) == 0);

    CHECK (kill ((pid_t) pid, SIGKILL) == 0);
    pthread_join (thread, NULL);
    ru_watchdog_disarm ();
    //  Added, and failed: it stays, as at start, and says why
    CHECK (adder.rc == 0 && adder.config == NULL);
    json_t *status = ru_json_take (mcpact_agent_status (second));
    CHECK_STR (ru_str (ru_named (status, "slow"), "state"), "failed");
    json_decref (status);
    CHECK (mcpact_session_remove_server (session, "slow") == 0);
    RU_CALL_IS (second, "a_echo", "{\"message\":\"after\"}", "after");

    mcpact_agent_destroy (&second);
    ru_teardown (&first, &session, &runtime);
    unlink (pid_file);
    rmdir (dir);
}

//  --------------------------------------------------------------------------
//  Removing

TEST (remove_from_started_session)
{
    //  Made before the runtime's threads, which call back into it
    s_changes_t changes;
    s_changes_init (&changes);
    char dir[] = "/tmp/mcpact-servers-XXXXXX";
    CHECK (mkdtemp (dir));
    char called[64];
    snprintf (called, sizeof called, "%s/called", dir);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_server ("a", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = ru_fixture ("b", "--prefix", "b_", "--call-file", called, NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "planner");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_change, &changes) == 0);
    zsock_t *subscriber = zsock_new_sub (mcpact_runtime_events_endpoint (runtime), "TOOLS_CHANGED");
    CHECK (subscriber);
    free (mcpact_agent_start (agent));
    CHECK (s_has_tool (agent, "b_sleep"));

    //  A call in flight on it: the server has it, and would answer in 10 min
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller);
    CHECK (mcpact_caller_send (caller, "b_sleep", "{\"ms\":600000}", 0) > 0);
    struct stat info;
    ru_watchdog_arm (30, "the sleep call to reach the server");
    while (stat (called, &info) != 0)
        ru_sleep_ms (10);
    ru_watchdog_disarm ();

    ru_watchdog_arm (30, "removing a server with a call in flight");
    CHECK (mcpact_session_remove_server (session, "b") == 0);
    mcpact_result_t *result = mcpact_caller_next (caller, -1);
    ru_watchdog_disarm ();
    CHECK (mcpact_result_status (result) == MCPACT_ERR_SERVER);
    CHECK_STR (mcpact_result_error (result), "server b was removed");
    mcpact_result_destroy (&result);
    mcpact_caller_destroy (&caller);

    //  Its tools are gone; the other server's stay
    CHECK (!s_has_tool (agent, "b_echo") && !s_has_tool (agent, "b_sleep"));
    RU_CALL_IS (agent, "a_echo", "{\"message\":\"left\"}", "left");
    result = ru_call_fails (agent, "b_echo", "{\"message\":\"x\"}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    json_t *change = s_change (&changes, 0);
    CHECK (s_names (change, "removed", "b_echo") && s_names (change, "removed", "b_sleep"));
    CHECK (!s_names (change, "removed", "a_echo"));
    CHECK (json_array_size (json_object_get (change, "added")) == 0);
    json_decref (change);
    change = s_event (subscriber);
    CHECK (s_names (change, "removed", "b_echo"));
    json_decref (change);
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK (json_array_size (status) == 1 && ru_named (status, "a"));
    json_decref (status);

    //  Removing it again, or a name the session never had, is an error
    CHECK (mcpact_session_remove_server (session, "b") == -1);
    CHECK (mcpact_session_remove_server (session, "nope") == -1);
    CHECK (mcpact_session_remove_server (session, NULL) == -1);
    //  The name is free again
    config = s_server ("b", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    RU_CALL_IS (agent, "b_echo", "{\"message\":\"back\"}", "back");

    zsock_destroy (&subscriber);
    ru_teardown (&agent, &session, &runtime);
    s_changes_fini (&changes);
    unlink (called);
    rmdir (dir);
}

//  The close sequence runs to its end: a server that outlives stdin EOF is
//  sent SIGTERM, and its process is gone when the call returns.
TEST (removed_server_leaves_no_process)
{
    //  Made before the runtime's threads, which call back into it
    s_changes_t states;
    s_changes_init (&states);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_server_state (session, s_on_change, &states) == 0);
    mcpact_server_config_t *config = s_server ("a", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = s_server ("b", "--ignore-eof");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    long pid = ru_pid (agent, "b_pid");
    CHECK (ru_alive (pid, pid));
    CHECK (mcpact_session_remove_server (session, "b") == 0);
    CHECK_MSG (!ru_alive (pid, pid), "the removed server %ld is still running", pid);
    //  The state callback saw it stop
    s_wait_for (&states, "\"server\":\"b\"", "\"state\":\"stopped\"");
    //  The other one is still up
    CHECK (ru_pid (agent, "a_pid") > 0);
    ru_teardown (&agent, &session, &runtime);
    s_changes_fini (&states);
}

//  Host threads calling the server one call after another (on its lane)
//  while it is removed: each call returns, ok before, an error after.

#define THREADS 4

typedef struct {
    mcpact_agent_t *agent;
    int index;
    atomic_int calls;     //  calls that returned
    int ok_after_error;   //  ok calls after an error: must be none
    int errors;           //  errors seen
    char unexpected[256]; //  an error that is neither removed nor unknown
} s_caller_t;

static void *
s_calls (void *arg)
{
    s_caller_t *self = (s_caller_t *) arg;
    char args[64];
    while (self->errors < 3) {
        snprintf (args, sizeof args, "{\"message\":\"t%d-%d\"}", self->index,
                  atomic_load (&self->calls));
        mcpact_result_t *result = mcpact_agent_call (self->agent, "echo", args, 0);
        mcpact_status_t status = mcpact_result_status (result);
        if (status == MCPACT_OK)
            self->ok_after_error += self->errors > 0;
        else {
            const char *error = mcpact_result_error (result);
            bool removed = status == MCPACT_ERR_SERVER && error &&
                           strcmp (error, "server lane was removed") == 0;
            if (!removed && status != MCPACT_ERR_UNKNOWN_TOOL && !*self->unexpected)
                snprintf (self->unexpected, sizeof self->unexpected, "%s: %s",
                          mcpact_status_name (status), error ? error : "");
            self->errors++;
        }
        mcpact_result_destroy (&result);
        atomic_fetch_add (&self->calls, 1);
    }
    return NULL;
}

TEST (remove_during_sequential_calls)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "lane", NULL);
    s_caller_t callers[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset (&callers[i], 0, sizeof callers[i]);
        callers[i].agent = agent;
        callers[i].index = i;
        CHECK (pthread_create (&threads[i], NULL, s_calls, &callers[i]) == 0);
    }
    ru_watchdog_arm (60, "calls from 4 threads while the server is removed");
    //  Every thread is calling
    for (int i = 0; i < THREADS; i++)
        while (atomic_load (&callers[i].calls) < 50)
            ru_sleep_ms (1);
    CHECK (mcpact_session_remove_server (session, "lane") == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join (threads[i], NULL);
    ru_watchdog_disarm ();
    for (int i = 0; i < THREADS; i++) {
        CHECK_MSG (!*callers[i].unexpected, "thread %d: %s", i, callers[i].unexpected);
        CHECK_MSG (callers[i].ok_after_error == 0, "thread %d: a call succeeded after an error", i);
        CHECK (atomic_load (&callers[i].calls) >= 50 + 3);
    }
    CHECK (mcpact_agent_tool_count (agent) == 0);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Agents with servers of their own, and agents on the session's

TEST (agents_own_and_shared)
{
    //  Made before the runtime's threads, which call back into it
    s_changes_t shared_changes, own_changes;
    s_changes_init (&shared_changes);
    s_changes_init (&own_changes);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_server ("s", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *shared = mcpact_agent_new (session, "shared");
    mcpact_agent_t *own = mcpact_agent_new (session, "own");
    CHECK (shared && own);
    config = s_server ("o", NULL);
    CHECK (mcpact_agent_add_server (own, &config) == 0);
    CHECK (mcpact_agent_set_tools_changed (shared, s_on_change, &shared_changes) == 0);
    CHECK (mcpact_agent_set_tools_changed (own, s_on_change, &own_changes) == 0);
    free (mcpact_agent_start (shared));
    free (mcpact_agent_start (own));
    CHECK (s_has_tool (shared, "s_echo") && !s_has_tool (shared, "o_echo"));
    CHECK (s_has_tool (own, "o_echo") && !s_has_tool (own, "s_echo"));

    //  Added to the session: the agent on the session's servers sees it
    config = s_server ("t", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    CHECK (s_has_tool (shared, "t_echo"));
    CHECK (!s_has_tool (own, "t_echo"));
    json_t *change = s_change (&shared_changes, 0);
    CHECK (s_names (change, "added", "t_echo"));
    json_decref (change);

    //  Added to the agent with servers of its own: only it sees it
    config = s_server ("p", NULL);
    CHECK (mcpact_agent_add_server (own, &config) == 0);
    CHECK (s_has_tool (own, "p_echo") && s_has_tool (own, "o_echo"));
    CHECK (!s_has_tool (shared, "p_echo"));
    RU_CALL_IS (own, "p_echo", "{\"message\":\"mine\"}", "mine");
    change = s_change (&own_changes, 0);
    CHECK (s_names (change, "added", "p_echo"));
    json_decref (change);
    //  Its names are its own: the session's server names are not taken
    config = s_server ("p", NULL);
    CHECK (mcpact_agent_add_server (own, &config) == -1);
    mcpact_server_config_destroy (&config);

    //  Removed from the session: the agent with its own does not change
    CHECK (mcpact_session_remove_server (session, "t") == 0);
    CHECK (!s_has_tool (shared, "t_echo") && s_has_tool (shared, "s_echo"));
    change = s_change (&shared_changes, 1);
    CHECK (s_names (change, "removed", "t_echo"));
    json_decref (change);
    CHECK (mcpact_agent_remove_server (own, "t") == -1);
    CHECK (mcpact_agent_remove_server (own, "s") == -1);

    //  Removed from the agent: the session's agents do not change
    CHECK (mcpact_agent_remove_server (own, "p") == 0);
    CHECK (!s_has_tool (own, "p_echo") && s_has_tool (own, "o_echo"));
    change = s_change (&own_changes, 1);
    CHECK (s_names (change, "removed", "p_echo"));
    json_decref (change);
    CHECK (mcpact_agent_remove_server (own, "p") == -1);

    //  The agent on the session's servers has none of its own to remove,
    //  and takes none once started
    CHECK (mcpact_agent_remove_server (shared, "s") == -1);
    config = s_server ("q", NULL);
    CHECK (mcpact_agent_add_server (shared, &config) == -1);
    CHECK (config != NULL);
    mcpact_server_config_destroy (&config);
    CHECK (s_has_tool (shared, "s_echo"));

    //  Each saw its own changes only
    pthread_mutex_lock (&shared_changes.lock);
    CHECK_MSG (shared_changes.count == 2, "the shared agent saw %d changes", shared_changes.count);
    pthread_mutex_unlock (&shared_changes.lock);
    pthread_mutex_lock (&own_changes.lock);
    CHECK_MSG (own_changes.count == 2, "the agent with its own saw %d changes", own_changes.count);
    pthread_mutex_unlock (&own_changes.lock);

    mcpact_agent_destroy (&shared);
    ru_teardown (&own, &session, &runtime);
    s_changes_fini (&shared_changes);
    s_changes_fini (&own_changes);
}

//  A server added before start and removed before start never starts.
TEST (remove_before_start)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_server ("a", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = s_server ("b", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    CHECK (mcpact_session_remove_server (session, "b") == 0);
    json_t *report = ru_json_take (mcpact_session_start (session));
    CHECK (json_array_size (json_object_get (report, "servers")) == 1);
    CHECK_STR (ru_state (report, "a"), "ready");
    json_decref (report);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (s_has_tool (agent, "a_echo") && !s_has_tool (agent, "b_echo"));
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  A call lost with its server's connection

//  A catalog with the server `gone` (tool `work`, at `endpoint`), or empty.
static catalog_t *
s_catalog (const char *endpoint)
{
    json_t *functions = json_array ();
    json_t *servers = endpoint ? json_pack ("[{s:s,s:s,s:[{s:s}]}]", "name", "gone", "endpoint",
                                            endpoint, "tools", "name", "work")
                               : json_array ();
    json_t *rejected = json_array ();
    catalog_t *catalog = catalog_build (MCPACT_NAMES_REJECT, functions, servers, rejected);
    CHECK (catalog);
    json_decref (functions);
    json_decref (servers);
    json_decref (rejected);
    return catalog;
}

//  A call that reached no one who will answer it (sent as its server's
//  socket closed), with no timeout of its own: once the server has left
//  the catalog, its caller ends it, rather than wait for a day.
TEST (call_lost_with_a_removed_server_ends)
{
    const char *endpoint = "inproc://test-servers-gone";
    zsock_t *owner = zsock_new (ZMQ_ROUTER);
    CHECK (owner && zsock_bind (owner, "%s", endpoint) == 0);
    catalog_slot_t slot;
    catalog_slot_init (&slot);
    catalog_slot_publish (&slot, s_catalog (endpoint));
    mcpact_caller_t *caller = caller_new (&slot);
    CHECK (caller);
    CHECK (mcpact_caller_send (caller, "work", "{}", 0) > 0);
    //  It arrived, and is never answered
    zmsg_t *call = zmsg_recv (owner);
    CHECK (call);
    zmsg_destroy (&call);
    CHECK (mcpact_caller_next (caller, 0) == NULL);

    catalog_slot_publish (&slot, s_catalog (NULL));
    ru_watchdog_arm (30, "a call whose server left the catalog");
    mcpact_result_t *result = mcpact_caller_next (caller, -1);
    ru_watchdog_disarm ();
    CHECK (mcpact_result_status (result) == MCPACT_ERR_SERVER);
    CHECK_STR (mcpact_result_error (result), "server gone was removed");
    CHECK (mcpact_caller_pending (caller) == 0);
    mcpact_result_destroy (&result);
    mcpact_caller_destroy (&caller);
    catalog_slot_fini (&slot);
    zsock_destroy (&owner);
}
