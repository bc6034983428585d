/*  =========================================================================
    lane - a stdio server's request and answer pipes, lent to a host thread

    On the message path a call crosses four thread hand-offs: host thread →
    server actor → server process → server actor → host thread. A host
    thread that calls one server after another, as the only caller of that
    server, can make the call itself on a lane: it writes the request to
    the server's stdin and reads the answer from its stdout, two hand-offs
    as in a single-threaded client, with nothing in between.

    A lane belongs to one side at a time; the word `state` says which, and
    ownership changes only by an atomic exchange of it (sequentially
    consistent: each change of hands orders all that came before it),
    so everything else in the lane is touched by its owner alone:
      OWNED     the actor's: it reads and writes the pipes itself;
      IDLE      lent: no call on it; a host thread may take it (→ BUSY),
                the actor may take it back (→ OWNED);
      BUSY      a host thread is making a call on it;
      RETURNED  a host thread gave it back in the middle of a call (the
                server sent something else first, the call's time ran
                out, the pipes closed, or the actor asked for it): the
                actor finishes that call, answering by message.
    The actor lends the lane by message (the RESULT of a call from a
    caller that can take one carries it, see docs/protocol.md), and takes
    it back whenever it needs its pipes: a message from any caller, its
    owner, the server process's exit, or the lane left idle for
    LANE_IDLE_MS (so that what a server sends between calls is read
    within that time). A BUSY lane is asked back through `recall_fd` and
    handed back within a poll's wake-up.

    Threading: lane_call by a host thread holding a reference; the rest by
    the owning server actor. References are atomic: the actor holds one,
    and each grant gives the receiving caller one.
    =========================================================================
*/

#ifndef MCPACT_LANE_H_INCLUDED
#define MCPACT_LANE_H_INCLUDED

#include "jsonscan.h"
#include "latency.h"
#include "linebuf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

//  A lent lane left unused this long goes back to its actor.
#define LANE_IDLE_MS 5

typedef enum { LANE_OWNED, LANE_IDLE, LANE_BUSY, LANE_RETURNED } lane_state_t;

typedef struct {
    //  Shared, atomic
    _Atomic int state;       //  lane_state_t: who owns the rest
    _Atomic int refs;        //  references (the actor's and its callers')
    _Atomic int waiting;     //  the actor waits for a BUSY lane to come back
    _Atomic int64_t used_ms; //  when the last call on it ended
    _Atomic uint64_t calls;  //  calls made on the lane, for the status
    int recall_fd;           //  eventfd: the actor wants the lane back
    char server[64];         //  the server's name, for messages

    //  The owner's: set by the actor when it lends the lane
    int in;             //  the server's stdin (non-blocking)
    int out;            //  the server's stdout (non-blocking)
    linebuf_t *lines;   //  the transport's framing of stdout
    uint64_t next_id;   //  the last JSON-RPC request id used
    int call_ms;        //  the server's call timeout, for calls without one
    jsonbuf_t request;  //  the request being written
    size_t written;     //  bytes of it written
    jsonbuf_t returned; //  lines read that are the actor's to handle
    //  A call handed back (RETURNED), for the actor to finish
    bool handed;      //  there is one
    uint64_t rpc_id;  //  its JSON-RPC id
    uint64_t call_id; //  the caller's id for it
    char caller[32];  //  the caller's routing id
    int64_t deadline; //  ms, monotonic
    int timeout_ms;   //  as asked (0: the server's call timeout)
    int64_t sent_us;  //  when its request was sent, µs, monotonic
    //  The server's call counters (the actor's, made before it lends the
    //  lane): counted into by whoever holds the lane, one holder at a time
    call_stats_t *stats;
} lane_t;

//  A lane of the server `name`, OWNED by the calling actor, with one
//  reference; NULL on out of memory.
lane_t *lane_new (const char *name);

//  Adds a reference (for a caller it is sent to).
lane_t *lane_ref (lane_t *self);

//  Drops a reference; frees the lane with the last. Nulls *self_p.
void lane_unref (lane_t **self_p);

//  Actor: lends the pipes `in` and `out` (with `lines`, the framing of
//  what has been read from `out`) to whoever takes the lane next.
void lane_lend (lane_t *self, int in, int out, linebuf_t *lines, uint64_t next_id, int call_ms);

//  Actor: takes the lane back. An IDLE lane now; a BUSY one is asked back
//  and waited for (a poll's wake-up of the calling thread). With
//  `idle_ms` >= 0, only a lane unused for that long (false otherwise).
//  Returns true if the lane is the actor's again.
bool lane_take_back (lane_t *self, int64_t idle_ms);

//  Receives the outcome of a call made on a lane: a mcpact_status_t and
//  the payload as on the message path (the raw result or error object).
//  Called while the lane is still the caller's: the payload is only
//  valid during the call.
typedef void (lane_result_fn) (void *arg, int status, const char *payload, size_t size);

//  Host thread: makes the call `call_id` of the caller `caller` (its
//  routing id) on the lane, if the lane is lent and free. `args` must be a
//  JSON object's text. Returns 1 once `fn` has had the outcome; 0 if the
//  lane was not free (nothing was sent: send the call by message); -1 if
//  the call was sent and handed back to the actor, which answers it by
//  message as call `call_id` (`*wake`: true if the actor did not ask for
//  the lane and must be told by message that it has it back). With
//  `wait_us` >= 0, a call not answered within that time is handed back
//  too: a caller whose thread serves others (the gateway's loop) waits
//  no longer.
int lane_call (lane_t *self, const char *caller, uint64_t call_id, const char *tool,
               const char *args, size_t args_size, int timeout_ms, int64_t wait_us,
               lane_result_fn *fn, void *arg, bool *wake);

#endif
