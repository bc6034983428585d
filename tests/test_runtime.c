/*  =========================================================================
    test_runtime - the runtime end to end, through the public API only

    Each case makes its own runtime, session and agents, runs real fixture
    server processes (build/mcpact-fixture) and checks what a host would
    see: start reports, the merged tool list, call results and errors,
    status. Covers placement, allow-lists, function tools, parallel and
    fault-tolerant start, result conversion, and the faults the fixture
    can stage. The only timing bounds are the parallel-start
    bound and the timeout bound, both coarse; everything else is ordering
    or status. Some cases start host threads; all wait for them.
    =========================================================================
*/

#include "runtime_util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

//  Every fixture offers these, in this order.
#define FIXTURE_TOOLS "echo,add,sleep,crash,fail,multi,empty,structured,pid,env,cwd,client_answers"
#define FIXTURE_TOOL_COUNT 12

//  --------------------------------------------------------------------------
//  Servers start in parallel

TEST (parallel_start)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    for (int index = 0; index < 8; index++) {
        char name[16], prefix[16];
        snprintf (name, sizeof name, "slow%d", index);
        snprintf (prefix, sizeof prefix, "s%d_", index);
        mcpact_server_config_t *config =
            ru_fixture (name, "--init-delay-ms", "300", "--prefix", prefix, NULL);
        CHECK (mcpact_session_add_server (session, &config) == 0);
        CHECK (config == NULL);
    }
    int64_t start = ru_now_ms ();
    char *text = mcpact_session_start (session);
    int64_t elapsed = ru_now_ms () - start;
    json_t *report = ru_json_take (text);
    CHECK (json_array_size (json_object_get (report, "servers")) == 8);
    for (int index = 0; index < 8; index++) {
        char name[16];
        snprintf (name, sizeof name, "slow%d", index);
        json_t *server = ru_report_server (report, name);
        CHECK_STR (ru_str (server, "state"), "ready");
        CHECK (json_integer_value (json_object_get (server, "tools")) == FIXTURE_TOOL_COUNT);
        //  Each waited for its own delayed initialize answer
        json_int_t ms = json_integer_value (json_object_get (server, "ms"));
        CHECK_MSG (ms >= 300 && ms <= elapsed, "server %s: ms %lld (start took %lld)", name,
                   (long long) ms, (long long) elapsed);
    }
    CHECK (json_is_integer (json_object_get (report, "ms")));
    //  One after another would take 8 x 300 ms. Under a sanitizer (which
    //  slows every thread several times) the bound is looser, and still
    //  far below serial.
    int64_t bound = getenv ("MCPACT_TEST_SANITIZER") ? 1200 : 600;
    CHECK_MSG (elapsed < bound, "8 servers with a 300 ms handshake took %lld ms to start",
               (long long) elapsed);
    json_decref (report);

    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (mcpact_agent_tool_count (agent) == 8 * FIXTURE_TOOL_COUNT);
    RU_CALL_IS (agent, "s7_echo", "{\"message\":\"last\"}", "last");
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  A server that cannot start is reported and skipped

TEST (failed_servers_skipped)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *configs[5] = {
        ru_fixture ("good", NULL),
        mcpact_server_stdio_new ("missing", "/nonexistent/mcp-server"),
        ru_fixture ("quitter", "--exit-at-once", "--prefix", "q_", NULL),
        ru_fixture ("silent", "--no-answer", "--prefix", "s_", NULL),
        ru_fixture ("ancient", "--protocol-version", "1999-01-01", "--prefix", "a_", NULL),
    };
    CHECK (mcpact_server_config_set_timeouts (configs[3], 300, 0, 0) == 0);
    for (int index = 0; index < 5; index++)
        CHECK (mcpact_session_add_server (session, &configs[index]) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "good"), "ready");
    const char *failed[] = { "missing", "quitter", "silent", "ancient" };
    for (int index = 0; index < 4; index++)
        CHECK_STR (ru_state (report, failed[index]), "failed");
    CHECK_CONTAINS (ru_str (ru_report_server (report, "missing"), "error"), "No such file");
    // A server that exits before the initialize request is written is
    // reported with its exit status, not the broken pipe it leaves
    CHECK_CONTAINS (ru_str (ru_report_server (report, "quitter"), "error"), "exited with status 1");
    const char *silent = ru_str (ru_report_server (report, "silent"), "error");
    CHECK_CONTAINS (silent, "initialize");
    CHECK_CONTAINS (silent, "300 ms");
    CHECK_CONTAINS (ru_str (ru_report_server (report, "ancient"), "error"), "1999-01-01");
    json_decref (report);

    char *names = ru_tool_names (agent);
    CHECK_STR (names, FIXTURE_TOOLS);
    free (names);
    RU_CALL_IS (agent, "echo", "{\"message\":\"still here\"}", "still here");
    mcpact_result_t *result =
        ru_call_fails (agent, "q_echo", "{\"message\":\"x\"}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    //  The error names the servers that are not up, where the tool may be
    CHECK_CONTAINS (mcpact_result_error (result), "servers not up: ");
    for (size_t index = 0; index < sizeof failed / sizeof failed[0]; index++)
        CHECK_CONTAINS (mcpact_result_error (result), failed[index]);
    CHECK (!strstr (mcpact_result_error (result), "good"));
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  The allow-list hides and blocks every other tool

TEST (allow_list)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_server_config_allow_tool (config, "echo") == 0);
    CHECK (mcpact_server_config_allow_tool (config, "add") == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    char *names = ru_tool_names (agent);
    CHECK_STR (names, "echo,add");
    free (names);
    CHECK (mcpact_agent_tool_count (agent) == 2);
    RU_CALL_IS (agent, "add", "{\"a\":2,\"b\":3}", "5");
    RU_CALL_IS (agent, "echo", "{\"message\":\"ok\"}", "ok");
    mcpact_result_t *result = ru_call_fails (agent, "pid", NULL, 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Function tools beside server tools

typedef struct {
    pthread_mutex_t lock;
    char *last_args;      //  what the session function got last
    atomic_bool started;  //  the slow function is running
    atomic_bool finished; //  the slow function has returned
} functions_state_t;

static int
s_session_fn (const char *args_json, char **output, void *arg)
{
    functions_state_t *state = (functions_state_t *) arg;
    pthread_mutex_lock (&state->lock);
    free (state->last_args);
    state->last_args = strdup (args_json);
    pthread_mutex_unlock (&state->lock);
    *output = strdup ("from the session");
    return 0;
}

static int
s_agent_fn (const char *args_json, char **output, void *arg)
{
    json_t *args = ru_json (args_json);
    const char *who = ru_str (args, "who");
    if (asprintf (output, "hello %s", who ? who : "nobody") < 0)
        *output = NULL;
    json_decref (args);
    return 0;
}

static int
s_failing_fn (const char *args_json, char **output, void *arg)
{
    *output = strdup ("the disk is on fire");
    return -1;
}

static int
s_slow_fn (const char *args_json, char **output, void *arg)
{
    functions_state_t *state = (functions_state_t *) arg;
    atomic_store (&state->started, true);
    ru_sleep_ms (500);
    *output = strdup ("done slowly");
    atomic_store (&state->finished, true);
    return 0;
}

typedef struct {
    mcpact_agent_t *agent;
    char *text; //  the slow function's answer
} slow_call_t;

static void *
s_slow_call (void *arg)
{
    slow_call_t *call = (slow_call_t *) arg;
    call->text = ru_call_text (call->agent, "slow_fn", NULL);
    return NULL;
}

TEST (function_tools)
{
    functions_state_t state = { .lock = PTHREAD_MUTEX_INITIALIZER };
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    const char *schema = "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}";
    CHECK (mcpact_session_add_function (session, "session_fn", "Session function", schema,
                                        s_session_fn, &state) == 0);
    CHECK (mcpact_session_add_function (session, "failing_fn", "Always fails", NULL, s_failing_fn,
                                        &state) == 0);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "helper");
    CHECK (agent);
    CHECK (mcpact_agent_add_function (agent, "agent_fn", "Greets", NULL, s_agent_fn, NULL) == 0);
    CHECK (mcpact_agent_add_function (agent, "slow_fn", "Takes 500 ms", NULL, s_slow_fn, &state) ==
           0);

    char *names = ru_tool_names (agent);
    CHECK_STR (names, "agent_fn,slow_fn,session_fn,failing_fn," FIXTURE_TOOLS);
    free (names);
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    json_t *session_fn = ru_named (tools, "session_fn");
    CHECK (json_is_true (json_object_get (json_object_get (session_fn, "_mcpact"), "function")));
    CHECK_STR (ru_str (session_fn, "description"), "Session function");
    json_t *expected_schema = ru_json (schema);
    CHECK (json_equal (json_object_get (session_fn, "inputSchema"), expected_schema));
    json_decref (expected_schema);
    json_t *origin = json_object_get (ru_named (tools, "echo"), "_mcpact");
    CHECK_STR (ru_str (origin, "server"), "fx");
    CHECK_STR (ru_str (origin, "tool"), "echo");
    json_decref (tools);

    RU_CALL_IS (agent, "session_fn", "{\"n\":42,\"s\":\"x\"}", "from the session");
    pthread_mutex_lock (&state.lock);
    json_t *got = ru_json (state.last_args);
    pthread_mutex_unlock (&state.lock);
    json_t *sent = ru_json ("{\"n\":42,\"s\":\"x\"}");
    CHECK_MSG (json_equal (got, sent), "the function got %s", state.last_args);
    json_decref (got);
    json_decref (sent);
    RU_CALL_IS (agent, "agent_fn", "{\"who\":\"Ada\"}", "hello Ada");
    RU_CALL_IS (agent, "echo", "{\"message\":\"server\"}", "server");
    mcpact_result_t *result = ru_call_fails (agent, "failing_fn", NULL, 0, MCPACT_ERR_TOOL);
    CHECK_CONTAINS (mcpact_result_error (result), "the disk is on fire");
    CHECK_CONTAINS (mcpact_result_text (result), "the disk is on fire");
    mcpact_result_destroy (&result);

    //  While the slow function runs, a server call and another function
    //  call from this thread both finish before it
    pthread_t thread;
    slow_call_t slow = { agent, NULL };
    CHECK (pthread_create (&thread, NULL, s_slow_call, &slow) == 0);
    for (int waited = 0; !atomic_load (&state.started) && waited < 5000; waited += 5)
        ru_sleep_ms (5);
    CHECK (atomic_load (&state.started));
    RU_CALL_IS (agent, "echo", "{\"message\":\"meanwhile\"}", "meanwhile");
    CHECK_MSG (!atomic_load (&state.finished), "a server call waited for a function tool");
    RU_CALL_IS (agent, "agent_fn", "{\"who\":\"Bob\"}", "hello Bob");
    CHECK_MSG (!atomic_load (&state.finished), "a function call waited for another");
    pthread_join (thread, NULL);
    CHECK (atomic_load (&state.finished));
    CHECK_STR (slow.text, "done slowly");
    free (slow.text);

    ru_teardown (&agent, &session, &runtime);
    free (state.last_args);
}

//  --------------------------------------------------------------------------
//  An agent's own servers replace the session's; the session's stay up

//  Whether any tool name of the agent starts with `prefix`.
static bool
s_has_tool_prefixed (mcpact_agent_t *agent, const char *prefix)
{
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    bool found = false;
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool)
        if (strncmp (ru_str (tool, "name"), prefix, strlen (prefix)) == 0)
            found = true;
    json_decref (tools);
    return found;
}

TEST (placement_and_handoff)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("a", "--prefix", "a_", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);

    mcpact_agent_t *own = mcpact_agent_new (session, "X");
    CHECK (own);
    config = ru_fixture ("b", "--prefix", "b_", NULL);
    CHECK (mcpact_agent_add_server (own, &config) == 0);
    mcpact_agent_t *fallback = mcpact_agent_new (session, "Y");
    CHECK (fallback);

    CHECK (mcpact_agent_tool_count (own) == FIXTURE_TOOL_COUNT);
    CHECK (s_has_tool_prefixed (own, "b_"));
    CHECK_MSG (!s_has_tool_prefixed (own, "a_"), "an agent with servers sees the session's");
    CHECK (mcpact_agent_tool_count (fallback) == FIXTURE_TOOL_COUNT);
    CHECK (s_has_tool_prefixed (fallback, "a_"));
    CHECK (!s_has_tool_prefixed (fallback, "b_"));
    mcpact_result_t *result =
        ru_call_fails (own, "a_echo", "{\"message\":\"x\"}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);

    //  Hand-off: the next agent finds the session's server as it was
    long session_pid = ru_pid (fallback, "a_pid");
    mcpact_agent_destroy (&fallback);
    mcpact_agent_t *next = mcpact_agent_new (session, "Z");
    CHECK (next);
    CHECK (ru_pid (next, "a_pid") == session_pid);

    //  The agent's own server goes with it
    long own_pid = ru_pid (own, "b_pid");
    CHECK (own_pid != session_pid);
    mcpact_agent_destroy (&own);
    bool gone = false;
    for (int waited = 0; waited <= 3000 && !gone; waited += 20) {
        gone = kill ((pid_t) own_pid, 0) == -1 && errno == ESRCH;
        if (!gone)
            ru_sleep_ms (20);
    }
    CHECK_MSG (gone, "agent X's server (pid %ld) still exists 3 s after the agent went", own_pid);
    CHECK (kill ((pid_t) session_pid, 0) == 0);
    CHECK (ru_pid (next, "a_pid") == session_pid);

    mcpact_agent_destroy (&next);
    ru_teardown (NULL, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Tool-name policies

//  A session with two fixtures, "first" and "second", offering the same
//  tools, under `policy`.
static mcpact_session_t *
s_twin_session (mcpact_runtime_t *runtime, mcpact_name_policy_t policy)
{
    mcpact_session_t *session = mcpact_session_new (runtime);
    CHECK (session);
    CHECK (mcpact_session_set_name_policy (session, policy) == 0);
    mcpact_server_config_t *config = ru_fixture ("first", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = ru_fixture ("second", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    return session;
}

TEST (names_reject)
{
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    mcpact_session_t *session = s_twin_session (runtime, MCPACT_NAMES_REJECT);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "first"), "ready");
    CHECK_STR (ru_state (report, "second"), "ready");
    CHECK (json_array_size (json_object_get (ru_report_server (report, "first"), "rejected")) == 0);
    json_t *rejected = json_object_get (ru_report_server (report, "second"), "rejected");
    CHECK_MSG (json_array_size (rejected) == FIXTURE_TOOL_COUNT, "rejected: %zu",
               json_array_size (rejected));
    json_t *echo = NULL;
    size_t index;
    json_t *entry;
    json_array_foreach (rejected, index, entry)
        if (strcmp (ru_str (entry, "tool"), "echo") == 0)
            echo = entry;
    CHECK (echo);
    CHECK_CONTAINS (ru_str (echo, "reason"), "first");
    CHECK_CONTAINS (ru_str (echo, "reason"), "second");
    json_decref (report);

    char *names = ru_tool_names (agent);
    CHECK_STR (names, FIXTURE_TOOLS);
    free (names);
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    json_array_foreach (tools, index, entry)
        CHECK_STR (ru_str (json_object_get (entry, "_mcpact"), "server"), "first");
    json_decref (tools);
    RU_CALL_IS (agent, "echo", "{\"message\":\"one\"}", "one");

    ru_teardown (&agent, &session, &runtime);
}

TEST (names_prefix)
{
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    mcpact_session_t *session = s_twin_session (runtime, MCPACT_NAMES_PREFIX);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK (json_array_size (tools) == 2 * FIXTURE_TOOL_COUNT);
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        json_t *origin = json_object_get (tool, "_mcpact");
        char expected[128];
        snprintf (expected, sizeof expected, "%s_%s", ru_str (origin, "server"),
                  ru_str (origin, "tool"));
        CHECK_STR (ru_str (tool, "name"), expected);
    }
    CHECK (ru_named (tools, "first_echo") && ru_named (tools, "second_echo"));
    CHECK (!ru_named (tools, "echo"));
    json_decref (tools);
    CHECK (ru_pid (agent, "first_pid") != ru_pid (agent, "second_pid"));
    RU_CALL_IS (agent, "second_echo", "{\"message\":\"two\"}", "two");
    ru_teardown (&agent, &session, &runtime);
}

TEST (names_prefix_on_conflict)
{
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    mcpact_session_t *session = s_twin_session (runtime, MCPACT_NAMES_PREFIX_ON_CONFLICT);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK (json_array_size (tools) == 2 * FIXTURE_TOOL_COUNT);
    json_t *origin = json_object_get (ru_named (tools, "echo"), "_mcpact");
    CHECK_STR (ru_str (origin, "server"), "first");
    origin = json_object_get (ru_named (tools, "second_echo"), "_mcpact");
    CHECK_STR (ru_str (origin, "server"), "second");
    CHECK_STR (ru_str (origin, "tool"), "echo");
    CHECK (!ru_named (tools, "first_echo"));
    json_decref (tools);
    long first = ru_pid (agent, "pid");
    long second = ru_pid (agent, "second_pid");
    CHECK (first != second);
    RU_CALL_IS (agent, "second_echo", "{\"message\":\"two\"}", "two");
    ru_teardown (&agent, &session, &runtime);
}

static int
s_echo_fn (const char *args_json, char **output, void *arg)
{
    *output = strdup ("the function's echo");
    return 0;
}

TEST (names_function_wins)
{
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    mcpact_session_t *session = s_twin_session (runtime, MCPACT_NAMES_REJECT);
    CHECK (mcpact_session_add_function (session, "echo", "Not the server's", NULL, s_echo_fn,
                                        NULL) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    const char *servers[] = { "first", "second" };
    for (int server = 0; server < 2; server++) {
        json_t *rejected = json_object_get (ru_report_server (report, servers[server]), "rejected");
        json_t *echo = NULL;
        size_t index;
        json_t *entry;
        json_array_foreach (rejected, index, entry)
            if (strcmp (ru_str (entry, "tool"), "echo") == 0)
                echo = entry;
        CHECK_MSG (echo != NULL, "server %s's echo is not rejected", servers[server]);
        CHECK (ru_str (echo, "reason"));
    }
    json_decref (report);
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK (json_array_size (tools) == FIXTURE_TOOL_COUNT);
    CHECK_STR (ru_str (json_array_get (tools, 0), "name"), "echo");
    CHECK (json_is_true (
        json_object_get (json_object_get (json_array_get (tools, 0), "_mcpact"), "function")));
    json_decref (tools);
    RU_CALL_IS (agent, "echo", "{\"message\":\"x\"}", "the function's echo");
    RU_CALL_IS (agent, "add", "{\"a\":1,\"b\":1}", "2");
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  §4: a server that dies mid-call

TEST (crash_mid_call)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("victim", NULL);
    //  Were the death not noticed, every call would end in a timeout
    CHECK (mcpact_server_config_set_timeouts (config, 0, 0, 10000) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = ru_fixture ("other", "--prefix", "o_", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    long old_pid = ru_pid (agent, "pid");

    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller);
    int64_t sleeps[3];
    for (int index = 0; index < 3; index++) {
        sleeps[index] = mcpact_caller_send (caller, "sleep", "{\"ms\":20000}", 0);
        CHECK (sleeps[index] > 0);
    }
    mcpact_result_t *result = ru_call_fails (agent, "crash", NULL, 0, MCPACT_ERR_SERVER);
    CHECK_CONTAINS (mcpact_result_error (result), "status 3");
    mcpact_result_destroy (&result);
    for (int index = 0; index < 3; index++) {
        result = mcpact_caller_next (caller, -1);
        CHECK (result);
        CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_SERVER,
                   "an in-flight call ended with %s: %s",
                   mcpact_status_name (mcpact_result_status (result)),
                   mcpact_result_error (result));
        bool ours = false;
        for (int sleep = 0; sleep < 3; sleep++)
            ours = ours || mcpact_result_id (result) == sleeps[sleep];
        CHECK (ours);
        mcpact_result_destroy (&result);
    }
    CHECK (mcpact_caller_pending (caller) == 0);
    mcpact_caller_destroy (&caller);
    RU_CALL_IS (agent, "o_echo", "{\"message\":\"unaffected\"}", "unaffected");

    //  It comes back by itself, as a new process
    char *text = NULL;
    for (int waited = 0; waited < 5000 && !text; waited += 50) {
        result = mcpact_agent_call (agent, "echo", "{\"message\":\"back\"}", 0);
        if (mcpact_result_status (result) == MCPACT_OK)
            text = strdup (mcpact_result_text (result));
        else
            ru_sleep_ms (50);
        mcpact_result_destroy (&result);
    }
    CHECK_MSG (text != NULL, "the crashed server was not restarted within 5 s");
    CHECK_CONTAINS (text, "\"back\"");
    free (text);
    CHECK (ru_pid (agent, "pid") != old_pid);
    //  A status call must end (see status_many_servers)
    ru_watchdog_arm (5, "mcpact_agent_status");
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    ru_watchdog_disarm ();
    json_t *victim = ru_named (status, "victim");
    CHECK_STR (ru_str (victim, "state"), "ready");
    CHECK (json_integer_value (json_object_get (victim, "restarts")) >= 1);
    CHECK (json_integer_value (json_object_get (ru_named (status, "other"), "restarts")) == 0);
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  §4: non-JSON lines on stdout are skipped

TEST (garbage_on_stdout)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("noisy", "--garbage", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    char *names = ru_tool_names (agent);
    CHECK_STR (names, FIXTURE_TOOLS);
    free (names);
    RU_CALL_IS (agent, "echo", "{\"message\":\"through the noise\"}", "through the noise");
    RU_CALL_IS (agent, "add", "{\"a\":40,\"b\":2}", "42");
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  §4: tools/list pagination, with a loop guard

TEST (pagination_followed)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config =
        ru_fixture ("paged", "--tools", "50", "--page-size", "7", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK (json_integer_value (json_object_get (ru_report_server (report, "paged"), "tools")) ==
           62);
    json_decref (report);
    char *names = ru_tool_names (agent);
    char expected[2048] = FIXTURE_TOOLS;
    for (int index = 0; index < 50; index++)
        snprintf (expected + strlen (expected), sizeof expected - strlen (expected), ",tool_%04d",
                  index);
    CHECK_STR (names, expected);
    free (names);
    RU_CALL_IS (agent, "tool_0049", "{\"message\":\"last page\"}", "last page");
    ru_teardown (&agent, &session, &runtime);
}

TEST (pagination_loop_guarded)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config =
        ru_fixture ("looping", "--page-size", "5", "--repeat-cursor", "--prefix", "l_", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = ru_fixture ("fine", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "looping"), "failed");
    const char *error = ru_str (ru_report_server (report, "looping"), "error");
    CHECK_MSG (error && (strstr (error, "pagination") || strstr (error, "cursor")), "error: %s",
               error ? error : "(none)");
    CHECK_STR (ru_state (report, "fine"), "ready");
    json_decref (report);
    char *names = ru_tool_names (agent);
    CHECK_STR (names, FIXTURE_TOOLS);
    free (names);
    RU_CALL_IS (agent, "echo", "{\"message\":\"fine\"}", "fine");
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Requests from the server to the client

TEST (server_requests_answered)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("asking", "--server-requests", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    json_t *answers = ru_json_take (ru_call_text (agent, "client_answers", NULL));
    json_t *ping = json_object_get (answers, "srv-1");
    CHECK_MSG (ping != NULL, "the ping was not answered");
    CHECK_STR (ru_str (ping, "id"), "srv-1");
    json_t *result = json_object_get (ping, "result");
    CHECK (json_is_object (result) && json_object_size (result) == 0);
    CHECK (!json_object_get (ping, "error"));
    json_t *sampling = json_object_get (answers, "srv-2");
    CHECK_MSG (sampling != NULL, "sampling/createMessage was not answered");
    CHECK_STR (ru_str (sampling, "id"), "srv-2");
    CHECK (!json_object_get (sampling, "result"));
    CHECK (json_integer_value (json_object_get (json_object_get (sampling, "error"), "code")) ==
           -32601);
    json_decref (answers);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  B3, §4: the child's environment and working directory

TEST (environment_and_cwd)
{
    setenv ("MCPACT_SECRET_TEST", "x", 1);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("envy", NULL);
    CHECK (mcpact_server_config_set_env (config, "FOO", "bar") == 0);
    CHECK (mcpact_server_config_set_cwd (config, "/tmp") == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    RU_CALL_IS (agent, "env", "{\"name\":\"FOO\"}", "bar");
    const char *home = getenv ("HOME");
    RU_CALL_IS (agent, "env", "{\"name\":\"HOME\"}", home ? home : "(unset)");
    RU_CALL_IS (agent, "env", "{\"name\":\"MCPACT_SECRET_TEST\"}", "(unset)");
    RU_CALL_IS (agent, "cwd", NULL, "/tmp");
    ru_teardown (&agent, &session, &runtime);
    unsetenv ("MCPACT_SECRET_TEST");
}

//  --------------------------------------------------------------------------
//  §4: per-call timeout and cancellation

TEST (timeout_and_cancel)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("slow", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (mcpact_agent_tool_count (agent) == FIXTURE_TOOL_COUNT);

    int64_t start = ru_now_ms ();
    mcpact_result_t *result =
        ru_call_fails (agent, "sleep", "{\"ms\":2000}", 200, MCPACT_ERR_TIMEOUT);
    int64_t elapsed = ru_now_ms () - start;
    CHECK_MSG (elapsed < 1500, "a 200 ms timeout took %lld ms", (long long) elapsed);
    mcpact_result_destroy (&result);
    RU_CALL_IS (agent, "echo", "{\"message\":\"after the timeout\"}", "after the timeout");

    //  Cancelled: the result says so, and the late answer never shows up
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller);
    int64_t id = mcpact_caller_send (caller, "sleep", "{\"ms\":600}", 0);
    CHECK (id > 0);
    CHECK (mcpact_caller_pending (caller) == 1);
    CHECK (mcpact_caller_cancel (caller, id) == 0);
    result = mcpact_caller_next (caller, -1);
    CHECK (result);
    CHECK (mcpact_result_id (result) == id);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_CANCELLED, "got %s: %s",
               mcpact_status_name (mcpact_result_status (result)), mcpact_result_json (result));
    mcpact_result_destroy (&result);
    CHECK (mcpact_caller_pending (caller) == 0);
    CHECK (mcpact_caller_cancel (caller, id) == -1);
    result = mcpact_caller_next (caller, 1000);
    CHECK_MSG (result == NULL, "a cancelled call came back again: %s", mcpact_result_json (result));
    mcpact_caller_destroy (&caller);
    RU_CALL_IS (agent, "echo", "{\"message\":\"after the cancel\"}", "after the cancel");
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Asynchronous calls

TEST (caller_many_in_flight)
{
    enum { CALLS = 64 };
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (mcpact_agent_tool_count (agent) == FIXTURE_TOOL_COUNT);
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller);
    CHECK (mcpact_caller_fd (caller) >= 0);

    int64_t ids[CALLS];
    bool seen[CALLS] = { false };
    for (int index = 0; index < CALLS; index++) {
        char args[64];
        snprintf (args, sizeof args, "{\"message\":\"call %d\"}", index);
        ids[index] = mcpact_caller_send (caller, "echo", args, 0);
        CHECK (ids[index] > 0);
        for (int other = 0; other < index; other++)
            CHECK (ids[other] != ids[index]);
    }
    CHECK (mcpact_caller_pending (caller) == CALLS);
    for (int got = 0; got < CALLS; got++) {
        mcpact_result_t *result = mcpact_caller_next (caller, 10000);
        CHECK_MSG (result != NULL, "only %d of %d results came back", got, CALLS);
        CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
        int index = 0;
        while (index < CALLS && ids[index] != mcpact_result_id (result))
            index++;
        CHECK_MSG (index < CALLS, "unknown id %lld", (long long) mcpact_result_id (result));
        CHECK_MSG (!seen[index], "id %lld came back twice", (long long) ids[index]);
        seen[index] = true;
        json_t *item = ru_json (mcpact_result_text (result));
        char expected[64];
        snprintf (expected, sizeof expected, "call %d", index);
        CHECK_STR (ru_str (item, "text"), expected);
        json_decref (item);
        mcpact_result_destroy (&result);
    }
    CHECK (mcpact_caller_pending (caller) == 0);
    CHECK (mcpact_caller_next (caller, 0) == NULL);

    //  The documented event-loop use: drain, then wait on the fd
    int64_t id = mcpact_caller_send (caller, "echo", "{\"message\":\"by fd\"}", 0);
    CHECK (id > 0);
    mcpact_result_t *result = NULL;
    while (!(result = mcpact_caller_next (caller, 0))) {
        struct pollfd item = { .fd = mcpact_caller_fd (caller), .events = POLLIN };
        CHECK_MSG (poll (&item, 1, 5000) == 1, "the caller's fd never became readable");
    }
    CHECK (mcpact_result_id (result) == id);
    CHECK_CONTAINS (mcpact_result_text (result), "by fd");
    mcpact_result_destroy (&result);

    mcpact_caller_destroy (&caller);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Many host threads on one agent

enum { HOST_THREADS = 8, CALLS_PER_THREAD = 200 };

typedef struct {
    mcpact_agent_t *agent;
    int thread;
    int correct; //  calls that came back right
    char failure[256];
} host_thread_t;

static void *
s_host_thread (void *arg)
{
    host_thread_t *self = (host_thread_t *) arg;
    for (int call = 0; call < CALLS_PER_THREAD; call++) {
        char args[128], expected[64];
        snprintf (expected, sizeof expected, "thread %d call %d", self->thread, call);
        snprintf (args, sizeof args, "{\"message\":\"%s\"}", expected);
        mcpact_result_t *result = mcpact_agent_call (self->agent, "echo", args, 0);
        json_error_t error;
        json_t *item = mcpact_result_status (result) == MCPACT_OK
                           ? json_loads (mcpact_result_text (result), 0, &error)
                           : NULL;
        const char *text = ru_str (item, "text");
        if (text && strcmp (text, expected) == 0)
            self->correct++;
        else if (!*self->failure)
            snprintf (self->failure, sizeof self->failure, "%s: got %s (%s)", expected,
                      mcpact_result_text (result),
                      mcpact_status_name (mcpact_result_status (result)));
        json_decref (item);
        mcpact_result_destroy (&result);
    }
    return NULL;
}

TEST (many_host_threads)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    pthread_t threads[HOST_THREADS];
    host_thread_t states[HOST_THREADS];
    for (int index = 0; index < HOST_THREADS; index++) {
        states[index] = (host_thread_t){ .agent = agent, .thread = index };
        CHECK (pthread_create (&threads[index], NULL, s_host_thread, &states[index]) == 0);
    }
    for (int index = 0; index < HOST_THREADS; index++)
        pthread_join (threads[index], NULL);
    for (int index = 0; index < HOST_THREADS; index++)
        CHECK_MSG (states[index].correct == CALLS_PER_THREAD, "thread %d: %d right; first: %s",
                   index, states[index].correct, states[index].failure);
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK (json_integer_value (json_object_get (ru_named (status, "fx"), "calls")) >=
           HOST_THREADS * CALLS_PER_THREAD);
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Results as the LLM sees them

TEST (result_conversion)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);

    //  One item: that item
    mcpact_result_t *result = mcpact_agent_call (agent, "echo", "{\"message\":\"hi\"}", 0);
    CHECK (mcpact_result_status (result) == MCPACT_OK);
    CHECK (mcpact_result_error (result) == NULL);
    json_t *text = ru_json (mcpact_result_text (result));
    json_t *expected = ru_json ("{\"type\":\"text\",\"text\":\"hi\"}");
    CHECK_MSG (json_equal (text, expected), "text: %s", mcpact_result_text (result));
    json_decref (text);
    json_t *whole = ru_json (mcpact_result_json (result));
    CHECK (json_equal (json_array_get (json_object_get (whole, "content"), 0), expected));
    CHECK (!json_is_true (json_object_get (whole, "isError")));
    json_decref (whole);
    json_decref (expected);
    mcpact_result_destroy (&result);

    //  Several: the array; the image as a note, never its base64 (the
    //  LLM would pay for every character and learn nothing), while the
    //  result's JSON keeps it
    result = mcpact_agent_call (agent, "multi", NULL, 0);
    CHECK (mcpact_result_status (result) == MCPACT_OK);
    text = ru_json (mcpact_result_text (result));
    expected = ru_json ("[{\"type\":\"text\",\"text\":\"one\"},{\"type\":\"text\","
                        "\"text\":\"[image: image/png, 12 bytes base64 omitted]\"}]");
    CHECK (!strstr (mcpact_result_text (result), "iVBORw0KGgo="));
    CHECK_CONTAINS (mcpact_result_json (result), "iVBORw0KGgo=");
    //  what an OpenAI tool message carries, byte for byte
    char *as = mcpact_result_as (result, MCPACT_FORMAT_OPENAI, "c1", "multi");
    json_t *message = ru_json (as);
    CHECK_STR (ru_str (message, "content"), mcpact_result_text (result));
    json_decref (message);
    free (as);
    CHECK_MSG (json_equal (text, expected), "text: %s", mcpact_result_text (result));
    json_decref (text);
    json_decref (expected);
    mcpact_result_destroy (&result);

    //  isError: the joined text parts
    result = ru_call_fails (agent, "fail", NULL, 0, MCPACT_ERR_TOOL);
    CHECK_STR (mcpact_result_text (result), "first part\nsecond part");
    CHECK_CONTAINS (mcpact_result_error (result), "first part");
    whole = ru_json (mcpact_result_json (result));
    CHECK (json_is_true (json_object_get (whole, "isError")));
    json_decref (whole);
    mcpact_result_destroy (&result);

    //  No content: an error
    result = ru_call_fails (agent, "empty", NULL, 0, MCPACT_ERR_TOOL);
    CHECK (mcpact_result_text (result) && *mcpact_result_text (result));
    mcpact_result_destroy (&result);

    //  Structured content kept in the JSON
    result = mcpact_agent_call (agent, "structured", NULL, 0);
    CHECK (mcpact_result_status (result) == MCPACT_OK);
    CHECK_CONTAINS (mcpact_result_json (result), "structuredContent");
    whole = ru_json (mcpact_result_json (result));
    CHECK (json_integer_value (
               json_object_get (json_object_get (whole, "structuredContent"), "x")) == 1);
    json_decref (whole);
    text = ru_json (mcpact_result_text (result));
    CHECK_STR (ru_str (text, "text"), "{\"x\":1}");
    json_decref (text);
    mcpact_result_destroy (&result);

    ru_teardown (&agent, &session, &runtime);
}

//  A blocking call's result has no caller id: the header promises 0.
// A blocking call's result has id 0, as the header says (not the id of
// the pooled caller's internal call).
TEST (blocking_call_result_id)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_add_function (session, "hello", NULL, NULL, s_echo_fn, NULL) == 0);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    const char *tools[] = { "echo", "hello", "no_such_tool" };
    for (size_t index = 0; index < sizeof tools / sizeof *tools; index++) {
        mcpact_result_t *result = mcpact_agent_call (agent, tools[index], "{\"message\":\"x\"}", 0);
        CHECK (result);
        CHECK_MSG (mcpact_result_id (result) == 0, "%s: id %lld (%s)", tools[index],
                   (long long) mcpact_result_id (result),
                   mcpact_status_name (mcpact_result_status (result)));
        mcpact_result_destroy (&result);
    }
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Arguments that are not a JSON object

TEST (bad_arguments)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    const char *bad[] = { "not json", "[1,2]", "\"text\"", "{\"message\":" };
    for (size_t index = 0; index < sizeof bad / sizeof *bad; index++) {
        mcpact_result_t *result = ru_call_fails (agent, "echo", bad[index], 0, MCPACT_ERR_ARGS);
        mcpact_result_destroy (&result);
    }
    RU_CALL_IS (agent, "echo", "{\"message\":\"fine\"}", "fine");
    RU_CALL_IS (agent, "echo", " { \"message\" : \"spaced\" } ", "spaced");
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK_STR (ru_str (ru_named (status, "fx"), "state"), "ready");
    CHECK (json_integer_value (json_object_get (ru_named (status, "fx"), "restarts")) == 0);
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  §3: a session and its agents from configuration text

TEST (config_session_and_agent)
{
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    char text[2048];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\n"
              "   \"x\": {\"command\": \"%s\", \"args\": [\"--prefix\", \"x_\"],\n"
              "          \"env\": {\"GREETING\": \"hi from config\"}},\n"
              "   \"y\": {\"command\": \"%s\", \"args\": [\"--prefix\", \"y_\"]}},\n"
              " \"agents\": {\"a\": {\"mcpServers\": [\"x\"]}}}",
              RU_FIXTURE, RU_FIXTURE);
    char *error = NULL;
    mcpact_session_t *session = mcpact_session_load_string (runtime, text, "inline.json", &error);
    CHECK_MSG (session != NULL, "%s", error ? error : "(no error)");
    CHECK (error == NULL);
    char *names = mcpact_session_agent_names (session);
    CHECK_STR (names, "[\"a\"]");
    free (names);
    CHECK (mcpact_agent_from_config (session, "nobody") == NULL);

    mcpact_agent_t *agent = mcpact_agent_from_config (session, "a");
    CHECK (agent);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "x"), "ready");
    CHECK (ru_named (json_object_get (report, "servers"), "y") == NULL);
    json_decref (report);
    CHECK (mcpact_agent_tool_count (agent) == FIXTURE_TOOL_COUNT);
    RU_CALL_IS (agent, "x_env", "{\"name\":\"GREETING\"}", "hi from config");
    mcpact_result_t *result =
        ru_call_fails (agent, "y_echo", "{\"message\":\"x\"}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);

    mcpact_agent_t *plain = mcpact_agent_new (session, NULL);
    CHECK (plain);
    CHECK (mcpact_agent_tool_count (plain) == 2 * FIXTURE_TOOL_COUNT);
    RU_CALL_IS (plain, "y_echo", "{\"message\":\"from y\"}", "from y");
    mcpact_agent_destroy (&plain);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);

    //  A broken file: nothing starts, and the message says where
    session = mcpact_session_load_string (runtime, "{\"mcpServers\": {\"x\": {\"command\": 5}}}",
                                          "broken.json", &error);
    CHECK (session == NULL);
    CHECK_CONTAINS (error, "broken.json");
    CHECK_CONTAINS (error, "mcpServers.x.command");
    free (error);
    error = NULL;
    session = mcpact_session_load_string (runtime, "{\"mcpServers\": ", "cut.json", &error);
    CHECK (session == NULL);
    CHECK_CONTAINS (error, "cut.json");
    free (error);
    mcpact_runtime_destroy (&runtime);
}

//  --------------------------------------------------------------------------
//  Status: per-server state, pid, stderr tail

TEST (status_report)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("live", "--stderr-lines", "3", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = ru_fixture ("dead", "--exit-at-once", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    long pid = ru_pid (agent, "pid");

    //  stderr is read beside stdout; give it a moment to arrive
    //  A status call must end (see status_many_servers)
    ru_watchdog_arm (5, "mcpact_agent_status");
    json_t *status = NULL;
    for (int waited = 0; waited <= 3000; waited += 20) {
        json_decref (status);
        status = ru_json_take (mcpact_agent_status (agent));
        const char *tail = ru_str (ru_named (status, "live"), "stderr");
        if (tail && strstr (tail, "fixture stderr line 3"))
            break;
        ru_sleep_ms (20);
    }
    ru_watchdog_disarm ();
    CHECK (json_array_size (status) == 2);
    json_t *live = ru_named (status, "live");
    CHECK (live);
    CHECK_STR (ru_str (live, "state"), "ready");
    CHECK_STR (ru_str (live, "transport"), "stdio");
    CHECK (json_integer_value (json_object_get (live, "pid")) == pid);
    CHECK (json_integer_value (json_object_get (live, "tools")) == FIXTURE_TOOL_COUNT);
    CHECK (json_integer_value (json_object_get (live, "calls")) >= 1);
    CHECK (json_is_integer (json_object_get (live, "errors")));
    CHECK (json_integer_value (json_object_get (live, "restarts")) == 0);
    CHECK (!json_object_get (live, "error"));
    const char *tail = ru_str (live, "stderr");
    CHECK_CONTAINS (tail, "fixture stderr line 1");
    CHECK_CONTAINS (tail, "fixture stderr line 3");
    json_t *dead = ru_named (status, "dead");
    CHECK (dead);
    CHECK_STR (ru_str (dead, "state"), "failed");
    // The exit status, not the broken pipe (see failed_servers_skipped)
    CHECK_CONTAINS (ru_str (dead, "error"), "exited with status 1");
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
}

// mcpact_agent_status asks every server at once; the answers come back in
// any order, and every one must be taken (a status call that waited for
// them in server order and dropped the others used to hang).
TEST (status_many_servers)
{
    enum { SERVERS = 8 };
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    for (int index = 0; index < SERVERS; index++) {
        char name[16], prefix[16];
        snprintf (name, sizeof name, "srv%d", index);
        snprintf (prefix, sizeof prefix, "p%d_", index);
        mcpact_server_config_t *config = ru_fixture (name, "--prefix", prefix, NULL);
        CHECK (mcpact_session_add_server (session, &config) == 0);
    }
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (mcpact_agent_tool_count (agent) == SERVERS * FIXTURE_TOOL_COUNT);
    ru_watchdog_arm (8, "mcpact_agent_status with 8 servers");
    for (int round = 0; round < 20; round++) {
        json_t *status = ru_json_take (mcpact_agent_status (agent));
        CHECK (json_array_size (status) == SERVERS);
        for (int index = 0; index < SERVERS; index++) {
            char name[16];
            snprintf (name, sizeof name, "srv%d", index);
            json_t *server = json_array_get (status, (size_t) index);
            CHECK_STR (ru_str (server, "name"), name);
            CHECK_STR (ru_str (server, "state"), "ready");
            CHECK (json_integer_value (json_object_get (server, "pid")) > 0);
        }
        json_decref (status);
    }
    ru_watchdog_disarm ();
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  A host with only stdio servers does not load libcurl (and its TLS
//  stacks); the first HTTP server loads it (tests/test_http.c runs them)

static bool
s_libcurl_mapped (void)
{
    FILE *maps = fopen ("/proc/self/maps", "r");
    CHECK (maps);
    char line[1024];
    bool found = false;
    while (!found && fgets (line, sizeof line, maps))
        found = strstr (line, "/libcurl") != NULL;
    fclose (maps);
    return found;
}

TEST (stdio_only_no_libcurl)
{
    CHECK (!s_libcurl_mapped ());
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    mcpact_session_t *session = mcpact_session_new (runtime);
    mcpact_server_config_t *config = ru_fixture ("local", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (mcpact_agent_tool_count (agent) == FIXTURE_TOOL_COUNT);
    RU_CALL_IS (agent, "echo", "{\"message\":\"no curl\"}", "no curl");
    CHECK_MSG (!s_libcurl_mapped (), "libcurl was loaded for stdio servers only");
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  A server that failed to start is tried again: by a reload, or by its
//  start retries in the background

//  A fixture that exits at once until `flag` exists.
static mcpact_server_config_t *
s_late_fixture (const char *flag)
{
    return ru_fixture ("late", "--exit-unless", flag, "--prefix", "l_", NULL);
}

static void
s_flag_path (char *path, size_t size)
{
    snprintf (path, size, "/tmp/mcpact-test-flag-%ld", (long) getpid ());
    unlink (path);
}

TEST (reload_retries_failed_server)
{
    char flag[64];
    s_flag_path (flag, sizeof flag);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *late = s_late_fixture (flag);
    CHECK (mcpact_session_add_server (session, &late) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "late"), "failed");
    json_decref (report);
    //  Still failing: the reload says why
    json_t *change = ru_json_take (mcpact_agent_reload (agent));
    json_t *error = json_array_get (json_object_get (change, "errors"), 0);
    CHECK_STR (ru_str (error, "server"), "late");
    CHECK_CONTAINS (ru_str (error, "error"), "exited with status 1");
    json_decref (change);
    //  Fixed: the reload starts it, and its tools come
    FILE *file = fopen (flag, "w");
    CHECK (file);
    fclose (file);
    change = ru_json_take (mcpact_agent_reload (agent));
    CHECK_MSG (json_array_size (json_object_get (change, "errors")) == 0, "%s",
               json_dumps (change, 0));
    CHECK (json_array_size (json_object_get (change, "added")) == FIXTURE_TOOL_COUNT);
    json_decref (change);
    RU_CALL_IS (agent, "l_echo", "{\"message\":\"up now\"}", "up now");
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK_STR (ru_str (ru_named (status, "late"), "state"), "ready");
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
    unlink (flag);
}

static void
s_count_changes (const char *change_json, void *arg)
{
    atomic_fetch_add ((atomic_int *) arg, 1);
}

TEST (start_retries_in_background)
{
    char flag[64];
    s_flag_path (flag, sizeof flag);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *late = s_late_fixture (flag);
    CHECK (mcpact_server_config_set_start_retries (late, 30) == 0);
    CHECK (mcpact_session_add_server (session, &late) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    static atomic_int changes;
    CHECK (mcpact_agent_set_tools_changed (agent, s_count_changes, &changes) == 0);
    //  The report does not wait for the retries
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "late"), "failed");
    json_decref (report);
    CHECK (mcpact_agent_tool_count (agent) == 0);
    FILE *file = fopen (flag, "w");
    CHECK (file);
    fclose (file);
    //  A retry finds it fixed (backoff 250 ms, doubling)
    ru_watchdog_arm (60, "a retry that starts the server");
    while (mcpact_agent_tool_count (agent) < FIXTURE_TOOL_COUNT)
        ru_sleep_ms (20);
    ru_watchdog_disarm ();
    RU_CALL_IS (agent, "l_echo", "{\"message\":\"retried\"}", "retried");
    for (int waited = 0; atomic_load (&changes) == 0 && waited < 5000; waited += 10)
        ru_sleep_ms (10);
    CHECK (atomic_load (&changes) >= 1);
    ru_teardown (&agent, &session, &runtime);
    unlink (flag);
}

//  --------------------------------------------------------------------------
//  Who owns a tool name follows the configuration, not who came up first

TEST (names_follow_configuration)
{
    char flag[64];
    s_flag_path (flag, sizeof flag);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    //  "late" comes first and has echo on its allow-list, but is down;
    //  "other" has an echo too.
    mcpact_server_config_t *late = ru_fixture ("late", "--exit-unless", flag, NULL);
    CHECK (mcpact_server_config_allow_tool (late, "echo") == 0);
    CHECK (mcpact_session_add_server (session, &late) == 0);
    mcpact_server_config_t *other = ru_fixture ("other", NULL);
    CHECK (mcpact_session_add_server (session, &other) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "late"), "failed");
    json_t *rejected = json_object_get (ru_report_server (report, "other"), "rejected");
    CHECK (json_array_size (rejected) == 1);
    CHECK_CONTAINS (ru_str (json_array_get (rejected, 0), "reason"), "server late");
    json_decref (report);
    //  echo is late's: not shown, and a call says late is down
    char *names = ru_tool_names (agent);
    CHECK (!strstr (names, "echo") && strstr (names, "add"));
    free (names);
    mcpact_result_t *result =
        ru_call_fails (agent, "echo", "{\"message\":\"x\"}", 0, MCPACT_ERR_SERVER);
    CHECK_CONTAINS (mcpact_result_error (result), "server late is failed");
    mcpact_result_destroy (&result);
    //  late comes up: echo is shown, and late answers it
    FILE *file = fopen (flag, "w");
    CHECK (file);
    fclose (file);
    json_t *change = ru_json_take (mcpact_agent_reload (agent));
    CHECK_STR (json_string_value (json_array_get (json_object_get (change, "added"), 0)), "echo");
    json_decref (change);
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK_STR (ru_str (json_object_get (ru_named (tools, "echo"), "_mcpact"), "server"), "late");
    json_decref (tools);
    RU_CALL_IS (agent, "echo", "{\"message\":\"from late\"}", "from late");
    ru_teardown (&agent, &session, &runtime);
    unlink (flag);
}

TEST (names_taken_back_in_configuration_order)
{
    //  Without an allow-list, a server that is down keeps nothing (its
    //  tools are unknown); once it is up, the configuration decides again
    //  and the change says which tools changed owner.
    char flag[64];
    s_flag_path (flag, sizeof flag);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *late = ru_fixture ("late", "--exit-unless", flag, NULL);
    CHECK (mcpact_session_add_server (session, &late) == 0);
    mcpact_server_config_t *other = ru_fixture ("other", NULL);
    CHECK (mcpact_session_add_server (session, &other) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK_STR (ru_str (json_object_get (ru_named (tools, "echo"), "_mcpact"), "server"), "other");
    json_decref (tools);
    FILE *file = fopen (flag, "w");
    CHECK (file);
    fclose (file);
    json_t *change = ru_json_take (mcpact_agent_reload (agent));
    CHECK (json_array_size (json_object_get (change, "changed")) == FIXTURE_TOOL_COUNT);
    CHECK (json_array_size (json_object_get (change, "added")) == 0);
    json_decref (change);
    tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK_STR (ru_str (json_object_get (ru_named (tools, "echo"), "_mcpact"), "server"), "late");
    json_decref (tools);
    ru_teardown (&agent, &session, &runtime);
    unlink (flag);
}
