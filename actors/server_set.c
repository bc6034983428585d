/*  =========================================================================
    server_set - the MCP servers one owner started (see server_set.h)
    =========================================================================
*/

#include "server_set.h"

#include "asks.h"
#include "idmap.h"
#include "log.h"
#include "server_actor.h"
#include "state_sink.h"

#include <errno.h>

typedef struct {
    mcpact_server_config_t *config; //  until started, then the actor's
    char *name;                     //  server name
    json_t *allowed;                //  its allow-list (names it keeps), or NULL
    unsigned id;                    //  server id once started
    char endpoint[64];              //  where callers reach it
    actor_t *actor;                 //  the server actor
    json_t *report;                 //  READY/FAILED entry, NULL until then
    bool removed;                   //  removed: a slot kept so that indices stay
} s_member_t;

struct _server_set_t {
    zsock_t *router;     //  every member's actor reports here
    zsock_t *registry;   //  PUSH: what they have for the registry
    s_member_t *members; //  in declaration order (removed ones too)
    size_t count;        //  members
    size_t done;         //  members with a report, or removed
    bool started;        //  server_set_start ran
    bool sockets;        //  its sockets opened then
    atomic_uint *ids;    //  server ids, for members added later
    int64_t start_ms;    //  when it ran
    int64_t done_ms;     //  when the last report came
    state_sink_t *sink;  //  the host's state callback, or NULL
    asks_t *asks;        //  the host's roots and handlers (asks.h), or NULL
    unsigned owner;      //  owner id: its endpoint, and its list at the registry
    char endpoint[64];   //  where its members' actors report
    zsock_t *adding;     //  a pipe waiting for a member added after start
    size_t added;        //  that member's index
    char *control;       //  the registry's control endpoint
    zsock_t *sync;       //  DEALER to it, once needed
    state_sink_t *logs;  //  the host's server log callback, or NULL
};

server_set_t *
server_set_new (const char *control)
{
    //  One socket for all members: an idle server costs one connection.
    static atomic_uint owners;
    server_set_t *self = (server_set_t *) calloc (1, sizeof (server_set_t));
    if (self) {
        self->owner = atomic_fetch_add (&owners, 1) + 1;
        snprintf (self->endpoint, sizeof self->endpoint, "inproc://mcpact-owner-%u", self->owner);
        self->control = control ? strdup (control) : NULL;
    }
    return self;
}

unsigned
server_set_owner (server_set_t *self)
{
    return self->owner;
}

//  The owner id as text, for messages (a static buffer: one thread).
static const char *
s_owner_text (server_set_t *self)
{
    static _Thread_local char text[16];
    snprintf (text, sizeof text, "%u", self->owner);
    return text;
}

void
server_set_destroy (server_set_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    server_set_t *self = *self_p;
    //  Tell every server first, so that they all close in parallel.
    for (size_t i = 0; i < self->count; i++)
        actor_term (self->members[i].actor);
    for (size_t i = 0; i < self->count; i++)
        actor_destroy (&self->members[i].actor);
    //  Their last words (GONE) are for the registry.
    if (self->router)
        server_set_handle (self, NULL, NULL);
    //  The registry forgets our list (OWNER without one).
    if (self->registry)
        zstr_sendx (self->registry, "OWNER", s_owner_text (self), NULL);
    for (size_t i = 0; i < self->count; i++) {
        s_member_t *member = &self->members[i];
        mcpact_server_config_destroy (&member->config);
        json_decref (member->report);
        json_decref (member->allowed);
        free (member->name);
    }
    zsock_destroy (&self->router);
    zsock_destroy (&self->registry);
    state_sink_unref (&self->sink);
    state_sink_unref (&self->logs);
    asks_unref (&self->asks);
    zsock_destroy (&self->sync);
    free (self->control);
    free (self->members);
    free (self);
    *self_p = NULL;
}

int
server_set_add (server_set_t *self, mcpact_server_config_t *config, char **error)
{
    for (size_t i = 0; i < self->count; i++)
        if (!self->members[i].removed && strcmp (self->members[i].name, config->name) == 0) {
            if (asprintf (error, "a server named %s was added already", config->name) < 0)
                *error = NULL;
            return -1;
        }
    s_member_t *members =
        (s_member_t *) realloc (self->members, (self->count + 1) * sizeof (s_member_t));
    if (!members) {
        *error = strdup ("out of memory");
        return -1;
    }
    self->members = members;
    s_member_t *member = &members[self->count++];
    memset (member, 0, sizeof *member);
    member->config = config;
    member->name = strdup (config->name);
    if (config->allowed_count) {
        member->allowed = json_array ();
        for (size_t i = 0; i < config->allowed_count; i++)
            json_array_append_new (member->allowed, json_string (config->allowed[i]));
    }
    return 0;
}

size_t
server_set_size (server_set_t *self)
{
    size_t size = 0;
    for (size_t i = 0; i < self->count; i++)
        size += !self->members[i].removed;
    return size;
}

static void
s_failed (s_member_t *member, const char *reason, int64_t ms)
{
    member->report = json_pack ("{s:s,s:s,s:s,s:I,s:i}", "name", member->name, "state", "failed",
                                "error", reason, "ms", (json_int_t) ms, "tools", 0);
}

//  Starts member `index`'s actor (or fails it at once, done), giving it
//  an id first if it has none.
static void
s_member_start (server_set_t *self, size_t index, atomic_uint *ids, bool sockets)
{
    s_member_t *member = &self->members[index];
    if (!member->id) {
        member->id = atomic_fetch_add (ids, 1) + 1;
        server_actor_endpoint (member->id, member->endpoint, sizeof member->endpoint);
    }
    char rid[24];
    snprintf (rid, sizeof rid, "%zu", index);
    asks_t *asks = sockets && self->asks ? asks_ref (self->asks) : NULL;
    if (sockets)
        member->actor =
            server_actor_new (member->config, member->id, asks, self->router, self->endpoint, rid);
    if (member->actor)
        member->config = NULL; //  the actor has it now, and the asks reference
    else {
        asks_unref (&asks);
        s_failed (member,
                  sockets ? "cannot start a thread for the server"
                          : "cannot open the sockets for the servers",
                  0);
        log_warn ("server %s failed to start: %s", member->name,
                  json_string_value (json_object_get (member->report, "error")));
        self->done++;
    }
}

//  Tells the registry our servers as they are now: OWNER owner servers_json.
//  Every view on them follows (docs/protocol.md).
static void
s_send_owner (server_set_t *self)
{
    if (!self->registry)
        return;
    json_t *servers = server_set_servers (self);
    char *text = json_dumps (servers, JSON_COMPACT);
    json_decref (servers);
    if (text)
        zstr_sendx (self->registry, "OWNER", s_owner_text (self), text, NULL);
    free (text);
}

void
server_set_start (server_set_t *self, const char *registry, atomic_uint *ids,
                  mcpact_progress_fn *progress, void *progress_arg)
{
    if (self->started)
        return;
    self->started = true;
    self->start_ms = clock_ms ();
    self->ids = ids;
    const char *endpoint = self->endpoint;
    self->router = zsock_new (ZMQ_ROUTER);
    self->registry = zsock_new (ZMQ_PUSH);
    if (self->router) {
        zsock_set_sndhwm (self->router, 0);
        zsock_set_rcvhwm (self->router, 0);
    }
    if (self->registry)
        zsock_set_sndhwm (self->registry, 0);
    bool sockets = self->router && self->registry &&
                   zsock_bind (self->router, "%s", endpoint) == 0 &&
                   zsock_connect (self->registry, "%s", registry) == 0;
    self->sockets = sockets;
    //  Our list goes first, before anything a server says: ids and
    //  endpoints are given out before any server starts.
    for (size_t i = 0; i < self->count; i++) {
        s_member_t *member = &self->members[i];
        member->id = atomic_fetch_add (ids, 1) + 1;
        server_actor_endpoint (member->id, member->endpoint, sizeof member->endpoint);
    }
    s_send_owner (self);
    for (size_t i = 0; i < self->count; i++) {
        if (self->members[i].removed)
            continue;
        s_member_start (self, i, ids, sockets);
        //  Servers made first are ready before the last is made: their
        //  reports go on meanwhile (a thousand spawns take a while).
        if (sockets && i % 16 == 15)
            server_set_handle (self, progress, progress_arg);
    }
    if (self->done == self->count)
        self->done_ms = clock_ms ();
}

bool
server_set_started (server_set_t *self)
{
    return self->started;
}

bool
server_set_done (server_set_t *self)
{
    return self->started && self->done == self->count;
}

zsock_t *
server_set_sock (server_set_t *self)
{
    return self->router;
}

//  Answers the ADD of a member added after start: OK started.
static void
s_answer_add (server_set_t *self)
{
    zstr_sendx (self->adding, "OK", "started", NULL);
    self->adding = NULL;
}

//  Returns once the registry has built from all we sent it (SYNC on its
//  control socket; it takes its intake first).
static void
s_registry_sync (server_set_t *self)
{
    if (!self->control)
        return;
    if (!self->sync)
        self->sync = zsock_new_dealer (self->control);
    if (!self->sync)
        return;
    zstr_sendx (self->sync, "SYNC", "0", NULL);
    char *verb = NULL, *id = NULL;
    zsock_recv (self->sync, "ss", &verb, &id);
    free (verb);
    free (id);
}

//  A member's report: READY|FAILED report_json.
static void
s_take_report (server_set_t *self, s_member_t *member, zmsg_t *msg, mcpact_progress_fn *progress,
               void *progress_arg)
{
    char *text = zmsg_popstr (msg);
    if (member->report) {
        free (text);
        return;
    }
    json_error_t error;
    member->report = text ? json_loads (text, 0, &error) : NULL;
    if (!member->report)
        s_failed (member, "bad report from the server actor", 0);
    self->done++;
    if (self->done == self->count && !self->done_ms)
        self->done_ms = clock_ms ();
    if (progress && text)
        progress (text, progress_arg);
    free (text);
    //  A member added after start: its ADD is answered now, its tools
    //  (sent before its READY) forwarded already.
    if (self->adding && member == &self->members[self->added])
        s_answer_add (self);
}

//  A member's STATE server_id json, for the registry to publish and, with
//  the host's callback, to have it called: + fn arg (state_sink.h). Takes
//  the message.
static void
s_forward_state (server_set_t *self, zmsg_t **msg_p)
{
    zmsg_t *msg = *msg_p;
    zmsg_pushstr (msg, "STATE");
    if (self->sink) {
        void *fn;
        mcpact_tools_changed_fn *deliver = state_sink_deliver;
        memcpy (&fn, &deliver, sizeof fn);
        void *sink = state_sink_ref (self->sink);
        actor_handoff_release (sink); //  the event carries it
        zmsg_addmem (msg, &fn, sizeof fn);
        zmsg_addmem (msg, &sink, sizeof sink);
    }
    zmsg_send (msg_p, self->registry);
}

//  A member's NOTIFY server_id event json (a log message, a resource
//  updated, a list changed), passed on as it came; a log message with the
//  host's log callback, + fn arg (state_sink.h), as s_forward_state does.
//  Takes the message.
static void
s_forward_notify (server_set_t *self, zmsg_t **msg_p)
{
    zmsg_t *msg = *msg_p;
    zframe_t *event = zmsg_first (msg);
    zframe_t *kind = event ? zmsg_next (msg) : NULL;
    zmsg_pushstr (msg, "NOTIFY");
    if (self->logs && kind && zframe_streq (kind, "SERVER_LOG")) {
        void *fn;
        mcpact_tools_changed_fn *deliver = state_sink_deliver;
        memcpy (&fn, &deliver, sizeof fn);
        void *sink = state_sink_ref (self->logs);
        actor_handoff_release (sink); //  the event carries it
        zmsg_addmem (msg, &fn, sizeof fn);
        zmsg_addmem (msg, &sink, sizeof sink);
    }
    zmsg_send (msg_p, self->registry);
}

void
server_set_handle (server_set_t *self, mcpact_progress_fn *progress, void *progress_arg)
{
    while (self->router && (zsock_events (self->router) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (self->router);
        if (!msg)
            break;
        char *rid = zmsg_popstr (msg);
        char *end = NULL;
        size_t index = rid ? strtoul (rid, &end, 10) : 0;
        s_member_t *member = rid && *end == 0 && index < self->count ? &self->members[index] : NULL;
        //  A removed member's last words are its states (it stops) and
        //  GONE: its report and tools are nobody's any more.
        char *verb = member ? zmsg_popstr (msg) : NULL;
        if (verb && member->removed && strcmp (verb, "GONE") != 0 && strcmp (verb, "STATE") != 0)
            ;
        else if (verb && (strcmp (verb, "READY") == 0 || strcmp (verb, "FAILED") == 0))
            s_take_report (self, member, msg, progress, progress_arg);
        else if (verb && (strcmp (verb, "TOOLS") == 0 || strcmp (verb, "GONE") == 0)) {
            zmsg_pushstr (msg, verb);
            zmsg_send (&msg, self->registry);
        } else if (verb && strcmp (verb, "STATE") == 0)
            s_forward_state (self, &msg);
        else if (verb && strcmp (verb, "NOTIFY") == 0)
            s_forward_notify (self, &msg);
        free (verb);
        free (rid);
        zmsg_destroy (&msg);
    }
}

json_t *
server_set_report (server_set_t *self)
{
    json_t *servers = json_array ();
    for (size_t i = 0; i < self->count; i++) {
        s_member_t *member = &self->members[i];
        if (member->removed)
            continue;
        if (member->report)
            json_array_append (servers, member->report);
        else
            json_array_append_new (
                servers, json_pack ("{s:s,s:s}", "name", member->name, "state", "starting"));
    }
    int64_t end = self->done_ms ? self->done_ms : clock_ms ();
    return json_pack ("{s:o,s:I}", "servers", servers, "ms",
                      (json_int_t) (self->started ? end - self->start_ms : 0));
}

json_t *
server_set_servers (server_set_t *self)
{
    json_t *servers = json_array ();
    for (size_t i = 0; i < self->count; i++) {
        s_member_t *member = &self->members[i];
        if (member->removed)
            continue;
        char id[16];
        snprintf (id, sizeof id, "%u", member->id);
        json_t *server = json_pack ("{s:s,s:s,s:s}", "id", id, "name", member->name, "endpoint",
                                    member->endpoint);
        if (member->allowed)
            json_object_set (server, "allowed", member->allowed);
        json_array_append_new (servers, server);
    }
    return servers;
}

void
server_set_run (server_set_t *self, const char *registry, atomic_uint *ids,
                mcpact_progress_fn *progress, void *progress_arg)
{
    //  The host wrote its callback's state before it asked us to start.
    if (progress_arg)
        actor_handoff_acquire (progress_arg);
    server_set_start (self, registry, ids, progress, progress_arg);
    while (!server_set_done (self)) {
        zmq_pollitem_t item = { zsock_resolve (self->router), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, -1) < 0 && errno != EINTR)
            break;
        server_set_handle (self, progress, progress_arg);
    }
    //  ... and reads what the callback wrote once we have answered.
    if (progress_arg)
        actor_handoff_release (progress_arg);
}

bool
server_set_command (server_set_t *self, const char *verb, zmsg_t *msg, zsock_t *pipe,
                    mcpact_progress_fn **progress, void **progress_arg)
{
    if (strcmp (verb, "ADD") == 0) {
        mcpact_server_config_t *config = (mcpact_server_config_t *) actor_msg_popptr (msg);
        char *error = NULL;
        if (!config || server_set_add (self, config, &error) != 0) {
            if (config)
                actor_handoff_release (config); //  the host keeps it
            zstr_sendx (pipe, "ERROR", error ? error : "cannot add", NULL);
        } else if (!self->started)
            zstr_send (pipe, "OK");
        else {
            //  Started already: the new server starts now, and the ADD is
            //  answered once it is ready or has failed (s_take_report),
            //  while this owner goes on serving everything else.
            size_t index = self->count - 1;
            self->adding = pipe;
            self->added = index;
            s_member_start (self, index, self->ids, self->sockets);
            s_send_owner (self);
            if (self->members[index].report)
                s_answer_add (self); //  failed at once
        }
        free (error);
        return true;
    }
    if (strcmp (verb, "STATES") == 0) {
        //  A reference for us; the host keeps its own.
        state_sink_unref (&self->sink);
        self->sink = (state_sink_t *) actor_msg_popptr (msg);
        zstr_send (pipe, "OK");
        return true;
    }
    if (strcmp (verb, "LOGS") == 0) {
        //  As STATES, for the host's server log callback.
        state_sink_unref (&self->logs);
        self->logs = (state_sink_t *) actor_msg_popptr (msg);
        zstr_send (pipe, "OK");
        return true;
    }
    if (strcmp (verb, "ASKS") == 0) {
        //  A reference for us, and one for each server we start.
        asks_unref (&self->asks);
        self->asks = (asks_t *) actor_msg_popptr (msg);
        zstr_send (pipe, "OK");
        return true;
    }
    if (strcmp (verb, "REMOVE") == 0) {
        char *name = zmsg_popstr (msg);
        char *error = NULL;
        if (name && server_set_remove (self, name, &error) == 0)
            zstr_sendx (pipe, "OK", self->started ? "started" : "", NULL);
        else
            zstr_sendx (pipe, "ERROR", error ? error : "cannot remove", NULL);
        free (error);
        free (name);
        return true;
    }
    if (strcmp (verb, "PROGRESS") == 0) {
        void *fn = actor_msg_popptr (msg);
        memcpy (progress, &fn, sizeof fn);
        *progress_arg = actor_msg_popptr (msg);
        zstr_send (pipe, "OK");
        return true;
    }
    return false;
}

int
server_set_remove (server_set_t *self, const char *name, char **error)
{
    s_member_t *member = NULL;
    size_t index = 0;
    for (size_t i = 0; i < self->count && !member; i++)
        if (!self->members[i].removed && strcmp (self->members[i].name, name) == 0) {
            member = &self->members[i];
            index = i;
        }
    if (!member) {
        if (asprintf (error, "there is no server named %s", name) < 0)
            *error = NULL;
        return -1;
    }
    member->removed = true;
    if (!member->report)
        self->done++; //  nobody waits for its report any more
    if (self->started && self->done == self->count && !self->done_ms)
        self->done_ms = clock_ms ();
    //  The views drop it first, so that calls stop going to it (a host
    //  thread that reads its agent's catalog from now on does not find its
    //  tools); then it stops (the full close sequence), answering what it
    //  has in flight with "server NAME was removed"; its GONE follows to
    //  the registry.
    s_send_owner (self);
    if (member->actor) {
        s_registry_sync (self);
        char rid[24];
        snprintf (rid, sizeof rid, "%zu", index);
        zstr_sendx (self->router, rid, "REMOVE", NULL);
        actor_destroy (&member->actor);
        server_set_handle (self, NULL, NULL);
    }
    log_info ("server %s removed", member->name);
    mcpact_server_config_destroy (&member->config);
    json_decref (member->report);
    json_decref (member->allowed);
    member->report = member->allowed = NULL;
    return 0;
}
