/*  =========================================================================
    bench_init - `mcpact bench init`: how long your own servers take to start

    Starts the servers of a configuration file R times, each time in a fresh
    runtime, and prints for each server its time-to-ready (median, fastest,
    slowest and first round) and state, slowest first, with the time until
    all were up. Uses only the public API.
    =========================================================================
*/

#ifndef MCPACT_CLI_BENCH_INIT_H_INCLUDED
#define MCPACT_CLI_BENCH_INIT_H_INCLUDED

//  Runs `bench init`. argv[0] is the command word ("init"), skipped;
//  the options follow it:
//
//    -c FILE, --config FILE   the mcpServers JSON file (required)
//    -r R, --rounds R         start it R times (default 5), report medians
//    --agent NAME             start the servers of agent NAME instead
//    --json                   print the report as one JSON object
//    -q, --quiet              only errors on stderr: no line per round, no warnings
//    -h, --help               print the usage
//
//  Returns the exit status: 0 when every round ran (servers that failed to
//  start are reported, not an error), 1 if the runtime could not start, 2
//  for a usage or configuration error.
int cli_bench_init (int argc, char **argv);

#endif
