/*  =========================================================================
    functions - runs the host's C function tools on worker threads

    One per runtime: a broker actor with a ROUTER for callers (the same
    CALL/RESULT frames as a server actor, wire.h) and a few worker threads.
    A function never runs on an actor's loop: the broker hands each job to
    an idle worker, queues it if none is idle, and answers a call whose
    deadline passes with a timeout at once (a late result is dropped;
    a C function cannot be interrupted, so it runs to its end). The
    host's event callbacks (EVENT fn arg json, from the registry) run on
    the workers too, one at a time, in the order they came.

    pipe (from the runtime, which serialises access):
      ADD key fn arg      ->  OK
      REMOVE key          ->  OK
      $TERM
    =========================================================================
*/

#ifndef MCPACT_FUNCTIONS_H_INCLUDED
#define MCPACT_FUNCTIONS_H_INCLUDED

#include "actor.h"
#include "mcpact.h"

#define FUNCTIONS_DEFAULT_TIMEOUT_MS 30000

//  Starts the broker and `workers` worker threads, bound at `endpoint`.
actor_t *functions_actor_new (const char *endpoint, int workers);

#endif
