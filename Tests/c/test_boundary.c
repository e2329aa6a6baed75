/*
 * test_boundary.c - argument validation of every exported function with hostile values:
 * huge size_t counts (SIZE_MAX, values above INT64_MAX that Swift sees as negative),
 * extreme dims, ranks and capacities, misaligned float and int64 buffers, extreme option
 * values, special files as model paths (a FIFO must not block the load), and NaN/Inf
 * inputs (IEEE propagation). Every call must return a status (no trap, no hang).
 * Complements test_capi.c (which covers NULL pointers and the documented contracts).
 *
 *   test_boundary           (prints "N passed, M failed"; exit 0 when M == 0)
 */
#define _XOPEN_SOURCE 700
#include "drsn.h"
#include "check.h"
#include "tiny_model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPECT(call, want)                                                                               \
    do {                                                                                                 \
        drsn_status st_ = (call);                                                                        \
        CHECK(st_ == (want), "%s returned %s (%s), expected %s", #call, drsn_status_string(st_),         \
              st_ ? drsn_last_error() : "", drsn_status_string(want));                                   \
    } while (0)

#define EXPECT_FAIL(call)                                                                        \
    do {                                                                                         \
        drsn_status st_ = (call);                                                                \
        CHECK(st_ != DRSN_OK && st_ != DRSN_ERR_INTERNAL, "%s returned %s", #call,               \
              drsn_status_string(st_));                                                          \
        CHECK(st_ == DRSN_OK || strlen(drsn_last_error()) > 0, "%s: no error message", #call);  \
    } while (0)

static const size_t HUGE_COUNTS[] = {SIZE_MAX, SIZE_MAX / 2 + 1, SIZE_MAX / 2, (size_t)1 << 40, 17, 3};

int main(void) {
    const int IA = DRSN_ERR_INVALID_ARGUMENT;
    pb tiny = build_tiny("Relu", NULL);
    drsn_model* m = NULL;
    drsn_options* o = NULL;
    size_t i, k;
    /* x [2,4] */
    float xbuf[16] = {1, -2, 3, -4, 5, -6, 7, -8};
    float ybuf[16];
    const float* ins[1] = {xbuf};
    float* outs[1] = {ybuf};
    int64_t xdims[2] = {2, 4};
    const int64_t* dims[1] = {xdims};
    size_t ranks[1] = {2};
    size_t caps[1] = {8};
    int64_t shape[16];
    size_t rank = 0;
    drsn_dtype dt;

    printf("[load]\n");
    EXPECT(drsn_model_load_memory(tiny.p, tiny.n, NULL, &m), DRSN_OK);
    if (m == NULL) return 1;
    for (i = 0; i < sizeof HUGE_COUNTS / sizeof HUGE_COUNTS[0] - 2; i++) {
        drsn_model* x = NULL;
        /* a huge size with a small real buffer: rejected by the size check before any read */
        drsn_status st = drsn_model_load_memory(tiny.p, HUGE_COUNTS[i], NULL, &x);
        CHECK(st == IA || st == DRSN_ERR_LIMIT_EXCEEDED, "load_memory size %zu gave %s", HUGE_COUNTS[i],
              drsn_status_string(st));
        CHECK(x == NULL, "model set on failure");
    }
    {
        static const unsigned char twenty[20] = {0x3a, 0x12, 0x0a, 0x10, 0x12, 0x01, 0x79, 0x22, 0x0b, 'C',
                                                 'o',  'n',  's',  't',  'a',  'n',  't',  0x42, 0x02, 0x10};
        drsn_model* x = NULL;
        EXPECT_FAIL(drsn_model_load_memory(twenty, sizeof twenty, NULL, &x));
        EXPECT_FAIL(drsn_model_load_memory(twenty, 0, NULL, &x));
        EXPECT_FAIL(drsn_model_load_file("", NULL, &x));
        EXPECT_FAIL(drsn_model_load_file("/", NULL, &x));
        EXPECT_FAIL(drsn_model_load_file("/dev/null", NULL, &x));
        EXPECT_FAIL(drsn_model_load_file("/dev/zero", NULL, &x));
        EXPECT_FAIL(drsn_model_load_file("/proc/self/mem", NULL, &x));
        {
            /* A FIFO with no writer: opening it must not block. */
            char fifo[] = "/tmp/drsn-boundary-fifo-XXXXXX";
            int fd = mkstemp(fifo);
            if (fd >= 0) {
                close(fd);
                unlink(fifo);
                if (mkfifo(fifo, 0600) == 0) {
                    EXPECT(drsn_model_load_file(fifo, NULL, &x), DRSN_ERR_IO);
                    unlink(fifo);
                }
            }
        }
        CHECK(x == NULL, "model set on failure");
    }

    printf("[options]\n");
    EXPECT(drsn_options_create(&o), DRSN_OK);
    {
        const int32_t threads[] = {-1, INT32_MIN, 257, INT32_MAX};
        const int64_t values[] = {0, -1, INT64_MIN};
        const int limits[] = {0, DRSN_LIMIT_MAX_ARENA_BYTES + 1, -1, INT32_MAX, INT32_MIN}; /* unknown */
        int64_t v;
        int32_t t;
        for (i = 0; i < 4; i++) EXPECT(drsn_options_set_num_threads(o, threads[i]), IA);
        EXPECT(drsn_options_get_num_threads(o, &t), DRSN_OK);
        CHECK(t == 0, "num_threads changed by rejected calls: %d", t);
        for (i = 0; i < 5; i++) {
            EXPECT(drsn_options_set_limit(o, (drsn_limit)limits[i], 1), IA);
            EXPECT(drsn_options_get_limit(o, (drsn_limit)limits[i], &v), IA);
        }
        for (k = DRSN_LIMIT_MAX_FILE_BYTES; k <= DRSN_LIMIT_MAX_ARENA_BYTES; k++) {
            for (i = 0; i < 3; i++) EXPECT(drsn_options_set_limit(o, (drsn_limit)k, values[i]), IA);
            EXPECT(drsn_options_set_limit(o, (drsn_limit)k, INT64_MAX), DRSN_OK);
            EXPECT(drsn_options_get_limit(o, (drsn_limit)k, &v), DRSN_OK);
            CHECK(v == INT64_MAX, "limit %zu read back %lld", k, (long long)v);
        }
        /* extreme limits: loads still work (INT64_MAX) or fail cleanly (1) */
        {
            drsn_model* x = NULL;
            EXPECT(drsn_model_load_memory(tiny.p, tiny.n, o, &x), DRSN_OK);
            if (x) EXPECT(drsn_model_run(x, 1, ins, dims, ranks, 1, outs, caps), DRSN_OK);
            drsn_model_destroy(x);
            x = NULL;
            for (k = DRSN_LIMIT_MAX_FILE_BYTES; k <= DRSN_LIMIT_MAX_ARENA_BYTES; k++) {
                drsn_options* one = NULL;
                drsn_status st;
                drsn_options_create(&one);
                drsn_options_set_limit(one, (drsn_limit)k, 1);
                st = drsn_model_load_memory(tiny.p, tiny.n, one, &x);
                if (st == DRSN_OK) {
                    st = drsn_model_run(x, 1, ins, dims, ranks, 1, outs, caps);
                    drsn_model_destroy(x);
                    x = NULL;
                }
                CHECK(st == DRSN_ERR_LIMIT_EXCEEDED, "limit %zu = 1 gave %s", k, drsn_status_string(st));
                drsn_options_destroy(one);
            }
        }
    }
    drsn_options_destroy(o);

    printf("[introspection with huge indices and capacities]\n");
    for (i = 0; i < sizeof HUGE_COUNTS / sizeof HUGE_COUNTS[0]; i++) {
        size_t h = HUGE_COUNTS[i];
        CHECK(drsn_model_input_name(m, h) == NULL, "input_name(%zu)", h);
        CHECK(drsn_model_output_name(m, h) == NULL, "output_name(%zu)", h);
        EXPECT(drsn_model_input_dtype(m, h, &dt), IA);
        EXPECT(drsn_model_output_dtype(m, h, &dt), IA);
        EXPECT(drsn_model_input_shape(m, h, shape, 16, &rank), IA);
        EXPECT(drsn_model_output_shape(m, h, shape, 16, &rank), IA);
        /* a huge capacity is enough capacity */
        EXPECT(drsn_model_input_shape(m, 0, shape, h, &rank), DRSN_OK);
        CHECK(rank == 2 && shape[0] == -1 && shape[1] == 4, "input shape rank %zu", rank);
        EXPECT(drsn_model_output_shape_for(m, 1, dims, ranks, h, shape, 16, &rank), IA);
        EXPECT(drsn_model_output_shape_for(m, h, dims, ranks, 0, shape, 16, &rank), IA);
        EXPECT(drsn_model_run(m, h, ins, dims, ranks, 1, outs, caps), IA);
        EXPECT(drsn_model_run(m, 1, ins, dims, ranks, h, outs, caps), IA);
        if (h > 16) { /* ranks above 16 are rejected before any dims are read */
            size_t bad_rank[1];
            bad_rank[0] = h;
            EXPECT(drsn_model_output_shape_for(m, 1, dims, bad_rank, 0, shape, 16, &rank), IA);
            EXPECT(drsn_model_run(m, 1, ins, dims, bad_rank, 1, outs, caps), IA);
        }
        {
            size_t big_cap[1];
            big_cap[0] = h;
            /* a capacity of SIZE_MAX etc. is enough (the real buffer holds 16 floats) */
            EXPECT(drsn_model_run(m, 1, ins, dims, ranks, 1, outs, big_cap), h >= 8 ? DRSN_OK : DRSN_ERR_BUFFER_TOO_SMALL);
        }
    }
    EXPECT(drsn_model_input_shape(m, 0, shape, 1, &rank), DRSN_ERR_BUFFER_TOO_SMALL);
    CHECK(rank == 2, "rank reported with a small capacity: %zu", rank);
    EXPECT(drsn_model_input_shape(m, 0, NULL, 0, &rank), DRSN_ERR_BUFFER_TOO_SMALL);

    printf("[extreme dims]\n");
    {
        const int64_t bad[] = {0, -1, INT64_MIN, INT64_MAX, DRSN_MAX_DIMENSION + 1, (int64_t)1 << 40};
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            int64_t d[2];
            const int64_t* dp[1];
            d[0] = bad[i];
            d[1] = 4;
            dp[0] = d;
            EXPECT_FAIL(drsn_model_output_shape_for(m, 1, dp, ranks, 0, shape, 16, &rank));
            EXPECT_FAIL(drsn_model_run(m, 1, ins, dp, ranks, 1, outs, caps));
            d[0] = 2;
            d[1] = bad[i];
            EXPECT_FAIL(drsn_model_run(m, 1, ins, dp, ranks, 1, outs, caps));
        }
        /* rank 16 of DRSN_MAX_DIMENSION (2^31) each: the element count overflows 64 bits */
        {
            int64_t d[16];
            const int64_t* dp[1];
            size_t r[1] = {16};
            for (k = 0; k < 16; k++) d[k] = DRSN_MAX_DIMENSION;
            dp[0] = d;
            EXPECT_FAIL(drsn_model_output_shape_for(m, 1, dp, r, 0, shape, 16, &rank));
            EXPECT_FAIL(drsn_model_run(m, 1, ins, dp, r, 1, outs, caps));
        }
        /* the model's fixed dimension 4 must match; a huge batch fails cleanly */
        {
            int64_t d[2] = {DRSN_MAX_DIMENSION, 4};
            const int64_t* dp[1] = {d};
            EXPECT_FAIL(drsn_model_run(m, 1, ins, dp, ranks, 1, outs, caps));
        }
    }

    printf("[misaligned buffers]\n");
    {
        static unsigned char raw[512];
        unsigned char* base = raw + (64 - ((uintptr_t)raw % 64));
        const float* mis_in[1];
        float* mis_out[1];
        int64_t* mis_dims = (int64_t*)(void*)(base + 64 + 4); /* 4-byte aligned, not 8 */
        size_t* mis_rank = (size_t*)(void*)(base + 160 + 4);
        const int64_t* mdp[1];
        int64_t* mis_shape = (int64_t*)(void*)(base + 192 + 4);
        size_t* mis_out_rank = (size_t*)(void*)(base + 320 + 4);
        mis_in[0] = (const float*)(const void*)(base + 1);
        mis_out[0] = (float*)(void*)(base + 258);
        EXPECT(drsn_model_run(m, 1, mis_in, dims, ranks, 1, outs, caps), IA);
        EXPECT(drsn_model_run(m, 1, ins, dims, ranks, 1, mis_out, caps), IA);
        memcpy(mis_dims, xdims, sizeof xdims);
        memcpy(mis_rank, ranks, sizeof ranks);
        mdp[0] = mis_dims;
        EXPECT(drsn_model_run(m, 1, ins, mdp, mis_rank, 1, outs, caps), DRSN_OK);
        CHECK(ybuf[0] == 1 && ybuf[1] == 0 && ybuf[2] == 9, "run with misaligned dims: %g %g %g", (double)ybuf[0],
              (double)ybuf[1], (double)ybuf[2]);
        EXPECT(drsn_model_output_shape_for(m, 1, mdp, mis_rank, 0, mis_shape, 2, mis_out_rank), DRSN_OK);
        {
            int64_t s[2];
            size_t r;
            memcpy(s, mis_shape, sizeof s);
            memcpy(&r, mis_out_rank, sizeof r);
            CHECK(r == 2 && s[0] == 2 && s[1] == 4, "output shape through misaligned buffers");
        }
        EXPECT(drsn_model_input_shape(m, 0, mis_shape, 2, mis_out_rank), DRSN_OK);
    }

    printf("[NaN and Inf]\n");
    {
        float x[8], y[8];
        const float* xi[1] = {x};
        float* yo[1] = {y};
        x[0] = NAN;
        x[1] = -NAN;
        x[2] = INFINITY;
        x[3] = -INFINITY;
        x[4] = 1e38f;
        x[5] = -1e38f;
        x[6] = 1e-45f;
        x[7] = -0.0f;
        EXPECT(drsn_model_run(m, 1, xi, dims, ranks, 1, yo, caps), DRSN_OK);
        /* y = relu(x) * [1,2,3,4] per row */
        CHECK(isnan(y[0]) && isnan(y[1]), "relu(NaN)*w should be NaN: %g %g", (double)y[0], (double)y[1]);
        CHECK(y[2] == INFINITY && y[3] == 0.0f, "inf: %g %g", (double)y[2], (double)y[3]);
        CHECK(y[4] == 1e38f && y[5] == 0.0f, "1e38: %g %g", (double)y[4], (double)y[5]);
        CHECK(y[6] >= 0.0f && y[6] < 1e-44f && y[7] == 0.0f, "denormal/-0: %g %g", (double)y[6], (double)y[7]);
    }

    drsn_model_destroy(m);
    free(tiny.p);
    return check_report();
}
