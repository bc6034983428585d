/*  =========================================================================
    spin - poll a moment before sleeping, when an answer is microseconds away

    A host thread waiting for a result, and a server actor with a call in
    flight or just done with one, expect their next message within tens of
    µs, while a sleep and a wake-up across CPUs cost about as much again on
    a VM. They poll for up to $MCPACT_SPIN_US (default 50; 0 turns it off)
    before they sleep, under three rules, so that spinning never takes the
    CPU from the servers it waits for:
    - no more spinners at once than the process has CPUs, and none on one;
    - none while more than two callers and actors are busy (one caller
      waiting on one actor is what spinning is for; with more, the servers
      of those calls want every CPU there is);
    - none when the caller has work due at once.
    Any thread.
    =========================================================================
*/

#ifndef MCPACT_SPIN_H_INCLUDED
#define MCPACT_SPIN_H_INCLUDED

#include <stdbool.h>
#include <zmq.h>

//  The µs a spinner polls for; 0 if spinning is off for this process.
int spin_us (void);

//  A caller waiting for results, or an actor with calls in flight, says
//  so: +1, then -1 once it no longer is.
void spin_busy (int delta);

//  Polls `items` without sleeping for up to spin_us () if the rules allow
//  it now. Returns zmq_poll's result: 0 if nothing came (or no spin).
int spin_poll (zmq_pollitem_t *items, int count);

#endif
