/* Tests/isa/fixture_check.c - runs fixture models through libdrsn and compares with the
 * reference outputs; prints the kernel ISA in use (drsn_isa).
 *
 *   fixture_check [--expect-isa NAME] [--tol T] DIR/NAME ...
 *
 * For each NAME: loads NAME.onnx, runs NAME.in.npy (float32, C order) with the default
 * options and compares output 0 with NAME.out.npy (absolute tolerance, default 1e-4).
 * Exit 0 if every model matches (and the ISA is NAME when --expect-isa is given). */
#include "drsn.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Minimal .npy reader: version 1/2/3, '<f4', C order. Returns malloc'd data, shape in dims. */
static float *read_npy(const char *path, int64_t *dims, size_t *rank, size_t *count) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return NULL; }
    unsigned char magic[8];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0) { fclose(f); return NULL; }
    uint32_t hlen = 0;
    if (magic[6] == 1) {
        unsigned char b[2]; if (fread(b, 1, 2, f) != 2) { fclose(f); return NULL; }
        hlen = b[0] | (b[1] << 8);
    } else {
        unsigned char b[4]; if (fread(b, 1, 4, f) != 4) { fclose(f); return NULL; }
        hlen = b[0] | (b[1] << 8) | (b[2] << 16) | ((uint32_t)b[3] << 24);
    }
    char *h = calloc(hlen + 1, 1);
    if (fread(h, 1, hlen, f) != hlen) { free(h); fclose(f); return NULL; }
    if (!strstr(h, "'<f4'") || strstr(h, "'fortran_order': True")) {
        fprintf(stderr, "%s: not a C-order float32 array\n", path); free(h); fclose(f); return NULL;
    }
    char *s = strstr(h, "'shape': (");
    if (!s) { free(h); fclose(f); return NULL; }
    s += strlen("'shape': (");
    *rank = 0; *count = 1;
    while (*s && *s != ')') {
        char *end; long long d = strtoll(s, &end, 10);
        if (end == s) { s++; continue; }
        dims[(*rank)++] = d; *count *= (size_t)d; s = end;
    }
    free(h);
    float *data = malloc(*count * sizeof(float) + 1);
    if (fread(data, sizeof(float), *count, f) != *count) { free(data); fclose(f); return NULL; }
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    const char *expect = NULL;
    double tol = 1e-4;
    int failures = 0, models = 0;
    printf("drsn %s, kernel ISA: %s\n", drsn_version_string(), drsn_isa());
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect-isa") == 0 && i + 1 < argc) { expect = argv[++i]; continue; }
        if (strcmp(argv[i], "--tol") == 0 && i + 1 < argc) { tol = atof(argv[++i]); continue; }
        char path[4096];
        int64_t idims[8], odims[8];
        size_t irank, orank, icount, ocount;
        snprintf(path, sizeof path, "%s.in.npy", argv[i]);
        float *in = read_npy(path, idims, &irank, &icount);
        snprintf(path, sizeof path, "%s.out.npy", argv[i]);
        float *ref = read_npy(path, odims, &orank, &ocount);
        snprintf(path, sizeof path, "%s.onnx", argv[i]);
        drsn_model *m = NULL;
        drsn_status st = (in && ref) ? drsn_model_load_file(path, NULL, &m) : DRSN_ERR_IO;
        float *out = calloc(ocount ? ocount : 1, sizeof(float));
        if (st == DRSN_OK) {
            const float *ins[1] = {in};
            const int64_t *dimsp[1] = {idims};
            float *outs[1] = {out};
            size_t caps[1] = {ocount};
            st = drsn_model_run(m, 1, ins, dimsp, &irank, 1, outs, caps);
        }
        models++;
        if (st != DRSN_OK) {
            printf("FAIL %s: %s (%s)\n", argv[i], drsn_status_string(st), drsn_last_error());
            failures++;
        } else {
            double maxerr = 0;
            for (size_t k = 0; k < ocount; k++) {
                double e = fabs((double)out[k] - (double)ref[k]);
                if (!(e <= maxerr)) maxerr = e; /* NaN counts as an error */
            }
            int ok = maxerr <= tol;
            printf("%s %s: max |diff| %.3g over %zu outputs\n", ok ? "ok  " : "FAIL", argv[i], maxerr, ocount);
            if (!ok) failures++;
        }
        drsn_model_destroy(m);
        free(in); free(ref); free(out);
    }
    if (expect && strcmp(expect, drsn_isa()) != 0) {
        printf("FAIL: kernel ISA is %s, expected %s\n", drsn_isa(), expect);
        failures++;
    }
    printf("%d model(s), %d failure(s)\n", models, failures);
    return failures ? 1 : 0;
}
