/*  =========================================================================
    oauth - a server's OAuth state, as its HTTP transport sees it (see .h)

    A run's thread gets its own copy of everything (settings, record,
    callbacks: the oauth_flow_t inside s_job_t) and hands the whole job
    back as one pointer written to a socketpair. If our end is closed by
    then (the server stopped, or the run timed out), the write fails with
    EPIPE (MSG_NOSIGNAL: no signal) and the thread frees the job itself:
    nothing is shared while the thread runs.

    Also the public setters of the OAuth settings and callbacks.
    =========================================================================
*/

#include "oauth.h"

#include "idmap.h"
#include "log.h"
#include "oauth_flow.h"
#include "token_store.h"

#include <czmq.h>
#include <pthread.h>
#include <sys/socket.h>

//  Default bound on the user's part (the authorization callback).
#define DEFAULT_AUTHORIZE_S 300
//  Bound on each HTTP request of a run.
#define HTTP_MS 30000
//  Authorizations in a row that a request may trigger without one
//  succeeding (MCP: step-up must not loop).
#define MAX_ATTEMPTS 3
//  A token this close to its expiry is refreshed before use.
#define REFRESH_MARGIN_S 60

//  Where a run is (its current step), shared by the run's thread and the
//  transport: the one thing they share, under its lock; freed by the
//  last of the two to let go.
typedef struct {
    pthread_mutex_t lock;
    int refs;
    char step[512];
} s_progress_t;

typedef struct {
    oauth_flow_t flow;          //  the run, with its own copies
    s_progress_t *progress;     //  shared with the transport
    mcpact_oauth_save_fn *save; //  where the new record goes, or NULL
    void *save_arg;             //  its argument
    int fd;                     //  the thread's end of the socketpair
} s_job_t;

struct _oauth_t {
    char *name;                           //  server name
    char *url;                            //  server URL
    json_t *settings;                     //  oauth settings (copy)
    mcpact_oauth_authorize_fn *authorize; //  the host's, or NULL
    void *authorize_arg;                  //  its argument
    mcpact_oauth_save_fn *save;           //  storage, NULL for none ("memory")
    void *store_arg;                      //  its argument
    json_t *record;                       //  tokens and client, or NULL
    unsigned generation;                  //  bumps with every new token
    int attempts;                         //  runs since a request last got through
    bool refresh_failed;                  //  do not refresh ahead again
    bool unused;                          //  the token came since the last request
    int fd;                               //  our end of the run's socketpair, or -1
    int64_t deadline;                     //  when the run is abandoned
    int authorize_ms;                     //  bound on the user's part
    s_progress_t *progress;               //  the current run's step, or NULL
    char *login_hint;                     //  "mcpact auth login -c FILE NAME", or NULL
    char *error;                          //  why the last run failed
};

//  --------------------------------------------------------------------------
//  The settings (public API)

static const char *const s_keys[] = { "clientId",
                                      "clientSecret",
                                      "clientMetadataUrl",
                                      "clientName",
                                      "scopes",
                                      "redirectUri",
                                      "grant",
                                      "privateKeyFile",
                                      "signingAlgorithm",
                                      "idpTokenEndpoint",
                                      "idpClientId",
                                      "idpClientSecret",
                                      "idToken",
                                      "idTokenFile",
                                      "tokenStore",
                                      "authorizeTimeout",
                                      NULL };

//  True if `value` starts as an http or https URL with something after.
static bool
s_is_url (const char *value, bool https_only)
{
    if (strncmp (value, "https://", 8) == 0)
        return value[8] != '\0';
    return !https_only && strncmp (value, "http://", 7) == 0 && value[7] != '\0';
}

const char *
oauth_setting_problem (const char *key, const char *value)
{
    bool known = false;
    for (int i = 0; key && s_keys[i]; i++)
        known |= strcmp (s_keys[i], key) == 0;
    if (!known)
        return "unknown key (known: clientId, clientSecret, clientMetadataUrl, clientName, "
               "scopes, redirectUri, grant, privateKeyFile, signingAlgorithm, "
               "idpTokenEndpoint, idpClientId, idpClientSecret, idToken, idTokenFile, "
               "tokenStore, authorizeTimeout)";
    if (!value)
        return NULL;
    if (strcmp (key, "grant") == 0 && strcmp (value, "authorization_code") != 0 &&
        strcmp (value, "client_credentials") != 0 && strcmp (value, "cross_app_access") != 0)
        return "must be \"authorization_code\", \"client_credentials\" or \"cross_app_access\"";
    if (strcmp (key, "tokenStore") == 0 && strcmp (value, "file") != 0 &&
        strcmp (value, "memory") != 0)
        return "must be \"file\" or \"memory\"";
    if (strcmp (key, "signingAlgorithm") == 0 && strcmp (value, "RS256") != 0 &&
        strcmp (value, "ES256") != 0)
        return "must be \"RS256\" or \"ES256\"";
    if (strcmp (key, "authorizeTimeout") == 0) {
        //  Digits only: atoi's "abc" -> 0 would mean no bound at all.
        bool digits = *value != '\0' && strspn (value, "0123456789") == strlen (value);
        long seconds = digits && strlen (value) <= 6 ? strtol (value, NULL, 10) : 0;
        if (seconds < 1 || seconds > 86400)
            return "must be a whole number of seconds, 1 to 86400";
    }
    if ((strcmp (key, "redirectUri") == 0 || strcmp (key, "idpTokenEndpoint") == 0) &&
        !s_is_url (value, false))
        return "must be an http:// or https:// URL";
    if (strcmp (key, "clientMetadataUrl") == 0 && !s_is_url (value, true))
        return "must be an https:// URL";
    return NULL;
}

int
mcpact_server_config_set_oauth (mcpact_server_config_t *self, const char *key, const char *value)
{
    if (!self || !key)
        return -1;
    const char *problem = oauth_setting_problem (key, value);
    if (problem) {
        //  The value is not quoted: a mistyped key may hold a secret.
        log_warn ("server %s: oauth.%s: %s; not set", self->name ? self->name : "?", key, problem);
        return -1;
    }
    if (!self->oauth && !(self->oauth = json_object ()))
        return -1;
    if (!value) {
        json_object_del (self->oauth, key);
        return 0;
    }
    return json_object_set_new (self->oauth, key, json_string (value));
}

int
mcpact_server_config_set_oauth_authorize (mcpact_server_config_t *self,
                                          mcpact_oauth_authorize_fn *authorize, void *arg)
{
    if (!self)
        return -1;
    self->oauth_authorize = authorize;
    self->oauth_authorize_arg = arg;
    return 0;
}

int
mcpact_server_config_set_oauth_store (mcpact_server_config_t *self, mcpact_oauth_load_fn *load,
                                      mcpact_oauth_save_fn *save, void *arg)
{
    if (!self || !load != !save)
        return -1;
    self->oauth_load = load;
    self->oauth_save = save;
    self->oauth_store_arg = arg;
    return 0;
}

//  --------------------------------------------------------------------------
//  The runs

static void
s_progress_release (s_progress_t **progress_p)
{
    s_progress_t *progress = *progress_p;
    if (!progress)
        return;
    pthread_mutex_lock (&progress->lock);
    bool last = --progress->refs == 0;
    pthread_mutex_unlock (&progress->lock);
    if (last) {
        pthread_mutex_destroy (&progress->lock);
        free (progress);
    }
    *progress_p = NULL;
}

//  The flow's progress callback, on the run's thread.
static void
s_progress_set (void *arg, const char *step)
{
    s_progress_t *progress = (s_progress_t *) arg;
    pthread_mutex_lock (&progress->lock);
    snprintf (progress->step, sizeof progress->step, "%s", step);
    pthread_mutex_unlock (&progress->lock);
}

static void
s_job_destroy (s_job_t **job_p)
{
    s_job_t *job = *job_p;
    if (!job)
        return;
    free (job->flow.server);
    free (job->flow.url);
    json_decref (job->flow.settings);
    free (job->flow.challenge);
    json_decref (job->flow.record);
    free (job->flow.login_hint);
    free (job->flow.error);
    s_progress_release (&job->progress);
    if (job->fd >= 0)
        close (job->fd);
    free (job);
    *job_p = NULL;
}

static void *
s_job_run (void *arg)
{
    s_job_t *job = (s_job_t *) arg;
    if (oauth_flow_run (&job->flow) == 0 && job->save) {
        json_object_set_new (job->flow.record, "url", json_string (job->flow.url));
        char *text = json_dumps (job->flow.record, JSON_COMPACT);
        if (!text || job->save (job->save_arg, job->flow.server, job->flow.url, text))
            log_warn ("server %s: the new OAuth tokens could not be saved", job->flow.server);
        if (text)
            memset (text, 0, strlen (text));
        free (text);
    }
    //  The hand-off: the job goes back whole, or, if nobody waits any
    //  more, is freed here. Once sent it is the reader's: not touched
    //  again (the reader leaves our end of the socketpair to us).
    int fd = job->fd;
    if (send (fd, &job, sizeof job, MSG_NOSIGNAL) != (ssize_t) sizeof job)
        s_job_destroy (&job);
    else
        close (fd);
    return NULL;
}

static int
s_start (oauth_t *self, long status, const char *challenge)
{
    int pair[2];
    if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair))
        return -1;
    s_job_t *job = (s_job_t *) calloc (1, sizeof (s_job_t));
    if (!job) {
        close (pair[0]), close (pair[1]);
        return -1;
    }
    job->fd = pair[1];
    job->progress = (s_progress_t *) calloc (1, sizeof (s_progress_t));
    if (!job->progress) {
        close (pair[0]);
        s_job_destroy (&job);
        return -1;
    }
    pthread_mutex_init (&job->progress->lock, NULL);
    job->progress->refs = 1;
    job->flow.progress = s_progress_set;
    job->flow.progress_arg = job->progress;
    job->flow.login_hint = self->login_hint ? strdup (self->login_hint) : NULL;
    job->flow.server = strdup (self->name);
    job->flow.url = strdup (self->url);
    job->flow.settings = self->settings ? json_deep_copy (self->settings) : json_object ();
    job->flow.http_ms = HTTP_MS;
    job->flow.authorize = self->authorize;
    job->flow.authorize_arg = self->authorize_arg;
    job->flow.challenge = challenge ? strdup (challenge) : NULL;
    job->flow.status = status;
    job->flow.record = self->record ? json_deep_copy (self->record) : NULL;
    job->save = self->save;
    job->save_arg = self->store_arg;
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
    //  Taken before the thread can end and let go of its share.
    s_progress_release (&self->progress);
    self->progress = job->progress;
    self->progress->refs++;
    int rc = pthread_create (&thread, &attr, s_job_run, job);
    pthread_attr_destroy (&attr);
    if (rc) {
        close (pair[0]);
        s_progress_release (&self->progress);
        s_job_destroy (&job);
        return -1;
    }
    self->fd = pair[0];
    self->deadline = clock_ms () + self->authorize_ms;
    log_debug ("server %s: authorization started (%s)", self->name,
               status == 0     ? "the token expires soon"
               : status == 403 ? "the server wants more scope"
                               : "the server wants a token");
    return 0;
}

static void
s_abandon (oauth_t *self)
{
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
}

//  --------------------------------------------------------------------------
//  The transport's side

//  `word` as one shell word: as it is when it needs no quoting, else in
//  single quotes (malloc'ed).
static char *
s_shell_word (const char *word)
{
    if (*word && strspn (word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                               "_./-+=:,@%") == strlen (word))
        return strdup (word);
    char *quoted = (char *) malloc (4 * strlen (word) + 3), *out = quoted;
    if (!quoted)
        return NULL;
    *out++ = '\'';
    for (const char *p = word; *p; p++) {
        if (*p == '\'') {
            memcpy (out, "'\\''", 4);
            out += 4;
        } else
            *out++ = *p;
    }
    *out++ = '\'';
    *out = '\0';
    return quoted;
}

//  A saved record we cannot use is said, naming where it came from (never
//  what it holds): else the user sees only the server's 401.
static void
s_record_unusable (oauth_t *self, bool from_file, const char *why)
{
    char *path = from_file ? token_store_path (self->name) : NULL;
    log_warn ("server %s: the saved OAuth tokens %s%s %s; ignoring them (remove it, or log in "
              "again: %s)",
              self->name, path ? "in " : "from the host's store", path ? path : "", why,
              self->login_hint ? self->login_hint : "mcpact auth login");
    free (path);
}

oauth_t *
oauth_new (const mcpact_server_config_t *config)
{
    for (size_t i = 0; i < config->headers_count; i++)
        if (strcasecmp (config->headers[i].name, "Authorization") == 0)
            return NULL;
    oauth_t *self = (oauth_t *) calloc (1, sizeof (oauth_t));
    if (!self)
        return NULL;
    self->name = strdup (config->name);
    self->url = strdup (config->url);
    self->settings = config->oauth ? json_deep_copy (config->oauth) : NULL;
    self->authorize = config->oauth_authorize;
    self->authorize_arg = config->oauth_authorize_arg;
    if (config->source) {
        char *file = s_shell_word (config->source);
        if (file &&
            asprintf (&self->login_hint, "mcpact auth login -c %s %s", file, config->name) < 0)
            self->login_hint = NULL;
        free (file);
    }
    self->fd = -1;
    self->generation = 1;
    //  Checked when set (oauth_setting_problem): 1 to 86400.
    const char *timeout = json_string_value (json_object_get (self->settings, "authorizeTimeout"));
    int seconds = timeout ? atoi (timeout) : 0;
    self->authorize_ms = 1000 * (seconds > 0 ? seconds : DEFAULT_AUTHORIZE_S);
    const char *store = json_string_value (json_object_get (self->settings, "tokenStore"));
    mcpact_oauth_load_fn *load = NULL;
    if (config->oauth_save) {
        load = config->oauth_load;
        self->save = config->oauth_save;
        self->store_arg = config->oauth_store_arg;
    } else if (!store || strcmp (store, "file") == 0) {
        load = token_store_load;
        self->save = token_store_save;
    }
    //  tokenStore is "file" or "memory": checked when set.
    char *text = load ? load (self->store_arg, self->name, self->url) : NULL;
    if (text) {
        json_error_t error;
        json_t *record = json_loads (text, 0, &error);
        const char *url = json_string_value (json_object_get (record, "url"));
        bool from_file = load == token_store_load;
        //  A record for another URL (the server moved) is not ours to use.
        if (record && json_is_object (record) && url && strcmp (url, self->url) == 0) {
            self->record = record;
            record = NULL;
            log_debug ("server %s: OAuth tokens loaded from the store", self->name);
        } else if (!record || !json_is_object (record))
            //  error.text may quote the file: not shown.
            s_record_unusable (self, from_file, "are not a JSON object (the file is damaged)");
        else if (!url)
            s_record_unusable (self, from_file, "name no server URL");
        else
            log_info ("server %s: the saved OAuth tokens are for another URL; not used",
                      self->name);
        json_decref (record);
        memset (text, 0, strlen (text));
        free (text);
    }
    return self;
}

void
oauth_destroy (oauth_t **self_p)
{
    oauth_t *self = *self_p;
    if (!self)
        return;
    s_abandon (self);
    s_progress_release (&self->progress);
    free (self->login_hint);
    free (self->name);
    free (self->url);
    json_decref (self->settings);
    json_decref (self->record);
    free (self->error);
    free (self);
    *self_p = NULL;
}

static const char *
s_token (oauth_t *self)
{
    const char *token = json_string_value (json_object_get (self->record, "access_token"));
    return token && *token ? token : NULL;
}

const char *
oauth_token (oauth_t *self)
{
    self->unused = false;
    return s_token (self);
}

unsigned
oauth_generation (oauth_t *self)
{
    return self->generation;
}

bool
oauth_busy (oauth_t *self)
{
    return self->fd >= 0;
}

int
oauth_challenge (oauth_t *self, long status, const char *challenge, unsigned generation)
{
    if (self->fd >= 0 || generation != self->generation)
        return 1; //  a run is on, or has brought a token since
    char *error = challenge ? oauth_challenge_param (challenge, "error") : NULL;
    bool step_up = status == 403 && error && strcmp (error, "insufficient_scope") == 0;
    free (error);
    if (status == 403 && !step_up)
        return 0; //  forbidden for another reason: no token helps
    const char *grant = json_string_value (json_object_get (self->settings, "grant"));
    bool interactive = !grant || strcmp (grant, "authorization_code") == 0;
    bool refreshable = json_object_get (self->record, "refresh_token") != NULL;
    if (interactive && !self->authorize && step_up) {
        //  More scope needs the user's consent, and nobody can be asked
        //  here: the scope is remembered in the record, so that the next
        //  login asks for it too.
        char *wanted = oauth_challenge_param (challenge, "scope");
        if (wanted && *wanted) {
            if (!self->record)
                self->record = json_object ();
            char *needed = NULL;
            oauth_scope_add (&needed,
                             json_string_value (json_object_get (self->record, "scope_needed")));
            oauth_scope_add (&needed, wanted);
            json_object_set_new (self->record, "scope_needed", json_string (needed));
            json_object_set_new (self->record, "url", json_string (self->url));
            char *text = json_dumps (self->record, JSON_COMPACT);
            if (self->save && text && self->save (self->store_arg, self->name, self->url, text))
                log_warn ("server %s: the scope it needs could not be saved", self->name);
            if (text)
                memset (text, 0, strlen (text));
            free (text);
            free (needed);
        }
        char *safe = wanted ? oauth_sanitise (wanted, 200) : NULL;
        free (self->error);
        if (asprintf (&self->error,
                      "the server wants more scope%s%s%s, which the user must grant, and the "
                      "host gave no way to ask (%s%s%s)",
                      safe ? " (" : "", safe ? safe : "", safe ? ")" : "",
                      self->login_hint ? "log in again, asking for it: " : "",
                      self->login_hint ? self->login_hint : "set an authorization callback",
                      self->login_hint ? ", or set an authorization callback" : "") < 0)
            self->error = NULL;
        free (safe);
        free (wanted);
        return -1;
    }
    if (interactive && !self->authorize && !refreshable)
        return 0; //  nobody to ask: the 401 stands, with its hint
    if (self->attempts >= MAX_ATTEMPTS) {
        free (self->error);
        self->error = strdup (step_up ? "the server still wants more scope after "
                                        "3 authorizations; giving up"
                                      : "the server still refuses the token after "
                                        "3 authorizations; giving up");
        return -1;
    }
    self->attempts++;
    if (s_start (self, status, challenge)) {
        free (self->error);
        self->error = strdup ("cannot start the authorization thread");
        return -1;
    }
    return 1;
}

bool
oauth_refresh_due (oauth_t *self)
{
    if (self->fd >= 0)
        return true;
    json_t *expires = json_object_get (self->record, "expires_at");
    //  A token is used at least once, however short its life: else a
    //  server giving tokens of a few seconds would see only refreshes.
    if (self->refresh_failed || self->unused || !json_is_integer (expires) ||
        !json_object_get (self->record, "refresh_token"))
        return false;
    if ((json_int_t) time (NULL) + REFRESH_MARGIN_S < json_integer_value (expires))
        return false;
    return s_start (self, 0, NULL) == 0;
}

int
oauth_fd (oauth_t *self)
{
    return self->fd;
}

int
oauth_timeout (oauth_t *self)
{
    if (self->fd < 0)
        return -1;
    int64_t wait = self->deadline - clock_ms ();
    return wait < 0 ? 0 : (int) wait;
}

int
oauth_collect (oauth_t *self)
{
    if (self->fd < 0)
        return 0;
    s_job_t *job = NULL;
    ssize_t got = recv (self->fd, &job, sizeof job, MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (clock_ms () < self->deadline)
            return 0;
        s_abandon (self);
        char step[sizeof self->progress->step] = "";
        if (self->progress) {
            pthread_mutex_lock (&self->progress->lock);
            memcpy (step, self->progress->step, sizeof step);
            pthread_mutex_unlock (&self->progress->lock);
        }
        free (self->error);
        if (asprintf (&self->error, "authorization did not finish within %d s%s%s%s",
                      self->authorize_ms / 1000, *step ? " (it was " : "", step,
                      *step ? ")" : "") < 0)
            self->error = NULL;
        return -1;
    }
    s_abandon (self);
    if (got != (ssize_t) sizeof job || !job) {
        free (self->error);
        self->error = strdup ("the authorization thread ended without an answer");
        return -1;
    }
    job->fd = -1;
    int rc;
    if (job->flow.error) {
        //  The transport's errors name the server already.
        size_t size = strlen (self->name);
        const char *error = job->flow.error;
        if (strncmp (error, "server ", 7) == 0 && strncmp (error + 7, self->name, size) == 0 &&
            strncmp (error + 7 + size, ": ", 2) == 0)
            error += 9 + size;
        free (self->error);
        self->error = strdup (error);
        self->refresh_failed = true;
        rc = -1;
    } else {
        json_decref (self->record);
        self->record = job->flow.record;
        job->flow.record = NULL;
        self->generation++;
        self->refresh_failed = false;
        self->unused = true;
        log_debug ("server %s: authorized", self->name);
        rc = 1;
    }
    s_job_destroy (&job);
    return rc;
}

const char *
oauth_error (oauth_t *self)
{
    return self->error;
}

void
oauth_confirmed (oauth_t *self)
{
    self->attempts = 0;
}

const char *
oauth_login_hint (oauth_t *self)
{
    return self->login_hint;
}

const char *
oauth_state (oauth_t *self)
{
    return self->fd >= 0 ? "authorizing" : s_token (self) ? "authorized" : "unauthorized";
}
