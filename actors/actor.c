/*  =========================================================================
    actor - a thread with a pipe, and a start handshake (see actor.h)
    =========================================================================
*/

#include "actor.h"

#include "log.h"

#include <pthread.h>

//  Actors parse JSON (jansson recurses per nesting level, up to 2048), so
//  keep some room, but far less than the 8 MiB default: only touched pages
//  cost memory, yet a thousand actors should not reserve 8 GiB.
#define ACTOR_STACK_SIZE (1024 * 1024)

struct _actor_t {
    pthread_t thread;     //  the actor's thread
    zsock_t *pipe;        //  our end of the pipe
    bool termed;          //  "$TERM" sent already
    bool joined;          //  thread joined already
};

typedef struct {
    actor_fn *fn;         //  the actor function
    void *args;           //  its argument
    zsock_t *pipe;        //  the actor's end of the pipe
} s_start_t;

static void *
s_thread (void *arg)
{
    s_start_t *start = (s_start_t *) arg;
    start->fn (start->pipe, start->args);
    zsock_destroy (&start->pipe);
    free (start);
    return NULL;
}

actor_t *
actor_new (actor_fn *fn, void *args)
{
    actor_t *self = (actor_t *) calloc (1, sizeof (actor_t));
    s_start_t *start = (s_start_t *) calloc (1, sizeof (s_start_t));
    if (!self || !start)
        goto fail;
    zsock_t *backend = NULL;
    self->pipe = zsys_create_pipe (&backend);
    if (!self->pipe)
        goto fail;
    //  Replies to the parent must never be dropped or block the actor.
    zsock_set_sndhwm (backend, 0);
    zsock_set_rcvhwm (self->pipe, 0);
    start->fn = fn;
    start->args = args;
    start->pipe = backend;

    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setstacksize (&attr, ACTOR_STACK_SIZE);
    int rc = pthread_create (&self->thread, &attr, s_thread, start);
    pthread_attr_destroy (&attr);
    if (rc != 0) {
        log_error ("cannot start a thread: %s", strerror (rc));
        zsock_destroy (&backend);
        goto fail;
    }
    return self;

fail:
    if (self)
        zsock_destroy (&self->pipe);
    free (self);
    free (start);
    return NULL;
}

int
actor_wait (actor_t *self, char **error)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *verb = msg ? zmsg_popstr (msg) : NULL;
    int rc = 0;
    if (!verb || strcmp (verb, "READY") != 0) {
        rc = -1;
        if (error) {
            char *reason = msg ? zmsg_popstr (msg) : NULL;
            *error = reason ? reason : strdup ("actor stopped during start");
        }
    }
    free (verb);
    zmsg_destroy (&msg);
    return rc;
}

void
actor_term (actor_t *self)
{
    if (self && !self->termed) {
        zstr_send (self->pipe, "$TERM");
        self->termed = true;
    }
}

void
actor_destroy (actor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    actor_t *self = *self_p;
    actor_term (self);
    pthread_join (self->thread, NULL);
    zsock_destroy (&self->pipe);
    free (self);
    *self_p = NULL;
}

zsock_t *
actor_sock (actor_t *self)
{
    return self->pipe;
}

void
actor_ready (zsock_t *pipe)
{
    zstr_send (pipe, "READY");
}

void
actor_fail (zsock_t *pipe, const char *reason)
{
    zstr_sendx (pipe, "FAIL", reason ? reason : "unknown error", NULL);
}
