/*  =========================================================================
    bench_start - parallel start-up of N stdio MCP servers

    Starts N fixture servers (each answering initialize after D ms) on one
    session and times mcpact_session_start: until every server has answered
    initialize and tools/list. Prints one self-describing line (--json for
    JSON), with the distribution of per-server time-to-ready and the peak
    RSS of this process.

      bench_start [-n N] [-d DELAY_MS] [-r ROUNDS] [--json]
    =========================================================================
*/

#include "mcpact.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
    int count = 8, delay = 0, rounds = 1;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "-n") == 0 && i + 1 < argc)
            count = atoi (argv[++i]);
        else if (strcmp (argv[i], "-d") == 0 && i + 1 < argc)
            delay = atoi (argv[++i]);
        else if (strcmp (argv[i], "-r") == 0 && i + 1 < argc)
            rounds = atoi (argv[++i]);
        else if (strcmp (argv[i], "--json") == 0)
            json = true;
        else {
            fprintf (stderr, "usage: bench_start [-n N] [-d DELAY_MS] [-r ROUNDS] [--json]\n");
            return 2;
        }
    }
    char delay_text[16];
    snprintf (delay_text, sizeof delay_text, "%d", delay);
    double *totals = (double *) calloc ((size_t) rounds, sizeof (double));
    double *ready = (double *) calloc ((size_t) count, sizeof (double));
    int failed = 0;
    for (int round = 0; round < rounds; round++) {
        mcpact_runtime_t *runtime = mcpact_runtime_new ();
        mcpact_session_t *session = mcpact_session_new (runtime);
        for (int i = 0; i < count; i++) {
            char name[32];
            snprintf (name, sizeof name, "s%04d", i);
            mcpact_server_config_t *config
                = mcpact_server_stdio_new (name, MCPACT_BUILD_DIR "/mcpact-fixture");
            mcpact_server_config_add_arg (config, "--init-delay-ms");
            mcpact_server_config_add_arg (config, delay_text);
            mcpact_server_config_set_timeouts (config, 30000, 30000, 0);
            mcpact_session_add_server (session, &config);
        }
        double start = s_now_ms ();
        char *report = mcpact_session_start (session);
        totals[round] = s_now_ms () - start;
        json_error_t error;
        json_t *parsed = json_loads (report, 0, &error);
        size_t index;
        json_t *server;
        failed = 0;
        json_array_foreach (json_object_get (parsed, "servers"), index, server) {
            ready[index] = (double) json_integer_value (json_object_get (server, "ms"));
            failed += strcmp (json_string_value (json_object_get (server, "state")), "ready") != 0;
        }
        json_decref (parsed);
        free (report);
        mcpact_session_destroy (&session);
        mcpact_runtime_destroy (&runtime);
    }
    qsort (totals, (size_t) rounds, sizeof (double), s_compare);
    qsort (ready, (size_t) count, sizeof (double), s_compare);
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    double median = totals[rounds / 2];
    double p50 = ready[count / 2], p99 = ready[(count * 99) / 100 < count ? (count * 99) / 100 : count - 1];
    if (json)
        printf ("{\"bench\":\"start\",\"servers\":%d,\"delay_ms\":%d,\"rounds\":%d,"
                "\"all_ready_ms\":%.1f,\"ready_p50_ms\":%.0f,\"ready_p99_ms\":%.0f,"
                "\"failed\":%d,\"peak_rss_kb\":%ld}\n",
                count, delay, rounds, median, p50, p99, failed, usage.ru_maxrss);
    else
        printf ("start: %d stdio servers, init delay %d ms: all ready in %.1f ms (median of "
                "%d), per-server ready p50 %.0f ms p99 %.0f ms, %d failed, peak RSS %ld KiB\n",
                count, delay, median, rounds, p50, p99, failed, usage.ru_maxrss);
    free (totals);
    free (ready);
    return failed ? 1 : 0;
}
