/*  =========================================================================
    display - what the CLI says on stderr while servers start, and after

    One place for every start-up event (a server ready, a server failed, a
    tool rejected) and for the runtime's log lines, so that each is said
    once, in one format ("mcpact: ..."). On a terminal the servers are
    drawn as a table updated in place; elsewhere events are plain lines.
    display_event and display_log may be called from any thread (the
    runtime's progress callback and log sink); the rest from main only.
    =========================================================================
*/

#ifndef CLI_DISPLAY_H_INCLUDED
#define CLI_DISPLAY_H_INCLUDED

#include <jansson.h>
#include <mcpact.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct _display_t display_t;

typedef enum {
    DISPLAY_QUIET = 0,   //  -q: errors only
    DISPLAY_NORMAL = 1,  //  errors and warnings; the live table on a terminal
    DISPLAY_VERBOSE = 2, //  -v: also each ready server and a summary off a terminal
} display_level_t;

//  A display writing to `out`; `live` draws the table in place (give it
//  true only when `out` is a terminal).
display_t *display_new (FILE *out, bool live, display_level_t level);

void display_destroy (display_t **self_p);

//  Lists the servers about to start (a JSON array of names; borrowed) and
//  begins the start-up phase: on a terminal each shows as pending at once.
void display_begin (display_t *self, json_t *names);

//  One server's report entry (JSON text), as the runtime's progress
//  callback gives it. Thread-safe.
void display_event (const char *server_json, void *self);

//  Ends the start-up phase with the agent's start report (borrowed): final
//  lines and summary (on a terminal, then each failure whose reason the
//  window cut, whole), the rejected tools, then the log lines held back
//  meanwhile (those that only repeat an event shown already are dropped).
void display_end (display_t *self, json_t *report);

//  The runtime's log sink (mcpact_log_fn). Thread-safe. During start-up
//  lines are held back, so that they neither tear the live table nor say
//  a second time what display_end says. A server's "failed to start" line
//  may come after display_end (its actor logs after it reports): one that
//  repeats a failure shown is dropped then too.
void display_log (mcpact_log_level_t level, const char *message, void *self);

//  `text` (from a server: an error, its stderr) made safe for a terminal:
//  control characters other than line breaks and tabs, C1 controls among
//  them, become '?', so that no escape sequence a server wrote can move
//  the cursor, retitle the window or colour what follows. Malloc'ed.
char *display_safe (const char *text);

//  The size of base64 `data` once decoded, for a person: "812 bytes",
//  "12 KiB", "1.5 MiB"; written to `buf` of `size` bytes.
void display_data_size (const char *data, char *buf, size_t size);

#endif
