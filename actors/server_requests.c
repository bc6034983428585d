/*  =========================================================================
    server_requests - requests a server actor makes of its server for
    callers (see .h)
    =========================================================================
*/

#include "server_requests.h"

#include "idmap.h"
#include "log.h"
#include "mcpact.h"
#include "wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    zmq_msg_t caller; //  the caller's routing id (empty: the actor's own)
    bool own;         //  the actor's own request: no caller to answer
    uint64_t call_id; //  the caller's id for it
    int64_t deadline; //  ms, monotonic
    int timeout_ms;   //  as asked, for the message
    bool own_timeout; //  the caller gave it (else the server's call timeout)
    char method[48];  //  for messages
} s_request_t;

struct _server_requests_t {
    char *name;            //  the server's, for messages
    idmap_t requests;      //  JSON-RPC id -> s_request_t
    deadlines_t deadlines; //  their deadlines
};

//  The methods sent on request, with the capability each needs
//  (MCP 2025-11-25: "Resources", "Prompts", "Logging", "Completion").
static const struct {
    const char *method;
    const char *capability;
} s_methods[] = { { "resources/list", "resources" },
                  { "resources/templates/list", "resources" },
                  { "resources/read", "resources" },
                  { "resources/subscribe", "resources.subscribe" },
                  { "resources/unsubscribe", "resources.subscribe" },
                  { "prompts/list", "prompts" },
                  { "prompts/get", "prompts" },
                  { "logging/setLevel", "logging" },
                  { "completion/complete", "completions" },
                  { "ping", NULL } };

server_requests_t *
server_requests_new (const char *name)
{
    server_requests_t *self = (server_requests_t *) calloc (1, sizeof (server_requests_t));
    if (!self || !(self->name = strdup (name))) {
        free (self);
        return NULL;
    }
    idmap_init (&self->requests);
    deadlines_init (&self->deadlines);
    deadlines_watch (&self->deadlines, &self->requests);
    return self;
}

static void
s_free_one (uint64_t id, void *value, void *arg)
{
    s_request_t *request = (s_request_t *) value;
    zmq_msg_close (&request->caller);
    free (request);
}

void
server_requests_destroy (server_requests_t **self_p)
{
    server_requests_t *self = *self_p;
    if (!self)
        return;
    idmap_each (&self->requests, s_free_one, NULL);
    idmap_free (&self->requests);
    deadlines_free (&self->deadlines);
    free (self->name);
    free (self);
    *self_p = NULL;
}

int
server_log_rank (const char *level)
{
    static const char *levels[] = { "debug", "info",     "notice", "warning",
                                    "error", "critical", "alert",  "emergency" };
    for (int rank = 0; level && rank < 8; rank++)
        if (strcmp (level, levels[rank]) == 0)
            return rank;
    return -1;
}

int
server_requests_method (const char *method, const char **capability)
{
    for (size_t i = 0; method && i < sizeof s_methods / sizeof s_methods[0]; i++)
        if (strcmp (method, s_methods[i].method) == 0) {
            *capability = s_methods[i].capability;
            return 0;
        }
    return -1;
}

bool
server_requests_declared (json_t *capabilities, const char *capability)
{
    if (!capability)
        return true;
    //  "resources.subscribe" is a flag inside "resources"; the others are
    //  objects whose presence declares them.
    const char *dot = strchr (capability, '.');
    if (!dot)
        return json_is_object (json_object_get (capabilities, capability));
    char outer[32];
    snprintf (outer, sizeof outer, "%.*s", (int) (dot - capability), capability);
    return json_is_true (json_object_get (json_object_get (capabilities, outer), dot + 1));
}

int
server_requests_line (jsonbuf_t *line, uint64_t rpc_id, const char *method, json_t *params)
{
    line->size = 0;
    char head[64];
    snprintf (head, sizeof head, "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":", rpc_id);
    if (jsonbuf_append_str (line, head) || jsonbuf_append_quoted (line, method))
        return -1;
    if (params) {
        //  Compact: the request is one line on stdio.
        char *text = json_dumps (params, JSON_COMPACT);
        int rc = text ? jsonbuf_append_str (line, ",\"params\":") || jsonbuf_append_str (line, text)
                      : -1;
        free (text);
        if (rc)
            return -1;
    }
    return jsonbuf_append (line, "}", 1);
}

int
server_requests_add (server_requests_t *self, zmq_msg_t *caller, uint64_t call_id, uint64_t rpc_id,
                     int timeout_ms, bool own_timeout, const char *what)
{
    s_request_t *request = (s_request_t *) calloc (1, sizeof (s_request_t));
    if (!request)
        return -1;
    zmq_msg_init (&request->caller);
    if (caller)
        zmq_msg_copy (&request->caller, caller);
    request->own = !caller;
    request->call_id = call_id;
    request->timeout_ms = timeout_ms;
    request->own_timeout = own_timeout;
    request->deadline = clock_ms () + timeout_ms;
    snprintf (request->method, sizeof request->method, "%s", what);
    if (idmap_put (&self->requests, rpc_id, request) ||
        deadlines_push (&self->deadlines, request->deadline, rpc_id)) {
        idmap_take (&self->requests, rpc_id);
        zmq_msg_close (&request->caller);
        free (request);
        return -1;
    }
    return 0;
}

static void
s_request_free (s_request_t *request)
{
    zmq_msg_close (&request->caller);
    free (request);
}

static void
s_reply_error (server_requests_t *self, void *router, s_request_t *request, int status,
               const char *format, ...)
{
    char message[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    if (request->own)
        log_warn ("server %s: %s: %s", self->name, request->method, message);
    else
        wire_send_error (router, &request->caller, request->call_id, status, message);
}

int
server_peer_status (const char *error, size_t size, char **message)
{
    json_t *body = json_loadb (error, size, 0, NULL);
    json_t *status = json_object_get (json_object_get (body, "data"), "mcpactStatus");
    const char *text = json_string_value (json_object_get (body, "message"));
    json_int_t value = json_is_integer (status) ? json_integer_value (status) : -1;
    bool passed = text && value >= MCPACT_ERR_UNKNOWN_TOOL && value <= MCPACT_ERR_BUSY &&
                  (*message = strdup (text));
    json_decref (body);
    return passed ? (int) value : -1;
}

bool
server_requests_answer (server_requests_t *self, void *router, uint64_t rpc_id,
                        const jsonrpc_msg_t *msg, bool peer_status)
{
    s_request_t *request = self ? (s_request_t *) idmap_take (&self->requests, rpc_id) : NULL;
    if (!request)
        return false;
    int status = -1;
    char *message = NULL;
    if (msg->error && peer_status && !request->own)
        status = server_peer_status (msg->error, (size_t) (msg->error_end - msg->error), &message);
    if (status >= 0) {
        s_reply_error (self, router, request, status, "server %s: %s", self->name, message);
        free (message);
    } else if (msg->result) {
        if (!request->own)
            wire_send_result (router, &request->caller, request->call_id, MCPACT_OK, msg->result,
                              (size_t) (msg->result_end - msg->result));
    } else if (msg->error) {
        if (request->own)
            log_warn ("server %s: %s failed: %.*s", self->name, request->method,
                      LOG_CUT ((size_t) (msg->error_end - msg->error), 200), msg->error);
        else
            wire_send_result (router, &request->caller, request->call_id, MCPACT_ERR_PROTOCOL,
                              msg->error, (size_t) (msg->error_end - msg->error));
    } else
        s_reply_error (self, router, request, MCPACT_ERR_PROTOCOL,
                       "server %s: a response to %s with neither result nor error", self->name,
                       request->method);
    s_request_free (request);
    return true;
}

int64_t
server_requests_next (server_requests_t *self)
{
    //  Answered requests leave their deadline behind: skip those.
    if (!self)
        return INT64_MAX;
    deadline_t *next;
    while ((next = deadlines_peek (&self->deadlines)) && !idmap_get (&self->requests, next->id))
        deadlines_pop (&self->deadlines);
    return next ? next->when : INT64_MAX;
}

void
server_requests_expire (server_requests_t *self, void *router, int64_t now,
                        server_requests_cancel_fn *cancel, void *arg)
{
    if (!self)
        return;
    deadline_t *next;
    while ((next = deadlines_peek (&self->deadlines)) && next->when <= now) {
        uint64_t rpc_id = next->id;
        deadlines_pop (&self->deadlines);
        s_request_t *request = (s_request_t *) idmap_take (&self->requests, rpc_id);
        if (!request)
            continue; //  answered already
        char reason[64];
        snprintf (reason, sizeof reason, "timed out after %d ms", request->timeout_ms);
        cancel (arg, rpc_id, reason);
        s_reply_error (self, router, request, MCPACT_ERR_TIMEOUT,
                       "server %s: no answer to %s within %d ms (%s)", self->name, request->method,
                       request->timeout_ms,
                       request->own_timeout ? "the request's own timeout"
                                            : "the call timeout: \"timeouts\": {\"call\": ms} "
                                              "raises it");
        s_request_free (request);
    }
}

typedef struct {
    server_requests_t *self;
    void *router;
    const char *message;
} s_fail_t;

static void
s_fail_one (uint64_t id, void *value, void *arg)
{
    s_fail_t *fail = (s_fail_t *) arg;
    s_request_t *request = (s_request_t *) value;
    if (!request->own)
        wire_send_error (fail->router, &request->caller, request->call_id, MCPACT_ERR_SERVER,
                         fail->message);
    s_request_free (request);
}

void
server_requests_fail_all (server_requests_t *self, void *router, const char *message)
{
    if (!self)
        return;
    s_fail_t fail = { self, router, message };
    idmap_each (&self->requests, s_fail_one, &fail);
    idmap_free (&self->requests);
    idmap_init (&self->requests);
    deadlines_free (&self->deadlines);
    deadlines_init (&self->deadlines);
    deadlines_watch (&self->deadlines, &self->requests);
}

size_t
server_requests_size (server_requests_t *self)
{
    return self ? self->requests.size : 0;
}
