/*  =========================================================================
    test_serve_utf8 - the public message protocol with text that is not
    UTF-8, long non-ASCII names, and the small corners of CANCEL, TOOLS
    flags and the REQ delimiter

    Each case runs a gateway in this process (mcpact_gateway_new) on the
    fixture server, bound at an ipc:// endpoint in a private directory,
    and speaks the protocol with CZMQ sockets. Every ERROR and RESULT
    must be JSON that says what was wrong: never a bare {}.
    =========================================================================
*/

#define PU_NAME "utf8"
#include "protocol_util.h"

static void
s_gw_start (pu_gw_t *self)
{
    char config[512];
    snprintf (config, sizeof config, "{\"mcpServers\": {\"fixture\": {\"command\": \"%s\"}}}",
              RU_FIXTURE);
    pu_gw_start (self, config, NULL, false);
}

//  The next message on `sock`, or NULL after 10 s.
static zmsg_t *
s_recv (zsock_t *sock)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    bool ready = zpoller_wait (poller, 10000) != NULL;
    zpoller_destroy (&poller);
    return ready ? zmsg_recv (sock) : NULL;
}

//  Sends the frames (a NULL-terminated list) and returns the reply.
static zmsg_t *
s_ask (zsock_t *sock, const char *first, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, first);
    for (const char *frame = first; frame; frame = va_arg (args, const char *))
        zmsg_addstr (msg, frame);
    va_end (args);
    zmsg_send (&msg, sock);
    return s_recv (sock);
}

//  Checks a reply is [verb, id, ... JSON] with the JSON valid (UTF-8) and
//  its "message" containing `says`; returns the message (malloc'ed).
static char *
s_check_reply (zmsg_t *reply, const char *verb, const char *id, const char *says)
{
    CHECK_MSG (reply, "no reply to request %s", id);
    char *first = zmsg_popstr (reply);
    char *got_id = zmsg_popstr (reply);
    CHECK_STR (first, verb);
    CHECK_STR (got_id, id);
    if (strcmp (verb, "RESULT") == 0)
        free (zmsg_popstr (reply));
    char *text = zmsg_popstr (reply);
    json_error_t error;
    json_t *body = json_loads (text, 0, &error);
    CHECK_MSG (body, "%s %s: not JSON (%s): %s", verb, id, error.text, text);
    const char *message = json_string_value (json_object_get (body, "message"));
    CHECK_MSG (message && strstr (message, says), "%s %s: %s has no message saying %s", verb, id,
               text, says);
    char *copy = strdup (message);
    json_decref (body);
    free (text);
    free (got_id);
    free (first);
    zmsg_destroy (&reply);
    return copy;
}

TEST (frames_not_utf8)
{
    pu_gw_t gw;
    s_gw_start (&gw);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    free (s_check_reply (s_ask (client, "\xff", "1", NULL), "ERROR", "1",
                         "the verb is not UTF-8 text without NUL (bytes: ff)"));
    //  The reply carries the id as it came; the message shows it in hex.
    free (s_check_reply (s_ask (client, "CANCEL", "\xff\xfe", NULL), "ERROR", "\xff\xfe",
                         "the request id is not UTF-8 text without NUL (bytes: fffe)"));
    free (s_check_reply (s_ask (client, "TOOLS", "3", "fixture\xc3", NULL), "ERROR", "3",
                         "frame 1 after the request id is not UTF-8"));
    free (s_check_reply (s_ask (client, "CALL", "4", "", "echo", "{\"message\":\"\xff\"}", NULL),
                         "ERROR", "4", "frame 3 after the request id is not UTF-8"));
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  A NUL byte in a frame: the hex shows every byte of it, not those
//  before the NUL, and the reply carries the request id's bytes as they
//  came, NUL and all.
TEST (nul_in_frames_shown_whole)
{
    pu_gw_t gw;
    s_gw_start (&gw);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "PING");
    zmsg_addmem (msg, "a\0b", 3);
    zmsg_send (&msg, client);
    zmsg_t *reply = s_recv (client);
    CHECK_MSG (reply && zmsg_size (reply) == 3, "no ERROR of 3 frames");
    char *verb = zmsg_popstr (reply);
    CHECK_STR (verb, "ERROR");
    zframe_t *id = zmsg_pop (reply);
    CHECK_MSG (zframe_size (id) == 3 && memcmp (zframe_data (id), "a\0b", 3) == 0,
               "the id came back as %zu bytes", zframe_size (id));
    char *body = zmsg_popstr (reply);
    CHECK_CONTAINS (body, "the request id is not UTF-8 text without NUL (bytes: 610062)");
    free (body);
    zframe_destroy (&id);
    free (verb);
    zmsg_destroy (&reply);
    //  A NUL in the verb: all its bytes shown too, the id echoed as ever.
    msg = zmsg_new ();
    zmsg_addmem (msg, "PI\0NG", 5);
    zmsg_addstr (msg, "v");
    zmsg_send (&msg, client);
    free (s_check_reply (s_recv (client), "ERROR", "v",
                         "the verb is not UTF-8 text without NUL (bytes: 5049004e47)"));
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  An LLM's tool name in Chinese, 80 characters: the message quotes it
//  cut at a character, not in the middle of one.
TEST (unknown_tool_non_ascii)
{
    pu_gw_t gw;
    s_gw_start (&gw);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char tool[20 * 12 + 1] = "";
    for (int i = 0; i < 20; i++)
        strcat (tool, "查询天气");
    char *message = s_check_reply (s_ask (client, "CALL", "2", "", tool, "{}", NULL), "RESULT", "2",
                                   "unknown tool 查询天气查询天气");
    CHECK_CONTAINS (message, "...");
    CHECK_CONTAINS (message, "(the agent has");
    free (message);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  A second CANCEL while the first is under way gets an answer of its own.
TEST (second_cancel_answered)
{
    pu_gw_t gw;
    s_gw_start (&gw);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    zstr_sendx (client, "CALL", "c", "", "sleep", "{\"ms\":20000}", NULL);
    zstr_sendx (client, "CANCEL", "c", NULL);
    zstr_sendx (client, "CANCEL", "c", NULL);
    bool result = false, error = false;
    for (int i = 0; i < 2; i++) {
        zmsg_t *reply = s_recv (client);
        CHECK_MSG (reply, "reply %d of 2 to two CANCELs did not come", i + 1);
        char *verb = zmsg_popstr (reply);
        char *id = zmsg_popstr (reply);
        char *next = zmsg_popstr (reply);
        CHECK_STR (id, "c");
        if (strcmp (verb, "RESULT") == 0) {
            CHECK_STR (next, "8");
            result = true;
        } else {
            CHECK_STR (verb, "ERROR");
            CHECK_CONTAINS (next, "\"error\":\"unknown_call\"");
            error = true;
        }
        free (verb);
        free (id);
        free (next);
        zmsg_destroy (&reply);
    }
    CHECK (result && error);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

TEST (strict_only_for_openai)
{
    pu_gw_t gw;
    s_gw_start (&gw);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    free (s_check_reply (s_ask (client, "TOOLS", "t", "", "anthropic", "strict", NULL), "ERROR",
                         "t", "\"strict\" is for the formats openai and openai-responses"));
    zmsg_t *reply = s_ask (client, "TOOLS", "o", "", "openai", "strict", NULL);
    CHECK (reply);
    char *verb = zmsg_popstr (reply);
    CHECK_STR (verb, "TOOLS");
    free (verb);
    zmsg_destroy (&reply);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  A DEALER's lone empty frame is a request without frames, not a REQ's
//  delimiter: the reply starts with ERROR.
TEST (dealer_empty_frame)
{
    pu_gw_t gw;
    s_gw_start (&gw);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "");
    zmsg_send (&msg, client);
    zmsg_t *reply = s_recv (client);
    CHECK (reply);
    CHECK_MSG (zmsg_size (reply) == 3, "a reply of %zu frames", zmsg_size (reply));
    char *verb = zmsg_popstr (reply);
    CHECK_STR (verb, "ERROR");
    free (verb);
    zmsg_destroy (&reply);
    //  A REQ's delimiter still comes back to it.
    zsock_t *req = zsock_new_req (gw.endpoint);
    reply = s_ask (req, "PING", "p", NULL);
    CHECK (reply && zmsg_size (reply) == 2);
    zmsg_destroy (&reply);
    zsock_destroy (&req);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}

//  Arguments a server's JSON reader would refuse (it drops the line, and
//  the call would wait for its timeout) are refused at once, status 6,
//  through the gateway and in the process alike.
TEST (arguments_refused_at_once)
{
    pu_gw_t gw;
    s_gw_start (&gw);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char *message =
        s_check_reply (s_ask (client, "CALL", "u1", "", "echo", "{\"message\":\"a\\u0000b\"}",
                              "{\"timeoutMs\":60000}", NULL),
                       "RESULT", "u1", "the arguments of echo hold \\u0000 in a string");
    free (message);
    zsock_destroy (&client);
    mcpact_agent_t *agent = mcpact_agent_new (gw.session, NULL);
    CHECK (agent);
    const char *bad[] = { "{\"message\":\"a\\u0000b\"}", "{\"message\":\"\xff\"}" };
    const char *says[] = { "hold \\u0000 in a string", "are not UTF-8 text" };
    for (int i = 0; i < 2; i++) {
        mcpact_result_t *result = mcpact_agent_call (agent, "echo", bad[i], 60000);
        CHECK_MSG (mcpact_result_status (result) == MCPACT_ERR_ARGS, "case %d: status %d", i,
                   (int) mcpact_result_status (result));
        CHECK_CONTAINS (mcpact_result_error (result), says[i]);
        mcpact_result_destroy (&result);
    }
    //  An escaped backslash before u0000 is no NUL.
    mcpact_result_t *result = mcpact_agent_call (agent, "echo", "{\"message\":\"\\\\u0000\"}", 0);
    CHECK_MSG (mcpact_result_status (result) == MCPACT_OK, "%s", mcpact_result_error (result));
    mcpact_result_destroy (&result);
    mcpact_agent_destroy (&agent);
    pu_gw_stop (&gw);
}

//  Names a client sent, quoted in an ERROR: cut at a character with
//  "...", not into U+FFFD.
TEST (long_names_cut_at_a_character)
{
    pu_gw_t gw;
    s_gw_start (&gw);
    zsock_t *client = zsock_new_dealer (gw.endpoint);
    char name[30 * 3 + 1] = "";
    for (int i = 0; i < 30; i++)
        strcat (name, "查");
    //  64 bytes: 20 characters and "...", as 21 and a third would not fit.
    char *message = s_check_reply (s_ask (client, "TOOLS", "a", name, NULL), "ERROR", "a",
                                   "no agent \"查查查查查查查查查查查查查查查查查查查查...\"");
    CHECK_MSG (!strstr (message, "\xef\xbf\xbd"), "U+FFFD in %s", message);
    free (message);
    message = s_check_reply (s_ask (client, "TOOLS", "f", "", name, NULL), "ERROR", "f",
                             "unknown format '查查查查查查查查查查查查...'");
    free (message);
    zsock_destroy (&client);
    pu_gw_stop (&gw);
}
