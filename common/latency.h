/*  =========================================================================
    latency - call counts by outcome and a latency histogram, per server

    What a server's status says about its calls: how many ended in each
    mcpact_status_t, and how long the server took to answer, in fixed
    log-spaced buckets (exact below 8 µs, then eight per power of two, so
    a bucket is at most 1/8 wider than its low end; 10 minutes and more
    share the top one). Nothing is allocated per call: a call adds one to
    two counters and may raise the maximum.

    Threading: one thread writes a call_stats_t at a time (a server actor
    its own; a lane's, whoever holds the lane, the hand-over being ordered
    by the lane's state), while another may read it for a status: every
    field is a relaxed atomic, so a reader sees each counter whole, if not
    all at one instant. A call_sum_t is a plain value on one thread.
    =========================================================================
*/

#ifndef MCPACT_LATENCY_H_INCLUDED
#define MCPACT_LATENCY_H_INCLUDED

#include <stdatomic.h>
#include <stdint.h>

//  mcpact_status_t values: MCPACT_OK .. MCPACT_ERR_BUSY.
#define CALL_STATUSES 10
//  Buckets from 0 µs up to the one holding LATENCY_TOP_US, which also
//  holds everything longer.
#define LATENCY_TOP_US 600000000LL //  10 minutes
#define LATENCY_BUCKETS 217

typedef struct {
    _Atomic uint64_t results[CALL_STATUSES];   //  calls ended, by status
    _Atomic uint64_t buckets[LATENCY_BUCKETS]; //  answers read, by latency
    _Atomic int64_t max_us;                    //  the longest answer
} call_stats_t;

//  Counts a call ended with `status` (a mcpact_status_t). These two take
//  a NULL `self` (counters that could not be made) as nothing to count.
void call_stats_result (call_stats_t *self, int status);

//  Counts an answer read `us` µs after its request was sent.
void call_stats_latency (call_stats_t *self, int64_t us);

//  Several call_stats_t added up, for a status.
typedef struct {
    uint64_t results[CALL_STATUSES];
    uint64_t buckets[LATENCY_BUCKETS];
    uint64_t answers; //  answers timed
    int64_t max_us;
} call_sum_t;

//  Adds `stats` into `sum` (zeroed by the caller first).
void call_sum_add (call_sum_t *sum, call_stats_t *stats);

//  Calls that ended, in every status.
uint64_t call_sum_results (const call_sum_t *sum);

//  The latency below which a fraction `q` (0 < q <= 1) of the answers
//  came: the top of its bucket, and never above the maximum. 0 with none.
int64_t call_sum_percentile (const call_sum_t *sum, double q);

//  The bucket that holds `us`, and the largest value it holds (tests).
int latency_bucket (int64_t us);
int64_t latency_bucket_top (int bucket);

#endif
