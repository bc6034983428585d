#!/usr/bin/env bash
#  Runs server-everything over HTTP on 127.0.0.1 only, for the HTTP transport
#  tests. Install it first with: scripts/deps --test  (npm ci in this folder)
#
#  Usage: tests/peers/http-peer.sh MODE PORT
#    MODE  streamableHttp | sse
#    PORT  1-65535, or 0 to let the kernel pick a free port
#  Once the server listens, stdout gets exactly one line, "PORT <n>" (the
#  real port, also for PORT 0), and is then closed; everything the server
#  itself prints goes to stderr. The script execs node, so its pid is the
#  server's pid: stop it with kill -TERM <pid> (it exits at once; SIGINT
#  also works). A port it cannot listen on makes it exit with status 1
#  before any PORT line ("http-peer.sh: cannot listen: ..." on stderr).
#
#  streamableHttp (MCP 2025-03-26 and later), one endpoint:
#    http://127.0.0.1:PORT/mcp
#    POST  JSON-RPC; must carry "Accept: application/json, text/event-stream"
#          (406 otherwise) and "Content-Type: application/json" (415
#          otherwise). Requests are always answered as text/event-stream
#          (event: message, data: <one JSON-RPC message>); notifications and
#          responses get 202 with an empty body.
#          The initialize response carries the header "mcp-session-id: <uuid>";
#          every later request must send it back as Mcp-Session-Id. Without
#          it a non-initialize POST gets 400 (-32000 "Bad Request: Server not
#          initialized"); with an unknown or deleted id every method gets 400
#          (-32000 "Bad Request: No valid session ID provided"), never 404.
#          MCP-Protocol-Version, when sent, must be a version the SDK knows
#          (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05, 2024-10-07),
#          else 400.
#          The server has an event store, so every message event carries
#          "id: <uuid>". Priming event: when the client's protocol version
#          (initialize params, later the MCP-Protocol-Version header,
#          2025-03-26 if absent) is >= 2025-11-25, every POST stream starts
#          with "id: <uuid>" and "data: " (empty data, no event name, no
#          retry field) before the response; older versions get none. GET
#          streams never get one. Open streams get ": keepalive" comment
#          lines every 15 s.
#    GET   standalone SSE stream for server notifications (Accept must
#          include text/event-stream, else 406); only one per session (409
#          for a second). With Last-Event-ID: replays the events stored
#          after that id (resumption).
#    DELETE ends the session (200); the id is then unknown (400).
#    After notifications/initialized the server sends
#    notifications/tools/list_changed, on the GET stream if one is open.
#
#  sse (legacy HTTP+SSE, MCP 2024-11-05):
#    GET  http://127.0.0.1:PORT/sse  -> text/event-stream; first event:
#           event: endpoint
#           data: /message?sessionId=<uuid>
#         (a relative URL: resolve it against the /sse URL). Every server
#         message then arrives on this stream as "event: message" with the
#         JSON-RPC message as data. Closing the stream ends the session.
#    POST http://127.0.0.1:PORT/message?sessionId=<uuid>  JSON-RPC body
#         -> 202 "Accepted"; 400 for a body that is not JSON-RPC. With an
#         unknown sessionId the server never answers (the request hangs):
#         use a client timeout.
#
#  The server listens on all interfaces by itself (it has no host option);
#  the preload module below makes it listen on 127.0.0.1 and reports the
#  port. Note: bash with job control (set -m) forks once more for
#  "script >file &", so $! is then a bash parent of the server; spawning the
#  script directly (fork/exec, Popen) gives the server's own pid.
#  Manual check (what this script was verified with):
#    tests/peers/http-peer.sh streamableHttp 0 & pid=$!   # prints PORT n
#    ss -ltnp | grep "pid=$pid"                            # 127.0.0.1:n only
#    curl -si http://127.0.0.1:n/mcp -H 'Content-Type: application/json' \
#      -H 'Accept: application/json, text/event-stream' -d '{"jsonrpc":"2.0",
#      "id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",
#      "capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}'
#    kill $pid
#    tests/peers/http-peer.sh sse 0 & pid=$!
#    curl -sN -m 2 http://127.0.0.1:n/sse    # event: endpoint, then timeout
#    kill $pid
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
everything="$here/node_modules/@modelcontextprotocol/server-everything/dist/index.js"

usage ()
{
    echo "usage: http-peer.sh streamableHttp|sse PORT" >&2
    exit 2
}

(($# == 2)) || usage
mode="$1"
port="$2"
case "$mode" in
    streamableHttp | sse) ;;
    *) usage ;;
esac
if [[ ! "$port" =~ ^[0-9]{1,5}$ ]] || ((10#$port > 65535)); then
    usage
fi
port=$((10#$port))

if [[ ! -f "$everything" ]]; then
    echo "http-peer.sh: $everything is missing; run scripts/deps --test" >&2
    exit 1
fi

#  A module for node --import: listen (port) binds 127.0.0.1 instead of all
#  interfaces; once listening the real port goes to fd 3 as "PORT <n>",
#  after which fd 3 is closed; a failed listen exits with status 1 (the sse
#  mode by itself would print "Server is running" and exit 0).
preload='data:text/javascript,import net from "node:net";import fs from "node:fs";'
preload+='const l=net.Server.prototype.listen;net.Server.prototype.listen=function(...a){'
preload+='if(/^\d+$/.test(String(a[0]))&&typeof a[1]!=="string"){a.splice(1,0,"127.0.0.1");'
preload+='this.once("listening",()=>{try{fs.writeSync(3,"PORT "+this.address().port+"\n");'
preload+='fs.closeSync(3)}catch{}});this.once("error",e=>{if(!this.listening){'
preload+='console.error("http-peer.sh: cannot listen: "+e.message);process.exit(1)}})}'
preload+='return l.apply(this,a)}'

#  fd 3 is the caller's stdout; the server's own stdout goes to stderr.
exec 3>&1 1>&2
PORT="$port" exec node --import "$preload" "$everything" "$mode"
