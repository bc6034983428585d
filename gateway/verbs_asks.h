/*  =========================================================================
    verbs_asks - servers that ask back, answered by a client of the gateway

    With "elicitation" or "sampling" in its options, the gateway is the
    session's handler of those requests (gw_asks_handler, set before the
    servers connect, so that they are offered the feature). The handler
    runs on the ask's own thread: it hands the ask to the gateway's actor
    (a PUSH of its own to the actor's PULL, the endpoint named by the
    gateway's id), which passes it to the client that said HANDLE for the
    agent and kind as `ASK ask_id agent server kind params_json`, and
    answers it with that client's ANSWER or REJECT. An ask that ends
    without an answer (timeout, the server's cancel) is told to the client
    as `ASK_CANCELLED ask_id reason`.

    Threading: gw_asks_handler and the cancel hook run on the runtime's
    ask threads and touch nothing but the ask and a socket of their own;
    gw_asks_t is the gateway actor's, and owns each ask it was handed
    until it destroys it.
    =========================================================================
*/

#ifndef MCPACT_VERBS_ASKS_H
#define MCPACT_VERBS_ASKS_H

#include "api.h"

#include <czmq.h>

//  The handler for mcpact_session_set_elicitation/_sampling; `arg` is the
//  gateway's id, (void *) (uintptr_t) id.
void gw_asks_handler (mcpact_ask_t *ask, void *arg);

typedef struct _gw_asks_t gw_asks_t;

//  Sends `count` frames to `client` (an opaque copy of the gateway's
//  client address); returns false if it could not go.
typedef bool (gw_asks_send_fn) (void *arg, const void *client, const char **frames, int count);

//  The actor's side, for gateway `id`; clients are `client_size` bytes.
gw_asks_t *gw_asks_new (unsigned id, size_t client_size, gw_asks_send_fn *send, void *arg);

//  Rejects every ask still held ("the gateway stopped") and frees them.
void gw_asks_destroy (gw_asks_t **self_p);

//  The socket asks arrive on, to poll; then gw_asks_receive.
void *gw_asks_socket (gw_asks_t *self);
void gw_asks_receive (gw_asks_t *self);

//  HANDLE: `client` answers `kinds` ("elicitation", "sampling", or both
//  with a comma) for `agent`. 0, or -1 with a message.
int gw_asks_handle (gw_asks_t *self, const void *client, const char *agent, const char *kinds,
                    char *message, size_t message_size);

//  ANSWER (result_json) or REJECT (reject_message) of ask `ask_id`. 0,
//  or -1 with an ERROR code and a message (an answer that does not fit
//  names the field; the ask still waits).
int gw_asks_answer (gw_asks_t *self, const char *ask_id, const char *result_json,
                    const char *reject_message, const char **code, char *message,
                    size_t message_size);

#endif
