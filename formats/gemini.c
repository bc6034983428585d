/*  =========================================================================
    gemini - Gemini's shapes

    Tools as function declarations grouped in one Tool, in Gemini's schema
    subset; a call as a `functionCall` part (or the bare call) with its
    arguments in "args" and an optional id; the result as a
    `functionResponse` whose response object is the output itself, with
    images beside it as parts, and the call's id echoed when it had one.
    See provider.h and docs/formats.md.
    =========================================================================
*/

#include "provider.h"

#include "formats_json.h"

#include <string.h>

static json_t *
s_tool (const void *provider, json_t *tool, int flags)
{
    formats_declaration_t declaration;
    if (!formats_declare ((const formats_provider_t *) provider, tool, flags, &declaration))
        return NULL;
    //  No schema: no parameters, which Gemini wants left out
    json_t *out =
        json_pack ("{s:s, s:s*}", "name", declaration.name, "description", declaration.description);
    if (declaration.schema)
        json_object_set (out, "parameters", declaration.schema);
    formats_declaration_free (&declaration);
    return out;
}

static json_t *
s_tools (json_t *list)
{
    //  Gemini groups function declarations in one Tool; with none there
    //  is nothing to declare, and an empty group is no use to send
    if (json_array_size (list) > 0)
        return json_pack ("[{s:o}]", "functionDeclarations", list);
    return list;
}

static json_t *
s_call (json_t *object, formats_call_t *call, const char **args_key, bool *args_text, char **error)
{
    //  A whole part {"functionCall": {...}}, or the call itself
    json_t *holder = object;
    if (json_is_object (json_object_get (object, "functionCall")))
        holder = json_object_get (object, "functionCall");
    else if (json_is_object (json_object_get (object, "function_call")))
        holder = json_object_get (object, "function_call");
    call->id = formats_call_id (json_object_get (holder, "id"));
    *args_key = "args";
    return holder;
}

static bool
s_carries (const char *mime)
{
    return strcmp (mime, "image/png") == 0 || strcmp (mime, "image/jpeg") == 0 ||
           strcmp (mime, "image/webp") == 0;
}

static json_t *
s_text_part (const char *text)
{
    return json_pack ("{s:s, s:s?}", "type", "text", "text", text);
}

static json_t *
s_image_part (const char *mime, const char *data)
{
    return json_pack ("{s:{s:s, s:s}}", "inlineData", "mimeType", mime, "data", data);
}

//  Gemini's call id is optional; echoed first when the call had one.
static json_t *
s_with_id (json_t *message, const char *call_id)
{
    if (message && *call_id) {
        json_t *body = json_object_get (message, "functionResponse");
        json_t *ordered = json_pack ("{s:s}", "id", call_id);
        json_object_update (ordered, body);
        json_object_set_new (message, "functionResponse", ordered);
    }
    return message;
}

static json_t *
s_error (json_t *result, const char *text, const char *call_id, const char *tool)
{
    return s_with_id (json_pack ("{s:{s:s, s:{s:s}}}", "functionResponse", "name", tool, "response",
                                 "error", text),
                      call_id);
}

static json_t *
s_result (formats_output_t *output, const char *call_id, const char *tool)
{
    //  Gemini reads a response object natively: structured content is the
    //  output itself (its text copy, which MCP servers send beside it,
    //  adds nothing)
    json_t *response = output->structured ? json_pack ("{s:O}", "output", output->structured)
                                          : json_pack ("{s:s?}", "output", output->text);
    json_t *body = json_pack ("{s:s, s:o}", "name", tool, "response", response);
    if (output->carried > 0)
        json_object_set (body, "parts", output->media_parts);
    return s_with_id (json_pack ("{s:o}", "functionResponse", body), call_id);
}

const formats_provider_t formats_gemini = {
    .name = "gemini",
    .schema = FORMATS_SCHEMA_GEMINI,
    .media_beside = true,
    .tool = s_tool,
    .tools = s_tools,
    .call = s_call,
    .carries = s_carries,
    .text_part = s_text_part,
    .image_part = s_image_part,
    .error = s_error,
    .result = s_result,
};
