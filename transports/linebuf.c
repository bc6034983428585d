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

static int
s_hold (linebuf_t *self, const char *data, size_t size)
{
    if (self->size + size > self->max) {
        size_t max = self->max ? self->max : 4096;
        while (max < self->size + size)
            max *= 2;
        char *grown = (char *) realloc (self->data, max);
        if (!grown)
            return -1;
        self->data = grown;
        self->max = max;
    }
    memcpy (self->data + self->size, data, size);
    self->size += size;
    return 0;
}

int
linebuf_feed (linebuf_t *self, const char *data, size_t size, linebuf_fn *fn, void *arg)
{
    const char *end = data + size;
    while (data < end) {
        const char *newline = (const char *) memchr (data, '\n', (size_t) (end - data));
        size_t chunk = (size_t) ((newline ? newline : end) - data);
        if (self->skipping) {
            if (newline)
                self->skipping = false;
        } else if (self->size + chunk > self->limit) {
            //  Too long: drop what we hold and the rest of this line.
            self->dropped++;
            self->size = 0;
            self->skipping = newline == NULL;
        } else if (newline && self->size == 0)
            //  The common case: a whole line in the chunk, no copy.
            s_emit (fn, arg, data, chunk);
        else {
            if (s_hold (self, data, chunk))
                return -1;
            if (newline) {
                s_emit (fn, arg, self->data, self->size);
                self->size = 0;
            }
        }
        data += chunk + (newline ? 1 : 0);
    }
    //  Don't keep a huge buffer around after one big message.
    if (self->size == 0 && self->max > 1024 * 1024) {
        free (self->data);
        self->data = NULL;
        self->max = 0;
    }
    return 0;
}
