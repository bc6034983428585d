/*  =========================================================================
    elicit - the restricted form schema of elicitation/create (see .h)
    =========================================================================
*/

#include "elicit.h"

#include "jsonnum.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_fail (char **error, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    if (vasprintf (error, format, args) < 0)
        *error = NULL;
    va_end (args);
    return -1;
}

//  The values a select field allows: `enum`, or the `const` of each
//  `oneOf` / `anyOf` entry (titled enums, SEP-1330). NULL if none.
static json_t *
s_choices (json_t *field, const char *titled)
{
    json_t *values = json_object_get (field, "enum");
    if (json_is_array (values))
        return json_incref (values);
    json_t *entries = json_object_get (field, titled);
    if (!json_is_array (entries))
        return NULL;
    json_t *consts = json_array ();
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry)
        json_array_append (consts, json_object_get (entry, "const"));
    return consts;
}

static bool
s_in (json_t *choices, json_t *value)
{
    size_t index;
    json_t *choice;
    json_array_foreach (choices, index, choice)
        if (json_equal (choice, value))
            return true;
    return false;
}

//  The choices of a field: a string field's (oneOf), or an array's items
//  (anyOf); NULL for a free field.
static json_t *
s_field_choices (json_t *field)
{
    const char *type = json_string_value (json_object_get (field, "type"));
    if (type && strcmp (type, "array") == 0)
        return s_choices (json_object_get (field, "items"), "anyOf");
    return s_choices (field, "oneOf");
}

int
elicit_schema_check (json_t *schema, char **error)
{
    if (!json_is_object (schema))
        return s_fail (error, "requestedSchema is not an object");
    const char *type = json_string_value (json_object_get (schema, "type"));
    if (type && strcmp (type, "object") != 0)
        return s_fail (error, "requestedSchema has type %s, not object", type);
    json_t *properties = json_object_get (schema, "properties");
    if (properties && !json_is_object (properties))
        return s_fail (error, "requestedSchema.properties is not an object");
    const char *name;
    json_t *field;
    json_object_foreach (properties, name, field) {
        if (!json_is_object (field))
            return s_fail (error, "field %s: its schema is not an object", name);
        const char *kind = json_string_value (json_object_get (field, "type"));
        if (!kind)
            return s_fail (error, "field %s: no type", name);
        if (strcmp (kind, "string") && strcmp (kind, "number") && strcmp (kind, "integer") &&
            strcmp (kind, "boolean") && strcmp (kind, "array"))
            return s_fail (error, "field %s: type %s is not one a form can ask for", name, kind);
        if (strcmp (kind, "array") == 0) {
            json_t *choices = s_field_choices (field);
            bool strings = choices != NULL;
            size_t index;
            json_t *choice;
            json_array_foreach (choices, index, choice)
                strings &= json_is_string (choice);
            json_decref (choices);
            if (!strings)
                return s_fail (error,
                               "field %s: an array field must list its choices as strings "
                               "(items.enum or items.anyOf)",
                               name);
        }
    }
    json_t *required = json_object_get (schema, "required");
    if (required && !json_is_array (required))
        return s_fail (error, "requestedSchema.required is not an array");
    size_t index;
    json_t *entry;
    json_array_foreach (required, index, entry)
        if (!json_is_string (entry) || !json_object_get (properties, json_string_value (entry)))
            return s_fail (error, "requestedSchema.required names %s, which is not a field",
                           json_is_string (entry) ? json_string_value (entry) : "a non-string");
    return 0;
}

//  Characters, not bytes: minLength and maxLength count code points.
static size_t
s_utf8_length (const char *text)
{
    size_t length = 0;
    for (; *text; text++)
        length += ((unsigned char) *text & 0xC0) != 0x80;
    return length;
}

static bool
s_digits (const char *text, int count)
{
    for (int i = 0; i < count; i++)
        if (!isdigit ((unsigned char) text[i]))
            return false;
    return true;
}

//  YYYY-MM-DD with a month and day that exist (RFC 3339 full-date).
static bool
s_is_date (const char *text)
{
    if (strlen (text) < 10 || !s_digits (text, 4) || text[4] != '-' || !s_digits (text + 5, 2) ||
        text[7] != '-' || !s_digits (text + 8, 2))
        return false;
    int year = atoi (text), month = atoi (text + 5), day = atoi (text + 8);
    static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1])
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return !(month == 2 && day == 29 && !leap);
}

//  RFC 3339 date-time: full-date "T" hh:mm:ss[.frac](Z|+hh:mm|-hh:mm).
static bool
s_is_date_time (const char *text)
{
    if (!s_is_date (text) || (text[10] != 'T' && text[10] != 't'))
        return false;
    const char *time = text + 11;
    if (!s_digits (time, 2) || time[2] != ':' || !s_digits (time + 3, 2) || time[5] != ':' ||
        !s_digits (time + 6, 2) || atoi (time) > 23 || atoi (time + 3) > 59 || atoi (time + 6) > 60)
        return false;
    const char *rest = time + 8;
    if (*rest == '.') {
        rest++;
        if (!isdigit ((unsigned char) *rest))
            return false;
        while (isdigit ((unsigned char) *rest))
            rest++;
    }
    if ((*rest == 'Z' || *rest == 'z') && rest[1] == 0)
        return true;
    return (*rest == '+' || *rest == '-') && s_digits (rest + 1, 2) && rest[3] == ':' &&
           s_digits (rest + 4, 2) && rest[6] == 0;
}

//  An addr-spec in its everyday form: local@domain.tld, no spaces.
static bool
s_is_email (const char *text)
{
    const char *at = strchr (text, '@');
    if (!at || at == text || strchr (at + 1, '@') || strpbrk (text, " \t\r\n<>"))
        return false;
    const char *dot = strrchr (at + 1, '.');
    return dot && dot > at + 1 && dot[1];
}

//  An absolute URI (RFC 3986): scheme ":" something, no spaces.
static bool
s_is_uri (const char *text)
{
    if (!isalpha ((unsigned char) *text))
        return false;
    const char *c = text + 1;
    while (isalnum ((unsigned char) *c) || *c == '+' || *c == '-' || *c == '.')
        c++;
    return *c == ':' && c[1] && !strpbrk (text, " \t\r\n<>\"");
}

static int
s_check_string (const char *name, json_t *field, json_t *value, char **error)
{
    if (!json_is_string (value))
        return s_fail (error, "field %s: expected a string", name);
    const char *text = json_string_value (value);
    json_t *choices = s_field_choices (field);
    if (choices) {
        bool found = s_in (choices, value);
        json_decref (choices);
        if (!found)
            return s_fail (error, "field %s: \"%s\" is not one of the choices", name, text);
    }
    size_t length = s_utf8_length (text);
    json_t *min = json_object_get (field, "minLength");
    json_t *max = json_object_get (field, "maxLength");
    if (json_is_integer (min) && (json_int_t) length < json_integer_value (min))
        return s_fail (error, "field %s: shorter than minLength %" JSON_INTEGER_FORMAT, name,
                       json_integer_value (min));
    if (json_is_integer (max) && (json_int_t) length > json_integer_value (max))
        return s_fail (error, "field %s: longer than maxLength %" JSON_INTEGER_FORMAT, name,
                       json_integer_value (max));
    const char *format = json_string_value (json_object_get (field, "format"));
    bool ok = !format || (strcmp (format, "email") == 0       ? s_is_email (text)
                          : strcmp (format, "uri") == 0       ? s_is_uri (text)
                          : strcmp (format, "date") == 0      ? s_is_date (text) && !text[10]
                          : strcmp (format, "date-time") == 0 ? s_is_date_time (text)
                                                              : true);
    if (!ok)
        return s_fail (error, "field %s: \"%s\" is not a valid %s", name, text, format);
    return 0;
}

static int
s_check_number (const char *name, json_t *field, json_t *value, bool integer, char **error)
{
    if (!json_is_number (value))
        return s_fail (error, "field %s: expected %s", name, integer ? "an integer" : "a number");
    double number = json_number_value (value);
    char shown[32], bound[32];
    jsonnum_text (number, shown, sizeof shown);
    if (integer && !json_is_integer (value) &&
        (!(number > -9e18 && number < 9e18) || (double) (long long) number != number))
        return s_fail (error, "field %s: expected an integer, not %s", name, shown);
    json_t *min = json_object_get (field, "minimum");
    json_t *max = json_object_get (field, "maximum");
    if (json_is_number (min) && number < json_number_value (min)) {
        jsonnum_text (json_number_value (min), bound, sizeof bound);
        return s_fail (error, "field %s: %s is below the minimum %s", name, shown, bound);
    }
    if (json_is_number (max) && number > json_number_value (max)) {
        jsonnum_text (json_number_value (max), bound, sizeof bound);
        return s_fail (error, "field %s: %s is above the maximum %s", name, shown, bound);
    }
    return 0;
}

static int
s_check_array (const char *name, json_t *field, json_t *value, char **error)
{
    if (!json_is_array (value))
        return s_fail (error, "field %s: expected an array of choices", name);
    json_t *choices = s_field_choices (field);
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item)
        if (!json_is_string (item) || (choices && !s_in (choices, item))) {
            json_decref (choices);
            return s_fail (error, "field %s: item %zu is not one of the choices", name, index);
        }
    json_decref (choices);
    json_t *min = json_object_get (field, "minItems");
    json_t *max = json_object_get (field, "maxItems");
    json_int_t count = (json_int_t) json_array_size (value);
    if (json_is_integer (min) && count < json_integer_value (min))
        return s_fail (error, "field %s: fewer than minItems %" JSON_INTEGER_FORMAT " chosen", name,
                       json_integer_value (min));
    if (json_is_integer (max) && count > json_integer_value (max))
        return s_fail (error, "field %s: more than maxItems %" JSON_INTEGER_FORMAT " chosen", name,
                       json_integer_value (max));
    return 0;
}

int
elicit_field_check (const char *name, json_t *field, json_t *value, char **error)
{
    const char *type = json_string_value (json_object_get (field, "type"));
    if (!type)
        return s_fail (error, "field %s: the requested schema gives it no type", name);
    if (strcmp (type, "string") == 0)
        return s_check_string (name, field, value, error);
    if (strcmp (type, "number") == 0 || strcmp (type, "integer") == 0)
        return s_check_number (name, field, value, strcmp (type, "integer") == 0, error);
    if (strcmp (type, "boolean") == 0)
        return json_is_boolean (value) ? 0 : s_fail (error, "field %s: expected a boolean", name);
    if (strcmp (type, "array") == 0)
        return s_check_array (name, field, value, error);
    return s_fail (error, "field %s: type %s is not one a form can ask for", name, type);
}

int
elicit_content_check (json_t *schema, json_t *content, char **error)
{
    json_t *properties = json_object_get (schema, "properties");
    const char *name;
    json_t *field;
    //  SEP-1034: a field left out takes its default.
    json_object_foreach (properties, name, field) {
        json_t *fallback = json_object_get (field, "default");
        if (fallback && !json_object_get (content, name))
            json_object_set_new (content, name, json_deep_copy (fallback));
    }
    json_t *value;
    json_object_foreach (content, name, value) {
        field = json_object_get (properties, name);
        if (!field)
            return s_fail (error, "field %s: the requested schema has no such field", name);
        if (elicit_field_check (name, field, value, error))
            return -1;
    }
    size_t index;
    json_t *entry;
    json_array_foreach (json_object_get (schema, "required"), index, entry)
        if (json_is_string (entry) && !json_object_get (content, json_string_value (entry)))
            return s_fail (error, "field %s: required, and not given", json_string_value (entry));
    return 0;
}
