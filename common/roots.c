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
#include <unistd.h>

//  file:// + the absolute path, each byte outside RFC 3986's unreserved
//  characters and "/" percent-encoded.
static char *
s_path_uri (const char *path)
{
    char *cwd = path[0] == '/' ? NULL : getcwd (NULL, 0);
    size_t size = strlen (path) + (cwd ? strlen (cwd) + 1 : 0);
    char *full = (char *) malloc (size + 1);
    char *uri = (char *) malloc (7 + 3 * size + 1);
    if (full && uri) {
        snprintf (full, size + 1, "%s%s%s", cwd ? cwd : "", cwd ? "/" : "", path);
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
    }
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
