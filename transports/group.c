/*  =========================================================================
    group - the group transport: a group of servers behind another mcpact

    A group is the agent of a gateway (`mcpact serve`, docs/protocol.md "The
    public protocol") in another process or on another machine, used as one
    server. This transport speaks MCP JSON-RPC to its server actor and the
    public protocol to the gateway, over one DEALER (CURVE when the group's
    public key and our certificate are given): it answers `initialize`
    itself once the gateway has answered HELLO (and has the agent) and
    STATUS (what the agent's servers declared: the capabilities offered
    here are theirs together), maps tools/list to TOOLS, tools/call to
    CALL (PROGRESS to notifications/progress), notifications/cancelled to
    CANCEL and ping to PING, and hands the resources, prompts and logging
    requests to group_features.c (RESOURCES, TEMPLATES, PROMPTS, READ,
    PROMPT, SUBSCRIBE, UNSUBSCRIBE and LOGLEVEL). The gateway pushes nothing on this socket,
    so the tools are asked for again every POLL_MS, and a listing that
    differs from the last is told as notifications/tools/list_changed: one
    endpoint and one key, and nothing missed across a reconnection. What
    only events can tell (a subscribed resource updated, resources or
    prompts changed, a server's log message) comes from a SUB to the
    gateway's events endpoint, when HELLO names one ("eventEndpoints"):
    without it the group offers no subscriptions, list_changed or logging.

    A call the group fails keeps the group's status: it is handed to the
    actor as a JSON-RPC error with data.mcpactStatus (status_in_error),
    its message naming the group's endpoint.

    Loss of the group is the transport's death, so that the server actor
    handles it as a server that died (calls in flight failed at once, tools
    withdrawn, a restart with backoff): a socket monitor reports the
    connection's end (the peer closed it, or ZeroMQ heartbeats went
    unanswered for HEARTBEAT_TIMEOUT_MS), and a failed CURVE handshake.
    Unlike a local server's, the group's tools are withdrawn while it is
    down (withdraw_when_down), and listed again once it is back.

    Threading: used by one server actor thread, as every transport; the
    monitor's PAIR and the events' SUB live in the same thread and the
    same ZeroMQ context.
    =========================================================================
*/

#include "transport.h"

#include "curve_cert.h"
#include "endpoint.h"
#include "group_features.h"
#include "log.h"
#include "idmap.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  How often the group's tools are asked for, to see a change.
#define POLL_MS 2000
//  ZeroMQ heartbeats: a PING this often; no traffic for the timeout ends
//  the connection; the TTL tells the group to drop us likewise.
#define HEARTBEAT_IVL_MS 1000
#define HEARTBEAT_TIMEOUT_MS 5000
#define HEARTBEAT_TTL_MS 10000
//  Messages read from the group in one round before looking at the rest.
#define DRAIN_BATCH 256

typedef struct {
    char *name;                 //  server (group) name, for logs
    char *endpoint;             //  the gateway's endpoint
    char *agent;                //  the gateway's agent that is the group
    bool curve;                 //  the connection uses CURVE
    zsock_t *dealer;            //  to the gateway
    zsock_t *monitor;           //  PAIR: the dealer's socket events
    zcert_t *cert;              //  our key pair, with CURVE (for the SUB too)
    char *server_key;           //  the group's public key, with CURVE
    bool handshaken;            //  the connection's handshake succeeded
    bool connected;             //  a connection was made, once at least
    int64_t refused_at;         //  ZeroMQ's first failed attempt to connect, 0 = none
    bool hello;                 //  the gateway answered HELLO
    json_t *init_id;            //  the actor's initialize, waiting for HELLO, or NULL
    json_t *server;             //  the gateway's "server" from HELLO
    json_t *offers;             //  capabilities for initialize, once STATUS has answered
    json_t *instructions;       //  the servers' instructions joined, or NULL
    json_t *tokens;             //  wire id -> progress token, for calls that asked
    char *listing;              //  the tools as last listed (sorted text), or NULL
    int64_t poll_at;            //  when to ask for the tools again, 0 = not yet
    bool polling;               //  a poll's TOOLS is in flight
    uint64_t polls;             //  polls sent, for their ids
    size_t max_message;         //  the gateway's maxMessageBytes, 0 = not said
    zlist_t *out;               //  messages for the actor (char *, owned), made here
    group_features_t *features; //  resources, prompts, logging; the events
    char *error;                //  why the transport died
} s_group_t;

static void
s_set_error (s_group_t *self, const char *format, ...)
{
    if (self->error)
        return;
    char text[768];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    self->error = strdup (text);
}

//  Queues a JSON-RPC message (taken) for the actor (handed over in handle).
static void
s_queue (s_group_t *self, json_t *message)
{
    group_queue (self->out, message);
}

static void
s_queue_error (s_group_t *self, json_t *id, int code, const char *message)
{
    group_queue_error (self->out, id, code, message);
}

//  Sends frames to the group without waiting: a full queue fails.
static int
s_send (s_group_t *self, const char *verb, const char *id, const char *a, const char *b,
        const char *c, const char *d)
{
    return group_send (self->dealer, verb, id, a, b, c, d);
}

//  The group's public key: 40 Z85 characters, or read from a certificate.
static char *
s_server_key (const char *value, char **error)
{
    if (strlen (value) == 40 && !zsys_file_exists (value))
        return strdup (value);
    //  Looked at before CZMQ reads it: it would quote a line it cannot
    //  parse, and wait on a FIFO.
    char reason[1024];
    if (curve_cert_check (value, false, reason, sizeof reason) != 0) {
        if (asprintf (error,
                      "serverKey is neither a public key (40 Z85 characters) nor a "
                      "certificate: %s",
                      reason) < 0)
            *error = NULL;
        return NULL;
    }
    zcert_t *cert = zcert_load (value);
    if (!cert) {
        if (asprintf (error,
                      "serverKey is neither a public key (40 Z85 characters) nor a "
                      "certificate we can read: %s",
                      value) < 0)
            *error = NULL;
        return NULL;
    }
    char *key = strdup (zcert_public_txt (cert));
    zcert_destroy (&cert);
    return key;
}

static void s_stop (void **self_p);

static void *
s_open (const mcpact_server_config_t *config, char **error)
{
    *error = NULL;
    json_t *group = config->group;
    const char *endpoint = json_string_value (json_object_get (group, "endpoint"));
    const char *agent = json_string_value (json_object_get (group, "agent"));
    const char *server_key = json_string_value (json_object_get (group, "serverKey"));
    const char *certificate = json_string_value (json_object_get (group, "clientCertificate"));
    if (!endpoint) {
        *error = strdup ("no group endpoint");
        return NULL;
    }
    s_group_t *self = (s_group_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->name = strdup (config->name);
    self->endpoint = strdup (endpoint);
    self->agent = strdup (agent ? agent : "");
    self->tokens = json_object ();
    self->out = zlist_new ();
    self->dealer = zsock_new (ZMQ_DEALER);
    if (self->out && self->dealer)
        self->features =
            group_features_new (self->name, self->endpoint, self->agent, self->dealer, self->out);
    if (!self->name || !self->endpoint || !self->agent || !self->tokens || !self->out ||
        !self->dealer || !self->features) {
        *error = strdup ("out of memory");
        s_stop ((void **) &self);
        return NULL;
    }
    zsock_set_linger (self->dealer, 0);
    zsock_set_sndhwm (self->dealer, 100000);
    //  ZeroMQ's sockets take IPv4 only unless told: a group at
    //  tcp://[::1]:PORT would never be connected to. With it, both.
    zsock_set_ipv6 (self->dealer, 1);
    int value = HEARTBEAT_IVL_MS;
    zmq_setsockopt (zsock_resolve (self->dealer), ZMQ_HEARTBEAT_IVL, &value, sizeof value);
    value = HEARTBEAT_TIMEOUT_MS;
    zmq_setsockopt (zsock_resolve (self->dealer), ZMQ_HEARTBEAT_TIMEOUT, &value, sizeof value);
    value = HEARTBEAT_TTL_MS;
    zmq_setsockopt (zsock_resolve (self->dealer), ZMQ_HEARTBEAT_TTL, &value, sizeof value);
    if (server_key && certificate) {
        char *key = s_server_key (server_key, error);
        char reason[1024];
        if (key && curve_cert_check (certificate, true, reason, sizeof reason) != 0) {
            if (asprintf (error, "clientCertificate: %s", reason) < 0)
                *error = NULL;
            free (key);
            key = NULL;
        }
        zcert_t *cert = key ? zcert_load (certificate) : NULL;
        if (key && !cert && asprintf (error, "cannot read clientCertificate %s", certificate) < 0)
            *error = NULL;
        if (cert && streq (zcert_secret_txt (cert), "0000000000000000000000000000000000000000") &&
            asprintf (error,
                      "clientCertificate %s holds no secret key (give the _secret file "
                      "mcpact keygen wrote)",
                      certificate) < 0)
            *error = NULL;
        if (!*error) {
            zcert_apply (cert, self->dealer);
            zsock_set_curve_serverkey (self->dealer, key);
            self->curve = true;
            //  Kept for the SUB to the events, made once HELLO names it.
            self->cert = cert;
            self->server_key = key;
        } else {
            zcert_destroy (&cert);
            free (key);
        }
        if (*error) {
            s_stop ((void **) &self);
            return NULL;
        }
    }
    //  A group nobody can answer is said at once, not at the connect
    //  timeout (ZeroMQ would retry for ever in silence): a well-formed
    //  endpoint (the config loader said so already; the C API's caller
    //  may not have), a socket file that is there and listened on, a
    //  host that resolves. The probe --connect makes too.
    char reason[768];
    if (endpoint_connect_problem (endpoint, reason, sizeof reason) != 0) {
        if (asprintf (error, "group %s", reason) < 0)
            *error = NULL;
        s_stop ((void **) &self);
        return NULL;
    }
    if (endpoint_probe (endpoint, reason, sizeof reason) != 0) {
        if (asprintf (error, "cannot reach the group at %s: %s%s", endpoint, reason,
                      strstr (reason, "does not exist") ? " (is mcpact serve running there?)"
                                                        : "") < 0)
            *error = NULL;
        s_stop ((void **) &self);
        return NULL;
    }
    //  The monitor before the connection, to see all of its events.
    char monitor[64];
    snprintf (monitor, sizeof monitor, "inproc://mcpact-group-%p", (void *) self);
    if (zmq_socket_monitor (
            zsock_resolve (self->dealer), monitor,
            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECTED |
                ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
        !(self->monitor = zsock_new_pair (monitor))) {
        if (asprintf (error, "cannot monitor the connection: %s", zmq_strerror (errno)) < 0)
            *error = NULL;
        s_stop ((void **) &self);
        return NULL;
    }
    if (zsock_connect (self->dealer, "%s", endpoint) != 0) {
        if (asprintf (error, "cannot connect to %s: %s", endpoint, zmq_strerror (zmq_errno ())) < 0)
            *error = NULL;
        s_stop ((void **) &self);
        return NULL;
    }
    log_debug ("group %s: connecting to %s (agent \"%s\"%s)", self->name, endpoint, self->agent,
               self->curve ? ", CURVE" : "");
    //  Queued until the connection is up (ZeroMQ reconnects by itself).
    s_send (self, "HELLO", "h", "1", NULL, NULL, NULL);
    return self;
}

//  Answers the actor's initialize once HELLO and STATUS have answered:
//  the capabilities are those of the agent's servers together.
static void
s_answer_initialize (s_group_t *self)
{
    if (!self->init_id || !self->offers)
        return;
    const char *version = json_string_value (json_object_get (self->server, "version"));
    char name[300];
    snprintf (name, sizeof name, "mcpact group at %s", self->endpoint);
    json_t *result = json_pack ("{s:s,s:O,s:{s:s,s:s}}", "protocolVersion", MCPACT_PROTOCOL_VERSION,
                                "capabilities", self->offers, "serverInfo", "name", name, "version",
                                version ? version : "unknown");
    if (self->instructions)
        json_object_set (result, "instructions", self->instructions);
    s_queue (self, json_pack ("{s:o,s:o}", "id", self->init_id, "result", result));
    self->init_id = NULL;
}

//  STATUS i status_json (NULL: refused or not sent): what the agent's
//  servers offer, and then initialize's answer.
static void
s_on_status (s_group_t *self, const char *text)
{
    json_decref (self->offers);
    json_decref (self->instructions);
    self->offers = group_features_offers (self->features, text, &self->instructions);
    s_answer_initialize (self);
}

//  One MCP message from the actor: a request becomes a verb of the public
//  protocol, or is answered here.
static int
s_send_msg (void *self_, const char *msg, size_t size)
{
    s_group_t *self = (s_group_t *) self_;
    json_t *message = json_loadb (msg, size, 0, NULL);
    const char *method = json_string_value (json_object_get (message, "method"));
    json_t *id = json_object_get (message, "id");
    json_t *params = json_object_get (message, "params");
    int rc = 0;
    char wire[48];
    if (!method)
        ; //  a response: we never ask the actor anything
    else if (streq (method, "initialize")) {
        json_decref (self->init_id);
        self->init_id = json_incref (id);
        s_answer_initialize (self);
    } else if (streq (method, "notifications/cancelled")) {
        json_t *request = json_object_get (params, "requestId");
        if (json_is_integer (request)) {
            snprintf (wire, sizeof wire, "c%" JSON_INTEGER_FORMAT, json_integer_value (request));
            rc = s_send (self, "CANCEL", wire, NULL, NULL, NULL, NULL);
        }
    } else if (!json_is_integer (id))
        ; //  other notifications have no counterpart
    else if (streq (method, "tools/list")) {
        snprintf (wire, sizeof wire, "l%" JSON_INTEGER_FORMAT, json_integer_value (id));
        rc = s_send (self, "TOOLS", wire, self->agent, NULL, NULL, NULL);
    } else if (streq (method, "ping")) {
        snprintf (wire, sizeof wire, "p%" JSON_INTEGER_FORMAT, json_integer_value (id));
        rc = s_send (self, "PING", wire, NULL, NULL, NULL, NULL);
    } else if (streq (method, "tools/call")) {
        const char *tool = json_string_value (json_object_get (params, "name"));
        json_t *arguments = json_object_get (params, "arguments");
        json_t *token = json_object_get (json_object_get (params, "_meta"), "progressToken");
        snprintf (wire, sizeof wire, "c%" JSON_INTEGER_FORMAT, json_integer_value (id));
        //  The caller's deadline is kept here (the actor cancels the call
        //  when it passes); the group's own must not come first.
        json_t *options = json_pack ("{s:i}", "timeoutMs", MCPACT_DEFAULT_MAX_CALL_MS);
        if (token) {
            json_object_set_new (options, "progress", json_true ());
            json_object_set (self->tokens, wire, token);
        }
        char *args = arguments ? json_dumps (arguments, JSON_COMPACT) : strdup ("{}");
        char *opts = json_dumps (options, JSON_COMPACT);
        char what[200], big[512];
        snprintf (what, sizeof what, "the call of %s", tool ? tool : "(no tool)");
        const char *frames[] = { "CALL", wire, self->agent, tool, args, opts };
        const char *names[] = {
            "verb", "request id", "agent", "tool name", "arguments", "options"
        };
        if (tool && args && opts &&
            group_fits (self->max_message, self->curve, what, frames, names, 6, big, sizeof big)) {
            //  The gateway would drop the connection, and every call on
            //  it: refused here, before anything is sent.
            group_queue_failure (self->out, id, -32602, MCPACT_ERR_ARGS, big);
        } else
            rc = tool && args && opts ? s_send (self, "CALL", wire, self->agent, tool, args, opts)
                                      : -1;
        free (args);
        free (opts);
        json_decref (options);
    } else
        rc = group_features_request (self->features, method, id, params);
    json_decref (message);
    return rc;
}

static int
s_poll_items (void *self_, zmq_pollitem_t *items, int max)
{
    s_group_t *self = (s_group_t *) self_;
    zsock_t *events = group_features_events (self->features);
    int count = events ? 3 : 2;
    if (max < count)
        return max + 1; //  asks for more room
    items[0] = (zmq_pollitem_t){ zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 };
    items[1] = (zmq_pollitem_t){ zsock_resolve (self->monitor), 0, ZMQ_POLLIN, 0 };
    if (events)
        items[2] = (zmq_pollitem_t){ zsock_resolve (events), 0, ZMQ_POLLIN, 0 };
    return count;
}

static int
s_timeout (void *self_)
{
    s_group_t *self = (s_group_t *) self_;
    if (zlist_size (self->out) || self->error)
        return 0;
    if (!self->connected && self->refused_at) {
        //  To say the group refused in time (s_check_refused).
        int64_t wait = self->refused_at + ENDPOINT_REFUSED_MS - clock_ms ();
        return wait < 0 ? 0 : (int) wait;
    }
    if (!self->poll_at || self->polling)
        return -1;
    int64_t wait = self->poll_at - clock_ms ();
    return wait < 0 ? 0 : (int) wait;
}

//  The tools of a TOOLS answer, without the gateway's own `_mcpact` (the
//  session adds its own), as a sorted text to compare listings by.
static json_t *
s_tools (const char *text, char **sorted)
{
    json_t *tools = json_loads (text, 0, NULL);
    if (!json_is_array (tools)) {
        json_decref (tools);
        return NULL;
    }
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool)
        json_object_del (tool, "_mcpact");
    *sorted = json_dumps (tools, JSON_COMPACT | JSON_SORT_KEYS);
    return tools;
}

static void
s_on_hello (s_group_t *self, const char *text)
{
    json_t *info = json_loads (text, 0, NULL);
    json_t *agents = json_object_get (info, "agents");
    bool found = false;
    char names[512] = "";
    size_t index;
    json_t *agent;
    json_array_foreach (agents, index, agent) {
        const char *name = json_string_value (json_object_get (agent, "name"));
        if (!name)
            continue;
        found |= streq (name, self->agent);
        size_t used = strlen (names);
        snprintf (names + used, sizeof names - used, "%s\"%s\"", used ? ", " : "", name);
    }
    if (!found)
        s_set_error (self, "the gateway at %s has no agent \"%s\" (it has: %s)", self->endpoint,
                     self->agent, *names ? names : "none");
    else {
        self->hello = true;
        json_decref (self->server);
        self->server = json_incref (json_object_get (info, "server"));
        json_t *max = json_object_get (json_object_get (info, "limits"), "maxMessageBytes");
        self->max_message = json_is_integer (max) && json_integer_value (max) > 0
                                ? (size_t) json_integer_value (max)
                                : 0;
        group_features_limits (self->features, self->max_message, self->curve);
        self->poll_at = clock_ms () + POLL_MS;
        log_info ("group %s: connected to %s%s", self->name, self->endpoint,
                  self->curve ? " (CURVE)" : "");
        group_features_hello (self->features, info, self->cert, self->server_key);
        //  What the servers offer, for initialize: a gateway without
        //  STATUS answers ERROR, and the group offers tools.
        if (s_send (self, "STATUS", "i", self->agent, NULL, NULL, NULL) != 0)
            s_on_status (self, NULL);
    }
    json_decref (info);
}

//  A call's failure at the group, as the JSON-RPC error the server actor
//  takes the call's status from (group_queue_failure), the message
//  naming the group.
static void
s_queue_call_failure (s_group_t *self, json_t *id, int status, const char *message)
{
    char *text = NULL;
    if (asprintf (&text, "the group at %s: %s", self->endpoint, message) < 0)
        text = NULL;
    group_queue_failure (self->out, id, -32603, status, text ? text : message);
    free (text);
}

//  A RESULT: status 0 and 1 carry a CallToolResult; the others (the
//  group's timeout, busy, unknown tool, its server down, ...) are the
//  call's status here too, with the group's message.
static void
s_on_result (s_group_t *self, json_t *id, const char *status_text, const char *payload)
{
    int status = atoi (status_text);
    if (status == MCPACT_OK || status == MCPACT_ERR_TOOL) {
        json_t *result = json_loads (payload, 0, NULL);
        if (json_is_object (result))
            s_queue (self, json_pack ("{s:O,s:o}", "id", id, "result", result));
        else {
            json_decref (result);
            s_queue_error (self, id, -32603, "the group's result is not a JSON object");
        }
        return;
    }
    json_t *body = json_loads (payload, 0, NULL);
    const char *message = json_string_value (json_object_get (body, "message"));
    if (status < MCPACT_ERR_UNKNOWN_TOOL || status > MCPACT_ERR_BUSY) {
        //  A status this runtime does not know: the group speaks another
        //  version of the protocol.
        char text[600];
        snprintf (text, sizeof text, "status %s, which this client does not know: %.500s",
                  status_text, message ? message : "(no message)");
        s_queue_call_failure (self, id, MCPACT_ERR_PROTOCOL, text);
    } else
        s_queue_call_failure (self, id, status, message ? message : "the call failed (no message)");
    json_decref (body);
}

//  One reply of the gateway: VERB id ...
static void
s_on_reply (s_group_t *self, zmsg_t *reply)
{
    char *verb = zmsg_popstr (reply);
    char *wire = zmsg_popstr (reply);
    char *a = zmsg_popstr (reply);
    char *b = zmsg_popstr (reply);
    if (!verb || !wire || !*wire) {
        log_warn ("group %s: a reply without verb or id from %s", self->name, self->endpoint);
        goto done;
    }
    json_t *id = NULL;
    if ((strchr ("lcp", wire[0]) || strchr (GROUP_FEATURE_LETTERS, wire[0])) && wire[1] >= '0' &&
        wire[1] <= '9')
        id = json_integer ((json_int_t) strtoll (wire + 1, NULL, 10));
    if (streq (verb, "HELLO") && streq (wire, "h") && a)
        s_on_hello (self, a);
    else if (streq (verb, "TOOLS") && a && (wire[0] == 'l' || wire[0] == 't')) {
        char *sorted = NULL;
        json_t *tools = s_tools (a, &sorted);
        if (wire[0] == 't') {
            self->polling = false;
            self->poll_at = clock_ms () + POLL_MS;
            if (tools && sorted && self->listing && !streq (sorted, self->listing)) {
                log_info ("group %s: its tools changed", self->name);
                s_queue (self, json_pack ("{s:s}", "method", "notifications/tools/list_changed"));
            }
        } else if (tools)
            s_queue (self, json_pack ("{s:O,s:{s:O}}", "id", id, "result", "tools", tools));
        else
            s_queue_error (self, id, -32603, "the group's TOOLS answer is not a JSON array");
        if (sorted) {
            free (self->listing);
            self->listing = sorted;
        }
        json_decref (tools);
    } else if (streq (verb, "STATUS") && streq (wire, "i"))
        s_on_status (self, a);
    else if (id && strchr (GROUP_FEATURE_LETTERS, wire[0]))
        group_features_reply (self->features, verb, wire, id, a, b);
    else if (streq (verb, "RESULT") && wire[0] == 'c' && a && b) {
        json_object_del (self->tokens, wire);
        s_on_result (self, id, a, b);
    } else if (streq (verb, "PROGRESS") && wire[0] == 'c' && a) {
        json_t *token = json_object_get (self->tokens, wire);
        json_t *params = json_loads (a, 0, NULL);
        if (token && json_is_object (params)) {
            json_object_set (params, "progressToken", token);
            s_queue (self,
                     json_pack ("{s:s,s:O}", "method", "notifications/progress", "params", params));
        }
        json_decref (params);
    } else if (streq (verb, "PONG") && wire[0] == 'p')
        s_queue (self, json_pack ("{s:O,s:{}}", "id", id, "result"));
    else if (streq (verb, "ERROR")) {
        json_t *body = a ? json_loads (a, 0, NULL) : NULL;
        const char *message = json_string_value (json_object_get (body, "message"));
        const char *code = json_string_value (json_object_get (body, "error"));
        if (streq (wire, "h"))
            s_set_error (self, "the gateway at %s refused HELLO: %s", self->endpoint,
                         message ? message : "(no message)");
        else if (streq (wire, "i")) {
            log_warn ("group %s: STATUS refused by %s (%s): offering tools only", self->name,
                      self->endpoint, message ? message : "no message");
            s_on_status (self, NULL);
        } else if (wire[0] == 't') {
            //  Asked again later, not at once: the gateway may say so for long.
            log_warn ("group %s: TOOLS refused by %s: %s", self->name, self->endpoint,
                      message ? message : "(no message)");
            self->polling = false;
            self->poll_at = clock_ms () + POLL_MS;
        } else if (id && !(code && streq (code, "unknown_call"))) {
            //  unknown_call answers a CANCEL for a call that had ended
            if (wire[0] == 'c')
                s_queue_call_failure (self, id, MCPACT_ERR_PROTOCOL,
                                      message ? message
                                              : "the group refused the call (no message)");
            else
                s_queue_error (self, id, -32603,
                               message ? message : "the group refused the request");
        }
        json_decref (body);
    } else
        log_debug ("group %s: ignored %s %s from %s", self->name, verb, wire, self->endpoint);
    json_decref (id);
done:
    free (verb);
    free (wire);
    free (a);
    free (b);
}

//  One event of the dealer's monitor: two frames, the event (16 bits) and
//  its value (32 bits), then the endpoint.
static void
s_on_event (s_group_t *self, zmsg_t *event)
{
    zframe_t *frame = zmsg_first (event);
    if (!frame || zframe_size (frame) < 6)
        return;
    uint16_t kind;
    uint32_t value;
    memcpy (&kind, zframe_data (frame), 2);
    memcpy (&value, zframe_data (frame) + 2, 4);
    switch (kind) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        self->handshaken = true;
        break;
    case ZMQ_EVENT_DISCONNECTED:
        //  Before a handshake, the failed handshake's own event says why.
        if (self->handshaken)
            s_set_error (self, "the group at %s went away (the connection was lost)",
                         self->endpoint);
        break;
    case ZMQ_EVENT_CONNECTED:
        self->connected = true;
        break;
    case ZMQ_EVENT_CONNECT_RETRIED:
        if (!self->refused_at)
            self->refused_at = clock_ms ();
        break;
    default: {
        char peer[300], reason[768];
        snprintf (peer, sizeof peer, "the group at %s", self->endpoint);
        if (endpoint_handshake_problem (peer, "serverKey", "serverKey, clientCertificate", kind,
                                        value, self->curve, reason, sizeof reason) != 0)
            s_set_error (self, "%s", reason);
        break;
    }
    }
}

//  A connection never made and refused since ENDPOINT_REFUSED_MS (ZeroMQ
//  retries in silence): nothing listens at the group's endpoint.
static void
s_check_refused (s_group_t *self)
{
    if (!self->connected && self->refused_at &&
        clock_ms () - self->refused_at >= ENDPOINT_REFUSED_MS)
        s_set_error (self,
                     "cannot reach the group at %s: nothing listens there (connection refused, "
                     "still after %.1f s of retries)",
                     self->endpoint, ENDPOINT_REFUSED_MS / 1000.0);
}

static int
s_handle (void *self_, zmq_pollitem_t *items, int count, transport_msg_fn *on_msg, void *owner)
{
    (void) items;
    (void) count;
    s_group_t *self = (s_group_t *) self_;
    //  The replies first: those that came before the connection ended
    //  still answer their calls.
    for (int i = 0; i < DRAIN_BATCH && !self->error; i++) {
        zmsg_t *reply = NULL;
        if (zsock_events (self->dealer) & ZMQ_POLLIN)
            reply = zmsg_recv (self->dealer);
        if (!reply)
            break;
        s_on_reply (self, reply);
        zmsg_destroy (&reply);
    }
    if (!self->error)
        group_features_on_events (self->features, DRAIN_BATCH);
    while (!self->error && (zsock_events (self->monitor) & ZMQ_POLLIN)) {
        zmsg_t *event = zmsg_recv (self->monitor);
        if (!event)
            break;
        s_on_event (self, event);
        zmsg_destroy (&event);
    }
    s_check_refused (self);
    char *text;
    while ((text = (char *) zlist_pop (self->out))) {
        on_msg (owner, text, strlen (text));
        free (text);
    }
    if (self->error)
        return -1;
    if (self->hello && !self->polling && self->poll_at && clock_ms () >= self->poll_at) {
        char wire[32];
        snprintf (wire, sizeof wire, "t%" PRIu64, ++self->polls);
        if (s_send (self, "TOOLS", wire, self->agent, NULL, NULL, NULL) == 0)
            self->polling = true;
        else
            self->poll_at = clock_ms () + POLL_MS;
    }
    return 0;
}

static const char *
s_error (void *self_)
{
    return ((s_group_t *) self_)->error;
}

static void
s_describe (void *self_, json_t *status)
{
    s_group_t *self = (s_group_t *) self_;
    json_object_set_new (status, "group",
                         json_pack ("{s:s,s:s,s:b,s:b,s:s?}", "endpoint", self->endpoint, "agent",
                                    self->agent, "curve", self->curve, "connected",
                                    self->hello && !self->error, "events",
                                    group_features_events_at (self->features)));
}

static void
s_stop (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_group_t *self = (s_group_t *) *self_p;
    if (self->dealer)
        zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    //  Before the dealer and the list it uses.
    group_features_destroy (&self->features);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
    zcert_destroy (&self->cert);
    free (self->server_key);
    json_decref (self->offers);
    json_decref (self->instructions);
    if (self->out) {
        char *text;
        while ((text = (char *) zlist_pop (self->out)))
            free (text);
    }
    zlist_destroy (&self->out);
    json_decref (self->tokens);
    json_decref (self->init_id);
    json_decref (self->server);
    free (self->listing);
    free (self->name);
    free (self->endpoint);
    free (self->agent);
    free (self->error);
    free (self);
    *self_p = NULL;
}

const transport_ops_t transport_group = {
    .name = "group",
    .open = s_open,
    .send = s_send_msg,
    .poll_items = s_poll_items,
    .timeout = s_timeout,
    .handle = s_handle,
    .queued = NULL,
    .error = s_error,
    .describe = s_describe,
    .lend = NULL,
    .take_back = NULL,
    .stop = s_stop,
    .withdraw_when_down = true,
    .status_in_error = true,
};
