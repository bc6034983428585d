/*  =========================================================================
    test_serve_cli - `mcpact serve` and the --connect commands as a user
    meets them: mistakes in the endpoints and keys said before any server
    starts, the same exit codes with and without --connect, and the last
    SERVER_STATE events at shutdown

    Each case runs `mcpact serve` (and the CLI) as processes over the
    fixture server, in a private directory for ipc:// sockets, keys and
    files, and on 127.0.0.1 for tcp://. The fixture's pid file says
    whether serve started it.
    =========================================================================
*/

#define PU_NAME "servecli"
#include "protocol_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define CLI PU_CLI
//  A daemon the test starts dies with it, also when the test fails.
#define S_DIES_WITH_TEST "/usr/bin/setpriv", "--pdeathsig", "KILL",

//  Writes DIR/serve.json: the fixture, which writes DIR/fixture.pid when
//  it starts, and an agent "other" on it. Returns the config's path.
static const char *
s_config (const char *dir)
{
    static char config[256];
    snprintf (config, sizeof config, "%s/serve.json", dir);
    FILE *file = fopen (config, "w");
    CHECK (file);
    fprintf (file,
             "{\"mcpServers\": {\"fixture\": {\"command\": \"%s\", \"args\": [\"--pid-file\", "
             "\"%s/fixture.pid\"]}}, \"agents\": {\"other\": {\"mcpServers\": [\"fixture\"]}}}",
             RU_FIXTURE, dir);
    fclose (file);
    return config;
}

//  Whether serve started the fixture.
static bool
s_fixture_started (const char *dir)
{
    char path[256];
    snprintf (path, sizeof path, "%s/fixture.pid", dir);
    return access (path, F_OK) == 0;
}

//  A wrong endpoint (no such directory, a file that is not a socket, a
//  port in use) ends serve with status 2 and a message naming it before
//  any server process is started, --bind and --events alike.
TEST (bad_endpoint_refused_before_servers_start)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    char path[256];
    snprintf (path, sizeof path, "%s/file", dir);
    FILE *file = fopen (path, "w");
    fclose (file);
    //  A port in use: ours, bound first.
    zsock_t *taken = zsock_new (ZMQ_ROUTER);
    int port = zsock_bind (taken, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    char endpoints[4][256];
    snprintf (endpoints[0], sizeof endpoints[0], "--bind ipc://%s/missing/mcpact.sock", dir);
    snprintf (endpoints[1], sizeof endpoints[1], "--bind ipc://%s/file", dir);
    snprintf (endpoints[2], sizeof endpoints[2], "--bind tcp://127.0.0.1:%d", port);
    snprintf (endpoints[3], sizeof endpoints[3],
              "--bind ipc://%s/mcpact.sock --events tcp://127.0.0.1:%d", dir, port);
    const char *named[4][2] = { { "ipc://", "/missing/mcpact.sock" },
                                { "ipc://", "/file: a file that is not a socket" },
                                { "tcp://127.0.0.1:", "Address already in use" },
                                { "tcp://127.0.0.1:", "Address already in use" } };
    for (int i = 0; i < 4; i++) {
        int status;
        char *out = pu_run (&status, CLI " serve -c %s %s 2>&1", config, endpoints[i]);
        CHECK_MSG (status == 2, "status %d for %s: %s", status, endpoints[i], out);
        CHECK_CONTAINS (out, named[i][0]);
        CHECK_CONTAINS (out, named[i][1]);
        CHECK_CONTAINS (out, "no server was started");
        CHECK_MSG (!strstr (out, "bound"), "%s", out);
        if (i >= 2) {
            //  What helps, and not the host '*', refused without CURVE.
            CHECK_CONTAINS (out, "give another port, or tcp://127.0.0.1:* for any free one");
            CHECK_MSG (!strstr (out, "tcp://*"), "%s", out);
        }
        CHECK_MSG (!s_fixture_started (dir), "serve started the server for %s", endpoints[i]);
        free (out);
    }
    zsock_destroy (&taken);
}

//  The endpoints are bound before the servers start, but nothing is
//  answered there until they have: a HELLO sent meanwhile waits, and its
//  answer then says the server is up, with its tools.
TEST (bound_before_start_answered_when_ready)
{
    const char *dir = pu_tmpdir ();
    char config[256], pid_file[256], bind[256];
    snprintf (config, sizeof config, "%s/slow.json", dir);
    snprintf (pid_file, sizeof pid_file, "%s/fixture.pid", dir);
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    FILE *file = fopen (config, "w");
    fprintf (file,
             "{\"mcpServers\": {\"slow\": {\"command\": \"%s\", \"args\": [\"--pid-file\", "
             "\"%s\", \"--init-delay-ms\", \"1500\"]}}}",
             RU_FIXTURE, pid_file);
    fclose (file);
    const char *argv[] = { S_DIES_WITH_TEST CLI, "serve", "-c", config, "--bind", bind, NULL };
    FILE *out;
    pid_t pid = pu_spawn (argv, &out);
    ru_watchdog_arm (30, "the server to start");
    while (!s_fixture_started (dir))
        usleep (20000);
    ru_watchdog_disarm ();
    //  The server is starting: the socket is there already.
    struct stat info;
    CHECK_MSG (lstat (bind + 6, &info) == 0 && S_ISSOCK (info.st_mode),
               "no socket at %s while the server starts", bind + 6);
    zsock_t *client = zsock_new_dealer (bind);
    char *reply = pu_ask (client, "HELLO", "h", NULL);
    CHECK_CONTAINS (reply, "HELLO|h|");
    CHECK_CONTAINS (reply, "\"servers\":[{\"name\":\"slow\",\"up\":true}],\"tools\":");
    CHECK_MSG (!strstr (reply, "\"tools\":0"), "%s", reply);
    free (reply);
    zsock_destroy (&client);
    char endpoint[256] = "";
    pu_serve_wait_bound (out, endpoint, sizeof endpoint, NULL, 0);
    CHECK_STR (endpoint, bind);
    CHECK (pu_serve_end (pid, out, SIGTERM) == 0);
    CHECK (lstat (bind + 6, &info) != 0);
}

//  --curve-key naming a file of the wrong kind is refused with the file
//  and what is wrong, before any server starts, and nothing of the
//  file's content is printed; the same file for --connect likewise.
TEST (curve_key_file_checked)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    int status;
    char *out = pu_run (&status, CLI " keygen %s/gateway", dir);
    CHECK (status == 0);
    char public_key[64] = "";
    sscanf (out, "%63s", public_key);
    free (out);
    char clients[256], path[256];
    snprintf (clients, sizeof clients, "%s/clients", dir);
    CHECK (mkdir (clients, 0700) == 0);
    //  A public certificate alone (its _secret elsewhere), a text file
    //  that is no certificate, a FIFO (CZMQ would wait on it for ever).
    out =
        pu_run (&status, "cp %s/gateway %s/public && printf 'SECRET-WORDS here\\n' > %s/notes.txt",
                dir, dir, dir);
    CHECK (status == 0);
    free (out);
    snprintf (path, sizeof path, "%s/fifo", dir);
    CHECK (mkfifo (path, 0600) == 0);
    const struct {
        const char *file;
        const char *says;
    } cases[] = { { "public", "holds no secret key: it is a public certificate" },
                  { "notes.txt", "is not a CURVE certificate" },
                  { "clients", "is a directory, not a certificate" },
                  { "missing", "does not exist: make a key pair with mcpact keygen" },
                  { "fifo", "is not a certificate (not a regular file)" } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        out = pu_run (&status,
                      "timeout 30 " CLI " serve -c %s --bind tcp://127.0.0.1:* --curve-key %s/%s "
                      "--curve-clients %s 2>&1",
                      config, dir, cases[i].file, clients);
        CHECK_MSG (status == 2, "status %d for %s: %s", status, cases[i].file, out);
        snprintf (path, sizeof path, "the key file %s/%s ", dir, cases[i].file);
        CHECK_CONTAINS (out, path);
        CHECK_CONTAINS (out, cases[i].says);
        CHECK_MSG (!strstr (out, "SECRET-WORDS") && !strstr (out, public_key),
                   "the file's content was printed: %s", out);
        CHECK_MSG (!s_fixture_started (dir), "serve started the server with %s", cases[i].file);
        free (out);
    }
    //  The client's side: its key pair and the daemon's certificate.
    out = pu_run (&status,
                  "timeout 30 " CLI " --connect tcp://127.0.0.1:9 --curve-key %s/notes.txt "
                  "--curve-server %s/gateway tools 2>&1",
                  dir, dir);
    CHECK_MSG (status == 2, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "--curve-key: the key file");
    CHECK_CONTAINS (out, "notes.txt is not a CURVE certificate");
    CHECK_MSG (!strstr (out, "SECRET-WORDS"), "%s", out);
    free (out);
    out = pu_run (&status,
                  "timeout 30 " CLI " --connect tcp://127.0.0.1:9 --curve-key %s/gateway "
                  "--curve-server %s/fifo tools 2>&1",
                  dir, dir);
    CHECK_MSG (status == 2, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "--curve-server: the key file");
    CHECK_CONTAINS (out, "fifo is not a certificate");
    free (out);
}

//  What decides who is let in must be the user's alone: the daemon's key
//  pair, readable by others, would let them be the daemon; a client
//  certificates directory (or a certificate in it) that others can
//  write would let them add their key, which the gateway honours while
//  it runs. Each is refused, naming the path, its mode and the fix; the
//  client's key pair the same.
TEST (curve_keys_and_allow_list_private)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    int status;
    char *out = pu_run (&status,
                        CLI " keygen %s/gateway && " CLI " keygen %s/client && mkdir -m 700 "
                            "%s/clients %s/clients/sub && cp %s/client %s/clients/",
                        dir, dir, dir, dir, dir, dir);
    CHECK_MSG (status == 0, "%s", out);
    free (out);
    const struct {
        const char *chmod; //  the one change from a good setup
        const char *says;
    } cases[] = {
        { "777 %s/clients", "the client certificates directory %s/clients is writable by others "
                            "(mode 0777)" },
        { "666 %s/clients/client", "the client certificate %s/clients/client is writable by "
                                   "others (mode 0666)" },
        { "644 %s/gateway_secret", "the key file %s/gateway_secret is open to others (mode 0644)" },
        //  CZMQ's certificate store reads subdirectories too
        { "777 %s/clients/sub", "the directory %s/clients/sub is writable by others (mode 0777)" },
        //  whoever can write beside the key pair can put another there
        { "777 %s", "the directory %s is writable by others (mode 0777)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char change[512], says[512];
        snprintf (change, sizeof change, cases[i].chmod, dir);
        snprintf (says, sizeof says, cases[i].says, dir);
        out = pu_run (&status,
                      "chmod %s && timeout 30 " CLI " serve -c %s --bind tcp://127.0.0.1:* "
                      "--curve-key %s/gateway --curve-clients %s/clients 2>&1",
                      change, config, dir, dir);
        CHECK_MSG (status == 2, "status %d after chmod %s: %s", status, change, out);
        CHECK_CONTAINS (out, says);
        CHECK_CONTAINS (out, "chmod");
        CHECK_MSG (!s_fixture_started (dir), "serve started the server after chmod %s", change);
        free (out);
        //  Made good again for the next case.
        out = pu_run (&status,
                      "chmod 700 %s %s/clients %s/clients/sub && chmod 644 %s/clients/client && "
                      "chmod 600 %s/gateway_secret",
                      dir, dir, dir, dir, dir);
        free (out);
    }
    //  The peer's certificate, on the client's side: others must not be
    //  able to write it, and a key pair is not one to hand round.
    out = pu_run (&status,
                  "cp %s/gateway %s/open && chmod 666 %s/open && timeout 30 " CLI
                  " --connect tcp://127.0.0.1:9 --curve-key %s/client --curve-server %s/open "
                  "tools 2>&1",
                  dir, dir, dir, dir, dir);
    CHECK_MSG (status == 2, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "the certificate");
    CHECK_CONTAINS (out, "open is writable by others (mode 0666)");
    free (out);
    out = pu_run (&status,
                  "timeout 30 " CLI " --connect tcp://127.0.0.1:9 --curve-key %s/client "
                  "--curve-server %s/gateway_secret tools 2>&1",
                  dir, dir);
    CHECK_MSG (status == 2, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "gateway_secret holds a secret key: give the public certificate");
    free (out);
    //  The client's key pair
    out = pu_run (&status,
                  "chmod 640 %s/client_secret && timeout 30 " CLI
                  " --connect tcp://127.0.0.1:9 --curve-key %s/client --curve-server %s/gateway "
                  "tools 2>&1",
                  dir, dir, dir);
    CHECK_MSG (status == 2, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "--curve-key: the key file");
    CHECK_CONTAINS (out, "client_secret is open to others (mode 0640)");
    CHECK_MSG (!strstr (out, "usage:"), "a file's fault, said as a usage error: %s", out);
    free (out);
}

//  `mcpact --connect` with CURVE as `key`: status 0 once the daemon at
//  `endpoint` lets that key in, else 1; the output in *out.
static int
s_curve_status (const char *dir, const char *endpoint, const char *key, char **out)
{
    int status;
    *out = pu_run (&status,
                   "timeout 60 " CLI " --connect %s --curve-key %s/%s --curve-server %s/gateway "
                   "status 2>&1",
                   endpoint, dir, key, dir);
    return status;
}

//  The allow-list is read again while serve runs: a certificate added
//  lets its client in, and one that others can write lets no new client
//  in (serve says why) until it is fixed; zauth never reads a file others
//  could have written.
TEST (allow_list_changes_while_serving)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    int status;
    char *out = pu_run (&status,
                        CLI " keygen %s/gateway && " CLI " keygen %s/alice && " CLI
                            " keygen %s/bob && mkdir -m 700 %s/clients && cp %s/alice %s/clients/",
                        dir, dir, dir, dir, dir, dir);
    CHECK_MSG (status == 0, "%s", out);
    free (out);
    char key[256], clients[256], err_path[256], command[1024];
    snprintf (key, sizeof key, "%s/gateway", dir);
    snprintf (clients, sizeof clients, "%s/clients", dir);
    snprintf (err_path, sizeof err_path, "%s/serve.err", dir);
    snprintf (command, sizeof command,
              "exec %s serve -c %s --bind tcp://127.0.0.1:* --curve-key %s --curve-clients %s "
              "2>%s",
              CLI, config, key, clients, err_path);
    const char *argv[] = { S_DIES_WITH_TEST "/bin/sh", "-c", command, NULL };
    FILE *stream;
    pid_t pid = pu_spawn (argv, &stream);
    char endpoint[256] = "";
    pu_serve_wait_bound (stream, endpoint, sizeof endpoint, NULL, 0);
    CHECK_MSG (s_curve_status (dir, endpoint, "alice", &out) == 0, "%s", out);
    free (out);
    CHECK_MSG (s_curve_status (dir, endpoint, "bob", &out) == 1, "%s", out);
    CHECK_CONTAINS (out, "refused our key");
    free (out);
    //  Bob's certificate added: he gets in (the list is looked at every
    //  second).
    out = pu_run (&status, "cp %s/bob %s/clients/", dir, dir);
    free (out);
    ru_watchdog_arm (60, "bob to be let in");
    while (s_curve_status (dir, endpoint, "bob", &out) != 0) {
        free (out);
        usleep (200000);
    }
    free (out);
    ru_watchdog_disarm ();
    //  Made writable by others: no new client gets in, and serve says so.
    out = pu_run (&status, "chmod 666 %s/clients/bob", dir);
    free (out);
    ru_watchdog_arm (60, "the open certificate to shut the door");
    while (s_curve_status (dir, endpoint, "alice", &out) == 0) {
        free (out);
        usleep (200000);
    }
    ru_watchdog_disarm ();
    CHECK_CONTAINS (out, "refused our key");
    free (out);
    out = pu_run (&status, "cat %s", err_path);
    CHECK_CONTAINS (out, "bob is writable by others (mode 0666)");
    CHECK_CONTAINS (out, "no new client is let in until that is fixed");
    free (out);
    //  Fixed: both are let in again.
    out = pu_run (&status, "chmod 644 %s/clients/bob", dir);
    free (out);
    ru_watchdog_arm (60, "the fixed list to let clients in");
    while (s_curve_status (dir, endpoint, "bob", &out) != 0) {
        free (out);
        usleep (200000);
    }
    free (out);
    ru_watchdog_disarm ();
    CHECK_MSG (s_curve_status (dir, endpoint, "alice", &out) == 0, "%s", out);
    free (out);
    CHECK (pu_serve_end (pid, stream, SIGTERM) == 0);
}

//  The --connect commands end as the same commands without it: an agent
//  the daemon does not serve is a usage error (2) for tools, status and
//  call alike; -c FILE, which --connect would leave unused, is refused;
//  CURVE options with an ipc:// endpoint are refused at once instead of
//  waiting for an answer that cannot come.
TEST (connect_mistakes_said_as_without_it)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    char bind[256];
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    const char *argv[] = { S_DIES_WITH_TEST CLI, "serve", "-c", config, "--bind", bind, NULL };
    FILE *out_stream;
    pid_t pid = pu_spawn (argv, &out_stream);
    char endpoint[256] = "";
    pu_serve_wait_bound (out_stream, endpoint, sizeof endpoint, NULL, 0);
    int status;
    char *out = pu_run (&status, CLI " -c %s --agent nobody tools 2>&1", config);
    CHECK_MSG (status == 2, "without --connect: status %d: %s", status, out);
    free (out);
    const char *commands[] = { "tools", "status", "call echo '{}'" };
    for (size_t i = 0; i < 3; i++) {
        out = pu_run (&status, CLI " --connect %s --agent nobody %s 2>&1", endpoint, commands[i]);
        CHECK_MSG (status == 2, "%s: status %d: %s", commands[i], status, out);
        CHECK_CONTAINS (out, "no agent 'nobody' at ");
        CHECK_CONTAINS (out, "its agents are: '', 'other'");
        free (out);
    }
    out = pu_run (&status, CLI " --connect %s --agent other tools 2>&1", endpoint);
    CHECK_MSG (status == 0, "%s", out);
    CHECK_CONTAINS (out, "echo");
    free (out);
    out = pu_run (&status, CLI " --connect %s -c %s tools 2>&1", endpoint, config);
    CHECK_MSG (status == 2, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "-c FILE and --connect are alternatives");
    free (out);
    out = pu_run (&status, CLI " keygen %s/me >/dev/null", dir);
    free (out);
    out =
        pu_run (&status,
                "timeout 30 " CLI " --connect %s --curve-key %s/me --curve-server %s/me tools 2>&1",
                endpoint, dir, dir);
    CHECK_MSG (status == 2, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "CURVE (--curve-key, --curve-server) is for tcp:// endpoints");
    free (out);
    CHECK (pu_serve_end (pid, out_stream, SIGTERM) == 0);
}

//  serve binds tcp://[::1]:PORT (IPv6 loopback) as well as 127.0.0.1:
//  --connect reaches it at both, and at localhost (which serve binds as
//  127.0.0.1).
TEST (connect_over_ipv6_and_ipv4)
{
    pu_require_ipv6 ();
    int status;
    char *out;
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    const char *argv[] = {
        S_DIES_WITH_TEST CLI, "serve", "-c", config, "--bind", "tcp://[::1]:*", "--bind",
        "tcp://127.0.0.1:*",  NULL
    };
    FILE *out_stream;
    pid_t pid = pu_spawn (argv, &out_stream);
    char ipv6[256] = "", ipv4[256] = "";
    pu_serve_wait_bound (out_stream, ipv6, sizeof ipv6, NULL, 0);
    pu_serve_wait_bound (out_stream, ipv4, sizeof ipv4, NULL, 0);
    CHECK_CONTAINS (ipv6, "tcp://[::1]:");
    CHECK_CONTAINS (ipv4, "tcp://127.0.0.1:");
    char localhost[256];
    snprintf (localhost, sizeof localhost, "tcp://localhost:%s", strrchr (ipv4, ':') + 1);
    const char *endpoints[] = { ipv6, ipv4, localhost };
    for (size_t i = 0; i < 3; i++) {
        out = pu_run (&status, "timeout 60 " CLI " --connect '%s' tools 2>&1", endpoints[i]);
        CHECK_MSG (status == 0, "%s: status %d: %s", endpoints[i], status, out);
        CHECK_CONTAINS (out, "echo");
        free (out);
    }
    CHECK (pu_serve_end (pid, out_stream, SIGTERM) == 0);
}

//  A --connect ENDPOINT that cannot be a daemon's (a port beyond 65535,
//  which libzmq would take as another port, no port, no host, a scheme
//  serve never binds, an ipc:// path that is a regular file) is a usage
//  error naming it and what is wrong, said at once; so are --connect
//  given twice and one CURVE option without the other.
TEST (connect_endpoint_mistakes_are_usage_errors)
{
    const char *dir = pu_tmpdir ();
    char file[256];
    snprintf (file, sizeof file, "%s/not-a-socket", dir);
    pu_write (file, "text\n");
    char ipc_file[300];
    snprintf (ipc_file, sizeof ipc_file, "ipc://%s", file);
    char key[256];
    snprintf (key, sizeof key, "%s/me", dir);
    int status;
    char *out = pu_run (&status, CLI " keygen %s >/dev/null 2>&1", key);
    CHECK (status == 0);
    free (out);
    char args[7][600];
    const char *said[7];
    snprintf (args[0], sizeof args[0], "--connect tcp://127.0.0.1:99999");
    said[0] = "--connect tcp://127.0.0.1:99999: the port is not a number up to 65535";
    snprintf (args[1], sizeof args[1], "--connect tcp://127.0.0.1");
    said[1] = "--connect tcp://127.0.0.1: no port";
    snprintf (args[2], sizeof args[2], "--connect foo://x");
    said[2] = "--connect foo://x: not an endpoint mcpact serve binds";
    snprintf (args[3], sizeof args[3], "--connect %s", ipc_file);
    said[3] = "is not a socket (a regular file)";
    snprintf (args[4], sizeof args[4], "--connect tcp://127.0.0.1:1 --connect tcp://127.0.0.1:2");
    said[4] = "--connect is given twice";
    snprintf (args[5], sizeof args[5], "--connect tcp://127.0.0.1:1 --curve-key %s", key);
    said[5] = "--curve-key needs --curve-server";
    snprintf (args[6], sizeof args[6], "--connect tcp://*:5555");
    said[6] = "--connect tcp://*:5555: the host '*' (every interface) is for a bind";
    for (size_t i = 0; i < 7; i++) {
        //  timeout: without the checks some of these wait for an answer.
        out = pu_run (&status, "timeout 60 " CLI " %s tools 2>&1", args[i]);
        CHECK_MSG (status == 2, "%s: status %d: %s", args[i], status, out);
        CHECK_CONTAINS (out, said[i]);
        CHECK_CONTAINS (out, "usage: mcpact");
        free (out);
    }
}

//  A --connect nobody can answer fails at once (well before the 15 s
//  wait for an answer), exit 1, naming the endpoint and what was found:
//  the socket file a daemon killed with -9 left (nothing listens on it;
//  no CURVE advice for ipc://), a port nothing listens at (refused),
//  a host that does not resolve, and a daemon that refuses our CURVE key;
//  for tools, status and call alike.
TEST (connect_failures_said_at_once)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    char command[1024];
    snprintf (command, sizeof command,
              "mkdir -m 700 %s/clients && " CLI " keygen %s/gw >/dev/null && " CLI
              " keygen %s/me >/dev/null && " CLI " keygen %s/stranger >/dev/null && "
              "cp %s/me %s/clients/",
              dir, dir, dir, dir, dir, dir);
    CHECK (system (command) == 0);
    //  A daemon on ipc://, killed with -9: its socket file stays.
    char killed[256];
    snprintf (killed, sizeof killed, "ipc://%s/killed.sock", dir);
    const char *argv[] = { S_DIES_WITH_TEST CLI, "serve", "-c", config, "--bind", killed, NULL };
    FILE *out_stream;
    pid_t pid = pu_spawn (argv, &out_stream);
    char endpoint[256] = "";
    pu_serve_wait_bound (out_stream, endpoint, sizeof endpoint, NULL, 0);
    CHECK (pu_serve_end (pid, out_stream, SIGKILL) == 128 + SIGKILL);
    CHECK (access (killed + 6, F_OK) == 0);
    //  A daemon with CURVE that knows "me", not "stranger".
    char key[256], clients[256];
    snprintf (key, sizeof key, "%s/gw_secret", dir);
    snprintf (clients, sizeof clients, "%s/clients", dir);
    const char *curve_argv[] = { S_DIES_WITH_TEST CLI,
                                 "serve",
                                 "-c",
                                 config,
                                 "--bind",
                                 "tcp://127.0.0.1:*",
                                 "--curve-key",
                                 key,
                                 "--curve-clients",
                                 clients,
                                 NULL };
    pid = pu_spawn (curve_argv, &out_stream);
    char curved[256] = "";
    pu_serve_wait_bound (out_stream, curved, sizeof curved, NULL, 0);
    int refuser;
    int port = pu_refused_port (&refuser);
    struct {
        char args[600];
        char says[600];
    } cases[4];
    snprintf (cases[0].args, 600, "--connect %s", killed);
    snprintf (cases[0].says, 600,
              "no mcpact serve at %s: nothing listens on the socket %s (connection refused", killed,
              killed + 6);
    snprintf (cases[1].args, 600, "--connect tcp://127.0.0.1:%d", port);
    snprintf (cases[1].says, 600,
              "no mcpact serve at tcp://127.0.0.1:%d: nothing listens there (connection refused",
              port);
    //  .invalid never resolves (RFC 6761).
    snprintf (cases[2].args, 600, "--connect tcp://no-such-host.invalid:5555");
    snprintf (cases[2].says, 600,
              "no mcpact serve at tcp://no-such-host.invalid:5555: the host "
              "no-such-host.invalid does not resolve");
    snprintf (cases[3].args, 600,
              "--connect %s --curve-key %s/stranger_secret --curve-server %s/gw", curved, dir, dir);
    snprintf (cases[3].says, 600,
              "mcpact serve at %s refused our key (CURVE, status 400): is our public certificate "
              "in its --curve-clients directory?",
              curved);
    const char *commands[] = { "tools", "status", "call echo '{}'" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t j = 0; j < 3; j++) {
            int status;
            int64_t started = ru_now_ms ();
            char *out =
                pu_run (&status, "timeout 60 " CLI " %s %s 2>&1", cases[i].args, commands[j]);
            int64_t took = ru_now_ms () - started;
            CHECK_MSG (status == 1, "%s %s: status %d: %s", cases[i].args, commands[j], status,
                       out);
            CHECK_CONTAINS (out, cases[i].says);
            if (i == 0)
                CHECK_MSG (!strstr (out, "CURVE"), "CURVE advice for ipc://: %s", out);
            //  At once: not at the 15 s wait for an answer.
            CHECK_MSG (took < 5000, "%s %s: said after %lld ms: %s", cases[i].args, commands[j],
                       (long long) took, out);
            free (out);
        }
    close (refuser);
    CHECK (pu_serve_end (pid, out_stream, SIGTERM) == 0);
}

//  A public certificate that is not there (--curve-server, a group's
//  serverKey) is asked for as the peer's certificate: making a key pair
//  here would not give it.
TEST (missing_public_certificate_advice)
{
    const char *dir = pu_tmpdir ();
    int status;
    char *out = pu_run (&status, CLI " keygen %s/me >/dev/null 2>&1", dir);
    CHECK (status == 0);
    free (out);
    out = pu_run (&status,
                  CLI " --connect tcp://127.0.0.1:1 --curve-key %s/me --curve-server %s/short "
                      "tools 2>&1",
                  dir, dir);
    CHECK_MSG (status == 2, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "/short does not exist: give the peer's public certificate");
    CHECK_MSG (!strstr (out, "make a key pair"), "%s", out);
    free (out);
}

//  serve's usage errors print what was wrong and the usage line, not the
//  whole help (as the other commands do).
TEST (serve_usage_error_is_short)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    char cases[4][512];
    snprintf (cases[0], sizeof cases[0], "-c %s --bind ipc://%s/a.sock --curve-key %s/k", config,
              dir, dir);
    snprintf (cases[1], sizeof cases[1], "-c %s --bind ipc://%s/a.sock --bind ipc://%s/a.sock",
              config, dir, dir);
    snprintf (cases[2], sizeof cases[2], "-c %s --bind ipc://%s/a.sock --max-client-calls 0",
              config, dir);
    snprintf (cases[3], sizeof cases[3], "--bind ipc://%s/a.sock", dir);
    const char *said[4] = { "--curve-key and --curve-clients go together", "is given twice",
                            "--max-client-calls wants a whole number >= 1, not '0'",
                            "needs -c FILE" };
    for (size_t i = 0; i < 4; i++) {
        int status;
        char *out = pu_run (&status, CLI " serve %s 2>&1", cases[i]);
        CHECK_MSG (status == 2, "%s: status %d: %s", cases[i], status, out);
        CHECK_CONTAINS (out, said[i]);
        CHECK_CONTAINS (out, "usage: mcpact serve -c FILE --bind ENDPOINT...");
        CHECK_CONTAINS (out, "Try 'mcpact serve --help'");
        CHECK_MSG (!strstr (out, "Starts the servers") && !strstr (out, "--insecure  "),
                   "the whole help for %s: %s", cases[i], out);
        free (out);
    }
}

//  A signal while the servers start is said at once; a second one then
//  ends serve at once, and both lines are there. Cut short, it still
//  leaves neither its socket file nor its server behind.
TEST (two_signals_during_start_up_both_said)
{
    const char *dir = pu_tmpdir ();
    char config[256], pid_file[256], bind[256], err_path[256], command[1024];
    snprintf (config, sizeof config, "%s/slow.json", dir);
    snprintf (pid_file, sizeof pid_file, "%s/fixture.pid", dir);
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    snprintf (err_path, sizeof err_path, "%s/serve.err", dir);
    FILE *file = fopen (config, "w");
    //  It never answers initialize: serve is still starting when the
    //  signals come, however slow the machine.
    fprintf (file,
             "{\"mcpServers\": {\"slow\": {\"command\": \"%s\", \"args\": [\"--pid-file\", "
             "\"%s\", \"--no-answer\"]}}}",
             RU_FIXTURE, pid_file);
    fclose (file);
    snprintf (command, sizeof command, "exec %s serve -c %s --bind %s 2>%s", CLI, config, bind,
              err_path);
    const char *argv[] = { S_DIES_WITH_TEST "/bin/sh", "-c", command, NULL };
    FILE *out;
    pid_t pid = pu_spawn (argv, &out);
    ru_watchdog_arm (60, "the server to start");
    while (!s_fixture_started (dir))
        usleep (20000);
    kill (pid, SIGTERM);
    //  The first signal's line, before the second signal is sent.
    char *said = NULL;
    while (!said || !strstr (said, "Terminated")) {
        free (said);
        usleep (20000);
        int status;
        said = pu_run (&status, "cat %s", err_path);
    }
    kill (pid, SIGINT);
    int status = 0;
    waitpid (pid, &status, 0);
    ru_watchdog_disarm ();
    fclose (out);
    free (said);
    said = pu_run (&status, "cat %s", err_path);
    CHECK_CONTAINS (said, "mcpact serve: Terminated: stopping once the servers have started");
    CHECK_CONTAINS (said, "mcpact serve: Interrupt again: quitting at once");
    free (said);
    char socket_file[256];
    snprintf (socket_file, sizeof socket_file, "%s/mcpact.sock", dir);
    CHECK_MSG (access (socket_file, F_OK) != 0, "%s was left behind", socket_file);
    char *text = pu_run (&status, "cat %s", pid_file);
    long fixture = atol (text);
    free (text);
    ru_watchdog_arm (30, "the server to end with serve");
    while (fixture > 0 && ru_alive (fixture, getpgid ((pid_t) fixture)))
        usleep (20000);
    ru_watchdog_disarm ();
}

//  At SIGTERM, a subscriber of --events hears each server close:
//  SERVER_STATE "stopped" comes before the events endpoint closes.
TEST (events_stopped_at_shutdown)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    char bind[256], events[256];
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    snprintf (events, sizeof events, "ipc://%s/events.sock", dir);
    const char *argv[] = { S_DIES_WITH_TEST CLI, "serve", "-c", config, "--bind", bind,
                           "--events",           events,  NULL };
    FILE *out;
    pid_t pid = pu_spawn (argv, &out);
    char endpoint[256] = "", bound_events[256] = "";
    pu_serve_wait_bound (out, endpoint, sizeof endpoint, bound_events, sizeof bound_events);
    zsock_t *sub = zsock_new_sub (bound_events, "SERVER_STATE");
    zsock_t *client = zsock_new_dealer (endpoint);
    //  A SUB hears only what is published once it is connected: a
    //  server crashed until one of its events is heard says it is.
    ru_watchdog_arm (60, "an event of the crashed server");
    char *event = NULL;
    while (!event) {
        zstr_sendx (client, "CALL", "c", "", "crash", "{}", NULL);
        event = pu_recv_joined (sub, 2000);
        free (pu_recv_joined (client, 0));
    }
    //  And back up, so that the close is its usual one.
    while (!strstr (event, "\"state\":\"ready\"")) {
        free (event);
        event = pu_recv_joined (sub, 30000);
        CHECK_MSG (event, "the crashed server did not come back");
    }
    free (event);
    ru_watchdog_disarm ();
    kill (pid, SIGTERM);
    int stopped = 0;
    while (stopped < 2 && (event = pu_recv_joined (sub, 30000))) {
        if (strstr (event, "SERVER_STATE|fixture|") && strstr (event, "\"state\":\"stopped\""))
            stopped++;
        free (event);
    }
    //  The session's fixture and agent "other"'s own.
    CHECK_MSG (stopped == 2, "%d SERVER_STATE stopped heard, not 2", stopped);
    zsock_destroy (&client);
    zsock_destroy (&sub);
    CHECK (pu_serve_end (pid, out, SIGTERM) == 0);
}

//  Whoever read serve's output went away (`mcpact serve ... | head -1`
//  for the bound line): serve goes on serving, and at SIGTERM, whose
//  message it can no longer print, still closes its server, removes its
//  socket file and exits 0.
TEST (reader_gone_serve_goes_on)
{
    const char *dir = pu_tmpdir ();
    const char *config = s_config (dir);
    char bind[256], socket_path[256];
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    snprintf (socket_path, sizeof socket_path, "%s/mcpact.sock", dir);
    const char *argv[] = { S_DIES_WITH_TEST CLI, "serve", "-c", config, "--bind", bind, NULL };
    //  stdout and stderr on one pipe, as `2>&1 | head -1` gives them
    int fds[2];
    CHECK (pipe (fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2 (&actions, fds[1], 2);
    posix_spawn_file_actions_addclose (&actions, fds[0]);
    pid_t pid = 0;
    CHECK (posix_spawn (&pid, argv[0], &actions, NULL, (char **) argv, environ) == 0);
    posix_spawn_file_actions_destroy (&actions);
    close (fds[1]);
    FILE *out = fdopen (fds[0], "r");
    char endpoint[256] = "";
    pu_serve_wait_bound (out, endpoint, sizeof endpoint, NULL, 0);
    fclose (out); //  the reader goes
    zsock_t *client = zsock_new_dealer (endpoint);
    zstr_sendx (client, "CALL", "1", "", "echo", "{\"message\":\"still here\"}", NULL);
    char *reply = pu_recv_joined (client, 30000);
    CHECK_MSG (reply && strstr (reply, "still here"), "no answer after the reader went: %s",
               reply ? reply : "(none)");
    free (reply);
    zsock_destroy (&client);
    kill (pid, SIGTERM);
    int status = 0;
    ru_watchdog_arm (30, "mcpact serve to end");
    waitpid (pid, &status, 0);
    ru_watchdog_disarm ();
    CHECK_MSG (WIFEXITED (status) && WEXITSTATUS (status) == 0,
               "serve ended with %s %d, not exit 0", WIFEXITED (status) ? "exit" : "signal",
               WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
    CHECK_MSG (access (socket_path, F_OK) != 0, "serve left its socket file behind");
    CHECK (s_fixture_started (dir));
}

//  A signal while `--connect` waits for the daemon's answer (none is
//  listening there) ends it by that signal at once, saying so, instead
//  of after its 15 s wait: it has no servers of its own to close.
TEST (connect_stops_at_a_signal)
{
    int status;
    char *out =
        pu_run (&status, "timeout 10 " CLI " --connect tcp://127.0.0.1:1 tools 2>&1 & pid=$!; "
                         "sleep 0.5; kill -TERM $pid; wait $pid; echo status=$?");
    CHECK_CONTAINS (out, "SIGTERM: stopping");
    CHECK_MSG (strstr (out, "status=143"), "not ended by its SIGTERM: %s", out);
    free (out);
}

//  The serve example of docs/cli.md runs as it is written for a user
//  without XDG_RUNTIME_DIR (root in a container, a service): its
//  directory falls back to one under $HOME.
TEST (docs_serve_example_without_xdg_runtime_dir)
{
    const char *dir = pu_tmpdir ();
    char path[512];
    snprintf (path, sizeof path, "%s/servers.json", dir);
    FILE *file = fopen (path, "w");
    CHECK (file);
    fprintf (file, "{\"mcpServers\": {\"fixture\": {\"command\": \"%s\"}}}", RU_FIXTURE);
    fclose (file);
    //  The first sh block of the section, with mcpact on PATH and
    //  examples/ beside servers.json; serve stopped at its end, also
    //  when a line fails.
    bool zmq = system ("/usr/bin/python3 -c 'import zmq' 2>/dev/null") == 0;
    int status;
    char *out = pu_run (
        &status,
        "cd %s && mkdir home bin && ln -s " CLI " bin/mcpact && ln -s %s/examples examples && "
        "awk '/^## `mcpact serve`/ { section = 1 } section && /^```sh/ { block = 1; next } "
        "block && /^```$/ { exit } block { print }' %s/docs/cli.md | %s > block.sh && "
        "{ echo 'trap \"kill \\$! 2>/dev/null; wait\" EXIT'; cat block.sh; } > run.sh && "
        "cat run.sh",
        dir, MCPACT_SOURCE_DIR, MCPACT_SOURCE_DIR, zmq ? "cat" : "grep -v python3");
    CHECK (status == 0);
    CHECK_CONTAINS (out, "mcpact serve -c servers.json --bind \"ipc://");
    CHECK_MSG (!strstr (out, "tcp://"), "more than the first block: %s", out);
    free (out);
    out = pu_run (&status,
                  "cd %s && env -u XDG_RUNTIME_DIR HOME=%s/home PATH=%s/bin:$PATH timeout 60 sh -e "
                  "run.sh 2>&1",
                  dir, dir, dir);
    CHECK_MSG (status == 0, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "\"text\":\"hi\"");
    if (zmq)
        CHECK_CONTAINS (out, "calls 64 answered 64");
    free (out);
    snprintf (path, sizeof path, "%s/home/.cache/mcpact", dir);
    struct stat info;
    CHECK (stat (path, &info) == 0 && (info.st_mode & 0777) == 0700);
}

//  examples/client.py run by a python3 without pyzmq says what to
//  install and which python3 to use, in one line.
TEST (client_py_without_pyzmq_says_what_to_install)
{
    int status;
    char *out = pu_run (&status,
                        "/usr/bin/python3 -c \"import sys, runpy; sys.modules['zmq'] = None; "
                        "sys.argv = ['client.py', 'ipc:///nowhere']; runpy.run_path('%s', "
                        "run_name='__main__')\" 2>&1",
                        MCPACT_SOURCE_DIR "/examples/client.py");
    CHECK_MSG (status == 1, "status %d: %s", status, out);
    CHECK_CONTAINS (out, "needs pyzmq");
    CHECK_CONTAINS (out, "apt-get install python3-zmq");
    CHECK_MSG (!strstr (out, "Traceback"), "%s", out);
    free (out);
}

//  resources, read, prompts and prompt through a daemon print what they
//  print without --connect, from the reference server server-everything
//  (npm, tests/peers): the daemon answers what the C API returns.
TEST (connect_resources_and_prompts_as_local)
{
    const char *everything = MCPACT_SOURCE_DIR
        "/tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
    const char *node = ru_require_peers (everything, NULL);
    const char *dir = pu_tmpdir ();
    char config[256], text[1024], bind[256];
    snprintf (config, sizeof config, "%s/everything.json", dir);
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"everything\": {\"command\": \"%s\", \"args\": [\"%s\", "
              "\"stdio\"], \"timeouts\": {\"connect\": 30000}}}}",
              node, everything);
    pu_write (config, text);
    snprintf (bind, sizeof bind, "ipc://%s/mcpact.sock", dir);
    const char *argv[] = {
        S_DIES_WITH_TEST CLI, "serve", "-q", "-c", config, "--bind", bind, NULL
    };
    FILE *stream;
    pid_t pid = pu_spawn (argv, &stream);
    char endpoint[256] = "";
    pu_serve_wait_bound (stream, endpoint, sizeof endpoint, NULL, 0);
    const char *commands[] = {
        "--json resources",
        "--json prompts",
        "read demo://resource/static/document/architecture.md",
        "--json prompt args-prompt city=Paris",
        "prompt args-prompt",                           //  a required argument missing
        "--server everything read demo://nothing/here", //  the server's own error
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        int local_status, remote_status;
        char *local =
            pu_run (&local_status, "timeout 120 " CLI " -q -c %s %s 2>&1", config, commands[i]);
        char *remote = pu_run (&remote_status, "timeout 120 " CLI " --connect %s %s 2>&1", endpoint,
                               commands[i]);
        CHECK_MSG (local_status == remote_status, "%s: exit %d here, %d through the daemon: %s",
                   commands[i], local_status, remote_status, remote);
        CHECK_MSG (strcmp (local, remote) == 0, "%s:\n--- without --connect:\n%s--- with it:\n%s",
                   commands[i], local, remote);
        CHECK_MSG (i > 3 || local_status == 0, "%s: exit %d: %s", commands[i], local_status, local);
        free (local);
        free (remote);
    }
    CHECK (pu_serve_end (pid, stream, SIGTERM) == 0);
}
