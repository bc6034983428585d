/*  =========================================================================
    fuzz_formats - libFuzzer target: tool schemas in each provider's subset

    Any input, read as JSON: a tools/list result ({"tools": [...]}), a
    tools array, or one inputSchema. Every provider form of it (OpenAI
    Chat and Responses, each with and without strict mode, Anthropic,
    Gemini) must lie inside that provider's subset and carry every
    parameter, by the same checker the tests use (tests/schema_check.h),
    and arguments written after each form must reach the tool under its
    own names; arguments given as the schema itself go through the
    call-in fixes.
    Never a crash, never a leak. Seeds: tests/fuzz/corpus/fuzz_formats
    (the tests' schema corpus, one tool list or schema a file).
    =========================================================================
*/

#include "formats.h"
#include "schema_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    mcpact_format_t format;
    int flags;
} s_targets[] = {
    { MCPACT_FORMAT_OPENAI, 0 },           { MCPACT_FORMAT_OPENAI, MCPACT_FORMAT_STRICT },
    { MCPACT_FORMAT_OPENAI_RESPONSES, 0 }, { MCPACT_FORMAT_OPENAI_RESPONSES, MCPACT_FORMAT_STRICT },
    { MCPACT_FORMAT_ANTHROPIC, 0 },        { MCPACT_FORMAT_GEMINI, 0 }
};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    json_t *input = json_loadb ((const char *) data, size, JSON_DECODE_ANY, NULL);
    if (!input)
        return 0;
    //  A tools/list result, a tools array, or one schema as a tool's
    json_t *tools = json_object_get (input, "tools");
    if (json_is_array (tools))
        json_incref (tools);
    else if (json_is_array (input))
        tools = json_incref (input);
    else
        tools = json_pack ("[{s:s, s:O}]", "name", "t", "inputSchema", input);

    for (size_t index = 0; index < sizeof s_targets / sizeof s_targets[0]; index++) {
        json_t *out = formats_tools (tools, s_targets[index].format, s_targets[index].flags);
        if (!out)
            abort (); //  an array in, a valid format: always an answer
        char *problem =
            sc_tools_problem (tools, out, s_targets[index].format, s_targets[index].flags);
        if (problem) {
            fprintf (stderr, "%s%s: %s\n", mcpact_format_name (s_targets[index].format),
                     s_targets[index].flags ? " (strict)" : "", problem);
            abort ();
        }
        //  What is sent must read back as the same JSON
        char *text = json_dumps (out, JSON_COMPACT);
        json_t *again = text ? json_loads (text, 0, NULL) : NULL;
        if (!again || !json_equal (again, out))
            abort ();
        json_decref (again);
        free (text);
        json_decref (out);
    }

    //  The call-in fixes (names mapped back, nulls out, JSON text decoded)
    //  on arguments that are the input itself, for the first named tool
    const char *name = json_string_value (json_object_get (json_array_get (tools, 0), "name"));
    const mcpact_format_t call_formats[] = { MCPACT_FORMAT_MCP, MCPACT_FORMAT_ANTHROPIC,
                                             MCPACT_FORMAT_GEMINI };
    for (size_t index = 0; name && index < sizeof call_formats / sizeof call_formats[0]; index++) {
        char *args = json_dumps (input, JSON_COMPACT | JSON_ENCODE_ANY);
        mcpact_status_t status;
        char *error = NULL;
        json_t *sent = formats_call_args (tools, call_formats[index], name, args, &status, &error);
        if (!sent && !error)
            abort (); //  either arguments to send or a reason
        json_decref (sent);
        free (error);
        free (args);
    }
    json_decref (tools);
    json_decref (input);
    return 0;
}
