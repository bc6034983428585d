/*  =========================================================================
    resources - resources, prompts, instructions and server logging, for
    the host (include/mcpact.h, docs/resources.md)

    What an agent's servers offer beside tools. Each function reads the
    agent's catalog for its servers (its own, or its session's), and asks
    them through a caller of its own, straight to their server actors
    (REQUEST and LOGLEVEL, docs/protocol.md): the actor checks the
    capability and the timeout, and forwards the server's result as it
    came. Listings are paged here, all servers at once, one page each in
    flight. Host threads only: every call makes its caller on the calling
    thread and destroys it before it returns, so any number of host
    threads may use these at once; the log callback's holder is guarded as
    the state callback's (state_sink.h).
    =========================================================================
*/

#include "api.h"

#include "jsonscan.h"
#include "log.h"
#include "server_requests.h"
#include "text.h"

#include <inttypes.h>

//  A server that pages a listing more often than this is broken.
#define LIST_MAX_PAGES 1000

//  One kind of listing.
typedef struct {
    const char *method; //  the MCP method
    const char *key;    //  the result's array
    const char *field;  //  what an item cannot do without
} s_listing_t;

static const s_listing_t s_resources = { "resources/list", "resources", "uri" };
static const s_listing_t s_templates = { "resources/templates/list", "resourceTemplates",
                                         "uriTemplate" };
static const s_listing_t s_prompts = { "prompts/list", "prompts", "name" };

//  One server's listing in progress.
typedef struct {
    const char *name;     //  the server's (the catalog's)
    const char *endpoint; //  its actor's
    int64_t pending;      //  the request in flight, 0: none
    json_t *cursors;      //  cursors seen
    json_t *items;        //  items listed so far
    bool offers;          //  it answered: it has the capability
    char *error;          //  why its listing failed
} s_server_t;

//  --------------------------------------------------------------------------
//  Listing

//  Sends one page request; false if it could not be sent (error set).
static bool
s_page (mcpact_caller_t *caller, s_server_t *server, const s_listing_t *listing, const char *cursor)
{
    char *params = NULL;
    if (cursor) {
        json_t *object = json_pack ("{s:s}", "cursor", cursor);
        params = json_dumps (object, JSON_COMPACT);
        json_decref (object);
    }
    const char *frames[] = { listing->method, params ? params : "", "0" };
    server->pending =
        caller_request_send (caller, server->endpoint, server->name, "REQUEST", frames, 3, 0);
    free (params);
    if (server->pending <= 0) {
        server->pending = 0;
        if (asprintf (&server->error, "%s: its server actor cannot be reached", listing->method) <
            0)
            server->error = NULL;
        return false;
    }
    return true;
}

static void
s_fail (s_server_t *server, const char *format, ...)
{
    free (server->error);
    va_list args;
    va_start (args, format);
    if (vasprintf (&server->error, format, args) < 0)
        server->error = NULL;
    va_end (args);
}

//  Takes one page's answer; true if another page was asked for.
static bool
s_take_page (mcpact_caller_t *caller, s_server_t *server, const s_listing_t *listing,
             mcpact_result_t *result)
{
    server->pending = 0;
    mcpact_status_t status = mcpact_result_status (result);
    if (status == MCPACT_ERR_UNKNOWN_TOOL && !server->offers)
        return false; //  it does not declare the capability: not asked
    //  It declares it, even if this listing fails.
    server->offers = true;
    //  A server with resources but no templates may not know the method:
    //  it has none to list.
    if (status == MCPACT_ERR_PROTOCOL &&
        strncmp (mcpact_result_error (result), "the server answered with error -32601:", 38) == 0) {
        log_debug ("server %s: %s: method not found; taken as none", server->name, listing->method);
        return false;
    }
    if (status != MCPACT_OK) {
        s_fail (server, "%s: %s", listing->method, mcpact_result_error (result));
        return false;
    }
    const char *text = mcpact_result_json (result);
    json_error_t error;
    json_t *page = jsonscan_load (text, strlen (text), 0, &error);
    json_t *items = json_object_get (page, listing->key);
    if (!json_is_array (items)) {
        s_fail (server, "%s: the result has no %s array", listing->method, listing->key);
        json_decref (page);
        return false;
    }
    size_t index;
    json_t *item;
    json_array_foreach (items, index, item) {
        //  One item that cannot be used costs that item, not the listing.
        const char *key = json_string_value (json_object_get (item, listing->field));
        if (!key || !*key) {
            log_warn ("server %s: %s: skipped item %zu of the page: %s", server->name,
                      listing->method, index,
                      !json_is_object (item) ? "it is not an object" : "it has no usable field");
            continue;
        }
        json_t *copy = json_copy (item);
        json_object_set_new (copy, "_mcpact", json_pack ("{s:s}", "server", server->name));
        json_array_append_new (server->items, copy);
    }
    //  An empty cursor ends the listing, as for tools/list.
    json_t *next = json_object_get (page, "nextCursor");
    const char *cursor = json_string_value (next);
    if (next && !json_is_null (next) && !cursor)
        log_warn ("server %s: %s: nextCursor is %s, not a string; the listing ends at this page",
                  server->name, listing->method, jsonscan_kind (next));
    bool more = false;
    if (cursor && *cursor) {
        if (json_object_get (server->cursors, cursor) ||
            json_object_size (server->cursors) >= LIST_MAX_PAGES)
            s_fail (server, "%s pagination does not end (cursor \"%s\" came back)", listing->method,
                    TEXT_CUT (cursor, 100));
        else {
            json_object_set_new (server->cursors, cursor, json_true ());
            more = s_page (caller, server, listing, cursor);
        }
    }
    json_decref (page);
    return more;
}

//  Lists `listing` from every server of `servers` (the catalog's; only the
//  one named `only` if not NULL) at once. Returns the items, in server
//  order; appends {"server","error"} to `errors` for each server whose
//  listing failed (its items left out), and the names of the servers that
//  offer the capability to `offering` (if not NULL).
static json_t *
s_list (mcpact_agent_t *self, json_t *servers, const s_listing_t *listing, const char *only,
        json_t *errors, json_t *offering)
{
    size_t count = json_array_size (servers);
    s_server_t *state = (s_server_t *) calloc (count + 1, sizeof (s_server_t));
    mcpact_caller_t *caller = caller_new (&self->slot);
    json_t *items = json_array ();
    if (!state || !caller) {
        json_array_append_new (errors,
                               json_pack ("{s:s,s:s}", "server", "", "error", "out of memory"));
        free (state);
        mcpact_caller_destroy (&caller);
        return items;
    }
    size_t waiting = 0;
    for (size_t i = 0; i < count; i++) {
        json_t *server = json_array_get (servers, i);
        state[i].name = json_string_value (json_object_get (server, "name"));
        state[i].endpoint = json_string_value (json_object_get (server, "endpoint"));
        state[i].cursors = json_object ();
        state[i].items = json_array ();
        if (only && (!state[i].name || strcmp (only, state[i].name) != 0))
            continue;
        waiting += s_page (caller, &state[i], listing, NULL);
    }
    while (waiting > 0) {
        mcpact_result_t *result = mcpact_caller_next (caller, -1);
        if (!result)
            break;
        for (size_t i = 0; i < count; i++)
            if (state[i].pending && state[i].pending == mcpact_result_id (result)) {
                if (!s_take_page (caller, &state[i], listing, result))
                    waiting--;
                break;
            }
        mcpact_result_destroy (&result);
    }
    for (size_t i = 0; i < count; i++) {
        if (state[i].error)
            json_array_append_new (
                errors, json_pack ("{s:s,s:s}", "server", state[i].name, "error", state[i].error));
        else
            json_array_extend (items, state[i].items);
        if (state[i].offers && offering)
            json_array_append_new (offering, json_string (state[i].name));
        json_decref (state[i].cursors);
        json_decref (state[i].items);
        free (state[i].error);
    }
    free (state);
    mcpact_caller_destroy (&caller);
    return items;
}

static char *
s_listing_json (mcpact_agent_t *self, const s_listing_t *listing)
{
    if (!self)
        return NULL;
    agent_ensure_started (self);
    catalog_t *catalog = catalog_slot_get (&self->slot);
    json_t *errors = json_array ();
    json_t *items = s_list (self, catalog_servers (catalog), listing, NULL, errors, NULL);
    catalog_unref (&catalog);
    json_t *answer = json_pack ("{s:o,s:o}", listing->key, items, "errors", errors);
    char *text = json_dumps (answer, JSON_COMPACT);
    json_decref (answer);
    return text;
}

char *
mcpact_agent_resources (mcpact_agent_t *self)
{
    return s_listing_json (self, &s_resources);
}

char *
mcpact_agent_resource_templates (mcpact_agent_t *self)
{
    return s_listing_json (self, &s_templates);
}

char *
mcpact_agent_prompts (mcpact_agent_t *self)
{
    return s_listing_json (self, &s_prompts);
}

//  --------------------------------------------------------------------------
//  Which server

//  The endpoint of the catalog's server `name`, or NULL.
static const char *
s_endpoint (json_t *servers, const char *name)
{
    size_t index;
    json_t *server;
    json_array_foreach (servers, index, server)
        if (name && json_is_string (json_object_get (server, "name")) &&
            strcmp (json_string_value (json_object_get (server, "name")), name) == 0)
            return json_string_value (json_object_get (server, "endpoint"));
    return NULL;
}

//  Names in a JSON array of strings, joined by ", " into `buffer`.
static const char *
s_join (json_t *names, char *buffer, size_t size)
{
    buffer[0] = 0;
    size_t index;
    json_t *name;
    json_array_foreach (names, index, name) {
        size_t used = strlen (buffer);
        snprintf (buffer + used, size - used, "%s%s", used ? ", " : "", json_string_value (name));
    }
    return buffer;
}

//  The servers (names, once each) of the items whose `field` is `value`
//  (or, with `match`, whose field matches it).
static json_t *
s_owners (json_t *items, const char *field, const char *value,
          bool (*match) (const char *field_value, const char *value))
{
    json_t *owners = json_array ();
    size_t index;
    json_t *item;
    json_array_foreach (items, index, item) {
        const char *have = json_string_value (json_object_get (item, field));
        if (!have || !(match ? match (have, value) : strcmp (have, value) == 0))
            continue;
        json_t *server = json_object_get (json_object_get (item, "_mcpact"), "server");
        bool seen = false;
        size_t at;
        json_t *owner;
        json_array_foreach (owners, at, owner)
            seen |= json_equal (owner, server);
        if (!seen)
            json_array_append (owners, server);
    }
    return owners;
}

//  Whether `uri` is an expansion of the RFC 6570 template `t`: literal
//  characters match themselves; a simple {var} matches characters up to
//  the next '/', '?' or '#'; {+var} and {#var} match any; {?...} and
//  {&...} match the rest of a query.
static bool
s_template_match (const char *t, const char *uri)
{
    if (!*t)
        return !*uri;
    if (*t != '{')
        return *t == *uri && s_template_match (t + 1, uri + 1);
    const char *close = strchr (t, '}');
    if (!close)
        return false;
    bool any = t[1] == '+' || t[1] == '#' || t[1] == '?' || t[1] == '&';
    for (const char *end = uri;; end++) {
        if (s_template_match (close + 1, end))
            return true;
        if (!*end || (!any && (*end == '/' || *end == '?' || *end == '#')))
            return false;
    }
}

static bool
s_matches (const char *template_text, const char *uri)
{
    return s_template_match (template_text, uri);
}

//  The server to ask for the resource `uri`: the one that lists it, else
//  the one whose template matches it, else the only one with resources.
//  Returns its name (in `buffer`), or NULL and sets *why.
static const char *
s_resource_server (mcpact_agent_t *self, json_t *servers, const char *uri, char *buffer,
                   size_t size, char **why)
{
    json_t *errors = json_array ();
    json_t *offering = json_array ();
    json_t *resources = s_list (self, servers, &s_resources, NULL, errors, offering);
    json_t *owners = s_owners (resources, "uri", uri, NULL);
    json_decref (resources);
    if (json_array_size (owners) == 0) {
        json_decref (owners);
        json_t *templates = s_list (self, servers, &s_templates, NULL, errors, NULL);
        owners = s_owners (templates, "uriTemplate", uri, s_matches);
        json_decref (templates);
    }
    if (json_array_size (owners) == 0 && json_array_size (offering) == 1)
        json_array_append (owners, json_array_get (offering, 0));
    const char *name = NULL;
    char names[512];
    if (json_array_size (owners) == 1) {
        snprintf (buffer, size, "%s", json_string_value (json_array_get (owners, 0)));
        name = buffer;
    } else if (json_array_size (owners) > 1) {
        if (asprintf (why, "servers %s all offer %s; name the one to ask",
                      s_join (owners, names, sizeof names), uri) < 0)
            *why = NULL;
    } else if (json_array_size (offering) == 0) {
        if (asprintf (why, "no server of the agent offers resources%s",
                      json_array_size (errors) ? " (some could not be asked: see their status)"
                                               : "") < 0)
            *why = NULL;
    } else if (asprintf (why,
                         "no server lists %s or a template that matches it (servers with "
                         "resources: %s); name the one to ask",
                         uri, s_join (offering, names, sizeof names)) < 0)
        *why = NULL;
    json_decref (owners);
    json_decref (offering);
    json_decref (errors);
    return name;
}

//  --------------------------------------------------------------------------
//  Requests

//  A failed request's error says which server and which request it was
//  ("server S: resources/read: ..."): an agent has several servers, and
//  the host, or its user, must know whom to blame. Takes `result`.
static mcpact_result_t *
s_named (mcpact_result_t *result, const char *name, const char *method)
{
    mcpact_status_t status = mcpact_result_status (result);
    const char *error = mcpact_result_error (result);
    char prefix[160];
    size_t length = (size_t) snprintf (prefix, sizeof prefix, "server %s", name);
    if (status == MCPACT_OK || (error && strncmp (error, prefix, length) == 0 &&
                                (error[length] == ':' || error[length] == ' ')))
        return result;
    //  "no answer to resources/read within N ms" names the request itself.
    bool says = error && strstr (error, method);
    char *text = NULL;
    if (asprintf (&text, "%s: %s%s%s", prefix, says ? "" : method, says ? "" : ": ",
                  error ? error : mcpact_status_name (status)) < 0)
        return result;
    mcpact_result_t *named = result_error (mcpact_result_id (result), status, text);
    free (text);
    mcpact_result_destroy (&result);
    return named;
}

//  Sends `method` with `params` (taken) to the server `name` of the
//  catalog's, and waits for its answer. Never NULL.
static mcpact_result_t *
s_ask (mcpact_agent_t *self, json_t *servers, const char *name, const char *method, json_t *params,
       int timeout_ms)
{
    const char *endpoint = s_endpoint (servers, name);
    char *params_text = params ? json_dumps (params, JSON_COMPACT) : NULL;
    json_decref (params);
    if (!endpoint) {
        json_t *names = json_array ();
        size_t index;
        json_t *server;
        json_array_foreach (servers, index, server)
            json_array_append (names, json_object_get (server, "name"));
        char joined[512], message[768];
        snprintf (message, sizeof message, "the agent has no server %s (its servers: %s)", name,
                  json_array_size (names) ? s_join (names, joined, sizeof joined) : "none");
        json_decref (names);
        free (params_text);
        return result_error (0, MCPACT_ERR_UNKNOWN_TOOL, message);
    }
    mcpact_caller_t *caller = caller_new (&self->slot);
    if (!caller) {
        free (params_text);
        return result_error (0, MCPACT_ERR_INTERNAL, "out of memory");
    }
    char timeout[16];
    snprintf (timeout, sizeof timeout, "%d", timeout_ms > 0 ? timeout_ms : 0);
    const char *frames[] = { method, params_text ? params_text : "", timeout };
    int64_t id = caller_request_send (caller, endpoint, name, "REQUEST", frames, 3, timeout_ms);
    free (params_text);
    mcpact_result_t *result = NULL;
    if (id <= 0) {
        char message[256];
        snprintf (message, sizeof message, "server %s cannot be reached", name);
        result = result_error (0, MCPACT_ERR_SERVER, message);
    }
    while (!result) {
        result = mcpact_caller_next (caller, -1);
        if (!result)
            result = result_error (0, MCPACT_ERR_INTERNAL, "the request was lost");
        else if (mcpact_result_id (result) != id)
            mcpact_result_destroy (&result);
    }
    mcpact_caller_destroy (&caller);
    return s_named (result, name, method);
}

typedef struct {
    const char *server;
    int index;   //  of the element
    char *error; //  the first problem found
} s_contents_t;

//  Whether [p, end) is a JSON string of base64 (RFC 4648, section 4)
//  characters, read in place: a blob may be megabytes.
static bool
s_base64_string (const char *p, const char *end)
{
    if (end - p < 2 || *p != '"' || end[-1] != '"')
        return false;
    for (p++; p < end - 1; p++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || c == '=';
        //  JSON may escape '/' as "\/".
        if (!ok && !(c == '\\' && p + 1 < end - 1 && p[1] == '/' && p++))
            return false;
    }
    return true;
}

static void
s_check_content (void *arg, const char *value, size_t size)
{
    s_contents_t *check = (s_contents_t *) arg;
    int index = check->index++;
    if (check->error)
        return;
    static const char *const keys[] = { "uri", "text", "blob" };
    const char *spans[6];
    const char *end = value + size;
    const char *problem = NULL;
    if (!jsonscan_members (value, end, keys, 3, spans))
        problem = "is not an object";
    else if (!spans[0] || *spans[0] != '"')
        problem = "has no uri string";
    else if (spans[2] && spans[4])
        problem = "has both text and blob";
    else if (spans[2] && *spans[2] != '"')
        problem = "has a text that is not a string";
    else if (spans[4] && !s_base64_string (spans[4], spans[5]))
        problem = "has a blob that is not a base64 string";
    else if (!spans[2] && !spans[4])
        problem = "has neither text nor blob";
    if (problem && asprintf (&check->error, "server %s: resources/read: contents[%d] %s",
                             check->server, index, problem) < 0)
        check->error = NULL;
}

//  A ReadResourceResult that a host can use, or an error result in its
//  place (taking `result`).
static mcpact_result_t *
s_check_read (mcpact_result_t *result, const char *server)
{
    if (mcpact_result_status (result) != MCPACT_OK)
        return result;
    const char *text = mcpact_result_json (result);
    const char *contents, *contents_end;
    s_contents_t check = { server, 0, NULL };
    if (!jsonscan_member (text, text + strlen (text), "contents", &contents, &contents_end) ||
        jsonscan_each (contents, contents_end, s_check_content, &check) < 0) {
        char message[256];
        snprintf (message, sizeof message,
                  "server %s: resources/read: the result has no contents array", server);
        mcpact_result_destroy (&result);
        return result_error (0, MCPACT_ERR_PROTOCOL, message);
    }
    if (check.error) {
        mcpact_result_destroy (&result);
        result = result_error (0, MCPACT_ERR_PROTOCOL, check.error);
        free (check.error);
    }
    return result;
}

mcpact_result_t *
mcpact_agent_read_resource (mcpact_agent_t *self, const char *server, const char *uri,
                            int timeout_ms)
{
    if (!self || !uri || !*uri)
        return result_error (0, MCPACT_ERR_ARGS, self ? "no resource URI given" : "no agent");
    agent_ensure_started (self);
    catalog_t *catalog = catalog_slot_get (&self->slot);
    json_t *servers = catalog_servers (catalog);
    char name[128];
    char *why = NULL;
    if (!server)
        server = s_resource_server (self, servers, uri, name, sizeof name, &why);
    mcpact_result_t *result =
        server ? s_check_read (s_ask (self, servers, server, "resources/read",
                                      json_pack ("{s:s}", "uri", uri), timeout_ms),
                               server)
               : result_error (0, MCPACT_ERR_UNKNOWN_TOOL, why ? why : "out of memory");
    free (why);
    catalog_unref (&catalog);
    return result;
}

//  0 if `args` fit the arguments `prompt` (a listed Prompt, or NULL: not
//  listed, nothing to check against) declares: strings only, none it
//  does not know, every required one given. Else -1 and `message` says
//  which, before anything is sent.
static int
s_check_prompt_args (json_t *prompt, const char *server, json_t *args, char *message, size_t size)
{
    const char *key;
    json_t *value;
    json_object_foreach (args, key, value)
        if (!json_is_string (value)) {
            snprintf (message, size, "prompt argument %s is not a string (a prompt takes strings)",
                      key);
            return -1;
        }
    json_t *declared = json_object_get (prompt, "arguments");
    if (!prompt || (declared && !json_is_array (declared)))
        return 0;
    const char *name = json_string_value (json_object_get (prompt, "name"));
    json_t *known = json_array ();
    json_t *missing = json_array ();
    size_t index;
    json_t *argument;
    json_array_foreach (declared, index, argument) {
        json_t *its = json_object_get (argument, "name");
        if (!json_is_string (its))
            continue;
        json_array_append (known, its);
        if (json_is_true (json_object_get (argument, "required")) &&
            !json_object_get (args, json_string_value (its)))
            json_array_append (missing, its);
    }
    char names[512];
    int rc = 0;
    json_object_foreach (args, key, value) {
        bool found = false;
        json_array_foreach (known, index, argument)
            found |= strcmp (json_string_value (argument), key) == 0;
        if (!found) {
            snprintf (message, size, "server %s: prompt %s has no argument %s (%s%s)", server, name,
                      key, json_array_size (known) ? "its arguments: " : "it takes none",
                      s_join (known, names, sizeof names));
            rc = -1;
            break;
        }
    }
    if (rc == 0 && json_array_size (missing)) {
        snprintf (message, size, "server %s: prompt %s needs argument%s %s", server, name,
                  json_array_size (missing) > 1 ? "s" : "", s_join (missing, names, sizeof names));
        rc = -1;
    }
    json_decref (known);
    json_decref (missing);
    return rc;
}

mcpact_result_t *
mcpact_agent_get_prompt (mcpact_agent_t *self, const char *server, const char *name,
                         const char *args_json, int timeout_ms)
{
    if (!self || !name || !*name)
        return result_error (0, MCPACT_ERR_ARGS, self ? "no prompt name given" : "no agent");
    json_error_t error;
    json_t *args = args_json ? json_loads (args_json, 0, &error) : json_object ();
    if (!json_is_object (args)) {
        json_decref (args);
        return result_error (0, MCPACT_ERR_ARGS, "the prompt's arguments are not a JSON object");
    }
    char message[1024] = "";
    if (s_check_prompt_args (NULL, NULL, args, message, sizeof message) != 0) {
        json_decref (args);
        return result_error (0, MCPACT_ERR_ARGS, message);
    }
    agent_ensure_started (self);
    catalog_t *catalog = catalog_slot_get (&self->slot);
    json_t *servers = catalog_servers (catalog);
    char owner[128];
    //  The listing finds the server, and the prompt's declared arguments
    //  to check the given ones against; a server named but unknown is
    //  said by s_ask.
    json_t *errors = json_array ();
    json_t *offering = json_array ();
    json_t *prompts = !server ? s_list (self, servers, &s_prompts, NULL, errors, offering)
                      : s_endpoint (servers, server)
                          ? s_list (self, servers, &s_prompts, server, errors, offering)
                          : json_array ();
    json_t *owners = s_owners (prompts, "name", name, NULL);
    if (!server) {
        char names[512];
        if (json_array_size (owners) == 1) {
            snprintf (owner, sizeof owner, "%s", json_string_value (json_array_get (owners, 0)));
            server = owner;
        } else if (json_array_size (owners) > 1)
            snprintf (message, sizeof message,
                      "prompt %s is offered by servers %s; name the one to ask", name,
                      s_join (owners, names, sizeof names));
        else
            snprintf (message, sizeof message, "no server of the agent offers prompt %s%s%s%s",
                      name, json_array_size (offering) ? " (servers with prompts: " : "",
                      s_join (offering, names, sizeof names),
                      json_array_size (offering) ? ")" : "");
    }
    json_t *listed = NULL;
    size_t index;
    json_t *item;
    json_array_foreach (prompts, index, item)
        if (server && json_is_string (json_object_get (item, "name")) &&
            strcmp (json_string_value (json_object_get (item, "name")), name) == 0 &&
            json_is_string (json_object_get (json_object_get (item, "_mcpact"), "server")) &&
            strcmp (
                json_string_value (json_object_get (json_object_get (item, "_mcpact"), "server")),
                server) == 0)
            listed = item;
    int checked = server ? s_check_prompt_args (listed, server, args, message, sizeof message) : 0;
    json_decref (owners);
    json_decref (prompts);
    json_decref (offering);
    json_decref (errors);
    if (checked != 0) {
        json_decref (args);
        catalog_unref (&catalog);
        return result_error (0, MCPACT_ERR_ARGS, message);
    }
    mcpact_result_t *result = NULL;
    if (server) {
        result = s_ask (self, servers, server, "prompts/get",
                        json_pack ("{s:s,s:o}", "name", name, "arguments", args), timeout_ms);
        args = NULL;
        const char *text = mcpact_result_json (result);
        const char *messages, *messages_end;
        if (mcpact_result_status (result) == MCPACT_OK &&
            (!jsonscan_member (text, text + strlen (text), "messages", &messages, &messages_end) ||
             *messages != '[')) {
            snprintf (message, sizeof message,
                      "server %s: prompts/get: the result has no messages array", server);
            mcpact_result_destroy (&result);
            result = result_error (0, MCPACT_ERR_PROTOCOL, message);
        }
    } else
        result = result_error (0, MCPACT_ERR_UNKNOWN_TOOL, message);
    json_decref (args);
    catalog_unref (&catalog);
    return result;
}

int
mcpact_agent_subscribe_resource (mcpact_agent_t *self, const char *server, const char *uri,
                                 bool subscribe, char **error)
{
    if (error)
        *error = NULL;
    if (!self || !uri || !*uri) {
        if (error)
            *error = strdup ("no resource URI given");
        return -1;
    }
    agent_ensure_started (self);
    catalog_t *catalog = catalog_slot_get (&self->slot);
    json_t *servers = catalog_servers (catalog);
    char name[128];
    char *why = NULL;
    if (!server)
        server = s_resource_server (self, servers, uri, name, sizeof name, &why);
    int rc = -1;
    if (server) {
        mcpact_result_t *result = s_ask (
            self, servers, server, subscribe ? "resources/subscribe" : "resources/unsubscribe",
            json_pack ("{s:s}", "uri", uri), 0);
        rc = mcpact_result_status (result) == MCPACT_OK ? 0 : -1;
        if (rc && !why)
            why = strdup (mcpact_result_error (result));
        mcpact_result_destroy (&result);
    }
    if (error && rc)
        *error = why ? why : strdup ("out of memory");
    else
        free (why);
    catalog_unref (&catalog);
    return rc;
}

//  --------------------------------------------------------------------------
//  Instructions

char *
mcpact_agent_instructions (mcpact_agent_t *self)
{
    char *text = mcpact_agent_status (self);
    if (!text)
        return NULL;
    json_error_t error;
    json_t *statuses = json_loads (text, 0, &error);
    free (text);
    json_t *answer = json_array ();
    size_t index;
    json_t *status;
    json_array_foreach (statuses, index, status) {
        json_t *instructions = json_object_get (status, "instructions");
        if (json_is_string (instructions))
            json_array_append_new (answer, json_pack ("{s:O,s:O}", "server",
                                                      json_object_get (status, "name"),
                                                      "instructions", instructions));
    }
    json_decref (statuses);
    text = json_dumps (answer, JSON_COMPACT);
    json_decref (answer);
    return text;
}

//  --------------------------------------------------------------------------
//  Logging

int
mcpact_agent_set_server_log_level (mcpact_agent_t *self, const char *server, const char *level)
{
    if (!self)
        return -1;
    if (server_log_rank (level) < 0) {
        log_error ("%s is not an MCP logging level (debug, info, notice, warning, error, "
                   "critical, alert, emergency)",
                   level ? level : "(none)");
        return -1;
    }
    agent_ensure_started (self);
    catalog_t *catalog = catalog_slot_get (&self->slot);
    json_t *servers = catalog_servers (catalog);
    if (server && !s_endpoint (servers, server)) {
        log_error ("the agent has no server %s", server);
        catalog_unref (&catalog);
        return -1;
    }
    mcpact_caller_t *caller = caller_new (&self->slot);
    size_t count = json_array_size (servers);
    int64_t *ids = (int64_t *) calloc (count + 1, sizeof (int64_t));
    int rc = caller && ids ? 0 : -1;
    size_t waiting = 0;
    const char *frames[] = { level };
    for (size_t i = 0; rc == 0 && i < count; i++) {
        json_t *entry = json_array_get (servers, i);
        const char *name = json_string_value (json_object_get (entry, "name"));
        if (server && (!name || strcmp (name, server) != 0))
            continue;
        ids[i] =
            caller_request_send (caller, json_string_value (json_object_get (entry, "endpoint")),
                                 name, "LOGLEVEL", frames, 1, 0);
        if (ids[i] > 0)
            waiting++;
        else {
            log_warn ("server %s: cannot be reached to set its log level", name);
            rc = -1;
        }
    }
    while (waiting > 0) {
        mcpact_result_t *result = mcpact_caller_next (caller, -1);
        if (!result)
            break;
        for (size_t i = 0; i < count; i++)
            if (ids[i] && ids[i] == mcpact_result_id (result)) {
                waiting--;
                if (mcpact_result_status (result) != MCPACT_OK) {
                    log_warn (
                        "server %s: logging/setLevel %s: %s",
                        json_string_value (json_object_get (json_array_get (servers, i), "name")),
                        level, mcpact_result_error (result));
                    rc = -1;
                }
            }
        mcpact_result_destroy (&result);
    }
    free (ids);
    mcpact_caller_destroy (&caller);
    catalog_unref (&catalog);
    return rc;
}

void
api_give_logs (actor_t *actor, state_sink_t *logs)
{
    actor_send_ptr (actor_sock (actor), "LOGS", state_sink_ref (logs));
    free (zstr_recv (actor_sock (actor)));
}

//  Sets the callback in *logs, made (and given to `actor`, if there is
//  one yet) the first time. Called under the object's lock.
static int
s_set_logs (state_sink_t **logs, actor_t *actor, pthread_mutex_t *pipe_lock,
            mcpact_server_log_fn *fn, void *arg)
{
    if (*logs) {
        state_sink_set (*logs, fn, arg);
        return 0;
    }
    if (!(*logs = state_sink_new ()))
        return -1;
    state_sink_set (*logs, fn, arg);
    if (actor) {
        pthread_mutex_lock (pipe_lock);
        api_give_logs (actor, *logs);
        pthread_mutex_unlock (pipe_lock);
    }
    return 0;
}

int
mcpact_session_set_server_log (mcpact_session_t *self, mcpact_server_log_fn *fn, void *arg)
{
    if (!self)
        return -1;
    pthread_mutex_lock (&self->lock);
    int rc = s_set_logs (&self->logs, self->actor, &self->pipe_lock, fn, arg);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
mcpact_agent_set_server_log (mcpact_agent_t *self, mcpact_server_log_fn *fn, void *arg)
{
    if (!self)
        return -1;
    //  Without servers of its own the agent has no actor yet: the sink
    //  goes to the actor its first server brings (s_agent_actor).
    pthread_mutex_lock (&self->lock);
    int rc = s_set_logs (&self->logs, self->actor, &self->pipe_lock, fn, arg);
    pthread_mutex_unlock (&self->lock);
    return rc;
}
