/*  =========================================================================
    caller - calls from one host thread, straight to the owning actor

    A caller is one ROUTER socket that connects, as it needs them, to the
    endpoints of the actors that own tools (server actors, the function
    broker) and addresses each by its endpoint name. A call is one message
    from the host thread to the owning actor and one back: the registry's
    catalog says where each tool lives, and is read here, not asked.

    The actors enforce each call's timeout and answer it; the caller keeps
    its own deadline a little later still, so that no call can hang even
    if an actor never answers.

    Threading: a caller belongs to one thread at a time. The agent's pool
    hands callers between host threads under the agent's lock, which is
    the memory barrier ZeroMQ asks for when a socket changes threads.
    =========================================================================
*/

#include "caller.h"

#include "actor.h"
#include "formats.h"

#include "idmap.h"
#include "lane.h"
#include "spin.h"
#include "jsonscan.h"
#include "log.h"
#include "text.h"
#include "wire.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>

//  The caller's own deadline is the call's timeout plus this.
#define CALLER_GRACE_MS 2000
//  A call without a timeout still ends on the caller's side after this.
#define CALLER_MAX_MS (24 * 3600 * 1000)

typedef struct {
    char endpoint[64];  //  where the call went (for CANCEL)
    char server[64];    //  the server it went to ("" for other owners)
    int64_t deadline;   //  caller-side deadline
    int64_t timeout_ms; //  the call's timeout, for progress to extend by
    bool raw;           //  a STATUS request: the payload is not a tool result
} s_pending_t;

//  A caller waiting for a server's answer looks this often whether the
//  server is still in the agent's set: a call sent to a server that was
//  removed just then may never reach it (see s_check_removed).
#define CALLER_CHECK_MS 250

//  How long a STATUS or RELOAD request may take by default.
#define CALLER_VERB_MS 10000
//  Owners a caller stays connected to at most. A connection costs ~20 KiB
//  (ZeroMQ's pipes, both ends): 64 host threads each calling each of 1000
//  servers grew the host by 28-29 MiB with 4 (bench_memory -n 1000 -t 64,
//  which also ran faster: 3.4-4.3 s), 34 MiB with 8, 57 MiB with 32. A
//  caller connects again, in tens of µs, to an owner it calls after three
//  others (a sequential caller mostly stays on the owner's lane); calls in
//  flight keep their owners connected.
#define CALLER_MAX_PEERS 4

//  An owner the caller is connected to.
typedef struct {
    uint64_t used;  //  when last called (the caller's call count)
    size_t pending; //  requests in flight to it
    lane_t *lane;   //  its lane, if it lent us one (lane.h)
} s_peer_t;

struct _mcpact_caller_t {
    catalog_slot_t *slot;              //  the catalogs that route the calls
    zsock_t *sock;                     //  ROUTER
    zhashx_t *peers;                   //  endpoint -> s_peer_t, connected to
    uint64_t next_id;                  //  call ids
    idmap_t pending;                   //  call id -> s_pending_t
    deadlines_t deadlines;             //  caller-side deadlines
    zlistx_t *ready;                   //  results made here, not yet returned
    mcpact_progress_call_fn *progress; //  host's progress callback, or NULL
    void *progress_arg;                //  its argument
    catalog_t *checked;                //  the catalog s_check_removed saw last
    int64_t check_at;                  //  when it looks next (ms, monotonic)
};

static lane_t *s_granted_lane (wire_msg_t *msg);
static bool s_has_server (catalog_t *catalog, const char *endpoint);

struct _mcpact_result_t {
    mcpact_status_t status; //  outcome
    int64_t id;             //  call id
    char *json;             //  CallToolResult text
    char *error;            //  one-line reason, if not OK
    char *text;             //  the LLM's view, made on first use
};

//  --------------------------------------------------------------------------
//  Results

mcpact_result_t *
result_error (int64_t id, mcpact_status_t status, const char *message)
{
    mcpact_result_t *self = (mcpact_result_t *) calloc (1, sizeof (mcpact_result_t));
    if (!self)
        return NULL;
    self->status = status;
    self->id = id;
    self->error = strdup (message);
    json_t *json =
        json_pack ("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", message, "isError", 1);
    self->json = json_dumps (json, JSON_COMPACT);
    json_decref (json);
    return self;
}

mcpact_result_t *
result_raw (int64_t id, const char *json, size_t size)
{
    mcpact_result_t *self = (mcpact_result_t *) calloc (1, sizeof (mcpact_result_t));
    if (!self)
        return NULL;
    self->id = id;
    self->json = strndup (json, size);
    if (!self->json) {
        free (self);
        return NULL;
    }
    return self;
}

//  A result from the wire: status and payload as the owning actor sent.
static mcpact_result_t *
s_result_from_wire (int64_t id, int status, const char *payload, size_t size)
{
    const char *content, *content_end;
    bool has_content = size && *payload == '{' &&
                       jsonscan_member (payload, payload + size, "content", &content, &content_end);
    if (status == MCPACT_ERR_PROTOCOL && has_content && *content != '[')
        //  A result (judged by jsonrpc_call_outcome) that the host cannot
        //  read as content, which is not the same as none.
        return result_error (id, MCPACT_ERR_PROTOCOL,
                             "the server's result has a \"content\" that is not an array");
    if (status == MCPACT_OK || status == MCPACT_ERR_TOOL) {
        mcpact_result_t *self = (mcpact_result_t *) calloc (1, sizeof (mcpact_result_t));
        self->id = id;
        self->status = (mcpact_status_t) status;
        self->json = strndup (payload, size);
        bool empty = !has_content;
        if (!empty) {
            const char *p = content + 1;
            while (p < content_end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
                p++;
            empty = *p == ']';
        }
        if (empty) {
            //  The reference treats a result without content as an error.
            self->status = MCPACT_ERR_TOOL;
            self->error = strdup ("the tool returned no content");
        }
        return self;
    }
    //  An error object: {"message": ...} from us, or a JSON-RPC error
    //  {"code", "message", "data"?} from the server.
    json_error_t parse_error;
    json_t *error = json_loadb (payload, size, 0, &parse_error);
    const char *message = json_string_value (json_object_get (error, "message"));
    json_t *code = json_object_get (error, "code");
    char text[1024];
    if (status == MCPACT_ERR_PROTOCOL && json_is_integer (code)) {
        //  The TypeScript SDK puts "MCP error CODE: " in the message
        //  itself; said once is enough.
        char own[48];
        snprintf (own, sizeof own, "MCP error %" JSON_INTEGER_FORMAT ": ",
                  json_integer_value (code));
        if (message && strncmp (message, own, strlen (own)) == 0)
            message += strlen (own);
        snprintf (text, sizeof text, "the server answered with error %" JSON_INTEGER_FORMAT ": %s",
                  json_integer_value (code), message ? message : "(no message)");
    } else
        snprintf (text, sizeof text, "%s", message ? message : "unknown error");
    json_decref (error);
    return result_error (id, (mcpact_status_t) status, text);
}

mcpact_result_t *
mcpact_result_from_message (int64_t id, mcpact_status_t status, const char *payload, size_t size)
{
    return s_result_from_wire (id, (int) status, payload ? payload : "", payload ? size : 0);
}

mcpact_status_t
mcpact_result_status (const mcpact_result_t *self)
{
    return self ? self->status : MCPACT_ERR_INTERNAL;
}

int64_t
mcpact_result_id (const mcpact_result_t *self)
{
    return self ? self->id : 0;
}

const char *
mcpact_result_json (const mcpact_result_t *self)
{
    return self ? self->json : NULL;
}

//  The reference conversion: an error result -> its joined text parts;
//  one content item -> that item as JSON; several -> a JSON array; media
//  as a note, never its base64 (formats_reference_text).
static char *
s_llm_text (const mcpact_result_t *self)
{
    if (self->status != MCPACT_OK && self->status != MCPACT_ERR_TOOL)
        return strdup (self->error ? self->error : "error");
    json_error_t parse_error;
    json_t *result = json_loads (self->json, 0, &parse_error);
    json_t *content = json_object_get (result, "content");
    char *text = NULL;
    if (json_is_true (json_object_get (result, "isError"))) {
        jsonbuf_t joined = { 0 };
        size_t index;
        json_t *item;
        json_array_foreach (content, index, item) {
            const char *part = json_string_value (json_object_get (item, "text"));
            if (!part)
                continue;
            if (joined.size)
                jsonbuf_append (&joined, "\n", 1);
            jsonbuf_append_str (&joined, part);
        }
        text = joined.data ? joined.data : strdup ("the tool reported an error");
    } else if (json_array_size (content) > 0)
        text = formats_reference_text (content);
    else
        text = strdup (self->error ? self->error : "the tool returned no content");
    json_decref (result);
    return text;
}

const char *
mcpact_result_text (const mcpact_result_t *self)
{
    if (!self)
        return NULL;
    if (!self->text)
        ((mcpact_result_t *) self)->text = s_llm_text (self);
    return self->text;
}

const char *
mcpact_result_error (const mcpact_result_t *self)
{
    if (!self || self->status == MCPACT_OK)
        return NULL;
    if (!self->error)
        //  A tool error: its joined text is the reason.
        ((mcpact_result_t *) self)->error = strdup (mcpact_result_text (self));
    return self->error;
}

void
mcpact_result_destroy (mcpact_result_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcpact_result_t *self = *self_p;
    free (self->json);
    free (self->error);
    free (self->text);
    free (self);
    *self_p = NULL;
}

const char *
mcpact_status_name (mcpact_status_t status)
{
    static const char *names[] = { "ok",        "tool error", "unknown tool",  "timeout",
                                   "server",    "protocol",   "bad arguments", "internal",
                                   "cancelled", "busy" };
    return (unsigned) status < sizeof names / sizeof names[0] ? names[status] : "unknown";
}

//  --------------------------------------------------------------------------
//  Callers

mcpact_caller_t *
caller_new (catalog_slot_t *slot)
{
    mcpact_caller_t *self = (mcpact_caller_t *) calloc (1, sizeof (mcpact_caller_t));
    if (!self)
        return NULL;
    self->slot = slot;
    self->sock = zsock_new (ZMQ_ROUTER);
    self->peers = zhashx_new ();
    self->ready = zlistx_new ();
    idmap_init (&self->pending);
    deadlines_init (&self->deadlines);
    deadlines_watch (&self->deadlines, &self->pending);
    if (!self->sock || !self->peers || !self->ready) {
        mcpact_caller_destroy (&self);
        return NULL;
    }
    char routing_id[32];
    static atomic_uint next_caller;
    snprintf (routing_id, sizeof routing_id, "caller-%u", atomic_fetch_add (&next_caller, 1) + 1);
    zmq_setsockopt (zsock_resolve (self->sock), ZMQ_ROUTING_ID, routing_id, strlen (routing_id));
    //  A send to an actor we are not connected to must fail, not vanish.
    zsock_set_router_mandatory (self->sock, 1);
    zsock_set_rcvhwm (self->sock, 0);
    zsock_set_sndhwm (self->sock, 10000);
    return self;
}

static void
s_free_pending (uint64_t id, void *value, void *arg)
{
    free (value);
}

void
mcpact_caller_destroy (mcpact_caller_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcpact_caller_t *self = *self_p;
    if (self->sock) {
        //  Lanes sent to us and not read yet go back to their actors.
        wire_msg_t msg;
        while (wire_recv (&msg, zsock_resolve (self->sock), ZMQ_DONTWAIT) >= 0) {
            lane_t *lane = s_granted_lane (&msg);
            lane_unref (&lane);
            wire_close (&msg);
        }
    }
    zsock_destroy (&self->sock);
    if (self->peers) {
        for (s_peer_t *peer = (s_peer_t *) zhashx_first (self->peers); peer;
             peer = (s_peer_t *) zhashx_next (self->peers)) {
            lane_unref (&peer->lane);
            free (peer);
        }
        zhashx_destroy (&self->peers);
    }
    if (self->ready) {
        for (mcpact_result_t *result = (mcpact_result_t *) zlistx_first (self->ready); result;
             result = (mcpact_result_t *) zlistx_next (self->ready))
            mcpact_result_destroy (&result);
        zlistx_destroy (&self->ready);
    }
    idmap_each (&self->pending, s_free_pending, NULL);
    idmap_free (&self->pending);
    catalog_unref (&self->checked);
    deadlines_free (&self->deadlines);
    free (self);
    *self_p = NULL;
}

//  Disconnects from the owner used longest ago with nothing in flight to
//  it, to stay within CALLER_MAX_PEERS.
static void
s_disconnect_one (mcpact_caller_t *self)
{
    s_peer_t *oldest = NULL;
    const char *endpoint = NULL;
    for (s_peer_t *peer = (s_peer_t *) zhashx_first (self->peers); peer;
         peer = (s_peer_t *) zhashx_next (self->peers))
        if (peer->pending == 0 && (!oldest || peer->used < oldest->used)) {
            oldest = peer;
            endpoint = (const char *) zhashx_cursor (self->peers);
        }
    if (!oldest)
        return;
    char *key = strdup (endpoint);
    zmq_disconnect (zsock_resolve (self->sock), key);
    lane_unref (&oldest->lane);
    free (oldest);
    zhashx_delete (self->peers, key);
    free (key);
}

//  The owner at `endpoint`, connected to; NULL if it cannot be.
static s_peer_t *
s_connect (mcpact_caller_t *self, const char *endpoint)
{
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, endpoint);
    if (peer)
        return peer;
    if (zhashx_size (self->peers) >= CALLER_MAX_PEERS)
        s_disconnect_one (self);
    void *socket = zsock_resolve (self->sock);
    peer = (s_peer_t *) calloc (1, sizeof (s_peer_t));
    if (!peer ||
        zmq_setsockopt (socket, ZMQ_CONNECT_ROUTING_ID, endpoint, strlen (endpoint)) != 0 ||
        zmq_connect (socket, endpoint) != 0) {
        free (peer);
        return NULL;
    }
    zhashx_insert (self->peers, endpoint, peer);
    return peer;
}

//  The lane a RESULT grants (its frame after the payload), with the
//  reference that came with it; or NULL.
static lane_t *
s_granted_lane (wire_msg_t *msg)
{
    void *lane = NULL;
    if (msg->count < 6 || !wire_is (msg, 1, "RESULT"))
        return NULL;
    char text[32];
    size_t size = wire_size (msg, 5);
    if (size == 0 || size >= sizeof text)
        return NULL;
    memcpy (text, wire_data (msg, 5), size);
    text[size] = 0;
    if (sscanf (text, "%p", &lane) != 1)
        return NULL;
    actor_handoff_acquire (lane); //  it came inside a message
    return (lane_t *) lane;
}

//  A request to `endpoint` ended (answered, given up): one less in flight.
static void
s_peer_done (mcpact_caller_t *self, const char *endpoint)
{
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, endpoint);
    if (peer && peer->pending)
        peer->pending--;
}

static void
s_queue_error (mcpact_caller_t *self, int64_t id, mcpact_status_t status, const char *message)
{
    zlistx_add_end (self->ready, result_error (id, status, message));
}

//  Writes `id` in decimal into `text` (24 bytes); returns its length.
//  Several times per call on a gateway's loop, where snprintf's set-up
//  cost showed in profiles.
static size_t
s_format_id (int64_t id, char *text)
{
    char digits[24];
    size_t count = 0;
    uint64_t value = id < 0 ? (uint64_t) 0 - (uint64_t) id : (uint64_t) id;
    do {
        digits[count++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    size_t size = 0;
    if (id < 0)
        text[size++] = '-';
    while (count)
        text[size++] = digits[--count];
    text[size] = 0;
    return size;
}

//  strlcpy: `source` cut to fit `size`.
static void
s_copy (char *target, size_t size, const char *source)
{
    size_t length = strnlen (source, size - 1);
    memcpy (target, source, length);
    target[length] = 0;
}

//  Sends "verb id frames..." to the actor at `endpoint`, connecting first
//  if need be. Returns 0, or -1 if the actor cannot be reached.
static int
s_send (mcpact_caller_t *self, const char *endpoint, const char *verb, int64_t id,
        const char **frames, int count)
{
    char id_text[24];
    size_t id_size = s_format_id (id, id_text);
    void *socket = zsock_resolve (self->sock);
    s_peer_t *peer = s_connect (self, endpoint);
    if (!peer)
        return -1;
    peer->used = self->next_id;
    if (zmq_send (socket, endpoint, strlen (endpoint), ZMQ_SNDMORE) < 0 ||
        zmq_send (socket, verb, strlen (verb), ZMQ_SNDMORE) < 0 ||
        zmq_send (socket, id_text, id_size, count ? ZMQ_SNDMORE : 0) < 0)
        return -1;
    for (int index = 0; index < count; index++)
        if (zmq_send (socket, frames[index], strlen (frames[index]),
                      index + 1 < count ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    return 0;
}

//  Remembers a request sent, until its answer or its deadline.
static void
s_track (mcpact_caller_t *self, int64_t id, const char *endpoint, int64_t timeout_ms,
         int64_t grace_ms, bool raw)
{
    s_pending_t *pending = (s_pending_t *) calloc (1, sizeof (s_pending_t));
    if (!pending)
        return;
    s_copy (pending->endpoint, sizeof pending->endpoint, endpoint);
    pending->timeout_ms = timeout_ms;
    pending->deadline = clock_ms () + timeout_ms + grace_ms;
    pending->raw = raw;
    idmap_put (&self->pending, (uint64_t) id, pending);
    deadlines_push (&self->deadlines, pending->deadline, (uint64_t) id);
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, endpoint);
    if (peer)
        peer->pending++;
}

//  Stops tracking request `id`; returns it (the caller frees it), or NULL.
static s_pending_t *
s_untrack (mcpact_caller_t *self, int64_t id)
{
    s_pending_t *pending = (s_pending_t *) idmap_take (&self->pending, (uint64_t) id);
    if (pending)
        s_peer_done (self, pending->endpoint);
    return pending;
}

//  Sends a CALL; with `lane`, the owner may lend us its lane with the
//  RESULT (a host thread calling one call at a time: caller_call).
static int64_t
s_call_send (mcpact_caller_t *self, const char *tool, const char *args_json, int timeout_ms,
             bool lane)
{
    if (!self)
        return -1;
    int64_t id = (int64_t) ++self->next_id;
    if (!tool) {
        s_queue_error (self, id, MCPACT_ERR_UNKNOWN_TOOL, "no tool name given");
        return -1;
    }
    catalog_t *catalog = catalog_slot_get (self->slot);
    const catalog_entry_t *entry = catalog_lookup (catalog, tool);
    char message[512];
    if (!entry) {
        //  A tool of a server that is not up is unknown too: name those
        //  servers, which is where the LLM's or the host's fix lies.
        char down[200] = "";
        size_t index;
        json_t *server;
        json_array_foreach (catalog_servers (catalog), index, server) {
            const char *name = json_string_value (json_object_get (server, "name"));
            size_t used = strlen (down);
            if (name && json_is_false (json_object_get (server, "up")) &&
                used + strlen (name) + 3 < sizeof down)
                snprintf (down + used, sizeof down - used, "%s%s", used ? ", " : "", name);
        }
        char cut[204];
        snprintf (message, sizeof message, "unknown tool %s (the agent has %zu tools%s%s%s)",
                  text_cut (tool, 200, cut, sizeof cut), catalog_size (catalog),
                  *down ? "; servers not up: " : "", down, *down ? ", see their status" : "");
        catalog_unref (&catalog);
        s_queue_error (self, id, MCPACT_ERR_UNKNOWN_TOOL, message);
        return -1;
    }
    //  CALL id tool args timeout ["progress"]
    char timeout_text[24];
    s_format_id (timeout_ms > 0 ? timeout_ms : 0, timeout_text);
    const char *frames[] = { entry->original, args_json ? args_json : "{}", timeout_text,
                             self->progress ? "progress" : "lane" };
    if (s_send (self, entry->endpoint, "CALL", id, frames, self->progress || lane ? 4 : 3) != 0) {
        int error = errno;
        //  Its server was removed as we sent: say so, as it would have.
        catalog_t *now = catalog_slot_get (self->slot);
        char cut[204];
        if (entry->owner && now && !s_has_server (now, entry->endpoint))
            snprintf (message, sizeof message, "server %s was removed", entry->owner);
        else
            snprintf (message, sizeof message, "cannot reach the owner of %s (%s): %s",
                      text_cut (tool, 200, cut, sizeof cut),
                      entry->owner ? entry->owner : "function tools", zmq_strerror (error));
        catalog_unref (&now);
        catalog_unref (&catalog);
        s_queue_error (self, id, MCPACT_ERR_SERVER, message);
        return -1;
    }
    s_track (self, id, entry->endpoint, timeout_ms > 0 ? timeout_ms : CALLER_MAX_MS,
             CALLER_GRACE_MS, false);
    s_pending_t *pending = (s_pending_t *) idmap_get (&self->pending, (uint64_t) id);
    if (pending && entry->owner)
        s_copy (pending->server, sizeof pending->server, entry->owner);
    catalog_unref (&catalog);
    return id;
}

int64_t
caller_last_id (mcpact_caller_t *self)
{
    return (int64_t) self->next_id;
}

int64_t
caller_verb_send (mcpact_caller_t *self, const char *endpoint, const char *verb, int timeout_ms)
{
    int64_t id = (int64_t) ++self->next_id;
    if (!endpoint || s_send (self, endpoint, verb, id, NULL, 0) != 0)
        return -1;
    s_track (self, id, endpoint, timeout_ms > 0 ? timeout_ms : CALLER_VERB_MS, 0, true);
    return id;
}

int64_t
caller_request_send (mcpact_caller_t *self, const char *endpoint, const char *server,
                     const char *verb, const char **frames, int count, int timeout_ms)
{
    int64_t id = (int64_t) ++self->next_id;
    if (!endpoint || s_send (self, endpoint, verb, id, frames, count) != 0)
        return -1;
    //  The actor enforces the timeout (0: the server's call timeout); ours
    //  is a little later still, as for calls.
    s_track (self, id, endpoint, timeout_ms > 0 ? timeout_ms : CALLER_MAX_MS, CALLER_GRACE_MS,
             true);
    //  Named, a request lost with a removed server ends as a call does
    //  (s_check_removed).
    s_pending_t *pending = (s_pending_t *) idmap_get (&self->pending, (uint64_t) id);
    if (pending && server)
        s_copy (pending->server, sizeof pending->server, server);
    return id;
}

//  Tells the owner to give up call `id`. Returns 0, or -1 if the owner
//  cannot be reached.
static int
s_send_cancel (mcpact_caller_t *self, s_pending_t *pending, int64_t id)
{
    return s_send (self, pending->endpoint, "CANCEL", id, NULL, 0);
}

int
mcpact_caller_cancel (mcpact_caller_t *self, int64_t id)
{
    s_pending_t *pending = self ? (s_pending_t *) idmap_get (&self->pending, (uint64_t) id) : NULL;
    if (!pending)
        return -1;
    if (s_send_cancel (self, pending, id) != 0) {
        //  The owner is gone: end the call here.
        free (s_untrack (self, id));
        s_queue_error (self, id, MCPACT_ERR_CANCELLED, "call cancelled");
    }
    return 0;
}

static void
s_progress (mcpact_caller_t *self, wire_msg_t *msg)
{
    int64_t id = wire_int (msg, 2, -1);
    s_pending_t *pending = (s_pending_t *) idmap_get (&self->pending, (uint64_t) id);
    if (!pending)
        return;
    //  The owner extends the call; keep our own deadline behind its.
    pending->deadline = clock_ms () + pending->timeout_ms + CALLER_GRACE_MS;
    deadlines_push (&self->deadlines, pending->deadline, (uint64_t) id);
    if (!self->progress)
        return;
    json_error_t error;
    json_t *params = json_loadb (wire_data (msg, 3), wire_size (msg, 3), 0, &error);
    json_t *total = json_object_get (params, "total");
    self->progress (id, json_number_value (json_object_get (params, "progress")),
                    json_is_number (total) ? json_number_value (total) : -1,
                    json_string_value (json_object_get (params, "message")), self->progress_arg);
    json_decref (params);
}

void
mcpact_caller_set_progress (mcpact_caller_t *self, mcpact_progress_call_fn *fn, void *arg)
{
    if (self) {
        self->progress = fn;
        self->progress_arg = arg;
    }
}

//  Receives what is waiting; returns a result for a call in flight, or
//  NULL if nothing (more) is there.
static mcpact_result_t *
s_receive (mcpact_caller_t *self)
{
    void *socket = zsock_resolve (self->sock);
    while (true) {
        wire_msg_t msg;
        if (wire_recv (&msg, socket, ZMQ_DONTWAIT) < 0)
            return NULL;
        //  [owner] PROGRESS call_id params_json
        if (msg.count >= 4 && wire_is (&msg, 1, "PROGRESS")) {
            s_progress (self, &msg);
            wire_close (&msg);
            continue;
        }
        //  [owner] ALIVE call_id ms: the owner gave the call more time (its
        //  server waits for the host's user); keep our deadline behind.
        if (msg.count >= 4 && wire_is (&msg, 1, "ALIVE")) {
            int64_t id = wire_int (&msg, 2, -1);
            s_pending_t *pending = (s_pending_t *) idmap_get (&self->pending, (uint64_t) id);
            int64_t deadline = clock_ms () + wire_int (&msg, 3, 0) + CALLER_GRACE_MS;
            if (pending && deadline > pending->deadline) {
                pending->deadline = deadline;
                deadlines_push (&self->deadlines, pending->deadline, (uint64_t) id);
            }
            wire_close (&msg);
            continue;
        }
        //  [owner] RESULT call_id status payload
        mcpact_result_t *result = NULL;
        if (msg.count >= 5 && wire_is (&msg, 1, "RESULT")) {
            int64_t id = wire_int (&msg, 2, -1);
            s_pending_t *pending = s_untrack (self, id);
            lane_t *lane = s_granted_lane (&msg);
            if (lane && pending) {
                //  The owner lends us its lane: the next call to it from
                //  this thread goes on it.
                s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, pending->endpoint);
                if (peer && peer->lane != lane) {
                    lane_unref (&peer->lane);
                    peer->lane = lane;
                    lane = NULL;
                }
            }
            lane_unref (&lane);
            int status = (int) wire_int (&msg, 3, MCPACT_ERR_INTERNAL);
            if (pending && pending->raw && status == MCPACT_OK)
                result = result_raw (id, wire_data (&msg, 4), wire_size (&msg, 4));
            else if (pending)
                result = s_result_from_wire (id, (int) wire_int (&msg, 3, MCPACT_ERR_INTERNAL),
                                             wire_data (&msg, 4), wire_size (&msg, 4));
            //  Else a late answer to a call we gave up on: dropped.
            free (pending);
        }
        wire_close (&msg);
        if (result)
            return result;
    }
}

//  Whether `endpoint` is one of the catalog's servers.
static bool
s_has_server (catalog_t *catalog, const char *endpoint)
{
    size_t index;
    json_t *server;
    json_array_foreach (catalog_servers (catalog), index, server) {
        const char *at = json_string_value (json_object_get (server, "endpoint"));
        if (at && strcmp (at, endpoint) == 0)
            return true;
    }
    return false;
}

typedef struct {
    catalog_t *catalog; //  the agent's catalog now
    uint64_t *gone;     //  ids of calls to servers no longer in it
    size_t count;       //  how many
    size_t max;         //  room
} s_removed_t;

static void
s_find_removed (uint64_t id, void *value, void *arg)
{
    s_removed_t *removed = (s_removed_t *) arg;
    s_pending_t *pending = (s_pending_t *) value;
    if (!*pending->server || s_has_server (removed->catalog, pending->endpoint))
        return;
    if (removed->count == removed->max) {
        size_t max = removed->max ? removed->max * 2 : 8;
        uint64_t *gone = (uint64_t *) realloc (removed->gone, max * sizeof *gone);
        if (!gone)
            return;
        removed->gone = gone;
        removed->max = max;
    }
    removed->gone[removed->count++] = id;
}

//  Ends the calls to servers that left the agent's set. A removed server
//  answers what reached it (docs/protocol.md), but a call sent as its
//  socket closed can be lost with the connection: without this, its
//  caller would wait out the call's whole timeout. Called at most every
//  CALLER_CHECK_MS while calls wait; looks at the calls only when the
//  registry has published a new catalog since.
static void
s_check_removed (mcpact_caller_t *self)
{
    catalog_t *catalog = catalog_slot_get (self->slot);
    if (!catalog || catalog == self->checked) {
        catalog_unref (&catalog);
        return;
    }
    s_removed_t removed = { catalog, NULL, 0, 0 };
    idmap_each (&self->pending, s_find_removed, &removed);
    for (size_t i = 0; i < removed.count; i++) {
        s_pending_t *pending = s_untrack (self, (int64_t) removed.gone[i]);
        if (!pending)
            continue;
        char message[128];
        snprintf (message, sizeof message, "server %s was removed", pending->server);
        s_queue_error (self, (int64_t) removed.gone[i], MCPACT_ERR_SERVER, message);
        free (pending);
    }
    free (removed.gone);
    catalog_unref (&self->checked);
    self->checked = catalog;
}

//  Ends calls whose caller-side deadline passed.
static void
s_expire (mcpact_caller_t *self, int64_t now)
{
    deadline_t *next;
    while ((next = deadlines_peek (&self->deadlines)) && next->when <= now) {
        uint64_t id = next->id;
        deadlines_pop (&self->deadlines);
        s_pending_t *pending = (s_pending_t *) idmap_get (&self->pending, id);
        if (!pending || pending->deadline > now)
            continue;
        s_send_cancel (self, pending, (int64_t) id);
        free (s_untrack (self, (int64_t) id));
        s_queue_error (self, (int64_t) id, MCPACT_ERR_TIMEOUT,
                       "no answer from the tool's owner in time");
    }
}

mcpact_result_t *
mcpact_caller_next (mcpact_caller_t *self, int timeout_ms)
{
    if (!self)
        return NULL;
    //  One clock reading per round: a gateway drains its callers with
    //  timeout 0 after each wake-up, where the readings showed in profiles.
    int64_t now = clock_ms ();
    int64_t until = timeout_ms < 0 ? INT64_MAX : now + timeout_ms;
    while (true) {
        if (zlistx_size (self->ready)) {
            mcpact_result_t *result = (mcpact_result_t *) zlistx_first (self->ready);
            zlistx_delete (self->ready, zlistx_cursor (self->ready));
            return result;
        }
        mcpact_result_t *result = s_receive (self);
        if (result)
            return result;
        s_expire (self, now);
        if (self->pending.size && now >= self->check_at) {
            s_check_removed (self);
            self->check_at = now + CALLER_CHECK_MS;
        }
        if (zlistx_size (self->ready))
            continue;
        if (now >= until)
            return NULL;
        int64_t wake = until;
        deadline_t *next = deadlines_peek (&self->deadlines);
        if (next && next->when < wake)
            wake = next->when;
        if (self->pending.size && self->check_at < wake)
            wake = self->check_at;
        long wait = wake == INT64_MAX ? -1 : (long) (wake - now);
        zmq_pollitem_t item = { zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0 };
        //  A quick tool answers within µs: poll a moment before sleeping
        //  (spin.h). A caller waiting counts as busy meanwhile.
        bool busy = self->pending.size > 0 && wait != 0;
        if (busy)
            spin_busy (1);
        int rc = busy ? spin_poll (&item, 1) : 0;
        if (rc == 0)
            rc = zmq_poll (&item, 1, wait);
        if (busy)
            spin_busy (-1);
        if (rc < 0 && errno != EINTR)
            return NULL;
        now = clock_ms ();
    }
}

int64_t
mcpact_caller_send (mcpact_caller_t *self, const char *tool, const char *args_json, int timeout_ms)
{
    return s_call_send (self, tool, args_json, timeout_ms, false);
}

typedef struct {
    int64_t id;
    mcpact_result_t *result;
} s_lane_result_t;

static void
s_lane_result (void *arg, int status, const char *payload, size_t size)
{
    s_lane_result_t *outcome = (s_lane_result_t *) arg;
    outcome->result = s_result_from_wire (outcome->id, status, payload, size);
}

//  A call on the lane of the tool's owner, if we hold one and it is free
//  (lane.h). Returns the result; NULL with *id 0 if the lane could not be
//  used (nothing was sent), or with *id the call's id if it was handed
//  back to the owner, whose RESULT answers it.
static mcpact_result_t *
s_lane_call (mcpact_caller_t *self, const char *tool, const char *args_json, int timeout_ms,
             int64_t wait_us, int64_t *id)
{
    *id = 0;
    if (!tool || self->progress || zlistx_size (self->ready) || self->pending.size)
        return NULL;
    catalog_t *catalog = catalog_slot_get (self->slot);
    const catalog_entry_t *entry = catalog_lookup (catalog, tool);
    s_peer_t *peer = entry ? (s_peer_t *) zhashx_lookup (self->peers, entry->endpoint) : NULL;
    const char *args = args_json ? args_json : "{}";
    size_t args_size = strlen (args);
    //  Arguments with a problem go the actor's way, which says what it is.
    if (!peer || !peer->lane || jsonscan_args_problem (args, args + args_size)) {
        catalog_unref (&catalog);
        return NULL;
    }
    s_lane_result_t outcome = { (int64_t) ++self->next_id, NULL };
    char routing_id[32];
    size_t routing_size = sizeof routing_id - 1;
    zmq_getsockopt (zsock_resolve (self->sock), ZMQ_ROUTING_ID, routing_id, &routing_size);
    routing_id[routing_size] = 0;
    bool wake = false;
    int rc = lane_call (peer->lane, routing_id, (uint64_t) outcome.id, entry->original, args,
                        args_size, timeout_ms, wait_us, s_lane_result, &outcome, &wake);
    if (rc == 0) {
        //  Taken back by its actor: calls go by message until it lends it again.
        self->next_id--;
        lane_unref (&peer->lane);
    } else {
        peer->used = self->next_id;
        if (rc < 0) {
            //  Handed back mid-call: the owner answers it.
            s_track (self, outcome.id, entry->endpoint, timeout_ms > 0 ? timeout_ms : CALLER_MAX_MS,
                     CALLER_GRACE_MS, false);
            s_pending_t *pending = (s_pending_t *) idmap_get (&self->pending, outcome.id);
            if (pending && entry->owner)
                s_copy (pending->server, sizeof pending->server, entry->owner);
            *id = outcome.id;
        }
        if (wake)
            s_send (self, entry->endpoint, "LANE", 0, NULL, 0);
    }
    catalog_unref (&catalog);
    return outcome.result;
}

mcpact_result_t *
caller_call (mcpact_caller_t *self, const char *tool, const char *args_json, int timeout_ms)
{
    int64_t id;
    mcpact_result_t *result = s_lane_call (self, tool, args_json, timeout_ms, -1, &id);
    if (result) {
        result->id = 0;
        return result;
    }
    if (!id)
        id = s_call_send (self, tool, args_json, timeout_ms, true);
    //  The caller is this thread's alone for the call: the only result it
    //  can produce is this call's (answers to earlier, abandoned calls are
    //  dropped on receipt).
    while (!result)
        if (!(result = mcpact_caller_next (self, id > 0 ? -1 : 0)))
            break;
    if (result)
        result->id = 0;
    return result;
}

int64_t
caller_send_lane (mcpact_caller_t *self, const char *tool, const char *args_json, int timeout_ms,
                  int64_t wait_us, mcpact_result_t **result)
{
    *result = NULL;
    if (!self)
        return -1;
    int64_t id;
    *result = s_lane_call (self, tool, args_json, timeout_ms, wait_us, &id);
    if (*result)
        return (*result)->id;
    return id ? id : s_call_send (self, tool, args_json, timeout_ms, true);
}

int
mcpact_caller_fd (mcpact_caller_t *self)
{
    return self ? zsock_fd (self->sock) : -1;
}

size_t
mcpact_caller_pending (mcpact_caller_t *self)
{
    return self ? self->pending.size + zlistx_size (self->ready) : 0;
}
