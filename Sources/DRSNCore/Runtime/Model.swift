import CDRSNSupport
import DRSNOnnx

/// A loaded, optimised model. Immutable after loading and safe to use from many threads at
/// once: plans per input shape are cached under a lock, and each concurrent run takes its
/// own arena from a pool.
public final class Model: @unchecked Sendable {
    public let inputs: [TensorInfo]
    public let outputs: [TensorInfo]
    /// Graph passes that changed the graph at load.
    public let appliedPasses: [String]
    /// Operator counts of the file as loaded and after the graph passes.
    public let importedOperatorCounts: [String: Int]
    public let optimizedOperatorCounts: [String: Int]
    /// Floating-point parameters stored in the file (initializers and constants).
    public let parameterCount: Int
    public let opset: Int
    public let producer: String
    public let options: Options
    /// Threads one run uses (the option resolved against the available CPUs).
    public let threads: Int
    let graph: Graph
    /// Convolution weights packed for the kernels, once per model (at load, by the probe plans).
    let packedWeights = PackedWeights()

    private let lock = Lock()
    /// Cached plans by input shapes; searched linearly so a lookup allocates nothing.
    private var plans: [(shapes: [[Int]], plan: ExecutionPlan, lastUse: Int)] = []
    private var clock = 0
    private var arenas: [AlignedBuffer] = []

    /// Loads an ONNX file; external data is resolved next to it.
    public static func load(path: String, options: Options = Options()) throws(DRSNError) -> Model {
        let bytes: [UInt8]
        do {
            bytes = try OnnxReader.readFile(path, limits: options.limits)
        } catch {
            throw OnnxImporter.status(error)
        }
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let result = bytes.withUnsafeBytes { raw -> Result<Model, DRSNError> in
            do throws(DRSNError) {
                return .success(try Model(bytes: raw, directory: directory, options: options))
            } catch {
                return .failure(DRSNError(error.status, "\(path): \(error.message)"))
            }
        }
        return try result.get()
    }

    /// Loads an ONNX model from memory (no external data).
    public static func load(bytes: UnsafeRawBufferPointer, options: Options = Options()) throws(DRSNError) -> Model {
        try Model(bytes: bytes, directory: nil, options: options)
    }

    init(bytes: UnsafeRawBufferPointer, directory: String?, options: Options) throws(DRSNError) {
        let proto: ModelProto
        do {
            proto = try OnnxReader.decodeModel(bytes, limits: options.limits)
        } catch {
            throw OnnxImporter.status(error)
        }
        var graph = try OnnxImporter.graph(from: proto, directory: directory, limits: options.limits)
        for i in graph.inputs {
            guard i.dtype == .float32 else {
                throw fail(.unsupported, "graph input '\(i.name)' has type \(i.dtype); drsn accepts FLOAT inputs only")
            }
        }
        var importedOps: [String: Int] = [:]
        for n in proto.graph?.nodes ?? [] { importedOps[n.opType, default: 0] += 1 }
        self.importedOperatorCounts = importedOps
        self.opset = graph.opset
        self.producer = proto.producerName + (proto.producerVersion.isEmpty ? "" : " " + proto.producerVersion)
        self.parameterCount = graph.constants.values.reduce(0) { $0 + ($1.dtype.isFloatingPoint ? $1.count : 0) }
        appliedPasses = try GraphOptimizer.run(&graph, maxValueElements: options.maxValueElements)
        var optimizedOps: [String: Int] = [:]
        for n in graph.nodes { optimizedOps[n.opType, default: 0] += 1 }
        self.optimizedOperatorCounts = optimizedOps
        self.graph = graph
        self.options = options
        self.threads = effectiveThreads(options.numThreads)
        self.inputs = graph.inputs.map { info in
            TensorInfo(name: info.name, dtype: info.dtype, dims: info.dims?.map { d in
                if case .fixed(let n) = d { return n }
                return -1
            })
        }
        // Bind to a few probe shapes (dynamic dimensions filled in) to validate the graph at
        // load and to learn which output dimensions follow dynamic input dimensions.
        var outputs = graph.outputs.map { TensorInfo(name: $0.name, dtype: $0.dtype, dims: nil) }
        var probes: [ExecutionPlan] = []
        var firstError: DRSNError? = nil
        for k in 0..<Model.probeBatches.count where probes.count < 2 {
            guard let shapes = Model.probeShapes(inputs, probe: k) else { break }
            do throws(DRSNError) {
                probes.append(try Model.makePlan(graph, shapes, options: options, weights: packedWeights))
            } catch {
                // A probe size may not fit the model (e.g. a Reshape needing an even batch):
                // shape errors try the next probe, anything else fails the load.
                guard error.status == .shapeMismatch else { throw error }
                if firstError == nil { firstError = error }
            }
            if Model.probeShapes(inputs, probe: 1) == shapes { break }  // nothing is dynamic
        }
        if probes.isEmpty, let firstError, Model.probeShapes(inputs, probe: 0) != nil { throw firstError }
        if let p1 = probes.first {
            var dims = p1.outputShapes
            if probes.count > 1 {
                let p2 = probes[1]
                for j in 0..<dims.count {
                    if dims[j].count != p2.outputShapes[j].count { continue }
                    for d in 0..<dims[j].count where dims[j][d] != p2.outputShapes[j][d] { dims[j][d] = -1 }
                }
            }
            for j in 0..<outputs.count {
                outputs[j].dims = dims[j]
                outputs[j].dtype = p1.outputTypes[j]
            }
        }
        self.outputs = outputs
    }

    /// Probe values for a dynamic leading (batch) dimension and for other dynamic dimensions.
    static let probeBatches = [1, 2, 3, 4]
    static let probeLengths = [64, 96, 128, 160]

    /// Concrete input shapes for probe `k`; nil when some input declares no shape.
    static func probeShapes(_ inputs: [TensorInfo], probe k: Int) -> [[Int]]? {
        var shapes: [[Int]] = []
        for info in inputs {
            guard let dims = info.dims else { return nil }
            shapes.append(dims.enumerated().map { i, d in d >= 0 ? d : (i == 0 ? probeBatches[k] : probeLengths[k]) })
        }
        return shapes
    }

    static func makePlan(_ graph: Graph, _ shapes: [[Int]], threads: Int = 1, options: Options,
                         weights: PackedWeights) throws(DRSNError) -> ExecutionPlan {
        try ExecutionPlan(binding: try Binder.bind(graph, inputShapes: shapes, maxValueElements: options.maxValueElements),
                          threads: threads, weights: weights)
    }

    /// Checks caller input shapes against the declared inputs.
    func validate(_ shapes: [[Int]]) throws(DRSNError) {
        guard shapes.count == inputs.count else {
            throw fail(.invalidArgument, "the model has \(inputs.count) input(s), \(shapes.count) given")
        }
        for (info, shape) in zip(inputs, shapes) {
            for d in shape where d < 1 || d > HeaderConstants.maxDimension {
                throw fail(.shapeMismatch, "input '\(info.name)': dimensions must be between 1 and 2^31, got \(describe(shape))")
            }
            guard let dims = info.dims else { continue }
            let expected = "[" + dims.map { $0 < 0 ? "?" : String($0) }.joined(separator: ", ") + "]"
            guard dims.count == shape.count else {
                throw fail(.shapeMismatch, "input '\(info.name)': expected rank \(dims.count) \(expected), got rank \(shape.count) \(describe(shape))")
            }
            for (d, s) in zip(dims, shape) where d >= 0 && d != s {
                throw fail(.shapeMismatch, "input '\(info.name)': expected shape \(expected), got \(describe(shape))")
            }
        }
    }

    /// The cached plan whose shapes satisfy `matches`, if any (allocation-free).
    private func cachedPlan(_ matches: ([[Int]]) -> Bool) -> ExecutionPlan? {
        lock.withLock { () -> ExecutionPlan? in
            clock += 1
            for i in 0..<plans.count where matches(plans[i].shapes) {
                plans[i].lastUse = clock
                return plans[i].plan
            }
            return nil
        }
    }

    /// The plan for these input shapes, from the cache or built now.
    func plan(for shapes: [[Int]]) throws(DRSNError) -> ExecutionPlan {
        if let p = cachedPlan({ $0 == shapes }) { return p }
        try validate(shapes)
        let plan = try Model.makePlan(graph, shapes, threads: threads, options: options, weights: packedWeights)
        lock.withLock {
            clock += 1
            if plans.contains(where: { $0.shapes == shapes }) { return }
            if plans.count >= max(1, options.planCacheCapacity),
               let oldest = plans.indices.min(by: { plans[$0].lastUse < plans[$1].lastUse }) {
                plans.remove(at: oldest)
            }
            plans.append((shapes, plan, clock))
        }
        return plan
    }

    /// The plan for caller-owned shape arrays; allocation-free when the plan is cached.
    func plan(for shapes: RawShapes) throws(DRSNError) -> ExecutionPlan {
        if let p = cachedPlan({ shapes.equals($0) }) { return p }
        return try plan(for: shapes.arrays)
    }

    public func outputShapes(for inputShapes: [[Int]]) throws(DRSNError) -> [[Int]] {
        try plan(for: inputShapes).outputShapes
    }

    /// Runs the model on caller memory. `outputCapacities[j]` is the number of floats
    /// `outputs[j]` can hold.
    public func run(inputs: [UnsafePointer<Float>], inputShapes: [[Int]], outputs: [UnsafeMutablePointer<Float>],
                    outputCapacities: [Int]) throws(DRSNError) {
        let plan = try plan(for: inputShapes)
        try inputs.withUnsafeBufferPointer { (ins) throws(DRSNError) in
            try outputs.withUnsafeBufferPointer { (outs) throws(DRSNError) in
                try outputCapacities.withUnsafeBufferPointer { (caps) throws(DRSNError) in
                    try execute(plan, inputs: ins, outputs: outs, outputCapacities: caps)
                }
            }
        }
    }

    /// The allocation-free run path for caller-owned pointer arrays (the C API).
    public func run(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, inputShapes: RawShapes,
                    outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>,
                    outputCapacities: UnsafeBufferPointer<Int>) throws(DRSNError) {
        try execute(try plan(for: inputShapes), inputs: inputs, outputs: outputs, outputCapacities: outputCapacities)
    }

    private func execute(_ plan: ExecutionPlan, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                         outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>,
                         outputCapacities: UnsafeBufferPointer<Int>, zeroCounts: [UnsafeMutablePointer<Float>] = [],
                         tauCopies: [UnsafeMutablePointer<Float>] = []) throws(DRSNError) {
        guard inputs.count == self.inputs.count else {
            throw fail(.invalidArgument, "the model has \(self.inputs.count) input(s), \(inputs.count) given")
        }
        guard outputs.count == self.outputs.count, outputCapacities.count == outputs.count else {
            throw fail(.invalidArgument, "the model has \(self.outputs.count) output(s), \(outputs.count) given")
        }
        for j in 0..<outputs.count {
            let need = plan.outputElementCounts[j]
            // A capacity below 0 is a C size_t above Int.max: huge, so enough.
            guard outputCapacities[j] < 0 || outputCapacities[j] >= need else {
                throw fail(.bufferTooSmall, "output '\(self.outputs[j].name)' of shape \(describe(plan.outputShapes[j])) needs \(need) floats, buffer holds \(outputCapacities[j])")
            }
        }
        let arena = try takeArena(size: plan.arenaSize)
        defer { lock.withLock { arenas.append(arena) } }
        var executor = Executor(plan: plan, arena: arena.pointer, inputs: inputs, outputs: outputs)
        executor.zeroCounts = zeroCounts
        executor.tauCopies = tauCopies
        executor.run()
    }

    /// The shrinkage units the optimiser fused for these input shapes, in graph order.
    public func shrinkageUnits(for inputShapes: [[Int]]) throws(DRSNError) -> [ShrinkageUnitInfo] {
        try plan(for: inputShapes).shrinkageUnits.map(ShrinkageUnitInfo.init)
    }

    /// Runs like `run` and also reports, per fused shrinkage unit u and sample n, the learned
    /// thresholds (`thresholds[u]`: batch x thresholdsPerSample floats) and the fraction of the
    /// unit's features that soft thresholding set to zero (`zeroFractions[u]`: batch floats).
    /// Allocates per call; meant for analysis, not the hot path.
    public func runIntrospecting(inputs: [UnsafePointer<Float>], inputShapes: [[Int]], outputs: [UnsafeMutablePointer<Float>],
                                 outputCapacities: [Int], thresholds: [UnsafeMutablePointer<Float>],
                                 zeroFractions: [UnsafeMutablePointer<Float>]) throws(DRSNError) {
        let plan = try plan(for: inputShapes)
        let units = plan.shrinkageUnits
        guard thresholds.count == units.count, zeroFractions.count == units.count else {
            throw fail(.invalidArgument, "the model has \(units.count) shrinkage unit(s) for these shapes; \(thresholds.count) threshold and \(zeroFractions.count) zero-fraction buffers given")
        }
        var counts: [AlignedBuffer] = []
        var taus: [AlignedBuffer] = []
        for u in units {
            guard let c = AlignedBuffer(count: u.planes), let t = AlignedBuffer(count: u.tauSize) else {
                throw fail(.outOfMemory, "cannot allocate introspection buffers")
            }
            counts.append(c)
            taus.append(t)
        }
        try inputs.withUnsafeBufferPointer { (ins) throws(DRSNError) in
            try outputs.withUnsafeBufferPointer { (outs) throws(DRSNError) in
                try outputCapacities.withUnsafeBufferPointer { (caps) throws(DRSNError) in
                    try execute(plan, inputs: ins, outputs: outs, outputCapacities: caps,
                                zeroCounts: counts.map(\.pointer), tauCopies: taus.map(\.pointer))
                }
            }
        }
        for (k, u) in units.enumerated() {
            let info = ShrinkageUnitInfo(u)
            let perSample = info.thresholdsPerSample
            for n in 0..<u.batch {
                for t in 0..<perSample {
                    thresholds[k][n * perSample + t] = taus[k].pointer[info.tauIsPerSample ? n * perSample + t : t]
                }
                let planesPerSample = u.planes / max(u.batch, 1)
                var zeros: Float = 0
                for p in (n * planesPerSample)..<((n + 1) * planesPerSample) { zeros += counts[k].pointer[p] }
                zeroFractions[k][n] = zeros / Float(max(info.featuresPerSample, 1))
            }
        }
    }

    private func takeArena(size: Int) throws(DRSNError) -> AlignedBuffer {
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

    /// Convenience for Swift callers and tests: runs on arrays and returns the outputs.
    public func run(_ inputs: [[Float]], shapes: [[Int]]) throws(DRSNError) -> [[Float]] {
        let outShapes = try outputShapes(for: shapes)
        for (x, s) in zip(inputs, shapes) where x.count != s.reduce(1, *) {
            throw fail(.shapeMismatch, "input has \(x.count) values, shape \(describe(s)) needs \(s.reduce(1, *))")
        }
        let buffers = try outShapes.map { (s) throws(DRSNError) -> AlignedBuffer in
            guard let b = AlignedBuffer(count: s.reduce(1, *)) else { throw fail(.outOfMemory, "output allocation failed") }
            return b
        }
        let inputBuffers = try inputs.map { (x) throws(DRSNError) -> AlignedBuffer in
            guard let b = AlignedBuffer(copying: x) else { throw fail(.outOfMemory, "input allocation failed") }
            return b
        }
        // The buffers must outlive the run: the pointers below do not keep them alive.
        try withExtendedLifetime((inputBuffers, buffers)) { () throws(DRSNError) in
            try run(inputs: inputBuffers.map { UnsafePointer($0.pointer) }, inputShapes: shapes,
                    outputs: buffers.map(\.pointer), outputCapacities: buffers.map(\.count))
        }
        return buffers.map(\.array)
    }
}
