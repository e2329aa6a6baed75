import DRSNOnnx

/// Load options (`drsn_options`). A value type: a model copies what it needs at load.
public struct Options: Sendable {
    /// Threads per run: 0 = one per available core, 1 = the calling thread only.
    public var numThreads: Int = 0
    /// Limits on what a model file may ask for.
    public var limits = OnnxLimits()
    /// Most elements of any tensor computed while running (inputs included).
    public var maxValueElements = 1 << 27
    /// Most bytes of working memory (the arena) one run may need: a plan that needs more is
    /// refused (`WorkingMemoryLimit`). Default 4 GiB.
    public var maxArenaBytes = 4 << 30
    /// Distinct input-shape plans a model keeps cached (least recently used evicted).
    public var planCacheCapacity = 16

    public init() {}

    public static var maxThreads: Int { HeaderConstants.maxThreads }
}

/// Resource limits by their `drsn_limit` number.
public enum Limit: Int32, Sendable {
    case maxFileBytes = 1, maxTensorElements, maxTotalTensorBytes, maxNodes, maxRank, maxValueElements, maxArenaBytes
}

extension Options {
    public subscript(limit: Limit) -> Int {
        get {
            switch limit {
            case .maxFileBytes: return limits.maxFileBytes
            case .maxTensorElements: return limits.maxTensorElements
            case .maxTotalTensorBytes: return limits.maxTotalTensorBytes
            case .maxNodes: return limits.maxNodes
            case .maxRank: return limits.maxRank
            case .maxValueElements: return maxValueElements
            case .maxArenaBytes: return maxArenaBytes
            }
        }
        set {
            switch limit {
            case .maxFileBytes: limits.maxFileBytes = newValue
            case .maxTensorElements: limits.maxTensorElements = newValue
            case .maxTotalTensorBytes: limits.maxTotalTensorBytes = newValue
            case .maxNodes: limits.maxNodes = newValue
            case .maxRank: limits.maxRank = newValue
            case .maxValueElements: maxValueElements = newValue
            case .maxArenaBytes: maxArenaBytes = newValue
            }
        }
    }
}
