/*  =========================================================================
    gateway - what the gateway's verbs share for checking their frames

    The checks every verb that takes JSON makes the same way
    (gateway/gateway.c, verbs_features.c, verbs_asks.c), so that a
    mistake reads the same whichever verb it is in. Pure functions:
    any thread.
    =========================================================================
*/

#ifndef MCPACT_GATEWAY_H
#define MCPACT_GATEWAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

//  Parses the JSON text of a frame (any JSON value). Returns the value
//  (the caller's), or NULL with `message` set to "SUBJECT not valid JSON:
//  JANSSON'S TEXT (line L, column C)", jansson's own words and place
//  (columns count characters, from 1), as `mcpact call` says it of its
//  JSON-ARGS. `subject` names the verb or tool and the frame, with its
//  verb: "CALL options are", "the arguments of echo are".
json_t *gw_json_frame (const char *text, const char *subject, char *message, size_t message_size);

//  As gw_json_frame, for a frame that must be a JSON object: another
//  value is NULL as well, "SUBJECT a JSON array, not a JSON object".
json_t *gw_json_object (const char *text, const char *subject, char *message, size_t message_size);

//  Checks that every key of the JSON object `object` is one of `known`
//  (a NULL-terminated list): for the objects of the protocol whose keys
//  are its own (options, fields), never for those whose keys are the
//  user's or a server's (tool or prompt arguments, MCP results). Returns
//  true if so; else false with `message` set to "WHAT: unknown key "KEY"
//  (known: K1, K2)", the first unknown key, cut as any text from
//  outside. `what` names the verb and the frame ("CALL options").
bool gw_known_keys (json_t *object, const char *const *known, const char *what, char *message,
                    size_t message_size);

//  The JSON type of `value` with its article, for messages: "a JSON
//  array", "a string", ... ("nothing" for NULL).
const char *gw_json_kind (json_t *value);

#endif
