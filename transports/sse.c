/*  =========================================================================
    sse - Server-Sent Events parsing (see sse.h)

    The event's data and the line being read share one buffer: the data
    lines first, each followed by "\n" as the spec builds its data buffer,
    then the unfinished line. A data line moves down onto the data when it
    ends, so the buffer's size is exactly what the limit bounds, and
    dispatch turns the last "\n" into the terminating NUL.
    =========================================================================
*/

#include "sse.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

//  The UTF-8 byte order mark, skipped once at the start of a stream
static const char s_bom[] = "\xEF\xBB\xBF";
#define S_BOM_SIZE 3

typedef enum { FIELD_OTHER, FIELD_DATA, FIELD_EVENT, FIELD_ID, FIELD_RETRY } field_t;

void
sse_init (sse_t *self, size_t limit)
{
    memset (self, 0, sizeof *self);
    self->limit = limit;
    self->retry = -1;
}

void
sse_free (sse_t *self)
{
    free (self->buf);
    free (self->type);
    free (self->next_id);
    free (self->last_id);
    sse_init (self, self->limit);
}

const char *
sse_last_id (sse_t *self)
{
    return self->last_id;
}

int
sse_retry (sse_t *self)
{
    return self->retry;
}

//  Don't keep a huge buffer around after one big event.
static void
s_shrink (sse_t *self)
{
    if (self->size == 0 && self->max > 1024 * 1024) {
        free (self->buf);
        self->buf = NULL;
        self->max = 0;
    }
}

void
sse_reset (sse_t *self)
{
    free (self->type);
    self->type = NULL;
    self->nul_type = false;
    free (self->next_id);
    self->next_id = NULL;
    self->has_next_id = false;
    self->data_size = self->size = 0;
    self->bom = 0;
    self->after_cr = self->skipping = self->dropping = self->overflowed = false;
    self->head_size = 0;
    s_shrink (self);
}

static field_t
s_field (const char *name, size_t size)
{
    if (size == 4 && memcmp (name, "data", 4) == 0)
        return FIELD_DATA;
    if (size == 5 && memcmp (name, "event", 5) == 0)
        return FIELD_EVENT;
    if (size == 2 && memcmp (name, "id", 2) == 0)
        return FIELD_ID;
    if (size == 5 && memcmp (name, "retry", 5) == 0)
        return FIELD_RETRY;
    return FIELD_OTHER;
}

//  Replaces *dest with a copy of value, or with NULL if value is empty.
static int
s_set (char **dest, const char *value, size_t size)
{
    char *copy = NULL;
    if (size > 0) {
        copy = (char *) malloc (size + 1);
        if (!copy)
            return -1;
        memcpy (copy, value, size);
        copy[size] = '\0';
    }
    free (*dest);
    *dest = copy;
    return 0;
}

//  Only a value of ASCII digits counts; an absurdly long one saturates
//  rather than wrapping into a short or negative delay.
static void
s_set_retry (sse_t *self, const char *value, size_t size)
{
    if (size == 0)
        return;
    int ms = 0;
    for (size_t i = 0; i < size; i++) {
        if (value[i] < '0' || value[i] > '9')
            return;
        int digit = value[i] - '0';
        ms = ms > (INT_MAX - digit) / 10 ? INT_MAX : ms * 10 + digit;
    }
    self->retry = ms;
}

//  Appends to the line being read; the caller has checked the limit.
static int
s_hold (sse_t *self, const char *data, size_t size)
{
    if (self->size + size > self->max) {
        size_t max = self->max ? self->max : 4096;
        while (max < self->size + size)
            max *= 2;
        //  What fits the limit is all the buffer ever has to take.
        if (max > self->limit)
            max = self->limit;
        char *grown = (char *) realloc (self->buf, max);
        if (!grown)
            return -1;
        self->buf = grown;
        self->max = max;
    }
    memcpy (self->buf + self->size, data, size);
    self->size += size;
    return 0;
}

//  A line did not fit the limit: it is skipped. What else that means
//  depends on its field, which its first bytes may not show yet (a line
//  can come a byte at a time, and "event" may yet become "eventful"): a
//  colon ends the name, a name as long as the head is none we act on, and
//  so does the end of the line. Until then this waits. An unknown field's
//  line would be ignored anyway: nothing else happens. Any other line
//  makes the event too big: it is dropped, and read on to its blank line
//  so the next event starts clean; its id and retry fields still count,
//  as they would have had it fit.
static void
s_overflowed (sse_t *self, bool line_ended)
{
    const char *colon = (const char *) memchr (self->head, ':', self->head_size);
    if (!colon && !line_ended && self->head_size < SSE_HEAD)
        return; //  not sure yet
    self->overflowed = false;
    if (s_field (self->head, colon ? (size_t) (colon - self->head) : self->head_size) ==
        FIELD_OTHER)
        return;
    if (!self->dropping)
        self->dropped++;
    self->dropping = true;
    self->data_size = self->size = 0;
}

//  Takes bytes of the line being read, up to (not including) its end.
static int
s_take (sse_t *self, const char *data, size_t size)
{
    if (size == 0)
        return 0;
    bool line_start = self->head_size == 0;
    if (self->head_size < SSE_HEAD) {
        size_t more = size < SSE_HEAD - self->head_size ? size : SSE_HEAD - self->head_size;
        memcpy (self->head + self->head_size, data, more);
        self->head_size += more;
    }
    if (self->overflowed)
        s_overflowed (self, false);
    if (self->skipping)
        return 0;
    if (line_start && data[0] == ':') {
        //  A comment (keep-alives are comments): nothing in it is needed,
        //  so none of it is held, however long.
        self->skipping = true;
        return 0;
    }
    if (size > self->limit - self->size) {
        //  Too big for the limit: what was held of the line goes, and
        //  the rest is skipped.
        self->skipping = self->overflowed = true;
        self->size = self->data_size;
        s_overflowed (self, false);
        return 0;
    }
    return s_hold (self, data, size);
}

//  A blank line ends the event.
static void
s_dispatch (sse_t *self, sse_event_fn *fn, void *arg)
{
    //  The id becomes the stream's position only now: were the stream to
    //  break before the blank line, the event would not have been seen,
    //  and resuming after it would lose it.
    if (self->has_next_id) {
        free (self->last_id);
        self->last_id = self->next_id;
        self->next_id = NULL;
        self->has_next_id = false;
    }
    //  A data size of 1 is a lone "\n": the data was empty.
    if (!self->dropping && !self->nul_type && self->data_size > 1) {
        self->buf[self->data_size - 1] = '\0';
        fn (arg, self->type ? self->type : "message", self->buf, self->data_size - 1,
            self->last_id);
    }
    free (self->type);
    self->type = NULL;
    self->nul_type = false;
    self->data_size = self->size = 0;
    self->dropping = false;
    s_shrink (self);
}

//  The line being read has ended.
static int
s_line (sse_t *self, sse_event_fn *fn, void *arg)
{
    if (self->skipping) {
        if (self->overflowed)
            s_overflowed (self, true);
        self->skipping = false;
        self->head_size = 0;
        return 0;
    }
    self->head_size = 0;
    size_t size = self->size - self->data_size;
    if (size == 0) {
        s_dispatch (self, fn, arg);
        return 0;
    }
    const char *line = self->buf + self->data_size;
    const char *colon = (const char *) memchr (line, ':', size);
    size_t name_size = colon ? (size_t) (colon - line) : size;
    const char *value = colon ? colon + 1 : line + size;
    size_t value_size = (size_t) (line + size - value);
    if (value_size > 0 && *value == ' ') {
        value++;
        value_size--;
    }
    int rc = 0;
    switch (s_field (line, name_size)) {
    case FIELD_DATA:
        //  The value and its "\n" fit where the line was: "data" is longer.
        if (!self->dropping) {
            memmove (self->buf + self->data_size, value, value_size);
            self->data_size += value_size;
            self->buf[self->data_size++] = '\n';
        }
        break;
    case FIELD_EVENT:
        //  The event goes undelivered, unless a later event field names
        //  a type without a NUL.
        self->nul_type = memchr (value, '\0', value_size) != NULL;
        rc = s_set (&self->type, value, self->nul_type ? 0 : value_size);
        break;
    case FIELD_ID:
        //  An id with a NUL could not go back in a Last-Event-ID header.
        if (!memchr (value, '\0', value_size)) {
            rc = s_set (&self->next_id, value, value_size);
            if (rc == 0)
                self->has_next_id = true;
        }
        break;
    case FIELD_RETRY:
        s_set_retry (self, value, value_size);
        break;
    case FIELD_OTHER:
        break;
    }
    self->size = self->data_size;
    return rc;
}

static int
s_scan (sse_t *self, const char *data, size_t size, sse_event_fn *fn, void *arg)
{
    const char *end = data + size;
    while (data < end) {
        if (self->after_cr) {
            //  CR LF is one line end, even split across two chunks.
            self->after_cr = false;
            if (*data == '\n') {
                data++;
                continue;
            }
        }
        const char *eol = data;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        if (s_take (self, data, (size_t) (eol - data)))
            return -1;
        if (eol == end)
            break;
        self->after_cr = *eol == '\r';
        if (s_line (self, fn, arg))
            return -1;
        data = eol + 1;
    }
    return 0;
}

int
sse_feed (sse_t *self, const char *data, size_t size, sse_event_fn *fn, void *arg)
{
    //  One BOM may open the stream, arriving in pieces like anything else;
    //  a partial match turns out to be content after all.
    while (self->bom >= 0 && size > 0) {
        if (*data == s_bom[self->bom]) {
            data++;
            size--;
            self->bom = self->bom + 1 == S_BOM_SIZE ? -1 : self->bom + 1;
        } else {
            size_t seen = (size_t) self->bom;
            self->bom = -1;
            if (s_scan (self, s_bom, seen, fn, arg))
                return -1;
        }
    }
    return s_scan (self, data, size, fn, arg);
}
