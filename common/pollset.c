/*  =========================================================================
    pollset - a loop's wait on ZeroMQ sockets and descriptors, at the cost
    of one poll(2). See pollset.h.
    =========================================================================
*/

#include "pollset.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <zmq.h>

void
pollset_init (pollset_t *self)
{
    *self = (pollset_t){ 0 };
}

void
pollset_fini (pollset_t *self)
{
    free (self->fds);
    free (self->sockets);
    free (self->touched);
    free (self->revents);
    pollset_init (self);
}

void
pollset_clear (pollset_t *self)
{
    self->count = 0;
}

void
pollset_truncate (pollset_t *self, int count)
{
    if (count >= 0 && count < self->count)
        self->count = count;
}

static int
s_grow (pollset_t *self)
{
    if (self->count < self->max)
        return 0;
    int max = self->max ? 2 * self->max : 8;
    struct pollfd *fds = (struct pollfd *) realloc (self->fds, (size_t) max * sizeof *fds);
    if (fds)
        self->fds = fds;
    void **sockets = (void **) realloc (self->sockets, (size_t) max * sizeof *sockets);
    if (sockets)
        self->sockets = sockets;
    bool *touched = (bool *) realloc (self->touched, (size_t) max * sizeof *touched);
    if (touched)
        self->touched = touched;
    short *revents = (short *) realloc (self->revents, (size_t) max * sizeof *revents);
    if (revents)
        self->revents = revents;
    if (!fds || !sockets || !touched || !revents)
        return -1;
    self->max = max;
    return 0;
}

int
pollset_add_socket (pollset_t *self, void *socket)
{
    int fd = -1;
    size_t size = sizeof fd;
    if (socket && zmq_getsockopt (socket, ZMQ_FD, &fd, &size) != 0)
        return -1;
    if (s_grow (self) != 0)
        return -1;
    int index = self->count++;
    //  The descriptor's POLLIN says "look at the socket".
    self->fds[index] = (struct pollfd){ .fd = socket ? fd : -1, .events = POLLIN };
    self->sockets[index] = socket;
    self->touched[index] = socket != NULL;
    self->revents[index] = 0;
    return index;
}

int
pollset_add_fd (pollset_t *self, int fd, short events)
{
    if (s_grow (self) != 0)
        return -1;
    int index = self->count++;
    self->fds[index] = (struct pollfd){ .fd = fd, .events = events };
    self->sockets[index] = NULL;
    self->touched[index] = false;
    self->revents[index] = 0;
    return index;
}

int
pollset_add_item (pollset_t *self, const zmq_pollitem_t *item)
{
    if (item->socket)
        return pollset_add_socket (self, item->socket);
    short events = (short) ((item->events & ZMQ_POLLIN ? POLLIN : 0) |
                            (item->events & ZMQ_POLLOUT ? POLLOUT : 0) |
                            (item->events & ZMQ_POLLPRI ? POLLPRI : 0));
    return pollset_add_fd (self, item->fd, events);
}

short
pollset_item_revents (const pollset_t *self, int index)
{
    short revents = pollset_revents (self, index);
    if (index < 0 || index >= self->count || self->sockets[index])
        return revents;
    return (short) ((revents & POLLIN ? ZMQ_POLLIN : 0) | (revents & POLLOUT ? ZMQ_POLLOUT : 0) |
                    (revents & POLLPRI ? ZMQ_POLLPRI : 0) |
                    (revents & ~(POLLIN | POLLOUT | POLLPRI) ? ZMQ_POLLERR : 0));
}

void
pollset_touch (pollset_t *self, int index)
{
    if (index >= 0 && index < self->count && self->sockets[index])
        self->touched[index] = true;
}

//  ZMQ_POLLIN if socket `index` has a message (asking ZMQ_EVENTS also
//  takes in the signal that fired its descriptor).
static short
s_socket_in (pollset_t *self, int index)
{
    uint32_t events = 0;
    size_t size = sizeof events;
    if (zmq_getsockopt (self->sockets[index], ZMQ_EVENTS, &events, &size) != 0)
        return 0;
    return (short) (events & ZMQ_POLLIN);
}

int
pollset_wait (pollset_t *self, long timeout_ms)
{
    int ready = 0;
    for (int i = 0; i < self->count; i++) {
        self->revents[i] = 0;
        if (self->sockets[i] && self->touched[i]) {
            self->touched[i] = false;
            self->revents[i] = s_socket_in (self, i);
            ready += self->revents[i] != 0;
        }
    }
    int rc = poll (self->fds, (nfds_t) self->count, ready ? 0 : (int) timeout_ms);
    if (rc < 0)
        return ready ? ready : -1;
    ready = 0;
    for (int i = 0; i < self->count; i++) {
        if (self->sockets[i]) {
            if (!self->revents[i] && (self->fds[i].revents & POLLIN))
                self->revents[i] = s_socket_in (self, i);
            //  What it has, the loop reads now: ask again next time.
            self->touched[i] = self->revents[i] != 0;
        } else
            self->revents[i] = self->fds[i].revents;
        ready += self->revents[i] != 0;
    }
    return ready;
}
