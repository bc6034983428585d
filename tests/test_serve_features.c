/*  =========================================================================
    test_serve_features - resources, prompts, instructions, server logging
    and roots over the public message protocol, and their events

    Each case runs a gateway in this process (mcpact_gateway_new) over the
    fixture server or the official server-everything (tests/peers), bound
    at an ipc:// endpoint in a private directory, and speaks the protocol
    with CZMQ sockets as any client would.
    =========================================================================
*/

#define PU_NAME "features"
#define PU_ASK_MS 60000
#include "protocol_util.h"

#define PEERS_DIR MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol"
#define EVERYTHING_JS PEERS_DIR "/server-everything/dist/index.js"

//  A gateway on `servers` (the "mcpServers" object of a config), bound
//  for requests and events in a private directory.
static void
s_gw_start_with (pu_gw_t *self, const char *servers, const char *options)
{
    char *config = zsys_sprintf ("{\"mcpServers\": %s}", servers);
    pu_gw_start (self, config, options, true);
    zstr_free (&config);
}

static void
s_gw_start (pu_gw_t *self, const char *servers)
{
    s_gw_start_with (self, servers, NULL);
}

//  The fixture with `args` (a JSON array text).
static void
s_gw_fixture (pu_gw_t *self, const char *args)
{
    char *servers =
        zsys_sprintf ("{\"fixture\": {\"command\": \"%s\", \"args\": %s}}", RU_FIXTURE, args);
    s_gw_start (self, servers);
    zstr_free (&servers);
}

//  Waits for an event on `sub` containing `text`; returns it joined.
static char *
s_event_with (zsock_t *sub, const char *text)
{
    for (int i = 0; i < 100; i++) {
        char *event = pu_recv_joined (sub, 30000);
        CHECK_MSG (event, "no event with %s came", text);
        if (strstr (event, text))
            return event;
        free (event);
    }
    CHECK_MSG (false, "no event with %s came", text);
    return NULL;
}

static void
s_expect (zsock_t *client, const char *expect, const char *first, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, first);
    for (const char *frame = first; frame; frame = va_arg (args, const char *))
        zmsg_addstr (msg, frame);
    va_end (args);
    zmsg_send (&msg, client);
    char *reply = pu_recv_joined (client, 60000);
    CHECK_MSG (reply && strstr (reply, expect), "%s: got %s, expected %s", first,
               reply ? reply : "(nothing)", expect);
    free (reply);
}

//  --------------------------------------------------------------------------

//  HELLO lists the new verbs and events; RESOURCES, READ and INSTRUCTIONS
//  answer what the C API does; a server's log message reaches the PUB as
//  SERVER_LOG with the server's name.
TEST (resources_read_instructions_log)
{
    pu_gw_t gw;
    s_gw_fixture (&gw, "[\"--resources\", \"3\", \"--instructions\", \"Be brief.\", "
                       "\"--log-on-list\"]");
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    zsock_t *sub = zsock_new_sub (gw.events, "SERVER_LOG");
    char *reply = pu_ask (client, "HELLO", "h", NULL);
    CHECK_CONTAINS (reply, "\"RESOURCES\",\"TEMPLATES\",\"PROMPTS\",\"READ\",\"PROMPT\"");
    CHECK_CONTAINS (reply, "\"SERVER_LOG\",\"RESOURCE_UPDATED\",\"RESOURCES_CHANGED\"");
    free (reply);
    s_expect (client, "RESOURCES|r|{\"resources\":[", "RESOURCES", "r", "", NULL);
    //  Each listing makes the fixture log at each level; a SUB sees what is
    //  published once it has connected, so list until one is seen.
    char *event = NULL;
    for (int i = 0; i < 60 && !event; i++) {
        reply = pu_ask (client, "RESOURCES", "r2", "", NULL);
        CHECK_CONTAINS (reply, "\"uri\":\"fixture://resource/0002\"");
        CHECK_CONTAINS (reply, "\"_mcpact\":{\"server\":\"fixture\"}");
        free (reply);
        event = pu_recv_joined (sub, 1000);
    }
    CHECK_MSG (event, "no SERVER_LOG event came");
    CHECK_CONTAINS (event, "SERVER_LOG|fixture|{");
    CHECK_CONTAINS (event, "\"server\":\"fixture\"");
    CHECK_CONTAINS (event, "\"logger\":\"fixture\"");
    free (event);

    s_expect (client, "RESULT|1|0|{\"contents\":[{\"uri\":\"fixture://resource/0001\"", "READ", "1",
              "", "fixture://resource/0001", NULL);
    s_expect (client, "\"text\":\"resource 2\"", "READ", "2", "", "fixture://resource/0002",
              "fixture", NULL);
    //  The server's own error: status 5 with its message.
    s_expect (client, "RESULT|3|5|{\"message\":", "READ", "3", "", "fixture://resource/9999",
              "fixture", NULL);
    s_expect (client, "INSTRUCTIONS|i|[{\"server\":\"fixture\",\"instructions\":\"Be brief.\"}]",
              "INSTRUCTIONS", "i", "", NULL);
    s_expect (client, "LOGLEVEL|l|{}", "LOGLEVEL", "l", "", "error", NULL);
    s_expect (client, "ROOTS|o|{}", "ROOTS", "o", "",
              "[{\"uri\":\"file:///tmp/project\",\"name\":\"project\"}]", NULL);
    s_expect (client, "TEMPLATES|t|{\"resourceTemplates\":[]", "TEMPLATES", "t", "", NULL);
    //  Calls still go.
    s_expect (client, "RESULT|c|0|", "CALL", "c", "", "echo", "{\"message\":\"x\"}", NULL);
    zsock_destroy (&sub);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  Each mistake is answered ERROR naming what was wrong, and the gateway
//  goes on.
TEST (feature_errors)
{
    pu_gw_t gw;
    s_gw_fixture (&gw, "[\"--resources\", \"1\"]");
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    s_expect (client, "ERROR|1|{\"error\":\"unknown_agent\",\"message\":\"no agent \\\"nobody\\\"",
              "RESOURCES", "1", "nobody", NULL);
    s_expect (client,
              "ERROR|2|{\"error\":\"unknown_server\",\"message\":\"agent \\\"\\\" has no server "
              "\\\"nosuch\\\" (its servers: \\\"fixture\\\")",
              "READ", "2", "", "fixture://resource/0000", "nosuch", NULL);
    s_expect (client,
              "ERROR|3|{\"error\":\"bad_request\",\"message\":\"'loud' is not an MCP "
              "logging level",
              "LOGLEVEL", "3", "", "loud", NULL);
    //  JSON that does not parse is told where, in jansson's words.
    s_expect (client,
              "ERROR|4|{\"error\":\"bad_request\",\"message\":\"PROMPT arguments are not "
              "valid JSON: unexpected token near end of file (line 1, column 8)\"}",
              "PROMPT", "4", "", "greet", "{\"city\":", NULL);
    s_expect (client,
              "ERROR|4b|{\"error\":\"bad_request\",\"message\":\"PROMPT arguments: "
              "\\\"city\\\" is a JSON number; prompt arguments are strings\"}",
              "PROMPT", "4b", "", "greet", "{\"city\": 5}", NULL);
    s_expect (client,
              "ERROR|4c|{\"error\":\"bad_request\",\"message\":\"ROOTS roots are not valid "
              "JSON: ",
              "ROOTS", "4c", "", "[\"file:///tmp\",", NULL);
    //  A root's keys are the protocol's own: a typo is refused, not dropped.
    s_expect (client,
              "ERROR|4d|{\"error\":\"bad_request\",\"message\":\"ROOTS: roots[1]: unknown "
              "key \\\"nmae\\\" (known: uri, name)\"}",
              "ROOTS", "4d", "", "[\"file:///tmp\", {\"uri\": \"file:///tmp\", \"nmae\": \"t\"}]",
              NULL);
    s_expect (client, "ERROR|5|{\"error\":\"bad_request\",\"message\":\"ROOTS: ", "ROOTS", "5", "",
              "{\"uri\": 1}", NULL);
    s_expect (client, "ERROR|6|{\"error\":\"bad_request\",\"message\":\"READ wants a resource URI",
              "READ", "6", "", "", NULL);
    s_expect (client, "ERROR|7|{\"error\":\"bad_request\",\"message\":\"READ takes 2 to 3", "READ",
              "7", "", NULL);
    //  The fixture does not declare resources.subscribe.
    s_expect (client, "ERROR|8|{\"error\":\"failed\",\"message\":\"server fixture does not offer",
              "SUBSCRIBE", "8", "", "fixture://resource/0000", NULL);
    s_expect (client, "unknown verb 'FETCH'; this gateway knows HELLO, TOOLS", "FETCH", "9", NULL);
    s_expect (client, "RESULT|10|2|{\"message\":", "PROMPT", "10", "", "greet", NULL);
    s_expect (client, "PONG|11", "PING", "11", NULL);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  A 20 MB blob comes back whole, in one reply, although the gateway
//  takes no request over 1 MiB (maxMessageBytes bounds requests only).
TEST (large_blob_read)
{
    pu_gw_t gw;
    s_gw_fixture (&gw, "[\"--resources\", \"1\", \"--blob-bytes\", \"20971520\"]");
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    zstr_sendx (client, "READ", "b", "", "fixture://blob", "fixture", NULL);
    zpoller_t *poller = zpoller_new (client, NULL);
    CHECK (zpoller_wait (poller, 60000) == client);
    zpoller_destroy (&poller);
    zmsg_t *msg = zmsg_recv (client);
    CHECK (zmsg_size (msg) == 4);
    char *verb = zmsg_popstr (msg), *id = zmsg_popstr (msg), *status = zmsg_popstr (msg);
    CHECK_STR (verb, "RESULT");
    CHECK_STR (id, "b");
    CHECK_STR (status, "0");
    zframe_t *body = zmsg_pop (msg);
    CHECK_MSG (zframe_size (body) > 20971520, "a body of %zu bytes", zframe_size (body));
    json_error_t error;
    json_t *result = json_loadb ((const char *) zframe_data (body), zframe_size (body), 0, &error);
    CHECK_MSG (result, "%s", error.text);
    const char *blob = json_string_value (
        json_object_get (json_array_get (json_object_get (result, "contents"), 0), "blob"));
    CHECK (blob && strlen (blob) == 20971520);
    json_decref (result);
    zframe_destroy (&body);
    zstr_free (&verb);
    zstr_free (&id);
    zstr_free (&status);
    zmsg_destroy (&msg);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  Against server-everything: templates, prompts, a subscription and its
//  RESOURCE_UPDATED event, a level set and the SERVER_LOG it lets through.
TEST (everything_prompts_and_updates)
{
    const char *node = ru_require_peers (EVERYTHING_JS, NULL);
    char *servers = zsys_sprintf ("{\"everything\": {\"command\": \"%s\", \"args\": [\"%s\", "
                                  "\"stdio\"], \"timeouts\": {\"connect\": 30000}}}",
                                  node, EVERYTHING_JS);
    pu_gw_t gw;
    s_gw_start (&gw, servers);
    zstr_free (&servers);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    zsock_t *sub = zsock_new_sub (gw.events, "RESOURCE_UPDATED");
    zsock_set_subscribe (sub, "SERVER_LOG");
    s_expect (client, "\"uriTemplate\":\"demo://resource/dynamic/text/{resourceId}\"", "TEMPLATES",
              "t", "", NULL);
    s_expect (client, "\"name\":\"args-prompt\"", "PROMPTS", "p", "", NULL);
    s_expect (client, "Paris", "PROMPT", "q", "", "args-prompt", "{\"city\":\"Paris\"}",
              "everything", NULL);
    s_expect (client, "LOGLEVEL|l|{}", "LOGLEVEL", "l", "", "debug", "everything", NULL);
    s_expect (client, "SUBSCRIBE|s|{}", "SUBSCRIBE", "s", "", "demo://resource/dynamic/text/1",
              NULL);
    //  server-everything sends an update at once when its updates are
    //  switched on, then every 5 s.
    s_expect (client, "RESULT|u|0|", "CALL", "u", "", "toggle-subscriber-updates", "{}", NULL);
    char *event = s_event_with (sub, "RESOURCE_UPDATED|");
    CHECK_CONTAINS (event, "RESOURCE_UPDATED|everything|{");
    CHECK_CONTAINS (event, "\"uri\":\"demo://resource/dynamic/text/1\"");
    CHECK_CONTAINS (event, "\"server\":\"everything\"");
    free (event);
    //  It logs each subscription at info: not with the level at error,
    //  again with it at debug (its messages come in order).
    s_expect (client, "LOGLEVEL|l2|{}", "LOGLEVEL", "l2", "", "error", "everything", NULL);
    s_expect (client, "SUBSCRIBE|s2|{}", "SUBSCRIBE", "s2", "", "demo://resource/dynamic/text/2",
              NULL);
    s_expect (client, "LOGLEVEL|l3|{}", "LOGLEVEL", "l3", "", "debug", "everything", NULL);
    s_expect (client, "SUBSCRIBE|s3|{}", "SUBSCRIBE", "s3", "", "demo://resource/dynamic/text/3",
              NULL);
    while (true) {
        event = pu_recv_joined (sub, 30000);
        CHECK_MSG (event, "no SERVER_LOG for the subscription to dynamic/text/3");
        bool log = strncmp (event, "SERVER_LOG|everything|{", 23) == 0;
        CHECK_MSG (!log || !strstr (event, "dynamic/text/2"),
                   "a message below the level set came: %s", event);
        bool done = log && strstr (event, "dynamic/text/3");
        free (event);
        if (done)
            break;
    }
    s_expect (client, "UNSUBSCRIBE|n|{}", "UNSUBSCRIBE", "n", "", "demo://resource/dynamic/text/1",
              NULL);
    zsock_destroy (&sub);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  examples/client.py lists the resources, reads one, and prints the
//  SERVER_LOG events the listing made.
TEST (python_client_resources)
{
    if (system ("/usr/bin/python3 -c 'import zmq' 2>/dev/null") != 0)
        SKIP ("python3-zmq is not installed (scripts/deps --test)");
    pu_gw_t gw;
    s_gw_fixture (&gw, "[\"--resources\", \"2\", \"--log-on-list\"]");
    char *command = zsys_sprintf ("/usr/bin/python3 %s/examples/client.py %s --events %s "
                                  "--resources --calls 2",
                                  MCPACT_SOURCE_DIR, gw.endpoint, gw.events);
    FILE *pipe = popen (command, "r");
    CHECK (pipe);
    char out[8192];
    size_t size = fread (out, 1, sizeof out - 1, pipe);
    out[size] = 0;
    CHECK_MSG (pclose (pipe) == 0, "client.py failed: %s", out);
    CHECK_CONTAINS (out, "resources 2 errors 0");
    CHECK_CONTAINS (out, "read fixture://resource/0000 status 0 contents 1");
    CHECK_CONTAINS (out, "log fixture warning");
    zstr_free (&command);
    pu_gw_stop (&gw);
}

//  ROOTS replaces the roots the servers were offered: the server hears
//  notifications/roots/list_changed, and roots/list gives the new list.
TEST (roots_set_over_the_protocol)
{
    pu_gw_t gw;
    char *config = zsys_sprintf ("{\"roots\": [\"file:///before\"], \"mcpServers\": "
                                 "{\"fixture\": {\"command\": \"%s\", \"args\": [\"--asks\"]}}}",
                                 RU_FIXTURE);
    pu_gw_start (&gw, config, NULL, false);
    zstr_free (&config);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    s_expect (client, "file:///before", "CALL", "b", "", "ask",
              "{\"method\":\"roots/list\",\"params\":\"{}\"}", NULL);
    s_expect (client, "ROOTS|o|{}", "ROOTS", "o", "",
              "[{\"uri\":\"file:///tmp/project\",\"name\":\"project\"}]", NULL);
    s_expect (client, "file:///tmp/project", "CALL", "a", "", "ask",
              "{\"method\":\"roots/list\",\"params\":\"{}\"}", NULL);
    s_expect (client, "notifications/roots/list_changed", "CALL", "s", "", "client_seen", "{}",
              NULL);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  --------------------------------------------------------------------------
//  Servers that ask back, answered by a client

#define S_ELICIT                                                                                   \
    "{\"method\":\"elicitation/create\",\"params\":\"{\\\"message\\\":\\\"Name?\\\","              \
    "\\\"requestedSchema\\\":{\\\"type\\\":\\\"object\\\",\\\"properties\\\":{\\\"name\\\":"       \
    "{\\\"type\\\":\\\"string\\\"}},\\\"required\\\":[\\\"name\\\"]}}\"}"

//  The ask id of an ASK message joined ("ASK|a1|...").
static char *
s_ask_id (const char *joined)
{
    CHECK_MSG (joined && strncmp (joined, "ASK|", 4) == 0, "not an ASK: %s",
               joined ? joined : "(nothing)");
    char *id = strdup (joined + 4);
    id[strcspn (id, "|")] = 0;
    return id;
}

//  A server's elicitation reaches the client that said HANDLE as ASK; a
//  wrong answer is refused naming the field, a right one reaches the
//  server; REJECT reaches it as an error; one not answered in time is
//  ASK_CANCELLED; with no client, the server hears why at once.
TEST (ask_round_trip)
{
    pu_gw_t gw;
    char *servers =
        zsys_sprintf ("{\"fixture\": {\"command\": \"%s\", \"args\": [\"--asks\"]}}", RU_FIXTURE);
    s_gw_start_with (&gw, servers, "{\"elicitation\": true}");
    zstr_free (&servers);
    zsock_t *client = zsock_new_dealer (gw.endpoint);

    //  Nobody handles it yet.
    s_expect (client, "no client of the gateway handles elicitation for agent", "CALL", "c0", "",
              "ask", S_ELICIT, NULL);
    s_expect (client,
              "ERROR|h0|{\"error\":\"bad_request\",\"message\":\"this gateway does not "
              "offer sampling",
              "HANDLE", "h0", "", "sampling", NULL);
    s_expect (client, "HANDLE|h|{}", "HANDLE", "h", "", "elicitation", NULL);

    zstr_sendx (client, "CALL", "c1", "", "ask", S_ELICIT, NULL);
    char *ask = pu_recv_joined (client, 60000);
    CHECK_CONTAINS (ask, "||fixture|elicitation|{");
    CHECK_CONTAINS (ask, "Name?");
    char *id = s_ask_id (ask);
    free (ask);
    s_expect (client, "ERROR|w|{\"error\":\"bad_answer\",\"message\":", "ANSWER", "w", id,
              "{\"action\":\"accept\",\"content\":{\"name\":5}}", NULL);
    //  JSON that does not parse is told where; the ask still waits.
    s_expect (client,
              "ERROR|w2|{\"error\":\"bad_answer\",\"message\":\"ANSWER result_json is not "
              "valid JSON: ",
              "ANSWER", "w2", id, "{\"action\":\"accept\",}", NULL);
    s_expect (client, "(line 1, column ", "ANSWER", "w3", id, "{\"action\" \"accept\"}", NULL);
    s_expect (client, "ANSWER|r|{}", "ANSWER", "r", id,
              "{\"action\":\"accept\",\"content\":{\"name\":\"Ada\"}}", NULL);
    char *result = pu_recv_joined (client, 60000);
    CHECK_CONTAINS (result, "RESULT|c1|0|");
    CHECK_CONTAINS (result, "Ada");
    free (result);
    s_expect (client, "ERROR|again|{\"error\":\"unknown_ask\"", "ANSWER", "again", id,
              "{\"action\":\"decline\"}", NULL);
    free (id);

    zstr_sendx (client, "CALL", "c2", "", "ask", S_ELICIT, NULL);
    ask = pu_recv_joined (client, 60000);
    id = s_ask_id (ask);
    free (ask);
    s_expect (client, "REJECT|j|{}", "REJECT", "j", id, "not today", NULL);
    result = pu_recv_joined (client, 60000);
    CHECK_CONTAINS (result, "RESULT|c2|0|");
    CHECK_CONTAINS (result, "not today");
    free (result);
    free (id);

    //  Not answered: it times out, the client is told.
    CHECK (mcpact_session_set_ask_timeout (gw.session, 300) == 0);
    zstr_sendx (client, "CALL", "c3", "", "ask", S_ELICIT, NULL);
    ask = pu_recv_joined (client, 60000);
    id = s_ask_id (ask);
    free (ask);
    char *expect = zsys_sprintf ("ASK_CANCELLED|%s|timed out", id);
    bool cancelled = false, answered = false;
    for (int i = 0; i < 2; i++) {
        char *reply = pu_recv_joined (client, 60000);
        CHECK_MSG (reply, "no ASK_CANCELLED and RESULT");
        cancelled |= strstr (reply, expect) != NULL;
        answered |= strncmp (reply, "RESULT|c3|", 10) == 0;
        free (reply);
    }
    CHECK (cancelled && answered);
    zstr_free (&expect);
    free (id);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}
