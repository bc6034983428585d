/*  =========================================================================
    test_peers - the C API against real, third-party MCP servers

    Runs the official server-everything and server-filesystem (installed
    under tests/peers by scripts/deps --test) through the public API, alone
    and together with the local fixture server on one session, and checks
    what a host would see: the tools listed, the results of calls, a tool
    error from the server, tool-name collisions and an allow-list. Without
    node or the peer packages the tests skip, or fail when
    MCPACT_REQUIRE_PEERS=1. Each test creates and removes its own temporary
    directory and stops every runtime it started.
    =========================================================================
*/

#include "mcpact.h"
#include "runtime_util.h"
#include "testutil.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEERS_DIR MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol"
#define EVERYTHING_JS PEERS_DIR "/server-everything/dist/index.js"
#define FILESYSTEM_JS PEERS_DIR "/server-filesystem/dist/index.js"
#define FIXTURE MCPACT_BUILD_DIR "/mcpact-fixture"

//  Node takes a while to start, more so on a loaded machine running the
//  suite in parallel under a sanitizer; the default 5 s is for production.
#define PEER_CONNECT_MS 30000
#define PEER_LIST_MS 30000

//  Where node is, found on PATH like the runtime will find it.
static char s_node[PATH_MAX];

//  Skips the test, or fails it under MCPACT_REQUIRE_PEERS=1, if node or a
//  peer package is missing.
static void
s_require_peers (void)
{
    snprintf (s_node, sizeof s_node, "%s", ru_require_peers (EVERYTHING_JS, FILESYSTEM_JS, NULL));
}

static mcpact_server_config_t *
s_node_server (const char *name, const char *script)
{
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, s_node);
    CHECK (config);
    CHECK (mcpact_server_config_add_arg (config, script) == 0);
    CHECK (mcpact_server_config_set_timeouts (config, PEER_CONNECT_MS, PEER_LIST_MS, 0) == 0);
    return config;
}

static mcpact_server_config_t *
s_everything (const char *name)
{
    mcpact_server_config_t *config = s_node_server (name, EVERYTHING_JS);
    CHECK (mcpact_server_config_add_arg (config, "stdio") == 0);
    return config;
}

static mcpact_server_config_t *
s_filesystem (const char *name, const char *dir)
{
    mcpact_server_config_t *config = s_node_server (name, FILESYSTEM_JS);
    CHECK (mcpact_server_config_add_arg (config, dir) == 0);
    return config;
}

static mcpact_server_config_t *
s_fixture (const char *name)
{
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, FIXTURE);
    CHECK (config);
    CHECK (mcpact_server_config_set_timeouts (config, PEER_CONNECT_MS, PEER_LIST_MS, 0) == 0);
    return config;
}

static void
s_add (mcpact_session_t *session, mcpact_server_config_t *config)
{
    CHECK (mcpact_session_add_server (session, &config) == 0);
    CHECK (config == NULL);
}

//  Starts the agent and checks that every server in the report is ready.
static void
s_start_all_ready (mcpact_agent_t *agent, size_t servers)
{
    char *text = mcpact_agent_start (agent);
    CHECK (text);
    json_error_t error;
    json_t *report = json_loads (text, 0, &error);
    CHECK_MSG (report, "start report is not JSON: %s: %s", error.text, text);
    json_t *list = json_object_get (report, "servers");
    CHECK_MSG (json_array_size (list) == servers, "expected %zu servers: %s", servers, text);
    size_t index;
    json_t *server;
    json_array_foreach (list, index, server) {
        const char *state = json_string_value (json_object_get (server, "state"));
        CHECK_MSG (state && strcmp (state, "ready") == 0, "server not ready: %s", text);
    }
    json_decref (report);
    free (text);
}

//  The agent's tools, parsed; the caller releases them.
static json_t *
s_tools (mcpact_agent_t *agent)
{
    char *text = mcpact_agent_tools (agent);
    CHECK (text);
    json_error_t error;
    json_t *tools = json_loads (text, 0, &error);
    CHECK_MSG (json_is_array (tools), "tools are not a JSON array: %s", text);
    free (text);
    return tools;
}

//  The tool named `name` in a tools array, or NULL.
static json_t *
s_tool (json_t *tools, const char *name)
{
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        const char *tool_name = json_string_value (json_object_get (tool, "name"));
        if (tool_name && strcmp (tool_name, name) == 0)
            return tool;
    }
    return NULL;
}

//  The server a listed tool comes from, per its "_mcpact" member.
static const char *
s_tool_server (json_t *tools, const char *name)
{
    json_t *tool = s_tool (tools, name);
    CHECK_MSG (tool, "no tool %s", name);
    return json_string_value (json_object_get (json_object_get (tool, "_mcpact"), "server"));
}

//  Calls a tool that must succeed; returns its text (the caller frees).
static char *
s_call_ok (mcpact_agent_t *agent, const char *tool, const char *args)
{
    mcpact_result_t *result = mcpact_agent_call (agent, tool, args, 0);
    CHECK (result);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s %s: %s: %s", tool, args,
               mcpact_status_name (mcpact_result_status (result)),
               mcpact_result_error (result) ? mcpact_result_error (result) : "(no reason)");
    CHECK (mcpact_result_text (result));
    char *text = strdup (mcpact_result_text (result));
    mcpact_result_destroy (&result);
    CHECK (result == NULL);
    return text;
}

//  A temporary directory holding one file; the path is the real one (with
//  symlinks resolved), as server-filesystem compares real paths.
typedef struct {
    char dir[PATH_MAX];       //  the directory
    char file[PATH_MAX + 16]; //  the file in it
} s_tmpdir_t;

//  Directories made by s_tmpdir_new and not removed yet, so that a test
//  that fails half-way still leaves nothing behind.
static s_tmpdir_t *s_tmpdirs[4];

static void
s_tmpdir_destroy (s_tmpdir_t *self)
{
    unlink (self->file);
    rmdir (self->dir);
    for (size_t i = 0; i < 4; i++)
        if (s_tmpdirs[i] == self)
            s_tmpdirs[i] = NULL;
}

static void
s_tmpdirs_remove (void)
{
    for (size_t i = 0; i < 4; i++)
        if (s_tmpdirs[i])
            s_tmpdir_destroy (s_tmpdirs[i]);
}

static void
s_tmpdir_new (s_tmpdir_t *self, const char *contents)
{
    static bool registered;
    if (!registered)
        atexit (s_tmpdirs_remove);
    registered = true;
    size_t slot = 0;
    while (slot < 4 && s_tmpdirs[slot])
        slot++;
    CHECK (slot < 4);
    char template[] = "/tmp/mcpact-peers-XXXXXX";
    CHECK (mkdtemp (template));
    CHECK (realpath (template, self->dir));
    snprintf (self->file, sizeof self->file, "%s/note.txt", self->dir);
    s_tmpdirs[slot] = self;
    FILE *file = fopen (self->file, "w");
    CHECK (file);
    fputs (contents, file);
    CHECK (fclose (file) == 0);
}

TEST (everything_stdio)
{
    s_require_peers ();
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, s_everything ("everything"));
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    s_start_all_ready (agent, 1);

    json_t *tools = s_tools (agent);
    CHECK (s_tool (tools, "echo"));
    CHECK (s_tool (tools, "get-sum"));
    CHECK_STR (s_tool_server (tools, "echo"), "everything");
    json_decref (tools);

    char *text = s_call_ok (agent, "echo", "{\"message\":\"hello\"}");
    CHECK_CONTAINS (text, "Echo: hello");
    free (text);
    text = s_call_ok (agent, "get-sum", "{\"a\":2,\"b\":3}");
    CHECK_CONTAINS (text, "5");
    free (text);

    mcpact_agent_destroy (&agent);
    CHECK (agent == NULL);
    ru_teardown (NULL, &session, &runtime);
    CHECK (runtime == NULL);
}

TEST (filesystem_read_and_access_denied)
{
    s_require_peers ();
    s_tmpdir_t inside, outside;
    s_tmpdir_new (&inside, "the quick brown fox\n");
    s_tmpdir_new (&outside, "not for you\n");

    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, s_filesystem ("files", inside.dir));
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    s_start_all_ready (agent, 1);

    json_t *tools = s_tools (agent);
    CHECK (s_tool (tools, "read_text_file"));
    CHECK (s_tool (tools, "list_allowed_directories"));
    json_decref (tools);

    char args[PATH_MAX + 32];
    snprintf (args, sizeof args, "{\"path\":\"%s\"}", inside.file);
    char *text = s_call_ok (agent, "read_text_file", args);
    CHECK_CONTAINS (text, "the quick brown fox");
    free (text);

    //  A file outside the allowed directory: the server refuses, and that
    //  comes back as a tool error carrying the server's own words.
    snprintf (args, sizeof args, "{\"path\":\"%s\"}", outside.file);
    mcpact_result_t *result = mcpact_agent_call (agent, "read_text_file", args, 0);
    CHECK (result);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_TOOL, "status %s: %s",
               mcpact_status_name (mcpact_result_status (result)), mcpact_result_json (result));
    CHECK_CONTAINS (mcpact_result_text (result), "Access denied");
    CHECK (strstr (mcpact_result_text (result), "not for you") == NULL);
    CHECK_CONTAINS (mcpact_result_json (result), "\"isError\":true");
    mcpact_result_destroy (&result);

    ru_teardown (&agent, &session, &runtime);
    s_tmpdir_destroy (&inside);
    s_tmpdir_destroy (&outside);
}

TEST (mixed_servers_one_session)
{
    s_require_peers ();
    s_tmpdir_t tmp;
    s_tmpdir_new (&tmp, "mixed\n");

    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_name_policy (session, MCPACT_NAMES_PREFIX_ON_CONFLICT) == 0);
    //  server-everything and the fixture both have `echo`: the one declared
    //  first keeps the name, the other is exposed as fixture_echo.
    s_add (session, s_everything ("everything"));
    s_add (session, s_filesystem ("files", tmp.dir));
    s_add (session, s_fixture ("fixture"));
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    s_start_all_ready (agent, 3);

    json_t *tools = s_tools (agent);
    CHECK_STR (s_tool_server (tools, "echo"), "everything");
    CHECK_STR (s_tool_server (tools, "get-sum"), "everything");
    CHECK_STR (s_tool_server (tools, "read_text_file"), "files");
    CHECK_STR (s_tool_server (tools, "list_allowed_directories"), "files");
    CHECK_STR (s_tool_server (tools, "fixture_echo"), "fixture");
    CHECK_STR (json_string_value (json_object_get (
                   json_object_get (s_tool (tools, "fixture_echo"), "_mcpact"), "tool")),
               "echo");
    //  Only the colliding tool is prefixed
    CHECK_STR (s_tool_server (tools, "add"), "fixture");
    CHECK (s_tool (tools, "fixture_add") == NULL);
    CHECK (s_tool (tools, "everything_echo") == NULL);
    CHECK (mcpact_agent_tool_count (agent) == json_array_size (tools));
    json_decref (tools);

    char *text = s_call_ok (agent, "echo", "{\"message\":\"from everything\"}");
    CHECK_CONTAINS (text, "Echo: from everything");
    free (text);
    text = s_call_ok (agent, "fixture_echo", "{\"message\":\"from fixture\"}");
    CHECK_CONTAINS (text, "from fixture");
    CHECK (strstr (text, "Echo:") == NULL);
    free (text);
    text = s_call_ok (agent, "list_allowed_directories", NULL);
    CHECK_CONTAINS (text, tmp.dir);
    free (text);
    text = s_call_ok (agent, "add", "{\"a\":40,\"b\":2}");
    CHECK_CONTAINS (text, "42");
    free (text);

    ru_teardown (&agent, &session, &runtime);
    s_tmpdir_destroy (&tmp);
}

TEST (filesystem_allow_list)
{
    s_require_peers ();
    s_tmpdir_t tmp;
    s_tmpdir_new (&tmp, "secret\n");

    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_filesystem ("files", tmp.dir);
    CHECK (mcpact_server_config_allow_tool (config, "list_allowed_directories") == 0);
    s_add (session, config);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    s_start_all_ready (agent, 1);

    json_t *tools = s_tools (agent);
    CHECK_MSG (json_array_size (tools) == 1, "expected one tool, got %zu", json_array_size (tools));
    CHECK (s_tool (tools, "list_allowed_directories"));
    json_decref (tools);
    CHECK (mcpact_agent_tool_count (agent) == 1);

    char *text = s_call_ok (agent, "list_allowed_directories", "{}");
    CHECK_CONTAINS (text, tmp.dir);
    free (text);

    //  A tool left off the list cannot be called either
    char args[PATH_MAX + 32];
    snprintf (args, sizeof args, "{\"path\":\"%s\"}", tmp.file);
    mcpact_result_t *result = mcpact_agent_call (agent, "read_text_file", args, 0);
    CHECK (result);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL, "status %s: %s",
               mcpact_status_name (mcpact_result_status (result)), mcpact_result_json (result));
    CHECK (strstr (mcpact_result_json (result), "secret") == NULL);
    mcpact_result_destroy (&result);

    ru_teardown (&agent, &session, &runtime);
    s_tmpdir_destroy (&tmp);
}
