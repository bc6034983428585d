/*  =========================================================================
    http_server - a near-zero-cost streamable HTTP MCP server for benchmarks

    The HTTP twin of the stdio fixture: answers initialize (handing out an
    Mcp-Session-Id), tools/list (one tool, echo), tools/call echo and ping,
    each as one application/json response; notifications and client
    responses get 202 Accepted, the optional GET listen stream 405, DELETE
    200. It checks no session ids and serves any path, so that the cost
    measured is the client's.

    One thread, one epoll loop, non-blocking sockets, HTTP/1.1 keep-alive
    with pipelining; request bodies must carry Content-Length (chunked ones
    get 411). Listens on 127.0.0.1 at the port given (0 or none: any free
    port) and prints "PORT n" on stdout once it accepts connections. Runs
    until SIGINT or SIGTERM.

      http_server [PORT]
    =========================================================================
*/

#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  Larger requests are refused (413): nothing a benchmark sends comes close.
#define MAX_REQUEST (16 * 1024 * 1024)
#define MAX_EVENTS 256

static const char *s_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05" };

typedef struct {
    int fd;          //  the connection's socket
    char *in;        //  bytes read and not yet handled
    size_t in_size;  //  bytes in in
    size_t in_max;   //  room in in
    char *out;       //  response bytes not yet written
    size_t out_size; //  bytes in out
    size_t out_sent; //  of which written already
    size_t out_max;  //  room in out
    bool continued;  //  sent 100 Continue for the request at the head of in
    bool closing;    //  close once out is written
    bool want_out;   //  registered for EPOLLOUT
} s_conn_t;

static volatile sig_atomic_t s_interrupted = 0;
static unsigned long s_sessions = 0;

static void
s_on_signal (int signum)
{
    s_interrupted = 1;
}

static void
s_reserve (char **buffer, size_t *max, size_t size)
{
    if (size <= *max)
        return;
    size_t room = *max ? *max : 4096;
    while (room < size)
        room *= 2;
    char *grown = (char *) realloc (*buffer, room);
    if (!grown) {
        perror ("http_server: realloc");
        exit (1);
    }
    *buffer = grown;
    *max = room;
}

static void
s_append (s_conn_t *conn, const char *data, size_t size)
{
    s_reserve (&conn->out, &conn->out_max, conn->out_size + size);
    memcpy (conn->out + conn->out_size, data, size);
    conn->out_size += size;
}

static void
s_respond (s_conn_t *conn, int status, const char *reason, const char *extra, const char *body)
{
    char head[512];
    size_t length = body ? strlen (body) : 0;
    int size = snprintf (head, sizeof head, "HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n%s%s\r\n",
                         status, reason, body ? "Content-Type: application/json\r\n" : "", length,
                         extra ? extra : "", conn->closing ? "Connection: close\r\n" : "");
    s_append (conn, head, (size_t) size);
    if (length)
        s_append (conn, body, length);
}

//  The answer to one JSON-RPC request: a result or an error object,
//  with the initialize answer's session header in *extra.
static json_t *
s_answer (json_t *request, const char **extra, char *session_header, size_t header_max)
{
    const char *method = json_string_value (json_object_get (request, "method"));
    json_t *params = json_object_get (request, "params");
    json_t *reply =
        json_pack ("{s:s,s:O}", "jsonrpc", "2.0", "id", json_object_get (request, "id"));
    if (streq (method, "initialize")) {
        const char *asked = json_string_value (json_object_get (params, "protocolVersion"));
        const char *version = s_versions[0];
        for (size_t i = 0; asked && i < sizeof s_versions / sizeof *s_versions; i++)
            if (streq (asked, s_versions[i]))
                version = s_versions[i];
        json_object_set_new (reply, "result",
                             json_pack ("{s:s,s:{s:{}},s:{s:s,s:s}}", "protocolVersion", version,
                                        "capabilities", "tools", "serverInfo", "name",
                                        "mcpact-bench-http", "version", "1.0.0"));
        snprintf (session_header, header_max, "Mcp-Session-Id: bench-%lu\r\n", ++s_sessions);
        *extra = session_header;
    } else if (streq (method, "tools/list"))
        json_object_set_new (reply, "result",
                             json_pack ("{s:[{s:s,s:s,s:{s:s,s:{s:{s:s}},s:[s]}}]}", "tools",
                                        "name", "echo", "description", "Returns the message",
                                        "inputSchema", "type", "object", "properties", "message",
                                        "type", "string", "required", "message"));
    else if (streq (method, "tools/call")) {
        const char *tool = json_string_value (json_object_get (params, "name"));
        json_t *message = json_object_get (json_object_get (params, "arguments"), "message");
        if (!tool || !streq (tool, "echo"))
            json_object_set_new (
                reply, "error", json_pack ("{s:i,s:s}", "code", -32602, "message", "unknown tool"));
        else if (!json_is_string (message))
            json_object_set_new (reply, "result",
                                 json_pack ("{s:[{s:s,s:s}],s:b}", "content", "type", "text",
                                            "text", "message must be a string", "isError", 1));
        else
            json_object_set_new (
                reply, "result",
                json_pack ("{s:[{s:s,s:O}]}", "content", "type", "text", "text", message));
    } else if (streq (method, "ping"))
        json_object_set_new (reply, "result", json_object ());
    else
        json_object_set_new (
            reply, "error", json_pack ("{s:i,s:s}", "code", -32601, "message", "method not found"));
    return reply;
}

static void
s_handle_post (s_conn_t *conn, const char *body, size_t size)
{
    json_t *request = json_loadb (body, size, 0, NULL);
    if (!json_is_object (request)) {
        s_respond (conn, 400, "Bad Request", NULL,
                   "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
                   "\"message\":\"expected one JSON-RPC message\"}}");
        json_decref (request);
        return;
    }
    //  Notifications and responses to our (never sent) requests: 202.
    if (!json_is_string (json_object_get (request, "method")) || !json_object_get (request, "id")) {
        s_respond (conn, 202, "Accepted", NULL, NULL);
        json_decref (request);
        return;
    }
    const char *extra = NULL;
    char session_header[64];
    json_t *reply = s_answer (request, &extra, session_header, sizeof session_header);
    char *text = json_dumps (reply, JSON_COMPACT);
    s_respond (conn, 200, "OK", extra, text);
    free (text);
    json_decref (reply);
    json_decref (request);
}

//  The value of header `name` in the header block, or NULL.
static const char *
s_header (const char *head, const char *end, const char *name, size_t *length)
{
    size_t name_size = strlen (name);
    for (const char *line = strstr (head, "\r\n"); line && line < end;
         line = strstr (line, "\r\n")) {
        line += 2;
        if (line + name_size < end && strncasecmp (line, name, name_size) == 0 &&
            line[name_size] == ':') {
            const char *value = line + name_size + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            const char *stop = strstr (value, "\r\n");
            *length = (size_t) (stop - value);
            return value;
        }
    }
    return NULL;
}

//  Handles every complete request at the head of conn->in. Returns false
//  when the connection is to close once its output is written.
static bool
s_handle_input (s_conn_t *conn)
{
    while (!conn->closing) {
        if (conn->in_size == 0)
            return true;
        //  The header block ends at the first empty line; it is a C string
        //  up to there because s_read keeps a NUL after the data.
        char *blank = (char *) memmem (conn->in, conn->in_size, "\r\n\r\n", 4);
        if (!blank) {
            if (conn->in_size > 65536) {
                conn->closing = true;
                s_respond (conn, 431, "Request Header Fields Too Large", NULL, NULL);
            }
            return true;
        }
        char *body = blank + 4;
        size_t length;
        const char *value;
        size_t content_length = 0;
        if ((value = s_header (conn->in, blank + 2, "Transfer-Encoding", &length))) {
            conn->closing = true;
            s_respond (conn, 411, "Length Required", NULL, NULL);
            break;
        }
        if ((value = s_header (conn->in, blank + 2, "Content-Length", &length)))
            content_length = strtoul (value, NULL, 10);
        if (content_length > MAX_REQUEST) {
            conn->closing = true;
            s_respond (conn, 413, "Content Too Large", NULL, NULL);
            break;
        }
        if ((size_t) (body - conn->in) + content_length > conn->in_size) {
            value = s_header (conn->in, blank + 2, "Expect", &length);
            if (value && !conn->continued && strncasecmp (value, "100-continue", 12) == 0) {
                static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
                s_append (conn, go_on, sizeof go_on - 1);
                conn->continued = true;
            }
            return true;
        }
        value = s_header (conn->in, blank + 2, "Connection", &length);
        if (value && length == 5 && strncasecmp (value, "close", 5) == 0)
            conn->closing = true;
        if (strncmp (conn->in, "POST ", 5) == 0)
            s_handle_post (conn, body, content_length);
        else if (strncmp (conn->in, "GET ", 4) == 0)
            s_respond (conn, 405, "Method Not Allowed", "Allow: POST, DELETE\r\n", NULL);
        else if (strncmp (conn->in, "DELETE ", 7) == 0)
            s_respond (conn, 200, "OK", NULL, NULL);
        else
            s_respond (conn, 405, "Method Not Allowed", "Allow: POST, DELETE\r\n", NULL);
        size_t used = (size_t) (body - conn->in) + content_length;
        memmove (conn->in, conn->in + used, conn->in_size - used + 1);
        conn->in_size -= used;
        conn->continued = false;
    }
    return !conn->closing;
}

//  Reads what is there. Returns false on EOF or error.
static bool
s_read (s_conn_t *conn)
{
    while (true) {
        s_reserve (&conn->in, &conn->in_max, conn->in_size + 16384 + 1);
        ssize_t got = read (conn->fd, conn->in + conn->in_size, conn->in_max - conn->in_size - 1);
        if (got > 0) {
            conn->in_size += (size_t) got;
            conn->in[conn->in_size] = 0;
            //  A short read drained the socket (the poll is level-triggered).
            if (conn->in_size + 1 < conn->in_max)
                return true;
        } else if (got == 0)
            return false;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            return true;
        else if (errno != EINTR)
            return false;
    }
}

//  Writes what it can. Returns false on error.
static bool
s_write (s_conn_t *conn)
{
    while (conn->out_sent < conn->out_size) {
        ssize_t put = send (conn->fd, conn->out + conn->out_sent, conn->out_size - conn->out_sent,
                            MSG_NOSIGNAL);
        if (put > 0)
            conn->out_sent += (size_t) put;
        else if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        else if (put < 0 && errno == EINTR)
            continue;
        else
            return false;
    }
    conn->out_size = conn->out_sent = 0;
    return true;
}

static void
s_close (s_conn_t *conn)
{
    close (conn->fd);
    free (conn->in);
    free (conn->out);
    free (conn);
}

int
main (int argc, char **argv)
{
    int port = 0;
    if (argc > 2 || (argc == 2 && (atoi (argv[1]) < 0 || atoi (argv[1]) > 65535))) {
        fprintf (stderr, "usage: http_server [PORT]\n");
        return 2;
    }
    if (argc == 2)
        port = atoi (argv[1]);
    struct sigaction action = { .sa_handler = s_on_signal };
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    signal (SIGPIPE, SIG_IGN);

    int listener = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    setsockopt (listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_port = htons ((uint16_t) port),
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t address_size = sizeof address;
    if (bind (listener, (struct sockaddr *) &address, sizeof address) != 0 ||
        listen (listener, 1024) != 0 ||
        getsockname (listener, (struct sockaddr *) &address, &address_size) != 0) {
        perror ("http_server: listen");
        return 1;
    }
    int poller = epoll_create1 (EPOLL_CLOEXEC);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl (poller, EPOLL_CTL_ADD, listener, &event);
    printf ("PORT %d\n", ntohs (address.sin_port));
    fflush (stdout);

    struct epoll_event events[MAX_EVENTS];
    while (!s_interrupted) {
        int ready = epoll_wait (poller, events, MAX_EVENTS, -1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            perror ("http_server: epoll_wait");
            return 1;
        }
        for (int i = 0; i < ready; i++) {
            s_conn_t *conn = (s_conn_t *) events[i].data.ptr;
            if (!conn) {
                int fd;
                while ((fd = accept4 (listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                    conn = (s_conn_t *) calloc (1, sizeof (s_conn_t));
                    conn->fd = fd;
                    struct epoll_event added = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = conn };
                    epoll_ctl (poller, EPOLL_CTL_ADD, fd, &added);
                }
                continue;
            }
            bool open = true;
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                open = s_read (conn);
                //  Answer what came even if the peer half-closed after it.
                bool keep = s_handle_input (conn);
                open = s_write (conn) && open && (keep || conn->out_size > 0);
            } else if (events[i].events & EPOLLOUT)
                open = s_write (conn) && (!conn->closing || conn->out_size > 0);
            if (!open) {
                epoll_ctl (poller, EPOLL_CTL_DEL, conn->fd, NULL);
                s_close (conn);
                continue;
            }
            bool want_out = conn->out_size > 0;
            if (want_out != conn->want_out) {
                struct epoll_event changed = { .events =
                                                   EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0),
                                               .data.ptr = conn };
                epoll_ctl (poller, EPOLL_CTL_MOD, conn->fd, &changed);
                conn->want_out = want_out;
            }
        }
    }
    close (poller);
    close (listener);
    return 0;
}
