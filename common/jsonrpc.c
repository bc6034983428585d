/*  =========================================================================
    jsonrpc - reading what a server sends: JSON-RPC 2.0 messages (see .h)
    =========================================================================
*/

#include "jsonrpc.h"

#include "jsonscan.h"
#include "mcpact.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  How much of each end of a message the id is looked for in.
#define JSONRPC_EDGE 512

static const char *s_members (const char *p, const char *end, const char **id, const char **id_end,
                              bool *method);

//  Tells fn what the message at [text, size) is. With `recover`, a message
//  that cannot be read but answers a call is followed by an error answer.
static void
s_classify (const char *text, size_t size, jsonrpc_fn *fn, void *arg, bool recover)
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
    if (recover && msg.kind == JSONRPC_INVALID && size > 0 && text[0] == '{') {
        //  An answer that cannot be read (not valid JSON, or nested deeper
        //  than any reader goes) still ends its call, now.
        size_t edge = size < JSONRPC_EDGE ? size : JSONRPC_EDGE;
        char *answer = jsonrpc_answer_from_edges (
            text, edge, text + size - edge, edge,
            "the server's answer could not be read: it is not valid JSON, or it nests deeper "
            "than 1024 levels");
        if (answer)
            s_classify (answer, strlen (answer), fn, arg, false);
        free (answer);
    }
}

typedef struct {
    jsonrpc_fn *fn;
    void *arg;
} s_batch_t;

static void
s_member (void *arg, const char *text, size_t size)
{
    s_batch_t *batch = (s_batch_t *) arg;
    s_classify (text, size, batch->fn, batch->arg, true);
}

void
jsonrpc_read (const char *text, size_t size, jsonrpc_fn *fn, void *arg)
{
    const char *end = text + size;
    //  White space around a message is allowed, and a byte order mark
    //  (some runtimes write one before their first line).
    if (size >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0)
        text += 3;
    text = jsonscan_ws (text, end);
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
        s_classify (text, size, fn, arg, true);
    free (repaired);
}

bool
jsonrpc_method_is (const jsonrpc_msg_t *msg, const char *name)
{
    size_t size = strlen (name);
    return msg->method && (size_t) (msg->method_end - msg->method) == size + 2 &&
           memcmp (msg->method + 1, name, size) == 0;
}

//  --------------------------------------------------------------------------
//  Dropped messages

static bool
s_key (const char *key, const char *key_end, const char *name)
{
    size_t size = strlen (name);
    return (size_t) (key_end - key) == size + 2 && memcmp (key + 1, name, size) == 0;
}

//  Reads members "key": value from p on, as far as they are whole: notes
//  where "id" is and whether there is a "method". Returns where it
//  stopped: at the object's end ('}'), or where the text was cut.
static const char *
s_members (const char *p, const char *end, const char **id, const char **id_end, bool *method)
{
    while (true) {
        p = jsonscan_ws (p, end);
        const char *key = p;
        const char *key_end = p < end && *p == '"' ? jsonscan_value (p, end, 1) : NULL;
        if (!key_end)
            return p;
        p = jsonscan_ws (key_end, end);
        if (p >= end || *p != ':')
            return p;
        const char *value = jsonscan_ws (p + 1, end);
        const char *value_end = jsonscan_value (value, end, JSONSCAN_MAX_DEPTH);
        if (!value_end || value_end == end)
            return value; //  cut (a number at the cut may be cut short)
        if (s_key (key, key_end, "id"))
            *id = value, *id_end = value_end;
        else if (s_key (key, key_end, "method"))
            *method = true;
        p = jsonscan_ws (value_end, end);
        if (p >= end || *p != ',')
            return p;
        p++;
    }
}

char *
jsonrpc_answer_from_edges (const char *head, size_t head_size, const char *tail, size_t tail_size,
                           const char *reason)
{
    const char *id = NULL, *id_end = NULL;
    bool method = false;
    //  The head: members from the start, up to the cut.
    const char *p = jsonscan_ws (head, head + head_size);
    if (p < head + head_size && *p == '{')
        s_members (p + 1, head + head_size, &id, &id_end, &method);
    //  The tail: the first key from which whole members run to the end of
    //  the object, where the text ends (so they are top-level members,
    //  not members of something nested); quotes inside strings are
    //  escaped, so no string's contents can pass for that.
    const char *end = tail + tail_size;
    for (const char *at = tail; at < end; at++) {
        if (*at != '"' || (at > tail && at[-1] == '\\'))
            continue;
        const char *found = NULL, *found_end = NULL;
        bool found_method = false;
        const char *stop = s_members (at, end, &found, &found_end, &found_method);
        if (stop < end && *stop == '}' && jsonscan_ws (stop + 1, end) == end) {
            if (!id)
                id = found, id_end = found_end;
            method |= found_method;
            break;
        }
    }
    //  Only an id that can be one of ours ends a call: anything else would
    //  be answered for nothing (and, from text that is not JSON, may not
    //  even read as JSON).
    uint64_t ours;
    if (!id || method || !jsonscan_id (id, id_end, &ours))
        return NULL;
    jsonbuf_t answer = { 0 };
    if (jsonbuf_append_str (&answer, "{\"jsonrpc\":\"2.0\",\"id\":") ||
        jsonbuf_append (&answer, id, (size_t) (id_end - id)) ||
        jsonbuf_append_str (&answer, ",\"error\":{\"message\":") ||
        jsonbuf_append_quoted (&answer, reason) || jsonbuf_append_str (&answer, "}}")) {
        jsonbuf_free (&answer);
        return NULL;
    }
    return answer.data;
}

int
jsonrpc_call_request (jsonbuf_t *line, uint64_t rpc_id, const char *tool, const char *args,
                      size_t args_size, bool progress)
{
    line->size = 0;
    char head[96];
    int head_size = snprintf (head, sizeof head,
                              "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64
                              ",\"method\":\"tools/call\",\"params\":{\"name\":",
                              rpc_id);
    if (jsonbuf_append (line, head, (size_t) head_size) || jsonbuf_append_quoted (line, tool))
        return -1;
    if (progress) {
        //  The token is our request id: unique while the call lives.
        head_size =
            snprintf (head, sizeof head, ",\"_meta\":{\"progressToken\":%" PRIu64 "}", rpc_id);
        if (jsonbuf_append (line, head, (size_t) head_size))
            return -1;
    }
    if (jsonbuf_append (line, ",\"arguments\":", 13))
        return -1;
    size_t args_at = line->size;
    if (jsonbuf_append (line, args, args_size) || jsonbuf_append (line, "}}", 2))
        return -1;
    for (size_t i = args_at; i < args_at + args_size; i++)
        if (line->data[i] == '\n' || line->data[i] == '\r')
            line->data[i] = ' ';
    return 0;
}

int
jsonrpc_call_outcome (const jsonrpc_msg_t *msg, const char **payload, size_t *size)
{
    if (msg->result) {
        const char *value, *value_end;
        *payload = msg->result;
        *size = (size_t) (msg->result_end - msg->result);
        if (!jsonscan_member (msg->result, msg->result_end, "content", &value, &value_end))
            return MCPACT_ERR_TOOL; //  no content is a tool error, as the reference has it
        if (*value != '[')
            return MCPACT_ERR_PROTOCOL;
        const char *p = value + 1;
        while (p < value_end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            p++;
        if (*p == ']')
            return MCPACT_ERR_TOOL;
        if (jsonscan_member (msg->result, msg->result_end, "isError", &value, &value_end) &&
            value_end - value == 4 && memcmp (value, "true", 4) == 0)
            return MCPACT_ERR_TOOL;
        return MCPACT_OK;
    }
    if (msg->error) {
        *payload = msg->error;
        *size = (size_t) (msg->error_end - msg->error);
        return MCPACT_ERR_PROTOCOL;
    }
    return -1;
}
