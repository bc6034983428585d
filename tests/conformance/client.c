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
      elicitation-sep1034-client-defaults
                   offer elicitation, call test_client_elicitation_defaults;
                   the handler accepts with no content, so every field the
                   server asks for gets its schema default

    Exit status 0 when every step succeeded, 1 otherwise (with the reason
    on stderr).
    =========================================================================
*/

#include "mcpact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    else if (rc == 0 && strcmp (scenario, "elicitation-sep1034-client-defaults") == 0)
        rc = s_call (agent, "test_client_elicitation_defaults", "{}");

    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return rc;
}
