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
    self->data = NULL;
    self->size = self->max = 0;
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
            self->skipping = newline == NULL;
            line = next = newline ? newline + 1 : end;
        } else if ((size_t) ((newline ? newline : end) - line) > self->limit) {
            //  Too long: drop what we hold and the rest of this line.
            self->dropped++;
            self->skipping = newline == NULL;
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
