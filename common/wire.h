/*  =========================================================================
    wire - the message frames every actor speaks (docs/protocol.md)

    All frames are text, so that a peer in any language can speak them. A
    call goes from the caller straight to the actor that owns the tool:

      CALL call_id tool args_json timeout_ms   ->  RESULT call_id status payload
      CANCEL call_id                           ->  (nothing; the RESULT says cancelled)
      STATUS call_id                           ->  RESULT call_id 0 status_json

    status is the decimal mcpact_status_t; payload is the CallToolResult
    JSON for 0 and 1, else an error object {"message":...,"code"?:...}.
    =========================================================================
*/

#ifndef MCPACT_WIRE_H_INCLUDED
#define MCPACT_WIRE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define WIRE_MAX_PARTS 8

//  One multipart message received without allocation beyond libzmq's.
typedef struct {
    zmq_msg_t parts[WIRE_MAX_PARTS];
    int count; //  parts received (extra parts are dropped)
} wire_msg_t;

//  Receives a whole message; returns its part count, or -1 (EAGAIN if
//  flags has ZMQ_DONTWAIT and nothing is waiting).
int wire_recv (wire_msg_t *self, void *socket, int flags);
void wire_close (wire_msg_t *self);

static inline const char *
wire_data (wire_msg_t *self, int part)
{
    return part < self->count ? (const char *) zmq_msg_data (&self->parts[part]) : "";
}

static inline size_t
wire_size (wire_msg_t *self, int part)
{
    return part < self->count ? zmq_msg_size (&self->parts[part]) : 0;
}

//  True if part equals the text.
int wire_is (wire_msg_t *self, int part, const char *text);

//  Parses a decimal part; returns `fallback` if absent or malformed.
int64_t wire_int (wire_msg_t *self, int part, int64_t fallback);

//  Copies a part as a C string (malloc'ed).
char *wire_strdup (wire_msg_t *self, int part);

//  Sends a reply: [routing id (a part of an incoming message), or none]
//  RESULT call_id status payload. Returns 0 or -1.
int wire_send_result (void *socket, zmq_msg_t *routing_id, uint64_t call_id, int status,
                      const char *payload, size_t size);

//  The same with one more frame after the payload (in-process only: the
//  grant of a lane, see docs/protocol.md).
int wire_send_result_with (void *socket, zmq_msg_t *routing_id, uint64_t call_id, int status,
                           const char *payload, size_t size, const char *extra);

//  Sends a reply with an error payload {"message": text}.
int wire_send_error (void *socket, zmq_msg_t *routing_id, uint64_t call_id, int status,
                     const char *message);

#endif
