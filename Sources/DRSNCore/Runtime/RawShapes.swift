/// Input shapes in caller-owned C arrays (`const int64_t* const* dims`, `const size_t* ranks`),
/// compared against cached plans without copying. The caller guarantees `count` entries,
/// each `ranks[i]` dims long and every dim already range-checked.
public struct RawShapes {
    public let count: Int
    public let dims: UnsafePointer<UnsafePointer<Int64>?>
    public let ranks: UnsafePointer<Int>

    public init(count: Int, dims: UnsafePointer<UnsafePointer<Int64>?>, ranks: UnsafePointer<Int>) {
        self.count = count
        self.dims = dims
        self.ranks = ranks
    }

    func equals(_ shapes: [[Int]]) -> Bool {
        guard shapes.count == count else { return false }
        for i in 0..<count {
            let rank = ranks[i]
            guard shapes[i].count == rank else { return false }
            guard rank > 0 else { continue }
            guard let d = dims[i] else { return false }
            for k in 0..<rank where Int64(shapes[i][k]) != d[k] { return false }
        }
        return true
    }

    var arrays: [[Int]] {
        (0..<count).map { i in (0..<ranks[i]).map { k in Int(dims[i]![k]) } }
    }
}
