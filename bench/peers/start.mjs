//  Start-up of N stdio MCP servers with the TypeScript SDK client: the twin
//  of bench/bench_start.c. Promise.all of N (connect + listTools) over
//  StdioClientTransport, each fixture answering initialize after D ms.
//  Times until every tool list is in; stamps when each transport had
//  spawned its child (the spawn phase ends with the last) and when each
//  server was ready. RSS is measured with all N clients connected.
//
//    node start.mjs [-n N] [-d DELAY_MS] [--fixture PATH] [--json]

import { basename } from 'node:path';
import { defaultFixture, fail, newClient, newTransport, parseArgs, quantile, report, round, sorted } from './lib.mjs';

const opts = parseArgs({ '-n': 8, '-d': 0, '--fixture': defaultFixture, '--json': true },
    'node start.mjs [-n N] [-d DELAY_MS] [--fixture PATH] [--json]');
const count = opts['-n'];
const args = ['--init-delay-ms', String(opts['-d'])];

const spawned = [];
const seen = [];
let failed = 0;
const start = performance.now();
const clients = await Promise.all(Array.from({ length: count }, async () => {
    const client = newClient();
    const transport = newTransport({ fixture: opts['--fixture'], args });
    const startTransport = transport.start.bind(transport);
    transport.start = async () => {
        await startTransport();
        spawned.push(performance.now() - start);
    };
    try {
        await client.connect(transport);
        await client.listTools();
        seen.push(performance.now() - start);
    } catch (error) {
        failed++;
        process.stderr.write(`start: ${error.message}\n`);
    }
    return client;
}));
const all = performance.now() - start;
const rss = Math.round(process.memoryUsage().rss / 1024);
const times = sorted(seen);
const first = times.length ? times[0] : 0;
const last = times.length ? times[times.length - 1] : 0;
await Promise.all(clients.map((client) => client.close().catch(() => {})));
if (failed) fail(`start: ${failed} of ${count} servers failed`);
report({
    bench: 'start', client: 'ts-sdk', transport: 'stdio', servers: count, delay_ms: opts['-d'], rounds: 1,
    all_ready_ms: round(all), seen_first_ms: round(first), seen_p50_ms: round(quantile(times, 0.5)),
    seen_p90_ms: round(quantile(times, 0.9)), seen_p99_ms: round(quantile(times, 0.99)), seen_max_ms: round(last),
    spawn_phase_ms: round(Math.max(0, ...spawned)), ready_spread_ms: round(last - first), failed,
    rss_kb: rss, peak_rss_kb: process.resourceUsage().maxRSS, fixture: basename(opts['--fixture']),
});
