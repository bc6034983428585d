/*  =========================================================================
    actor - a thread with a pipe, and a start handshake (see actor.h)
    =========================================================================
*/

#include "actor.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define ACTOR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ACTOR_TSAN 1
#endif
#endif
#ifdef ACTOR_TSAN
void __tsan_acquire (void *addr);
void __tsan_release (void *addr);
#endif

//  Actors parse and dump JSON (jansson recurses per nesting level, up to
//  JSONSCAN_MAX_DEPTH: under 384 KiB at the deepest), so keep room, but far less
//  than the 8 MiB default: only touched pages cost memory, yet a thousand
//  actors should not reserve 8 GiB. Under TSan every frame is several
//  times larger.
#ifdef ACTOR_TSAN
#define ACTOR_STACK_SIZE (4 * 1024 * 1024)
#else
#define ACTOR_STACK_SIZE (1024 * 1024)
#endif

struct _actor_t {
    pthread_t thread; //  the actor's thread
    zsock_t *pipe;    //  our end of the pipe (NULL if routed)
    zsock_t *router;  //  or the owner's ROUTER (routed), not ours
    char *rid;        //  and the actor's routing id there
    bool termed;      //  "$TERM" sent already
    bool joined;      //  thread joined already
};

typedef struct {
    actor_fn *fn;  //  the actor function
    void *args;    //  its argument
    zsock_t *pipe; //  the actor's end of the pipe
} s_start_t;

static void *
s_thread (void *arg)
{
    //  Signals are the host's business: ours block all it may direct at
    //  the process, and a write to a dead child's pipe gives EPIPE rather
    //  than SIGPIPE (which would kill the host).
    sigset_t signals;
    sigfillset (&signals);
    sigdelset (&signals, SIGSEGV);
    sigdelset (&signals, SIGBUS);
    sigdelset (&signals, SIGFPE);
    sigdelset (&signals, SIGILL);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    s_start_t *start = (s_start_t *) arg;
    start->fn (start->pipe, start->args);
    zsock_destroy (&start->pipe);
    free (start);
    return NULL;
}

static int
s_start_thread (actor_t *self, actor_fn *fn, void *args, zsock_t *sock)
{
    s_start_t *start = (s_start_t *) calloc (1, sizeof (s_start_t));
    if (!start)
        return -1;
    start->fn = fn;
    start->args = args;
    start->pipe = sock;
    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setstacksize (&attr, ACTOR_STACK_SIZE);
    int rc = pthread_create (&self->thread, &attr, s_thread, start);
    pthread_attr_destroy (&attr);
    if (rc != 0) {
        log_error ("cannot start a thread: %s", strerror (rc));
        free (start);
        return -1;
    }
    return 0;
}

actor_t *
actor_new (actor_fn *fn, void *args)
{
    actor_t *self = (actor_t *) calloc (1, sizeof (actor_t));
    if (!self)
        return NULL;
    zsock_t *backend = NULL;
    self->pipe = zsys_create_pipe (&backend);
    if (self->pipe) {
        //  Replies to the parent must never be dropped or block the actor.
        zsock_set_sndhwm (backend, 0);
        zsock_set_rcvhwm (self->pipe, 0);
        if (s_start_thread (self, fn, args, backend) == 0)
            return self;
    }
    zsock_destroy (&backend);
    zsock_destroy (&self->pipe);
    free (self);
    return NULL;
}

actor_t *
actor_new_routed (actor_fn *fn, void *args, zsock_t *router, const char *endpoint, const char *rid)
{
    actor_t *self = (actor_t *) calloc (1, sizeof (actor_t));
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (self && dealer) {
        self->router = router;
        self->rid = strdup (rid);
        zsock_set_identity (dealer, rid);
        zsock_set_sndhwm (dealer, 0);
        zsock_set_rcvhwm (dealer, 0);
        if (self->rid && zsock_connect (dealer, "%s", endpoint) == 0 &&
            s_start_thread (self, fn, args, dealer) == 0)
            return self;
    }
    zsock_destroy (&dealer);
    if (self)
        free (self->rid);
    free (self);
    return NULL;
}

int
actor_wait (actor_t *self, char **error)
{
    zmsg_t *msg = self->pipe ? zmsg_recv (self->pipe) : NULL;
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
        if (self->pipe) {
            //  Never blocking: an actor that failed at its start may have
            //  closed its end of the pipe already, and a PAIR without a
            //  peer would hold the send for ever. Then, once its thread
            //  has ended, there is no one to tell.
            void *socket = zsock_resolve (self->pipe);
            while (zmq_send (socket, "$TERM", 5, ZMQ_DONTWAIT) < 0 && errno == EAGAIN) {
                if (pthread_tryjoin_np (self->thread, NULL) == 0) {
                    self->joined = true;
                    break;
                }
                usleep (1000);
            }
        } else
            zstr_sendx (self->router, self->rid, "$TERM", NULL);
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
    if (!self->joined)
        pthread_join (self->thread, NULL);
    zsock_destroy (&self->pipe);
    free (self->rid);
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

void
actor_handoff_release (void *object)
{
#ifdef ACTOR_TSAN
    __tsan_release (object);
#endif
    (void) object;
}

void
actor_handoff_acquire (void *object)
{
#ifdef ACTOR_TSAN
    __tsan_acquire (object);
#endif
    (void) object;
}

int
actor_send_ptr (zsock_t *sock, const char *verb, void *object)
{
    actor_handoff_release (object);
    return zsock_send (sock, "sp", verb, object);
}

void *
actor_msg_popptr (zmsg_t *msg)
{
    void *object = NULL;
    zframe_t *frame = zmsg_pop (msg);
    if (frame && zframe_size (frame) == sizeof object)
        memcpy (&object, zframe_data (frame), sizeof object);
    zframe_destroy (&frame);
    if (object)
        actor_handoff_acquire (object);
    return object;
}
