/*  =========================================================================
    server_config - the internal picture of one MCP server's configuration

    A plain value object: made by the host (through the mcpact_server_config_*
    API) or by the config loader, then copied into the server actor that runs
    it. Never shared between threads: every hand-off is a copy
    (server_config_dup) or a move of the whole object.
    =========================================================================
*/

#ifndef MCPACT_SERVER_CONFIG_H_INCLUDED
#define MCPACT_SERVER_CONFIG_H_INCLUDED

#include "mcpact.h"

#include <jansson.h>

#define MCPACT_DEFAULT_CONNECT_MS 60000
#define MCPACT_DEFAULT_LIST_MS 60000
#define MCPACT_DEFAULT_CALL_MS 30000
#define MCPACT_DEFAULT_SSE_READ_MS 300000
#define MCPACT_DEFAULT_MAX_CALL_MS 600000
#define MCPACT_DEFAULT_MAX_IN_FLIGHT 1024
#define MCPACT_DEFAULT_MAX_QUEUED (8 * 1024 * 1024)

//  Why a group at an ipc:// endpoint takes no CURVE keys (the
//  configuration file's and the API's message alike).
#define GROUP_IPC_CURVE_ERROR                                                                      \
    "serverKey and clientCertificate: CURVE is for tcp:// groups; ipc:// sockets are plain, "      \
    "protected by their file mode"

typedef struct {
    char *name;  //  header name
    char *value; //  header value (never logged)
} mcpact_pair_t;

struct _mcpact_server_config_t {
    char *name;                   //  server name, unique within its owner
    mcpact_transport_t transport; //  as set; AUTO until resolved
    char *command;                //  stdio: program to run (PATH searched)
    char **args;                  //  stdio: arguments, NULL-terminated
    size_t args_count;            //  number of args
    mcpact_pair_t *env;           //  stdio: env on top of the allow-list
    size_t env_count;             //  number of env pairs
    char *cwd;                    //  stdio: working directory, or NULL
    char *url;                    //  http: endpoint URL
    mcpact_pair_t *headers;       //  http: extra headers
    size_t headers_count;         //  number of headers
    char **allowed;               //  allow-list, NULL-terminated; NULL = all
    size_t allowed_count;         //  number of allowed names
    char **blocked;               //  block-list (disabledTools), NULL-terminated
    size_t blocked_count;         //  number of blocked names
    int connect_ms;               //  spawn/connect + initialize
    int list_ms;                  //  each tools/list request
    int call_ms;                  //  default per-call timeout
    int sse_read_ms;              //  http+sse: read timeout on the stream
    int max_call_ms;              //  progress never extends a call past this
    int start_retries;            //  more tries for a server that fails to start
    int max_in_flight;            //  calls in flight beyond which a call is refused
    size_t max_queued;            //  bytes waiting for the server, likewise
    char *error;                  //  config problem: start fails with it
    char *log_level;              //  logging/setLevel sent at start, or NULL
    json_t *oauth;                //  http: OAuth settings by key (auth/oauth.c), or NULL
    mcpact_oauth_authorize_fn *oauth_authorize; //  http: asks the user, or NULL
    void *oauth_authorize_arg;                  //  its argument
    mcpact_oauth_load_fn *oauth_load;           //  http: token storage, NULL for the default
    mcpact_oauth_save_fn *oauth_save;           //  likewise
    void *oauth_store_arg;                      //  their argument
    char *source;        //  the configuration file it came from (for hints), or NULL
    char *roots;         //  its own roots (JSON array, roots.h form), or NULL
    int client_features; //  MCPACT_CLIENT_* it may be offered at most
    json_t *group;       //  a group: {"endpoint", "agent", "serverKey"?, "clientCertificate"?}
};

//  Resolved transport: STDIO when a command is set; from the URL path for
//  AUTO (/sse -> SSE, otherwise STREAMABLE_HTTP).
mcpact_transport_t server_config_transport (const mcpact_server_config_t *self);

//  "stdio", "streamable_http", "sse" or "auto".
const char *server_config_transport_name (mcpact_transport_t transport);

//  True if `name` is a valid server name: 1..64 of [A-Za-z0-9_.-].
bool server_config_name_valid (const char *name);

//  True if `name` may be sent as an HTTP header name (an RFC 9110 token).
bool server_config_header_name_valid (const char *name);

//  True if `tool` passes the allow-list and is not on the block-list.
bool server_config_allows (const mcpact_server_config_t *self, const char *tool);

//  Adds a tool name to the block-list: a tool never listed nor callable,
//  whatever the allow-list says (the loader's "disabledTools").
int server_config_block_tool (mcpact_server_config_t *self, const char *tool);

#endif
