/*  =========================================================================
    wire - the message frames every actor speaks (see wire.h)
    =========================================================================
*/

#include "wire.h"

#include "jsonscan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
wire_recv (wire_msg_t *self, void *socket, int flags)
{
    self->count = 0;
    while (true) {
        zmq_msg_t scratch;
        zmq_msg_t *part = self->count < WIRE_MAX_PARTS ? &self->parts[self->count] : &scratch;
        zmq_msg_init (part);
        if (zmq_msg_recv (part, socket, self->count ? 0 : flags) < 0) {
            int error = errno;
            zmq_msg_close (part);
            wire_close (self);
            errno = error;
            return -1;
        }
        int more = zmq_msg_more (part);
        if (part == &scratch)
            zmq_msg_close (part);
        else
            self->count++;
        if (!more)
            return self->count;
    }
}

void
wire_close (wire_msg_t *self)
{
    for (int i = 0; i < self->count; i++)
        zmq_msg_close (&self->parts[i]);
    self->count = 0;
}

int
wire_is (wire_msg_t *self, int part, const char *text)
{
    size_t size = strlen (text);
    return wire_size (self, part) == size && memcmp (wire_data (self, part), text, size) == 0;
}

int64_t
wire_int (wire_msg_t *self, int part, int64_t fallback)
{
    size_t size = wire_size (self, part);
    const char *data = wire_data (self, part);
    if (size == 0 || size > 20)
        return fallback;
    int64_t value = 0;
    bool negative = data[0] == '-';
    if (negative && size == 1)
        return fallback;
    for (size_t i = negative ? 1 : 0; i < size; i++) {
        if (data[i] < '0' || data[i] > '9' || value > (INT64_MAX - (data[i] - '0')) / 10)
            return fallback; //  not a number, or too large for one
        value = value * 10 + (data[i] - '0');
    }
    return negative ? -value : value;
}

char *
wire_strdup (wire_msg_t *self, int part)
{
    size_t size = wire_size (self, part);
    char *text = (char *) malloc (size + 1);
    if (text) {
        memcpy (text, wire_data (self, part), size);
        text[size] = 0;
    }
    return text;
}

int
wire_send_result_with (void *socket, zmq_msg_t *routing_id, uint64_t call_id, int status,
                       const char *payload, size_t size, const char *extra)
{
    char id_text[24], status_text[8];
    int id_size = snprintf (id_text, sizeof id_text, "%llu", (unsigned long long) call_id);
    int status_size = snprintf (status_text, sizeof status_text, "%d", status);
    if (routing_id &&
        zmq_send (socket, zmq_msg_data (routing_id), zmq_msg_size (routing_id), ZMQ_SNDMORE) < 0)
        return -1;
    if (zmq_send (socket, "RESULT", 6, ZMQ_SNDMORE) < 0 ||
        zmq_send (socket, id_text, (size_t) id_size, ZMQ_SNDMORE) < 0 ||
        zmq_send (socket, status_text, (size_t) status_size, ZMQ_SNDMORE) < 0 ||
        zmq_send (socket, payload, size, extra ? ZMQ_SNDMORE : 0) < 0 ||
        (extra && zmq_send (socket, extra, strlen (extra), 0) < 0))
        return -1;
    return 0;
}

int
wire_send_result (void *socket, zmq_msg_t *routing_id, uint64_t call_id, int status,
                  const char *payload, size_t size)
{
    return wire_send_result_with (socket, routing_id, call_id, status, payload, size, NULL);
}

int
wire_send_error (void *socket, zmq_msg_t *routing_id, uint64_t call_id, int status,
                 const char *message)
{
    jsonbuf_t buf = { 0 };
    int rc = -1;
    if (jsonbuf_append_str (&buf, "{\"message\":") == 0 &&
        jsonbuf_append_quoted (&buf, message) == 0 && jsonbuf_append (&buf, "}", 1) == 0)
        rc = wire_send_result (socket, routing_id, call_id, status, buf.data, buf.size);
    jsonbuf_free (&buf);
    return rc;
}
