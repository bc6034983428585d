/*  =========================================================================
    test_cli - the mcpact command-line tool, run as a user runs it

    Each test runs the built `mcpact` binary in a child process with its
    stdout and stderr captured, and checks what the user sees: the tables
    and JSON it prints, the messages on stderr and the exit status. Servers
    come from the built-in default, from configuration files written to
    temporary files, or from the files in examples/. Tests needing the npm
    peers (tests/peers) skip without them, or fail when
    MCPACT_REQUIRE_PEERS=1. The test process makes itself a subreaper so
    that a server the CLI leaves running is caught (and a hung CLI is
    killed with its servers). The tests at the end learn where the
    servers' processes are from files the fixture writes, and kill by pid
    at exit whatever is still there; the signal tests among them run
    mcpact in the background and signal it. Every temporary file and
    directory is removed and every child reaped.
    =========================================================================
*/

#include "mcpact.h"
#include "runtime_util.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXAMPLE_SERVER MCPACT_BUILD_DIR "/mcpact-example-server"
#define FIXTURE MCPACT_BUILD_DIR "/mcpact-fixture"
#define PEERS_DIR MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol"
#define EVERYTHING_JS PEERS_DIR "/server-everything/dist/index.js"
#define FILESYSTEM_JS PEERS_DIR "/server-filesystem/dist/index.js"

//  Lists our children other than the CLI itself into `text`: processes
//  the CLI started and left behind. Returns how many there are.
static int
s_orphans (char *text, size_t size)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/self/task/%d/children", (int) getpid ());
    FILE *file = fopen (path, "r");
    int count = 0, child;
    text[0] = 0;
    while (file && fscanf (file, "%d", &child) == 1) {
        char comm_path[64], comm[64] = "?";
        snprintf (comm_path, sizeof comm_path, "/proc/%d/cmdline", child);
        FILE *cmdline = fopen (comm_path, "r");
        if (cmdline) {
            size_t got = fread (comm, 1, sizeof comm - 1, cmdline);
            comm[got] = 0;
            fclose (cmdline);
        }
        size_t len = strlen (text);
        snprintf (text + len, size - len, "%s%d (%s)", count ? ", " : "", child, comm);
        count++;
    }
    if (file)
        fclose (file);
    return count;
}

//  After a hung CLI is killed, its servers are left to whoever adopts
//  them; we do (s_run_in makes us a subreaper), so kill and reap them.
static void
s_reap_orphans (void)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/self/task/%d/children", (int) getpid ());
    FILE *file = fopen (path, "r");
    int child;
    while (file && fscanf (file, "%d", &child) == 1) {
        kill (child, SIGKILL);
        waitpid (child, NULL, 0);
    }
    if (file)
        fclose (file);
    while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
}

//  Runs the CLI (ru_cli) in directory `cwd` (NULL: ours), as a subreaper:
//  servers it leaves behind become ours, and fail the test.
static ru_run_t
s_run_in (const char *cwd, const char *const *args)
{
    CHECK (prctl (PR_SET_CHILD_SUBREAPER, 1) == 0);
    ru_run_t run = ru_cli (cwd, NULL, args);
    if (run.hung)
        s_reap_orphans ();
    else {
        //  mcpact stops its servers and waits for them before it exits:
        //  none may be left for us (the subreaper) to adopt
        char leftover[256];
        CHECK_MSG (!s_orphans (leftover, sizeof leftover),
                   "mcpact left server processes behind: %s", leftover);
    }
    return run;
}

#define s_run(...) s_run_in (NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define s_run_at(cwd, ...) s_run_in ((cwd), (const char *const[]){ __VA_ARGS__, NULL })

//  Checks the exit status, showing both streams when it is wrong.
#define CHECK_EXIT(run, expected)                                                                  \
    do {                                                                                           \
        CHECK_MSG (!(run).hung,                                                                    \
                   "mcpact hung (killed after %d ms)\n--- stdout:\n%s\n"                           \
                   "--- stderr:\n%s",                                                              \
                   RU_CLI_HANG_MS, (run).out, (run).err);                                          \
        CHECK_MSG ((run).status == (expected),                                                     \
                   "exit %d, expected %d\n--- stdout:\n%s\n"                                       \
                   "--- stderr:\n%s",                                                              \
                   (run).status, (expected), (run).out, (run).err);                                \
    } while (0)

//  True if some line of a table starts with `name` followed by a blank.
static bool
s_table_has_row (const char *table, const char *name)
{
    size_t len = strlen (name);
    for (const char *line = table; line && *line;) {
        if (strncmp (line, name, len) == 0 && (line[len] == ' ' || line[len] == '\n'))
            return true;
        line = strchr (line, '\n');
        if (line)
            line++;
    }
    return false;
}

//  The row of a table that starts with `name`, as a new string, or NULL.
static char *
s_table_row (const char *table, const char *name)
{
    size_t len = strlen (name);
    for (const char *line = table; line && *line;) {
        size_t line_len = strcspn (line, "\n");
        if (strncmp (line, name, len) == 0 && (line[len] == ' ' || line_len == len))
            return strndup (line, line_len);
        line += line_len + (line[line_len] == '\n');
    }
    return NULL;
}

//  The array under `key` of a --json output, which must say its
//  "schemaVersion" (1); a new reference, failing the test otherwise.
static json_t *
s_json_payload (const char *out, const char *key)
{
    json_error_t error;
    json_t *root = json_loads (out, 0, &error);
    CHECK_MSG (json_is_object (root), "not a JSON object (%s): %s", error.text, out);
    CHECK_MSG (json_integer_value (json_object_get (root, "schemaVersion")) == 1,
               "no schemaVersion 1: %s", out);
    json_t *payload = json_incref (json_object_get (root, key));
    CHECK_MSG (json_is_array (payload), "no \"%s\" array: %s", key, out);
    json_decref (root);
    return payload;
}

//  The names in a `--json tools` output, as a JSON array of strings,
//  failing the test if the output is not a list of tool objects.
static json_t *
s_json_tool_names (const char *out)
{
    json_t *tools = s_json_payload (out, "tools");
    json_t *names = json_array ();
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        json_t *name = json_object_get (tool, "name");
        CHECK_MSG (json_is_string (name), "tool without a name: %s", out);
        json_array_append (names, name);
    }
    json_decref (tools);
    return names;
}

static bool
s_names_have (json_t *names, const char *name)
{
    size_t index;
    json_t *value;
    json_array_foreach (names, index, value)
        if (strcmp (json_string_value (value), name) == 0)
            return true;
    return false;
}

//  Temporary files and directories, removed (newest first) when the test
//  exits, whether it passed or a CHECK failed.
static char *s_temps[16];
static int s_temp_count;

static void
s_temps_remove (void)
{
    while (s_temp_count > 0) {
        char *path = s_temps[--s_temp_count];
        if (unlink (path) != 0)
            rmdir (path);
        free (path);
    }
}

static void
s_temp_add (const char *path)
{
    if (s_temp_count == 0)
        atexit (s_temps_remove);
    CHECK (s_temp_count < 16);
    s_temps[s_temp_count++] = strdup (path);
}

//  A temporary file holding `text`; the path goes into `path`.
static void
s_write_temp (char *path, size_t size, const char *text)
{
    snprintf (path, size, "/tmp/mcpact-cli-XXXXXX.json");
    int fd = mkstemps (path, 5);
    CHECK (fd >= 0);
    s_temp_add (path);
    size_t len = strlen (text);
    CHECK (write (fd, text, len) == (ssize_t) len);
    CHECK (close (fd) == 0);
}

//  Where node is on PATH, into `node`; skips (or fails under
//  MCPACT_REQUIRE_PEERS=1) if node or a peer package is missing.
static void
s_require_peers (char *node, size_t size)
{
    snprintf (node, size, "%s", ru_require_peers (EVERYTHING_JS, FILESYSTEM_JS, NULL));
}

//  --------------------------------------------------------------------------
//  The built-in default: the example server and word_count

TEST (default_tools_table)
{
    ru_run_t run = s_run ("tools");
    CHECK_EXIT (run, 0);
    CHECK (s_table_has_row (run.out, "NAME"));
    char *row = s_table_row (run.out, "echo");
    CHECK_MSG (row, "no echo row:\n%s", run.out);
    CHECK_CONTAINS (row, "example");
    free (row);
    row = s_table_row (run.out, "add");
    CHECK_MSG (row, "no add row:\n%s", run.out);
    CHECK_CONTAINS (row, "example");
    free (row);
    row = s_table_row (run.out, "word_count");
    CHECK_MSG (row, "no word_count row:\n%s", run.out);
    CHECK_CONTAINS (row, "(function)");
    CHECK_CONTAINS (row, "Count the words");
    free (row);
    //  Nothing failed, so nothing to report
    CHECK_MSG (strstr (run.err, "failed") == NULL, "stderr: %s", run.err);
    ru_run_free (&run);
}

TEST (default_tools_json)
{
    ru_run_t run = s_run ("--json", "tools");
    CHECK_EXIT (run, 0);
    json_t *names = s_json_tool_names (run.out);
    CHECK (s_names_have (names, "echo"));
    CHECK (s_names_have (names, "add"));
    CHECK (s_names_have (names, "word_count"));
    CHECK (json_array_size (names) == 3);
    json_decref (names);
    ru_run_free (&run);

    //  Options may also follow the command
    run = s_run ("tools", "--json");
    CHECK_EXIT (run, 0);
    names = s_json_tool_names (run.out);
    CHECK (json_array_size (names) == 3);
    json_decref (names);
    ru_run_free (&run);
}

TEST (default_call_echo)
{
    ru_run_t run = s_run ("call", "echo", "{\"message\":\"hi\"}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "\"text\":\"hi\"");
    CHECK_MSG (run.err[0] == 0, "stderr: %s", run.err);
    ru_run_free (&run);

    run = s_run ("--json", "call", "echo", "{\"message\":\"hi\"}");
    CHECK_EXIT (run, 0);
    json_t *root = json_loads (run.out, 0, NULL);
    CHECK_MSG (json_integer_value (json_object_get (root, "schemaVersion")) == 1, "%s", run.out);
    CHECK_STR (json_string_value (json_object_get (root, "status")), "ok");
    json_t *result = json_incref (json_object_get (root, "result"));
    json_decref (root);
    CHECK_MSG (json_is_object (result), "not a CallToolResult: %s", run.out);
    CHECK_STR (json_string_value (json_object_get (
                   json_array_get (json_object_get (result, "content"), 0), "text")),
               "hi");
    json_decref (result);
    ru_run_free (&run);
}

TEST (default_call_word_count)
{
    ru_run_t run = s_run ("call", "word_count", "{\"text\":\"a b c\"}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "3");
    CHECK (strstr (run.out, "4") == NULL);
    ru_run_free (&run);
}

TEST (default_call_add)
{
    ru_run_t run = s_run ("call", "add", "{\"a\":2,\"b\":40}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "42");
    ru_run_free (&run);
}

TEST (call_unknown_tool)
{
    ru_run_t run = s_run ("call", "nosuch");
    CHECK_EXIT (run, 4);
    CHECK_CONTAINS (run.err, "error: ");
    CHECK_CONTAINS (run.err, "nosuch");
    CHECK_MSG (run.out[0] == 0, "stdout: %s", run.out);
    ru_run_free (&run);
}

TEST (call_bad_arguments)
{
    //  Not JSON, and JSON that is not an object: usage errors, exit 2
    ru_run_t run = s_run ("call", "echo", "{message: hi}");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "JSON-ARGS");
    ru_run_free (&run);
    run = s_run ("call", "echo", "[1,2]");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "JSON-ARGS");
    ru_run_free (&run);
}

TEST (usage_errors)
{
    ru_run_t run = s_run ("frobnicate");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "frobnicate");
    ru_run_free (&run);
    run = s_run ("--no-such-option", "tools");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "--no-such-option");
    ru_run_free (&run);
    run = s_run ("call");
    CHECK_EXIT (run, 2);
    ru_run_free (&run);
}

TEST (default_status)
{
    ru_run_t run = s_run ("status");
    CHECK_EXIT (run, 0);
    CHECK (s_table_has_row (run.out, "NAME"));
    char *row = s_table_row (run.out, "example");
    CHECK_MSG (row, "no example row:\n%s", run.out);
    CHECK_CONTAINS (row, "stdio");
    CHECK_CONTAINS (row, "ready");
    CHECK_CONTAINS (row, " 2 ");
    free (row);
    ru_run_free (&run);

    run = s_run ("--json", "status");
    CHECK_EXIT (run, 0);
    json_t *servers = s_json_payload (run.out, "servers");
    CHECK_MSG (json_array_size (servers) == 1, "status: %s", run.out);
    json_t *server = json_array_get (servers, 0);
    CHECK_STR (json_string_value (json_object_get (server, "name")), "example");
    CHECK_STR (json_string_value (json_object_get (server, "state")), "ready");
    CHECK (json_integer_value (json_object_get (server, "tools")) == 2);
    json_decref (servers);
    ru_run_free (&run);
}

//  `status` asks every server at once, and the answers come back in any
//  order: each must land in its own server's row, and none may be lost
//  (a lost one once made `mcpact status` wait forever).
TEST (status_many_servers)
{
    char text[4096] = "{ \"toolNames\": \"prefix\", \"mcpServers\": {";
    for (int i = 0; i < 8; i++)
        snprintf (text + strlen (text), sizeof text - strlen (text),
                  "%s \"s%d\": { \"command\": \"" EXAMPLE_SERVER "\" }", i ? "," : "", i);
    strcat (text, " } }");
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, text);

    //  The answers come back in any order; run it a few times to see more
    //  than one of them
    for (int round = 0; round < 6; round++) {
        ru_run_t run = s_run ("-c", path, "--json", "status");
        if (run.hung)
            CHECK_EXIT (run, 0);
        json_t *servers = s_json_payload (run.out, "servers");
        CHECK_MSG (json_array_size (servers) == 8, "status: %s", run.out);
        for (size_t i = 0; i < 8; i++) {
            json_t *server = json_array_get (servers, i);
            char name[8];
            snprintf (name, sizeof name, "s%zu", i);
            CHECK_STR (json_string_value (json_object_get (server, "name")), name);
            CHECK_STR (json_string_value (json_object_get (server, "state")), "ready");
        }
        json_decref (servers);
        ru_run_free (&run);
    }
}

//  --------------------------------------------------------------------------
//  Configuration files

TEST (config_mixed_with_failed_server)
{
    char node[PATH_MAX];
    s_require_peers (node, sizeof node);
    char dir_template[] = "/tmp/mcpact-cli-XXXXXX";
    CHECK (mkdtemp (dir_template));
    s_temp_add (dir_template);
    char dir[PATH_MAX];
    CHECK (realpath (dir_template, dir));

    char text[4 * PATH_MAX + 1024];
    snprintf (text, sizeof text,
              "{ \"mcpServers\": {\n"
              "    \"files\": { \"command\": \"%s\", \"args\": [\"%s\", \"%s\"] },\n"
              "    \"everything\": { \"command\": \"%s\", \"args\": [\"%s\", "
              "\"stdio\"],\n"
              "                    \"timeouts\": { \"connect\": 30000, \"list\": 30000 "
              "} },\n"
              "    \"ghost\": { \"command\": \"/nonexistent/mcpact-no-such-server\" }\n"
              "} }\n",
              node, FILESYSTEM_JS, dir, node, EVERYTHING_JS);
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, text);

    ru_run_t run = s_run ("-c", path, "tools");
    CHECK_EXIT (run, 0);
    char *row = s_table_row (run.out, "read_text_file");
    CHECK_MSG (row, "no read_text_file row:\n%s", run.out);
    CHECK_CONTAINS (row, "files");
    free (row);
    row = s_table_row (run.out, "get-sum");
    CHECK_MSG (row, "no get-sum row:\n%s", run.out);
    CHECK_CONTAINS (row, "everything");
    free (row);
    CHECK (s_table_has_row (run.out, "list_allowed_directories"));
    CHECK (s_table_has_row (run.out, "echo"));
    CHECK (strstr (run.out, "ghost") == NULL);
    //  The failed server is reported with its reason, whether or not
    //  stderr is a terminal
    CHECK_CONTAINS (run.err, "mcpact: server ghost failed: ");
    CHECK_CONTAINS (run.err, "No such file or directory");
    ru_run_free (&run);

    //  The failed server shows in the status too, with its reason
    run = s_run ("-c", path, "status");
    CHECK_EXIT (run, 0);
    row = s_table_row (run.out, "ghost");
    CHECK_MSG (row, "no ghost row:\n%s", run.out);
    CHECK_CONTAINS (row, "failed");
    //  In a pipe nothing is cut: the reason is whole
    CHECK_CONTAINS (row,
                    "cannot run /nonexistent/mcpact-no-such-server: No such file or directory");
    free (row);
    row = s_table_row (run.out, "files");
    CHECK_MSG (row, "no files row:\n%s", run.out);
    CHECK_CONTAINS (row, "ready");
    free (row);
    ru_run_free (&run);

    //  ... and the JSON status has all of it
    run = s_run ("-c", path, "--json", "status");
    CHECK_EXIT (run, 0);
    json_t *servers = s_json_payload (run.out, "servers");
    CHECK_MSG (json_array_size (servers) == 3, "status: %s", run.out);
    json_t *ghost = json_array_get (servers, 2);
    CHECK_STR (json_string_value (json_object_get (ghost, "name")), "ghost");
    CHECK_STR (json_string_value (json_object_get (ghost, "state")), "failed");
    CHECK_CONTAINS (json_string_value (json_object_get (ghost, "error")),
                    "No such file or directory");
    json_decref (servers);
    ru_run_free (&run);
}

TEST (config_syntax_error)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "    \"example\": { \"command\": \"" EXAMPLE_SERVER "\", \"args\" }\n"
                  "} }\n");
    ru_run_t run = s_run ("-c", path, "tools");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, path);
    CHECK_CONTAINS (run.err, "line 2");
    CHECK_MSG (run.out[0] == 0, "stdout: %s", run.out);
    ru_run_free (&run);
}

TEST (config_wrong_type)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "    \"example\": { \"command\": \"" EXAMPLE_SERVER "\", \"args\": 5 }\n"
                  "} }\n");
    ru_run_t run = s_run ("-c", path, "tools");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, path);
    CHECK_CONTAINS (run.err, "mcpServers.example.args");
    CHECK_MSG (run.out[0] == 0, "stdout: %s", run.out);
    ru_run_free (&run);
}

TEST (config_missing_file)
{
    ru_run_t run = s_run ("-c", "/nonexistent/mcpact-servers.json", "tools");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "/nonexistent/mcpact-servers.json");
    ru_run_free (&run);
}

//  A session with the example server and a fixture whose tools are named
//  fx_*, and an agent that has only the fixture.
static void
s_agents_config (char *path, size_t size)
{
    s_write_temp (path, size,
                  "{ \"mcpServers\": {\n"
                  "    \"example\": { \"command\": \"" EXAMPLE_SERVER "\" },\n"
                  "    \"fixture\": { \"command\": \"" FIXTURE
                  "\", \"args\": [\"--prefix\", \"fx_\"] }\n"
                  "  },\n"
                  "  \"agents\": {\n"
                  "    \"fixture_only\": { \"mcpServers\": [\"fixture\"] },\n"
                  "    \"inline\": { \"mcpServers\": {\n"
                  "        \"own\": { \"command\": \"" FIXTURE
                  "\", \"args\": [\"--prefix\", \"own_\"] } } },\n"
                  "    \"fallback\": {}\n"
                  "  } }\n");
}

TEST (agent_servers_replace_session)
{
    char path[PATH_MAX];
    s_agents_config (path, sizeof path);

    //  Without --agent: the session's servers, both of them
    ru_run_t run = s_run ("-c", path, "--json", "tools");
    CHECK_EXIT (run, 0);
    json_t *names = s_json_tool_names (run.out);
    CHECK (s_names_have (names, "echo"));
    CHECK (s_names_have (names, "fx_echo"));
    json_decref (names);
    ru_run_free (&run);

    //  An agent naming a server of the file: that one only
    run = s_run ("-c", path, "--agent", "fixture_only", "--json", "tools");
    CHECK_EXIT (run, 0);
    names = s_json_tool_names (run.out);
    CHECK (s_names_have (names, "fx_echo"));
    CHECK (!s_names_have (names, "echo"));
    CHECK (!s_names_have (names, "add"));
    json_decref (names);
    ru_run_free (&run);

    //  An agent with an inline server: that one only
    run = s_run ("-c", path, "--agent", "inline", "--json", "tools");
    CHECK_EXIT (run, 0);
    names = s_json_tool_names (run.out);
    CHECK (s_names_have (names, "own_echo"));
    CHECK (!s_names_have (names, "echo"));
    CHECK (!s_names_have (names, "fx_echo"));
    json_decref (names);
    ru_run_free (&run);

    //  An agent without servers falls back to the session's
    run = s_run ("-c", path, "--agent", "fallback", "--json", "tools");
    CHECK_EXIT (run, 0);
    names = s_json_tool_names (run.out);
    CHECK (s_names_have (names, "echo"));
    CHECK (s_names_have (names, "fx_echo"));
    json_decref (names);
    ru_run_free (&run);

    //  Calls go to the agent's own server
    run = s_run ("-c", path, "--agent", "fixture_only", "call", "fx_add", "{\"a\":1,\"b\":2}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "3");
    ru_run_free (&run);
    run = s_run ("-c", path, "--agent", "fixture_only", "call", "echo", "{\"message\":\"x\"}");
    CHECK_EXIT (run, 4);
    CHECK_CONTAINS (run.err, "error: ");
    ru_run_free (&run);

    //  The status shows only the agent's server
    run = s_run ("-c", path, "--agent", "fixture_only", "status");
    CHECK_EXIT (run, 0);
    CHECK (s_table_has_row (run.out, "fixture"));
    CHECK (!s_table_has_row (run.out, "example"));
    ru_run_free (&run);
}

TEST (agent_unknown)
{
    char path[PATH_MAX];
    s_agents_config (path, sizeof path);
    ru_run_t run = s_run ("-c", path, "--agent", "nobody", "tools");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "nobody");
    CHECK_CONTAINS (run.err, "fixture_only");
    CHECK_CONTAINS (run.err, "inline");
    ru_run_free (&run);

    //  The built-in default has no agents at all
    run = s_run ("--agent", "support", "tools");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "support");
    ru_run_free (&run);
}

//  --------------------------------------------------------------------------
//  The example configurations, run from a directory where build/ is this
//  build, as a user runs them from the repository root after scripts/run.

//  A temporary directory holding `build`, a link to this build; the
//  directory's path goes into `dir`.
static void
s_root_new (char *dir, size_t size)
{
    snprintf (dir, size, "/tmp/mcpact-cli-root-XXXXXX");
    CHECK (mkdtemp (dir));
    s_temp_add (dir);
    char link[PATH_MAX + 16];
    snprintf (link, sizeof link, "%s/build", dir);
    CHECK (symlink (MCPACT_BUILD_DIR, link) == 0);
    s_temp_add (link);
}

TEST (example_servers_json)
{
    //  It loads, and declares the agent the README talks about
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    char *error = NULL;
    mcpact_session_t *session =
        mcpact_session_load (runtime, MCPACT_SOURCE_DIR "/examples/servers.json", &error);
    CHECK_MSG (session, "%s", error ? error : "(no error)");
    char *agents = mcpact_session_agent_names (session);
    CHECK_CONTAINS (agents, "\"support\"");
    free (agents);
    ru_teardown (NULL, &session, &runtime);

    //  The support agent has its own servers: only the example server runs
    //  (the session's filesystem server, which needs npx, is not started)
    char root[PATH_MAX];
    s_root_new (root, sizeof root);
    ru_run_t run = s_run_at (root, "-c", MCPACT_SOURCE_DIR "/examples/servers.json", "--agent",
                             "support", "--json", "tools");
    CHECK_EXIT (run, 0);
    json_t *names = s_json_tool_names (run.out);
    CHECK (s_names_have (names, "echo"));
    CHECK (s_names_have (names, "add"));
    CHECK (!s_names_have (names, "read_text_file"));
    json_decref (names);
    CHECK_MSG (strstr (run.err, "failed") == NULL, "stderr: %s", run.err);
    ru_run_free (&run);
}

TEST (example_broken_json)
{
    char root[PATH_MAX];
    s_root_new (root, sizeof root);
    ru_run_t run = s_run_at (root, "-c", MCPACT_SOURCE_DIR "/examples/broken.json", "tools");
    CHECK_EXIT (run, 0);
    CHECK (s_table_has_row (run.out, "echo"));
    CHECK (s_table_has_row (run.out, "add"));
    CHECK_CONTAINS (run.err, "mcpact: server broken failed: ");
    CHECK_CONTAINS (run.err, "No such file or directory");
    ru_run_free (&run);

    run = s_run_at (root, "-c", MCPACT_SOURCE_DIR "/examples/broken.json", "call", "echo",
                    "{\"message\":\"still works\"}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "still works");
    ru_run_free (&run);
}

//  --------------------------------------------------------------------------
//  Nothing a server started may outlive mcpact. The fixture says where its
//  processes are (--pid-file) and when a call has reached it (--call-file);
//  whatever a test finds still there at its end is killed by pid.

//  Generous: the machine may be loaded. Not a speed requirement.
#define SERVER_WAIT_MS 30000

//  Processes the servers started, killed at exit if a test leaves them.
static long s_started[8][2];
static int s_started_count;

static void
s_kill_started (void)
{
    for (int index = 0; index < s_started_count; index++)
        if (ru_alive (s_started[index][0], s_started[index][1]))
            kill ((pid_t) s_started[index][0], SIGKILL);
}

static void
s_track (long pid, long pgid)
{
    if (s_started_count == 0)
        atexit (s_kill_started);
    CHECK (s_started_count < 8);
    s_started[s_started_count][0] = pid;
    s_started[s_started_count++][1] = pgid;
}

//  Waits (boundedly) for `pid` of group `pgid` to be gone.
static bool
s_gone (long pid, long pgid)
{
    for (int waited = 0; waited < SERVER_WAIT_MS; waited += 20) {
        if (!ru_alive (pid, pgid))
            return true;
        ru_sleep_ms (20);
    }
    return false;
}

//  Waits (boundedly) for a file the server writes.
static void
s_wait_file (const char *path)
{
    for (int waited = 0; access (path, F_OK) != 0; waited += 20) {
        CHECK_MSG (waited < SERVER_WAIT_MS, "the server did not write %s", path);
        ru_sleep_ms (20);
    }
}

//  Reads "PID [OTHER-PID]" from `path`; tracks both as members of the
//  group the first leads.
static void
s_read_pids (const char *path, long *first, long *second)
{
    s_wait_file (path);
    FILE *file = fopen (path, "r");
    CHECK (file);
    *first = *second = 0;
    int count = fscanf (file, "%ld %ld", first, second);
    fclose (file);
    CHECK_MSG (count >= 1 && *first > 0, "no pid in %s", path);
    s_track (*first, *first);
    if (*second > 0)
        s_track (*second, *first);
}

//  A server started through `sh -c 'helper & exec server'`: after a plain
//  call, nothing of its process group may be left.
TEST (call_ends_what_a_launcher_left)
{
    char dir[64];
    snprintf (dir, sizeof dir, "/tmp/mcpact-cli-proc-XXXXXX");
    CHECK (mkdtemp (dir));
    s_temp_add (dir);
    char pids[96];
    snprintf (pids, sizeof pids, "%s/pids", dir);
    s_temp_add (pids);
    char text[1024], config[PATH_MAX];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"launched\": {\"command\": \"sh\", \"args\": "
              "[\"-c\", "
              "\"sleep 3600 & echo $$ $! > %s; exec %s\"]}}}",
              pids, FIXTURE);
    s_write_temp (config, sizeof config, text);

    ru_run_t run = ru_cli (
        NULL, NULL,
        (const char *const[]){ "-c", config, "call", "echo", "{\"message\":\"launched\"}", NULL });
    long group, helper;
    s_read_pids (pids, &group, &helper);
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "launched");
    CHECK_MSG (!ru_alive (helper, group), "the launcher's 'sleep 3600' (%ld) outlived mcpact",
               helper);
    ru_run_free (&run);
}

//  --------------------------------------------------------------------------
//  Signals: SIGINT, SIGTERM and SIGHUP close the servers, whole process
//  groups included, before mcpact ends by the signal; a second signal, or
//  SIGKILL, ends mcpact at once and its servers get their parent-death
//  signal. The servers here ignore stdin EOF, so only mcpact's closing
//  (or that signal) ends them.

//  A directory for one server's files, and its config: the fixture with
//  `switches` (a JSON array's items), its pids in DIR/pids, DIR/call
//  created when a call reaches it, and room for a long call.
typedef struct {
    char dir[64];          //  removed at exit
    char pids[96];         //  DIR/pids
    char call[96];         //  DIR/call
    char config[PATH_MAX]; //  the config file
} s_server_files_t;

static void
s_server_files (s_server_files_t *self, const char *switches)
{
    snprintf (self->dir, sizeof self->dir, "/tmp/mcpact-cli-proc-XXXXXX");
    CHECK (mkdtemp (self->dir));
    s_temp_add (self->dir);
    snprintf (self->pids, sizeof self->pids, "%s/pids", self->dir);
    snprintf (self->call, sizeof self->call, "%s/call", self->dir);
    s_temp_add (self->pids);
    s_temp_add (self->call);
    char text[1024];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"stubborn\": {\"command\": \"%s\", \"args\": [%s, "
              "\"--pid-file\", \"%s\", \"--call-file\", \"%s\"], "
              "\"timeouts\": {\"call\": 600000}}}}",
              FIXTURE, switches, self->pids, self->call);
    s_write_temp (self->config, sizeof self->config, text);
}

//  mcpact running in the background, with its stderr on a pipe.
typedef struct {
    pid_t pid; //  mcpact
    int err;   //  its stderr, ours to read
} s_background_t;

//  Starts mcpact with `args` (NULL-terminated, without argv[0]); its
//  stdout goes to /dev/null or, if `closed_stdout`, to a pipe nobody
//  reads (as in `mcpact tools | head -1` once head is gone). Its signals
//  start at their defaults, as from a terminal, whatever ours are.
static s_background_t
s_start_cli (const char *const *args, bool closed_stdout)
{
    const char *argv[16] = { RU_CLI };
    for (int index = 0; args[index]; index++) {
        CHECK (index < 14);
        argv[index + 1] = args[index];
    }
    int err[2], out[2];
    CHECK (pipe2 (err, O_CLOEXEC) == 0);
    CHECK (pipe2 (out, O_CLOEXEC) == 0);
    fflush (NULL);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        int null = open ("/dev/null", O_RDWR);
        if (null < 0 || dup2 (null, 0) < 0 || dup2 (closed_stdout ? out[1] : null, 1) < 0 ||
            dup2 (err[1], 2) < 0)
            _exit (126);
        const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGALRM };
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
            signal (signals[i], SIG_DFL);
        execv (RU_CLI, (char *const *) argv);
        _exit (127);
    }
    close (err[1]);
    close (out[0]);
    close (out[1]);
    s_track (pid, getpgid (pid));
    return (s_background_t){ pid, err[0] };
}

//  `mcpact -q -c CONFIG call sleep {"ms":600000}`: a call that only a
//  signal ends in time.
static s_background_t
s_start_long_call (const char *config)
{
    return s_start_cli (
        (const char *const[]){ "-q", "-c", config, "call", "sleep", "{\"ms\":600000}", NULL },
        false);
}

//  Waits for mcpact to end, reading its stderr into *err; returns its
//  status as a shell shows it (128 + signal). One that has not ended in
//  RU_CLI_HANG_MS is stuck: it is killed, and the test fails.
static int
s_wait_cli (s_background_t *self, char **err)
{
    size_t size = 0;
    *err = calloc (1, 1);
    CHECK (*err);
    int64_t hang_at = ru_now_ms () + RU_CLI_HANG_MS;
    struct pollfd item = { self->err, POLLIN, 0 };
    while (true) {
        int64_t left = hang_at - ru_now_ms ();
        int rc = poll (&item, 1, left > 0 ? (int) left : 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0) {
            kill (self->pid, SIGKILL);
            waitpid (self->pid, NULL, 0);
            close (self->err);
            CHECK_MSG (false, "mcpact did not end within %d ms; stderr:\n%s", RU_CLI_HANG_MS, *err);
        }
        if (!ru_drain (self->err, err, &size))
            break;
    }
    close (self->err);
    int status;
    while (waitpid (self->pid, &status, 0) < 0)
        CHECK (errno == EINTR);
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

//  A call is in flight on a server that ignores stdin EOF and left a
//  helper in its group; `signal` must close them both, then end mcpact.
static void
s_signal_closes_servers (int signal)
{
    s_server_files_t files;
    s_server_files (&files, "\"--ignore-eof\", \"--helper\"");
    s_background_t cli = s_start_long_call (files.config);
    s_wait_file (files.call);
    long server, helper;
    s_read_pids (files.pids, &server, &helper);

    CHECK (kill (cli.pid, signal) == 0);
    char *err;
    int status = s_wait_cli (&cli, &err);
    CHECK_MSG (status == 128 + signal, "exit %d, expected %d (by %s); stderr:\n%s", status,
               128 + signal, strsignal (signal), err);
    //  mcpact ends only after the close sequence, which ends only once
    //  the whole group is gone
    CHECK_MSG (!ru_alive (server, server), "the server %ld outlived mcpact", server);
    CHECK_MSG (!ru_alive (helper, server), "the server's helper %ld outlived mcpact", helper);
    CHECK_CONTAINS (err, "closing the servers");
    free (err);
}

TEST (sigint_closes_the_servers)
{
    s_signal_closes_servers (SIGINT);
}

TEST (sigterm_closes_the_servers)
{
    s_signal_closes_servers (SIGTERM);
}

TEST (sighup_closes_the_servers)
{
    s_signal_closes_servers (SIGHUP);
}

//  The first signal starts the close sequence, which takes a second at
//  least with a server that ignores EOF; a second one ends mcpact by
//  itself at once, and the server gets its parent-death signal.
TEST (second_signal_quits_at_once)
{
    s_server_files_t files;
    s_server_files (&files, "\"--ignore-eof\"");
    s_background_t cli = s_start_long_call (files.config);
    s_wait_file (files.call);
    long server, none;
    s_read_pids (files.pids, &server, &none);

    CHECK (kill (cli.pid, SIGINT) == 0);
    CHECK (kill (cli.pid, SIGTERM) == 0);
    char *err;
    int status = s_wait_cli (&cli, &err);
    CHECK_MSG (status == 128 + SIGTERM, "exit %d, expected %d (by the second signal); stderr:\n%s",
               status, 128 + SIGTERM, err);
    CHECK_CONTAINS (err, "SIGINT: closing the servers");
    CHECK_MSG (s_gone (server, server), "the server %ld outlived mcpact", server);
    free (err);
}

//  Nothing of mcpact runs after SIGKILL: only the parent-death signal set
//  when the server was started can end a server that ignores EOF.
TEST (sigkill_takes_the_servers)
{
    s_server_files_t files;
    s_server_files (&files, "\"--ignore-eof\"");
    s_background_t cli = s_start_long_call (files.config);
    s_wait_file (files.call);
    long server, none;
    s_read_pids (files.pids, &server, &none);

    CHECK (kill (cli.pid, SIGKILL) == 0);
    char *err;
    CHECK (s_wait_cli (&cli, &err) == 128 + SIGKILL);
    CHECK_MSG (s_gone (server, server), "the server %ld outlived mcpact (killed)", server);
    free (err);
}

//  The reader of mcpact's output goes away while it prints a long table:
//  mcpact must not die by SIGPIPE before it has closed its servers.
TEST (closed_stdout_closes_the_servers)
{
    s_server_files_t files;
    s_server_files (&files, "\"--helper\", \"--tools\", \"2000\"");
    s_background_t cli =
        s_start_cli ((const char *const[]){ "-q", "-c", files.config, "tools", NULL }, true);
    char *err;
    int status = s_wait_cli (&cli, &err);
    long server, helper;
    s_read_pids (files.pids, &server, &helper);
    CHECK_MSG (!ru_alive (helper, server), "the server's helper %ld outlived mcpact", helper);
    //  Quietly, as SIGPIPE ends any program whose reader went away
    CHECK_MSG (status == 128 + SIGPIPE, "exit %d, expected %d; stderr:\n%s", status, 128 + SIGPIPE,
               err);
    CHECK_MSG (*err == 0, "stderr: %s", err);
    free (err);
}

TEST (server_text_cannot_drive_the_terminal)
{
    //  A server's stderr (shown with -v) and its error text (in the error
    //  line) may hold escape sequences: they reach no terminal as such.
    //  (The status table goes to stdout: it is made for people.)
    char text[1024];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"esc\": {\"command\": \"%s\", \"args\": [\"--stderr\", "
              "\"\\u001b]0;PWNED\\u0007\\u001b[31mred\\u001b[0m\\n\", \"--reply\", "
              "\"tools/call\", \"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":$ID,\\\"result\\\":{"
              "\\\"content\\\":[{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"\\\\u001b[2Jwiped"
              "\\\"}],\\\"isError\\\":true}}\"]}}}",
              RU_FIXTURE);
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, text);
    ru_run_t run = s_run ("-c", path, "-v", "status");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "?]0;PWNED??[31mred?[0m");
    CHECK_MSG (!strchr (run.out, '\x1b') && !strchr (run.err, '\x1b'), "%s%s", run.out, run.err);
    ru_run_free (&run);
    run = s_run ("-c", path, "call", "echo", "{\"message\":\"m\"}");
    CHECK_CONTAINS (run.err, "error: ?[2Jwiped");
    CHECK_MSG (!strchr (run.err, '\x1b'), "%s", run.err);
    //  (Off a terminal, stdout carries the result exactly: it is data.)
    ru_run_free (&run);
}

//  --------------------------------------------------------------------------
//  Help, messages, the start-up display, results and exit codes

#define PTY_RUN MCPACT_SOURCE_DIR "/tests/pty_run.py"

//  Runs the CLI through tests/pty_run.py, its stdout and stderr on a
//  pseudo-terminal of 40 x 100 unless `options` (pty_run.py's, quoted as
//  the shell takes them) say otherwise; the output is the screen left
//  behind with --render, else the raw bytes.
static ru_run_t
s_run_pty (const char *options, const char *const *args)
{
    char command[8192];
    snprintf (command, sizeof command, "python3 '%s' %s -- '%s'", PTY_RUN, options, RU_CLI);
    for (int i = 0; args[i]; i++) {
        CHECK (!strchr (args[i], '\''));
        snprintf (command + strlen (command), sizeof command - strlen (command), " '%s'", args[i]);
    }
    fflush (NULL);
    FILE *pipe = popen (command, "r");
    CHECK (pipe);
    ru_run_t run = { calloc (1, 1), calloc (1, 1), -1, false };
    size_t size = 0;
    char chunk[4096];
    size_t got;
    while ((got = fread (chunk, 1, sizeof chunk, pipe)) > 0) {
        run.out = realloc (run.out, size + got + 1);
        memcpy (run.out + size, chunk, got);
        size += got;
        run.out[size] = 0;
    }
    int status = pclose (pipe);
    run.status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
    return run;
}

#define s_pty(render, ...)                                                                         \
    s_run_pty ((render) ? "--render" : "", (const char *const[]){ __VA_ARGS__, NULL })
#define s_pty_with(options, ...) s_run_pty ((options), (const char *const[]){ __VA_ARGS__, NULL })

//  How many times `needle` occurs in `hay`.
static int
s_count (const char *hay, const char *needle)
{
    int count = 0;
    for (const char *at = strstr (hay, needle); at; at = strstr (at + 1, needle))
        count++;
    return count;
}

TEST (help_per_command)
{
    static const struct {
        const char *args[3]; //  the command line
        const char *usage;   //  what its help begins with
    } cases[] = {
        { { "tools", "--help" }, "usage: mcpact [OPTIONS] tools" },
        { { "call", "--help" }, "usage: mcpact [OPTIONS] call TOOL" },
        { { "status", "-h" }, "usage: mcpact [OPTIONS] status" },
        { { "bench", "--help" }, "usage: mcpact bench init -c FILE" },
        { { "bench", "init", "--help" }, "usage: mcpact bench init -c FILE" },
        { { "help", "call" }, "usage: mcpact [OPTIONS] call TOOL" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ru_run_t run = ru_cli (NULL, NULL, cases[i].args);
        CHECK_EXIT (run, 0);
        CHECK_MSG (strncmp (run.out, cases[i].usage, strlen (cases[i].usage)) == 0,
                   "%s --help printed:\n%s", cases[i].args[0], run.out);
        ru_run_free (&run);
    }
    //  The global help lists every command, bench init among them
    ru_run_t run = s_run ("--help");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "  tools ");
    CHECK_CONTAINS (run.out, "  call TOOL");
    CHECK_CONTAINS (run.out, "  status ");
    CHECK_CONTAINS (run.out, "  bench init -c FILE");
    ru_run_free (&run);
    //  `mcpact bench` alone is a usage error that shows bench's usage
    run = s_run ("bench");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "usage: mcpact bench init");
    CHECK (strstr (run.err, "unknown command") == NULL);
    ru_run_free (&run);
}

//  Each event is said once on stderr, in one format: a server that fails
//  to start, a tool the name policy rejects. -q keeps only the errors.
TEST (each_failure_said_once)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "  \"one\": { \"command\": \"" EXAMPLE_SERVER "\" },\n"
                  "  \"two\": { \"command\": \"" EXAMPLE_SERVER "\" },\n"
                  "  \"ghost\": { \"command\": \"/nonexistent/mcpact-no-such-server\" }\n"
                  "} }\n");
    ru_run_t run = s_run ("-c", path, "tools");
    CHECK_EXIT (run, 0);
    CHECK_MSG (s_count (run.err, "ghost") == 1, "stderr:\n%s", run.err);
    CHECK_CONTAINS (run.err, "mcpact: server ghost failed: cannot run");
    //  two's echo and add are taken by one's: one line each
    CHECK_MSG (s_count (run.err, "tool echo of server two") == 1, "stderr:\n%s", run.err);
    CHECK_MSG (s_count (run.err, "tool add of server two") == 1, "stderr:\n%s", run.err);
    CHECK_CONTAINS (run.err,
                    "mcpact: tool echo of server two conflicts with tool echo of server one");
    for (const char *line = run.err; *line; line = strchr (line, '\n') + 1) {
        CHECK_MSG (strncmp (line, "mcpact: ", 8) == 0, "a line not in the format:\n%s", run.err);
        if (!strchr (line, '\n'))
            break;
    }
    ru_run_free (&run);

    run = s_run ("-c", path, "-q", "tools");
    CHECK_EXIT (run, 0);
    CHECK_MSG (s_count (run.err, "ghost") == 1, "stderr:\n%s", run.err);
    CHECK_MSG (strstr (run.err, "rejected") == NULL, "-q said a warning:\n%s", run.err);
    ru_run_free (&run);
}

//  On a terminal every server shows at once as pending, then its line
//  changes in place; off a terminal no control character is written.
TEST (startup_display_on_a_terminal)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "  \"quick\": { \"command\": \"" FIXTURE "\" },\n"
                  "  \"slow\": { \"command\": \"" FIXTURE "\", \"args\": [\"--init-delay-ms\", "
                  "\"700\"] },\n"
                  "  \"ghost\": { \"command\": \"/nonexistent/mcpact-no-such-server\" }\n"
                  "}, \"toolNames\": \"prefix\" }\n");
    ru_run_t run = s_pty (false, "-c", path, "tools");
    CHECK_MSG (run.status == 0, "exit %d:\n%s", run.status, run.out);
    //  The first drawing, before any server can have answered, lists all
    CHECK_CONTAINS (run.out, "… slow");
    CHECK_CONTAINS (run.out, "… ghost");
    CHECK_CONTAINS (run.out, "pending: quick slow ghost");
    CHECK_CONTAINS (run.out, "\033[2K"); //  lines are redrawn in place
    ru_run_free (&run);

    //  What stays on the screen: one line per server, the summary, then
    //  the tools table; the failure is said there, and only there
    run = s_pty (true, "-c", path, "tools");
    CHECK_MSG (run.status == 0, "exit %d:\n%s", run.status, run.out);
    CHECK_CONTAINS (run.out, "  ✓ quick  ready     12 tools");
    CHECK_CONTAINS (run.out, "  ✓ slow   ready     12 tools");
    CHECK_CONTAINS (run.out, "  ✗ ghost  failed    cannot run /nonexistent/mcpact-no-such-server");
    CHECK_CONTAINS (run.out, "started 3 servers in ");
    CHECK_CONTAINS (run.out, ": 2 ready, 1 failed\n");
    CHECK_MSG (s_count (run.out, "ghost") == 1, "screen:\n%s", run.out);
    CHECK (strstr (run.out, "pending") == NULL);
    ru_run_free (&run);

    //  Off a terminal: plain lines
    run = s_run ("-c", path, "tools");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.err, "mcpact: server ghost failed: ");
    for (const char *c = run.err; *c; c++)
        CHECK_MSG (*c == '\n' || (unsigned char) *c >= 0x20, "a control character:\n%s", run.err);
    ru_run_free (&run);
}

static const char *s_fixture_config =
    "{ \"mcpServers\": { \"fx\": { \"command\": \"" FIXTURE "\" } } }\n";

//  A call's failure says its cause in the exit status, and --json in
//  "status": a tool error, an unknown tool, a timeout, a server down.
TEST (call_exit_status_by_cause)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, s_fixture_config);
    static const struct {
        const char *tool;   //  what is called
        const char *args;   //  with these arguments
        int exit_code;      //  the exit status it must give
        const char *status; //  "status" in --json
    } cases[] = {
        { "echo", "{\"message\":\"hi\"}", 0, "ok" }, { "fail", "{}", 3, "tool_error" },
        { "nosuch", "{}", 4, "unknown_tool" },       { "sleep", "{\"ms\":20000}", 5, "timeout" },
        { "crash", "{}", 6, "server_error" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ru_run_t run =
            s_run ("-c", path, "--json", "--timeout", "300", "call", cases[i].tool, cases[i].args);
        CHECK_EXIT (run, cases[i].exit_code);
        json_t *root = json_loads (run.out, 0, NULL);
        CHECK_MSG (json_integer_value (json_object_get (root, "schemaVersion")) == 1, "%s",
                   run.out);
        CHECK_STR (json_string_value (json_object_get (root, "status")), cases[i].status);
        //  "result" only when the tool ran; "error" when it did not
        bool ran = cases[i].exit_code == 0 || cases[i].exit_code == 3;
        CHECK_MSG (json_is_object (json_object_get (root, "result")) == ran, "%s", run.out);
        CHECK_MSG (json_is_string (json_object_get (root, "error")) == !ran, "%s", run.out);
        json_decref (root);
        ru_run_free (&run);
    }
}

//  On a terminal a result is its text, and an image one line saying so
TEST (call_result_for_a_person)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, s_fixture_config);
    ru_run_t run = s_pty (true, "-c", path, "call", "multi");
    CHECK_MSG (run.status == 0, "exit %d:\n%s", run.status, run.out);
    CHECK_CONTAINS (run.out, "[image image/png, ");
    CHECK_MSG (strstr (run.out, "\"type\"") == NULL, "JSON on a terminal:\n%s", run.out);
    CHECK_MSG (strstr (run.out, "\"data\"") == NULL, "base64 on a terminal:\n%s", run.out);
    ru_run_free (&run);
}

//  The TOOLS column counts what the LLM sees; rejected tools are said apart
TEST (status_counts_the_tools_the_llm_sees)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "  \"one\": { \"command\": \"" EXAMPLE_SERVER "\" },\n"
                  "  \"two\": { \"command\": \"" EXAMPLE_SERVER "\" }\n"
                  "} }\n");
    ru_run_t run = s_run ("-c", path, "-q", "status");
    CHECK_EXIT (run, 0);
    char *row = s_table_row (run.out, "two");
    CHECK_MSG (row, "no row for two:\n%s", run.out);
    CHECK_MSG (strstr (row, "  0  "), "two's tools are all rejected: %s", row);
    CHECK_CONTAINS (row, "2 tools rejected");
    free (row);
    ru_run_free (&run);

    run = s_run ("-c", path, "--json", "status");
    CHECK_EXIT (run, 0);
    json_t *servers = s_json_payload (run.out, "servers");
    json_t *two = json_array_get (servers, 1);
    CHECK (json_integer_value (json_object_get (two, "visibleTools")) == 0);
    CHECK (json_array_size (json_object_get (two, "rejectedTools")) == 2);
    json_decref (servers);
    ru_run_free (&run);
}

//  envFile's variables reach the server's process ("env" wins over them)
TEST (env_file_reaches_the_server)
{
    char env_path[PATH_MAX];
    s_write_temp (env_path, sizeof env_path, "# for the fixture\nMCPACT_FROM_FILE=from-the-file\n");
    char text[2 * PATH_MAX];
    snprintf (text, sizeof text,
              "{ \"servers\": { \"fx\": { \"command\": \"" FIXTURE "\", \"envFile\": \"%s\" } } }",
              env_path);
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, text);
    ru_run_t run = s_run ("-c", path, "call", "env", "{\"name\":\"MCPACT_FROM_FILE\"}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "from-the-file");
    ru_run_free (&run);
}

//  envFile that cannot be used fails its server only, saying why: a file
//  missing, a line that is not KEY=VALUE (by its number), a directory
TEST (env_file_failures)
{
    char bad[PATH_MAX];
    s_write_temp (bad, sizeof bad, "A=1\n# a comment\nthis is not a pair\nB=2\n");
    char dir[64];
    snprintf (dir, sizeof dir, "/tmp/mcpact-cli-env-XXXXXX");
    CHECK (mkdtemp (dir));
    s_temp_add (dir);
    char text[4 * PATH_MAX];
    snprintf (text, sizeof text,
              "{ \"servers\": {\n"
              "  \"missing\": { \"command\": \"" FIXTURE "\", \"envFile\": "
              "\"/nonexistent/mcpact.env\" },\n"
              "  \"bad\": { \"command\": \"" FIXTURE "\", \"envFile\": \"%s\" },\n"
              "  \"dir\": { \"command\": \"" FIXTURE "\", \"envFile\": \"%s\" },\n"
              "  \"good\": { \"command\": \"" FIXTURE "\" }\n"
              "}, \"toolNames\": \"prefix\" }\n",
              bad, dir);
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, text);
    ru_run_t run = s_run ("-c", path, "tools");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.err, "mcpact: server missing failed: envFile: cannot read "
                             "/nonexistent/mcpact.env: No such file or directory");
    char says[2 * PATH_MAX];
    snprintf (says, sizeof says, "mcpact: server bad failed: envFile: %s, line 3: not KEY=VALUE",
              bad);
    CHECK_CONTAINS (run.err, says);
    CHECK_MSG (!strstr (run.err, "this is not a pair"), "the line may hold a secret:\n%s", run.err);
    snprintf (says, sizeof says, "mcpact: server dir failed: envFile: cannot read %s: ", dir);
    CHECK_CONTAINS (run.err, says);
    //  The others start
    CHECK (s_table_has_row (run.out, "good_echo"));
    CHECK (!s_table_has_row (run.out, "bad_echo"));
    ru_run_free (&run);
}

//  A TCP port on 127.0.0.1 where a connection is refused: bound by the
//  socket returned (kept open, so nobody else takes it), never listening.
static int
s_refusing_port (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK (fd >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t size = sizeof address;
    CHECK (bind (fd, (struct sockaddr *) &address, sizeof address) == 0);
    CHECK (getsockname (fd, (struct sockaddr *) &address, &size) == 0);
    *port = ntohs (address.sin_port);
    return fd;
}

//  A server that fails to start is said once, however late the runtime's
//  own log line about it comes: on a terminal after an ${input:...}
//  answered at the prompt, and off a terminal, a few times over.
TEST (failed_server_said_once_whenever_logged)
{
    int port;
    int refusing = s_refusing_port (&port);
    char text[1024];
    snprintf (text, sizeof text,
              "{ \"inputs\": [ { \"id\": \"token\", \"type\": \"promptString\", "
              "\"description\": \"Token\" } ],\n"
              "  \"servers\": {\n"
              "    \"h\": { \"url\": \"http://127.0.0.1:%d/mcp\", "
              "\"headers\": { \"Authorization\": \"Bearer ${input:token}\" } },\n"
              "    \"fx\": { \"command\": \"" FIXTURE "\" } } }\n",
              port);
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, text);
    unsetenv ("MCPACT_INPUT_TOKEN");
    ru_run_t run = s_pty_with ("--render --answer secret", "-c", path, "tools");
    CHECK_MSG (run.status == 0, "exit %d:\n%s", run.status, run.out);
    CHECK_CONTAINS (run.out, "Token (${input:token}): secret\n");
    CHECK_CONTAINS (run.out, "  ✗ h   failed    initialize failed");
    CHECK_MSG (!strstr (run.out, "failed to start"), "said twice:\n%s", run.out);
    ru_run_free (&run);

    for (int i = 0; i < 3; i++) {
        run = ru_cli (NULL, (const char *const[]){ "MCPACT_INPUT_TOKEN=secret", NULL },
                      (const char *const[]){ "-c", path, "tools", NULL });
        CHECK_EXIT (run, 0);
        CHECK_MSG (s_count (run.err, "server h failed") == 1, "stderr:\n%s", run.err);
        ru_run_free (&run);
    }
    close (refusing);
}

//  A failure's reason is printed whole: in a pipe nothing is cut; on a
//  terminal the display cuts rows to the window, then says once, whole,
//  each reason it cut.
TEST (failure_reason_whole)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "  \"hang\": { \"command\": \"" FIXTURE "\", \"args\": [\"--no-answer\"], "
                  "\"timeouts\": { \"connect\": 1000 } },\n"
                  "  \"fx\": { \"command\": \"" FIXTURE "\" }\n"
                  "} }\n");
    const char *reason = "no answer to initialize within 1000 ms (the connect timeout: "
                         "\"timeouts\": {\"connect\": ms} raises it)";
    ru_run_t run = s_run ("-c", path, "status");
    CHECK_EXIT (run, 0);
    char *row = s_table_row (run.out, "hang");
    CHECK_MSG (row && strstr (row, reason), "the reason cut in a pipe:\n%s", run.out);
    free (row);
    CHECK_CONTAINS (run.err, reason);
    ru_run_free (&run);

    run = s_pty_with ("--render --cols 60", "-c", path, "tools");
    CHECK_MSG (run.status == 0, "exit %d:\n%s", run.status, run.out);
    CHECK_CONTAINS (run.out, "  ✗ hang  failed    no answer");
    CHECK_MSG (s_count (run.out, reason) == 1, "the reason not whole once:\n%s", run.out);
    ru_run_free (&run);
}

//  "N ms" or "N.N s" at `text`, in milliseconds.
static double
s_shown_ms (const char *text)
{
    char *end;
    double value = strtod (text, &end);
    CHECK_MSG (end != text, "no time at: %.40s", text);
    return strncmp (end, " s", 2) == 0 ? value * 1000 : value;
}

//  The summary's time is on the clock of the frames before it: never less
TEST (startup_summary_after_its_frames)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "  \"quick\": { \"command\": \"" FIXTURE "\" },\n"
                  "  \"slow\": { \"command\": \"" FIXTURE "\", \"args\": [\"--init-delay-ms\", "
                  "\"300\"] }\n"
                  "}, \"toolNames\": \"prefix\" }\n");
    ru_run_t run = s_pty (false, "-c", path, "tools");
    CHECK_MSG (run.status == 0, "exit %d:\n%s", run.status, run.out);
    double latest = 0;
    int frames = 0;
    for (const char *at = strstr (run.out, "starting 2 servers in "); at;
         at = strstr (at + 1, "starting 2 servers in ")) {
        double ms = s_shown_ms (at + strlen ("starting 2 servers in "));
        latest = ms > latest ? ms : latest;
        frames++;
    }
    const char *summary = strstr (run.out, "started 2 servers in ");
    CHECK_MSG (frames > 0 && summary, "no frames or no summary:\n%s", run.out);
    double total = s_shown_ms (summary + strlen ("started 2 servers in "));
    CHECK_MSG (total >= latest, "the summary says %.0f ms after a frame said %.0f ms:\n%s", total,
               latest, run.out);
    ru_run_free (&run);
}

//  Warnings about the file come as it is read, before the servers start
//  (docs/cli.md says so)
TEST (config_warnings_come_first)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "  \"fx\": { \"command\": \"" FIXTURE "\", \"autoApprove\": [] },\n"
                  "  \"ghost\": { \"command\": \"/nonexistent/mcpact-no-such-server\" }\n"
                  "} }\n");
    ru_run_t run = s_run ("-c", path, "tools");
    CHECK_EXIT (run, 0);
    const char *warning = strstr (run.err, "mcpServers.fx.autoApprove: not used by mcpact");
    const char *failure = strstr (run.err, "mcpact: server ghost failed: ");
    CHECK_MSG (warning && failure && warning < failure, "stderr:\n%s", run.err);
    ru_run_free (&run);
}

//  Usage errors say what was wrong in one line, then the usage line and
//  where to look: not the whole help, and exit 2
TEST (usage_errors_in_one_line)
{
    static const struct {
        const char *args[6]; //  the command line
        const char *says;    //  the first line of stderr begins so
    } cases[] = {
        { { "help", "nosuch" }, "mcpact: unknown command 'nosuch'" },
        { { "--help", "nosuch" }, "mcpact: unknown command 'nosuch'" },
        { { "help", "call", "extra" }, "mcpact: help takes one COMMAND" },
        { { "tools", "--json", "--format", "openai" }, "mcpact: --json and --format are" },
        { { "--format", "anthropic", "call", "echo", "--json" },
          "mcpact: --json and --format are" },
        { { "-q", "-v", "status" }, "mcpact: -q and -v are alternatives" },
        { { "bench", "init", "-c", "x.json", "-r", "0" }, "mcpact: bench init: -r wants" },
        { { "bench", "init", "--rounds" }, "mcpact: bench init: --rounds needs a value" },
        { { "bench", "init", "--nosuch" }, "mcpact: bench init: unknown option --nosuch" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ru_run_t run = ru_cli (NULL, NULL, cases[i].args);
        CHECK_EXIT (run, 2);
        CHECK_MSG (strncmp (run.err, cases[i].says, strlen (cases[i].says)) == 0, "%s:\n%s",
                   cases[i].says, run.err);
        CHECK_MSG (s_count (run.err, "\n") == 3 && strstr (run.err, "\nTry 'mcpact "),
                   "not one line, the usage and where to look:\n%s", run.err);
        CHECK_MSG (*run.out == 0, "stdout: %s", run.out);
        ru_run_free (&run);
    }
}

//  bench init: --json has its schemaVersion; a server failing in every
//  round is said once, in the format of every other line
TEST (bench_init_says_each_thing_once)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{ \"mcpServers\": {\n"
                  "  \"fx\": { \"command\": \"" FIXTURE "\" },\n"
                  "  \"bad\": { \"command\": \"/nonexistent/mcpact-no-such-server\" }\n"
                  "} }\n");
    ru_run_t run = s_run ("bench", "init", "-c", path, "-r", "3", "--json");
    CHECK_EXIT (run, 0);
    json_t *servers = s_json_payload (run.out, "servers");
    CHECK (json_array_size (servers) == 2);
    json_decref (servers);
    CHECK_MSG (s_count (run.err, "server bad") == 1, "stderr:\n%s", run.err);
    CHECK_CONTAINS (run.err, "mcpact: server bad failed to start: cannot run");
    for (const char *line = run.err; *line; line = strchr (line, '\n') + 1) {
        CHECK_MSG (strncmp (line, "mcpact: ", 8) == 0, "a line not in the format:\n%s", run.err);
        if (!strchr (line, '\n'))
            break;
    }
    ru_run_free (&run);
}

//  `text` with every run of digits after "pid " made "N", and times
//  ("12 ms") made "N ms": all that may differ between runs. Malloc'ed.
static char *
s_normalise (const char *text)
{
    char *out = calloc (1, strlen (text) + 1);
    CHECK (out);
    size_t len = 0;
    for (const char *p = text; *p;) {
        if (strncmp (p, "pid ", 4) == 0 && p[4] >= '0' && p[4] <= '9') {
            memcpy (out + len, "pid N", 5);
            len += 5;
            for (p += 4; *p >= '0' && *p <= '9'; p++)
                ;
        } else
            out[len++] = *p++;
    }
    return out;
}

//  Every command in a `console` block of docs/cli.md prints what the
//  block shows after it: the docs cannot drift from what runs.
TEST (docs_examples)
{
    FILE *file = fopen (MCPACT_SOURCE_DIR "/docs/cli.md", "r");
    CHECK (file);
    char line[4096], expected[16384] = "", command[4096] = "";
    bool in_block = false;
    int commands = 0;
    while (true) {
        bool more = fgets (line, sizeof line, file) != NULL;
        bool fence = more && strncmp (line, "```", 3) == 0;
        bool next = more && in_block && strncmp (line, "$ mcpact", 8) == 0;
        if (*command && (!more || fence || next)) {
            //  Run the command before this line: split it as a shell would
            //  (words, '...' quoted)
            const char *args[32];
            int count = 0;
            char words[4096];
            snprintf (words, sizeof words, "%s", command + strlen ("$ mcpact "));
            for (char *p = words; *p && count < 31;) {
                while (*p == ' ')
                    p++;
                if (!*p || *p == '\n')
                    break;
                if (*p == '\'') {
                    args[count++] = ++p;
                    p = strchr (p, '\'');
                    CHECK (p);
                } else {
                    args[count++] = p;
                    p += strcspn (p, " \n");
                }
                if (*p)
                    *p++ = 0;
            }
            args[count] = NULL;
            ru_run_t run = s_run_in (NULL, args);
            char *got = s_normalise (run.out), *want = s_normalise (expected);
            CHECK_MSG (strcmp (got, want) == 0,
                       "docs/cli.md: %s--- the docs show:\n%s--- it printed:\n%s", command, want,
                       got);
            free (got);
            free (want);
            ru_run_free (&run);
            commands++;
            command[0] = expected[0] = 0;
        }
        if (!more)
            break;
        if (fence) {
            in_block = !in_block && strncmp (line, "```console", 10) == 0;
            continue;
        }
        if (next)
            snprintf (command, sizeof command, "%s", line);
        else if (in_block && *command)
            strncat (expected, line, sizeof expected - strlen (expected) - 1);
    }
    fclose (file);
    CHECK_MSG (commands >= 5, "only %d commands in console blocks", commands);
}

//  --------------------------------------------------------------------------
//  Resources, prompts and server log messages

TEST (resources_prompts_read)
{
    char node[PATH_MAX];
    s_require_peers (node, sizeof node);
    char text[2 * PATH_MAX + 512];
    snprintf (text, sizeof text,
              "{ \"mcpServers\": {\n"
              "    \"everything\": { \"command\": \"%s\", \"args\": [\"%s\", \"stdio\"],\n"
              "                    \"timeouts\": { \"connect\": 30000, \"list\": 30000 } },\n"
              "    \"fx\": { \"command\": \"%s\", \"args\": [\"--resources\", \"3\", \"--prefix\", "
              "\"fx_\"] }\n"
              "} }\n",
              node, EVERYTHING_JS, FIXTURE);
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, text);

    ru_run_t run = s_run ("-c", path, "resources");
    CHECK_EXIT (run, 0);
    char *row = s_table_row (run.out, "demo://resource/static/document/architecture.md");
    CHECK_MSG (row, "no architecture.md row:\n%s", run.out);
    CHECK_CONTAINS (row, "everything");
    free (row);
    row = s_table_row (run.out, "fixture://resource/0002");
    CHECK_MSG (row, "no fixture resource row:\n%s", run.out);
    CHECK_CONTAINS (row, "fx");
    free (row);
    CHECK (s_table_has_row (run.out, "demo://resource/dynamic/text/{resourceId}"));
    ru_run_free (&run);

    run = s_run ("-c", path, "resources", "--server", "fx", "--json");
    CHECK_EXIT (run, 0);
    json_t *resources = s_json_payload (run.out, "resources");
    CHECK (json_array_size (resources) == 3);
    json_decref (resources);
    ru_run_free (&run);

    //  Read: the server that lists it, or the one whose template matches.
    run = s_run ("-c", path, "read", "fixture://resource/0001");
    CHECK_EXIT (run, 0);
    CHECK_STR (run.out, "resource 1\n");
    ru_run_free (&run);
    run = s_run ("-c", path, "read", "demo://resource/dynamic/text/5");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "Resource 5");
    ru_run_free (&run);
    run = s_run ("-c", path, "read", "demo://resource/dynamic/blob/5");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "[blob demo://resource/dynamic/blob/5 ");
    ru_run_free (&run);
    run = s_run ("-c", path, "read", "fixture://resource/0001", "--server", "nosuch");
    CHECK_EXIT (run, 4);
    CHECK_CONTAINS (run.err, "no server nosuch");
    ru_run_free (&run);

    run = s_run ("-c", path, "prompts");
    CHECK_EXIT (run, 0);
    row = s_table_row (run.out, "args-prompt");
    CHECK_MSG (row, "no args-prompt row:\n%s", run.out);
    CHECK_CONTAINS (row, "city* state");
    free (row);
    ru_run_free (&run);

    run = s_run ("-c", path, "prompt", "args-prompt", "city=Paris");
    CHECK_EXIT (run, 0);
    CHECK_STR (run.out, "user: What's weather in Paris?\n");
    ru_run_free (&run);
    run = s_run ("-c", path, "prompt", "args-prompt", "Paris");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "prompt arguments are ARG=VALUE, not 'Paris'");
    ru_run_free (&run);
    run = s_run ("-c", path, "prompt", "args-prompt", "city=a", "city=b");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "prompt argument city is given twice");
    ru_run_free (&run);
    run = s_run ("-c", path, "prompt", "args-prompt", "city=a", "bogus=1");
    CHECK_EXIT (run, 1);
    CHECK_CONTAINS (run.err, "mcpact: error: server everything: prompt args-prompt has no "
                             "argument bogus (its arguments: city, state)\n");
    ru_run_free (&run);
    //  What the server refuses names the server and the request, once.
    run = s_run ("-c", path, "read", "demo://nope", "--server", "everything");
    CHECK_EXIT (run, 1);
    CHECK_STR (run.err, "mcpact: error: server everything: resources/read: the server answered "
                        "with error -32602: Resource demo://nope not found\n");
    ru_run_free (&run);
}

//  A stdio server that fails at start says why on its stderr: its last
//  lines are in the error, and in status -v and --json, as for one that
//  is ready.
TEST (start_failure_keeps_stderr)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{\"mcpServers\": {\"s3\": {\"command\": \"sh\", \"args\": [\"-c\", "
                  "\"echo usage: s3 [-x] >&2; echo boom >&2; sleep 0.3; exit 7\"]}}}");
    ru_run_t run = s_run ("-c", path, "status", "-v");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "the server process exited with status 7; its stderr ends: usage: "
                             "s3 [-x] | boom");
    CHECK_CONTAINS (run.out, "s3 stderr:\n  usage: s3 [-x]\n  boom\n");
    ru_run_free (&run);
    run = s_run ("-c", path, "status", "--json");
    CHECK_EXIT (run, 0);
    json_t *servers = s_json_payload (run.out, "servers");
    CHECK_STR (ru_str (json_array_get (servers, 0), "stderr"), "usage: s3 [-x]\nboom\n");
    json_decref (servers);
    ru_run_free (&run);
    //  A usage text after the line that says what was wrong: that line
    //  comes first.
    s_write_temp (path, sizeof path,
                  "{\"mcpServers\": {\"fx\": {\"command\": \"" FIXTURE
                  "\", \"args\": [\"--bogus\"]}}}");
    run = s_run ("-c", path, "status");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "the server process exited with status 2; its stderr says: fixture: "
                             "unknown switch --bogus | ... | ");
    ru_run_free (&run);
}

//  --server-log LEVEL prints what the servers log at LEVEL and above, in
//  order, also from a server that sends every level whatever it is told.
TEST (server_log_messages)
{
    char text[PATH_MAX + 512];
    snprintf (text, sizeof text,
              "{ \"mcpServers\": { \"fx\": { \"command\": \"%s\", \"args\": [\"--resources\", "
              "\"1\", \"--log-on-list\", \"--capabilities\", "
              "\"{\\\"resources\\\":{},\\\"logging\\\":{}}\"] } } }\n",
              FIXTURE);
    char path[PATH_MAX];
    s_write_temp (path, sizeof path, text);
    ru_run_t run = s_run ("-c", path, "--server-log", "error", "resources");
    CHECK_EXIT (run, 0);
    const char *error =
        strstr (run.err, "mcpact: server fx: error: fixture: {\"level\":\"error\"}");
    const char *emergency = strstr (run.err, "mcpact: server fx: emergency: fixture: ");
    CHECK_MSG (error && emergency && error < emergency, "stderr:\n%s", run.err);
    CHECK_MSG (!strstr (run.err, "warning: fixture"), "stderr:\n%s", run.err);
    ru_run_free (&run);

    run = s_run ("-c", path, "--server-log", "loud", "resources");
    CHECK_EXIT (run, 2);
    CHECK_CONTAINS (run.err, "--server-log wants a level");
    ru_run_free (&run);
}

//  --------------------------------------------------------------------------
//  Servers that ask back: --root, and elicitation prompted on a terminal,
//  declined off one (sampling is not offered)

#define ASK_FORM                                                                                   \
    "{\"method\":\"elicitation/create\",\"params\":\"{\\\"message\\\":\\\"Who are you?\\\","       \
    "\\\"requestedSchema\\\":{\\\"type\\\":\\\"object\\\",\\\"properties\\\":{"                    \
    "\\\"name\\\":{\\\"type\\\":\\\"string\\\",\\\"title\\\":\\\"Name\\\"},"                       \
    "\\\"age\\\":{\\\"type\\\":\\\"integer\\\",\\\"default\\\":36}},"                              \
    "\\\"required\\\":[\\\"name\\\"]}}\"}"

TEST (roots_and_elicitation)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{\"mcpServers\": {\"fx\": {\"command\": \"" FIXTURE "\", \"args\": "
                  "[\"--asks\"]}}}");
    //  What the CLI offers: roots from --root, elicitation; not sampling.
    ru_run_t run =
        s_run ("-c", path, "--root", "/srv/a b", "--root", "file:///x", "call", "client_seen");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "\\\"capabilities\\\":{\\\"roots\\\":{\\\"listChanged\\\":true},"
                             "\\\"elicitation\\\":{\\\"form\\\":{}}}");
    ru_run_free (&run);
    run = s_run ("-c", path, "--root", "/srv/a b", "--root", "file:///x", "call", "ask",
                 "{\"method\":\"roots/list\",\"params\":\"{}\"}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out,
                    "{\\\"uri\\\":\\\"file:///srv/a%20b\\\"},{\\\"uri\\\":\\\"file:///x\\\"}");
    ru_run_free (&run);
    run = s_run ("-c", path, "--root", "http://x", "tools");
    CHECK_EXIT (run, 2);
    CHECK_STR (run.err,
               "mcpact: --root http://x: http://x is not a file:// URI (MCP roots are file:// "
               "URIs)\n");
    ru_run_free (&run);
    //  No roots given: none offered.
    run = s_run ("-c", path, "call", "client_seen");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "\\\"capabilities\\\":{\\\"elicitation\\\":{\\\"form\\\":{}}}");
    ru_run_free (&run);

    //  Off a terminal the server hears a decline.
    run = s_run ("-c", path, "call", "ask", ASK_FORM);
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "{\\\"result\\\":{\\\"action\\\":\\\"decline\\\"}}");
    ru_run_free (&run);

    //  On one, each field is asked for, its default shown; an empty line
    //  keeps the default, and a bad answer is said and asked again.
    run = s_pty_with ("--render --answer-at '[c]ancel: ' a --answer-at '(required): ' '' "
                      "--answer-at '(required): ' Ada --answer-at '[36]: ' ''",
                      "-c", path, "call", "ask", ASK_FORM);
    CHECK_MSG (run.status == 0, "exit %d:\n%s", run.status, run.out);
    CHECK_CONTAINS (run.out, "mcpact: server fx asks: Who are you?");
    CHECK_CONTAINS (run.out, "  name (Name) (required): ");
    CHECK_CONTAINS (run.out, "  age [36]: ");
    CHECK_CONTAINS (run.out, "    field name: required; type a value\n  name (required): Ada");
    CHECK_CONTAINS (run.out, "{\"result\":{\"action\":\"accept\",\"content\":{\"name\":\"Ada\","
                             "\"age\":36}}}");
    ru_run_free (&run);
}

//  On a terminal each field is checked as it is typed: one that does not
//  fit is said, with the reason, and that field asked again; a boolean
//  says what to type, and a default is shown as it was written.
TEST (elicitation_checks_each_field)
{
    char input_log[] = "/tmp/mcpact-cli-elicit-XXXXXX";
    int fd = mkstemp (input_log);
    CHECK (fd >= 0);
    close (fd);
    char path[PATH_MAX], text[PATH_MAX + 256];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"fx\": {\"command\": \"" FIXTURE "\", \"args\": "
              "[\"--asks\", \"--input-log\", \"%s\"]}}}",
              input_log);
    s_write_temp (path, sizeof path, text);
    json_t *params =
        json_pack ("{s:s,s:{s:s,s:{s:{s:s,s:s},s:{s:s},s:{s:s,s:f,s:i,s:i},s:{s:s,s:i}},s:[s]}}",
                   "message", "Who are you?", "requestedSchema", "type", "object", "properties",
                   "email", "type", "string", "format", "email", "ok", "type", "boolean", "ratio",
                   "type", "number", "default", 3.14, "minimum", 0, "maximum", 10, "age", "type",
                   "integer", "default", 36, "required", "email");
    char *params_text = json_dumps (params, JSON_COMPACT);
    json_t *args = json_pack ("{s:s,s:s}", "method", "elicitation/create", "params", params_text);
    char *args_text = json_dumps (args, JSON_COMPACT);
    ru_run_t run =
        s_pty_with ("--render --answer-at '[c]ancel: ' x --answer-at '[c]ancel: ' a "
                    "--answer-at '(required): ' bad-email --answer-at '(required): ' ada@x.org "
                    "--answer-at '(y/n): ' maybe --answer-at '(y/n): ' y "
                    "--answer-at '[3.14]: ' 11 --answer-at '[3.14]: ' '' "
                    "--answer-at '[36]: ' https://x.org --answer-at '[36]: ' 40",
                    "-c", path, "call", "ask", args_text);
    CHECK_MSG (run.status == 0, "exit %d:\n%s", run.status, run.out);
    CHECK_CONTAINS (run.out, "    type a, d or c\n");
    CHECK_CONTAINS (run.out, "    field email: \"bad-email\" is not a valid email\n"
                             "  email (required): ada@x.org\n");
    CHECK_CONTAINS (run.out, "  ok (y/n): maybe\n    field ok: type y or n\n  ok (y/n): y\n");
    CHECK_CONTAINS (run.out, "  ratio [3.14]: 11\n    field ratio: 11 is above the maximum 10\n");
    CHECK_CONTAINS (run.out, "    field age: expected an integer\n  age [36]: 40\n");
    CHECK_MSG (!strstr (run.out, "Again?"), "%s", run.out);
    CHECK_CONTAINS (run.out, "{\"result\":{\"action\":\"accept\",\"content\":{\"email\":"
                             "\"ada@x.org\",\"ok\":true,\"age\":40,\"ratio\":3.");
    ru_run_free (&run);
    //  The server got the default as it was written too.
    FILE *file = fopen (input_log, "r");
    CHECK (file);
    size_t got = fread (text, 1, sizeof text - 1, file);
    text[got] = 0;
    fclose (file);
    unlink (input_log);
    CHECK_CONTAINS (text, "\"age\":40,\"ratio\":3.14}");
    free (args_text);
    json_decref (args);
    free (params_text);
    json_decref (params);
}

//  Roots from the file and from --root: paths made absolute with "."
//  and ".." resolved; --root adds to the file's roots; a server with its
//  own keeps them, and that is said; a root that is not an existing
//  directory is offered with a warning.
TEST (roots_file_and_command_line)
{
    char base[] = "/tmp/mcpact-cli-roots-XXXXXX";
    CHECK (mkdtemp (base));
    char dir[PATH_MAX], path[PATH_MAX], text[PATH_MAX + 512];
    snprintf (dir, sizeof dir, "%s/cfgdir", base);
    CHECK (mkdir (dir, 0700) == 0);
    snprintf (dir, sizeof dir, "%s/proj", base);
    CHECK (mkdir (dir, 0700) == 0);
    snprintf (path, sizeof path, "%s/cfgdir/r.json", base);
    FILE *file = fopen (path, "w");
    CHECK (file);
    fprintf (file, "{\"roots\": [\"../proj\"], \"mcpServers\": {\"fx\": {\"command\": \"" FIXTURE
                   "\", \"args\": [\"--asks\"]}, \"own\": {\"command\": \"sh\", \"args\": [\"-c\", "
                   "\"exit 0\"], \"roots\": [\"/\"]}}}");
    fclose (file);
    snprintf (text, sizeof text, "%s/./proj/../cfgdir", base);
    ru_run_t run = s_run ("-c", path, "--root", text, "--root", "/etc/passwd", "call", "ask",
                          "{\"method\":\"roots/list\",\"params\":\"{}\"}");
    CHECK_EXIT (run, 0);
    snprintf (text, sizeof text,
              "{\\\"uri\\\":\\\"file://%s/proj\\\"},{\\\"uri\\\":\\\"file://%s/cfgdir\\\"},{"
              "\\\"uri\\\":\\\"file:///etc/passwd\\\"}]",
              base, base);
    CHECK_CONTAINS (run.out, text);
    CHECK_CONTAINS (run.err, "mcpact: warning: --root /etc/passwd: /etc/passwd is not a "
                             "directory (offered all the same)\n");
    CHECK_CONTAINS (run.err, "mcpact: warning: --root: server own has \"roots\" of its own; it "
                             "is offered those, not --root\n");
    ru_run_free (&run);
    snprintf (text, sizeof text, "rm -rf '%s'", base);
    CHECK (system (text) == 0);
}

//  A call does not time out while the user reads the form (the call
//  timeout here is 200 ms); it ends at its hard limit, and the prompt
//  then says why, not that a server stopped.
TEST (elicitation_outlives_the_call_timeout)
{
    char path[PATH_MAX];
    s_write_temp (path, sizeof path,
                  "{\"mcpServers\": {\"fx\": {\"command\": \"" FIXTURE "\", \"args\": "
                  "[\"--asks\"], \"timeouts\": {\"call\": 200, \"max\": 1500}}}}");
    ru_run_t run =
        s_pty_with ("--render --answer-at '[c]ancel: ' a", "-c", path, "call", "ask", ASK_FORM);
    CHECK_MSG (run.status == 5, "exit %d:\n%s", run.status, run.out);
    CHECK_CONTAINS (run.out, "mcpact: error: server fx: no answer within 1500 ms, the call's hard "
                             "limit");
    CHECK_CONTAINS (run.out, "(the request is over: the call ended: server fx: no answer within "
                             "1500 ms, the call's hard limit");
    CHECK_MSG (!strstr (run.out, "within 200 ms") && !strstr (run.out, "the server stopped"), "%s",
               run.out);
    ru_run_free (&run);
}

TEST (everything_roots_and_declined_elicitation)
{
    char node[PATH_MAX];
    s_require_peers (node, sizeof node);
    char text[2 * PATH_MAX + 256], path[PATH_MAX];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"everything\": {\"command\": \"%s\", \"args\": [\"%s\", "
              "\"stdio\"]}}}",
              node, EVERYTHING_JS);
    s_write_temp (path, sizeof path, text);
    ru_run_t run = s_run ("-c", path, "--root", "/projects/one", "call", "get-roots-list");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "URI: file:///projects/one");
    ru_run_free (&run);
    run = s_run ("-c", path, "call", "trigger-elicitation-request");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "User declined to provide the requested information");
    ru_run_free (&run);
    //  Not offered sampling: server-everything has no sampling tool.
    run = s_run ("-c", path, "call", "trigger-sampling-request", "{\"prompt\":\"x\"}");
    CHECK_EXIT (run, 4);
    ru_run_free (&run);
}
