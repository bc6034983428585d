/*  =========================================================================
    test_config - the configuration file loader and server configurations

    Feeds configuration text (and files) through config_parse/config_load
    and checks what a user would see: the servers and agents that come out,
    and for a broken file the message naming the file and the key. Needs
    only libc and jansson; sets and unsets a few MCPACT_TEST_* variables.
    =========================================================================
*/

#include "config.h"
#include "testutil.h"

#include <limits.h>

#include <sys/stat.h>
#include <unistd.h>

//  Parses text that must load, failing the test with the message if not.
static config_t *
s_parse_ok (const char *text)
{
    char *error = NULL;
    config_t *config = config_parse (text, "servers.json", &error);
    CHECK_MSG (config != NULL, "unexpected error: %s", error ? error : "(none)");
    CHECK (error == NULL);
    return config;
}

//  Parses text that must fail and checks the whole message.
static void
s_parse_fails (const char *text, const char *expected)
{
    char *error = NULL;
    config_t *config = config_parse (text, "servers.json", &error);
    CHECK_MSG (config == NULL, "no error for: %s", text);
    CHECK_STR (error, expected);
    free (error);
}

static const mcpact_server_config_t *
s_server (const config_t *config, const char *name)
{
    for (size_t i = 0; i < config->servers_count; i++)
        if (strcmp (config->servers[i]->name, name) == 0)
            return config->servers[i];
    return NULL;
}

static const char *
s_pair (const mcpact_pair_t *pairs, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (pairs[i].name, name) == 0)
            return pairs[i].value;
    return NULL;
}

TEST (mcp_servers_format)
{
    setenv ("MCPACT_TEST_TOKEN", "s3cret", 1);
    config_t *config = s_parse_ok (
        "{ \"mcpServers\": {\n"
        "    \"files\": { \"command\": \"npx\",\n"
        "               \"args\": [\"-y\", \"@modelcontextprotocol/server-filesystem\",\n"
        "                        \"/data\"],\n"
        "               \"env\": { \"LOG\": \"1\" }, \"cwd\": \"/srv\" },\n"
        "    \"shop\": { \"url\": \"https://shop.example.com/mcp\",\n"
        "               \"headers\": { \"Authorization\": \"Bearer ${MCPACT_TEST_TOKEN}\" },\n"
        "               \"allowedTools\": [\"search_products\", \"get_product_details\"] }\n"
        "  },\n"
        "  \"agents\": { \"support\": { \"mcpServers\": [\"shop\"] } } }");
    CHECK (config->servers_count == 2);
    const mcpact_server_config_t *files = config->servers[0];
    CHECK_STR (mcpact_server_config_name (files), "files");
    CHECK_STR (files->command, "npx");
    CHECK (files->args_count == 3);
    CHECK_STR (files->args[0], "-y");
    CHECK_STR (files->args[2], "/data");
    CHECK (files->args[3] == NULL);
    CHECK_STR (s_pair (files->env, files->env_count, "LOG"), "1");
    CHECK_STR (files->cwd, "/srv");
    CHECK (files->url == NULL);
    CHECK (server_config_transport (files) == MCPACT_TRANSPORT_STDIO);
    CHECK (files->error == NULL);

    const mcpact_server_config_t *shop = config->servers[1];
    CHECK_STR (shop->name, "shop");
    CHECK_STR (shop->url, "https://shop.example.com/mcp");
    CHECK (shop->command == NULL);
    CHECK_STR (s_pair (shop->headers, shop->headers_count, "Authorization"), "Bearer s3cret");
    CHECK (server_config_transport (shop) == MCPACT_TRANSPORT_STREAMABLE_HTTP);
    CHECK (server_config_allows (shop, "search_products"));
    CHECK (!server_config_allows (shop, "delete_everything"));

    CHECK (config->agents_count == 1);
    CHECK_STR (config->agents[0].name, "support");
    CHECK (config->agents[0].servers_count == 1);
    CHECK_STR (config->agents[0].servers[0]->name, "shop");
    CHECK (config->name_policy == MCPACT_NAMES_REJECT);
    config_destroy (&config);
    CHECK (config == NULL);
}

TEST (vscode_servers_format)
{
    config_t *config = s_parse_ok (
        "{ \"inputs\": [],\n"
        "  \"servers\": {\n"
        "    \"local\":  { \"type\": \"stdio\", \"command\": \"node\", \"args\": [\"s.js\"] },\n"
        "    \"remote\": { \"type\": \"http\", \"url\": \"http://localhost:3000/mcp\" },\n"
        "    \"legacy\": { \"type\": \"sse\", \"url\": \"http://localhost:3000/events\" },\n"
        "    \"stream\": { \"type\": \"streamableHttp\", \"url\": \"http://h/sse\" },\n"
        "    \"stream2\": { \"type\": \"streamable-http\", \"url\": \"http://h/sse\" }\n"
        "  } }");
    CHECK (config->servers_count == 5);
    CHECK (server_config_transport (s_server (config, "local")) == MCPACT_TRANSPORT_STDIO);
    CHECK (server_config_transport (s_server (config, "remote")) ==
           MCPACT_TRANSPORT_STREAMABLE_HTTP);
    CHECK (server_config_transport (s_server (config, "legacy")) == MCPACT_TRANSPORT_SSE);
    CHECK (server_config_transport (s_server (config, "stream")) ==
           MCPACT_TRANSPORT_STREAMABLE_HTTP);
    CHECK (server_config_transport (s_server (config, "stream2")) ==
           MCPACT_TRANSPORT_STREAMABLE_HTTP);
    config_destroy (&config);

    //  Agents name servers of whichever key the file uses.
    s_parse_fails ("{\"servers\": {\"a\": {\"command\": \"x\"}},"
                   " \"agents\": {\"bot\": {\"mcpServers\": [\"b\"]}}}",
                   "servers.json: agents.bot.mcpServers[0]: unknown server \"b\" "
                   "(not in \"servers\")");
}

TEST (top_level_errors)
{
    s_parse_fails ("{\"mcpServers\": {}, \"servers\": {}}",
                   "servers.json: both \"mcpServers\" and \"servers\" are present; use one");
    s_parse_fails ("{\"agents\": {}}",
                   "servers.json: no \"mcpServers\" (or \"servers\", or \"mcp\": {\"servers\"}) "
                   "object at the top level");
    s_parse_fails ("[1, 2]", "servers.json: the top level must be a JSON object");
    s_parse_fails ("{\"mcpServers\": []}",
                   "servers.json: mcpServers: must be an object of servers");
    s_parse_fails ("{\"servers\": null}", "servers.json: servers: must be an object of servers");
    s_parse_fails ("{\"mcpServers\": {}, \"agents\": []}",
                   "servers.json: agents: must be an object of agents");

    //  An empty server list is a valid (if useless) file.
    config_t *config = s_parse_ok ("{\"mcpServers\": {}}");
    CHECK (config->servers_count == 0);
    CHECK (config->agents_count == 0);
    config_destroy (&config);
}

TEST (json_syntax_error)
{
    char *error = NULL;
    config_t *config = config_parse ("{\n"
                                     "  \"mcpServers\": {\n"
                                     "    \"a\": { \"command\": \"x\" }:\n"
                                     "  }\n"
                                     "}\n",
                                     "servers.json", &error);
    CHECK (config == NULL);
    CHECK_CONTAINS (error, "servers.json: line 3, column ");
    free (error);

    //  A server given twice would silently lose one of them.
    config = config_parse ("{\"mcpServers\": {\"a\": {\"command\": \"x\"},\n"
                           "                \"a\": {\"command\": \"y\"}}}",
                           "servers.json", &error);
    CHECK (config == NULL);
    CHECK_CONTAINS (error, "servers.json: line 2, column ");
    CHECK_CONTAINS (error, "duplicate");
    free (error);

    config = config_parse ("", "empty.json", &error);
    CHECK (config == NULL);
    CHECK_CONTAINS (error, "empty.json: line 1, column ");
    free (error);
}

TEST (transport_detection)
{
    config_t *config = s_parse_ok (
        "{\"mcpServers\": {\n"
        "  \"mcp\":      {\"url\": \"https://h.example/mcp\"},\n"
        "  \"sse\":      {\"url\": \"https://h.example/v1/sse\"},\n"
        "  \"sse_q\":    {\"url\": \"https://h.example/sse/?token=1#frag\"},\n"
        "  \"sse_case\": {\"url\": \"HTTPS://h.example/SSE\"},\n"
        "  \"not_sse\":  {\"url\": \"https://h.example/mcp?next=/sse\"},\n"
        "  \"sse_host\": {\"url\": \"https://sse\"},\n"
        "  \"bare\":     {\"url\": \"http://localhost:8080\"},\n"
        "  \"forced\":   {\"url\": \"https://h.example/sse\",\n"
        "                \"transport\": \"streamable_http\"},\n"
        "  \"forced2\":  {\"url\": \"https://h.example/mcp\", \"transport\": \"sse\"},\n"
        "  \"wins\":     {\"url\": \"https://h.example/mcp\", \"type\": \"sse\",\n"
        "                \"transport\": \"auto\"},\n"
        "  \"stdio\":    {\"command\": \"x\", \"transport\": \"stdio\"}\n"
        "}}");
    struct {
        const char *name;
        mcpact_transport_t transport;
    } expected[] = {
        { "mcp", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "sse", MCPACT_TRANSPORT_SSE },
        { "sse_q", MCPACT_TRANSPORT_SSE },
        { "sse_case", MCPACT_TRANSPORT_SSE },
        { "not_sse", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "sse_host", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "bare", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "forced", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "forced2", MCPACT_TRANSPORT_SSE },
        { "wins", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "stdio", MCPACT_TRANSPORT_STDIO },
    };
    CHECK (config->servers_count == sizeof (expected) / sizeof (expected[0]));
    for (size_t i = 0; i < config->servers_count; i++) {
        const mcpact_server_config_t *server = s_server (config, expected[i].name);
        CHECK_MSG (server != NULL, "%s missing", expected[i].name);
        mcpact_transport_t got = server_config_transport (server);
        CHECK_MSG (got == expected[i].transport, "%s: got %s, expected %s", expected[i].name,
                   server_config_transport_name (got),
                   server_config_transport_name (expected[i].transport));
        CHECK (server->error == NULL);
    }
    config_destroy (&config);

    CHECK_STR (server_config_transport_name (MCPACT_TRANSPORT_AUTO), "auto");
    CHECK_STR (server_config_transport_name (MCPACT_TRANSPORT_STDIO), "stdio");
    CHECK_STR (server_config_transport_name (MCPACT_TRANSPORT_STREAMABLE_HTTP), "streamable_http");
    CHECK_STR (server_config_transport_name (MCPACT_TRANSPORT_SSE), "sse");

    //  A transport that does not fit the server is a mistake in the file.
    s_parse_fails ("{\"mcpServers\": {\"a\": {\"url\": \"http://h/mcp\", \"type\": \"stdio\"}}}",
                   "servers.json: mcpServers.a.type: \"stdio\" needs \"command\", not \"url\"");
    s_parse_fails ("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"transport\": \"sse\"}}}",
                   "servers.json: mcpServers.a.transport: \"sse\" needs \"url\", not "
                   "\"command\"");
}

TEST (expansion)
{
    setenv ("MCPACT_TEST_HOST", "api.example.com", 1);
    setenv ("MCPACT_TEST_KEY", "k-123", 1);
    setenv ("MCPACT_TEST_EMPTY", "", 1);
    config_t *config = s_parse_ok (
        "{\"mcpServers\": {\n"
        "  \"remote\": {\"url\": \"https://${MCPACT_TEST_HOST}/mcp?key=${env:MCPACT_TEST_KEY}\",\n"
        "             \"headers\": {\"X-Key\": \"${env:MCPACT_TEST_KEY}\",\n"
        "                         \"X-Literal\": \"$${MCPACT_TEST_KEY} costs $5\",\n"
        "                         \"X-Empty\": \"[${MCPACT_TEST_EMPTY}]\"}},\n"
        "  \"local\": {\"command\": \"run-${MCPACT_TEST_KEY}\",\n"
        "            \"args\": [\"${MCPACT_TEST_KEY}\"],\n"
        "            \"env\": {\"KEY\": \"${MCPACT_TEST_KEY}\",\n"
        "                    \"HOST\": \"h=${MCPACT_TEST_HOST}\"}}\n"
        "}}");
    const mcpact_server_config_t *remote = s_server (config, "remote");
    CHECK_STR (remote->url, "https://api.example.com/mcp?key=k-123");
    CHECK_STR (s_pair (remote->headers, remote->headers_count, "X-Key"), "k-123");
    CHECK_STR (s_pair (remote->headers, remote->headers_count, "X-Literal"),
               "${MCPACT_TEST_KEY} costs $5");
    CHECK_STR (s_pair (remote->headers, remote->headers_count, "X-Empty"), "[]");
    CHECK (remote->error == NULL);

    //  command and args are expanded too, as VS Code does
    const mcpact_server_config_t *local = s_server (config, "local");
    CHECK_STR (local->command, "run-k-123");
    CHECK_STR (local->args[0], "k-123");
    CHECK_STR (s_pair (local->env, local->env_count, "KEY"), "k-123");
    CHECK_STR (s_pair (local->env, local->env_count, "HOST"), "h=api.example.com");
    config_destroy (&config);

    //  config_expand itself.
    char *missing = NULL;
    char *text = config_expand ("a${MCPACT_TEST_KEY}b${env:MCPACT_TEST_HOST}c", &missing);
    CHECK_STR (text, "ak-123bapi.example.comc");
    CHECK (missing == NULL);
    free (text);
    text = config_expand ("$ $$ ${} ${unclosed $$${MCPACT_TEST_KEY}", &missing);
    CHECK_STR (text, "$ $$ ${} ${unclosed $${MCPACT_TEST_KEY}");
    free (text);
    unsetenv ("MCPACT_TEST_NOPE");
    text = config_expand ("x ${MCPACT_TEST_KEY} ${env:MCPACT_TEST_NOPE}", &missing);
    CHECK (text == NULL);
    CHECK_STR (missing, "MCPACT_TEST_NOPE");
    free (missing);
}

TEST (unset_variable_fails_one_server)
{
    unsetenv ("MCPACT_TEST_UNSET");
    unsetenv ("MCPACT_TEST_UNSET_URL");
    unsetenv ("MCPACT_INPUT_API_TOKEN");
    setenv ("MCPACT_TEST_KEY", "k-123", 1);
    config_t *config = s_parse_ok (
        "{\"mcpServers\": {\n"
        "  \"good\": {\"url\": \"https://a.example/mcp\",\n"
        "           \"headers\": {\"Authorization\": \"Bearer ${MCPACT_TEST_KEY}\"}},\n"
        "  \"shop\": {\"url\": \"https://b.example/mcp\",\n"
        "           \"headers\": {\"Authorization\": \"Bearer ${MCPACT_TEST_UNSET}\"}},\n"
        "  \"where\": {\"url\": \"${env:MCPACT_TEST_UNSET_URL}/sse\"},\n"
        "  \"proc\": {\"command\": \"x\", \"env\": {\"TOKEN\": \"${MCPACT_TEST_UNSET}\"}},\n"
        "  \"vsc\": {\"url\": \"https://c.example/mcp\",\n"
        "          \"headers\": {\"Authorization\": \"${input:api-token}\"}}\n"
        "},\n"
        "\"agents\": {\"support\": {\"mcpServers\": [\"shop\", \"good\"]}}}");
    CHECK (config->servers_count == 5);
    CHECK (s_server (config, "good")->error == NULL);
    CHECK_STR (s_server (config, "shop")->error,
               "environment variable MCPACT_TEST_UNSET is not set "
               "(mcpServers.shop.headers.Authorization)");
    CHECK_STR (s_server (config, "where")->error,
               "environment variable MCPACT_TEST_UNSET_URL is not set (mcpServers.where.url)");
    CHECK_STR (s_server (config, "proc")->error,
               "environment variable MCPACT_TEST_UNSET is not set (mcpServers.proc.env.TOKEN)");
    CHECK_STR (s_server (config, "vsc")->error,
               "${input:api-token} has no value: set MCPACT_INPUT_API_TOKEN (the mcpact CLI asks "
               "for it when run on a terminal); \"inputs\" does not declare it either "
               "(mcpServers.vsc.headers.Authorization)");
    //  No value made up for what is missing.
    CHECK (s_pair (s_server (config, "shop")->headers, s_server (config, "shop")->headers_count,
                   "Authorization") == NULL);

    //  The agent's copy fails the same way; its other server is fine.
    CHECK (config->agents[0].servers_count == 2);
    CHECK_CONTAINS (config->agents[0].servers[0]->error, "MCPACT_TEST_UNSET is not set");
    CHECK (config->agents[0].servers[1]->error == NULL);
    config_destroy (&config);

    //  A variable that yields a non-http URL fails that server; a literal
    //  one is a mistake in the file.
    setenv ("MCPACT_TEST_BASE", "localhost:8080", 1);
    config = s_parse_ok ("{\"mcpServers\": {\"a\": {\"url\": \"${MCPACT_TEST_BASE}/mcp\"}}}");
    CHECK_STR (config->servers[0]->error,
               "url must start with http:// or https:// (mcpServers.a.url)");
    config_destroy (&config);
    s_parse_fails ("{\"mcpServers\": {\"a\": {\"url\": \"localhost:8080/mcp\"}}}",
                   "servers.json: mcpServers.a.url: must start with http:// or https://");

    //  A header value from a variable must not smuggle in more headers.
    setenv ("MCPACT_TEST_CRLF", "x\r\nX-Evil: 1", 1);
    config = s_parse_ok ("{\"mcpServers\": {\"a\": {\"url\": \"http://h/mcp\","
                         " \"headers\": {\"X-A\": \"${MCPACT_TEST_CRLF}\"}}}}");
    CHECK_STR (config->servers[0]->error,
               "a variable put a line break in mcpServers.a.headers.X-A");
    CHECK (config->servers[0]->headers_count == 0);
    config_destroy (&config);
}

TEST (agents)
{
    config_t *config = s_parse_ok (
        "{\"mcpServers\": {\n"
        "   \"zeta\": {\"command\": \"z\"},\n"
        "   \"alpha\": {\"command\": \"a\", \"args\": [\"1\"]},\n"
        "   \"mid\": {\"url\": \"https://m.example/mcp\"}},\n"
        " \"agents\": {\n"
        "   \"writer\": {\"mcpServers\": [\"mid\", \"zeta\"], \"instructions\": \"ignored\"},\n"
        "   \"plain\": {},\n"
        "   \"empty\": {\"mcpServers\": []},\n"
        "   \"own\": {\"mcpServers\": {\"alpha\": {\"url\": \"https://own.example/sse\"},\n"
        "                              \"extra\": {\"command\": \"e\"}}}\n"
        " }}");
    //  Session servers and agents keep file order.
    CHECK (config->servers_count == 3);
    CHECK_STR (config->servers[0]->name, "zeta");
    CHECK_STR (config->servers[1]->name, "alpha");
    CHECK_STR (config->servers[2]->name, "mid");
    CHECK (config->agents_count == 4);

    config_agent_t *writer = &config->agents[0];
    CHECK_STR (writer->name, "writer");
    CHECK (writer->servers_count == 2);
    CHECK_STR (writer->servers[0]->name, "mid");
    CHECK_STR (writer->servers[0]->url, "https://m.example/mcp");
    CHECK_STR (writer->servers[1]->name, "zeta");
    //  Its own instances, not the session's.
    CHECK (writer->servers[0] != config->servers[2]);
    CHECK (writer->servers[0]->url != config->servers[2]->url);

    CHECK_STR (config->agents[1].name, "plain");
    CHECK (config->agents[1].servers_count == 0); //  falls back
    CHECK_STR (config->agents[2].name, "empty");
    CHECK (config->agents[2].servers_count == 0); //  falls back

    //  Inline servers may reuse a session name: they are the agent's own.
    config_agent_t *own = &config->agents[3];
    CHECK (own->servers_count == 2);
    CHECK_STR (own->servers[0]->name, "alpha");
    CHECK (server_config_transport (own->servers[0]) == MCPACT_TRANSPORT_SSE);
    CHECK_STR (own->servers[1]->command, "e");
    config_destroy (&config);

    s_parse_fails ("{\"mcpServers\": {\"shop\": {\"url\": \"https://s/mcp\"}},\n"
                   " \"agents\": {\"support\": {\"mcpServers\": [\"shop\", \"crm\"]}}}",
                   "servers.json: agents.support.mcpServers[1]: unknown server \"crm\" "
                   "(not in \"mcpServers\")");
    s_parse_fails ("{\"mcpServers\": {\"shop\": {\"url\": \"https://s/mcp\"}},\n"
                   " \"agents\": {\"support\": {\"mcpServers\": [\"shop\", \"shop\"]}}}",
                   "servers.json: agents.support.mcpServers[1]: server \"shop\" is listed twice");
    s_parse_fails ("{\"mcpServers\": {}, \"agents\": {\"support\": {\"mcpServers\": [3]}}}",
                   "servers.json: agents.support.mcpServers[0]: must be a server name "
                   "(a string)");
    s_parse_fails ("{\"mcpServers\": {}, \"agents\": {\"support\": {\"mcpServers\": \"shop\"}}}",
                   "servers.json: agents.support.mcpServers: must be an array of server names "
                   "or an object of servers");
    s_parse_fails ("{\"mcpServers\": {}, \"agents\": {\"support\": true}}",
                   "servers.json: agents.support: must be an object");
    s_parse_fails ("{\"mcpServers\": {}, \"agents\": {\"support\": {\"mcpServers\":"
                   " {\"x\": {\"command\": 1}}}}}",
                   "servers.json: agents.support.mcpServers.x.command: must be a string");
}

TEST (disabled)
{
    config_t *config =
        s_parse_ok ("{\"mcpServers\": {\n"
                    "  \"on\":  {\"command\": \"x\", \"disabled\": false},\n"
                    "  \"off\": {\"command\": \"y\", \"disabled\": true},\n"
                    "  \"draft\": {\"disabled\": true, \"args\": 7}\n"
                    "},\n"
                    "\"agents\": {\"a\": {\"mcpServers\": [\"on\", \"off\"]},\n"
                    "             \"b\": {\"mcpServers\": {\n"
                    "                 \"gone\": {\"url\": \"http://h\", \"disabled\": true},\n"
                    "                                     \"kept\": {\"url\": \"http://h\"}}}}}");
    CHECK (config->servers_count == 1);
    CHECK_STR (config->servers[0]->name, "on");
    CHECK (s_server (config, "off") == NULL);
    //  Naming a disabled server leaves it out of the agent too.
    CHECK (config->agents[0].servers_count == 1);
    CHECK_STR (config->agents[0].servers[0]->name, "on");
    CHECK (config->agents[1].servers_count == 1);
    CHECK_STR (config->agents[1].servers[0]->name, "kept");
    config_destroy (&config);

    s_parse_fails ("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"disabled\": \"yes\"}}}",
                   "servers.json: mcpServers.a.disabled: must be true or false");
    //  An agent left with nothing would silently get the session's servers.
    s_parse_fails ("{\"mcpServers\": {\"off\": {\"command\": \"y\", \"disabled\": true}},\n"
                   " \"agents\": {\"a\": {\"mcpServers\": [\"off\"]}}}",
                   "servers.json: agents.a.mcpServers: every server listed is disabled, and an "
                   "agent without servers would use the session's");
}

TEST (type_errors)
{
    static const struct {
        const char *server;
        const char *message;
    } cases[] = {
        { "7", "mcpServers.s: must be an object" },
        { "{}", "mcpServers.s: needs \"command\" (a local server), \"url\" (a remote one) or "
                "\"group\" (servers of another mcpact)" },
        { "{\"command\": \"x\", \"url\": \"http://h\"}",
          "mcpServers.s: has both \"command\" and \"url\"; a server has one" },
        { "{\"command\": [\"x\"]}", "mcpServers.s.command: must be a string" },
        { "{\"command\": \"\"}", "mcpServers.s.command: must not be empty" },
        { "{\"url\": 80}", "mcpServers.s.url: must be a string" },
        { "{\"url\": \"\"}", "mcpServers.s.url: must not be empty" },
        { "{\"command\": \"x\", \"args\": \"-v\"}",
          "mcpServers.s.args: must be an array of strings" },
        { "{\"command\": \"x\", \"args\": [\"a\", \"b\", 3]}",
          "mcpServers.s.args[2]: must be a string" },
        { "{\"command\": \"x\", \"env\": [\"A=1\"]}",
          "mcpServers.s.env: must be an object of strings" },
        { "{\"command\": \"x\", \"env\": {\"PORT\": 80}}",
          "mcpServers.s.env.PORT: must be a string" },
        { "{\"command\": \"x\", \"env\": {\"A=B\": \"1\"}}",
          "mcpServers.s.env: \"A=B\" is not a valid variable name" },
        { "{\"command\": \"x\", \"cwd\": false}", "mcpServers.s.cwd: must be a string" },
        { "{\"command\": \"x\", \"cwd\": \"\"}", "mcpServers.s.cwd: must not be empty" },
        { "{\"url\": \"http://h\", \"headers\": \"Authorization: x\"}",
          "mcpServers.s.headers: must be an object of strings" },
        { "{\"url\": \"http://h\", \"headers\": {\"Authorization\": null}}",
          "mcpServers.s.headers.Authorization: must be a string" },
        { "{\"url\": \"http://h\", \"headers\": {\"Bad Name\": \"1\"}}",
          "mcpServers.s.headers: \"Bad Name\" is not a valid header name" },
        { "{\"url\": \"http://h\", \"headers\": {\"X-A\": \"1\\r\\nX-B: 2\"}}",
          "mcpServers.s.headers.X-A: must not contain a line break" },
        { "{\"url\": \"http://h\", \"args\": [\"x\"]}",
          "mcpServers.s.args: only for a server with \"command\"" },
        { "{\"url\": \"http://h\", \"env\": {\"A\": \"1\"}}",
          "mcpServers.s.env: only for a server with \"command\"" },
        { "{\"url\": \"http://h\", \"cwd\": \"/\"}",
          "mcpServers.s.cwd: only for a server with \"command\"" },
        { "{\"command\": \"x\", \"headers\": {\"A\": \"1\"}}",
          "mcpServers.s.headers: only for a server with \"url\"" },
        { "{\"command\": \"x\", \"type\": 1}", "mcpServers.s.type: must be a string" },
        { "{\"command\": \"x\", \"type\": \"websocket\"}",
          "mcpServers.s.type: \"websocket\" is not one of \"stdio\", \"http\", \"sse\", "
          "\"streamable-http\"" },
        { "{\"url\": \"http://h\", \"transport\": \"http\"}",
          "mcpServers.s.transport: \"http\" is not one of \"auto\", \"stdio\", "
          "\"streamable_http\", \"sse\"" },
        { "{\"url\": \"http://h\", \"transport\": true}",
          "mcpServers.s.transport: must be a string" },
        { "{\"command\": \"x\", \"allowedTools\": \"read\"}",
          "mcpServers.s.allowedTools: must be an array of strings" },
        { "{\"command\": \"x\", \"allowedTools\": [\"read\", {}]}",
          "mcpServers.s.allowedTools[1]: must be a string" },
        { "{\"command\": \"x\", \"allowedTools\": [\"\"]}",
          "mcpServers.s.allowedTools[0]: must not be empty" },
        { "{\"command\": \"x\", \"timeouts\": 5000}",
          "mcpServers.s.timeouts: must be an object with \"connect\", \"list\", \"call\", "
          "\"max\" (milliseconds)" },
        { "{\"command\": \"x\", \"timeouts\": {\"connect\": 0}}",
          "mcpServers.s.timeouts.connect: must be a whole number of milliseconds, 1 to "
          "2147483647" },
        { "{\"command\": \"x\", \"timeouts\": {\"call\": -5}}",
          "mcpServers.s.timeouts.call: must be a whole number of milliseconds, 1 to 2147483647" },
        { "{\"command\": \"x\", \"timeouts\": {\"list\": 1.5}}",
          "mcpServers.s.timeouts.list: must be a whole number of milliseconds, 1 to 2147483647" },
        { "{\"command\": \"x\", \"timeouts\": {\"list\": \"5s\"}}",
          "mcpServers.s.timeouts.list: must be a whole number of milliseconds, 1 to 2147483647" },
        { "{\"command\": \"x\", \"timeouts\": {\"call\": 3000000000}}",
          "mcpServers.s.timeouts.call: must be a whole number of milliseconds, 1 to 2147483647" },
        { "{\"command\": \"x\", \"limits\": 5}",
          "mcpServers.s.limits: must be an object with \"inFlight\", \"queuedBytes\"" },
        { "{\"command\": \"x\", \"limits\": {\"inFlight\": 0}}",
          "mcpServers.s.limits.inFlight: must be a positive integer" },
        { "{\"command\": \"x\", \"limits\": {\"queuedBytes\": \"8M\"}}",
          "mcpServers.s.limits.queuedBytes: must be a positive integer" },
        { "{\"command\": \"x\", \"limits\": {\"bytes\": 1}}",
          "mcpServers.s.limits.bytes: unknown limit (known: \"inFlight\", \"queuedBytes\")" },
        { "{\"command\": \"x\", \"startRetries\": -1}",
          "mcpServers.s.startRetries: must be a whole number, 0 or more" },
        { "{\"command\": \"x\", \"startRetries\": \"3\"}",
          "mcpServers.s.startRetries: must be a whole number, 0 or more" },
        { "{\"command\": \"x\", \"timeouts\": {\"conect\": 10}}",
          "mcpServers.s.timeouts.conect: unknown timeout (known: \"connect\", \"list\", "
          "\"call\", \"max\")" },
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        char text[512];
        snprintf (text, sizeof (text),
                  "{\"mcpServers\": {\"ok\": {\"command\": \"x\"}, \"s\": %s}}", cases[i].server);
        char expected[512];
        snprintf (expected, sizeof (expected), "servers.json: %s", cases[i].message);
        s_parse_fails (text, expected);
    }
    s_parse_fails ("{\"mcpServers\": {\"my server\": {\"command\": \"x\"}}}",
                   "servers.json: mcpServers.my server: a server name must be 1 to 64 "
                   "characters of A-Z a-z 0-9 _ . -");

    //  Desktop clients keep their own keys in a server entry: not an error.
    config_t *config =
        s_parse_ok ("{\"mcpServers\": {\"s\": {\"command\": \"x\", \"autoApprove\": [\"read\"],"
                    " \"gallery\": true}}}");
    CHECK (config->servers_count == 1);
    CHECK (config->servers[0]->error == NULL);
    config_destroy (&config);

    //  Empty stdio-only keys on a URL server change nothing and pass.
    config = s_parse_ok ("{\"mcpServers\": {\"s\": {\"url\": \"http://h\", \"args\": [],"
                         " \"env\": {}}}}");
    config_destroy (&config);

    //  Without an origin the message starts with the path.
    char *error = NULL;
    CHECK (config_parse ("{\"mcpServers\": {\"s\": {\"command\": 1}}}", NULL, &error) == NULL);
    CHECK_STR (error, "mcpServers.s.command: must be a string");
    free (error);
}

TEST (allowed_tools)
{
    config_t *config = s_parse_ok (
        "{\"mcpServers\": {\n"
        "  \"some\": {\"command\": \"x\", \"allowedTools\": [\"read\", \"list\", \"read\"]},\n"
        "  \"all\":  {\"command\": \"x\"},\n"
        "  \"none_listed\": {\"command\": \"x\", \"allowedTools\": []}\n"
        "}}");
    const mcpact_server_config_t *some = s_server (config, "some");
    CHECK (some->allowed_count == 2);
    CHECK (server_config_allows (some, "read"));
    CHECK (server_config_allows (some, "list"));
    CHECK (!server_config_allows (some, "write"));
    CHECK (!server_config_allows (some, "Read"));
    CHECK (!server_config_allows (some, NULL));
    CHECK (server_config_allows (s_server (config, "all"), "anything"));
    CHECK (server_config_allows (s_server (config, "none_listed"), "anything"));
    config_destroy (&config);
}

TEST (timeouts)
{
    config_t *config = s_parse_ok (
        "{\"mcpServers\": {\n"
        "  \"default\": {\"command\": \"x\"},\n"
        "  \"slow\": {\"command\": \"x\", \"timeouts\": {\"connect\": 20000, \"call\": 600000}},\n"
        "  \"list\": {\"url\": \"http://h/mcp\", \"timeouts\": {\"list\": 100}}\n"
        "}}");
    const mcpact_server_config_t *server = s_server (config, "default");
    CHECK (server->connect_ms == MCPACT_DEFAULT_CONNECT_MS);
    CHECK (server->list_ms == MCPACT_DEFAULT_LIST_MS);
    CHECK (server->call_ms == MCPACT_DEFAULT_CALL_MS);
    CHECK (server->sse_read_ms == MCPACT_DEFAULT_SSE_READ_MS);
    server = s_server (config, "slow");
    CHECK (server->connect_ms == 20000);
    CHECK (server->list_ms == MCPACT_DEFAULT_LIST_MS);
    CHECK (server->call_ms == 600000);
    server = s_server (config, "list");
    CHECK (server->connect_ms == MCPACT_DEFAULT_CONNECT_MS);
    CHECK (server->list_ms == 100);
    config_destroy (&config);

    mcpact_server_config_t *api = mcpact_server_stdio_new ("a", "x");
    CHECK (mcpact_server_config_set_timeouts (api, 1, 2, 3) == 0);
    CHECK (mcpact_server_config_set_timeouts (api, 0, 0, 9) == 0); //  0 keeps
    CHECK (api->connect_ms == 1 && api->list_ms == 2 && api->call_ms == 9);
    CHECK (mcpact_server_config_set_timeouts (api, -1, 0, 0) == -1);
    CHECK (api->connect_ms == 1);
    mcpact_server_config_destroy (&api);
}

TEST (limits)
{
    config_t *config = s_parse_ok (
        "{\"mcpServers\": {\"default\": {\"command\": \"x\"},"
        " \"tight\": {\"command\": \"x\", \"limits\": {\"inFlight\": 4, \"queuedBytes\": 65536}},"
        " \"half\": {\"command\": \"x\", \"limits\": {\"queuedBytes\": 1048576}}}}");
    const mcpact_server_config_t *server = s_server (config, "default");
    CHECK (server->max_in_flight == MCPACT_DEFAULT_MAX_IN_FLIGHT);
    CHECK (server->max_queued == MCPACT_DEFAULT_MAX_QUEUED);
    server = s_server (config, "tight");
    CHECK (server->max_in_flight == 4 && server->max_queued == 65536);
    server = s_server (config, "half");
    CHECK (server->max_in_flight == MCPACT_DEFAULT_MAX_IN_FLIGHT && server->max_queued == 1048576);
    config_destroy (&config);
}

TEST (start_retries)
{
    config_t *config = s_parse_ok ("{\"mcpServers\": {\"default\": {\"command\": \"x\"},"
                                   " \"retried\": {\"command\": \"x\", \"startRetries\": 5}}}");
    CHECK (s_server (config, "default")->start_retries == 0);
    CHECK (s_server (config, "retried")->start_retries == 5);
    config_destroy (&config);
    mcpact_server_config_t *api = mcpact_server_stdio_new ("a", "x");
    CHECK (mcpact_server_config_set_start_retries (api, 3) == 0 && api->start_retries == 3);
    CHECK (mcpact_server_config_set_start_retries (api, -1) == -1 && api->start_retries == 3);
    mcpact_server_config_destroy (&api);
}

TEST (tool_names)
{
    static const struct {
        const char *value;
        mcpact_name_policy_t policy;
    } cases[] = {
        { "reject", MCPACT_NAMES_REJECT },
        { "prefix", MCPACT_NAMES_PREFIX },
        { "prefix_on_conflict", MCPACT_NAMES_PREFIX_ON_CONFLICT },
    };
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        char text[128];
        snprintf (text, sizeof (text), "{\"mcpServers\": {}, \"toolNames\": \"%s\"}",
                  cases[i].value);
        config_t *config = s_parse_ok (text);
        CHECK (config->name_policy == cases[i].policy);
        config_destroy (&config);
    }
    s_parse_fails ("{\"mcpServers\": {}, \"toolNames\": \"merge\"}",
                   "servers.json: toolNames: must be \"reject\", \"prefix\" or "
                   "\"prefix_on_conflict\"");
    s_parse_fails ("{\"mcpServers\": {}, \"toolNames\": 1}",
                   "servers.json: toolNames: must be \"reject\", \"prefix\" or "
                   "\"prefix_on_conflict\"");
}

TEST (load_file)
{
    char path[] = "/tmp/mcpact_test_config_XXXXXX";
    int fd = mkstemp (path);
    CHECK (fd >= 0);
    const char *text = "{\"mcpServers\": {\"a\": {\"command\": \"x\", \"args\": [1]}}}";
    CHECK (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
    close (fd);

    char *error = NULL;
    CHECK (config_load (path, &error) == NULL);
    char expected[256];
    snprintf (expected, sizeof (expected), "%s: mcpServers.a.args[0]: must be a string", path);
    CHECK_STR (error, expected);
    free (error);

    FILE *file = fopen (path, "w");
    CHECK (file);
    fputs ("{\"mcpServers\": {\"a\": {\"command\": \"x\"}}}", file);
    fclose (file);
    config_t *config = config_load (path, &error);
    CHECK (config != NULL && error == NULL);
    CHECK_STR (config->servers[0]->command, "x");
    config_destroy (&config);

    //  A NUL byte must not quietly cut the file short.
    file = fopen (path, "w");
    CHECK (file);
    fwrite ("{\"mcpServers\": {}}\0garbage", 1, 26, file);
    fclose (file);
    CHECK (config_load (path, &error) == NULL);
    CHECK_CONTAINS (error, path);
    CHECK_CONTAINS (error, "line 1, column ");
    free (error);
    unlink (path);

    CHECK (config_load (path, &error) == NULL);
    snprintf (expected, sizeof (expected), "%s: cannot read: No such file or directory", path);
    CHECK_STR (error, expected);
    free (error);

    CHECK (config_load ("/tmp", &error) == NULL);
    CHECK_STR (error, "/tmp: cannot read: Is a directory");
    free (error);
}

TEST (server_config_api)
{
    //  Names: 1..64 of [A-Za-z0-9_.-].
    CHECK (mcpact_server_stdio_new (NULL, "x") == NULL);
    CHECK (mcpact_server_stdio_new ("", "x") == NULL);
    CHECK (mcpact_server_stdio_new ("a b", "x") == NULL);
    CHECK (mcpact_server_stdio_new ("a/b", "x") == NULL);
    CHECK (mcpact_server_stdio_new ("a", NULL) == NULL);
    CHECK (mcpact_server_stdio_new ("a", "") == NULL);
    CHECK (mcpact_server_http_new ("a", NULL) == NULL);
    CHECK (mcpact_server_http_new ("a", "") == NULL);
    char name[66];
    memset (name, 'n', 65);
    name[65] = '\0';
    CHECK (mcpact_server_stdio_new (name, "x") == NULL);
    name[64] = '\0';
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, "x");
    CHECK (config != NULL);
    mcpact_server_config_destroy (&config);
    config = mcpact_server_stdio_new ("My-server_1.0", "x");
    CHECK_STR (mcpact_server_config_name (config), "My-server_1.0");

    CHECK (mcpact_server_config_set_env (config, "A", "1") == 0);
    CHECK (mcpact_server_config_set_env (config, "B", "2") == 0);
    CHECK (mcpact_server_config_set_env (config, "A", "3") == 0); //  replaces
    CHECK (config->env_count == 2);
    CHECK_STR (s_pair (config->env, config->env_count, "A"), "3");
    CHECK (mcpact_server_config_set_env (config, "", "1") == -1);
    CHECK (mcpact_server_config_set_env (config, "A=B", "1") == -1);
    CHECK (mcpact_server_config_set_env (config, "A", NULL) == -1);
    CHECK (mcpact_server_config_add_arg (config, "") == 0);
    CHECK (mcpact_server_config_add_arg (config, NULL) == -1);
    CHECK (mcpact_server_config_set_cwd (config, "/a") == 0);
    CHECK (mcpact_server_config_set_cwd (config, "/b") == 0);
    CHECK_STR (config->cwd, "/b");
    //  HTTP-only settings do not fit a process.
    CHECK (mcpact_server_config_add_header (config, "A", "1") == -1);
    CHECK (mcpact_server_config_set_transport (config, MCPACT_TRANSPORT_SSE) == -1);
    CHECK (mcpact_server_config_set_transport (config, MCPACT_TRANSPORT_STDIO) == 0);
    CHECK (mcpact_server_config_set_error (config, "") == -1);
    CHECK (mcpact_server_config_set_error (config, "broken") == 0);
    CHECK_STR (config->error, "broken");
    mcpact_server_config_destroy (&config);

    config = mcpact_server_http_new ("web", "https://h.example/sse");
    CHECK (config->error == NULL);
    CHECK (config->transport == MCPACT_TRANSPORT_AUTO);
    CHECK (server_config_transport (config) == MCPACT_TRANSPORT_SSE);
    CHECK (mcpact_server_config_set_transport (config, MCPACT_TRANSPORT_STREAMABLE_HTTP) == 0);
    CHECK (server_config_transport (config) == MCPACT_TRANSPORT_STREAMABLE_HTTP);
    CHECK (mcpact_server_config_set_transport (config, MCPACT_TRANSPORT_STDIO) == -1);
    CHECK (mcpact_server_config_set_transport (config, (mcpact_transport_t) 42) == -1);
    CHECK (mcpact_server_config_add_arg (config, "x") == -1);
    CHECK (mcpact_server_config_set_env (config, "A", "1") == -1);
    CHECK (mcpact_server_config_set_cwd (config, "/") == -1);
    CHECK (mcpact_server_config_add_header (config, "Authorization", "Bearer x") == 0);
    CHECK (mcpact_server_config_add_header (config, "Bad Name", "x") == -1);
    CHECK (mcpact_server_config_add_header (config, "X-A", "a\r\nX-B: b") == -1);
    CHECK (mcpact_server_config_add_header (config, "", "x") == -1);
    CHECK (config->headers_count == 1);
    CHECK (mcpact_server_config_allow_tool (config, "") == -1);
    mcpact_server_config_destroy (&config);

    //  A URL that is not http(s) fails that server at start, with a reason.
    config = mcpact_server_http_new ("web", "ftp://h.example/mcp");
    CHECK (config != NULL);
    CHECK_STR (config->error, "url must start with http:// or https://");
    mcpact_server_config_destroy (&config);

    //  NULL objects are refused, not crashed on.
    CHECK (mcpact_server_config_name (NULL) == NULL);
    CHECK (mcpact_server_config_add_arg (NULL, "x") == -1);
    CHECK (mcpact_server_config_dup (NULL) == NULL);
    CHECK (!server_config_allows (NULL, "x"));
}

//  A group's endpoint is checked as serve's --bind and --connect check
//  theirs: written in the file, a mistake is the file's, naming the key
//  and quoting the value (a port beyond 65535 would reach port % 65536:
//  another daemon); from a variable it fails that group alone; given to
//  the C API it fails the group when it starts, saying why.
TEST (group_endpoint_errors)
{
    static const struct {
        const char *endpoint;
        const char *says;
    } cases[] = {
        { "tcp://127.0.0.1:99999", "the port is not a number up to 65535" },
        { "tcp://127.0.0.1", "no port" },
        { "tcp://:5555", "no host" },
        { "tcp://*:5555", "the host '*' (every interface) is for a bind, not a connection" },
        { "tcp://127.0.0.1:*", "the port * or 0 (any free one) is for a bind, not a connection" },
        { "tcp://127.0.0.1:0", "the port * or 0 (any free one) is for a bind, not a connection" },
        { "tcp://::1:5555", "a ':' in the host (an IPv6 address goes in brackets: [::1]:PORT)" },
        { "http://127.0.0.1:57340",
          "not an endpoint mcpact serve binds (ipc://PATH or tcp://HOST:PORT)" },
        { "ipc://", "no path (ipc://PATH)" },
    };
    char text[512], expected[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf (text, sizeof text, "{\"mcpServers\": {\"east\": {\"group\": \"%s\"}}}",
                  cases[i].endpoint);
        snprintf (expected, sizeof expected, "servers.json: mcpServers.east.group: '%s': %s%s",
                  cases[i].endpoint, cases[i].says,
                  strncmp (cases[i].endpoint, "tcp://", 6) == 0
                      ? "; give tcp://HOST:PORT (PORT 1 to 65535)"
                      : "");
        s_parse_fails (text, expected);
        //  The C API alike, when the group starts.
        mcpact_server_config_t *group = mcpact_server_group_new ("east", cases[i].endpoint);
        CHECK (group != NULL);
        CHECK_MSG (group->error && strstr (group->error, expected + strlen ("servers.json: "
                                                                            "mcpServers.east."
                                                                            "group: ")),
                   "%s: %s", cases[i].endpoint, group->error ? group->error : "(no error)");
        mcpact_server_config_destroy (&group);
    }
    //  Good ones pass.
    config_t *config =
        s_parse_ok ("{\"mcpServers\": {\"a\": {\"group\": \"tcp://h.example:5555\"}, "
                    "\"b\": {\"group\": \"tcp://[::1]:5555\"}, "
                    "\"c\": {\"group\": \"ipc:///run/x/mcpact.sock\"}}}");
    for (size_t i = 0; i < config->servers_count; i++)
        CHECK_MSG (config->servers[i]->error == NULL, "%s", config->servers[i]->error);
    config_destroy (&config);
    //  From a variable: that group fails, naming the key.
    setenv ("MCPACT_TEST_GROUP_PORT", "99999", 1);
    config = s_parse_ok (
        "{\"mcpServers\": {\"east\": {\"group\": \"tcp://127.0.0.1:${MCPACT_TEST_GROUP_PORT}\"}}}");
    CHECK_STR (config->servers[0]->error,
               "group 'tcp://127.0.0.1:99999': the port is not a number up to 65535; give "
               "tcp://HOST:PORT (PORT 1 to 65535) (mcpServers.east.group)");
    config_destroy (&config);
    unsetenv ("MCPACT_TEST_GROUP_PORT");
}

//  A group that is only a variable, or a variable and a port, is checked
//  once expanded: an unset one fails that group alone, saying so, and the
//  file's other servers are used (not "not an endpoint": the text before
//  expansion is no endpoint to judge).
TEST (group_unset_variable_fails_that_group_alone)
{
    unsetenv ("MCPACT_TEST_GRP");
    const char *values[] = { "${MCPACT_TEST_GRP}", "${env:MCPACT_TEST_GRP}",
                             "${MCPACT_TEST_GRP}:47111", "ipc://${MCPACT_TEST_GRP}/g.sock" };
    char text[512];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf (text, sizeof text,
                  "{\"mcpServers\": {\"east\": {\"group\": \"%s\"}, \"ex\": {\"command\": "
                  "\"x\"}}}",
                  values[i]);
        config_t *config = s_parse_ok (text);
        CHECK (config->servers_count == 2);
        CHECK_STR (config->servers[0]->error,
                   "environment variable MCPACT_TEST_GRP is not set (mcpServers.east.group)");
        CHECK_MSG (config->servers[1]->error == NULL, "%s", config->servers[1]->error);
        config_destroy (&config);
    }
    //  Set, the expanded value is checked as one written in the file.
    setenv ("MCPACT_TEST_GRP", "tcp://127.0.0.1:99999", 1);
    config_t *config =
        s_parse_ok ("{\"mcpServers\": {\"east\": {\"group\": \"${MCPACT_TEST_GRP}\"}}}");
    CHECK_CONTAINS (config->servers[0]->error, "the port is not a number up to 65535");
    config_destroy (&config);
    setenv ("MCPACT_TEST_GRP", "tcp://127.0.0.1", 1);
    config = s_parse_ok ("{\"mcpServers\": {\"east\": {\"group\": \"${MCPACT_TEST_GRP}:47111\"}}}");
    CHECK_MSG (config->servers[0]->error == NULL, "%s", config->servers[0]->error);
    CHECK_STR (json_string_value (json_object_get (config->servers[0]->group, "endpoint")),
               "tcp://127.0.0.1:47111");
    config_destroy (&config);
    unsetenv ("MCPACT_TEST_GRP");
}

//  A group's relative ipc:// path, serverKey and clientCertificate are
//  the file's, as relative roots are, not the current directory's; a
//  serverKey of 40 characters that names no file there is a key.
TEST (group_relative_paths_from_the_file)
{
    char dir[] = "/tmp/mcpact-config-XXXXXX", sub[64], path[128], full[PATH_MAX];
    CHECK (mkdtemp (dir));
    CHECK (realpath (dir, full) != NULL);
    snprintf (sub, sizeof sub, "%s/sub", dir);
    CHECK (mkdir (sub, 0700) == 0);
    snprintf (path, sizeof path, "%s/servers.json", sub);
    const char *key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    char text[1024];
    snprintf (text, sizeof text,
              "{\"mcpServers\": {\"a\": {\"group\": \"ipc://../g.sock\"}, "
              "\"b\": {\"group\": \"tcp://127.0.0.1:5555\", \"serverKey\": \"k/server\", "
              "\"clientCertificate\": \"./k/me_secret\"}, "
              "\"c\": {\"group\": \"tcp://127.0.0.1:5555\", \"serverKey\": \"%s\", "
              "\"clientCertificate\": \"/abs/me_secret\"}, "
              "\"d\": {\"group\": \"ipc:///abs/g.sock\"}}}",
              key);
    FILE *file = fopen (path, "w");
    CHECK (file);
    fputs (text, file);
    fclose (file);
    char *error = NULL;
    config_t *config = config_load (path, &error);
    CHECK_MSG (config != NULL, "%s", error ? error : "");
    char expected[PATH_MAX + 64];
    snprintf (expected, sizeof expected, "ipc://%s/sub/../g.sock", full);
    CHECK_STR (json_string_value (json_object_get (config->servers[0]->group, "endpoint")),
               expected);
    snprintf (expected, sizeof expected, "%s/sub/k/server", full);
    CHECK_STR (json_string_value (json_object_get (config->servers[1]->group, "serverKey")),
               expected);
    snprintf (expected, sizeof expected, "%s/sub/k/me_secret", full);
    CHECK_STR (json_string_value (json_object_get (config->servers[1]->group, "clientCertificate")),
               expected);
    CHECK_STR (json_string_value (json_object_get (config->servers[2]->group, "serverKey")), key);
    CHECK_STR (json_string_value (json_object_get (config->servers[2]->group, "clientCertificate")),
               "/abs/me_secret");
    CHECK_STR (json_string_value (json_object_get (config->servers[3]->group, "endpoint")),
               "ipc:///abs/g.sock");
    config_destroy (&config);
    unlink (path);
    rmdir (sub);
    rmdir (dir);
}

TEST (dup_is_deep)
{
    mcpact_server_config_t *original = mcpact_server_stdio_new ("files", "npx");
    mcpact_server_config_add_arg (original, "-y");
    mcpact_server_config_add_arg (original, "server");
    mcpact_server_config_set_env (original, "LOG", "1");
    mcpact_server_config_set_cwd (original, "/srv");
    mcpact_server_config_allow_tool (original, "read");
    mcpact_server_config_set_timeouts (original, 1000, 2000, 3000);
    mcpact_server_config_set_error (original, "reason");

    mcpact_server_config_t *copy = mcpact_server_config_dup (original);
    CHECK (copy != NULL && copy != original);
    CHECK (copy->name != original->name && copy->args != original->args &&
           copy->args[0] != original->args[0] && copy->env != original->env &&
           copy->env[0].value != original->env[0].value && copy->allowed != original->allowed);
    CHECK_STR (copy->name, "files");
    CHECK_STR (copy->command, "npx");
    CHECK (copy->args_count == 2 && copy->args[2] == NULL);
    CHECK_STR (copy->args[1], "server");
    CHECK_STR (s_pair (copy->env, copy->env_count, "LOG"), "1");
    CHECK_STR (copy->cwd, "/srv");
    CHECK (server_config_allows (copy, "read") && !server_config_allows (copy, "write"));
    CHECK (copy->connect_ms == 1000 && copy->list_ms == 2000 && copy->call_ms == 3000);
    CHECK_STR (copy->error, "reason");

    //  Changing one leaves the other alone, and each frees only its own.
    mcpact_server_config_set_env (copy, "LOG", "2");
    mcpact_server_config_add_arg (copy, "more");
    CHECK_STR (s_pair (original->env, original->env_count, "LOG"), "1");
    CHECK (original->args_count == 2);
    mcpact_server_config_destroy (&original);
    CHECK_STR (copy->args[0], "-y");
    mcpact_server_config_destroy (&copy);

    mcpact_server_config_t *web = mcpact_server_http_new ("web", "https://h/mcp");
    mcpact_server_config_add_header (web, "Authorization", "Bearer x");
    mcpact_server_config_set_transport (web, MCPACT_TRANSPORT_SSE);
    copy = mcpact_server_config_dup (web);
    mcpact_server_config_destroy (&web);
    CHECK_STR (copy->url, "https://h/mcp");
    CHECK_STR (s_pair (copy->headers, copy->headers_count, "Authorization"), "Bearer x");
    CHECK (server_config_transport (copy) == MCPACT_TRANSPORT_SSE);
    CHECK (copy->args == NULL && copy->env == NULL && copy->allowed == NULL);
    mcpact_server_config_destroy (&copy);
}

TEST (destroy_twice)
{
    mcpact_server_config_t *server = mcpact_server_stdio_new ("a", "x");
    mcpact_server_config_destroy (&server);
    CHECK (server == NULL);
    mcpact_server_config_destroy (&server);
    mcpact_server_config_destroy (NULL);

    config_t *config = s_parse_ok ("{\"mcpServers\": {\"a\": {\"command\": \"x\"}},"
                                   " \"agents\": {\"b\": {\"mcpServers\": [\"a\"]}}}");
    config_destroy (&config);
    CHECK (config == NULL);
    config_destroy (&config);
    config_destroy (NULL);
}

//  --------------------------------------------------------------------------
//  The files desktop clients write

//  Log lines, caught for the unknown-key warnings.
static char s_logged[4096];

static void
s_catch_log (mcpact_log_level_t level, const char *message, void *arg)
{
    size_t len = strlen (s_logged);
    snprintf (s_logged + len, sizeof s_logged - len, "%s\n", message);
}

//  VS Code's mcp.json as VS Code writes it: a byte order mark, comments,
//  trailing commas, inputs, envFile, predefined variables
TEST (vscode_mcp_json)
{
    char dir[] = "/tmp/mcpact-config-XXXXXX";
    CHECK (mkdtemp (dir));
    char env_path[PATH_MAX], json_path[PATH_MAX];
    snprintf (env_path, sizeof env_path, "%s/.env", dir);
    snprintf (json_path, sizeof json_path, "%s/mcp.json", dir);
    FILE *file = fopen (env_path, "w");
    CHECK (file);
    fputs ("# keys for the server\nexport FROM_FILE=file\nQUOTED = \"a b\"\nBOTH=file\n", file);
    fclose (file);
    file = fopen (json_path, "w");
    CHECK (file);
    fputs ("\xEF\xBB\xBF{\n"
           "  // the servers of this workspace\n"
           "  \"inputs\": [ { \"type\": \"promptString\", \"id\": \"api-key\",\n"
           "                \"description\": \"API key\", \"password\": true }, ],\n"
           "  \"servers\": {\n"
           "    \"local\": { \"type\": \"stdio\", \"command\": \"x\",\n"
           "               \"args\": [\"${workspaceFolder}/data\", \"${userHome}\"],\n"
           "               \"envFile\": \"${workspaceFolder}/.env\",\n"
           "               \"env\": { \"KEY\": \"${input:api-key}\", \"BOTH\": \"env\" },\n"
           "               /* never sent */ \"disabledTools\": [\"delete\"],\n"
           "               \"autoApprove\": [\"read\"], },\n"
           "    \"off\": { \"command\": \"y\", \"disabled\": true },\n"
           "  },\n"
           "}\n",
           file);
    fclose (file);
    setenv ("MCPACT_INPUT_API_KEY", "k-42", 1);
    setenv ("HOME", "/home/someone", 1);
    s_logged[0] = 0;
    mcpact_set_log (s_catch_log, NULL, MCPACT_LOG_WARN);
    char *error = NULL;
    config_t *config = config_load (json_path, &error);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    CHECK_MSG (config, "%s", error);
    CHECK (config->servers_count == 1); //  "off" is disabled
    const mcpact_server_config_t *local = s_server (config, "local");
    CHECK_MSG (local->error == NULL, "%s", local->error);
    char real[PATH_MAX], expected[PATH_MAX + 8];
    CHECK (realpath (dir, real));
    snprintf (expected, sizeof expected, "%s/data", real);
    CHECK_STR (local->args[0], expected);
    CHECK_STR (local->args[1], "/home/someone");
    CHECK_STR (s_pair (local->env, local->env_count, "KEY"), "k-42");
    CHECK_STR (s_pair (local->env, local->env_count, "FROM_FILE"), "file");
    CHECK_STR (s_pair (local->env, local->env_count, "QUOTED"), "a b");
    //  "env" wins over the envFile
    CHECK_STR (s_pair (local->env, local->env_count, "BOTH"), "env");
    CHECK (!server_config_allows (local, "delete"));
    CHECK (server_config_allows (local, "read"));
    //  A key mcpact does not use is said, with where it is
    CHECK_CONTAINS (s_logged, "mcp.json: servers.local.autoApprove: not used by mcpact; ignored");
    config_destroy (&config);

    //  Without the variable (and no terminal) the server fails, saying how
    unsetenv ("MCPACT_INPUT_API_KEY");
    config = config_load (json_path, &error);
    CHECK (config);
    CHECK_CONTAINS (s_server (config, "local")->error, "set MCPACT_INPUT_API_KEY");
    config_destroy (&config);
    unlink (env_path);
    unlink (json_path);
    rmdir (dir);
}

//  VS Code's settings.json holds the servers under "mcp"; its own settings
//  around them are not ours to warn about
TEST (vscode_settings_nesting)
{
    s_logged[0] = 0;
    mcpact_set_log (s_catch_log, NULL, MCPACT_LOG_WARN);
    config_t *config =
        s_parse_ok ("{ \"editor.fontSize\": 14,\n"
                    "  \"mcp\": { \"servers\": { \"a\": { \"command\": \"x\" } } } }");
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    CHECK (config->servers_count == 1);
    CHECK_STR (config->servers[0]->name, "a");
    CHECK_MSG (s_logged[0] == 0, "warned: %s", s_logged);
    config_destroy (&config);
}

//  An unterminated ${ is the file's mistake: the load fails saying where
TEST (unterminated_variable)
{
    s_parse_fails ("{\"mcpServers\": {\"s\": {\"command\": \"x\", \"env\": {\"A\": \"${HOME\"}}}}",
                   "servers.json: mcpServers.s.env.A: \"${\" at character 1 is not closed by "
                   "\"}\"");
}

static char *
s_ask (const char *id, const char *description, bool password, void *arg)
{
    char *answer = NULL;
    if (asprintf (&answer, "%s|%s|%s|%s", (const char *) arg, id,
                  description ? description : "(none)", password ? "password" : "plain") < 0)
        return NULL;
    return answer;
}

TEST (inputs_asked_of_the_host)
{
    //  Without its environment variable an input is asked of the host's
    //  asker, once per load, with what "inputs" says of it.
    unsetenv ("MCPACT_INPUT_API_KEY");
    unsetenv ("MCPACT_INPUT_REGION");
    const char *text = "{\"inputs\": [{\"type\": \"promptString\", \"id\": \"api-key\","
                       " \"description\": \"API key\", \"password\": true}],"
                       " \"servers\": {\"a\": {\"command\": \"x\", \"env\": {"
                       "\"K\": \"${input:api-key}\", \"L\": \"${input:api-key}\","
                       " \"R\": \"${input:region}\"}}}}";
    mcpact_set_input_fn (s_ask, "host");
    char *error = NULL;
    config_t *config = config_parse (text, "mcp.json", &error);
    mcpact_set_input_fn (NULL, NULL);
    CHECK_MSG (config, "%s", error);
    const mcpact_server_config_t *server = s_server (config, "a");
    CHECK_MSG (server->error == NULL, "%s", server->error);
    CHECK_STR (s_pair (server->env, server->env_count, "K"), "host|api-key|API key|password");
    CHECK_STR (s_pair (server->env, server->env_count, "L"), "host|api-key|API key|password");
    CHECK_STR (s_pair (server->env, server->env_count, "R"), "host|region|(none)|plain");
    config_destroy (&config);
    //  Without an asker the library asks no one (and reads no terminal).
    config = config_parse (text, "mcp.json", &error);
    CHECK (config);
    CHECK_CONTAINS (s_server (config, "a")->error, "set MCPACT_INPUT_API_KEY");
    config_destroy (&config);
}

TEST (workspace_of_a_vscode_file)
{
    //  ${workspaceFolder} in .vscode/mcp.json is the workspace, as in VS
    //  Code: the folder that holds .vscode.
    char dir[] = "/tmp/mcpact-ws-XXXXXX";
    CHECK (mkdtemp (dir));
    char vscode[PATH_MAX], json_path[PATH_MAX + 16];
    snprintf (vscode, sizeof vscode, "%s/.vscode", dir);
    snprintf (json_path, sizeof json_path, "%s/mcp.json", vscode);
    CHECK (mkdir (vscode, 0700) == 0);
    FILE *file = fopen (json_path, "w");
    CHECK (file);
    fputs ("{\"servers\": {\"a\": {\"command\": \"x\", \"args\": [\"${workspaceFolder}\","
           " \"${workspaceFolderBasename}\"]}}}",
           file);
    fclose (file);
    char *error = NULL;
    config_t *config = config_load (json_path, &error);
    CHECK_MSG (config, "%s", error);
    const mcpact_server_config_t *server = s_server (config, "a");
    char real[PATH_MAX];
    CHECK (realpath (dir, real));
    CHECK_STR (server->args[0], real);
    CHECK_STR (server->args[1], strrchr (real, '/') + 1);
    config_destroy (&config);
    unlink (json_path);
    rmdir (vscode);
    rmdir (dir);
}

TEST (oauth_settings)
{
    setenv ("MCPACT_TEST_CLIENT_SECRET", "s3cret", 1);
    config_t *config =
        s_parse_ok ("{\"mcpServers\": {\"a\": {\"url\": \"https://h/mcp\", \"oauth\": {"
                    "\"clientId\": \"app\", \"clientSecret\": \"${MCPACT_TEST_CLIENT_SECRET}\","
                    "\"scopes\": [\"read\", \"write\"], \"authorizeTimeout\": 60,"
                    "\"grant\": \"client_credentials\"}}}}");
    json_t *oauth = s_server (config, "a")->oauth;
    CHECK_STR (json_string_value (json_object_get (oauth, "clientId")), "app");
    CHECK_STR (json_string_value (json_object_get (oauth, "clientSecret")), "s3cret");
    CHECK_STR (json_string_value (json_object_get (oauth, "scopes")), "read write");
    CHECK_STR (json_string_value (json_object_get (oauth, "authorizeTimeout")), "60");
    //  A copy (the server actor's) carries them too
    mcpact_server_config_t *copy = mcpact_server_config_dup (s_server (config, "a"));
    CHECK_STR (json_string_value (json_object_get (copy->oauth, "grant")), "client_credentials");
    mcpact_server_config_destroy (&copy);
    config_destroy (&config);
    s_parse_fails ("{\"mcpServers\": {\"a\": {\"url\": \"https://h/mcp\", \"oauth\": "
                   "{\"clientID\": \"x\"}}}}",
                   "servers.json: mcpServers.a.oauth.clientID: unknown key (known: clientId, "
                   "clientSecret, clientMetadataUrl, clientName, scopes, redirectUri, grant, "
                   "privateKeyFile, signingAlgorithm, idpTokenEndpoint, idpClientId, "
                   "idpClientSecret, idToken, idTokenFile, tokenStore, authorizeTimeout)");
    s_parse_fails ("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"oauth\": {\"clientId\": "
                   "\"x\"}}}}",
                   "servers.json: mcpServers.a.oauth: only for a server with \"url\"");
    s_parse_fails ("{\"mcpServers\": {\"a\": {\"url\": \"https://h/mcp\", \"oauth\": "
                   "{\"authorizeTimeout\": \"soon\"}}}}",
                   "servers.json: mcpServers.a.oauth.authorizeTimeout: must be a whole number "
                   "of seconds, 1 to 86400");
    s_parse_fails ("{\"mcpServers\": {\"a\": {\"url\": \"https://h/mcp\", \"oauth\": []}}}",
                   "servers.json: mcpServers.a.oauth: must be an object (see docs/auth.md)");
}
