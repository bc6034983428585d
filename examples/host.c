/*  =========================================================================
    host - the smallest embedding host: mcpact used as an installed library

    Starts one MCP stdio server (by default mcpact-example-server, found on
    PATH; or the command given), lists the tools an agent sees, calls echo
    and prints its answer, then cleans up. It uses only <mcpact.h> and the C
    library, so it builds against an install (pkg-config or CMake) as any
    host would:

        cc host.c $(pkg-config --cflags --libs mcpact) -o host
        ./host                                   # mcpact-example-server on PATH
        ./host /usr/local/bin/mcpact-example-server

    Single-threaded; exit status 0 when the call succeeded.
    =========================================================================
*/

#include <mcpact.h>

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char *argv[])
{
    int major, minor, patch;
    mcpact_version (&major, &minor, &patch);
    printf ("mcpact %d.%d.%d (built with %d.%d.%d)\n", major, minor, patch, MCPACT_VERSION_MAJOR,
            MCPACT_VERSION_MINOR, MCPACT_VERSION_PATCH);

    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    if (!runtime)
        return 1;
    mcpact_session_t *session = mcpact_session_new (runtime);
    const char *command = argc > 1 ? argv[1] : "mcpact-example-server";
    mcpact_server_config_t *server = mcpact_server_stdio_new ("example", command);
    for (int arg = 2; server && arg < argc; arg++)
        mcpact_server_config_add_arg (server, argv[arg]);
    if (!session || !server || mcpact_session_add_server (session, &server)) {
        fprintf (stderr, "host: cannot set up the session\n");
        mcpact_server_config_destroy (&server); //  still ours when adding failed
        mcpact_runtime_destroy (&runtime);
        return 1;
    }

    //  An agent without servers of its own uses the session's.
    mcpact_agent_t *agent = mcpact_agent_new (session, "host");
    char *report = mcpact_agent_start (agent);
    printf ("start: %s\n", report ? report : "(none)");
    char *tools = mcpact_agent_tools (agent);
    printf ("%zu tools: %s\n", mcpact_agent_tool_count (agent), tools ? tools : "[]");

    mcpact_result_t *result =
        mcpact_agent_call (agent, "echo", "{\"message\":\"hello from the host\"}", 5000);
    mcpact_status_t status = mcpact_result_status (result);
    printf ("echo: %s: %s\n", mcpact_status_name (status),
            status == MCPACT_OK ? mcpact_result_text (result) : mcpact_result_error (result));

    mcpact_result_destroy (&result);
    free (tools);
    free (report);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime); //  stops the server process too
    return status == MCPACT_OK ? 0 : 1;
}
