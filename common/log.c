/*  =========================================================================
    log - the runtime's log sink (see log.h)
    =========================================================================
*/

#include "log.h"

#include "jsonscan.h"

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

//  Lines quote what servers and peers sent: keep them to one line of
//  valid UTF-8, whatever those bytes were, so that no terminal or log
//  reader is fed control sequences. `out` holds 3 bytes per input byte.
static void
s_printable (const char *line, char *out)
{
    const char *end = line + strlen (line);
    for (const char *p = line; p < end;) {
        unsigned char c = (unsigned char) *p;
        if (c >= 0x80) {
            size_t length = jsonscan_utf8_length (p, end);
            if (length) {
                memcpy (out, p, length);
                out += length, p += length;
            } else {
                memcpy (out, "\xef\xbf\xbd", 3);
                out += 3, p++;
            }
            continue;
        }
        if (c == '\n' || c == '\r') {
            *out++ = '\\';
            *out++ = c == '\n' ? 'n' : 'r';
        } else
            *out++ = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char) c;
        p++;
    }
    *out = 0;
}

void
log_msg (mcpact_log_level_t level, const char *format, ...)
{
    if (!log_enabled (level))
        return;
    char text[2048], line[3 * sizeof text];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    s_printable (text, line);

    pthread_mutex_lock (&s_lock);
    if (s_fn)
        s_fn (level, line, s_arg);
    else {
        static const char *names[] = { "error", "warn", "info", "debug" };
        fprintf (stderr, "mcpact %s: %s\n", names[level], line);
    }
    pthread_mutex_unlock (&s_lock);
}
