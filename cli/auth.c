/*  =========================================================================
    auth - `mcpact auth login SERVER` and `mcpact auth logout SERVER` (see .h)

    login connects to the server as any run would, with an authorization
    callback of its own: the callback runs on the server's authorization
    thread, prints the URL on stderr and accepts one connection on the
    loopback socket bound before the server started (so that the redirect
    URI, with its port, is known when the client registers). A redirect
    whose state is not the one the URL carried (a stale tab, a forgery) is
    answered with an error page and ignored: the wait goes on. The tokens
    go to the default file store; the stale ones are removed first, so
    that login always asks, for the scopes they had and those a step-up
    needed since (kept in the record), with the configured ones.
    =========================================================================
*/

#include "auth.h"

#include "config.h"
#include "oauth.h"
#include "oauth_flow.h"
#include "token_store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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
    const char *name;    //  the server's name
} s_login_t;

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: mcpact auth login -c FILE [--scope SCOPE]... [--timeout MS] [-v|-vv|-q] "
                  "SERVER\n"
                  "       mcpact auth logout SERVER\n"
                  "\n"
                  "login authorises the HTTP server SERVER of FILE with OAuth: open the URL it\n"
                  "prints in a browser; the browser comes back to http://127.0.0.1:PORT/callback\n"
                  "(the server's oauth.redirectUri if set) and the tokens are kept in\n"
                  "$XDG_CONFIG_HOME/mcpact/oauth/SERVER.json (mode 0600) for later runs.\n"
                  "It asks for the server's scope, oauth.scopes, each --scope, and the scopes the\n"
                  "kept tokens had or a later call was refused for (insufficient_scope).\n"
                  "--timeout bounds the whole login (milliseconds; else oauth.authorizeTimeout,\n"
                  "300 s). logout removes the tokens.\n");
}

//  The pages the browser gets: the truth, with a status to match.
static const char s_page_received[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    "Connection: close\r\n\r\n"
    "<!doctype html><title>mcpact</title><p>The authorization came back to mcpact. You may "
    "close this window; the terminal says whether the login succeeded.</p>\n";
static const char s_page_refused[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=utf-8\r\n"
    "Connection: close\r\n\r\n"
    "<!doctype html><title>mcpact</title><p>Authorization failed: the authorization server "
    "refused it. The terminal says why.</p>\n";
static const char s_page_stale[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=utf-8\r\n"
    "Connection: close\r\n\r\n"
    "<!doctype html><title>mcpact</title><p>This answer does not belong to the login in "
    "progress (its state is wrong or stale), so it was ignored. Use the URL the terminal "
    "shows now.</p>\n";

//  The raw value of one query parameter of `target` (malloc'ed), or NULL.
static char *
s_param (const char *target, const char *name)
{
    const char *query = strchr (target, '?');
    size_t size = strlen (name);
    for (const char *p = query ? query + 1 : NULL; p && *p;) {
        size_t length = strcspn (p, "&#");
        if (length > size && strncmp (p, name, size) == 0 && p[size] == '=')
            return strndup (p + size + 1, length - size - 1);
        if (p[length] != '&')
            break;
        p += length + 1;
    }
    return NULL;
}

//  %XX and '+' decoded, every byte outside printable ASCII as '?', for
//  the terminal (malloc'ed).
static char *
s_readable (const char *raw)
{
    char *out = (char *) calloc (1, strlen (raw) + 1), *p = out;
    for (size_t i = 0; out && raw[i]; i++) {
        unsigned value;
        if (raw[i] == '%' && sscanf (raw + i + 1, "%2x", &value) == 1 && raw[i + 1] && raw[i + 2]) {
            *p = (char) value;
            i += 2;
        } else
            *p = raw[i] == '+' ? ' ' : raw[i];
        if (*p < 0x20 || *p >= 0x7f)
            *p = '?';
        p++;
    }
    char *safe = out ? oauth_sanitise (out, 300) : NULL;
    free (out);
    return safe;
}

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

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
    //  The state this run sent: only the redirect that carries it is ours.
    char *expected = s_param (url, "state");
    int64_t deadline = s_now_ms () + login->wait_ms;
    while (s_now_ms () < deadline) {
        struct pollfd item = { login->listener, POLLIN, 0 };
        int64_t left = deadline - s_now_ms ();
        int rc = poll (&item, 1, left > 1000 ? 1000 : (int) (left > 0 ? left : 0));
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
            if (strstr (request, "\r\n\r\n"))
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
        char *state = s_param (target, "state");
        char *error = s_param (target, "error");
        if (!state || !expected || strcmp (state, expected) != 0) {
            //  Not this login's: said, and ignored; the right one may follow.
            char *said = error ? s_readable (error) : NULL;
            s_send (peer, s_page_stale, sizeof s_page_stale - 1);
            close (peer);
            fprintf (stderr,
                     "mcpact: ignored an answer whose state is not this login's (a stale or "
                     "forged redirect%s%s); still waiting\n",
                     said ? ", saying " : "", said ? said : "");
            free (said), free (state), free (error);
            memset (request, 0, sizeof request);
            continue;
        }
        //  The flow reads the error (and its description) and says it.
        if (error)
            s_send (peer, s_page_refused, sizeof s_page_refused - 1);
        else
            s_send (peer, s_page_received, sizeof s_page_received - 1);
        close (peer);
        free (state), free (error);
        char *redirect = NULL;
        if (asprintf (&redirect, "%s%s", login->redirect_base, target) < 0)
            redirect = NULL;
        memset (request, 0, sizeof request);
        free (expected);
        return redirect;
    }
    free (expected);
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

//  "a, b, c": the servers of the file, for a message (malloc'ed).
static char *
s_server_names (config_t *config)
{
    char *list = NULL;
    for (size_t a = 0; a <= config->agents_count; a++) {
        mcpact_server_config_t **servers = a == 0 ? config->servers : config->agents[a - 1].servers;
        size_t count = a == 0 ? config->servers_count : config->agents[a - 1].servers_count;
        for (size_t i = 0; i < count; i++) {
            char padded[80];
            snprintf (padded, sizeof padded, ", %s,", servers[i]->name);
            char *haystack = NULL;
            if (list && asprintf (&haystack, ", %s,", list) > 0 && strstr (haystack, padded)) {
                free (haystack);
                continue;
            }
            free (haystack);
            char *joined = NULL;
            if (asprintf (&joined, "%s%s%s", list ? list : "", list ? ", " : "", servers[i]->name) <
                0)
                joined = NULL;
            free (list);
            list = joined;
        }
    }
    return list;
}

//  The runtime's lines, as the other commands show them, but for a
//  server's "failed to start": login says that itself, once.
static void
s_log (mcpact_log_level_t level, const char *message, void *arg)
{
    //  The server's name, from the command line: it outlives any run
    //  thread that may still log after the login has returned.
    const char *name = (const char *) arg;
    size_t size = strlen (name);
    if (strncmp (message, "server ", 7) == 0 && strncmp (message + 7, name, size) == 0 &&
        strncmp (message + 7 + size, " failed to start: ", 18) == 0)
        return;
    static const char *const names[] = { "error", "warn", "info", "debug" };
    fprintf (stderr, "mcpact %s: %s\n", names[level <= MCPACT_LOG_DEBUG ? level : 0], message);
}

//  Adds the scopes the kept tokens had, and those a step-up needed since,
//  to the configured ones (oauth.scopes): login asks for them all.
static void
s_remembered_scopes (mcpact_server_config_t *server, const char *name, char **scopes)
{
    char *text = token_store_load (NULL, name, server->url);
    json_t *record = text ? json_loads (text, 0, NULL) : NULL;
    const char *url = json_string_value (json_object_get (record, "url"));
    if (url && strcmp (url, server->url) == 0) {
        oauth_scope_add (scopes, json_string_value (json_object_get (record, "scope")));
        oauth_scope_add (scopes, json_string_value (json_object_get (record, "scope_needed")));
    }
    json_decref (record);
    if (text)
        memset (text, 0, strlen (text));
    free (text);
}

typedef struct {
    const char *path;         //  -c FILE
    char *scopes;             //  --scope, space-separated, or NULL
    int timeout_ms;           //  --timeout, 0 unset
    mcpact_log_level_t level; //  -v, -vv
    bool quiet;               //  -q: errors only
} s_options_t;

static int
s_login (s_options_t *options, const char *name)
{
    const char *path = options->path;
    char *error = NULL;
    config_t *config = config_load (path, &error);
    if (!config) {
        fprintf (stderr, "mcpact: %s\n", error ? error : "cannot load the configuration");
        free (error);
        return CLI_USAGE;
    }
    mcpact_server_config_t *server = s_find (config, name);
    if (!server || !server->url) {
        char *names = s_server_names (config);
        if (!server)
            fprintf (stderr, "mcpact: %s has no server named '%s' (%s%s)\n", path, name,
                     names ? "its servers: " : "it has no servers", names ? names : "");
        else
            fprintf (stderr,
                     "mcpact: %s: server '%s' is not an HTTP server (it has no url); only HTTP "
                     "servers use OAuth\n",
                     path, name);
        free (names);
        config_destroy (&config);
        mcpact_server_config_destroy (&server);
        return CLI_USAGE;
    }
    config_destroy (&config);
    const char *timeout = json_string_value (json_object_get (server->oauth, "authorizeTimeout"));
    //  Static: a run abandoned at its timeout may still be in s_authorize
    //  (its argument) after this returns. One login per process.
    static s_login_t login;
    login = (s_login_t){ -1, NULL, 1000 * (timeout ? atoi (timeout) : LOGIN_WAIT_S), name };
    if (options->timeout_ms > 0) {
        //  --timeout bounds the whole login: the run gets it, in seconds.
        char seconds[16];
        int whole = (options->timeout_ms + 999) / 1000;
        snprintf (seconds, sizeof seconds, "%d", whole > 86400 ? 86400 : whole);
        mcpact_server_config_set_oauth (server, "authorizeTimeout", seconds);
        login.wait_ms = options->timeout_ms;
    }
    if (s_listen (server, &login)) {
        if (login.listener >= 0)
            close (login.listener);
        free (login.redirect_base);
        mcpact_server_config_destroy (&server);
        return CLI_FAILED;
    }
    //  The scopes: configured, --scope, and what the kept tokens had or
    //  a step-up needed (the challenge's are added by the run).
    char *scopes = NULL;
    oauth_scope_add (&scopes, json_string_value (json_object_get (server->oauth, "scopes")));
    oauth_scope_add (&scopes, options->scopes);
    s_remembered_scopes (server, name, &scopes);
    if (scopes)
        mcpact_server_config_set_oauth (server, "scopes", scopes);
    free (scopes);
    //  Login always asks: old tokens would let the server in unasked.
    mcpact_server_config_set_oauth (server, "tokenStore", "file");
    token_store_save (NULL, name, server->url, NULL);
    mcpact_server_config_set_oauth_authorize (server, s_authorize, &login);
    //  Starting includes the user's part: wait for it, and a little more.
    mcpact_server_config_set_timeouts (server, login.wait_ms + 60000, 0, 0);
    mcpact_set_log (s_log, (void *) name, options->quiet ? MCPACT_LOG_ERROR : options->level);
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
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    mcpact_server_config_destroy (&server);
    close (login.listener);
    free (login.redirect_base);
    return rc;
}

//  One option of auth; `i` moves past a value. 0 taken, else the exit
//  status.
static int
s_option (int argc, char **argv, int *i, s_options_t *options)
{
    const char *arg = argv[*i];
    const char *value = NULL;
    if (strcmp (arg, "-c") == 0 || strcmp (arg, "--config") == 0 || strcmp (arg, "--scope") == 0 ||
        strcmp (arg, "--timeout") == 0) {
        if (++*i >= argc) {
            fprintf (stderr, "mcpact: %s needs a value\n", arg);
            return CLI_USAGE;
        }
        value = argv[*i];
    } else if (strncmp (arg, "--config=", 9) == 0 || strncmp (arg, "--scope=", 8) == 0 ||
               strncmp (arg, "--timeout=", 10) == 0) {
        value = strchr (arg, '=') + 1;
    } else if (strncmp (arg, "-c", 2) == 0) {
        options->path = arg + 2;
        return 0;
    }
    if (value) {
        if (arg[1] == 'c' || strncmp (arg, "--config", 8) == 0)
            options->path = value;
        else if (strncmp (arg, "--scope", 7) == 0)
            oauth_scope_add (&options->scopes, value);
        else {
            char *end;
            long ms = strtol (value, &end, 10);
            if (end == value || *end || ms < 1 || ms > 86400000L) {
                fprintf (stderr,
                         "mcpact: --timeout wants milliseconds (a whole number, 1 to 86400000), "
                         "not '%s'\n",
                         value);
                return CLI_USAGE;
            }
            options->timeout_ms = (int) ms;
        }
        return 0;
    }
    if (strcmp (arg, "--verbose") == 0)
        options->level = options->level < MCPACT_LOG_INFO ? MCPACT_LOG_INFO : MCPACT_LOG_DEBUG;
    else if (strcmp (arg, "--quiet") == 0)
        options->quiet = true;
    else if (arg[1] != '-' && strspn (arg + 1, "vq") == strlen (arg + 1)) {
        //  -v, -vv, -q, as the other commands take them: -q wins
        for (const char *c = arg + 1; *c; c++)
            if (*c == 'q')
                options->quiet = true;
            else
                options->level =
                    options->level < MCPACT_LOG_INFO ? MCPACT_LOG_INFO : MCPACT_LOG_DEBUG;
    } else {
        fprintf (stderr,
                 "mcpact: auth: %s does not apply to auth (it takes -c FILE, --scope SCOPE, "
                 "--timeout MS, -v, -vv, -q)\n",
                 arg);
        s_usage (stderr);
        return CLI_USAGE;
    }
    return 0;
}

int
cli_auth (int argc, char **argv)
{
    const char *verb = NULL, *name = NULL;
    s_options_t options = { NULL, NULL, 0, MCPACT_LOG_WARN, false };
    int rc = CLI_OK;
    bool options_done = false;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        const char *arg = argv[i];
        if (!options_done && (strcmp (arg, "-h") == 0 || strcmp (arg, "--help") == 0)) {
            s_usage (stdout);
            free (options.scopes);
            return CLI_OK;
        }
        if (!options_done && strcmp (arg, "--") == 0)
            options_done = true;
        else if (!options_done && *arg == '-' && arg[1])
            rc = s_option (argc, argv, &i, &options);
        else if (!verb)
            verb = arg;
        else if (!name)
            name = arg;
        else {
            fprintf (stderr, "mcpact: auth takes one SERVER (got '%s' after '%s')\n", arg, name);
            rc = CLI_USAGE;
        }
    }
    if (rc == CLI_OK && (!verb || (strcmp (verb, "login") != 0 && strcmp (verb, "logout") != 0))) {
        if (verb)
            fprintf (stderr, "mcpact: auth: unknown subcommand '%s'\n", verb);
        s_usage (stderr);
        rc = CLI_USAGE;
    } else if (rc == CLI_OK && !name) {
        fprintf (stderr, "mcpact: auth %s needs a SERVER name\n", verb);
        s_usage (stderr);
        rc = CLI_USAGE;
    } else if (rc == CLI_OK && !server_config_name_valid (name)) {
        //  A name is also a file name in the token store: never a path.
        fprintf (stderr,
                 "mcpact: '%s' is not a server name (1 to 64 letters, digits, '_', '.' or "
                 "'-')\n",
                 name);
        rc = CLI_USAGE;
    }
    if (rc != CLI_OK) {
        free (options.scopes);
        return rc;
    }
    if (strcmp (verb, "logout") == 0) {
        free (options.scopes);
        char *file = token_store_path (name);
        if (mcpact_oauth_forget (name) == 0)
            printf ("Logged out of %s (removed %s).\n", name, file ? file : "its tokens");
        else
            printf ("No saved tokens for %s.\n", name);
        free (file);
        return CLI_OK;
    }
    if (!options.path) {
        free (options.scopes);
        fprintf (stderr, "mcpact: auth login needs -c FILE, the configuration naming %s\n", name);
        return CLI_USAGE;
    }
    rc = s_login (&options, name);
    free (options.scopes);
    return rc;
}
