/*  =========================================================================
    formats_schema - a tool's input schema in the subset each LLM API takes

    MCP servers describe their tools' arguments in full JSON Schema; the
    providers each take a subset of it and refuse the whole request (every
    tool, every turn) when one schema falls outside. These conversions
    always produce a schema inside the subset and never drop a parameter:
    alternatives the subset cannot hold are merged into one object of
    optional properties (and said in a note for the tool's description),
    missing types and items are added, references are resolved where the
    subset has none, property names a provider refuses are renamed
    (formats_names). The subsets, and where each rule comes from, are in
    docs/formats.md. Pure functions, any thread; input json_t values are
    only read, returned ones are new references, notes are malloc'ed, all
    the caller's.
    =========================================================================
*/

#ifndef MCPACT_FORMATS_SCHEMA_H_INCLUDED
#define MCPACT_FORMATS_SCHEMA_H_INCLUDED

#include <jansson.h>

typedef enum {
    FORMATS_SCHEMA_JSON,      //  OpenAI function parameters (not strict)
    FORMATS_SCHEMA_STRICT,    //  OpenAI strict mode (the Structured Outputs subset)
    FORMATS_SCHEMA_GEMINI,    //  Gemini's Schema object (a subset of OpenAPI 3.0)
    FORMATS_SCHEMA_ANTHROPIC, //  Anthropic input_schema: the JSON subset, its property names
} formats_schema_t;

//  What a value may be, as bits (formats_schema_takes)
enum {
    FORMATS_TAKES_STRING = 1,
    FORMATS_TAKES_OBJECT = 2,
    FORMATS_TAKES_ARRAY = 4,
    FORMATS_TAKES_OTHER = 8, //  a number, a boolean, null
    FORMATS_TAKES_ANY = 15,
};

//  `input` (a tool's inputSchema, any JSON value) as `subset` takes it.
//  JSON: always a schema. ANTHROPIC: the JSON form. In the ANTHROPIC and
//  GEMINI forms every property name the provider refuses is renamed
//  (formats_names_renames), the name the tool gave it said in the
//  property's description. STRICT: NULL when strict mode cannot carry the
//  schema without losing arguments (a map, a value of any type, over the
//  size limits): declare that tool without strict mode. GEMINI: NULL when
//  the tool has no parameters, which Gemini wants left out. If `note` is
//  not NULL it is set to a sentence for the tool's description when
//  alternatives at the top were merged, else to NULL.
json_t *formats_schema (json_t *input, formats_schema_t subset, char **note);

//  The schema `schema` stands for in `root`: the target of its "$ref"
//  (a local JSON pointer), followed a few times, else `schema` itself.
//  Borrowed; NULL if the reference leads nowhere.
json_t *formats_schema_resolve (json_t *root, json_t *schema);

//  What a value at `schema` (a schema of formats_schema's JSON form of
//  `root`) may be, read as the conversions read it: its type, else the
//  type its keywords and values imply, through references and
//  alternatives. FORMATS_TAKES_ANY when it says nothing. A string where
//  an object or an array is taken and no string is JSON text (what the
//  Gemini form declares for a value its Schema cannot describe).
int formats_schema_takes (json_t *root, json_t *schema);

#endif
