/*  =========================================================================
    formats_names - the property names each LLM API takes, and renames

    Anthropic refuses a tool whose input_schema has a property name
    outside ^[a-zA-Z0-9_.-]{1,64}$, with the whole request; Gemini
    documents a stricter rule for parameter names. These functions find
    the names a provider's rule refuses in a tool's input schema, choose
    names it takes (the same every time, none the schema uses already),
    rename a converted schema's properties and required lists with them,
    and give the map back the other way for a call's arguments. The rules,
    and where they come from, are in docs/formats.md. Pure functions, any
    thread; inputs are only read, returned json_t values are new
    references, the caller's.
    =========================================================================
*/

#ifndef MCPACT_FORMATS_NAMES_H_INCLUDED
#define MCPACT_FORMATS_NAMES_H_INCLUDED

#include "formats_schema.h"

#include <jansson.h>

//  The renames that give every property name of `input` (a tool's
//  inputSchema, any JSON value) one `subset` takes, as an object from the
//  tool's name to the name sent; NULL when none is needed (or `subset`
//  has no rule: JSON, STRICT). A new name is none the input uses anywhere,
//  and a name is renamed the same way wherever it is, so that arguments
//  map back by name alone; the same input gives the same renames.
json_t *formats_names_renames (json_t *input, formats_schema_t subset);

//  The same renames the other way: an object from the name sent to the
//  tool's name; NULL when there are none.
json_t *formats_names_back (json_t *input, formats_schema_t subset);

//  Applies `renames` (from formats_names_renames) to `schema`, a converted
//  schema changed in place: the names of its properties and in its
//  required lists, at any depth (properties, items, prefixItems, anyOf,
//  oneOf, not, additionalProperties, patternProperties, $defs). A renamed
//  property's description says the tool's name for it. The caller owns
//  `schema` whole: no part of it may be shared with another tree.
void formats_names_apply (json_t *schema, json_t *renames);

#endif
