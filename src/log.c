/*  =========================================================================
    log - the runtime's log sink (see log.h)
    =========================================================================
*/

#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static mcpact_log_fn *s_fn;
static void *s_arg;
//  -1 until first use, when $MCPACT_LOG is read.
static atomic_int s_level = -1;

static int
s_level_from_env (void)
{
    const char *env = getenv ("MCPACT_LOG");
    if (!env)
        return MCPACT_LOG_WARN;
    if (strcmp (env, "error") == 0)
        return MCPACT_LOG_ERROR;
    if (strcmp (env, "info") == 0)
        return MCPACT_LOG_INFO;
    if (strcmp (env, "debug") == 0)
        return MCPACT_LOG_DEBUG;
    return MCPACT_LOG_WARN;
}

void
mcpact_set_log (mcpact_log_fn *fn, void *arg, mcpact_log_level_t level)
{
    pthread_mutex_lock (&s_lock);
    s_fn = fn;
    s_arg = arg;
    pthread_mutex_unlock (&s_lock);
    atomic_store (&s_level, (int) level);
}

bool
log_enabled (mcpact_log_level_t level)
{
    int current = atomic_load_explicit (&s_level, memory_order_relaxed);
    if (current < 0) {
        current = s_level_from_env ();
        atomic_store (&s_level, current);
    }
    return (int) level <= current;
}

void
log_msg (mcpact_log_level_t level, const char *format, ...)
{
    if (!log_enabled (level))
        return;
    char line[2048];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);

    pthread_mutex_lock (&s_lock);
    if (s_fn)
        s_fn (level, line, s_arg);
    else {
        static const char *names[] = { "error", "warn", "info", "debug" };
        fprintf (stderr, "mcpact %s: %s\n", names[level], line);
    }
    pthread_mutex_unlock (&s_lock);
}
