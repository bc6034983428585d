#!/usr/bin/env bash
#  The third-party MCP servers the tests talk to, and how to launch them by
#  hand. Install them first with: scripts/deps --test  (npm ci in this folder)
#
#  Usage: tests/peers/peers.sh [--probe]
#    (no option)  print the command lines that launch each peer
#    --probe      also run each peer in stdio mode with initialize,
#                 notifications/initialized and tools/list piped in
#
#  server-everything (dist/index.js; bin mcp-server-everything)
#    First argument picks the transport: stdio (the default), sse, streamableHttp.
#    stdio: logs "Starting default (STDIO) server..." on stderr only; stdout
#      carries nothing but JSON-RPC lines. After notifications/initialized it
#      sends notifications/tools/list_changed (it registers more tools then).
#      It exits about 350 ms after stdin closes.
#    streamableHttp: POST/GET/DELETE http://HOST:PORT/mcp, Mcp-Session-Id.
#    sse: GET http://HOST:PORT/sse, then POST /message?sessionId=...
#    Both HTTP modes listen on $PORT (default 3001) on all interfaces; there is
#    no host option or variable. Preloading the module in $loopback (below)
#    binds them to 127.0.0.1 ($HOST overrides). A non-numeric $PORT is taken
#    as a Unix socket path. They print "...listening on port N" on stderr
#    (PORT=0 picks a free port but still prints 0).
#
#  server-filesystem (dist/index.js; bin mcp-server-filesystem)
#    stdio only. Arguments: the allowed directories. If the client declares
#    the roots capability, the server asks for roots/list after
#    notifications/initialized and replaces the allowed directories with them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mcp="$here/node_modules/@modelcontextprotocol"
everything="$mcp/server-everything/dist/index.js"
filesystem="$mcp/server-filesystem/dist/index.js"
#  A module for node --import that makes listen (port) listen on $HOST
#  (default 127.0.0.1) rather than on all interfaces.
loopback='data:text/javascript,import net from "node:net";const l=net.Server.prototype.listen;'
loopback+='net.Server.prototype.listen=function(...a){if(/^\d+$/.test(String(a[0]))&&typeof a[1]!=="string")'
loopback+='a.splice(1,0,process.env.HOST||"127.0.0.1");return l.apply(this,a)}'

probe=0
for arg in "$@"; do
    case "$arg" in
        --probe) probe=1 ;;
        -h | --help)
            sed -n '2,8s/^# \{0,2\}//p' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *)
            echo "peers.sh: unknown option: $arg" >&2
            exit 2
            ;;
    esac
done

for entry in "$everything" "$filesystem"; do
    if [[ ! -f "$entry" ]]; then
        echo "peers.sh: $entry is missing; run scripts/deps --test" >&2
        exit 1
    fi
done

version ()
{
    node -p "require('$mcp/$1/package.json').version"
}

cat << EOF
# server-everything $(version server-everything), stdio
node $everything stdio

# server-filesystem $(version server-filesystem), stdio; the arguments are the allowed directories
node $filesystem /path/to/allowed/dir [more dirs...]

# server-everything, Streamable HTTP at http://127.0.0.1:3001/mcp
PORT=3001 node --import '$loopback' $everything streamableHttp

# server-everything, HTTP+SSE at http://127.0.0.1:3001/sse
PORT=3001 node --import '$loopback' $everything sse
EOF

((probe)) || exit 0

requests ()
{
    printf '%s\n' \
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"peers.sh","version":"0"}}}' \
        '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
        '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
    sleep 2
}

summarize ()
{
    node -e '
        let input = "";
        process.stdin.on ("data", (d) => (input += d)).on ("end", () => {
            for (const line of input.split ("\n").filter (Boolean)) {
                let m;
                try { m = JSON.parse (line); } catch { console.log ("  non-JSON stdout: " + line); continue; }
                if (m.id === 1) console.log ("  protocolVersion: " + m.result.protocolVersion);
                else if (m.id === 2) console.log ("  tools: " + m.result.tools.map ((t) => t.name).join (" "));
                else console.log ("  " + (m.method || line));
            }
        });'
}

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

printf '\n# probe: server-everything stdio\n'
requests | node "$everything" stdio 2> /dev/null | summarize
printf '\n# probe: server-filesystem stdio %s\n' "$dir"
requests | node "$filesystem" "$dir" 2> /dev/null | summarize
