/*  =========================================================================
    remote - the client of `mcpact tools|call|status --connect ENDPOINT`

    One DEALER socket to a gateway (docs/protocol.md, "The public
    protocol"), one request at a time, each with a request id of its own
    so that a late answer to an earlier one is told apart and dropped.
    Belongs to the thread that made it.
    =========================================================================
*/

#include "serve.h"

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
    char endpoint[256]; //  for messages
    uint64_t next_id;   //  request ids
    json_t *hello;      //  the gateway's HELLO info
    int signal_fd;      //  readable once a signal came: stop waiting
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

//  Waits for the reply to request `id`; returns its frames after the id
//  (the caller destroys the message) and sets *verb; NULL on timeout.
//  With signal_fd readable, returns NULL at once and sets *signalled.
static zmsg_t *
s_wait (remote_t *self, const char *id, int timeout_ms, char **verb, int signal_fd, bool *signalled)
{
    int64_t until = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = until - zclock_mono ();
        if (left <= 0)
            return NULL;
        struct pollfd fds[2] = { { zsock_fd (self->sock), POLLIN, 0 }, { signal_fd, POLLIN, 0 } };
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
        if (signal_fd >= 0 && poll (fds + 1, 1, 0) > 0) {
            *signalled = true;
            return NULL;
        }
        poll (fds, signal_fd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int) left);
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
    else if (!reply)
        *error = s_printf ("no answer from %s in %d s: is mcpact serve running there (and are "
                           "the CURVE keys right)?",
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
    if (strncmp (endpoint, "ipc://", 6) == 0) {
        //  A missing path is no daemon, said when connecting; a file of
        //  another kind would only be found out by a 15 s wait.
        struct stat info;
        const char *path = endpoint + 6;
        if (*path == 0) {
            snprintf (reason, size, "--connect %s: no path (ipc://PATH)", endpoint);
            return -1;
        }
        if (*path != '@' && stat (path, &info) == 0 && !S_ISSOCK (info.st_mode)) {
            snprintf (reason, size, "--connect %s: %s is not a socket (%s)", endpoint, path,
                      S_ISDIR (info.st_mode)   ? "a directory"
                      : S_ISREG (info.st_mode) ? "a regular file"
                                               : "a file of another kind");
            return -1;
        }
        return 0;
    }
    if (strncmp (endpoint, "tcp://", 6) != 0) {
        snprintf (reason, size,
                  "--connect %s: not an endpoint mcpact serve binds: give ipc://PATH or "
                  "tcp://HOST:PORT",
                  endpoint);
        return -1;
    }
    //  serve's own parse of HOST:PORT; a client needs a port of its own
    const char *problem;
    long port = endpoint_tcp_port (endpoint + 6, &problem);
    if (port < 1) {
        snprintf (reason, size, "--connect %s: %s (tcp://HOST:PORT, PORT 1 to 65535)", endpoint,
                  problem ? problem : "give the port the daemon is bound at, not * or 0");
        return -1;
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
        }
        zcert_destroy (&mine);
        zcert_destroy (&theirs);
    }
    //  A missing ipc:// socket means no daemon: say so at once.
    if (!*error && strncmp (endpoint, "ipc://", 6) == 0 && endpoint[6] != '@' &&
        access (endpoint + 6, F_OK) != 0)
        *error = s_printf ("no mcpact serve at %s: %s", endpoint, strerror (errno));
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
    zsock_destroy (&(*self_p)->sock);
    json_decref ((*self_p)->hello);
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
    zmsg_send (&msg, self->sock);
    char *verb = NULL;
    bool signalled = false;
    int wait = timeout_ms > 0 ? timeout_ms + REMOTE_GRACE_MS : REMOTE_CALL_MAX_MS;
    zmsg_t *answer = s_wait (self, id, wait, &verb, signal_fd, &signalled);
    if (signalled) {
        zstr_sendx (self->sock, "CANCEL", id, NULL);
        answer = s_wait (self, id, REMOTE_CANCEL_MS, &verb, -1, &signalled);
        if (!answer) {
            free (verb);
            return NULL;
        }
    }
    mcpact_result_t *result = NULL;
    if (!answer) {
        char *text = s_printf ("{\"message\":\"no answer from %s in time\"}", self->endpoint);
        result = mcpact_result_from_message (0, MCPACT_ERR_TIMEOUT, text, strlen (text));
        free (text);
    } else if (strcmp (verb, "RESULT") == 0) {
        char *status = zmsg_popstr (answer);
        char *payload = zmsg_popstr (answer);
        result =
            mcpact_result_from_message (0, (mcpact_status_t) atoi (status ? status : "7"),
                                        payload ? payload : "", payload ? strlen (payload) : 0);
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
