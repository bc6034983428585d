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

//  After a bind at `bound` (as ZMQ_LAST_ENDPOINT says): an ipc:// socket
//  file gets mode 0600. Returns its path (malloc'ed), to be removed when
//  the gateway stops, or NULL for an endpoint without a file.
char *endpoint_secure (const char *bound);

#endif
