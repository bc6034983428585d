/*  =========================================================================
    gateway - the public message protocol on ipc:// and tcp:// endpoints

    A gateway is an actor (one thread) that owns the ROUTER sockets clients
    talk to and the PUB sockets events go out on. It turns each public
    request (docs/protocol.md, "The public protocol") into what the C API
    does in process: a CALL becomes a call on one of its own callers (one
    per agent, a second one for calls that asked for progress), with many
    in flight, and the table call -> client (routing id + request id) takes
    the RESULT back to whoever asked, or drops it when they are gone. The
    requests that wait on the runtime for long (STATUS, RELOAD) run on a
    worker thread of the gateway, and those for resources, prompts,
    logging and roots on the workers of verbs_features.h, so that no
    client waits on another.

    Every send to a client is non-blocking: a client that does not read
    its replies fills its own queue (sendHwm), and what does not fit is
    dropped. Nothing a client sends can stop the loop: a bad request is
    answered with ERROR naming what was wrong.

    Made with "startLater", the actor holds the endpoints it is bound to
    but reads no request until OPEN, which the host sends once it has
    started the agents and handed them over (AGENT). At the end
    (RELEASE) it lets the agents go, closes the request endpoints and
    only passes the runtime's events on until $TERM, so that subscribers
    see the servers close.

    Threading: the host API (mcpact_gateway_*) talks to the actor over its
    pipe under the gateway's lock; the actor owns every socket, the agents'
    callers and the tables. The agents the gateway made are the host
    object's, destroyed after the actor has stopped or let them go.
    =========================================================================
*/

#include "api.h"
#include "caller.h"
#include "curve_cert.h"
#include "endpoint.h"
#include "formats.h"
#include "gateway.h"
#include "verbs_asks.h"
#include "verbs_features.h"

#include "actor.h"
#include "idmap.h"
#include "jsonscan.h"
#include "log.h"
#include "pollset.h"
#include "text.h"
#include "wire.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

//  The protocol's version: raised when a verb or frame changes meaning
//  (new verbs and new keys in JSON come without it).
#define GATEWAY_PROTOCOL 1
#define GATEWAY_MAX_FRAMES 8
#define GATEWAY_MAX_ID 128
#define GATEWAY_BATCH 256
//  How long the loop waits for a call on a lane before handing it back:
//  a quick tool answers in tens of µs; this is what another client's
//  request can be held up by, at worst, when it comes in that moment.
#define GATEWAY_LANE_WAIT_US 200
//  With calls in flight, every caller is drained at least this often:
//  mcpact_caller_next keeps their deadlines.
#define GATEWAY_DRAIN_MS 250
//  A routing id is at most 255 bytes (ZeroMQ); keys name clients by its
//  hex and their calls by client "/" request id.
#define GATEWAY_MAX_RID 255
#define GATEWAY_CLIENT_KEY (2 * GATEWAY_MAX_RID + 3)
#define GATEWAY_CALL_KEY (GATEWAY_CLIENT_KEY + 1 + GATEWAY_MAX_ID)
//  How often the gateway looks at its CURVE allow-list for changes (ms).
#define GATEWAY_AUTH_CHECK_MS 1000

//  How long the gateway is quiet after clients came before the heap is
//  trimmed (s_trim).
#define GATEWAY_TRIM_IDLE_MS 1000
//  At the end, how long the runtime's events must have been quiet before
//  the PUB sockets close: the servers' last SERVER_STATE ("stopped") is
//  published by the registry's thread after the session has gone.
#define GATEWAY_LAST_EVENTS_MS 100

//  The two kinds of socket: plain (ipc://, loopback tcp://) and CURVE.
enum { SOCK_PLAIN = 0, SOCK_CURVE = 1, SOCK_KINDS = 2 };

typedef struct {
    char *certificate;     //  the gateway's key pair (zcert file), or NULL
    char *clients;         //  the allowed client certificates (directory)
    bool insecure;         //  allow what the rules refuse
    int max_message_bytes; //  ZMQ_MAXMSGSIZE
    int max_client_calls;  //  calls in flight per client
    int max_calls;         //  calls in flight in all
    int send_hwm;          //  replies queued per client
    bool elicitation;      //  the gateway handles elicitation for its clients (HANDLE)
    bool sampling;         //  the same for sampling
    bool start_later;      //  agents start at mcpact_gateway_start, after the binds
} s_options_t;

struct _mcpact_gateway_t {
    pthread_mutex_t lock;      //  guards the actor's pipe
    actor_t *actor;            //  the gateway thread
    mcpact_agent_t **agents;   //  the agents it made
    size_t agents_count;       //  how many
    s_options_t options;       //  as given
    mcpact_session_t *session; //  what it serves
    unsigned asks_id;          //  names the actor's endpoint for asks (verbs_asks.h)
    bool started;              //  its agents have started and the actor answers
};

typedef struct _self_t self_t;
typedef struct _s_agent_t s_agent_t;

//  One of an agent's callers, and its calls in flight.
typedef struct {
    mcpact_caller_t *caller; //  owned
    idmap_t calls;           //  caller's call id -> s_call_t
    s_agent_t *agent;        //  the agent it calls
    self_t *self;            //  for the progress callback
    int poll_at;             //  its descriptor in self->poll
    bool sent;               //  sent to since it was last drained
} s_caller_t;

struct _s_agent_t {
    char *name;            //  "" for the session's default agent
    mcpact_agent_t *agent; //  not owned
    s_caller_t plain;      //  calls without progress
    s_caller_t progress;   //  calls with progress (made on first use)
};

//  Where a reply goes: a client's routing id on one of the sockets.
typedef struct {
    int kind;                     //  SOCK_PLAIN or SOCK_CURVE
    uint8_t rid[GATEWAY_MAX_RID]; //  routing id
    size_t rid_size;              //  its size
    bool delimiter;               //  the request had an empty frame first (REQ)
    char id[GATEWAY_MAX_ID + 1];  //  the client's request id
} s_peer_t;

//  A client with calls in flight, under its key in self->clients (the
//  table keeps no copy of keys: each entry's is its own).
typedef struct {
    size_t calls; //  in flight
    char key[];   //  hex routing id "/" socket kind
} s_client_t;

//  A client's call in flight, sized to its key: small enough for the
//  allocator's per-thread cache (two fixed-size keys made it 1.6 KB, and
//  malloc showed in profiles).
typedef struct {
    s_peer_t peer;      //  who asked
    s_caller_t *caller; //  which caller has it
    int64_t call_id;    //  the caller's id for it
    int format;         //  CALL_AS: the provider's format; else -1
    bool cancelling;    //  a CANCEL came: its RESULT (status 8) answers it
    char *as_id;        //  CALL_AS: the provider's call id, or NULL
    char *as_name;      //  CALL_AS: the tool's name
    s_client_t *client; //  who asked, counted
    char key[];         //  its key in self->requests: client "/" request id
} s_call_t;

struct _self_t {
    zsock_t *pipe;                //  to the host object
    s_options_t *options;         //  the host object's
    s_agent_t **agents;           //  served agents
    size_t agents_count;          //  how many
    zsock_t *routers[SOCK_KINDS]; //  requests, made on first bind
    zsock_t *pubs[SOCK_KINDS];    //  events, made on first bind
    zsock_t *events;              //  SUB to the runtime's events
    const char *events_endpoint;  //  the runtime's
    zactor_t *auth;               //  zauth, with CURVE
    char *auth_dir;               //  what zauth reads: the checked copy of the allow-list
    uint64_t auth_signature;      //  of the allow-list when it was copied
    int64_t auth_check_at;        //  when the allow-list is looked at next (ms)
    zcert_t *cert;                //  the gateway's key pair, with CURVE
    zactor_t *worker;             //  STATUS and RELOAD
    features_t *features;         //  resources, prompts, logging, roots (verbs_features.h)
    gw_asks_t *asks;              //  servers' requests for clients (verbs_asks.h)
    zhashx_t *requests;           //  client/request id -> s_call_t
    zhashx_t *clients;            //  client key -> s_client_t
    zhashx_t *slow;               //  token -> s_peer_t, at the worker
    uint64_t next_token;          //  for the worker's requests
    size_t calls;                 //  in flight in all
    size_t dropped;               //  replies nobody could take
    bool stopping;                //  no more calls
    bool trim_due;                //  clients came since the heap was last trimmed
    int64_t trim_at;              //  when it is, if no request comes before (ms)
    bool open;                    //  requests are read (until OPEN they wait in the queues)
    zlistx_t *paths;              //  endpoint_file_t *: ipc:// socket files, removed at the end
    json_t *event_endpoints;      //  the PUB endpoints as bound, for HELLO
    pollset_t poll;               //  what the loop waits on
    bool rebuild;                 //  a socket or caller was added: poll is out of date
    int router_at[SOCK_KINDS];    //  the routers in poll
};

//  --------------------------------------------------------------------------
//  Replies

static void
s_hex (const uint8_t *data, size_t size, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * size] = 0;
}

//  Sends [rid] [""] frames... to a client without waiting: a reply that
//  cannot go now (the client is gone, or its queue is full) is dropped.
static void
s_send (self_t *self, const s_peer_t *peer, const char **frames, const size_t *sizes, int count)
{
    zsock_t *router = self->routers[peer->kind];
    void *socket = router ? zsock_resolve (router) : NULL;
    pollset_touch (&self->poll, self->router_at[peer->kind]);
    if (!socket || zmq_send (socket, peer->rid, peer->rid_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        self->dropped++;
        return;
    }
    if (peer->delimiter)
        zmq_send (socket, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    for (int i = 0; i < count; i++)
        zmq_send (socket, frames[i], sizes[i], (i + 1 < count ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
}

//  VERB id text
static void
s_reply (self_t *self, const s_peer_t *peer, const char *verb, const char *text)
{
    const char *frames[] = { verb, peer->id, text };
    size_t sizes[] = { strlen (verb), strlen (peer->id), text ? strlen (text) : 0 };
    s_send (self, peer, frames, sizes, text ? 3 : 2);
}

//  ERROR id {"error": code, "message": ...}
static void s_error (self_t *self, const s_peer_t *peer, const char *code, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_error (self_t *self, const s_peer_t *peer, const char *code, const char *format, ...)
{
    char message[512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    //  The message quotes what a client sent: made UTF-8 here, so that
    //  every ERROR says what was wrong (a bare {} says nothing).
    char clean[sizeof message * 2];
    text_cut (message, sizeof clean - 1, clean, sizeof clean);
    json_t *body = json_pack ("{s:s,s:s}", "error", code, "message", clean);
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    s_reply (self, peer, "ERROR",
             text ? text : "{\"error\":\"internal\",\"message\":\"out of memory\"}");
    free (text);
    json_decref (body);
}

//  RESULT id status payload
static void
s_result (self_t *self, const s_peer_t *peer, mcpact_status_t status, const char *payload)
{
    char status_text[4] = { (char) ('0' + (int) status % 10), 0 };
    if (status >= 10)
        snprintf (status_text, sizeof status_text, "%d", (int) status);
    const char *frames[] = { "RESULT", peer->id, status_text, payload };
    size_t sizes[] = { 6, strlen (peer->id), strlen (status_text), strlen (payload) };
    s_send (self, peer, frames, sizes, 4);
}

static void
s_result_error (self_t *self, const s_peer_t *peer, mcpact_status_t status, const char *message)
{
    char clean[1024];
    text_cut (message, sizeof clean - 1, clean, sizeof clean);
    json_t *body = json_pack ("{s:s}", "message", clean);
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    s_result (self, peer, status, text ? text : "{\"message\":\"out of memory\"}");
    free (text);
    json_decref (body);
}

//  --------------------------------------------------------------------------
//  Calls

static s_agent_t *
s_agent (self_t *self, const char *name)
{
    for (size_t i = 0; i < self->agents_count; i++)
        if (strcmp (self->agents[i]->name, name) == 0)
            return self->agents[i];
    return NULL;
}

//  A call ended: forget it.
static void
s_call_done (self_t *self, s_call_t *call)
{
    idmap_take (&call->caller->calls, (uint64_t) call->call_id);
    zhashx_delete (self->requests, call->key);
    self->calls--;
    if (--call->client->calls == 0) {
        //  A client with nothing in flight leaves no state behind.
        zhashx_delete (self->clients, call->client->key);
        free (call->client);
    }
    free (call->as_id);
    free (call->as_name);
    free (call);
}

static void
s_on_progress (int64_t id, double progress, double total, const char *message, void *arg)
{
    s_caller_t *caller = (s_caller_t *) arg;
    s_call_t *call = (s_call_t *) idmap_get (&caller->calls, (uint64_t) id);
    if (!call)
        return;
    json_t *params = json_pack ("{s:f}", "progress", progress);
    if (total >= 0)
        json_object_set_new (params, "total", json_real (total));
    if (message)
        json_object_set_new (params, "message", json_string (message));
    char *text = json_dumps (params, JSON_COMPACT);
    s_reply (caller->self, &call->peer, "PROGRESS", text ? text : "{}");
    free (text);
    json_decref (params);
}

static int
s_caller_init (self_t *self, s_caller_t *caller, s_agent_t *agent, bool progress)
{
    caller->caller = mcpact_caller_new (agent->agent);
    if (!caller->caller)
        return -1;
    idmap_init (&caller->calls);
    caller->agent = agent;
    caller->self = self;
    caller->poll_at = -1;
    self->rebuild = true;
    if (progress)
        mcpact_caller_set_progress (caller->caller, s_on_progress, caller);
    return 0;
}

//  Sends a call's result to its client, and forgets the call.
static void
s_answer (self_t *self, s_call_t *call, mcpact_result_t *result)
{
    mcpact_status_t status = mcpact_result_status (result);
    if (call->format >= 0) {
        //  CALL_AS: the provider's tool-result message, whatever the status
        char *text =
            mcpact_result_as (result, (mcpact_format_t) call->format, call->as_id, call->as_name);
        if (text)
            s_result (self, &call->peer, status, text);
        else //  not {}: a message, if not in the provider's shape
            s_result_error (self, &call->peer, status, "the result could not be written");
        free (text);
    } else if (status == MCPACT_OK || status == MCPACT_ERR_TOOL)
        s_result (self, &call->peer, status, mcpact_result_json (result));
    else
        s_result_error (self, &call->peer, status, mcpact_result_error (result));
    s_call_done (self, call);
}

//  Sends on what has finished at `caller`.
static void
s_caller_drain (self_t *self, s_caller_t *caller)
{
    if (!caller->caller)
        return;
    caller->sent = false;
    mcpact_result_t *result;
    while ((result = mcpact_caller_next (caller->caller, 0))) {
        s_call_t *call =
            (s_call_t *) idmap_get (&caller->calls, (uint64_t) mcpact_result_id (result));
        if (call)
            s_answer (self, call, result);
        mcpact_result_destroy (&result);
    }
}

//  Drains the callers that can have something: sent to (a send may have
//  taken the wake-up of their descriptor, edge-triggered) or woken;
//  with `all`, every one (their deadlines are kept in mcpact_caller_next).
static void
s_drain (self_t *self, bool all)
{
    for (size_t i = 0; i < self->agents_count; i++) {
        s_caller_t *callers[] = { &self->agents[i]->plain, &self->agents[i]->progress };
        for (int c = 0; c < 2; c++)
            if (all || callers[c]->sent || pollset_revents (&self->poll, callers[c]->poll_at))
                s_caller_drain (self, callers[c]);
    }
}

//  --------------------------------------------------------------------------
//  JSON frames (gateway.h): one wording for every verb

json_t *
gw_json_frame (const char *text, const char *subject, char *message, size_t message_size)
{
    json_error_t error;
    json_t *value = json_loads (text, JSON_DECODE_ANY, &error);
    if (!value)
        snprintf (message, message_size, "%s not valid JSON: %s (line %d, column %d)", subject,
                  error.text, error.line, error.column);
    return value;
}

json_t *
gw_json_object (const char *text, const char *subject, char *message, size_t message_size)
{
    json_t *value = gw_json_frame (text, subject, message, message_size);
    if (value && !json_is_object (value)) {
        snprintf (message, message_size, "%s %s, not a JSON object", subject, gw_json_kind (value));
        json_decref (value);
        value = NULL;
    }
    return value;
}

bool
gw_known_keys (json_t *object, const char *const *known, const char *what, char *message,
               size_t message_size)
{
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        size_t i = 0;
        while (known[i] && strcmp (known[i], key) != 0)
            i++;
        if (known[i])
            continue;
        char list[256] = "";
        for (i = 0; known[i]; i++)
            snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s", i ? ", " : "",
                      known[i]);
        snprintf (message, message_size, "%s: unknown key \"%s\" (known: %s)", what,
                  TEXT_CUT (key, 64), list);
        return false;
    }
    return true;
}

const char *
gw_json_kind (json_t *value)
{
    switch (value ? json_typeof (value) : JSON_NULL) {
    case JSON_OBJECT:
        return "a JSON object";
    case JSON_ARRAY:
        return "a JSON array";
    case JSON_STRING:
        return "a JSON string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a JSON number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a JSON boolean";
    default:
        return value ? "JSON null" : "nothing";
    }
}

//  --------------------------------------------------------------------------
//  Requests. Each verb is a row of s_verbs: its frames after the request
//  id (at least, at most) and its handler, which gets them as C strings.

typedef void (s_handler_fn) (self_t *self, s_peer_t *peer, char **args, int count);

//  The verbs of s_verbs, as a JSON array (for HELLO).
static json_t *s_verb_names (void);

static void
s_on_hello (self_t *self, s_peer_t *peer, char **args, int count)
{
    //  HELLO id [version]: the highest version the client speaks.
    long version = GATEWAY_PROTOCOL;
    if (count > 0) {
        char *end;
        version = strtol (args[0], &end, 10);
        if (end == args[0] || *end || version < 1) {
            s_error (self, peer, "version",
                     "HELLO wants the highest protocol version the client speaks (1, 2, ...), "
                     "not '%s'; this gateway speaks 1",
                     TEXT_CUT (args[0], 40));
            return;
        }
    }
    int major, minor, patch;
    mcpact_version (&major, &minor, &patch);
    char version_text[32];
    snprintf (version_text, sizeof version_text, "%d.%d.%d", major, minor, patch);
    json_t *agents = json_array ();
    for (size_t i = 0; i < self->agents_count; i++) {
        catalog_t *catalog = catalog_slot_get (&self->agents[i]->agent->slot);
        json_t *servers = json_array ();
        size_t index;
        json_t *server;
        //  Copied, not referenced: the catalog's JSON is read by no one
        //  once the reference to the catalog is dropped.
        json_array_foreach (catalog_servers (catalog), index, server)
            json_array_append_new (
                servers, json_pack ("{s:s?,s:b}", "name",
                                    json_string_value (json_object_get (server, "name")), "up",
                                    !json_is_false (json_object_get (server, "up"))));
        json_array_append_new (agents,
                               json_pack ("{s:s,s:o,s:I}", "name", self->agents[i]->name, "servers",
                                          servers, "tools", (json_int_t) catalog_size (catalog)));
        catalog_unref (&catalog);
    }
    json_t *info = json_pack (
        "{s:i,s:[i],s:{s:s,s:s,s:s},s:o,s:o,s:[ssssss],s:{s:i,s:i,s:i},s:[sssss],s:O}", "protocol",
        GATEWAY_PROTOCOL, "versions", GATEWAY_PROTOCOL, "server", "name", "mcpact", "version",
        version_text, "mcpProtocolVersion", MCPACT_PROTOCOL_VERSION, "agents", agents, "verbs",
        s_verb_names (), "events", "TOOLS_CHANGED", "SERVER_STATE", FEATURES_EVENTS, "limits",
        "maxMessageBytes", self->options->max_message_bytes, "maxClientCalls",
        self->options->max_client_calls, "maxCalls", self->options->max_calls, "formats", "mcp",
        "openai", "openai-responses", "anthropic", "gemini", "eventEndpoints",
        self->event_endpoints);
    char *text = json_dumps (info, JSON_COMPACT);
    s_reply (self, peer, "HELLO", text);
    free (text);
    json_decref (info);
}

static void
s_on_ping (self_t *self, s_peer_t *peer, char **args, int count)
{
    s_reply (self, peer, "PONG", NULL);
}

static s_agent_t *
s_find_agent (self_t *self, s_peer_t *peer, const char *name)
{
    s_agent_t *agent = s_agent (self, name);
    if (!agent) {
        char names[256] = "";
        for (size_t i = 0; i < self->agents_count; i++) {
            size_t used = strlen (names);
            snprintf (names + used, sizeof names - used, "%s\"%s\"", i ? ", " : "",
                      self->agents[i]->name);
        }
        s_error (self, peer, "unknown_agent", "no agent \"%s\" here (agents: %s)",
                 TEXT_CUT (name, 64), names);
    }
    return agent;
}

static void
s_on_tools (self_t *self, s_peer_t *peer, char **args, int count)
{
    //  TOOLS id agent [format [flags]]
    s_agent_t *agent = s_find_agent (self, peer, args[0]);
    if (!agent)
        return;
    int format = count > 1 ? mcpact_format_from_name (args[1]) : MCPACT_FORMAT_MCP;
    if (format < 0) {
        s_error (self, peer, "unknown_format",
                 "unknown format '%s'; use mcp, openai, openai-responses, anthropic or gemini",
                 TEXT_CUT (args[1], 40));
        return;
    }
    int flags = 0;
    if (count > 2) {
        if (strcmp (args[2], "strict") == 0 && format != MCPACT_FORMAT_OPENAI &&
            format != MCPACT_FORMAT_OPENAI_RESPONSES) {
            //  Strict mode is OpenAI's: other formats would ignore it.
            s_error (self, peer, "bad_request",
                     "the flag \"strict\" is for the formats openai and openai-responses, not %s",
                     args[1]);
            return;
        } else if (strcmp (args[2], "strict") == 0)
            flags = MCPACT_FORMAT_STRICT;
        else if (*args[2]) {
            s_error (self, peer, "bad_request", "TOOLS flags are \"strict\" or empty, not '%s'",
                     TEXT_CUT (args[2], 40));
            return;
        }
    }
    char *text = format == MCPACT_FORMAT_MCP && !flags
                     ? mcpact_agent_tools (agent->agent)
                     : mcpact_agent_tools_as (agent->agent, (mcpact_format_t) format, flags);
    if (text)
        s_reply (self, peer, "TOOLS", text);
    else
        s_error (self, peer, "internal", "could not list the tools of agent \"%s\"", agent->name);
    free (text);
}

//  Whether a request is waiting at a router: then a call is not the only
//  one, and the loop has more to do than wait on a lane.
static bool
s_requests_waiting (self_t *self)
{
    for (int kind = 0; kind < SOCK_KINDS; kind++) {
        pollset_touch (&self->poll, self->router_at[kind]);
        if (self->routers[kind] && (zsock_events (self->routers[kind]) & ZMQ_POLLIN))
            return true;
    }
    return false;
}

//  Reads the options frame of CALL or CALL_AS (`verb`; NULL or empty:
//  none) into *timeout_ms and *progress. Returns 0, or -1 when the
//  options are wrong, answered with ERROR bad_request.
static int
s_call_options (self_t *self, s_peer_t *peer, const char *verb, const char *text, int *timeout_ms,
                bool *progress)
{
    *timeout_ms = 0;
    *progress = false;
    if (!text || !*text)
        return 0;
    static const char *const known[] = { "timeoutMs", "progress", NULL };
    char what[32], subject[40], message[512] = "";
    snprintf (what, sizeof what, "%s options", verb);
    snprintf (subject, sizeof subject, "%s are", what);
    json_t *options = gw_json_object (text, subject, message, sizeof message);
    if (options && gw_known_keys (options, known, what, message, sizeof message)) {
        json_t *timeout = json_object_get (options, "timeoutMs");
        json_t *want = json_object_get (options, "progress");
        if (timeout && !json_is_integer (timeout))
            snprintf (message, sizeof message,
                      "%s: \"timeoutMs\" is a whole number of ms (0: the server's call "
                      "timeout), not %s",
                      what, gw_json_kind (timeout));
        else if (timeout &&
                 (json_integer_value (timeout) < 0 || json_integer_value (timeout) > INT_MAX))
            snprintf (message, sizeof message,
                      "%s: \"timeoutMs\" is from 0 (the server's call timeout) to %d ms, "
                      "not %" JSON_INTEGER_FORMAT,
                      what, INT_MAX, json_integer_value (timeout));
        else if (want && !json_is_boolean (want))
            snprintf (message, sizeof message, "%s: \"progress\" is true or false, not %s", what,
                      gw_json_kind (want));
        else {
            *timeout_ms = (int) json_integer_value (timeout);
            *progress = json_is_true (want);
        }
    }
    json_decref (options);
    if (!*message)
        return 0;
    s_error (self, peer, "bad_request", "%s", message);
    return -1;
}

//  Starts a call for a client: the tool's args and the call's options;
//  with `format` >= 0 (CALL_AS), its RESULT carries the provider's
//  tool-result message for call `as_id` of `as_name`.
static void
s_start_call (self_t *self, s_peer_t *peer, s_agent_t *agent, const char *tool,
              const char *args_json, int timeout_ms, bool progress, int format, const char *as_id,
              const char *as_name)
{
    //  client: hex routing id "/" kind; key: client "/" request id
    char client[GATEWAY_CLIENT_KEY], key[GATEWAY_CALL_KEY];
    s_hex (peer->rid, peer->rid_size, client);
    size_t used = 2 * peer->rid_size;
    client[used++] = '/';
    client[used++] = (char) ('0' + peer->kind);
    client[used] = 0;
    memcpy (key, client, used);
    key[used] = '/';
    strcpy (key + used + 1, peer->id);
    if (zhashx_lookup (self->requests, key)) {
        s_error (self, peer, "duplicate_id",
                 "a call with id \"%s\" is in flight already from this client", peer->id);
        return;
    }
    if (self->stopping) {
        s_result_error (self, peer, MCPACT_ERR_INTERNAL, "the gateway is shutting down");
        return;
    }
    s_client_t *mine = (s_client_t *) zhashx_lookup (self->clients, client);
    if (mine && mine->calls >= (size_t) self->options->max_client_calls) {
        char message[160];
        snprintf (message, sizeof message,
                  "busy: this client has %zu calls in flight (maxClientCalls)", mine->calls);
        s_result_error (self, peer, MCPACT_ERR_BUSY, message);
        return;
    }
    if (self->calls >= (size_t) self->options->max_calls) {
        char message[160];
        snprintf (message, sizeof message, "busy: %zu calls in flight in all (maxCalls)",
                  self->calls);
        s_result_error (self, peer, MCPACT_ERR_BUSY, message);
        return;
    }
    s_caller_t *caller = progress ? &agent->progress : &agent->plain;
    if (!caller->caller && s_caller_init (self, caller, agent, progress) != 0) {
        s_result_error (self, peer, MCPACT_ERR_INTERNAL, "cannot make a caller");
        return;
    }
    if (!mine && (mine = (s_client_t *) malloc (sizeof (s_client_t) + used + 1))) {
        mine->calls = 0;
        memcpy (mine->key, client, used + 1);
        zhashx_insert (self->clients, mine->key, mine);
    }
    size_t key_size = used + 2 + strlen (peer->id);
    s_call_t *call = mine ? (s_call_t *) malloc (sizeof (s_call_t) + key_size) : NULL;
    if (!call) {
        if (mine && !mine->calls) {
            zhashx_delete (self->clients, mine->key);
            free (mine);
        }
        s_result_error (self, peer, MCPACT_ERR_INTERNAL, "out of memory");
        return;
    }
    call->peer = *peer;
    memcpy (call->key, key, key_size);
    call->client = mine;
    call->caller = caller;
    call->call_id = 0;
    call->format = format;
    call->cancelling = false;
    call->as_id = as_id ? strdup (as_id) : NULL;
    call->as_name = as_name ? strdup (as_name) : NULL;
    //  The only call in flight goes on the server's lane when it lends
    //  one (docs/protocol.md, "Lanes"): written to the server's stdin and
    //  its answer read here, two thread hand-offs fewer than through the
    //  server's actor. The loop waits for it GATEWAY_LANE_WAIT_US at most;
    //  a slower call is handed back to the actor, which answers it.
    mcpact_result_t *answered = NULL;
    int64_t id = self->calls == 0 && !progress && !s_requests_waiting (self)
                     ? caller_send_lane (caller->caller, tool, args_json, timeout_ms,
                                         GATEWAY_LANE_WAIT_US, &answered)
                     : mcpact_caller_send (caller->caller, tool, args_json, timeout_ms);
    caller->sent = true;
    //  Refused at once: its result waits under the id it would have had.
    call->call_id = id > 0 ? id : caller_last_id (caller->caller);
    idmap_put (&caller->calls, (uint64_t) call->call_id, call);
    zhashx_insert (self->requests, call->key, call);
    mine->calls++;
    self->calls++;
    if (answered) {
        s_answer (self, call, answered);
        mcpact_result_destroy (&answered);
    }
}

static void
s_on_call (self_t *self, s_peer_t *peer, char **args, int count)
{
    //  CALL id agent tool [args_json [options_json]]
    s_agent_t *agent = s_find_agent (self, peer, args[0]);
    if (!agent)
        return;
    int timeout_ms;
    bool progress;
    if (s_call_options (self, peer, "CALL", count > 3 ? args[3] : NULL, &timeout_ms, &progress))
        return;
    const char *call_args = count > 2 && *args[2] ? args[2] : "{}";
    if (!jsonscan_is_object (call_args, call_args + strlen (call_args))) {
        //  Refused here, where jansson can say where it went wrong: the
        //  server actor's own check (status 6 as well) cannot.
        char subject[128], message[512];
        snprintf (subject, sizeof subject, "the arguments of %s are", TEXT_CUT (args[1], 64));
        json_t *parsed = gw_json_object (call_args, subject, message, sizeof message);
        if (!parsed) {
            s_result_error (self, peer, MCPACT_ERR_ARGS, message);
            return;
        }
        //  An object jansson reads but the scan does not (nested too
        //  deep): the server actor says why.
        json_decref (parsed);
    }
    s_start_call (self, peer, agent, args[1], call_args, timeout_ms, progress, -1, NULL, NULL);
}

static void
s_on_call_as (self_t *self, s_peer_t *peer, char **args, int count)
{
    //  CALL_AS id agent format tool_call_json [options_json]: the provider's
    //  tool call in, its tool-result message out (mcpact_agent_call_as).
    s_agent_t *agent = s_find_agent (self, peer, args[0]);
    if (!agent)
        return;
    int format = mcpact_format_from_name (args[1]);
    if (format < 0) {
        s_error (self, peer, "unknown_format",
                 "unknown format '%s'; use mcp, openai, openai-responses, anthropic or gemini",
                 TEXT_CUT (args[1], 40));
        return;
    }
    int timeout_ms;
    bool progress;
    if (s_call_options (self, peer, "CALL_AS", count > 3 ? args[3] : NULL, &timeout_ms, &progress))
        return;
    formats_call_t call;
    char *error = NULL;
    mcpact_status_t status = MCPACT_ERR_ARGS;
    json_t *call_args = NULL;
    if (formats_call_parse ((mcpact_format_t) format, args[2], &call, &error) == 0) {
        //  The arguments as the tool's schema names them (renamed ones back)
        char *text = mcpact_agent_tools (agent->agent);
        json_t *tools = text ? json_loads (text, 0, NULL) : NULL;
        free (text);
        call_args = formats_call_args (tools, (mcpact_format_t) format, call.name, call.args,
                                       &status, &error);
        json_decref (tools);
    }
    if (call_args) {
        char *text = json_dumps (call_args, JSON_COMPACT);
        s_start_call (self, peer, agent, call.name, text, timeout_ms, progress, format, call.id,
                      call.name);
        free (text);
        json_decref (call_args);
    } else {
        //  What the LLM should read about its own mistake, in its shape.
        mcpact_result_t *result = result_error (0, status, error ? error : "out of memory");
        char *text = mcpact_result_as (result, (mcpact_format_t) format, call.id, call.name);
        if (text)
            s_result (self, peer, status, text);
        else
            s_result_error (self, peer, status, error ? error : "out of memory");
        free (text);
        mcpact_result_destroy (&result);
    }
    free (error);
    formats_call_reset (&call);
}

static void
s_on_cancel (self_t *self, s_peer_t *peer, char **args, int count)
{
    //  CANCEL id: the call's own RESULT (status 8) is the answer.
    char key[GATEWAY_CALL_KEY];
    s_hex (peer->rid, peer->rid_size, key);
    snprintf (key + strlen (key), sizeof key - strlen (key), "/%d/%s", peer->kind, peer->id);
    s_call_t *call = (s_call_t *) zhashx_lookup (self->requests, key);
    if (call && call->cancelling)
        //  One RESULT answers the first CANCEL; this one gets its own.
        s_error (self, peer, "unknown_call", "call \"%s\" is being cancelled already", peer->id);
    else if (!call || mcpact_caller_cancel (call->caller->caller, call->call_id) != 0)
        s_error (self, peer, "unknown_call", "no call with id \"%s\" is in flight from this client",
                 peer->id);
    else {
        call->cancelling = true;
        call->caller->sent = true;
    }
}

//  STATUS id agent, RELOAD id agent: the worker asks the runtime.
static void
s_on_slow (self_t *self, s_peer_t *peer, const char *verb, const char *name)
{
    s_agent_t *agent = s_find_agent (self, peer, name);
    if (!agent)
        return;
    s_peer_t *waiting = (s_peer_t *) malloc (sizeof (s_peer_t));
    if (!waiting)
        return;
    *waiting = *peer;
    char token[24];
    snprintf (token, sizeof token, "%" PRIu64, ++self->next_token);
    zhashx_insert (self->slow, token, waiting);
    zsock_send (self->worker, "ssp", verb, token, agent->agent);
}

static void
s_on_status (self_t *self, s_peer_t *peer, char **args, int count)
{
    s_on_slow (self, peer, "STATUS", args[0]);
}

static void
s_on_reload (self_t *self, s_peer_t *peer, char **args, int count)
{
    s_on_slow (self, peer, "RELOAD", args[0]);
}

//  RESOURCES, READ, ... (verbs_features.h): checked here, made by a
//  worker, answered in s_on_features; as STATUS, kept in self->slow.
static void
s_on_feature (self_t *self, s_peer_t *peer, const char *verb, char **args, int count)
{
    s_agent_t *agent = s_find_agent (self, peer, args[0]);
    if (!agent)
        return;
    if (features_waiting (self->features) >= (size_t) self->options->max_client_calls) {
        s_error (self, peer, "busy", "busy: %zu requests for resources and prompts are waiting",
                 features_waiting (self->features));
        return;
    }
    s_peer_t *waiting = (s_peer_t *) malloc (sizeof (s_peer_t));
    if (!waiting)
        return;
    const char *code;
    char message[512];
    uint64_t token = ++self->next_token;
    if (features_start (self->features, token, agent->agent, agent->name, verb, args + 1, count - 1,
                        &code, message, sizeof message) != 0) {
        s_error (self, peer, code, "%s", message);
        free (waiting);
        return;
    }
    *waiting = *peer;
    char token_text[24];
    snprintf (token_text, sizeof token_text, "%" PRIu64, token);
    zhashx_insert (self->slow, token_text, waiting);
}

//  Servers that ask back (verbs_asks.h)

static bool
s_readable (void *socket)
{
    int events = 0;
    size_t size = sizeof events;
    return zmq_getsockopt (socket, ZMQ_EVENTS, &events, &size) == 0 && (events & ZMQ_POLLIN);
}

//  ASK ... and ASK_CANCELLED ... to a client: frames without a request id.
static bool
s_asks_send (void *arg, const void *client, const char **frames, int count)
{
    self_t *self = (self_t *) arg;
    size_t sizes[8];
    for (int i = 0; i < count && i < 8; i++)
        sizes[i] = strlen (frames[i]);
    size_t dropped = self->dropped;
    s_send (self, (const s_peer_t *) client, frames, sizes, count);
    return self->dropped == dropped;
}

static void
s_on_handle (self_t *self, s_peer_t *peer, char **args, int count)
{
    //  HANDLE id agent kinds
    if (!s_find_agent (self, peer, args[0]))
        return;
    char message[300] = "";
    if ((strstr (args[1], "elicitation") && !self->options->elicitation) ||
        (strstr (args[1], "sampling") && !self->options->sampling))
        snprintf (message, sizeof message,
                  "this gateway does not offer %s to its servers (start it with --elicitation or "
                  "--sampling, or \"elicitation\"/\"sampling\": true in its options)",
                  args[1]);
    if (*message || gw_asks_handle (self->asks, peer, args[0], args[1], message, sizeof message))
        s_error (self, peer, "bad_request", "%s", message);
    else
        s_reply (self, peer, "HANDLE", "{}");
}

static void
s_on_answer_or_reject (self_t *self, s_peer_t *peer, char **args, bool reject)
{
    const char *code = "bad_request";
    char message[512] = "";
    if (gw_asks_answer (self->asks, args[0], reject ? NULL : args[1], reject ? args[1] : NULL,
                        &code, message, sizeof message) != 0)
        s_error (self, peer, code, "%s", message);
    else
        s_reply (self, peer, reject ? "REJECT" : "ANSWER", "{}");
}

static void
s_on_answer (self_t *self, s_peer_t *peer, char **args, int count)
{
    //  ANSWER id ask_id result_json
    s_on_answer_or_reject (self, peer, args, false);
}

static void
s_on_reject (self_t *self, s_peer_t *peer, char **args, int count)
{
    //  REJECT id ask_id message
    s_on_answer_or_reject (self, peer, args, true);
}

#define S_FEATURE(name, verb)                                                                      \
    static void name (self_t *self, s_peer_t *peer, char **args, int count)                        \
    {                                                                                              \
        s_on_feature (self, peer, verb, args, count);                                              \
    }
S_FEATURE (s_on_resources, "RESOURCES")
S_FEATURE (s_on_templates, "TEMPLATES")
S_FEATURE (s_on_prompts, "PROMPTS")
S_FEATURE (s_on_read, "READ")
S_FEATURE (s_on_prompt, "PROMPT")
S_FEATURE (s_on_subscribe, "SUBSCRIBE")
S_FEATURE (s_on_unsubscribe, "UNSUBSCRIBE")
S_FEATURE (s_on_instructions, "INSTRUCTIONS")
S_FEATURE (s_on_loglevel, "LOGLEVEL")
S_FEATURE (s_on_roots, "ROOTS")

static const struct {
    const char *verb;      //  frame 1
    int min, max;          //  frames after the request id
    s_handler_fn *handler; //  what it does
    const char *frames;    //  their names, for messages ([optional])
} s_verbs[] = {
    //  Rows as written (clang-format would realign them all): a new verb adds a row.
    // clang-format off
    { "HELLO", 0, 1, s_on_hello, "[version]" },
    { "TOOLS", 1, 3, s_on_tools, "agent [format [flags]]" },
    { "CALL", 2, 4, s_on_call, "agent tool [args_json [options]]" },
    { "CALL_AS", 3, 4, s_on_call_as, "agent format tool_call [options]" },
    { "CANCEL", 0, 0, s_on_cancel, "" },
    { "STATUS", 1, 1, s_on_status, "agent" },
    { "RELOAD", 1, 1, s_on_reload, "agent" },
    { "PING", 0, 0, s_on_ping, "" },
    { "RESOURCES", 1, 1, s_on_resources, "agent" },
    { "TEMPLATES", 1, 1, s_on_templates, "agent" },
    { "PROMPTS", 1, 1, s_on_prompts, "agent" },
    { "READ", 2, 3, s_on_read, "agent uri [server]" },
    { "PROMPT", 2, 4, s_on_prompt, "agent name [args_json [server]]" },
    { "SUBSCRIBE", 2, 3, s_on_subscribe, "agent uri [server]" },
    { "UNSUBSCRIBE", 2, 3, s_on_unsubscribe, "agent uri [server]" },
    { "INSTRUCTIONS", 1, 1, s_on_instructions, "agent" },
    { "LOGLEVEL", 2, 3, s_on_loglevel, "agent level [server]" },
    { "ROOTS", 2, 2, s_on_roots, "agent roots_json" },
    { "HANDLE", 2, 2, s_on_handle, "agent kinds" },
    { "ANSWER", 2, 2, s_on_answer, "ask_id result_json" },
    { "REJECT", 2, 2, s_on_reject, "ask_id message" },
    // clang-format on
};

//  What verb `index` takes after the request id, for "VERB takes ...,
//  not N": "no frames", "1 frame (agent)", "exactly 2 frames (agent
//  roots_json)", "at most 1 frame ([version])", "2 to 4 frames (agent
//  tool [args_json [options]])".
static void
s_frames_wanted (size_t index, char *out, size_t size)
{
    int min = s_verbs[index].min, max = s_verbs[index].max;
    const char *names = s_verbs[index].frames;
    if (max == 0)
        snprintf (out, size, "no frames after the request id");
    else if (min == max && max == 1)
        snprintf (out, size, "1 frame after the request id (%s)", names);
    else if (min == max)
        snprintf (out, size, "exactly %d frames after the request id (%s)", max, names);
    else if (min == 0)
        snprintf (out, size, "at most %d frame%s after the request id (%s)", max,
                  max == 1 ? "" : "s", names);
    else
        snprintf (out, size, "%d to %d frames after the request id (%s)", min, max, names);
}

static json_t *
s_verb_names (void)
{
    json_t *names = json_array ();
    for (size_t i = 0; i < sizeof s_verbs / sizeof s_verbs[0]; i++)
        json_array_append_new (names, json_string (s_verbs[i].verb));
    return names;
}

//  Receives one request from a client and answers or starts it. Returns
//  -1 when nothing was waiting.
static int
s_on_request (self_t *self, int kind)
{
    void *socket = zsock_resolve (self->routers[kind]);
    zmq_msg_t parts[GATEWAY_MAX_FRAMES + 2];
    int count = 0, total = 0;
    while (true) {
        zmq_msg_t scratch;
        zmq_msg_t *part = count < GATEWAY_MAX_FRAMES + 2 ? &parts[count] : &scratch;
        zmq_msg_init (part);
        if (zmq_msg_recv (part, socket, total ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (part);
            for (int i = 0; i < count; i++)
                zmq_msg_close (&parts[i]);
            return -1;
        }
        total++;
        int more = zmq_msg_more (part);
        if (part == &scratch)
            zmq_msg_close (part);
        else
            count++;
        if (!more)
            break;
    }
    s_peer_t peer = { .kind = kind };
    peer.rid_size = zmq_msg_size (&parts[0]);
    if (peer.rid_size > sizeof peer.rid)
        peer.rid_size = sizeof peer.rid;
    memcpy (peer.rid, zmq_msg_data (&parts[0]), peer.rid_size);
    int first = 1;
    //  A REQ puts an empty delimiter before its request: echoed back to
    //  it. A DEALER's lone empty frame is a request with no frames.
    if (count > 2 && zmq_msg_size (&parts[1]) == 0) {
        peer.delimiter = true;
        first = 2;
    }
    //  Every frame as a C string, in one buffer: on the stack for the
    //  usual small request.
    char *frames[GATEWAY_MAX_FRAMES];
    size_t sizes[GATEWAY_MAX_FRAMES]; //  as they came: a frame may hold a NUL
    int frames_count = 0;
    size_t total_size = 0;
    for (int i = first; i < count; i++)
        total_size += zmq_msg_size (&parts[i]) + 1;
    char stack[2048];
    char *buffer = total_size <= sizeof stack ? stack : (char *) malloc (total_size);
    char *next = buffer;
    int not_text = -1; //  the first frame that is not UTF-8 text
    for (int i = first; buffer && i < count && frames_count < GATEWAY_MAX_FRAMES; i++) {
        size_t size = zmq_msg_size (&parts[i]);
        if (not_text < 0 && !text_is_utf8 ((const char *) zmq_msg_data (&parts[i]), size))
            not_text = frames_count;
        memcpy (next, zmq_msg_data (&parts[i]), size);
        next[size] = 0;
        sizes[frames_count] = size;
        frames[frames_count++] = next;
        next += size + 1;
    }
    for (int i = 0; i < count; i++)
        zmq_msg_close (&parts[i]);

    //  VERB id args...
    const char *verb = frames_count > 0 ? frames[0] : "";
    const char *id = frames_count > 1 ? frames[1] : "";
    size_t id_size = frames_count > 1 ? sizes[1] : 0;
    memcpy (peer.id, id, id_size > GATEWAY_MAX_ID ? GATEWAY_MAX_ID : id_size);
    int args = frames_count - 2;
    size_t index = 0;
    while (index < sizeof s_verbs / sizeof s_verbs[0] && strcmp (s_verbs[index].verb, verb) != 0)
        index++;
    if (not_text >= 0) {
        //  Named, and shown as hex: quoted, it would not be text either.
        char hex[2 * 24 + 1];
        const char *bad = frames[not_text];
        size_t bad_size = sizes[not_text];
        s_hex ((const uint8_t *) bad, bad_size > 24 ? 24 : bad_size, hex);
        char name[40];
        if (not_text < 2)
            snprintf (name, sizeof name, "%s", not_text ? "the request id" : "the verb");
        else
            snprintf (name, sizeof name, "frame %d after the request id", not_text - 1);
        char message[256];
        snprintf (message, sizeof message,
                  "%s is not UTF-8 text without NUL (bytes: %s%s); frames are UTF-8 text", name,
                  hex, bad_size > 24 ? "..." : "");
        if (!memchr (id, 0, id_size))
            s_error (self, &peer, "bad_request", "%s", message);
        else {
            //  s_error echoes peer.id, a C string, which would end at
            //  the NUL: the id's bytes go back as they came from here.
            json_t *body = json_pack ("{s:s,s:s}", "error", "bad_request", "message", message);
            char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
            const char *reply[] = {
                "ERROR", id, text ? text : "{\"error\":\"internal\",\"message\":\"out of memory\"}"
            };
            size_t reply_sizes[] = { 5, id_size, strlen (reply[2]) };
            s_send (self, &peer, reply, reply_sizes, 3);
            free (text);
            json_decref (body);
        }
    } else if (frames_count < 2)
        s_error (self, &peer, "bad_request",
                 "a request is VERB REQUEST-ID [ARGS...] (text frames); this one has %d frame%s",
                 frames_count, frames_count == 1 ? "" : "s");
    else if (id_size > GATEWAY_MAX_ID || !id_size)
        s_error (self, &peer, "bad_request", "a request id is 1 to %d bytes, not %zu",
                 GATEWAY_MAX_ID, id_size);
    else if (index == sizeof s_verbs / sizeof s_verbs[0]) {
        char known[512] = "";
        for (size_t i = 0; i < sizeof s_verbs / sizeof s_verbs[0]; i++)
            snprintf (known + strlen (known), sizeof known - strlen (known), "%s%s", i ? ", " : "",
                      s_verbs[i].verb);
        s_error (self, &peer, "unknown_verb", "unknown verb '%s'; this gateway knows %s",
                 TEXT_CUT (verb, 40), known);
    } else if (total - first > s_verbs[index].max + 2 || args < s_verbs[index].min) {
        char takes[200];
        s_frames_wanted (index, takes, sizeof takes);
        s_error (self, &peer, "bad_request", "%s takes %s, not %d", verb, takes, total - first - 2);
    } else {
        s_handler_fn *handler = s_verbs[index].handler;
        handler (self, &peer, frames + 2, args);
        //  The other verbs use the loop's other sockets (the workers,
        //  asks): each is asked for its events at the next wait.
        if (handler != s_on_call && handler != s_on_call_as && handler != s_on_cancel &&
            handler != s_on_ping)
            for (int i = 0; i < self->poll.count; i++)
                pollset_touch (&self->poll, i);
    }
    if (buffer != stack)
        free (buffer);
    return 0;
}

//  --------------------------------------------------------------------------
//  The worker: STATUS and RELOAD, one at a time, off the gateway's loop.
//  [verb token agent] -> [verb token json]

static void
s_worker (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    while (true) {
        char *verb = NULL, *token = NULL;
        void *agent = NULL;
        if (zsock_recv (pipe, "ssp", &verb, &token, &agent) != 0 || !verb ||
            strcmp (verb, "$TERM") == 0) {
            free (verb);
            free (token);
            break;
        }
        char *text = strcmp (verb, "STATUS") == 0 ? mcpact_agent_status ((mcpact_agent_t *) agent)
                                                  : mcpact_agent_reload ((mcpact_agent_t *) agent);
        zsock_send (pipe, "sss", verb, token, text ? text : "");
        free (text);
        free (verb);
        free (token);
    }
}

static void
s_on_worker (self_t *self)
{
    char *verb = NULL, *token = NULL, *text = NULL;
    if (zsock_recv (self->worker, "sss", &verb, &token, &text) == 0 && token) {
        s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->slow, token);
        if (peer) {
            if (*text)
                s_reply (self, peer, verb, text);
            else
                s_error (self, peer, "internal", "the runtime did not answer %s", verb);
            zhashx_delete (self->slow, token);
            free (peer);
        }
    }
    free (verb);
    free (token);
    free (text);
}

//  A request of verbs_features.h finished: its reply goes to its client
//  with the body frame as the worker made it (moved, not copied).
static void
s_on_features (self_t *self)
{
    uint64_t token;
    zmq_msg_t frames[3];
    int count;
    while ((count = features_next (self->features, &token, frames)) > 0) {
        char token_text[24];
        snprintf (token_text, sizeof token_text, "%" PRIu64, token);
        s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->slow, token_text);
        zsock_t *router = peer ? self->routers[peer->kind] : NULL;
        void *socket = router ? zsock_resolve (router) : NULL;
        if (peer)
            pollset_touch (&self->poll, self->router_at[peer->kind]);
        bool sent =
            socket && zmq_send (socket, peer->rid, peer->rid_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
        if (sent && peer->delimiter)
            zmq_send (socket, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        //  VERB id [status] body: the id goes after the verb
        for (int i = 0; sent && i < count; i++) {
            int more = i == 0 || i + 1 < count ? ZMQ_SNDMORE : 0;
            sent = zmq_msg_send (&frames[i], socket, more | ZMQ_DONTWAIT) >= 0;
            if (sent && i == 0)
                zmq_send (socket, peer->id, strlen (peer->id),
                          (count > 1 ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
        }
        for (int i = 0; i < count; i++)
            zmq_msg_close (&frames[i]);
        if (peer && !sent)
            self->dropped++;
        if (peer) {
            zhashx_delete (self->slow, token_text);
            free (peer);
        }
    }
}

//  --------------------------------------------------------------------------
//  Events: the runtime's, with agents and servers named.
//  TOOLS_CHANGED view_id json -> TOOLS_CHANGED agent json
//  SERVER_STATE server_id json -> SERVER_STATE server json
//  (SERVER_LOG, RESOURCE_UPDATED, RESOURCES_CHANGED, PROMPTS_CHANGED: as SERVER_STATE)

static void
s_on_event (self_t *self)
{
    wire_msg_t msg;
    if (wire_recv (&msg, zsock_resolve (self->events), ZMQ_DONTWAIT) < 0)
        return;
    char *name = NULL;
    if (msg.count >= 3 && wire_is (&msg, 0, "TOOLS_CHANGED")) {
        int64_t view = wire_int (&msg, 1, -1);
        for (size_t i = 0; i < self->agents_count; i++)
            if ((int64_t) self->agents[i]->agent->view_id == view)
                name = strdup (self->agents[i]->name);
    } else if (msg.count >= 3 &&
               (wire_is (&msg, 0, "SERVER_STATE") || wire_is (&msg, 0, "SERVER_LOG") ||
                wire_is (&msg, 0, "RESOURCE_UPDATED") || wire_is (&msg, 0, "RESOURCES_CHANGED") ||
                wire_is (&msg, 0, "PROMPTS_CHANGED"))) {
        json_error_t error;
        json_t *state = json_loadb (wire_data (&msg, 2), wire_size (&msg, 2), 0, &error);
        const char *server = json_string_value (json_object_get (state, "server"));
        name = server ? strdup (server) : NULL;
        json_decref (state);
    }
    for (int kind = 0; name && kind < SOCK_KINDS; kind++)
        if (self->pubs[kind]) {
            void *socket = zsock_resolve (self->pubs[kind]);
            zmq_send (socket, wire_data (&msg, 0), wire_size (&msg, 0), ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send (socket, name, strlen (name), ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send (socket, wire_data (&msg, 2), wire_size (&msg, 2), ZMQ_DONTWAIT);
        }
    free (name);
    wire_close (&msg);
}

//  --------------------------------------------------------------------------
//  Binding

static zsock_t *
s_socket (self_t *self, int type, int kind)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    zsock_set_linger (sock, 500);
    zsock_set_maxmsgsize (sock, self->options->max_message_bytes);
    zsock_set_sndhwm (sock, self->options->send_hwm);
    if (type == ZMQ_ROUTER)
        //  A reply to a client that is gone fails instead of vanishing
        //  silently, so that it is counted; none ever blocks (DONTWAIT).
        zsock_set_router_mandatory (sock, 1);
    if (kind == SOCK_CURVE) {
        zcert_apply (self->cert, sock);
        zsock_set_curve_server (sock, 1);
        zsock_set_zap_domain (sock, "mcpact");
    }
    return sock;
}

//  BIND events? endpoint -> OK bound | ERROR reason
static void
s_on_bind (self_t *self, bool events, const char *endpoint)
{
    char reason[512] = "";
    bool curve = false;
    endpoint_check (endpoint, self->cert != NULL, self->options->insecure, &curve, reason,
                    sizeof reason);
    int kind = curve ? SOCK_CURVE : SOCK_PLAIN;
    zsock_t **slot = events ? &self->pubs[kind] : &self->routers[kind];
    if (!*reason && !*slot && !(*slot = s_socket (self, events ? ZMQ_PUB : ZMQ_ROUTER, kind)))
        snprintf (reason, sizeof reason, "cannot make a socket: %s", zmq_strerror (errno));
    char resolved[512];
    endpoint_resolve (endpoint, resolved, sizeof resolved);
    //  tcp://[::1]:PORT and other IPv6 addresses bind only with ZMQ_IPV6,
    //  read at each bind; an IPv4 address keeps its own form without it.
    if (!*reason)
        zsock_set_ipv6 (*slot, strchr (resolved, '[') != NULL);
    //  (endpoint_check tried the address and said what helps; this is
    //  what changed since, a port taken meanwhile)
    if (!*reason && zmq_bind (zsock_resolve (*slot), resolved) != 0)
        snprintf (reason, sizeof reason, "cannot bind %s: %s%s%s", endpoint, zmq_strerror (errno),
                  errno == EADDRINUSE ? "; give another port, or port * for any free one" : "",
                  errno == ENAMETOOLONG ? "; a socket's path is at most 107 bytes, and a "
                                          "relative ipc:// path is bound as an absolute one"
                                        : "");
    if (*reason) {
        zstr_sendx (self->pipe, "ERROR", reason, NULL);
        return;
    }
    char bound[512];
    size_t size = sizeof bound;
    if (zmq_getsockopt (zsock_resolve (*slot), ZMQ_LAST_ENDPOINT, bound, &size) != 0)
        snprintf (bound, sizeof bound, "%s", endpoint);
    endpoint_file_t *file = endpoint_secure (bound);
    if (file)
        zlistx_add_end (self->paths, file);
    if (events)
        json_array_append_new (self->event_endpoints, json_string (bound));
    if (events && !self->events) {
        self->events = zsock_new_sub (self->events_endpoint, "");
        if (!self->events)
            log_error ("gateway: cannot subscribe to the runtime's events");
    }
    zstr_sendx (self->pipe, "OK", bound, NULL);
}

//  Gives the C library's free memory back to the system. Each client
//  connected costs ZeroMQ some 60 KB of buffers, freed when it goes;
//  glibc keeps what was freed in the middle of its heaps for reuse, so
//  that after a burst of thousands of clients the resident size stays at
//  the burst's peak (docs/performance.md, "Memory with short-lived
//  clients"). Called once the gateway has been quiet for
//  GATEWAY_TRIM_IDLE_MS after clients came: a few ms, never while
//  requests come.
static void
s_trim (self_t *self)
{
#ifdef __GLIBC__
    malloc_trim (0);
#endif
    self->trim_due = false;
}

//  --------------------------------------------------------------------------
//  The actor

typedef struct {
    s_options_t *options;
    mcpact_agent_t **agents;
    const char **names;
    size_t agents_count;
    const char *events_endpoint;
    unsigned asks_id;
    bool open; //  answer requests from the first bind on
} s_args_t;

//  Serves one more agent. Returns it, or NULL (out of memory).
static s_agent_t *
s_agent_add (self_t *self, const char *name, mcpact_agent_t *agent)
{
    s_agent_t **agents =
        (s_agent_t **) realloc (self->agents, (self->agents_count + 1) * sizeof (s_agent_t *));
    s_agent_t *added = (s_agent_t *) calloc (1, sizeof (s_agent_t));
    if (agents)
        self->agents = agents;
    if (!agents || !added || !(added->name = strdup (name))) {
        free (added);
        return NULL;
    }
    added->agent = agent;
    self->agents[self->agents_count++] = added;
    return added;
}

//  AGENT agent_ptr name -> OK | ERROR reason: the agent is started, the
//  host keeps it (and destroys it after the gateway).
static void
s_on_agent (self_t *self, zmsg_t *msg)
{
    mcpact_agent_t *agent = (mcpact_agent_t *) actor_msg_popptr (msg);
    char *name = zmsg_popstr (msg);
    s_agent_t *added = NULL;
    if (!agent || !name)
        zstr_sendx (self->pipe, "ERROR", "no agent or no name", NULL);
    else if (s_agent (self, name)) {
        char reason[160];
        snprintf (reason, sizeof reason, "an agent named \"%s\" is served already",
                  TEXT_CUT (name, 64));
        zstr_sendx (self->pipe, "ERROR", reason, NULL);
    } else if (!(added = s_agent_add (self, name, agent)) ||
               s_caller_init (self, &added->plain, added, false) != 0)
        zstr_sendx (self->pipe, "ERROR", "out of memory", NULL);
    else
        zstr_sendx (self->pipe, "OK", NULL);
    free (name);
}

//  Ends every call in flight: cancelled at its server, answered here.
static void
s_stop (self_t *self)
{
    self->stopping = true;
    for (s_call_t *call = (s_call_t *) zhashx_first (self->requests); call;
         call = (s_call_t *) zhashx_first (self->requests)) {
        mcpact_caller_cancel (call->caller->caller, call->call_id);
        s_result_error (self, &call->peer, MCPACT_ERR_INTERNAL,
                        "the gateway is shutting down; the call was cancelled");
        s_call_done (self, call);
    }
}

//  Lets go of the agents: every call ended (s_stop), the workers and
//  callers that use them gone. Then the host may destroy them.
static void
s_release (self_t *self)
{
    if (self->requests)
        s_stop (self);
    zactor_destroy (&self->worker); //  sends $TERM; a STATUS or RELOAD ends first
    features_destroy (&self->features);
    gw_asks_destroy (&self->asks);
    for (size_t i = 0; i < self->agents_count; i++) {
        s_caller_t *callers[] = { &self->agents[i]->plain, &self->agents[i]->progress };
        for (int c = 0; c < 2; c++)
            if (callers[c]->caller) {
                mcpact_caller_destroy (&callers[c]->caller);
                idmap_free (&callers[c]->calls);
            }
    }
    for (size_t i = 0; i < self->agents_count; i++) {
        free (self->agents[i]->name);
        free (self->agents[i]);
    }
    free (self->agents);
    self->agents = NULL;
    self->agents_count = 0;
}

//  RELEASE -> OK, then until $TERM: the agents let go and the request
//  endpoints closed, only the runtime's events are passed on, so that
//  subscribers see the servers close (SERVER_STATE "stopped") while the
//  host destroys the agents and the session. At $TERM, what the runtime
//  published last is passed on before the PUB sockets close (their
//  linger sends it).
static void
s_pass_events_until_term (self_t *self)
{
    s_release (self);
    for (int kind = 0; kind < SOCK_KINDS; kind++)
        zsock_destroy (&self->routers[kind]);
    //  The host destroys the agents once it has the OK, while this
    //  thread goes on: what it did with them comes before (the options
    //  are the host object's, an address both sides know).
    actor_handoff_release (self->options);
    zstr_send (self->pipe, "OK");
    bool term = false;
    int64_t quiet_until = 0;
    while (true) {
        zmq_pollitem_t items[] = { { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 },
                                   { self->events ? zsock_resolve (self->events) : NULL, -1,
                                     self->events ? ZMQ_POLLIN : 0, 0 } };
        long timeout = term ? (long) (quiet_until - zclock_mono ()) : -1;
        if (term && timeout <= 0)
            break;
        if (zmq_poll (items, 2, timeout) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (self->pipe);
            if (!command || strcmp (command, "$TERM") == 0) {
                //  The last events may still be on their way from the
                //  registry: pass on until it has been quiet a moment.
                term = true;
                quiet_until = zclock_mono () + GATEWAY_LAST_EVENTS_MS;
            }
            free (command);
        }
        if (items[1].revents & ZMQ_POLLIN) {
            for (int n = 0; n < GATEWAY_BATCH && zsock_events (self->events) & ZMQ_POLLIN; n++)
                s_on_event (self);
            if (term)
                quiet_until = zclock_mono () + GATEWAY_LAST_EVENTS_MS;
        }
    }
}

static void
s_self_destroy (self_t *self)
{
    s_release (self);
    if (self->slow) {
        for (void *peer = zhashx_first (self->slow); peer; peer = zhashx_next (self->slow))
            free (peer);
        zhashx_destroy (&self->slow);
    }
    zhashx_destroy (&self->requests);
    zhashx_destroy (&self->clients);
    for (int kind = 0; kind < SOCK_KINDS; kind++) {
        zsock_destroy (&self->routers[kind]);
        zsock_destroy (&self->pubs[kind]);
    }
    zsock_destroy (&self->events);
    json_decref (self->event_endpoints);
    //  No socket file is left behind to look like a gateway that answers.
    if (self->paths) {
        for (endpoint_file_t *file = (endpoint_file_t *) zlistx_first (self->paths); file;
             file = (endpoint_file_t *) zlistx_next (self->paths))
            endpoint_file_remove (&file);
        zlistx_destroy (&self->paths);
    }
    zactor_destroy (&self->auth);
    curve_clients_remove (&self->auth_dir);
    zcert_destroy (&self->cert);
    pollset_fini (&self->poll);
}

//  With CURVE, looks at the allow-list every GATEWAY_AUTH_CHECK_MS: when
//  anything in it changed (a certificate added, removed, written, its
//  rights), zauth gets a new checked copy. A list that fails the checks
//  now (a file others can write) lets no new client in until it is
//  fixed, said in the log; connections made stay.
static void
s_auth_watch (self_t *self, int64_t now)
{
    if (!self->auth || now < self->auth_check_at)
        return;
    self->auth_check_at = now + GATEWAY_AUTH_CHECK_MS;
    uint64_t signature = curve_clients_signature (self->options->clients);
    if (signature == self->auth_signature)
        return;
    self->auth_signature = signature;
    char *dir = NULL, reason[1024];
    size_t count;
    if (curve_clients_snapshot (self->options->clients, &dir, &count, reason, sizeof reason) == 0)
        log_info ("gateway: the client certificates in %s changed: %zu let in",
                  self->options->clients, count);
    else
        log_error ("gateway: %s; no new client is let in until that is fixed", reason);
    if (!dir)
        return; //  not even an empty copy: zauth keeps the last one
    zstr_sendx (self->auth, "CURVE", dir, NULL);
    zsock_wait (self->auth);
    curve_clients_remove (&self->auth_dir);
    self->auth_dir = dir;
}

static void
s_gateway_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = (s_args_t *) arg;
    self_t self_storage = { .pipe = pipe, .options = args->options, .open = args->open };
    self_t *self = &self_storage;
    self->events_endpoint = args->events_endpoint;
    for (size_t i = 0; i < args->agents_count; i++)
        s_agent_add (self, args->names[i], args->agents[i]);
    self->requests = zhashx_new ();
    self->clients = zhashx_new ();
    //  Keys are the entries' own (s_call_t, s_client_t): not copied.
    for (int i = 0; i < 2; i++) {
        zhashx_t *table = i ? self->clients : self->requests;
        if (table) {
            zhashx_set_key_duplicator (table, NULL);
            zhashx_set_key_destructor (table, NULL);
        }
    }
    self->slow = zhashx_new ();
    self->paths = zlistx_new ();
    self->event_endpoints = json_array ();
    self->worker = zactor_new (s_worker, NULL);
    self->features = features_new ();
    self->asks = gw_asks_new (args->asks_id, sizeof (s_peer_t), s_asks_send, self);
    const char *failure = NULL;
    char reason[512];
    if (self->agents_count < args->agents_count || !self->requests || !self->clients ||
        !self->slow || !self->paths || !self->event_endpoints || !self->worker || !self->features ||
        !self->asks)
        failure = "out of memory";
    for (size_t i = 0; !failure && i < self->agents_count; i++)
        if (s_caller_init (self, &self->agents[i]->plain, self->agents[i], false) != 0)
            failure = "cannot make a caller";
    if (!failure && self->options->certificate &&
        curve_cert_check (self->options->certificate, true, reason, sizeof reason) != 0)
        failure = reason; //  before CZMQ reads it: it would quote a line it cannot parse
    if (!failure && self->options->certificate) {
        self->cert = zcert_load (self->options->certificate);
        if (!self->cert || !*zcert_secret_txt (self->cert) ||
            strspn (zcert_secret_txt (self->cert), "0") == 40) {
            snprintf (reason, sizeof reason,
                      "cannot read the key pair %s (and %s_secret): make one with mcpact keygen",
                      self->options->certificate, self->options->certificate);
            failure = reason;
        } else {
            //  ZAP: zauth checks each client's public key against the
            //  certificates in the allow-list; one not there gets no
            //  connection, so no request of it ever reaches us. zauth
            //  reads a checked copy (curve_clients_snapshot), made again
            //  when the list changes (s_auth_watch).
            size_t count;
            self->auth_signature = curve_clients_signature (self->options->clients);
            if (curve_clients_snapshot (self->options->clients, &self->auth_dir, &count, reason,
                                        sizeof reason) != 0)
                failure = reason;
            else if (!(self->auth = zactor_new (zauth, NULL))) {
                snprintf (reason, sizeof reason,
                          "cannot start CURVE authentication (one gateway with CURVE per "
                          "process)");
                failure = reason;
            } else {
                zstr_sendx (self->auth, "CURVE", self->auth_dir, NULL);
                zsock_wait (self->auth);
                self->auth_check_at = clock_ms () + GATEWAY_AUTH_CHECK_MS;
            }
        }
    }
    if (failure) {
        actor_handoff_release (args);
        actor_fail (pipe, failure);
        s_self_destroy (self);
        return;
    }
    //  Done with the host's arguments, which it frees once we are ready.
    actor_handoff_release (args);
    actor_ready (pipe);
    int64_t drain_at = 0; //  when every caller is drained next (their deadlines)
    self->rebuild = true;
    while (true) {
        //  pipe, worker, features, asks, events, routers, callers
        int features_at = 2, asks_at = 3, events_at = 4;
        if (self->rebuild) {
            pollset_t *poll = &self->poll;
            pollset_clear (poll);
            bool ok =
                pollset_add_socket (poll, zsock_resolve (pipe)) >= 0 &&
                pollset_add_socket (poll, zsock_resolve (self->worker)) >= 0 &&
                pollset_add_socket (poll, features_socket (self->features)) >= 0 &&
                pollset_add_socket (poll, gw_asks_socket (self->asks)) >= 0 &&
                pollset_add_socket (poll, self->events ? zsock_resolve (self->events) : NULL) >= 0;
            for (int kind = 0; kind < SOCK_KINDS; kind++) {
                //  Until OPEN, requests wait in the routers' queues.
                self->router_at[kind] = pollset_add_socket (
                    poll,
                    self->routers[kind] && self->open ? zsock_resolve (self->routers[kind]) : NULL);
                ok = ok && self->router_at[kind] >= 0;
            }
            //  The callers' descriptors are edge-triggered: a caller is
            //  drained (s_drain) when it fired or after it was sent to.
            for (size_t i = 0; i < self->agents_count; i++) {
                s_caller_t *callers[] = { &self->agents[i]->plain, &self->agents[i]->progress };
                for (int c = 0; c < 2; c++)
                    if (callers[c]->caller) {
                        callers[c]->poll_at =
                            pollset_add_fd (poll, mcpact_caller_fd (callers[c]->caller), POLLIN);
                        callers[c]->sent = true;
                        ok = ok && callers[c]->poll_at >= 0;
                    }
            }
            if (!ok) {
                log_error ("gateway: out of memory; stopping");
                break;
            }
            self->rebuild = false;
        }
        //  A caller keeps deadlines of its own: look at least this often
        //  while calls are in flight.
        int64_t before = clock_ms ();
        long timeout = self->calls ? GATEWAY_DRAIN_MS : -1;
        int64_t wake_at = self->calls || !self->trim_due ? INT64_MAX : self->trim_at;
        if (self->auth && self->auth_check_at < wake_at)
            wake_at = self->auth_check_at;
        if (wake_at != INT64_MAX) {
            long left = wake_at > before ? (long) (wake_at - before) : 0;
            timeout = timeout < 0 || left < timeout ? left : timeout;
        }
        //  No spinning here (spin.h): on a small machine the CPU a
        //  spinning gateway takes is the servers' and the clients' (less
        //  throughput, no better latency, measured with bench_serve).
        int rc = pollset_wait (&self->poll, timeout);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc == 0 && !self->calls && self->trim_due && clock_ms () >= self->trim_at)
            s_trim (self);
        if (pollset_revents (&self->poll, 0) & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg ? zmsg_popstr (msg) : NULL;
            bool term = !command || strcmp (command, "$TERM") == 0;
            if (command && (strcmp (command, "BIND") == 0 || strcmp (command, "EVENTS") == 0)) {
                char *endpoint = zmsg_popstr (msg);
                s_on_bind (self, strcmp (command, "EVENTS") == 0, endpoint ? endpoint : "");
                free (endpoint);
                self->rebuild = true;
            } else if (command && strcmp (command, "AGENT") == 0)
                s_on_agent (self, msg);
            else if (command && strcmp (command, "RELEASE") == 0) {
                s_pass_events_until_term (self);
                term = true;
            } else if (command && strcmp (command, "OPEN") == 0) {
                self->open = true;
                self->rebuild = true;
                zstr_send (pipe, "OK");
            } else if (command && strcmp (command, "STOP") == 0) {
                s_stop (self);
                zstr_send (pipe, "OK");
            }
            free (command);
            zmsg_destroy (&msg);
            if (term)
                break;
        }
        if (pollset_revents (&self->poll, 1) & ZMQ_POLLIN)
            s_on_worker (self);
        if (pollset_revents (&self->poll, features_at) & ZMQ_POLLIN)
            s_on_features (self);
        if (pollset_revents (&self->poll, asks_at) & ZMQ_POLLIN)
            for (int n = 0; n < GATEWAY_BATCH && s_readable (gw_asks_socket (self->asks)); n++)
                gw_asks_receive (self->asks);
        if (pollset_revents (&self->poll, events_at) & ZMQ_POLLIN)
            for (int n = 0; n < GATEWAY_BATCH && zsock_events (self->events) & ZMQ_POLLIN; n++)
                s_on_event (self);
        for (int kind = 0; kind < SOCK_KINDS; kind++)
            if (pollset_revents (&self->poll, self->router_at[kind]) & ZMQ_POLLIN) {
                self->trim_due = true;
                self->trim_at = clock_ms () + GATEWAY_TRIM_IDLE_MS;
                for (int n = 0; n < GATEWAY_BATCH && s_on_request (self, kind) == 0; n++)
                    ;
            }
        int64_t now = clock_ms ();
        s_auth_watch (self, now);
        bool all = rc == 0 || now >= drain_at;
        if (all)
            drain_at = now + GATEWAY_DRAIN_MS;
        s_drain (self, all);
    }
    s_self_destroy (self);
}

//  --------------------------------------------------------------------------
//  Host API

static int
s_parse_options (s_options_t *options, const char *text, char **error)
{
    options->max_message_bytes = 1024 * 1024;
    options->max_client_calls = 1024;
    options->max_calls = 65536;
    options->send_hwm = 10000;
    if (!text || !*text)
        return 0;
    static const char *const known[] = {
        "maxMessageBytes", "maxClientCalls", "maxCalls",   "sendHwm", "insecure",
        "elicitation",     "sampling",       "startLater", "curve",   NULL
    };
    static const char *const curve_known[] = { "certificate", "clients", NULL };
    char message[512] = "";
    json_t *root = gw_json_object (text, "gateway options are", message, sizeof message);
    if (root)
        gw_known_keys (root, known, "gateway options", message, sizeof message);
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value) {
        if (*message)
            break;
        int *number = strcmp (key, "maxMessageBytes") == 0  ? &options->max_message_bytes
                      : strcmp (key, "maxClientCalls") == 0 ? &options->max_client_calls
                      : strcmp (key, "maxCalls") == 0       ? &options->max_calls
                      : strcmp (key, "sendHwm") == 0        ? &options->send_hwm
                                                            : NULL;
        bool *flag = strcmp (key, "insecure") == 0      ? &options->insecure
                     : strcmp (key, "elicitation") == 0 ? &options->elicitation
                     : strcmp (key, "sampling") == 0    ? &options->sampling
                     : strcmp (key, "startLater") == 0  ? &options->start_later
                                                        : NULL;
        if (number) {
            if (!json_is_integer (value) || json_integer_value (value) < 1 ||
                json_integer_value (value) > INT_MAX)
                snprintf (message, sizeof message,
                          "gateway options: \"%s\" must be a whole number >= 1", key);
            else
                *number = (int) json_integer_value (value);
        } else if (flag) {
            if (!json_is_boolean (value))
                snprintf (message, sizeof message,
                          "gateway options: \"%s\" must be true or false, not %s", key,
                          gw_json_kind (value));
            else
                *flag = json_is_true (value);
        } else if (!json_is_object (value))
            snprintf (message, sizeof message,
                      "gateway options: \"curve\" must be a JSON object {\"certificate\", "
                      "\"clients\"}, not %s",
                      gw_json_kind (value));
        else if (gw_known_keys (value, curve_known, "gateway options: curve", message,
                                sizeof message)) {
            const char *certificate = json_string_value (json_object_get (value, "certificate"));
            const char *clients = json_string_value (json_object_get (value, "clients"));
            if (!certificate || !clients)
                snprintf (message, sizeof message,
                          "gateway options: \"curve\" needs \"certificate\" (a key pair from "
                          "mcpact keygen) and \"clients\" (a directory of client certificates)");
            else {
                options->certificate = strdup (certificate);
                options->clients = strdup (clients);
            }
        }
    }
    json_decref (root);
    if (*message) {
        if (error)
            *error = strdup (message);
        return -1;
    }
    return 0;
}

static void
s_free_options (s_options_t *options)
{
    free (options->certificate);
    free (options->clients);
    options->certificate = options->clients = NULL;
}

mcpact_gateway_t *
mcpact_gateway_new (mcpact_session_t *session, const char *options_json, char **error)
{
    if (error)
        *error = NULL;
    if (!session) {
        if (error)
            *error = strdup ("no session");
        return NULL;
    }
    mcpact_gateway_t *self = (mcpact_gateway_t *) calloc (1, sizeof (mcpact_gateway_t));
    if (!self)
        return NULL;
    self->session = session;
    pthread_mutex_init (&self->lock, NULL);
    if (s_parse_options (&self->options, options_json, error) != 0) {
        mcpact_gateway_destroy (&self);
        return NULL;
    }
    //  Before any server connects: they are offered what is handled.
    self->asks_id = api_next_id ();
    void *asks_arg = (void *) (uintptr_t) self->asks_id;
    if (self->options.elicitation)
        mcpact_session_set_elicitation (session, gw_asks_handler, asks_arg,
                                        MCPACT_ELICIT_FORM | MCPACT_ELICIT_URL);
    if (self->options.sampling)
        mcpact_session_set_sampling (session, gw_asks_handler, asks_arg);
    //  The session's default agent, then each agent the file declares.
    char *names_text = mcpact_session_agent_names (session);
    json_t *names = names_text ? json_loads (names_text, 0, NULL) : NULL;
    free (names_text);
    size_t count = 1 + json_array_size (names);
    self->agents = (mcpact_agent_t **) calloc (count, sizeof (mcpact_agent_t *));
    const char **agent_names = (const char **) calloc (count, sizeof (char *));
    for (size_t i = 0; self->agents && agent_names && i < count; i++) {
        const char *name = i ? json_string_value (json_array_get (names, i - 1)) : NULL;
        mcpact_agent_t *agent =
            name ? mcpact_agent_from_config (session, name) : mcpact_agent_new (session, NULL);
        if (!agent)
            continue;
        //  Later, the endpoints bound first: a wrong one fails before
        //  any server process is started.
        if (!self->options.start_later)
            free (mcpact_agent_start (agent));
        agent_names[self->agents_count] = agent->slot.agent ? agent->slot.agent : "";
        self->agents[self->agents_count++] = agent;
    }
    self->started = !self->options.start_later;
    //  Started later, the agents come to the actor by AGENT (they must be
    //  started before the actor makes their callers).
    s_args_t args = { &self->options,
                      self->agents,
                      agent_names,
                      self->started ? self->agents_count : 0,
                      mcpact_runtime_events_endpoint (session->runtime),
                      self->asks_id,
                      self->started };
    char *reason = NULL;
    if (self->agents_count)
        self->actor = actor_new (s_gateway_actor, &args);
    int started = self->actor ? actor_wait (self->actor, &reason) : -1;
    actor_handoff_acquire (&args);
    if (started != 0) {
        if (error)
            *error = reason ? reason : strdup ("cannot start the gateway");
        else
            free (reason);
        actor_destroy (&self->actor);
        json_decref (names);
        free (agent_names);
        mcpact_gateway_destroy (&self);
        return NULL;
    }
    json_decref (names);
    free (agent_names);
    return self;
}

static int
s_bind (mcpact_gateway_t *self, const char *verb, const char *endpoint, char **bound, char **error)
{
    if (bound)
        *bound = NULL;
    if (error)
        *error = NULL;
    if (!self || !endpoint)
        return -1;
    pthread_mutex_lock (&self->lock);
    zstr_sendx (actor_sock (self->actor), verb, endpoint, NULL);
    char *status = NULL, *text = NULL;
    zstr_recvx (actor_sock (self->actor), &status, &text, NULL);
    pthread_mutex_unlock (&self->lock);
    int rc = status && strcmp (status, "OK") == 0 ? 0 : -1;
    char **out = rc == 0 ? bound : error;
    if (out)
        *out = text;
    else
        free (text);
    free (status);
    return rc;
}

int
mcpact_gateway_bind (mcpact_gateway_t *self, const char *endpoint, char **bound, char **error)
{
    return s_bind (self, "BIND", endpoint, bound, error);
}

int
mcpact_gateway_bind_events (mcpact_gateway_t *self, const char *endpoint, char **bound,
                            char **error)
{
    return s_bind (self, "EVENTS", endpoint, bound, error);
}

int
mcpact_gateway_add_agent (mcpact_gateway_t *self, const char *name, mcpact_agent_t *agent)
{
    if (!self || !self->actor || !name || !*name || !agent)
        return -1;
    //  Started here, on the host's thread: the gateway's loop never waits
    //  for servers to start.
    free (mcpact_agent_start (agent));
    pthread_mutex_lock (&self->lock);
    actor_handoff_release (agent);
    zsock_send (actor_sock (self->actor), "sps", "AGENT", agent, name);
    char *status = NULL, *reason = NULL;
    zstr_recvx (actor_sock (self->actor), &status, &reason, NULL);
    pthread_mutex_unlock (&self->lock);
    int rc = status && strcmp (status, "OK") == 0 ? 0 : -1;
    if (rc != 0)
        log_error ("gateway: cannot serve agent %s: %s", name, reason ? reason : "no answer");
    free (status);
    free (reason);
    return rc;
}

int
mcpact_gateway_start (mcpact_gateway_t *self)
{
    if (!self || !self->actor)
        return -1;
    if (self->started)
        return 0;
    self->started = true;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->agents_count; i++) {
        mcpact_agent_t *agent = self->agents[i];
        //  On the host's thread, as at mcpact_gateway_new: the actor's
        //  loop never waits for servers to start.
        free (mcpact_agent_start (agent));
        pthread_mutex_lock (&self->lock);
        actor_handoff_release (agent);
        zsock_send (actor_sock (self->actor), "sps", "AGENT", agent,
                    agent->slot.agent ? agent->slot.agent : "");
        char *status = NULL, *reason = NULL;
        zstr_recvx (actor_sock (self->actor), &status, &reason, NULL);
        pthread_mutex_unlock (&self->lock);
        if (!status || strcmp (status, "OK") != 0) {
            log_error ("gateway: cannot serve agent \"%s\": %s",
                       agent->slot.agent ? agent->slot.agent : "", reason ? reason : "no answer");
            rc = -1;
        }
        free (status);
        free (reason);
    }
    if (rc == 0) {
        pthread_mutex_lock (&self->lock);
        zstr_send (actor_sock (self->actor), "OPEN");
        free (zstr_recv (actor_sock (self->actor)));
        pthread_mutex_unlock (&self->lock);
    }
    return rc;
}

void
mcpact_gateway_stop (mcpact_gateway_t *self)
{
    if (!self || !self->actor)
        return;
    pthread_mutex_lock (&self->lock);
    zstr_send (actor_sock (self->actor), "STOP");
    free (zstr_recv (actor_sock (self->actor)));
    pthread_mutex_unlock (&self->lock);
}

void
mcpact_gateway_destroy_with_session (mcpact_gateway_t **self_p, mcpact_session_t **session_p)
{
    if (!self_p || !*self_p || !session_p || *session_p != (*self_p)->session) {
        mcpact_gateway_destroy (self_p);
        return;
    }
    mcpact_gateway_t *self = *self_p;
    if (self->options.elicitation)
        mcpact_session_set_elicitation (self->session, NULL, NULL, 0);
    if (self->options.sampling)
        mcpact_session_set_sampling (self->session, NULL, NULL);
    self->session = NULL;
    if (self->actor) {
        pthread_mutex_lock (&self->lock);
        zstr_send (actor_sock (self->actor), "RELEASE");
        free (zstr_recv (actor_sock (self->actor)));
        actor_handoff_acquire (&self->options);
        pthread_mutex_unlock (&self->lock);
    }
    //  The agents' own servers, then the session's, close while the
    //  actor still passes their events on.
    for (size_t i = 0; i < self->agents_count; i++)
        mcpact_agent_destroy (&self->agents[i]);
    self->agents_count = 0;
    mcpact_session_destroy (session_p);
    mcpact_gateway_destroy (self_p);
}

void
mcpact_gateway_destroy (mcpact_gateway_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcpact_gateway_t *self = *self_p;
    //  No more asks for us (one on its way is ended by the actor).
    if (self->options.elicitation && self->session)
        mcpact_session_set_elicitation (self->session, NULL, NULL, 0);
    if (self->options.sampling && self->session)
        mcpact_session_set_sampling (self->session, NULL, NULL);
    //  The actor first: its callers go before their agents.
    actor_destroy (&self->actor);
    for (size_t i = 0; i < self->agents_count; i++)
        mcpact_agent_destroy (&self->agents[i]);
    free (self->agents);
    s_free_options (&self->options);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}
