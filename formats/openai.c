/*  =========================================================================
    openai - OpenAI's shapes: Chat Completions and Responses

    Chat Completions: tools as {"type": "function", "function": {...}}, a
    call as a `tool_calls` entry with its arguments as text, the result as
    a "tool" message with text content. Responses: tools as flat
    "function" items, a call as a `function_call` item, the result as a
    `function_call_output` whose output may hold images. Both take tool
    descriptions of 1024 characters at most and OpenAI's strict schemas on
    request. See provider.h and docs/formats.md.
    =========================================================================
*/

#include "provider.h"

#include "formats_json.h"

#include <stdlib.h>
#include <string.h>

//  OpenAI's longest function description, in characters: a longer one is
//  refused with the whole request ("string_above_max_length").
#define DESCRIPTION_MAX 1024

//  --------------------------------------------------------------------------
//  Chat Completions

static json_t *
s_chat_tool (const void *provider, json_t *tool, int flags)
{
    formats_declaration_t declaration;
    if (!formats_declare ((const formats_provider_t *) provider, tool, flags, &declaration))
        return NULL;
    json_t *function = json_pack ("{s:s, s:s*, s:O}", "name", declaration.name, "description",
                                  declaration.description, "parameters", declaration.schema);
    if (function && declaration.strict)
        json_object_set_new (function, "strict", json_true ());
    json_t *out = json_pack ("{s:s, s:o}", "type", "function", "function", function);
    formats_declaration_free (&declaration);
    return out;
}

static json_t *
s_chat_call (json_t *object, formats_call_t *call, const char **args_key, bool *args_text,
             char **error)
{
    call->id = formats_call_id (json_object_get (object, "id"));
    *args_text = true;
    *error = formats_type_problem (object, "function", "an OpenAI function tool call");
    json_t *holder = json_object_get (object, "function");
    if (!*error && !json_is_object (holder))
        *error = strdup ("the tool call has no \"function\" object");
    return holder;
}

static bool
s_chat_carries (const char *mime)
{
    return false; //  a tool message holds text only
}

static json_t *
s_chat_text_part (const char *text)
{
    return json_pack ("{s:s, s:s?}", "type", "text", "text", text);
}

static json_t *
s_chat_error (json_t *result, const char *text, const char *call_id, const char *tool)
{
    char *prefixed = formats_error_prefixed (text);
    json_t *message = json_pack ("{s:s, s:s, s:s?}", "role", "tool", "tool_call_id", call_id,
                                 "content", prefixed);
    free (prefixed);
    return message;
}

static json_t *
s_chat_result (formats_output_t *output, const char *call_id, const char *tool)
{
    return json_pack ("{s:s, s:s, s:s?}", "role", "tool", "tool_call_id", call_id, "content",
                      output->text);
}

const formats_provider_t formats_openai = {
    .name = "openai",
    .schema = FORMATS_SCHEMA_JSON,
    .strict = true,
    .description_max = DESCRIPTION_MAX,
    .tool = s_chat_tool,
    .call = s_chat_call,
    .carries = s_chat_carries,
    .text_part = s_chat_text_part,
    .error = s_chat_error,
    .result = s_chat_result,
};

//  --------------------------------------------------------------------------
//  Responses

static json_t *
s_responses_tool (const void *provider, json_t *tool, int flags)
{
    formats_declaration_t declaration;
    if (!formats_declare ((const formats_provider_t *) provider, tool, flags, &declaration))
        return NULL;
    //  Responses takes an absent "strict" as true, and would then refuse
    //  every schema that is not strict-compatible: say it
    json_t *out = json_pack ("{s:s, s:s, s:s*, s:O, s:b}", "type", "function", "name",
                             declaration.name, "description", declaration.description, "parameters",
                             declaration.schema, "strict", declaration.strict);
    formats_declaration_free (&declaration);
    return out;
}

static json_t *
s_responses_call (json_t *object, formats_call_t *call, const char **args_key, bool *args_text,
                  char **error)
{
    call->id = formats_call_id (json_object_get (object, "call_id"));
    *args_text = true;
    *error = formats_type_problem (object, "function_call", "a Responses function_call item");
    return object;
}

static bool
s_responses_carries (const char *mime)
{
    return strcmp (mime, "image/png") == 0 || strcmp (mime, "image/jpeg") == 0 ||
           strcmp (mime, "image/webp") == 0 || strcmp (mime, "image/gif") == 0;
}

static json_t *
s_responses_text_part (const char *text)
{
    return json_pack ("{s:s, s:s?}", "type", "input_text", "text", text);
}

static json_t *
s_responses_image_part (const char *mime, const char *data)
{
    char *url = formats_printf ("data:%s;base64,%s", mime, data);
    json_t *part = json_pack ("{s:s, s:s?}", "type", "input_image", "image_url", url);
    free (url);
    return part;
}

static json_t *
s_responses_error (json_t *result, const char *text, const char *call_id, const char *tool)
{
    char *prefixed = formats_error_prefixed (text);
    json_t *message = json_pack ("{s:s, s:s, s:s?}", "type", "function_call_output", "call_id",
                                 call_id, "output", prefixed);
    free (prefixed);
    return message;
}

static json_t *
s_responses_result (formats_output_t *output, const char *call_id, const char *tool)
{
    if (output->carried == 0)
        return json_pack ("{s:s, s:s, s:s?}", "type", "function_call_output", "call_id", call_id,
                          "output", output->text);
    formats_flush_run (&formats_openai_responses, output->run, output->parts);
    return json_pack ("{s:s, s:s, s:O}", "type", "function_call_output", "call_id", call_id,
                      "output", output->parts);
}

const formats_provider_t formats_openai_responses = {
    .name = "openai-responses",
    .schema = FORMATS_SCHEMA_JSON,
    .strict = true,
    .description_max = DESCRIPTION_MAX,
    .tool = s_responses_tool,
    .call = s_responses_call,
    .carries = s_responses_carries,
    .text_part = s_responses_text_part,
    .image_part = s_responses_image_part,
    .error = s_responses_error,
    .result = s_responses_result,
};
