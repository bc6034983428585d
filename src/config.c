/*  =========================================================================
    config - the `mcpServers` / `servers` JSON configuration loader

    Turns the configuration file of desktop MCP clients (Claude Desktop's
    "mcpServers", VS Code's "servers" with "type"), plus mcpact's own keys,
    into a config_t of plain server configurations; docs/config.md is the
    user's description of the format. It runs on the caller's thread and
    keeps no state: the config_t it returns belongs to the caller.

    Two kinds of problem are kept apart. What is wrong with the file itself
    (bad JSON, a key of the wrong type, an agent naming a server that does
    not exist) fails the whole load with one message naming the origin and
    the JSON path, so the user can fix it at once. What depends on the
    environment (an unset ${VAR}) only marks that server's configuration
    with an error: it fails alone when started and the rest still comes up.
    =========================================================================
*/

#include "config.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

//  State of one parse: where the text came from and the first error.
typedef struct {
    const char *origin;      //  names the source in messages, or NULL
    char *error;             //  first error, "origin: path: reason"
    const char *servers_key; //  "mcpServers" or "servers"
    json_t *session_servers; //  the top-level servers object (borrowed)
} s_parser_t;

//  --------------------------------------------------------------------------
//  Text helpers

static char *
s_vprintf (const char *format, va_list args)
{
    va_list copy;
    va_copy (copy, args);
    int size = vsnprintf (NULL, 0, format, copy);
    va_end (copy);
    char *text = size >= 0 ? malloc ((size_t) size + 1) : NULL;
    if (text)
        vsnprintf (text, (size_t) size + 1, format, args);
    return text;
}

static char *
s_printf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = s_vprintf (format, args);
    va_end (args);
    return text;
}

//  Records the first error only: later ones are usually its consequences.
//  Returns -1 so that callers can `return s_fail (...)`.
static int
s_fail (s_parser_t *self, const char *format, ...)
{
    if (self->error)
        return -1;
    va_list args;
    va_start (args, format);
    char *reason = s_vprintf (format, args);
    va_end (args);
    if (!reason)
        return -1;
    if (self->origin) {
        self->error = s_printf ("%s: %s", self->origin, reason);
        free (reason);
    } else
        self->error = reason;
    return -1;
}

//  A growable string for config_expand.
typedef struct {
    char *data;
    size_t size;
    size_t max;
} s_buffer_t;

static int
s_buffer_append (s_buffer_t *self, const char *text, size_t size)
{
    if (self->size + size + 1 > self->max) {
        size_t max = (self->size + size + 1) * 2;
        char *data = realloc (self->data, max);
        if (!data)
            return -1;
        self->data = data;
        self->max = max;
    }
    memcpy (self->data + self->size, text, size);
    self->size += size;
    self->data[self->size] = '\0';
    return 0;
}

//  --------------------------------------------------------------------------
//  ${VAR} expansion

char *
config_expand (const char *text, char **missing)
{
    assert (text);
    if (missing)
        *missing = NULL;
    s_buffer_t buffer = { NULL, 0, 0 };
    if (s_buffer_append (&buffer, "", 0))
        return NULL;

    const char *scan = text;
    while (*scan) {
        const char *dollar = strchr (scan, '$');
        if (!dollar) {
            if (s_buffer_append (&buffer, scan, strlen (scan)))
                goto failed;
            break;
        }
        if (s_buffer_append (&buffer, scan, (size_t) (dollar - scan)))
            goto failed;
        if (strncmp (dollar, "$${", 3) == 0) {
            if (s_buffer_append (&buffer, "${", 2))
                goto failed;
            scan = dollar + 3;
            continue;
        }
        //  A name runs to '}' and holds no '$', brace or blank; anything
        //  else ("$5", "${}", an unclosed "${") is just text.
        const char *close = NULL;
        if (dollar[1] == '{') {
            close = dollar + 2 + strcspn (dollar + 2, "${} \t\r\n");
            if (*close != '}')
                close = NULL;
        }
        if (!close || close == dollar + 2) {
            if (s_buffer_append (&buffer, "$", 1))
                goto failed;
            scan = dollar + 1;
            continue;
        }
        //  VS Code writes ${env:VAR}; both spellings mean the same.
        const char *name_start = dollar + 2;
        if (strncmp (name_start, "env:", 4) == 0 && name_start + 4 < close)
            name_start += 4;
        size_t name_size = (size_t) (close - name_start);
        char *name = malloc (name_size + 1);
        if (!name)
            goto failed;
        memcpy (name, name_start, name_size);
        name[name_size] = '\0';
        const char *value = getenv (name);
        if (!value) {
            if (missing)
                *missing = name;
            else
                free (name);
            free (buffer.data);
            return NULL;
        }
        free (name);
        if (s_buffer_append (&buffer, value, strlen (value)))
            goto failed;
        scan = close + 1;
    }
    return buffer.data;

failed:
    free (buffer.data);
    return NULL;
}

//  Expands `text` for the value at `path`. On an unset variable returns
//  NULL and, if the server has no error yet, sets `*server_error` to a
//  reason the user will see when that server fails to start.
static char *
s_expand (s_parser_t *self, const char *text, const char *path, char **server_error)
{
    char *missing = NULL;
    char *expanded = config_expand (text, &missing);
    if (expanded || !missing) {
        if (!expanded)
            s_fail (self, "%s: out of memory", path);
        return expanded;
    }
    if (!*server_error) {
        //  ${input:...} and friends are VS Code prompts we cannot answer.
        if (strchr (missing, ':'))
            *server_error =
                s_printf ("${%s} is not supported, only ${VAR} and ${env:VAR} (%s)", missing, path);
        else
            *server_error = s_printf ("environment variable %s is not set (%s)", missing, path);
    }
    free (missing);
    return NULL;
}

//  --------------------------------------------------------------------------
//  One server

static bool
s_is_http_url (const char *url)
{
    return strncasecmp (url, "http://", 7) == 0 || strncasecmp (url, "https://", 8) == 0;
}

//  Reads an optional string key. Returns 0 with *value NULL if absent.
static int
s_get_string (s_parser_t *self, json_t *object, const char *key, const char *path,
              const char **value)
{
    json_t *item = json_object_get (object, key);
    *value = NULL;
    if (!item)
        return 0;
    if (!json_is_string (item))
        return s_fail (self, "%s.%s: must be a string", path, key);
    *value = json_string_value (item);
    return 0;
}

//  "type" (VS Code) and "transport" (ours) name the same thing. VS Code's
//  "http" tries streamable HTTP and falls back to legacy SSE; the nearest
//  we have is the guess from the URL.
static int
s_transport_from (s_parser_t *self, const char *key, const char *value, const char *path,
                  mcpact_transport_t *transport)
{
    static const struct {
        const char *key;
        const char *value;
        mcpact_transport_t transport;
    } names[] = {
        { "type", "stdio", MCPACT_TRANSPORT_STDIO },
        { "type", "http", MCPACT_TRANSPORT_AUTO },
        { "type", "sse", MCPACT_TRANSPORT_SSE },
        { "type", "streamable-http", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "type", "streamableHttp", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "transport", "auto", MCPACT_TRANSPORT_AUTO },
        { "transport", "stdio", MCPACT_TRANSPORT_STDIO },
        { "transport", "streamable_http", MCPACT_TRANSPORT_STREAMABLE_HTTP },
        { "transport", "sse", MCPACT_TRANSPORT_SSE },
    };
    for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
        if (strcmp (names[i].key, key) == 0 && strcmp (names[i].value, value) == 0) {
            *transport = names[i].transport;
            return 0;
        }
    if (strcmp (key, "type") == 0)
        return s_fail (self,
                       "%s.type: \"%s\" is not one of \"stdio\", \"http\", \"sse\", "
                       "\"streamable-http\"",
                       path, value);
    return s_fail (self,
                   "%s.transport: \"%s\" is not one of \"auto\", \"stdio\", "
                   "\"streamable_http\", \"sse\"",
                   path, value);
}

//  An array of strings; an empty one is fine.
static int
s_check_strings (s_parser_t *self, json_t *array, const char *path, const char *key,
                 bool non_empty_items)
{
    if (!json_is_array (array))
        return s_fail (self, "%s.%s: must be an array of strings", path, key);
    size_t index;
    json_t *item;
    json_array_foreach (array, index, item) {
        if (!json_is_string (item))
            return s_fail (self, "%s.%s[%zu]: must be a string", path, key, index);
        if (non_empty_items && !*json_string_value (item))
            return s_fail (self, "%s.%s[%zu]: must not be empty", path, key, index);
    }
    return 0;
}

static int
s_check_string_object (s_parser_t *self, json_t *object, const char *path, const char *key)
{
    if (!json_is_object (object))
        return s_fail (self, "%s.%s: must be an object of strings", path, key);
    const char *name;
    json_t *item;
    json_object_foreach (object, name, item) {
        if (!json_is_string (item))
            return s_fail (self, "%s.%s.%s: must be a string", path, key, name);
    }
    return 0;
}

//  Stdio-only keys on a URL server (and headers on a command) would be
//  silently useless; say so instead. Empty ones change nothing and pass.
static int
s_check_kind (s_parser_t *self, json_t *server, const char *key, bool allowed, const char *needs,
              const char *path)
{
    json_t *item = json_object_get (server, key);
    if (allowed || !item)
        return 0;
    if ((json_is_array (item) && json_array_size (item) == 0) ||
        (json_is_object (item) && json_object_size (item) == 0))
        return 0;
    return s_fail (self, "%s.%s: only for a server with \"%s\"", path, key, needs);
}

//  "limits": {"inFlight": calls, "queuedBytes": bytes}
static int
s_parse_limits (s_parser_t *self, json_t *limits, const char *path, mcpact_server_config_t *config)
{
    if (!json_is_object (limits))
        return s_fail (self, "%s.limits: must be an object with \"inFlight\", \"queuedBytes\"",
                       path);
    const char *key;
    json_t *item;
    json_int_t values[2] = { 0, 0 };
    json_object_foreach (limits, key, item) {
        int index = strcmp (key, "inFlight") == 0 ? 0 : strcmp (key, "queuedBytes") == 0 ? 1 : -1;
        if (index < 0)
            return s_fail (self,
                           "%s.limits.%s: unknown limit (known: \"inFlight\", \"queuedBytes\")",
                           path, key);
        if (!json_is_integer (item) || json_integer_value (item) <= 0 ||
            (index == 0 && json_integer_value (item) > INT_MAX))
            return s_fail (self, "%s.limits.%s: must be a positive integer", path, key);
        values[index] = json_integer_value (item);
    }
    mcpact_server_config_set_limits (config, (int) values[0], (size_t) values[1]);
    return 0;
}

static int
s_parse_timeouts (s_parser_t *self, json_t *timeouts, const char *path,
                  mcpact_server_config_t *config)
{
    if (!json_is_object (timeouts))
        return s_fail (self,
                       "%s.timeouts: must be an object with \"connect\", \"list\", "
                       "\"call\", \"max\" (milliseconds)",
                       path);
    int values[4] = { 0, 0, 0, 0 };
    static const char *names[4] = { "connect", "list", "call", "max" };
    const char *key;
    json_t *item;
    json_object_foreach (timeouts, key, item) {
        size_t which = 0;
        while (which < 4 && strcmp (names[which], key) != 0)
            which++;
        if (which == 4)
            return s_fail (self,
                           "%s.timeouts.%s: unknown timeout (known: \"connect\", \"list\", "
                           "\"call\", \"max\")",
                           path, key);
        if (!json_is_integer (item) || json_integer_value (item) <= 0 ||
            json_integer_value (item) > INT_MAX)
            return s_fail (
                self, "%s.timeouts.%s: must be a whole number of milliseconds, 1 to 2147483647",
                path, key);
        values[which] = (int) json_integer_value (item);
    }
    if (mcpact_server_config_set_timeouts (config, values[0], values[1], values[2]) ||
        (values[3] && mcpact_server_config_set_max_call (config, values[3])))
        return s_fail (self, "%s.timeouts: out of memory", path);
    return 0;
}

//  Parses one server object at `path`. Returns the configuration; NULL
//  either on an error (self->error set) or because it is disabled.
static mcpact_server_config_t *
s_parse_server (s_parser_t *self, const char *path, const char *name, json_t *server)
{
    if (!json_is_object (server)) {
        s_fail (self, "%s: must be an object", path);
        return NULL;
    }
    json_t *disabled = json_object_get (server, "disabled");
    if (disabled && !json_is_boolean (disabled)) {
        s_fail (self, "%s.disabled: must be true or false", path);
        return NULL;
    }
    //  A disabled entry is often half-written; it is not checked further.
    if (json_is_true (disabled))
        return NULL;
    if (!server_config_name_valid (name)) {
        s_fail (self, "%s: a server name must be 1 to 64 characters of A-Z a-z 0-9 _ . -", path);
        return NULL;
    }

    const char *command, *url, *type, *transport_name;
    if (s_get_string (self, server, "command", path, &command) ||
        s_get_string (self, server, "url", path, &url) ||
        s_get_string (self, server, "type", path, &type) ||
        s_get_string (self, server, "transport", path, &transport_name))
        return NULL;
    if (!command && !url) {
        s_fail (self, "%s: needs \"command\" (a local server) or \"url\" (a remote one)", path);
        return NULL;
    }
    if (command && url) {
        s_fail (self, "%s: has both \"command\" and \"url\"; a server has one", path);
        return NULL;
    }
    if ((command && !*command) || (url && !*url)) {
        s_fail (self, "%s.%s: must not be empty", path, command ? "command" : "url");
        return NULL;
    }

    //  "transport" is ours and wins over "type"; both must make sense.
    mcpact_transport_t transport = MCPACT_TRANSPORT_AUTO;
    mcpact_transport_t from_type = MCPACT_TRANSPORT_AUTO;
    if (type && s_transport_from (self, "type", type, path, &from_type))
        return NULL;
    if (transport_name && s_transport_from (self, "transport", transport_name, path, &transport))
        return NULL;
    const char *transport_key = transport_name ? "transport" : "type";
    const char *transport_value = transport_name ? transport_name : type;
    if (!transport_name)
        transport = from_type;
    if (command && transport != MCPACT_TRANSPORT_AUTO && transport != MCPACT_TRANSPORT_STDIO) {
        s_fail (self, "%s.%s: \"%s\" needs \"url\", not \"command\"", path, transport_key,
                transport_value);
        return NULL;
    }
    if (url && transport == MCPACT_TRANSPORT_STDIO) {
        s_fail (self, "%s.%s: \"%s\" needs \"command\", not \"url\"", path, transport_key,
                transport_value);
        return NULL;
    }

    //  Every key's type is checked before anything is built: a broken file
    //  then fails on its first mistake, in the order a reader would look.
    json_t *args = json_object_get (server, "args");
    json_t *env = json_object_get (server, "env");
    json_t *headers = json_object_get (server, "headers");
    json_t *allowed = json_object_get (server, "allowedTools");
    json_t *timeouts = json_object_get (server, "timeouts");
    const char *cwd;
    if ((args && s_check_strings (self, args, path, "args", false)) ||
        (env && s_check_string_object (self, env, path, "env")) ||
        (headers && s_check_string_object (self, headers, path, "headers")) ||
        (allowed && s_check_strings (self, allowed, path, "allowedTools", true)) ||
        s_get_string (self, server, "cwd", path, &cwd))
        return NULL;
    if (cwd && !*cwd) {
        s_fail (self, "%s.cwd: must not be empty", path);
        return NULL;
    }
    if (s_check_kind (self, server, "args", command, "command", path) ||
        s_check_kind (self, server, "env", command, "command", path) ||
        s_check_kind (self, server, "cwd", command, "command", path) ||
        s_check_kind (self, server, "headers", url, "url", path))
        return NULL;

    char *server_error = NULL; //  the first problem of this server alone
    char *value_path = NULL;
    mcpact_server_config_t *config = NULL;
    if (command)
        config = mcpact_server_stdio_new (name, command);
    else {
        value_path = s_printf ("%s.url", path);
        char *expanded = value_path ? s_expand (self, url, value_path, &server_error) : NULL;
        if (expanded && !s_is_http_url (expanded)) {
            //  Written in the file: fix it now. From a variable: only this
            //  server is affected.
            if (strcmp (expanded, url) == 0)
                s_fail (self, "%s: must start with http:// or https://", value_path);
            else if (!server_error)
                server_error =
                    s_printf ("url must start with http:// or https:// (%s)", value_path);
        }
        config = mcpact_server_http_new (name, expanded ? expanded : url);
        free (expanded);
        free (value_path);
        value_path = NULL;
    }
    if (!config && !self->error)
        s_fail (self, "%s: out of memory", path);
    if (self->error)
        goto failed;

    if (transport != MCPACT_TRANSPORT_AUTO &&
        mcpact_server_config_set_transport (config, transport))
        goto out_of_memory;
    size_t index;
    json_t *item;
    const char *key;
    if (command) {
        json_array_foreach (args, index, item) {
            if (mcpact_server_config_add_arg (config, json_string_value (item)))
                goto out_of_memory;
        }
        if (cwd && mcpact_server_config_set_cwd (config, cwd))
            goto out_of_memory;
    }
    json_object_foreach (env, key, item) {
        if (!*key || strchr (key, '=')) {
            s_fail (self, "%s.env: \"%s\" is not a valid variable name", path, key);
            goto failed;
        }
        free (value_path);
        if (!(value_path = s_printf ("%s.env.%s", path, key)))
            goto out_of_memory;
        char *value = s_expand (self, json_string_value (item), value_path, &server_error);
        if (self->error)
            goto failed;
        int rc = value ? mcpact_server_config_set_env (config, key, value) : 0;
        free (value);
        if (rc)
            goto out_of_memory;
    }
    json_object_foreach (headers, key, item) {
        if (!server_config_header_name_valid (key)) {
            s_fail (self, "%s.headers: \"%s\" is not a valid header name", path, key);
            goto failed;
        }
        free (value_path);
        if (!(value_path = s_printf ("%s.headers.%s", path, key)))
            goto out_of_memory;
        const char *raw = json_string_value (item);
        if (strpbrk (raw, "\r\n")) {
            s_fail (self, "%s: must not contain a line break", value_path);
            goto failed;
        }
        char *value = s_expand (self, raw, value_path, &server_error);
        if (self->error)
            goto failed;
        if (!value)
            continue;
        //  Only a variable can have brought a line break in by now.
        if (strpbrk (value, "\r\n")) {
            if (!server_error)
                server_error = s_printf ("a variable put a line break in %s", value_path);
            free (value);
            continue;
        }
        int rc = mcpact_server_config_add_header (config, key, value);
        free (value);
        if (rc)
            goto out_of_memory;
    }
    json_array_foreach (allowed, index, item) {
        if (mcpact_server_config_allow_tool (config, json_string_value (item)))
            goto out_of_memory;
    }
    if (timeouts && s_parse_timeouts (self, timeouts, path, config))
        goto failed;
    json_t *limits = json_object_get (server, "limits");
    if (limits && s_parse_limits (self, limits, path, config))
        goto failed;
    json_t *retries = json_object_get (server, "startRetries");
    if (retries && (!json_is_integer (retries) || json_integer_value (retries) < 0 ||
                    json_integer_value (retries) > INT_MAX)) {
        s_fail (self, "%s.startRetries: must be a whole number, 0 or more", path);
        goto failed;
    }
    if (retries)
        mcpact_server_config_set_start_retries (config, (int) json_integer_value (retries));
    if (server_error && mcpact_server_config_set_error (config, server_error))
        goto out_of_memory;
    free (server_error);
    free (value_path);
    return config;

out_of_memory:
    s_fail (self, "%s: out of memory", path);
failed:
    free (server_error);
    free (value_path);
    mcpact_server_config_destroy (&config);
    return NULL;
}

//  --------------------------------------------------------------------------
//  Server lists and agents

static bool
s_is_disabled (json_t *server)
{
    return json_is_object (server) && json_is_true (json_object_get (server, "disabled"));
}

//  Parses {NAME: SERVER, ...} at `path` into *servers_p, which is set
//  before anything can fail so that config_destroy frees a partial list.
static int
s_parse_servers (s_parser_t *self, json_t *object, const char *path,
                 mcpact_server_config_t ***servers_p, size_t *count_p)
{
    if (!json_is_object (object))
        return s_fail (self, "%s: must be an object of servers", path);
    *servers_p = calloc (json_object_size (object) + 1, sizeof (mcpact_server_config_t *));
    if (!*servers_p)
        return s_fail (self, "%s: out of memory", path);
    const char *name;
    json_t *server;
    json_object_foreach (object, name, server) {
        char *server_path = s_printf ("%s.%s", path, name);
        if (!server_path)
            return s_fail (self, "%s: out of memory", path);
        mcpact_server_config_t *config = s_parse_server (self, server_path, name, server);
        free (server_path);
        if (self->error)
            return -1;
        if (config)
            (*servers_p)[(*count_p)++] = config;
    }
    return 0;
}

//  The agent's servers replace the session's, so it gets its own copies
//  of the ones it names: they run as separate instances.
static int
s_parse_agent_names (s_parser_t *self, config_t *config, json_t *names, const char *path,
                     config_agent_t *agent)
{
    agent->servers = calloc (json_array_size (names) + 1, sizeof (mcpact_server_config_t *));
    if (!agent->servers)
        return s_fail (self, "%s: out of memory", path);
    size_t index;
    json_t *item;
    json_array_foreach (names, index, item) {
        if (!json_is_string (item))
            return s_fail (self, "%s[%zu]: must be a server name (a string)", path, index);
        const char *name = json_string_value (item);
        for (size_t earlier = 0; earlier < index; earlier++)
            if (strcmp (json_string_value (json_array_get (names, earlier)), name) == 0)
                return s_fail (self, "%s[%zu]: server \"%s\" is listed twice", path, index, name);
        json_t *server = json_object_get (self->session_servers, name);
        if (!server)
            return s_fail (self, "%s[%zu]: unknown server \"%s\" (not in \"%s\")", path, index,
                           name, self->servers_key);
        if (s_is_disabled (server))
            continue;
        const mcpact_server_config_t *original = NULL;
        for (size_t i = 0; i < config->servers_count && !original; i++)
            if (strcmp (mcpact_server_config_name (config->servers[i]), name) == 0)
                original = config->servers[i];
        assert (original); //  every enabled top-level server was parsed
        mcpact_server_config_t *copy = mcpact_server_config_dup (original);
        if (!copy)
            return s_fail (self, "%s[%zu]: out of memory", path, index);
        agent->servers[agent->servers_count++] = copy;
    }
    return 0;
}

static int
s_parse_agent (s_parser_t *self, config_t *config, const char *name, json_t *value,
               config_agent_t *agent)
{
    if (!*name)
        return s_fail (self, "agents: an agent name must not be empty");
    if (!(agent->name = s_printf ("%s", name)))
        return s_fail (self, "agents.%s: out of memory", name);
    if (!json_is_object (value))
        return s_fail (self, "agents.%s: must be an object", name);
    json_t *servers = json_object_get (value, "mcpServers");
    if (!servers)
        return 0;
    char *path = s_printf ("agents.%s.mcpServers", name);
    if (!path)
        return s_fail (self, "agents.%s: out of memory", name);
    size_t listed = 0;
    if (json_is_array (servers)) {
        listed = json_array_size (servers);
        s_parse_agent_names (self, config, servers, path, agent);
    } else if (json_is_object (servers)) {
        listed = json_object_size (servers);
        s_parse_servers (self, servers, path, &agent->servers, &agent->servers_count);
    } else
        s_fail (self, "%s: must be an array of server names or an object of servers", path);
    //  No servers means "use the session's": not what a list of disabled
    //  ones asked for.
    if (!self->error && listed > 0 && agent->servers_count == 0)
        s_fail (self,
                "%s: every server listed is disabled, and an agent without servers "
                "would use the session's",
                path);
    free (path);
    return self->error ? -1 : 0;
}

static int
s_parse_agents (s_parser_t *self, config_t *config, json_t *agents)
{
    if (!json_is_object (agents))
        return s_fail (self, "agents: must be an object of agents");
    config->agents = calloc (json_object_size (agents) + 1, sizeof (config_agent_t));
    if (!config->agents)
        return s_fail (self, "agents: out of memory");
    const char *name;
    json_t *value;
    json_object_foreach (agents, name, value) {
        //  Counted first so that config_destroy frees a half-made agent.
        config_agent_t *agent = &config->agents[config->agents_count++];
        if (s_parse_agent (self, config, name, value, agent))
            return -1;
    }
    return 0;
}

static int
s_parse_name_policy (s_parser_t *self, json_t *value, mcpact_name_policy_t *policy)
{
    const char *name = json_string_value (value);
    if (name && strcmp (name, "reject") == 0)
        *policy = MCPACT_NAMES_REJECT;
    else if (name && strcmp (name, "prefix") == 0)
        *policy = MCPACT_NAMES_PREFIX;
    else if (name && strcmp (name, "prefix_on_conflict") == 0)
        *policy = MCPACT_NAMES_PREFIX_ON_CONFLICT;
    else
        return s_fail (self, "toolNames: must be \"reject\", \"prefix\" or "
                             "\"prefix_on_conflict\"");
    return 0;
}

//  --------------------------------------------------------------------------
//  The whole file

//  Takes a size because a file may hold a NUL byte, which must be an error
//  rather than the silent end of the text.
static config_t *
s_parse (const char *text, size_t size, const char *origin, char **error)
{
    s_parser_t parser = { origin, NULL, NULL, NULL };
    config_t *self = NULL;
    json_error_t json_error;
    //  Duplicate keys would silently drop a server; jansson can refuse them.
    json_t *root = json_loadb (text, size, JSON_REJECT_DUPLICATES, &json_error);
    if (!root) {
        s_fail (&parser, "line %d, column %d: %s", json_error.line, json_error.column,
                json_error.text);
        goto done;
    }
    if (!json_is_object (root)) {
        s_fail (&parser, "the top level must be a JSON object");
        goto done;
    }
    json_t *mcp_servers = json_object_get (root, "mcpServers");
    json_t *servers = json_object_get (root, "servers");
    if (mcp_servers && servers) {
        s_fail (&parser, "both \"mcpServers\" and \"servers\" are present; use one");
        goto done;
    }
    if (!mcp_servers && !servers) {
        s_fail (&parser, "no \"mcpServers\" (or \"servers\") object at the top level");
        goto done;
    }
    parser.servers_key = mcp_servers ? "mcpServers" : "servers";
    parser.session_servers = mcp_servers ? mcp_servers : servers;

    self = calloc (1, sizeof (config_t));
    if (!self) {
        s_fail (&parser, "out of memory");
        goto done;
    }
    self->name_policy = MCPACT_NAMES_REJECT;
    if (s_parse_servers (&parser, parser.session_servers, parser.servers_key, &self->servers,
                         &self->servers_count))
        goto done;
    json_t *tool_names = json_object_get (root, "toolNames");
    if (tool_names && s_parse_name_policy (&parser, tool_names, &self->name_policy))
        goto done;
    json_t *agents = json_object_get (root, "agents");
    if (agents && s_parse_agents (&parser, self, agents))
        goto done;

done:
    json_decref (root);
    if (parser.error) {
        config_destroy (&self);
        if (!error)
            free (parser.error);
    }
    if (error)
        *error = parser.error;
    return self;
}

config_t *
config_parse (const char *text, const char *origin, char **error)
{
    if (!text) {
        s_parser_t parser = { origin, NULL, NULL, NULL };
        s_fail (&parser, "no configuration text");
        if (error)
            *error = parser.error;
        else
            free (parser.error);
        return NULL;
    }
    return s_parse (text, strlen (text), origin, error);
}

config_t *
config_load (const char *path, char **error)
{
    assert (path);
    if (error)
        *error = NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *file = fopen (path, "rb");
    bool ok = file != NULL;
    while (ok) {
        char *bigger = realloc (text, size + 65536);
        if (!bigger) {
            errno = ENOMEM;
            ok = false;
            break;
        }
        text = bigger;
        size_t got = fread (text + size, 1, 65536, file);
        size += got;
        if (got < 65536) {
            ok = !ferror (file);
            break;
        }
    }
    //  Keep the reason before fclose can change errno.
    int reason = errno;
    if (file)
        fclose (file);
    if (!ok) {
        if (error)
            *error = s_printf ("%s: cannot read: %s", path, strerror (reason));
        free (text);
        return NULL;
    }
    config_t *self = s_parse (text ? text : "", size, path, error);
    free (text);
    return self;
}

void
config_destroy (config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    config_t *self = *self_p;
    for (size_t i = 0; i < self->servers_count; i++)
        mcpact_server_config_destroy (&self->servers[i]);
    free (self->servers);
    for (size_t i = 0; i < self->agents_count; i++) {
        config_agent_t *agent = &self->agents[i];
        for (size_t j = 0; j < agent->servers_count; j++)
            mcpact_server_config_destroy (&agent->servers[j]);
        free (agent->servers);
        free (agent->name);
    }
    free (self->agents);
    free (self);
    *self_p = NULL;
}
