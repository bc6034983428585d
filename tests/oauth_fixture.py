#!/usr/bin/env python3
"""oauth_fixture - an MCP server behind OAuth 2.1, and its authorization server

One process, one port on 127.0.0.1 (argument: the port, 0 for any; it
prints "PORT <n>" on stdout when listening). Python standard library only.

The MCP endpoint is POST /mcp (streamable HTTP, stateless, JSON answers):
  - without a valid Bearer token: 401 with
    WWW-Authenticate: Bearer resource_metadata="<base>/.well-known/oauth-protected-resource/mcp",
    scope="notes:read"
  - tools: read_note (needs notes:read) and write_note (needs notes:write;
    without it: 403, error="insufficient_scope", scope="notes:read notes:write")
The authorization server (issuer = <base>): RFC 8414 metadata, dynamic
registration (client_secret_post, a client secret), /authorize (redirects
at once with a code, as if the user agreed), /token (authorization_code
with PKCE S256 checked, refresh_token; refresh tokens rotate).

Switches:
  --expires-in N      access tokens say expires_in N (default 3600)
  --revoke-after N    an access token is refused (401) after N uses
  --prm-resource URL  the protected-resource metadata names URL as resource
  --wrong-issuer      the authorization server's metadata names another issuer
  --no-s256           its metadata lists no code_challenge_methods_supported
  --forged-state      /authorize redirects with a state of its own
  --refuse-refresh    the refresh_token grant is always refused (invalid_grant)
  --hang-metadata     the authorization server's metadata never comes (the
                      request waits 60 s)

stderr logs every step, for the test to read:
  issued <grant> access=<token> refresh=<token>   (the secrets, to look for)
  registered client=<id> secret=<secret>
  code <code> scope=<scope>
  token grant=<grant>
  mcp <method> via <grant> scope=<scope>
  refused <status> <method>
"""

import base64
import hashlib
import json
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

args = sys.argv[1:]
options = {"expires": 3600, "revoke": 0, "prm_resource": None, "wrong_issuer": False,
           "no_s256": False, "forged_state": False, "refuse_refresh": False,
           "hang_metadata": False}
while args and args[0].startswith("--"):
    flag = args.pop(0)
    if flag == "--expires-in":
        options["expires"] = int(args.pop(0))
    elif flag == "--revoke-after":
        options["revoke"] = int(args.pop(0))
    elif flag == "--prm-resource":
        options["prm_resource"] = args.pop(0)
    elif flag in ("--wrong-issuer", "--no-s256", "--forged-state", "--refuse-refresh",
                  "--hang-metadata"):
        options[flag[2:].replace("-", "_")] = True
    else:
        sys.exit("oauth_fixture: unknown switch " + flag)
port = int(args[0]) if args else 0

state = {"tokens": {}, "refresh": {}, "codes": {}, "clients": {}, "n": 0}


def log(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def issue(grant, scope):
    state["n"] += 1
    access = "ACCESS-%d-%s" % (state["n"], secrets.token_hex(8))
    refresh = "REFRESH-%d-%s" % (state["n"], secrets.token_hex(8))
    state["tokens"][access] = {"grant": grant, "scope": scope, "uses": 0}
    state["refresh"][refresh] = scope
    log("issued %s access=%s refresh=%s" % (grant, access, refresh))
    answer = {"access_token": access, "token_type": "Bearer", "refresh_token": refresh,
              "expires_in": options["expires"]}
    if scope:
        answer["scope"] = scope
    return answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def reply(self, status, body=None, headers=None, content_type="application/json"):
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                         json.dumps(body).encode())
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        size = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(size).decode() if size else ""

    def do_GET(self):
        url = urlparse(self.path)
        base = self.base()
        if url.path == "/.well-known/oauth-protected-resource/mcp":
            self.reply(200, {"resource": options["prm_resource"] or base + "/mcp",
                             "authorization_servers": [base],
                             "scopes_supported": ["notes:read", "notes:write"]})
        elif url.path == "/.well-known/oauth-authorization-server" and options["hang_metadata"]:
            time.sleep(60)
            self.reply(503)
        elif url.path == "/.well-known/oauth-authorization-server":
            metadata = {"issuer": base + "/other" if options["wrong_issuer"] else base,
                        "authorization_endpoint": base + "/authorize",
                        "token_endpoint": base + "/token",
                        "registration_endpoint": base + "/register",
                        "response_types_supported": ["code"],
                        "grant_types_supported": ["authorization_code", "refresh_token"],
                        "code_challenge_methods_supported": ["S256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_post"]}
            if options["no_s256"]:
                del metadata["code_challenge_methods_supported"]
            self.reply(200, metadata)
        elif url.path == "/authorize":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            code = "CODE-" + secrets.token_hex(8)
            state["codes"][code] = query
            log("code %s scope=%s" % (code, query.get("scope", "")))
            returned = "forged" if options["forged_state"] else query.get("state", "")
            target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": returned})
            self.reply(302, None, {"Location": target})
        else:
            self.reply(404, {"error": "not_found"})

    def do_DELETE(self):
        self.reply(405)

    def token(self):
        form = {k: v[0] for k, v in parse_qs(self.body()).items()}
        grant = form.get("grant_type")
        log("token grant=%s" % grant)
        client = state["clients"].get(form.get("client_id"))
        if not client or client != form.get("client_secret"):
            return self.reply(401, {"error": "invalid_client"})
        if grant == "authorization_code":
            request = state["codes"].pop(form.get("code"), None)
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if not request or digest.decode().rstrip("=") != request.get("code_challenge"):
                return self.reply(400, {"error": "invalid_grant"})
            return self.reply(200, issue(grant, request.get("scope", "")))
        if grant == "refresh_token":
            scope = state["refresh"].pop(form.get("refresh_token"), None)
            if scope is None or options["refuse_refresh"]:
                return self.reply(400, {"error": "invalid_grant"})
            return self.reply(200, issue(grant, scope))
        self.reply(400, {"error": "unsupported_grant_type"})

    def do_POST(self):
        path = urlparse(self.path).path
        base = self.base()
        if path == "/register":
            request = json.loads(self.body() or "{}")
            client, secret = "client-" + secrets.token_hex(4), "SECRET-" + secrets.token_hex(8)
            state["clients"][client] = secret
            log("registered client=%s secret=%s" % (client, secret))
            return self.reply(201, {"client_id": client, "client_secret": secret,
                                    "token_endpoint_auth_method": "client_secret_post",
                                    "redirect_uris": request.get("redirect_uris", [])})
        if path == "/token":
            return self.token()
        if path != "/mcp":
            return self.reply(404, {"error": "not_found"})
        message = json.loads(self.body() or "{}")
        method = message.get("method", "")
        challenge = 'Bearer resource_metadata="%s/.well-known/oauth-protected-resource/mcp"' % base
        auth = self.headers.get("Authorization", "")
        token = state["tokens"].get(auth[7:]) if auth.startswith("Bearer ") else None
        if token:
            token["uses"] += 1
        if not token or (options["revoke"] and token["uses"] > options["revoke"]):
            log("refused 401 %s" % method)
            return self.reply(401, {"error": "invalid_token"},
                              {"WWW-Authenticate": challenge + ', scope="notes:read"'})
        scopes = token["scope"].split()
        name = (message.get("params") or {}).get("name")
        if method == "tools/call" and name == "write_note" and "notes:write" not in scopes:
            log("refused 403 %s" % method)
            return self.reply(403, {"error": "insufficient_scope"}, {
                "WWW-Authenticate": challenge + ', error="insufficient_scope", '
                                                'scope="notes:read notes:write"'})
        log("mcp %s via %s scope=%s" % (method, token["grant"], token["scope"]))
        if "id" not in message:
            return self.reply(202)
        if method == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                      "serverInfo": {"name": "oauth_fixture", "version": "1"}}
        elif method == "tools/list":
            schema = {"type": "object", "properties": {}}
            result = {"tools": [{"name": "read_note", "inputSchema": schema},
                                {"name": "write_note", "inputSchema": schema}]}
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": "%s done" % name}]}
        else:
            result = {}
        self.reply(200, {"jsonrpc": "2.0", "id": message["id"], "result": result})


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
