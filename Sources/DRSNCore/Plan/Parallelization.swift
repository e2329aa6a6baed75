/// How many parallel tasks a step is divided into, from what its kind reports
/// (`StepKernel.split`: independent units and the work of each).
enum Parallelization {
    /// Work below this many flop-equivalents per task is not worth waking a thread (~2 us).
    static let minWorkPerTask = 24_000

    /// Tasks for `units` units of `perUnit` flop-equivalents each on `threads` threads.
    static func tasks(units: Int, perUnit: Int, threads: Int) -> Int {
        guard threads > 1, units > 1 else { return 1 }
        let total = units * max(perUnit, 1)
        let byWork = total / minWorkPerTask
        return max(1, min(units, threads * 4, byWork))
    }

    /// Sets `units` and `tasks` of `step` for a plan on `threads` threads and lets its kind
    /// precompute what the split run needs.
    static func split(_ step: inout Step, threads: Int) {
        let (units, perUnit) = step.kernel.split(threads: threads)
        let tasks = tasks(units: units, perUnit: perUnit, threads: threads)
        step.units = units
        step.tasks = tasks
        step.kernel.prepare(threads: threads, tasks: tasks)
    }
}
