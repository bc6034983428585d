/*  =========================================================================
    test_process - no server process outlives the host that started it

    Closing a stdio server ends its whole process group, not only the
    process mcpact started: what a launcher or the server itself left in
    the group goes too, whether the server is closed, restarted after it
    died, or given up on. A host killed outright takes its servers with
    it. The fixture server says where it is (--pid-file) and can outlive
    stdin EOF or SIGTERM, or leave a helper in its group (--helper).

    Checks look at /proc: a process counts as alive when it is not a
    zombie (dead, waiting for its parent, often a slow init, to reap it)
    and is still in the group it was found in, so that a reused pid does
    not count. Whatever a test started and finds alive at its end, also
    on a failed check, is killed by pid (an atexit hook), and its files
    removed.
    =========================================================================
*/

#include "mcpact.h"
#include "runtime_util.h"
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  Generous: the machine may be loaded. Not a speed requirement.
#define GONE_WAIT_MS 20000
#define FILE_WAIT_MS 30000

//  --------------------------------------------------------------------------
//  Processes the test started, and its files: cleaned up at exit

typedef struct {
    long pid;  //  a process some server started
    long pgid; //  the group it was found in
} s_proc_t;

static s_proc_t s_procs[16];
static int s_proc_count;
static char s_dir[64];

static void
s_cleanup (void)
{
    for (int index = 0; index < s_proc_count; index++)
        if (ru_alive (s_procs[index].pid, s_procs[index].pgid))
            kill ((pid_t) s_procs[index].pid, SIGKILL);
    if (*s_dir) {
        char command[128];
        snprintf (command, sizeof command, "rm -rf '%s'", s_dir);
        if (system (command) != 0)
            fprintf (stderr, "could not remove %s\n", s_dir);
    }
}

//  Remembers a process to kill at exit if it is still there. The hook is
//  (also) registered here, after the runtime's: hooks run last-in first,
//  and the runtime's aborts when a failed check exits with it still up.
static void
s_track (long pid, long pgid)
{
    static bool hooked;
    if (!hooked)
        hooked = atexit (s_cleanup) == 0;
    CHECK (s_proc_count < (int) (sizeof s_procs / sizeof s_procs[0]));
    s_procs[s_proc_count++] = (s_proc_t){ pid, pgid };
}

//  A path in the test's own temporary directory.
static const char *
s_path (const char *name)
{
    static char paths[4][128];
    static int next;
    if (!*s_dir) {
        snprintf (s_dir, sizeof s_dir, "/tmp/mcpact-process-XXXXXX");
        CHECK (mkdtemp (s_dir) != NULL);
        atexit (s_cleanup);
    }
    char *path = paths[next++ % 4];
    snprintf (path, sizeof paths[0], "%s/%s", s_dir, name);
    return path;
}

//  Reads "SERVER [HELPER]" from a fixture's --pid-file, waiting for it to
//  be written; tracks both (the server leads its own group).
static void
s_read_pids (const char *path, long *server, long *helper)
{
    FILE *file = NULL;
    for (int waited = 0; !file && waited < FILE_WAIT_MS; waited += 20) {
        if (!(file = fopen (path, "r")))
            ru_sleep_ms (20);
    }
    CHECK_MSG (file, "the server did not write %s", path);
    *server = *helper = 0;
    int count = fscanf (file, "%ld %ld", server, helper);
    fclose (file);
    CHECK_MSG (count >= 1 && *server > 0, "no pid in %s", path);
    s_track (*server, *server);
    if (*helper > 0)
        s_track (*helper, *server);
}

//  Waits (boundedly) for `pid` of group `pgid` to be gone.
static bool
s_gone (long pid, long pgid)
{
    for (int waited = 0; waited < GONE_WAIT_MS; waited += 20) {
        if (!ru_alive (pid, pgid))
            return true;
        ru_sleep_ms (20);
    }
    return false;
}

//  A fixture server that leaves a helper in its group and says where both
//  are; more switches may follow (NULL-terminated).
static mcpact_server_config_t *
s_fixture_with_helper (const char *name, const char *pid_file, const char *more)
{
    return ru_fixture (name, "--helper", "--pid-file", pid_file, more, NULL);
}

//  --------------------------------------------------------------------------
//  Closing ends the whole process group

//  The server exits on stdin EOF; its helper does not, and before, it was
//  left running under init.
TEST (close_ends_what_the_server_left)
{
    const char *pids = s_path ("pids");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_fixture_with_helper ("fx", pids, NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    RU_CALL_IS (agent, "echo", "{\"message\":\"hi\"}", "hi");
    long server, helper;
    s_read_pids (pids, &server, &helper);
    CHECK (helper > 0 && ru_alive (helper, server));

    ru_teardown (&agent, &session, &runtime);
    //  The close sequence ends only once the group is gone
    CHECK_MSG (!ru_alive (server, server), "the server %ld outlived the runtime", server);
    CHECK_MSG (!ru_alive (helper, server), "the helper %ld outlived the runtime", helper);
}

//  What is left after the server exited and ignores SIGTERM gets SIGKILL.
TEST (close_kills_what_ignores_sigterm)
{
    const char *pids = s_path ("pids");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_fixture_with_helper ("fx", pids, "--ignore-term");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    RU_CALL_IS (agent, "echo", "{\"message\":\"hi\"}", "hi");
    long server, helper;
    s_read_pids (pids, &server, &helper);

    ru_teardown (&agent, &session, &runtime);
    CHECK_MSG (!ru_alive (helper, server), "the helper %ld (ignoring SIGTERM) outlived the runtime",
               helper);
}

//  A server that died on its own is restarted; what it left in its group
//  must not live on beside the new one.
TEST (restart_ends_what_the_server_left)
{
    const char *pids = s_path ("pids");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_fixture_with_helper ("fx", pids, NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    long server, helper;
    CHECK (ru_pid (agent, "pid") > 0);
    s_read_pids (pids, &server, &helper);
    CHECK (unlink (pids) == 0);

    mcpact_result_t *result = ru_call_fails (agent, "crash", NULL, 0, MCPACT_ERR_SERVER);
    mcpact_result_destroy (&result);
    bool back = false;
    for (int waited = 0; waited < GONE_WAIT_MS && !back; waited += 50) {
        result = mcpact_agent_call (agent, "pid", NULL, 0);
        back = mcpact_result_status (result) == MCPACT_OK;
        mcpact_result_destroy (&result);
        if (!back)
            ru_sleep_ms (50);
    }
    CHECK_MSG (back, "the crashed server was not restarted");
    long new_server, new_helper;
    s_read_pids (pids, &new_server, &new_helper);
    CHECK (new_server != server);
    //  The old group was closed before the new server was started
    CHECK_MSG (!ru_alive (helper, server), "the helper %ld of the crashed server is still there",
               helper);
    CHECK (ru_alive (new_helper, new_server));

    ru_teardown (&agent, &session, &runtime);
    CHECK (!ru_alive (new_helper, new_server));
}

//  A server that never gets ready is given up on; its group goes with it.
TEST (failed_start_ends_what_the_server_left)
{
    const char *pids = s_path ("pids");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_fixture_with_helper ("fx", pids, "--no-answer");
    CHECK (mcpact_server_config_set_timeouts (config, 300, 0, 0) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    json_t *report = ru_json_take (mcpact_session_start (session));
    CHECK_STR (ru_state (report, "fx"), "failed");
    json_decref (report);
    long server, helper;
    s_read_pids (pids, &server, &helper);
    //  The report comes once the server is closed
    CHECK_MSG (!ru_alive (helper, server), "the helper %ld of the failed server is still there",
               helper);
    ru_teardown (NULL, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  A server's exit is seen even while something else holds its stdout

//  A server run by `sh -c` beside a helper that inherits its stdout (as
//  a browser or language server started by an MCP server does), and
//  writes its pid to `helper_file`; `then` is what sh does next.
static mcpact_server_config_t *
s_launcher (const char *name, const char *helper_file, const char *then)
{
    char script[512];
    snprintf (script, sizeof script, "sleep 300 & echo $! > '%s'; %s", helper_file, then);
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, "/bin/sh");
    CHECK (config);
    CHECK (mcpact_server_config_add_arg (config, "-c") == 0);
    CHECK (mcpact_server_config_add_arg (config, script) == 0);
    return config;
}

//  The helper's pid, once written; tracked for the clean-up.
static long
s_helper_pid (const char *path, long pgid)
{
    long helper = 0;
    for (int waited = 0; waited < FILE_WAIT_MS && helper <= 0; waited += 20) {
        FILE *file = fopen (path, "r");
        if (file && fscanf (file, "%ld", &helper) != 1)
            helper = 0;
        if (file)
            fclose (file);
        if (helper <= 0)
            ru_sleep_ms (20);
    }
    CHECK_MSG (helper > 0, "no helper pid in %s", path);
    s_track (helper, pgid);
    return helper;
}

TEST (exit_at_start_seen_while_a_helper_holds_stdout)
{
    //  Before, the start waited out the whole connect timeout for an
    //  answer that could not come.
    const char *helper_file = s_path ("helper");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_launcher ("fx", helper_file, "exit 3");
    CHECK (mcpact_server_config_set_timeouts (config, 30000, 0, 0) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    json_t *report = ru_json_take (mcpact_session_start (session));
    CHECK_STR (ru_state (report, "fx"), "failed");
    CHECK_CONTAINS (ru_str (ru_report_server (report, "fx"), "error"), "exited with status 3");
    json_decref (report);
    ru_teardown (NULL, &session, &runtime);
}

TEST (exit_after_start_seen_while_a_helper_holds_stdout)
{
    //  Before, the crashed server stayed "ready": the call in flight
    //  timed out, later calls failed, and it was never restarted.
    const char *helper_file = s_path ("helper");
    const char *pids = s_path ("pids");
    char then[256];
    snprintf (then, sizeof then, "exec '%s' --pid-file '%s'", RU_FIXTURE, pids);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = s_launcher ("fx", helper_file, then);
    CHECK (mcpact_server_config_set_timeouts (config, 0, 0, 30000) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    RU_CALL_IS (agent, "echo", "{\"message\":\"hi\"}", "hi");
    long server, none;
    s_read_pids (pids, &server, &none);
    long helper = s_helper_pid (helper_file, server);
    CHECK (unlink (pids) == 0 && unlink (helper_file) == 0);
    mcpact_result_t *result = ru_call_fails (agent, "crash", NULL, 0, MCPACT_ERR_SERVER);
    CHECK_CONTAINS (mcpact_result_error (result), "exited with status 3");
    mcpact_result_destroy (&result);
    //  Restarted, and what the old one left is gone
    bool back = false;
    for (int waited = 0; waited < GONE_WAIT_MS && !back; waited += 50) {
        result = mcpact_agent_call (agent, "echo", "{\"message\":\"back\"}", 0);
        back = mcpact_result_status (result) == MCPACT_OK;
        mcpact_result_destroy (&result);
        if (!back)
            ru_sleep_ms (50);
    }
    CHECK_MSG (back, "the crashed server was not restarted");
    CHECK_MSG (s_gone (helper, server), "the helper %ld of the crashed server is still there",
               helper);
    long new_server;
    s_read_pids (pids, &new_server, &none);
    s_helper_pid (helper_file, new_server);
    ru_teardown (&agent, &session, &runtime);
}

//  The child starts with default signals whatever the host set: a host
//  that ignores SIGTERM must not pass that on, or closing would need
//  SIGKILL (and the server could not clean up).
TEST (server_starts_with_default_signals)
{
    signal (SIGTERM, SIG_IGN);
    mcpact_set_log (ru_log_line, NULL, MCPACT_LOG_DEBUG);
    const char *pids = s_path ("pids");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config =
        ru_fixture ("fx", "--ignore-eof", "--pid-file", pids, (const char *) NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    RU_CALL_IS (agent, "echo", "{\"message\":\"hi\"}", "hi");
    long server, helper;
    s_read_pids (pids, &server, &helper);
    ru_teardown (&agent, &session, &runtime);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    CHECK (!ru_alive (server, server));
    pthread_mutex_lock (&ru_log_lock);
    CHECK_CONTAINS (ru_log, "server fx: no exit after stdin closed; SIGTERM");
    CHECK_MSG (!strstr (ru_log, "SIGKILL"), "SIGTERM did not end the server:\n%s", ru_log);
    pthread_mutex_unlock (&ru_log_lock);
}

//  --------------------------------------------------------------------------
//  A host killed outright takes its servers with it

//  A host in a child process: starts one server that ignores stdin EOF
//  (restarted once first, if `restart`: a new process, started by the
//  same thread), tells us on `ready`, then waits to be killed.
static void
s_host (int ready, const char *pids, bool restart)
{
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    mcpact_session_t *session = runtime ? mcpact_session_new (runtime) : NULL;
    mcpact_server_config_t *config = mcpact_server_stdio_new ("stubborn", RU_FIXTURE);
    if (!session || !config || mcpact_server_config_add_arg (config, "--ignore-eof") ||
        mcpact_server_config_add_arg (config, "--pid-file") ||
        mcpact_server_config_add_arg (config, pids) ||
        mcpact_session_add_server (session, &config) != 0)
        _exit (1);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    mcpact_result_t *result = agent ? mcpact_agent_call (agent, "pid", NULL, 0) : NULL;
    bool ok = mcpact_result_status (result) == MCPACT_OK;
    mcpact_result_destroy (&result);
    if (ok && restart) {
        unlink (pids);
        result = mcpact_agent_call (agent, "crash", NULL, 0);
        mcpact_result_destroy (&result);
        ok = false;
        for (int waited = 0; waited < GONE_WAIT_MS && !ok; waited += 50) {
            result = mcpact_agent_call (agent, "pid", NULL, 0);
            ok = mcpact_result_status (result) == MCPACT_OK;
            mcpact_result_destroy (&result);
            if (!ok)
                ru_sleep_ms (50);
        }
    }
    if (!ok || write (ready, "R", 1) != 1)
        _exit (1);
    while (true)
        pause ();
}

static void
s_host_killed (bool restart)
{
    const char *pids = s_path ("pids");
    int ready[2];
    CHECK (pipe (ready) == 0);
    fflush (NULL);
    pid_t host = fork ();
    CHECK (host >= 0);
    if (host == 0) {
        close (ready[0]);
        s_host (ready[1], pids, restart);
    }
    close (ready[1]);
    s_track (host, getpgid (host));
    struct pollfd item = { ready[0], POLLIN, 0 };
    char byte = 0;
    ssize_t got = poll (&item, 1, 60000) == 1 ? read (ready[0], &byte, 1) : -1;
    close (ready[0]);
    CHECK_MSG (got == 1, "the host could not start its server");
    long server, helper;
    s_read_pids (pids, &server, &helper);
    CHECK (ru_alive (server, server));

    CHECK (kill (host, SIGKILL) == 0);
    CHECK (waitpid (host, NULL, 0) == host);
    //  Nothing of the host runs any more: only the parent-death signal
    //  set at spawn can end a server that ignores EOF
    CHECK_MSG (s_gone (server, server), "the server %ld outlived its host (killed)", server);
}

TEST (killed_host_takes_its_servers)
{
    s_host_killed (false);
}

TEST (killed_host_takes_its_restarted_servers)
{
    s_host_killed (true);
}
