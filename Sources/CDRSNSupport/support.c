#define _GNU_SOURCE
#include "drsn_support.h"
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

int drsnsup_cpu_supports_kernels(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 1;
#endif
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
