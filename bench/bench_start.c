/*  =========================================================================
    bench_start - parallel start-up of N stdio MCP servers

    Starts N fixture servers (each answering initialize after D ms) on one
    session and times mcpact_session_start: until every server has answered
    initialize and tools/list. A progress callback stamps the moment the
    host hears of each server, which gives the per-server time-to-ready as
    the host sees it and, together with each server's own "ms" (counted
    from when its actor began to spawn it), the spawn phase: how long after
    the start call the last server began its spawn. Prints one
    self-describing line (--json for JSON), with the peak and current RSS
    of this process. Several rounds (-r) report the median round; the
    per-server distributions pool all rounds.

      bench_start [-n N] [-d DELAY_MS] [-r ROUNDS] [--fixture PATH] [--json]

    The progress callback runs on runtime threads: it only takes a slot
    with an atomic counter and fills it; everything else happens on main.
    =========================================================================
*/

#include "mcpact.h"
#include "bench.h"

#include <jansson.h>
#include <stdatomic.h>

typedef struct {
    double seen_ms; //  when the callback ran, since the start call
    char *entry;    //  the server's report entry (JSON text)
} s_event_t;

typedef struct {
    double start_ms;     //  when mcpact_session_start was called
    s_event_t *events;   //  one per server
    atomic_size_t count; //  events filled
    size_t max;          //  room in events
} s_progress_t;

static void
s_on_progress (const char *server_json, void *arg)
{
    s_progress_t *self = (s_progress_t *) arg;
    double now = bench_now_ms ();
    size_t slot = atomic_fetch_add (&self->count, 1);
    if (slot < self->max) {
        self->events[slot].seen_ms = now - self->start_ms;
        self->events[slot].entry = strdup (server_json);
    }
}

static double
s_median (double *values, size_t count)
{
    bench_sort (values, count);
    return bench_quantile (values, count, 0.5);
}

int
main (int argc, char **argv)
{
    int count = 8, delay = 0, rounds = 1;
    const char *fixture = BENCH_FIXTURE;
    bool json = false;
    const bench_opt_t opts[] = {
        { .name = "-n", .integer = &count, .min = 1 },
        { .name = "-d", .integer = &delay, .min = 0 },
        { .name = "-r", .integer = &rounds, .min = 1 },
        { .name = "--fixture", .text = &fixture },
        { .name = "--json", .flag = &json },
        { 0 },
    };
    bench_parse (argc, argv, opts,
                 "bench_start [-n N] [-d DELAY_MS] [-r ROUNDS] [--fixture PATH] [--json]");
    char delay_text[16];
    snprintf (delay_text, sizeof delay_text, "%d", delay);
    size_t pooled = (size_t) count * (size_t) rounds;
    double *totals = (double *) calloc ((size_t) rounds, sizeof (double));
    double *spawns = (double *) calloc ((size_t) rounds, sizeof (double));
    double *spreads = (double *) calloc ((size_t) rounds, sizeof (double));
    double *firsts = (double *) calloc ((size_t) rounds, sizeof (double));
    double *rss_after = (double *) calloc ((size_t) rounds, sizeof (double));
    double *ready = (double *) calloc (pooled, sizeof (double));
    double *seen = (double *) calloc (pooled, sizeof (double));
    s_event_t *events = (s_event_t *) calloc ((size_t) count, sizeof (s_event_t));
    size_t ready_count = 0, seen_count = 0;
    int failed = 0;
    for (int round = 0; round < rounds; round++) {
        mcpact_runtime_t *runtime = mcpact_runtime_new ();
        if (!runtime) {
            fprintf (stderr, "bench_start: the runtime did not start\n");
            return 1;
        }
        mcpact_session_t *session = mcpact_session_new (runtime);
        s_progress_t progress = { .events = events, .max = (size_t) count };
        atomic_init (&progress.count, 0);
        mcpact_session_set_progress (session, s_on_progress, &progress);
        for (int i = 0; i < count; i++) {
            char name[32];
            snprintf (name, sizeof name, "s%04d", i);
            mcpact_server_config_t *config = mcpact_server_stdio_new (name, fixture);
            mcpact_server_config_add_arg (config, "--init-delay-ms");
            mcpact_server_config_add_arg (config, delay_text);
            mcpact_server_config_set_timeouts (config, 30000, 30000, 0);
            mcpact_session_add_server (session, &config);
        }
        progress.start_ms = bench_now_ms ();
        char *report = mcpact_session_start (session);
        totals[round] = bench_now_ms () - progress.start_ms;
        rss_after[round] = (double) bench_rss_kb ();

        //  The report: each server's own ms and state.
        json_t *parsed = report ? json_loads (report, 0, NULL) : NULL;
        size_t index;
        json_t *server;
        int round_failed = 0;
        json_array_foreach (json_object_get (parsed, "servers"), index, server) {
            ready[ready_count++] = (double) json_integer_value (json_object_get (server, "ms"));
            const char *state = json_string_value (json_object_get (server, "state"));
            round_failed += !state || !streq (state, "ready");
        }
        if (!parsed)
            round_failed = count;
        failed = round_failed > failed ? round_failed : failed;
        json_decref (parsed);
        free (report);

        //  The host's view: when each server was heard of. A server began
        //  its spawn at (seen - its own ms); the last to begin ends the
        //  spawn phase.
        size_t events_count = atomic_load (&progress.count);
        if (events_count > (size_t) count)
            events_count = (size_t) count;
        double first = 0, last = 0, spawn = 0;
        for (size_t e = 0; e < events_count; e++) {
            double at = events[e].seen_ms;
            json_t *entry = json_loads (events[e].entry, 0, NULL);
            double own = (double) json_integer_value (json_object_get (entry, "ms"));
            json_decref (entry);
            free (events[e].entry);
            events[e].entry = NULL;
            seen[seen_count++] = at;
            first = e == 0 || at < first ? at : first;
            last = at > last ? at : last;
            spawn = at - own > spawn ? at - own : spawn;
        }
        firsts[round] = first;
        spreads[round] = last - first;
        spawns[round] = spawn;
        mcpact_session_destroy (&session);
        mcpact_runtime_destroy (&runtime);
    }
    bench_sort (ready, ready_count);
    bench_sort (seen, seen_count);
    double median = s_median (totals, (size_t) rounds);
    double spawn = s_median (spawns, (size_t) rounds);
    double spread = s_median (spreads, (size_t) rounds);
    double first = s_median (firsts, (size_t) rounds);
    long rss = (long) s_median (rss_after, (size_t) rounds);
    long peak = bench_peak_rss_kb ();
    double p50 = bench_quantile (ready, ready_count, 0.5);
    double p99 = bench_quantile (ready, ready_count, 0.99);
    double seen_p50 = bench_quantile (seen, seen_count, 0.5);
    double seen_p90 = bench_quantile (seen, seen_count, 0.9);
    double seen_p99 = bench_quantile (seen, seen_count, 0.99);
    double seen_max = seen_count ? seen[seen_count - 1] : 0;
    if (json)
        printf ("{\"bench\":\"start\",\"client\":\"mcpact\",\"transport\":\"stdio\","
                "\"servers\":%d,\"delay_ms\":%d,\"rounds\":%d,\"all_ready_ms\":%.1f,"
                "\"ready_p50_ms\":%.0f,\"ready_p99_ms\":%.0f,\"seen_first_ms\":%.1f,"
                "\"seen_p50_ms\":%.1f,\"seen_p90_ms\":%.1f,\"seen_p99_ms\":%.1f,"
                "\"seen_max_ms\":%.1f,\"spawn_phase_ms\":%.1f,\"ready_spread_ms\":%.1f,"
                "\"failed\":%d,\"rss_kb\":%ld,\"peak_rss_kb\":%ld,\"fixture\":\"%s\","
                "\"cpus\":%d}\n",
                count, delay, rounds, median, p50, p99, first, seen_p50, seen_p90, seen_p99,
                seen_max, spawn, spread, failed, rss, peak, bench_basename (fixture),
                bench_cpus ());
    else
        printf ("start: %d stdio servers, init delay %d ms: all ready in %.1f ms (median of "
                "%d); host saw the first at %.1f ms, p50 %.1f p99 %.1f last %.1f; last spawn "
                "began at %.1f ms; per-server ready p50 %.0f ms p99 %.0f ms; %d failed; RSS "
                "%ld KiB, peak %ld KiB; %d CPUs\n",
                count, delay, median, rounds, first, seen_p50, seen_p99, seen_max, spawn, p50, p99,
                failed, rss, peak, bench_cpus ());
    free (totals);
    free (spawns);
    free (spreads);
    free (firsts);
    free (rss_after);
    free (ready);
    free (seen);
    free (events);
    return failed ? 1 : 0;
}
