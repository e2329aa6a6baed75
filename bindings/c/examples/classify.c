/*
 * classify.c - load a DRSN ONNX model, run it on a float32 .npy batch, print argmax per row.
 *
 *   cc -std=c11 classify.c -o classify $(pkg-config --cflags --libs drsn)
 *   ./classify model.onnx input.npy [num_threads]
 *
 * Uses only include/drsn.h (and the tiny .npy reader next to this file).
 */
#include <drsn.h>

#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* dtype_name(drsn_dtype t) {
    switch (t) {
        case DRSN_DTYPE_FLOAT32: return "float32";
        case DRSN_DTYPE_UINT8: return "uint8";
        case DRSN_DTYPE_INT8: return "int8";
        case DRSN_DTYPE_INT32: return "int32";
        case DRSN_DTYPE_INT64: return "int64";
        case DRSN_DTYPE_BOOL: return "bool";
        case DRSN_DTYPE_FLOAT16: return "float16";
        case DRSN_DTYPE_FLOAT64: return "float64";
        case DRSN_DTYPE_UNDEFINED: break;
    }
    return "undefined";
}

/* Prints "<what> failed: DRSN_ERR_...: message" and returns 1. */
static int fail(const char* what, drsn_status st) {
    /* read the message before any other drsn_* call */
    const char* msg = drsn_last_error();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", msg != NULL ? msg : "");
    fprintf(stderr, "%s failed: %s: %s\n", what, drsn_status_string(st), buf);
    return 1;
}

static void print_shape(const int64_t* dims, size_t rank) {
    size_t i;
    putchar('[');
    for (i = 0; i < rank; i++) {
        if (i) fputs(", ", stdout);
        if (dims[i] < 0)
            putchar('?');
        else
            printf("%lld", (long long)dims[i]);
    }
    putchar(']');
}

/* Prints name, dtype and shape of each input (is_input) or output. */
static int print_tensors(const drsn_model* m, int is_input) {
    size_t n = is_input ? drsn_model_input_count(m) : drsn_model_output_count(m), i;
    for (i = 0; i < n; i++) {
        int64_t dims[16];
        size_t rank = 0;
        drsn_dtype dt = DRSN_DTYPE_UNDEFINED;
        drsn_status st;
        const char* name = is_input ? drsn_model_input_name(m, i) : drsn_model_output_name(m, i);
        st = is_input ? drsn_model_input_dtype(m, i, &dt) : drsn_model_output_dtype(m, i, &dt);
        if (st != DRSN_OK) return fail("dtype query", st);
        st = is_input ? drsn_model_input_shape(m, i, dims, 16, &rank) : drsn_model_output_shape(m, i, dims, 16, &rank);
        if (st != DRSN_OK) return fail("shape query", st);
        printf("  %s %zu: %s %s ", is_input ? "input" : "output", i, name != NULL ? name : "(null)", dtype_name(dt));
        print_shape(dims, rank);
        putchar('\n');
    }
    return 0;
}

int main(int argc, char** argv) {
    drsn_options* opts = NULL;
    drsn_model* model = NULL;
    npy_array x;
    char err[512];
    drsn_status st;
    int rc = 1;
    float** outs = NULL;
    size_t* caps = NULL;
    int64_t(*odims)[16] = NULL;
    size_t* oranks = NULL;
    size_t nout = 0, j;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.onnx INPUT.npy [NUM_THREADS]\n", argv[0]);
        return 2;
    }
    printf("drsn %s (built against %s)\n", drsn_version_string(), DRSN_VERSION_STRING);
    if (drsn_abi_version() != DRSN_ABI_VERSION) {
        fprintf(stderr, "libdrsn ABI %u does not match this program's DRSN_ABI_VERSION %d\n",
                (unsigned)drsn_abi_version(), DRSN_ABI_VERSION);
        return 1;
    }

    if ((st = drsn_options_create(&opts)) != DRSN_OK) return fail("drsn_options_create", st);
    if (argc == 4) {
        char* end;
        long n = strtol(argv[3], &end, 10);
        if (*argv[3] == '\0' || *end != '\0' || n < 0 || n > 256) {
            fprintf(stderr, "NUM_THREADS must be an integer in 0..256\n");
            drsn_options_destroy(opts);
            return 2;
        }
        if ((st = drsn_options_set_num_threads(opts, (int32_t)n)) != DRSN_OK) {
            fail("drsn_options_set_num_threads", st);
            drsn_options_destroy(opts);
            return 1;
        }
    }
    st = drsn_model_load_file(argv[1], opts, &model);
    drsn_options_destroy(opts); /* only read during the load */
    if (st != DRSN_OK) return fail("drsn_model_load_file", st);

    printf("%s\n", argv[1]);
    if (print_tensors(model, 1) || print_tensors(model, 0)) goto done;
    if (drsn_model_input_count(model) != 1) {
        fprintf(stderr, "this example handles models with exactly one input\n");
        goto done;
    }

    if (npy_load(argv[2], &x, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    printf("input %s: ", argv[2]);
    print_shape(x.shape, x.rank);
    putchar('\n');

    {
        const int64_t* in_dims[1];
        size_t in_ranks[1];
        const float* ins[1];
        in_dims[0] = x.shape;
        in_ranks[0] = x.rank;
        ins[0] = x.data;
        nout = drsn_model_output_count(model);
        outs = (float**)calloc(nout, sizeof *outs);
        caps = (size_t*)calloc(nout, sizeof *caps);
        odims = (int64_t(*)[16])calloc(nout, sizeof *odims);
        oranks = (size_t*)calloc(nout, sizeof *oranks);
        if (outs == NULL || caps == NULL || odims == NULL || oranks == NULL) {
            fprintf(stderr, "out of memory\n");
            goto done_x;
        }
        for (j = 0; j < nout; j++) {
            size_t k, n = 1;
            st = drsn_model_output_shape_for(model, 1, in_dims, in_ranks, j, odims[j], 16, &oranks[j]);
            if (st != DRSN_OK) {
                fail("drsn_model_output_shape_for", st);
                goto done_x;
            }
            for (k = 0; k < oranks[j]; k++) n *= (size_t)odims[j][k];
            caps[j] = n;
            outs[j] = (float*)malloc((n ? n : 1) * sizeof(float));
            if (outs[j] == NULL) {
                fprintf(stderr, "out of memory\n");
                goto done_x;
            }
        }
        st = drsn_model_run(model, 1, ins, in_dims, in_ranks, nout, outs, caps);
        if (st != DRSN_OK) {
            fail("drsn_model_run", st);
            goto done_x;
        }
    }

    for (j = 0; j < nout; j++) {
        /* rows = first dimension, classes = product of the rest */
        size_t rows = oranks[j] > 0 ? (size_t)odims[j][0] : 1;
        size_t cols = rows ? caps[j] / rows : 0, r, c;
        printf("output %s ", drsn_model_output_name(model, j));
        print_shape(odims[j], oranks[j]);
        putchar('\n');
        for (r = 0; r < rows && cols > 0; r++) {
            const float* row = outs[j] + r * cols;
            size_t best = 0;
            for (c = 1; c < cols; c++)
                if (row[c] > row[best]) best = c;
            printf("  row %zu: argmax %zu (%.6f)\n", r, best, (double)row[best]);
        }
    }
    rc = 0;

done_x:
    npy_free(&x);
done:
    if (outs != NULL)
        for (j = 0; j < nout; j++) free(outs[j]);
    free(outs);
    free(caps);
    free(odims);
    free(oranks);
    drsn_model_destroy(model);
    return rc;
}
