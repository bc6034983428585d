/*  =========================================================================
    bench_memory - what an idle server actor costs in memory

    Measures this process's resident set: once with an empty runtime (a
    runtime and a session, no servers), once more after N stdio fixture
    servers have started and sat idle for a moment. The difference over N
    is the cost of one idle server actor inside the host (its thread, its
    sockets, its buffers and its tools); the server processes themselves
    are not counted, as they are not the host's. Prints one self-describing
    line (--json for JSON) with the per-actor figure and the total.

    With -t T it goes on: T host threads, each with its own mcpact_caller_t
    on one agent of the session, call each of the N servers once, one call
    after another (tools s0000_echo ..., prefixed by server name); RSS is
    measured once every thread has made its first call and again once
    every thread has called every server, with the callers still open.
    The growth over the idle figure, total and per (thread, server) pair,
    is what a host that calls its servers from many threads pays beyond
    the idle actors.

      bench_memory [-n N] [-d DELAY_MS] [-t THREADS] [--settle MS] [--fixture PATH] [--json]

    The host threads share only the agent (safe from any thread) and the
    barrier; each writes its own slot of the results.
    =========================================================================
*/

#include "mcpact.h"
#include "bench.h"

#include <jansson.h>
#include <pthread.h>

#define ARGS "{\"message\":\"hello\"}"

typedef struct {
    mcpact_agent_t *agent;      //  shared, thread-safe
    pthread_barrier_t *barrier; //  the phases: first call, every call, done
    int servers;                //  tools s0000_echo .. s<N-1>_echo
    int first_server;           //  so that threads do not all start on s0000
    long failed;                //  calls that did not succeed
    char *error;                //  the first failure's reason
} s_worker_t;

//  One call to server `index`, waited for.
static void
s_call (s_worker_t *self, mcpact_caller_t *caller, int index)
{
    char tool[32];
    snprintf (tool, sizeof tool, "s%04d_echo", index);
    mcpact_caller_send (caller, tool, ARGS, 0);
    mcpact_result_t *result = mcpact_caller_next (caller, -1);
    if (mcpact_result_status (result) != MCPACT_OK && self->failed++ == 0)
        self->error = strdup (mcpact_result_error (result));
    mcpact_result_destroy (&result);
}

//  Calls its first server, waits while main measures, calls the others,
//  and keeps its caller open until main has measured again.
static void *
s_worker (void *arg)
{
    s_worker_t *self = (s_worker_t *) arg;
    mcpact_caller_t *caller = mcpact_caller_new (self->agent);
    s_call (self, caller, self->first_server);
    pthread_barrier_wait (self->barrier);
    pthread_barrier_wait (self->barrier);
    for (int i = 1; i < self->servers; i++)
        s_call (self, caller, (self->first_server + i) % self->servers);
    pthread_barrier_wait (self->barrier);
    pthread_barrier_wait (self->barrier);
    mcpact_caller_destroy (&caller);
    return NULL;
}

//  What the host threads phase measured.
typedef struct {
    long first_call_kb; //  RSS once every thread had made one call
    long pairs_kb;      //  RSS once every thread had called every server
    int threads_after;  //  threads of the process then
    double calls_ms;    //  how long the T × (N - 1) calls after the first took
    long failed;
} s_pairs_t;

static s_pairs_t
s_call_all (mcpact_agent_t *agent, int servers, int threads, int settle)
{
    s_pairs_t pairs = { 0 };
    pthread_barrier_t barrier;
    pthread_barrier_init (&barrier, NULL, (unsigned) threads + 1);
    s_worker_t *workers = (s_worker_t *) calloc ((size_t) threads, sizeof (s_worker_t));
    pthread_t *ids = (pthread_t *) calloc ((size_t) threads, sizeof (pthread_t));
    for (int t = 0; t < threads; t++) {
        workers[t].agent = agent;
        workers[t].barrier = &barrier;
        workers[t].servers = servers;
        workers[t].first_server = (int) ((long) t * servers / threads);
        pthread_create (&ids[t], NULL, s_worker, &workers[t]);
    }
    pthread_barrier_wait (&barrier); //  every thread has made its first call
    usleep ((useconds_t) settle * 1000);
    pairs.first_call_kb = bench_rss_kb ();
    double start = bench_now_ms ();
    pthread_barrier_wait (&barrier);
    pthread_barrier_wait (&barrier); //  every thread has called every server
    pairs.calls_ms = bench_now_ms () - start;
    usleep ((useconds_t) settle * 1000);
    pairs.pairs_kb = bench_rss_kb ();
    pairs.threads_after = bench_threads ();
    pthread_barrier_wait (&barrier);
    const char *error = NULL;
    for (int t = 0; t < threads; t++) {
        pthread_join (ids[t], NULL);
        pairs.failed += workers[t].failed;
        if (!error && workers[t].error)
            error = workers[t].error;
    }
    if (pairs.failed)
        fprintf (stderr, "bench_memory: %ld calls failed, the first: %s\n", pairs.failed, error);
    for (int t = 0; t < threads; t++)
        free (workers[t].error);
    free (workers);
    free (ids);
    pthread_barrier_destroy (&barrier);
    return pairs;
}

int
main (int argc, char **argv)
{
    int count = 1000, delay = 0, settle = 200, host_threads = 0;
    const char *fixture = BENCH_FIXTURE;
    bool json = false;
    const bench_opt_t opts[] = {
        { .name = "-n", .integer = &count, .min = 1 },
        { .name = "-d", .integer = &delay, .min = 0 },
        { .name = "-t", .integer = &host_threads, .min = 1 },
        { .name = "--settle", .integer = &settle, .min = 0 },
        { .name = "--fixture", .text = &fixture },
        { .name = "--json", .flag = &json },
        { 0 },
    };
    bench_parse (argc, argv, opts,
                 "bench_memory [-n N] [-d DELAY_MS] [-t THREADS] [--settle MS] [--fixture PATH] "
                 "[--json]");
    long before_runtime = bench_rss_kb ();
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    if (!runtime)
        return 1;
    mcpact_session_t *session = mcpact_session_new (runtime);
    //  Host threads call each server's echo by its own name; without them
    //  the session starts alone, as the idle figure always has.
    if (host_threads)
        mcpact_session_set_name_policy (session, MCPACT_NAMES_PREFIX);
    usleep ((useconds_t) settle * 1000);
    long empty = bench_rss_kb ();
    int empty_threads = bench_threads ();

    char delay_text[16];
    snprintf (delay_text, sizeof delay_text, "%d", delay);
    for (int i = 0; i < count; i++) {
        char name[32];
        snprintf (name, sizeof name, "s%04d", i);
        mcpact_server_config_t *config = mcpact_server_stdio_new (name, fixture);
        mcpact_server_config_add_arg (config, "--init-delay-ms");
        mcpact_server_config_add_arg (config, delay_text);
        mcpact_server_config_set_timeouts (config, 30000, 30000, 0);
        mcpact_session_add_server (session, &config);
    }
    mcpact_agent_t *agent = host_threads ? mcpact_agent_new (session, NULL) : NULL;
    char *report = agent ? mcpact_agent_start (agent) : mcpact_session_start (session);
    int ready = 0;
    json_t *parsed = report ? json_loads (report, 0, NULL) : NULL;
    size_t index;
    json_t *server;
    json_array_foreach (json_object_get (parsed, "servers"), index, server) {
        const char *state = json_string_value (json_object_get (server, "state"));
        ready += state && streq (state, "ready");
    }
    json_decref (parsed);
    free (report);
    usleep ((useconds_t) settle * 1000);
    long loaded = bench_rss_kb ();
    int threads = bench_threads ();
    double per_actor = (double) (loaded - empty) / count;
    s_pairs_t pairs = { 0 };
    if (host_threads && ready == count)
        pairs = s_call_all (agent, count, host_threads, settle);
    long peak = bench_peak_rss_kb ();
    long growth = pairs.pairs_kb - loaded;
    double per_pair = host_threads ? (double) growth / ((double) host_threads * count) : 0;

    if (json) {
        printf ("{\"bench\":\"memory\",\"client\":\"mcpact\",\"transport\":\"stdio\","
                "\"servers\":%d,\"ready\":%d,\"process_kb\":%ld,\"empty_runtime_kb\":%ld,"
                "\"rss_kb\":%ld,\"peak_rss_kb\":%ld,\"per_actor_kb\":%.1f,\"threads\":%d,"
                "\"empty_threads\":%d",
                count, ready, before_runtime, empty, loaded, peak, per_actor, threads,
                empty_threads);
        if (host_threads)
            printf (",\"host_threads\":%d,\"pairs\":%ld,\"first_call_rss_kb\":%ld,"
                    "\"pairs_rss_kb\":%ld,\"pairs_growth_kb\":%ld,\"per_pair_kb\":%.2f,"
                    "\"pairs_threads\":%d,\"calls_ms\":%.1f,\"failed\":%ld",
                    host_threads, (long) host_threads * count, pairs.first_call_kb, pairs.pairs_kb,
                    growth, per_pair, pairs.threads_after, pairs.calls_ms, pairs.failed);
        printf (",\"cpus\":%d}\n", bench_cpus ());
    } else {
        printf ("memory: %d idle stdio servers (%d ready): RSS %ld KiB (peak %ld), empty runtime "
                "%ld KiB, so %.1f KiB per server actor; %d threads (%d empty)",
                count, ready, loaded, peak, empty, per_actor, threads, empty_threads);
        if (host_threads)
            printf ("; then %d host threads each called each server once (%.0f ms): RSS %ld KiB "
                    "(%ld after one call each), +%ld KiB, so %.2f KiB per (thread, server) "
                    "pair; %d threads",
                    host_threads, pairs.calls_ms, pairs.pairs_kb, pairs.first_call_kb, growth,
                    per_pair, pairs.threads_after);
        printf ("; %d CPUs\n", bench_cpus ());
    }
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return ready == count && pairs.failed == 0 ? 0 : 1;
}
