/* Checks that the steady-state run path of libdrsn allocates no heap memory.
 *
 * malloc/calloc/realloc/posix_memalign/aligned_alloc are interposed by this program (the
 * library's calls bind to these definitions) and counted while counting is on. For each
 * model, batch size and thread count: warm up (plans and arenas are created on first use),
 * then count the allocations of 200 further runs of drsn_model_run. Expected: 0. For models
 * with one input [N, 1, W], the same for drsn_stream_push / drsn_stream_flush (check_stream).
 *
 *   test_no_alloc MODEL.onnx [MODEL.onnx ...]    (inputs: [N, ...] float32, dynamic N)
 * Prints "N passed, M failed" and exits non-zero on failure. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drsn.h"

static atomic_int counting;
static atomic_long allocations;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);

/* dlsym itself may call calloc: serve it from a static buffer. */
static char bootstrap[4096];
static size_t bootstrap_used;

static void resolve(void) {
    if (real_malloc) return;
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
}

static void note(void) {
    if (atomic_load(&counting)) atomic_fetch_add(&allocations, 1);
}

void *malloc(size_t n) {
    resolve();
    note();
    return real_malloc(n);
}

void *calloc(size_t a, size_t b) {
    if (!real_calloc) {
        size_t n = (a * b + 15) & ~(size_t)15;
        if (bootstrap_used + n > sizeof bootstrap) return NULL;
        void *p = bootstrap + bootstrap_used;
        bootstrap_used += n;
        return p;
    }
    note();
    return real_calloc(a, b);
}

void *realloc(void *p, size_t n) {
    resolve();
    note();
    return real_realloc(p, n);
}

int posix_memalign(void **p, size_t a, size_t n) {
    resolve();
    note();
    return real_posix_memalign(p, a, n);
}

void *aligned_alloc(size_t a, size_t n) {
    resolve();
    note();
    return real_aligned_alloc(a, n);
}

void free(void *p) {
    static void (*real_free)(void *);
    if ((char *)p >= bootstrap && (char *)p < bootstrap + sizeof bootstrap) return;
    if (!real_free) real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_free(p);
}

static int passed, failed;

static void check_model(const char *path, int threads, int64_t batch) {
    drsn_options *options = NULL;
    drsn_options_create(&options);
    drsn_options_set_num_threads(options, threads);
    drsn_model *model = NULL;
    if (drsn_model_load_file(path, options, &model) != DRSN_OK) {
        printf("FAIL %s: %s\n", path, drsn_last_error());
        failed++;
        drsn_options_destroy(options);
        return;
    }
    drsn_options_destroy(options);
    int64_t dims[8];
    size_t rank = 0;
    drsn_model_input_shape(model, 0, dims, 8, &rank);
    dims[0] = batch;
    size_t n_in = 1;
    for (size_t k = 0; k < rank; k++) n_in *= (size_t)dims[k];
    int64_t out_dims[8];
    size_t out_rank = 0;
    const int64_t *dim_list[1] = {dims};
    drsn_model_output_shape_for(model, 1, dim_list, &rank, 0, out_dims, 8, &out_rank);
    size_t n_out = 1;
    for (size_t k = 0; k < out_rank; k++) n_out *= (size_t)out_dims[k];
    float *x = malloc(n_in * sizeof(float));
    float *y = malloc(n_out * sizeof(float));
    for (size_t i = 0; i < n_in; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    const float *ins[1] = {x};
    float *outs[1] = {y};
    size_t caps[1] = {n_out};
    for (int i = 0; i < 5; i++) drsn_model_run(model, 1, ins, dim_list, &rank, 1, outs, caps);
    atomic_store(&allocations, 0);
    atomic_store(&counting, 1);
    int status = 0;
    for (int i = 0; i < 200; i++) status |= drsn_model_run(model, 1, ins, dim_list, &rank, 1, outs, caps);
    atomic_store(&counting, 0);
    long n = atomic_load(&allocations);
    if (status == 0 && n == 0) {
        passed++;
        printf("ok   %s threads=%d batch=%lld: 0 allocations in 200 runs\n", path, threads, (long long)batch);
    } else {
        failed++;
        printf("FAIL %s threads=%d batch=%lld: %ld allocations in 200 runs (status %d)\n", path, threads,
               (long long)batch, n, status);
    }
    free(x);
    free(y);
    drsn_model_destroy(model);
}

/* Streaming: once warm, drsn_stream_push allocates nothing, whatever the chunk sizes. A
 * one-channel signal of a model with input [N, 1, W] is pushed with max_waiting 0 and 3:
 * the warm-up pushes one large chunk (its frames need the most room the stream will need)
 * and chunks completing 1 ... 8 windows (every batch size a push of up to 8 hops runs:
 * batches are powers of two); then 100 pushes of pseudo-random sizes (0 to 8 hops, both
 * layouts, a flush every 7th) are counted. */
static void check_stream(const char *path, int threads) {
    drsn_options *options = NULL;
    drsn_options_create(&options);
    drsn_options_set_num_threads(options, threads);
    drsn_model *model = NULL;
    drsn_status st = drsn_model_load_file(path, options, &model);
    drsn_options_destroy(options);
    if (st != DRSN_OK) {
        printf("FAIL %s: %s\n", path, drsn_last_error());
        failed++;
        return;
    }
    int64_t dims[8];
    size_t rank = 0;
    drsn_model_input_shape(model, 0, dims, 8, &rank);
    if (rank != 3 || dims[1] != 1 || dims[2] < 1) {
        drsn_model_destroy(model);
        return; /* not a one-channel window model */
    }
    size_t window = (size_t)dims[2], hop = window / 4 + 1, outputs = drsn_model_output_count(model);
    for (size_t waiting = 0; waiting <= 3; waiting += 3) {
        drsn_stream *s = NULL;
        if (drsn_stream_create(model, 1, window, hop, DRSN_NORMALIZE_ZSCORE, 1e-8f, 0, waiting, 0, &s) != DRSN_OK) {
            printf("FAIL %s: stream: %s\n", path, drsn_last_error());
            failed++;
            break;
        }
        enum { ROOM = 32 };
        float *bufs[8] = {0};
        for (size_t j = 0; j < outputs && j < 8; j++) {
            size_t e = 0;
            drsn_stream_output_elements(s, j, &e);
            bufs[j] = malloc(ROOM * e * sizeof(float));
        }
        int64_t starts[ROOM];
        size_t frames = window + 12 * hop;
        float *x = malloc(frames * sizeof(float));
        for (size_t i = 0; i < frames; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
        size_t got = 0, pending = 0;
        int status = 0;
        /* warm-up */
        status |= drsn_stream_push(s, x, 1, frames, DRSN_LAYOUT_PLANAR, ROOM, outputs, bufs, starts, 0, NULL, NULL, &got,
                                   &pending);
        for (size_t k = 1; k <= 8; k++) {
            status |= drsn_stream_push(s, x, 1, k * hop, DRSN_LAYOUT_PLANAR, ROOM, outputs, bufs, starts, 0, NULL, NULL,
                                       &got, &pending);
            status |= drsn_stream_flush(s, ROOM, outputs, bufs, starts, 0, NULL, NULL, &got, &pending);
        }
        /* counted */
        uint64_t lcg = 12345;
        atomic_store(&allocations, 0);
        atomic_store(&counting, 1);
        for (int i = 0; i < 100; i++) {
            lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t c = (size_t)(lcg >> 33) % (8 * hop + 1);
            drsn_layout layout = i % 3 == 0 ? DRSN_LAYOUT_INTERLEAVED : DRSN_LAYOUT_PLANAR;
            status |= drsn_stream_push(s, x, 1, c, layout, ROOM, outputs, bufs, starts, 0, NULL, NULL, &got, &pending);
            if (i % 7 == 6) status |= drsn_stream_flush(s, ROOM, outputs, bufs, starts, 0, NULL, NULL, &got, &pending);
        }
        atomic_store(&counting, 0);
        long n = atomic_load(&allocations);
        if (status == 0 && n == 0) {
            passed++;
            printf("ok   %s threads=%d stream max_waiting=%zu: 0 allocations in 100 pushes\n", path, threads, waiting);
        } else {
            failed++;
            printf("FAIL %s threads=%d stream max_waiting=%zu: %ld allocations in 100 pushes (status %d)\n", path,
                   threads, waiting, n, status);
        }
        free(x);
        for (size_t j = 0; j < 8; j++) free(bufs[j]);
        drsn_stream_destroy(s);
    }
    drsn_model_destroy(model);
}

int main(int argc, char **argv) {
    for (int a = 1; a < argc; a++) {
        for (int threads = 1; threads <= 2; threads++) {
            check_model(argv[a], threads, 1);
            check_model(argv[a], threads, 7);
            check_stream(argv[a], threads);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
