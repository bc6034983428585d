/*  =========================================================================
    linebuf - newline-delimited message framing (see linebuf.h)
    =========================================================================
*/

#include "linebuf.h"

#include <stdlib.h>
#include <string.h>

void
linebuf_init (linebuf_t *self, size_t limit)
{
    memset (self, 0, sizeof *self);
    self->limit = limit;
}

void
linebuf_free (linebuf_t *self)
{
    free (self->data);
    free (self->edges);
    self->data = self->edges = NULL;
    self->size = self->max = 0;
}

//  Keeps the last bytes seen of the line being dropped.
static void
s_keep_tail (linebuf_t *self, const char *bytes, size_t size)
{
    if (!self->edges)
        return;
    char *tail = self->edges + LINEBUF_EDGE;
    if (size >= LINEBUF_EDGE) {
        memcpy (tail, bytes + size - LINEBUF_EDGE, LINEBUF_EDGE);
        self->tail_size = LINEBUF_EDGE;
        return;
    }
    size_t keep = self->tail_size + size > LINEBUF_EDGE ? LINEBUF_EDGE - size : self->tail_size;
    memmove (tail, tail + self->tail_size - keep, keep);
    memcpy (tail + keep, bytes, size);
    self->tail_size = keep + size;
}

//  An oversized line begins with [line, end): drop it, keeping its edges.
static void
s_drop_begin (linebuf_t *self, const char *line, const char *end)
{
    self->dropped++;
    self->skipped = (size_t) (end - line);
    self->head_size = self->tail_size = 0;
    if (!self->on_dropped)
        return;
    if (!self->edges)
        self->edges = (char *) malloc (2 * LINEBUF_EDGE);
    if (!self->edges)
        return;
    self->head_size = self->skipped < LINEBUF_EDGE ? self->skipped : LINEBUF_EDGE;
    memcpy (self->edges, line, self->head_size);
    s_keep_tail (self, line, self->skipped);
}

static void
s_drop_end (linebuf_t *self, void *arg)
{
    const char *tail = self->edges + LINEBUF_EDGE;
    size_t tail_size = self->tail_size;
    //  Without its "\r\n"
    if (tail_size && tail[tail_size - 1] == '\r')
        tail_size--;
    if (self->on_dropped && self->edges)
        self->on_dropped (arg, self->edges, self->head_size, tail, tail_size, self->skipped);
}

static void
s_emit (linebuf_fn *fn, void *arg, const char *line, size_t size)
{
    if (size > 0 && line[size - 1] == '\r')
        size--;
    if (size > 0)
        fn (arg, line, size);
}

char *
linebuf_space (linebuf_t *self, size_t *room)
{
    if (self->max - self->size < LINEBUF_ROOM) {
        size_t max = self->max ? self->max * 2 : LINEBUF_ROOM;
        while (max - self->size < LINEBUF_ROOM)
            max *= 2;
        char *grown = (char *) realloc (self->data, max);
        if (!grown)
            return NULL;
        self->data = grown;
        self->max = max;
    }
    *room = self->max - self->size;
    return self->data + self->size;
}

void
linebuf_commit (linebuf_t *self, size_t size, linebuf_fn *fn, void *arg)
{
    char *line = self->data;        //  the unfinished line begins here
    char *next = line + self->size; //  the first byte not yet scanned
    char *end = next + size;
    while (next < end) {
        char *newline = (char *) memchr (next, '\n', (size_t) (end - next));
        if (self->skipping) {
            //  Inside an oversized line: drop up to its end.
            const char *stop = newline ? newline : end;
            self->skipped += (size_t) (stop - next);
            s_keep_tail (self, next, (size_t) (stop - next));
            self->skipping = newline == NULL;
            if (newline)
                s_drop_end (self, arg);
            line = next = newline ? newline + 1 : end;
        } else if ((size_t) ((newline ? newline : end) - line) > self->limit) {
            //  Too long: drop what we hold and the rest of this line.
            s_drop_begin (self, line, newline ? newline : end);
            self->skipping = newline == NULL;
            if (newline)
                s_drop_end (self, arg);
            line = next = newline ? newline + 1 : end;
        } else if (newline) {
            s_emit (fn, arg, line, (size_t) (newline - line));
            line = next = newline + 1;
        } else
            next = end;
    }
    self->size = (size_t) (end - line);
    if (self->size && line != self->data)
        memmove (self->data, line, self->size);
    //  Don't keep a huge buffer around after one big message.
    if (self->size == 0 && self->max > 1024 * 1024) {
        free (self->data);
        self->data = NULL;
        self->max = 0;
    }
}

int
linebuf_feed (linebuf_t *self, const char *data, size_t size, linebuf_fn *fn, void *arg)
{
    while (size > 0) {
        size_t room;
        char *space = linebuf_space (self, &room);
        if (!space)
            return -1;
        size_t part = size < room ? size : room;
        memcpy (space, data, part);
        linebuf_commit (self, part, fn, arg);
        data += part;
        size -= part;
    }
    return 0;
}
