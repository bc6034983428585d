#!/usr/bin/env python3
"""A client of `mcpact serve` in Python (pyzmq: Debian's python3-zmq).

On Debian: `apt-get install python3-zmq`, and run it with /usr/bin/python3
(a python3 first on PATH from pyenv, a virtualenv or /usr/local may not
have pyzmq).

The message protocol is docs/protocol.md, "The public protocol": text
frames, JSON payloads, every request `VERB ID ARGS...` and every reply
`VERB ID ...` with the same ID, so many calls can be in flight at once.

    client.py ipc://$HOME/.cache/mcpact/sock
    client.py tcp://host:5555 --curve-key me --curve-server gateway.pub

Says HELLO, lists the tools, makes --calls calls of TOOL at once with
ARGS (each "message" made unique) and checks every answer; with --slow it
starts that call and cancels it; with --events and --crash it watches the
server restart after the crash tool; with --resources it lists the
resources, reads the first, and (with --events) prints the servers' log
messages that came meanwhile.
"""
import argparse
import json
import os
import sys
import time

try:
    import zmq
    import zmq.auth
except ImportError:
    sys.exit(f"{sys.argv[0]}: needs pyzmq, which {sys.executable} does not have: on Debian, "
             "apt-get install python3-zmq and run this with /usr/bin/python3")


class Client:
    def __init__(self, endpoint, key=None, server_cert=None):
        # CURVE: our key pair and the gateway's public key, kept here: a
        # socket's key options are write-only, and SUB sockets need them too.
        self.keys = None
        if key:
            # The key pair: PATH (with PATH_secret beside it) or PATH_secret,
            # as mcpact --curve-key takes it.
            if os.path.exists(key + "_secret"):
                key += "_secret"
            public, secret = zmq.auth.load_certificate(key)
            self.keys = (public, secret, zmq.auth.load_certificate(server_cert)[0])
        self.sock = self.socket(zmq.DEALER, endpoint)
        self.next_id = 0

    def socket(self, kind, endpoint, topic=None):
        """A socket of `kind` connected to `endpoint` (with our keys)."""
        sock = zmq.Context.instance().socket(kind)
        sock.linger = 0
        sock.ipv6 = True  # tcp://[::1]:PORT as well as tcp://127.0.0.1:PORT
        if self.keys:
            sock.curve_publickey, sock.curve_secretkey, sock.curve_serverkey = self.keys
        if topic:
            sock.subscribe(topic)
        sock.connect(endpoint)
        return sock

    def send(self, verb, *frames):
        """Sends a request; returns its id."""
        self.next_id += 1
        rid = str(self.next_id)
        self.sock.send_multipart([verb.encode(), rid.encode()] + [f.encode() for f in frames])
        return rid

    def recv(self, timeout_ms=10000):
        """The next reply as (verb, id, frames...) of str."""
        if not self.sock.poll(timeout_ms):
            raise TimeoutError(f"no answer within {timeout_ms // 1000} s"
                               + (" (are the CURVE keys right?)" if self.keys else ""))
        return [f.decode() for f in self.sock.recv_multipart()]

    def request(self, verb, *frames):
        """One request and its answer's JSON."""
        rid = self.send(verb, *frames)
        while True:
            reply = self.recv()
            if reply[1] == rid:
                if reply[0] == "ERROR":
                    raise RuntimeError(json.loads(reply[2])["message"])
                return json.loads(reply[2])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--curve-key")
    parser.add_argument("--curve-server")
    parser.add_argument("--agent", default="")
    parser.add_argument("--tool", default="echo")
    parser.add_argument("--args", default='{"message": "hello"}')
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--slow", help="a tool call to cancel: TOOL=ARGS")
    parser.add_argument("--events")
    parser.add_argument("--crash", help="a tool that makes its server restart")
    parser.add_argument("--resources", action="store_true", help="list and read resources")
    opts = parser.parse_args()
    client = Client(opts.endpoint, opts.curve_key, opts.curve_server)

    hello = client.request("HELLO", "1")
    print("hello protocol", hello["protocol"], "agents", [a["name"] for a in hello["agents"]])
    tools = client.request("TOOLS", opts.agent)
    print("tools", " ".join(t["name"] for t in tools))

    # Many calls in flight; replies come in any order, matched by id.
    pending = {}
    for i in range(opts.calls):
        args = json.loads(opts.args)
        args["message"] = f"m{i}"
        pending[client.send("CALL", opts.agent, opts.tool, json.dumps(args))] = f"m{i}"
    good = 0
    while pending:
        verb, rid, *rest = client.recv()  # RESULT id status payload (or ERROR id body)
        expected = pending.pop(rid)
        if verb == "RESULT" and rest[0] == "0":
            good += expected in json.loads(rest[1])["content"][0]["text"]
    print("calls", opts.calls, "answered", good)

    if opts.slow:
        tool, args = opts.slow.split("=", 1)
        rid = client.send("CALL", opts.agent, tool, args)
        client.send("PING")  # the call is on its way once PONG is back
        while client.recv()[0] != "PONG":
            pass
        client.sock.send_multipart([b"CANCEL", rid.encode()])
        reply = client.recv()
        print("cancel", reply[0], "status", reply[2], json.loads(reply[3])["message"])

    if opts.resources:
        logs = None
        if opts.events:  # what servers log comes as SERVER_LOG server log_json
            logs = client.socket(zmq.SUB, opts.events, b"SERVER_LOG")
            time.sleep(0.3)
        listed = client.request("RESOURCES", opts.agent)
        print("resources", len(listed["resources"]), "errors", len(listed["errors"]))
        if listed["resources"]:
            first = listed["resources"][0]
            client.send("READ", opts.agent, first["uri"], first["_mcpact"]["server"])
            verb, _, status, payload = client.recv()  # RESULT id status payload, as for CALL
            contents = json.loads(payload).get("contents", []) if status == "0" else []
            print("read", first["uri"], "status", status, "contents", len(contents))
        while logs is not None and logs.poll(1000):
            _, server, body = [f.decode() for f in logs.recv_multipart()]
            print("log", server, json.loads(body)["level"])

    if opts.events and opts.crash:
        events = client.socket(zmq.SUB, opts.events, b"SERVER_STATE")
        time.sleep(0.3)  # a SUB sees only what is published after it joined
        client.send("CALL", opts.agent, opts.crash, "{}")
        while events.poll(10000):
            kind, server, body = [f.decode() for f in events.recv_multipart()]
            state = json.loads(body)["state"]
            print("event", kind, server, state)
            if state == "ready":
                break
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (TimeoutError, RuntimeError) as error:
        sys.exit(f"client.py: {error}")
