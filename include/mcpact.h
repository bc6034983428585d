/*  =========================================================================
    mcpact.h - public API of the mcpact MCP client runtime

    mcpact connects an agent host to any number of MCP servers at once, merges
    their tools with the host's own C function tools, and lets the host list
    and call all of them as one set. Internally every server, session, agent
    with servers of its own and the tool registry is an actor (a thread that
    talks only in ZeroMQ messages); this header is a thin, synchronous (and
    asynchronous) convenience over those messages.

    Threading: every function here may be called from any host thread, and
    from several host threads at once, except where a comment says an object
    belongs to one thread (mcpact_caller_t). Objects must not be used after,
    or concurrently with, their own _destroy.

    fork (): a child made by fork () without exec must not use the
    runtimes it inherited (their threads are not in it); it may make new
    ones, which start spawn helpers and servers of their own.

    The header is C99 (and C++: it is wrapped in extern "C").

    Ownership: a returned `char *` is the caller's, to be released with
    free (). A `**` argument hands the object over on success (0); on
    failure (-1) the caller still owns it. Everything else returned is owned
    by the object it came from.

    Linking: `pkg-config --cflags --libs mcpact`, or find_package (mcpact)
    and the target mcpact::mcpact (mcpact::mcpact-static for libmcpact.a);
    see README.md. Both libraries make only the functions below global.
    =========================================================================
*/

#ifndef MCPACT_H_INCLUDED
#define MCPACT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  --------------------------------------------------------------------------
//  Version and linkage

//  The version of this header. CMake reads it from here (project version,
//  pkg-config Version, CMake package version); the shared library's soname
//  is libmcpact.so.<MAJOR>, so any 0.x.y library serves a host built with a
//  0.x header. A host checks at compile time with
//  #if MCPACT_VERSION >= MCPACT_MAKE_VERSION (0, 1, 0)
#define MCPACT_VERSION_MAJOR 0
#define MCPACT_VERSION_MINOR 1
#define MCPACT_VERSION_PATCH 0

#define MCPACT_MAKE_VERSION(major, minor, patch) ((major) *10000 + (minor) *100 + (patch))
#define MCPACT_VERSION                                                                             \
    MCPACT_MAKE_VERSION (MCPACT_VERSION_MAJOR, MCPACT_VERSION_MINOR, MCPACT_VERSION_PATCH)

//  Marks the library's API. The library is built with hidden visibility:
//  what carries this mark is all that libmcpact.so exports and all that
//  libmcpact.a leaves global (every name is mcpact_*).
#if defined(__GNUC__) && __GNUC__ >= 4
#define MCPACT_EXPORT __attribute__ ((visibility ("default")))
#else
#define MCPACT_EXPORT
#endif

//  The version of the library the program runs with, which may be newer
//  than the header it was built with (MCPACT_VERSION_*). Any argument may
//  be NULL.
MCPACT_EXPORT void mcpact_version (int *major, int *minor, int *patch);

//  The MCP protocol version we ask for; older ones we accept are listed in
//  docs/protocol.md.
#define MCPACT_PROTOCOL_VERSION "2025-11-25"

typedef struct _mcpact_runtime_t mcpact_runtime_t;
typedef struct _mcpact_session_t mcpact_session_t;
typedef struct _mcpact_agent_t mcpact_agent_t;
typedef struct _mcpact_server_config_t mcpact_server_config_t;
typedef struct _mcpact_result_t mcpact_result_t;
typedef struct _mcpact_caller_t mcpact_caller_t;

//  --------------------------------------------------------------------------
//  Logging

typedef enum {
    MCPACT_LOG_ERROR = 0,
    MCPACT_LOG_WARN = 1,
    MCPACT_LOG_INFO = 2,
    MCPACT_LOG_DEBUG = 3
} mcpact_log_level_t;

//  Receives every log line at or below the configured level. Called from
//  runtime threads: it must be thread-safe and quick.
typedef void (mcpact_log_fn) (mcpact_log_level_t level, const char *message, void *arg);

//  Sets the process-wide log sink (NULL restores the default: stderr) and
//  the level (default MCPACT_LOG_WARN, or $MCPACT_LOG = error|warn|info|debug).
MCPACT_EXPORT void mcpact_set_log (mcpact_log_fn *fn, void *arg, mcpact_log_level_t level);

//  Asks the user for the value of a config's `${input:ID}` (VS Code's
//  `inputs`: `id`, and `description` and `password` as the file declares
//  them, or NULL and false). Returns the value, malloc'ed, or NULL for
//  none. Called on the thread that loads the config, once per input and
//  load, and only when $MCPACT_INPUT_<ID> is not set.
typedef char *(mcpact_input_fn) (const char *id, const char *description, bool password, void *arg);

//  Sets the process-wide asker of config inputs (NULL: none, the default:
//  an input without its environment variable fails its server with a
//  message naming the variable). The library itself never reads the
//  terminal; the CLI sets one that prompts there.
MCPACT_EXPORT void mcpact_set_input_fn (mcpact_input_fn *fn, void *arg);

//  --------------------------------------------------------------------------
//  Runtime: one ZeroMQ context, the registry actor and the function-tool
//  workers. Installs no signal handlers in the host's process.

//  Creates a runtime, or NULL (with a log line) if it could not start.
MCPACT_EXPORT mcpact_runtime_t *mcpact_runtime_new (void);

//  Stops everything the runtime started, top-down, and waits for it:
//  sessions, agents, server actors and their child processes. Sessions and
//  agents not destroyed yet are destroyed here; their handles become invalid.
MCPACT_EXPORT void mcpact_runtime_destroy (mcpact_runtime_t **self_p);

//  The endpoint where the runtime publishes events (ZeroMQ PUB, in this
//  process: connect a SUB socket of the same ZeroMQ context, i.e. CZMQ's
//  zsock_new_sub). Each event is two frames and a JSON body; see
//  docs/protocol.md ("Events"): TOOLS_CHANGED view_id change_json, and
//  SERVER_STATE server_id state_json (as mcpact_server_state_fn has it)
//  for every server of the runtime.
MCPACT_EXPORT const char *mcpact_runtime_events_endpoint (mcpact_runtime_t *self);

//  --------------------------------------------------------------------------
//  Server configuration

typedef enum {
    MCPACT_TRANSPORT_AUTO = 0, //  stdio if a command is set; else from the URL
    MCPACT_TRANSPORT_STDIO,
    MCPACT_TRANSPORT_STREAMABLE_HTTP,
    MCPACT_TRANSPORT_SSE,
    MCPACT_TRANSPORT_GROUP //  a group of servers hosted by another mcpact (serve)
} mcpact_transport_t;

//  A local server, launched as a child process speaking MCP on stdin/stdout.
//  `name` names the server in logs, reports and prefixed tool names.
MCPACT_EXPORT mcpact_server_config_t *mcpact_server_stdio_new (const char *name,
                                                               const char *command);

//  A remote server given by URL (transport chosen from the path: /mcp, /sse).
MCPACT_EXPORT mcpact_server_config_t *mcpact_server_http_new (const char *name, const char *url);

//  Copies a configuration.
MCPACT_EXPORT mcpact_server_config_t *mcpact_server_config_dup (const mcpact_server_config_t *self);

MCPACT_EXPORT void mcpact_server_config_destroy (mcpact_server_config_t **self_p);

MCPACT_EXPORT const char *mcpact_server_config_name (const mcpact_server_config_t *self);

//  Appends one command-line argument (stdio).
MCPACT_EXPORT int mcpact_server_config_add_arg (mcpact_server_config_t *self, const char *arg);

//  Sets one environment variable of the child (stdio). The child gets only
//  HOME, LOGNAME, PATH, SHELL, TERM and USER from our environment, with
//  these on top.
MCPACT_EXPORT int mcpact_server_config_set_env (mcpact_server_config_t *self, const char *name,
                                                const char *value);

//  Sets the child's working directory (stdio).
MCPACT_EXPORT int mcpact_server_config_set_cwd (mcpact_server_config_t *self, const char *dir);

//  Adds a header sent on every HTTP request. Values never reach logs.
MCPACT_EXPORT int mcpact_server_config_add_header (mcpact_server_config_t *self, const char *name,
                                                   const char *value);

//  Overrides the transport guessed from the URL.
MCPACT_EXPORT int mcpact_server_config_set_transport (mcpact_server_config_t *self,
                                                      mcpact_transport_t transport);

//  Adds a tool name to the allow-list. With an empty list every tool
//  is allowed; otherwise tools not on it are never listed nor callable.
MCPACT_EXPORT int mcpact_server_config_allow_tool (mcpact_server_config_t *self, const char *tool);

//  Timeouts in milliseconds; 0 keeps the default. Defaults: connect
//  (spawn + initialize) 60000, tools/list 60000, tools/call 30000. The
//  first two are long on purpose: a cold `npx -y` start, or many Node
//  servers starting at once on a small machine, takes tens of seconds;
//  a server that fails fast (exits, refuses) is reported at once anyway.
MCPACT_EXPORT int mcpact_server_config_set_timeouts (mcpact_server_config_t *self, int connect_ms,
                                                     int list_ms, int call_ms);

//  The hard maximum of a call whose server reports progress (default
//  600000): each progress notification extends the call's deadline by its
//  timeout again, but never past this much time after it started.
MCPACT_EXPORT int mcpact_server_config_set_max_call (mcpact_server_config_t *self, int max_ms);

//  Bounds on what a server holds of the host's memory; 0 keeps a default.
//  `max_in_flight`: calls sent and not answered (default 1024);
//  `max_queued_bytes`: request bytes waiting for the server to take them
//  (default 8 MiB; a server that stops reading its stdin, or a slow
//  link, holds them). Beyond either, a call is refused at once with
//  MCPACT_ERR_BUSY and a reason, and nothing is sent; one call larger
//  than the byte limit still goes when nothing is waiting. The status
//  shows "queuedBytes", "stalledMs" and "refused".
MCPACT_EXPORT int mcpact_server_config_set_limits (mcpact_server_config_t *self, int max_in_flight,
                                                   size_t max_queued_bytes);

//  How many more times a server that fails to start is tried (default 0:
//  none). The start report says it failed; the tries go on in the
//  background with the restart backoff (250 ms, doubling up to 30 s), and
//  if one succeeds its tools join the set (the tools-changed callback says
//  so). A server that dies after it was ready is restarted whatever this
//  says; mcpact_agent_reload tries a failed server again at any time.
MCPACT_EXPORT int mcpact_server_config_set_start_retries (mcpact_server_config_t *self,
                                                          int retries);

//  Marks the configuration as unusable: starting it fails at once with this
//  reason (used by the config loader, e.g. for an unset ${VAR}).
MCPACT_EXPORT int mcpact_server_config_set_error (mcpact_server_config_t *self, const char *reason);

//  --------------------------------------------------------------------------
//  Function tools: host C callbacks, run on the runtime's worker threads.

//  Called with the arguments as a JSON object text. Returns 0 and sets
//  *output to a malloc'ed text for the LLM (JSON or plain), or returns -1
//  and sets *output to a malloc'ed error message (or leaves it NULL).
//  May run on any worker thread, possibly concurrently with itself.
typedef int (mcpact_function_fn) (const char *args_json, char **output, void *arg);

//  --------------------------------------------------------------------------
//  Tool names

typedef enum {
    //  A tool whose name is taken already is rejected when its server
    //  connects; the report and the log name both owners. (default)
    MCPACT_NAMES_REJECT = 0,
    //  Every server tool is exposed as <server>_<tool>.
    MCPACT_NAMES_PREFIX,
    //  Only a tool whose name is taken already is exposed as <server>_<tool>.
    MCPACT_NAMES_PREFIX_ON_CONFLICT
} mcpact_name_policy_t;

//  --------------------------------------------------------------------------
//  Session: the servers and function tools shared by all its agents.

MCPACT_EXPORT mcpact_session_t *mcpact_session_new (mcpact_runtime_t *runtime);

//  Loads a session, its servers and its agents from an `mcpServers` (or
//  `servers`) JSON file; see docs/config.md. Returns NULL and sets *error
//  (malloc'ed, naming the file and the key) if the file is unusable.
MCPACT_EXPORT mcpact_session_t *mcpact_session_load (mcpact_runtime_t *runtime, const char *path,
                                                     char **error);

//  Same, from JSON text; `origin` names the source in errors.
MCPACT_EXPORT mcpact_session_t *mcpact_session_load_string (mcpact_runtime_t *runtime,
                                                            const char *text, const char *origin,
                                                            char **error);

//  Stops the session's servers and its remaining agents.
MCPACT_EXPORT void mcpact_session_destroy (mcpact_session_t **self_p);

//  Adds a server; takes the configuration on success (and sets *config_p
//  to NULL); on failure the caller keeps it. Fails (-1, with a log line)
//  if another server of the session has that name.
//  Before the session starts, the server starts with the others. Once it
//  has started, the server starts now and the call waits until it is
//  ready or has failed (as mcpact_session_start waits; a failed server
//  stays, and is retried and reloaded as at start; mcpact_agent_status
//  says why): on return its tools are in the set of every agent on the
//  session's servers, and each such agent's tools-changed callback and
//  the runtime's TOOLS_CHANGED event name them as "added". Everything
//  else goes on meanwhile (calls, new agents), but for the session's
//  functions that talk to its actor (start, set_progress, another add or
//  remove), which wait their turn.
MCPACT_EXPORT int mcpact_session_add_server (mcpact_session_t *self,
                                             mcpact_server_config_t **config_p);

//  Removes the server `name` (as mcpact_server_config_name gives it) from
//  the session, started or not. Its tools leave the set of every agent on
//  the session's servers (the tools-changed callback and event name them
//  as "removed"; agents with servers of their own are not touched), then
//  its actor stops it with the full close sequence (stdin closed, 1 s,
//  SIGTERM, 1 s, SIGKILL) and the call waits for that. Every call in
//  flight on it, or sent to it meanwhile, returns MCPACT_ERR_SERVER
//  "server NAME was removed"; a later call to one of its tools returns
//  MCPACT_ERR_UNKNOWN_TOOL. Returns 0, or -1 (with a log line) if the
//  session has no server of that name. Any host thread, as for the other
//  functions here, also while others are calling the server.
MCPACT_EXPORT int mcpact_session_remove_server (mcpact_session_t *self, const char *name);

//  Adds a function tool. `parameters` is a JSON Schema object text (NULL:
//  no parameters). Names are 1..64 of [A-Za-z0-9_-].
MCPACT_EXPORT int mcpact_session_add_function (mcpact_session_t *self, const char *name,
                                               const char *description, const char *parameters,
                                               mcpact_function_fn *fn, void *arg);

MCPACT_EXPORT int mcpact_session_set_name_policy (mcpact_session_t *self,
                                                  mcpact_name_policy_t policy);

//  Starts all session servers in parallel and waits until each is ready or
//  has failed. Returns the report as JSON (see docs/protocol.md):
//  {"servers":[{"name","state":"ready"|"failed","error"?,"ms","tools",
//  "rejected"?:[...]}], "ms"}. A second call returns a fresh report without
//  restarting anything. NULL only if the runtime is gone.
MCPACT_EXPORT char *mcpact_session_start (mcpact_session_t *self);

//  Called (on a runtime thread) while servers start, once per server that
//  becomes ready or fails, with that server's report entry as JSON.
typedef void (mcpact_progress_fn) (const char *server_json, void *arg);
MCPACT_EXPORT void mcpact_session_set_progress (mcpact_session_t *self, mcpact_progress_fn *fn,
                                                void *arg);

//  Names of the agents the configuration file declared, as a JSON array.
MCPACT_EXPORT char *mcpact_session_agent_names (mcpact_session_t *self);

//  Names of the servers the configuration file gave the session or, when
//  `agent` names one of its agents with servers of its own, that agent's,
//  as a JSON array in declaration order (disabled ones left out): what a
//  host lists before they start. [] for a session built in code.
MCPACT_EXPORT char *mcpact_session_server_names (mcpact_session_t *self, const char *agent);

//  --------------------------------------------------------------------------
//  Agent: what the LLM sees. Its own servers replace the session's; with
//  none it falls back to the session's. Function tools of the agent
//  and of the session are always both in its set.

//  Creates an agent of a session. `name` may be NULL. An agent without
//  servers of its own costs no thread and little time (handing a
//  conversation to a fresh agent: bench/bench_handoff.c); its first
//  mcpact_agent_add_server gives it the thread that owns its servers.
MCPACT_EXPORT mcpact_agent_t *mcpact_agent_new (mcpact_session_t *session, const char *name);

//  Creates the agent named `name` in the session's configuration file, with
//  the servers the file gave it; NULL if there is no such agent (or the
//  runtime could not start it: the log says so).
MCPACT_EXPORT mcpact_agent_t *mcpact_agent_from_config (mcpact_session_t *session,
                                                        const char *name);

//  Stops the agent and its own servers; the session's servers stay up.
MCPACT_EXPORT void mcpact_agent_destroy (mcpact_agent_t **self_p);

//  Gives the agent a server of its own (its own servers replace the
//  session's), as mcpact_session_add_server does for a session: takes the
//  configuration on success; -1 if another server of the agent has that
//  name. Once the agent has started with servers of its own, the server
//  starts now and the call waits until it is ready or has failed; its
//  tools then are in the agent's set (callback and event: "added"). An
//  agent that started on its session's servers cannot take servers of its
//  own (-1): add them to the session.
MCPACT_EXPORT int mcpact_agent_add_server (mcpact_agent_t *self, mcpact_server_config_t **config_p);

//  Removes one of the agent's own servers, as mcpact_session_remove_server
//  does for the session's; only this agent's set changes. -1 (with a log
//  line) if the agent has no server of its own of that name (an agent on
//  its session's servers has none).
MCPACT_EXPORT int mcpact_agent_remove_server (mcpact_agent_t *self, const char *name);

MCPACT_EXPORT int mcpact_agent_add_function (mcpact_agent_t *self, const char *name,
                                             const char *description, const char *parameters,
                                             mcpact_function_fn *fn, void *arg);

MCPACT_EXPORT int mcpact_agent_set_progress (mcpact_agent_t *self, mcpact_progress_fn *fn,
                                             void *arg);

//  Starts the agent's own servers in parallel or, with none, starts (or
//  joins) the session's. Returns the report as for mcpact_session_start,
//  plus the tools the name policy rejected, beside their server as
//  "rejected": [{"tool","reason"}]. Every progress callback has returned
//  before it returns.
MCPACT_EXPORT char *mcpact_agent_start (mcpact_agent_t *self);

//  The merged tools as a JSON array of MCP tool objects (name, description,
//  inputSchema, ...), in a deterministic order: the agent's function tools,
//  the session's function tools, then each server's in declaration order.
//  Each carries "_mcpact": {"server": NAME, "tool": ORIGINAL-NAME} or
//  {"function": true}, saying where it comes from. Starts the agent first
//  if it has not started (likewise mcpact_agent_call and _status).
MCPACT_EXPORT char *mcpact_agent_tools (mcpact_agent_t *self);

//  Number of tools in the merged set.
MCPACT_EXPORT size_t mcpact_agent_tool_count (mcpact_agent_t *self);

//  Called when the agent's merged tool set changes after it started (a
//  server sent tools/list_changed, restarted, came up late, was reloaded,
//  added or removed), with {"agent", "added": [names], "removed": [names],
//  "changed": [names], "tools": count}; "changed" names tools that stayed
//  but changed definition or owner (a server that comes first in the
//  configuration came up and took its name back). Runs on a function-tool
//  worker thread, never on an actor's loop. NULL removes it.
typedef void (mcpact_tools_changed_fn) (const char *change_json, void *arg);
MCPACT_EXPORT int mcpact_agent_set_tools_changed (mcpact_agent_t *self, mcpact_tools_changed_fn *fn,
                                                  void *arg);

//  A filter beyond the static allow-lists: called with the agent's name
//  (or NULL), the server's name and one MCP tool object as JSON text;
//  return false to hide the tool from the agent (it is then not callable
//  through the agent either). Applied whenever the agent's set is built:
//  set it before start. Called on the registry's thread: it must be quick
//  and must not call into mcpact.
typedef bool (mcpact_tool_filter_fn) (const char *agent, const char *server, const char *tool_json,
                                      void *arg);
MCPACT_EXPORT int mcpact_agent_set_tool_filter (mcpact_agent_t *self, mcpact_tool_filter_fn *fn,
                                                void *arg);

//  Asks every server of the agent for its tools again and waits until the
//  agent's set reflects the answers; a server that failed or is waiting to
//  restart is started again at once. Returns {"added", "removed",
//  "changed", "tools", "errors": [{"server","error"}]} as JSON.
MCPACT_EXPORT char *mcpact_agent_reload (mcpact_agent_t *self);

//  Per-server status as JSON: one object per server of the agent, in
//  declaration order, with these keys (counts are since the server
//  first started, restarts included):
//    "name", "transport"  the server's name; stdio, streamable_http or sse
//    "state"        connecting, listing, ready, restarting (also between
//                   start retries), failed or stopped ("unknown" if the
//                   server did not answer)
//    "error"        why it failed or restarts; absent when it did not
//    "tools"        how many tools it listed (after its allow-list)
//    "calls"        calls that reached the server: on their way to it, or
//                   ended (= the sum of "results" + "inFlight")
//    "results"      calls ended, by how: {"ok", "tool_error",
//                   "unknown_tool", "timeout", "server_error",
//                   "protocol_error", "bad_arguments", "internal_error",
//                   "cancelled", "busy"}, one key per mcpact_status_t
//                   (MCPACT_OK .. MCPACT_ERR_BUSY), always all there;
//                   "timeout" counts the calls that timed out, and
//                   "cancelled" those the host cancelled
//    "errors"       of those, the ones that did not end in ok
//    "latencyUs"    {"answers", "p50", "p99", "max"}: of the calls the
//                   server answered (ok, tool_error, protocol_error), how
//                   many, and in µs from the request sent to the answer
//                   read: the median, the 99th percentile (each the top of
//                   its histogram bucket, at most 1/8 above the value,
//                   never above max) and the longest; 0s before any answer
//    "inFlight"     calls sent and not answered yet
//    "restarts"     starts again after it was ready once (restarts, reloads)
//    "refused"      calls refused by the limits, at once (as "busy");
//                   mcpact_server_config_set_limits
//    "queuedBytes"  request bytes waiting for the server to take them
//    "stalledMs"    while bytes wait: how long the server has taken none
//    "directCalls"  of "calls", those a host thread made itself on the
//                   server's pipes (stdio; docs/protocol.md, "Lanes")
//    "endpoint"     the server actor's in-process endpoint
//    "protocolVersion", "serverInfo"  what it answered to initialize
//    "url"          HTTP: the server's URL, without credentials
//    "requests"     HTTP: requests open to it now
//    "pid", "stderr"  stdio: the process id; the end of what it wrote on
//                   stderr, when it wrote anything
//    "rejectedTools"  [{"tool","reason"}]: its tools the name policy
//                   rejected at the agent's start (its start report's
//                   "rejected"); [] for none
//  A call to a tool the agent does not have reaches no server and counts
//  in none.
MCPACT_EXPORT char *mcpact_agent_status (mcpact_agent_t *self);

//  Calls a tool of the merged set and waits at most timeout_ms (0: the
//  server's call timeout). `args_json` is a JSON object text or NULL.
//  Never returns NULL: failures come back as a result with an error.
MCPACT_EXPORT mcpact_result_t *mcpact_agent_call (mcpact_agent_t *self, const char *tool,
                                                  const char *args_json, int timeout_ms);

//  --------------------------------------------------------------------------
//  Server state events: each server's state as it changes, to a callback
//  and to the runtime's events socket (SERVER_STATE, docs/protocol.md).

//  Called with {"server": NAME, "state", "reason"?, "time"}. "state" is
//  starting (each try to start it: spawn or connect, initialize, the
//  first tools/list), ready, failed (it could not start; start retries
//  may follow), restarting (it died after it was ready, or a start retry
//  is due: waiting out the backoff), or stopped (its session or agent
//  stopped it, or removed it); "reason" says why for failed and
//  restarting; "time" is when, in ms since the Unix epoch. A server that starts goes starting,
//  ready; one that dies, restarting, starting, ready. Runs on a
//  function-tool worker thread, never on an actor's loop, one call at a
//  time, in the order the changes happened; it may call into mcpact, but
//  must not destroy the session or agent it was set on.
typedef void (mcpact_server_state_fn) (const char *state_json, void *arg);

//  Sets the callback for the session's servers (NULL removes it; a call
//  already on its way may still come). Set it before mcpact_session_start
//  to see them start. mcpact_session_destroy returns once the callback
//  has seen its servers stopped, and it is not called after.
MCPACT_EXPORT int mcpact_session_set_server_state (mcpact_session_t *self,
                                                   mcpact_server_state_fn *fn, void *arg);

//  The same for the agent's own servers. An agent without servers of its
//  own uses the session's: their changes go to the session's callback.
MCPACT_EXPORT int mcpact_agent_set_server_state (mcpact_agent_t *self, mcpact_server_state_fn *fn,
                                                 void *arg);

//  --------------------------------------------------------------------------
//  Asynchronous calls, for hosts with their own event loop. A caller
//  belongs to one host thread; many calls may be in flight on it. Destroy
//  a caller before its agent (it routes through the agent's tool set).

MCPACT_EXPORT mcpact_caller_t *mcpact_caller_new (mcpact_agent_t *agent);
MCPACT_EXPORT void mcpact_caller_destroy (mcpact_caller_t **self_p);

//  Starts a call; returns its id (> 0), or -1 if it could not be sent (a
//  result with the reason is then queued for mcpact_caller_next).
MCPACT_EXPORT int64_t mcpact_caller_send (mcpact_caller_t *self, const char *tool,
                                          const char *args_json, int timeout_ms);

//  Returns the next finished call (see mcpact_result_id), waiting at most
//  timeout_ms (0: don't wait, -1: forever); NULL if none finished in time.
MCPACT_EXPORT mcpact_result_t *mcpact_caller_next (mcpact_caller_t *self, int timeout_ms);

//  A file descriptor that becomes readable when results may be waiting.
//  It is edge-triggered: after it fires, call mcpact_caller_next (c, 0)
//  until it returns NULL.
MCPACT_EXPORT int mcpact_caller_fd (mcpact_caller_t *self);

//  Asks for progress: later calls of this caller carry a progressToken,
//  and each notifications/progress the server sends for one of them calls
//  fn (on this caller's thread, inside mcpact_caller_next) with the call
//  id, progress, total (-1 if not given) and message (NULL if none). Each
//  one also extends the call's deadline (see mcpact_server_config_set_max_call).
typedef void (mcpact_progress_call_fn) (int64_t id, double progress, double total,
                                        const char *message, void *arg);
MCPACT_EXPORT void mcpact_caller_set_progress (mcpact_caller_t *self, mcpact_progress_call_fn *fn,
                                               void *arg);

//  Number of calls sent and not yet returned by mcpact_caller_next.
MCPACT_EXPORT size_t mcpact_caller_pending (mcpact_caller_t *self);

//  Cancels a call in flight (e.g. the user interrupted the agent): the
//  server is sent notifications/cancelled, the call's result comes back
//  with MCPACT_ERR_CANCELLED, and a late answer is dropped. Returns -1 if
//  the call is not in flight.
MCPACT_EXPORT int mcpact_caller_cancel (mcpact_caller_t *self, int64_t id);

//  --------------------------------------------------------------------------
//  Results

typedef enum {
    MCPACT_OK = 0,               //  the tool ran and succeeded
    MCPACT_ERR_TOOL = 1,         //  the tool ran and reported an error (isError)
    MCPACT_ERR_UNKNOWN_TOOL = 2, //  no such tool in the merged set
    MCPACT_ERR_TIMEOUT = 3,      //  no answer in time; the server was told to cancel
    MCPACT_ERR_SERVER = 4,       //  the server is down, failed, or died during the call
    MCPACT_ERR_PROTOCOL = 5,     //  the server answered with a JSON-RPC error or garbage
    MCPACT_ERR_ARGS = 6,         //  the arguments are not a JSON object
    MCPACT_ERR_INTERNAL = 7,     //  the runtime is shutting down or out of memory
    MCPACT_ERR_CANCELLED = 8,    //  the host cancelled the call; the server was told
    MCPACT_ERR_BUSY = 9          //  refused at once, nothing sent: the server has as much
                                 //  in flight or waiting as its limits allow
} mcpact_status_t;

MCPACT_EXPORT mcpact_status_t mcpact_result_status (const mcpact_result_t *self);

//  The call id (from mcpact_caller_send; 0 for mcpact_agent_call).
MCPACT_EXPORT int64_t mcpact_result_id (const mcpact_result_t *self);

//  The MCP CallToolResult as JSON text (content, structuredContent,
//  isError); for runtime errors a result with isError and the reason.
MCPACT_EXPORT const char *mcpact_result_json (const mcpact_result_t *self);

//  The result as the LLM should see it: an isError result -> the joined
//  text parts; one content item -> that item as JSON; several -> a JSON
//  array; none -> an error. An image, audio or binary resource item is
//  there as a text item noting its type and size, never its base64 data
//  ("[image: image/png, 1234 bytes base64 omitted]"; docs/formats.md).
MCPACT_EXPORT const char *mcpact_result_text (const mcpact_result_t *self);

//  The reason when the status is not MCPACT_OK, else NULL: one line for
//  the runtime's own errors; for a tool error (isError), its text parts
//  joined by line breaks.
MCPACT_EXPORT const char *mcpact_result_error (const mcpact_result_t *self);

MCPACT_EXPORT void mcpact_result_destroy (mcpact_result_t **self_p);

MCPACT_EXPORT const char *mcpact_status_name (mcpact_status_t status);

//  --------------------------------------------------------------------------
//  The LLM's view: tools, tool calls and tool results in the shapes the
//  main LLM APIs take (docs/formats.md).

typedef enum {
    MCPACT_FORMAT_MCP = 0,          //  MCP tool objects / CallToolResult
    MCPACT_FORMAT_OPENAI,           //  OpenAI Chat Completions
    MCPACT_FORMAT_OPENAI_RESPONSES, //  OpenAI Responses
    MCPACT_FORMAT_ANTHROPIC,        //  Anthropic Messages
    MCPACT_FORMAT_GEMINI            //  Google Gemini
} mcpact_format_t;

//  Flags for mcpact_agent_tools_as.
#define MCPACT_FORMAT_STRICT 1 //  OpenAI: strict schemas ("strict": true)

//  "mcp", "openai", "openai-responses", "anthropic", "gemini".
MCPACT_EXPORT const char *mcpact_format_name (mcpact_format_t format);

//  The format for a name as above; -1 if unknown.
MCPACT_EXPORT int mcpact_format_from_name (const char *name);

//  The agent's merged tools as the provider's API takes them: OpenAI
//  Chat Completions `tools` (type function), OpenAI Responses `tools`,
//  Anthropic `tools`, Gemini `[{"functionDeclarations": [...]}]`, or MCP
//  tool objects. A JSON text; NULL on a bad format.
MCPACT_EXPORT char *mcpact_agent_tools_as (mcpact_agent_t *self, mcpact_format_t format, int flags);

//  Calls the tool named in a provider's tool-call object (an OpenAI
//  `tool_calls` entry, a Responses `function_call` item, an Anthropic
//  `tool_use` block, a Gemini `functionCall` part) and returns the
//  provider's tool-result message for it as JSON text. Arguments that are
//  not valid JSON, or that miss a required field of the tool's schema, come
//  back as a tool error the LLM can read; never NULL but for a NULL agent.
MCPACT_EXPORT char *mcpact_agent_call_as (mcpact_agent_t *self, mcpact_format_t format,
                                          const char *tool_call_json, int timeout_ms);

//  A result as the provider's tool-result message for call `call_id` of
//  tool `tool` (Gemini names the function, the others the call id).
//  Images and audio become the provider's own parts where it has them.
MCPACT_EXPORT char *mcpact_result_as (const mcpact_result_t *self, mcpact_format_t format,
                                      const char *call_id, const char *tool);

//  --------------------------------------------------------------------------
//  Resources, prompts, instructions and server logging
//  (MCP 2025-11-25 "Resources", "Prompts", "Logging"; docs/resources.md)
//
//  Each function here speaks to every server of the agent (its own, or
//  with none its session's, as for tools) that declared the capability
//  in its `initialize` answer; the others are not asked. Listings follow
//  nextCursor to the end (a cursor that comes back, or more than 1000
//  pages, ends that server's listing with an error). Each item listed
//  carries "_mcpact": {"server": NAME}, saying which server it comes
//  from. Any host thread, as the functions above; each call blocks
//  until every server asked has answered or timed out (each request has
//  the server's call timeout, "timeouts.call").

//  The resources of the agent's servers: {"resources": [MCP Resource
//  objects], "errors": [{"server", "error"}]}, in server order, each
//  server's in its order. A server whose listing failed is in "errors"
//  and contributes no resources. NULL only for a NULL agent.
MCPACT_EXPORT char *mcpact_agent_resources (mcpact_agent_t *self);

//  The same for resource templates: {"resourceTemplates": [...],
//  "errors": [...]}.
MCPACT_EXPORT char *mcpact_agent_resource_templates (mcpact_agent_t *self);

//  The same for prompts: {"prompts": [MCP Prompt objects], "errors": [...]}.
MCPACT_EXPORT char *mcpact_agent_prompts (mcpact_agent_t *self);

//  Reads the resource `uri` (resources/read). `server` names the server
//  to ask; NULL asks the server that listed the URI, else the one whose
//  resource template matches it, else the only server with resources
//  (anything else is an error naming the candidates). On MCPACT_OK
//  mcpact_result_json is the MCP ReadResourceResult ({"contents": [...]},
//  each with "uri" and "text" or base64 "blob", as the server sent it);
//  contents that are not that are MCPACT_ERR_PROTOCOL. A server without
//  resources, or an unknown server: MCPACT_ERR_UNKNOWN_TOOL. Timeouts as
//  for calls (0: the server's call timeout). Never NULL.
MCPACT_EXPORT mcpact_result_t *mcpact_agent_read_resource (mcpact_agent_t *self, const char *server,
                                                           const char *uri, int timeout_ms);

//  Gets the prompt `name` with `args_json` (a JSON object of strings, or
//  NULL) from `server`, or with NULL from the server that lists it (two
//  servers that list it: an error naming both). On MCPACT_OK
//  mcpact_result_json is the MCP GetPromptResult ({"description"?,
//  "messages": [...]}). Errors as for mcpact_agent_read_resource. Never
//  NULL.
MCPACT_EXPORT mcpact_result_t *mcpact_agent_get_prompt (mcpact_agent_t *self, const char *server,
                                                        const char *name, const char *args_json,
                                                        int timeout_ms);

//  Subscribes to (or with `subscribe` false, unsubscribes from) updates
//  of the resource `uri` at `server` (NULL: chosen as for
//  mcpact_agent_read_resource), if it declared "resources.subscribe".
//  Each notifications/resources/updated then comes as a RESOURCE_UPDATED
//  event (docs/protocol.md, "Events"). A subscription outlives a restart
//  of the server: it is made again. Returns 0, or -1 and sets *error
//  (malloc'ed, if error is not NULL) to why.
MCPACT_EXPORT int mcpact_agent_subscribe_resource (mcpact_agent_t *self, const char *server,
                                                   const char *uri, bool subscribe, char **error);

//  The servers' instructions (the `instructions` of their initialize
//  answers), for the host to put into the system prompt: a JSON array
//  [{"server", "instructions"}] of the servers that gave any, in server
//  order. They are also in mcpact_agent_status, whose entries have
//  "capabilities" (as the server's initialize answer declared them),
//  "instructions", "logLevel" (the level set, if any) and
//  "subscriptions" (how many, if any). NULL only for a NULL agent.
MCPACT_EXPORT char *mcpact_agent_instructions (mcpact_agent_t *self);

//  The minimum level of log messages a server sends (logging/setLevel):
//  debug, info, notice, warning, error, critical, alert or emergency
//  (RFC 5424 severities as MCP names them); NULL: leave it to the
//  server (the default). Sent once the server is initialized, at each
//  start, if it declared "logging". In a configuration file: "logLevel"
//  on a server, or as the default of the session's or an agent's
//  servers. -1 for a level that is none of these.
MCPACT_EXPORT int mcpact_server_config_set_log_level (mcpact_server_config_t *self,
                                                      const char *level);

//  Sets the level of the agent's running servers (`server`: that one;
//  NULL: all), sent at once to those that declared "logging" and kept
//  for their restarts. Returns 0, or -1 for an unknown level or server
//  or a server that refused it (with a log line).
MCPACT_EXPORT int mcpact_agent_set_server_log_level (mcpact_agent_t *self, const char *server,
                                                     const char *level);

//  Called with each log message a server sends (notifications/message),
//  as {"server": NAME, "level", "logger"?, "data", "time"}: "data" is
//  the message's data as the server sent it (any JSON), "time" when it
//  came, in ms since the Unix epoch. Messages below the server's level
//  (if one was set) are dropped, also from a server that does not heed
//  it. Runs on a function-tool worker thread, one call at a time, in
//  order; it may call into mcpact. Also published on the events socket
//  as SERVER_LOG.
typedef void (mcpact_server_log_fn) (const char *log_json, void *arg);

//  Sets the log callback for the session's servers (NULL removes it).
//  Agents without servers of their own use the session's.
MCPACT_EXPORT int mcpact_session_set_server_log (mcpact_session_t *self, mcpact_server_log_fn *fn,
                                                 void *arg);

//  The same for the agent's own servers.
MCPACT_EXPORT int mcpact_agent_set_server_log (mcpact_agent_t *self, mcpact_server_log_fn *fn,
                                               void *arg);

//  ----------------------------------------------------------------------
//  OAuth 2.1 authorization for HTTP servers (docs/auth.md)
//
//  A server that answers 401 is authorised by the MCP authorization flow:
//  its metadata is discovered, the client identified (pre-registered,
//  client ID metadata document or dynamic registration), the user asked
//  through the host's callback, and the tokens kept through the storage
//  callbacks (default: a file per server under the user's config
//  directory). Tokens, secrets and codes never appear in logs, errors or
//  status. A configured Authorization header turns all of this off.

//  Sets one OAuth setting of an HTTP server, by the key the config file's
//  "oauth" object uses: clientId, clientSecret, clientMetadataUrl, scopes,
//  redirectUri, clientName, grant ("authorization_code",
//  "client_credentials", "cross_app_access"), privateKeyFile,
//  signingAlgorithm, idpTokenEndpoint, idpClientId, idpClientSecret,
//  idToken, idTokenFile, tokenStore ("file", "memory"), authorizeTimeout
//  (whole seconds, 1 to 86400). NULL removes it. -1 for an unknown key or
//  a value the key does not allow (the same check as the config file's;
//  the reason is logged as a warning, naming the key and what is allowed).
//  Scopes are asked for together with the server's challenge scope.
MCPACT_EXPORT int mcpact_server_config_set_oauth (mcpact_server_config_t *self, const char *key,
                                                  const char *value);

//  The user authorises: show `authorization_url` to the user (print it,
//  send it to a web or voice client, open a browser) and return what the
//  authorization server redirected to `redirect_uri`: the whole redirect
//  URL (its state is checked), or only its code; malloc'ed, or NULL to
//  refuse. Called on the server's authorization thread, never the host's
//  own nor the server actor's: it may block, up to authorizeTimeout
//  (default 300 s), after which the server's requests fail. Several
//  servers may call it at once.
typedef char *(mcpact_oauth_authorize_fn) (void *arg, const char *server,
                                           const char *authorization_url, const char *redirect_uri);
MCPACT_EXPORT int mcpact_server_config_set_oauth_authorize (mcpact_server_config_t *self,
                                                            mcpact_oauth_authorize_fn *authorize,
                                                            void *arg);

//  Token storage. `load` returns the record saved for the server (JSON
//  text, malloc'ed) or NULL; `save` stores it, or forgets it when
//  `record` is NULL (0 or -1). The record holds tokens and client
//  secrets: keep it as a secret. Called on the server's actor thread
//  (load, when it starts) and its authorization thread (save), never
//  both at once for one server.
typedef char *(mcpact_oauth_load_fn) (void *arg, const char *server, const char *url);
typedef int (mcpact_oauth_save_fn) (void *arg, const char *server, const char *url,
                                    const char *record);
MCPACT_EXPORT int mcpact_server_config_set_oauth_store (mcpact_server_config_t *self,
                                                        mcpact_oauth_load_fn *load,
                                                        mcpact_oauth_save_fn *save, void *arg);

//  Forgets the tokens saved for a server in the default file store
//  (`mcpact auth logout`). 0, or -1 if there were none or they could not
//  be removed.
MCPACT_EXPORT int mcpact_oauth_forget (const char *server);

//  --------------------------------------------------------------------------
//  Servers that ask back: roots, sampling and elicitation (the client
//  features of MCP). A server learns in `initialize` which the client
//  offers, and only what the host supplies is offered: roots when the
//  session, agent or server has a roots list (even an empty one),
//  sampling and elicitation when a handler is set. Set them before the
//  servers start: a server reads them when it connects (again at each
//  restart). An agent with servers of its own uses its own handlers and
//  roots, or its session's where it has none. docs/client-features.md.

//  What a server may be offered; mcpact_server_config_set_client_features.
#define MCPACT_CLIENT_ROOTS 1
#define MCPACT_CLIENT_SAMPLING 2
#define MCPACT_CLIENT_ELICITATION 4

//  Elicitation modes a handler takes (2025-11-25): form (a flat schema of
//  fields the user fills in) and URL (the user is sent to a web page).
#define MCPACT_ELICIT_FORM 1
#define MCPACT_ELICIT_URL 2

//  One request a server sent (sampling/createMessage or elicitation/
//  create), handed to the host's handler. The host owns it from then on:
//  it answers it once (mcpact_ask_complete or mcpact_ask_reject), from any
//  thread and at any time, and releases it with mcpact_ask_destroy.
typedef struct _mcpact_ask_t mcpact_ask_t;

//  A handler for requests from servers. Runs on a thread of its own made
//  for this request (never an actor's loop): it may block, e.g. to ask
//  the user, or return at once and answer later from another thread.
typedef void (mcpact_ask_fn) (mcpact_ask_t *ask, void *arg);

//  The roots offered to the session's servers, as a JSON array of
//  {"uri": "file:///...", "name"?: "..."} (or of paths, made absolute
//  file:// URIs); NULL withdraws the list (not offered at the next
//  connect). A change reaches every server that uses these roots and was
//  offered them as notifications/roots/list_changed. -1 (with a log line)
//  if the text is not such an array.
MCPACT_EXPORT int mcpact_session_set_roots (mcpact_session_t *self, const char *roots_json);
MCPACT_EXPORT int mcpact_agent_set_roots (mcpact_agent_t *self, const char *roots_json);

//  The handler of sampling/createMessage (NULL: none; sampling is then
//  not offered). It answers with a CreateMessageResult: {"role":
//  "assistant", "content": {"type": "text", "text": ...}, "model": ...,
//  "stopReason"?: ...}.
MCPACT_EXPORT int mcpact_session_set_sampling (mcpact_session_t *self, mcpact_ask_fn *fn,
                                               void *arg);
MCPACT_EXPORT int mcpact_agent_set_sampling (mcpact_agent_t *self, mcpact_ask_fn *fn, void *arg);

//  The handler of elicitation/create for the modes given (MCPACT_ELICIT_*;
//  0 or a NULL fn: none, elicitation is then not offered). It answers
//  {"action": "accept", "content": {...}}, {"action": "decline"} or
//  {"action": "cancel"} (URL mode: no content).
MCPACT_EXPORT int mcpact_session_set_elicitation (mcpact_session_t *self, mcpact_ask_fn *fn,
                                                  void *arg, int modes);
MCPACT_EXPORT int mcpact_agent_set_elicitation (mcpact_agent_t *self, mcpact_ask_fn *fn, void *arg,
                                                int modes);

//  How long a server's request waits for the host's answer (default
//  600000, 10 minutes: a person may be answering). Then the server is
//  answered with an error, and the ask is cancelled ("timed out").
MCPACT_EXPORT int mcpact_session_set_ask_timeout (mcpact_session_t *self, int timeout_ms);
MCPACT_EXPORT int mcpact_agent_set_ask_timeout (mcpact_agent_t *self, int timeout_ms);

//  Per server: its own roots (replacing its owner's; it is then offered
//  roots, these), added one at a time: a file:// URI or a path (made an
//  absolute file:// URI), and a name or NULL.
MCPACT_EXPORT int mcpact_server_config_add_root (mcpact_server_config_t *self, const char *uri,
                                                 const char *name);

//  Per server: which client features it may be offered at most
//  (MCPACT_CLIENT_* bits; default all). What its owner does not supply
//  is not offered anyway.
MCPACT_EXPORT int mcpact_server_config_set_client_features (mcpact_server_config_t *self,
                                                            int features);

//  "sampling/createMessage" or "elicitation/create".
MCPACT_EXPORT const char *mcpact_ask_method (const mcpact_ask_t *self);

//  The name of the server that asks.
MCPACT_EXPORT const char *mcpact_ask_server (const mcpact_ask_t *self);

//  The name of the agent whose own server asks; NULL for a session's server.
MCPACT_EXPORT const char *mcpact_ask_agent (const mcpact_ask_t *self);

//  The request's params as JSON text, as the server sent them.
MCPACT_EXPORT const char *mcpact_ask_params (const mcpact_ask_t *self);

//  Answers the request with `result_json`. For elicitation in form mode,
//  fields the answer leaves out get the requested schema's defaults, and
//  the content is checked against the requested schema (types, string
//  length and format, number range, enum members, item counts, required
//  fields) before it is sent. Returns 0 when the answer went to the
//  server; -1 when it did not, with *error (malloc'ed, if error is not
//  NULL) saying why: an answer that does not fit names the field (the
//  request still waits: answer again), or the request is over already
//  (mcpact_ask_cancelled says why; a late answer does no harm).
MCPACT_EXPORT int mcpact_ask_complete (mcpact_ask_t *self, const char *result_json, char **error);

//  Answers the request with an error (the user refused sampling, the LLM
//  failed): JSON-RPC code -1 and `message`. 0, or -1 if it is over already.
MCPACT_EXPORT int mcpact_ask_reject (mcpact_ask_t *self, const char *message);

//  NULL while the request waits for an answer; once it is over without
//  one, why: "cancelled by the server: REASON", "timed out after N ms",
//  "the server stopped", "the server restarted". Answered requests
//  return NULL.
MCPACT_EXPORT const char *mcpact_ask_cancelled (const mcpact_ask_t *self);

//  Called once if the request ends without the host's answer (reasons as
//  mcpact_ask_cancelled gives them): on a thread of its own, never an
//  actor's loop; at once if it is over already. The ask stays valid
//  until mcpact_ask_destroy. NULL removes it.
typedef void (mcpact_ask_cancel_fn) (mcpact_ask_t *ask, const char *reason, void *arg);
MCPACT_EXPORT void mcpact_ask_on_cancel (mcpact_ask_t *self, mcpact_ask_cancel_fn *fn, void *arg);

//  Releases the host's hold on the request. One not answered yet is
//  answered with an error ("the host did not answer"). Nulls *self_p.
MCPACT_EXPORT void mcpact_ask_destroy (mcpact_ask_t **self_p);

//  --------------------------------------------------------------------------
//  Message gateway: the public message protocol (docs/protocol.md, "The
//  public protocol") on ipc:// and tcp:// endpoints, for hosts in other
//  processes and languages. `mcpact serve` is this, from the command line.

typedef struct _mcpact_gateway_t mcpact_gateway_t;

//  Starts a gateway thread serving `session`: its default agent (named
//  "" in the protocol) and every agent its configuration file declares,
//  which are made and started here (this waits, as mcpact_agent_start
//  does). `options_json` is NULL or a JSON object text:
//    "curve": {"certificate": PATH, "clients": DIR}  the gateway's key
//        pair (as mcpact keygen writes it: PATH and PATH_secret) and a
//        directory of the client certificates allowed in; tcp:// binds
//        then use CURVE. One gateway with CURVE per process (ZAP).
//    "insecure": true  allows tcp:// on an address that is not loopback
//        without CURVE, and ipc:// in a directory not the user's own
//    "maxMessageBytes"  larger requests cut the client off (default 1 MiB)
//    "maxClientCalls"   calls in flight per client (default 1024)
//    "maxCalls"         calls in flight in all (default 65536)
//    "sendHwm"          replies queued per client before they are dropped
//                       (default 10000)
//    "elicitation": true, "sampling": true  the gateway is the session's
//        handler of these requests (so its servers are offered them), and
//        passes each to the client that said HANDLE for the agent (ASK);
//        with none, the server is answered with an error saying so
//    "startLater": true  the agents are made but not started: binds hold
//        their endpoints at once (a wrong one fails before any server
//        process starts) and requests wait in the endpoints' queues,
//        unanswered, until mcpact_gateway_start; events are published
//        from the bind on
//  Beyond either call bound a CALL is answered at once with status 9
//  (MCPACT_ERR_BUSY). Returns NULL and sets *error (malloc'ed) on bad
//  options or an unreadable certificate.
MCPACT_EXPORT mcpact_gateway_t *mcpact_gateway_new (mcpact_session_t *session,
                                                    const char *options_json, char **error);

//  Answers the protocol at `endpoint` (ipc://PATH, tcp://HOST:PORT; a
//  port of * takes a free one). The socket of an ipc:// endpoint gets
//  mode 0600 and its directory must be the user's own. A tcp:// address
//  that is not loopback needs CURVE (or "insecure"). Returns 0 and sets
//  *bound (malloc'ed, if bound is not NULL) to the endpoint as bound,
//  or -1 and sets *error (malloc'ed) saying why.
MCPACT_EXPORT int mcpact_gateway_bind (mcpact_gateway_t *self, const char *endpoint, char **bound,
                                       char **error);

//  Publishes the protocol's events (PUB) at `endpoint`, with the same
//  rules as mcpact_gateway_bind.
MCPACT_EXPORT int mcpact_gateway_bind_events (mcpact_gateway_t *self, const char *endpoint,
                                              char **bound, char **error);

//  With "startLater": starts the agents (this waits, as mcpact_agent_start
//  does), then answers the requests at the endpoints, those that waited
//  first. Returns 0 (at once without "startLater", or when started
//  already), or -1 (with a log line) if an agent cannot be served.
MCPACT_EXPORT int mcpact_gateway_start (mcpact_gateway_t *self);

//  Serves `agent` too, as `name` (not "", and not a name served
//  already): an agent the host built in code, with servers or function
//  tools of its own. Starts it first, if it has not started (this waits,
//  as mcpact_agent_start does). The host keeps the agent and destroys it
//  after the gateway. Returns 0, or -1 (with a log line).
MCPACT_EXPORT int mcpact_gateway_add_agent (mcpact_gateway_t *self, const char *name,
                                            mcpact_agent_t *agent);

//  Stops taking calls: each call in flight is cancelled and answered
//  with status 7 (MCPACT_ERR_INTERNAL) "the gateway is shutting down",
//  and later CALLs get the same. Other requests are still answered.
MCPACT_EXPORT void mcpact_gateway_stop (mcpact_gateway_t *self);

//  Stops (as mcpact_gateway_stop), closes the endpoints and destroys the
//  agents the gateway made; the session and its servers stay.
MCPACT_EXPORT void mcpact_gateway_destroy (mcpact_gateway_t **self_p);

//  Ends a gateway together with the session it serves, for a host whose
//  session serves nothing else (mcpact serve): stops taking calls (as
//  mcpact_gateway_stop), closes the request endpoints, destroys the
//  agents it made and then the session (every server closed with the
//  full close sequence) while the events endpoints still publish, so
//  that subscribers see each server's SERVER_STATE "stopped"; then
//  destroys the gateway (as mcpact_gateway_destroy). Takes and NULLs
//  both. A `session` that is not the gateway's is left alone (the
//  gateway is destroyed as by mcpact_gateway_destroy).
MCPACT_EXPORT void mcpact_gateway_destroy_with_session (mcpact_gateway_t **self_p,
                                                        mcpact_session_t **session_p);

//  A result from the protocol's RESULT frames (status and payload), for
//  a client in C: the same object a caller returns (mcpact_result_as,
//  _text, _error work on it). Never NULL but for out of memory.
MCPACT_EXPORT mcpact_result_t *mcpact_result_from_message (int64_t id, mcpact_status_t status,
                                                           const char *payload, size_t size);

//  --------------------------------------------------------------------------
//  Server groups: servers hosted by `mcpact serve` in another process or on
//  another machine (docs/scale-out.md)

//  A group of servers, reached at the public protocol `endpoint` of a
//  gateway (tcp://host:port or ipc://path) and used as one server: its
//  agent's tools are listed, allow-listed and called as a server's are,
//  its resources, templates and prompts listed, read and got likewise;
//  when the group goes away its calls in flight fail at once, its tools are
//  withdrawn, and it is connected again with backoff. `name` names it as a
//  server's name does. `endpoint` is checked as `mcpact serve --bind` and
//  `--connect` check theirs: one that is wrong (another scheme, no host,
//  no port, a port beyond 65535, the host or port `*`, ipc:// without a
//  path) is taken, and the group fails at once when it starts, with the
//  endpoint quoted and what is wrong (as for mcpact_server_config_set_error);
//  NULL for a bad `name`, an empty `endpoint` or out of memory.
MCPACT_EXPORT mcpact_server_config_t *mcpact_server_group_new (const char *name,
                                                               const char *endpoint);

//  CURVE for a group: `server_key` is the group's public key (40 Z85
//  characters, or the path of its public certificate, as `mcpact keygen`
//  writes it), `client_certificate` the path of our secret certificate,
//  whose public part must be in the group's --curve-clients directory.
//  For tcp:// groups only: on an ipc:// group (a plain socket, kept to
//  its user by the file's mode) the group fails at once when it starts,
//  saying so. 0, or -1 if the config is not a group's or a value is
//  empty.
MCPACT_EXPORT int mcpact_server_config_set_group_curve (mcpact_server_config_t *self,
                                                        const char *server_key,
                                                        const char *client_certificate);

//  Which of the group's agents to use ("" by default: its servers).
MCPACT_EXPORT int mcpact_server_config_set_group_agent (mcpact_server_config_t *self,
                                                        const char *agent);

#ifdef __cplusplus
}
#endif

#endif
