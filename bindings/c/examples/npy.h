/*
 * npy.h - a tiny, strict reader for float32 .npy files (header-only, C99/C11 and C++).
 *
 * Accepts exactly what numpy writes for a C-ordered little-endian float32 array:
 *   magic "\x93NUMPY", format version 1.0, 2.0 or 3.0, a header that is a Python dict
 *   literal with exactly the keys 'descr' (must be '<f4'), 'fortran_order' (must be
 *   False) and 'shape' (a tuple of non-negative integers), terminated by '\n', and then
 *   exactly prod(shape) * 4 bytes of data (no trailing bytes). Anything else is rejected
 *   with a message.
 *
 * Usage:
 *   npy_array a;
 *   char err[256];
 *   if (npy_load("x.npy", &a, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); ... }
 *   ... a.shape[0..a.rank), a.data[0..a.count) ...
 *   npy_free(&a);
 */
#ifndef DRSN_EXAMPLES_NPY_H
#define DRSN_EXAMPLES_NPY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_RANK 32

typedef struct npy_array {
    size_t rank;
    int64_t shape[NPY_MAX_RANK];
    size_t count; /* product of shape (1 for rank 0) */
    float* data;  /* malloc'ed, count floats (may be NULL when count == 0) */
} npy_array;

static inline void npy_errf_(char* err, size_t errlen, const char* fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static inline void npy_errf_(char* err, size_t errlen, const char* fmt, ...) {
    va_list ap;
    if (err == NULL || errlen == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static inline int npy_host_is_little_endian_(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Header cursor helpers. */
typedef struct npy_cursor_ {
    const char* p;
    const char* end;
} npy_cursor_;

static inline void npy_skip_ws_(npy_cursor_* c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++;
}

static inline int npy_accept_(npy_cursor_* c, char ch) {
    npy_skip_ws_(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Reads a quoted Python string ('...' or "...", no escapes) into out. */
static inline int npy_read_str_(npy_cursor_* c, char* out, size_t outlen) {
    char q;
    size_t n = 0;
    npy_skip_ws_(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    q = *c->p++;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= outlen) return 0;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return 0;
    c->p++; /* closing quote */
    out[n] = '\0';
    return 1;
}

static inline int npy_read_word_(npy_cursor_* c, const char* word) {
    size_t n = strlen(word);
    npy_skip_ws_(c);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, word, n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}

/* Parses an in-memory .npy image. Returns 0 on success, -1 with a message on failure. */
static inline int npy_parse(const unsigned char* buf, size_t len, npy_array* out, char* err, size_t errlen) {
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    size_t header_len, prefix, data_off, i;
    int have_descr = 0, have_fortran = 0, have_shape = 0;
    npy_cursor_ c;
    unsigned char major;

    if (out == NULL) {
        npy_errf_(err, errlen, "npy: NULL output");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (buf == NULL) {
        npy_errf_(err, errlen, "npy: NULL buffer");
        return -1;
    }
    if (!npy_host_is_little_endian_()) {
        npy_errf_(err, errlen, "npy: this reader only supports little-endian hosts");
        return -1;
    }
    if (len < 10 || memcmp(buf, magic, 6) != 0) {
        npy_errf_(err, errlen, "npy: not a .npy file (bad magic)");
        return -1;
    }
    major = buf[6];
    if (buf[7] != 0 || (major != 1 && major != 2 && major != 3)) {
        npy_errf_(err, errlen, "npy: unsupported format version %u.%u", (unsigned)buf[6], (unsigned)buf[7]);
        return -1;
    }
    if (major == 1) {
        header_len = (size_t)buf[8] | ((size_t)buf[9] << 8);
        prefix = 10;
    } else {
        if (len < 12) {
            npy_errf_(err, errlen, "npy: truncated header");
            return -1;
        }
        header_len = (size_t)buf[8] | ((size_t)buf[9] << 8) | ((size_t)buf[10] << 16) | ((size_t)buf[11] << 24);
        prefix = 12;
    }
    if (header_len == 0 || header_len > len - prefix) {
        npy_errf_(err, errlen, "npy: header length %zu exceeds file size %zu", header_len, len);
        return -1;
    }
    data_off = prefix + header_len;
    if (buf[data_off - 1] != '\n') {
        npy_errf_(err, errlen, "npy: header is not terminated by a newline");
        return -1;
    }
    for (i = prefix; i < data_off - 1; i++) {
        unsigned char ch = buf[i];
        if (ch < 0x20 || ch > 0x7e) {
            npy_errf_(err, errlen, "npy: header contains a non-printable byte at offset %zu", i);
            return -1;
        }
    }

    c.p = (const char*)buf + prefix;
    c.end = (const char*)buf + data_off - 1;
    if (!npy_accept_(&c, '{')) {
        npy_errf_(err, errlen, "npy: header is not a dict");
        return -1;
    }
    for (;;) {
        char key[32];
        npy_skip_ws_(&c);
        if (npy_accept_(&c, '}')) break;
        if (!npy_read_str_(&c, key, sizeof key) || !npy_accept_(&c, ':')) {
            npy_errf_(err, errlen, "npy: malformed header dict");
            return -1;
        }
        if (strcmp(key, "descr") == 0) {
            char descr[32];
            if (have_descr++) {
                npy_errf_(err, errlen, "npy: duplicate key 'descr'");
                return -1;
            }
            if (!npy_read_str_(&c, descr, sizeof descr)) {
                npy_errf_(err, errlen, "npy: 'descr' is not a simple string");
                return -1;
            }
            if (strcmp(descr, "<f4") != 0) {
                npy_errf_(err, errlen, "npy: dtype '%s' is not supported (need '<f4', little-endian float32)", descr);
                return -1;
            }
        } else if (strcmp(key, "fortran_order") == 0) {
            if (have_fortran++) {
                npy_errf_(err, errlen, "npy: duplicate key 'fortran_order'");
                return -1;
            }
            if (npy_read_word_(&c, "False")) {
                /* ok */
            } else if (npy_read_word_(&c, "True")) {
                npy_errf_(err, errlen, "npy: Fortran-ordered arrays are not supported (need C order)");
                return -1;
            } else {
                npy_errf_(err, errlen, "npy: 'fortran_order' must be True or False");
                return -1;
            }
        } else if (strcmp(key, "shape") == 0) {
            if (have_shape++) {
                npy_errf_(err, errlen, "npy: duplicate key 'shape'");
                return -1;
            }
            if (!npy_accept_(&c, '(')) {
                npy_errf_(err, errlen, "npy: 'shape' is not a tuple");
                return -1;
            }
            for (;;) {
                int64_t v = 0;
                int digits = 0;
                if (npy_accept_(&c, ')')) break;
                npy_skip_ws_(&c);
                while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
                    int d = *c.p - '0';
                    if (v > (INT64_MAX - d) / 10) {
                        npy_errf_(err, errlen, "npy: dimension too large");
                        return -1;
                    }
                    v = v * 10 + d;
                    digits++;
                    c.p++;
                }
                if (digits == 0) {
                    npy_errf_(err, errlen, "npy: 'shape' must hold non-negative integers");
                    return -1;
                }
                if (out->rank >= NPY_MAX_RANK) {
                    npy_errf_(err, errlen, "npy: rank exceeds %d", NPY_MAX_RANK);
                    return -1;
                }
                out->shape[out->rank++] = v;
                if (npy_accept_(&c, ',')) continue;
                if (npy_accept_(&c, ')')) break;
                npy_errf_(err, errlen, "npy: malformed 'shape' tuple");
                return -1;
            }
        } else {
            npy_errf_(err, errlen, "npy: unexpected header key '%s'", key);
            return -1;
        }
        if (npy_accept_(&c, ',')) continue;
        if (npy_accept_(&c, '}')) break;
        npy_errf_(err, errlen, "npy: malformed header dict");
        return -1;
    }
    npy_skip_ws_(&c);
    if (c.p != c.end) {
        npy_errf_(err, errlen, "npy: trailing characters after header dict");
        return -1;
    }
    if (!have_descr || !have_fortran || !have_shape) {
        npy_errf_(err, errlen, "npy: header lacks %s", !have_descr ? "'descr'" : !have_fortran ? "'fortran_order'" : "'shape'");
        return -1;
    }

    out->count = 1;
    for (i = 0; i < out->rank; i++) {
        uint64_t d = (uint64_t)out->shape[i];
        if (d != 0 && out->count > (SIZE_MAX / 4) / d) {
            npy_errf_(err, errlen, "npy: array too large");
            out->rank = 0;
            return -1;
        }
        out->count *= (size_t)d;
    }
    if (len - data_off != out->count * 4) {
        npy_errf_(err, errlen, "npy: data holds %zu bytes but shape needs %zu", len - data_off, out->count * 4);
        out->rank = 0;
        out->count = 0;
        return -1;
    }
    if (out->count > 0) {
        out->data = (float*)malloc(out->count * sizeof(float));
        if (out->data == NULL) {
            npy_errf_(err, errlen, "npy: out of memory");
            out->rank = 0;
            out->count = 0;
            return -1;
        }
        memcpy(out->data, buf + data_off, out->count * sizeof(float));
    }
    return 0;
}

/* Reads a whole file into a malloc'ed buffer. Returns 0 on success. */
static inline int npy_read_file_(const char* path, unsigned char** out_buf, size_t* out_len, char* err, size_t errlen) {
    FILE* f;
    unsigned char* buf = NULL;
    size_t len = 0, cap = 0;
    *out_buf = NULL;
    *out_len = 0;
    f = fopen(path, "rb");
    if (f == NULL) {
        npy_errf_(err, errlen, "npy: cannot open '%s'", path);
        return -1;
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char* nb = (unsigned char*)realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                npy_errf_(err, errlen, "npy: out of memory reading '%s'", path);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        npy_errf_(err, errlen, "npy: error reading '%s'", path);
        return -1;
    }
    fclose(f);
    *out_buf = buf;
    *out_len = len;
    return 0;
}

/* Loads a float32 .npy file. Returns 0 on success, -1 with a message (naming the file) on failure. */
static inline int npy_load(const char* path, npy_array* out, char* err, size_t errlen) {
    unsigned char* buf;
    size_t len;
    int rc;
    char inner[256] = "";
    if (out != NULL) memset(out, 0, sizeof *out);
    if (path == NULL || out == NULL) {
        npy_errf_(err, errlen, "npy: NULL argument");
        return -1;
    }
    if (npy_read_file_(path, &buf, &len, err, errlen) != 0) return -1;
    rc = npy_parse(buf, len, out, inner, sizeof inner);
    free(buf);
    if (rc != 0) npy_errf_(err, errlen, "%s (in '%s')", inner, path);
    return rc;
}

static inline void npy_free(npy_array* a) {
    if (a == NULL) return;
    free(a->data);
    a->data = NULL;
    a->count = 0;
    a->rank = 0;
}

#endif /* DRSN_EXAMPLES_NPY_H */
