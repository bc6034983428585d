/*  =========================================================================
    test_spawn - stdio servers are started by the spawn helper

    The runtime forks one small process, the spawn helper, which starts
    the stdio servers, so that each start copies its few descriptors
    rather than the host's whole table. These tests show that the servers
    are the helper's children and not the host's, that everything the
    host saw before still holds (exit statuses, start errors, the close
    sequence, death with the host), that starting falls back to the host
    itself when the helper is gone or turned off (MCPACT_SPAWN_HELPER=0),
    and that many servers started at once all come up. Each test runs in
    its own process (ctest runs them by name), so each has its own helper.
    =========================================================================
*/

#include "mcpact.h"
#include "runtime_util.h"
#include "spawner.h"
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  Generous: the machine may be loaded. Not a speed requirement.
#define GONE_WAIT_MS 20000

//  The parent of `pid`, from /proc (0 if it is gone).
static long
s_ppid (long pid)
{
    char path[64], stat[512];
    snprintf (path, sizeof path, "/proc/%ld/stat", pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    size_t size = fread (stat, 1, sizeof stat - 1, file);
    fclose (file);
    stat[size] = 0;
    char *comm_end = strrchr (stat, ')');
    char state;
    long ppid = 0;
    if (!comm_end || sscanf (comm_end + 1, " %c %ld", &state, &ppid) != 2)
        return 0;
    return ppid;
}

//  Whether `pid` was started by a spawn helper of ours (one per CPU): a
//  child of a child of this process.
static bool
s_by_a_helper (long pid)
{
    long parent = s_ppid (pid);
    return parent > 0 && parent != (long) getpid () && s_ppid (parent) == (long) getpid ();
}

//  The pid in the fixture's `pid` answer, {"type":"text","text":"PID"}.
static long
s_pid_in (const char *text)
{
    const char *number = text ? strstr (text, "\"text\":\"") : NULL;
    return number ? strtol (number + 8, NULL, 10) : 0;
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

//  A path in a fresh temporary directory, removed at exit.
static char s_dir[64];

static void
s_cleanup (void)
{
    if (*s_dir) {
        char command[128];
        snprintf (command, sizeof command, "rm -rf '%s'", s_dir);
        if (system (command) != 0)
            fprintf (stderr, "could not remove %s\n", s_dir);
    }
}

static const char *
s_path (const char *name)
{
    static char path[128];
    if (!*s_dir) {
        snprintf (s_dir, sizeof s_dir, "/tmp/mcpact-spawn-XXXXXX");
        CHECK (mkdtemp (s_dir) != NULL);
        atexit (s_cleanup);
    }
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    return path;
}

//  --------------------------------------------------------------------------

TEST (servers_are_children_of_the_helper)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", (const char *) NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    long server = ru_pid (agent, "pid");
    CHECK_MSG (spawner_helper_pid () > 0, "no spawn helper runs");
    //  The host's waitpid (-1, ...) and SIGCHLD handler see none of them
    CHECK_MSG (s_ppid (server) != (long) getpid (), "the server %ld is the host's child", server);
    CHECK (s_by_a_helper (server));
    long helper = s_ppid (server);
    ru_teardown (&agent, &session, &runtime);
    CHECK (!ru_alive (server, server));
    //  The last runtime ends the helper, and reaps it
    CHECK_MSG (s_ppid (helper) != (long) getpid (), "the helper %ld outlived the runtime", helper);
}

//  The close sequence still reaches what the server left in its group,
//  and the exit status comes from the helper.
TEST (close_and_exit_status_through_the_helper)
{
    const char *pids = s_path ("pids");
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config =
        ru_fixture ("fx", "--helper", "--pid-file", pids, (const char *) NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    long server = ru_pid (agent, "pid");
    CHECK (s_by_a_helper (server));
    long left = 0, pid = 0;
    for (int waited = 0; waited < GONE_WAIT_MS && left <= 0; waited += 20) {
        FILE *file = fopen (pids, "r");
        if (file && fscanf (file, "%ld %ld", &pid, &left) != 2)
            left = 0;
        if (file)
            fclose (file);
        if (left <= 0)
            ru_sleep_ms (20);
    }
    CHECK_MSG (left > 0 && ru_alive (left, server), "the fixture left nothing in its group");
    mcpact_result_t *result = ru_call_fails (agent, "crash", NULL, 0, MCPACT_ERR_SERVER);
    CHECK_CONTAINS (mcpact_result_error (result), "exited with status 3");
    mcpact_result_destroy (&result);
    CHECK_MSG (s_gone (left, server), "what the crashed server left (%ld) is still there", left);
    ru_teardown (&agent, &session, &runtime);
}

//  A start error names the command, whether the path or the PATH search
//  failed, as it did when the host started servers itself.
TEST (exec_failure_names_the_command)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (spawner_helper_pid () > 0);
    mcpact_server_config_t *config = mcpact_server_stdio_new ("a", "/nonexistent/mcpact-no-such");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    config = mcpact_server_stdio_new ("b", "mcpact-no-such-command");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    json_t *report = ru_json_take (mcpact_session_start (session));
    CHECK_STR (ru_state (report, "a"), "failed");
    CHECK_CONTAINS (ru_str (ru_report_server (report, "a"), "error"),
                    "cannot run /nonexistent/mcpact-no-such: No such file or directory");
    CHECK_CONTAINS (ru_str (ru_report_server (report, "b"), "error"),
                    "cannot run mcpact-no-such-command: No such file or directory");
    json_decref (report);
    ru_teardown (NULL, &session, &runtime);
}

//  The command is searched on the host's PATH as it is at the start, not
//  as it was when the helper was forked.
TEST (command_searched_on_the_current_path)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (spawner_helper_pid () > 0);
    const char *link = s_path ("mcpact-fixture-on-path");
    CHECK (symlink (RU_FIXTURE, link) == 0);
    char path[4096];
    snprintf (path, sizeof path, "%s:%s", s_dir, getenv ("PATH") ? getenv ("PATH") : "/usr/bin");
    CHECK (setenv ("PATH", path, 1) == 0);
    mcpact_server_config_t *config = mcpact_server_stdio_new ("fx", "mcpact-fixture-on-path");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    RU_CALL_IS (agent, "echo", "{\"message\":\"found\"}", "found");
    ru_teardown (&agent, &session, &runtime);
}

//  A relative command (or cwd) is taken from the host's working directory
//  as it is at the start, not as it was when the helper was forked.
TEST (relative_command_from_the_current_directory)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (spawner_helper_pid () > 0);
    const char *link = s_path ("fixture-here");
    CHECK (symlink (RU_FIXTURE, link) == 0);
    char before[4096];
    CHECK (getcwd (before, sizeof before) != NULL);
    CHECK (chdir (s_dir) == 0);
    mcpact_server_config_t *config = mcpact_server_stdio_new ("fx", "./fixture-here");
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    RU_CALL_IS (agent, "echo", "{\"message\":\"here\"}", "here");
    RU_CALL_IS (agent, "cwd", NULL, s_dir);
    ru_teardown (&agent, &session, &runtime);
    CHECK (chdir (before) == 0);
}

//  Killed, the helper takes the servers it started (they get SIGTERM,
//  and are restarted); later starts come from the host itself, logged
//  once.
TEST (starts_directly_once_the_helper_is_gone)
{
    mcpact_set_log (ru_log_line, NULL, MCPACT_LOG_WARN);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("first", (const char *) NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    long first = ru_pid (agent, "pid");
    CHECK (s_by_a_helper (first));

    //  Every helper (one per CPU) is killed; the server with its own
    for (long next = spawner_helper_pid (); next > 0; next = spawner_helper_pid ()) {
        CHECK (kill ((pid_t) next, SIGKILL) == 0);
        for (int waited = 0; waited < GONE_WAIT_MS && spawner_helper_pid () == next; waited += 20)
            ru_sleep_ms (20);
        CHECK_MSG (spawner_helper_pid () != next, "the helper's death went unseen");
    }
    CHECK_MSG (s_gone (first, first), "the server %ld outlived its spawn helper", first);

    mcpact_session_t *other = mcpact_session_new (runtime);
    CHECK (other);
    config = ru_fixture ("second", (const char *) NULL);
    CHECK (mcpact_session_add_server (other, &config) == 0);
    mcpact_agent_t *other_agent = mcpact_agent_new (other, NULL);
    CHECK (other_agent);
    long second = ru_pid (other_agent, "pid");
    CHECK_MSG (s_ppid (second) == (long) getpid (), "the server was not started by the host");
    mcpact_agent_destroy (&other_agent);
    mcpact_session_destroy (&other);
    //  The first server was restarted, from the host too
    long restarted = 0;
    for (int waited = 0; waited < GONE_WAIT_MS && restarted <= 0; waited += 50) {
        mcpact_result_t *result = mcpact_agent_call (agent, "pid", NULL, 0);
        if (mcpact_result_status (result) == MCPACT_OK)
            restarted = s_pid_in (mcpact_result_text (result));
        else
            ru_sleep_ms (50);
        mcpact_result_destroy (&result);
    }
    CHECK (restarted != first && s_ppid (restarted) == (long) getpid ());
    ru_teardown (&agent, &session, &runtime);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    CHECK (!ru_alive (second, second) && !ru_alive (restarted, restarted));
    pthread_mutex_lock (&ru_log_lock);
    const char *said = strstr (ru_log, "started directly from now on");
    CHECK_MSG (said, "nothing logged:\n%s", ru_log);
    CHECK_MSG (!strstr (said + 1, "started directly from now on"), "logged twice:\n%s", ru_log);
    pthread_mutex_unlock (&ru_log_lock);
}

TEST (helper_turned_off)
{
    CHECK (setenv ("MCPACT_SPAWN_HELPER", "0", 1) == 0);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (spawner_helper_pid () == 0);
    mcpact_server_config_t *config = ru_fixture ("fx", (const char *) NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    long server = ru_pid (agent, "pid");
    CHECK (s_ppid (server) == (long) getpid ());
    ru_teardown (&agent, &session, &runtime);
    CHECK (!ru_alive (server, server));
}

//  Many servers started at once all come up, each from the helper.
TEST (two_hundred_servers_start_at_once)
{
    enum { SERVERS = 200 };
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (spawner_helper_pid () > 0);
    CHECK (mcpact_session_set_name_policy (session, MCPACT_NAMES_PREFIX) == 0);
    for (int i = 0; i < SERVERS; i++) {
        char name[32];
        snprintf (name, sizeof name, "s%d", i);
        mcpact_server_config_t *config = ru_fixture (name, (const char *) NULL);
        CHECK (mcpact_session_add_server (session, &config) == 0);
    }
    json_t *report = ru_json_take (mcpact_session_start (session));
    for (int i = 0; i < SERVERS; i++) {
        char name[32];
        snprintf (name, sizeof name, "s%d", i);
        CHECK_STR (ru_state (report, name), "ready");
    }
    json_decref (report);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (s_by_a_helper (ru_pid (agent, "s0_pid")));
    CHECK (s_by_a_helper (ru_pid (agent, "s199_pid")));
    ru_teardown (&agent, &session, &runtime);
}

//  A host killed outright takes the helper, and the helper its servers.
TEST (killed_host_takes_the_helper_and_its_servers)
{
    int ready[2];
    CHECK (pipe (ready) == 0);
    fflush (NULL);
    pid_t host = fork ();
    CHECK (host >= 0);
    if (host == 0) {
        close (ready[0]);
        mcpact_runtime_t *runtime = mcpact_runtime_new ();
        mcpact_session_t *session = runtime ? mcpact_session_new (runtime) : NULL;
        mcpact_server_config_t *config = mcpact_server_stdio_new ("stubborn", RU_FIXTURE);
        if (!session || !config || mcpact_server_config_add_arg (config, "--ignore-eof") ||
            mcpact_session_add_server (session, &config) != 0)
            _exit (1);
        mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
        mcpact_result_t *result = agent ? mcpact_agent_call (agent, "pid", NULL, 0) : NULL;
        const char *text =
            mcpact_result_status (result) == MCPACT_OK ? mcpact_result_text (result) : NULL;
        long pid = s_pid_in (text);
        if (pid <= 0 || write (ready[1], &pid, sizeof pid) != sizeof pid)
            _exit (1);
        while (true)
            pause ();
    }
    close (ready[1]);
    long server = 0;
    struct pollfd item = { ready[0], POLLIN, 0 };
    ssize_t got = poll (&item, 1, 60000) == 1 ? read (ready[0], &server, sizeof server) : -1;
    close (ready[0]);
    if (got != sizeof server)
        kill (host, SIGKILL);
    CHECK_MSG (got == sizeof server, "the host could not start its server");
    long helper = s_ppid (server);
    long helper_parent = s_ppid (helper);

    CHECK (kill (host, SIGKILL) == 0);
    CHECK (waitpid (host, NULL, 0) == host);
    CHECK_MSG (helper != host && helper_parent == host, "the server was not the helper's child");
    CHECK_MSG (s_gone (helper, getpgid (0)), "the spawn helper %ld outlived its host", helper);
    bool server_gone = s_gone (server, server);
    if (!server_gone)
        kill ((pid_t) server, SIGKILL);
    CHECK_MSG (server_gone, "the server %ld outlived its host (killed)", server);
}

TEST (a_forked_child_starts_helpers_of_its_own)
{
    //  A child made by fork () may make a runtime of its own: its servers
    //  are started by helpers of its own, and live on when the parent ends
    //  its runtime (with the parent's helpers).
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config = ru_fixture ("fx", (const char *) NULL);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (s_ppid (s_ppid (ru_pid (agent, "pid"))) == (long) getpid ());
    int ready[2];
    CHECK (pipe (ready) == 0);
    pid_t child = fork ();
    CHECK (child >= 0);
    if (child == 0) {
        close (ready[0]);
        mcpact_runtime_t *own = NULL;
        mcpact_session_t *own_session = ru_session_new (&own);
        mcpact_server_config_t *own_config = ru_fixture ("own", (const char *) NULL);
        mcpact_session_add_server (own_session, &own_config);
        mcpact_agent_t *own_agent = mcpact_agent_new (own_session, NULL);
        long server = ru_pid (own_agent, "pid");
        //  Its server's parent is a helper of this process's, not the
        //  parent's
        long helper = s_ppid (server);
        int code = helper > 0 && s_ppid (helper) == (long) getpid () ? 0 : 10;
        //  The parent ends its runtime now; ours goes on
        ssize_t wrote = write (ready[1], "x", 1);
        (void) wrote;
        ru_sleep_ms (700);
        if (code == 0 && ru_pid (own_agent, "pid") != server)
            code = 11; //  restarted: it died with the parent's helpers
        ru_teardown (&own_agent, &own_session, &own);
        _exit (code);
    }
    close (ready[1]);
    char byte;
    CHECK (read (ready[0], &byte, 1) == 1);
    close (ready[0]);
    ru_teardown (&agent, &session, &runtime);
    int status = 0;
    CHECK (waitpid (child, &status, 0) == child);
    CHECK_MSG (WIFEXITED (status) && WEXITSTATUS (status) == 0, "the child ended with %d",
               WIFEXITED (status) ? WEXITSTATUS (status) : -WTERMSIG (status));
}
