/*  =========================================================================
    endpoint - what the gateway may bind, and how (see endpoint.h)
    =========================================================================
*/

#include "endpoint.h"

#include "log.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

int
endpoint_check (const char *endpoint, bool have_curve, bool insecure, bool *curve, char *reason,
                size_t size)
{
    *curve = false;
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return s_check_ipc (endpoint + 6, insecure, reason, size);
    if (strncmp (endpoint, "tcp://", 6) == 0) {
        //  libzmq takes a port beyond 65535 modulo 65536: another port
        //  than the one asked for, said nowhere.
        const char *problem;
        if (endpoint_tcp_port (endpoint + 6, &problem) < -1) {
            snprintf (reason, size,
                      "cannot bind '%s': %s; give tcp://HOST:PORT (PORT 1 to 65535, or * or 0 "
                      "for any free port)",
                      endpoint, problem);
            return -1;
        }
        if (have_curve)
            *curve = true;
        else if (!s_loopback (endpoint + 6) && !insecure) {
            snprintf (reason, size,
                      "will not bind %s without CURVE: it is not a loopback address; give a "
                      "key pair and the clients' certificates (--curve-key, --curve-clients), "
                      "or --insecure",
                      endpoint);
            return -1;
        } else if (!s_loopback (endpoint + 6))
            log_warn ("gateway: %s is open to the network without CURVE (--insecure)", endpoint);
        return 0;
    }
    snprintf (reason, size, "cannot bind '%s': the gateway binds ipc://PATH or tcp://HOST:PORT",
              endpoint);
    return -1;
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

void
endpoint_resolve (const char *endpoint, char *out, size_t size)
{
    if (strncmp (endpoint, "tcp://localhost:", 16) == 0)
        snprintf (out, size, "tcp://127.0.0.1:%s", endpoint + 16);
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
