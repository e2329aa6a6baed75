import CDRSNSupport

/// A loaded, optimised model. Immutable after loading and safe to use from many threads at
/// once: plans per input shape are cached (`PlanCache`), and each concurrent run takes its
/// own arena from a pool (`ArenaPool`). Loading is `ModelLoader`.
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
    let packedWeights: PackedWeights
    private let plans: PlanCache
    private let arenas = ArenaPool()

    /// Loads an ONNX file; external data is resolved next to it.
    public static func load(path: String, options: Options = Options()) throws(DRSNError) -> Model {
        Model(try ModelLoader.load(path: path, options: options), options: options)
    }

    /// Loads an ONNX model from memory (no external data).
    public static func load(bytes: UnsafeRawBufferPointer, options: Options = Options()) throws(DRSNError) -> Model {
        Model(try ModelLoader.load(bytes: bytes, directory: nil, options: options), options: options)
    }

    init(_ loaded: ModelLoader.Loaded, options: Options) {
        self.graph = loaded.graph
        self.inputs = loaded.inputs
        self.outputs = loaded.outputs
        self.appliedPasses = loaded.appliedPasses
        self.importedOperatorCounts = loaded.importedOperatorCounts
        self.optimizedOperatorCounts = loaded.optimizedOperatorCounts
        self.parameterCount = loaded.parameterCount
        self.opset = loaded.opset
        self.producer = loaded.producer
        self.packedWeights = loaded.packedWeights
        self.options = options
        self.threads = effectiveThreads(options.numThreads)
        self.plans = PlanCache(capacity: options.planCacheCapacity)
    }

    /// Checks caller input shapes against the declared inputs.
    func validate(_ shapes: [[Int]]) throws(DRSNError) {
        guard shapes.count == inputs.count else {
            throw fail(.invalidArgument, "the model has \(inputs.count) input(s), \(shapes.count) given")
        }
        for (info, shape) in zip(inputs, shapes) {
            for d in shape {
                if let problem = InputDimension.problem(Int64(d)) {
                    throw fail(.shapeMismatch, "input '\(info.name)' of shape \(describe(shape)): \(problem)")
                }
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

    /// The plan for these input shapes, from the cache or built now (and refused, uncached,
    /// when its arena exceeds `options.maxArenaBytes`).
    func plan(for shapes: [[Int]]) throws(DRSNError) -> ExecutionPlan {
        if let p = plans.plan(matching: { $0 == shapes }) { return p }
        try validate(shapes)
        let plan = try ModelLoader.makePlan(graph, shapes, threads: threads, options: options, weights: packedWeights)
        try WorkingMemoryLimit.check(plan, shapes: shapes, limit: options.maxArenaBytes)
        plans.insert(plan, for: shapes)
        return plan
    }

    /// The plan for caller-owned shape arrays; allocation-free when the plan is cached.
    func plan(for shapes: RawShapes) throws(DRSNError) -> ExecutionPlan {
        if let p = plans.plan(matching: { shapes.equals($0) }) { return p }
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
        let arena = try arenas.take(size: plan.arenaSize)
        defer { arenas.give(arena) }
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
