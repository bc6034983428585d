/*  =========================================================================
    jsonnum - numbers as people and servers should read them

    jansson writes a real with 17 significant digits (JSON_REAL_PRECISION's
    default), enough to read back but 3.14 comes out 3.1400000000000001,
    in what a user sees and in what a server gets and may show. These
    write the shortest text that reads back as the same double instead.
    Pure functions; any thread.
    =========================================================================
*/

#ifndef MCPACT_JSONNUM_H_INCLUDED
#define MCPACT_JSONNUM_H_INCLUDED

#include <jansson.h>
#include <stddef.h>

//  `number` as the shortest text that reads back as the same double
//  (3.14; 10, not 1e+01), into text[size].
void jsonnum_text (double number, char *text, size_t size);

//  json_dumps (value, flags) with every real in its shortest exact form:
//  the precision is the least that gives each real back. Caller frees.
char *jsonnum_dumps (const json_t *value, size_t flags);

#endif
