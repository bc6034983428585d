/*  =========================================================================
    server_config - the configuration of one MCP server

    A plain value object behind the public mcpact_server_config_* API. It is
    built on one thread and handed over whole (moved or copied with
    mcpact_server_config_dup); nothing here locks. Every string it holds is
    its own copy. Bad input from the host is refused with -1 or NULL; a
    problem that only shows when the server starts (a URL that is not
    http(s), an unset ${VAR} in a loaded file) is kept in `error` so that
    this one server fails at start and the others still come up.
    =========================================================================
*/

#include "server_config.h"

#include "endpoint.h"
#include "log.h"
#include "roots.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_NAME_MAX 64

//  --------------------------------------------------------------------------
//  Small helpers

static char *
s_strdup (const char *text)
{
    size_t size = strlen (text) + 1;
    char *copy = malloc (size);
    if (copy)
        memcpy (copy, text, size);
    return copy;
}

static bool
s_is_empty (const char *text)
{
    return !text || !*text;
}

//  A line break in a header value would let it inject further headers.
static bool
s_header_value_valid (const char *value)
{
    return value && !strpbrk (value, "\r\n");
}

static void
s_free_strings (char **strings, size_t count)
{
    if (strings) {
        for (size_t i = 0; i < count; i++)
            free (strings[i]);
        free (strings);
    }
}

static void
s_free_pairs (mcpact_pair_t *pairs, size_t count)
{
    if (pairs) {
        for (size_t i = 0; i < count; i++) {
            free (pairs[i].name);
            free (pairs[i].value);
        }
        free (pairs);
    }
}

//  Appends a copy of `text` to a NULL-terminated array.
static int
s_strings_append (char ***strings_p, size_t *count_p, const char *text)
{
    char *copy = s_strdup (text);
    char **strings = copy ? realloc (*strings_p, (*count_p + 2) * sizeof (char *)) : NULL;
    if (!strings) {
        free (copy);
        return -1;
    }
    strings[(*count_p)++] = copy;
    strings[*count_p] = NULL;
    *strings_p = strings;
    return 0;
}

static char **
s_strings_dup (char **strings, size_t count)
{
    if (!strings)
        return NULL;
    char **copy = calloc (count + 1, sizeof (char *));
    if (!copy)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (!(copy[i] = s_strdup (strings[i]))) {
            s_free_strings (copy, i);
            return NULL;
        }
    return copy;
}

static int
s_pairs_append (mcpact_pair_t **pairs_p, size_t *count_p, const char *name, const char *value)
{
    char *name_copy = s_strdup (name);
    char *value_copy = s_strdup (value);
    mcpact_pair_t *pairs = NULL;
    if (name_copy && value_copy)
        pairs = realloc (*pairs_p, (*count_p + 1) * sizeof (mcpact_pair_t));
    if (!pairs) {
        free (name_copy);
        free (value_copy);
        return -1;
    }
    pairs[*count_p].name = name_copy;
    pairs[*count_p].value = value_copy;
    (*count_p)++;
    *pairs_p = pairs;
    return 0;
}

static mcpact_pair_t *
s_pairs_dup (const mcpact_pair_t *pairs, size_t count)
{
    if (!pairs || count == 0)
        return NULL;
    mcpact_pair_t *copy = calloc (count, sizeof (mcpact_pair_t));
    if (!copy)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        copy[i].name = s_strdup (pairs[i].name);
        copy[i].value = s_strdup (pairs[i].value);
        if (!copy[i].name || !copy[i].value) {
            s_free_pairs (copy, i + 1);
            return NULL;
        }
    }
    return copy;
}

static int
s_replace (char **field_p, const char *text)
{
    char *copy = s_strdup (text);
    if (!copy)
        return -1;
    free (*field_p);
    *field_p = copy;
    return 0;
}

static mcpact_server_config_t *
s_new (const char *name)
{
    if (!server_config_name_valid (name))
        return NULL;
    mcpact_server_config_t *self = calloc (1, sizeof (mcpact_server_config_t));
    if (!self)
        return NULL;
    self->name = s_strdup (name);
    if (!self->name) {
        free (self);
        return NULL;
    }
    self->transport = MCPACT_TRANSPORT_AUTO;
    self->connect_ms = MCPACT_DEFAULT_CONNECT_MS;
    self->list_ms = MCPACT_DEFAULT_LIST_MS;
    self->call_ms = MCPACT_DEFAULT_CALL_MS;
    self->sse_read_ms = MCPACT_DEFAULT_SSE_READ_MS;
    self->max_call_ms = MCPACT_DEFAULT_MAX_CALL_MS;
    self->max_in_flight = MCPACT_DEFAULT_MAX_IN_FLIGHT;
    self->max_queued = MCPACT_DEFAULT_MAX_QUEUED;
    self->client_features =
        MCPACT_CLIENT_ROOTS | MCPACT_CLIENT_SAMPLING | MCPACT_CLIENT_ELICITATION;
    return self;
}

//  --------------------------------------------------------------------------
//  Public API

mcpact_server_config_t *
mcpact_server_stdio_new (const char *name, const char *command)
{
    if (s_is_empty (command))
        return NULL;
    mcpact_server_config_t *self = s_new (name);
    if (self && !(self->command = s_strdup (command)))
        mcpact_server_config_destroy (&self);
    return self;
}

mcpact_server_config_t *
mcpact_server_http_new (const char *name, const char *url)
{
    if (s_is_empty (url))
        return NULL;
    mcpact_server_config_t *self = s_new (name);
    if (self && !(self->url = s_strdup (url)))
        mcpact_server_config_destroy (&self);
    //  Not refused here: a URL may come from the environment, and a bad one
    //  should fail this server alone, with the reason, when it starts.
    if (self && strncasecmp (url, "http://", 7) != 0 && strncasecmp (url, "https://", 8) != 0 &&
        mcpact_server_config_set_error (self, "url must start with http:// or https://"))
        mcpact_server_config_destroy (&self);
    return self;
}

mcpact_server_config_t *
mcpact_server_group_new (const char *name, const char *endpoint)
{
    if (s_is_empty (endpoint))
        return NULL;
    mcpact_server_config_t *self = s_new (name);
    if (self && !(self->group = json_pack ("{s:s,s:s}", "endpoint", endpoint, "agent", "")))
        mcpact_server_config_destroy (&self);
    //  As for a URL: an endpoint may come from the environment, and a bad
    //  one fails this group alone, at once when it starts, saying why: the
    //  check of serve's --bind and of --connect (a port beyond 65535 would
    //  be taken modulo 65536 by libzmq: another daemon's).
    char reason[600], text[640];
    if (self && endpoint_connect_problem (endpoint, reason, sizeof reason) != 0) {
        snprintf (text, sizeof text, "group %s", reason);
        if (mcpact_server_config_set_error (self, text))
            mcpact_server_config_destroy (&self);
    }
    return self;
}

int
mcpact_server_config_set_group_curve (mcpact_server_config_t *self, const char *server_key,
                                      const char *client_certificate)
{
    if (!self || !self->group || s_is_empty (server_key) || s_is_empty (client_certificate))
        return -1;
    //  A CURVE handshake on an ipc:// socket is never answered (the
    //  gateway's ipc:// endpoints are plain): said when it starts, at
    //  once, rather than as a handshake that failed.
    const char *endpoint = json_string_value (json_object_get (self->group, "endpoint"));
    if (endpoint && strncmp (endpoint, "ipc://", 6) == 0 &&
        mcpact_server_config_set_error (self, GROUP_IPC_CURVE_ERROR))
        return -1;
    return json_object_set_new (self->group, "serverKey", json_string (server_key)) ||
                   json_object_set_new (self->group, "clientCertificate",
                                        json_string (client_certificate))
               ? -1
               : 0;
}

int
mcpact_server_config_set_group_agent (mcpact_server_config_t *self, const char *agent)
{
    if (!self || !self->group || !agent)
        return -1;
    return json_object_set_new (self->group, "agent", json_string (agent)) ? -1 : 0;
}

mcpact_server_config_t *
mcpact_server_config_dup (const mcpact_server_config_t *self)
{
    if (!self)
        return NULL;
    mcpact_server_config_t *copy = calloc (1, sizeof (mcpact_server_config_t));
    if (!copy)
        return NULL;
    *copy = *self;
    //  Drop the borrowed pointers first so that a failed copy frees only
    //  what it made itself.
    copy->name = copy->command = copy->cwd = copy->url = copy->error = NULL;
    copy->log_level = NULL;
    copy->name = copy->command = copy->cwd = copy->url = copy->error = copy->roots = NULL;
    copy->args = copy->allowed = copy->blocked = NULL;
    copy->blocked_count = 0;
    copy->env = copy->headers = NULL;
    copy->args_count = copy->env_count = copy->headers_count = copy->allowed_count = 0;
    copy->oauth = NULL;
    copy->source = NULL;
    copy->group = NULL;

    bool ok = (copy->name = s_strdup (self->name)) != NULL;
    if (ok && self->command)
        ok = (copy->command = s_strdup (self->command)) != NULL;
    if (ok && self->cwd)
        ok = (copy->cwd = s_strdup (self->cwd)) != NULL;
    if (ok && self->url)
        ok = (copy->url = s_strdup (self->url)) != NULL;
    if (ok && self->error)
        ok = (copy->error = s_strdup (self->error)) != NULL;
    if (ok && self->log_level)
        ok = (copy->log_level = s_strdup (self->log_level)) != NULL;
    if (ok && self->roots)
        ok = (copy->roots = s_strdup (self->roots)) != NULL;
    if (ok && self->source)
        ok = (copy->source = s_strdup (self->source)) != NULL;
    if (ok && self->args) {
        ok = (copy->args = s_strings_dup (self->args, self->args_count)) != NULL;
        copy->args_count = ok ? self->args_count : 0;
    }
    if (ok && self->allowed) {
        ok = (copy->allowed = s_strings_dup (self->allowed, self->allowed_count)) != NULL;
        copy->allowed_count = ok ? self->allowed_count : 0;
    }
    if (ok && self->blocked) {
        ok = (copy->blocked = s_strings_dup (self->blocked, self->blocked_count)) != NULL;
        copy->blocked_count = ok ? self->blocked_count : 0;
    }
    if (ok && self->env_count) {
        ok = (copy->env = s_pairs_dup (self->env, self->env_count)) != NULL;
        copy->env_count = ok ? self->env_count : 0;
    }
    if (ok && self->headers_count) {
        ok = (copy->headers = s_pairs_dup (self->headers, self->headers_count)) != NULL;
        copy->headers_count = ok ? self->headers_count : 0;
    }
    if (ok && self->oauth)
        ok = (copy->oauth = json_deep_copy (self->oauth)) != NULL;
    if (ok && self->group)
        ok = (copy->group = json_deep_copy (self->group)) != NULL;
    if (!ok)
        mcpact_server_config_destroy (&copy);
    return copy;
}

void
mcpact_server_config_destroy (mcpact_server_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcpact_server_config_t *self = *self_p;
    free (self->name);
    free (self->command);
    s_free_strings (self->args, self->args_count);
    s_free_pairs (self->env, self->env_count);
    free (self->cwd);
    free (self->url);
    s_free_pairs (self->headers, self->headers_count);
    s_free_strings (self->allowed, self->allowed_count);
    s_free_strings (self->blocked, self->blocked_count);
    free (self->error);
    free (self->log_level);
    json_decref (self->oauth);
    json_decref (self->group);
    free (self->roots);
    free (self->source);
    free (self);
    *self_p = NULL;
}

const char *
mcpact_server_config_name (const mcpact_server_config_t *self)
{
    return self ? self->name : NULL;
}

int
mcpact_server_config_add_arg (mcpact_server_config_t *self, const char *arg)
{
    //  An empty argument is legitimate ("" on a command line); a missing
    //  one, or an argument for a server that has no process, is not.
    if (!self || !arg || !self->command)
        return -1;
    return s_strings_append (&self->args, &self->args_count, arg);
}

int
mcpact_server_config_set_env (mcpact_server_config_t *self, const char *name, const char *value)
{
    if (!self || !self->command || s_is_empty (name) || strchr (name, '=') || !value)
        return -1;
    for (size_t i = 0; i < self->env_count; i++)
        if (strcmp (self->env[i].name, name) == 0)
            return s_replace (&self->env[i].value, value);
    return s_pairs_append (&self->env, &self->env_count, name, value);
}

int
mcpact_server_config_set_cwd (mcpact_server_config_t *self, const char *dir)
{
    if (!self || !self->command || s_is_empty (dir))
        return -1;
    return s_replace (&self->cwd, dir);
}

int
mcpact_server_config_add_header (mcpact_server_config_t *self, const char *name, const char *value)
{
    if (!self || !self->url || !server_config_header_name_valid (name) ||
        !s_header_value_valid (value))
        return -1;
    return s_pairs_append (&self->headers, &self->headers_count, name, value);
}

int
mcpact_server_config_set_transport (mcpact_server_config_t *self, mcpact_transport_t transport)
{
    if (!self)
        return -1;
    //  The transport must fit what the server is: a process, or a URL.
    switch (transport) {
    case MCPACT_TRANSPORT_AUTO:
        break;
    case MCPACT_TRANSPORT_STDIO:
        if (!self->command)
            return -1;
        break;
    case MCPACT_TRANSPORT_STREAMABLE_HTTP:
    case MCPACT_TRANSPORT_SSE:
        if (!self->url)
            return -1;
        break;
    default:
        return -1;
    }
    self->transport = transport;
    return 0;
}

int
server_config_block_tool (mcpact_server_config_t *self, const char *tool)
{
    if (!self || s_is_empty (tool))
        return -1;
    return s_strings_append (&self->blocked, &self->blocked_count, tool);
}

int
mcpact_server_config_allow_tool (mcpact_server_config_t *self, const char *tool)
{
    if (!self || s_is_empty (tool))
        return -1;
    for (size_t i = 0; i < self->allowed_count; i++)
        if (strcmp (self->allowed[i], tool) == 0)
            return 0;
    return s_strings_append (&self->allowed, &self->allowed_count, tool);
}

int
mcpact_server_config_set_timeouts (mcpact_server_config_t *self, int connect_ms, int list_ms,
                                   int call_ms)
{
    if (!self || connect_ms < 0 || list_ms < 0 || call_ms < 0)
        return -1;
    if (connect_ms)
        self->connect_ms = connect_ms;
    if (list_ms)
        self->list_ms = list_ms;
    if (call_ms)
        self->call_ms = call_ms;
    return 0;
}

int
mcpact_server_config_set_max_call (mcpact_server_config_t *self, int max_ms)
{
    if (!self || max_ms <= 0)
        return -1;
    self->max_call_ms = max_ms;
    return 0;
}

int
mcpact_server_config_set_limits (mcpact_server_config_t *self, int max_in_flight,
                                 size_t max_queued_bytes)
{
    if (!self || max_in_flight < 0)
        return -1;
    if (max_in_flight)
        self->max_in_flight = max_in_flight;
    if (max_queued_bytes)
        self->max_queued = max_queued_bytes;
    return 0;
}

int
mcpact_server_config_set_start_retries (mcpact_server_config_t *self, int retries)
{
    if (!self || retries < 0)
        return -1;
    self->start_retries = retries;
    return 0;
}

int
mcpact_server_config_set_error (mcpact_server_config_t *self, const char *reason)
{
    if (!self || s_is_empty (reason))
        return -1;
    return s_replace (&self->error, reason);
}

//  --------------------------------------------------------------------------
//  Internal helpers (server_config.h)

//  Looks at the URL's path only: the query and fragment may hold anything,
//  and "/sse/" is the same endpoint as "/sse".
static bool
s_url_is_sse (const char *url)
{
    const char *start = strstr (url, "://");
    start = start ? start + 3 : url;
    start = start + strcspn (start, "/?#"); //  skip the authority
    size_t length = strcspn (start, "?#");
    while (length > 0 && start[length - 1] == '/')
        length--;
    return length >= 4 && strncasecmp (start + length - 4, "/sse", 4) == 0;
}

//  Server names end up in logs, reports and prefixed tool names
//  (<server>_<tool>), which LLM APIs restrict to a safe charset.
bool
server_config_name_valid (const char *name)
{
    size_t length = name ? strlen (name) : 0;
    if (length == 0 || length > S_NAME_MAX)
        return false;
    for (const char *c = name; *c; c++) {
        bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-';
        if (!ok)
            return false;
    }
    return true;
}

//  RFC 9110 token characters: anything else in a header name would be
//  rejected by the server or, worse, split the request.
bool
server_config_header_name_valid (const char *name)
{
    if (s_is_empty (name))
        return false;
    for (const unsigned char *c = (const unsigned char *) name; *c; c++) {
        bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || strchr ("!#$%&'*+-.^_`|~", *c);
        if (!ok)
            return false;
    }
    return true;
}

mcpact_transport_t
server_config_transport (const mcpact_server_config_t *self)
{
    if (!self)
        return MCPACT_TRANSPORT_AUTO;
    if (self->command)
        return MCPACT_TRANSPORT_STDIO;
    if (self->group)
        return MCPACT_TRANSPORT_GROUP;
    if (self->transport != MCPACT_TRANSPORT_AUTO)
        return self->transport;
    if (self->url)
        return s_url_is_sse (self->url) ? MCPACT_TRANSPORT_SSE : MCPACT_TRANSPORT_STREAMABLE_HTTP;
    return MCPACT_TRANSPORT_AUTO;
}

const char *
server_config_transport_name (mcpact_transport_t transport)
{
    switch (transport) {
    case MCPACT_TRANSPORT_STDIO:
        return "stdio";
    case MCPACT_TRANSPORT_STREAMABLE_HTTP:
        return "streamable_http";
    case MCPACT_TRANSPORT_SSE:
        return "sse";
    case MCPACT_TRANSPORT_GROUP:
        return "group";
    case MCPACT_TRANSPORT_AUTO:
    default:
        return "auto";
    }
}

bool
server_config_allows (const mcpact_server_config_t *self, const char *tool)
{
    if (!self || !tool)
        return false;
    for (size_t i = 0; i < self->blocked_count; i++)
        if (strcmp (self->blocked[i], tool) == 0)
            return false;
    if (self->allowed_count == 0)
        return true;
    for (size_t i = 0; i < self->allowed_count; i++)
        if (strcmp (self->allowed[i], tool) == 0)
            return true;
    return false;
}

int
mcpact_server_config_set_log_level (mcpact_server_config_t *self, const char *level)
{
    static const char *levels[] = { "debug", "info",     "notice", "warning",
                                    "error", "critical", "alert",  "emergency" };
    bool known = false;
    for (size_t i = 0; level && i < sizeof levels / sizeof levels[0]; i++)
        known |= strcmp (level, levels[i]) == 0;
    if (!self || (level && !known))
        return -1;
    char *copy = level ? s_strdup (level) : NULL;
    if (level && !copy)
        return -1;
    free (self->log_level);
    self->log_level = copy;
    return 0;
}

//  --------------------------------------------------------------------------
//  Client features offered to the server (roots.h; docs/client-features.md)

int
mcpact_server_config_add_root (mcpact_server_config_t *self, const char *uri, const char *name)
{
    if (!self || !uri)
        return -1;
    char *error = NULL;
    json_t *entry = roots_entry (uri, name, &error);
    if (!entry) {
        log_error ("server %s: root %s: %s", self->name, uri, error ? error : "out of memory");
        free (error);
        return -1;
    }
    json_t *roots = self->roots ? json_loads (self->roots, 0, NULL) : json_array ();
    json_array_append_new (roots, entry);
    char *text = json_dumps (roots, JSON_COMPACT);
    json_decref (roots);
    if (!text)
        return -1;
    free (self->roots);
    self->roots = text;
    return 0;
}

int
mcpact_server_config_set_client_features (mcpact_server_config_t *self, int features)
{
    if (!self)
        return -1;
    self->client_features =
        features & (MCPACT_CLIENT_ROOTS | MCPACT_CLIENT_SAMPLING | MCPACT_CLIENT_ELICITATION);
    return 0;
}
