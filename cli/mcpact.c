/*  =========================================================================
    mcpact - the command-line tool: list, call and inspect MCP tools

    Loads a session from an `mcpServers` JSON file (-c), or builds the
    built-in default (the example stdio server found beside this program,
    plus a `word_count` function tool), starts one agent of it and runs one
    command: `tools`, `call` or `status`. It uses only the public API, so it
    doubles as an example of a host. Single-threaded, except for the two
    callbacks the runtime invokes on its own threads (the progress printer
    and word_count), which touch no shared state, and the signal thread,
    which shares one atomic and one pipe with the main thread (see
    "Signals"). Everything it creates is destroyed before it exits, on
    every path, a first SIGINT, SIGTERM or SIGHUP included.

    Exit status: 0 success, 1 the command failed, 2 usage or configuration
    error, 3 to 6 a call that failed, by cause (see "Exit status" below and
    docs/cli.md); after a signal, death by that signal once the servers are
    closed (a shell shows 128 + its number). A server that fails to start
    is reported on stderr (cli/display.c says everything said there while
    servers start) but is not a failure of the command.
    =========================================================================
*/

#include <mcpact.h>

#include "api.h"
#include "curve_cert.h"
#include "auth.h"
#include "bench_init.h"
#include "cli.h"
#include "display.h"
#include "resources.h"
#include "roots.h"
#include "elicit.h"
#include "jsonnum.h"
#include "serve.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#ifndef streq //  CZMQ's (through api.h) is the same
#define streq(a, b) (strcmp ((a), (b)) == 0)
#endif

//  Exit status. A call's failures have one each, so that a script can tell
//  "the tool said no" from "nothing answered"; docs/cli.md lists them.
enum {
    CLI_OK = 0,
    CLI_FAILED = 1,       //  the command failed (protocol error, busy server, ...)
    CLI_USAGE = 2,        //  bad command line or configuration
    CLI_TOOL_ERROR = 3,   //  call: the tool ran and reported an error (isError)
    CLI_UNKNOWN_TOOL = 4, //  call: no such tool in the agent's set
    CLI_TIMEOUT = 5,      //  call: no answer in time, or cancelled
    CLI_SERVER_DOWN = 6   //  call: its server is down, failed or died during the call
};

//  On a terminal a table's last column is cut to fit the window, but keeps
//  at least this much even when the others are wide. Off a terminal
//  nothing limits the width, and nothing is cut.
#define TABLE_LAST_MIN 20
#define TABLE_MAX_COLUMNS 8

#define EXAMPLE_SERVER "mcpact-example-server"

typedef struct {
    const char *config_path; //  -c FILE; NULL = the built-in default
    const char *agent_name;  //  --agent NAME; NULL = an unnamed agent
    bool json;               //  --json: JSON instead of tables
    int verbose;             //  number of -v
    bool quiet;              //  -q: no progress lines
    bool timeout_set;        //  --timeout was given
    int timeout_ms;          //  call timeout; 0 = the server's default
    int format;              //  --format: an mcpact_format_t; -1 = our own output
    bool strict;             //  --strict: OpenAI strict schemas
    bool help;               //  -h / --help: the usage of the command given
    const char *command;     //  tools | call | status | bench
    const char *tool;        //  call: tool name
    const char *args_json;   //  call: arguments, a JSON object text
    const char *connect;     //  --connect ENDPOINT: a running mcpact serve
    const char *curve_key;   //  --curve-key: our key pair, for CURVE
    const char *server_cert; //  --curve-server: the gateway's certificate
    int exit_code;           //  set when parsing alone ends the run
    const char *server;      //  --server NAME (resources, read, prompts, prompt)
    const char *server_log;  //  --server-log LEVEL: print server log messages
    const char *words[64];   //  the words after the options, the command first
    int word_count;          //  how many (at most 64 kept)
    json_t *roots;           //  --root DIR ...: the roots offered, or NULL
} options_t;

typedef struct {
    const options_t *opts;     //  what the user asked for
    mcpact_runtime_t *runtime; //  owned
    mcpact_session_t *session; //  owned
    mcpact_agent_t *agent;     //  owned
    display_t *display;        //  owned; stderr while servers start, and after
    json_t *report;            //  the start report, once started
    cli_server_log_t *logs;    //  --server-log: the printer, owned
    remote_t *remote;          //  owned; with --connect, instead of servers
} cli_t;

//  --------------------------------------------------------------------------
//  Usage

//  Asks for a config's ${input:ID} on the terminal (echo off for a
//  password), when stdin and stderr are one (mcpact_set_input_fn).
static char *
s_ask_input (const char *id, const char *description, bool password, void *arg)
{
    (void) arg;
    if (!isatty (STDIN_FILENO) || !isatty (STDERR_FILENO))
        return NULL;
    fprintf (stderr, "%s (${input:%s}): ", description ? description : id, id);
    fflush (stderr);
    struct termios saved, quiet;
    bool echo_off = password && tcgetattr (STDIN_FILENO, &saved) == 0;
    if (echo_off) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t) ECHO;
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t room = 0;
    ssize_t got = getline (&line, &room, stdin);
    if (echo_off) {
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
        fputc ('\n', stderr);
    }
    if (got < 0) {
        free (line);
        return NULL;
    }
    line[strcspn (line, "\r\n")] = '\0';
    return line;
}

static const char *s_usage_line =
    "usage: mcpact [-c FILE] [--agent NAME] [--json] [-v | -q] COMMAND ...";

//  What every command takes; each command's help ends with it.
static const char *s_common_options =
    "Common options:\n"
    "  -c, --config FILE   load servers and agents from a JSON file: mcpServers\n"
    "                      (Claude Desktop, Cursor), servers (VS Code mcp.json)\n"
    "                      or mcp.servers (VS Code settings.json); default: the\n"
    "                      example server beside this program and a word_count\n"
    "                      function tool\n"
    "      --agent NAME    use the agent NAME that FILE declares\n"
    "      --server-log LEVEL  print the servers' log messages at LEVEL or above\n"
    "                      (debug, info, notice, warning, error, critical, alert,\n"
    "                      emergency), and ask the servers for them\n"
    "      --root DIR      offer DIR to the servers as a root (MCP roots; again\n"
    "                      for more); a server that asks its user for input\n"
    "                      (elicitation) is prompted for on a terminal and\n"
    "                      declined otherwise; sampling is not offered\n"
    "      --connect ENDPOINT  use a running mcpact serve instead of starting\n"
    "                      servers (--curve-key KEYFILE --curve-server CERT for\n"
    "                      CURVE)\n"
    "  -v, --verbose       say each server that starts, and log at info level;\n"
    "                      -vv: debug\n"
    "  -q, --quiet         say only errors (no start-up display, no warnings)\n"
    "  -h, --help          show the help of the command given, or this one\n";

static void
s_print_help (FILE *out)
{
    fprintf (out,
             "%s\n"
             "\n"
             "List and call the tools of MCP servers and function tools as one set.\n"
             "\n"
             "Commands:\n"
             "  tools                  list the merged tools (NAME, SOURCE, DESCRIPTION)\n"
             "  call TOOL [JSON-ARGS]  call one tool; JSON-ARGS is a JSON object (default {})\n"
             "  status                 show each server's transport, state and tool count\n"
             "  resources              list the servers' resources and resource templates\n"
             "  read URI               read one resource\n"
             "  prompts                list the servers' prompts\n"
             "  prompt NAME [ARG=VALUE ...]  get one prompt\n"
             "  bench init -c FILE     time how long the servers of FILE take to start\n"
             "  auth login -c FILE S   authorise HTTP server S with OAuth, keep its tokens\n"
             "  auth logout S          forget the tokens kept for S\n"
             "  serve -c FILE --bind ENDPOINT  answer the message protocol (mcpact serve -h)\n"
             "  keygen PATH            write a CURVE key pair for serve and --connect\n"
             "  help [COMMAND]         show this help, or a command's\n"
             "\n"
             "'mcpact COMMAND --help' shows a command's own options.\n"
             "\n"
             "%s"
             "      --version       print the version\n"
             "\n"
             "Exit status: 0 success, 1 the command failed, 2 usage or configuration error;\n"
             "a call that failed: 3 tool error, 4 unknown tool, 5 timeout or cancelled,\n"
             "6 server down or failed. SIGINT, SIGTERM or SIGHUP closes the servers, then\n"
             "ends mcpact by that signal (status 128 + N); a second one ends it at once.\n",
             s_usage_line, s_common_options);
}

static void
s_print_tools_help (FILE *out)
{
    fprintf (out,
             "usage: mcpact [OPTIONS] tools [--json | --format F [--strict]]\n"
             "\n"
             "List the tools the agent's LLM sees: every server's tools (less those its\n"
             "allowedTools, disabledTools or name conflicts leave out) and the function\n"
             "tools, as a table of NAME, SOURCE and DESCRIPTION.\n"
             "\n"
             "Options:\n"
             "      --json          print {\"schemaVersion\": 1, \"tools\": [MCP tool objects]}\n"
             "      --format F      print the tools as an LLM API takes them; F is openai,\n"
             "                      openai-responses, anthropic, gemini or mcp\n"
             "      --strict        with --format openai|openai-responses: strict schemas\n"
             "\n"
             "%s",
             s_common_options);
}

static void
s_print_call_help (FILE *out)
{
    fprintf (out,
             "usage: mcpact [OPTIONS] call TOOL [JSON-ARGS] [--json | --format F] [--timeout MS]\n"
             "\n"
             "Call one tool of the merged set. JSON-ARGS is a JSON object (default {}).\n"
             "On a terminal the result's text is printed, with images and other non-text\n"
             "content summarised in a line each; elsewhere the result as the LLM sees it.\n"
             "\n"
             "Options:\n"
             "      --json          print {\"schemaVersion\": 1, \"status\", \"result\"}: the\n"
             "                      MCP CallToolResult and how the call ended\n"
             "      --format F      print the result as the LLM API F takes it (openai,\n"
             "                      openai-responses, anthropic, gemini or mcp)\n"
             "      --timeout MS    wait at most MS milliseconds (0: the server's timeout)\n"
             "\n"
             "Exit status: 0 the tool succeeded, 3 it reported an error (isError), 4 no\n"
             "such tool, 5 timeout or cancelled, 6 its server is down or failed, 1 any\n"
             "other failure, 2 a usage error.\n"
             "\n"
             "%s",
             s_common_options);
}

static void
s_print_status_help (FILE *out)
{
    fprintf (out,
             "usage: mcpact [OPTIONS] status [--json] [-v]\n"
             "\n"
             "Start the servers and show each one's NAME, TRANSPORT, STATE, TOOLS (those\n"
             "the LLM sees), P50/P99 (how long its answers took: median, 99th percentile)\n"
             "and DETAIL (why it failed, its pid, counters, rejected tools).\n"
             "\n"
             "Options:\n"
             "      --json          print {\"schemaVersion\": 1, \"servers\": [...]}\n"
             "  -v, --verbose       also show the end of each server's stderr\n"
             "\n"
             "%s",
             s_common_options);
}

static void
s_print_bench_help (FILE *out)
{
    fprintf (out, "usage: mcpact bench init -c FILE [-r ROUNDS] [--agent NAME] [--json] [-q]\n"
                  "\n"
                  "Benchmarks of your own configuration:\n"
                  "  init    start the servers of FILE ROUNDS times and report how long each\n"
                  "          takes to be ready ('mcpact bench init --help' for its options)\n");
}

//  True if `name` is a command (`mcpact help NAME` knows it).
static bool
s_is_command (const char *name)
{
    static const char *const commands[] = { "tools", "call",  "status", "bench",
                                            "help",  "serve", "keygen" };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (streq (name, commands[i]))
            return true;
    return cli_resources_is_command (name);
}

//  The help of `command` (NULL or "help": the global help).
static void
s_print_command_help (const char *command, FILE *out)
{
    if (command && streq (command, "tools"))
        s_print_tools_help (out);
    else if (command && streq (command, "call"))
        s_print_call_help (out);
    else if (command && streq (command, "status"))
        s_print_status_help (out);
    else if (command && streq (command, "bench"))
        s_print_bench_help (out);
    else if (command && cli_resources_is_command (command)) {
        cli_resources_help (command, out);
        fprintf (out, "\n%s", s_common_options);
    } else if (command && (streq (command, "serve") || streq (command, "keygen"))) {
        //  Their own usage, from their own files (on stdout)
        char *args[] = { (char *) command, (char *) "--help", NULL };
        fflush (out);
        streq (command, "serve") ? cli_serve (2, args) : cli_keygen (2, args);
    } else
        s_print_help (out);
}

//  One line saying what was wrong, one saying where to look: enough to fix
//  a typo without scrolling past the whole help.
static int s_usage_error (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_usage_error (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fputs ("mcpact: ", stderr);
    vfprintf (stderr, format, args);
    va_end (args);
    fprintf (stderr, "\n%s\nTry 'mcpact --help' for more information.\n", s_usage_line);
    return CLI_USAGE;
}

//  --------------------------------------------------------------------------
//  Arguments. Options may come before or after the command, so that
//  `mcpact call echo '{}' --timeout 500` works; `--` ends them.

//  Matches a long option that takes a value, as "--name VALUE" or
//  "--name=VALUE". Returns 1 and sets *value on a match, 0 if `arg` is some
//  other option, -1 if the value is missing.
static int
s_long_value (const char *arg, const char *name, int argc, char *argv[], int *index,
              const char **value)
{
    size_t len = strlen (name);
    if (strncmp (arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*index + 1 >= argc)
        return -1;
    *value = argv[++*index];
    return 1;
}

//  Checks JSON-ARGS before anything starts: a typo in the arguments is the
//  user's to fix, and should not cost a round of server start-ups.
static int
s_check_args_json (const char *text)
{
    json_error_t error;
    json_t *args = json_loads (text, JSON_DECODE_ANY, &error);
    if (!args)
        return s_usage_error ("JSON-ARGS is not valid JSON: %s (column %d)", error.text,
                              error.column);
    bool is_object = json_is_object (args);
    json_decref (args);
    if (!is_object)
        return s_usage_error ("JSON-ARGS must be a JSON object, like '{\"text\": \"hi\"}'");
    return CLI_OK;
}

static int
s_missing_value (options_t *opts, const char *option)
{
    opts->exit_code = s_usage_error ("%s needs a value", option);
    return -1;
}

//  Fills `opts` from the command line. Returns 0 to run the command, or -1
//  when the run ends here (help, version, bad usage) with opts->exit_code.
static int
s_parse_args (int argc, char *argv[], options_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->args_json = "{}";
    opts->format = -1;

    const char *positional[3];
    int positional_count = 0;
    bool options_done = false;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        int match;

        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (positional_count < 3)
                positional[positional_count] = arg;
            positional_count++;
            if (opts->word_count < 64)
                opts->words[opts->word_count++] = arg;
        } else if (streq (arg, "--"))
            options_done = true;
        else if (arg[1] == '-') {
            if (streq (arg, "--json"))
                opts->json = true;
            else if (streq (arg, "--verbose"))
                opts->verbose++;
            else if (streq (arg, "--quiet"))
                opts->quiet = true;
            else if (streq (arg, "--strict"))
                opts->strict = true;
            else if (streq (arg, "--help"))
                opts->help = true;
            else if (streq (arg, "--version")) {
                printf ("mcpact %d.%d.%d (MCP %s)\n", MCPACT_VERSION_MAJOR, MCPACT_VERSION_MINOR,
                        MCPACT_VERSION_PATCH, MCPACT_PROTOCOL_VERSION);
                opts->exit_code = CLI_OK;
                return -1;
            } else if ((match = s_long_value (arg, "--config", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--config");
                opts->config_path = value;
            } else if ((match = s_long_value (arg, "--server-log", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--server-log");
                opts->server_log = value;
            } else if ((match = s_long_value (arg, "--server", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--server");
                opts->server = value;
            } else if ((match = s_long_value (arg, "--root", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--root");
                if (!opts->roots)
                    opts->roots = json_array ();
                json_array_append_new (opts->roots, json_string (value));
            } else if ((match = s_long_value (arg, "--connect", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--connect");
                if (opts->connect) {
                    opts->exit_code = s_usage_error (
                        "--connect is given twice (%s, %s): a command asks one daemon",
                        opts->connect, value);
                    return -1;
                }
                opts->connect = value;
            } else if ((match = s_long_value (arg, "--curve-key", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--curve-key");
                opts->curve_key = value;
            } else if ((match = s_long_value (arg, "--curve-server", argc, argv, &i, &value)) !=
                       0) {
                if (match < 0)
                    return s_missing_value (opts, "--curve-server");
                opts->server_cert = value;
            } else if ((match = s_long_value (arg, "--agent", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--agent");
                opts->agent_name = value;
            } else if ((match = s_long_value (arg, "--format", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--format");
                opts->format = mcpact_format_from_name (value);
                if (opts->format < 0) {
                    opts->exit_code = s_usage_error ("unknown format '%s'; use openai, "
                                                     "openai-responses, anthropic, gemini or mcp",
                                                     value);
                    return -1;
                }
            } else if ((match = s_long_value (arg, "--timeout", argc, argv, &i, &value)) != 0) {
                if (match < 0)
                    return s_missing_value (opts, "--timeout");
                char *end;
                errno = 0;
                long ms = strtol (value, &end, 10);
                if (errno || end == value || *end || ms < 0 || ms > INT_MAX) {
                    opts->exit_code = s_usage_error (
                        "--timeout wants milliseconds (a whole number >= 0), not '%s'", value);
                    return -1;
                }
                opts->timeout_ms = (int) ms;
                opts->timeout_set = true;
            } else {
                opts->exit_code = s_usage_error ("unknown option %s", arg);
                return -1;
            }
        } else {
            //  A cluster of short options: -vv, -vcFILE, -c FILE
            for (const char *c = arg + 1; *c; c++) {
                if (*c == 'v')
                    opts->verbose++;
                else if (*c == 'q')
                    opts->quiet = true;
                else if (*c == 'h')
                    opts->help = true;
                else if (*c == 'c') {
                    if (c[1])
                        value = c + 1;
                    else if (i + 1 < argc)
                        value = argv[++i];
                    if (!value)
                        return s_missing_value (opts, "-c");
                    opts->config_path = value;
                    break;
                } else {
                    opts->exit_code = s_usage_error ("unknown option -%c", *c);
                    return -1;
                }
            }
        }
    }

    if (opts->help) {
        //  `mcpact call --help`, `mcpact --help call`: the command's own
        //  (`mcpact call echo --help` too: the words after it do not count)
        const char *command = positional_count ? positional[0] : NULL;
        if (command && streq (command, "help"))
            command = positional_count > 1 ? positional[1] : NULL;
        if (command && !s_is_command (command)) {
            opts->exit_code = s_usage_error ("unknown command '%s'", command);
            return -1;
        }
        s_print_command_help (command, stdout);
        opts->exit_code = CLI_OK;
        return -1;
    }
    if (positional_count == 0) {
        //  A bare `mcpact` is someone finding out what it does: show it all
        s_print_help (stderr);
        opts->exit_code = CLI_USAGE;
        return -1;
    }
    opts->command = positional[0];
    if (streq (opts->command, "help")) {
        if (positional_count > 2) {
            opts->exit_code = s_usage_error ("help takes one COMMAND (got '%s' after '%s')",
                                             positional[2], positional[1]);
            return -1;
        }
        if (positional_count == 2 && !s_is_command (positional[1])) {
            opts->exit_code = s_usage_error ("unknown command '%s'", positional[1]);
            return -1;
        }
        s_print_command_help (positional_count > 1 ? positional[1] : NULL, stdout);
        opts->exit_code = CLI_OK;
        return -1;
    }
    if (streq (opts->command, "bench")) {
        //  `bench init` never gets here (main hands it over first)
        if (positional_count > 1)
            fprintf (stderr, "mcpact: unknown bench command '%s'\n", positional[1]);
        s_print_bench_help (stderr);
        opts->exit_code = CLI_USAGE;
        return -1;
    }
    if (streq (opts->command, "tools") || streq (opts->command, "status")) {
        if (positional_count > 1) {
            opts->exit_code =
                s_usage_error ("%s takes no arguments (got '%s')", opts->command, positional[1]);
            return -1;
        }
    } else if (streq (opts->command, "call")) {
        if (positional_count < 2) {
            opts->exit_code = s_usage_error ("call needs a TOOL name");
            return -1;
        }
        if (positional_count > 3) {
            opts->exit_code =
                s_usage_error ("call takes TOOL and one JSON-ARGS; quote the JSON as one argument");
            return -1;
        }
        opts->tool = positional[1];
        if (positional_count == 3)
            opts->args_json = positional[2];
        if ((opts->exit_code = s_check_args_json (opts->args_json)) != CLI_OK)
            return -1;
    } else if (cli_resources_is_command (opts->command)) {
        char buffer[256];
        const char *problem = cli_resources_check (opts->command, opts->words + 1,
                                                   opts->word_count - 1, buffer, sizeof buffer);
        if (problem) {
            opts->exit_code = s_usage_error ("%s", problem);
            return -1;
        }
    } else {
        opts->exit_code = s_usage_error ("unknown command '%s'", opts->command);
        return -1;
    }
    bool takes_timeout = streq (opts->command, "call") || streq (opts->command, "read") ||
                         streq (opts->command, "prompt");
    if (opts->timeout_set && !takes_timeout) {
        opts->exit_code = s_usage_error ("--timeout applies only to call, read and prompt");
        return -1;
    }
    if (opts->server && !cli_resources_is_command (opts->command)) {
        opts->exit_code =
            s_usage_error ("--server applies only to resources, read, prompts and prompt");
        return -1;
    }
    if (opts->server_log) {
        cli_server_log_t *probe = cli_server_log_new (opts->server_log, NULL);
        bool known = probe != NULL;
        cli_server_log_destroy (&probe);
        if (!known) {
            opts->exit_code =
                s_usage_error ("--server-log wants a level (debug, info, notice, "
                               "warning, error, critical, alert, emergency), not '%s'",
                               opts->server_log);
            return -1;
        }
    }
    if (opts->format >= 0 && cli_resources_is_command (opts->command)) {
        opts->exit_code = s_usage_error ("--format applies only to tools and call");
        return -1;
    }
    if (opts->format >= 0 && streq (opts->command, "status")) {
        opts->exit_code = s_usage_error ("--format applies only to tools and call");
        return -1;
    }
    //  The usage shows them as alternatives: one output each
    if (opts->format >= 0 && opts->json) {
        opts->exit_code = s_usage_error ("--json and --format are alternatives; give one");
        return -1;
    }
    if (opts->quiet && opts->verbose) {
        opts->exit_code = s_usage_error ("-q and -v are alternatives; give one");
        return -1;
    }
    //  --connect uses the daemon's servers: what would configure or start
    //  servers here has nothing to act on, and is said rather than
    //  ignored.
    if (opts->connect) {
        const char *local = opts->config_path  ? "-c FILE"
                            : opts->roots      ? "--root"
                            : opts->server_log ? "--server-log"
                                               : NULL;
        bool remote_command = streq (opts->command, "tools") || streq (opts->command, "call") ||
                              streq (opts->command, "status") ||
                              cli_resources_is_command (opts->command);
        if (local) {
            opts->exit_code = s_usage_error (
                "%s and --connect are alternatives: with --connect the daemon's servers, "
                "started from its own configuration, are used",
                local);
            return -1;
        }
        if (!remote_command) {
            opts->exit_code = s_usage_error (
                "--connect applies to tools, call, status, resources, read, prompts and "
                "prompt, not %s",
                opts->command);
            return -1;
        }
        //  The gateway's ipc:// endpoints are plain: a CURVE handshake
        //  there would never be answered.
        if (strncmp (opts->connect, "ipc://", 6) == 0 && (opts->curve_key || opts->server_cert)) {
            opts->exit_code = s_usage_error (
                "%s is ipc://: CURVE (--curve-key, --curve-server) is for tcp:// endpoints; "
                "an ipc:// socket is kept to its user by the file's mode",
                opts->connect);
            return -1;
        }
        char reason[1024];
        if (remote_endpoint_check (opts->connect, reason, sizeof reason)) {
            opts->exit_code = s_usage_error ("%s", reason);
            return -1;
        }
        if (!opts->curve_key != !opts->server_cert) {
            opts->exit_code = s_usage_error (
                opts->curve_key ? "--curve-key needs --curve-server (the daemon's public "
                                  "certificate) for CURVE"
                                : "--curve-server needs --curve-key (your key pair from mcpact "
                                  "keygen) for CURVE");
            return -1;
        }
        //  Looked at before CZMQ reads them: it would quote a line it
        //  cannot parse, and wait for ever on a FIFO.
        const char *option = NULL;
        if (opts->curve_key && curve_cert_check (opts->curve_key, true, reason, sizeof reason))
            option = "--curve-key";
        else if (opts->server_cert &&
                 curve_cert_check (opts->server_cert, false, reason, sizeof reason))
            option = "--curve-server";
        if (option) {
            //  The command was right; the file is not: no usage text.
            fprintf (stderr, "mcpact: %s: %s\n", option, reason);
            opts->exit_code = CLI_USAGE;
            return -1;
        }
    } else if (opts->curve_key || opts->server_cert) {
        opts->exit_code =
            s_usage_error ("--curve-key and --curve-server apply only with --connect");
        return -1;
    }
    //  Only OpenAI has a strict mode; asking for it elsewhere is a mistake
    //  worth saying rather than ignoring
    if (opts->strict &&
        (!streq (opts->command, "tools") || (opts->format != MCPACT_FORMAT_OPENAI &&
                                             opts->format != MCPACT_FORMAT_OPENAI_RESPONSES))) {
        opts->exit_code =
            s_usage_error ("--strict applies only to tools --format openai|openai-responses");
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  JSON helpers: the runtime's reports are read leniently, since a missing
//  field should cost a "-" in a table, not the whole command.

static const char *
s_json_string (json_t *object, const char *key, const char *fallback)
{
    const char *value = json_string_value (json_object_get (object, key));
    return value ? value : fallback;
}

//  Renders a scalar for a table cell into `buf`.
static const char *
s_json_scalar (json_t *value, char *buf, size_t size)
{
    if (json_is_string (value))
        return json_string_value (value);
    if (json_is_integer (value))
        snprintf (buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    else if (json_is_real (value))
        jsonnum_text (json_real_value (value), buf, size);
    else if (json_is_boolean (value))
        snprintf (buf, size, "%s", json_is_true (value) ? "true" : "false");
    else
        snprintf (buf, size, "-");
    return buf;
}

//  --------------------------------------------------------------------------
//  Tables: left-aligned columns two spaces apart, each cell on one line;
//  on a terminal the last column is cut (with an ellipsis) so that a row
//  fits the window.

typedef struct {
    size_t columns; //  cells per row
    size_t rows;    //  rows so far, the header included
    size_t room;    //  rows the cell array has space for
    char **cells;   //  rows x columns owned copies, row by row
    bool broken;    //  an allocation failed; printing will say so
} table_t;

static table_t *
s_table_new (size_t columns)
{
    assert (columns > 0 && columns <= TABLE_MAX_COLUMNS);
    table_t *self = calloc (1, sizeof *self);
    if (self)
        self->columns = columns;
    return self;
}

static void
s_table_destroy (table_t **self_p)
{
    table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->rows * self->columns; i++)
        free (self->cells[i]);
    free (self->cells);
    free (self);
    *self_p = NULL;
}

//  Appends a row of `columns` texts (NULL shows as "-"). An allocation
//  failure latches in self->broken, so callers need not check every row.
static void
s_table_add (table_t *self, const char *cells[])
{
    if (self->broken)
        return;
    if (self->rows == self->room) {
        size_t room = self->room ? self->room * 2 : 16;
        char **grown = realloc (self->cells, room * self->columns * sizeof *grown);
        if (!grown) {
            self->broken = true;
            return;
        }
        self->cells = grown;
        self->room = room;
    }
    char **row = self->cells + self->rows * self->columns;
    for (size_t col = 0; col < self->columns; col++) {
        row[col] = strdup (cells[col] ? cells[col] : "-");
        if (!row[col]) {
            while (col > 0)
                free (row[--col]);
            self->broken = true;
            return;
        }
    }
    self->rows++;
}

//  The first non-blank line of `text`, without surrounding blanks: a tool
//  description's first line is its summary, and the rest would break rows.
static const char *
s_first_line (const char *text, size_t *len)
{
    while (isspace ((unsigned char) *text))
        text++;
    size_t n = strcspn (text, "\r\n");
    while (n > 0 && isspace ((unsigned char) text[n - 1]))
        n--;
    *len = n;
    return text;
}

//  Terminal columns taken by UTF-8 text, counting one per character:
//  exact for the names and descriptions tools have in practice.
static size_t
s_columns (const char *text, size_t len)
{
    size_t columns = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char) text[i] & 0xC0) != 0x80)
            columns++;
    return columns;
}

//  Prints the first line of `text` in at most `width` columns, cutting at a
//  character boundary with an ellipsis; pads to `width` when asked.
static void
s_print_cell (FILE *out, const char *text, size_t width, bool pad)
{
    size_t len;
    text = s_first_line (text, &len);
    size_t columns = s_columns (text, len);
    bool cut = columns > width;
    size_t limit = cut ? (width > 0 ? width - 1 : 0) : columns;
    size_t printed = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char byte = (unsigned char) text[i];
        if ((byte & 0xC0) != 0x80) {
            if (printed == limit)
                break;
            printed++;
        }
        //  Tabs and other controls would wreck the alignment
        fputc (byte < 0x20 || byte == 0x7F ? ' ' : byte, out);
    }
    if (cut && width > 0) {
        fputs ("…", out);
        printed++;
    }
    if (pad)
        for (; printed < width; printed++)
            fputc (' ', out);
}

//  The width a table may take on `out`: its window's on a terminal, else
//  0, no limit (a script or a log gets every cell whole).
static size_t
s_table_width (FILE *out)
{
    struct winsize size;
    if (!isatty (fileno (out)))
        return 0;
    if (ioctl (fileno (out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 80;
}

static int
s_table_print (table_t *self, FILE *out)
{
    if (self->broken)
        return -1;
    size_t widths[TABLE_MAX_COLUMNS];
    size_t used = 0;
    for (size_t col = 0; col < self->columns; col++) {
        widths[col] = 0;
        for (size_t row = 0; row < self->rows; row++) {
            size_t len;
            const char *line = s_first_line (self->cells[row * self->columns + col], &len);
            size_t columns = s_columns (line, len);
            if (columns > widths[col])
                widths[col] = columns;
        }
        if (col + 1 < self->columns)
            used += widths[col] + 2;
    }
    size_t last = self->columns - 1;
    size_t width = s_table_width (out);
    size_t room = used + TABLE_LAST_MIN < width ? width - used : TABLE_LAST_MIN;
    if (width && widths[last] > room)
        widths[last] = room;

    for (size_t row = 0; row < self->rows; row++) {
        char **cells = self->cells + row * self->columns;
        //  Pad only up to the last non-empty cell: no trailing blanks
        size_t end = self->columns;
        while (end > 1 && *cells[end - 1] == '\0')
            end--;
        for (size_t col = 0; col < end; col++) {
            if (col > 0)
                fputs ("  ", out);
            s_print_cell (out, cells[col], widths[col], col + 1 < end);
        }
        fputc ('\n', out);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  The built-in default: the example server and one function tool.

//  Counts whitespace-separated words. Runs on a runtime worker thread,
//  possibly several at once: it keeps no state.
static int
s_word_count (const char *args_json, char **output, void *arg)
{
    (void) arg;
    json_t *args = args_json ? json_loads (args_json, 0, NULL) : NULL;
    const char *text = json_string_value (json_object_get (args, "text"));
    if (!text) {
        json_decref (args);
        *output = strdup ("word_count: \"text\" must be a string");
        return -1;
    }
    size_t words = 0;
    bool in_word = false;
    for (const char *c = text; *c; c++) {
        bool space = isspace ((unsigned char) *c);
        if (!space && !in_word)
            words++;
        in_word = !space;
    }
    json_decref (args);

    char buf[48];
    snprintf (buf, sizeof buf, "{\"words\": %zu}", words);
    *output = strdup (buf);
    return *output ? 0 : -1;
}

//  The example server sits beside this program in a build tree and in an
//  install alike, so look there first: that works without any PATH set-up.
//  Otherwise leave it to the PATH search done when the server is spawned.
static void
s_example_server_path (char *path, size_t size)
{
    ssize_t len = readlink ("/proc/self/exe", path, size);
    if (len > 0 && (size_t) len < size) {
        path[len] = '\0';
        char *slash = strrchr (path, '/');
        if (slash) {
            size_t dir_len = (size_t) (slash - path) + 1;
            if (dir_len + strlen (EXAMPLE_SERVER) < size) {
                strcpy (slash + 1, EXAMPLE_SERVER);
                if (access (path, X_OK) == 0)
                    return;
            }
        }
    }
    snprintf (path, size, "%s", EXAMPLE_SERVER);
}

static mcpact_session_t *
s_default_session (mcpact_runtime_t *runtime)
{
    mcpact_session_t *session = mcpact_session_new (runtime);
    if (!session)
        return NULL;

    char command[PATH_MAX];
    s_example_server_path (command, sizeof command);
    mcpact_server_config_t *server = mcpact_server_stdio_new ("example", command);
    int rc = server ? mcpact_session_add_server (session, &server) : -1;
    if (rc)
        mcpact_server_config_destroy (&server); //  still ours on failure
    if (rc == 0)
        rc = mcpact_session_add_function (
            session, "word_count", "Count the words in a text.",
            "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\","
            "\"description\":\"The text to count words in.\"}},\"required\":[\"text\"]}",
            s_word_count, NULL);
    if (rc)
        mcpact_session_destroy (&session);
    return session;
}

//  --------------------------------------------------------------------------
//  Start-up

//  Prints "a, b, c" from a JSON array of strings.
static void
s_print_names (FILE *out, json_t *names)
{
    size_t index;
    json_t *name;
    json_array_foreach (names, index, name) {
        const char *text = json_string_value (name);
        fprintf (out, "%s%s", index ? ", " : "", text ? text : "?");
    }
}

//  --agent named something the file does not declare: list what it does
//  declare, since that is what the user needs next.
static int
s_unknown_agent (cli_t *self)
{
    const char *name = self->opts->agent_name;
    const char *origin = self->opts->config_path;
    char *text = mcpact_session_agent_names (self->session);
    json_t *names = text ? json_loads (text, 0, NULL) : NULL;
    free (text);

    size_t index;
    json_t *known;
    json_array_foreach (names, index, known) {
        if (json_is_string (known) && streq (json_string_value (known), name)) {
            //  It is declared, so this is not the user's mistake
            json_decref (names);
            fprintf (stderr, "mcpact: could not create agent '%s'\n", name);
            return CLI_FAILED;
        }
    }
    if (!origin)
        fprintf (stderr,
                 "mcpact: no agent '%s': the built-in default declares no agents; "
                 "give a configuration with -c FILE\n",
                 name);
    else if (json_array_size (names) == 0)
        fprintf (stderr, "mcpact: no agent '%s': %s declares no agents\n", name, origin);
    else {
        fprintf (stderr, "mcpact: no agent '%s' in %s; its agents are: ", name, origin);
        s_print_names (stderr, names);
        fputc ('\n', stderr);
    }
    json_decref (names);
    return CLI_USAGE;
}

//  --root DIR ...: added to the session's roots (the file's top-level
//  "roots", if any). An agent or a server with roots of its own in the
//  file keeps them (they replace its owner's, as documented); that is
//  said, so that a --root that reaches nobody is not silent. Each DIR is
//  checked here, one clear error for one that is not a root, and a
//  warning for one that is not an existing directory (it may be made
//  later).
static int
s_add_roots (cli_t *self)
{
    const options_t *opts = self->opts;
    const config_t *config = self->session->config;
    char *error = NULL;
    json_t *roots = config && config->roots ? json_loads (config->roots, 0, NULL) : NULL;
    if (!json_is_array (roots)) {
        json_decref (roots);
        roots = json_array ();
    }
    size_t index;
    json_t *given;
    json_array_foreach (opts->roots, index, given) {
        const char *dir = json_string_value (given);
        json_t *entry = roots_entry (dir, NULL, &error);
        if (!entry) {
            fprintf (stderr, "mcpact: --root %s: %s\n", dir, error ? error : "out of memory");
            free (error);
            json_decref (roots);
            return CLI_USAGE;
        }
        char *problem = roots_problem (json_string_value (json_object_get (entry, "uri")));
        if (problem)
            fprintf (stderr, "mcpact: warning: --root %s: %s (offered all the same)\n", dir,
                     problem);
        free (problem);
        json_array_append_new (roots, entry);
    }
    char *text = json_dumps (roots, JSON_COMPACT);
    json_decref (roots);
    int rc = text ? mcpact_session_set_roots (self->session, text) : -1;
    free (text);
    if (rc != 0)
        return CLI_FAILED;
    //  Who is not offered --root: the agent's own servers if the agent
    //  has roots of its own, and any server with its own.
    const config_agent_t *agent = NULL;
    for (size_t i = 0; config && opts->agent_name && i < config->agents_count; i++)
        if (strcmp (config->agents[i].name, opts->agent_name) == 0)
            agent = &config->agents[i];
    bool own = agent && agent->servers_count > 0;
    if (own && agent->roots)
        fprintf (stderr,
                 "mcpact: warning: --root: agent %s has \"roots\" of its own; its servers are "
                 "offered those, not --root\n",
                 agent->name);
    mcpact_server_config_t **servers = own ? agent->servers : config ? config->servers : NULL;
    size_t count = own ? agent->servers_count : config ? config->servers_count : 0;
    for (size_t i = 0; i < count; i++)
        if (servers[i]->roots)
            fprintf (stderr,
                     "mcpact: warning: --root: server %s has \"roots\" of its own; it is offered "
                     "those, not --root\n",
                     servers[i]->name);
    return CLI_OK;
}

//  Creates the runtime, the session and the agent. Returns an exit code.
static int
s_open (cli_t *self)
{
    const options_t *opts = self->opts;
    self->runtime = mcpact_runtime_new ();
    if (!self->runtime) {
        fprintf (stderr, "mcpact: could not start the runtime\n");
        return CLI_FAILED;
    }
    if (opts->config_path) {
        char *error = NULL;
        mcpact_set_input_fn (s_ask_input, NULL);
        self->session = mcpact_session_load (self->runtime, opts->config_path, &error);
        if (!self->session) {
            fprintf (stderr, "mcpact: %s\n", error ? error : "could not load the configuration");
            free (error);
            return CLI_USAGE;
        }
    } else {
        self->session = s_default_session (self->runtime);
        if (!self->session) {
            fprintf (stderr, "mcpact: could not set up the built-in default session\n");
            return CLI_FAILED;
        }
    }
    if (opts->agent_name) {
        self->agent = mcpact_agent_from_config (self->session, opts->agent_name);
        if (!self->agent)
            return s_unknown_agent (self);
    } else {
        //  An agent without servers of its own uses the session's
        self->agent = mcpact_agent_new (self->session, NULL);
        if (!self->agent) {
            fprintf (stderr, "mcpact: could not create the agent\n");
            return CLI_FAILED;
        }
    }
    mcpact_agent_set_progress (self->agent, display_event, self->display);
    if (opts->server_log) {
        //  The session's servers, or the agent's own: both are set.
        self->logs = cli_server_log_new (opts->server_log, self->display);
        mcpact_session_set_server_log (self->session, cli_server_log_print, self->logs);
        mcpact_agent_set_server_log (self->agent, cli_server_log_print, self->logs);
    }
    //  The session's roots and handler serve the agent's own servers too.
    mcpact_session_set_elicitation (self->session, cli_elicit, NULL, MCPACT_ELICIT_FORM);
    return opts->roots ? s_add_roots (self) : CLI_OK;
}

//  Starts the agent's servers, with the display showing them. Failures
//  and rejected tools are always said (a missing tool would otherwise have
//  no explanation), but do not fail the command: the agent works with the
//  servers that did start. The report is kept for the status table.
static int
s_start (cli_t *self)
{
    //  Listed before they start, so that a terminal shows them all at once
    json_t *names = NULL;
    if (self->opts->config_path) {
        char *text = mcpact_session_server_names (self->session, self->opts->agent_name);
        names = text ? json_loads (text, 0, NULL) : NULL;
        free (text);
    } else
        names = json_pack ("[s]", "example");
    display_begin (self->display, names);
    json_decref (names);

    char *text = mcpact_agent_start (self->agent);
    json_error_t error;
    self->report = text ? json_loads (text, 0, &error) : NULL;
    display_end (self->display, self->report);
    if (!text) {
        fprintf (stderr, "mcpact: the runtime is gone; nothing was started\n");
        return CLI_FAILED;
    }
    free (text);
    if (!self->report)
        fprintf (stderr, "mcpact: unreadable start report: %s\n", error.text);
    return CLI_OK;
}

static void
s_close (cli_t *self)
{
    cli_elicit_end ("mcpact is closing");
    remote_destroy (&self->remote);
    mcpact_agent_destroy (&self->agent);
    mcpact_session_destroy (&self->session);
    mcpact_runtime_destroy (&self->runtime);
    //  No log callback runs once the session is gone.
    cli_server_log_destroy (&self->logs);
    json_decref (self->report);
    self->report = NULL;
}

//  --------------------------------------------------------------------------
//  Signals. SIGINT, SIGTERM and SIGHUP end the run the way it ends anyway
//  (every server closed in order: stdin, SIGTERM, SIGKILL, for its whole
//  process group), then end mcpact by the same signal, so that a shell or
//  a supervisor sees what happened. The runtime installs no handlers: it
//  is the host's business, and this is the host. A handler would cut the
//  main thread's blocking calls short (EINTR inside the runtime), so the
//  signals are blocked in every thread instead (the runtime's threads
//  inherit the mask, so it is set before they start) and one thread takes
//  them with sigwait. It tells the main thread of the first through a
//  pipe the call waits on beside its result; a second one ends mcpact at
//  once, leaving the servers to their parent-death signal.

typedef struct {
    sigset_t set;        //  the signals we take (not those ignored at start)
    int pipe[2];         //  written once, at the first signal
    atomic_int received; //  the first signal; 0 until then
    bool pipe_blocked;   //  SIGPIPE is blocked in main: a closed stdout gives EPIPE
    bool remote;         //  --connect: no servers of ours to close
} signals_t;

static signals_t s_signals = { .pipe = { -1, -1 } };

//  Ends the process by `sig` as if it had not been caught.
static _Noreturn void
s_die_by (int sig)
{
    struct sigaction defaults = { .sa_handler = SIG_DFL };
    sigaction (sig, &defaults, NULL);
    sigset_t one;
    sigemptyset (&one);
    sigaddset (&one, sig);
    pthread_sigmask (SIG_UNBLOCK, &one, NULL);
    //  raise directs it at this thread, where it is now unblocked
    raise (sig);
    _exit (128 + sig);
}

static void *
s_signal_thread (void *arg)
{
    (void) arg;
    while (true) {
        int sig;
        if (sigwait (&s_signals.set, &sig) != 0)
            return NULL;
        int first = 0;
        if (atomic_compare_exchange_strong (&s_signals.received, &first, sig)) {
            const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
            fprintf (stderr, "mcpact: %s: %s (again to quit at once)\n", name,
                     s_signals.remote ? "stopping" : "closing the servers");
            ssize_t rc = write (s_signals.pipe[1], "", 1);
            (void) rc;
        } else
            s_die_by (sig);
    }
    return NULL;
}

//  Takes SIGINT, SIGTERM and SIGHUP away from every thread to come, and
//  starts the thread that waits for them. A signal ignored when we started
//  (nohup, a background job) stays ignored, as the caller asked.
static void
s_signals_start (void)
{
    sigemptyset (&s_signals.set);
    const int wanted[] = { SIGINT, SIGTERM, SIGHUP };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        struct sigaction current;
        if (sigaction (wanted[i], NULL, &current) == 0 && current.sa_handler != SIG_IGN)
            sigaddset (&s_signals.set, wanted[i]);
    }
    //  A reader that goes away (`mcpact tools | head -1`) must not end us
    //  before the servers are closed either: with SIGPIPE blocked the
    //  write fails with EPIPE instead, and main ends by SIGPIPE later.
    //  Only if not ignored: then it stays so, and EPIPE is a plain error.
    struct sigaction pipe_action;
    if (sigaction (SIGPIPE, NULL, &pipe_action) == 0 && pipe_action.sa_handler != SIG_IGN) {
        sigset_t pipe_set;
        sigemptyset (&pipe_set);
        sigaddset (&pipe_set, SIGPIPE);
        pthread_sigmask (SIG_BLOCK, &pipe_set, NULL);
        s_signals.pipe_blocked = true;
    }
    if (sigisemptyset (&s_signals.set))
        return;
    pthread_t thread;
    if (pipe2 (s_signals.pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
        pthread_sigmask (SIG_BLOCK, &s_signals.set, NULL) != 0 ||
        pthread_create (&thread, NULL, s_signal_thread, NULL) != 0) {
        //  Without the thread the signals keep their default: mcpact dies
        //  at once and its servers get their parent-death signal.
        pthread_sigmask (SIG_UNBLOCK, &s_signals.set, NULL);
        fprintf (stderr, "mcpact: cannot watch for signals: %s\n", strerror (errno));
        return;
    }
    pthread_detach (thread);
}

//  The first signal taken, or 0.
static int
s_signalled (void)
{
    return atomic_load (&s_signals.received);
}

//  --------------------------------------------------------------------------
//  Commands; each returns an exit code.

//  Prints a --json output (taking `root`) on one line. Returns an exit code.
static int
s_print_json (json_t *root)
{
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    if (!text) {
        fprintf (stderr, "mcpact: out of memory\n");
        return CLI_FAILED;
    }
    puts (text);
    free (text);
    return CLI_OK;
}

//  The agent a --connect request names: "" for the default one.
static const char *
s_remote_agent (cli_t *self)
{
    return self->opts->agent_name ? self->opts->agent_name : "";
}

static int
s_cmd_tools (cli_t *self)
{
    const options_t *opts = self->opts;
    char *remote_error = NULL;
    char *text = self->remote ? remote_tools (self->remote, s_remote_agent (self), opts->format,
                                              opts->strict, &remote_error)
                 : opts->format >= 0
                     ? mcpact_agent_tools_as (self->agent, (mcpact_format_t) opts->format,
                                              opts->strict ? MCPACT_FORMAT_STRICT : 0)
                     : mcpact_agent_tools (self->agent);
    if (!text) {
        fprintf (stderr, "mcpact: could not list the tools%s%s\n", remote_error ? ": " : "",
                 remote_error ? remote_error : "");
        free (remote_error);
        return CLI_FAILED;
    }
    if (opts->format >= 0) {
        puts (text);
        free (text);
        return CLI_OK;
    }
    json_error_t error;
    json_t *tools = json_loads (text, 0, &error);
    free (text);
    if (!json_is_array (tools)) {
        fprintf (stderr, "mcpact: unreadable tool list: %s\n", tools ? "not an array" : error.text);
        json_decref (tools);
        return CLI_FAILED;
    }
    if (opts->json)
        return s_print_json (
            json_pack ("{s:i,s:o}", "schemaVersion", CLI_JSON_SCHEMA_VERSION, "tools", tools));
    table_t *table = s_table_new (3);
    if (table)
        s_table_add (table, (const char *[]){ "NAME", "SOURCE", "DESCRIPTION" });
    size_t index;
    json_t *tool;
    json_array_foreach (tools, index, tool) {
        if (!table)
            break;
        //  "_mcpact" says where a tool comes from; older runtimes omit it
        json_t *origin = json_object_get (tool, "_mcpact");
        const char *source = json_string_value (json_object_get (origin, "server"));
        if (!source && json_is_true (json_object_get (origin, "function")))
            source = "(function)";
        s_table_add (table,
                     (const char *[]){ s_json_string (tool, "name", "?"), source ? source : "-",
                                       s_json_string (tool, "description", "") });
    }
    json_decref (tools);
    int rc = table ? s_table_print (table, stdout) : -1;
    s_table_destroy (&table);
    if (rc) {
        fprintf (stderr, "mcpact: out of memory\n");
        return CLI_FAILED;
    }
    return CLI_OK;
}

//  What a status row says beyond the columns: why a server is down, and
//  the counters worth a glance (zeros left out). The reason is whole, on
//  one line (a break in it becomes " / "). Malloc'ed, or NULL.
static char *
s_status_detail (json_t *server)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    const char *sep = "";
    for (const char *p = s_json_string (server, "error", ""); *p; p++, sep = "; ")
        if (*p == '\n')
            fputs (" / ", out);
        else if (*p != '\r')
            fputc (*p, out);
    size_t rejected = json_array_size (json_object_get (server, "rejectedTools"));
    if (rejected) {
        fprintf (out, "%s%zu tool%s rejected", sep, rejected, rejected == 1 ? "" : "s");
        sep = ", ";
    }
    //  Where it is: a process, a URL, a group's endpoint.
    json_int_t pid = json_integer_value (json_object_get (server, "pid"));
    json_t *group = json_object_get (server, "group");
    const char *url = s_json_string (server, "url", "");
    if (pid) {
        fprintf (out, "%spid %" JSON_INTEGER_FORMAT, sep, pid);
        sep = ", ";
    } else if (*url) {
        fprintf (out, "%s%s", sep, url);
        sep = ", ";
    } else if (json_is_object (group)) {
        const char *agent = s_json_string (group, "agent", "");
        fprintf (out, "%s%s%s%s%s%s", sep, s_json_string (group, "endpoint", "?"),
                 *agent ? " agent " : "", agent,
                 json_is_true (json_object_get (group, "curve")) ? " (CURVE)" : "",
                 json_is_true (json_object_get (group, "connected")) ? "" : ", not connected");
        sep = ", ";
    }
    json_t *results = json_object_get (server, "results");
    static const struct {
        const char *key;  //  status field, a count
        const char *one;  //  what it counts, singular
        const char *many; //  and plural
        bool result;      //  a key of "results"
    } counters[] = { { "calls", "call", "calls", false },
                     { "errors", "error", "errors", false },
                     { "timeout", "timeout", "timeouts", true },
                     { "cancelled", "cancelled", "cancelled", true },
                     { "restarts", "restart", "restarts", false } };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        json_int_t value = json_integer_value (
            json_object_get (counters[i].result ? results : server, counters[i].key));
        if (value) {
            fprintf (out, "%s%" JSON_INTEGER_FORMAT " %s", sep, value,
                     value == 1 ? counters[i].one : counters[i].many);
            sep = ", ";
        }
    }
    if (fclose (out) != 0) {
        free (text);
        return NULL;
    }
    return text;
}

//  A latency in µs as people read it: 850µs, 1.2ms, 45ms, 3.1s.
static void
s_format_us (json_int_t us, char *buf, size_t size)
{
    if (us < 1000)
        snprintf (buf, size, "%" JSON_INTEGER_FORMAT "µs", us);
    else if (us < 10000)
        snprintf (buf, size, "%.1fms", (double) us / 1000);
    else if (us < 1000000)
        snprintf (buf, size, "%" JSON_INTEGER_FORMAT "ms", us / 1000);
    else
        snprintf (buf, size, "%.1fs", (double) us / 1000000);
}

//  The P50/P99 column: the median and 99th percentile of the answers'
//  latency, or "-" before the first answer.
static void
s_status_latency (json_t *server, char *buf, size_t size)
{
    json_t *latency = json_object_get (server, "latencyUs");
    if (json_integer_value (json_object_get (latency, "answers")) <= 0) {
        snprintf (buf, size, "-");
        return;
    }
    char p50[32], p99[32];
    s_format_us (json_integer_value (json_object_get (latency, "p50")), p50, sizeof p50);
    s_format_us (json_integer_value (json_object_get (latency, "p99")), p99, sizeof p99);
    snprintf (buf, size, "%s/%s", p50, p99);
}

//  The start report's entry for server `name`, or NULL.
static json_t *
s_report_entry (cli_t *self, const char *name)
{
    size_t index;
    json_t *server;
    json_array_foreach (json_object_get (self->report, "servers"), index, server) {
        const char *entry_name = json_string_value (json_object_get (server, "name"));
        if (entry_name && streq (entry_name, name))
            return server;
    }
    return NULL;
}

//  Adds to each status entry what the agent makes of the server's tools:
//  "visibleTools", how many of them the LLM sees (the server's "tools"
//  counts what it listed), and "rejectedTools", those the name policy
//  turned away, from the start report.
static void
s_status_add_visible (cli_t *self, json_t *servers)
{
    char *error = NULL;
    char *text = self->remote
                     ? remote_tools (self->remote, s_remote_agent (self), -1, false, &error)
                     : mcpact_agent_tools (self->agent);
    free (error);
    json_t *tools = text ? json_loads (text, 0, NULL) : NULL;
    free (text);
    size_t index;
    json_t *server;
    json_array_foreach (servers, index, server) {
        const char *name = s_json_string (server, "name", "");
        json_int_t visible = 0;
        size_t tool_index;
        json_t *tool;
        json_array_foreach (tools, tool_index, tool) {
            const char *owner =
                json_string_value (json_object_get (json_object_get (tool, "_mcpact"), "server"));
            visible += owner && streq (owner, name);
        }
        json_object_set_new (server, "visibleTools", json_integer (visible));
        //  The status says it (also through a gateway); the report for
        //  a gateway that does not.
        json_t *rejected = json_object_get (s_report_entry (self, name), "rejected");
        if (!json_object_get (server, "rejectedTools"))
            json_object_set_new (server, "rejectedTools",
                                 rejected ? json_deep_copy (rejected) : json_array ());
    }
    json_decref (tools);
}

static int
s_cmd_status (cli_t *self)
{
    char *remote_error = NULL;
    char *text = self->remote ? remote_status (self->remote, s_remote_agent (self), &remote_error)
                              : mcpact_agent_status (self->agent);
    if (!text) {
        fprintf (stderr, "mcpact: could not get the status%s%s\n", remote_error ? ": " : "",
                 remote_error ? remote_error : "");
        free (remote_error);
        return CLI_FAILED;
    }
    json_error_t error;
    json_t *servers = json_loads (text, 0, &error);
    free (text);
    if (!json_is_array (servers)) {
        fprintf (stderr, "mcpact: unreadable status: %s\n", servers ? "not an array" : error.text);
        json_decref (servers);
        return CLI_FAILED;
    }
    s_status_add_visible (self, servers);
    if (self->opts->json)
        return s_print_json (
            json_pack ("{s:i,s:o}", "schemaVersion", CLI_JSON_SCHEMA_VERSION, "servers", servers));
    table_t *table = s_table_new (6);
    if (table)
        s_table_add (
            table, (const char *[]){ "NAME", "TRANSPORT", "STATE", "TOOLS", "P50/P99", "DETAIL" });
    size_t index;
    json_t *server;
    json_array_foreach (servers, index, server) {
        if (!table)
            break;
        char transport[32], tools[32], latency[72];
        char *detail = s_status_detail (server);
        s_status_latency (server, latency, sizeof latency);
        s_table_add (
            table,
            (const char *[]){
                s_json_string (server, "name", "?"),
                s_json_scalar (json_object_get (server, "transport"), transport, sizeof transport),
                s_json_string (server, "state", "?"),
                s_json_scalar (json_object_get (server, "visibleTools"), tools, sizeof tools),
                latency, detail });
        free (detail);
    }
    int rc = table ? s_table_print (table, stdout) : -1;
    s_table_destroy (&table);

    //  A server's own stderr is usually where the real reason for a failure
    //  is, but it is long: only on request
    if (rc == 0 && self->opts->verbose > 0) {
        json_array_foreach (servers, index, server) {
            char *tail = display_safe (s_json_string (server, "stderr", ""));
            if (tail && *tail) {
                printf ("\n%s stderr:\n", s_json_string (server, "name", "?"));
                for (const char *line = tail; *line;) {
                    size_t len = strcspn (line, "\n");
                    printf ("  %.*s\n", (int) len, line);
                    line += len + (line[len] == '\n');
                }
            }
            free (tail);
        }
    }
    json_decref (servers);
    if (rc) {
        fprintf (stderr, "mcpact: out of memory\n");
        return CLI_FAILED;
    }
    return CLI_OK;
}

//  Prints `text` on stdout as one or more whole lines; on a terminal,
//  made safe first (what goes to a script stays exact).
static void
s_print_text (const char *text)
{
    if (!text || !*text)
        return;
    char *safe = isatty (STDOUT_FILENO) ? display_safe (text) : NULL;
    fputs (safe ? safe : text, stdout);
    if (text[strlen (text) - 1] != '\n')
        fputc ('\n', stdout);
    free (safe);
}

//  How long a call cancelled by a signal may take to say so, before we
//  close anyway.
#define CANCEL_WAIT_MS 2000

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  mcpact_agent_call, but one a signal can end: it waits on the caller's
//  descriptor and on the signal pipe together. On a signal the call is
//  cancelled (the server is sent notifications/cancelled), and NULL comes
//  back once the runtime has said so or CANCEL_WAIT_MS has passed. The
//  caller is destroyed here, before its agent, as it must be.
static mcpact_result_t *
s_call (cli_t *self)
{
    const options_t *opts = self->opts;
    if (self->remote)
        return remote_call (self->remote, s_remote_agent (self), opts->tool, opts->args_json,
                            opts->timeout_ms, s_signals.pipe[0]);
    mcpact_caller_t *caller = mcpact_caller_new (self->agent);
    if (!caller)
        return mcpact_agent_call (self->agent, opts->tool, opts->args_json, opts->timeout_ms);
    int64_t id = mcpact_caller_send (caller, opts->tool, opts->args_json, opts->timeout_ms);
    mcpact_result_t *result = NULL;
    int64_t give_up = 0; //  once cancelled: when to stop waiting for its answer
    while (!(result = mcpact_caller_next (caller, 0))) {
        int64_t now = s_now_ms ();
        if (give_up && now >= give_up)
            break;
        //  The caller checks deadlines of its own in _next: look again at
        //  least once a second. The signal pipe is read by nobody: once it
        //  is readable, it stays so.
        struct pollfd fds[2] = { { mcpact_caller_fd (caller), POLLIN, 0 },
                                 { s_signals.pipe[0], POLLIN, 0 } };
        int timeout = give_up && give_up - now < 1000 ? (int) (give_up - now) : 1000;
        if (poll (fds, give_up ? 1 : 2, timeout) < 0 && errno != EINTR)
            break;
        if (!give_up && s_signalled ()) {
            if (id > 0)
                mcpact_caller_cancel (caller, id);
            give_up = s_now_ms () + CANCEL_WAIT_MS;
        }
    }
    mcpact_caller_destroy (&caller);
    char why[512];
    snprintf (why, sizeof why, "the call ended: %s",
              s_signalled () || !result ? "cancelled"
              : mcpact_result_status (result) == MCPACT_OK ||
                      mcpact_result_status (result) == MCPACT_ERR_TOOL
                  ? "the server answered"
                  : mcpact_result_error (result));
    cli_elicit_end (why);
    if (s_signalled ())
        mcpact_result_destroy (&result);
    return result;
}

//  A CallToolResult for a person: each text as it is, anything else in a
//  line of its own saying what it is ("[image image/png, 12 KiB]").
static void
s_print_human (const char *result_json)
{
    json_t *result = json_loads (result_json ? result_json : "", 0, NULL);
    json_t *content = json_object_get (result, "content");
    size_t index;
    json_t *item;
    json_array_foreach (content, index, item) {
        const char *type = s_json_string (item, "type", "?");
        char size[32];
        if (streq (type, "text"))
            s_print_text (s_json_string (item, "text", ""));
        else if (streq (type, "image") || streq (type, "audio")) {
            display_data_size (s_json_string (item, "data", ""), size, sizeof size);
            char *mime = display_safe (s_json_string (item, "mimeType", "?"));
            printf ("[%s %s, %s]\n", type, mime ? mime : "?", size);
            free (mime);
        } else if (streq (type, "resource_link")) {
            char *uri = display_safe (s_json_string (item, "uri", "?"));
            printf ("[resource link %s]\n", uri ? uri : "?");
            free (uri);
        } else if (streq (type, "resource")) {
            json_t *resource = json_object_get (item, "resource");
            const char *text = s_json_string (resource, "text", NULL);
            if (text)
                s_print_text (text);
            else {
                display_data_size (s_json_string (resource, "blob", ""), size, sizeof size);
                char *uri = display_safe (s_json_string (resource, "uri", "?"));
                char *mime = display_safe (s_json_string (resource, "mimeType", "?"));
                printf ("[resource %s %s, %s]\n", uri ? uri : "?", mime ? mime : "?", size);
                free (uri);
                free (mime);
            }
        } else {
            char *safe = display_safe (type);
            printf ("[%s content]\n", safe ? safe : "?");
            free (safe);
        }
    }
    //  Structured content alone (no content items) is still worth showing
    json_t *structured = json_object_get (result, "structuredContent");
    if (json_array_size (content) == 0 && structured) {
        char *text = json_dumps (structured, JSON_INDENT (2));
        s_print_text (text);
        free (text);
    } else if (json_array_size (content) == 0)
        printf ("[no content]\n");
    json_decref (result);
}

//  How a call ended, for --json and the exit status.
static const struct {
    const char *name; //  "status" in --json
    int exit_code;    //  exit status of `mcpact call`
} s_call_statuses[] = {
    [MCPACT_OK] = { "ok", CLI_OK },
    [MCPACT_ERR_TOOL] = { "tool_error", CLI_TOOL_ERROR },
    [MCPACT_ERR_UNKNOWN_TOOL] = { "unknown_tool", CLI_UNKNOWN_TOOL },
    [MCPACT_ERR_TIMEOUT] = { "timeout", CLI_TIMEOUT },
    [MCPACT_ERR_SERVER] = { "server_error", CLI_SERVER_DOWN },
    [MCPACT_ERR_PROTOCOL] = { "protocol_error", CLI_FAILED },
    [MCPACT_ERR_ARGS] = { "bad_arguments", CLI_FAILED },
    [MCPACT_ERR_INTERNAL] = { "internal_error", CLI_FAILED },
    [MCPACT_ERR_CANCELLED] = { "cancelled", CLI_TIMEOUT },
    [MCPACT_ERR_BUSY] = { "busy", CLI_FAILED },
};
#define CALL_STATUSES (sizeof s_call_statuses / sizeof s_call_statuses[0])

static int
s_cmd_call (cli_t *self)
{
    const options_t *opts = self->opts;
    mcpact_result_t *result = s_call (self);
    if (!result && s_signalled ())
        return CLI_FAILED;
    mcpact_status_t status = mcpact_result_status (result);
    bool known = (unsigned) status < CALL_STATUSES;
    //  The tool ran, so the result is the server's (an error result too)
    bool ran = status == MCPACT_OK || status == MCPACT_ERR_TOOL;

    //  In an LLM API's shape every failure is a message for the LLM. The
    //  call id is made up, as there was no LLM to make one; Gemini's is
    //  optional, so it gets none rather than a fake.
    if (opts->format >= 0) {
        const char *call_id = opts->format == MCPACT_FORMAT_GEMINI ? NULL : "call_1";
        char *message =
            mcpact_result_as (result, (mcpact_format_t) opts->format, call_id, opts->tool);
        s_print_text (message);
        free (message);
    } else if (opts->json) {
        json_t *root =
            json_pack ("{s:i,s:s,s:s}", "schemaVersion", CLI_JSON_SCHEMA_VERSION, "tool",
                       opts->tool, "status", known ? s_call_statuses[status].name : "unknown");
        if (root && !ran && mcpact_result_error (result))
            json_object_set_new (root, "error", json_string (mcpact_result_error (result)));
        json_t *mcp = ran ? json_loads (mcpact_result_json (result), 0, NULL) : NULL;
        if (root && mcp)
            json_object_set_new (root, "result", mcp);
        else
            json_decref (mcp);
        s_print_json (root);
    } else if (ran && isatty (STDOUT_FILENO))
        s_print_human (mcpact_result_json (result));
    else if (ran)
        //  For a script: the result as the LLM sees it, exactly
        s_print_text (mcpact_result_text (result));
    if (status != MCPACT_OK) {
        char *error = display_safe (mcpact_result_error (result) ? mcpact_result_error (result)
                                                                 : mcpact_status_name (status));
        //  One line per event: a tool error's text parts are joined by
        //  line breaks, which become " / " here.
        fputs ("mcpact: error: ", stderr);
        for (const char *p = error ? error : ""; *p; p++)
            if (*p == '\n')
                fputs (" / ", stderr);
            else
                fputc (*p, stderr);
        fputc ('\n', stderr);
        free (error);
    }
    mcpact_result_destroy (&result);
    return known ? s_call_statuses[status].exit_code : CLI_FAILED;
}

//  --------------------------------------------------------------------------

int
main (int argc, char *argv[])
{
    //  `mcpact [options] bench init [options]` is a tool of its own; the
    //  options may stand on either side of the command words.
    for (int i = 1; i + 1 < argc; i++)
        if (streq (argv[i], "bench") && streq (argv[i + 1], "init")) {
            char **args = (char **) calloc ((size_t) argc, sizeof (char *));
            int count = 0;
            args[count++] = argv[i + 1];
            for (int j = 1; j < argc; j++)
                if (j != i && j != i + 1)
                    args[count++] = argv[j];
            int rc = cli_bench_init (count, args);
            free (args);
            return rc;
        }
    //  `mcpact [options] auth ...`: likewise, when auth is the command
    //  (the first word that is not an option or an option's value).
    for (int i = 1; i < argc; i++) {
        static const char *const valued[] = { "-c",          "--config",       "--server-log",
                                              "--server",    "--root",         "--connect",
                                              "--curve-key", "--curve-server", "--agent",
                                              "--format",    "--timeout",      "--scope" };
        bool takes_value = false;
        for (size_t v = 0; v < sizeof valued / sizeof valued[0]; v++)
            takes_value |= streq (argv[i], valued[v]);
        //  A cluster of short options ending in c: -vc FILE
        size_t size = strlen (argv[i]);
        takes_value |=
            size > 1 && argv[i][0] == '-' && argv[i][1] != '-' && argv[i][size - 1] == 'c';
        if (streq (argv[i], "--"))
            break;
        if (takes_value) {
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            continue;
        if (streq (argv[i], "help") && i + 1 < argc && streq (argv[i + 1], "auth")) {
            //  `mcpact help auth`: auth's own usage
            char *help[] = { argv[i + 1], (char *) "--help" };
            return cli_auth (2, help);
        }
        if (!streq (argv[i], "auth"))
            break;
        char **args = (char **) calloc ((size_t) argc, sizeof (char *));
        int count = 0;
        args[count++] = argv[i];
        for (int j = 1; j < argc; j++)
            if (j != i)
                args[count++] = argv[j];
        int rc = cli_auth (count, args);
        free (args);
        return rc;
    }
    //  `mcpact serve ...` and `mcpact keygen ...` have options of their own.
    if (argc > 1 && (streq (argv[1], "serve") || streq (argv[1], "keygen")))
        return streq (argv[1], "serve") ? cli_serve (argc - 1, argv + 1)
                                        : cli_keygen (argc - 1, argv + 1);
    options_t opts;
    if (s_parse_args (argc, argv, &opts))
        return opts.exit_code;

    //  Everything said on stderr goes through the display, the runtime's
    //  log lines too: each event once, in one format. A live table only
    //  for a person watching; in a pipe or a log, plain lines.
    display_level_t level = opts.quiet         ? DISPLAY_QUIET
                            : opts.verbose > 0 ? DISPLAY_VERBOSE
                                               : DISPLAY_NORMAL;
    display_t *display =
        display_new (stderr, level > DISPLAY_QUIET && isatty (STDERR_FILENO), level);
    if (!display) {
        fprintf (stderr, "mcpact: out of memory\n");
        return CLI_FAILED;
    }
    mcpact_set_log (display_log, display,
                    opts.quiet          ? MCPACT_LOG_ERROR
                    : opts.verbose > 1  ? MCPACT_LOG_DEBUG
                    : opts.verbose == 1 ? MCPACT_LOG_INFO
                                        : MCPACT_LOG_WARN);
    //  Before the runtime starts a thread; what the signal thread says
    //  set before it starts.
    s_signals.remote = opts.connect != NULL;
    s_signals_start ();

    //  A signal during start-up takes effect once mcpact_agent_start has
    //  returned (each server ready or failed, within its connect timeout):
    //  the runtime offers no way to cut it short.
    cli_t cli = { .opts = &opts, .display = display };
    int rc = CLI_OK;
    if (opts.connect) {
        char *error = NULL;
        cli.remote = remote_new (opts.connect, opts.curve_key, opts.server_cert, 15000,
                                 s_signals.pipe[0], &error);
        char *problem = cli.remote && opts.agent_name
                            ? remote_agent_problem (cli.remote, opts.agent_name)
                            : NULL;
        if (!cli.remote) {
            fprintf (stderr, "mcpact: %s\n", error ? error : "cannot connect");
            rc = CLI_FAILED;
        } else if (problem) {
            //  As without --connect: an agent the daemon does not serve is
            //  the command line's mistake.
            fprintf (stderr, "mcpact: %s\n", problem);
            rc = CLI_USAGE;
        }
        free (problem);
        free (error);
    } else {
        rc = s_open (&cli);
        if (rc == CLI_OK && !s_signalled ())
            rc = s_start (&cli);
        if (rc == CLI_OK && !s_signalled () && opts.server_log)
            //  Servers that declare logging send from this level on.
            mcpact_agent_set_server_log_level (cli.agent, NULL, opts.server_log);
    }
    if (rc == CLI_OK && !s_signalled ()) {
        if (cli_resources_is_command (opts.command)) {
            cli_resources_t command = {
                opts.command,        opts.words + 1,
                opts.word_count - 1, opts.server,
                opts.json,           opts.timeout_ms,
                cli.remote,          opts.agent_name ? opts.agent_name : ""
            };
            rc = cli_resources_run (cli.agent, &command);
        } else if (streq (opts.command, "tools"))
            rc = s_cmd_tools (&cli);
        else if (streq (opts.command, "status"))
            rc = s_cmd_status (&cli);
        else
            rc = s_cmd_call (&cli);
    }
    s_close (&cli);
    json_decref (opts.roots);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    display_destroy (&display);

    //  A full disk or a closed pipe must not pass for success
    errno = 0;
    bool flushed = fflush (stdout) == 0 && !ferror (stdout);
    //  A reader that went away left SIGPIPE pending: end by it, quietly,
    //  as we would have at once, now that the servers are closed
    sigset_t pending;
    if (s_signals.pipe_blocked && sigpending (&pending) == 0 && sigismember (&pending, SIGPIPE))
        s_die_by (SIGPIPE);
    if (!flushed) {
        fprintf (stderr, "mcpact: cannot write to stdout: %s\n",
                 errno ? strerror (errno) : "write error");
        if (rc == CLI_OK)
            rc = CLI_FAILED;
    }
    //  Everything is closed: now end as the signal asked
    if (s_signalled ())
        s_die_by (s_signalled ());
    return rc;
}
