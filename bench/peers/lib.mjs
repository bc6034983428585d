//  What the TypeScript SDK benchmark scripts share: the command line, the
//  client and its transport, order statistics, and the one JSON line each
//  prints. The same workloads as bench/*.c, against the same servers.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const here = dirname(fileURLToPath(import.meta.url));

//  The SDK's version, from its package.json, for the record.
export const sdkVersion = JSON.parse(
    readFileSync(join(here, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json'), 'utf8'),
).version;

//  Options as ours take them: -n 8 --http URL --json. `spec` maps each
//  option to its default; numbers stay numbers, flags are booleans.
export function parseArgs(spec, usage) {
    const options = { ...spec };
    const argv = process.argv.slice(2);
    for (let i = 0; i < argv.length; i++) {
        const name = argv[i];
        if (!(name in spec)) {
            process.stderr.write(`usage: ${usage}\n`);
            process.exit(2);
        }
        if (typeof spec[name] === 'boolean') {
            options[name] = true;
            continue;
        }
        const value = argv[++i];
        if (value === undefined) {
            process.stderr.write(`${name} needs a value\n`);
            process.exit(2);
        }
        options[name] = typeof spec[name] === 'number' ? Number(value) : value;
    }
    return options;
}

export const defaultFixture = join(here, '..', '..', 'build', 'mcpact-bench-server');

//  A connected client: the stdio fixture (with its own arguments), or a
//  streamable HTTP server when url is set.
export function newTransport({ fixture, args = [], url }) {
    return url
        ? new StreamableHTTPClientTransport(new URL(url))
        : new StdioClientTransport({ command: fixture, args });
}

export function newClient() {
    return new Client({ name: 'mcpact-bench-ts', version: '1.0.0' });
}

export function sorted(values) {
    return Float64Array.from(values).sort();
}

//  Nearest-rank quantile, as bench/bench.h computes it.
export function quantile(sortedValues, q) {
    const count = sortedValues.length;
    if (count === 0) return 0;
    let index = Math.ceil(q * count);
    if (index > 0) index--;
    return sortedValues[Math.min(index, count - 1)];
}

export function round(value, digits = 1) {
    const scale = 10 ** digits;
    return Math.round(value * scale) / scale;
}

//  Prints the result line and exits, without waiting for stray handles.
export function report(fields) {
    const line = { ...fields, cpus: availableParallelism(), sdk: sdkVersion, node: process.versions.node };
    process.stdout.write(JSON.stringify(line) + '\n', () => process.exit(0));
}

export function fail(message) {
    process.stderr.write(`${message}\n`);
    process.exit(1);
}

export const echoArgs = { name: 'echo', arguments: { message: 'hello' } };

//  Calls echo and throws if it did not succeed.
export async function echo(client, name = 'echo') {
    const result = await client.callTool(name === 'echo' ? echoArgs : { ...echoArgs, name });
    if (result.isError) throw new Error(`echo failed: ${JSON.stringify(result.content)}`);
    return result;
}
