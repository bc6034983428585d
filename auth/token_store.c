/*  =========================================================================
    token_store - the default token storage: one file per server (see .h)
    =========================================================================
*/

#include "token_store.h"

#include "log.h"
#include "server_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  The directory, made (0700) if missing when `make` is set. malloc'ed.
static char *
s_dir (bool make)
{
    const char *base = getenv ("XDG_CONFIG_HOME");
    const char *home = getenv ("HOME");
    char *config = NULL, *dir = NULL;
    if (base && *base == '/')
        config = strdup (base);
    else if (home && *home && asprintf (&config, "%s/.config", home) < 0)
        config = NULL;
    if (!config || asprintf (&dir, "%s/mcpact/oauth", config) < 0)
        dir = NULL;
    if (dir && make) {
        char *mcpact = NULL;
        mkdir (config, 0700);
        if (asprintf (&mcpact, "%s/mcpact", config) > 0)
            mkdir (mcpact, 0700);
        free (mcpact);
        mkdir (dir, 0700);
    }
    free (config);
    return dir;
}

char *
token_store_path (const char *server)
{
    //  A server name never holds a '/': the file stays in the directory.
    if (!server_config_name_valid (server))
        return NULL;
    char *dir = s_dir (false), *path = NULL;
    if (dir && asprintf (&path, "%s/%s.json", dir, server) < 0)
        path = NULL;
    free (dir);
    return path;
}

char *
token_store_load (void *arg, const char *server, const char *url)
{
    char *path = token_store_path (server);
    FILE *file = path ? fopen (path, "r") : NULL;
    struct stat info;
    //  As ssh does with a private key, though only a warning: the tokens
    //  are as good as a password to whoever can read them.
    if (file && fstat (fileno (file), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)))
        log_warn ("server %s: its OAuth token file %s can be read or written by others (mode "
                  "%03o); make it private: chmod 600 %s",
                  server, path, (unsigned) (info.st_mode & 0777), path);
    free (path);
    if (!file)
        return NULL;
    char *text = NULL;
    size_t size = 0;
    char chunk[4096];
    size_t got;
    while ((got = fread (chunk, 1, sizeof chunk, file)) > 0 && size < 1024 * 1024) {
        char *grown = (char *) realloc (text, size + got + 1);
        if (!grown)
            break;
        memcpy (grown + size, chunk, got);
        size += got;
        grown[size] = '\0';
        text = grown;
    }
    fclose (file);
    return text;
}

int
token_store_save (void *arg, const char *server, const char *url, const char *record)
{
    char *path = token_store_path (server);
    if (!path)
        return -1;
    if (!record) {
        int rc = unlink (path) == 0 || errno == ENOENT ? 0 : -1;
        free (path);
        return rc;
    }
    char *dir = s_dir (true), *temp = NULL;
    int rc = -1;
    if (dir && asprintf (&temp, "%s.%ld.tmp", path, (long) getpid ()) > 0) {
        int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        size_t size = strlen (record);
        if (fd >= 0) {
            bool written = write (fd, record, size) == (ssize_t) size;
            written = fsync (fd) == 0 && written;
            close (fd);
            rc = written && rename (temp, path) == 0 ? 0 : -1;
            if (rc)
                unlink (temp);
        }
        if (rc)
            log_warn ("server %s: cannot save its OAuth tokens in %s: %s", server, dir,
                      strerror (errno));
    }
    free (temp);
    free (dir);
    free (path);
    return rc;
}

int
mcpact_oauth_forget (const char *server)
{
    char *path = server ? token_store_path (server) : NULL;
    int rc = path && unlink (path) == 0 ? 0 : -1;
    free (path);
    return rc;
}
