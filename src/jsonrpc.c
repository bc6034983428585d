/*  =========================================================================
    jsonrpc - reading what a server sends: JSON-RPC 2.0 messages (see .h)
    =========================================================================
*/

#include "jsonrpc.h"

#include "jsonscan.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void
s_classify (const char *text, size_t size, jsonrpc_fn *fn, void *arg)
{
    //  One pass: valid object, and where its id, method, result and error are
    static const char *const keys[] = { "id", "method", "result", "error" };
    const char *spans[8];
    jsonrpc_msg_t msg = { .kind = JSONRPC_INVALID, .text = text, .size = size };
    if (size > 0 && text[0] == '{' && jsonscan_members (text, text + size, keys, 4, spans)) {
        msg.id = spans[0], msg.id_end = spans[1];
        msg.method = spans[2], msg.method_end = spans[3];
        msg.result = spans[4], msg.result_end = spans[5];
        msg.error = spans[6], msg.error_end = spans[7];
        if (msg.method && *msg.method != '"')
            msg.kind = JSONRPC_INVALID; //  a method must be a string
        else if (msg.method)
            msg.kind = msg.id ? JSONRPC_REQUEST : JSONRPC_NOTIFICATION;
        else
            msg.kind = msg.id ? JSONRPC_RESPONSE : JSONRPC_EMPTY;
    }
    fn (arg, &msg);
}

typedef struct {
    jsonrpc_fn *fn;
    void *arg;
} s_batch_t;

static void
s_member (void *arg, const char *text, size_t size)
{
    s_batch_t *batch = (s_batch_t *) arg;
    s_classify (text, size, batch->fn, batch->arg);
}

void
jsonrpc_read (const char *text, size_t size, jsonrpc_fn *fn, void *arg)
{
    const char *end = text + size;
    //  White space around a message is allowed, and a byte order mark
    //  (some runtimes write one before their first line).
    if (size >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0)
        text += 3;
    while (text < end && (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n'))
        text++;
    while (end > text && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        end--;
    size = (size_t) (end - text);
    //  Valid JSON that jansson (and the host's own reader) would refuse is
    //  made readable here, once, so that whatever reads it later can.
    size_t repaired_size;
    char *repaired = jsonscan_repair (text, end, &repaired_size);
    if (repaired)
        text = repaired, size = repaired_size;
    s_batch_t batch = { fn, arg };
    if (size == 0 || text[0] != '[' || jsonscan_each (text, text + size, s_member, &batch) < 0)
        s_classify (text, size, fn, arg);
    free (repaired);
}

bool
jsonrpc_method_is (const jsonrpc_msg_t *msg, const char *name)
{
    size_t size = strlen (name);
    return msg->method && (size_t) (msg->method_end - msg->method) == size + 2 &&
           memcmp (msg->method + 1, name, size) == 0;
}
