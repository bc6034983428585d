/*  =========================================================================
    formats_names - the property names each LLM API takes, and renames

    Names are collected from the whole schema document (every key of a
    "properties" object and every name in a "required" list, wherever it
    is), so that a new name clashes with none. Each name is looked at
    once, in the order met, which makes the renames the same for the same
    input: the call-in makes them again to map arguments back. Pure
    functions, no state: any thread. Inputs are only read, except the
    schema formats_names_apply is given to change.
    =========================================================================
*/

#include "formats_names.h"

#include "formats_json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  The longest property name Anthropic and Gemini take
#define KEY_LENGTH_MAX 64

//  How deep the search for property names walks a schema document:
//  deeper than any document the JSON parser takes (2048 levels)
#define NAMES_DEPTH_MAX 4096

//  The length of object key `key`, which may hold a NUL
static size_t
s_key_len (const char *key)
{
    return json_object_iter_key_len (json_object_key_to_iter (key));
}

//  True if `subset` takes the byte `c` at position `at` of a property
//  name. Anthropic: "Property keys should match pattern
//  '^[a-zA-Z0-9_.-]{1,64}$'". Gemini: "Parameter names must start with a
//  letter or an underscore and must only contain chars a-z, A-Z, 0-9, or
//  underscores with a maximum length of 64". The others document none
static bool
s_key_char (formats_schema_t subset, char c, size_t at)
{
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (subset == FORMATS_SCHEMA_GEMINI)
        return letter || (digit && at > 0);
    if (subset == FORMATS_SCHEMA_ANTHROPIC)
        return letter || digit || c == '.' || c == '-';
    return true;
}

//  True if `subset` takes `name` (`len` bytes) as a property name
static bool
s_key_ok (formats_schema_t subset, const char *name, size_t len)
{
    if (subset != FORMATS_SCHEMA_ANTHROPIC && subset != FORMATS_SCHEMA_GEMINI)
        return true;
    if (len == 0 || len > KEY_LENGTH_MAX)
        return false;
    for (size_t at = 0; at < len; at++)
        if (!s_key_char (subset, name[at], at))
            return false;
    return true;
}

//  Every name a schema document uses for properties: the keys of any
//  "properties" object and the names in any "required" list, at any
//  depth, into the set `names` in the order met
static void
s_collect_names (json_t *node, json_t *names, int depth)
{
    if (depth > NAMES_DEPTH_MAX)
        return;
    size_t index;
    json_t *value;
    if (json_is_array (node)) {
        json_array_foreach (node, index, value)
            s_collect_names (value, names, depth + 1);
        return;
    }
    const char *key;
    json_object_foreach (node, key, value) {
        if (streq (key, "properties") && json_is_object (value)) {
            const char *name;
            json_t *sub;
            json_object_foreach (value, name, sub)
                json_object_setn (names, name, s_key_len (name), json_true ());
        } else if (streq (key, "required") && json_is_array (value)) {
            json_t *name;
            json_array_foreach (value, index, name)
                if (json_is_string (name))
                    json_object_setn (names, json_string_value (name), json_string_length (name),
                                      json_true ());
        }
        s_collect_names (value, names, depth + 1);
    }
}

//  A name `subset` takes for `name`, not in `taken`: each character it
//  refuses becomes '_' (a '_' goes before a digit where one may not
//  start), cut to the length allowed, and a number added when that
//  name is taken already
static char *
s_key_for (formats_schema_t subset, const char *name, size_t len, json_t *taken)
{
    char base[KEY_LENGTH_MAX + 1];
    size_t out = 0;
    for (size_t at = 0; at < len && out < KEY_LENGTH_MAX; at++) {
        char c = name[at];
        if (((unsigned char) c & 0xC0) == 0x80)
            continue; //  the rest of a character already replaced
        if (!s_key_char (subset, c, out) && s_key_char (subset, c, out + 1) &&
            out + 1 < KEY_LENGTH_MAX)
            base[out++] = '_'; //  a digit where a name may not start
        base[out] = s_key_char (subset, c, out) ? c : '_';
        out++;
    }
    if (out == 0)
        base[out++] = '_';
    base[out] = 0;
    if (!json_object_get (taken, base))
        return strdup (base);
    for (unsigned number = 2;; number++) {
        char suffix[16];
        int suffix_len = snprintf (suffix, sizeof suffix, "_%u", number);
        size_t keep =
            out + (size_t) suffix_len > KEY_LENGTH_MAX ? KEY_LENGTH_MAX - (size_t) suffix_len : out;
        char *candidate = formats_printf ("%.*s%s", (int) keep, base, suffix);
        if (!candidate || !json_object_get (taken, candidate))
            return candidate;
        free (candidate);
    }
}

//  The renames that make every property name of `input` one `subset`
//  takes: an object from the tool's name to the name sent. A new name is
//  none the input uses anywhere (every name of its forms comes from it),
//  and the same name is renamed the same way everywhere, so that a
//  call's arguments map back by name alone
static json_t *
s_key_renames (formats_schema_t subset, json_t *input)
{
    json_t *names = json_object ();
    s_collect_names (input, names, 0);
    json_t *taken = json_copy (names);
    json_t *renames = json_object ();
    const char *name;
    json_t *value;
    json_object_foreach (names, name, value) {
        size_t len = s_key_len (name);
        if (s_key_ok (subset, name, len))
            continue;
        char *sent = s_key_for (subset, name, len, taken);
        if (!sent)
            continue;
        json_object_set (taken, sent, json_true ());
        json_object_setn_new (renames, name, len, json_string (sent));
        free (sent);
    }
    json_decref (taken);
    json_decref (names);
    return renames;
}

//  The name `renames` gives `name` (a string json_t), or `name` itself
static json_t *
s_renamed (json_t *renames, json_t *name)
{
    json_t *sent = json_is_string (name) ? json_object_getn (renames, json_string_value (name),
                                                             json_string_length (name))
                                         : NULL;
    return sent ? sent : name;
}

//  Says in the description of `schema` that the tool names it `name`
static void
s_name_said (json_t *schema, const char *name, size_t len)
{
    json_t *quoted = json_stringn (name, len);
    char *text = json_dumps (quoted, JSON_ENCODE_ANY);
    json_decref (quoted);
    const char *description = json_string_value (json_object_get (schema, "description"));
    char *said =
        description && *description
            ? formats_printf ("%s (the tool's parameter %s)", description, text ? text : "?")
            : formats_printf ("The tool's parameter %s.", text ? text : "?");
    if (said)
        json_object_set_new (schema, "description", json_string (said));
    free (said);
    free (text);
}

static void s_rename (json_t *node, json_t *renames, int depth);

//  s_rename on every schema of the map or list `schemas`
static void
s_rename_each (json_t *schemas, json_t *renames, int depth)
{
    const char *key;
    size_t index;
    json_t *sub;
    json_object_foreach (schemas, key, sub)
        s_rename (sub, renames, depth + 1);
    json_array_foreach (schemas, index, sub)
        s_rename (sub, renames, depth + 1);
}

//  Applies `renames` to the schema `node` (of the JSON form, changed in
//  place): the names of its properties and in its required list, and so
//  in every schema below it. A renamed property's description says the
//  tool's name for it
static void
s_rename (json_t *node, json_t *renames, int depth)
{
    if (!json_is_object (node) || depth > NAMES_DEPTH_MAX)
        return;
    json_t *properties = json_object_get (node, "properties");
    if (json_is_object (properties)) {
        json_t *renamed = json_object ();
        const char *name;
        json_t *sub;
        json_object_foreach (properties, name, sub) {
            size_t len = s_key_len (name);
            json_t *sent = json_object_getn (renames, name, len);
            s_rename (sub, renames, depth + 1);
            if (sent && json_is_object (sub))
                s_name_said (sub, name, len);
            if (sent)
                json_object_set (renamed, json_string_value (sent), sub);
            else
                json_object_setn (renamed, name, len, sub);
        }
        json_object_set_new (node, "properties", renamed);
    }
    json_t *required = json_object_get (node, "required");
    if (json_is_array (required)) {
        json_t *renamed = json_array ();
        size_t index;
        json_t *name;
        json_array_foreach (required, index, name) {
            formats_append_once (renamed, s_renamed (renames, name));
        }
        json_object_set_new (node, "required", renamed);
    }
    const char *maps[] = { "patternProperties", "$defs", "definitions",
                           "prefixItems",       "anyOf", "oneOf" };
    for (size_t key = 0; key < sizeof maps / sizeof maps[0]; key++)
        s_rename_each (json_object_get (node, maps[key]), renames, depth);
    const char *singles[] = { "items", "additionalProperties", "not" };
    for (size_t key = 0; key < sizeof singles / sizeof singles[0]; key++)
        s_rename (json_object_get (node, singles[key]), renames, depth + 1);
}

//  --------------------------------------------------------------------------

json_t *
formats_names_renames (json_t *input, formats_schema_t subset)
{
    if (subset != FORMATS_SCHEMA_ANTHROPIC && subset != FORMATS_SCHEMA_GEMINI)
        return NULL;
    json_t *renames = s_key_renames (subset, input);
    if (json_object_size (renames) == 0) {
        json_decref (renames);
        return NULL;
    }
    return renames;
}

json_t *
formats_names_back (json_t *input, formats_schema_t subset)
{
    json_t *renames = formats_names_renames (input, subset);
    if (!renames)
        return NULL;
    json_t *back = json_object ();
    const char *name;
    json_t *sent;
    json_object_foreach (renames, name, sent)
        json_object_setn_new (back, json_string_value (sent), json_string_length (sent),
                              json_stringn (name, s_key_len (name)));
    json_decref (renames);
    return back;
}

void
formats_names_apply (json_t *schema, json_t *renames)
{
    if (json_object_size (renames) > 0)
        s_rename (schema, renames, 0);
}
