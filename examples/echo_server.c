/*  =========================================================================
    echo_server - the example MCP server that the mcpact CLI runs by default

    A complete MCP server over stdio in one small file, to show how little
    one needs: it reads newline-delimited JSON-RPC 2.0 from stdin, answers
    initialize, ping, tools/list and tools/call, and offers two tools, echo
    and add. Every answer goes out as one line in one write(2), so a reader
    never sees half a message. Single-threaded, no state worth the name; it
    exits with status 0 when stdin closes.
    =========================================================================
*/

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVER_NAME "mcpact-example"
#define SERVER_VERSION "0.1.0"

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  The protocol versions we speak, newest first. We answer with the one the
//  client asked for when we know it, else with our newest and let the client
//  decide whether it can live with that.
static const char *s_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05" };
#define VERSIONS (sizeof s_versions / sizeof *s_versions)

//  Writes one message as one line and takes it over. json_dumps leaves room
//  for a NUL after the text; we put the newline there instead, so the whole
//  line goes out in one write(2) without a copy.
static void
s_send (json_t *message)
{
    char *text = message ? json_dumps (message, JSON_COMPACT) : NULL;
    json_decref (message);
    if (!text) {
        fprintf (stderr, SERVER_NAME ": could not encode an answer\n");
        return;
    }
    size_t size = strlen (text);
    text[size++] = '\n';
    for (size_t sent = 0; sent < size;) {
        ssize_t rc = write (STDOUT_FILENO, text + sent, size - sent);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            break; //  the client has gone; we will read EOF soon
        sent += (size_t) rc;
    }
    free (text);
}

//  Answers request `id` with `result`, which it takes over
static void
s_reply (json_t *id, json_t *result)
{
    s_send (json_pack ("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result));
}

//  Answers request `id` with a JSON-RPC error; takes over `message`
static void
s_reply_error (json_t *id, int code, json_t *message)
{
    s_send (json_pack ("{s:s, s:O, s:{s:i, s:o}}", "jsonrpc", "2.0", "id", id, "error", "code",
                       code, "message", message));
}

//  A tools/call result holding one text. A tool that cannot do its job says
//  so in the result with isError, so the model can read why and try again.
static json_t *
s_text_result (const char *text, bool is_error)
{
    json_t *result = json_pack ("{s:[{s:s, s:s}]}", "content", "type", "text", "text", text);
    if (result && is_error)
        json_object_set_new (result, "isError", json_true ());
    return result;
}

//  The tools we offer, as tools/list returns them: a name, a description
//  for the model, and a JSON Schema for the arguments.
static json_t *
s_tools_list (void)
{
    // clang-format off
    return json_pack ("{s:[{s:s, s:s, s:{s:s, s:{s:{s:s}}, s:[s]}},"
                      "    {s:s, s:s, s:{s:s, s:{s:{s:s}, s:{s:s}}, s:[s, s]}}]}",
        "tools",
            "name", "echo",
            "description", "Returns the message it is given",
            "inputSchema",
                "type", "object",
                "properties",
                    "message", "type", "string",
                "required", "message",
            "name", "add",
            "description", "Adds two numbers",
            "inputSchema",
                "type", "object",
                "properties",
                    "a", "type", "number",
                    "b", "type", "number",
                "required", "a", "b");
    // clang-format on
}

//  Runs a tool; returns its result, or NULL when there is no such tool
static json_t *
s_call_tool (const char *name, json_t *args)
{
    if (streq (name, "echo")) {
        json_t *message = json_object_get (args, "message");
        if (!json_is_string (message))
            return s_text_result ("echo needs 'message', a string", true);
        return s_text_result (json_string_value (message), false);
    }
    if (streq (name, "add")) {
        json_t *a = json_object_get (args, "a");
        json_t *b = json_object_get (args, "b");
        if (!json_is_number (a) || !json_is_number (b))
            return s_text_result ("add needs 'a' and 'b', both numbers", true);
        char sum[64];
        snprintf (sum, sizeof sum, "%.15g", json_number_value (a) + json_number_value (b));
        return s_text_result (sum, false);
    }
    return NULL;
}

static void
s_handle_request (json_t *id, const char *method, json_t *params)
{
    if (streq (method, "initialize")) {
        const char *asked = json_string_value (json_object_get (params, "protocolVersion"));
        const char *version = s_versions[0];
        for (size_t index = 0; asked && index < VERSIONS; index++)
            if (streq (asked, s_versions[index]))
                version = s_versions[index];
        s_reply (id, json_pack ("{s:s, s:{s:{s:b}}, s:{s:s, s:s}}", "protocolVersion", version,
                                "capabilities", "tools", "listChanged", true, "serverInfo", "name",
                                SERVER_NAME, "version", SERVER_VERSION));
    } else if (streq (method, "ping")) {
        s_reply (id, json_object ());
    } else if (streq (method, "tools/list")) {
        s_reply (id, s_tools_list ());
    } else if (streq (method, "tools/call")) {
        const char *name = json_string_value (json_object_get (params, "name"));
        json_t *args = json_object_get (params, "arguments");
        json_t *result = name ? s_call_tool (name, args) : NULL;
        if (result)
            s_reply (id, result);
        else if (name)
            s_reply_error (id, -32602, json_sprintf ("unknown tool: %s", name));
        else
            s_reply_error (id, -32602, json_string ("tools/call needs a tool name"));
    } else {
        s_reply_error (id, -32601, json_sprintf ("method not found: %s", method));
    }
}

static void
s_handle_line (const char *line, size_t size)
{
    if (size > 0 && line[size - 1] == '\r')
        size--;
    if (size == 0)
        return;
    json_error_t error;
    json_t *message = json_loadb (line, size, 0, &error);
    if (!message)
        fprintf (stderr, SERVER_NAME ": ignoring a line that is not JSON: %s\n", error.text);
    else if (!json_is_object (message))
        fprintf (stderr, SERVER_NAME ": ignoring a JSON line that is not an object\n");
    else {
        //  Notifications (no id) need nothing from us, and we send no
        //  requests, so a message without a method is not for us either.
        json_t *id = json_object_get (message, "id");
        const char *method = json_string_value (json_object_get (message, "method"));
        if (id && method)
            s_handle_request (id, method, json_object_get (message, "params"));
    }
    json_decref (message);
}

int
main (void)
{
    //  A client that goes away mid-answer must not kill us; we notice it by
    //  reading EOF on stdin instead, and leave quietly.
    signal (SIGPIPE, SIG_IGN);

    size_t size = 0, capacity = 4096;
    char *buffer = malloc (capacity);
    int status = buffer ? 0 : 1;
    while (buffer) {
        ssize_t rc = read (STDIN_FILENO, buffer + size, capacity - size);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            perror (SERVER_NAME ": read");
            status = 1;
        }
        if (rc == 0 && size > 0)
            s_handle_line (buffer, size); //  a last line without its newline
        if (rc <= 0)
            break;
        size += (size_t) rc;

        //  Handle every complete line; keep the unfinished rest for later
        char *start = buffer, *newline;
        while ((newline = memchr (start, '\n', size - (size_t) (start - buffer)))) {
            s_handle_line (start, (size_t) (newline - start));
            start = newline + 1;
        }
        size -= (size_t) (start - buffer);
        memmove (buffer, start, size);
        if (size == capacity) {
            char *larger = realloc (buffer, capacity * 2);
            if (!larger) {
                fprintf (stderr, SERVER_NAME ": out of memory for a %zu-byte line\n", size);
                free (buffer);
                return 1;
            }
            buffer = larger;
            capacity *= 2;
        }
    }
    free (buffer);
    return status;
}
