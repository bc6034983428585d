/*  =========================================================================
    fuzz_sse - libFuzzer target: the Server-Sent Events parser

    The input is a 9-byte header and then an event stream as a server
    could send it. Header byte 0 picks the parser's size limit: below 128
    one no event can reach, else a small one (1 to 382 bytes), so that
    oversized events and lines are dropped often. Bytes 1 to 8, used in
    turn, are the sizes of the chunks the stream is fed in (0 is an empty
    feed), as TCP may cut it anywhere.

    What a transport relies on is checked, not just the absence of
    crashes, leaks and over-reads:
    - where the chunks fall changes nothing: the same events, last event
      id, retry time and drop count as when the stream comes in one piece;
    - with the large limit, every event is exactly the one a plain reading
      of the WHATWG rules (s_reference, below: whole lines, no limit)
      gives: type, data byte for byte, id; and so are the last event id
      and the retry time;
    - with the small limit, the events delivered are those of the plain
      reading minus some, in order, and no more are missing than the
      parser counted as dropped;
    - every event has data (non-empty, NUL-terminated, smaller than the
      limit), a type and an id that are non-empty strings; the parser's
      buffer never grows past the limit; a reset keeps the last id and
      the retry time.
    Seeds: tests/fuzz/corpus/fuzz_sse.
    =========================================================================
*/

#include "sse.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_HEADER 9

//  Fails the run, saying which check: libFuzzer reports the input.
#define S_ASSERT(condition)                                                                        \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);         \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

typedef struct {
    char *type; //  "message" if the stream named none
    char *data;
    size_t size;
    char *id; //  NULL if none
} s_event_t;

//  What a reading of the stream gave
typedef struct {
    s_event_t *events;
    size_t count;
    size_t max;
    char *last_id;  //  NULL if none
    int retry;      //  -1 if never set
    size_t dropped; //  oversized events (the parser only)
    size_t limit;   //  the parser's limit, for the per-event checks
} s_run_t;

static char *
s_copy (const char *data, size_t size)
{
    char *copy = (char *) malloc (size + 1);
    S_ASSERT (copy);
    memcpy (copy, data, size);
    copy[size] = '\0';
    return copy;
}

static void
s_add_event (s_run_t *run, const char *type, const char *data, size_t size, const char *id)
{
    if (run->count == run->max) {
        run->max = run->max ? run->max * 2 : 16;
        run->events = (s_event_t *) realloc (run->events, run->max * sizeof (s_event_t));
        S_ASSERT (run->events);
    }
    s_event_t *event = &run->events[run->count++];
    event->type = s_copy (type, strlen (type));
    event->data = s_copy (data, size);
    event->size = size;
    event->id = id ? s_copy (id, strlen (id)) : NULL;
}

static void
s_run_free (s_run_t *run)
{
    for (size_t i = 0; i < run->count; i++) {
        free (run->events[i].type);
        free (run->events[i].data);
        free (run->events[i].id);
    }
    free (run->events);
    free (run->last_id);
    memset (run, 0, sizeof *run);
}

static bool
s_same_text (const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp (a, b) == 0);
}

static bool
s_same_content (const s_event_t *a, const s_event_t *b)
{
    return strcmp (a->type, b->type) == 0 && a->size == b->size &&
           memcmp (a->data, b->data, a->size) == 0;
}

//  --------------------------------------------------------------------------
//  The parser under test

static void
s_on_event (void *arg, const char *event, const char *data, size_t size, const char *id)
{
    s_run_t *run = (s_run_t *) arg;
    S_ASSERT (event && *event && strlen (event) <= run->limit);
    S_ASSERT (data && size > 0 && size < run->limit && data[size] == '\0');
    S_ASSERT (!id || (*id && strlen (id) <= run->limit));
    s_add_event (run, event, data, size, id);
}

//  Feeds the stream in the chunk sizes given (cycled; NULL: in one
//  piece) and returns what came out.
static void
s_parse (s_run_t *run, const uint8_t *stream, size_t size, size_t limit, const uint8_t *chunks)
{
    memset (run, 0, sizeof *run);
    run->limit = limit;
    sse_t sse;
    sse_init (&sse, limit);
    //  Eight empty feeds in a row would never end
    bool moves = false;
    for (int i = 0; chunks && i < 8; i++)
        moves |= chunks[i] > 0;
    if (!moves)
        chunks = NULL;
    size_t offset = 0;
    for (size_t turn = 0; offset < size || turn == 0; turn++) {
        size_t chunk = chunks ? chunks[turn % 8] : size;
        if (chunk > size - offset)
            chunk = size - offset;
        S_ASSERT (sse_feed (&sse, (const char *) stream + offset, chunk, s_on_event, run) == 0);
        offset += chunk;
        //  What the limit promises: memory bounded per stream
        S_ASSERT (sse.max <= limit && sse.size <= sse.max);
    }
    const char *last_id = sse_last_id (&sse);
    S_ASSERT (!last_id || *last_id);
    run->last_id = last_id ? s_copy (last_id, strlen (last_id)) : NULL;
    run->retry = sse_retry (&sse);
    S_ASSERT (run->retry >= -1);
    run->dropped = sse.dropped;
    //  A new connection starts clean but resumes from the same place
    sse_reset (&sse);
    S_ASSERT (sse.size == 0 && sse.data_size == 0);
    S_ASSERT (s_same_text (sse_last_id (&sse), run->last_id) && sse_retry (&sse) == run->retry);
    sse_free (&sse);
}

//  --------------------------------------------------------------------------
//  The plain reading: the WHATWG event stream rules line by line, on the
//  whole stream, without a limit. Like the parser, and by design: an
//  event with empty data is not dispatched, an empty id means none.

typedef struct {
    char *data; //  the data buffer, each line + "\n"
    size_t size;
    size_t max;
    char *type;    //  the event type buffer, NULL if empty
    bool nul_type; //  it holds a NUL: the parser does not dispatch that
    char *id;      //  the last event ID buffer (it persists), NULL if empty
    s_run_t *run;  //  where dispatched events go
} s_reader_t;

static void
s_reader_append (s_reader_t *reader, const char *data, size_t size)
{
    if (size == 0)
        return;
    if (reader->size + size > reader->max) {
        reader->max = (reader->size + size) * 2;
        reader->data = (char *) realloc (reader->data, reader->max);
        S_ASSERT (reader->data);
    }
    memcpy (reader->data + reader->size, data, size);
    reader->size += size;
}

static void
s_reader_dispatch (s_reader_t *reader)
{
    s_run_t *run = reader->run;
    free (run->last_id);
    run->last_id = reader->id ? s_copy (reader->id, strlen (reader->id)) : NULL;
    //  The rules dispatch a "\n" (one empty data line) as empty data; the
    //  parser, by design, does not
    if (reader->size > 1 && !reader->nul_type)
        s_add_event (run, reader->type ? reader->type : "message", reader->data, reader->size - 1,
                     run->last_id);
    reader->size = 0;
    free (reader->type);
    reader->type = NULL;
    reader->nul_type = false;
}

static void
s_reader_line (s_reader_t *reader, const char *line, size_t size)
{
    if (size == 0) {
        s_reader_dispatch (reader);
        return;
    }
    if (line[0] == ':')
        return;
    const char *colon = (const char *) memchr (line, ':', size);
    size_t name_size = colon ? (size_t) (colon - line) : size;
    const char *value = colon ? colon + 1 : line + size;
    size_t value_size = (size_t) (line + size - value);
    if (value_size > 0 && value[0] == ' ')
        value++, value_size--;
    if (name_size == 4 && memcmp (line, "data", 4) == 0) {
        s_reader_append (reader, value, value_size);
        s_reader_append (reader, "\n", 1);
    } else if (name_size == 5 && memcmp (line, "event", 5) == 0) {
        free (reader->type);
        reader->type = value_size ? s_copy (value, value_size) : NULL;
        reader->nul_type = memchr (value, '\0', value_size) != NULL;
    } else if (name_size == 2 && memcmp (line, "id", 2) == 0) {
        if (!memchr (value, '\0', value_size)) {
            free (reader->id);
            reader->id = value_size ? s_copy (value, value_size) : NULL;
        }
    } else if (name_size == 5 && memcmp (line, "retry", 5) == 0) {
        //  ASCII digits only; saturating, as the parser documents
        bool digits = value_size > 0;
        int ms = 0;
        for (size_t i = 0; i < value_size && digits; i++) {
            digits = value[i] >= '0' && value[i] <= '9';
            int digit = digits ? value[i] - '0' : 0;
            ms = ms > (INT_MAX - digit) / 10 ? INT_MAX : ms * 10 + digit;
        }
        if (digits)
            reader->run->retry = ms;
    }
}

static void
s_reference (s_run_t *run, const uint8_t *bytes, size_t size)
{
    memset (run, 0, sizeof *run);
    run->retry = -1;
    s_reader_t reader = { NULL, 0, 0, NULL, false, NULL, run };
    const char *p = (const char *) bytes, *end = p + size;
    if (size >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\r' && *eol != '\n')
            eol++;
        if (eol == end)
            break; //  an unfinished line, and its event, never count
        s_reader_line (&reader, p, (size_t) (eol - p));
        p = eol + 1;
        if (*eol == '\r' && p < end && *p == '\n')
            p++;
    }
    free (reader.data);
    free (reader.type);
    free (reader.id);
}

//  --------------------------------------------------------------------------

static void
s_check_equal (const s_run_t *a, const s_run_t *b, bool ids)
{
    S_ASSERT (a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        S_ASSERT (s_same_content (&a->events[i], &b->events[i]));
        if (ids)
            S_ASSERT (s_same_text (a->events[i].id, b->events[i].id));
    }
    if (ids)
        S_ASSERT (s_same_text (a->last_id, b->last_id));
    S_ASSERT (a->retry == b->retry);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < S_HEADER)
        return 0;
    const uint8_t *chunks = data + 1;
    const uint8_t *stream = data + S_HEADER;
    size_t stream_size = size - S_HEADER;
    //  An event holds its data lines plus the line being read, together
    //  never more than the stream: twice the stream cannot be reached.
    bool small = data[0] >= 128;
    size_t limit = small ? 1 + (size_t) (data[0] - 128) * 3 : 2 * stream_size + 16;

    s_run_t chunked, whole, plain;
    s_parse (&chunked, stream, stream_size, limit, chunks);
    s_parse (&whole, stream, stream_size, limit, NULL);
    s_reference (&plain, stream, stream_size);

    //  Where the chunks fall changes nothing
    s_check_equal (&chunked, &whole, true);
    S_ASSERT (chunked.dropped == whole.dropped);

    if (!small) {
        //  Nothing too big: exactly the plain reading
        S_ASSERT (whole.dropped == 0);
        s_check_equal (&whole, &plain, true);
    } else {
        //  The plain reading minus dropped events, in order. Ids and retry
        //  may differ: an id or retry line too long for the limit is lost.
        size_t next = 0;
        for (size_t i = 0; i < whole.count; i++) {
            while (next < plain.count && !s_same_content (&whole.events[i], &plain.events[next]))
                next++;
            S_ASSERT (next < plain.count);
            next++;
        }
        S_ASSERT (plain.count - whole.count <= whole.dropped);
    }
    s_run_free (&chunked);
    s_run_free (&whole);
    s_run_free (&plain);
    return 0;
}
