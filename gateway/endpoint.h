/*  =========================================================================
    endpoint - what the gateway may bind, and how

    The security policy of the gateway's endpoints (docs/protocol.md,
    "Security"), apart from the sockets: an ipc:// socket goes in a
    directory that is the user's own and closed to others, never over a
    socket another process answers on, and gets mode 0600; a tcp://
    endpoint uses CURVE when the gateway has a key pair, and without one
    is bound only on loopback. "insecure" lifts the refusals. Pure
    functions of their arguments and the file system; any thread.
    =========================================================================
*/

#ifndef MCPACT_ENDPOINT_H_INCLUDED
#define MCPACT_ENDPOINT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Whether `endpoint` may be bound: returns 0 and sets *curve (the socket
//  must be a CURVE server: tcp:// with `have_curve`), or -1 with `reason`
//  (what was wrong and what to do) filled in.
int endpoint_check (const char *endpoint, bool have_curve, bool insecure, bool *curve, char *reason,
                    size_t size);

//  The port of a tcp:// endpoint, given what follows "tcp://" (HOST:PORT
//  or [IPv6]:PORT): 0 to 65535, or -1 for "*" (any free port); -2 with
//  *problem saying what is wrong ("no host", "no port", "the port is not
//  a number from 0 to 65535", ...).
long endpoint_tcp_port (const char *address, const char **problem);

//  The endpoint to give zmq_bind for `endpoint`, in `out`: libzmq does
//  not resolve host names in a bind, so tcp://localhost:PORT becomes
//  tcp://127.0.0.1:PORT; anything else is copied as it is.
void endpoint_resolve (const char *endpoint, char *out, size_t size);

//  An ipc:// socket file the gateway bound: its path and which file it
//  was (device, inode and change time: an inode is reused), so that only
//  that file is removed at the end.
typedef struct endpoint_file_t endpoint_file_t;

//  After a bind at `bound` (as ZMQ_LAST_ENDPOINT says): an ipc:// socket
//  file gets mode 0600. Returns the file, to be given to
//  endpoint_file_remove when the gateway stops, or NULL for an endpoint
//  without a file.
endpoint_file_t *endpoint_secure (const char *bound);

//  The socket file bound at `bound` as it is now, without changing it
//  (its change time is part of what it is: a chmod would make it
//  another): for a second holder that may have to remove it. NULL for an
//  endpoint without a file.
endpoint_file_t *endpoint_file_note (const char *bound);

//  Removes the socket file if the path still names the file that was
//  bound (another daemon may have bound the same path since: its socket
//  is left alone), and frees *self_p. NULL-safe.
void endpoint_file_remove (endpoint_file_t **self_p);

//  Frees *self_p, leaving the file where it is. NULL-safe.
void endpoint_file_forget (endpoint_file_t **self_p);

#endif
