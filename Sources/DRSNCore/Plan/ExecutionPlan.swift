/// Where a runtime value's data lives during a run.
enum Location {
    case arena(Int)
    case input(Int)
    case output(Int)
}

/// Everything needed to run a graph for one set of concrete input shapes: the steps, where
/// each value lives, the arena size, and the output shapes. Immutable; shared by all runs
/// with these shapes.
final class ExecutionPlan: @unchecked Sendable {
    let steps: [Step]
    let locations: [Location]
    /// Floats of arena memory per run (values, then scratch at `scratchOffset`).
    let arenaSize: Int
    let scratchOffset: Int
    /// Threads a run of this plan may use, and the scratch floats each of them gets.
    let threads: Int
    let scratchPerWorker: Int
    /// Fused shrinkage units, in graph order (introspection reads their thresholds).
    let shrinkageUnits: [ShrinkageFusion.Unit]
    /// What each plan pass did (`PlanPasses`), in pipeline order.
    let passReport: [PlanPasses.Entry]
    let outputShapes: [[Int]]
    let outputElementCounts: [Int]
    let outputTypes: [DType]
    /// Outputs that are constants: copied from these buffers into the caller's output.
    let constantOutputs: [(output: Int, data: AlignedBuffer)]
    private let keepAlive: [AlignedBuffer]
    /// Owner of the packed weights the conv steps point into.
    private let packedWeights: PackedWeights

    /// How many steps of each kind a run executes (for `inspect`).
    var stepCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for step in steps { counts[step.kernel.name, default: 0] += 1 }
        return counts
    }

    /// Multiply-add FLOPs (2 per MAC) of the convolutions and matrix products of one run.
    var flops: Int { steps.reduce(0) { $0 + $1.kernel.flops } }

    /// `weights`: where packed convolution weights come from (shared by a model's plans; a
    /// plan of its own when nil).
    init(binding: Binder.Result, threads: Int = 1, fuse: Bool = true, weights: PackedWeights? = nil) throws(DRSNError) {
        let builder = binding.builder
        var steps = builder.steps
        var valueCount = builder.valueSizes.count
        var sizes = builder.valueSizes
        var locations = [Location?](repeating: nil, count: valueCount)
        for (i, id) in binding.inputIds.enumerated() { locations[id] = .input(i) }

        var shapes: [[Int]] = []
        var types: [DType] = []
        var constants: [(Int, AlignedBuffer)] = []
        var extra: [AlignedBuffer] = []
        for (j, out) in binding.outputs.enumerated() {
            shapes.append(out.shape)
            types.append(out.dtype)
            switch out {
            case .constant(let t):
                let buffer: AlignedBuffer
                switch t.storage {
                case .floats(let b): buffer = b
                case .ints(let v):
                    guard let b = AlignedBuffer(copying: v.map { Float($0) }) else {
                        throw fail(.outOfMemory, "cannot allocate a constant output")
                    }
                    buffer = b
                }
                constants.append((j, buffer))
                extra.append(buffer)
            case .runtime(let r):
                var id = r.id
                if locations[id] != nil {
                    // The value is a graph input or already another output: copy it.
                    let newId = valueCount
                    valueCount += 1
                    sizes.append(sizes[id])
                    locations.append(nil)
                    steps.append(Step(CopyStep(count: sizes[id]), inputs: [.value(id)], outputs: [newId],
                                      nodeName: "output copy"))
                    id = newId
                }
                locations[id] = .output(j)
            }
        }

        var protectedIds = Set(binding.inputIds)
        for (id, loc) in locations.enumerated() where loc != nil { protectedIds.insert(id) }
        var isOutput = [Bool](repeating: false, count: valueCount)
        for (id, loc) in locations.enumerated() { if case .output = loc { isOutput[id] = true } }
        let packed = weights ?? PackedWeights()
        let passes = try PlanPasses.run(steps, protected: protectedIds, sizes: sizes, isOutput: isOutput, fuse: fuse,
                                        weights: packed)
        steps = passes.steps
        let units = passes.shrinkageUnits

        // Lifetimes of arena values.
        var lifetimes = [(Int, Int)?](repeating: nil, count: valueCount)
        for (s, step) in steps.enumerated() {
            for id in step.outputs where locations[id] == nil {
                lifetimes[id] = (lifetimes[id]?.0 ?? s, max(lifetimes[id]?.1 ?? s, s))
            }
            for case .value(let id) in step.inputs where locations[id] == nil {
                if let l = lifetimes[id] { lifetimes[id] = (l.0, max(l.1, s)) }
            }
        }
        let memory = MemoryPlan.make(sizes: sizes, lifetimes: lifetimes)
        var resolved: [Location] = []
        for id in 0..<valueCount {
            if let l = locations[id] { resolved.append(l) } else { resolved.append(.arena(memory.offsets[id] ?? 0)) }
        }
        for i in 0..<steps.count { Parallelization.split(&steps[i], threads: threads) }
        let usedThreads = steps.contains { $0.tasks > 1 } ? threads : 1
        let scratch = MemoryPlan.align(steps.map(\.scratch).max() ?? 0)
        self.shrinkageUnits = units
        self.passReport = passes.report
        self.threads = usedThreads
        self.scratchPerWorker = scratch
        self.steps = steps
        self.locations = resolved
        self.scratchOffset = memory.valueFloats
        self.arenaSize = memory.valueFloats + scratch * usedThreads
        self.outputShapes = shapes
        self.outputElementCounts = shapes.map { $0.reduce(1, *) }
        self.outputTypes = types
        self.constantOutputs = constants
        self.keepAlive = builder.keepAlive + extra
        self.packedWeights = packed
    }
}
