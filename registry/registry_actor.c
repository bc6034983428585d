/*  =========================================================================
    registry_actor - the merged tool catalogue of every agent (see .h)
    =========================================================================
*/

#include "registry_actor.h"

#include "catalog.h"
#include "log.h"

#include <jansson.h>

typedef struct {
    char *intake;         //  endpoint to bind for server actors
    char *control;        //  endpoint to bind for agent actors
} s_args_t;

typedef struct {
    catalog_slot_t *slot;            //  where its catalogs go (shared)
    mcpact_name_policy_t policy;     //  name policy
    json_t *functions;               //  function tools
    json_t *servers;                 //  [{id, name, endpoint}]
} s_view_t;

typedef struct {
    zsock_t *pipe;        //  to the runtime
    zsock_t *intake;      //  from server actors
    zsock_t *control;     //  from agent actors
    json_t *tools;        //  server id (text) -> tools array
    zhashx_t *views;      //  view id -> s_view_t
    bool terminated;      //  leave the loop
} self_t;

static void
s_view_destroy (void **item)
{
    s_view_t *view = (s_view_t *) *item;
    json_decref (view->functions);
    json_decref (view->servers);
    free (view);
    *item = NULL;
}

//  Builds and publishes one view's catalog; returns the rejections.
static json_t *
s_publish (self_t *self, s_view_t *view)
{
    json_t *servers = json_array ();
    size_t index;
    json_t *server;
    json_array_foreach (view->servers, index, server) {
        const char *id = json_string_value (json_object_get (server, "id"));
        json_t *tools = id ? json_object_get (self->tools, id) : NULL;
        json_array_append_new (servers,
                               json_pack ("{s:O,s:O,s:O}", "name", json_object_get (server, "name"),
                                          "endpoint", json_object_get (server, "endpoint"),
                                          "tools", tools ? tools : json_array ()));
        if (!tools)
            json_decref (json_object_get (json_array_get (servers, index), "tools"));
    }
    json_t *rejected = json_array ();
    catalog_t *catalog = catalog_build (view->policy, view->functions, servers, rejected);
    json_decref (servers);
    if (catalog)
        catalog_slot_publish (view->slot, catalog);
    return rejected;
}

static bool
s_view_has (s_view_t *view, const char *server_id)
{
    size_t index;
    json_t *server;
    json_array_foreach (view->servers, index, server) {
        const char *id = json_string_value (json_object_get (server, "id"));
        if (id && strcmp (id, server_id) == 0)
            return true;
    }
    return false;
}

static void
s_republish (self_t *self, const char *server_id)
{
    for (s_view_t *view = (s_view_t *) zhashx_first (self->views); view;
         view = (s_view_t *) zhashx_next (self->views)) {
        if (!s_view_has (view, server_id))
            continue;
        json_t *rejected = s_publish (self, view);
        size_t index;
        json_t *rejection;
        json_array_foreach (rejected, index, rejection)
            log_warn ("%s", json_string_value (json_object_get (rejection, "reason")));
        json_decref (rejected);
    }
}

static void
s_handle_intake (self_t *self)
{
    while (zsock_events (self->intake) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (self->intake);
        char *verb = zmsg_popstr (msg);
        char *id = zmsg_popstr (msg);
        if (verb && id && strcmp (verb, "TOOLS") == 0) {
            free (zmsg_popstr (msg));    //  the name: views know it
            char *endpoint = zmsg_popstr (msg);
            char *text = zmsg_popstr (msg);
            json_error_t error;
            json_t *tools = text ? json_loads (text, 0, &error) : NULL;
            if (json_is_array (tools)) {
                json_object_set_new (self->tools, id, tools);
                s_republish (self, id);
            }
            else
                json_decref (tools);
            free (endpoint);
            free (text);
        }
        else if (verb && id && strcmp (verb, "GONE") == 0) {
            if (json_object_get (self->tools, id)) {
                json_object_del (self->tools, id);
                s_republish (self, id);
            }
        }
        free (verb);
        free (id);
        zmsg_destroy (&msg);
    }
}

static void
s_handle_control (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->control);
    if (!msg)
        return;
    zframe_t *routing_id = zmsg_pop (msg);
    char *verb = zmsg_popstr (msg);
    char *view_id = zmsg_popstr (msg);
    zmsg_t *reply = zmsg_new ();
    zmsg_append (reply, &routing_id);
    //  Tool lists pushed before this request must be in what we build.
    s_handle_intake (self);
    if (verb && view_id && strcmp (verb, "VIEW") == 0) {
        char *slot_text = zmsg_popstr (msg);
        char *policy = zmsg_popstr (msg);
        char *functions = zmsg_popstr (msg);
        char *servers = zmsg_popstr (msg);
        s_view_t *view = (s_view_t *) calloc (1, sizeof (s_view_t));
        json_error_t error;
        view->slot = (catalog_slot_t *) (uintptr_t) strtoull (slot_text ?: "0", NULL, 16);
        actor_handoff_acquire (view->slot);
        view->policy = (mcpact_name_policy_t) atoi (policy ?: "0");
        view->functions = functions ? json_loads (functions, 0, &error) : NULL;
        view->servers = servers ? json_loads (servers, 0, &error) : NULL;
        if (!view->functions)
            view->functions = json_array ();
        if (!view->servers)
            view->servers = json_array ();
        json_t *rejected = s_publish (self, view);
        zhashx_update (self->views, view_id, view);
        char *text = json_dumps (rejected, JSON_COMPACT);
        zmsg_addstr (reply, "VIEWED");
        zmsg_addstr (reply, view_id);
        zmsg_addstr (reply, text);
        free (text);
        json_decref (rejected);
        free (slot_text);
        free (policy);
        free (functions);
        free (servers);
    }
    else if (verb && view_id && strcmp (verb, "DROP") == 0) {
        zhashx_delete (self->views, view_id);
        zmsg_addstr (reply, "DROPPED");
        zmsg_addstr (reply, view_id);
    }
    else
        zmsg_addstr (reply, "ERROR");
    zmsg_send (&reply, self->control);
    free (verb);
    free (view_id);
    zmsg_destroy (&msg);
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = (s_args_t *) arg;
    self_t self = {0};
    self.pipe = pipe;
    self.tools = json_object ();
    self.views = zhashx_new ();
    zhashx_set_destructor (self.views, s_view_destroy);
    self.intake = zsock_new (ZMQ_PULL);
    self.control = zsock_new (ZMQ_ROUTER);
    if (self.intake)
        zsock_set_rcvhwm (self.intake, 0);
    if (!self.intake || !self.control || zsock_bind (self.intake, "%s", args->intake) != 0
        || zsock_bind (self.control, "%s", args->control) != 0)
        actor_fail (pipe, "cannot bind the registry's sockets");
    else {
        actor_ready (pipe);
        zpoller_t *poller = zpoller_new (pipe, self.intake, self.control, NULL);
        while (!self.terminated) {
            zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
            if (which == pipe || !which) {
                char *verb = which ? zstr_recv (pipe) : NULL;
                if (!which && !zpoller_terminated (poller)) {
                    free (verb);
                    continue;
                }
                if (!verb || strcmp (verb, "$TERM") == 0)
                    self.terminated = true;
                free (verb);
            }
            else if (which == self.intake)
                s_handle_intake (&self);
            else if (which == self.control)
                s_handle_control (&self);
        }
        zpoller_destroy (&poller);
    }
    zsock_destroy (&self.intake);
    zsock_destroy (&self.control);
    zhashx_destroy (&self.views);
    json_decref (self.tools);
    free (args->intake);
    free (args->control);
    free (args);
}

actor_t *
registry_actor_new (const char *intake, const char *control)
{
    s_args_t *args = (s_args_t *) calloc (1, sizeof (s_args_t));
    args->intake = strdup (intake);
    args->control = strdup (control);
    actor_t *actor = actor_new (s_actor, args);
    if (!actor) {
        free (args->intake);
        free (args->control);
        free (args);
    }
    return actor;
}
