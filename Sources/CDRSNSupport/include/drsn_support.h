/* Internal helpers for drsn that Swift cannot express directly. Not part of the public API:
 * symbols use the drsnsup_ prefix so the export list (drsn_*) keeps them local. */
#ifndef DRSN_SUPPORT_H
#define DRSN_SUPPORT_H
#include <stddef.h>

/** Stores a copy of `len` bytes as the calling thread's last error message (NUL-terminated). */
void drsnsup_set_error(const char *message, size_t len);
/** The calling thread's last error message; "" if none. Valid until the next set/clear on this thread. */
const char *drsnsup_get_error(void);
/** Clears the calling thread's last error message. */
void drsnsup_clear_error(void);

/** 1 if the CPU and OS support AVX2 and FMA (the instruction set the kernels are built for), else 0. */
int drsnsup_cpu_supports_kernels(void);
/** Number of CPUs this process may run on (sched_getaffinity), at least 1. */
int drsnsup_available_cpus(void);
#endif
