/*  =========================================================================
    mcp - MCP's own shapes: tool objects, tools/call params, CallToolResult

    For a host that speaks MCP to its LLM layer: tools as the servers gave
    them (less where they come from), calls as tools/call params (or the
    whole request), results as the CallToolResult. See provider.h.
    =========================================================================
*/

#include "provider.h"

#include "formats_json.h"

#include <string.h>

static json_t *
s_tool (const void *provider, json_t *tool, int flags)
{
    if (!formats_str (tool, "name"))
        return NULL;
    //  As the server gave it, less what says where it comes from
    json_t *out = json_copy (tool);
    json_object_del (out, "_mcpact");
    json_object_set_new (out, "inputSchema", formats_input_schema (tool));
    return out;
}

static json_t *
s_call (json_t *object, formats_call_t *call, const char **args_key, bool *args_text, char **error)
{
    //  tools/call params, or the whole request
    json_t *params = json_object_get (object, "params");
    return json_is_object (params) ? params : object;
}

static json_t *
s_error (json_t *result, const char *text, const char *call_id, const char *tool)
{
    if (json_is_true (json_object_get (result, "isError")))
        return json_incref (result);
    return json_pack ("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", text, "isError",
                      1);
}

static bool
s_carries (const char *mime)
{
    return false;
}

static json_t *
s_text_part (const char *text)
{
    return json_pack ("{s:s, s:s?}", "type", "text", "text", text);
}

const formats_provider_t formats_mcp = {
    .name = "mcp",
    .schema = FORMATS_SCHEMA_JSON,
    .tool = s_tool,
    .call = s_call,
    .carries = s_carries,
    .text_part = s_text_part,
    .error = s_error,
    .result = NULL, //  the CallToolResult as it came
};
