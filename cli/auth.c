/*  =========================================================================
    auth - `mcpact auth login SERVER` and `mcpact auth logout SERVER` (see .h)

    login connects to the server as any run would, with an authorization
    callback of its own: the callback runs on the server's authorization
    thread, prints the URL on stderr and accepts one connection on the
    loopback socket bound before the server started (so that the redirect
    URI, with its port, is known when the client registers). The tokens
    go to the default file store; the stale ones are removed first, so
    that login always asks.
    =========================================================================
*/

#include "auth.h"

#include "config.h"
#include "token_store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2

//  How long login waits for the browser by default, seconds.
#define LOGIN_WAIT_S 300

typedef struct {
    int listener;        //  the bound loopback socket
    char *redirect_base; //  "http://127.0.0.1:PORT"
    int wait_ms;         //  how long to wait for the browser
} s_login_t;

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: mcpact auth login -c FILE SERVER\n"
                  "       mcpact auth logout SERVER\n"
                  "\n"
                  "login authorises the HTTP server SERVER of FILE with OAuth: open the URL it\n"
                  "prints in a browser; the browser comes back to http://127.0.0.1:PORT/callback\n"
                  "(the server's oauth.redirectUri if set) and the tokens are kept in\n"
                  "$XDG_CONFIG_HOME/mcpact/oauth/SERVER.json (mode 0600) for later runs.\n"
                  "logout removes them.\n");
}

static const char s_page[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                             "Connection: close\r\n\r\n"
                             "<!doctype html><title>mcpact</title><p>Authorised. You may close "
                             "this window and return to the terminal.</p>\n";

//  Best effort: the browser's page is a courtesy, the code is what counts.
static void
s_send (int peer, const char *text, size_t size)
{
    ssize_t sent = send (peer, text, size, MSG_NOSIGNAL);
    (void) sent;
}

//  The authorization callback: show the URL, take one redirect.
static char *
s_authorize (void *arg, const char *server, const char *url, const char *redirect_uri)
{
    s_login_t *login = (s_login_t *) arg;
    fprintf (stderr,
             "mcpact: to authorise %s, open this URL in a browser:\n\n  %s\n\n"
             "mcpact: waiting up to %d s for the browser to come back to %s\n",
             server, url, login->wait_ms / 1000, redirect_uri);
    int64_t waited = 0;
    while (waited < login->wait_ms) {
        struct pollfd item = { login->listener, POLLIN, 0 };
        int rc = poll (&item, 1, 1000);
        waited += 1000;
        if (rc <= 0)
            continue;
        int peer = accept (login->listener, NULL, NULL);
        if (peer < 0)
            continue;
        char request[8192];
        size_t size = 0;
        while (size + 1 < sizeof request) {
            struct pollfd in = { peer, POLLIN, 0 };
            if (poll (&in, 1, 5000) <= 0)
                break;
            ssize_t got = read (peer, request + size, sizeof request - 1 - size);
            if (got <= 0)
                break;
            size += (size_t) got;
            request[size] = '\0';
            if (strstr (request, "\r\n"))
                break;
        }
        request[size] = '\0';
        //  "GET /callback?code=...&state=... HTTP/1.1"
        char *target = strncmp (request, "GET ", 4) == 0 ? request + 4 : NULL;
        char *end = target ? strchr (target, ' ') : NULL;
        if (!end || (!strstr (target, "code=") && !strstr (target, "error="))) {
            //  A browser's favicon request, say: not the redirect.
            const char *missing = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n";
            s_send (peer, missing, strlen (missing));
            close (peer);
            continue;
        }
        *end = '\0';
        s_send (peer, s_page, sizeof s_page - 1);
        close (peer);
        char *redirect = NULL;
        if (asprintf (&redirect, "%s%s", login->redirect_base, target) < 0)
            redirect = NULL;
        memset (request, 0, sizeof request);
        return redirect;
    }
    fprintf (stderr, "mcpact: no answer from the browser within %d s\n", login->wait_ms / 1000);
    return NULL;
}

//  Binds the loopback listener: the port of oauth.redirectUri if it names
//  one on 127.0.0.1 or localhost, else any free port (and the redirect
//  URI becomes http://127.0.0.1:PORT/callback).
static int
s_listen (mcpact_server_config_t *config, s_login_t *login)
{
    const char *uri = json_string_value (json_object_get (config->oauth, "redirectUri"));
    int port = 0;
    if (uri) {
        const char *host = strstr (uri, "://");
        host = host ? host + 3 : uri;
        if (strncmp (host, "127.0.0.1:", 10) == 0)
            port = atoi (host + 10);
        else if (strncmp (host, "localhost:", 10) == 0)
            port = atoi (host + 10);
        if (port <= 0 || port > 65535) {
            fprintf (stderr,
                     "mcpact: oauth.redirectUri %s must be http://127.0.0.1:PORT/... or "
                     "http://localhost:PORT/... for login to receive it\n",
                     uri);
            return -1;
        }
    }
    login->listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { 0 };
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    address.sin_port = htons ((uint16_t) port);
    int on = 1;
    setsockopt (login->listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    socklen_t size = sizeof address;
    if (login->listener < 0 ||
        bind (login->listener, (struct sockaddr *) &address, sizeof address) != 0 ||
        listen (login->listener, 4) != 0 ||
        getsockname (login->listener, (struct sockaddr *) &address, &size) != 0) {
        fprintf (stderr, "mcpact: cannot listen on 127.0.0.1:%d for the redirect: %s\n", port,
                 strerror (errno));
        return -1;
    }
    port = ntohs (address.sin_port);
    if (asprintf (&login->redirect_base, "http://%s:%d",
                  uri && strstr (uri, "localhost:") ? "localhost" : "127.0.0.1", port) < 0)
        return -1;
    if (!uri) {
        char *made = NULL;
        if (asprintf (&made, "%s/callback", login->redirect_base) < 0)
            return -1;
        mcpact_server_config_set_oauth (config, "redirectUri", made);
        free (made);
    }
    return 0;
}

//  The server named `name` in the file: a session server, else one of an
//  agent's. A copy, or NULL.
static mcpact_server_config_t *
s_find (config_t *config, const char *name)
{
    for (size_t i = 0; i < config->servers_count; i++)
        if (strcmp (config->servers[i]->name, name) == 0)
            return mcpact_server_config_dup (config->servers[i]);
    for (size_t a = 0; a < config->agents_count; a++)
        for (size_t i = 0; i < config->agents[a].servers_count; i++)
            if (strcmp (config->agents[a].servers[i]->name, name) == 0)
                return mcpact_server_config_dup (config->agents[a].servers[i]);
    return NULL;
}

static int
s_login (const char *path, const char *name)
{
    char *error = NULL;
    config_t *config = config_load (path, &error);
    if (!config) {
        fprintf (stderr, "mcpact: %s\n", error ? error : "cannot load the configuration");
        free (error);
        return CLI_USAGE;
    }
    mcpact_server_config_t *server = s_find (config, name);
    config_destroy (&config);
    if (!server || !server->url) {
        fprintf (stderr, "mcpact: %s: %s\n", path,
                 server ? "is not an HTTP server (it has no url)" : "no such server");
        mcpact_server_config_destroy (&server);
        return CLI_USAGE;
    }
    const char *timeout = json_string_value (json_object_get (server->oauth, "authorizeTimeout"));
    s_login_t login = { -1, NULL,
                        1000 * (timeout && atoi (timeout) > 0 ? atoi (timeout) : LOGIN_WAIT_S) };
    if (s_listen (server, &login)) {
        if (login.listener >= 0)
            close (login.listener);
        free (login.redirect_base);
        mcpact_server_config_destroy (&server);
        return CLI_FAILED;
    }
    //  Login always asks: old tokens would let the server in unasked.
    mcpact_server_config_set_oauth (server, "tokenStore", "file");
    token_store_save (NULL, name, server->url, NULL);
    mcpact_server_config_set_oauth_authorize (server, s_authorize, &login);
    //  Starting includes the user's part: wait for it, and a little more.
    mcpact_server_config_set_timeouts (server, login.wait_ms + 60000, 0, 0);

    int rc = CLI_FAILED;
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    mcpact_session_t *session = runtime ? mcpact_session_new (runtime) : NULL;
    mcpact_agent_t *agent = NULL;
    if (session && mcpact_session_add_server (session, &server) == 0 &&
        (agent = mcpact_agent_new (session, NULL))) {
        char *text = mcpact_agent_start (agent);
        json_t *report = text ? json_loads (text, 0, NULL) : NULL;
        free (text);
        json_t *entry = json_array_get (json_object_get (report, "servers"), 0);
        const char *state = json_string_value (json_object_get (entry, "state"));
        char *stored = token_store_load (NULL, name, NULL);
        if (state && strcmp (state, "ready") == 0 && stored) {
            printf ("Logged in to %s; the tokens are kept for later runs.\n", name);
            rc = CLI_OK;
        } else if (state && strcmp (state, "ready") == 0)
            printf ("%s did not ask for authorization; nothing to keep.\n", name);
        else {
            const char *why = json_string_value (json_object_get (entry, "error"));
            fprintf (stderr, "mcpact: login to %s failed: %s\n", name,
                     why ? why : "the server did not start");
        }
        if (stored)
            memset (stored, 0, strlen (stored));
        free (stored);
        json_decref (report);
    } else
        fprintf (stderr, "mcpact: could not start the runtime\n");
    mcpact_agent_destroy (&agent);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    mcpact_server_config_destroy (&server);
    close (login.listener);
    free (login.redirect_base);
    return rc;
}

int
cli_auth (int argc, char **argv)
{
    const char *path = NULL, *verb = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "-h") == 0 || strcmp (arg, "--help") == 0) {
            s_usage (stdout);
            return CLI_OK;
        }
        if (strcmp (arg, "-c") == 0 || strcmp (arg, "--config") == 0) {
            if (++i >= argc) {
                fprintf (stderr, "mcpact: %s needs a value\n", arg);
                return CLI_USAGE;
            }
            path = argv[i];
        } else if (strncmp (arg, "--config=", 9) == 0)
            path = arg + 9;
        else if (*arg == '-') {
            fprintf (stderr, "mcpact: auth: unknown option %s\n", arg);
            s_usage (stderr);
            return CLI_USAGE;
        } else if (!verb)
            verb = arg;
        else if (!name)
            name = arg;
        else {
            fprintf (stderr, "mcpact: auth takes one SERVER (got '%s' after '%s')\n", arg, name);
            return CLI_USAGE;
        }
    }
    if (!verb || !name || (strcmp (verb, "login") != 0 && strcmp (verb, "logout") != 0)) {
        s_usage (stderr);
        return CLI_USAGE;
    }
    if (strcmp (verb, "logout") == 0) {
        char *file = token_store_path (name);
        if (mcpact_oauth_forget (name) == 0)
            printf ("Logged out of %s (removed %s).\n", name, file ? file : "its tokens");
        else
            printf ("No saved tokens for %s.\n", name);
        free (file);
        return CLI_OK;
    }
    if (!path) {
        fprintf (stderr, "mcpact: auth login needs -c FILE, the configuration naming %s\n", name);
        return CLI_USAGE;
    }
    return s_login (path, name);
}
