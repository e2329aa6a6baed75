/// The limit on a run's working memory (`Options.maxArenaBytes`,
/// `DRSN_LIMIT_MAX_ARENA_BYTES`): a plan whose arena (values and per-thread scratch,
/// `ExecutionPlan.arenaSize` floats) needs more bytes is refused before any run allocates it.
///
/// Checked by `Model.plan(for:)` for every plan it builds (before it is cached: a refused
/// plan is not kept, and the same shapes are refused again), and at load for the probe plan
/// of the declared shapes (`ModelLoader.probeOutputs`; one thread, so a lower bound).
enum WorkingMemoryLimit {
    /// Bytes of the plan's arena (saturating at `Int.max`).
    static func bytes(_ plan: ExecutionPlan) -> Int {
        let (bytes, overflow) = plan.arenaSize.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        return overflow ? Int.max : bytes
    }

    /// Throws `.limitExceeded` when `plan` needs more than `limit` bytes; the message names
    /// the input shapes, the need, the limit and both names of the setting.
    static func check(_ plan: ExecutionPlan, shapes: [[Int]], limit: Int) throws(DRSNError) {
        let need = bytes(plan)
        guard need > limit else { return }
        let inputs = shapes.map(describe).joined(separator: ", ")
        throw fail(.limitExceeded, "input shapes \(inputs): a run needs \(need) bytes (\(readable(need))) of working memory on \(plan.threads) thread(s), more than the limit max_arena_bytes (DRSN_LIMIT_MAX_ARENA_BYTES) of \(limit) bytes (\(readable(limit))); use smaller inputs (a smaller batch) or raise the limit")
    }

    /// A byte count in KiB, MiB or GiB with one decimal ("1.5 GiB").
    static func readable(_ bytes: Int) -> String {
        let units = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        for (name, size) in units where bytes >= size {
            let tenths = Int((Double(bytes) / Double(size) * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) \(name)"
        }
        return "\(bytes) B"
    }
}
