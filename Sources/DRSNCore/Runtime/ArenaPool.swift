/// Working memory for runs: each concurrent run takes its own arena and gives it back.
/// Thread-safe; in steady state (an arena large enough is free) taking one allocates nothing.
final class ArenaPool: @unchecked Sendable {
    private let lock = Lock()
    private var arenas: [AlignedBuffer] = []

    /// A free arena of at least `size` floats, or a new one (a free arena too small is dropped).
    func take(size: Int) throws(DRSNError) -> AlignedBuffer {
        if let a = lock.withLock({ () -> AlignedBuffer? in
            if let i = arenas.lastIndex(where: { $0.count >= size }) { return arenas.remove(at: i) }
            if !arenas.isEmpty { arenas.removeLast() }
            return nil
        }) { return a }
        guard let a = AlignedBuffer(count: size) else {
            throw fail(.outOfMemory, "cannot allocate \(size) floats of working memory")
        }
        return a
    }

    /// Returns an arena taken with `take`.
    func give(_ arena: AlignedBuffer) {
        lock.withLock { arenas.append(arena) }
    }
}
