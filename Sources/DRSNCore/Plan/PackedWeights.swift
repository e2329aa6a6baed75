import DRSNKernels

/// Convolution weights in the kernel's packed order, one copy per weight tensor for the
/// life of a model: filled while the load-time probe plans are built (so packing happens
/// at load) and shared by every plan built later. Thread-safe.
final class PackedWeights: @unchecked Sendable {
    private let lock = Lock()
    private var buffers: [UnsafePointer<Float>: AlignedBuffer] = [:]

    /// The packed form of constant weights `w` of a convolution with parameters `p`
    /// (`convSupportsFusion(p)`), packed now if this is the first request. The pointer stays
    /// valid while this object lives.
    func packed(_ w: UnsafePointer<Float>, _ p: ConvParams, node: String) throws(DRSNError) -> UnsafePointer<Float> {
        try lock.withLock { () throws(DRSNError) -> UnsafePointer<Float> in
            if let b = buffers[w] { return UnsafePointer(b.pointer) }
            let count = convPackedWeightsCount(p)
            guard let buffer = AlignedBuffer(count: count) else {
                throw fail(.outOfMemory, "cannot allocate \(count * 4) bytes of packed weights for node '\(node)'")
            }
            packConvWeights(p, weights: w, output: buffer.pointer)
            buffers[w] = buffer
            return UnsafePointer(buffer.pointer)
        }
    }

    /// Floats held (for `inspect`-style accounting and tests).
    var floatCount: Int { lock.withLock { buffers.values.reduce(0) { $0 + $1.count } } }
}
