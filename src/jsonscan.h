/*  =========================================================================
    jsonscan - allocation-free JSON scanning for the call path

    The hot path of a tool call never builds a JSON tree: a response line
    from a server is scanned for its top-level "id", "result" and "error",
    and the raw "result" text is forwarded as it is. The scanner is strict
    (RFC 8259 grammar), so text that passes it is safe to splice into a
    JSON-RPC line. Pure functions; any thread.
    =========================================================================
*/

#ifndef MCPACT_JSONSCAN_H_INCLUDED
#define MCPACT_JSONSCAN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Skips one JSON value (with leading white space) starting at p. Returns
//  the position after it, or NULL if the text is not valid JSON. `depth`
//  bounds nesting.
const char *jsonscan_value (const char *p, const char *end, int depth);

//  True if [p, end) is exactly one valid JSON value (white space allowed
//  around it).
bool jsonscan_valid (const char *p, const char *end);

//  True if [p, end) is exactly one valid JSON object.
bool jsonscan_is_object (const char *p, const char *end);

//  Finds `key` among the top-level members of the object at [p, end).
//  Sets [*value, *value_end) to the raw value text and returns true;
//  false if absent or the text is not a valid object. Keys with escapes
//  are compared raw (protocol keys have none).
bool jsonscan_member (const char *p, const char *end, const char *key, const char **value,
                      const char **value_end);

//  One pass over the object at [p, end): true if it is exactly one valid
//  JSON object; then for each of the `count` keys, spans[2i] and
//  spans[2i+1] bound its raw value, or are NULL if it is absent. Cheaper
//  than validating and then looking up each key in turn.
bool jsonscan_members (const char *p, const char *end, const char *const *keys, int count,
                       const char **spans);

//  Appends `text` as a quoted JSON string to buf (a growing buffer; see
//  below). Returns 0, or -1 on out of memory.
typedef struct {
    char *data;  //  bytes
    size_t size; //  bytes used
    size_t max;  //  bytes allocated
} jsonbuf_t;

int jsonbuf_append (jsonbuf_t *self, const char *data, size_t size);
int jsonbuf_append_str (jsonbuf_t *self, const char *text);
int jsonbuf_append_quoted (jsonbuf_t *self, const char *text);
void jsonbuf_free (jsonbuf_t *self);

#endif
