/*
 * tiny_model.h - encodes small ONNX models for the C and C++ tests, so that they do not
 * depend on the fixture folder. Header-only; valid C11 and C++17.
 *
 * The tiny model: x [N,4] -> Relu -> r; y = r * w with initializer w = [1, 2, 3, 4].
 */
#ifndef DRSN_TESTS_TINY_MODEL_H
#define DRSN_TESTS_TINY_MODEL_H

#include "drsn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- A tiny protobuf writer, to encode ONNX models in the test ------------------- */

typedef struct pb {
    unsigned char* p;
    size_t n, cap;
} pb;

#define PB_INIT {NULL, 0, 0}

static inline void pb_raw(pb* b, const void* data, size_t len) {
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len) cap *= 2;
        b->p = (unsigned char*)realloc(b->p, cap);
        if (b->p == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        b->cap = cap;
    }
    if (len) memcpy(b->p + b->n, data, len);
    b->n += len;
}

static inline void pb_varint(pb* b, uint64_t v) {
    unsigned char buf[10];
    size_t n = 0;
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) c |= 0x80;
        buf[n++] = c;
    } while (v);
    pb_raw(b, buf, n);
}

static inline void pb_key(pb* b, unsigned field, unsigned wire) { pb_varint(b, ((uint64_t)field << 3) | wire); }
static inline void pb_int(pb* b, unsigned field, int64_t v) {
    pb_key(b, field, 0);
    pb_varint(b, (uint64_t)v);
}
static inline void pb_bytes(pb* b, unsigned field, const void* data, size_t len) {
    pb_key(b, field, 2);
    pb_varint(b, len);
    pb_raw(b, data, len);
}
static inline void pb_str(pb* b, unsigned field, const char* s) { pb_bytes(b, field, s, strlen(s)); }
/* Appends `sub` as an embedded message and frees it. */
static inline void pb_msg(pb* b, unsigned field, pb* sub) {
    pb_bytes(b, field, sub->p, sub->n);
    free(sub->p);
    memset(sub, 0, sizeof *sub);
}

/* ValueInfoProto for a float tensor; a negative dim becomes dim_param "N". */
static inline void pb_value_info(pb* graph, unsigned field, const char* name, const int64_t* dims, size_t rank) {
    pb vi = PB_INIT, type = PB_INIT, tensor = PB_INIT, shape = PB_INIT;
    size_t i;
    for (i = 0; i < rank; i++) {
        pb dim = PB_INIT;
        if (dims[i] < 0)
            pb_str(&dim, 2, "N"); /* dim_param */
        else
            pb_int(&dim, 1, dims[i]); /* dim_value */
        pb_msg(&shape, 1, &dim);
    }
    pb_int(&tensor, 1, DRSN_DTYPE_FLOAT32); /* elem_type */
    pb_msg(&tensor, 2, &shape);             /* shape */
    pb_msg(&type, 1, &tensor);              /* tensor_type */
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &type);
    pb_msg(graph, field, &vi);
}

static const float k_tiny_w[4] = {1.0f, 2.0f, 3.0f, 4.0f};

/*
 * The tiny model: x [N,4] -> first_op (Relu) -> r; y = r * w, w = [1,2,3,4] (initializer).
 * ext_location != NULL stores w as external data at that location (raw little-endian float32).
 */
static inline pb build_tiny(const char* first_op, const char* ext_location) {
    pb model = PB_INIT, opset = PB_INIT, graph = PB_INIT, n1 = PB_INIT, n2 = PB_INIT, w = PB_INIT;
    const int64_t xdims[2] = {-1, 4};
    pb_str(&n1, 1, "x");
    pb_str(&n1, 2, "r");
    pb_str(&n1, 3, "first");
    pb_str(&n1, 4, first_op);
    pb_str(&n2, 1, "r");
    pb_str(&n2, 1, "w");
    pb_str(&n2, 2, "y");
    pb_str(&n2, 3, "scale");
    pb_str(&n2, 4, "Mul");

    pb_int(&w, 1, 4);                  /* dims */
    pb_int(&w, 2, DRSN_DTYPE_FLOAT32); /* data_type */
    pb_str(&w, 8, "w");                /* name */
    if (ext_location == NULL) {
        pb_bytes(&w, 9, k_tiny_w, sizeof k_tiny_w); /* raw_data (host is little-endian: checked) */
    } else {
        pb e1 = PB_INIT, e2 = PB_INIT, e3 = PB_INIT;
        pb_str(&e1, 1, "location");
        pb_str(&e1, 2, ext_location);
        pb_msg(&w, 13, &e1); /* external_data */
        pb_str(&e2, 1, "offset");
        pb_str(&e2, 2, "0");
        pb_msg(&w, 13, &e2);
        pb_str(&e3, 1, "length");
        pb_str(&e3, 2, "16");
        pb_msg(&w, 13, &e3);
        pb_int(&w, 14, 1); /* data_location = EXTERNAL */
    }

    pb_msg(&graph, 1, &n1);
    pb_msg(&graph, 1, &n2);
    pb_str(&graph, 2, "tiny");
    pb_msg(&graph, 5, &w);
    pb_value_info(&graph, 11, "x", xdims, 2);
    pb_value_info(&graph, 12, "y", xdims, 2);

    /* graph last: every truncation of the encoding lacks the graph or cuts a field short */
    pb_int(&model, 1, 8); /* ir_version */
    pb_str(&model, 2, "drsn-tests");
    pb_str(&opset, 1, "");
    pb_int(&opset, 2, 17);
    pb_msg(&model, 8, &opset); /* opset_import */
    pb_msg(&model, 7, &graph);
    return model;
}

/*
 * The two-input, two-output model: inputs x [N,4] and w [4]; r = Relu(x), y = r * w;
 * outputs y [N,4] then r [N,4].
 */
static inline pb build_relu_mul(void) {
    pb model = PB_INIT, opset = PB_INIT, graph = PB_INIT, n1 = PB_INIT, n2 = PB_INIT;
    const int64_t xdims[2] = {-1, 4};
    const int64_t wdims[1] = {4};
    pb_str(&n1, 1, "x");
    pb_str(&n1, 2, "r");
    pb_str(&n1, 4, "Relu");
    pb_str(&n2, 1, "r");
    pb_str(&n2, 1, "w");
    pb_str(&n2, 2, "y");
    pb_str(&n2, 4, "Mul");
    pb_msg(&graph, 1, &n1);
    pb_msg(&graph, 1, &n2);
    pb_str(&graph, 2, "relu_mul");
    pb_value_info(&graph, 11, "x", xdims, 2);
    pb_value_info(&graph, 11, "w", wdims, 1);
    pb_value_info(&graph, 12, "y", xdims, 2);
    pb_value_info(&graph, 12, "r", xdims, 2);
    pb_int(&model, 1, 8);
    pb_str(&model, 2, "drsn-tests");
    pb_str(&opset, 1, "");
    pb_int(&opset, 2, 17);
    pb_msg(&model, 8, &opset);
    pb_msg(&model, 7, &graph);
    return model;
}

static inline void tiny_expected(const float* x, size_t rows, float* y) {
    size_t i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < 4; j++) {
            float v = x[i * 4 + j];
            y[i * 4 + j] = (v > 0.0f ? v : 0.0f) * k_tiny_w[j];
        }
}

#endif /* DRSN_TESTS_TINY_MODEL_H */
