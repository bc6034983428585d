/*  =========================================================================
    serve - `mcpact serve` (a session behind the public message protocol)
    and `mcpact keygen` (a CURVE key pair)

    serve binds every --bind and --events endpoint (a wrong one ends it
    before any server starts), starts the session of a configuration file
    and its agents once, then answers the protocol (gateway/gateway.c) at
    each --bind endpoint and publishes events at --events, until SIGINT,
    SIGTERM or SIGHUP. Those are blocked in every thread before the runtime
    starts (its threads inherit the mask) and taken with sigwait by a thread
    of serve's own, which tells the main thread of the first one through a
    pipe: the gateway stops taking calls and answers those in flight with an
    error, then every server is closed with the full close sequence, and
    serve exits 0. A first signal while the servers start stops serve once
    the start is over, without answering anything at the endpoints it holds
    (nothing is printed as bound); a second signal then ends serve at once
    (128 + the signal). Once up, further signals do not cut the close
    sequence short (a supervisor may send SIGTERM twice). The main thread
    and the signal thread share only s_first_signal, s_starting and the
    pipe; uses only the public API.
    =========================================================================
*/

#include "serve.h"

#include "endpoint.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVE_MAX_BINDS 16

//  The usage line, which a usage error prints after what was wrong, and
//  the help, which --help prints after it.
static const char *s_serve_usage_line =
    "usage: mcpact serve -c FILE --bind ENDPOINT... [--events ENDPOINT]\n"
    "                    [--curve-key KEYFILE --curve-clients DIR] [--insecure]\n"
    "                    [--max-client-calls N] [--max-calls N] [-v | -q]\n"
    "                    [--elicitation] [--sampling]\n";
static const char *s_serve_usage =
    "\n"
    "Starts the servers and agents of FILE once and answers the mcpact message\n"
    "protocol (docs/protocol.md) at each ENDPOINT (ipc://PATH, tcp://HOST:PORT)\n"
    "until SIGINT or SIGTERM. Every ENDPOINT is bound before a server starts (a\n"
    "wrong one: exit 2 at once); 'bound ENDPOINT' (and 'events ENDPOINT') is\n"
    "printed on stdout once the servers have started and it answers there.\n"
    "\n"
    "  -c, --config FILE       the servers and agents (docs/config.md)\n"
    "  --bind ENDPOINT         where clients connect (several allowed)\n"
    "  --events ENDPOINT       where events are published (PUB)\n"
    "  --curve-key KEYFILE     the gateway's key pair (mcpact keygen): tcp://\n"
    "                          endpoints then use CURVE\n"
    "  --curve-clients DIR     the public certificates of the clients let in\n"
    "  --insecure              allow tcp:// beyond loopback without CURVE\n"
    "  --max-client-calls N    calls in flight per client (default 1024)\n"
    "  --max-calls N           calls in flight in all (default 65536)\n"
    "  --elicitation           offer elicitation to the servers; a client that says\n"
    "                          HANDLE answers it (ASK/ANSWER, docs/protocol.md)\n"
    "  --sampling              the same for sampling\n";

//  The first of SIGINT, SIGTERM, SIGHUP that came (0: none yet), and the
//  pipe the signal thread writes one byte to when it comes.
static atomic_int s_first_signal;
//  Whether the servers are still starting (a second signal then ends
//  serve at once; once up, the close sequence, bounded, is let finish).
static atomic_bool s_starting = true;
static int s_signal_pipe[2] = { -1, -1 };
//  Whether the first signal's line was said by the signal thread (it came
//  while the servers started), and whether to say it (not with -q).
static atomic_bool s_first_said;
static bool s_quiet;
//  The ipc:// socket files bound while the servers start, for a second
//  signal to remove before it ends serve (the gateway removes them at
//  its stop, which that signal cuts short). Under s_files_lock.
static pthread_mutex_t s_files_lock = PTHREAD_MUTEX_INITIALIZER;
static endpoint_file_t *s_files[SERVE_MAX_BINDS + 1];

//  With `remove`, removes the socket files noted (if still ours); frees
//  the notes.
static void
s_files_forget (bool remove)
{
    pthread_mutex_lock (&s_files_lock);
    for (int i = 0; i <= SERVE_MAX_BINDS; i++) {
        if (s_files[i] && remove)
            endpoint_file_remove (&s_files[i]);
        else if (s_files[i])
            endpoint_file_forget (&s_files[i]);
    }
    pthread_mutex_unlock (&s_files_lock);
}

//  Takes the daemon's signals, in the order they come (sigwait in the
//  main thread would take the lowest-numbered pending one first).
static void *
s_signal_thread (void *args)
{
    sigset_t *signals = (sigset_t *) args;
    while (true) {
        int sig = 0;
        if (sigwait (signals, &sig) != 0)
            continue;
        int none = 0;
        if (atomic_compare_exchange_strong (&s_first_signal, &none, sig)) {
            //  Said now, not once the start ends: a second signal may
            //  end serve before that.
            if (atomic_load (&s_starting) && !s_quiet) {
                fprintf (stderr,
                         "mcpact serve: %s: stopping once the servers have started (a second "
                         "signal quits at once)\n",
                         strsignal (sig));
                atomic_store (&s_first_said, true);
            }
            char byte = 1;
            if (write (s_signal_pipe[1], &byte, 1) < 0)
                _exit (128 + sig);
        } else if (atomic_load (&s_starting)) {
            //  The second: the user does not want to wait for the
            //  servers' start to end.
            fprintf (stderr, "mcpact serve: %s again: quitting at once\n", strsignal (sig));
            s_files_forget (true);
            _exit (128 + sig);
        }
    }
    return NULL;
}

static int
s_usage (const char *format, const char *value)
{
    fprintf (stderr, "mcpact serve: ");
    fprintf (stderr, format, value);
    fprintf (stderr, "\n%sTry 'mcpact serve --help' for more information.\n", s_serve_usage_line);
    return 2;
}

int
cli_serve (int argc, char *argv[])
{
    const char *config = NULL, *events = NULL, *key = NULL, *clients = NULL;
    const char *binds[SERVE_MAX_BINDS];
    int binds_count = 0, verbose = 0;
    bool insecure = false, quiet = false, elicitation = false, sampling = false;
    long max_client_calls = 0, max_calls = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = streq (arg, "-c") || streq (arg, "--config") || streq (arg, "--bind") ||
                     streq (arg, "--events") || streq (arg, "--curve-key") ||
                     streq (arg, "--curve-clients") || streq (arg, "--max-client-calls") ||
                     streq (arg, "--max-calls");
        if (takes && !value)
            return s_usage ("%s needs a value", arg);
        if (takes)
            i++;
        if (streq (arg, "-h") || streq (arg, "--help")) {
            fputs (s_serve_usage_line, stdout);
            fputs (s_serve_usage, stdout);
            return 0;
        } else if (streq (arg, "-c") || streq (arg, "--config"))
            config = value;
        else if (streq (arg, "--bind")) {
            if (binds_count == SERVE_MAX_BINDS)
                return s_usage ("at most 16 --bind, not more (%s)", value);
            binds[binds_count++] = value;
        } else if (streq (arg, "--events"))
            events = value;
        else if (streq (arg, "--curve-key"))
            key = value;
        else if (streq (arg, "--curve-clients"))
            clients = value;
        else if (streq (arg, "--max-client-calls") || streq (arg, "--max-calls")) {
            char *end;
            long number = strtol (value, &end, 10);
            if (*end || number < 1 || number > 1000000000) {
                char message[256];
                snprintf (message, sizeof message, "%s wants a whole number >= 1, not '%s'", arg,
                          value);
                return s_usage ("%s", message);
            }
            *(streq (arg, "--max-calls") ? &max_calls : &max_client_calls) = number;
        } else if (streq (arg, "--insecure"))
            insecure = true;
        else if (streq (arg, "--elicitation"))
            elicitation = true;
        else if (streq (arg, "--sampling"))
            sampling = true;
        else if (streq (arg, "-v") || streq (arg, "--verbose"))
            verbose++;
        else if (streq (arg, "-q") || streq (arg, "--quiet"))
            quiet = true;
        else
            return s_usage ("unknown argument '%s'", arg);
    }
    if (!config)
        return s_usage ("%s", "needs -c FILE (the servers to serve)");
    if (binds_count == 0)
        return s_usage ("%s", "needs at least one --bind ENDPOINT");
    if (!key != !clients)
        return s_usage ("%s", "--curve-key and --curve-clients go together");
    if (quiet && verbose)
        return s_usage ("%s", "-v and -q go against each other: give one");
    for (int i = 0; i <= binds_count; i++)
        for (int j = 0; j < i; j++) {
            const char *endpoint = i < binds_count ? binds[i] : events;
            //  A tcp:// port of * or 0 is any free port: two such are two.
            size_t size = endpoint ? strlen (endpoint) : 0;
            bool any_port =
                size > 2 && strncmp (endpoint, "tcp://", 6) == 0 &&
                (streq (endpoint + size - 2, ":*") || streq (endpoint + size - 2, ":0"));
            if (endpoint && !any_port && streq (endpoint, binds[j]))
                return s_usage ("%s is given twice (each endpoint once, --bind or --events)",
                                endpoint);
        }

    //  startLater: every endpoint is bound before a server starts.
    json_t *options = json_pack ("{s:b,s:b,s:b,s:b}", "insecure", insecure, "elicitation",
                                 elicitation, "sampling", sampling, "startLater", true);
    if (key)
        json_object_set_new (options, "curve",
                             json_pack ("{s:s,s:s}", "certificate", key, "clients", clients));
    if (max_client_calls)
        json_object_set_new (options, "maxClientCalls", json_integer (max_client_calls));
    if (max_calls)
        json_object_set_new (options, "maxCalls", json_integer (max_calls));
    char *options_text = json_dumps (options, JSON_COMPACT);
    json_decref (options);

    mcpact_set_log (NULL, NULL,
                    quiet          ? MCPACT_LOG_ERROR
                    : verbose > 1  ? MCPACT_LOG_DEBUG
                    : verbose == 1 ? MCPACT_LOG_INFO
                                   : MCPACT_LOG_WARN);
    //  No thread here waits on a call as a host thread does; spinning
    //  before sleeping (MCPACT_SPIN_US) would only take CPU from the
    //  servers and the clients (bench_serve: more calls/s without it).
    setenv ("MCPACT_SPIN_US", "0", 0);
    //  The daemon's signals, taken by sigwait below: blocked before any
    //  thread starts, so that every thread inherits the mask.
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    //  A daemon outlives whoever reads what it prints (`| head -1` for
    //  the bound line, a closed terminal): with SIGPIPE blocked a write
    //  to them fails with EPIPE instead of ending serve before its servers
    //  are closed and its socket files removed. Its servers start with
    //  their signals at the defaults and none blocked (spawner.c).
    sigset_t pipe_only;
    sigemptyset (&pipe_only);
    sigaddset (&pipe_only, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &pipe_only, NULL);
    pthread_t signal_thread;
    s_quiet = quiet;
    if (pipe (s_signal_pipe) != 0 ||
        pthread_create (&signal_thread, NULL, s_signal_thread, &signals) != 0) {
        fprintf (stderr, "mcpact serve: cannot wait for signals: %s\n", strerror (errno));
        free (options_text);
        return 1;
    }
    pthread_detach (signal_thread);

    int rc = 0;
    char *error = NULL;
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    if (!runtime)
        rc = 1;
    mcpact_session_t *session = runtime ? mcpact_session_load (runtime, config, &error) : NULL;
    mcpact_gateway_t *gateway = NULL;
    if (!runtime)
        fprintf (stderr, "mcpact serve: could not start the runtime\n");
    else if (!session) {
        fprintf (stderr, "mcpact serve: %s\n", error ? error : "could not load the configuration");
        rc = 2;
    } else if (!(gateway = mcpact_gateway_new (session, options_text, &error))) {
        fprintf (stderr, "mcpact serve: %s\n", error ? error : "could not start the gateway");
        rc = 2;
    }
    free (error);
    free (options_text);
    //  Every endpoint is bound before any server starts, so that a wrong
    //  one is said at once; nothing is answered there until they have.
    char *bound[SERVE_MAX_BINDS + 1] = { NULL };
    for (int i = 0; gateway && rc == 0 && i <= binds_count; i++) {
        const char *endpoint = i < binds_count ? binds[i] : events;
        if (!endpoint)
            continue;
        error = NULL;
        int bind_rc = i < binds_count
                          ? mcpact_gateway_bind (gateway, endpoint, &bound[i], &error)
                          : mcpact_gateway_bind_events (gateway, endpoint, &bound[i], &error);
        if (bind_rc != 0) {
            fprintf (stderr, "mcpact serve: %s; no server was started\n", error ? error : endpoint);
            rc = 2;
        } else {
            pthread_mutex_lock (&s_files_lock);
            s_files[i] = endpoint_file_note (bound[i]);
            pthread_mutex_unlock (&s_files_lock);
        }
        free (error);
    }
    if (gateway && rc == 0 && !atomic_load (&s_first_signal) &&
        mcpact_gateway_start (gateway) != 0) {
        fprintf (stderr, "mcpact serve: cannot serve the agents (see the log)\n");
        rc = 1;
    }
    //  A signal while the servers started: stop now, nothing answered.
    for (int i = 0; gateway && rc == 0 && !atomic_load (&s_first_signal) && i <= binds_count; i++)
        if (bound[i]) {
            printf ("%s %s\n", i < binds_count ? "bound" : "events", bound[i]);
            fflush (stdout);
        }
    for (int i = 0; i <= binds_count; i++)
        free (bound[i]);
    atomic_store (&s_starting, false);
    s_files_forget (false);
    if (gateway && rc == 0) {
        char byte;
        while (read (s_signal_pipe[0], &byte, 1) < 0 && errno == EINTR)
            ;
        int sig = atomic_load (&s_first_signal);
        if (!quiet && !atomic_load (&s_first_said))
            fprintf (stderr,
                     "mcpact serve: %s: stopping (calls in flight are answered, "
                     "servers closed)\n",
                     strsignal (sig));
        mcpact_gateway_stop (gateway);
    }
    //  The servers close before the events endpoint does: subscribers
    //  see each one's SERVER_STATE "stopped".
    if (gateway)
        mcpact_gateway_destroy_with_session (&gateway, &session);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return rc;
}

//  --------------------------------------------------------------------------
//  keygen PATH: PATH (the public certificate, to hand out) and PATH_secret
//  (the key pair, mode 0600).

int
cli_keygen (int argc, char *argv[])
{
    if (argc != 2 || argv[1][0] == '-') {
        bool help = argc == 2 && (streq (argv[1], "-h") || streq (argv[1], "--help"));
        fprintf (help ? stdout : stderr,
                 "usage: mcpact keygen PATH\n"
                 "Writes a CURVE key pair: PATH, the public certificate (give it to\n"
                 "the other side: a client's goes in the gateway's --curve-clients\n"
                 "directory), and PATH_secret, the key pair (keep it; mode 0600).\n");
        return help ? 0 : 2;
    }
    const char *path = argv[1];
    if (!*path) {
        fprintf (stderr, "mcpact keygen: the PATH is empty; give the file to write\n");
        return 2;
    }
    char secret[4096];
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (access (path, F_OK) == 0 || access (secret, F_OK) == 0) {
        fprintf (stderr, "mcpact keygen: %s or %s exists already; not overwritten\n", path, secret);
        return 1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, "mcpact keygen: cannot make a key pair (libzmq without CURVE?)\n");
        return 1;
    }
    zcert_set_meta (cert, "created-by", "mcpact keygen");
    mode_t mask = umask (077);
    int rc = zcert_save (cert, path);
    umask (mask);
    if (rc == 0)
        chmod (path, 0644);
    if (rc != 0)
        fprintf (stderr, "mcpact keygen: cannot write %s: %s\n", path, strerror (errno));
    else
        printf ("%s\n", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return rc == 0 ? 0 : 1;
}
