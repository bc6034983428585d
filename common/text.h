/*  =========================================================================
    text - formatted strings on the heap

    One printf into a string of exactly the size it needs, for messages
    and URLs built from parts. Pure; any thread.
    =========================================================================
*/

#ifndef MCPACT_TEXT_H_INCLUDED
#define MCPACT_TEXT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  printf's `format` and arguments into a malloc'ed string; NULL without
//  memory. Caller frees.
char *text_format (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  Outside text (a name, a tool, arguments) cut for a message: copies at
//  most `max` bytes of `text` into `out` (of `out_size` bytes, NUL-ended)
//  without splitting a character, each byte that is not UTF-8 as U+FFFD,
//  and "..." when something was cut. `%.40s` would cut a character in
//  half, and a message that is not UTF-8 cannot go into JSON. Returns out.
const char *text_cut (const char *text, size_t max, char *out, size_t out_size);

//  text_cut into a buffer of the enclosing block, for a printf argument:
//  printf ("unknown format '%s'", TEXT_CUT (name, 40)). `max` a constant.
#define TEXT_CUT(text, max) text_cut ((text), (max), (char[(max) + 1]){ 0 }, (max) + 1)

//  Whether [text, text + size) is UTF-8 without NUL: what a text frame or
//  JSON string from outside must be before it goes anywhere.
bool text_is_utf8 (const char *text, size_t size);

#endif
