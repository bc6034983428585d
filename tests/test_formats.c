/*  =========================================================================
    test_formats - tools, tool calls and results in the LLM APIs' shapes

    Unit cases drive the pure conversions of formats/formats.h on fixed input
    and assert the exact JSON each provider gets: tool declarations (and
    the OpenAI strict and Gemini schema forms), the picking apart of each
    provider's tool-call object, the argument checks that answer without
    calling a server, and the tool-result messages. End-to-end cases run a
    real runtime with the fixture server (and, when node and the peer
    packages are there, the official server-everything) through
    mcpact_agent_call_as for every format, and the CLI's --format. Each
    case makes and stops its own runtime; single-threaded.
    =========================================================================
*/

#include "formats.h"
#include "runtime_util.h"
#include "schema_check.h"

#include <limits.h>
#include <stdarg.h>
#include <sys/wait.h>

#define PEERS_DIR MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol"
#define EVERYTHING_JS PEERS_DIR "/server-everything/dist/index.js"
#define CLI MCPACT_BUILD_DIR "/mcpact"

//  The fixture's tools, as an unknown-tool error lists them.
#define FIXTURE_TOOL_LIST                                                                          \
    "echo, add, sleep, crash, fail, multi, empty, structured, pid, env, cwd, client_answers"

//  --------------------------------------------------------------------------
//  Helpers

//  Fails unless JSON text `got` is the same JSON as `expected` (key order
//  aside), printing both.
#define CHECK_JSON(got, expected) s_check_json ((got), (expected), __FILE__, __LINE__)

static void
s_check_json (const char *got, const char *expected, const char *file, int line)
{
    json_t *want = json_loads (expected, JSON_DECODE_ANY, NULL);
    if (!want) {
        fprintf (stderr, "%s:%d: the expected JSON does not parse: %s\n", file, line, expected);
        exit (1);
    }
    json_t *have = got ? json_loads (got, JSON_DECODE_ANY, NULL) : NULL;
    if (!have || !json_equal (have, want)) {
        fprintf (stderr, "%s:%d: CHECK_JSON failed\n  got:      %s\n  expected: %s\n", file, line,
                 got ? got : "(null)", expected);
        exit (1);
    }
    json_decref (have);
    json_decref (want);
}

//  The JSON text of `json` (taken over).
static char *
s_text (json_t *json)
{
    CHECK_MSG (json != NULL, "no JSON");
    char *text = json_dumps (json, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref (json);
    return text;
}

#define CHECK_JSON_TAKE(json, expected)                                                            \
    do {                                                                                           \
        char *t_text_ = s_text (json);                                                             \
        CHECK_JSON (t_text_, expected);                                                            \
        free (t_text_);                                                                            \
    } while (0)

//  Converts `tools_text` (a JSON array of MCP tools) and checks the result.
static void
s_tools_are (const char *tools_text, mcpact_format_t format, int flags, const char *expected)
{
    json_t *tools = ru_json (tools_text);
    CHECK_JSON_TAKE (formats_tools (tools, format, flags), expected);
    json_decref (tools);
}

//  Converts a schema with `convert` and checks the result.
static void
s_schema_is (json_t *(*convert) (json_t *), const char *schema_text, const char *expected)
{
    json_t *schema = ru_json (schema_text);
    json_t *converted = convert (schema);
    if (expected)
        CHECK_JSON_TAKE (converted, expected);
    else
        CHECK_MSG (converted == NULL, "expected no schema");
    json_decref (schema);
}

//  The result message for a CallToolResult text.
static void
s_result_is (mcpact_format_t format, const char *result, mcpact_status_t status, const char *error,
             const char *call_id, const char *tool, const char *expected)
{
    CHECK_JSON_TAKE (formats_result (format, result, status, error, call_id, tool), expected);
}

//  A few tools the unit cases share: required and optional arguments, a
//  tool without a schema, one with an empty schema, our "_mcpact" and a
//  server's "_meta".
static const char *s_tools =
    "[{\"name\":\"echo\",\"description\":\"Returns the message\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"},"
    "\"loud\":{\"type\":\"boolean\"}},\"required\":[\"message\"]},"
    "\"_meta\":{\"x\":1},\"_mcpact\":{\"server\":\"fx\",\"tool\":\"echo\"}},"
    "{\"name\":\"now\",\"title\":\"Tells the time\",\"_mcpact\":{\"function\":true}},"
    "{\"name\":\"ping\",\"inputSchema\":{},\"_mcpact\":{\"server\":\"fx\",\"tool\":\"ping\"}}]";

//  --------------------------------------------------------------------------
//  Names

TEST (format_names)
{
    const char *names[] = { "mcp", "openai", "openai-responses", "anthropic", "gemini" };
    for (int format = 0; format < 5; format++) {
        CHECK_STR (mcpact_format_name ((mcpact_format_t) format), names[format]);
        CHECK (mcpact_format_from_name (names[format]) == format);
    }
    CHECK (MCPACT_FORMAT_OPENAI_RESPONSES == mcpact_format_from_name ("openai-responses"));
    CHECK (mcpact_format_from_name ("claude") == -1);
    CHECK (mcpact_format_from_name ("") == -1);
    CHECK (mcpact_format_from_name (NULL) == -1);
    CHECK_STR (mcpact_format_name ((mcpact_format_t) 42), "unknown");
}

//  --------------------------------------------------------------------------
//  Tools out

TEST (tools_openai)
{
    s_tools_are (
        s_tools, MCPACT_FORMAT_OPENAI, 0,
        "[{\"type\":\"function\",\"function\":{\"name\":\"echo\","
        "\"description\":\"Returns the message\",\"parameters\":{\"type\":\"object\","
        "\"properties\":{\"message\":{\"type\":\"string\"},\"loud\":{\"type\":\"boolean\"}},"
        "\"required\":[\"message\"]}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"now\",\"description\":\"Tells the "
        "time\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"ping\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{}}}}]");
}

TEST (tools_openai_strict)
{
    s_tools_are (
        s_tools, MCPACT_FORMAT_OPENAI, MCPACT_FORMAT_STRICT,
        "[{\"type\":\"function\",\"function\":{\"name\":\"echo\","
        "\"description\":\"Returns the message\",\"strict\":true,"
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
        "\"string\"},\"loud\":{\"type\":[\"boolean\",\"null\"]}},"
        "\"required\":[\"message\",\"loud\"],\"additionalProperties\":false}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"now\",\"description\":\"Tells the "
        "time\",\"strict\":true,\"parameters\":{\"type\":\"object\",\"properties\":{},"
        "\"required\":[],\"additionalProperties\":false}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"ping\",\"strict\":true,"
        "\"parameters\":{\"type\":\"object\",\"properties\":{},\"required\":[],"
        "\"additionalProperties\":false}}}]");
}

TEST (tools_openai_responses)
{
    //  "strict" is always said: Responses takes it as true when absent
    s_tools_are (
        s_tools, MCPACT_FORMAT_OPENAI_RESPONSES, 0,
        "[{\"type\":\"function\",\"name\":\"echo\",\"description\":\"Returns the message\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
        "\"string\"},\"loud\":{\"type\":\"boolean\"}},\"required\":[\"message\"]},"
        "\"strict\":false},"
        "{\"type\":\"function\",\"name\":\"now\",\"description\":\"Tells the time\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{}},\"strict\":false},"
        "{\"type\":\"function\",\"name\":\"ping\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{}},\"strict\":false}]");
    s_tools_are ("[{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\",\"properties\":"
                 "{\"message\":{\"type\":\"string\"}},\"required\":[\"message\"]}}]",
                 MCPACT_FORMAT_OPENAI_RESPONSES, MCPACT_FORMAT_STRICT,
                 "[{\"type\":\"function\",\"name\":\"echo\",\"parameters\":{\"type\":\"object\","
                 "\"properties\":{\"message\":{\"type\":\"string\"}},\"required\":[\"message\"],"
                 "\"additionalProperties\":false},\"strict\":true}]");
}

TEST (tools_anthropic)
{
    s_tools_are (s_tools, MCPACT_FORMAT_ANTHROPIC, MCPACT_FORMAT_STRICT,
                 "[{\"name\":\"echo\",\"description\":\"Returns the message\","
                 "\"input_schema\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
                 "\"string\"},\"loud\":{\"type\":\"boolean\"}},\"required\":[\"message\"]}},"
                 "{\"name\":\"now\",\"description\":\"Tells the time\","
                 "\"input_schema\":{\"type\":\"object\",\"properties\":{}}},"
                 "{\"name\":\"ping\",\"input_schema\":{\"type\":\"object\",\"properties\":{}}}]");
}

TEST (tools_gemini)
{
    s_tools_are (s_tools, MCPACT_FORMAT_GEMINI, 0,
                 "[{\"functionDeclarations\":["
                 "{\"name\":\"echo\",\"description\":\"Returns the message\","
                 "\"parameters\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
                 "\"string\"},\"loud\":{\"type\":\"boolean\"}},\"required\":[\"message\"]}},"
                 "{\"name\":\"now\",\"description\":\"Tells the time\"},"
                 "{\"name\":\"ping\"}]}]");
    //  No tools: nothing to declare
    s_tools_are ("[]", MCPACT_FORMAT_GEMINI, 0, "[]");
}

TEST (tools_mcp)
{
    s_tools_are (s_tools, MCPACT_FORMAT_MCP, 0,
                 "[{\"name\":\"echo\",\"description\":\"Returns the message\","
                 "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
                 "\"string\"},\"loud\":{\"type\":\"boolean\"}},\"required\":[\"message\"]},"
                 "\"_meta\":{\"x\":1}},"
                 "{\"name\":\"now\",\"title\":\"Tells the time\","
                 "\"inputSchema\":{\"type\":\"object\",\"properties\":{}}},"
                 "{\"name\":\"ping\",\"inputSchema\":{\"type\":\"object\",\"properties\":{}}}]");
}

TEST (tools_bad_input)
{
    json_t *tools = ru_json (s_tools);
    CHECK (formats_tools (tools, (mcpact_format_t) 9, 0) == NULL);
    json_t *object = json_object ();
    CHECK (formats_tools (object, MCPACT_FORMAT_OPENAI, 0) == NULL);
    CHECK (formats_tools (NULL, MCPACT_FORMAT_OPENAI, 0) == NULL);
    json_decref (object);
    json_decref (tools);
    //  A tool without a name cannot be called: it is left out
    s_tools_are ("[{\"description\":\"anonymous\"}]", MCPACT_FORMAT_ANTHROPIC, 0, "[]");
}

//  --------------------------------------------------------------------------
//  Schemas

TEST (input_schema_normalised)
{
    const char *cases[][2] = {
        { "{\"name\":\"t\"}", "{\"type\":\"object\",\"properties\":{}}" },
        { "{\"name\":\"t\",\"inputSchema\":{}}", "{\"type\":\"object\",\"properties\":{}}" },
        { "{\"name\":\"t\",\"inputSchema\":\"nonsense\"}",
          "{\"type\":\"object\",\"properties\":{}}" },
        { "{\"name\":\"t\",\"inputSchema\":{\"type\":\"object\"}}",
          "{\"type\":\"object\",\"properties\":{}}" },
        { "{\"name\":\"t\",\"inputSchema\":{\"properties\":{\"a\":{}}}}",
          "{\"type\":\"object\",\"properties\":{\"a\":{}}}" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        json_t *tool = ru_json (cases[index][0]);
        CHECK_JSON_TAKE (formats_input_schema (tool), cases[index][1]);
        json_decref (tool);
    }
}

TEST (strict_schema)
{
    //  Nested objects closed, optional properties nullable (in their type,
    //  their enum, their anyOf, or wrapped), oneOf to anyOf, allOf folded,
    //  $schema and default gone, $defs converted and kept
    s_schema_is (
        formats_strict_schema,
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"properties\":{"
        "\"name\":{\"type\":\"string\",\"default\":\"x\"},"
        "\"mode\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]},"
        "\"either\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},"
        "\"ref\":{\"$ref\":\"#/$defs/Point\"},"
        "\"maybe\":{\"type\":[\"string\",\"null\"]},"
        "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":"
        "{\"k\":{\"type\":\"string\"}}}},"
        "\"inner\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\"},"
        "\"y\":{\"type\":\"number\"}},\"required\":[\"x\"],\"additionalProperties\":true},"
        "\"mixed\":{\"allOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
        "\"required\":[\"a\"]},{\"properties\":{\"b\":{\"type\":\"string\"}}}]}},"
        "\"required\":[\"name\"],"
        "\"$defs\":{\"Point\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\"}}}}}",
        "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\"},"
        "\"mode\":{\"type\":[\"string\",\"null\"],\"enum\":[\"a\",\"b\",null]},"
        "\"either\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"},{\"type\":\"null\"}]},"
        "\"ref\":{\"anyOf\":[{\"$ref\":\"#/$defs/Point\"},{\"type\":\"null\"}]},"
        "\"maybe\":{\"type\":[\"string\",\"null\"]},"
        "\"tags\":{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"object\",\"properties\":"
        "{\"k\":{\"type\":[\"string\",\"null\"]}},\"required\":[\"k\"],"
        "\"additionalProperties\":false}},"
        "\"inner\":{\"type\":[\"object\",\"null\"],\"properties\":{\"x\":{\"type\":\"number\"},"
        "\"y\":{\"type\":[\"number\",\"null\"]}},\"required\":[\"x\",\"y\"],"
        "\"additionalProperties\":false},"
        "\"mixed\":{\"type\":[\"object\",\"null\"],\"properties\":{\"a\":{\"type\":\"string\"},"
        "\"b\":{\"type\":[\"string\",\"null\"]}},\"required\":[\"a\",\"b\"],"
        "\"additionalProperties\":false}},"
        "\"required\":[\"name\",\"mode\",\"either\",\"ref\",\"maybe\",\"tags\",\"inner\",\"mixed\"]"
        ","
        "\"additionalProperties\":false,"
        "\"$defs\":{\"Point\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":[\"number\","
        "\"null\"]}},\"required\":[\"x\"],\"additionalProperties\":false}}}");
    //  The input is only read
    json_t *schema = ru_json ("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}");
    json_t *strict = formats_strict_schema (schema);
    char *before = s_text (schema);
    CHECK_JSON (before, "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}");
    free (before);
    json_decref (strict);
}

TEST (gemini_schema)
{
    //  What Gemini's Schema does not take goes ($schema, additionalProperties,
    //  exclusiveMinimum, a format other than its own, which the description
    //  says instead); null types become nullable; several types become
    //  anyOf; $ref is copied in; const is an enum of a string; an enum of
    //  other than strings is said in the description, its type kept or
    //  guessed; an object of any keys, which Gemini refuses ("properties:
    //  should be non-empty for OBJECT type"), goes as JSON text
    s_schema_is (
        formats_gemini_schema,
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"additionalProperties\":false,\"properties\":{"
        "\"s\":{\"type\":\"string\",\"format\":\"uri\",\"default\":\"x\",\"description\":\"d\"},"
        "\"n\":{\"type\":[\"number\",\"null\"],\"exclusiveMinimum\":0,\"maximum\":9},"
        "\"u\":{\"type\":[\"string\",\"integer\"]},"
        "\"a\":{\"anyOf\":[{\"type\":\"array\",\"items\":{\"type\":\"string\"}},{\"type\":\"null\"}"
        "]},"
        "\"o\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"boolean\"}]},"
        "\"e\":{\"enum\":[1,2]},"
        "\"f\":{\"type\":\"number\",\"enum\":[0.5,1,null],\"description\":\"step\"},"
        "\"k\":{\"const\":3},"
        "\"c\":{\"const\":\"only\"},"
        "\"p\":{\"$ref\":\"#/$defs/Point\",\"description\":\"where\"},"
        "\"free\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}},"
        "\"required\":[\"s\",\"gone\"],"
        "\"$defs\":{\"Point\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\"}},"
        "\"required\":[\"x\"],\"additionalProperties\":false}}}",
        "{\"type\":\"object\",\"properties\":{"
        "\"s\":{\"type\":\"string\",\"default\":\"x\",\"description\":\"d (format: uri)\"},"
        "\"n\":{\"type\":\"number\",\"maximum\":9,\"nullable\":true},"
        "\"u\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},"
        "\"a\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"nullable\":true},"
        "\"o\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"boolean\"}]},"
        "\"e\":{\"type\":\"integer\",\"description\":\"one of [1,2]\"},"
        "\"f\":{\"type\":\"number\",\"description\":\"step (one of [0.5,1])\","
        "\"nullable\":true},"
        "\"k\":{\"type\":\"integer\",\"description\":\"one of [3]\"},"
        "\"c\":{\"type\":\"string\",\"enum\":[\"only\"]},"
        "\"p\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\"}},"
        "\"required\":[\"x\"],\"description\":\"where\"},"
        "\"free\":{\"type\":\"string\",\"description\":\"a JSON object, as a string\"}},"
        "\"required\":[\"s\"]}");
    //  No parameters: no schema at all, which Gemini prefers to an empty object
    s_schema_is (formats_gemini_schema, "{\"type\":\"object\",\"properties\":{}}", NULL);
    s_schema_is (formats_gemini_schema,
                 "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\"}",
                 NULL);
}

TEST (gemini_schema_recursive)
{
    //  A schema that refers to itself is cut after a few copies
    json_t *schema = ru_json ("{\"type\":\"object\",\"properties\":{"
                              "\"left\":{\"$ref\":\"#\"},\"right\":{\"$ref\":\"#\"},"
                              "\"value\":{\"type\":\"integer\"}}}");
    json_t *converted = formats_gemini_schema (schema);
    CHECK (converted);
    char *text = s_text (converted);
    CHECK (strlen (text) < 20000);
    CHECK_CONTAINS (text, "\"left\":{\"type\":\"object\"");
    CHECK (strstr (text, "$ref") == NULL);
    free (text);
    json_decref (schema);
}

//  --------------------------------------------------------------------------
//  Each provider's subset, on a corpus of real tool schemas

//  tests/schemas/NAME.json: tool lists from real servers and from the
//  schema generators servers use (tests/schemas/README.md says which)
static const char *s_corpus[] = { "filesystem", "everything", "memory",       "notion", "github",
                                  "zod",        "pydantic",   "alternatives", "quirks", "names" };

//  Every provider form, with and without strict mode where it has one
static const struct {
    mcpact_format_t format;
    int flags;
} s_targets[] = {
    { MCPACT_FORMAT_OPENAI, 0 },           { MCPACT_FORMAT_OPENAI, MCPACT_FORMAT_STRICT },
    { MCPACT_FORMAT_OPENAI_RESPONSES, 0 }, { MCPACT_FORMAT_OPENAI_RESPONSES, MCPACT_FORMAT_STRICT },
    { MCPACT_FORMAT_ANTHROPIC, 0 },        { MCPACT_FORMAT_GEMINI, 0 }
};

static json_t *
s_corpus_file (const char *name)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/tests/schemas/%s.json", MCPACT_SOURCE_DIR, name);
    json_error_t error;
    json_t *tools = json_load_file (path, 0, &error);
    CHECK_MSG (json_is_array (tools), "%s: %s (line %d)", path, error.text, error.line);
    return tools;
}

//  Fails unless every provider form of `tools` lies inside the provider's
//  subset and carries every parameter
static void
s_inside_subsets (json_t *tools, const char *what)
{
    for (size_t index = 0; index < sizeof s_targets / sizeof s_targets[0]; index++) {
        json_t *out = formats_tools (tools, s_targets[index].format, s_targets[index].flags);
        char *problem =
            sc_tools_problem (tools, out, s_targets[index].format, s_targets[index].flags);
        CHECK_MSG (problem == NULL, "%s as %s%s: %s", what,
                   mcpact_format_name (s_targets[index].format),
                   s_targets[index].flags ? " (strict)" : "", problem);
        json_decref (out);
    }
}

//  The declaration of tool `name` in `format`'s output for `tools`
static json_t *
s_declared (json_t *tools, mcpact_format_t format, int flags, const char *name)
{
    json_t *out = formats_tools (tools, format, flags);
    json_t *list = format == MCPACT_FORMAT_GEMINI
                       ? json_object_get (json_array_get (out, 0), "functionDeclarations")
                       : out;
    size_t index;
    json_t *entry;
    json_array_foreach (list, index, entry) {
        json_t *holder =
            format == MCPACT_FORMAT_OPENAI ? json_object_get (entry, "function") : entry;
        if (strcmp (ru_str (holder, "name"), name) == 0) {
            json_incref (holder);
            json_decref (out);
            return holder;
        }
    }
    json_decref (out);
    CHECK_MSG (false, "%s is not declared", name);
    return NULL;
}

TEST (schema_corpus)
{
    for (size_t index = 0; index < sizeof s_corpus / sizeof s_corpus[0]; index++) {
        json_t *tools = s_corpus_file (s_corpus[index]);
        s_inside_subsets (tools, s_corpus[index]);
        json_decref (tools);
    }
}

TEST (anthropic_toplevel_anyof)
{
    //  Anthropic refuses the whole request for one tool with anyOf at the
    //  top ("input_schema does not support oneOf, allOf, or anyOf at the
    //  top level"): the alternatives become optional properties, the
    //  choice goes into the description
    json_t *tools = s_corpus_file ("alternatives");
    json_t *tool = s_declared (tools, MCPACT_FORMAT_ANTHROPIC, 0, "check_index_coverage");
    CHECK_JSON_TAKE (json_incref (json_object_get (tool, "input_schema")),
                     "{\"type\":\"object\",\"properties\":{\"project\":{\"type\":\"string\"},"
                     "\"paths\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
                     "\"scopes\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
                     "\"required\":[\"project\"]}");
    CHECK_STR (ru_str (tool, "description"),
               "Report which files of a project the index covers, by path or by scope\n\n"
               "Provide at least one of: paths, or scopes.");
    json_decref (tool);
    //  Alternatives that are the whole schema: their properties are the
    //  parameters
    tool = s_declared (tools, MCPACT_FORMAT_ANTHROPIC, 0, "create_attachment");
    CHECK_JSON_TAKE (json_incref (json_object_get (tool, "input_schema")),
                     "{\"type\":\"object\",\"properties\":{\"content\":{\"type\":\"string\"},"
                     "\"source_url\":{\"type\":\"string\"}}}");
    CHECK_CONTAINS (ru_str (tool, "description"),
                    "Provide at least one of: content, or source_url.");
    json_decref (tool);
    s_inside_subsets (tools, "alternatives");
    json_decref (tools);
}

TEST (gemini_array_no_items)
{
    //  Gemini refuses an ARRAY without items ("items: missing field"), an
    //  object without "type", and a tool whose parameters went missing
    //  loses its arguments
    json_t *tools = s_corpus_file ("alternatives");
    json_t *tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "smart_fetch");
    CHECK_JSON_TAKE (json_incref (json_object_get (tool, "parameters")),
                     "{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"},"
                     "\"actions\":{\"type\":\"array\",\"description\":\"Actions to run\","
                     "\"items\":{\"type\":\"string\"}},"
                     "\"fields\":{\"type\":\"array\",\"nullable\":true,"
                     "\"items\":{\"type\":\"string\"}}},\"required\":[\"url\"]}");
    json_decref (tool);
    tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "check_index_coverage");
    CHECK_STR (ru_str (json_object_get (tool, "parameters"), "type"), "object");
    CHECK (json_object_get (json_object_get (tool, "parameters"), "anyOf") == NULL);
    json_decref (tool);
    tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "create_attachment");
    CHECK_JSON_TAKE (json_incref (json_object_get (tool, "parameters")),
                     "{\"type\":\"object\",\"properties\":{\"content\":{\"type\":\"string\"},"
                     "\"source_url\":{\"type\":\"string\"}}}");
    json_decref (tool);
    //  OpenAI refuses an array without items too ("array schema missing
    //  items")
    tool = s_declared (tools, MCPACT_FORMAT_OPENAI, 0, "smart_fetch");
    CHECK_JSON_TAKE (
        json_incref (json_object_get (
            json_object_get (json_object_get (tool, "parameters"), "properties"), "fields")),
        "{\"type\":[\"array\",\"null\"],\"items\":{}}");
    json_decref (tool);
    json_decref (tools);
}

TEST (schema_check_rejects_old_output)
{
    //  The checker the corpus runs through refuses what the conversion
    //  used to send for the two tools above
    json_t *tools = s_corpus_file ("alternatives");
    json_t *old = ru_json (
        "[{\"name\":\"check_index_coverage\",\"input_schema\":{\"type\":\"object\","
        "\"properties\":{\"project\":{\"type\":\"string\"},\"paths\":{\"type\":\"array\","
        "\"items\":{\"type\":\"string\"}},\"scopes\":{\"type\":\"array\",\"items\":{\"type\":"
        "\"string\"}}},\"required\":[\"project\"],\"anyOf\":[{\"required\":[\"paths\"]},"
        "{\"required\":[\"scopes\"]}]}},"
        "{\"name\":\"create_attachment\",\"input_schema\":{\"type\":\"object\",\"anyOf\":["
        "{\"properties\":{\"content\":{\"type\":\"string\"}},\"required\":[\"content\"]},"
        "{\"properties\":{\"source_url\":{\"type\":\"string\"}},\"required\":[\"source_url\"]}],"
        "\"properties\":{}}},"
        "{\"name\":\"smart_fetch\",\"input_schema\":{\"type\":\"object\",\"properties\":{}}}]");
    char *problem = sc_tools_problem (tools, old, MCPACT_FORMAT_ANTHROPIC, 0);
    CHECK_STR (problem, "check_index_coverage: (top): anyOf at the top");
    free (problem);
    json_decref (old);

    old = ru_json (
        "[{\"functionDeclarations\":[{\"name\":\"check_index_coverage\",\"parameters\":{"
        "\"anyOf\":[{},{}],\"properties\":{\"project\":{\"type\":\"string\"},\"paths\":{"
        "\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"scopes\":{\"type\":\"array\","
        "\"items\":{\"type\":\"string\"}}},\"required\":[\"project\"]}},"
        "{\"name\":\"create_attachment\"},{\"name\":\"smart_fetch\",\"parameters\":{"
        "\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"},\"actions\":{"
        "\"type\":\"array\",\"description\":\"Actions to run\"},\"fields\":{\"type\":\"array\","
        "\"nullable\":true}},\"required\":[\"url\"]}}]}]");
    problem = sc_tools_problem (tools, old, MCPACT_FORMAT_GEMINI, 0);
    CHECK_STR (problem, "check_index_coverage: (top): the parameters' type is not OBJECT");
    free (problem);
    //  One at a time: the parameters that went missing, the array
    json_t *declarations = json_object_get (json_array_get (old, 0), "functionDeclarations");
    json_t *fixed = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "check_index_coverage");
    json_array_set_new (declarations, 0, fixed);
    problem = sc_tools_problem (tools, old, MCPACT_FORMAT_GEMINI, 0);
    CHECK_STR (problem, "create_attachment: content: the parameter is lost");
    free (problem);
    fixed = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "create_attachment");
    json_array_set_new (declarations, 1, fixed);
    problem = sc_tools_problem (tools, old, MCPACT_FORMAT_GEMINI, 0);
    CHECK_STR (problem, "smart_fetch: /actions: an ARRAY without items");
    free (problem);
    json_decref (old);
    json_decref (tools);
}

TEST (schema_discriminated_union)
{
    //  zod's discriminatedUnion, at the top: the discriminator becomes one
    //  enum, required as every alternative required it; each alternative's
    //  own fields optional, the choice said
    json_t *tools = s_corpus_file ("zod");
    json_t *tool = s_declared (tools, MCPACT_FORMAT_OPENAI, 0, "manage_item");
    json_t *parameters = json_object_get (tool, "parameters");
    CHECK_JSON_TAKE (
        json_incref (json_object_get (json_object_get (parameters, "properties"), "action")),
        "{\"type\":\"string\",\"enum\":[\"create\",\"update\",\"delete\"]}");
    CHECK_JSON_TAKE (json_incref (json_object_get (parameters, "required")), "[\"action\"]");
    CHECK_CONTAINS (ru_str (tool, "description"),
                    "Provide at least one of: action=create with name, or action=update with id, "
                    "or action=delete with id.");
    json_decref (tool);
    json_decref (tools);
}

TEST (schema_strict_fallback)
{
    //  A map (an object of any keys) or a value of any type has no strict
    //  form: closing it would lose what the LLM could give. That tool
    //  goes without strict mode, the others keep it
    json_t *tools = s_corpus_file ("github");
    json_t *tool =
        s_declared (tools, MCPACT_FORMAT_OPENAI_RESPONSES, MCPACT_FORMAT_STRICT, "run_workflow");
    CHECK (json_is_false (json_object_get (tool, "strict")));
    CHECK_JSON_TAKE (
        json_incref (json_object_get (
            json_object_get (json_object_get (tool, "parameters"), "properties"), "inputs")),
        "{\"type\":\"object\",\"description\":\"Inputs the workflow accepts\"}");
    json_decref (tool);
    tool = s_declared (tools, MCPACT_FORMAT_OPENAI_RESPONSES, MCPACT_FORMAT_STRICT, "push_files");
    CHECK (json_is_true (json_object_get (tool, "strict")));
    json_decref (tool);
    json_decref (tools);
}

TEST (schema_strict_limits)
{
    //  Over strict mode's documented limits (10 levels of nesting, 1000
    //  enum values) the API would refuse the request: the tool goes
    //  without strict mode, and the schema still lies in the JSON subset
    json_t *deep =
        json_pack ("{s:s, s:{s:{s:s}}}", "type", "object", "properties", "leaf", "type", "string");
    for (int level = 0; level < 11; level++)
        deep = json_pack ("{s:s, s:{s:o}}", "type", "object", "properties", "next", deep);
    json_t *values = json_array ();
    for (int index = 0; index < 1001; index++)
        json_array_append_new (values, json_integer (index));
    json_t *tools = json_pack ("[{s:s, s:o}, {s:s, s:{s:s, s:{s:{s:s, s:o}}}}]", "name", "deep",
                               "inputSchema", deep, "name", "many", "inputSchema", "type", "object",
                               "properties", "n", "type", "integer", "enum", values);
    for (size_t index = 0; index < 2; index++) {
        const char *name = ru_str (json_array_get (tools, index), "name");
        json_t *tool =
            s_declared (tools, MCPACT_FORMAT_OPENAI_RESPONSES, MCPACT_FORMAT_STRICT, name);
        CHECK_MSG (json_is_false (json_object_get (tool, "strict")), "%s went strict", name);
        json_decref (tool);
    }
    s_inside_subsets (tools, "limits");
    json_decref (tools);
}

TEST (schema_gemini_json_text)
{
    //  Gemini's Schema cannot say "an object of any keys" (it refuses an
    //  OBJECT without properties): the value goes as JSON text, and the
    //  text the LLM sends is decoded before the server sees it
    json_t *tools = s_corpus_file ("github");
    json_t *tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "run_workflow");
    CHECK_JSON_TAKE (
        json_incref (json_object_get (
            json_object_get (json_object_get (tool, "parameters"), "properties"), "inputs")),
        "{\"type\":\"string\",\"description\":\"Inputs the workflow accepts "
        "(a JSON object, as a string)\"}");
    json_decref (tool);
    mcpact_status_t status;
    char *error = NULL;
    json_t *sent = formats_call_args (
        tools, MCPACT_FORMAT_GEMINI, "run_workflow",
        "{\"owner\":\"o\",\"repo\":\"r\",\"workflow_id\":\"ci.yml\",\"ref\":\"main\","
        "\"inputs\":\"{\\\"env\\\":\\\"prod\\\"}\"}",
        &status, &error);
    CHECK_JSON_TAKE (sent, "{\"owner\":\"o\",\"repo\":\"r\",\"workflow_id\":\"ci.yml\","
                           "\"ref\":\"main\",\"inputs\":{\"env\":\"prod\"}}");
    //  A string where a string belongs stays one
    sent = formats_call_args (tools, MCPACT_FORMAT_GEMINI, "run_workflow",
                              "{\"owner\":\"{}\",\"repo\":\"r\",\"workflow_id\":\"w\","
                              "\"ref\":\"main\",\"inputs\":\"not json\"}",
                              &status, &error);
    CHECK_JSON_TAKE (sent, "{\"owner\":\"{}\",\"repo\":\"r\",\"workflow_id\":\"w\","
                           "\"ref\":\"main\",\"inputs\":\"not json\"}");
    json_decref (tools);

    //  A structure that refers to itself: copied in once, then text
    tools = s_corpus_file ("pydantic");
    tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "create_ticket");
    char *text = s_text (json_incref (json_object_get (tool, "parameters")));
    CHECK (strstr (text, "$ref") == NULL && strstr (text, "$defs") == NULL);
    json_decref (tool);
    free (text);
    sent = formats_call_args (tools, MCPACT_FORMAT_GEMINI, "create_ticket",
                              "{\"title\":\"t\",\"reporter\":{\"name\":\"a\",\"friends\":"
                              "[\"{\\\"name\\\":\\\"b\\\"}\"]}}",
                              &status, &error);
    CHECK_JSON_TAKE (sent, "{\"title\":\"t\",\"reporter\":{\"name\":\"a\",\"friends\":"
                           "[{\"name\":\"b\"}]}}");
    json_decref (tools);
}

//  The tool `name` of corpus file `file`, alone in a list
static json_t *
s_corpus_tool (const char *file, const char *name)
{
    json_t *tools = s_corpus_file (file);
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool)
        if (strcmp (ru_str (tool, "name"), name) == 0) {
            json_t *one = json_pack ("[O]", tool);
            json_decref (tools);
            return one;
        }
    CHECK_MSG (false, "%s has no tool %s", file, name);
    return NULL;
}

//  The arguments a call of `name` in `tools` made through `format` sends
//  to the tool; the call must be accepted
static json_t *
s_sent_args (json_t *tools, mcpact_format_t format, const char *name, const char *args)
{
    mcpact_status_t status;
    char *error = NULL;
    json_t *sent = formats_call_args (tools, format, name, args, &status, &error);
    CHECK_MSG (sent, "%s %s: %s", name, args, error);
    return sent;
}

//  The schema of property `name` in the parameters of `declaration`
static json_t *
s_parameter (json_t *declaration, const char *name)
{
    json_t *schema = json_object_get (declaration, "input_schema");
    if (!schema)
        schema = json_object_get (declaration, "parameters");
    return json_object_get (json_object_get (schema, "properties"), name);
}

TEST (gemini_schema_formats)
{
    //  Gemini's Schema takes enum and date-time as a string's format,
    //  int32 and int64 for an integer, float and double for a number; any
    //  other refuses the whole request ("only 'enum' and 'date-time' are
    //  supported for STRING type"). server-everything's
    //  gzip-file-as-resource has a uri: the format goes, the description
    //  says it
    json_t *tools = s_corpus_tool ("everything", "gzip-file-as-resource");
    json_t *tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "gzip-file-as-resource");
    json_t *data = s_parameter (tool, "data");
    CHECK (json_object_get (data, "format") == NULL);
    CHECK_STR (ru_str (data, "description"),
               "URL or data URI of the file content to compress (format: uri)");
    json_decref (tool);
    //  The checker refuses what went before
    json_t *old = ru_json (
        "[{\"functionDeclarations\":[{\"name\":\"gzip-file-as-resource\",\"parameters\":{"
        "\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"data\":{\"type\":"
        "\"string\",\"format\":\"uri\"},\"outputType\":{\"type\":\"string\"}}}}]}]");
    char *problem = sc_tools_problem (tools, old, MCPACT_FORMAT_GEMINI, 0);
    CHECK_STR (problem, "gzip-file-as-resource: /data: format \"uri\" is not one Gemini takes "
                        "for this type");
    free (problem);
    json_decref (old);
    json_decref (tools);

    //  Every kind: those Gemini takes stay ("enum" only beside an enum),
    //  the others are said
    tools = s_corpus_tool ("quirks", "string_formats");
    tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "string_formats");
    CHECK_JSON_TAKE (
        json_incref (json_object_get (json_object_get (tool, "parameters"), "properties")),
        "{\"link\":{\"type\":\"string\",\"description\":\"Where the file is (format: uri)\"},"
        "\"mail\":{\"type\":\"string\",\"description\":\"format: email\"},"
        "\"day\":{\"type\":\"string\",\"description\":\"format: date\"},"
        "\"when\":{\"type\":\"string\",\"format\":\"date-time\"},"
        "\"id\":{\"type\":\"string\",\"description\":\"format: uuid\"},"
        "\"blob\":{\"type\":\"string\",\"description\":\"format: binary\"},"
        "\"kind\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"],\"format\":\"enum\"},"
        "\"count\":{\"type\":\"integer\",\"format\":\"int64\"},"
        "\"small\":{\"type\":\"integer\",\"description\":\"format: int8\"},"
        "\"ratio\":{\"type\":\"number\",\"format\":\"float\"},"
        "\"price\":{\"type\":\"number\",\"description\":\"format: decimal\"},"
        "\"urls\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"description\":"
        "\"format: uri\"}},"
        "\"either\":{\"type\":\"string\",\"nullable\":true,\"description\":\"format: "
        "hostname\"}}");
    json_decref (tool);
    //  JSON Schema has them all: Anthropic keeps them
    tool = s_declared (tools, MCPACT_FORMAT_ANTHROPIC, 0, "string_formats");
    CHECK_STR (ru_str (s_parameter (tool, "link"), "format"), "uri");
    json_decref (tool);
    s_inside_subsets (tools, "string_formats");
    json_decref (tools);
}

TEST (anthropic_property_names)
{
    //  Anthropic refuses the whole request for one property key outside
    //  ^[a-zA-Z0-9_.-]{1,64}$ ("Property keys should match pattern"). Such
    //  a key is renamed, at any depth; its description says the tool's
    //  name; required follows
    json_t *tools = s_corpus_tool ("names", "odata_query");
    json_t *tool = s_declared (tools, MCPACT_FORMAT_ANTHROPIC, 0, "odata_query");
    CHECK_JSON_TAKE (
        json_incref (json_object_get (tool, "input_schema")),
        "{\"type\":\"object\",\"properties\":{"
        "\"_top\":{\"type\":\"integer\",\"description\":\"How many items (the tool's parameter "
        "\\\"$top\\\")\"},"
        "\"_filter\":{\"type\":\"string\",\"description\":\"The tool's parameter "
        "\\\"$filter\\\".\"},"
        "\"_select\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":"
        "\"The tool's parameter \\\"$select\\\".\"},"
        "\"_.xgafv\":{\"type\":\"string\",\"enum\":[\"1\",\"2\"],\"description\":"
        "\"The tool's parameter \\\"$.xgafv\\\".\"},"
        "\"body\":{\"type\":\"object\",\"properties\":{"
        "\"_odata.type\":{\"type\":\"string\",\"description\":\"The tool's parameter "
        "\\\"@odata.type\\\".\"},"
        "\"displayName\":{\"type\":\"string\"},"
        "\"members_odata.bind\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
        "\"description\":\"The tool's parameter \\\"members@odata.bind\\\".\"}},"
        "\"required\":[\"_odata.type\"]},"
        "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
        "\"_odata.id\":{\"type\":\"string\",\"description\":\"The tool's parameter "
        "\\\"@odata.id\\\".\"},"
        "\"weight__\":{\"type\":\"number\",\"description\":\"The tool's parameter "
        "\\\"weight %\\\".\"}}}}},"
        "\"required\":[\"_top\"]}");
    json_decref (tool);
    //  The call gives the tool its own names back, at every depth
    CHECK_JSON_TAKE (
        s_sent_args (tools, MCPACT_FORMAT_ANTHROPIC, "odata_query",
                     "{\"_top\":5,\"_.xgafv\":\"2\",\"body\":{\"_odata.type\":\"#group\","
                     "\"members_odata.bind\":[\"u1\"]},\"items\":[{\"_odata.id\":\"i1\","
                     "\"weight__\":0.5}]}"),
        "{\"$top\":5,\"$.xgafv\":\"2\",\"body\":{\"@odata.type\":\"#group\","
        "\"members@odata.bind\":[\"u1\"]},\"items\":[{\"@odata.id\":\"i1\",\"weight %\":0.5}]}");
    //  A name the LLM writes as the tool does passes as it is
    CHECK_JSON_TAKE (s_sent_args (tools, MCPACT_FORMAT_ANTHROPIC, "odata_query", "{\"$top\":1}"),
                     "{\"$top\":1}");
    //  The required check reads the tool's names
    mcpact_status_t status;
    char *error = NULL;
    CHECK (formats_call_args (tools, MCPACT_FORMAT_ANTHROPIC, "odata_query", "{\"body\":{}}",
                              &status, &error) == NULL);
    CHECK_STR (error, "odata_query: missing the required argument '$top'");
    free (error);

    //  The checker refuses the keys that went before, and a renamed key
    //  whose description does not say the tool's name
    json_t *input = json_object_get (json_array_get (tools, 0), "inputSchema");
    json_t *old = json_pack ("[{s:s, s:o}]", "name", "odata_query", "input_schema",
                             formats_schema (input, FORMATS_SCHEMA_JSON, NULL));
    char *problem = sc_tools_problem (tools, old, MCPACT_FORMAT_ANTHROPIC, 0);
    CHECK_STR (problem, "odata_query: /properties/$top: a property key Anthropic refuses");
    free (problem);
    json_decref (old);
    old = formats_tools (tools, MCPACT_FORMAT_ANTHROPIC, 0);
    json_object_del (s_parameter (json_array_get (old, 0), "_top"), "description");
    problem = sc_tools_problem (tools, old, MCPACT_FORMAT_ANTHROPIC, 0);
    CHECK_STR (problem, "odata_query: $top: the parameter is lost");
    free (problem);
    json_decref (old);
    json_decref (tools);

    //  Through references into $defs; other scripts, the empty name and
    //  one over 64 characters; names that clash once replaced keep apart
    tools = s_corpus_tool ("names", "extract_statement");
    CHECK_JSON_TAKE (
        s_sent_args (tools, MCPACT_FORMAT_ANTHROPIC, "extract_statement",
                     "{\"Account_Number\":\"1\",\"___\":\"p\",\"__2\":\"e\","
                     "\"a_very_long_property_name_that_a_code_generator_made_from_a_whol\":\"l\","
                     "\"lines\":[{\"Unit_Price\":2,\"Qty.\":1,\"note\":{\"text_body\":\"x\"}}]}"),
        "{\"Account Number\":\"1\",\"\xe5\x8f\x96\xe5\xbc\x95\xe5\x85\x88\":\"p\",\"\":\"e\","
        "\"a_very_long_property_name_that_a_code_generator_made_from_a_whole_sentence_of_words\""
        ":\"l\",\"lines\":[{\"Unit Price\":2,\"Qty.\":1,\"note\":{\"text body\":\"x\"}}]}");
    json_decref (tools);
    tools = s_corpus_tool ("names", "clashing_names");
    tool = s_declared (tools, MCPACT_FORMAT_ANTHROPIC, 0, "clashing_names");
    CHECK_JSON_TAKE (
        json_incref (json_object_get (json_object_get (tool, "input_schema"), "required")),
        "[\"a_b_2\",\"a_b\"]");
    json_decref (tool);
    CHECK_JSON_TAKE (s_sent_args (tools, MCPACT_FORMAT_ANTHROPIC, "clashing_names",
                                  "{\"a_b_2\":\"space\",\"a_b\":\"underscore\"}"),
                     "{\"a b\":\"space\",\"a_b\":\"underscore\"}");
    json_decref (tools);
    //  The other formats take the names as they are
    tools = s_corpus_tool ("names", "odata_query");
    tool = s_declared (tools, MCPACT_FORMAT_OPENAI, 0, "odata_query");
    CHECK (s_parameter (tool, "$top") != NULL);
    json_decref (tool);
    json_decref (tools);
    tools = s_corpus_file ("names");
    s_inside_subsets (tools, "names");
    json_decref (tools);
}

TEST (gemini_parameter_names)
{
    //  Gemini documents parameter names as starting with a letter or an
    //  underscore, of letters, digits and underscores, at most 64 long:
    //  the same renaming, by its rule
    json_t *tools = s_corpus_tool ("names", "clashing_names");
    json_t *tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "clashing_names");
    CHECK_JSON_TAKE (
        json_incref (json_object_get (tool, "parameters")),
        "{\"type\":\"object\",\"properties\":{"
        "\"a_b_2\":{\"type\":\"string\",\"description\":\"The tool's parameter \\\"a b\\\".\"},"
        "\"a_b\":{\"type\":\"string\"},"
        "\"a_b_3\":{\"type\":\"string\",\"description\":\"The tool's parameter \\\"a-b\\\".\"},"
        "\"a_b_4\":{\"type\":\"string\",\"description\":\"The tool's parameter \\\"a.b\\\".\"},"
        "\"file_path_2\":{\"type\":\"string\",\"description\":\"The tool's parameter "
        "\\\"file-path\\\".\"},"
        "\"file_path\":{\"type\":\"string\"},"
        "\"_1st_2\":{\"type\":\"string\",\"description\":\"The tool's parameter \\\"1st\\\".\"},"
        "\"_1st\":{\"type\":\"integer\"}},"
        "\"required\":[\"a_b_2\",\"a_b\"]}");
    json_decref (tool);
    CHECK_JSON_TAKE (s_sent_args (tools, MCPACT_FORMAT_GEMINI, "clashing_names",
                                  "{\"a_b_2\":\"1\",\"a_b\":\"2\",\"a_b_4\":\"3\","
                                  "\"file_path_2\":\"4\",\"_1st_2\":\"5\",\"_1st\":6}"),
                     "{\"a b\":\"1\",\"a_b\":\"2\",\"a.b\":\"3\",\"file-path\":\"4\","
                     "\"1st\":\"5\",\"_1st\":6}");
    json_decref (tools);
    //  In alternatives at the top (the sentence that says the choice uses
    //  the names sent) and in a tuple
    tools = s_corpus_tool ("names", "names_in_alternatives");
    tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "names_in_alternatives");
    CHECK_CONTAINS (ru_str (tool, "description"), "Provide at least one of: by_id, or by_name.");
    json_decref (tool);
    CHECK_JSON_TAKE (s_sent_args (tools, MCPACT_FORMAT_GEMINI, "names_in_alternatives",
                                  "{\"by_id\":\"7\",\"opts\":{\"max_depth\":2},"
                                  "\"pair\":[{\"x_y\":1.5},\"s\"]}"),
                     "{\"by id\":\"7\",\"opts\":{\"max-depth\":2},\"pair\":[{\"x y\":1.5},\"s\"]}");
    json_decref (tools);
}

TEST (openai_description_limit)
{
    //  OpenAI refuses a function description over 1024 characters with the
    //  whole request ("string_above_max_length"). Cut at a character, with
    //  an ellipsis, the sentence that says the choice kept whole
    json_t *tools = s_corpus_tool ("quirks", "long_description");
    const char *whole = ru_str (json_array_get (tools, 0), "description");
    const char *note = "\n\nProvide at least one of: path, or paths.";
    mcpact_format_t formats[] = { MCPACT_FORMAT_OPENAI, MCPACT_FORMAT_OPENAI_RESPONSES };
    for (size_t index = 0; index < 2; index++) {
        json_t *tool = s_declared (tools, formats[index], 0, "long_description");
        const char *description = ru_str (tool, "description");
        size_t characters = 0;
        for (const char *at = description; *at; at++)
            characters += ((unsigned char) *at & 0xC0) != 0x80;
        CHECK_MSG (characters == 1024, "%zu characters", characters);
        size_t cut = strlen (description) - strlen (note) - strlen ("\xe2\x80\xa6");
        CHECK (strncmp (description, whole, cut) == 0);
        CHECK_STR (description + cut, "\xe2\x80\xa6\n\nProvide at least one of: path, or paths.");
        json_decref (tool);
    }
    //  Anthropic and Gemini document no limit: the description is whole
    json_t *tool = s_declared (tools, MCPACT_FORMAT_ANTHROPIC, 0, "long_description");
    CHECK (strncmp (ru_str (tool, "description"), whole, strlen (whole)) == 0);
    json_decref (tool);
    tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "long_description");
    CHECK (strncmp (ru_str (tool, "description"), whole, strlen (whole)) == 0);
    json_decref (tool);
    //  The checker refuses what went before
    json_t *old = formats_tools (tools, MCPACT_FORMAT_OPENAI_RESPONSES, 0);
    char *described = NULL;
    CHECK (asprintf (&described, "%s%s", whole, note) > 0);
    json_object_set_new (json_array_get (old, 0), "description", json_string (described));
    free (described);
    char *problem = sc_tools_problem (tools, old, MCPACT_FORMAT_OPENAI_RESPONSES, 0);
    CHECK_STR (problem, "long_description: a description of 1175 characters, over OpenAI's 1024");
    free (problem);
    json_decref (old);
    json_decref (tools);

    //  1024 characters are taken as they are; 1025 in two-byte ones cut
    //  at a character
    char text[2100];
    memset (text, 'x', 1024);
    text[1024] = 0;
    tools = json_pack ("[{s:s, s:s}]", "name", "t", "description", text);
    tool = s_declared (tools, MCPACT_FORMAT_OPENAI, 0, "t");
    CHECK_STR (ru_str (tool, "description"), text);
    json_decref (tool);
    json_decref (tools);
    for (int at = 0; at < 1025; at++)
        memcpy (text + 2 * at, "\xc3\xa9", 2);
    text[2050] = 0;
    tools = json_pack ("[{s:s, s:s}]", "name", "t", "description", text);
    tool = s_declared (tools, MCPACT_FORMAT_OPENAI, 0, "t");
    const char *cut = ru_str (tool, "description");
    CHECK (strlen (cut) == 1023 * 2 + 3);
    CHECK (strncmp (cut, text, 1023 * 2) == 0);
    CHECK_STR (cut + 1023 * 2, "\xe2\x80\xa6");
    json_decref (tool);
    json_decref (tools);
}

TEST (gemini_json_text_values)
{
    //  Every value Gemini declares as JSON text is decoded at the call: a
    //  fixed object, an untyped map, a nullable map, an object whose
    //  alternatives only require names, as well as the typed maps
    //  (schema_gemini_json_text)
    json_t *tools = s_corpus_tool ("quirks", "values_as_text");
    json_t *tool = s_declared (tools, MCPACT_FORMAT_GEMINI, 0, "values_as_text");
    const char *names[] = { "fixed", "labels", "nullable_map", "lookup" };
    for (size_t index = 0; index < 4; index++)
        CHECK_CONTAINS (ru_str (s_parameter (tool, names[index]), "description"),
                        "a JSON object, as a string");
    json_decref (tool);
    CHECK_JSON_TAKE (
        s_sent_args (tools, MCPACT_FORMAT_GEMINI, "values_as_text",
                     "{\"fixed\":\"{\\\"a\\\":1}\",\"labels\":\"{\\\"k\\\":\\\"v\\\"}\","
                     "\"nullable_map\":\"{\\\"n\\\":1}\",\"lookup\":\"{\\\"id\\\":7}\"}"),
        "{\"fixed\":{\"a\":1},\"labels\":{\"k\":\"v\"},\"nullable_map\":{\"n\":1},"
        "\"lookup\":{\"id\":7}}");
    CHECK_JSON_TAKE (s_sent_args (tools, MCPACT_FORMAT_GEMINI, "values_as_text",
                                  "{\"fixed\":\"{\\\"a\\\":1}\",\"nullable_map\":null}"),
                     "{\"fixed\":{\"a\":1},\"nullable_map\":null}");
    json_decref (tools);
}

TEST (schema_ref_escapes)
{
    //  A reference is a URI fragment holding a JSON pointer: percent-
    //  encoded (RFC 3986), "~1" for a slash and "~0" for a tilde in a
    //  name (RFC 6901). Each leads to its definition in every form
    json_t *tools = s_corpus_tool ("quirks", "escaped_refs");
    const char *expected[][2] = {
        { "slash", "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\"}}}" },
        { "space", "{\"type\":\"object\",\"properties\":{\"y\":{\"type\":\"string\"}},\"required\":"
                   "[\"y\"]}" },
        { "tilde", "{\"type\":\"object\",\"properties\":{\"z\":{\"type\":\"integer\"}}}" },
        { "both", "{\"type\":\"object\",\"properties\":{\"w\":{\"type\":\"boolean\"}}}" },
        { "percent", "{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"number\"}}}" },
    };
    mcpact_format_t formats[] = { MCPACT_FORMAT_OPENAI, MCPACT_FORMAT_ANTHROPIC,
                                  MCPACT_FORMAT_GEMINI };
    for (size_t format = 0; format < 3; format++) {
        json_t *tool = s_declared (tools, formats[format], 0, "escaped_refs");
        for (size_t index = 0; index < sizeof expected / sizeof expected[0]; index++) {
            char *text = s_text (json_incref (s_parameter (tool, expected[index][0])));
            json_t *want = ru_json (expected[index][1]);
            json_t *have = ru_json (text);
            CHECK_MSG (json_equal (want, have), "%s as %s: %s", expected[index][0],
                       mcpact_format_name (formats[format]), text);
            json_decref (want);
            json_decref (have);
            free (text);
        }
        json_decref (tool);
    }
    json_t *tool =
        s_declared (tools, MCPACT_FORMAT_OPENAI_RESPONSES, MCPACT_FORMAT_STRICT, "escaped_refs");
    CHECK (json_is_true (json_object_get (tool, "strict")));
    json_decref (tool);
    s_inside_subsets (tools, "escaped_refs");

    //  The same reading wherever a reference is followed
    json_t *root = json_object_get (json_array_get (tools, 0), "inputSchema");
    json_t *space = json_object_get (json_object_get (root, "$defs"), "c d");
    const char *refs[] = { "#/$defs/c%20d", "#/%24defs/c%20d", "#/$defs%2Fc%20d", "#/$defs/c d" };
    for (size_t index = 0; index < sizeof refs / sizeof refs[0]; index++) {
        json_t *ref = json_pack ("{s:s}", "$ref", refs[index]);
        CHECK_MSG (formats_schema_resolve (root, ref) == space, "%s", refs[index]);
        json_decref (ref);
    }
    json_t *ref = json_pack ("{s:s}", "$ref", "#/$defs/c%2");
    CHECK (formats_schema_resolve (root, ref) == NULL);
    json_decref (ref);

    //  The checker reads them too: a reference read as leading nowhere
    //  loses the parameters behind it
    json_t *old = formats_tools (tools, MCPACT_FORMAT_ANTHROPIC, 0);
    json_object_set_new (
        json_object_get (json_object_get (json_array_get (old, 0), "input_schema"), "properties"),
        "space", json_object ());
    char *problem = sc_tools_problem (tools, old, MCPACT_FORMAT_ANTHROPIC, 0);
    CHECK_STR (problem, "escaped_refs: space.y: the parameter is lost");
    free (problem);
    json_decref (old);
    json_decref (tools);
}

//  --------------------------------------------------------------------------
//  Tool calls in

//  Parses `text` as a call of `format` that must be fine.
static void
s_parse_ok (mcpact_format_t format, const char *text, const char *id, const char *name,
            const char *args)
{
    formats_call_t call;
    char *error = NULL;
    int rc = formats_call_parse (format, text, &call, &error);
    CHECK_MSG (rc == 0, "%s: %s", text, error);
    CHECK (error == NULL);
    if (id)
        CHECK_STR (call.id, id);
    else
        CHECK (call.id == NULL);
    CHECK_STR (call.name, name);
    if (args)
        CHECK_STR (call.args, args);
    else
        CHECK (call.args == NULL);
    formats_call_reset (&call);
}

//  Parses `text` as a call of `format` that must fail with `reason`.
static void
s_parse_fails (mcpact_format_t format, const char *text, const char *reason)
{
    formats_call_t call;
    char *error = NULL;
    CHECK_MSG (formats_call_parse (format, text, &call, &error) == -1, "%s parsed", text);
    CHECK_CONTAINS (error, reason);
    free (error);
    formats_call_reset (&call);
}

TEST (parse_openai)
{
    s_parse_ok (MCPACT_FORMAT_OPENAI,
                "{\"id\":\"call_abc\",\"type\":\"function\",\"function\":{\"name\":\"echo\","
                "\"arguments\":\"{\\\"message\\\":\\\"hi\\\"}\"}}",
                "call_abc", "echo", "{\"message\":\"hi\"}");
    //  Not checked here: that the text is JSON (the argument check says so)
    s_parse_ok (MCPACT_FORMAT_OPENAI,
                "{\"id\":\"c\",\"function\":{\"name\":\"echo\",\"arguments\":\"{oops\"}}", "c",
                "echo", "{oops");
    s_parse_ok (MCPACT_FORMAT_OPENAI, "{\"id\":\"c\",\"function\":{\"name\":\"now\"}}", "c", "now",
                NULL);
    s_parse_fails (MCPACT_FORMAT_OPENAI, "{\"id\":\"c\",\"name\":\"echo\"}", "\"function\"");
    s_parse_fails (MCPACT_FORMAT_OPENAI, "{\"id\":\"c\",\"type\":\"custom\",\"function\":{}}",
                   "custom");
    s_parse_fails (MCPACT_FORMAT_OPENAI, "{\"id\":\"c\",\"function\":{\"arguments\":\"{}\"}}",
                   "names no tool");
}

TEST (parse_openai_responses)
{
    s_parse_ok (MCPACT_FORMAT_OPENAI_RESPONSES,
                "{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_1\","
                "\"name\":\"echo\",\"arguments\":\"{\\\"message\\\":\\\"hi\\\"}\"}",
                "call_1", "echo", "{\"message\":\"hi\"}");
    s_parse_fails (MCPACT_FORMAT_OPENAI_RESPONSES,
                   "{\"type\":\"message\",\"call_id\":\"c\",\"name\":\"echo\"}", "function_call");
}

TEST (parse_anthropic)
{
    s_parse_ok (MCPACT_FORMAT_ANTHROPIC,
                "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"echo\","
                "\"input\":{\"message\":\"hi\"}}",
                "toolu_1", "echo", "{\"message\":\"hi\"}");
    s_parse_ok (MCPACT_FORMAT_ANTHROPIC, "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"now\"}",
                "t", "now", NULL);
    s_parse_fails (MCPACT_FORMAT_ANTHROPIC, "{\"type\":\"text\",\"text\":\"hello\"}", "tool_use");
}

TEST (parse_gemini)
{
    s_parse_ok (MCPACT_FORMAT_GEMINI,
                "{\"functionCall\":{\"name\":\"echo\",\"args\":{\"message\":\"hi\"}}}", NULL,
                "echo", "{\"message\":\"hi\"}");
    s_parse_ok (MCPACT_FORMAT_GEMINI,
                "{\"name\":\"echo\",\"args\":{\"message\":\"hi\"},\"id\":\"g1\"}", "g1", "echo",
                "{\"message\":\"hi\"}");
    s_parse_ok (MCPACT_FORMAT_GEMINI, "{\"function_call\":{\"name\":\"now\"}}", NULL, "now", NULL);
    s_parse_fails (MCPACT_FORMAT_GEMINI, "{\"functionCall\":{\"args\":{}}}", "names no tool");
}

TEST (parse_mcp)
{
    s_parse_ok (MCPACT_FORMAT_MCP, "{\"name\":\"echo\",\"arguments\":{\"message\":\"hi\"}}", NULL,
                "echo", "{\"message\":\"hi\"}");
    s_parse_ok (MCPACT_FORMAT_MCP,
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
                "\"params\":{\"name\":\"echo\",\"arguments\":{}}}",
                NULL, "echo", "{}");
}

TEST (parse_not_a_call)
{
    for (int format = 0; format < 5; format++) {
        s_parse_fails ((mcpact_format_t) format, "{not json", "not valid JSON");
        s_parse_fails ((mcpact_format_t) format, "[1,2]", "not a JSON object");
        s_parse_fails ((mcpact_format_t) format, NULL, "no tool call");
    }
}

//  The arguments a call of `name` with `args` sends, or the error.
static void
s_args_are (const char *name, const char *args, const char *expected)
{
    json_t *tools = ru_json (s_tools);
    mcpact_status_t status;
    char *error = NULL;
    json_t *sent = formats_call_args (tools, MCPACT_FORMAT_OPENAI, name, args, &status, &error);
    CHECK_MSG (sent, "%s %s: %s", name, args ? args : "(none)", error);
    CHECK (status == MCPACT_OK);
    CHECK_JSON_TAKE (sent, expected);
    json_decref (tools);
}

static void
s_args_fail (const char *name, const char *args, mcpact_status_t expected_status,
             const char *expected_error)
{
    json_t *tools = ru_json (s_tools);
    mcpact_status_t status = MCPACT_OK;
    char *error = NULL;
    json_t *sent = formats_call_args (tools, MCPACT_FORMAT_OPENAI, name, args, &status, &error);
    CHECK_MSG (sent == NULL, "%s %s was accepted", name, args ? args : "(none)");
    CHECK_MSG (status == expected_status, "status %s", mcpact_status_name (status));
    CHECK_STR (error, expected_error);
    free (error);
    json_decref (tools);
}

TEST (call_args)
{
    s_args_are ("echo", "{\"message\":\"hi\"}", "{\"message\":\"hi\"}");
    s_args_are ("now", NULL, "{}");
    s_args_are ("now", "  ", "{}");
    //  A strict-mode null for an optional argument is taken out; a null the
    //  LLM sends for a required one is its answer, for the server to judge
    s_args_are ("echo", "{\"message\":\"hi\",\"loud\":null}", "{\"message\":\"hi\"}");
    s_args_are ("echo", "{\"message\":null}", "{\"message\":null}");
    //  An argument the schema does not know passes: the server decides
    s_args_are ("echo", "{\"message\":\"hi\",\"extra\":null}",
                "{\"message\":\"hi\",\"extra\":null}");

    s_args_fail ("echo", "{\"message\":", MCPACT_ERR_ARGS,
                 "echo: the arguments are not valid JSON: "
                 "unexpected token near end of file (column 11)");
    s_args_fail ("echo", "[\"hi\"]", MCPACT_ERR_ARGS,
                 "echo: the arguments must be a JSON object, not an array");
    s_args_fail ("echo", "\"hi\"", MCPACT_ERR_ARGS,
                 "echo: the arguments must be a JSON object, not a string");
    s_args_fail ("echo", "{}", MCPACT_ERR_ARGS, "echo: missing the required argument 'message'");
    s_args_fail ("echo", "{\"loud\":true}", MCPACT_ERR_ARGS,
                 "echo: missing the required argument 'message'");
    s_args_fail ("nope", "{}", MCPACT_ERR_UNKNOWN_TOOL,
                 "there is no tool named 'nope'; the tools are: echo, now, ping");
}

TEST (call_args_several_missing)
{
    json_t *tools =
        ru_json ("[{\"name\":\"add\",\"inputSchema\":{\"type\":\"object\","
                 "\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"},"
                 "\"c\":{\"type\":\"object\",\"properties\":{\"d\":{\"type\":\"string\"}}}},"
                 "\"required\":[\"a\",\"b\"]}}]");
    mcpact_status_t status;
    char *error = NULL;
    CHECK (formats_call_args (tools, MCPACT_FORMAT_MCP, "add", "{\"c\":{}}", &status, &error) ==
           NULL);
    CHECK_STR (error, "add: missing the required arguments 'a', 'b'");
    free (error);
    //  Nested nulls for optional properties go too
    json_t *sent = formats_call_args (tools, MCPACT_FORMAT_MCP, "add",
                                      "{\"a\":1,\"b\":2,\"c\":{\"d\":null}}", &status, &error);
    CHECK_JSON_TAKE (sent, "{\"a\":1,\"b\":2,\"c\":{}}");
    //  Without a tool list only the JSON is checked
    sent = formats_call_args (NULL, MCPACT_FORMAT_MCP, "add", "{}", &status, &error);
    CHECK_JSON_TAKE (sent, "{}");
    json_decref (tools);
    //  No tools at all
    json_t *none = json_array ();
    CHECK (formats_call_args (none, MCPACT_FORMAT_MCP, "add", "{}", &status, &error) == NULL);
    CHECK_STR (error, "there is no tool named 'add' (no tools are available)");
    free (error);
    json_decref (none);
}

//  --------------------------------------------------------------------------
//  Results out

#define TEXT_RESULT "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}"
#define TEXT_ITEM "{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"hi\\\"}"
#define MULTI_RESULT                                                                               \
    "{\"content\":[{\"type\":\"text\",\"text\":\"one\"},"                                          \
    "{\"type\":\"image\",\"data\":\"iVBORw0KGgo=\",\"mimeType\":\"image/png\"},"                   \
    "{\"type\":\"text\",\"text\":\"two\"}]}"
#define FAIL_RESULT                                                                                \
    "{\"content\":[{\"type\":\"text\",\"text\":\"first part\"},"                                   \
    "{\"type\":\"text\",\"text\":\"second part\"}],\"isError\":true}"
#define STRUCTURED_RESULT                                                                          \
    "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"x\\\":1}\"}],\"structuredContent\":{\"x\":"  \
    "1}}"
#define TIMEOUT_RESULT                                                                             \
    "{\"content\":[{\"type\":\"text\",\"text\":\"no answer in 500 ms\"}],\"isError\":true}"

TEST (result_openai)
{
    mcpact_format_t f = MCPACT_FORMAT_OPENAI;
    s_result_is (f, TEXT_RESULT, MCPACT_OK, NULL, "call_1", "echo",
                 "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"" TEXT_ITEM "\"}");
    //  Chat tool messages take text only: the image is a note, never base64
    s_result_is (f, MULTI_RESULT, MCPACT_OK, NULL, "call_1", "multi",
                 "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
                 "\"[{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"one\\\"},"
                 "{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"[image: image/png, 12 bytes base64 "
                 "omitted]\\\"},{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"two\\\"}]\"}");
    s_result_is (f, FAIL_RESULT, MCPACT_ERR_TOOL, "first part\nsecond part", "call_1", "fail",
                 "{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
                 "\"content\":\"Error: first part\\nsecond part\"}");
    s_result_is (f, "{\"content\":[]}", MCPACT_ERR_TOOL, "the tool returned no content", "call_1",
                 "empty",
                 "{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
                 "\"content\":\"Error: the tool returned no content\"}");
    s_result_is (f, TIMEOUT_RESULT, MCPACT_ERR_TIMEOUT, "no answer in 500 ms", "call_1", "sleep",
                 "{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
                 "\"content\":\"Error: no answer in 500 ms\"}");
    //  Structured content alone is a result, shown as its JSON
    s_result_is (f, "{\"content\":[],\"structuredContent\":{\"x\":1}}", MCPACT_ERR_TOOL,
                 "the tool returned no content", "call_1", "structured",
                 "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"{\\\"x\\\":1}\"}");
    s_result_is (f, STRUCTURED_RESULT, MCPACT_OK, NULL, "call_1", "structured",
                 "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
                 "\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"{\\\\\\\"x\\\\\\\":1}\\\"}\"}");
}

TEST (result_openai_responses)
{
    mcpact_format_t f = MCPACT_FORMAT_OPENAI_RESPONSES;
    s_result_is (f, TEXT_RESULT, MCPACT_OK, NULL, "call_1", "echo",
                 "{\"type\":\"function_call_output\",\"call_id\":\"call_1\","
                 "\"output\":\"" TEXT_ITEM "\"}");
    //  With an image the output is a list of parts, in the content's order
    s_result_is (f, MULTI_RESULT, MCPACT_OK, NULL, "call_1", "multi",
                 "{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":["
                 "{\"type\":\"input_text\",\"text\":\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":"
                 "\\\"one\\\"}\"},"
                 "{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,iVBORw0KGgo=\"},"
                 "{\"type\":\"input_text\",\"text\":\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":"
                 "\\\"two\\\"}\"}]}");
    s_result_is (f, FAIL_RESULT, MCPACT_ERR_TOOL, NULL, "call_1", "fail",
                 "{\"type\":\"function_call_output\",\"call_id\":\"call_1\","
                 "\"output\":\"Error: first part\\nsecond part\"}");
    s_result_is (f, "{\"content\":[]}", MCPACT_ERR_TOOL, "the tool returned no content", "call_1",
                 "empty",
                 "{\"type\":\"function_call_output\",\"call_id\":\"call_1\","
                 "\"output\":\"Error: the tool returned no content\"}");
    //  Audio has no place in a function_call_output: a note
    s_result_is (
        f, "{\"content\":[{\"type\":\"audio\",\"data\":\"AAAA\",\"mimeType\":\"audio/wav\"}]}",
        MCPACT_OK, NULL, "call_1", "say",
        "{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":"
        "\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"[audio: audio/wav, 4 bytes base64 "
        "omitted]\\\"}\"}");
}

TEST (result_anthropic)
{
    mcpact_format_t f = MCPACT_FORMAT_ANTHROPIC;
    s_result_is (f, TEXT_RESULT, MCPACT_OK, NULL, "toolu_1", "echo",
                 "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
                 "\"content\":[{\"type\":\"text\",\"text\":\"" TEXT_ITEM "\"}]}");
    s_result_is (f, MULTI_RESULT, MCPACT_OK, NULL, "toolu_1", "multi",
                 "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":["
                 "{\"type\":\"text\",\"text\":\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":"
                 "\\\"one\\\"}\"},"
                 "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\","
                 "\"data\":\"iVBORw0KGgo=\"}},"
                 "{\"type\":\"text\",\"text\":\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":"
                 "\\\"two\\\"}\"}]}");
    s_result_is (f, FAIL_RESULT, MCPACT_ERR_TOOL, NULL, "toolu_1", "fail",
                 "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
                 "[{\"type\":\"text\",\"text\":\"first part\\nsecond part\"}],\"is_error\":true}");
    s_result_is (f, "{\"content\":[]}", MCPACT_ERR_TOOL, "the tool returned no content", "toolu_1",
                 "empty",
                 "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
                 "[{\"type\":\"text\",\"text\":\"the tool returned no content\"}],"
                 "\"is_error\":true}");
    s_result_is (f, "{\"content\":[],\"structuredContent\":{\"x\":1}}", MCPACT_ERR_TOOL,
                 "the tool returned no content", "toolu_1", "structured",
                 "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
                 "\"content\":[{\"type\":\"text\",\"text\":\"{\\\"x\\\":1}\"}]}");
    //  An image type Anthropic does not take, and a binary resource: notes
    s_result_is (f,
                 "{\"content\":[{\"type\":\"image\",\"data\":\"PHN2Zz4=\",\"mimeType\":"
                 "\"image/svg+xml\"},{\"type\":\"resource\",\"resource\":{\"uri\":\"file:///a.gz\","
                 "\"mimeType\":\"application/gzip\",\"blob\":\"H4sI\"}}]}",
                 MCPACT_OK, NULL, "toolu_1", "files",
                 "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":[{\"type\":"
                 "\"text\",\"text\":\"[{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"[image: "
                 "image/svg+xml, 8 bytes base64 omitted]\\\"},{\\\"type\\\":\\\"text\\\","
                 "\\\"text\\\":\\\"[resource: file:///a.gz, application/gzip, 4 bytes base64 "
                 "omitted]\\\"}]\"}]}");
}

TEST (result_gemini)
{
    mcpact_format_t f = MCPACT_FORMAT_GEMINI;
    s_result_is (f, TEXT_RESULT, MCPACT_OK, NULL, NULL, "echo",
                 "{\"functionResponse\":{\"name\":\"echo\",\"response\":{\"output\":\"" TEXT_ITEM
                 "\"}}}");
    //  The call's id, when it had one, comes back
    s_result_is (f, TEXT_RESULT, MCPACT_OK, NULL, "g1", "echo",
                 "{\"functionResponse\":{\"id\":\"g1\",\"name\":\"echo\",\"response\":"
                 "{\"output\":\"" TEXT_ITEM "\"}}}");
    //  Images go beside the response, a mark where they were
    s_result_is (f, MULTI_RESULT, MCPACT_OK, NULL, NULL, "multi",
                 "{\"functionResponse\":{\"name\":\"multi\",\"response\":{\"output\":"
                 "\"[{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"one\\\"},"
                 "{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"[image: image/png, attached]\\\"},"
                 "{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"two\\\"}]\"},"
                 "\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":"
                 "\"iVBORw0KGgo=\"}}]}}");
    s_result_is (f, FAIL_RESULT, MCPACT_ERR_TOOL, NULL, NULL, "fail",
                 "{\"functionResponse\":{\"name\":\"fail\",\"response\":"
                 "{\"error\":\"first part\\nsecond part\"}}}");
    s_result_is (f, "{\"content\":[]}", MCPACT_ERR_TOOL, "the tool returned no content", NULL,
                 "empty",
                 "{\"functionResponse\":{\"name\":\"empty\",\"response\":"
                 "{\"error\":\"the tool returned no content\"}}}");
    //  Structured content is the output itself
    s_result_is (f, STRUCTURED_RESULT, MCPACT_OK, NULL, NULL, "structured",
                 "{\"functionResponse\":{\"name\":\"structured\",\"response\":"
                 "{\"output\":{\"x\":1}}}}");
}

TEST (result_mcp)
{
    mcpact_format_t f = MCPACT_FORMAT_MCP;
    s_result_is (f, MULTI_RESULT, MCPACT_OK, NULL, "x", "multi", MULTI_RESULT);
    s_result_is (f, STRUCTURED_RESULT, MCPACT_OK, NULL, NULL, NULL, STRUCTURED_RESULT);
    s_result_is (f, FAIL_RESULT, MCPACT_ERR_TOOL, NULL, NULL, NULL, FAIL_RESULT);
    //  A failure the result does not say itself is made a tool error
    s_result_is (f, "{\"content\":[]}", MCPACT_ERR_TOOL, "the tool returned no content", NULL, NULL,
                 "{\"content\":[{\"type\":\"text\",\"text\":\"the tool returned no content\"}],"
                 "\"isError\":true}");
    CHECK (formats_result ((mcpact_format_t) 7, TEXT_RESULT, MCPACT_OK, NULL, NULL, NULL) == NULL);
}

TEST (result_unreadable)
{
    //  Garbage for a result still answers, as a tool error with the reason
    s_result_is (MCPACT_FORMAT_OPENAI, "not json", MCPACT_ERR_PROTOCOL, "garbage from the server",
                 "c", "t",
                 "{\"role\":\"tool\",\"tool_call_id\":\"c\","
                 "\"content\":\"Error: garbage from the server\"}");
    s_result_is (MCPACT_FORMAT_ANTHROPIC, NULL, MCPACT_ERR_INTERNAL, NULL, NULL, "t",
                 "{\"type\":\"tool_result\",\"tool_use_id\":\"\",\"content\":"
                 "[{\"type\":\"text\",\"text\":\"internal\"}],\"is_error\":true}");
}

//  --------------------------------------------------------------------------
//  End to end: the fixture server

typedef struct {
    mcpact_runtime_t *runtime; //  owned
    mcpact_session_t *session; //  owned
    mcpact_agent_t *agent;     //  owned
} s_rig_t;

//  A runtime, a session with one fixture server named "fx", and an agent.
static void
s_rig_open (s_rig_t *self)
{
    self->runtime = mcpact_runtime_new ();
    CHECK (self->runtime);
    self->session = mcpact_session_new (self->runtime);
    CHECK (self->session);
    mcpact_server_config_t *config = ru_fixture ("fx", NULL);
    CHECK (mcpact_session_add_server (self->session, &config) == 0);
    self->agent = mcpact_agent_new (self->session, NULL);
    CHECK (self->agent);
    json_t *report = ru_json_take (mcpact_agent_start (self->agent));
    CHECK_STR (ru_state (report, "fx"), "ready");
    json_decref (report);
}

static void
s_rig_close (s_rig_t *self)
{
    mcpact_agent_destroy (&self->agent);
    mcpact_session_destroy (&self->session);
    mcpact_runtime_destroy (&self->runtime);
}

//  The calls server `name` has answered.
static json_int_t
s_server_calls (mcpact_agent_t *agent, const char *name)
{
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *server = ru_named (status, name);
    CHECK_MSG (server, "no server %s in the status", name);
    json_int_t calls = json_integer_value (json_object_get (server, "calls"));
    json_decref (status);
    return calls;
}

//  Calls through the provider's call object and checks the message.
static void
s_call_as_is (mcpact_agent_t *agent, mcpact_format_t format, const char *call, const char *expected)
{
    char *message = mcpact_agent_call_as (agent, format, call, 0);
    CHECK_MSG (message, "no message for %s", call);
    CHECK_JSON (message, expected);
    free (message);
}

//  A call that must be answered without reaching the server.
static void
s_call_as_refused (mcpact_agent_t *agent, mcpact_format_t format, const char *call,
                   const char *expected)
{
    json_int_t before = s_server_calls (agent, "fx");
    s_call_as_is (agent, format, call, expected);
    CHECK_MSG (s_server_calls (agent, "fx") == before, "the server was called for %s", call);
}

TEST (e2e_openai)
{
    s_rig_t rig;
    s_rig_open (&rig);
    mcpact_agent_t *agent = rig.agent;
    mcpact_format_t f = MCPACT_FORMAT_OPENAI;
#define OPENAI_CALL(tool, args)                                                                    \
    "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"" tool "\","                \
    "\"arguments\":\"" args "\"}}"
    s_call_as_is (agent, f, OPENAI_CALL ("echo", "{\\\"message\\\":\\\"hi\\\"}"),
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"" TEXT_ITEM "\"}");
    s_call_as_is (agent, f, OPENAI_CALL ("multi", "{}"),
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
                  "\"[{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"one\\\"},"
                  "{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"[image: image/png, 12 bytes base64 "
                  "omitted]\\\"}]\"}");
    s_call_as_is (agent, f, OPENAI_CALL ("fail", ""),
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
                  "\"content\":\"Error: first part\\nsecond part\"}");
    s_call_as_is (agent, f, OPENAI_CALL ("empty", "{}"),
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
                  "\"content\":\"Error: the tool returned no content\"}");
    s_call_as_is (agent, f, OPENAI_CALL ("structured", "{}"),
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
                  "\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"{\\\\\\\"x\\\\\\\":1}\\\"}\"}");
    s_call_as_refused (agent, f, OPENAI_CALL ("echo", "{\\\"message\\\":"),
                       "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
                       "\"Error: echo: the arguments are not valid JSON: unexpected token near "
                       "end of file (column 11)\"}");
    s_call_as_refused (agent, f, OPENAI_CALL ("echo", "{\\\"text\\\":\\\"hi\\\"}"),
                       "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
                       "\"Error: echo: missing the required argument 'message'\"}");
    s_call_as_refused (agent, f, OPENAI_CALL ("add", "{\\\"a\\\":1}"),
                       "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
                       "\"Error: add: missing the required argument 'b'\"}");
    char *message = mcpact_agent_call_as (agent, f, OPENAI_CALL ("ehco", "{}"), 0);
    CHECK_CONTAINS (message, "\"content\":\"Error: there is no tool named 'ehco'; the tools are: "
                             "echo, add, sleep,");
    free (message);
    //  Not even a call: still a message, never NULL
    s_call_as_is (agent, f, "{\"id\":\"call_9\"}",
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_9\","
                  "\"content\":\"Error: the tool call has no \\\"function\\\" object\"}");
    s_call_as_is (agent, f, "garbage",
                  "{\"role\":\"tool\",\"tool_call_id\":\"\",\"content\":\"Error: the tool call is "
                  "not valid JSON: '[' or '{' expected near 'garbage' (column 7)\"}");
    s_call_as_is (agent, (mcpact_format_t) 99, OPENAI_CALL ("echo", "{}"),
                  "{\"content\":[{\"type\":\"text\",\"text\":\"unknown format 99\"}],"
                  "\"isError\":true}");
    CHECK (mcpact_agent_call_as (NULL, f, OPENAI_CALL ("echo", "{}"), 0) == NULL);
    s_rig_close (&rig);
}

TEST (e2e_openai_timeout)
{
    s_rig_t rig;
    s_rig_open (&rig);
    char *message = mcpact_agent_call_as (
        rig.agent, MCPACT_FORMAT_OPENAI,
        "{\"id\":\"call_1\",\"function\":{\"name\":\"sleep\",\"arguments\":\"{\\\"ms\\\":5000}\"}}",
        200);
    json_t *json = ru_json_take (message);
    CHECK_STR (ru_str (json, "role"), "tool");
    const char *content = ru_str (json, "content");
    CHECK_MSG (content && strncmp (content, "Error: ", 7) == 0, "content: %s", content);
    json_decref (json);
    s_rig_close (&rig);
}

TEST (e2e_openai_responses)
{
    s_rig_t rig;
    s_rig_open (&rig);
    mcpact_agent_t *agent = rig.agent;
    mcpact_format_t f = MCPACT_FORMAT_OPENAI_RESPONSES;
#define RESPONSES_CALL(tool, args)                                                                 \
    "{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_1\",\"name\":\"" tool "\","    \
    "\"arguments\":\"" args "\"}"
    s_call_as_is (
        agent, f, RESPONSES_CALL ("echo", "{\\\"message\\\":\\\"hi\\\"}"),
        "{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":\"" TEXT_ITEM "\"}");
    s_call_as_is (
        agent, f, RESPONSES_CALL ("multi", "{}"),
        "{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":["
        "{\"type\":\"input_text\",\"text\":\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":"
        "\\\"one\\\"}\"},"
        "{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,iVBORw0KGgo=\"}]}");
    s_call_as_is (agent, f, RESPONSES_CALL ("fail", "{}"),
                  "{\"type\":\"function_call_output\",\"call_id\":\"call_1\","
                  "\"output\":\"Error: first part\\nsecond part\"}");
    s_call_as_is (agent, f, RESPONSES_CALL ("empty", "{}"),
                  "{\"type\":\"function_call_output\",\"call_id\":\"call_1\","
                  "\"output\":\"Error: the tool returned no content\"}");
    s_call_as_is (agent, f, RESPONSES_CALL ("structured", "{}"),
                  "{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":"
                  "\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"{\\\\\\\"x\\\\\\\":1}\\\"}\"}");
    s_call_as_refused (agent, f, RESPONSES_CALL ("echo", "[]"),
                       "{\"type\":\"function_call_output\",\"call_id\":\"call_1\","
                       "\"output\":\"Error: echo: the arguments must be a JSON object, not an "
                       "array\"}");
    s_call_as_refused (agent, f, RESPONSES_CALL ("echo", "{}"),
                       "{\"type\":\"function_call_output\",\"call_id\":\"call_1\","
                       "\"output\":\"Error: echo: missing the required argument 'message'\"}");
    s_rig_close (&rig);
}

TEST (e2e_anthropic)
{
    s_rig_t rig;
    s_rig_open (&rig);
    mcpact_agent_t *agent = rig.agent;
    mcpact_format_t f = MCPACT_FORMAT_ANTHROPIC;
#define ANTHROPIC_CALL(tool, input)                                                                \
    "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"" tool "\",\"input\":" input "}"
    s_call_as_is (agent, f, ANTHROPIC_CALL ("echo", "{\"message\":\"hi\"}"),
                  "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
                  "\"content\":[{\"type\":\"text\",\"text\":\"" TEXT_ITEM "\"}]}");
    s_call_as_is (agent, f, ANTHROPIC_CALL ("multi", "{}"),
                  "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":["
                  "{\"type\":\"text\",\"text\":\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":"
                  "\\\"one\\\"}\"},"
                  "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":"
                  "\"image/png\",\"data\":\"iVBORw0KGgo=\"}}]}");
    s_call_as_is (agent, f, ANTHROPIC_CALL ("fail", "{}"),
                  "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
                  "[{\"type\":\"text\",\"text\":\"first part\\nsecond part\"}],\"is_error\":true}");
    s_call_as_is (agent, f, ANTHROPIC_CALL ("empty", "{}"),
                  "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
                  "[{\"type\":\"text\",\"text\":\"the tool returned no content\"}],"
                  "\"is_error\":true}");
    s_call_as_is (agent, f, ANTHROPIC_CALL ("structured", "{}"),
                  "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
                  "[{\"type\":\"text\",\"text\":\"{\\\"type\\\":\\\"text\\\",\\\"text\\\":"
                  "\\\"{\\\\\\\"x\\\\\\\":1}\\\"}\"}]}");
    s_call_as_refused (agent, f, ANTHROPIC_CALL ("echo", "\"hi\""),
                       "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
                       "[{\"type\":\"text\",\"text\":\"echo: the arguments must be a JSON object, "
                       "not a string\"}],\"is_error\":true}");
    s_call_as_refused (agent, f, ANTHROPIC_CALL ("env", "{}"),
                       "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
                       "[{\"type\":\"text\",\"text\":\"env: missing the required argument "
                       "'name'\"}],\"is_error\":true}");
    s_call_as_refused (agent, f, ANTHROPIC_CALL ("nope", "{}"),
                       "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":"
                       "[{\"type\":\"text\",\"text\":\"there is no tool named 'nope'; the tools "
                       "are: " FIXTURE_TOOL_LIST "\"}],\"is_error\":true}");
    s_rig_close (&rig);
}

TEST (e2e_gemini)
{
    s_rig_t rig;
    s_rig_open (&rig);
    mcpact_agent_t *agent = rig.agent;
    mcpact_format_t f = MCPACT_FORMAT_GEMINI;
    s_call_as_is (agent, f, "{\"functionCall\":{\"name\":\"echo\",\"args\":{\"message\":\"hi\"}}}",
                  "{\"functionResponse\":{\"name\":\"echo\",\"response\":{\"output\":\"" TEXT_ITEM
                  "\"}}}");
    s_call_as_is (agent, f, "{\"name\":\"echo\",\"id\":\"g7\",\"args\":{\"message\":\"hi\"}}",
                  "{\"functionResponse\":{\"id\":\"g7\",\"name\":\"echo\",\"response\":"
                  "{\"output\":\"" TEXT_ITEM "\"}}}");
    s_call_as_is (
        agent, f, "{\"functionCall\":{\"name\":\"multi\"}}",
        "{\"functionResponse\":{\"name\":\"multi\",\"response\":{\"output\":"
        "\"[{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"one\\\"},"
        "{\\\"type\\\":\\\"text\\\",\\\"text\\\":\\\"[image: image/png, attached]\\\"}]\"},"
        "\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":"
        "\"iVBORw0KGgo=\"}}]}}");
    s_call_as_is (agent, f, "{\"functionCall\":{\"name\":\"fail\",\"args\":{}}}",
                  "{\"functionResponse\":{\"name\":\"fail\",\"response\":"
                  "{\"error\":\"first part\\nsecond part\"}}}");
    s_call_as_is (agent, f, "{\"functionCall\":{\"name\":\"empty\",\"args\":{}}}",
                  "{\"functionResponse\":{\"name\":\"empty\",\"response\":"
                  "{\"error\":\"the tool returned no content\"}}}");
    s_call_as_is (agent, f, "{\"functionCall\":{\"name\":\"structured\",\"args\":{}}}",
                  "{\"functionResponse\":{\"name\":\"structured\",\"response\":"
                  "{\"output\":{\"x\":1}}}}");
    s_call_as_refused (agent, f, "{\"functionCall\":{\"name\":\"add\",\"args\":{\"b\":2}}}",
                       "{\"functionResponse\":{\"name\":\"add\",\"response\":"
                       "{\"error\":\"add: missing the required argument 'a'\"}}}");
    s_rig_close (&rig);
}

//  A function tool that answers with the arguments it was given.
static int
s_echo_args (const char *args_json, char **output, void *arg)
{
    (void) arg;
    *output = strdup (args_json);
    return 0;
}

//  The arguments s_echo_args got, out of the provider's tool result
//  `message` (taken over): its one text item, read as JSON.
static json_t *
s_echoed (mcpact_format_t format, char *message)
{
    json_t *json = ru_json_take (message);
    const char *text =
        format == MCPACT_FORMAT_GEMINI
            ? ru_str (json_object_get (json_object_get (json, "functionResponse"), "response"),
                      "output")
            : ru_str (json_array_get (json_object_get (json, "content"), 0), "text");
    json_t *item = ru_json (text);
    json_t *args = ru_json (ru_str (item, "text"));
    json_decref (item);
    json_decref (json);
    return args;
}

TEST (e2e_renamed_arguments)
{
    //  A tool whose parameter names Anthropic and Gemini refuse is declared
    //  to them under names they take; called by those, the tool gets its
    //  own names
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    CHECK (mcpact_agent_add_function (
               agent, "graph_list", "Lists with OData options",
               "{\"type\":\"object\",\"properties\":{\"$top\":{\"type\":\"integer\"},"
               "\"filter[id]\":{\"type\":\"string\"},\"body\":{\"type\":\"object\",\"properties\":"
               "{\"@odata.type\":{\"type\":\"string\"}}}},\"required\":[\"$top\"]}",
               s_echo_args, NULL) == 0);
    free (mcpact_agent_start (agent));
    const char *expected = "{\"$top\":3,\"filter[id]\":\"x\",\"body\":{\"@odata.type\":\"t\"}}";

    char *tools = mcpact_agent_tools_as (agent, MCPACT_FORMAT_ANTHROPIC, 0);
    CHECK_CONTAINS (tools, "\"_top\":{\"type\":\"integer\"");
    free (tools);
    json_t *args =
        s_echoed (MCPACT_FORMAT_ANTHROPIC,
                  mcpact_agent_call_as (
                      agent, MCPACT_FORMAT_ANTHROPIC,
                      "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"graph_list\","
                      "\"input\":{\"_top\":3,\"filter_id_\":\"x\",\"body\":{\"_odata.type\":"
                      "\"t\"}}}",
                      0));
    CHECK_JSON_TAKE (args, expected);

    tools = mcpact_agent_tools_as (agent, MCPACT_FORMAT_GEMINI, 0);
    CHECK_CONTAINS (tools, "\"_odata_type\":{\"type\":\"string\"");
    free (tools);
    args = s_echoed (MCPACT_FORMAT_GEMINI,
                     mcpact_agent_call_as (agent, MCPACT_FORMAT_GEMINI,
                                           "{\"functionCall\":{\"name\":\"graph_list\",\"args\":{"
                                           "\"_top\":3,\"filter_id_\":\"x\",\"body\":{"
                                           "\"_odata_type\":\"t\"}}}}",
                                           0));
    CHECK_JSON_TAKE (args, expected);

    //  A required argument missing is named as the tool names it
    char *message = mcpact_agent_call_as (agent, MCPACT_FORMAT_ANTHROPIC,
                                          "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":"
                                          "\"graph_list\",\"input\":{}}",
                                          0);
    CHECK_CONTAINS (message, "graph_list: missing the required argument '$top'");
    free (message);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
}

TEST (e2e_mcp)
{
    s_rig_t rig;
    s_rig_open (&rig);
    mcpact_agent_t *agent = rig.agent;
    mcpact_format_t f = MCPACT_FORMAT_MCP;
    s_call_as_is (agent, f, "{\"name\":\"echo\",\"arguments\":{\"message\":\"hi\"}}", TEXT_RESULT);
    s_call_as_is (agent, f, "{\"params\":{\"name\":\"structured\"}}", STRUCTURED_RESULT);
    s_call_as_is (agent, f, "{\"name\":\"fail\"}", FAIL_RESULT);
    s_call_as_refused (agent, f, "{\"name\":\"echo\",\"arguments\":{}}",
                       "{\"content\":[{\"type\":\"text\",\"text\":\"echo: missing the required "
                       "argument 'message'\"}],\"isError\":true}");
    s_rig_close (&rig);
}

TEST (e2e_tools_as)
{
    s_rig_t rig;
    s_rig_open (&rig);
    size_t count = mcpact_agent_tool_count (rig.agent);
    CHECK (count == 12);
    for (int format = 0; format < 5; format++) {
        json_t *tools =
            ru_json_take (mcpact_agent_tools_as (rig.agent, (mcpact_format_t) format, 0));
        CHECK (json_is_array (tools));
        if (format == MCPACT_FORMAT_GEMINI)
            CHECK (json_array_size (json_object_get (json_array_get (tools, 0),
                                                     "functionDeclarations")) == count);
        else
            CHECK (json_array_size (tools) == count);
        //  Our own key never reaches an LLM
        char *text = s_text (tools);
        CHECK (strstr (text, "_mcpact") == NULL);
        free (text);
    }
    json_t *tools = ru_json_take (mcpact_agent_tools_as (rig.agent, MCPACT_FORMAT_OPENAI, 0));
    CHECK_JSON_TAKE (json_incref (json_array_get (tools, 0)),
                     "{\"type\":\"function\",\"function\":{\"name\":\"echo\",\"description\":"
                     "\"Returns the message\",\"parameters\":{\"type\":\"object\",\"properties\":"
                     "{\"message\":{\"type\":\"string\"}},\"required\":[\"message\"]}}}");
    json_decref (tools);
    tools = ru_json_take (
        mcpact_agent_tools_as (rig.agent, MCPACT_FORMAT_OPENAI_RESPONSES, MCPACT_FORMAT_STRICT));
    CHECK_JSON_TAKE (json_incref (json_array_get (tools, 1)),
                     "{\"type\":\"function\",\"name\":\"add\",\"description\":\"Adds two numbers\","
                     "\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
                     "\"number\"},\"b\":{\"type\":\"number\"}},\"required\":[\"a\",\"b\"],"
                     "\"additionalProperties\":false},\"strict\":true}");
    json_decref (tools);
    CHECK (mcpact_agent_tools_as (rig.agent, (mcpact_format_t) 5, 0) == NULL);
    CHECK (mcpact_agent_tools_as (NULL, MCPACT_FORMAT_OPENAI, 0) == NULL);
    s_rig_close (&rig);
}

TEST (e2e_result_as)
{
    s_rig_t rig;
    s_rig_open (&rig);
    mcpact_result_t *result = mcpact_agent_call (rig.agent, "echo", "{\"message\":\"hi\"}", 0);
    char *message = mcpact_result_as (result, MCPACT_FORMAT_OPENAI, "call_1", "echo");
    CHECK_JSON (message,
                "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"" TEXT_ITEM "\"}");
    //  For text, the content is exactly the reference conversion
    json_t *json = ru_json_take (message);
    CHECK_STR (ru_str (json, "content"), mcpact_result_text (result));
    json_decref (json);
    CHECK (mcpact_result_as (result, (mcpact_format_t) 5, "c", "t") == NULL);
    CHECK (mcpact_result_as (NULL, MCPACT_FORMAT_OPENAI, "c", "t") == NULL);
    mcpact_result_destroy (&result);
    //  A runtime failure reads like any other tool error
    result = mcpact_agent_call (rig.agent, "no_such_tool", NULL, 0);
    message = mcpact_result_as (result, MCPACT_FORMAT_ANTHROPIC, "toolu_2", "no_such_tool");
    json = ru_json_take (message);
    CHECK (json_is_true (json_object_get (json, "is_error")));
    CHECK_STR (ru_str (json, "tool_use_id"), "toolu_2");
    json_decref (json);
    mcpact_result_destroy (&result);
    s_rig_close (&rig);
}

//  --------------------------------------------------------------------------
//  End to end: the official server-everything

//  Where node is, on PATH, or NULL; skips (or fails, under
//  MCPACT_REQUIRE_PEERS=1) when node or the package is missing.
static const char *
s_require_everything (void)
{
    return ru_require_peers (EVERYTHING_JS, NULL);
}

TEST (everything_tiny_image)
{
    const char *node = s_require_everything ();
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    CHECK (runtime);
    mcpact_session_t *session = mcpact_session_new (runtime);
    mcpact_server_config_t *config = mcpact_server_stdio_new ("everything", node);
    CHECK (mcpact_server_config_add_arg (config, EVERYTHING_JS) == 0);
    CHECK (mcpact_server_config_add_arg (config, "stdio") == 0);
    //  Node starts slowly on a loaded machine, more so under a sanitizer
    CHECK (mcpact_server_config_set_timeouts (config, 30000, 30000, 0) == 0);
    CHECK (mcpact_session_add_server (session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_STR (ru_state (report, "everything"), "ready");
    json_decref (report);

    //  Anthropic: text, the image as an image block, text, in that order
    json_t *message = ru_json_take (mcpact_agent_call_as (
        agent, MCPACT_FORMAT_ANTHROPIC,
        "{\"type\":\"tool_use\",\"id\":\"toolu_9\",\"name\":\"get-tiny-image\",\"input\":{}}", 0));
    CHECK_STR (ru_str (message, "type"), "tool_result");
    CHECK (json_object_get (message, "is_error") == NULL);
    json_t *content = json_object_get (message, "content");
    CHECK_MSG (json_array_size (content) == 3, "%zu blocks", json_array_size (content));
    CHECK_STR (ru_str (json_array_get (content, 0), "type"), "text");
    CHECK_CONTAINS (ru_str (json_array_get (content, 0), "text"), "Here's the image you requested");
    json_t *image = json_array_get (content, 1);
    CHECK_STR (ru_str (image, "type"), "image");
    json_t *source = json_object_get (image, "source");
    CHECK_STR (ru_str (source, "type"), "base64");
    CHECK_STR (ru_str (source, "media_type"), "image/png");
    CHECK (strncmp (ru_str (source, "data"), "iVBORw0KGgo", 11) == 0);
    size_t data_size = strlen (ru_str (source, "data"));
    CHECK_CONTAINS (ru_str (json_array_get (content, 2), "text"),
                    "The image above is the MCP logo");
    json_decref (message);

    //  Responses: input_image with a data URL
    message = ru_json_take (mcpact_agent_call_as (
        agent, MCPACT_FORMAT_OPENAI_RESPONSES,
        "{\"type\":\"function_call\",\"call_id\":\"call_9\",\"name\":\"get-tiny-image\","
        "\"arguments\":\"{}\"}",
        0));
    json_t *output = json_object_get (message, "output");
    CHECK (json_array_size (output) == 3);
    CHECK_STR (ru_str (json_array_get (output, 1), "type"), "input_image");
    CHECK (strncmp (ru_str (json_array_get (output, 1), "image_url"),
                    "data:image/png;base64,iVBORw0KGgo", 33) == 0);
    json_decref (message);

    //  Gemini: the image as an inlineData part
    message = ru_json_take (mcpact_agent_call_as (
        agent, MCPACT_FORMAT_GEMINI, "{\"functionCall\":{\"name\":\"get-tiny-image\"}}", 0));
    json_t *body = json_object_get (message, "functionResponse");
    CHECK_STR (ru_str (body, "name"), "get-tiny-image");
    json_t *parts = json_object_get (body, "parts");
    CHECK (json_array_size (parts) == 1);
    json_t *inline_data = json_object_get (json_array_get (parts, 0), "inlineData");
    CHECK_STR (ru_str (inline_data, "mimeType"), "image/png");
    CHECK (strlen (ru_str (inline_data, "data")) == data_size);
    CHECK_CONTAINS (ru_str (json_object_get (body, "response"), "output"),
                    "[image: image/png, attached]");
    json_decref (message);

    //  OpenAI Chat: no image parts in a tool message, and no base64 in text
    char *text = mcpact_agent_call_as (agent, MCPACT_FORMAT_OPENAI,
                                       "{\"id\":\"call_9\",\"type\":\"function\",\"function\":"
                                       "{\"name\":\"get-tiny-image\",\"arguments\":\"{}\"}}",
                                       0);
    CHECK (strstr (text, "iVBORw0KGgo") == NULL);
    char note[96];
    snprintf (note, sizeof note, "[image: image/png, %zu bytes base64 omitted]", data_size);
    CHECK_CONTAINS (text, note);
    free (text);

    //  The real server's schemas: "$schema" goes for Gemini, strict closes
    //  every object, and get-tiny-image declares no parameters to Gemini
    json_t *tools = ru_json_take (mcpact_agent_tools_as (agent, MCPACT_FORMAT_GEMINI, 0));
    text = s_text (tools);
    CHECK (strstr (text, "$schema") == NULL);
    CHECK_CONTAINS (text, "{\"name\":\"get-tiny-image\",\"description\":\"Returns a tiny MCP logo "
                          "image.\"}");
    free (text);
    tools =
        ru_json_take (mcpact_agent_tools_as (agent, MCPACT_FORMAT_OPENAI, MCPACT_FORMAT_STRICT));
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        json_t *parameters = json_object_get (json_object_get (tool, "function"), "parameters");
        CHECK (json_is_false (json_object_get (parameters, "additionalProperties")));
        CHECK (json_array_size (json_object_get (parameters, "required")) ==
               json_object_size (json_object_get (parameters, "properties")));
    }
    json_decref (tools);
    //  A strict-mode null for an optional argument does not reach the server
    char *sum = mcpact_agent_call_as (
        agent, MCPACT_FORMAT_OPENAI_RESPONSES,
        "{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"get-resource-links\","
        "\"arguments\":\"{\\\"count\\\":null}\"}",
        0);
    CHECK (strstr (sum, "Error:") == NULL);
    free (sum);

    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  The CLI

//  Runs the CLI with `args` (a shell-quoted tail); returns its stdout and
//  sets *status to its exit status.
static char *
s_cli (const char *args, int *status)
{
    char command[1024];
    snprintf (command, sizeof command, "%s -q %s 2>/dev/null", CLI, args);
    FILE *pipe = popen (command, "r");
    CHECK (pipe);
    size_t size = 0, max = 4096;
    char *out = (char *) malloc (max);
    CHECK (out);
    size_t got;
    while ((got = fread (out + size, 1, max - size - 1, pipe)) > 0) {
        size += got;
        if (max - size < 2) {
            max *= 2;
            out = (char *) realloc (out, max);
            CHECK (out);
        }
    }
    out[size] = 0;
    int rc = pclose (pipe);
    *status = WIFEXITED (rc) ? WEXITSTATUS (rc) : -1;
    return out;
}

TEST (cli_format)
{
    int status;
    char *out = s_cli ("tools --format anthropic", &status);
    CHECK_MSG (status == 0, "exit %d: %s", status, out);
    json_t *tools = ru_json (out);
    CHECK (json_is_array (tools) && json_array_size (tools) > 0);
    CHECK (json_object_get (ru_named (tools, "word_count"), "input_schema"));
    json_decref (tools);
    free (out);

    out = s_cli ("tools --format openai --strict", &status);
    CHECK (status == 0);
    CHECK_CONTAINS (out, "\"strict\":true");
    free (out);

    out = s_cli ("call --format openai word_count '{\"text\":\"one two three\"}'", &status);
    CHECK_MSG (status == 0, "exit %d: %s", status, out);
    json_t *message = ru_json (out);
    CHECK_STR (ru_str (message, "role"), "tool");
    CHECK_STR (ru_str (message, "tool_call_id"), "call_1");
    CHECK_CONTAINS (ru_str (message, "content"), "words");
    json_decref (message);
    free (out);

    out = s_cli ("call --format=gemini word_count '{\"text\":\"a b\"}'", &status);
    CHECK (status == 0);
    CHECK_CONTAINS (out, "\"functionResponse\":{\"name\":\"word_count\"");
    free (out);

    //  A failed call still prints the message, and fails
    out = s_cli ("call --format anthropic no_such_tool", &status);
    CHECK (status == 4); //  an unknown tool (docs/cli.md, "Exit status")
    CHECK_CONTAINS (out, "\"is_error\":true");
    free (out);

    out = s_cli ("tools --format claude", &status);
    CHECK (status == 2);
    free (out);
    out = s_cli ("tools --strict", &status);
    CHECK (status == 2);
    free (out);
    out = s_cli ("status --format openai", &status);
    CHECK (status == 2);
    free (out);
}
