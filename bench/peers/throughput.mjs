//  Many tool calls in flight with the TypeScript SDK client: the twin of
//  bench/bench_throughput.c. S clients (stdio fixtures, or S sessions of
//  one streamable HTTP server), F echo calls in flight, sent to the
//  clients in turn; each result sends the next call. After W warm-up
//  calls, N calls are timed until the last result: calls/s. Node runs
//  JavaScript on one thread, so there is no host-thread count to set.
//
//    node throughput.mjs [-s SERVERS] [-f IN_FLIGHT] [-n CALLS] [-w WARMUP]
//                        [--http URL] [--fixture PATH] [--json]

import { defaultFixture, echo, fail, newClient, newTransport, parseArgs, report, round } from './lib.mjs';

const usage = 'node throughput.mjs [-s SERVERS] [-f IN_FLIGHT] [-n CALLS] [-w WARMUP] [--http URL] [--fixture PATH] [--json]';
const opts = parseArgs({ '-s': 1, '-f': 64, '-n': 100000, '-w': 5000, '--http': '', '--fixture': defaultFixture, '--json': true }, usage);
const url = opts['--http'] || undefined;
const clients = await Promise.all(Array.from({ length: opts['-s'] }, async () => {
    const client = newClient();
    await client.connect(newTransport({ fixture: opts['--fixture'], url }));
    await client.listTools();
    return client;
}));

//  Makes `total` calls with `inFlight` lanes, each sending its next call
//  when its last one came back.
async function run(total, inFlight) {
    let sent = 0;
    let next = 0;
    async function lane() {
        while (sent < total) {
            sent++;
            const client = clients[next];
            next = (next + 1) % clients.length;
            await echo(client);
        }
    }
    await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
}

try {
    await run(opts['-w'], opts['-f']);
    const start = performance.now();
    await run(opts['-n'], opts['-f']);
    const seconds = (performance.now() - start) / 1000;
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
    report({
        bench: 'throughput', client: 'ts-sdk', transport: url ? 'http' : 'stdio', servers: opts['-s'],
        in_flight: opts['-f'], threads: 1, calls: opts['-n'], warmup: opts['-w'], seconds: round(seconds, 3),
        calls_per_s: Math.round(opts['-n'] / seconds),
    });
} catch (error) {
    fail(`throughput: ${error.message}`);
}
