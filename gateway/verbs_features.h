/*  =========================================================================
    verbs_features - the gateway's verbs for resources, prompts,
    instructions, server logging and roots, run off the gateway's loop

    The gateway's actor checks a request here (features_start, on its own
    thread: frames, JSON, level, server names) and hands it to one of a
    few worker threads, which make the blocking C API call
    (mcpact_agent_read_resource, ...). Each finished request comes back on
    one socket the gateway polls (features_socket) as ready-made reply
    frames (features_next); the body frame holds the C API's own buffer,
    so a large resource is not copied again on its way to the client.

    Threading: features_t belongs to the gateway's actor; its workers use
    the agents handed in, which must outlive features_destroy (it waits for
    each worker to finish its request).
    =========================================================================
*/

#ifndef MCPACT_VERBS_FEATURES_H
#define MCPACT_VERBS_FEATURES_H

#include "api.h"

#include <czmq.h>

typedef struct _features_t features_t;

//  The verbs, as the gateway's verb table lists them.
#define FEATURES_VERBS                                                                             \
    "RESOURCES", "TEMPLATES", "PROMPTS", "READ", "PROMPT", "SUBSCRIBE", "UNSUBSCRIBE",             \
        "INSTRUCTIONS", "LOGLEVEL", "ROOTS"

//  The events the runtime publishes by server and the gateway passes on
//  with the server's name, beside SERVER_STATE.
#define FEATURES_EVENTS "SERVER_LOG", "RESOURCE_UPDATED", "RESOURCES_CHANGED", "PROMPTS_CHANGED"

//  Starts the workers. NULL if they cannot start.
features_t *features_new (void);

//  Stops the workers, each after the request it is in; drops the replies
//  not taken. No-op on NULL.
void features_destroy (features_t **self_p);

//  The socket finished requests arrive on (a libzmq socket, to poll).
void *features_socket (features_t *self);

//  Checks `verb`'s frames after the agent (args, count of them) for
//  `agent` (served as `agent_name`) and hands the request to a worker
//  under `token`. Returns 0, or -1 with an ERROR code and a message
//  naming what was wrong (nothing was started).
int features_start (features_t *self, uint64_t token, mcpact_agent_t *agent, const char *agent_name,
                    const char *verb, char **args, int count, const char **code, char *message,
                    size_t message_size);

//  How many requests are with the workers.
size_t features_waiting (features_t *self);

//  Takes one finished request, if there is one: its token, and its reply
//  as frames after the client's request id goes in (frames[0] the reply's
//  verb, then frames[1..count-1]), the client's request id to be sent
//  after frames[0]. Returns the number of frames (2 or 3), 0 if nothing
//  waits. The caller sends or closes each frame (zmq_msg_send moves it).
int features_next (features_t *self, uint64_t *token, zmq_msg_t *frames);

#endif
