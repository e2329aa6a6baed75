/*
 * check.h - the pass / fail counting of the stand-alone C tests (test_boundary.c,
 * test_unload.c). Header-only; include it once per program.
 *
 *   CHECK(cond, fmt, ...)   counts a pass, or counts a failure and prints the line, the
 *                           condition and the printf-style message
 *   check_report()          prints "N passed, M failed"; returns the exit status (0 when M == 0)
 */
#ifndef DRSN_TESTS_CHECK_H
#define DRSN_TESTS_CHECK_H

#include <stdio.h>

static int g_passed, g_failed;

#define CHECK(cond, ...)                                    \
    do {                                                    \
        if (cond) {                                         \
            g_passed++;                                     \
        } else {                                            \
            g_failed++;                                     \
            printf("FAIL line %d: %s: ", __LINE__, #cond); \
            printf(__VA_ARGS__);                            \
            printf("\n");                                   \
        }                                                   \
    } while (0)

static inline int check_report(void) {
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

#endif
