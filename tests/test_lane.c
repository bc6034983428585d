/*  =========================================================================
    test_lane - calls a host thread makes itself on a stdio server's pipes

    A host thread calling one stdio server after another gets the server's
    lane (its stdin and stdout, lent by the server actor) and makes the
    next calls on it directly. What the server sends that is not the
    answer, a call that runs out of time, a server that dies, a session
    closed mid-call, and several threads on one server must all behave as
    on the message path.
    =========================================================================
*/

#include "runtime_util.h"

#include <pthread.h>

//  A number from the server's entry in the agent's status.
static json_int_t
s_status_number (mcpact_agent_t *agent, const char *key)
{
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *server = ru_named (status, "lane");
    CHECK_MSG (server && json_is_integer (json_object_get (server, key)), "no %s in the status",
               key);
    json_int_t value = json_integer_value (json_object_get (server, key));
    json_decref (status);
    return value;
}

//  Calls echo with a message of its own and checks that it comes back.
static void
s_echo (mcpact_agent_t *agent, int thread, int index)
{
    char args[64], expected[48];
    snprintf (expected, sizeof expected, "t%d-%d", thread, index);
    snprintf (args, sizeof args, "{\"message\":\"%s\"}", expected);
    RU_CALL_IS (agent, "echo", args, expected);
}

//  The lines a fixture read, from its --input-log.
static char *
s_read_log (const char *path)
{
    FILE *file = fopen (path, "r");
    CHECK_MSG (file, "no input log %s", path);
    char *lines = (char *) calloc (1, 1 << 20);
    size_t size = fread (lines, 1, (1 << 20) - 1, file);
    lines[size] = 0;
    fclose (file);
    return lines;
}

static size_t
s_count (const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = text; (at = strstr (at, needle)); at += strlen (needle))
        count++;
    return count;
}

TEST (sequential_calls_go_direct)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "lane", NULL);
    for (int index = 0; index < 300; index++)
        s_echo (agent, 0, index);
    //  The first call goes by message and brings the lane; the rest go on
    //  it (an idle moment of LANE_IDLE_MS may take it back once or twice).
    json_int_t direct = s_status_number (agent, "directCalls");
    CHECK_MSG (direct >= 250, "only %lld of 300 calls went direct", (long long) direct);
    CHECK (s_status_number (agent, "calls") == 300);
    CHECK (s_status_number (agent, "errors") == 0);
    mcpact_result_t *result = ru_call_fails (agent, "fail", "{}", 0, MCPACT_ERR_TOOL);
    mcpact_result_destroy (&result);
    CHECK (s_status_number (agent, "errors") == 1);
    //  A result without content is a tool error, and counted as one
    result = ru_call_fails (agent, "empty", "{}", 0, MCPACT_ERR_TOOL);
    mcpact_result_destroy (&result);
    CHECK (s_status_number (agent, "errors") == 2);
    ru_teardown (&agent, &session, &runtime);
}

TEST (server_request_before_the_answer)
{
    //  The server asks something (ping) before it answers each call: the
    //  thread on the lane hands the request to the actor, which answers it.
    char log[64];
    snprintf (log, sizeof log, "/tmp/mcpact-lane-input-%ld", (long) getpid ());
    unlink (log);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "lane", "--input-log", log, "--reply", "tools/call",
        "{\"jsonrpc\":\"2.0\",\"id\":\"srv-$ID\",\"method\":\"ping\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
        "\"pinged\"}]}}",
        NULL);
    for (int index = 0; index < 20; index++)
        RU_CALL_IS (agent, "echo", "{}", "pinged");
    //  After each ping the lane goes back to the actor, which lends it
    //  again with the next answer it sends: every other call goes direct.
    json_int_t direct = s_status_number (agent, "directCalls");
    CHECK_MSG (direct >= 5, "%lld calls of 20 went direct", (long long) direct);
    ru_teardown (&agent, &session, &runtime);
    char *lines = s_read_log (log);
    unlink (log);
    //  Every ping answered, each with its own id
    for (int id = 3; id < 23; id++) {
        char answer[64];
        snprintf (answer, sizeof answer, "{\"jsonrpc\":\"2.0\",\"id\":\"srv-%d\",\"result\":{}}",
                  id);
        CHECK_MSG (s_count (lines, answer) == 1, "%s answered %zu times in:\n%s", answer,
                   s_count (lines, answer), lines);
    }
    free (lines);
}

TEST (tools_changed_between_calls)
{
    //  A notification sent while the lane is lent and idle is read within
    //  moments: the lane goes back to its actor.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent =
        ru_agent_on (&runtime, &session, "lane", "--list-changed-after-ms", "400", NULL);
    int64_t until = ru_now_ms () + 200;
    for (int index = 0; ru_now_ms () < until; index++)
        s_echo (agent, 0, index);
    //  (Nothing else here may talk to the server actor until the tool
    //  shows: a status request would take the lane back too.)
    bool seen = false;
    for (int tries = 0; tries < 100 && !seen; tries++) {
        char *names = ru_tool_names (agent);
        seen = strstr (names, "late_tool") != NULL;
        free (names);
        if (!seen)
            ru_sleep_ms (50);
    }
    CHECK_MSG (seen, "late_tool never appeared");
    CHECK (s_status_number (agent, "directCalls") > 0);
    RU_CALL_IS (agent, "late_tool", "{\"message\":\"late\"}", "late");
    ru_teardown (&agent, &session, &runtime);
}

TEST (timeout_on_the_lane)
{
    char log[64];
    snprintf (log, sizeof log, "/tmp/mcpact-lane-timeout-%ld", (long) getpid ());
    unlink (log);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "lane", "--input-log", log, NULL);
    s_echo (agent, 0, 0);
    s_echo (agent, 0, 1);
    int64_t start = ru_now_ms ();
    mcpact_result_t *result =
        ru_call_fails (agent, "sleep", "{\"ms\":10000}", 300, MCPACT_ERR_TIMEOUT);
    CHECK_MSG (strstr (mcpact_result_error (result), "300 ms"), "%s", mcpact_result_error (result));
    mcpact_result_destroy (&result);
    CHECK (ru_now_ms () - start < 5000);
    s_echo (agent, 0, 2);
    ru_teardown (&agent, &session, &runtime);
    char *lines = s_read_log (log);
    unlink (log);
    CHECK_MSG (strstr (lines, "notifications/cancelled"), "no cancel sent:\n%s", lines);
    free (lines);
}

TEST (server_dies_mid_call)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "lane", NULL);
    s_echo (agent, 0, 0);
    s_echo (agent, 0, 1);
    int64_t start = ru_now_ms ();
    mcpact_result_t *result = ru_call_fails (agent, "crash", "{}", 0, MCPACT_ERR_SERVER);
    CHECK_MSG (strstr (mcpact_result_error (result), "status 3"), "%s",
               mcpact_result_error (result));
    mcpact_result_destroy (&result);
    CHECK (ru_now_ms () - start < 5000);
    //  Restarted, and calls work again
    bool back = false;
    for (int tries = 0; tries < 100 && !back; tries++) {
        result = mcpact_agent_call (agent, "echo", "{\"message\":\"again\"}", 0);
        back = mcpact_result_status (result) == MCPACT_OK;
        mcpact_result_destroy (&result);
        if (!back)
            ru_sleep_ms (50);
    }
    CHECK (back);
    s_echo (agent, 0, 2);
    ru_teardown (&agent, &session, &runtime);
}

typedef struct {
    mcpact_agent_t *agent;
    int thread;
    int calls;
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *worker = (s_worker_t *) arg;
    for (int index = 0; index < worker->calls; index++)
        s_echo (worker->agent, worker->thread, index);
    return NULL;
}

TEST (threads_take_turns_on_one_server)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "lane", NULL);
    pthread_t threads[4];
    s_worker_t workers[4];
    for (int thread = 0; thread < 4; thread++) {
        workers[thread] = (s_worker_t){ agent, thread, 1000 };
        CHECK (pthread_create (&threads[thread], NULL, s_worker, &workers[thread]) == 0);
    }
    for (int thread = 0; thread < 4; thread++)
        pthread_join (threads[thread], NULL);
    CHECK (s_status_number (agent, "calls") == 4000);
    CHECK (s_status_number (agent, "errors") == 0);
    CHECK (s_status_number (agent, "inFlight") == 0);
    ru_teardown (&agent, &session, &runtime);
}

typedef struct {
    mcpact_agent_t *agent;
    char *text;
} s_long_call_t;

static void *
s_long_call (void *arg)
{
    s_long_call_t *call = (s_long_call_t *) arg;
    s_echo (call->agent, 1, 0);
    call->text = ru_call_text (call->agent, "sleep", "{\"ms\":4000}");
    return NULL;
}

TEST (another_thread_calls_during_a_call)
{
    //  One thread waits on the lane for a slow tool; another thread's call
    //  to the same server is not held behind it: the lane goes back to the
    //  actor with the slow call, which still gets its answer.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "lane", NULL);
    s_long_call_t call = { agent, NULL };
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, s_long_call, &call) == 0);
    //  (No status request meanwhile: it would take the lane back too.)
    ru_sleep_ms (500);
    int64_t start = ru_now_ms ();
    s_echo (agent, 0, 0);
    int64_t took = ru_now_ms () - start;
    CHECK_MSG (took < 2500, "the call waited %lld ms behind the slow one", (long long) took);
    pthread_join (thread, NULL);
    CHECK_MSG (call.text && strstr (call.text, "4000"), "%s", call.text ? call.text : "(none)");
    free (call.text);
    //  The slow call began on the lane
    CHECK (s_status_number (agent, "directCalls") >= 1);
    ru_teardown (&agent, &session, &runtime);
}

TEST (one_thread_calls_more_servers_than_it_stays_connected_to)
{
    //  A caller keeps at most 4 owners connected: calls in flight to 40
    //  servers at once all come back, and calling each in turn, again and
    //  again, reconnects as it needs.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    for (int index = 0; index < 40; index++) {
        char name[16], prefix[16];
        snprintf (name, sizeof name, "s%02d", index);
        snprintf (prefix, sizeof prefix, "s%02d_", index);
        mcpact_server_config_t *config = ru_fixture (name, "--prefix", prefix, NULL);
        CHECK (mcpact_session_add_server (session, &config) == 0);
    }
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller);
    for (int round = 0; round < 2; round++) {
        int64_t ids[40];
        for (int index = 0; index < 40; index++) {
            char tool[16], args[48];
            snprintf (tool, sizeof tool, "s%02d_echo", index);
            snprintf (args, sizeof args, "{\"message\":\"%d-%d\"}", round, index);
            ids[index] = mcpact_caller_send (caller, tool, args, 10000);
            CHECK_MSG (ids[index] > 0, "send to %s", tool);
        }
        for (int index = 0; index < 40; index++) {
            mcpact_result_t *result = mcpact_caller_next (caller, 20000);
            CHECK_MSG (result && mcpact_result_status (result) == MCPACT_OK, "%s",
                       result ? mcpact_result_error (result) : "no result");
            int64_t id = mcpact_result_id (result);
            CHECK (id >= ids[0] && id <= ids[39]);
            char expected[48];
            snprintf (expected, sizeof expected, "\"%d-%d\"", round, (int) (id - ids[0]));
            CHECK_MSG (strstr (mcpact_result_json (result), expected), "%s in %s", expected,
                       mcpact_result_json (result));
            mcpact_result_destroy (&result);
        }
    }
    mcpact_caller_destroy (&caller);
    for (int round = 0; round < 3; round++)
        for (int index = 0; index < 40; index++) {
            char tool[16], args[48], expected[32];
            snprintf (tool, sizeof tool, "s%02d_echo", index);
            snprintf (expected, sizeof expected, "%d.%d", round, index);
            snprintf (args, sizeof args, "{\"message\":\"%s\"}", expected);
            RU_CALL_IS (agent, tool, args, expected);
        }
    ru_teardown (&agent, &session, &runtime);
}

TEST (server_closes_its_stdin_between_calls)
{
    //  The server closes its stdin after two calls and stays alive: the
    //  third call's write on the lane fails with EPIPE, which must not
    //  raise SIGPIPE in the calling (host) thread, whose default would end
    //  the process. The call ends with an error at once, and the server,
    //  which can take no more requests, is restarted.
    signal (SIGPIPE, SIG_DFL);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent =
        ru_agent_on (&runtime, &session, "lane", "--close-stdin-after", "2", NULL);
    //  (add, not echo: the fixture answers echo on a path of its own)
    RU_CALL_IS (agent, "add", "{\"a\":1,\"b\":2}", "3");
    RU_CALL_IS (agent, "add", "{\"a\":2,\"b\":2}", "4");
    ru_watchdog_arm (30, "a call to a server that closed its stdin");
    int64_t start = ru_now_ms ();
    mcpact_result_t *result = mcpact_agent_call (agent, "add", "{\"a\":3,\"b\":2}", 20000);
    ru_watchdog_disarm ();
    CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_SERVER, "%s",
               mcpact_result_json (result));
    CHECK_CONTAINS (mcpact_result_error (result), "closed its stdin");
    mcpact_result_destroy (&result);
    //  Given up, not waited out: the call's 20 s were not spent
    CHECK (ru_now_ms () - start < 10000);
    CHECK (s_status_number (agent, "directCalls") >= 1);
    //  The server is restarted, and takes calls again
    bool back = false;
    for (int tries = 0; tries < 100 && !back; tries++) {
        result = mcpact_agent_call (agent, "add", "{\"a\":1,\"b\":1}", 5000);
        back = mcpact_result_status (result) == MCPACT_OK;
        mcpact_result_destroy (&result);
        if (!back)
            ru_sleep_ms (50);
    }
    CHECK (back);
    CHECK (s_status_number (agent, "restarts") == 1);
    ru_teardown (&agent, &session, &runtime);
}

TEST (server_closes_its_stdin_on_the_message_path)
{
    //  The same on the message path: the actor's write finds stdin closed,
    //  the call ends with an error and the server is restarted.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent =
        ru_agent_on (&runtime, &session, "lane", "--close-stdin-after", "1", NULL);
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    for (int round = 0; round < 2; round++) {
        CHECK (mcpact_caller_send (caller, "add", "{\"a\":1,\"b\":2}", 20000) > 0);
        ru_watchdog_arm (30, "a call to a server that closed its stdin");
        mcpact_result_t *result = mcpact_caller_next (caller, 25000);
        ru_watchdog_disarm ();
        CHECK (result);
        if (round == 0)
            CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s",
                       mcpact_result_json (result));
        else {
            CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_SERVER, "%s",
                       mcpact_result_json (result));
            CHECK_CONTAINS (mcpact_result_error (result), "closed its stdin");
        }
        mcpact_result_destroy (&result);
    }
    mcpact_caller_destroy (&caller);
    CHECK (s_status_number (agent, "directCalls") == 0);
    bool back = false;
    for (int tries = 0; tries < 100 && !back; tries++) {
        mcpact_result_t *result = mcpact_agent_call (agent, "add", "{\"a\":1,\"b\":1}", 5000);
        back = mcpact_result_status (result) == MCPACT_OK;
        mcpact_result_destroy (&result);
        if (!back)
            ru_sleep_ms (50);
    }
    CHECK (back);
    ru_teardown (&agent, &session, &runtime);
}
