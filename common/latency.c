/*  =========================================================================
    latency - call counts by outcome and a latency histogram (see .h)
    =========================================================================
*/

#include "latency.h"

int
latency_bucket (int64_t us)
{
    if (us < 8)
        return us < 0 ? 0 : (int) us;
    if (us > LATENCY_TOP_US)
        us = LATENCY_TOP_US;
    //  The power of two, and the top three bits below the leading one.
    int power = 63 - __builtin_clzll ((unsigned long long) us);
    int eighth = (int) (us >> (power - 3)) - 8;
    return 8 + (power - 3) * 8 + eighth;
}

int64_t
latency_bucket_top (int bucket)
{
    if (bucket < 8)
        return bucket;
    int power = (bucket - 8) / 8 + 3;
    int eighth = (bucket - 8) % 8;
    return ((int64_t) (9 + eighth) << (power - 3)) - 1;
}

void
call_stats_result (call_stats_t *self, int status)
{
    if (self && status >= 0 && status < CALL_STATUSES)
        atomic_fetch_add_explicit (&self->results[status], 1, memory_order_relaxed);
}

void
call_stats_latency (call_stats_t *self, int64_t us)
{
    if (!self)
        return;
    atomic_fetch_add_explicit (&self->buckets[latency_bucket (us)], 1, memory_order_relaxed);
    //  One writer at a time: a load and, rarely, a store.
    if (us > atomic_load_explicit (&self->max_us, memory_order_relaxed))
        atomic_store_explicit (&self->max_us, us, memory_order_relaxed);
}

void
call_sum_add (call_sum_t *sum, call_stats_t *stats)
{
    for (int i = 0; i < CALL_STATUSES; i++)
        sum->results[i] += atomic_load_explicit (&stats->results[i], memory_order_relaxed);
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        uint64_t count = atomic_load_explicit (&stats->buckets[i], memory_order_relaxed);
        sum->buckets[i] += count;
        sum->answers += count;
    }
    int64_t max_us = atomic_load_explicit (&stats->max_us, memory_order_relaxed);
    if (max_us > sum->max_us)
        sum->max_us = max_us;
}

uint64_t
call_sum_results (const call_sum_t *sum)
{
    uint64_t total = 0;
    for (int i = 0; i < CALL_STATUSES; i++)
        total += sum->results[i];
    return total;
}

int64_t
call_sum_percentile (const call_sum_t *sum, double q)
{
    if (sum->answers == 0)
        return 0;
    //  The rank of the answer wanted, 1-based: the nearest-rank method.
    uint64_t rank = (uint64_t) (q * (double) sum->answers);
    if ((double) rank < q * (double) sum->answers)
        rank++;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        seen += sum->buckets[i];
        if (seen >= rank) {
            int64_t top = latency_bucket_top (i);
            return top < sum->max_us ? top : sum->max_us;
        }
    }
    return sum->max_us;
}
