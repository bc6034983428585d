/*  =========================================================================
    text - formatted strings on the heap (see text.h). Pure; any thread.
    =========================================================================
*/

#include "jsonscan.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

const char *
text_cut (const char *text, size_t max, char *out, size_t out_size)
{
    if (out_size == 0)
        return out;
    if (max > out_size - 1)
        max = out_size - 1;
    const char *end = text + strlen (text);
    size_t used = 0;
    const char *p = text;
    while (p < end) {
        size_t length = (unsigned char) *p < 0x80 ? 1 : jsonscan_utf8_length (p, end);
        const char *bytes = length ? p : "\xef\xbf\xbd";
        size_t size = length ? length : 3;
        if (used + size > max)
            break;
        memcpy (out + used, bytes, size);
        used += size;
        p += length ? length : 1;
    }
    if (p < end) {
        //  Cut: make room for "..." at a character boundary.
        while (used > 0 && used + 3 > max) {
            used--;
            while (used > 0 && ((unsigned char) out[used] & 0xC0) == 0x80)
                used--;
        }
        if (used + 3 <= max) {
            memcpy (out + used, "...", 3);
            used += 3;
        }
    }
    out[used] = 0;
    return out;
}

bool
text_is_utf8 (const char *text, size_t size)
{
    const char *end = text + size;
    for (const char *p = text; p < end;) {
        if (*p == 0)
            return false;
        size_t length = (unsigned char) *p < 0x80 ? 1 : jsonscan_utf8_length (p, end);
        if (!length)
            return false;
        p += length;
    }
    return true;
}
