/*  =========================================================================
    spin - poll a moment before sleeping (see spin.h)
    =========================================================================
*/

#include "spin.h"

#include "idmap.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

static int s_spin_us;
static int s_slots;           //  spinners allowed at once
static atomic_int s_spinners; //  spinning now
static atomic_int s_busy;     //  busy callers and actors

static void
s_read (void)
{
    const char *env = getenv ("MCPACT_SPIN_US");
    s_spin_us = env ? (atoi (env) > 0 ? atoi (env) : 0) : 50;
    cpu_set_t cpus;
    int count = sched_getaffinity (0, sizeof cpus, &cpus) == 0 ? CPU_COUNT (&cpus) : 1;
    //  Measured on 2 CPUs: a spinning host and a spinning actor give the
    //  lowest sequential latency (docs/performance.md).
    s_slots = count;
    if (count < 2)
        s_spin_us = 0;
}

int
spin_us (void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once (&once, s_read);
    return s_spin_us;
}

void
spin_busy (int delta)
{
    atomic_fetch_add_explicit (&s_busy, delta, memory_order_relaxed);
}

int
spin_poll (zmq_pollitem_t *items, int count)
{
    int spin = spin_us ();
    if (spin == 0 || atomic_load_explicit (&s_busy, memory_order_relaxed) > 2)
        return 0;
    if (atomic_fetch_add (&s_spinners, 1) >= s_slots) {
        atomic_fetch_sub (&s_spinners, 1);
        return 0;
    }
    int rc;
    int64_t until = clock_us () + spin;
    while ((rc = zmq_poll (items, count, 0)) == 0 && clock_us () < until)
        ;
    atomic_fetch_sub (&s_spinners, 1);
    return rc;
}
