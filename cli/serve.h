/*  =========================================================================
    serve - `mcpact serve`, `mcpact keygen`, and the client of --connect

    serve.c runs a session behind a gateway (the public message protocol)
    until a signal; remote.c is the small protocol client `mcpact tools|
    call|status --connect` use instead of starting servers. Both use only
    the public API. A remote_t belongs to one thread.
    =========================================================================
*/

#ifndef MCPACT_CLI_SERVE_H_INCLUDED
#define MCPACT_CLI_SERVE_H_INCLUDED

#include <mcpact.h>

//  `mcpact serve ...` and `mcpact keygen ...`; argv[0] is the command.
//  Return the exit status.
int cli_serve (int argc, char *argv[]);
int cli_keygen (int argc, char *argv[]);

typedef struct _remote_t remote_t;

//  Connects to a gateway at `endpoint`; with `client_key` (a key pair from
//  mcpact keygen) and `server_key` (the gateway's public certificate),
//  over CURVE. Says HELLO, waiting at most timeout_ms. NULL and *error
//  (malloc'ed) if it cannot be reached or answers otherwise. A request
//  (HELLO, TOOLS, STATUS) stops waiting once `signal_fd` is readable (-1:
//  none), with *error saying so.
remote_t *remote_new (const char *endpoint, const char *client_key, const char *server_key,
                      int timeout_ms, int signal_fd, char **error);
void remote_destroy (remote_t **self_p);

//  What is wrong with `endpoint` as a --connect ENDPOINT, in `reason`
//  (-1), or 0: a scheme other than ipc:// and tcp://, a tcp:// endpoint
//  without a host or a port of 1-65535, an ipc:// path that is there but
//  is not a socket. Checked here because libzmq takes port 99999 as
//  another port and waits for ever on a scheme it does not know.
int remote_endpoint_check (const char *endpoint, char *reason, size_t size);

//  NULL if the gateway serves `agent` ("" for the default), as its HELLO
//  said; else what to tell the user (malloc'ed), naming its agents.
char *remote_agent_problem (remote_t *self, const char *agent);

//  TOOLS (format < 0: MCP tool objects) and STATUS of `agent` ("" for the
//  default): the reply's JSON text, or NULL and *error.
char *remote_tools (remote_t *self, const char *agent, int format, bool strict, char **error);
char *remote_status (remote_t *self, const char *agent, char **error);

//  One CALL. While it runs, `signal_fd` (or -1) is watched: once it is
//  readable the call is cancelled and its answer awaited for at most
//  2 s (NULL then if none came). Otherwise never NULL.
mcpact_result_t *remote_call (remote_t *self, const char *agent, const char *tool,
                              const char *args_json, int timeout_ms, int signal_fd);

//  RESOURCES, TEMPLATES or PROMPTS (`verb`) of `agent`: the reply's JSON
//  text, what mcpact_agent_resources, _resource_templates and _prompts
//  return; or NULL and *error (malloc'ed).
char *remote_listing (remote_t *self, const char *verb, const char *agent, char **error);

//  READ (`name` a URI) or PROMPT (`name` a prompt, `args_json` its
//  arguments or NULL) of `agent`, at `server` (NULL: whichever lists
//  it), as mcpact_agent_read_resource and _get_prompt return it. The
//  wait is bounded by `timeout_ms` and a grace (0: a call's longest); a
//  signal on the fd given to remote_new ends it: NULL then.
mcpact_result_t *remote_read (remote_t *self, const char *agent, const char *verb, const char *name,
                              const char *args_json, const char *server, int timeout_ms);

#endif
