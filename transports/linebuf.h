/*  =========================================================================
    linebuf - newline-delimited message framing, incremental and bounded

    Bytes go in as they arrive, in chunks of any size; each complete line
    (without its "\n", and without a trailing "\r") comes out once. A
    reader can have bytes land in the buffer itself (linebuf_space, read,
    linebuf_commit): lines are handed out from where they landed, with no
    copy and no buffer on the reader's stack. A line
    longer than the limit is dropped whole and counted, so one oversized
    message cannot grow memory without bound nor desynchronise the stream.
    One owner thread.
    =========================================================================
*/

#ifndef MCPACT_LINEBUF_H_INCLUDED
#define MCPACT_LINEBUF_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef void (linebuf_fn) (void *arg, const char *line, size_t size);

//  Told of a line dropped for its size, once it has ended: its first and
//  last bytes (LINEBUF_EDGE at most of each; enough to tell which message
//  it was) and how long it was.
#define LINEBUF_EDGE 512
typedef void (linebuf_dropped_fn) (void *arg, const char *head, size_t head_size, const char *tail,
                                   size_t tail_size, size_t size);

typedef struct {
    char *data;                     //  bytes of the unfinished line
    size_t size;                    //  bytes held
    size_t max;                     //  bytes allocated
    size_t limit;                   //  longest line accepted
    bool skipping;                  //  inside an oversized line, until its newline
    size_t dropped;                 //  oversized lines dropped so far
    linebuf_dropped_fn *on_dropped; //  told of each, or NULL
    char *edges;                    //  head, then tail, of the line being dropped
    size_t head_size;               //  bytes of head kept
    size_t tail_size;               //  bytes of tail kept
    size_t skipped;                 //  bytes of the line being dropped
} linebuf_t;

void linebuf_init (linebuf_t *self, size_t limit);
void linebuf_free (linebuf_t *self);

//  Feeds bytes; calls fn for each complete line (and on_dropped, with the
//  same arg, for each line dropped for its size). Returns 0, or -1 on out
//  of memory.
int linebuf_feed (linebuf_t *self, const char *data, size_t size, linebuf_fn *fn, void *arg);

//  Where the next bytes may be written, and how many (*room, at least
//  LINEBUF_ROOM); NULL on out of memory. Valid until the next call.
#define LINEBUF_ROOM 4096
char *linebuf_space (linebuf_t *self, size_t *room);

//  Takes `size` bytes written at linebuf_space; calls fn for each line
//  they complete. fn must not call back into this linebuf.
void linebuf_commit (linebuf_t *self, size_t size, linebuf_fn *fn, void *arg);

#endif
