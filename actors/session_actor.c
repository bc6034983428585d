/*  =========================================================================
    session_actor - a session's servers, shared by all its agents (see .h)
    =========================================================================
*/

#include "session_actor.h"

#include "log.h"
#include "server_set.h"

#include <errno.h>

typedef struct {
    char *endpoint;   //  where agents reach us
    char *registry;   //  registry intake, for our servers
    char *control;    //  registry control, for the server set
    atomic_uint *ids; //  the runtime's id counter
} s_args_t;

typedef struct {
    zsock_t *pipe;                //  to the host API
    zsock_t *router;              //  agents
    server_set_t *servers;        //  the session's servers
    s_args_t *args;               //  as given
    mcpact_progress_fn *progress; //  host's progress callback
    void *progress_arg;           //  its argument
    bool terminated;              //  leave the loop
} self_t;

//  Starts the servers if need be and waits until all have reported;
//  agents' requests wait meanwhile.
static void
s_start (self_t *self)
{
    server_set_run (self->servers, self->args->registry, self->args->ids, self->progress,
                    self->progress_arg);
}

static char *
s_report_text (self_t *self)
{
    json_t *report = server_set_report (self->servers);
    char *text = json_dumps (report, JSON_COMPACT);
    json_decref (report);
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
    else if (strcmp (verb, "START") == 0) {
        s_start (self);
        char *text = s_report_text (self);
        zstr_sendx (self->pipe, "REPORT", text, NULL);
        free (text);
    }
    free (verb);
    zmsg_destroy (&msg);
}

static void
s_handle_agent (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return;
    zframe_t *routing_id = zmsg_pop (msg);
    char *verb = zmsg_popstr (msg);
    if (verb && strcmp (verb, "DRAIN") == 0) {
        //  An agent about to ask the registry: what our servers said
        //  goes there first.
        server_set_handle (self->servers, NULL, NULL);
        zmsg_t *reply = zmsg_new ();
        zmsg_append (reply, &routing_id);
        zmsg_addstr (reply, "DRAINED");
        zmsg_send (&reply, self->router);
    } else if (verb && strcmp (verb, "SERVERS") == 0) {
        //  The first asks start the servers and wait for them; later, a
        //  server being added is in the list as "starting" (the agent's
        //  view follows it: OWNER), so that no agent waits for it.
        if (!server_set_started (self->servers))
            s_start (self);
        json_t *servers = server_set_servers (self->servers);
        char *servers_text = json_dumps (servers, JSON_COMPACT);
        char *report_text = s_report_text (self);
        zmsg_t *reply = zmsg_new ();
        zmsg_append (reply, &routing_id);
        zmsg_addstr (reply, "SERVERS");
        zmsg_addstr (reply, servers_text);
        zmsg_addstr (reply, report_text);
        //  The agent's view follows the session's list as it changes.
        zmsg_addstrf (reply, "%u", server_set_owner (self->servers));
        zmsg_send (&reply, self->router);
        json_decref (servers);
        free (servers_text);
        free (report_text);
    }
    zframe_destroy (&routing_id);
    free (verb);
    zmsg_destroy (&msg);
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    self_t self = { 0 };
    self.pipe = pipe;
    self.args = (s_args_t *) arg;
    self.servers = server_set_new (self.args->control);
    self.router = zsock_new (ZMQ_ROUTER);
    if (!self.router || zsock_bind (self.router, "%s", self.args->endpoint) != 0)
        actor_fail (pipe, "cannot bind the session's socket");
    else {
        actor_ready (pipe);
        while (!self.terminated) {
            zsock_t *servers = server_set_sock (self.servers);
            zmq_pollitem_t items[] = { { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
                                       { zsock_resolve (self.router), 0, ZMQ_POLLIN, 0 },
                                       { servers ? zsock_resolve (servers) : NULL, 0, ZMQ_POLLIN,
                                         0 } };
            if (zmq_poll (items, servers ? 3 : 2, -1) < 0 && errno != EINTR)
                break;
            if (items[0].revents & ZMQ_POLLIN)
                s_handle_pipe (&self);
            else if (items[1].revents & ZMQ_POLLIN)
                s_handle_agent (&self);
            else if (items[2].revents & ZMQ_POLLIN)
                server_set_handle (self.servers, NULL, NULL);
        }
    }
    server_set_destroy (&self.servers);
    zsock_destroy (&self.router);
    free (self.args->endpoint);
    free (self.args->registry);
    free (self.args->control);
    free (self.args);
}

actor_t *
session_actor_new (const char *endpoint, const char *registry, const char *control,
                   atomic_uint *ids)
{
    s_args_t *args = (s_args_t *) calloc (1, sizeof (s_args_t));
    args->endpoint = strdup (endpoint);
    args->registry = strdup (registry);
    args->control = strdup (control);
    args->ids = ids;
    actor_t *actor = actor_new (s_actor, args);
    if (!actor) {
        free (args->endpoint);
        free (args->registry);
        free (args->control);
        free (args);
    }
    return actor;
}
