/*  =========================================================================
    sse - Server-Sent Events parsing, incremental and bounded

    Parses the WHATWG "text/event-stream" format that MCP's streamable HTTP
    and HTTP+SSE transports speak. Bytes go in as they arrive, in chunks
    split anywhere (inside a CRLF pair, inside a UTF-8 character); each
    complete event comes out once, through a callback. The last event id
    and the retry time persist across events and across sse_reset, so a
    transport can reconnect with Last-Event-ID and wait as long as the
    server asked. An event may hold at most `limit` bytes (its data plus
    the line being read); a bigger one is dropped and counted, and parsing
    goes on with the next. One owner thread. The parser owns its buffers;
    every string it passes or returns is borrowed.

    Three deliberate departures from the browser's EventSource: an event
    whose data is empty is not dispatched (MCP's priming event, "id: 1" and
    "data: ", only moves the last event id); nor is one whose type holds a
    NUL byte, since no C string can name that type (cut at the NUL it would
    pass for another); and bytes are passed through as received, not
    checked nor repaired as UTF-8, for the JSON parser downstream to judge.
    =========================================================================
*/

#ifndef MCPACT_SSE_H_INCLUDED
#define MCPACT_SSE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Receives one event: its type ("message" if the server named none), its
//  data (size bytes, also NUL-terminated; lines joined with "\n") and the
//  last event id, NULL if none. All are valid only during the call, which
//  must not feed, reset nor free the parser.
typedef void (sse_event_fn) (void *arg, const char *event, const char *data, size_t size,
                             const char *id);

//  Bytes of a line's start kept aside, however long the line: enough to
//  tell the fields the parser acts on (the longest, "event" and "retry",
//  has 5 letters) from any other.
#define SSE_HEAD 6

typedef struct {
    char *buf;           //  the event's data lines, each + "\n", then the unfinished line
    size_t data_size;    //  bytes of buf that are data
    size_t size;         //  bytes of buf held
    size_t max;          //  bytes of buf allocated
    size_t limit;        //  most bytes held for one event
    char *type;          //  the event's type, NULL for "message"
    bool nul_type;       //  the event's type holds a NUL: not dispatched
    char *next_id;       //  id the event sets, NULL for none
    bool has_next_id;    //  the event had an id field
    char *last_id;       //  id of the last complete event, NULL for none
    int retry;           //  reconnection time in ms, -1 until set
    int bom;             //  BOM bytes seen at the stream start, -1 past it
    bool after_cr;       //  the last line ended with CR: an LF now ends no line
    bool skipping;       //  ignoring the rest of the line
    bool overflowed;     //  the line did not fit; its field, once sure, decides
    char head[SSE_HEAD]; //  the line's first bytes
    size_t head_size;    //  how many
    bool dropping;       //  the event is too big: read on to its end, deliver nothing
    size_t dropped;      //  oversized events dropped so far
} sse_t;

void sse_init (sse_t *self, size_t limit);

//  Frees the buffers; self is as after sse_init.
void sse_free (sse_t *self);

//  Feeds bytes; calls fn for each complete event. Returns 0, or -1 on out
//  of memory, after which the stream is lost: reset and reconnect.
int sse_feed (sse_t *self, const char *data, size_t size, sse_event_fn *fn, void *arg);

//  The id of the last complete event, for Last-Event-ID, or NULL. An id
//  counts once its event ends, even if the event had no data or was
//  dropped. Valid until the next call on self.
const char *sse_last_id (sse_t *self);

//  The reconnection time the server asked for in ms, or -1.
int sse_retry (sse_t *self);

//  Starts a new stream (a new connection): forgets the unfinished line and
//  event, keeps the last event id and the retry time.
void sse_reset (sse_t *self);

#endif
