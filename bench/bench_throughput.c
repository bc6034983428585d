/*  =========================================================================
    bench_throughput - many tool calls in flight: calls per second

    Starts S servers (stdio fixtures, or S sessions of one streamable HTTP
    server given by --http URL) with their tools prefixed by server name,
    and keeps F echo calls in flight from T host threads, each with its own
    mcpact_caller_t and F/T of the calls in flight, sending to the servers
    in turn. The moment a result comes back the next call goes out. After
    a warm-up the threads start together and each makes its share of N
    calls; the figure is N over the time until the last result is in.
    Prints one self-describing line (--json for JSON). Any call that does
    not succeed makes the program fail.

      bench_throughput [-s SERVERS] [-f IN_FLIGHT] [-t THREADS] [-n CALLS]
                       [-w WARMUP] [--http URL] [--fixture PATH] [--json]

    Threads share only the agent (which is safe from any thread) and the
    barrier; each writes its own slot of the results.
    =========================================================================
*/

#include "mcpact.h"
#include "bench.h"

#include <pthread.h>

#define ARGS "{\"message\":\"hello\"}"

typedef struct {
    mcpact_agent_t *agent;      //  shared, thread-safe
    pthread_barrier_t *barrier; //  all threads and main start timing together
    int servers;                //  tools s0_echo .. s<S-1>_echo
    int in_flight;              //  this thread's share
    long warmup;                //  this thread's warm-up calls
    long calls;                 //  this thread's timed calls
    int first_server;           //  so that threads do not all start on s0
    double end_us;              //  when its last result came
    long failed;                //  calls that did not succeed
    char *error;                //  the first failure's reason
} s_worker_t;

//  Makes `total` calls with up to `in_flight` of them in flight at once.
static void
s_run (s_worker_t *self, mcpact_caller_t *caller, long total)
{
    char tool[32];
    long sent = 0, done = 0;
    int next = self->first_server;
    while (done < total) {
        while (sent < total && sent - done < self->in_flight) {
            snprintf (tool, sizeof tool, "s%d_echo", next);
            next = (next + 1) % self->servers;
            mcpact_caller_send (caller, tool, ARGS, 0);
            sent++;
        }
        mcpact_result_t *result = mcpact_caller_next (caller, -1);
        if (!result)
            continue;
        if (mcpact_result_status (result) != MCPACT_OK && self->failed++ == 0)
            self->error = strdup (mcpact_result_error (result));
        mcpact_result_destroy (&result);
        done++;
    }
}

static void *
s_worker (void *arg)
{
    s_worker_t *self = (s_worker_t *) arg;
    mcpact_caller_t *caller = mcpact_caller_new (self->agent);
    s_run (self, caller, self->warmup);
    pthread_barrier_wait (self->barrier);
    s_run (self, caller, self->calls);
    self->end_us = bench_now_us ();
    mcpact_caller_destroy (&caller);
    return NULL;
}

int
main (int argc, char **argv)
{
    int servers = 1, in_flight = 64, threads = 1;
    long calls = 100000, warmup = 5000;
    const char *url = NULL, *fixture = BENCH_FIXTURE;
    bool json = false;
    const bench_opt_t opts[] = {
        { .name = "-s", .integer = &servers, .min = 1 },
        { .name = "-f", .integer = &in_flight, .min = 1 },
        { .name = "-t", .integer = &threads, .min = 1 },
        { .name = "-n", .number = &calls, .min = 1 },
        { .name = "-w", .number = &warmup, .min = 0 },
        { .name = "--http", .text = &url },
        { .name = "--fixture", .text = &fixture },
        { .name = "--json", .flag = &json },
        { 0 },
    };
    bench_parse (argc, argv, opts,
                 "bench_throughput [-s SERVERS] [-f IN_FLIGHT] [-t THREADS] [-n CALLS] [-w WARMUP] "
                 "[--http URL] [--fixture PATH] [--json]");
    if (threads > in_flight) {
        fprintf (stderr, "bench_throughput: more threads than calls in flight\n");
        return 2;
    }
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    if (!runtime)
        return 1;
    mcpact_session_t *session = mcpact_session_new (runtime);
    mcpact_session_set_name_policy (session, MCPACT_NAMES_PREFIX);
    for (int i = 0; i < servers; i++) {
        char name[16];
        snprintf (name, sizeof name, "s%d", i);
        mcpact_server_config_t *config =
            url ? mcpact_server_http_new (name, url) : mcpact_server_stdio_new (name, fixture);
        if (url)
            mcpact_server_config_set_transport (config, MCPACT_TRANSPORT_STREAMABLE_HTTP);
        mcpact_session_add_server (session, &config);
    }
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));

    pthread_barrier_t barrier;
    pthread_barrier_init (&barrier, NULL, (unsigned) threads + 1);
    s_worker_t *workers = (s_worker_t *) calloc ((size_t) threads, sizeof (s_worker_t));
    pthread_t *ids = (pthread_t *) calloc ((size_t) threads, sizeof (pthread_t));
    for (int t = 0; t < threads; t++) {
        s_worker_t *worker = &workers[t];
        worker->agent = agent;
        worker->barrier = &barrier;
        worker->servers = servers;
        //  Shares differ by at most one; together they make F, W and N.
        worker->in_flight = in_flight / threads + (t < in_flight % threads);
        worker->warmup = warmup / threads + (t < warmup % threads);
        worker->calls = calls / threads + (t < calls % threads);
        worker->first_server = t % servers;
        pthread_create (&ids[t], NULL, s_worker, worker);
    }
    pthread_barrier_wait (&barrier);
    double start = bench_now_us (), end = start;
    long failed = 0;
    const char *error = NULL;
    for (int t = 0; t < threads; t++) {
        pthread_join (ids[t], NULL);
        end = workers[t].end_us > end ? workers[t].end_us : end;
        failed += workers[t].failed;
        if (!error && workers[t].error)
            error = workers[t].error;
    }
    double seconds = (end - start) / 1e6;
    const char *transport = url ? "http" : "stdio";
    if (failed)
        fprintf (stderr, "bench_throughput: %ld calls failed, the first: %s\n", failed, error);
    else if (json)
        printf ("{\"bench\":\"throughput\",\"client\":\"mcpact\",\"transport\":\"%s\","
                "\"servers\":%d,\"in_flight\":%d,\"threads\":%d,\"calls\":%ld,\"warmup\":%ld,"
                "\"seconds\":%.3f,\"calls_per_s\":%.0f,\"cpus\":%d}\n",
                transport, servers, in_flight, threads, calls, warmup, seconds,
                (double) calls / seconds, bench_cpus ());
    else
        printf ("throughput: %d %s server%s, %d calls in flight from %d host thread%s: %ld echo "
                "calls in %.3f s, %.0f calls/s; %d CPUs\n",
                servers, transport, servers == 1 ? "" : "s", in_flight, threads,
                threads == 1 ? "" : "s", calls, seconds, (double) calls / seconds, bench_cpus ());
    for (int t = 0; t < threads; t++)
        free (workers[t].error);
    free (workers);
    free (ids);
    pthread_barrier_destroy (&barrier);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return failed ? 1 : 0;
}
