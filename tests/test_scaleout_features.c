/*  =========================================================================
    test_scaleout_features - resources, resource templates, prompts,
    subscriptions and their events through a group (docs/scale-out.md)

    Each case starts a group daemon, `mcpact serve` over the reference
    server server-everything (npm, tests/peers) on 127.0.0.1, as a process
    of its own, and runs a session in this process that names the group as
    server "east", beside local servers: what the host sees through the C
    API is the group's resources and prompts merged with the local ones,
    read and got through the group, and the group's events turned into the
    session's.
    =========================================================================
*/

#define PU_NAME "scalef"
#include "protocol_util.h"

#include <sys/stat.h>

#define CLI PU_CLI
#define PEERS_DIR MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol"
#define EVERYTHING_JS PEERS_DIR "/server-everything/dist/index.js"
//  Node takes a while to start on a loaded machine.
#define PEER_CONNECT_MS 30000

//  A second server-everything in the group ("everything2"), for the case
//  that sets it.
static bool s_two_servers = false;

//  A group daemon: `mcpact serve` over server-everything.
typedef struct {
    pid_t pid;
    FILE *out;          //  its stdout
    char endpoint[256]; //  as bound
    char events[256];   //  its events endpoint as bound, "" without --events
} s_group_t;

//  Starts the daemon bound at 127.0.0.1 (with its events there too, if
//  `events`), with the extra arguments (NULL-terminated), and waits for
//  its "bound" (and "events") lines.
static void
s_group_start (s_group_t *self, const char *dir, bool events, ...)
{
    memset (self, 0, sizeof *self);
    const char *node = ru_require_peers (EVERYTHING_JS, NULL);
    char config[256], text[2048];
    snprintf (config, sizeof config, "%s/group.json", dir);
    char server[512];
    snprintf (server, sizeof server,
              "{\"command\": \"%s\", \"args\": [\"%s\", \"stdio\"], \"timeouts\": "
              "{\"connect\": %d}}",
              node, EVERYTHING_JS, PEER_CONNECT_MS);
    snprintf (text, sizeof text, "{\"mcpServers\": {\"everything\": %s%s%s}}", server,
              s_two_servers ? ", \"everything2\": " : "", s_two_servers ? server : "");
    pu_write (config, text);
    //  setpriv: the daemon dies with this test, also when the test fails.
    const char *argv[32] = {
        "/usr/bin/setpriv", "--pdeathsig",      "KILL", CLI, "serve", "-c", config,
        "--bind",           "tcp://127.0.0.1:*"
    };
    int argc = 9;
    if (events) {
        argv[argc++] = "--events";
        argv[argc++] = "tcp://127.0.0.1:*";
    }
    va_list args;
    va_start (args, events);
    for (const char *arg = va_arg (args, const char *); arg && argc < 31;
         arg = va_arg (args, const char *))
        argv[argc++] = arg;
    va_end (args);
    self->pid = pu_spawn (argv, &self->out);
    pu_serve_wait_bound (self->out, self->endpoint, sizeof self->endpoint,
                         events ? self->events : NULL, sizeof self->events);
}

static void
s_group_end (s_group_t *self)
{
    pu_serve_end (self->pid, self->out, SIGTERM);
    self->pid = 0;
}

static mcpact_server_config_t *
s_everything (const char *name)
{
    const char *node = ru_require_peers (EVERYTHING_JS, NULL);
    mcpact_server_config_t *config = mcpact_server_stdio_new (name, node);
    CHECK (config);
    CHECK (mcpact_server_config_add_arg (config, EVERYTHING_JS) == 0);
    CHECK (mcpact_server_config_add_arg (config, "stdio") == 0);
    CHECK (mcpact_server_config_set_timeouts (config, PEER_CONNECT_MS, PEER_CONNECT_MS, 0) == 0);
    return config;
}

//  A session with the group as server "east" and `local` (taken; NULL:
//  none) beside it; its agent, started, with "east" ready.
static mcpact_agent_t *
s_session (mcpact_runtime_t **runtime, mcpact_session_t **session, mcpact_server_config_t *group,
           mcpact_server_config_t *local)
{
    *session = ru_session_new (runtime);
    CHECK (mcpact_session_set_name_policy (*session, MCPACT_NAMES_PREFIX) == 0);
    CHECK (mcpact_session_add_server (*session, &group) == 0);
    if (local)
        CHECK (mcpact_session_add_server (*session, &local) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (*session, NULL);
    CHECK (agent != NULL);
    json_t *report = ru_json_take (mcpact_agent_start (agent));
    CHECK_MSG (ru_state (report, "east") && streq (ru_state (report, "east"), "ready"), "%s",
               json_dumps (report, 0));
    if (local)
        CHECK_STR (ru_state (report, "local"), "ready");
    json_decref (report);
    return agent;
}

static mcpact_server_config_t *
s_group_config (const char *endpoint)
{
    mcpact_server_config_t *group = mcpact_server_group_new ("east", endpoint);
    CHECK (group != NULL);
    return group;
}

//  A group daemon and, in this process, a session naming it as server
//  "east" (with `local` beside it: taken, NULL for none) and its agent.
typedef struct {
    s_group_t group;
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent;
} s_front_t;

//  Starts both (the group with its events endpoint if `events`); returns
//  the agent, started, with "east" ready.
static mcpact_agent_t *
s_front_start (s_front_t *self, bool events, mcpact_server_config_t *local)
{
    s_group_start (&self->group, pu_tmpdir (), events, NULL);
    self->agent =
        s_session (&self->runtime, &self->session, s_group_config (self->group.endpoint), local);
    return self->agent;
}

static void
s_front_end (s_front_t *self)
{
    ru_teardown (&self->agent, &self->session, &self->runtime);
    s_group_end (&self->group);
}

//  The `skip`th item of `items` whose `key` is `value` and whose server
//  is `server`, or NULL.
static json_t *
s_nth_item (json_t *items, const char *key, const char *value, const char *server, size_t skip)
{
    size_t index;
    json_t *item;
    json_array_foreach (items, index, item) {
        const char *its =
            json_string_value (json_object_get (json_object_get (item, "_mcpact"), "server"));
        if (ru_str (item, key) && streq (ru_str (item, key), value) && its && streq (its, server) &&
            skip-- == 0)
            return item;
    }
    return NULL;
}

static json_t *
s_item (json_t *items, const char *key, const char *value, const char *server)
{
    return s_nth_item (items, key, value, server, 0);
}

//  The capabilities the session's status shows for server `name`.
static json_t *
s_capabilities (mcpact_agent_t *agent, const char *name)
{
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    json_t *server = ru_named (status, name);
    CHECK (server);
    json_t *capabilities = json_incref (json_object_get (server, "capabilities"));
    json_decref (status);
    return capabilities;
}

//  --------------------------------------------------------------------------

//  The group's resources, templates and prompts are listed under the
//  group's name beside a local server's, read and got through the group.
TEST (lists_reads_and_prompts_through_the_group)
{
    s_front_t front;
    mcpact_agent_t *agent = s_front_start (&front, true, ru_fixture ("local", NULL));

    //  The group offers what its servers declared.
    json_t *capabilities = s_capabilities (agent, "east");
    CHECK_MSG (json_is_object (json_object_get (capabilities, "resources")) &&
                   json_is_object (json_object_get (capabilities, "prompts")),
               "%s", json_dumps (capabilities, 0));
    CHECK (
        json_is_true (json_object_get (json_object_get (capabilities, "resources"), "subscribe")));
    json_decref (capabilities);

    json_t *answer = ru_json_take (mcpact_agent_resources (agent));
    CHECK_MSG (json_array_size (json_object_get (answer, "errors")) == 0, "%s",
               json_dumps (answer, 0));
    CHECK_MSG (s_item (json_object_get (answer, "resources"), "uri",
                       "demo://resource/static/document/architecture.md", "east"),
               "%s", json_dumps (answer, 0));
    json_decref (answer);

    answer = ru_json_take (mcpact_agent_resource_templates (agent));
    CHECK_MSG (s_item (json_object_get (answer, "resourceTemplates"), "uriTemplate",
                       "demo://resource/dynamic/text/{resourceId}", "east"),
               "%s", json_dumps (answer, 0));
    json_decref (answer);

    answer = ru_json_take (mcpact_agent_prompts (agent));
    json_t *prompt = s_item (json_object_get (answer, "prompts"), "name", "args-prompt", "east");
    CHECK_MSG (prompt, "%s", json_dumps (answer, 0));
    //  The arguments come as the group's server declared them.
    CHECK (json_array_size (json_object_get (prompt, "arguments")) == 2);
    json_decref (answer);

    //  Listed by the group: read through it, as its server sent it.
    mcpact_result_t *result = mcpact_agent_read_resource (
        agent, NULL, "demo://resource/static/document/architecture.md", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    json_t *read = ru_json (mcpact_result_json (result));
    CHECK_CONTAINS (ru_str (json_array_get (json_object_get (read, "contents"), 0), "text"),
                    "Architecture");
    json_decref (read);
    mcpact_result_destroy (&result);

    //  Not listed, but the group's template matches: a base64 blob.
    result = mcpact_agent_read_resource (agent, NULL, "demo://resource/dynamic/blob/3", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    read = ru_json (mcpact_result_json (result));
    CHECK (strlen (ru_str (json_array_get (json_object_get (read, "contents"), 0), "blob")) > 0);
    json_decref (read);
    mcpact_result_destroy (&result);

    //  A prompt with its arguments, checked against the group's listing.
    result = mcpact_agent_get_prompt (agent, NULL, "args-prompt", "{\"city\":\"Paris\"}", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    CHECK_CONTAINS (mcpact_result_json (result), "Paris");
    mcpact_result_destroy (&result);
    result = mcpact_agent_get_prompt (agent, NULL, "args-prompt", "{\"state\":\"Texas\"}", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_ARGS);
    CHECK_STR (mcpact_result_error (result), "server east: prompt args-prompt needs argument city");
    mcpact_result_destroy (&result);

    //  The group's servers' instructions are the group's.
    json_t *instructions = ru_json_take (mcpact_agent_instructions (agent));
    CHECK_MSG (json_array_size (instructions) == 1, "%s", json_dumps (instructions, 0));
    CHECK_STR (ru_str (json_array_get (instructions, 0), "server"), "east");
    CHECK_CONTAINS (ru_str (json_array_get (instructions, 0), "instructions"), "everything: ");
    json_decref (instructions);
    s_front_end (&front);
}

//  A subscription made through the group: the group's server's update
//  comes as the session's RESOURCE_UPDATED, under the group's name.
TEST (subscription_update_through_the_group)
{
    s_front_t front;
    mcpact_agent_t *agent = s_front_start (&front, true, NULL);
    zsock_t *events =
        zsock_new_sub (mcpact_runtime_events_endpoint (front.runtime), "RESOURCE_UPDATED");
    CHECK (events);
    const char *uri = "demo://resource/dynamic/text/7";
    char *error = NULL;
    CHECK_MSG (mcpact_agent_subscribe_resource (agent, NULL, uri, true, &error) == 0, "%s", error);
    //  The group's server sends an update of each subscribed resource at
    //  once when the tool turns its updates on.
    free (ru_call_text (agent, "east_toggle-subscriber-updates", "{}"));
    ru_watchdog_arm (60, "a RESOURCE_UPDATED event from the group");
    char *verb = NULL, *id = NULL, *text = NULL;
    CHECK (zstr_recvx (events, &verb, &id, &text, NULL) == 3);
    ru_watchdog_disarm ();
    CHECK_STR (verb, "RESOURCE_UPDATED");
    json_t *event = ru_json (text);
    CHECK_STR (ru_str (event, "server"), "east");
    CHECK_STR (ru_str (event, "uri"), uri);
    json_decref (event);
    zstr_free (&verb);
    zstr_free (&id);
    zstr_free (&text);
    CHECK_MSG (mcpact_agent_subscribe_resource (agent, "east", uri, false, &error) == 0, "%s",
               error);
    zsock_destroy (&events);
    s_front_end (&front);
}

//  What the group's gateway or its servers refuse comes back as an error
//  that names the group (the session's server and the group's endpoint)
//  and what was wrong.
TEST (group_errors_are_named)
{
    s_front_t front;
    mcpact_agent_t *agent = s_front_start (&front, true, NULL);

    //  The group's server's own error, with its name and its message.
    mcpact_result_t *result = mcpact_agent_read_resource (agent, "east", "demo://nothing/here", 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_PROTOCOL);
    const char *message = mcpact_result_error (result);
    CHECK_MSG (strncmp (message, "server east: ", 13) == 0 &&
                   strstr (message, front.group.endpoint) &&
                   strstr (message, "server everything") &&
                   strstr (message, "Resource demo://nothing/here not found"),
               "%s", message);
    mcpact_result_destroy (&result);

    //  A prompt the group does not have, asked of the group by name.
    //  The group's status comes with it: no server there offers it, as
    //  for a prompt no local server offers.
    result = mcpact_agent_get_prompt (agent, "east", "no-such-prompt", NULL, 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    message = mcpact_result_error (result);
    CHECK_MSG (strstr (message, "east") && strstr (message, front.group.endpoint) &&
                   strstr (message, "no server of the agent offers prompt no-such-prompt"),
               "%s", message);
    mcpact_result_destroy (&result);
    s_front_end (&front);
}

//  The same URI and prompt offered by a local server and by the group:
//  as for two local servers, both are listed, each under its server, and
//  an unnamed read or prompt is refused naming both; named, each goes to
//  its own.
TEST (same_uri_local_and_group)
{
    s_front_t front;
    mcpact_agent_t *agent = s_front_start (&front, true, s_everything ("local"));
    const char *uri = "demo://resource/static/document/features.md";
    json_t *answer = ru_json_take (mcpact_agent_resources (agent));
    CHECK (s_item (json_object_get (answer, "resources"), "uri", uri, "east"));
    CHECK (s_item (json_object_get (answer, "resources"), "uri", uri, "local"));
    json_decref (answer);

    mcpact_result_t *result = mcpact_agent_read_resource (agent, NULL, uri, 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    CHECK_CONTAINS (mcpact_result_error (result), "name the one to ask");
    CHECK_CONTAINS (mcpact_result_error (result), "east");
    CHECK_CONTAINS (mcpact_result_error (result), "local");
    mcpact_result_destroy (&result);
    result = mcpact_agent_read_resource (agent, "east", uri, 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    mcpact_result_destroy (&result);

    result = mcpact_agent_get_prompt (agent, NULL, "simple-prompt", NULL, 0);
    CHECK (mcpact_result_status (result) == MCPACT_ERR_UNKNOWN_TOOL);
    CHECK_CONTAINS (mcpact_result_error (result), "offered by servers");
    mcpact_result_destroy (&result);
    result = mcpact_agent_get_prompt (agent, "east", "simple-prompt", NULL, 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    mcpact_result_destroy (&result);
    s_front_end (&front);
}

//  A group without an events endpoint (no --events) still lists, reads
//  and gets prompts, but offers no subscriptions: a subscription is
//  refused saying so, rather than taken and never updated.
TEST (group_without_events_offers_no_subscriptions)
{
    s_front_t front;
    mcpact_agent_t *agent = s_front_start (&front, false, NULL);
    json_t *capabilities = s_capabilities (agent, "east");
    CHECK_MSG (json_is_object (json_object_get (capabilities, "resources")) &&
                   !json_object_get (json_object_get (capabilities, "resources"), "subscribe"),
               "%s", json_dumps (capabilities, 0));
    json_decref (capabilities);
    mcpact_result_t *result = mcpact_agent_read_resource (
        agent, NULL, "demo://resource/static/document/architecture.md", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    mcpact_result_destroy (&result);
    char *error = NULL;
    CHECK (mcpact_agent_subscribe_resource (agent, "east", "demo://resource/dynamic/text/1", true,
                                            &error) == -1);
    CHECK_CONTAINS (error, "resources.subscribe");
    free (error);
    s_front_end (&front);
}

//  With CURVE, the events come over CURVE too, with the session's keys.
TEST (subscription_update_over_curve)
{
    const char *dir = pu_tmpdir ();
    pu_curve_t keys;
    pu_curve_keys (&keys, dir);
    const char *key = keys.group, *clients = keys.clients, *secret = keys.session;
    s_group_t group;
    s_group_start (&group, dir, true, "--curve-key", key, "--curve-clients", clients, NULL);
    mcpact_server_config_t *config = s_group_config (group.endpoint);
    CHECK (mcpact_server_config_set_group_curve (config, key, secret) == 0);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent = s_session (&runtime, &session, config, NULL);
    zsock_t *events = zsock_new_sub (mcpact_runtime_events_endpoint (runtime), "RESOURCE_UPDATED");
    CHECK (events);
    char *error = NULL;
    CHECK_MSG (mcpact_agent_subscribe_resource (agent, NULL, "demo://resource/dynamic/text/2", true,
                                                &error) == 0,
               "%s", error);
    free (ru_call_text (agent, "east_toggle-subscriber-updates", "{}"));
    ru_watchdog_arm (60, "a RESOURCE_UPDATED event from the group over CURVE");
    char *verb = NULL, *id = NULL, *text = NULL;
    CHECK (zstr_recvx (events, &verb, &id, &text, NULL) == 3);
    ru_watchdog_disarm ();
    CHECK_CONTAINS (text, "demo://resource/dynamic/text/2");
    zstr_free (&verb);
    zstr_free (&id);
    zstr_free (&text);
    zsock_destroy (&events);
    ru_teardown (&agent, &session, &runtime);
    s_group_end (&group);
}

//  A change of the group's resources (its server made one) comes as the
//  session's RESOURCES_CHANGED, and the new resource is listed and read.
TEST (resources_changed_through_the_group)
{
    s_front_t front;
    mcpact_agent_t *agent = s_front_start (&front, true, NULL);
    zsock_t *events =
        zsock_new_sub (mcpact_runtime_events_endpoint (front.runtime), "RESOURCES_CHANGED");
    CHECK (events);
    //  The tool registers a resource of the session: list_changed.
    mcpact_result_t *result = mcpact_agent_call (
        agent, "east_gzip-file-as-resource",
        "{\"name\": \"hello.gz\", \"data\": \"data:text/plain;base64,aGVsbG8=\"}", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    mcpact_result_destroy (&result);
    ru_watchdog_arm (60, "a RESOURCES_CHANGED event from the group");
    char *verb = NULL, *id = NULL, *text = NULL;
    CHECK (zstr_recvx (events, &verb, &id, &text, NULL) == 3);
    ru_watchdog_disarm ();
    json_t *event = ru_json (text);
    CHECK_STR (ru_str (event, "server"), "east");
    json_decref (event);
    zstr_free (&verb);
    zstr_free (&id);
    zstr_free (&text);
    zsock_destroy (&events);
    const char *uri = "demo://resource/session/hello.gz";
    json_t *answer = ru_json_take (mcpact_agent_resources (agent));
    CHECK_MSG (s_item (json_object_get (answer, "resources"), "uri", uri, "east"), "%s",
               json_dumps (answer, 0));
    json_decref (answer);
    result = mcpact_agent_read_resource (agent, NULL, uri, 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    mcpact_result_destroy (&result);
    s_front_end (&front);
}

//  The log level set for the group reaches its servers (LOGLEVEL), and
//  their log messages come as the session's SERVER_LOG, under the
//  group's name.
TEST (server_log_through_the_group)
{
    s_front_t front;
    mcpact_agent_t *agent = s_front_start (&front, true, NULL);
    json_t *capabilities = s_capabilities (agent, "east");
    CHECK_MSG (json_is_object (json_object_get (capabilities, "logging")), "%s",
               json_dumps (capabilities, 0));
    json_decref (capabilities);
    zsock_t *events = zsock_new_sub (mcpact_runtime_events_endpoint (front.runtime), "SERVER_LOG");
    CHECK (events);
    CHECK (mcpact_agent_set_server_log_level (agent, "east", "debug") == 0);
    //  server-everything logs each subscription at info level.
    char *error = NULL;
    CHECK_MSG (mcpact_agent_subscribe_resource (agent, NULL, "demo://resource/dynamic/text/4", true,
                                                &error) == 0,
               "%s", error);
    ru_watchdog_arm (60, "a SERVER_LOG event from the group");
    char *verb = NULL, *id = NULL, *text = NULL;
    CHECK (zstr_recvx (events, &verb, &id, &text, NULL) == 3);
    ru_watchdog_disarm ();
    json_t *event = ru_json (text);
    CHECK_STR (ru_str (event, "server"), "east");
    CHECK (ru_str (event, "level") != NULL);
    json_decref (event);
    zstr_free (&verb);
    zstr_free (&id);
    zstr_free (&text);
    zsock_destroy (&events);
    s_front_end (&front);
}

//  Two servers of the group list the same URI and prompt: the session
//  lists each once per server, both under the group's name; reading it
//  unnamed is the group's refusal naming its two servers (a session
//  cannot name a server inside the group), while a URI only one of them
//  lists (none here: server-everything twice) would go to that one.
TEST (same_uri_twice_in_the_group)
{
    s_front_t front;
    s_two_servers = true;
    mcpact_agent_t *agent = s_front_start (&front, true, NULL);
    s_two_servers = false;
    const char *uri = "demo://resource/static/document/features.md";
    json_t *answer = ru_json_take (mcpact_agent_resources (agent));
    json_t *resources = json_object_get (answer, "resources");
    CHECK_MSG (s_nth_item (resources, "uri", uri, "east", 1) &&
                   !s_nth_item (resources, "uri", uri, "east", 2),
               "%s", json_dumps (answer, 0));
    json_decref (answer);
    mcpact_result_t *result = mcpact_agent_read_resource (agent, NULL, uri, 0);
    CHECK (mcpact_result_status (result) != MCPACT_OK);
    const char *message = mcpact_result_error (result);
    CHECK_MSG (strstr (message, "east") && strstr (message, front.group.endpoint) &&
                   strstr (message, "everything, everything2"),
               "%s", message);
    mcpact_result_destroy (&result);
    s_front_end (&front);
}

//  The CLI on a configuration that names the group: `mcpact resources`,
//  `read` and `prompt` show and use the group's.
TEST (cli_through_the_group)
{
    const char *dir = pu_tmpdir ();
    s_group_t group;
    s_group_start (&group, dir, true, NULL);
    char path[256], text[512];
    snprintf (path, sizeof path, "%s/session.json", dir);
    snprintf (text, sizeof text, "{\"mcpServers\": {\"east\": {\"group\": \"%s\"}}}",
              group.endpoint);
    pu_write (path, text);
    ru_run_t run = ru_cli (NULL, NULL, (const char *[]){ "-c", path, "resources", NULL });
    CHECK_MSG (run.status == 0, "%s%s", run.out, run.err);
    CHECK_CONTAINS (run.out, "demo://resource/static/document/architecture.md");
    CHECK_CONTAINS (run.out, "east");
    ru_run_free (&run);
    run = ru_cli (NULL, NULL,
                  (const char *[]){ "-c", path, "read",
                                    "demo://resource/static/document/architecture.md", NULL });
    CHECK_MSG (run.status == 0, "%s%s", run.out, run.err);
    CHECK_CONTAINS (run.out, "Architecture");
    ru_run_free (&run);
    run = ru_cli (NULL, NULL,
                  (const char *[]){ "-c", path, "prompt", "args-prompt", "city=Paris", NULL });
    CHECK_MSG (run.status == 0, "%s%s", run.out, run.err);
    CHECK_CONTAINS (run.out, "Paris");
    ru_run_free (&run);
    s_group_end (&group);
}
