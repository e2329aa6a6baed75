/*
 * stream_bench.c - live condition monitoring throughput and latency of drsn_stream_push.
 * Driven by benchmarks/stream_bench.py (which builds it); usable alone:
 *
 *   stream_bench MODEL.onnx SIGNAL.npy WINDOW HOP CHANNELS CHUNK MAX_WAITING SECONDS THREADS
 *
 * CHANNELS one-channel streams (sensors) share one model loaded with num_threads THREADS.
 * Acquisition is simulated round-robin: each tick hands every stream its next CHUNK frames
 * of SIGNAL (a 1-D float32 recording, read cyclically, each stream from its own offset), as
 * a card delivering CHUNK-frame buffers per channel would. Everything runs on the calling
 * thread, as fast as it can, for about SECONDS after a warm-up of two ticks.
 *
 * Prints one JSON object: windows per second over all streams, and the latency of the
 * pushes that returned windows (from the call, when the chunk completing the windows is
 * handed over, to the return with their outputs): p50, p99, max, in microseconds. Also the
 * time of drsn_model_run alone on one window, for comparison.
 */
#define _POSIX_C_SOURCE 200809L

#include "drsn.h"
#include "npy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static void fail(const char* what) {
    fprintf(stderr, "stream_bench: %s: %s\n", what, drsn_last_error());
    exit(1);
}

int main(int argc, char** argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: stream_bench MODEL SIGNAL.npy WINDOW HOP CHANNELS CHUNK MAX_WAITING SECONDS THREADS\n");
        return 2;
    }
    const size_t window = strtoul(argv[3], NULL, 10), hop = strtoul(argv[4], NULL, 10);
    const size_t channels = strtoul(argv[5], NULL, 10), chunk = strtoul(argv[6], NULL, 10);
    const size_t max_waiting = strtoul(argv[7], NULL, 10);
    const double seconds = atof(argv[8]);
    const int threads = atoi(argv[9]);
    npy_array sig;
    char err[256];
    if (npy_load(argv[2], &sig, err, sizeof err) != 0) {
        fprintf(stderr, "stream_bench: %s\n", err);
        return 1;
    }
    if (sig.count < chunk || chunk == 0 || channels == 0) {
        fprintf(stderr, "stream_bench: the signal is shorter than a chunk\n");
        return 1;
    }
    drsn_options* options = NULL;
    drsn_options_create(&options);
    drsn_options_set_num_threads(options, threads);
    drsn_model* model = NULL;
    if (drsn_model_load_file(argv[1], options, &model) != DRSN_OK) fail("load");
    drsn_options_destroy(options);

    drsn_stream** streams = calloc(channels, sizeof *streams);
    size_t* offsets = calloc(channels, sizeof *offsets);
    for (size_t c = 0; c < channels; c++) {
        if (drsn_stream_create(model, 1, window, hop, DRSN_NORMALIZE_ZSCORE, DRSN_ZSCORE_EPSILON_DEFAULT, 0, max_waiting,
                               0, &streams[c]) != DRSN_OK)
            fail("stream_create");
        offsets[c] = (c * 7919 * hop) % (sig.count - chunk + 1);
    }
    size_t classes = 0;
    if (drsn_stream_output_elements(streams[0], 0, &classes) != DRSN_OK) fail("output_elements");
    const size_t room = chunk / hop + 2 + max_waiting;
    float* y = malloc(room * classes * sizeof(float));
    int64_t starts[4096];
    if (room > 4096) return 2;
    float* outs[1] = {y};
    /* one chunk per stream, copied out of the recording cyclically */
    float* buffer = malloc(chunk * sizeof(float));

    size_t latency_cap = 1 << 22, latency_n = 0;
    double* latency = malloc(latency_cap * sizeof(double));
    size_t windows = 0;
    double t_start = 0, t_end = 0;
    for (int phase = 0; phase < 2; phase++) {
        size_t ticks = 0;
        const double t0 = now_s();
        if (phase == 1) t_start = t0;
        for (;;) {
            for (size_t c = 0; c < channels; c++) {
                size_t off = offsets[c];
                if (off + chunk > sig.count) off = 0;
                memcpy(buffer, sig.data + off, chunk * sizeof(float));
                offsets[c] = off + chunk;
                size_t got = 0, pending = 0;
                const double a = now_s();
                if (drsn_stream_push(streams[c], buffer, 1, chunk, DRSN_LAYOUT_INTERLEAVED, room, 1, outs, starts, 0, NULL,
                                     NULL, &got, &pending) != DRSN_OK)
                    fail("push");
                const double b = now_s();
                if (phase == 1 && got > 0) {
                    windows += got;
                    if (latency_n < latency_cap) latency[latency_n++] = (b - a) * 1e6;
                }
            }
            ticks++;
            if (phase == 0 && ticks >= 2 + window / chunk) break;
            if (phase == 1 && now_s() - t0 >= seconds) break;
        }
        if (phase == 1) t_end = now_s();
    }
    qsort(latency, latency_n, sizeof(double), cmp_double);
    double p50 = latency_n ? latency[latency_n / 2] : 0, p99 = latency_n ? latency[(size_t)((double)latency_n * 0.99)] : 0;
    double mx = latency_n ? latency[latency_n - 1] : 0;

    /* drsn_model_run on one window, for comparison */
    int64_t dims[3] = {1, 1, (int64_t)window};
    const int64_t* dim_list[1] = {dims};
    size_t rank = 3, cap = classes;
    const float* ins[1] = {sig.data};
    for (int i = 0; i < 20; i++) {
        if (drsn_model_run(model, 1, ins, dim_list, &rank, 1, outs, &cap) != DRSN_OK) fail("run");
    }
    double run_times[200];
    for (int i = 0; i < 200; i++) {
        const double a = now_s();
        drsn_model_run(model, 1, ins, dim_list, &rank, 1, outs, &cap);
        run_times[i] = (now_s() - a) * 1e6;
    }
    qsort(run_times, 200, sizeof(double), cmp_double);

    const double elapsed = t_end - t_start;
    printf("{\"channels\": %zu, \"chunk\": %zu, \"max_waiting\": %zu, \"threads\": %d, \"seconds\": %.3f, "
           "\"windows\": %zu, \"windows_per_s\": %.1f, \"latency_us_p50\": %.1f, \"latency_us_p99\": %.1f, "
           "\"latency_us_max\": %.1f, \"run_batch1_us_p50\": %.1f, \"isa\": \"%s\"}\n",
           channels, chunk, max_waiting, threads, elapsed, windows, (double)windows / elapsed, p50, p99, mx,
           run_times[100], drsn_isa());
    for (size_t c = 0; c < channels; c++) drsn_stream_destroy(streams[c]);
    drsn_model_destroy(model);
    free(streams);
    free(offsets);
    free(y);
    free(buffer);
    free(latency);
    npy_free(&sig);
    return 0;
}
