/*  =========================================================================
    formats_schema - a tool's input schema in the subset each LLM API takes

    Two stages. The first turns any inputSchema into clean JSON Schema
    2020-12 with an object at the top and no alternatives there (the
    JSON subset, which OpenAI without strict mode and Anthropic take):
    allOf folded, draft-04/07 spellings rewritten, references kept only
    where they point into $defs/definitions (or at the root), arrays given
    items. The second starts from that and makes OpenAI's strict form or
    Gemini's Schema object. Anthropic's and Gemini's forms then get the
    property names their rules take (formats_names), and the sentences
    that say a choice use those names. Each rule, and which provider
    document it comes from, is in docs/formats.md. Pure functions, no
    state: any thread. Inputs are only read; outputs are new trees, which may share
    leaf values (strings, numbers) with the input by reference count.
    =========================================================================
*/

#include "formats_schema.h"

#include "formats_json.h"
#include "formats_names.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  Schemas come from servers: a deep or self-referencing one must cost a
//  cut, not the stack
#define SCHEMA_DEPTH_MAX 32

//  References expanded inside one another on one path; a reference that
//  is already being expanded further up is a cycle and is not expanded
#define REF_STACK_MAX 16

//  Schema nodes one conversion makes at most: copying references in
//  place can grow a small schema exponentially
#define NODE_BUDGET 20000

//  OpenAI strict mode's documented limits ("A schema may have up to 5000
//  object properties total, with up to 10 levels of nesting", 1000 enum
//  values, 120,000 characters of names and values, 15,000 for one enum
//  of more than 250 string values)
#define STRICT_PROPERTIES_MAX 5000
#define STRICT_NESTING_MAX 10
#define STRICT_ENUMS_MAX 1000
#define STRICT_CHARS_MAX 120000
#define STRICT_BIG_ENUM 250
#define STRICT_BIG_ENUM_CHARS 15000

//  JSON Schema's types as bits, so that a type list is one number
enum {
    T_STRING = 1,
    T_NUMBER = 2,
    T_INTEGER = 4,
    T_BOOLEAN = 8,
    T_ARRAY = 16,
    T_OBJECT = 32,
    T_NULL = 64,
};
static const char *s_type_names[] = { "string", "number", "integer", "boolean",
                                      "array",  "object", "null" };
#define TYPE_COUNT 7

//  The formats strict mode documents for strings; others are refused
static const char *s_strict_formats[] = { "date-time", "time", "date", "duration", "email",
                                          "hostname",  "ipv4", "ipv6", "uuid" };

//  One conversion's state
typedef struct {
    json_t *root;                     //  what references resolve against
    const char *stack[REF_STACK_MAX]; //  references being expanded on this path
    size_t stack_size;
    size_t budget;   //  schema nodes still to make
    bool lossy;      //  strict: the subset cannot carry the schema
    json_t *renames; //  the property names the output gives: tool's -> sent; NULL: none
} ctx_t;

//  --------------------------------------------------------------------------
//  Small helpers

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

static bool
s_in (const char *name, const char **names, size_t count)
{
    for (size_t index = 0; index < count; index++)
        if (streq (name, names[index]))
            return true;
    return false;
}

#define S_IN(name, names) s_in ((name), (names), sizeof (names) / sizeof (names)[0])

//  A type name's bit; the spellings servers use besides JSON Schema's
//  (Gemini's "STRING", Python's "int", "dict", ...) are understood
static int
s_type_bit (const char *name)
{
    static const struct {
        const char *alias;
        int bit;
    } aliases[] = { { "int", T_INTEGER }, { "float", T_NUMBER }, { "double", T_NUMBER },
                    { "str", T_STRING },  { "bool", T_BOOLEAN }, { "dict", T_OBJECT },
                    { "list", T_ARRAY } };
    if (!name)
        return 0;
    for (int index = 0; index < TYPE_COUNT; index++)
        if (strcasecmp (name, s_type_names[index]) == 0)
            return 1 << index;
    for (size_t index = 0; index < sizeof aliases / sizeof aliases[0]; index++)
        if (strcasecmp (name, aliases[index].alias) == 0)
            return aliases[index].bit;
    return 0;
}

//  The types `node` says it takes, as bits; 0 if it says none
static int
s_types (json_t *node)
{
    json_t *type = json_object_get (node, "type");
    if (json_is_string (type))
        return s_type_bit (json_string_value (type));
    int mask = 0;
    size_t index;
    json_t *item;
    json_array_foreach (type, index, item)
        mask |= s_type_bit (json_string_value (item));
    return mask;
}

//  A "type" value for `mask`: the name, or a list of them
static json_t *
s_type_value (int mask)
{
    json_t *list = json_array ();
    for (int index = 0; index < TYPE_COUNT; index++)
        if (mask & (1 << index))
            json_array_append_new (list, json_string (s_type_names[index]));
    if (json_array_size (list) != 1)
        return list;
    json_t *one = json_incref (json_array_get (list, 0));
    json_decref (list);
    return one;
}

//  The JSON type bit of a value
static int
s_value_type (json_t *value)
{
    switch (json_typeof (value)) {
    case JSON_STRING:
        return T_STRING;
    case JSON_INTEGER:
        return T_INTEGER;
    case JSON_REAL:
        return T_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE:
        return T_BOOLEAN;
    case JSON_ARRAY:
        return T_ARRAY;
    case JSON_OBJECT:
        return T_OBJECT;
    default:
        return T_NULL;
    }
}

//  The values `node` allows by enum or const, as a new array; NULL if it
//  lists none
static json_t *
s_values (json_t *node)
{
    json_t *values = json_object_get (node, "enum");
    if (json_is_array (values))
        return json_copy (values);
    if (json_object_get (node, "const"))
        return json_pack ("[O]", json_object_get (node, "const"));
    return NULL;
}

//  A count keyword's value (minLength, maxItems, ...) as a non-negative
//  integer, or NULL if it is not one
static json_t *
s_count (json_t *value)
{
    if (json_is_integer (value) && json_integer_value (value) >= 0)
        return json_integer (json_integer_value (value));
    if (json_is_real (value)) {
        double real = json_real_value (value);
        if (real >= 0 && real < 1e15 && (double) (json_int_t) real == real)
            return json_integer ((json_int_t) real);
    }
    return NULL;
}

//  Appends `text` to the description of `node`
static void
s_describe (json_t *node, const char *text)
{
    if (!text || !*text)
        return;
    const char *description = formats_str (node, "description");
    char *joined = description && *description ? formats_printf ("%s %s", description, text) : NULL;
    json_object_set_new (node, "description", json_string (joined ? joined : text));
    free (joined);
}

//  --------------------------------------------------------------------------
//  References

//  The value of hex digit `c`, or -1
static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  The schema a local reference ("#", "#/$defs/Name", any "#/a/b" JSON
//  pointer) points at in `root`, or NULL. The fragment is a URI's, so
//  percent-encoded (RFC 3986: "%20" is a space, "%2F" a slash that
//  separates); what it decodes to is a JSON pointer (RFC 6901), whose
//  tokens escape '~' as "~0" and '/' as "~1". A '%' without two hex
//  digits after it is taken as it is
static json_t *
s_ref_target (json_t *root, const char *ref)
{
    if (!ref || ref[0] != '#')
        return NULL;
    size_t size = strlen (ref);
    char *pointer = (char *) malloc (size);
    if (!pointer)
        return NULL;
    size_t out = 0;
    for (size_t in = 1; in < size; in++) {
        int high = ref[in] == '%' && in + 2 < size ? s_hex (ref[in + 1]) : -1;
        int low = high >= 0 ? s_hex (ref[in + 2]) : -1;
        if (high >= 0 && low >= 0) {
            pointer[out++] = (char) (high * 16 + low);
            in += 2;
        } else
            pointer[out++] = ref[in];
    }
    json_t *node = root;
    size_t at = 0;
    while (at < out && pointer[at] == '/' && node) {
        at++;
        size_t len = 0;
        while (at + len < out && pointer[at + len] != '/')
            len++;
        //  Unescaped in place: a token only gets shorter
        char *token = pointer + at;
        size_t kept = 0;
        for (size_t in = 0; in < len; in++) {
            if (token[in] == '~' && in + 1 < len &&
                (token[in + 1] == '0' || token[in + 1] == '1')) {
                token[kept++] = token[in + 1] == '0' ? '~' : '/';
                in++;
            } else
                token[kept++] = token[in];
        }
        if (json_is_array (node)) {
            char *end = NULL;
            char saved = token[kept];
            token[kept] = 0;
            unsigned long index = strtoul (token, &end, 10);
            bool digits = kept > 0 && end == token + kept;
            token[kept] = saved;
            node = digits ? json_array_get (node, index) : NULL;
        } else
            node = json_object_getn (node, token, kept);
        at += len;
    }
    bool whole = at >= out;
    free (pointer);
    return whole ? node : NULL;
}

//  True if `ref` is one the output keeps as it is: the root, or a
//  definition of the root's $defs/definitions, which are carried along
static bool
s_ref_kept (json_t *root, const char *ref)
{
    if (streq (ref, "#"))
        return true;
    const char *keys[] = { "$defs", "definitions" };
    for (size_t key = 0; key < 2; key++) {
        size_t len = strlen (keys[key]);
        if (strncmp (ref, "#/", 2) != 0 || strncmp (ref + 2, keys[key], len) != 0 ||
            ref[2 + len] != '/')
            continue;
        //  A name that needs escapes or decoding goes in by copy: not
        //  every reader of the output decodes them
        const char *name = ref + 3 + len;
        if (!*name || strpbrk (name, "/~%"))
            return false;
        json_t *target = json_object_get (json_object_get (root, keys[key]), name);
        return json_is_object (target) || json_is_boolean (target);
    }
    return false;
}

//  Starts expanding `ref`; false if it is already being expanded further
//  up (a cycle) or the expansions go too deep
static bool
s_enter (ctx_t *ctx, const char *ref)
{
    if (ctx->stack_size >= REF_STACK_MAX)
        return false;
    for (size_t index = 0; index < ctx->stack_size; index++)
        if (streq (ctx->stack[index], ref))
            return false;
    ctx->stack[ctx->stack_size++] = ref;
    return true;
}

static void
s_leave (ctx_t *ctx)
{
    ctx->stack_size--;
}

json_t *
formats_schema_resolve (json_t *root, json_t *schema)
{
    for (int hops = 0; hops < REF_STACK_MAX; hops++) {
        const char *ref = formats_str (schema, "$ref");
        if (!ref)
            return schema;
        schema = s_ref_target (root, ref);
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Merging

//  Puts `add`'s keywords into `out`: properties and required are joined,
//  other keywords set when `add_wins` or when `out` does not say them
static void
s_merge (json_t *out, json_t *add, bool add_wins)
{
    const char *key;
    json_t *value;
    json_object_foreach (add, key, value) {
        json_t *have = json_object_get (out, key);
        if (streq (key, "properties") && json_is_object (value) && json_is_object (have)) {
            json_t *joined = json_copy (have);
            if (add_wins)
                json_object_update (joined, value);
            else
                json_object_update_missing (joined, value);
            json_object_set_new (out, key, joined);
        } else if (streq (key, "required") && json_is_array (value) && json_is_array (have)) {
            json_t *joined = json_copy (have);
            size_t index;
            json_t *name;
            json_array_foreach (value, index, name)
                if (json_is_string (name) && !s_in_list (joined, json_string_value (name)))
                    json_array_append (joined, name);
            json_object_set_new (out, key, joined);
        } else if (add_wins || !have)
            json_object_set (out, key, value);
    }
}

//  The values of a schema that only chooses among values (a const or an
//  enum, with at most a type and words about it), or NULL
static json_t *
s_choices (json_t *schema)
{
    const char *key;
    json_t *value;
    json_object_foreach (schema, key, value)
        if (!streq (key, "const") && !streq (key, "enum") && !streq (key, "type") &&
            !streq (key, "description") && !streq (key, "title") && !streq (key, "default"))
            return NULL;
    return s_values (schema);
}

//  Adds property `name` with schema `schema` to `properties`, where it may
//  already be, from another alternative: two choices of values become one
//  enum (the usual discriminator), two different schemas an anyOf
static void
s_merge_property (json_t *properties, const char *name, json_t *schema)
{
    json_t *have = json_object_get (properties, name);
    if (!have) {
        json_object_set (properties, name, schema);
        return;
    }
    if (json_equal (have, schema))
        return;
    json_t *these = s_choices (have);
    json_t *those = s_choices (schema);
    if (these && those && s_types (have) == s_types (schema)) {
        size_t index;
        json_t *value;
        json_array_foreach (those, index, value)
            formats_append_once (these, value);
        json_t *merged = json_pack ("{s:O}", "enum", these);
        const char *keep[] = { "type", "description", "title" };
        for (size_t key = 0; key < 3; key++) {
            json_t *word = json_object_get (have, keep[key]);
            if (word)
                json_object_set (merged, keep[key], word);
        }
        json_object_set_new (properties, name, merged);
    } else if (json_object_size (have) == 1 && json_is_array (json_object_get (have, "anyOf"))) {
        json_t *branches = json_copy (json_object_get (have, "anyOf"));
        json_array_append (branches, schema);
        json_object_set_new (properties, name, json_pack ("{s:o}", "anyOf", branches));
    } else
        json_object_set_new (properties, name, json_pack ("{s:[O,O]}", "anyOf", have, schema));
    json_decref (these);
    json_decref (those);
}

//  The name a property goes by in the output: as `renames` (tool's name
//  -> the name sent) has it, or its own
static const char *
s_sent_name (json_t *renames, const char *name)
{
    const char *sent = json_string_value (json_object_get (renames, name));
    return sent ? sent : name;
}

//  What an alternative asks for, in words: its fixed values
//  ("action=create") and its required names, as the output names them
//  (`renames`); NULL if it asks for nothing, which makes the choice
//  among the alternatives no constraint at all
static char *
s_branch_label (json_t *branch, json_t *renames)
{
    json_t *properties = json_object_get (branch, "properties");
    json_t *required = json_object_get (branch, "required");
    char *fixed = NULL, *names = NULL;
    const char *name;
    json_t *schema;
    json_object_foreach (properties, name, schema) {
        json_t *values = s_values (schema);
        if (json_array_size (values) == 1) {
            json_t *value = json_array_get (values, 0);
            char *text = json_is_string (value)
                             ? strdup (json_string_value (value))
                             : json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
            char *joined = formats_printf ("%s%s%s=%s", fixed ? fixed : "", fixed ? ", " : "",
                                           s_sent_name (renames, name), text ? text : "?");
            free (text);
            free (fixed);
            fixed = joined;
        }
        json_decref (values);
    }
    size_t index;
    json_t *value;
    json_array_foreach (required, index, value) {
        const char *required_name = json_string_value (value);
        json_t *values =
            s_values (json_object_get (properties, required_name ? required_name : ""));
        bool is_fixed = json_array_size (values) == 1;
        json_decref (values);
        if (!required_name || is_fixed)
            continue;
        char *joined = formats_printf ("%s%s%s", names ? names : "", names ? " and " : "",
                                       s_sent_name (renames, required_name));
        free (names);
        names = joined;
    }
    char *label = NULL;
    if (fixed && names)
        label = formats_printf ("%s with %s", fixed, names);
    else if (fixed || names)
        label = strdup (fixed ? fixed : names);
    free (fixed);
    free (names);
    return label;
}

//  Merges the alternatives `branches` (resolved schemas) into the object
//  schema `out`: all their properties, optional unless every alternative
//  requires them. Returns the sentence that says the choice (with the
//  names `renames` gives), or NULL
static char *
s_merge_alternatives (json_t *out, json_t *branches, bool exclusive, json_t *renames)
{
    json_t *properties = json_object_get (out, "properties");
    properties = json_is_object (properties) ? json_copy (properties) : json_object ();
    json_t *common = NULL;
    char *labels = NULL;
    size_t count = 0;
    bool vacuous = false;
    size_t index;
    json_t *branch;
    json_array_foreach (branches, index, branch) {
        if (!json_is_object (branch))
            continue;
        const char *name;
        json_t *schema;
        json_object_foreach (json_object_get (branch, "properties"), name, schema)
            s_merge_property (properties, name, schema);
        int types = s_types (branch);
        if (types && !(types & T_OBJECT))
            continue; //  a string, a null: no set of arguments to choose
        json_t *required = json_object_get (branch, "required");
        if (!common)
            common = json_is_array (required) ? json_copy (required) : json_array ();
        else
            for (size_t at = json_array_size (common); at-- > 0;)
                if (!s_in_list (required, json_string_value (json_array_get (common, at))))
                    json_array_remove (common, at);
        char *label = s_branch_label (branch, renames);
        if (!label)
            vacuous = true;
        else {
            char *joined =
                formats_printf ("%s%s%s", labels ? labels : "", labels ? ", or " : "", label);
            free (labels);
            labels = joined;
        }
        free (label);
        count++;
    }
    //  Properties come from the alternatives: the schema takes objects
    int types = s_types (out);
    if (json_object_size (properties) > 0 && types && !(types & T_OBJECT))
        json_object_set_new (out, "type", s_type_value (types | T_OBJECT));
    json_object_set_new (out, "properties", properties);
    //  What every alternative requires is required
    json_t *required = json_object_get (out, "required");
    required = json_is_array (required) ? json_copy (required) : json_array ();
    json_array_foreach (common, index, branch) {
        const char *name = json_string_value (branch);
        if (name && json_object_get (properties, name) && !s_in_list (required, name))
            json_array_append (required, branch);
    }
    if (json_array_size (required) > 0)
        json_object_set_new (out, "required", required);
    else
        json_decref (required);
    json_decref (common);
    char *note = NULL;
    if (!vacuous && count > 1 && labels)
        note = formats_printf ("Provide %s of: %s.", exclusive ? "exactly one" : "at least one",
                               labels);
    free (labels);
    return note;
}

//  --------------------------------------------------------------------------
//  The JSON subset: clean JSON Schema 2020-12

static json_t *s_json (ctx_t *ctx, json_t *node, int depth);

//  Arrays must say their items (OpenAI: "array schema missing items")
static void
s_ensure_items (json_t *node)
{
    if ((s_types (node) & T_ARRAY) && !json_object_get (node, "items"))
        json_object_set_new (node, "items", json_object ());
}

//  The keywords of `node` itself (not $ref, allOf, anyOf, oneOf) into
//  `out`, each checked and in its 2020-12 form; the rest go
static void
s_json_keywords (ctx_t *ctx, json_t *node, int depth, json_t *out)
{
    static const char *count_keys[] = { "minLength", "maxLength",     "minItems",
                                        "maxItems",  "minProperties", "maxProperties" };
    static const char *text_keys[] = { "description", "title", "pattern", "format" };
    static const char *value_keys[] = { "default", "example", "const" };
    static const char *flag_keys[] = { "readOnly", "writeOnly", "deprecated" };
    json_t *required = json_array ();
    bool nullable = false, exclusive_min = false, exclusive_max = false;
    json_t *tuple = NULL;
    const char *key;
    json_t *value;
    json_object_foreach (node, key, value) {
        if (streq (key, "type")) {
            int mask = s_types (node);
            if (mask)
                json_object_set_new (out, "type", s_type_value (mask));
        } else if (streq (key, "properties") || streq (key, "patternProperties")) {
            if (!json_is_object (value))
                continue;
            json_t *converted = json_object ();
            const char *name;
            json_t *sub;
            json_object_foreach (value, name, sub) {
                //  A name that may not be given is no parameter
                if (json_is_false (sub))
                    continue;
                json_object_set_new (converted, name, s_json (ctx, sub, depth + 1));
                //  Draft 3 said "required": true on the property itself
                if (streq (key, "properties") && json_is_true (json_object_get (sub, "required")) &&
                    !s_in_list (required, name))
                    json_array_append_new (required, json_string (name));
            }
            json_object_set_new (out, key, converted);
        } else if (streq (key, "required")) {
            size_t index;
            json_t *name;
            json_array_foreach (value, index, name)
                if (json_is_string (name) && !s_in_list (required, json_string_value (name)))
                    json_array_append (required, name);
        } else if (streq (key, "additionalProperties")) {
            if (json_is_boolean (value))
                json_object_set (out, key, value);
            else if (json_is_object (value))
                json_object_set_new (out, key, s_json (ctx, value, depth + 1));
        } else if (streq (key, "items")) {
            //  Draft 7's tuple form is 2020-12's prefixItems
            if (json_is_array (value))
                tuple = value;
            else if (json_is_object (value) || json_is_boolean (value))
                json_object_set_new (out, key, s_json (ctx, value, depth + 1));
        } else if (streq (key, "prefixItems") && json_is_array (value) && !tuple)
            tuple = value;
        else if (streq (key, "not") && json_is_object (value))
            json_object_set_new (out, key, s_json (ctx, value, depth + 1));
        else if (streq (key, "enum")) {
            if (json_array_size (value) > 0)
                json_object_set_new (out, key, json_deep_copy (value));
        } else if (S_IN (key, count_keys)) {
            json_t *count = s_count (value);
            if (count)
                json_object_set_new (out, key, count);
        } else if (streq (key, "minimum") || streq (key, "maximum")) {
            if (json_is_number (value))
                json_object_set (out, key, value);
        } else if (streq (key, "exclusiveMinimum") || streq (key, "exclusiveMaximum")) {
            //  Draft 4 said it as a boolean beside minimum/maximum
            if (json_is_number (value))
                json_object_set (out, key, value);
            else if (json_is_true (value))
                *(streq (key, "exclusiveMinimum") ? &exclusive_min : &exclusive_max) = true;
        } else if (streq (key, "multipleOf")) {
            if (json_is_number (value) && json_number_value (value) > 0)
                json_object_set (out, key, value);
        } else if (S_IN (key, text_keys)) {
            if (json_is_string (value))
                json_object_set (out, key, value);
        } else if (S_IN (key, value_keys))
            json_object_set_new (out, key, json_deep_copy (value));
        else if (streq (key, "examples")) {
            if (json_is_array (value))
                json_object_set_new (out, key, json_deep_copy (value));
        } else if (S_IN (key, flag_keys)) {
            if (json_is_boolean (value))
                json_object_set (out, key, value);
        } else if (streq (key, "nullable"))
            //  OpenAPI's way to say null, which JSON Schema says in the type
            nullable = json_is_true (value);
    }
    if (exclusive_min && json_object_get (out, "minimum")) {
        json_object_set (out, "exclusiveMinimum", json_object_get (out, "minimum"));
        json_object_del (out, "minimum");
    }
    if (exclusive_max && json_object_get (out, "maximum")) {
        json_object_set (out, "exclusiveMaximum", json_object_get (out, "maximum"));
        json_object_del (out, "maximum");
    }
    if (nullable && s_types (out))
        json_object_set_new (out, "type", s_type_value (s_types (out) | T_NULL));
    if (json_array_size (required) > 0)
        json_object_set (out, "required", required);
    json_decref (required);
    if (tuple) {
        json_t *prefix = json_array ();
        size_t index;
        json_t *item;
        json_array_foreach (tuple, index, item)
            json_array_append_new (prefix, s_json (ctx, item, depth + 1));
        json_object_set_new (out, "prefixItems", prefix);
        json_t *more = json_object_get (node, "additionalItems");
        if (json_is_array (json_object_get (node, "items")) && json_is_object (more))
            json_object_set_new (out, "items", s_json (ctx, more, depth + 1));
        else if (!json_object_get (out, "items")) {
            json_object_set_new (out, "items", json_object ());
            if (json_is_false (more) && !json_object_get (out, "maxItems"))
                json_object_set_new (out, "maxItems", json_integer ((json_int_t) index));
        }
    }
}

//  `converted` (a node s_json made) with a kept reference at its top
//  copied in, so that its properties can be merged elsewhere
static json_t *
s_expand_kept (ctx_t *ctx, json_t *converted, int depth)
{
    const char *ref = formats_str (converted, "$ref");
    json_t *target = ref ? s_ref_target (ctx->root, ref) : NULL;
    if (!target || !s_enter (ctx, ref))
        return converted;
    json_t *expanded = s_json (ctx, target, depth + 1);
    s_leave (ctx);
    json_object_del (converted, "$ref");
    s_merge (converted, expanded, false);
    json_decref (expanded);
    return converted;
}

static json_t *
s_json (ctx_t *ctx, json_t *node, int depth)
{
    if (json_is_false (node))
        return json_pack ("{s:{}}", "not");
    if (!json_is_object (node))
        return json_object ();
    if (depth > SCHEMA_DEPTH_MAX || ctx->budget == 0) {
        //  Too deep or too big to copy: any value, with what it was for
        json_t *cut = json_object ();
        if (formats_str (node, "description"))
            json_object_set (cut, "description", json_object_get (node, "description"));
        return cut;
    }
    ctx->budget--;
    json_t *out = json_object ();
    const char *ref = formats_str (node, "$ref");
    if (ref && s_ref_kept (ctx->root, ref))
        json_object_set_new (out, "$ref", json_string (ref));
    else if (ref) {
        //  Elsewhere than $defs: copied in, as the pointer's place moves
        json_t *target = s_ref_target (ctx->root, ref);
        if (target && s_enter (ctx, ref)) {
            json_t *inlined = s_json (ctx, target, depth + 1);
            s_leave (ctx);
            json_object_update (out, inlined);
            json_decref (inlined);
        }
    }
    json_t *own = json_object ();
    s_json_keywords (ctx, node, depth, own);
    s_merge (out, own, true);
    json_decref (own);

    //  allOf: its branches' keywords fill in what the schema does not say
    //  itself, properties and required lists joined. Exact for the usual
    //  use, composing objects; contradicting branches are not detected
    size_t index;
    json_t *branch;
    json_array_foreach (json_object_get (node, "allOf"), index, branch) {
        json_t *converted = s_expand_kept (ctx, s_json (ctx, branch, depth + 1), depth + 1);
        s_merge (out, converted, false);
        json_decref (converted);
    }
    const char *branch_keys[] = { "anyOf", "oneOf" };
    for (size_t key = 0; key < 2; key++) {
        json_t *branches = json_object_get (node, branch_keys[key]);
        if (!json_is_array (branches) || json_array_size (branches) == 0)
            continue;
        json_t *converted = json_array ();
        json_array_foreach (branches, index, branch)
            json_array_append_new (converted, s_json (ctx, branch, depth + 1));
        json_object_set_new (out, branch_keys[key], converted);
    }
    s_ensure_items (out);
    return out;
}

//  The JSON-subset form of a whole input schema: an object at the top
//  with alternatives there merged (*note says them), definitions along
static json_t *
s_json_root (json_t *input, char **note, json_t *renames)
{
    *note = NULL;
    json_t *empty = json_is_object (input) ? NULL : json_object ();
    ctx_t ctx = { .root = empty ? empty : input, .budget = NODE_BUDGET, .renames = renames };
    json_t *out = s_expand_kept (&ctx, s_json (&ctx, ctx.root, 0), 0);

    //  Alternatives at the top, which no provider takes there: one object
    //  of all their properties, and a sentence that says the choice
    const char *branch_keys[] = { "anyOf", "oneOf" };
    for (size_t key = 0; key < 2; key++) {
        json_t *branches = json_object_get (out, branch_keys[key]);
        if (!branches)
            continue;
        json_t *resolved = json_array ();
        size_t index;
        json_t *branch;
        json_array_foreach (branches, index, branch)
            json_array_append_new (resolved, s_expand_kept (&ctx, json_copy (branch), 1));
        json_object_del (out, branch_keys[key]);
        char *said = s_merge_alternatives (out, resolved, key == 1, ctx.renames);
        json_decref (resolved);
        if (said) {
            char *joined = *note ? formats_printf ("%s %s", *note, said) : NULL;
            free (*note);
            *note = joined ? joined : said;
            if (joined)
                free (said);
        }
    }
    //  What OpenAI refuses at the top besides: enum, not; and a top that
    //  is not an object is not a set of arguments
    const char *top_keys[] = { "$ref", "enum", "const", "not", "items", "prefixItems" };
    for (size_t key = 0; key < sizeof top_keys / sizeof top_keys[0]; key++)
        json_object_del (out, top_keys[key]);
    json_object_set_new (out, "type", json_string ("object"));
    if (!json_is_object (json_object_get (out, "properties")))
        json_object_set_new (out, "properties", json_object ());
    //  The definitions the kept references point into
    const char *defs_keys[] = { "$defs", "definitions" };
    for (size_t key = 0; key < 2; key++) {
        json_t *defs = json_object_get (ctx.root, defs_keys[key]);
        if (!json_is_object (defs))
            continue;
        json_t *converted = json_object ();
        const char *name;
        json_t *def;
        json_object_foreach (defs, name, def)
            json_object_set_new (converted, name, s_json (&ctx, def, 1));
        json_object_set_new (out, defs_keys[key], converted);
    }
    json_decref (empty);
    return out;
}

//  --------------------------------------------------------------------------
//  Shared by strict mode and Gemini, which start from the JSON subset

//  True if `node` has a shape of its own beside any alternatives
static bool
s_has_shape (json_t *node)
{
    return s_types (node) != 0 || json_object_get (node, "properties") ||
           json_object_get (node, "items");
}

//  `node` (a copy is made) with the alternatives beside its own shape
//  merged into it: neither strict mode nor Gemini takes a type and an
//  anyOf together. The choice goes into its description
static json_t *
s_fold_alternatives (ctx_t *ctx, json_t *node)
{
    json_t *out = json_deep_copy (node);
    const char *branch_keys[] = { "anyOf", "oneOf" };
    for (size_t key = 0; key < 2; key++) {
        json_t *branches = json_object_get (out, branch_keys[key]);
        if (!branches)
            continue;
        json_t *resolved = json_array ();
        size_t index;
        json_t *branch;
        json_array_foreach (branches, index, branch) {
            json_t *target = formats_schema_resolve (ctx->root, branch);
            json_array_append (resolved, target ? target : branch);
        }
        json_object_del (out, branch_keys[key]);
        char *said = s_merge_alternatives (out, resolved, key == 1, ctx->renames);
        json_decref (resolved);
        s_describe (out, said);
        free (said);
    }
    return out;
}

//  The type an untyped schema is meant to have, from its other keywords
//  and its values; 0 if it could be anything
static int
s_implied_type (json_t *node)
{
    json_t *values = s_values (node);
    int mask = 0;
    size_t index;
    json_t *value;
    json_array_foreach (values, index, value)
        mask |= s_value_type (value);
    json_decref (values);
    if (mask & T_NUMBER)
        mask &= ~T_INTEGER;
    //  Keywords of several types say several types
    if (json_object_get (node, "properties") || json_object_get (node, "additionalProperties") ||
        json_object_get (node, "patternProperties"))
        mask |= T_OBJECT;
    if (json_object_get (node, "items") || json_object_get (node, "prefixItems"))
        mask |= T_ARRAY;
    if (json_object_get (node, "pattern") || json_object_get (node, "format") ||
        json_object_get (node, "minLength") || json_object_get (node, "maxLength"))
        mask |= T_STRING;
    if (json_object_get (node, "minimum") || json_object_get (node, "maximum") ||
        json_object_get (node, "exclusiveMinimum") || json_object_get (node, "exclusiveMaximum") ||
        json_object_get (node, "multipleOf"))
        mask |= T_NUMBER;
    return mask;
}

//  `node` narrowed to the one type `bit`: the keywords that belong to the
//  other types go, and so do values of other types
static json_t *
s_narrow (json_t *node, int bit)
{
    static const char *object_keys[] = { "properties",    "required",      "additionalProperties",
                                         "minProperties", "maxProperties", "patternProperties" };
    static const char *array_keys[] = { "items", "prefixItems", "minItems", "maxItems" };
    static const char *string_keys[] = { "pattern", "format", "minLength", "maxLength" };
    static const char *number_keys[] = { "minimum", "maximum", "exclusiveMinimum",
                                         "exclusiveMaximum", "multipleOf" };
    json_t *out = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach (node, key, value) {
        if ((S_IN (key, object_keys) && bit != T_OBJECT) ||
            (S_IN (key, array_keys) && bit != T_ARRAY) ||
            (S_IN (key, string_keys) && bit != T_STRING) ||
            (S_IN (key, number_keys) && bit != T_NUMBER && bit != T_INTEGER) ||
            streq (key, "type") || streq (key, "anyOf") || streq (key, "oneOf") ||
            streq (key, "const"))
            continue;
        json_object_set (out, key, value);
    }
    json_object_set_new (out, "type", s_type_value (bit));
    json_t *values = s_values (node);
    if (values) {
        json_t *kept = json_array ();
        size_t index;
        json_array_foreach (values, index, value) {
            int type = s_value_type (value);
            if (type == bit || (bit == T_NUMBER && type == T_INTEGER))
                json_array_append (kept, value);
        }
        if (json_array_size (kept) > 0)
            json_object_set (out, "enum", kept);
        else
            json_object_del (out, "enum");
        json_decref (kept);
        json_decref (values);
    }
    return out;
}

//  The schema a tuple's items stand for when the subset has no tuples:
//  any of the positions' schemas
static json_t *
s_tuple_items (json_t *node)
{
    json_t *prefix = json_object_get (node, "prefixItems");
    json_t *items = json_object_get (node, "items");
    if (!json_is_array (prefix))
        return json_incref (items);
    json_t *branches = json_array ();
    size_t index;
    json_t *item;
    json_array_foreach (prefix, index, item)
        formats_append_once (branches, item);
    if (json_object_size (items) > 0)
        json_array_append (branches, items);
    if (json_array_size (branches) == 1) {
        json_t *one = json_incref (json_array_get (branches, 0));
        json_decref (branches);
        return one;
    }
    return json_pack ("{s:o}", "anyOf", branches);
}

//  True if `node` puts no constraint at all on the value
static bool
s_is_any (json_t *node)
{
    return json_is_object (node) && !s_types (node) && !s_implied_type (node) &&
           !json_object_get (node, "anyOf") && !json_object_get (node, "oneOf") &&
           !json_object_get (node, "$ref") && !json_object_get (node, "not");
}

//  --------------------------------------------------------------------------
//  OpenAI strict mode

static json_t *s_strict (ctx_t *ctx, json_t *node, int depth, bool top);

//  True if null is a value `schema` (a strict-form schema) lets through
static bool
s_admits_null (json_t *schema)
{
    if (s_types (schema) & T_NULL)
        return true;
    size_t index;
    json_t *branch;
    json_array_foreach (json_object_get (schema, "anyOf"), index, branch)
        if (s_admits_null (branch))
            return true;
    return false;
}

//  `schema` (taken over) with null added to what it admits: to its type
//  (and enum), as an anyOf branch, or by wrapping it in an anyOf
static json_t *
s_nullable (json_t *schema)
{
    if (s_admits_null (schema))
        return schema;
    int types = s_types (schema);
    if (types && !json_object_get (schema, "const")) {
        json_object_set_new (schema, "type", s_type_value (types | T_NULL));
        json_t *values = json_object_get (schema, "enum");
        if (json_is_array (values)) {
            values = json_copy (values);
            json_array_append_new (values, json_null ());
            json_object_set_new (schema, "enum", values);
        }
        return schema;
    }
    json_t *branches = json_object_get (schema, "anyOf");
    if (json_is_array (branches)) {
        branches = json_copy (branches);
        json_array_append_new (branches, json_pack ("{s:s}", "type", "null"));
        json_object_set_new (schema, "anyOf", branches);
        return schema;
    }
    return json_pack ("{s:[o,{s:s}]}", "anyOf", schema, "type", "null");
}

//  The strict form of one typed node
static json_t *
s_strict_typed (ctx_t *ctx, json_t *node, int depth, bool top, int types)
{
    json_t *out = json_pack ("{s:o}", "type", s_type_value (types));
    const char *words[] = { "description", "title" };
    for (size_t key = 0; key < 2; key++)
        if (formats_str (node, words[key]))
            json_object_set (out, words[key], json_object_get (node, words[key]));
    json_t *values = json_object_get (node, "enum");
    if (json_is_array (values))
        json_object_set (out, "enum", values);
    if (json_object_get (node, "const"))
        json_object_set (out, "const", json_object_get (node, "const"));
    int kind = types & ~T_NULL;
    if (kind == T_STRING) {
        if (formats_str (node, "pattern"))
            json_object_set (out, "pattern", json_object_get (node, "pattern"));
        const char *format = formats_str (node, "format");
        if (format && S_IN (format, s_strict_formats))
            json_object_set (out, "format", json_object_get (node, "format"));
    } else if (kind == T_NUMBER || kind == T_INTEGER) {
        const char *keys[] = { "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                               "multipleOf" };
        for (size_t key = 0; key < 5; key++)
            if (json_object_get (node, keys[key]))
                json_object_set (out, keys[key], json_object_get (node, keys[key]));
    } else if (kind == T_ARRAY) {
        const char *keys[] = { "minItems", "maxItems" };
        for (size_t key = 0; key < 2; key++)
            if (json_object_get (node, keys[key]))
                json_object_set (out, keys[key], json_object_get (node, keys[key]));
        json_t *items = s_tuple_items (node);
        json_object_set_new (out, "items", s_strict (ctx, items, depth + 1, false));
        json_decref (items);
    } else if (kind == T_OBJECT) {
        json_t *properties = json_object_get (node, "properties");
        //  A map, or an object of any keys: strict mode would close it and
        //  the keys the LLM could give would be lost
        if (!top && json_object_size (properties) == 0 &&
            !json_is_false (json_object_get (node, "additionalProperties")))
            ctx->lossy = true;
        json_t *required = json_object_get (node, "required");
        json_t *converted = json_object ();
        json_t *all = json_array ();
        const char *name;
        json_t *property;
        json_object_foreach (properties, name, property) {
            json_t *strict = s_strict (ctx, property, depth + 1, false);
            //  Strict mode sends every property; one the LLM may leave
            //  out must be one it may send as null instead
            if (!s_in_list (required, name))
                strict = s_nullable (strict);
            json_object_set_new (converted, name, strict);
            json_array_append_new (all, json_string (name));
        }
        json_object_set_new (out, "properties", converted);
        json_object_set_new (out, "required", all);
        json_object_set_new (out, "additionalProperties", json_false ());
    }
    return out;
}

static json_t *
s_strict (ctx_t *ctx, json_t *node, int depth, bool top)
{
    if (!json_is_object (node) || depth > SCHEMA_DEPTH_MAX || ctx->budget == 0) {
        ctx->lossy = true;
        return json_object ();
    }
    ctx->budget--;
    const char *ref = formats_str (node, "$ref");
    if (ref && json_object_size (node) == 1)
        return json_pack ("{s:s}", "$ref", ref);
    if (ref) {
        //  Strict mode takes a reference only on its own (OpenAI's SDK
        //  copies the target in when other keywords stand beside it)
        json_t *target = s_ref_target (ctx->root, ref);
        if (!target || !s_enter (ctx, ref)) {
            ctx->lossy = true;
            return json_object ();
        }
        json_t *merged = json_deep_copy (target);
        s_merge (merged, node, true);
        json_object_del (merged, "$ref");
        json_t *out = s_strict (ctx, merged, depth + 1, top);
        s_leave (ctx);
        json_decref (merged);
        return out;
    }
    if ((json_object_get (node, "anyOf") || json_object_get (node, "oneOf")) &&
        (top || s_has_shape (node))) {
        json_t *folded = s_fold_alternatives (ctx, node);
        json_t *out = s_strict (ctx, folded, depth, top);
        json_decref (folded);
        return out;
    }
    json_t *branches = json_object_get (node, "anyOf");
    if (!branches)
        branches = json_object_get (node, "oneOf");
    if (branches) {
        //  oneOf is taken as anyOf, the nearest strict mode has
        json_t *out = json_object ();
        json_t *converted = json_array ();
        size_t index;
        json_t *branch;
        json_array_foreach (branches, index, branch)
            json_array_append_new (converted, s_strict (ctx, branch, depth + 1, false));
        json_object_set_new (out, "anyOf", converted);
        const char *words[] = { "description", "title" };
        for (size_t key = 0; key < 2; key++)
            if (formats_str (node, words[key]))
                json_object_set (out, words[key], json_object_get (node, words[key]));
        return out;
    }
    int types = s_types (node);
    if (!types)
        types = s_implied_type (node);
    if (!types) {
        //  A value of any type: strict mode has no way to say it
        ctx->lossy = true;
        return json_object ();
    }
    int kinds = types & ~T_NULL;
    if (kinds && (kinds & (kinds - 1))) {
        //  Several types: one branch each (a type list with null is fine)
        json_t *converted = json_array ();
        for (int index = 0; index < TYPE_COUNT; index++) {
            int bit = 1 << index;
            if (!(types & bit))
                continue;
            json_t *narrow = s_narrow (node, bit);
            json_array_append_new (converted, s_strict (ctx, narrow, depth + 1, false));
            json_decref (narrow);
        }
        json_t *out = json_pack ("{s:o}", "anyOf", converted);
        if (formats_str (node, "description"))
            json_object_set (out, "description", json_object_get (node, "description"));
        return out;
    }
    return s_strict_typed (ctx, node, depth, top, types);
}

//  Counts what strict mode limits in `node`, at object nesting `level`
typedef struct {
    size_t properties, enums, chars;
    int nesting;
    bool over;
} limits_t;

static void
s_limits (json_t *node, int level, limits_t *limits)
{
    if (!json_is_object (node) || level > SCHEMA_DEPTH_MAX * 2)
        return;
    json_t *properties = json_object_get (node, "properties");
    if ((s_types (node) & T_OBJECT) || properties) {
        level++;
        if (level > limits->nesting)
            limits->nesting = level;
    }
    const char *name;
    json_t *sub;
    json_object_foreach (properties, name, sub) {
        limits->properties++;
        limits->chars += strlen (name);
        s_limits (sub, level, limits);
    }
    json_t *values = json_object_get (node, "enum");
    size_t enum_chars = 0;
    size_t index;
    json_t *value;
    json_array_foreach (values, index, value)
        if (json_is_string (value))
            enum_chars += json_string_length (value);
    limits->enums += json_array_size (values);
    limits->chars += enum_chars;
    if (json_array_size (values) > STRICT_BIG_ENUM && enum_chars > STRICT_BIG_ENUM_CHARS)
        limits->over = true;
    if (json_is_string (json_object_get (node, "const")))
        limits->chars += json_string_length (json_object_get (node, "const"));
    s_limits (json_object_get (node, "items"), level, limits);
    json_array_foreach (json_object_get (node, "anyOf"), index, sub)
        s_limits (sub, level, limits);
    const char *defs_keys[] = { "$defs", "definitions" };
    for (size_t key = 0; key < 2; key++)
        json_object_foreach (json_object_get (node, defs_keys[key]), name, sub) {
            limits->chars += strlen (name);
            s_limits (sub, 0, limits);
        }
}

//  The strict form of a JSON-subset schema, or NULL if strict mode
//  cannot carry it
static json_t *
s_strict_root (json_t *normal)
{
    ctx_t ctx = { .root = normal, .budget = NODE_BUDGET };
    json_t *out = s_strict (&ctx, normal, 0, true);
    const char *defs_keys[] = { "$defs", "definitions" };
    for (size_t key = 0; key < 2; key++) {
        json_t *defs = json_object_get (normal, defs_keys[key]);
        if (!json_is_object (defs))
            continue;
        json_t *converted = json_object ();
        const char *name;
        json_t *def;
        json_object_foreach (defs, name, def)
            json_object_set_new (converted, name, s_strict (&ctx, def, 1, false));
        json_object_set_new (out, defs_keys[key], converted);
    }
    limits_t limits = { 0 };
    s_limits (out, 0, &limits);
    if (limits.properties > STRICT_PROPERTIES_MAX || limits.nesting > STRICT_NESTING_MAX ||
        limits.enums > STRICT_ENUMS_MAX || limits.chars > STRICT_CHARS_MAX)
        limits.over = true;
    if (ctx.lossy || limits.over) {
        json_decref (out);
        return NULL;
    }
    return out;
}

//  --------------------------------------------------------------------------
//  Gemini

static json_t *s_gemini (ctx_t *ctx, json_t *node, int depth);

//  A value Gemini's Schema cannot describe (an object of any keys, a
//  structure that refers to itself) goes as JSON text in a string; the
//  call's arguments are decoded again before the server sees them
static json_t *
s_gemini_text (json_t *node, int types)
{
    json_t *out = json_pack ("{s:s}", "type", "string");
    const char *description = formats_str (node, "description");
    const char *what = (types & ~T_NULL) == T_ARRAY ? "a JSON array" : "a JSON object";
    char *text = description && *description
                     ? formats_printf ("%s (%s, as a string)", description, what)
                     : formats_printf ("%s, as a string", what);
    json_object_set_new (out, "description", json_string (text ? text : what));
    free (text);
    if (types & T_NULL)
        json_object_set_new (out, "nullable", json_true ());
    return out;
}

//  The annotations Gemini's Schema documents, copied from `node`
static void
s_gemini_words (json_t *node, json_t *out)
{
    const char *keys[] = { "description", "title", "default", "example" };
    for (size_t key = 0; key < 4; key++) {
        json_t *value = json_object_get (node, keys[key]);
        if (value)
            json_object_set (out, keys[key], value);
    }
}

//  Gemini's enum is a list of strings: other values are said in the
//  description instead, and give the type when the schema has none.
//  Returns the types left to describe
static int
s_gemini_values (json_t *node, json_t *out, int types)
{
    json_t *values = s_values (node);
    if (!values)
        return types;
    json_t *strings = json_array ();
    json_t *others = json_array ();
    size_t index;
    json_t *value;
    json_array_foreach (values, index, value) {
        if (json_is_null (value))
            json_object_set_new (out, "nullable", json_true ());
        else
            json_array_append (json_is_string (value) ? strings : others, value);
    }
    if (json_array_size (others) == 0 && json_array_size (strings) > 0) {
        json_object_set (out, "enum", strings);
        //  An object or an array beside the values keeps its own branch
        if (!(types & (T_OBJECT | T_ARRAY)))
            types = T_STRING | (types & T_NULL);
    } else if (json_array_size (others) > 0) {
        char *list = json_dumps (json_array_size (strings) ? values : others, JSON_COMPACT);
        const char *description = formats_str (out, "description");
        char *note = description && *description
                         ? formats_printf ("%s (one of %s)", description, list ? list : "?")
                         : formats_printf ("one of %s", list ? list : "?");
        json_object_set_new (out, "description", json_string (note ? note : "?"));
        free (note);
        free (list);
        if (json_array_size (strings) == 0) {
            int kinds = 0;
            json_array_foreach (others, index, value)
                kinds |= s_value_type (value);
            if (kinds & T_NUMBER)
                kinds &= ~T_INTEGER;
            if (!(types & ~T_NULL))
                types = kinds;
        }
    }
    json_decref (strings);
    json_decref (others);
    json_decref (values);
    return types;
}

//  Adds `text` to the description of `out`, in parentheses after what
//  it says already
static void
s_gemini_say (json_t *out, const char *text)
{
    const char *description = formats_str (out, "description");
    char *said =
        description && *description ? formats_printf ("%s (%s)", description, text) : strdup (text);
    if (said)
        json_object_set_new (out, "description", json_string (said));
    free (said);
}

//  The formats Gemini's Schema takes, by type ("Supported formats: for
//  NUMBER type: float, double for INTEGER type: int32, int64 for STRING
//  type: enum, date-time"); any other is refused with "only 'enum' and
//  'date-time' are supported for STRING type". Another format of
//  `node` goes into the description, where it still tells the LLM what
//  to write
static void
s_gemini_format (json_t *node, json_t *out, int kind)
{
    static const char *string_formats[] = { "enum", "date-time" };
    static const char *integer_formats[] = { "int32", "int64" };
    static const char *number_formats[] = { "float", "double" };
    const char *format = formats_str (node, "format");
    if (!format)
        return;
    bool taken = kind == T_STRING    ? S_IN (format, string_formats)
                 : kind == T_INTEGER ? S_IN (format, integer_formats)
                 : kind == T_NUMBER  ? S_IN (format, number_formats)
                                     : false;
    //  "enum" says the string is one of the enum's values, so only beside one
    if (taken && streq (format, "enum") && !json_object_get (out, "enum"))
        return;
    if (taken) {
        json_object_set (out, "format", json_object_get (node, "format"));
        return;
    }
    char *text = formats_printf ("format: %s", format);
    if (text)
        s_gemini_say (out, text);
    free (text);
}

//  A schema too deep or too big to write out: a value of an object or an
//  array kind goes as JSON text, one of scalar types as those types, any
//  value as a string
static json_t *
s_gemini_cut (json_t *node)
{
    int types = s_types (node) ? s_types (node) : s_implied_type (node);
    int kinds = types & ~T_NULL;
    if (kinds & (T_OBJECT | T_ARRAY))
        return s_gemini_text (node, types);
    json_t *out = json_object ();
    if (kinds & (kinds - 1)) {
        json_t *branches = json_array ();
        for (int index = 0; index < TYPE_COUNT; index++)
            if (kinds & (1 << index))
                json_array_append_new (branches,
                                       json_pack ("{s:o}", "type", s_type_value (1 << index)));
        json_object_set_new (out, "anyOf", branches);
    } else
        json_object_set_new (out, "type", s_type_value (kinds ? kinds : T_STRING));
    s_gemini_words (node, out);
    if (types & T_NULL)
        json_object_set_new (out, "nullable", json_true ());
    return out;
}

static json_t *
s_gemini (ctx_t *ctx, json_t *node, int depth)
{
    if (!json_is_object (node))
        return json_pack ("{s:s}", "type", "string");
    if (depth > SCHEMA_DEPTH_MAX || ctx->budget == 0)
        return s_gemini_cut (node);
    ctx->budget--;
    const char *ref = formats_str (node, "$ref");
    if (ref) {
        //  Gemini has no references: the target is copied in, and the
        //  referring schema's own keywords (a description) win
        json_t *target = s_ref_target (ctx->root, ref);
        if (!json_is_object (target)) {
            json_t *rest = json_copy (node);
            json_object_del (rest, "$ref");
            json_t *out = s_gemini (ctx, rest, depth + 1);
            json_decref (rest);
            return out;
        }
        json_t *merged = json_deep_copy (target);
        s_merge (merged, node, true);
        json_object_del (merged, "$ref");
        if (!s_enter (ctx, ref)) {
            //  A cycle: the rest goes as text
            int types = s_types (merged) ? s_types (merged) : s_implied_type (merged);
            json_t *out = s_gemini_text (merged, types & ~T_NULL ? types : types | T_OBJECT);
            json_decref (merged);
            return out;
        }
        json_t *out = s_gemini (ctx, merged, depth + 1);
        s_leave (ctx);
        json_decref (merged);
        return out;
    }
    if ((json_object_get (node, "anyOf") || json_object_get (node, "oneOf")) &&
        (depth == 0 || s_has_shape (node))) {
        json_t *folded = s_fold_alternatives (ctx, node);
        json_t *out = s_gemini (ctx, folded, depth);
        json_decref (folded);
        return out;
    }
    json_t *branches = json_object_get (node, "anyOf");
    if (!branches)
        branches = json_object_get (node, "oneOf");
    json_t *out = json_object ();
    if (branches) {
        //  A null branch becomes nullable; a branch that takes anything is
        //  a string, which anything takes; one branch left is the schema
        bool any = false;
        json_t *kept = json_array ();
        size_t index;
        json_t *branch;
        json_array_foreach (branches, index, branch) {
            json_t *target = formats_schema_resolve (ctx->root, branch);
            if (target && s_types (target) == T_NULL && !json_object_get (target, "anyOf"))
                json_object_set_new (out, "nullable", json_true ());
            else if (!target || s_is_any (target))
                any = true;
            else
                json_array_append_new (kept, s_gemini (ctx, branch, depth + 1));
        }
        if (any || json_array_size (kept) == 0)
            json_array_append_new (kept, json_pack ("{s:s}", "type", "string"));
        if (json_array_size (kept) == 1) {
            json_t *one = json_array_get (kept, 0);
            //  The node's own words win, but a value sent as JSON text
            //  keeps saying so
            const char *said = formats_str (one, "description");
            char *text = said && strstr (said, ", as a string") ? strdup (said) : NULL;
            s_gemini_words (node, one);
            if (text && formats_str (node, "description")) {
                const char *what = strstr (text, "a JSON ");
                char *joined =
                    formats_printf ("%s (%.*s)", formats_str (node, "description"),
                                    (int) strcspn (what ? what : "", ")"), what ? what : "");
                json_object_set_new (one, "description", json_string (joined ? joined : text));
                free (joined);
            }
            free (text);
            if (json_object_get (out, "nullable"))
                json_object_set_new (one, "nullable", json_true ());
            json_decref (out);
            out = json_incref (one);
            json_decref (kept);
            return out;
        } else
            json_object_set (out, "anyOf", kept);
        json_decref (kept);
        s_gemini_words (node, out);
        return out;
    }

    s_gemini_words (node, out);
    int types = s_types (node);
    if (!types)
        types = s_implied_type (node);
    types = s_gemini_values (node, out, types);
    if (types & T_NULL)
        json_object_set_new (out, "nullable", json_true ());
    int kinds = types & ~T_NULL;
    if (kinds == 0)
        kinds = T_STRING; //  any value: a string, which any schema takes
    if (kinds & (kinds - 1)) {
        //  Several types: an anyOf of one each (type and anyOf may not
        //  both be set)
        json_t *converted = json_array ();
        for (int index = 0; index < TYPE_COUNT; index++) {
            int bit = 1 << index;
            if (!(kinds & bit))
                continue;
            json_t *narrow = s_narrow (node, bit);
            json_object_del (narrow, "description");
            json_array_append_new (converted, s_gemini (ctx, narrow, depth + 1));
            json_decref (narrow);
        }
        json_object_set_new (out, "anyOf", converted);
        json_object_del (out, "enum");
        return out;
    }
    if (kinds == T_OBJECT) {
        json_t *properties = json_object_get (node, "properties");
        if (json_object_size (properties) == 0 && depth > 0) {
            json_t *text = s_gemini_text (node, types);
            json_decref (out);
            return text;
        }
        json_t *converted = json_object ();
        const char *name;
        json_t *property;
        json_object_foreach (properties, name, property)
            json_object_set_new (converted, name, s_gemini (ctx, property, depth + 1));
        json_object_set_new (out, "properties", converted);
        //  Only names it declares: Gemini checks required against them
        json_t *kept = json_array ();
        size_t index;
        json_t *name_value;
        json_array_foreach (json_object_get (node, "required"), index, name_value)
            if (json_object_get (converted, json_string_value (name_value)))
                json_array_append (kept, name_value);
        if (json_array_size (kept) > 0)
            json_object_set (out, "required", kept);
        json_decref (kept);
        const char *keys[] = { "minProperties", "maxProperties" };
        for (size_t key = 0; key < 2; key++)
            if (json_object_get (node, keys[key]))
                json_object_set (out, keys[key], json_object_get (node, keys[key]));
    } else if (kinds == T_ARRAY) {
        json_t *items = s_tuple_items (node);
        json_object_set_new (out, "items", s_gemini (ctx, items, depth + 1));
        json_decref (items);
        const char *keys[] = { "minItems", "maxItems" };
        for (size_t key = 0; key < 2; key++)
            if (json_object_get (node, keys[key]))
                json_object_set (out, keys[key], json_object_get (node, keys[key]));
    } else if (kinds == T_STRING) {
        const char *keys[] = { "pattern", "minLength", "maxLength" };
        for (size_t key = 0; key < 3; key++)
            if (json_object_get (node, keys[key]))
                json_object_set (out, keys[key], json_object_get (node, keys[key]));
        s_gemini_format (node, out, kinds);
    } else if (kinds == T_NUMBER || kinds == T_INTEGER) {
        const char *keys[] = { "minimum", "maximum" };
        for (size_t key = 0; key < 2; key++)
            if (json_object_get (node, keys[key]))
                json_object_set (out, keys[key], json_object_get (node, keys[key]));
        s_gemini_format (node, out, kinds);
    }
    if (kinds != T_STRING)
        json_object_del (out, "enum");
    //  The type first, for whoever reads it
    json_t *ordered = json_pack ("{s:o}", "type", s_type_value (kinds));
    json_object_update (ordered, out);
    json_decref (out);
    return ordered;
}

//  The Gemini form of a JSON-subset schema, or NULL if it declares no
//  parameters (Gemini refuses an OBJECT without properties)
static json_t *
s_gemini_root (json_t *normal, json_t *renames)
{
    ctx_t ctx = { .root = normal, .budget = NODE_BUDGET, .renames = renames };
    json_t *out = s_gemini (&ctx, normal, 0);
    if (json_object_size (json_object_get (out, "properties")) == 0) {
        json_decref (out);
        return NULL;
    }
    return out;
}

//  --------------------------------------------------------------------------
//  What a value may be

static int
s_takes (json_t *root, json_t *schema, int depth)
{
    schema = formats_schema_resolve (root, schema);
    if (!json_is_object (schema) || depth > SCHEMA_DEPTH_MAX)
        return FORMATS_TAKES_ANY;
    if ((json_object_get (schema, "anyOf") || json_object_get (schema, "oneOf")) &&
        s_has_shape (schema)) {
        //  Alternatives beside a shape of its own are merged into it, as
        //  the strict and Gemini forms do
        ctx_t ctx = { .root = root, .budget = NODE_BUDGET };
        json_t *folded = s_fold_alternatives (&ctx, schema);
        int takes = s_takes (root, folded, depth + 1);
        json_decref (folded);
        return takes;
    }
    int types = s_types (schema);
    bool said = types != 0;
    const char *branch_keys[] = { "anyOf", "oneOf" };
    int branches = 0;
    for (size_t key = 0; key < 2; key++) {
        size_t index;
        json_t *branch;
        json_array_foreach (json_object_get (schema, branch_keys[key]), index, branch) {
            said = true;
            branches |= s_takes (root, branch, depth + 1);
        }
    }
    if (!said)
        types = s_implied_type (schema);
    if (!said && !types)
        return FORMATS_TAKES_ANY;
    int takes = branches;
    if (types & T_STRING)
        takes |= FORMATS_TAKES_STRING;
    if (types & T_OBJECT)
        takes |= FORMATS_TAKES_OBJECT;
    if (types & T_ARRAY)
        takes |= FORMATS_TAKES_ARRAY;
    if (types & (T_NUMBER | T_INTEGER | T_BOOLEAN | T_NULL))
        takes |= FORMATS_TAKES_OTHER;
    return takes;
}

int
formats_schema_takes (json_t *root, json_t *schema)
{
    return s_takes (root, schema, 0);
}

//  --------------------------------------------------------------------------

json_t *
formats_schema (json_t *input, formats_schema_t subset, char **note)
{
    json_t *renames = formats_names_renames (input, subset);
    char *said = NULL;
    json_t *out = s_json_root (input, &said, renames);
    if (subset == FORMATS_SCHEMA_STRICT || subset == FORMATS_SCHEMA_GEMINI) {
        json_t *normal = out;
        out = subset == FORMATS_SCHEMA_STRICT ? s_strict_root (normal)
                                              : s_gemini_root (normal, renames);
        json_decref (normal);
    }
    if (out && renames) {
        //  Renamed in a copy of its own: a schema met twice is noted once
        json_t *copy = json_deep_copy (out);
        json_decref (out);
        out = copy;
        formats_names_apply (out, renames);
    }
    json_decref (renames);
    if (note && out)
        *note = said;
    else {
        if (note)
            *note = NULL;
        free (said);
    }
    return out;
}
