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

#include "oauth.h"

#include "endpoint.h"
#include "log.h"

#include <assert.h>
#include <ctype.h>
#include <libgen.h>
#include <pwd.h>
#include <unistd.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "roots.h"

//  State of one parse: where the text came from and the first error.
typedef struct {
    const char *origin;      //  names the source in messages, or NULL
    char *error;             //  first error, "origin: path: reason"
    const char *servers_key; //  "mcpServers", "servers" or "mcp.servers"
    json_t *session_servers; //  the top-level servers object (borrowed)
    json_t *inputs;          //  VS Code "inputs" (borrowed), or NULL
    json_t *input_values;    //  ${input:ID} values found so far, by ID
    char *workspace;         //  ${workspaceFolder}: the file's folder
    const char *log_level;   //  the file's "logLevel", the default of every server
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

//  Where an input's value may come from the environment: MCPACT_INPUT_
//  and the ID in capitals, other characters than letters and digits as _.
static void
s_input_variable (const char *id, char *buf, size_t size)
{
    size_t len = (size_t) snprintf (buf, size, "MCPACT_INPUT_");
    for (const char *c = id; *c && len + 1 < size; c++)
        buf[len++] = isalnum ((unsigned char) *c) ? (char) toupper ((unsigned char) *c) : '_';
    buf[len] = '\0';
}

static mcpact_input_fn *s_input_fn;
static void *s_input_arg;

void
mcpact_set_input_fn (mcpact_input_fn *fn, void *arg)
{
    s_input_fn = fn;
    s_input_arg = arg;
}

//  The value of ${input:ID}: asked once per load. From the environment
//  variable first, then from the host's asker (mcpact_set_input_fn), with
//  the input's description, as VS Code would. NULL if there is none:
//  *why then says how to give one.
static const char *
s_input_value (s_parser_t *self, const char *id, char **why)
{
    json_t *known = json_object_get (self->input_values, id);
    if (known)
        return json_string_value (known);
    json_t *input = NULL;
    size_t index;
    json_t *item;
    json_array_foreach (self->inputs, index, item) {
        const char *item_id = json_string_value (json_object_get (item, "id"));
        if (item_id && strcmp (item_id, id) == 0)
            input = item;
    }
    char variable[128];
    s_input_variable (id, variable, sizeof variable);
    char *value = getenv (variable) ? strdup (getenv (variable)) : NULL;
    if (!value && s_input_fn)
        value = s_input_fn (id, json_string_value (json_object_get (input, "description")),
                            json_is_true (json_object_get (input, "password")), s_input_arg);
    if (!value) {
        *why = s_printf ("${input:%s} has no value: set %s (the mcpact CLI asks for it when run "
                         "on a terminal)%s",
                         id, variable, input ? "" : "; \"inputs\" does not declare it either");
        return NULL;
    }
    json_object_set_new (self->input_values, id, json_string (value));
    free (value);
    return json_string_value (json_object_get (self->input_values, id));
}

//  Appends `value` so that config_expand keeps it as it is: its "${"
//  become "$${".
static int
s_append_escaped (s_buffer_t *buffer, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (p[0] == '$' && p[1] == '{' && s_buffer_append (buffer, "$", 1))
            return -1;
        if (s_buffer_append (buffer, p, 1))
            return -1;
    }
    return 0;
}

//  Expands `text` for the value at `path`: VS Code's predefined variables
//  (${userHome}, ${workspaceFolder}, ${workspaceFolderBasename},
//  ${pathSeparator}), ${input:ID}, then ${VAR} and ${env:VAR} from the
//  environment. An unterminated "${" is the file's mistake and fails the
//  load. On a value that cannot be had returns NULL and, if the server has
//  no error yet, sets `*server_error` to a reason the user will see when
//  that server fails to start.
static char *
s_expand (s_parser_t *self, const char *text, const char *path, char **server_error)
{
    s_buffer_t buffer = { NULL, 0, 0 };
    if (s_buffer_append (&buffer, "", 0)) {
        s_fail (self, "%s: out of memory", path);
        return NULL;
    }
    char *why = NULL;
    for (const char *scan = text; *scan;) {
        const char *dollar = strstr (scan, "${");
        if (!dollar) {
            s_buffer_append (&buffer, scan, strlen (scan));
            break;
        }
        s_buffer_append (&buffer, scan, (size_t) (dollar - scan));
        if (dollar > text && dollar[-1] == '$') {
            //  "$${" is a literal "${": leave it to config_expand
            s_buffer_append (&buffer, "${", 2);
            scan = dollar + 2;
            continue;
        }
        const char *close = strchr (dollar, '}');
        if (!close) {
            s_fail (self, "%s: \"${\" at character %zu is not closed by \"}\"", path,
                    (size_t) (dollar - text) + 1);
            free (buffer.data);
            return NULL;
        }
        size_t name_size = (size_t) (close - dollar - 2);
        char name[256];
        snprintf (name, sizeof name, "%.*s", (int) (name_size < 255 ? name_size : 255), dollar + 2);
        const char *value = NULL;
        char *owned = NULL;
        if (strcmp (name, "userHome") == 0) {
            value = getenv ("HOME");
            struct passwd *user = value ? NULL : getpwuid (getuid ());
            if (user)
                value = user->pw_dir;
        } else if (strcmp (name, "workspaceFolder") == 0)
            value = self->workspace;
        else if (strcmp (name, "workspaceFolderBasename") == 0) {
            owned = self->workspace ? strdup (self->workspace) : NULL;
            value = owned ? basename (owned) : NULL;
        } else if (strcmp (name, "pathSeparator") == 0 || strcmp (name, "/") == 0)
            value = "/";
        else if (strncmp (name, "input:", 6) == 0) {
            value = s_input_value (self, name + 6, &why);
            if (!value) {
                free (buffer.data);
                if (!*server_error)
                    *server_error = s_printf ("%s (%s)", why, path);
                free (why);
                return NULL;
            }
        } else if (strchr (name, ':') && strncmp (name, "env:", 4) != 0) {
            free (buffer.data);
            if (!*server_error)
                *server_error = s_printf ("${%s} is not supported (%s): mcpact knows ${VAR}, "
                                          "${env:VAR}, ${input:ID}, ${userHome} and "
                                          "${workspaceFolder}",
                                          name, path);
            return NULL;
        }
        if (value)
            s_append_escaped (&buffer, value);
        else
            //  ${VAR} and ${env:VAR}: config_expand's
            s_buffer_append (&buffer, dollar, (size_t) (close - dollar) + 1);
        free (owned);
        scan = close + 1;
    }
    if (!buffer.data) {
        s_fail (self, "%s: out of memory", path);
        return NULL;
    }
    char *missing = NULL;
    char *expanded = config_expand (buffer.data, &missing);
    free (buffer.data);
    if (expanded || !missing) {
        if (!expanded)
            s_fail (self, "%s: out of memory", path);
        return expanded;
    }
    if (!*server_error)
        *server_error = s_printf ("environment variable %s is not set (%s)", missing, path);
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

//  "oauth": {"clientId": "...", "scopes": ["a", "b"], ...} (docs/auth.md).
//  Strings take ${...} variables like headers do (a secret belongs in the
//  environment); scopes may be a list; authorizeTimeout is seconds.
static int
s_parse_oauth (s_parser_t *self, json_t *oauth, const char *path, mcpact_server_config_t *config,
               char **server_error)
{
    if (!json_is_object (oauth))
        return s_fail (self, "%s.oauth: must be an object (see docs/auth.md)", path);
    const char *key;
    json_t *item;
    json_object_foreach (oauth, key, item) {
        char *value = NULL;
        if (strcmp (key, "scopes") == 0 && json_is_array (item)) {
            size_t index;
            json_t *scope;
            json_array_foreach (item, index, scope) {
                if (!json_is_string (scope))
                    return s_fail (self, "%s.oauth.scopes: must be a list of strings", path);
                char *joined = value ? s_printf ("%s %s", value, json_string_value (scope))
                                     : strdup (json_string_value (scope));
                free (value);
                value = joined;
            }
        } else if (strcmp (key, "authorizeTimeout") == 0 && json_is_integer (item))
            //  Range checked below, with the API's check
            value = s_printf ("%lld", (long long) json_integer_value (item));
        else if (strcmp (key, "authorizeTimeout") == 0 && !json_is_string (item))
            return s_fail (self, "%s.oauth.authorizeTimeout: %s", path,
                           oauth_setting_problem ("authorizeTimeout", "x"));
        else if (json_is_string (item)) {
            char *value_path = s_printf ("%s.oauth.%s", path, key);
            value = value_path ? s_expand (self, json_string_value (item), value_path, server_error)
                               : NULL;
            free (value_path);
            if (self->error)
                return -1;
            if (!value)
                continue;
        } else if (!oauth_setting_problem (key, NULL))
            return s_fail (self, "%s.oauth.%s: must be a string%s", path, key,
                           strcmp (key, "scopes") == 0 ? " or a list of strings" : "");
        //  One check for the file and the API (oauth_setting_problem).
        const char *problem = oauth_setting_problem (key, value ? value : "");
        if (problem) {
            free (value);
            return s_fail (self, "%s.oauth.%s: %s", path, key, problem);
        }
        int rc = mcpact_server_config_set_oauth (config, key, value ? value : "");
        free (value);
        if (rc)
            return s_fail (self, "%s.oauth.%s: out of memory", path, key);
    }
    return 0;
}

//  Keys other clients write that mcpact has no use for are said once each,
//  with their JSON path, so that a user relying on one (autoApprove, say)
//  learns it does nothing here; never an error, since the file is shared.
static void
s_warn_unknown_keys (s_parser_t *self, json_t *object, const char *path, const char *const *known)
{
    const char *key;
    json_t *item;
    json_object_foreach (object, key, item) {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp (known[i], key) == 0;
        if (!found)
            log_warn ("%s%s%s%s%s: not used by mcpact; ignored", self->origin ? self->origin : "",
                      self->origin ? ": " : "", path, *path ? "." : "", key);
    }
}

//  Reads an envFile: KEY=VALUE lines, blank lines and # comments skipped,
//  an "export " before the key allowed, a value in matching single or
//  double quotes taken without them. Sets each in `config`. Returns 0, or
//  -1 with *why set (a line that is not KEY=VALUE, a file not read).
static int
s_read_env_file (const char *file, mcpact_server_config_t *config, char **why)
{
    FILE *in = fopen (file, "r");
    if (!in) {
        *why = s_printf ("cannot read %s: %s", file, strerror (errno));
        return -1;
    }
    char *line = NULL;
    size_t room = 0;
    int number = 0, rc = 0;
    while (rc == 0 && getline (&line, &room, in) >= 0) {
        number++;
        line[strcspn (line, "\r\n")] = '\0';
        char *start = line;
        while (isspace ((unsigned char) *start))
            start++;
        if (!*start || *start == '#')
            continue;
        if (strncmp (start, "export ", 7) == 0)
            start += 7;
        char *equals = strchr (start, '=');
        char *key_end = equals;
        while (key_end && key_end > start && isspace ((unsigned char) key_end[-1]))
            key_end--;
        if (!equals || key_end == start) {
            *why = s_printf ("%s, line %d: not KEY=VALUE", file, number);
            rc = -1;
            break;
        }
        *key_end = '\0';
        char *value = equals + 1;
        while (isspace ((unsigned char) *value))
            value++;
        size_t len = strlen (value);
        while (len > 0 && isspace ((unsigned char) value[len - 1]))
            value[--len] = '\0';
        if (len >= 2 && (value[0] == '"' || value[0] == '\'') && value[len - 1] == value[0]) {
            value[len - 1] = '\0';
            value++;
        }
        if (mcpact_server_config_set_env (config, start, value)) {
            *why = s_printf ("%s, line %d: cannot set %s", file, number, start);
            rc = -1;
        }
    }
    //  getline ends at a read error as at the end of the file (a
    //  directory opens, then fails to read): not the same thing
    if (rc == 0 && ferror (in)) {
        *why = s_printf ("cannot read %s: %s", file, strerror (errno));
        rc = -1;
    }
    free (line);
    fclose (in);
    return rc;
}

//  "logLevel" at `path`: one of MCP's logging levels (RFC 5424 names),
//  set on `config` (NULL: only checked). 0, or -1 with the error set.
static int
s_parse_log_level (s_parser_t *self, json_t *value, const char *path,
                   mcpact_server_config_t *config)
{
    if (!value)
        return 0;
    const char *level = json_string_value (value);
    mcpact_server_config_t *probe = config ? NULL : mcpact_server_stdio_new ("probe", "probe");
    int rc = mcpact_server_config_set_log_level (config ? config : probe, level ? level : "");
    mcpact_server_config_destroy (&probe);
    if (rc)
        return s_fail (self,
                       "%s%slogLevel: must be debug, info, notice, warning, error, critical, "
                       "alert or emergency",
                       path, *path ? "." : "");
    return 0;
}

//  Gives each server of `servers` that has no "logLevel" of its own (in
//  `raw`, the servers' objects by name) the default `level`.
static void
s_default_log_level (mcpact_server_config_t **servers, size_t count, json_t *raw, const char *level)
{
    for (size_t i = 0; level && i < count; i++) {
        json_t *server = json_object_get (raw, mcpact_server_config_name (servers[i]));
        if (!json_object_get (server, "logLevel"))
            mcpact_server_config_set_log_level (servers[i], level);
    }
}

//  --------------------------------------------------------------------------
//  Client features: "roots" and "clientCapabilities"

//  "roots" at `path`: file:// URIs, paths (relative ones from the file's
//  folder) or {"uri", "name"}; *text gets the list as JSON text.
static int
s_parse_roots (s_parser_t *self, json_t *value, const char *path, char **text)
{
    json_t *copy = json_deep_copy (value);
    size_t index;
    json_t *item;
    json_array_foreach (copy, index, item) {
        json_t *uri = json_is_object (item) ? json_object_get (item, "uri") : item;
        const char *given = json_string_value (uri);
        if (given && self->workspace && *given && *given != '/' && !strstr (given, "://")) {
            char *full = s_printf ("%s/%s", self->workspace, given);
            if (full)
                json_string_set (uri, full);
            free (full);
        }
    }
    char *error = NULL;
    json_t *roots = copy ? roots_list (copy, &error) : NULL;
    json_decref (copy);
    if (!roots) {
        s_fail (self, "%s%s%s", path, *path ? "." : "", error ? error : "roots: out of memory");
        free (error);
        return -1;
    }
    json_array_foreach (roots, index, item) {
        char *problem = roots_problem (json_string_value (json_object_get (item, "uri")));
        if (problem)
            log_warn ("%s%s%s%sroots[%zu]: %s (offered all the same)",
                      self->origin ? self->origin : "", self->origin ? ": " : "", path,
                      *path ? "." : "", index, problem);
        free (problem);
    }
    *text = json_dumps (roots, JSON_COMPACT);
    json_decref (roots);
    return *text ? 0 : s_fail (self, "%s: out of memory", path);
}

//  A server's "clientCapabilities": {"roots", "sampling", "elicitation"},
//  each true (the default: offered when the host supplies it) or false.
static int
s_parse_client_features (s_parser_t *self, json_t *value, const char *path,
                         mcpact_server_config_t *config)
{
    if (!json_is_object (value))
        return s_fail (self, "%s.clientCapabilities: must be an object", path);
    static const char *const names[] = { "roots", "sampling", "elicitation" };
    int features = config->client_features;
    const char *key;
    json_t *item;
    json_object_foreach (value, key, item) {
        int bit = 0;
        for (int i = 0; i < 3; i++)
            if (strcmp (key, names[i]) == 0)
                bit = 1 << i;
        if (!bit)
            return s_fail (self,
                           "%s.clientCapabilities.%s: unknown; known are roots, sampling and "
                           "elicitation",
                           path, key);
        if (!json_is_boolean (item))
            return s_fail (self, "%s.clientCapabilities.%s: must be true or false", path, key);
        features = json_is_true (item) ? features | bit : features & ~bit;
    }
    mcpact_server_config_set_client_features (config, features);
    return 0;
}

//  Parses one server object at `path`. Returns the configuration; NULL
//  either on an error (self->error set) or because it is disabled.
//  A group of servers behind another mcpact (docs/scale-out.md):
//  "group": endpoint, "serverKey" and "clientCertificate" (CURVE, both or
//  neither), "agent" (the gateway's agent, "" by default).
static mcpact_server_config_t *
s_parse_group (s_parser_t *self, json_t *server, const char *path, const char *name,
               const char *group, char **server_error)
{
    const char *server_key, *certificate, *agent;
    if (s_get_string (self, server, "serverKey", path, &server_key) ||
        s_get_string (self, server, "clientCertificate", path, &certificate) ||
        s_get_string (self, server, "agent", path, &agent))
        return NULL;
    if (!server_key != !certificate) {
        s_fail (self,
                "%s: CURVE needs both \"serverKey\" (the group's public key) and "
                "\"clientCertificate\" (our secret certificate)",
                path);
        return NULL;
    }
    const char *keys[] = { "group", "serverKey", "clientCertificate" };
    const char *values[] = { group, server_key, certificate };
    char *expanded[3] = { NULL, NULL, NULL };
    for (int i = 0; i < 3 && !self->error; i++) {
        char *value_path = values[i] ? s_printf ("%s.%s", path, keys[i]) : NULL;
        if (value_path)
            expanded[i] = s_expand (self, values[i], value_path, server_error);
        free (value_path);
    }
    //  Relative paths are the file's, as relative roots are: a relative
    //  ipc:// socket, serverKey (unless 40 Z85 characters that name no
    //  file there) and clientCertificate.
    for (int i = 0; i < 3 && !self->error && self->workspace; i++) {
        const char *value = expanded[i];
        bool ipc = i == 0 && value && strncmp (value, "ipc://", 6) == 0;
        const char *file = ipc ? value + 6 : i > 0 ? value : NULL;
        if (!file || !*file || *file == '/' || *file == '@')
            continue;
        char *full = s_printf ("%s%s/%s", ipc ? "ipc://" : "", self->workspace,
                               strncmp (file, "./", 2) == 0 ? file + 2 : file);
        if (full && i == 1 && strlen (file) == 40 && access (full, F_OK) != 0) {
            free (full); //  a public key
            continue;
        }
        if (!full) {
            s_fail (self, "%s: out of memory", path);
            break;
        }
        free (expanded[i]);
        expanded[i] = full;
    }
    //  The check of serve's --bind and of --connect, on the value as
    //  expanded. Written in the file: fix it now. From a variable: only
    //  this group is affected (the group's own check fails it when it
    //  starts, saying why); a variable that is not set has failed it
    //  already (*server_error), whatever the text around it looks like.
    const char *endpoint = expanded[0] ? expanded[0] : group;
    char reason[600];
    if (!self->error && expanded[0] &&
        endpoint_connect_problem (endpoint, reason, sizeof reason) != 0) {
        if (!strstr (group, "${"))
            s_fail (self, "%s.group: %s", path, reason);
        else if (!*server_error)
            *server_error = s_printf ("group %s (%s.group)", reason, path);
    }
    if (!self->error && server_key && strncmp (endpoint, "ipc://", 6) == 0)
        s_fail (self, "%s: " GROUP_IPC_CURVE_ERROR, path);
    mcpact_server_config_t *config = NULL;
    if (!self->error) {
        config = mcpact_server_group_new (name, expanded[0] ? expanded[0] : group);
        if (!config)
            s_fail (self, "%s: out of memory", path);
        else if ((server_key && mcpact_server_config_set_group_curve (
                                    config, expanded[1] ? expanded[1] : server_key,
                                    expanded[2] ? expanded[2] : certificate)) ||
                 (agent && mcpact_server_config_set_group_agent (config, agent))) {
            s_fail (self, "%s: serverKey and clientCertificate must not be empty", path);
            mcpact_server_config_destroy (&config);
        }
    }
    for (int i = 0; i < 3; i++)
        free (expanded[i]);
    return config;
}

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

    static const char *const known[] = { "command",
                                         "args",
                                         "env",
                                         "envFile",
                                         "cwd",
                                         "url",
                                         "headers",
                                         "type",
                                         "transport",
                                         "disabled",
                                         "allowedTools",
                                         "disabledTools",
                                         "timeouts",
                                         "limits",
                                         "startRetries",
                                         "logLevel",
                                         "oauth",
                                         "roots",
                                         "clientCapabilities",
                                         "group",
                                         "serverKey",
                                         "clientCertificate",
                                         "agent",
                                         NULL };
    s_warn_unknown_keys (self, server, path, known);
    const char *command, *url, *type, *transport_name, *group;
    if (s_get_string (self, server, "group", path, &group))
        return NULL;
    const char *other = json_object_get (server, "command") ? "command"
                        : json_object_get (server, "url")   ? "url"
                                                            : NULL;
    if (group && other) {
        s_fail (self, "%s: has both \"group\" and \"%s\"; a server has one", path, other);
        return NULL;
    }
    if (group && (json_object_get (server, "type") || json_object_get (server, "transport"))) {
        s_fail (self, "%s: a group has no \"type\" or \"transport\"", path);
        return NULL;
    }
    if (!group && (s_check_kind (self, server, "serverKey", false, "group", path) ||
                   s_check_kind (self, server, "clientCertificate", false, "group", path) ||
                   s_check_kind (self, server, "agent", false, "group", path)))
        return NULL;
    if (s_get_string (self, server, "command", path, &command) ||
        s_get_string (self, server, "url", path, &url) ||
        s_get_string (self, server, "type", path, &type) ||
        s_get_string (self, server, "transport", path, &transport_name))
        return NULL;
    if (!command && !url && !group) {
        s_fail (self,
                "%s: needs \"command\" (a local server), \"url\" (a remote one) or \"group\" "
                "(servers of another mcpact)",
                path);
        return NULL;
    }
    if (command && url) {
        s_fail (self, "%s: has both \"command\" and \"url\"; a server has one", path);
        return NULL;
    }
    if (group && !*group) {
        s_fail (self, "%s.group: must not be empty", path);
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
    json_t *blocked = json_object_get (server, "disabledTools");
    json_t *timeouts = json_object_get (server, "timeouts");
    const char *cwd, *env_file;
    if ((args && s_check_strings (self, args, path, "args", false)) ||
        (env && s_check_string_object (self, env, path, "env")) ||
        (headers && s_check_string_object (self, headers, path, "headers")) ||
        (allowed && s_check_strings (self, allowed, path, "allowedTools", true)) ||
        (blocked && s_check_strings (self, blocked, path, "disabledTools", true)) ||
        s_get_string (self, server, "cwd", path, &cwd) ||
        s_get_string (self, server, "envFile", path, &env_file))
        return NULL;
    if (cwd && !*cwd) {
        s_fail (self, "%s.cwd: must not be empty", path);
        return NULL;
    }
    if (s_check_kind (self, server, "args", command, "command", path) ||
        s_check_kind (self, server, "env", command, "command", path) ||
        s_check_kind (self, server, "cwd", command, "command", path) ||
        (env_file && s_check_kind (self, server, "envFile", command, "command", path)) ||
        s_check_kind (self, server, "headers", url, "url", path) ||
        s_check_kind (self, server, "oauth", url, "url", path))
        return NULL;

    char *server_error = NULL; //  the first problem of this server alone
    char *value_path = NULL;
    mcpact_server_config_t *config = NULL;
    if (command) {
        value_path = s_printf ("%s.command", path);
        char *expanded = value_path ? s_expand (self, command, value_path, &server_error) : NULL;
        config = self->error ? NULL : mcpact_server_stdio_new (name, expanded ? expanded : command);
        free (expanded);
        free (value_path);
        value_path = NULL;
    } else if (group)
        config = s_parse_group (self, server, path, name, group, &server_error);
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
        //  VS Code expands variables everywhere: ${workspaceFolder} in an
        //  argument is the common case
        json_array_foreach (args, index, item) {
            free (value_path);
            if (!(value_path = s_printf ("%s.args[%zu]", path, index)))
                goto out_of_memory;
            char *value = s_expand (self, json_string_value (item), value_path, &server_error);
            if (self->error)
                goto failed;
            int rc =
                mcpact_server_config_add_arg (config, value ? value : json_string_value (item));
            free (value);
            if (rc)
                goto out_of_memory;
        }
        if (cwd) {
            free (value_path);
            if (!(value_path = s_printf ("%s.cwd", path)))
                goto out_of_memory;
            char *value = s_expand (self, cwd, value_path, &server_error);
            if (self->error)
                goto failed;
            int rc = mcpact_server_config_set_cwd (config, value ? value : cwd);
            free (value);
            if (rc)
                goto out_of_memory;
        }
        //  Before "env", whose values win over the file's
        if (env_file) {
            free (value_path);
            if (!(value_path = s_printf ("%s.envFile", path)))
                goto out_of_memory;
            char *file = s_expand (self, env_file, value_path, &server_error);
            if (self->error)
                goto failed;
            char *why = NULL;
            if (file && s_read_env_file (file, config, &why) && !server_error)
                server_error =
                    s_printf ("envFile: %s (%s)", why ? why : "out of memory", value_path);
            free (why);
            free (file);
        }
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
    json_array_foreach (blocked, index, item) {
        if (server_config_block_tool (config, json_string_value (item)))
            goto out_of_memory;
    }
    if (timeouts && s_parse_timeouts (self, timeouts, path, config))
        goto failed;
    json_t *oauth = json_object_get (server, "oauth");
    if (oauth && url && s_parse_oauth (self, oauth, path, config, &server_error))
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
    if (s_parse_log_level (self, json_object_get (server, "logLevel"), path, config))
        goto failed;
    json_t *roots = json_object_get (server, "roots");
    if (roots && s_parse_roots (self, roots, path, &config->roots))
        goto failed;
    json_t *features = json_object_get (server, "clientCapabilities");
    if (features && s_parse_client_features (self, features, path, config))
        goto failed;
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
    json_t *roots = json_object_get (value, "roots");
    if (roots) {
        char *path = s_printf ("agents.%s", name);
        int rc = path ? s_parse_roots (self, roots, path, &agent->roots) : -1;
        free (path);
        if (rc)
            return -1;
    }
    json_t *servers = json_object_get (value, "mcpServers");
    char *level_path = s_printf ("agents.%s", name);
    int rc = level_path
                 ? s_parse_log_level (self, json_object_get (value, "logLevel"), level_path, NULL)
                 : s_fail (self, "agents.%s: out of memory", name);
    free (level_path);
    if (rc)
        return -1;
    const char *level = json_string_value (json_object_get (value, "logLevel"));
    if (!level)
        level = self->log_level;
    if (!servers)
        return 0;
    char *path = s_printf ("agents.%s.mcpServers", name);
    if (!path)
        return s_fail (self, "agents.%s: out of memory", name);
    size_t listed = 0;
    if (json_is_array (servers)) {
        listed = json_array_size (servers);
        if (s_parse_agent_names (self, config, servers, path, agent) == 0)
            s_default_log_level (agent->servers, agent->servers_count, self->session_servers,
                                 level);
    } else if (json_is_object (servers)) {
        listed = json_object_size (servers);
        if (s_parse_servers (self, servers, path, &agent->servers, &agent->servers_count) == 0)
            s_default_log_level (agent->servers, agent->servers_count, servers, level);
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

//  A copy of `text` that jansson reads as VS Code reads JSONC: a UTF-8
//  byte order mark, // and /* */ comments and a comma before a closing
//  bracket become blanks (line breaks stay, so that jansson's line numbers
//  are the file's). Strings are copied as they are. Malloc'ed.
static char *
s_from_jsonc (const char *text, size_t size)
{
    char *copy = malloc (size + 1);
    if (!copy)
        return NULL;
    memcpy (copy, text, size);
    copy[size] = '\0';
    if (size >= 3 && memcmp (copy, "\xEF\xBB\xBF", 3) == 0)
        memset (copy, ' ', 3);
    size_t comma = SIZE_MAX; //  the last comma outside strings, while only blanks follow
    for (size_t i = 0; i < size; i++) {
        char c = copy[i];
        if (c == '"') {
            comma = SIZE_MAX;
            for (i++; i < size && copy[i] != '"'; i++)
                if (copy[i] == '\\')
                    i++;
        } else if (c == '/' && i + 1 < size && copy[i + 1] == '/') {
            while (i < size && copy[i] != '\n')
                copy[i++] = ' ';
        } else if (c == '/' && i + 1 < size && copy[i + 1] == '*') {
            copy[i] = copy[i + 1] = ' ';
            for (i += 2; i < size && !(copy[i] == '*' && i + 1 < size && copy[i + 1] == '/'); i++)
                if (copy[i] != '\n')
                    copy[i] = ' ';
            if (i < size)
                copy[i] = copy[i + 1] = ' ', i++;
        } else if (c == ',')
            comma = i;
        else if ((c == '}' || c == ']') && comma != SIZE_MAX) {
            copy[comma] = ' ';
            comma = SIZE_MAX;
        } else if (!isspace ((unsigned char) c))
            comma = SIZE_MAX;
    }
    return copy;
}

//  Takes a size because a file may hold a NUL byte, which must be an error
//  rather than the silent end of the text. `workspace` is the folder
//  ${workspaceFolder} names.
static config_t *
s_parse (const char *text, size_t size, const char *origin, const char *workspace, char **error)
{
    s_parser_t parser = { origin, NULL, NULL, NULL, NULL, json_object (), NULL, NULL };
    parser.workspace = workspace ? strdup (workspace) : NULL;
    config_t *self = NULL;
    json_error_t json_error;
    json_t *root = NULL;
    char *plain = s_from_jsonc (text, size);
    if (!plain) {
        s_fail (&parser, "out of memory");
        goto done;
    }
    //  Duplicate keys would silently drop a server; jansson can refuse them.
    root = json_loadb (plain, size, JSON_REJECT_DUPLICATES, &json_error);
    free (plain);
    if (!root) {
        s_fail (&parser, "line %d, column %d: %s", json_error.line, json_error.column,
                json_error.text);
        goto done;
    }
    if (!json_is_object (root)) {
        s_fail (&parser, "the top level must be a JSON object");
        goto done;
    }
    //  VS Code's settings.json holds them under "mcp", among its settings
    json_t *top = root;
    const char *prefix = "";
    json_t *mcp = json_object_get (root, "mcp");
    if (json_is_object (mcp) && json_object_get (mcp, "servers") &&
        !json_object_get (root, "servers") && !json_object_get (root, "mcpServers")) {
        top = mcp;
        prefix = "mcp.";
    }
    json_t *mcp_servers = json_object_get (top, "mcpServers");
    json_t *servers = json_object_get (top, "servers");
    if (mcp_servers && servers) {
        s_fail (&parser, "both \"mcpServers\" and \"servers\" are present; use one");
        goto done;
    }
    if (!mcp_servers && !servers) {
        s_fail (&parser, "no \"mcpServers\" (or \"servers\", or \"mcp\": {\"servers\"}) object "
                         "at the top level");
        goto done;
    }
    parser.servers_key = top == mcp ? "mcp.servers" : mcp_servers ? "mcpServers" : "servers";
    parser.session_servers = mcp_servers ? mcp_servers : servers;
    parser.inputs = json_object_get (top, "inputs");
    if (parser.inputs && !json_is_array (parser.inputs)) {
        s_fail (&parser, "%sinputs: must be an array of inputs", prefix);
        goto done;
    }
    //  In settings.json the rest are the editor's settings, not ours
    static const char *const known[] = { "mcpServers", "servers",  "inputs", "toolNames", "agents",
                                         "$schema",    "logLevel", "roots",  NULL };
    s_warn_unknown_keys (&parser, top, top == mcp ? "mcp" : "", known);

    self = calloc (1, sizeof (config_t));
    if (!self) {
        s_fail (&parser, "out of memory");
        goto done;
    }
    self->name_policy = MCPACT_NAMES_REJECT;
    if (s_parse_log_level (&parser, json_object_get (top, "logLevel"), "", NULL))
        goto done;
    parser.log_level = json_string_value (json_object_get (top, "logLevel"));
    if (s_parse_servers (&parser, parser.session_servers, parser.servers_key, &self->servers,
                         &self->servers_count))
        goto done;
    s_default_log_level (self->servers, self->servers_count, parser.session_servers,
                         parser.log_level);
    json_t *tool_names = json_object_get (top, "toolNames");
    if (tool_names && s_parse_name_policy (&parser, tool_names, &self->name_policy))
        goto done;
    json_t *agents = json_object_get (top, "agents");
    if (agents && s_parse_agents (&parser, self, agents))
        goto done;
    json_t *roots = json_object_get (top, "roots");
    if (roots && s_parse_roots (&parser, roots, top == mcp ? "mcp" : "", &self->roots))
        goto done;

done:
    json_decref (root);
    json_decref (parser.input_values);
    free (parser.workspace);
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
        s_parser_t parser = { origin, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
        s_fail (&parser, "no configuration text");
        if (error)
            *error = parser.error;
        else
            free (parser.error);
        return NULL;
    }
    //  Text without a file: its folder is the current one
    char cwd[PATH_MAX];
    return s_parse (text, strlen (text), origin, getcwd (cwd, sizeof cwd) ? cwd : NULL, error);
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
    //  ${workspaceFolder}: the file's folder, as an absolute path; for a
    //  file in a .vscode folder (VS Code's .vscode/mcp.json and
    //  settings.json), the workspace that holds that folder, as in VS Code.
    char full[PATH_MAX];
    char *folder = realpath (path, full) ? dirname (full) : NULL;
    if (folder && strcmp (basename (folder), ".vscode") == 0 && strcmp (folder, "/.vscode") != 0)
        folder = dirname (folder);
    config_t *self = s_parse (text ? text : "", size, path, folder, error);
    free (text);
    //  So that a hint can name the file: `mcpact auth login -c FILE NAME`.
    for (size_t i = 0; self && i < self->servers_count; i++)
        self->servers[i]->source = strdup (path);
    for (size_t a = 0; self && a < self->agents_count; a++)
        for (size_t i = 0; i < self->agents[a].servers_count; i++)
            self->agents[a].servers[i]->source = strdup (path);
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
        free (agent->roots);
    }
    free (self->agents);
    free (self->roots);
    free (self);
    *self_p = NULL;
}
