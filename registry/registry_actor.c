/*  =========================================================================
    registry_actor - the merged tool catalogue of every agent (see .h)
    =========================================================================
*/

#include "registry_actor.h"

#include "catalog.h"
#include "log.h"

#include <jansson.h>

typedef struct {
    char *intake;    //  endpoint to bind for server actors
    char *control;   //  endpoint to bind for agent actors
    char *functions; //  function broker, which runs host callbacks
    char *events;    //  endpoint to bind for event subscribers
} s_args_t;

typedef struct {
    char *id;                    //  view id
    catalog_slot_t *slot;        //  where its catalogs go (shared)
    mcpact_name_policy_t policy; //  name policy
    json_t *functions;           //  function tools
    json_t *servers;             //  [{id, name, endpoint}]
    char *owner;                 //  the server set whose list it follows, or NULL
    catalog_t *published;        //  what it was last given
    char *rejected;              //  its rejections then, as JSON text
} s_view_t;

//  The last catalog built for a new view without a host filter, kept for
//  the next view that asks for the same: agents handed a conversation one
//  after another on one session ask for the same tools each time, and the
//  build is most of what a new view costs. A catalog is a function of the
//  view's policy, functions and servers and of the servers' tools, so it
//  serves while those are the same: the same VIEW text, the same `tools`
//  generation.
typedef struct {
    char *request;       //  policy, functions and servers as the VIEW gave them
    unsigned generation; //  of the tools it was built from
    catalog_t *catalog;  //  what was built (a reference)
    char *rejected;      //  the rejections then, as JSON text
} s_built_t;

typedef struct {
    zsock_t *pipe;       //  to the runtime
    zsock_t *intake;     //  from server actors
    zsock_t *control;    //  from agent actors
    zsock_t *functions;  //  DEALER to the function broker
    zsock_t *events;     //  PUB: TOOLS_CHANGED, SERVER_STATE
    json_t *tools;       //  server id (text) -> tools array
    json_t *owners;      //  owner id (text) -> its servers, as OWNER said last
    unsigned generation; //  of `tools` and `owners`: counts their changes
    s_built_t built;     //  the last catalog built for a new view
    zhashx_t *views;     //  view id -> s_view_t
    bool terminated;     //  leave the loop
} self_t;

static void
s_built_clear (s_built_t *self)
{
    free (self->request);
    catalog_unref (&self->catalog);
    free (self->rejected);
    memset (self, 0, sizeof *self);
}

static void
s_view_destroy (void **item)
{
    s_view_t *view = (s_view_t *) *item;
    json_decref (view->functions);
    json_decref (view->servers);
    free (view->owner);
    catalog_unref (&view->published);
    free (view->rejected);
    free (view->id);
    free (view);
    *item = NULL;
}

//  True if the host has a filter on the tools of the slot's agent.
static bool
s_filtering (catalog_slot_t *slot)
{
    pthread_mutex_lock (&slot->lock);
    bool filtering = slot->filter != NULL;
    pthread_mutex_unlock (&slot->lock);
    return filtering;
}

//  The host's filter, if any, on one server's tools.
static json_t *
s_filtered (catalog_slot_t *slot, const char *server, json_t *tools)
{
    pthread_mutex_lock (&slot->lock);
    mcpact_tool_filter_fn *filter = slot->filter;
    void *arg = slot->filter_arg;
    char *agent = slot->agent ? strdup (slot->agent) : NULL;
    pthread_mutex_unlock (&slot->lock);
    json_t *kept = json_array ();
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        char *text = filter ? json_dumps (tool, JSON_COMPACT) : NULL;
        if (!filter || (text && filter (agent, server, text, arg)))
            json_array_append (kept, tool);
        free (text);
    }
    free (agent);
    return kept;
}

//  Tells the host and any subscriber what changed in a view.
static void
s_announce (self_t *self, s_view_t *view, json_t *change)
{
    catalog_slot_t *slot = view->slot;
    pthread_mutex_lock (&slot->lock);
    mcpact_tools_changed_fn *changed = slot->changed;
    void *arg = slot->changed_arg;
    if (slot->agent)
        json_object_set_new (change, "agent", json_string (slot->agent));
    pthread_mutex_unlock (&slot->lock);
    char *text = json_dumps (change, JSON_COMPACT);
    log_info ("tools changed: %s", text);
    zstr_sendx (self->events, "TOOLS_CHANGED", view->id, text, NULL);
    if (changed) {
        //  Host code runs on a worker, not here.
        void *fn;
        memcpy (&fn, &changed, sizeof fn);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, "EVENT");
        zmsg_addmem (msg, &fn, sizeof fn);
        zmsg_addmem (msg, &arg, sizeof arg);
        zmsg_addstr (msg, text);
        zmsg_send (&msg, self->functions);
    }
    free (text);
}

//  Builds and publishes one view's catalog; returns the rejections. When
//  `announce`, a change from what the view had is announced.
static json_t *
s_publish (self_t *self, s_view_t *view, bool announce)
{
    json_t *servers = json_array ();
    size_t index;
    json_t *server;
    json_array_foreach (view->servers, index, server) {
        const char *id = json_string_value (json_object_get (server, "id"));
        const char *name = json_string_value (json_object_get (server, "name"));
        json_t *tools = id ? json_object_get (self->tools, id) : NULL;
        json_t *allowed = json_object_get (server, "allowed");
        //  Never listed (not up): what it would have is what its
        //  allow-list says, and those names are kept for it.
        json_array_append_new (
            servers, json_pack ("{s:O,s:O,s:o,s:b}", "name", json_object_get (server, "name"),
                                "endpoint", json_object_get (server, "endpoint"),
                                !tools && allowed ? "reserved" : "tools",
                                !tools && allowed ? json_incref (allowed)
                                                  : s_filtered (view->slot, name, tools),
                                "up", tools != NULL));
    }
    json_t *rejected = json_array ();
    catalog_t *catalog = catalog_build (view->policy, view->functions, servers, rejected);
    json_decref (servers);
    if (!catalog)
        return rejected;
    json_t *change = announce && view->published ? catalog_diff (view->published, catalog) : NULL;
    catalog_unref (&view->published);
    view->published = catalog_ref (catalog);
    catalog_slot_publish (view->slot, catalog);
    //  Announced once published: whoever hears of a change and lists the
    //  tools at once (a SUB, the host's callback) sees it.
    if (json_array_size (json_object_get (change, "added")) ||
        json_array_size (json_object_get (change, "removed")) ||
        json_array_size (json_object_get (change, "changed")))
        s_announce (self, view, change);
    json_decref (change);
    return rejected;
}

//  True if the view has one of the servers in `changed` (id -> anything).
static bool
s_view_has (s_view_t *view, json_t *changed)
{
    size_t index;
    json_t *server;
    json_array_foreach (view->servers, index, server) {
        const char *id = json_string_value (json_object_get (server, "id"));
        if (id && json_object_get (changed, id))
            return true;
    }
    return false;
}

//  Rebuilds, once each, the views that have a server in `changed` or
//  follow an owner in `owners` (whose new list they take first).
static void
s_republish (self_t *self, json_t *changed, json_t *owners)
{
    for (s_view_t *view = (s_view_t *) zhashx_first (self->views); view;
         view = (s_view_t *) zhashx_next (self->views)) {
        json_t *list = view->owner && json_object_get (owners, view->owner)
                           ? json_object_get (self->owners, view->owner)
                           : NULL;
        if (list) {
            json_decref (view->servers);
            view->servers = json_incref (list);
        } else if (!s_view_has (view, changed))
            continue;
        json_t *rejected = s_publish (self, view, true);
        //  Say it once, not at every rebuild.
        char *text = json_dumps (rejected, JSON_COMPACT);
        if (text && (!view->rejected || strcmp (text, view->rejected) != 0)) {
            size_t index;
            json_t *rejection;
            json_array_foreach (rejected, index, rejection)
                log_warn ("%s", json_string_value (json_object_get (rejection, "reason")));
            free (view->rejected);
            view->rejected = text;
            text = NULL;
        }
        free (text);
        json_decref (rejected);
    }
}

//  A server's state change, STATE server_id json [fn arg]: published to
//  subscribers and, with the host's callback (state_sink.h), handed to the
//  function broker to call it.
static void
s_state (self_t *self, const char *id, zmsg_t *msg)
{
    char *text = zmsg_popstr (msg);
    zframe_t *fn = zmsg_pop (msg);
    zframe_t *arg = zmsg_pop (msg);
    zstr_sendx (self->events, "SERVER_STATE", id, text ? text : "{}", NULL);
    if (fn && arg) {
        zmsg_t *event = zmsg_new ();
        zmsg_addstr (event, "EVENT");
        zmsg_append (event, &fn);
        zmsg_append (event, &arg);
        zmsg_addstr (event, text ? text : "{}");
        zmsg_send (&event, self->functions);
    }
    zframe_destroy (&fn);
    zframe_destroy (&arg);
    free (text);
}

//  A server's notification for the host, NOTIFY server_id event json
//  [fn arg]: published as "event server_id json" and, with the host's
//  callback, handed to the function broker to call it (as s_state).
static void
s_notify (self_t *self, const char *id, zmsg_t *msg)
{
    char *event = zmsg_popstr (msg);
    char *text = zmsg_popstr (msg);
    zframe_t *fn = zmsg_pop (msg);
    zframe_t *arg = zmsg_pop (msg);
    if (event && text)
        zstr_sendx (self->events, event, id, text, NULL);
    if (fn && arg) {
        zmsg_t *call = zmsg_new ();
        zmsg_addstr (call, "EVENT");
        zmsg_append (call, &fn);
        zmsg_append (call, &arg);
        zmsg_addstr (call, text ? text : "{}");
        zmsg_send (&call, self->functions);
    }
    zframe_destroy (&fn);
    zframe_destroy (&arg);
    free (event);
    free (text);
}

//  Takes every tool list and departure waiting, then rebuilds each view
//  they touch once: a burst (a thousand servers listing again after a
//  reload) costs one rebuild per view, not one per server.
static void
s_handle_intake (self_t *self)
{
    json_t *changed = json_object ();
    json_t *owners = json_object ();
    while (zsock_events (self->intake) & ZMQ_POLLIN) {
        zmsg_t *msg = zmsg_recv (self->intake);
        char *verb = zmsg_popstr (msg);
        char *id = zmsg_popstr (msg);
        if (verb && id && strcmp (verb, "TOOLS") == 0) {
            free (zmsg_popstr (msg)); //  the name: views know it
            free (zmsg_popstr (msg)); //  the endpoint: likewise
            char *text = zmsg_popstr (msg);
            json_error_t error;
            json_t *tools = text ? json_loads (text, 0, &error) : NULL;
            if (json_is_array (tools)) {
                json_object_set_new (self->tools, id, tools);
                json_object_set (changed, id, json_true ());
            } else if (text && strcmp (text, "null") == 0) {
                //  Withdrawn while the server is down: listed as not up.
                if (json_object_get (self->tools, id)) {
                    json_object_del (self->tools, id);
                    json_object_set (changed, id, json_true ());
                }
            } else
                json_decref (tools);
            free (text);
        } else if (verb && id && strcmp (verb, "STATE") == 0)
            s_state (self, id, msg);
        else if (verb && id && strcmp (verb, "NOTIFY") == 0)
            s_notify (self, id, msg);
        else if (verb && id && strcmp (verb, "OWNER") == 0) {
            //  OWNER owner_id [servers_json]: a server set's list, as it
            //  is now (none: the set is gone). Lists are replaced whole,
            //  never changed in place: views share them.
            char *text = zmsg_popstr (msg);
            json_error_t error;
            json_t *servers = text ? json_loads (text, 0, &error) : NULL;
            if (json_is_array (servers)) {
                json_object_set_new (self->owners, id, servers);
                json_object_set (owners, id, json_true ());
            } else {
                json_decref (servers);
                json_object_del (self->owners, id);
            }
            free (text);
        } else if (verb && id && strcmp (verb, "GONE") == 0) {
            if (json_object_get (self->tools, id)) {
                json_object_del (self->tools, id);
                json_object_set (changed, id, json_true ());
            }
        }
        free (verb);
        free (id);
        zmsg_destroy (&msg);
    }
    if (json_object_size (changed) || json_object_size (owners)) {
        self->generation++;
        s_built_clear (&self->built);
        s_republish (self, changed, owners);
    }
    json_decref (changed);
    json_decref (owners);
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
        char *owner = zmsg_popstr (msg);
        if (owner && !*owner) {
            free (owner);
            owner = NULL;
        }
        s_view_t *view = (s_view_t *) calloc (1, sizeof (s_view_t));
        view->id = strdup (view_id);
        json_error_t error;
        view->slot = (catalog_slot_t *) (uintptr_t) strtoull (slot_text ?: "0", NULL, 16);
        actor_handoff_acquire (view->slot);
        view->policy = (mcpact_name_policy_t) atoi (policy ?: "0");
        view->functions = functions ? json_loads (functions, 0, &error) : NULL;
        view->servers = servers ? json_loads (servers, 0, &error) : NULL;
        if (!view->functions)
            view->functions = json_array ();
        //  The owner's list as the registry has it is the newest: the
        //  one in the VIEW was read before, and may be older.
        json_t *listed = owner ? json_object_get (self->owners, owner) : NULL;
        if (listed) {
            json_decref (view->servers);
            view->servers = json_incref (listed);
        }
        if (!view->servers)
            view->servers = json_array ();
        view->owner = owner;
        char *request = NULL;
        if (!s_filtering (view->slot) && asprintf (&request, "%s\n%s\n%s\n%s", policy ?: "",
                                                   functions ?: "", servers ?: "", owner ?: "") < 0)
            request = NULL;
        s_built_t *built = &self->built;
        char *text = NULL;
        if (request && built->request && built->generation == self->generation &&
            strcmp (request, built->request) == 0) {
            view->published = catalog_ref (built->catalog);
            catalog_slot_publish (view->slot, catalog_ref (built->catalog));
            text = strdup (built->rejected);
        } else {
            json_t *rejected = s_publish (self, view, false);
            text = json_dumps (rejected, JSON_COMPACT);
            json_decref (rejected);
            //  Kept only if no filter came while it was built.
            if (request && view->published && text && !s_filtering (view->slot)) {
                s_built_clear (built);
                built->request = request;
                request = NULL;
                built->generation = self->generation;
                built->catalog = catalog_ref (view->published);
                built->rejected = strdup (text);
            }
        }
        free (request);
        zhashx_update (self->views, view_id, view);
        view->rejected = strdup (text);
        zmsg_addstr (reply, "VIEWED");
        zmsg_addstr (reply, view_id);
        zmsg_addstr (reply, text);
        free (text);
        free (slot_text);
        free (policy);
        free (functions);
        free (servers);
    } else if (verb && view_id && strcmp (verb, "SYNC") == 0) {
        //  The intake was drained above: the view is as current as the
        //  servers' last words.
        zmsg_addstr (reply, "SYNCED");
        zmsg_addstr (reply, view_id);
    } else if (verb && view_id && strcmp (verb, "DROP") == 0) {
        zhashx_delete (self->views, view_id);
        zmsg_addstr (reply, "DROPPED");
        zmsg_addstr (reply, view_id);
    } else
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
    self_t self = { 0 };
    self.pipe = pipe;
    self.tools = json_object ();
    self.owners = json_object ();
    self.views = zhashx_new ();
    zhashx_set_destructor (self.views, s_view_destroy);
    self.intake = zsock_new (ZMQ_PULL);
    self.control = zsock_new (ZMQ_ROUTER);
    self.functions = zsock_new (ZMQ_DEALER);
    self.events = zsock_new (ZMQ_PUB);
    if (self.intake)
        zsock_set_rcvhwm (self.intake, 0);
    if (!self.intake || !self.control || !self.functions || !self.events ||
        zsock_bind (self.intake, "%s", args->intake) != 0 ||
        zsock_bind (self.control, "%s", args->control) != 0 ||
        zsock_connect (self.functions, "%s", args->functions) != 0 ||
        zsock_bind (self.events, "%s", args->events) != 0)
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
            } else if (which == self.intake)
                s_handle_intake (&self);
            else if (which == self.control)
                s_handle_control (&self);
        }
        zpoller_destroy (&poller);
    }
    zsock_destroy (&self.intake);
    zsock_destroy (&self.control);
    zsock_destroy (&self.functions);
    zsock_destroy (&self.events);
    zhashx_destroy (&self.views);
    s_built_clear (&self.built);
    json_decref (self.tools);
    json_decref (self.owners);
    free (args->intake);
    free (args->control);
    free (args->functions);
    free (args->events);
    free (args);
}

actor_t *
registry_actor_new (const char *intake, const char *control, const char *functions,
                    const char *events)
{
    s_args_t *args = (s_args_t *) calloc (1, sizeof (s_args_t));
    args->intake = strdup (intake);
    args->control = strdup (control);
    args->functions = strdup (functions);
    args->events = strdup (events);
    actor_t *actor = actor_new (s_actor, args);
    if (!actor) {
        free (args->intake);
        free (args->control);
        free (args->functions);
        free (args->events);
        free (args);
    }
    return actor;
}
