/*  =========================================================================
    testutil - a tiny test harness: every test is addressable by name

    Each test file defines cases with TEST (name) { ... }. CMake finds the
    names and registers each as its own ctest test `<file>.<name>`, which runs
    `<exe> <name>`. Without an argument the executable runs all its cases.
    A failed CHECK prints where and why and exits 1; SKIP exits 77.
    =========================================================================
*/

#ifndef MCPACT_TESTUTIL_H_INCLUDED
#define MCPACT_TESTUTIL_H_INCLUDED

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (t_fn) (void);
typedef struct {
    const char *name;
    t_fn *fn;
} t_case_t;

static t_case_t t_cases[256];
static int t_case_count;

#define TEST(case_)                                                                                \
    static void test_##case_ (void);                                                               \
    __attribute__ ((constructor)) static void t_register_##case_ (void)                            \
    {                                                                                              \
        t_cases[t_case_count].name = #case_;                                                       \
        t_cases[t_case_count++].fn = test_##case_;                                                 \
    }                                                                                              \
    static void test_##case_ (void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);              \
            exit (1);                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf (stderr, __VA_ARGS__);                                                         \
            fprintf (stderr, "\n");                                                                \
            exit (1);                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (!t_a_ || !t_b_ || strcmp (t_a_, t_b_) != 0) {                                          \
            fprintf (stderr,                                                                       \
                     "%s:%d: CHECK_STR failed: %s == %s\n  got:      %s\n"                         \
                     "  expected: %s\n",                                                           \
                     __FILE__, __LINE__, #a, #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");  \
            exit (1);                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *t_h_ = (hay), *t_n_ = (needle);                                                \
        if (!t_h_ || !strstr (t_h_, t_n_)) {                                                       \
            fprintf (stderr,                                                                       \
                     "%s:%d: CHECK_CONTAINS failed: %s contains \"%s\"\n"                          \
                     "  got: %s\n",                                                                \
                     __FILE__, __LINE__, #hay, t_n_, t_h_ ? t_h_ : "(null)");                      \
            exit (1);                                                                              \
        }                                                                                          \
    } while (0)

#define SKIP(...)                                                                                  \
    do {                                                                                           \
        fprintf (stderr, "SKIP: ");                                                                \
        fprintf (stderr, __VA_ARGS__);                                                             \
        fprintf (stderr, "\n");                                                                    \
        exit (77);                                                                                 \
    } while (0)

int
main (int argc, char **argv)
{
    int ran = 0;
    for (int i = 0; i < t_case_count; i++) {
        if (argc > 1 && strcmp (argv[1], t_cases[i].name) != 0)
            continue;
        fprintf (stderr, "== %s\n", t_cases[i].name);
        t_cases[i].fn ();
        ran++;
    }
    if (ran == 0) {
        fprintf (stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");
        return 2;
    }
    return 0;
}

#endif
