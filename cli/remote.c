/*  =========================================================================
    remote - the client of `mcpact tools|call|status --connect ENDPOINT`

    One DEALER socket to a gateway (docs/protocol.md, "The public
    protocol"), one request at a time, each with a request id of its own
    so that a late answer to an earlier one is told apart and dropped.
    What can be known at once is said at once, not after the 15 s wait
    (endpoint_probe: an ipc:// socket nobody listens on, a host that does
    not resolve), and a socket monitor tells a failed CURVE handshake (our
    key refused) and a connection refused (ZeroMQ retries in silence) as
    they happen. Belongs to the thread that made it.
    =========================================================================
*/

#include "serve.h"

#include "caller.h"
#include "endpoint.h"

#include <czmq.h>
#include <stdarg.h>
#include <errno.h>
#include <jansson.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  How long a call waits beyond its own timeout (the server enforces
//  that), and how long one without a timeout may take at most.
#define REMOTE_GRACE_MS 5000
#define REMOTE_CALL_MAX_MS (24 * 3600 * 1000)
#define REMOTE_REQUEST_MS 15000
#define REMOTE_CANCEL_MS 2000

struct _remote_t {
    zsock_t *sock;      //  DEALER
    zsock_t *monitor;   //  PAIR: the dealer's socket events
    char endpoint[256]; //  for messages
    uint64_t next_id;   //  request ids
    json_t *hello;      //  the gateway's HELLO info
    int signal_fd;      //  readable once a signal came: stop waiting
    bool curve;         //  the connection uses CURVE
    bool connected;     //  a connection was made, once at least
    int64_t refused_at; //  ZeroMQ's first failed attempt to connect, 0 = none
    char *failure;      //  what the monitor told went wrong, or NULL
};

static char *s_printf (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

static char *
s_printf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    return text;
}

//  Reads the monitor's events: a failed handshake is a failure to say at
//  once; a connection that was never made and was refused (the first
//  failed attempt ENDPOINT_REFUSED_MS ago: loopback refuses at once, a
//  daemon starting up binds in less) is one too.
static void
s_on_events (remote_t *self)
{
    while (self->monitor && !self->failure && (zsock_events (self->monitor) & ZMQ_POLLIN)) {
        zmsg_t *event = zmsg_recv (self->monitor);
        zframe_t *frame = event ? zmsg_first (event) : NULL;
        if (frame && zframe_size (frame) >= 6) {
            uint16_t kind;
            uint32_t value;
            memcpy (&kind, zframe_data (frame), 2);
            memcpy (&value, zframe_data (frame) + 2, 4);
            char peer[300], reason[768];
            snprintf (peer, sizeof peer, "mcpact serve at %s", self->endpoint);
            if (kind == ZMQ_EVENT_CONNECTED)
                self->connected = true;
            else if (kind == ZMQ_EVENT_CONNECT_RETRIED && !self->refused_at)
                self->refused_at = zclock_mono ();
            else if (endpoint_handshake_problem (peer, "--curve-server",
                                                 "--curve-key, --curve-server", kind, value,
                                                 self->curve, reason, sizeof reason) != 0)
                self->failure = strdup (reason);
        }
        zmsg_destroy (&event);
    }
    if (!self->failure && !self->connected && self->refused_at &&
        zclock_mono () - self->refused_at >= ENDPOINT_REFUSED_MS)
        self->failure = s_printf ("no mcpact serve at %s: nothing listens there (connection "
                                  "refused, still after %.1f s of retries)",
                                  self->endpoint, ENDPOINT_REFUSED_MS / 1000.0);
}

//  Waits for the reply to request `id`; returns its frames after the id
//  (the caller destroys the message) and sets *verb; NULL on timeout, or
//  at once with self->failure set. With signal_fd readable, returns NULL
//  at once and sets *signalled.
static zmsg_t *
s_wait (remote_t *self, const char *id, int timeout_ms, char **verb, int signal_fd, bool *signalled)
{
    int64_t until = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = until - zclock_mono ();
        if (left <= 0)
            return NULL;
        struct pollfd fds[3] = { { zsock_fd (self->sock), POLLIN, 0 },
                                 { self->monitor ? zsock_fd (self->monitor) : -1, POLLIN, 0 },
                                 { signal_fd, POLLIN, 0 } };
        while (zsock_events (self->sock) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (self->sock);
            char *reply = msg ? zmsg_popstr (msg) : NULL;
            char *reply_id = msg ? zmsg_popstr (msg) : NULL;
            bool mine =
                reply && reply_id && strcmp (reply_id, id) == 0 && strcmp (reply, "PROGRESS") != 0;
            free (reply_id);
            if (mine) {
                *verb = reply;
                return msg;
            }
            free (reply);
            zmsg_destroy (&msg);
        }
        s_on_events (self);
        if (self->failure)
            return NULL;
        if (signal_fd >= 0 && poll (fds + 2, 1, 0) > 0) {
            *signalled = true;
            return NULL;
        }
        int wait = left > 1000 ? 1000 : (int) left;
        if (!self->connected && self->refused_at) {
            int64_t refused = self->refused_at + ENDPOINT_REFUSED_MS - zclock_mono ();
            wait = refused < wait ? (refused < 0 ? 0 : (int) refused) : wait;
        }
        poll (fds, signal_fd >= 0 ? 3 : 2, wait);
    }
}

//  Sends VERB id frames... and waits for the answer's body. NULL and
//  *error (malloc'ed) for none, or an ERROR.
static char *
s_request (remote_t *self, const char *verb, const char **frames, int count, const char *expect,
           char **error)
{
    char id[24];
    snprintf (id, sizeof id, "%" PRIu64, ++self->next_id);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, verb);
    zmsg_addstr (msg, id);
    for (int i = 0; i < count; i++)
        zmsg_addstr (msg, frames[i]);
    zmsg_send (&msg, self->sock);
    char *reply = NULL;
    bool signalled = false;
    zmsg_t *answer = s_wait (self, id, REMOTE_REQUEST_MS, &reply, self->signal_fd, &signalled);
    char *body = answer ? zmsg_popstr (answer) : NULL;
    zmsg_destroy (&answer);
    char *text = NULL;
    if (signalled)
        *error = s_printf ("stopped by a signal while waiting for %s", self->endpoint);
    else if (self->failure)
        *error = strdup (self->failure);
    else if (!reply && self->connected)
        *error = s_printf ("no answer from %s in %d s: the connection was made, but nothing "
                           "answered (is it mcpact serve? are its servers still starting?)",
                           self->endpoint, REMOTE_REQUEST_MS / 1000);
    else if (!reply)
        *error = s_printf ("no answer from %s in %d s: no connection could be made (is the "
                           "host up, and mcpact serve bound at that port?)",
                           self->endpoint, REMOTE_REQUEST_MS / 1000);
    else if (strcmp (reply, expect) != 0) {
        json_t *json = body ? json_loads (body, 0, NULL) : NULL;
        const char *message = json_string_value (json_object_get (json, "message"));
        *error = s_printf ("%s: %s", self->endpoint, message ? message : body ? body : reply);
        json_decref (json);
    } else {
        text = body;
        body = NULL;
    }
    free (body);
    free (reply);
    return text;
}

int
remote_endpoint_check (const char *endpoint, char *reason, size_t size)
{
    //  The check of serve's --bind and of a group's endpoint, for a client.
    const char *problem = endpoint_problem (endpoint, false);
    if (problem) {
        snprintf (reason, size, "--connect %s: %s%s", endpoint, problem,
                  strncmp (endpoint, "tcp://", 6) == 0 ? " (tcp://HOST:PORT, PORT 1 to 65535)"
                                                       : "");
        return -1;
    }
    if (strncmp (endpoint, "ipc://", 6) == 0) {
        //  A missing path is no daemon, said when connecting; a file of
        //  another kind is a mistake in the command.
        struct stat info;
        const char *path = endpoint + 6;
        if (*path != '@' && stat (path, &info) == 0 && !S_ISSOCK (info.st_mode)) {
            snprintf (reason, size, "--connect %s: %s is not a socket (%s)", endpoint, path,
                      S_ISDIR (info.st_mode)   ? "a directory"
                      : S_ISREG (info.st_mode) ? "a regular file"
                                               : "a file of another kind");
            return -1;
        }
    }
    return 0;
}

remote_t *
remote_new (const char *endpoint, const char *client_key, const char *server_key, int timeout_ms,
            int signal_fd, char **error)
{
    *error = NULL;
    remote_t *self = (remote_t *) calloc (1, sizeof (remote_t));
    self->signal_fd = signal_fd;
    self->sock = zsock_new (ZMQ_DEALER);
    //  IPv6 too (tcp://[::1]:PORT), which serve binds; an IPv4 address
    //  is then reached as an IPv4-mapped one.
    zsock_set_ipv6 (self->sock, 1);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    //  The CLI has looked at both files first (curve_cert_check): CZMQ
    //  would quote a line it cannot parse.
    if (client_key || server_key) {
        zcert_t *mine = client_key ? zcert_load (client_key) : NULL;
        zcert_t *theirs = server_key ? zcert_load (server_key) : NULL;
        if (!mine || !theirs)
            *error = s_printf ("CURVE needs --curve-key (your key pair from mcpact keygen) and "
                               "--curve-server (the gateway's public certificate); cannot read "
                               "%s",
                               !mine ? (client_key ? client_key : "(no --curve-key)")
                                     : (server_key ? server_key : "(no --curve-server)"));
        else {
            zcert_apply (mine, self->sock);
            zsock_set_curve_serverkey (self->sock, zcert_public_txt (theirs));
            self->curve = true;
        }
        zcert_destroy (&mine);
        zcert_destroy (&theirs);
    }
    //  What can be known without ZeroMQ (which would retry in silence):
    //  no socket file, nothing listening on it, a host that does not
    //  resolve. The same probe as a group's.
    char reason[600];
    if (!*error && endpoint_probe (endpoint, reason, sizeof reason) != 0)
        *error = s_printf ("no mcpact serve at %s: %s", endpoint, reason);
    //  The monitor before the connection, to see all of its events.
    char monitor[64];
    snprintf (monitor, sizeof monitor, "inproc://mcpact-remote-%p", (void *) self);
    if (!*error && (zmq_socket_monitor (zsock_resolve (self->sock), monitor,
                                        ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
                                            ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                            ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
                    !(self->monitor = zsock_new_pair (monitor))))
        *error =
            s_printf ("cannot monitor the connection to %s: %s", endpoint, zmq_strerror (errno));
    //  serve binds localhost as 127.0.0.1 (endpoint_resolve); with IPv6
    //  on, libzmq would take localhost for ::1: connect where it binds.
    char target[256];
    endpoint_resolve (endpoint, target, sizeof target);
    if (!*error && zsock_connect (self->sock, "%s", target) != 0)
        *error = s_printf ("cannot connect to %s: %s", endpoint, zmq_strerror (errno));
    if (!*error) {
        const char *version[] = { "1" };
        char *hello = s_request (self, "HELLO", version, 1, "HELLO", error);
        self->hello = hello ? json_loads (hello, 0, NULL) : NULL;
        free (hello);
    }
    if (*error)
        remote_destroy (&self);
    return self;
}

void
remote_destroy (remote_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    remote_t *self = *self_p;
    if (self->monitor)
        zmq_socket_monitor (zsock_resolve (self->sock), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->sock);
    free (self->failure);
    json_decref (self->hello);
    free (*self_p);
    *self_p = NULL;
}

char *
remote_agent_problem (remote_t *self, const char *agent)
{
    json_t *agents = json_object_get (self->hello, "agents");
    if (!json_is_array (agents))
        return NULL; //  the gateway answers for itself, request by request
    char *names = strdup ("");
    size_t index;
    json_t *served;
    json_array_foreach (agents, index, served) {
        const char *name = json_string_value (json_object_get (served, "name"));
        if (name && strcmp (name, agent) == 0) {
            free (names);
            return NULL;
        }
        char *more = s_printf ("%s%s'%s'", names, *names ? ", " : "", name ? name : "");
        free (names);
        names = more;
    }
    char *problem =
        s_printf ("no agent '%s' at %s; its agents are: %s", agent, self->endpoint, names);
    free (names);
    return problem;
}

char *
remote_tools (remote_t *self, const char *agent, int format, bool strict, char **error)
{
    const char *frames[] = { agent,
                             format >= 0 ? mcpact_format_name ((mcpact_format_t) format) : "mcp",
                             strict ? "strict" : "" };
    return s_request (self, "TOOLS", frames, 3, "TOOLS", error);
}

char *
remote_status (remote_t *self, const char *agent, char **error)
{
    const char *frames[] = { agent };
    return s_request (self, "STATUS", frames, 1, "STATUS", error);
}

//  Sends `msg` (a request with id `id`) and turns its RESULT, an ERROR
//  or no answer within `wait` ms into a result. With `cancel`, a signal
//  (signal_fd) cancels the request and its answer is awaited for a
//  moment (NULL if none came); without, a signal ends the wait at once.
static mcpact_result_t *
s_result_request (remote_t *self, zmsg_t **msg, const char *id, int wait, int signal_fd,
                  bool cancel, bool raw)
{
    zmsg_send (msg, self->sock);
    char *verb = NULL;
    bool signalled = false;
    zmsg_t *answer = s_wait (self, id, wait, &verb, signal_fd, &signalled);
    if (signalled && cancel) {
        zstr_sendx (self->sock, "CANCEL", id, NULL);
        answer = s_wait (self, id, REMOTE_CANCEL_MS, &verb, -1, &signalled);
    }
    if (signalled && !answer) {
        free (verb);
        return NULL;
    }
    mcpact_result_t *result = NULL;
    if (!answer) {
        json_t *body = json_pack ("{s:s}", "message", self->failure ? self->failure : "");
        if (!self->failure)
            json_object_set_new (body, "message",
                                 json_sprintf ("no answer from %s in time", self->endpoint));
        char *text = json_dumps (body, JSON_COMPACT);
        json_decref (body);
        result =
            mcpact_result_from_message (0, self->failure ? MCPACT_ERR_SERVER : MCPACT_ERR_TIMEOUT,
                                        text ? text : "", text ? strlen (text) : 0);
        free (text);
    } else if (strcmp (verb, "RESULT") == 0) {
        char *status = zmsg_popstr (answer);
        char *payload = zmsg_popstr (answer);
        int code = atoi (status ? status : "7");
        //  A resource's or prompt's result is not a tool result.
        result =
            raw && code == MCPACT_OK && payload
                ? result_raw (0, payload, strlen (payload))
                : mcpact_result_from_message (0, (mcpact_status_t) code, payload ? payload : "",
                                              payload ? strlen (payload) : 0);
        free (status);
        free (payload);
    } else {
        //  ERROR {"error", "message"}: the request itself was wrong.
        char *payload = zmsg_popstr (answer);
        result = mcpact_result_from_message (0, MCPACT_ERR_UNKNOWN_TOOL, payload ? payload : "",
                                             payload ? strlen (payload) : 0);
        free (payload);
    }
    zmsg_destroy (&answer);
    free (verb);
    return result;
}

//  How long to wait for a request's RESULT: its timeout and a grace, or
//  as long as a call may last.
static int
s_wait_for (int timeout_ms)
{
    return timeout_ms > 0 ? timeout_ms + REMOTE_GRACE_MS : REMOTE_CALL_MAX_MS;
}

mcpact_result_t *
remote_call (remote_t *self, const char *agent, const char *tool, const char *args_json,
             int timeout_ms, int signal_fd)
{
    char id[24], options[64];
    snprintf (id, sizeof id, "%" PRIu64, ++self->next_id);
    snprintf (options, sizeof options, "{\"timeoutMs\":%d}", timeout_ms);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "CALL");
    zmsg_addstr (msg, id);
    zmsg_addstr (msg, agent);
    zmsg_addstr (msg, tool);
    zmsg_addstr (msg, args_json ? args_json : "{}");
    zmsg_addstr (msg, options);
    return s_result_request (self, &msg, id, s_wait_for (timeout_ms), signal_fd, true, false);
}

char *
remote_listing (remote_t *self, const char *verb, const char *agent, char **error)
{
    const char *frames[] = { agent };
    return s_request (self, verb, frames, 1, verb, error);
}

mcpact_result_t *
remote_read (remote_t *self, const char *agent, const char *verb, const char *name,
             const char *args_json, const char *server, int timeout_ms)
{
    char id[24];
    snprintf (id, sizeof id, "%" PRIu64, ++self->next_id);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, verb);
    zmsg_addstr (msg, id);
    zmsg_addstr (msg, agent);
    zmsg_addstr (msg, name);
    //  READ id agent uri [server]; PROMPT id agent name [args [server]]
    if (strcmp (verb, "PROMPT") == 0 && (args_json || server))
        zmsg_addstr (msg, args_json ? args_json : "{}");
    if (server)
        zmsg_addstr (msg, server);
    return s_result_request (self, &msg, id, s_wait_for (timeout_ms), self->signal_fd, false, true);
}
