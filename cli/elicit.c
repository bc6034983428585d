/*  =========================================================================
    elicit - the CLI's answer to a server's elicitation/create (see .h)
    =========================================================================
*/

#include "elicit.h"
//  The form checks (common/), beside this file's header of the same name.
#include "../common/elicit.h"
#include "jsonnum.h"

#include <ctype.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

//  One prompt at a time: two servers asking at once take turns.
static pthread_mutex_t s_terminal = PTHREAD_MUTEX_INITIALIZER;

//  Why the command is over, once it is (cli_elicit_end): a prompt still
//  waiting then says so, rather than the "server stopped" that closing
//  the servers would make of it.
static char s_ended[512];
static atomic_bool s_ended_set;

void
cli_elicit_end (const char *why)
{
    if (atomic_load (&s_ended_set))
        return;
    snprintf (s_ended, sizeof s_ended, "%s", why ? why : "mcpact is closing");
    atomic_store (&s_ended_set, true);
}

//  Reads a line from stdin, waking every 200 ms to see whether the request
//  is over. NULL at EOF or once it is over (said on stderr).
static char *
s_read_line (mcpact_ask_t *ask)
{
    while (true) {
        const char *over = atomic_load (&s_ended_set) ? s_ended : mcpact_ask_cancelled (ask);
        if (over) {
            fprintf (stderr, "\n(the request is over: %s)\n", over);
            return NULL;
        }
        struct pollfd item = { STDIN_FILENO, POLLIN, 0 };
        int rc = poll (&item, 1, 200);
        if (rc < 0)
            return NULL;
        if (rc == 0)
            continue;
        char *line = NULL;
        size_t room = 0;
        if (getline (&line, &room, stdin) < 0) {
            free (line);
            return NULL;
        }
        line[strcspn (line, "\r\n")] = '\0';
        return line;
    }
}

//  The choices of a select field as text, "a, b, c" (titles shown where
//  the schema gives them), or NULL for a free field.
static char *
s_choices_text (json_t *field)
{
    json_t *items = json_object_get (field, "items");
    json_t *from = items ? items : field;
    json_t *values = json_object_get (from, "enum");
    json_t *titled = json_object_get (from, items ? "anyOf" : "oneOf");
    json_t *names = json_object_get (from, "enumNames");
    if (!json_is_array (values) && !json_is_array (titled))
        return NULL;
    size_t size = 0;
    char *text = NULL;
    FILE *out = open_memstream (&text, &size);
    size_t index;
    json_t *item;
    json_array_foreach (json_is_array (values) ? values : titled, index, item) {
        const char *value = json_is_array (values)
                                ? json_string_value (item)
                                : json_string_value (json_object_get (item, "const"));
        const char *title = json_is_array (values)
                                ? json_string_value (json_array_get (names, index))
                                : json_string_value (json_object_get (item, "title"));
        fprintf (out, "%s%s", index ? ", " : "", value ? value : "?");
        if (title)
            fprintf (out, " (%s)", title);
    }
    fclose (out);
    return text;
}

//  The typed text as the field's JSON value; NULL for an empty line (the
//  default, or nothing). Text that is not a number stays a string: the
//  check then names the field.
static json_t *
s_value (json_t *field, const char *line)
{
    if (!*line)
        return NULL;
    const char *type = json_string_value (json_object_get (field, "type"));
    if (type && (!strcmp (type, "number") || !strcmp (type, "integer"))) {
        json_t *number = json_loads (line, JSON_DECODE_ANY, NULL);
        if (json_is_number (number))
            return number;
        json_decref (number);
    } else if (type && !strcmp (type, "boolean")) {
        if (!strcasecmp (line, "y") || !strcasecmp (line, "yes") || !strcasecmp (line, "true"))
            return json_true ();
        if (!strcasecmp (line, "n") || !strcasecmp (line, "no") || !strcasecmp (line, "false"))
            return json_false ();
    } else if (type && !strcmp (type, "array")) {
        json_t *list = json_array ();
        char *copy = strdup (line), *save = NULL;
        for (char *part = strtok_r (copy, ",", &save); part; part = strtok_r (NULL, ",", &save)) {
            while (*part == ' ')
                part++;
            size_t end = strlen (part);
            while (end && part[end - 1] == ' ')
                part[--end] = '\0';
            if (*part)
                json_array_append_new (list, json_string (part));
        }
        free (copy);
        return list;
    }
    return json_string (line);
}

//  The field's default as the user should see it (a number in its
//  shortest form, a string without quotes), or NULL; malloc'ed.
static char *
s_default_text (json_t *field)
{
    json_t *fallback = json_object_get (field, "default");
    char number[32];
    if (!fallback)
        return NULL;
    if (json_is_string (fallback))
        return strdup (json_string_value (fallback));
    if (json_is_number (fallback)) {
        jsonnum_text (json_number_value (fallback), number, sizeof number);
        return strdup (number);
    }
    if (json_is_boolean (fallback))
        return strdup (json_is_true (fallback) ? "y" : "n");
    return json_dumps (fallback, JSON_COMPACT | JSON_ENCODE_ANY);
}

//  Asks for one field until the answer fits it: each answer is checked as
//  it is typed (the checks the runtime makes of the whole answer), and one
//  that does not fit is said and asked again. Sets *value (NULL: left out,
//  the default applies); false if the request ended or stdin did.
static bool
s_ask_field (mcpact_ask_t *ask, const char *name, json_t *field, bool needed, json_t **value)
{
    const char *title = json_string_value (json_object_get (field, "title"));
    const char *description = json_string_value (json_object_get (field, "description"));
    const char *type = json_string_value (json_object_get (field, "type"));
    bool boolean = type && !strcmp (type, "boolean");
    char *choices = s_choices_text (field);
    char *fallback = s_default_text (field);
    fprintf (stderr, "  %s%s%s%s%s", name, title ? " (" : "", title ? title : "", title ? ")" : "",
             description ? ": " : "");
    if (description)
        fprintf (stderr, "%s", description);
    if (choices)
        fprintf (stderr, "\n    one%s of: %s", json_object_get (field, "items") ? " or more" : "",
                 choices);
    free (choices);
    bool done = false, over = false;
    for (int tries = 0; !done && !over; tries++) {
        if (tries)
            fprintf (stderr, "  %s", name);
        fprintf (stderr, "%s%s%s%s%s: ", boolean ? " (y/n)" : "", needed ? " (required)" : "",
                 fallback ? " [" : "", fallback ? fallback : "", fallback ? "]" : "");
        fflush (stderr);
        char *line = s_read_line (ask);
        if (!line) {
            over = true;
            break;
        }
        *value = s_value (field, line);
        char *error = NULL;
        if (!*value && needed && !fallback)
            (void) asprintf (&error, "field %s: required; type a value", name);
        else if (*value && boolean && !json_is_boolean (*value))
            (void) asprintf (&error, "field %s: type y or n", name);
        else if (*value)
            elicit_field_check (name, field, *value, &error);
        free (line);
        if (error) {
            fprintf (stderr, "    %s\n", error);
            free (error);
            json_decref (*value);
            *value = NULL;
        } else
            done = true;
    }
    free (fallback);
    return !over;
}

//  Asks for each field of the form; the answer's content, or NULL if the
//  request ended or stdin did.
static json_t *
s_fill_form (mcpact_ask_t *ask, json_t *schema)
{
    json_t *content = json_object ();
    json_t *required = json_object_get (schema, "required");
    const char *name;
    json_t *field;
    json_object_foreach (json_object_get (schema, "properties"), name, field) {
        bool needed = false;
        size_t index;
        json_t *entry;
        json_array_foreach (required, index, entry)
            needed |= json_is_string (entry) && !strcmp (json_string_value (entry), name);
        json_t *value = NULL;
        if (!s_ask_field (ask, name, field, needed, &value)) {
            json_decref (content);
            return NULL;
        }
        if (value)
            json_object_set_new (content, name, value);
    }
    return content;
}

//  Asks accept / decline / cancel: 'a', 'd' or 'c' (or NULL: over).
static int
s_choose (mcpact_ask_t *ask, const char *question)
{
    while (true) {
        fprintf (stderr, "%s [a]ccept, [d]ecline, [c]ancel: ", question);
        fflush (stderr);
        char *line = s_read_line (ask);
        if (!line)
            return 0;
        int choice = tolower ((unsigned char) line[0]);
        free (line);
        if (choice == 'a' || choice == 'd' || choice == 'c')
            return choice;
        fprintf (stderr, "    type a, d or c\n");
    }
}

static void
s_prompt (mcpact_ask_t *ask)
{
    json_t *params = json_loads (mcpact_ask_params (ask), 0, NULL);
    const char *message = json_string_value (json_object_get (params, "message"));
    const char *mode = json_string_value (json_object_get (params, "mode"));
    bool url = mode && !strcmp (mode, "url");
    fprintf (stderr, "\nmcpact: server %s asks: %s\n", mcpact_ask_server (ask),
             message ? message : "(no message)");
    if (url)
        fprintf (stderr, "  open %s\n", json_string_value (json_object_get (params, "url")));
    int choice = s_choose (ask, url ? "Done in the browser?" : "Answer?");
    while (choice == 'a' && !url) {
        json_t *content = s_fill_form (ask, json_object_get (params, "requestedSchema"));
        if (!content) {
            choice = 0;
            break;
        }
        json_t *answer = json_pack ("{s:s,s:o}", "action", "accept", "content", content);
        char *text = json_dumps (answer, JSON_COMPACT);
        json_decref (answer);
        char *error = NULL;
        int rc = mcpact_ask_complete (ask, text, &error);
        free (text);
        if (rc == 0) {
            choice = 0;
            break;
        }
        fprintf (stderr, "mcpact: %s\n", error ? error : "the answer was not taken");
        free (error);
        if (mcpact_ask_cancelled (ask))
            choice = 0;
        else
            choice = s_choose (ask, "Again?");
    }
    if (choice)
        mcpact_ask_complete (ask,
                             choice == 'a'   ? "{\"action\":\"accept\"}"
                             : choice == 'd' ? "{\"action\":\"decline\"}"
                                             : "{\"action\":\"cancel\"}",
                             NULL);
    json_decref (params);
}

void
cli_elicit (mcpact_ask_t *ask, void *arg)
{
    (void) arg;
    if (isatty (STDIN_FILENO) && isatty (STDERR_FILENO)) {
        pthread_mutex_lock (&s_terminal);
        s_prompt (ask);
        pthread_mutex_unlock (&s_terminal);
    } else
        mcpact_ask_complete (ask, "{\"action\":\"decline\"}", NULL);
    mcpact_ask_destroy (&ask);
}
