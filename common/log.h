/*  =========================================================================
    log - the runtime's log sink

    One process-wide sink and level, set by mcpact_set_log. Safe from any
    thread: the sink is read under a lock, and each line is formatted
    before it is handed over, so lines from different threads never mix.
    =========================================================================
*/

#ifndef MCPACT_LOG_H_INCLUDED
#define MCPACT_LOG_H_INCLUDED

#include "mcpact.h"

//  True if a line at `level` would be emitted (skip formatting otherwise).
bool log_enabled (mcpact_log_level_t level);

void log_msg (mcpact_log_level_t level, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Lines are made printable before the sink sees them: control characters
//  become ? (line breaks are written \n and \r), bytes that are not
//  UTF-8 become U+FFFD.

//  For quoting a buffer that is not NUL-terminated (what a server sent):
//  log_x ("... %.*s%s", LOG_CUT (size, 80), text, size > 80 ? "..." : "").
#define LOG_CUT(size, max) ((int) ((size) < (max) ? (size) : (max)))

#define log_error(...) log_msg (MCPACT_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)                                                                              \
    do {                                                                                           \
        if (log_enabled (MCPACT_LOG_WARN))                                                         \
            log_msg (MCPACT_LOG_WARN, __VA_ARGS__);                                                \
    } while (0)
#define log_info(...)                                                                              \
    do {                                                                                           \
        if (log_enabled (MCPACT_LOG_INFO))                                                         \
            log_msg (MCPACT_LOG_INFO, __VA_ARGS__);                                                \
    } while (0)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled (MCPACT_LOG_DEBUG))                                                        \
            log_msg (MCPACT_LOG_DEBUG, __VA_ARGS__);                                               \
    } while (0)

#endif
