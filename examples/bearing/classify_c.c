/*
 * classify_c.c - the bearing example from C, through include/drsn.h only.
 *
 *   cc -std=c11 -O2 -I include -I bindings/c/examples examples/bearing/classify_c.c \
 *      -o classify_c -L .build/release -ldrsn -Wl,-rpath,$PWD/.build/release -lm
 *   ./classify_c model/drsn_cwru.onnx data/test_windows.npy data/test_labels.npy \
 *      data/classes.json [count]
 *
 * Classifies `count` (default 10) raw test windows, evenly spread over the file (with the
 * shipped data: one per class), two ways and checks that they agree:
 *  1. drsn_model_run_windows: the chosen raw windows laid end to end form one long signal; windows
 *     of 2048 samples every 2048 samples are cut and z-score normalised by the library;
 *  2. drsn_model_run on windows normalised here, (w - mean) / (std + 1e-8) with the
 *     population std in double precision, exactly as in training.
 * Prints predicted versus true class per window. Exit status 0 when both paths agree on
 * every window, 1 otherwise or on any error.
 */
#include <drsn.h>

#include "npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 2048
#define MAX_CLASSES 64

static int fail(const char* what, drsn_status st) {
    const char* msg = drsn_last_error(); /* read before any other drsn_* call */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", msg != NULL ? msg : "");
    fprintf(stderr, "classify_c: %s failed: %s: %s\n", what, drsn_status_string(st), buf);
    return 1;
}

static char* read_file(const char* path, size_t* len) {
    FILE* f = fopen(path, "rb");
    char* buf;
    long n;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = (char*)malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* The labels: a 1-D little-endian int64 .npy (npy.h reads float32 only). Returns the count or -1. */
static long read_labels(const char* path, long long** out) {
    size_t len = 0, header, off, n, i;
    char* buf = read_file(path, &len);
    const char* shape;
    if (buf == NULL || len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) goto bad;
    if (buf[6] == 1) {
        header = (size_t)(unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8);
        off = 10;
    } else {
        if (len < 12) goto bad;
        header = (size_t)(unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8) |
                 ((size_t)(unsigned char)buf[10] << 16) | ((size_t)(unsigned char)buf[11] << 24);
        off = 12;
    }
    if (off + header > len || strstr(buf + off, "'<i8'") == NULL || strstr(buf + off, "False") == NULL) goto bad;
    shape = strstr(buf + off, "'shape': (");
    if (shape == NULL) goto bad;
    n = (size_t)strtoul(shape + 10, NULL, 10);
    if (off + header + n * 8 != len) goto bad;
    *out = (long long*)malloc(n * sizeof(long long) + 1);
    if (*out == NULL) goto bad;
    for (i = 0; i < n; i++) {
        const unsigned char* p = (const unsigned char*)buf + off + header + 8 * i;
        unsigned long long v = 0;
        int b;
        for (b = 7; b >= 0; b--) v = (v << 8) | p[b];
        (*out)[i] = (long long)v;
    }
    free(buf);
    return (long)n;
bad:
    free(buf);
    return -1;
}

/* Class names: the quoted strings of a JSON list such as ["Normal", "B007", ...]. */
static int read_classes(const char* path, char names[][32], int max) {
    size_t len = 0;
    char* buf = read_file(path, &len);
    char* p;
    int n = 0;
    if (buf == NULL) return -1;
    for (p = buf; (p = strchr(p, '"')) != NULL && n < max;) {
        char* end = strchr(p + 1, '"');
        size_t k;
        if (end == NULL) break;
        k = (size_t)(end - p - 1);
        if (k > 31) k = 31;
        memcpy(names[n], p + 1, k);
        names[n][k] = '\0';
        n++;
        p = end + 1;
    }
    free(buf);
    return n;
}

static size_t argmax(const float* v, size_t n) {
    size_t best = 0, i;
    for (i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

int main(int argc, char** argv) {
    npy_array x;
    char err[512], names[MAX_CLASSES][32];
    long long* labels = NULL;
    long num_labels;
    int num_classes, rc = 1;
    size_t count = 10, i, j, *picked = NULL, num_windows = 0, classes;
    drsn_model* model = NULL;
    float *logits_w = NULL, *logits_r = NULL, *normed = NULL, *signal = NULL;
    drsn_status st;

    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s MODEL.onnx WINDOWS.npy LABELS.npy CLASSES.json [count]\n", argv[0]);
        return 2;
    }
    if (argc == 6) count = (size_t)strtoul(argv[5], NULL, 10);
    if (npy_load(argv[2], &x, err, sizeof err) != 0) {
        fprintf(stderr, "classify_c: %s\n", err);
        return 1;
    }
    if (x.rank != 2 || x.shape[1] != WINDOW) {
        fprintf(stderr, "classify_c: %s: expected [N, %d] windows\n", argv[2], WINDOW);
        goto done;
    }
    if ((num_labels = read_labels(argv[3], &labels)) != x.shape[0]) {
        fprintf(stderr, "classify_c: %s: expected %lld int64 labels\n", argv[3], (long long)x.shape[0]);
        goto done;
    }
    if ((num_classes = read_classes(argv[4], names, MAX_CLASSES)) < 1) {
        fprintf(stderr, "classify_c: cannot read class names from %s\n", argv[4]);
        goto done;
    }
    if (count < 1 || count > (size_t)x.shape[0]) count = (size_t)x.shape[0];

    printf("libdrsn %s (ABI %u); header %s\n", drsn_version_string(), drsn_abi_version(), DRSN_VERSION_STRING);
    if ((st = drsn_model_load_file(argv[1], NULL, &model)) != DRSN_OK) {
        rc = fail("drsn_model_load_file", st);
        goto done;
    }
    {
        int64_t in_dims[3] = {1, 1, WINDOW}, out_dims[4];
        const int64_t* dims_ptr = in_dims;
        size_t in_rank = 3, out_rank = 0;
        st = drsn_model_output_shape_for(model, 1, &dims_ptr, &in_rank, 0, out_dims, 4, &out_rank);
        if (st != DRSN_OK) {
            rc = fail("drsn_model_output_shape_for", st);
            goto done;
        }
        classes = (size_t)out_dims[out_rank - 1];
        if ((int)classes != num_classes) {
            fprintf(stderr, "classify_c: the model has %zu classes, %s names %d\n", classes, argv[4], num_classes);
            goto done;
        }
    }
    logits_w = (float*)malloc(count * classes * sizeof(float));
    logits_r = (float*)malloc(count * classes * sizeof(float));
    normed = (float*)malloc(count * WINDOW * sizeof(float));
    signal = (float*)malloc(count * WINDOW * sizeof(float));
    picked = (size_t*)malloc(count * sizeof(size_t));
    if (logits_w == NULL || logits_r == NULL || normed == NULL || signal == NULL || picked == NULL) {
        fprintf(stderr, "classify_c: out of memory\n");
        goto done;
    }
    for (i = 0; i < count; i++) { /* evenly spread rows, laid end to end */
        picked[i] = i * (size_t)x.shape[0] / count;
        memcpy(signal + i * WINDOW, x.data + picked[i] * WINDOW, WINDOW * sizeof(float));
    }

    /* 1. sliding windows over the concatenated raw windows: the library normalises */
    {
        float* outs[1] = {logits_w};
        size_t caps[1] = {count * classes};
        st = drsn_model_run_windows(model, signal, 1, count * WINDOW, WINDOW, WINDOW, DRSN_NORMALIZE_ZSCORE,
                                    1e-8f, 0, 1, outs, caps, &num_windows);
        if (st != DRSN_OK) {
            rc = fail("drsn_model_run_windows", st);
            goto done;
        }
    }
    /* 2. normalise here (as in training) and run the batch */
    for (i = 0; i < count; i++) {
        const float* w = signal + i * WINDOW;
        double mean = 0.0, var = 0.0, std;
        for (j = 0; j < WINDOW; j++) mean += w[j];
        mean /= WINDOW;
        for (j = 0; j < WINDOW; j++) var += (w[j] - mean) * (w[j] - mean);
        std = sqrt(var / WINDOW);
        for (j = 0; j < WINDOW; j++) normed[i * WINDOW + j] = (float)((w[j] - mean) / (std + 1e-8));
    }
    {
        int64_t dims[3] = {(int64_t)count, 1, WINDOW};
        const float* ins[1] = {normed};
        const int64_t* dims_ptr[1] = {dims};
        size_t ranks[1] = {3}, caps[1] = {count * classes};
        float* outs[1] = {logits_r};
        st = drsn_model_run(model, 1, ins, dims_ptr, ranks, 1, outs, caps);
        if (st != DRSN_OK) {
            rc = fail("drsn_model_run", st);
            goto done;
        }
    }

    {
        size_t correct = 0, agree = 0;
        double max_diff = 0.0;
        printf("%zu windows through drsn_model_run_windows (window %d, hop %d, z-score in the library)\n",
               num_windows, WINDOW, WINDOW);
        printf("  row  true      predicted\n");
        for (i = 0; i < count; i++) {
            size_t p = argmax(logits_w + i * classes, classes), q = argmax(logits_r + i * classes, classes);
            long long t = labels[picked[i]];
            correct += (long long)p == t;
            agree += p == q;
            for (j = 0; j < classes; j++) {
                double d = fabs((double)logits_w[i * classes + j] - (double)logits_r[i * classes + j]);
                if (d > max_diff) max_diff = d;
            }
            printf("  %3zu  %-8s  %-8s %s\n", picked[i], (t >= 0 && t < num_classes) ? names[t] : "?", names[p],
                   (long long)p == t ? "ok" : "WRONG");
        }
        printf("C: %zu/%zu correct; drsn_model_run on windows normalised in C agrees on %zu/%zu "
               "(max |logit diff| %.2e)\n",
               correct, count, agree, count, max_diff);
        rc = (agree == count && num_windows == count) ? 0 : 1;
    }

done:
    drsn_model_destroy(model);
    free(logits_w);
    free(logits_r);
    free(normed);
    free(signal);
    free(picked);
    free(labels);
    npy_free(&x);
    return rc;
}
