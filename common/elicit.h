/*  =========================================================================
    elicit - the restricted form schema of elicitation/create

    MCP (2025-11-25) lets a server ask the user for a flat object of
    fields, each a string (minLength, maxLength, format email, uri, date,
    date-time), a number or integer (minimum, maximum), a boolean, a
    single-select enum (`enum`, `oneOf` of {const, title}, or `enum` with
    the legacy `enumNames`) or a multi-select enum (an array whose `items`
    have `enum` or `anyOf` of {const, title}; minItems, maxItems), with a
    `required` list. These functions check such a schema from a server
    and an answer against it, after giving the fields the answer leaves
    out their schema defaults (SEP-1034). Pure functions on jansson
    values; any thread, one value per thread at a time.
    =========================================================================
*/

#ifndef MCPACT_ELICIT_H_INCLUDED
#define MCPACT_ELICIT_H_INCLUDED

#include <jansson.h>

//  0 if `schema` is a requestedSchema this client can ask a user to fill
//  in; else -1 and *error (malloc'ed) naming the field and what is wrong.
int elicit_schema_check (json_t *schema, char **error);

//  Gives `content` (an object, changed in place) the default of every
//  field it leaves out, then checks it against `schema`: 0, or -1 and
//  *error (malloc'ed) naming the first field that does not fit.
int elicit_content_check (json_t *schema, json_t *content, char **error);

//  Checks one field's `value` against its schema `field` (a property of
//  a requestedSchema that elicit_schema_check took): 0, or -1 and *error
//  (malloc'ed) "field NAME: what is wrong". For a form asked field by
//  field, each answer as it is typed.
int elicit_field_check (const char *name, json_t *field, json_t *value, char **error);

#endif
