/*  =========================================================================
    test_scaleout - groups of servers in another process: a session that
    uses the servers of a `mcpact serve` daemon as one server ("group")

    Each case starts the group daemon, `mcpact serve` over the fixture
    server on 127.0.0.1, as a process of its own, and runs the session in
    this process (or the CLI as a third process). The daemon is killed,
    stopped (SIGSTOP: a peer that is there but silent, as behind a network
    that has gone) and started again on the same endpoint.
    =========================================================================
*/

#define PU_NAME "scale"
#include "protocol_util.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define CLI PU_CLI

//  More arguments for the group's fixture server, as JSON array items.
static const char *s_fixture_args = "";

//  A group daemon: `mcpact serve` over the fixture, with servers and no
//  agents.
typedef struct {
    pid_t pid;
    FILE *out;           //  its stdout
    char endpoint[256];  //  as bound
    char call_file[128]; //  made by the fixture when a call comes
    char pid_file[128];  //  the fixture's pid
} s_group_t;

//  Starts the daemon bound at `bind`, with the extra arguments
//  (NULL-terminated), and waits for its "bound" line.
static void
s_group_start (s_group_t *self, const char *dir, const char *bind, ...)
{
    memset (self, 0, sizeof *self);
    char config[256], text[1024];
    snprintf (config, sizeof config, "%s/group.json", dir);
    snprintf (self->call_file, sizeof self->call_file, "%s/called", dir);
    snprintf (self->pid_file, sizeof self->pid_file, "%s/fixture.pid", dir);
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"fixture\": {\"command\": \"%s\", \"args\": [\"--call-file\", "
              "\"%s\", \"--pid-file\", \"%s\"%s]}}}",
              RU_FIXTURE, self->call_file, self->pid_file, s_fixture_args);
    pu_write (config, text);
    //  setpriv: the daemon dies with this test, also when the test fails.
    const char *argv[32] = { "/usr/bin/setpriv", "--pdeathsig", "KILL", CLI, "serve", "-c", config,
                             "--bind",           bind };
    int argc = 9;
    va_list args;
    va_start (args, bind);
    for (const char *arg = va_arg (args, const char *); arg && argc < 31;
         arg = va_arg (args, const char *))
        argv[argc++] = arg;
    va_end (args);
    self->pid = pu_spawn (argv, &self->out);
    pu_serve_wait_bound (self->out, self->endpoint, sizeof self->endpoint, NULL, 0);
}

//  Sends `signal` and waits for the daemon to end.
static void
s_group_end (s_group_t *self, int signal_number)
{
    pu_serve_end (self->pid, self->out, signal_number);
    self->pid = 0;
}

//  A session with the group as server "east" (allow-listed to `allowed`,
//  comma-separated, or all), and the fixture as local server "local".
static mcpact_agent_t *
s_session (mcpact_runtime_t **runtime, mcpact_session_t **session, const char *endpoint,
           const char *allowed)
{
    *session = ru_session_new (runtime);
    CHECK (mcpact_session_set_name_policy (*session, MCPACT_NAMES_PREFIX) == 0);
    mcpact_server_config_t *group = mcpact_server_group_new ("east", endpoint);
    CHECK (group != NULL);
    //  A call's own timeout far beyond the watchdogs: a call answered
    //  before it was answered by the loss of the group.
    CHECK (mcpact_server_config_set_timeouts (group, 0, 0, 600000) == 0);
    char names[256];
    snprintf (names, sizeof names, "%s", allowed ? allowed : "");
    for (char *name = strtok (names, ","); name; name = strtok (NULL, ","))
        CHECK (mcpact_server_config_allow_tool (group, name) == 0);
    CHECK (mcpact_session_add_server (*session, &group) == 0);
    mcpact_server_config_t *local = ru_fixture ("local", NULL);
    CHECK (mcpact_session_add_server (*session, &local) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (*session, NULL);
    CHECK (agent != NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "east"), "ready");
    CHECK_STR (ru_str (ru_report_server (report, "east"), "transport"), "group");
    json_decref (report);
    return agent;
}

static bool
s_has_tool (mcpact_agent_t *agent, const char *name)
{
    char *names = ru_tool_names (agent);
    char *wanted = zsys_sprintf (",%s,", name);
    char *listed = zsys_sprintf (",%s,", names);
    bool found = strstr (listed, wanted) != NULL;
    free (names);
    zstr_free (&wanted);
    zstr_free (&listed);
    return found;
}

//  Waits (under a watchdog) until the tool is listed, or is not.
static void
s_wait_tool (mcpact_agent_t *agent, const char *name, bool listed, const char *what)
{
    ru_watchdog_arm (30, what);
    while (s_has_tool (agent, name) != listed)
        ru_sleep_ms (20);
    ru_watchdog_disarm ();
}

static void
s_wait_file (const char *path, const char *what)
{
    ru_watchdog_arm (30, what);
    while (access (path, F_OK) != 0)
        ru_sleep_ms (10);
    ru_watchdog_disarm ();
}

static long
s_file_number (const char *path)
{
    FILE *file = fopen (path, "r");
    long value = 0;
    if (file) {
        if (fscanf (file, "%ld", &value) != 1)
            value = 0;
        fclose (file);
    }
    return value;
}

//  A call made on a thread of its own, to act on the group meanwhile.
typedef struct {
    mcpact_agent_t *agent;
    mcpact_result_t *result;
} s_call_t;

static void *
s_call_sleep (void *arg)
{
    s_call_t *call = (s_call_t *) arg;
    call->result = mcpact_agent_call (call->agent, "east_sleep", "{\"ms\": 600000}", 0);
    return NULL;
}

//  A call in flight when the group is lost (`lose` does it) is answered
//  with an error naming the group, and its tools go from the list.
static void
s_lose_in_flight (mcpact_agent_t *agent, s_group_t *group, void (*lose) (s_group_t *))
{
    unlink (group->call_file);
    s_call_t call = { agent, NULL };
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, s_call_sleep, &call) == 0);
    s_wait_file (group->call_file, "the call to reach the group's server");
    lose (group);
    ru_watchdog_arm (30, "the call in flight to be answered after the group was lost");
    pthread_join (thread, NULL);
    ru_watchdog_disarm ();
    CHECK (call.result != NULL);
    CHECK_MSG (mcpact_result_status (call.result) != MCPACT_OK, "%s",
               mcpact_result_json (call.result));
    const char *error = mcpact_result_error (call.result);
    CHECK_MSG (error && strstr (error, "east") && strstr (error, group->endpoint),
               "the error names neither the group nor its endpoint: %s", error);
    mcpact_result_destroy (&call.result);
    s_wait_tool (agent, "east_echo", false, "the lost group's tools to go");
    CHECK (s_has_tool (agent, "local_echo"));
}

//  --------------------------------------------------------------------------

TEST (routed_call_and_allow_lists)
{
    const char *dir = pu_tmpdir ();
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", NULL);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, group.endpoint, "echo,pid,sleep");
    char *names = ru_tool_names (agent);
    //  The group's tools pass its allow-list, prefixed by the group's name
    //  as a server's are; the local server's are all there.
    CHECK_CONTAINS (names, "east_echo");
    CHECK_CONTAINS (names, "east_pid");
    CHECK_CONTAINS (names, "east_sleep");
    CHECK_MSG (!strstr (names, "east_add"), "a tool off the allow-list is listed: %s", names);
    CHECK_CONTAINS (names, "local_add");
    free (names);
    RU_CALL_IS (agent, "east_echo", "{\"message\": \"far away\"}", "far away");
    //  Answered by the daemon's server, not by ours.
    long remote = ru_pid (agent, "east_pid");
    CHECK (remote == s_file_number (group.pid_file));
    CHECK (remote != ru_pid (agent, "local_pid"));
    //  Off the allow-list: not callable either.
    mcpact_result_t *refused =
        ru_call_fails (agent, "east_add", "{\"a\": 1, \"b\": 2}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&refused);
    //  A call larger than the group takes (maxMessageBytes, 1 MiB) fails
    //  alone; the group stays up (the gateway would have dropped the
    //  connection, and every call on it).
    char *big = ru_big_args (1100 * 1024);
    mcpact_result_t *large = mcpact_agent_call (agent, "east_echo", big, 0);
    free (big);
    CHECK (mcpact_result_status (large) != MCPACT_OK);
    CHECK_CONTAINS (mcpact_result_error (large), "maxMessageBytes");
    mcpact_result_destroy (&large);
    RU_CALL_IS (agent, "east_echo", "{\"message\": \"still here\"}", "still here");
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *east = ru_named (status, "east");
    CHECK_MSG (east && json_is_object (json_object_get (east, "group")), "%s",
               json_dumps (status, 0));
    CHECK (json_integer_value (json_object_get (east, "restarts")) == 0);
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}

//  The group's maxMessageBytes is its ZMQ_MAXMSGSIZE, which libzmq applies
//  to each frame: a call whose arguments frame is just that size is
//  answered; one byte more is refused here, before anything is sent
//  (the gateway would drop the connection, and every call on it), with
//  MCPACT_ERR_ARGS and the real limit, not as the server's answer.
TEST (group_call_size_limit)
{
    const char *dir = pu_tmpdir ();
    s_fixture_args = ", \"--resources\", \"1\"";
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", NULL);
    s_fixture_args = "";
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, group.endpoint, "echo");
    //  ru_big_args (n): {"message":"x…"}, n + 14 bytes.
    const size_t limit = 1024 * 1024;
    char *fits = ru_big_args (limit - 14);
    CHECK (strlen (fits) == limit);
    //  (A MiB through the daemons takes a fraction of a second; under
    //  ThreadSanitizer, which cannot see libzmq's hand-offs and checks
    //  the whole buffer as it goes, over a minute.)
    mcpact_result_t *answered = mcpact_agent_call (agent, "east_echo", fits, 170000);
    free (fits);
    CHECK_MSG (mcpact_result_status (answered) == MCPACT_OK, "status %d: %s",
               mcpact_result_status (answered), mcpact_result_error (answered));
    mcpact_result_destroy (&answered);
    char *over = ru_big_args (limit - 13);
    mcpact_result_t *refused = mcpact_agent_call (agent, "east_echo", over, 0);
    free (over);
    CHECK_MSG (mcpact_result_status (refused) == MCPACT_ERR_ARGS, "status %d: %s",
               mcpact_result_status (refused), mcpact_result_error (refused));
    const char *error = mcpact_result_error (refused);
    CHECK_CONTAINS (error, "the call of echo is larger than the group's maxMessageBytes (1048576 "
                           "bytes, the limit of one frame): its arguments frame is 1048577 bytes; "
                           "nothing was sent");
    CHECK_MSG (!strstr (error, "answered"), "%s", error);
    mcpact_result_destroy (&refused);
    //  The group's other requests are held to the same limit: a read of
    //  a URI longer than a frame may be.
    char *uri = (char *) malloc (limit + 2);
    CHECK (uri);
    memcpy (uri, "fixture://", 10);
    memset (uri + 10, 'u', limit + 1 - 10);
    uri[limit + 1] = 0;
    refused = mcpact_agent_read_resource (agent, "east", uri, 0);
    free (uri);
    CHECK_MSG (mcpact_result_status (refused) == MCPACT_ERR_ARGS, "status %d: %s",
               mcpact_result_status (refused), mcpact_result_error (refused));
    CHECK_CONTAINS (mcpact_result_error (refused),
                    "resources/read is larger than the group's maxMessageBytes (1048576 bytes, "
                    "the limit of one frame): its uri frame is 1048577 bytes; nothing was sent");
    mcpact_result_destroy (&refused);
    //  Nothing was sent: the group's connection, and its calls, go on.
    RU_CALL_IS (agent, "east_echo", "{\"message\": \"still here\"}", "still here");
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK (json_integer_value (json_object_get (ru_named (status, "east"), "restarts")) == 0);
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}

//  A relative ipc:// path is bound as an absolute one: serve says it,
//  and HELLO advertises its events endpoint so, so that a session in
//  another directory reaches the same file (it used to connect its
//  events SUB to a path that did not exist there, and lose them all).
TEST (relative_ipc_bound_absolute)
{
    const char *dir = pu_tmpdir ();
    char real[PATH_MAX], here[PATH_MAX], expected[PATH_MAX + 32];
    CHECK (realpath (dir, real) != NULL);
    CHECK (getcwd (here, sizeof here) != NULL);
    CHECK (chdir (dir) == 0);
    s_group_t group;
    s_group_start (&group, dir, "ipc://rg.sock", "--events", "ipc://./rg.ev", NULL);
    CHECK (chdir (here) == 0);
    snprintf (expected, sizeof expected, "ipc://%s/rg.sock", real);
    CHECK_STR (group.endpoint, expected);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, group.endpoint, "echo");
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *east = json_object_get (ru_named (status, "east"), "group");
    snprintf (expected, sizeof expected, "ipc://%s/rg.ev", real);
    CHECK_MSG (json_is_string (json_object_get (east, "events")), "%s",
               json_dumps (status, JSON_COMPACT));
    CHECK_STR (json_string_value (json_object_get (east, "events")), expected);
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}

static void
s_kill (s_group_t *group)
{
    s_group_end (group, SIGKILL);
}

TEST (killed_group_fails_calls_and_comes_back)
{
    const char *dir = pu_tmpdir ();
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", NULL);
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "%s", group.endpoint);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, endpoint, NULL);
    RU_CALL_IS (agent, "east_echo", "{\"message\": \"before\"}", "before");
    s_lose_in_flight (agent, &group, s_kill);
    //  Back on the same endpoint: found again by the session's retries.
    s_group_start (&group, dir, endpoint, NULL);
    s_wait_tool (agent, "east_echo", true, "the group's tools to come back");
    RU_CALL_IS (agent, "east_echo", "{\"message\": \"after\"}", "after");
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}

static atomic_int s_changes;

static void
s_on_tools_changed (const char *change_json, void *arg)
{
    (void) arg;
    if (strstr (change_json, "east_late_tool"))
        atomic_fetch_add (&s_changes, 1);
}

//  A tool added in the group (its server's list_changed, in the daemon)
//  joins the session's tools, and the session's tools-changed callback
//  says so.
TEST (group_tools_changed)
{
    const char *dir = pu_tmpdir ();
    //  Long enough for the session to list the group's tools before.
    s_fixture_args = ", \"--list-changed-after-ms\", \"5000\"";
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", NULL);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, group.endpoint, NULL);
    CHECK (mcpact_agent_set_tools_changed (agent, s_on_tools_changed, NULL) == 0);
    CHECK_MSG (!s_has_tool (agent, "east_late_tool"), "the session started after the change");
    s_wait_tool (agent, "east_late_tool", true, "the group's new tool to be listed");
    ru_watchdog_arm (30, "the tools-changed callback");
    while (atomic_load (&s_changes) == 0)
        ru_sleep_ms (10);
    ru_watchdog_disarm ();
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}

static char s_progress[128];

static void
s_on_progress (int64_t id, double progress, double total, const char *message, void *arg)
{
    (void) arg;
    snprintf (s_progress, sizeof s_progress, "%lld %g/%g %s", (long long) id, progress, total,
              message ? message : "");
}

static bool
s_file_has (const char *path, const char *text)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets (line, sizeof line, file))
        found = strstr (line, text) != NULL;
    fclose (file);
    return found;
}

//  Progress of the group's server reaches the caller that asked for it,
//  and a call the caller cancels is cancelled at the group's server.
TEST (progress_and_cancel_through_the_group)
{
    const char *dir = pu_tmpdir ();
    char input_log[128], args[256];
    snprintf (input_log, sizeof input_log, "%s/input.log", dir);
    snprintf (args, sizeof args, ", \"--input-log\", \"%s\"", input_log);
    s_fixture_args = args;
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", NULL);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, group.endpoint, NULL);
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller != NULL);
    mcpact_caller_set_progress (caller, s_on_progress, NULL);
    int64_t id = mcpact_caller_send (caller, "east_sleep", "{\"ms\": 600000}", 0);
    CHECK (id > 0);
    ru_watchdog_arm (30, "the group's progress");
    while (!*s_progress)
        CHECK (mcpact_caller_next (caller, 20) == NULL);
    ru_watchdog_disarm ();
    char expected[64];
    snprintf (expected, sizeof expected, "%lld 1/2 sleeping", (long long) id);
    CHECK_STR (s_progress, expected);
    CHECK (mcpact_caller_cancel (caller, id) == 0);
    mcpact_result_t *result = mcpact_caller_next (caller, -1);
    CHECK (result && mcpact_result_status (result) == MCPACT_ERR_CANCELLED);
    mcpact_result_destroy (&result);
    ru_watchdog_arm (30, "the cancellation to reach the group's server");
    while (!s_file_has (input_log, "notifications/cancelled"))
        ru_sleep_ms (20);
    ru_watchdog_disarm ();
    mcpact_caller_destroy (&caller);
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}

static void
s_stop (s_group_t *group)
{
    kill (group->pid, SIGSTOP);
}

//  A group that is there but answers nothing (a network that has gone
//  drops packets; it does not close connections) is found by ZeroMQ's
//  heartbeats.
TEST (silent_group_found_by_heartbeats)
{
    const char *dir = pu_tmpdir ();
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", NULL);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, group.endpoint, NULL);
    s_lose_in_flight (agent, &group, s_stop);
    kill (group.pid, SIGCONT);
    s_wait_tool (agent, "east_echo", true, "the group's tools to come back");
    RU_CALL_IS (agent, "east_echo", "{\"message\": \"awake\"}", "awake");
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}

//  CURVE between the session (the CLI, with a configuration file) and the
//  group: the right keys work; a key the group does not know never brings
//  the group up, and says why.
TEST (curve_right_and_wrong_key)
{
    const char *dir = pu_tmpdir ();
    char command[2048];
    snprintf (command, sizeof command,
              "mkdir -m 700 %s/clients && " CLI " keygen %s/group >/dev/null && " CLI
              " keygen %s/session >/dev/null && " CLI
              " keygen %s/stranger >/dev/null && cp %s/session %s/clients/",
              dir, dir, dir, dir, dir, dir);
    CHECK (system (command) == 0);
    char key[256], clients[256];
    snprintf (key, sizeof key, "%s/group", dir);
    snprintf (clients, sizeof clients, "%s/clients", dir);
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", "--curve-key", key, "--curve-clients", clients,
                   NULL);
    char path[256], text[1024];
    const char *who[] = { "session", "stranger" };
    for (int i = 0; i < 2; i++) {
        snprintf (path, sizeof path, "%s/%s.json", dir, who[i]);
        snprintf (text, sizeof text,
                  "{\"mcpServers\": {\"east\": {\"group\": \"%s\", \"serverKey\": \"%s/group\", "
                  "\"clientCertificate\": \"%s/%s_secret\", \"timeouts\": {\"connect\": 5000}}}}",
                  group.endpoint, dir, dir, who[i]);
        pu_write (path, text);
    }
    snprintf (path, sizeof path, "%s/session.json", dir);
    ru_run_t run =
        ru_cli (NULL, NULL,
                (const char *[]){ "-c", path, "call", "echo", "{\"message\": \"sealed\"}", NULL });
    CHECK_MSG (run.status == 0, "%s%s", run.out, run.err);
    CHECK_CONTAINS (run.out, "sealed");
    ru_run_free (&run);
    //  The status table says where the group is, and how it is reached.
    char where[300];
    snprintf (where, sizeof where, "%s (CURVE)", group.endpoint);
    run = ru_cli (NULL, NULL, (const char *[]){ "-c", path, "status", NULL });
    CHECK_CONTAINS (run.out, where);
    CHECK_MSG (!strstr (run.out, "not connected"), "%s", run.out);
    ru_run_free (&run);
    snprintf (path, sizeof path, "%s/stranger.json", dir);
    run = ru_cli (NULL, NULL, (const char *[]){ "-c", path, "--json", "status", NULL });
    CHECK_MSG (!strstr (run.out, "\"ready\""), "a group came up with a key it does not know: %s",
               run.out);
    CHECK_CONTAINS (run.out, "refused our key");
    ru_run_free (&run);
    s_group_end (&group, SIGTERM);
}

//  With CURVE, the gateway's ZMQ_MAXMSGSIZE applies to the frame
//  encrypted, 33 bytes more: arguments 33 bytes under maxMessageBytes are
//  answered, one byte more is refused before sending, saying so.
TEST (curve_call_size_limit)
{
    const char *dir = pu_tmpdir ();
    pu_curve_t keys;
    pu_curve_keys (&keys, dir);
    const char *key = keys.group, *clients = keys.clients, *secret = keys.session;
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", "--curve-key", key, "--curve-clients", clients,
                   NULL);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_name_policy (session, MCPACT_NAMES_PREFIX) == 0);
    mcpact_server_config_t *config = mcpact_server_group_new ("east", group.endpoint);
    CHECK (config != NULL);
    CHECK (mcpact_server_config_set_group_curve (config, key, secret) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent != NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "east"), "ready");
    json_decref (report);
    const size_t limit = 1024 * 1024;
    char *fits = ru_big_args (limit - 33 - 14);
    //  (A MiB through the daemons takes a fraction of a second; under
    //  ThreadSanitizer, which cannot see libzmq's hand-offs and checks
    //  the whole buffer as it goes, over a minute.)
    mcpact_result_t *answered = mcpact_agent_call (agent, "east_echo", fits, 170000);
    free (fits);
    CHECK_MSG (mcpact_result_status (answered) == MCPACT_OK, "status %d: %s",
               mcpact_result_status (answered), mcpact_result_error (answered));
    mcpact_result_destroy (&answered);
    char *over = ru_big_args (limit - 33 - 13);
    mcpact_result_t *refused = mcpact_agent_call (agent, "east_echo", over, 0);
    free (over);
    CHECK_MSG (mcpact_result_status (refused) == MCPACT_ERR_ARGS, "status %d: %s",
               mcpact_result_status (refused), mcpact_result_error (refused));
    CHECK_CONTAINS (mcpact_result_error (refused),
                    "its arguments frame is 1048544 bytes (and CURVE adds 33 bytes to a frame); "
                    "nothing was sent");
    mcpact_result_destroy (&refused);
    RU_CALL_IS (agent, "east_echo", "{\"message\": \"still here\"}", "still here");
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}

//  The configuration's mistakes about groups are named where they are.
TEST (group_config_errors)
{
    const char *dir = pu_tmpdir ();
    static const struct {
        const char *server;
        const char *message;
    } cases[] = {
        { "{\"group\": \"tcp://127.0.0.1:1\", \"command\": \"x\"}", "has both \"group\"" },
        { "{\"group\": \"tcp://127.0.0.1:1\", \"serverKey\": \"k\"}", "CURVE needs both" },
        { "{\"command\": \"x\", \"agent\": \"a\"}", "agent: only for a server with \"group\"" },
        { "{\"group\": \"\"}", "group: must not be empty" },
        //  The endpoint is checked as serve's --bind and --connect check
        //  theirs; libzmq would take port 99999 as 34463 (another daemon).
        { "{\"group\": \"tcp://127.0.0.1:99999\"}",
          "bad.json: mcpServers.east.group: 'tcp://127.0.0.1:99999': the port is not a number "
          "up to 65535" },
        { "{\"group\": \"tcp://127.0.0.1\"}",
          "bad.json: mcpServers.east.group: 'tcp://127.0.0.1': no port" },
        { "{\"group\": \"http://127.0.0.1:57340\"}",
          "bad.json: mcpServers.east.group: 'http://127.0.0.1:57340': not an endpoint mcpact "
          "serve binds" },
        { "{\"group\": \"tcp://*:57340\"}",
          "bad.json: mcpServers.east.group: 'tcp://*:57340': the host '*' (every interface) is "
          "for a bind" },
        { "{\"group\": \"ipc://\"}", "bad.json: mcpServers.east.group: 'ipc://': no path" },
    };
    char path[256], text[512];
    snprintf (path, sizeof path, "%s/bad.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf (text, sizeof text, "{\"mcpServers\": {\"east\": %s}}", cases[i].server);
        pu_write (path, text);
        const char *commands[] = { "tools", "status" };
        for (int j = 0; j < 2; j++) {
            ru_run_t run = ru_cli (NULL, NULL, (const char *[]){ "-c", path, commands[j], NULL });
            //  2: a configuration error, as the file's other mistakes.
            CHECK_MSG (run.status == 2, "%s: status %d for %s: %s%s", commands[j], run.status, text,
                       run.out, run.err);
            CHECK_CONTAINS (run.err, cases[i].message);
            ru_run_free (&run);
        }
    }
}

//  A serverKey or clientCertificate file of the wrong kind fails the
//  group with the key named and what is wrong, and nothing of the file
//  is printed.
TEST (group_key_files_checked)
{
    const char *dir = pu_tmpdir ();
    char command[1024];
    snprintf (command, sizeof command,
              CLI " keygen %s/group >/dev/null && " CLI " keygen %s/session >/dev/null && "
                  "printf 'SECRET-WORDS here\\n' > %s/notes.txt",
              dir, dir, dir);
    CHECK (system (command) == 0);
    const struct {
        const char *server_key;
        const char *certificate;
        const char *says;
    } cases[] = {
        { "notes.txt", "session_secret",
          "serverKey is neither a public key (40 Z85 characters) nor a certificate: the key "
          "file " },
        { "group", "notes.txt", "clientCertificate: the key file " },
        { "group", "group", "holds no secret key: it is a public certificate" },
    };
    char path[256], text[1024];
    snprintf (path, sizeof path, "%s/session.json", dir);
    //  The session has the group's certificate, not its key pair.
    snprintf (text, sizeof text, "%s/group_secret", dir);
    CHECK (unlink (text) == 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf (text, sizeof text,
                  "{\"mcpServers\": {\"east\": {\"group\": \"tcp://127.0.0.1:1\", \"serverKey\": "
                  "\"%s/%s\", \"clientCertificate\": \"%s/%s\"}}}",
                  dir, cases[i].server_key, dir, cases[i].certificate);
        pu_write (path, text);
        ru_run_t run =
            ru_cli (NULL, NULL, (const char *[]){ "-c", path, "--json", "status", NULL });
        CHECK_CONTAINS (run.out, "\"failed\"");
        CHECK_CONTAINS (run.out, cases[i].says);
        CHECK_MSG (!strstr (run.out, "SECRET-WORDS") && !strstr (run.err, "SECRET-WORDS"),
                   "the file's content was printed: %s%s", run.out, run.err);
        ru_run_free (&run);
    }
}

//  A call the group fails keeps the group's status, and its message
//  names the group: the group's server died during the call is a
//  server error here (CLI exit 6), not a protocol error; a tool's own
//  error stays a tool error.
TEST (group_failure_keeps_its_status)
{
    const char *dir = pu_tmpdir ();
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", NULL);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, group.endpoint, NULL);
    mcpact_result_t *result = ru_call_fails (agent, "east_fail", "{}", 0, MCPACT_ERR_TOOL);
    mcpact_result_destroy (&result);
    result = ru_call_fails (agent, "east_crash", "{}", 0, MCPACT_ERR_SERVER);
    char *named = zsys_sprintf ("server east: the group at %s: ", group.endpoint);
    CHECK_CONTAINS (mcpact_result_error (result), named);
    zstr_free (&named);
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
    //  The CLI's exit status follows: 6, its server is down or died.
    char path[256], text[512];
    snprintf (path, sizeof path, "%s/session.json", dir);
    snprintf (text, sizeof text, "{\"mcpServers\": {\"east\": {\"group\": \"%s\"}}}",
              group.endpoint);
    pu_write (path, text);
    //  Its server died, or is restarting: either is the group's server
    //  failing.
    ru_run_t run = ru_cli (NULL, NULL, (const char *[]){ "-c", path, "call", "crash", "{}", NULL });
    CHECK_MSG (run.status == 6, "exit %d: %s%s", run.status, run.out, run.err);
    CHECK_CONTAINS (run.err, "the group at ");
    ru_run_free (&run);
    s_group_end (&group, SIGTERM);
}

//  A stand-in gateway on a thread: HELLO, STATUS and TOOLS answered as a
//  gateway does (one tool, echo), and each CALL answered with the status
//  its arguments name ({"status": N}) and the message "remote N".
typedef struct {
    zsock_t *router;
    atomic_bool stop;
    pthread_t thread;
    char endpoint[256]; //  ipc://DIR/fake.sock
} s_fake_t;

//  The events endpoint the stand-in's HELLO names, "" for none.
static char s_fake_events[256] = "";

static void *
s_fake_run (void *arg)
{
    s_fake_t *fake = (s_fake_t *) arg;
    zpoller_t *poller = zpoller_new (fake->router, NULL);
    while (!atomic_load (&fake->stop)) {
        if (!zpoller_wait (poller, 50))
            continue;
        zmsg_t *msg = zmsg_recv (fake->router);
        if (!msg)
            break;
        zframe_t *peer = zmsg_pop (msg);
        char *verb = zmsg_popstr (msg);
        char *id = zmsg_popstr (msg);
        zmsg_t *reply = zmsg_new ();
        zmsg_append (reply, &peer);
        if (streq (verb, "CALL")) {
            free (zmsg_popstr (msg)); //  agent
            free (zmsg_popstr (msg)); //  tool
            char *args = zmsg_popstr (msg);
            json_t *body = json_loads (args, 0, NULL);
            int status = (int) json_integer_value (json_object_get (body, "status"));
            json_decref (body);
            free (args);
            zmsg_addstr (reply, "RESULT");
            zmsg_addstr (reply, id);
            zmsg_addstrf (reply, "%d", status);
            zmsg_addstrf (reply, "{\"message\": \"remote %d\"}", status);
        } else {
            zmsg_addstr (reply, verb);
            zmsg_addstr (reply, id);
            if (streq (verb, "HELLO"))
                zmsg_addstrf (reply,
                              "{\"agents\": [{\"name\": \"\", \"servers\": []}], "
                              "\"server\": {\"name\": \"mcpact\", \"version\": \"0\"}, "
                              "\"eventEndpoints\": [%s%s%s]}",
                              *s_fake_events ? "\"" : "", s_fake_events,
                              *s_fake_events ? "\"" : "");
            else if (streq (verb, "STATUS"))
                zmsg_addstr (reply, "[]");
            else if (streq (verb, "TOOLS"))
                zmsg_addstr (reply,
                             "[{\"name\": \"echo\", \"inputSchema\": {\"type\": \"object\"}}]");
        }
        zmsg_send (&reply, fake->router);
        free (verb);
        free (id);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return NULL;
}

//  Starts the stand-in gateway at ipc://DIR/fake.sock.
static void
s_fake_start (s_fake_t *self, const char *dir)
{
    atomic_init (&self->stop, false);
    snprintf (self->endpoint, sizeof self->endpoint, "ipc://%s/fake.sock", dir);
    self->router = zsock_new_router (self->endpoint);
    CHECK (self->router != NULL);
    CHECK (pthread_create (&self->thread, NULL, s_fake_run, self) == 0);
}

static void
s_fake_stop (s_fake_t *self)
{
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    zsock_destroy (&self->router);
}

//  Each status a group answers a call with is the call's status here
//  (its own failure, 7, is its server's failure here), with the group's
//  message after its endpoint.
TEST (group_statuses_pass_through)
{
    const char *dir = pu_tmpdir ();
    s_fake_t fake;
    s_fake_start (&fake, dir);
    const char *bind = fake.endpoint;
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, bind, NULL);
    static const struct {
        int remote;
        mcpact_status_t local;
    } cases[] = {
        { 2, MCPACT_ERR_UNKNOWN_TOOL }, { 3, MCPACT_ERR_TIMEOUT }, { 4, MCPACT_ERR_SERVER },
        { 5, MCPACT_ERR_PROTOCOL },     { 6, MCPACT_ERR_ARGS },    { 7, MCPACT_ERR_SERVER },
        { 8, MCPACT_ERR_CANCELLED },    { 9, MCPACT_ERR_BUSY },    { 42, MCPACT_ERR_PROTOCOL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[64], said[512];
        snprintf (args, sizeof args, "{\"status\": %d}", cases[i].remote);
        mcpact_result_t *result = ru_call_fails (agent, "east_echo", args, 0, cases[i].local);
        snprintf (said, sizeof said, "server east: the group at %s: ", bind);
        CHECK_CONTAINS (mcpact_result_error (result), said);
        snprintf (said, sizeof said, "remote %d", cases[i].remote);
        CHECK_CONTAINS (mcpact_result_error (result), said);
        mcpact_result_destroy (&result);
    }
    ru_teardown (&agent, &session, &runtime);
    s_fake_stop (&fake);
}

//  An ipc:// events endpoint that is not there (a gateway that advertised
//  a relative path names a file in its own directory) is said, naming
//  it, and not claimed: the group's status shows no events endpoint.
TEST (missing_ipc_events_endpoint_said)
{
    const char *dir = pu_tmpdir ();
    snprintf (s_fake_events, sizeof s_fake_events, "ipc://%s/missing.ev", dir);
    s_fake_t fake;
    s_fake_start (&fake, dir);
    const char *bind = fake.endpoint;
    mcpact_set_log (ru_log_line, NULL, MCPACT_LOG_WARN);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, bind, NULL);
    char said[1024];
    snprintf (said, sizeof said,
              "group east: cannot use the events endpoint %s of the gateway at %s: %s/missing.ev "
              "does not exist; resource subscriptions, list changes and server logs are not "
              "offered",
              s_fake_events, bind, dir);
    pthread_mutex_lock (&ru_log_lock);
    CHECK_CONTAINS (ru_log, said);
    pthread_mutex_unlock (&ru_log_lock);
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *east = json_object_get (ru_named (status, "east"), "group");
    CHECK_MSG (east && !json_is_string (json_object_get (east, "events")), "%s",
               json_dumps (status, JSON_COMPACT));
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
    s_fake_stop (&fake);
    *s_fake_events = 0; //  once the fake gateway, which reads it, is gone
}

//  While the group is away its tools are withdrawn; a call to one of
//  them is told that the group is not up, not only that there is no
//  such tool.
TEST (away_group_named_in_unknown_tool)
{
    const char *dir = pu_tmpdir ();
    s_group_t group;
    s_group_start (&group, dir, "tcp://127.0.0.1:*", NULL);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, group.endpoint, NULL);
    s_group_end (&group, SIGKILL);
    s_wait_tool (agent, "east_echo", false, "the lost group's tools to go");
    mcpact_result_t *result = ru_call_fails (agent, "east_echo", "{}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    CHECK_CONTAINS (mcpact_result_error (result), "servers not up: east");
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

//  CURVE keys on an ipc:// group are a configuration mistake, said at
//  once: in a configuration file, and through the API when it starts.
TEST (ipc_group_with_curve_refused)
{
    const char *dir = pu_tmpdir ();
    char path[256], text[512];
    snprintf (path, sizeof path, "%s/session.json", dir);
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"east\": {\"group\": \"ipc://%s/g.sock\", \"serverKey\": "
              "\"%s/group\", \"clientCertificate\": \"%s/session_secret\"}}}",
              dir, dir, dir);
    pu_write (path, text);
    ru_run_t run = ru_cli (NULL, NULL, (const char *[]){ "-c", path, "tools", NULL });
    CHECK_MSG (run.status != 0, "accepted: %s", text);
    CHECK_CONTAINS (run.err, "CURVE is for tcp:// groups; ipc:// sockets are plain");
    ru_run_free (&run);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    snprintf (text, sizeof text, "ipc://%s/g.sock", dir);
    mcpact_server_config_t *group = mcpact_server_group_new ("east", text);
    CHECK (group != NULL);
    CHECK (mcpact_server_config_set_group_curve (group, "key", "certificate") == 0);
    //  Beyond any watchdog: failed at once, not at the connect timeout.
    CHECK (mcpact_server_config_set_timeouts (group, 600000, 0, 0) == 0);
    CHECK (mcpact_session_add_server (session, &group) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    ru_watchdog_arm (30, "the group with CURVE on ipc:// to fail");
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    ru_watchdog_disarm ();
    CHECK_STR (ru_state (report, "east"), "failed");
    CHECK_CONTAINS (ru_str (ru_report_server (report, "east"), "error"),
                    "CURVE is for tcp:// groups");
    json_decref (report);
    ru_teardown (&agent, &session, &runtime);
}

//  A group nobody can answer fails at once, naming its endpoint and what
//  is there, not at the connect timeout (600 s here; ZeroMQ would retry
//  in silence): an ipc:// path with no socket, a directory, a regular
//  file, a socket file nobody listens on (what a daemon killed with -9
//  leaves), a host that does not resolve, a port nothing listens at
//  (refused, still after ENDPOINT_REFUSED_MS), and an endpoint that is
//  wrong (given to the C API, which takes it and fails it when it starts).
TEST (unreachable_group_said_at_once)
{
    const char *dir = pu_tmpdir ();
    char path[256];
    snprintf (path, sizeof path, "%s/dir", dir);
    CHECK (mkdir (path, 0700) == 0);
    snprintf (path, sizeof path, "%s/file", dir);
    pu_write (path, "text\n");
    //  A socket file that refuses: bound, never listened on, closed.
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    snprintf (address.sun_path, sizeof address.sun_path, "%s/stale.sock", dir);
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    CHECK (fd >= 0 && bind (fd, (struct sockaddr *) &address, sizeof address) == 0);
    close (fd);
    int refuser;
    int port = pu_refused_port (&refuser);
    struct {
        char endpoint[256];
        char says[512];
    } cases[8];
    snprintf (cases[0].endpoint, 256, "ipc://%s/none.sock", dir);
    snprintf (cases[0].says, 512,
              "cannot reach the group at ipc://%s/none.sock: %s/none.sock does not exist (is "
              "mcpact serve running there?)",
              dir, dir);
    snprintf (cases[1].endpoint, 256, "ipc://%s/dir", dir);
    snprintf (cases[1].says, 512,
              "cannot reach the group at ipc://%s/dir: %s/dir is a directory, "
              "not a socket",
              dir, dir);
    snprintf (cases[2].endpoint, 256, "ipc://%s/file", dir);
    snprintf (cases[2].says, 512,
              "cannot reach the group at ipc://%s/file: %s/file is a regular "
              "file, not a socket",
              dir, dir);
    snprintf (cases[3].endpoint, 256, "ipc://%s/stale.sock", dir);
    snprintf (cases[3].says, 512,
              "cannot reach the group at ipc://%s/stale.sock: nothing listens on the socket "
              "%s/stale.sock (connection refused",
              dir, dir);
    //  .invalid never resolves (RFC 6761).
    snprintf (cases[4].endpoint, 256, "tcp://no-such-host.invalid:5555");
    snprintf (cases[4].says, 512,
              "cannot reach the group at tcp://no-such-host.invalid:5555: "
              "the host no-such-host.invalid does not resolve");
    snprintf (cases[5].endpoint, 256, "tcp://127.0.0.1:%d", port);
    snprintf (cases[5].says, 512,
              "cannot reach the group at tcp://127.0.0.1:%d: nothing listens there (connection "
              "refused",
              port);
    snprintf (cases[6].endpoint, 256, "tcp://127.0.0.1:99999");
    snprintf (cases[6].says, 512,
              "group 'tcp://127.0.0.1:99999': the port is not a number up "
              "to 65535");
    snprintf (cases[7].endpoint, 256, "tcp://*:5555");
    snprintf (cases[7].says, 512,
              "group 'tcp://*:5555': the host '*' (every interface) is for "
              "a bind");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mcpact_runtime_t *runtime;
        mcpact_session_t *session = ru_session_new (&runtime);
        mcpact_server_config_t *group = mcpact_server_group_new ("east", cases[i].endpoint);
        CHECK (group != NULL);
        CHECK (mcpact_server_config_set_timeouts (group, 600000, 0, 0) == 0);
        CHECK (mcpact_session_add_server (session, &group) == 0);
        mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
        ru_watchdog_arm (30, cases[i].endpoint);
        int64_t started = ru_now_ms ();
        json_t *report = ru_json_take (mcpact_agent_start (agent));
        int64_t took = ru_now_ms () - started;
        ru_watchdog_disarm ();
        CHECK_STR (ru_state (report, "east"), "failed");
        CHECK_CONTAINS (ru_str (ru_report_server (report, "east"), "error"), cases[i].says);
        //  At once: not at a timeout a user would wait for.
        CHECK_MSG (took < 5000, "%s: failed after %lld ms", cases[i].endpoint, (long long) took);
        json_decref (report);
        ru_teardown (&agent, &session, &runtime);
    }
    close (refuser);
}

//  A group that takes the connection and never answers fails at the
//  connect timeout, which names the group's endpoint.
TEST (silent_group_timeout_names_it)
{
    //  A listener that accepts no ZeroMQ handshake: the kernel completes
    //  the TCP connection, nobody speaks.
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t size = sizeof address;
    CHECK (bind (listener, (struct sockaddr *) &address, sizeof address) == 0);
    CHECK (listen (listener, 8) == 0);
    CHECK (getsockname (listener, (struct sockaddr *) &address, &size) == 0);
    char endpoint[64], said[256];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", ntohs (address.sin_port));
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *group = mcpact_server_group_new ("east", endpoint);
    CHECK (group != NULL);
    CHECK (mcpact_server_config_set_timeouts (group, 1000, 0, 0) == 0);
    CHECK (mcpact_session_add_server (session, &group) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    ru_watchdog_arm (30, "the silent group to time out");
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    ru_watchdog_disarm ();
    CHECK_STR (ru_state (report, "east"), "failed");
    snprintf (said, sizeof said, "no answer to initialize from the group at %s within 1000 ms",
              endpoint);
    CHECK_CONTAINS (ru_str (ru_report_server (report, "east"), "error"), said);
    json_decref (report);
    ru_teardown (&agent, &session, &runtime);
    close (listener);
}

//  A group at an IPv6 address (a daemon bound at [::1]) is connected to
//  and called as one at an IPv4 address.
TEST (group_over_ipv6)
{
    pu_require_ipv6 ();
    const char *dir = pu_tmpdir ();
    s_group_t group;
    s_group_start (&group, dir, "tcp://[::1]:*", NULL);
    CHECK_CONTAINS (group.endpoint, "[::1]");
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = mcpact_server_group_new ("east", group.endpoint);
    CHECK (config != NULL);
    //  Not connected within this is not connected at all.
    CHECK (mcpact_server_config_set_timeouts (config, 20000, 0, 0) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_MSG (ru_state (report, "east") && streq (ru_state (report, "east"), "ready"), "%s",
               json_dumps (report, 0));
    json_decref (report);
    RU_CALL_IS (agent, "echo", "{\"message\": \"over IPv6\"}", "over IPv6");
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group, SIGTERM);
}
