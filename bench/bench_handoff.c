/*  =========================================================================
    bench_handoff - handing a conversation to a new agent on a live session

    Starts S benchmark servers on one session (tool names prefixed with the
    server's, so each server's echo counts), then times R rounds of what a
    host does to hand off to a fresh agent: mcpact_agent_new without
    servers of its own, mcpact_agent_tools (the agent starts on the
    session's servers, already up, and returns the merged set), and
    mcpact_agent_destroy. W warm-up rounds go first. Prints one
    self-describing line (--json for JSON): p50, p99 and p99.9 of the
    whole round, and the p50 of each of its three steps.

      bench_handoff [-n ROUNDS] [-w WARMUP] [-s SERVERS] [--fixture PATH] [--json]

    Single-threaded host; the runtime's threads do the rest.
    =========================================================================
*/

#include "mcpact.h"
#include "bench.h"

typedef struct {
    double *round;   //  new + tools + destroy
    double *create;  //  mcpact_agent_new
    double *tools;   //  mcpact_agent_tools (start on the session's servers)
    double *destroy; //  mcpact_agent_destroy
} s_times_t;

//  One hand-off; fills slot `index` of `times` (NULL: a warm-up round).
//  Returns the number of tools the agent saw, or -1.
static long
s_handoff (mcpact_session_t *session, s_times_t *times, long index)
{
    double began = bench_now_us ();
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    double created = bench_now_us ();
    char *tools = agent ? mcpact_agent_tools (agent) : NULL;
    double listed = bench_now_us ();
    long count = tools ? (long) mcpact_agent_tool_count (agent) : -1;
    free (tools);
    mcpact_agent_destroy (&agent);
    double ended = bench_now_us ();
    if (times) {
        times->round[index] = ended - began;
        times->create[index] = created - began;
        times->tools[index] = listed - created;
        times->destroy[index] = ended - listed;
    }
    return count;
}

static double
s_p50 (double *values, size_t count)
{
    bench_sort (values, count);
    return bench_quantile (values, count, 0.5);
}

int
main (int argc, char **argv)
{
    long rounds = 10000, warmup = 500;
    int servers = 8;
    const char *fixture = BENCH_FIXTURE;
    bool json = false;
    const bench_opt_t opts[] = {
        { .name = "-n", .number = &rounds, .min = 1 },
        { .name = "-w", .number = &warmup, .min = 0 },
        { .name = "-s", .integer = &servers, .min = 1 },
        { .name = "--fixture", .text = &fixture },
        { .name = "--json", .flag = &json },
        { 0 },
    };
    bench_parse (argc, argv, opts,
                 "bench_handoff [-n ROUNDS] [-w WARMUP] [-s SERVERS] [--fixture PATH] [--json]");
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    if (!runtime)
        return 1;
    mcpact_session_t *session = mcpact_session_new (runtime);
    mcpact_session_set_name_policy (session, MCPACT_NAMES_PREFIX);
    for (int i = 0; i < servers; i++) {
        char name[32];
        snprintf (name, sizeof name, "bench%d", i);
        mcpact_server_config_t *config = mcpact_server_stdio_new (name, fixture);
        if (mcpact_session_add_server (session, &config))
            mcpact_server_config_destroy (&config);
    }
    free (mcpact_session_start (session));

    //  Every server up and its tool in the set, or the figure means nothing.
    long tools = s_handoff (session, NULL, 0);
    int rc = tools == servers ? 0 : 1;
    if (rc)
        fprintf (stderr, "bench_handoff: the agent saw %ld tools, not one per server (%d)\n", tools,
                 servers);
    for (long i = 0; i < warmup && rc == 0; i++)
        rc = s_handoff (session, NULL, 0) == tools ? 0 : 1;
    s_times_t times = {
        (double *) calloc ((size_t) rounds, sizeof (double)),
        (double *) calloc ((size_t) rounds, sizeof (double)),
        (double *) calloc ((size_t) rounds, sizeof (double)),
        (double *) calloc ((size_t) rounds, sizeof (double)),
    };
    double sum = 0;
    for (long i = 0; i < rounds && rc == 0; i++) {
        rc = s_handoff (session, &times, i) == tools ? 0 : 1;
        sum += times.round[i];
    }
    if (rc == 0) {
        size_t count = (size_t) rounds;
        bench_sort (times.round, count);
        double p50 = bench_quantile (times.round, count, 0.5);
        double p99 = bench_quantile (times.round, count, 0.99);
        double p999 = bench_quantile (times.round, count, 0.999);
        double create = s_p50 (times.create, count);
        double list = s_p50 (times.tools, count);
        double destroy = s_p50 (times.destroy, count);
        if (json)
            printf ("{\"bench\":\"handoff\",\"client\":\"mcpact\",\"servers\":%d,\"tools\":%ld,"
                    "\"rounds\":%ld,\"warmup\":%ld,\"p50_us\":%.1f,\"p99_us\":%.1f,"
                    "\"p999_us\":%.1f,\"mean_us\":%.1f,\"max_us\":%.1f,\"new_p50_us\":%.1f,"
                    "\"tools_p50_us\":%.1f,\"destroy_p50_us\":%.1f,\"cpus\":%d}\n",
                    servers, tools, rounds, warmup, p50, p99, p999, sum / (double) rounds,
                    times.round[count - 1], create, list, destroy, bench_cpus ());
        else
            printf ("handoff: %ld rounds of agent new + tools + destroy on a session with %d "
                    "servers up (%ld tools) after %ld warm-up: p50 %.1f us p99 %.1f us p99.9 "
                    "%.1f us, mean %.1f us (max %.1f); p50 new %.1f us, tools %.1f us, destroy "
                    "%.1f us; %d CPUs\n",
                    rounds, servers, tools, warmup, p50, p99, p999, sum / (double) rounds,
                    times.round[count - 1], create, list, destroy, bench_cpus ());
    }
    free (times.round);
    free (times.create);
    free (times.tools);
    free (times.destroy);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return rc;
}
