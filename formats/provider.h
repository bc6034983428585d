/*  =========================================================================
    provider - what each LLM API's shapes are: one table of operations

    formats.c does what every provider has in common (the tool list, the
    call's JSON, its arguments against the schema, gathering a result's
    content); a provider (mcp.c, openai.c, anthropic.c, gemini.c) says only
    where its shapes differ, as the transports do behind transport.h. The
    rules each follows, and what they were checked against, are in
    docs/formats.md. Pure functions, any thread; returned json_t values are
    new references, the caller's.
    =========================================================================
*/

#ifndef MCPACT_PROVIDER_H_INCLUDED
#define MCPACT_PROVIDER_H_INCLUDED

#include "formats.h"

#include <stdbool.h>

//  What a tool's declaration is made of, in a provider's form.
typedef struct {
    const char *name;  //  the tool's exposed name (the tool's own string)
    char *description; //  its description with what its schema could not say, cut to the
                       //  provider's limit; NULL if there is none
    json_t *schema;    //  its parameters in the provider's schema form; NULL: none
    bool strict;       //  in OpenAI's strict form (MCPACT_FORMAT_STRICT, where it fits)
} formats_declaration_t;

//  A successful result's content, gathered for the provider's message.
typedef struct {
    json_t *content;     //  the result's "content"
    json_t *structured;  //  its "structuredContent", or NULL
    const char *text;    //  the text-like items as the reference has them (or, with no
                         //  content, the structured content as JSON)
    json_t *run;         //  text-like items not yet put in `parts`
    json_t *parts;       //  the provider's parts so far: text runs and images between them
    json_t *media_parts; //  images that go beside the response (media_beside)
    size_t carried;      //  images sent as parts
} formats_output_t;

typedef struct {
    const char *name;        //  as mcpact_format_name gives it
    formats_schema_t schema; //  the schema form of its parameters
    bool strict;             //  takes OpenAI's strict mode
    size_t description_max;  //  its longest tool description, in characters; 0: no limit known
    bool media_beside;       //  images go beside the response, a mark left in the text

    //  One tool as the provider declares it (`tool` is the MCP tool; most
    //  providers start from formats_declare); NULL for a tool without a
    //  name. `flags`: MCPACT_FORMAT_STRICT.
    json_t *(*tool) (const void *provider, json_t *tool, int flags);
    //  The declarations as the provider takes the list (takes `list`);
    //  NULL: the array itself.
    json_t *(*tools) (json_t *list);
    //  Where the provider's tool-call `object` keeps the call: sets
    //  call->id, returns the object holding "name" and the arguments (or
    //  NULL and *error), with the arguments' key and whether they may be
    //  text.
    json_t *(*call) (json_t *object, formats_call_t *call, const char **args_key, bool *args_text,
                     char **error);
    //  True if an image of type `mime` goes inline in a tool result.
    bool (*carries) (const char *mime);
    //  A text part, and an image part for base64 `data` of type `mime`.
    json_t *(*text_part) (const char *text);
    json_t *(*image_part) (const char *mime, const char *data);
    //  The message for a failed call: `text` is what the LLM reads of it.
    json_t *(*error) (json_t *result, const char *text, const char *call_id, const char *tool);
    //  The message for a successful call; NULL op: the MCP result itself.
    json_t *(*result) (formats_output_t *output, const char *call_id, const char *tool);
} formats_provider_t;

extern const formats_provider_t formats_mcp;
extern const formats_provider_t formats_openai;
extern const formats_provider_t formats_openai_responses;
extern const formats_provider_t formats_anthropic;
extern const formats_provider_t formats_gemini;

//  The parts of `tool`'s declaration in `provider`'s form; false (nothing
//  to free) for a tool without a name. Free with formats_declaration_free.
bool formats_declare (const formats_provider_t *provider, json_t *tool, int flags,
                      formats_declaration_t *declaration);
void formats_declaration_free (formats_declaration_t *declaration);

//  Moves the text-like items gathered in `run` into `parts` as one text
//  part of `provider`'s.
void formats_flush_run (const formats_provider_t *provider, json_t *run, json_t *parts);

//  "Error: <text>", as OpenAI's tool messages say a call failed; the
//  caller frees it.
char *formats_error_prefixed (const char *text);

//  A call id: a string, or a number some proxies send; NULL otherwise.
char *formats_call_id (json_t *value);

//  A reason if `object` has a "type" other than `expected` (`what` names
//  what it should have been), else NULL.
char *formats_type_problem (json_t *object, const char *expected, const char *what);

#endif
