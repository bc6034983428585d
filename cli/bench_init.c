/*  =========================================================================
    bench_init - `mcpact bench init`: how long your own servers take to start

    Each round builds a fresh runtime, loads the configuration file, creates
    the agent (the unnamed one, or --agent NAME) and times
    mcpact_agent_start, whose report gives each server's state and its own
    time-to-ready ("ms"). After R rounds it prints one row per server,
    slowest median first, and the time until start returned. A fresh
    runtime per round means every round spawns every server anew, as a
    host's start-up would; the first round is shown apart, since caches
    (npx, the disk) make it the slow one.

    What the runtime logs goes to stderr as the rest of mcpact says it
    ("mcpact: ..."), each thing once over all rounds: every round starts
    the same servers, and a failing one would otherwise be said R times.

    Single-threaded, but for the log sink, which the runtime's threads
    call (under a lock of its own). Everything it creates is destroyed
    before it returns, on every path.
    =========================================================================
*/

#include "bench_init.h"
#include "cli.h"

#include <mcpact.h>

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

#define DEFAULT_ROUNDS 5
#define MAX_ROUNDS 1000

typedef struct {
    char *name;   //  server name
    double *ms;   //  its time-to-ready in each round it reported
    int reported; //  rounds that had it in the report
    int ready;    //  rounds in which it became ready
    int tools;    //  tools when it was last ready
    char *error;  //  the last reason it failed, or NULL
} s_server_t;

typedef struct {
    const char *config_path; //  -c FILE
    const char *agent_name;  //  --agent NAME, or NULL
    int rounds;              //  -r R
    bool json;               //  --json
    bool quiet;              //  -q
    s_server_t *servers;     //  in the order the first report gave them
    size_t count;            //  servers
    double *totals;          //  each round's wall time of mcpact_agent_start
    pthread_mutex_t lock;    //  guards said (the log sink runs on any thread)
    char **said;             //  what the log sink has said, by key
    size_t said_count;       //  keys in said
} s_bench_t;

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

//  Median of `count` values, sorting them in place; 0 for none.
static double
s_median (double *values, int count)
{
    if (count <= 0)
        return 0;
    qsort (values, (size_t) count, sizeof (double), s_compare);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

//  Milliseconds to a tenth, for the JSON report.
static double
s_tenths (double ms)
{
    return (double) (long long) (ms * 10 + 0.5) / 10;
}

static const char *s_usage_line =
    "usage: mcpact bench init -c FILE [-r ROUNDS] [--agent NAME] [--json] [-q]";

static void
s_usage (FILE *stream)
{
    fprintf (stream,
             "%s\n"
             "\n"
             "Starts the servers of FILE ROUNDS times (default %d), each time in a fresh\n"
             "runtime, and prints each server's time-to-ready (median, fastest, slowest,\n"
             "first round) and state, slowest first.\n"
             "\n"
             "Options:\n"
             "  -c, --config FILE   the configuration file (as for every command)\n"
             "  -r, --rounds R      start the servers R times, 1 to %d (default %d)\n"
             "      --agent NAME    the servers of the agent NAME that FILE declares\n"
             "      --json          print {\"schemaVersion\": 1, ...} (docs/cli.md)\n"
             "  -q, --quiet         say only errors: no line per round, no warnings\n",
             s_usage_line, DEFAULT_ROUNDS, MAX_ROUNDS, DEFAULT_ROUNDS);
}

//  One line saying what was wrong and one saying where to look, as every
//  other command says it.
static int s_usage_error (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_usage_error (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fputs ("mcpact: bench init: ", stderr);
    vfprintf (stderr, format, args);
    va_end (args);
    fprintf (stderr, "\n%s\nTry 'mcpact bench init --help' for more information.\n", s_usage_line);
    return 2;
}

//  The runtime's log sink: each line on stderr once over all rounds. A
//  server's failure to start is said once whatever its reason (which may
//  differ between rounds); the report carries the last one.
static void
s_log (mcpact_log_level_t level, const char *message, void *arg)
{
    s_bench_t *self = (s_bench_t *) arg;
    const char *failed =
        strncmp (message, "server ", 7) == 0 ? strstr (message, " failed to start: ") : NULL;
    size_t key_len = failed ? (size_t) (failed - message) : strlen (message);
    pthread_mutex_lock (&self->lock);
    bool said = false;
    for (size_t i = 0; i < self->said_count && !said; i++)
        said = strlen (self->said[i]) == key_len && strncmp (self->said[i], message, key_len) == 0;
    char **grown = said ? NULL : realloc (self->said, (self->said_count + 1) * sizeof (char *));
    if (grown) {
        self->said = grown;
        if ((grown[self->said_count] = strndup (message, key_len)))
            self->said_count++;
    }
    pthread_mutex_unlock (&self->lock);
    static const char *prefixes[] = { "error: ", "", "", "debug: " };
    if (!said)
        fprintf (stderr, "mcpact: %s%s\n", prefixes[level], message);
}

//  Parses the options after argv[0]; returns -1 to go on, else the exit
//  status.
static int
s_parse (s_bench_t *self, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = streq (arg, "-c") || streq (arg, "--config") || streq (arg, "-r") ||
                           streq (arg, "--rounds") || streq (arg, "--agent");
        if (takes_value && !value)
            return s_usage_error ("%s needs a value", arg);
        if (streq (arg, "-h") || streq (arg, "--help")) {
            s_usage (stdout);
            return 0;
        } else if (streq (arg, "-c") || streq (arg, "--config"))
            self->config_path = argv[++i];
        else if (streq (arg, "--agent"))
            self->agent_name = argv[++i];
        else if (streq (arg, "-r") || streq (arg, "--rounds")) {
            char *end = NULL;
            long rounds = strtol (argv[++i], &end, 10);
            if (end == argv[i] || *end || rounds < 1 || rounds > MAX_ROUNDS)
                return s_usage_error ("-r wants a number of rounds from 1 to %d, not '%s'",
                                      MAX_ROUNDS, argv[i]);
            self->rounds = (int) rounds;
        } else if (streq (arg, "--json"))
            self->json = true;
        else if (streq (arg, "-q") || streq (arg, "--quiet"))
            self->quiet = true;
        else
            return s_usage_error ("unknown option %s", arg);
    }
    if (!self->config_path)
        return s_usage_error ("needs a configuration file (-c FILE)");
    return -1;
}

static s_server_t *
s_server (s_bench_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (streq (self->servers[i].name, name))
            return &self->servers[i];
    s_server_t *servers =
        (s_server_t *) realloc (self->servers, (self->count + 1) * sizeof (s_server_t));
    if (!servers)
        return NULL;
    self->servers = servers;
    s_server_t *server = &servers[self->count];
    memset (server, 0, sizeof *server);
    server->name = strdup (name);
    server->ms = (double *) calloc ((size_t) self->rounds, sizeof (double));
    if (!server->name || !server->ms) {
        free (server->name);
        free (server->ms);
        return NULL;
    }
    self->count++;
    return server;
}

//  Takes in one round's report: {"servers": [{"name","state","ms",...}]}.
static int
s_take_report (s_bench_t *self, const char *report)
{
    json_t *parsed = report ? json_loads (report, 0, NULL) : NULL;
    if (!parsed)
        return -1;
    size_t index;
    json_t *entry;
    json_array_foreach (json_object_get (parsed, "servers"), index, entry) {
        const char *name = json_string_value (json_object_get (entry, "name"));
        const char *state = json_string_value (json_object_get (entry, "state"));
        s_server_t *server = s_server (self, name ? name : "?");
        if (!server) {
            json_decref (parsed);
            return -1;
        }
        server->ms[server->reported++] =
            (double) json_integer_value (json_object_get (entry, "ms"));
        if (state && streq (state, "ready")) {
            server->ready++;
            server->tools = (int) json_integer_value (json_object_get (entry, "tools"));
        } else {
            const char *error = json_string_value (json_object_get (entry, "error"));
            free (server->error);
            server->error = strdup (error ? error : state ? state : "no state");
        }
    }
    json_decref (parsed);
    return 0;
}

//  One round: a fresh runtime, the file, the agent, its start. Returns the
//  exit status to give up with, or -1 to go on.
static int
s_round (s_bench_t *self, int round)
{
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    if (!runtime) {
        fprintf (stderr, "mcpact: the runtime could not start\n");
        return 1;
    }
    char *error = NULL;
    int rc = -1;
    mcpact_agent_t *agent = NULL;
    mcpact_session_t *session = mcpact_session_load (runtime, self->config_path, &error);
    if (!session) {
        fprintf (stderr, "mcpact: %s\n", error ? error : "cannot load the configuration");
        rc = 2;
    } else if (self->agent_name) {
        agent = mcpact_agent_from_config (session, self->agent_name);
        if (!agent) {
            char *names = mcpact_session_agent_names (session);
            fprintf (stderr, "mcpact: no agent %s in %s (it declares %s)\n", self->agent_name,
                     self->config_path, names ? names : "[]");
            free (names);
            rc = 2;
        }
    } else
        agent = mcpact_agent_new (session, NULL);
    if (agent) {
        double start = s_now_ms ();
        char *report = mcpact_agent_start (agent);
        self->totals[round] = s_now_ms () - start;
        if (s_take_report (self, report) != 0) {
            fprintf (stderr, "mcpact: no usable start report\n");
            rc = 1;
        }
        free (report);
        if (rc < 0 && !self->quiet && !self->json && isatty (STDERR_FILENO))
            fprintf (stderr, "  round %d/%d: started in %.0f ms\n", round + 1, self->rounds,
                     self->totals[round]);
    } else if (rc < 0) {
        fprintf (stderr, "mcpact: could not create the agent\n");
        rc = 1;
    }
    free (error);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return rc;
}

typedef struct {
    s_server_t *server; //  the row's server
    double median;      //  its median time-to-ready
    double min, max;    //  fastest and slowest round
    double first;       //  the first round
} s_row_t;

static int
s_compare_rows (const void *a, const void *b)
{
    const s_row_t *x = (const s_row_t *) a, *y = (const s_row_t *) b;
    return x->median < y->median ? 1 : x->median > y->median ? -1 : 0;
}

static const char *
s_state (const s_server_t *server)
{
    return server->ready == server->reported ? "ready" : server->ready == 0 ? "failed" : "flaky";
}

static void
s_print (s_bench_t *self)
{
    s_row_t *rows = (s_row_t *) calloc (self->count ? self->count : 1, sizeof (s_row_t));
    for (size_t i = 0; i < self->count; i++) {
        s_server_t *server = &self->servers[i];
        s_row_t *row = &rows[i];
        row->server = server;
        row->first = server->ms[0];
        row->median = s_median (server->ms, server->reported);
        row->min = server->reported ? server->ms[0] : 0;
        row->max = server->reported ? server->ms[server->reported - 1] : 0;
    }
    qsort (rows, self->count, sizeof (s_row_t), s_compare_rows);
    double total = s_median (self->totals, self->rounds);
    double total_min = self->totals[0], total_max = self->totals[self->rounds - 1];
    if (self->json) {
        json_t *servers = json_array ();
        for (size_t i = 0; i < self->count; i++) {
            s_server_t *server = rows[i].server;
            json_t *entry =
                json_pack ("{s:s,s:s,s:i,s:i,s:f,s:f,s:f,s:f,s:i}", "name", server->name, "state",
                           s_state (server), "ready", server->ready, "rounds", server->reported,
                           "ms", s_tenths (rows[i].median), "min_ms", s_tenths (rows[i].min),
                           "max_ms", s_tenths (rows[i].max), "first_ms", s_tenths (rows[i].first),
                           "tools", server->tools);
            if (server->error)
                json_object_set_new (entry, "error", json_string (server->error));
            json_array_append_new (servers, entry);
        }
        json_t *report =
            json_pack ("{s:i,s:s,s:s*,s:i,s:f,s:f,s:f,s:o}", "schemaVersion",
                       CLI_JSON_SCHEMA_VERSION, "config", self->config_path, "agent",
                       self->agent_name, "rounds", self->rounds, "ms", s_tenths (total), "min_ms",
                       s_tenths (total_min), "max_ms", s_tenths (total_max), "servers", servers);
        char *text = json_dumps (report, JSON_COMPACT | JSON_REAL_PRECISION (10));
        if (text)
            puts (text);
        free (text);
        json_decref (report);
    } else {
        int width = 6;
        for (size_t i = 0; i < self->count; i++) {
            int length = (int) strlen (self->servers[i].name);
            width = length > width ? length : width;
        }
        printf ("%-*s  %-6s  %5s  %9s  %9s  %9s  %9s  %5s  %s\n", width, "SERVER", "STATE", "READY",
                "MEDIAN", "MIN", "MAX", "FIRST", "TOOLS", "ERROR");
        for (size_t i = 0; i < self->count; i++) {
            s_row_t *row = &rows[i];
            s_server_t *server = row->server;
            char ready[16];
            snprintf (ready, sizeof ready, "%d/%d", server->ready, server->reported);
            printf ("%-*s  %-6s  %5s  %6.0f ms  %6.0f ms  %6.0f ms  %6.0f ms  %5d  %s\n", width,
                    server->name, s_state (server), ready, row->median, row->min, row->max,
                    row->first, server->tools, server->error ? server->error : "");
        }
        printf ("%zu server%s of %s: all started in %.0f ms (median of %d round%s; fastest "
                "%.0f ms, slowest %.0f ms)\n",
                self->count, self->count == 1 ? "" : "s", self->config_path, total, self->rounds,
                self->rounds == 1 ? "" : "s", total_min, total_max);
    }
    free (rows);
}

int
cli_bench_init (int argc, char **argv)
{
    s_bench_t self = { .rounds = DEFAULT_ROUNDS };
    int rc = s_parse (&self, argc, argv);
    if (rc >= 0)
        return rc;
    self.totals = (double *) calloc ((size_t) self.rounds, sizeof (double));
    if (!self.totals) {
        fprintf (stderr, "mcpact: out of memory\n");
        return 1;
    }
    pthread_mutex_init (&self.lock, NULL);
    mcpact_set_log (s_log, &self, self.quiet ? MCPACT_LOG_ERROR : MCPACT_LOG_WARN);
    for (int round = 0; round < self.rounds && rc < 0; round++)
        rc = s_round (&self, round);
    //  Every runtime is gone: nothing logs into us any more
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    if (rc < 0) {
        s_print (&self);
        rc = 0;
    }
    for (size_t i = 0; i < self.said_count; i++)
        free (self.said[i]);
    free (self.said);
    pthread_mutex_destroy (&self.lock);
    for (size_t i = 0; i < self.count; i++) {
        free (self.servers[i].name);
        free (self.servers[i].ms);
        free (self.servers[i].error);
    }
    free (self.servers);
    free (self.totals);
    return rc;
}
