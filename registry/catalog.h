/*  =========================================================================
    catalog - one merged, immutable tool catalogue and the name policy

    A catalog is what an agent's LLM sees: its function tools and the
    (allowed) tools of its servers, under exposed names that are unique,
    at most 64 characters of [A-Za-z0-9_-], and decided by the name policy.
    Each entry says where a call goes (the owner's endpoint) and under
    which name the owner knows the tool.

    A catalog is built by the registry actor and then never changes: it is
    shared read-only by host threads through a catalog_slot_t, reference
    counted, and replaced as a whole when tools change (a call already
    routed completes against the version it saw).
    =========================================================================
*/

#ifndef MCPACT_CATALOG_H_INCLUDED
#define MCPACT_CATALOG_H_INCLUDED

#include "mcpact.h"

#include <jansson.h>
#include <pthread.h>

#define CATALOG_NAME_MAX 64

typedef struct {
    char *name;      //  exposed name
    char *original;  //  the owner's name for it (function key for functions)
    char *owner;     //  server name, or NULL for a function tool
    char *endpoint;  //  where CALL goes
    uint64_t digest; //  of the tool as exposed: tells a changed definition
    bool reserved;   //  kept for a server that is not up: not shown
} catalog_entry_t;

typedef struct _catalog_t catalog_t;

//  Builds a catalog. `functions` is an array of {name, description,
//  inputSchema, key, endpoint}; `servers` an array, in declaration order, of
//  {name, endpoint, tools: [MCP tool objects]} or, for a server whose tools
//  are not known (it is not up and never listed them), {name, endpoint,
//  reserved: [tool names of its allow-list]}; "up": false marks one that
//  never listed its tools (absent: up). Names are decided in that
//  order, whoever came up first: a reserved name is not shown, but another
//  server's tool of that name is rejected, and a call to it goes to its
//  server, which answers why it cannot. Tools that the policy rejects are
//  appended to `rejected` as {server, tool, reason}. Never NULL except out
//  of memory.
catalog_t *catalog_build (mcpact_name_policy_t policy, json_t *functions, json_t *servers,
                          json_t *rejected);

catalog_t *catalog_ref (catalog_t *self);
void catalog_unref (catalog_t **self_p);

//  The entry for an exposed (or reserved) name, or NULL.
const catalog_entry_t *catalog_lookup (const catalog_t *self, const char *name);

//  Exposed tools (reserved names are not counted).
size_t catalog_size (const catalog_t *self);

//  The exposed name of entry `index` (in catalogue order).
const char *catalog_name_at (const catalog_t *self, size_t index);

//  What changed from `before` to `after` (either may be NULL):
//  {"added": [...], "removed": [...], "changed": [...], "tools": count},
//  where "changed" names the tools that stayed but changed owner or
//  definition. The caller owns it.
json_t *catalog_diff (const catalog_t *before, const catalog_t *after);

//  The tools as a JSON array text (built once).
const char *catalog_tools_json (const catalog_t *self);

//  The servers it was built from: [{name, endpoint, up}] (read only).
json_t *catalog_servers (const catalog_t *self);

//  Makes `name` a valid exposed name: other characters become '_', and a
//  name over 64 characters is cut and given a hash of the whole, so that
//  two long names stay distinct. Writes at most CATALOG_NAME_MAX + 1 bytes.
void catalog_sanitize (const char *name, char *out);

//  A valid exposed name already?
bool catalog_name_valid (const char *name);

//  --------------------------------------------------------------------------
//  The slot through which the registry publishes an agent's catalogs: the
//  one object the registry thread and host threads share. Publishing swaps
//  the pointer under a lock; readers take a reference.

typedef struct {
    pthread_mutex_t lock;             //  guards every field
    catalog_t *catalog;               //  current catalog, or NULL
    uint64_t version;                 //  times published
    char *agent;                      //  the agent's name, or NULL
    mcpact_tools_changed_fn *changed; //  host's change callback, or NULL
    void *changed_arg;                //  its argument
    mcpact_tool_filter_fn *filter;    //  host's tool filter, or NULL
    void *filter_arg;                 //  its argument
} catalog_slot_t;

void catalog_slot_init (catalog_slot_t *self);
void catalog_slot_fini (catalog_slot_t *self);
//  Takes over the caller's reference.
void catalog_slot_publish (catalog_slot_t *self, catalog_t *catalog);
//  Returns a new reference (or NULL before the first publish).
catalog_t *catalog_slot_get (catalog_slot_t *self);

#endif
