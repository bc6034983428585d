//  Sequential tool calls with the TypeScript SDK client: the twin of
//  bench/bench_latency.c. W warm-up calls of echo, then N more one after
//  another, each timed from callTool to its result: p50, p99, p99.9.
//
//    node latency.mjs [-n CALLS] [-w WARMUP] [--http URL] [--fixture PATH] [--json]

import { defaultFixture, echo, newClient, newTransport, parseArgs, quantile, report, round, sorted } from './lib.mjs';

const opts = parseArgs({ '-n': 20000, '-w': 2000, '--http': '', '--fixture': defaultFixture, '--json': true },
    'node latency.mjs [-n CALLS] [-w WARMUP] [--http URL] [--fixture PATH] [--json]');
const url = opts['--http'] || undefined;
const client = newClient();
await client.connect(newTransport({ fixture: opts['--fixture'], url }));
await client.listTools();

for (let i = 0; i < opts['-w']; i++) await echo(client);
const calls = opts['-n'];
const times = new Float64Array(calls);
let sum = 0;
const began = performance.now();
for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await echo(client);
    times[i] = (performance.now() - start) * 1000;
    sum += times[i];
}
const elapsed = performance.now() - began;
await client.close().catch(() => {});
const order = sorted(times);
report({
    bench: 'latency', client: 'ts-sdk', transport: url ? 'http' : 'stdio', calls, warmup: opts['-w'],
    p50_us: round(quantile(order, 0.5)), p99_us: round(quantile(order, 0.99)), p999_us: round(quantile(order, 0.999)),
    mean_us: round(sum / calls), min_us: round(order[0]), max_us: round(order[calls - 1]),
    calls_per_s: Math.round(calls / (elapsed / 1000)),
});
