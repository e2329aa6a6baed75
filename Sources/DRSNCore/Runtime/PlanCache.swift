/// A model's execution plans by input shapes, bounded to `capacity` plans (least recently
/// used evicted). Thread-safe; a lookup of a cached plan allocates nothing (linear search
/// with a caller-supplied comparison, no hashing of the shapes).
final class PlanCache: @unchecked Sendable {
    private let lock = Lock()
    private var plans: [(shapes: [[Int]], plan: ExecutionPlan, lastUse: Int)] = []
    private var clock = 0
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The cached plan whose shapes satisfy `matches`, if any (allocation-free).
    func plan(matching matches: ([[Int]]) -> Bool) -> ExecutionPlan? {
        lock.withLock { () -> ExecutionPlan? in
            clock += 1
            for i in 0..<plans.count where matches(plans[i].shapes) {
                plans[i].lastUse = clock
                return plans[i].plan
            }
            return nil
        }
    }

    /// Caches `plan` for `shapes` unless another thread cached one meanwhile.
    func insert(_ plan: ExecutionPlan, for shapes: [[Int]]) {
        lock.withLock {
            clock += 1
            if plans.contains(where: { $0.shapes == shapes }) { return }
            if plans.count >= capacity, let oldest = plans.indices.min(by: { plans[$0].lastUse < plans[$1].lastUse }) {
                plans.remove(at: oldest)
            }
            plans.append((shapes, plan, clock))
        }
    }
}
