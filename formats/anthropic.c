/*  =========================================================================
    anthropic - Anthropic Messages' shapes

    Tools as {name, description, input_schema} in Anthropic's schema
    subset, a call as a `tool_use` block with its arguments in "input",
    the result as a `tool_result` block whose content holds text and the
    images Anthropic takes. See provider.h and docs/formats.md.
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
    json_t *out = json_pack ("{s:s, s:s*, s:O}", "name", declaration.name, "description",
                             declaration.description, "input_schema", declaration.schema);
    formats_declaration_free (&declaration);
    return out;
}

static json_t *
s_call (json_t *object, formats_call_t *call, const char **args_key, bool *args_text, char **error)
{
    call->id = formats_call_id (json_object_get (object, "id"));
    *error = formats_type_problem (object, "tool_use", "an Anthropic tool_use block");
    *args_key = "input";
    return object;
}

static bool
s_carries (const char *mime)
{
    return strcmp (mime, "image/png") == 0 || strcmp (mime, "image/jpeg") == 0 ||
           strcmp (mime, "image/webp") == 0 || strcmp (mime, "image/gif") == 0;
}

static json_t *
s_text_part (const char *text)
{
    return json_pack ("{s:s, s:s?}", "type", "text", "text", text);
}

static json_t *
s_image_part (const char *mime, const char *data)
{
    return json_pack ("{s:s, s:{s:s, s:s, s:s}}", "type", "image", "source", "type", "base64",
                      "media_type", mime, "data", data);
}

static json_t *
s_error (json_t *result, const char *text, const char *call_id, const char *tool)
{
    return json_pack ("{s:s, s:s, s:[{s:s, s:s}], s:b}", "type", "tool_result", "tool_use_id",
                      call_id, "content", "type", "text", "text", text, "is_error", 1);
}

static json_t *
s_result (formats_output_t *output, const char *call_id, const char *tool)
{
    if (json_array_size (output->content) > 0)
        formats_flush_run (&formats_anthropic, output->run, output->parts);
    else
        json_array_append_new (output->parts, s_text_part (output->text));
    return json_pack ("{s:s, s:s, s:O}", "type", "tool_result", "tool_use_id", call_id, "content",
                      output->parts);
}

const formats_provider_t formats_anthropic = {
    .name = "anthropic",
    .schema = FORMATS_SCHEMA_ANTHROPIC,
    .tool = s_tool,
    .call = s_call,
    .carries = s_carries,
    .text_part = s_text_part,
    .image_part = s_image_part,
    .error = s_error,
    .result = s_result,
};
