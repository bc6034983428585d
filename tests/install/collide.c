/*  =========================================================================
    collide - a host whose own functions bear the names of mcpact's
    internals (log_msg, config_load, actor_new, sse_feed, wire_recv, ...)

    Linked with libmcpact.a, it must build (no "multiple definition"), and
    the library must never call these: each aborts. It then runs a session
    with the stdio server given as argv[1] and calls echo, with
    MCPACT_LOG=debug so that the library logs (through its own log_msg).
    Exit status 0 when the call succeeded.
    =========================================================================
*/

#include <mcpact.h>

#include <stdio.h>
#include <stdlib.h>

#define HOST_OWN(name)                                                                             \
    void name (void)                                                                               \
    {                                                                                              \
        fprintf (stderr, "collide: the library called the host's " #name "\n");                    \
        abort ();                                                                                  \
    }

HOST_OWN (log_msg)
HOST_OWN (config_load)
HOST_OWN (actor_new)
HOST_OWN (sse_feed)
HOST_OWN (catalog_build)
HOST_OWN (idmap_put)
HOST_OWN (catalog_lookup)
HOST_OWN (wire_recv)
HOST_OWN (jsonrpc_read)

int
main (int argc, char *argv[])
{
    if (argc < 2)
        return 2;
    setenv ("MCPACT_LOG", "debug", 1);
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    mcpact_session_t *session = mcpact_session_new (runtime);
    mcpact_server_config_t *server = mcpact_server_stdio_new ("example", argv[1]);
    if (!session || !server || mcpact_session_add_server (session, &server))
        return 1;
    mcpact_agent_t *agent = mcpact_agent_new (session, "collide");
    mcpact_result_t *result = mcpact_agent_call (agent, "echo", "{\"message\":\"no clash\"}", 5000);
    int rc = mcpact_result_status (result) == MCPACT_OK ? 0 : 1;
    printf ("echo: %s\n", rc == 0 ? mcpact_result_text (result) : mcpact_result_error (result));
    mcpact_result_destroy (&result);
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    return rc;
}
