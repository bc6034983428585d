/*  =========================================================================
    curve_cert - whether a file is a CURVE certificate CZMQ can load
    (see curve_cert.h)
    =========================================================================
*/

#include "curve_cert.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  A certificate is a few hundred bytes; anything much larger is not one.
#define CURVE_CERT_MAX 65536
#define CURVE_KEY_Z85 40

static const char s_z85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

//  Whether one line is ZPL as zconfig reads it (rfc.zeromq.org/spec/4):
//  an indent of 4 spaces a level, a name, and "= value" or nothing, with
//  an optional # comment. Sets *depth and the name and value spans.
static bool
s_zpl_line (const char *line, int *depth, const char **name, size_t *name_size, const char **value,
            size_t *value_size)
{
    size_t indent = strspn (line, " ");
    *depth = (int) (indent / 4);
    *value = NULL;
    *value_size = 0;
    const char *at = line + indent;
    *name = at;
    *name_size = strspn (at, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "$-_@.&+/");
    if (indent % 4 || *name_size == 0)
        return false;
    at += *name_size;
    at += strspn (at, " \t");
    if (*at == '=') {
        at++;
        at += strspn (at, " \t");
        if (*at == '"' || *at == '\'') {
            const char *end = strchr (at + 1, *at);
            if (!end)
                return false;
            *value = at + 1;
            *value_size = (size_t) (end - at - 1);
            at = end + 1;
        } else {
            *value = at;
            *value_size = strcspn (at, " \t#");
            at += *value_size;
        }
        at += strspn (at, " \t");
    }
    return *at == 0 || *at == '#';
}

//  Whether `key` is a CURVE key in Z85 and not all zeros (what zcert
//  gives a certificate without a secret key).
static bool
s_key (const char *key, size_t size)
{
    return key && size == CURVE_KEY_Z85 && strspn (key, s_z85) >= size && strspn (key, "0") < size;
}

//  Owned by someone else than this process's user and root.
static bool
s_not_ours (const struct stat *info)
{
    return info->st_uid != geteuid () && info->st_uid != 0;
}

int
curve_cert_check (const char *path, bool need_secret, char *reason, size_t size)
{
    char secret[4096];
    snprintf (secret, sizeof secret, "%s_secret", path);
    struct stat info;
    //  zcert_load takes PATH_secret first, when it is there.
    const char *file = lstat (secret, &info) == 0 ? secret : path;
    if (stat (file, &info) != 0) {
        //  A public certificate is the peer's: made where its key pair
        //  was, not here.
        if (errno == ENOENT && need_secret)
            snprintf (reason, size,
                      "the key file %s does not exist: make a key pair with mcpact keygen %s", file,
                      file);
        else if (errno == ENOENT)
            snprintf (reason, size,
                      "the certificate %s does not exist: give the peer's public certificate "
                      "(the PATH that mcpact keygen PATH wrote beside PATH_secret, copied here)",
                      file);
        else
            snprintf (reason, size, "cannot read the key file %s: %s", file, strerror (errno));
        return -1;
    }
    if (S_ISDIR (info.st_mode)) {
        snprintf (reason, size,
                  "the key file %s is a directory, not a certificate (mcpact keygen PATH writes "
                  "PATH and PATH_secret)",
                  file);
        return -1;
    }
    if (!S_ISREG (info.st_mode) || info.st_size > CURVE_CERT_MAX) {
        snprintf (reason, size, "the key file %s is not a certificate (%s)", file,
                  S_ISREG (info.st_mode) ? "far too large" : "not a regular file");
        return -1;
    }
    FILE *stream = fopen (file, "r");
    if (!stream) {
        snprintf (reason, size, "cannot read the key file %s: %s", file, strerror (errno));
        return -1;
    }
    char line[1024];
    int number = 0, bad = 0;
    bool in_curve = false;
    bool public_ok = false, secret_ok = false, secret_seen = false;
    while (!bad && fgets (line, sizeof line, stream)) {
        number++;
        size_t length = strcspn (line, "\r\n");
        if (line[length] == 0 && !feof (stream)) {
            bad = number; //  a line longer than any certificate's
            break;
        }
        line[length] = 0;
        const char *text = line + strspn (line, " \t");
        if (*text == 0 || *text == '#')
            continue;
        int depth;
        const char *name, *value;
        size_t name_size, value_size;
        if (!s_zpl_line (line, &depth, &name, &name_size, &value, &value_size)) {
            bad = number;
            break;
        }
        if (depth == 0)
            in_curve = name_size == 5 && strncmp (name, "curve", 5) == 0;
        else if (in_curve && depth == 1 && name_size == 10 &&
                 strncmp (name, "public-key", 10) == 0) {
            public_ok = s_key (value, value_size);
        } else if (in_curve && depth == 1 && name_size == 10 &&
                   strncmp (name, "secret-key", 10) == 0) {
            secret_seen = true;
            secret_ok = s_key (value, value_size);
        }
    }
    fclose (stream);
    if (bad)
        snprintf (reason, size,
                  "the key file %s is not a CURVE certificate (line %d is not in its format; "
                  "%s)",
                  file, bad,
                  need_secret ? "make a key pair with mcpact keygen"
                              : "give the public certificate mcpact keygen wrote");
    else if (!public_ok)
        snprintf (reason, size,
                  "the key file %s is not a CURVE certificate: it has no curve public-key of 40 "
                  "Z85 characters",
                  file);
    else if (need_secret && !secret_ok)
        snprintf (reason, size,
                  "the key file %s %s: it is a public certificate; give the key pair (the "
                  "PATH whose PATH_secret mcpact keygen wrote, or PATH_secret itself)",
                  file, secret_seen ? "has no usable secret key" : "holds no secret key");
    else if (need_secret && (s_not_ours (&info) || (info.st_mode & 077)))
        //  A key pair others can read is theirs too: they can be us. As
        //  ssh does for its private keys, refuse it.
        snprintf (reason, size,
                  "the key file %s is %s (mode %04o): a secret key must be yours and only "
                  "yours to read (chmod 600 %s)",
                  file, s_not_ours (&info) ? "not yours" : "open to others",
                  (unsigned) (info.st_mode & 07777), file);
    else
        return 0;
    return -1;
}

int
curve_clients_check (const char *dir, char *reason, size_t size)
{
    struct stat info;
    bool found = dir && stat (dir, &info) == 0;
    if (!found || !S_ISDIR (info.st_mode)) {
        snprintf (reason, size,
                  "CURVE needs a directory of allowed client certificates; '%s' is not one%s%s",
                  dir ? dir : "(none given)", dir && !found ? ": " : "",
                  dir && !found ? strerror (errno) : "");
        return -1;
    }
    //  Whoever can write there can let themselves in (the gateway
    //  honours a certificate added while it runs).
    if (s_not_ours (&info) || (info.st_mode & (S_IWGRP | S_IWOTH))) {
        snprintf (reason, size,
                  "the client certificates directory %s is %s (mode %04o): whoever can write "
                  "there can let themselves in; use a directory only you can write (chmod "
                  "go-w %s)",
                  dir, s_not_ours (&info) ? "not yours" : "writable by others",
                  (unsigned) (info.st_mode & 07777), dir);
        return -1;
    }
    DIR *handle = opendir (dir);
    if (!handle) {
        snprintf (reason, size, "cannot read the client certificates directory %s: %s", dir,
                  strerror (errno));
        return -1;
    }
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (handle))) {
        if (entry->d_name[0] == '.')
            continue; //  as CZMQ's certificate store skips them
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        if (stat (path, &info) != 0 || !S_ISREG (info.st_mode))
            continue;
        if (s_not_ours (&info) || (info.st_mode & (S_IWGRP | S_IWOTH))) {
            snprintf (reason, size,
                      "the client certificate %s is %s (mode %04o): whoever can write it can "
                      "put their key in it (chmod go-w %s)",
                      path, s_not_ours (&info) ? "not yours" : "writable by others",
                      (unsigned) (info.st_mode & 07777), path);
            rc = -1;
        }
    }
    closedir (handle);
    return rc;
}
