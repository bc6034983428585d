/*  =========================================================================
    jsonrpc - reading what a server sends: JSON-RPC 2.0 messages

    One unit of input (a line of stdio, an HTTP body, an SSE event's data)
    holds one message or a batch of them (a JSON array; the 2025-03-26
    revision of MCP allowed batches). jsonrpc_read trims it, makes valid
    but unusual JSON readable (jsonscan_repair), unpacks a batch and tells
    what each message is, with the raw spans of its id, method, result and
    error: the call path forwards a result as it came, without a parse.
    Whatever jsonrpc_read hands on as a message is also readable by
    jansson. Pure functions; any thread.
    =========================================================================
*/

#ifndef MCPACT_JSONRPC_H_INCLUDED
#define MCPACT_JSONRPC_H_INCLUDED

#include "jsonscan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    JSONRPC_INVALID,      //  not a JSON-RPC message (not JSON, not an object)
    JSONRPC_REQUEST,      //  method and id: the server asks us
    JSONRPC_NOTIFICATION, //  method, no id
    JSONRPC_RESPONSE,     //  id, result or error, no method
    JSONRPC_EMPTY         //  an object with neither id nor method
} jsonrpc_kind_t;

//  One message. Spans are raw JSON text inside `text`; NULL when absent.
typedef struct {
    jsonrpc_kind_t kind;
    const char *text;        //  the message (or, if INVALID, what came)
    size_t size;             //  its bytes
    const char *id, *id_end; //  "id" value
    const char *method;      //  "method" value (a JSON string, quoted)
    const char *method_end;  //  end of it
    const char *result;      //  "result" value
    const char *result_end;  //  end of it
    const char *error;       //  "error" value
    const char *error_end;   //  end of it
} jsonrpc_msg_t;

//  Receives each message; `msg` and its text are valid during the call.
typedef void (jsonrpc_fn) (void *arg, const jsonrpc_msg_t *msg);

//  Reads one unit of input [text, text + size) and calls fn for each
//  message in it, in order: once for a single message, once per member
//  of a batch, once with JSONRPC_INVALID for input that is neither.
void jsonrpc_read (const char *text, size_t size, jsonrpc_fn *fn, void *arg);

//  True if the method span of `msg` is `name`.
bool jsonrpc_method_is (const jsonrpc_msg_t *msg, const char *name);

//  Writes the tools/call request (MCP 2025-11-25, "Calling Tools") with
//  JSON-RPC id `rpc_id` into `line`, from its start: the tool's name, the
//  arguments as they are (a JSON object's text; line breaks in it, white
//  space in valid JSON, are made blanks so that the request is one line),
//  and, with `progress`, `_meta.progressToken` = rpc_id. 0, or -1 out of
//  memory.
int jsonrpc_call_request (jsonbuf_t *line, uint64_t rpc_id, const char *tool, const char *args,
                          size_t args_size, bool progress);

//  What a response to tools/call says, as an mcpact_status_t, with
//  *payload the raw result: 0 (ok); 1 (a tool error: "isError" is true, or
//  the result has no content, which the reference treats as one); 5 (its
//  "content" is not an array). For a JSON-RPC error: 5, with *payload the
//  raw error object. -1 if it has neither result nor error.
int jsonrpc_call_outcome (const jsonrpc_msg_t *msg, const char **payload, size_t *size);

//  A message that cannot be taken (too large, or unreadable) is dropped,
//  but the call it answers must still end: from the first and last bytes
//  of its text, finds the id of the response it was (its top-level "id",
//  before the cut in the head or after it in the tail, as SDKs write it
//  either first or last). Returns a malloc'ed error response for that
//  id, {"jsonrpc", "id", "error": {"message": reason}}; NULL if no id
//  that can be ours (jsonscan_id) is found, or the text was a request. jsonrpc_read does this
//  itself for a message it cannot read.
char *jsonrpc_answer_from_edges (const char *head, size_t head_size, const char *tail,
                                 size_t tail_size, const char *reason);

#endif
