/*  =========================================================================
    group_features - what a group offers beside tools: resources, resource
    templates, prompts, subscriptions and server logging, as the public
    protocol's verbs and events (used by transports/group.c)

    Owned by the group transport and used on its thread only. Messages for
    the server actor are appended to the transport's list (char *, owned
    by the list); frames go out on the transport's DEALER, never waiting.
    =========================================================================
*/

#ifndef MCPACT_GROUP_FEATURES_H_INCLUDED
#define MCPACT_GROUP_FEATURES_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>

//  The first letters of the wire ids of these requests (then the
//  JSON-RPC id): a reply with one of them is group_features_reply's.
#define GROUP_FEATURE_LETTERS "rTPRGSUL"

typedef struct _group_features_t group_features_t;

//  Sends frames (verb, id, then a..d up to the first NULL) to the gateway
//  without waiting: a full queue fails (-1).
int group_send (zsock_t *dealer, const char *verb, const char *id, const char *a, const char *b,
                const char *c, const char *d);

//  Whether a request of `count` frames (`names` says what each is) fits
//  the group's gateway, whose maxMessageBytes (`max_message`; 0: not
//  said) is its sockets' ZMQ_MAXMSGSIZE: libzmq applies it to each frame
//  as it arrives (with CURVE, `curve`, to the frame encrypted, 33 bytes
//  more), and drops the connection, every call on it, for one frame over.
//  0 if it fits; else -1 with `text`: "WHAT is larger than the group's
//  maxMessageBytes (...): its NAME frame is N bytes; nothing was sent".
int group_fits (size_t max_message, bool curve, const char *what, const char *const *frames,
                const char *const *names, int count, char *text, size_t size);

//  Appends a JSON-RPC message (taken) to `out`, as text.
void group_queue (zlist_t *out, json_t *message);

//  Appends a JSON-RPC error answer to `id` to `out`.
void group_queue_error (zlist_t *out, json_t *id, int code, const char *message);

//  The same, carrying the group's status of the failure in
//  error.data.mcpactStatus (status_in_error; -1: none), the group's own
//  failure (MCPACT_ERR_INTERNAL) made its server's (MCPACT_ERR_SERVER).
void group_queue_failure (zlist_t *out, json_t *id, int code, int status, const char *message);

//  The features of the group `name` (the session's server) at the
//  gateway's `endpoint`, agent `agent`, talking over `dealer` and handing
//  messages to `out` (both the transport's). NULL if out of memory.
group_features_t *group_features_new (const char *name, const char *endpoint, const char *agent,
                                      zsock_t *dealer, zlist_t *out);

void group_features_destroy (group_features_t **self_p);

//  The group's frame limit, as its HELLO said (group_fits), for the
//  requests sent from now on.
void group_features_limits (group_features_t *self, size_t max_message, bool curve);

//  HELLO's info: the agent's servers, and a SUB to the events endpoint it
//  names ("eventEndpoints"), with `cert` and `server_key` (CURVE) if not
//  NULL. Without one, what only events carry is not offered.
void group_features_hello (group_features_t *self, json_t *info, zcert_t *cert,
                           const char *server_key);

//  The capabilities to offer in initialize (a new reference), from the
//  STATUS answer `text` (NULL: not known, tools only); sets *instructions
//  to the servers' instructions as one text (a new reference) or NULL.
json_t *group_features_offers (group_features_t *self, const char *text, json_t **instructions);

//  Sends the actor's request `method` (resources/..., prompts/...,
//  logging/setLevel) as its verb, or answers it at once (a method the
//  group has not: -32601). Returns -1 if it could not be sent.
int group_features_request (group_features_t *self, const char *method, json_t *id, json_t *params);

//  A reply of the gateway to one of those (`wire` begins with one of
//  GROUP_FEATURE_LETTERS; `id` its JSON-RPC id): VERB id a b.
void group_features_reply (group_features_t *self, const char *verb, const char *wire, json_t *id,
                           const char *a, const char *b);

//  The SUB to poll, or NULL; its endpoint, or NULL.
zsock_t *group_features_events (group_features_t *self);
const char *group_features_events_at (group_features_t *self);

//  Takes up to `batch` events waiting on the SUB.
void group_features_on_events (group_features_t *self, int batch);

#endif
