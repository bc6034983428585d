/*  =========================================================================
    test_install - mcpact as a library a host installs and links

    What a host sees of the built and installed library: the names the
    shared and static libraries make global (the mcpact_* API, all of it,
    nothing else), the version, and examples/host.c built and run against
    an install (`cmake --install` into a fresh prefix) with pkg-config and
    with find_package, and against the source tree with add_subdirectory.
    Each case runs the tools (nm, readelf, pkg-config, cmake, the C
    compiler) as a user would, in a directory of its own under the build
    tree, removed when the case passes. Single-threaded.
    =========================================================================
*/

#include "testutil.h"

#include <mcpact.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

//  The library files in the build tree.
#define SHARED_LIB MCPACT_BUILD_DIR "/libmcpact.so"
#define STATIC_LIB MCPACT_BUILD_DIR "/libmcpact.a"
#define EXAMPLE_SERVER MCPACT_BUILD_DIR "/mcpact-example-server"
#define HOST_SOURCE MCPACT_SOURCE_DIR "/examples/host.c"
#define HOST_PROJECT MCPACT_SOURCE_DIR "/tests/install"

//  What examples/host.c prints when its call succeeded.
#define HOST_ECHOED "\"text\":\"hello from the host\""

//  Runs `sh -c COMMAND` with stderr joined to stdout; returns the exit
//  status (128 + signal when killed) and the output (ours to free).
static int
s_run (char **output, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *command = NULL;
    CHECK (vasprintf (&command, format, args) >= 0);
    va_end (args);
    char *wrapped = NULL;
    CHECK (asprintf (&wrapped, "( %s ) 2>&1", command) >= 0);
    FILE *pipe = popen (wrapped, "r");
    CHECK (pipe);
    size_t size = 0, capacity = 4096;
    char *text = malloc (capacity);
    CHECK (text);
    size_t got;
    while ((got = fread (text + size, 1, capacity - size - 1, pipe)) > 0) {
        size += got;
        if (capacity - size < 1024) {
            capacity *= 2;
            text = realloc (text, capacity);
            CHECK (text);
        }
    }
    text[size] = '\0';
    int status = pclose (pipe);
    status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
    fprintf (stderr, "$ %s  -> %d\n", command, status);
    free (wrapped);
    free (command);
    *output = text;
    return status;
}

//  Runs a command that must succeed; returns its output (ours to free).
#define RUN_OK(...)                                                                                \
    ({                                                                                             \
        char *t_out_;                                                                              \
        int t_rc_ = s_run (&t_out_, __VA_ARGS__);                                                  \
        CHECK_MSG (t_rc_ == 0, "exit status %d, output:\n%s", t_rc_, t_out_);                      \
        t_out_;                                                                                    \
    })

//  A fresh directory for one case, under the build tree.
static char *
s_workdir (const char *name)
{
    char *dir = NULL;
    CHECK (asprintf (&dir, "%s/install-test/%s", MCPACT_BUILD_DIR, name) >= 0);
    free (RUN_OK ("rm -rf '%s' && mkdir -p '%s'", dir, dir));
    return dir;
}

static void
s_workdir_remove (char **dir_p)
{
    free (RUN_OK ("rm -rf '%s'", *dir_p));
    free (*dir_p);
    *dir_p = NULL;
}

//  `cmake --install` of this build into DIR/prefix; returns that prefix.
static char *
s_install (const char *dir)
{
    char *prefix = NULL;
    CHECK (asprintf (&prefix, "%s/prefix", dir) >= 0);
    free (RUN_OK ("'%s' --install '%s' --prefix '%s'", MCPACT_CMAKE, MCPACT_BUILD_DIR, prefix));
    return prefix;
}

//  Checks that the global names listed by COMMAND are exactly the
//  functions include/mcpact.h declares: no internal name, none missing.
static void
s_check_globals_are_the_api (const char *what, const char *command)
{
    char *dir = s_workdir (what);
    free (RUN_OK ("cd '%s' && %s | sort -u > library", dir, command));
    char *outside = RUN_OK ("cd '%s' && grep -v '^mcpact_' library || true", dir);
    CHECK_MSG (*outside == '\0', "%s makes names outside the API global:\n%s", what, outside);
    //  Every declaration in the header reads MCPACT_EXPORT <type> <name> (.
    free (RUN_OK ("cd '%s' && grep -o 'MCPACT_EXPORT [^(]*mcpact_[a-z0-9_]* (' '%s' "
                  "| sed -E 's/.*(mcpact_[a-z0-9_]+) [(]$/\\1/' | sort -u > api",
                  dir, MCPACT_SOURCE_DIR "/include/mcpact.h"));
    char *diff = NULL;
    int rc = s_run (&diff, "cd '%s' && grep -c . api && diff api library", dir);
    CHECK_MSG (rc == 0, "%s does not define the API exactly (< header, > library):\n%s", what,
               diff);
    CHECK (atoi (diff) > 60); //  the header's functions were found
    free (diff);
    free (outside);
    s_workdir_remove (&dir);
}

TEST (shared_exports_api_only)
{
    s_check_globals_are_the_api ("libmcpact.so",
                                 "nm -D --defined-only '" SHARED_LIB "' | awk '{print $NF}'");
}

TEST (static_defines_api_only)
{
    s_check_globals_are_the_api ("libmcpact.a", "nm -g --defined-only '" STATIC_LIB
                                                "' | awk 'NF == 3 {print $3}'");
}

//  A host that defines log_msg, config_load, actor_new, ... links with
//  libmcpact.a and works: the library's own names are local to it.
TEST (static_names_do_not_collide)
{
    char *dir = s_workdir ("collide");
    free (RUN_OK (
        "cd '%s' && '%s' %s -I'%s' '%s' '%s' $(pkg-config --libs libczmq libzmq jansson libcrypto) "
        "-pthread -ldl -o collide",
        dir, MCPACT_CC, MCPACT_HOST_CFLAGS, MCPACT_SOURCE_DIR "/include",
        MCPACT_SOURCE_DIR "/tests/install/collide.c", STATIC_LIB));
    char *output = RUN_OK ("'%s/collide' '%s'", dir, EXAMPLE_SERVER);
    CHECK_CONTAINS (output, "\"text\":\"no clash\"");
    free (output);
    s_workdir_remove (&dir);
}

TEST (version_is_the_headers)
{
    int major = -1, minor = -1, patch = -1;
    mcpact_version (&major, &minor, &patch);
    CHECK (major == MCPACT_VERSION_MAJOR && minor == MCPACT_VERSION_MINOR &&
           patch == MCPACT_VERSION_PATCH);
    mcpact_version (NULL, NULL, NULL);
    CHECK (MCPACT_VERSION == MCPACT_MAKE_VERSION (major, minor, patch));

    //  libmcpact.so -> libmcpact.so.MAJOR -> libmcpact.so.MAJOR.MINOR.PATCH
    char expected[128];
    snprintf (expected, sizeof expected, "Library soname: [libmcpact.so.%d]", major);
    char *dynamic = RUN_OK ("readelf -d '%s'", SHARED_LIB);
    CHECK_CONTAINS (dynamic, expected);
    free (dynamic);
    char *real = RUN_OK ("basename $(readlink -f '%s')", SHARED_LIB);
    snprintf (expected, sizeof expected, "libmcpact.so.%d.%d.%d\n", major, minor, patch);
    CHECK_STR (real, expected);
    free (real);
}

//  pkg-config: the shared library by default, the static one's link line
//  with --static. Both hosts run.
TEST (pkg_config_host)
{
    char *dir = s_workdir ("pkg-config");
    char *prefix = s_install (dir);
    char *env = NULL;
    CHECK (asprintf (&env, "PKG_CONFIG_PATH='%s/%s/pkgconfig'", prefix, MCPACT_INSTALL_LIBDIR) >=
           0);

    char *version = RUN_OK ("%s pkg-config --modversion mcpact", env);
    char expected[64];
    snprintf (expected, sizeof expected, "%d.%d.%d\n", MCPACT_VERSION_MAJOR, MCPACT_VERSION_MINOR,
              MCPACT_VERSION_PATCH);
    CHECK_STR (version, expected);
    char *libs = RUN_OK ("%s pkg-config --libs mcpact", env);
    CHECK_CONTAINS (libs, "-lmcpact");
    CHECK (!strstr (libs, "-lczmq") && !strstr (libs, "-lcurl"));
    char *static_libs = RUN_OK ("%s pkg-config --static --libs mcpact", env);
    CHECK_CONTAINS (static_libs, "-lczmq");
    CHECK_CONTAINS (static_libs, "-lzmq");
    CHECK_CONTAINS (static_libs, "-ljansson");
    CHECK_CONTAINS (static_libs, "-pthread");

    free (RUN_OK ("cd '%s' && export %s && '%s' %s '%s' $(pkg-config --cflags --libs mcpact) "
                  "-Wl,-rpath,$(pkg-config --variable=libdir mcpact) -o host",
                  dir, env, MCPACT_CC, MCPACT_HOST_CFLAGS, HOST_SOURCE));
    char *output = RUN_OK ("'%s/host' '%s/bin/mcpact-example-server'", dir, prefix);
    CHECK_CONTAINS (output, HOST_ECHOED);
    free (output);
    output = RUN_OK ("readelf -d '%s/host'", dir);
    CHECK_CONTAINS (output, "[libmcpact.so.");
    free (output);

    //  The static archive by name (-lmcpact finds the .so first). Debian's
    //  libnorm.pc, reached through libzmq's, names a libprotokit.a that no
    //  package installs: that word is dropped.
    free (RUN_OK ("cd '%s' && export %s && '%s' %s '%s' $(pkg-config --cflags mcpact) "
                  "$(pkg-config --static --libs mcpact | sed 's/-lmcpact /-l:libmcpact.a /; "
                  "s/ libprotokit.a//g') -o host-static",
                  dir, env, MCPACT_CC, MCPACT_HOST_CFLAGS, HOST_SOURCE));
    output = RUN_OK ("'%s/host-static' '%s/bin/mcpact-example-server'", dir, prefix);
    CHECK_CONTAINS (output, HOST_ECHOED);
    free (output);
    output = RUN_OK ("readelf -d '%s/host-static'", dir);
    CHECK (!strstr (output, "libmcpact"));
    free (output);

    free (static_libs);
    free (libs);
    free (version);
    free (env);
    free (prefix);
    s_workdir_remove (&dir);
}

//  Configures and builds tests/install (host and host-static) in DIR/build
//  with EXTRA cmake options, and runs both hosts.
static void
s_cmake_host (const char *dir, const char *extra)
{
    free (RUN_OK ("'%s' -S '%s' -B '%s/build' -DCMAKE_C_COMPILER='%s' -DCMAKE_C_FLAGS='%s' "
                  "-DMCPACT_SOURCE_DIR='%s' %s",
                  MCPACT_CMAKE, HOST_PROJECT, dir, MCPACT_CC, MCPACT_HOST_CFLAGS, MCPACT_SOURCE_DIR,
                  extra));
    free (RUN_OK ("'%s' --build '%s/build' -j2", MCPACT_CMAKE, dir));
    char *output = RUN_OK ("'%s/build/host' '%s'", dir, EXAMPLE_SERVER);
    CHECK_CONTAINS (output, HOST_ECHOED);
    free (output);
    output = RUN_OK ("'%s/build/host-static' '%s'", dir, EXAMPLE_SERVER);
    CHECK_CONTAINS (output, HOST_ECHOED);
    free (output);
    output = RUN_OK ("readelf -d '%s/build/host-static'", dir);
    CHECK (!strstr (output, "libmcpact"));
    free (output);
}

//  find_package (mcpact CONFIG): mcpact::mcpact and mcpact::mcpact-static.
TEST (find_package_host)
{
    char *dir = s_workdir ("find-package");
    char *prefix = s_install (dir);
    char *extra = NULL;
    CHECK (asprintf (&extra, "-DMCPACT_HOST_MODE=package -DCMAKE_PREFIX_PATH='%s'", prefix) >= 0);
    s_cmake_host (dir, extra);
    free (extra);
    free (prefix);
    s_workdir_remove (&dir);
}

//  add_subdirectory (mcpact): the library only, the host's settings untouched
//  (tests/install/CMakeLists.txt checks those).
TEST (subproject_host)
{
    char *dir = s_workdir ("subproject");
    s_cmake_host (dir, "-DMCPACT_HOST_MODE=subproject");
    s_workdir_remove (&dir);
}
