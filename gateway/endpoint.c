/*  =========================================================================
    endpoint - what the gateway may bind and a client may connect to
    (see endpoint.h)
    =========================================================================
*/

#include "endpoint.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

//  Whether a tcp:// endpoint's host is the loopback interface.
static bool
s_loopback (const char *address)
{
    char host[256];
    snprintf (host, sizeof host, "%s", address);
    char *colon = strrchr (host, ':');
    if (colon)
        *colon = 0;
    return strncmp (host, "127.", 4) == 0 || strcmp (host, "localhost") == 0 ||
           strcmp (host, "[::1]") == 0 || strcmp (host, "::1") == 0 || strcmp (host, "lo") == 0;
}

//  Checks an ipc:// path: its directory must be the user's own and
//  closed to others, so that nobody else can reach or replace the socket.
static int
s_check_ipc (const char *path, bool insecure, char *reason, size_t size)
{
    if (*path == '@') {
        if (insecure)
            return 0;
        snprintf (reason, size,
                  "ipc://%s is an abstract socket, which any local user can reach; use a path "
                  "in a directory of your own (or --insecure)",
                  path);
        return -1;
    }
    char *copy = strdup (path);
    const char *dir = dirname (copy);
    struct stat info;
    int rc = 0;
    if (stat (dir, &info) != 0) {
        snprintf (reason, size, "cannot use ipc://%s: directory %s: %s", path, dir,
                  strerror (errno));
        rc = -1;
    } else if (!insecure && (info.st_uid != geteuid () || (info.st_mode & (S_IWGRP | S_IWOTH)))) {
        snprintf (reason, size,
                  "will not bind ipc://%s: directory %s is %s; use a directory of your own "
                  "that only you can write (mkdir -m 700), or --insecure",
                  path, dir, info.st_uid != geteuid () ? "not yours" : "writable by others");
        rc = -1;
    }
    free (copy);
    struct stat file;
    if (rc == 0 && lstat (path, &file) == 0 && !S_ISSOCK (file.st_mode)) {
        //  libzmq would unlink whatever is at the path and bind there:
        //  a file given by mistake would be lost.
        snprintf (reason, size,
                  S_ISDIR (file.st_mode)
                      ? "will not bind ipc://%s: it is a directory; give the path of a socket "
                        "file in it (ipc://%s/mcpact.sock)"
                      : "will not bind ipc://%s: a file that is not a socket is there; remove "
                        "it or give another path%.0s",
                  path, path);
        rc = -1;
    }
    if (rc == 0 && access (path, F_OK) == 0) {
        //  libzmq replaces a socket file that is there: make sure no one
        //  answers on it first (a stale file from a crash is taken over).
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        int fd = strlen (path) < sizeof address.sun_path ? socket (AF_UNIX, SOCK_STREAM, 0) : -1;
        if (fd >= 0) {
            memcpy (address.sun_path, path, strlen (path));
            if (connect (fd, (struct sockaddr *) &address, sizeof address) == 0) {
                snprintf (reason, size,
                          "will not bind ipc://%s: another process is listening there", path);
                rc = -1;
            }
            close (fd);
        }
    }
    return rc;
}

//  A tcp:// endpoint with a port of its own: tried with a bind of our
//  own (SO_REUSEADDR, as libzmq binds), so that a port in use or an
//  address not of this host is said with what helps. A host that is a
//  name or an interface is left to libzmq.
static int
s_try_bind_tcp (const char *endpoint, bool any_host_ok, char *reason, size_t size)
{
    char resolved[512];
    endpoint_resolve (endpoint, resolved, sizeof resolved);
    const char *problem;
    long port = endpoint_tcp_port (resolved + 6, &problem);
    if (port < 1)
        return 0; //  any free port
    char host[512];
    snprintf (host, sizeof host, "%s", resolved + 6);
    *strrchr (host, ':') = 0;
    //  The hints give the host as the user wrote it.
    int given = (int) (strrchr (endpoint, ':') - endpoint);
    const char *node = host;
    if (*host == '[') {
        host[strlen (host) - 1] = 0;
        node = host + 1;
    }
    bool any = strcmp (host, "*") == 0;
    char service[24];
    snprintf (service, sizeof service, "%ld", port);
    struct addrinfo hints = { .ai_family = any ? AF_INET : AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
    struct addrinfo *found = NULL;
    if (getaddrinfo (any ? NULL : node, service, &hints, &found) != 0 || !found)
        return 0;
    int fd = socket (found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = 0, error = 0;
    if (fd >= 0) {
        int on = 1;
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        rc = bind (fd, found->ai_addr, found->ai_addrlen);
        error = errno;
        close (fd);
    }
    freeaddrinfo (found);
    if (fd < 0 || rc == 0)
        return 0;
    //  Never the host '*' unless it would be taken (CURVE or --insecure).
    if (error == EADDRINUSE)
        snprintf (reason, size,
                  "cannot bind %s: %s (another socket has port %ld); give another "
                  "port, or %.*s:* for any free one (serve prints the port it gets)",
                  endpoint, strerror (error), port, given, endpoint);
    else if (error == EADDRNOTAVAIL)
        snprintf (reason, size,
                  "cannot bind %s: %s (%s is not an address of this host); give one of its "
                  "addresses (tcp://127.0.0.1:PORT, tcp://[::1]:PORT%s)",
                  endpoint, strerror (error), node, any_host_ok ? ", tcp://*:PORT" : "");
    else if (error == EACCES)
        snprintf (reason, size,
                  "cannot bind %s: %s (a port below 1024 needs privileges); give a port from "
                  "1024 to 65535, or %.*s:* for any free one",
                  endpoint, strerror (error), given, endpoint);
    else
        snprintf (reason, size, "cannot bind %s: %s", endpoint, strerror (error));
    return -1;
}

int
endpoint_check (const char *endpoint, bool have_curve, bool insecure, bool *curve, char *reason,
                size_t size)
{
    *curve = false;
    const char *problem = endpoint_problem (endpoint, true);
    if (problem) {
        snprintf (reason, size, "cannot bind '%s': %s%s", endpoint, problem,
                  strncmp (endpoint, "tcp://", 6) == 0
                      ? "; give tcp://HOST:PORT (PORT 1 to 65535, or * or 0 for any free port)"
                      : "");
        return -1;
    }
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return s_check_ipc (endpoint + 6, insecure, reason, size);
    if (have_curve)
        *curve = true;
    else if (!s_loopback (endpoint + 6) && !insecure) {
        snprintf (reason, size,
                  "will not bind %s without CURVE: it is not a loopback address; give a "
                  "key pair and the clients' certificates (--curve-key, --curve-clients), "
                  "or --insecure",
                  endpoint);
        return -1;
    }
    int rc = s_try_bind_tcp (endpoint, have_curve || insecure, reason, size);
    //  Said once it is so: not before a bind that fails.
    if (rc == 0 && !have_curve && !s_loopback (endpoint + 6))
        log_warn ("gateway: %s is open to the network without CURVE (--insecure)", endpoint);
    return rc;
}

const char *
endpoint_problem (const char *endpoint, bool bind)
{
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return endpoint[6] ? NULL : "no path (ipc://PATH)";
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return "not an endpoint mcpact serve binds (ipc://PATH or tcp://HOST:PORT)";
    //  libzmq takes a port beyond 65535 modulo 65536: another port than
    //  the one asked for, said nowhere.
    const char *problem;
    long port = endpoint_tcp_port (endpoint + 6, &problem);
    if (port < -1)
        return problem;
    if (bind)
        return NULL;
    if (strncmp (endpoint + 6, "*:", 2) == 0)
        return "the host '*' (every interface) is for a bind, not a connection";
    if (strncmp (endpoint + 6, "[]:", 3) == 0)
        return "no host";
    if (port < 1)
        return "the port * or 0 (any free one) is for a bind, not a connection";
    return NULL;
}

long
endpoint_tcp_port (const char *address, const char **problem)
{
    //  An IPv6 address is bracketed: its colons are not the port's.
    const char *host_end = *address == '[' ? strchr (address, ']') : NULL;
    const char *colon = strrchr (host_end ? host_end : address, ':');
    *problem = NULL;
    if (*address == '[' && !host_end)
        *problem = "no ']' after the IPv6 address";
    else if (!colon || (host_end && colon != host_end + 1))
        *problem = "no port";
    else if (colon == address)
        *problem = "no host";
    else if (!host_end && memchr (address, ':', (size_t) (colon - address)))
        *problem = "a ':' in the host (an IPv6 address goes in brackets: [::1]:PORT)";
    if (*problem)
        return -2;
    const char *port = colon + 1;
    if (strcmp (port, "*") == 0)
        return -1;
    char *end;
    errno = 0;
    long number = strtol (port, &end, 10);
    if (*port < '0' || *port > '9' || *end || errno || number > 65535) {
        *problem = *port ? "the port is not a number up to 65535" : "no port";
        return -2;
    }
    return number;
}

int
endpoint_connect_problem (const char *endpoint, char *reason, size_t size)
{
    const char *problem = endpoint_problem (endpoint, false);
    if (!problem)
        return 0;
    snprintf (reason, size, "'%s': %s%s", endpoint, problem,
              strncmp (endpoint, "tcp://", 6) == 0 ? "; give tcp://HOST:PORT (PORT 1 to 65535)"
                                                   : "");
    return -1;
}

//  ipc://PATH: a socket that some process listens on.
static int
s_probe_ipc (const char *path, char *reason, size_t size)
{
    struct stat info;
    if (stat (path, &info) != 0) {
        snprintf (reason, size, "%s %s", path,
                  errno == ENOENT ? "does not exist" : strerror (errno));
        return -1;
    }
    if (!S_ISSOCK (info.st_mode)) {
        snprintf (reason, size, "%s is %s, not a socket", path,
                  S_ISDIR (info.st_mode)   ? "a directory"
                  : S_ISREG (info.st_mode) ? "a regular file"
                                           : "a file of another kind");
        return -1;
    }
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    if (strlen (path) >= sizeof address.sun_path)
        return 0; //  libzmq says why it cannot connect
    memcpy (address.sun_path, path, strlen (path));
    //  Not blocking: a listener whose backlog is full is a listener.
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int rc = 0;
    if (connect (fd, (struct sockaddr *) &address, sizeof address) != 0 && errno != EAGAIN &&
        errno != EINPROGRESS) {
        if (errno == ECONNREFUSED)
            snprintf (reason, size,
                      "nothing listens on the socket %s (connection refused: the file of a "
                      "daemon that ended without removing it)",
                      path);
        else
            snprintf (reason, size, "cannot connect to the socket %s: %s", path, strerror (errno));
        rc = -1;
    }
    close (fd);
    return rc;
}

//  tcp://HOST:PORT: the host resolves.
static int
s_probe_tcp (const char *address, char *reason, size_t size)
{
    char host[256];
    //  libzmq's "SOURCE;HOST:PORT": the host is what follows the ';'.
    const char *semicolon = strchr (address, ';');
    snprintf (host, sizeof host, "%s", semicolon ? semicolon + 1 : address);
    char *colon = strrchr (host, ':');
    if (colon)
        *colon = 0;
    const char *name = host;
    if (*host == '[' && host[strlen (host) - 1] == ']') {
        host[strlen (host) - 1] = 0;
        name = host + 1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *found = NULL;
    int rc = getaddrinfo (name, NULL, &hints, &found);
    if (found)
        freeaddrinfo (found);
    if (rc != 0) {
        snprintf (reason, size, "the host %s does not resolve (%s)", name,
                  rc == EAI_SYSTEM ? strerror (errno) : gai_strerror (rc));
        return -1;
    }
    return 0;
}

int
endpoint_probe (const char *endpoint, char *reason, size_t size)
{
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return endpoint[6] == '@' || !endpoint[6] ? 0 : s_probe_ipc (endpoint + 6, reason, size);
    if (strncmp (endpoint, "tcp://", 6) == 0)
        return s_probe_tcp (endpoint + 6, reason, size);
    return 0;
}

int
endpoint_handshake_problem (const char *peer, const char *key_option, const char *curve_options,
                            int kind, unsigned value, bool curve, char *reason, size_t size)
{
    if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        snprintf (reason, size,
                  "%s refused our key (CURVE, status %u): is our public certificate in its "
                  "--curve-clients directory?",
                  peer, value);
    else if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
             kind == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        char hint[200];
        if (curve)
            snprintf (hint, sizeof hint,
                      "is %s its public key, and our certificate in its --curve-clients "
                      "directory?",
                      key_option);
        else
            snprintf (hint, sizeof hint, "does it want CURVE (%s)?", curve_options);
        snprintf (reason, size, "the handshake with %s failed (%s): %s", peer,
                  kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol error"
                                                              : "the connection closed",
                  hint);
    } else
        return 0;
    return -1;
}

void
endpoint_resolve (const char *endpoint, char *out, size_t size)
{
    char here[4096];
    if (strncmp (endpoint, "tcp://localhost:", 16) == 0)
        snprintf (out, size, "tcp://127.0.0.1:%s", endpoint + 16);
    else if (strncmp (endpoint, "ipc://", 6) == 0 && endpoint[6] && endpoint[6] != '/' &&
             endpoint[6] != '@' && getcwd (here, sizeof here))
        snprintf (out, size, "ipc://%s/%s", here,
                  strncmp (endpoint + 6, "./", 2) == 0 ? endpoint + 8 : endpoint + 6);
    else
        snprintf (out, size, "%s", endpoint);
}

struct endpoint_file_t {
    char *path;
    dev_t device;
    ino_t inode;
    //  A daemon binding the path after ours unlinks our file, and its
    //  socket may get the inode that freed (ext4 reuses it at once): the
    //  time of the change tells the two apart.
    struct timespec changed;
};

endpoint_file_t *
endpoint_file_note (const char *bound)
{
    if (strncmp (bound, "ipc://", 6) != 0 || bound[6] == '@')
        return NULL;
    struct stat info;
    if (lstat (bound + 6, &info) != 0 || !S_ISSOCK (info.st_mode))
        return NULL; //  nothing of ours to remove later
    endpoint_file_t *self = (endpoint_file_t *) calloc (1, sizeof *self);
    if (!self || !(self->path = strdup (bound + 6))) {
        free (self);
        return NULL;
    }
    self->device = info.st_dev;
    self->inode = info.st_ino;
    self->changed = info.st_ctim;
    return self;
}

endpoint_file_t *
endpoint_secure (const char *bound)
{
    //  Before anyone could connect, the socket had the mode the umask
    //  gave it, which grants no one else write (connect) access unless
    //  the umask is open; its directory is closed to others anyway.
    if (strncmp (bound, "ipc://", 6) == 0 && bound[6] != '@')
        chmod (bound + 6, 0600);
    return endpoint_file_note (bound);
}

void
endpoint_file_remove (endpoint_file_t **self_p)
{
    endpoint_file_t *self = *self_p;
    if (!self)
        return;
    //  The path may have been removed and bound again by another daemon
    //  since: removing it by name would take that daemon's socket away.
    struct stat info;
    if (lstat (self->path, &info) == 0 && S_ISSOCK (info.st_mode) && info.st_dev == self->device &&
        info.st_ino == self->inode && info.st_ctim.tv_sec == self->changed.tv_sec &&
        info.st_ctim.tv_nsec == self->changed.tv_nsec)
        unlink (self->path);
    endpoint_file_forget (self_p);
}

void
endpoint_file_forget (endpoint_file_t **self_p)
{
    endpoint_file_t *self = *self_p;
    if (!self)
        return;
    free (self->path);
    free (self);
    *self_p = NULL;
}
