/*  =========================================================================
    bench.h - what every benchmark program shares

    Clocks, order statistics, this process's memory, the CPUs it may run
    on and the fixture server's path. Header-only (static functions), so
    that each program in bench/ stays one file that CMake builds on its own.
    Nothing here keeps state; every function may be called from any thread.
    =========================================================================
*/

#ifndef MCPACT_BENCH_H_INCLUDED
#define MCPACT_BENCH_H_INCLUDED

#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  Every program takes --fixture PATH; by default the benchmarks' own server
//  (bench/fixture/bench_server.c), built beside it.
#define BENCH_FIXTURE MCPACT_BUILD_DIR "/mcpact-bench-server"

//  The file name of the server a program started (its path's last part),
//  for the self-describing line: which build of the fixture it was.
static inline const char *
bench_basename (const char *path)
{
    const char *slash = strrchr (path, '/');
    return slash ? slash + 1 : path;
}

static inline double
bench_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline double
bench_now_ms (void)
{
    return bench_now_us () / 1e3;
}

static inline int
bench_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static inline void
bench_sort (double *values, size_t count)
{
    qsort (values, count, sizeof (double), bench_compare);
}

//  The q-quantile (0..1) of sorted values, nearest rank: the smallest value
//  with at least q of all values at or below it. 0 for no values.
static inline double
bench_quantile (const double *sorted, size_t count, double q)
{
    if (count == 0)
        return 0;
    double rank = q * (double) count;
    size_t index = (size_t) rank;
    if ((double) index < rank)
        index++;
    if (index > 0)
        index--;
    return sorted[index < count ? index : count - 1];
}

//  Resident set size now, in KiB (from /proc/self/statm).
static inline long
bench_rss_kb (void)
{
    long pages = 0, resident = 0;
    FILE *file = fopen ("/proc/self/statm", "r");
    if (!file)
        return -1;
    if (fscanf (file, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose (file);
    return resident < 0 ? -1 : resident * (sysconf (_SC_PAGESIZE) / 1024);
}

//  Highest resident set size so far, in KiB.
static inline long
bench_peak_rss_kb (void)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

//  Threads of this process now (from /proc/self/status).
static inline int
bench_threads (void)
{
    char line[256];
    int threads = -1;
    FILE *file = fopen ("/proc/self/status", "r");
    if (!file)
        return -1;
    while (fgets (line, sizeof line, file))
        if (sscanf (line, "Threads: %d", &threads) == 1)
            break;
    fclose (file);
    return threads;
}

//  How many CPUs we may run on (1 when pinned with taskset -c 0).
static inline int
bench_cpus (void)
{
    cpu_set_t set;
    if (sched_getaffinity (0, sizeof set, &set) != 0)
        return (int) sysconf (_SC_NPROCESSORS_ONLN);
    return CPU_COUNT (&set);
}

//  Starts `path` with `argv` (NULL-terminated), its stdout on a pipe, and
//  reads its first line, which must be "bound ENDPOINT" (mcpact serve,
//  bench_serve --echo): fills `bound` with the endpoint and returns the
//  pid. A program that says anything else, or nothing, is stopped
//  (SIGTERM, reaped): returns -1.
static inline pid_t
bench_spawn_bound (const char *path, const char *const *argv, char *bound, size_t size)
{
    *bound = 0;
    int fds[2];
    if (pipe (fds) != 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, fds[1], 1);
    posix_spawn_file_actions_addclose (&actions, fds[0]);
    pid_t pid = -1;
    extern char **environ;
    int rc = posix_spawn (&pid, path, &actions, NULL, (char **) argv, environ);
    posix_spawn_file_actions_destroy (&actions);
    close (fds[1]);
    FILE *out = rc == 0 ? fdopen (fds[0], "r") : NULL;
    char line[300];
    if (out && fgets (line, sizeof line, out) && strncmp (line, "bound ", 6) == 0) {
        size_t length = strcspn (line + 6, "\n");
        if (length < size) {
            memcpy (bound, line + 6, length);
            bound[length] = 0;
        }
    }
    if (out)
        fclose (out);
    else
        close (fds[0]);
    if (!*bound && rc == 0) {
        kill (pid, SIGTERM);
        waitpid (pid, NULL, 0);
    }
    return *bound ? pid : -1;
}

//  Parses a positive integer option value or exits with a usage message.
static inline long
bench_count (const char *option, const char *value, long min)
{
    char *end = NULL;
    long number = value ? strtol (value, &end, 10) : 0;
    if (!value || *end || number < min) {
        fprintf (stderr, "%s needs an integer >= %ld\n", option, min);
        exit (2);
    }
    return number;
}

//  One option of a program: a number (`integer` or `number`, at least
//  `min`), a text (`text`) or a flag (`flag`, given alone).
typedef struct {
    const char *name; //  "-n", "--fixture", "--json"
    int *integer;
    long *number;
    long min;
    const char **text;
    bool *flag;
} bench_opt_t;

//  Parses the command line by `opts` (ended by an entry without a name);
//  anything else prints `usage` and exits with 2.
static inline void
bench_parse (int argc, char **argv, const bench_opt_t *opts, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        const bench_opt_t *opt = opts;
        while (opt->name && !streq (opt->name, argv[i]))
            opt++;
        if (opt->flag)
            *opt->flag = true;
        else if (opt->name && i + 1 < argc && opt->number)
            *opt->number = bench_count (opt->name, argv[++i], opt->min);
        else if (opt->name && i + 1 < argc && opt->integer)
            *opt->integer = (int) bench_count (opt->name, argv[++i], opt->min);
        else if (opt->name && i + 1 < argc && opt->text)
            *opt->text = argv[++i];
        else {
            fprintf (stderr, "usage: %s\n", usage);
            exit (2);
        }
    }
}

#endif
