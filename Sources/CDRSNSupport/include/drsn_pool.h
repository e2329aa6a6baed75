/* A process-wide, persistent worker pool for intra-op parallelism (internal).
 *
 * One run at a time uses the pool: the calling thread participates as worker 0 and up to
 * `threads - 1` pool workers join, claiming task indices dynamically. A caller that finds
 * the pool busy (another thread's run is using it) runs all tasks itself, so concurrent
 * runs never oversubscribe the cores or wait on each other. Workers spin briefly after a
 * job, then sleep on a condition variable. */
#ifndef DRSN_POOL_H
#define DRSN_POOL_H
#include <stddef.h>

/** Task body: `task` in [0, count), `worker` in [0, threads) identifies per-thread scratch. */
typedef void (*drsnsup_task_fn)(void *context, long task, int worker);

/** Runs fn(context, t, w) for every t in [0, count) on up to `threads` threads (including
 * the caller) and returns when all tasks have finished. Returns the number of threads that
 * were allowed to take part (1 if the pool was busy or threads <= 1). */
int drsnsup_parallel_for(long count, int threads, drsnsup_task_fn fn, void *context);

/** Largest useful thread count: the CPUs this process may use. */
int drsnsup_pool_max_threads(void);
#endif
