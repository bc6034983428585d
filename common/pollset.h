/*  =========================================================================
    pollset - a loop's wait on ZeroMQ sockets and descriptors, at the cost
    of one poll(2)

    zmq_poll asks every ZeroMQ socket it is given for ZMQ_EVENTS before it
    polls and again after, and on an idle socket each asking is two
    system calls (getpid and poll, in libzmq's signaler): a loop over six
    sockets paid 26 system calls per wake-up, most of its CPU under load.
    A pollset asks only the sockets that can have something waiting that
    their descriptor does not show: those whose descriptor fired, and
    those the loop has used since it last asked (a send or receive may
    have taken the wake-up signal; libzmq's ZMQ_FD is edge-triggered, see
    zmq_getsockopt(3)). An item with events after a wait counts as used:
    the loop reads it next. The loop says when it used a socket otherwise
    (pollset_touch).

    Threading: one thread, the one that owns the sockets.
    =========================================================================
*/

#ifndef MCPACT_POLLSET_H_INCLUDED
#define MCPACT_POLLSET_H_INCLUDED

#include <poll.h>
#include <stdbool.h>
#include <zmq.h>

typedef struct {
    struct pollfd *fds; //  what poll(2) gets: a socket's ZMQ_FD, or the descriptor
    void **sockets;     //  the ZeroMQ socket of each item, or NULL
    bool *touched;      //  used since ZMQ_EVENTS was last asked
    short *revents;     //  after a wait: ZMQ_POLLIN (sockets), poll's (descriptors)
    int count;          //  items
    int max;            //  allocated
} pollset_t;

//  An empty set (a zeroed pollset_t is one too).
void pollset_init (pollset_t *self);

//  Frees what the set holds.
void pollset_fini (pollset_t *self);

//  Empties the set, keeping its memory (for a loop that rebuilds it).
void pollset_clear (pollset_t *self);

//  Keeps the first `count` items, with what the set knows of them (for a
//  loop that rebuilds only what follows its own sockets).
void pollset_truncate (pollset_t *self, int count);

//  Adds a ZeroMQ socket (void *, as zsock_resolve gives; NULL: a
//  placeholder that never has events), waited on for a message
//  (ZMQ_POLLIN), counted as used. Returns its index; -1 on out of memory.
int pollset_add_socket (pollset_t *self, void *socket);

//  Adds a descriptor waited on for `events` (POLLIN, POLLOUT). Returns its
//  index; -1 on out of memory.
int pollset_add_fd (pollset_t *self, int fd, short events);

//  Adds what a zmq_pollitem_t names, as zmq_poll would wait on it: a
//  socket (for ZMQ_POLLIN only) or a descriptor (ZMQ_POLLIN, ZMQ_POLLOUT,
//  ZMQ_POLLPRI). Returns its index; -1 on out of memory.
int pollset_add_item (pollset_t *self, const zmq_pollitem_t *item);

//  The loop used the socket at `index` (a send, a receive, ZMQ_EVENTS)
//  outside a read of what the last wait said it had.
void pollset_touch (pollset_t *self, int index);

//  Waits up to `timeout_ms` (-1: no limit) for an item's events. Returns
//  how many items have some (0 on timeout), -1 with errno on an error
//  (EINTR on a signal).
int pollset_wait (pollset_t *self, long timeout_ms);

//  The events of item `index` after the last wait.
static inline short
pollset_revents (const pollset_t *self, int index)
{
    return index >= 0 && index < self->count ? self->revents[index] : 0;
}

//  The events of item `index` after the last wait as zmq_poll gives them:
//  ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLPRI, and ZMQ_POLLERR for a
//  descriptor's error or hang-up.
short pollset_item_revents (const pollset_t *self, int index);

#endif
