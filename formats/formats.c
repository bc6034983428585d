/*  =========================================================================
    formats - tools, tool calls and tool results in the LLM APIs' shapes

    The public "LLM's view" (mcpact_format_*, mcpact_agent_tools_as,
    mcpact_agent_call_as, mcpact_result_as), built on the public API alone:
    the tool list comes from mcpact_agent_tools, the call goes through
    mcpact_agent_call and the result is read through mcpact_result_json,
    _status and _error. Everything else is the pure conversion declared in
    formats.h. The rules, and what each provider's shape was checked
    against, are in docs/formats.md. Keeps no state: as thread-safe as the
    API calls it makes.
    =========================================================================
*/

#include "provider.h"

#include "formats_json.h"
#include "formats_names.h"
#include "jsonscan.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  Schemas come from servers: a deep or self-referencing one must cost a
//  cut, not the stack.
#define SCHEMA_DEPTH_MAX 32

//  An unknown-tool error lists at most this many of the real tools: enough
//  for the LLM to correct a typo, not so many that it floods its context.
#define UNKNOWN_TOOL_LIST_MAX 24

//  The providers, in mcpact_format_t's order.
static const formats_provider_t *s_providers[] = { &formats_mcp, &formats_openai,
                                                   &formats_openai_responses, &formats_anthropic,
                                                   &formats_gemini };
#define FORMAT_COUNT (sizeof s_providers / sizeof s_providers[0])

//  --------------------------------------------------------------------------
//  Small helpers

static bool
s_valid_format (mcpact_format_t format)
{
    return (unsigned) format < FORMAT_COUNT;
}

//  The provider of a valid `format`.
static const formats_provider_t *
s_provider (mcpact_format_t format)
{
    return s_providers[format];
}

//  True if the array of strings `list` holds `name`.
static bool
s_in_list (json_t *list, const char *name)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item) {
        const char *value = json_string_value (item);
        if (value && streq (value, name))
            return true;
    }
    return false;
}

//  True if `text` is NULL or only white space.
static bool
s_blank (const char *text)
{
    if (!text)
        return true;
    for (; *text; text++)
        if (*text != ' ' && *text != '\t' && *text != '\n' && *text != '\r')
            return false;
    return true;
}

//  --------------------------------------------------------------------------
//  Names

const char *
mcpact_format_name (mcpact_format_t format)
{
    return s_valid_format (format) ? s_providers[format]->name : "unknown";
}

int
mcpact_format_from_name (const char *name)
{
    for (size_t index = 0; name && index < FORMAT_COUNT; index++)
        if (streq (name, s_providers[index]->name))
            return (int) index;
    return -1;
}

//  --------------------------------------------------------------------------
//  Schemas

//  True if `schema` describes an object: its type says so, or it lists
//  properties.
static bool
s_is_object_schema (json_t *schema)
{
    json_t *type = json_object_get (schema, "type");
    if (json_is_string (type))
        return streq (json_string_value (type), "object");
    if (json_is_array (type))
        return s_in_list (type, "object");
    return json_is_object (json_object_get (schema, "properties"));
}

json_t *
formats_input_schema (json_t *tool)
{
    json_t *schema = json_object_get (tool, "inputSchema");
    json_t *copy = json_is_object (schema) ? json_deep_copy (schema) : json_object ();
    if (!copy)
        return NULL;
    if (!json_object_get (copy, "type"))
        json_object_set_new (copy, "type", json_string ("object"));
    if (s_is_object_schema (copy) && !json_is_object (json_object_get (copy, "properties")))
        json_object_set_new (copy, "properties", json_object ());
    return copy;
}

json_t *
formats_strict_schema (json_t *schema)
{
    return formats_schema (schema, FORMATS_SCHEMA_STRICT, NULL);
}

json_t *
formats_gemini_schema (json_t *schema)
{
    return formats_schema (schema, FORMATS_SCHEMA_GEMINI, NULL);
}

//  --------------------------------------------------------------------------
//  Tools

//  What a tool says it does: its description, else its title.
static const char *
s_tool_description (json_t *tool)
{
    const char *text = formats_str (tool, "description");
    if (!text || !*text)
        text = formats_str (tool, "title");
    if (!text || !*text)
        text = formats_str (json_object_get (tool, "annotations"), "title");
    return text && *text ? text : NULL;
}

//  The number of bytes of the UTF-8 `text` (`size` bytes) that hold its
//  first `count` characters.
static size_t
s_utf8_prefix (const char *text, size_t size, size_t count)
{
    size_t at = 0;
    for (size_t seen = 0; at < size && seen < count; seen++)
        do
            at++;
        while (at < size && ((unsigned char) text[at] & 0xC0) == 0x80);
    return at;
}

//  The number of characters of the UTF-8 `text`.
static size_t
s_utf8_length (const char *text)
{
    size_t count = 0;
    for (; *text; text++)
        count += ((unsigned char) *text & 0xC0) != 0x80;
    return count;
}

//  The tool's description with `note` (what its schema could not say
//  itself) after it; NULL if there is neither. Over `max` characters
//  (0: no limit), the description is cut at a character and ends in an
//  ellipsis, so that the note, which says what the schema could not,
//  stays whole.
static char *
s_described (json_t *tool, const char *note, size_t max)
{
    const char *description = s_tool_description (tool);
    char *text = NULL;
    if (description && note)
        text = formats_printf ("%s\n\n%s", description, note);
    else if (description || note)
        text = strdup (description ? description : note);
    if (!text || max == 0 || s_utf8_length (text) <= max)
        return text;
    free (text);
    //  What is left of `max` for the description, after the ellipsis and
    //  the note; a note too long itself is cut too
    const char *ellipsis = "\u2026";
    size_t note_length = note ? s_utf8_length (note) + 2 : 0;
    if (!description || note_length + 1 >= max) {
        const char *whole = description ? description : note;
        size_t keep = s_utf8_prefix (whole, strlen (whole), max - 1);
        return formats_printf ("%.*s%s", (int) keep, whole, ellipsis);
    }
    size_t keep = s_utf8_prefix (description, strlen (description), max - 1 - note_length);
    return note ? formats_printf ("%.*s%s\n\n%s", (int) keep, description, ellipsis, note)
                : formats_printf ("%.*s%s", (int) keep, description, ellipsis);
}

bool
formats_declare (const formats_provider_t *provider, json_t *tool, int flags,
                 formats_declaration_t *declaration)
{
    memset (declaration, 0, sizeof *declaration);
    declaration->name = formats_str (tool, "name");
    if (!declaration->name)
        return false;
    json_t *input = json_object_get (tool, "inputSchema");
    bool strict = (flags & MCPACT_FORMAT_STRICT) && provider->strict;
    char *note = NULL;
    json_t *schema = NULL;
    if (strict) {
        schema = formats_schema (input, FORMATS_SCHEMA_STRICT, &note);
        //  Strict mode cannot carry this schema without losing arguments
        //  (a map, a value of any type): this tool goes without it
        strict = schema != NULL;
    }
    if (!schema)
        schema = formats_schema (input, provider->schema, &note);
    declaration->description = s_described (tool, note, provider->description_max);
    declaration->schema = schema;
    declaration->strict = strict;
    free (note);
    return true;
}

void
formats_declaration_free (formats_declaration_t *declaration)
{
    free (declaration->description);
    json_decref (declaration->schema);
    memset (declaration, 0, sizeof *declaration);
}

json_t *
formats_tools (json_t *tools, mcpact_format_t format, int flags)
{
    if (!s_valid_format (format) || !json_is_array (tools))
        return NULL;
    const formats_provider_t *provider = s_provider (format);
    json_t *converted = json_array ();
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        json_t *one = provider->tool (provider, tool, flags);
        if (one)
            json_array_append_new (converted, one);
    }
    return provider->tools ? provider->tools (converted) : converted;
}

//  --------------------------------------------------------------------------
//  Tool calls in

void
formats_call_reset (formats_call_t *call)
{
    free (call->id);
    free (call->name);
    free (call->args);
    memset (call, 0, sizeof *call);
}

char *
formats_call_id (json_t *value)
{
    if (json_is_string (value))
        return strdup (json_string_value (value));
    if (json_is_integer (value))
        return formats_printf ("%" JSON_INTEGER_FORMAT, json_integer_value (value));
    return NULL;
}

char *
formats_type_problem (json_t *object, const char *expected, const char *what)
{
    const char *type = formats_str (object, "type");
    if (!type || streq (type, expected))
        return NULL;
    return formats_printf ("the tool call is not %s: its type is \"%s\", not \"%s\"", what, type,
                           expected);
}

int
formats_call_parse (mcpact_format_t format, const char *text, formats_call_t *call, char **error)
{
    memset (call, 0, sizeof *call);
    *error = NULL;
    json_error_t parse_error;
    json_t *object = text ? json_loads (text, 0, &parse_error) : NULL;
    if (!json_is_object (object)) {
        *error = object ? strdup ("the tool call is not a JSON object")
                 : text ? formats_printf ("the tool call is not valid JSON: %s (column %d)",
                                          parse_error.text, parse_error.column)
                        : strdup ("there is no tool call");
        json_decref (object);
        return -1;
    }
    //  Where the provider keeps the id, the name and the arguments
    const char *args_key = "arguments";
    bool args_text = false;
    json_t *holder = NULL;
    if (s_valid_format (format))
        holder = s_provider (format)->call (object, call, &args_key, &args_text, error);
    else
        *error = formats_printf ("unknown format %d", (int) format);
    if (!*error) {
        const char *name = formats_str (holder, "name");
        if (name && *name)
            call->name = strdup (name);
        else
            *error = strdup ("the tool call names no tool");
    }
    if (!*error) {
        //  Arguments as text, which is how OpenAI sends them; the others'
        //  objects are written out so that one check reads them all
        json_t *args = json_object_get (holder, args_key);
        if (args_text && json_is_string (args))
            call->args = strdup (json_string_value (args));
        else if (args && !json_is_null (args))
            call->args = json_dumps (args, JSON_COMPACT | JSON_ENCODE_ANY);
    }
    json_decref (object);
    return *error ? -1 : 0;
}

//  The tool called `name` in `tools`, or NULL.
static json_t *
s_find_tool (json_t *tools, const char *name)
{
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        const char *tool_name = formats_str (tool, "name");
        if (tool_name && streq (tool_name, name))
            return tool;
    }
    return NULL;
}

//  Names the tool that is not there, and lists some that are.
static char *
s_unknown_tool (json_t *tools, const char *name)
{
    size_t count = json_array_size (tools);
    if (count == 0)
        return formats_printf ("there is no tool named '%s' (no tools are available)", name);
    size_t size = 0;
    for (size_t index = 0; index < count && index < UNKNOWN_TOOL_LIST_MAX; index++) {
        const char *tool_name = formats_str (json_array_get (tools, index), "name");
        size += (tool_name ? strlen (tool_name) : 0) + 2;
    }
    char *list = (char *) calloc (1, size + 8);
    if (!list)
        return NULL;
    for (size_t index = 0; index < count && index < UNKNOWN_TOOL_LIST_MAX; index++) {
        const char *tool_name = formats_str (json_array_get (tools, index), "name");
        if (!tool_name)
            continue;
        if (*list)
            strcat (list, ", ");
        strcat (list, tool_name);
    }
    if (count > UNKNOWN_TOOL_LIST_MAX)
        strcat (list, ", ...");
    char *text = formats_printf ("there is no tool named '%s'; the tools are: %s", name, list);
    free (list);
    return text;
}

//  True if null is a value `schema` lets through, as far as its type,
//  enum, const and alternatives say. An unconstrained schema (or none:
//  an undeclared property) lets everything through.
static bool
s_admits_null (json_t *root, json_t *schema, int depth)
{
    schema = formats_schema_resolve (root, schema);
    if (!schema || depth > SCHEMA_DEPTH_MAX)
        return true;
    if (!json_is_object (schema))
        return !json_is_false (schema);
    json_t *type = json_object_get (schema, "type");
    if (json_is_string (type))
        return streq (json_string_value (type), "null");
    if (json_is_array (type))
        return s_in_list (type, "null");
    json_t *values = json_object_get (schema, "enum");
    if (json_is_array (values)) {
        size_t index;
        json_t *value;
        json_array_foreach (values, index, value)
            if (json_is_null (value))
                return true;
        return false;
    }
    json_t *constant = json_object_get (schema, "const");
    if (constant)
        return json_is_null (constant);
    const char *branch_keys[] = { "anyOf", "oneOf" };
    for (size_t key = 0; key < 2; key++) {
        json_t *branches = json_object_get (schema, branch_keys[key]);
        if (!branches)
            continue;
        size_t index;
        json_t *branch;
        json_array_foreach (branches, index, branch)
            if (s_admits_null (root, branch, depth + 1))
                return true;
        return false;
    }
    return true;
}

//  The schema of property `name` in the object schema `schema`: in its
//  properties (its own, beside a "$ref", then its target's), or in one
//  of its alternatives'.
static json_t *
s_property (json_t *root, json_t *schema, const char *name, int depth)
{
    json_t *found = json_object_get (json_object_get (schema, "properties"), name);
    schema = formats_schema_resolve (root, schema);
    if (!found)
        found = json_object_get (json_object_get (schema, "properties"), name);
    const char *branch_keys[] = { "anyOf", "oneOf" };
    for (size_t key = 0; key < 2 && !found && depth < SCHEMA_DEPTH_MAX; key++) {
        size_t index;
        json_t *branch;
        json_array_foreach (json_object_get (schema, branch_keys[key]), index, branch)
            if (!found)
                found = s_property (root, branch, name, depth + 1);
    }
    return found;
}

//  The JSON a string stands for when the schema wants an object or an
//  array there and no string: what an LLM sends for a value Gemini's
//  Schema could only declare as JSON text, and what models often send
//  for a nested object anyway. NULL if it is not that. The schema is read
//  as the conversion read it when it declared the JSON text
//  (formats_schema_takes), so that every value declared as JSON text is
//  decoded.
static json_t *
s_decoded (json_t *root, json_t *schema, json_t *value)
{
    if (!json_is_string (value))
        return NULL;
    int takes = formats_schema_takes (root, schema);
    if (takes == FORMATS_TAKES_ANY || (takes & FORMATS_TAKES_STRING) ||
        !(takes & (FORMATS_TAKES_OBJECT | FORMATS_TAKES_ARRAY)))
        return NULL;
    json_t *decoded = json_loads (json_string_value (value), 0, NULL);
    if ((json_is_object (decoded) && (takes & FORMATS_TAKES_OBJECT)) ||
        (json_is_array (decoded) && (takes & FORMATS_TAKES_ARRAY)))
        return decoded;
    json_decref (decoded);
    return NULL;
}

static void s_fix_value (json_t *value, json_t *schema, json_t *root, json_t *renames, int depth);

//  The schema of the values of the keys `schema` does not declare: its
//  additionalProperties, when that is a schema
static json_t *
s_additional (json_t *root, json_t *schema)
{
    json_t *additional =
        json_object_get (formats_schema_resolve (root, schema), "additionalProperties");
    return json_is_object (additional) ? additional : NULL;
}

//  Gives the arguments in `args` that the provider knew by another name
//  (`renames`: sent name -> the tool's name) their names back, where
//  `schema` declares the tool's name and the arguments do not hold it
//  already; the order of the arguments stays.
static void
s_rename_back (json_t *args, json_t *schema, json_t *root, json_t *renames)
{
    if (!renames)
        return;
    json_t *renamed = NULL;
    const char *key;
    size_t key_len;
    json_t *value;
    json_object_keylen_foreach (args, key, key_len, value) {
        json_t *original = json_object_getn (renames, key, key_len);
        const char *name = json_string_value (original);
        size_t len = json_string_length (original);
        bool back = name && !json_object_getn (args, name, len) &&
                    !s_property (root, schema, key, 0) && s_property (root, schema, name, 0);
        if (back && !renamed) {
            //  The arguments before this one, as they were
            renamed = json_object ();
            const char *before;
            size_t before_len;
            json_t *kept;
            json_object_keylen_foreach (args, before, before_len, kept) {
                if (before == key)
                    break;
                json_object_setn (renamed, before, before_len, kept);
            }
        }
        if (renamed)
            json_object_setn (renamed, back ? name : key, back ? len : key_len, value);
    }
    if (!renamed)
        return;
    json_object_clear (args);
    json_object_keylen_foreach (renamed, key, key_len, value)
        json_object_setn (args, key, key_len, value);
    json_decref (renamed);
}

//  Fixes the arguments `args` (an object) for schema `schema`: gives
//  renamed arguments their names back, takes out the nulls that stand
//  for "not given" (a strict-mode LLM must send every property, and
//  sends null for the optional ones, which the server's own schema may
//  not allow) and decodes JSON text where an object or an array belongs.
//  A null the schema admits, or one for a required property, stays:
//  that is the LLM's answer.
static void
s_fix_object (json_t *args, json_t *schema, json_t *root, json_t *renames, int depth)
{
    if (!json_is_object (args) || depth > SCHEMA_DEPTH_MAX)
        return;
    s_rename_back (args, schema, root, renames);
    //  Its own "required" beside a "$ref", and its target's
    json_t *own_required = json_object_get (schema, "required");
    json_t *required = json_object_get (formats_schema_resolve (root, schema), "required");
    json_t *additional = s_additional (root, schema);
    const char *key;
    json_t *value;
    void *next;
    json_object_foreach_safe (args, next, key, value) {
        json_t *property = s_property (root, schema, key, 0);
        if (!property) {
            //  A key of a map: its value may hold properties too
            if (additional) {
                json_t *decoded = s_decoded (root, additional, value);
                if (decoded)
                    json_object_set_new (args, key, decoded);
                s_fix_value (json_object_get (args, key), additional, root, renames, depth + 1);
            }
            continue;
        }
        json_t *decoded = s_decoded (root, property, value);
        if (decoded)
            json_object_set_new (args, key, decoded);
        else if (json_is_null (value) && !s_in_list (required, key) &&
                 !s_in_list (own_required, key) && !s_admits_null (root, property, 0)) {
            json_object_del (args, key);
            continue;
        }
        s_fix_value (json_object_get (args, key), property, root, renames, depth + 1);
    }
}

static void
s_fix_value (json_t *value, json_t *schema, json_t *root, json_t *renames, int depth)
{
    if (json_is_object (value))
        s_fix_object (value, schema, root, renames, depth);
    else if (json_is_array (value) && depth <= SCHEMA_DEPTH_MAX) {
        //  A tuple's positions have schemas of their own, the rest items
        json_t *resolved = formats_schema_resolve (root, schema);
        json_t *prefix = json_object_get (resolved, "prefixItems");
        json_t *items = json_object_get (resolved, "items");
        size_t index;
        json_t *item;
        json_array_foreach (value, index, item) {
            json_t *own = index < json_array_size (prefix) ? json_array_get (prefix, index) : items;
            json_t *decoded = s_decoded (root, own, item);
            if (decoded)
                json_array_set_new (value, index, decoded);
            s_fix_value (json_array_get (value, index), own, root, renames, depth + 1);
        }
    }
}

json_t *
formats_call_args (json_t *tools, mcpact_format_t format, const char *name, const char *args_text,
                   mcpact_status_t *status, char **error)
{
    *error = NULL;
    *status = MCPACT_OK;
    json_t *tool = NULL;
    if (json_is_array (tools)) {
        tool = s_find_tool (tools, name);
        if (!tool) {
            *status = MCPACT_ERR_UNKNOWN_TOOL;
            *error = s_unknown_tool (tools, name);
            return NULL;
        }
    }
    json_t *args = NULL;
    if (s_blank (args_text))
        //  What some models send for a tool without parameters
        args = json_object ();
    else {
        json_error_t parse_error;
        args = json_loads (args_text, JSON_DECODE_ANY, &parse_error);
        if (!args) {
            *status = MCPACT_ERR_ARGS;
            *error = formats_printf ("%s: the arguments are not valid JSON: %s (column %d)", name,
                                     parse_error.text, parse_error.column);
            return NULL;
        }
        if (!json_is_object (args)) {
            *status = MCPACT_ERR_ARGS;
            *error = formats_printf ("%s: the arguments must be a JSON object, not %s", name,
                                     jsonscan_kind (args));
            json_decref (args);
            return NULL;
        }
    }
    //  The arguments are fixed against the schema in its clean form, with
    //  allOf folded and alternatives at the top merged; the names the
    //  provider's form gave properties are mapped back on the way
    json_t *schema = json_object_get (tool, "inputSchema");
    json_t *normal = formats_schema (schema, FORMATS_SCHEMA_JSON, NULL);
    json_t *renames = tool && s_valid_format (format)
                          ? formats_names_back (schema, s_provider (format)->schema)
                          : NULL;
    s_fix_object (args, normal, normal, renames, 0);
    json_decref (renames);
    json_decref (normal);

    //  Required arguments only at the top: the rest is the server's to check
    json_t *missing = json_array ();
    size_t index;
    json_t *required;
    json_array_foreach (json_object_get (schema, "required"), index, required) {
        const char *field = json_string_value (required);
        if (field && !json_object_get (args, field))
            json_array_append (missing, required);
    }
    if (json_array_size (missing) > 0) {
        size_t size = 1;
        json_t *field;
        json_array_foreach (missing, index, field)
            size += strlen (json_string_value (field)) + 4;
        char *list = (char *) calloc (1, size);
        json_array_foreach (missing, index, field) {
            if (!list)
                break;
            if (index)
                strcat (list, ", ");
            strcat (list, "'");
            strcat (list, json_string_value (field));
            strcat (list, "'");
        }
        *status = MCPACT_ERR_ARGS;
        *error = formats_printf ("%s: missing the required argument%s %s", name,
                                 json_array_size (missing) > 1 ? "s" : "", list ? list : "");
        free (list);
        json_decref (args);
        args = NULL;
    }
    json_decref (missing);
    return args;
}

//  --------------------------------------------------------------------------
//  Tool results out

typedef enum { MEDIA_NONE, MEDIA_IMAGE, MEDIA_AUDIO, MEDIA_BLOB } media_t;

//  What media a content item carries, with its MIME type and base64 data;
//  MEDIA_NONE for text, links, text resources and anything else that is
//  fine to show as JSON.
static media_t
s_media (json_t *item, const char **mime, const char **data)
{
    const char *type = formats_str (item, "type");
    *mime = NULL;
    *data = NULL;
    if (!type)
        return MEDIA_NONE;
    if (streq (type, "image") || streq (type, "audio")) {
        *data = formats_str (item, "data");
        *mime = formats_str (item, "mimeType");
        if (!*data)
            return MEDIA_NONE;
        return streq (type, "image") ? MEDIA_IMAGE : MEDIA_AUDIO;
    }
    if (streq (type, "resource")) {
        json_t *resource = json_object_get (item, "resource");
        *data = formats_str (resource, "blob");
        *mime = formats_str (resource, "mimeType");
        if (*data)
            return MEDIA_BLOB;
    }
    return MEDIA_NONE;
}

//  The text item that stands in for a media item: what it was and that
//  the data is elsewhere, never the data itself (base64 in a text costs
//  the LLM thousands of tokens and tells it nothing).
static json_t *
s_media_note (json_t *item, media_t media, const char *mime, const char *data, bool attached)
{
    const char *kind = media == MEDIA_IMAGE ? "image" : media == MEDIA_AUDIO ? "audio" : "resource";
    const char *uri =
        media == MEDIA_BLOB ? formats_str (json_object_get (item, "resource"), "uri") : NULL;
    char *text =
        attached ? formats_printf ("[%s: %s, attached]", kind, mime ? mime : "unknown type")
                 : formats_printf ("[%s: %s%s%s, %zu bytes base64 omitted]", kind, uri ? uri : "",
                                   uri ? ", " : "", mime ? mime : "unknown type", strlen (data));
    json_t *note = json_pack ("{s:s, s:s?}", "type", "text", "text", text);
    free (text);
    return note;
}

//  The reference conversion of text-like items: one item is
//  that item as JSON, several are a JSON array.
static char *
s_reference_text (json_t *items)
{
    if (json_array_size (items) == 1)
        return json_dumps (json_array_get (items, 0), JSON_COMPACT);
    return json_dumps (items, JSON_COMPACT);
}

//  Appends to a run of text-like items `item`, or, for media, the note
//  that stands in for it.
static void
s_run_append (json_t *run, json_t *item, media_t media, const char *mime, const char *data)
{
    if (media == MEDIA_NONE)
        json_array_append (run, item);
    else
        json_array_append_new (run, s_media_note (item, media, mime, data, false));
}

char *
formats_reference_text (json_t *content)
{
    json_t *run = json_array ();
    size_t index;
    json_t *item;
    json_array_foreach (content, index, item) {
        const char *mime, *data;
        media_t media = s_media (item, &mime, &data);
        s_run_append (run, item, media, mime, data);
    }
    char *text = s_reference_text (run);
    json_decref (run);
    return text;
}

void
formats_flush_run (const formats_provider_t *provider, json_t *run, json_t *parts)
{
    if (json_array_size (run) == 0)
        return;
    char *text = s_reference_text (run);
    json_array_append_new (parts, provider->text_part (text));
    free (text);
    json_array_clear (run);
}

char *
formats_error_prefixed (const char *text)
{
    return formats_printf ("Error: %s", text);
}

//  What the LLM reads of a failed call: the text the tool reported, else
//  the runtime's reason.
static char *
s_error_text (json_t *result, mcpact_status_t status, const char *error)
{
    if (json_is_true (json_object_get (result, "isError"))) {
        size_t size = 1;
        size_t index;
        json_t *item;
        json_array_foreach (json_object_get (result, "content"), index, item) {
            const char *text = formats_str (item, "text");
            if (text)
                size += strlen (text) + 1;
        }
        if (size > 1) {
            char *joined = (char *) calloc (1, size);
            json_array_foreach (json_object_get (result, "content"), index, item) {
                const char *text = formats_str (item, "text");
                if (!text || !joined)
                    continue;
                if (*joined)
                    strcat (joined, "\n");
                strcat (joined, text);
            }
            if (joined)
                return joined;
        }
    }
    if (error && *error)
        return strdup (error);
    return strdup (status == MCPACT_ERR_TOOL ? "the tool reported an error"
                                             : mcpact_status_name (status));
}

json_t *
formats_result (mcpact_format_t format, const char *result_json, mcpact_status_t status,
                const char *error, const char *call_id, const char *tool)
{
    if (!s_valid_format (format))
        return NULL;
    const formats_provider_t *provider = s_provider (format);
    if (!call_id)
        call_id = "";
    if (!tool)
        tool = "";
    json_t *result = result_json ? json_loads (result_json, 0, NULL) : NULL;
    if (!json_is_object (result)) {
        json_decref (result);
        result = json_object ();
    }
    json_t *content = json_object_get (result, "content");
    json_t *structured = json_object_get (result, "structuredContent");
    if (json_is_null (structured))
        structured = NULL;

    //  The runtime counts a result without content as a failure, but one
    //  with structured content alone has something to say after all
    bool failed = status != MCPACT_OK;
    if (status == MCPACT_ERR_TOOL && structured && json_array_size (content) == 0 &&
        !json_is_true (json_object_get (result, "isError")))
        failed = false;

    json_t *message = NULL;
    if (failed) {
        char *text = s_error_text (result, status, error);
        message = provider->error (result, text ? text : "error", call_id, tool);
        free (text);
    } else if (!provider->result)
        message = json_incref (result);
    else {
        //  Text-like items gather in runs; media the provider takes goes
        //  between them as its own parts (or beside the response, with a
        //  mark where it was), media it does not take becomes a note in
        //  the run
        formats_output_t output = { content,       structured,    NULL, json_array (),
                                    json_array (), json_array (), 0 };
        size_t index;
        json_t *item;
        json_array_foreach (content, index, item) {
            const char *mime, *data;
            media_t media = s_media (item, &mime, &data);
            if (media == MEDIA_IMAGE && mime && provider->carries (mime)) {
                json_t *part = provider->image_part (mime, data);
                output.carried++;
                if (provider->media_beside) {
                    json_array_append_new (output.run,
                                           s_media_note (item, media, mime, data, true));
                    json_array_append_new (output.media_parts, part);
                } else {
                    formats_flush_run (provider, output.run, output.parts);
                    json_array_append_new (output.parts, part);
                }
            } else
                s_run_append (output.run, item, media, mime, data);
        }
        //  The text when there is no content but structured content
        char *text = json_array_size (content) > 0
                         ? s_reference_text (output.run)
                         : json_dumps (structured, JSON_COMPACT | JSON_ENCODE_ANY);
        output.text = text;
        message = provider->result (&output, call_id, tool);
        free (text);
        json_decref (output.run);
        json_decref (output.parts);
        json_decref (output.media_parts);
    }
    json_decref (result);
    return message;
}

//  --------------------------------------------------------------------------
//  The public API

//  The JSON text of `message` (taken over); a minimal error if there is
//  none, so that the call-in never answers NULL.
static char *
s_message_text (json_t *message)
{
    char *text = message ? json_dumps (message, JSON_COMPACT) : NULL;
    json_decref (message);
    return text ? text
                : strdup ("{\"content\":[{\"type\":\"text\",\"text\":\"out of memory\"}],"
                          "\"isError\":true}");
}

//  A failure before any call was made, as the provider's tool result.
static json_t *
s_local_error (mcpact_format_t format, mcpact_status_t status, const char *reason,
               const char *call_id, const char *tool)
{
    json_t *result = json_pack ("{s:[{s:s, s:s?}], s:b}", "content", "type", "text", "text", reason,
                                "isError", 1);
    char *result_json = result ? json_dumps (result, JSON_COMPACT) : NULL;
    json_decref (result);
    json_t *message = formats_result (format, result_json, status, reason, call_id, tool);
    free (result_json);
    return message;
}

char *
mcpact_agent_tools_as (mcpact_agent_t *self, mcpact_format_t format, int flags)
{
    if (!self || !s_valid_format (format))
        return NULL;
    char *text = mcpact_agent_tools (self);
    json_t *tools = text ? json_loads (text, 0, NULL) : NULL;
    free (text);
    json_t *converted = formats_tools (tools, format, flags);
    json_decref (tools);
    char *out = converted ? json_dumps (converted, JSON_COMPACT) : NULL;
    json_decref (converted);
    return out;
}

char *
mcpact_agent_call_as (mcpact_agent_t *self, mcpact_format_t format, const char *tool_call_json,
                      int timeout_ms)
{
    if (!self)
        return NULL;
    if (!s_valid_format (format)) {
        char *reason = formats_printf ("unknown format %d", (int) format);
        json_t *message = s_local_error (MCPACT_FORMAT_MCP, MCPACT_ERR_ARGS, reason, NULL, NULL);
        free (reason);
        return s_message_text (message);
    }
    formats_call_t call;
    char *error = NULL;
    json_t *message = NULL;
    if (formats_call_parse (format, tool_call_json, &call, &error) == 0) {
        //  The tool is looked up afresh each time: the set changes when a
        //  server restarts or its list changes
        char *text = mcpact_agent_tools (self);
        json_t *tools = text ? json_loads (text, 0, NULL) : NULL;
        free (text);
        mcpact_status_t status;
        json_t *args = formats_call_args (tools, format, call.name, call.args, &status, &error);
        json_decref (tools);
        if (args) {
            char *args_text = json_dumps (args, JSON_COMPACT);
            json_decref (args);
            mcpact_result_t *result = mcpact_agent_call (self, call.name, args_text, timeout_ms);
            free (args_text);
            message =
                formats_result (format, mcpact_result_json (result), mcpact_result_status (result),
                                mcpact_result_error (result), call.id, call.name);
            mcpact_result_destroy (&result);
        } else
            message =
                s_local_error (format, status, error ? error : "out of memory", call.id, call.name);
    } else
        message = s_local_error (format, MCPACT_ERR_ARGS, error ? error : "out of memory", call.id,
                                 call.name);
    free (error);
    formats_call_reset (&call);
    return s_message_text (message);
}

char *
mcpact_result_as (const mcpact_result_t *self, mcpact_format_t format, const char *call_id,
                  const char *tool)
{
    if (!self || !s_valid_format (format))
        return NULL;
    json_t *message =
        formats_result (format, mcpact_result_json (self), mcpact_result_status (self),
                        mcpact_result_error (self), call_id, tool);
    char *text = message ? json_dumps (message, JSON_COMPACT) : NULL;
    json_decref (message);
    return text;
}
