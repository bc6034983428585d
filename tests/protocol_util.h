/*  =========================================================================
    protocol_util - helpers for tests that speak the public message
    protocol: a private directory for sockets and files, a gateway in the
    test's process, `mcpact serve` as a process, and requests and replies
    as joined frames

    A test file may define PU_NAME (names its directories,
    /tmp/mcpact-PU_NAME-XXXXXX) and PU_ASK_MS (how long pu_ask waits for
    a reply) before it includes this. Each case runs in a process of its
    own; the helpers keep the last directory made in pu_dir and remove it
    at exit. Used from the test's main thread; every helper fails the
    test through CHECK on anything unexpected. Returned strings are the
    caller's.
    =========================================================================
*/

#ifndef MCPACT_PROTOCOL_UTIL_H_INCLUDED
#define MCPACT_PROTOCOL_UTIL_H_INCLUDED

#include "runtime_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <czmq.h>
#include <spawn.h>

#ifndef PU_NAME
#define PU_NAME "test"
#endif
#ifndef PU_ASK_MS
#define PU_ASK_MS 10000
#endif

#define PU_CLI MCPACT_BUILD_DIR "/mcpact"

extern char **environ;

static char pu_dir[64];

static inline void
pu_remove_dir (void)
{
    char command[128];
    snprintf (command, sizeof command, "rm -rf '%s'", pu_dir);
    if (system (command) != 0)
        fprintf (stderr, "could not remove %s\n", pu_dir);
}

//  A private directory (mkdtemp: 0700, ours) for sockets, keys and
//  files, removed at exit.
static inline const char *
pu_tmpdir (void)
{
    snprintf (pu_dir, sizeof pu_dir, "/tmp/mcpact-" PU_NAME "-XXXXXX");
    CHECK (mkdtemp (pu_dir) != NULL);
    atexit (pu_remove_dir);
    return pu_dir;
}

//  Writes `text` to the file at `path` (a configuration, a key).
static inline void
pu_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    CHECK (file);
    fputs (text, file);
    fclose (file);
}

//  The next message on `sock` as one string "F1|F2|...", or NULL after
//  `timeout_ms`.
static inline char *
pu_recv_joined (zsock_t *sock, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    bool ready = zpoller_wait (poller, timeout_ms) != NULL;
    zpoller_destroy (&poller);
    if (!ready)
        return NULL;
    zmsg_t *msg = zmsg_recv (sock);
    char *joined = strdup ("");
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg)) {
        char *text = zframe_strdup (frame);
        char *next = zsys_sprintf ("%s%s%s", joined, *joined ? "|" : "", text);
        free (joined);
        zstr_free (&text);
        joined = strdup (next);
        zstr_free (&next);
    }
    zmsg_destroy (&msg);
    return joined;
}

//  Sends the frames (a NULL-terminated list) and returns the reply
//  joined, or NULL after PU_ASK_MS.
static inline char *
pu_ask (zsock_t *sock, const char *first, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, first);
    for (const char *frame = first; frame; frame = va_arg (args, const char *))
        zmsg_addstr (msg, frame);
    va_end (args);
    zmsg_send (&msg, sock);
    return pu_recv_joined (sock, PU_ASK_MS);
}

//  Runs a shell command; returns its stdout (malloc'ed) and sets *status.
static inline char *
pu_run (int *status, const char *format, ...)
{
    char command[4096];
    va_list args;
    va_start (args, format);
    vsnprintf (command, sizeof command, format, args);
    va_end (args);
    FILE *pipe = popen (command, "r");
    CHECK (pipe);
    size_t size = 0, max = 65536;
    char *out = (char *) malloc (max);
    size_t got;
    while ((got = fread (out + size, 1, max - size - 1, pipe)) > 0)
        size += got;
    out[size] = 0;
    int rc = pclose (pipe);
    *status = WIFEXITED (rc) ? WEXITSTATUS (rc) : 128 + WTERMSIG (rc);
    return out;
}

//  Skips the case (status 77) on a machine without IPv6 loopback (::1).
static inline void
pu_require_ipv6 (void)
{
    int status = 0;
    char *out = pu_run (&status, "ip -6 addr show lo 2>/dev/null");
    bool has = status == 0 && strstr (out, "::1") != NULL;
    free (out);
    if (!has)
        SKIP ("this machine has no IPv6 loopback (::1)");
}

//  --------------------------------------------------------------------------
//  A gateway in this process

typedef struct {
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_gateway_t *gateway;
    char *endpoint; //  requests, as bound
    char *events;   //  the PUB, as bound (NULL: none)
} pu_gw_t;

//  A gateway with `options` (NULL: none) on the session of `config` (a
//  configuration's JSON text), bound at ipc://DIR/gw.sock in a new
//  private directory, and with `events` at ipc://DIR/events.sock.
static inline void
pu_gw_start (pu_gw_t *self, const char *config, const char *options, bool events)
{
    memset (self, 0, sizeof *self);
    self->runtime = mcpact_runtime_new ();
    char *error = NULL;
    self->session = mcpact_session_load_string (self->runtime, config, "test", &error);
    CHECK_MSG (self->session, "%s", error);
    self->gateway = mcpact_gateway_new (self->session, options, &error);
    CHECK_MSG (self->gateway, "%s", error);
    const char *dir = pu_tmpdir ();
    char bind[256];
    snprintf (bind, sizeof bind, "ipc://%s/gw.sock", dir);
    CHECK_MSG (mcpact_gateway_bind (self->gateway, bind, &self->endpoint, &error) == 0, "%s",
               error);
    if (events) {
        snprintf (bind, sizeof bind, "ipc://%s/events.sock", dir);
        CHECK_MSG (mcpact_gateway_bind_events (self->gateway, bind, &self->events, &error) == 0,
                   "%s", error);
    }
}

static inline void
pu_gw_stop (pu_gw_t *self)
{
    mcpact_gateway_destroy (&self->gateway);
    mcpact_session_destroy (&self->session);
    mcpact_runtime_destroy (&self->runtime);
    free (self->endpoint);
    free (self->events);
}

//  --------------------------------------------------------------------------
//  `mcpact serve` as a process

//  Starts argv[0] with `argv` (NULL-terminated), its stdout on a pipe
//  returned in *out, and returns its pid.
static inline pid_t
pu_spawn (const char *const *argv, FILE **out)
{
    int pipe_fds[2];
    CHECK (pipe (pipe_fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_addclose (&actions, pipe_fds[0]);
    pid_t pid = 0;
    CHECK (posix_spawn (&pid, argv[0], &actions, NULL, (char **) argv, environ) == 0);
    posix_spawn_file_actions_destroy (&actions);
    close (pipe_fds[1]);
    *out = fdopen (pipe_fds[0], "r");
    return pid;
}

//  Reads serve's stdout until it has said where it is bound (the first
//  "bound" line) and, if `events` is not NULL, where it publishes.
static inline void
pu_serve_wait_bound (FILE *out, char *endpoint, size_t size, char *events, size_t events_size)
{
    //  Its servers start first: node ones take a while on a loaded machine.
    ru_watchdog_arm (90, "mcpact serve to start");
    char line[240];
    while ((!*endpoint || (events && !*events)) && fgets (line, sizeof line, out)) {
        line[strcspn (line, "\n")] = 0;
        if (strncmp (line, "bound ", 6) == 0 && !*endpoint)
            snprintf (endpoint, size, "%s", line + 6);
        if (events && strncmp (line, "events ", 7) == 0)
            snprintf (events, events_size, "%s", line + 7);
    }
    ru_watchdog_disarm ();
    CHECK_MSG (*endpoint, "mcpact serve did not say where it is bound");
}

//  CURVE keys in `dir` (`mcpact keygen`): the group's key pair `group`,
//  the session's `session`, and the allow-list `clients` (mode 0700)
//  holding the session's certificate.
typedef struct {
    char group[256];   //  the group's key pair (PATH, with PATH_secret)
    char clients[256]; //  the group's --curve-clients
    char session[256]; //  the session's key pair file (PATH_secret)
} pu_curve_t;

static inline void
pu_curve_keys (pu_curve_t *self, const char *dir)
{
    char command[2048];
    snprintf (command, sizeof command,
              "mkdir -m 700 %s/clients && " PU_CLI " keygen %s/group >/dev/null && " PU_CLI
              " keygen %s/session >/dev/null && cp %s/session %s/clients/",
              dir, dir, dir, dir, dir);
    CHECK (system (command) == 0);
    snprintf (self->group, sizeof self->group, "%s/group", dir);
    snprintf (self->clients, sizeof self->clients, "%s/clients", dir);
    snprintf (self->session, sizeof self->session, "%s/session_secret", dir);
}

//  A port on 127.0.0.1 nothing listens at: bound here (so that nobody
//  else takes it meanwhile), never listened on, so connections to it are
//  refused. Returns the port; *fd is the socket, to close at the end.
static inline int
pu_refused_port (int *fd)
{
    *fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t size = sizeof address;
    CHECK (*fd >= 0 && bind (*fd, (struct sockaddr *) &address, sizeof address) == 0);
    CHECK (getsockname (*fd, (struct sockaddr *) &address, &size) == 0);
    return ntohs (address.sin_port);
}

//  Sends `signal_number` to serve, waits for it to end and closes its
//  stdout; returns its exit status (128 + the signal that ended it).
static inline int
pu_serve_end (pid_t pid, FILE *out, int signal_number)
{
    kill (pid, signal_number);
    int status = 0;
    ru_watchdog_arm (30, "mcpact serve to end");
    waitpid (pid, &status, 0);
    ru_watchdog_disarm ();
    fclose (out);
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

#endif
