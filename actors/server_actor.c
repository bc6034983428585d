/*  =========================================================================
    server_actor - one MCP server: its transport and its JSON-RPC client

    See server_actor.h for the messages. The call path is kept lean: a CALL
    becomes one request line built in a reused buffer (the arguments are
    validated by scanning, not parsed), and a response line is scanned for
    its id and raw "result", which is forwarded as it is. Only handshake,
    listing and the server's own requests go through jansson.

    Every state change goes through s_set_state, so the log tells a
    server's story in one place, and the owner is told of each one the
    host sees (STATE, for the host's state callback and the events
    socket). Each call is counted by how it ended, and timed from its
    request to its answer (latency.h), together with the calls made on
    the lane, for the status.
    =========================================================================
*/

#include "server_actor.h"

#include "asks.h"
#include "idmap.h"
#include "spin.h"
#include "jsonrpc.h"
#include "jsonnum.h"
#include "jsonscan.h"
#include "lane.h"
#include "latency.h"
#include "log.h"
#include "pollset.h"
#include "server_requests.h"
#include "transport.h"
#include "wire.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdatomic.h>
#include <time.h>

//  Restart backoff after a ready server dies: doubles up to the maximum,
//  and starts over once a server has stayed up for a minute.
#define RESTART_FIRST_MS 250
#define RESTART_MAX_MS 30000
#define RESTART_RESET_MS 60000
//  list_changed notifications closer than this are folded into one re-list.
#define RELIST_DEBOUNCE_MS 300
//  A server that pages tools/list more often than this is broken.
#define MAX_LIST_PAGES 1000
//  Messages drained from the callers' socket before looking at the rest.
#define DRAIN_BATCH 256

static const char *s_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", NULL };

typedef enum {
    S_CONNECTING, //  transport opened, initialize sent
    S_LISTING,    //  initialized, tools/list pages coming in
    S_READY,      //  serving calls
    S_RESTARTING, //  waiting for the backoff timer to try again
    S_FAILED,     //  could not start; stays so until reloaded
    S_STOPPED     //  $TERM received
} s_state_t;

static const char *s_state_names[] = { "connecting", "listing", "ready",
                                       "restarting", "failed",  "stopped" };

//  The states the host is told of (STATE): connecting and listing are
//  both "starting".
static const char *s_told_names[] = { "starting", "ready", "restarting", "failed", "stopped" };
static const int s_told[] = { 0, 0, 1, 2, 3, 4 };

//  The status's names for mcpact_status_t, as `mcpact call --json` has them.
static const char *s_result_names[CALL_STATUSES] = { "ok",
                                                     "tool_error",
                                                     "unknown_tool",
                                                     "timeout",
                                                     "server_error",
                                                     "protocol_error",
                                                     "bad_arguments",
                                                     "internal_error",
                                                     "cancelled",
                                                     "busy" };

typedef struct {
    zmq_msg_t caller; //  the caller's routing id
    uint64_t call_id; //  the caller's id for the call
    int64_t deadline; //  ms, monotonic; moved on by progress
    int64_t limit;    //  progress never moves the deadline past this
    int timeout_ms;   //  as asked, for the message
    int64_t sent_us;  //  when the request went to the server, µs, monotonic
    bool own_timeout; //  the caller gave it (else the server's call timeout)
    bool progress;    //  the caller wants progress notifications
    bool lane;        //  the caller can take a lane (lane.h)
    bool host_waited; //  its deadline moved while the server waited for the host
} s_call_t;

typedef struct {
    mcpact_server_config_t *config; //  handed over to the actor
    unsigned id;                    //  unique in the process
    asks_t *asks;                   //  the owner's, a reference handed over (or NULL)
} server_actor_args_t;

typedef struct {
    zsock_t *pipe;                  //  DEALER to the owner (and the registry)
    zsock_t *router;                //  callers
    mcpact_server_config_t *config; //  ours
    unsigned id;                    //  server id
    char endpoint[64];              //  where callers find us
    const transport_ops_t *ops;     //  the transport's operations
    void *transport;                //  its state, NULL when down
    s_state_t state;                //  see s_set_state
    int told;                       //  the state the owner was last told (s_told), -1: none
    bool listing;                   //  a tools/list is in progress
    uint64_t next_id;               //  next JSON-RPC request id
    uint64_t init_id;               //  id of the initialize request
    uint64_t list_id;               //  id of the tools/list request
    idmap_t calls;                  //  JSON-RPC id -> s_call_t
    deadlines_t deadlines;          //  call deadlines
    int64_t phase_deadline;         //  connect/list deadline, 0 = none
    int64_t start_ms;               //  when the first start began
    int64_t connect_ms;             //  when the current connect began
    int64_t ready_ms;               //  when it last became ready
    json_t *tools;                  //  allowed tools, as listed
    json_t *listed;                 //  tools of the listing in progress
    json_t *cursors;                //  cursors seen in this listing
    char *error;                    //  why it failed or last died
    char *last_stderr;              //  stderr's end when the last connection was lost
    char *protocol;                 //  negotiated protocol version
    json_t *server_info;            //  serverInfo from initialize
    bool list_changed;              //  server advertised tools.listChanged
    int64_t relist_at;              //  debounced re-list time, 0 = none
    bool reported;                  //  READY/FAILED sent to the owner
    bool ever_ready;                //  it was ready once (else: failing to start)
    int start_tries;                //  start retries used since the last start
    bool nonjson_logged;            //  logged a non-JSON line already
    uint64_t calls_total;           //  calls received
    call_stats_t *stats;            //  how calls ended, how long answers took (from the first)
    uint64_t refused_total;         //  calls refused by the limits
    unsigned restarts;              //  restarts so far
    int backoff_ms;                 //  next restart delay
    int64_t restart_at;             //  restart time, 0 = none
    jsonbuf_t line;                 //  reused request buffer
    zlistx_t *reloads;              //  RELOAD requests waiting (s_call_t *)
    bool in_transport;              //  inside the transport's handle
    char *lost;                     //  loss noticed there, handled after
    char *missing;                  //  allowed tools not listed, last said
    zmq_pollitem_t *items;          //  what the loop polls
    int items_max;                  //  items allocated
    pollset_t poll;                 //  its wait: pipe, router, the transport's
    int64_t busy_us;                //  when a call was last in flight
    bool busy;                      //  counted as busy (spin_busy)
    bool terminated;                //  leave the loop
    bool removed;                   //  its owner removed it (REMOVE): calls say so
    lane_t *lane;                   //  the transport's pipes as a lane, once lent
    bool lent;                      //  the lane is lent (not OWNED)
    s_call_t *grant;                //  a call answered, its RESULT waiting to carry the lane
    int grant_status;               //  that RESULT's status
    jsonbuf_t grant_payload;        //  and payload
    jsonbuf_t replay;               //  lines a lane handed back, to be read here
    server_requests_t *requests;    //  resources, prompts, logging asked for callers
    json_t *capabilities;           //  the server's, from initialize
    char *instructions;             //  the server's instructions, from initialize
    json_t *subscriptions;          //  resource URIs subscribed to -> true
    bool log_skipped;               //  said once that a log message was unusable
    ask_table_t *asks;              //  the server's requests to the host (asks.h)
} self_t;

//  A message to the actor's owner on its pipe (frames: strings). A send
//  may take the wake-up of the pipe's descriptor, so the wait asks the
//  pipe next time (pollset.h).
#define s_pipe_send(self, ...)                                                                     \
    (zstr_sendx ((self)->pipe, __VA_ARGS__, NULL), pollset_touch (&(self)->poll, 0))

static void s_connect (self_t *self);
static void s_on_message (void *owner, const char *text, size_t size);
static void s_lane_back (self_t *self);
static void s_lane_returned (self_t *self);
static void s_flush_grant (self_t *self, bool may_lend);
static void s_after_initialize (self_t *self);
static void s_on_notification (self_t *self, const char *method, json_t *params);
static void s_handle_request (self_t *self, wire_msg_t *msg);
static void s_handle_log_level (self_t *self, wire_msg_t *msg);
static void s_cancel_request (void *arg, uint64_t rpc_id, const char *reason);
static void s_asks_reset (self_t *self, const char *reason);

//  The server's call counters, made with its first call: 1.8 KB that an
//  idle server (of a thousand) does not pay. NULL without memory, which
//  the counting functions take as "not counted".
static call_stats_t *
s_stats (self_t *self)
{
    if (!self->stats)
        self->stats = (call_stats_t *) calloc (1, sizeof (call_stats_t));
    return self->stats;
}

//  Tells the owner the state the host sees, with the reason for a failure
//  or a restart:  STATE server_id {"server","state","reason"?,"time"}.
static void
s_tell_state (self_t *self)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    json_t *event =
        json_pack ("{s:s,s:s,s:I}", "server", self->config->name, "state", s_told_names[self->told],
                   "time", (json_int_t) now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if ((self->state == S_FAILED || self->state == S_RESTARTING) && self->error)
        json_object_set_new (event, "reason", json_string (self->error));
    char *text = json_dumps (event, JSON_COMPACT);
    json_decref (event);
    char id[16];
    snprintf (id, sizeof id, "%u", self->id);
    if (text)
        s_pipe_send (self, "STATE", id, text);
    free (text);
}

static void
s_set_state (self_t *self, s_state_t state)
{
    if (self->state != state)
        log_debug ("server %s: %s -> %s", self->config->name, s_state_names[self->state],
                   s_state_names[state]);
    self->state = state;
    if (self->told != s_told[state]) {
        self->told = s_told[state];
        s_tell_state (self);
    }
}

static void
s_set_error (self_t *self, const char *error)
{
    free (self->error);
    self->error = strdup (error ? error : "unknown error");
}

void
server_actor_endpoint (unsigned id, char *buffer, size_t size)
{
    snprintf (buffer, size, "inproc://mcpact-server-%u", id);
}

//  --------------------------------------------------------------------------
//  Replies to callers

//  A call (or a waiting RELOAD) of `caller`'s, or NULL without memory.
static s_call_t *
s_call_new (zmq_msg_t *caller, uint64_t call_id)
{
    s_call_t *call = (s_call_t *) calloc (1, sizeof (s_call_t));
    if (call) {
        zmq_msg_init (&call->caller);
        zmq_msg_copy (&call->caller, caller);
        call->call_id = call_id;
    }
    return call;
}

static void
s_call_free (s_call_t *call)
{
    zmq_msg_close (&call->caller);
    free (call);
}

//  Answers a call, and counts how it ended (s_reply_error likewise).
static void
s_reply (self_t *self, s_call_t *call, int status, const char *payload, size_t size)
{
    call_stats_result (s_stats (self), status);
    wire_send_result (zsock_resolve (self->router), &call->caller, call->call_id, status, payload,
                      size);
}

static void
s_send_error_v (self_t *self, zmq_msg_t *caller, uint64_t call_id, int status, const char *format,
                va_list args)
{
    char message[1024];
    vsnprintf (message, sizeof message, format, args);
    wire_send_error (zsock_resolve (self->router), caller, call_id, status, message);
}

static void
s_reply_error (self_t *self, zmq_msg_t *caller, uint64_t call_id, int status, const char *format,
               ...)
{
    va_list args;
    va_start (args, format);
    s_send_error_v (self, caller, call_id, status, format, args);
    va_end (args);
    call_stats_result (s_stats (self), status);
}

//  Refuses a request other than tools/call (resources/read, prompts/list,
//  logging/setLevel, ...). Not counted: the status's "calls" and "results"
//  are tool calls only, and a listing sent to a server without that
//  capability is no call of its.
static void
s_refuse_request (self_t *self, zmq_msg_t *caller, uint64_t call_id, int status, const char *format,
                  ...)
{
    va_list args;
    va_start (args, format);
    s_send_error_v (self, caller, call_id, status, format, args);
    va_end (args);
}

typedef struct {
    self_t *self;
    const char *reason;
} s_fail_all_t;

static void
s_fail_one (uint64_t id, void *value, void *arg)
{
    s_fail_all_t *fail = (s_fail_all_t *) arg;
    s_call_t *call = (s_call_t *) value;
    if (fail->self->removed)
        s_reply_error (fail->self, &call->caller, call->call_id, MCPACT_ERR_SERVER,
                       "server %s was removed", fail->self->config->name);
    else
        s_reply_error (fail->self, &call->caller, call->call_id, MCPACT_ERR_SERVER, "server %s: %s",
                       fail->self->config->name, fail->reason);
    s_call_free (call);
}

//  Ends every call in flight with an error: none may hang.
static void
s_fail_all (self_t *self, const char *reason)
{
    s_fail_all_t fail = { self, reason };
    idmap_each (&self->calls, s_fail_one, &fail);
    char message[1024];
    if (self->removed)
        snprintf (message, sizeof message, "server %s was removed", self->config->name);
    else
        snprintf (message, sizeof message, "server %s: %s", self->config->name, reason);
    server_requests_fail_all (self->requests, self->router ? zsock_resolve (self->router) : NULL,
                              message);
    idmap_free (&self->calls);
    idmap_init (&self->calls);
    deadlines_free (&self->deadlines);
    deadlines_init (&self->deadlines);
    deadlines_watch (&self->deadlines, &self->calls);
}

//  Answers every RELOAD waiting for the listing in progress: with {} once
//  the new list is published, or with the reason it failed. (Not calls:
//  not counted.)
static void
s_answer_reloads (self_t *self, const char *failure)
{
    void *router = zsock_resolve (self->router);
    s_call_t *call;
    while ((call = (s_call_t *) zlistx_first (self->reloads))) {
        zlistx_detach_cur (self->reloads);
        if (failure) {
            char message[1024];
            if (self->removed)
                snprintf (message, sizeof message, "server %s was removed", self->config->name);
            else
                snprintf (message, sizeof message, "server %s: %s", self->config->name, failure);
            wire_send_error (router, &call->caller, call->call_id, MCPACT_ERR_SERVER, message);
        } else
            wire_send_result (router, &call->caller, call->call_id, MCPACT_OK, "{}", 2);
        s_call_free (call);
    }
}

//  --------------------------------------------------------------------------
//  Requests to the server

//  Every message to the server goes through here: the pipes must be the
//  actor's to write to. 0, or -1 if the transport cannot take it.
static int
s_transport_send (self_t *self, const char *text, size_t size)
{
    s_lane_back (self);
    return self->transport ? self->ops->send (self->transport, text, size) : -1;
}

//  Sends one JSON-RPC message (the rare path; calls are built by hand).
//  Takes the message.
static void
s_send_json (self_t *self, json_t *message)
{
    char *text = jsonnum_dumps (message, JSON_COMPACT);
    if (text)
        s_transport_send (self, text, strlen (text));
    free (text);
    json_decref (message);
}

static uint64_t
s_request (self_t *self, const char *method, json_t *params)
{
    uint64_t id = ++self->next_id;
    json_t *request =
        json_pack ("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t) id, "method", method);
    if (params)
        json_object_set_new (request, "params", params);
    s_send_json (self, request);
    return id;
}

static void
s_notify (self_t *self, const char *method, json_t *params)
{
    json_t *message = json_pack ("{s:s,s:s}", "jsonrpc", "2.0", "method", method);
    if (params)
        json_object_set_new (message, "params", params);
    s_send_json (self, message);
}

//  Answers the server's request whose id is the raw JSON text [id,
//  id_end): echoed as it came, so that the server finds its own id (a
//  parse and a dump would turn 1e2 into 100.0). Takes result or error.
static void
s_respond (self_t *self, const char *id, const char *id_end, json_t *result, json_t *error)
{
    char *value = jsonnum_dumps (result ? result : error, JSON_COMPACT);
    json_decref (result ? result : error);
    jsonbuf_t *line = &self->line;
    line->size = 0;
    if (value && jsonbuf_append_str (line, "{\"jsonrpc\":\"2.0\",\"id\":") == 0 &&
        jsonbuf_append (line, id, (size_t) (id_end - id)) == 0 &&
        jsonbuf_append_str (line, result ? ",\"result\":" : ",\"error\":") == 0 &&
        jsonbuf_append_str (line, value) == 0 && jsonbuf_append (line, "}", 1) == 0)
        s_transport_send (self, line->data, line->size);
    free (value);
}

static void
s_cancel (self_t *self, uint64_t rpc_id, const char *reason)
{
    s_notify (self, "notifications/cancelled",
              json_pack ("{s:I,s:s}", "requestId", (json_int_t) rpc_id, "reason", reason));
}

//  --------------------------------------------------------------------------
//  Requests from the server to the host (asks.h)

//  Answers one of them (ask_table's respond): result or error, taken.
static void
s_ask_respond (void *arg, const char *id, size_t id_size, json_t *result, json_t *error)
{
    s_respond ((self_t *) arg, id, id + id_size, result, error);
}

//  What initialize offers: roots, sampling, elicitation as the host
//  supplies them and the config allows.
static json_t *
s_capabilities (self_t *self)
{
    return self->asks ? ask_table_capabilities (self->asks, self->config) : json_object ();
}

//  The connection is gone: the host's requests of it end.
static void
s_asks_reset (self_t *self, const char *reason)
{
    if (!self->asks)
        return;
    char why[512];
    snprintf (why, sizeof why, "the server went away: %s", reason);
    ask_table_reset (self->asks, why);
}

//  ANSWER ask_id payload: the host answered one of the server's requests.
//  ROOTS: the owner's roots changed; the server hears of it if it was
//  offered them (and is past initialize).
static void
s_handle_asks (self_t *self, wire_msg_t *msg)
{
    if (!self->asks)
        return;
    if (wire_is (msg, 1, "ANSWER")) {
        if (self->transport)
            ask_table_answer (self->asks, (uint64_t) wire_int (msg, 2, 0), wire_data (msg, 3),
                              wire_size (msg, 3));
    } else if (ask_table_roots_changed (self->asks) && self->transport && !self->init_id)
        s_notify (self, "notifications/roots/list_changed", NULL);
}

//  --------------------------------------------------------------------------
//  Start, failure, restart

static json_t *
s_report (self_t *self)
{
    json_t *report = json_pack (
        "{s:s,s:s,s:s,s:I,s:i}", "name", self->config->name, "transport",
        server_config_transport_name (server_config_transport (self->config)), "state",
        self->state == S_READY ? "ready" : "failed", "ms",
        (json_int_t) (clock_ms () - self->start_ms), "tools", (int) json_array_size (self->tools));
    if (self->state != S_READY && self->error)
        json_object_set_new (report, "error", json_string (self->error));
    return report;
}

static void
s_report_to_owner (self_t *self)
{
    if (self->reported)
        return;
    self->reported = true;
    json_t *report = s_report (self);
    char *text = json_dumps (report, JSON_COMPACT);
    s_pipe_send (self, self->state == S_READY ? "READY" : "FAILED", text);
    free (text);
    json_decref (report);
}

static void
s_stop_transport (self_t *self)
{
    s_lane_back (self);
    if (self->transport)
        self->ops->stop (&self->transport);
    self->listing = false;
    self->init_id = self->list_id = 0;
    self->phase_deadline = 0;
    json_decref (self->listed);
    self->listed = NULL;
}

//  The backoff before the next try, doubled for the one after.
static void
s_try_again (self_t *self)
{
    s_set_state (self, S_RESTARTING);
    self->restart_at = clock_ms () + self->backoff_ms;
    self->backoff_ms =
        self->backoff_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : self->backoff_ms * 2;
}

static void s_publish_tools (self_t *self);

//  The server could not (re)start, or died: fail what is in flight, then
//  give up, try to start it again (start retries) or restart it (it was
//  ready before).
//  Keeps the end of the lost connection's stderr (the status shows it
//  once the transport is gone: a server that fails at start says why
//  there, and only there), and returns `reason` with its last lines, or
//  NULL if it wrote nothing.
static char *
s_keep_stderr (self_t *self, const char *reason)
{
    if (!self->transport)
        return NULL;
    json_t *described = json_object ();
    self->ops->describe (self->transport, described);
    const char *tail = json_string_value (json_object_get (described, "stderr"));
    char *told = NULL;
    if (tail && *tail) {
        free (self->last_stderr);
        self->last_stderr = strdup (tail);
        //  The last lines, at most 3 and 300 bytes, on one line.
        const char *end = tail + strlen (tail);
        while (end > tail && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
            end--;
        const char *from = end;
        for (int lines = 0; from > tail && lines < 3 && end - from < 300; from--)
            if (from[-1] == '\n' && ++lines == 3)
                break;
        if (end - from > 300)
            from = end - 300;
        char last[960];
        size_t size = 0;
        //  A usage text or a stack trace ends far from the line that says
        //  what went wrong: an earlier line that does say it comes first.
        const char *said = NULL, *said_end = NULL;
        static const char *const words[] = { "error", "unknown", "invalid", "not found", "cannot" };
        for (const char *line = tail; line < from;) {
            const char *eol = memchr (line, '\n', (size_t) (from - line));
            eol = eol ? eol : from;
            char copy[200];
            snprintf (copy, sizeof copy, "%.*s", (int) (eol - line), line);
            for (size_t i = 0; i < sizeof words / sizeof *words; i++)
                if (strcasestr (copy, words[i])) {
                    said = line;
                    said_end = eol - line > 150 ? line + 150 : eol;
                }
            line = eol + 1;
        }
        if (said)
            size = (size_t) snprintf (last, sizeof last, "%.*s | ... | ", (int) (said_end - said),
                                      said);
        for (const char *c = from; c < end && size < sizeof last - 4; c++)
            if (*c == '\n')
                size += (size_t) snprintf (last + size, 4, " | ");
            else if (*c != '\r')
                last[size++] = *c;
        last[size] = 0;
        if (asprintf (&told, "%s; its stderr %s: %s", reason, said ? "says" : "ends", last) < 0)
            told = NULL;
    }
    json_decref (described);
    return told;
}

static void
s_lost (self_t *self, const char *reason)
{
    if (self->in_transport) {
        //  Called back from inside the transport (a message it delivered
        //  was fatal): it cannot be stopped under its own feet. Finish
        //  after it returns.
        if (!self->lost)
            self->lost = strdup (reason);
        return;
    }
    s_lane_back (self); //  a call handed back with it fails with the rest
    char *told = s_keep_stderr (self, reason);
    if (told)
        reason = told;
    s_set_error (self, reason);
    s_fail_all (self, reason);
    s_asks_reset (self, reason);
    s_answer_reloads (self, reason);
    s_stop_transport (self);
    if (self->ops && self->ops->withdraw_when_down) {
        //  Withdrawn as a server that is not up ("null"), not as one
        //  with no tools: a call to one of them is then told which
        //  server is away, rather than that no such tool exists.
        json_array_clear (self->tools);
        char id[16];
        snprintf (id, sizeof id, "%u", self->id);
        s_pipe_send (self, "TOOLS", id, self->config->name, self->endpoint, "null");
    }
    if (!self->ever_ready) {
        //  The start report says failed at once; retries go on after it.
        s_set_state (self, S_FAILED);
        s_report_to_owner (self);
        if (self->start_tries < self->config->start_retries) {
            self->start_tries++;
            log_warn ("server %s failed to start: %s; trying again in %d ms (retry %d of %d)",
                      self->config->name, reason, self->backoff_ms, self->start_tries,
                      self->config->start_retries);
            s_try_again (self);
        } else
            log_warn ("server %s failed to start: %s", self->config->name, reason);
        free (told);
        return;
    }
    if (self->ready_ms && clock_ms () - self->ready_ms > RESTART_RESET_MS)
        self->backoff_ms = RESTART_FIRST_MS;
    log_warn ("server %s: %s; restarting in %d ms", self->config->name, reason, self->backoff_ms);
    s_try_again (self);
    free (told);
}

static void
s_connect (self_t *self)
{
    self->connect_ms = clock_ms ();
    self->restart_at = 0;
    //  Each try is told as starting, also one that fails at once.
    s_set_state (self, S_CONNECTING);
    if (self->config->error) {
        s_lost (self, self->config->error);
        return;
    }
    mcpact_transport_t transport = server_config_transport (self->config);
    self->ops = transport == MCPACT_TRANSPORT_STDIO   ? &transport_stdio
                : transport == MCPACT_TRANSPORT_GROUP ? &transport_group
                                                      : &transport_http;
    char *error = NULL;
    self->transport = self->ops->open (self->config, &error);
    if (!self->transport) {
        s_lost (self, error ? error : "cannot open the transport");
        free (error);
        return;
    }
    self->phase_deadline = self->connect_ms + self->config->connect_ms;
    //  Ask at once: the child reads it as soon as it is up.
    self->init_id =
        s_request (self, "initialize",
                   json_pack ("{s:s,s:o,s:{s:s,s:s}}", "protocolVersion", MCPACT_PROTOCOL_VERSION,
                              "capabilities", s_capabilities (self), "clientInfo", "name", "mcpact",
                              "version", "0.1.0"));
}

static void
s_list_page (self_t *self, const char *cursor)
{
    self->listing = true;
    self->list_id =
        s_request (self, "tools/list", cursor ? json_pack ("{s:s}", "cursor", cursor) : NULL);
    self->phase_deadline = clock_ms () + self->config->list_ms;
}

static void
s_start_listing (self_t *self)
{
    json_decref (self->listed);
    json_decref (self->cursors);
    self->listed = json_array ();
    self->cursors = json_object ();
    s_list_page (self, NULL);
}

static void
s_publish_tools (self_t *self)
{
    char *text = json_dumps (self->tools, JSON_COMPACT);
    char id[16];
    snprintf (id, sizeof id, "%u", self->id);
    s_pipe_send (self, "TOOLS", id, self->config->name, self->endpoint, text);
    free (text);
}

//  --------------------------------------------------------------------------
//  Messages from the server

//  A JSON-RPC error as a reader wants it: its message, then its code.
static char *
s_error_text (json_t *error)
{
    const char *message = json_string_value (json_object_get (error, "message"));
    json_t *code = json_object_get (error, "code");
    char *text = NULL;
    if (message && json_is_integer (code)) {
        if (asprintf (&text, "%s (error %" JSON_INTEGER_FORMAT ")", message,
                      json_integer_value (code)) < 0)
            text = NULL;
    } else if (message)
        text = strdup (message); //  made here, not by the server: it has no code
    return text ? text : json_dumps (error, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void
s_on_initialize (self_t *self, json_t *result, json_t *error)
{
    self->init_id = 0;
    if (error || !json_is_object (result)) {
        char *text = error ? s_error_text (error) : NULL;
        char reason[512];
        snprintf (reason, sizeof reason, "initialize failed: %s",
                  text ? text : "the result is not an object");
        free (text);
        s_lost (self, reason);
        return;
    }
    const char *version = json_string_value (json_object_get (result, "protocolVersion"));
    bool known = false;
    for (const char **v = s_versions; *v && version; v++)
        known |= strcmp (*v, version) == 0;
    if (!known) {
        char reason[256];
        snprintf (reason, sizeof reason,
                  "the server speaks MCP protocol version %s, which this client does not "
                  "support (supported: 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05)",
                  version ? version : "(none given)");
        s_lost (self, reason);
        return;
    }
    free (self->protocol);
    self->protocol = strdup (version);
    json_decref (self->server_info);
    self->server_info = json_incref (json_object_get (result, "serverInfo"));
    json_t *tools = json_object_get (json_object_get (result, "capabilities"), "tools");
    self->list_changed = json_is_true (json_object_get (tools, "listChanged"));
    json_decref (self->capabilities);
    self->capabilities = json_incref (json_object_get (result, "capabilities"));
    free (self->instructions);
    const char *instructions = json_string_value (json_object_get (result, "instructions"));
    self->instructions = instructions ? strdup (instructions) : NULL;
    s_notify (self, "notifications/initialized", NULL);
    s_after_initialize (self);
    if (self->state == S_CONNECTING)
        s_set_state (self, S_LISTING);
    s_start_listing (self);
}

//  An allow-list that names a tool the server does not have is a typo or
//  a renamed tool (read_file became read_text_file): say so, once per
//  difference, rather than serve fewer tools in silence.
static void
s_check_allowed (self_t *self, json_t *listed)
{
    jsonbuf_t missing = { 0 };
    for (size_t i = 0; i < self->config->allowed_count; i++) {
        const char *name = self->config->allowed[i];
        bool found = false;
        size_t index;
        json_t *tool;
        json_array_foreach (listed, index, tool)
            found |= strcmp (json_string_value (json_object_get (tool, "name")), name) == 0;
        if (!found) {
            jsonbuf_append_str (&missing, missing.size ? ", " : "");
            jsonbuf_append_str (&missing, name);
        }
    }
    if (missing.size && (!self->missing || strcmp (self->missing, missing.data) != 0))
        log_warn ("server %s: allowedTools names tools the server does not list: %s",
                  self->config->name, missing.data);
    free (self->missing);
    self->missing = missing.data;
}

static void
s_on_list (self_t *self, json_t *result, json_t *error)
{
    self->list_id = 0;
    json_t *tools = json_object_get (result, "tools");
    if (error || !json_is_array (tools)) {
        char *text = error ? s_error_text (error) : NULL;
        char reason[512];
        snprintf (reason, sizeof reason, "tools/list failed: %s",
                  text ? text : "the result has no tools array");
        free (text);
        if (self->state == S_READY) {
            //  A failed re-list keeps the tools we have.
            log_warn ("server %s: %s", self->config->name, reason);
            self->listing = false;
            self->phase_deadline = 0;
            s_answer_reloads (self, reason);
        } else
            s_lost (self, reason);
        return;
    }
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        //  One tool that cannot be used costs that tool, not the server.
        const char *name = json_string_value (json_object_get (tool, "name"));
        json_t *schema = json_object_get (tool, "inputSchema");
        if (!name || !*name) {
            json_t *value = json_object_get (tool, "name");
            log_warn (
                "server %s: tools/list: skipped tool %zu of the page: %s%s", self->config->name,
                index, !json_is_object (tool) ? "it is not an object, but " : "",
                !json_is_object (tool) ? jsonscan_kind (tool)
                : value
                    ? (json_is_string (value) ? "its name is empty" : "its name is not a string")
                    : "it has no name");
            continue;
        }
        if (schema && !json_is_object (schema)) {
            log_warn ("server %s: tools/list: skipped tool %s: its inputSchema is %s, not an "
                      "object",
                      self->config->name, name, jsonscan_kind (schema));
            continue;
        }
        if (server_config_allows (self->config, name))
            json_array_append (self->listed, tool);
    }
    //  An empty cursor ends the listing too, as it does for the official
    //  SDK clients; a cursor that is not a string cannot be sent back.
    json_t *next = json_object_get (result, "nextCursor");
    const char *cursor = json_string_value (next);
    if (next && !json_is_null (next) && !cursor)
        log_warn ("server %s: tools/list: nextCursor is %s, not a string; the listing ends at "
                  "this page",
                  self->config->name, jsonscan_kind (next));
    if (cursor && !*cursor)
        cursor = NULL;
    if (cursor) {
        if (json_object_get (self->cursors, cursor) ||
            json_object_size (self->cursors) >= MAX_LIST_PAGES) {
            char reason[512];
            snprintf (reason, sizeof reason,
                      "tools/list pagination does not end (cursor \"%s\" came back)",
                      TEXT_CUT (cursor, 100));
            if (self->state == S_READY) {
                log_warn ("server %s: %s", self->config->name, reason);
                self->listing = false;
                self->phase_deadline = 0;
                s_answer_reloads (self, reason);
            } else
                s_lost (self, reason);
            return;
        }
        json_object_set_new (self->cursors, cursor, json_true ());
        s_list_page (self, cursor);
        return;
    }
    //  Listing complete: swap in the new list and tell the registry.
    s_check_allowed (self, self->listed);
    json_decref (self->tools);
    self->tools = self->listed;
    self->listed = NULL;
    self->listing = false;
    self->phase_deadline = 0;
    s_publish_tools (self);
    s_answer_reloads (self, NULL);
    if (self->state != S_READY) {
        s_set_state (self, S_READY);
        self->ever_ready = true;
        self->start_tries = 0;
        self->backoff_ms = RESTART_FIRST_MS;
        self->ready_ms = clock_ms ();
        log_info ("server %s: ready with %zu tools in %" PRId64 " ms", self->config->name,
                  json_array_size (self->tools), self->ready_ms - self->connect_ms);
        s_report_to_owner (self);
    }
}

//  A request or notification from the server (the rare path: parsed).
static void
s_on_server_message (self_t *self, const jsonrpc_msg_t *msg)
{
    json_error_t parse_error;
    json_t *message = json_loadb (msg->text, msg->size, 0, &parse_error);
    const char *method = json_string_value (json_object_get (message, "method"));
    bool request = msg->kind == JSONRPC_REQUEST;
    if (!method)
        ;
    else if (request && strcmp (method, "ping") == 0)
        s_respond (self, msg->id, msg->id_end, json_object (), NULL);
    else if (request && self->asks &&
             ask_table_request (self->asks, method, json_object_get (message, "params"), msg->id,
                                (size_t) (msg->id_end - msg->id)))
        ; //  roots/list, sampling, elicitation: answered now or by the host
    else if (request) {
        char text_error[256];
        snprintf (text_error, sizeof text_error, "method not found: %s", method);
        s_respond (self, msg->id, msg->id_end, NULL,
                   json_pack ("{s:i,s:s}", "code", -32601, "message", text_error));
    } else if (strcmp (method, "notifications/cancelled") == 0) {
        if (self->asks)
            ask_table_cancelled (self->asks, json_object_get (message, "params"));
    } else if (strcmp (method, "notifications/tools/list_changed") == 0) {
        if (self->list_changed && !self->relist_at)
            self->relist_at = clock_ms () + RELIST_DEBOUNCE_MS;
    } else if (strcmp (method, "notifications/progress") == 0) {
        json_t *params = json_object_get (message, "params");
        //  Our token is the call's request id: a number, or (as servers
        //  echo it) the same digits as a string
        json_t *token = json_object_get (params, "progressToken");
        const char *digits = json_string_value (token);
        uint64_t token_id = 0;
        bool ours = false;
        if (json_is_integer (token) && json_integer_value (token) > 0) {
            token_id = (uint64_t) json_integer_value (token);
            ours = true;
        } else if (digits)
            ours = jsonscan_id (digits, digits + strlen (digits), &token_id);
        s_call_t *call = ours ? (s_call_t *) idmap_get (&self->calls, token_id) : NULL;
        if (call && call->progress) {
            //  Progress is a sign of life: the call may take its timeout
            //  again from now, up to its hard limit.
            int64_t deadline = clock_ms () + call->timeout_ms;
            call->deadline = deadline < call->limit ? deadline : call->limit;
            char *text = json_dumps (params, JSON_COMPACT);
            char id[24];
            snprintf (id, sizeof id, "%" PRIu64, call->call_id);
            void *router = zsock_resolve (self->router);
            zmq_send (router, zmq_msg_data (&call->caller), zmq_msg_size (&call->caller),
                      ZMQ_SNDMORE);
            zmq_send (router, "PROGRESS", 8, ZMQ_SNDMORE);
            zmq_send (router, id, strlen (id), ZMQ_SNDMORE);
            zmq_send (router, text ? text : "{}", text ? strlen (text) : 2, 0);
            free (text);
        }
    } else
        s_on_notification (self, method, json_object_get (message, "params"));
    json_decref (message);
}

static void
s_on_internal_response (self_t *self, uint64_t id, const char *text, size_t size)
{
    json_error_t parse_error;
    json_t *message = json_loadb (text, size, 0, &parse_error);
    json_t *result = json_object_get (message, "result");
    json_t *error = json_object_get (message, "error");
    if (id == self->init_id)
        s_on_initialize (self, result, error);
    else
        s_on_list (self, result, error);
    json_decref (message);
}

//  Says (once at warning level, then at debug) that a message was skipped.
static void
s_skip (self_t *self, const char *why, const char *text, size_t size)
{
    if (!self->nonjson_logged)
        log_warn ("server %s: skipped a message that %s: %.*s%s (further ones are logged at debug "
                  "level)",
                  self->config->name, why, LOG_CUT (size, 80), text, size > 80 ? "..." : "");
    else
        log_debug ("server %s: skipped a message that %s: %.*s%s", self->config->name, why,
                   LOG_CUT (size, 200), text, size > 200 ? "..." : "");
    self->nonjson_logged = true;
}

//  One message from the server, read by jsonrpc_read.

//  A call's error from a transport that passes the peer's own status
//  (status_in_error, server_peer_status) is the call's status here, with
//  the error's message after the server's name. Returns true if the call
//  was answered so.
static bool
s_reply_peer_status (self_t *self, s_call_t *call, const char *payload, size_t size)
{
    char *message = NULL;
    int status =
        self->ops && self->ops->status_in_error ? server_peer_status (payload, size, &message) : -1;
    if (status >= 0)
        s_reply_error (self, &call->caller, call->call_id, status, "server %s: %s",
                       self->config->name, message);
    free (message);
    return status >= 0;
}

static void
s_on_rpc (void *arg, const jsonrpc_msg_t *msg)
{
    self_t *self = (self_t *) arg;
    const char *text = msg->text;
    size_t size = msg->size;
    if (msg->kind == JSONRPC_INVALID) {
        s_skip (self, "is not JSON-RPC", text, size);
        return;
    }
    if (msg->kind == JSONRPC_REQUEST || msg->kind == JSONRPC_NOTIFICATION) {
        s_on_server_message (self, msg);
        return;
    }
    if (msg->kind == JSONRPC_EMPTY) {
        //  Some servers answer a notification with an empty result.
        log_debug ("server %s: ignored a message without id or method: %.*s", self->config->name,
                   LOG_CUT (size, 120), text);
        return;
    }
    uint64_t id;
    if (!jsonscan_id (msg->id, msg->id_end, &id)) {
        log_warn ("server %s: a response with an id we never sent: %.*s", self->config->name,
                  LOG_CUT (size, 120), text);
        return;
    }
    if (id && (id == self->init_id || id == self->list_id)) {
        s_on_internal_response (self, id, text, size);
        return;
    }
    if (server_requests_answer (self->requests, zsock_resolve (self->router), id, msg,
                                self->ops && self->ops->status_in_error))
        return;
    s_call_t *call = (s_call_t *) idmap_take (&self->calls, id);
    if (!call) {
        //  A late answer to a call that timed out or was cancelled.
        log_debug ("server %s: dropped a late response to request %" PRIu64, self->config->name,
                   id);
        return;
    }
    call_stats_latency (s_stats (self), clock_us () - call->sent_us);
    const char *payload;
    size_t payload_size;
    int status = jsonrpc_call_outcome (msg, &payload, &payload_size);
    if (status == MCPACT_ERR_PROTOCOL && s_reply_peer_status (self, call, payload, payload_size)) {
        s_call_free (call);
        return;
    }
    if (status >= 0 && call->lane && self->calls.size == 0) {
        //  Answered after the transport's round, with the lane if it
        //  can be lent then (s_flush_grant).
        s_flush_grant (self, false);
        self->grant_payload.size = 0;
        if (jsonbuf_append (&self->grant_payload, payload, payload_size) == 0) {
            call_stats_result (s_stats (self), status);
            self->grant = call;
            self->grant_status = status;
            return;
        }
        s_reply (self, call, status, payload, payload_size);
    } else if (status >= 0)
        s_reply (self, call, status, payload, payload_size);
    else
        s_reply_error (self, &call->caller, call->call_id, MCPACT_ERR_PROTOCOL,
                       "server %s: a response with neither result nor error", self->config->name);
    s_call_free (call);
}

//  Every message a server sends comes in here, whatever its transport:
//  a line of stdio, an HTTP body, an SSE event's data. The text is only
//  valid during the call.
static void
s_on_message (void *owner, const char *text, size_t size)
{
    self_t *self = (self_t *) owner;
    if (self->lost)
        return; //  the server is being given up; the rest is moot
    jsonrpc_read (text, size, s_on_rpc, self);
}

//  --------------------------------------------------------------------------
//  The lane: the pipes lent to a host thread (lane.h)

//  Takes the lane back if it is lent: adopts the call handed back with
//  it, and keeps the lines it read for s_replay.
static void
s_lane_back (self_t *self)
{
    if (!self->lent)
        return;
    lane_take_back (self->lane, -1);
    s_lane_returned (self);
}

static void
s_lane_returned (self_t *self)
{
    lane_t *lane = self->lane;
    self->lent = false;
    self->ops->take_back (self->transport, lane);
    self->next_id = lane->next_id;
    if (lane->handed) {
        lane->handed = false;
        zmq_msg_t caller;
        zmq_msg_init_size (&caller, strlen (lane->caller));
        memcpy (zmq_msg_data (&caller), lane->caller, strlen (lane->caller));
        s_call_t *call = s_call_new (&caller, lane->call_id);
        zmq_msg_close (&caller);
        if (call) {
            call->timeout_ms = lane->timeout_ms > 0 ? lane->timeout_ms : self->config->call_ms;
            call->own_timeout = lane->timeout_ms > 0;
            call->deadline = lane->deadline;
            //  The hard limit as s_call gives one (the lane's deadline is
            //  its start plus its timeout), so that waiting for the host
            //  may move the deadline on (s_host_waits).
            int extra = self->config->max_call_ms - call->timeout_ms;
            call->limit = lane->deadline + (extra > 0 ? extra : 0);
            call->sent_us = lane->sent_us;
            idmap_put (&self->calls, lane->rpc_id, call);
            deadlines_push (&self->deadlines, call->deadline, lane->rpc_id);
        }
    }
    if (lane->returned.size) {
        jsonbuf_append (&self->replay, lane->returned.data, lane->returned.size);
        lane->returned.size = 0;
    }
}

//  Reads the lines a lane handed back, as if they came now.
static void
s_replay (self_t *self)
{
    if (!self->replay.size)
        return;
    jsonbuf_t lines = self->replay;
    self->replay = (jsonbuf_t){ 0 };
    for (size_t at = 0; at < lines.size;) {
        char *end = (char *) memchr (lines.data + at, '\n', lines.size - at);
        size_t size = (size_t) (end - (lines.data + at));
        s_on_message (self, lines.data + at, size);
        at += size + 1;
    }
    jsonbuf_free (&lines);
}

//  Sends the RESULT held back by s_on_rpc, and with it the lane, if the
//  caller can take one and nothing else is going on here: no other call
//  in flight, no listing or reload, nothing queued for the server.
static void
s_flush_grant (self_t *self, bool may_lend)
{
    s_call_t *call = self->grant;
    if (!call)
        return;
    self->grant = NULL;
    bool lend = may_lend && self->state == S_READY && self->calls.size == 0 && !self->listing &&
                !self->relist_at && zlistx_size (self->reloads) == 0 && !self->lent &&
                self->transport && self->ops->lend;
    if (lend && !self->lane)
        self->lane = lane_new (self->config->name);
    if (lend && self->lane && (self->lane->stats = s_stats (self)) &&
        self->ops->lend (self->transport, self->lane, self->next_id, self->config->call_ms) == 0) {
        self->lent = true;
        char grant[32];
        snprintf (grant, sizeof grant, "%p", (void *) lane_ref (self->lane));
        actor_handoff_release (self->lane); //  the pointer goes inside a message
        if (wire_send_result_with (zsock_resolve (self->router), &call->caller, call->call_id,
                                   self->grant_status, self->grant_payload.data,
                                   self->grant_payload.size, grant) != 0) {
            //  The caller is gone: nobody took the lane.
            lane_t *lane = self->lane;
            lane_unref (&lane);
            s_lane_back (self);
        }
    } else
        wire_send_result (zsock_resolve (self->router), &call->caller, call->call_id,
                          self->grant_status, self->grant_payload.data, self->grant_payload.size);
    s_call_free (call);
}

//  --------------------------------------------------------------------------
//  Messages from callers

static void
s_handle_call (self_t *self, wire_msg_t *msg)
{
    //  [caller] CALL call_id tool args timeout_ms
    zmq_msg_t *caller = &msg->parts[0];
    uint64_t call_id = (uint64_t) wire_int (msg, 2, 0);
    self->calls_total++;
    if (self->state != S_READY) {
        s_reply_error (self, caller, call_id, MCPACT_ERR_SERVER, "server %s is %s%s%s",
                       self->config->name, s_state_names[self->state], self->error ? ": " : "",
                       self->error ? self->error : "");
        return;
    }
    char tool[256];
    size_t tool_size = wire_size (msg, 3);
    if (tool_size == 0 || tool_size >= sizeof tool) {
        s_reply_error (self, caller, call_id, MCPACT_ERR_UNKNOWN_TOOL, "bad tool name");
        return;
    }
    memcpy (tool, wire_data (msg, 3), tool_size);
    tool[tool_size] = 0;
    if (!server_config_allows (self->config, tool)) {
        s_reply_error (self, caller, call_id, MCPACT_ERR_UNKNOWN_TOOL,
                       "server %s: tool %s is not allowed", self->config->name, tool);
        return;
    }
    const char *args = wire_data (msg, 4);
    size_t args_size = wire_size (msg, 4);
    if (args_size == 0)
        args = "{}", args_size = 2;
    //  What the server holds of our memory is bounded: beyond the limits
    //  a call is refused now, not queued without end.
    if (self->calls.size >= (size_t) self->config->max_in_flight) {
        self->refused_total++;
        s_reply_error (self, caller, call_id, MCPACT_ERR_BUSY,
                       "server %s: %zu calls are in flight, the limit (\"limits\": "
                       "{\"inFlight\": n} raises it); the call was not sent",
                       self->config->name, self->calls.size);
        return;
    }
    int64_t stalled_ms = 0;
    size_t queued = self->ops->queued ? self->ops->queued (self->transport, &stalled_ms) : 0;
    if (queued && queued + args_size > self->config->max_queued) {
        self->refused_total++;
        char stalled[64] = "";
        if (stalled_ms > 0)
            snprintf (stalled, sizeof stalled, " (it has taken none for %" PRId64 " ms)",
                      stalled_ms);
        s_reply_error (self, caller, call_id, MCPACT_ERR_BUSY,
                       "server %s: %zu bytes of requests wait for the server%s, and this call's "
                       "%zu would pass the limit of %zu (\"limits\": {\"queuedBytes\": n}); "
                       "the call was not sent",
                       self->config->name, queued, stalled, args_size, self->config->max_queued);
        return;
    }
    const char *problem = jsonscan_args_problem (args, args + args_size);
    if (problem) {
        s_reply_error (self, caller, call_id, MCPACT_ERR_ARGS, "the arguments of %s %s", tool,
                       problem);
        return;
    }
    int timeout_ms = (int) wire_int (msg, 5, 0);
    bool own_timeout = timeout_ms > 0;
    if (!own_timeout)
        timeout_ms = self->config->call_ms;
    bool progress = wire_is (msg, 6, "progress");

    s_call_t *call = s_call_new (caller, call_id);
    if (!call) {
        s_reply_error (self, caller, call_id, MCPACT_ERR_INTERNAL, "out of memory");
        return;
    }
    uint64_t rpc_id = ++self->next_id;
    call->timeout_ms = timeout_ms;
    call->own_timeout = own_timeout;
    call->deadline = clock_ms () + timeout_ms;
    call->limit = clock_ms () +
                  (timeout_ms > self->config->max_call_ms ? timeout_ms : self->config->max_call_ms);
    call->progress = progress;
    call->lane = wire_is (msg, 6, "lane");

    jsonbuf_t *line = &self->line;
    if (jsonrpc_call_request (line, rpc_id, tool, args, args_size, progress)) {
        s_reply_error (self, caller, call_id, MCPACT_ERR_INTERNAL, "out of memory");
        s_call_free (call);
        return;
    }
    call->sent_us = clock_us ();
    if (s_transport_send (self, line->data, line->size)) {
        s_reply_error (self, caller, call_id, MCPACT_ERR_SERVER, "server %s: cannot send: %s",
                       self->config->name,
                       self->ops->error (self->transport) ?: "transport closed");
        s_call_free (call);
        return;
    }
    idmap_put (&self->calls, rpc_id, call);
    deadlines_push (&self->deadlines, call->deadline, rpc_id);
}

typedef struct {
    uint64_t call_id;
    uint64_t rpc_id;
    zmq_msg_t *caller;
} s_find_t;

static void
s_find_call (uint64_t id, void *value, void *arg)
{
    s_find_t *find = (s_find_t *) arg;
    s_call_t *call = (s_call_t *) value;
    if (call->call_id == find->call_id &&
        zmq_msg_size (&call->caller) == zmq_msg_size (find->caller) &&
        memcmp (zmq_msg_data (&call->caller), zmq_msg_data (find->caller),
                zmq_msg_size (find->caller)) == 0)
        find->rpc_id = id;
}

static void
s_handle_cancel (self_t *self, wire_msg_t *msg)
{
    //  [caller] CANCEL call_id
    s_find_t find = { (uint64_t) wire_int (msg, 2, 0), 0, &msg->parts[0] };
    idmap_each (&self->calls, s_find_call, &find);
    s_call_t *call = find.rpc_id ? (s_call_t *) idmap_take (&self->calls, find.rpc_id) : NULL;
    if (!call)
        return;
    s_cancel (self, find.rpc_id, "cancelled by the client");
    s_reply_error (self, &call->caller, call->call_id, MCPACT_ERR_CANCELLED,
                   "server %s: call cancelled", self->config->name);
    s_call_free (call);
}

static void
s_handle_reload (self_t *self, wire_msg_t *msg)
{
    //  [caller] RELOAD call_id  ->  RESULT call_id 0 {} once listed again,
    //  or RESULT call_id 4 {"message"} with why it could not be
    uint64_t call_id = (uint64_t) wire_int (msg, 2, 0);
    s_call_t *call = s_call_new (&msg->parts[0], call_id);
    if (!call) {
        s_reply_error (self, &msg->parts[0], call_id, MCPACT_ERR_INTERNAL, "out of memory");
        return;
    }
    zlistx_add_end (self->reloads, call);
    if (self->state == S_READY && !self->listing) {
        self->relist_at = 0;
        s_start_listing (self);
    } else if (self->state == S_FAILED || self->state == S_RESTARTING) {
        //  Down: try now, not at the next backoff, and with its start
        //  retries anew. Answered when it is listed or fails again.
        log_info ("server %s: reloaded while %s; starting it again", self->config->name,
                  s_state_names[self->state]);
        if (self->ever_ready)
            self->restarts++;
        self->start_tries = 0;
        self->backoff_ms = RESTART_FIRST_MS;
        s_connect (self);
    }
    //  Connecting or listing already: answered when that ends.
}

//  --------------------------------------------------------------------------
//  Resources, prompts, logging: requests for callers (server_requests.h)
//  and what the server tells of them (NOTIFY to the owner)

//  Tells the owner of a server notification the host may want:
//  NOTIFY server_id event json, with json {"server", ..., "time"}. Takes
//  `event_json`.
static void
s_tell_owner (self_t *self, const char *event, json_t *event_json)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    json_object_set_new (event_json, "server", json_string (self->config->name));
    json_object_set_new (event_json, "time",
                         json_integer ((json_int_t) now.tv_sec * 1000 + now.tv_nsec / 1000000));
    char *text = json_dumps (event_json, JSON_COMPACT);
    json_decref (event_json);
    char id[16];
    snprintf (id, sizeof id, "%u", self->id);
    if (text)
        s_pipe_send (self, "NOTIFY", id, event, text);
    free (text);
}

//  The actor's own request (no caller): its answer is only logged.
static void
s_own_request (self_t *self, const char *method, json_t *params)
{
    uint64_t rpc_id = ++self->next_id;
    if (server_requests_line (&self->line, rpc_id, method, params) == 0 &&
        s_transport_send (self, self->line.data, self->line.size) == 0)
        server_requests_add (self->requests, NULL, 0, rpc_id, self->config->call_ms, false, method);
    json_decref (params);
}

//  Once initialized: the logging level and the resource subscriptions the
//  host asked for, again after each restart (a new process knows neither).
static void
s_after_initialize (self_t *self)
{
    if (self->config->log_level && server_requests_declared (self->capabilities, "logging"))
        s_own_request (self, "logging/setLevel",
                       json_pack ("{s:s}", "level", self->config->log_level));
    if (json_object_size (self->subscriptions) &&
        server_requests_declared (self->capabilities, "resources.subscribe")) {
        const char *uri;
        json_t *value;
        json_object_foreach (self->subscriptions, uri, value)
            s_own_request (self, "resources/subscribe", json_pack ("{s:s}", "uri", uri));
    }
}

//  Says once at warning level (then at debug) that a notification was
//  unusable.
static void
s_skip_notification (self_t *self, const char *method, const char *why)
{
    if (!self->log_skipped)
        log_warn ("server %s: skipped a %s: %s (further ones are logged at debug level)",
                  self->config->name, method, why);
    else
        log_debug ("server %s: skipped a %s: %s", self->config->name, method, why);
    self->log_skipped = true;
}

static void
s_on_notification (self_t *self, const char *method, json_t *params)
{
    if (strcmp (method, "notifications/message") == 0) {
        const char *level = json_string_value (json_object_get (params, "level"));
        json_t *logger = json_object_get (params, "logger");
        json_t *data = json_object_get (params, "data");
        if (server_log_rank (level) < 0 || !data || (logger && !json_is_string (logger))) {
            s_skip_notification (self, method,
                                 !json_is_object (params)      ? "its params are not an object"
                                 : server_log_rank (level) < 0 ? "its level is not an MCP level"
                                 : !data                       ? "it has no data"
                                                               : "its logger is not a string");
            return;
        }
        //  A server that does not heed logging/setLevel still does not get
        //  past it.
        if (self->config->log_level &&
            server_log_rank (level) < server_log_rank (self->config->log_level))
            return;
        char *text = json_dumps (data, JSON_COMPACT | JSON_ENCODE_ANY);
        log_debug ("server %s: %s: %s", self->config->name, level, text ? text : "");
        free (text);
        json_t *event = json_pack ("{s:s,s:O}", "level", level, "data", data);
        if (logger)
            json_object_set (event, "logger", logger);
        s_tell_owner (self, "SERVER_LOG", event);
    } else if (strcmp (method, "notifications/resources/updated") == 0) {
        const char *uri = json_string_value (json_object_get (params, "uri"));
        if (!uri)
            s_skip_notification (self, method, "it has no uri");
        else
            s_tell_owner (self, "RESOURCE_UPDATED", json_pack ("{s:s}", "uri", uri));
    } else if (strcmp (method, "notifications/resources/list_changed") == 0)
        s_tell_owner (self, "RESOURCES_CHANGED", json_object ());
    else if (strcmp (method, "notifications/prompts/list_changed") == 0)
        s_tell_owner (self, "PROMPTS_CHANGED", json_object ());
}

static void
s_cancel_request (void *arg, uint64_t rpc_id, const char *reason)
{
    s_cancel ((self_t *) arg, rpc_id, reason);
}

//  Sends `method` for a caller and keeps it until answered (the answer is
//  forwarded by s_on_rpc). Takes params.
static void
s_send_request (self_t *self, zmq_msg_t *caller, uint64_t call_id, const char *method,
                json_t *params, int timeout_ms)
{
    bool own_timeout = timeout_ms > 0;
    if (!own_timeout)
        timeout_ms = self->config->call_ms;
    uint64_t rpc_id = ++self->next_id;
    int rc = server_requests_line (&self->line, rpc_id, method, params);
    json_decref (params);
    if (rc) {
        s_refuse_request (self, caller, call_id, MCPACT_ERR_INTERNAL, "out of memory");
        return;
    }
    if (s_transport_send (self, self->line.data, self->line.size)) {
        s_refuse_request (self, caller, call_id, MCPACT_ERR_SERVER, "server %s: cannot send: %s",
                          self->config->name,
                          self->ops->error (self->transport) ?: "transport closed");
        return;
    }
    if (server_requests_add (self->requests, caller, call_id, rpc_id, timeout_ms, own_timeout,
                             method))
        s_refuse_request (self, caller, call_id, MCPACT_ERR_INTERNAL, "out of memory");
}

static void
s_handle_request (self_t *self, wire_msg_t *msg)
{
    //  [caller] REQUEST call_id method params_json timeout_ms
    zmq_msg_t *caller = &msg->parts[0];
    uint64_t call_id = (uint64_t) wire_int (msg, 2, 0);
    char *method = wire_strdup (msg, 3);
    const char *capability = NULL;
    json_error_t error;
    //  Parsed here, not in the test below: json_is_object evaluates its
    //  argument twice.
    json_t *params =
        wire_size (msg, 4) ? json_loadb (wire_data (msg, 4), wire_size (msg, 4), 0, &error) : NULL;
    if (!method || server_requests_method (method, &capability) != 0)
        s_refuse_request (self, caller, call_id, MCPACT_ERR_ARGS,
                          "%s is not a method mcpact sends on request",
                          method && *method ? method : "(none)");
    else if (self->state != S_READY)
        s_refuse_request (self, caller, call_id, MCPACT_ERR_SERVER, "server %s is %s%s%s",
                          self->config->name, s_state_names[self->state], self->error ? ": " : "",
                          self->error ? self->error : "");
    else if (!server_requests_declared (self->capabilities, capability))
        s_refuse_request (self, caller, call_id, MCPACT_ERR_UNKNOWN_TOOL,
                          "server %s does not offer %s (its capabilities have no %s)",
                          self->config->name, method, capability);
    else if (wire_size (msg, 4) && !json_is_object (params))
        s_refuse_request (self, caller, call_id, MCPACT_ERR_ARGS,
                          "the params of %s are not a JSON object", method);
    else if (server_requests_size (self->requests) >= (size_t) self->config->max_in_flight)
        s_refuse_request (self, caller, call_id, MCPACT_ERR_BUSY,
                          "server %s: %zu requests are in flight, the limit (\"limits\": "
                          "{\"inFlight\": n} raises it); the request was not sent",
                          self->config->name, server_requests_size (self->requests));
    else {
        //  Subscriptions are kept, to be made again after a restart.
        const char *uri = json_string_value (json_object_get (params, "uri"));
        if (uri && strcmp (method, "resources/subscribe") == 0)
            json_object_set_new (self->subscriptions, uri, json_true ());
        else if (uri && strcmp (method, "resources/unsubscribe") == 0)
            json_object_del (self->subscriptions, uri);
        s_send_request (self, caller, call_id, method, params, (int) wire_int (msg, 5, 0));
        params = NULL;
    }
    json_decref (params);
    free (method);
}

static void
s_handle_log_level (self_t *self, wire_msg_t *msg)
{
    //  [caller] LOGLEVEL call_id level  ->  RESULT call_id 0 {"sent": bool}
    //  (with the server's answer once it has it, when sent)
    zmq_msg_t *caller = &msg->parts[0];
    uint64_t call_id = (uint64_t) wire_int (msg, 2, 0);
    char *level = wire_strdup (msg, 3);
    if (server_log_rank (level) < 0) {
        s_refuse_request (self, caller, call_id, MCPACT_ERR_ARGS,
                          "%s is not an MCP logging level (debug, info, notice, warning, error, "
                          "critical, alert, emergency)",
                          level && *level ? level : "(none)");
        free (level);
        return;
    }
    //  Kept: sent again at each start.
    free (self->config->log_level);
    self->config->log_level = level;
    if (self->state == S_READY && server_requests_declared (self->capabilities, "logging"))
        s_send_request (self, caller, call_id, "logging/setLevel",
                        json_pack ("{s:s}", "level", level), 0);
    else {
        const char *answer = "{\"sent\":false}";
        wire_send_result (zsock_resolve (self->router), caller, call_id, MCPACT_OK, answer,
                          strlen (answer));
    }
}

//  The status's "capabilities", "instructions" and "logLevel".
static void
s_status_features (self_t *self, json_t *status)
{
    if (self->capabilities)
        json_object_set (status, "capabilities", self->capabilities);
    if (self->instructions)
        json_object_set_new (status, "instructions", json_string (self->instructions));
    if (self->config->log_level)
        json_object_set_new (status, "logLevel", json_string (self->config->log_level));
    if (json_object_size (self->subscriptions))
        json_object_set_new (status, "subscriptions",
                             json_integer ((json_int_t) json_object_size (self->subscriptions)));
}

//  The calls made on the lane; 0 without one.
static uint64_t
s_lane_calls (self_t *self)
{
    return self->lane ? atomic_load_explicit (&self->lane->calls, memory_order_relaxed) : 0;
}

//  "results" and "latencyUs" of the status, from the calls answered here
//  and on the lane; sets *errors to the calls that did not end in ok.
static void
s_status_calls (self_t *self, json_t *status, uint64_t *errors)
{
    call_sum_t sum = { 0 };
    if (self->stats)
        call_sum_add (&sum, self->stats);
    json_t *results = json_object ();
    for (int i = 0; i < CALL_STATUSES; i++)
        json_object_set_new (results, s_result_names[i],
                             json_integer ((json_int_t) sum.results[i]));
    json_object_set_new (status, "results", results);
    json_object_set_new (status, "latencyUs",
                         json_pack ("{s:I,s:I,s:I,s:I}", "answers", (json_int_t) sum.answers, "p50",
                                    (json_int_t) call_sum_percentile (&sum, 0.50), "p99",
                                    (json_int_t) call_sum_percentile (&sum, 0.99), "max",
                                    (json_int_t) sum.max_us));
    *errors = call_sum_results (&sum) - sum.results[MCPACT_OK];
}

static char *
s_status_json (self_t *self)
{
    json_t *status =
        json_pack ("{s:s,s:s,s:s,s:i,s:I,s:i,s:s}", "name", self->config->name, "transport",
                   server_config_transport_name (server_config_transport (self->config)), "state",
                   s_state_names[self->state], "tools", (int) json_array_size (self->tools),
                   "calls", (json_int_t) (self->calls_total + s_lane_calls (self)), "restarts",
                   (int) self->restarts, "endpoint", self->endpoint);
    uint64_t errors = 0;
    s_status_calls (self, status, &errors);
    json_object_set_new (status, "errors", json_integer ((json_int_t) errors));
    if (self->error && self->state != S_READY)
        json_object_set_new (status, "error", json_string (self->error));
    if (self->protocol)
        json_object_set_new (status, "protocolVersion", json_string (self->protocol));
    if (self->server_info)
        json_object_set (status, "serverInfo", self->server_info);
    s_status_features (self, status);
    json_object_set_new (status, "inFlight", json_integer ((json_int_t) self->calls.size));
    int64_t stalled_ms = 0;
    size_t queued =
        self->transport && self->ops->queued ? self->ops->queued (self->transport, &stalled_ms) : 0;
    json_object_set_new (status, "queuedBytes", json_integer ((json_int_t) queued));
    if (stalled_ms > 0)
        json_object_set_new (status, "stalledMs", json_integer (stalled_ms));
    json_object_set_new (status, "refused", json_integer ((json_int_t) self->refused_total));
    json_object_set_new (status, "directCalls", json_integer ((json_int_t) s_lane_calls (self)));
    if (self->config->url) {
        //  Also when not connected: which endpoint failed matters most then.
        char *url = http_safe_url (self->config->url);
        json_object_set_new (status, "url", json_string (url));
        free (url);
    }
    if (self->transport)
        self->ops->describe (self->transport, status);
    if (self->last_stderr && !json_object_get (status, "stderr") && self->state != S_READY)
        json_object_set_new (status, "stderr", json_string (self->last_stderr));
    char *text = json_dumps (status, JSON_COMPACT);
    json_decref (status);
    return text;
}

static void
s_handle_router (self_t *self)
{
    void *router = zsock_resolve (self->router);
    for (int batch = 0; batch < DRAIN_BATCH; batch++) {
        wire_msg_t msg;
        if (wire_recv (&msg, router, ZMQ_DONTWAIT) < 0)
            return;
        //  A caller's message: the pipes may be needed, and a lane handed
        //  back says so with LANE.
        s_lane_back (self);
        if (wire_is (&msg, 1, "LANE"))
            ; //  nothing more: the lane is back
        else if (wire_is (&msg, 1, "ANSWER") || wire_is (&msg, 1, "ROOTS"))
            s_handle_asks (self, &msg);
        else if (wire_is (&msg, 1, "CALL"))
            s_handle_call (self, &msg);
        else if (wire_is (&msg, 1, "CANCEL"))
            s_handle_cancel (self, &msg);
        else if (wire_is (&msg, 1, "RELOAD"))
            s_handle_reload (self, &msg);
        else if (wire_is (&msg, 1, "REQUEST"))
            s_handle_request (self, &msg);
        else if (wire_is (&msg, 1, "LOGLEVEL"))
            s_handle_log_level (self, &msg);
        else if (wire_is (&msg, 1, "STATUS")) {
            char *status = s_status_json (self);
            wire_send_result (router, &msg.parts[0], (uint64_t) wire_int (&msg, 2, 0), 0, status,
                              strlen (status));
            free (status);
        } else
            log_warn ("server %s: unknown message from a caller", self->config->name);
        wire_close (&msg);
    }
}

//  --------------------------------------------------------------------------
//  Timers

//  While the server waits for the host's answer to its request (an
//  elicitation the user is reading, a sampling the host's LLM is
//  writing), the wait is the user's, not the server's: the calls in
//  flight on it are not timed out. Their deadline moves to the call
//  timeout after the last request ended (or from now while one waits),
//  up to the call's hard limit; the ask's own timeout bounds the wait.
//  The caller, which keeps a deadline of its own, is told (ALIVE), as
//  progress tells it. True if `call` was given more time.
static bool
s_host_waits (self_t *self, s_call_t *call, uint64_t rpc_id, int64_t now)
{
    int64_t busy = self->asks ? ask_table_host_busy (self->asks, now) : 0;
    if (!busy || busy + call->timeout_ms <= now || call->deadline >= call->limit)
        return false;
    int64_t deadline = busy + call->timeout_ms;
    call->deadline = deadline < call->limit ? deadline : call->limit;
    call->host_waited = true;
    char id[24], extra[24];
    snprintf (id, sizeof id, "%" PRIu64, call->call_id);
    snprintf (extra, sizeof extra, "%" PRId64, call->deadline - now);
    void *router = zsock_resolve (self->router);
    zmq_send (router, zmq_msg_data (&call->caller), zmq_msg_size (&call->caller), ZMQ_SNDMORE);
    zmq_send (router, "ALIVE", 5, ZMQ_SNDMORE);
    zmq_send (router, id, strlen (id), ZMQ_SNDMORE);
    zmq_send (router, extra, strlen (extra), 0);
    (void) rpc_id;
    return true;
}

static void
s_handle_timers (self_t *self)
{
    //  A lane unused for a while comes back, so that what the server sends
    //  between calls is read.
    if (self->lent && lane_take_back (self->lane, LANE_IDLE_MS))
        s_lane_returned (self);
    int64_t now = clock_ms ();
    server_requests_expire (self->requests, zsock_resolve (self->router), now, s_cancel_request,
                            self);
    deadline_t *next;
    while ((next = deadlines_peek (&self->deadlines)) && next->when <= now) {
        uint64_t rpc_id = next->id;
        deadlines_pop (&self->deadlines);
        s_call_t *call = (s_call_t *) idmap_get (&self->calls, rpc_id);
        if (!call)
            continue; //  answered already
        if (call->deadline > now || s_host_waits (self, call, rpc_id, now)) {
            //  Progress moved it on, or the server waits for the host.
            deadlines_push (&self->deadlines, call->deadline, rpc_id);
            continue;
        }
        idmap_take (&self->calls, rpc_id);
        char reason[64];
        snprintf (reason, sizeof reason, "timed out after %d ms", call->timeout_ms);
        s_cancel (self, rpc_id, reason);
        if (call->host_waited && call->deadline >= call->limit)
            s_reply_error (self, &call->caller, call->call_id, MCPACT_ERR_TIMEOUT,
                           "server %s: no answer within %d ms, the call's hard limit "
                           "(\"timeouts\": {\"max\": ms} raises it; waiting for the host's "
                           "user does not extend it)",
                           self->config->name,
                           call->timeout_ms > self->config->max_call_ms
                               ? call->timeout_ms
                               : self->config->max_call_ms);
        else
            s_reply_error (self, &call->caller, call->call_id, MCPACT_ERR_TIMEOUT,
                           "server %s: no answer within %d ms (%s)", self->config->name,
                           call->timeout_ms,
                           call->own_timeout ? "the call's own timeout"
                                             : "the call timeout: \"timeouts\": {\"call\": ms} "
                                               "raises it");
        s_call_free (call);
    }
    if (self->phase_deadline && now >= self->phase_deadline) {
        char reason[600];
        //  A group's endpoint is where the answer did not come from.
        const char *group =
            self->config->group
                ? json_string_value (json_object_get (self->config->group, "endpoint"))
                : NULL;
        if (self->init_id)
            snprintf (reason, sizeof reason,
                      "no answer to initialize%s%s within %d ms (the connect timeout: "
                      "\"timeouts\": {\"connect\": ms} raises it)",
                      group ? " from the group at " : "", group ? group : "",
                      self->config->connect_ms);
        else
            snprintf (reason, sizeof reason,
                      "no answer to tools/list%s%s within %d ms (the list timeout: \"timeouts\": "
                      "{\"list\": ms} raises it)",
                      group ? " from the group at " : "", group ? group : "",
                      self->config->list_ms);
        if (self->state == S_READY) {
            log_warn ("server %s: %s; keeping the tools listed before", self->config->name, reason);
            self->listing = false;
            self->list_id = 0;
            self->phase_deadline = 0;
            s_answer_reloads (self, reason);
        } else
            s_lost (self, reason);
    }
    if (self->restart_at && now >= self->restart_at && self->state == S_RESTARTING) {
        if (self->ever_ready)
            self->restarts++;
        s_connect (self);
    }
    if (self->asks)
        ask_table_expire (self->asks, now);
    if (self->relist_at && now >= self->relist_at && self->state == S_READY && !self->listing) {
        self->relist_at = 0;
        log_info ("server %s: tools changed; listing again", self->config->name);
        s_start_listing (self);
    }
}

static int
s_next_timeout (self_t *self)
{
    int64_t next = INT64_MAX;
    deadline_t *deadline = deadlines_peek (&self->deadlines);
    if (deadline)
        next = deadline->when;
    if (self->phase_deadline && self->phase_deadline < next)
        next = self->phase_deadline;
    if (self->restart_at && self->restart_at < next)
        next = self->restart_at;
    if (server_requests_next (self->requests) < next)
        next = server_requests_next (self->requests);
    if (self->relist_at && self->relist_at < next)
        next = self->relist_at;
    int64_t ask_at = self->asks ? ask_table_deadline (self->asks) : 0;
    if (ask_at && ask_at < next)
        next = ask_at;
    if (self->lent) {
        int64_t idle_at = atomic_load (&self->lane->used_ms) + LANE_IDLE_MS;
        next = idle_at < next ? idle_at : next;
    }
    if (self->transport) {
        int transport_ms = self->ops->timeout (self->transport);
        if (transport_ms >= 0 && clock_ms () + transport_ms < next)
            next = clock_ms () + transport_ms;
    }
    if (next == INT64_MAX)
        return -1;
    int64_t wait = next - clock_ms ();
    return wait < 0 ? 0 : (int) (wait > 60000 ? 60000 : wait);
}

//  --------------------------------------------------------------------------
//  The actor

//  Waits on `items` (the pipe, the router, the transport's) with one
//  poll(2) (pollset.h): the pipe is asked for messages only when its
//  descriptor fired or the actor sent on it, the router every round (a
//  round sends on it from many places: results, grants, errors).
static int
s_wait (self_t *self, zmq_pollitem_t *items, int count, int timeout)
{
    pollset_t *poll = &self->poll;
    if (poll->count < 2) {
        pollset_clear (poll);
        if (pollset_add_socket (poll, items[0].socket) != 0 ||
            pollset_add_socket (poll, items[1].socket) != 1) {
            pollset_clear (poll);
            return zmq_poll (items, count, timeout);
        }
    } else
        pollset_truncate (poll, 2);
    pollset_touch (poll, 1);
    for (int i = 2; i < count; i++)
        if (pollset_add_item (poll, &items[i]) < 0)
            return zmq_poll (items, count, timeout);
    int rc = pollset_wait (poll, timeout);
    for (int i = 0; i < count; i++)
        items[i].revents = pollset_item_revents (poll, i);
    return rc;
}

//  The one place the actor waits.
static int
s_poll (self_t *self, zmq_pollitem_t *items, int count)
{
    //  With calls in flight, or right after a call (a host calling one
    //  tool after another sends the next at once), poll a moment before
    //  sleeping (spin.h); not when there is work already due.
    if (self->busy != (self->calls.size > 0)) {
        self->busy = !self->busy;
        spin_busy (self->busy ? 1 : -1);
    }
    int timeout = s_next_timeout (self);
    bool may_spin = timeout != 0 && spin_us () > 0 &&
                    (self->calls.size > 0 || clock_us () < self->busy_us + spin_us ());
    int rc = 0;
    if (may_spin) {
        rc = spin_poll (items, count);
        //  zmq_poll took what signals the sockets had.
        pollset_touch (&self->poll, 0);
        pollset_touch (&self->poll, 1);
    }
    if (rc == 0)
        rc = s_wait (self, items, count, may_spin ? s_next_timeout (self) : timeout);
    if (rc > 0 && self->calls.size > 0)
        self->busy_us = clock_us ();
    return rc;
}

//  A removed server answers what callers sent it and it has not read
//  yet, so that none of them waits for an answer that would never come
//  (a host thread that routed a call before the catalogs dropped the
//  server). After this its socket closes: a later send fails at once.
static void
s_answer_queued (self_t *self)
{
    void *router = zsock_resolve (self->router);
    wire_msg_t msg;
    while (wire_recv (&msg, router, ZMQ_DONTWAIT) >= 0) {
        if (wire_is (&msg, 1, "CALL") || wire_is (&msg, 1, "RELOAD") ||
            wire_is (&msg, 1, "STATUS") || wire_is (&msg, 1, "REQUEST") ||
            wire_is (&msg, 1, "LOGLEVEL"))
            s_reply_error (self, &msg.parts[0], (uint64_t) wire_int (&msg, 2, 0), MCPACT_ERR_SERVER,
                           "server %s was removed", self->config->name);
        wire_close (&msg);
    }
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    s_lane_back (self);
    s_flush_grant (self, false);
    s_fail_all (self, "the server is stopping");
    s_answer_reloads (self, "the server is stopping");
    if (self->removed && self->router)
        s_answer_queued (self);
    if (self->busy)
        spin_busy (-1);
    zlistx_destroy (&self->reloads);
    ask_table_destroy (&self->asks);
    s_stop_transport (self);
    if (self->router) {
        char id[16];
        snprintf (id, sizeof id, "%u", self->id);
        s_pipe_send (self, "GONE", id);
    }
    //  And what came while the process closed.
    if (self->removed && self->router)
        s_answer_queued (self);
    zsock_destroy (&self->router);
    mcpact_server_config_destroy (&self->config);
    json_decref (self->tools);
    json_decref (self->cursors);
    json_decref (self->server_info);
    json_decref (self->capabilities);
    json_decref (self->subscriptions);
    free (self->instructions);
    server_requests_destroy (&self->requests);
    free (self->error);
    free (self->last_stderr);
    free (self->lost);
    free (self->missing);
    free (self->items);
    pollset_fini (&self->poll);
    free (self->protocol);
    free (self->stats);
    jsonbuf_free (&self->line);
    jsonbuf_free (&self->grant_payload);
    jsonbuf_free (&self->replay);
    lane_unref (&self->lane);
    idmap_free (&self->calls);
    deadlines_free (&self->deadlines);
    free (self);
    *self_p = NULL;
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    server_actor_args_t *args = (server_actor_args_t *) arg;
    self_t *self = (self_t *) calloc (1, sizeof (self_t));
    self->pipe = pipe;
    self->config = args->config;
    self->id = args->id;
    asks_t *asks = args->asks;
    self->backoff_ms = RESTART_FIRST_MS;
    self->told = -1;
    self->tools = json_array ();
    self->reloads = zlistx_new ();
    self->start_ms = clock_ms ();
    self->requests = server_requests_new (self->config->name);
    self->subscriptions = json_object ();
    idmap_init (&self->calls);
    deadlines_init (&self->deadlines);
    deadlines_watch (&self->deadlines, &self->calls);
    server_actor_endpoint (self->id, self->endpoint, sizeof self->endpoint);
    self->asks = ask_table_new (asks, self->config->name, self->endpoint, s_ask_respond, self);
    if (!self->asks)
        asks_unref (&asks);
    self->router = zsock_new (ZMQ_ROUTER);
    if (self->router) {
        //  Replies must never be dropped: unbounded towards callers.
        zsock_set_sndhwm (self->router, 0);
        //  A reply to a caller that is gone fails, rather than vanish: a
        //  lane sent with it must come back (s_flush_grant).
        zsock_set_router_mandatory (self->router, 1);
        zsock_set_rcvhwm (self->router, 0);
    }
    free (args);
    if (!self->router || zsock_bind (self->router, "%s", self->endpoint) != 0) {
        zsock_destroy (&self->router);
        s_set_error (self, "cannot open the server actor's socket");
        s_set_state (self, S_FAILED);
        s_report_to_owner (self);
        //  The owner stops every actor with $TERM, this one too.
        char *verb = NULL;
        while (!verb || strcmp (verb, "$TERM") != 0) {
            free (verb);
            if (!(verb = zstr_recv (self->pipe)))
                break;
        }
        free (verb);
        s_self_destroy (&self);
        return;
    }

    s_connect (self);
    while (!self->terminated) {
        s_replay (self);
        s_flush_grant (self, true);
        //  A transport may watch many sockets (an HTTP server with many
        //  requests in flight): grow the array until they all fit.
        int count = 2;
        while (self->transport) {
            int room = self->items_max - 2;
            int used =
                room > 0 ? self->ops->poll_items (self->transport, self->items + 2, room) : room;
            if (used < room) {
                count += used;
                break;
            }
            int max = self->items_max ? self->items_max * 2 : 16;
            zmq_pollitem_t *grown =
                (zmq_pollitem_t *) realloc (self->items, (size_t) max * sizeof *grown);
            if (!grown)
                break;
            self->items = grown;
            self->items_max = max;
        }
        if (!self->items) {
            self->items = (zmq_pollitem_t *) calloc (16, sizeof (zmq_pollitem_t));
            self->items_max = 16;
        }
        zmq_pollitem_t *items = self->items;
        items[0] = (zmq_pollitem_t){ zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 };
        items[1] = (zmq_pollitem_t){ zsock_resolve (self->router), 0, ZMQ_POLLIN, 0 };
        int rc = s_poll (self, items, count);
        if (rc < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            //  REMOVE: stop as $TERM does, and tell callers the server
            //  was removed (its owner sends $TERM after it).
            char *verb = zstr_recv (self->pipe);
            if (verb && strcmp (verb, "REMOVE") == 0)
                self->removed = true;
            if (!verb || self->removed || strcmp (verb, "$TERM") == 0)
                self->terminated = true;
            free (verb);
        }
        if (self->terminated)
            break;
        //  The transport is handled every round, ready or not: it may
        //  have timers of its own.
        if (self->transport) {
            self->in_transport = true;
            int rc = self->ops->handle (self->transport, items + 2, count - 2, s_on_message, self);
            self->in_transport = false;
            if (rc == 1) {
                //  The server process exited while its pipes were lent:
                //  take them back, and the transport reads its last words
                //  in the next round.
                s_lane_back (self);
                rc = 0;
            }
            if (self->lost) {
                char *reason = self->lost;
                self->lost = NULL;
                s_lost (self, reason);
                free (reason);
            } else if (rc != 0) {
                const char *error = self->ops->error (self->transport);
                char reason[1024];
                snprintf (reason, sizeof reason, "%s", error ? error : "the transport closed");
                s_lost (self, reason);
            }
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_handle_router (self);
        s_handle_timers (self);
    }
    s_set_state (self, S_STOPPED);
    s_self_destroy (&self);
}

actor_t *
server_actor_new (mcpact_server_config_t *config, unsigned id, asks_t *asks, zsock_t *router,
                  const char *endpoint, const char *rid)
{
    server_actor_args_t *args = (server_actor_args_t *) calloc (1, sizeof *args);
    if (!args)
        return NULL;
    args->config = config;
    args->id = id;
    args->asks = asks;
    actor_t *actor = actor_new_routed (s_actor, args, router, endpoint, rid);
    if (!actor)
        free (args);
    return actor;
}
