/*  =========================================================================
    actor - a thread with a pipe, and a start handshake that reports failure

    Like CZMQ's zactor, but the constructor does not wait (a parent starting
    a thousand actors starts them all, then waits for each), the handshake
    carries a status and a reason, and the thread has a small stack.

    The actor function owns its end of the pipe and must first call
    actor_ready () or actor_fail (), then serve the pipe until "$TERM".
    The parent owns the actor_t and talks over actor_sock (); it must not
    share that socket with other threads.
    =========================================================================
*/

#ifndef MCPACT_ACTOR_H_INCLUDED
#define MCPACT_ACTOR_H_INCLUDED

#include <czmq.h>

typedef struct _actor_t actor_t;
typedef void (actor_fn) (zsock_t *pipe, void *args);

//  Starts the thread; returns at once. NULL if no thread could be made.
actor_t *actor_new (actor_fn *fn, void *args);

//  An actor among many that one owner reaches over a single ROUTER socket,
//  bound at `endpoint`: the thread's socket is a DEALER connected there
//  with routing id `rid` (made here, before the thread starts), so each
//  actor costs one connection instead of a pipe of its own. There is no
//  handshake (actor_wait fails): the actor says what it has to say over
//  its socket, and the owner tells actors apart by routing id.
//  actor_term sends [rid]["$TERM"] over `router`, which the owner keeps
//  open until the actor is destroyed.
actor_t *actor_new_routed (actor_fn *fn, void *args, zsock_t *router, const char *endpoint,
                           const char *rid);

//  Waits for the handshake. Returns 0, or -1 and sets *error (malloc'ed,
//  if error is not NULL) with the actor's reason.
int actor_wait (actor_t *self, char **error);

//  Sends "$TERM" and joins the thread. Idempotent.
void actor_destroy (actor_t **self_p);

//  Sends "$TERM" without waiting: a parent stopping many actors tells them
//  all first, then destroys each, so that they stop in parallel.
void actor_term (actor_t *self);

//  The parent's end of the pipe (NULL for a routed actor).
zsock_t *actor_sock (actor_t *self);

//  A heap object handed to another thread inside a message. ZeroMQ's pipes
//  order the hand-over, but ThreadSanitizer cannot see through libzmq, so
//  the sender marks the release and the receiver the acquire. No-ops in
//  other builds.
void actor_handoff_release (void *object);
void actor_handoff_acquire (void *object);

//  Sends "verb pointer", handing the object over.
int actor_send_ptr (zsock_t *sock, const char *verb, void *object);

//  Pops a pointer frame from a message and takes the object over.
void *actor_msg_popptr (zmsg_t *msg);

//  Called by the actor function: started fine.
void actor_ready (zsock_t *pipe);

//  Called by the actor function: could not start, and why. The function
//  should return right after.
void actor_fail (zsock_t *pipe, const char *reason);

#endif
