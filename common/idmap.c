/*  =========================================================================
    idmap - a map from 64-bit ids to pointers, and a heap of deadlines
    =========================================================================
*/

#include "idmap.h"

#include <stdbool.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t
s_slot (uint64_t id, size_t max)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t) id & (max - 1);
}

void
idmap_init (idmap_t *self)
{
    memset (self, 0, sizeof *self);
}

void
idmap_free (idmap_t *self)
{
    free (self->keys);
    free (self->values);
    memset (self, 0, sizeof *self);
}

static int
s_grow (idmap_t *self)
{
    idmap_t grown;
    grown.max = self->max ? self->max * 2 : 64;
    grown.size = 0;
    grown.keys = (uint64_t *) calloc (grown.max, sizeof (uint64_t));
    grown.values = (void **) calloc (grown.max, sizeof (void *));
    if (!grown.keys || !grown.values) {
        free (grown.keys);
        free (grown.values);
        return -1;
    }
    for (size_t i = 0; i < self->max; i++)
        if (self->keys[i])
            idmap_put (&grown, self->keys[i], self->values[i]);
    idmap_free (self);
    *self = grown;
    return 0;
}

int
idmap_put (idmap_t *self, uint64_t id, void *value)
{
    if ((self->size + 1) * 2 > self->max && s_grow (self))
        return -1;
    size_t slot = s_slot (id, self->max);
    while (self->keys[slot] && self->keys[slot] != id)
        slot = (slot + 1) & (self->max - 1);
    if (!self->keys[slot])
        self->size++;
    self->keys[slot] = id;
    self->values[slot] = value;
    return 0;
}

void *
idmap_get (idmap_t *self, uint64_t id)
{
    if (!self->max)
        return NULL;
    size_t slot = s_slot (id, self->max);
    while (self->keys[slot]) {
        if (self->keys[slot] == id)
            return self->values[slot];
        slot = (slot + 1) & (self->max - 1);
    }
    return NULL;
}

void *
idmap_take (idmap_t *self, uint64_t id)
{
    if (!self->max)
        return NULL;
    size_t mask = self->max - 1;
    size_t slot = s_slot (id, self->max);
    while (self->keys[slot] && self->keys[slot] != id)
        slot = (slot + 1) & mask;
    if (!self->keys[slot])
        return NULL;
    void *value = self->values[slot];
    //  Backward-shift deletion keeps probe chains intact without tombstones.
    size_t hole = slot;
    size_t next = (hole + 1) & mask;
    while (self->keys[next]) {
        size_t home = s_slot (self->keys[next], self->max);
        bool movable = hole <= next ? (home <= hole || home > next) : (home <= hole && home > next);
        if (movable) {
            self->keys[hole] = self->keys[next];
            self->values[hole] = self->values[next];
            hole = next;
        }
        next = (next + 1) & mask;
    }
    self->keys[hole] = 0;
    self->values[hole] = NULL;
    self->size--;
    return value;
}

void
idmap_each (idmap_t *self, void (*fn) (uint64_t id, void *value, void *arg), void *arg)
{
    for (size_t i = 0; i < self->max; i++)
        if (self->keys[i])
            fn (self->keys[i], self->values[i], arg);
}

void
deadlines_init (deadlines_t *self)
{
    memset (self, 0, sizeof *self);
}

void
deadlines_free (deadlines_t *self)
{
    free (self->items);
    memset (self, 0, sizeof *self);
}

void
deadlines_watch (deadlines_t *self, idmap_t *live)
{
    self->live = live;
}

//  Puts `item` at hole `i` or below it, where the heap order wants it.
static void
s_sift_down (deadlines_t *self, size_t i, deadline_t item)
{
    while (true) {
        size_t child = 2 * i + 1;
        if (child >= self->size)
            break;
        if (child + 1 < self->size && self->items[child + 1].when < self->items[child].when)
            child++;
        if (item.when <= self->items[child].when)
            break;
        self->items[i] = self->items[child];
        i = child;
    }
    self->items[i] = item;
}

//  Drops the entries of ids that are over, and orders what is left into
//  a heap again (bottom-up, linear in the size).
static void
s_compact (deadlines_t *self)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->size; i++)
        if (idmap_get (self->live, self->items[i].id))
            self->items[kept++] = self->items[i];
    self->size = kept;
    for (size_t i = kept / 2; i-- > 0;)
        s_sift_down (self, i, self->items[i]);
}

//  Adds an entry to a heap that has room for it.
static int
s_push (deadlines_t *self, int64_t when, uint64_t id)
{
    size_t i = self->size++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (self->items[parent].when <= when)
            break;
        self->items[i] = self->items[parent];
        i = parent;
    }
    self->items[i] = (deadline_t){ when, id };
    return 0;
}

int
deadlines_push (deadlines_t *self, int64_t when, uint64_t id)
{
    if (self->size == self->max) {
        if (self->live)
            s_compact (self);
        //  Grown when more than half is still waiting: the next
        //  compaction is then at least as many pushes away as it costs.
        if (self->size * 2 >= self->max) {
            size_t max = self->max ? self->max * 2 : 64;
            deadline_t *grown = (deadline_t *) realloc (self->items, max * sizeof (deadline_t));
            if (grown) {
                self->items = grown;
                self->max = max;
            } else if (self->size == self->max)
                return -1;
        }
    }
    return s_push (self, when, id);
}

deadline_t *
deadlines_peek (deadlines_t *self)
{
    return self->size ? &self->items[0] : NULL;
}

void
deadlines_pop (deadlines_t *self)
{
    if (!self->size)
        return;
    deadline_t last = self->items[--self->size];
    if (self->size)
        s_sift_down (self, 0, last);
}

int64_t
clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
