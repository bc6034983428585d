/*  =========================================================================
    idmap - a map from 64-bit ids to pointers, and a heap of deadlines

    The tables of calls in flight: keyed by request id, looked up once per
    response, with no allocation per entry beyond growth. The deadline heap
    finds the nearest timeout without scanning every call; entries for
    calls that finished are skipped lazily, and dropped when the heap
    would grow (deadlines_watch): a call that is answered at once would
    otherwise keep its entry until its timeout, and the heap would hold
    every call of the last timeout (30 s by default, up to 10 minutes),
    not the calls in flight. One owner thread each.
    =========================================================================
*/

#ifndef MCPACT_IDMAP_H_INCLUDED
#define MCPACT_IDMAP_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *keys; //  0 = empty slot (ids start at 1)
    void **values;  //  value per slot
    size_t size;    //  entries held
    size_t max;     //  slots (a power of two)
} idmap_t;

void idmap_init (idmap_t *self);
void idmap_free (idmap_t *self);
//  Inserts or replaces; id must not be 0. Returns 0 or -1 (no memory).
int idmap_put (idmap_t *self, uint64_t id, void *value);
void *idmap_get (idmap_t *self, uint64_t id);
//  Removes and returns the value, or NULL.
void *idmap_take (idmap_t *self, uint64_t id);
//  Calls fn for every entry (the map must not change meanwhile).
void idmap_each (idmap_t *self, void (*fn) (uint64_t id, void *value, void *arg), void *arg);

typedef struct {
    int64_t when; //  deadline, ms on the monotonic clock
    uint64_t id;  //  whose deadline
} deadline_t;

typedef struct {
    deadline_t *items; //  binary min-heap on `when`
    size_t size;       //  items held
    size_t max;        //  items allocated
    idmap_t *live;     //  ids still waiting (deadlines_watch), or NULL
} deadlines_t;

void deadlines_init (deadlines_t *self);
//  An entry whose id `live` no longer holds is over: such entries are
//  dropped when the heap is full, before it grows, so that it stays in
//  proportion to the ids in `live` (not owned; it must outlive the heap's
//  pushes). Call again after each deadlines_init.
void deadlines_watch (deadlines_t *self, idmap_t *live);
void deadlines_free (deadlines_t *self);
int deadlines_push (deadlines_t *self, int64_t when, uint64_t id);
//  The earliest item, or NULL if empty.
deadline_t *deadlines_peek (deadlines_t *self);
void deadlines_pop (deadlines_t *self);

//  Monotonic clock in ms and µs.
int64_t clock_ms (void);
int64_t clock_us (void);

#endif
