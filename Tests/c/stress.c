/*
 * stress.c - concurrency stress test of libdrsn.
 *
 *   stress [MODEL.onnx]       (default: ../shared/fixtures/drsn_cw_1d.onnx next to the repo,
 *                              else the tiny model of tiny_model.h)
 *
 * 1. shared: 8 threads share one model (num_threads = 0: runs also use the internal pool)
 *    and each runs DRSN_STRESS_RUNS inferences (default 1000) with batch sizes cycling
 *    through 1..9 (each thread starting at a different size); every output must equal,
 *    bit for bit, the result of a single-threaded run of the same model and input
 *    computed before the threads start.
 * 2. own: 8 threads each load their own model from the same bytes (same default options)
 *    and do the same against the same references.
 * Also checks that concurrent calls to drsn_model_output_shape_for agree.
 * Prints run counts and times; exits 0 when everything matched.
 */
#define _POSIX_C_SOURCE 200809L
#include "drsn.h"
#include "tiny_model.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 8
#define MAX_BATCH 9

static unsigned char* g_bytes;
static size_t g_len;
static int64_t g_dims[MAX_BATCH + 1][8];
static size_t g_rank;
static float* g_in[MAX_BATCH + 1];
static float* g_ref[MAX_BATCH + 1];
static size_t g_out_n[MAX_BATCH + 1];
static int g_runs;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t count(const int64_t* d, size_t r) {
    size_t n = 1, i;
    for (i = 0; i < r; i++) n *= (size_t)d[i];
    return n;
}

static drsn_status run(const drsn_model* m, int batch, float* out) {
    const float* ins[1] = {g_in[batch]};
    const int64_t* dims[1] = {g_dims[batch]};
    size_t ranks[1] = {g_rank};
    float* outs[1] = {out};
    size_t caps[1] = {g_out_n[batch]};
    return drsn_model_run(m, 1, ins, dims, ranks, 1, outs, caps);
}

typedef struct {
    const drsn_model* shared;
    int index;
    int runs_done, failures, mismatches;
    pthread_barrier_t* barrier;
} job;

static void* worker(void* arg) {
    job* j = (job*)arg;
    drsn_model* own = NULL;
    const drsn_model* m = j->shared;
    float* out = (float*)malloc(g_out_n[MAX_BATCH] * sizeof(float) + 64);
    int i;
    if (m == NULL) {
        /* Same (default) options as the shared model, so that the plans split work alike. */
        if (drsn_model_load_memory(g_bytes, g_len, NULL, &own) != DRSN_OK) {
            fprintf(stderr, "thread %d: load failed: %s\n", j->index, drsn_last_error());
            j->failures = g_runs;
        }
        m = own;
    }
    pthread_barrier_wait(j->barrier);
    for (i = 0; m != NULL && i < g_runs; i++) {
        int batch = 1 + (i + j->index) % MAX_BATCH;
        size_t n = g_out_n[batch];
        drsn_status st;
        memset(out, 0xA5, n * sizeof(float));
        st = run(m, batch, out);
        j->runs_done++;
        if (st != DRSN_OK) {
            if (j->failures++ == 0) fprintf(stderr, "thread %d: run failed: %s\n", j->index, drsn_last_error());
            continue;
        }
        if (memcmp(out, g_ref[batch], n * sizeof(float)) != 0) {
            if (j->mismatches++ == 0) fprintf(stderr, "thread %d: batch %d differs from the single-threaded result\n", j->index, batch);
        }
        if (i % 50 == 0) {
            int64_t od[8];
            size_t orank = 0;
            const int64_t* dp[1] = {g_dims[batch]};
            size_t ranks[1] = {g_rank};
            if (drsn_model_output_shape_for(m, 1, dp, ranks, 0, od, 8, &orank) != DRSN_OK ||
                count(od, orank) != n)
                j->mismatches++;
        }
    }
    drsn_model_destroy(own);
    free(out);
    return NULL;
}

static int phase(const char* label, const drsn_model* shared) {
    pthread_t th[THREADS];
    job jobs[THREADS];
    pthread_barrier_t barrier;
    int t, runs = 0, failures = 0, mismatches = 0;
    double t0 = now_s();
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (t = 0; t < THREADS; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].shared = shared;
        jobs[t].index = t;
        jobs[t].barrier = &barrier;
        if (pthread_create(&th[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(2);
        }
    }
    for (t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        runs += jobs[t].runs_done;
        failures += jobs[t].failures;
        mismatches += jobs[t].mismatches;
    }
    pthread_barrier_destroy(&barrier);
    printf("%s: %d threads, %d runs (batch 1..%d) in %.2f s: %d failed, %d differing from single-threaded\n", label,
           THREADS, runs, MAX_BATCH, now_s() - t0, failures, mismatches);
    return failures == 0 && mismatches == 0 && runs == THREADS * g_runs;
}

int main(int argc, char** argv) {
    const char* path = argc > 1 ? argv[1] : "../shared/fixtures/drsn_cw_1d.onnx";
    FILE* f = fopen(path, "rb");
    drsn_model* m = NULL;
    int64_t decl[8];
    size_t rank = 0, orank = 0;
    int b, ok = 1;
    const char* env = getenv("DRSN_STRESS_RUNS");
    g_runs = env ? atoi(env) : 1000;
    if (f != NULL) {
        fseek(f, 0, SEEK_END);
        g_len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        g_bytes = (unsigned char*)malloc(g_len);
        if (fread(g_bytes, 1, g_len, f) != g_len) return 2;
        fclose(f);
        printf("model: %s (%zu bytes)\n", path, g_len);
    } else {
        pb tiny;
        const char* required = getenv("DRSN_REQUIRE_FIXTURES");
        if (required != NULL && strcmp(required, "1") == 0) {
            fprintf(stderr, "%s not found, and DRSN_REQUIRE_FIXTURES=1 requires the shared fixtures\n", path);
            return 1;
        }
        tiny = build_tiny("Relu", NULL);
        g_bytes = tiny.p;
        g_len = tiny.n;
        printf("model: the tiny model of tiny_model.h (%s not found)\n", path);
    }
    if (drsn_model_load_memory(g_bytes, g_len, NULL, &m) != DRSN_OK) {
        fprintf(stderr, "load: %s\n", drsn_last_error());
        return 1;
    }
    if (drsn_model_input_shape(m, 0, decl, 8, &rank) != DRSN_OK) return 1;
    g_rank = rank;
    for (b = 1; b <= MAX_BATCH; b++) {
        size_t i, n;
        int64_t od[8];
        const int64_t* dp[1];
        memcpy(g_dims[b], decl, sizeof decl);
        g_dims[b][0] = b;
        for (i = 1; i < rank; i++) if (g_dims[b][i] < 0) g_dims[b][i] = 3;
        n = count(g_dims[b], rank);
        g_in[b] = (float*)malloc(n * sizeof(float));
        srand(1234u + (unsigned)b);
        for (i = 0; i < n; i++) g_in[b][i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
        dp[0] = g_dims[b];
        if (drsn_model_output_shape_for(m, 1, dp, &g_rank, 0, od, 8, &orank) != DRSN_OK) return 1;
        g_out_n[b] = count(od, orank);
        g_ref[b] = (float*)malloc(g_out_n[b] * sizeof(float));
        if (run(m, b, g_ref[b]) != DRSN_OK) {
            fprintf(stderr, "reference run: %s\n", drsn_last_error());
            return 1;
        }
    }
    ok &= phase("shared model", m);
    ok &= phase("own model per thread", NULL);
    drsn_model_destroy(m);
    for (b = 1; b <= MAX_BATCH; b++) {
        free(g_in[b]);
        free(g_ref[b]);
    }
    free(g_bytes);
    printf("%s\n", ok ? "stress: ok" : "stress: FAILED");
    return ok ? 0 : 1;
}
