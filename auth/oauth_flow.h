/*  =========================================================================
    oauth_flow - one run of OAuth 2.1 authorization for an MCP server

    Blocking and self-contained: it runs on a server's authorization thread
    (oauth.c), never on the server actor's, and touches nothing but the
    flow object it is given. Each HTTP request is a libcurl easy transfer
    bounded by http_ms.

    What a run does, after a 401 or 403 from the MCP server (MCP
    authorization, 2025-11-25):
      - with a refresh token, a 401 (or a token about to expire) first
        tries the refresh_token grant;
      - protected-resource metadata (RFC 9728): the resource_metadata URL
        of WWW-Authenticate, else /.well-known/oauth-protected-resource
        with the server's path, else at the root; none at all means a
        2025-03-26 server, whose own origin is the authorization server;
      - the metadata's resource must be this server's URL (same origin, a
        path prefix), or the run is refused;
      - authorization-server metadata (RFC 8414, OpenID Connect Discovery,
        in the specification's order for issuers with and without a
        path); its issuer must be the URL it was looked up for; with none
        on a 2025-03-26 server, /authorize, /token and /register there;
      - the grant the settings name: authorization_code (PKCE S256, state,
        the resource indicator of RFC 8707, the client named by
        pre-registered credentials, a client ID metadata document URL, or
        dynamic registration, RFC 7591, in that order), client_credentials
        (client_secret_basic or private_key_jwt), or cross_app_access
        (RFC 8693 token exchange at the identity provider for an ID-JAG,
        then the RFC 7523 jwt-bearer grant).
    =========================================================================
*/

#ifndef MCPACT_OAUTH_FLOW_H_INCLUDED
#define MCPACT_OAUTH_FLOW_H_INCLUDED

#include "mcpact.h"

#include <jansson.h>

typedef struct {
    char *server;                         //  server name, for messages
    char *url;                            //  the MCP server's URL
    json_t *settings;                     //  the server's oauth settings (strings)
    int http_ms;                          //  bound on each HTTP request
    mcpact_oauth_authorize_fn *authorize; //  the host's: the user authorises
    void *authorize_arg;                  //  its argument
    char *challenge;                      //  WWW-Authenticate of the answer, or NULL
    long status;                          //  401, 403, or 0 for a refresh before expiry
    json_t *record;                       //  tokens and client (see oauth.h), or NULL
    char *login_hint;                     //  "mcpact auth login -c FILE NAME", or NULL
    //  Told each step as it starts ("fetching ... from URL"), so that a
    //  run abandoned at its deadline can say where it was; may be NULL.
    void (*progress) (void *arg, const char *step);
    void *progress_arg;
    char *error; //  why the run failed; never a secret
} oauth_flow_t;

//  Runs the flow. 0 with flow->record replaced by the new tokens, or -1
//  with flow->error set.
int oauth_flow_run (oauth_flow_t *flow);

//  The words of `add` not yet in the space-separated list `*list` are
//  appended to it (*list may be NULL; it is reallocated).
void oauth_scope_add (char **list, const char *add);

//  The text with every byte outside printable ASCII replaced by '?', cut
//  at `max` bytes (malloc'ed): a server's words, safe for a terminal.
char *oauth_sanitise (const char *text, size_t max);

//  One auth-param of a WWW-Authenticate value (RFC 9110 11.6.1), e.g.
//  "scope"; malloc'ed, or NULL if absent.
char *oauth_challenge_param (const char *challenge, const char *name);

#endif
