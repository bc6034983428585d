/*  =========================================================================
    runtime_util - helpers for tests that drive the public API end to end

    Builds fixture-server configurations, parses the JSON the API returns
    (reports, tool lists, status, results) and makes checked calls. Every
    helper fails the test through CHECK on anything unexpected. Used from
    the test's main thread, except ru_call_text and ru_now_ms, which any
    thread may call. Returned json_t values and strings are the caller's.
    =========================================================================
*/

#ifndef MCPACT_RUNTIME_UTIL_H_INCLUDED
#define MCPACT_RUNTIME_UTIL_H_INCLUDED

#include "mcpact.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define RU_FIXTURE MCPACT_BUILD_DIR "/mcpact-fixture"

static inline int64_t
ru_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static inline void
ru_sleep_ms (int ms)
{
    struct timespec pause = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&pause, NULL);
}

//  A hang guard: what the test was waiting for, said when the alarm rings.
static const char *ru_watchdog_what;

static void
ru_watchdog_ring (int signal_number)
{
    const char *what = ru_watchdog_what ? ru_watchdog_what : "the test";
    ssize_t rc = write (STDERR_FILENO, "FAIL: hung in ", 14);
    rc = write (STDERR_FILENO, what, strlen (what));
    rc = write (STDERR_FILENO, "\n", 1);
    (void) rc;
    _exit (1);
}

//  Fails the test if it is still running `seconds` from now, naming `what`
//  (a string literal): for calls that could hang rather than fail.
static inline void
ru_watchdog_arm (unsigned seconds, const char *what)
{
    ru_watchdog_what = what;
    signal (SIGALRM, ru_watchdog_ring);
    alarm (seconds);
}

static inline void
ru_watchdog_disarm (void)
{
    alarm (0);
}

//  The test's runtime variable, as ru_session_new was given it: a test
//  that skips with its runtime up (ru_require_peers) destroys it first,
//  since exit would take the ZeroMQ context from under the actors'
//  threads (an assertion in libzmq, now and then). One test per process.
static mcpact_runtime_t **ru_live_runtime;

//  A runtime and a session on it, as most tests begin.
static inline mcpact_session_t *
ru_session_new (mcpact_runtime_t **runtime)
{
    ru_live_runtime = runtime;
    *runtime = mcpact_runtime_new ();
    CHECK (*runtime != NULL);
    mcpact_session_t *session = mcpact_session_new (*runtime);
    CHECK (session != NULL);
    return session;
}

//  Destroys the agent (if any), the session and the runtime, in that order.
static inline void
ru_teardown (mcpact_agent_t **agent, mcpact_session_t **session, mcpact_runtime_t **runtime)
{
    if (agent)
        mcpact_agent_destroy (agent);
    mcpact_session_destroy (session);
    mcpact_runtime_destroy (runtime);
}

//  A fixture server named `name`, with the switches given (NULL ends them).
static inline mcpact_server_config_t *
ru_fixture (const char *name, ...)
{
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, RU_FIXTURE);
    CHECK (config != NULL);
    va_list args;
    va_start (args, name);
    for (const char *arg = va_arg (args, const char *); arg; arg = va_arg (args, const char *))
        CHECK (mcpact_server_config_add_arg (config, arg) == 0);
    va_end (args);
    return config;
}

//  Parses JSON text (keeping the text), failing the test if it is not JSON.
static inline json_t *
ru_json (const char *text)
{
    CHECK_MSG (text != NULL, "no JSON text");
    json_error_t error;
    json_t *json = json_loads (text, JSON_DECODE_ANY, &error);
    CHECK_MSG (json != NULL, "not JSON (%s): %s", error.text, text);
    return json;
}

//  Parses and frees malloc'ed JSON text.
static inline json_t *
ru_json_take (char *text)
{
    json_t *json = ru_json (text);
    free (text);
    return json;
}

//  The entry called `name` in an array of objects with a "name".
static inline json_t *
ru_named (json_t *array, const char *name)
{
    size_t index;
    json_t *item;
    json_array_foreach (array, index, item) {
        const char *item_name = json_string_value (json_object_get (item, "name"));
        if (item_name && strcmp (item_name, name) == 0)
            return item;
    }
    return NULL;
}

//  A server's entry in a start report; fails if it is missing.
static inline json_t *
ru_report_server (json_t *report, const char *name)
{
    json_t *server = ru_named (json_object_get (report, "servers"), name);
    CHECK_MSG (server != NULL, "server %s is not in the report", name);
    return server;
}

static inline const char *
ru_str (json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

//  A server's state in a report, for CHECK_STR.
static inline const char *
ru_state (json_t *report, const char *name)
{
    return ru_str (ru_report_server (report, name), "state");
}

//  The tool names of an agent, comma-separated, in the agent's order.
static inline char *
ru_tool_names (mcpact_agent_t *agent)
{
    json_t *tools = ru_json_take (mcpact_agent_tools (agent));
    CHECK (json_is_array (tools));
    size_t size = 1;
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool)
        size += strlen (ru_str (tool, "name")) + 1;
    char *names = (char *) calloc (1, size);
    CHECK (names != NULL);
    json_array_foreach (tools, index, tool) {
        if (index)
            strcat (names, ",");
        strcat (names, ru_str (tool, "name"));
    }
    json_decref (tools);
    return names;
}

//  What the runtime logged (mcpact_set_log (ru_log_line, NULL, level)),
//  line by line; read it under ru_log_lock.
__attribute__ ((unused)) static pthread_mutex_t ru_log_lock = PTHREAD_MUTEX_INITIALIZER;
__attribute__ ((unused)) static char ru_log[8192];

static inline void
ru_log_line (mcpact_log_level_t level, const char *message, void *arg)
{
    pthread_mutex_lock (&ru_log_lock);
    size_t len = strlen (ru_log);
    snprintf (ru_log + len, sizeof ru_log - len, "%s\n", message);
    pthread_mutex_unlock (&ru_log_lock);
}

//  An agent on one fixture server `name` started with the switches given
//  (NULL-terminated), after its start.
static inline mcpact_agent_t *
ru_agent_on (mcpact_runtime_t **runtime, mcpact_session_t **session, const char *name,
             const char *first, ...)
{
    *session = ru_session_new (runtime);
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, RU_FIXTURE);
    va_list args;
    va_start (args, first);
    for (const char *arg = first; arg; arg = va_arg (args, const char *))
        CHECK (mcpact_server_config_add_arg (config, arg) == 0);
    va_end (args);
    CHECK (mcpact_session_add_server (*session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (*session, NULL);
    CHECK (agent != NULL);
    free (mcpact_agent_start (agent));
    return agent;
}

//  Calls a tool that must succeed with one text item; returns its text.
static inline char *
ru_call_text (mcpact_agent_t *agent, const char *tool, const char *args)
{
    mcpact_result_t *result = mcpact_agent_call (agent, tool, args, 0);
    CHECK (result != NULL);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s %s: %s: %s", tool, args ? args : "",
               mcpact_status_name (mcpact_result_status (result)), mcpact_result_error (result));
    json_t *item = ru_json (mcpact_result_text (result));
    CHECK_MSG (json_is_object (item) && ru_str (item, "text"), "%s: not one text item: %s", tool,
               mcpact_result_text (result));
    char *text = strdup (ru_str (item, "text"));
    json_decref (item);
    mcpact_result_destroy (&result);
    return text;
}

//  Calls a tool that must succeed and checks its text.
#define RU_CALL_IS(agent, tool, args, expected)                                                    \
    do {                                                                                           \
        char *ru_text_ = ru_call_text ((agent), (tool), (args));                                   \
        CHECK_STR (ru_text_, (expected));                                                          \
        free (ru_text_);                                                                           \
    } while (0)

//  Calls a tool that must fail with `status`; returns the result.
static inline mcpact_result_t *
ru_call_fails (mcpact_agent_t *agent, const char *tool, const char *args, int timeout_ms,
               mcpact_status_t status)
{
    mcpact_result_t *result = mcpact_agent_call (agent, tool, args, timeout_ms);
    CHECK (result != NULL);
    CHECK_MSG (mcpact_result_status (result) == status, "%s: expected %s, got %s: %s", tool,
               mcpact_status_name (status), mcpact_status_name (mcpact_result_status (result)),
               mcpact_result_json (result));
    CHECK (mcpact_result_error (result) != NULL);
    return result;
}

//  The process id a fixture reports through its `pid` tool (named `tool`).
static inline long
ru_pid (mcpact_agent_t *agent, const char *tool)
{
    char *text = ru_call_text (agent, tool, NULL);
    long pid = strtol (text, NULL, 10);
    CHECK_MSG (pid > 0, "%s: not a pid: %s", tool, text);
    free (text);
    return pid;
}

//  Whether process `pid` is alive (not a zombie waiting to be reaped) and
//  still in process group `pgid`, so that a reused pid does not count.
static inline bool
ru_alive (long pid, long pgid)
{
    char path[64], stat[512];
    snprintf (path, sizeof path, "/proc/%ld/stat", pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    size_t size = fread (stat, 1, sizeof stat - 1, file);
    fclose (file);
    stat[size] = 0;
    char *comm_end = strrchr (stat, ')');
    char state;
    long ppid, group;
    return comm_end && sscanf (comm_end + 1, " %c %ld %ld", &state, &ppid, &group) == 3 &&
           state != 'Z' && state != 'X' && group == pgid;
}

//  {"message":"xxx…"} with `size` x's (malloc'ed): a large call.
static inline char *
ru_big_args (size_t size)
{
    char *args = (char *) malloc (size + 16);
    CHECK (args != NULL);
    strcpy (args, "{\"message\":\"");
    memset (args + 12, 'x', size);
    strcpy (args + 12 + size, "\"}");
    return args;
}

//  Sends `count` calls of `tool` at once through a new caller and waits for
//  all of them: each must succeed or be refused as busy with `reason` in
//  its error. Returns how many succeeded; sets *busy to how many were
//  refused.
static inline int
ru_calls_past_limits (mcpact_agent_t *agent, const char *tool, const char *args, int count,
                      const char *reason, int *busy)
{
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller != NULL);
    for (int i = 0; i < count; i++)
        mcpact_caller_send (caller, tool, args, 30000);
    int ok = 0;
    *busy = 0;
    ru_watchdog_arm (60, "calls past the limits");
    for (int i = 0; i < count; i++) {
        mcpact_result_t *result = mcpact_caller_next (caller, -1);
        if (mcpact_result_status (result) == MCPACT_OK)
            ok++;
        else {
            CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_BUSY, "%s",
                       mcpact_result_error (result));
            CHECK_MSG (strstr (mcpact_result_error (result), reason), "%s",
                       mcpact_result_error (result));
            (*busy)++;
        }
        mcpact_result_destroy (&result);
    }
    ru_watchdog_disarm ();
    mcpact_caller_destroy (&caller);
    return ok;
}

//  --------------------------------------------------------------------------
//  Peers from npm (tests/peers): node and the packages

//  Where node is on PATH (the runtime finds it the same way), or NULL.
static inline const char *
ru_node (void)
{
    static char node[PATH_MAX];
    const char *path = getenv ("PATH");
    while (path && *path) {
        size_t len = strcspn (path, ":");
        if (len > 0 && len + 6 < sizeof node) {
            snprintf (node, sizeof node, "%.*s/node", (int) len, path);
            if (access (node, X_OK) == 0)
                return node;
        }
        path += len + (path[len] == ':');
    }
    return NULL;
}

//  Skips the test (or fails it under MCPACT_REQUIRE_PEERS=1) unless node
//  and each of the files given (NULL-terminated) are there. Returns node.
static inline const char *
ru_require_peers (const char *file, ...)
{
    const char *node = ru_node ();
    const char *missing = node ? NULL : "node (not on PATH)";
    va_list files;
    va_start (files, file);
    for (const char *next = file; next && !missing; next = va_arg (files, const char *))
        if (access (next, R_OK) != 0)
            missing = next;
    va_end (files);
    if (!missing)
        return node;
    const char *require = getenv ("MCPACT_REQUIRE_PEERS");
    CHECK_MSG (!(require && strcmp (require, "1") == 0),
               "MCPACT_REQUIRE_PEERS=1 but %s is missing; run scripts/deps --test", missing);
    if (ru_live_runtime && *ru_live_runtime)
        mcpact_runtime_destroy (ru_live_runtime);
    SKIP ("%s is missing; run scripts/deps --test", missing);
    return NULL;
}

//  Appends what is readable on fd to *text (kept NUL-terminated); returns
//  false at EOF.
static inline bool
ru_drain (int fd, char **text, size_t *size)
{
    char chunk[4096];
    ssize_t got = read (fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
        return true;
    if (got <= 0)
        return false;
    char *grown = (char *) realloc (*text, *size + (size_t) got + 1);
    CHECK (grown);
    memcpy (grown + *size, chunk, (size_t) got);
    *size += (size_t) got;
    grown[*size] = 0;
    *text = grown;
    return true;
}

//  --------------------------------------------------------------------------
//  Running the CLI

#define RU_CLI MCPACT_BUILD_DIR "/mcpact"

//  Not a speed requirement: a run that has not finished by then is stuck,
//  and is killed so that the test fails with its output instead of leaving
//  a process (and its servers) behind when ctest gives up.
#define RU_CLI_HANG_MS 60000

//  What one run of the CLI left behind.
typedef struct {
    char *out;  //  all of stdout
    char *err;  //  all of stderr
    int status; //  exit status, or 128 + signal
    bool hung;  //  it did not exit in RU_CLI_HANG_MS and was killed
} ru_run_t;

static inline void
ru_run_free (ru_run_t *self)
{
    free (self->out);
    free (self->err);
    memset (self, 0, sizeof *self);
}

//  Runs the CLI with `args` (NULL-terminated, without argv[0]) in `cwd`
//  (NULL: ours), stdin from /dev/null; `env` entries (NULL: none) "NAME=value"
//  are set and "NAME" alone unset in its environment. Waits for it to exit.
static inline ru_run_t
ru_cli (const char *cwd, const char *const *env, const char *const *args)
{
    const char *argv[32] = { RU_CLI };
    int argc = 1;
    for (; args[argc - 1]; argc++) {
        CHECK (argc < 31);
        argv[argc] = args[argc - 1];
    }
    argv[argc] = NULL;
    int out[2], err[2];
    CHECK (pipe2 (out, O_CLOEXEC) == 0);
    CHECK (pipe2 (err, O_CLOEXEC) == 0);
    fflush (NULL);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        int null = open ("/dev/null", O_RDONLY);
        if (null < 0 || dup2 (null, 0) < 0 || dup2 (out[1], 1) < 0 || dup2 (err[1], 2) < 0)
            _exit (126);
        if (cwd && chdir (cwd) != 0)
            _exit (126);
        for (int index = 0; env && env[index]; index++) {
            const char *equals = strchr (env[index], '=');
            if (equals) {
                char name[64];
                snprintf (name, sizeof name, "%.*s", (int) (equals - env[index]), env[index]);
                setenv (name, equals + 1, 1);
            } else
                unsetenv (env[index]);
        }
        signal (SIGALRM, SIG_DFL);
        execv (RU_CLI, (char *const *) argv);
        _exit (127);
    }
    close (out[1]);
    close (err[1]);
    ru_run_t run = { calloc (1, 1), calloc (1, 1), -1, false };
    CHECK (run.out && run.err);
    size_t out_size = 0, err_size = 0;
    struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
    int open_fds = 2;
    int64_t hang_at = ru_now_ms () + RU_CLI_HANG_MS;
    while (open_fds > 0) {
        int64_t left = hang_at - ru_now_ms ();
        int rc = poll (fds, 2, run.hung ? -1 : left > 0 ? (int) left : 0);
        if (rc < 0 && errno == EINTR)
            continue;
        CHECK (rc >= 0);
        if (rc == 0) {
            run.hung = true;
            kill (pid, SIGKILL);
            continue;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            bool more = i == 0 ? ru_drain (fds[i].fd, &run.out, &out_size)
                               : ru_drain (fds[i].fd, &run.err, &err_size);
            if (!more) {
                close (fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    int wstatus;
    while (waitpid (pid, &wstatus, 0) < 0)
        CHECK (errno == EINTR);
    run.status = WIFEXITED (wstatus) ? WEXITSTATUS (wstatus) : 128 + WTERMSIG (wstatus);
    return run;
}

#endif
