/*  =========================================================================
    schema_check - is a tool schema inside a provider's subset, and does it
    still carry every parameter?

    A checker written apart from formats/formats_schema.c, from the providers'
    documented rules (docs/formats.md): sc_subset_problem says whether a
    schema lies inside the JSON, strict, Gemini or Anthropic subset (the
    last: JSON with the property keys Anthropic takes); sc_params_problem
    whether every parameter (property path, "a.b", "list[].c") of the input
    schema is still there in the output (under a new name that its
    description gives back), or inside a value the output carries whole
    as JSON text; sc_call_problem whether arguments written
    after the output reach the tool under its own names with that JSON
    text decoded (through formats_call_args); sc_tools_problem checks a
    formats_tools output all three ways, tool by tool, and the
    description against the provider's limit. Each returns NULL, or a malloc'ed
    reason that names the place. Header-only, static functions, for the
    tests and the fuzz target; single-threaded use.
    =========================================================================
*/

#ifndef MCPACT_SCHEMA_CHECK_H_INCLUDED
#define MCPACT_SCHEMA_CHECK_H_INCLUDED

#include "formats.h"
#include "formats_schema.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  How deep the checks go, and how many schema nodes a path walk visits
//  before it gives up (a schema of references can grow exponentially)
#define SC_DEPTH_MAX 200
#define SC_INPUT_DEPTH 12
#define SC_OUTPUT_DEPTH 48
#define SC_WALK_BUDGET 20000
#define SC_REF_STACK 16

enum {
    SC_STRING = 1,
    SC_NUMBER = 2,
    SC_INTEGER = 4,
    SC_BOOLEAN = 8,
    SC_ARRAY = 16,
    SC_OBJECT = 32,
    SC_NULL = 64,
    SC_ALL = 127,
};

static char *sc_fail (const char *where, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static char *
sc_fail (const char *where, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *what = NULL;
    if (vasprintf (&what, format, args) < 0)
        what = NULL;
    va_end (args);
    char *text = NULL;
    if (asprintf (&text, "%s: %s", *where ? where : "(top)", what ? what : "?") < 0)
        text = NULL;
    free (what);
    return text ? text : strdup ("out of memory");
}

static char *
sc_join (const char *where, const char *key)
{
    char *text = NULL;
    if (asprintf (&text, "%s/%s", where, key) < 0)
        return NULL;
    return text;
}

static bool
sc_in (const char *name, const char *const *names)
{
    for (; *names; names++)
        if (strcmp (name, *names) == 0)
            return true;
    return false;
}

//  A type name's bit (any case, as Gemini spells them in capitals); 0 for
//  a name that is not one
static int
sc_type_bit (const char *name)
{
    static const char *names[] = { "string", "number", "integer", "boolean",
                                   "array",  "object", "null" };
    for (int index = 0; name && index < 7; index++)
        if (strcasecmp (name, names[index]) == 0)
            return 1 << index;
    return 0;
}

//  The types a schema says, reading the other spellings of type names
//  that servers send ("int", "str", "dict", ...) as the conversion reads
//  them; for walking an input, not for checking an output
static int
sc_input_types (json_t *node)
{
    static const struct {
        const char *alias;
        int bit;
    } aliases[] = { { "int", SC_INTEGER }, { "float", SC_NUMBER }, { "double", SC_NUMBER },
                    { "str", SC_STRING },  { "bool", SC_BOOLEAN }, { "dict", SC_OBJECT },
                    { "list", SC_ARRAY } };
    json_t *type = json_object_get (node, "type");
    json_t *list = json_is_string (type) ? json_pack ("[O]", type) : json_incref (type);
    int mask = 0;
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item) {
        const char *name = json_string_value (item);
        int bit = sc_type_bit (name);
        for (size_t at = 0; !bit && name && at < sizeof aliases / sizeof aliases[0]; at++)
            if (strcasecmp (name, aliases[at].alias) == 0)
                bit = aliases[at].bit;
        mask |= bit;
    }
    json_decref (list);
    return mask;
}

static int
sc_types (json_t *node)
{
    json_t *type = json_object_get (node, "type");
    if (json_is_string (type))
        return sc_type_bit (json_string_value (type));
    int mask = 0;
    size_t index;
    json_t *item;
    json_array_foreach (type, index, item)
        mask |= sc_type_bit (json_string_value (item));
    return mask;
}

//  Checks `type`: one name, or (`lists`) a list of distinct names
static char *
sc_type_problem (json_t *type, bool lists, const char *where)
{
    if (json_is_string (type)) {
        if (!sc_type_bit (json_string_value (type)))
            return sc_fail (where, "unknown type \"%s\"", json_string_value (type));
        return NULL;
    }
    if (!lists || !json_is_array (type) || json_array_size (type) == 0)
        return sc_fail (where, "the type is not a type name%s", lists ? " or a list of them" : "");
    int seen = 0;
    size_t index;
    json_t *item;
    json_array_foreach (type, index, item) {
        int bit = sc_type_bit (json_string_value (item));
        if (!bit || (seen & bit))
            return sc_fail (where, "the type list has an unknown or repeated name");
        seen |= bit;
    }
    return NULL;
}

static bool
sc_is_count (json_t *value)
{
    if (json_is_integer (value))
        return json_integer_value (value) >= 0;
    //  Gemini documents int64 fields, which JSON may give as text
    const char *text = json_string_value (value);
    if (!text || !*text)
        return false;
    for (; *text; text++)
        if (*text < '0' || *text > '9')
            return false;
    return true;
}

//  The target of a local reference in `root`: only the forms the output
//  may keep ("#", "#/$defs/Name", "#/definitions/Name", a name that
//  needs no escape or decoding, which not every reader does)
static json_t *
sc_kept_target (json_t *root, const char *ref)
{
    if (strcmp (ref, "#") == 0)
        return root;
    const char *keys[] = { "$defs", "definitions" };
    for (int key = 0; key < 2; key++) {
        size_t len = strlen (keys[key]);
        if (strncmp (ref, "#/", 2) == 0 && strncmp (ref + 2, keys[key], len) == 0 &&
            ref[2 + len] == '/' && !strpbrk (ref + 3 + len, "/~%"))
            return json_object_get (json_object_get (root, keys[key]), ref + 3 + len);
    }
    return NULL;
}

//  Any local JSON pointer, for reading the input: a URI fragment, so
//  percent-decoded first (RFC 3986), then split at '/' into tokens that
//  escape '~' and '/' as "~0" and "~1" (RFC 6901)
static json_t *
sc_pointer (json_t *root, const char *ref)
{
    if (!ref || ref[0] != '#')
        return NULL;
    char decoded[2048];
    size_t size = 0;
    for (const char *p = ref + 1; *p; p++) {
        if (size + 1 >= sizeof decoded)
            return NULL;
        unsigned value;
        if (*p == '%' && isxdigit ((unsigned char) p[1]) && isxdigit ((unsigned char) p[2]) &&
            sscanf (p + 1, "%2x", &value) == 1) {
            decoded[size++] = (char) value;
            p += 2;
        } else
            decoded[size++] = *p;
    }
    json_t *node = root;
    size_t at = 0;
    char token[2048];
    while (at < size && decoded[at] == '/' && node) {
        at++;
        size_t out = 0;
        for (; at < size && decoded[at] != '/'; at++) {
            if (decoded[at] == '~' && at + 1 < size &&
                (decoded[at + 1] == '0' || decoded[at + 1] == '1')) {
                token[out++] = decoded[at + 1] == '0' ? '~' : '/';
                at++;
            } else
                token[out++] = decoded[at];
        }
        token[out] = 0;
        if (json_is_array (node)) {
            char *end = NULL;
            unsigned long index = strtoul (token, &end, 10);
            node = out > 0 && end == token + out ? json_array_get (node, index) : NULL;
        } else
            node = json_object_getn (node, token, out);
    }
    return at >= size ? node : NULL;
}

//  --------------------------------------------------------------------------
//  The JSON subset (OpenAI without strict mode, Anthropic): JSON Schema
//  2020-12, no allOf, arrays with items; at the top an object

static char *sc_json_node (json_t *root, json_t *node, const char *where, int depth, bool keys);

//  True if Anthropic takes `name` (`len` bytes) as a property key:
//  "Property keys should match pattern '^[a-zA-Z0-9_.-]{1,64}$'"
static bool
sc_key_ok (const char *name, size_t len)
{
    if (len < 1 || len > 64)
        return false;
    for (size_t at = 0; at < len; at++)
        if (!isascii ((unsigned char) name[at]) ||
            !(isalnum ((unsigned char) name[at]) || (name[at] && strchr ("_.-", name[at]))))
            return false;
    return true;
}

//  True if Gemini takes `name` (`len` bytes) as a parameter name:
//  "Parameter names must start with a letter or an underscore and must
//  only contain chars a-z, A-Z, 0-9, or underscores with a maximum
//  length of 64"
static bool
sc_gemini_name_ok (const char *name, size_t len)
{
    if (len < 1 || len > 64 || isdigit ((unsigned char) name[0]))
        return false;
    for (size_t at = 0; at < len; at++)
        if (!isascii ((unsigned char) name[at]) ||
            !(isalnum ((unsigned char) name[at]) || name[at] == '_'))
            return false;
    return true;
}

static char *
sc_json_map (json_t *root, json_t *map, const char *where, const char *key, int depth, bool keys)
{
    char *here = sc_join (where, key);
    char *problem = NULL;
    if (!json_is_object (map))
        problem = sc_fail (here, "not an object of schemas");
    const char *name;
    json_t *sub;
    json_object_foreach (map, name, sub) {
        if (problem)
            break;
        char *place = sc_join (here, name);
        if (keys && strcmp (key, "properties") == 0 &&
            !sc_key_ok (name, json_object_iter_key_len (json_object_key_to_iter (name))))
            problem = sc_fail (place, "a property key Anthropic refuses");
        else
            problem = sc_json_node (root, sub, place, depth + 1, keys);
        free (place);
    }
    free (here);
    return problem;
}

//  `keys`: property keys must be ones Anthropic takes
static char *
sc_json_node (json_t *root, json_t *node, const char *where, int depth, bool keys)
{
    static const char *const counts[] = { "minLength",     "maxLength",     "minItems", "maxItems",
                                          "minProperties", "maxProperties", NULL };
    static const char *const numbers[] = { "minimum", "maximum", "exclusiveMinimum",
                                           "exclusiveMaximum", NULL };
    static const char *const texts[] = { "description", "title", "pattern", "format", NULL };
    if (json_is_boolean (node))
        return NULL;
    if (!json_is_object (node))
        return sc_fail (where, "a schema must be an object or a boolean");
    if (depth > SC_DEPTH_MAX)
        return sc_fail (where, "nested too deep");
    const char *key;
    json_t *value;
    json_object_foreach (node, key, value) {
        char *problem = NULL;
        char *here = sc_join (where, key);
        if (strcmp (key, "type") == 0)
            problem = sc_type_problem (value, true, here);
        else if (strcmp (key, "required") == 0) {
            if (!json_is_array (value))
                problem = sc_fail (here, "not a list");
            size_t index, other;
            json_t *name, *before;
            json_array_foreach (value, index, name) {
                if (!json_is_string (name) && !problem)
                    problem = sc_fail (here, "a name that is not a string");
                for (other = 0; other < index && !problem; other++) {
                    before = json_array_get (value, other);
                    if (json_equal (before, name))
                        problem = sc_fail (here, "\"%s\" twice", json_string_value (name));
                }
            }
        } else if (!strcmp (key, "properties") || !strcmp (key, "patternProperties") ||
                   !strcmp (key, "$defs") || !strcmp (key, "definitions"))
            problem = sc_json_map (root, value, where, key, depth, keys);
        else if (!strcmp (key, "additionalProperties") || !strcmp (key, "items") ||
                 !strcmp (key, "not"))
            problem = sc_json_node (root, value, here, depth + 1, keys);
        else if (!strcmp (key, "prefixItems") || !strcmp (key, "anyOf") || !strcmp (key, "oneOf")) {
            if (!json_is_array (value) || json_array_size (value) == 0)
                problem = sc_fail (here, "not a list of schemas");
            size_t index;
            json_t *sub;
            json_array_foreach (value, index, sub) {
                if (problem)
                    break;
                char index_text[24];
                snprintf (index_text, sizeof index_text, "%zu", index);
                char *place = sc_join (here, index_text);
                problem = sc_json_node (root, sub, place, depth + 1, keys);
                free (place);
            }
        } else if (!strcmp (key, "allOf"))
            //  OpenAI has refused it ("'allOf' is not permitted")
            problem = sc_fail (here, "allOf is outside the subset");
        else if (!strcmp (key, "enum")) {
            if (!json_is_array (value) || json_array_size (value) == 0)
                problem = sc_fail (here, "not a list of values");
        } else if (sc_in (key, counts)) {
            if (!json_is_integer (value) || json_integer_value (value) < 0)
                problem = sc_fail (here, "not a non-negative integer");
        } else if (sc_in (key, numbers)) {
            if (!json_is_number (value))
                problem = sc_fail (here, "not a number");
        } else if (!strcmp (key, "multipleOf")) {
            if (!json_is_number (value) || json_number_value (value) <= 0)
                problem = sc_fail (here, "not a positive number");
        } else if (sc_in (key, texts)) {
            if (!json_is_string (value))
                problem = sc_fail (here, "not a string");
        } else if (!strcmp (key, "examples")) {
            if (!json_is_array (value))
                problem = sc_fail (here, "not a list");
        } else if (!strcmp (key, "$ref")) {
            if (!json_is_string (value) || !sc_kept_target (root, json_string_value (value)))
                problem = sc_fail (here, "a reference that does not resolve in the schema");
        }
        free (here);
        if (problem)
            return problem;
    }
    //  OpenAI: "array schema missing items"
    if ((sc_types (node) & SC_ARRAY) && !json_is_object (json_object_get (node, "items")))
        return sc_fail (where, "an array without items");
    return NULL;
}

static char *
sc_json_problem (json_t *schema, bool keys)
{
    if (!json_is_object (schema))
        return sc_fail ("", "the schema is not an object");
    const char *type = json_string_value (json_object_get (schema, "type"));
    if (!type || strcmp (type, "object") != 0)
        return sc_fail ("", "the type at the top is not \"object\"");
    //  Anthropic: "input_schema does not support oneOf, allOf, or anyOf at
    //  the top level"; OpenAI adds enum and not
    const char *banned[] = { "anyOf", "oneOf", "allOf", "enum", "not" };
    for (int key = 0; key < 5; key++)
        if (json_object_get (schema, banned[key]))
            return sc_fail ("", "%s at the top", banned[key]);
    return sc_json_node (schema, schema, "", 0, keys);
}

//  --------------------------------------------------------------------------
//  OpenAI strict mode (the Structured Outputs subset)

typedef struct {
    size_t properties, enums, chars;
    int nesting;
} sc_limits_t;

static char *
sc_strict_node (json_t *root, json_t *node, const char *where, int depth, int level,
                sc_limits_t *limits)
{
    static const char *const keys[] = { "type",
                                        "description",
                                        "title",
                                        "enum",
                                        "const",
                                        "anyOf",
                                        "items",
                                        "properties",
                                        "required",
                                        "additionalProperties",
                                        "$ref",
                                        "$defs",
                                        "definitions",
                                        "pattern",
                                        "format",
                                        "multipleOf",
                                        "minimum",
                                        "maximum",
                                        "exclusiveMinimum",
                                        "exclusiveMaximum",
                                        "minItems",
                                        "maxItems",
                                        NULL };
    static const char *const formats[] = { "date-time", "time", "date", "duration", "email",
                                           "hostname",  "ipv4", "ipv6", "uuid",     NULL };
    if (!json_is_object (node))
        return sc_fail (where, "a schema must be an object");
    if (depth > SC_DEPTH_MAX)
        return sc_fail (where, "nested too deep");
    const char *key;
    json_t *value;
    json_object_foreach (node, key, value)
        if (!sc_in (key, keys))
            return sc_fail (where, "keyword \"%s\" is outside the strict subset", key);
    json_t *ref = json_object_get (node, "$ref");
    if (ref) {
        if (json_object_size (node) != 1)
            return sc_fail (where, "a reference with other keywords beside it");
        if (!json_is_string (ref) || !sc_kept_target (root, json_string_value (ref)))
            return sc_fail (where, "a reference that does not resolve");
        return NULL;
    }
    json_t *type = json_object_get (node, "type");
    json_t *any_of = json_object_get (node, "anyOf");
    if (!type && !any_of)
        return sc_fail (where, "neither a type nor anyOf");
    if (type) {
        char *problem = sc_type_problem (type, true, where);
        if (problem)
            return problem;
    }
    if (any_of) {
        if (depth == 0)
            return sc_fail (where, "anyOf at the top");
        if (!json_is_array (any_of) || json_array_size (any_of) == 0)
            return sc_fail (where, "anyOf is not a list of schemas");
        size_t index;
        json_t *sub;
        json_array_foreach (any_of, index, sub) {
            char place[64];
            snprintf (place, sizeof place, "/anyOf/%zu", index);
            char *here = NULL;
            if (asprintf (&here, "%s%s", where, place) < 0)
                return strdup ("out of memory");
            char *problem = sc_strict_node (root, sub, here, depth + 1, level, limits);
            free (here);
            if (problem)
                return problem;
        }
    }
    const char *format = json_string_value (json_object_get (node, "format"));
    if (json_object_get (node, "format") && (!format || !sc_in (format, formats)))
        return sc_fail (where, "a format strict mode does not support");
    json_t *values = json_object_get (node, "enum");
    if (values) {
        if (!json_is_array (values) || json_array_size (values) == 0)
            return sc_fail (where, "enum is not a list of values");
        limits->enums += json_array_size (values);
        size_t index;
        json_t *item;
        json_array_foreach (values, index, item)
            if (json_is_string (item))
                limits->chars += json_string_length (item);
    }
    int types = sc_types (node);
    if (types & SC_OBJECT) {
        level++;
        if (level > limits->nesting)
            limits->nesting = level;
        json_t *properties = json_object_get (node, "properties");
        json_t *required = json_object_get (node, "required");
        if (!json_is_object (properties))
            return sc_fail (where, "an object without properties");
        if (!json_is_false (json_object_get (node, "additionalProperties")))
            return sc_fail (where, "an object without \"additionalProperties\": false");
        if (!json_is_array (required) ||
            json_array_size (required) != json_object_size (properties))
            return sc_fail (where, "not every property is required");
        const char *name;
        json_t *sub;
        json_object_foreach (properties, name, sub) {
            bool listed = false;
            size_t index;
            json_t *item;
            json_array_foreach (required, index, item)
                listed =
                    listed || (json_is_string (item) && !strcmp (json_string_value (item), name));
            if (!listed)
                return sc_fail (where, "property \"%s\" is not required", name);
            limits->properties++;
            limits->chars += strlen (name);
            char *place = sc_join (where, name);
            char *problem = sc_strict_node (root, sub, place, depth + 1, level, limits);
            free (place);
            if (problem)
                return problem;
        }
    } else if (json_object_get (node, "properties"))
        return sc_fail (where, "properties on what is not an object");
    if (types & SC_ARRAY) {
        json_t *items = json_object_get (node, "items");
        if (!items)
            return sc_fail (where, "an array without items");
        char *place = sc_join (where, "items");
        char *problem = sc_strict_node (root, items, place, depth + 1, level, limits);
        free (place);
        if (problem)
            return problem;
    }
    const char *defs_keys[] = { "$defs", "definitions" };
    for (int key_index = 0; key_index < 2; key_index++) {
        json_t *defs = json_object_get (node, defs_keys[key_index]);
        if (!defs)
            continue;
        if (depth > 0 || !json_is_object (defs))
            return sc_fail (where, "%s other than at the top", defs_keys[key_index]);
        const char *name;
        json_t *def;
        json_object_foreach (defs, name, def) {
            limits->chars += strlen (name);
            char *place = sc_join (where, name);
            char *problem = sc_strict_node (root, def, place, 1, 0, limits);
            free (place);
            if (problem)
                return problem;
        }
    }
    return NULL;
}

static char *
sc_strict_problem (json_t *schema)
{
    if (!json_is_object (schema))
        return sc_fail ("", "the schema is not an object");
    const char *type = json_string_value (json_object_get (schema, "type"));
    if (!type || strcmp (type, "object") != 0)
        return sc_fail ("", "the type at the top is not \"object\"");
    sc_limits_t limits = { 0 };
    char *problem = sc_strict_node (schema, schema, "", 0, 0, &limits);
    if (problem)
        return problem;
    //  "A schema may have up to 5000 object properties total, with up to
    //  10 levels of nesting"; 1000 enum values; 120,000 characters
    if (limits.properties > 5000 || limits.nesting > 10 || limits.enums > 1000 ||
        limits.chars > 120000)
        return sc_fail ("", "over strict mode's size limits");
    return NULL;
}

//  --------------------------------------------------------------------------
//  Gemini's Schema object

static char *
sc_gemini_node (json_t *node, const char *where, int depth)
{
    static const char *const keys[] = { "type",
                                        "format",
                                        "title",
                                        "description",
                                        "nullable",
                                        "enum",
                                        "maxItems",
                                        "minItems",
                                        "properties",
                                        "required",
                                        "minProperties",
                                        "maxProperties",
                                        "minLength",
                                        "maxLength",
                                        "pattern",
                                        "example",
                                        "anyOf",
                                        "propertyOrdering",
                                        "default",
                                        "items",
                                        "minimum",
                                        "maximum",
                                        NULL };
    static const char *const counts[] = {
        "maxItems", "minItems", "minProperties", "maxProperties", "minLength", "maxLength", NULL
    };
    static const char *const texts[] = { "format", "title", "description", "pattern", NULL };
    if (!json_is_object (node))
        return sc_fail (where, "a schema must be an object");
    if (depth > SC_DEPTH_MAX)
        return sc_fail (where, "nested too deep");
    const char *key;
    json_t *value;
    json_object_foreach (node, key, value) {
        //  Gemini answers an unknown field with "Cannot find field"
        if (!sc_in (key, keys))
            return sc_fail (where, "field \"%s\" is not in Gemini's Schema", key);
        if (sc_in (key, counts) && !sc_is_count (value))
            return sc_fail (where, "%s is not a count", key);
        if (sc_in (key, texts) && !json_is_string (value))
            return sc_fail (where, "%s is not a string", key);
        if ((!strcmp (key, "minimum") || !strcmp (key, "maximum")) && !json_is_number (value))
            return sc_fail (where, "%s is not a number", key);
        if (!strcmp (key, "nullable") && !json_is_boolean (value))
            return sc_fail (where, "nullable is not a boolean");
    }
    json_t *type = json_object_get (node, "type");
    json_t *any_of = json_object_get (node, "anyOf");
    if (type && any_of)
        return sc_fail (where, "both a type and anyOf");
    if (any_of) {
        if (!json_is_array (any_of) || json_array_size (any_of) == 0)
            return sc_fail (where, "anyOf is not a list of schemas");
        size_t index;
        json_t *sub;
        json_array_foreach (any_of, index, sub) {
            char place[64];
            snprintf (place, sizeof place, "/anyOf/%zu", index);
            char *here = NULL;
            if (asprintf (&here, "%s%s", where, place) < 0)
                return strdup ("out of memory");
            char *problem = sc_gemini_node (sub, here, depth + 1);
            free (here);
            if (problem)
                return problem;
        }
        return NULL;
    }
    //  "type: Required. Data type."
    if (!type)
        return sc_fail (where, "no type");
    char *problem = sc_type_problem (type, false, where);
    if (problem)
        return problem;
    int types = sc_types (node);
    //  "Supported formats: for NUMBER type: float, double for INTEGER type:
    //  int32, int64 for STRING type: enum, date-time"; another is refused
    //  ("only 'enum' and 'date-time' are supported for STRING type")
    const char *format = json_string_value (json_object_get (node, "format"));
    if (format) {
        static const char *const strings[] = { "enum", "date-time", NULL };
        static const char *const integers[] = { "int32", "int64", NULL };
        static const char *const numbers[] = { "float", "double", NULL };
        const char *const *taken = types == SC_STRING    ? strings
                                   : types == SC_INTEGER ? integers
                                   : types == SC_NUMBER  ? numbers
                                                         : NULL;
        if (!taken || !sc_in (format, taken))
            return sc_fail (where, "format \"%s\" is not one Gemini takes for this type", format);
    }
    json_t *values = json_object_get (node, "enum");
    if (values) {
        if (!json_is_array (values) || json_array_size (values) == 0)
            return sc_fail (where, "enum is not a list");
        size_t index;
        json_t *item;
        json_array_foreach (values, index, item)
            if (!json_is_string (item))
                return sc_fail (where, "an enum value that is not a string");
    }
    json_t *properties = json_object_get (node, "properties");
    if (types == SC_OBJECT) {
        //  "properties: should be non-empty for OBJECT type"
        if (!json_is_object (properties) || json_object_size (properties) == 0)
            return sc_fail (where, "an OBJECT without properties");
        const char *name;
        json_t *sub;
        json_object_foreach (properties, name, sub) {
            char *place = sc_join (where, name);
            if (!sc_gemini_name_ok (name,
                                    json_object_iter_key_len (json_object_key_to_iter (name)))) {
                problem = sc_fail (place, "a parameter name Gemini refuses");
                free (place);
                return problem;
            }
            problem = sc_gemini_node (sub, place, depth + 1);
            free (place);
            if (problem)
                return problem;
        }
        size_t index;
        json_t *item;
        json_array_foreach (json_object_get (node, "required"), index, item)
            if (!json_object_get (properties, json_string_value (item)))
                return sc_fail (where, "required names an undeclared property");
    } else if (properties || json_object_get (node, "required"))
        //  "properties: only allowed for OBJECT type"
        return sc_fail (where, "properties on what is not an OBJECT");
    json_t *items = json_object_get (node, "items");
    if (types == SC_ARRAY) {
        //  "items: missing field"
        if (!items)
            return sc_fail (where, "an ARRAY without items");
        char *place = sc_join (where, "items");
        problem = sc_gemini_node (items, place, depth + 1);
        free (place);
        if (problem)
            return problem;
    } else if (items)
        return sc_fail (where, "items on what is not an ARRAY");
    return NULL;
}

static char *
sc_gemini_problem (json_t *schema)
{
    if (!json_is_object (schema))
        return sc_fail ("", "the parameters are not an object");
    const char *type = json_string_value (json_object_get (schema, "type"));
    if (!type || strcasecmp (type, "object") != 0)
        return sc_fail ("", "the parameters' type is not OBJECT");
    return sc_gemini_node (schema, "", 0);
}

//  NULL if `schema` lies inside `subset`, else the first place it does not
static char *
sc_subset_problem (json_t *schema, formats_schema_t subset)
{
    switch (subset) {
    case FORMATS_SCHEMA_STRICT:
        return sc_strict_problem (schema);
    case FORMATS_SCHEMA_GEMINI:
        return sc_gemini_problem (schema);
    case FORMATS_SCHEMA_ANTHROPIC:
        return sc_json_problem (schema, true);
    default:
        return sc_json_problem (schema, false);
    }
}

//  --------------------------------------------------------------------------
//  Parameters

typedef struct {
    json_t *root;                    //  what references resolve against
    json_t *paths;                   //  path -> the types found there
    json_t *names;                   //  an output's: the input's property names, else NULL
    const char *stack[SC_REF_STACK]; //  references being followed
    int stack_size;
    int depth_max;
    size_t budget; //  nodes left to visit
} sc_walk_t;

//  The types a schema takes, its references and alternatives followed
static int
sc_kinds (json_t *root, json_t *node, int depth)
{
    for (int hops = 0; hops < SC_REF_STACK && json_is_object (node); hops++) {
        const char *ref = json_string_value (json_object_get (node, "$ref"));
        if (!ref)
            break;
        node = sc_pointer (root, ref);
    }
    if (!json_is_object (node) || depth > 8)
        return SC_ALL;
    int kinds = sc_input_types (node);
    if (kinds)
        return kinds;
    const char *keys[] = { "anyOf", "oneOf" };
    for (int key = 0; key < 2; key++) {
        size_t index;
        json_t *branch;
        json_array_foreach (json_object_get (node, keys[key]), index, branch)
            kinds |= sc_kinds (root, branch, depth + 1);
    }
    if (kinds)
        return kinds;
    //  The values it allows say the kinds exactly
    json_t *values = json_object_get (node, "enum");
    json_t *constant = json_object_get (node, "const");
    json_t *list = constant ? json_pack ("[O]", constant) : json_incref (values);
    size_t index;
    json_t *value;
    json_array_foreach (list, index, value)
        kinds |= json_is_string (value)    ? SC_STRING
                 : json_is_integer (value) ? SC_INTEGER
                 : json_is_real (value)    ? SC_NUMBER
                 : json_is_boolean (value) ? SC_BOOLEAN
                 : json_is_array (value)   ? SC_ARRAY
                 : json_is_object (value)  ? SC_OBJECT
                                           : SC_NULL;
    json_decref (list);
    if (kinds)
        return kinds;
    //  Without a type, its keywords say which types it means, as the
    //  converter reads them (docs/formats.md)
    if (json_object_get (node, "properties") || json_object_get (node, "additionalProperties") ||
        json_object_get (node, "patternProperties"))
        kinds |= SC_OBJECT;
    if (json_object_get (node, "items") || json_object_get (node, "prefixItems"))
        kinds |= SC_ARRAY;
    if (json_object_get (node, "pattern") || json_object_get (node, "format") ||
        json_object_get (node, "minLength") || json_object_get (node, "maxLength"))
        kinds |= SC_STRING;
    if (json_object_get (node, "minimum") || json_object_get (node, "maximum") ||
        json_object_get (node, "exclusiveMinimum") || json_object_get (node, "exclusiveMaximum") ||
        json_object_get (node, "multipleOf"))
        kinds |= SC_NUMBER;
    return kinds ? kinds : SC_ALL;
}

//  Every name a schema document uses for properties (the keys of any
//  "properties" object, the names in any "required" list), at any depth
static void
sc_names (json_t *node, json_t *names)
{
    size_t index;
    json_t *value;
    json_array_foreach (node, index, value)
        sc_names (value, names);
    const char *key;
    json_object_foreach (node, key, value) {
        if (strcmp (key, "properties") == 0) {
            const char *name;
            json_t *sub;
            json_object_foreach (value, name, sub)
                json_object_setn (names, name,
                                  json_object_iter_key_len (json_object_key_to_iter (name)),
                                  json_true ());
        } else if (strcmp (key, "required") == 0) {
            json_t *name;
            json_array_foreach (value, index, name)
                if (json_is_string (name))
                    json_object_setn (names, json_string_value (name), json_string_length (name),
                                      json_true ());
        }
        sc_names (value, names);
    }
}

//  The name the tool gives an output's property `name` (schema `sub`):
//  the same, when the input uses it; else the one its description says
//  ("the tool's parameter \"NAME\""), as a new string; NULL if none
static json_t *
sc_original (json_t *names, const char *name, size_t len, json_t *sub)
{
    if (!names || json_object_getn (names, name, len))
        return json_stringn (name, len);
    const char *description = json_string_value (json_object_get (sub, "description"));
    const char *said = NULL;
    for (const char *at = description; at && (at = strstr (at, "tool's parameter \"")); at++)
        said = at;
    if (!said)
        return NULL;
    json_t *original = json_loads (said + strlen ("tool's parameter "),
                                   JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
    if (json_is_string (original) &&
        json_object_getn (names, json_string_value (original), json_string_length (original)))
        return original;
    json_decref (original);
    return NULL;
}

static void
sc_walk (sc_walk_t *walk, json_t *node, const char *path, int depth, bool top)
{
    if (!json_is_object (node) || depth > walk->depth_max)
        return;
    if (walk->budget == 0)
        return;
    walk->budget--;
    const char *ref = json_string_value (json_object_get (node, "$ref"));
    if (ref) {
        bool cycle = walk->stack_size >= SC_REF_STACK;
        for (int index = 0; index < walk->stack_size && !cycle; index++)
            cycle = strcmp (walk->stack[index], ref) == 0;
        if (!cycle) {
            walk->stack[walk->stack_size++] = ref;
            sc_walk (walk, sc_pointer (walk->root, ref), path, depth + 1, top);
            walk->stack_size--;
        }
    }
    const char *branch_keys[] = { "anyOf", "oneOf", "allOf" };
    for (int key = 0; key < 3; key++) {
        size_t index;
        json_t *branch;
        json_array_foreach (json_object_get (node, branch_keys[key]), index, branch)
            sc_walk (walk, branch, path, depth + 1, top);
    }
    int types = sc_input_types (node);
    if (top || !types || (types & SC_OBJECT)) {
        const char *name;
        json_t *sub;
        json_object_foreach (json_object_get (node, "properties"), name, sub) {
            if (json_is_false (sub))
                continue; //  a name that may not be given is no parameter
            json_t *original = sc_original (
                walk->names, name, json_object_iter_key_len (json_object_key_to_iter (name)), sub);
            char *here = NULL;
            int made = asprintf (&here, "%s%s%s", path, *path ? "." : "",
                                 original ? json_string_value (original) : name);
            json_decref (original);
            if (made < 0)
                continue;
            json_int_t kinds = json_integer_value (json_object_get (walk->paths, here));
            kinds |= sc_kinds (walk->root, sub, 0);
            json_object_set_new (walk->paths, here, json_integer (kinds));
            sc_walk (walk, sub, here, depth + 1, false);
            free (here);
        }
    }
    if (!top && (!types || (types & SC_ARRAY))) {
        char *here = NULL;
        if (asprintf (&here, "%s[]", path) < 0)
            return;
        json_t *items = json_object_get (node, "items");
        if (json_is_object (items))
            sc_walk (walk, items, here, depth + 1, false);
        const char *tuple_keys[] = { "items", "prefixItems" };
        for (int key = 0; key < 2; key++) {
            size_t index;
            json_t *item;
            json_array_foreach (json_object_get (node, tuple_keys[key]), index, item)
                sc_walk (walk, item, here, depth + 1, false);
        }
        free (here);
    }
}

//  The parameter paths of `schema`, or NULL if the walk gave up. An
//  output's (`names`: the input's property names) are named as the tool
//  names them
static json_t *
sc_paths (json_t *schema, int depth_max, json_t *names)
{
    sc_walk_t walk = { .root = schema,
                       .paths = json_object (),
                       .names = names,
                       .depth_max = depth_max,
                       .budget = SC_WALK_BUDGET };
    sc_walk (&walk, schema, "", 0, true);
    if (walk.budget == 0) {
        json_decref (walk.paths);
        return NULL;
    }
    return walk.paths;
}

//  NULL if every parameter of `input` (an inputSchema) is carried by
//  `output` (NULL: no parameters): the same path is there, or a shorter
//  one where the output takes a string and the input did not, which
//  carries the whole value as JSON text
static char *
sc_params_problem (json_t *input, json_t *output)
{
    json_t *names = json_object ();
    sc_names (input, names);
    json_t *had = sc_paths (input, SC_INPUT_DEPTH, NULL);
    json_t *has = output ? sc_paths (output, SC_OUTPUT_DEPTH, names) : json_object ();
    json_decref (names);
    char *problem = NULL;
    const char *path;
    json_t *kinds;
    json_object_foreach (had, path, kinds) {
        if (problem || !has)
            break;
        if (json_object_get (has, path))
            continue;
        bool carried = false;
        char *prefix = strdup (path);
        for (size_t len = strlen (prefix); len > 0 && !carried && prefix; len--) {
            if (prefix[len] != '.' && prefix[len] != '[')
                continue;
            prefix[len] = 0;
            json_t *now = json_object_get (has, prefix);
            json_t *then = json_object_get (had, prefix);
            carried = now && then && (json_integer_value (now) & ~SC_NULL) == SC_STRING &&
                      !(json_integer_value (then) & SC_STRING);
        }
        free (prefix);
        if (!carried)
            problem = sc_fail (path, "the parameter is lost");
    }
    json_decref (had);
    json_decref (has);
    return problem;
}

//  --------------------------------------------------------------------------
//  Calls: what the LLM sends for a declaration reaches the tool as the
//  tool declared it

#define SC_SAMPLE_DEPTH 10

typedef struct {
    json_t *root;  //  the output schema, what its references resolve against
    json_t *names; //  the input's property names
    json_t *had;   //  the input's parameter paths -> their types
    json_t *has;   //  the output's parameter paths -> their types
} sc_sample_t;

//  A value the LLM could send for the output schema `node` at parameter
//  path `path`: every property, one item, a string of JSON text where the
//  output carries as text what the input takes as an object or an array
//  ("{}", "[]"); NULL for nothing
static json_t *
sc_sample (sc_sample_t *ctx, json_t *node, const char *path, int depth)
{
    for (int hops = 0; hops < SC_REF_STACK && json_is_object (node); hops++) {
        const char *ref = json_string_value (json_object_get (node, "$ref"));
        if (!ref)
            break;
        node = sc_pointer (ctx->root, ref);
    }
    if (!json_is_object (node) || depth > SC_SAMPLE_DEPTH)
        return NULL;
    int types = sc_types (node);
    json_t *properties = json_object_get (node, "properties");
    if (!types && json_is_object (properties))
        types = SC_OBJECT;
    json_t *branches = json_object_get (node, "anyOf");
    if (!branches)
        branches = json_object_get (node, "oneOf");
    if (!types && json_is_array (branches)) {
        size_t index;
        json_t *branch;
        json_array_foreach (branches, index, branch) {
            json_t *value = sc_sample (ctx, branch, path, depth + 1);
            if (value && !json_is_null (value))
                return value;
            json_decref (value);
        }
        return NULL;
    }
    if (types & SC_OBJECT) {
        json_t *object = json_object ();
        const char *name;
        json_t *sub;
        json_object_foreach (properties, name, sub) {
            size_t len = json_object_iter_key_len (json_object_key_to_iter (name));
            json_t *original = sc_original (ctx->names, name, len, sub);
            char *here = NULL;
            if (asprintf (&here, "%s%s%s", path, *path ? "." : "",
                          original ? json_string_value (original) : name) >= 0) {
                json_t *value = sc_sample (ctx, sub, here, depth + 1);
                if (value)
                    json_object_setn_new (object, name, len, value);
                free (here);
            }
            json_decref (original);
        }
        return object;
    }
    if (types & SC_ARRAY) {
        json_t *array = json_array ();
        char *here = NULL;
        if (asprintf (&here, "%s[]", path) < 0)
            return array;
        json_t *prefix = json_object_get (node, "prefixItems");
        size_t index;
        json_t *item;
        json_array_foreach (prefix, index, item) {
            json_t *value = sc_sample (ctx, item, here, depth + 1);
            json_array_append_new (array, value ? value : json_string ("s"));
        }
        if (json_array_size (array) == 0) {
            json_t *value = sc_sample (ctx, json_object_get (node, "items"), here, depth + 1);
            if (value)
                json_array_append_new (array, value);
        }
        free (here);
        return array;
    }
    if (types & SC_STRING) {
        json_int_t had = json_integer_value (json_object_get (ctx->had, path));
        json_int_t has = json_integer_value (json_object_get (ctx->has, path));
        if ((has & ~SC_NULL) == SC_STRING && had && !(had & SC_STRING) &&
            (had & (SC_OBJECT | SC_ARRAY)))
            return json_string (had & SC_OBJECT ? "{}" : "[]");
        return json_string ("s");
    }
    if (types & SC_INTEGER)
        return json_integer (1);
    if (types & SC_NUMBER)
        return json_real (1.5);
    if (types & SC_BOOLEAN)
        return json_true ();
    if (types & SC_NULL)
        return json_null ();
    return json_string ("s");
}

//  NULL if every key in `value` (any depth) is a property name of the
//  input (`names`), and no JSON text is left undecoded
static char *
sc_received_problem (json_t *value, json_t *names, int depth)
{
    if (depth > SC_DEPTH_MAX)
        return NULL;
    const char *text = json_string_value (value);
    if (text && (strcmp (text, "{}") == 0 || strcmp (text, "[]") == 0))
        return sc_fail ("", "JSON text %s the output declares reaches the tool as a string", text);
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item) {
        char *problem = sc_received_problem (item, names, depth + 1);
        if (problem)
            return problem;
    }
    const char *key;
    json_object_foreach (value, key, item) {
        if (!json_object_getn (names, key,
                               json_object_iter_key_len (json_object_key_to_iter (key))))
            return sc_fail ("", "the tool receives \"%s\", a name it does not declare", key);
        char *problem = sc_received_problem (item, names, depth + 1);
        if (problem)
            return problem;
    }
    return NULL;
}

//  NULL if arguments an LLM writes after `output` (the declaration of
//  `tool` for `format`) reach the tool under its own names, with the
//  JSON text the output declares decoded, through formats_call_args
static char *
sc_call_problem (json_t *tool, json_t *output, mcpact_format_t format)
{
    json_t *input = json_object_get (tool, "inputSchema");
    sc_sample_t ctx = { .root = output, .names = json_object () };
    sc_names (input, ctx.names);
    ctx.had = sc_paths (input, SC_INPUT_DEPTH, NULL);
    ctx.has = output ? sc_paths (output, SC_OUTPUT_DEPTH, ctx.names) : json_object ();
    json_t *args = output ? sc_sample (&ctx, output, "", 0) : NULL;
    if (!json_is_object (args)) {
        json_decref (args);
        args = json_object ();
    }
    //  A name the tool requires and the output does not declare (it may
    //  be declared nowhere) is sent as it is
    json_t *given = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach (args, key, value) {
        size_t len = json_object_iter_key_len (json_object_key_to_iter (key));
        json_t *original = sc_original (
            ctx.names, key, len, json_object_get (json_object_get (output, "properties"), key));
        if (original)
            json_object_setn (given, json_string_value (original), json_string_length (original),
                              json_true ());
        json_decref (original);
    }
    json_t *required = json_object_get (input, "required");
    size_t index;
    json_array_foreach (required, index, value)
        if (json_is_string (value) &&
            !json_object_getn (given, json_string_value (value), json_string_length (value)))
            json_object_setn_new (args, json_string_value (value), json_string_length (value),
                                  json_string ("s"));
    json_decref (given);
    char *text = json_dumps (args, JSON_COMPACT);
    json_t *tools = json_pack ("[O]", tool);
    mcpact_status_t status;
    char *error = NULL;
    const char *name = json_string_value (json_object_get (tool, "name"));
    json_t *sent = formats_call_args (tools, format, name, text, &status, &error);
    char *problem = NULL;
    if (!sent)
        problem = sc_fail ("", "the arguments %s are refused: %s", text ? text : "?",
                           error ? error : "?");
    else if (ctx.had && ctx.has)
        problem = sc_received_problem (sent, ctx.names, 0);
    if (problem && sent) {
        char *sent_text = json_dumps (sent, JSON_COMPACT);
        char *named = NULL;
        if (asprintf (&named, "%s (sent %s, received %s)", problem, text ? text : "?",
                      sent_text ? sent_text : "?") < 0)
            named = NULL;
        free (sent_text);
        if (named) {
            free (problem);
            problem = named;
        }
    }
    free (error);
    json_decref (sent);
    json_decref (tools);
    free (text);
    json_decref (args);
    json_decref (ctx.names);
    json_decref (ctx.had);
    json_decref (ctx.has);
    return problem;
}

//  The number of characters of UTF-8 text
static size_t
sc_length (const char *text)
{
    size_t count = 0;
    for (; text && *text; text++)
        count += ((unsigned char) *text & 0xC0) != 0x80;
    return count;
}

//  --------------------------------------------------------------------------
//  Whole tool lists

//  NULL if `out` (formats_tools of `in` for `format` and `flags`) declares
//  every named tool of `in` in order, each schema inside its subset and
//  carrying every parameter
static char *
sc_tools_problem (json_t *in, json_t *out, mcpact_format_t format, int flags)
{
    json_t *declared = out;
    if (format == MCPACT_FORMAT_GEMINI) {
        if (json_array_size (out) > 1)
            return strdup ("gemini: more than one Tool");
        declared = json_object_get (json_array_get (out, 0), "functionDeclarations");
        if (json_array_size (out) == 1 && json_array_size (declared) == 0)
            return strdup ("gemini: an empty functionDeclarations");
    }
    size_t at = 0;
    size_t index;
    json_t *tool;
    json_array_foreach (in, index, tool) {
        const char *name = json_string_value (json_object_get (tool, "name"));
        if (!name)
            continue;
        json_t *entry = json_array_get (declared, at++);
        json_t *holder =
            format == MCPACT_FORMAT_OPENAI ? json_object_get (entry, "function") : entry;
        const char *got = json_string_value (json_object_get (holder, "name"));
        if (!got || strcmp (got, name) != 0)
            return sc_fail (name, "the tool is not declared where it should be");
        json_t *description = json_object_get (holder, "description");
        if (description && !json_is_string (description))
            return sc_fail (name, "the description is not a string");
        //  OpenAI: "string_above_max_length" ("Expected a string with
        //  maximum length 1024")
        if ((format == MCPACT_FORMAT_OPENAI || format == MCPACT_FORMAT_OPENAI_RESPONSES) &&
            sc_length (json_string_value (description)) > 1024)
            return sc_fail (name, "a description of %zu characters, over OpenAI's 1024",
                            sc_length (json_string_value (description)));
        json_t *schema = NULL;
        formats_schema_t subset = FORMATS_SCHEMA_JSON;
        switch (format) {
        case MCPACT_FORMAT_OPENAI:
        case MCPACT_FORMAT_OPENAI_RESPONSES: {
            const char *type = json_string_value (json_object_get (entry, "type"));
            if (!type || strcmp (type, "function") != 0)
                return sc_fail (name, "not a function tool");
            json_t *strict = json_object_get (holder, "strict");
            if (format == MCPACT_FORMAT_OPENAI_RESPONSES && !json_is_boolean (strict))
                return sc_fail (name, "Responses needs \"strict\" said");
            if (json_is_true (strict)) {
                if (!(flags & MCPACT_FORMAT_STRICT))
                    return sc_fail (name, "strict without being asked");
                subset = FORMATS_SCHEMA_STRICT;
            }
            schema = json_object_get (holder, "parameters");
            break;
        }
        case MCPACT_FORMAT_ANTHROPIC:
            subset = FORMATS_SCHEMA_ANTHROPIC;
            schema = json_object_get (holder, "input_schema");
            break;
        case MCPACT_FORMAT_GEMINI:
            subset = FORMATS_SCHEMA_GEMINI;
            schema = json_object_get (holder, "parameters");
            break;
        default:
            return strdup ("no provider subset for this format");
        }
        char *problem = NULL;
        if (schema || format != MCPACT_FORMAT_GEMINI)
            problem = sc_subset_problem (schema, subset);
        if (!problem)
            problem = sc_params_problem (json_object_get (tool, "inputSchema"), schema);
        if (!problem)
            problem = sc_call_problem (tool, schema, format);
        if (problem) {
            char *named = NULL;
            if (asprintf (&named, "%s: %s", name, problem) < 0)
                named = NULL;
            free (problem);
            return named ? named : strdup ("out of memory");
        }
    }
    if (at != json_array_size (declared))
        return strdup ("more declarations than named tools");
    return NULL;
}

#endif
