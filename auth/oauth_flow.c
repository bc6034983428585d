/*  =========================================================================
    oauth_flow - one run of OAuth 2.1 authorization for an MCP server (see .h)

    Messages name the server and what was wrong; they quote URLs without
    their query (s_safe) and never a token, secret, code or
    assertion. Logs likewise.
    =========================================================================
*/

#include "oauth_flow.h"

#include "text.h"
#include "log.h"
#include "oauth_crypto.h"

#include "curl_lib.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Bytes of an HTTP answer kept (metadata and token answers are small).
#define BODY_MAX (256 * 1024)
//  The redirect URI when the settings name none.
#define DEFAULT_REDIRECT_URI "http://127.0.0.1:8976/callback"

#define GRANT_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define GRANT_TOKEN_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
#define TOKEN_TYPE_ID_JAG "urn:ietf:params:oauth:token-type:id-jag"
#define TOKEN_TYPE_ID_TOKEN "urn:ietf:params:oauth:token-type:id_token"
#define ASSERTION_TYPE_JWT "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

//  What discovery found, for one run.
typedef struct {
    json_t *prm;         //  protected-resource metadata, or NULL (2025-03-26)
    json_t *as;          //  authorization-server metadata, or NULL (fallback)
    char *as_url;        //  the authorization server's URL (issuer)
    char *resource;      //  the resource indicator we send
    char *authorize_url; //  authorization endpoint
    char *token_url;     //  token endpoint
    char *register_url;  //  registration endpoint, or NULL
} s_found_t;

typedef struct {
    long status;  //  HTTP status, 0 if the request failed
    char *body;   //  the answer (NUL-terminated), possibly cut at BODY_MAX
    size_t size;  //  its length
    char *failed; //  curl's reason when status is 0
} s_answer_t;

//  --------------------------------------------------------------------------
//  Small helpers

static int
s_fail (oauth_flow_t *flow, const char *format, ...)
{
    if (flow->error)
        return -1;
    char text[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    flow->error = strdup (text);
    return -1;
}

//  Tells the host's side which step starts (see oauth_flow_t.progress).
static void
s_step (oauth_flow_t *flow, const char *format, ...)
{
    if (!flow->progress)
        return;
    char text[512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    flow->progress (flow->progress_arg, text);
}

char *
oauth_sanitise (const char *text, size_t max)
{
    size_t size = strlen (text);
    bool cut = size > max;
    char *out = (char *) malloc ((cut ? max : size) + 4);
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i < size && i < max; i++)
        out[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
    if (cut)
        memcpy (out + i, "...", 3), i += 3;
    out[i] = '\0';
    return out;
}

void
oauth_scope_add (char **list, const char *add)
{
    char *copy = add ? strdup (add) : NULL, *save = NULL;
    for (char *word = copy ? strtok_r (copy, " ", &save) : NULL; word;
         word = strtok_r (NULL, " ", &save)) {
        bool present = false;
        char *have = *list ? strdup (*list) : NULL, *save2 = NULL;
        for (char *old = have ? strtok_r (have, " ", &save2) : NULL; old && !present;
             old = strtok_r (NULL, " ", &save2))
            present = strcmp (old, word) == 0;
        free (have);
        if (present)
            continue;
        char *joined = *list ? text_format ("%s %s", *list, word) : strdup (word);
        if (joined) {
            free (*list);
            *list = joined;
        }
    }
    free (copy);
}

static const char *
s_setting (oauth_flow_t *flow, const char *key)
{
    const char *value = json_string_value (json_object_get (flow->settings, key));
    return value && *value ? value : NULL;
}

static const char *
s_record (oauth_flow_t *flow, const char *key)
{
    const char *value = json_string_value (json_object_get (flow->record, key));
    return value && *value ? value : NULL;
}

static void
s_record_set (oauth_flow_t *flow, const char *key, const char *value)
{
    if (value)
        json_object_set_new (flow->record, key, json_string (value));
    else
        json_object_del (flow->record, key);
}

static const char *
s_meta (json_t *metadata, const char *key)
{
    const char *value = json_string_value (json_object_get (metadata, key));
    return value && *value ? value : NULL;
}

//  True if the JSON array `list` holds the string `value`.
static bool
s_lists (json_t *list, const char *value)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item) {
        if (json_is_string (item) && strcmp (json_string_value (item), value) == 0)
            return true;
    }
    return false;
}

//  The URL for messages: scheme, host, port and path, without credentials
//  or query (either may hold a secret). malloc'ed.
static char *
s_safe (const char *url)
{
    CURLU *handle = curl_url ();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *safe = NULL;
    if (handle && curl_url_set (handle, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get (handle, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get (handle, CURLUPART_HOST, &host, 0);
        curl_url_get (handle, CURLUPART_PORT, &port, 0);
        curl_url_get (handle, CURLUPART_PATH, &path, 0);
        safe = text_format ("%s://%s%s%s%s", scheme ? scheme : "?", host ? host : "?",
                            port ? ":" : "", port ? port : "", path ? path : "");
    }
    curl_free (scheme), curl_free (host), curl_free (port), curl_free (path);
    curl_url_cleanup (handle);
    return safe ? safe : strdup ("(a URL that cannot be parsed)");
}

//  Appends `key=value` to a form (application/x-www-form-urlencoded) or a
//  query: unreserved characters as they are, every other byte %XX.
static void
s_form_add (char **form, const char *key, const char *value)
{
    if (!value)
        return;
    size_t old = *form ? strlen (*form) : 0;
    size_t need = old + 1 + strlen (key) + 1 + 3 * strlen (value) + 1;
    char *grown = (char *) realloc (*form, need);
    if (!grown)
        return;
    char *out = grown + old;
    if (old)
        *out++ = '&';
    out += sprintf (out, "%s=", key);
    for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
        if (isalnum (*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            *out++ = (char) *p;
        else
            out += sprintf (out, "%%%02X", *p);
    }
    *out = '\0';
    *form = grown;
}

//  The text with %XX and '+' decoded (malloc'ed).
static char *
s_decode (const char *text, size_t size)
{
    char *out = (char *) malloc (size + 1), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < size; i++) {
        if (text[i] == '%' && i + 2 < size + 0 && isxdigit ((unsigned char) text[i + 1]) &&
            isxdigit ((unsigned char) text[i + 2])) {
            char hex[3] = { text[i + 1], text[i + 2], 0 };
            *p++ = (char) strtol (hex, NULL, 16);
            i += 2;
        } else
            *p++ = text[i] == '+' ? ' ' : text[i];
    }
    *p = '\0';
    return out;
}

//  One parameter of a URL's query (decoded, malloc'ed), or NULL.
static char *
s_query_param (const char *url, const char *name)
{
    const char *query = strchr (url, '?');
    query = query ? query + 1 : url;
    size_t name_size = strlen (name);
    for (const char *p = query; p && *p;) {
        const char *end = strpbrk (p, "&#");
        size_t size = end ? (size_t) (end - p) : strlen (p);
        if (size > name_size && strncmp (p, name, name_size) == 0 && p[name_size] == '=')
            return s_decode (p + name_size + 1, size - name_size - 1);
        if (!end || *end == '#')
            break;
        p = end + 1;
    }
    return NULL;
}

//  Splits a URL into its origin ("scheme://host[:port]", as written, for
//  building URLs) and path (without a trailing '/'; "" for the root).
static int
s_split_url (const char *url, char **origin, char **path)
{
    *origin = *path = NULL;
    CURLU *handle = curl_url ();
    char *scheme = NULL, *host = NULL, *port = NULL, *raw_path = NULL;
    if (handle && curl_url_set (handle, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get (handle, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get (handle, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get (handle, CURLUPART_PORT, &port, 0);
        curl_url_get (handle, CURLUPART_PATH, &raw_path, 0);
        *origin = text_format ("%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
        const char *p = raw_path ? raw_path : "";
        size_t size = strlen (p);
        while (size > 0 && p[size - 1] == '/')
            size--;
        *path = strndup (p, size);
    }
    curl_free (scheme), curl_free (host), curl_free (port), curl_free (raw_path);
    curl_url_cleanup (handle);
    if (*origin && *path)
        return 0;
    free (*origin), free (*path);
    *origin = *path = NULL;
    return -1;
}

//  The origin in the form two origins compare by (lower case, port
//  always given), or NULL.
static char *
s_origin_key (const char *url)
{
    CURLU *handle = curl_url ();
    char *scheme = NULL, *host = NULL, *port = NULL, *key = NULL;
    if (handle && curl_url_set (handle, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get (handle, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get (handle, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get (handle, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        key = text_format ("%s://%s:%s", scheme, host, port);
    curl_free (scheme), curl_free (host), curl_free (port);
    curl_url_cleanup (handle);
    for (char *p = key; p && *p; p++)
        *p = (char) tolower ((unsigned char) *p);
    return key;
}

//  True if `resource` may stand for the server at `url` (RFC 9728 3.3,
//  MCP 2025-11-25): the same origin, and its path the server's or a
//  parent of it, whole segments only.
static bool
s_resource_fits (const char *url, const char *resource)
{
    char *a = s_origin_key (url), *b = s_origin_key (resource);
    char *url_origin, *url_path, *res_origin, *res_path;
    bool fits = a && b && strcmp (a, b) == 0 && s_split_url (url, &url_origin, &url_path) == 0;
    if (fits) {
        fits = s_split_url (resource, &res_origin, &res_path) == 0;
        if (fits) {
            size_t size = strlen (res_path);
            fits = strncmp (url_path, res_path, size) == 0 &&
                   (url_path[size] == '\0' || url_path[size] == '/');
            free (res_origin), free (res_path);
        }
        free (url_origin), free (url_path);
    }
    free (a), free (b);
    return fits;
}

//  The URL with any trailing '/' left off, for comparing issuers.
static bool
s_same_url (const char *a, const char *b)
{
    size_t size_a = strlen (a), size_b = strlen (b);
    while (size_a > 0 && a[size_a - 1] == '/')
        size_a--;
    while (size_b > 0 && b[size_b - 1] == '/')
        size_b--;
    return size_a == size_b && strncmp (a, b, size_a) == 0;
}

//  --------------------------------------------------------------------------
//  HTTP, one blocking libcurl easy transfer each

static size_t
s_write_cb (char *data, size_t one, size_t size, void *arg)
{
    s_answer_t *answer = (s_answer_t *) arg;
    size_t bytes = one * size;
    size_t take = answer->size + bytes > BODY_MAX ? BODY_MAX - answer->size : bytes;
    char *grown = (char *) realloc (answer->body, answer->size + take + 1);
    if (!grown)
        return 0;
    memcpy (grown + answer->size, data, take);
    answer->size += take;
    grown[answer->size] = '\0';
    answer->body = grown;
    return bytes;
}

static void
s_answer_free (s_answer_t *answer)
{
    free (answer->body);
    free (answer->failed);
    memset (answer, 0, sizeof *answer);
}

//  GET (form NULL) or POST a form or JSON body; `authorization` is a whole
//  header value or NULL. Redirects are not followed: metadata and token
//  endpoints answer in place. Fills *answer; -1 if no HTTP answer came.
static int
s_request (oauth_flow_t *flow, const char *url, const char *form, const char *json_body,
           const char *authorization, s_answer_t *answer)
{
    memset (answer, 0, sizeof *answer);
    CURL *easy = curl_easy_init ();
    if (!easy) {
        answer->failed = strdup ("cannot make a curl handle");
        return -1;
    }
    char error[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = curl_slist_append (NULL, "Accept: application/json");
    char *line = NULL;
    if (authorization && (line = text_format ("Authorization: %s", authorization)))
        headers = curl_slist_append (headers, line);
    free (line);
    if (form)
        headers = curl_slist_append (headers, "Content-Type: application/x-www-form-urlencoded");
    else if (json_body)
        headers = curl_slist_append (headers, "Content-Type: application/json");
    curl_easy_setopt (easy, CURLOPT_URL, url);
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) flow->http_ms);
    curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS, (long) flow->http_ms);
    curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, answer);
    const char *body = form ? form : json_body;
    if (body) {
        curl_easy_setopt (easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE, (long) strlen (body));
    }
    CURLcode code = curl_easy_perform (easy);
    if (code == CURLE_OK)
        curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &answer->status);
    else
        answer->failed = strdup (error[0] ? error : curl_easy_strerror (code));
    curl_slist_free_all (headers);
    curl_easy_cleanup (easy);
    if (log_enabled (MCPACT_LOG_DEBUG)) {
        char *safe = s_safe (url);
        log_debug ("server %s: OAuth %s %s: %s%ld", flow->server, body ? "POST" : "GET", safe,
                   answer->failed ? answer->failed : "HTTP ", answer->status);
        free (safe);
    }
    return code == CURLE_OK ? 0 : -1;
}

//  The answer's body as a JSON object, or NULL.
static json_t *
s_answer_json (s_answer_t *answer)
{
    json_error_t error;
    json_t *value = answer->body ? json_loads (answer->body, 0, &error) : NULL;
    if (value && !json_is_object (value)) {
        json_decref (value);
        value = NULL;
    }
    return value;
}

//  GETs a metadata document: the JSON object on 200; NULL on an HTTP
//  error (4xx/5xx: not there, try the next place); NULL with the flow
//  failed when the request itself failed or the document is not JSON.
static json_t *
s_get_metadata (oauth_flow_t *flow, const char *url, const char *what)
{
    s_answer_t answer;
    json_t *document = NULL;
    char *safe = s_safe (url);
    s_step (flow, "fetching the %s from %s", what, safe);
    if (s_request (flow, url, NULL, NULL, NULL, &answer))
        s_fail (flow, "server %s: cannot fetch the %s at %s: %s", flow->server, what, safe,
                answer.failed);
    else if (answer.status == 200 && !(document = s_answer_json (&answer)))
        s_fail (flow, "server %s: the %s at %s is not a JSON object", flow->server, what, safe);
    free (safe);
    s_answer_free (&answer);
    return document;
}

//  --------------------------------------------------------------------------
//  Discovery

static void
s_found_free (s_found_t *found)
{
    json_decref (found->prm);
    json_decref (found->as);
    free (found->as_url);
    free (found->resource);
    free (found->authorize_url);
    free (found->token_url);
    free (found->register_url);
}

//  Protected-resource metadata, then the authorization server's.
static int
s_discover (oauth_flow_t *flow, s_found_t *found)
{
    char *origin, *path;
    if (s_split_url (flow->url, &origin, &path))
        return s_fail (flow, "server %s: the URL cannot be parsed", flow->server);

    //  RFC 9728: the URL the challenge names, else the well-known URIs.
    char *named =
        flow->challenge ? oauth_challenge_param (flow->challenge, "resource_metadata") : NULL;
    if (named) {
        found->prm = s_get_metadata (flow, named, "protected-resource metadata");
        if (!found->prm && !flow->error) {
            char *safe = s_safe (named);
            s_fail (flow, "server %s: its protected-resource metadata at %s is not there",
                    flow->server, safe);
            free (safe);
        }
        free (named);
    } else {
        char *candidates[2] = {
            *path ? text_format ("%s/.well-known/oauth-protected-resource%s", origin, path) : NULL,
            text_format ("%s/.well-known/oauth-protected-resource", origin)
        };
        for (int i = 0; i < 2 && !found->prm && !flow->error; i++)
            if (candidates[i])
                found->prm = s_get_metadata (flow, candidates[i], "protected-resource metadata");
        free (candidates[0]);
        free (candidates[1]);
    }
    if (flow->error) {
        free (origin), free (path);
        return -1;
    }

    if (found->prm) {
        const char *resource = s_meta (found->prm, "resource");
        json_t *servers = json_object_get (found->prm, "authorization_servers");
        const char *as_url = json_string_value (json_array_get (servers, 0));
        if (!resource || !as_url || !*as_url) {
            free (origin), free (path);
            return s_fail (flow,
                           "server %s: its protected-resource metadata lacks \"resource\" or "
                           "\"authorization_servers\"",
                           flow->server);
        }
        if (!s_resource_fits (flow->url, resource)) {
            char *safe_url = s_safe (flow->url), *safe_resource = s_safe (resource);
            s_fail (flow,
                    "server %s: its protected-resource metadata is for %s, not %s; refused to "
                    "authorise (a token for one resource must not go to another)",
                    flow->server, safe_resource, safe_url);
            free (safe_url), free (safe_resource);
            free (origin), free (path);
            return -1;
        }
        found->resource = strdup (resource);
        found->as_url = strdup (as_url);
    } else {
        //  A 2025-03-26 server: it is its own authorization server, at its
        //  origin.
        log_debug ("server %s: no protected-resource metadata; trying the server's origin as "
                   "its authorization server",
                   flow->server);
        found->as_url = strdup (origin);
        found->resource = strdup (flow->url);
        char *hash = strchr (found->resource, '#');
        if (hash)
            *hash = '\0';
    }

    //  RFC 8414 and OpenID Connect Discovery, in the specification's order.
    char *as_origin, *as_path;
    if (s_split_url (found->as_url, &as_origin, &as_path)) {
        free (origin), free (path);
        return s_fail (flow, "server %s: the authorization server's URL cannot be parsed",
                       flow->server);
    }
    char *candidates[3];
    if (*as_path) {
        candidates[0] =
            text_format ("%s/.well-known/oauth-authorization-server%s", as_origin, as_path);
        candidates[1] = text_format ("%s/.well-known/openid-configuration%s", as_origin, as_path);
        candidates[2] = text_format ("%s%s/.well-known/openid-configuration", as_origin, as_path);
    } else {
        candidates[0] = text_format ("%s/.well-known/oauth-authorization-server", as_origin);
        candidates[1] = text_format ("%s/.well-known/openid-configuration", as_origin);
        candidates[2] = NULL;
    }
    for (int i = 0; i < 3 && !found->as && !flow->error; i++)
        if (candidates[i])
            found->as = s_get_metadata (flow, candidates[i], "authorization-server metadata");
    for (int i = 0; i < 3; i++)
        free (candidates[i]);

    if (!flow->error && found->as) {
        const char *issuer = s_meta (found->as, "issuer");
        //  RFC 8414 3.3: the issuer must be the URL we looked it up for.
        //  A 2025-03-26 server's URL was only our guess, so not there.
        if (found->prm && (!issuer || !s_same_url (issuer, found->as_url))) {
            char *safe = s_safe (found->as_url);
            s_fail (flow,
                    "server %s: the authorization server at %s calls itself \"%s\"; an issuer "
                    "must match its URL, refused",
                    flow->server, safe, issuer ? issuer : "(no issuer)");
            free (safe);
        } else if (!s_meta (found->as, "token_endpoint"))
            s_fail (flow, "server %s: the authorization server's metadata has no token_endpoint",
                    flow->server);
        else {
            found->token_url = strdup (s_meta (found->as, "token_endpoint"));
            if (s_meta (found->as, "authorization_endpoint"))
                found->authorize_url = strdup (s_meta (found->as, "authorization_endpoint"));
            if (s_meta (found->as, "registration_endpoint"))
                found->register_url = strdup (s_meta (found->as, "registration_endpoint"));
            if (issuer) {
                free (found->as_url);
                found->as_url = strdup (issuer);
            }
        }
    } else if (!flow->error && found->prm)
        s_fail (flow,
                "server %s: its authorization server publishes no metadata (RFC 8414 or "
                "OpenID Connect Discovery)",
                flow->server);
    else if (!flow->error) {
        //  2025-03-26: without metadata, the default endpoints.
        log_debug ("server %s: no authorization-server metadata; using /authorize, /token and "
                   "/register at the server's origin",
                   flow->server);
        found->authorize_url = text_format ("%s/authorize", as_origin);
        found->token_url = text_format ("%s/token", as_origin);
        found->register_url = text_format ("%s/register", as_origin);
    }
    free (as_origin), free (as_path);
    free (origin), free (path);
    return flow->error ? -1 : 0;
}

//  --------------------------------------------------------------------------
//  The client: how it names and proves itself at the token endpoint

//  The method for a client with (or without) a secret, among those the
//  authorization server supports (RFC 8414: client_secret_basic when it
//  says nothing).
static const char *
s_pick_method (s_found_t *found, bool secret)
{
    json_t *supported = json_object_get (found->as, "token_endpoint_auth_methods_supported");
    if (!secret)
        return "none";
    if (!json_array_size (supported) || s_lists (supported, "client_secret_basic"))
        return "client_secret_basic";
    if (s_lists (supported, "client_secret_post"))
        return "client_secret_post";
    if (s_lists (supported, "none"))
        return "none";
    return "client_secret_basic";
}

//  Adds the client's authentication (record: client_id, client_secret,
//  auth_method) to a token request: a form field or a Basic header.
static int
s_client_auth (oauth_flow_t *flow, s_found_t *found, char **form, char **authorization)
{
    const char *id = s_record (flow, "client_id");
    const char *secret = s_record (flow, "client_secret");
    const char *method = s_record (flow, "auth_method");
    if (!method)
        method = "none";
    if (strcmp (method, "client_secret_basic") == 0 && secret) {
        //  RFC 6749 2.3.1: each part form-encoded first.
        char *id_enc = NULL, *secret_enc = NULL;
        s_form_add (&id_enc, "x", id);
        s_form_add (&secret_enc, "x", secret);
        char *pair =
            id_enc && secret_enc ? text_format ("%s:%s", id_enc + 2, secret_enc + 2) : NULL;
        char *encoded = pair ? oauth_base64 ((unsigned char *) pair, strlen (pair)) : NULL;
        *authorization = encoded ? text_format ("Basic %s", encoded) : NULL;
        free (id_enc), free (secret_enc), free (pair), free (encoded);
        return *authorization ? 0 : s_fail (flow, "server %s: out of memory", flow->server);
    }
    if (strcmp (method, "private_key_jwt") == 0) {
        const char *file = s_setting (flow, "privateKeyFile");
        char *pem = NULL;
        FILE *handle = file ? fopen (file, "r") : NULL;
        if (handle) {
            pem = (char *) calloc (1, 65537);
            if (pem)
                fread (pem, 1, 65536, handle);
            fclose (handle);
        }
        if (!pem)
            return s_fail (flow, "server %s: cannot read the private key file %s", flow->server,
                           file ? file : "(oauth.privateKeyFile not set)");
        char *jti = oauth_random (16);
        time_t now = time (NULL);
        //  RFC 7523 3: the audience is the authorization server (its
        //  issuer identifier).
        json_t *claims = json_pack ("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", id, "sub", id, "aud",
                                    found->as_url, "iat", (json_int_t) now, "exp",
                                    (json_int_t) now + 300, "jti", jti ? jti : "");
        char *why = NULL;
        char *assertion =
            claims ? oauth_jwt_sign (pem, s_setting (flow, "signingAlgorithm"), claims, &why)
                   : NULL;
        json_decref (claims);
        free (jti);
        memset (pem, 0, strlen (pem));
        free (pem);
        if (!assertion) {
            s_fail (flow, "server %s: cannot sign the client assertion: %s", flow->server,
                    why ? why : "out of memory");
            free (why);
            return -1;
        }
        s_form_add (form, "client_id", id);
        s_form_add (form, "client_assertion_type", ASSERTION_TYPE_JWT);
        s_form_add (form, "client_assertion", assertion);
        free (assertion);
        return 0;
    }
    s_form_add (form, "client_id", id);
    if (strcmp (method, "client_secret_post") == 0)
        s_form_add (form, "client_secret", secret);
    return 0;
}

//  Dynamic client registration (RFC 7591).
static int
s_register (oauth_flow_t *flow, s_found_t *found, const char *redirect_uri)
{
    json_t *supported = json_object_get (found->as, "token_endpoint_auth_methods_supported");
    const char *method = !json_array_size (supported) || s_lists (supported, "none") ? "none"
                         : s_lists (supported, "client_secret_basic") ? "client_secret_basic"
                                                                      : "client_secret_post";
    const char *name = s_setting (flow, "clientName");
    json_t *request =
        json_pack ("{s:s, s:[s], s:[s, s], s:[s], s:s}", "client_name", name ? name : "mcpact",
                   "redirect_uris", redirect_uri, "grant_types", "authorization_code",
                   "refresh_token", "response_types", "code", "token_endpoint_auth_method", method);
    char *body = request ? json_dumps (request, JSON_COMPACT) : NULL;
    json_decref (request);
    s_answer_t answer;
    char *safe = s_safe (found->register_url);
    s_step (flow, "registering the client at %s", safe);
    int rc = s_request (flow, found->register_url, NULL, body ? body : "{}", NULL, &answer);
    free (body);
    json_t *client = rc == 0 ? s_answer_json (&answer) : NULL;
    const char *id = s_meta (client, "client_id");
    if (rc)
        s_fail (flow, "server %s: client registration at %s failed: %s", flow->server, safe,
                answer.failed);
    else if (answer.status != 200 && answer.status != 201)
        s_fail (flow, "server %s: client registration at %s was refused (HTTP %ld)", flow->server,
                safe, answer.status);
    else if (!id)
        s_fail (flow, "server %s: client registration at %s returned no client_id", flow->server,
                safe);
    else {
        const char *secret = s_meta (client, "client_secret");
        const char *registered = s_meta (client, "token_endpoint_auth_method");
        s_record_set (flow, "client_id", id);
        s_record_set (flow, "client_secret", secret);
        s_record_set (flow, "auth_method",
                      registered ? registered : s_pick_method (found, secret != NULL));
        s_record_set (flow, "client_issuer", found->as_url);
        log_info ("server %s: registered as an OAuth client at %s", flow->server, safe);
    }
    json_decref (client);
    free (safe);
    s_answer_free (&answer);
    return flow->error ? -1 : 0;
}

//  Names the client for the authorization_code grant: pre-registered
//  credentials, a client ID metadata document, an earlier registration
//  with the same server, or a new registration; in that order.
static int
s_identify (oauth_flow_t *flow, s_found_t *found, const char *redirect_uri)
{
    const char *id = s_setting (flow, "clientId");
    const char *metadata_url = s_setting (flow, "clientMetadataUrl");
    if (id) {
        const char *secret = s_setting (flow, "clientSecret");
        s_record_set (flow, "client_id", id);
        s_record_set (flow, "client_secret", secret);
        s_record_set (flow, "auth_method", s_pick_method (found, secret != NULL));
        s_record_set (flow, "client_issuer", found->as_url);
        return 0;
    }
    if (metadata_url &&
        json_is_true (json_object_get (found->as, "client_id_metadata_document_supported"))) {
        s_record_set (flow, "client_id", metadata_url);
        s_record_set (flow, "client_secret", NULL);
        s_record_set (flow, "auth_method", "none");
        s_record_set (flow, "client_issuer", found->as_url);
        return 0;
    }
    const char *issuer = s_record (flow, "client_issuer");
    if (s_record (flow, "client_id") && issuer && strcmp (issuer, found->as_url) == 0)
        return 0;
    if (found->register_url)
        return s_register (flow, found, redirect_uri);
    return s_fail (flow,
                   "server %s: the authorization server offers no client registration; set "
                   "oauth.clientId (and clientSecret) for a client registered there%s",
                   flow->server,
                   json_object_get (found->as, "client_id_metadata_document_supported")
                       ? ", or oauth.clientMetadataUrl"
                       : "");
}

//  --------------------------------------------------------------------------
//  Token requests

//  Posts a token request and takes the tokens from the answer into the
//  record. `scope` is what was asked for, kept when the answer names none.
static int
s_token_request (oauth_flow_t *flow, s_found_t *found, const char *token_url, char *form,
                 const char *authorization, const char *scope, const char *what)
{
    s_answer_t answer;
    char *safe = s_safe (token_url);
    s_step (flow, "sending the %s request to %s", what, safe);
    int rc = s_request (flow, token_url, form ? form : "", NULL, authorization, &answer);
    json_t *tokens = rc == 0 ? s_answer_json (&answer) : NULL;
    const char *access = s_meta (tokens, "access_token");
    if (rc)
        s_fail (flow, "server %s: the %s request to %s failed: %s", flow->server, what, safe,
                answer.failed);
    else if (answer.status != 200 || !access) {
        //  error and error_description are the server's words about our
        //  request (RFC 6749 5.2), never a secret of ours.
        //  Sanitised: a server's words must not drive the terminal.
        char *error =
            s_meta (tokens, "error") ? oauth_sanitise (s_meta (tokens, "error"), 100) : NULL;
        char *description = s_meta (tokens, "error_description")
                                ? oauth_sanitise (s_meta (tokens, "error_description"), 300)
                                : NULL;
        s_fail (flow, "server %s: the %s request to %s was refused (HTTP %ld%s%s%s%s)",
                flow->server, what, safe, answer.status, error ? ", " : "", error ? error : "",
                description ? ": " : "", description ? description : "");
        free (error), free (description);
    } else {
        const char *type = s_meta (tokens, "token_type");
        if (type && strcasecmp (type, "Bearer") != 0 && strcasecmp (type, "N_A") != 0)
            log_warn ("server %s: the token endpoint gave a %s token; using it as a Bearer token",
                      flow->server, type);
        s_record_set (flow, "access_token", access);
        const char *refresh = s_meta (tokens, "refresh_token");
        if (refresh)
            s_record_set (flow, "refresh_token", refresh);
        json_t *expires = json_object_get (tokens, "expires_in");
        if (json_is_integer (expires) || json_is_real (expires))
            json_object_set_new (
                flow->record, "expires_at",
                json_integer ((json_int_t) time (NULL) + (json_int_t) json_number_value (expires)));
        else
            json_object_del (flow->record, "expires_at");
        const char *granted = s_meta (tokens, "scope");
        s_record_set (flow, "scope", granted ? granted : scope);
        //  What a step-up wanted has now been asked for.
        s_record_set (flow, "scope_needed", NULL);
        if (found) {
            s_record_set (flow, "token_endpoint", token_url);
            s_record_set (flow, "resource", found->resource);
            s_record_set (flow, "issuer", found->as_url);
        }
        log_info ("server %s: %s: got an access token%s", flow->server, what,
                  refresh ? " and a refresh token" : "");
    }
    json_decref (tokens);
    free (safe);
    s_answer_free (&answer);
    return flow->error ? -1 : 0;
}

//  The refresh_token grant with what the record holds. 0 or -1; a failure
//  here is not the flow's: the caller goes on to authorise afresh.
static int
s_refresh (oauth_flow_t *flow)
{
    const char *refresh = s_record (flow, "refresh_token");
    const char *token_url = s_record (flow, "token_endpoint");
    if (!refresh || !token_url)
        return -1;
    //  Refreshing keeps the granted scope: what a step-up still needs stays.
    char *needed =
        s_record (flow, "scope_needed") ? strdup (s_record (flow, "scope_needed")) : NULL;
    char *form = NULL, *authorization = NULL;
    s_form_add (&form, "grant_type", "refresh_token");
    s_form_add (&form, "refresh_token", refresh);
    s_form_add (&form, "resource", s_record (flow, "resource"));
    s_step (flow, "refreshing the token");
    char *scope = s_record (flow, "scope") ? strdup (s_record (flow, "scope")) : NULL;
    //  The client's authentication needs the issuer for private_key_jwt.
    s_found_t found = { 0 };
    found.as_url = s_record (flow, "issuer") ? strdup (s_record (flow, "issuer")) : strdup ("");
    found.resource = s_record (flow, "resource") ? strdup (s_record (flow, "resource")) : NULL;
    int rc = s_client_auth (flow, &found, &form, &authorization);
    char *token_copy = strdup (token_url);
    if (rc == 0) {
        //  A refresh token that did its job once is spent if the server
        //  rotates it; the answer's, if any, replaces it.
        rc = s_token_request (flow, NULL, token_copy, form, authorization, scope, "refresh");
    }
    free (token_copy);
    free (form);
    free (authorization);
    free (scope);
    s_found_free (&found);
    if (rc == 0 && needed)
        s_record_set (flow, "scope_needed", needed);
    free (needed);
    if (rc) {
        log_info ("server %s: refreshing the token failed (%s); authorising again", flow->server,
                  flow->error ? flow->error : "?");
        free (flow->error);
        flow->error = NULL;
        s_record_set (flow, "refresh_token", NULL);
    }
    return rc;
}

//  The scopes to ask for: the union of the challenge's, the scopes
//  already granted (on a step-up), the configured ones (oauth.scopes) and
//  what an earlier step-up needed but could not ask for (the record's
//  scope_needed); with none of these, the resource's scopes_supported;
//  else none (NULL). malloc'ed.
static char *
s_pick_scope (oauth_flow_t *flow, s_found_t *found)
{
    char *challenged = flow->challenge ? oauth_challenge_param (flow->challenge, "scope") : NULL;
    char *scope = NULL;
    oauth_scope_add (&scope, challenged);
    if (flow->status == 403)
        oauth_scope_add (&scope, s_record (flow, "scope"));
    oauth_scope_add (&scope, s_setting (flow, "scopes"));
    oauth_scope_add (&scope, s_record (flow, "scope_needed"));
    if (!scope) {
        json_t *supported = json_object_get (found->prm, "scopes_supported");
        size_t index;
        json_t *item;
        json_array_foreach (supported, index, item) {
            if (json_is_string (item))
                oauth_scope_add (&scope, json_string_value (item));
        }
    }
    free (challenged);
    return scope;
}

//  --------------------------------------------------------------------------
//  The grants

static int
s_authorization_code (oauth_flow_t *flow, s_found_t *found)
{
    if (!found->authorize_url)
        return s_fail (flow, "server %s: the authorization server has no authorization_endpoint",
                       flow->server);
    //  MCP 2025-11-25: no PKCE S256 advertised, no authorization. Only a
    //  2025-03-26 server without any metadata is taken on trust.
    if (found->as &&
        !s_lists (json_object_get (found->as, "code_challenge_methods_supported"), "S256"))
        return s_fail (flow,
                       "server %s: the authorization server does not advertise PKCE with S256 "
                       "(code_challenge_methods_supported); refused",
                       flow->server);
    if (!flow->authorize)
        return s_fail (flow,
                       "server %s: needs authorization and the host gave no way to ask the user "
                       "(%s%s%s)",
                       flow->server, flow->login_hint ? "log in first: " : "",
                       flow->login_hint ? flow->login_hint : "set an authorization callback",
                       flow->login_hint ? ", or set an authorization callback" : "");
    const char *redirect_uri = s_setting (flow, "redirectUri");
    if (!redirect_uri)
        redirect_uri = DEFAULT_REDIRECT_URI;
    if (s_identify (flow, found, redirect_uri))
        return -1;

    char *scope = s_pick_scope (flow, found);
    //  SEP-2207: a refresh token needs offline_access where the
    //  authorization server lists it.
    if (scope && s_lists (json_object_get (found->as, "scopes_supported"), "offline_access") &&
        !strstr (scope, "offline_access")) {
        char *joined = text_format ("%s offline_access", scope);
        free (scope);
        scope = joined;
    }
    char *verifier = oauth_random (32);
    char *challenge = verifier ? oauth_s256 (verifier) : NULL;
    char *state = oauth_random (16);
    if (!verifier || !challenge || !state) {
        free (scope), free (verifier), free (challenge), free (state);
        return s_fail (flow, "server %s: no random bytes for PKCE", flow->server);
    }
    char *query = NULL;
    s_form_add (&query, "response_type", "code");
    s_form_add (&query, "client_id", s_record (flow, "client_id"));
    s_form_add (&query, "redirect_uri", redirect_uri);
    s_form_add (&query, "state", state);
    s_form_add (&query, "code_challenge", challenge);
    s_form_add (&query, "code_challenge_method", "S256");
    s_form_add (&query, "scope", scope);
    s_form_add (&query, "resource", found->resource);
    char *url = text_format ("%s%c%s", found->authorize_url,
                             strchr (found->authorize_url, '?') ? '&' : '?', query ? query : "");
    free (query);
    log_info ("server %s: asking the user to authorise%s%s", flow->server, scope ? " scope " : "",
              scope ? scope : "");
    s_step (flow, "waiting for the user to authorise, in the authorization callback");
    char *redirect =
        url ? flow->authorize (flow->authorize_arg, flow->server, url, redirect_uri) : NULL;
    free (url);
    char *code = NULL;
    if (!redirect)
        s_fail (flow,
                "server %s: authorization was not given (the authorization callback "
                "returned nothing)",
                flow->server);
    else if (strchr (redirect, '?') || strstr (redirect, "code=") || strstr (redirect, "error=")) {
        char *error = s_query_param (redirect, "error");
        char *returned_state = s_query_param (redirect, "state");
        code = s_query_param (redirect, "code");
        if (error) {
            //  RFC 6749 4.1.2.1: error, error_description: the server's
            //  words, sanitised; the state does not matter for a refusal.
            char *description = s_query_param (redirect, "error_description");
            char *safe_error = oauth_sanitise (error, 100);
            char *safe_description = description ? oauth_sanitise (description, 300) : NULL;
            s_fail (flow, "server %s: the authorization server refused: %s%s%s", flow->server,
                    safe_error ? safe_error : "?", safe_description ? ": " : "",
                    safe_description ? safe_description : "");
            free (description), free (safe_error), free (safe_description);
        } else if (!returned_state || strcmp (returned_state, state) != 0)
            s_fail (flow,
                    "server %s: the redirect's state does not match the request's; refused "
                    "(a forged or stale redirect)",
                    flow->server);
        else if (!code || !*code)
            s_fail (flow, "server %s: the redirect holds no authorization code", flow->server);
        free (error);
        free (returned_state);
    } else
        code = strdup (redirect);
    //  RFC 6749 A.11: a code is visible ASCII. An empty or garbled answer
    //  is refused here rather than sent to the token endpoint (and never
    //  quoted: it may be a code).
    if (!flow->error && code && !*code)
        s_fail (flow,
                "server %s: the authorization callback returned an empty answer, neither a "
                "redirect URL nor a code; refused",
                flow->server);
    else if (!flow->error && code) {
        for (const char *p = code; *p && !flow->error; p++)
            if (*p <= 0x20 || *p >= 0x7f)
                s_fail (flow,
                        "server %s: the authorization callback's answer is neither a redirect "
                        "URL nor an authorization code (it holds spaces or control "
                        "characters); refused",
                        flow->server);
    }
    if (redirect) {
        memset (redirect, 0, strlen (redirect));
        free (redirect);
    }
    int rc = -1;
    if (!flow->error) {
        char *form = NULL, *authorization = NULL;
        s_form_add (&form, "grant_type", "authorization_code");
        s_form_add (&form, "code", code);
        s_form_add (&form, "redirect_uri", redirect_uri);
        s_form_add (&form, "code_verifier", verifier);
        s_form_add (&form, "resource", found->resource);
        if (s_client_auth (flow, found, &form, &authorization) == 0)
            rc = s_token_request (flow, found, found->token_url, form, authorization, scope,
                                  "authorization code");
        free (form);
        free (authorization);
    }
    if (code)
        memset (code, 0, strlen (code));
    free (code), free (scope), free (verifier), free (challenge), free (state);
    return rc;
}

static int
s_client_credentials (oauth_flow_t *flow, s_found_t *found)
{
    const char *id = s_setting (flow, "clientId");
    if (!id)
        return s_fail (flow, "server %s: the client_credentials grant needs oauth.clientId",
                       flow->server);
    s_record_set (flow, "client_id", id);
    s_record_set (flow, "client_issuer", found->as_url);
    if (s_setting (flow, "privateKeyFile"))
        s_record_set (flow, "auth_method", "private_key_jwt");
    else if (s_setting (flow, "clientSecret")) {
        s_record_set (flow, "client_secret", s_setting (flow, "clientSecret"));
        s_record_set (flow, "auth_method", s_pick_method (found, true));
    } else
        return s_fail (flow,
                       "server %s: the client_credentials grant needs oauth.clientSecret or "
                       "oauth.privateKeyFile",
                       flow->server);
    char *scope = s_pick_scope (flow, found);
    char *form = NULL, *authorization = NULL;
    s_form_add (&form, "grant_type", "client_credentials");
    s_form_add (&form, "scope", scope);
    s_form_add (&form, "resource", found->resource);
    int rc = s_client_auth (flow, found, &form, &authorization);
    if (rc == 0)
        rc = s_token_request (flow, found, found->token_url, form, authorization, scope,
                              "client credentials");
    free (form), free (authorization), free (scope);
    return rc;
}

//  Cross-app access (enterprise-managed authorization): the identity
//  provider exchanges the user's ID token for an identity assertion
//  authorization grant (ID-JAG, RFC 8693), which the MCP server's
//  authorization server takes as a jwt-bearer grant (RFC 7523).
static int
s_cross_app_access (oauth_flow_t *flow, s_found_t *found)
{
    const char *idp_token_url = s_setting (flow, "idpTokenEndpoint");
    const char *id = s_setting (flow, "clientId");
    char *id_token = s_setting (flow, "idToken") ? strdup (s_setting (flow, "idToken")) : NULL;
    const char *id_token_file = s_setting (flow, "idTokenFile");
    if (!id_token && id_token_file) {
        FILE *handle = fopen (id_token_file, "r");
        if (handle) {
            id_token = (char *) calloc (1, 65537);
            if (id_token && fread (id_token, 1, 65536, handle) > 0)
                id_token[strcspn (id_token, "\r\n")] = '\0';
            fclose (handle);
        }
    }
    if (!idp_token_url || !id || !id_token) {
        free (id_token);
        return s_fail (flow,
                       "server %s: cross_app_access needs oauth.idpTokenEndpoint, "
                       "oauth.clientId and oauth.idToken (or idTokenFile)",
                       flow->server);
    }
    char *scope = s_pick_scope (flow, found);
    char *form = NULL, *authorization = NULL;
    s_form_add (&form, "grant_type", GRANT_TOKEN_EXCHANGE);
    s_form_add (&form, "requested_token_type", TOKEN_TYPE_ID_JAG);
    s_form_add (&form, "audience", found->as_url);
    s_form_add (&form, "resource", found->resource);
    s_form_add (&form, "scope", scope);
    s_form_add (&form, "subject_token", id_token);
    s_form_add (&form, "subject_token_type", TOKEN_TYPE_ID_TOKEN);
    s_form_add (&form, "client_id", s_setting (flow, "idpClientId"));
    s_form_add (&form, "client_secret", s_setting (flow, "idpClientSecret"));
    memset (id_token, 0, strlen (id_token));
    free (id_token);

    //  The exchange answers with the ID-JAG as its "access_token": kept
    //  aside, it is a grant, not a token for the MCP server.
    json_t *saved = flow->record;
    flow->record = json_object ();
    int rc = s_token_request (flow, NULL, idp_token_url, form, NULL, scope, "token exchange");
    char *grant = rc == 0 && s_record (flow, "access_token")
                      ? strdup (s_record (flow, "access_token"))
                      : NULL;
    json_decref (flow->record);
    flow->record = saved;
    free (form);
    form = NULL;
    if (rc == 0) {
        s_record_set (flow, "client_id", id);
        s_record_set (flow, "client_secret", s_setting (flow, "clientSecret"));
        s_record_set (flow, "auth_method", s_pick_method (found, s_setting (flow, "clientSecret")));
        s_record_set (flow, "client_issuer", found->as_url);
        s_form_add (&form, "grant_type", GRANT_JWT_BEARER);
        s_form_add (&form, "assertion", grant);
        s_form_add (&form, "scope", scope);
        rc = s_client_auth (flow, found, &form, &authorization);
        if (rc == 0)
            rc = s_token_request (flow, found, found->token_url, form, authorization, scope,
                                  "jwt-bearer");
    }
    if (grant)
        memset (grant, 0, strlen (grant));
    free (grant), free (form), free (authorization), free (scope);
    return rc;
}

//  --------------------------------------------------------------------------
//  WWW-Authenticate

char *
oauth_challenge_param (const char *challenge, const char *name)
{
    const char *p = challenge;
    //  The scheme, then auth-params: name=token or name="quoted".
    while (*p && !isspace ((unsigned char) *p))
        p++;
    size_t name_size = strlen (name);
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *key = p;
        while (*p && *p != '=' && *p != ',' && *p != ' ')
            p++;
        size_t key_size = (size_t) (p - key);
        while (*p == ' ')
            p++;
        if (*p != '=')
            continue;
        p++;
        while (*p == ' ')
            p++;
        char *value = (char *) malloc (strlen (p) + 1), *out = value;
        if (!value)
            return NULL;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                *out++ = *p;
            }
            if (*p == '"')
                p++;
        } else
            while (*p && *p != ',' && *p != ' ')
                *out++ = *p++;
        *out = '\0';
        if (key_size == name_size && strncasecmp (key, name, name_size) == 0)
            return value;
        free (value);
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  The run

int
oauth_flow_run (oauth_flow_t *flow)
{
    const char *unloaded = NULL;
    if (curl_lib_load (&unloaded) != 0)
        return s_fail (flow, "server %s: %s", flow->server, unloaded);
    if (!flow->record)
        flow->record = json_object ();
    if (!flow->record)
        return s_fail (flow, "server %s: out of memory", flow->server);
    const char *grant = s_setting (flow, "grant");
    if (!grant)
        grant = "authorization_code";
    //  A 401 with a token, or a token about to expire: refresh first.
    //  A 403 wants more scope, which a refresh cannot bring.
    if (flow->status != 403 && s_record (flow, "refresh_token") && s_refresh (flow) == 0)
        return 0;
    //  Ahead of expiry, a refresh or nothing: the token still works, and
    //  the user is asked only once the server refuses it.
    if (flow->status == 0)
        return s_fail (flow, "server %s: the token could not be refreshed", flow->server);
    s_record_set (flow, "access_token", NULL);
    s_found_t found = { 0 };
    int rc = s_discover (flow, &found);
    if (rc == 0) {
        if (strcmp (grant, "authorization_code") == 0)
            rc = s_authorization_code (flow, &found);
        else if (strcmp (grant, "client_credentials") == 0)
            rc = s_client_credentials (flow, &found);
        else if (strcmp (grant, "cross_app_access") == 0)
            rc = s_cross_app_access (flow, &found);
        else
            rc = s_fail (flow,
                         "server %s: oauth.grant \"%s\" is not one of authorization_code, "
                         "client_credentials, cross_app_access",
                         flow->server, grant);
    }
    s_found_free (&found);
    return rc;
}
