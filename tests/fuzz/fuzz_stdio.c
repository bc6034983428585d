/*  =========================================================================
    fuzz_stdio - libFuzzer target: what a stdio server writes, as read

    The input is a server's stdout, cut into reads of sizes chosen by its
    first bytes: line framing (linebuf, with a small limit so that
    oversized lines are exercised too), then jsonrpc_read on each line
    (repair, batches, classification), as the server actor reads it. What
    must hold: no line holds a newline or exceeds the limit; every message
    handed on is readable by jansson as it is, and jansson agrees on what
    it is (request, notification, response); a response's result span is
    itself a JSON value; the log line quoting what is not JSON-RPC stays
    within its buffer. Seeds: tests/fuzz/corpus/fuzz_stdio.
    =========================================================================
*/

#include "jsonrpc.h"
#include "jsonscan.h"
#include "linebuf.h"
#include "log.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 4096

static void
s_check_message (void *arg, const jsonrpc_msg_t *msg)
{
    if (msg->kind == JSONRPC_INVALID) {
        log_debug ("skipped a message that is not JSON-RPC: %.*s%s", LOG_CUT (msg->size, 80),
                   msg->text, msg->size > 80 ? "..." : "");
        return;
    }
    json_error_t error;
    json_t *json = json_loadb (msg->text, msg->size, 0, &error);
    if (!json)
        abort (); //  a message jansson cannot read went on
    json_t *id = json_object_get (json, "id");
    json_t *method = json_object_get (json, "method");
    switch (msg->kind) {
    case JSONRPC_REQUEST:
        if (!json_is_string (method) || !id)
            abort ();
        break;
    case JSONRPC_NOTIFICATION:
        if (!json_is_string (method) || id)
            abort ();
        break;
    case JSONRPC_RESPONSE:
        if (method || !id)
            abort ();
        break;
    default:
        if (method || id)
            abort ();
    }
    if (msg->result && !jsonscan_valid (msg->result, msg->result_end))
        abort ();
    uint64_t ours;
    if (msg->id && jsonscan_id (msg->id, msg->id_end, &ours) && !json_is_integer (id) &&
        !json_is_string (id))
        abort (); //  only integers and their string form are ever ours
    json_decref (json);
}

static void
s_on_line (void *arg, const char *line, size_t size)
{
    if (size > LIMIT || memchr (line, '\n', size))
        abort ();
    jsonrpc_read (line, size, s_check_message, NULL);
}

static void
s_quiet (mcpact_log_level_t level, const char *message, void *arg)
{
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    mcpact_set_log (s_quiet, NULL, MCPACT_LOG_DEBUG);
    //  The first byte seeds the read sizes: 1 to 64 bytes, or whole.
    unsigned seed = size ? data[0] : 0;
    const char *text = (const char *) data + (size ? 1 : 0);
    size_t left = size ? size - 1 : 0;
    linebuf_t lines;
    linebuf_init (&lines, LIMIT);
    while (left > 0) {
        size_t chunk = seed ? 1 + seed % 64 : left;
        seed = seed * 1103515245u + 12345u;
        if (chunk > left)
            chunk = left;
        if (linebuf_feed (&lines, text, chunk, s_on_line, NULL))
            abort ();
        text += chunk;
        left -= chunk;
    }
    linebuf_free (&lines);
    return 0;
}
