/*  =========================================================================
    curve_cert - whether a file is a CURVE certificate CZMQ can load
    (see curve_cert.h)
    =========================================================================
*/

#include "curve_cert.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
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

//  Refuses what others could change: not this user's (nor root's), or
//  writable by group or others. `what` names it ("the client
//  certificate"), `risk` says what would follow.
static int
s_guard (const char *what, const char *path, const struct stat *info, const char *risk,
         char *reason, size_t size)
{
    if (s_not_ours (info))
        snprintf (reason, size, "%s %s is not yours (its owner is uid %u): %s; use one of yours",
                  what, path, (unsigned) info->st_uid, risk);
    else if (info->st_mode & (S_IWGRP | S_IWOTH))
        snprintf (reason, size, "%s %s is writable by others (mode %04o): %s (chmod go-w %s)", what,
                  path, (unsigned) (info->st_mode & 07777), risk, path);
    else
        return 0;
    return -1;
}

//  The directory that holds `path`: whoever can write there can put
//  another file in its place, unless the directory is sticky (as /tmp:
//  then only the file's owner can, and the file is checked itself).
static int
s_parent_guard (const char *path, char *reason, size_t size)
{
    char parent[4096];
    snprintf (parent, sizeof parent, "%s", path);
    char *slash = strrchr (parent, '/');
    if (!slash)
        snprintf (parent, sizeof parent, ".");
    else if (slash == parent)
        parent[1] = 0;
    else
        *slash = 0;
    struct stat info;
    if (stat (parent, &info) != 0 || (info.st_mode & S_ISVTX))
        return 0;
    char risk[600];
    snprintf (risk, sizeof risk, "whoever can write there can put another file in place of %s",
              path);
    return s_guard ("the directory", parent, &info, risk, reason, size);
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
                  s_not_ours (&info)
                      ? "the key file %s is not yours (its owner is uid %u): a secret key must "
                        "be yours and only yours to read; use one of yours"
                      : "the key file %s is open to others (mode %04o): a secret key must be "
                        "yours and only yours to read (chmod 600 %s)",
                  file,
                  s_not_ours (&info) ? (unsigned) info.st_uid : (unsigned) (info.st_mode & 07777),
                  file);
    else if (!need_secret &&
             s_guard ("the certificate", file, &info,
                      "whoever can write it can put their key in it and pass for the peer", reason,
                      size) != 0)
        ;
    else if (!need_secret && file == path && secret_ok)
        snprintf (reason, size,
                  "the certificate %s holds a secret key: give the public certificate (the "
                  "file mcpact keygen wrote without _secret); a secret key stays where it was "
                  "made",
                  file);
    else if (s_parent_guard (file, reason, size) != 0)
        ;
    else
        return 0;
    return -1;
}

//  --------------------------------------------------------------------------
//  The allow-list

//  Called for each directory and certificate file of an allow-list.
typedef int (s_visit_fn) (const char *path, const struct stat *info, void *arg);

//  Walks `dir` as CZMQ's certificate store reads it: subdirectories too,
//  names starting with '.' and files ending in _secret left out (stat
//  follows links; a depth of 16 ends a loop of them). Calls `visit` for
//  each directory below `dir` and each regular file; stops at the first
//  nonzero it returns, and returns that.
static int
s_walk (const char *dir, int depth, s_visit_fn *visit, void *arg)
{
    DIR *handle = depth < 16 ? opendir (dir) : NULL;
    if (!handle)
        return 0;
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (handle))) {
        size_t length = strlen (entry->d_name);
        if (entry->d_name[0] == '.' ||
            (length >= 7 && strcmp (entry->d_name + length - 7, "_secret") == 0))
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        struct stat info;
        if (stat (path, &info) != 0)
            continue;
        if (S_ISDIR (info.st_mode)) {
            rc = visit (path, &info, arg);
            if (rc == 0)
                rc = s_walk (path, depth + 1, visit, arg);
        } else if (S_ISREG (info.st_mode))
            rc = visit (path, &info, arg);
    }
    closedir (handle);
    return rc;
}

typedef struct {
    char *reason;
    size_t size;
    const char *into; //  the snapshot being made, or NULL
    size_t count;     //  certificates copied into it
} s_check_t;

static int
s_check_one (const char *path, const struct stat *info, void *arg)
{
    s_check_t *check = (s_check_t *) arg;
    if (S_ISDIR (info->st_mode))
        return s_guard ("the directory", path, info,
                        "whoever can write there can let themselves in (the client "
                        "certificates are read in subdirectories too)",
                        check->reason, check->size);
    if (s_guard ("the client certificate", path, info,
                 "whoever can write it can put their key in it", check->reason, check->size))
        return -1;
    if (!check->into || info->st_size > CURVE_CERT_MAX)
        return 0;
    //  The copy zauth reads: what was checked, never what others wrote
    //  since.
    char copy[4096];
    snprintf (copy, sizeof copy, "%s/%zu", check->into, check->count);
    FILE *in = fopen (path, "r");
    FILE *out = in ? fopen (copy, "wx") : NULL;
    char buffer[CURVE_CERT_MAX];
    size_t got = in ? fread (buffer, 1, sizeof buffer, in) : 0;
    bool ok = out && fwrite (buffer, 1, got, out) == got;
    if (out && fclose (out) != 0)
        ok = false;
    if (in)
        fclose (in);
    if (!ok) {
        snprintf (check->reason, check->size, "cannot copy the client certificate %s: %s", path,
                  strerror (errno));
        return -1;
    }
    check->count++;
    return 0;
}

//  The checks of curve_clients_check, copying into `into` if not NULL.
static int
s_clients_check (const char *dir, const char *into, size_t *count, char *reason, size_t size)
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
    if (s_guard ("the client certificates directory", dir, &info,
                 "whoever can write there can let themselves in", reason, size) != 0 ||
        s_parent_guard (dir, reason, size) != 0)
        return -1;
    s_check_t check = { reason, size, into, 0 };
    int rc = s_walk (dir, 0, s_check_one, &check);
    if (count)
        *count = check.count;
    return rc;
}

int
curve_clients_check (const char *dir, char *reason, size_t size)
{
    return s_clients_check (dir, NULL, NULL, reason, size);
}

static int
s_sign_one (const char *path, const struct stat *info, void *arg)
{
    //  FNV-1a over what a change of the file or its rights changes
    uint64_t *hash = (uint64_t *) arg;
    const uint64_t fields[] = { (uint64_t) info->st_ino,          (uint64_t) info->st_dev,
                                (uint64_t) info->st_mode,         (uint64_t) info->st_uid,
                                (uint64_t) info->st_size,         (uint64_t) info->st_mtim.tv_sec,
                                (uint64_t) info->st_mtim.tv_nsec, (uint64_t) info->st_ctim.tv_sec,
                                (uint64_t) info->st_ctim.tv_nsec };
    const unsigned char *bytes[] = { (const unsigned char *) path, (const unsigned char *) fields };
    const size_t sizes[] = { strlen (path), sizeof fields };
    for (int part = 0; part < 2; part++)
        for (size_t i = 0; i < sizes[part]; i++)
            *hash = (*hash ^ bytes[part][i]) * 1099511628211ULL;
    return 0;
}

uint64_t
curve_clients_signature (const char *dir)
{
    uint64_t hash = 14695981039346656037ULL;
    struct stat info;
    if (stat (dir, &info) == 0)
        s_sign_one (dir, &info, &hash);
    s_walk (dir, 0, s_sign_one, &hash);
    return hash;
}

int
curve_clients_snapshot (const char *dir, char **into, size_t *count, char *reason, size_t size)
{
    *count = 0;
    const char *tmp = getenv ("TMPDIR");
    char path[4096];
    snprintf (path, sizeof path, "%s/mcpact-curve-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    if (!mkdtemp (path) || !(*into = strdup (path))) {
        snprintf (reason, size, "cannot make a private directory for the allow-list: %s",
                  strerror (errno));
        *into = NULL;
        return -1;
    }
    if (s_clients_check (dir, *into, count, reason, size) == 0)
        return 0;
    //  Nothing of a list that failed: no one is let in.
    curve_clients_empty (*into);
    *count = 0;
    return -1;
}

void
curve_clients_empty (const char *into)
{
    DIR *handle = into ? opendir (into) : NULL;
    if (!handle)
        return;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", into, entry->d_name);
        if (entry->d_name[0] != '.')
            unlink (path);
    }
    closedir (handle);
}

void
curve_clients_remove (char **into)
{
    if (!into || !*into)
        return;
    curve_clients_empty (*into);
    rmdir (*into);
    free (*into);
    *into = NULL;
}
