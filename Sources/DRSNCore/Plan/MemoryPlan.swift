/// Assigns every arena value an offset in one buffer so that values whose lifetimes
/// overlap never share memory (greedy, largest first). Offsets are 16-float (64-byte) aligned.
struct MemoryPlan {
    /// Offset of each value id in the arena, or nil for values that live elsewhere.
    var offsets: [Int?]
    /// Floats (not bytes) the values need: the end of the value region of the arena.
    var valueFloats: Int

    static let alignment = 16

    static func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// - Parameters:
    ///   - sizes: element count per value id.
    ///   - lifetimes: (first step, last step) per value id, nil for values that need no arena memory.
    static func make(sizes: [Int], lifetimes: [(Int, Int)?]) -> MemoryPlan {
        var order = Array(0..<sizes.count).filter { lifetimes[$0] != nil }
        order.sort { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var placed: [(offset: Int, end: Int, first: Int, last: Int)] = []
        var offsets = [Int?](repeating: nil, count: sizes.count)
        var end = 0
        for id in order {
            let (first, last) = lifetimes[id]!
            let size = align(max(sizes[id], 1))
            let conflicts = placed.filter { $0.first <= last && first <= $0.last }.sorted { $0.offset < $1.offset }
            var offset = 0
            for c in conflicts {
                if offset + size <= c.offset { break }
                offset = max(offset, c.end)
            }
            offsets[id] = offset
            placed.append((offset, offset + size, first, last))
            end = max(end, offset + size)
        }
        return MemoryPlan(offsets: offsets, valueFloats: end)
    }
}
