/*  =========================================================================
    client - the conformance client: mcpact as the official suite drives it

    The runner of @modelcontextprotocol/conformance starts this program with
    the scenario's server URL as the last argument and the scenario's name
    in MCP_CONFORMANCE_SCENARIO. It connects through the public API, as any
    host would (transport "auto": the URL decides), and does what the
    scenario asks:

      initialize   connect (initialize + initialized + tools/list), then exit
      tools_call   connect, call add_numbers {"a": 5, "b": 3}
      sse-retry    connect, call test_reconnection {} (the response arrives
                   only after the client resumes the stream)
      auth/...     connect through the OAuth flow, then call test-tool {}
                   (which may ask for more scope); MCP_CONFORMANCE_CONTEXT
                   gives pre-registered credentials, a private key or the
                   identity provider's details, which become the server's
                   oauth settings. The user's part is played by a GET of
                   the authorization URL: the scenario's authorization
                   server redirects at once, and the Location header is
                   what the browser would have come back with.
      elicitation-sep1034-client-defaults
                   offer elicitation, call test_client_elicitation_defaults;
                   the handler accepts with no content, so every field the
                   server asks for gets its schema default

    Exit status 0 when every step succeeded, 1 otherwise (with the reason
    on stderr).
    =========================================================================
*/

#include "mcpact.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  The client ID metadata document URL the suite expects (auth/basic-cimd).
#define CIMD_URL "https://conformance-test.local/client-metadata.json"

static size_t
s_discard (char *data, size_t one, size_t size, void *arg)
{
    return one * size;
}

//  The user's part: GET the authorization URL and return where it
//  redirects (the authorization server answers at once here).
static char *
s_authorize (void *arg, const char *server, const char *url, const char *redirect_uri)
{
    CURL *easy = curl_easy_init ();
    if (!easy)
        return NULL;
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
    char *location = NULL, *redirect = NULL;
    if (curl_easy_perform (easy) == CURLE_OK &&
        curl_easy_getinfo (easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
        redirect = strdup (location);
    curl_easy_cleanup (easy);
    return redirect;
}

//  The scenario's context as oauth settings. A private key goes to a file
//  (oauth.privateKeyFile), named in *key_file for removal.
static void
s_set_oauth (mcpact_server_config_t *server, const char *scenario, char **key_file)
{
    mcpact_server_config_set_oauth (server, "tokenStore", "memory");
    mcpact_server_config_set_oauth (server, "clientMetadataUrl", CIMD_URL);
    mcpact_server_config_set_oauth (server, "redirectUri", "http://localhost:3000/callback");
    mcpact_server_config_set_oauth_authorize (server, s_authorize, NULL);
    if (strncmp (scenario, "auth/client-credentials", 23) == 0)
        mcpact_server_config_set_oauth (server, "grant", "client_credentials");
    if (strncmp (scenario, "auth/cross-app-access", 21) == 0)
        mcpact_server_config_set_oauth (server, "grant", "cross_app_access");
    const char *text = getenv ("MCP_CONFORMANCE_CONTEXT");
    json_error_t error;
    json_t *context = text ? json_loads (text, 0, &error) : NULL;
    static const char *const keys[][2] = { { "client_id", "clientId" },
                                           { "client_secret", "clientSecret" },
                                           { "signing_algorithm", "signingAlgorithm" },
                                           { "idp_client_id", "idpClientId" },
                                           { "idp_id_token", "idToken" },
                                           { "idp_token_endpoint", "idpTokenEndpoint" } };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *value = json_string_value (json_object_get (context, keys[i][0]));
        if (value)
            mcpact_server_config_set_oauth (server, keys[i][1], value);
    }
    const char *pem = json_string_value (json_object_get (context, "private_key_pem"));
    char path[] = "/tmp/mcpact-conformance-key-XXXXXX";
    int fd = pem ? mkstemp (path) : -1;
    if (fd >= 0) {
        if (write (fd, pem, strlen (pem)) == (ssize_t) strlen (pem)) {
            mcpact_server_config_set_oauth (server, "privateKeyFile", path);
            *key_file = strdup (path);
        }
        close (fd);
    }
    json_decref (context);
}

//  Accepts every elicitation as it is: the fields left out take their
//  defaults, which is what the scenario checks.
static void
s_accept (mcpact_ask_t *ask, void *arg)
{
    (void) arg;
    char *error = NULL;
    if (mcpact_ask_complete (ask, "{\"action\":\"accept\",\"content\":{}}", &error) != 0)
        fprintf (stderr, "conformance client: cannot accept the elicitation: %s\n",
                 error ? error : "?");
    free (error);
    mcpact_ask_destroy (&ask);
}

static int
s_call (mcpact_agent_t *agent, const char *tool, const char *args)
{
    mcpact_result_t *result = mcpact_agent_call (agent, tool, args, 10000);
    int rc = mcpact_result_status (result) == MCPACT_OK ? 0 : 1;
    printf ("%s: %s\n", tool, mcpact_result_text (result));
    if (rc)
        fprintf (stderr, "conformance client: %s failed: %s\n", tool, mcpact_result_error (result));
    mcpact_result_destroy (&result);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s [...] SERVER-URL  (MCP_CONFORMANCE_SCENARIO=name)\n", argv[0]);
        return 2;
    }
    const char *url = argv[argc - 1];
    const char *scenario = getenv ("MCP_CONFORMANCE_SCENARIO");
    if (!scenario)
        scenario = "initialize";

    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    mcpact_session_t *session = runtime ? mcpact_session_new (runtime) : NULL;
    mcpact_server_config_t *server = mcpact_server_http_new ("conformance", url);
    bool auth = strncmp (scenario, "auth/", 5) == 0;
    char *key_file = NULL;
    if (server && auth)
        s_set_oauth (server, scenario, &key_file);
    if (!session || !server || mcpact_session_add_server (session, &server) != 0) {
        fprintf (stderr, "conformance client: cannot set up a session for %s\n", url);
        mcpact_server_config_destroy (&server);
        mcpact_runtime_destroy (&runtime);
        return 1;
    }
    if (strcmp (scenario, "elicitation-sep1034-client-defaults") == 0)
        mcpact_session_set_elicitation (session, s_accept, NULL, MCPACT_ELICIT_FORM);
    mcpact_agent_t *agent = mcpact_agent_new (session, "conformance");
    char *report = mcpact_agent_start (agent);
    printf ("start: %s\n", report ? report : "(none)");
    int rc = report && strstr (report, "\"state\":\"ready\"") ? 0 : 1;
    if (rc)
        fprintf (stderr, "conformance client: the server did not come up: %s\n",
                 report ? report : "(no report)");
    free (report);

    if (rc == 0 && strcmp (scenario, "tools_call") == 0)
        rc = s_call (agent, "add_numbers", "{\"a\":5,\"b\":3}");
    else if (rc == 0 && strcmp (scenario, "sse-retry") == 0)
        rc = s_call (agent, "test_reconnection", "{}");
    else if (rc == 0 && auth)
        rc = s_call (agent, "test-tool", "{}");
    else if (rc == 0 && strcmp (scenario, "elicitation-sep1034-client-defaults") == 0)
        rc = s_call (agent, "test_client_elicitation_defaults", "{}");

    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    if (key_file)
        unlink (key_file);
    free (key_file);
    return rc;
}
