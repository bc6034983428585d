/*  =========================================================================
    curl_lib - libcurl, loaded when the first HTTP server starts

    libcurl and what it links (two TLS stacks, Kerberos, LDAP, SSH...) cost
    a process ~7 MB of resident memory once loaded and initialised. A host
    whose servers are all stdio should not pay that, so the HTTP transport
    loads libcurl (libcurl.so.4) with dlopen on first use and calls it
    through this table. Include this header instead of <curl/curl.h>: the
    curl_* functions the transport uses become calls through the table, so
    the code reads as plain libcurl.
    =========================================================================
*/

#ifndef MCPACT_CURL_LIB_H_INCLUDED
#define MCPACT_CURL_LIB_H_INCLUDED

//  The type-checking macros would wrap the names we map below.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

typedef struct {
    CURLcode (*global_init) (long flags);
    CURL *(*easy_init) (void);
    CURLcode (*easy_setopt) (CURL *easy, CURLoption option, ...);
    CURLcode (*easy_getinfo) (CURL *easy, CURLINFO info, ...);
    CURLcode (*easy_perform) (CURL *easy);
    void (*easy_cleanup) (CURL *easy);
    const char *(*easy_strerror) (CURLcode code);
    CURLHcode (*easy_header) (CURL *easy, const char *name, size_t index, unsigned int origin,
                              int request, struct curl_header **header);
    CURLM *(*multi_init) (void);
    CURLMcode (*multi_setopt) (CURLM *multi, CURLMoption option, ...);
    CURLMcode (*multi_add_handle) (CURLM *multi, CURL *easy);
    CURLMcode (*multi_remove_handle) (CURLM *multi, CURL *easy);
    CURLMcode (*multi_socket_action) (CURLM *multi, curl_socket_t fd, int events, int *running);
    CURLMsg *(*multi_info_read) (CURLM *multi, int *queued);
    CURLMcode (*multi_cleanup) (CURLM *multi);
    struct curl_slist *(*slist_append) (struct curl_slist *list, const char *text);
    void (*slist_free_all) (struct curl_slist *list);
    CURLU *(*url) (void);
    CURLUcode (*url_set) (CURLU *url, CURLUPart part, const char *content, unsigned int flags);
    CURLUcode (*url_get) (const CURLU *url, CURLUPart part, char **content, unsigned int flags);
    void (*url_cleanup) (CURLU *url);
    void (*free) (void *pointer);
} curl_lib_t;

extern curl_lib_t curl_lib;

//  Loads and initialises libcurl, once per process (any thread, any number
//  of times). Returns 0, or -1 with the reason (static text) in *error.
int curl_lib_load (const char **error);

#ifndef MCPACT_CURL_LIB_INTERNAL
//  curl.h wraps these to check their argument count; the table's own
//  prototypes do the checking here.
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init curl_lib.global_init
#define curl_easy_init curl_lib.easy_init
#define curl_easy_setopt curl_lib.easy_setopt
#define curl_easy_getinfo curl_lib.easy_getinfo
#define curl_easy_perform curl_lib.easy_perform
#define curl_easy_cleanup curl_lib.easy_cleanup
#define curl_easy_strerror curl_lib.easy_strerror
#define curl_easy_header curl_lib.easy_header
#define curl_multi_init curl_lib.multi_init
#define curl_multi_setopt curl_lib.multi_setopt
#define curl_multi_add_handle curl_lib.multi_add_handle
#define curl_multi_remove_handle curl_lib.multi_remove_handle
#define curl_multi_socket_action curl_lib.multi_socket_action
#define curl_multi_info_read curl_lib.multi_info_read
#define curl_multi_cleanup curl_lib.multi_cleanup
#define curl_slist_append curl_lib.slist_append
#define curl_slist_free_all curl_lib.slist_free_all
#define curl_url curl_lib.url
#define curl_url_set curl_lib.url_set
#define curl_url_get curl_lib.url_get
#define curl_url_cleanup curl_lib.url_cleanup
#define curl_free curl_lib.free
#endif

#endif
