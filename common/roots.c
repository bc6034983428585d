/*  =========================================================================
    roots - the client's roots as MCP's roots/list gives them (see .h)
    =========================================================================
*/

#include "roots.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Resolves "." and ".." and drops repeated and trailing slashes, in
//  place, by the text alone (RFC 3986, 5.2.4): a root names the folder
//  the user wrote, not where a symbolic link leads. ".." above "/" stays
//  at "/".
static void
s_normalise (char *path)
{
    char *out = path;
    const char *in = path;
    while (*in) {
        while (*in == '/')
            in++;
        const char *end = in + strcspn (in, "/");
        size_t length = (size_t) (end - in);
        if (length == 0 || (length == 1 && in[0] == '.'))
            ; //  nothing to add
        else if (length == 2 && in[0] == '.' && in[1] == '.') {
            while (out > path && *--out != '/')
                ;
        } else {
            *out++ = '/';
            memmove (out, in, length);
            out += length;
        }
        in = end;
    }
    if (out == path)
        *out++ = '/';
    *out = 0;
}

//  file:// + the absolute path, each byte outside RFC 3986's unreserved
//  characters and "/" percent-encoded.
static char *
s_path_uri (const char *path)
{
    char *cwd = path[0] == '/' ? NULL : getcwd (NULL, 0);
    size_t size = strlen (path) + (cwd ? strlen (cwd) + 1 : 0);
    char *full = (char *) malloc (size + 2);
    char *uri = (char *) malloc (7 + 3 * size + 4);
    if (full && uri) {
        snprintf (full, size + 1, "%s%s%s", cwd ? cwd : "", cwd ? "/" : "", path);
        s_normalise (full);
        char *out = uri + sprintf (uri, "file://");
        for (const unsigned char *c = (const unsigned char *) full; *c; c++)
            if (isalnum (*c) || strchr ("-._~/", *c))
                *out++ = (char) *c;
            else
                out += sprintf (out, "%%%02X", *c);
        *out = 0;
    } else {
        free (uri);
        uri = NULL;
    }
    free (full);
    free (cwd);
    return uri;
}

json_t *
roots_entry (const char *uri, const char *name, char **error)
{
    *error = NULL;
    if (!uri || !*uri) {
        *error = strdup ("the root is empty");
        return NULL;
    }
    char *made = NULL;
    if (strncmp (uri, "file://", 7) != 0) {
        if (strstr (uri, "://")) {
            if (asprintf (error, "%s is not a file:// URI (MCP roots are file:// URIs)", uri) < 0)
                *error = NULL;
            return NULL;
        }
        if (!(made = s_path_uri (uri)))
            return NULL;
    } else if (uri[7] == '/' && (made = strdup (uri)))
        s_normalise (made + 7);
    json_t *entry = json_pack ("{s:s}", "uri", made ? made : uri);
    free (made);
    if (entry && name)
        json_object_set_new (entry, "name", json_string (name));
    return entry;
}

json_t *
roots_list (json_t *value, char **error)
{
    *error = NULL;
    if (!json_is_array (value)) {
        *error = strdup ("roots must be an array of file:// URIs, paths or {\"uri\", \"name\"}");
        return NULL;
    }
    json_t *list = json_array ();
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item) {
        const char *uri = json_is_string (item) ? json_string_value (item)
                                                : json_string_value (json_object_get (item, "uri"));
        json_t *name = json_object_get (item, "name");
        json_t *entry = NULL;
        char *why = NULL;
        if (!uri)
            why = strdup ("it is neither a string nor an object with a string \"uri\"");
        else if (name && !json_is_string (name))
            why = strdup ("its \"name\" is not a string");
        else
            entry = roots_entry (uri, json_string_value (name), &why);
        if (!entry) {
            if (asprintf (error, "roots[%zu]: %s", index, why ? why : "out of memory") < 0)
                *error = NULL;
            free (why);
            json_decref (list);
            return NULL;
        }
        json_array_append_new (list, entry);
    }
    return list;
}

char *
roots_problem (const char *uri)
{
    if (!uri || strncmp (uri, "file:///", 8) != 0)
        return NULL;
    //  The path, its %XX decoded.
    char *path = strdup (uri + 7);
    if (!path)
        return NULL;
    char *out = path;
    for (const char *c = path; *c; c++)
        if (*c == '%' && isxdigit ((unsigned char) c[1]) && isxdigit ((unsigned char) c[2])) {
            char hex[3] = { c[1], c[2], 0 };
            *out++ = (char) strtol (hex, NULL, 16);
            c += 2;
        } else
            *out++ = *c;
    *out = 0;
    struct stat info;
    char *problem = NULL;
    if (stat (path, &info) != 0) {
        if (asprintf (&problem, "%s does not exist", path) < 0)
            problem = NULL;
    } else if (!S_ISDIR (info.st_mode) && asprintf (&problem, "%s is not a directory", path) < 0)
        problem = NULL;
    free (path);
    return problem;
}
