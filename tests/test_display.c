/*  =========================================================================
    test_display - the CLI's start-up display (cli/display.c), driven directly

    Each test gives a display the events, report and log lines the runtime
    would give it, in an order the runtime may give them, and checks what
    a user would read on stderr. The output is a memory stream, which is
    no terminal: a live display then takes the window to be 80 x 24. The
    tests call the display from their one thread; it does not care which.
    =========================================================================
*/

#include "display.h"
#include "testutil.h"

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

//  A display writing into memory, and what it wrote.
typedef struct {
    FILE *out;        //  the memory stream
    char *text;       //  what was written, once s_output_take has run
    size_t size;      //  its size
    display_t *shown; //  the display under test
} s_output_t;

static void
s_output_new (s_output_t *self, bool live)
{
    memset (self, 0, sizeof *self);
    self->out = open_memstream (&self->text, &self->size);
    CHECK (self->out);
    self->shown = display_new (self->out, live, DISPLAY_NORMAL);
    CHECK (self->shown);
}

//  Ends the display; returns everything it wrote (ours until _free).
static const char *
s_output_take (s_output_t *self)
{
    display_destroy (&self->shown);
    CHECK (fclose (self->out) == 0);
    self->out = NULL;
    return self->text;
}

static void
s_output_free (s_output_t *self)
{
    free (self->text);
    self->text = NULL;
}

//  Starts the display with servers `names` (a JSON array's text).
static void
s_begin (s_output_t *self, const char *names)
{
    json_t *list = json_loads (names, 0, NULL);
    CHECK (list);
    display_begin (self->shown, list);
    json_decref (list);
}

//  Ends start-up with the report `text` (JSON).
static void
s_end (s_output_t *self, const char *text)
{
    json_t *report = json_loads (text, 0, NULL);
    CHECK_MSG (report, "bad report in the test: %s", text);
    display_end (self->shown, report);
    json_decref (report);
}

static int
s_count (const char *hay, const char *needle)
{
    int count = 0;
    for (const char *at = strstr (hay, needle); at; at = strstr (at + 1, needle))
        count++;
    return count;
}

static void
s_sleep_ms (int ms)
{
    struct timespec pause = { ms / 1000, (long) (ms % 1000) * 1000000L };
    while (nanosleep (&pause, &pause) != 0)
        ;
}

#define H_FAILED                                                                                   \
    "{\"name\":\"h\",\"state\":\"failed\",\"error\":\"initialize failed: refused\",\"ms\":3,"      \
    "\"tools\":0}"
#define FX_READY "{\"name\":\"fx\",\"state\":\"ready\",\"ms\":5,\"tools\":12}"

//  A server's actor reports its failure, then logs it: the runtime's line
//  may come after start-up has ended, and still repeats what was said
TEST (failure_logged_after_the_end_said_once)
{
    s_output_t output;
    s_output_new (&output, false);
    s_begin (&output, "[\"h\",\"fx\"]");
    display_event (H_FAILED, output.shown);
    display_event (FX_READY, output.shown);
    s_end (&output, "{\"servers\":[" H_FAILED "," FX_READY "],\"ms\":5}");
    display_log (MCPACT_LOG_WARN, "server h failed to start: initialize failed: refused",
                 output.shown);
    //  Other lines about it are news
    display_log (MCPACT_LOG_WARN, "server h: something else", output.shown);
    const char *text = s_output_take (&output);
    CHECK_MSG (s_count (text, "server h failed") == 1, "said twice:\n%s", text);
    CHECK_CONTAINS (text, "mcpact: server h failed: initialize failed: refused (3 ms)\n");
    CHECK_CONTAINS (text, "mcpact: server h: something else\n");
    s_output_free (&output);

    //  The same line logged before the end: held back, then dropped
    s_output_new (&output, false);
    s_begin (&output, "[\"h\",\"fx\"]");
    display_log (MCPACT_LOG_WARN, "server h failed to start: initialize failed: refused",
                 output.shown);
    display_event (H_FAILED, output.shown);
    s_end (&output, "{\"servers\":[" H_FAILED "," FX_READY "],\"ms\":5}");
    text = s_output_take (&output);
    CHECK_MSG (s_count (text, "server h failed") == 1, "said twice:\n%s", text);
    s_output_free (&output);
}

//  With start retries the first line says it tries again, and the last
//  one, after the retries, that it gave up: both are news
TEST (failure_after_retries_said)
{
    s_output_t output;
    s_output_new (&output, false);
    s_begin (&output, "[\"h\"]");
    display_event (H_FAILED, output.shown);
    s_end (&output, "{\"servers\":[" H_FAILED "],\"ms\":3}");
    display_log (MCPACT_LOG_WARN,
                 "server h failed to start: initialize failed: refused; trying again in 250 ms "
                 "(retry 1 of 1)",
                 output.shown);
    display_log (MCPACT_LOG_WARN, "server h failed to start: initialize failed: refused",
                 output.shown);
    const char *text = s_output_take (&output);
    CHECK_CONTAINS (text, "; trying again in 250 ms");
    CHECK_MSG (s_count (text, "mcpact: server h failed to start: ") == 2, "%s", text);
    s_output_free (&output);
}

//  "N ms" or "N.N s" at `text`, in milliseconds.
static double
s_shown_ms (const char *text)
{
    char *end;
    double value = strtod (text, &end);
    CHECK_MSG (end != text, "no time at: %.40s", text);
    return strncmp (end, " s", 2) == 0 ? value * 1000 : value;
}

//  The summary's time comes from the clock of the frames before it: here
//  the runtime's own count (the report's "ms") starts later than the
//  display's, and the summary must still not say less than a frame did
TEST (summary_not_less_than_a_frame)
{
    s_output_t output;
    s_output_new (&output, true);
    s_begin (&output, "[\"fx\"]");
    s_sleep_ms (60);
    display_event (FX_READY, output.shown);
    s_end (&output, "{\"servers\":[" FX_READY "],\"ms\":5}");
    const char *text = s_output_take (&output);
    const char *frame = "starting 1 server in ", *summary = "started 1 server in ";
    double latest = 0;
    for (const char *at = strstr (text, frame); at; at = strstr (at + 1, frame)) {
        double ms = s_shown_ms (at + strlen (frame));
        latest = ms > latest ? ms : latest;
    }
    const char *at = strstr (text, summary);
    CHECK_MSG (at && latest > 0, "no frame or no summary:\n%s", text);
    double total = s_shown_ms (at + strlen (summary));
    CHECK_MSG (total >= latest, "the summary says %.0f ms after a frame said %.0f ms:\n%s", total,
               latest, text);
    s_output_free (&output);
}

#define REASON                                                                                     \
    "no answer to initialize within 1000 ms (the connect timeout: \\\"timeouts\\\": "              \
    "{\\\"connect\\\": ms} raises it)"
#define HANG_FAILED                                                                                \
    "{\"name\":\"hang\",\"state\":\"failed\",\"error\":\"" REASON "\",\"ms\":1001,\"tools\":0}"

//  On a terminal rows are cut to the window; a reason cut so is said
//  once more, whole, below the table (and one that fits is not)
TEST (cut_reason_said_whole_below)
{
    const char *reason = "no answer to initialize within 1000 ms (the connect timeout: "
                         "\"timeouts\": {\"connect\": ms} raises it)";
    s_output_t output;
    s_output_new (&output, true);
    s_begin (&output, "[\"hang\",\"h\",\"fx\"]");
    display_event (H_FAILED, output.shown);
    display_event (FX_READY, output.shown);
    display_event (HANG_FAILED, output.shown);
    s_end (&output, "{\"servers\":[" HANG_FAILED "," H_FAILED "," FX_READY "],\"ms\":1001}");
    const char *text = s_output_take (&output);
    const char *summary = strstr (text, "started 3 servers in ");
    CHECK_MSG (summary, "no summary:\n%s", text);
    CHECK_MSG (s_count (summary, reason) == 1, "the reason not whole below the table:\n%s", text);
    CHECK_CONTAINS (summary, "mcpact: server hang failed: ");
    CHECK_MSG (!strstr (summary, "server h failed"), "a reason that fits said again:\n%s", text);
    s_output_free (&output);
}

//  More servers than the window has lines: each finished one is printed
//  once, whole, those reported only at the end too
TEST (compact_rows_whole)
{
    const char *reason = "no answer to initialize within 1000 ms (the connect timeout: "
                         "\"timeouts\": {\"connect\": ms} raises it)";
    char names[1024] = "[\"hang\"", report[8192] = "{\"servers\":[" HANG_FAILED;
    for (int i = 0; i < 30; i++) {
        snprintf (names + strlen (names), sizeof names - strlen (names), ",\"s%02d\"", i);
        snprintf (report + strlen (report), sizeof report - strlen (report),
                  ",{\"name\":\"s%02d\",\"state\":\"ready\",\"ms\":5,\"tools\":1}", i);
    }
    strcat (names, "]");
    strcat (report, "],\"ms\":1001}");
    s_output_t output;
    s_output_new (&output, true);
    s_begin (&output, names);
    s_end (&output, report);
    const char *text = s_output_take (&output);
    CHECK_MSG (s_count (text, reason) == 1, "the reason not whole once:\n%s", text);
    CHECK_MSG (s_count (text, "✓ s29") == 1, "a server reported at the end not shown:\n%s", text);
    s_output_free (&output);
}
