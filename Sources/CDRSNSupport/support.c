#define _GNU_SOURCE
#include "drsn_support.h"
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

enum { DRSNSUP_ERROR_CAPACITY = 4096 };

static _Thread_local char drsnsup_error_buffer[DRSNSUP_ERROR_CAPACITY];

void drsnsup_set_error(const char *message, size_t len) {
    if (message == NULL) { drsnsup_error_buffer[0] = 0; return; }
    if (len >= DRSNSUP_ERROR_CAPACITY) len = DRSNSUP_ERROR_CAPACITY - 1;
    memcpy(drsnsup_error_buffer, message, len);
    drsnsup_error_buffer[len] = 0;
}

const char *drsnsup_get_error(void) { return drsnsup_error_buffer; }

void drsnsup_clear_error(void) { drsnsup_error_buffer[0] = 0; }

int drsnsup_cpu_isa_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
             __builtin_cpu_supports("f16c") && __builtin_cpu_supports("lzcnt") &&
             __builtin_cpu_supports("movbe");
    if (!v3) return DRSNSUP_ISA_BASELINE;
    int v4 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512vl");
    return v4 ? DRSNSUP_ISA_AVX512 : DRSNSUP_ISA_AVX2;
#else
    return DRSNSUP_ISA_BASELINE;
#endif
}

static pthread_once_t drsnsup_isa_once = PTHREAD_ONCE_INIT;
static int drsnsup_isa_level = DRSNSUP_ISA_BASELINE;

static void drsnsup_isa_init(void) {
    int level = drsnsup_cpu_isa_level();
    const char *force = getenv("DRSN_FORCE_ISA");
    if (force != NULL) {
        int forced = -1;
        if (strcmp(force, "baseline") == 0) forced = DRSNSUP_ISA_BASELINE;
        else if (strcmp(force, "avx2") == 0) forced = DRSNSUP_ISA_AVX2;
        else if (strcmp(force, "avx512") == 0) forced = DRSNSUP_ISA_AVX512;
        if (forced >= 0 && forced < level) level = forced;
    }
    drsnsup_isa_level = level;
}

int drsnsup_kernel_isa_level(void) {
    pthread_once(&drsnsup_isa_once, drsnsup_isa_init);
    return drsnsup_isa_level;
}

int drsnsup_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    return 1;
}
