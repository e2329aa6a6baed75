import CDRSNSupport

/// Runs `body(task, worker)` for every task in 0..<count on up to `threads` threads of the
/// process-wide pool (the caller is worker 0). If another run holds the pool, the caller
/// runs every task itself. No allocation: the closure stays on the caller's stack.
@inline(__always)
func parallelFor(_ count: Int, threads: Int, _ body: (Int, Int) -> Void) {
    if count <= 1 || threads <= 1 {
        for t in 0..<count { body(t, 0) }
        return
    }
    withoutActuallyEscaping(body) { escapable in
        var closure = escapable
        withUnsafeMutablePointer(to: &closure) { p in
            _ = drsnsup_parallel_for(count, Int32(threads), { context, task, worker in
                context!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(task, Int(worker))
            }, p)
        }
    }
}

/// Threads a run may use for the `numThreads` option (0 = all available CPUs).
func effectiveThreads(_ numThreads: Int) -> Int {
    let available = Int(drsnsup_pool_max_threads())
    return numThreads <= 0 ? available : min(numThreads, max(available, 1))
}
