/*  =========================================================================
    http - the HTTP transports: streamable HTTP and the older HTTP+SSE

    One libcurl multi handle per server, driven by the socket-action API
    from the server actor's single poll loop: curl tells us which sockets
    to watch and when its timer is due (s_socket_cb, s_timer_cb), we put
    those in the actor's poll, and hand back what became ready. Every
    message is its own transfer, so many requests are in flight at once and
    one failing request never disturbs its siblings.

    Streamable HTTP (MCP 2025-11-25): each message is a POST; the answer is
    JSON or an SSE stream (which may carry requests and notifications before
    the response). The session id and protocol version ride on every later
    request; a GET opens the optional listen stream (405 is fine), and
    until the first one of a session has its response headers (at most
    LISTEN_WAIT_MS) calls wait, so that what a server sends on it about
    them is not lost (a server with no listen stream drops it); a 404 on
    a request that carried the session id means the session expired: we
    initialise a new one ourselves and replay that request once; a response
    stream that ends before its response is resumed with GET and
    Last-Event-ID after the server's retry delay; DELETE ends the session.

    HTTP+SSE (MCP 2024-11-05): a GET stream whose first event names the
    endpoint to POST to (same origin only); responses arrive on the stream.
    If that stream drops, the session is gone: the transport reports itself
    dead and the server actor reconnects with backoff.

    With transport "auto" and a URL that ends in neither /mcp nor /sse, the
    initialize POST decides: 400, 404 or 405 means an older server, and we
    fall back to HTTP+SSE, as the specification's compatibility section
    says.

    Redirects are followed here, not by libcurl, and only within the
    configured URL's origin (scheme, host, port): the configured headers,
    the session id and any credentials in the URL belong to that origin,
    and libcurl offers no hook to stop a redirected request before it goes
    out. A redirect elsewhere fails the request, naming both origins.

    Authorization (auth/oauth.h): every request carries the server's
    access token; a 401, or a 403 asking for more scope, parks the request
    while the OAuth state runs an authorization on its own thread (polled
    here like curl's sockets), and sends it again once a token came. New
    requests wait meanwhile, and before a token expires it is refreshed.

    A request that fails at the HTTP level is answered with a JSON-RPC
    error made here, so the waiting call ends with the reason. Header
    values are never logged (they hold tokens).

    Threading: used by its server actor's thread only. libcurl calls us
    back from inside curl_multi_socket_action; nothing in a callback may
    call into the multi handle, so new transfers are queued and started
    when the actor next asks what to poll, which also sends them there and
    then: a sequential call is on the wire before the actor polls.
    =========================================================================
*/

#include "transport.h"

#include "text.h"
#include "idmap.h"
#include "jsonscan.h"
#include "log.h"
#include "oauth.h"
#include "sse.h"

#include "curl_lib.h"
#include <ctype.h>
#include <czmq.h>
#include <stdarg.h>

//  How often a resumed response stream may be resumed again.
#define MAX_RESUMES 5
//  Default reconnection delay when the server gave no retry field.
#define DEFAULT_RETRY_MS 1000
//  Bytes of an error body quoted in an error message.
#define ERROR_BODY_MAX 300
//  How long calls wait for the first listen stream of a session to be
//  open (its response headers): a server may send what a call asks of
//  the client (elicitation, sampling) or says of it (logs, progress) on
//  that stream alone, and drops it while the stream is not there yet.
#define LISTEN_WAIT_MS 1000
//  Redirects followed at most, per request.
#define MAX_REDIRECTS 5
//  How long closing may wait for the DELETE.
#define DELETE_TIMEOUT_MS 1000

typedef enum {
    K_POST,    //  a message, streamable HTTP
    K_LISTEN,  //  the GET listen stream, streamable HTTP
    K_RESUME,  //  GET with Last-Event-ID, resuming a response stream
    K_STREAM,  //  the GET event stream, HTTP+SSE
    K_SSE_POST //  a message, HTTP+SSE
} s_kind_t;

typedef struct _s_http_t s_http_t;

typedef struct _s_req_t {
    s_http_t *http;              //  owner
    CURL *easy;                  //  the transfer
    struct curl_slist *headers;  //  its request headers
    s_kind_t kind;               //  what it is
    char *body;                  //  POST body (owned)
    char *rpc_id;                //  raw JSON id of a request, else NULL
    bool initialize;             //  the body is an initialize request
    bool initialized;            //  the body is notifications/initialized
    bool internal;               //  our own re-initialize: not delivered
    bool replayed;               //  replayed once after a 404 already
    bool had_session;            //  carried a session id
    bool had_token;              //  carried an access token
    unsigned token_generation;   //  of that token (oauth_generation)
    int resumes;                 //  times this response was resumed
    char *last_id;               //  last SSE event id seen on it
    int retry_ms;                //  retry field seen on it, or -1
    bool started;                //  first body byte seen
    long status;                 //  HTTP status
    bool is_sse;                 //  body is an event stream
    char *bad_type;              //  an unexpected Content-Type, if so
    bool answered;               //  its response was delivered
    bool too_large;              //  its answer passed the size limit
    int redirects;               //  redirects followed so far
    char *refused;               //  why a redirect was not followed, if so
    sse_t sse;                   //  event parser, when is_sse
    jsonbuf_t data;              //  JSON (or error) body
    char error[CURL_ERROR_SIZE]; //  curl's reason
    struct _s_req_t *next;       //  in the active list
} s_req_t;

typedef struct {
    int64_t when;  //  when to start it
    char *rpc_id;  //  the request whose response we resume
    char *last_id; //  Last-Event-ID
    int resumes;   //  times resumed so far
} s_resume_t;

struct _s_http_t {
    const mcpact_server_config_t *config; //  the actor's (outlives us)
    char *name;                           //  server name, for logs
    char *safe_url;                       //  URL without query or credentials, for logs
    char *origin;                         //  the URL's scheme://host:port: nothing leaves it
    mcpact_transport_t mode;              //  STREAMABLE_HTTP or SSE
    bool probing;                         //  auto: the initialize POST decides
    CURLM *multi;                         //  all transfers
    zmq_pollitem_t *fds;                  //  sockets curl asked us to watch
    int fd_max;                           //  allocated
    int fd_count;                         //  how many
    int64_t timer_at;                     //  curl's timer, ms; -1 none
    s_req_t *reqs;                        //  transfers in progress
    int req_count;                        //  how many
    size_t held;                          //  bytes of their request bodies, and the outbox's
    bool ended;                           //  one ended outside s_handle: handle soon
    zlistx_t *outbox;                     //  messages waiting to be sent (char *)
    zlistx_t *inbox;                      //  messages made here, to deliver (char *)
    zlistx_t *resumes;                    //  scheduled resumptions (s_resume_t *)
    char *session_id;                     //  Mcp-Session-Id
    char *protocol;                       //  negotiated version, once known
    char *init_body;                      //  the initialize request, for a new session
    char *initialized_body;               //  notifications/initialized, likewise
    bool reinit;                          //  a new session is being set up
    zlistx_t *replay;                     //  requests to replay after it (char *)
    bool listen_wanted;                   //  open the GET listen stream
    bool listen_off;                      //  server said 405: never mind
    int64_t listen_at;                    //  when to (re)open it
    char *listen_last_id;                 //  its last event id
    bool listen_opened;                   //  one was opened in this session
    bool listen_opening;                  //  that first one has no response headers yet
    int64_t listen_wait_until;            //  calls wait for it until then (ms)
    s_req_t *stream;                      //  HTTP+SSE event stream
    char *endpoint;                       //  HTTP+SSE: where to POST
    char *error;                          //  why the transport died
    bool dead;                            //  it did
    oauth_t *oauth;                       //  OAuth state, NULL without
    zlistx_t *auth_wait;                  //  requests waiting for a token (char *)
    transport_msg_fn *on_msg;             //  during handle: deliver here
    void *owner;                          //  its argument
};

static void s_req_destroy (s_req_t **self_p);

static void
s_die (s_http_t *self, const char *format, ...)
{
    if (self->dead)
        return;
    char text[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    self->error = strdup (text);
    self->dead = true;
}

//  --------------------------------------------------------------------------
//  Delivering messages to the actor

static void
s_note_protocol (s_http_t *self, const char *msg, size_t size)
{
    json_error_t error;
    json_t *message = jsonscan_load (msg, size, 0, &error);
    const char *version = json_string_value (
        json_object_get (json_object_get (message, "result"), "protocolVersion"));
    if (version) {
        free (self->protocol);
        self->protocol = strdup (version);
    }
    json_decref (message);
}

//  True if the id at [id, id_end) answers the request whose raw JSON id
//  is `rpc_id`: the same text, or the same number in string form.
static bool
s_answers (const char *id, const char *id_end, const char *rpc_id)
{
    size_t size = (size_t) (id_end - id);
    if (size == strlen (rpc_id) && memcmp (id, rpc_id, size) == 0)
        return true;
    uint64_t ours, theirs;
    return jsonscan_id (rpc_id, rpc_id + strlen (rpc_id), &ours) &&
           jsonscan_id (id, id_end, &theirs) && ours == theirs;
}

typedef struct {
    s_http_t *self;
    s_req_t *req;
} s_batch_t;

static void s_deliver (s_http_t *self, s_req_t *req, const char *msg, size_t size);

static void
s_deliver_member (void *arg, const char *msg, size_t size)
{
    s_batch_t *batch = (s_batch_t *) arg;
    s_deliver (batch->self, batch->req, msg, size);
}

//  Hands one message to the actor and notes whether it answers `req`.
static void
s_deliver (s_http_t *self, s_req_t *req, const char *msg, size_t size)
{
    const char *end = msg + size, *id, *id_end, *method, *method_end;
    bool response = !jsonscan_member (msg, end, "method", &method, &method_end) &&
                    jsonscan_member (msg, end, "id", &id, &id_end);
    if (req && req->rpc_id && response && s_answers (id, id_end, req->rpc_id)) {
        req->answered = true;
        if (req->initialize)
            s_note_protocol (self, msg, size);
        if (req->internal)
            return;
    }
    //  A batch (2025-03-26 allowed them): deliver each member.
    s_batch_t batch = { self, req };
    if (jsonscan_each (msg, end, s_deliver_member, &batch) >= 0)
        return;
    if (self->on_msg)
        self->on_msg (self->owner, msg, size);
    else //  curl ran from s_poll_items: deliver at the next s_handle
        zlistx_add_end (self->inbox, strndup (msg, size));
}

//  Ends request `rpc_id` with a JSON-RPC error made here.
static void
s_fail_request (s_http_t *self, const char *rpc_id, const char *format, ...)
{
    char reason[768];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    if (!rpc_id) {
        log_warn ("server %s: %s", self->name, reason);
        return;
    }
    jsonbuf_t buf = { 0 };
    jsonbuf_append_str (&buf, "{\"jsonrpc\":\"2.0\",\"id\":");
    jsonbuf_append_str (&buf, rpc_id);
    //  No code: the server sent no error; the reason is ours.
    jsonbuf_append_str (&buf, ",\"error\":{\"message\":");
    jsonbuf_append_quoted (&buf, reason);
    jsonbuf_append_str (&buf, "}}");
    zlistx_add_end (self->inbox, buf.data);
}

//  --------------------------------------------------------------------------
//  Origins and redirects

//  The origin of a parsed URL, "scheme://host:port" with the scheme and
//  host in lower case and the port always given, so that two origins are
//  the same exactly when their texts are; NULL if the URL has no host.
//  Caller frees.
static char *
s_url_origin (CURLU *url)
{
    char *scheme = NULL, *host = NULL, *port = NULL, *origin = NULL;
    if (curl_url_get (url, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get (url, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get (url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        origin = text_format ("%s://%s:%s", scheme, host, port);
    curl_free (scheme), curl_free (host), curl_free (port);
    for (char *p = origin; p && *p; p++)
        *p = (char) tolower ((unsigned char) *p);
    return origin;
}

//  The origin of a URL text, or NULL. Caller frees.
static char *
s_origin (const char *text)
{
    CURLU *url = curl_url ();
    char *origin = NULL;
    if (url && curl_url_set (url, CURLUPART_URL, text, 0) == CURLUE_OK)
        origin = s_url_origin (url);
    curl_url_cleanup (url);
    return origin;
}

static bool
s_is_redirect (long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

//  Credentials in the configured URL (user:password@) go along to its own
//  origin; an absolute Location, the usual kind, carries none.
static void
s_keep_credentials (s_http_t *self, CURLU *target)
{
    char *user = NULL, *password = NULL;
    if (curl_url_get (target, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        curl_free (user);
        return;
    }
    CURLU *configured = curl_url ();
    if (configured && curl_url_set (configured, CURLUPART_URL, self->config->url, 0) == CURLUE_OK &&
        curl_url_get (configured, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        curl_url_set (target, CURLUPART_USER, user, 0);
        if (curl_url_get (configured, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
            curl_url_set (target, CURLUPART_PASSWORD, password, 0);
    }
    curl_free (user);
    curl_free (password);
    curl_url_cleanup (configured);
}

//  Where a redirect answer on `easy` leads, if it may be followed: the
//  absolute URL (caller frees). NULL if the answer is no redirect, or one
//  without a Location (an HTTP error like any other), or, with the reason
//  in *refused (caller frees), one that must not be followed: to another
//  origin (a different scheme, http to https included, is one), past
//  MAX_REDIRECTS, or a 303 that would turn a POST or DELETE into a GET.
//  301, 302, 307 and 308 keep the method and body: an MCP message has no
//  meaning as a GET, and libcurl's CURL_REDIR_POST_ALL did the same.
static char *
s_redirect_url (s_http_t *self, CURL *easy, long status, bool get, int redirects, char **refused)
{
    *refused = NULL;
    char *location = NULL;
    if (!s_is_redirect (status) ||
        curl_easy_getinfo (easy, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || !location)
        return NULL;
    CURLU *target = curl_url ();
    char *origin = NULL, *next = NULL, *text = NULL;
    if (target && curl_url_set (target, CURLUPART_URL, location, 0) == CURLUE_OK)
        origin = s_url_origin (target);
    if (!origin)
        *refused = text_format ("server %s: refused the HTTP %ld redirect from %s: its Location is "
                                "not a usable URL",
                                self->name, status, self->origin);
    else if (strcmp (origin, self->origin) != 0)
        *refused =
            text_format ("server %s: refused the HTTP %ld redirect from %s to another origin, "
                         "%s: the server's headers, session and credentials go to %s only "
                         "(configure the new URL if you trust it)",
                         self->name, status, self->origin, origin, self->origin);
    else if (redirects >= MAX_REDIRECTS)
        *refused = text_format ("server %s: more than %d redirects from %s; not followed",
                                self->name, MAX_REDIRECTS, self->safe_url);
    else if (status == 303 && !get)
        *refused = text_format ("server %s: HTTP 303 See Other from %s: an MCP message cannot be "
                                "re-sent as a GET",
                                self->name, self->safe_url);
    else {
        s_keep_credentials (self, target);
        if (curl_url_get (target, CURLUPART_URL, &text, 0) == CURLUE_OK)
            next = strdup (text);
        if (!next)
            *refused =
                text_format ("server %s: cannot follow the HTTP %ld redirect", self->name, status);
    }
    curl_free (text);
    free (origin);
    curl_url_cleanup (target);
    return next;
}

//  Restarts a finished transfer at the place its redirect names, if it
//  may go there; else notes why not in req->refused. Returns whether it
//  restarted. Not called from inside curl: it changes the multi handle.
static bool
s_follow (s_http_t *self, s_req_t *req, CURLcode code)
{
    if (code != CURLE_OK)
        return false;
    bool get = req->kind == K_LISTEN || req->kind == K_RESUME || req->kind == K_STREAM;
    char *next = s_redirect_url (self, req->easy, req->status, get, req->redirects, &req->refused);
    if (!next)
        return false;
    //  The same transfer again, the same headers and body, elsewhere on
    //  the origin: what it received so far was the redirect's own body.
    curl_multi_remove_handle (self->multi, req->easy);
    curl_easy_setopt (req->easy, CURLOPT_URL, next);
    free (next);
    log_debug ("server %s: followed an HTTP %ld redirect within %s", self->name, req->status,
               self->origin);
    req->redirects++;
    req->started = false;
    req->status = 0;
    req->error[0] = '\0';
    req->data.size = 0;
    if (req->data.data)
        req->data.data[0] = '\0';
    if (curl_multi_add_handle (self->multi, req->easy) != CURLM_OK) {
        req->refused =
            text_format ("server %s: cannot restart the request after a redirect", self->name);
        return false;
    }
    return true;
}

//  --------------------------------------------------------------------------
//  curl callbacks

static int
s_socket_cb (CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    s_http_t *self = (s_http_t *) arg;
    int index = 0;
    while (index < self->fd_count && self->fds[index].fd != fd)
        index++;
    if (what == CURL_POLL_REMOVE) {
        if (index < self->fd_count)
            self->fds[index] = self->fds[--self->fd_count];
        return 0;
    }
    if (index == self->fd_count) {
        if (self->fd_count == self->fd_max) {
            int max = self->fd_max ? self->fd_max * 2 : 16;
            zmq_pollitem_t *grown =
                (zmq_pollitem_t *) realloc (self->fds, (size_t) max * sizeof *grown);
            if (!grown)
                return -1;
            self->fds = grown;
            self->fd_max = max;
        }
        self->fd_count++;
    }
    short events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= ZMQ_POLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= ZMQ_POLLOUT;
    self->fds[index] = (zmq_pollitem_t){ NULL, fd, events, 0 };
    return 0;
}

static int
s_timer_cb (CURLM *multi, long timeout_ms, void *arg)
{
    s_http_t *self = (s_http_t *) arg;
    self->timer_at = timeout_ms < 0 ? -1 : clock_ms () + timeout_ms;
    return 0;
}

static void
s_on_event (void *arg, const char *event, const char *data, size_t size, const char *id)
{
    s_req_t *req = (s_req_t *) arg;
    s_http_t *self = req->http;
    if (req->kind == K_STREAM && strcmp (event, "endpoint") == 0) {
        //  The endpoint is resolved against the stream's URL and must stay
        //  on its origin: a server must not send our messages (and headers)
        //  elsewhere.
        CURLU *url = curl_url ();
        char *text = strndup (data, size), *resolved = NULL, *origin = NULL;
        if (url && text && curl_url_set (url, CURLUPART_URL, self->config->url, 0) == CURLUE_OK &&
            curl_url_set (url, CURLUPART_URL, text, 0) == CURLUE_OK &&
            curl_url_get (url, CURLUPART_URL, &resolved, 0) == CURLUE_OK)
            origin = s_url_origin (url);
        if (!origin)
            s_die (self, "the SSE endpoint event holds no usable URL");
        else if (strcmp (origin, self->origin) != 0)
            s_die (self, "the SSE endpoint event points to another origin (%s, not %s); refused",
                   origin, self->origin);
        else {
            free (self->endpoint);
            self->endpoint = strdup (resolved);
            log_debug ("server %s: SSE endpoint announced", self->name);
        }
        curl_free (resolved);
        curl_url_cleanup (url);
        free (origin);
        free (text);
        return;
    }
    if (strcmp (event, "message") != 0 || size == 0)
        return;
    s_deliver (self, req, data, size);
}

//  The session id comes with the initialize response's headers; take it
//  before the response is handed on, since the actor answers at once with
//  requests that must carry it.
static void
s_take_session (s_http_t *self, s_req_t *req)
{
    struct curl_header *header = NULL;
    if (req->initialize && req->status >= 200 && req->status < 300 &&
        curl_easy_header (req->easy, "Mcp-Session-Id", 0, CURLH_HEADER, -1, &header) == CURLHE_OK &&
        header->value && *header->value &&
        (!self->session_id || strcmp (self->session_id, header->value) != 0)) {
        free (self->session_id);
        self->session_id = strdup (header->value);
    }
}

//  The listen stream's response headers: at their end, the server has
//  taken the stream (or refused it), and calls need not wait any longer.
static size_t
s_listen_header_cb (char *data, size_t one, size_t size, void *arg)
{
    s_req_t *req = (s_req_t *) arg;
    long status = 0;
    if (one * size <= 2 && (data[0] == '\r' || data[0] == '\n')) {
        curl_easy_getinfo (req->easy, CURLINFO_RESPONSE_CODE, &status);
        //  Not the 100 before the answer, nor a redirect that follows
        if (status >= 200 && (status < 300 || status >= 400))
            req->http->listen_opening = false;
    }
    return one * size;
}

static size_t
s_write_cb (char *data, size_t one, size_t size, void *arg)
{
    s_req_t *req = (s_req_t *) arg;
    s_http_t *self = req->http;
    if (!req->started) {
        req->started = true;
        curl_easy_getinfo (req->easy, CURLINFO_RESPONSE_CODE, &req->status);
        char *type = NULL;
        curl_easy_getinfo (req->easy, CURLINFO_CONTENT_TYPE, &type);
        s_take_session (self, req);
        bool ok = req->status >= 200 && req->status < 300;
        bool stream = req->kind == K_STREAM || req->kind == K_LISTEN || req->kind == K_RESUME;
        if (ok && type && strncasecmp (type, "text/event-stream", 17) == 0) {
            req->is_sse = true;
            sse_init (&req->sse, TRANSPORT_MAX_MESSAGE);
        } else if (ok && (stream || req->kind == K_POST) &&
                   !(req->kind == K_POST && type &&
                     strncasecmp (type, "application/json", 16) == 0)) {
            req->bad_type = strdup (type ? type : "(none)");
            return 0; //  abort the transfer; completion reports it
        }
    }
    size_t bytes = one * size;
    if (req->is_sse) {
        sse_feed (&req->sse, data, bytes, s_on_event, req);
        const char *last = sse_last_id (&req->sse);
        if (last && (!req->last_id || strcmp (last, req->last_id) != 0)) {
            free (req->last_id);
            req->last_id = strdup (last);
        }
        req->retry_ms = sse_retry (&req->sse);
        //  A resumed stream has done its job once the response came: the
        //  server may keep it open, but we must not.
        if (self->dead || (req->kind == K_RESUME && req->answered))
            return 0;
        return bytes;
    }
    //  A JSON answer is bounded by the maximum message size; anything else
    //  (an error page, "Accepted") is kept only for quoting in an error.
    bool json = req->status < 300 && req->kind == K_POST;
    size_t limit = json ? TRANSPORT_MAX_MESSAGE : ERROR_BODY_MAX;
    size_t take = bytes;
    if (req->data.size + bytes > limit) {
        if (json) {
            req->too_large = true;
            return 0; //  abort the transfer; completion says why
        }
        take = req->data.size < limit ? limit - req->data.size : 0;
    }
    jsonbuf_append (&req->data, data, take);
    return bytes;
}

static size_t
s_discard_cb (char *data, size_t one, size_t size, void *arg)
{
    return one * size;
}

//  --------------------------------------------------------------------------
//  Starting transfers

static void
s_add_header (s_req_t *req, const char *name, const char *value)
{
    char *line = NULL;
    if (asprintf (&line, "%s: %s", name, value) > 0)
        req->headers = curl_slist_append (req->headers, line);
    free (line);
}

//  HTTP and HTTPS only. libcurl must not follow redirects itself: it
//  would send the configured headers to wherever they lead before we
//  could look (s_follow does it instead). The protocol list (libcurl
//  7.85) is a second guard; the URLs are checked before they get here.
static void
s_set_protocols (CURL *easy)
{
    curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
}

//  The outbox: messages waiting to be sent, counted in `held`. Takes
//  `msg` (NULL, out of memory, is dropped).
static void
s_outbox_put (s_http_t *self, char *msg, bool first)
{
    if (!msg)
        return;
    self->held += strlen (msg);
    if (first)
        zlistx_add_start (self->outbox, msg);
    else
        zlistx_add_end (self->outbox, msg);
}

//  The next message to send (the caller frees it).
static char *
s_outbox_take (s_http_t *self)
{
    char *msg = (char *) zlistx_first (self->outbox);
    zlistx_detach_cur (self->outbox);
    if (msg)
        self->held -= strlen (msg);
    return msg;
}

static s_req_t *
s_req_new (s_http_t *self, s_kind_t kind, const char *url, const char *body)
{
    s_req_t *req = (s_req_t *) calloc (1, sizeof (s_req_t));
    req->http = self;
    req->kind = kind;
    req->retry_ms = -1;
    req->easy = curl_easy_init ();
    if (!req->easy) {
        free (req);
        return NULL;
    }
    CURL *easy = req->easy;
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_PRIVATE, req);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, req);
    curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, req->error);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    s_set_protocols (easy);
    curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS, (long) self->config->connect_ms);
    curl_easy_setopt (easy, CURLOPT_TCP_NODELAY, 1L);
    if (kind == K_LISTEN) {
        curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, s_listen_header_cb);
        curl_easy_setopt (easy, CURLOPT_HEADERDATA, req);
    }
    if (kind == K_LISTEN || kind == K_RESUME || kind == K_STREAM) {
        //  A stream that stays silent longer than the read timeout is dead.
        curl_easy_setopt (easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt (easy, CURLOPT_LOW_SPEED_TIME,
                          (long) (self->config->sse_read_ms + 999) / 1000);
        s_add_header (req, "Accept", "text/event-stream");
    } else {
        s_add_header (req, "Accept", "application/json, text/event-stream");
        s_add_header (req, "Content-Type", "application/json");
        req->body = strdup (body);
        self->held += req->body ? strlen (req->body) : 0;
        curl_easy_setopt (easy, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE, (long) strlen (req->body));
    }
    if (self->mode == MCPACT_TRANSPORT_STREAMABLE_HTTP) {
        if (self->session_id) {
            s_add_header (req, "Mcp-Session-Id", self->session_id);
            req->had_session = true;
        }
        if (self->protocol)
            s_add_header (req, "MCP-Protocol-Version", self->protocol);
    }
    const char *token = self->oauth ? oauth_token (self->oauth) : NULL;
    if (token) {
        char *bearer = text_format ("Bearer %s", token);
        if (bearer) {
            s_add_header (req, "Authorization", bearer);
            memset (bearer, 0, strlen (bearer));
            free (bearer);
            req->had_token = true;
        }
    }
    if (self->oauth)
        req->token_generation = oauth_generation (self->oauth);
    for (size_t i = 0; i < self->config->headers_count; i++)
        s_add_header (req, self->config->headers[i].name, self->config->headers[i].value);
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, req->headers);
    if (curl_multi_add_handle (self->multi, easy) != CURLM_OK) {
        s_req_destroy (&req);
        return NULL;
    }
    req->next = self->reqs;
    self->reqs = req;
    self->req_count++;
    return req;
}

static void
s_req_destroy (s_req_t **self_p)
{
    s_req_t *req = *self_p;
    if (!req)
        return;
    s_http_t *self = req->http;
    for (s_req_t **p = &self->reqs; *p; p = &(*p)->next)
        if (*p == req) {
            *p = req->next;
            self->req_count--;
            break;
        }
    if (self->stream == req)
        self->stream = NULL;
    curl_multi_remove_handle (self->multi, req->easy);
    curl_easy_cleanup (req->easy);
    curl_slist_free_all (req->headers);
    if (req->is_sse)
        sse_free (&req->sse);
    jsonbuf_free (&req->data);
    req->http->held -= req->body ? strlen (req->body) : 0;
    free (req->body);
    free (req->rpc_id);
    free (req->last_id);
    free (req->bad_type);
    free (req->refused);
    free (req);
    *self_p = NULL;
}

//  The raw id of a request (NULL for notifications and responses).
static char *
s_request_id (const char *msg, const char **method, size_t *method_size)
{
    const char *end = msg + strlen (msg), *value, *value_end, *id, *id_end;
    *method = NULL;
    *method_size = 0;
    if (!jsonscan_member (msg, end, "method", &value, &value_end))
        return NULL;
    *method = value;
    *method_size = (size_t) (value_end - value);
    if (!jsonscan_member (msg, end, "id", &id, &id_end))
        return NULL;
    return strndup (id, (size_t) (id_end - id));
}

static bool
s_method_is (const char *method, size_t size, const char *name)
{
    size_t name_size = strlen (name);
    return method && size == name_size + 2 && memcmp (method + 1, name, name_size) == 0;
}

//  A request that waits for the first listen stream: any but those the
//  runtime makes to start and to list (initialize, ping, .../list), which
//  servers answer without asking anything of the client.
static bool
s_waits_for_listen (const char *msg)
{
    const char *method;
    size_t size;
    char *id = s_request_id (msg, &method, &size);
    bool waits = id && !s_method_is (method, size, "initialize") &&
                 !s_method_is (method, size, "ping") &&
                 !(size > 7 && memcmp (method + size - 6, "/list", 5) == 0);
    free (id);
    return waits;
}

//  Aborts the POST still waiting for the response to `rpc_id`: the actor
//  gave up on it and told the server so.
static void
s_abort_request (s_http_t *self, const char *msg)
{
    json_error_t error;
    json_t *message = json_loads (msg, 0, &error);
    json_t *request_id = json_object_get (json_object_get (message, "params"), "requestId");
    char *id = request_id ? json_dumps (request_id, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref (message);
    if (!id)
        return;
    for (s_req_t *req = self->reqs; req; req = req->next)
        if (req->rpc_id && strcmp (req->rpc_id, id) == 0 && !req->answered) {
            s_req_destroy (&req);
            break;
        }
    free (id);
}

static void
s_post (s_http_t *self, const char *msg, bool internal, bool replayed)
{
    const char *method;
    size_t method_size;
    char *rpc_id = s_request_id (msg, &method, &method_size);
    bool legacy = self->mode == MCPACT_TRANSPORT_SSE;
    s_req_t *req = s_req_new (self, legacy ? K_SSE_POST : K_POST,
                              legacy ? self->endpoint : self->config->url, msg);
    if (!req) {
        s_fail_request (self, rpc_id, "cannot start an HTTP request");
        free (rpc_id);
        return;
    }
    req->rpc_id = rpc_id;
    req->internal = internal;
    req->replayed = replayed;
    req->initialize = s_method_is (method, method_size, "initialize");
    if (req->initialize && !internal) {
        free (self->init_body);
        self->init_body = strdup (msg);
    }
    if (s_method_is (method, method_size, "notifications/initialized")) {
        free (self->initialized_body);
        self->initialized_body = strdup (msg);
        req->initialized = !legacy;
    }
    if (s_method_is (method, method_size, "notifications/cancelled"))
        s_abort_request (self, msg);
}

//  A new session after a 404: initialise again with our own request id,
//  then replay what failed. Requests sent meanwhile wait in the outbox.
static void
s_start_reinit (s_http_t *self)
{
    self->reinit = true;
    self->listen_opened = false;
    free (self->session_id);
    self->session_id = NULL;
    free (self->protocol);
    self->protocol = NULL;
    json_error_t error;
    json_t *init = self->init_body ? json_loads (self->init_body, 0, &error) : NULL;
    if (!init) {
        s_die (self, "the session expired and cannot be renewed");
        return;
    }
    json_object_set_new (init, "id", json_string ("mcpact-reinitialize"));
    char *text = json_dumps (init, JSON_COMPACT);
    json_decref (init);
    log_info ("server %s: the session expired (404); starting a new one", self->name);
    s_post (self, text, true, false);
    free (text);
}

static void
s_start_stream (s_http_t *self)
{
    self->stream = s_req_new (self, K_STREAM, self->config->url, NULL);
    if (!self->stream)
        s_die (self, "cannot open the SSE stream");
}

//  Starts whatever may start now. Never called from inside curl.
static void
s_kick (s_http_t *self)
{
    if (self->dead)
        return;
    if (self->mode == MCPACT_TRANSPORT_SSE && !self->endpoint) {
        if (!self->stream)
            s_start_stream (self);
        return;
    }
    //  While an authorization runs, requests wait; a token about to
    //  expire is refreshed before the next request goes (only then: an
    //  idle server does not refresh).
    bool authorizing =
        self->oauth && (oauth_busy (self->oauth) || (zlistx_size (self->outbox) && !self->reinit &&
                                                     oauth_refresh_due (self->oauth)));
    int64_t now = clock_ms ();
    //  The listen stream first: requests queued with it wait for it.
    if (self->listen_wanted && !self->listen_off && self->session_id && now >= self->listen_at) {
        bool open = false;
        for (s_req_t *req = self->reqs; req; req = req->next)
            open |= req->kind == K_LISTEN;
        if (!open) {
            s_req_t *req = s_req_new (self, K_LISTEN, self->config->url, NULL);
            if (req && !self->listen_opened) {
                self->listen_opened = true;
                self->listen_opening = true;
                self->listen_wait_until = now + LISTEN_WAIT_MS;
            }
            if (req && self->listen_last_id) {
                s_add_header (req, "Last-Event-ID", self->listen_last_id);
                curl_easy_setopt (req->easy, CURLOPT_HTTPHEADER, req->headers);
            }
        }
        self->listen_wanted = false;
    }
    if (self->listen_opening && now >= self->listen_wait_until) {
        self->listen_opening = false;
        log_debug ("server %s: the listen stream has no response headers after %d ms; calls go "
                   "without it",
                   self->name, LISTEN_WAIT_MS);
    }
    if (!self->reinit && !authorizing)
        while (zlistx_size (self->outbox)) {
            if (self->listen_opening &&
                s_waits_for_listen ((const char *) zlistx_first (self->outbox)))
                break; //  and what came after it, in order
            char *msg = s_outbox_take (self);
            s_post (self, msg, false, false);
            free (msg);
            //  Auto mode: everything waits for the initialize POST's verdict.
            if (self->probing)
                break;
        }
    for (s_resume_t *resume = (s_resume_t *) zlistx_first (self->resumes); resume;) {
        if (resume->when > now) {
            resume = (s_resume_t *) zlistx_next (self->resumes);
            continue;
        }
        s_req_t *req = s_req_new (self, K_RESUME, self->config->url, NULL);
        if (req) {
            s_add_header (req, "Last-Event-ID", resume->last_id);
            curl_easy_setopt (req->easy, CURLOPT_HTTPHEADER, req->headers);
            req->rpc_id = resume->rpc_id;
            req->resumes = resume->resumes;
            resume->rpc_id = NULL;
        } else
            s_fail_request (self, resume->rpc_id, "cannot resume the response stream");
        free (resume->rpc_id);
        free (resume->last_id);
        free (resume);
        zlistx_delete (self->resumes, zlistx_cursor (self->resumes));
        resume = (s_resume_t *) zlistx_first (self->resumes);
    }
}

//  --------------------------------------------------------------------------
//  Finished transfers

static char *
s_body_excerpt (s_req_t *req)
{
    size_t size = req->data.size < ERROR_BODY_MAX ? req->data.size : ERROR_BODY_MAX;
    //  It goes into errors and status as JSON: valid UTF-8 only.
    char *text = jsonscan_text (req->data.data ? req->data.data : "", size);
    if (!text)
        return strdup ("");
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    for (size_t end = strlen (text); end > 0 && text[end - 1] == ' ';)
        text[--end] = 0;
    return text;
}

static void
s_schedule_resume (s_http_t *self, s_req_t *req)
{
    s_resume_t *resume = (s_resume_t *) calloc (1, sizeof (s_resume_t));
    int delay = req->retry_ms >= 0 ? req->retry_ms : DEFAULT_RETRY_MS;
    resume->when = clock_ms () + delay;
    resume->rpc_id = req->rpc_id;
    req->rpc_id = NULL;
    resume->last_id = strdup (req->last_id);
    resume->resumes = req->resumes + 1;
    zlistx_add_end (self->resumes, resume);
    log_debug ("server %s: response stream closed early; resuming in %d ms", self->name, delay);
}

//  A 401, or a 403 that asks for more scope: hands the request to the
//  authorization (it goes again with the new token). True if it did;
//  false if the answer stands as an error.
static bool
s_auth_wait (s_http_t *self, s_req_t *req)
{
    if (!self->oauth || req->kind != K_POST || req->internal || !req->body)
        return false;
    struct curl_header *header = NULL;
    const char *challenge =
        curl_easy_header (req->easy, "WWW-Authenticate", 0, CURLH_HEADER, -1, &header) == CURLHE_OK
            ? header->value
            : NULL;
    int rc = oauth_challenge (self->oauth, req->status, challenge, req->token_generation);
    if (rc == 0)
        return false;
    if (rc < 0) {
        s_fail_request (self, req->rpc_id, "HTTP %ld from %s; authorization failed: %s",
                        req->status, self->safe_url, oauth_error (self->oauth));
        return true;
    }
    //  Sent with a token that has been replaced since: it goes again at
    //  once; else after the run.
    if (oauth_busy (self->oauth))
        zlistx_add_end (self->auth_wait, strdup (req->body));
    else
        s_outbox_put (self, strdup (req->body), true);
    return true;
}

//  The authorization ended: the waiting requests go again first, in
//  their order, or fail with its reason.
static void
s_auth_done (s_http_t *self, int rc)
{
    while (zlistx_size (self->auth_wait)) {
        char *msg = (char *) zlistx_last (self->auth_wait);
        zlistx_detach_cur (self->auth_wait);
        if (rc > 0) {
            s_outbox_put (self, msg, true);
            continue;
        }
        const char *method;
        size_t method_size;
        char *rpc_id = s_request_id (msg, &method, &method_size);
        s_fail_request (self, rpc_id, "authorization failed: %s", oauth_error (self->oauth));
        free (rpc_id);
        free (msg);
    }
}

static void
s_finish_post (s_http_t *self, s_req_t *req, CURLcode code)
{
    s_take_session (self, req);
    if (req->had_token && req->status >= 200 && req->status < 300)
        oauth_confirmed (self->oauth);
    //  A JSON answer is whole only now: hand it on first, so that what
    //  follows knows whether the request was answered.
    if (code == CURLE_OK && req->status >= 200 && req->status < 300 && req->kind == K_POST &&
        !req->is_sse && !req->bad_type && req->data.size)
        s_deliver (self, req, req->data.data, req->data.size);
    if (req->initialized && req->status >= 200 && req->status < 300) {
        //  Open the listen stream once the server knows we are initialised
        //  (and before the host's first calls, as far as timing allows).
        self->listen_wanted = !self->listen_off;
        self->listen_at = clock_ms ();
    }
    if (self->probing && req->initialize) {
        self->probing = false;
        if (req->status == 400 || req->status == 404 || req->status == 405) {
            log_info ("server %s: HTTP %ld to a streamable HTTP initialize; falling back to "
                      "HTTP+SSE",
                      self->name, req->status);
            self->mode = MCPACT_TRANSPORT_SSE;
            s_outbox_put (self, strdup (req->body), true);
            return;
        }
        log_debug ("server %s: streamable HTTP", self->name);
    }
    if (req->internal) {
        //  Our re-initialize: on success, say initialized, then replay.
        self->reinit = false;
        if (req->refused)
            s_die (self, "the session expired and a new one could not be started: %s",
                   req->refused);
        else if (!req->answered || !self->session_id)
            s_die (self, "the session expired and a new one could not be started (HTTP %ld)",
                   req->status);
        if (self->dead)
            return;
        if (self->initialized_body)
            s_outbox_put (self, strdup (self->initialized_body), true);
        while (zlistx_size (self->replay)) {
            char *msg = (char *) zlistx_last (self->replay);
            zlistx_detach_cur (self->replay);
            s_outbox_put (self, msg, true);
        }
        return;
    }
    if (req->answered)
        return; //  however the transfer ended, its job is done
    if (req->refused) {
        if (req->rpc_id)
            s_fail_request (self, req->rpc_id, "%s", req->refused);
        else //  a notification: nobody waits for it
            log_warn ("%s", req->refused);
        return;
    }
    if (req->too_large || (req->is_sse && req->sse.dropped && req->rpc_id && !req->answered)) {
        s_fail_request (self, req->rpc_id,
                        "the server's answer is larger than the limit of %d bytes; it was dropped",
                        TRANSPORT_MAX_MESSAGE);
        return;
    }
    if (code != CURLE_OK && !req->bad_type) {
        s_fail_request (self, req->rpc_id, "HTTP request to %s failed: %s", self->safe_url,
                        req->error[0] ? req->error : curl_easy_strerror (code));
        return;
    }
    if (req->status == 404 && req->had_session && req->kind == K_POST) {
        if (req->replayed) {
            s_fail_request (self, req->rpc_id, "HTTP 404 again after a new session");
            return;
        }
        zlistx_add_end (self->replay, strdup (req->body));
        if (!self->reinit)
            s_start_reinit (self);
        return;
    }
    if ((req->status == 401 || req->status == 403) && s_auth_wait (self, req))
        return;
    if (req->status >= 300) {
        char *body = s_body_excerpt (req);
        char hint[1200] = "";
        //  A command that works as written: the file the server came from.
        if (req->status == 401 && self->oauth && oauth_login_hint (self->oauth))
            snprintf (hint, sizeof hint,
                      " (check the server's headers or token, or authorise it: %s)",
                      oauth_login_hint (self->oauth));
        else if (req->status == 401 && self->oauth)
            snprintf (hint, sizeof hint,
                      " (check the server's headers or token, or authorise it: set an "
                      "authorization callback, or keep tokens from a login)");
        else if (req->status == 401 || req->status == 403)
            snprintf (hint, sizeof hint, " (check the server's headers or token)");
        s_fail_request (self, req->rpc_id, "HTTP %ld from %s%s%s%s", req->status, self->safe_url,
                        *body ? ": " : "", body, hint);
        free (body);
        return;
    }
    if (req->bad_type) {
        s_fail_request (self, req->rpc_id,
                        "the server answered with Content-Type %s, not JSON or an event "
                        "stream",
                        req->bad_type);
        return;
    }
    if (req->kind == K_SSE_POST)
        return; //  answers come on the event stream
    if (req->rpc_id && !req->answered) {
        if (req->is_sse && req->last_id && req->resumes < MAX_RESUMES)
            s_schedule_resume (self, req);
        else
            s_fail_request (self, req->rpc_id,
                            req->is_sse ? "the response stream closed before the response"
                                        : "HTTP %ld without a response",
                            req->status);
    }
}

//  A transfer ended. Returns true if it goes on (a redirect followed),
//  false if it is done with and may be destroyed.
static bool
s_finish (s_http_t *self, s_req_t *req, CURLcode code)
{
    if (!req->started)
        curl_easy_getinfo (req->easy, CURLINFO_RESPONSE_CODE, &req->status);
    if (s_follow (self, req, code))
        return true;
    switch (req->kind) {
    case K_POST:
    case K_SSE_POST:
    case K_RESUME:
        s_finish_post (self, req, code);
        break;
    case K_LISTEN:
        self->listen_opening = false;
        //  The listen stream is optional: any refusal means "none here".
        if (req->refused)
            log_warn ("%s; no listen stream", req->refused);
        if (req->status >= 300 || req->bad_type)
            self->listen_off = true;
        else if (!self->dead) {
            //  Open it again after the server's delay, where it left off.
            if (req->last_id) {
                free (self->listen_last_id);
                self->listen_last_id = strdup (req->last_id);
            }
            self->listen_wanted = true;
            self->listen_at = clock_ms () + (req->retry_ms >= 0 ? req->retry_ms : DEFAULT_RETRY_MS);
        }
        break;
    case K_STREAM:
        if (req->refused)
            s_die (self, "%s", req->refused);
        else if (req->bad_type)
            s_die (self, "the SSE stream came with Content-Type %s, not text/event-stream",
                   req->bad_type);
        else if (code != CURLE_OK)
            s_die (self, "the SSE stream failed: %s",
                   req->error[0] ? req->error : curl_easy_strerror (code));
        else if (req->status >= 300)
            s_die (self, "HTTP %ld from %s%s", req->status, self->safe_url,
                   req->status == 401 || req->status == 403
                       ? " (check the server's headers or token)"
                       : "");
        else
            s_die (self, "the SSE stream closed");
        break;
    }
    return false;
}

//  --------------------------------------------------------------------------
//  The ops

char *
http_safe_url (const char *url)
{
    if (curl_lib_load (NULL) != 0)
        return strdup ("(url not shown: libcurl is not available)");
    CURLU *handle = curl_url ();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *safe = NULL;
    if (handle && curl_url_set (handle, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get (handle, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get (handle, CURLUPART_HOST, &host, 0);
        curl_url_get (handle, CURLUPART_PORT, &port, 0);
        curl_url_get (handle, CURLUPART_PATH, &path, 0);
        if (asprintf (&safe, "%s://%s%s%s%s", scheme ? scheme : "?", host ? host : "?",
                      port ? ":" : "", port ? port : "", path ? path : "") < 0)
            safe = NULL;
    }
    curl_free (scheme), curl_free (host), curl_free (port), curl_free (path);
    curl_url_cleanup (handle);
    return safe ? safe : strdup ("(bad url)");
}

static void *
s_open (const mcpact_server_config_t *config, char **error)
{
    *error = NULL;
    if (!config->url) {
        *error = strdup ("no URL given");
        return NULL;
    }
    const char *unloaded = NULL;
    if (curl_lib_load (&unloaded) != 0) {
        *error = strdup (unloaded);
        return NULL;
    }
    s_http_t *self = (s_http_t *) calloc (1, sizeof (s_http_t));
    self->config = config;
    self->name = strdup (config->name);
    self->safe_url = http_safe_url (config->url);
    self->origin = s_origin (config->url);
    self->timer_at = -1;
    self->outbox = zlistx_new ();
    self->inbox = zlistx_new ();
    self->resumes = zlistx_new ();
    self->replay = zlistx_new ();
    zlistx_set_destructor (self->outbox, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (self->inbox, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (self->replay, (zlistx_destructor_fn *) zstr_free);
    self->auth_wait = zlistx_new ();
    zlistx_set_destructor (self->auth_wait, (zlistx_destructor_fn *) zstr_free);
    self->oauth = oauth_new (config);
    self->mode = server_config_transport (config);
    //  Auto with a URL that names neither transport: the first POST decides.
    size_t url_size = strlen (self->safe_url);
    while (url_size > 1 && self->safe_url[url_size - 1] == '/')
        url_size--;
    bool named = url_size >= 4 && strncasecmp (self->safe_url + url_size - 4, "/mcp", 4) == 0;
    self->probing = config->transport == MCPACT_TRANSPORT_AUTO &&
                    self->mode == MCPACT_TRANSPORT_STREAMABLE_HTTP && !named;
    self->multi = self->origin ? curl_multi_init () : NULL;
    if (!self->origin)
        *error = strdup ("the URL cannot be parsed or names no host");
    else if (!self->multi)
        *error = strdup ("cannot make a curl multi handle");
    if (*error) {
        void *state = self;
        transport_http.stop (&state);
        return NULL;
    }
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    log_debug ("server %s: %s transport to %s", config->name,
               server_config_transport_name (self->mode), self->safe_url);
    return self;
}

static int
s_send (void *state, const char *msg, size_t size)
{
    s_http_t *self = (s_http_t *) state;
    if (self->dead)
        return -1;
    s_outbox_put (self, strndup (msg, size), false);
    return 0;
}

//  Runs curl's timer if it is due. Transfers just started are due at
//  once: running them here, before the actor polls, puts the request on
//  the wire now rather than one loop round (and one spin) later.
static void
s_run_timer (s_http_t *self)
{
    if (self->timer_at < 0 || clock_ms () < self->timer_at)
        return;
    self->timer_at = -1;
    int running = 0;
    curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (running < self->req_count)
        self->ended = true;
}

static int
s_poll_items (void *state, zmq_pollitem_t *items, int max)
{
    s_http_t *self = (s_http_t *) state;
    s_kick (self);
    if (!self->dead)
        s_run_timer (self);
    //  A fast server may answer while we send: what curl delivered then
    //  waits in the inbox, with nothing left on the socket to end the
    //  poll; s_timeout says 0 until s_handle has taken it.
    int count = 0;
    for (int i = 0; i < self->fd_count && count < max; i++)
        items[count++] = self->fds[i];
    if (self->oauth && oauth_fd (self->oauth) >= 0 && count < max)
        items[count++] = (zmq_pollitem_t){ NULL, oauth_fd (self->oauth), ZMQ_POLLIN, 0 };
    return count;
}

static int
s_timeout (void *state)
{
    s_http_t *self = (s_http_t *) state;
    if (zlistx_size (self->inbox) || self->ended || self->dead)
        return 0;
    int64_t next = self->timer_at;
    for (s_resume_t *resume = (s_resume_t *) zlistx_first (self->resumes); resume;
         resume = (s_resume_t *) zlistx_next (self->resumes))
        if (next < 0 || resume->when < next)
            next = resume->when;
    if (self->listen_wanted && !self->listen_off && self->session_id &&
        (next < 0 || self->listen_at < next))
        next = self->listen_at;
    if (self->listen_opening && zlistx_size (self->outbox) &&
        (next < 0 || self->listen_wait_until < next))
        next = self->listen_wait_until;
    if (self->oauth && oauth_fd (self->oauth) >= 0) {
        int64_t deadline = clock_ms () + oauth_timeout (self->oauth);
        if (next < 0 || deadline < next)
            next = deadline;
    }
    if (next < 0)
        return -1;
    int64_t wait = next - clock_ms ();
    return wait < 0 ? 0 : (int) wait;
}

static void
s_flush_inbox (s_http_t *self, transport_msg_fn *on_msg, void *owner)
{
    while (zlistx_size (self->inbox)) {
        char *msg = (char *) zlistx_first (self->inbox);
        zlistx_detach_cur (self->inbox);
        if (on_msg)
            on_msg (owner, msg, strlen (msg));
        free (msg);
    }
}

static int
s_handle (void *state, zmq_pollitem_t *items, int count, transport_msg_fn *on_msg, void *owner)
{
    s_http_t *self = (s_http_t *) state;
    //  What came before this round goes first.
    s_flush_inbox (self, on_msg, owner);
    self->on_msg = on_msg;
    self->owner = owner;
    self->ended = false;
    int running = 0;
    int auth_fd = self->oauth ? oauth_fd (self->oauth) : -1;
    for (int i = 0; i < count; i++) {
        if (!items[i].revents || (auth_fd >= 0 && items[i].fd == auth_fd))
            continue;
        int mask = (items[i].revents & ZMQ_POLLIN ? CURL_CSELECT_IN : 0) |
                   (items[i].revents & ZMQ_POLLOUT ? CURL_CSELECT_OUT : 0) |
                   (items[i].revents & ZMQ_POLLERR ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action (self->multi, items[i].fd, mask, &running);
    }
    s_run_timer (self);
    CURLMsg *info;
    int left;
    while ((info = curl_multi_info_read (self->multi, &left))) {
        if (info->msg != CURLMSG_DONE)
            continue;
        s_req_t *req = NULL;
        curl_easy_getinfo (info->easy_handle, CURLINFO_PRIVATE, (char **) &req);
        CURLcode code = info->data.result;
        if (req && !s_finish (self, req, code))
            s_req_destroy (&req);
    }
    if (auth_fd >= 0) {
        int rc = oauth_collect (self->oauth);
        if (rc)
            s_auth_done (self, rc);
    }
    self->ended = false;
    s_flush_inbox (self, on_msg, owner);
    self->on_msg = NULL;
    self->owner = NULL;
    return self->dead ? -1 : 0;
}

//  What the server holds of our memory: the bodies of requests not yet
//  answered (libcurl keeps them until then). Whether the server is
//  reading them is not known here.
static size_t
s_queued (void *state, int64_t *stalled_ms)
{
    if (stalled_ms)
        *stalled_ms = 0;
    return ((s_http_t *) state)->held;
}

static const char *
s_error (void *state)
{
    return ((s_http_t *) state)->error;
}

static void
s_describe (void *state, json_t *status)
{
    s_http_t *self = (s_http_t *) state;
    json_object_set_new (status, "transport",
                         json_string (server_config_transport_name (self->mode)));
    json_object_set_new (status, "url", json_string (self->safe_url));
    size_t open = 0;
    for (s_req_t *req = self->reqs; req; req = req->next)
        open++;
    json_object_set_new (status, "requests", json_integer ((json_int_t) open));
    if (self->oauth)
        json_object_set_new (status, "auth", json_string (oauth_state (self->oauth)));
}

//  Ends the session politely: DELETE with its id, bounded in time.
static void
s_delete_session (s_http_t *self)
{
    CURL *easy = curl_easy_init ();
    if (!easy)
        return;
    struct curl_slist *headers = NULL;
    char *line = NULL;
    if (asprintf (&line, "Mcp-Session-Id: %s", self->session_id) > 0)
        headers = curl_slist_append (headers, line);
    free (line);
    if (self->protocol && asprintf (&line, "MCP-Protocol-Version: %s", self->protocol) > 0) {
        headers = curl_slist_append (headers, line);
        free (line);
    }
    for (size_t i = 0; i < self->config->headers_count; i++)
        if (asprintf (&line, "%s: %s", self->config->headers[i].name,
                      self->config->headers[i].value) > 0) {
            headers = curl_slist_append (headers, line);
            free (line);
        }
    const char *token = self->oauth ? oauth_token (self->oauth) : NULL;
    if (token && asprintf (&line, "Authorization: Bearer %s", token) > 0) {
        headers = curl_slist_append (headers, line);
        memset (line, 0, strlen (line));
        free (line);
    }
    curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, "DELETE");
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard_cb);
    s_set_protocols (easy);
    //  Redirects within the origin are followed as for any request, all
    //  within the one time bound.
    int64_t deadline = clock_ms () + DELETE_TIMEOUT_MS;
    char *url = strdup (self->config->url);
    CURLcode code = CURLE_OK;
    long status = 0;
    for (int redirects = 0; url; redirects++) {
        int64_t left = deadline - clock_ms ();
        if (left <= 0) {
            code = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        curl_easy_setopt (easy, CURLOPT_URL, url);
        curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) left);
        code = curl_easy_perform (easy);
        curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
        char *refused = NULL;
        free (url);
        url = code == CURLE_OK ? s_redirect_url (self, easy, status, false, redirects, &refused)
                               : NULL;
        if (refused)
            log_warn ("%s", refused);
        free (refused);
    }
    free (url);
    log_debug ("server %s: DELETE session: %s, HTTP %ld", self->name,
               code == CURLE_OK ? "sent" : curl_easy_strerror (code), status);
    curl_slist_free_all (headers);
    curl_easy_cleanup (easy);
}

static void
s_free_resume (void **item)
{
    s_resume_t *resume = (s_resume_t *) *item;
    if (resume) {
        free (resume->rpc_id);
        free (resume->last_id);
        free (resume);
    }
    *item = NULL;
}

static void
s_stop (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_http_t *self = (s_http_t *) *state_p;
    while (self->reqs) {
        s_req_t *req = self->reqs;
        s_req_destroy (&req);
    }
    if (self->session_id && self->mode == MCPACT_TRANSPORT_STREAMABLE_HTTP)
        s_delete_session (self);
    if (self->multi)
        curl_multi_cleanup (self->multi);
    zlistx_destroy (&self->outbox);
    zlistx_destroy (&self->inbox);
    zlistx_destroy (&self->replay);
    zlistx_destroy (&self->auth_wait);
    oauth_destroy (&self->oauth);
    if (self->resumes) {
        zlistx_set_destructor (self->resumes, s_free_resume);
        zlistx_destroy (&self->resumes);
    }
    free (self->name);
    free (self->safe_url);
    free (self->origin);
    free (self->session_id);
    free (self->protocol);
    free (self->init_body);
    free (self->initialized_body);
    free (self->listen_last_id);
    free (self->fds);
    free (self->endpoint);
    free (self->error);
    free (self);
    *state_p = NULL;
}

const transport_ops_t transport_http = {
    .name = "http",
    .open = s_open,
    .send = s_send,
    .poll_items = s_poll_items,
    .timeout = s_timeout,
    .handle = s_handle,
    .queued = s_queued,
    .error = s_error,
    .describe = s_describe,
    .stop = s_stop,
};
