/*  =========================================================================
    roots - the client's roots as MCP's roots/list gives them

    A root is {"uri": "file:///...", "name"?: "..."}: MCP wants file://
    URIs. Hosts and config files may give a plain path instead, which
    becomes an absolute file:// URI here (relative to the working
    directory, with the characters a URI cannot hold percent-encoded),
    and "." and ".." are resolved by the text.
    Pure functions; any thread.
    =========================================================================
*/

#ifndef MCPACT_ROOTS_H_INCLUDED
#define MCPACT_ROOTS_H_INCLUDED

#include <jansson.h>

//  One root from a file:// URI or a path, and a name (or NULL). NULL and
//  *error (malloc'ed) if it is neither.
json_t *roots_entry (const char *uri, const char *name, char **error);

//  A roots list from a JSON array whose items are URIs or paths (strings)
//  or {"uri", "name"?} objects. NULL and *error (malloc'ed, naming the
//  item) if it is not one.
json_t *roots_list (json_t *value, char **error);

//  Why the file:// root `uri` may not be what the user meant (its path
//  does not exist, or is not a directory), or NULL: a malloc'ed text
//  for a warning. A root may name a folder that is made later, so this
//  is never an error.
char *roots_problem (const char *uri);

#endif
