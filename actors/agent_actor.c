/*  =========================================================================
    agent_actor - what one agent's LLM sees (see agent_actor.h)
    =========================================================================
*/

#include "agent_actor.h"

#include "log.h"
#include "server_set.h"

#include <errno.h>

typedef struct {
    char *session;    //  session actor endpoint
    char *registry;   //  registry intake
    char *control;    //  registry control
    atomic_uint *ids; //  the runtime's id counter
} s_args_t;

typedef struct {
    zsock_t *pipe;                //  to the host API
    s_args_t *args;               //  as given
    server_set_t *servers;        //  own servers (maybe none)
    zsock_t *control;             //  DEALER to the registry
    char *view_id;                //  registered view, or NULL
    char *report;                 //  start report, once started
    mcpact_progress_fn *progress; //  host's progress callback
    void *progress_arg;           //  its argument
    bool terminated;              //  leave the loop
} self_t;

//  Asks the session for its servers (starting them if need be): their
//  list for the registry and the start report, both JSON text, ours.
static int
s_session_servers (self_t *self, char **servers_text, char **report_text)
{
    zsock_t *session = zsock_new_dealer (self->args->session);
    if (!session)
        return -1;
    zstr_send (session, "SERVERS");
    char *verb = NULL;
    int rc = zsock_recv (session, "sss", &verb, servers_text, report_text);
    if (rc != 0 || !verb || strcmp (verb, "SERVERS") != 0 || !*servers_text || !*report_text) {
        free (*servers_text);
        free (*report_text);
        *servers_text = *report_text = NULL;
        rc = -1;
    }
    free (verb);
    zsock_destroy (&session);
    return rc;
}

//  Has the session pass on to the registry what its servers said.
static void
s_session_drain (self_t *self)
{
    zsock_t *session = zsock_new_dealer (self->args->session);
    if (!session)
        return;
    zstr_send (session, "DRAIN");
    free (zstr_recv (session));
    zsock_destroy (&session);
}

//  Puts the registry's rejections into the report, beside their servers.
static void
s_merge_rejections (json_t *report, json_t *rejected)
{
    size_t index;
    json_t *rejection;
    json_array_foreach (rejected, index, rejection) {
        const char *server = json_string_value (json_object_get (rejection, "server"));
        json_t *entry = json_pack ("{s:O,s:O}", "tool", json_object_get (rejection, "tool"),
                                   "reason", json_object_get (rejection, "reason"));
        json_t *target = NULL;
        size_t server_index;
        json_t *report_server;
        json_array_foreach (json_object_get (report, "servers"), server_index, report_server) {
            const char *name = json_string_value (json_object_get (report_server, "name"));
            if (server && name && strcmp (name, server) == 0)
                target = report_server;
        }
        if (!target)
            target = report;
        json_t *list = json_object_get (target, "rejected");
        if (!list) {
            list = json_array ();
            json_object_set_new (target, "rejected", list);
        }
        json_array_append_new (list, entry);
        if (target != report) {
            json_int_t tools = json_integer_value (json_object_get (target, "tools"));
            json_object_set_new (target, "tools", json_integer (tools > 0 ? tools - 1 : 0));
        }
        log_warn ("%s", json_string_value (json_object_get (rejection, "reason")));
    }
}

//  The session's list passes to the registry as the session wrote it, and
//  its report goes back unchanged unless the registry rejected a tool: a
//  hand-off to a new agent reads and writes no JSON here but the (mostly
//  empty) list of rejections.
static char *
s_start (self_t *self, zmsg_t *msg)
{
    char *view_id = zmsg_popstr (msg);
    char *slot = zmsg_popstr (msg);
    char *policy = zmsg_popstr (msg);
    char *functions = zmsg_popstr (msg);
    char *servers_text = NULL, *report_text = NULL;
    json_t *report = NULL;
    if (server_set_size (self->servers) > 0) {
        server_set_run (self->servers, self->args->registry, self->args->ids, self->progress,
                        self->progress_arg);
        json_t *servers = server_set_servers (self->servers);
        servers_text = json_dumps (servers, JSON_COMPACT);
        json_decref (servers);
        report = server_set_report (self->servers);
    } else if (s_session_servers (self, &servers_text, &report_text) != 0) {
        servers_text = strdup ("[]");
        report =
            json_pack ("{s:[],s:i,s:s}", "servers", "ms", 0, "error", "the session did not answer");
    }
    self->control = zsock_new_dealer (self->args->control);
    zsock_send (self->control, "ssssss", "VIEW", view_id, slot, policy, functions, servers_text);
    char *verb = NULL, *id = NULL, *rejected_text = NULL;
    if (zsock_recv (self->control, "sss", &verb, &id, &rejected_text) == 0 && verb &&
        strcmp (verb, "VIEWED") == 0) {
        json_error_t error;
        json_t *rejected = json_loads (rejected_text, 0, &error);
        if (json_array_size (rejected) > 0) {
            if (!report)
                report = json_loads (report_text, 0, &error);
            s_merge_rejections (report, rejected);
        }
        json_decref (rejected);
        self->view_id = view_id;
        view_id = NULL;
    }
    char *text = report ? json_dumps (report, JSON_COMPACT) : report_text;
    if (text == report_text)
        report_text = NULL;
    free (verb);
    free (id);
    free (rejected_text);
    free (servers_text);
    free (report_text);
    json_decref (report);
    free (view_id);
    free (slot);
    free (policy);
    free (functions);
    return text;
}

static void
s_handle_pipe (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *verb = msg ? zmsg_popstr (msg) : NULL;
    if (!verb || strcmp (verb, "$TERM") == 0)
        self->terminated = true;
    else if (server_set_command (self->servers, verb, msg, self->pipe, &self->progress,
                                 &self->progress_arg))
        ;
    else if (strcmp (verb, "SYNC") == 0) {
        //  SYNC  ->  OK once the registry has built from everything sent:
        //  the servers' words reach the registry through their owner, so
        //  the owner passes them on first.
        if (server_set_started (self->servers))
            server_set_handle (self->servers, NULL, NULL);
        else
            s_session_drain (self);
        if (self->view_id && self->control) {
            zstr_sendx (self->control, "SYNC", self->view_id, NULL);
            char *reply = NULL, *id = NULL;
            zsock_recv (self->control, "ss", &reply, &id);
            free (reply);
            free (id);
        }
        zstr_send (self->pipe, "OK");
    } else if (strcmp (verb, "START") == 0) {
        if (!self->report)
            self->report = s_start (self, msg);
        zstr_sendx (self->pipe, "REPORT", self->report ? self->report : "{}", NULL);
    }
    free (verb);
    zmsg_destroy (&msg);
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    self_t self = { 0 };
    self.pipe = pipe;
    self.args = (s_args_t *) arg;
    self.servers = server_set_new ();
    actor_ready (pipe);
    while (!self.terminated) {
        zsock_t *servers = server_set_sock (self.servers);
        zmq_pollitem_t items[] = { { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
                                   { servers ? zsock_resolve (servers) : NULL, 0, ZMQ_POLLIN, 0 } };
        if (zmq_poll (items, servers ? 2 : 1, -1) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            s_handle_pipe (&self);
        else if (items[1].revents & ZMQ_POLLIN)
            server_set_handle (self.servers, NULL, NULL);
    }
    if (self.view_id && self.control) {
        //  Stop publishing into the slot before the host frees it.
        zstr_sendx (self.control, "DROP", self.view_id, NULL);
        char *verb = NULL, *id = NULL;
        zsock_recv (self.control, "ss", &verb, &id);
        free (verb);
        free (id);
    }
    server_set_destroy (&self.servers);
    zsock_destroy (&self.control);
    free (self.view_id);
    free (self.report);
    free (self.args->session);
    free (self.args->registry);
    free (self.args->control);
    free (self.args);
}

actor_t *
agent_actor_new (const char *session, const char *registry, const char *control, atomic_uint *ids)
{
    s_args_t *args = (s_args_t *) calloc (1, sizeof (s_args_t));
    args->session = strdup (session);
    args->registry = strdup (registry);
    args->control = strdup (control);
    args->ids = ids;
    actor_t *actor = actor_new (s_actor, args);
    if (!actor) {
        free (args->session);
        free (args->registry);
        free (args->control);
        free (args);
    }
    return actor;
}
