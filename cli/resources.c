/*  =========================================================================
    resources - the CLI's commands for resources and prompts, and its
    printer of server log messages (see .h)
    =========================================================================
*/

#include "resources.h"

#include "cli.h"
#include "display.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  Exit statuses, as mcpact.c's for `call` (docs/cli.md).
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,
    EXIT_UNKNOWN = 4, //  no such resource, prompt or server
    EXIT_TIMEOUT = 5,
    EXIT_SERVER_DOWN = 6
};

#define TABLE_COLUMNS 4

static const char *s_levels[] = { "debug", "info",     "notice", "warning",
                                  "error", "critical", "alert",  "emergency" };

static int
s_level_rank (const char *level)
{
    for (int rank = 0; level && rank < 8; rank++)
        if (streq (level, s_levels[rank]))
            return rank;
    return -1;
}

bool
cli_resources_is_command (const char *name)
{
    return name && (streq (name, "resources") || streq (name, "read") || streq (name, "prompts") ||
                    streq (name, "prompt"));
}

void
cli_resources_help (const char *command, FILE *out)
{
    if (streq (command, "resources"))
        fprintf (out, "usage: mcpact [OPTIONS] resources [--server NAME] [--json]\n"
                      "\n"
                      "List the resources and resource templates of the agent's servers that\n"
                      "offer them, as a table of URI, SERVER, MIME and NAME (a template's URI\n"
                      "has {variables}).\n"
                      "\n"
                      "Options:\n"
                      "      --server NAME   only that server's\n"
                      "      --json          print {\"schemaVersion\": 1, \"resources\": [...],\n"
                      "                      \"resourceTemplates\": [...], \"errors\": [...]}\n");
    else if (streq (command, "read"))
        fprintf (out,
                 "usage: mcpact [OPTIONS] read URI [--server NAME] [--json] [--timeout MS]\n"
                 "\n"
                 "Read one resource: its text, or for binary contents a line saying what\n"
                 "they are. Without --server it goes to the server that lists URI, else\n"
                 "the one whose template matches it, else the only server with resources.\n"
                 "\n"
                 "Options:\n"
                 "      --server NAME   ask that server\n"
                 "      --json          print {\"schemaVersion\": 1, \"status\", \"result\"}:\n"
                 "                      the MCP ReadResourceResult, blobs in base64\n"
                 "      --timeout MS    wait at most MS milliseconds (0: the server's)\n"
                 "\n"
                 "Exit status: 0 read, 4 no such resource or server, 5 timeout, 6 the\n"
                 "server is down, 1 any other failure, 2 a usage error.\n");
    else if (streq (command, "prompts"))
        fprintf (out, "usage: mcpact [OPTIONS] prompts [--server NAME] [--json]\n"
                      "\n"
                      "List the prompts of the agent's servers that offer them, as a table of\n"
                      "NAME, SERVER, ARGUMENTS (required ones marked *) and DESCRIPTION.\n"
                      "\n"
                      "Options:\n"
                      "      --server NAME   only that server's\n"
                      "      --json          print {\"schemaVersion\": 1, \"prompts\": [...],\n"
                      "                      \"errors\": [...]}\n");
    else
        fprintf (out,
                 "usage: mcpact [OPTIONS] prompt NAME [ARG=VALUE ...] [--server NAME] "
                 "[--json]\n"
                 "\n"
                 "Get one prompt with its arguments, and print its messages, each as\n"
                 "ROLE: TEXT. Without --server it goes to the server that lists NAME; two\n"
                 "servers that list it are an error naming both.\n"
                 "\n"
                 "Options:\n"
                 "      --server NAME   ask that server\n"
                 "      --json          print {\"schemaVersion\": 1, \"status\", \"result\"}:\n"
                 "                      the MCP GetPromptResult\n"
                 "      --timeout MS    wait at most MS milliseconds (0: the server's)\n"
                 "\n"
                 "Exit status: as for read.\n");
}

const char *
cli_resources_check (const char *command, const char *const *words, int count, char *buffer,
                     size_t size)
{
    if (streq (command, "resources") || streq (command, "prompts")) {
        if (count > 0) {
            snprintf (buffer, size, "%s takes no arguments (got '%s')", command, words[0]);
            return buffer;
        }
    } else if (streq (command, "read")) {
        if (count != 1)
            return count ? "read takes one URI" : "read needs a URI";
    } else {
        if (count < 1)
            return "prompt needs a NAME";
        for (int i = 1; i < count; i++)
            if (!strchr (words[i], '=') || words[i][0] == '=') {
                snprintf (buffer, size, "prompt arguments are ARG=VALUE, not '%s'", words[i]);
                return buffer;
            } else {
                //  One value each: a second would silently win.
                size_t length = (size_t) (strchr (words[i], '=') - words[i]) + 1;
                for (int j = 1; j < i; j++)
                    if (strncmp (words[j], words[i], length) == 0) {
                        snprintf (buffer, size, "prompt argument %.*s is given twice",
                                  (int) length - 1, words[i]);
                        return buffer;
                    }
            }
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Output

//  Text from a server, safe for a terminal, on one line.
static char *
s_cell (const char *text)
{
    char *safe = display_safe (text ? text : "");
    for (char *p = safe; p && *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
    return safe;
}

typedef struct {
    char **cells; //  rows x columns
    size_t rows;
    size_t columns;
} s_table_t;

static void
s_table_add (s_table_t *table, const char *const *cells)
{
    char **grown =
        (char **) realloc (table->cells, (table->rows + 1) * table->columns * sizeof (char *));
    if (!grown)
        return;
    table->cells = grown;
    for (size_t c = 0; c < table->columns; c++)
        table->cells[table->rows * table->columns + c] = s_cell (cells[c]);
    table->rows++;
}

//  Columns padded to their widest; on a terminal the last is cut to the
//  window (keeping 20 characters), elsewhere nothing is cut.
static void
s_table_print (s_table_t *table)
{
    size_t widths[TABLE_COLUMNS] = { 0 };
    for (size_t r = 0; r < table->rows; r++)
        for (size_t c = 0; c + 1 < table->columns; c++) {
            const char *cell = table->cells[r * table->columns + c];
            size_t len = cell ? strlen (cell) : 0;
            widths[c] = len > widths[c] ? len : widths[c];
        }
    size_t room = (size_t) -1;
    struct winsize window;
    if (isatty (STDOUT_FILENO) && ioctl (STDOUT_FILENO, TIOCGWINSZ, &window) == 0 &&
        window.ws_col > 0) {
        size_t used = 0;
        for (size_t c = 0; c + 1 < table->columns; c++)
            used += widths[c] + 2;
        room = used + 20 < window.ws_col ? window.ws_col - used : 20;
    }
    for (size_t r = 0; r < table->rows; r++) {
        for (size_t c = 0; c < table->columns; c++) {
            const char *cell = table->cells[r * table->columns + c];
            if (!cell)
                cell = "";
            if (c + 1 < table->columns)
                printf ("%-*s  ", (int) widths[c], cell);
            else if (strlen (cell) > room)
                printf ("%.*s...", (int) (room > 3 ? room - 3 : 0), cell);
            else
                fputs (cell, stdout);
        }
        putchar ('\n');
    }
    for (size_t i = 0; i < table->rows * table->columns; i++)
        free (table->cells[i]);
    free (table->cells);
}

static const char *
s_str (json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

static const char *
s_server_of (json_t *item)
{
    return s_str (json_object_get (item, "_mcpact"), "server");
}

//  Keeps only the items of `server` (NULL: all), and the errors likewise.
static void
s_only (json_t *items, const char *server)
{
    for (size_t i = json_array_size (items); server && i-- > 0;) {
        json_t *item = json_array_get (items, i);
        const char *from = s_server_of (item) ? s_server_of (item) : s_str (item, "server");
        if (!from || !streq (from, server))
            json_array_remove (items, i);
    }
}

//  Says each server whose listing failed, on stderr. 1 if any did.
static int
s_errors (json_t *errors)
{
    size_t index;
    json_t *error;
    json_array_foreach (errors, index, error) {
        char *safe = s_cell (s_str (error, "error"));
        fprintf (stderr, "mcpact: error: server %s: %s\n", s_str (error, "server"),
                 safe ? safe : "");
        free (safe);
    }
    return json_array_size (errors) ? EXIT_FAILED : EXIT_OK;
}

static json_t *
s_load (char *text, const char *what)
{
    json_error_t error;
    json_t *value = text ? json_loads (text, 0, &error) : NULL;
    free (text);
    if (!json_is_object (value)) {
        fprintf (stderr, "mcpact: could not list the %s\n", what);
        json_decref (value);
        return NULL;
    }
    return value;
}

static int
s_print_json (json_t *root)
{
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    if (!text)
        return EXIT_FAILED;
    puts (text);
    free (text);
    return EXIT_OK;
}

//  --------------------------------------------------------------------------
//  Commands

//  RESOURCES, TEMPLATES or PROMPTS (`verb`): the agent's, or the daemon's
//  with --connect (an error said on stderr, NULL then).
static char *
s_listing (mcpact_agent_t *agent, const cli_resources_t *opts, const char *verb)
{
    if (!opts->remote)
        return streq (verb, "RESOURCES")   ? mcpact_agent_resources (agent)
               : streq (verb, "TEMPLATES") ? mcpact_agent_resource_templates (agent)
                                           : mcpact_agent_prompts (agent);
    char *error = NULL;
    char *text = remote_listing (opts->remote, verb, opts->agent_name, &error);
    if (!text)
        fprintf (stderr, "mcpact: %s\n", error ? error : "no answer");
    free (error);
    return text;
}

static int
s_resources (mcpact_agent_t *agent, const cli_resources_t *opts)
{
    json_t *resources = s_load (s_listing (agent, opts, "RESOURCES"), "resources");
    json_t *templates =
        resources ? s_load (s_listing (agent, opts, "TEMPLATES"), "resources") : NULL;
    if (!templates) {
        json_decref (resources);
        return EXIT_FAILED;
    }
    json_t *errors = json_object_get (resources, "errors");
    //  A server that failed both listings is said once.
    size_t index;
    json_t *error;
    json_array_foreach (json_object_get (templates, "errors"), index, error) {
        bool known = false;
        size_t at;
        json_t *seen;
        json_array_foreach (errors, at, seen)
            known |=
                json_equal (json_object_get (seen, "server"), json_object_get (error, "server"));
        if (!known)
            json_array_append (errors, error);
    }
    json_t *items = json_object_get (resources, "resources");
    json_t *template_items = json_object_get (templates, "resourceTemplates");
    s_only (items, opts->server);
    s_only (template_items, opts->server);
    s_only (errors, opts->server);
    int rc = s_errors (errors);
    if (opts->json) {
        s_print_json (json_pack ("{s:i,s:O,s:O,s:O}", "schemaVersion", CLI_JSON_SCHEMA_VERSION,
                                 "resources", items, "resourceTemplates", template_items, "errors",
                                 errors));
    } else {
        s_table_t table = { NULL, 0, TABLE_COLUMNS };
        s_table_add (&table, (const char *[]){ "URI", "SERVER", "MIME", "NAME" });
        json_t *item;
        json_array_foreach (items, index, item)
            s_table_add (&table, (const char *[]){ s_str (item, "uri"), s_server_of (item),
                                                   s_str (item, "mimeType") ?: "-",
                                                   s_str (item, "name") ?: "" });
        json_array_foreach (template_items, index, item)
            s_table_add (&table, (const char *[]){ s_str (item, "uriTemplate"), s_server_of (item),
                                                   s_str (item, "mimeType") ?: "-",
                                                   s_str (item, "name") ?: "" });
        s_table_print (&table);
    }
    json_decref (resources);
    json_decref (templates);
    return rc;
}

static int
s_prompts (mcpact_agent_t *agent, const cli_resources_t *opts)
{
    json_t *answer = s_load (s_listing (agent, opts, "PROMPTS"), "prompts");
    if (!answer)
        return EXIT_FAILED;
    json_t *items = json_object_get (answer, "prompts");
    json_t *errors = json_object_get (answer, "errors");
    s_only (items, opts->server);
    s_only (errors, opts->server);
    int rc = s_errors (errors);
    if (opts->json)
        s_print_json (json_pack ("{s:i,s:O,s:O}", "schemaVersion", CLI_JSON_SCHEMA_VERSION,
                                 "prompts", items, "errors", errors));
    else {
        s_table_t table = { NULL, 0, TABLE_COLUMNS };
        s_table_add (&table, (const char *[]){ "NAME", "SERVER", "ARGUMENTS", "DESCRIPTION" });
        size_t index;
        json_t *item;
        json_array_foreach (items, index, item) {
            char arguments[512] = "";
            size_t at;
            json_t *argument;
            json_array_foreach (json_object_get (item, "arguments"), at, argument) {
                size_t used = strlen (arguments);
                snprintf (arguments + used, sizeof arguments - used, "%s%s%s", used ? " " : "",
                          s_str (argument, "name") ?: "?",
                          json_is_true (json_object_get (argument, "required")) ? "*" : "");
            }
            s_table_add (&table, (const char *[]){ s_str (item, "name"), s_server_of (item),
                                                   *arguments ? arguments : "-",
                                                   s_str (item, "description") ?: "" });
        }
        s_table_print (&table);
    }
    json_decref (answer);
    return rc;
}

static void
s_print_text (const char *text)
{
    if (!text || !*text)
        return;
    char *safe = isatty (STDOUT_FILENO) ? display_safe (text) : NULL;
    fputs (safe ? safe : text, stdout);
    if (text[strlen (text) - 1] != '\n')
        putchar ('\n');
    free (safe);
}

//  One resource's contents for a person: its text, or what a blob is.
static void
s_print_contents (json_t *contents)
{
    size_t index;
    json_t *item;
    json_array_foreach (contents, index, item) {
        if (s_str (item, "text"))
            s_print_text (s_str (item, "text"));
        else {
            char size[32];
            display_data_size (s_str (item, "blob"), size, sizeof size);
            char *uri = s_cell (s_str (item, "uri"));
            char *mime = s_cell (s_str (item, "mimeType") ?: "?");
            printf ("[blob %s %s, %s]\n", uri ? uri : "?", mime ? mime : "?", size);
            free (uri);
            free (mime);
        }
    }
}

static void
s_print_messages (json_t *messages)
{
    size_t index;
    json_t *message;
    json_array_foreach (messages, index, message) {
        json_t *content = json_object_get (message, "content");
        const char *type = s_str (content, "type") ?: "?";
        printf ("%s: ", s_str (message, "role") ?: "?");
        if (streq (type, "text"))
            s_print_text (s_str (content, "text"));
        else if (streq (type, "resource")) {
            json_t *resource = json_object_get (content, "resource");
            putchar ('\n');
            json_t *contents = json_pack ("[O]", resource);
            s_print_contents (contents);
            json_decref (contents);
        } else {
            char *safe = s_cell (type);
            printf ("[%s content]\n", safe ? safe : "?");
            free (safe);
        }
    }
}

static int
s_exit_code (mcpact_status_t status)
{
    switch (status) {
    case MCPACT_OK:
        return EXIT_OK;
    case MCPACT_ERR_UNKNOWN_TOOL:
        return EXIT_UNKNOWN;
    case MCPACT_ERR_TIMEOUT:
    case MCPACT_ERR_CANCELLED:
        return EXIT_TIMEOUT;
    case MCPACT_ERR_SERVER:
        return EXIT_SERVER_DOWN;
    default:
        return EXIT_FAILED;
    }
}

//  Prints a read or a prompt's result. Returns the exit code.
static int
s_print_result (mcpact_result_t *result, const cli_resources_t *opts, bool prompt)
{
    mcpact_status_t status = mcpact_result_status (result);
    if (opts->json) {
        json_t *root = json_pack ("{s:i,s:s}", "schemaVersion", CLI_JSON_SCHEMA_VERSION, "status",
                                  status == MCPACT_OK ? "ok" : mcpact_status_name (status));
        if (status == MCPACT_OK)
            json_object_set_new (root, "result", json_loads (mcpact_result_json (result), 0, NULL));
        else
            json_object_set_new (root, "error", json_string (mcpact_result_error (result)));
        s_print_json (root);
    } else if (status == MCPACT_OK) {
        json_t *answer = json_loads (mcpact_result_json (result), 0, NULL);
        if (prompt)
            s_print_messages (json_object_get (answer, "messages"));
        else
            s_print_contents (json_object_get (answer, "contents"));
        json_decref (answer);
    }
    if (status != MCPACT_OK) {
        char *error = s_cell (mcpact_result_error (result));
        fprintf (stderr, "mcpact: error: %s\n", error ? error : mcpact_status_name (status));
        free (error);
    }
    return s_exit_code (status);
}

static int
s_read (mcpact_agent_t *agent, const cli_resources_t *opts)
{
    mcpact_result_t *result =
        opts->remote
            ? remote_read (opts->remote, opts->agent_name, "READ", opts->words[0], NULL,
                           opts->server, opts->timeout_ms)
            : mcpact_agent_read_resource (agent, opts->server, opts->words[0], opts->timeout_ms);
    if (!result)
        return EXIT_FAILED; //  stopped by a signal (mcpact ends by it)
    int rc = s_print_result (result, opts, false);
    mcpact_result_destroy (&result);
    return rc;
}

static int
s_prompt (mcpact_agent_t *agent, const cli_resources_t *opts)
{
    json_t *args = json_object ();
    for (int i = 1; i < opts->word_count; i++) {
        const char *equals = strchr (opts->words[i], '=');
        char *name = strndup (opts->words[i], (size_t) (equals - opts->words[i]));
        json_object_set_new (args, name, json_string (equals + 1));
        free (name);
    }
    char *args_json = json_dumps (args, JSON_COMPACT);
    json_decref (args);
    mcpact_result_t *result =
        opts->remote ? remote_read (opts->remote, opts->agent_name, "PROMPT", opts->words[0],
                                    args_json, opts->server, opts->timeout_ms)
                     : mcpact_agent_get_prompt (agent, opts->server, opts->words[0], args_json,
                                                opts->timeout_ms);
    free (args_json);
    if (!result)
        return EXIT_FAILED; //  stopped by a signal (mcpact ends by it)
    int rc = s_print_result (result, opts, true);
    mcpact_result_destroy (&result);
    return rc;
}

int
cli_resources_run (mcpact_agent_t *agent, const cli_resources_t *opts)
{
    if (streq (opts->command, "resources"))
        return s_resources (agent, opts);
    if (streq (opts->command, "prompts"))
        return s_prompts (agent, opts);
    if (streq (opts->command, "read"))
        return s_read (agent, opts);
    return s_prompt (agent, opts);
}

//  --------------------------------------------------------------------------
//  Server log messages

struct _cli_server_log_t {
    int rank;           //  the lowest level printed
    display_t *display; //  where
};

cli_server_log_t *
cli_server_log_new (const char *level, display_t *display)
{
    int rank = s_level_rank (level);
    cli_server_log_t *self = rank < 0 ? NULL : (cli_server_log_t *) calloc (1, sizeof *self);
    if (self) {
        self->rank = rank;
        self->display = display;
    }
    return self;
}

void
cli_server_log_destroy (cli_server_log_t **self_p)
{
    free (*self_p);
    *self_p = NULL;
}

void
cli_server_log_print (const char *log_json, void *arg)
{
    cli_server_log_t *self = (cli_server_log_t *) arg;
    json_t *message = json_loads (log_json, 0, NULL);
    const char *level = s_str (message, "level");
    if (s_level_rank (level) >= self->rank) {
        json_t *data = json_object_get (message, "data");
        char *text = json_is_string (data) ? strdup (json_string_value (data))
                                           : json_dumps (data, JSON_COMPACT | JSON_ENCODE_ANY);
        const char *logger = s_str (message, "logger");
        char line[4096];
        snprintf (line, sizeof line, "server %s: %s: %s%s%s", s_str (message, "server") ?: "?",
                  level, logger ? logger : "", logger ? ": " : "", text ? text : "");
        //  What a server wrote, made safe for a terminal, on one line.
        char *safe = s_cell (line);
        display_log (MCPACT_LOG_WARN, safe ? safe : line, self->display);
        free (safe);
        free (text);
    }
    json_decref (message);
}
