/*  =========================================================================
    catalog - one merged, immutable tool catalogue (see catalog.h)
    =========================================================================
*/

#include "catalog.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _catalog_t {
    atomic_int refs;          //  references held
    catalog_entry_t *entries; //  in catalogue order
    size_t count;             //  entries
    catalog_entry_t *kept;    //  reserved names, in the order decided
    size_t kept_count;        //  reserved names
    size_t *index;            //  open-addressing table of entry+1 (0 = empty)
    size_t index_max;         //  table slots, a power of two
    char *tools_json;         //  the exposed tools, serialised once
    json_t *servers;          //  [{name, endpoint}]
};

static uint64_t
s_hash (const char *text)
{
    uint64_t hash = 1469598103934665603ULL;
    for (; *text; text++)
        hash = (hash ^ (unsigned char) *text) * 1099511628211ULL;
    return hash;
}

bool
catalog_name_valid (const char *name)
{
    size_t size = 0;
    for (const char *p = name; *p; p++, size++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return size > 0 && size <= CATALOG_NAME_MAX;
}

void
catalog_sanitize (const char *name, char *out)
{
    size_t size = strlen (name);
    size_t keep = size <= CATALOG_NAME_MAX ? size : CATALOG_NAME_MAX - 9;
    for (size_t i = 0; i < keep; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        out[i] = ok ? c : '_';
    }
    if (size > CATALOG_NAME_MAX)
        snprintf (out + keep, 10, "_%08x", (unsigned) (s_hash (name) & 0xffffffffu));
    else
        out[keep] = 0;
    if (!*out)
        strcpy (out, "_");
}

//  Index values: entry + 1, with this bit for a reserved name.
#define S_KEPT ((size_t) 1 << (sizeof (size_t) * 8 - 1))

static const catalog_entry_t *
s_find (const catalog_t *self, const char *name, size_t *slot_out)
{
    size_t mask = self->index_max - 1;
    size_t slot = (size_t) s_hash (name) & mask;
    while (self->index[slot]) {
        size_t value = self->index[slot];
        const catalog_entry_t *entry =
            value & S_KEPT ? &self->kept[(value & ~S_KEPT) - 1] : &self->entries[value - 1];
        if (strcmp (entry->name, name) == 0)
            return entry;
        slot = (slot + 1) & mask;
    }
    if (slot_out)
        *slot_out = slot;
    return NULL;
}

const catalog_entry_t *
catalog_lookup (const catalog_t *self, const char *name)
{
    return self && name ? s_find (self, name, NULL) : NULL;
}

//  Who owns `name` already, for a rejection message.
static const char *
s_owner_text (const catalog_entry_t *entry, char *buffer, size_t size)
{
    if (entry->reserved)
        snprintf (buffer, size,
                  "tool %s of server %s, which comes first and is not up (the name is kept "
                  "for it: it is in its allowedTools)",
                  entry->original, entry->owner);
    else if (entry->owner)
        snprintf (buffer, size, "tool %s of server %s", entry->original, entry->owner);
    else
        snprintf (buffer, size, "function tool %s", entry->name);
    return buffer;
}

static void
s_add (catalog_t *self, json_t *tools, const char *name, const char *original, const char *owner,
       const char *endpoint, json_t *tool)
{
    size_t slot;
    s_find (self, name, &slot);
    catalog_entry_t *entry = &self->entries[self->count];
    entry->name = strdup (name);
    entry->original = strdup (original);
    entry->owner = owner ? strdup (owner) : NULL;
    entry->endpoint = strdup (endpoint);
    self->index[slot] = ++self->count;

    json_t *exposed = json_deep_copy (tool);
    json_object_set_new (exposed, "name", json_string (name));
    json_object_del (exposed, "key");
    json_object_del (exposed, "endpoint");
    if (!json_object_get (exposed, "inputSchema"))
        json_object_set_new (exposed, "inputSchema", json_pack ("{s:s}", "type", "object"));
    json_object_set_new (exposed, "_mcpact",
                         owner ? json_pack ("{s:s,s:s}", "server", owner, "tool", original)
                               : json_pack ("{s:b}", "function", 1));
    char *text = json_dumps (exposed, JSON_COMPACT | JSON_SORT_KEYS);
    entry->digest = text ? s_hash (text) : 0;
    free (text);
    json_array_append_new (tools, exposed);
}

//  Keeps `name` for `owner`, which is not up.
static void
s_keep (catalog_t *self, const char *name, const char *original, const char *owner,
        const char *endpoint)
{
    size_t slot;
    s_find (self, name, &slot);
    catalog_entry_t *entry = &self->kept[self->kept_count];
    entry->name = strdup (name);
    entry->original = strdup (original);
    entry->owner = strdup (owner);
    entry->endpoint = strdup (endpoint);
    entry->reserved = true;
    self->index[slot] = ++self->kept_count | S_KEPT;
}

static void
s_reject (json_t *rejected, const char *server, const char *tool, const char *reason)
{
    if (rejected)
        json_array_append_new (rejected, json_pack ("{s:s,s:s,s:s}", "server", server ?: "", "tool",
                                                    tool, "reason", reason));
}

catalog_t *
catalog_build (mcpact_name_policy_t policy, json_t *functions, json_t *servers, json_t *rejected)
{
    catalog_t *self = (catalog_t *) calloc (1, sizeof (catalog_t));
    if (!self)
        return NULL;
    atomic_init (&self->refs, 1);
    size_t total = json_array_size (functions), kept = 0;
    size_t index;
    json_t *server;
    json_array_foreach (servers, index, server) {
        total += json_array_size (json_object_get (server, "tools"));
        kept += json_array_size (json_object_get (server, "reserved"));
    }
    self->entries = (catalog_entry_t *) calloc (total + 1, sizeof (catalog_entry_t));
    self->kept = (catalog_entry_t *) calloc (kept + 1, sizeof (catalog_entry_t));
    self->index_max = 16;
    while (self->index_max < (total + kept) * 2 + 2)
        self->index_max *= 2;
    self->index = (size_t *) calloc (self->index_max, sizeof (size_t));
    self->servers = json_array ();
    json_t *tools = json_array ();
    char reason[512], owner[256];

    json_t *function;
    json_array_foreach (functions, index, function) {
        const char *name = json_string_value (json_object_get (function, "name"));
        const char *key = json_string_value (json_object_get (function, "key"));
        const char *endpoint = json_string_value (json_object_get (function, "endpoint"));
        if (!name || !key || !endpoint)
            continue;
        const catalog_entry_t *taken = s_find (self, name, NULL);
        if (taken) {
            snprintf (reason, sizeof reason, "function tool %s conflicts with %s", name,
                      s_owner_text (taken, owner, sizeof owner));
            s_reject (rejected, NULL, name, reason);
            continue;
        }
        s_add (self, tools, name, key, NULL, endpoint, function);
    }
    json_array_foreach (servers, index, server) {
        const char *server_name = json_string_value (json_object_get (server, "name"));
        const char *endpoint = json_string_value (json_object_get (server, "endpoint"));
        if (!server_name || !endpoint)
            continue;
        json_array_append_new (
            self->servers, json_pack ("{s:s,s:s,s:b}", "name", server_name, "endpoint", endpoint,
                                      "up", !json_is_false (json_object_get (server, "up"))));
        //  A server that is not up keeps the names of its allow-list:
        //  it has them because the configuration says so.
        json_t *reserved = json_object_get (server, "reserved");
        json_t *listed = reserved ? reserved : json_object_get (server, "tools");
        size_t tool_index;
        json_t *tool;
        json_array_foreach (listed, tool_index, tool) {
            const char *original = reserved ? json_string_value (tool)
                                            : json_string_value (json_object_get (tool, "name"));
            if (!original)
                continue;
            char plain[CATALOG_NAME_MAX + 1], prefixed[CATALOG_NAME_MAX + 1];
            catalog_sanitize (original, plain);
            char *joined = NULL;
            if (asprintf (&joined, "%s_%s", server_name, original) < 0)
                continue;
            catalog_sanitize (joined, prefixed);
            free (joined);
            const char *name = policy == MCPACT_NAMES_PREFIX ? prefixed : plain;
            const catalog_entry_t *taken = s_find (self, name, NULL);
            if (taken && policy == MCPACT_NAMES_PREFIX_ON_CONFLICT) {
                name = prefixed;
                taken = s_find (self, name, NULL);
            }
            if (taken && reserved)
                continue; //  nothing to show either way
            if (taken) {
                snprintf (reason, sizeof reason,
                          "tool %s of server %s conflicts with %s (exposed name %s); "
                          "rename it or choose another tool-name policy",
                          original, server_name, s_owner_text (taken, owner, sizeof owner), name);
                s_reject (rejected, server_name, original, reason);
                continue;
            }
            if (reserved)
                s_keep (self, name, original, server_name, endpoint);
            else
                s_add (self, tools, name, original, server_name, endpoint, tool);
        }
    }
    self->tools_json = json_dumps (tools, JSON_COMPACT);
    json_decref (tools);
    return self;
}

catalog_t *
catalog_ref (catalog_t *self)
{
    if (self)
        atomic_fetch_add (&self->refs, 1);
    return self;
}

void
catalog_unref (catalog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    catalog_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub (&self->refs, 1) != 1)
        return;
    for (size_t i = 0; i < self->count + self->kept_count; i++) {
        catalog_entry_t *entry = i < self->count ? &self->entries[i] : &self->kept[i - self->count];
        free (entry->name);
        free (entry->original);
        free (entry->owner);
        free (entry->endpoint);
    }
    free (self->entries);
    free (self->kept);
    free (self->index);
    free (self->tools_json);
    json_decref (self->servers);
    free (self);
}

size_t
catalog_size (const catalog_t *self)
{
    return self ? self->count : 0;
}

const char *
catalog_name_at (const catalog_t *self, size_t index)
{
    return self && index < self->count ? self->entries[index].name : NULL;
}

//  An exposed tool of that name, or NULL.
static const catalog_entry_t *
s_exposed (const catalog_t *self, const char *name)
{
    const catalog_entry_t *entry = catalog_lookup (self, name);
    return entry && !entry->reserved ? entry : NULL;
}

json_t *
catalog_diff (const catalog_t *before, const catalog_t *after)
{
    json_t *added = json_array (), *removed = json_array (), *changed = json_array ();
    for (size_t i = 0; i < catalog_size (after); i++) {
        const catalog_entry_t *now = &after->entries[i];
        const catalog_entry_t *was = s_exposed (before, now->name);
        if (!was)
            json_array_append_new (added, json_string (now->name));
        else if (was->digest != now->digest || strcmp (was->endpoint, now->endpoint) != 0)
            json_array_append_new (changed, json_string (now->name));
    }
    for (size_t i = 0; i < catalog_size (before); i++)
        if (!s_exposed (after, before->entries[i].name))
            json_array_append_new (removed, json_string (before->entries[i].name));
    return json_pack ("{s:o,s:o,s:o,s:I}", "added", added, "removed", removed, "changed", changed,
                      "tools", (json_int_t) catalog_size (after));
}

const char *
catalog_tools_json (const catalog_t *self)
{
    return self && self->tools_json ? self->tools_json : "[]";
}

json_t *
catalog_servers (const catalog_t *self)
{
    return self ? self->servers : NULL;
}

void
catalog_slot_init (catalog_slot_t *self)
{
    memset (self, 0, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
}

void
catalog_slot_fini (catalog_slot_t *self)
{
    //  The registry stopped publishing here before this is called; the
    //  lock makes that order visible to checkers as well.
    pthread_mutex_lock (&self->lock);
    catalog_unref (&self->catalog);
    pthread_mutex_unlock (&self->lock);
    free (self->agent);
    pthread_mutex_destroy (&self->lock);
}

void
catalog_slot_publish (catalog_slot_t *self, catalog_t *catalog)
{
    pthread_mutex_lock (&self->lock);
    catalog_t *old = self->catalog;
    self->catalog = catalog;
    self->version++;
    pthread_mutex_unlock (&self->lock);
    catalog_unref (&old);
}

catalog_t *
catalog_slot_get (catalog_slot_t *self)
{
    pthread_mutex_lock (&self->lock);
    catalog_t *catalog = catalog_ref (self->catalog);
    pthread_mutex_unlock (&self->lock);
    return catalog;
}
