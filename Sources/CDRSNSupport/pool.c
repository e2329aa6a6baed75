#define _GNU_SOURCE
#include "drsn_pool.h"
#include "drsn_support.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

enum { DRSNSUP_MAX_WORKERS = 255 };

typedef struct {
    /* Seqlock over the job fields: odd while the caller rewrites them. */
    _Atomic uint64_t generation;
    drsnsup_task_fn fn;
    void *context;
    long count;
    int threads;
    _Atomic long next;
    _Atomic long done;
    /* Workers currently looking at the job fields. */
    _Atomic int in_flight;
    /* 1 while one caller owns the pool. */
    _Atomic int busy;
    _Atomic int sleepers;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    int workers;
} drsnsup_pool;

static drsnsup_pool pool = {
    .mutex = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Claims and runs tasks of the current job as `worker`. */
static void work(int worker) {
    drsnsup_task_fn fn = pool.fn;
    void *context = pool.context;
    long count = pool.count;
    for (;;) {
        long t = atomic_fetch_add_explicit(&pool.next, 1, memory_order_acq_rel);
        if (t >= count) break;
        fn(context, t, worker);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_acq_rel);
    }
}

static void *worker_main(void *arg) {
    int index = (int)(intptr_t)arg; /* 1-based worker id */
    uint64_t seen = atomic_load(&pool.generation);
    for (;;) {
        uint64_t g;
        uint64_t spin_start = now_ns();
        int spins = 0;
        for (;;) {
            g = atomic_load_explicit(&pool.generation, memory_order_acquire);
            if (g != seen && (g & 1) == 0) break;
            if (++spins % 64 == 0) {
                if (now_ns() - spin_start > 200000) { /* 200 us, then sleep */
                    pthread_mutex_lock(&pool.mutex);
                    atomic_fetch_add(&pool.sleepers, 1);
                    for (;;) {
                        g = atomic_load(&pool.generation);
                        if (g != seen && (g & 1) == 0) break;
                        pthread_cond_wait(&pool.wake, &pool.mutex);
                    }
                    atomic_fetch_sub(&pool.sleepers, 1);
                    pthread_mutex_unlock(&pool.mutex);
                    break;
                }
                sched_yield();
            } else {
                cpu_relax();
            }
        }
        seen = g;
        atomic_fetch_add(&pool.in_flight, 1);
        if (atomic_load(&pool.generation) == g && index < pool.threads) {
            work(index);
        }
        atomic_fetch_sub_explicit(&pool.in_flight, 1, memory_order_acq_rel);
    }
    return NULL;
}

static void pool_start(void) {
    int cpus = drsnsup_available_cpus();
    int n = cpus - 1;
    if (n > DRSNSUP_MAX_WORKERS) n = DRSNSUP_MAX_WORKERS;
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    int have_affinity = sched_getaffinity(0, sizeof(allowed), &allowed) == 0;
    int started = 0;
    for (int i = 1; i <= n; i++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_t thread;
        if (pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)i) == 0) {
            pthread_detach(thread);
            if (have_affinity) {
                /* Pin worker i to the i-th allowed CPU (the caller usually runs on the first). */
                int seen = 0;
                for (int c = 0; c < CPU_SETSIZE; c++) {
                    if (!CPU_ISSET(c, &allowed)) continue;
                    if (seen++ == i % cpus) {
                        cpu_set_t one;
                        CPU_ZERO(&one);
                        CPU_SET(c, &one);
                        pthread_setaffinity_np(thread, sizeof(one), &one);
                        break;
                    }
                }
            }
            started++;
        }
        pthread_attr_destroy(&attr);
    }
    pool.workers = started;
}

int drsnsup_pool_max_threads(void) { return drsnsup_available_cpus(); }

static void run_serial(long count, drsnsup_task_fn fn, void *context) {
    for (long t = 0; t < count; t++) fn(context, t, 0);
}

int drsnsup_parallel_for(long count, int threads, drsnsup_task_fn fn, void *context) {
    if (count <= 0) return 1;
    if (threads > count) threads = (int)count;
    if (threads <= 1) { run_serial(count, fn, context); return 1; }
    pthread_once(&pool_once, pool_start);
    if (threads > pool.workers + 1) threads = pool.workers + 1;
    int expected = 0;
    if (threads <= 1 || !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        run_serial(count, fn, context);
        return 1;
    }
    /* Publish the job under the seqlock; wait out workers still reading the old one. */
    atomic_fetch_add(&pool.generation, 1);
    while (atomic_load(&pool.in_flight) != 0) cpu_relax();
    pool.fn = fn;
    pool.context = context;
    pool.count = count;
    pool.threads = threads;
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mutex);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.mutex);
    }
    work(0);
    while (atomic_load_explicit(&pool.done, memory_order_acquire) < count) cpu_relax();
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
    return threads;
}
