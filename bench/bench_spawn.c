/*  =========================================================================
    bench_spawn - the floor under parallel start-up: no runtime at all

    What starting N stdio MCP servers costs on this machine before any
    client design enters: T plain threads (default: one per CPU) each
    posix_spawn their share of N fixture servers with three pipes (stdin,
    stdout and stderr, as mcpact's stdio transport has them), then
    write each one initialize, notifications/initialized and tools/list,
    and read until both answers are in. No ZeroMQ, no actors, no JSON
    parsing (answers are only counted by their newlines). The time until
    every server has answered both is the least a client could take here;
    bench_start's figure for the same N and D is to be read against it.
    Each spawn copies the spawning process's descriptor table, which here
    grows by three pipes per server: with --helper the servers are
    spawned instead by mcpact's spawn helper (transports/spawner.h), a
    small process holding a few descriptors, as the runtime does; the
    floor then is that of spawning from a small process. Prints one
    self-describing line (--json for JSON); -r runs R rounds and reports
    the median.

      bench_spawn [-n N] [-d DELAY_MS] [-t THREADS] [-r ROUNDS] [--helper] [--fixture PATH]
                  [--json]
    =========================================================================
*/

#include "bench.h"
#include "../transports/spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

typedef struct {
    const char *fixture;
    const char *delay;
    int first, count;      //  this thread's servers: [first, first + count)
    spawner_proc_t *procs; //  all servers, by index (pid 0: not started)
    bool helper;           //  spawned by the spawn helper
    int failed;            //  servers that did not answer
} s_share_t;

static const char s_requests[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
    "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench_spawn\","
    "\"version\":\"1\"}}}\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n";

static void *
s_run (void *arg)
{
    s_share_t *share = (s_share_t *) arg;
    struct pollfd *fds = (struct pollfd *) calloc ((size_t) share->count, sizeof *fds);
    int *in = (int *) calloc ((size_t) share->count, sizeof (int));
    int *err = (int *) calloc ((size_t) share->count, sizeof (int));
    int *lines = (int *) calloc ((size_t) share->count, sizeof (int));
    char *argv[] = { (char *) share->fixture, "--init-delay-ms", (char *) share->delay, NULL };
    for (int i = 0; i < share->count; i++) {
        int to[2], from[2], errors[2];
        fds[i].fd = -1;
        err[i] = -1;
        if (pipe2 (to, O_CLOEXEC) || pipe2 (from, O_CLOEXEC) || pipe2 (errors, O_CLOEXEC))
            continue;
        spawner_proc_t *proc = &share->procs[share->first + i];
        pid_t *pid = &proc->pid;
        *proc = (spawner_proc_t){ 0, -1 };
        if (share->helper) {
            spawner_child_t child = {
                share->fixture, argv, environ, NULL, to[0], from[1], errors[1]
            };
            char *error = NULL;
            if (spawner_spawn (&child, proc, &error) != 0)
                *proc = (spawner_proc_t){ 0, -1 };
            free (error);
        } else {
            posix_spawn_file_actions_t actions;
            posix_spawn_file_actions_init (&actions);
            posix_spawn_file_actions_adddup2 (&actions, to[0], 0);
            posix_spawn_file_actions_adddup2 (&actions, from[1], 1);
            posix_spawn_file_actions_adddup2 (&actions, errors[1], 2);
            if (posix_spawn (pid, share->fixture, &actions, NULL, argv, environ) != 0)
                *pid = 0;
            posix_spawn_file_actions_destroy (&actions);
        }
        close (to[0]);
        close (from[1]);
        close (errors[1]);
        err[i] = errors[0];
        //  Like a client: the requests go out as soon as the child exists.
        if (*pid && write (to[1], s_requests, sizeof s_requests - 1) > 0) {
            fds[i] = (struct pollfd){ from[0], POLLIN, 0 };
            in[i] = to[1];
        } else {
            close (to[1]);
            close (from[0]);
            close (err[i]);
        }
    }
    int open = 0;
    for (int i = 0; i < share->count; i++)
        open += fds[i].fd >= 0;
    share->failed = share->count - open;
    while (open > 0) {
        if (poll (fds, (nfds_t) share->count, 30000) <= 0)
            break;
        for (int i = 0; i < share->count; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char buffer[4096];
            ssize_t rc = read (fds[i].fd, buffer, sizeof buffer);
            for (ssize_t b = 0; b < rc; b++)
                lines[i] += buffer[b] == '\n';
            if (rc <= 0 || lines[i] >= 2) {
                share->failed += lines[i] < 2;
                close (fds[i].fd);
                close (in[i]); //  EOF: the server exits
                close (err[i]);
                fds[i].fd = -1;
                open--;
            }
        }
    }
    share->failed += open;
    for (int i = 0; i < share->count; i++)
        if (fds[i].fd >= 0) {
            close (fds[i].fd);
            close (in[i]);
            close (err[i]);
        }
    free (fds);
    free (in);
    free (err);
    free (lines);
    return NULL;
}

int
main (int argc, char **argv)
{
    int count = 128, delay = 0, threads = bench_cpus (), rounds = 1;
    const char *fixture = BENCH_FIXTURE;
    bool json = false, helper = false;
    const bench_opt_t opts[] = {
        { .name = "-n", .integer = &count, .min = 1 },
        { .name = "-d", .integer = &delay, .min = 0 },
        { .name = "-t", .integer = &threads, .min = 1 },
        { .name = "-r", .integer = &rounds, .min = 1 },
        { .name = "--helper", .flag = &helper },
        { .name = "--fixture", .text = &fixture },
        { .name = "--json", .flag = &json },
        { 0 },
    };
    bench_parse (
        argc, argv, opts,
        "bench_spawn [-n N] [-d DELAY_MS] [-t THREADS] [-r ROUNDS] [--helper] [--fixture PATH] "
        "[--json]");
    if (threads > count)
        threads = count;
    signal (SIGPIPE, SIG_IGN);
    char delay_text[16];
    snprintf (delay_text, sizeof delay_text, "%d", delay);
    double *totals = (double *) calloc ((size_t) rounds, sizeof (double));
    if (helper && (spawner_start () != 0 || spawner_helper_pid () == 0)) {
        fprintf (stderr, "bench_spawn: the spawn helper did not start\n");
        return 1;
    }
    spawner_proc_t *procs = (spawner_proc_t *) calloc ((size_t) count, sizeof (spawner_proc_t));
    s_share_t *shares = (s_share_t *) calloc ((size_t) threads, sizeof (s_share_t));
    pthread_t *ids = (pthread_t *) calloc ((size_t) threads, sizeof (pthread_t));
    int failed = 0;
    for (int round = 0; round < rounds; round++) {
        double start = bench_now_ms ();
        for (int t = 0; t < threads; t++) {
            int first = count * t / threads, next = count * (t + 1) / threads;
            shares[t] = (s_share_t){ fixture, delay_text, first, next - first, procs, helper, 0 };
            pthread_create (&ids[t], NULL, s_run, &shares[t]);
        }
        for (int t = 0; t < threads; t++) {
            pthread_join (ids[t], NULL);
            failed += shares[t].failed;
        }
        totals[round] = bench_now_ms () - start;
        for (int i = 0; i < count; i++) {
            int status;
            while (procs[i].pid > 0 && spawner_reap (&procs[i], -1, &status) == 0)
                usleep (1000);
        }
    }
    bench_sort (totals, (size_t) rounds);
    double median = bench_quantile (totals, (size_t) rounds, 0.5);
    if (json)
        printf ("{\"bench\":\"spawn\",\"client\":\"none\",\"transport\":\"stdio\",\"servers\":%d,"
                "\"delay_ms\":%d,\"threads\":%d,\"rounds\":%d,\"all_ready_ms\":%.1f,"
                "\"failed\":%d,\"fixture\":\"%s\",\"cpus\":%d%s}\n",
                count, delay, threads, rounds, median, failed, bench_basename (fixture),
                bench_cpus (), helper ? ",\"spawned_by\":\"helper\"" : "");
    else
        printf ("spawn: %d stdio servers, init delay %d ms, %d threads, no runtime%s: all answered "
                "initialize and tools/list in %.1f ms (median of %d); %d failed; %d CPUs\n",
                count, delay, threads, helper ? ", spawned by the spawn helper" : "", median,
                rounds, failed, bench_cpus ());
    free (totals);
    free (procs);
    if (helper)
        spawner_stop ();
    free (shares);
    free (ids);
    return failed ? 1 : 0;
}
