/*  =========================================================================
    test_auth - OAuth 2.1 for HTTP servers, against tests/oauth_fixture.py

    The fixture is an MCP server behind OAuth and its authorization server
    on one 127.0.0.1 port; it logs each step (and each secret it issues)
    on stderr, which the tests read. The user's part is a GET of the
    authorization URL: the fixture redirects at once, as if the user had
    agreed, and the Location is what a browser would bring back.
    =========================================================================
*/

#include "runtime_util.h"
#include "testutil.h"

#include "config.h"
#include "curl_lib.h"
#include "oauth_crypto.h"
#include "oauth_flow.h"
#include "token_store.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIXTURE_PY MCPACT_SOURCE_DIR "/tests/oauth_fixture.py"

typedef struct {
    pid_t pid;
    int port;
    char log[64];
} s_fixture_t;

static s_fixture_t s_fixture_proc;

//  How often the host was asked to authorise, and the last URL it got.
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_asked;
static char s_last_url[4096];

static void
s_stop_fixture (void)
{
    if (s_fixture_proc.pid) {
        kill (s_fixture_proc.pid, SIGTERM);
        waitpid (s_fixture_proc.pid, NULL, 0);
        s_fixture_proc.pid = 0;
    }
    if (s_fixture_proc.log[0])
        unlink (s_fixture_proc.log);
}

//  Starts the fixture with the switches given (NULL ends them).
static void
s_start_fixture (const char *first, ...)
{
    const char *argv[16] = { "python3", FIXTURE_PY };
    int argc = 2;
    va_list args;
    va_start (args, first);
    for (const char *arg = first; arg && argc < 13; arg = va_arg (args, const char *))
        argv[argc++] = arg;
    va_end (args);
    argv[argc++] = "0";
    argv[argc] = NULL;
    strcpy (s_fixture_proc.log, "/tmp/mcpact-oauth-fixture-XXXXXX");
    int log_fd = mkstemp (s_fixture_proc.log);
    int out[2];
    CHECK (log_fd >= 0 && pipe (out) == 0);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        dup2 (out[1], 1);
        dup2 (log_fd, 2);
        execvp (argv[0], (char *const *) argv);
        _exit (127);
    }
    close (out[1]);
    close (log_fd);
    s_fixture_proc.pid = pid;
    atexit (s_stop_fixture);
    char line[64] = "";
    size_t size = 0;
    while (size + 1 < sizeof line && !strchr (line, '\n')) {
        struct pollfd item = { out[0], POLLIN, 0 };
        if (poll (&item, 1, 10000) <= 0)
            break;
        ssize_t got = read (out[0], line + size, sizeof line - 1 - size);
        if (got <= 0)
            break;
        size += (size_t) got;
        line[size] = 0;
    }
    close (out[0]);
    CHECK_MSG (sscanf (line, "PORT %d", &s_fixture_proc.port) == 1, "oauth_fixture said \"%s\"",
               line);
}

static char *
s_fixture_log (void)
{
    FILE *file = fopen (s_fixture_proc.log, "r");
    CHECK (file);
    char *text = (char *) calloc (1, 1 << 20);
    CHECK (text);
    size_t got = fread (text, 1, (1 << 20) - 1, file);
    text[got] = 0;
    fclose (file);
    return text;
}

static int
s_count (const char *text, const char *needle)
{
    int count = 0;
    for (const char *p = strstr (text, needle); p; p = strstr (p + 1, needle))
        count++;
    return count;
}

static size_t
s_discard (char *data, size_t one, size_t size, void *arg)
{
    return one * size;
}

//  How long the user takes, ms (0: at once); set when the callback returned.
static int s_user_ms;
static bool s_user_done;
//  When set, what the callback answers (instead of following the URL).
static const char *s_answer;

//  The user's part: follow the authorization URL to its redirect.
static char *
s_authorize (void *arg, const char *server, const char *url, const char *redirect_uri)
{
    pthread_mutex_lock (&s_lock);
    s_asked++;
    snprintf (s_last_url, sizeof s_last_url, "%s", url);
    pthread_mutex_unlock (&s_lock);
    if (s_answer)
        return strdup (s_answer);
    if (s_user_ms) {
        ru_sleep_ms (s_user_ms);
        pthread_mutex_lock (&s_lock);
        s_user_done = true;
        pthread_mutex_unlock (&s_lock);
        return NULL;
    }
    CURL *easy = curl_easy_init ();
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
    char *location = NULL, *redirect = NULL;
    if (curl_easy_perform (easy) == CURLE_OK &&
        curl_easy_getinfo (easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
        redirect = strdup (location);
    curl_easy_cleanup (easy);
    return redirect;
}

//  s_asked, read under its lock (the callback runs on another thread).
static int
s_times_asked (void)
{
    pthread_mutex_lock (&s_lock);
    int asked = s_asked;
    pthread_mutex_unlock (&s_lock);
    return asked;
}

//  The last authorization URL, copied under the lock (main thread only).
static const char *
s_last (void)
{
    static char copy[sizeof s_last_url];
    pthread_mutex_lock (&s_lock);
    memcpy (copy, s_last_url, sizeof copy);
    pthread_mutex_unlock (&s_lock);
    return copy;
}

typedef struct {
    mcpact_runtime_t *runtime;
    mcpact_session_t *session;
    mcpact_agent_t *agent;
    json_t *report;
} s_host_t;

//  A host with the fixture as server "notes"; `store` is the tokenStore;
//  `timeout`, if not NULL, its authorizeTimeout.
static void
s_host_start_with (s_host_t *host, const char *store, const char *timeout)
{
    CHECK (curl_lib_load (NULL) == 0);
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/mcp", s_fixture_proc.port);
    host->runtime = mcpact_runtime_new ();
    host->session = mcpact_session_new (host->runtime);
    mcpact_server_config_t *server = mcpact_server_http_new ("notes", url);
    CHECK (server);
    CHECK (mcpact_server_config_set_oauth (server, "tokenStore", store) == 0);
    CHECK (mcpact_server_config_set_oauth (server, "redirectUri", "http://127.0.0.1:9/callback") ==
           0);
    CHECK (mcpact_server_config_set_oauth (server, "noSuchKey", "x") == -1);
    CHECK (mcpact_server_config_set_oauth_authorize (server, s_authorize, NULL) == 0);
    if (timeout)
        CHECK (mcpact_server_config_set_oauth (server, "authorizeTimeout", timeout) == 0);
    CHECK (mcpact_session_add_server (host->session, &server) == 0);
    host->agent = mcpact_agent_new (host->session, NULL);
    host->report = ru_json_take (mcpact_agent_start (host->agent));
}

static void
s_host_start (s_host_t *host, const char *store)
{
    s_host_start_with (host, store, NULL);
}

//  Starting fails with `reason`, and nothing was asked of the token
//  endpoint.
static void
s_check_refused (s_host_t *host, const char *reason)
{
    json_t *entry = ru_report_server (host->report, "notes");
    CHECK_STR (ru_str (entry, "state"), "failed");
    CHECK_CONTAINS (ru_str (entry, "error"), reason);
    char *log = s_fixture_log ();
    CHECK_MSG (!strstr (log, "token grant="), "%s", log);
    free (log);
}

static void
s_host_stop (s_host_t *host)
{
    json_decref (host->report);
    ru_teardown (&host->agent, &host->session, &host->runtime);
}

static void
s_check_ready (s_host_t *host)
{
    json_t *entry = ru_report_server (host->report, "notes");
    CHECK_MSG (entry && strcmp (ru_str (entry, "state"), "ready") == 0, "notes did not start: %s",
               entry ? ru_str (entry, "error") : "(no report)");
}

//  Fails if `text` holds any secret the fixture issued or was given:
//  access and refresh tokens, codes, client secrets.
static void
s_check_no_secrets (const char *what, const char *text)
{
    char *log = s_fixture_log ();
    static const char *const prefixes[] = { "ACCESS-", "REFRESH-", "CODE-", "SECRET-" };
    int seen = 0;
    for (size_t i = 0; i < 4; i++)
        for (const char *p = strstr (log, prefixes[i]); p; p = strstr (p + 1, prefixes[i])) {
            char secret[64];
            size_t size = strcspn (p, " \n");
            CHECK (size < sizeof secret);
            memcpy (secret, p, size);
            secret[size] = 0;
            seen++;
            CHECK_MSG (!strstr (text, secret), "%s shows the secret %s:\n%s", what, secret, text);
        }
    CHECK_MSG (seen >= 4, "the fixture issued too few secrets to look for:\n%s", log);
    free (log);
}

TEST (token_refreshed_before_expiry)
{
    //  Tokens that expire at once: each next request first refreshes.
    s_start_fixture ("--expires-in", "0", NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    s_check_ready (&host);
    RU_CALL_IS (host.agent, "read_note", "{}", "read_note done");
    char *log = s_fixture_log ();
    CHECK_MSG (strstr (log, "token grant=refresh_token"), "no refresh:\n%s", log);
    CHECK_MSG (strstr (log, "mcp tools/call via refresh_token"),
               "the call did not use a refreshed token:\n%s", log);
    //  Never refused: the token was renewed before it was used expired
    CHECK_MSG (s_count (log, "refused") == 1, "%s", log); //  the first, tokenless initialize
    free (log);
    CHECK (s_times_asked () == 1);
    s_host_stop (&host);
}

TEST (failed_refresh_ahead_of_expiry_keeps_the_token)
{
    //  The refresh before expiry is refused: the calls go with the token
    //  held (the server still takes it), and the user is not asked again
    s_start_fixture ("--expires-in", "0", "--refuse-refresh", NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    s_check_ready (&host);
    RU_CALL_IS (host.agent, "read_note", "{}", "read_note done");
    RU_CALL_IS (host.agent, "read_note", "{}", "read_note done");
    char *log = s_fixture_log ();
    CHECK_MSG (s_count (log, "token grant=refresh_token") == 1, "%s", log);
    CHECK_MSG (s_count (log, "mcp tools/call via authorization_code") == 2, "%s", log);
    free (log);
    CHECK_MSG (s_times_asked () == 1, "the user was asked %d times", s_times_asked ());
    s_host_stop (&host);
}

TEST (token_refreshed_on_401)
{
    //  The server stops taking a token after 3 uses: the 4th request is
    //  refused, and the client refreshes without asking the user again.
    s_start_fixture ("--revoke-after", "3", NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    s_check_ready (&host);
    RU_CALL_IS (host.agent, "read_note", "{}", "read_note done");
    RU_CALL_IS (host.agent, "read_note", "{}", "read_note done");
    char *log = s_fixture_log ();
    CHECK_MSG (strstr (log, "token grant=refresh_token"), "no refresh:\n%s", log);
    CHECK_MSG (strstr (log, "mcp tools/call via refresh_token"), "%s", log);
    free (log);
    CHECK_MSG (s_times_asked () == 1, "the user was asked %d times", s_times_asked ());
    s_host_stop (&host);
}

TEST (step_up_asks_for_more_scope)
{
    s_start_fixture (NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    s_check_ready (&host);
    RU_CALL_IS (host.agent, "read_note", "{}", "read_note done");
    CHECK (s_times_asked () == 1);
    CHECK_MSG (strstr (s_last (), "scope=notes%3Aread&"), "%s", s_last ());
    //  write_note needs notes:write: 403 insufficient_scope, a second
    //  authorization with both scopes, and the call goes through
    RU_CALL_IS (host.agent, "write_note", "{}", "write_note done");
    CHECK_MSG (s_times_asked () == 2, "the user was asked %d times", s_times_asked ());
    CHECK_MSG (strstr (s_last (), "scope=notes%3Aread%20notes%3Awrite"), "%s", s_last ());
    char *log = s_fixture_log ();
    CHECK (strstr (log, "refused 403 tools/call"));
    CHECK (strstr (log, "mcp tools/call via authorization_code scope=notes:read notes:write"));
    free (log);
    s_host_stop (&host);
}

static pthread_mutex_t s_lines_lock = PTHREAD_MUTEX_INITIALIZER;
static char *s_lines;

static void
s_keep_line (mcpact_log_level_t level, const char *message, void *arg)
{
    pthread_mutex_lock (&s_lines_lock);
    size_t old = s_lines ? strlen (s_lines) : 0;
    char *grown = (char *) realloc (s_lines, old + strlen (message) + 2);
    CHECK (grown);
    sprintf (grown + old, "%s\n", message);
    s_lines = grown;
    pthread_mutex_unlock (&s_lines_lock);
}

TEST (secrets_never_shown)
{
    //  Debug level: everything the runtime says, through a whole flow
    //  with registration, authorization, refresh and step-up.
    mcpact_set_log (s_keep_line, NULL, MCPACT_LOG_DEBUG);
    s_start_fixture ("--expires-in", "0", NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    s_check_ready (&host);
    RU_CALL_IS (host.agent, "read_note", "{}", "read_note done");
    RU_CALL_IS (host.agent, "write_note", "{}", "write_note done");
    char *status = mcpact_agent_status (host.agent);
    char *report = json_dumps (host.report, 0);
    s_host_stop (&host);
    mcpact_set_log (NULL, NULL, MCPACT_LOG_WARN);
    CHECK_MSG (s_lines && strstr (s_lines, "authoriz"), "nothing logged:\n%s", s_lines);
    s_check_no_secrets ("the debug log", s_lines);
    s_check_no_secrets ("the status", status);
    s_check_no_secrets ("the start report", report);
    CHECK (strstr (status, "\"auth\":\"authorized\""));
    free (status);
    free (report);
    free (s_lines);
    s_lines = NULL;
}

TEST (tokens_kept_in_a_private_file)
{
    char home[] = "/tmp/mcpact-auth-home-XXXXXX";
    CHECK (mkdtemp (home));
    setenv ("XDG_CONFIG_HOME", home, 1);
    s_start_fixture (NULL);
    s_host_t host;
    s_host_start (&host, "file");
    s_check_ready (&host);
    s_host_stop (&host);
    char *path = token_store_path ("notes");
    struct stat info;
    CHECK_MSG (path && stat (path, &info) == 0, "no token file at %s", path);
    CHECK_MSG ((info.st_mode & 0777) == 0600, "mode %o", info.st_mode & 0777);
    //  A new host (a new process, as far as the server knows) uses them
    //  without asking the user
    s_host_start (&host, "file");
    s_check_ready (&host);
    RU_CALL_IS (host.agent, "read_note", "{}", "read_note done");
    CHECK_MSG (s_times_asked () == 1, "the user was asked %d times", s_times_asked ());
    s_host_stop (&host);
    CHECK (mcpact_oauth_forget ("notes") == 0);
    CHECK (stat (path, &info) != 0);
    free (path);
    char dir[128];
    snprintf (dir, sizeof dir, "%s/mcpact/oauth", home);
    CHECK (stat (dir, &info) == 0 && (info.st_mode & 0777) == 0700);
    rmdir (dir);
    snprintf (dir, sizeof dir, "%s/mcpact", home);
    rmdir (dir);
    rmdir (home);
}

TEST (resource_mismatch_refused)
{
    //  Metadata for another resource: no authorization, no token sent
    s_start_fixture ("--prm-resource", "https://elsewhere.example/mcp", NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    json_t *entry = ru_report_server (host.report, "notes");
    CHECK_STR (ru_str (entry, "state"), "failed");
    CHECK_CONTAINS (ru_str (entry, "error"), "is for https://elsewhere.example/mcp");
    CHECK (s_times_asked () == 0);
    char *log = s_fixture_log ();
    CHECK (!strstr (log, "registered") && !strstr (log, "code "));
    free (log);
    s_host_stop (&host);
}

TEST (cli_login_and_logout)
{
    char home[] = "/tmp/mcpact-auth-cli-XXXXXX";
    CHECK (mkdtemp (home));
    char config[128], xdg[160];
    snprintf (config, sizeof config, "%s/servers.json", home);
    snprintf (xdg, sizeof xdg, "XDG_CONFIG_HOME=%s", home);
    s_start_fixture (NULL);
    FILE *file = fopen (config, "w");
    CHECK (file);
    fprintf (file, "{\"mcpServers\": {\"notes\": {\"url\": \"http://127.0.0.1:%d/mcp\"}}}",
             s_fixture_proc.port);
    fclose (file);
    const char *env[] = { xdg, NULL };

    //  Before login: refused, with the way out named
    const char *call[] = { "-c", config, "call", "read_note", NULL };
    ru_run_t run = ru_cli (NULL, env, call);
    char hint[256];
    snprintf (hint, sizeof hint, "mcpact auth login -c %s notes", config);
    CHECK_CONTAINS (run.err, hint);
    ru_run_free (&run);

    //  login prints the URL and waits on its loopback redirect URI; a
    //  browser (curl here) follows the URL and comes back there.
    int err[2];
    CHECK (pipe (err) == 0);
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        dup2 (err[1], 2);
        int null = open ("/dev/null", O_WRONLY);
        dup2 (null, 1);
        setenv ("XDG_CONFIG_HOME", home, 1);
        execl (RU_CLI, RU_CLI, "auth", "login", "-c", config, "notes", (char *) NULL);
        _exit (127);
    }
    close (err[1]);
    char text[8192] = "";
    size_t size = 0;
    char *url = NULL;
    while (!(url = strstr (text, "http://127.0.0.1")) || !strchr (url, '\n')) {
        struct pollfd item = { err[0], POLLIN, 0 };
        CHECK_MSG (poll (&item, 1, 20000) > 0, "no URL from login: %s", text);
        ssize_t got = read (err[0], text + size, sizeof text - 1 - size);
        CHECK_MSG (got > 0, "login ended: %s", text);
        size += (size_t) got;
        text[size] = 0;
    }
    *strchr (url, '\n') = 0;
    CHECK (curl_lib_load (NULL) == 0);
    CURL *easy = curl_easy_init ();
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
    CHECK (curl_easy_perform (easy) == CURLE_OK);
    curl_easy_cleanup (easy);
    int status = 0;
    CHECK (waitpid (pid, &status, 0) == pid);
    close (err[0]);
    CHECK_MSG (WIFEXITED (status) && WEXITSTATUS (status) == 0, "login exited %d", status);

    //  The next run uses the kept tokens
    run = ru_cli (NULL, env, call);
    CHECK_MSG (run.status == 0, "%s", run.err);
    CHECK_CONTAINS (run.out, "read_note done");
    ru_run_free (&run);

    const char *logout[] = { "auth", "logout", "notes", NULL };
    run = ru_cli (NULL, env, logout);
    CHECK (run.status == 0);
    CHECK_CONTAINS (run.out, "Logged out of notes");
    ru_run_free (&run);
    run = ru_cli (NULL, env, call);
    CHECK (run.status != 0);
    ru_run_free (&run);
    char dir[160];
    unlink (config);
    snprintf (dir, sizeof dir, "%s/mcpact/oauth", home);
    rmdir (dir);
    snprintf (dir, sizeof dir, "%s/mcpact", home);
    rmdir (dir);
    rmdir (home);
}

TEST (issuer_mismatch_refused)
{
    s_start_fixture ("--wrong-issuer", NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    s_check_refused (&host, "an issuer must match its URL, refused");
    CHECK (s_times_asked () == 0);
    s_host_stop (&host);
}

TEST (server_without_pkce_refused)
{
    s_start_fixture ("--no-s256", NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    s_check_refused (&host, "does not advertise PKCE with S256");
    CHECK (s_times_asked () == 0);
    s_host_stop (&host);
}

TEST (forged_state_refused)
{
    //  The code that came with another state is never exchanged
    s_start_fixture ("--forged-state", NULL);
    s_host_t host;
    s_host_start (&host, "memory");
    s_check_refused (&host, "the redirect's state does not match");
    CHECK (s_times_asked () == 1);
    s_host_stop (&host);
}

TEST (user_who_never_comes_back)
{
    //  The user takes 3 s; the run may take 1: the server fails saying
    //  so, while the callback is still running
    s_user_ms = 3000;
    s_start_fixture (NULL);
    s_host_t host;
    s_host_start_with (&host, "memory", "1");
    json_t *entry = ru_report_server (host.report, "notes");
    CHECK_STR (ru_str (entry, "state"), "failed");
    CHECK_CONTAINS (ru_str (entry, "error"), "authorization did not finish within 1 s");
    pthread_mutex_lock (&s_lock);
    bool done = s_user_done;
    pthread_mutex_unlock (&s_lock);
    CHECK (!done);
    s_host_stop (&host);
    //  The abandoned callback returns later, to nobody: nothing breaks
    for (int waited = 0; !done && waited < 10000; waited += 50) {
        ru_sleep_ms (50);
        pthread_mutex_lock (&s_lock);
        done = s_user_done;
        pthread_mutex_unlock (&s_lock);
    }
    CHECK (done);
    ru_sleep_ms (100);
}

TEST (pkce_s256_and_random_values)
{
    //  The challenge as Python computes it:
    //  base64.urlsafe_b64encode (hashlib.sha256 (verifier).digest ()), unpadded
    char *challenge = oauth_s256 ("dBjftJeZ4CVP-mB92K27uhbUJU1p1r-wW1gFWFOEjXk");
    CHECK_STR (challenge, "NPsYzawS-__wqk67X9gyb4dr3JBo3hnlEi5MNyD5jX0");
    free (challenge);
    char *a = oauth_random (32), *b = oauth_random (32);
    CHECK (a && b && strlen (a) == 43 && strcmp (a, b) != 0);
    CHECK (strspn (a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
    free (a);
    free (b);
}

TEST (challenge_params_read)
{
    const char *header = "Bearer realm=\"mcp\", error=\"insufficient_scope\",scope=\"a b\\\"c\","
                         " resource_metadata=https://h/.well-known/x , error_description=\"x, y\"";
    char *value = oauth_challenge_param (header, "scope");
    CHECK_STR (value, "a b\"c");
    free (value);
    value = oauth_challenge_param (header, "RESOURCE_METADATA");
    CHECK_STR (value, "https://h/.well-known/x");
    free (value);
    value = oauth_challenge_param (header, "error");
    CHECK_STR (value, "insufficient_scope");
    free (value);
    CHECK (!oauth_challenge_param (header, "missing"));
    CHECK (!oauth_challenge_param ("Bearer", "scope"));
    CHECK (!oauth_challenge_param ("Bearer ,,, =", "scope"));
}

//  A JWT's signature checked with the public half of `key`.
static void
s_check_jwt (EVP_PKEY *key, const char *alg)
{
    BIO *bio = BIO_new (BIO_s_mem ());
    CHECK (PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL) == 1);
    char *pem = NULL;
    long size = BIO_get_mem_data (bio, &pem);
    char *text = strndup (pem, (size_t) size);
    BIO_free (bio);
    json_t *claims = json_pack ("{s:s, s:s}", "iss", "me", "aud", "https://as");
    char *error = NULL;
    char *jwt = oauth_jwt_sign (text, NULL, claims, &error);
    CHECK_MSG (jwt, "%s", error);
    char *other =
        oauth_jwt_sign (text, strcmp (alg, "RS256") == 0 ? "ES256" : "RS256", claims, &error);
    CHECK (!other && error);
    free (error);
    json_decref (claims);
    free (text);
    //  header.claims.signature; the header names the algorithm
    char *dot = strchr (jwt, '.'), *last = strrchr (jwt, '.');
    CHECK (dot && last && dot != last);
    char expected[64];
    snprintf (expected, sizeof expected, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    char *header = oauth_base64url ((unsigned char *) expected, strlen (expected));
    CHECK (strncmp (jwt, header, (size_t) (dot - jwt)) == 0);
    free (header);
    //  Decode the signature (base64url) and verify it
    char *b64 = strdup (last + 1);
    size_t length = strlen (b64);
    char *padded = (char *) calloc (1, length + 4);
    for (size_t i = 0; i < length; i++)
        padded[i] = b64[i] == '-' ? '+' : b64[i] == '_' ? '/' : b64[i];
    while (strlen (padded) % 4)
        strcat (padded, "=");
    unsigned char raw[1024];
    int raw_size = EVP_DecodeBlock (raw, (unsigned char *) padded, (int) strlen (padded));
    CHECK (raw_size > 0);
    raw_size -= (int) (strlen (padded) - length); //  the padding decoded as zeros
    unsigned char der[256];
    unsigned char *signature = raw;
    size_t signature_size = (size_t) raw_size;
    if (strcmp (alg, "ES256") == 0) {
        CHECK (raw_size == 64);
        ECDSA_SIG *sig = ECDSA_SIG_new ();
        ECDSA_SIG_set0 (sig, BN_bin2bn (raw, 32, NULL), BN_bin2bn (raw + 32, 32, NULL));
        unsigned char *out = der;
        signature_size = (size_t) i2d_ECDSA_SIG (sig, &out);
        ECDSA_SIG_free (sig);
        signature = der;
    }
    EVP_MD_CTX *context = EVP_MD_CTX_new ();
    CHECK (EVP_DigestVerifyInit (context, NULL, EVP_sha256 (), NULL, key) == 1);
    CHECK_MSG (EVP_DigestVerify (context, signature, signature_size, (unsigned char *) jwt,
                                 (size_t) (last - jwt)) == 1,
               "the %s signature does not verify", alg);
    EVP_MD_CTX_free (context);
    free (padded);
    free (b64);
    free (jwt);
}

TEST (jwt_signatures_verify)
{
    EVP_PKEY *rsa = EVP_RSA_gen (2048);
    EVP_PKEY *ec = EVP_EC_gen ("P-256");
    CHECK (rsa && ec);
    s_check_jwt (rsa, "RS256");
    s_check_jwt (ec, "ES256");
    EVP_PKEY_free (rsa);
    EVP_PKEY_free (ec);
    char *error = NULL;
    CHECK (!oauth_jwt_sign ("not a key", NULL, NULL, &error));
    CHECK_CONTAINS (error, "not a PEM private key");
    free (error);
}

//  A host's own token store: one record, kept in memory.
static char *s_stored;
static int s_saves;

static char *
s_load (void *arg, const char *server, const char *url)
{
    CHECK (arg == &s_stored);
    CHECK_STR (server, "notes");
    return s_stored ? strdup (s_stored) : NULL;
}

static int
s_save (void *arg, const char *server, const char *url, const char *record)
{
    pthread_mutex_lock (&s_lock);
    free (s_stored);
    s_stored = record ? strdup (record) : NULL;
    s_saves++;
    pthread_mutex_unlock (&s_lock);
    return 0;
}

TEST (host_store_callbacks_used)
{
    s_start_fixture (NULL);
    for (int round = 0; round < 2; round++) {
        char url[64];
        snprintf (url, sizeof url, "http://127.0.0.1:%d/mcp", s_fixture_proc.port);
        mcpact_runtime_t *runtime = mcpact_runtime_new ();
        mcpact_session_t *session = mcpact_session_new (runtime);
        mcpact_server_config_t *server = mcpact_server_http_new ("notes", url);
        CHECK (mcpact_server_config_set_oauth_authorize (server, s_authorize, NULL) == 0);
        CHECK (mcpact_server_config_set_oauth_store (server, s_load, NULL, &s_stored) == -1);
        CHECK (mcpact_server_config_set_oauth_store (server, s_load, s_save, &s_stored) == 0);
        CHECK (mcpact_session_add_server (session, &server) == 0);
        mcpact_agent_t *agent = mcpact_agent_new (session, NULL);
        free (mcpact_agent_start (agent));
        RU_CALL_IS (agent, "read_note", "{}", "read_note done");
        ru_teardown (&agent, &session, &runtime);
    }
    //  Saved once, by the first round's run; the second round loaded it
    //  and asked nobody
    pthread_mutex_lock (&s_lock);
    CHECK (s_saves == 1);
    json_t *record = ru_json (s_stored);
    pthread_mutex_unlock (&s_lock);
    CHECK (strncmp (ru_str (record, "access_token"), "ACCESS-", 7) == 0);
    CHECK (strncmp (ru_str (record, "refresh_token"), "REFRESH-", 8) == 0);
    CHECK (strncmp (ru_str (record, "client_secret"), "SECRET-", 7) == 0);
    CHECK (strstr (ru_str (record, "url"), "/mcp"));
    json_decref (record);
    CHECK (s_times_asked () == 1);
    free (s_stored);
}

//  --------------------------------------------------------------------------
//  The CLI's login, driven as a user would: a home of its own, a config
//  file naming the fixture as "notes", `mcpact auth login` in the
//  background and a "browser" (curl) that opens the URLs.

typedef struct {
    char home[64];    //  XDG_CONFIG_HOME, and where the config file is
    char config[128]; //  the config file
    char env[160];    //  "XDG_CONFIG_HOME=..."
    pid_t pid;        //  a login in progress, or 0
    int err;          //  its stderr
    char text[32768]; //  what it said on stderr
    size_t size;      //  its length
} s_cli_t;

//  `oauth` is the server's "oauth" object (JSON text) or NULL.
static void
s_cli_setup (s_cli_t *cli, const char *oauth)
{
    memset (cli, 0, sizeof *cli);
    strcpy (cli->home, "/tmp/mcpact-auth-cli-XXXXXX");
    CHECK (mkdtemp (cli->home));
    snprintf (cli->config, sizeof cli->config, "%s/oauth.json", cli->home);
    snprintf (cli->env, sizeof cli->env, "XDG_CONFIG_HOME=%s", cli->home);
    FILE *file = fopen (cli->config, "w");
    CHECK (file);
    fprintf (file, "{\"mcpServers\": {\"notes\": {\"url\": \"http://127.0.0.1:%d/mcp\"%s%s}}}",
             s_fixture_proc.port, oauth ? ", \"oauth\": " : "", oauth ? oauth : "");
    fclose (file);
}

static void
s_cli_cleanup (s_cli_t *cli)
{
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", cli->home);
    CHECK (system (command) == 0);
}

//  Runs the CLI to its end with `args` (NULL-terminated) in cli's home.
static ru_run_t
s_cli_run (s_cli_t *cli, const char *const *args)
{
    const char *env[] = { cli->env, NULL };
    return ru_cli (NULL, env, args);
}

//  Starts `mcpact ARGS` (a login) in the background.
static void
s_cli_begin (s_cli_t *cli, const char *const *args)
{
    const char *argv[16] = { RU_CLI };
    int argc = 1;
    for (; args[argc - 1] && argc < 15; argc++)
        argv[argc] = args[argc - 1];
    argv[argc] = NULL;
    int err[2];
    CHECK (pipe (err) == 0);
    cli->size = 0;
    cli->text[0] = 0;
    cli->pid = fork ();
    CHECK (cli->pid >= 0);
    if (cli->pid == 0) {
        dup2 (err[1], 2);
        int null = open ("/dev/null", O_WRONLY);
        dup2 (null, 1);
        setenv ("XDG_CONFIG_HOME", cli->home, 1);
        execv (RU_CLI, (char *const *) argv);
        _exit (127);
    }
    close (err[1]);
    cli->err = err[0];
}

//  Reads the login's stderr until `needle` shows (a line of it, whole);
//  returns where it starts in cli->text.
static char *
s_cli_wait_for (s_cli_t *cli, const char *needle)
{
    char *found;
    while (!(found = strstr (cli->text, needle)) || !strchr (found, '\n')) {
        struct pollfd item = { cli->err, POLLIN, 0 };
        CHECK_MSG (poll (&item, 1, 30000) > 0, "login said no \"%s\": %s", needle, cli->text);
        ssize_t got = read (cli->err, cli->text + cli->size, sizeof cli->text - 1 - cli->size);
        CHECK_MSG (got > 0, "login ended before \"%s\": %s", needle, cli->text);
        cli->size += (size_t) got;
        cli->text[cli->size] = 0;
    }
    return found;
}

//  The authorization URL the login printed (static copy).
static const char *
s_cli_url (s_cli_t *cli)
{
    static char url[4096];
    const char *start = s_cli_wait_for (cli, "  http://127.0.0.1") + 2;
    snprintf (url, sizeof url, "%.*s", (int) strcspn (start, "\n"), start);
    return url;
}

//  The login's redirect URI (static copy).
static const char *
s_cli_callback (s_cli_t *cli)
{
    static char url[256];
    const char *start = s_cli_wait_for (cli, "for the browser to come back to ");
    start += strlen ("for the browser to come back to ");
    snprintf (url, sizeof url, "%.*s", (int) strcspn (start, "\n"), start);
    return url;
}

//  Waits for the login to end: its exit status; cli->text has all it said.
static int
s_cli_end (s_cli_t *cli)
{
    ssize_t got;
    while ((got = read (cli->err, cli->text + cli->size, sizeof cli->text - 1 - cli->size)) > 0)
        cli->size += (size_t) got;
    cli->text[cli->size] = 0;
    close (cli->err);
    int status = 0;
    CHECK (waitpid (cli->pid, &status, 0) == cli->pid);
    cli->pid = 0;
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

//  The browser: GETs `url` (following redirects when `follow`); the last
//  answer's status; *location (if given) its Location, malloc'ed.
static long
s_browse (const char *url, bool follow, char **location)
{
    CHECK (curl_lib_load (NULL) == 0);
    CURL *easy = curl_easy_init ();
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_discard);
    long status = 0;
    CURLcode code = curl_easy_perform (easy);
    CHECK_MSG (code == CURLE_OK, "GET %s: %s", url, curl_easy_strerror (code));
    curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
    char *redirect = NULL;
    if (location) {
        curl_easy_getinfo (easy, CURLINFO_REDIRECT_URL, &redirect);
        *location = redirect ? strdup (redirect) : NULL;
    }
    curl_easy_cleanup (easy);
    return status;
}

//  A whole login that the user grants; `args` are the CLI's. Returns the
//  authorization URL it showed (static copy).
static const char *
s_cli_login (s_cli_t *cli, const char *const *args)
{
    s_cli_begin (cli, args);
    const char *url = s_cli_url (cli);
    CHECK (s_browse (url, true, NULL) == 200);
    int status = s_cli_end (cli);
    CHECK_MSG (status == 0, "login exited %d: %s", status, cli->text);
    return url;
}

TEST (step_up_scope_kept_for_the_next_login)
{
    //  A CLI call that needs more scope cannot ask the user: it fails
    //  with a command that works as written, and the scope it needed is
    //  kept, so that the next login asks for it.
    s_start_fixture (NULL);
    s_cli_t cli;
    s_cli_setup (&cli, NULL);
    const char *login[] = { "-c", cli.config, "auth", "login", "notes", NULL };
    const char *url = s_cli_login (&cli, login);
    CHECK_MSG (strstr (url, "scope=notes%3Aread&"), "%s", url);

    const char *write[] = { "-c", cli.config, "call", "write_note", "{}", NULL };
    ru_run_t run = s_cli_run (&cli, write);
    CHECK (run.status == 1);
    char hint[256];
    snprintf (hint, sizeof hint, "mcpact auth login -c %s notes", cli.config);
    CHECK_CONTAINS (run.err, hint);
    CHECK_CONTAINS (run.err, "notes:read notes:write");
    ru_run_free (&run);

    url = s_cli_login (&cli, login);
    CHECK_MSG (strstr (url, "scope=notes%3Aread%20notes%3Awrite"), "%s", url);
    run = s_cli_run (&cli, write);
    CHECK_MSG (run.status == 0, "%s", run.err);
    CHECK_CONTAINS (run.out, "write_note done");
    ru_run_free (&run);
    s_cli_cleanup (&cli);
}

TEST (configured_and_asked_scopes_added_to_the_challenge)
{
    //  oauth.scopes are asked for with the challenge's, not instead
    s_start_fixture (NULL);
    s_cli_t cli;
    s_cli_setup (&cli, "{\"scopes\": [\"notes:read\", \"notes:write\"]}");
    const char *login[] = { "-c", cli.config, "auth", "login", "notes", NULL };
    const char *url = s_cli_login (&cli, login);
    CHECK_MSG (strstr (url, "scope=notes%3Aread%20notes%3Awrite&"), "%s", url);
    const char *write[] = { "-c", cli.config, "call", "write_note", "{}", NULL };
    ru_run_t run = s_cli_run (&cli, write);
    CHECK_MSG (run.status == 0, "%s", run.err);
    ru_run_free (&run);
    s_cli_cleanup (&cli);

    //  auth login --scope S, likewise
    s_cli_setup (&cli, NULL);
    const char *asked[] = { "-c",      cli.config,    "auth",  "login",
                            "--scope", "notes:write", "notes", NULL };
    url = s_cli_login (&cli, asked);
    CHECK_MSG (strstr (url, "scope=notes%3Aread%20notes%3Awrite&"), "%s", url);
    s_cli_cleanup (&cli);
}

TEST (login_callback_tells_the_browser_the_truth)
{
    s_start_fixture (NULL);
    s_cli_t cli;
    s_cli_setup (&cli, NULL);
    //  Global options, on either side of the command
    const char *login[] = { "-vv", "-c", cli.config, "auth", "login", "notes", "-q", NULL };
    s_cli_begin (&cli, login);
    const char *url = s_cli_url (&cli);
    char callback[256], bogus[512];
    snprintf (callback, sizeof callback, "%s", s_cli_callback (&cli));
    //  A stale or forged answer: an error page, and the login waits on
    snprintf (bogus, sizeof bogus, "%s?code=x&state=bogus", callback);
    CHECK (s_browse (bogus, false, NULL) == 400);
    snprintf (bogus, sizeof bogus, "%s?error=access_denied&state=x", callback);
    CHECK (s_browse (bogus, false, NULL) == 400);
    s_cli_wait_for (&cli, "still waiting");
    CHECK (waitpid (cli.pid, NULL, WNOHANG) == 0);
    //  ... for the right one
    CHECK (s_browse (url, true, NULL) == 200);
    int status = s_cli_end (&cli);
    CHECK_MSG (status == 0, "login exited %d: %s", status, cli.text);

    //  The user says no: the browser gets an error page, the terminal
    //  the server's words, once
    const char *again[] = { "auth", "login", "notes", "-c", cli.config, NULL };
    s_cli_begin (&cli, again);
    url = s_cli_url (&cli);
    snprintf (callback, sizeof callback, "%s", s_cli_callback (&cli));
    char *location = NULL;
    CHECK (s_browse (url, false, &location) == 302 && location);
    char *state = strstr (location, "state=");
    CHECK (state);
    char refused[512];
    snprintf (refused, sizeof refused,
              "%s?error=access_denied&error_description=user+said+no%%0A%%1B[31m&%s", callback,
              state);
    free (location);
    CHECK (s_browse (refused, false, NULL) == 400);
    status = s_cli_end (&cli);
    CHECK_MSG (status == 1, "login exited %d: %s", status, cli.text);
    CHECK_CONTAINS (cli.text, "access_denied: user said no??[31m");
    CHECK_MSG (s_count (cli.text, "access_denied") == 1, "%s", cli.text);
    CHECK_MSG (!strstr (cli.text, "failed to start"), "%s", cli.text);
    s_cli_cleanup (&cli);
}

TEST (auth_command_line)
{
    s_start_fixture (NULL);
    s_cli_t cli;
    s_cli_setup (&cli, NULL);
    //  `mcpact auth` alone: its usage
    const char *bare[] = { "auth", NULL };
    ru_run_t run = s_cli_run (&cli, bare);
    CHECK (run.status == 2);
    CHECK_CONTAINS (run.err, "usage: mcpact auth login");
    ru_run_free (&run);
    const char *help[] = { "help", "auth", NULL };
    run = s_cli_run (&cli, help);
    CHECK (run.status == 0);
    CHECK_CONTAINS (run.out, "usage: mcpact auth login");
    ru_run_free (&run);
    //  Options that do not apply are refused, naming those that do
    const char *json[] = { "--json", "auth", "logout", "notes", NULL };
    run = s_cli_run (&cli, json);
    CHECK (run.status == 2);
    CHECK_CONTAINS (run.err, "--json does not apply to auth");
    ru_run_free (&run);
    const char *quiet[] = { "-v", "auth", "logout", "notes", "-q", NULL };
    run = s_cli_run (&cli, quiet);
    CHECK_MSG (run.status == 0, "%s", run.err);
    ru_run_free (&run);
    //  A server the file does not have: named, and those it has listed
    const char *nosuch[] = { "-c", cli.config, "auth", "login", "nosuch", NULL };
    run = s_cli_run (&cli, nosuch);
    CHECK (run.status == 2);
    CHECK_CONTAINS (run.err, "has no server named 'nosuch' (its servers: notes)");
    ru_run_free (&run);
    //  Not a server name at all
    const char *path[] = { "auth", "logout", "../x", NULL };
    run = s_cli_run (&cli, path);
    CHECK (run.status == 2);
    CHECK_CONTAINS (run.err, "'../x' is not a server name");
    ru_run_free (&run);
    s_cli_cleanup (&cli);
}

TEST (timeout_names_the_step_in_progress)
{
    //  The authorization server's metadata never comes: the run's bound
    //  ends it, and the error says what it was waiting for
    s_start_fixture ("--hang-metadata", NULL);
    s_host_t host;
    s_host_start_with (&host, "memory", "1");
    json_t *entry = ru_report_server (host.report, "notes");
    CHECK_STR (ru_str (entry, "state"), "failed");
    CHECK_CONTAINS (ru_str (entry, "error"),
                    "authorization did not finish within 1 s (it was fetching the "
                    "authorization-server metadata from http://127.0.0.1:");
    s_host_stop (&host);
}

TEST (callback_answer_checked_before_the_token_endpoint)
{
    //  An empty or garbled answer from the host's callback is not a code
    static const char *const answers[] = { "", "%%%not a url \x01\n" };
    static const char *const reasons[] = { "returned an empty answer",
                                           "neither a redirect URL nor an authorization code" };
    for (int i = 0; i < 2; i++) {
        s_start_fixture (NULL);
        s_answer = answers[i];
        s_host_t host;
        s_host_start (&host, "memory");
        s_check_refused (&host, reasons[i]);
        s_host_stop (&host);
        s_answer = NULL;
        s_stop_fixture ();
    }
}

TEST (oauth_settings_checked_alike)
{
    //  The file and the API refuse the same values, naming what is allowed
    static const char *const bad[][3] = {
        { "grant", "implicit", "must be \"authorization_code\", \"client_credentials\"" },
        { "tokenStore", "disk", "must be \"file\" or \"memory\"" },
        { "authorizeTimeout", "abc", "must be a whole number of seconds, 1 to 86400" },
        { "authorizeTimeout", "-1", "must be a whole number of seconds, 1 to 86400" },
        { "authorizeTimeout", "0", "must be a whole number of seconds, 1 to 86400" },
        { "signingAlgorithm", "HS256", "must be \"RS256\" or \"ES256\"" },
        { "redirectUri", "callback", "must be an http:// or https:// URL" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mcpact_server_config_t *server = mcpact_server_http_new ("notes", "http://127.0.0.1:9/");
        CHECK_MSG (mcpact_server_config_set_oauth (server, bad[i][0], bad[i][1]) == -1, "%s=%s",
                   bad[i][0], bad[i][1]);
        mcpact_server_config_destroy (&server);
        char text[256], *error = NULL;
        snprintf (
            text, sizeof text,
            "{\"mcpServers\": {\"s\": {\"url\": \"http://h/\", \"oauth\": {\"%s\": \"%s\"}}}}",
            bad[i][0], bad[i][1]);
        config_t *config = config_parse (text, "f.json", &error);
        CHECK_MSG (!config, "%s", text);
        char expected[160];
        snprintf (expected, sizeof expected, "mcpServers.s.oauth.%s: %s", bad[i][0], bad[i][2]);
        CHECK_CONTAINS (error, expected);
        free (error);
    }
    char *error = NULL;
    config_t *config = config_parse (
        "{\"mcpServers\": {\"s\": {\"url\": \"http://h/\", \"oauth\": {\"scopes\": 5}}}}", "f.json",
        &error);
    CHECK (!config);
    CHECK_CONTAINS (error, "oauth.scopes: must be a string or a list of strings");
    free (error);
    mcpact_server_config_t *server = mcpact_server_http_new ("notes", "http://127.0.0.1:9/");
    CHECK (mcpact_server_config_set_oauth (server, "authorizeTimeout", "30") == 0);
    CHECK (mcpact_server_config_set_oauth (server, "tokenStore", "memory") == 0);
    mcpact_server_config_destroy (&server);
}

TEST (token_file_problems_said)
{
    s_start_fixture (NULL);
    s_cli_t cli;
    s_cli_setup (&cli, NULL);
    const char *call[] = { "-c", cli.config, "call", "read_note", NULL };
    //  A damaged file: named, never quoted
    char dir[160], file[200];
    snprintf (dir, sizeof dir, "%s/mcpact", cli.home);
    mkdir (dir, 0700);
    snprintf (dir, sizeof dir, "%s/mcpact/oauth", cli.home);
    mkdir (dir, 0700);
    snprintf (file, sizeof file, "%s/notes.json", dir);
    int fd = open (file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK (fd >= 0 && write (fd, "garbage{", 8) == 8);
    close (fd);
    ru_run_t run = s_cli_run (&cli, call);
    CHECK (run.status != 0);
    CHECK_CONTAINS (run.err, file);
    CHECK_CONTAINS (run.err, "damaged");
    CHECK_MSG (!strstr (run.err, "garbage"), "%s", run.err);
    ru_run_free (&run);
    //  A file others may read: used, with a warning saying how to fix it
    const char *login[] = { "-c", cli.config, "auth", "login", "notes", NULL };
    s_cli_login (&cli, login);
    CHECK (chmod (file, 0644) == 0);
    run = s_cli_run (&cli, call);
    CHECK_MSG (run.status == 0, "%s", run.err);
    char fix[256];
    snprintf (fix, sizeof fix, "chmod 600 %s", file);
    CHECK_CONTAINS (run.err, fix);
    ru_run_free (&run);
    s_cli_cleanup (&cli);
}
