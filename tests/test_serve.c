/*  =========================================================================
    test_serve - the public message protocol, `mcpact serve`, --connect,
    CURVE, and the example clients (Python and C) against a real daemon

    The daemon cases run `mcpact serve` as a process over the fixture
    server, in a private directory (mkdtemp: 0700, ours) for ipc:// and
    on 127.0.0.1 for tcp://; the robustness cases run a gateway in this
    process (mcpact_gateway_new) and speak the protocol with CZMQ sockets.
    The Python cases need python3 with zmq (Debian's python3-zmq; skipped
    without it).
    =========================================================================
*/

#define PU_NAME "serve"
#include "protocol_util.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define CLI PU_CLI
#define C_CLIENT MCPACT_BUILD_DIR "/mcpact-example-client"
#define PY_CLIENT MCPACT_SOURCE_DIR "/examples/client.py"
//  Debian's python3 (with python3-zmq), not whichever is first on PATH.
#define PYTHON "/usr/bin/python3"

static bool
s_python_has_zmq (void)
{
    return system (PYTHON " -c 'import zmq' 2>/dev/null") == 0;
}

//  A running `mcpact serve`.
typedef struct {
    pid_t pid;
    FILE *out;          //  its stdout
    char endpoint[256]; //  the first --bind, as bound
    char events[256];   //  --events, as bound
    char pid_file[128]; //  the fixture's pid
} s_daemon_t;

//  Starts `mcpact serve -c DIR/serve.json` on the fixture with the extra
//  arguments (NULL-terminated), and waits for its bound lines.
static void
s_daemon_start (s_daemon_t *self, const char *dir, const char *first, ...)
{
    memset (self, 0, sizeof *self);
    char config[256], text[1024];
    snprintf (config, sizeof config, "%s/serve.json", dir);
    snprintf (self->pid_file, sizeof self->pid_file, "%s/fixture.pid", dir);
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"fixture\": {\"command\": \"%s\", \"args\": [\"--pid-file\", "
              "\"%s\"]}}, \"agents\": {\"other\": {\"mcpServers\": [\"fixture\"]}}}",
              RU_FIXTURE, self->pid_file);
    FILE *file = fopen (config, "w");
    CHECK (file);
    fputs (text, file);
    fclose (file);
    //  It dies with the test, also when a check fails mid-case.
    const char *argv[32] = {
        "/usr/bin/setpriv", "--pdeathsig", "KILL", CLI, "serve", "-c", config
    };
    int argc = 7;
    va_list args;
    va_start (args, first);
    for (const char *arg = first; arg && argc < 31; arg = va_arg (args, const char *))
        argv[argc++] = arg;
    va_end (args);
    argv[argc] = NULL;
    self->pid = pu_spawn (argv, &self->out);
    bool want_events = false;
    for (int i = 7; i < argc; i++)
        want_events |= strcmp (argv[i], "--events") == 0;
    pu_serve_wait_bound (self->out, self->endpoint, sizeof self->endpoint,
                         want_events ? self->events : NULL, sizeof self->events);
}

//  SIGTERM, and its exit status.
static int
s_daemon_stop (s_daemon_t *self)
{
    return pu_serve_end (self->pid, self->out, SIGTERM);
}

static long
s_fixture_pid (s_daemon_t *self)
{
    FILE *file = fopen (self->pid_file, "r");
    long pid = 0;
    if (file) {
        if (fscanf (file, "%ld", &pid) != 1)
            pid = 0;
        fclose (file);
    }
    return pid;
}

//  --------------------------------------------------------------------------
//  Daemon and clients

TEST (python_client_ipc)
{
    if (!s_python_has_zmq ())
        SKIP ("python3-zmq is not installed (scripts/deps --test)");
    const char *dir = pu_tmpdir ();
    char bind[256], events[256];
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    snprintf (events, sizeof events, "ipc://%s/events.sock", dir);
    s_daemon_t daemon;
    s_daemon_start (&daemon, dir, "--bind", bind, "--events", events, NULL);
    //  Only its user can reach the socket.
    struct stat info;
    CHECK (stat (bind + 6, &info) == 0);
    CHECK_MSG ((info.st_mode & 0777) == 0600, "mode %o", info.st_mode & 0777);
    int status;
    char *out = pu_run (&status,
                        PYTHON " " PY_CLIENT " %s --calls 200 --slow 'sleep={\"ms\": 20000}' "
                               "--events %s --crash crash",
                        daemon.endpoint, daemon.events);
    CHECK_MSG (status == 0, "client.py exited %d: %s", status, out);
    CHECK_CONTAINS (out, "hello protocol 1 agents ['', 'other']");
    CHECK_CONTAINS (out, "tools echo add sleep");
    CHECK_CONTAINS (out, "calls 200 answered 200");
    CHECK_CONTAINS (out, "cancel RESULT status 8");
    CHECK_CONTAINS (out, "event SERVER_STATE fixture restarting");
    CHECK_CONTAINS (out, "event SERVER_STATE fixture ready");
    free (out);
    CHECK (s_daemon_stop (&daemon) == 0);
}

TEST (c_client_ipc)
{
    const char *dir = pu_tmpdir ();
    char bind[256], events[256];
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    snprintf (events, sizeof events, "ipc://%s/events.sock", dir);
    s_daemon_t daemon;
    s_daemon_start (&daemon, dir, "--bind", bind, "--events", events, NULL);
    int status;
    char *out = pu_run (&status, C_CLIENT " %s 100 sleep '{\"ms\": 20000}' %s crash",
                        daemon.endpoint, daemon.events);
    CHECK_MSG (status == 0, "the C client exited %d: %s", status, out);
    CHECK_CONTAINS (out, "hello protocol 1 agents '' 'other'");
    CHECK_CONTAINS (out, "calls 100 answered 100");
    CHECK_CONTAINS (out, "cancel RESULT slow status 8");
    CHECK_CONTAINS (out, "event SERVER_STATE fixture {\"server\":\"fixture\",\"state\":\"ready\"");
    free (out);
    CHECK (s_daemon_stop (&daemon) == 0);
}

//  The C client against server-everything, whose echo answers
//  "Echo: TEXT": every answer counted (it has the text), and HELLO said
//  as the protocol and the agents.
TEST (c_client_everything)
{
    const char *node = ru_require_peers (
        MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol/server-everything/"
                          "dist/index.js",
        NULL);
    const char *dir = pu_tmpdir ();
    char config[256], bind[256];
    snprintf (config, sizeof config, "%s/everything.json", dir);
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    char text[1024];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"everything\": {\"command\": \"%s\", \"args\": [\"%s\", "
              "\"stdio\"]}}}",
              node,
              MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol/server-everything/"
                                "dist/index.js");
    pu_write (config, text);
    const char *argv[] = { "/usr/bin/setpriv", "--pdeathsig", "KILL", CLI, "serve", "-c", config,
                           "--bind",           bind,          NULL };
    FILE *out_stream;
    pid_t pid = pu_spawn (argv, &out_stream);
    char endpoint[256] = "";
    pu_serve_wait_bound (out_stream, endpoint, sizeof endpoint, NULL, 0);
    int status;
    char *out = pu_run (&status, C_CLIENT " %s 16 2>&1", endpoint);
    CHECK_MSG (status == 0, "the C client exited %d: %s", status, out);
    CHECK_CONTAINS (out, "hello protocol 1 agents ''");
    CHECK_CONTAINS (out, "calls 16 answered 16");
    free (out);
    CHECK (pu_serve_end (pid, out_stream, SIGTERM) == 0);
}

//  Both example clients reach a daemon at tcp://[::1]:PORT (IPv6
//  loopback) as well as at 127.0.0.1.
TEST (example_clients_over_ipv6)
{
    pu_require_ipv6 ();
    int status;
    char *out;
    const char *dir = pu_tmpdir ();
    s_daemon_t daemon;
    s_daemon_start (&daemon, dir, "--bind", "tcp://[::1]:*", NULL);
    CHECK_CONTAINS (daemon.endpoint, "tcp://[::1]:");
    out = pu_run (&status, C_CLIENT " '%s' 8 2>&1", daemon.endpoint);
    CHECK_MSG (status == 0, "the C client exited %d: %s", status, out);
    CHECK_CONTAINS (out, "calls 8 answered 8");
    free (out);
    if (s_python_has_zmq ()) {
        out = pu_run (&status, PYTHON " " PY_CLIENT " '%s' --calls 8 2>&1", daemon.endpoint);
        CHECK_MSG (status == 0, "client.py exited %d: %s", status, out);
        CHECK_CONTAINS (out, "calls 8 answered 8");
        free (out);
    }
    CHECK (s_daemon_stop (&daemon) == 0);
}

//  tcp:// with CURVE: keys from mcpact keygen, the client's certificate
//  in the allowed directory; a key not there gets no answer at all.
TEST (curve_python_and_wrong_key)
{
    if (!s_python_has_zmq ())
        SKIP ("python3-zmq is not installed (scripts/deps --test)");
    const char *dir = pu_tmpdir ();
    int status;
    char *out = pu_run (&status,
                        "mkdir -m 700 %s/clients && " CLI " keygen %s/server && " CLI
                        " keygen %s/client && " CLI " keygen %s/stranger && cp %s/client "
                        "%s/clients/",
                        dir, dir, dir, dir, dir, dir);
    CHECK_MSG (status == 0, "keygen: %s", out);
    free (out);
    char key[256], clients[256];
    snprintf (key, sizeof key, "%s/server", dir);
    snprintf (clients, sizeof clients, "%s/clients", dir);
    struct stat info;
    char secret[300];
    snprintf (secret, sizeof secret, "%s_secret", key);
    CHECK (stat (secret, &info) == 0 && (info.st_mode & 077) == 0);
    s_daemon_t daemon;
    s_daemon_start (&daemon, dir, "--bind", "tcp://127.0.0.1:*", "--curve-key", key,
                    "--curve-clients", clients, NULL);
    out = pu_run (&status,
                  PYTHON " " PY_CLIENT " %s --calls 50 --curve-key %s/client --curve-server "
                         "%s/server",
                  daemon.endpoint, dir, dir);
    CHECK_MSG (status == 0, "client.py exited %d: %s", status, out);
    CHECK_CONTAINS (out, "tools echo add sleep");
    CHECK_CONTAINS (out, "calls 50 answered 50");
    free (out);
    //  The key pair named by its PATH_secret too, as the CLI takes it.
    out = pu_run (&status,
                  PYTHON " " PY_CLIENT " %s --calls 5 --curve-key %s/client_secret --curve-server "
                         "%s/server 2>&1",
                  daemon.endpoint, dir, dir);
    CHECK_MSG (status == 0, "client.py with PATH_secret exited %d: %s", status, out);
    CHECK_CONTAINS (out, "calls 5 answered 5");
    free (out);

    //  The CLI over CURVE too.
    out = pu_run (&status,
                  CLI " --connect %s --curve-key %s/client --curve-server %s/server call echo "
                      "'{\"message\": \"over curve\"}'",
                  daemon.endpoint, dir, dir);
    CHECK_MSG (status == 0, "%s", out);
    CHECK_CONTAINS (out, "over curve");
    free (out);

    //  A key not on the list: no answer, to anything.
    zsock_t *stranger = zsock_new (ZMQ_DEALER);
    char path[300];
    snprintf (path, sizeof path, "%s/stranger", dir);
    zcert_t *mine = zcert_load (path);
    snprintf (path, sizeof path, "%s/server", dir);
    zcert_t *theirs = zcert_load (path);
    CHECK (mine && theirs);
    zcert_apply (mine, stranger);
    zsock_set_curve_serverkey (stranger, zcert_public_txt (theirs));
    CHECK (zsock_connect (stranger, "%s", daemon.endpoint) == 0);
    zstr_sendx (stranger, "HELLO", "1", NULL);
    zstr_sendx (stranger, "CALL", "2", "", "echo", "{\"message\":\"x\"}", NULL);
    char *reply = pu_recv_joined (stranger, 1500);
    CHECK_MSG (reply == NULL, "a client with an unknown key got: %s", reply);
    //  Nor does a client without CURVE at all.
    zsock_t *plain = zsock_new_dealer (daemon.endpoint);
    zstr_sendx (plain, "HELLO", "1", NULL);
    reply = pu_recv_joined (plain, 1000);
    CHECK_MSG (reply == NULL, "a client without CURVE got: %s", reply);
    zsock_destroy (&plain);
    zsock_destroy (&stranger);
    zcert_destroy (&mine);
    zcert_destroy (&theirs);
    CHECK (s_daemon_stop (&daemon) == 0);
}

TEST (connect_commands)
{
    const char *dir = pu_tmpdir ();
    char bind[256];
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    s_daemon_t daemon;
    s_daemon_start (&daemon, dir, "--bind", bind, NULL);
    long pid = s_fixture_pid (&daemon);
    int status;
    char *out = pu_run (&status, CLI " --connect %s call echo '{\"message\": \"hi there\"}'",
                        daemon.endpoint);
    CHECK_MSG (status == 0, "%s", out);
    CHECK_CONTAINS (out, "hi there");
    free (out);
    out = pu_run (&status, CLI " --connect %s --agent other tools --json", daemon.endpoint);
    CHECK_MSG (status == 0, "%s", out);
    CHECK_CONTAINS (out, "\"name\":\"sleep\"");
    free (out);
    out = pu_run (&status, CLI " --connect %s status --json", daemon.endpoint);
    CHECK_MSG (status == 0, "%s", out);
    CHECK_CONTAINS (out, "\"state\":\"ready\"");
    free (out);
    out = pu_run (&status, CLI " --connect %s call nope 2>&1", daemon.endpoint);
    CHECK_MSG (status == 4, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "unknown tool nope");
    free (out);
    //  The servers were started once: the same process answered them all.
    CHECK (pid > 0 && s_fixture_pid (&daemon) == pid);
    CHECK (s_daemon_stop (&daemon) == 0);
    //  And nothing answers once the daemon is gone.
    out = pu_run (&status, CLI " --connect %s tools 2>&1", daemon.endpoint);
    CHECK (status == 1);
    CHECK_CONTAINS (out, "no mcpact serve at");
    free (out);
}

//  SIGTERM: the call in flight is answered with an error, every server is
//  closed, serve exits 0.
TEST (sigterm_answers_and_closes)
{
    const char *dir = pu_tmpdir ();
    char bind[256];
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    s_daemon_t daemon;
    s_daemon_start (&daemon, dir, "--bind", bind, NULL);
    long pid = s_fixture_pid (&daemon);
    CHECK (pid > 0 && ru_alive (pid, pid));
    zsock_t *client = zsock_new_dealer (daemon.endpoint);
    zstr_sendx (client, "CALL", "slow", "", "sleep", "{\"ms\":60000}", NULL);
    zstr_sendx (client, "PING", "p", NULL);
    char *reply = pu_recv_joined (client, 10000);
    CHECK_STR (reply, "PONG|p");
    free (reply);
    kill (daemon.pid, SIGTERM);
    reply = pu_recv_joined (client, 10000);
    CHECK_CONTAINS (reply, "RESULT|slow|7|");
    CHECK_CONTAINS (reply, "shutting down");
    free (reply);
    zsock_destroy (&client);
    CHECK (s_daemon_stop (&daemon) == 0);
    CHECK_MSG (!ru_alive (pid, pid), "the fixture server (%ld) outlived mcpact serve", pid);
}

TEST (refuses_open_binds)
{
    const char *dir = pu_tmpdir ();
    char config[256];
    snprintf (config, sizeof config, "%s/serve.json", dir);
    FILE *file = fopen (config, "w");
    fprintf (file, "{\"mcpServers\": {}}");
    fclose (file);
    int status;
    char *out = pu_run (&status, CLI " serve -c %s --bind tcp://0.0.0.0:0 2>&1", config);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "without CURVE: it is not a loopback address");
    free (out);
    //  /tmp is everyone's: a socket there could be replaced by anyone.
    out = pu_run (&status, CLI " serve -c %s --bind ipc:///tmp/mcpact-test-%d.sock 2>&1", config,
                  (int) getpid ());
    CHECK (status == 2);
    CHECK_CONTAINS (out, "writable by others");
    free (out);
    //  A socket another daemon answers on is not taken from it.
    char bind[256];
    snprintf (bind, sizeof bind, "ipc://%s/in-use.sock", dir);
    zsock_t *other = zsock_new_router (bind);
    CHECK (other);
    out = pu_run (&status, CLI " serve -c %s --bind %s 2>&1", config, bind);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "another process is listening there");
    free (out);
    zsock_destroy (&other);
    out = pu_run (&status, CLI " keygen %s/k && " CLI " keygen %s/k 2>&1", dir, dir);
    CHECK (status == 1);
    CHECK_CONTAINS (out, "exists already");
    free (out);
}

//  A file given as an ipc:// path by mistake is not replaced by a socket
//  (libzmq unlinks what is there), nor is a directory.
TEST (refuses_path_not_a_socket)
{
    const char *dir = pu_tmpdir ();
    char config[256], important[256];
    snprintf (config, sizeof config, "%s/serve.json", dir);
    FILE *file = fopen (config, "w");
    fprintf (file, "{\"mcpServers\": {}}");
    fclose (file);
    snprintf (important, sizeof important, "%s/important.txt", dir);
    file = fopen (important, "w");
    fputs ("data\n", file);
    fclose (file);
    int status;
    char *out = pu_run (&status, CLI " serve -c %s --bind ipc://%s 2>&1", config, important);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "a file that is not a socket is there");
    CHECK_CONTAINS (out, important);
    free (out);
    struct stat info;
    CHECK (lstat (important, &info) == 0 && S_ISREG (info.st_mode) && info.st_size == 5);
    out = pu_run (&status, "mkdir -m 700 %s/run && " CLI " serve -c %s --bind ipc://%s/run 2>&1",
                  dir, config, dir);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "it is a directory");
    free (out);
}

//  The loopback names docs/protocol.md lists bind: localhost (resolved
//  here: libzmq does not resolve names in a bind) and [::1] (IPv6).
TEST (binds_localhost_and_ipv6_loopback)
{
    const char *dir = pu_tmpdir ();
    s_daemon_t daemon;
    s_daemon_start (&daemon, dir, "--bind", "tcp://localhost:0", "--bind", "tcp://[::1]:0", NULL);
    CHECK_CONTAINS (daemon.endpoint, "tcp://127.0.0.1:");
    char line[200];
    CHECK (fgets (line, sizeof line, daemon.out));
    CHECK_CONTAINS (line, "bound tcp://[::1]:");
    CHECK (s_daemon_stop (&daemon) == 0);
}

//  A SIGTERM while the servers start stops serve without answering
//  anything at the endpoint it holds: no "bound" line for a supervisor to
//  take as up, no socket file left behind, and the signal named is the
//  one that came.
TEST (signal_during_start_answers_nothing)
{
    const char *dir = pu_tmpdir ();
    char config[256], pid_file[256], command[1024];
    snprintf (config, sizeof config, "%s/slow.json", dir);
    snprintf (pid_file, sizeof pid_file, "%s/slow.pid", dir);
    FILE *file = fopen (config, "w");
    fprintf (file,
             "{\"mcpServers\": {\"slow\": {\"command\": \"%s\", \"args\": [\"--pid-file\", "
             "\"%s\", \"--init-delay-ms\", \"3000\"]}}}",
             RU_FIXTURE, pid_file);
    fclose (file);
    //  The fixture's pid file says serve has started it (its signals
    //  are then blocked and taken by serve).
    snprintf (command, sizeof command,
              CLI " serve -c %s --bind ipc://%s/slow.sock 2>%s/err & pid=$!; "
                  "while [ ! -s %s ]; do sleep 0.05; done; kill -TERM $pid; wait $pid; "
                  "echo status=$?",
              config, dir, dir, pid_file);
    int status;
    char *out = pu_run (&status, "%s", command);
    CHECK_MSG (!strstr (out, "bound"), "serve said bound after a signal: %s", out);
    CHECK_CONTAINS (out, "status=0");
    free (out);
    out = pu_run (&status, "cat %s/err", dir);
    CHECK_CONTAINS (out, "Terminated: stopping");
    free (out);
    char path[256];
    snprintf (path, sizeof path, "%s/slow.sock", dir);
    CHECK_MSG (access (path, F_OK) != 0, "%s was left behind", path);
}

//  Ctrl-C at a terminal signals serve's whole process group: serve
//  closes as for one signal, and its helper that starts servers (in its
//  group of its own) neither dies nor takes the servers with it, which
//  said "the spawn helper died" and "restarting" while serve closed.
TEST (sigint_to_the_process_group)
{
    const char *dir = pu_tmpdir ();
    char config[256], pid_file[256], command[1024];
    snprintf (config, sizeof config, "%s/serve.json", dir);
    snprintf (pid_file, sizeof pid_file, "%s/fixture.pid", dir);
    char text[512];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"fixture\": {\"command\": \"%s\", \"args\": [\"--pid-file\", "
              "\"%s\"]}}}",
              RU_FIXTURE, pid_file);
    pu_write (config, text);
    snprintf (command, sizeof command,
              "setsid " CLI " serve -c %s --bind ipc://%s/g.sock >%s/out 2>%s/err & pid=$!; "
              "while ! grep -q bound %s/out; do sleep 0.05; done; kill -INT -$pid; wait $pid; "
              "echo status=$?",
              config, dir, dir, dir, dir);
    int status;
    char *out = pu_run (&status, "%s", command);
    CHECK_CONTAINS (out, "status=0");
    free (out);
    out = pu_run (&status, "cat %s/err", dir);
    CHECK_CONTAINS (out, "Interrupt: stopping");
    CHECK_MSG (!strstr (out, "spawn helper died") && !strstr (out, "restarting"),
               "serve's close was disturbed: %s", out);
    free (out);
}

//  Usage mistakes are said as what they are.
TEST (usage_mistakes_named)
{
    const char *dir = pu_tmpdir ();
    char config[256];
    snprintf (config, sizeof config, "%s/serve.json", dir);
    FILE *file = fopen (config, "w");
    fprintf (file, "{\"mcpServers\": {}}");
    fclose (file);
    int status;
    char *out = pu_run (&status, CLI " serve -c %s --bind inproc://x 2>&1", config);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "cannot bind 'inproc://x'");
    free (out);
    //  libzmq would bind port 99999 as 34463 (modulo 65536), said nowhere
    out = pu_run (&status, CLI " serve -c %s --bind tcp://127.0.0.1:99999 2>&1", config);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "cannot bind 'tcp://127.0.0.1:99999': the port is not a number");
    CHECK (!strstr (out, "bound"));
    free (out);
    out = pu_run (&status, CLI " serve -c %s --bind tcp://127.0.0.1 2>&1", config);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "cannot bind 'tcp://127.0.0.1': no port");
    free (out);
    out = pu_run (&status, CLI " serve -c %s --bind tcp://127.0.0.1:1:2 2>&1", config);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "cannot bind 'tcp://127.0.0.1:1:2': a ':' in the host");
    free (out);
    out = pu_run (&status, "timeout 60 " CLI " --connect tcp://127.0.0.1:1:2 tools 2>&1");
    CHECK (status == 2);
    CHECK_CONTAINS (out, "--connect tcp://127.0.0.1:1:2: a ':' in the host");
    free (out);
    out = pu_run (&status, CLI " serve -c %s --bind ipc://%s/a.sock --bind ipc://%s/a.sock 2>&1",
                  config, dir, dir);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "is given twice");
    free (out);
    out =
        pu_run (&status, CLI " serve -c %s --bind ipc://%s/a.sock --max-calls 0 2>&1", config, dir);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "--max-calls wants a whole number >= 1, not '0'");
    free (out);
    out = pu_run (&status, CLI " serve -c %s --bind ipc://%s/a.sock -v -q 2>&1", config, dir);
    CHECK (status == 2);
    CHECK_CONTAINS (out, "-v and -q");
    free (out);
    out = pu_run (&status, CLI " keygen '' 2>&1");
    CHECK (status == 2);
    CHECK_CONTAINS (out, "the PATH is empty");
    free (out);
}

//  A daemon removes its socket file at stop only if it is still its own:
//  another daemon bound at the same path since keeps its socket.
TEST (stop_leaves_anothers_socket)
{
    const char *dir = pu_tmpdir ();
    char bind[300], path[256];
    snprintf (path, sizeof path, "%s/shared.sock", dir);
    snprintf (bind, sizeof bind, "ipc://%s", path);
    s_daemon_t first, second;
    s_daemon_start (&first, dir, "--bind", bind, NULL);
    CHECK (unlink (path) == 0);
    s_daemon_start (&second, dir, "--bind", bind, NULL);
    CHECK (s_daemon_stop (&first) == 0);
    struct stat info;
    CHECK_MSG (lstat (path, &info) == 0 && S_ISSOCK (info.st_mode),
               "the second daemon's socket was removed by the first");
    zsock_t *client = zsock_new_dealer (bind);
    CHECK (client);
    zstr_sendx (client, "PING", "p", NULL);
    char *reply = pu_recv_joined (client, 10000);
    CHECK_MSG (reply && strcmp (reply, "PONG|p") == 0, "the second daemon does not answer");
    free (reply);
    zsock_destroy (&client);
    CHECK (s_daemon_stop (&second) == 0);
    CHECK (lstat (path, &info) != 0);
}

//  A supervisor's quick restart: the first daemon, stopping slowly (its
//  server ignores the end of its stdin), has closed its endpoint when
//  the second binds the same path; the second's socket must outlive the
//  first's exit (the first removed it: the second's socket had the inode
//  the first's file freed).
TEST (restart_while_the_old_daemon_stops)
{
    const char *dir = pu_tmpdir ();
    char config[256], path[256], bind[300];
    snprintf (config, sizeof config, "%s/slow.json", dir);
    snprintf (path, sizeof path, "%s/q.sock", dir);
    snprintf (bind, sizeof bind, "ipc://%s", path);
    char text[512];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"slow\": {\"command\": \"%s\", \"args\": [\"--ignore-eof\"]}}}",
              RU_FIXTURE);
    pu_write (config, text);
    const char *argv[] = { "/usr/bin/setpriv", "--pdeathsig", "KILL", CLI, "serve", "-c", config,
                           "--bind",           bind,          NULL };
    FILE *out;
    pid_t old_pid = pu_spawn (argv, &out);
    char endpoint[256] = "";
    pu_serve_wait_bound (out, endpoint, sizeof endpoint, NULL, 0);
    kill (old_pid, SIGTERM);
    //  Its endpoint closes at once; its server takes a second to close.
    ru_watchdog_arm (30, "the old daemon to close its endpoint");
    while (true) {
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        CHECK (strlen (path) < sizeof address.sun_path);
        memcpy (address.sun_path, path, strlen (path));
        int fd = socket (AF_UNIX, SOCK_STREAM, 0);
        bool open = connect (fd, (struct sockaddr *) &address, sizeof address) == 0;
        close (fd);
        if (!open)
            break;
        usleep (10000);
    }
    ru_watchdog_disarm ();
    s_daemon_t second;
    s_daemon_start (&second, dir, "--bind", bind, NULL);
    CHECK (pu_serve_end (old_pid, out, SIGTERM) == 0);
    struct stat info;
    CHECK_MSG (lstat (path, &info) == 0 && S_ISSOCK (info.st_mode),
               "the old daemon removed the new one's socket");
    zsock_t *client = zsock_new_dealer (bind);
    zstr_sendx (client, "PING", "p", NULL);
    char *reply = pu_recv_joined (client, 10000);
    CHECK_MSG (reply && strcmp (reply, "PONG|p") == 0, "the new daemon does not answer");
    free (reply);
    zsock_destroy (&client);
    CHECK (s_daemon_stop (&second) == 0);
}

//  --------------------------------------------------------------------------
//  In-process gateway: robustness and load

//  A gateway on the fixture (with `fixture_args`, a JSON array text, or
//  NULL), bound at an ipc:// endpoint of its own.
static void
s_gw_start_with (pu_gw_t *self, const char *options, const char *fixture_args)
{
    char config[512];
    snprintf (config, sizeof config,
              "{\"mcpServers\": {\"fixture\": {\"command\": \"%s\", \"args\": %s}}}", RU_FIXTURE,
              fixture_args ? fixture_args : "[]");
    pu_gw_start (self, config, options, false);
}

static void
s_gw_start (pu_gw_t *self, const char *options)
{
    s_gw_start_with (self, options, NULL);
}

TEST (bad_requests)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    struct {
        const char *frames[8];
        const char *expect;
    } cases[] = {
        { { "HELLO" }, "ERROR||{\"error\":\"bad_request\"" },
        { { "FETCH", "1" },
          "ERROR|1|{\"error\":\"unknown_verb\",\"message\":\"unknown verb 'FETCH'" },
        { { "HELLO", "2", "zero" }, "ERROR|2|{\"error\":\"version\"" },
        { { "TOOLS", "3", "nobody" },
          "{\"error\":\"unknown_agent\",\"message\":\"no agent \\\"nobody\\\"" },
        { { "TOOLS", "4", "", "cobol" }, "ERROR|4|{\"error\":\"unknown_format\"" },
        { { "CALL", "5", "" },
          "ERROR|5|{\"error\":\"bad_request\",\"message\":\"CALL takes 2 to 4" },
        { { "CALL", "6", "", "echo", "{}", "[1]" },
          "ERROR|6|{\"error\":\"bad_request\",\"message\":\"CALL options" },
        { { "CALL", "7", "", "echo", "{}", "{}", "extra" }, "ERROR|7|{\"error\":\"bad_request\"" },
        { { "CALL", "8", "", "echo", "[1,2]" }, "RESULT|8|6|" },
        { { "CALL", "9", "", "echo", "{\"message\":" }, "RESULT|9|6|" },
        { { "CALL", "10", "", "nope", "{}" }, "RESULT|10|2|{\"message\":\"unknown tool nope" },
        { { "CANCEL", "11" }, "ERROR|11|{\"error\":\"unknown_call\"" },
        { { "PING", "12" }, "PONG|12" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zmsg_t *msg = zmsg_new ();
        for (int f = 0; f < 8 && cases[i].frames[f]; f++)
            zmsg_addstr (msg, cases[i].frames[f]);
        zmsg_send (&msg, client);
        char *reply = pu_recv_joined (client, 10000);
        CHECK_MSG (reply && strstr (reply, cases[i].expect), "case %zu: got %s, expected %s", i,
                   reply ? reply : "(nothing)", cases[i].expect);
        free (reply);
    }
    //  A request id used twice while in flight.
    zstr_sendx (client, "CALL", "d", "", "sleep", "{\"ms\":300}", NULL);
    char *reply = pu_ask (client, "CALL", "d", "", "echo", "{\"message\":\"x\"}", NULL);
    CHECK_CONTAINS (reply, "ERROR|d|{\"error\":\"duplicate_id\"");
    free (reply);
    reply = pu_recv_joined (client, 10000);
    CHECK_CONTAINS (reply, "RESULT|d|0|");
    free (reply);
    //  Still answering well.
    reply = pu_ask (client, "CALL", "ok", "", "echo", "{\"message\":\"fine\"}", NULL);
    CHECK_CONTAINS (reply, "RESULT|ok|0|");
    CHECK_CONTAINS (reply, "fine");
    free (reply);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  An object of the protocol's own keys refuses a key it does not know
//  (a typo would otherwise run with the default), naming the verb, the
//  frame and the key, and listing the known ones; objects whose keys are
//  the user's (tool arguments) take any key.
TEST (unknown_keys_refused)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char *reply =
        pu_ask (client, "CALL", "1", "", "echo", "{\"message\":\"x\"}", "{\"timeout\":5}", NULL);
    CHECK_CONTAINS (reply, "ERROR|1|{\"error\":\"bad_request\",\"message\":\"CALL options: "
                           "unknown key \\\"timeout\\\" (known: timeoutMs, progress)\"}");
    free (reply);
    reply = pu_ask (client, "CALL_AS", "2", "", "openai",
                    "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"echo\","
                    "\"arguments\":\"{}\"}}",
                    "{\"timeoutMs\":1000,\"progres\":true}", NULL);
    CHECK_CONTAINS (reply, "ERROR|2|{\"error\":\"bad_request\",\"message\":\"CALL_AS options: "
                           "unknown key \\\"progres\\\" (known: timeoutMs, progress)\"}");
    free (reply);
    //  A wrong type still says which key and what it is.
    reply = pu_ask (client, "CALL", "3", "", "echo", "{}", "{\"progress\":1}", NULL);
    CHECK_CONTAINS (reply, "CALL options: \\\"progress\\\" is true or false, not a JSON number");
    free (reply);
    //  The known keys still work, and the tool's own keys are the tool's.
    reply = pu_ask (client, "CALL", "4", "", "echo", "{\"message\":\"fine\",\"timeout\":5}",
                    "{\"timeoutMs\":5000,\"progress\":false}", NULL);
    CHECK_CONTAINS (reply, "RESULT|4|0|");
    CHECK_CONTAINS (reply, "fine");
    free (reply);
    zsock_destroy (&client);
    pu_gw_stop (&gw);

    //  The gateway's own options (mcpact_gateway_new), and their "curve".
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    char *error = NULL;
    mcpact_session_t *session =
        mcpact_session_load_string (runtime, "{\"mcpServers\": {}}", "test", &error);
    CHECK_MSG (session, "%s", error);
    struct {
        const char *options, *expect;
    } cases[] = {
        { "{\"maxcalls\": 5}",
          "gateway options: unknown key \"maxcalls\" (known: maxMessageBytes, maxClientCalls, "
          "maxCalls, sendHwm, insecure, elicitation, sampling, startLater, curve)" },
        { "{\"curve\": {\"certificate\": \"k\", \"clients\": \"d\", \"client\": \"d\"}}",
          "gateway options: curve: unknown key \"client\" (known: certificate, clients)" },
        { "{\"insecure\": 1}", "gateway options: \"insecure\" must be true or false, not a JSON "
                               "number" },
        { "{\"insecure\": tru}", "gateway options are not valid JSON: " },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mcpact_gateway_t *gateway = mcpact_gateway_new (session, cases[i].options, &error);
        CHECK_MSG (!gateway && error && strstr (error, cases[i].expect),
                   "options %s: got %s, expected %s", cases[i].options, error ? error : "(none)",
                   cases[i].expect);
        free (error);
        error = NULL;
    }
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
}

//  A request with too few or too many frames is told what the verb takes,
//  in words that read right for each count, with the frames' names.
TEST (frame_counts_worded)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    struct {
        const char *frames[8];
        const char *expect;
    } cases[] = {
        { { "STATUS", "1" }, "STATUS takes 1 frame after the request id (agent), not 0\"" },
        { { "PING", "2", "x" }, "PING takes no frames after the request id, not 1\"" },
        { { "CANCEL", "3", "x", "y" }, "CANCEL takes no frames after the request id, not 2\"" },
        { { "HELLO", "4", "1", "2" },
          "HELLO takes at most 1 frame after the request id ([version]), not 2\"" },
        { { "ROOTS", "5", "" },
          "ROOTS takes exactly 2 frames after the request id (agent roots_json), not 1\"" },
        { { "CALL", "6", "" },
          "CALL takes 2 to 4 frames after the request id (agent tool "
          "[args_json [options]]), not 1\"" },
        { { "ANSWER", "7", "a1" },
          "ANSWER takes exactly 2 frames after the request id (ask_id result_json), not 1\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zmsg_t *msg = zmsg_new ();
        for (int f = 0; f < 8 && cases[i].frames[f]; f++)
            zmsg_addstr (msg, cases[i].frames[f]);
        zmsg_send (&msg, client);
        char *reply = pu_recv_joined (client, 10000);
        CHECK_MSG (reply && strstr (reply, cases[i].expect), "case %zu: got %s, expected %s", i,
                   reply ? reply : "(nothing)", cases[i].expect);
        free (reply);
    }
    //  Every verb HELLO lists, with too many frames: none says "N to N"
    //  or "0 to M", and each names its frames.
    char *hello = pu_ask (client, "HELLO", "h", NULL);
    CHECK (hello && strncmp (hello, "HELLO|h|", 8) == 0);
    json_t *info = json_loads (hello + 8, 0, NULL);
    free (hello);
    size_t index;
    json_t *verb;
    json_array_foreach (json_object_get (info, "verbs"), index, verb) {
        const char *name = json_string_value (verb);
        char *reply = pu_ask (client, name, "x", "1", "2", "3", "4", "5", "6", NULL);
        char *takes = zsys_sprintf ("%s takes ", name);
        CHECK_MSG (reply && strstr (reply, takes) && strstr (reply, ", not 6\""), "%s: got %s",
                   name, reply ? reply : "(nothing)");
        CHECK_MSG (!strstr (reply, " 0 to ") && !strstr (reply, "1 frames") &&
                       !strstr (reply, "1 to 1") && !strstr (reply, "2 to 2"),
                   "%s: %s", name, reply);
        CHECK_MSG (strstr (reply, "no frames") || strstr (reply, "request id ("), "%s: %s", name,
                   reply);
        zstr_free (&takes);
        free (reply);
    }
    json_decref (info);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  JSON that does not parse is told where, in jansson's words, as
//  `mcpact call` tells it of its JSON-ARGS; JSON of another type says
//  which.
TEST (json_mistakes_located)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char *reply = pu_ask (client, "CALL", "1", "", "echo", "{\"message\": x}", NULL);
    CHECK_CONTAINS (reply, "RESULT|1|6|{\"message\":\"the arguments of echo are not valid JSON: "
                           "invalid token near 'x' (line 1, column 13)\"}");
    free (reply);
    reply = pu_ask (client, "CALL", "2", "", "echo", "{\"message\":\n \"a\",}", NULL);
    CHECK_CONTAINS (reply, "RESULT|2|6|{\"message\":\"the arguments of echo are not valid JSON: ");
    CHECK_CONTAINS (reply, "(line 2, column ");
    free (reply);
    reply = pu_ask (client, "CALL", "3", "", "echo", "[1,2]", NULL);
    CHECK_CONTAINS (reply, "RESULT|3|6|{\"message\":\"the arguments of echo are a JSON array, "
                           "not a JSON object\"}");
    free (reply);
    reply = pu_ask (client, "CALL", "4", "", "echo", "{}", "{\"timeoutMs\": }", NULL);
    CHECK_CONTAINS (reply, "ERROR|4|{\"error\":\"bad_request\",\"message\":\"CALL options are "
                           "not valid JSON: ");
    CHECK_CONTAINS (reply, "(line 1, column 15)");
    free (reply);
    reply = pu_ask (client, "CALL", "5", "", "echo", "{}", "[]", NULL);
    CHECK_CONTAINS (reply, "CALL options are a JSON array, not a JSON object");
    free (reply);
    //  Still answering well.
    reply = pu_ask (client, "CALL", "ok", "", "echo", "{\"message\":\"fine\"}", NULL);
    CHECK_CONTAINS (reply, "RESULT|ok|0|");
    free (reply);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  `mcpact status --json` through a gateway (--connect) says what it says
//  without one for the same configuration, key for key, but for what
//  differs between two runs anyway: the server actors' in-process
//  endpoints and the servers' pids. Here the second server's "echo" is
//  rejected (the default name policy), which only the local status said.
TEST (status_through_gateway_as_local)
{
    const char *dir = pu_tmpdir ();
    char config[256], text[1024], bind[256];
    snprintf (config, sizeof config, "%s/rejected.json", dir);
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"a\": {\"command\": \"%s\"}, \"b\": {\"command\": \"%s\"}}}",
              MCPACT_BUILD_DIR "/mcpact-example-server", MCPACT_BUILD_DIR "/mcpact-bench-server");
    pu_write (config, text);
    snprintf (bind, sizeof bind, "ipc://%s/rejected.sock", dir);
    int status;
    char *local = pu_run (&status, "%s -c %s status --json 2>/dev/null", CLI, config);
    CHECK_MSG (status == 0, "status exited %d: %s", status, local);
    const char *argv[] = { "/usr/bin/setpriv", "--pdeathsig", "KILL", CLI, "serve", "-c", config,
                           "--bind",           bind,          NULL };
    FILE *out;
    pid_t pid = pu_spawn (argv, &out);
    char endpoint[256] = "";
    pu_serve_wait_bound (out, endpoint, sizeof endpoint, NULL, 0);
    char *remote = pu_run (&status, "%s --connect %s status --json 2>&1", CLI, endpoint);
    CHECK_MSG (status == 0, "status --connect exited %d: %s", status, remote);
    char *table = pu_run (&status, "%s --connect %s status 2>&1", CLI, endpoint);
    CHECK (pu_serve_end (pid, out, SIGTERM) == 0);
    CHECK_CONTAINS (table, "1 tool rejected");
    free (table);

    json_t *views[2] = { json_loads (local, 0, NULL), json_loads (remote, 0, NULL) };
    for (int v = 0; v < 2; v++) {
        CHECK_MSG (views[v], "not JSON: %s", v ? remote : local);
        size_t index;
        json_t *server;
        json_array_foreach (json_object_get (views[v], "servers"), index, server) {
            json_object_del (server, "endpoint");
            json_object_del (server, "pid");
        }
    }
    json_t *b = json_array_get (json_object_get (views[1], "servers"), 1);
    CHECK_MSG (json_array_size (json_object_get (b, "rejectedTools")) == 1, "%s", remote);
    char *shown[2] = { json_dumps (views[0], JSON_SORT_KEYS),
                       json_dumps (views[1], JSON_SORT_KEYS) };
    CHECK_MSG (json_equal (views[0], views[1]), "without --connect:\n%s\nwith it:\n%s", shown[0],
               shown[1]);
    for (int v = 0; v < 2; v++) {
        free (shown[v]);
        json_decref (views[v]);
    }
    free (local);
    free (remote);
}

//  Clients that misbehave cost only themselves: one sends a message over
//  the size limit (cut off), one goes away with calls in flight (their
//  results dropped), one never reads its replies (they are dropped at its
//  high-water mark); the others are answered all along.
TEST (misbehaving_clients)
{
    pu_gw_t gw;
    s_gw_start (&gw, "{\"maxMessageBytes\": 4096, \"sendHwm\": 100}");
    zsock_t *good = zsock_new_dealer (gw.endpoint);

    zsock_t *big = zsock_new_dealer (gw.endpoint);
    char *args = ru_big_args (8192);
    zstr_sendx (big, "CALL", "big", "", "echo", args, NULL);
    free (args);
    char *reply = pu_recv_joined (big, 1000);
    CHECK_MSG (reply == NULL, "an oversized request got: %.100s", reply);

    zsock_t *gone = zsock_new_dealer (gw.endpoint);
    for (int i = 0; i < 20; i++) {
        char id[8];
        snprintf (id, sizeof id, "%d", i);
        zstr_sendx (gone, "CALL", id, "", "sleep", "{\"ms\":200}", NULL);
    }
    reply = pu_ask (gone, "PING", "p", NULL);
    CHECK_STR (reply, "PONG|p");
    free (reply);
    zsock_destroy (&gone);

    zsock_t *deaf = zsock_new_dealer (gw.endpoint);
    zsock_set_rcvhwm (deaf, 10);
    for (int i = 0; i < 5000; i++)
        zstr_sendx (deaf, "PING", "x", NULL);
    for (int i = 0; i < 50; i++) {
        char id[8];
        snprintf (id, sizeof id, "%d", i);
        zstr_sendx (deaf, "CALL", id, "", "echo", "{\"message\":\"unread\"}", NULL);
    }

    for (int i = 0; i < 20; i++) {
        reply = pu_ask (good, "CALL", "g", "", "echo", "{\"message\":\"still here\"}", NULL);
        CHECK_CONTAINS (reply, "RESULT|g|0|");
        free (reply);
    }
    //  The sleeps of the client that went away end and are dropped.
    ru_sleep_ms (400);
    reply = pu_ask (good, "STATUS", "s", "", NULL);
    CHECK_CONTAINS (reply, "\"inFlight\":0");
    free (reply);
    zsock_destroy (&deaf);
    zsock_destroy (&big);
    zsock_destroy (&good);
    pu_gw_stop (&gw);
}

TEST (busy_beyond_client_limit)
{
    pu_gw_t gw;
    s_gw_start (&gw, "{\"maxClientCalls\": 2}");
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    zstr_sendx (client, "CALL", "1", "", "sleep", "{\"ms\":500}", NULL);
    zstr_sendx (client, "CALL", "2", "", "sleep", "{\"ms\":500}", NULL);
    char *reply = pu_ask (client, "CALL", "3", "", "echo", "{\"message\":\"x\"}", NULL);
    CHECK_CONTAINS (reply, "RESULT|3|9|{\"message\":\"busy: this client has 2 calls in flight");
    free (reply);
    //  Another client is not held to this one's bound.
    zsock_t *other = zsock_new_dealer (gw.endpoint);
    reply = pu_ask (other, "CALL", "1", "", "echo", "{\"message\":\"x\"}", NULL);
    CHECK_CONTAINS (reply, "RESULT|1|0|");
    free (reply);
    zsock_destroy (&other);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  The longest routing id ZeroMQ allows and the longest request id: the
//  call is answered, cancelled and counted like any other.
TEST (longest_ids)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    zsock_t *client = zsock_new (ZMQ_DEALER);
    char routing_id[256], id[129];
    memset (routing_id, 'r', 255);
    routing_id[255] = 0;
    memset (id, 'i', 128);
    id[128] = 0;
    zsock_set_identity (client, routing_id);
    CHECK (zsock_connect (client, "%s", gw.endpoint) == 0);
    char *reply = pu_ask (client, "CALL", id, "", "echo", "{\"message\":\"long\"}", NULL);
    char expect[200];
    snprintf (expect, sizeof expect, "RESULT|%s|0|", id);
    CHECK_CONTAINS (reply, expect);
    free (reply);
    zstr_sendx (client, "CALL", id, "", "sleep", "{\"ms\":5000}", NULL);
    reply = pu_ask (client, "CANCEL", id, NULL);
    snprintf (expect, sizeof expect, "RESULT|%s|8|", id);
    CHECK_CONTAINS (reply, expect);
    free (reply);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  A client's calls one after another go on the server's lane (counted
//  as directCalls in the status), and a slow call there does not hold up
//  the gateway: another client is answered meanwhile, and the slow call
//  can be cancelled as any other.
TEST (sequential_calls_on_the_lane)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    for (int i = 0; i < 20; i++) {
        char *reply = pu_ask (client, "CALL", "e", "", "echo", "{\"message\":\"lane\"}", NULL);
        CHECK_CONTAINS (reply, "RESULT|e|0|");
        CHECK_CONTAINS (reply, "lane");
        free (reply);
    }
    char *reply = pu_ask (client, "STATUS", "s", "", NULL);
    const char *direct = reply ? strstr (reply, "\"directCalls\":") : NULL;
    CHECK_MSG (direct && atoi (direct + 14) > 0, "no call went on the lane: %.300s", reply);
    free (reply);
    //  STATUS took the lane back to the actor: one call to have it lent
    //  again, then the slow one on it.
    reply = pu_ask (client, "CALL", "e", "", "echo", "{\"message\":\"lane\"}", NULL);
    CHECK_CONTAINS (reply, "RESULT|e|0|");
    free (reply);
    zstr_sendx (client, "CALL", "slow", "", "sleep", "{\"ms\":5000}", NULL);
    zsock_t *other = zsock_new_dealer (gw.endpoint);
    reply = pu_ask (other, "CALL", "o", "", "echo", "{\"message\":\"meanwhile\"}", NULL);
    CHECK_CONTAINS (reply, "RESULT|o|0|");
    free (reply);
    reply = pu_recv_joined (client, 0);
    CHECK_MSG (reply == NULL, "the slow call ended first: %.100s", reply);
    reply = pu_ask (client, "CANCEL", "slow", NULL);
    CHECK_CONTAINS (reply, "RESULT|slow|8|");
    free (reply);
    zsock_destroy (&other);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  100 clients, 100 calls each (8 in flight per client), all answered.
TEST (load_100_clients)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    enum { CLIENTS = 100, CALLS = 100, WINDOW = 8 };
    zsock_t *clients[CLIENTS];
    int sent[CLIENTS] = { 0 }, answered[CLIENTS] = { 0 }, ok = 0;
    zpoller_t *poller = zpoller_new (NULL);
    for (int c = 0; c < CLIENTS; c++) {
        clients[c] = zsock_new_dealer (gw.endpoint);
        zpoller_add (poller, clients[c]);
    }
    ru_watchdog_arm (100, "100 x 100 calls");
    for (int c = 0; c < CLIENTS; c++)
        for (; sent[c] < WINDOW; sent[c]++) {
            char id[16];
            snprintf (id, sizeof id, "%d", sent[c]);
            zstr_sendx (clients[c], "CALL", id, "", "echo", "{\"message\":\"load\"}", NULL);
        }
    int total = 0;
    while (total < CLIENTS * CALLS) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, 10000);
        CHECK_MSG (which, "no answer for 10 s after %d of %d", total, CLIENTS * CALLS);
        int c = 0;
        while (clients[c] != which)
            c++;
        char *reply = pu_recv_joined (which, 0);
        ok += reply && strncmp (reply, "RESULT|", 7) == 0 && strstr (reply, "|0|");
        free (reply);
        answered[c]++;
        total++;
        if (sent[c] < CALLS) {
            char id[16];
            snprintf (id, sizeof id, "%d", sent[c]++);
            zstr_sendx (which, "CALL", id, "", "echo", "{\"message\":\"load\"}", NULL);
        }
    }
    ru_watchdog_disarm ();
    CHECK_MSG (ok == CLIENTS * CALLS, "%d of %d calls ok", ok, CLIENTS * CALLS);
    zpoller_destroy (&poller);
    for (int c = 0; c < CLIENTS; c++)
        zsock_destroy (&clients[c]);
    pu_gw_stop (&gw);
}

//  The provider formats (as mcpact_agent_tools_as, _call_as), and a REQ
//  client (one request at a time, with its empty delimiter frame).
TEST (formats_and_req_clients)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char *reply = pu_ask (client, "TOOLS", "t", "", "openai", NULL);
    CHECK_CONTAINS (reply, "TOOLS|t|[{\"type\":\"function\",\"function\":{\"name\":\"echo\"");
    free (reply);
    reply = pu_ask (client, "CALL_AS", "c", "", "openai",
                    "{\"id\":\"call_9\",\"type\":\"function\",\"function\":{\"name\":\"echo\","
                    "\"arguments\":\"{\\\"message\\\":\\\"as openai\\\"}\"}}",
                    NULL);
    CHECK_CONTAINS (reply, "RESULT|c|0|{\"role\":\"tool\",\"tool_call_id\":\"call_9\"");
    CHECK_CONTAINS (reply, "as openai");
    free (reply);
    //  Arguments the LLM got wrong: a tool message it can read.
    reply =
        pu_ask (client, "CALL_AS", "e", "", "anthropic",
                "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"echo\",\"input\":{}}", NULL);
    CHECK_CONTAINS (reply, "RESULT|e|6|{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\"");
    CHECK_CONTAINS (reply, "message");
    free (reply);
    zsock_destroy (&client);

    zsock_t *req = zsock_new_req (gw.endpoint);
    reply = pu_ask (req, "HELLO", "r", "1", NULL);
    CHECK_CONTAINS (reply, "HELLO|r|{\"protocol\":1");
    CHECK_CONTAINS (reply, "\"CALL_AS\"");
    free (reply);
    reply = pu_ask (req, "CALL", "r2", "", "echo", "{\"message\":\"from req\"}", NULL);
    CHECK_CONTAINS (reply, "RESULT|r2|0|");
    CHECK_CONTAINS (reply, "from req");
    free (reply);
    zsock_destroy (&req);
    pu_gw_stop (&gw);
}

//  A server's new tool reaches subscribers as TOOLS_CHANGED with the
//  agent's name; TOOLS then lists it.
TEST (tools_changed_event)
{
    pu_gw_t gw;
    s_gw_start_with (&gw, NULL, "[\"--list-changed-after-ms\", \"600\"]");
    char events[256], *bound = NULL, *error = NULL;
    snprintf (events, sizeof events, "ipc://%s/events.sock", pu_dir);
    CHECK_MSG (mcpact_gateway_bind_events (gw.gateway, events, &bound, &error) == 0, "%s", error);
    zsock_t *sub = zsock_new_sub (bound, "TOOLS_CHANGED");
    char *event = pu_recv_joined (sub, 10000);
    CHECK_MSG (event, "no TOOLS_CHANGED event");
    CHECK_CONTAINS (event, "TOOLS_CHANGED||{");
    CHECK_CONTAINS (event, "\"added\":[\"late_tool\"]");
    free (event);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char *reply = pu_ask (client, "TOOLS", "t", "", NULL);
    CHECK_CONTAINS (reply, "\"name\":\"late_tool\"");
    free (reply);
    //  RELOAD lists again and says what changed (here: nothing).
    reply = pu_ask (client, "RELOAD", "r", "", NULL);
    CHECK_CONTAINS (reply, "RELOAD|r|{\"added\":[],\"removed\":[],\"changed\":[]");
    CHECK_CONTAINS (reply, "\"errors\":[]");
    free (reply);
    zsock_destroy (&client);
    zsock_destroy (&sub);
    free (bound);
    pu_gw_stop (&gw);
}

//  A call that asks for progress hears the server's notifications/progress
//  as PROGRESS frames before its RESULT; one that does not, only RESULT.
TEST (progress_forwarded)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char *reply =
        pu_ask (client, "CALL", "p", "", "sleep", "{\"ms\":50}", "{\"progress\":true}", NULL);
    CHECK_CONTAINS (reply, "PROGRESS|p|{\"progress\":1");
    CHECK_CONTAINS (reply, "\"total\":2");
    CHECK_CONTAINS (reply, "\"message\":\"sleeping\"");
    free (reply);
    reply = pu_recv_joined (client, 10000);
    CHECK_CONTAINS (reply, "RESULT|p|0|");
    free (reply);
    reply = pu_ask (client, "CALL", "q", "", "sleep", "{\"ms\":50}", "{\"timeoutMs\":5000}", NULL);
    CHECK_CONTAINS (reply, "RESULT|q|0|");
    free (reply);
    //  A timeout of its own: the call ends status 3 at it.
    reply = pu_ask (client, "CALL", "t", "", "sleep", "{\"ms\":5000}", "{\"timeoutMs\":100}", NULL);
    CHECK_CONTAINS (reply, "RESULT|t|3|");
    free (reply);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  A word count in C: the host's own function tool.
static int
s_shout (const char *args_json, char **output, void *arg)
{
    *output = strdup ("HELLO FROM THE HOST");
    return 0;
}

//  An embedding host serves an agent it built in code, with a function
//  tool of its own, beside the session's.
TEST (host_agent_served)
{
    pu_gw_t gw;
    s_gw_start (&gw, NULL);
    mcpact_agent_t *agent = mcpact_agent_new (gw.session, "host");
    CHECK (mcpact_agent_add_function (agent, "shout", "Shouts", NULL, s_shout, NULL) == 0);
    CHECK (mcpact_gateway_add_agent (gw.gateway, "host", agent) == 0);
    CHECK (mcpact_gateway_add_agent (gw.gateway, "host", agent) == -1);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char *reply = pu_ask (client, "HELLO", "h", NULL);
    CHECK_CONTAINS (reply, "{\"name\":\"host\"");
    free (reply);
    reply = pu_ask (client, "CALL", "c", "host", "shout", "{}", NULL);
    CHECK_CONTAINS (reply, "RESULT|c|0|");
    CHECK_CONTAINS (reply, "HELLO FROM THE HOST");
    free (reply);
    reply = pu_ask (client, "CALL", "d", "host", "echo", "{\"message\":\"session's\"}", NULL);
    CHECK_CONTAINS (reply, "RESULT|d|0|");
    free (reply);
    zsock_destroy (&client);
    mcpact_gateway_destroy (&gw.gateway);
    mcpact_agent_destroy (&agent);
    pu_gw_stop (&gw);
}

//  client.py over CURVE with --events: its SUB sockets use the same keys
//  (kept by the client: a socket's key options cannot be read back); a
//  key the gateway does not know ends it with one line and status 1.
TEST (curve_python_events)
{
    if (!s_python_has_zmq ())
        SKIP ("python3-zmq is not installed (scripts/deps --test)");
    const char *dir = pu_tmpdir ();
    int status;
    char *out = pu_run (&status,
                        "mkdir -m 700 %s/clients && " CLI " keygen %s/server && " CLI
                        " keygen %s/client && " CLI " keygen %s/stranger && cp %s/client "
                        "%s/clients/",
                        dir, dir, dir, dir, dir, dir);
    CHECK_MSG (status == 0, "keygen: %s", out);
    free (out);
    char key[256], clients[256];
    snprintf (key, sizeof key, "%s/server", dir);
    snprintf (clients, sizeof clients, "%s/clients", dir);
    s_daemon_t daemon;
    s_daemon_start (&daemon, dir, "--bind", "tcp://127.0.0.1:*", "--events", "tcp://127.0.0.1:*",
                    "--curve-key", key, "--curve-clients", clients, NULL);
    out = pu_run (&status,
                  PYTHON " " PY_CLIENT " %s --calls 5 --curve-key %s/client --curve-server "
                         "%s/server --events %s --crash crash 2>&1",
                  daemon.endpoint, dir, dir, daemon.events);
    CHECK_MSG (status == 0, "client.py exited %d: %s", status, out);
    CHECK_CONTAINS (out, "calls 5 answered 5");
    CHECK_CONTAINS (out, "event SERVER_STATE fixture ready");
    free (out);
    out = pu_run (&status,
                  PYTHON " " PY_CLIENT " %s --calls 5 --curve-key %s/stranger --curve-server "
                         "%s/server 2>&1",
                  daemon.endpoint, dir, dir);
    CHECK_MSG (status == 1, "client.py with an unknown key exited %d: %s", status, out);
    CHECK_MSG (!strstr (out, "Traceback"), "a traceback: %s", out);
    CHECK_CONTAINS (out, "client.py: no answer within 10 s (are the CURVE keys right?)");
    free (out);
    CHECK (s_daemon_stop (&daemon) == 0);
}

//  The C client with no daemon at the endpoint: one deadline for the
//  whole run, and it ends at the first answer that does not come.
TEST (c_client_no_daemon)
{
    const char *dir = pu_tmpdir ();
    int status;
    char *out = pu_run (&status, C_CLIENT " ipc://%s/nobody.sock 64 2>&1", dir);
    CHECK_MSG (status == 1, "the C client exited %d: %s", status, out);
    CHECK_CONTAINS (out, "no answer to HELLO");
    free (out);
}
