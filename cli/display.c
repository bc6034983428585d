/*  =========================================================================
    display - what the CLI says on stderr while servers start (display.h)

    Every server's line is kept here; a mutex guards them, because events
    come from the runtime's thread, the ticker that refreshes the elapsed
    times is a thread of its own, and main ends the phase. On a terminal
    the table is redrawn in place (cursor up, clear line) when it fits the
    window; when it does not, finished servers are printed one per line and
    only the last line, which names the servers still pending, is redrawn.
    Lines are cut to the window's width, since a wrapped line would break
    the count of lines to go back up; a failure's reason cut so is printed
    whole once, below the table, when start-up ends. The footer's time is
    the display's own clock throughout.
    =========================================================================
*/

#include "display.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define streq(a, b) (strcmp ((a), (b)) == 0)

//  How often the pending servers' elapsed times are redrawn.
#define TICK_MS 200
//  Names wider than this are cut in the table's first column.
#define NAME_WIDTH_MAX 24

typedef enum { ROW_PENDING, ROW_READY, ROW_FAILED } row_state_t;

typedef struct {
    char *name;        //  server name
    row_state_t state; //  what is known of it
    char *detail;      //  "3 tools" or the reason it failed (made safe)
    double ms;         //  time it took, once known
    bool start_logged; //  the runtime's first "failed to start" line was seen
} row_t;

struct _display_t {
    FILE *out;                       //  stderr
    bool live;                       //  redraw in place (a terminal)
    display_level_t level;           //  what to say
    pthread_mutex_t lock;            //  guards everything below
    pthread_cond_t wake;             //  ends the ticker's wait
    pthread_t ticker;                //  redraws the elapsed times
    bool ticker_running;             //  ticker was started
    bool starting;                   //  between display_begin and display_end
    row_t *rows;                     //  one per server, in declaration order
    size_t count;                    //  rows
    size_t name_width;               //  first column's width
    int64_t start_ms;                //  when display_begin ran
    int64_t end_ms;                  //  when display_end ran
    size_t drawn;                    //  lines of the live region now on screen
    bool compact;                    //  the table does not fit: only the last line is live
    char **held;                     //  log lines held back during start-up
    size_t held_count;               //  held lines
    mcpact_log_level_t *held_levels; //  their levels
};

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

char *
display_safe (const char *text)
{
    char *copy = strdup (text ? text : "");
    if (!copy)
        return NULL;
    for (unsigned char *p = (unsigned char *) copy; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F)
            *p = '?';
        else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            //  U+0080..U+009F: two bytes, one '?'
            memmove (p + 1, p + 2, strlen ((char *) p + 2) + 1);
            *p = '?';
        }
    }
    return copy;
}

//  The same, on one line: a reason in a table row must not break it.
static char *
s_one_line (const char *text)
{
    char *safe = display_safe (text);
    for (char *p = safe; p && *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return safe;
}

display_t *
display_new (FILE *out, bool live, display_level_t level)
{
    display_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->out = out;
    self->live = live;
    self->level = level;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    return self;
}

static void
s_free_rows (display_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free (self->rows[i].name);
        free (self->rows[i].detail);
    }
    free (self->rows);
    self->rows = NULL;
    self->count = 0;
}

void
display_destroy (display_t **self_p)
{
    display_t *self = *self_p;
    if (!self)
        return;
    s_free_rows (self);
    for (size_t i = 0; i < self->held_count; i++)
        free (self->held[i]);
    free (self->held);
    free (self->held_levels);
    pthread_cond_destroy (&self->wake);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

//  Terminal columns taken by UTF-8 text, one per character.
static size_t
s_columns (const char *text)
{
    size_t columns = 0;
    for (; *text; text++)
        if (((unsigned char) *text & 0xC0) != 0x80)
            columns++;
    return columns;
}

//  Writes `text` cut to `width` columns (at a character boundary, with an
//  ellipsis), then a line end.
static void
s_put_cut (FILE *out, const char *text, size_t width)
{
    size_t columns = s_columns (text);
    if (columns <= width) {
        fprintf (out, "%s\n", text);
        return;
    }
    size_t limit = width > 0 ? width - 1 : 0, printed = 0;
    for (const char *p = text; *p; p++) {
        if (((unsigned char) *p & 0xC0) != 0x80) {
            if (printed == limit)
                break;
            printed++;
        }
        fputc (*p, out);
    }
    fputs ("…\n", out);
}

static size_t
s_window_width (display_t *self, unsigned short *rows)
{
    struct winsize size;
    if (ioctl (fileno (self->out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        *rows = size.ws_row;
        return size.ws_col;
    }
    *rows = 24;
    return 80;
}

static void
s_format_ms (char *buf, size_t size, double ms)
{
    if (ms < 1000)
        snprintf (buf, size, "%.0f ms", ms);
    else
        snprintf (buf, size, "%.1f s", ms / 1000);
}

//  A formatted string, malloc'ed (NULL if out of memory).
static char *s_format (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

static char *
s_format (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = NULL;
    if (vasprintf (&text, format, args) < 0)
        text = NULL;
    va_end (args);
    return text;
}

//  One row as the table shows it, whole (the caller cuts it to the
//  window if need be). Malloc'ed.
static char *
s_row_text (display_t *self, row_t *row)
{
    char time[32];
    if (row->state == ROW_PENDING) {
        s_format_ms (time, sizeof time, (double) (s_now_ms () - self->start_ms));
        return s_format ("  … %-*.*s  starting  %s", (int) self->name_width, (int) self->name_width,
                         row->name, time);
    }
    s_format_ms (time, sizeof time, row->ms);
    if (row->state == ROW_READY)
        return s_format ("  ✓ %-*.*s  %-8s  %s  %s", (int) self->name_width, (int) self->name_width,
                         row->name, "ready", row->detail ? row->detail : "", time);
    return s_format ("  ✗ %-*.*s  %-8s  %s (%s)", (int) self->name_width, (int) self->name_width,
                     row->name, "failed", row->detail ? row->detail : "", time);
}

//  The last line: counts, and while some are pending, their names. The
//  time is the display's own, to the end of start-up once it is done: one
//  clock, so the summary never says less than a frame drawn before it.
static void
s_footer_text (display_t *self, char *buf, size_t size, bool done)
{
    size_t ready = 0, failed = 0, pending = 0;
    for (size_t i = 0; i < self->count; i++)
        ready += self->rows[i].state == ROW_READY, failed += self->rows[i].state == ROW_FAILED,
            pending += self->rows[i].state == ROW_PENDING;
    char time[32];
    s_format_ms (time, sizeof time,
                 (double) ((done ? self->end_ms : s_now_ms ()) - self->start_ms));
    size_t len = (size_t) snprintf (buf, size, "%s %zu server%s in %s: %zu ready, %zu failed",
                                    done ? "started" : "starting", self->count,
                                    self->count == 1 ? "" : "s", time, ready, failed);
    if (pending && len < size) {
        len += (size_t) snprintf (buf + len, size - len, ", %zu pending:", pending);
        for (size_t i = 0; i < self->count && len < size; i++)
            if (self->rows[i].state == ROW_PENDING)
                len += (size_t) snprintf (buf + len, size - len, " %s", self->rows[i].name);
    }
}

//  Columns a live line may take: one short of the window's edge, since
//  some terminals wrap on the last one.
static size_t
s_live_width (display_t *self)
{
    unsigned short window_rows;
    size_t width = s_window_width (self, &window_rows);
    return width > 1 ? width - 1 : width;
}

//  Redraws the live region. Lock held.
static void
s_redraw (display_t *self, bool done)
{
    size_t cut = s_live_width (self);
    if (self->drawn)
        fprintf (self->out, "\033[%zuA", self->drawn);
    if (!self->compact) {
        for (size_t i = 0; i < self->count; i++) {
            char *line = s_row_text (self, &self->rows[i]);
            fputs ("\r\033[2K", self->out);
            s_put_cut (self->out, line ? line : "", cut);
            free (line);
        }
    }
    char line[4096];
    s_footer_text (self, line, sizeof line, done);
    fputs ("\r\033[2K", self->out);
    s_put_cut (self->out, line, cut);
    self->drawn = self->compact ? 1 : self->count + 1;
    fflush (self->out);
}

//  Compact mode: a finished server's row, whole, printed once above the
//  live line (which the caller draws again). Lock held.
static void
s_print_above (display_t *self, row_t *row)
{
    if (self->drawn)
        fputs ("\033[1A\r\033[2K", self->out);
    char *line = s_row_text (self, row);
    fprintf (self->out, "%s\n", line ? line : "");
    free (line);
    self->drawn = 0;
}

//  True if the live table shows a failed row's reason cut (not only the
//  time after it). Lock held.
static bool
s_reason_cut (display_t *self, row_t *row)
{
    if (row->state != ROW_FAILED)
        return false;
    char *line = s_row_text (self, row);
    if (!line)
        return false;
    size_t columns = s_columns (line), cut = s_live_width (self);
    free (line);
    char time[32];
    s_format_ms (time, sizeof time, row->ms);
    //  " (" time ")" follow the reason; a cut line keeps cut - 1 columns
    size_t tail = s_columns (time) + 3;
    return columns > cut && columns - tail + 1 > cut;
}

static void *
s_ticker (void *arg)
{
    display_t *self = (display_t *) arg;
    pthread_mutex_lock (&self->lock);
    while (self->starting) {
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait (&self->wake, &self->lock, &until);
        if (self->starting)
            s_redraw (self, false);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

void
display_begin (display_t *self, json_t *names)
{
    pthread_mutex_lock (&self->lock);
    s_free_rows (self);
    self->rows = calloc (json_array_size (names) + 1, sizeof (row_t));
    size_t index;
    json_t *name;
    json_array_foreach (names, index, name) {
        if (!self->rows || !json_is_string (name))
            continue;
        row_t *row = &self->rows[self->count];
        if (!(row->name = s_one_line (json_string_value (name))))
            continue;
        self->count++;
        size_t columns = s_columns (row->name);
        if (columns > self->name_width)
            self->name_width = columns < NAME_WIDTH_MAX ? columns : NAME_WIDTH_MAX;
    }
    self->start_ms = s_now_ms ();
    self->starting = true;
    if (self->live && self->count > 0) {
        unsigned short window_rows;
        s_window_width (self, &window_rows);
        self->compact = self->count + 2 > window_rows;
        s_redraw (self, false);
        self->ticker_running = pthread_create (&self->ticker, NULL, s_ticker, self) == 0;
    }
    pthread_mutex_unlock (&self->lock);
}

static row_t *
s_row (display_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (streq (self->rows[i].name, name))
            return &self->rows[i];
    return NULL;
}

//  Records one report entry in its row (adding a row for a server not
//  listed at begin). Lock held. Returns the row, or NULL.
static row_t *
s_record (display_t *self, json_t *server)
{
    const char *name = json_string_value (json_object_get (server, "name"));
    const char *state = json_string_value (json_object_get (server, "state"));
    if (!name || !state || !(streq (state, "ready") || streq (state, "failed")))
        return NULL;
    char *safe_name = s_one_line (name);
    if (!safe_name)
        return NULL;
    row_t *row = s_row (self, safe_name);
    if (!row) {
        row_t *rows = realloc (self->rows, (self->count + 1) * sizeof (row_t));
        if (!rows) {
            free (safe_name);
            return NULL;
        }
        self->rows = rows;
        row = &rows[self->count++];
        memset (row, 0, sizeof *row);
        row->name = safe_name;
    } else
        free (safe_name);
    free (row->detail);
    row->ms = json_number_value (json_object_get (server, "ms"));
    if (streq (state, "ready")) {
        row->state = ROW_READY;
        json_int_t tools = json_integer_value (json_object_get (server, "tools"));
        size_t rejected = json_array_size (json_object_get (server, "rejected"));
        char detail[96];
        int len = snprintf (detail, sizeof detail, "%" JSON_INTEGER_FORMAT " tool%s", tools,
                            tools == 1 ? "" : "s");
        if (rejected)
            snprintf (detail + len, sizeof detail - (size_t) len, " (%zu rejected)", rejected);
        row->detail = strdup (detail);
    } else {
        row->state = ROW_FAILED;
        const char *error = json_string_value (json_object_get (server, "error"));
        row->detail = s_one_line (error ? error : "no reason given");
    }
    return row;
}

//  One plain line for a finished server, if the level asks for it: off a
//  terminal, and on one for a failure whose reason the table cut. Lock
//  held.
static void
s_print_row (display_t *self, row_t *row)
{
    if (row->state == ROW_FAILED) {
        char time[32];
        s_format_ms (time, sizeof time, row->ms);
        fprintf (self->out, "mcpact: server %s failed: %s (%s)\n", row->name, row->detail, time);
    } else if (row->state == ROW_READY && self->level >= DISPLAY_VERBOSE) {
        char time[32];
        s_format_ms (time, sizeof time, row->ms);
        fprintf (self->out, "mcpact: server %s ready: %s (%s)\n", row->name, row->detail, time);
    }
}

void
display_event (const char *server_json, void *arg)
{
    display_t *self = (display_t *) arg;
    json_t *server = json_loads (server_json, 0, NULL);
    if (!server)
        return;
    pthread_mutex_lock (&self->lock);
    row_t *row = s_record (self, server);
    if (row && self->starting) {
        if (self->live && self->compact) {
            s_print_above (self, row);
            s_redraw (self, false);
        } else if (self->live)
            s_redraw (self, false);
        else
            s_print_row (self, row);
        fflush (self->out);
    }
    pthread_mutex_unlock (&self->lock);
    json_decref (server);
}

//  True if `line` is the runtime's own word of a start failure the display
//  says already: the first "server NAME failed to start: " line of a server
//  shown as failed. A later one (after its start retries) is news, and so
//  is one that says it tries again. A server's actor reports a failure
//  before it logs it, so the line may come before display_end or after:
//  it is judged whenever it comes, against the rows. Lock held.
static bool
s_repeats_failure (display_t *self, const char *line)
{
    if (strncmp (line, "server ", 7) != 0)
        return false;
    for (size_t i = 0; i < self->count; i++) {
        row_t *row = &self->rows[i];
        size_t len = strlen (row->name);
        if (strncmp (line + 7, row->name, len) != 0 ||
            strncmp (line + 7 + len, " failed to start: ", 18) != 0)
            continue;
        bool first = !row->start_logged;
        row->start_logged = true;
        return first && row->state == ROW_FAILED && !strstr (line, "; trying again in");
    }
    return false;
}

//  True if a held log line only repeats what the report says: a server
//  ready, or a rejected tool (both logged before the report is sent).
static bool
s_repeats_report (const char *line, json_t *report)
{
    size_t index;
    json_t *server;
    json_array_foreach (json_object_get (report, "servers"), index, server) {
        const char *name = json_string_value (json_object_get (server, "name"));
        const char *state = json_string_value (json_object_get (server, "state"));
        if (name && state && streq (state, "ready")) {
            char prefix[256];
            snprintf (prefix, sizeof prefix, "server %s: ready with ", name);
            if (strncmp (line, prefix, strlen (prefix)) == 0)
                return true;
        }
        size_t tool_index;
        json_t *rejected;
        json_array_foreach (json_object_get (server, "rejected"), tool_index, rejected) {
            const char *reason = json_string_value (json_object_get (rejected, "reason"));
            if (reason && streq (reason, line))
                return true;
        }
    }
    json_t *rejected;
    json_array_foreach (json_object_get (report, "rejected"), index, rejected) {
        const char *reason = json_string_value (json_object_get (rejected, "reason"));
        if (reason && streq (reason, line))
            return true;
    }
    return false;
}

static void
s_print_log (display_t *self, mcpact_log_level_t level, const char *message)
{
    static const char *prefixes[] = { "error: ", "", "", "debug: " };
    fprintf (self->out, "mcpact: %s%s\n", prefixes[level], message);
}

//  A rejection's reason names the tool, its server and why: it is the line.
static void
s_print_rejections (display_t *self, json_t *list)
{
    size_t index;
    json_t *rejected;
    json_array_foreach (list, index, rejected) {
        char *reason = s_one_line (json_string_value (json_object_get (rejected, "reason")));
        fprintf (self->out, "mcpact: %s\n", reason ? reason : "a tool was rejected");
        free (reason);
    }
}

void
display_end (display_t *self, json_t *report)
{
    pthread_mutex_lock (&self->lock);
    bool was_starting = self->starting;
    self->starting = false;
    //  Under the lock that every frame is drawn under: no frame is later
    self->end_ms = s_now_ms ();
    pthread_cond_broadcast (&self->wake);
    pthread_mutex_unlock (&self->lock);
    if (self->ticker_running)
        pthread_join (self->ticker, NULL);
    self->ticker_running = false;

    pthread_mutex_lock (&self->lock);
    //  The report is final: tool counts net of rejections, late failures
    size_t index;
    json_t *server;
    json_array_foreach (json_object_get (report, "servers"), index, server) {
        row_t *row = s_row (self, json_string_value (json_object_get (server, "name")));
        row_state_t before = row ? row->state : ROW_PENDING;
        row = s_record (self, server);
        if (!row || before != ROW_PENDING)
            continue;
        if (!self->live)
            s_print_row (self, row);
        else if (was_starting && self->compact)
            s_print_above (self, row);
    }
    if (was_starting && self->live && self->count > 0) {
        s_redraw (self, true);
        //  A reason cut to the window is said whole once, below the table
        for (size_t i = 0; !self->compact && i < self->count; i++)
            if (s_reason_cut (self, &self->rows[i]))
                s_print_row (self, &self->rows[i]);
    } else if (self->level >= DISPLAY_VERBOSE && self->count > 0) {
        char line[4096];
        s_footer_text (self, line, sizeof line, true);
        fprintf (self->out, "mcpact: %s\n", line);
    }
    if (self->level >= DISPLAY_NORMAL) {
        json_array_foreach (json_object_get (report, "servers"), index, server)
            s_print_rejections (self, json_object_get (server, "rejected"));
        s_print_rejections (self, json_object_get (report, "rejected"));
    }
    for (size_t i = 0; i < self->held_count; i++) {
        if (!s_repeats_failure (self, self->held[i]) && !s_repeats_report (self->held[i], report))
            s_print_log (self, self->held_levels[i], self->held[i]);
        free (self->held[i]);
    }
    self->held_count = 0;
    fflush (self->out);
    pthread_mutex_unlock (&self->lock);
}

void
display_log (mcpact_log_level_t level, const char *message, void *arg)
{
    display_t *self = (display_t *) arg;
    pthread_mutex_lock (&self->lock);
    if (self->starting) {
        char **held = realloc (self->held, (self->held_count + 1) * sizeof (char *));
        mcpact_log_level_t *levels =
            held ? realloc (self->held_levels, (self->held_count + 1) * sizeof *levels) : NULL;
        if (held)
            self->held = held;
        if (levels)
            self->held_levels = levels;
        char *copy = held && levels ? strdup (message) : NULL;
        if (copy) {
            self->held[self->held_count] = copy;
            self->held_levels[self->held_count++] = level;
        }
    } else if (!s_repeats_failure (self, message))
        s_print_log (self, level, message);
    pthread_mutex_unlock (&self->lock);
}

void
display_data_size (const char *data, char *buf, size_t size)
{
    size_t len = data ? strlen (data) : 0;
    size_t padding = len >= 2 && data[len - 1] == '=' ? (data[len - 2] == '=' ? 2 : 1) : 0;
    size_t bytes = len / 4 * 3 - (len % 4 == 0 ? padding : 0);
    if (bytes < 1024)
        snprintf (buf, size, "%zu bytes", bytes);
    else if (bytes < 1024 * 1024)
        snprintf (buf, size, "%zu KiB", (bytes + 512) / 1024);
    else
        snprintf (buf, size, "%.1f MiB", (double) bytes / (1024 * 1024));
}
