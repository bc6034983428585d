/*  =========================================================================
    asks - requests from servers to the host: roots, sampling, elicitation

    Two objects. An asks_t belongs to a session or an agent and holds what
    its host supplies: the roots list, the sampling and elicitation
    handlers, the answer timeout. The host object, its servers' owner and
    each of its server actors hold a reference; an agent's falls back to
    its session's (the parent) for what it does not set. Its fields are
    under its lock; any thread.

    An ask_table_t belongs to one server actor and is used on that
    actor's thread only. It says what the client offers in initialize,
    answers roots/list at once, and hands sampling/createMessage and
    elicitation/create to the host: each becomes an mcpact_ask_t, passed
    to the handler on a thread made for it, so that the actor's loop
    never waits for the host. The host answers from any thread
    (mcpact_ask_complete): the answer is checked there, then sent to the
    actor's ROUTER as ANSWER ask_id payload over a socket of its own, and
    the actor answers the server. The actor ends what the host has not
    answered in time, what the server cancels, and what a restart or a
    stop makes moot; the host hears of it through the ask (cancel hook).
    =========================================================================
*/

#ifndef MCPACT_ASKS_H_INCLUDED
#define MCPACT_ASKS_H_INCLUDED

#include "mcpact.h"
#include "server_config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ASKS_DEFAULT_TIMEOUT_MS 600000

typedef struct _asks_t asks_t;
typedef struct _ask_table_t ask_table_t;

//  A new asks_t with one reference (the host object's), falling back to
//  `parent` (a reference taken; may be NULL) for what it does not set.
//  `agent` names the agent (NULL for a session).
asks_t *asks_new (asks_t *parent, const char *agent);
asks_t *asks_ref (asks_t *self);
void asks_unref (asks_t **self_p);

//  The host object goes: waits (at most timeout_ms) for handlers running
//  now to return; none is called after. Drops the reference.
void asks_close (asks_t **self_p, int timeout_ms);

void asks_set_sampling (asks_t *self, mcpact_ask_fn *fn, void *arg);
void asks_set_elicitation (asks_t *self, mcpact_ask_fn *fn, void *arg, int modes);
void asks_set_timeout (asks_t *self, int timeout_ms);

//  Sets the roots (a roots.h list, taken; NULL: none) and sends ROOTS to
//  the server actors that use them, which tell their servers.
void asks_set_roots (asks_t *self, json_t *roots);

//  The table of server `server`, whose actor is at `endpoint`. Takes the
//  reference `asks` (may be NULL: nothing is offered). `respond` answers
//  the server's request whose raw id is [id, id + id_size), taking
//  result or error.
typedef void (ask_respond_fn) (void *arg, const char *id, size_t id_size, json_t *result,
                               json_t *error);
ask_table_t *ask_table_new (asks_t *asks, const char *server, const char *endpoint,
                            ask_respond_fn *respond, void *respond_arg);

//  Ends every request waiting ("the server stopped") and drops the table.
void ask_table_destroy (ask_table_t **self_p);

//  The "capabilities" of initialize for this connection, from what the
//  owner supplies and `config` allows (its own roots too).
json_t *ask_table_capabilities (ask_table_t *self, const mcpact_server_config_t *config);

//  The connection is gone: its waiting requests end with `reason`, and
//  nobody is answered.
void ask_table_reset (ask_table_t *self, const char *reason);

//  A request from the server. True if it is one of these (roots/list,
//  sampling/createMessage, elicitation/create): answered now or later
//  through `respond`.
bool ask_table_request (ask_table_t *self, const char *method, json_t *params, const char *id,
                        size_t id_size);

//  ANSWER ask_id payload from a host thread: the server gets it, unless
//  the request ended meanwhile.
void ask_table_answer (ask_table_t *self, uint64_t ask_id, const char *payload, size_t size);

//  notifications/cancelled from the server: the request it names ends.
void ask_table_cancelled (ask_table_t *self, json_t *params);

//  ROOTS came: true if the server was offered roots from the owner and
//  should hear notifications/roots/list_changed.
bool ask_table_roots_changed (ask_table_t *self);

//  `now` while a request of the server waits for the host, else when the
//  last one ended (0: never): the calls in flight on the server wait for
//  the host's user then, not for the server.
int64_t ask_table_host_busy (ask_table_t *self, int64_t now);

//  The earliest answer deadline (ms, monotonic), 0 if none.
int64_t ask_table_deadline (ask_table_t *self);

//  Ends the requests whose deadline has passed: the server gets an error.
void ask_table_expire (ask_table_t *self, int64_t now);

#endif
