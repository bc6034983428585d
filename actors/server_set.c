/*  =========================================================================
    server_set - the MCP servers one owner started (see server_set.h)
    =========================================================================
*/

#include "server_set.h"

#include "idmap.h"
#include "log.h"
#include "server_actor.h"

#include <errno.h>

typedef struct {
    mcpact_server_config_t *config; //  until started, then the actor's
    char *name;                     //  server name
    unsigned id;                    //  server id once started
    char endpoint[64];              //  where callers reach it
    actor_t *actor;                 //  the server actor
    json_t *report;                 //  READY/FAILED entry, NULL until then
} s_member_t;

struct _server_set_t {
    s_member_t *members; //  in declaration order
    size_t count;        //  members
    size_t done;         //  members with a report
    bool started;        //  server_set_start ran
    int64_t start_ms;    //  when it ran
    int64_t done_ms;     //  when the last report came
};

server_set_t *
server_set_new (void)
{
    return (server_set_t *) calloc (1, sizeof (server_set_t));
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
    for (size_t i = 0; i < self->count; i++) {
        s_member_t *member = &self->members[i];
        actor_destroy (&member->actor);
        mcpact_server_config_destroy (&member->config);
        json_decref (member->report);
        free (member->name);
    }
    free (self->members);
    free (self);
    *self_p = NULL;
}

int
server_set_add (server_set_t *self, mcpact_server_config_t *config, char **error)
{
    if (self->started) {
        *error = strdup ("servers cannot be added after start");
        return -1;
    }
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->members[i].name, config->name) == 0) {
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
    return 0;
}

size_t
server_set_size (server_set_t *self)
{
    return self->count;
}

static void
s_failed (s_member_t *member, const char *reason, int64_t ms)
{
    member->report = json_pack ("{s:s,s:s,s:s,s:I,s:i}", "name", member->name, "state", "failed",
                                "error", reason, "ms", (json_int_t) ms, "tools", 0);
}

void
server_set_start (server_set_t *self, const char *registry, atomic_uint *ids)
{
    if (self->started)
        return;
    self->started = true;
    self->start_ms = clock_ms ();
    //  Start every thread before waiting on any handshake.
    for (size_t i = 0; i < self->count; i++) {
        s_member_t *member = &self->members[i];
        member->id = atomic_fetch_add (ids, 1) + 1;
        server_actor_endpoint (member->id, member->endpoint, sizeof member->endpoint);
        mcpact_server_config_t *config = member->config;
        member->actor = server_actor_new (config, member->id, registry);
        if (member->actor)
            member->config = NULL; //  the actor has it now
    }
    for (size_t i = 0; i < self->count; i++) {
        s_member_t *member = &self->members[i];
        char *error = NULL;
        if (!member->actor)
            s_failed (member, "cannot start a thread for the server", 0);
        else if (actor_wait (member->actor, &error) != 0) {
            s_failed (member, error ? error : "the server actor did not start", 0);
            actor_destroy (&member->actor);
        }
        free (error);
        if (member->report) {
            log_warn ("server %s failed to start: %s", member->name,
                      json_string_value (json_object_get (member->report, "error")));
            self->done++;
        }
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

int
server_set_poll_items (server_set_t *self, zmq_pollitem_t *items, int max)
{
    int count = 0;
    for (size_t i = 0; i < self->count && count < max; i++)
        if (self->members[i].actor && !self->members[i].report)
            items[count++] = (zmq_pollitem_t){ zsock_resolve (actor_sock (self->members[i].actor)),
                                               0, ZMQ_POLLIN, 0 };
    return count;
}

void
server_set_handle (server_set_t *self, zmq_pollitem_t *items, int count,
                   mcpact_progress_fn *progress, void *progress_arg)
{
    for (int item = 0; item < count; item++) {
        if (!(items[item].revents & ZMQ_POLLIN))
            continue;
        for (size_t i = 0; i < self->count; i++) {
            s_member_t *member = &self->members[i];
            if (!member->actor || member->report ||
                zsock_resolve (actor_sock (member->actor)) != items[item].socket)
                continue;
            char *verb = NULL, *text = NULL;
            if (zsock_recv (actor_sock (member->actor), "ss", &verb, &text) != 0)
                break;
            json_error_t error;
            member->report = text ? json_loads (text, 0, &error) : NULL;
            if (!member->report)
                s_failed (member, "bad report from the server actor", 0);
            self->done++;
            if (self->done == self->count)
                self->done_ms = clock_ms ();
            if (progress && text)
                progress (text, progress_arg);
            free (verb);
            free (text);
            break;
        }
    }
}

json_t *
server_set_report (server_set_t *self)
{
    json_t *servers = json_array ();
    for (size_t i = 0; i < self->count; i++) {
        s_member_t *member = &self->members[i];
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
        char id[16];
        snprintf (id, sizeof id, "%u", member->id);
        json_array_append_new (servers, json_pack ("{s:s,s:s,s:s}", "id", id, "name", member->name,
                                                   "endpoint", member->endpoint));
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
    server_set_start (self, registry, ids);
    size_t max = self->count + 1;
    zmq_pollitem_t *items = (zmq_pollitem_t *) calloc (max, sizeof (zmq_pollitem_t));
    while (items && !server_set_done (self)) {
        int count = server_set_poll_items (self, items, (int) max);
        if (zmq_poll (items, count, -1) < 0 && errno != EINTR)
            break;
        server_set_handle (self, items, count, progress, progress_arg);
    }
    free (items);
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
        if (config && server_set_add (self, config, &error) == 0)
            zstr_send (pipe, "OK");
        else
            zstr_sendx (pipe, "ERROR", error ? error : "cannot add", NULL);
        free (error);
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
