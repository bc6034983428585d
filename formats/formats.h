/*  =========================================================================
    formats - tools, tool calls and tool results in the LLM APIs' shapes

    The pure half of "the LLM's view" (docs/formats.md): converting the
    merged MCP tool list into what OpenAI Chat Completions, OpenAI
    Responses, Anthropic Messages and Gemini take; picking a provider's
    tool-call object apart; checking its arguments against the tool's
    schema; and turning a CallToolResult into the provider's tool result.
    No runtime is needed, so each conversion is testable on fixed input.
    Pure functions, any thread. Returned json_t values are new references
    and returned strings are malloc'ed, both the caller's; json_t
    arguments are only read.
    =========================================================================
*/

#ifndef MCPACT_FORMATS_H_INCLUDED
#define MCPACT_FORMATS_H_INCLUDED

#include "formats_schema.h"
#include "mcpact.h"

#include <jansson.h>

//  A tool call as the LLM made it, taken out of the provider's object.
typedef struct {
    char *id;   //  the provider's call id; NULL if it gave none (Gemini may not)
    char *name; //  the tool's exposed name
    char *args; //  the arguments as JSON text, as the LLM wrote them; NULL: none given
} formats_call_t;

//  Picks a provider's tool-call object apart (an OpenAI `tool_calls`
//  entry, a Responses `function_call` item, an Anthropic `tool_use` block,
//  a Gemini `functionCall` part or bare functionCall, an MCP tools/call
//  `params`). Returns 0, or -1 and sets *error to a reason the LLM can
//  read; what was found before the problem (the id) stays in `call`.
//  Free the fields with formats_call_reset either way.
int formats_call_parse (mcpact_format_t format, const char *text, formats_call_t *call,
                        char **error);

void formats_call_reset (formats_call_t *call);

//  A tool's input schema as the `mcp` format sends it, changed only at the
//  top: an object schema with "type": "object" and "properties" (absent
//  or empty becomes {"type":"object","properties":{}}). The providers'
//  forms come from formats_schema.
json_t *formats_input_schema (json_t *tool);

//  The OpenAI strict-mode form of a schema (formats_schema, STRICT): every
//  object closed ("additionalProperties": false) with all its properties
//  required, the ones that were optional made nullable. NULL when strict
//  mode cannot carry the schema without losing arguments.
json_t *formats_strict_schema (json_t *schema);

//  The Gemini `parameters` form of a schema (formats_schema, GEMINI: the
//  OpenAPI subset its Schema object takes), or NULL when the tool has no
//  parameters and the declaration should have none.
json_t *formats_gemini_schema (json_t *schema);

//  The merged tools (a JSON array of MCP tool objects, as from
//  mcpact_agent_tools) as `format` takes them, each schema inside the
//  provider's subset (formats_schema). `flags`: MCPACT_FORMAT_STRICT; a
//  tool whose schema strict mode cannot carry goes with "strict": false.
//  NULL on a bad format or if `tools` is not an array.
json_t *formats_tools (json_t *tools, mcpact_format_t format, int flags);

//  Checks a call of tool `name` (its exposed name in `tools`) with
//  arguments `args_text` (NULL: none), made through `format`. Returns the
//  arguments to send: a JSON object, with the names `format`'s schema
//  gave properties mapped back to the tool's own (formats_names_back),
//  the nulls a strict-mode LLM puts in for optional arguments that do not
//  admit null taken out, and JSON text decoded where the schema wants an
//  object or an array and no string. On an unknown tool, arguments that
//  are not a JSON object, or a required argument missing, returns NULL
//  and sets *status (MCPACT_ERR_UNKNOWN_TOOL or MCPACT_ERR_ARGS) and
//  *error (a reason naming the tool or the field). With `tools` NULL (the
//  list could not be had) only the JSON is checked.
json_t *formats_call_args (json_t *tools, mcpact_format_t format, const char *name,
                           const char *args_text, mcpact_status_t *status, char **error);

//  A CallToolResult (its JSON text, as from mcpact_result_json), with the
//  call's status and error reason, as the provider's tool result for call
//  `call_id` of tool `tool`: an OpenAI "tool" message, a Responses
//  function_call_output item, an Anthropic tool_result block, a Gemini
//  functionResponse part, or the CallToolResult itself. NULL on a bad
//  format.
//  The reference conversion of a tool result's `content` (an array of
//  MCP content items), as mcpact_result_text gives it: one item is that
//  item as JSON, several a JSON array of them; an image, audio or binary
//  resource item is replaced by a text item noting what it was and the
//  size of its base64 data ("[image: image/png, 1234 bytes base64
//  omitted]"), never the data. A new string, the caller's; NULL out of
//  memory.
char *formats_reference_text (json_t *content);

json_t *formats_result (mcpact_format_t format, const char *result_json, mcpact_status_t status,
                        const char *error, const char *call_id, const char *tool);

#endif
