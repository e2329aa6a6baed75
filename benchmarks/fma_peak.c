/* Register-only FP32 FMA throughput of one core: 12 independent accumulator chains of
 * vfmadd231ps on zmm (AVX-512) and on ymm (AVX2), no memory traffic. The result is the
 * machine's arithmetic ceiling for float32 (no kernel can exceed it), against which
 * docs/performance.md reads the GFLOPS of drsn and its peers.
 *
 *   cc -O2 benchmarks/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 *
 * x86-64 only; run it on an idle machine (it is single-threaded: multiply by the number
 * of cores for the machine-wide ceiling). */
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define CHAINS(R) \
    "vfmadd231ps %%" R "1,%%" R "1,%%" R "2\n vfmadd231ps %%" R "1,%%" R "1,%%" R "3\n" \
    "vfmadd231ps %%" R "1,%%" R "1,%%" R "4\n vfmadd231ps %%" R "1,%%" R "1,%%" R "5\n" \
    "vfmadd231ps %%" R "1,%%" R "1,%%" R "6\n vfmadd231ps %%" R "1,%%" R "1,%%" R "7\n" \
    "vfmadd231ps %%" R "1,%%" R "1,%%" R "8\n vfmadd231ps %%" R "1,%%" R "1,%%" R "9\n" \
    "vfmadd231ps %%" R "1,%%" R "1,%%" R "10\n vfmadd231ps %%" R "1,%%" R "1,%%" R "11\n" \
    "vfmadd231ps %%" R "1,%%" R "1,%%" R "12\n vfmadd231ps %%" R "1,%%" R "1,%%" R "13\n"

int main(void) {
    const long n = 200000000;
    double best512 = 0, best256 = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        __asm__ volatile("vxorps %%ymm1,%%ymm1,%%ymm1\n mov %0,%%rcx\n 1:\n" CHAINS("zmm") "dec %%rcx\n jnz 1b\n"
                         :: "r"(n) : "rcx", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                           "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
        t = now() - t;
        if (n * 12.0 * 32 / t / 1e9 > best512) best512 = n * 12.0 * 32 / t / 1e9;
        t = now();
        __asm__ volatile("vxorps %%ymm1,%%ymm1,%%ymm1\n mov %0,%%rcx\n 1:\n" CHAINS("ymm") "dec %%rcx\n jnz 1b\n"
                         :: "r"(n) : "rcx", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                           "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
        t = now() - t;
        if (n * 12.0 * 16 / t / 1e9 > best256) best256 = n * 12.0 * 16 / t / 1e9;
    }
    printf("FP32 FMA peak, one core: zmm %.1f GFLOPS, ymm %.1f GFLOPS\n", best512, best256);
    return 0;
}
