/*  =========================================================================
    jsonscan - allocation-free JSON scanning for the call path

    The hot path of a tool call never builds a JSON tree: a response line
    from a server is scanned for its top-level "id", "result" and "error",
    and the raw "result" text is forwarded as it is. The scanner is strict
    (RFC 8259 grammar), so text that passes it is safe to splice into a
    JSON-RPC line. What a server sends that is JSON but that a strict
    reader would refuse (lone surrogates, bytes that are not UTF-8, huge
    numbers) is made readable once, where it enters (jsonscan_repair).
    Pure functions; any thread.
    =========================================================================
*/

#ifndef MCPACT_JSONSCAN_H_INCLUDED
#define MCPACT_JSONSCAN_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Skips JSON white space: the first position at or after p that is not.
const char *jsonscan_ws (const char *p, const char *end);

//  How deep values may nest: far beyond what real documents do, within
//  what jansson reads (2048), and shallow enough that jansson's recursive
//  parse and dump of the deepest document take under half of an actor's
//  stack (measured: 1020 levels fit in 384 KiB; actors have 1 MiB).
#define JSONSCAN_MAX_DEPTH 1024

//  Skips one JSON value (with leading white space) starting at p. Returns
//  the position after it, or NULL if the text is not valid JSON. `depth`
//  bounds nesting.
const char *jsonscan_value (const char *p, const char *end, int depth);

//  True if [p, end) is exactly one valid JSON value (white space allowed
//  around it).
bool jsonscan_valid (const char *p, const char *end);

//  True if [p, end) is exactly one valid JSON object.
bool jsonscan_is_object (const char *p, const char *end);

//  What is wrong with [p, end) as a tool's arguments, for "the arguments
//  of TOOL ...": NULL when it is one JSON object of UTF-8 text with no
//  \u0000 in its strings. Invalid UTF-8 and \u0000 are refused rather
//  than passed on: a server's JSON reader refuses them (jansson without
//  JSON_ALLOW_NUL, for one) and drops the line, and the call would wait
//  for its timeout.
const char *jsonscan_args_problem (const char *p, const char *end);

//  Finds `key` among the top-level members of the object at [p, end); of
//  duplicate keys the last counts, as in jansson and JavaScript.
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

//  Calls fn with the raw text of each element of the JSON array at
//  [p, end). Returns the number of elements, or -1 (fn never called) if
//  the text is not exactly one valid array.
typedef void (jsonscan_fn) (void *arg, const char *value, size_t size);
int jsonscan_each (const char *p, const char *end, jsonscan_fn *fn, void *arg);

//  Reads a JSON-RPC id at [p, end) that may be one we sent: an integer in
//  0 .. 2^63-1 (what jansson reads; ours stay far below), or the same
//  digits as a string ("7" for 7: both official SDK clients accept that
//  form). False for anything else -- another string, a fraction, a sign,
//  leading zeros, or a larger number, which must never wrap onto ours.
bool jsonscan_id (const char *p, const char *end, uint64_t *id);

//  Valid JSON that strict readers (jansson among them) still refuse, made
//  readable. RFC 8259 allows any escape and any number; a server also
//  sends what its language's strings hold. Replaced: bytes that are not
//  UTF-8 (each maximal invalid sequence) and \u escapes of lone UTF-16
//  surrogates, by U+FFFD; \u0000, which no C string can carry, by U+FFFD
//  as well; an integer beyond 64 bits by the nearest double, and a number
//  beyond a double's range by +/-1.7976931348623157e308. Returns a
//  malloc'ed copy of [p, end) with these replaced and sets *size, or NULL
//  when there is nothing to replace (the common case: no allocation) or
//  on out of memory. Text that is not JSON is copied as it is.
char *jsonscan_repair (const char *p, const char *end, size_t *size);

//  Length (2..4) of the valid UTF-8 sequence of a character beyond ASCII
//  at p, or 0 if the bytes there are not one.
size_t jsonscan_utf8_length (const char *p, const char *end);

//  Bytes from outside (a server's stderr, an HTTP error body) as text that
//  JSON and C strings can carry: a malloc'ed copy, NUL-terminated, where
//  each NUL and each maximal sequence that is not UTF-8 is U+FFFD. NULL on
//  out of memory.
char *jsonscan_text (const char *bytes, size_t size);

//  What a JSON value is, for messages: "an object", "a string", "null", ...
const char *jsonscan_kind (json_t *value);

//  json_loadb for text a server sent: when jansson refuses it, tries
//  again once repaired (jsonscan_repair). Returns a new reference or NULL
//  with *error set, as json_loadb does.
json_t *jsonscan_load (const char *text, size_t size, size_t flags, json_error_t *error);

//  Appends `text` as a quoted JSON string to buf (a growing buffer; see
//  below). Returns 0, or -1 on out of memory.
typedef struct {
    char *data;  //  bytes
    size_t size; //  bytes used
    size_t max;  //  bytes allocated
} jsonbuf_t;

int jsonbuf_append (jsonbuf_t *self, const char *data, size_t size);
int jsonbuf_append_str (jsonbuf_t *self, const char *text);
//  Quotes `text` as a JSON string; bytes that are not UTF-8 become U+FFFD.
int jsonbuf_append_quoted (jsonbuf_t *self, const char *text);
void jsonbuf_free (jsonbuf_t *self);

#endif
