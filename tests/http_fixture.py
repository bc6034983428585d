#!/usr/bin/env python3
"""A small MCP server over HTTP with fault switches, for the HTTP transport tests.

Standard library only. Listens on 127.0.0.1 only.

Usage: tests/http_fixture.py [switches] PORT
  PORT 0 picks a free port. Either way the first line on stdout is
  "PORT <n>" (flushed); nothing else goes to stdout. stderr gets, for each
  request, "http_fixture: METHOD PATH rpc=<method>#<id> <header>=<value>..."
  (Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Accept,
  Content-Type; Authorization and the --require-header header only as
  "<present>", never their values) and "http_fixture:   -> <status>", plus
  a line for each session event and each injected fault. SIGTERM or SIGINT
  stops it with status 0 at once, open streams included. A client that
  disconnects mid-stream is noticed (within 0.2 s while a stream waits, at
  the next write otherwise), logged as "client gone", and blocks nothing.
  Event ids are one counter for the whole process: "1", "2", ...

Streamable HTTP (MCP 2025-03-26 .. 2025-11-25) at /mcp:
  POST   JSON-RPC, one message per body (a batch array gets 400). Needs
         Content-Type application/json (415 otherwise) and an Accept that
         lists both application/json and text/event-stream (406 otherwise).
         initialize -> new session: result {protocolVersion, capabilities
           {tools:{}}, serverInfo {name "http_fixture", version "1.0.0"}},
           protocolVersion echoing the client's when it is 2025-11-25,
           2025-06-18 or 2025-03-26, else 2025-11-25; the response carries
           the header Mcp-Session-Id (only the initialize response does).
         Every other request (GET and DELETE too) must carry
           Mcp-Session-Id: 400 without it, 404 for an unknown, deleted or
           expired one. MCP-Protocol-Version, when present, must equal the
           negotiated version (400 otherwise); its absence is accepted.
         Notifications and responses -> 202, empty body.
         ping -> {}; tools/list -> echo {message: string} and sleep
           {ms: integer}; tools/call echo -> text content = message;
           sleep -> waits ms (at most 60000), text "slept <ms> ms"; an
           unknown tool -> JSON-RPC error -32602; an unknown method -32601.
         Answered as application/json with Content-Length, or with
         --sse-responses as text/event-stream (chunked, connection kept
         alive): one "id: <n>" / "event: message" / "data: <json>" event,
         then the end of the body.
  GET    405 (Allow: POST, DELETE), or with --get-stream a listen stream
         (needs Mcp-Session-Id, Accept with text/event-stream, else 406):
         first a priming event ("id: <n>", "data: " empty), then for every
         tools/call in that session a notifications/message
         {level "info", logger "http_fixture", data "tools/call <name>"}
         before the call is answered (with no listen stream open, it is
         dropped and stderr says "dropped <method>: no listen stream");
         ": keepalive" every 10 s.
         With Last-Event-ID (any mode): resumes a stream that
         --drop-stream-once cut (400 for an id it does not know).
  DELETE 200, the session is forgotten (its streams end); 404 if unknown.

Legacy HTTP+SSE (MCP 2024-11-05) at /sse:
  GET  /sse -> text/event-stream (chunked), first
         "event: endpoint" / "data: /messages?session=<id>", then every
         response as "event: message" / "data: <json>" (no ids), keepalive
         comments every 10 s. Initialize echoes 2024-11-05 too.
  POST /messages?session=<id> -> 202 "Accepted" (text/plain); the answer
         goes to the GET stream. 404 for an unknown session, 400 without
         one or for a body that is not a JSON-RPC message.

Fault switches (combinable):
  --sse-responses          answer POST /mcp requests as text/event-stream
  --expire-session-after N per session: after N requests carrying its id
                           (any method, either transport) the next one gets
                           404 and the session is gone (a legacy session's
                           stream ends too); every new session expires the
                           same way
  --drop-stream-once       (needs --sse-responses) the first POST /mcp
                           tools/call of the process gets "id: <p>" "retry: 200"
                           "data: " (empty) and then the body ends (chunked
                           terminator; the connection stays open) before
                           the response. The client must wait 200 ms and
                           GET /mcp with Last-Event-ID: <p> and its session:
                           that stream sends the response as
                           "id: <n>" / "event: message" / "data: <json>" and
                           then ends. stderr logs the wait it measured:
                           "resume of <p> after N ms (retry 200)".
  --slow-ms N              delay every tools/call answer by N ms
  --get-delay-ms N         (with --get-stream) a listen stream's response
                           headers come N ms late, and it takes messages
                           only from then on
  --status CODE            every POST other than initialize (/mcp and
                           /messages) gets CODE, Content-Type text/plain,
                           body "http_fixture: forced status CODE"; 401 also
                           has WWW-Authenticate: Bearer realm="http_fixture"
  --wrong-content-type     POST /mcp answers (not 202s) and the GET /sse
                           stream say Content-Type: text/plain (body
                           unchanged)
  --garbage-sse            before every message event on any stream: a
                           comment, a line with no colon, unknown fields, a
                           bad retry value, an event with no data, a
                           "message" event whose data is not JSON, an event
                           of another type, and an event written with CRLF
                           line ends. A client must skip all of them.
  --require-header 'Name: value'  every request (any path) must carry this
                           header with exactly this value, else 401 with
                           WWW-Authenticate: Bearer realm="http_fixture"
  --endpoint-origin URL    /sse announces URL + "/messages?session=<id>"
                           (an absolute URL on another origin) instead of
                           the relative path; a client must refuse it. Use
                           a loopback URL such as http://127.0.0.2:9.
  --get-stream             GET /mcp opens a listen stream instead of 405
  --redirect-on KINDS      answer these requests with a redirect (comma
                           list): initialize (POST /mcp), initialize-again
                           (every initialize after the first of the
                           process), call (tools/call), notification (POST
                           /mcp without id), post (every POST /mcp), listen
                           (GET /mcp, resumptions too), delete (DELETE
                           /mcp), sse (GET /sse), messages (POST
                           /messages). A redirected request touches no
                           session (it does not count for
                           --expire-session-after).
  --redirect-to URL        where: Location is URL + the request's path and
                           query, URL absolute (http://127.0.0.1:P/moved,
                           another origin or the same) or a path (/moved,
                           the default); "{port}" in URL is replaced by the
                           fixture's own port
  --redirect-status CODE   the redirect's status (default 307)
  --redirect-hops N        a request whose path starts with N or more
                           "/moved" segments is served, not redirected
                           (default 1): N > 1 makes a chain of redirects
  --string-ids             answers carry a numeric request id as a string
                           ("7" for 7), as some servers do

Paths under /moved: every leading "/moved" segment is removed before
routing (logged as "moved: <n> hop(s)"), so /moved/mcp is /mcp, and
/moved/messages?session=S is /messages?session=S. Redirects are logged as
"redirect: <status> to <Location>".

Manual checks (each switch was verified this way; P is the printed port):
  python3 tests/http_fixture.py 0 &          # prints PORT P
  H='-H Content-Type:application/json -H Accept:application/json,text/event-stream'
  INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{
    "protocolVersion":"2025-11-25","capabilities":{},
    "clientInfo":{"name":"curl","version":"0"}}}'
  curl -si $H -d "$INIT" http://127.0.0.1:P/mcp          # Mcp-Session-Id: S
  curl -si $H -H 'Mcp-Session-Id: S' \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
    http://127.0.0.1:P/mcp                                # 202
  curl -si $H -H 'Mcp-Session-Id: S' \
    -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo",
    "arguments":{"message":"hi"}}}' http://127.0.0.1:P/mcp   # text "hi"
  curl -si $H -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
    http://127.0.0.1:P/mcp                                # 400, no session
  curl -si -X DELETE -H 'Mcp-Session-Id: S' http://127.0.0.1:P/mcp  # 200
  curl -si http://127.0.0.1:P/mcp                         # GET: 405
  --sse-responses: the same POSTs with curl -N: text/event-stream, one
    event with id:, event: message, data:.
  --expire-session-after 2: initialized, tools/list, then tools/call with
    the same session -> 404 {"code":-32001}; stderr "session S expired".
  --sse-responses --drop-stream-once: curl -N the tools/call: only
    "id: P1" "retry: 200" "data:" and the body ends; then
    curl -N -H 'Accept: text/event-stream' -H 'Mcp-Session-Id: S'
    -H 'Last-Event-ID: P1' http://127.0.0.1:P/mcp -> the response event.
    A second tools/call is answered normally.
  --slow-ms 500: time curl ... tools/call -> about 0.5 s.
  --status 500 (or 401): initialize 200, every later POST 500 text/plain.
  --wrong-content-type: POST answers say Content-Type: text/plain.
  --sse-responses --garbage-sse: curl -N shows the noise, then the event.
  --require-header 'Authorization: Bearer t': without it 401 (with
    WWW-Authenticate), with -H 'Authorization: Bearer t' normal; stderr
    shows "authorization=<present>", never the value.
  --get-stream: curl -N -H 'Accept: text/event-stream' -H 'Mcp-Session-Id: S'
    http://127.0.0.1:P/mcp -> priming event; a tools/call in S sends a
    notifications/message on it.
  Legacy: curl -N http://127.0.0.1:P/sse -> event: endpoint,
    data: /messages?session=L; then curl -si -H Content-Type:application/json
    -d "$INIT" 'http://127.0.0.1:P/messages?session=L' -> 202, and the
    result arrives on the /sse stream as event: message.
  --endpoint-origin http://127.0.0.2:9: data: http://127.0.0.2:9/messages?session=L
  --redirect-on post --redirect-to /moved: curl -si $H -d "$INIT"
    http://127.0.0.1:P/mcp -> 307, Location: /moved/mcp; curl -si $H
    -d "$INIT" http://127.0.0.1:P/moved/mcp -> 200 with a session.
    --redirect-on listen,delete,sse,messages: the same for those requests
    (curl -si with -X DELETE, -N for the GETs); --redirect-on call or
    notification: only a tools/call or a notification gets 307;
    --redirect-on initialize-again: the second initialize gets 307.
    --redirect-hops 3: /moved/mcp -> 307 to /moved/moved/mcp, and so on
    up to /moved/moved/moved/mcp, which is served. --redirect-status 303:
    the status says 303.
  Disconnect: Ctrl-C a curl -N on any stream, or a --slow-ms call; the
    fixture logs "client gone" and serves on. kill -TERM <pid>: exits 0.
"""

import argparse
import http.server
import json
import select
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
import uuid

STREAMABLE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
LEGACY_VERSIONS = STREAMABLE_VERSIONS + ("2024-11-05",)
KEEPALIVE_S = 10.0
POLL_S = 0.2
RETRY_MS = 200

TOOLS = [
    {
        "name": "echo",
        "description": "Returns the message it is given",
        "inputSchema": {
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"],
        },
    },
    {
        "name": "sleep",
        "description": "Waits the given number of milliseconds",
        "inputSchema": {
            "type": "object",
            "properties": {"ms": {"type": "integer", "minimum": 0}},
            "required": ["ms"],
        },
    },
    {
        "name": "big",
        "description": "Returns a text of the given number of bytes",
        "inputSchema": {
            "type": "object",
            "properties": {"bytes": {"type": "integer", "minimum": 0}},
            "required": ["bytes"],
        },
    },
]

GARBAGE = (
    b": a comment line\n"
    b"a line with no colon\n"
    b"unknown-field: some value\n"
    b"retry: soon\n"
    b"\n"
    b"event: message\n"
    b"\n"
    b"event: message\n"
    b"data: this is not JSON\n"
    b"\n"
    b"event: fixture-noise\n"
    b'data: {"not": "a JSON-RPC message"}\n'
    b"\n"
    b": a comment with CRLF\r\n"
    b"event: message\r\n"
    b"data: {half a JSON object\r\n"
    b"\r\n"
)

opts = None
log_lock = threading.Lock()
state_lock = threading.Lock()
stopping = threading.Event()
event_counter = 0
drop_used = False
initializes = 0
mcp_sessions = {}
legacy_sessions = {}


def log(text):
    with log_lock:
        sys.stderr.write("http_fixture: " + text + "\n")
        sys.stderr.flush()


def next_event_id():
    global event_counter
    with state_lock:
        event_counter += 1
        return str(event_counter)


class Session:
    def __init__(self, kind, version):
        self.id = uuid.uuid4().hex
        self.kind = kind
        self.version = version
        self.uses = 0
        self.gone = False
        self.cond = threading.Condition(state_lock)
        self.queue = []  # legacy: messages for the /sse stream
        self.listeners = []  # streamable: queues of open GET listen streams
        self.resumable = {}  # priming event id -> {"response", "closed_at"}


def new_session(kind, version):
    s = Session(kind, version)
    with state_lock:
        (mcp_sessions if kind == "mcp" else legacy_sessions)[s.id] = s
    return s


def forget_session(s, why):
    with state_lock:
        table = mcp_sessions if s.kind == "mcp" else legacy_sessions
        table.pop(s.id, None)
        s.gone = True
        s.cond.notify_all()
    log("session %s %s" % (s.id, why))


def use_session(kind, sid):
    """The session for a request carrying sid, counted for
    --expire-session-after; None if unknown or (now) expired."""
    with state_lock:
        s = (mcp_sessions if kind == "mcp" else legacy_sessions).get(sid)
        if s is None:
            return None
        if opts.expire_session_after is not None and s.uses >= opts.expire_session_after:
            expired = s
        else:
            s.uses += 1
            return s
    forget_session(expired, "expired after %d requests" % expired.uses)
    return None


def tool_result(text, error=False):
    result = {"content": [{"type": "text", "text": text}]}
    if error:
        result["isError"] = True
    return result


def reply_id(msg_id):
    """The id as answers carry it: with --string-ids, a number as a string."""
    if opts.string_ids and isinstance(msg_id, int) and not isinstance(msg_id, bool):
        return str(msg_id)
    return msg_id


def rpc_error(msg_id, code, message):
    return {"jsonrpc": "2.0", "id": reply_id(msg_id), "error": {"code": code, "message": message}}


def call_tool(params):
    name = params.get("name")
    args = params.get("arguments") or {}
    if name == "echo":
        message = args.get("message")
        if not isinstance(message, str):
            return tool_result("echo needs a string argument 'message'", True), None
        return tool_result(message), None
    if name == "sleep":
        ms = args.get("ms")
        if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
            return tool_result("sleep needs a non-negative integer argument 'ms'", True), None
        ms = min(ms, 60000)
        stopping.wait(ms / 1000.0)
        return tool_result("slept %d ms" % ms), None
    if name == "big":
        size = args.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= 200000000:
            return tool_result("big needs an integer argument 'bytes' up to 200000000", True), None
        return tool_result("x" * size), None
    return None, (-32602, "Unknown tool: %s" % name)


def answer(msg, session):
    """The JSON-RPC response to a request other than initialize."""
    msg_id = reply_id(msg.get("id"))
    method = msg.get("method")
    params = msg.get("params") or {}
    if method == "ping":
        return {"jsonrpc": "2.0", "id": msg_id, "result": {}}
    if method == "tools/list":
        return {"jsonrpc": "2.0", "id": msg_id, "result": {"tools": TOOLS}}
    if method == "tools/call":
        if not isinstance(params, dict):
            return rpc_error(msg_id, -32602, "params must be an object")
        if session is not None and session.kind == "mcp":
            notify_listeners(session, {
                "jsonrpc": "2.0",
                "method": "notifications/message",
                "params": {"level": "info", "logger": "http_fixture",
                           "data": "tools/call %s" % params.get("name")},
            })
        result, error = call_tool(params)
        if opts.slow_ms:
            stopping.wait(opts.slow_ms / 1000.0)
        if error:
            return rpc_error(msg_id, *error)
        return {"jsonrpc": "2.0", "id": msg_id, "result": result}
    return rpc_error(msg_id, -32601, "Method not found: %s" % method)


def initialize_result(msg, versions, default):
    params = msg.get("params") or {}
    asked = params.get("protocolVersion") if isinstance(params, dict) else None
    version = asked if asked in versions else default
    return version, {
        "jsonrpc": "2.0",
        "id": reply_id(msg.get("id")),
        "result": {
            "protocolVersion": version,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "http_fixture", "version": "1.0.0"},
        },
    }


def notify_listeners(session, message):
    with state_lock:
        if not session.listeners:
            # As servers do: with no listen stream, the message is lost.
            log("dropped %s: no listen stream" % message.get("method"))
        for q in session.listeners:
            q.append(message)
        session.cond.notify_all()


def sse_event(message, event_id=None):
    out = b""
    if opts.garbage_sse:
        out += GARBAGE
    if event_id is not None:
        out += b"id: " + event_id.encode() + b"\n"
    out += b"event: message\ndata: " + json.dumps(message).encode() + b"\n\n"
    return out


class ClientGone(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "http_fixture/1.0"

    def log_message(self, fmt, *args):  # the request lines are logged by log_request_line
        pass

    def log_request_line(self):
        parts = ["%s %s" % (self.command, self.path)]
        try:
            msg = json.loads(self.body.decode("utf-8")) if self.body else None
        except (UnicodeDecodeError, ValueError):
            msg = "?"
        if isinstance(msg, dict):
            what = msg.get("method", "response" if "id" in msg else "?")
            if "id" in msg:
                what += "#" + json.dumps(msg["id"])
            parts.append("rpc=" + what)
        elif msg is not None:
            parts.append("rpc=" + ("batch" if isinstance(msg, list) else "?"))
        for name in ("Mcp-Session-Id", "MCP-Protocol-Version", "Last-Event-ID",
                     "Accept", "Content-Type"):
            value = self.headers.get(name)
            if value is not None:
                parts.append("%s=%s" % (name.lower(), value))
        secret = {"authorization"}
        if opts.require_header:
            secret.add(opts.require_header[0].lower())
        for name in sorted(secret):
            if self.headers.get(name) is not None:
                parts.append("%s=<present>" % name)
        log(" ".join(parts))

    # -- plumbing ----------------------------------------------------------

    def send_response(self, code, message=None):
        log("  -> %d" % code)
        super().send_response(code, message)

    def send_body(self, status, body=b"", ctype=None, headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, message, headers=()):
        wrong = opts.wrong_content_type and self.command == "POST"
        ctype = "text/plain" if wrong else "application/json"
        self.send_body(status, json.dumps(message).encode(), ctype, headers)

    def send_text(self, status, text, headers=()):
        self.send_body(status, (text + "\n").encode(), "text/plain; charset=utf-8", headers)

    def start_stream(self, headers=(), ctype="text/event-stream"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def chunk(self, data):
        if not data:
            return
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except OSError:
            raise ClientGone()

    def end_stream(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            raise ClientGone()

    def client_gone(self):
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True
        return False

    def wait(self, cond, predicate, timeout):
        """Waits on cond (held) until predicate() or timeout, watching for a
        client that disconnects; raises ClientGone for one."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0 or stopping.is_set():
                return False
            cond.wait(min(POLL_S, left))
            if self.client_gone():
                raise ClientGone()
        return True

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def check_required_header(self):
        if not opts.require_header:
            return True
        name, value = opts.require_header
        if self.headers.get(name) == value:
            return True
        log("401: required header %s missing or wrong" % name)
        self.send_text(401, "http_fixture: missing or wrong %s" % name,
                       [("WWW-Authenticate", 'Bearer realm="http_fixture"')])
        return False

    def forced_status(self):
        if opts.status is None:
            return False
        code = opts.status
        log("forced status %d" % code)
        headers = []
        if code == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="http_fixture"'))
        self.send_text(code, "http_fixture: forced status %d" % code, headers)
        return True

    def parse_message(self, body):
        """The JSON-RPC message in body, or None after answering 400."""
        try:
            msg = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.send_json(400, rpc_error(None, -32700, "Parse error"))
            return None
        if isinstance(msg, list):
            self.send_json(400, rpc_error(None, -32600, "Batches are not supported"))
            return None
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
            self.send_json(400, rpc_error(None, -32600, "Invalid Request"))
            return None
        return msg

    def run(self, fn):
        try:
            fn()
        except ClientGone:
            log("client gone: %s %s" % (self.command, self.path))
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            log("client gone: %s %s" % (self.command, self.path))
            self.close_connection = True

    # -- routing -----------------------------------------------------------

    def route(self):
        path = urllib.parse.urlsplit(self.path).path
        hops = 0
        while path.startswith("/moved/"):
            path = path[len("/moved"):]
            hops += 1
        self.body = self.read_body()
        self.log_request_line()
        if not self.check_required_header():
            return
        if hops:
            log("moved: %d hop(s)" % hops)
        if hops < opts.redirect_hops and self.redirect_kinds(path) & opts.redirect_on:
            location = opts.redirect_to + self.path
            log("redirect: %d to %s" % (opts.redirect_status, location))
            self.send_text(opts.redirect_status, "http_fixture: moved", [("Location", location)])
            return
        routes = {
            ("POST", "/mcp"): self.mcp_post,
            ("GET", "/mcp"): self.mcp_get,
            ("DELETE", "/mcp"): self.mcp_delete,
            ("GET", "/sse"): self.legacy_get,
            ("POST", "/messages"): self.legacy_post,
        }
        fn = routes.get((self.command, path))
        if fn is not None:
            fn()
        elif path in ("/mcp", "/sse", "/messages"):
            allow = {"/mcp": "POST, DELETE" + (", GET" if opts.get_stream else ""),
                     "/sse": "GET", "/messages": "POST"}[path]
            self.send_text(405, "http_fixture: method not allowed", [("Allow", allow)])
        else:
            self.send_text(404, "http_fixture: no such path")

    def redirect_kinds(self, path):
        """The --redirect-on kinds this request (routed at path) is."""
        global initializes
        kinds = set()
        if self.command == "POST" and path == "/mcp":
            kinds.add("post")
            try:
                msg = json.loads(self.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                msg = None
            if isinstance(msg, dict):
                method = msg.get("method")
                if method == "initialize":
                    kinds.add("initialize")
                    with state_lock:
                        initializes += 1
                        if initializes > 1:
                            kinds.add("initialize-again")
                elif method == "tools/call":
                    kinds.add("call")
                elif method is not None and "id" not in msg:
                    kinds.add("notification")
        elif path == "/mcp":
            kinds.add({"GET": "listen", "DELETE": "delete"}.get(self.command, "other"))
        elif self.command == "GET" and path == "/sse":
            kinds.add("sse")
        elif self.command == "POST" and path == "/messages":
            kinds.add("messages")
        return kinds

    def do_GET(self):
        self.run(self.route)

    def do_POST(self):
        self.run(self.route)

    def do_DELETE(self):
        self.run(self.route)

    def do_PUT(self):
        self.run(self.route)

    # -- streamable HTTP ---------------------------------------------------

    def mcp_session(self):
        """The session of a non-initialize /mcp request, or None after
        answering 400/404."""
        sid = self.headers.get("Mcp-Session-Id")
        if not sid:
            self.send_json(400, rpc_error(None, -32000, "Bad Request: Mcp-Session-Id header is required"))
            return None
        s = use_session("mcp", sid)
        if s is None:
            self.send_json(404, rpc_error(None, -32001, "Session not found"))
            return None
        version = self.headers.get("MCP-Protocol-Version")
        if version is not None and version != s.version:
            self.send_json(400, rpc_error(None, -32000, "Bad Request: MCP-Protocol-Version %s, negotiated %s" % (version, s.version)))
            return None
        return s

    def mcp_post(self):
        body = self.body
        accept = self.headers.get("Accept", "")
        if "application/json" not in accept or "text/event-stream" not in accept:
            self.send_json(406, rpc_error(None, -32000, "Not Acceptable: Accept must list application/json and text/event-stream"))
            return
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            self.send_json(415, rpc_error(None, -32000, "Unsupported Media Type: Content-Type must be application/json"))
            return
        msg = self.parse_message(body)
        if msg is None:
            return
        if msg.get("method") == "initialize":
            version, response = initialize_result(msg, STREAMABLE_VERSIONS, "2025-11-25")
            s = new_session("mcp", version)
            log("session %s initialized, protocol %s" % (s.id, version))
            self.reply(response, [("Mcp-Session-Id", s.id)])
            return
        s = self.mcp_session()
        if s is None:
            return
        if self.forced_status():
            return
        if "method" not in msg or "id" not in msg:
            self.send_body(202)
            return
        if (msg.get("method") == "tools/call" and opts.drop_stream_once
                and self.take_drop()):
            self.drop_then_answer(msg, s)
            return
        self.reply(answer(msg, s))

    def take_drop(self):
        global drop_used
        with state_lock:
            if drop_used:
                return False
            drop_used = True
            return True

    def reply(self, response, headers=()):
        if not opts.sse_responses:
            self.send_json(200, response, headers)
            return
        ctype = "text/plain" if opts.wrong_content_type else "text/event-stream"
        self.start_stream(headers, ctype)
        self.chunk(sse_event(response, next_event_id()))
        self.end_stream()

    def drop_then_answer(self, msg, s):
        ctype = "text/plain" if opts.wrong_content_type else "text/event-stream"
        priming = next_event_id()
        slot = {"response": None, "closed_at": None}
        with state_lock:
            s.resumable[priming] = slot
        self.start_stream((), ctype)
        self.chunk(b"id: %s\nretry: %d\ndata: \n\n" % (priming.encode(), RETRY_MS))
        self.end_stream()
        with state_lock:
            slot["closed_at"] = time.monotonic()
        log("dropped the stream of tools/call id %s after priming event %s (retry %d)"
            % (json.dumps(msg.get("id")), priming, RETRY_MS))
        response = answer(msg, s)
        with state_lock:
            slot["response"] = response
            s.cond.notify_all()

    def mcp_get(self):
        last_id = self.headers.get("Last-Event-ID")
        if not opts.get_stream and last_id is None:
            self.send_text(405, "http_fixture: no GET stream", [("Allow", "POST, DELETE")])
            return
        if "text/event-stream" not in self.headers.get("Accept", ""):
            self.send_json(406, rpc_error(None, -32000, "Not Acceptable: Accept must list text/event-stream"))
            return
        s = self.mcp_session()
        if s is None:
            return
        if last_id is not None:
            self.resume(s, last_id)
        else:
            self.listen(s)

    def resume(self, s, last_id):
        with state_lock:
            slot = s.resumable.get(last_id)
            closed_at = slot and slot["closed_at"]
        if slot is None:
            self.send_json(400, rpc_error(None, -32000, "Unknown Last-Event-ID %s" % last_id))
            return
        if closed_at is not None:
            log("resume of %s after %d ms (retry %d)"
                % (last_id, (time.monotonic() - closed_at) * 1000, RETRY_MS))
        self.start_stream()
        with state_lock:
            ready = self.wait(s.cond, lambda: slot["response"] is not None or s.gone, 60)
            response = slot["response"]
        if ready and response is not None:
            self.chunk(sse_event(response, next_event_id()))
        self.end_stream()

    def listen(self, s):
        if opts.get_delay_ms:
            stopping.wait(opts.get_delay_ms / 1000.0)
        queue = []
        with state_lock:
            if s.gone:
                queue = None
            else:
                s.listeners.append(queue)
        if queue is None:
            self.send_json(404, rpc_error(None, -32001, "Session not found"))
            return
        try:
            self.start_stream()
            self.chunk(b"id: %s\ndata: \n\n" % next_event_id().encode())
            last = time.monotonic()
            while True:
                with state_lock:
                    self.wait(s.cond, lambda: queue or s.gone, KEEPALIVE_S)
                    pending = queue[:]
                    del queue[:]
                    gone = s.gone
                for message in pending:
                    self.chunk(sse_event(message, next_event_id()))
                    last = time.monotonic()
                if gone or stopping.is_set():
                    self.end_stream()
                    return
                if time.monotonic() - last >= KEEPALIVE_S:
                    self.chunk(b": keepalive\n\n")
                    last = time.monotonic()
        finally:
            with state_lock:
                if queue in s.listeners:
                    s.listeners.remove(queue)

    def mcp_delete(self):
        s = self.mcp_session()
        if s is None:
            return
        forget_session(s, "deleted")
        self.send_body(200)

    # -- legacy HTTP+SSE ---------------------------------------------------

    def legacy_get(self):
        s = new_session("legacy", None)
        if opts.endpoint_origin:
            endpoint = "%s/messages?session=%s" % (opts.endpoint_origin.rstrip("/"), s.id)
        else:
            endpoint = "/messages?session=%s" % s.id
        log("legacy session %s, endpoint %s" % (s.id, endpoint))
        ctype = "text/plain" if opts.wrong_content_type else "text/event-stream"
        try:
            self.start_stream((), ctype)
            self.chunk(b"event: endpoint\ndata: %s\n\n" % endpoint.encode())
            last = time.monotonic()
            while True:
                with state_lock:
                    self.wait(s.cond, lambda: s.queue or s.gone, KEEPALIVE_S)
                    pending = s.queue[:]
                    del s.queue[:]
                    gone = s.gone
                for message in pending:
                    self.chunk(sse_event(message))
                    last = time.monotonic()
                if gone or stopping.is_set():
                    self.end_stream()
                    return
                if time.monotonic() - last >= KEEPALIVE_S:
                    self.chunk(b": keepalive\n\n")
                    last = time.monotonic()
        finally:
            if not s.gone:
                forget_session(s, "closed (its /sse stream ended)")

    def legacy_post(self):
        body = self.body
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        sid = (query.get("session") or [None])[0]
        if not sid:
            self.send_text(400, "http_fixture: no session parameter")
            return
        s = use_session("legacy", sid)
        if s is None:
            self.send_text(404, "http_fixture: unknown session")
            return
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            self.send_text(415, "http_fixture: Content-Type must be application/json")
            return
        try:
            msg = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.send_text(400, "http_fixture: invalid JSON")
            return
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
            self.send_text(400, "http_fixture: not a JSON-RPC message")
            return
        if msg.get("method") != "initialize" and self.forced_status():
            return
        self.send_text(202, "Accepted")
        if "method" not in msg or "id" not in msg:
            return
        if msg.get("method") == "initialize":
            version, response = initialize_result(msg, LEGACY_VERSIONS, "2024-11-05")
            s.version = version
            self.legacy_send(s, response)
            return
        threading.Thread(target=lambda: self.legacy_send(s, answer(msg, s)), daemon=True).start()

    @staticmethod
    def legacy_send(s, message):
        with state_lock:
            if not s.gone:
                s.queue.append(message)
                s.cond.notify_all()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64
    allow_reuse_address = True

    def server_bind(self):
        # Skips HTTPServer's getfqdn() lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def header_arg(text):
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError("expected 'Name: value'")
    return name.strip(), value.strip()


REDIRECT_KINDS = ("initialize", "initialize-again", "call", "notification", "post", "listen",
                  "delete", "sse", "messages")


def kinds_arg(text):
    kinds = set(k.strip() for k in text.split(",") if k.strip())
    unknown = kinds - set(REDIRECT_KINDS)
    if unknown:
        raise argparse.ArgumentTypeError("unknown kinds %s (known: %s)"
                                         % (",".join(sorted(unknown)), ",".join(REDIRECT_KINDS)))
    return kinds


def main():
    global opts
    parser = argparse.ArgumentParser(description="MCP server over HTTP with fault switches")
    parser.add_argument("port", type=int, help="port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--sse-responses", action="store_true")
    parser.add_argument("--expire-session-after", type=int, metavar="N")
    parser.add_argument("--drop-stream-once", action="store_true")
    parser.add_argument("--slow-ms", type=int, default=0, metavar="N")
    parser.add_argument("--status", type=int, metavar="CODE")
    parser.add_argument("--wrong-content-type", action="store_true")
    parser.add_argument("--garbage-sse", action="store_true")
    parser.add_argument("--require-header", type=header_arg, metavar="'Name: value'")
    parser.add_argument("--endpoint-origin", metavar="URL")
    parser.add_argument("--get-stream", action="store_true")
    parser.add_argument("--get-delay-ms", type=int, default=0, metavar="N")
    parser.add_argument("--redirect-on", type=kinds_arg, default=set(), metavar="KINDS")
    parser.add_argument("--redirect-to", default="/moved", metavar="URL")
    parser.add_argument("--redirect-status", type=int, default=307, metavar="CODE")
    parser.add_argument("--redirect-hops", type=int, default=1, metavar="N")
    parser.add_argument("--string-ids", action="store_true")
    opts = parser.parse_args()
    if opts.drop_stream_once and not opts.sse_responses:
        parser.error("--drop-stream-once needs --sse-responses")
    if opts.status is not None and not 100 <= opts.status <= 599:
        parser.error("--status must be an HTTP status code")

    server = Server(("127.0.0.1", opts.port), Handler)
    opts.redirect_to = opts.redirect_to.rstrip("/").replace("{port}", str(server.server_address[1]))
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    switches = [a for a in sys.argv[1:] if a.startswith("--")]
    log("listening on 127.0.0.1:%d %s" % (server.server_address[1], " ".join(switches)))

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stopping.set()
        with state_lock:
            for s in list(mcp_sessions.values()) + list(legacy_sessions.values()):
                s.gone = True
                s.cond.notify_all()
        server.server_close()
        log("stopped")


if __name__ == "__main__":
    main()
