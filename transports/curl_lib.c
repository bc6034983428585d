/*  =========================================================================
    curl_lib - libcurl, loaded when the first HTTP server starts (see .h)
    =========================================================================
*/

#define MCPACT_CURL_LIB_INTERNAL 1
#include "curl_lib.h"

#include "log.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

curl_lib_t curl_lib;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static const char *s_error; //  why loading failed, NULL if it did not
static char s_reason[512];

//  The soname of libcurl 7.16 and later, the ABI the headers describe.
#define CURL_LIB_NAME "libcurl.so.4"

static void
s_load (void)
{
    void *library = dlopen (CURL_LIB_NAME, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *reason = dlerror ();
        snprintf (s_reason, sizeof s_reason, "cannot load %s (needed for HTTP servers): %s",
                  CURL_LIB_NAME, reason ? reason : "unknown error");
        s_error = s_reason;
        return;
    }
    struct {
        const char *name;
        void **slot;
    } symbols[] = {
#define S_SYMBOL(field, name) { name, (void **) &curl_lib.field }
        S_SYMBOL (global_init, "curl_global_init"),
        S_SYMBOL (easy_init, "curl_easy_init"),
        S_SYMBOL (easy_setopt, "curl_easy_setopt"),
        S_SYMBOL (easy_getinfo, "curl_easy_getinfo"),
        S_SYMBOL (easy_perform, "curl_easy_perform"),
        S_SYMBOL (easy_cleanup, "curl_easy_cleanup"),
        S_SYMBOL (easy_strerror, "curl_easy_strerror"),
        S_SYMBOL (easy_header, "curl_easy_header"),
        S_SYMBOL (multi_init, "curl_multi_init"),
        S_SYMBOL (multi_setopt, "curl_multi_setopt"),
        S_SYMBOL (multi_add_handle, "curl_multi_add_handle"),
        S_SYMBOL (multi_remove_handle, "curl_multi_remove_handle"),
        S_SYMBOL (multi_socket_action, "curl_multi_socket_action"),
        S_SYMBOL (multi_info_read, "curl_multi_info_read"),
        S_SYMBOL (multi_cleanup, "curl_multi_cleanup"),
        S_SYMBOL (slist_append, "curl_slist_append"),
        S_SYMBOL (slist_free_all, "curl_slist_free_all"),
        S_SYMBOL (url, "curl_url"),
        S_SYMBOL (url_set, "curl_url_set"),
        S_SYMBOL (url_get, "curl_url_get"),
        S_SYMBOL (url_cleanup, "curl_url_cleanup"),
        S_SYMBOL (free, "curl_free"),
#undef S_SYMBOL
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        //  POSIX: a data pointer from dlsym converts to a function pointer.
        *symbols[i].slot = dlsym (library, symbols[i].name);
        if (!*symbols[i].slot) {
            snprintf (s_reason, sizeof s_reason,
                      "%s lacks %s: libcurl 7.83 or later is needed for HTTP servers",
                      CURL_LIB_NAME, symbols[i].name);
            s_error = s_reason;
            memset (&curl_lib, 0, sizeof curl_lib);
            dlclose (library);
            return;
        }
    }
    CURLcode rc = curl_lib.global_init (CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf (s_reason, sizeof s_reason, "libcurl did not initialise (code %d)", (int) rc);
        s_error = s_reason;
        return;
    }
    //  Kept loaded for the life of the process, as libcurl wants.
    log_debug ("loaded %s for HTTP servers", CURL_LIB_NAME);
}

int
curl_lib_load (const char **error)
{
    pthread_once (&s_once, s_load);
    if (s_error && error)
        *error = s_error;
    return s_error ? -1 : 0;
}
