import CDRSNSupport

/// Threads a run may use for the `numThreads` option (0 = all available CPUs).
func effectiveThreads(_ numThreads: Int) -> Int {
    let available = Int(drsnsup_pool_max_threads())
    return numThreads <= 0 ? available : min(numThreads, max(available, 1))
}
