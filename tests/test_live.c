/*  =========================================================================
    test_live - a running agent: tool-list changes, reload, filter, progress,
    cancel and the separate timeouts, through the public API only

    Each case makes its own runtime, session and agents and runs real
    servers: the fixture (build/mcpact-fixture) for staged changes and
    faults, and the official server-everything (under tests/peers, run by
    node) where a real peer shows the behaviour. Without node or the peer
    package those cases skip, or fail when MCPACT_REQUIRE_PEERS=1. Host
    callbacks (tools changed, filter) run on runtime threads and record into
    an events_t under its mutex; the test waits on its condition variable
    with a bound. Waits for something that must not happen are coarse (a
    second or more past when it would), every case has a watchdog, and each
    destroys its runtime, which waits for every callback, before its
    recorders go.
    =========================================================================
*/

#include "runtime_util.h"

#include <czmq.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#define EVERYTHING_JS                                                                              \
    MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/"    \
                      "index.js"
#define LONG_RUNNING "trigger-long-running-operation"

//  Every fixture offers this many tools; late_tool comes on top with a
//  list change.
#define FIXTURE_TOOL_COUNT 12

//  When the fixtures add late_tool, after initialization: long enough for
//  the agent to have started by then even under a sanitizer on a loaded
//  machine, since a change before that is just part of its first set.
#define LATE_MS "1500"

//  Node takes a while to start, more so under a sanitizer on a loaded
//  machine; the defaults are for production.
#define PEER_CONNECT_MS 30000
#define PEER_LIST_MS 30000

//  --------------------------------------------------------------------------
//  Recording host callbacks

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed; //  signalled on every record
    pthread_t main_thread;  //  the test's thread
    json_t *changes;        //  tools-changed payloads, parsed, in order
    int on_main_thread;     //  callbacks that ran on the test's thread
    json_t *filter_seen;    //  "agent|server" pairs the filter was called with
} events_t;

static void
s_events_init (events_t *self)
{
    memset (self, 0, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->changed, NULL);
    self->main_thread = pthread_self ();
    self->changes = json_array ();
    self->filter_seen = json_object ();
}

//  Only once the runtime that calls into it is destroyed.
static void
s_events_fini (events_t *self)
{
    json_decref (self->changes);
    json_decref (self->filter_seen);
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->lock);
}

static void
s_on_tools_changed (const char *change_json, void *arg)
{
    events_t *self = (events_t *) arg;
    json_error_t error;
    json_t *change = json_loads (change_json, 0, &error);
    pthread_mutex_lock (&self->lock);
    json_array_append_new (self->changes, change ? change : json_string (change_json));
    if (pthread_equal (pthread_self (), self->main_thread))
        self->on_main_thread++;
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
}

//  Waits at most timeout_ms for `count` tools-changed events; returns how
//  many there are then.
static size_t
s_events_wait (events_t *self, size_t count, int timeout_ms)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->lock);
    while (json_array_size (self->changes) < count)
        if (pthread_cond_timedwait (&self->changed, &self->lock, &until) != 0)
            break;
    size_t seen = json_array_size (self->changes);
    pthread_mutex_unlock (&self->lock);
    return seen;
}

//  A copy of tools-changed event `index`, as compact JSON text (the
//  caller's), for messages and comparisons.
static char *
s_event_text (events_t *self, size_t index)
{
    pthread_mutex_lock (&self->lock);
    char *text = json_dumps (json_array_get (self->changes, index), JSON_COMPACT | JSON_SORT_KEYS);
    pthread_mutex_unlock (&self->lock);
    return text;
}

//  All events so far, as JSON text (the caller's), for failure messages.
static char *
s_events_text (events_t *self)
{
    pthread_mutex_lock (&self->lock);
    char *text = json_dumps (self->changes, JSON_COMPACT);
    pthread_mutex_unlock (&self->lock);
    return text;
}

//  Hides every tool whose name starts with "s", and notes who asked.
static bool
s_filter_no_s (const char *agent, const char *server, const char *tool_json, void *arg)
{
    events_t *self = (events_t *) arg;
    json_error_t error;
    json_t *tool = json_loads (tool_json, 0, &error);
    const char *name = json_string_value (json_object_get (tool, "name"));
    bool keep = name && name[0] != 's';
    json_decref (tool);
    char pair[256];
    snprintf (pair, sizeof pair, "%s|%s", agent ? agent : "(null)", server ? server : "(null)");
    pthread_mutex_lock (&self->lock);
    json_object_set_new (self->filter_seen, pair, json_true ());
    pthread_mutex_unlock (&self->lock);
    return keep;
}

//  --------------------------------------------------------------------------
//  server-everything

//  Where node is, found on PATH like the runtime will find it.
static char s_node[PATH_MAX];

//  Skips the test, or fails it under MCPACT_REQUIRE_PEERS=1, if node or
//  server-everything is missing.
static void
s_require_everything (void)
{
    snprintf (s_node, sizeof s_node, "%s", ru_require_peers (EVERYTHING_JS, NULL));
}

static mcpact_server_config_t *
s_everything (const char *name)
{
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, s_node);
    CHECK (config);
    CHECK (mcpact_server_config_add_arg (config, EVERYTHING_JS) == 0);
    CHECK (mcpact_server_config_add_arg (config, "stdio") == 0);
    CHECK (mcpact_server_config_set_timeouts (config, PEER_CONNECT_MS, PEER_LIST_MS, 0) == 0);
    return config;
}

//  Starts an agent and checks that every server in its report is ready.
static void
s_start_ready (mcpact_agent_t *agent)
{
    char *text = mcpact_agent_start (agent);
    json_t *report = ru_json (text);
    size_t index;
    json_t *server;
    json_array_foreach (json_object_get (report, "servers"), index, server)
        CHECK_MSG (strcmp (ru_str (server, "state"), "ready") == 0, "not ready: %s", text);
    json_decref (report);
    free (text);
}

//  Checks that no late_tool is there yet: the change must come after the
//  agent started for a test to see it as one.
static void
s_check_not_late_yet (mcpact_agent_t *agent)
{
    char *names = ru_tool_names (agent);
    CHECK_MSG (!strstr (names, "late_tool"),
               "late_tool came before the agent had started (slow machine?): %s", names);
    free (names);
}

//  --------------------------------------------------------------------------
//  notifications/tools/list_changed

TEST (list_changed)
{
    ru_watchdog_arm (60, "list_changed");
    events_t events;
    s_events_init (&events);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", "--list-changed-after-ms", LATE_MS, NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "planner");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_tools_changed, &events) == 0);
    //  The same event as a message, for peers that speak the protocol
    //  (subscribed by its name: servers' state changes come there too)
    zsock_t *subscriber = zsock_new_sub (mcpact_runtime_events_endpoint (runtime), "TOOLS_CHANGED");
    CHECK (subscriber);
    s_start_ready (agent);
    s_check_not_late_yet (agent);

    CHECK_MSG (s_events_wait (&events, 1, 20000) >= 1, "no tools-changed event came");
    zsock_set_rcvtimeo (subscriber, 5000);
    char *verb = NULL, *view = NULL, *change = NULL;
    CHECK (zsock_recv (subscriber, "sss", &verb, &view, &change) == 0);
    CHECK_STR (verb, "TOOLS_CHANGED");
    CHECK_CONTAINS (change, "\"added\":[\"late_tool\"]");
    free (verb);
    free (view);
    free (change);
    zsock_destroy (&subscriber);
    //  One change, one event: nothing more follows it
    ru_sleep_ms (1000);
    char *all = s_events_text (&events);
    CHECK_MSG (s_events_wait (&events, 1, 0) == 1, "more than one event: %s", all);
    free (all);
    char *event = s_event_text (&events, 0);
    CHECK_STR (event, "{\"added\":[\"late_tool\"],\"agent\":\"planner\",\"changed\":[],\"removed\":"
                      "[],\"tools\":13}");
    free (event);
    pthread_mutex_lock (&events.lock);
    int on_main_thread = events.on_main_thread;
    pthread_mutex_unlock (&events.lock);
    CHECK_MSG (on_main_thread == 0, "the callback ran on the host's own thread");

    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK (json_array_size (tools) == FIXTURE_TOOL_COUNT + 1);
    json_t *origin = json_object_get (ru_named (tools, "late_tool"), "_mcpact");
    CHECK_STR (ru_str (origin, "server"), "fx");
    CHECK_STR (ru_str (origin, "tool"), "late_tool");
    json_decref (tools);
    RU_CALL_IS (agent, "late_tool", "{\"message\":\"came late\"}", "came late");

    ru_teardown (&agent, &session, &runtime);
    s_events_fini (&events);
    ru_watchdog_disarm ();
}

//  server-everything sends list_changed right after initialization, though
//  its list stays the same: the host must not hear of a change.
TEST (list_changed_unchanged_everything)
{
    s_require_everything ();
    ru_watchdog_arm (90, "list_changed_unchanged_everything");
    events_t events;
    s_events_init (&events);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_everything ("everything");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "quiet");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_tools_changed, &events) == 0);
    s_start_ready (agent);
    char *before = ru_tool_names (agent);
    CHECK_CONTAINS (before, "echo");

    //  Time for the notification, the debounced re-list and its answer
    size_t seen = s_events_wait (&events, 1, 1500);
    char *all = s_events_text (&events);
    CHECK_MSG (seen == 0, "a tools-changed event for an unchanged list: %s", all);
    free (all);
    char *after = ru_tool_names (agent);
    CHECK_STR (after, before);
    free (before);
    free (after);

    ru_teardown (&agent, &session, &runtime);
    s_events_fini (&events);
    ru_watchdog_disarm ();
}

//  --------------------------------------------------------------------------
//  The catalogue swap under load

typedef struct {
    mcpact_agent_t *agent;
    int thread;
    atomic_bool *stop;
    int calls;         //  calls made
    int failed;        //  calls that did not come back right
    char failure[256]; //  the first of them
} echo_thread_t;

static void *
s_echo_thread (void *arg)
{
    echo_thread_t *self = (echo_thread_t *) arg;
    while (!atomic_load (self->stop)) {
        char expected[64], args[128];
        snprintf (expected, sizeof expected, "thread %d call %d", self->thread, self->calls);
        snprintf (args, sizeof args, "{\"message\":\"%s\"}", expected);
        mcpact_result_t *result = mcpact_agent_call (self->agent, "echo", args, 5000);
        json_error_t error;
        json_t *item = mcpact_result_status (result) == MCPACT_OK
                           ? json_loads (mcpact_result_text (result), 0, &error)
                           : NULL;
        const char *text = ru_str (item, "text");
        if (!text || strcmp (text, expected) != 0) {
            if (!self->failed)
                snprintf (self->failure, sizeof self->failure, "%s: %s: %s", expected,
                          mcpact_status_name (mcpact_result_status (result)),
                          mcpact_result_json (result));
            self->failed++;
        }
        self->calls++;
        json_decref (item);
        mcpact_result_destroy (&result);
    }
    return NULL;
}

TEST (swap_under_calls)
{
    enum { THREADS = 4 };
    ru_watchdog_arm (60, "swap_under_calls");
    events_t events;
    s_events_init (&events);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", "--list-changed-after-ms", LATE_MS, NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "busy");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_tools_changed, &events) == 0);
    s_start_ready (agent);
    s_check_not_late_yet (agent);

    atomic_bool stop = false;
    pthread_t threads[THREADS];
    echo_thread_t states[THREADS];
    for (int index = 0; index < THREADS; index++) {
        states[index] = (echo_thread_t){ .agent = agent, .thread = index, .stop = &stop };
        CHECK (pthread_create (&threads[index], NULL, s_echo_thread, &states[index]) == 0);
    }
    //  The calls go on across the change and for a while after it
    int64_t start = ru_now_ms ();
    size_t seen = s_events_wait (&events, 1, 20000);
    int64_t ran = ru_now_ms () - start;
    ru_sleep_ms (ran < 1000 ? 1000 - (int) ran + 200 : 200);
    atomic_store (&stop, true);
    for (int index = 0; index < THREADS; index++)
        pthread_join (threads[index], NULL);
    CHECK_MSG (seen >= 1, "the list change never reached the agent");
    for (int index = 0; index < THREADS; index++) {
        CHECK_MSG (states[index].calls > 0, "thread %d made no call", index);
        CHECK_MSG (states[index].failed == 0, "thread %d: %d of %d calls failed; first: %s", index,
                   states[index].failed, states[index].calls, states[index].failure);
    }
    RU_CALL_IS (agent, "late_tool", "{\"message\":\"after the swap\"}", "after the swap");

    ru_teardown (&agent, &session, &runtime);
    s_events_fini (&events);
    ru_watchdog_disarm ();
}

//  --------------------------------------------------------------------------
//  Policies re-applied to a changed list

TEST (allow_list_after_change)
{
    ru_watchdog_arm (60, "allow_list_after_change");
    events_t events;
    s_events_init (&events);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config =
        ru_fixture ("allowed", "--list-changed-after-ms", LATE_MS, NULL);
    CHECK (mcpact_server_config_allow_tool (config, "echo") == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    //  Changes at the same time, and its late_tool is allowed: its event
    //  says the re-lists have happened
    config = ru_fixture ("witness", "--prefix", "w_", "--list-changed-after-ms", LATE_MS, NULL);
    CHECK (mcpact_server_config_allow_tool (config, "w_late_tool") == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "strict");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_tools_changed, &events) == 0);
    s_start_ready (agent);
    s_check_not_late_yet (agent);

    CHECK_MSG (s_events_wait (&events, 1, 20000) >= 1, "the witness's change never came");
    ru_sleep_ms (1000);
    char *all = s_events_text (&events);
    CHECK_MSG (s_events_wait (&events, 1, 0) == 1, "events: %s", all);
    free (all);
    char *event = s_event_text (&events, 0);
    CHECK_STR (event, "{\"added\":[\"w_late_tool\"],\"agent\":\"strict\",\"changed\":[],"
                      "\"removed\":[],\"tools\":2}");
    free (event);
    char *names = ru_tool_names (agent);
    CHECK_STR (names, "echo,w_late_tool");
    free (names);
    mcpact_result_t *result =
        ru_call_fails (agent, "late_tool", "{\"message\":\"x\"}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);

    ru_teardown (&agent, &session, &runtime);
    s_events_fini (&events);
    ru_watchdog_disarm ();
}

TEST (prefix_on_conflict_after_change)
{
    ru_watchdog_arm (60, "prefix_on_conflict_after_change");
    events_t events;
    s_events_init (&events);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_name_policy (session, MCPACT_NAMES_PREFIX_ON_CONFLICT) == 0);
    mcpact_server_config_t *config = ru_fixture ("first", "--list-changed-after-ms", LATE_MS, NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = ru_fixture ("second", "--list-changed-after-ms", LATE_MS, NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "twins");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_tools_changed, &events) == 0);
    s_start_ready (agent);
    s_check_not_late_yet (agent);

    //  Both changes, in one event or two
    json_t *tools = NULL;
    int64_t until = ru_now_ms () + 20000;
    while (true) {
        tools = ru_json_take (mcpact_agent_tools (agent));
        if (json_array_size (tools) == 2 * FIXTURE_TOOL_COUNT + 2 || ru_now_ms () > until)
            break;
        json_decref (tools);
        size_t seen = s_events_wait (&events, 0, 0);
        s_events_wait (&events, seen + 1, 500); //  the next one, if it comes
    }
    char *all = s_events_text (&events);
    CHECK_MSG (json_array_size (tools) == 2 * FIXTURE_TOOL_COUNT + 2, "events: %s", all);
    free (all);
    json_t *origin = json_object_get (ru_named (tools, "late_tool"), "_mcpact");
    CHECK_STR (ru_str (origin, "server"), "first");
    CHECK_STR (ru_str (origin, "tool"), "late_tool");
    origin = json_object_get (ru_named (tools, "second_late_tool"), "_mcpact");
    CHECK_STR (ru_str (origin, "server"), "second");
    CHECK_STR (ru_str (origin, "tool"), "late_tool");
    CHECK (!ru_named (tools, "first_late_tool"));
    json_decref (tools);
    RU_CALL_IS (agent, "late_tool", "{\"message\":\"one\"}", "one");
    RU_CALL_IS (agent, "second_late_tool", "{\"message\":\"two\"}", "two");
    CHECK (ru_pid (agent, "pid") != ru_pid (agent, "second_pid"));

    ru_teardown (&agent, &session, &runtime);
    s_events_fini (&events);
    ru_watchdog_disarm ();
}

//  --------------------------------------------------------------------------
//  Reload

TEST (reload_unchanged)
{
    ru_watchdog_arm (60, "reload_unchanged");
    events_t events;
    s_events_init (&events);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", "--list-changed-after-ms", "100000", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "reloader");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_tools_changed, &events) == 0);
    s_start_ready (agent);

    json_t *change = ru_json_take (mcpact_agent_reload (agent));
    char *text = json_dumps (change, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR (text, "{\"added\":[],\"changed\":[],\"errors\":[],\"removed\":[],\"tools\":12}");
    free (text);
    json_decref (change);
    RU_CALL_IS (agent, "echo", "{\"message\":\"after the reload\"}", "after the reload");
    char *all = s_events_text (&events);
    CHECK_MSG (s_events_wait (&events, 1, 500) == 0, "events: %s", all);
    free (all);

    ru_teardown (&agent, &session, &runtime);
    s_events_fini (&events);
    ru_watchdog_disarm ();
}

TEST (reload_failed_server)
{
    ru_watchdog_arm (60, "reload_failed_server");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("good", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = ru_fixture ("broken", "--exit-at-once", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "half");
    CHECK (agent);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "good"), "ready");
    CHECK_STR (ru_state (report, "broken"), "failed");
    json_decref (report);

    json_t *change = ru_json_take (mcpact_agent_reload (agent));
    char *text = json_dumps (change, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_MSG (json_array_size (json_object_get (change, "added")) == 0, "%s", text);
    CHECK_MSG (json_array_size (json_object_get (change, "removed")) == 0, "%s", text);
    CHECK_MSG (json_integer_value (json_object_get (change, "tools")) == FIXTURE_TOOL_COUNT, "%s",
               text);
    json_t *errors = json_object_get (change, "errors");
    CHECK_MSG (json_array_size (errors) == 1, "%s", text);
    json_t *error = json_array_get (errors, 0);
    CHECK_STR (ru_str (error, "server"), "broken");
    CHECK_MSG (ru_str (error, "error") && *ru_str (error, "error"), "%s", text);
    free (text);
    json_decref (change);
    RU_CALL_IS (agent, "echo", "{\"message\":\"still here\"}", "still here");

    ru_teardown (&agent, &session, &runtime);
    ru_watchdog_disarm ();
}

//  --------------------------------------------------------------------------
//  Tool filter

TEST (tool_filter)
{
    ru_watchdog_arm (60, "tool_filter");
    events_t events;
    s_events_init (&events);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "picky");
    CHECK (agent);
    CHECK (mcpact_agent_set_tool_filter (agent, s_filter_no_s, &events) == 0);
    s_start_ready (agent);

    char *names = ru_tool_names (agent);
    CHECK_STR (names, "echo,add,crash,fail,multi,empty,pid,env,cwd,client_answers");
    free (names);
    mcpact_result_t *result =
        ru_call_fails (agent, "sleep", "{\"ms\":1}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    result = ru_call_fails (agent, "structured", NULL, 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    RU_CALL_IS (agent, "echo", "{\"message\":\"kept\"}", "kept");

    pthread_mutex_lock (&events.lock);
    char *seen = json_dumps (events.filter_seen, JSON_COMPACT | JSON_SORT_KEYS);
    pthread_mutex_unlock (&events.lock);
    CHECK_STR (seen, "{\"picky|fx\":true}");
    free (seen);

    ru_teardown (&agent, &session, &runtime);
    s_events_fini (&events);
    ru_watchdog_disarm ();
}

//  --------------------------------------------------------------------------
//  Progress

typedef struct {
    int64_t id;       //  the call the updates are for
    int count;        //  updates
    int wrong_id;     //  updates for another call
    double last;      //  the last progress value
    bool increasing;  //  each value above the one before
    bool total_steps; //  each total as asked
    double steps;     //  the total asked for
} progress_t;

static void
s_on_progress (int64_t id, double progress, double total, const char *message, void *arg)
{
    progress_t *self = (progress_t *) arg;
    if (id != self->id)
        self->wrong_id++;
    if (self->count > 0 && progress <= self->last)
        self->increasing = false;
    if (total != self->steps)
        self->total_steps = false;
    self->last = progress;
    self->count++;
}

//  Runs the long operation through a caller and returns its result. With
//  `progress`, the caller asks for progress and records it there.
static mcpact_result_t *
s_long_run (mcpact_agent_t *agent, progress_t *progress, const char *args, int timeout_ms)
{
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller);
    if (progress)
        mcpact_caller_set_progress (caller, s_on_progress, progress);
    int64_t id = mcpact_caller_send (caller, LONG_RUNNING, args, timeout_ms);
    CHECK (id > 0);
    if (progress)
        progress->id = id;
    mcpact_result_t *result = mcpact_caller_next (caller, -1);
    CHECK (result);
    CHECK (mcpact_result_id (result) == id);
    mcpact_caller_destroy (&caller);
    return result;
}

TEST (progress_extends_call)
{
    //  Six steps of half a second each, against a call timeout of 1.2 s:
    //  only progress can carry the call through its 3 s, and a 2 s hard
    //  maximum must end it.
    const char *args = "{\"duration\":3,\"steps\":6}";
    s_require_everything ();
    ru_watchdog_arm (120, "progress_extends_call");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_agent_t *agent = mcpact_agent_new (session, "patient");
    CHECK (agent);
    mcpact_server_config_t *config = s_everything ("everything");
    CHECK (mcpact_agent_add_server (agent, &config) == 0);
    mcpact_agent_t *capped = mcpact_agent_new (session, "capped");
    CHECK (capped);
    config = s_everything ("capped");
    CHECK (mcpact_server_config_set_max_call (config, 2000) == 0);
    CHECK (mcpact_agent_add_server (capped, &config) == 0);
    s_start_ready (agent);
    s_start_ready (capped);

    progress_t progress = { .increasing = true, .total_steps = true, .steps = 6 };
    mcpact_result_t *result = s_long_run (agent, &progress, args, 1200);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "with progress: %s: %s",
               mcpact_status_name (mcpact_result_status (result)), mcpact_result_json (result));
    CHECK_CONTAINS (mcpact_result_text (result), "Long running operation completed");
    mcpact_result_destroy (&result);
    CHECK_MSG (progress.count == 6, "%d progress updates", progress.count);
    CHECK (progress.wrong_id == 0);
    CHECK (progress.increasing);
    CHECK (progress.total_steps);
    CHECK (progress.last == 6);

    //  The same call without asking for progress runs out of time
    result = s_long_run (agent, NULL, args, 1200);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_TIMEOUT, "without progress: %s: %s",
               mcpact_status_name (mcpact_result_status (result)), mcpact_result_json (result));
    mcpact_result_destroy (&result);

    //  Progress goes on, but the hard maximum ends the call
    progress = (progress_t){ .increasing = true, .total_steps = true, .steps = 6 };
    result = s_long_run (capped, &progress, args, 1200);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_TIMEOUT, "past the maximum: %s: %s",
               mcpact_status_name (mcpact_result_status (result)), mcpact_result_json (result));
    mcpact_result_destroy (&result);
    CHECK_MSG (progress.count >= 1 && progress.count < 6, "%d progress updates", progress.count);
    CHECK (progress.wrong_id == 0);
    CHECK (progress.increasing);

    mcpact_agent_destroy (&capped);
    ru_teardown (&agent, &session, &runtime);
    ru_watchdog_disarm ();
}

//  --------------------------------------------------------------------------
//  Cancel

TEST (cancel_in_flight)
{
    ru_watchdog_arm (60, "cancel_in_flight");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "interrupted");
    CHECK (agent);
    s_start_ready (agent);
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller);

    //  The fixture ignores the cancel and answers anyway after 3 s
    int64_t start = ru_now_ms ();
    int64_t id = mcpact_caller_send (caller, "sleep", "{\"ms\":3000}", 0);
    CHECK (id > 0);
    ru_sleep_ms (100);
    CHECK (mcpact_caller_cancel (caller, id) == 0);
    mcpact_result_t *result = mcpact_caller_next (caller, 10000);
    CHECK_MSG (result, "the cancelled call never came back");
    int64_t elapsed = ru_now_ms () - start;
    CHECK (mcpact_result_id (result) == id);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_CANCELLED, "got %s: %s",
               mcpact_status_name (mcpact_result_status (result)), mcpact_result_json (result));
    CHECK_MSG (elapsed < 2000, "the cancel took %lld ms", (long long) elapsed);
    mcpact_result_destroy (&result);

    //  Still usable while the cancelled call's answer is on its way
    int64_t echo = mcpact_caller_send (caller, "echo", "{\"message\":\"meanwhile\"}", 0);
    CHECK (echo > 0 && echo != id);
    result = mcpact_caller_next (caller, 10000);
    CHECK_MSG (result, "the echo never came back");
    CHECK (mcpact_result_id (result) == echo);
    CHECK_CONTAINS (mcpact_result_text (result), "meanwhile");
    mcpact_result_destroy (&result);

    //  The late answer comes in the meantime and is dropped
    int64_t late = start + 3000 + 1000 - ru_now_ms ();
    result = mcpact_caller_next (caller, late > 0 ? (int) late : 0);
    CHECK_MSG (result == NULL, "after the cancel came: %s", mcpact_result_json (result));

    echo = mcpact_caller_send (caller, "echo", "{\"message\":\"after the late answer\"}", 0);
    CHECK (echo > 0);
    result = mcpact_caller_next (caller, 10000);
    CHECK_MSG (result, "the echo after the late answer never came back");
    CHECK (mcpact_result_id (result) == echo);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_json (result));
    CHECK_CONTAINS (mcpact_result_text (result), "after the late answer");
    mcpact_result_destroy (&result);
    CHECK (mcpact_caller_pending (caller) == 0);
    result = mcpact_caller_next (caller, 300);
    CHECK_MSG (result == NULL, "one result too many: %s", mcpact_result_json (result));
    mcpact_caller_destroy (&caller);

    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK_STR (ru_str (ru_named (status, "fx"), "state"), "ready");
    json_decref (status);

    ru_teardown (&agent, &session, &runtime);
    ru_watchdog_disarm ();
}

//  --------------------------------------------------------------------------
//  Connect, list and call timeouts, each on its own

TEST (separate_timeouts)
{
    ru_watchdog_arm (60, "separate_timeouts");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    //  Many pages, each well within the list timeout
    mcpact_server_config_t *config =
        ru_fixture ("paged", "--prefix", "p_", "--page-size", "1", "--tools", "3", NULL);
    CHECK (mcpact_server_config_set_timeouts (config, 0, 5000, 0) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    //  An initialize answer later than the connect timeout
    config = ru_fixture ("late", "--prefix", "l_", "--init-delay-ms", "1000", NULL);
    CHECK (mcpact_server_config_set_timeouts (config, 300, 0, 0) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    //  A short default for calls
    config = ru_fixture ("short", "--prefix", "s_", NULL);
    CHECK (mcpact_server_config_set_timeouts (config, 0, 0, 200) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "timed");
    CHECK (agent);

    char *text = mcpact_agent_start (agent);
    json_t *report = ru_json (text);
    CHECK_MSG (strcmp (ru_state (report, "paged"), "ready") == 0, "%s", text);
    CHECK (json_integer_value (json_object_get (ru_report_server (report, "paged"), "tools")) ==
           FIXTURE_TOOL_COUNT + 3);
    CHECK_MSG (strcmp (ru_state (report, "late"), "failed") == 0, "%s", text);
    CHECK_CONTAINS (ru_str (ru_report_server (report, "late"), "error"), "initialize");
    CHECK_MSG (strcmp (ru_state (report, "short"), "ready") == 0, "%s", text);
    json_decref (report);
    free (text);
    RU_CALL_IS (agent, "p_tool_0002", "{\"message\":\"last page\"}", "last page");

    //  A call without its own timeout takes the server's
    mcpact_result_t *result =
        ru_call_fails (agent, "s_sleep", "{\"ms\":1000}", 0, MCPACT_ERR_TIMEOUT);
    mcpact_result_destroy (&result);
    //  and one with its own timeout takes that
    result = mcpact_agent_call (agent, "s_sleep", "{\"ms\":400}", 5000);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_json (result));
    CHECK_CONTAINS (mcpact_result_text (result), "slept 400");
    mcpact_result_destroy (&result);

    ru_teardown (&agent, &session, &runtime);
    ru_watchdog_disarm ();
}

//  A burst of list_changed notifications is folded into one re-list (the
//  debounce), and the host hears of the change once.
TEST (list_changed_burst_debounced)
{
    ru_watchdog_arm (60, "list_changed_burst_debounced");
    events_t events;
    s_events_init (&events);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config =
        ru_fixture ("fx", "--list-changed-after-ms", LATE_MS, "--list-changed-burst", "10", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "burst");
    CHECK (agent);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_tools_changed, &events) == 0);
    s_start_ready (agent);
    CHECK_MSG (s_events_wait (&events, 1, 20000) >= 1, "no tools-changed event came");
    ru_sleep_ms (1000);
    CHECK_MSG (s_events_wait (&events, 1, 0) == 1, "a burst gave more than one event");
    //  The fixture logs every tools/list it serves: the first listing and
    //  one more for the whole burst of ten
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    const char *tail = ru_str (ru_named (status, "fx"), "stderr");
    CHECK_CONTAINS (tail, "tools/list #2");
    CHECK_MSG (!strstr (tail, "tools/list #3"), "the burst was not debounced: %s", tail);
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
    s_events_fini (&events);
    ru_watchdog_disarm ();
}
