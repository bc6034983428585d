/*  =========================================================================
    verbs_features - the gateway's verbs for resources, prompts,
    instructions, server logging and roots, run off the gateway's loop

    What the C API does for these blocks its thread until every server
    asked has answered (or timed out), so the gateway's actor never makes
    these calls itself: it checks the request (features_start) and pushes
    it to FEATURES_WORKERS worker threads (PUSH -> PULL, round robin);
    each worker makes the call and pushes the reply frames back (PUSH ->
    the gateway's PULL). A slow server holds one worker; the others, and
    every CALL, go on.

    A reply's body frame is made over the C API's own buffer
    (zmq_msg_init_data, freed by libzmq once sent): a resources/read of
    many megabytes crosses to the gateway and out to the client without
    another copy.

    Threading: features_t and its two sockets are the gateway actor's; each
    worker is a zactor with sockets of its own. The agents named in
    requests belong to the gateway's host object and outlive
    features_destroy, which waits for each worker.
    =========================================================================
*/

#include "verbs_features.h"

#include "gateway.h"
#include "roots.h"
#include "server_requests.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>

#define FEATURES_WORKERS 4

struct _features_t {
    zsock_t *jobs;                       //  PUSH to the workers
    zsock_t *done;                       //  PULL from the workers
    zactor_t *workers[FEATURES_WORKERS]; //  the worker threads
    size_t waiting;                      //  requests with the workers
    char jobs_endpoint[64];              //  inproc endpoint of jobs
    char done_endpoint[64];              //  inproc endpoint of done
};

//  --------------------------------------------------------------------------
//  Workers: [token verb agent_ptr args...] -> [token reply_verb status body]
//  (status "" for a `VERB id body` reply, a number for `RESULT id status
//  body`)

static void
s_free_text (void *data, void *hint)
{
    (void) hint;
    free (data);
}

static void
s_free_result (void *data, void *hint)
{
    (void) data;
    mcpact_result_t *result = (mcpact_result_t *) hint;
    mcpact_result_destroy (&result);
}

//  Sends the reply; `text` (malloc'ed) or `result` is handed to libzmq.
static void
s_reply (zsock_t *done, const char *token, const char *verb, char *text, mcpact_result_t *result)
{
    void *socket = zsock_resolve (done);
    char status[16] = "";
    zmq_msg_t body;
    if (result) {
        mcpact_status_t code = mcpact_result_status (result);
        snprintf (status, sizeof status, "%d", (int) code);
        const char *json = mcpact_result_json (result);
        if ((code == MCPACT_OK || code == MCPACT_ERR_TOOL) && json) {
            //  libzmq frees the result once the frame is sent (any thread)
            zmq_msg_init_data (&body, (void *) json, strlen (json), s_free_result, result);
        } else {
            json_t *error = json_pack ("{s:s}", "message", mcpact_result_error (result));
            char *error_text = json_dumps (error, JSON_COMPACT);
            json_decref (error);
            mcpact_result_destroy (&result);
            zmq_msg_init_data (&body, error_text, error_text ? strlen (error_text) : 0, s_free_text,
                               NULL);
        }
        verb = "RESULT";
    } else
        zmq_msg_init_data (&body, text, text ? strlen (text) : 0, s_free_text, NULL);
    zmq_send (socket, token, strlen (token), ZMQ_SNDMORE);
    zmq_send (socket, verb, strlen (verb), ZMQ_SNDMORE);
    zmq_send (socket, status, strlen (status), ZMQ_SNDMORE);
    if (zmq_msg_send (&body, socket, 0) < 0)
        zmq_msg_close (&body);
}

static char *
s_error_text (const char *code, const char *message)
{
    json_t *body = json_pack ("{s:s,s:s}", "error", code, "message", message);
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    return text;
}

//  Makes one request's C API call and sends its reply.
static void
s_work (zsock_t *done, zmsg_t *msg)
{
    char *token = zmsg_popstr (msg);
    char *verb = zmsg_popstr (msg);
    zframe_t *pointer = zmsg_pop (msg);
    mcpact_agent_t *agent = NULL;
    if (pointer && zframe_size (pointer) == sizeof agent)
        memcpy (&agent, zframe_data (pointer), sizeof agent);
    zframe_destroy (&pointer);
    char *args[4] = { NULL };
    for (int i = 0; i < 4; i++) {
        args[i] = zmsg_popstr (msg);
        //  "" where a server may be named: none named
        if (args[i] && !*args[i] && i > 0) {
            free (args[i]);
            args[i] = NULL;
        }
    }
    if (!token || !verb || !agent)
        ; //  not from features_start: nothing to answer
    else if (streq (verb, "RESOURCES"))
        s_reply (done, token, verb, mcpact_agent_resources (agent), NULL);
    else if (streq (verb, "TEMPLATES"))
        s_reply (done, token, verb, mcpact_agent_resource_templates (agent), NULL);
    else if (streq (verb, "PROMPTS"))
        s_reply (done, token, verb, mcpact_agent_prompts (agent), NULL);
    else if (streq (verb, "INSTRUCTIONS"))
        s_reply (done, token, verb, mcpact_agent_instructions (agent), NULL);
    else if (streq (verb, "READ"))
        s_reply (done, token, verb, NULL, mcpact_agent_read_resource (agent, args[1], args[0], 0));
    else if (streq (verb, "PROMPT"))
        s_reply (done, token, verb, NULL,
                 mcpact_agent_get_prompt (agent, args[2], args[0], args[1], 0));
    else if (streq (verb, "SUBSCRIBE") || streq (verb, "UNSUBSCRIBE")) {
        char *error = NULL;
        if (mcpact_agent_subscribe_resource (agent, args[1], args[0], streq (verb, "SUBSCRIBE"),
                                             &error) == 0)
            s_reply (done, token, verb, strdup ("{}"), NULL);
        else
            s_reply (done, token, "ERROR", s_error_text ("failed", error ? error : "failed"), NULL);
        free (error);
    } else if (streq (verb, "LOGLEVEL")) {
        if (mcpact_agent_set_server_log_level (agent, args[1], args[0]) == 0)
            s_reply (done, token, verb, strdup ("{}"), NULL);
        else
            s_reply (done, token, "ERROR",
                     s_error_text ("failed", "a server refused the log level or could not be "
                                             "reached (the gateway's log says which)"),
                     NULL);
    } else if (streq (verb, "ROOTS")) {
        //  An agent without servers of its own uses its session's, and so
        //  its session's roots.
        pthread_mutex_lock (&agent->lock);
        bool own = agent->actor != NULL;
        pthread_mutex_unlock (&agent->lock);
        int rc = own ? mcpact_agent_set_roots (agent, args[0])
                     : mcpact_session_set_roots (agent->session, args[0]);
        if (rc == 0)
            s_reply (done, token, verb, strdup ("{}"), NULL);
        else
            s_reply (done, token, "ERROR", s_error_text ("failed", "the roots were not taken"),
                     NULL);
    }
    for (int i = 0; i < 4; i++)
        free (args[i]);
    free (token);
    free (verb);
}

//  [endpoints] -> the worker's loop until $TERM
static void
s_worker (zsock_t *pipe, void *arg)
{
    features_t *features = (features_t *) arg;
    char endpoint[80];
    snprintf (endpoint, sizeof endpoint, ">%s", features->jobs_endpoint);
    zsock_t *jobs = zsock_new_pull (endpoint);
    snprintf (endpoint, sizeof endpoint, ">%s", features->done_endpoint);
    zsock_t *done = zsock_new_push (endpoint);
    bool ready = jobs && done;
    zsock_signal (pipe, ready ? 0 : 1);
    while (ready) {
        zmq_pollitem_t items[] = { { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
                                   { zsock_resolve (jobs), 0, ZMQ_POLLIN, 0 } };
        if (zmq_poll (items, 2, -1) < 0) {
            //  A signal (the CLI's SIGINT): the gateway says when to stop
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (pipe); //  $TERM
            zmsg_destroy (&msg);
            break;
        }
        zmsg_t *msg = zmsg_recv (jobs);
        if (msg)
            s_work (done, msg);
        zmsg_destroy (&msg);
    }
    zsock_destroy (&jobs);
    zsock_destroy (&done);
}

//  --------------------------------------------------------------------------
//  The gateway's side

features_t *
features_new (void)
{
    features_t *self = (features_t *) calloc (1, sizeof (features_t));
    if (!self)
        return NULL;
    unsigned id = api_next_id ();
    snprintf (self->jobs_endpoint, sizeof self->jobs_endpoint, "inproc://mcpact-features-%u-jobs",
              id);
    snprintf (self->done_endpoint, sizeof self->done_endpoint, "inproc://mcpact-features-%u-done",
              id);
    self->jobs = zsock_new (ZMQ_PUSH);
    self->done = zsock_new (ZMQ_PULL);
    if (!self->jobs || !self->done || zsock_bind (self->jobs, "%s", self->jobs_endpoint) != 0 ||
        zsock_bind (self->done, "%s", self->done_endpoint) != 0) {
        features_destroy (&self);
        return NULL;
    }
    //  Never wait on a send (the queue is bounded by the gateway's count),
    //  and never block the gateway's loop (no worker: the request fails).
    zsock_set_sndhwm (self->jobs, 0);
    zsock_set_sndtimeo (self->jobs, 0);
    zsock_set_rcvhwm (self->done, 0);
    for (int i = 0; i < FEATURES_WORKERS; i++)
        if (!(self->workers[i] = zactor_new (s_worker, self))) {
            features_destroy (&self);
            return NULL;
        }
    return self;
}

void
features_destroy (features_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    features_t *self = *self_p;
    for (int i = 0; i < FEATURES_WORKERS; i++)
        zactor_destroy (&self->workers[i]);
    zsock_destroy (&self->jobs);
    zsock_destroy (&self->done);
    free (self);
    *self_p = NULL;
}

void *
features_socket (features_t *self)
{
    return zsock_resolve (self->done);
}

size_t
features_waiting (features_t *self)
{
    return self->waiting;
}

//  Whether `server` is one of the agent's; else a message listing them.
static bool
s_server_known (mcpact_agent_t *agent, const char *agent_name, const char *server, char *message,
                size_t message_size)
{
    catalog_t *catalog = catalog_slot_get (&agent->slot);
    json_t *servers = catalog_servers (catalog);
    char names[256] = "";
    bool found = false;
    size_t index;
    json_t *entry;
    json_array_foreach (servers, index, entry) {
        const char *name = json_string_value (json_object_get (entry, "name"));
        if (name && strcmp (name, server) == 0)
            found = true;
        size_t used = strlen (names);
        snprintf (names + used, sizeof names - used, "%s\"%s\"", index ? ", " : "",
                  name ? name : "");
    }
    catalog_unref (&catalog);
    if (!found)
        snprintf (message, message_size, "agent \"%s\" has no server \"%s\" (its servers: %s)",
                  TEXT_CUT (agent_name, 64), TEXT_CUT (server, 64), *names ? names : "none");
    return found;
}

int
features_start (features_t *self, uint64_t token, mcpact_agent_t *agent, const char *agent_name,
                const char *verb, char **args, int count, const char **code, char *message,
                size_t message_size)
{
    *code = "bad_request";
    *message = 0;
    //  Where the verb may name a server: args[server_at] (after the agent).
    int server_at = -1;
    if (streq (verb, "READ") || streq (verb, "SUBSCRIBE") || streq (verb, "UNSUBSCRIBE")) {
        if (!*args[0])
            snprintf (message, message_size, "%s wants a resource URI, not an empty frame", verb);
        server_at = 1;
    } else if (streq (verb, "PROMPT")) {
        if (!*args[0])
            snprintf (message, message_size, "PROMPT wants a prompt name, not an empty frame");
        else if (count > 1 && *args[1]) {
            //  Its keys are the prompt's arguments: any name, string values.
            json_t *prompt_args =
                gw_json_object (args[1], "PROMPT arguments are", message, message_size);
            const char *key;
            json_t *value;
            json_object_foreach (prompt_args, key, value)
                if (!*message && !json_is_string (value))
                    snprintf (message, message_size,
                              "PROMPT arguments: \"%s\" is %s; prompt arguments are strings",
                              TEXT_CUT (key, 64), gw_json_kind (value));
            json_decref (prompt_args);
        }
        server_at = 2;
    } else if (streq (verb, "LOGLEVEL")) {
        if (server_log_rank (args[0]) < 0)
            snprintf (message, message_size,
                      "'%s' is not an MCP logging level; use debug, info, notice, warning, "
                      "error, critical, alert or emergency",
                      TEXT_CUT (args[0], 40));
        server_at = 1;
    } else if (streq (verb, "ROOTS")) {
        static const char *const known[] = { "uri", "name", NULL };
        json_t *value = gw_json_frame (args[0], "ROOTS roots are", message, message_size);
        size_t index;
        json_t *item;
        json_array_foreach (value, index, item) {
            char what[48];
            snprintf (what, sizeof what, "ROOTS: roots[%zu]", index);
            if (json_is_object (item) && !gw_known_keys (item, known, what, message, message_size))
                break;
        }
        char *why = NULL;
        json_t *roots = value && !*message ? roots_list (value, &why) : NULL;
        if (value && !*message && !roots)
            snprintf (message, message_size, "ROOTS: %s", why ? why : "out of memory");
        free (why);
        json_decref (roots);
        json_decref (value);
    }
    if (!*message && server_at >= 0 && count > server_at && *args[server_at] &&
        !s_server_known (agent, agent_name, args[server_at], message, message_size))
        *code = "unknown_server";
    if (*message)
        return -1;
    char token_text[24];
    snprintf (token_text, sizeof token_text, "%" PRIu64, token);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, token_text);
    zmsg_addstr (msg, verb);
    zmsg_addmem (msg, &agent, sizeof agent);
    for (int i = 0; i < count; i++)
        zmsg_addstr (msg, args[i]);
    if (zmsg_send (&msg, self->jobs) != 0) {
        zmsg_destroy (&msg);
        *code = "internal";
        snprintf (message, message_size, "cannot hand %s to a worker", verb);
        return -1;
    }
    self->waiting++;
    return 0;
}

int
features_next (features_t *self, uint64_t *token, zmq_msg_t *frames)
{
    void *socket = zsock_resolve (self->done);
    zmq_msg_t parts[4];
    int count = 0;
    while (count < 4) {
        zmq_msg_init (&parts[count]);
        if (zmq_msg_recv (&parts[count], socket, count ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&parts[count]);
            break;
        }
        count++;
        if (!zmq_msg_more (&parts[count - 1]))
            break;
    }
    if (count < 4) {
        for (int i = 0; i < count; i++)
            zmq_msg_close (&parts[i]);
        return 0;
    }
    self->waiting--;
    char text[24] = "";
    size_t size = zmq_msg_size (&parts[0]) < sizeof text ? zmq_msg_size (&parts[0]) : 0;
    memcpy (text, zmq_msg_data (&parts[0]), size);
    text[size] = 0;
    *token = strtoull (text, NULL, 10);
    zmq_msg_close (&parts[0]);
    //  verb, [status], body
    int out = 0;
    for (int i = 1; i < 4; i++)
        if (i != 2 || zmq_msg_size (&parts[2])) {
            zmq_msg_init (&frames[out]);
            zmq_msg_move (&frames[out++], &parts[i]);
        }
    zmq_msg_close (&parts[2]);
    zmq_msg_close (&parts[1]);
    zmq_msg_close (&parts[3]);
    return out;
}
