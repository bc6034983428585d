/*  =========================================================================
    curve_cert - whether a file is a CURVE certificate CZMQ can load

    zcert_load reads PATH_secret, or PATH, as ZPL: a file of another kind
    makes CZMQ log the line it could not parse (key material, for a
    secret file of another format), a FIFO blocks it, and a public
    certificate loads with a secret key of zeros. This looks at the file
    first, with plain stdio (no CZMQ: in `mcpact serve` nothing may start
    ZeroMQ's threads before the signal mask is set), and says what is
    wrong without quoting the file. Pure function of the file system;
    any thread.
    =========================================================================
*/

#ifndef MCPACT_CURVE_CERT_H_INCLUDED
#define MCPACT_CURVE_CERT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Checks the file zcert_load (path) would read: PATH_secret if there is
//  one, else PATH. Returns 0 if it is a certificate with a public key
//  and, with `need_secret`, a secret key; else -1 with `reason` (naming
//  the file and what is wrong, never its content) filled in.
//  With `need_secret`, the file must also be this user's (or root's) and
//  neither readable nor writable by others, as ssh wants of a private key;
//  without, a public certificate must be this user's (or root's), not
//  writable by others and hold no secret key (given by its own name). The
//  directory that holds the file must not be writable by others unless
//  it is sticky.
int curve_cert_check (const char *path, bool need_secret, char *reason, size_t size);

//  Checks a directory of allowed client certificates (a gateway's CURVE
//  allow-list; CZMQ's certificate store reads its subdirectories too):
//  it, the directory that holds it, each directory below it and each
//  certificate must be this user's (or root's) and not writable by group
//  or others (a sticky holding directory, as /tmp, is let be). Returns 0,
//  or -1 with `reason` naming the path, its owner or mode, and the fix.
int curve_clients_check (const char *dir, char *reason, size_t size);

//  What changes when a file or directory of the allow-list `dir` is
//  added, removed, written or has its rights changed: compared between
//  two calls, a difference means "check again". A few stat calls per
//  entry.
uint64_t curve_clients_signature (const char *dir);

//  The allow-list as zauth should read it: makes a private directory
//  (mkdtemp in $TMPDIR or /tmp, mode 0700; *into, the caller's, freed by
//  curve_clients_remove) and copies into it each certificate of `dir`
//  that curve_clients_check lets be (*count of them), so that what zauth
//  reads is what was checked, never a file others write later. Returns
//  0, or -1 with `reason`: then *into, if made, is left empty (no client
//  gets in) and *count is 0.
int curve_clients_snapshot (const char *dir, char **into, size_t *count, char *reason, size_t size);

//  Removes the files a snapshot holds (the directory stays).
void curve_clients_empty (const char *into);

//  Removes a snapshot and frees *into (NULL-safe).
void curve_clients_remove (char **into);

#endif
