/*  =========================================================================
    text - formatted strings on the heap

    One printf into a string of exactly the size it needs, for messages
    and URLs built from parts. Pure; any thread.
    =========================================================================
*/

#ifndef MCPACT_TEXT_H_INCLUDED
#define MCPACT_TEXT_H_INCLUDED

//  printf's `format` and arguments into a malloc'ed string; NULL without
//  memory. Caller frees.
char *text_format (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

#endif
