/*
 * test_capi.c - tests of the drsn C ABI (include/drsn.h), C11, linked with -ldrsn.
 *
 *   test_capi REPO_ROOT [ZOO_DIR]
 *
 * Fixture models are read from REPO_ROOT/../shared/fixtures (or $DRSN_FIXTURES); the
 * fixture section is skipped with a message if that folder is absent, and fails instead when
 * DRSN_REQUIRE_FIXTURES=1 (Tests/run.sh sets it when the folder exists). Every .onnx file
 * in ZOO_DIR (default $DRSN_ZOO, else REPO_ROOT/Tests/models/zoo; written by
 * Tests/models/export_zoo.py) runs at batch 3, 1 and 7 against its <name>.out.npy
 * (onnxruntime) within 1e-4; an absent zoo folder is reported and skipped, an empty one
 * fails. Everything else
 * uses small ONNX models that this program encodes itself.
 * Prints "N passed, M failed" last and exits 1 if M > 0.
 *
 * Environment: DRSN_TEST_CONCURRENT_RUNS (default 200) runs per thread in the
 * concurrency tests; DRSN_TEST_THREADS (default 8) threads.
 */
#define _XOPEN_SOURCE 700

#include "drsn.h"
#include "npy.h"
#include "tiny_model.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- Harness --------------------------------------------------------------------- */

static int g_passed;
static int g_failed;
static char g_err[8192]; /* copy of drsn_last_error() taken right after the last EXPECT_STATUS */

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

static int check_(int ok, int line, const char* expr, const char* fmt, ...) PRINTF_LIKE(4, 5);

static int check_(int ok, int line, const char* expr, const char* fmt, ...) {
    if (ok) {
        g_passed++;
        return 1;
    }
    g_failed++;
    fprintf(stderr, "FAIL test_capi.c:%d: %s", line, expr);
    if (fmt != NULL && fmt[0] != '\0' && strcmp(fmt, " ") != 0) {
        va_list ap;
        fputs(": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    return 0;
}

/* CHECK(cond, fmt, ...) - fmt is required (may be ""). */
#define CHECK(cond, ...) check_(!!(cond), __LINE__, #cond, __VA_ARGS__)

static int expect_status_(drsn_status got, drsn_status want, const char* expr, int line) {
    /* drsn_last_error() must be read before any other drsn_* call. */
    const char* e = drsn_last_error();
    int ok;
    snprintf(g_err, sizeof g_err, "%s", e != NULL ? e : "(NULL)");
    ok = check_(got == want, line, expr, "returned %s (%d), expected %s; last_error: \"%s\"",
                drsn_status_string(got), (int)got, drsn_status_string(want), g_err);
    if (ok && want != DRSN_OK) {
        check_(e != NULL && e[0] != '\0', line, expr, "failed with %s but drsn_last_error() is empty",
               drsn_status_string(got));
    }
    return ok;
}

/* Evaluates `call`, checks it returned `want` and (for a failure) that a message was set. */
#define EXPECT_STATUS(call, want) expect_status_((call), (want), #call, __LINE__)

/* For calls where two statuses are defensible: checks got is one of them and a message is set. */
static int expect_status2_(drsn_status got, drsn_status a, drsn_status b, const char* expr, int line) {
    const char* e = drsn_last_error();
    int ok;
    snprintf(g_err, sizeof g_err, "%s", e != NULL ? e : "(NULL)");
    ok = check_(got == a || got == b, line, expr, "returned %s, expected %s or %s; last_error: \"%s\"",
                drsn_status_string(got), drsn_status_string(a), drsn_status_string(b), g_err);
    if (ok) check_(e != NULL && e[0] != '\0', line, expr, "failed but drsn_last_error() is empty");
    return ok;
}
#define EXPECT_STATUS2(call, a, b) expect_status2_((call), (a), (b), #call, __LINE__)

/* Stores a known message ("drsn_options_create: ...") as this thread's last error. */
static void plant_error(void) { (void)drsn_options_create(NULL); }

/* Checks that drsn_last_error() is a message from `function` (not the planted one). */
static int last_error_from_(const char* function, int line) {
    const char* e = drsn_last_error();
    return check_(e != NULL && strstr(e, function) != NULL, line, function,
                  "drsn_last_error() is \"%s\", expected a message from %s", e != NULL ? e : "(NULL)", function);
}
#define LAST_ERROR_FROM(function) last_error_from_((function), __LINE__)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int env_int(const char* name, int def) {
    const char* s = getenv(name);
    if (s == NULL || *s == '\0') return def;
    return atoi(s);
}

static int read_file(const char* path, unsigned char** out, size_t* len) {
    char err[256];
    return npy_read_file_(path, out, len, err, sizeof err);
}

static int write_file(const char* path, const void* data, size_t len) {
    FILE* f = fopen(path, "wb");
    size_t w;
    if (f == NULL) return -1;
    w = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || w != len) return -1;
    return 0;
}

static size_t shape_count(const int64_t* dims, size_t rank) {
    size_t n = 1, i;
    for (i = 0; i < rank; i++) n *= (size_t)dims[i];
    return n;
}

static void shape_str(const int64_t* dims, size_t rank, char* buf, size_t len) {
    size_t i, off = 0;
    off += (size_t)snprintf(buf + off, len - off, "[");
    for (i = 0; i < rank && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (off < len) snprintf(buf + off, len - off, "]");
}

static double max_abs_diff(const float* a, const float* b, size_t n) {
    double m = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) return INFINITY; /* NaN */
        if (d > m) m = d;
    }
    return m;
}

/* ---- Concurrency --------------------------------------------------------------------- */

typedef struct worker {
    const drsn_model* model;
    const float* input;
    const int64_t* dims;
    size_t rank;
    const float* reference; /* single-threaded result for this input */
    size_t out_count;
    int runs;
    pthread_barrier_t* barrier;
    /* results */
    int failures;
    int mismatches;
    char first_error[512];
} worker;

static void* worker_main(void* arg) {
    worker* w = (worker*)arg;
    float* out = (float*)malloc((w->out_count ? w->out_count : 1) * sizeof(float));
    int i;
    if (out == NULL) {
        w->failures = w->runs;
        snprintf(w->first_error, sizeof w->first_error, "out of memory");
        return NULL;
    }
    pthread_barrier_wait(w->barrier);
    for (i = 0; i < w->runs; i++) {
        const float* ins[1];
        const int64_t* dims[1];
        size_t ranks[1], caps[1];
        float* outs[1];
        drsn_status st;
        ins[0] = w->input;
        dims[0] = w->dims;
        ranks[0] = w->rank;
        outs[0] = out;
        caps[0] = w->out_count;
        memset(out, 0xA5, w->out_count * sizeof(float));
        st = drsn_model_run(w->model, 1, ins, dims, ranks, 1, outs, caps);
        if (st != DRSN_OK) {
            if (w->failures++ == 0)
                snprintf(w->first_error, sizeof w->first_error, "%s: %s", drsn_status_string(st), drsn_last_error());
            continue;
        }
        if (memcmp(out, w->reference, w->out_count * sizeof(float)) != 0) {
            if (w->mismatches++ == 0 && w->failures == 0)
                snprintf(w->first_error, sizeof w->first_error, "run %d differs from the single-threaded result (max |diff| %g)",
                         i, max_abs_diff(out, w->reference, w->out_count));
        }
    }
    free(out);
    return NULL;
}

/*
 * Runs `model` from `nthreads` threads at once, `runs` times each. Even threads use input
 * A, odd threads input B (different shapes, to mix scratch sizes); each output is compared
 * bit for bit with the given single-threaded reference. For a model loaded with several threads
 * the runs contend for the shared worker pool, and a run that finds it busy runs the step on its
 * own thread: this checks that the results are still bit-identical (drsn.h, "Threads and the
 * worker pool").
 */
static void run_concurrently(const char* label, const drsn_model* model, int nthreads, int runs,
                             const float* in_a, const int64_t* dims_a, size_t rank_a, const float* ref_a, size_t n_a,
                             const float* in_b, const int64_t* dims_b, size_t rank_b, const float* ref_b, size_t n_b) {
    pthread_t* th = (pthread_t*)calloc((size_t)nthreads, sizeof(pthread_t));
    worker* ws = (worker*)calloc((size_t)nthreads, sizeof(worker));
    pthread_barrier_t barrier;
    int t, started = 0, failures = 0, mismatches = 0;
    double t0;
    if (th == NULL || ws == NULL) {
        CHECK(0, "%s: out of memory", label);
        free(th);
        free(ws);
        return;
    }
    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
    for (t = 0; t < nthreads; t++) {
        worker* w = &ws[t];
        int b = (t % 2) == 1;
        w->model = model;
        w->input = b ? in_b : in_a;
        w->dims = b ? dims_b : dims_a;
        w->rank = b ? rank_b : rank_a;
        w->reference = b ? ref_b : ref_a;
        w->out_count = b ? n_b : n_a;
        w->runs = runs;
        w->barrier = &barrier;
    }
    t0 = now_s();
    for (t = 0; t < nthreads; t++) {
        if (pthread_create(&th[t], NULL, worker_main, &ws[t]) != 0) break;
        started++;
    }
    if (!CHECK(started == nthreads, "%s: could only start %d of %d threads", label, started, nthreads)) {
        /* The barrier would never release; give up without joining (process will exit). */
        fprintf(stderr, "cannot continue the concurrency test\n");
        return;
    }
    for (t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    for (t = 0; t < nthreads; t++) {
        failures += ws[t].failures;
        mismatches += ws[t].mismatches;
        if (ws[t].failures || ws[t].mismatches) fprintf(stderr, "  %s thread %d: %s\n", label, t, ws[t].first_error);
    }
    printf("  %s: %d threads x %d runs in %.2f s: %d failed runs, %d results differing from single-threaded\n", label,
           nthreads, runs, now_s() - t0, failures, mismatches);
    CHECK(failures == 0, "%s: %d concurrent runs failed", label, failures);
    CHECK(mismatches == 0, "%s: %d concurrent results differ bit-wise from the single-threaded result", label,
          mismatches);
    pthread_barrier_destroy(&barrier);
    free(th);
    free(ws);
}

/* ---- Versions, statuses, options ---------------------------------------------------- */

static void test_versions(void) {
    char buf[64];
    const char* vs = drsn_version_string();
    printf("[versions] library %s (number %u, ABI %u); header %s (number %d, ABI %d)\n", vs ? vs : "(NULL)",
           (unsigned)drsn_version_number(), (unsigned)drsn_abi_version(), DRSN_VERSION_STRING, DRSN_VERSION_NUMBER,
           DRSN_ABI_VERSION);
    CHECK(DRSN_VERSION_NUMBER == DRSN_VERSION_MAJOR * 10000 + DRSN_VERSION_MINOR * 100 + DRSN_VERSION_PATCH, " ");
    snprintf(buf, sizeof buf, "%d.%d.%d", DRSN_VERSION_MAJOR, DRSN_VERSION_MINOR, DRSN_VERSION_PATCH);
    CHECK(strcmp(buf, DRSN_VERSION_STRING) == 0, "DRSN_VERSION_STRING %s vs macros %s", DRSN_VERSION_STRING, buf);
    CHECK(drsn_version_number() == (uint32_t)DRSN_VERSION_NUMBER, "library %u, header %d",
          (unsigned)drsn_version_number(), DRSN_VERSION_NUMBER);
    vs = drsn_version_string();
    CHECK(vs != NULL && strcmp(vs, DRSN_VERSION_STRING) == 0, "library \"%s\", header \"%s\"", vs ? vs : "(NULL)",
          DRSN_VERSION_STRING);
    CHECK(drsn_abi_version() == (uint32_t)DRSN_ABI_VERSION, "library %u, header %d", (unsigned)drsn_abi_version(),
          DRSN_ABI_VERSION);
    /* static storage: same pointer, same text on a second call */
    CHECK(drsn_version_string() == drsn_version_string(), "version string is not static");
}

static void test_status_strings(void) {
    static const struct {
        drsn_status s;
        const char* name;
    } table[] = {
        {DRSN_OK, "DRSN_OK"},
        {DRSN_ERR_INVALID_ARGUMENT, "DRSN_ERR_INVALID_ARGUMENT"},
        {DRSN_ERR_IO, "DRSN_ERR_IO"},
        {DRSN_ERR_INVALID_MODEL, "DRSN_ERR_INVALID_MODEL"},
        {DRSN_ERR_UNSUPPORTED, "DRSN_ERR_UNSUPPORTED"},
        {DRSN_ERR_SHAPE_MISMATCH, "DRSN_ERR_SHAPE_MISMATCH"},
        {DRSN_ERR_DTYPE_MISMATCH, "DRSN_ERR_DTYPE_MISMATCH"},
        {DRSN_ERR_BUFFER_TOO_SMALL, "DRSN_ERR_BUFFER_TOO_SMALL"},
        {DRSN_ERR_OUT_OF_MEMORY, "DRSN_ERR_OUT_OF_MEMORY"},
        {DRSN_ERR_LIMIT_EXCEEDED, "DRSN_ERR_LIMIT_EXCEEDED"},
        {DRSN_ERR_INTERNAL, "DRSN_ERR_INTERNAL"},
    };
    static const int unknown[] = {10, 11, 42, 99, 101, 255, 1000, 65536};
    size_t i;
    printf("[status strings]\n");
    CHECK(DRSN_OK == 0, "DRSN_OK must be 0");
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char* s = drsn_status_string(table[i].s);
        CHECK(s != NULL && strcmp(s, table[i].name) == 0, "status %d: got \"%s\", expected \"%s\"", (int)table[i].s,
              s ? s : "(NULL)", table[i].name);
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char* s = drsn_status_string((drsn_status)unknown[i]);
        CHECK(s != NULL && strcmp(s, "DRSN_ERR_UNKNOWN") == 0, "status %d: got \"%s\", expected DRSN_ERR_UNKNOWN",
              unknown[i], s ? s : "(NULL)");
    }
    /* static storage: the same pointer on every call */
    for (i = 0; i < sizeof table / sizeof table[0]; i++)
        CHECK(drsn_status_string(table[i].s) == drsn_status_string(table[i].s), "status %d: a new string per call",
              (int)table[i].s);
    CHECK(drsn_status_string((drsn_status)42) == drsn_status_string((drsn_status)43),
          "unknown statuses do not share the static \"DRSN_ERR_UNKNOWN\"");

    /* drsn_status_string (and the other functions that cannot fail) leave drsn_last_error() alone */
    {
        char before[512];
        const char *e0, *e1;
        volatile size_t sink = 0;
        EXPECT_STATUS(drsn_options_set_num_threads(NULL, 1), DRSN_ERR_INVALID_ARGUMENT);
        e0 = drsn_last_error();
        snprintf(before, sizeof before, "%s", e0);
        for (i = 0; i < sizeof table / sizeof table[0]; i++) sink += strlen(drsn_status_string(table[i].s));
        for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
            sink += strlen(drsn_status_string((drsn_status)unknown[i]));
        e1 = drsn_last_error();
        CHECK(e1 == e0 && strcmp(e1, before) == 0,
              "drsn_status_string changed drsn_last_error() from \"%s\" to \"%s\"", before, e1);
        sink += strlen(drsn_version_string()) + drsn_version_number() + drsn_abi_version() + strlen(drsn_isa());
        e1 = drsn_last_error();
        CHECK(strcmp(e1, before) == 0, "version/ISA functions changed drsn_last_error() from \"%s\" to \"%s\"",
              before, e1);
        (void)sink;
    }
}

/* A message longer than the per-thread buffer is cut to its first 4095 bytes. */
static void test_last_error_truncation(void) {
    char path[6001];
    drsn_model* m = NULL;
    size_t n;
    printf("[last_error: long messages]\n");
    memset(path, 'd', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    if (EXPECT_STATUS(drsn_model_load_file(path, NULL, &m), DRSN_ERR_IO)) {
        n = strlen(drsn_last_error());
        CHECK(n == 4095, "a message quoting a 6000-byte path has %zu bytes, expected 4095 (4096-byte buffer)", n);
        CHECK(strstr(drsn_last_error(), "/ddd") != NULL, "the truncated message lost the path's start");
    }
    drsn_model_destroy(m);
}

static void* fresh_thread_last_error(void* arg) {
    const char* e = drsn_last_error();
    snprintf((char*)arg, 256, "%s", e != NULL ? e : "(NULL)");
    return NULL;
}

static void test_last_error_thread_local(void) {
    char seen[256] = "unset";
    pthread_t th;
    printf("[last_error is per thread]\n");
    EXPECT_STATUS(drsn_options_create(NULL), DRSN_ERR_INVALID_ARGUMENT); /* sets an error on this thread */
    if (CHECK(pthread_create(&th, NULL, fresh_thread_last_error, seen) == 0, "pthread_create")) {
        pthread_join(th, NULL);
        CHECK(strcmp(seen, "") == 0, "a new thread sees drsn_last_error() = \"%s\", expected \"\"", seen);
    }
}

static void test_options(void) {
    drsn_options* o = NULL;
    int32_t n = -7;
    static const int32_t bad[] = {-1, -2, 257, 1000, INT32_MAX, INT32_MIN};
    size_t i;
    printf("[options]\n");
    drsn_options_destroy(NULL);
    drsn_model_destroy(NULL);
    CHECK(1, "destroy(NULL) returned");
    if (!EXPECT_STATUS(drsn_options_create(&o), DRSN_OK) || !CHECK(o != NULL, "options_create gave NULL")) return;
    EXPECT_STATUS(drsn_options_get_num_threads(o, &n), DRSN_OK);
    CHECK(n == 0, "default num_threads is %d, expected 0", (int)n);
    EXPECT_STATUS(drsn_options_set_num_threads(o, 1), DRSN_OK);
    EXPECT_STATUS(drsn_options_get_num_threads(o, &n), DRSN_OK);
    CHECK(n == 1, "num_threads read back %d, expected 1", (int)n);
    EXPECT_STATUS(drsn_options_set_num_threads(o, 256), DRSN_OK);
    EXPECT_STATUS(drsn_options_get_num_threads(o, &n), DRSN_OK);
    CHECK(n == 256, "num_threads read back %d, expected 256", (int)n);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_STATUS(drsn_options_set_num_threads(o, bad[i]), DRSN_ERR_INVALID_ARGUMENT);
        EXPECT_STATUS(drsn_options_get_num_threads(o, &n), DRSN_OK);
        CHECK(n == 256, "after rejected set_num_threads(%ld) the value is %d, expected 256 unchanged", (long)bad[i],
              (int)n);
    }
    EXPECT_STATUS(drsn_options_set_num_threads(o, 0), DRSN_OK);
    EXPECT_STATUS(drsn_options_get_num_threads(o, &n), DRSN_OK);
    CHECK(n == 0, "num_threads read back %d, expected 0", (int)n);
    /* NULL arguments */
    EXPECT_STATUS(drsn_options_create(NULL), DRSN_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(drsn_options_set_num_threads(NULL, 1), DRSN_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(drsn_options_get_num_threads(NULL, &n), DRSN_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(drsn_options_get_num_threads(o, NULL), DRSN_ERR_INVALID_ARGUMENT);
    drsn_options_destroy(o);
}

/* ---- Load errors ------------------------------------------------------------------- */

static void test_load_errors(const char* tmpdir) {
    drsn_model* m;
    char path[1024];
    static const unsigned char garbage[] = "this is not an ONNX model \xff\xff\xff\xff\xff\x01\x02\x03 at all";
    pb tiny = build_tiny("Relu", NULL);
    int sentinel;
    printf("[load errors]\n");

    /* missing file: IO error naming the path */
    snprintf(path, sizeof path, "%s/no-such-dir/missing-model.onnx", tmpdir);
    m = (drsn_model*)&sentinel;
    EXPECT_STATUS(drsn_model_load_file(path, NULL, &m), DRSN_ERR_IO);
    CHECK(strstr(g_err, path) != NULL, "message \"%s\" does not contain the path %s", g_err, path);
    CHECK(m == NULL, "*out_model not set to NULL on failure");

    /* a directory is not a readable model file */
    m = (drsn_model*)&sentinel;
    EXPECT_STATUS(drsn_model_load_file(tmpdir, NULL, &m), DRSN_ERR_IO);
    CHECK(m == NULL, "*out_model not set to NULL on failure");

    /* garbage bytes, from memory and from a file */
    m = (drsn_model*)&sentinel;
    EXPECT_STATUS(drsn_model_load_memory(garbage, sizeof garbage - 1, NULL, &m), DRSN_ERR_INVALID_MODEL);
    CHECK(m == NULL, "*out_model not set to NULL on failure");
    snprintf(path, sizeof path, "%s/garbage.onnx", tmpdir);
    if (CHECK(write_file(path, garbage, sizeof garbage - 1) == 0, "cannot write %s", path)) {
        m = (drsn_model*)&sentinel;
        EXPECT_STATUS(drsn_model_load_file(path, NULL, &m), DRSN_ERR_INVALID_MODEL);
        CHECK(m == NULL, "*out_model not set to NULL on failure");
    }
    /* empty input: well-formed protobuf, but no graph */
    m = (drsn_model*)&sentinel;
    EXPECT_STATUS(drsn_model_load_memory(garbage, 0, NULL, &m), DRSN_ERR_INVALID_MODEL);
    CHECK(m == NULL, "*out_model not set to NULL on failure");
    snprintf(path, sizeof path, "%s/empty.onnx", tmpdir);
    if (CHECK(write_file(path, "", 0) == 0, "cannot write %s", path)) {
        m = NULL;
        EXPECT_STATUS(drsn_model_load_file(path, NULL, &m), DRSN_ERR_INVALID_MODEL);
        drsn_model_destroy(m);
    }
    /* every truncation of a valid model (except the full length) must fail cleanly */
    {
        size_t cut, bad = 0, wrong_status = 0;
        for (cut = 1; cut < tiny.n; cut++) {
            drsn_status st;
            m = NULL;
            st = drsn_model_load_memory(tiny.p, cut, NULL, &m);
            if (st == DRSN_OK) {
                bad++;
                drsn_model_destroy(m);
            } else if (st != DRSN_ERR_INVALID_MODEL) {
                if (wrong_status++ == 0)
                    fprintf(stderr, "  truncation at %zu/%zu gave %s: %s\n", cut, tiny.n, drsn_status_string(st),
                            drsn_last_error());
            }
        }
        CHECK(bad == 0, "%zu truncated versions of a %zu-byte model loaded successfully", bad, tiny.n);
        CHECK(wrong_status == 0, "%zu truncations failed with a status other than DRSN_ERR_INVALID_MODEL", wrong_status);
    }
    /* a real ONNX operator that a DRSN runtime has no reason to implement */
    {
        pb unk = build_tiny("Hardmax", NULL);
        m = NULL;
        EXPECT_STATUS(drsn_model_load_memory(unk.p, unk.n, NULL, &m), DRSN_ERR_UNSUPPORTED);
        CHECK(strstr(g_err, "Hardmax") != NULL, "message \"%s\" does not name the operator", g_err);
        drsn_model_destroy(m);
        free(unk.p);
    }
    /* an operator that does not exist in the default domain */
    {
        pb unk = build_tiny("NotARealOp", NULL);
        m = NULL;
        EXPECT_STATUS2(drsn_model_load_memory(unk.p, unk.n, NULL, &m), DRSN_ERR_UNSUPPORTED, DRSN_ERR_INVALID_MODEL);
        CHECK(strstr(g_err, "NotARealOp") != NULL, "message \"%s\" does not name the operator", g_err);
        drsn_model_destroy(m);
        free(unk.p);
    }
    free(tiny.p);
}

/* ---- The tiny model: introspection, run, NULL arguments ---------------------------- */

static void check_tiny_model(const char* label, const drsn_model* m) {
    int64_t dims[4] = {0, 0, 0, 0};
    size_t rank = 99;
    drsn_dtype dt = DRSN_DTYPE_UNDEFINED;
    const char* name;
    float x[12] = {-1.f, 0.5f, 2.f, -3.f, 4.f, -0.5f, 1.25f, 7.f, -8.f, -9.f, 10.f, 0.125f};
    float y[12], want[12];
    const float* ins[1] = {x};
    const int64_t xdims[2] = {3, 4};
    const int64_t* indims[1] = {xdims};
    size_t inranks[1] = {2};
    float* outs[1] = {y};
    size_t caps[1] = {12};

    CHECK(drsn_model_input_count(m) == 1, "%s: input count %zu", label, drsn_model_input_count(m));
    CHECK(drsn_model_output_count(m) == 1, "%s: output count %zu", label, drsn_model_output_count(m));
    name = drsn_model_input_name(m, 0);
    CHECK(name != NULL && strcmp(name, "x") == 0, "%s: input name %s", label, name ? name : "(NULL)");
    name = drsn_model_output_name(m, 0);
    CHECK(name != NULL && strcmp(name, "y") == 0, "%s: output name %s", label, name ? name : "(NULL)");
    CHECK(drsn_model_input_name(m, 1) == NULL, "%s: input name past the end is not NULL", label);
    CHECK(drsn_model_output_name(m, 1) == NULL, "%s: output name past the end is not NULL", label);
    EXPECT_STATUS(drsn_model_input_dtype(m, 0, &dt), DRSN_OK);
    CHECK(dt == DRSN_DTYPE_FLOAT32, "%s: input dtype %d", label, (int)dt);
    dt = DRSN_DTYPE_UNDEFINED;
    EXPECT_STATUS(drsn_model_output_dtype(m, 0, &dt), DRSN_OK);
    CHECK(dt == DRSN_DTYPE_FLOAT32, "%s: output dtype %d", label, (int)dt);
    EXPECT_STATUS(drsn_model_input_shape(m, 0, NULL, 0, &rank), DRSN_ERR_BUFFER_TOO_SMALL);
    CHECK(rank == 2, "%s: capacity-0 query gave rank %zu", label, rank);
    rank = 99;
    EXPECT_STATUS(drsn_model_input_shape(m, 0, dims, 2, &rank), DRSN_OK);
    CHECK(rank == 2 && dims[0] == -1 && dims[1] == 4, "%s: input shape rank %zu [%lld, %lld], expected [-1, 4]", label,
          rank, (long long)dims[0], (long long)dims[1]);
    rank = 99;
    dims[0] = dims[1] = 0;
    EXPECT_STATUS(drsn_model_output_shape(m, 0, dims, 4, &rank), DRSN_OK);
    CHECK(rank == 2 && dims[0] == -1 && dims[1] == 4, "%s: output shape rank %zu [%lld, %lld], expected [-1, 4]",
          label, rank, (long long)dims[0], (long long)dims[1]);
    rank = 99;
    EXPECT_STATUS(drsn_model_output_shape_for(m, 1, indims, inranks, 0, dims, 4, &rank), DRSN_OK);
    CHECK(rank == 2 && dims[0] == 3 && dims[1] == 4, "%s: output_shape_for [3,4] gave rank %zu [%lld, %lld]", label,
          rank, (long long)dims[0], (long long)dims[1]);

    memset(y, 0xA5, sizeof y);
    tiny_expected(x, 3, want);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 1, outs, caps), DRSN_OK);
    CHECK(memcmp(y, want, sizeof y) == 0, "%s: run result differs from relu(x)*w (max |diff| %g)", label,
          max_abs_diff(y, want, 12));
}

static void test_null_arguments(const drsn_model* m) {
    int64_t dims[4];
    size_t rank = 0;
    drsn_dtype dt;
    drsn_model* out = NULL;
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float y[8];
    const float* ins[1] = {x};
    const float* null_ins[1] = {NULL};
    const int64_t xdims[2] = {2, 4};
    const int64_t* indims[1] = {xdims};
    const int64_t* null_indims[1] = {NULL};
    size_t inranks[1] = {2};
    float* outs[1] = {y};
    float* null_outs[1] = {NULL};
    size_t caps[1] = {8};
    const char* path = "/nonexistent/model.onnx";
    static const unsigned char bytes[4] = {1, 2, 3, 4};
    const int IA = DRSN_ERR_INVALID_ARGUMENT;

    printf("[NULL and out-of-range arguments]\n");
    /* loading */
    EXPECT_STATUS(drsn_model_load_file(NULL, NULL, &out), IA);
    EXPECT_STATUS(drsn_model_load_file(path, NULL, NULL), IA);
    EXPECT_STATUS(drsn_model_load_memory(NULL, 4, NULL, &out), IA);
    EXPECT_STATUS(drsn_model_load_memory(bytes, 4, NULL, NULL), IA);
    CHECK(out == NULL, "out_model set by a failed load");

    /* counts, names and the summary: no status; 0 / NULL, and (like every failure) a message
       naming the function in drsn_last_error(). plant_error() first stores another message. */
    plant_error();
    CHECK(drsn_model_input_count(NULL) == 0, " ");
    LAST_ERROR_FROM("drsn_model_input_count");
    plant_error();
    CHECK(drsn_model_output_count(NULL) == 0, " ");
    LAST_ERROR_FROM("drsn_model_output_count");
    plant_error();
    CHECK(drsn_model_input_name(NULL, 0) == NULL, " ");
    LAST_ERROR_FROM("drsn_model_input_name");
    plant_error();
    CHECK(drsn_model_output_name(NULL, 0) == NULL, " ");
    LAST_ERROR_FROM("drsn_model_output_name");
    plant_error();
    CHECK(drsn_model_input_name(m, (size_t)-1) == NULL, " ");
    LAST_ERROR_FROM("drsn_model_input_name");
    plant_error();
    CHECK(drsn_model_input_name(m, 1) == NULL, " ");
    LAST_ERROR_FROM("drsn_model_input_name");
    plant_error();
    CHECK(drsn_model_output_name(m, (size_t)-1) == NULL, " ");
    LAST_ERROR_FROM("drsn_model_output_name");
    plant_error();
    CHECK(drsn_model_output_name(m, 1) == NULL, " ");
    LAST_ERROR_FROM("drsn_model_output_name");
    plant_error();
    CHECK(drsn_model_summary_json(NULL) == NULL, " ");
    LAST_ERROR_FROM("drsn_model_summary_json");
    /* the valid calls still answer */
    CHECK(drsn_model_input_count(m) == 1 && drsn_model_input_name(m, 0) != NULL && drsn_model_summary_json(m) != NULL,
          "a valid model stopped answering after the NULL calls");

    /* dtypes: DRSN_ERR_INVALID_ARGUMENT naming the function; *out_dtype left unchanged */
    dt = DRSN_DTYPE_FLOAT64;
    EXPECT_STATUS(drsn_model_input_dtype(NULL, 0, &dt), IA);
    CHECK(strstr(g_err, "drsn_model_input_dtype") != NULL, "message \"%s\" does not name the function", g_err);
    EXPECT_STATUS(drsn_model_input_dtype(m, 0, NULL), IA);
    EXPECT_STATUS(drsn_model_input_dtype(m, 1, &dt), IA);
    CHECK(dt == DRSN_DTYPE_FLOAT64, "a failed drsn_model_input_dtype wrote *out_dtype = %d", (int)dt);
    EXPECT_STATUS(drsn_model_output_dtype(NULL, 0, &dt), IA);
    CHECK(strstr(g_err, "drsn_model_output_dtype") != NULL, "message \"%s\" does not name the function", g_err);
    EXPECT_STATUS(drsn_model_output_dtype(m, 0, NULL), IA);
    EXPECT_STATUS(drsn_model_output_dtype(m, 1, &dt), IA);
    CHECK(dt == DRSN_DTYPE_FLOAT64, "a failed drsn_model_output_dtype wrote *out_dtype = %d", (int)dt);

    /* declared shapes */
    EXPECT_STATUS(drsn_model_input_shape(NULL, 0, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_input_shape(m, 0, NULL, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_input_shape(m, 0, dims, 4, NULL), IA);
    EXPECT_STATUS(drsn_model_input_shape(m, 1, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape(NULL, 0, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape(m, 0, NULL, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape(m, 0, dims, 4, NULL), IA);
    EXPECT_STATUS(drsn_model_output_shape(m, 1, dims, 4, &rank), IA);

    /* output_shape_for */
    EXPECT_STATUS(drsn_model_output_shape_for(NULL, 1, indims, inranks, 0, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape_for(m, 1, NULL, inranks, 0, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape_for(m, 1, indims, NULL, 0, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape_for(m, 1, null_indims, inranks, 0, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape_for(m, 1, indims, inranks, 0, NULL, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape_for(m, 1, indims, inranks, 0, dims, 4, NULL), IA);
    EXPECT_STATUS(drsn_model_output_shape_for(m, 1, indims, inranks, 1, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape_for(m, 0, indims, inranks, 0, dims, 4, &rank), IA);
    EXPECT_STATUS(drsn_model_output_shape_for(m, 2, indims, inranks, 0, dims, 4, &rank), IA);

    /* run */
    EXPECT_STATUS(drsn_model_run(NULL, 1, ins, indims, inranks, 1, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, NULL, indims, inranks, 1, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, null_ins, indims, inranks, 1, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, NULL, inranks, 1, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, null_indims, inranks, 1, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, NULL, 1, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 1, NULL, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 1, null_outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 1, outs, NULL), IA);
    EXPECT_STATUS(drsn_model_run(m, 0, ins, indims, inranks, 1, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 2, ins, indims, inranks, 1, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 0, outs, caps), IA);
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 2, outs, caps), IA);
    /* and the model still works afterwards */
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 1, outs, caps), DRSN_OK);
}

static void test_tiny(const char* tmpdir) {
    pb tiny = build_tiny("Relu", NULL);
    drsn_model *mf = NULL, *mm = NULL;
    drsn_options* o = NULL;
    char path[1024];
    unsigned char* copy;

    printf("[tiny model: %zu bytes, encoded by this test]\n", tiny.n);
    /* from memory; the buffer is scribbled over and freed right after loading */
    copy = (unsigned char*)malloc(tiny.n);
    if (copy == NULL) return;
    memcpy(copy, tiny.p, tiny.n);
    EXPECT_STATUS(drsn_options_create(&o), DRSN_OK);
    EXPECT_STATUS(drsn_options_set_num_threads(o, 1), DRSN_OK);
    EXPECT_STATUS(drsn_model_load_memory(copy, tiny.n, o, &mm), DRSN_OK);
    drsn_options_destroy(o); /* only read during the call */
    memset(copy, 0xEE, tiny.n);
    free(copy);
    /* from a file, NULL options */
    snprintf(path, sizeof path, "%s/tiny.onnx", tmpdir);
    if (CHECK(write_file(path, tiny.p, tiny.n) == 0, "cannot write %s", path))
        EXPECT_STATUS(drsn_model_load_file(path, NULL, &mf), DRSN_OK);

    if (mm != NULL) check_tiny_model("tiny (memory)", mm);
    if (mf != NULL) check_tiny_model("tiny (file)", mf);
    if (mf != NULL) {
        /* shape errors on the tiny model */
        float x[16] = {0};
        float y[16];
        const float* ins[1] = {x};
        int64_t d3[3] = {2, 2, 2};
        int64_t d2[2] = {2, 5};
        int64_t neg[2] = {-1, 4};
        const int64_t* indims[1];
        size_t inranks[1];
        float* outs[1] = {y};
        size_t caps[1] = {16};
        int64_t od[4];
        size_t orank;
        indims[0] = d3;
        inranks[0] = 3;
        EXPECT_STATUS(drsn_model_run(mf, 1, ins, indims, inranks, 1, outs, caps), DRSN_ERR_SHAPE_MISMATCH);
        EXPECT_STATUS(drsn_model_output_shape_for(mf, 1, indims, inranks, 0, od, 4, &orank), DRSN_ERR_SHAPE_MISMATCH);
        indims[0] = d2;
        inranks[0] = 2;
        EXPECT_STATUS(drsn_model_run(mf, 1, ins, indims, inranks, 1, outs, caps), DRSN_ERR_SHAPE_MISMATCH);
        EXPECT_STATUS(drsn_model_output_shape_for(mf, 1, indims, inranks, 0, od, 4, &orank), DRSN_ERR_SHAPE_MISMATCH);
        indims[0] = neg;
        EXPECT_STATUS2(drsn_model_run(mf, 1, ins, indims, inranks, 1, outs, caps), DRSN_ERR_INVALID_ARGUMENT,
                       DRSN_ERR_SHAPE_MISMATCH);
        EXPECT_STATUS2(drsn_model_output_shape_for(mf, 1, indims, inranks, 0, od, 4, &orank),
                       DRSN_ERR_INVALID_ARGUMENT, DRSN_ERR_SHAPE_MISMATCH);

        test_null_arguments(mf);

        /* concurrency on the tiny model */
        {
            float xa[4 * 4], xb[4 * 1], ya[16], yb[4];
            const int64_t da[2] = {4, 4}, db[2] = {1, 4};
            int i;
            for (i = 0; i < 16; i++) xa[i] = (float)(i - 7) * 0.5f;
            for (i = 0; i < 4; i++) xb[i] = (float)(3 - i);
            tiny_expected(xa, 4, ya);
            tiny_expected(xb, 1, yb);
            run_concurrently("tiny", mf, env_int("DRSN_TEST_THREADS", 8), env_int("DRSN_TEST_CONCURRENT_RUNS", 200), xa,
                             da, 2, ya, 16, xb, db, 2, yb, 4);
        }
    }
    drsn_model_destroy(mm);
    drsn_model_destroy(mf);
    free(tiny.p);
}

/* ---- Two inputs, two outputs, IEEE specials, batch 0 ----------------------------------- */

static void test_two_inputs_two_outputs(void) {
    pb b = build_relu_mul();
    drsn_model* m = NULL;
    drsn_options* o = NULL;
    int64_t dims[4];
    size_t rank = 0;
    const char* n;
    float x[12] = {-1.f, 0.5f, 2.f, -3.f, 4.f, -0.5f, 1.25f, 7.f, -8.f, -9.f, 10.f, 0.125f};
    float w[4] = {0.5f, -1.f, 2.f, 0.25f};
    float w5[5] = {1, 1, 1, 1, 1};
    float y[12], r[12], want_y[12], want_r[12];
    const int64_t xd[2] = {3, 4}, wd[1] = {4}, wd5[1] = {5};
    const int64_t* indims[2] = {xd, wd};
    size_t inranks[2] = {2, 1};
    const float* ins[2] = {x, w};
    float* outs[2] = {y, r};
    size_t caps[2] = {12, 12};
    size_t i;

    printf("[two inputs, two outputs]\n");
    EXPECT_STATUS(drsn_options_create(&o), DRSN_OK);
    EXPECT_STATUS(drsn_options_set_num_threads(o, 256), DRSN_OK);
    EXPECT_STATUS(drsn_model_load_memory(b.p, b.n, o, &m), DRSN_OK);
    drsn_options_destroy(o);
    free(b.p);
    if (m == NULL) return;
    CHECK(drsn_model_input_count(m) == 2 && drsn_model_output_count(m) == 2, "counts %zu, %zu",
          drsn_model_input_count(m), drsn_model_output_count(m));
    n = drsn_model_input_name(m, 1);
    CHECK(n != NULL && strcmp(n, "w") == 0, "input 1 is %s", n ? n : "(NULL)");
    n = drsn_model_output_name(m, 1);
    CHECK(n != NULL && strcmp(n, "r") == 0, "output 1 is %s", n ? n : "(NULL)");
    if (EXPECT_STATUS(drsn_model_input_shape(m, 1, dims, 4, &rank), DRSN_OK))
        CHECK(rank == 1 && dims[0] == 4, "input w: rank %zu", rank);
    rank = 0;
    if (EXPECT_STATUS(drsn_model_output_shape_for(m, 2, indims, inranks, 1, dims, 4, &rank), DRSN_OK))
        CHECK(rank == 2 && dims[0] == 3 && dims[1] == 4, "output r for x [3,4]: rank %zu", rank);

    for (i = 0; i < 12; i++) {
        want_r[i] = x[i] > 0.f ? x[i] : 0.f;
        want_y[i] = want_r[i] * w[i % 4];
    }
    memset(y, 0xA5, sizeof y);
    memset(r, 0xA5, sizeof r);
    if (EXPECT_STATUS(drsn_model_run(m, 2, ins, indims, inranks, 2, outs, caps), DRSN_OK)) {
        CHECK(memcmp(y, want_y, sizeof y) == 0, "output y differs (max |diff| %g)", max_abs_diff(y, want_y, 12));
        CHECK(memcmp(r, want_r, sizeof r) == 0, "output r differs (max |diff| %g)", max_abs_diff(r, want_r, 12));
    }
    caps[1] = 11;
    EXPECT_STATUS(drsn_model_run(m, 2, ins, indims, inranks, 2, outs, caps), DRSN_ERR_BUFFER_TOO_SMALL);
    caps[1] = 12;
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 2, outs, caps), DRSN_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(drsn_model_run(m, 2, ins, indims, inranks, 1, outs, caps), DRSN_ERR_INVALID_ARGUMENT);
    indims[1] = wd5;
    ins[1] = w5;
    if (EXPECT_STATUS(drsn_model_run(m, 2, ins, indims, inranks, 2, outs, caps), DRSN_ERR_SHAPE_MISMATCH))
        CHECK(strstr(g_err, "'w'") != NULL || strstr(g_err, "\"w\"") != NULL || strstr(g_err, " w ") != NULL,
              "message \"%s\" does not name input w", g_err);
    indims[1] = wd;
    ins[1] = w;

    /* NaN and Inf inputs are computed, not rejected */
    x[0] = INFINITY;
    x[1] = -INFINITY;
    x[2] = NAN;
    if (EXPECT_STATUS(drsn_model_run(m, 2, ins, indims, inranks, 2, outs, caps), DRSN_OK)) {
        CHECK(y[0] == INFINITY && r[0] == INFINITY, "relu(+inf)*0.5 gave %g, relu gave %g", (double)y[0], (double)r[0]);
        CHECK(y[1] == 0.f && r[1] == 0.f, "relu(-inf)*-1 gave %g, relu gave %g", (double)y[1], (double)r[1]);
        CHECK(memcmp(y + 3, want_y + 3, 9 * sizeof(float)) == 0, "finite lanes changed next to NaN/Inf");
        printf("  relu(NaN) -> %g, relu(NaN)*2 -> %g\n", (double)r[2], (double)y[2]);
    }

    /* batch 0 (and any dimension of 0): refused at the boundary, SHAPE_MISMATCH, with a
     * message saying that zero-size tensors are not supported */
    {
        const int64_t x0[2] = {0, 4}, x40[2] = {4, 0};
        const int64_t* zero_shapes[2] = {x0, x40};
        size_t z;
        for (z = 0; z < 2; z++) {
            indims[0] = zero_shapes[z];
            rank = 0;
            EXPECT_STATUS(drsn_model_output_shape_for(m, 2, indims, inranks, 0, dims, 4, &rank),
                          DRSN_ERR_SHAPE_MISMATCH);
            CHECK(strstr(g_err, "zero-size tensors") != NULL && strstr(g_err, "'x'") != NULL,
                  "output_shape_for with a 0 dimension: message \"%s\"", g_err);
            caps[0] = caps[1] = 0;
            EXPECT_STATUS(drsn_model_run(m, 2, ins, indims, inranks, 2, outs, caps), DRSN_ERR_SHAPE_MISMATCH);
            CHECK(strstr(g_err, "zero-size tensors are not supported") != NULL && strstr(g_err, "'x'") != NULL,
                  "run with a 0 dimension: message \"%s\"", g_err);
        }
        printf("  run with x [0,4] -> %s\n", g_err);
    }
    drsn_model_destroy(m);
}

/* ---- Threads, plan cache, buffer sizes (the tiny model) ------------------------------ */

/* The tiny model loaded with num_threads = n; the "threads" of its summary into *resolved. */
static drsn_model* load_tiny_threads(const pb* tiny, int32_t n, long* resolved) {
    drsn_options* o = NULL;
    drsn_model* m = NULL;
    const char *json, *t;
    *resolved = -1;
    if (!EXPECT_STATUS(drsn_options_create(&o), DRSN_OK)) return NULL;
    EXPECT_STATUS(drsn_options_set_num_threads(o, n), DRSN_OK);
    EXPECT_STATUS(drsn_model_load_memory(tiny->p, tiny->n, o, &m), DRSN_OK);
    drsn_options_destroy(o);
    if (m == NULL) return NULL;
    json = drsn_model_summary_json(m);
    t = json != NULL ? strstr(json, "\"threads\": ") : NULL;
    if (CHECK(t != NULL, "summary has no \"threads\" field: %s", json != NULL ? json : "(NULL)"))
        *resolved = strtol(t + strlen("\"threads\": "), NULL, 10);
    return m;
}

static void test_threads_option(void) {
    pb tiny = build_tiny("Relu", NULL);
    long all = -1, over = -1, one = -1, two = -1, online = sysconf(_SC_NPROCESSORS_ONLN);
    drsn_model* m;
    int32_t n = -1;
    drsn_options* o = NULL;
    printf("[num_threads: resolved at load, capped at the available CPUs]\n");
    drsn_model_destroy(load_tiny_threads(&tiny, 0, &all));
    drsn_model_destroy(load_tiny_threads(&tiny, 256, &over));
    drsn_model_destroy(load_tiny_threads(&tiny, 1, &one));
    drsn_model_destroy(load_tiny_threads(&tiny, 2, &two));
    printf("  threads: num_threads 0 -> %ld, 256 -> %ld, 1 -> %ld, 2 -> %ld (%ld CPUs online)\n", all, over, one, two,
           online);
    CHECK(all >= 1 && (online <= 0 || all <= online), "num_threads 0 resolved to %ld threads (%ld CPUs online)", all,
          online);
    CHECK(over == all, "num_threads 256 resolved to %ld, num_threads 0 to %ld: 256 is not capped at the CPU count",
          over, all);
    CHECK(one == 1, "num_threads 1 resolved to %ld", one);
    CHECK(two == (all < 2 ? all : 2), "num_threads 2 resolved to %ld with %ld CPUs", two, all);
    /* the option itself keeps the value as set */
    if (EXPECT_STATUS(drsn_options_create(&o), DRSN_OK)) {
        EXPECT_STATUS(drsn_options_set_num_threads(o, 256), DRSN_OK);
        m = NULL;
        EXPECT_STATUS(drsn_model_load_memory(tiny.p, tiny.n, o, &m), DRSN_OK);
        EXPECT_STATUS(drsn_options_get_num_threads(o, &n), DRSN_OK);
        CHECK(n == 256, "num_threads read back %d after a load, expected 256 as set", (int)n);
        drsn_model_destroy(m);
        drsn_options_destroy(o);
    }
    free(tiny.p);
}

/* Threads of this process (Linux: entries of /proc/self/task); -1 if unknown. */
static int count_process_threads(void) {
    DIR* d = opendir("/proc/self/task");
    struct dirent* e;
    int n = 0;
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Runs the tiny model once at batch `batch` (big enough for the plan to split its steps). */
static int run_tiny_batch(const drsn_model* m, size_t batch, float* x, float* y) {
    const int64_t dims[2] = {(int64_t)batch, 4};
    const int64_t* indims[1] = {dims};
    size_t ranks[1] = {2}, caps[1] = {batch * 4};
    const float* ins[1] = {x};
    float* outs[1] = {y};
    return EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, ranks, 1, outs, caps), DRSN_OK);
}

/*
 * The worker pool's life (drsn.h, "Threads and the worker pool"); must run before anything else
 * in this process runs a model with more than one thread. Loading, shape queries and runs with
 * num_threads 1 start no thread; the first run that splits a step starts (available CPUs - 1)
 * workers, once; destroying every model stops none of them.
 */
static void test_worker_pool_lifetime(void) {
    enum { kBatch = 16384 };
    pb tiny = build_tiny("Relu", NULL);
    drsn_model *one = NULL, *all = NULL;
    long cpus = -1, one_threads = -1;
    int t0, t;
    size_t units = 0;
    float* x = (float*)calloc(kBatch * 4, sizeof(float));
    float* y = (float*)malloc(kBatch * 4 * sizeof(float));
    const int64_t dims[2] = {kBatch, 4};
    const int64_t* indims[1] = {dims};
    size_t ranks[1] = {2}, rank = 0;
    int64_t od[4];
    printf("[worker pool: start and lifetime]\n");
    t0 = count_process_threads();
    if (t0 < 0 || x == NULL || y == NULL) {
        printf("  SKIPPED: %s\n", t0 < 0 ? "/proc/self/task is not readable" : "out of memory");
        goto done;
    }
    one = load_tiny_threads(&tiny, 1, &one_threads);
    all = load_tiny_threads(&tiny, 0, &cpus);
    if (one == NULL || all == NULL) goto done;
    EXPECT_STATUS(drsn_model_output_shape_for(all, 1, indims, ranks, 0, od, 4, &rank), DRSN_OK);
    EXPECT_STATUS(drsn_model_shrinkage_units(all, 1, indims, ranks, &units, NULL, NULL, 0), DRSN_OK);
    t = count_process_threads();
    CHECK(t == t0, "loading and shape queries started %d thread(s)", t - t0);
    run_tiny_batch(one, kBatch, x, y);
    run_tiny_batch(one, kBatch, x, y);
    t = count_process_threads();
    CHECK(t == t0, "runs with num_threads 1 started %d thread(s)", t - t0);
    run_tiny_batch(all, kBatch, x, y);
    t = count_process_threads();
    printf("  %d thread(s) before, %d after the first run with %ld threads\n", t0, t, cpus);
    CHECK(t - t0 == (cpus > 1 ? (cpus - 1 < 255 ? (int)cpus - 1 : 255) : 0),
          "the first multi-threaded run started %d worker(s), expected %ld (available CPUs - 1)", t - t0,
          cpus > 1 ? cpus - 1 : 0);
    t0 = t;
    run_tiny_batch(all, kBatch, x, y);
    run_tiny_batch(one, kBatch, x, y);
    t = count_process_threads();
    CHECK(t == t0, "later runs changed the thread count by %d (the pool is created once)", t - t0);
    drsn_model_destroy(one);
    drsn_model_destroy(all);
    one = all = NULL;
    t = count_process_threads();
    CHECK(t == t0, "destroying every model changed the thread count by %d (workers never exit)", t - t0);
done:
    drsn_model_destroy(one);
    drsn_model_destroy(all);
    free(x);
    free(y);
    free(tiny.p);
}

/* More distinct input shapes than the plan cache holds (16 per model): evicted plans are rebuilt
 * transparently, in any order, and every result stays exact. */
static void test_plan_cache(void) {
    enum { kShapes = 40, kMaxBatch = 40 };
    pb tiny = build_tiny("Relu", NULL);
    drsn_model* m = NULL;
    float x[kMaxBatch * 4], y[kMaxBatch * 4], want[kMaxBatch * 4];
    int pass, b, bad = 0, failed = 0;
    size_t i;
    printf("[plan cache: %d shapes, three passes, on a 16-plan cache]\n", kShapes);
    for (i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)((int)(i * 7 % 23) - 11) * 0.25f;
    EXPECT_STATUS(drsn_model_load_memory(tiny.p, tiny.n, NULL, &m), DRSN_OK);
    free(tiny.p);
    if (m == NULL) return;
    for (pass = 0; pass < 3; pass++) {
        for (b = 1; b <= kShapes; b++) {
            /* passes 0 and 1 ascending, pass 2 descending (the LRU plans first) */
            int batch = pass == 2 ? kShapes + 1 - b : b;
            const int64_t dims[2] = {batch, 4};
            const int64_t* indims[1] = {dims};
            size_t ranks[1] = {2}, caps[1] = {(size_t)batch * 4};
            const float* ins[1] = {x};
            float* outs[1] = {y};
            memset(y, 0xA5, sizeof y);
            if (drsn_model_run(m, 1, ins, indims, ranks, 1, outs, caps) != DRSN_OK) {
                if (failed++ == 0) fprintf(stderr, "  batch %d: %s\n", batch, drsn_last_error());
                continue;
            }
            tiny_expected(x, (size_t)batch, want);
            if (memcmp(y, want, (size_t)batch * 4 * sizeof(float)) != 0) bad++;
        }
    }
    CHECK(failed == 0, "%d of %d runs failed", failed, 3 * kShapes);
    CHECK(bad == 0, "%d of %d runs differ from relu(x)*w", bad, 3 * kShapes);
    drsn_model_destroy(m);
}

/* Input buffers: exactly num_elements(dims) floats are used (a longer buffer's tail does not
 * matter) and inputs are only read; outputs: a larger buffer's tail is left untouched. */
static void test_run_buffer_sizes(void) {
    pb tiny = build_tiny("Relu", NULL);
    drsn_model* m = NULL;
    float x[12 + 4], x_copy[12 + 4], y[12 + 5], want[12];
    unsigned char tail[5 * sizeof(float)];
    const int64_t dims[2] = {3, 4};
    const int64_t* indims[1] = {dims};
    size_t ranks[1] = {2}, caps[1] = {12 + 5};
    const float* ins[1] = {x};
    float* outs[1] = {y};
    size_t i;
    printf("[run: input and output buffer sizes]\n");
    EXPECT_STATUS(drsn_model_load_memory(tiny.p, tiny.n, NULL, &m), DRSN_OK);
    free(tiny.p);
    if (m == NULL) return;
    for (i = 0; i < 12; i++) x[i] = (float)((int)i - 5) * 0.75f;
    for (i = 12; i < 16; i++) x[i] = NAN; /* past num_elements: must not reach the result */
    memcpy(x_copy, x, sizeof x);
    tiny_expected(x, 3, want);
    memset(y, 0xA5, sizeof y);
    memset(tail, 0xA5, sizeof tail);
    if (EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, ranks, 1, outs, caps), DRSN_OK)) {
        CHECK(memcmp(y, want, sizeof want) == 0, "the floats after num_elements(dims) changed the result (max |diff| %g)",
              max_abs_diff(y, want, 12));
        CHECK(memcmp(y + 12, tail, sizeof tail) == 0, "the run wrote past num_elements(output) into a larger buffer");
        CHECK(memcmp(x, x_copy, sizeof x) == 0, "the run modified its input buffer");
    }
    /* a capacity of one float less than the output fails */
    caps[0] = 11;
    EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, ranks, 1, outs, caps), DRSN_ERR_BUFFER_TOO_SMALL);
    drsn_model_destroy(m);
}

/* ---- External tensor data ----------------------------------------------------------- */

static void test_external_data(const char* tmpdir) {
    char sub[512], path[1024], wpath[1024];
    pb m_ok = build_tiny("Relu", "tiny_w.bin");
    pb m_up = build_tiny("Relu", "../tiny_w.bin");
    pb m_missing = build_tiny("Relu", "missing_w.bin");
    pb m_abs;
    drsn_model* m = NULL;
    printf("[external tensor data]\n");

    snprintf(wpath, sizeof wpath, "%s/tiny_w.bin", tmpdir);
    m_abs = build_tiny("Relu", wpath);
    snprintf(sub, sizeof sub, "%s/sub", tmpdir);
    if (!CHECK(mkdir(sub, 0700) == 0 || errno == EEXIST, "mkdir %s", sub)) goto done;
    if (!CHECK(write_file(wpath, k_tiny_w, sizeof k_tiny_w) == 0, "write %s", wpath)) goto done;

    /* next to the model: fine */
    snprintf(path, sizeof path, "%s/tiny_ext.onnx", tmpdir);
    if (CHECK(write_file(path, m_ok.p, m_ok.n) == 0, "write %s", path)) {
        m = NULL;
        if (EXPECT_STATUS(drsn_model_load_file(path, NULL, &m), DRSN_OK)) check_tiny_model("tiny (external data)", m);
        drsn_model_destroy(m);
    }
    /* from memory: external data is not allowed */
    m = NULL;
    EXPECT_STATUS(drsn_model_load_memory(m_ok.p, m_ok.n, NULL, &m), DRSN_ERR_INVALID_MODEL);
    drsn_model_destroy(m);
    /* missing external file: IO */
    snprintf(path, sizeof path, "%s/tiny_missing.onnx", tmpdir);
    if (CHECK(write_file(path, m_missing.p, m_missing.n) == 0, "write %s", path)) {
        m = NULL;
        EXPECT_STATUS(drsn_model_load_file(path, NULL, &m), DRSN_ERR_IO);
        CHECK(strstr(g_err, "missing_w.bin") != NULL, "message \"%s\" does not name the external file", g_err);
        drsn_model_destroy(m);
    }
    /* a location leaving the model's folder (the file exists there): rejected */
    snprintf(path, sizeof path, "%s/tiny_up.onnx", sub);
    if (CHECK(write_file(path, m_up.p, m_up.n) == 0, "write %s", path)) {
        drsn_status st;
        m = NULL;
        st = drsn_model_load_file(path, NULL, &m);
        snprintf(g_err, sizeof g_err, "%s", drsn_last_error());
        CHECK(st != DRSN_OK && m == NULL, "external data at ../tiny_w.bin was accepted");
        CHECK(st == DRSN_OK || g_err[0] != '\0', "rejection without a message");
        printf("  ../ location -> %s: %s\n", drsn_status_string(st), g_err);
        drsn_model_destroy(m);
    }
    /* a symbolic link in the model's folder to a file outside it: rejected, naming both */
    {
        char link[1100];
        pb m_link = build_tiny("Relu", "tiny_link.bin");
        snprintf(link, sizeof link, "%s/tiny_link.bin", sub);
        (void)unlink(link);
        snprintf(path, sizeof path, "%s/tiny_link.onnx", sub);
        if (CHECK(symlink(wpath, link) == 0, "symlink %s -> %s", link, wpath) &&
            CHECK(write_file(path, m_link.p, m_link.n) == 0, "write %s", path)) {
            m = NULL;
            EXPECT_STATUS(drsn_model_load_file(path, NULL, &m), DRSN_ERR_INVALID_MODEL);
            CHECK(m == NULL, "model set on failure");
            CHECK(strstr(g_err, "tiny_link.bin") != NULL && strstr(g_err, "not inside the model's folder") != NULL,
                  "message \"%s\" does not name the link and the folder rule", g_err);
            printf("  symlink leaving the folder -> %s\n", g_err);
            drsn_model_destroy(m);
        }
        free(m_link.p);
    }
    /* an absolute location: rejected */
    snprintf(path, sizeof path, "%s/tiny_abs.onnx", sub);
    if (CHECK(write_file(path, m_abs.p, m_abs.n) == 0, "write %s", path)) {
        drsn_status st;
        m = NULL;
        st = drsn_model_load_file(path, NULL, &m);
        snprintf(g_err, sizeof g_err, "%s", drsn_last_error());
        CHECK(st != DRSN_OK && m == NULL, "external data at absolute path %s was accepted", wpath);
        printf("  absolute location -> %s: %s\n", drsn_status_string(st), g_err);
        drsn_model_destroy(m);
    }
done:
    free(m_ok.p);
    free(m_up.p);
    free(m_missing.p);
    free(m_abs.p);
}

/* ---- Fixture models ---------------------------------------------------------------- */

typedef struct ref_run {
    float* out;
    size_t n;
    int64_t dims[8];
    size_t rank;
} ref_run;

/* Runs m on `in` (dims/rank) into a fresh buffer sized by output_shape_for. */
static int run_once(const drsn_model* m, const float* in, const int64_t* dims, size_t rank, ref_run* r) {
    const int64_t* indims[1] = {dims};
    size_t inranks[1] = {rank};
    const float* ins[1] = {in};
    float* outs[1];
    size_t caps[1];
    memset(r, 0, sizeof *r);
    if (!EXPECT_STATUS(drsn_model_output_shape_for(m, 1, indims, inranks, 0, r->dims, 8, &r->rank), DRSN_OK))
        return 0;
    r->n = shape_count(r->dims, r->rank);
    r->out = (float*)malloc((r->n ? r->n : 1) * sizeof(float));
    if (r->out == NULL) return 0;
    memset(r->out, 0xA5, r->n * sizeof(float));
    outs[0] = r->out;
    caps[0] = r->n;
    return EXPECT_STATUS(drsn_model_run(m, 1, ins, indims, inranks, 1, outs, caps), DRSN_OK);
}

static void test_fixture(const char* dir, const char* name) {
    char onnx_path[1024], in_path[1024], out_path[1024], err[512], sbuf[128];
    npy_array in, want;
    drsn_model *mf = NULL, *mm = NULL;
    drsn_options* o = NULL;
    unsigned char* bytes = NULL;
    size_t nbytes = 0, k;
    const char* in_name;
    int64_t dims[16];
    size_t rank = 0;
    drsn_dtype dt = DRSN_DTYPE_UNDEFINED;
    ref_run rf, rm;
    double t0, dev;

    memset(&rf, 0, sizeof rf);
    memset(&rm, 0, sizeof rm);
    snprintf(onnx_path, sizeof onnx_path, "%s/%s.onnx", dir, name);
    snprintf(in_path, sizeof in_path, "%s/%s.in.npy", dir, name);
    snprintf(out_path, sizeof out_path, "%s/%s.out.npy", dir, name);
    printf("[fixture %s]\n", name);
    if (!CHECK(npy_load(in_path, &in, err, sizeof err) == 0, "%s", err)) return;
    if (!CHECK(npy_load(out_path, &want, err, sizeof err) == 0, "%s", err)) {
        npy_free(&in);
        return;
    }
    CHECK(in.rank >= 2 && in.shape[0] == 5, "%s: unexpected input shape", in_path);

    /* load from file (default options) and from memory (one thread) */
    t0 = now_s();
    EXPECT_STATUS(drsn_model_load_file(onnx_path, NULL, &mf), DRSN_OK);
    printf("  load_file: %.3f s\n", now_s() - t0);
    if (CHECK(read_file(onnx_path, &bytes, &nbytes) == 0, "cannot read %s", onnx_path)) {
        EXPECT_STATUS(drsn_options_create(&o), DRSN_OK);
        EXPECT_STATUS(drsn_options_set_num_threads(o, 1), DRSN_OK);
        EXPECT_STATUS(drsn_model_load_memory(bytes, nbytes, o, &mm), DRSN_OK);
        drsn_options_destroy(o);
        memset(bytes, 0, nbytes); /* the library must not keep a pointer to it */
        free(bytes);
    }
    if (mf == NULL || mm == NULL) goto done;

    /* introspection */
    CHECK(drsn_model_input_count(mf) == 1, "input count %zu", drsn_model_input_count(mf));
    CHECK(drsn_model_output_count(mf) == 1, "output count %zu", drsn_model_output_count(mf));
    in_name = drsn_model_input_name(mf, 0);
    CHECK(in_name != NULL && in_name[0] != '\0', "empty input name");
    if (in_name == NULL) in_name = "";
    CHECK(drsn_model_input_name(mm, 0) != NULL && strcmp(drsn_model_input_name(mm, 0), in_name) == 0,
          "file and memory models disagree on the input name");
    CHECK(drsn_model_output_name(mf, 0) != NULL && drsn_model_output_name(mf, 0)[0] != '\0', "empty output name");
    printf("  input '%s', output '%s'\n", in_name, drsn_model_output_name(mf, 0) ? drsn_model_output_name(mf, 0) : "(NULL)");
    EXPECT_STATUS(drsn_model_input_dtype(mf, 0, &dt), DRSN_OK);
    CHECK(dt == DRSN_DTYPE_FLOAT32, "input dtype %d", (int)dt);
    dt = DRSN_DTYPE_UNDEFINED;
    EXPECT_STATUS(drsn_model_output_dtype(mf, 0, &dt), DRSN_OK);
    CHECK(dt == DRSN_DTYPE_FLOAT32, "output dtype %d", (int)dt);

    rank = 0;
    EXPECT_STATUS(drsn_model_input_shape(mf, 0, NULL, 0, &rank), DRSN_ERR_BUFFER_TOO_SMALL);
    CHECK(rank == in.rank, "capacity-0 query: rank %zu, expected %zu", rank, in.rank);
    rank = 0;
    if (EXPECT_STATUS(drsn_model_input_shape(mf, 0, dims, 16, &rank), DRSN_OK)) {
        int ok = rank == in.rank && dims[0] == -1;
        for (k = 1; ok && k < rank; k++) ok = dims[k] == in.shape[k];
        shape_str(dims, rank, sbuf, sizeof sbuf);
        CHECK(ok, "input shape %s does not match [-1, %s...] of %s", sbuf, "in.npy", in_path);
        printf("  input shape %s\n", sbuf);
    }
    if (in.rank > 1) {
        rank = 0;
        EXPECT_STATUS(drsn_model_input_shape(mf, 0, dims, in.rank - 1, &rank), DRSN_ERR_BUFFER_TOO_SMALL);
        CHECK(rank == in.rank, "short-capacity query: rank %zu", rank);
    }
    rank = 0;
    if (EXPECT_STATUS(drsn_model_output_shape(mf, 0, dims, 16, &rank), DRSN_OK)) {
        int ok = rank == want.rank && dims[0] == -1;
        for (k = 1; ok && k < rank; k++) ok = dims[k] == want.shape[k];
        shape_str(dims, rank, sbuf, sizeof sbuf);
        CHECK(ok, "output shape %s does not match [-1, ...] of %s", sbuf, out_path);
        printf("  output shape %s\n", sbuf);
    }

    /* output_shape_for batch 5 and batch 1 */
    {
        const int64_t* indims[1] = {in.shape};
        size_t inranks[1] = {in.rank};
        int64_t one[NPY_MAX_RANK];
        int ok;
        rank = 0;
        if (EXPECT_STATUS(drsn_model_output_shape_for(mf, 1, indims, inranks, 0, dims, 16, &rank), DRSN_OK)) {
            ok = rank == want.rank;
            for (k = 0; ok && k < rank; k++) ok = dims[k] == want.shape[k];
            shape_str(dims, rank, sbuf, sizeof sbuf);
            CHECK(ok, "output_shape_for batch 5 gave %s", sbuf);
        }
        rank = 0;
        EXPECT_STATUS(drsn_model_output_shape_for(mf, 1, indims, inranks, 0, NULL, 0, &rank), DRSN_ERR_BUFFER_TOO_SMALL);
        CHECK(rank == want.rank, "capacity-0 output_shape_for: rank %zu", rank);
        memcpy(one, in.shape, in.rank * sizeof(int64_t));
        one[0] = 1;
        indims[0] = one;
        rank = 0;
        if (EXPECT_STATUS(drsn_model_output_shape_for(mf, 1, indims, inranks, 0, dims, 16, &rank), DRSN_OK)) {
            ok = rank == want.rank && dims[0] == 1;
            for (k = 1; ok && k < rank; k++) ok = dims[k] == want.shape[k];
            shape_str(dims, rank, sbuf, sizeof sbuf);
            CHECK(ok, "output_shape_for batch 1 gave %s", sbuf);
        }
    }

    /* run and compare with onnxruntime */
    t0 = now_s();
    if (run_once(mf, in.data, in.shape, in.rank, &rf)) {
        double dt_run = now_s() - t0;
        if (CHECK(rf.n == want.count, "output has %zu elements, reference %zu", rf.n, want.count)) {
            dev = max_abs_diff(rf.out, want.data, rf.n);
            printf("  run (file, default threads): %.3f s, max |deviation| from onnxruntime = %.3g\n", dt_run, dev);
            CHECK(dev <= 1e-4, "%s: max deviation %g > 1e-4", name, dev);
        }
    }
    t0 = now_s();
    if (run_once(mm, in.data, in.shape, in.rank, &rm)) {
        double dt_run = now_s() - t0;
        if (CHECK(rm.n == want.count, "output has %zu elements, reference %zu", rm.n, want.count)) {
            dev = max_abs_diff(rm.out, want.data, rm.n);
            printf("  run (memory, 1 thread): %.3f s, max |deviation| from onnxruntime = %.3g\n", dt_run, dev);
            CHECK(dev <= 1e-4, "%s (memory, 1 thread): max deviation %g > 1e-4", name, dev);
            if (rf.out != NULL && rf.n == rm.n)
                printf("  file/default vs memory/1-thread: max |diff| = %.3g%s\n", max_abs_diff(rf.out, rm.out, rm.n),
                       memcmp(rf.out, rm.out, rm.n * sizeof(float)) == 0 ? " (bit-identical)" : "");
        }
    }
    if (rf.out == NULL || rf.n != want.count) goto done;

    /* each row alone (batch 1) agrees with its row of the batch-5 run */
    {
        size_t row_in = in.count / 5, row_out = rf.n / 5, r;
        double worst = 0.0;
        int64_t one[NPY_MAX_RANK];
        memcpy(one, in.shape, in.rank * sizeof(int64_t));
        one[0] = 1;
        for (r = 0; r < 5; r++) {
            ref_run rr;
            if (run_once(mf, in.data + r * row_in, one, in.rank, &rr) && rr.n == row_out) {
                double d = max_abs_diff(rr.out, want.data + r * row_out, row_out);
                if (d > worst) worst = d;
            }
            free(rr.out);
        }
        printf("  batch-1 runs: max |deviation| from onnxruntime = %.3g\n", worst);
        CHECK(worst <= 1e-4, "batch-1 rows deviate by %g", worst);
    }

    /* batch 20 (the 5 rows 4 times) agrees with the batch-5 result row by row */
    {
        size_t row_in = in.count / 5, row_out = rf.n / 5, rep;
        float* big_in = (float*)malloc(in.count * 4 * sizeof(float));
        int64_t d20[NPY_MAX_RANK];
        ref_run r20;
        memset(&r20, 0, sizeof r20);
        memcpy(d20, in.shape, in.rank * sizeof(int64_t));
        d20[0] = 20;
        if (big_in != NULL) {
            for (rep = 0; rep < 4; rep++) memcpy(big_in + rep * 5 * row_in, in.data, in.count * sizeof(float));
            if (run_once(mf, big_in, d20, in.rank, &r20) && CHECK(r20.n == row_out * 20, "batch-20 output size %zu", r20.n)) {
                double worst = 0.0, d;
                for (rep = 0; rep < 4; rep++) {
                    d = max_abs_diff(r20.out + rep * rf.n, want.data, rf.n);
                    if (d > worst) worst = d;
                }
                printf("  batch-20 run: max |deviation| from onnxruntime = %.3g\n", worst);
                CHECK(worst <= 1e-4, "batch-20 rows deviate by %g", worst);
            }
        }
        free(r20.out);
        free(big_in);
    }

    /* a NaN in the input is computed (IEEE), not rejected */
    {
        float* nan_in = (float*)malloc(in.count * sizeof(float));
        ref_run rn;
        memset(&rn, 0, sizeof rn);
        if (nan_in != NULL) {
            memcpy(nan_in, in.data, in.count * sizeof(float));
            nan_in[0] = NAN;
            nan_in[in.count - 1] = INFINITY;
            if (run_once(mf, nan_in, in.shape, in.rank, &rn)) {
                size_t k2, nans = 0;
                for (k2 = 0; k2 < rn.n; k2++) nans += rn.out[k2] != rn.out[k2];
                printf("  NaN/Inf input: run OK, %zu of %zu outputs are NaN\n", nans, rn.n);
            }
        }
        free(rn.out);
        free(nan_in);
    }

    /* output buffer too small */
    {
        const int64_t* indims[1] = {in.shape};
        size_t inranks[1] = {in.rank};
        const float* ins[1] = {in.data};
        float* buf = (float*)malloc(rf.n * sizeof(float));
        float* outs[1] = {buf};
        size_t caps[1];
        caps[0] = rf.n - 1;
        EXPECT_STATUS(drsn_model_run(mf, 1, ins, indims, inranks, 1, outs, caps), DRSN_ERR_BUFFER_TOO_SMALL);
        caps[0] = 0;
        EXPECT_STATUS(drsn_model_run(mf, 1, ins, indims, inranks, 1, outs, caps), DRSN_ERR_BUFFER_TOO_SMALL);
        caps[0] = rf.n + 100; /* larger is fine: the 100 floats after the output stay untouched */
        free(buf);
        buf = (float*)malloc((rf.n + 100) * sizeof(float));
        outs[0] = buf;
        if (buf != NULL) {
            unsigned char tail[100 * sizeof(float)];
            float* in_copy = (float*)malloc(in.count * sizeof(float));
            memset(buf, 0xA5, (rf.n + 100) * sizeof(float));
            memset(tail, 0xA5, sizeof tail);
            if (in_copy != NULL) memcpy(in_copy, in.data, in.count * sizeof(float));
            if (EXPECT_STATUS(drsn_model_run(mf, 1, ins, indims, inranks, 1, outs, caps), DRSN_OK)) {
                CHECK(memcmp(buf, rf.out, rf.n * sizeof(float)) == 0, "run with a larger buffer differs");
                CHECK(memcmp(buf + rf.n, tail, sizeof tail) == 0, "the run wrote past the output into a larger buffer");
                CHECK(in_copy == NULL || memcmp(in_copy, in.data, in.count * sizeof(float)) == 0,
                      "the run modified its input buffer");
            }
            free(in_copy);
        }
        free(buf);
    }

    /* wrong rank and wrong dimensions */
    {
        int64_t bad[NPY_MAX_RANK + 1];
        size_t big = in.count * 2 + 64, variant;
        float* zeros = (float*)calloc(big, sizeof(float));
        float* obuf = (float*)malloc(rf.n * 4 * sizeof(float));
        for (variant = 0; variant < 5 && zeros != NULL && obuf != NULL; variant++) {
            const int64_t* indims[1] = {bad};
            size_t inranks[1];
            const float* ins[1] = {zeros};
            float* outs[1] = {obuf};
            size_t caps[1] = {rf.n * 4};
            int64_t od[16];
            size_t orank;
            const char* what;
            memcpy(bad, in.shape, in.rank * sizeof(int64_t));
            inranks[0] = in.rank;
            switch (variant) {
                case 0: inranks[0] = in.rank - 1; what = "rank - 1"; break;
                case 1: bad[in.rank] = 1; inranks[0] = in.rank + 1; what = "rank + 1"; break;
                case 2: bad[1] += 1; what = "channels + 1"; break;
                case 3: bad[in.rank - 1] /= 2; what = "last dim / 2"; break;
                default: bad[in.rank - 1] *= 2; bad[0] = 1; what = "last dim * 2"; break;
            }
            if (shape_count(bad, inranks[0]) > big) continue;
            shape_str(bad, inranks[0], sbuf, sizeof sbuf);
            if (EXPECT_STATUS(drsn_model_run(mf, 1, ins, indims, inranks, 1, outs, caps), DRSN_ERR_SHAPE_MISMATCH)) {
                printf("  %s %s -> %s\n", what, sbuf, g_err);
                CHECK(strstr(g_err, in_name) != NULL, "shape-mismatch message \"%s\" does not name input '%s'", g_err,
                      in_name);
            }
            EXPECT_STATUS(drsn_model_output_shape_for(mf, 1, indims, inranks, 0, od, 16, &orank),
                          DRSN_ERR_SHAPE_MISMATCH);
        }
        free(zeros);
        free(obuf);
    }

    /* 8 threads x 200 runs against the single-threaded results (batch 5 and batch 1) */
    {
        ref_run r1;
        int64_t one[NPY_MAX_RANK];
        memcpy(one, in.shape, in.rank * sizeof(int64_t));
        one[0] = 1;
        memset(&r1, 0, sizeof r1);
        if (run_once(mf, in.data + (in.count / 5) * 2, one, in.rank, &r1)) {
            char label[128];
            snprintf(label, sizeof label, "%s concurrent", name);
            run_concurrently(label, mf, env_int("DRSN_TEST_THREADS", 8), env_int("DRSN_TEST_CONCURRENT_RUNS", 200),
                             in.data, in.shape, in.rank, rf.out, rf.n, in.data + (in.count / 5) * 2, one, in.rank,
                             r1.out, r1.n);
        }
        free(r1.out);
    }

done:
    free(rf.out);
    free(rm.out);
    drsn_model_destroy(mf);
    drsn_model_destroy(mm);
    npy_free(&in);
    npy_free(&want);
}

/* ---- Zoo models (Tests/models/zoo) ------------------------------------------------- */

/* n rows of `row` floats taken cyclically from the b rows of `in`. */
static float* cyclic_rows(const float* in, size_t b, size_t row, size_t n) {
    float* x = (float*)malloc((n * row > 0 ? n * row : 1) * sizeof(float));
    size_t r;
    if (x == NULL) return NULL;
    for (r = 0; r < n; r++) memcpy(x + r * row, in + (r % b) * row, row * sizeof(float));
    return x;
}

/* One zoo model: <dir>/<name>.onnx against <name>.out.npy (onnxruntime, batch 3) at batch 3,
 * batch 1 (each row) and batch 7 (rows taken cyclically), within 1e-4; prints the largest
 * deviation and how many shrinkage units drsn fused. Returns the deviation (INFINITY if
 * the model could not be loaded or run). */
static double test_zoo_model(const char* dir, const char* name) {
    char onnx_path[1200], in_path[1200], out_path[1200], err[512], sbuf[128];
    npy_array in, want;
    drsn_model* m = NULL;
    double worst = INFINITY;
    size_t b, row_in, row_out, r, units = 0;
    int64_t dims[NPY_MAX_RANK];
    ref_run run;

    memset(&run, 0, sizeof run);
    snprintf(onnx_path, sizeof onnx_path, "%s/%s.onnx", dir, name);
    snprintf(in_path, sizeof in_path, "%s/%s.in.npy", dir, name);
    snprintf(out_path, sizeof out_path, "%s/%s.out.npy", dir, name);
    if (!CHECK(npy_load(in_path, &in, err, sizeof err) == 0, "%s", err)) return worst;
    if (!CHECK(npy_load(out_path, &want, err, sizeof err) == 0, "%s", err)) {
        npy_free(&in);
        return worst;
    }
    if (!EXPECT_STATUS(drsn_model_load_file(onnx_path, NULL, &m), DRSN_OK)) {
        printf("  %-34s LOAD FAILED: %s\n", name, g_err);
        goto done;
    }
    b = (size_t)in.shape[0];
    if (!CHECK(in.rank >= 2 && b > 0 && want.rank >= 1 && (size_t)want.shape[0] == b, "%s: input/output batch", name))
        goto done;
    row_in = in.count / b;
    row_out = want.count / b;
    memcpy(dims, in.shape, in.rank * sizeof(int64_t));

    /* batch 3: the stored input */
    if (run_once(m, in.data, dims, in.rank, &run) && CHECK(run.n == want.count, "%s: %zu outputs, want %zu", name, run.n, want.count)) {
        worst = max_abs_diff(run.out, want.data, want.count);
        CHECK(worst <= 1e-4, "%s batch %zu: max deviation %g > 1e-4", name, b, worst);
    }
    free(run.out);
    run.out = NULL;
    /* batch 1: every row alone */
    dims[0] = 1;
    for (r = 0; r < b; r++) {
        if (run_once(m, in.data + r * row_in, dims, in.rank, &run) && CHECK(run.n == row_out, "%s batch 1: %zu outputs", name, run.n)) {
            double d = max_abs_diff(run.out, want.data + r * row_out, row_out);
            CHECK(d <= 1e-4, "%s batch 1 row %zu: max deviation %g > 1e-4", name, r, d);
            if (!(d <= worst)) worst = d;
        }
        free(run.out);
        run.out = NULL;
    }
    /* batch 7: rows cyclically */
    {
        float* x7 = cyclic_rows(in.data, b, row_in, 7);
        float* y7 = cyclic_rows(want.data, b, row_out, 7);
        dims[0] = 7;
        if (x7 != NULL && y7 != NULL && run_once(m, x7, dims, in.rank, &run) &&
            CHECK(run.n == 7 * row_out, "%s batch 7: %zu outputs", name, run.n)) {
            double d = max_abs_diff(run.out, y7, 7 * row_out);
            CHECK(d <= 1e-4, "%s batch 7: max deviation %g > 1e-4", name, d);
            if (!(d <= worst)) worst = d;
        }
        free(run.out);
        run.out = NULL;
        free(x7);
        free(y7);
    }
    /* fused shrinkage units (reported here; Tests/python/test_zoo.py checks the count) */
    {
        const int64_t* indims[1] = {in.shape};
        size_t inranks[1] = {in.rank};
        EXPECT_STATUS2(drsn_model_shrinkage_units(m, 1, indims, inranks, &units, NULL, NULL, 0), DRSN_OK,
                       DRSN_ERR_BUFFER_TOO_SMALL);
    }
    shape_str(in.shape + 1, in.rank - 1, sbuf, sizeof sbuf);
    printf("  %-34s sample %-11s max |deviation| from onnxruntime (batch 3/1/7) = %.3g; %zu shrinkage units fused\n",
           name, sbuf, worst, units);

done:
    drsn_model_destroy(m);
    npy_free(&in);
    npy_free(&want);
    return worst;
}

static int cmp_str(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

/* Every .onnx file in dir (sorted by name). */
static void test_zoo(const char* dir) {
    DIR* d = opendir(dir);
    struct dirent* e;
    char** names = NULL;
    size_t n = 0, cap = 0, i;
    double worst = 0.0;
    printf("[zoo %s]\n", dir);
    if (d == NULL) {
        printf("  SKIPPED: %s is absent\n", dir);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".onnx") != 0) continue;
        if (n == cap) {
            char** grown = (char**)realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(char*));
            if (grown == NULL) break;
            names = grown;
        }
        names[n] = (char*)malloc(len - 4);
        if (names[n] == NULL) break;
        memcpy(names[n], e->d_name, len - 5);
        names[n][len - 5] = '\0';
        n++;
    }
    closedir(d);
    CHECK(n > 0, "no .onnx files in %s", dir);
    if (n > 0) qsort(names, n, sizeof(char*), cmp_str);
    for (i = 0; i < n; i++) {
        double dev = test_zoo_model(dir, names[i]);
        if (!(dev <= worst)) worst = dev;
        free(names[i]);
    }
    free(names);
    printf("  %zu zoo models, largest deviation %.3g\n", n, worst);
}

/* ---- The .npy reader used here ------------------------------------------------------ */

static void npy_case(const char* header, size_t data_bytes, int expect_ok, const char* what) {
    unsigned char buf[512];
    size_t hl = strlen(header), total = 10 + hl + data_bytes;
    npy_array a;
    char err[256] = "";
    int rc;
    if (total > sizeof buf) return;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hl & 0xff);
    buf[9] = (unsigned char)(hl >> 8);
    memcpy(buf + 10, header, hl);
    memset(buf + 10 + hl, 0, data_bytes);
    rc = npy_parse(buf, total, &a, err, sizeof err);
    CHECK((rc == 0) == expect_ok, "npy reader, %s: rc %d (%s)", what, rc, err);
    npy_free(&a);
}

static void test_npy_reader(void) {
    printf("[npy reader]\n");
    npy_case("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   \n", 24, 1, "valid");
    npy_case("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 4, 1, "scalar");
    npy_case("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 12, 1, "1-d");
    npy_case("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 20, 0, "short data");
    npy_case("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 28, 0, "trailing data");
    npy_case("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", 48, 0, "float64");
    npy_case("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n", 24, 0, "big-endian");
    npy_case("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 24, 0, "Fortran order");
    npy_case("{'descr': '<f4', 'shape': (2, 3), }\n", 24, 0, "missing key");
    npy_case("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }\n", 24, 0, "negative dim");
    npy_case("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}\n", 24, 0, "extra key");
    npy_case("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24, 0, "no newline");
}

/* ---- main ------------------------------------------------------------------------- */

int main(int argc, char** argv) {
    static const char* const fixtures[] = {"drsn_cw_1d", "drsn_cw_1d.legacy", "drsn_cw_2d", "drsn_cw_2d.legacy"};
    char fixdir[768], tmpdir[] = "/tmp/drsn-test-capi-XXXXXX";
    struct stat st;
    const char* env_fix = getenv("DRSN_FIXTURES");
    size_t i;
    double t0 = now_s();

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--dump-models") == 0) {
        /* debugging aid: write the models this test encodes, to check them with other tools */
        pb a = build_tiny("Relu", NULL), b = build_tiny("Relu", "tiny_w.bin"), c = build_tiny("Hardmax", NULL);
        char p[1200];
        int rc = 0;
        snprintf(p, sizeof p, "%s/tiny.onnx", argv[2]);
        rc |= write_file(p, a.p, a.n);
        snprintf(p, sizeof p, "%s/tiny_ext.onnx", argv[2]);
        rc |= write_file(p, b.p, b.n);
        snprintf(p, sizeof p, "%s/tiny_w.bin", argv[2]);
        rc |= write_file(p, k_tiny_w, sizeof k_tiny_w);
        snprintf(p, sizeof p, "%s/tiny_unknown_op.onnx", argv[2]);
        rc |= write_file(p, c.p, c.n);
        free(a.p);
        free(b.p);
        free(c.p);
        return rc == 0 ? 0 : 2;
    }
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s REPO_ROOT [ZOO_DIR]   (or --dump-models DIR)\n", argv[0]);
        return 2;
    }
    if (!npy_host_is_little_endian_()) {
        fprintf(stderr, "this test assumes a little-endian host\n");
        return 2;
    }
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }

    test_worker_pool_lifetime(); /* first: no model may have run with several threads before it */
    test_versions();
    test_status_strings();
    test_options();
    test_last_error_thread_local();
    test_last_error_truncation();
    test_npy_reader();
    test_load_errors(tmpdir);
    test_tiny(tmpdir);
    test_two_inputs_two_outputs();
    test_threads_option();
    test_plan_cache();
    test_run_buffer_sizes();
    test_external_data(tmpdir);

    if (env_fix != NULL && *env_fix != '\0')
        snprintf(fixdir, sizeof fixdir, "%s", env_fix);
    else
        snprintf(fixdir, sizeof fixdir, "%s/../shared/fixtures", argv[1]);
    if (stat(fixdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        const char* required = getenv("DRSN_REQUIRE_FIXTURES");
        if (required != NULL && strcmp(required, "1") == 0)
            CHECK(0, "%s is absent, and DRSN_REQUIRE_FIXTURES=1 requires the shared fixtures", fixdir);
        else
            printf("[fixtures] SKIPPED: %s is absent\n", fixdir);
    } else {
        for (i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) test_fixture(fixdir, fixtures[i]);
    }

    {
        /* the export zoo: argv[2], else $DRSN_ZOO, else REPO_ROOT/Tests/models/zoo */
        char zoodir[768];
        const char* env_zoo = getenv("DRSN_ZOO");
        if (argc == 3)
            snprintf(zoodir, sizeof zoodir, "%s", argv[2]);
        else if (env_zoo != NULL && *env_zoo != '\0')
            snprintf(zoodir, sizeof zoodir, "%s", env_zoo);
        else
            snprintf(zoodir, sizeof zoodir, "%s/Tests/models/zoo", argv[1]);
        test_zoo(zoodir);
    }

    {
        /* best-effort cleanup of the scratch folder */
        static const char* const files[] = {"tiny.onnx", "garbage.onnx", "empty.onnx", "tiny_ext.onnx",
                                            "tiny_missing.onnx", "tiny_w.bin", "sub/tiny_up.onnx",
                                            "sub/tiny_abs.onnx"};
        char p[1200];
        for (i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
            unlink(p);
        }
        snprintf(p, sizeof p, "%s/sub", tmpdir);
        rmdir(p);
        rmdir(tmpdir);
    }
    printf("test_capi: %.1f s\n", now_s() - t0);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed > 0 ? 1 : 0;
}
