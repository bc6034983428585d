/*  =========================================================================
    test_asks - servers that ask back: roots, sampling and elicitation

    What the client offers in initialize (only what the host supplies, per
    session, agent and server), roots/list and roots/list_changed, and the
    host's handlers of sampling/createMessage and elicitation/create:
    answered later from another thread, checked against the requested
    schema with its defaults applied, cancelled by the server, timed out.
    Against the fixture server (its `ask`, `ask_cancel` and `client_seen`
    tools) and the official server-everything, whose roots, sampling and
    elicitation tools exist only for a client that offers them.
    =========================================================================
*/

#include "mcpact.h"
#include "runtime_util.h"
#include "testutil.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#define PEERS_DIR MCPACT_SOURCE_DIR "/tests/peers/node_modules/@modelcontextprotocol"
#define EVERYTHING_JS PEERS_DIR "/server-everything/dist/index.js"
#define FILESYSTEM_JS PEERS_DIR "/server-filesystem/dist/index.js"
#define PEER_CONNECT_MS 30000
//  How long a test waits for something that must happen (not a timing
//  check: a slow machine only makes it wait longer).
#define PATIENCE_MS 30000

//  --------------------------------------------------------------------------
//  A host's handler that keeps each ask for the test thread to answer:
//  the handler returns at once, and the answer comes later from another
//  thread, as a host with its own event loop does.

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    mcpact_ask_t *asks[80]; //  handed over, not yet taken by the test
    size_t count;
    int handled;     //  asks the handler saw
    char *cancelled; //  the reason the cancel hook got, once it did
} s_inbox_t;

static s_inbox_t s_inbox = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, 0, 0, NULL
};

static void
s_keep (mcpact_ask_t *ask, void *arg)
{
    s_inbox_t *inbox = (s_inbox_t *) arg;
    pthread_mutex_lock (&inbox->lock);
    inbox->asks[inbox->count++] = ask;
    inbox->handled++;
    pthread_cond_broadcast (&inbox->changed);
    pthread_mutex_unlock (&inbox->lock);
}

static void
s_on_cancel (mcpact_ask_t *ask, const char *reason, void *arg)
{
    s_inbox_t *inbox = (s_inbox_t *) arg;
    CHECK (mcpact_ask_cancelled (ask) != NULL);
    pthread_mutex_lock (&inbox->lock);
    free (inbox->cancelled);
    inbox->cancelled = strdup (reason);
    pthread_cond_broadcast (&inbox->changed);
    pthread_mutex_unlock (&inbox->lock);
}

//  How many asks the handler has seen.
static int
s_handled (void)
{
    pthread_mutex_lock (&s_inbox.lock);
    int handled = s_inbox.handled;
    pthread_mutex_unlock (&s_inbox.lock);
    return handled;
}

//  The next ask the handler got (waits for it).
static mcpact_ask_t *
s_next_ask (void)
{
    int64_t until = ru_now_ms () + PATIENCE_MS;
    pthread_mutex_lock (&s_inbox.lock);
    while (s_inbox.count == 0 && ru_now_ms () < until) {
        pthread_mutex_unlock (&s_inbox.lock);
        ru_sleep_ms (5);
        pthread_mutex_lock (&s_inbox.lock);
    }
    CHECK_MSG (s_inbox.count > 0, "no request from the server reached the handler");
    mcpact_ask_t *ask = s_inbox.asks[0];
    memmove (s_inbox.asks, s_inbox.asks + 1, --s_inbox.count * sizeof *s_inbox.asks);
    pthread_mutex_unlock (&s_inbox.lock);
    return ask;
}

//  Waits for the cancel hook; returns its reason (the test frees it).
static char *
s_wait_cancelled (void)
{
    int64_t until = ru_now_ms () + PATIENCE_MS;
    pthread_mutex_lock (&s_inbox.lock);
    while (!s_inbox.cancelled && ru_now_ms () < until) {
        pthread_mutex_unlock (&s_inbox.lock);
        ru_sleep_ms (5);
        pthread_mutex_lock (&s_inbox.lock);
    }
    char *reason = s_inbox.cancelled;
    s_inbox.cancelled = NULL;
    pthread_mutex_unlock (&s_inbox.lock);
    CHECK_MSG (reason, "the cancel hook was not called");
    return reason;
}

//  A call made in the background, so that the test thread can answer
//  the server's request meanwhile.
typedef struct {
    pthread_t thread;
    mcpact_agent_t *agent;
    const char *tool;
    char *args;
    mcpact_result_t *result;
} s_call_t;

static void *
s_call_main (void *arg)
{
    s_call_t *call = (s_call_t *) arg;
    call->result = mcpact_agent_call (call->agent, call->tool, call->args, PATIENCE_MS);
    return NULL;
}

static s_call_t *
s_call_start (mcpact_agent_t *agent, const char *tool, const char *args)
{
    s_call_t *call = (s_call_t *) calloc (1, sizeof (s_call_t));
    call->agent = agent;
    call->tool = tool;
    call->args = strdup (args);
    CHECK (pthread_create (&call->thread, NULL, s_call_main, call) == 0);
    return call;
}

//  Waits for the call; returns its result's text (the test frees it).
static char *
s_call_end (s_call_t *call, mcpact_status_t status)
{
    pthread_join (call->thread, NULL);
    CHECK_MSG (mcpact_result_status (call->result) == status, "%s: %s: %s", call->tool,
               mcpact_status_name (mcpact_result_status (call->result)),
               mcpact_result_json (call->result));
    json_t *item = json_loads (mcpact_result_text (call->result), JSON_DECODE_ANY, NULL);
    char *text =
        strdup (json_is_object (item) && ru_str (item, "text") ? ru_str (item, "text")
                                                               : mcpact_result_text (call->result));
    json_decref (item);
    mcpact_result_destroy (&call->result);
    free (call->args);
    free (call);
    return text;
}

//  `ask` arguments: method and params (JSON text) as a JSON object text.
static char *
s_ask_args (const char *method, const char *params)
{
    json_t *args = json_pack ("{s:s,s:s}", "method", method, "params", params);
    char *text = json_dumps (args, JSON_COMPACT);
    json_decref (args);
    return text;
}

//  The fixture's view of the client: {"capabilities", "notifications"}.
static json_t *
s_client_seen (mcpact_agent_t *agent)
{
    char *text = ru_call_text (agent, "client_seen", NULL);
    json_t *seen = ru_json (text);
    free (text);
    return seen;
}

static char *
s_capabilities (mcpact_agent_t *agent)
{
    json_t *seen = s_client_seen (agent);
    char *text = json_dumps (json_object_get (seen, "capabilities"), JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (seen);
    return text;
}

#define FORM_SCHEMA                                                                                \
    "{\"type\":\"object\",\"properties\":{"                                                        \
    "\"name\":{\"type\":\"string\",\"minLength\":2,\"default\":\"Ada\"},"                          \
    "\"email\":{\"type\":\"string\",\"format\":\"email\"},"                                        \
    "\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":150,\"default\":36},"                 \
    "\"color\":{\"type\":\"string\",\"oneOf\":[{\"const\":\"r\",\"title\":\"Red\"},"               \
    "{\"const\":\"g\",\"title\":\"Green\"}]},"                                                     \
    "\"tags\":{\"type\":\"array\",\"maxItems\":2,\"items\":{\"type\":\"string\","                  \
    "\"enum\":[\"a\",\"b\",\"c\"]}},"                                                              \
    "\"ok\":{\"type\":\"boolean\"}},\"required\":[\"email\"]}"

#define FORM_PARAMS "{\"message\":\"Who are you?\",\"requestedSchema\":" FORM_SCHEMA "}"

//  An agent on one fixture server, its session's handlers set first.
static mcpact_agent_t *
s_fixture_agent (mcpact_runtime_t **runtime, mcpact_session_t **session,
                 mcpact_server_config_t *config)
{
    CHECK (mcpact_session_add_server (*session, &config) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (*session, NULL);
    CHECK (agent);
    char *report = mcpact_agent_start (agent);
    CHECK_CONTAINS (report, "\"state\":\"ready\"");
    free (report);
    return agent;
}

//  --------------------------------------------------------------------------
//  What is offered

TEST (offers_only_what_the_host_supplies)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_agent_t *agent =
        s_fixture_agent (&runtime, &session, ru_fixture ("plain", "--asks", NULL));
    char *capabilities = s_capabilities (agent);
    CHECK_STR (capabilities, "{}");
    free (capabilities);
    ru_teardown (&agent, &session, &runtime);

    //  Everything supplied: offered to a server that may have it, and
    //  not to one that is allowed none.
    session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_roots (session, "[\"/tmp\"]") == 0);
    CHECK (mcpact_session_set_sampling (session, s_keep, &s_inbox) == 0);
    CHECK (mcpact_session_set_elicitation (session, s_keep, &s_inbox,
                                           MCPACT_ELICIT_FORM | MCPACT_ELICIT_URL) == 0);
    mcpact_server_config_t *closed = ru_fixture ("closed", "--asks", "--prefix", "c_", NULL);
    CHECK (mcpact_server_config_set_client_features (closed, 0) == 0);
    CHECK (mcpact_session_add_server (session, &closed) == 0);
    mcpact_server_config_t *some = ru_fixture ("some", "--asks", "--prefix", "s_", NULL);
    CHECK (mcpact_server_config_set_client_features (some, MCPACT_CLIENT_ELICITATION) == 0);
    CHECK (mcpact_session_add_server (session, &some) == 0);
    agent = s_fixture_agent (&runtime, &session, ru_fixture ("open", "--asks", NULL));
    capabilities = s_capabilities (agent);
    CHECK_STR (capabilities,
               "{\"elicitation\":{\"form\":{},\"url\":{}},\"roots\":{\"listChanged\":true},"
               "\"sampling\":{}}");
    free (capabilities);
    char *text = ru_call_text (agent, "c_client_seen", NULL);
    CHECK_CONTAINS (text, "\"capabilities\":{}");
    free (text);
    text = ru_call_text (agent, "s_client_seen", NULL);
    CHECK_CONTAINS (text, "\"capabilities\":{\"elicitation\":{\"form\":{},\"url\":{}}}");
    free (text);
    ru_teardown (&agent, &session, &runtime);
}

TEST (server_roots_and_agent_handlers)
{
    //  A server's own roots are offered without its owner's; an agent's
    //  own handler is offered to its own servers, its session's roots
    //  too (it has none of its own).
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_roots (session, "[{\"uri\":\"file:///srv\",\"name\":\"srv\"}]") == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, "helper");
    CHECK (mcpact_agent_set_sampling (agent, s_keep, &s_inbox) == 0);
    mcpact_server_config_t *own = ru_fixture ("own", "--asks", NULL);
    CHECK (mcpact_server_config_add_root (own, "/data/my dir", "data") == 0);
    CHECK (mcpact_agent_add_server (agent, &own) == 0);
    mcpact_server_config_t *shared = ru_fixture ("shared", "--asks", "--prefix", "x_", NULL);
    CHECK (mcpact_agent_add_server (agent, &shared) == 0);
    free (mcpact_agent_start (agent));
    char *capabilities = s_capabilities (agent);
    CHECK_STR (capabilities, "{\"roots\":{\"listChanged\":true},\"sampling\":{}}");
    free (capabilities);
    char *args = s_ask_args ("roots/list", "{}");
    char *text = ru_call_text (agent, "ask", args);
    CHECK_STR (text,
               "{\"result\":{\"roots\":[{\"uri\":\"file:///data/my%20dir\",\"name\":\"data\"}]}}");
    free (text);
    text = ru_call_text (agent, "x_ask", args);
    CHECK_STR (text, "{\"result\":{\"roots\":[{\"uri\":\"file:///srv\",\"name\":\"srv\"}]}}");
    free (text);
    free (args);

    //  The sampling request names the agent and the server.
    args = s_ask_args ("sampling/createMessage", "{\"messages\":[],\"maxTokens\":5}");
    s_call_t *call = s_call_start (agent, "x_ask", args);
    mcpact_ask_t *ask = s_next_ask ();
    CHECK_STR (mcpact_ask_agent (ask), "helper");
    CHECK_STR (mcpact_ask_server (ask), "shared");
    CHECK_STR (mcpact_ask_method (ask), "sampling/createMessage");
    CHECK (mcpact_ask_reject (ask, "not now") == 0);
    mcpact_ask_destroy (&ask);
    text = s_call_end (call, MCPACT_OK);
    CHECK_STR (text, "{\"error\":{\"code\":-1,\"message\":\"not now\"}}");
    free (text);
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

TEST (roots_change_is_announced)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_roots (session, "[]") == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("roots/list", "{}");
    char *text = ru_call_text (agent, "ask", args);
    CHECK_STR (text, "{\"result\":{\"roots\":[]}}");
    free (text);
    CHECK (mcpact_session_set_roots (session, "[\"file:///work\"]") == 0);
    CHECK (mcpact_session_set_roots (session, "[\"http://x\"]") == -1); //  not a file:// URI
    //  The notification comes through the actor: wait until it is seen.
    int64_t until = ru_now_ms () + PATIENCE_MS;
    bool seen = false;
    while (!seen && ru_now_ms () < until) {
        json_t *client = s_client_seen (agent);
        json_t *notifications = json_object_get (client, "notifications");
        size_t index;
        json_t *method;
        json_array_foreach (notifications, index, method)
            seen |= strcmp (json_string_value (method), "notifications/roots/list_changed") == 0;
        json_decref (client);
        if (!seen)
            ru_sleep_ms (10);
    }
    CHECK_MSG (seen, "the server did not hear notifications/roots/list_changed");
    text = ru_call_text (agent, "ask", args);
    CHECK_STR (text, "{\"result\":{\"roots\":[{\"uri\":\"file:///work\"}]}}");
    free (text);
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Elicitation: defaults, checks, decline, URL mode

TEST (elicitation_answer_is_checked_and_completed)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_elicitation (session, s_keep, &s_inbox, MCPACT_ELICIT_FORM) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("elicitation/create", FORM_PARAMS);
    s_call_t *call = s_call_start (agent, "ask", args);
    mcpact_ask_t *ask = s_next_ask ();
    CHECK_STR (mcpact_ask_method (ask), "elicitation/create");
    CHECK (mcpact_ask_agent (ask) == NULL);
    CHECK_CONTAINS (mcpact_ask_params (ask), "Who are you?");
    struct {
        const char *answer;
        const char *error;
    } bad[] = {
        { "{\"action\":\"accept\",\"content\":{}}", "field email: required" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"nobody\"}}",
          "field email: \"nobody\" is not a valid email" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\",\"age\":200}}",
          "field age: 200 is above the maximum 150" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\",\"age\":3.5}}",
          "field age: expected an integer" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\",\"name\":\"A\"}}",
          "field name: shorter than minLength 2" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\",\"color\":\"Red\"}}",
          "field color: \"Red\" is not one of the choices" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\",\"tags\":[\"a\",\"d\"]}}",
          "field tags: item 1 is not one of the choices" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\",\"tags\":[\"a\",\"b\",\"c\"]}"
          "}",
          "field tags: more than maxItems 2 chosen" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\",\"ok\":\"yes\"}}",
          "field ok: expected a boolean" },
        { "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\",\"extra\":1}}",
          "field extra: the requested schema has no such field" },
        { "{\"action\":\"maybe\"}", "\"action\": accept, decline or cancel" },
        { "not json", "not a JSON object" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *error = NULL;
        CHECK_MSG (mcpact_ask_complete (ask, bad[i].answer, &error) == -1, "accepted %s",
                   bad[i].answer);
        CHECK_MSG (error && strstr (error, bad[i].error), "%s: %s", bad[i].answer, error);
        CHECK (strstr (error, "server fx: "));
        free (error);
    }
    CHECK (mcpact_ask_cancelled (ask) == NULL); //  still waiting for a good answer
    char *error = NULL;
    CHECK (mcpact_ask_complete (ask,
                                "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\","
                                "\"color\":\"g\",\"tags\":[\"c\"],\"ok\":false}}",
                                &error) == 0);
    CHECK (error == NULL);
    //  Answered once: a second answer is refused.
    CHECK (mcpact_ask_complete (ask, "{\"action\":\"decline\"}", &error) == -1);
    CHECK_CONTAINS (error, "answered already");
    free (error);
    mcpact_ask_destroy (&ask);
    char *text = s_call_end (call, MCPACT_OK);
    json_t *answer = ru_json (text);
    json_t *content = json_object_get (json_object_get (answer, "result"), "content");
    CHECK_STR (ru_str (json_object_get (answer, "result"), "action"), "accept");
    //  The defaults of the fields left out (SEP-1034), and what was given.
    CHECK_STR (ru_str (content, "name"), "Ada");
    CHECK (json_integer_value (json_object_get (content, "age")) == 36);
    CHECK_STR (ru_str (content, "email"), "a@b.org");
    CHECK_STR (ru_str (content, "color"), "g");
    CHECK (json_is_false (json_object_get (content, "ok")));
    json_decref (answer);
    free (text);

    //  Declined: no content goes to the server, whatever the host gave.
    call = s_call_start (agent, "ask", args);
    ask = s_next_ask ();
    CHECK (mcpact_ask_complete (ask, "{\"action\":\"decline\",\"content\":{\"x\":1}}", NULL) == 0);
    mcpact_ask_destroy (&ask);
    text = s_call_end (call, MCPACT_OK);
    CHECK_STR (text, "{\"result\":{\"action\":\"decline\"}}");
    free (text);
    free (args);

    //  A schema a form cannot ask for is refused to the server; the host
    //  never sees it.
    int handled = s_handled ();
    args = s_ask_args ("elicitation/create",
                       "{\"message\":\"m\",\"requestedSchema\":{\"type\":\"object\","
                       "\"properties\":{\"deep\":{\"type\":\"object\"}}}}");
    text = ru_call_text (agent, "ask", args);
    CHECK_CONTAINS (text, "\"code\":-32602");
    CHECK_CONTAINS (text, "field deep: type object is not one a form can ask for");
    free (text);
    free (args);
    //  URL mode was not offered.
    args = s_ask_args ("elicitation/create", "{\"mode\":\"url\",\"message\":\"m\",\"url\":"
                                             "\"https://example.com\",\"elicitationId\":\"e1\"}");
    text = ru_call_text (agent, "ask", args);
    CHECK_CONTAINS (text, "elicitation in url mode was not offered");
    free (text);
    free (args);
    CHECK (s_handled () == handled);
    ru_teardown (&agent, &session, &runtime);
}

TEST (elicitation_url_mode)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_elicitation (session, s_keep, &s_inbox, MCPACT_ELICIT_URL) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("elicitation/create", "{\"mode\":\"url\",\"message\":\"Sign in\","
                                                   "\"url\":\"https://example.com/auth\","
                                                   "\"elicitationId\":\"e1\"}");
    s_call_t *call = s_call_start (agent, "ask", args);
    mcpact_ask_t *ask = s_next_ask ();
    CHECK_CONTAINS (mcpact_ask_params (ask), "https://example.com/auth");
    CHECK (mcpact_ask_complete (ask, "{\"action\":\"accept\",\"content\":{\"a\":1}}", NULL) == 0);
    mcpact_ask_destroy (&ask);
    char *text = s_call_end (call, MCPACT_OK);
    CHECK_STR (text, "{\"result\":{\"action\":\"accept\"}}");
    free (text);
    free (args);
    //  Form mode was not offered.
    args = s_ask_args ("elicitation/create", FORM_PARAMS);
    text = ru_call_text (agent, "ask", args);
    CHECK_CONTAINS (text, "elicitation in form mode was not offered");
    free (text);
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  Sampling, cancellation, timeout

TEST (sampling_answer_is_checked)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    //  No handler: not offered, and the server's request is refused.
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("sampling/createMessage", "{\"messages\":[],\"maxTokens\":5}");
    char *text = ru_call_text (agent, "ask", args);
    CHECK_CONTAINS (text, "-32601");
    free (text);
    ru_teardown (&agent, &session, &runtime);

    session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_sampling (session, s_keep, &s_inbox) == 0);
    agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    s_call_t *call = s_call_start (agent, "ask", args);
    mcpact_ask_t *ask = s_next_ask ();
    char *error = NULL;
    CHECK (mcpact_ask_complete (ask, "{\"role\":\"assistant\"}", &error) == -1);
    CHECK_CONTAINS (error, "content");
    free (error);
    //  Each content block as its type needs it, or the server would fail on it.
    CHECK (mcpact_ask_complete (ask,
                                "{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":"
                                "5},\"model\":\"m\"}",
                                &error) == -1);
    CHECK_STR (error, "server fx: the sampling result's content.text is not a string");
    free (error);
    CHECK (mcpact_ask_complete (ask,
                                "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
                                "\"a\"},{\"type\":\"image\",\"data\":\"AA==\"}],\"model\":\"m\"}",
                                &error) == -1);
    CHECK_STR (error, "server fx: the sampling result's content[1].mimeType is not a string");
    free (error);
    CHECK (mcpact_ask_complete (ask,
                                "{\"role\":\"assistant\",\"content\":{\"type\":\"audio\","
                                "\"mimeType\":\"audio/wav\"},\"model\":\"m\"}",
                                &error) == -1);
    CHECK_STR (error, "server fx: the sampling result's content.data is not a string");
    free (error);
    CHECK (mcpact_ask_complete (ask,
                                "{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":"
                                "\"hi\"},\"model\":\"test-model\"}",
                                &error) == 0);
    mcpact_ask_destroy (&ask);
    text = s_call_end (call, MCPACT_OK);
    CHECK_CONTAINS (text, "\"model\":\"test-model\"");
    free (text);

    //  A host that drops an ask without answering: the server hears so.
    call = s_call_start (agent, "ask", args);
    ask = s_next_ask ();
    mcpact_ask_destroy (&ask);
    text = s_call_end (call, MCPACT_OK);
    CHECK_STR (text, "{\"error\":{\"code\":-32603,\"message\":\"the host did not answer\"}}");
    free (text);
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

TEST (cancel_from_the_server_reaches_the_host)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_elicitation (session, s_keep, &s_inbox, MCPACT_ELICIT_FORM) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("elicitation/create", FORM_PARAMS);
    char *id = ru_call_text (agent, "ask_cancel", args);
    mcpact_ask_t *ask = s_next_ask ();
    mcpact_ask_on_cancel (ask, s_on_cancel, &s_inbox);
    char *reason = s_wait_cancelled ();
    CHECK_STR (reason, "cancelled by the server: changed my mind");
    CHECK_STR (mcpact_ask_cancelled (ask), reason);
    free (reason);
    //  A late answer does no harm, and says why it went nowhere.
    char *error = NULL;
    CHECK (mcpact_ask_complete (ask, "{\"action\":\"accept\",\"content\":{\"email\":\"a@b.org\"}}",
                                &error) == -1);
    CHECK_CONTAINS (error, "cancelled by the server");
    free (error);
    mcpact_ask_destroy (&ask);
    //  The server got no answer to the request it cancelled.
    char *answers = ru_call_text (agent, "client_answers", NULL);
    CHECK_MSG (!strstr (answers, id), "answered a cancelled request: %s", answers);
    free (answers);
    free (id);
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

TEST (timeout_reaches_host_and_server)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_sampling (session, s_keep, &s_inbox) == 0);
    CHECK (mcpact_session_set_ask_timeout (session, 200) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("sampling/createMessage", "{\"messages\":[],\"maxTokens\":5}");
    s_call_t *call = s_call_start (agent, "ask", args);
    mcpact_ask_t *ask = s_next_ask ();
    char *text = s_call_end (call, MCPACT_OK);
    CHECK_CONTAINS (text, "did not answer within 200 ms");
    free (text);
    mcpact_ask_on_cancel (ask, s_on_cancel, &s_inbox);
    //  Set after the ask is over: called at once.
    char *reason = s_wait_cancelled ();
    CHECK_STR (reason, "timed out after 200 ms");
    free (reason);
    CHECK (mcpact_ask_complete (ask,
                                "{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":"
                                "\"late\"},\"model\":\"m\"}",
                                NULL) == -1);
    mcpact_ask_destroy (&ask);
    //  The server is fine and serves on.
    RU_CALL_IS (agent, "echo", "{\"message\":\"still here\"}", "still here");
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

static void *
s_short_call_main (void *arg)
{
    s_call_t *call = (s_call_t *) arg;
    call->result = mcpact_agent_call (call->agent, call->tool, call->args, 200);
    return NULL;
}

//  The same after warming the caller's lane: the call goes on the lane,
//  and is handed back to the actor when the server asks.
static void *
s_lane_short_call_main (void *arg)
{
    s_call_t *call = (s_call_t *) arg;
    for (int i = 0; i < 2; i++)
        mcpact_result_destroy (&(mcpact_result_t *){
            mcpact_agent_call (call->agent, "echo", "{\"message\":\"x\"}", 0) });
    call->result = mcpact_agent_call (call->agent, call->tool, call->args, 200);
    return NULL;
}

//  While the server waits for the host's user, the call that made it ask
//  is not timed out: neither by the server's actor (the call's 200 ms)
//  nor by the caller's own deadline behind it (200 ms and a grace of
//  2 s). The ask's own timeout bounds the wait instead.
static void
s_call_timeout_waits (bool lane)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_elicitation (session, s_keep, &s_inbox, MCPACT_ELICIT_FORM) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("elicitation/create", FORM_PARAMS);
    s_call_t *call = (s_call_t *) calloc (1, sizeof (s_call_t));
    call->agent = agent;
    call->tool = "ask";
    call->args = strdup (args);
    CHECK (pthread_create (&call->thread, NULL, lane ? s_lane_short_call_main : s_short_call_main,
                           call) == 0);
    mcpact_ask_t *ask = s_next_ask ();
    //  The user reads the form for longer than both deadlines.
    ru_sleep_ms (2600);
    CHECK_MSG (!mcpact_ask_cancelled (ask), "%s", mcpact_ask_cancelled (ask));
    char *error = NULL;
    CHECK_MSG (mcpact_ask_complete (ask,
                                    "{\"action\":\"accept\",\"content\":{\"email\":"
                                    "\"a@b.org\"}}",
                                    &error) == 0,
               "%s", error);
    mcpact_ask_destroy (&ask);
    char *text = s_call_end (call, MCPACT_OK);
    CHECK_CONTAINS (text, "\"action\":\"accept\"");
    free (text);
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

TEST (call_timeout_waits_for_the_host)
{
    s_call_timeout_waits (false);
}

//  A call made on a lane is handed back with the same hard limit.
TEST (call_timeout_waits_for_the_host_on_a_lane)
{
    s_call_timeout_waits (true);
}

TEST (server_death_ends_the_request)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_sampling (session, s_keep, &s_inbox) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("sampling/createMessage", "{\"messages\":[],\"maxTokens\":5}");
    s_call_t *call = s_call_start (agent, "ask", args);
    mcpact_ask_t *ask = s_next_ask ();
    mcpact_ask_on_cancel (ask, s_on_cancel, &s_inbox);
    mcpact_result_destroy (&(mcpact_result_t *){ mcpact_agent_call (agent, "crash", NULL, 0) });
    char *reason = s_wait_cancelled ();
    CHECK_MSG (strncmp (reason, "the server went away: ", 22) == 0, "%s", reason);
    free (reason);
    free (s_call_end (call, MCPACT_ERR_SERVER));
    CHECK (mcpact_ask_complete (ask,
                                "{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":"
                                "\"late\"},\"model\":\"m\"}",
                                NULL) == -1);
    mcpact_ask_destroy (&ask);

    //  Removed with a request waiting: the host hears of it too (once
    //  the server is back from its restart).
    int64_t until = ru_now_ms () + PATIENCE_MS;
    mcpact_status_t status = MCPACT_ERR_SERVER;
    while (status != MCPACT_OK && ru_now_ms () < until) {
        mcpact_result_t *result = mcpact_agent_call (agent, "echo", "{\"message\":\"x\"}", 0);
        status = mcpact_result_status (result);
        mcpact_result_destroy (&result);
        if (status != MCPACT_OK)
            ru_sleep_ms (20);
    }
    call = s_call_start (agent, "ask", args);
    ask = s_next_ask ();
    mcpact_ask_on_cancel (ask, s_on_cancel, &s_inbox);
    CHECK (mcpact_session_remove_server (session, "fx") == 0);
    reason = s_wait_cancelled ();
    CHECK_STR (reason, "the server stopped");
    free (reason);
    char *text = s_call_end (call, MCPACT_ERR_SERVER);
    CHECK_CONTAINS (text, "server fx was removed");
    free (text);
    CHECK (mcpact_ask_reject (ask, "late") == -1);
    mcpact_ask_destroy (&ask);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    free (args);
    mcpact_runtime_destroy (&runtime);
}

TEST (requests_waiting_for_the_host_are_bounded)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_sampling (session, s_keep, &s_inbox) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, ru_fixture ("fx", "--asks", NULL));
    char *args = s_ask_args ("sampling/createMessage", "{\"messages\":[],\"maxTokens\":5}");
    mcpact_caller_t *caller = mcpact_caller_new (agent);
    for (int i = 0; i < 64; i++)
        CHECK (mcpact_caller_send (caller, "ask", args, PATIENCE_MS) > 0);
    int64_t until = ru_now_ms () + PATIENCE_MS;
    while (s_handled () < 64 && ru_now_ms () < until)
        ru_sleep_ms (10);
    CHECK_MSG (s_handled () == 64, "%d of 64 requests reached the handler", s_handled ());
    //  One more is refused to the server at once; the host never sees it.
    int64_t refused = mcpact_caller_send (caller, "ask", args, PATIENCE_MS);
    mcpact_result_t *result = mcpact_caller_next (caller, PATIENCE_MS);
    CHECK (result && mcpact_result_id (result) == refused);
    CHECK_CONTAINS (mcpact_result_text (result), "64 requests of this server wait for the");
    mcpact_result_destroy (&result);
    CHECK (s_handled () == 64);
    for (int i = 0; i < 64; i++) {
        mcpact_ask_t *ask = s_next_ask ();
        CHECK (mcpact_ask_reject (ask, "no") == 0);
        mcpact_ask_destroy (&ask);
    }
    for (int i = 0; i < 64; i++) {
        result = mcpact_caller_next (caller, PATIENCE_MS);
        CHECK (result);
        CHECK_CONTAINS (mcpact_result_text (result), "\\\"code\\\":-1");
        mcpact_result_destroy (&result);
    }
    mcpact_caller_destroy (&caller);
    free (args);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  server-everything: its roots, sampling and elicitation tools

static mcpact_server_config_t *
s_everything (void)
{
    const char *node = ru_require_peers (EVERYTHING_JS, NULL);
    mcpact_server_config_t *config = mcpact_server_stdio_new ("everything", node);
    CHECK (config);
    CHECK (mcpact_server_config_add_arg (config, EVERYTHING_JS) == 0);
    CHECK (mcpact_server_config_add_arg (config, "stdio") == 0);
    CHECK (mcpact_server_config_set_timeouts (config, PEER_CONNECT_MS, PEER_CONNECT_MS, 0) == 0);
    return config;
}

//  Waits until the agent has `count` tools (server-everything adds the
//  ones a client's capabilities allow after initialize, and says so).
static void
s_wait_tools (mcpact_agent_t *agent, size_t count)
{
    int64_t until = ru_now_ms () + PATIENCE_MS;
    while (mcpact_agent_tool_count (agent) != count && ru_now_ms () < until)
        ru_sleep_ms (20);
    char *names = ru_tool_names (agent);
    CHECK_MSG (mcpact_agent_tool_count (agent) == count, "expected %zu tools: %s", count, names);
    free (names);
}

TEST (everything_without_client_features)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, s_everything ());
    ru_sleep_ms (500); //  not a check: a moment for tools that must not come
    s_wait_tools (agent, 13);
    ru_teardown (&agent, &session, &runtime);
}

TEST (everything_with_client_features)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_roots (session, "[{\"uri\":\"file:///projects/one\",\"name\":"
                                              "\"One\"}]") == 0);
    CHECK (mcpact_session_set_sampling (session, s_keep, &s_inbox) == 0);
    CHECK (mcpact_session_set_elicitation (session, s_keep, &s_inbox, MCPACT_ELICIT_FORM) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, s_everything ());
    s_wait_tools (agent, 16);

    //  Roots: what we gave, and a change that the server asks for again.
    char *text = ru_call_text (agent, "get-roots-list", NULL);
    CHECK_CONTAINS (text, "URI: file:///projects/one");
    free (text);
    CHECK (mcpact_session_set_roots (session, "[{\"uri\":\"file:///projects/two\",\"name\":"
                                              "\"Two\"}]") == 0);
    int64_t until = ru_now_ms () + PATIENCE_MS;
    bool changed = false;
    while (!changed && ru_now_ms () < until) {
        text = ru_call_text (agent, "get-roots-list", NULL);
        changed = strstr (text, "file:///projects/two") != NULL;
        free (text);
        if (!changed)
            ru_sleep_ms (20);
    }
    CHECK_MSG (changed, "server-everything did not take the new roots");

    //  Sampling: the host answers from this thread, after the handler
    //  returned.
    s_call_t *call =
        s_call_start (agent, "trigger-sampling-request", "{\"prompt\":\"say hi\",\"maxTokens\":9}");
    mcpact_ask_t *ask = s_next_ask ();
    CHECK_CONTAINS (mcpact_ask_params (ask), "say hi");
    CHECK (mcpact_ask_complete (ask,
                                "{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":"
                                "\"Hi from the host\"},\"model\":\"host-llm\","
                                "\"stopReason\":\"endTurn\"}",
                                NULL) == 0);
    mcpact_ask_destroy (&ask);
    text = s_call_end (call, MCPACT_OK);
    CHECK_CONTAINS (text, "Hi from the host");
    CHECK_CONTAINS (text, "host-llm");
    free (text);

    //  Elicitation: its defaults filled in, its checks passed.
    call = s_call_start (agent, "trigger-elicitation-request", "{}");
    ask = s_next_ask ();
    char *error = NULL;
    CHECK (mcpact_ask_complete (ask, "{\"action\":\"accept\",\"content\":{\"integer\":101}}",
                                &error) == -1);
    CHECK_CONTAINS (error, "field integer: 101 is above the maximum 100");
    free (error);
    CHECK (mcpact_ask_complete (ask,
                                "{\"action\":\"accept\",\"content\":{\"name\":\"Ada Lovelace\","
                                "\"email\":\"ada@example.org\",\"check\":true}}",
                                &error) == 0);
    mcpact_ask_destroy (&ask);
    pthread_join (call->thread, NULL);
    CHECK (mcpact_result_status (call->result) == MCPACT_OK);
    const char *all = mcpact_result_text (call->result);
    CHECK_CONTAINS (all, "Name: Ada Lovelace");
    CHECK_CONTAINS (all, "Email: ada@example.org");
    CHECK_CONTAINS (all, "Favorite Integer: 42"); //  its default
    mcpact_result_destroy (&call->result);
    free (call->args);
    free (call);
    ru_teardown (&agent, &session, &runtime);
}

TEST (everything_url_elicitation)
{
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_elicitation (session, s_keep, &s_inbox,
                                           MCPACT_ELICIT_FORM | MCPACT_ELICIT_URL) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, s_everything ());
    s_wait_tools (agent, 15); //  the two elicitation tools
    s_call_t *call =
        s_call_start (agent, "trigger-url-elicitation", "{\"url\":\"https://example.com/go\"}");
    mcpact_ask_t *ask = s_next_ask ();
    CHECK_CONTAINS (mcpact_ask_params (ask), "\"mode\":\"url\"");
    CHECK (mcpact_ask_complete (ask, "{\"action\":\"decline\"}", NULL) == 0);
    mcpact_ask_destroy (&ask);
    pthread_join (call->thread, NULL);
    CHECK_MSG (mcpact_result_status (call->result) == MCPACT_OK, "%s",
               mcpact_result_json (call->result));
    CHECK_CONTAINS (mcpact_result_text (call->result), "decline");
    mcpact_result_destroy (&call->result);
    free (call->args);
    free (call);
    ru_teardown (&agent, &session, &runtime);
}

//  --------------------------------------------------------------------------
//  The configuration file: "roots" for the session, an agent and a
//  server, and a server's "clientCapabilities"

TEST (config_roots_and_client_capabilities)
{
    char cwd[PATH_MAX];
    CHECK (getcwd (cwd, sizeof cwd));
    const char *text =
        "{\"roots\": [\"rel/dir\", {\"uri\": \"file:///abs\", \"name\": \"Abs\"}],"
        " \"mcpServers\": {"
        "  \"a\": {\"command\": \"" RU_FIXTURE "\", \"args\": [\"--asks\"]},"
        "  \"b\": {\"command\": \"" RU_FIXTURE "\", \"args\": [\"--asks\", \"--prefix\", \"b_\"],"
        "         \"roots\": [\"/own\"], \"clientCapabilities\": {\"sampling\": false}}},"
        " \"agents\": {\"helper\": {\"mcpServers\": [\"a\"], \"roots\": [\"file:///agent\"]}}}";
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    char *error = NULL;
    mcpact_session_t *session = mcpact_session_load_string (runtime, text, "asks.json", &error);
    CHECK_MSG (session, "%s", error);
    CHECK (mcpact_session_set_sampling (session, s_keep, &s_inbox) == 0);
    mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
    free (mcpact_agent_start (agent));
    char *capabilities = s_capabilities (agent);
    CHECK_STR (capabilities, "{\"roots\":{\"listChanged\":true},\"sampling\":{}}");
    free (capabilities);
    char *seen = ru_call_text (agent, "b_client_seen", NULL);
    CHECK_CONTAINS (seen, "\"capabilities\":{\"roots\":{\"listChanged\":true}}");
    free (seen);
    char *args = s_ask_args ("roots/list", "{}");
    char *roots = ru_call_text (agent, "ask", args);
    char expected[PATH_MAX + 200];
    snprintf (expected, sizeof expected,
              "{\"result\":{\"roots\":[{\"uri\":\"file://%s/rel/dir\"},{\"uri\":\"file:///abs\","
              "\"name\":\"Abs\"}]}}",
              cwd);
    CHECK_STR (roots, expected);
    free (roots);
    roots = ru_call_text (agent, "b_ask", args);
    CHECK_STR (roots, "{\"result\":{\"roots\":[{\"uri\":\"file:///own\"}]}}");
    free (roots);
    mcpact_agent_t *helper = mcpact_agent_from_config (session, "helper");
    CHECK (helper);
    free (mcpact_agent_start (helper));
    roots = ru_call_text (helper, "ask", args);
    CHECK_STR (roots, "{\"result\":{\"roots\":[{\"uri\":\"file:///agent\"}]}}");
    free (roots);
    free (args);
    mcpact_agent_destroy (&helper);
    ru_teardown (&agent, &session, &runtime);

    struct {
        const char *text;
        const char *error;
    } bad[] = {
        { "{\"mcpServers\": {}, \"roots\": \"/x\"}",
          "asks.json: roots must be an array of file:// URIs, paths or {\"uri\", \"name\"}" },
        { "{\"mcpServers\": {\"a\": {\"command\": \"x\", \"roots\": [\"http://x\"]}}}",
          "asks.json: mcpServers.a.roots[0]: http://x is not a file:// URI (MCP roots are "
          "file:// URIs)" },
        { "{\"mcpServers\": {\"a\": {\"command\": \"x\", \"clientCapabilities\": {\"tools\": "
          "true}}}}",
          "asks.json: mcpServers.a.clientCapabilities.tools: unknown; known are roots, sampling "
          "and elicitation" },
        { "{\"mcpServers\": {}, \"agents\": {\"h\": {\"roots\": [{\"name\": \"n\"}]}}}",
          "asks.json: agents.h.roots[0]: it is neither a string nor an object with a string "
          "\"uri\"" },
    };
    runtime = mcpact_runtime_new ();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        error = NULL;
        session = mcpact_session_load_string (runtime, bad[i].text, "asks.json", &error);
        CHECK_MSG (!session, "loaded %s", bad[i].text);
        CHECK_STR (error, bad[i].error);
        free (error);
    }
    mcpact_runtime_destroy (&runtime);
}

//  server-filesystem started without directories takes them from the
//  client's roots, and follows a change.
TEST (filesystem_takes_its_directories_from_roots)
{
    const char *node = ru_require_peers (FILESYSTEM_JS, NULL);
    char one[] = "/tmp/mcpact-roots-XXXXXX", two[] = "/tmp/mcpact-roots-XXXXXX";
    CHECK (mkdtemp (one) && mkdtemp (two));
    char roots[256];
    snprintf (roots, sizeof roots, "[\"%s\"]", one);
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    CHECK (mcpact_session_set_roots (session, roots) == 0);
    mcpact_server_config_t *config = mcpact_server_stdio_new ("files", node);
    CHECK (mcpact_server_config_add_arg (config, FILESYSTEM_JS) == 0);
    CHECK (mcpact_server_config_set_timeouts (config, PEER_CONNECT_MS, PEER_CONNECT_MS, 0) == 0);
    mcpact_agent_t *agent = s_fixture_agent (&runtime, &session, config);
    //  It asks for the roots after initialize: wait until it has them.
    int64_t until = ru_now_ms () + PATIENCE_MS;
    bool found = false;
    while (!found && ru_now_ms () < until) {
        char *text = ru_call_text (agent, "list_allowed_directories", NULL);
        found = strstr (text, one) != NULL;
        free (text);
        if (!found)
            ru_sleep_ms (20);
    }
    CHECK_MSG (found, "server-filesystem did not take the root %s", one);
    snprintf (roots, sizeof roots, "[\"%s\"]", two);
    CHECK (mcpact_session_set_roots (session, roots) == 0);
    found = false;
    while (!found && ru_now_ms () < until) {
        char *text = ru_call_text (agent, "list_allowed_directories", NULL);
        found = strstr (text, two) && !strstr (text, one);
        free (text);
        if (!found)
            ru_sleep_ms (20);
    }
    CHECK_MSG (found, "server-filesystem did not follow the new root %s", two);
    ru_teardown (&agent, &session, &runtime);
    rmdir (one);
    rmdir (two);
}
