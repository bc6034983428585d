/*  =========================================================================
    formats_json - small JSON and text helpers the provider formats share

    Header only: formats.c (tools, calls, results), formats_schema.c
    (schemas) and formats_names.c (property names) use them alike. Pure
    functions; any thread.
    =========================================================================
*/

#ifndef MCPACT_FORMATS_JSON_H_INCLUDED
#define MCPACT_FORMATS_JSON_H_INCLUDED

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

//  A message made with printf's format (malloc'ed), or NULL without memory.
static inline char *formats_printf (const char *format, ...)
    __attribute__ ((format (printf, 1, 2)));

static inline char *
formats_printf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = NULL;
    if (vasprintf (&text, format, args) < 0)
        text = NULL;
    va_end (args);
    return text;
}

//  The string value of `key` in `object`, or NULL.
static inline const char *
formats_str (json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

//  Appends `value` to `array` unless an equal value is there already.
static inline void
formats_append_once (json_t *array, json_t *value)
{
    size_t index;
    json_t *other;
    json_array_foreach (array, index, other)
        if (json_equal (other, value))
            return;
    json_array_append (array, value);
}

#endif
