/*  =========================================================================
    test_wire - what real servers put on the wire, end to end

    JSON that is valid but unusual (lone UTF-16 surrogates cut out of an
    emoji, U+0000, bytes that are not UTF-8, numbers beyond 64 bits or a
    double), ids in the forms servers echo them, JSON-RPC batches on
    stdio, tools that cannot be used, and what the log quotes of it all.
    The fixture server's --reply writes each answer byte for byte.
    =========================================================================
*/

#include "runtime_util.h"

#include <pthread.h>

#define INIT_RESULT                                                                                \
    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{}},"                         \
    "\"serverInfo\":{\"name\":\"raw\",\"version\":\"1\"}}"

//  The "text" of the one text item of a result that must have succeeded.
static char *
s_result_text (mcpact_agent_t *agent, const char *tool)
{
    mcpact_result_t *result = mcpact_agent_call (agent, tool, "{\"message\":\"m\"}", 10000);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s: %s", tool,
               mcpact_result_error (result));
    //  The JSON handed to the host is read by a strict reader.
    json_t *json = ru_json (mcpact_result_json (result));
    json_t *item = json_array_get (json_object_get (json, "content"), 0);
    CHECK_MSG (ru_str (item, "text"), "no text item in %s", mcpact_result_json (result));
    char *text = strdup (ru_str (item, "text"));
    json_decref (json);
    item = ru_json (mcpact_result_text (result));
    CHECK_STR (ru_str (item, "text"), text);
    json_decref (item);
    mcpact_result_destroy (&result);
    return text;
}

//  A tools/call answer carrying `content_text` (raw JSON string contents).
#define CALL_ANSWER(content_text)                                                                  \
    "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"        \
    "\"" content_text "\"}]}}"

TEST (lone_surrogate_in_result)
{
    //  JSON.stringify of a JavaScript string cut in the middle of an emoji
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "raw", "--reply", "tools/call",
                                         CALL_ANSWER ("Party \\ud83c time \\udc89!"), NULL);
    char *text = s_result_text (agent, "echo");
    CHECK_STR (text, "Party \xef\xbf\xbd time \xef\xbf\xbd!");
    free (text);
    //  Every provider gets the text, not null
    static const mcpact_format_t formats[] = { MCPACT_FORMAT_OPENAI, MCPACT_FORMAT_OPENAI_RESPONSES,
                                               MCPACT_FORMAT_ANTHROPIC, MCPACT_FORMAT_GEMINI };
    static const char *calls[] = {
        "{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"echo\",\"arguments\":"
        "\"{\\\"message\\\":\\\"m\\\"}\"}}",
        "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"echo\",\"arguments\":"
        "\"{\\\"message\\\":\\\"m\\\"}\"}",
        "{\"type\":\"tool_use\",\"id\":\"c1\",\"name\":\"echo\",\"input\":{\"message\":\"m\"}}",
        "{\"functionCall\":{\"name\":\"echo\",\"args\":{\"message\":\"m\"}}}"
    };
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        char *message = mcpact_agent_call_as (agent, formats[i], calls[i], 10000);
        CHECK_MSG (strstr (message, "Party \xef\xbf\xbd time") && !strstr (message, "Error"),
                   "%s: %s", mcpact_format_name (formats[i]), message);
        json_decref (ru_json (message));
        free (message);
    }
    ru_teardown (&agent, &session, &runtime);
}

TEST (nul_and_invalid_utf8_in_result)
{
    //  U+0000; a stray continuation byte; a lead byte cut short; an
    //  overlong '/'; a surrogate in UTF-8; a byte that is never UTF-8; and
    //  valid 2-, 3- and 4-byte characters, which stay.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "raw", "--reply", "tools/call",
        CALL_ANSWER (
            "a\\u0000b \x80 \xc3 \xc0\xaf \xed\xa0\x80 \xff \xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\x89"),
        NULL);
    char *text = s_result_text (agent, "echo");
    CHECK_STR (text, "a\xef\xbf\xbd"
                     "b \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd"
                     "\xef\xbf\xbd \xef\xbf\xbd \xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\x89");
    free (text);
    ru_teardown (&agent, &session, &runtime);
}

TEST (numbers_beyond_64_bits_and_doubles)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "raw", "--reply", "tools/call",
        "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
        "\"n\"}],\"structuredContent\":{\"big\":123456789012345678901234567890,\"huge\":1e400,"
        "\"low\":-1e400,\"tiny\":1e-400,\"max\":9223372036854775807,\"min\":-9223372036854775808,"
        "\"over\":9223372036854775808,\"precise\":0.10000000000000000000000000001}}}",
        NULL);
    mcpact_result_t *result = mcpact_agent_call (agent, "echo", "{\"message\":\"m\"}", 10000);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    json_t *json = ru_json (mcpact_result_json (result));
    json_t *numbers = json_object_get (json, "structuredContent");
    CHECK (json_real_value (json_object_get (numbers, "big")) == 123456789012345678901234567890.0);
    CHECK (json_real_value (json_object_get (numbers, "huge")) == 1.7976931348623157e308);
    CHECK (json_real_value (json_object_get (numbers, "low")) == -1.7976931348623157e308);
    CHECK (json_is_real (json_object_get (numbers, "tiny")));
    CHECK (json_integer_value (json_object_get (numbers, "max")) == INT64_MAX);
    CHECK (json_integer_value (json_object_get (numbers, "min")) == INT64_MIN);
    CHECK (json_real_value (json_object_get (numbers, "over")) == 9223372036854775808.0);
    CHECK (json_real_value (json_object_get (numbers, "precise")) == 0.1);
    json_decref (json);
    //  "n" is what the host reads
    CHECK (strstr (mcpact_result_text (result), "\"n\"") != NULL);
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

TEST (odd_text_in_tool_descriptions)
{
    //  One description with a lone surrogate, one with U+0000, one with a
    //  byte that is not UTF-8: the server and all its tools stay.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "raw", "--reply", "tools/list",
        "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"tools\":["
        "{\"name\":\"echo\",\"description\":\"Snapshot \\ud83c\",\"inputSchema\":{\"type\":"
        "\"object\"}},"
        "{\"name\":\"add\",\"description\":\"nul \\u0000 here\",\"inputSchema\":{\"type\":"
        "\"object\"}},"
        "{\"name\":\"pid\",\"description\":\"latin1 caf\xe9\",\"inputSchema\":{\"type\":"
        "\"object\"}}]}}",
        NULL);
    char *names = ru_tool_names (agent);
    CHECK_STR (names, "echo,add,pid");
    free (names);
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK_STR (ru_str (ru_named (tools, "echo"), "description"), "Snapshot \xef\xbf\xbd");
    CHECK_STR (ru_str (ru_named (tools, "add"), "description"), "nul \xef\xbf\xbd here");
    CHECK_STR (ru_str (ru_named (tools, "pid"), "description"), "latin1 caf\xef\xbf\xbd");
    json_decref (tools);
    ru_teardown (&agent, &session, &runtime);
}

//  A log sink that keeps the warnings, for what they quote.
static pthread_mutex_t s_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char s_log[16384];

static void
s_keep_log (mcpact_log_level_t level, const char *message, void *arg)
{
    pthread_mutex_lock (&s_log_lock);
    if (level <= MCPACT_LOG_WARN && strlen (s_log) + strlen (message) + 2 < sizeof s_log) {
        strcat (s_log, message);
        strcat (s_log, "\n");
    }
    pthread_mutex_unlock (&s_log_lock);
}

static bool
s_logged (const char *text)
{
    pthread_mutex_lock (&s_log_lock);
    bool found = strstr (s_log, text) != NULL;
    pthread_mutex_unlock (&s_log_lock);
    return found;
}

TEST (unusable_tools_skipped_alone)
{
    mcpact_set_log (s_keep_log, NULL, MCPACT_LOG_WARN);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "raw", "--reply", "tools/list",
        "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"tools\":["
        "{\"description\":\"no name\"},42,"
        "{\"name\":\"broken\",\"inputSchema\":\"object\"},{\"name\":7},"
        "{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\",\"properties\":{\"message\":"
        "{\"type\":\"string\"}}}}]}}",
        NULL);
    char *names = ru_tool_names (agent);
    CHECK_STR (names, "echo");
    free (names);
    RU_CALL_IS (agent, "echo", "{\"message\":\"still here\"}", "still here");
    CHECK (s_logged ("skipped tool broken: its inputSchema is a string, not an object"));
    CHECK (s_logged ("skipped tool 0 of the page: it has no name"));
    CHECK (s_logged ("skipped tool 1 of the page: it is not an object, but a number"));
    CHECK (s_logged ("skipped tool 3 of the page: its name is not a string"));
    ru_teardown (&agent, &session, &runtime);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
}

TEST (string_form_of_our_id)
{
    //  Both official SDK clients take "1" as the answer to request 1.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "raw", "--reply", "initialize",
        "{\"jsonrpc\":\"2.0\",\"id\":\"$ID\",\"result\":" INIT_RESULT "}", "--reply", "tools/call",
        "{\"jsonrpc\":\"2.0\",\"id\":\"$ID\",\"result\":{\"content\":"
        "[{\"type\":\"text\",\"text\":\"by string id\"}]}}",
        NULL);
    char *text = s_result_text (agent, "echo");
    CHECK_STR (text, "by string id");
    free (text);
    ru_teardown (&agent, &session, &runtime);
}

TEST (ids_matched_exactly)
{
    //  Answers with ids that only look like ours come first: 2^64 + ours
    //  (which wraps onto ours in 64 bits), a leading zero, a fraction, a
    //  sign. Only the exact answer may be taken.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "raw", "--reply", "tools/call",
        "{\"jsonrpc\":\"2.0\",\"id\":$ID64,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
        "\"hijacked by 2^64\"}]}}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":\"0$ID\",\"result\":{\"content\":[{\"type\":\"text\","
        "\"text\":\"hijacked by a leading zero\"}]}}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":$ID.0,\"result\":{\"content\":[{\"type\":\"text\","
        "\"text\":\"hijacked by a fraction\"}]}}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":-$ID,\"result\":{\"content\":[{\"type\":\"text\","
        "\"text\":\"hijacked by a sign\"}]}}\n" CALL_ANSWER ("right"),
        NULL);
    for (int round = 0; round < 3; round++) {
        char *text = s_result_text (agent, "echo");
        CHECK_STR (text, "right");
        free (text);
    }
    ru_teardown (&agent, &session, &runtime);
}

TEST (batch_on_stdio)
{
    //  A batch (JSON array) answers initialize; another holds a
    //  notification and the answer to a call, in one line.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "raw", "--reply", "initialize",
        "[{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":" INIT_RESULT "}]", "--reply", "tools/call",
        " [ {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":"
        "\"info\",\"data\":\"x\"}} , " CALL_ANSWER ("from a batch") " ] ",
        NULL);
    char *text = s_result_text (agent, "echo");
    CHECK_STR (text, "from a batch");
    free (text);
    ru_teardown (&agent, &session, &runtime);
}

TEST (log_quotes_end_at_the_line)
{
    //  A non-JSON line arrives in the same read as the JSON after it: the
    //  warning quotes that line and nothing of the next one; control
    //  characters a server prints never reach the log as they are.
    mcpact_set_log (s_keep_log, NULL, MCPACT_LOG_WARN);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent =
        ru_agent_on (&runtime, &session, "raw", "--reply", "initialize",
                     "NOISE-1 \x1b[31mstarting\x1b[0m up\n"
                     "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":" INIT_RESULT "}",
                     NULL);
    char *names = ru_tool_names (agent);
    CHECK (strstr (names, "echo") != NULL);
    free (names);
    CHECK_MSG (s_logged ("not JSON-RPC: NOISE-1 ?[31mstarting?[0m up (further ones"), "log: %s",
               s_log);
    CHECK (!s_logged ("protocolVersion"));
    ru_teardown (&agent, &session, &runtime);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
}

TEST (no_content_only_when_none_came)
{
    //  An empty array and a missing "content" are no content; a "content"
    //  that is something else is not readable, which is another thing.
    struct {
        const char *result;
        mcpact_status_t status;
        const char *error;
    } cases[] = {
        { "{\"content\":[]}", MCPACT_ERR_TOOL, "the tool returned no content" },
        { "{\"content\":[ \t ]}", MCPACT_ERR_TOOL, "the tool returned no content" },
        { "{\"isError\":false}", MCPACT_ERR_TOOL, "the tool returned no content" },
        { "{\"content\":null}", MCPACT_ERR_PROTOCOL, "\"content\" that is not an array" },
        { "{\"content\":\"text\"}", MCPACT_ERR_PROTOCOL, "\"content\" that is not an array" },
        { "{\"content\":[{\"type\":\"text\",\"text\":\"\"}]}", MCPACT_OK, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char answer[256];
        snprintf (answer, sizeof answer, "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":%s}",
                  cases[i].result);
        mcpact_runtime_t *runtime;
        mcpact_session_t *session;
        mcpact_agent_t *agent =
            ru_agent_on (&runtime, &session, "raw", "--reply", "tools/call", answer, NULL);
        mcpact_result_t *result = mcpact_agent_call (agent, "echo", "{\"message\":\"m\"}", 10000);
        CHECK_MSG (mcpact_result_status (result) == cases[i].status, "%s: %s", cases[i].result,
                   mcpact_status_name (mcpact_result_status (result)));
        CHECK_MSG (!cases[i].error || strstr (mcpact_result_error (result), cases[i].error),
                   "%s: %s", cases[i].result, mcpact_result_error (result));
        mcpact_result_destroy (&result);
        ru_teardown (&agent, &session, &runtime);
    }
}

TEST (slow_start_within_the_default_timeout)
{
    //  A cold `npx -y` start takes seconds before the server says
    //  anything; the defaults wait for it.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent =
        ru_agent_on (&runtime, &session, "raw", "--init-delay-ms", "6000", NULL);
    RU_CALL_IS (agent, "echo", "{\"message\":\"came up\"}", "came up");
    ru_teardown (&agent, &session, &runtime);
}

TEST (timeouts_name_their_setting)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *mute = ru_fixture ("mute", "--no-answer", NULL);
    CHECK (mcpact_server_config_set_timeouts (mute, 200, 0, 0) == 0);
    CHECK (mcpact_session_add_server (session, &mute) == 0);
    mcpact_server_config_t *slow = ru_fixture ("slow", "--prefix", "s_", NULL);
    CHECK (mcpact_server_config_set_timeouts (slow, 0, 0, 200) == 0);
    CHECK (mcpact_session_add_server (session, &slow) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    const char *error = ru_str (ru_report_server (report, "mute"), "error");
    CHECK_MSG (error && strstr (error, "within 200 ms") && strstr (error, "{\"connect\": ms}"),
               "%s", error);
    json_decref (report);
    mcpact_result_t *result =
        ru_call_fails (agent, "s_sleep", "{\"ms\":2000}", 0, MCPACT_ERR_TIMEOUT);
    CHECK_MSG (strstr (mcpact_result_error (result), "{\"call\": ms}"), "%s",
               mcpact_result_error (result));
    mcpact_result_destroy (&result);
    result = ru_call_fails (agent, "s_sleep", "{\"ms\":2000}", 100, MCPACT_ERR_TIMEOUT);
    CHECK_MSG (strstr (mcpact_result_error (result), "the call's own timeout"), "%s",
               mcpact_result_error (result));
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

TEST (oversized_answer_fails_its_call)
{
    //  An answer over the 64 MiB limit is dropped; the call it answered
    //  ends at once with an error saying so, whether the server writes the
    //  id before the result (Python SDK) or after it (TypeScript SDK).
    const char *answers[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
        "\"$PAD\"}]}}",
        "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"$PAD\"}]},\"jsonrpc\":\"2.0\","
        "\"id\":$ID}",
    };
    for (size_t i = 0; i < 2; i++) {
        mcpact_runtime_t *runtime;
        mcpact_session_t *session;
        mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "raw", "--pad", "67108900",
                                             "--reply", "tools/call", answers[i], NULL);
        ru_watchdog_arm (50, "the answer to an oversized call");
        mcpact_result_t *result = mcpact_agent_call (agent, "echo", "{\"message\":\"m\"}", 60000);
        ru_watchdog_disarm ();
        CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_PROTOCOL, "%s: %s",
                   mcpact_status_name (mcpact_result_status (result)),
                   mcpact_result_error (result));
        CHECK_CONTAINS (mcpact_result_error (result), "is larger than the limit of 67108864 bytes");
        mcpact_result_destroy (&result);
        ru_teardown (&agent, &session, &runtime);
    }
}

//  Resident memory of this process, in MiB.
static long
s_rss_mb (void)
{
    FILE *file = fopen ("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kb = atol (line + 6);
    if (file)
        fclose (file);
    return kb / 1024;
}

TEST (server_that_stops_reading_is_bounded)
{
    //  After tools/list the server reads nothing more but stays alive:
    //  100 calls of 1 MB each. What waits for it stays under the limit,
    //  the rest are refused at once with the reason, and the status says
    //  how much waits and for how long nothing was taken.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *stuck = ru_fixture ("stuck", "--stop-reading", NULL);
    CHECK (mcpact_server_config_set_limits (stuck, 0, 4 * 1024 * 1024) == 0);
    CHECK (mcpact_session_add_server (session, &stuck) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));
    char *args = ru_big_args (1024 * 1024);
    long before = s_rss_mb (), peak = before;
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    int refused = 0;
    for (int i = 0; i < 100; i++) {
        mcpact_caller_send (caller, "echo", args, 60000);
        for (mcpact_result_t *result = mcpact_caller_next (caller, 5); result;
             result = mcpact_caller_next (caller, 0)) {
            CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_BUSY, "%s",
                       mcpact_result_error (result));
            CHECK_CONTAINS (mcpact_result_error (result), "\"queuedBytes\"");
            refused++;
            mcpact_result_destroy (&result);
        }
        long now = s_rss_mb ();
        peak = now > peak ? now : peak;
    }
    //  The rest of the refusals, if any are on their way
    ru_watchdog_arm (30, "the refusals");
    while (mcpact_caller_pending (caller) > 5) {
        mcpact_result_t *result = mcpact_caller_next (caller, 100);
        if (result) {
            CHECK (mcpact_result_status (result) == MCPACT_ERR_BUSY);
            refused++;
            mcpact_result_destroy (&result);
        }
    }
    ru_watchdog_disarm ();
    CHECK_MSG (refused >= 90, "only %d of 100 refused", refused);
    //  (A sanitizer's allocator keeps what is freed for a while: the
    //  bound on what waits is checked through the status alone then.)
    CHECK_MSG (getenv ("MCPACT_TEST_SANITIZER") || peak - before < 64, "memory grew by %ld MiB",
               peak - before);
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *server = ru_named (status, "stuck");
    CHECK (json_integer_value (json_object_get (server, "queuedBytes")) > 2 * 1024 * 1024);
    CHECK (json_integer_value (json_object_get (server, "queuedBytes")) <= 4 * 1024 * 1024);
    CHECK (json_integer_value (json_object_get (server, "refused")) == refused);
    CHECK (json_integer_value (json_object_get (server, "stalledMs")) > 0);
    json_decref (status);
    mcpact_caller_destroy (&caller);
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

TEST (calls_in_flight_bounded)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *slow = ru_fixture ("slow", NULL);
    CHECK (mcpact_server_config_set_limits (slow, 3, 0) == 0);
    CHECK (mcpact_session_add_server (session, &slow) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));
    int busy;
    int ok =
        ru_calls_past_limits (agent, "sleep", "{\"ms\":1000}", 5, "3 calls are in flight", &busy);
    CHECK (ok == 3 && busy == 2);
    //  Room again once they are answered
    RU_CALL_IS (agent, "echo", "{\"message\":\"room\"}", "room");
    ru_teardown (&agent, &session, &runtime);
}

TEST (server_bytes_outside_json_are_text)
{
    //  What a server writes to stderr (shown in its status) may be
    //  anything: the status stays JSON, with U+FFFD for what is not UTF-8.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "raw", "--stderr",
                                         "caf\xe9 \xff\xfe ok \xe2\x82\xac\n", NULL);
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    const char *tail = ru_str (ru_named (status, "raw"), "stderr");
    CHECK_MSG (tail && strstr (tail, "caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd ok \xe2\x82\xac"),
               "stderr: %s", tail ? tail : "(none)");
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
}

//  `depth` arrays, one inside the other (malloc'ed).
static char *
s_nested (int depth)
{
    char *text = malloc ((size_t) depth * 2 + 1);
    memset (text, '[', (size_t) depth);
    memset (text + depth, ']', (size_t) depth);
    text[2 * depth] = 0;
    return text;
}

TEST (deep_nesting_read)
{
    //  1000 levels in a result and in a tool's schema: read (the scanner
    //  goes 1024 deep), and the server keeps its tools.
    char *deep = s_nested (1000);
    char *call = NULL, *list = NULL;
    CHECK (asprintf (&call,
                     "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"content\":[{\"type\":\"text\","
                     "\"text\":\"deep\"}],\"structuredContent\":{\"x\":%s}}}",
                     deep) > 0);
    CHECK (asprintf (&list,
                     "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"tools\":[{\"name\":\"echo\","
                     "\"inputSchema\":{\"type\":\"object\",\"default\":%s}},{\"name\":\"add\","
                     "\"inputSchema\":{\"type\":\"object\"}}]}}",
                     deep) > 0);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "raw", "--reply", "tools/call", call,
                                         "--reply", "tools/list", list, NULL);
    char *names = ru_tool_names (agent);
    CHECK_STR (names, "echo,add");
    free (names);
    char *text = s_result_text (agent, "echo");
    CHECK_STR (text, "deep");
    free (text);
    ru_teardown (&agent, &session, &runtime);
    free (call);
    free (list);
    free (deep);
}

TEST (unreadable_answer_fails_its_call_at_once)
{
    //  An answer nested deeper than any reader goes, and one that is not
    //  valid JSON at all: the call fails now with the reason, whether the
    //  id comes first or last, instead of waiting out its timeout.
    char *deep = s_nested (3000);
    char *answers[3] = { NULL, NULL, NULL };
    CHECK (asprintf (&answers[0],
                     "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"structuredContent\":%s}}",
                     deep) > 0);
    CHECK (asprintf (&answers[1],
                     "{\"result\":{\"structuredContent\":%s},\"jsonrpc\":\"2.0\",\"id\":$ID}",
                     deep) > 0);
    answers[2] = strdup ("{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"content\":[{\"type\":}");
    for (int i = 0; i < 3; i++) {
        mcpact_runtime_t *runtime;
        mcpact_session_t *session;
        mcpact_agent_t *agent =
            ru_agent_on (&runtime, &session, "raw", "--reply", "tools/call", answers[i], NULL);
        ru_watchdog_arm (20, "the answer to a call with an unreadable answer");
        mcpact_result_t *result =
            ru_call_fails (agent, "echo", "{\"message\":\"m\"}", 60000, MCPACT_ERR_PROTOCOL);
        ru_watchdog_disarm ();
        CHECK_CONTAINS (mcpact_result_error (result), "could not be read");
        mcpact_result_destroy (&result);
        ru_teardown (&agent, &session, &runtime);
        free (answers[i]);
    }
    free (deep);
}

TEST (pagination_ends_as_sdks_end_it)
{
    //  An empty nextCursor ends the listing (as it does for the official
    //  SDK clients); one that is not a string ends it with a warning.
    const char *lists[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"tools\":[{\"name\":\"echo\"}],"
        "\"nextCursor\":\"\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"tools\":[{\"name\":\"echo\"}],"
        "\"nextCursor\":2}}",
    };
    mcpact_set_log (s_keep_log, NULL, MCPACT_LOG_WARN);
    for (int i = 0; i < 2; i++) {
        mcpact_runtime_t *runtime;
        mcpact_session_t *session;
        mcpact_agent_t *agent =
            ru_agent_on (&runtime, &session, "raw", "--reply", "tools/list", lists[i], NULL);
        char *names = ru_tool_names (agent);
        CHECK_STR (names, "echo");
        free (names);
        ru_teardown (&agent, &session, &runtime);
    }
    CHECK (s_logged ("nextCursor is a number, not a string; the listing ends at this page"));
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
}

TEST (server_requests_answered_with_their_own_id)
{
    //  The server's requests are answered with the id as it was written:
    //  1e2 stays 1e2, -0 stays -0, so the server finds its own.
    char log[64];
    snprintf (log, sizeof log, "/tmp/mcpact-wire-input-%ld", (long) getpid ());
    unlink (log);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = ru_agent_on (
        &runtime, &session, "raw", "--input-log", log, "--reply", "tools/call",
        "{\"jsonrpc\":\"2.0\",\"id\":1e2,\"method\":\"ping\"}\n"
        "{\"jsonrpc\":\"2.0\",\"id\":-0,\"method\":\"roots/list\"}\n" CALL_ANSWER ("pinged"),
        NULL);
    char *text = s_result_text (agent, "echo");
    CHECK_STR (text, "pinged");
    free (text);
    //  The answers were written before the call's answer was read
    ru_teardown (&agent, &session, &runtime);
    FILE *file = fopen (log, "r");
    CHECK (file);
    char lines[4096] = "";
    size_t size = fread (lines, 1, sizeof lines - 1, file);
    lines[size] = 0;
    fclose (file);
    unlink (log);
    CHECK_MSG (strstr (lines, "{\"jsonrpc\":\"2.0\",\"id\":1e2,\"result\":{}}"), "%s", lines);
    CHECK_MSG (strstr (lines, "{\"jsonrpc\":\"2.0\",\"id\":-0,\"error\":{"), "%s", lines);
}

static void
s_count_progress (int64_t id, double progress, double total, const char *message, void *arg)
{
    (*(int *) arg)++;
}

TEST (progress_token_in_string_form)
{
    //  The token is our request id; servers may echo it as a string.
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent =
        ru_agent_on (&runtime, &session, "raw", "--reply", "tools/call",
                     "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{"
                     "\"progressToken\":\"$ID\",\"progress\":1,\"total\":2}}\n"
                     "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{"
                     "\"progressToken\":$ID,\"progress\":2,\"total\":2}}\n" CALL_ANSWER ("done"),
                     NULL);
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    int updates = 0;
    mcpact_caller_set_progress (caller, s_count_progress, &updates);
    CHECK (mcpact_caller_send (caller, "echo", "{\"message\":\"m\"}", 10000) > 0);
    mcpact_result_t *result = mcpact_caller_next (caller, 10000);
    CHECK (result && mcpact_result_status (result) == MCPACT_OK);
    mcpact_result_destroy (&result);
    CHECK_MSG (updates == 2, "%d progress updates", updates);
    mcpact_caller_destroy (&caller);
    ru_teardown (&agent, &session, &runtime);
}

TEST (allow_list_naming_missing_tools_warns)
{
    //  A typo, or a tool the server renamed: said, not served in silence.
    mcpact_set_log (s_keep_log, NULL, MCPACT_LOG_WARN);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("files", NULL);
    CHECK (mcpact_server_config_allow_tool (config, "echo") == 0);
    CHECK (mcpact_server_config_allow_tool (config, "read_file") == 0);
    CHECK (mcpact_server_config_allow_tool (config, "ech0") == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));
    CHECK (mcpact_agent_tool_count (agent) == 1);
    CHECK_MSG (s_logged ("server files: allowedTools names tools the server does not list: "
                         "read_file, ech0"),
               "%s", s_log);
    ru_teardown (&agent, &session, &runtime);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
}
