/*  =========================================================================
    test_pollset - a loop's wait on ZeroMQ sockets and descriptors

    The gateway and the server actors wait with a pollset, which asks a
    ZeroMQ socket for its events only when its descriptor fired or the
    loop used it. Each
    case is a way a message could be missed, which would leave a client's
    request or a server's result waiting for ever: one that was there
    before the first wait, one that came later, one left after a partial
    read, and one whose wake-up a use of the socket took in. Single
    thread, a private ZeroMQ context, inproc sockets.
    =========================================================================
*/

#include "pollset.h"
#include "testutil.h"

#include <unistd.h>
#include <zmq.h>

typedef struct {
    void *context;
    void *a, *b; //  a PAIR each, connected
} s_pair_t;

static void
s_pair_open (s_pair_t *self)
{
    self->context = zmq_ctx_new ();
    self->a = zmq_socket (self->context, ZMQ_PAIR);
    self->b = zmq_socket (self->context, ZMQ_PAIR);
    CHECK (zmq_bind (self->a, "inproc://pollset") == 0);
    CHECK (zmq_connect (self->b, "inproc://pollset") == 0);
}

static void
s_pair_close (s_pair_t *self)
{
    int linger = 0;
    zmq_setsockopt (self->a, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (self->b, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (self->a);
    zmq_close (self->b);
    zmq_ctx_term (self->context);
}

static void
s_read_one (void *socket)
{
    char buffer[16];
    CHECK (zmq_recv (socket, buffer, sizeof buffer, ZMQ_DONTWAIT) >= 0);
}

TEST (message_there_before_the_first_wait)
{
    s_pair_t pair;
    s_pair_open (&pair);
    CHECK (zmq_send (pair.b, "x", 1, 0) == 1);
    pollset_t set;
    pollset_init (&set);
    int at = pollset_add_socket (&set, pair.a);
    CHECK (at == 0);
    CHECK (pollset_wait (&set, 0) == 1);
    CHECK (pollset_revents (&set, at) & ZMQ_POLLIN);
    pollset_fini (&set);
    s_pair_close (&pair);
}

TEST (message_that_comes_after_an_empty_wait)
{
    s_pair_t pair;
    s_pair_open (&pair);
    pollset_t set;
    pollset_init (&set);
    int at = pollset_add_socket (&set, pair.a);
    CHECK (pollset_wait (&set, 0) == 0);
    CHECK (pollset_revents (&set, at) == 0);
    CHECK (zmq_send (pair.b, "x", 1, 0) == 1);
    //  Seen by its descriptor (the socket was not used in between).
    CHECK (pollset_wait (&set, 5000) == 1);
    CHECK (pollset_revents (&set, at) & ZMQ_POLLIN);
    s_read_one (pair.a);
    CHECK (pollset_wait (&set, 0) == 0);
    pollset_fini (&set);
    s_pair_close (&pair);
}

TEST (message_left_after_a_partial_read)
{
    s_pair_t pair;
    s_pair_open (&pair);
    CHECK (zmq_send (pair.b, "x", 1, 0) == 1);
    CHECK (zmq_send (pair.b, "y", 1, 0) == 1);
    pollset_t set;
    pollset_init (&set);
    int at = pollset_add_socket (&set, pair.a);
    CHECK (pollset_wait (&set, 0) == 1);
    s_read_one (pair.a);
    //  Its descriptor will not fire again for "y": the set asks the socket.
    CHECK (pollset_wait (&set, 0) == 1);
    CHECK (pollset_revents (&set, at) & ZMQ_POLLIN);
    s_read_one (pair.a);
    CHECK (pollset_wait (&set, 0) == 0);
    pollset_fini (&set);
    s_pair_close (&pair);
}

TEST (message_whose_wake_up_a_use_took)
{
    s_pair_t pair;
    s_pair_open (&pair);
    pollset_t set;
    pollset_init (&set);
    int at = pollset_add_socket (&set, pair.a);
    CHECK (pollset_wait (&set, 0) == 0);
    CHECK (zmq_send (pair.b, "x", 1, 0) == 1);
    //  The loop uses the socket (as a send may): the wake-up is taken in,
    //  and its descriptor shows nothing any more.
    uint32_t events = 0;
    size_t size = sizeof events;
    CHECK (zmq_getsockopt (pair.a, ZMQ_EVENTS, &events, &size) == 0);
    CHECK (events & ZMQ_POLLIN);
    CHECK (pollset_wait (&set, 0) == 0); //  why a loop must say so
    pollset_touch (&set, at);
    CHECK (pollset_wait (&set, 0) == 1);
    CHECK (pollset_revents (&set, at) & ZMQ_POLLIN);
    pollset_fini (&set);
    s_pair_close (&pair);
}

TEST (descriptors_and_placeholders)
{
    int fds[2];
    CHECK (pipe (fds) == 0);
    pollset_t set;
    pollset_init (&set);
    //  More items than the first allocation holds
    int none[10];
    for (int i = 0; i < 10; i++)
        none[i] = pollset_add_socket (&set, NULL);
    int at = pollset_add_fd (&set, fds[0], POLLIN);
    CHECK (at == 10);
    CHECK (pollset_wait (&set, 0) == 0);
    CHECK (write (fds[1], "x", 1) == 1);
    CHECK (pollset_wait (&set, 5000) == 1);
    CHECK (pollset_revents (&set, at) & POLLIN);
    for (int i = 0; i < 10; i++)
        CHECK (pollset_revents (&set, none[i]) == 0);
    //  Emptied, and filled again
    pollset_clear (&set);
    CHECK (pollset_add_fd (&set, fds[0], POLLIN) == 0);
    CHECK (pollset_wait (&set, 0) == 1);
    pollset_fini (&set);
    close (fds[0]);
    close (fds[1]);
}

//  Items as zmq_poll takes them (a server actor's transports give
//  those): a descriptor's events in zmq_poll's values, its hang-up as
//  ZMQ_POLLERR, and a socket's untouched state kept when what follows it
//  is rebuilt.
TEST (zmq_poll_items_and_a_kept_head)
{
    s_pair_t pair;
    s_pair_open (&pair);
    int fds[2];
    CHECK (pipe (fds) == 0);
    pollset_t set;
    pollset_init (&set);
    int at = pollset_add_socket (&set, pair.a);
    CHECK (pollset_wait (&set, 0) == 0);
    zmq_pollitem_t out = { NULL, fds[1], ZMQ_POLLOUT, 0 };
    zmq_pollitem_t in = { NULL, fds[0], ZMQ_POLLIN, 0 };
    CHECK (pollset_add_item (&set, &out) == 1);
    CHECK (pollset_add_item (&set, &in) == 2);
    CHECK (pollset_wait (&set, 0) == 1);
    CHECK (pollset_item_revents (&set, 1) == ZMQ_POLLOUT);
    CHECK (pollset_item_revents (&set, 2) == 0);
    //  The head kept, the rest rebuilt: the socket is not asked again
    //  (a wake-up a use took stays unseen, as before the rebuild).
    pollset_truncate (&set, 1);
    CHECK (pollset_add_item (&set, &in) == 1);
    CHECK (write (fds[1], "x", 1) == 1);
    close (fds[1]);
    CHECK (pollset_wait (&set, 5000) == 1);
    CHECK (pollset_item_revents (&set, 1) & ZMQ_POLLIN);
    char byte;
    CHECK (read (fds[0], &byte, 1) == 1);
    //  Read to the end: the closed pipe's hang-up is ZMQ_POLLERR.
    CHECK (pollset_wait (&set, 5000) == 1);
    CHECK (pollset_item_revents (&set, 1) == ZMQ_POLLERR);
    //  A message for the socket at the head is seen after the rebuild.
    CHECK (zmq_send (pair.b, "x", 1, 0) == 1);
    pollset_truncate (&set, 1);
    CHECK (pollset_wait (&set, 5000) == 1);
    CHECK (pollset_item_revents (&set, at) == ZMQ_POLLIN);
    pollset_fini (&set);
    close (fds[0]);
    s_pair_close (&pair);
}
