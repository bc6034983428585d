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

//  Checks the file zcert_load (path) would read: PATH_secret if there is
//  one, else PATH. Returns 0 if it is a certificate with a public key
//  and, with `need_secret`, a secret key; else -1 with `reason` (naming
//  the file and what is wrong, never its content) filled in.
//  With `need_secret`, the file must also be this user's (or root's) and
//  neither readable nor writable by others, as ssh wants of a private key.
int curve_cert_check (const char *path, bool need_secret, char *reason, size_t size);

//  Checks a directory of allowed client certificates (a gateway's CURVE
//  allow-list, which CZMQ's zauth reads again when it changes): it must
//  be a directory of this user's (or root's) that others cannot write,
//  and so must each certificate in it. Returns 0, or -1 with `reason`
//  naming the directory or file, its mode and the fix.
int curve_clients_check (const char *dir, char *reason, size_t size);

#endif
