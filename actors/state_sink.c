/*  =========================================================================
    state_sink - where a session's or an agent's server state events go
    (see .h)
    =========================================================================
*/

#include "state_sink.h"

#include "actor.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct _state_sink_t {
    pthread_mutex_t lock;       //  guards every field
    pthread_cond_t released;    //  signalled when a reference goes
    int refs;                   //  the host's, the owner's, events'
    mcpact_server_state_fn *fn; //  the host's callback, or NULL
    void *arg;                  //  its argument
};

state_sink_t *
state_sink_new (void)
{
    state_sink_t *self = (state_sink_t *) calloc (1, sizeof (state_sink_t));
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->released, &attr);
    pthread_condattr_destroy (&attr);
    self->refs = 1;
    return self;
}

void
state_sink_set (state_sink_t *self, mcpact_server_state_fn *fn, void *arg)
{
    pthread_mutex_lock (&self->lock);
    self->fn = fn;
    self->arg = arg;
    pthread_mutex_unlock (&self->lock);
}

state_sink_t *
state_sink_ref (state_sink_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->refs++;
    pthread_mutex_unlock (&self->lock);
    return self;
}

void
state_sink_unref (state_sink_t **self_p)
{
    state_sink_t *self = *self_p;
    *self_p = NULL;
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    bool last = --self->refs == 0;
    pthread_cond_broadcast (&self->released);
    pthread_mutex_unlock (&self->lock);
    if (last) {
        pthread_cond_destroy (&self->released);
        pthread_mutex_destroy (&self->lock);
        free (self);
    }
}

void
state_sink_deliver (const char *state_json, void *sink)
{
    state_sink_t *self = (state_sink_t *) sink;
    actor_handoff_acquire (self); //  it came inside messages
    pthread_mutex_lock (&self->lock);
    mcpact_server_state_fn *fn = self->fn;
    void *arg = self->arg;
    pthread_mutex_unlock (&self->lock);
    //  Outside the lock: the host may set another callback from its own.
    if (fn)
        fn (state_json, arg);
    state_sink_unref (&self);
}

void
state_sink_close (state_sink_t **self_p, int timeout_ms)
{
    state_sink_t *self = *self_p;
    if (!self)
        return;
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->lock);
    while (self->refs > 1)
        if (pthread_cond_timedwait (&self->released, &self->lock, &until) == ETIMEDOUT)
            break;
    self->fn = NULL;
    self->arg = NULL;
    pthread_mutex_unlock (&self->lock);
    state_sink_unref (self_p);
}
