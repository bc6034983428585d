/*  =========================================================================
    lane - a stdio server's request and answer pipes, lent to a host thread
    (see lane.h)
    =========================================================================
*/

#include "lane.h"

#include "idmap.h"
#include "jsonrpc.h"
#include "mcpact.h"
#include "transport.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

lane_t *
lane_new (const char *name)
{
    lane_t *self = (lane_t *) calloc (1, sizeof (lane_t));
    if (!self)
        return NULL;
    self->recall_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->recall_fd < 0) {
        free (self);
        return NULL;
    }
    atomic_init (&self->state, LANE_OWNED);
    atomic_init (&self->refs, 1);
    snprintf (self->server, sizeof self->server, "%s", name);
    self->in = self->out = -1;
    return self;
}

lane_t *
lane_ref (lane_t *self)
{
    atomic_fetch_add (&self->refs, 1);
    return self;
}

void
lane_unref (lane_t **self_p)
{
    lane_t *self = *self_p;
    *self_p = NULL;
    if (!self || atomic_fetch_sub (&self->refs, 1) != 1)
        return;
    close (self->recall_fd);
    jsonbuf_free (&self->request);
    jsonbuf_free (&self->returned);
    free (self);
}

void
lane_lend (lane_t *self, int in, int out, linebuf_t *lines, uint64_t next_id, int call_ms)
{
    uint64_t stale;
    if (read (self->recall_fd, &stale, sizeof stale) < 0) {
        //  Nothing was asked since the last time: as it should be.
    }
    self->in = in;
    self->out = out;
    self->lines = lines;
    self->next_id = next_id;
    self->call_ms = call_ms;
    self->handed = false;
    self->returned.size = 0;
    atomic_store (&self->used_ms, clock_ms ());
    atomic_store (&self->state, LANE_IDLE);
}

static void
s_futex (_Atomic int *word, int op, int value, const struct timespec *timeout)
{
    syscall (SYS_futex, (int *) word, op, value, timeout, NULL, 0);
}

bool
lane_take_back (lane_t *self, int64_t idle_ms)
{
    bool recalled = false;
    while (true) {
        int state = atomic_load (&self->state);
        if (state == LANE_OWNED)
            return true;
        if (state == LANE_RETURNED) {
            atomic_store (&self->state, LANE_OWNED);
            break;
        }
        if (state == LANE_IDLE) {
            if (idle_ms >= 0 && clock_ms () - atomic_load (&self->used_ms) < idle_ms)
                return false;
            if (atomic_compare_exchange_strong (&self->state, &state, LANE_OWNED))
                break;
            continue;
        }
        //  BUSY: a call is on it.
        if (idle_ms >= 0)
            return false;
        if (!recalled) {
            uint64_t one = 1;
            if (write (self->recall_fd, &one, sizeof one) < 0) {
                //  The counter is full, so the call has been asked already.
            }
            recalled = true;
        }
        //  The caller hands it back within a wake-up; the timeout only
        //  guards against a wake-up lost between the load and the wait.
        atomic_store (&self->waiting, 1);
        struct timespec wait = { 0, 1000000 };
        if (atomic_load (&self->state) == LANE_BUSY)
            s_futex (&self->state, FUTEX_WAIT_PRIVATE, LANE_BUSY, &wait);
    }
    atomic_store (&self->waiting, 0);
    return true;
}

//  --------------------------------------------------------------------------
//  A call on the lane (host thread)

typedef struct {
    lane_t *lane;
    uint64_t rpc_id;
    int64_t sent_us; //  when the request went, µs
    lane_result_fn *fn;
    void *arg;
    bool answered;
} s_call_t;

//  Keeps a message for the actor: it is its to handle.
static void
s_return (lane_t *self, const char *text, size_t size)
{
    jsonbuf_append (&self->returned, text, size);
    jsonbuf_append (&self->returned, "\n", 1);
}

static void
s_on_message (void *arg, const jsonrpc_msg_t *msg)
{
    s_call_t *call = (s_call_t *) arg;
    uint64_t id;
    if (call->answered || msg->kind != JSONRPC_RESPONSE ||
        !jsonscan_id (msg->id, msg->id_end, &id) || id != call->rpc_id) {
        s_return (call->lane, msg->text, msg->size);
        return;
    }
    //  Timed before the result is handed on: the server's time, not ours.
    call_stats_latency (call->lane->stats, clock_us () - call->sent_us);
    const char *payload;
    size_t size;
    int status = jsonrpc_call_outcome (msg, &payload, &size);
    if (status >= 0)
        call->fn (call->arg, status, payload, size);
    else {
        char error[160];
        int length = snprintf (error, sizeof error,
                               "{\"message\":\"server %s: a response with neither result nor "
                               "error\"}",
                               call->lane->server);
        status = MCPACT_ERR_PROTOCOL;
        call->fn (call->arg, status, error, (size_t) length);
    }
    call_stats_result (call->lane->stats, status);
    call->answered = true;
}

static void
s_on_line (void *arg, const char *line, size_t size)
{
    s_call_t *call = (s_call_t *) arg;
    if (call->answered)
        s_return (call->lane, line, size);
    else
        jsonrpc_read (line, size, s_on_message, call);
}

//  A line over the size limit was dropped: if it answered this call, the
//  call ends with an error saying so, as on the message path.
static void
s_on_dropped (void *arg, const char *head, size_t head_size, const char *tail, size_t tail_size,
              size_t size)
{
    char reason[160];
    snprintf (reason, sizeof reason,
              "the server's answer (%zu bytes) is larger than the limit of %d bytes; it was "
              "dropped",
              size, TRANSPORT_MAX_MESSAGE);
    char *answer = jsonrpc_answer_from_edges (head, head_size, tail, tail_size, reason);
    if (answer)
        s_on_line (arg, answer, strlen (answer));
    free (answer);
}

//  Writes what is left of the request. 0, or -1 if the pipe is closed.
//  This is the host's thread, whose signals are the host's: a write to a
//  server that closed its stdin must not raise SIGPIPE, whose default
//  ends the process. So SIGPIPE is blocked around the write and, if the
//  write raised it, taken back before the mask is restored (unless one
//  was pending already, which stays the host's).
static int
s_write (lane_t *self)
{
    if (self->written >= self->request.size)
        return 0;
    sigset_t pipe_only, pending, saved;
    sigemptyset (&pipe_only);
    sigaddset (&pipe_only, SIGPIPE);
    sigpending (&pending);
    bool was_pending = sigismember (&pending, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &pipe_only, &saved);
    int rc = 0;
    while (self->written < self->request.size) {
        ssize_t wrote = write (self->in, self->request.data + self->written,
                               self->request.size - self->written);
        if (wrote > 0)
            self->written += (size_t) wrote;
        else if (wrote < 0 && errno == EINTR)
            continue;
        else {
            rc = wrote < 0 && errno == EAGAIN ? 0 : -1;
            if (wrote < 0 && errno == EPIPE && !was_pending) {
                struct timespec now = { 0, 0 };
                while (sigtimedwait (&pipe_only, NULL, &now) < 0 && errno == EINTR)
                    ;
            }
            break;
        }
    }
    pthread_sigmask (SIG_SETMASK, &saved, NULL);
    return rc;
}

//  Reads what is there. 0, or -1 at the end of stdout or on an error.
static int
s_read (lane_t *self, s_call_t *call)
{
    for (int round = 0; round < 16 && !call->answered; round++) {
        size_t room;
        char *space = linebuf_space (self->lines, &room);
        ssize_t rc = space ? read (self->out, space, room) : -1;
        if (rc > 0) {
            linebuf_dropped_fn *on_dropped = self->lines->on_dropped;
            self->lines->on_dropped = s_on_dropped;
            linebuf_commit (self->lines, (size_t) rc, s_on_line, call);
            self->lines->on_dropped = on_dropped;
        } else if (rc < 0 && errno == EINTR)
            continue;
        else
            return rc < 0 && errno == EAGAIN ? 0 : -1;
    }
    return 0;
}

int
lane_call (lane_t *self, const char *caller, uint64_t call_id, const char *tool, const char *args,
           size_t args_size, int timeout_ms, int64_t wait_us, lane_result_fn *fn, void *arg,
           bool *wake)
{
    int expected = LANE_IDLE;
    if (!atomic_compare_exchange_strong (&self->state, &expected, LANE_BUSY))
        return 0;
    //  One clock reading for the deadline and the latency.
    int64_t sent_us = clock_us ();
    s_call_t call = { self, ++self->next_id, sent_us, fn, arg, false };
    int64_t deadline = sent_us / 1000 + (timeout_ms > 0 ? timeout_ms : self->call_ms);
    self->written = 0;
    if (jsonrpc_call_request (&self->request, call.rpc_id, tool, args, args_size, false) ||
        jsonbuf_append (&self->request, "\n", 1)) {
        //  Out of memory, and nothing sent: the message path may fare better.
        self->next_id--;
        atomic_store (&self->state, LANE_IDLE);
        return 0;
    }
    atomic_fetch_add_explicit (&self->calls, 1, memory_order_relaxed);
    bool recalled = false;
    while (!call.answered) {
        if (s_write (self) || s_read (self, &call))
            break; //  the server's pipes closed: the actor sees why
        if (call.answered || self->returned.size)
            break;
        int64_t now_us = clock_us ();
        int64_t now = now_us / 1000;
        if (now >= deadline)
            break; //  the actor times the call out, as it would have
        int64_t wait = deadline * 1000 - now_us;
        if (wait_us >= 0) {
            //  The caller cannot wait longer: the actor finishes the call.
            if (now_us - sent_us >= wait_us)
                break;
            int64_t left = sent_us + wait_us - now_us;
            wait = left < wait ? left : wait;
        }
        struct pollfd items[] = {
            { self->out, POLLIN, 0 },
            { self->recall_fd, POLLIN, 0 },
            { self->in, POLLOUT, 0 },
        };
        //  No spinning first (spin.h): the server's process wakes on this
        //  CPU when we sleep (a pipe's wake-up is affine), and a spin would
        //  only keep it waiting, the more so on a loaded machine. ppoll,
        //  not zmq_poll: the gateway's wait is less than a ms.
        struct timespec timeout = { (time_t) (wait / 1000000), (long) (wait % 1000000) * 1000 };
        ppoll (items, self->written < self->request.size ? 3 : 2, &timeout, NULL);
        if (items[1].revents) {
            recalled = true;
            break;
        }
    }
    int64_t now = clock_ms ();
    atomic_store_explicit (&self->used_ms, now, memory_order_relaxed);
    int state = LANE_IDLE;
    if (!call.answered || self->returned.size || recalled) {
        //  The actor finishes what is left: the call if it is not
        //  answered, what else the server sent, bytes of the request not
        //  written yet.
        self->handed = !call.answered;
        self->rpc_id = call.rpc_id;
        self->call_id = call_id;
        snprintf (self->caller, sizeof self->caller, "%s", caller);
        self->deadline = deadline;
        self->timeout_ms = timeout_ms;
        self->sent_us = sent_us;
        state = LANE_RETURNED;
    }
    atomic_store (&self->state, state);
    if (atomic_load (&self->waiting))
        s_futex (&self->state, FUTEX_WAKE_PRIVATE, 1, NULL);
    *wake = state == LANE_RETURNED && !recalled;
    return call.answered ? 1 : -1;
}
