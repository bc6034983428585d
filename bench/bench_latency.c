/*  =========================================================================
    bench_latency - sequential tool calls: the round trip of one call

    Starts one server (the stdio fixture, or a streamable HTTP server given
    by --http URL), makes W warm-up calls of echo, then N more one after
    another with mcpact_agent_call, timing each from the call to its
    result. Prints one self-describing line (--json for JSON): p50, p99,
    p99.9, mean, min and max in microseconds. Any call that does not
    succeed makes the program fail.

      bench_latency [-n CALLS] [-w WARMUP] [--http URL] [--fixture PATH] [--json]

    Single-threaded host; the runtime's own threads do the rest.
    =========================================================================
*/

#include "mcpact.h"
#include "bench.h"

#define ARGS "{\"message\":\"hello\"}"

static int
s_call (mcpact_agent_t *agent)
{
    mcpact_result_t *result = mcpact_agent_call (agent, "echo", ARGS, 0);
    int rc = mcpact_result_status (result) == MCPACT_OK ? 0 : -1;
    if (rc)
        fprintf (stderr, "bench_latency: call failed: %s\n", mcpact_result_error (result));
    mcpact_result_destroy (&result);
    return rc;
}

int
main (int argc, char **argv)
{
    long calls = 20000, warmup = 2000;
    const char *url = NULL, *fixture = BENCH_FIXTURE;
    bool json = false;
    const bench_opt_t opts[] = {
        { .name = "-n", .number = &calls, .min = 1 }, { .name = "-w", .number = &warmup, .min = 0 },
        { .name = "--http", .text = &url },           { .name = "--fixture", .text = &fixture },
        { .name = "--json", .flag = &json },          { 0 },
    };
    bench_parse (argc, argv, opts,
                 "bench_latency [-n CALLS] [-w WARMUP] [--http URL] [--fixture PATH] [--json]");
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    if (!runtime)
        return 1;
    mcpact_session_t *session = mcpact_session_new (runtime);
    mcpact_server_config_t *config =
        url ? mcpact_server_http_new ("bench", url) : mcpact_server_stdio_new ("bench", fixture);
    if (url)
        mcpact_server_config_set_transport (config, MCPACT_TRANSPORT_STREAMABLE_HTTP);
    mcpact_session_add_server (session, &config);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));

    int rc = 0;
    for (long i = 0; i < warmup && rc == 0; i++)
        rc = s_call (agent);
    double *times = (double *) calloc ((size_t) calls, sizeof (double));
    double sum = 0, began = bench_now_us ();
    for (long i = 0; i < calls && rc == 0; i++) {
        double start = bench_now_us ();
        rc = s_call (agent);
        times[i] = bench_now_us () - start;
        sum += times[i];
    }
    double elapsed = bench_now_us () - began;
    if (rc == 0) {
        bench_sort (times, (size_t) calls);
        double p50 = bench_quantile (times, (size_t) calls, 0.5);
        double p99 = bench_quantile (times, (size_t) calls, 0.99);
        double p999 = bench_quantile (times, (size_t) calls, 0.999);
        double mean = sum / (double) calls;
        double rate = (double) calls / (elapsed / 1e6);
        const char *transport = url ? "http" : "stdio";
        if (json)
            printf ("{\"bench\":\"latency\",\"client\":\"mcpact\",\"transport\":\"%s\","
                    "\"calls\":%ld,\"warmup\":%ld,\"p50_us\":%.1f,\"p99_us\":%.1f,"
                    "\"p999_us\":%.1f,\"mean_us\":%.1f,\"min_us\":%.1f,\"max_us\":%.1f,"
                    "\"calls_per_s\":%.0f,\"cpus\":%d}\n",
                    transport, calls, warmup, p50, p99, p999, mean, times[0], times[calls - 1],
                    rate, bench_cpus ());
        else
            printf ("latency: %ld sequential echo calls over %s after %ld warm-up: p50 %.1f us "
                    "p99 %.1f us p99.9 %.1f us, mean %.1f us (min %.1f, max %.1f), %.0f calls/s; "
                    "%d CPUs\n",
                    calls, transport, warmup, p50, p99, p999, mean, times[0], times[calls - 1],
                    rate, bench_cpus ());
    }
    free (times);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return rc ? 1 : 0;
}
