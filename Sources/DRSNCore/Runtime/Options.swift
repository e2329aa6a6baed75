import DRSNOnnx

/// Load options (`drsn_options`). A value type: a model copies what it needs at load.
public struct Options: Sendable {
    /// Threads per run: 0 = one per available core, 1 = the calling thread only.
    public var numThreads: Int = 0
    /// Limits on what a model file may ask for.
    public var limits = OnnxLimits()
    /// Distinct input-shape plans a model keeps cached (least recently used evicted).
    public var planCacheCapacity = 16

    public init() {}

    public static let maxThreads = 256
}
