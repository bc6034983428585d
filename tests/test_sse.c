/*  =========================================================================
    test_sse - the Server-Sent Events parser

    Feeds event streams through sse_feed, whole, split in two at every
    byte and one byte at a time, and checks what a transport would see:
    the events delivered (type, data, id), the last event id and retry
    time it would reconnect with, and the events dropped for size. Each
    run is written down as a transcript, so a failure shows the whole
    difference. Needs only libc.
    =========================================================================
*/

#include "sse.h"
#include "testutil.h"

#include <stdarg.h>
#include <stdbool.h>

#define S_LIMIT (64 * 1024)

//  A growing string: what the parser delivered, one line per event
typedef struct {
    char *text;
    size_t size;
    size_t max;
} transcript_t;

static void
s_printf (transcript_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int needed = vsnprintf (NULL, 0, format, args);
    va_end (args);
    CHECK (needed >= 0);
    if (self->size + (size_t) needed + 1 > self->max) {
        self->max = (self->size + (size_t) needed + 1) * 2;
        self->text = (char *) realloc (self->text, self->max);
        CHECK (self->text);
    }
    va_start (args, format);
    vsnprintf (self->text + self->size, self->max - self->size, format, args);
    va_end (args);
    self->size += (size_t) needed;
}

//  Writes bytes with line ends and other control bytes visible.
static void
s_escaped (transcript_t *self, const char *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char) data[i];
        if (c == '\n')
            s_printf (self, "\\n");
        else if (c == '\r')
            s_printf (self, "\\r");
        else if (c == '\\')
            s_printf (self, "\\\\");
        else if (c < 0x20 || c == 0x7F)
            s_printf (self, "\\x%02X", c);
        else
            s_printf (self, "%c", c);
    }
}

static void
s_on_event (void *arg, const char *event, const char *data, size_t size, const char *id)
{
    //  The data must be usable as a C string as well as sized.
    CHECK (data[size] == '\0');
    CHECK (event && *event);
    CHECK (id == NULL || *id);
    transcript_t *transcript = (transcript_t *) arg;
    s_printf (transcript, "%s id=%s data=", event, id ? id : "-");
    s_escaped (transcript, data, size);
    s_printf (transcript, "\n");
}

//  Appends what the parser would reconnect with, and what it dropped.
static void
s_state (transcript_t *transcript, sse_t *sse)
{
    s_printf (transcript, "last_id=%s retry=%d dropped=%zu\n",
              sse_last_id (sse) ? sse_last_id (sse) : "-", sse_retry (sse), sse->dropped);
}

//  Feeds the stream in chunks of at most `chunk` bytes, the first chunk
//  being `first` bytes long, and returns the transcript (caller frees).
static char *
s_run (const char *stream, size_t size, size_t limit, size_t first, size_t chunk)
{
    transcript_t transcript = { NULL, 0, 0 };
    s_printf (&transcript, "%s", "");
    sse_t sse;
    sse_init (&sse, limit);
    size_t offset = 0;
    size_t next = first;
    while (offset < size) {
        if (next > size - offset)
            next = size - offset;
        CHECK (sse_feed (&sse, stream + offset, next, s_on_event, &transcript) == 0);
        offset += next;
        next = chunk;
    }
    s_state (&transcript, &sse);
    sse_free (&sse);
    return transcript.text;
}

static char *
s_run_whole (const char *stream, size_t size, size_t limit)
{
    return s_run (stream, size, limit, size, size);
}

//  Checks that a stream gives the expected transcript fed whole, split
//  in two at every byte, and one byte at a time.
static void
s_check_stream (const char *stream, size_t size, size_t limit, const char *expected)
{
    char *whole = s_run_whole (stream, size, limit);
    CHECK_STR (whole, expected);
    free (whole);
    for (size_t split = 0; split <= size; split++) {
        char *split_run = s_run (stream, size, limit, split, size);
        CHECK_MSG (strcmp (split_run, expected) == 0, "split at %zu:\n%s", split, split_run);
        free (split_run);
    }
    char *bytes = s_run (stream, size, limit, 1, 1);
    CHECK_STR (bytes, expected);
    free (bytes);
}

#define S_CHECK_STREAM(stream, expected)                                                           \
    s_check_stream ((stream), sizeof (stream) - 1, S_LIMIT, (expected))

//  A streamable HTTP response the way MCP servers write it: a priming
//  event (id, retry, empty data), a progress notification with non-ASCII
//  text, keep-alive comments, the result, and a last event without an id.
//  The last event is cut off before its blank line.
static const char s_mcp_stream[] =
    ": stream opened\r\n"
    "id: 5f1c-0\r\n"
    "retry: 3000\r\n"
    "data: \r\n"
    "\r\n"
    "id: 5f1c-1\r\n"
    "event: message\r\n"
    "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
    "{\"progressToken\":7,\"progress\":1,\"total\":2,\"message\":\"caf\xC3\xA9 \xE2\x9C\x93 "
    "\xF0\x9F\x9A\x80\"}}\r\n"
    "\r\n"
    ": keep-alive\r\n"
    "\r\n"
    ":\r\n"
    "\r\n"
    "event: message\r\n"
    "id: 5f1c-2\r\n"
    "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":"
    "[{\"type\":\"text\",\"text\":\"done\"}],\"isError\":false}}\r\n"
    "\r\n"
    "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":"
    "{\"level\":\"info\",\"data\":\"bye\"}}\r\n"
    "\r\n"
    "id: 5f1c-4\r\n"
    "data: {\"jsonrpc\":\"2.0\",\"id\":8,";

static const char s_mcp_expected[] =
    "message id=5f1c-1 data={\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
    "\"params\":{\"progressToken\":7,\"progress\":1,\"total\":2,\"message\":\"caf\xC3\xA9 "
    "\xE2\x9C\x93 \xF0\x9F\x9A\x80\"}}\n"
    "message id=5f1c-2 data={\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":"
    "[{\"type\":\"text\",\"text\":\"done\"}],\"isError\":false}}\n"
    "message id=5f1c-2 data={\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\","
    "\"params\":{\"level\":\"info\",\"data\":\"bye\"}}\n"
    "last_id=5f1c-2 retry=3000 dropped=0\n";

TEST (mcp_stream_whole)
{
    char *transcript = s_run_whole (s_mcp_stream, sizeof s_mcp_stream - 1, S_LIMIT);
    CHECK_STR (transcript, s_mcp_expected);
    free (transcript);
}

TEST (mcp_stream_split_everywhere)
{
    for (size_t split = 0; split < sizeof s_mcp_stream; split++) {
        char *transcript =
            s_run (s_mcp_stream, sizeof s_mcp_stream - 1, S_LIMIT, split, sizeof s_mcp_stream);
        CHECK_MSG (strcmp (transcript, s_mcp_expected) == 0, "split at %zu:\n%s", split,
                   transcript);
        free (transcript);
    }
}

TEST (mcp_stream_byte_by_byte)
{
    char *transcript = s_run (s_mcp_stream, sizeof s_mcp_stream - 1, S_LIMIT, 1, 1);
    CHECK_STR (transcript, s_mcp_expected);
    free (transcript);
}

//  The priming event moves the last id at its blank line, and delivers
//  nothing; a later event without an id still carries it.
TEST (priming_event)
{
    S_CHECK_STREAM ("id: 42\n"
                    "data:\n"
                    "\n",
                    "last_id=42 retry=-1 dropped=0\n");
    S_CHECK_STREAM ("id: 42\n"
                    "\n"
                    "data: hello\n"
                    "\n",
                    "message id=42 data=hello\n"
                    "last_id=42 retry=-1 dropped=0\n");
}

TEST (http_sse_endpoint)
{
    //  The older HTTP+SSE transport names its first event "endpoint".
    S_CHECK_STREAM ("event: endpoint\n"
                    "data: /messages/?session_id=9d2e\n"
                    "\n"
                    "event: message\n"
                    "data: {}\n"
                    "\n",
                    "endpoint id=- data=/messages/?session_id=9d2e\n"
                    "message id=- data={}\n"
                    "last_id=- retry=-1 dropped=0\n");
}

TEST (line_endings)
{
    const char *expected = "update id=1 data=a\\nb\n"
                           "message id=2 data=c\n"
                           "last_id=2 retry=-1 dropped=0\n";
    S_CHECK_STREAM ("event: update\r\nid: 1\r\ndata: a\r\ndata: b\r\n\r\n"
                    "id: 2\r\ndata: c\r\n\r\n",
                    expected);
    S_CHECK_STREAM ("event: update\nid: 1\ndata: a\ndata: b\n\nid: 2\ndata: c\n\n", expected);
    S_CHECK_STREAM ("event: update\rid: 1\rdata: a\rdata: b\r\rid: 2\rdata: c\r\r", expected);
    //  All three mixed, including an LF CR pair, which is two line ends.
    S_CHECK_STREAM ("event: update\rid: 1\r\ndata: a\ndata: b\n\rid: 2\r\ndata: c\r\r", expected);
}

TEST (crlf_split_across_chunks)
{
    transcript_t transcript = { NULL, 0, 0 };
    s_printf (&transcript, "%s", "");
    sse_t sse;
    sse_init (&sse, S_LIMIT);
    //  One line end, not two: the LF must not read as a blank line.
    CHECK (sse_feed (&sse, "data: a\r", 8, s_on_event, &transcript) == 0);
    CHECK (sse_feed (&sse, "\ndata: b\r", 9, s_on_event, &transcript) == 0);
    CHECK (transcript.size == 0);
    CHECK (sse_feed (&sse, "\n", 1, s_on_event, &transcript) == 0);
    CHECK (transcript.size == 0);
    CHECK (sse_feed (&sse, "\r", 1, s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=- data=a\\nb\n");
    CHECK (sse_feed (&sse, "\n", 1, s_on_event, &transcript) == 0);
    //  A CR ending a chunk, and a new line (not an LF) starting the next.
    CHECK (sse_feed (&sse, "data: c\r", 8, s_on_event, &transcript) == 0);
    CHECK (sse_feed (&sse, "data: d\r", 8, s_on_event, &transcript) == 0);
    CHECK (sse_feed (&sse, "\r", 1, s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=- data=a\\nb\n"
                                "message id=- data=c\\nd\n");
    //  Empty chunks in between change nothing.
    CHECK (sse_feed (&sse, "data: e\r", 8, s_on_event, &transcript) == 0);
    CHECK (sse_feed (&sse, "", 0, s_on_event, &transcript) == 0);
    CHECK (sse_feed (&sse, "\n", 1, s_on_event, &transcript) == 0);
    CHECK (sse_feed (&sse, "", 0, s_on_event, &transcript) == 0);
    CHECK (sse_feed (&sse, "\r\n", 2, s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=- data=a\\nb\n"
                                "message id=- data=c\\nd\n"
                                "message id=- data=e\n");
    sse_free (&sse);
    free (transcript.text);
}

TEST (multiline_data)
{
    S_CHECK_STREAM ("data: {\"a\":\n"
                    "data:\n"
                    "data:  1}\n"
                    "\n",
                    "message id=- data={\"a\":\\n\\n 1}\n"
                    "last_id=- retry=-1 dropped=0\n");
    //  Two empty data lines are one "\n", which is not empty data.
    S_CHECK_STREAM ("data\n"
                    "data\n"
                    "\n",
                    "message id=- data=\\n\n"
                    "last_id=- retry=-1 dropped=0\n");
}

TEST (space_after_colon)
{
    S_CHECK_STREAM ("data:x\n\n"
                    "data: x\n\n"
                    "data:  x\n\n"
                    "data:x \n\n"
                    "event:a\ndata: y\n\n"
                    "event:  b\ndata: y\n\n",
                    "message id=- data=x\n"
                    "message id=- data=x\n"
                    "message id=- data= x\n"
                    "message id=- data=x \n"
                    "a id=- data=y\n"
                    " b id=- data=y\n"
                    "last_id=- retry=-1 dropped=0\n");
}

TEST (event_type_resets)
{
    //  The type lasts one event, and a blank line ends it even when the
    //  event had no data to deliver.
    S_CHECK_STREAM ("event: ping\n"
                    "\n"
                    "data: 1\n"
                    "\n"
                    "event: first\n"
                    "event: second\n"
                    "data: 2\n"
                    "\n"
                    "event\n"
                    "data: 3\n"
                    "\n"
                    "data: 4\n"
                    "\n",
                    "message id=- data=1\n"
                    "second id=- data=2\n"
                    "message id=- data=3\n"
                    "message id=- data=4\n"
                    "last_id=- retry=-1 dropped=0\n");
}

TEST (comments_and_unknown_fields)
{
    S_CHECK_STREAM (":hello\n"
                    ": data: not this\n"
                    "Data: not this either\n"
                    "data : nor this\n"
                    "foo: bar\n"
                    "foo\n"
                    "data: yes\n"
                    ":\n"
                    "\n",
                    "message id=- data=yes\n"
                    "last_id=- retry=-1 dropped=0\n");
}

TEST (bom)
{
    S_CHECK_STREAM ("\xEF\xBB\xBF"
                    "data: a\n\n",
                    "message id=- data=a\n"
                    "last_id=- retry=-1 dropped=0\n");
    //  Only one BOM, and only at the very start.
    S_CHECK_STREAM ("\xEF\xBB\xBF\xEF\xBB\xBF"
                    "data: a\n\n"
                    "data: b\n\n",
                    "message id=- data=b\n"
                    "last_id=- retry=-1 dropped=0\n");
    S_CHECK_STREAM ("data: a\n\n"
                    "\xEF\xBB\xBF"
                    "data: b\n\n",
                    "message id=- data=a\n"
                    "last_id=- retry=-1 dropped=0\n");
    //  Part of a BOM is no BOM: its bytes belong to the first field name.
    S_CHECK_STREAM ("\xEF\xBB"
                    "data: a\n\n"
                    "data: b\n\n",
                    "message id=- data=b\n"
                    "last_id=- retry=-1 dropped=0\n");
    S_CHECK_STREAM ("\xEF"
                    "data: a\n\n"
                    "data: b\n\n",
                    "message id=- data=b\n"
                    "last_id=- retry=-1 dropped=0\n");
    //  A stream that starts with a blank line (no BOM) still parses.
    S_CHECK_STREAM ("\n"
                    "data: a\n\n",
                    "message id=- data=a\n"
                    "last_id=- retry=-1 dropped=0\n");
}

TEST (id)
{
    //  An id lasts across events; an id holding a NUL is ignored; an
    //  empty id clears it.
    static const char stream[] = "id: 1\n"
                                 "data: a\n"
                                 "\n"
                                 "data: b\n"
                                 "\n"
                                 "id: 2\0x\n"
                                 "data: c\n"
                                 "\n"
                                 "id: 3\n"
                                 "id\n"
                                 "data: d\n"
                                 "\n"
                                 "id: 4\n"
                                 "data: e\n"
                                 "\n"
                                 "id:\n"
                                 "data: f\n"
                                 "\n";
    S_CHECK_STREAM (stream, "message id=1 data=a\n"
                            "message id=1 data=b\n"
                            "message id=1 data=c\n"
                            "message id=- data=d\n"
                            "message id=4 data=e\n"
                            "message id=- data=f\n"
                            "last_id=- retry=-1 dropped=0\n");
    S_CHECK_STREAM ("id: a b:c\n"
                    "data: 1\n"
                    "\n",
                    "message id=a b:c data=1\n"
                    "last_id=a b:c retry=-1 dropped=0\n");
}

TEST (retry)
{
    S_CHECK_STREAM ("retry: 3000\n", "last_id=- retry=3000 dropped=0\n");
    S_CHECK_STREAM ("retry:0\n", "last_id=- retry=0 dropped=0\n");
    //  Only ASCII digits count; anything else leaves the time as it was.
    S_CHECK_STREAM ("retry: 3000\n"
                    "retry: 12a\n"
                    "retry: -5\n"
                    "retry: +5\n"
                    "retry: 1.5\n"
                    "retry:\n"
                    "retry\n"
                    "retry:  100\n"
                    "retry: 100 \n"
                    "retry: \xD9\xA3\n"
                    "\n",
                    "last_id=- retry=3000 dropped=0\n");
    //  Retry is no data: nothing to deliver.
    S_CHECK_STREAM ("retry: 10\n\nretry: 20\n\n", "last_id=- retry=20 dropped=0\n");
    //  Too many digits for an int is a very long time, not a negative one.
    S_CHECK_STREAM ("retry: 99999999999999999999\n", "last_id=- retry=2147483647 dropped=0\n");
}

TEST (oversized_event_dropped)
{
    //  An event of 40 + 40 data bytes against a limit of 64; the next one
    //  fits and arrives, with the id the dropped event set.
    static const char stream[] = "data: 0123456789012345678901234567890123456789\n"
                                 "id: 7\n"
                                 "event: big\n"
                                 "data: 0123456789012345678901234567890123456789\n"
                                 "retry: 500\n"
                                 "data: more\n"
                                 "\n"
                                 "data: ok\n"
                                 "\n";
    s_check_stream (stream, sizeof stream - 1, 64,
                    "message id=7 data=ok\n"
                    "last_id=7 retry=500 dropped=1\n");
    //  A single line longer than the limit, then a fitting event.
    static const char line[] = "event: big\n"
                               "data: 0123456789012345678901234567890123456789"
                               "0123456789012345678901234567890123456789\n"
                               "\n"
                               "event: small\n"
                               "data: ok\n"
                               "\n";
    s_check_stream (line, sizeof line - 1, 64,
                    "small id=- data=ok\n"
                    "last_id=- retry=-1 dropped=1\n");
    //  The limit counts the data held ("1234\n", 5 bytes) plus the whole
    //  line being read ("data: 123", 9 bytes): 14 fits, 13 does not.
    static const char edge[] = "data: 1234\ndata: 123\n\n";
    s_check_stream (edge, sizeof edge - 1, 14,
                    "message id=- data=1234\\n123\n"
                    "last_id=- retry=-1 dropped=0\n");
    s_check_stream (edge, sizeof edge - 1, 13, "last_id=- retry=-1 dropped=1\n");
}

TEST (oversized_lines_that_do_not_count)
{
    //  Long comments and unknown fields are skipped, never held, and no
    //  event is dropped for them.
    size_t size = 3 * 1024 * 1024;
    char *stream = (char *) malloc (size);
    CHECK (stream);
    size_t at = 0;
    const char *parts[] = { "data: a\n:", "\nx-padding: ", "\ndata: b\n\n" };
    for (int part = 0; part < 3; part++) {
        memcpy (stream + at, parts[part], strlen (parts[part]));
        at += strlen (parts[part]);
        if (part < 2) {
            memset (stream + at, 'z', 1024 * 1024);
            at += 1024 * 1024;
        }
    }
    transcript_t transcript = { NULL, 0, 0 };
    s_printf (&transcript, "%s", "");
    sse_t sse;
    sse_init (&sse, 4096);
    for (size_t offset = 0; offset < at; offset += 1000) {
        size_t chunk = at - offset < 1000 ? at - offset : 1000;
        CHECK (sse_feed (&sse, stream + offset, chunk, s_on_event, &transcript) == 0);
        CHECK (sse.max <= 4096);
    }
    CHECK_STR (transcript.text, "message id=- data=a\\nb\n");
    CHECK (sse.dropped == 0);
    sse_free (&sse);
    free (transcript.text);
    free (stream);
}

TEST (oversized_line_named_late)
{
    //  A line that overflows within its first bytes: which field it is
    //  shows only as more bytes come, whichever way they are cut. With 12
    //  data bytes held and a limit of 16, "eventful" and "retrying"
    //  overflow at their fifth byte, looking like "event" and "retry" so
    //  far; they are unknown fields, skipped, and the event is whole.
    static const char unknown[] = "data: 0123456789\n"
                                  "data:\n"
                                  "eventful: x\n"
                                  "retrying: 5\n"
                                  "\n";
    s_check_stream (unknown, sizeof unknown - 1, 16,
                    "message id=- data=0123456789\\n\n"
                    "last_id=- retry=-1 dropped=0\n");
    //  The same place, but the line is a field: the event is too big.
    static const char known[] = "data: 0123456789\n"
                                "data:\n"
                                "event: x\n"
                                "\n"
                                "data: next\n"
                                "\n";
    s_check_stream (known, sizeof known - 1, 16,
                    "message id=- data=next\n"
                    "last_id=- retry=-1 dropped=1\n");
}

TEST (oversized_memory_bounded)
{
    //  A 4 MB data line against a 64 KB limit: never more than the limit
    //  is held, and the stream carries on.
    size_t big = 4 * 1024 * 1024;
    transcript_t transcript = { NULL, 0, 0 };
    s_printf (&transcript, "%s", "");
    sse_t sse;
    sse_init (&sse, S_LIMIT);
    CHECK (sse_feed (&sse, "id: 1\ndata: ", 12, s_on_event, &transcript) == 0);
    char *block = (char *) malloc (4096);
    CHECK (block);
    memset (block, 'x', 4096);
    for (size_t sent = 0; sent < big; sent += 4096) {
        CHECK (sse_feed (&sse, block, 4096, s_on_event, &transcript) == 0);
        CHECK (sse.max <= S_LIMIT);
    }
    free (block);
    CHECK (sse.dropped == 1);
    //  Many short data lines that add up past the limit are dropped too.
    CHECK (sse_feed (&sse, "\n\nid: 2\n", 8, s_on_event, &transcript) == 0);
    for (int i = 0; i < 20000; i++)
        CHECK (sse_feed (&sse, "data: 0123456789\n", 17, s_on_event, &transcript) == 0);
    CHECK (sse.max <= S_LIMIT);
    CHECK (sse_feed (&sse, "\ndata: after\n\n", 14, s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=2 data=after\n");
    CHECK (sse.dropped == 2);
    CHECK_STR (sse_last_id (&sse), "2");
    sse_free (&sse);
    free (transcript.text);
}

TEST (incomplete_event_not_dispatched)
{
    transcript_t transcript = { NULL, 0, 0 };
    s_printf (&transcript, "%s", "");
    sse_t sse;
    sse_init (&sse, S_LIMIT);
    const char *first = "id: 1\ndata: a\n\nid: 2\ndata: b\n";
    CHECK (sse_feed (&sse, first, strlen (first), s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=1 data=a\n");
    //  Until its blank line, event 2 has not been seen: a reconnection
    //  now must ask for what follows event 1.
    CHECK_STR (sse_last_id (&sse), "1");
    CHECK (sse_feed (&sse, "data: c", 7, s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=1 data=a\n");
    CHECK (sse_feed (&sse, "\n\n", 2, s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=1 data=a\n"
                                "message id=2 data=b\\nc\n");
    CHECK_STR (sse_last_id (&sse), "2");
    sse_free (&sse);
    free (transcript.text);
}

TEST (reset_keeps_id_and_retry)
{
    transcript_t transcript = { NULL, 0, 0 };
    s_printf (&transcript, "%s", "");
    sse_t sse;
    sse_init (&sse, S_LIMIT);
    const char *before = "retry: 2500\nid: 3\ndata: a\n\nid: 4\nevent: other\ndata: lost\r";
    CHECK (sse_feed (&sse, before, strlen (before), s_on_event, &transcript) == 0);
    CHECK_STR (sse_last_id (&sse), "3");
    CHECK (sse_retry (&sse) == 2500);

    //  The connection breaks mid-event; the new one starts clean, skips
    //  its own BOM, and knows where to resume from and how long to wait.
    sse_reset (&sse);
    CHECK_STR (sse_last_id (&sse), "3");
    CHECK (sse_retry (&sse) == 2500);
    const char *after = "\xEF\xBB\xBF"
                        "data: b\n\n";
    CHECK (sse_feed (&sse, after, strlen (after), s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=3 data=a\n"
                                "message id=3 data=b\n");

    //  An event cut off by the break never arrives, though its last line
    //  had ended; an LF opening the new stream changes nothing.
    CHECK (sse_feed (&sse, "data: lost\r", 11, s_on_event, &transcript) == 0);
    sse_reset (&sse);
    CHECK (sse_feed (&sse, "\ndata: c\n\n", 10, s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=3 data=a\n"
                                "message id=3 data=b\n"
                                "message id=3 data=c\n");

    //  A reset also ends an oversized event being skipped.
    sse_t small;
    sse_init (&small, 16);
    CHECK (sse_feed (&small, "data: 01234567890123456789", 26, s_on_event, &transcript) == 0);
    CHECK (small.dropped == 1);
    sse_reset (&small);
    CHECK (sse_feed (&small, "data: d\n\n", 9, s_on_event, &transcript) == 0);
    CHECK_STR (transcript.text, "message id=3 data=a\n"
                                "message id=3 data=b\n"
                                "message id=3 data=c\n"
                                "message id=- data=d\n");
    sse_free (&small);

    //  sse_free leaves a parser that can be used again.
    sse_free (&sse);
    CHECK (sse_last_id (&sse) == NULL);
    CHECK (sse_retry (&sse) == -1);
    sse_free (&sse);
    free (transcript.text);
}

TEST (event_type_with_nul)
{
    //  No C string names a type with a NUL; cut there it would pass for
    //  another ("endpoint"): such an event is not dispatched, and a later
    //  event field (or the next event) sets the type afresh.
    static const char stream[] = "id: 1\n"
                                 "event: endpoint\0http://elsewhere\n"
                                 "data: /messages\n"
                                 "\n"
                                 "event: \0\n"
                                 "event: endpoint\n"
                                 "data: /a\n"
                                 "\n"
                                 "event: x\0y\n"
                                 "data: b\n"
                                 "\n"
                                 "data: c\n"
                                 "\n";
    S_CHECK_STREAM (stream, "endpoint id=1 data=/a\n"
                            "message id=1 data=c\n"
                            "last_id=1 retry=-1 dropped=0\n");
}

TEST (data_with_nul)
{
    //  Data is sized: a NUL inside it arrives whole.
    static const char stream[] = "data: a\0b\n\n";
    char *transcript = s_run_whole (stream, sizeof stream - 1, S_LIMIT);
    CHECK_STR (transcript, "message id=- data=a\\x00b\n"
                           "last_id=- retry=-1 dropped=0\n");
    free (transcript);
}
