/*  =========================================================================
    fixture_server - a scriptable MCP stdio server for tests and benchmarks

    Speaks MCP over stdio like any server (newline-delimited JSON-RPC 2.0)
    and offers a fixed set of tools covering every shape of answer a client
    must handle: text, error results, images, structured content, slow
    calls, a crash. Command-line switches add faults (a late or missing
    initialize answer, garbage on stdout, an unsupported protocol version,
    broken pagination) and server behaviour (many tools, a list change,
    requests to the client). Benchmarks measure the client through it, so a
    call costs no more than parsing its line and writing the answer: one
    thread, one poll(2) on stdin whose timeout is the next delayed job, and
    the tools list built once at start. Exits 0 on stdin EOF, 3 when the
    crash tool is called, 1 with --exit-at-once, 2 on a bad command line.
    For the tests of closing and of a host that dies, switches make it
    outlive stdin EOF (--ignore-eof) or SIGTERM, leave a helper process in
    its process group, and write its pids and the arrival of a call to
    files.
    =========================================================================
*/

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

#define GARBAGE_LINE "this is not json\n"
//  tools/list cursors: ours hold the offset of the page; the broken kind
//  (--repeat-cursor) is always the same
#define CURSOR_FORMAT "offset-%zu"
#define REPEATED_CURSOR "again"

//  The protocol versions we speak, newest first
static const char *s_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05" };
#define VERSIONS (sizeof s_versions / sizeof *s_versions)

typedef enum {
    TOOL_ECHO,
    TOOL_ADD,
    TOOL_SLEEP,
    TOOL_CRASH,
    TOOL_FAIL,
    TOOL_MULTI,
    TOOL_EMPTY,
    TOOL_STRUCTURED,
    TOOL_PID,
    TOOL_ENV,
    TOOL_CWD,
    TOOL_CLIENT_ANSWERS,
    TOOL_ASK,
    TOOL_ASK_CANCEL,
    TOOL_CLIENT_SEEN
} tool_kind_t;

typedef struct {
    const char *name; //  argument name; NULL ends the list
    const char *type; //  JSON Schema type: string, number or integer
} arg_t;

//  A tool we always offer. Its arguments, all required, make both its input
//  schema and the check of each call, so the two cannot disagree.
typedef struct {
    const char *name;        //  tool name, before any --prefix
    tool_kind_t kind;        //  what a call does
    const char *description; //  for tools/list
    arg_t args[3];           //  required arguments
} tool_t;

//  In tools/list order. Generated tools and late_tool work like the first.
// clang-format off
static const tool_t s_tools[] = {
    { "echo", TOOL_ECHO, "Returns the message",
      { { "message", "string" } } },
    { "add", TOOL_ADD, "Adds two numbers",
      { { "a", "number" }, { "b", "number" } } },
    { "sleep", TOOL_SLEEP, "Answers after ms milliseconds; other calls go on meanwhile",
      { { "ms", "integer" } } },
    { "crash", TOOL_CRASH, "Exits the server with status 3 without answering",
      { { NULL, NULL } } },
    { "fail", TOOL_FAIL, "Returns an error result in two text parts",
      { { NULL, NULL } } },
    { "multi", TOOL_MULTI, "Returns a text and an image",
      { { NULL, NULL } } },
    { "empty", TOOL_EMPTY, "Returns no content at all",
      { { NULL, NULL } } },
    { "structured", TOOL_STRUCTURED, "Returns structured content with its text form",
      { { NULL, NULL } } },
    { "pid", TOOL_PID, "Returns the server's process id",
      { { NULL, NULL } } },
    { "env", TOOL_ENV, "Returns an environment variable of the server, or (unset)",
      { { "name", "string" } } },
    { "cwd", TOOL_CWD, "Returns the server's working directory",
      { { NULL, NULL } } },
    { "client_answers", TOOL_CLIENT_ANSWERS,
      "Returns the client's responses to our requests, as JSON keyed by request id",
      { { NULL, NULL } } },
    { "ask", TOOL_ASK,
      "Sends the client request `method` with `params` (JSON text) and answers with the "
      "client's response: {\"result\"} or {\"error\"} as JSON text",
      { { "method", "string" }, { "params", "string" } } },
    { "ask_cancel", TOOL_ASK_CANCEL,
      "Sends the client request `method` with `params` (JSON text), cancels it at once "
      "(notifications/cancelled) and answers with its request id",
      { { "method", "string" }, { "params", "string" } } },
    { "client_seen", TOOL_CLIENT_SEEN,
      "Returns the client's initialize capabilities and the notifications it sent, as JSON",
      { { NULL, NULL } } },
};
// clang-format on

//  How the process lives and dies, for the tests of closing a server and
//  of a host that dies: a server that outlives stdin EOF or SIGTERM, one
//  that leaves a helper in its process group, and where the tests learn
//  its pids and that a call has come
typedef struct {
    bool ignore_eof;       //  keep running after stdin EOF, until a signal ends us
    bool ignore_term;      //  ignore SIGTERM (the helper too)
    bool helper;           //  start a helper that stays in our process group
    const char *pid_file;  //  write "PID [HELPER-PID]" here at start
    const char *call_file; //  create this file when a tools/call comes
} process_opts_t;

typedef struct {
    const char *name;             //  serverInfo.name
    const char *prefix;           //  put before every tool name
    const char *protocol_version; //  answer initialize with this; NULL = negotiate
    long init_delay_ms;           //  hold the initialize answer back this long
    long stderr_lines;            //  numbered lines written to stderr at start
    long tools;                   //  generated tools tool_0000, ...
    long page_size;               //  tools per tools/list page; 0 = one page
    long list_changed_after_ms;   //  add late_tool this long after initialized; -1 = never
    long list_changed_burst;      //  send that many list_changed at once (and log tools/list)
    bool no_answer;               //  never answer initialize
    bool exit_at_once;            //  exit 1 before anything else
    bool garbage;                 //  a non-JSON line before every message
    bool repeat_cursor;           //  every page says nextCursor "again"
    bool server_requests;         //  ping and sample the client after initialized
    bool asks;                    //  offer ask, ask_cancel, client_seen
    const char *reply_method[8];  //  --reply: requests answered by a template
    const char *reply_text[8];    //  the template: raw bytes, $ID, $ID64, $PAD
    int replies;                  //  templates given
    long pad;                     //  bytes of $PAD
    long resources;               //  resources offered, resource_0000, ...
    long resource_page_size;      //  resources per resources/list page; 0 = one page
    long blob_bytes;              //  fixture://blob reads as a base64 blob this long
    const char *capabilities;     //  the initialize answer's capabilities, as given
    const char *instructions;     //  the initialize answer's instructions
    bool log_on_list;             //  a log message at each level before resources/list
    bool stop_reading;            //  stop reading stdin after tools/list
    long close_stdin_after;       //  close stdin after this many tools/call; 0 = never
    const char *exit_unless;      //  exit 1 at once unless this file exists
    const char *stderr_text;      //  written to stderr as it is, at start
    const char *input_log;        //  every line read is appended to this file
    process_opts_t process;       //  how the process lives and dies
} options_t;

//  Work for later: the poll timeout wakes us when the first one is due
typedef struct {
    int64_t due;        //  CLOCK_MONOTONIC milliseconds
    json_t *message;    //  what to send then
    bool add_late_tool; //  first add late_tool to the list
} pending_t;

typedef struct {
    options_t opts;       //  the command line
    json_t *tools;        //  tools/list entries, in order
    json_t *tool_index;   //  full tool name -> index into s_tools of what it does
    json_t *answers;      //  id of a request we sent -> the client's response
    json_t *asking;       //  id of an `ask` request we sent -> the tools/call id
    long asks;            //  `ask` requests sent
    json_t *capabilities; //  the client's, from initialize
    json_t *seen;         //  notification methods the client sent, in order
    pending_t *pending;   //  sorted latest first, so the next due is last
    size_t pending_size;  //  jobs in pending
    size_t pending_max;   //  room in pending
    bool initialized;     //  notifications/initialized has come
    bool out_broken;      //  stdout failed once; said so on stderr
    bool reading;         //  still reading stdin (--stop-reading ends it)
    char *out;            //  output buffer, reused for every message
    size_t out_size;      //  bytes in out
    size_t out_max;       //  room in out
    char *in;             //  input buffer: the unfinished line
    size_t in_size;       //  bytes in in
    size_t in_max;        //  room in in
} self_t;

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  --------------------------------------------------------------------------
//  Command line

static void
s_usage (FILE *stream)
{
    fprintf (stream, "usage: fixture_server [switches]\n"
                     "  --name NAME                  serverInfo name (default fixture)\n"
                     "  --prefix P                   put P before every tool name\n"
                     "  --protocol-version V         answer initialize with exactly V\n"
                     "  --init-delay-ms N            answer initialize N ms late\n"
                     "  --no-answer                  never answer initialize\n"
                     "  --exit-at-once               exit 1 at once\n"
                     "  --garbage                    a non-JSON line before every message\n"
                     "  --stderr-lines N             write N lines to stderr at start\n"
                     "  --tools N                    offer N more tools, tool_0000 ...\n"
                     "  --page-size K                K tools per tools/list page\n"
                     "  --repeat-cursor              every page says nextCursor \"again\"\n"
                     "  --list-changed-after-ms N    add late_tool N ms after initialized\n"
                     "  --list-changed-burst N       then send N list_changed at once, and\n"
                     "                               log each tools/list to stderr\n"
                     "  --server-requests            send ping and sampling/createMessage\n"
                     "  --asks                       offer the tools ask, ask_cancel and\n"
                     "                               client_seen (requests to the client)\n"
                     "  --reply METHOD TEMPLATE      answer METHOD with TEMPLATE as it is (any\n"
                     "                               bytes, several lines allowed): $ID is the\n"
                     "                               request's id, $ID64 that id plus 2^64,\n"
                     "                               $PAD --pad bytes of x\n"
                     "  --pad N                      the size of $PAD\n"
                     "  --resources N                offer N resources fixture://resource/0000\n"
                     "                               ... (text \"resource N\"), and declare them\n"
                     "  --resource-page-size K       K resources per resources/list page\n"
                     "  --blob-bytes N               resources/read of fixture://blob: a base64\n"
                     "                               blob of N bytes (with --resources)\n"
                     "  --capabilities JSON          answer initialize with these capabilities\n"
                     "  --instructions TEXT          answer initialize with these instructions\n"
                     "  --log-on-list                before each resources/list answer, send a\n"
                     "                               log message at each level (logger\n"
                     "                               fixture), whatever logging/setLevel said\n"
                     "  --exit-unless PATH           exit 1 at once unless PATH exists\n"
                     "  --stderr TEXT                write TEXT (any bytes) to stderr at start\n"
                     "  --input-log PATH             append every line read to PATH\n"
                     "  --close-stdin-after N        close stdin after answering N tools/call,\n"
                     "                               and stay alive\n"
                     "  --stop-reading               read nothing more after tools/list, but\n"
                     "                               stay alive\n"
                     "  --ignore-eof                 keep running after stdin EOF\n"
                     "  --ignore-term                ignore SIGTERM (the helper too)\n"
                     "  --helper                     start a helper process in our process\n"
                     "                               group, stdio on /dev/null, that runs\n"
                     "                               until killed (`helper >/dev/null &`)\n"
                     "  --pid-file PATH              write \"PID [HELPER-PID]\" to PATH at start\n"
                     "  --call-file PATH             create PATH when a tools/call comes\n");
}

//  A count or a delay: decimal, 0 to INT_MAX, so due times cannot overflow
static int
s_parse_number (const char *text, long *number)
{
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < 0 || value > INT_MAX)
        return -1;
    *number = value;
    return 0;
}

//  One of the process switches: returns how many arguments it took (0 if
//  `arg` is none of them), or -1 if its value is missing.
static int
s_process_switch (process_opts_t *opts, const char *arg, const char *value)
{
    bool *flag = streq (arg, "--ignore-eof")    ? &opts->ignore_eof
                 : streq (arg, "--ignore-term") ? &opts->ignore_term
                 : streq (arg, "--helper")      ? &opts->helper
                                                : NULL;
    const char **path = streq (arg, "--pid-file")    ? &opts->pid_file
                        : streq (arg, "--call-file") ? &opts->call_file
                                                     : NULL;
    if (flag)
        *flag = true;
    else if (path && value)
        *path = value;
    else if (path) {
        fprintf (stderr, "fixture: %s needs a value\n", arg);
        return -1;
    }
    return flag ? 1 : path ? 2 : 0;
}

static int
s_options_parse (options_t *opts, int argc, char **argv)
{
    *opts = (options_t){ .name = "fixture", .prefix = "", .list_changed_after_ms = -1 };
    for (int index = 1; index < argc; index++) {
        const char *arg = argv[index];
        const char *value = argv[index + 1]; //  argv[argc] is NULL
        long *number = NULL;
        if (streq (arg, "--help")) {
            s_usage (stdout);
            exit (0);
        }
        int taken = s_process_switch (&opts->process, arg, value);
        if (taken < 0)
            return -1;
        if (taken > 0) {
            index += taken - 1;
            continue;
        }
        if (streq (arg, "--asks"))
            opts->asks = true;
        else if (streq (arg, "--no-answer"))
            opts->no_answer = true;
        else if (streq (arg, "--exit-at-once"))
            opts->exit_at_once = true;
        else if (streq (arg, "--garbage"))
            opts->garbage = true;
        else if (streq (arg, "--repeat-cursor"))
            opts->repeat_cursor = true;
        else if (streq (arg, "--server-requests"))
            opts->server_requests = true;
        else if (streq (arg, "--stop-reading"))
            opts->stop_reading = true;
        else if (streq (arg, "--log-on-list"))
            opts->log_on_list = true;
        else if (streq (arg, "--reply")) {
            if (!value || !argv[index + 2] || opts->replies == 8) {
                fprintf (stderr, "fixture: --reply needs a method and a template (8 at most)\n");
                return -1;
            }
            opts->reply_method[opts->replies] = value;
            opts->reply_text[opts->replies++] = argv[index + 2];
            index += 2;
        } else {
            if (streq (arg, "--name"))
                opts->name = value;
            else if (streq (arg, "--prefix"))
                opts->prefix = value;
            else if (streq (arg, "--exit-unless"))
                opts->exit_unless = value;
            else if (streq (arg, "--stderr"))
                opts->stderr_text = value;
            else if (streq (arg, "--input-log"))
                opts->input_log = value;
            else if (streq (arg, "--protocol-version"))
                opts->protocol_version = value;
            else if (streq (arg, "--init-delay-ms"))
                number = &opts->init_delay_ms;
            else if (streq (arg, "--stderr-lines"))
                number = &opts->stderr_lines;
            else if (streq (arg, "--tools"))
                number = &opts->tools;
            else if (streq (arg, "--page-size"))
                number = &opts->page_size;
            else if (streq (arg, "--list-changed-after-ms"))
                number = &opts->list_changed_after_ms;
            else if (streq (arg, "--list-changed-burst"))
                number = &opts->list_changed_burst;
            else if (streq (arg, "--pad"))
                number = &opts->pad;
            else if (streq (arg, "--resources"))
                number = &opts->resources;
            else if (streq (arg, "--resource-page-size"))
                number = &opts->resource_page_size;
            else if (streq (arg, "--blob-bytes"))
                number = &opts->blob_bytes;
            else if (streq (arg, "--capabilities"))
                opts->capabilities = value;
            else if (streq (arg, "--instructions"))
                opts->instructions = value;
            else if (streq (arg, "--close-stdin-after"))
                number = &opts->close_stdin_after;
            else {
                fprintf (stderr, "fixture: unknown switch %s\n", arg);
                return -1;
            }
            if (!value || (number && s_parse_number (value, number))) {
                fprintf (stderr, "fixture: %s needs %s\n", arg,
                         number ? "a number from 0 to INT_MAX" : "a value");
                return -1;
            }
            index++;
        }
    }
    //  They go into JSON as they are, and jansson takes only UTF-8
    const char *texts[] = { opts->name, opts->prefix, opts->protocol_version };
    for (size_t index = 0; index < sizeof texts / sizeof *texts; index++) {
        json_t *string = texts[index] ? json_string (texts[index]) : json_null ();
        if (!string) {
            fprintf (stderr, "fixture: %s is not UTF-8\n", texts[index]);
            return -1;
        }
        json_decref (string);
    }
    if (opts->repeat_cursor && opts->page_size == 0) {
        fprintf (stderr, "fixture: --repeat-cursor needs --page-size\n");
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Process behaviour (--ignore-eof, --ignore-term, --helper, --pid-file,
//  --call-file)

//  Writes `text` to `path` whole, or not at all: a test polling for the
//  file never reads half of it.
static int
s_write_file (const char *path, const char *text)
{
    char temp[PATH_MAX];
    snprintf (temp, sizeof temp, "%s.tmp", path);
    FILE *file = fopen (temp, "w");
    if (!file)
        return -1;
    bool written = fputs (text, file) >= 0;
    if (fclose (file) != 0 || !written || rename (temp, path) != 0) {
        unlink (temp);
        return -1;
    }
    return 0;
}

//  Sets up what the process switches ask for at start. Returns 0, or -1
//  (said on stderr).
static int
s_process_start (const process_opts_t *opts)
{
    if (opts->ignore_term)
        signal (SIGTERM, SIG_IGN);
    pid_t helper = 0;
    if (opts->helper) {
        fflush (NULL);
        helper = fork ();
        if (helper < 0) {
            fprintf (stderr, "fixture: fork: %s\n", strerror (errno));
            return -1;
        }
        if (helper == 0) {
            //  Holds none of our pipes: the client sees us exit as it would
            //  without the helper
            int null = open ("/dev/null", O_RDWR);
            if (null >= 0) {
                dup2 (null, STDIN_FILENO);
                dup2 (null, STDOUT_FILENO);
                dup2 (null, STDERR_FILENO);
            }
            while (true)
                pause ();
        }
    }
    if (opts->pid_file) {
        char text[64];
        if (helper)
            snprintf (text, sizeof text, "%ld %ld\n", (long) getpid (), (long) helper);
        else
            snprintf (text, sizeof text, "%ld\n", (long) getpid ());
        if (s_write_file (opts->pid_file, text) != 0) {
            fprintf (stderr, "fixture: cannot write %s: %s\n", opts->pid_file, strerror (errno));
            return -1;
        }
    }
    return 0;
}

//  A tools/call has come: say so, once
static void
s_process_call_seen (const process_opts_t *opts)
{
    static bool said;
    if (opts->call_file && !said)
        said = s_write_file (opts->call_file, "call\n") == 0;
}

//  After stdin EOF with --ignore-eof: run on until a signal ends us
static void
s_process_linger (void)
{
    while (true)
        pause ();
}

//  --------------------------------------------------------------------------
//  Output: every message is one line in one write(2), so a reader never sees
//  half of one, and the buffer is kept from message to message.

static int
s_self_out_append (const char *data, size_t size, void *arg)
{
    self_t *self = (self_t *) arg;
    if (self->out_size + size > self->out_max) {
        size_t max = self->out_max ? self->out_max : 4096;
        while (max < self->out_size + size)
            max *= 2;
        char *larger = realloc (self->out, max);
        if (!larger)
            return -1;
        self->out = larger;
        self->out_max = max;
    }
    memcpy (self->out + self->out_size, data, size);
    self->out_size += size;
    return 0;
}

//  Writes out what s_self_send queued: one write for all the answers to
//  one read of input, so pipelined requests cost one syscall, not many
static void
s_self_flush (self_t *self)
{
    for (size_t sent = 0; sent < self->out_size;) {
        ssize_t written = write (STDOUT_FILENO, self->out + sent, self->out_size - sent);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0) {
            //  The client has gone; EOF on stdin will end us soon
            if (!self->out_broken)
                fprintf (stderr, "%s: write: %s\n", self->opts.name, strerror (errno));
            self->out_broken = true;
            break;
        }
        sent += (size_t) written;
    }
    self->out_size = 0;
}

//  Queues a message and takes it over
static void
s_self_send (self_t *self, json_t *message)
{
    //  With --garbage, the junk line goes out in the same write
    int rc = message ? 0 : -1;
    if (rc == 0 && self->opts.garbage)
        rc = s_self_out_append (GARBAGE_LINE, strlen (GARBAGE_LINE), self);
    if (rc == 0)
        rc = json_dump_callback (message, s_self_out_append, self, JSON_COMPACT);
    if (rc == 0)
        rc = s_self_out_append ("\n", 1, self);
    if (rc)
        fprintf (stderr, "%s: could not encode a message\n", self->opts.name);
    json_decref (message);
}

//  Sends a JSON-RPC error for request `id`
static void
s_self_reply_error (self_t *self, json_t *id, int code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    json_t *text = json_vsprintf (format, args);
    va_end (args);
    s_self_send (self, json_pack ("{s:s, s:O, s:{s:i, s:o}}", "jsonrpc", "2.0", "id", id, "error",
                                  "code", code, "message", text ? text : json_string ("error")));
}

//  The response to request `id`; takes over `result`
static json_t *
s_response_new (json_t *id, json_t *result)
{
    return json_pack ("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

//  Sends the answer to request `id`; takes over `response`, which may be NULL
//  when building it failed. The client still hears back, so it never waits
//  for an answer that will not come.
static void
s_self_reply (self_t *self, json_t *id, json_t *response)
{
    if (response)
        s_self_send (self, response);
    else
        s_self_reply_error (self, id, -32603, "could not build the result");
}

static json_t *
s_text_result (const char *text)
{
    return json_pack ("{s:[{s:s, s:s}]}", "content", "type", "text", "text", text);
}

//  A result that says the call went wrong, for the model to read
static json_t *
s_error_result (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    json_t *text = json_vsprintf (format, args);
    va_end (args);
    return json_pack ("{s:[{s:s, s:o}], s:b}", "content", "type", "text", "text", text, "isError",
                      true);
}

//  --------------------------------------------------------------------------
//  Tools

//  Offers one more tool; it does what s_tools[index] does
static void
s_self_add_tool (self_t *self, const char *name, size_t index, const char *description)
{
    json_t *properties = json_object ();
    json_t *required = json_array ();
    for (const arg_t *arg = s_tools[index].args; arg->name; arg++) {
        json_object_set_new (properties, arg->name, json_pack ("{s:s}", "type", arg->type));
        json_array_append_new (required, json_string (arg->name));
    }
    json_t *schema = json_pack ("{s:s, s:o}", "type", "object", "properties", properties);
    //  Draft-04 validators reject an empty "required"; leave it out then
    if (schema && json_array_size (required) > 0)
        json_object_set (schema, "required", required);
    json_decref (required);

    json_t *full_name = json_sprintf ("%s%s", self->opts.prefix, name);
    json_t *tool = json_pack ("{s:O, s:s, s:o}", "name", full_name, "description", description,
                              "inputSchema", schema);
    if (tool && full_name) {
        json_array_append_new (self->tools, tool);
        json_object_set_new (self->tool_index, json_string_value (full_name),
                             json_integer ((json_int_t) index));
    } else {
        fprintf (stderr, "%s: could not add tool %s\n", self->opts.name, name);
        json_decref (tool);
    }
    json_decref (full_name);
}

//  --------------------------------------------------------------------------
//  Delayed work

//  Schedules `message` to be sent in `delay_ms`; takes it over
static void
s_self_schedule (self_t *self, int64_t delay_ms, json_t *message, bool add_late_tool)
{
    if (self->pending_size == self->pending_max) {
        size_t max = self->pending_max ? self->pending_max * 2 : 16;
        pending_t *larger = realloc (self->pending, max * sizeof *larger);
        if (!larger) {
            fprintf (stderr, "%s: out of memory for delayed work\n", self->opts.name);
            json_decref (message);
            return;
        }
        self->pending = larger;
        self->pending_max = max;
    }
    //  Latest first: the next job leaves from the end. A new job goes before
    //  those due at the same time, so they keep the order they came in.
    pending_t job = { s_now_ms () + delay_ms, message, add_late_tool };
    size_t at = 0;
    while (at < self->pending_size && self->pending[at].due > job.due)
        at++;
    memmove (self->pending + at + 1, self->pending + at,
             (self->pending_size - at) * sizeof *self->pending);
    self->pending[at] = job;
    self->pending_size++;
}

//  Does the delayed work that is due; returns the poll timeout until the
//  next job, or -1 when there is none
static int
s_self_run_pending (self_t *self)
{
    while (self->pending_size > 0) {
        pending_t job = self->pending[self->pending_size - 1];
        int64_t wait = job.due - s_now_ms ();
        if (wait > 0)
            return wait > INT_MAX ? INT_MAX : (int) wait;
        self->pending_size--;
        if (job.add_late_tool)
            s_self_add_tool (self, "late_tool", 0, "Came with a list change; returns the message");
        s_self_send (self, job.message);
    }
    return -1;
}

//  --------------------------------------------------------------------------
//  Tool calls

//  Why `args` does not fit the tool, or NULL if it does
static json_t *
s_args_problem (const tool_t *tool, const char *name, json_t *args)
{
    if (args && !json_is_object (args))
        return s_error_result ("%s: arguments must be an object", name);
    for (const arg_t *arg = tool->args; arg->name; arg++) {
        json_t *value = json_object_get (args, arg->name);
        bool fits = streq (arg->type, "string")    ? json_is_string (value)
                    : streq (arg->type, "integer") ? json_is_integer (value)
                                                   : json_is_number (value);
        if (!fits)
            return s_error_result ("%s: argument '%s' is missing or not of type %s", name,
                                   arg->name, arg->type);
    }
    return NULL;
}

//  The result of calling `tool`, or NULL if building it failed
static json_t *
s_self_call_tool (self_t *self, const tool_t *tool, json_t *args)
{
    char text[PATH_MAX + 64];
    switch (tool->kind) {
    case TOOL_ECHO:
        return s_text_result (json_string_value (json_object_get (args, "message")));
    case TOOL_ADD:
        snprintf (text, sizeof text, "%.15g",
                  json_number_value (json_object_get (args, "a")) +
                      json_number_value (json_object_get (args, "b")));
        return s_text_result (text);
    case TOOL_FAIL:
        return json_pack ("{s:[{s:s, s:s}, {s:s, s:s}], s:b}", "content", "type", "text", "text",
                          "first part", "type", "text", "text", "second part", "isError", true);
    case TOOL_MULTI:
        return json_pack ("{s:[{s:s, s:s}, {s:s, s:s, s:s}]}", "content", "type", "text", "text",
                          "one", "type", "image", "data", "iVBORw0KGgo=", "mimeType", "image/png");
    case TOOL_EMPTY:
        return json_pack ("{s:[]}", "content");
    case TOOL_STRUCTURED:
        return json_pack ("{s:[{s:s, s:s}], s:{s:i}}", "content", "type", "text", "text",
                          "{\"x\":1}", "structuredContent", "x", 1);
    case TOOL_PID:
        snprintf (text, sizeof text, "%ld", (long) getpid ());
        return s_text_result (text);
    case TOOL_ENV: {
        const char *value = getenv (json_string_value (json_object_get (args, "name")));
        json_t *result = s_text_result (value ? value : "(unset)");
        return result ? result : s_error_result ("env: the value is not UTF-8");
    }
    case TOOL_CWD:
        if (!getcwd (text, sizeof text))
            return s_error_result ("cwd: %s", strerror (errno));
        return s_text_result (text);
    case TOOL_CLIENT_ANSWERS: {
        char *answers = json_dumps (self->answers, JSON_COMPACT);
        json_t *result = answers ? s_text_result (answers) : NULL;
        free (answers);
        return result;
    }
    case TOOL_CLIENT_SEEN: {
        json_t *seen = json_pack ("{s:O?, s:O}", "capabilities", self->capabilities,
                                  "notifications", self->seen);
        char *text = json_dumps (seen, JSON_COMPACT);
        json_decref (seen);
        json_t *result = text ? s_text_result (text) : NULL;
        free (text);
        return result;
    }
    case TOOL_SLEEP:
    case TOOL_CRASH:
    case TOOL_ASK:
    case TOOL_ASK_CANCEL:
        break; //  not answered here
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Requests

static void
s_self_handle_initialize (self_t *self, json_t *id, json_t *params)
{
    json_decref (self->capabilities);
    self->capabilities = json_incref (json_object_get (params, "capabilities"));
    if (self->opts.no_answer)
        return;
    const char *version = self->opts.protocol_version;
    if (!version) {
        const char *asked = json_string_value (json_object_get (params, "protocolVersion"));
        version = s_versions[0];
        for (size_t index = 0; asked && index < VERSIONS; index++)
            if (streq (asked, s_versions[index]))
                version = s_versions[index];
    }
    json_t *result = json_pack ("{s:s, s:{s:{s:b}}, s:{s:s, s:s}}", "protocolVersion", version,
                                "capabilities", "tools", "listChanged", true, "serverInfo", "name",
                                self->opts.name, "version", "0.1.0");
    if (self->opts.resources > 0)
        json_object_set_new (json_object_get (result, "capabilities"), "resources", json_object ());
    if (self->opts.capabilities) {
        json_error_t error;
        json_t *capabilities = json_loads (self->opts.capabilities, 0, &error);
        if (capabilities)
            json_object_set_new (result, "capabilities", capabilities);
        else
            fprintf (stderr, "fixture: --capabilities: %s\n", error.text);
    }
    if (self->opts.instructions)
        json_object_set_new (result, "instructions", json_string (self->opts.instructions));
    json_t *response = s_response_new (id, result);
    if (response && self->opts.init_delay_ms > 0)
        s_self_schedule (self, self->opts.init_delay_ms, response, false);
    else
        s_self_reply (self, id, response);
}

static void
s_self_handle_tools_list (self_t *self, json_t *id, json_t *params)
{
    //  With a burst, the client's debounce is seen in how often it lists
    static long served;
    if (self->opts.list_changed_burst > 0)
        fprintf (stderr, "%s: tools/list #%ld\n", self->opts.name, ++served);
    json_t *cursor = json_object_get (params, "cursor");
    const char *cursor_text = json_string_value (cursor);
    if (json_is_null (cursor))
        cursor = NULL;
    if (cursor && !cursor_text) {
        s_self_reply_error (self, id, -32602, "invalid cursor: not a string");
        return;
    }
    size_t total = json_array_size (self->tools);
    size_t page_size = (size_t) self->opts.page_size;
    if (page_size == 0) {
        if (cursor)
            s_self_reply_error (self, id, -32602, "invalid cursor: %s", cursor_text);
        else {
            json_t *result = json_pack ("{s:O}", "tools", self->tools);
            s_self_reply (self, id, s_response_new (id, result));
        }
        return;
    }
    //  We issue offsets as cursors; one we could not have issued is refused
    size_t offset = 0;
    if (cursor && self->opts.repeat_cursor) {
        if (!streq (cursor_text, REPEATED_CURSOR)) {
            s_self_reply_error (self, id, -32602, "invalid cursor: %s", cursor_text);
            return;
        }
    } else if (cursor) {
        //  A cursor we issued prints back exactly from its offset
        char issued[64];
        const char *digits = cursor_text + strcspn (cursor_text, "0123456789");
        offset = (size_t) strtoull (digits, NULL, 10);
        snprintf (issued, sizeof issued, CURSOR_FORMAT, offset);
        if (!streq (issued, cursor_text) || offset == 0 || offset >= total ||
            offset % page_size != 0) {
            s_self_reply_error (self, id, -32602, "invalid cursor: %s", cursor_text);
            return;
        }
    }
    json_t *page = json_array ();
    for (size_t index = offset; index < offset + page_size && index < total; index++)
        json_array_append (page, json_array_get (self->tools, index));
    json_t *result = json_pack ("{s:o}", "tools", page);
    if (result && self->opts.repeat_cursor)
        json_object_set_new (result, "nextCursor", json_string (REPEATED_CURSOR));
    else if (result && offset + page_size < total) {
        char next[64];
        snprintf (next, sizeof next, CURSOR_FORMAT, offset + page_size);
        json_object_set_new (result, "nextCursor", json_string (next));
    }
    s_self_reply (self, id, s_response_new (id, result));
}

//  resources/list: --resources N, paged like tools/list by
//  --resource-page-size, with --log-on-list a log message at each level
//  first.
static void
s_self_handle_resources_list (self_t *self, json_t *id, json_t *params)
{
    if (self->opts.log_on_list) {
        const char *levels[] = { "debug", "info",     "notice", "warning",
                                 "error", "critical", "alert",  "emergency" };
        for (size_t index = 0; index < 8; index++)
            s_self_send (self,
                         json_pack ("{s:s, s:s, s:{s:s, s:s, s:{s:s}}}", "jsonrpc", "2.0", "method",
                                    "notifications/message", "params", "level", levels[index],
                                    "logger", "fixture", "data", "level", levels[index]));
    }
    const char *cursor = json_string_value (json_object_get (params, "cursor"));
    size_t total = (size_t) self->opts.resources;
    size_t page_size =
        self->opts.resource_page_size > 0 ? (size_t) self->opts.resource_page_size : total;
    size_t offset = 0;
    if (cursor) {
        char issued[64];
        offset = (size_t) strtoull (cursor + strcspn (cursor, "0123456789"), NULL, 10);
        snprintf (issued, sizeof issued, "res-" CURSOR_FORMAT, offset);
        if (!streq (issued, cursor) || offset == 0 || offset >= total) {
            s_self_reply_error (self, id, -32602, "invalid cursor: %s", cursor);
            return;
        }
    }
    json_t *page = json_array ();
    for (size_t index = offset; index < offset + page_size && index < total; index++) {
        char uri[64], name[32];
        snprintf (uri, sizeof uri, "fixture://resource/%04zu", index);
        snprintf (name, sizeof name, "resource_%04zu", index);
        json_array_append_new (page, json_pack ("{s:s, s:s, s:s}", "uri", uri, "name", name,
                                                "mimeType", "text/plain"));
    }
    json_t *result = json_pack ("{s:o}", "resources", page);
    if (offset + page_size < total) {
        char next[64];
        snprintf (next, sizeof next, "res-" CURSOR_FORMAT, offset + page_size);
        json_object_set_new (result, "nextCursor", json_string (next));
    }
    s_self_reply (self, id, s_response_new (id, result));
}

//  resources/read of one of --resources: its text.
static void
s_self_handle_resources_read (self_t *self, json_t *id, json_t *params)
{
    const char *uri = json_string_value (json_object_get (params, "uri"));
    if (uri && streq (uri, "fixture://blob") && self->opts.blob_bytes > 0) {
        //  "AAAA" is base64 of three zero bytes: a blob of blob_bytes characters.
        char *blob = (char *) malloc ((size_t) self->opts.blob_bytes + 1);
        if (blob) {
            memset (blob, 'A', (size_t) self->opts.blob_bytes);
            blob[self->opts.blob_bytes] = 0;
            s_self_reply (
                self, id,
                s_response_new (id,
                                json_pack ("{s:[{s:s, s:s, s:s}]}", "contents", "uri", uri,
                                           "mimeType", "application/octet-stream", "blob", blob)));
            free (blob);
            return;
        }
    }
    const char *prefix = "fixture://resource/";
    long index = uri && strncmp (uri, prefix, strlen (prefix)) == 0
                     ? strtol (uri + strlen (prefix), NULL, 10)
                     : -1;
    if (index < 0 || index >= self->opts.resources) {
        s_self_reply_error (self, id, -32002, "Resource not found: %s", uri ? uri : "(none)");
        return;
    }
    char text[32];
    snprintf (text, sizeof text, "resource %ld", index);
    s_self_reply (self, id,
                  s_response_new (id, json_pack ("{s:[{s:s, s:s, s:s}]}", "contents", "uri", uri,
                                                 "mimeType", "text/plain", "text", text)));
}

//  Answers "slept N" in N ms. The poll timeout does the waiting, so other
//  calls go on meanwhile.
static void
s_self_sleep (self_t *self, json_t *id, const char *name, json_int_t ms)
{
    if (ms < 0 || ms > INT_MAX) {
        json_t *result = s_error_result ("%s: ms must be 0 to %d", name, INT_MAX);
        s_self_reply (self, id, s_response_new (id, result));
        return;
    }
    char text[64];
    snprintf (text, sizeof text, "slept %" JSON_INTEGER_FORMAT, ms);
    json_t *response = s_response_new (id, s_text_result (text));
    if (response)
        s_self_schedule (self, ms, response, false);
    else
        s_self_reply (self, id, NULL);
}

static void s_self_ask (self_t *self, json_t *id, json_t *args, bool cancel);

static void
s_self_handle_tools_call (self_t *self, json_t *id, json_t *params)
{
    s_process_call_seen (&self->opts.process);
    const char *name = json_string_value (json_object_get (params, "name"));
    json_t *index = name ? json_object_get (self->tool_index, name) : NULL;
    if (!index) {
        if (name)
            s_self_reply_error (self, id, -32602, "unknown tool: %s", name);
        else
            s_self_reply_error (self, id, -32602, "tools/call needs a tool name");
        return;
    }
    const tool_t *tool = &s_tools[json_integer_value (index)];
    json_t *args = json_object_get (params, "arguments");
    json_t *problem = s_args_problem (tool, name, args);
    if (problem)
        s_self_reply (self, id, s_response_new (id, problem));
    else if (tool->kind == TOOL_ASK || tool->kind == TOOL_ASK_CANCEL)
        s_self_ask (self, id, args, tool->kind == TOOL_ASK_CANCEL);
    else if (tool->kind == TOOL_CRASH) {
        s_self_flush (self); //  what was answered before stays answered
        _exit (3);           //  at once: no atexit work, no answer
    } else if (tool->kind == TOOL_SLEEP) {
        //  A caller that asked for progress hears once, at the start.
        json_t *token = json_object_get (json_object_get (params, "_meta"), "progressToken");
        if (token)
            s_self_send (self,
                         json_pack ("{s:s,s:s,s:{s:O,s:i,s:i,s:s}}", "jsonrpc", "2.0", "method",
                                    "notifications/progress", "params", "progressToken", token,
                                    "progress", 1, "total", 2, "message", "sleeping"));
        s_self_sleep (self, id, name, json_integer_value (json_object_get (args, "ms")));
    } else
        s_self_reply (self, id, s_response_new (id, s_self_call_tool (self, tool, args)));
}

//  `ask`: sends the client a request; the call is answered when the
//  client answers (s_self_record_answer). `ask_cancel`: sends it, cancels
//  it, and answers the call with its id at once.
static void
s_self_ask (self_t *self, json_t *id, json_t *args, bool cancel)
{
    json_t *params =
        json_loads (json_string_value (json_object_get (args, "params")), JSON_DECODE_ANY, NULL);
    char request_id[32];
    snprintf (request_id, sizeof request_id, "ask-%ld", ++self->asks);
    json_t *request = json_pack ("{s:s, s:s, s:s}", "jsonrpc", "2.0", "id", request_id, "method",
                                 json_string_value (json_object_get (args, "method")));
    if (params)
        json_object_set_new (request, "params", params);
    s_self_send (self, request);
    if (cancel) {
        s_self_send (self, json_pack ("{s:s, s:s, s:{s:s, s:s}}", "jsonrpc", "2.0", "method",
                                      "notifications/cancelled", "params", "requestId", request_id,
                                      "reason", "changed my mind"));
        s_self_reply (self, id, s_response_new (id, s_text_result (request_id)));
    } else
        json_object_set (self->asking, request_id, id);
}

//  --reply: writes the template for `method`, if there is one, with its
//  placeholders filled in. Returns true if it did.
static bool
s_self_reply_raw (self_t *self, json_t *id, const char *method)
{
    const char *text = NULL;
    for (int index = 0; index < self->opts.replies; index++)
        if (streq (self->opts.reply_method[index], method))
            text = self->opts.reply_text[index];
    if (!text)
        return false;
    char *id_text = json_dumps (id, JSON_COMPACT | JSON_ENCODE_ANY);
    //  2^64 + id, in decimal: an id that wraps onto ours in 64 bits
    char id64[64] = "";
    if (json_is_integer (id)) {
        const char *two64 = "18446744073709551616";
        unsigned long long add = (unsigned long long) json_integer_value (id);
        int carry = 0;
        size_t size = strlen (two64);
        char digits[48];
        for (size_t at = size; at-- > 0;) {
            int digit = two64[at] - '0' + (int) (add % 10) + carry;
            add /= 10;
            carry = digit / 10;
            digits[at] = (char) ('0' + digit % 10);
        }
        digits[size] = 0;
        snprintf (id64, sizeof id64, "%s%s", carry ? "1" : "", digits);
    }
    for (const char *p = text; *p;) {
        if (strncmp (p, "$ID64", 5) == 0) {
            s_self_out_append (id64, strlen (id64), self);
            p += 5;
        } else if (strncmp (p, "$ID", 3) == 0) {
            s_self_out_append (id_text ? id_text : "null", strlen (id_text ? id_text : "null"),
                               self);
            p += 3;
        } else if (strncmp (p, "$PAD", 4) == 0) {
            for (long left = self->opts.pad; left > 0; left -= 4096) {
                static char xs[4096];
                if (!xs[0])
                    memset (xs, 'x', sizeof xs);
                s_self_out_append (xs, left < 4096 ? (size_t) left : 4096, self);
                s_self_flush (self);
            }
            p += 4;
        } else
            s_self_out_append (p++, 1, self);
    }
    s_self_out_append ("\n", 1, self);
    free (id_text);
    return true;
}

static void
s_self_handle_request (self_t *self, json_t *id, const char *method, json_t *params)
{
    if (s_self_reply_raw (self, id, method))
        ;
    else if (streq (method, "tools/call")) {
        s_self_handle_tools_call (self, id, params);
        if (self->opts.close_stdin_after > 0 && --self->opts.close_stdin_after == 0) {
            //  A write to our stdin now fails with EPIPE (and SIGPIPE)
            close (STDIN_FILENO);
            self->reading = false;
        }
    } else if (streq (method, "tools/list")) {
        s_self_handle_tools_list (self, id, params);
        self->reading = !self->opts.stop_reading;
    } else if (streq (method, "ping"))
        s_self_reply (self, id, s_response_new (id, json_object ()));
    else if (streq (method, "resources/list") && self->opts.resources > 0)
        s_self_handle_resources_list (self, id, params);
    else if (streq (method, "resources/read") && self->opts.resources > 0)
        s_self_handle_resources_read (self, id, params);
    else if ((streq (method, "resources/subscribe") || streq (method, "resources/unsubscribe")) &&
             self->opts.resources > 0)
        s_self_reply (self, id, s_response_new (id, json_object ()));
    else if (streq (method, "logging/setLevel"))
        //  Taken, and not heeded: --log-on-list sends every level anyway
        s_self_reply (self, id, s_response_new (id, json_object ()));
    else if (streq (method, "initialize"))
        s_self_handle_initialize (self, id, params);
    else
        s_self_reply_error (self, id, -32601, "method not found: %s", method);
}

//  Only the first notifications/initialized sets things going; other
//  notifications (cancelled, ...) need nothing from us
static void
s_self_handle_notification (self_t *self, const char *method)
{
    json_array_append_new (self->seen, json_string (method));
    if (!streq (method, "notifications/initialized") || self->initialized)
        return;
    self->initialized = true;
    if (self->opts.server_requests) {
        //  Sent whether or not the client declared sampling: it must answer
        //  a request it cannot serve with an error, and client_answers
        //  shows the tests what it said
        const char *request = "{s:s, s:s, s:s}";
        s_self_send (self, json_pack (request, "jsonrpc", "2.0", "id", "srv-1", "method", "ping"));
        const char *sampling = "{s:s, s:s, s:s, s:{}}";
        s_self_send (self, json_pack (sampling, "jsonrpc", "2.0", "id", "srv-2", "method",
                                      "sampling/createMessage", "params"));
    }
    for (long index = 0;
         self->opts.list_changed_after_ms >= 0 &&
         index < (self->opts.list_changed_burst > 1 ? self->opts.list_changed_burst : 1);
         index++) {
        json_t *notification = json_pack ("{s:s, s:s}", "jsonrpc", "2.0", "method",
                                          "notifications/tools/list_changed");
        s_self_schedule (self, self->opts.list_changed_after_ms, notification, index == 0);
    }
}

//  Keeps the client's response to one of our requests, for client_answers
static void
s_self_record_answer (self_t *self, json_t *id, json_t *response)
{
    char *key = json_is_string (id) ? strdup (json_string_value (id))
                                    : json_dumps (id, JSON_COMPACT | JSON_ENCODE_ANY);
    if (key)
        json_object_set (self->answers, key, response);
    json_t *call = key ? json_object_get (self->asking, key) : NULL;
    if (call) {
        //  An `ask` call waits for this: its answer is the response
        json_t *answer = json_object ();
        json_t *result = json_object_get (response, "result");
        json_object_set (answer, result ? "result" : "error",
                         result ? result : json_object_get (response, "error"));
        char *text = json_dumps (answer, JSON_COMPACT);
        json_decref (answer);
        s_self_reply (self, call, s_response_new (call, s_text_result (text ? text : "{}")));
        free (text);
        json_object_del (self->asking, key);
    }
    free (key);
}

//  The benchmarks' hot path, without building a JSON tree: a tools/call
//  of echo whose message is a plain string (no escapes), in the exact
//  shape clients write. Returns false for anything else.
static bool
s_self_fast_echo (self_t *self, const char *line, size_t size)
{
    static const char call[] = "\"method\":\"tools/call\",\"params\":{\"name\":\"";
    static const char args[] = "echo\",\"arguments\":{\"message\":\"";
    if (self->opts.garbage || self->opts.replies || *self->opts.prefix || size < 40 ||
        line[size - 1] != '}' || memcmp (line, "{\"jsonrpc\":\"2.0\",\"id\":", 22) != 0)
        return false;
    const char *id = line + 22, *p = id;
    while (p < line + size && *p >= '0' && *p <= '9')
        p++;
    size_t id_size = (size_t) (p - id);
    if (id_size == 0 || id_size > 20 || *p != ',' || (size_t) (line + size - p) < sizeof call ||
        memcmp (p + 1, call, sizeof call - 1) != 0)
        return false;
    p += sizeof call;
    if ((size_t) (line + size - p) < sizeof args || memcmp (p, args, sizeof args - 1) != 0)
        return false;
    const char *message = p + sizeof args - 1, *end = message;
    while (end < line + size && *end != '"' && *end != '\\')
        end++;
    if (end + 4 != line + size || memcmp (end, "\"}}}", 4) != 0)
        return false;
    char head[96];
    int head_size = snprintf (head, sizeof head,
                              "{\"jsonrpc\":\"2.0\",\"id\":%.*s,\"result\":"
                              "{\"content\":[{\"type\":\"text\",\"text\":\"",
                              (int) id_size, id);
    return s_self_out_append (head, (size_t) head_size, self) == 0 &&
           s_self_out_append (message, (size_t) (end - message), self) == 0 &&
           s_self_out_append ("\"}]}}\n", 6, self) == 0;
}

static void
s_self_handle_line (self_t *self, const char *line, size_t size)
{
    if (self->opts.input_log) {
        FILE *log = fopen (self->opts.input_log, "a");
        if (log) {
            fwrite (line, 1, size, log);
            fputc ('\n', log);
            fclose (log);
        }
    }
    if (size > 0 && line[size - 1] == '\r')
        size--;
    if (size == 0 || s_self_fast_echo (self, line, size))
        return;
    json_error_t error;
    json_t *message = json_loadb (line, size, 0, &error);
    if (!message) {
        fprintf (stderr, "%s: ignoring a line that is not JSON: %s\n", self->opts.name, error.text);
        return;
    }
    json_t *id = json_object_get (message, "id");
    const char *method = json_string_value (json_object_get (message, "method"));
    if (method && id)
        s_self_handle_request (self, id, method, json_object_get (message, "params"));
    else if (method)
        s_self_handle_notification (self, method);
    else if (id && (json_object_get (message, "result") || json_object_get (message, "error")))
        s_self_record_answer (self, id, message);
    else
        fprintf (stderr, "%s: ignoring JSON that is no JSON-RPC message\n", self->opts.name);
    json_decref (message);
}

//  Reads what stdin has and handles each complete line; returns 0, or -1
//  at EOF or on an error
static int
s_self_handle_input (self_t *self)
{
    if (self->in_size == self->in_max) {
        size_t max = self->in_max ? self->in_max * 2 : 65536;
        char *larger = realloc (self->in, max);
        if (!larger) {
            fprintf (stderr, "%s: out of memory for a %zu-byte line\n", self->opts.name,
                     self->in_size);
            return -1;
        }
        self->in = larger;
        self->in_max = max;
    }
    ssize_t rc = read (STDIN_FILENO, self->in + self->in_size, self->in_max - self->in_size);
    if (rc < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (rc <= 0) {
        if (rc < 0)
            fprintf (stderr, "%s: read: %s\n", self->opts.name, strerror (errno));
        else if (self->in_size > 0)
            s_self_handle_line (self, self->in, self->in_size); //  no final newline
        return -1;
    }
    //  What was there before holds no newline, so look only at the new bytes
    char *start = self->in, *end = self->in + self->in_size + (size_t) rc;
    char *newline = memchr (self->in + self->in_size, '\n', (size_t) rc);
    while (newline) {
        s_self_handle_line (self, start, (size_t) (newline - start));
        start = newline + 1;
        newline = memchr (start, '\n', (size_t) (end - start));
    }
    self->in_size = (size_t) (end - start);
    memmove (self->in, start, self->in_size);
    return 0;
}

//  --------------------------------------------------------------------------
//  Life cycle

static self_t *
s_self_new (const options_t *opts)
{
    self_t *self = (self_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    self->reading = true;
    self->tools = json_array ();
    self->tool_index = json_object ();
    self->answers = json_object ();
    self->asking = json_object ();
    self->seen = json_array ();
    if (!self->tools || !self->tool_index || !self->answers) {
        json_decref (self->tools);
        json_decref (self->tool_index);
        json_decref (self->answers);
        json_decref (self->asking);
        json_decref (self->seen);
        json_decref (self->capabilities);
        free (self);
        return NULL;
    }
    for (size_t index = 0; index < sizeof s_tools / sizeof *s_tools; index++)
        if (opts->asks || s_tools[index].kind < TOOL_ASK)
            s_self_add_tool (self, s_tools[index].name, index, s_tools[index].description);
    for (long count = 0; count < opts->tools; count++) {
        char name[32], description[64];
        snprintf (name, sizeof name, "tool_%04ld", count);
        snprintf (description, sizeof description, "Generated tool %ld; returns the message",
                  count);
        s_self_add_tool (self, name, 0, description);
    }
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->pending_size; index++)
        json_decref (self->pending[index].message);
    free (self->pending);
    json_decref (self->tools);
    json_decref (self->tool_index);
    json_decref (self->answers);
    json_decref (self->asking);
    json_decref (self->seen);
    json_decref (self->capabilities);
    free (self->out);
    free (self->in);
    free (self);
    *self_p = NULL;
}

int
main (int argc, char **argv)
{
    options_t opts;
    if (s_options_parse (&opts, argc, argv)) {
        s_usage (stderr);
        return 2;
    }
    if (opts.exit_unless && access (opts.exit_unless, F_OK) != 0) {
        fprintf (stderr, "fixture: %s does not exist; exiting at once\n", opts.exit_unless);
        exit (1);
    }
    if (opts.exit_at_once) {
        fprintf (stderr, "fixture: exiting at once\n");
        exit (1);
    }
    //  A client that goes away mid-answer must not kill us; we notice it by
    //  reading EOF on stdin instead.
    signal (SIGPIPE, SIG_IGN);
    if (s_process_start (&opts.process) != 0)
        return 1;
    if (opts.garbage)
        for (int line = 1; line <= 3; line++)
            fprintf (stderr, "this is not json either, line %d of 3 on stderr\n", line);
    if (opts.stderr_text)
        fputs (opts.stderr_text, stderr);
    for (long line = 1; line <= opts.stderr_lines; line++)
        fprintf (stderr, "fixture stderr line %ld\n", line);

    self_t *self = s_self_new (&opts);
    if (!self) {
        fprintf (stderr, "%s: out of memory\n", opts.name);
        return 1;
    }
    //  The one place we wait: for input, or until the next delayed job
    int status = 0;
    while (true) {
        //  Not reading: stdin stays open and its pipe fills up
        struct pollfd item = { .fd = self->reading ? STDIN_FILENO : -1, .events = POLLIN };
        int timeout = s_self_run_pending (self);
        s_self_flush (self);
        int rc = poll (&item, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            fprintf (stderr, "%s: poll: %s\n", opts.name, strerror (errno));
            status = 1;
            break;
        }
        if (rc > 0 && s_self_handle_input (self))
            break;
        s_self_flush (self);
    }
    s_self_flush (self);
    if (opts.process.ignore_eof)
        s_process_linger ();
    s_self_destroy (&self);
    return status;
}
