/*  =========================================================================
    bench_serve - calls through the message gateway (mcpact serve) beside
    the same calls in process

    For each transport asked for (inproc: one bench server and the C API's
    callers in this process; ipc, tcp, curve: `mcpact serve` on one bench
    server, bound there, and DEALER clients speaking the public protocol),
    measures: calls/s with one client keeping 64 calls in flight, calls/s
    with 16 clients keeping 16 in flight each, the latency of calls made
    one after another by one client (p50, p99), of a PING (the floor of
    any request), and of the same PINGs to a bare ROUTER in a process of
    its own that answers them at once (this program again, --echo:
    ZeroMQ between two processes, the floor of the PING figure); and
    PINGs/s with 64 in flight, to the gateway and to the bare ROUTER: the
    most calls/s the transport leaves room for. Clients are threads, each
    with its own socket. Prints one self-describing line per transport
    (--json for JSON lines). A call that does not succeed makes the
    program fail.

      bench_serve [-n CALLS] [-w WARMUP] [-s SEQUENTIAL] [--only T,...]
                  [--fixture PATH] [--json]

    The clients of mcpact serve run in a process of their own (this program
    again, --client), so that client and daemon have a ZeroMQ I/O thread
    each. Threads share only the barrier and the agent (thread-safe); each
    writes its own slot of the results.
    =========================================================================
*/

#include "mcpact.h"
#include "bench.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

//  `mcpact serve`, built beside this program.
#define BENCH_CLI MCPACT_BUILD_DIR "/mcpact"

#define ARGS "{\"message\":\"hello\"}"

typedef struct {
    const char *transport;      //  inproc, ipc, tcp, curve
    const char *endpoint;       //  the gateway's, unless inproc
    zcert_t *server_cert;       //  curve: the gateway's public key
    zcert_t *client_cert;       //  curve: ours
    mcpact_agent_t *agent;      //  inproc
    pthread_barrier_t *barrier; //  the threads start timing together
    int in_flight;              //  this client's calls in flight
    long warmup, calls;         //  this client's
    double *latencies;          //  sequential: one per call, in µs
    bool ping;                  //  PING instead of CALL: the transport and gateway alone
    double end_us;              //  when its last answer came
    long failed;                //  calls that did not succeed
} s_client_t;

//  In process: a caller with `in_flight` calls in flight, or (1 in
//  flight, latencies wanted) blocking calls, as a host makes them.
static void
s_run_inproc (s_client_t *self, mcpact_caller_t *caller, long total, bool timed)
{
    if (self->latencies && timed) {
        for (long i = 0; i < total; i++) {
            double start = bench_now_us ();
            mcpact_result_t *result = mcpact_agent_call (self->agent, "echo", ARGS, 0);
            self->latencies[i] = bench_now_us () - start;
            self->failed += mcpact_result_status (result) != MCPACT_OK;
            mcpact_result_destroy (&result);
        }
        return;
    }
    long sent = 0, done = 0;
    while (done < total) {
        while (sent < total && sent - done < self->in_flight) {
            mcpact_caller_send (caller, "echo", ARGS, 0);
            sent++;
        }
        mcpact_result_t *result = mcpact_caller_next (caller, -1);
        if (!result)
            continue;
        self->failed += mcpact_result_status (result) != MCPACT_OK;
        mcpact_result_destroy (&result);
        done++;
    }
}

//  Through the gateway: CALL id "" echo args, matched by id.
static void
s_run_gateway (s_client_t *self, zsock_t *sock, long total, bool timed)
{
    void *socket = zsock_resolve (sock);
    long sent = 0, done = 0;
    double *started = (double *) calloc ((size_t) self->in_flight, sizeof (double));
    while (done < total) {
        while (sent < total && sent - done < self->in_flight) {
            char id[24];
            int size = snprintf (id, sizeof id, "%ld", sent % self->in_flight);
            if (self->latencies)
                started[sent % self->in_flight] = bench_now_us ();
            if (self->ping) {
                zmq_send (socket, "PING", 4, ZMQ_SNDMORE);
                zmq_send (socket, id, (size_t) size, 0);
                sent++;
                continue;
            }
            zmq_send (socket, "CALL", 4, ZMQ_SNDMORE);
            zmq_send (socket, id, (size_t) size, ZMQ_SNDMORE);
            zmq_send (socket, "", 0, ZMQ_SNDMORE);
            zmq_send (socket, "echo", 4, ZMQ_SNDMORE);
            zmq_send (socket, ARGS, strlen (ARGS), 0);
            sent++;
        }
        //  RESULT id status payload
        zmq_msg_t parts[4];
        int count = 0, more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, socket, 0) < 0) {
                zmq_msg_close (&part);
                break;
            }
            more = zmq_msg_more (&part);
            if (count < 4)
                parts[count++] = part;
            else
                zmq_msg_close (&part);
        }
        bool ok = self->ping ? count == 2 && zmq_msg_size (&parts[0]) == 4
                             : count == 4 && zmq_msg_size (&parts[2]) == 1 &&
                                   *(char *) zmq_msg_data (&parts[2]) == '0';
        if (self->latencies && timed && count >= 2) {
            char id[24];
            size_t size = zmq_msg_size (&parts[1]) < 23 ? zmq_msg_size (&parts[1]) : 23;
            memcpy (id, zmq_msg_data (&parts[1]), size);
            id[size] = 0;
            self->latencies[done] = bench_now_us () - started[atol (id)];
        }
        for (int i = 0; i < count; i++)
            zmq_msg_close (&parts[i]);
        self->failed += !ok;
        done++;
    }
    free (started);
}

static void *
s_client (void *arg)
{
    s_client_t *self = (s_client_t *) arg;
    bool inproc = streq (self->transport, "inproc");
    mcpact_caller_t *caller = inproc ? mcpact_caller_new (self->agent) : NULL;
    zsock_t *sock = NULL;
    if (!inproc) {
        sock = zsock_new (ZMQ_DEALER);
        zsock_set_sndhwm (sock, 0);
        zsock_set_rcvhwm (sock, 0);
        if (self->client_cert) {
            zcert_apply (self->client_cert, sock);
            zsock_set_curve_serverkey (sock, zcert_public_txt (self->server_cert));
        }
        zsock_connect (sock, "%s", self->endpoint);
    }
    for (int round = 0; round < 2; round++) {
        long total = round ? self->calls : self->warmup;
        if (round)
            pthread_barrier_wait (self->barrier);
        if (inproc)
            s_run_inproc (self, caller, total, round == 1);
        else
            s_run_gateway (self, sock, total, round == 1);
    }
    self->end_us = bench_now_us ();
    mcpact_caller_destroy (&caller);
    zsock_destroy (&sock);
    return NULL;
}

//  Runs `clients` clients with `in_flight` each; returns calls/s, and
//  with `latencies` (one client) fills them.
static double
s_measure (s_client_t *proto, int clients, int in_flight, long calls, long warmup,
           double *latencies, long *failed)
{
    pthread_barrier_t barrier;
    pthread_barrier_init (&barrier, NULL, (unsigned) clients + 1);
    s_client_t *slots = (s_client_t *) calloc ((size_t) clients, sizeof (s_client_t));
    pthread_t *threads = (pthread_t *) calloc ((size_t) clients, sizeof (pthread_t));
    for (int i = 0; i < clients; i++) {
        slots[i] = *proto;
        slots[i].barrier = &barrier;
        slots[i].in_flight = in_flight;
        slots[i].calls = calls / clients;
        slots[i].warmup = warmup / clients;
        slots[i].latencies = latencies;
        pthread_create (&threads[i], NULL, s_client, &slots[i]);
    }
    pthread_barrier_wait (&barrier);
    double start = bench_now_us (), end = start;
    for (int i = 0; i < clients; i++) {
        pthread_join (threads[i], NULL);
        end = slots[i].end_us > end ? slots[i].end_us : end;
        *failed += slots[i].failed;
    }
    pthread_barrier_destroy (&barrier);
    free (slots);
    free (threads);
    return (double) (calls / clients * clients) / ((end - start) / 1e6);
}

//  The client side of a gateway run, in a process of its own (as a client
//  of mcpact serve is): bench_serve --client TRANSPORT ENDPOINT CLIENTS
//  IN_FLIGHT CALLS WARMUP MODE DIR. Prints "rate R" or, for MODE 1 and
//  2, "latency P50 P99"; exits 1 if a call failed.
static int
s_client_main (char *argv[])
{
    //  Once, before the client threads make sockets (CZMQ sets up its
    //  context on first use, and not from several threads at once).
    zsys_init ();
    s_client_t proto = { .transport = argv[0], .endpoint = argv[1] };
    int clients = atoi (argv[2]), in_flight = atoi (argv[3]);
    long calls = atol (argv[4]), warmup = atol (argv[5]);
    //  0: calls, for calls/s; 1: one call at a time, for latencies; 2:
    //  PINGs one at a time; 3: PINGs, for requests/s
    int mode = atoi (argv[6]);
    bool sequential = mode == 1 || mode == 2;
    proto.ping = mode >= 2;
    char path[256];
    if (streq (proto.transport, "curve")) {
        snprintf (path, sizeof path, "%s/server", argv[7]);
        proto.server_cert = zcert_load (path);
        snprintf (path, sizeof path, "%s/client", argv[7]);
        proto.client_cert = zcert_load (path);
    }
    long failed = 0;
    double *latencies = sequential ? (double *) calloc ((size_t) calls, sizeof (double)) : NULL;
    double rate = s_measure (&proto, clients, in_flight, calls, warmup, latencies, &failed);
    if (latencies) {
        bench_sort (latencies, (size_t) calls);
        printf ("latency %.1f %.1f\n", bench_quantile (latencies, (size_t) calls, 0.5),
                bench_quantile (latencies, (size_t) calls, 0.99));
    } else
        printf ("rate %.0f\n", rate);
    free (latencies);
    zcert_destroy (&proto.server_cert);
    zcert_destroy (&proto.client_cert);
    return failed ? 1 : 0;
}

//  Runs a client process; returns its first number (and the second in
//  *second), or -1.
static double
s_run_client (const char *self_path, const char *transport, const char *endpoint, int clients,
              int in_flight, long calls, long warmup, int sequential, const char *dir,
              double *second, long *failed)
{
    char command[1024];
    snprintf (command, sizeof command, "'%s' --client %s '%s' %d %d %ld %ld %d '%s'", self_path,
              transport, endpoint, clients, in_flight, calls, warmup, sequential, dir);
    FILE *pipe = popen (command, "r");
    double first = -1;
    char word[32];
    if (pipe && fscanf (pipe, "%31s %lf %lf", word, &first, second) < 2)
        first = -1;
    if (!pipe || pclose (pipe) != 0)
        (*failed)++;
    return first;
}

//  Starts `mcpact serve` on the bench server for `transport` (ipc, tcp:
//  loopback, curve: tcp with the key pairs in `dir`), as a user would, and
//  reads where it is bound. Returns its pid, or -1.
static pid_t
s_daemon_start (const char *transport, const char *dir, const char *fixture, char *bound,
                size_t size)
{
    char config[256], endpoint[256], key[256], clients[256];
    snprintf (config, sizeof config, "%s/serve.json", dir);
    FILE *file = fopen (config, "w");
    if (!file)
        return -1;
    fprintf (file, "{\"mcpServers\": {\"bench\": {\"command\": \"%s\"}}}", fixture);
    fclose (file);
    if (streq (transport, "ipc"))
        snprintf (endpoint, sizeof endpoint, "ipc://%s/gw.sock", dir);
    else
        snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:*");
    snprintf (key, sizeof key, "%s/server", dir);
    snprintf (clients, sizeof clients, "%s/clients", dir);
    const char *argv[] = { BENCH_CLI, "serve",           "-q",     "-c",
                           config,    "--bind",          endpoint, "--curve-key",
                           key,       "--curve-clients", clients,  NULL };
    if (!streq (transport, "curve"))
        argv[7] = NULL;
    return bench_spawn_bound (BENCH_CLI, argv, bound, size);
}

//  The floor of any request through a gateway: a ROUTER in a process of
//  its own that answers PING id with PONG id at once, as the gateway's
//  loop does, without the gateway. bench_serve --echo ENDPOINT prints
//  "bound ENDPOINT" and answers until SIGTERM.
static int
s_echo_main (const char *endpoint)
{
    zsys_init ();
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    if (!router || zsock_bind (router, "%s", endpoint) < 0)
        return 1;
    printf ("bound %s\n", zsock_endpoint (router));
    fflush (stdout);
    void *socket = zsock_resolve (router);
    //  A SIGTERM that comes between two receives only sets
    //  zsys_interrupted (CZMQ's handler): look at it every 100 ms.
    zsock_set_rcvtimeo (router, 100);
    while (true) {
        zmq_msg_t parts[3];
        int count = 0, more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            int rc;
            while ((rc = zmq_msg_recv (&part, socket, 0)) < 0 && errno == EAGAIN &&
                   !zsys_interrupted)
                ;
            if (rc < 0) {
                zmq_msg_close (&part);
                for (int i = 0; i < count; i++)
                    zmq_msg_close (&parts[i]);
                zsock_destroy (&router);
                return 0; //  interrupted: SIGTERM
            }
            more = zmq_msg_more (&part);
            if (count < 3)
                parts[count++] = part;
            else
                zmq_msg_close (&part);
        }
        if (count == 3) {
            zmq_msg_send (&parts[0], socket, ZMQ_SNDMORE);
            zmq_send (socket, "PONG", 4, ZMQ_SNDMORE);
            zmq_msg_send (&parts[2], socket, 0);
            zmq_msg_close (&parts[1]); //  0 and 2 went out with the reply
        } else
            for (int i = 0; i < count; i++)
                zmq_msg_close (&parts[i]);
    }
}

//  Starts this program again as the echo peer (s_echo_main) at
//  `endpoint`; fills `bound`. Returns its pid, or -1.
static pid_t
s_echo_start (const char *self_path, const char *endpoint, char *bound, size_t size)
{
    const char *argv[] = { self_path, "--echo", endpoint, NULL };
    return bench_spawn_bound (self_path, argv, bound, size);
}

int
main (int argc, char *argv[])
{
    if (argc == 10 && streq (argv[1], "--client"))
        return s_client_main (argv + 2);
    if (argc == 3 && streq (argv[1], "--echo"))
        return s_echo_main (argv[2]);
    long calls = 200000, warmup = 20000, sequential = 20000;
    const char *only = "inproc,ipc,tcp,curve";
    const char *fixture = BENCH_FIXTURE;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (streq (argv[i], "--json"))
            json = true;
        else if (value && streq (argv[i], "-n") && ++i)
            calls = atol (value);
        else if (value && streq (argv[i], "-w") && ++i)
            warmup = atol (value);
        else if (value && streq (argv[i], "-s") && ++i)
            sequential = atol (value);
        else if (value && streq (argv[i], "--only") && ++i)
            only = value;
        else if (value && streq (argv[i], "--fixture") && ++i)
            fixture = value;
        else {
            fprintf (stderr, "usage: bench_serve [-n CALLS] [-w WARMUP] [-s SEQUENTIAL] "
                             "[--only inproc,ipc,tcp,curve] [--fixture PATH] [--json]\n");
            return 2;
        }
    }
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    mcpact_session_t *session = mcpact_session_new (runtime);
    mcpact_server_config_t *config = mcpact_server_stdio_new ("bench", fixture);
    mcpact_session_add_server (session, &config);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));

    //  The key pairs of the CURVE runs, in a private directory.
    char dir[] = "/tmp/bench-serve-XXXXXX";
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return 1;
    }
    char path[128], clients_dir[128];
    zcert_t *server_cert = zcert_new (), *client_cert = zcert_new ();
    snprintf (path, sizeof path, "%s/server", dir);
    zcert_save (server_cert, path);
    snprintf (clients_dir, sizeof clients_dir, "%s/clients", dir);
    zsys_dir_create ("%s", clients_dir);
    snprintf (path, sizeof path, "%s/clients/client", dir);
    zcert_save_public (client_cert, path);
    snprintf (path, sizeof path, "%s/client", dir);
    zcert_save (client_cert, path);

    long failed = 0;
    int rc = 0;
    const char *transports[] = { "inproc", "ipc", "tcp", "curve" };
    for (size_t t = 0; t < 4; t++) {
        const char *transport = transports[t];
        if (!strstr (only, transport))
            continue;
        s_client_t proto = { .transport = transport, .agent = agent };
        pid_t daemon = 0;
        char bound[256] = "";
        if (!streq (transport, "inproc") &&
            (daemon = s_daemon_start (transport, dir, fixture, bound, sizeof bound)) <= 0) {
            fprintf (stderr, "bench_serve: mcpact serve did not start for %s\n", transport);
            return 1;
        }
        double single, many, p50, p99 = 0, ping = 0, floor = 0, unused;
        double ping_rate = 0, floor_rate = 0;
        if (daemon) {
            single = s_run_client (argv[0], transport, bound, 1, 64, calls, warmup, 0, dir, &unused,
                                   &failed);
            many = s_run_client (argv[0], transport, bound, 16, 16, calls, warmup, 0, dir, &unused,
                                 &failed);
            p50 = s_run_client (argv[0], transport, bound, 1, 1, sequential, sequential / 10, 1,
                                dir, &p99, &failed);
            //  The floor of any request: ZeroMQ between processes and the
            //  gateway's thread, no server.
            ping = s_run_client (argv[0], transport, bound, 1, 1, sequential, sequential / 10, 2,
                                 dir, &unused, &failed);
            ping_rate = s_run_client (argv[0], transport, bound, 1, 64, calls, warmup, 3, dir,
                                      &unused, &failed);
            //  The same PINGs to a bare ROUTER that answers them at once:
            //  ZeroMQ between two processes, the bound of the PING figure.
            char echo_endpoint[256], echo_bound[256];
            if (streq (transport, "ipc"))
                snprintf (echo_endpoint, sizeof echo_endpoint, "ipc://%s/echo.sock", dir);
            else
                snprintf (echo_endpoint, sizeof echo_endpoint, "tcp://127.0.0.1:*");
            pid_t echo = streq (transport, "curve")
                             ? -1
                             : s_echo_start (argv[0], echo_endpoint, echo_bound, sizeof echo_bound);
            if (echo > 0) {
                floor = s_run_client (argv[0], transport, echo_bound, 1, 1, sequential,
                                      sequential / 10, 2, dir, &unused, &failed);
                floor_rate = s_run_client (argv[0], transport, echo_bound, 1, 64, calls, warmup, 3,
                                           dir, &unused, &failed);
                kill (echo, SIGTERM);
                waitpid (echo, NULL, 0);
            }
        } else {
            single = s_measure (&proto, 1, 64, calls, warmup, NULL, &failed);
            many = s_measure (&proto, 16, 16, calls, warmup, NULL, &failed);
            double *latencies = (double *) calloc ((size_t) sequential, sizeof (double));
            s_measure (&proto, 1, 1, sequential, sequential / 10, latencies, &failed);
            bench_sort (latencies, (size_t) sequential);
            p50 = bench_quantile (latencies, (size_t) sequential, 0.5);
            p99 = bench_quantile (latencies, (size_t) sequential, 0.99);
            free (latencies);
        }
        if (json)
            printf ("{\"bench\":\"serve\",\"transport\":\"%s\",\"callsPerSecond1x64\":%.0f,"
                    "\"callsPerSecond16x16\":%.0f,\"sequentialP50Us\":%.1f,"
                    "\"sequentialP99Us\":%.1f,\"pingP50Us\":%.1f,\"zmqRoundTripP50Us\":%.1f,"
                    "\"pingsPerSecond1x64\":%.0f,\"zmqRoundTripsPerSecond1x64\":%.0f,"
                    "\"calls\":%ld}\n",
                    transport, single, many, p50, p99, ping, floor, ping_rate, floor_rate, calls);
        else
            printf ("serve %-6s 1 client x 64 in flight: %8.0f calls/s | 16 clients x 16: %8.0f "
                    "calls/s | sequential p50 %6.1f us p99 %6.1f us | PING p50 %6.1f us | bare "
                    "ZeroMQ round trip p50 %6.1f us | 1 x 64 PINGs: %8.0f /s, bare ZeroMQ: %8.0f "
                    "/s (%ld calls, %s)\n",
                    transport, single, many, p50, p99, ping, floor, ping_rate, floor_rate, calls,
                    bench_basename (fixture));
        fflush (stdout);
        if (daemon) {
            int status = 0;
            kill (daemon, SIGTERM);
            waitpid (daemon, &status, 0);
            if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
                failed++;
        }
    }
    if (failed) {
        fprintf (stderr, "bench_serve: %ld calls did not succeed\n", failed);
        rc = 1;
    }
    zcert_destroy (&server_cert);
    zcert_destroy (&client_cert);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    char command[128];
    snprintf (command, sizeof command, "rm -rf '%s'", dir);
    if (system (command) != 0)
        rc = 1;
    return rc;
}
