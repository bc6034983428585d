/*  =========================================================================
    oauth - a server's OAuth state, as its HTTP transport sees it

    Owned and used by one server actor's thread (the HTTP transport). It
    holds the token record (tokens, the client's registration, where to
    refresh), gives the transport the access token for each request, and
    runs each authorization (oauth_flow) on a thread of its own, so that
    the actor's loop never waits on the network or on the user: the
    transport polls oauth_fd, and oauth_collect takes the outcome. A run
    that outlasts authorizeTimeout is abandoned: the transport gets an
    error, and the thread, once the host's callback returns, frees what it
    holds by itself.

    The record is a JSON object: url, resource, issuer, token_endpoint,
    client_id, client_secret, auth_method, client_issuer, access_token,
    refresh_token, expires_at (Unix seconds), scope, and scope_needed (what
    a step-up asked for when nobody could be asked, for the next login). It goes to the
    server's store (the host's callbacks, or token_store's file) after
    every run that got tokens. Nothing of it is ever logged.
    =========================================================================
*/

#ifndef MCPACT_OAUTH_H_INCLUDED
#define MCPACT_OAUTH_H_INCLUDED

#include "server_config.h"

#include <stdint.h>

typedef struct _oauth_t oauth_t;

//  What is wrong with `value` for the OAuth setting `key` (the config
//  file's and mcpact_server_config_set_oauth's), naming what is allowed;
//  NULL if it is good. Static text.
const char *oauth_setting_problem (const char *key, const char *value);

//  The OAuth state of an HTTP server, with its saved tokens loaded. NULL
//  when OAuth does not apply: the configuration sends its own
//  Authorization header.
oauth_t *oauth_new (const mcpact_server_config_t *config);

//  Abandons a run in progress (its thread finishes alone) and frees.
void oauth_destroy (oauth_t **self_p);

//  The access token for the next request (it counts as used), or NULL;
//  and its generation, which changes with every new token.
const char *oauth_token (oauth_t *self);
unsigned oauth_generation (oauth_t *self);

//  A run is in progress: requests wait for it.
bool oauth_busy (oauth_t *self);

//  An answer 401 or 403 with this WWW-Authenticate (or NULL) to a request
//  sent with token generation `generation`. 1: the request should wait
//  and go again once the run (started now, or already running, or
//  finished since it was sent) is over; 0: no authorization applies, the
//  answer stands; -1: authorization failed for good (oauth_error).
int oauth_challenge (oauth_t *self, long status, const char *challenge, unsigned generation);

//  Starts a refresh if the token expires within a minute and a refresh
//  token is at hand. True if a run is in progress afterwards.
bool oauth_refresh_due (oauth_t *self);

//  The socket to poll (readable when the run ends), -1 when none runs.
int oauth_fd (oauth_t *self);

//  Milliseconds until the run's deadline, -1 when none runs.
int oauth_timeout (oauth_t *self);

//  After a poll: 1 the run ended with a token, -1 it failed or timed out
//  (oauth_error), 0 it is still running.
int oauth_collect (oauth_t *self);

//  Why the last run failed, or NULL. Never holds a secret.
const char *oauth_error (oauth_t *self);

//  A request with the current token succeeded: the attempts count from 0.
void oauth_confirmed (oauth_t *self);

//  The command that logs in to this server ("mcpact auth login -c FILE
//  NAME", FILE as the configuration was loaded from), or NULL when the
//  server did not come from a configuration file.
const char *oauth_login_hint (oauth_t *self);

//  "authorized", "authorizing" or "unauthorized", for the server status.
const char *oauth_state (oauth_t *self);

#endif
