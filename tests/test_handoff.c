/*  =========================================================================
    test_handoff - agents handed a conversation one after another

    A host that hands off creates a fresh agent (without servers of its own)
    on a live session, reads its tools and destroys it, again and again.
    Each new agent must see the session's tools as they are now, its own
    tool filter, and its own report of the tools the name policy rejected,
    whatever agent came before it; and agents without servers of their own
    cost the host no threads. Single-threaded host.
    =========================================================================
*/

#include "testutil.h"
#include "runtime_util.h"

//  The fixture's tools before its list changes (late_tool comes then).
#define FIXTURE_TOOL_COUNT 12

//  One hand-off: a new agent's tool names, comma-separated, and its start
//  report (ours to free); the agent is gone when it returns.
static char *
s_handoff (mcpact_session_t *session, mcpact_tool_filter_fn *filter, json_t **report)
{
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    if (filter)
        CHECK (mcpact_agent_set_tool_filter (agent, filter, NULL) == 0);
    json_t *started = ru_json_take (mcpact_agent_start (agent));
    if (report)
        *report = started;
    else
        json_decref (started);
    char *names = ru_tool_names (agent);
    mcpact_agent_destroy (&agent);
    return names;
}

TEST (next_agent_sees_tools_changed_since)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fixture", "--list-changed-after-ms", "300", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    char *before = s_handoff (session, NULL, NULL);
    CHECK (!strstr (before, "late_tool"));
    free (s_handoff (session, NULL, NULL));
    //  The server lists late_tool 300 ms after it started: a new agent
    //  made after that sees it.
    ru_watchdog_arm (30, "a new agent that sees late_tool");
    char *after = NULL;
    while (!after || !strstr (after, "late_tool")) {
        free (after);
        ru_sleep_ms (20);
        after = s_handoff (session, NULL, NULL);
    }
    ru_watchdog_disarm ();
    CHECK_CONTAINS (after, before);
    free (after);
    free (before);
    ru_teardown (NULL, &session, &runtime);
}

static bool
s_without_echo (const char *agent, const char *server, const char *tool_json, void *arg)
{
    return !strstr (tool_json, "\"name\":\"echo\"");
}

TEST (filter_holds_between_unfiltered_agents)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fixture", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    char *all = s_handoff (session, NULL, NULL);
    CHECK_CONTAINS (all, "echo,");
    char *filtered = s_handoff (session, s_without_echo, NULL);
    CHECK (!strstr (filtered, "echo,"));
    CHECK_CONTAINS (filtered, "add");
    char *again = s_handoff (session, NULL, NULL);
    CHECK_STR (again, all);
    free (again);
    free (filtered);
    free (all);
    ru_teardown (NULL, &session, &runtime);
}

TEST (every_agent_reports_rejected_tools)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("first", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = ru_fixture ("second", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    for (int round = 0; round < 3; round++) {
        json_t *report = NULL;
        free (s_handoff (session, NULL, &report));
        json_t *rejected = json_object_get (ru_report_server (report, "second"), "rejected");
        CHECK_MSG (json_array_size (rejected) == FIXTURE_TOOL_COUNT, "round %d: rejected: %zu",
                   round, json_array_size (rejected));
        CHECK (json_integer_value (
                   json_object_get (ru_report_server (report, "second"), "tools")) == 0);
        CHECK (json_array_size (json_object_get (ru_report_server (report, "first"), "rejected")) ==
               0);
        json_decref (report);
    }
    ru_teardown (NULL, &session, &runtime);
}

//  Threads of this process now (from /proc/self/status).
static int
s_threads (void)
{
    char line[256];
    int threads = -1;
    FILE *file = fopen ("/proc/self/status", "r");
    CHECK (file);
    while (fgets (line, sizeof line, file))
        if (sscanf (line, "Threads: %d", &threads) == 1)
            break;
    fclose (file);
    return threads;
}

TEST (agents_without_servers_start_no_thread)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fixture", NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    free (s_handoff (session, NULL, NULL));
    int before = s_threads ();
    enum { AGENTS = 20 };
    mcpact_agent_t *agents[AGENTS];
    for (int i = 0; i < AGENTS; i++) {
        agents[i] = mcpact_agent_new (session, NULL);
        CHECK (agents[i]);
        CHECK (mcpact_agent_tool_count (agents[i]) == FIXTURE_TOOL_COUNT);
    }
    int during = s_threads ();
    CHECK_MSG (during - before < AGENTS / 2, "%d threads with %d agents, %d before", during, AGENTS,
               before);
    RU_CALL_IS (agents[AGENTS - 1], "echo", "{\"message\":\"last\"}", "last");
    for (int i = 0; i < AGENTS; i++)
        mcpact_agent_destroy (&agents[i]);
    //  One with a server of its own gets the thread that owns it.
    mcpact_agent_t *agent = mcpact_agent_new (session, "own");
    config = ru_fixture ("own", "--prefix", "own_", NULL);
    CHECK (mcpact_agent_add_server (agent, &config) == 0);
    char *names = ru_tool_names (agent);
    CHECK_CONTAINS (names, "own_echo");
    free (names);
    ru_teardown (&agent, &session, &runtime);
}
