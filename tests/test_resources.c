/*  =========================================================================
    test_resources - resources, prompts, instructions and server logging

    What a host sees of the servers' resources, resource templates,
    prompts, instructions and log messages, through the public API:
    against the official server-everything (installed under tests/peers
    by scripts/deps --test; skipped without it, failed under
    MCPACT_REQUIRE_PEERS=1), and against the fixture server for what
    server-everything cannot do wrong: pagination over many pages and one
    that never ends, contents that are not what MCP says, a blob of many
    megabytes, a server that ignores logging/setLevel, a request that is
    never answered. Each test stops every runtime it started.
    =========================================================================
*/

#include "mcpact.h"
#include "runtime_util.h"
#include "testutil.h"

#include <czmq.h>
#include <jansson.h>
#include <pthread.h>

#define PEERS_DIR MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol"
#define EVERYTHING_JS PEERS_DIR "/server-everything/dist/index.js"

//  Node takes a while to start on a loaded machine.
#define PEER_CONNECT_MS 30000

static const char *s_node;

static mcpact_server_config_t *
s_everything (const char *name)
{
    s_node = ru_require_peers (EVERYTHING_JS, NULL);
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, s_node);
    CHECK (config);
    CHECK (mcpact_server_config_add_arg (config, EVERYTHING_JS) == 0);
    CHECK (mcpact_server_config_add_arg (config, "stdio") == 0);
    CHECK (mcpact_server_config_set_timeouts (config, PEER_CONNECT_MS, PEER_CONNECT_MS, 0) == 0);
    return config;
}

static void
s_add (mcpact_session_t *session, mcpact_server_config_t *config)
{
    CHECK (mcpact_session_add_server (session, &config) == 0);
}

//  An agent on the session's servers, started.
static mcpact_agent_t *
s_agent (mcpact_session_t *session)
{
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    CHECK (agent);
    free (mcpact_agent_start (agent));
    return agent;
}

//  The item of `items` whose `key` is `value`, or NULL.
static json_t *
s_item (json_t *items, const char *key, const char *value)
{
    size_t index;
    json_t *item;
    json_array_foreach (items, index, item)
        if (json_is_string (json_object_get (item, key)) &&
            strcmp (json_string_value (json_object_get (item, key)), value) == 0)
            return item;
    return NULL;
}

static const char *
s_server_of (json_t *item)
{
    return json_string_value (json_object_get (json_object_get (item, "_mcpact"), "server"));
}

//  --------------------------------------------------------------------------
//  Log messages, as the host's callback gets them

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    json_t *messages; //  each callback's JSON, in order
} s_logs_t;

static s_logs_t s_logs = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL };

static void
s_on_log (const char *log_json, void *arg)
{
    s_logs_t *logs = (s_logs_t *) arg;
    json_error_t error;
    json_t *message = json_loads (log_json, 0, &error);
    CHECK_MSG (message, "the log callback's JSON is not JSON: %s", log_json);
    pthread_mutex_lock (&logs->lock);
    json_array_append_new (logs->messages, message);
    pthread_cond_broadcast (&logs->changed);
    pthread_mutex_unlock (&logs->lock);
}

static void
s_logs_reset (void)
{
    pthread_mutex_lock (&s_logs.lock);
    json_decref (s_logs.messages);
    s_logs.messages = json_array ();
    pthread_mutex_unlock (&s_logs.lock);
}

//  Waits until a message whose data contains `text` came; returns a copy
//  of all that came until then.
static json_t *
s_logs_until (const char *text)
{
    ru_watchdog_arm (60, "a server log message");
    json_t *seen = NULL;
    pthread_mutex_lock (&s_logs.lock);
    while (!seen) {
        size_t index;
        json_t *message;
        json_array_foreach (s_logs.messages, index, message) {
            char *data = json_dumps (json_object_get (message, "data"), JSON_ENCODE_ANY);
            bool found = data && strstr (data, text);
            free (data);
            if (found) {
                seen = json_deep_copy (s_logs.messages);
                break;
            }
        }
        if (!seen)
            pthread_cond_wait (&s_logs.changed, &s_logs.lock);
    }
    pthread_mutex_unlock (&s_logs.lock);
    ru_watchdog_disarm ();
    return seen;
}

//  Whether any message of `messages` has data containing `text`.
static bool
s_logs_have (json_t *messages, const char *text)
{
    size_t index;
    json_t *message;
    json_array_foreach (messages, index, message) {
        char *data = json_dumps (json_object_get (message, "data"), JSON_ENCODE_ANY);
        bool found = data && strstr (data, text);
        free (data);
        if (found)
            return true;
    }
    return false;
}

//  A file's text (malloc'ed; "" if it cannot be read).
static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    char *text = calloc (1, 1 << 20);
    CHECK (text);
    if (file) {
        size_t got = fread (text, 1, (1 << 20) - 1, file);
        text[got] = 0;
        fclose (file);
    }
    return text;
}

//  How often `needle` occurs in `text`.
static int
s_count (const char *text, const char *needle)
{
    int count = 0;
    for (const char *at = text; (at = strstr (at, needle)); at += strlen (needle))
        count++;
    return count;
}

static void
s_subscribe (mcpact_agent_t *agent, const char *uri)
{
    char *error = NULL;
    int rc = mcpact_agent_subscribe_resource (agent, NULL, uri, true, &error);
    CHECK_MSG (rc == 0, "subscribe %s: %s", uri, error ? error : "");
}

//  --------------------------------------------------------------------------
//  server-everything

TEST (everything_lists)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, s_everything ("everything"));
    //  The fixture declares no resources nor prompts: it is not asked.
    char input_log[] = "/tmp/mcpact-resources-XXXXXX";
    int fd = mkstemp (input_log);
    CHECK (fd >= 0);
    close (fd);
    s_add (session, ru_fixture ("plain", "--input-log", input_log, NULL));
    mcpact_agent_t *agent = s_agent (session);

    json_t *answer = ru_json_take (mcpact_agent_resources (agent));
    CHECK_MSG (json_array_size (json_object_get (answer, "errors")) == 0, "errors: %s",
               json_dumps (answer, 0));
    json_t *resource = s_item (json_object_get (answer, "resources"), "uri",
                               "demo://resource/static/document/architecture.md");
    CHECK (resource);
    CHECK_STR (s_server_of (resource), "everything");
    json_decref (answer);

    answer = ru_json_take (mcpact_agent_resource_templates (agent));
    json_t *templates = json_object_get (answer, "resourceTemplates");
    json_t *text_template =
        s_item (templates, "uriTemplate", "demo://resource/dynamic/text/{resourceId}");
    CHECK (text_template);
    CHECK_STR (s_server_of (text_template), "everything");
    CHECK (json_array_size (json_object_get (answer, "errors")) == 0);
    json_decref (answer);

    answer = ru_json_take (mcpact_agent_prompts (agent));
    json_t *prompt = s_item (json_object_get (answer, "prompts"), "name", "args-prompt");
    CHECK (prompt);
    CHECK_STR (s_server_of (prompt), "everything");
    CHECK (json_array_size (json_object_get (prompt, "arguments")) == 2);
    json_decref (answer);
    ru_teardown (&agent, &session, &runtime);
    char *asked = s_read_file (input_log);
    unlink (input_log);
    CHECK_MSG (!strstr (asked, "resources/") && !strstr (asked, "prompts/"),
               "a server without the capabilities was asked: %s", asked);
    free (asked);
}

TEST (everything_read)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, s_everything ("everything"));
    mcpact_agent_t *agent = s_agent (session);

    //  Listed: goes to the server that listed it.
    mcpact_result_t *result = mcpact_agent_read_resource (
        agent, NULL, "demo://resource/static/document/architecture.md", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    json_t *read = ru_json (mcpact_result_json (result));
    json_t *content = json_array_get (json_object_get (read, "contents"), 0);
    CHECK_CONTAINS (ru_str (content, "text"), "Architecture");
    json_decref (read);
    mcpact_result_destroy (&result);

    //  Not listed, but its template matches: a base64 blob.
    result = mcpact_agent_read_resource (agent, NULL, "demo://resource/dynamic/blob/3", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    read = ru_json (mcpact_result_json (result));
    content = json_array_get (json_object_get (read, "contents"), 0);
    CHECK (ru_str (content, "blob") && strlen (ru_str (content, "blob")) > 0);
    json_decref (read);
    mcpact_result_destroy (&result);

    //  Named: a server the agent does not have is an error naming its own.
    result = mcpact_agent_read_resource (agent, "nosuch", "demo://resource/dynamic/text/1", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    CHECK_CONTAINS (mcpact_result_error (result), "no server nosuch (its servers: everything)");
    mcpact_result_destroy (&result);

    //  What the server refuses comes back as its JSON-RPC error.
    //  It names the server and the request, and says the server's code once.
    result = mcpact_agent_read_resource (agent, "everything", "demo://nothing/here", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_PROTOCOL);
    CHECK_STR (mcpact_result_error (result),
               "server everything: resources/read: the server answered with error -32602: "
               "Resource demo://nothing/here not found");
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

TEST (everything_prompts)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, s_everything ("ev1"));
    s_add (session, s_everything ("ev2"));
    mcpact_agent_t *agent = s_agent (session);

    //  Both offer it: an error naming both, then named, it goes.
    mcpact_result_t *result =
        mcpact_agent_get_prompt (agent, NULL, "args-prompt", "{\"city\":\"Paris\"}", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    CHECK_CONTAINS (mcpact_result_error (result), "offered by servers ev1, ev2");
    mcpact_result_destroy (&result);

    result = mcpact_agent_get_prompt (agent, "ev2", "args-prompt", "{\"city\":\"Paris\"}", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    CHECK_CONTAINS (mcpact_result_json (result), "Paris");
    mcpact_result_destroy (&result);

    result = mcpact_agent_get_prompt (agent, NULL, "no-such-prompt", NULL, 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    CHECK_CONTAINS (mcpact_result_error (result), "no server of the agent offers prompt");
    mcpact_result_destroy (&result);

    //  The arguments are checked against the prompt's listing before
    //  anything is sent: strings only, known ones, the required ones.
    result = mcpact_agent_get_prompt (agent, "ev1", "args-prompt", "{\"city\":5}", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_ARGS);
    CHECK_STR (mcpact_result_error (result),
               "prompt argument city is not a string (a prompt takes strings)");
    mcpact_result_destroy (&result);
    result = mcpact_agent_get_prompt (agent, "ev1", "args-prompt",
                                      "{\"city\":\"Paris\",\"bogus\":\"1\"}", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_ARGS);
    CHECK_STR (mcpact_result_error (result),
               "server ev1: prompt args-prompt has no argument bogus (its arguments: city, state)");
    mcpact_result_destroy (&result);
    result = mcpact_agent_get_prompt (agent, "ev1", "args-prompt", "{\"state\":\"Texas\"}", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_ARGS);
    CHECK_STR (mcpact_result_error (result), "server ev1: prompt args-prompt needs argument city");
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

TEST (everything_instructions)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, s_everything ("everything"));
    s_add (session, ru_fixture ("plain", NULL));
    mcpact_agent_t *agent = s_agent (session);

    json_t *instructions = ru_json_take (mcpact_agent_instructions (agent));
    CHECK (json_array_size (instructions) == 1);
    CHECK_STR (ru_str (json_array_get (instructions, 0), "server"), "everything");
    CHECK_CONTAINS (ru_str (json_array_get (instructions, 0), "instructions"), "Everything Server");
    json_decref (instructions);

    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *everything = ru_named (status, "everything");
    json_t *capabilities = json_object_get (everything, "capabilities");
    CHECK (
        json_is_true (json_object_get (json_object_get (capabilities, "resources"), "subscribe")));
    CHECK (json_object_get (everything, "instructions"));
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
}

//  The level set through the API reaches the server: messages below it
//  stop, and the server's order is kept to the callback.
TEST (everything_log_level)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_logs_reset ();
    CHECK (mcpact_session_set_server_log (session, s_on_log, &s_logs) == 0);
    s_add (session, s_everything ("everything"));
    mcpact_agent_t *agent = s_agent (session);
    zsock_t *events = zsock_new_sub (mcpact_runtime_events_endpoint (runtime), "SERVER_LOG");
    CHECK (events);

    //  server-everything logs each subscription at info level.
    s_subscribe (agent, "demo://resource/dynamic/text/1");
    json_t *seen = s_logs_until ("dynamic/text/1");
    json_t *message = json_array_get (seen, json_array_size (seen) - 1);
    CHECK_STR (ru_str (message, "server"), "everything");
    CHECK_STR (ru_str (message, "level"), "info");
    json_decref (seen);
    //  ... and the same on the events socket.
    ru_watchdog_arm (60, "a SERVER_LOG event");
    char *verb = NULL, *id = NULL, *text = NULL;
    CHECK (zstr_recvx (events, &verb, &id, &text, NULL) == 3);
    ru_watchdog_disarm ();
    CHECK_STR (verb, "SERVER_LOG");
    CHECK_CONTAINS (text, "\"server\":\"everything\"");
    zstr_free (&verb);
    zstr_free (&id);
    zstr_free (&text);
    zsock_destroy (&events);

    CHECK (mcpact_agent_set_server_log_level (agent, NULL, "error") == 0);
    s_subscribe (agent, "demo://resource/dynamic/text/2");
    CHECK (mcpact_agent_set_server_log_level (agent, "everything", "debug") == 0);
    s_subscribe (agent, "demo://resource/dynamic/text/3");
    seen = s_logs_until ("dynamic/text/3");
    CHECK_MSG (!s_logs_have (seen, "dynamic/text/2"), "a message below the level came: %s",
               json_dumps (seen, 0));
    json_decref (seen);
    CHECK (mcpact_agent_set_server_log_level (agent, NULL, "loud") == -1);
    ru_teardown (&agent, &session, &runtime);
}

//  The level of the configuration file is sent at start.
TEST (everything_log_level_config)
{
    s_node = ru_require_peers (EVERYTHING_JS, NULL);
    char text[2048];
    snprintf (text, sizeof text,
              "{\"logLevel\": \"error\", \"mcpServers\": {\"everything\": {\"command\": \"%s\", "
              "\"args\": [\"%s\", \"stdio\"], \"timeouts\": {\"connect\": %d}}}}",
              s_node, EVERYTHING_JS, PEER_CONNECT_MS);
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    char *error = NULL;
    mcpact_session_t *session = mcpact_session_load_string (runtime, text, "test", &error);
    CHECK_MSG (session, "%s", error ? error : "");
    s_logs_reset ();
    CHECK (mcpact_session_set_server_log (session, s_on_log, &s_logs) == 0);
    mcpact_agent_t *agent = s_agent (session);
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK_STR (ru_str (json_array_get (status, 0), "logLevel"), "error");
    json_decref (status);
    s_subscribe (agent, "demo://resource/dynamic/text/2");
    CHECK (mcpact_agent_set_server_log_level (agent, NULL, "info") == 0);
    s_subscribe (agent, "demo://resource/dynamic/text/3");
    json_t *seen = s_logs_until ("dynamic/text/3");
    CHECK_MSG (!s_logs_have (seen, "dynamic/text/2"), "a message below the level came: %s",
               json_dumps (seen, 0));
    json_decref (seen);
    ru_teardown (&agent, &session, &runtime);
}

TEST (everything_resource_updated)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, s_everything ("everything"));
    mcpact_agent_t *agent = s_agent (session);
    zsock_t *events = zsock_new_sub (mcpact_runtime_events_endpoint (runtime), "RESOURCE_UPDATED");
    CHECK (events);
    s_subscribe (agent, "demo://resource/dynamic/text/7");
    //  The tool sends an update of each subscribed resource at once.
    char *started = ru_call_text (agent, "toggle-subscriber-updates", "{}");
    free (started);
    ru_watchdog_arm (60, "a RESOURCE_UPDATED event");
    char *verb = NULL, *id = NULL, *text = NULL;
    CHECK (zstr_recvx (events, &verb, &id, &text, NULL) == 3);
    ru_watchdog_disarm ();
    CHECK_STR (verb, "RESOURCE_UPDATED");
    json_t *event = ru_json (text);
    CHECK_STR (ru_str (event, "server"), "everything");
    CHECK_STR (ru_str (event, "uri"), "demo://resource/dynamic/text/7");
    json_decref (event);
    zstr_free (&verb);
    zstr_free (&id);
    zstr_free (&text);
    zsock_destroy (&events);

    //  A server that declares no subscriptions is not asked.
    char *error = NULL;
    CHECK (mcpact_agent_subscribe_resource (agent, "nosuch", "a://b", true, &error) == -1);
    CHECK_CONTAINS (error, "no server nosuch");
    free (error);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Faults, from the fixture

TEST (pagination_to_the_end)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = NULL;
    mcpact_agent_t *agent = ru_agent_on (&runtime, &session, "paged", "--resources", "25",
                                         "--resource-page-size", "10", NULL);
    json_t *answer = ru_json_take (mcpact_agent_resources (agent));
    json_t *resources = json_object_get (answer, "resources");
    CHECK_MSG (json_array_size (resources) == 25, "%s", json_dumps (answer, 0));
    CHECK_STR (ru_str (json_array_get (resources, 0), "uri"), "fixture://resource/0000");
    CHECK_STR (ru_str (json_array_get (resources, 24), "uri"), "fixture://resource/0024");
    json_decref (answer);
    //  The one server with resources reads what it did not list.
    mcpact_result_t *result =
        mcpact_agent_read_resource (agent, NULL, "fixture://resource/0024", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    CHECK_CONTAINS (mcpact_result_json (result), "resource 24");
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

TEST (pagination_repeated_cursor)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session,
           ru_fixture ("loop", "--capabilities", "{\"resources\":{}}", "--reply", "resources/list",
                       "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"resources\":[{"
                       "\"uri\":\"a://1\",\"name\":\"1\"}],\"nextCursor\":\"again\"}}",
                       NULL));
    s_add (session, ru_fixture ("good", "--resources", "2", NULL));
    mcpact_agent_t *agent = s_agent (session);
    ru_watchdog_arm (60, "a listing whose cursor repeats");
    json_t *answer = ru_json_take (mcpact_agent_resources (agent));
    ru_watchdog_disarm ();
    json_t *errors = json_object_get (answer, "errors");
    CHECK (json_array_size (errors) == 1);
    CHECK_STR (ru_str (json_array_get (errors, 0), "server"), "loop");
    CHECK_CONTAINS (ru_str (json_array_get (errors, 0), "error"),
                    "resources/list pagination does not end (cursor \"again\" came back)");
    //  The other server's are there; none of the broken one's.
    CHECK (json_array_size (json_object_get (answer, "resources")) == 2);
    json_decref (answer);
    ru_teardown (&agent, &session, &runtime);
}

TEST (malformed_contents)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session,
           ru_fixture ("bad", "--capabilities", "{\"resources\":{},\"prompts\":{}}", "--reply",
                       "resources/read",
                       "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"contents\":[{\"uri\":\"a://"
                       "1\",\"text\":\"fine\"},{\"uri\":\"a://2\",\"blob\":\"not base64!\"}]}}",
                       "--reply", "prompts/get",
                       "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"messages\":7}}", NULL));
    s_add (session,
           ru_fixture ("none", "--capabilities", "{\"resources\":{}}", "--reply", "resources/read",
                       "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{}}", NULL));
    mcpact_agent_t *agent = s_agent (session);
    mcpact_result_t *result = mcpact_agent_read_resource (agent, "bad", "a://2", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_PROTOCOL);
    CHECK_STR (mcpact_result_error (result),
               "server bad: resources/read: contents[1] has a blob that is not a base64 string");
    mcpact_result_destroy (&result);
    result = mcpact_agent_read_resource (agent, "none", "a://2", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_PROTOCOL);
    CHECK_STR (mcpact_result_error (result),
               "server none: resources/read: the result has no contents array");
    mcpact_result_destroy (&result);
    result = mcpact_agent_get_prompt (agent, "bad", "p", NULL, 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_PROTOCOL);
    CHECK_CONTAINS (mcpact_result_error (result), "the result has no messages array");
    mcpact_result_destroy (&result);
    //  A server without prompts is not asked for them.
    result = mcpact_agent_get_prompt (agent, "none", "p", NULL, 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    CHECK_CONTAINS (mcpact_result_error (result), "server none does not offer prompts/get");
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

TEST (huge_blob)
{
    //  20 MB of base64, read as it came.
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, ru_fixture ("big", "--capabilities", "{\"resources\":{}}", "--pad", "20000000",
                                "--reply", "resources/read",
                                "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"contents\":[{"
                                "\"uri\":\"a://big\",\"blob\":\"$PAD\"}]}}",
                                NULL));
    mcpact_agent_t *agent = s_agent (session);
    mcpact_result_t *result = mcpact_agent_read_resource (agent, NULL, "a://big", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    const char *text = mcpact_result_json (result);
    CHECK (strlen (text) > 20000000 && strlen (text) < 20000100);
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

//  A server that sends every level whatever it was told: what is below
//  the level does not reach the host, and the rest comes in order.
TEST (log_below_level_dropped)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_logs_reset ();
    CHECK (mcpact_session_set_server_log (session, s_on_log, &s_logs) == 0);
    mcpact_server_config_t *config =
        ru_fixture ("chatty", "--resources", "1", "--log-on-list", "--capabilities",
                    "{\"resources\":{},\"logging\":{}}", NULL);
    CHECK (mcpact_server_config_set_log_level (config, "warning") == 0);
    CHECK (mcpact_server_config_set_log_level (config, "loud") == -1);
    s_add (session, config);
    mcpact_agent_t *agent = s_agent (session);
    free (mcpact_agent_resources (agent));
    json_t *seen = s_logs_until ("emergency");
    const char *expected[] = { "warning", "error", "critical", "alert", "emergency" };
    CHECK_MSG (json_array_size (seen) == 5, "%s", json_dumps (seen, 0));
    for (size_t i = 0; i < 5; i++) {
        json_t *message = json_array_get (seen, i);
        CHECK_STR (ru_str (message, "level"), expected[i]);
        CHECK_STR (ru_str (message, "logger"), "fixture");
        CHECK_STR (ru_str (message, "server"), "chatty");
    }
    json_decref (seen);
    ru_teardown (&agent, &session, &runtime);
}

//  A request the server never answers ends at the call timeout, with the
//  server told to cancel it.
TEST (request_timeout)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config =
        ru_fixture ("mute", "--capabilities", "{\"resources\":{}}", "--stop-reading", NULL);
    CHECK (mcpact_server_config_set_timeouts (config, 0, 0, 300) == 0);
    s_add (session, config);
    mcpact_agent_t *agent = s_agent (session);
    ru_watchdog_arm (60, "a request that is never answered");
    mcpact_result_t *result = mcpact_agent_read_resource (agent, "mute", "a://1", 0);
    ru_watchdog_disarm ();
    CHECK (mcpact_result_status (result) == MCPACT_ERR_TIMEOUT);
    CHECK_CONTAINS (mcpact_result_error (result), "no answer to resources/read within 300 ms");
    mcpact_result_destroy (&result);
    ru_teardown (&agent, &session, &runtime);
}

//  A server that restarts is told again what the host asked of the one
//  before: its logging level and the resources subscribed to.
TEST (restart_sends_level_and_subscriptions_again)
{
    char input_log[] = "/tmp/mcpact-resources-XXXXXX";
    int fd = mkstemp (input_log);
    CHECK (fd >= 0);
    close (fd);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_server_config_t *config =
        ru_fixture ("phoenix", "--resources", "2", "--input-log", input_log, "--capabilities",
                    "{\"tools\":{},\"resources\":{\"subscribe\":true},\"logging\":{}}", NULL);
    s_add (session, config);
    mcpact_agent_t *agent = s_agent (session);
    //  Set while it runs: sent now, and again after the restart.
    CHECK (mcpact_agent_set_server_log_level (agent, "phoenix", "notice") == 0);
    s_subscribe (agent, "fixture://resource/0001");
    mcpact_result_t *result = mcpact_agent_call (agent, "crash", "{}", 0);
    mcpact_result_destroy (&result);
    //  Ready again after one restart.
    ru_watchdog_arm (60, "the server's restart");
    while (true) {
        json_t *status = ru_json_take (mcpact_agent_status (agent));
        json_t *server = json_array_get (status, 0);
        bool again = json_integer_value (json_object_get (server, "restarts")) == 1 &&
                     strcmp (ru_str (server, "state"), "ready") == 0;
        json_decref (status);
        if (again)
            break;
        ru_sleep_ms (20);
    }
    ru_watchdog_disarm ();
    char *asked = s_read_file (input_log);
    unlink (input_log);
    CHECK_MSG (s_count (asked, "\"method\":\"logging/setLevel\"") == 2 &&
                   s_count (asked, "\"level\":\"notice\"") == 2,
               "%s", asked);
    CHECK_MSG (s_count (asked, "\"method\":\"resources/subscribe\"") == 2, "%s", asked);
    CHECK_MSG (s_count (asked, "fixture://resource/0001") == 2, "%s", asked);
    free (asked);
    ru_teardown (&agent, &session, &runtime);
}

//  logLevel in a configuration file: a server's own, the file's default,
//  an agent's default over it, sent at start to a server that declares
//  logging; a level that is none refuses the file.
TEST (config_log_levels)
{
    char input_log[] = "/tmp/mcpact-resources-XXXXXX";
    int fd = mkstemp (input_log);
    CHECK (fd >= 0);
    close (fd);
    char text[2048];
    snprintf (
        text, sizeof text,
        "{\"logLevel\": \"error\", \"toolNames\": \"prefix\", \"mcpServers\": {"
        "\"a\": {\"command\": \"%s\", \"args\": [\"--input-log\", \"%s\", \"--capabilities\", "
        "\"{\\\"tools\\\":{},\\\"logging\\\":{}}\"]}, "
        "\"b\": {\"command\": \"%s\", \"logLevel\": \"debug\"}},"
        " \"agents\": {\"x\": {\"logLevel\": \"warning\", \"mcpServers\": [\"a\", \"b\"]}}}",
        RU_FIXTURE, input_log, RU_FIXTURE);
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    char *error = NULL;
    mcpact_session_t *session = mcpact_session_load_string (runtime, text, "test", &error);
    CHECK_MSG (session, "%s", error ? error : "");
    mcpact_agent_t *agent = s_agent (session);
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    CHECK_STR (ru_str (ru_named (status, "a"), "logLevel"), "error");
    CHECK_STR (ru_str (ru_named (status, "b"), "logLevel"), "debug");
    json_decref (status);
    mcpact_agent_t *x = mcpact_agent_from_config (session, "x");
    CHECK (x);
    status = ru_json_take (mcpact_agent_status (x));
    CHECK_STR (ru_str (ru_named (status, "a"), "logLevel"), "warning");
    CHECK_STR (ru_str (ru_named (status, "b"), "logLevel"), "debug");
    json_decref (status);
    mcpact_agent_destroy (&x);
    ru_teardown (&agent, &session, &runtime);
    //  Both instances of a were told their level before they were ready.
    char *asked = s_read_file (input_log);
    unlink (input_log);
    CHECK_MSG (strstr (asked, "\"logging/setLevel\",\"params\":{\"level\":\"error\"}") &&
                   strstr (asked, "\"logging/setLevel\",\"params\":{\"level\":\"warning\"}"),
               "%s", asked);
    free (asked);

    const char *bad[] = { "{\"logLevel\": \"loud\", \"mcpServers\": {}}",
                          "{\"mcpServers\": {\"a\": {\"command\": \"x\", \"logLevel\": 3}}}",
                          "{\"mcpServers\": {}, \"agents\": {\"x\": {\"logLevel\": \"\"}}}" };
    const char *where[] = { "test: logLevel: must be", "test: mcpServers.a.logLevel: must be",
                            "test: agents.x.logLevel: must be" };
    for (size_t i = 0; i < 3; i++) {
        error = NULL;
        runtime = mcpact_runtime_new ();
        session = mcpact_session_load_string (runtime, bad[i], "test", &error);
        CHECK (!session);
        CHECK_CONTAINS (error, where[i]);
        free (error);
        mcpact_runtime_destroy (&runtime);
    }
}

typedef struct {
    mcpact_agent_t *agent;
    mcpact_result_t *result;
} s_reader_t;

static void *
s_read_in_thread (void *arg)
{
    s_reader_t *reader = (s_reader_t *) arg;
    reader->result = mcpact_agent_read_resource (reader->agent, "mute", "a://1", 0);
    return NULL;
}

//  A request in flight on a server that is removed ends at once, saying
//  so, not at its timeout.
TEST (request_on_a_removed_server)
{
    char input_log[] = "/tmp/mcpact-resources-XXXXXX";
    int fd = mkstemp (input_log);
    CHECK (fd >= 0);
    close (fd);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    //  It reads the request (its input log shows it) and never answers.
    s_add (session, ru_fixture ("mute", "--capabilities", "{\"resources\":{}}", "--input-log",
                                input_log, "--reply", "resources/read", "", NULL));
    mcpact_agent_t *agent = s_agent (session);
    s_reader_t reader = { agent, NULL };
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, s_read_in_thread, &reader) == 0);
    ru_watchdog_arm (20, "a request on a removed server");
    while (true) {
        char *asked = s_read_file (input_log);
        bool sent = strstr (asked, "resources/read") != NULL;
        free (asked);
        if (sent)
            break;
        ru_sleep_ms (10);
    }
    CHECK (mcpact_session_remove_server (session, "mute") == 0);
    pthread_join (thread, NULL);
    ru_watchdog_disarm ();
    unlink (input_log);
    CHECK (mcpact_result_status (reader.result) == MCPACT_ERR_SERVER);
    CHECK_CONTAINS (mcpact_result_error (reader.result), "server mute was removed");
    mcpact_result_destroy (&reader.result);
    ru_teardown (&agent, &session, &runtime);
}

//  notifications/resources/list_changed becomes a RESOURCES_CHANGED event,
//  and the next listing has the new resource.
TEST (everything_resources_changed)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, s_everything ("everything"));
    mcpact_agent_t *agent = s_agent (session);
    zsock_t *events = zsock_new_sub (mcpact_runtime_events_endpoint (runtime), "RESOURCES_CHANGED");
    CHECK (events);
    //  The tool registers a resource of the session.
    mcpact_result_t *result = mcpact_agent_call (
        agent, "gzip-file-as-resource",
        "{\"name\":\"hello.txt\",\"data\":\"data:text/plain;base64,SGVsbG8=\"}", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    mcpact_result_destroy (&result);
    ru_watchdog_arm (60, "a RESOURCES_CHANGED event");
    char *verb = NULL, *id = NULL, *text = NULL;
    CHECK (zstr_recvx (events, &verb, &id, &text, NULL) == 3);
    ru_watchdog_disarm ();
    CHECK_STR (verb, "RESOURCES_CHANGED");
    CHECK_CONTAINS (text, "\"server\":\"everything\"");
    zstr_free (&verb);
    zstr_free (&id);
    zstr_free (&text);
    zsock_destroy (&events);
    json_t *answer = ru_json_take (mcpact_agent_resources (agent));
    CHECK (
        s_item (json_object_get (answer, "resources"), "uri", "demo://resource/session/hello.txt"));
    json_decref (answer);
    ru_teardown (&agent, &session, &runtime);
}

//  A log message without an MCP level is skipped with one warning; the
//  next good one still comes.
TEST (log_message_without_a_level)
{
    mcpact_set_log (ru_log_line, NULL, MCPACT_LOG_WARN);
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_logs_reset ();
    CHECK (mcpact_session_set_server_log (session, s_on_log, &s_logs) == 0);
    s_add (session,
           ru_fixture ("odd", "--capabilities", "{\"resources\":{}}", "--reply", "resources/list",
                       "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{"
                       "\"level\":\"loud\",\"data\":\"first\"}}\n"
                       "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{"
                       "\"level\":\"error\"}}\n"
                       "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{"
                       "\"level\":\"error\",\"data\":\"last\"}}\n"
                       "{\"jsonrpc\":\"2.0\",\"id\":$ID,\"result\":{\"resources\":[]}}",
                       NULL));
    mcpact_agent_t *agent = s_agent (session);
    free (mcpact_agent_resources (agent));
    json_t *seen = s_logs_until ("last");
    CHECK_MSG (json_array_size (seen) == 1, "%s", json_dumps (seen, 0));
    json_decref (seen);
    ru_teardown (&agent, &session, &runtime);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    pthread_mutex_lock (&ru_log_lock);
    CHECK_CONTAINS (ru_log, "server odd: skipped a notifications/message: its level is not an MCP "
                            "level (further ones are logged at debug level)");
    CHECK (!strstr (ru_log, "it has no data"));
    pthread_mutex_unlock (&ru_log_lock);
}

//  Resources and prompts asked of a server without those capabilities
//  are refused without a call: the server's status counts no call and no
//  error (its "calls" and "results" are tool calls only).
TEST (requests_without_capability_count_no_calls)
{
    mcpact_runtime_t *runtime = NULL;
    mcpact_session_t *session = ru_session_new (&runtime);
    s_add (session, ru_fixture ("plain", "--capabilities", "{\"tools\":{}}", NULL));
    mcpact_agent_t *agent = s_agent (session);
    free (mcpact_agent_resources (agent));
    free (mcpact_agent_resource_templates (agent));
    free (mcpact_agent_prompts (agent));
    mcpact_result_t *result = mcpact_agent_read_resource (agent, "plain", "a://1", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    result = mcpact_agent_get_prompt (agent, "plain", "p", NULL, 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    mcpact_result_destroy (&result);
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *plain = ru_named (status, "plain");
    CHECK_MSG (plain, "no server plain in the status");
    char *text = json_dumps (plain, JSON_COMPACT);
    CHECK_MSG (json_integer_value (json_object_get (plain, "calls")) == 0, "%s", text);
    CHECK_MSG (json_integer_value (json_object_get (plain, "errors")) == 0, "%s", text);
    CHECK_MSG (json_integer_value (
                   json_object_get (json_object_get (plain, "results"), "unknown_tool")) == 0,
               "%s", text);
    free (text);
    json_decref (status);
    ru_teardown (&agent, &session, &runtime);
}
