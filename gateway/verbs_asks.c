/*  =========================================================================
    verbs_asks - servers that ask back, answered by a client of the gateway

    See verbs_asks.h. The ask threads talk to the actor by pointer over
    inproc: ["ASK" ask] when the handler is called, ["CANCELLED" ask
    reason] from the cancel hook. The two come on different sockets, so
    either may come first: an ASK for an ask that is over already is
    ended at once, and a CANCELLED is taken only for an ask the table
    holds whose mcpact_ask_cancelled says it is over (a pointer the
    runtime gave again to a new ask, still waiting, is left alone).

    Threading: as verbs_asks.h says.
    =========================================================================
*/

#include "verbs_asks.h"

#include "actor.h"
#include "gateway.h"
#include "text.h"

#include <inttypes.h>

struct _gw_asks_t {
    zsock_t *pull;         //  from the ask threads
    zhashx_t *asks;        //  ask id -> s_held_t
    zhashx_t *handlers;    //  "agent/kind" -> client (client_size bytes)
    size_t client_size;    //  the gateway's client address size
    gw_asks_send_fn *send; //  to a client
    void *send_arg;        //  its argument
    uint64_t next;         //  ask ids
};

//  An ask handed to a client, waiting for its answer.
typedef struct {
    mcpact_ask_t *ask; //  owned
    char id[24];       //  its id in the protocol
    uint8_t client[];  //  who has it
} s_held_t;

static void
s_endpoint (unsigned id, char *out, size_t size)
{
    snprintf (out, size, "inproc://mcpact-gateway-asks-%u", id);
}

//  From an ask thread: [verb ask_ptr [reason]] to the gateway.
static void
s_push (unsigned id, const char *verb, mcpact_ask_t *ask, const char *reason)
{
    char endpoint[64];
    s_endpoint (id, endpoint, sizeof endpoint);
    zsock_t *push = zsock_new (ZMQ_PUSH);
    if (!push) {
        mcpact_ask_reject (ask, "the gateway cannot take requests now");
        return;
    }
    //  What is queued goes before the socket closes.
    zsock_set_linger (push, 1000);
    zsock_connect (push, "%s", endpoint);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, verb);
    actor_handoff_release (ask); //  the pointer goes inside a message
    zmsg_addmem (msg, &ask, sizeof ask);
    if (reason)
        zmsg_addstr (msg, reason);
    zmsg_send (&msg, push);
    zsock_destroy (&push);
}

static void
s_on_cancel (mcpact_ask_t *ask, const char *reason, void *arg)
{
    s_push ((unsigned) (uintptr_t) arg, "CANCELLED", ask, reason);
}

void
gw_asks_handler (mcpact_ask_t *ask, void *arg)
{
    mcpact_ask_on_cancel (ask, s_on_cancel, arg);
    s_push ((unsigned) (uintptr_t) arg, "ASK", ask, NULL);
}

gw_asks_t *
gw_asks_new (unsigned id, size_t client_size, gw_asks_send_fn *send, void *arg)
{
    gw_asks_t *self = (gw_asks_t *) calloc (1, sizeof (gw_asks_t));
    if (!self)
        return NULL;
    char endpoint[64];
    s_endpoint (id, endpoint, sizeof endpoint);
    self->pull = zsock_new (ZMQ_PULL);
    self->asks = zhashx_new ();
    self->handlers = zhashx_new ();
    self->client_size = client_size;
    self->send = send;
    self->send_arg = arg;
    if (!self->pull || !self->asks || !self->handlers ||
        zsock_bind (self->pull, "%s", endpoint) != 0) {
        gw_asks_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->handlers, (zhashx_destructor_fn *) zstr_free);
    return self;
}

static void
s_held_end (gw_asks_t *self, s_held_t *held)
{
    mcpact_ask_on_cancel (held->ask, NULL, NULL);
    mcpact_ask_destroy (&held->ask);
    zhashx_delete (self->asks, held->id);
    free (held);
}

void
gw_asks_destroy (gw_asks_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_asks_t *self = *self_p;
    for (s_held_t *held = self->asks ? (s_held_t *) zhashx_first (self->asks) : NULL; held;
         held = (s_held_t *) zhashx_first (self->asks)) {
        mcpact_ask_reject (held->ask, "the gateway stopped");
        s_held_end (self, held);
    }
    //  Asks on their way here: ended as well.
    while (self->pull && zsock_events (self->pull) & ZMQ_POLLIN)
        gw_asks_receive (self);
    for (s_held_t *held = self->asks ? (s_held_t *) zhashx_first (self->asks) : NULL; held;
         held = (s_held_t *) zhashx_first (self->asks)) {
        mcpact_ask_reject (held->ask, "the gateway stopped");
        s_held_end (self, held);
    }
    zhashx_destroy (&self->asks);
    zhashx_destroy (&self->handlers);
    zsock_destroy (&self->pull);
    free (self);
    *self_p = NULL;
}

void *
gw_asks_socket (gw_asks_t *self)
{
    return zsock_resolve (self->pull);
}

static s_held_t *
s_find (gw_asks_t *self, mcpact_ask_t *ask)
{
    for (s_held_t *held = (s_held_t *) zhashx_first (self->asks); held;
         held = (s_held_t *) zhashx_next (self->asks))
        if (held->ask == ask)
            return held;
    return NULL;
}

//  A new ask: to the client that handles its agent and kind.
static void
s_on_ask (gw_asks_t *self, mcpact_ask_t *ask)
{
    if (mcpact_ask_cancelled (ask)) {
        mcpact_ask_destroy (&ask);
        return;
    }
    const char *method = mcpact_ask_method (ask);
    const char *kind =
        method && strcmp (method, "sampling/createMessage") == 0 ? "sampling" : "elicitation";
    const char *agent = mcpact_ask_agent (ask) ? mcpact_ask_agent (ask) : "";
    char key[300];
    snprintf (key, sizeof key, "%s/%s", agent, kind);
    const void *client = zhashx_lookup (self->handlers, key);
    if (!client) {
        char message[300];
        snprintf (message, sizeof message,
                  "no client of the gateway handles %s for agent \"%s\" (HANDLE)", kind,
                  TEXT_CUT (agent, 64));
        mcpact_ask_reject (ask, message);
        mcpact_ask_destroy (&ask);
        return;
    }
    s_held_t *held = (s_held_t *) calloc (1, sizeof (s_held_t) + self->client_size);
    if (!held) {
        mcpact_ask_reject (ask, "out of memory");
        mcpact_ask_destroy (&ask);
        return;
    }
    held->ask = ask;
    snprintf (held->id, sizeof held->id, "a%" PRIu64, ++self->next);
    memcpy (held->client, client, self->client_size);
    const char *params = mcpact_ask_params (ask);
    const char *frames[] = { "ASK", held->id,
                             agent, mcpact_ask_server (ask) ? mcpact_ask_server (ask) : "",
                             kind,  params ? params : "{}" };
    if (!self->send (self->send_arg, held->client, frames, 6)) {
        //  The client is gone: the server hears so at once.
        mcpact_ask_reject (ask, "the client that handles it is gone");
        mcpact_ask_destroy (&held->ask);
        free (held);
        return;
    }
    zhashx_insert (self->asks, held->id, held);
}

void
gw_asks_receive (gw_asks_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pull);
    char *verb = msg ? zmsg_popstr (msg) : NULL;
    zframe_t *pointer = msg ? zmsg_pop (msg) : NULL;
    mcpact_ask_t *ask = NULL;
    if (pointer && zframe_size (pointer) == sizeof ask) {
        memcpy (&ask, zframe_data (pointer), sizeof ask);
        actor_handoff_acquire (ask);
    }
    if (verb && ask && strcmp (verb, "ASK") == 0)
        s_on_ask (self, ask);
    else if (verb && ask && strcmp (verb, "CANCELLED") == 0) {
        s_held_t *held = s_find (self, ask);
        if (held && mcpact_ask_cancelled (held->ask)) {
            char *reason = zmsg_popstr (msg);
            const char *frames[] = { "ASK_CANCELLED", held->id, reason ? reason : "cancelled" };
            self->send (self->send_arg, held->client, frames, 3);
            free (reason);
            s_held_end (self, held);
        }
    }
    zframe_destroy (&pointer);
    free (verb);
    zmsg_destroy (&msg);
}

int
gw_asks_handle (gw_asks_t *self, const void *client, const char *agent, const char *kinds,
                char *message, size_t message_size)
{
    bool elicitation = false, sampling = false;
    char copy[64];
    snprintf (copy, sizeof copy, "%s", kinds);
    char *saved = NULL;
    for (char *kind = strtok_r (copy, ",", &saved); kind; kind = strtok_r (NULL, ",", &saved)) {
        if (strcmp (kind, "elicitation") == 0)
            elicitation = true;
        else if (strcmp (kind, "sampling") == 0)
            sampling = true;
        else {
            snprintf (message, message_size,
                      "HANDLE takes elicitation, sampling or both (elicitation,sampling), not "
                      "'%s'",
                      TEXT_CUT (kind, 40));
            return -1;
        }
    }
    if (!elicitation && !sampling) {
        snprintf (message, message_size, "HANDLE wants elicitation, sampling or both");
        return -1;
    }
    const char *names[] = { elicitation ? "elicitation" : NULL, sampling ? "sampling" : NULL };
    for (int i = 0; i < 2; i++)
        if (names[i]) {
            char key[300];
            snprintf (key, sizeof key, "%s/%s", agent, names[i]);
            void *copy_of = malloc (self->client_size);
            if (!copy_of)
                return -1;
            memcpy (copy_of, client, self->client_size);
            //  The last client to say HANDLE takes the next asks.
            zhashx_update (self->handlers, key, copy_of);
        }
    return 0;
}

int
gw_asks_answer (gw_asks_t *self, const char *ask_id, const char *result_json,
                const char *reject_message, const char **code, char *message, size_t message_size)
{
    s_held_t *held = (s_held_t *) zhashx_lookup (self->asks, ask_id);
    if (!held) {
        *code = "unknown_ask";
        snprintf (message, message_size, "no ask \"%s\" is waiting (answered, or over)",
                  TEXT_CUT (ask_id, 40));
        return -1;
    }
    if (result_json) {
        //  Where its JSON goes wrong; its keys are MCP's, checked by
        //  mcpact_ask_complete.
        json_t *result =
            gw_json_object (result_json, "ANSWER result_json is", message, message_size);
        if (!result) {
            *code = "bad_answer";
            return -1;
        }
        json_decref (result);
    }
    char *error = NULL;
    int rc = reject_message ? mcpact_ask_reject (held->ask, reject_message)
                            : mcpact_ask_complete (held->ask, result_json, &error);
    if (rc != 0 && !mcpact_ask_cancelled (held->ask)) {
        //  The answer does not fit: the ask still waits.
        *code = "bad_answer";
        snprintf (message, message_size, "%s", error ? error : "the answer was refused");
        free (error);
        return -1;
    }
    if (rc != 0) {
        *code = "unknown_ask";
        snprintf (message, message_size, "ask \"%s\" is over: %s", ask_id,
                  mcpact_ask_cancelled (held->ask));
    }
    free (error);
    s_held_end (self, held);
    return rc;
}
