/*
 * test_stream.c - the streaming C API (drsn_stream_*) against drsn_model_run_windows, C11.
 *
 *   test_stream REPO_ROOT
 *
 * The shipped bearing DRSN (examples/bearing/model/drsn_cwru.onnx) on the shipped recording
 * excerpt (examples/bearing/data/IR007_1_tail.npy), windows of 2048 every 512 samples:
 *  - pushes of pseudo-random sizes (1 frame to several windows), planar and interleaved,
 *    give run_windows' start indices and outputs bit for bit;
 *  - too small output buffers: the windows that fit are written, DRSN_ERR_BUFFER_TOO_SMALL
 *    reports the rest as pending, and later calls return them: nothing is lost;
 *  - bad arguments fail with a message and leave the stream usable;
 *  - 8 threads, each with its own stream and chunking, on one shared model (num_threads 1
 *    and 2) give the single-threaded results bit for bit.
 * Prints "N passed, M failed" last and exits 1 if M > 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "drsn.h"
#include "check.h"
#include "npy.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 2048
#define HOP 512
#define CLASSES 10
#define THREADS 8

static float* g_signal;
static size_t g_length;
static size_t g_windows;
static float* g_expected; /* run_windows: g_windows x CLASSES */

/* Pseudo-random chunk sizes: 1 frame, up to a window, up to several windows, or 0. */
static size_t next_chunk(uint64_t* state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t r = *state >> 33;
    switch (r % 5) {
    case 0: return 1;
    case 1: return 0;
    case 2: return 1 + (size_t)(r / 5 % WINDOW);
    default: return 1 + (size_t)(r / 5 % (4 * WINDOW));
    }
}

typedef struct {
    const drsn_model* model;
    uint64_t seed;
    int interleaved; /* one channel: the same memory, but the layout argument differs */
    size_t capacity; /* 0: room for every ready window (drsn_stream_windows_ready) */
    int failures;    /* calls that failed unexpectedly */
    int mismatches;  /* windows whose start or outputs differ from run_windows */
    size_t returned;
} stream_job;

/* Streams the whole signal through a new stream; compares every window with run_windows. */
static void* stream_signal(void* arg) {
    stream_job* job = arg;
    drsn_stream* s = NULL;
    if (drsn_stream_create(job->model, 1, WINDOW, HOP, DRSN_NORMALIZE_ZSCORE, DRSN_ZSCORE_EPSILON_DEFAULT, 0, 0, 0,
                           &s) != DRSN_OK) {
        job->failures++;
        return NULL;
    }
    size_t room = job->capacity ? job->capacity : g_windows;
    float* y = malloc(room * CLASSES * sizeof(float));
    int64_t* starts = malloc(room * sizeof(int64_t));
    float* outs[1] = {y};
    uint64_t state = job->seed;
    size_t pos = 0;
    int done = 0;
    while (!done && y != NULL && starts != NULL) {
        size_t n = pos < g_length ? next_chunk(&state) : 0;
        if (n > g_length - pos) n = g_length - pos;
        size_t ready = 0, got = 0, pending = 0;
        if (drsn_stream_windows_ready(s, n, &ready) != DRSN_OK) job->failures++;
        size_t capacity = job->capacity ? job->capacity : ready;
        drsn_status st;
        if (pos < g_length) {
            st = drsn_stream_push(s, g_signal + pos, 1, n,
                                  job->interleaved ? DRSN_LAYOUT_INTERLEAVED : DRSN_LAYOUT_PLANAR, capacity, 1, outs,
                                  starts, 0, NULL, NULL, &got, &pending);
            pos += n;
        } else {
            st = drsn_stream_flush(s, capacity, 1, outs, starts, 0, NULL, NULL, &got, &pending);
            done = pending == 0;
        }
        if (st != DRSN_OK && !(st == DRSN_ERR_BUFFER_TOO_SMALL && got == capacity && pending > 0)) job->failures++;
        if (got + pending != ready) job->failures++;
        for (size_t i = 0; i < got; i++) {
            size_t w = job->returned + i;
            if (w >= g_windows || starts[i] != (int64_t)(w * HOP) ||
                memcmp(y + i * CLASSES, g_expected + w * CLASSES, CLASSES * sizeof(float)) != 0) {
                job->mismatches++;
            }
        }
        job->returned += got;
    }
    free(y);
    free(starts);
    drsn_stream_destroy(s);
    return NULL;
}

static void test_chunkings(const drsn_model* model) {
    for (int k = 0; k < 6; k++) {
        stream_job job = {model, 1000 + (uint64_t)k, k % 2, k < 3 ? 0 : (size_t)(k - 2), 0, 0, 0};
        stream_signal(&job);
        CHECK(job.failures == 0, "chunking %d: %d calls failed", k, job.failures);
        CHECK(job.mismatches == 0, "chunking %d: %d windows differ from run_windows", k, job.mismatches);
        CHECK(job.returned == g_windows, "chunking %d: %zu windows returned, run_windows has %zu", k, job.returned,
              g_windows);
    }
}

static void test_threads(const char* path) {
    for (int threads_per_run = 1; threads_per_run <= 2; threads_per_run++) {
        drsn_options* o = NULL;
        drsn_model* model = NULL;
        drsn_options_create(&o);
        drsn_options_set_num_threads(o, threads_per_run);
        drsn_status st = drsn_model_load_file(path, o, &model);
        drsn_options_destroy(o);
        CHECK(st == DRSN_OK, "load: %s", drsn_last_error());
        if (st != DRSN_OK) return;
        pthread_t th[THREADS];
        stream_job jobs[THREADS];
        int started = 0;
        for (int t = 0; t < THREADS; t++) {
            stream_job job = {model, 77 + (uint64_t)t * 13, t % 2, (size_t)(t % 3) * 2, 0, 0, 0};
            jobs[t] = job;
            if (pthread_create(&th[t], NULL, stream_signal, &jobs[t]) == 0) started++;
            else break;
        }
        CHECK(started == THREADS, "started %d of %d threads", started, THREADS);
        for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
        for (int t = 0; t < started; t++) {
            CHECK(jobs[t].failures == 0 && jobs[t].mismatches == 0 && jobs[t].returned == g_windows,
                  "num_threads %d, thread %d: %d failed calls, %d windows differ, %zu of %zu returned", threads_per_run,
                  t, jobs[t].failures, jobs[t].mismatches, jobs[t].returned, g_windows);
        }
        drsn_model_destroy(model);
    }
}

static void test_room_and_errors(const drsn_model* model) {
    drsn_stream* s = NULL;
    CHECK(drsn_stream_create(model, 1, WINDOW, HOP, DRSN_NORMALIZE_ZSCORE, DRSN_ZSCORE_EPSILON_DEFAULT, 0, 0, 0, &s) ==
              DRSN_OK,
          "create: %s", drsn_last_error());
    if (s == NULL) return;
    size_t elements = 0;
    CHECK(drsn_stream_output_elements(s, 0, &elements) == DRSN_OK && elements == CLASSES, "output elements %zu",
          elements);
    float y[4 * CLASSES];
    int64_t starts[4];
    float* outs[1] = {y};
    size_t got = 99, pending = 99, returned = 0;
    /* 4 windows' worth of room; 2048 + 9 * 512 frames complete 10 windows */
    drsn_status st = drsn_stream_push(s, g_signal, 1, WINDOW + 9 * HOP, DRSN_LAYOUT_PLANAR, 4, 1, outs, starts, 0, NULL,
                                      NULL, &got, &pending);
    CHECK(st == DRSN_ERR_BUFFER_TOO_SMALL && got == 4 && pending == 6, "push: %s (%d), %zu written, %zu pending",
          drsn_status_string(st), (int)st, got, pending);
    CHECK(strstr(drsn_last_error(), "pending") != NULL, "message: %s", drsn_last_error());
    int same = 1;
    for (size_t i = 0; i < got; i++) {
        same &= starts[i] == (int64_t)((returned + i) * HOP) &&
                memcmp(y + i * CLASSES, g_expected + (returned + i) * CLASSES, sizeof(float) * CLASSES) == 0;
    }
    returned += got;
    /* bad arguments: errors, nothing consumed */
    const float* null_samples = NULL;
    CHECK(drsn_stream_push(s, null_samples, 1, 10, DRSN_LAYOUT_PLANAR, 4, 1, outs, starts, 0, NULL, NULL, &got,
                           &pending) == DRSN_ERR_INVALID_ARGUMENT,
          "NULL samples");
    CHECK(strstr(drsn_last_error(), "samples is NULL") != NULL, "message: %s", drsn_last_error());
    CHECK(drsn_stream_push(s, g_signal, 2, 10, DRSN_LAYOUT_INTERLEAVED, 4, 1, outs, starts, 0, NULL, NULL, &got,
                           &pending) == DRSN_ERR_SHAPE_MISMATCH,
          "channel mismatch");
    CHECK(strstr(drsn_last_error(), "1 channel") != NULL, "message: %s", drsn_last_error());
    CHECK(drsn_stream_push(s, g_signal, 1, 10, DRSN_LAYOUT_PLANAR, 4, 1, NULL, starts, 0, NULL, NULL, &got,
                           &pending) == DRSN_ERR_INVALID_ARGUMENT,
          "NULL outputs");
    CHECK(drsn_stream_push(s, g_signal, 1, 10, DRSN_LAYOUT_PLANAR, 4, 2, outs, starts, 0, NULL, NULL, &got,
                           &pending) == DRSN_ERR_INVALID_ARGUMENT,
          "wrong output count");
    CHECK(drsn_stream_push(NULL, g_signal, 1, 10, DRSN_LAYOUT_PLANAR, 4, 1, outs, starts, 0, NULL, NULL, &got,
                           &pending) == DRSN_ERR_INVALID_ARGUMENT,
          "NULL stream");
    /* zero frames: the pending windows come back */
    while (pending > 0) {
        st = drsn_stream_push(s, NULL, 1, 0, DRSN_LAYOUT_PLANAR, 4, 1, outs, starts, 0, NULL, NULL, &got, &pending);
        CHECK(st == DRSN_OK || st == DRSN_ERR_BUFFER_TOO_SMALL, "drain: %s", drsn_last_error());
        if (got == 0) break;
        for (size_t i = 0; i < got; i++) {
            same &= starts[i] == (int64_t)((returned + i) * HOP) &&
                    memcmp(y + i * CLASSES, g_expected + (returned + i) * CLASSES, sizeof(float) * CLASSES) == 0;
        }
        returned += got;
    }
    CHECK(returned == 10 && pending == 0, "%zu windows returned, %zu pending", returned, pending);
    /* a NaN sample: its windows give NaN, the stream goes on */
    float nan_chunk[HOP];
    memcpy(nan_chunk, g_signal + WINDOW + 9 * HOP, sizeof nan_chunk);
    nan_chunk[100] = 0.0f / 0.0f;
    st = drsn_stream_push(s, nan_chunk, 1, HOP, DRSN_LAYOUT_PLANAR, 4, 1, outs, starts, 0, NULL, NULL, &got, &pending);
    CHECK(st == DRSN_OK && got == 1 && starts[0] == 10 * HOP && y[0] != y[0], "NaN window: %s, %zu windows, y0 %g",
          drsn_status_string(st), got, (double)y[0]);
    CHECK(same, "the windows returned differ from run_windows");
    CHECK(drsn_stream_reset(s) == DRSN_OK, "reset");
    st = drsn_stream_push(s, g_signal, 1, WINDOW, DRSN_LAYOUT_INTERLEAVED, 4, 1, outs, starts, 0, NULL, NULL, &got,
                          &pending);
    CHECK(st == DRSN_OK && got == 1 && starts[0] == 0 && memcmp(y, g_expected, sizeof(float) * CLASSES) == 0,
          "after reset: %s, %zu windows", drsn_status_string(st), got);
    drsn_stream_destroy(s);
    drsn_stream_destroy(NULL);
    s = (drsn_stream*)1;
    CHECK(drsn_stream_create(model, 2, WINDOW, HOP, DRSN_NORMALIZE_ZSCORE, 1e-8f, 0, 0, 0, &s) ==
              DRSN_ERR_SHAPE_MISMATCH && s == NULL,
          "two channels on a one-channel model: %s", drsn_last_error());
    CHECK(drsn_stream_create(model, 1, 1000, HOP, DRSN_NORMALIZE_ZSCORE, 1e-8f, 0, 0, 0, &s) ==
              DRSN_ERR_SHAPE_MISMATCH,
          "window 1000 on a 2048 model: %s", drsn_last_error());
    CHECK(drsn_stream_create(model, 1, WINDOW, 0, DRSN_NORMALIZE_ZSCORE, 1e-8f, 0, 0, 0, &s) ==
              DRSN_ERR_INVALID_ARGUMENT,
          "hop 0");
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_stream REPO_ROOT\n");
        return 2;
    }
    char path[4096], data[4096], err[256];
    snprintf(path, sizeof path, "%s/examples/bearing/model/drsn_cwru.onnx", argv[1]);
    snprintf(data, sizeof data, "%s/examples/bearing/data/IR007_1_tail.npy", argv[1]);
    npy_array a;
    if (npy_load(data, &a, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    g_signal = a.data;
    g_length = a.count;
    drsn_model* model = NULL;
    if (drsn_model_load_file(path, NULL, &model) != DRSN_OK) {
        fprintf(stderr, "load %s: %s\n", path, drsn_last_error());
        return 2;
    }
    drsn_window_count(g_length, WINDOW, HOP, &g_windows);
    g_expected = malloc(g_windows * CLASSES * sizeof(float));
    float* outs[1] = {g_expected};
    size_t cap = g_windows * CLASSES, n = 0;
    CHECK(drsn_model_run_windows(model, g_signal, 1, g_length, WINDOW, HOP, DRSN_NORMALIZE_ZSCORE,
                                 DRSN_ZSCORE_EPSILON_DEFAULT, 0, 1, outs, &cap, &n) == DRSN_OK && n == g_windows,
          "run_windows: %s", drsn_last_error());
    test_chunkings(model);
    test_room_and_errors(model);
    test_threads(path);
    drsn_model_destroy(model);
    free(g_expected);
    npy_free(&a);
    return check_report();
}
