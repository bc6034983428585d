/*  =========================================================================
    bench_churn - mcpact serve's resident memory over rounds of short-lived
    clients

    Starts `mcpact serve` on one bench server, bound at an ipc:// endpoint
    in a private directory, as a user would. Each round connects C DEALER
    clients at once; each sends HELLO and K CALLs of the bench server's
    echo, reads its K + 1 replies and goes away. After each round, and
    --settle ms of quiet, it reads the daemon's resident size (VmRSS of
    /proc/PID/status); at the end its peak (VmHWM). Prints one
    self-describing line (--json for JSON): the size at the start, after
    the first and the last round, the largest after a round, and the peak.
    Memory that grows from round to round is state kept per client; a size
    that returns near the start after each round is ZeroMQ's buffers for
    the clients connected at once (about 60 KB each), freed and given back
    (docs/performance.md, "Memory with short-lived clients"). A reply
    that does not come makes the program fail.

      bench_churn [-r ROUNDS] [-c CLIENTS] [-k CALLS] [--settle MS]
                  [--fixture PATH] [--json]

    One thread; the clients are sockets of this process (their ZeroMQ
    buffers are this process's, not the daemon's).
    =========================================================================
*/

#include "mcpact.h"
#include "bench.h"

#include <czmq.h>
#include <signal.h>
#include <sys/wait.h>

//  `mcpact serve`, built beside this program.
#define BENCH_CLI MCPACT_BUILD_DIR "/mcpact"

//  A line "NAME: N kB" of /proc/PID/status, in KiB, or -1.
static long
s_status_kb (pid_t pid, const char *name)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    long value = -1;
    size_t size = strlen (name);
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, name, size) == 0 && line[size] == ':')
            value = atol (line + size + 1);
    if (file)
        fclose (file);
    return value;
}

//  Starts `mcpact serve` on the bench server at ipc://DIR/gw.sock, with
//  room for `in_flight` calls, and reads where it is bound. Returns its pid, or -1.
static pid_t
s_daemon_start (const char *dir, const char *fixture, long in_flight, char *bound, size_t size)
{
    char config[256], endpoint[256];
    snprintf (config, sizeof config, "%s/serve.json", dir);
    FILE *file = fopen (config, "w");
    if (!file)
        return -1;
    //  Every call of a round may be in flight at once: none is refused.
    fprintf (file,
             "{\"mcpServers\": {\"bench\": {\"command\": \"%s\", \"limits\": {\"inFlight\": "
             "%ld}}}}",
             fixture, in_flight);
    fclose (file);
    snprintf (endpoint, sizeof endpoint, "ipc://%s/gw.sock", dir);
    const char *argv[] = { BENCH_CLI, "serve", "-q", "-c", config, "--bind", endpoint, NULL };
    return bench_spawn_bound (BENCH_CLI, argv, bound, size);
}

//  One round: `count` clients connected at once, HELLO and `calls` CALLs
//  each, every reply read, then all closed. Returns the replies missing.
static long
s_round (const char *endpoint, int count, int calls)
{
    zsock_t **clients = (zsock_t **) calloc ((size_t) count, sizeof (zsock_t *));
    if (!clients)
        return (long) count * (calls + 1);
    long missing = 0;
    for (int i = 0; i < count; i++) {
        clients[i] = zsock_new_dealer (endpoint);
        if (!clients[i]) {
            missing += calls + 1;
            continue;
        }
        zsock_set_linger (clients[i], 0);
        zstr_sendx (clients[i], "HELLO", "h", NULL);
        for (int c = 0; c < calls; c++) {
            char id[16];
            snprintf (id, sizeof id, "c%d", c);
            zstr_sendx (clients[i], "CALL", id, "", "echo", "{\"message\":\"hello\"}", NULL);
        }
    }
    for (int i = 0; i < count; i++) {
        for (int got = 0; clients[i] && got < calls + 1; got++) {
            zpoller_t *poller = zpoller_new (clients[i], NULL);
            bool ready = zpoller_wait (poller, 10000) != NULL;
            zpoller_destroy (&poller);
            zmsg_t *reply = ready ? zmsg_recv (clients[i]) : NULL;
            //  RESULT id status json: status 0 for the echo (a refusal, 9, is
            //  counted as missing: the round would not be what it says)
            char *verb = reply ? zmsg_popstr (reply) : NULL;
            free (reply ? zmsg_popstr (reply) : NULL);
            char *status = reply && verb && streq (verb, "RESULT") ? zmsg_popstr (reply) : NULL;
            if (!verb || (streq (verb, "RESULT") && (!status || !streq (status, "0"))) ||
                (!streq (verb, "RESULT") && !streq (verb, "HELLO")))
                missing++;
            free (verb);
            free (status);
            zmsg_destroy (&reply);
            if (!ready) {
                missing += calls - got;
                break;
            }
        }
        zsock_destroy (&clients[i]);
    }
    free (clients);
    return missing;
}

int
main (int argc, char *argv[])
{
    long rounds = 10, count = 2000, calls = 3, settle_ms = 1500;
    const char *fixture = BENCH_FIXTURE;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (streq (argv[i], "--json"))
            json = true;
        else if (streq (argv[i], "-r") && ++i)
            rounds = bench_count ("-r", value, 1);
        else if (streq (argv[i], "-c") && ++i)
            count = bench_count ("-c", value, 1);
        else if (streq (argv[i], "-k") && ++i)
            calls = bench_count ("-k", value, 0);
        else if (streq (argv[i], "--settle") && ++i)
            settle_ms = bench_count ("--settle", value, 0);
        else if (value && streq (argv[i], "--fixture") && ++i)
            fixture = value;
        else {
            fprintf (stderr, "usage: bench_churn [-r ROUNDS] [-c CLIENTS] [-k CALLS] "
                             "[--settle MS] [--fixture PATH] [--json]\n");
            return 2;
        }
    }
    //  Output cut short (| head) must not end this program before it has
    //  stopped the daemon.
    signal (SIGPIPE, SIG_IGN);
    //  Every client is a socket here, with a descriptor or two of its own.
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
    zsys_set_max_sockets ((size_t) count + 64);
    char dir[] = "/tmp/bench-churn-XXXXXX";
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return 1;
    }
    char bound[256];
    pid_t daemon = s_daemon_start (dir, fixture, count * (calls + 1), bound, sizeof bound);
    if (daemon <= 0) {
        fprintf (stderr, "bench_churn: mcpact serve did not start\n");
        return 1;
    }
    zclock_sleep ((int) settle_ms);
    long start_kb = s_status_kb (daemon, "VmRSS"), first_kb = 0, last_kb = 0, max_kb = 0;
    long missing = 0;
    double started = bench_now_ms ();
    for (long round = 0; round < rounds; round++) {
        missing += s_round (bound, (int) count, (int) calls);
        zclock_sleep ((int) settle_ms);
        last_kb = s_status_kb (daemon, "VmRSS");
        if (round == 0)
            first_kb = last_kb;
        if (last_kb > max_kb)
            max_kb = last_kb;
    }
    double seconds = (bench_now_ms () - started) / 1e3 - (double) (rounds * settle_ms) / 1e3;
    long peak_kb = s_status_kb (daemon, "VmHWM");
    kill (daemon, SIGTERM);
    waitpid (daemon, NULL, 0);
    char command[128];
    snprintf (command, sizeof command, "rm -rf '%s'", dir);
    if (system (command) != 0)
        fprintf (stderr, "bench_churn: could not remove %s\n", dir);
    if (json)
        printf ("{\"bench\":\"churn\",\"rounds\":%ld,\"clients\":%ld,\"callsPerClient\":%ld,"
                "\"settleMs\":%ld,\"rssStartKb\":%ld,\"rssAfterFirstKb\":%ld,"
                "\"rssAfterLastKb\":%ld,\"rssAfterRoundMaxKb\":%ld,\"rssPeakKb\":%ld,"
                "\"clientSeconds\":%.2f,\"missing\":%ld,\"fixture\":\"%s\"}\n",
                rounds, count, calls, settle_ms, start_kb, first_kb, last_kb, max_kb, peak_kb,
                seconds, missing, bench_basename (fixture));
    else
        printf ("serve churn: %ld rounds of %ld clients at once (HELLO + %ld CALLs each), RSS "
                "measured %ld ms after each: %.1f MB at start, %.1f MB after the first round, "
                "%.1f MB after the last (at most %.1f MB), peak %.1f MB during a round; %.2f s of "
                "clients, %ld replies missing (%s)\n",
                rounds, count, calls, settle_ms, start_kb / 1024.0, first_kb / 1024.0,
                last_kb / 1024.0, max_kb / 1024.0, peak_kb / 1024.0, seconds, missing,
                bench_basename (fixture));
    return missing ? 1 : 0;
}
