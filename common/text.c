/*  =========================================================================
    text - formatted strings on the heap (see text.h). Pure; any thread.
    =========================================================================
*/


#include <stdarg.h>
#include <stdio.h>

char *
text_format (const char *format, ...)
{
    char *text = NULL;
    va_list args;
    va_start (args, format);
    if (vasprintf (&text, format, args) < 0)
        text = NULL;
    va_end (args);
    return text;
}
