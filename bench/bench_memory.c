/*  =========================================================================
    bench_memory - what an idle server actor costs in memory

    Measures this process's resident set: once with an empty runtime (a
    runtime and a session, no servers), once more after N stdio fixture
    servers have started and sat idle for a moment. The difference over N
    is the cost of one idle server actor inside the host (its thread, its
    sockets, its buffers and its tools); the server processes themselves
    are not counted, as they are not the host's. Prints one self-describing
    line (--json for JSON) with the per-actor figure and the total.

      bench_memory [-n N] [-d DELAY_MS] [--settle MS] [--fixture PATH] [--json]
    =========================================================================
*/

#include "mcpact.h"
#include "bench.h"

#include <jansson.h>

int
main (int argc, char **argv)
{
    int count = 1000, delay = 0, settle = 200;
    const char *fixture = BENCH_FIXTURE;
    bool json = false;
    const bench_opt_t opts[] = {
        { .name = "-n", .integer = &count, .min = 1 },
        { .name = "-d", .integer = &delay, .min = 0 },
        { .name = "--settle", .integer = &settle, .min = 0 },
        { .name = "--fixture", .text = &fixture },
        { .name = "--json", .flag = &json },
        { 0 },
    };
    bench_parse (argc, argv, opts,
                 "bench_memory [-n N] [-d DELAY_MS] [--settle MS] [--fixture PATH] [--json]");
    long before_runtime = bench_rss_kb ();
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    if (!runtime)
        return 1;
    mcpact_session_t *session = mcpact_session_new (runtime);
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
    char *report = mcpact_session_start (session);
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
    long peak = bench_peak_rss_kb ();
    double per_actor = (double) (loaded - empty) / count;
    if (json)
        printf ("{\"bench\":\"memory\",\"client\":\"mcpact\",\"transport\":\"stdio\","
                "\"servers\":%d,\"ready\":%d,\"process_kb\":%ld,\"empty_runtime_kb\":%ld,"
                "\"rss_kb\":%ld,\"peak_rss_kb\":%ld,\"per_actor_kb\":%.1f,\"threads\":%d,"
                "\"empty_threads\":%d,\"cpus\":%d}\n",
                count, ready, before_runtime, empty, loaded, peak, per_actor, threads,
                empty_threads, bench_cpus ());
    else
        printf ("memory: %d idle stdio servers (%d ready): RSS %ld KiB (peak %ld), empty runtime "
                "%ld KiB, so %.1f KiB per server actor; %d threads (%d empty); %d CPUs\n",
                count, ready, loaded, peak, empty, per_actor, threads, empty_threads,
                bench_cpus ());
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return ready == count ? 0 : 1;
}
