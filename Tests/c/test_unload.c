/*
 * test_unload.c - a host that loads libdrsn.so with dlopen, uses it and unloads it with
 * dlclose, many times over, must not crash and must not pile up threads.
 *
 *   test_unload LIBDRSN.so [CYCLES]      (CYCLES default 1000; prints "N passed, M failed")
 *
 * The program is not linked with libdrsn: every cycle
 *   1. dlopen()s the library (RTLD_NOW | RTLD_LOCAL) and looks up the functions it uses;
 *   2. on a new host thread, loads the tiny model of tiny_model.h with num_threads 2, runs it
 *      on a batch large enough that the plan splits its steps (so the shared worker pool
 *      starts and works), checks the outputs, destroys the model and the options;
 *   3. dlclose()s the library while that host thread is still alive, then lets the thread
 *      exit (its thread-local state, if the library left any destructors, is torn down
 *      after the unload) and joins it.
 * Checks: every call succeeds with the expected outputs; the process survives every cycle
 * (before the library was made non-unloadable, a pool worker kept executing unmapped code
 * and the process died with SIGSEGV within the first cycles); the number of threads in the
 * process after the last cycle is the number after the first (the pool is started once, not
 * once per dlopen). When the process may use only one CPU the pool never starts (a note is
 * printed; the cycles still run).
 */
#define _POSIX_C_SOURCE 200809L
#include "drsn.h"
#include "check.h"
#include "tiny_model.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Rows of the batch: 16384 x 4 floats split into several tasks on 2 threads. */
#define ROWS 16384
/* Memory is compared between the end of cycle WARM_CYCLES and the last cycle (checked when
 * there are at least 10 x WARM_CYCLES cycles): it may grow by less than RSS_SLACK_KIB. */
#define WARM_CYCLES 20
#define RSS_SLACK_KIB 4096L

/* The library's functions this test calls, looked up per dlopen. */
typedef struct api {
    drsn_status (*options_create)(drsn_options**);
    drsn_status (*options_set_num_threads)(drsn_options*, int32_t);
    void (*options_destroy)(drsn_options*);
    drsn_status (*load_memory)(const void*, size_t, const drsn_options*, drsn_model**);
    drsn_status (*run)(const drsn_model*, size_t, const float* const*, const int64_t* const*, const size_t*, size_t,
                       float* const*, const size_t*);
    void (*destroy)(drsn_model*);
    const char* (*summary)(const drsn_model*);
    const char* (*last_error)(void);
} api;

/* dlsym's object pointer into a function pointer without the cast ISO C forbids. */
static int lookup(void* handle, const char* name, void* function_pointer, size_t size) {
    void* symbol = dlsym(handle, name);
    if (symbol == NULL) {
        printf("FAIL: dlsym(%s): %s\n", name, dlerror());
        return 0;
    }
    memcpy(function_pointer, &symbol, size);
    return 1;
}

#define LOOKUP(handle, field, name) lookup(handle, name, &a->field, sizeof a->field)

static int resolve(void* h, api* a) {
    return LOOKUP(h, options_create, "drsn_options_create") &
           LOOKUP(h, options_set_num_threads, "drsn_options_set_num_threads") &
           LOOKUP(h, options_destroy, "drsn_options_destroy") & LOOKUP(h, load_memory, "drsn_model_load_memory") &
           LOOKUP(h, run, "drsn_model_run") & LOOKUP(h, destroy, "drsn_model_destroy") &
           LOOKUP(h, summary, "drsn_model_summary_json") & LOOKUP(h, last_error, "drsn_last_error");
}

/* Threads of this process (entries of /proc/self/task); -1 if it cannot be read. */
static int thread_count_once(void) {
    DIR* d = opendir("/proc/self/task");
    int n = 0;
    struct dirent* e;
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* The fewest threads seen over 100 ms: a joined thread can stay listed for a moment after
 * pthread_join returns, and pool workers never exit, so the minimum is the live count. */
static int thread_count(void) {
    const struct timespec pause = {0, 5 * 1000 * 1000};
    int fewest = thread_count_once(), k;
    for (k = 0; k < 20; k++) {
        int n;
        nanosleep(&pause, NULL);
        n = thread_count_once();
        if (n < fewest) fewest = n;
    }
    return fewest;
}

/* Resident memory of this process in KiB (VmRSS of /proc/self/status); -1 if unknown. */
static long rss_kib(void) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One host thread's use of the library in a cycle. */
typedef struct job {
    const api* a;
    const pb* model;
    const float* x;
    const float* expected;
    float* y;
    int ok;             /* set by the thread: everything matched */
    int threads_used;   /* "threads" of the summary, -1 if absent */
    sem_t used, closed; /* thread -> main: done with the library; main -> thread: unloaded */
} job;

static void* host_thread(void* arg) {
    job* j = (job*)arg;
    const api* a = j->a;
    drsn_options* o = NULL;
    drsn_model* m = NULL;
    int64_t dims[2] = {ROWS, 4};
    const float* ins[1] = {j->x};
    const int64_t* dimsp[1] = {dims};
    size_t ranks[1] = {2};
    float* outs[1] = {j->y};
    size_t caps[1] = {ROWS * 4};
    drsn_status st;
    j->ok = 0;
    j->threads_used = -1;
    if (a->options_create(&o) != DRSN_OK || a->options_set_num_threads(o, 2) != DRSN_OK) {
        printf("FAIL: options: %s\n", a->last_error());
    } else if ((st = a->load_memory(j->model->p, j->model->n, o, &m)) != DRSN_OK) {
        printf("FAIL: load_memory returned %d: %s\n", (int)st, a->last_error());
    } else if ((st = a->run(m, 1, ins, dimsp, ranks, 1, outs, caps)) != DRSN_OK) {
        printf("FAIL: run returned %d: %s\n", (int)st, a->last_error());
    } else {
        const char* s = a->summary(m);
        const char* t = s ? strstr(s, "\"threads\": ") : NULL;
        if (t) j->threads_used = atoi(t + strlen("\"threads\": "));
        j->ok = memcmp(j->y, j->expected, sizeof(float) * ROWS * 4) == 0;
        if (!j->ok) printf("FAIL: outputs differ from the reference\n");
    }
    a->destroy(m);
    a->options_destroy(o);
    sem_post(&j->used);
    sem_wait(&j->closed); /* exit only after the library is unloaded */
    return NULL;
}

/* One dlopen / use / dlclose cycle; returns 1 when it passed. */
static int cycle(const char* path, const pb* model, const float* x, const float* expected, float* y,
                 int* threads_used) {
    api a;
    job j;
    pthread_t t;
    int ok;
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        printf("FAIL: dlopen(%s): %s\n", path, dlerror());
        return 0;
    }
    if (!resolve(h, &a)) {
        dlclose(h);
        return 0;
    }
    memset(&j, 0, sizeof j);
    j.a = &a;
    j.model = model;
    j.x = x;
    j.expected = expected;
    j.y = y;
    sem_init(&j.used, 0, 0);
    sem_init(&j.closed, 0, 0);
    if (pthread_create(&t, NULL, host_thread, &j) != 0) {
        printf("FAIL: pthread_create\n");
        dlclose(h);
        return 0;
    }
    sem_wait(&j.used);
    ok = dlclose(h) == 0;
    if (!ok) printf("FAIL: dlclose: %s\n", dlerror());
    sem_post(&j.closed);
    pthread_join(t, NULL);
    sem_destroy(&j.used);
    sem_destroy(&j.closed);
    *threads_used = j.threads_used;
    return ok && j.ok;
}

int main(int argc, char** argv) {
    const char* path;
    long cycles = 1000, i;
    pb model;
    float *x, *expected, *y;
    int threads_before, threads_after_first = -1, threads_used = -1, first_ok;
    long rss_warm = -1;
    double t0, elapsed;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIBDRSN.so [CYCLES]\n", argv[0]);
        return 2;
    }
    path = argv[1];
    if (argc > 2) cycles = strtol(argv[2], NULL, 10);
    if (cycles < 1) cycles = 1;

    model = build_tiny("Relu", NULL);
    x = (float*)malloc(sizeof(float) * ROWS * 4);
    expected = (float*)malloc(sizeof(float) * ROWS * 4);
    y = (float*)malloc(sizeof(float) * ROWS * 4);
    if (!x || !expected || !y) return 2;
    for (i = 0; i < ROWS * 4; i++) x[i] = (float)((i * 37) % 23) - 11.0f;
    tiny_expected(x, ROWS, expected);

    threads_before = thread_count();
    t0 = now_s();
    first_ok = cycle(path, &model, x, expected, y, &threads_used);
    CHECK(first_ok, "cycle 0 failed");
    threads_after_first = thread_count();
    if (threads_used >= 2) {
        /* The pool started: the process has more threads than before the first cycle. */
        CHECK(threads_after_first > threads_before, "threads: %d before the first cycle, %d after (no pool?)",
              threads_before, threads_after_first);
    } else {
        printf("note: the model runs on %d thread(s) here (one CPU available?): the worker pool is not exercised\n",
               threads_used);
    }
    for (i = 1; i < cycles; i++) {
        if (i == WARM_CYCLES) rss_warm = rss_kib();
        if (!cycle(path, &model, x, expected, y, &threads_used)) {
            CHECK(0, "cycle %ld failed", i);
            break;
        }
        g_passed++;
    }
    elapsed = now_s() - t0;
    {
        int threads_end = thread_count();
        long rss_end = rss_kib();
        CHECK(threads_end == threads_after_first,
              "threads: %d after the first cycle, %d after the last (threads pile up across dlopen)",
              threads_after_first, threads_end);
        printf("%ld dlopen/load/run(2 threads)/destroy/dlclose cycles in %.2f s (%.2f ms each); "
               "threads: %d before, %d after the first cycle, %d at the end\n",
               i, elapsed, elapsed * 1e3 / (double)i, threads_before, threads_after_first, threads_end);
        if (rss_warm > 0 && rss_end > 0 && i >= 10 * WARM_CYCLES) {
            /* An unloadable build leaked ~7 KiB per cycle (the Swift runtime's caches). */
            printf("resident memory: %ld KiB after %d cycles, %ld KiB at the end\n", rss_warm, WARM_CYCLES, rss_end);
            CHECK(rss_end - rss_warm < RSS_SLACK_KIB, "resident memory grew by %ld KiB over %ld cycles",
                  rss_end - rss_warm, i - WARM_CYCLES);
        }
    }
    free(model.p);
    free(x);
    free(expected);
    free(y);
    return check_report();
}
