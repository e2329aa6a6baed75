import DRSNKernels

/// Convolution weights in the kernel's packed order, one copy per weight tensor and kernel
/// layout for the life of a model: filled while the load-time probe plans are built (so
/// packing happens at load) and shared by every plan built later. Thread-safe.
final class PackedWeights: @unchecked Sendable {
    /// What a packed copy depends on: the weights, their shape and the kernel's layout for
    /// them (the same weights run through the direct kernel at one input size and through
    /// Winograd at another, e.g. with dynamic spatial dimensions).
    private struct Key: Hashable {
        let weights: UnsafePointer<Float>
        let outChannels: Int
        let inChannels: Int
        let kernelHeight: Int
        let kernelWidth: Int
        let winograd: Bool
    }

    private let lock = Lock()
    private var buffers: [Key: AlignedBuffer] = [:]

    /// The packed form of constant weights `w` of a convolution with parameters `p`
    /// (`convSupportsFusion(p)`), packed now if this is the first request for this layout.
    /// The pointer stays valid while this object lives.
    func packed(_ w: UnsafePointer<Float>, _ p: ConvParams, node: String) throws(DRSNError) -> UnsafePointer<Float> {
        let key = Key(weights: w, outChannels: p.outChannels, inChannels: p.inChannels, kernelHeight: p.kernelHeight,
                      kernelWidth: p.kernelWidth, winograd: activeKernels.convUsesWinograd(p))
        return try lock.withLock { () throws(DRSNError) -> UnsafePointer<Float> in
            if let b = buffers[key] { return UnsafePointer(b.pointer) }
            let count = activeKernels.convPackedWeightsCount(p)
            guard let buffer = AlignedBuffer(count: count) else {
                throw fail(.outOfMemory, "cannot allocate \(count * 4) bytes of packed weights for node '\(node)'")
            }
            activeKernels.packConvWeights(p, weights: w, output: buffer.pointer)
            buffers[key] = buffer
            return UnsafePointer(buffer.pointer)
        }
    }

    /// Floats held (for `inspect`-style accounting and tests).
    var floatCount: Int { lock.withLock { buffers.values.reduce(0) { $0 + $1.count } } }
}
