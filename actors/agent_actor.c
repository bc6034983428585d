/*  =========================================================================
    agent_actor - what one agent's LLM sees (see agent_actor.h)
    =========================================================================
*/

#include "agent_actor.h"

#include "log.h"
#include "server_set.h"

#include <errno.h>
#include <pthread.h>

typedef struct {
    char *session;    //  session actor endpoint
    char *registry;   //  registry intake
    char *control;    //  registry control
    atomic_uint *ids; //  the runtime's id counter
} s_args_t;

struct _agent_views_t {
    pthread_mutex_t lock; //  one request at a time, on both sockets
    char *session;        //  session actor endpoint
    char *control;        //  registry control endpoint
    zsock_t *to_session;  //  DEALER to the session actor, once used
    zsock_t *to_control;  //  DEALER to the registry's control, once used
};

struct _agent_view_t {
    agent_views_t *views; //  its session's sockets
    char *view_id;        //  registered view, or NULL
};

typedef struct {
    zsock_t *pipe;                //  to the host API
    s_args_t *args;               //  as given
    server_set_t *servers;        //  own servers (maybe none)
    agent_views_t *views;         //  the sockets its view talks through
    agent_view_t *view;           //  its view at the registry
    char *report;                 //  start report, once started
    mcpact_progress_fn *progress; //  host's progress callback
    void *progress_arg;           //  its argument
    bool terminated;              //  leave the loop
} self_t;

agent_views_t *
agent_views_new (const char *session, const char *control)
{
    agent_views_t *self = (agent_views_t *) calloc (1, sizeof (agent_views_t));
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    self->session = strdup (session);
    self->control = strdup (control);
    return self;
}

void
agent_views_destroy (agent_views_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agent_views_t *self = *self_p;
    zsock_destroy (&self->to_session);
    zsock_destroy (&self->to_control);
    pthread_mutex_destroy (&self->lock);
    free (self->session);
    free (self->control);
    free (self);
    *self_p = NULL;
}

//  The socket `*sock` to `endpoint`, made if need be; called under the
//  lock. NULL if it cannot be made.
static zsock_t *
s_socket (zsock_t **sock, const char *endpoint)
{
    if (!*sock)
        *sock = zsock_new_dealer (endpoint);
    return *sock;
}

//  A request whose answer did not come as it should leaves its socket out
//  of step: it is closed, and the next request makes a new one.
static void
s_socket_spoilt (zsock_t **sock)
{
    zsock_destroy (sock);
}

//  Asks the session for its servers (starting them if need be): their
//  list for the registry and the start report, both JSON text, ours.
static int
s_session_servers (agent_view_t *self, char **servers_text, char **report_text, char **owner)
{
    agent_views_t *views = self->views;
    pthread_mutex_lock (&views->lock);
    zsock_t *session = s_socket (&views->to_session, views->session);
    int rc = -1;
    char *verb = NULL;
    if (session) {
        zstr_send (session, "SERVERS");
        rc = zsock_recv (session, "ssss", &verb, servers_text, report_text, owner);
        if (rc != 0 || !verb || strcmp (verb, "SERVERS") != 0 || !*servers_text || !*report_text) {
            free (*servers_text);
            free (*report_text);
            free (*owner);
            *servers_text = *report_text = *owner = NULL;
            s_socket_spoilt (&views->to_session);
            rc = -1;
        }
    }
    free (verb);
    pthread_mutex_unlock (&views->lock);
    return rc;
}

//  Has the session pass on to the registry what its servers said.
static void
s_session_drain (agent_view_t *self)
{
    agent_views_t *views = self->views;
    pthread_mutex_lock (&views->lock);
    zsock_t *session = s_socket (&views->to_session, views->session);
    if (session) {
        zstr_send (session, "DRAIN");
        char *reply = zstr_recv (session);
        if (!reply)
            s_socket_spoilt (&views->to_session);
        free (reply);
    }
    pthread_mutex_unlock (&views->lock);
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

//  Registers the view with the registry: `servers_text` are the servers
//  it has, `report` (or else `report_text`) their start report; all three
//  are ours. `owner` is the server set whose list the view follows. Returns the report with the
//  registry's rejections merged in. The session's list passes to the registry as the session wrote
//  it, and its report goes back unchanged unless the registry rejected a tool: a hand-off to a new
//  agent reads and writes no JSON here but the (mostly empty) list of rejections.
static char *
s_view_register (agent_view_t *self, const char *view_id, const char *slot, const char *policy,
                 const char *functions, char *servers_text, char *report_text, json_t *report,
                 const char *owner)
{
    agent_views_t *views = self->views;
    pthread_mutex_lock (&views->lock);
    zsock_t *control = s_socket (&views->to_control, views->control);
    char *verb = NULL, *id = NULL, *rejected_text = NULL;
    if (control) {
        zsock_send (control, "sssssss", "VIEW", view_id, slot, policy, functions, servers_text,
                    owner ? owner : "");
        if (zsock_recv (control, "sss", &verb, &id, &rejected_text) != 0)
            s_socket_spoilt (&views->to_control);
    }
    pthread_mutex_unlock (&views->lock);
    if (verb && strcmp (verb, "VIEWED") == 0) {
        json_error_t error;
        json_t *rejected = json_loads (rejected_text, 0, &error);
        if (json_array_size (rejected) > 0) {
            if (!report)
                report = json_loads (report_text, 0, &error);
            s_merge_rejections (report, rejected);
        }
        json_decref (rejected);
        self->view_id = strdup (view_id);
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
    return text;
}

agent_view_t *
agent_view_new (agent_views_t *views)
{
    agent_view_t *self = (agent_view_t *) calloc (1, sizeof (agent_view_t));
    if (self)
        self->views = views;
    return self;
}

char *
agent_view_start (agent_view_t *self, const char *view_id, const char *slot, const char *policy,
                  const char *functions)
{
    char *servers_text = NULL, *report_text = NULL, *owner = NULL;
    json_t *report = NULL;
    if (s_session_servers (self, &servers_text, &report_text, &owner) != 0) {
        servers_text = strdup ("[]");
        report =
            json_pack ("{s:[],s:i,s:s}", "servers", "ms", 0, "error", "the session did not answer");
    }
    char *text = s_view_register (self, view_id, slot, policy, functions, servers_text, report_text,
                                  report, owner);
    free (owner);
    return text;
}

//  Sends `verb view_id` to the registry's control and waits for its
//  answer (SYNC, DROP).
static void
s_view_ask_registry (agent_view_t *self, const char *verb)
{
    agent_views_t *views = self->views;
    if (!self->view_id)
        return;
    pthread_mutex_lock (&views->lock);
    zsock_t *control = s_socket (&views->to_control, views->control);
    if (control) {
        zstr_sendx (control, verb, self->view_id, NULL);
        char *reply = NULL, *id = NULL;
        if (zsock_recv (control, "ss", &reply, &id) != 0)
            s_socket_spoilt (&views->to_control);
        free (reply);
        free (id);
    }
    pthread_mutex_unlock (&views->lock);
}

void
agent_view_sync (agent_view_t *self)
{
    //  The servers' words reach the registry through their owner, so the
    //  owner passes them on first.
    s_session_drain (self);
    s_view_ask_registry (self, "SYNC"); //  returns once the registry has built
}

void
agent_view_destroy (agent_view_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agent_view_t *self = *self_p;
    //  Stop publishing into the slot before the host frees it.
    s_view_ask_registry (self, "DROP");
    free (self->view_id);
    free (self);
    *self_p = NULL;
}

static char *
s_start (self_t *self, zmsg_t *msg)
{
    char *view_id = zmsg_popstr (msg);
    char *slot = zmsg_popstr (msg);
    char *policy = zmsg_popstr (msg);
    char *functions = zmsg_popstr (msg);
    char *text = NULL;
    if (server_set_size (self->servers) > 0) {
        server_set_run (self->servers, self->args->registry, self->args->ids, self->progress,
                        self->progress_arg);
        json_t *servers = server_set_servers (self->servers);
        char *servers_text = json_dumps (servers, JSON_COMPACT);
        json_decref (servers);
        char owner[16];
        snprintf (owner, sizeof owner, "%u", server_set_owner (self->servers));
        text = s_view_register (self->view, view_id, slot, policy, functions, servers_text, NULL,
                                server_set_report (self->servers), owner);
    } else
        text = agent_view_start (self->view, view_id, slot, policy, functions);
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
    else if (strcmp (verb, "ADD") == 0 && self->report && !server_set_started (self->servers)) {
        //  Started on the session's servers (its own were all removed
        //  before): servers of its own would replace those.
        mcpact_server_config_t *config = (mcpact_server_config_t *) actor_msg_popptr (msg);
        if (config)
            actor_handoff_release (config); //  back to the host, which keeps it
        zstr_sendx (self->pipe, "ERROR",
                    "the agent started on its session's servers; add the server to the session",
                    NULL);
    } else if (server_set_command (self->servers, verb, msg, self->pipe, &self->progress,
                                   &self->progress_arg))
        ;
    else if (strcmp (verb, "SYNC") == 0) {
        //  SYNC  ->  OK once the registry has built from everything sent:
        //  the servers' words reach the registry through their owner, so
        //  the owner passes them on first.
        if (server_set_started (self->servers)) {
            server_set_handle (self->servers, NULL, NULL);
            s_view_ask_registry (self->view, "SYNC");
        } else
            agent_view_sync (self->view);
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
    self.servers = server_set_new (self.args->control);
    self.views = agent_views_new (self.args->session, self.args->control);
    self.view = self.views ? agent_view_new (self.views) : NULL;
    if (self.view)
        actor_ready (pipe);
    else {
        actor_fail (pipe, "out of memory");
        self.terminated = true;
    }
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
    agent_view_destroy (&self.view); //  drops the view first
    agent_views_destroy (&self.views);
    server_set_destroy (&self.servers);
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
