/*  =========================================================================
    group_features - what a group offers beside tools (see .h)

    Each request of the server actor for resources, prompts or logging is
    the verb of the public protocol that does it (docs/protocol.md), and
    each reply the MCP result the actor expects: the gateway answers a
    listing at once, in one reply, so the result has no nextCursor; a
    listing's items lose the gateway's `_mcpact`, and who listed each URI
    and prompt is kept to name that server when it is read or got. What
    the gateway and its servers refuse comes back as a JSON-RPC error that
    names the group's endpoint and carries the gateway's message.

    Events are the gateway's PUB (RESOURCE_UPDATED, RESOURCES_CHANGED,
    PROMPTS_CHANGED, SERVER_LOG), read by a SUB made once HELLO names the
    endpoint: those of the agent's servers become notifications, an update
    only for a URI subscribed to through this group. A SUB sees only what
    is published while it is connected; the subscriptions themselves are
    the gateway's and are made again by the server actor after the group
    comes back.
    =========================================================================
*/

#include "group_features.h"

#include "endpoint.h"
#include "log.h"
#include "mcpact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _group_features_t {
    size_t max_message;    //  the gateway's frame limit, 0: not said (group_fits)
    bool curve;            //  the connection uses CURVE
    char *name;            //  the session's server (the group), for logs
    char *endpoint;        //  the gateway's, for messages and the events' host
    char *agent;           //  the gateway's agent that is the group
    zsock_t *dealer;       //  the transport's, to the gateway
    zlist_t *out;          //  the transport's messages for the actor
    zsock_t *events;       //  SUB to the gateway's events, or NULL
    char *events_at;       //  its endpoint, or NULL
    json_t *servers;       //  the agent's servers' names -> true: whose events count
    json_t *uri_owners;    //  uri -> the group's server that lists it (null: several)
    json_t *prompt_owners; //  prompt name -> likewise
    json_t *subscribed;    //  uri -> true: updates to pass on
    json_t *pending;       //  wire id -> the uri of a SUBSCRIBE in flight
};

int
group_send (zsock_t *dealer, const char *verb, const char *id, const char *a, const char *b,
            const char *c, const char *d)
{
    const char *frames[] = { verb, id, a, b, c, d };
    int count = 2;
    while (count < 6 && frames[count])
        count++;
    void *handle = zsock_resolve (dealer);
    for (int i = 0; i < count; i++)
        if (zmq_send (handle, frames[i], strlen (frames[i]),
                      ZMQ_DONTWAIT | (i + 1 < count ? ZMQ_SNDMORE : 0)) < 0)
            return -1;
    return 0;
}

void
group_queue (zlist_t *out, json_t *message)
{
    json_object_set_new (message, "jsonrpc", json_string ("2.0"));
    char *text = json_dumps (message, JSON_COMPACT);
    json_decref (message);
    if (text && zlist_append (out, text) != 0)
        free (text); //  the list owns what it holds
}

//  What CURVE adds to each frame on the wire: the MESSAGE command's name
//  (8 bytes), its nonce (8), the box's MAC (16) and the flags (1).
#define CURVE_FRAME_OVERHEAD 33

int
group_fits (size_t max_message, bool curve, const char *what, const char *const *frames,
            const char *const *names, int count, char *text, size_t size)
{
    size_t largest = 0;
    int which = 0;
    for (int i = 0; i < count; i++)
        if (frames[i] && strlen (frames[i]) > largest) {
            largest = strlen (frames[i]);
            which = i;
        }
    if (!max_message || largest + (curve ? CURVE_FRAME_OVERHEAD : 0) <= max_message)
        return 0;
    snprintf (text, size,
              "%s is larger than the group's maxMessageBytes (%zu bytes, the limit of one "
              "frame): its %s frame is %zu bytes%s; nothing was sent",
              what, max_message, names[which], largest,
              curve ? " (and CURVE adds 33 bytes to a frame)" : "");
    return -1;
}

void
group_queue_error (zlist_t *out, json_t *id, int code, const char *message)
{
    group_queue_failure (out, id, code, -1, message);
}

void
group_queue_failure (zlist_t *out, json_t *id, int code, int status, const char *message)
{
    //  The group's own failure (out of memory, its gateway shutting
    //  down) is its server's failure here: this runtime is fine, the
    //  server it asks (the group) is not.
    if (status == MCPACT_ERR_INTERNAL)
        status = MCPACT_ERR_SERVER;
    json_t *error = json_pack ("{s:i,s:s}", "code", code, "message", message);
    if (error && status >= 0)
        json_object_set_new (error, "data", json_pack ("{s:i}", "mcpactStatus", status));
    group_queue (out, error ? json_pack ("{s:O,s:o}", "id", id, "error", error) : NULL);
}

group_features_t *
group_features_new (const char *name, const char *endpoint, const char *agent, zsock_t *dealer,
                    zlist_t *out)
{
    group_features_t *self = (group_features_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->name = strdup (name);
    self->endpoint = strdup (endpoint);
    self->agent = strdup (agent);
    self->dealer = dealer;
    self->out = out;
    self->servers = json_object ();
    self->uri_owners = json_object ();
    self->prompt_owners = json_object ();
    self->subscribed = json_object ();
    self->pending = json_object ();
    if (!self->name || !self->endpoint || !self->agent || !self->servers || !self->uri_owners ||
        !self->prompt_owners || !self->subscribed || !self->pending)
        group_features_destroy (&self);
    return self;
}

void
group_features_limits (group_features_t *self, size_t max_message, bool curve)
{
    self->max_message = max_message;
    self->curve = curve;
}

void
group_features_destroy (group_features_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    group_features_t *self = *self_p;
    zsock_destroy (&self->events);
    free (self->events_at);
    json_decref (self->servers);
    json_decref (self->uri_owners);
    json_decref (self->prompt_owners);
    json_decref (self->subscribed);
    json_decref (self->pending);
    free (self->name);
    free (self->endpoint);
    free (self->agent);
    free (self);
    *self_p = NULL;
}

zsock_t *
group_features_events (group_features_t *self)
{
    return self->events;
}

const char *
group_features_events_at (group_features_t *self)
{
    return self->events_at;
}

//  Whether any server's capabilities in `statuses` declare `outer` (and,
//  if `flag`, that flag in it).
static bool
s_any_declares (json_t *statuses, const char *outer, const char *flag)
{
    size_t index;
    json_t *status;
    json_array_foreach (statuses, index, status) {
        json_t *capability = json_object_get (json_object_get (status, "capabilities"), outer);
        if (json_is_object (capability) &&
            (!flag || json_is_true (json_object_get (capability, flag))))
            return true;
    }
    return false;
}

//  STATUS id status_json: what the agent's servers declared. Events need
//  the SUB: without it nothing is offered that only an event could carry.
json_t *
group_features_offers (group_features_t *self, const char *text, json_t **instructions_p)
{
    json_t *statuses = text ? json_loads (text, 0, NULL) : NULL;
    if (text && !json_is_array (statuses))
        log_warn ("group %s: the STATUS answer of %s is not a JSON array; offering tools only",
                  self->name, self->endpoint);
    bool events = self->events != NULL;
    json_t *offers = json_pack ("{s:{s:b}}", "tools", "listChanged", 1);
    if (s_any_declares (statuses, "resources", NULL)) {
        json_t *resources = json_object ();
        if (events && s_any_declares (statuses, "resources", "subscribe"))
            json_object_set_new (resources, "subscribe", json_true ());
        if (events && s_any_declares (statuses, "resources", "listChanged"))
            json_object_set_new (resources, "listChanged", json_true ());
        json_object_set_new (offers, "resources", resources);
    }
    if (s_any_declares (statuses, "prompts", NULL))
        json_object_set_new (offers, "prompts",
                             events && s_any_declares (statuses, "prompts", "listChanged")
                                 ? json_pack ("{s:b}", "listChanged", 1)
                                 : json_object ());
    if (events && s_any_declares (statuses, "logging", NULL))
        json_object_set_new (offers, "logging", json_object ());
    //  The servers' instructions, each under its name, as one text.
    char *joined = NULL;
    size_t index;
    json_t *status;
    json_array_foreach (statuses, index, status) {
        const char *name = json_string_value (json_object_get (status, "name"));
        const char *instructions = json_string_value (json_object_get (status, "instructions"));
        if (name)
            json_object_set_new (self->servers, name, json_true ());
        if (!name || !instructions)
            continue;
        char *more = NULL;
        if (asprintf (&more, "%s%s%s: %s", joined ? joined : "", joined ? "\n\n" : "", name,
                      instructions) < 0)
            more = NULL;
        free (joined);
        joined = more;
    }
    *instructions_p = joined ? json_string (joined) : NULL;
    free (joined);
    json_decref (statuses);
    return offers;
}

//  The group's server that listed `key` in `owners` last, or "" (none, or
//  several: the gateway chooses, or says which candidates there are).
static const char *
s_owner (json_t *owners, const char *key)
{
    const char *server = key ? json_string_value (json_object_get (owners, key)) : NULL;
    return server ? server : "";
}

//  The requests for resources, prompts and logging, each as its verb:
//    resources/list            RESOURCES  rN agent
//    resources/templates/list  TEMPLATES  TN agent
//    prompts/list              PROMPTS    PN agent
//    resources/read {uri}      READ       RN agent uri server
//    prompts/get {name, args}  PROMPT     GN agent name args_json server
//    resources/(un)subscribe   SUBSCRIBE  SN / UNSUBSCRIBE UN agent uri server
//    logging/setLevel {level}  LOGLEVEL   LN agent level
//  The server is the group's server that listed the URI or prompt (the
//  gateway need not list them all again to find it). Anything else is
//  not found, as the capabilities offered said.
int
group_features_request (group_features_t *self, const char *method, json_t *id, json_t *params)
{
    static const struct {
        const char *method;
        const char *verb;
        char letter;
        const char *field; //  the params' string the verb takes, if any
    } s_features[] = { { "resources/list", "RESOURCES", 'r', NULL },
                       { "resources/templates/list", "TEMPLATES", 'T', NULL },
                       { "prompts/list", "PROMPTS", 'P', NULL },
                       { "resources/read", "READ", 'R', "uri" },
                       { "prompts/get", "PROMPT", 'G', "name" },
                       { "resources/subscribe", "SUBSCRIBE", 'S', "uri" },
                       { "resources/unsubscribe", "UNSUBSCRIBE", 'U', "uri" },
                       { "logging/setLevel", "LOGLEVEL", 'L', "level" } };
    size_t at = 0;
    while (at < sizeof s_features / sizeof s_features[0] && !streq (method, s_features[at].method))
        at++;
    char text[300];
    if (at == sizeof s_features / sizeof s_features[0]) {
        snprintf (text, sizeof text, "a group has no %.100s", method);
        group_queue_error (self->out, id, -32601, text);
        return 0;
    }
    char wire[48];
    snprintf (wire, sizeof wire, "%c%" JSON_INTEGER_FORMAT, s_features[at].letter,
              json_integer_value (id));
    const char *verb = s_features[at].verb;
    const char *value = NULL;
    if (s_features[at].field) {
        value = json_string_value (json_object_get (params, s_features[at].field));
        if (!value || !*value) {
            snprintf (text, sizeof text, "%s wants params.%s, a non-empty string", method,
                      s_features[at].field);
            group_queue_error (self->out, id, -32602, text);
            return 0;
        }
    } else if (json_object_get (params, "cursor")) {
        //  The gateway lists everything at once: no cursor was given out.
        snprintf (text, sizeof text, "%s: invalid cursor (the group lists everything at once)",
                  method);
        group_queue_error (self->out, id, -32602, text);
        return 0;
    }
    //  The frames after VERB id agent, and what each is
    const char *a = NULL, *b = NULL, *c = NULL;
    const char *a_name = s_features[at].field, *b_name = "server", *c_name = "server";
    char *args = NULL;
    char letter = s_features[at].letter;
    if (letter == 'R' || letter == 'S' || letter == 'U') {
        a = value;
        b = s_owner (self->uri_owners, value);
    } else if (letter == 'G') {
        json_t *arguments = json_object_get (params, "arguments");
        args = json_is_object (arguments) ? json_dumps (arguments, JSON_COMPACT) : NULL;
        a = value;
        b = args ? args : "";
        b_name = "arguments";
        c = s_owner (self->prompt_owners, value);
    } else if (letter == 'L')
        a = value;
    const char *frames[] = { verb, wire, self->agent, a, b, c };
    const char *names[] = { "verb", "request id", "agent", a_name, b_name, c_name };
    char big[512];
    int rc = 0;
    if (group_fits (self->max_message, self->curve, method, frames, names, 6, big, sizeof big))
        //  The gateway would drop the connection, and every call on it.
        group_queue_failure (self->out, id, -32602, MCPACT_ERR_ARGS, big);
    else {
        if (letter == 'S')
            json_object_set_new (self->pending, wire, json_string (value));
        else if (letter == 'U')
            //  No update passed on from now: the host said it wants none.
            json_object_del (self->subscribed, value);
        rc = group_send (self->dealer, verb, wire, self->agent, a, b, c);
    }
    free (args);
    return rc;
}

//  The events endpoint to use, of those HELLO named: one of the same
//  kind as ours; a tcp:// bound on every address (0.0.0.0, [::]) is
//  reached at our endpoint's host. Returns a malloc'ed text, or NULL.
static char *
s_events_endpoint (group_features_t *self, json_t *endpoints)
{
    bool tcp = strncmp (self->endpoint, "tcp://", 6) == 0;
    size_t index;
    json_t *item;
    json_array_foreach (endpoints, index, item) {
        const char *endpoint = json_string_value (item);
        if (!endpoint || strncmp (endpoint, tcp ? "tcp://" : "ipc://", 6) != 0)
            continue;
        if (!tcp)
            return strdup (endpoint);
        const char *port = strrchr (endpoint, ':');
        const char *ours = strrchr (self->endpoint, ':');
        if (!port || !ours || port < endpoint + 6 || ours < self->endpoint + 6)
            continue;
        char *chosen = NULL;
        if (strncmp (endpoint, "tcp://0.0.0.0:", 14) == 0 ||
            strncmp (endpoint, "tcp://[::]:", 11) == 0 || strncmp (endpoint, "tcp://*:", 8) == 0) {
            if (asprintf (&chosen, "%.*s%s", (int) (ours - self->endpoint), self->endpoint, port) <
                0)
                chosen = NULL;
        } else
            chosen = strdup (endpoint);
        return chosen;
    }
    return NULL;
}

//  A SUB to the gateway's events, with our keys when we use CURVE: what
//  a resource subscription, a list that changed or a server's log message
//  needs. Without it those are not offered.
static void
s_subscribe_events (group_features_t *self, json_t *endpoints, zcert_t *cert,
                    const char *server_key)
{
    char *endpoint = s_events_endpoint (self, endpoints);
    if (!endpoint) {
        log_info ("group %s: the gateway at %s names no events endpoint we can use; resource "
                  "subscriptions, list changes and server logs are not offered",
                  self->name, self->endpoint);
        return;
    }
    //  A SUB connected to a socket file that is not there would wait in
    //  silence for ever (a gateway that advertised a relative ipc:// path
    //  names a file in its own directory): not offered, and said.
    char reason[600];
    if (strncmp (endpoint, "ipc://", 6) == 0 &&
        endpoint_probe (endpoint, reason, sizeof reason) != 0) {
        log_warn ("group %s: cannot use the events endpoint %s of the gateway at %s: %s; resource "
                  "subscriptions, list changes and server logs are not offered",
                  self->name, endpoint, self->endpoint, reason);
        free (endpoint);
        return;
    }
    zsock_t *events = zsock_new (ZMQ_SUB);
    if (events) {
        zsock_set_linger (events, 0);
        //  As the transport's DEALER: an IPv6 address is reached too.
        zsock_set_ipv6 (events, 1);
        if (cert && server_key && strncmp (endpoint, "tcp://", 6) == 0) {
            zcert_apply (cert, events);
            zsock_set_curve_serverkey (events, server_key);
        }
        const char *topics[] = { "RESOURCE_UPDATED", "RESOURCES_CHANGED", "PROMPTS_CHANGED",
                                 "SERVER_LOG" };
        for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
            zsock_set_subscribe (events, topics[i]);
    }
    if (!events || zsock_connect (events, "%s", endpoint) != 0) {
        log_warn ("group %s: cannot connect to the events of %s at %s: %s", self->name,
                  self->endpoint, endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&events);
        free (endpoint);
        return;
    }
    log_debug ("group %s: events from %s", self->name, endpoint);
    self->events = events;
    self->events_at = endpoint;
}

//  An error about a request the group was sent, naming the group: the
//  actor adds the server's (the group's) name and the request.
static void
s_queue_group_error (group_features_t *self, json_t *id, int code, int status, const char *message)
{
    char *text = NULL;
    if (asprintf (&text, "the group at %s: %s", self->endpoint, message) < 0)
        text = NULL;
    group_queue_failure (self->out, id, code, status, text ? text : message);
    free (text);
}

//  RESOURCES, TEMPLATES or PROMPTS id {"<key>": [...], "errors": [...]}:
//  the items without the gateway's `_mcpact`, in one page. Who listed a
//  URI or prompt is kept in `owners` (if not NULL) to name it when it is
//  read or got. A server of the group whose listing failed is logged
//  when others listed items; when none did, the failure is the answer.
static void
s_on_listing (group_features_t *self, json_t *id, const char *text, const char *key,
              const char *field, json_t *owners)
{
    json_t *body = text ? json_loads (text, 0, NULL) : NULL;
    json_t *items = json_object_get (body, key);
    json_t *errors = json_object_get (body, "errors");
    if (!json_is_array (items)) {
        char message[200];
        snprintf (message, sizeof message, "its answer has no %s array", key);
        s_queue_group_error (self, id, -32603, -1, message);
        json_decref (body);
        return;
    }
    char failures[1024] = "";
    size_t index;
    json_t *error;
    json_array_foreach (errors, index, error) {
        size_t used = strlen (failures);
        snprintf (failures + used, sizeof failures - used, "%sserver %s: %s", used ? "; " : "",
                  json_string_value (json_object_get (error, "server")),
                  json_string_value (json_object_get (error, "error")));
    }
    if (*failures && !json_array_size (items)) {
        s_queue_group_error (self, id, -32603, -1, failures);
        json_decref (body);
        return;
    }
    if (*failures)
        log_warn ("group %s: %s of %s left out what failed: %s", self->name, key, self->endpoint,
                  failures);
    if (owners)
        json_object_clear (owners);
    json_t *item;
    json_array_foreach (items, index, item) {
        json_t *server = json_object_get (json_object_get (item, "_mcpact"), "server");
        const char *name = json_string_value (json_object_get (item, field));
        //  A server the agent got since HELLO: its events count too.
        if (json_is_string (server))
            json_object_set_new (self->servers, json_string_value (server), json_true ());
        if (owners && name && json_is_string (server)) {
            json_t *known = json_object_get (owners, name);
            //  Listed by two servers of the group: neither is chosen here.
            json_object_set_new (owners, name,
                                 known && !json_equal (known, server) ? json_null ()
                                                                      : json_copy (server));
        }
        json_object_del (item, "_mcpact");
    }
    group_queue (self->out, json_pack ("{s:O,s:{s:O}}", "id", id, "result", key, items));
    json_decref (body);
}

//  RESULT of READ or PROMPT: status 0 carries the server's result as it
//  sent it, put in the JSON-RPC answer as it came (a resource may be
//  megabytes: not parsed here); any other status the group's message.
static void
s_on_feature_result (group_features_t *self, json_t *id, const char *status_text,
                     const char *payload)
{
    int status = atoi (status_text);
    if (status == MCPACT_OK) {
        const char *start = payload + strspn (payload, " \t\r\n");
        char head[64];
        snprintf (head, sizeof head,
                  "{\"jsonrpc\":\"2.0\",\"id\":%" JSON_INTEGER_FORMAT ",\"result\":",
                  json_integer_value (id));
        size_t size = strlen (head) + strlen (start) + 2;
        char *text = *start == '{' ? (char *) malloc (size) : NULL;
        if (text) {
            snprintf (text, size, "%s%s}", head, start);
            if (zlist_append (self->out, text) != 0)
                free (text);
        } else
            s_queue_group_error (self, id, -32603, -1, "its result is not a JSON object");
        return;
    }
    json_t *body = json_loads (payload, 0, NULL);
    const char *message = json_string_value (json_object_get (body, "message"));
    //  Not found or not fitting (no server offers it, bad arguments) is
    //  the caller's mistake; the rest is the group's or its server's. The
    //  group's status goes with it (status_in_error): a timeout at the
    //  group is a timeout here too.
    s_queue_group_error (
        self, id, status == MCPACT_ERR_UNKNOWN_TOOL || status == MCPACT_ERR_ARGS ? -32602 : -32603,
        status, message ? message : "the request failed (no message)");
    json_decref (body);
}

//  One event of the gateway's PUB: topic server json. Only the agent's
//  servers' count; an update only for a URI subscribed to here.
static void
s_on_group_event (group_features_t *self, zmsg_t *event)
{
    char *topic = zmsg_popstr (event);
    char *server = zmsg_popstr (event);
    char *text = zmsg_popstr (event);
    json_t *body = text ? json_loads (text, 0, NULL) : NULL;
    if (!topic || !server || !json_is_object (body) || !json_object_get (self->servers, server))
        ;
    else if (streq (topic, "RESOURCE_UPDATED")) {
        const char *uri = json_string_value (json_object_get (body, "uri"));
        if (uri && json_object_get (self->subscribed, uri))
            group_queue (self->out,
                         json_pack ("{s:s,s:{s:s}}", "method", "notifications/resources/updated",
                                    "params", "uri", uri));
    } else if (streq (topic, "RESOURCES_CHANGED"))
        group_queue (self->out,
                     json_pack ("{s:s}", "method", "notifications/resources/list_changed"));
    else if (streq (topic, "PROMPTS_CHANGED"))
        group_queue (self->out,
                     json_pack ("{s:s}", "method", "notifications/prompts/list_changed"));
    else if (streq (topic, "SERVER_LOG") && json_object_get (body, "level") &&
             json_object_get (body, "data")) {
        //  Without a logger of its own, the logger says which of the
        //  group's servers spoke.
        json_t *logger = json_object_get (body, "logger");
        group_queue (
            self->out,
            json_pack ("{s:s,s:{s:O,s:o,s:O}}", "method", "notifications/message", "params",
                       "level", json_object_get (body, "level"), "logger",
                       json_is_string (logger) ? json_incref (logger) : json_string (server),
                       "data", json_object_get (body, "data")));
    }
    json_decref (body);
    free (topic);
    free (server);
    free (text);
}

void
group_features_hello (group_features_t *self, json_t *info, zcert_t *cert, const char *server_key)
{
    size_t index;
    json_t *agent;
    json_array_foreach (json_object_get (info, "agents"), index, agent) {
        const char *name = json_string_value (json_object_get (agent, "name"));
        if (!name || !streq (name, self->agent))
            continue;
        size_t at;
        json_t *server;
        json_array_foreach (json_object_get (agent, "servers"), at, server) {
            const char *server_name = json_string_value (json_object_get (server, "name"));
            if (server_name)
                json_object_set_new (self->servers, server_name, json_true ());
        }
    }
    if (!self->events)
        s_subscribe_events (self, json_object_get (info, "eventEndpoints"), cert, server_key);
}

void
group_features_reply (group_features_t *self, const char *verb, const char *wire, json_t *id,
                      const char *a, const char *b)
{
    if (streq (verb, "RESOURCES") && wire[0] == 'r')
        s_on_listing (self, id, a, "resources", "uri", self->uri_owners);
    else if (streq (verb, "TEMPLATES") && wire[0] == 'T')
        s_on_listing (self, id, a, "resourceTemplates", "uriTemplate", NULL);
    else if (streq (verb, "PROMPTS") && wire[0] == 'P')
        s_on_listing (self, id, a, "prompts", "name", self->prompt_owners);
    else if (streq (verb, "RESULT") && (wire[0] == 'R' || wire[0] == 'G') && a && b)
        s_on_feature_result (self, id, a, b);
    else if ((streq (verb, "SUBSCRIBE") || streq (verb, "UNSUBSCRIBE") ||
              streq (verb, "LOGLEVEL")) &&
             strchr ("SUL", wire[0])) {
        const char *uri = json_string_value (json_object_get (self->pending, wire));
        if (wire[0] == 'S' && uri)
            json_object_set_new (self->subscribed, uri, json_true ());
        json_object_del (self->pending, wire);
        group_queue (self->out, json_pack ("{s:O,s:{}}", "id", id, "result"));
    } else if (streq (verb, "ERROR")) {
        json_t *body = a ? json_loads (a, 0, NULL) : NULL;
        const char *message = json_string_value (json_object_get (body, "message"));
        const char *code = json_string_value (json_object_get (body, "error"));
        json_object_del (self->pending, wire);
        s_queue_group_error (self, id, code && streq (code, "bad_request") ? -32602 : -32603, -1,
                             message ? message : "the request was refused (no message)");
        json_decref (body);
    } else
        log_debug ("group %s: ignored %s %s from %s", self->name, verb, wire, self->endpoint);
}

void
group_features_on_events (group_features_t *self, int batch)
{
    for (int i = 0; i < batch && self->events; i++) {
        zmsg_t *event = NULL;
        if (zsock_events (self->events) & ZMQ_POLLIN)
            event = zmsg_recv (self->events);
        if (!event)
            break;
        s_on_group_event (self, event);
        zmsg_destroy (&event);
    }
}
