/// A constant tensor: an initializer, a Constant node's value, or a value computed at load
/// or bind time. Floating-point types are stored as Float in an aligned buffer (so kernels
/// can read them in place); integer and bool types are stored as Int64.
public struct Tensor: Sendable {
    public enum Storage: Sendable {
        case floats(AlignedBuffer)
        case ints([Int64])
    }

    public var dtype: DType
    public var shape: [Int]
    public var storage: Storage

    public var count: Int { shape.reduce(1, *) }

    public init(floats: [Float], shape: [Int], dtype: DType = .float32) throws(DRSNError) {
        guard let buffer = AlignedBuffer(copying: floats) else {
            throw fail(.outOfMemory, "cannot allocate \(floats.count) floats for a constant")
        }
        self.dtype = dtype
        self.shape = shape
        self.storage = .floats(buffer)
    }

    public init(buffer: AlignedBuffer, shape: [Int], dtype: DType = .float32) {
        self.dtype = dtype
        self.shape = shape
        self.storage = .floats(buffer)
    }

    public init(ints: [Int64], shape: [Int], dtype: DType = .int64) {
        self.dtype = dtype
        self.shape = shape
        self.storage = .ints(ints)
    }

    /// The values as Float (integers converted).
    public var floatValues: [Float] {
        switch storage {
        case .floats(let b): return b.array
        case .ints(let v): return v.map { Float($0) }
        }
    }

    /// The values as Int64 (floats truncated toward zero; NaN/inf become 0).
    public var intValues: [Int64] {
        switch storage {
        case .ints(let v): return v
        case .floats(let b):
            return UnsafeBufferPointer(start: b.pointer, count: b.count).map(Tensor.int64)
        }
    }

    /// `f` truncated toward zero; NaN, infinities and values outside Int64 become 0.
    static func int64(_ f: Float) -> Int64 {
        guard f.isFinite, f > -9.2e18, f < 9.2e18 else { return 0 }
        return Int64(f)
    }

    /// Same values, new shape (element count must match; checked by callers).
    func reshaped(_ newShape: [Int]) -> Tensor {
        var t = self
        t.shape = newShape
        return t
    }

    /// A tensor with the given element values taken from `self` by flat source index.
    func gathered(_ sourceIndices: [Int], shape newShape: [Int]) throws(DRSNError) -> Tensor {
        switch storage {
        case .ints(let v):
            return Tensor(ints: sourceIndices.map { v[$0] }, shape: newShape, dtype: dtype)
        case .floats(let b):
            let p = b.pointer
            return try Tensor(floats: sourceIndices.map { p[$0] }, shape: newShape, dtype: dtype)
        }
    }

    /// Whether both tensors view the same stored values (a reshape or alias of one another).
    func sharesStorage(with other: Tensor) -> Bool {
        switch (storage, other.storage) {
        case (.floats(let a), .floats(let b)): return a === b
        case (.ints(let a), .ints(let b)):
            return a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
        default: return false
        }
    }

    /// The scalar value of a one-element tensor.
    var scalarInt: Int64? { count == 1 ? intValues.first : nil }
    var scalarFloat: Float? { count == 1 ? floatValues.first : nil }
}
