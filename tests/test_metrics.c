/*  =========================================================================
    test_metrics - what a server's status counts, and its state events

    A server's status counts its calls by how they ended and times the
    answers, on the message path and on the lane alike; its state changes
    reach the host's callback and the runtime's events socket, in order,
    with the reason for a failure. Waits poll with a hang guard, never
    against a time.
    =========================================================================
*/

#include "runtime_util.h"

#include "latency.h"

#include <czmq.h>
#include <pthread.h>

//  --------------------------------------------------------------------------
//  Helpers

//  The status entry of server `name` (the caller's).
static json_t *
s_status (mcpact_agent_t *agent, const char *name)
{
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *server = ru_named (status, name);
    CHECK_MSG (server != NULL, "no %s in the status", name);
    json_incref (server);
    json_decref (status);
    return server;
}

static json_int_t
s_number (json_t *server, const char *key)
{
    json_t *value = json_object_get (server, key);
    CHECK_MSG (json_is_integer (value), "no number %s in %s", key,
               json_dumps (server, JSON_COMPACT));
    return json_integer_value (value);
}

//  One count of the status's "results".
static json_int_t
s_result (json_t *server, const char *key)
{
    return s_number (json_object_get (server, "results"), key);
}

//  One figure of the status's "latencyUs".
static json_int_t
s_latency (json_t *server, const char *key)
{
    return s_number (json_object_get (server, "latencyUs"), key);
}

//  Waits until server `name` has `state` and nothing in flight.
static void
s_wait_state (mcpact_agent_t *agent, const char *name, const char *state)
{
    ru_watchdog_arm (30, "a server's state in its status");
    while (true) {
        json_t *server = s_status (agent, name);
        bool there =
            strcmp (ru_str (server, "state"), state) == 0 && s_number (server, "inFlight") == 0;
        json_decref (server);
        if (there)
            break;
        ru_sleep_ms (20);
    }
    ru_watchdog_disarm ();
}

//  The counts a status must add up to: every call that reached the
//  server is ended in one status or in flight, and "errors" are those
//  not ok.
static void
s_check_sums (json_t *server)
{
    json_int_t ended = 0;
    const char *key;
    json_t *value;
    json_object_foreach (json_object_get (server, "results"), key, value)
        ended += json_integer_value (value);
    CHECK_MSG (json_object_size (json_object_get (server, "results")) == 10, "%s",
               json_dumps (server, JSON_COMPACT));
    CHECK (s_number (server, "calls") == ended + s_number (server, "inFlight"));
    CHECK (s_number (server, "errors") == ended - s_result (server, "ok"));
    CHECK (s_latency (server, "p50") <= s_latency (server, "p99"));
    CHECK (s_latency (server, "p99") <= s_latency (server, "max"));
}

//  A call sent straight to a server actor, as any caller may (the CALL of
//  docs/protocol.md): returns the status of its RESULT.
static int
s_raw_call (const char *endpoint, const char *tool, const char *args)
{
    zsock_t *dealer = zsock_new_dealer (endpoint);
    CHECK (dealer != NULL);
    zsock_set_rcvtimeo (dealer, 20000);
    zstr_sendx (dealer, "CALL", "1", tool, args, "0", NULL);
    zmsg_t *reply = zmsg_recv (dealer);
    CHECK_MSG (reply != NULL, "no answer to a CALL of %s", tool);
    char *verb = zmsg_popstr (reply);
    char *id = zmsg_popstr (reply);
    char *status = zmsg_popstr (reply);
    CHECK_STR (verb, "RESULT");
    CHECK_STR (id, "1");
    int value = atoi (status);
    free (verb);
    free (id);
    free (status);
    zmsg_destroy (&reply);
    zsock_destroy (&dealer);
    return value;
}

//  Sends `count` calls of `tool` through `caller`, then takes their
//  results; checks that they ended in `status`.
static void
s_calls (mcpact_caller_t *caller, const char *tool, const char *args, int timeout_ms, int count,
         mcpact_status_t status)
{
    for (int i = 0; i < count; i++)
        CHECK (mcpact_caller_send (caller, tool, args, timeout_ms) > 0);
    for (int i = 0; i < count; i++) {
        mcpact_result_t *result = mcpact_caller_next (caller, 30000);
        CHECK_MSG (result && mcpact_result_status (result) == status, "%s: expected %s, got %s: %s",
                   tool, mcpact_status_name (status),
                   result ? mcpact_status_name (mcpact_result_status (result)) : "nothing",
                   result ? mcpact_result_error (result) : "");
        mcpact_result_destroy (&result);
    }
}

//  --------------------------------------------------------------------------
//  Counts by outcome, and latency

TEST (results_on_the_message_path)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("m", NULL);
    //  "add" is left out: a CALL of it is refused as an unknown tool.
    //  "ghost" the fixture does not have: it answers with an error.
    const char *allowed[] = { "echo", "fail", "empty", "sleep", "crash", "ghost" };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        CHECK (mcpact_server_config_allow_tool (config, allowed[i]) == 0);
    CHECK (mcpact_server_config_set_limits (config, 2, 0) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));
    //  The asynchronous caller goes by message only (no lane).
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller != NULL);

    //  (One at a time: at most two may be in flight.)
    for (int i = 0; i < 3; i++)
        s_calls (caller, "echo", "{\"message\":\"hi\"}", 0, 1, MCPACT_OK);
    s_calls (caller, "fail", "{}", 0, 1, MCPACT_ERR_TOOL);
    s_calls (caller, "empty", "{}", 0, 1, MCPACT_ERR_TOOL);
    s_calls (caller, "sleep", "{\"ms\":10000}", 300, 1, MCPACT_ERR_TIMEOUT);
    //  Cancelled while in flight
    int64_t id = mcpact_caller_send (caller, "sleep", "{\"ms\":10000}", 20000);
    CHECK (id > 0);
    CHECK (mcpact_caller_cancel (caller, id) == 0);
    mcpact_result_t *result = mcpact_caller_next (caller, 30000);
    CHECK (result && mcpact_result_status (result) == MCPACT_ERR_CANCELLED);
    mcpact_result_destroy (&result);
    //  Two in flight is the limit: a third at once is refused
    CHECK (mcpact_caller_send (caller, "sleep", "{\"ms\":300}", 0) > 0);
    CHECK (mcpact_caller_send (caller, "sleep", "{\"ms\":300}", 0) > 0);
    s_calls (caller, "echo", "{\"message\":\"third\"}", 0, 1, MCPACT_ERR_BUSY);
    for (int i = 0; i < 2; i++) {
        result = mcpact_caller_next (caller, 30000);
        CHECK (result && mcpact_result_status (result) == MCPACT_OK);
        mcpact_result_destroy (&result);
    }
    //  A tool the agent does not have reaches no server
    result = ru_call_fails (agent, "no_such_tool", "{}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    json_t *server = s_status (agent, "m");
    CHECK_MSG (s_number (server, "calls") == 10, "%s", json_dumps (server, JSON_COMPACT));
    const char *endpoint = ru_str (server, "endpoint");
    //  What the agent never sends, a caller may: a tool the allow-list
    //  leaves out, arguments that are not an object, a tool the server
    //  does not have (its JSON-RPC error)
    CHECK (s_raw_call (endpoint, "add", "{\"a\":1,\"b\":2}") == MCPACT_ERR_UNKNOWN_TOOL);
    CHECK (s_raw_call (endpoint, "echo", "[1]") == MCPACT_ERR_ARGS);
    CHECK (s_raw_call (endpoint, "ghost", "{}") == MCPACT_ERR_PROTOCOL);
    json_decref (server);
    //  The server dies in a call, and is restarted
    s_calls (caller, "crash", "{}", 0, 1, MCPACT_ERR_SERVER);
    s_wait_state (agent, "m", "ready");

    server = s_status (agent, "m");
    CHECK_MSG (s_number (server, "calls") == 14, "%s", json_dumps (server, JSON_COMPACT));
    CHECK (s_result (server, "ok") == 5);
    CHECK (s_result (server, "tool_error") == 2);
    CHECK (s_result (server, "unknown_tool") == 1);
    CHECK (s_result (server, "timeout") == 1);
    CHECK (s_result (server, "server_error") == 1);
    CHECK (s_result (server, "protocol_error") == 1);
    CHECK (s_result (server, "bad_arguments") == 1);
    CHECK (s_result (server, "internal_error") == 0);
    CHECK (s_result (server, "cancelled") == 1);
    CHECK (s_result (server, "busy") == 1);
    CHECK (s_number (server, "refused") == 1);
    CHECK (s_number (server, "restarts") == 1);
    CHECK (s_number (server, "directCalls") == 0);
    //  Timed: the answers the server gave (ok, tool errors, its error)
    CHECK (s_latency (server, "answers") == 8);
    //  The two sleeps of 300 ms are among them
    CHECK (s_latency (server, "max") >= 300000);
    CHECK (s_latency (server, "p50") > 0);
    s_check_sums (server);
    json_decref (server);
    mcpact_caller_destroy (&caller);
    ru_teardown (&agent, &session, &runtime);
}

TEST (results_on_the_lane)
{
    //  Sequential calls from one thread go on the lane: its calls count
    //  the same as the actor's.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "lane", NULL);
    for (int i = 0; i < 100; i++)
        RU_CALL_IS (agent, "echo", "{\"message\":\"x\"}", "x");
    for (int i = 0; i < 3; i++) {
        mcpact_result_t *result = ru_call_fails (agent, "fail", "{}", 0, MCPACT_ERR_TOOL);
        mcpact_result_destroy (&result);
    }
    //  (No status request until here: it would take the lane back.)
    json_t *server = s_status (agent, "lane");
    CHECK_MSG (s_number (server, "directCalls") >= 50, "%s", json_dumps (server, JSON_COMPACT));
    CHECK (s_number (server, "calls") == 103);
    CHECK (s_result (server, "ok") == 100);
    CHECK (s_result (server, "tool_error") == 3);
    CHECK (s_latency (server, "answers") == 103);
    CHECK (s_latency (server, "p50") > 0);
    s_check_sums (server);
    json_decref (server);
    //  A call that times out on the lane is handed back and timed out by
    //  the actor; one that kills the server, likewise ended there
    RU_CALL_IS (agent, "echo", "{\"message\":\"y\"}", "y");
    RU_CALL_IS (agent, "echo", "{\"message\":\"y\"}", "y");
    mcpact_result_t *result =
        ru_call_fails (agent, "sleep", "{\"ms\":10000}", 300, MCPACT_ERR_TIMEOUT);
    mcpact_result_destroy (&result);
    RU_CALL_IS (agent, "echo", "{\"message\":\"z\"}", "z");
    RU_CALL_IS (agent, "echo", "{\"message\":\"z\"}", "z");
    result = ru_call_fails (agent, "crash", "{}", 0, MCPACT_ERR_SERVER);
    mcpact_result_destroy (&result);
    s_wait_state (agent, "lane", "ready");
    server = s_status (agent, "lane");
    CHECK (s_number (server, "calls") == 109);
    CHECK (s_result (server, "ok") == 104);
    CHECK (s_result (server, "tool_error") == 3);
    CHECK (s_result (server, "timeout") == 1);
    CHECK (s_result (server, "server_error") == 1);
    CHECK (s_number (server, "errors") == 5);
    CHECK (s_number (server, "restarts") == 1);
    s_check_sums (server);
    json_decref (server);
    ru_teardown (&agent, &session, &runtime);
}

TEST (latency_of_a_slow_tool)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "slow", NULL);
    json_t *server = s_status (agent, "slow");
    CHECK (s_latency (server, "answers") == 0);
    CHECK (s_latency (server, "p50") == 0 && s_latency (server, "max") == 0);
    json_decref (server);
    //  One call of 200 ms: every figure is its own
    char *text = ru_call_text (agent, "sleep", "{\"ms\":200}");
    free (text);
    server = s_status (agent, "slow");
    CHECK (s_latency (server, "answers") == 1);
    json_int_t max = s_latency (server, "max");
    CHECK_MSG (max >= 200000 && max < 60000000, "max %lld µs", (long long) max);
    CHECK (s_latency (server, "p50") == max && s_latency (server, "p99") == max);
    json_decref (server);
    //  With twenty more, the 99th percentile of 21 answers is the slowest
    for (int i = 0; i < 20; i++)
        RU_CALL_IS (agent, "echo", "{\"message\":\"q\"}", "q");
    server = s_status (agent, "slow");
    CHECK (s_latency (server, "answers") == 21);
    CHECK (s_latency (server, "max") >= max);
    CHECK (s_latency (server, "p99") == s_latency (server, "max"));
    s_check_sums (server);
    json_decref (server);
    ru_teardown (&agent, &session, &runtime);
}

TEST (histogram_buckets)
{
    //  Exact below 8 µs; then each bucket at most 1/8 wider than its low
    //  end; in order; the top one holds 10 minutes and more.
    for (int64_t us = 0; us < 8; us++)
        CHECK (latency_bucket (us) == us && latency_bucket_top ((int) us) == us);
    int last = 0;
    for (int64_t us = 1; us <= LATENCY_TOP_US; us += us / 7 + 1) {
        int bucket = latency_bucket (us);
        CHECK (bucket >= last && bucket < LATENCY_BUCKETS);
        CHECK_MSG (latency_bucket_top (bucket) >= us && latency_bucket_top (bucket) <= us + us / 8,
                   "%lld µs in bucket %d, up to %lld", (long long) us, bucket,
                   (long long) latency_bucket_top (bucket));
        CHECK (bucket == 0 || latency_bucket_top (bucket - 1) < us);
        last = bucket;
    }
    CHECK (latency_bucket (LATENCY_TOP_US) == LATENCY_BUCKETS - 1);
    CHECK (latency_bucket (LATENCY_TOP_US * 100) == LATENCY_BUCKETS - 1);
    CHECK (latency_bucket (-5) == 0);
    //  Percentiles by nearest rank, capped by the maximum
    call_stats_t stats;
    memset (&stats, 0, sizeof stats);
    for (int i = 0; i < 98; i++)
        call_stats_latency (&stats, 100);
    call_stats_latency (&stats, 5000);
    call_stats_latency (&stats, 200000);
    call_sum_t sum = { 0 };
    call_sum_add (&sum, &stats);
    CHECK (sum.answers == 100);
    CHECK (call_sum_percentile (&sum, 0.50) == latency_bucket_top (latency_bucket (100)));
    CHECK (call_sum_percentile (&sum, 0.99) == latency_bucket_top (latency_bucket (5000)));
    CHECK (call_sum_percentile (&sum, 1.0) == 200000);
}

//  --------------------------------------------------------------------------
//  State events

//  What a state callback was told, in order.
typedef struct {
    pthread_mutex_t lock;
    json_t *events; //  the JSON of each call
} s_seen_t;

static void
s_seen_init (s_seen_t *self)
{
    pthread_mutex_init (&self->lock, NULL);
    self->events = json_array ();
}

static void
s_seen_fini (s_seen_t *self)
{
    json_decref (self->events);
    pthread_mutex_destroy (&self->lock);
}

static void
s_on_state (const char *state_json, void *arg)
{
    s_seen_t *self = (s_seen_t *) arg;
    json_t *event = json_loads (state_json, 0, NULL);
    pthread_mutex_lock (&self->lock);
    json_array_append_new (self->events, event ? event : json_string (state_json));
    pthread_mutex_unlock (&self->lock);
}

//  The states told of `server`, comma-joined ("starting,ready").
static char *
s_states (json_t *events, const char *server)
{
    char states[1024] = "";
    size_t index;
    json_t *event;
    json_array_foreach (events, index, event) {
        const char *name = ru_str (event, "server");
        if (name && strcmp (name, server) == 0) {
            if (*states)
                strcat (states, ",");
            strncat (states, ru_str (event, "state") ? ru_str (event, "state") : "?",
                     sizeof states - strlen (states) - 16);
        }
    }
    return strdup (states);
}

static char *
s_seen_states (s_seen_t *self, const char *server)
{
    pthread_mutex_lock (&self->lock);
    char *states = s_states (self->events, server);
    pthread_mutex_unlock (&self->lock);
    return states;
}

//  Waits until the callback has been told `expected` of `server`.
static void
s_wait_seen (s_seen_t *self, const char *server, const char *expected)
{
    ru_watchdog_arm (30, "state events");
    char *states = NULL;
    while (true) {
        free (states);
        states = s_seen_states (self, server);
        if (strcmp (states, expected) == 0)
            break;
        CHECK_MSG (strncmp (states, expected, strlen (states)) == 0, "%s: %s, expected %s", server,
                   states, expected);
        ru_sleep_ms (10);
    }
    free (states);
    ru_watchdog_disarm ();
}

//  The event of `server` told with `state`, the `nth` such (from 0).
static json_t *
s_event (s_seen_t *self, const char *server, const char *state, int nth)
{
    json_t *found = NULL;
    pthread_mutex_lock (&self->lock);
    size_t index;
    json_t *event;
    json_array_foreach (self->events, index, event)
        if (strcmp (ru_str (event, "server"), server) == 0 &&
            strcmp (ru_str (event, "state"), state) == 0 && nth-- == 0) {
            found = json_incref (event);
            break;
        }
    pthread_mutex_unlock (&self->lock);
    CHECK_MSG (found, "no %s event of %s", state, server);
    return found;
}

TEST (state_callback_start_restart_and_stop)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_seen_t seen;
    s_seen_init (&seen);
    CHECK (mcpact_session_set_server_state (session, s_on_state, &seen) == 0);
    mcpact_server_config_t *config = ru_fixture ("up", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));
    s_wait_seen (&seen, "up", "starting,ready");
    json_t *event = s_event (&seen, "up", "ready", 0);
    CHECK (json_integer_value (json_object_get (event, "time")) > 1600000000000LL);
    CHECK (json_object_get (event, "reason") == NULL);
    json_decref (event);
    //  It dies: restarting, with why, then up again
    mcpact_result_t *result = ru_call_fails (agent, "crash", "{}", 0, MCPACT_ERR_SERVER);
    mcpact_result_destroy (&result);
    s_wait_seen (&seen, "up", "starting,ready,restarting,starting,ready");
    event = s_event (&seen, "up", "restarting", 0);
    CHECK_CONTAINS (ru_str (event, "reason"), "status 3");
    json_decref (event);
    //  Its stop is told before the session is gone, and nothing after
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    char *states = s_seen_states (&seen, "up");
    CHECK_STR (states, "starting,ready,restarting,starting,ready,stopped");
    free (states);
    mcpact_runtime_destroy (&runtime);
    s_seen_fini (&seen);
}

TEST (state_callback_failure_with_its_reason)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_seen_t seen;
    s_seen_init (&seen);
    CHECK (mcpact_session_set_server_state (session, s_on_state, &seen) == 0);
    mcpact_server_config_t *config =
        mcpact_server_stdio_new ("ghost", "/nonexistent/mcpact-no-such-server");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    //  One that cannot initialize: its reason is the fixture's exit
    config = ru_fixture ("quits", "--exit-at-once", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    json_t *report = ru_json_take (mcpact_session_start (session));
    CHECK_STR (ru_state (report, "ghost"), "failed");
    json_decref (report);
    s_wait_seen (&seen, "ghost", "starting,failed");
    s_wait_seen (&seen, "quits", "starting,failed");
    json_t *event = s_event (&seen, "ghost", "failed", 0);
    CHECK_CONTAINS (ru_str (event, "reason"), "/nonexistent/mcpact-no-such-server");
    json_decref (event);
    event = s_event (&seen, "quits", "failed", 0);
    CHECK_CONTAINS (ru_str (event, "reason"), "status 1");
    json_decref (event);
    mcpact_session_destroy (&session);
    char *states = s_seen_states (&seen, "ghost");
    CHECK_STR (states, "starting,failed,stopped");
    free (states);
    mcpact_runtime_destroy (&runtime);
    s_seen_fini (&seen);
}

TEST (state_callback_of_an_agents_own_servers)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_agent_t *agent = mcpact_agent_new (session, "own");
    s_seen_t seen;
    s_seen_init (&seen);
    //  Set before the agent has a server (and so its thread)
    CHECK (mcpact_agent_set_server_state (agent, s_on_state, &seen) == 0);
    mcpact_server_config_t *config = ru_fixture ("mine", NULL);
    CHECK (mcpact_agent_add_server (agent, &config) == 0);
    free (mcpact_agent_start (agent));
    s_wait_seen (&seen, "mine", "starting,ready");
    mcpact_agent_destroy (&agent);
    char *states = s_seen_states (&seen, "mine");
    CHECK_STR (states, "starting,ready,stopped");
    free (states);
    ru_teardown (NULL, &session, &runtime);
    s_seen_fini (&seen);
}

TEST (state_events_on_the_events_socket)
{
    //  Subscribers get what the callback gets, for every server
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    zsock_t *sub = zsock_new_sub (mcpact_runtime_events_endpoint (runtime), "SERVER_STATE");
    CHECK (sub != NULL);
    zsock_set_rcvtimeo (sub, 20000);
    s_seen_t seen;
    s_seen_init (&seen);
    CHECK (mcpact_session_set_server_state (session, s_on_state, &seen) == 0);
    mcpact_server_config_t *config = ru_fixture ("up", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = mcpact_server_stdio_new ("ghost", "/nonexistent/mcpact-no-such-server");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));
    mcpact_result_t *result = ru_call_fails (agent, "crash", "{}", 0, MCPACT_ERR_SERVER);
    mcpact_result_destroy (&result);
    s_wait_seen (&seen, "up", "starting,ready,restarting,starting,ready");
    s_wait_seen (&seen, "ghost", "starting,failed");
    //  The same events, in the same order, as the same JSON
    json_t *published = json_array ();
    ru_watchdog_arm (30, "state events on the events socket");
    while (json_array_size (published) < 7) {
        zmsg_t *msg = zmsg_recv (sub);
        CHECK_MSG (msg, "only %zu events published", json_array_size (published));
        char *verb = zmsg_popstr (msg);
        char *id = zmsg_popstr (msg);
        char *text = zmsg_popstr (msg);
        CHECK_STR (verb, "SERVER_STATE");
        CHECK (id && atoi (id) > 0);
        json_array_append_new (published, ru_json (text));
        free (verb);
        free (id);
        free (text);
        zmsg_destroy (&msg);
    }
    ru_watchdog_disarm ();
    char *states = s_states (published, "up");
    CHECK_STR (states, "starting,ready,restarting,starting,ready");
    free (states);
    states = s_states (published, "ghost");
    CHECK_STR (states, "starting,failed");
    free (states);
    pthread_mutex_lock (&seen.lock);
    CHECK (json_equal (published, seen.events));
    pthread_mutex_unlock (&seen.lock);
    json_t *failed = s_event (&seen, "ghost", "failed", 0);
    CHECK_CONTAINS (ru_str (failed, "reason"), "/nonexistent/mcpact-no-such-server");
    json_decref (failed);
    json_decref (published);
    zsock_destroy (&sub);
    ru_teardown (&agent, &session, &runtime);
    s_seen_fini (&seen);
}
