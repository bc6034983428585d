/*  =========================================================================
    endpoint - what the gateway may bind, and how

    The security policy of the gateway's endpoints (docs/protocol.md,
    "Security"), apart from the sockets: an ipc:// socket goes in a
    directory that is the user's own and closed to others, never over a
    socket another process answers on, and gets mode 0600; a tcp://
    endpoint uses CURVE when the gateway has a key pair, and without one
    is bound only on loopback. "insecure" lifts the refusals. And the one
    check of an endpoint a user gives, bound (serve --bind, --events) or
    connected to (--connect, a group), with what a client can know at
    once about the other end (endpoint_probe, the monitor's events).
    Pure functions of their arguments, the file system and the resolver;
    any thread.
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

//  What is wrong with `endpoint` as one mcpact binds (`bind`: serve's
//  --bind and --events) or connects to (!`bind`: --connect, a group's
//  endpoint), or NULL: the one check of the endpoints a user gives, so
//  that each is refused alike wherever it is given. ipc://PATH needs a
//  path; tcp://HOST:PORT is parsed by endpoint_tcp_port (libzmq would
//  take a port beyond 65535 modulo 65536, and say nothing); a bind may
//  take the host '*' (every interface) and the port '*' or 0 (any free
//  one), a connection needs a host and the port the daemon is bound at.
//  Returns a static text (what is wrong, in a few words); the caller
//  quotes the endpoint.
const char *endpoint_problem (const char *endpoint, bool bind);

//  endpoint_problem for an endpoint to connect to, as a sentence in
//  `reason`: "'ENDPOINT': what is wrong[; give tcp://HOST:PORT ...]".
//  Returns 0 if nothing is wrong, -1 if something is.
int endpoint_connect_problem (const char *endpoint, char *reason, size_t size);

//  Whether an endpoint a client is about to connect to (one without an
//  endpoint_problem) can have anyone answering, as far as can be told at
//  once: ZeroMQ would retry in silence for ever. ipc://PATH must be a
//  socket some process listens on (connect(2) is tried: a file left by a
//  daemon that was killed refuses it); an abstract socket (ipc://@name)
//  is not looked at. The host of tcp://HOST:PORT must resolve
//  (getaddrinfo: as long as the resolver takes). 0, or -1 with `reason`
//  saying what was found there ("PATH does not exist", "nothing listens
//  on PATH ...", "the host HOST does not resolve: ..."); the caller names
//  the endpoint. Any thread.
int endpoint_probe (const char *endpoint, char *reason, size_t size);

//  How long after ZeroMQ's first failed attempt to connect (a monitor's
//  ZMQ_EVENT_CONNECT_RETRIED; loopback refuses at once) a client that
//  has never been connected gives up: ZeroMQ would retry for ever, and a
//  daemon that is starting binds in well under this.
#define ENDPOINT_REFUSED_MS 1500

//  A ZeroMQ socket monitor's event on a connecting socket (`kind`, a
//  ZMQ_EVENT_*, and its `value`) as a failure to report: fills `reason`
//  and returns -1 for a handshake that failed (the peer refused our
//  CURVE key: `curve` says whether we use CURVE, `peer` names who, e.g.
//  "the group at tcp://host:5555"; `key_option` names where its public
//  key is given, "serverKey" or "--curve-server", and `curve_options`
//  all that CURVE takes), else returns 0.
int endpoint_handshake_problem (const char *peer, const char *key_option, const char *curve_options,
                                int kind, unsigned value, bool curve, char *reason, size_t size);

//  The endpoint to give zmq_bind for `endpoint`, in `out`: libzmq does
//  not resolve host names in a bind, so tcp://localhost:PORT becomes
//  tcp://127.0.0.1:PORT; a relative ipc://PATH becomes absolute (the
//  current directory's path before it: what is bound, said and
//  advertised in HELLO's eventEndpoints then names the same file for a
//  client in any directory); anything else is copied as it is.
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
