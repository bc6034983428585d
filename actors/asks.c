/*  =========================================================================
    asks - requests from servers to the host: roots, sampling, elicitation
    (see .h)

    Threads: an asks_t is shared (its lock); a table is its actor's; an
    mcpact_ask_t is shared by the actor (its table entry), the host and a
    cancel hook on its way, each with a reference, its state under its
    lock. Whoever moves it out of "waiting" first decides: the host with
    an answer, or the actor ending it (timeout, cancel, stop); the other
    then finds it over. An answer the host sent reaches the actor as a
    message, and is dropped there if the entry has gone.
    =========================================================================
*/

#include "asks.h"

#include "actor.h"
#include "elicit.h"
#include "idmap.h"
#include "jsonnum.h"
#include "log.h"
#include "roots.h"

#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>

//  More requests than this waiting for the host from one server are
//  refused: a server must not make us start threads without end.
#define ASKS_MAX_WAITING 64
//  An answer socket lingers this long for an actor that has not read it.
#define ASKS_LINGER_MS 1000

typedef enum { K_SAMPLING, K_FORM, K_URL } s_kind_t;
typedef enum { S_WAITING, S_ANSWERED, S_OVER } s_ask_state_t;

struct _asks_t {
    pthread_mutex_t lock;  //  guards every field
    pthread_cond_t idle;   //  signalled when a handler returns
    int refs;              //  the host object's, owners', tables', asks'
    asks_t *parent;        //  the session's, for an agent's; or NULL
    char *agent;           //  the agent's name, or NULL
    mcpact_ask_fn *sample; //  sampling handler, or NULL
    void *sample_arg;      //  its argument
    mcpact_ask_fn *elicit; //  elicitation handler, or NULL
    void *elicit_arg;      //  its argument
    int modes;             //  elicitation modes it takes (MCPACT_ELICIT_*)
    int timeout_ms;        //  answer timeout; 0: the parent's or default
    json_t *roots;         //  roots list; NULL: the parent's, or none
    zlistx_t *subscribers; //  endpoints of actors that offered our roots
    int running;           //  handlers running now
    bool closed;           //  the host object is gone: no more calls
};

struct _mcpact_ask_t {
    pthread_mutex_t lock;       //  guards refs, state, reason, hook
    int refs;                   //  the actor's, the host's, a hook's
    s_ask_state_t state;        //  waiting, answered, or over
    char *reason;               //  why it is over, once it is
    s_kind_t kind;              //  what it asks
    char *method;               //  the request's method
    char *server;               //  the server's name
    char *agent;                //  the agent's name, or NULL
    char *params;               //  the params as JSON text
    json_t *schema;             //  form: requestedSchema (read-only after made)
    char endpoint[64];          //  the server actor, for the answer
    uint64_t ask_id;            //  its id in the actor's table
    asks_t *asks;               //  where its handler comes from
    mcpact_ask_cancel_fn *hook; //  the host's cancel hook, or NULL
    void *hook_arg;             //  its argument
    bool told;                  //  the hook was called (or is on its way)
};

typedef struct {
    mcpact_ask_t *ask; //  the actor's reference
    char *id;          //  the server's request id, raw JSON
    size_t id_size;    //  its length
    char *id_key;      //  the id as jansson dumps it, to match a cancel
    int64_t deadline;  //  ms, monotonic; 0 once answered
    int timeout_ms;    //  as it was, for the message
} s_entry_t;

struct _ask_table_t {
    asks_t *asks;            //  the owner's, or NULL
    char *server;            //  server name
    char endpoint[64];       //  our actor
    ask_respond_fn *respond; //  answers the server
    void *respond_arg;       //  its argument
    zlistx_t *entries;       //  s_entry_t *, waiting for the host
    uint64_t next_id;        //  next ask id
    json_t *own_roots;       //  the server's own roots, or NULL
    bool roots;              //  roots offered on this connection
    bool sampling;           //  sampling offered
    int modes;               //  elicitation modes offered
    bool subscribed;         //  our endpoint is in the owners' subscribers
    int64_t ended_ms;        //  when the host's last request ended (ms, monotonic)
};

//  --------------------------------------------------------------------------
//  asks_t

asks_t *
asks_new (asks_t *parent, const char *agent)
{
    asks_t *self = (asks_t *) calloc (1, sizeof (asks_t));
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->idle, &attr);
    pthread_condattr_destroy (&attr);
    self->refs = 1;
    self->parent = parent ? asks_ref (parent) : NULL;
    self->agent = agent ? strdup (agent) : NULL;
    self->subscribers = zlistx_new ();
    zlistx_set_destructor (self->subscribers, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (self->subscribers, (zlistx_duplicator_fn *) strdup);
    return self;
}

asks_t *
asks_ref (asks_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->refs++;
    pthread_mutex_unlock (&self->lock);
    return self;
}

void
asks_unref (asks_t **self_p)
{
    asks_t *self = *self_p;
    *self_p = NULL;
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    bool last = --self->refs == 0;
    pthread_mutex_unlock (&self->lock);
    if (!last)
        return;
    asks_unref (&self->parent);
    free (self->agent);
    json_decref (self->roots);
    zlistx_destroy (&self->subscribers);
    pthread_cond_destroy (&self->idle);
    pthread_mutex_destroy (&self->lock);
    free (self);
}

void
asks_close (asks_t **self_p, int timeout_ms)
{
    asks_t *self = *self_p;
    if (!self)
        return;
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->lock);
    self->closed = true;
    while (self->running > 0)
        if (pthread_cond_timedwait (&self->idle, &self->lock, &until) == ETIMEDOUT) {
            log_warn ("a handler of a server's request has not returned in %d ms; going on",
                      timeout_ms);
            break;
        }
    self->sample = self->elicit = NULL;
    pthread_mutex_unlock (&self->lock);
    asks_unref (self_p);
}

void
asks_set_sampling (asks_t *self, mcpact_ask_fn *fn, void *arg)
{
    pthread_mutex_lock (&self->lock);
    self->sample = fn;
    self->sample_arg = arg;
    pthread_mutex_unlock (&self->lock);
}

void
asks_set_elicitation (asks_t *self, mcpact_ask_fn *fn, void *arg, int modes)
{
    pthread_mutex_lock (&self->lock);
    self->modes = fn ? modes & (MCPACT_ELICIT_FORM | MCPACT_ELICIT_URL) : 0;
    self->elicit = self->modes ? fn : NULL;
    self->elicit_arg = arg;
    pthread_mutex_unlock (&self->lock);
}

void
asks_set_timeout (asks_t *self, int timeout_ms)
{
    pthread_mutex_lock (&self->lock);
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
    pthread_mutex_unlock (&self->lock);
}

//  Sends frames to a server actor's ROUTER from any thread: a socket of
//  our own for each message (these are rare), which lingers a moment so
//  that closing it does not drop what it holds.
static void
s_send_to (const char *endpoint, const char *verb, const char *id, const char *payload)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock)
        return;
    zsock_set_linger (sock, ASKS_LINGER_MS);
    zsock_set_sndtimeo (sock, 0);
    if (zsock_connect (sock, "%s", endpoint) == 0)
        zstr_sendx (sock, verb, id ? id : "", payload ? payload : "", NULL);
    zsock_destroy (&sock);
}

void
asks_set_roots (asks_t *self, json_t *roots)
{
    pthread_mutex_lock (&self->lock);
    json_decref (self->roots);
    self->roots = roots;
    zlistx_t *endpoints = zlistx_dup (self->subscribers);
    pthread_mutex_unlock (&self->lock);
    for (char *endpoint = (char *) zlistx_first (endpoints); endpoint;
         endpoint = (char *) zlistx_next (endpoints))
        s_send_to (endpoint, "ROOTS", NULL, NULL);
    zlistx_destroy (&endpoints);
}

//  The roots in force (a copy), or NULL if none are set here or above.
static json_t *
s_roots (asks_t *self)
{
    json_t *roots = NULL;
    for (asks_t *asks = self; asks && !roots; asks = asks->parent) {
        pthread_mutex_lock (&asks->lock);
        roots = asks->roots ? json_deep_copy (asks->roots) : NULL;
        pthread_mutex_unlock (&asks->lock);
    }
    return roots;
}

//  What is offered: sampling, and the elicitation modes, here or above.
static void
s_offers (asks_t *self, bool *sampling, int *modes)
{
    *sampling = false;
    *modes = 0;
    bool elicit_found = false;
    for (asks_t *asks = self; asks; asks = asks->parent) {
        pthread_mutex_lock (&asks->lock);
        if (!*sampling && asks->sample && !asks->closed)
            *sampling = true;
        if (!elicit_found && asks->elicit && !asks->closed) {
            *modes = asks->modes;
            elicit_found = true;
        }
        pthread_mutex_unlock (&asks->lock);
    }
}

static int
s_timeout (asks_t *self)
{
    int timeout = 0;
    for (asks_t *asks = self; asks && !timeout; asks = asks->parent) {
        pthread_mutex_lock (&asks->lock);
        timeout = asks->timeout_ms;
        pthread_mutex_unlock (&asks->lock);
    }
    return timeout ? timeout : ASKS_DEFAULT_TIMEOUT_MS;
}

//  Finds the handler for `kind` and marks it running in the asks_t that
//  holds it (*holder), so that closing that waits for it. False if none.
static bool
s_take_handler (asks_t *self, s_kind_t kind, mcpact_ask_fn **fn, void **arg, asks_t **holder)
{
    for (asks_t *asks = self; asks; asks = asks->parent) {
        pthread_mutex_lock (&asks->lock);
        mcpact_ask_fn *found = kind == K_SAMPLING ? asks->sample : asks->elicit;
        int mode = kind == K_FORM ? MCPACT_ELICIT_FORM : MCPACT_ELICIT_URL;
        if (found && !asks->closed && (kind == K_SAMPLING || (asks->modes & mode))) {
            *fn = found;
            *arg = kind == K_SAMPLING ? asks->sample_arg : asks->elicit_arg;
            *holder = asks;
            asks->running++;
            pthread_mutex_unlock (&asks->lock);
            return true;
        }
        pthread_mutex_unlock (&asks->lock);
    }
    return false;
}

static void
s_handler_done (asks_t *holder)
{
    pthread_mutex_lock (&holder->lock);
    holder->running--;
    pthread_cond_broadcast (&holder->idle);
    pthread_mutex_unlock (&holder->lock);
}

static void
s_subscribe (asks_t *self, const char *endpoint, bool on)
{
    for (asks_t *asks = self; asks; asks = asks->parent) {
        pthread_mutex_lock (&asks->lock);
        if (on)
            zlistx_add_end (asks->subscribers, (void *) endpoint); //  copied (duplicator)
        else {
            for (char *item = (char *) zlistx_first (asks->subscribers); item;
                 item = (char *) zlistx_next (asks->subscribers))
                if (strcmp (item, endpoint) == 0) {
                    zlistx_delete (asks->subscribers, zlistx_cursor (asks->subscribers));
                    break;
                }
        }
        pthread_mutex_unlock (&asks->lock);
    }
}

//  --------------------------------------------------------------------------
//  mcpact_ask_t

static void
s_ask_unref (mcpact_ask_t **self_p)
{
    mcpact_ask_t *self = *self_p;
    *self_p = NULL;
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    bool last = --self->refs == 0;
    pthread_mutex_unlock (&self->lock);
    if (!last)
        return;
    free (self->reason);
    free (self->method);
    free (self->server);
    free (self->agent);
    free (self->params);
    json_decref (self->schema);
    asks_unref (&self->asks);
    pthread_mutex_destroy (&self->lock);
    free (self);
}

static void *
s_hook_main (void *arg)
{
    mcpact_ask_t *ask = (mcpact_ask_t *) arg;
    pthread_mutex_lock (&ask->lock);
    mcpact_ask_cancel_fn *hook = ask->hook;
    void *hook_arg = ask->hook_arg;
    pthread_mutex_unlock (&ask->lock);
    if (hook)
        hook (ask, ask->reason, hook_arg);
    s_ask_unref (&ask);
    return NULL;
}

//  Runs fn (arg) on a detached thread of its own. -1 if none could be made.
static int
s_spawn (void *(*fn) (void *), void *arg)
{
    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int rc = pthread_create (&thread, &attr, fn, arg);
    pthread_attr_destroy (&attr);
    return rc == 0 ? 0 : -1;
}

//  The actor ends the ask without the host's answer. False if the host
//  answered first (its answer is on its way).
static bool
s_ask_end (mcpact_ask_t *self, const char *reason)
{
    pthread_mutex_lock (&self->lock);
    if (self->state != S_WAITING) {
        pthread_mutex_unlock (&self->lock);
        return false;
    }
    self->state = S_OVER;
    self->reason = strdup (reason);
    bool tell = self->hook && !self->told;
    self->told |= tell;
    if (tell)
        self->refs++; //  the hook's
    pthread_mutex_unlock (&self->lock);
    if (tell && s_spawn (s_hook_main, self) != 0)
        s_hook_main (self); //  no thread: rather late here than never
    return true;
}

const char *
mcpact_ask_method (const mcpact_ask_t *self)
{
    return self ? self->method : NULL;
}

const char *
mcpact_ask_server (const mcpact_ask_t *self)
{
    return self ? self->server : NULL;
}

const char *
mcpact_ask_agent (const mcpact_ask_t *self)
{
    return self ? self->agent : NULL;
}

const char *
mcpact_ask_params (const mcpact_ask_t *self)
{
    return self ? self->params : NULL;
}

const char *
mcpact_ask_cancelled (const mcpact_ask_t *self)
{
    if (!self)
        return NULL;
    mcpact_ask_t *ask = (mcpact_ask_t *) self;
    pthread_mutex_lock (&ask->lock);
    const char *reason = ask->state == S_OVER ? ask->reason : NULL;
    pthread_mutex_unlock (&ask->lock);
    return reason;
}

void
mcpact_ask_on_cancel (mcpact_ask_t *self, mcpact_ask_cancel_fn *fn, void *arg)
{
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    self->hook = fn;
    self->hook_arg = arg;
    bool now = fn && self->state == S_OVER && !self->told;
    self->told |= now;
    pthread_mutex_unlock (&self->lock);
    if (now)
        fn (self, self->reason, arg);
}

//  Moves the ask from waiting to answered and sends the answer. -1 and
//  *error if it was not waiting.
static int
s_ask_send (mcpact_ask_t *self, json_t *payload, char **error)
{
    pthread_mutex_lock (&self->lock);
    s_ask_state_t state = self->state;
    if (state == S_WAITING)
        self->state = S_ANSWERED;
    pthread_mutex_unlock (&self->lock);
    if (state != S_WAITING) {
        json_decref (payload);
        if (error && asprintf (error, "server %s: the request is over: %s", self->server,
                               state == S_OVER ? self->reason : "it was answered already") < 0)
            *error = NULL;
        return -1;
    }
    char *text = jsonnum_dumps (payload, JSON_COMPACT);
    json_decref (payload);
    char id[24];
    snprintf (id, sizeof id, "%" PRIu64, self->ask_id);
    s_send_to (self->endpoint, "ANSWER", id, text ? text : "{}");
    free (text);
    return 0;
}

static int
s_fail (char **error, const char *server, const char *format, ...)
{
    char message[512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    if (error && asprintf (error, "server %s: %s", server, message) < 0)
        *error = NULL;
    return -1;
}

//  One content block of a sampling result, by its type, as the server
//  will read it: a block that does not fit would fail there, far from
//  the host that wrote it.
static int
s_check_block (mcpact_ask_t *self, json_t *block, const char *where, char **error)
{
    if (!json_is_object (block))
        return s_fail (error, self->server, "the sampling result's %s is not an object", where);
    const char *type = json_string_value (json_object_get (block, "type"));
    if (!type)
        return s_fail (error, self->server, "the sampling result's %s has no \"type\"", where);
    const char *needs[3] = { NULL, NULL, NULL };
    if (strcmp (type, "text") == 0)
        needs[0] = "text";
    else if (strcmp (type, "image") == 0 || strcmp (type, "audio") == 0) {
        needs[0] = "data";
        needs[1] = "mimeType";
    } else if (strcmp (type, "tool_use") == 0) {
        needs[0] = "id";
        needs[1] = "name";
        if (!json_is_object (json_object_get (block, "input")))
            return s_fail (error, self->server, "the sampling result's %s.input is not an object",
                           where);
    } else if (strcmp (type, "tool_result") == 0) {
        needs[0] = "toolUseId";
        if (!json_is_array (json_object_get (block, "content")))
            return s_fail (error, self->server, "the sampling result's %s.content is not an array",
                           where);
    } else
        return s_fail (error, self->server,
                       "the sampling result's %s has type \"%s\", not text, image, audio, "
                       "tool_use or tool_result",
                       where, type);
    for (int i = 0; needs[i]; i++)
        if (!json_is_string (json_object_get (block, needs[i])))
            return s_fail (error, self->server, "the sampling result's %s.%s is not a string",
                           where, needs[i]);
    return 0;
}

static int
s_check_model (mcpact_ask_t *self, json_t *result, char **error)
{
    if (!json_is_string (json_object_get (result, "model")))
        return s_fail (error, self->server,
                       "the sampling result needs \"model\": the model's name");
    return 0;
}

//  A CreateMessageResult: role, content (one block or several), model.
static int
s_check_sampling (mcpact_ask_t *self, json_t *result, char **error)
{
    const char *role = json_string_value (json_object_get (result, "role"));
    json_t *content = json_object_get (result, "content");
    if (!role || (strcmp (role, "assistant") && strcmp (role, "user")))
        return s_fail (error, self->server, "the sampling result needs \"role\": \"assistant\"");
    if (!json_is_object (content) && !json_is_array (content))
        return s_fail (error, self->server,
                       "the sampling result needs \"content\": {\"type\": \"text\", ...}");
    if (json_is_object (content))
        return s_check_block (self, content, "content", error)
                   ? -1
                   : s_check_model (self, result, error);
    size_t index;
    json_t *block;
    json_array_foreach (content, index, block) {
        char where[32];
        snprintf (where, sizeof where, "content[%zu]", index);
        if (s_check_block (self, block, where, error))
            return -1;
    }
    return s_check_model (self, result, error);
}

//  An ElicitResult: an action, and for an accepted form the content,
//  with defaults applied and checked against the requested schema.
static int
s_check_elicit (mcpact_ask_t *self, json_t *result, char **error)
{
    const char *action = json_string_value (json_object_get (result, "action"));
    if (!action ||
        (strcmp (action, "accept") && strcmp (action, "decline") && strcmp (action, "cancel")))
        return s_fail (error, self->server,
                       "the elicitation result needs \"action\": accept, decline or cancel");
    json_t *content = json_object_get (result, "content");
    if (strcmp (action, "accept") != 0 || self->kind == K_URL) {
        //  Only an accepted form carries content.
        json_object_del (result, "content");
        return 0;
    }
    if (content && !json_is_object (content))
        return s_fail (error, self->server, "the elicitation result's content is not an object");
    if (!content) {
        content = json_object ();
        json_object_set_new (result, "content", content);
    }
    char *why = NULL;
    if (elicit_content_check (self->schema, content, &why) != 0) {
        s_fail (error, self->server, "%s", why ? why : "out of memory");
        free (why);
        return -1;
    }
    return 0;
}

int
mcpact_ask_complete (mcpact_ask_t *self, const char *result_json, char **error)
{
    if (error)
        *error = NULL;
    if (!self)
        return -1;
    json_error_t parse_error;
    json_t *result = result_json ? json_loads (result_json, 0, &parse_error) : NULL;
    if (!json_is_object (result)) {
        json_decref (result);
        return s_fail (error, self->server, "the answer to %s is not a JSON object", self->method);
    }
    const char *over = mcpact_ask_cancelled (self);
    int rc = over ? s_fail (error, self->server, "the request is over: %s", over)
             : self->kind == K_SAMPLING ? s_check_sampling (self, result, error)
                                        : s_check_elicit (self, result, error);
    if (rc != 0) {
        json_decref (result);
        return -1;
    }
    return s_ask_send (self, json_pack ("{s:o}", "result", result), error);
}

int
mcpact_ask_reject (mcpact_ask_t *self, const char *message)
{
    if (!self)
        return -1;
    return s_ask_send (self,
                       json_pack ("{s:{s:i,s:s}}", "error", "code", -1, "message",
                                  message ? message : "the host refused the request"),
                       NULL);
}

void
mcpact_ask_destroy (mcpact_ask_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcpact_ask_t *self = *self_p;
    *self_p = NULL;
    pthread_mutex_lock (&self->lock);
    bool waiting = self->state == S_WAITING;
    self->hook = NULL;
    pthread_mutex_unlock (&self->lock);
    if (waiting)
        s_ask_send (self,
                    json_pack ("{s:{s:i,s:s}}", "error", "code", -32603, "message",
                               "the host did not answer"),
                    NULL);
    s_ask_unref (&self);
}

//  The thread a request is handed to the host on: the host's reference
//  goes to the handler, which answers and destroys it.
static void *
s_handler_main (void *arg)
{
    mcpact_ask_t *ask = (mcpact_ask_t *) arg;
    mcpact_ask_fn *fn;
    void *fn_arg;
    asks_t *holder;
    if (s_take_handler (ask->asks, ask->kind, &fn, &fn_arg, &holder)) {
        fn (ask, fn_arg);
        s_handler_done (holder);
    } else {
        mcpact_ask_reject (ask, "the client has no handler for this request now");
        mcpact_ask_destroy (&ask);
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  ask_table_t

ask_table_t *
ask_table_new (asks_t *asks, const char *server, const char *endpoint, ask_respond_fn *respond,
               void *respond_arg)
{
    ask_table_t *self = (ask_table_t *) calloc (1, sizeof (ask_table_t));
    if (!self)
        return NULL;
    self->asks = asks;
    self->server = strdup (server);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    self->respond = respond;
    self->respond_arg = respond_arg;
    self->entries = zlistx_new ();
    return self;
}

static void
s_entry_free (s_entry_t *entry)
{
    s_ask_unref (&entry->ask);
    free (entry->id);
    free (entry->id_key);
    free (entry);
}

//  The entry under the cursor leaves the table: the host's wait for it
//  is over (calls in flight count their time from here again).
static void
s_detach (ask_table_t *self)
{
    zlistx_detach_cur (self->entries);
    self->ended_ms = clock_ms ();
}

//  Every entry goes, each ask ended with `reason` (nobody is answered).
static void
s_end_all (ask_table_t *self, const char *reason)
{
    s_entry_t *entry;
    while ((entry = (s_entry_t *) zlistx_first (self->entries))) {
        s_detach (self);
        s_ask_end (entry->ask, reason);
        s_entry_free (entry);
    }
}

void
ask_table_destroy (ask_table_t **self_p)
{
    ask_table_t *self = *self_p;
    if (!self)
        return;
    s_end_all (self, "the server stopped");
    zlistx_destroy (&self->entries);
    if (self->subscribed)
        s_subscribe (self->asks, self->endpoint, false);
    asks_unref (&self->asks);
    json_decref (self->own_roots);
    free (self->server);
    free (self);
    *self_p = NULL;
}

json_t *
ask_table_capabilities (ask_table_t *self, const mcpact_server_config_t *config)
{
    int allowed = config->client_features;
    json_decref (self->own_roots);
    self->own_roots = config->roots ? json_loads (config->roots, 0, NULL) : NULL;
    json_t *roots = self->own_roots ? NULL : self->asks ? s_roots (self->asks) : NULL;
    self->roots = (allowed & MCPACT_CLIENT_ROOTS) && (self->own_roots || roots);
    json_decref (roots);
    bool sampling = false;
    int modes = 0;
    if (self->asks)
        s_offers (self->asks, &sampling, &modes);
    self->sampling = sampling && (allowed & MCPACT_CLIENT_SAMPLING);
    self->modes = allowed & MCPACT_CLIENT_ELICITATION ? modes : 0;
    //  The owner's roots may change later: hear of it.
    bool subscribe = (allowed & MCPACT_CLIENT_ROOTS) && !self->own_roots && self->asks;
    if (subscribe && !self->subscribed)
        s_subscribe (self->asks, self->endpoint, true);
    self->subscribed |= subscribe;

    json_t *capabilities = json_object ();
    if (self->roots)
        json_object_set_new (capabilities, "roots", json_pack ("{s:b}", "listChanged", 1));
    if (self->sampling)
        json_object_set_new (capabilities, "sampling", json_object ());
    if (self->modes) {
        json_t *elicitation = json_object ();
        if (self->modes & MCPACT_ELICIT_FORM)
            json_object_set_new (elicitation, "form", json_object ());
        if (self->modes & MCPACT_ELICIT_URL)
            json_object_set_new (elicitation, "url", json_object ());
        json_object_set_new (capabilities, "elicitation", elicitation);
    }
    return capabilities;
}

void
ask_table_reset (ask_table_t *self, const char *reason)
{
    s_end_all (self, reason);
}

static void
s_respond_error (ask_table_t *self, const char *id, size_t id_size, int code, const char *format,
                 ...)
{
    char message[512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    self->respond (self->respond_arg, id, id_size, NULL,
                   json_pack ("{s:i,s:s}", "code", code, "message", message));
}

//  Hands a request to the host: an entry here, the ask to a thread.
static void
s_dispatch (ask_table_t *self, s_kind_t kind, const char *method, json_t *params, const char *id,
            size_t id_size)
{
    if (zlistx_size (self->entries) >= ASKS_MAX_WAITING) {
        s_respond_error (self, id, id_size, -32603,
                         "%zu requests of this server wait for the client's user already",
                         zlistx_size (self->entries));
        return;
    }
    mcpact_ask_t *ask = (mcpact_ask_t *) calloc (1, sizeof (mcpact_ask_t));
    s_entry_t *entry = (s_entry_t *) calloc (1, sizeof (s_entry_t));
    if (!ask || !entry) {
        free (ask);
        free (entry);
        s_respond_error (self, id, id_size, -32603, "the client is out of memory");
        return;
    }
    pthread_mutex_init (&ask->lock, NULL);
    ask->refs = 2; //  the entry's, and the host's
    ask->kind = kind;
    ask->method = strdup (method);
    ask->server = strdup (self->server);
    ask->params = json_dumps (params ? params : json_object (), JSON_COMPACT);
    if (kind == K_FORM)
        ask->schema = json_deep_copy (json_object_get (params, "requestedSchema"));
    snprintf (ask->endpoint, sizeof ask->endpoint, "%s", self->endpoint);
    ask->ask_id = ++self->next_id;
    ask->asks = asks_ref (self->asks);
    pthread_mutex_lock (&self->asks->lock);
    ask->agent = self->asks->agent ? strdup (self->asks->agent) : NULL;
    pthread_mutex_unlock (&self->asks->lock);

    entry->ask = ask;
    entry->id = strndup (id, id_size);
    entry->id_size = id_size;
    json_t *id_value = json_loadb (id, id_size, JSON_DECODE_ANY, NULL);
    entry->id_key = json_dumps (id_value, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref (id_value);
    entry->timeout_ms = s_timeout (self->asks);
    entry->deadline = clock_ms () + entry->timeout_ms;
    void *handle = zlistx_add_end (self->entries, entry);
    log_debug ("server %s: %s handed to the host", self->server, method);
    if (s_spawn (s_handler_main, ask) != 0) {
        zlistx_delete (self->entries, handle);
        s_ask_end (ask, "the client could not start a thread for it");
        s_ask_unref (&ask); //  the host's, never given
        s_entry_free (entry);
        s_respond_error (self, id, id_size, -32603, "the client could not start a thread for it");
    }
}

bool
ask_table_request (ask_table_t *self, const char *method, json_t *params, const char *id,
                   size_t id_size)
{
    if (strcmp (method, "roots/list") == 0) {
        if (!self->roots)
            return false;
        json_t *roots = self->own_roots ? json_deep_copy (self->own_roots) : s_roots (self->asks);
        self->respond (self->respond_arg, id, id_size,
                       json_pack ("{s:o}", "roots", roots ? roots : json_array ()), NULL);
        return true;
    }
    if (strcmp (method, "sampling/createMessage") == 0) {
        if (!self->sampling)
            return false;
        if (!json_is_array (json_object_get (params, "messages")))
            s_respond_error (self, id, id_size, -32602,
                             "sampling/createMessage: params.messages is not an array");
        else
            s_dispatch (self, K_SAMPLING, method, params, id, id_size);
        return true;
    }
    if (strcmp (method, "elicitation/create") == 0) {
        if (!self->modes)
            return false;
        const char *mode = json_string_value (json_object_get (params, "mode"));
        bool url = mode && strcmp (mode, "url") == 0;
        if (mode && !url && strcmp (mode, "form") != 0)
            s_respond_error (self, id, id_size, -32602, "elicitation mode %s is not known", mode);
        else if (!(self->modes & (url ? MCPACT_ELICIT_URL : MCPACT_ELICIT_FORM)))
            s_respond_error (self, id, id_size, -32602,
                             "elicitation in %s mode was not offered by this client",
                             url ? "url" : "form");
        else if (url && (!json_is_string (json_object_get (params, "url")) ||
                         !json_is_string (json_object_get (params, "elicitationId"))))
            s_respond_error (self, id, id_size, -32602,
                             "elicitation/create in url mode needs url and elicitationId");
        else if (!url) {
            char *why = NULL;
            if (elicit_schema_check (json_object_get (params, "requestedSchema"), &why) != 0)
                s_respond_error (self, id, id_size, -32602, "elicitation/create: %s",
                                 why ? why : "out of memory");
            else
                s_dispatch (self, K_FORM, method, params, id, id_size);
            free (why);
        } else
            s_dispatch (self, K_URL, method, params, id, id_size);
        return true;
    }
    return false;
}

static s_entry_t *
s_find (ask_table_t *self, uint64_t ask_id)
{
    for (s_entry_t *entry = (s_entry_t *) zlistx_first (self->entries); entry;
         entry = (s_entry_t *) zlistx_next (self->entries))
        if (entry->ask->ask_id == ask_id)
            return entry;
    return NULL;
}

void
ask_table_answer (ask_table_t *self, uint64_t ask_id, const char *payload, size_t size)
{
    s_entry_t *entry = s_find (self, ask_id);
    if (!entry) {
        log_debug ("server %s: dropped a late answer of the host", self->server);
        return;
    }
    s_detach (self);
    json_t *answer = json_loadb (payload, size, 0, NULL);
    json_t *result = json_object_get (answer, "result");
    json_t *error = json_object_get (answer, "error");
    if (result || error)
        self->respond (self->respond_arg, entry->id, entry->id_size, json_incref (result),
                       result ? NULL : json_incref (error));
    json_decref (answer);
    s_entry_free (entry);
}

void
ask_table_cancelled (ask_table_t *self, json_t *params)
{
    json_t *request_id = json_object_get (params, "requestId");
    char *key = request_id ? json_dumps (request_id, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!key)
        return;
    const char *why = json_string_value (json_object_get (params, "reason"));
    for (s_entry_t *entry = (s_entry_t *) zlistx_first (self->entries); entry;
         entry = (s_entry_t *) zlistx_next (self->entries))
        if (entry->id_key && strcmp (entry->id_key, key) == 0) {
            s_detach (self);
            char reason[512];
            snprintf (reason, sizeof reason, "cancelled by the server%s%s", why ? ": " : "",
                      why ? why : "");
            log_info ("server %s: %s %s", self->server, entry->ask->method, reason);
            s_ask_end (entry->ask, reason);
            s_entry_free (entry);
            break;
        }
    free (key);
}

bool
ask_table_roots_changed (ask_table_t *self)
{
    return self->roots && !self->own_roots;
}

int64_t
ask_table_host_busy (ask_table_t *self, int64_t now)
{
    return zlistx_size (self->entries) ? now : self->ended_ms;
}

int64_t
ask_table_deadline (ask_table_t *self)
{
    int64_t next = 0;
    for (s_entry_t *entry = (s_entry_t *) zlistx_first (self->entries); entry;
         entry = (s_entry_t *) zlistx_next (self->entries))
        if (entry->deadline && (!next || entry->deadline < next))
            next = entry->deadline;
    return next;
}

void
ask_table_expire (ask_table_t *self, int64_t now)
{
    bool again = true;
    while (again) {
        again = false;
        for (s_entry_t *entry = (s_entry_t *) zlistx_first (self->entries); entry;
             entry = (s_entry_t *) zlistx_next (self->entries)) {
            if (!entry->deadline || entry->deadline > now)
                continue;
            char reason[64];
            snprintf (reason, sizeof reason, "timed out after %d ms", entry->timeout_ms);
            if (!s_ask_end (entry->ask, reason)) {
                entry->deadline = 0; //  answered: the answer is on its way
                continue;
            }
            s_detach (self);
            log_warn ("server %s: %s: the host did not answer within %d ms", self->server,
                      entry->ask->method, entry->timeout_ms);
            s_respond_error (self, entry->id, entry->id_size, -32603,
                             "the client's user did not answer within %d ms", entry->timeout_ms);
            s_entry_free (entry);
            again = true; //  the list changed under the cursor
            break;
        }
    }
}
