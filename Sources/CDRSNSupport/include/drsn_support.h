/* Internal helpers for drsn that Swift cannot express directly. Not part of the public API:
 * symbols use the drsnsup_ prefix so the export list (drsn_*) keeps them local. */
#ifndef DRSN_SUPPORT_H
#define DRSN_SUPPORT_H
#include <stddef.h>
/* The public header's constants for Swift (see drsn_abi.h). Included from here, a header
 * every build already depends on, so that a clang module cached before drsn_abi.h existed
 * is rebuilt rather than used without it. */
#include "drsn_abi.h"

/** Stores a copy of `len` bytes as the calling thread's last error message (NUL-terminated). */
void drsnsup_set_error(const char *message, size_t len);
/** The calling thread's last error message; "" if none. Valid until the next set/clear on this thread. */
const char *drsnsup_get_error(void);
/** Clears the calling thread's last error message. */
void drsnsup_clear_error(void);

/** Kernel ISA levels (the variants of the kernel modules, see Package.swift). */
enum { DRSNSUP_ISA_BASELINE = 0, DRSNSUP_ISA_AVX2 = 1, DRSNSUP_ISA_AVX512 = 2 };
/** Highest kernel ISA level the CPU and the OS (saved register state, via
 *  __builtin_cpu_supports) allow: DRSNSUP_ISA_AVX512 for x86-64-v4 (AVX-512 F/BW/DQ/CD/VL
 *  on top of the v3 set), DRSNSUP_ISA_AVX2 for x86-64-v3 (AVX2, FMA, BMI1/2, F16C, LZCNT,
 *  MOVBE), else DRSNSUP_ISA_BASELINE. Always DRSNSUP_ISA_BASELINE on other architectures. */
int drsnsup_cpu_isa_level(void);
/** The level the kernels run at: drsnsup_cpu_isa_level(), lowered by the environment
 *  variable DRSN_FORCE_ISA=baseline|avx2|avx512 (for testing). Computed once per process
 *  (thread-safe); a forced level above what the CPU supports, or an unknown value, is ignored. */
int drsnsup_kernel_isa_level(void);
/** Number of CPUs this process may run on (sched_getaffinity), at least 1. */
int drsnsup_available_cpus(void);
#endif
