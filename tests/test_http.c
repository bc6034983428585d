/*  =========================================================================
    test_http - remote MCP servers over HTTP, through the public API and CLI

    Runs real HTTP servers as child processes and checks what a host sees:
    the official server-everything in its streamableHttp and sse modes
    (tests/peers/http-peer.sh; without node or the peer packages these
    cases skip, or fail when MCPACT_REQUIRE_PEERS=1), and the fault fixture
    tests/http_fixture.py (python3 is required). The fixture's request log
    (its stderr, kept in a temporary file) shows what the client sent:
    initialize, replays, Last-Event-ID, DELETE, headers present.

    A few cases need the fixture at a path it does not serve itself (a URL
    with neither /mcp nor /sse, or a forced status for one call only); they
    run it through S_MAPPED_FIXTURE, a small python wrapper that serves "/"
    as /mcp and "/events" as /sse, and applies --status only to the
    tools/call of echo with message "force-status". The redirect cases run
    two fixtures on two ports, two origins: the configured one redirects
    to the other, whose log must then show no request at all.

    Every child is started with fork + exec, its "PORT n" line read from a
    pipe, and stopped by its own pid (SIGTERM, then waitpid). A failing
    CHECK exits through atexit, which stops whatever is still running and
    prints its log; the watchdog kills them too. Children also get SIGTERM
    if the test process dies. Temporary files are removed. Runs on the
    test's main thread; the log sink may be called from runtime threads.
    =========================================================================
*/

#include "runtime_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define FIXTURE_PY MCPACT_SOURCE_DIR "/tests/http_fixture.py"
#define HTTP_PEER MCPACT_SOURCE_DIR "/tests/peers/http-peer.sh"
#define EVERYTHING_JS                                                                              \
    MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/"    \
                      "index.js"
#define EXAMPLES MCPACT_SOURCE_DIR "/examples"

//  Hang guards, not speed requirements: a child that has not said its
//  port by then is stuck.
#define PORT_WAIT_MS 30000
#define WATCHDOG_S 90

//  Node takes a while on a loaded machine under a sanitizer.
#define PEER_CONNECT_MS 20000

//  The fixture's tools, in its order.
#define FIXTURE_TOOLS "echo,sleep,big"

//  Runs http_fixture.py with two additions (see the top comment). Python
//  gets: -c S_MAPPED_FIXTURE FIXTURE_PY switches... PORT.
static const char S_MAPPED_FIXTURE[] =
    "import importlib.util, json, sys, urllib.parse\n"
    "spec = importlib.util.spec_from_file_location('http_fixture', sys.argv[1])\n"
    "fx = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(fx)\n"
    "PATHS = {'/': '/mcp', '/events': '/sse'}\n"
    "route = fx.Handler.route\n"
    "def mapped_route(self):\n"
    "    parts = urllib.parse.urlsplit(self.path)\n"
    "    if parts.path in PATHS:\n"
    "        fx.log('mapped: %s %s as %s' % (self.command, parts.path, PATHS[parts.path]))\n"
    "        self.path = urllib.parse.urlunsplit(parts._replace(path=PATHS[parts.path]))\n"
    "    route(self)\n"
    "fx.Handler.route = mapped_route\n"
    "forced_status = fx.Handler.forced_status\n"
    "def one_call_status(self):\n"
    "    try:\n"
    "        msg = json.loads(self.body)\n"
    "        hit = (msg.get('method') == 'tools/call'\n"
    "               and msg['params']['arguments'].get('message') == 'force-status')\n"
    "    except Exception:\n"
    "        hit = False\n"
    "    return forced_status(self) if hit else False\n"
    "fx.Handler.forced_status = one_call_status\n"
    "sys.argv = [sys.argv[1]] + sys.argv[2:]\n"
    "fx.main()\n";

//  --------------------------------------------------------------------------
//  Child servers

typedef struct {
    pid_t pid;     //  the server's own pid; 0 when the slot is free
    int port;      //  where it listens on 127.0.0.1
    char log[64];  //  temporary file holding its stderr
    char what[32]; //  what it is, for messages
} s_proc_t;

#define MAX_PROCS 8
static s_proc_t s_procs[MAX_PROCS];

//  Temporary files (configurations) to remove at exit.
#define MAX_TEMPS 8
static char s_temps[MAX_TEMPS][64];

//  Set when a test finishes; a failing test exits with it unset.
static bool s_passed;

static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return strdup ("");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    CHECK (out);
    char chunk[4096];
    size_t got;
    while ((got = fread (chunk, 1, sizeof chunk, file)) > 0)
        fwrite (chunk, 1, got, out);
    fclose (file);
    fclose (out);
    return text;
}

//  Stops one child: SIGTERM, then waits for it (SIGKILL if it lingers).
static void
s_proc_reap (s_proc_t *proc)
{
    if (!proc->pid)
        return;
    kill (proc->pid, SIGTERM);
    int64_t give_up = ru_now_ms () + 5000;
    while (waitpid (proc->pid, NULL, WNOHANG) == 0) {
        if (ru_now_ms () > give_up) {
            kill (proc->pid, SIGKILL);
            waitpid (proc->pid, NULL, 0);
            break;
        }
        ru_sleep_ms (10);
    }
    proc->pid = 0;
}

static void
s_proc_stop (s_proc_t *proc)
{
    s_proc_reap (proc);
    unlink (proc->log);
    proc->log[0] = 0;
}

//  At exit, after a failed CHECK too: say what the servers saw, stop them,
//  remove temporary files.
static void
s_cleanup (void)
{
    for (int index = 0; index < MAX_PROCS; index++) {
        s_proc_t *proc = &s_procs[index];
        if (!proc->pid)
            continue;
        s_proc_reap (proc);
        if (!s_passed) {
            char *text = s_read_file (proc->log);
            fprintf (stderr, "---- log of %s (port %d)\n%s---- end of log\n", proc->what,
                     proc->port, text);
            free (text);
        }
        s_proc_stop (proc);
    }
    for (int index = 0; index < MAX_TEMPS; index++)
        if (s_temps[index][0]) {
            unlink (s_temps[index]);
            s_temps[index][0] = 0;
        }
}

//  A failed CHECK exits with runtime threads still running; CZMQ's own
//  exit handler would then tear their sockets down under them (asserts,
//  crashes) and bury the failure. Registered after CZMQ's, this runs
//  first: it cleans up and ends the process with the failure's status.
static void
s_cleanup_failed (void)
{
    if (s_passed)
        return;
    s_cleanup ();
    fflush (NULL);
    _exit (1);
}

static mcpact_runtime_t *
s_runtime_new (void)
{
    static bool registered;
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    if (!registered) {
        atexit (s_cleanup_failed);
        registered = true;
    }
    return runtime;
}

//  Watchdog: kills every child and fails, naming what hung.
static const char *s_hang_what;

static void
s_hang (int signal_number)
{
    for (int index = 0; index < MAX_PROCS; index++)
        if (s_procs[index].pid) {
            kill (s_procs[index].pid, SIGKILL);
            if (s_procs[index].log[0])
                unlink (s_procs[index].log);
        }
    for (int index = 0; index < MAX_TEMPS; index++)
        if (s_temps[index][0])
            unlink (s_temps[index]);
    const char *what = s_hang_what ? s_hang_what : "the test";
    ssize_t rc = write (STDERR_FILENO, "FAIL: hung in ", 14);
    rc = write (STDERR_FILENO, what, strlen (what));
    rc = write (STDERR_FILENO, "\n", 1);
    (void) rc;
    _exit (1);
}

//  Every test starts with this: cleanup at exit and a hang guard.
static void
s_begin (const char *what)
{
    static bool registered;
    if (!registered) {
        atexit (s_cleanup);
        registered = true;
    }
    s_passed = false;
    s_hang_what = what;
    signal (SIGALRM, s_hang);
    alarm (WATCHDOG_S);
}

//  Every test ends with this, after it has stopped everything.
static void
s_end (void)
{
    alarm (0);
    for (int index = 0; index < MAX_PROCS; index++)
        CHECK_MSG (!s_procs[index].pid, "%s left running", s_procs[index].what);
    s_passed = true;
}

//  Whether `program` is an executable on PATH.
static bool
s_on_path (const char *program)
{
    const char *path = getenv ("PATH");
    char candidate[PATH_MAX];
    while (path && *path) {
        size_t len = strcspn (path, ":");
        if (len > 0) {
            snprintf (candidate, sizeof candidate, "%.*s/%s", (int) len, path, program);
            if (access (candidate, X_OK) == 0)
                return true;
        }
        path += len + (path[len] == ':');
    }
    return false;
}

//  Starts argv (searched on PATH), stdout to a pipe, stderr to a temporary
//  file, and waits for its "PORT n" line.
static s_proc_t *
s_spawn (const char *what, const char *const *argv)
{
    s_proc_t *proc = NULL;
    for (int index = 0; index < MAX_PROCS && !proc; index++)
        if (!s_procs[index].pid)
            proc = &s_procs[index];
    CHECK (proc);
    memset (proc, 0, sizeof *proc);
    snprintf (proc->what, sizeof proc->what, "%s", what);
    snprintf (proc->log, sizeof proc->log, "/tmp/mcpact-test-http-XXXXXX");
    int log_fd = mkstemp (proc->log);
    CHECK (log_fd >= 0);
    int out[2];
    CHECK (pipe2 (out, O_CLOEXEC) == 0);
    pid_t parent = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        //  Our death (a crash, a kill by ctest) takes the server with it.
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        if (getppid () != parent)
            _exit (126);
        int null = open ("/dev/null", O_RDONLY);
        if (null < 0 || dup2 (null, 0) < 0 || dup2 (out[1], 1) < 0 || dup2 (log_fd, 2) < 0)
            _exit (126);
        signal (SIGALRM, SIG_DFL);
        execvp (argv[0], (char *const *) argv);
        fprintf (stderr, "cannot run %s: %s\n", argv[0], strerror (errno));
        _exit (127);
    }
    proc->pid = pid;
    close (out[1]);
    close (log_fd);

    char line[64] = "";
    size_t size = 0;
    int64_t give_up = ru_now_ms () + PORT_WAIT_MS;
    while (size + 1 < sizeof line && !strchr (line, '\n')) {
        int64_t left = give_up - ru_now_ms ();
        struct pollfd item = { out[0], POLLIN, 0 };
        int rc = left > 0 ? poll (&item, 1, (int) left) : 0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        ssize_t got = read (out[0], line + size, sizeof line - 1 - size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size += (size_t) got;
        line[size] = 0;
    }
    close (out[0]);
    CHECK_MSG (sscanf (line, "PORT %d", &proc->port) == 1 && proc->port > 0,
               "%s did not say its port (got \"%s\")", what, line);
    return proc;
}

//  The fixture with the switches given (NULL ends them), on a free port.
static s_proc_t *
s_fixture_v (bool mapped, const char *first, va_list args)
{
    CHECK_MSG (s_on_path ("python3"), "python3 is required (not on PATH)");
    const char *argv[24] = { "python3" };
    int argc = 1;
    if (mapped) {
        argv[argc++] = "-c";
        argv[argc++] = S_MAPPED_FIXTURE;
    }
    argv[argc++] = FIXTURE_PY;
    for (const char *arg = first; arg; arg = va_arg (args, const char *)) {
        CHECK (argc < 22);
        argv[argc++] = arg;
    }
    argv[argc++] = "0";
    argv[argc] = NULL;
    return s_spawn (mapped ? "mapped http_fixture" : "http_fixture", argv);
}

static s_proc_t *
s_fixture (const char *first, ...)
{
    va_list args;
    va_start (args, first);
    s_proc_t *proc = s_fixture_v (false, first, args);
    va_end (args);
    return proc;
}

static s_proc_t *
s_mapped_fixture (const char *first, ...)
{
    va_list args;
    va_start (args, first);
    s_proc_t *proc = s_fixture_v (true, first, args);
    va_end (args);
    return proc;
}

//  Skips the test, or fails it under MCPACT_REQUIRE_PEERS=1, without node
//  or server-everything.
static void
s_require_peers (void)
{
    ru_require_peers (EVERYTHING_JS, NULL);
}

//  server-everything over HTTP; mode is streamableHttp or sse.
static s_proc_t *
s_peer (const char *mode)
{
    s_require_peers ();
    const char *argv[] = { HTTP_PEER, mode, "0", NULL };
    char what[48];
    snprintf (what, sizeof what, "server-everything %s", mode);
    return s_spawn (what, argv);
}

//  The whole request log so far.
static char *
s_log (s_proc_t *proc)
{
    return s_read_file (proc->log);
}

//  Waits, bounded, until the log holds `needle`; returns whether it does.
static bool
s_log_wait (s_proc_t *proc, const char *needle, int timeout_ms)
{
    int64_t give_up = ru_now_ms () + timeout_ms;
    while (true) {
        char *text = s_log (proc);
        bool found = strstr (text, needle) != NULL;
        free (text);
        if (found || ru_now_ms () > give_up)
            return found;
        ru_sleep_ms (20);
    }
}

static int
s_count (const char *text, const char *needle)
{
    int count = 0;
    for (const char *at = strstr (text, needle); at; at = strstr (at + 1, needle))
        count++;
    return count;
}

//  The URL of a path on a child server, in `url` (a char array).
#define S_URL(url, proc, path)                                                                     \
    snprintf ((url), sizeof (url), "http://127.0.0.1:%d%s", (proc)->port, (path))

//  A port on 127.0.0.1 that nothing listens on (bound, then closed).
static int
s_closed_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (bind (fd, (struct sockaddr *) &address, sizeof address) == 0);
    socklen_t size = sizeof address;
    CHECK (getsockname (fd, (struct sockaddr *) &address, &size) == 0);
    close (fd);
    return ntohs (address.sin_port);
}

//  Writes `text` to a new temporary .json file, removed at exit.
static const char *
s_temp_config (const char *text)
{
    char *slot = NULL;
    for (int index = 0; index < MAX_TEMPS && !slot; index++)
        if (!s_temps[index][0])
            slot = s_temps[index];
    CHECK (slot);
    snprintf (slot, 64, "/tmp/mcpact-test-http-XXXXXX.json");
    int fd = mkstemps (slot, 5);
    CHECK (fd >= 0);
    size_t len = strlen (text);
    CHECK (write (fd, text, len) == (ssize_t) len);
    CHECK (close (fd) == 0);
    return slot;
}

//  --------------------------------------------------------------------------
//  A host: runtime, session, one agent on the session's servers

typedef struct {
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent;
    json_t *report; //  the agent's start report
} s_host_t;

static void
s_host_new (s_host_t *host, mcpact_name_policy_t policy)
{
    memset (host, 0, sizeof *host);
    host->runtime = s_runtime_new ();
    host->session = mcpact_session_new (host->runtime);
    CHECK (host->session);
    CHECK (mcpact_session_set_name_policy (host->session, policy) == 0);
}

//  Adds an HTTP server to the session (transport AUTO: from the URL).
static mcpact_server_config_t *
s_host_add (s_host_t *host, const char *name, const char *url, mcpact_transport_t transport)
{
    mcpact_server_config_t *config = mcpact_server_http_new (name, url);
    CHECK (config);
    if (transport != MCPACT_TRANSPORT_AUTO)
        CHECK (mcpact_server_config_set_transport (config, transport) == 0);
    mcpact_server_config_t *kept = config;
    CHECK (mcpact_session_add_server (host->session, &config) == 0);
    CHECK (config == NULL);
    return kept;
}

static void
s_host_start (s_host_t *host)
{
    host->agent = mcpact_agent_new (host->session, NULL);
    CHECK (host->agent);
    host->report = ru_json_take (mcpact_agent_start (host->agent));
}

static void
s_host_destroy (s_host_t *host)
{
    json_decref (host->report);
    mcpact_agent_destroy (&host->agent);
    mcpact_session_destroy (&host->session);
    mcpact_runtime_destroy (&host->runtime);
    memset (host, 0, sizeof *host);
}

//  Fails unless server `name` is ready in the start report.
static void
s_check_ready (s_host_t *host, const char *name)
{
    json_t *server = ru_report_server (host->report, name);
    CHECK_MSG (strcmp (ru_str (server, "state"), "ready") == 0, "server %s: %s: %s", name,
               ru_str (server, "state"), ru_str (server, "error"));
}

//  The start-report error of server `name`, which must have failed.
static const char *
s_start_error (s_host_t *host, const char *name)
{
    json_t *server = ru_report_server (host->report, name);
    CHECK_MSG (strcmp (ru_str (server, "state"), "failed") == 0, "server %s is %s, not failed",
               name, ru_str (server, "state"));
    CHECK_MSG (ru_str (server, "error") != NULL, "server %s failed without a reason", name);
    return ru_str (server, "error");
}

//  Server `name`'s entry of mcpact_agent_status (the caller's reference).
static json_t *
s_status (s_host_t *host, const char *name)
{
    json_t *status = ru_json_take (mcpact_agent_status (host->agent));
    CHECK (json_is_array (status));
    json_t *entry = ru_named (status, name);
    CHECK_MSG (entry != NULL, "server %s is not in the status", name);
    json_incref (entry);
    json_decref (status);
    return entry;
}

//  Checks the status entry of an HTTP server: state, transport and URL.
static void
s_check_status (s_host_t *host, const char *name, const char *state, const char *transport,
                const char *url)
{
    json_t *entry = s_status (host, name);
    CHECK_STR (ru_str (entry, "state"), state);
    CHECK_STR (ru_str (entry, "transport"), transport);
    CHECK_STR (ru_str (entry, "url"), url);
    json_decref (entry);
}

//  Sends `count` echo calls to `tool` at once on one caller and checks
//  that each comes back once, right: `prefix` + its own message.
static void
s_many_echo (mcpact_agent_t *agent, const char *tool, int count, const char *prefix)
{
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    CHECK (caller);
    int64_t ids[128];
    bool seen[128] = { false };
    CHECK (count <= 128);
    for (int index = 0; index < count; index++) {
        char args[64];
        snprintf (args, sizeof args, "{\"message\":\"call %d\"}", index);
        ids[index] = mcpact_caller_send (caller, tool, args, 0);
        CHECK (ids[index] > 0);
    }
    CHECK (mcpact_caller_pending (caller) == (size_t) count);
    for (int got = 0; got < count; got++) {
        mcpact_result_t *result = mcpact_caller_next (caller, 20000);
        CHECK_MSG (result != NULL, "only %d of %d results came back", got, count);
        CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s: %s",
                   mcpact_status_name (mcpact_result_status (result)),
                   mcpact_result_error (result));
        int index = 0;
        while (index < count && ids[index] != mcpact_result_id (result))
            index++;
        CHECK_MSG (index < count, "unknown id %lld", (long long) mcpact_result_id (result));
        CHECK_MSG (!seen[index], "id %lld came back twice", (long long) ids[index]);
        seen[index] = true;
        json_t *item = ru_json (mcpact_result_text (result));
        char expected[64];
        snprintf (expected, sizeof expected, "%scall %d", prefix, index);
        CHECK_STR (ru_str (item, "text"), expected);
        json_decref (item);
        mcpact_result_destroy (&result);
    }
    CHECK (mcpact_caller_pending (caller) == 0);
    mcpact_caller_destroy (&caller);
}

//  A call that must fail with `status` and a reason holding `needle`.
static void
s_call_fails_with (mcpact_agent_t *agent, const char *tool, const char *args, int timeout_ms,
                   mcpact_status_t status, const char *needle)
{
    mcpact_result_t *result = ru_call_fails (agent, tool, args, timeout_ms, status);
    CHECK_CONTAINS (mcpact_result_error (result), needle);
    mcpact_result_destroy (&result);
}

//  --------------------------------------------------------------------------
//  A log sink that keeps every line, for checking what never reaches logs

static pthread_mutex_t s_lines_lock = PTHREAD_MUTEX_INITIALIZER;
static char *s_lines;
static size_t s_lines_size;

static void
s_keep_line (mcpact_log_level_t level, const char *message, void *arg)
{
    pthread_mutex_lock (&s_lines_lock);
    size_t len = strlen (message);
    char *grown = realloc (s_lines, s_lines_size + len + 2);
    if (grown) {
        memcpy (grown + s_lines_size, message, len);
        s_lines_size += len;
        grown[s_lines_size++] = '\n';
        grown[s_lines_size] = 0;
        s_lines = grown;
    }
    pthread_mutex_unlock (&s_lines_lock);
}

static void
s_capture_logs (void)
{
    free (s_lines);
    s_lines = strdup ("");
    s_lines_size = 0;
    mcpact_set_log (s_keep_line, NULL, MCPACT_LOG_DEBUG);
}

//  Restores the default sink (once nothing runs) and returns what it kept.
static char *
s_captured_logs (void)
{
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    char *text = s_lines;
    s_lines = NULL;
    return text;
}

//  Fails if any captured line holds `secret`, quoting that line.
static void
s_check_no_secret (const char *lines, const char *secret)
{
    const char *at = strstr (lines, secret);
    if (!at)
        return;
    const char *start = at;
    while (start > lines && start[-1] != '\n')
        start--;
    size_t len = strcspn (start, "\n");
    CHECK_MSG (false, "a log line holds the secret: %.*s", (int) len, start);
}

//  --------------------------------------------------------------------------
//  Running the CLI

//  Runs the CLI (ru_cli); fails the test if it hung.
static ru_run_t
s_run_cli (const char *const *env, const char *const *args)
{
    ru_run_t run = ru_cli (NULL, env, args);
    CHECK_MSG (!run.hung, "mcpact %s hung\nstdout: %s\nstderr: %s", args[0], run.out, run.err);
    return run;
}

#define S_ENV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define S_CLI(env, ...) s_run_cli ((env), (const char *const[]){ __VA_ARGS__, NULL })

#define CHECK_EXIT(run, code)                                                                      \
    CHECK_MSG ((run).status == (code), "exit %d, expected %d\nstdout: %s\nstderr: %s",             \
               (run).status, (code), (run).out, (run).err)

//  --------------------------------------------------------------------------
//  server-everything over streamable HTTP and over HTTP+SSE

//  Checks the everything server `name` (tools prefixed with `prefix`):
//  ready, its tools there, echo and get-sum answer.
static void
s_check_everything (s_host_t *host, const char *name, const char *prefix)
{
    s_check_ready (host, name);
    json_t *tools = ru_json_take (mcpact_agent_tools (host->agent));
    char tool[64];
    snprintf (tool, sizeof tool, "%secho", prefix);
    CHECK_MSG (ru_named (tools, tool), "no tool %s", tool);
    snprintf (tool, sizeof tool, "%sget-sum", prefix);
    CHECK_MSG (ru_named (tools, tool), "no tool %s", tool);
    json_decref (tools);
    snprintf (tool, sizeof tool, "%secho", prefix);
    RU_CALL_IS (host->agent, tool, "{\"message\":\"hi\"}", "Echo: hi");
    snprintf (tool, sizeof tool, "%sget-sum", prefix);
    char *sum = ru_call_text (host->agent, tool, "{\"a\":2,\"b\":40}");
    CHECK_CONTAINS (sum, "42");
    free (sum);
}

static void
s_peer_timeouts (mcpact_server_config_t *config)
{
    CHECK (mcpact_server_config_set_timeouts (config, PEER_CONNECT_MS, PEER_CONNECT_MS, 0) == 0);
}

//  server-everything alone in `mode`, reached at `path` by auto-detection:
//  its tools listed and called, its status as `transport`.
static void
s_everything_alone (const char *what, const char *mode, const char *path, const char *transport)
{
    s_begin (what);
    s_proc_t *peer = s_peer (mode);
    char url[128];
    S_URL (url, peer, path);
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_peer_timeouts (s_host_add (&host, "everything", url, MCPACT_TRANSPORT_AUTO));
    s_host_start (&host);
    s_check_everything (&host, "everything", "");
    s_check_status (&host, "everything", "ready", transport, url);
    s_host_destroy (&host);
    s_proc_stop (peer);
    s_end ();
}

TEST (everything_streamable)
{
    s_everything_alone ("everything_streamable", "streamableHttp", "/mcp", "streamable_http");
}

TEST (everything_sse)
{
    s_everything_alone ("everything_sse", "sse", "/sse", "sse");
}

TEST (everything_both_prefixed)
{
    s_begin ("everything_both_prefixed");
    s_proc_t *streamable = s_peer ("streamableHttp");
    s_proc_t *sse = s_peer ("sse");
    char url_mcp[128], url_sse[128];
    S_URL (url_mcp, streamable, "/mcp");
    S_URL (url_sse, sse, "/sse");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_peer_timeouts (s_host_add (&host, "new", url_mcp, MCPACT_TRANSPORT_AUTO));
    s_peer_timeouts (s_host_add (&host, "old", url_sse, MCPACT_TRANSPORT_AUTO));
    s_host_start (&host);
    s_check_everything (&host, "new", "new_");
    s_check_everything (&host, "old", "old_");
    json_t *report_new = ru_report_server (host.report, "new");
    json_t *report_old = ru_report_server (host.report, "old");
    CHECK (json_integer_value (json_object_get (report_new, "tools")) > 0);
    CHECK (json_integer_value (json_object_get (report_new, "tools")) ==
           json_integer_value (json_object_get (report_old, "tools")));
    CHECK (mcpact_agent_tool_count (host.agent) ==
           (size_t) (2 * json_integer_value (json_object_get (report_new, "tools"))));
    s_check_status (&host, "new", "ready", "streamable_http", url_mcp);
    s_check_status (&host, "old", "ready", "sse", url_sse);
    s_host_destroy (&host);
    s_proc_stop (streamable);
    s_proc_stop (sse);
    s_end ();
}

TEST (everything_many_in_flight)
{
    s_begin ("everything_many_in_flight");
    s_proc_t *streamable = s_peer ("streamableHttp");
    s_proc_t *sse = s_peer ("sse");
    char url_mcp[128], url_sse[128];
    S_URL (url_mcp, streamable, "/mcp");
    S_URL (url_sse, sse, "/sse");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_peer_timeouts (s_host_add (&host, "new", url_mcp, MCPACT_TRANSPORT_AUTO));
    s_peer_timeouts (s_host_add (&host, "old", url_sse, MCPACT_TRANSPORT_AUTO));
    s_host_start (&host);
    s_check_ready (&host, "new");
    s_check_ready (&host, "old");
    //  More requests in flight than sockets a fixed table would hold
    s_many_echo (host.agent, "new_echo", 100, "Echo: ");
    s_many_echo (host.agent, "old_echo", 32, "Echo: ");
    json_t *entry = s_status (&host, "new");
    CHECK (json_integer_value (json_object_get (entry, "calls")) == 100);
    CHECK (json_integer_value (json_object_get (entry, "errors")) == 0);
    json_decref (entry);
    s_host_destroy (&host);
    s_proc_stop (streamable);
    s_proc_stop (sse);
    s_end ();
}

//  --------------------------------------------------------------------------
//  Choosing the transport: from the URL, explicitly, by probing

TEST (auto_root_is_streamable)
{
    s_begin ("auto_root_is_streamable");
    s_proc_t *fixture = s_mapped_fixture (NULL);
    char url[128];
    S_URL (url, fixture, "/");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "root", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "root");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"at the root\"}", "at the root");
    s_check_status (&host, "root", "ready", "streamable_http", url);
    s_host_destroy (&host);
    char *log = s_log (fixture);
    //  The initialize POST was answered: no second try, no SSE stream
    CHECK_CONTAINS (log, "mapped: POST / as /mcp");
    CHECK (s_count (log, "rpc=initialize#") == 1);
    CHECK (!strstr (log, "legacy session"));
    CHECK (!strstr (log, "GET /sse"));
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

TEST (explicit_sse_on_other_path)
{
    s_begin ("explicit_sse_on_other_path");
    s_proc_t *fixture = s_mapped_fixture (NULL);
    char url[128];
    S_URL (url, fixture, "/events");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "legacy", url, MCPACT_TRANSPORT_SSE);
    s_host_start (&host);
    s_check_ready (&host, "legacy");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"by sse\"}", "by sse");
    s_check_status (&host, "legacy", "ready", "sse", url);
    s_host_destroy (&host);
    char *log = s_log (fixture);
    //  No probing POST: straight to the event stream
    CHECK (!strstr (log, "mapped: POST /events"));
    CHECK (!strstr (log, "POST /mcp"));
    CHECK_CONTAINS (log, "mapped: GET /events as /sse");
    CHECK_CONTAINS (log, "POST /messages?session=");
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

TEST (auto_sse_suffix)
{
    s_begin ("auto_sse_suffix");
    s_proc_t *fixture = s_fixture (NULL);
    char url[128];
    S_URL (url, fixture, "/sse");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "legacy", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "legacy");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"suffix\"}", "suffix");
    s_check_status (&host, "legacy", "ready", "sse", url);
    s_host_destroy (&host);
    char *log = s_log (fixture);
    CHECK (!strstr (log, "POST /sse"));
    CHECK (!strstr (log, "/mcp"));
    CHECK_CONTAINS (log, "GET /sse");
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

TEST (auto_falls_back_to_sse)
{
    //  At /events the mapped fixture speaks only HTTP+SSE: a POST there
    //  gets 405, a GET the event stream.
    s_begin ("auto_falls_back_to_sse");
    s_proc_t *fixture = s_mapped_fixture (NULL);
    char url[128];
    S_URL (url, fixture, "/events");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "old", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "old");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"fell back\"}", "fell back");
    s_check_status (&host, "old", "ready", "sse", url);
    s_host_destroy (&host);
    char *log = s_log (fixture);
    const char *probe = strstr (log, "mapped: POST /events as /sse");
    CHECK_MSG (probe, "no initialize POST to /events first:\n%s", log);
    const char *stream = strstr (log, "mapped: GET /events as /sse");
    CHECK_MSG (stream && stream > probe, "no event stream after the probe:\n%s", log);
    CHECK_CONTAINS (probe, "-> 405");
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

//  --------------------------------------------------------------------------
//  Response formats

TEST (json_responses)
{
    s_begin ("json_responses");
    s_proc_t *fixture = s_fixture (NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "fx", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "fx");
    char *names = ru_tool_names (host.agent);
    CHECK_STR (names, FIXTURE_TOOLS);
    free (names);
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"as json\"}", "as json");
    RU_CALL_IS (host.agent, "sleep", "{\"ms\":1}", "slept 1 ms");
    s_host_destroy (&host);
    s_proc_stop (fixture);
    s_end ();
}

TEST (sse_responses)
{
    s_begin ("sse_responses");
    s_proc_t *fixture = s_fixture ("--sse-responses", NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "fx", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    // The session id must be taken from the initialize response's headers
    // before the response is handed on (the event arrives before the
    // transfer ends): otherwise notifications/initialized and tools/list
    // go out without Mcp-Session-Id and the server fails to start
    s_check_ready (&host, "fx");
    char *names = ru_tool_names (host.agent);
    CHECK_STR (names, FIXTURE_TOOLS);
    free (names);
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"as a stream\"}", "as a stream");
    s_many_echo (host.agent, "echo", 16, "");
    s_host_destroy (&host);
    s_proc_stop (fixture);
    s_end ();
}

TEST (garbage_sse_skipped)
{
    //  Noise before every event, on response streams and the legacy stream
    s_begin ("garbage_sse_skipped");
    s_proc_t *fixture = s_fixture ("--sse-responses", "--garbage-sse", NULL);
    char url_mcp[128], url_sse[128];
    S_URL (url_mcp, fixture, "/mcp");
    S_URL (url_sse, fixture, "/sse");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "new", url_mcp, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "old", url_sse, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "new");
    s_check_ready (&host, "old");
    char *names = ru_tool_names (host.agent);
    CHECK_STR (names, "new_echo,new_sleep,new_big,old_echo,old_sleep,old_big");
    free (names);
    RU_CALL_IS (host.agent, "new_echo", "{\"message\":\"through noise\"}", "through noise");
    RU_CALL_IS (host.agent, "old_echo", "{\"message\":\"through noise\"}", "through noise");
    s_many_echo (host.agent, "new_echo", 8, "");
    s_many_echo (host.agent, "old_echo", 8, "");
    json_t *entry = s_status (&host, "new");
    CHECK (json_integer_value (json_object_get (entry, "errors")) == 0);
    json_decref (entry);
    s_host_destroy (&host);
    s_proc_stop (fixture);
    s_end ();
}

//  --------------------------------------------------------------------------
//  Sessions: expiry, resumption, DELETE

//  Sequential calls on a fixture whose sessions expire after 3 requests:
//  none may fail, and the log must show a call replayed in a new session.
static void
s_check_expiry (s_proc_t *fixture)
{
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "fx", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "fx");
    for (int index = 0; index < 8; index++) {
        char args[64], expected[32];
        snprintf (args, sizeof args, "{\"message\":\"call %d\"}", index);
        snprintf (expected, sizeof expected, "call %d", index);
        RU_CALL_IS (host.agent, "echo", args, expected);
    }
    json_t *entry = s_status (&host, "fx");
    CHECK_STR (ru_str (entry, "state"), "ready");
    CHECK (json_integer_value (json_object_get (entry, "errors")) == 0);
    json_decref (entry);
    s_host_destroy (&host);

    //  Some call hit the expired session (404); after it a new initialize,
    //  then the same call again, with the new session
    char *log = s_log (fixture);
    CHECK_MSG (s_count (log, "rpc=initialize#") >= 2, "no second initialize:\n%s", log);
    int replayed = 0;
    for (const char *expired = strstr (log, " expired after "); expired;
         expired = strstr (expired + 1, " expired after ")) {
        //  The request that found the session gone is the line before
        const char *line = expired;
        while (line > log && line[-1] != '\n')
            line--;
        const char *request = line > log ? line - 1 : log;
        while (request > log && request[-1] != '\n')
            request--;
        const char *call = strstr (request, "rpc=tools/call#");
        if (!call || call > line)
            continue;
        char id[32];
        CHECK (sscanf (call, "rpc=tools/call#%31s", id) == 1);
        const char *init = strstr (expired, "rpc=initialize#");
        CHECK_MSG (init, "no initialize after the expiry of a call:\n%s", log);
        char needle[64];
        snprintf (needle, sizeof needle, "rpc=tools/call#%s ", id);
        CHECK_MSG (strstr (init, needle), "tools/call#%s not replayed after the new session:\n%s",
                   id, log);
        replayed++;
    }
    CHECK_MSG (replayed > 0, "no call met an expired session:\n%s", log);
    free (log);
}

TEST (session_expiry_renewed)
{
    s_begin ("session_expiry_renewed");
    s_proc_t *fixture = s_fixture ("--expire-session-after", "3", NULL);
    // With JSON responses too, the call that met the 404 is replayed in the
    // new session and succeeds (the server is not restarted)
    s_check_expiry (fixture);
    s_proc_stop (fixture);
    s_end ();
}

TEST (session_expiry_renewed_sse)
{
    s_begin ("session_expiry_renewed_sse");
    s_proc_t *fixture = s_fixture ("--expire-session-after", "3", "--sse-responses", NULL);
    s_check_expiry (fixture);
    s_proc_stop (fixture);
    s_end ();
}

TEST (stream_resumed)
{
    s_begin ("stream_resumed");
    s_proc_t *fixture = s_fixture ("--sse-responses", "--drop-stream-once", NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "fx", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "fx");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"dropped once\"}", "dropped once");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"after\"}", "after");
    s_host_destroy (&host);
    char *log = s_log (fixture);
    const char *dropped = strstr (log, "after priming event ");
    CHECK_MSG (dropped, "the fixture dropped no stream:\n%s", log);
    char priming[32], needle[64];
    CHECK (sscanf (dropped, "after priming event %31s", priming) == 1);
    snprintf (needle, sizeof needle, "last-event-id=%s ", priming);
    const char *resume = strstr (dropped, needle);
    CHECK_MSG (resume, "no GET with Last-Event-ID %s:\n%s", priming, log);
    while (resume > log && resume[-1] != '\n')
        resume--;
    CHECK (strncmp (resume, "http_fixture: GET /mcp ", 23) == 0);
    //  It waited for the server's retry: 200 ms, not at once
    const char *waited = strstr (log, "resume of ");
    CHECK (waited);
    int ms = -1;
    CHECK (sscanf (waited, "resume of %*s after %d ms", &ms) == 1);
    CHECK_MSG (ms >= 150, "resumed after %d ms, the server asked for 200", ms);
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

//  The session id of the n-th session the fixture started (0-based).
static void
s_session_id (const char *log, int nth, char *id, size_t size)
{
    const char *at = log;
    for (int index = 0; index <= nth; index++) {
        at = strstr (at, "http_fixture: session ");
        CHECK_MSG (at, "fewer than %d sessions:\n%s", nth + 1, log);
        at += strlen ("http_fixture: session ");
    }
    size_t len = strcspn (at, " ");
    CHECK (len > 0 && len < size);
    memcpy (id, at, len);
    id[len] = 0;
}

TEST (delete_on_close)
{
    s_begin ("delete_on_close");
    s_proc_t *fixture = s_fixture (NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "shared", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "shared");
    RU_CALL_IS (host.agent, "shared_echo", "{\"message\":\"x\"}", "x");

    //  An agent with its own server: closing the agent ends that session
    mcpact_agent_t *own = mcpact_agent_new (host.session, "own");
    CHECK (own);
    mcpact_server_config_t *config = mcpact_server_http_new ("mine", url);
    CHECK (mcpact_agent_add_server (own, &config) == 0);
    json_t *report = ru_json_take (mcpact_agent_start (own));
    CHECK_STR (ru_state (report, "mine"), "ready");
    json_decref (report);
    RU_CALL_IS (own, "mine_echo", "{\"message\":\"y\"}", "y");

    //  The session's server started first, so its session came first
    char *log = s_log (fixture);
    CHECK (s_count (log, " initialized, protocol ") == 2);
    CHECK (!strstr (log, "DELETE"));
    char shared[64], mine[64];
    s_session_id (log, 0, shared, sizeof shared);
    s_session_id (log, 1, mine, sizeof mine);
    free (log);

    mcpact_agent_destroy (&own);
    char deleted[160];
    snprintf (deleted, sizeof deleted, "DELETE /mcp mcp-session-id=%s ", mine);
    CHECK_MSG (s_log_wait (fixture, deleted, 5000), "no DELETE of the agent's session %s", mine);
    snprintf (deleted, sizeof deleted, "session %s deleted", mine);
    CHECK (s_log_wait (fixture, deleted, 5000));
    log = s_log (fixture);
    CHECK_MSG (s_count (log, "DELETE") == 1, "the session's server was closed too:\n%s", log);
    free (log);

    s_host_destroy (&host);
    snprintf (deleted, sizeof deleted, "DELETE /mcp mcp-session-id=%s ", shared);
    CHECK_MSG (s_log_wait (fixture, deleted, 5000), "no DELETE of the session's session %s",
               shared);
    snprintf (deleted, sizeof deleted, "session %s deleted", shared);
    CHECK (s_log_wait (fixture, deleted, 5000));
    s_proc_stop (fixture);
    s_end ();
}

//  --------------------------------------------------------------------------
//  Timeouts and parallel requests

TEST (slow_call_times_out)
{
    s_begin ("slow_call_times_out");
    s_proc_t *fixture = s_fixture ("--slow-ms", "300", NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "slow", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "slow");
    s_call_fails_with (host.agent, "echo", "{\"message\":\"late\"}", 100, MCPACT_ERR_TIMEOUT,
                       "100");
    //  Not held up by the server: a 10 s call given 100 ms ends long before
    int64_t start = ru_now_ms ();
    s_call_fails_with (host.agent, "sleep", "{\"ms\":10000}", 100, MCPACT_ERR_TIMEOUT, "100");
    int64_t elapsed = ru_now_ms () - start;
    CHECK_MSG (elapsed < 5000, "a 100 ms timeout took %lld ms", (long long) elapsed);
    //  With time enough, the same call succeeds, and the server is fine
    mcpact_result_t *result =
        mcpact_agent_call (host.agent, "echo", "{\"message\":\"on time\"}", 5000);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    CHECK_CONTAINS (mcpact_result_text (result), "on time");
    mcpact_result_destroy (&result);
    json_t *entry = s_status (&host, "slow");
    CHECK_STR (ru_str (entry, "state"), "ready");
    json_decref (entry);
    s_host_destroy (&host);
    s_proc_stop (fixture);
    s_end ();
}

TEST (slow_calls_in_parallel)
{
    s_begin ("slow_calls_in_parallel");
    s_proc_t *fixture = s_fixture ("--slow-ms", "300", NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "slow", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "slow");
    //  Four 300 ms answers one after another would take 1200 ms
    int64_t start = ru_now_ms ();
    s_many_echo (host.agent, "echo", 4, "");
    int64_t elapsed = ru_now_ms () - start;
    CHECK_MSG (elapsed < 4 * 300, "4 calls of 300 ms took %lld ms: serialised",
               (long long) elapsed);
    s_host_destroy (&host);
    s_proc_stop (fixture);
    s_end ();
}

//  --------------------------------------------------------------------------
//  HTTP errors: the failing server or call only

TEST (status_500_fails_server)
{
    s_begin ("status_500_fails_server");
    s_proc_t *broken = s_fixture ("--status", "500", NULL);
    s_proc_t *good = s_fixture (NULL);
    char url_broken[128], url_legacy[128], url_good[128];
    S_URL (url_broken, broken, "/mcp");
    S_URL (url_legacy, broken, "/sse");
    S_URL (url_good, good, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "broken", url_broken, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "legacy", url_legacy, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "good", url_good, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    //  Every POST after initialize gets 500: tools/list fails
    CHECK_CONTAINS (s_start_error (&host, "broken"), "HTTP 500");
    CHECK_CONTAINS (s_start_error (&host, "legacy"), "HTTP 500");
    s_check_ready (&host, "good");
    char *names = ru_tool_names (host.agent);
    CHECK_STR (names, "good_echo,good_sleep,good_big");
    free (names);
    RU_CALL_IS (host.agent, "good_echo", "{\"message\":\"fine\"}", "fine");
    mcpact_result_t *result =
        ru_call_fails (host.agent, "broken_echo", "{}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    json_t *entry = s_status (&host, "broken");
    CHECK_STR (ru_str (entry, "state"), "failed");
    CHECK_CONTAINS (ru_str (entry, "error"), "500");
    json_decref (entry);
    s_host_destroy (&host);
    s_proc_stop (broken);
    s_proc_stop (good);
    s_end ();
}

TEST (status_401_fails_server)
{
    s_begin ("status_401_fails_server");
    s_proc_t *fixture = s_fixture ("--status", "401", NULL);
    char url_mcp[128], url_sse[128];
    S_URL (url_mcp, fixture, "/mcp");
    S_URL (url_sse, fixture, "/sse");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "new", url_mcp, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "old", url_sse, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    CHECK_CONTAINS (s_start_error (&host, "new"), "HTTP 401");
    CHECK_CONTAINS (s_start_error (&host, "old"), "HTTP 401");
    s_host_destroy (&host);
    s_proc_stop (fixture);
    s_end ();
}

TEST (status_fails_one_call)
{
    //  The mapped fixture answers 500 (or 401) to one call only
    s_begin ("status_fails_one_call");
    s_proc_t *fixture500 = s_mapped_fixture ("--status", "500", NULL);
    s_proc_t *fixture401 = s_mapped_fixture ("--status", "401", NULL);
    char url_mcp[128], url_sse[128], url_401[128];
    S_URL (url_mcp, fixture500, "/mcp");
    S_URL (url_sse, fixture500, "/sse");
    S_URL (url_401, fixture401, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "new", url_mcp, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "old", url_sse, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "auth", url_401, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "new");
    s_check_ready (&host, "old");
    s_check_ready (&host, "auth");

    //  The failing call in the middle of others in flight on the same server
    const char *servers[] = { "new", "old", "auth" };
    const char *codes[] = { "500", "500", "401" };
    for (int index = 0; index < 3; index++) {
        mcpact_caller_t *caller = mcpact_caller_new (host.agent);
        CHECK (caller);
        char tool[32];
        snprintf (tool, sizeof tool, "%s_echo", servers[index]);
        int64_t before = mcpact_caller_send (caller, tool, "{\"message\":\"before\"}", 0);
        int64_t failing = mcpact_caller_send (caller, tool, "{\"message\":\"force-status\"}", 0);
        int64_t after = mcpact_caller_send (caller, tool, "{\"message\":\"after\"}", 0);
        CHECK (before > 0 && failing > 0 && after > 0);
        for (int got = 0; got < 3; got++) {
            mcpact_result_t *result = mcpact_caller_next (caller, 20000);
            CHECK_MSG (result, "%s: only %d of 3 calls came back", tool, got);
            if (mcpact_result_id (result) == failing) {
                CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_PROTOCOL, "%s: %s: %s", tool,
                           mcpact_status_name (mcpact_result_status (result)),
                           mcpact_result_error (result));
                CHECK_CONTAINS (mcpact_result_error (result), codes[index]);
            } else {
                CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s: %s", tool,
                           mcpact_result_error (result));
                CHECK_CONTAINS (mcpact_result_text (result),
                                mcpact_result_id (result) == before ? "before" : "after");
            }
            mcpact_result_destroy (&result);
        }
        mcpact_caller_destroy (&caller);
        json_t *entry = s_status (&host, servers[index]);
        CHECK_STR (ru_str (entry, "state"), "ready");
        json_decref (entry);
        RU_CALL_IS (host.agent, tool, "{\"message\":\"still\"}", "still");
    }
    s_host_destroy (&host);
    char *log = s_log (fixture500);
    CHECK (s_count (log, "forced status 500") == 2);
    free (log);
    s_proc_stop (fixture500);
    s_proc_stop (fixture401);
    s_end ();
}

TEST (wrong_content_type)
{
    s_begin ("wrong_content_type");
    s_proc_t *wrong = s_fixture ("--wrong-content-type", NULL);
    s_proc_t *good = s_fixture (NULL);
    char url_wrong[128], url_good[128];
    S_URL (url_wrong, wrong, "/mcp");
    S_URL (url_good, good, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "wrong", url_wrong, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "good", url_good, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    CHECK_CONTAINS (s_start_error (&host, "wrong"), "text/plain");
    s_check_ready (&host, "good");
    RU_CALL_IS (host.agent, "good_echo", "{\"message\":\"fine\"}", "fine");
    s_host_destroy (&host);
    s_proc_stop (wrong);
    s_proc_stop (good);
    s_end ();
}

TEST (wrong_content_type_sse)
{
    //  The legacy event stream itself comes as text/plain
    s_begin ("wrong_content_type_sse");
    s_proc_t *wrong = s_fixture ("--wrong-content-type", NULL);
    char url[128];
    S_URL (url, wrong, "/sse");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    mcpact_server_config_t *config = s_host_add (&host, "wrong", url, MCPACT_TRANSPORT_AUTO);
    CHECK (mcpact_server_config_set_timeouts (config, 2000, 0, 0) == 0);
    s_host_start (&host);
    // A text/plain GET /sse stream is refused at once, naming the type
    CHECK_CONTAINS (s_start_error (&host, "wrong"), "text/plain");
    s_host_destroy (&host);
    s_proc_stop (wrong);
    s_end ();
}

TEST (closed_port_fails_server)
{
    s_begin ("closed_port_fails_server");
    s_proc_t *good = s_fixture (NULL);
    int port = s_closed_port ();
    char url_closed[128], url_closed_sse[128], url_good[128], port_text[16];
    snprintf (url_closed, sizeof url_closed, "http://127.0.0.1:%d/mcp", port);
    snprintf (url_closed_sse, sizeof url_closed_sse, "http://127.0.0.1:%d/sse", port);
    snprintf (port_text, sizeof port_text, "%d", port);
    S_URL (url_good, good, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "closed", url_closed, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "closed_sse", url_closed_sse, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "good", url_good, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    const char *error = s_start_error (&host, "closed");
    CHECK_CONTAINS (error, port_text);
    CHECK_CONTAINS (error, "onnect");
    error = s_start_error (&host, "closed_sse");
    CHECK_CONTAINS (error, port_text);
    CHECK_CONTAINS (error, "onnect");
    s_check_ready (&host, "good");
    RU_CALL_IS (host.agent, "good_echo", "{\"message\":\"fine\"}", "fine");
    json_t *entry = s_status (&host, "closed");
    CHECK_STR (ru_str (entry, "state"), "failed");
    CHECK_STR (ru_str (entry, "transport"), "streamable_http");
    CHECK_CONTAINS (ru_str (entry, "error"), port_text);
    json_decref (entry);
    s_host_destroy (&host);
    s_proc_stop (good);
    s_end ();
}

TEST (status_url_of_failed_server)
{
    s_begin ("status_url_of_failed_server");
    char url[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/mcp", s_closed_port ());
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "closed", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_start_error (&host, "closed");
    // A failed HTTP server's status still says which endpoint failed
    s_check_status (&host, "closed", "failed", "streamable_http", url);
    s_host_destroy (&host);
    s_end ();
}

//  --------------------------------------------------------------------------
//  Authentication headers, never logged

#define SECRET "s3cret"

TEST (auth_header)
{
    s_begin ("auth_header");
    s_proc_t *fixture = s_fixture ("--require-header", "Authorization: Bearer " SECRET, NULL);
    char url[128], url_query[160];
    S_URL (url, fixture, "/mcp");
    //  A secret in the query string must not show either
    snprintf (url_query, sizeof url_query, "%s?key=" SECRET, url);
    s_capture_logs ();
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    mcpact_server_config_t *config = s_host_add (&host, "with", url, MCPACT_TRANSPORT_AUTO);
    CHECK (mcpact_server_config_add_header (config, "Authorization", "Bearer " SECRET) == 0);
    config = s_host_add (&host, "query", url_query, MCPACT_TRANSPORT_AUTO);
    CHECK (mcpact_server_config_add_header (config, "Authorization", "Bearer " SECRET) == 0);
    s_host_add (&host, "without", url, MCPACT_TRANSPORT_AUTO);
    config = s_host_add (&host, "wrong", url, MCPACT_TRANSPORT_AUTO);
    CHECK (mcpact_server_config_add_header (config, "Authorization", "Bearer nope") == 0);
    s_host_start (&host);
    s_check_ready (&host, "with");
    s_check_ready (&host, "query");
    CHECK_CONTAINS (s_start_error (&host, "without"), "401");
    CHECK_CONTAINS (s_start_error (&host, "wrong"), "401");
    RU_CALL_IS (host.agent, "with_echo", "{\"message\":\"let in\"}", "let in");
    RU_CALL_IS (host.agent, "query_echo", "{\"message\":\"let in\"}", "let in");
    //  Failing calls: one timed out (and cancelled), one unknown
    s_call_fails_with (host.agent, "with_sleep", "{\"ms\":2000}", 50, MCPACT_ERR_TIMEOUT, "50");
    mcpact_result_t *result =
        ru_call_fails (host.agent, "without_echo", "{}", 0, MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    char *text = mcpact_agent_status (host.agent);
    CHECK (!strstr (text, SECRET));
    json_t *status = ru_json_take (text);
    CHECK_STR (ru_str (ru_named (status, "query"), "url"), url);
    json_decref (status);
    text = mcpact_agent_tools (host.agent);
    CHECK (!strstr (text, SECRET));
    free (text);
    s_host_destroy (&host);
    char *lines = s_captured_logs ();
    CHECK_MSG (strstr (lines, "401"), "the log does not say why 'without' failed:\n%s", lines);
    CHECK (strstr (lines, "without"));
    s_check_no_secret (lines, SECRET);
    free (lines);

    //  The header went with every request of the servers that had it,
    //  the DELETE included
    char *log = s_log (fixture);
    CHECK (s_count (log, "DELETE /mcp") == 2);
    for (const char *at = strstr (log, "DELETE /mcp"); at; at = strstr (at + 1, "DELETE /mcp")) {
        size_t len = strcspn (at, "\n");
        const char *present = strstr (at, "authorization=<present>");
        CHECK_MSG (present && (size_t) (present - at) < len, "a DELETE without the header:\n%s",
                   log);
    }
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

TEST (auth_header_from_config)
{
    s_begin ("auth_header_from_config");
    s_proc_t *fixture = s_fixture ("--require-header", "Authorization: Bearer " SECRET, NULL);
    char config[512];
    snprintf (config, sizeof config,
              "{\"mcpServers\": {"
              " \"secured\": {\"url\": \"http://127.0.0.1:%d/mcp\","
              "   \"headers\": {\"Authorization\": \"Bearer ${MCPACT_TEST_TOKEN}\"}},"
              " \"unset\": {\"url\": \"http://127.0.0.1:%d/mcp\","
              "   \"headers\": {\"Authorization\": \"Bearer ${MCPACT_TEST_UNSET}\"}}},"
              " \"toolNames\": \"prefix\"}",
              fixture->port, fixture->port);
    CHECK (setenv ("MCPACT_TEST_TOKEN", SECRET, 1) == 0);
    CHECK (unsetenv ("MCPACT_TEST_UNSET") == 0);
    s_capture_logs ();
    s_host_t host;
    memset (&host, 0, sizeof host);
    host.runtime = s_runtime_new ();
    char *error = NULL;
    host.session = mcpact_session_load_string (host.runtime, config, "test.json", &error);
    CHECK_MSG (host.session, "%s", error);
    s_host_start (&host);
    s_check_ready (&host, "secured");
    CHECK_CONTAINS (s_start_error (&host, "unset"), "MCPACT_TEST_UNSET is not set");
    RU_CALL_IS (host.agent, "secured_echo", "{\"message\":\"from env\"}", "from env");
    s_call_fails_with (host.agent, "secured_sleep", "{\"ms\":2000}", 50, MCPACT_ERR_TIMEOUT, "50");
    char *text = mcpact_agent_status (host.agent);
    CHECK (!strstr (text, SECRET));
    free (text);
    s_host_destroy (&host);
    CHECK (unsetenv ("MCPACT_TEST_TOKEN") == 0);
    char *lines = s_captured_logs ();
    CHECK_CONTAINS (lines, "MCPACT_TEST_UNSET is not set");
    s_check_no_secret (lines, SECRET);
    free (lines);
    char *log = s_log (fixture);
    CHECK_CONTAINS (log, "authorization=<present>");
    //  No request was refused (ids and ports may contain "401" by chance)
    CHECK (!strstr (log, "-> 401"));
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

//  --------------------------------------------------------------------------
//  HTTP+SSE: the endpoint must be on the stream's origin

TEST (sse_endpoint_other_origin)
{
    s_begin ("sse_endpoint_other_origin");
    //  A listener where the endpoint points: nothing may connect to it
    int trap = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK (trap >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    CHECK (inet_pton (AF_INET, "127.0.0.2", &address.sin_addr) == 1);
    CHECK (bind (trap, (struct sockaddr *) &address, sizeof address) == 0);
    CHECK (listen (trap, 8) == 0);
    socklen_t size = sizeof address;
    CHECK (getsockname (trap, (struct sockaddr *) &address, &size) == 0);
    char origin[64], relative[64];
    snprintf (origin, sizeof origin, "http://127.0.0.2:%d", ntohs (address.sin_port));
    //  A scheme-relative URL is another origin just as well
    snprintf (relative, sizeof relative, "//127.0.0.2:%d", ntohs (address.sin_port));

    s_proc_t *fixture = s_fixture ("--endpoint-origin", origin, NULL);
    s_proc_t *fixture_relative = s_fixture ("--endpoint-origin", relative, NULL);
    char url[128], url_relative[128], url_good[128];
    S_URL (url, fixture, "/sse");
    S_URL (url_relative, fixture_relative, "/sse");
    S_URL (url_good, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    mcpact_server_config_t *config = s_host_add (&host, "moved", url, MCPACT_TRANSPORT_AUTO);
    CHECK (mcpact_server_config_add_header (config, "Authorization", "Bearer " SECRET) == 0);
    CHECK (mcpact_server_config_set_timeouts (config, 3000, 0, 0) == 0);
    config = s_host_add (&host, "relative", url_relative, MCPACT_TRANSPORT_AUTO);
    CHECK (mcpact_server_config_set_timeouts (config, 3000, 0, 0) == 0);
    s_host_add (&host, "good", url_good, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    const char *names[] = { "moved", "relative" };
    for (int index = 0; index < 2; index++) {
        const char *error = s_start_error (&host, names[index]);
        CHECK_CONTAINS (error, "origin");
        CHECK_CONTAINS (error, origin);
    }
    s_check_ready (&host, "good");
    RU_CALL_IS (host.agent, "good_echo", "{\"message\":\"fine\"}", "fine");
    s_host_destroy (&host);

    int client = accept (trap, NULL, NULL);
    CHECK_MSG (client < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
               "the client connected to the foreign endpoint %s", origin);
    close (trap);
    s_proc_t *fixtures[] = { fixture, fixture_relative };
    for (int index = 0; index < 2; index++) {
        char *log = s_log (fixtures[index]);
        CHECK (!strstr (log, "POST /messages"));
        free (log);
        s_proc_stop (fixtures[index]);
    }
    s_end ();
}

//  --------------------------------------------------------------------------
//  Redirects: followed within the configured origin only

//  A second secret, for a header other than Authorization
#define API_KEY "k3y-0f-th3-h0me-0r1g1n"

//  Two fixtures on two loopback ports: `home`, the configured server,
//  answers the requests its --redirect-on names with a redirect to
//  `away`, another origin, which must never be reached.
typedef struct {
    s_proc_t *home;
    s_proc_t *away;
    char home_origin[64]; //  "http://127.0.0.1:<port>"
    char away_origin[64];
} s_redirect_t;

//  Starts both; `on` is the --redirect-on list, then up to two more
//  switches for home (NULL for none).
static void
s_redirect_start (s_redirect_t *redirect, const char *on, const char *extra, const char *extra2)
{
    redirect->away = s_fixture (NULL);
    snprintf (redirect->away_origin, sizeof redirect->away_origin, "http://127.0.0.1:%d",
              redirect->away->port);
    char to[96];
    snprintf (to, sizeof to, "%s/moved", redirect->away_origin);
    redirect->home = s_fixture ("--redirect-on", on, "--redirect-to", to, extra, extra2, NULL);
    snprintf (redirect->home_origin, sizeof redirect->home_origin, "http://127.0.0.1:%d",
              redirect->home->port);
}

static void
s_redirect_stop (s_redirect_t *redirect)
{
    s_proc_stop (redirect->home);
    s_proc_stop (redirect->away);
}

//  Adds server `name` on home at `path`, with a bearer token and an API
//  key that belong to home only.
static mcpact_server_config_t *
s_redirect_server (s_host_t *host, s_redirect_t *redirect, const char *name, const char *path)
{
    char url[128];
    S_URL (url, redirect->home, path);
    mcpact_server_config_t *config = s_host_add (host, name, url, MCPACT_TRANSPORT_AUTO);
    CHECK (mcpact_server_config_add_header (config, "Authorization", "Bearer " SECRET) == 0);
    CHECK (mcpact_server_config_add_header (config, "X-Api-Key", API_KEY) == 0);
    return config;
}

//  Home did redirect, and away was never asked anything at all: neither
//  the headers nor the session id (nor anything else) went there.
static void
s_check_away_untouched (s_redirect_t *redirect)
{
    char *home = s_log (redirect->home);
    CHECK_MSG (strstr (home, "redirect: "), "home redirected nothing:\n%s", home);
    free (home);
    char *away = s_log (redirect->away);
    CHECK_MSG (!strstr (away, "http_fixture: GET ") && !strstr (away, "http_fixture: POST ") &&
                   !strstr (away, "http_fixture: DELETE "),
               "the other origin was sent requests:\n%s", away);
    free (away);
}

//  `text` names the server and both origins, and holds no secret.
static void
s_check_refusal (const char *text, const char *server, s_redirect_t *redirect)
{
    char name[64];
    snprintf (name, sizeof name, "server %s:", server);
    CHECK_CONTAINS (text, name);
    CHECK_CONTAINS (text, redirect->home_origin);
    CHECK_CONTAINS (text, redirect->away_origin);
    CHECK_CONTAINS (text, "refused");
    //  The reason is the runtime's, not an error the server answered with
    CHECK_MSG (!strstr (text, "answered with error"), "%s", text);
    s_check_no_secret (text, SECRET);
    s_check_no_secret (text, API_KEY);
}

//  Waits, bounded, until a captured log line holds `needle`.
static bool
s_captured_wait (const char *needle, int timeout_ms)
{
    int64_t give_up = ru_now_ms () + timeout_ms;
    while (true) {
        pthread_mutex_lock (&s_lines_lock);
        bool found = s_lines && strstr (s_lines, needle);
        pthread_mutex_unlock (&s_lines_lock);
        if (found || ru_now_ms () > give_up)
            return found;
        ru_sleep_ms (20);
    }
}

//  The captured log line holding `needle` (caller frees), or fails.
static char *
s_captured_line (const char *lines, const char *needle)
{
    const char *at = strstr (lines, needle);
    CHECK_MSG (at, "no log line holds \"%s\":\n%s", needle, lines);
    while (at > lines && at[-1] != '\n')
        at--;
    return strndup (at, strcspn (at, "\n"));
}

//  A server whose start meets a redirect to the other origin on the
//  requests `kinds` (the fixture's --redirect-on): the start fails with
//  the refusal, the log holds no secret, and nothing reached the other
//  origin.
static void
s_start_refused (const char *kinds, const char *path)
{
    s_redirect_t redirect;
    s_redirect_start (&redirect, kinds, NULL, NULL);
    s_capture_logs ();
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_redirect_server (&host, &redirect, "leaky", path);
    s_host_start (&host);
    s_check_refusal (s_start_error (&host, "leaky"), "leaky", &redirect);
    s_host_destroy (&host);
    char *lines = s_captured_logs ();
    s_check_no_secret (lines, SECRET);
    s_check_no_secret (lines, API_KEY);
    free (lines);
    s_check_away_untouched (&redirect);
    s_redirect_stop (&redirect);
}

TEST (redirect_cross_origin_initialize)
{
    //  The session would have moved to the other origin
    s_begin ("redirect_cross_origin_initialize");
    s_start_refused ("initialize", "/mcp");
    s_end ();
}

TEST (redirect_cross_origin_call)
{
    s_begin ("redirect_cross_origin_call");
    s_redirect_t redirect;
    s_redirect_start (&redirect, "call", NULL, NULL);
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_redirect_server (&host, &redirect, "leaky", "/mcp");
    s_host_start (&host);
    s_check_ready (&host, "leaky");
    //  The call fails with the reason; the server stays up
    mcpact_result_t *result =
        ru_call_fails (host.agent, "echo", "{\"message\":\"x\"}", 0, MCPACT_ERR_PROTOCOL);
    s_check_refusal (mcpact_result_error (result), "leaky", &redirect);
    mcpact_result_destroy (&result);
    json_t *entry = s_status (&host, "leaky");
    CHECK_STR (ru_str (entry, "state"), "ready");
    json_decref (entry);
    s_host_destroy (&host);
    s_check_away_untouched (&redirect);
    s_redirect_stop (&redirect);
    s_end ();
}

TEST (redirect_cross_origin_notification)
{
    s_begin ("redirect_cross_origin_notification");
    s_redirect_t redirect;
    s_redirect_start (&redirect, "notification", NULL, NULL);
    s_capture_logs ();
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_redirect_server (&host, &redirect, "leaky", "/mcp");
    s_host_start (&host);
    //  notifications/initialized was refused: only logged, nobody waits
    s_check_ready (&host, "leaky");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"at home\"}", "at home");
    CHECK (s_captured_wait (redirect.away_origin, 10000));
    s_host_destroy (&host);
    char *lines = s_captured_logs ();
    char *line = s_captured_line (lines, redirect.away_origin);
    s_check_refusal (line, "leaky", &redirect);
    free (line);
    free (lines);
    s_check_away_untouched (&redirect);
    s_redirect_stop (&redirect);
    s_end ();
}

TEST (redirect_cross_origin_listen)
{
    s_begin ("redirect_cross_origin_listen");
    s_redirect_t redirect;
    s_redirect_start (&redirect, "listen", "--get-stream", NULL);
    s_capture_logs ();
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_redirect_server (&host, &redirect, "leaky", "/mcp");
    s_host_start (&host);
    s_check_ready (&host, "leaky");
    //  The listen stream is optional: refused, logged, and the rest works
    CHECK_MSG (s_captured_wait ("no listen stream", 10000), "the listen stream was not refused");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"at home\"}", "at home");
    s_host_destroy (&host);
    char *lines = s_captured_logs ();
    char *line = s_captured_line (lines, "no listen stream");
    s_check_refusal (line, "leaky", &redirect);
    free (line);
    free (lines);
    s_check_away_untouched (&redirect);
    s_redirect_stop (&redirect);
    s_end ();
}

TEST (redirect_cross_origin_delete)
{
    s_begin ("redirect_cross_origin_delete");
    s_redirect_t redirect;
    s_redirect_start (&redirect, "delete", NULL, NULL);
    s_capture_logs ();
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_redirect_server (&host, &redirect, "leaky", "/mcp");
    s_host_start (&host);
    s_check_ready (&host, "leaky");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"at home\"}", "at home");
    //  Closing sends DELETE, which home redirects
    s_host_destroy (&host);
    CHECK (s_log_wait (redirect.home, "DELETE /mcp", 5000));
    char *lines = s_captured_logs ();
    char *line = s_captured_line (lines, redirect.away_origin);
    s_check_refusal (line, "leaky", &redirect);
    free (line);
    free (lines);
    s_check_away_untouched (&redirect);
    s_redirect_stop (&redirect);
    s_end ();
}

TEST (redirect_cross_origin_new_session)
{
    //  The session expires (404) and the new initialize is redirected
    s_begin ("redirect_cross_origin_new_session");
    s_redirect_t redirect;
    s_redirect_start (&redirect, "initialize-again", "--expire-session-after", "3");
    s_capture_logs ();
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_redirect_server (&host, &redirect, "leaky", "/mcp");
    s_host_start (&host);
    s_check_ready (&host, "leaky");
    //  initialized, tools/list and this call use up the session
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"first\"}", "first");
    mcpact_result_t *result = mcpact_agent_call (host.agent, "echo", "{\"message\":\"x\"}", 10000);
    CHECK_MSG (mcpact_result_status (result) != MCPACT_OK, "a call in a new session at %s",
               redirect.away_origin);
    mcpact_result_destroy (&result);
    CHECK (s_captured_wait ("new one could not be started", 10000));
    s_host_destroy (&host);
    char *lines = s_captured_logs ();
    char *line = s_captured_line (lines, "new one could not be started");
    s_check_refusal (line, "leaky", &redirect);
    free (line);
    free (lines);
    s_check_away_untouched (&redirect);
    s_redirect_stop (&redirect);
    s_end ();
}

TEST (redirect_cross_origin_sse_stream)
{
    s_begin ("redirect_cross_origin_sse_stream");
    s_start_refused ("sse", "/sse");
    s_end ();
}

TEST (redirect_cross_origin_sse_post)
{
    //  The event stream stays home; the POSTs to its endpoint are redirected
    s_begin ("redirect_cross_origin_sse_post");
    s_start_refused ("messages", "/sse");
    s_end ();
}

TEST (redirect_other_scheme)
{
    s_begin ("redirect_other_scheme");
    //  An FTP listener where one redirect points: nothing may connect
    int trap = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK (trap >= 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (bind (trap, (struct sockaddr *) &address, sizeof address) == 0);
    CHECK (listen (trap, 8) == 0);
    socklen_t size = sizeof address;
    CHECK (getsockname (trap, (struct sockaddr *) &address, &size) == 0);
    char ftp[96], ftp_origin[64];
    snprintf (ftp_origin, sizeof ftp_origin, "ftp://127.0.0.1:%d", ntohs (address.sin_port));
    snprintf (ftp, sizeof ftp, "%s/moved", ftp_origin);
    s_proc_t *to_ftp = s_fixture ("--redirect-on", "post", "--redirect-to", ftp, NULL);
    //  Same host and port, another scheme: another origin too
    s_proc_t *to_https = s_fixture ("--redirect-on", "post", "--redirect-to",
                                    "https://127.0.0.1:{port}/moved", NULL);
    char url_ftp[128], url_https[128], https_origin[64];
    S_URL (url_ftp, to_ftp, "/mcp");
    S_URL (url_https, to_https, "/mcp");
    snprintf (https_origin, sizeof https_origin, "https://127.0.0.1:%d", to_https->port);
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "ftp", url_ftp, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "upgrade", url_https, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    const char *error = s_start_error (&host, "ftp");
    CHECK_CONTAINS (error, "server ftp:");
    CHECK_CONTAINS (error, ftp_origin);
    error = s_start_error (&host, "upgrade");
    CHECK_CONTAINS (error, "server upgrade:");
    CHECK_CONTAINS (error, https_origin);
    s_host_destroy (&host);
    int client = accept (trap, NULL, NULL);
    CHECK_MSG (client < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
               "the client followed the redirect to %s", ftp_origin);
    close (trap);
    char *log = s_log (to_https);
    CHECK (!strstr (log, "moved: 1 hop(s)"));
    free (log);
    s_proc_stop (to_ftp);
    s_proc_stop (to_https);
    s_end ();
}

//  In `log`, every request line naming `before` is followed (some time
//  later) by one naming `after`, as often: the redirected request went out
//  again, the same method and message.
static void
s_check_resent (const char *log, const char *before, const char *after)
{
    int sent = s_count (log, before), resent = s_count (log, after);
    CHECK_MSG (sent > 0 && sent == resent, "%d \"%s\", %d \"%s\":\n%s", sent, before, resent, after,
               log);
}

//  Whether some line of `log` holds both `first` and, after it, `second`.
static bool
s_line_with (const char *log, const char *first, const char *second)
{
    for (const char *at = strstr (log, first); at; at = strstr (at + 1, first)) {
        const char *found = strstr (at, second);
        if (found && found < at + strcspn (at, "\n"))
            return true;
    }
    return false;
}

//  What the server log callback got, for the listen stream test.
typedef struct {
    pthread_mutex_t lock;
    char logs[4096];
} s_server_logs_t;

static void
s_on_server_log (const char *log_json, void *arg)
{
    s_server_logs_t *logs = (s_server_logs_t *) arg;
    pthread_mutex_lock (&logs->lock);
    size_t used = strlen (logs->logs);
    snprintf (logs->logs + used, sizeof logs->logs - used, "%s\n", log_json);
    pthread_mutex_unlock (&logs->lock);
}

TEST (calls_wait_for_the_listen_stream)
{
    //  A server that says something about a call on its listen stream
    //  only, and drops it when that stream is not open yet (as the
    //  TypeScript SDK's does), here one whose listen stream opens 400 ms
    //  late: the host's first call, made the moment the server is ready,
    //  waits for the stream, and what the server said of it arrives.
    s_begin ("calls_wait_for_the_listen_stream");
    s_proc_t *fixture = s_fixture ("--get-stream", "--get-delay-ms", "400", NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_server_logs_t logs = { .lock = PTHREAD_MUTEX_INITIALIZER };
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "late", url, MCPACT_TRANSPORT_AUTO);
    CHECK (mcpact_session_set_server_log (host.session, s_on_server_log, &logs) == 0);
    s_host_start (&host);
    s_check_ready (&host, "late");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"first\"}", "first");
    bool heard = false;
    for (int64_t give_up = ru_now_ms () + 5000; !heard && ru_now_ms () < give_up;) {
        pthread_mutex_lock (&logs.lock);
        heard = strstr (logs.logs, "tools/call echo") != NULL;
        pthread_mutex_unlock (&logs.lock);
        if (!heard)
            usleep (10000);
    }
    char *log = s_log (fixture);
    CHECK_MSG (heard && !strstr (log, "no listen stream"),
               "the server's message about the first call was lost:\n%s", log);
    free (log);
    s_host_destroy (&host);
    s_proc_stop (fixture);
    s_end ();
}

TEST (redirect_same_origin)
{
    //  /mcp -> /moved/mcp (a relative Location, 307) for every request
    //  of streamable HTTP: the POSTs, the listen stream, the DELETE
    s_begin ("redirect_same_origin");
    s_proc_t *fixture = s_fixture ("--redirect-on", "post,listen,delete", "--get-stream", NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "moved", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "moved");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"moved\"}", "moved");
    s_many_echo (host.agent, "echo", 4, "");
    CHECK_MSG (s_log_wait (fixture, "GET /moved/mcp", 10000), "no listen stream at /moved/mcp");
    s_host_destroy (&host);
    CHECK (s_log_wait (fixture, " deleted", 5000));
    char *log = s_log (fixture);
    s_check_resent (log, "POST /mcp rpc=initialize#", "POST /moved/mcp rpc=initialize#");
    s_check_resent (log, "POST /mcp rpc=tools/call#", "POST /moved/mcp rpc=tools/call#");
    s_check_resent (log, "POST /mcp rpc=notifications/initialized",
                    "POST /moved/mcp rpc=notifications/initialized");
    s_check_resent (log, "DELETE /mcp ", "DELETE /moved/mcp ");
    CHECK (!strstr (log, "GET /moved/mcp rpc="));
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

TEST (redirect_same_origin_credentials)
{
    //  An absolute Location (308) carries no user:password; those of the
    //  configured URL go along, to the same origin
    s_begin ("redirect_same_origin_credentials");
    s_proc_t *fixture =
        s_fixture ("--redirect-on", "post,delete", "--redirect-status", "308", "--redirect-to",
                   "http://127.0.0.1:{port}/moved", "--require-header",
                   "Authorization: Basic dXNlcjpzM2NyZXQ=", NULL);
    char url[128];
    snprintf (url, sizeof url, "http://user:" SECRET "@127.0.0.1:%d/mcp", fixture->port);
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "basic", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "basic");
    RU_CALL_IS (host.agent, "echo", "{\"message\":\"with basic\"}", "with basic");
    s_host_destroy (&host);
    CHECK (s_log_wait (fixture, " deleted", 5000));
    char *log = s_log (fixture);
    CHECK (!strstr (log, "-> 401"));
    s_check_resent (log, "POST /mcp rpc=tools/call#", "POST /moved/mcp rpc=tools/call#");
    s_check_resent (log, "DELETE /mcp ", "DELETE /moved/mcp ");
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

TEST (redirect_same_origin_sse)
{
    //  HTTP+SSE: the event stream and the endpoint POSTs, by 301 and 302,
    //  which keep the POST a POST
    s_begin ("redirect_same_origin_sse");
    s_proc_t *moved301 =
        s_fixture ("--redirect-on", "sse,messages", "--redirect-status", "301", NULL);
    s_proc_t *moved302 =
        s_fixture ("--redirect-on", "sse,messages", "--redirect-status", "302", NULL);
    char url301[128], url302[128];
    S_URL (url301, moved301, "/sse");
    S_URL (url302, moved302, "/sse");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "old301", url301, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "old302", url302, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "old301");
    s_check_ready (&host, "old302");
    RU_CALL_IS (host.agent, "old301_echo", "{\"message\":\"301\"}", "301");
    RU_CALL_IS (host.agent, "old302_echo", "{\"message\":\"302\"}", "302");
    s_host_destroy (&host);
    s_proc_t *fixtures[] = { moved301, moved302 };
    for (int index = 0; index < 2; index++) {
        char *log = s_log (fixtures[index]);
        s_check_resent (log, "GET /sse", "GET /moved/sse");
        s_check_resent (log, "POST /messages?session=", "POST /moved/messages?session=");
        CHECK_MSG (s_count (log, "rpc=tools/call#") == 2 &&
                       s_line_with (log, "POST /moved/messages?session=", "rpc=tools/call#"),
                   "the call was not POSTed again:\n%s", log);
        free (log);
        s_proc_stop (fixtures[index]);
    }
    s_end ();
}

TEST (redirect_limit)
{
    //  5 redirects in a row are followed, 6 are not
    s_begin ("redirect_limit");
    s_proc_t *five = s_fixture ("--redirect-on", "post", "--redirect-hops", "5", NULL);
    s_proc_t *six = s_fixture ("--redirect-on", "post", "--redirect-hops", "6", NULL);
    char url_five[128], url_six[128];
    S_URL (url_five, five, "/mcp");
    S_URL (url_six, six, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "five", url_five, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "six", url_six, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "five");
    RU_CALL_IS (host.agent, "five_echo", "{\"message\":\"far\"}", "far");
    const char *error = s_start_error (&host, "six");
    CHECK_CONTAINS (error, "server six:");
    CHECK_CONTAINS (error, "more than 5 redirects");
    s_host_destroy (&host);
    char *log = s_log (five);
    CHECK_CONTAINS (log, "moved: 5 hop(s)");
    free (log);
    log = s_log (six);
    CHECK (!strstr (log, "moved: 6 hop(s)"));
    free (log);
    s_proc_stop (five);
    s_proc_stop (six);
    s_end ();
}

TEST (redirect_303_not_followed_by_get)
{
    //  303 See Other turns a request into a GET: an MCP message would be
    //  lost, so the POST fails instead
    s_begin ("redirect_303_not_followed_by_get");
    s_proc_t *fixture = s_fixture ("--redirect-on", "post", "--redirect-status", "303", NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_REJECT);
    s_host_add (&host, "other", url, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    const char *error = s_start_error (&host, "other");
    CHECK_CONTAINS (error, "server other:");
    CHECK_CONTAINS (error, "303");
    s_host_destroy (&host);
    char *log = s_log (fixture);
    CHECK (!strstr (log, "moved: 1 hop(s)"));
    free (log);
    s_proc_stop (fixture);
    s_end ();
}

//  --------------------------------------------------------------------------
//  The CLI

TEST (cli_everything)
{
    s_begin ("cli_everything");
    s_proc_t *peer = s_peer ("streamableHttp");
    char config[256];
    snprintf (config, sizeof config,
              "{\"mcpServers\": {\"everything\": {\"url\": \"http://127.0.0.1:%d/mcp\","
              " \"timeouts\": {\"connect\": %d}}}}",
              peer->port, PEER_CONNECT_MS);
    const char *path = s_temp_config (config);
    ru_run_t run = S_CLI (NULL, "-c", path, "tools");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "\necho ");
    CHECK_CONTAINS (run.out, "\nget-sum ");
    CHECK_CONTAINS (run.out, "everything");
    ru_run_free (&run);
    run = S_CLI (NULL, "-c", path, "call", "echo", "{\"message\":\"x\"}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "Echo: x");
    ru_run_free (&run);
    run = S_CLI (NULL, "-c", path, "status");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "streamable_http");
    CHECK_CONTAINS (run.out, "ready");
    ru_run_free (&run);
    s_proc_stop (peer);
    s_end ();
}

TEST (cli_header_from_env)
{
    s_begin ("cli_header_from_env");
    s_proc_t *fixture = s_fixture ("--require-header", "Authorization: Bearer tok-42", NULL);
    char config[256];
    snprintf (config, sizeof config,
              "{\"mcpServers\": {\"secured\": {\"url\": \"http://127.0.0.1:%d/mcp\","
              " \"headers\": {\"Authorization\": \"Bearer ${TOKEN_VAR}\"}}}}",
              fixture->port);
    const char *path = s_temp_config (config);
    ru_run_t run = S_CLI (S_ENV ("TOKEN_VAR=tok-42"), "-c", path, "-vv", "call", "echo",
                          "{\"message\":\"x\"}");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "\"x\"");
    CHECK (!strstr (run.out, "tok-42"));
    CHECK (!strstr (run.err, "tok-42"));
    ru_run_free (&run);
    run = S_CLI (S_ENV ("TOKEN_VAR"), "-c", path, "status");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "failed");
    CHECK_CONTAINS (run.err, "TOKEN_VAR is not set");
    ru_run_free (&run);
    run = S_CLI (S_ENV ("TOKEN_VAR=b4d-t0k3n"), "-c", path, "-vv", "status");
    CHECK_EXIT (run, 0);
    CHECK_CONTAINS (run.out, "failed");
    CHECK_CONTAINS (run.err, "401");
    CHECK (!strstr (run.out, "b4d-t0k3n") && !strstr (run.err, "b4d-t0k3n"));
    ru_run_free (&run);
    s_proc_stop (fixture);
    s_end ();
}

TEST (cli_redirect_other_origin)
{
    //  Headers from the configuration file, a call redirected elsewhere
    s_begin ("cli_redirect_other_origin");
    s_redirect_t redirect;
    s_redirect_start (&redirect, "call", NULL, NULL);
    char config[512];
    snprintf (config, sizeof config,
              "{\"mcpServers\": {\"leaky\": {\"url\": \"http://127.0.0.1:%d/mcp\","
              " \"headers\": {\"Authorization\": \"Bearer ${TOKEN_VAR}\","
              "               \"X-Api-Key\": \"${KEY_VAR}\"}}}}",
              redirect.home->port);
    const char *path = s_temp_config (config);
    ru_run_t run = S_CLI (S_ENV ("TOKEN_VAR=" SECRET, "KEY_VAR=" API_KEY), "-c", path, "call",
                          "echo", "{\"message\":\"x\"}");
    CHECK_MSG (run.status != 0, "the call succeeded:\n%s", run.out);
    s_check_refusal (run.err, "leaky", &redirect);
    s_check_no_secret (run.out, SECRET);
    s_check_no_secret (run.out, API_KEY);
    ru_run_free (&run);
    s_check_away_untouched (&redirect);
    s_redirect_stop (&redirect);
    s_end ();
}

//  The STATE column of server `name` in a status table.
static void
s_check_row (const char *table, const char *name, const char *transport)
{
    char start[64];
    snprintf (start, sizeof start, "\n%s ", name);
    const char *row = strstr (table, start);
    CHECK_MSG (row, "no row for %s:\n%s", name, table);
    row++;
    size_t len = strcspn (row, "\n");
    char line[512];
    snprintf (line, sizeof line, "%.*s", (int) len, row);
    CHECK_CONTAINS (line, transport);
    CHECK_MSG (strstr (line, " ready ") || strstr (line, " failed "), "%s", line);
}

TEST (cli_example_configs)
{
    s_begin ("cli_example_configs");
    //  Whether or not the example servers run, the files load and each
    //  server is reported
    ru_run_t run = S_CLI (NULL, "-c", EXAMPLES "/http.json", "status");
    CHECK_EXIT (run, 0);
    s_check_row (run.out, "everything", "streamable_http");
    s_check_row (run.out, "everything-sse", "sse");
    ru_run_free (&run);
    run = S_CLI (S_ENV ("MCP_TOKEN"), "-c", EXAMPLES "/http-auth.json", "status");
    CHECK_EXIT (run, 0);
    s_check_row (run.out, "secured", "streamable_http");
    CHECK_CONTAINS (run.out, "failed");
    CHECK_CONTAINS (run.err, "MCP_TOKEN is not set");
    ru_run_free (&run);
    run = S_CLI (S_ENV ("MCP_TOKEN=t0ken"), "-c", EXAMPLES "/http-auth.json", "-vv", "status");
    CHECK_EXIT (run, 0);
    s_check_row (run.out, "secured", "streamable_http");
    CHECK (!strstr (run.out, "t0ken") && !strstr (run.err, "t0ken"));
    ru_run_free (&run);
    s_end ();
}

//  --------------------------------------------------------------------------
//  Answers with the id in string form; what a server holds of our memory

TEST (string_ids_answered)
{
    s_begin ("string_ids_answered");
    s_proc_t *fixture = s_fixture ("--string-ids", NULL);
    s_proc_t *sse = s_fixture ("--string-ids", "--sse-responses", NULL);
    char url[128], url_sse[128];
    S_URL (url, fixture, "/mcp");
    S_URL (url_sse, sse, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "json", url, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "stream", url_sse, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    s_check_ready (&host, "json");
    s_check_ready (&host, "stream");
    RU_CALL_IS (host.agent, "json_echo", "{\"message\":\"by string\"}", "by string");
    RU_CALL_IS (host.agent, "stream_echo", "{\"message\":\"by string\"}", "by string");
    s_host_destroy (&host);
    s_proc_stop (fixture);
    s_proc_stop (sse);
    s_end ();
}

TEST (limits_bound_requests_held)
{
    //  A slow server holds the bodies of the calls it has not answered:
    //  beyond the byte limit a call is refused at once, and those in
    //  flight still complete.
    s_begin ("limits_bound_requests_held");
    s_proc_t *fixture = s_fixture ("--slow-ms", "1500", NULL);
    char url[128];
    S_URL (url, fixture, "/mcp");
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *slow = mcpact_server_http_new ("slow", url);
    CHECK (mcpact_server_config_set_limits (slow, 0, 70000) == 0);
    CHECK (mcpact_session_add_server (session, &slow) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "slow"), "ready");
    json_decref (report);
    char *args = ru_big_args (20000);
    int busy;
    int ok = ru_calls_past_limits (agent, "echo", args, 6, "\"queuedBytes\"", &busy);
    CHECK_MSG (ok == 3 && busy == 3, "%d answered, %d refused", ok, busy);
    free (args);
    ru_teardown (&agent, &session, &runtime);
    s_proc_stop (fixture);
    s_end ();
}

TEST (oversized_answer_says_so)
{
    //  An answer over the 64 MiB limit, as JSON or on an event stream:
    //  the call fails saying the answer was too large, not with a
    //  transfer error or a stream that "closed before the response".
    s_begin ("oversized_answer_says_so");
    s_proc_t *json = s_fixture (NULL);
    s_proc_t *sse = s_fixture ("--sse-responses", NULL);
    char url_json[128], url_sse[128];
    S_URL (url_json, json, "/mcp");
    S_URL (url_sse, sse, "/mcp");
    s_host_t host;
    s_host_new (&host, MCPACT_NAMES_PREFIX);
    s_host_add (&host, "json", url_json, MCPACT_TRANSPORT_AUTO);
    s_host_add (&host, "stream", url_sse, MCPACT_TRANSPORT_AUTO);
    s_host_start (&host);
    const char *tools[] = { "json_big", "stream_big" };
    for (int i = 0; i < 2; i++) {
        mcpact_result_t *result = ru_call_fails (host.agent, tools[i], "{\"bytes\":70000000}",
                                                 60000, MCPACT_ERR_PROTOCOL);
        CHECK_CONTAINS (mcpact_result_error (result), "is larger than the limit of 67108864 bytes");
        mcpact_result_destroy (&result);
    }
    //  And the servers go on
    RU_CALL_IS (host.agent, "json_echo", "{\"message\":\"after\"}", "after");
    RU_CALL_IS (host.agent, "stream_echo", "{\"message\":\"after\"}", "after");
    s_host_destroy (&host);
    s_proc_stop (json);
    s_proc_stop (sse);
    s_end ();
}
