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
        for step in steps {
            let name = "\(step.kind)"
            let kind = String(name.prefix { $0 != "(" })
            counts[kind, default: 0] += 1
        }
        return counts
    }

    /// Multiply-add FLOPs (2 per MAC) of the convolutions and matrix products of one run.
    var flops: Int {
        steps.reduce(0) { total, step in
            switch step.kind {
            case .conv(let p, _, _):
                return total + 2 * p.batch * p.outChannels * p.outHeight * p.outWidth * (p.inChannels / max(p.groups, 1)) * p.kernelHeight * p.kernelWidth
            case .gemm(_, _, let m, let n, let k, _, _, _):
                return total + 2 * m * n * k
            case .batchedMatMul(let b, let m, let n, let k, _, _):
                return total + 2 * b * m * n * k
            case .thresholdNetwork(let batch, let inChannels, let hidden, let outChannels, _, _, _, _):
                return total + 2 * batch * (inChannels + outChannels) * hidden
            default:
                return total
            }
        }
    }

    /// Rows of op(A) of a gemm step (m), which the split ranges index.
    func gemmRows(_ step: Step) -> Int {
        if case .gemm(_, _, let m, _, _, _, _, _) = step.kind { return m }
        return 0
    }

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
                    steps.append(Step(kind: .copy(count: sizes[id]), inputs: [.value(id)], outputs: [newId],
                                      scratch: 0, nodeName: "output copy"))
                    id = newId
                }
                locations[id] = .output(j)
            }
        }

        var protectedIds = Set(binding.inputIds)
        for (id, loc) in locations.enumerated() where loc != nil { protectedIds.insert(id) }
        let units = fuse ? ShrinkageFusion.run(&steps, protected: protectedIds, sizes: sizes) : []
        if fuse {
            ThresholdNetworkFusion.run(&steps)
            ThresholdNetworkFusion.fuseScaleShiftRelu(&steps, protected: protectedIds)
        }
        let packed = weights ?? PackedWeights()
        try ConvFusionPass.run(&steps, protected: protectedIds, fuse: fuse, weights: packed)

        // Dead step elimination: keep steps whose outputs reach a graph output.
        var needed = [Bool](repeating: false, count: valueCount)
        for (id, loc) in locations.enumerated() { if case .output = loc { needed[id] = true } }
        var live = [Bool](repeating: false, count: steps.count)
        for s in stride(from: steps.count - 1, through: 0, by: -1) where steps[s].outputs.contains(where: { needed[$0] }) {
            live[s] = true
            for case .value(let id) in steps[s].inputs { needed[id] = true }
        }
        steps = steps.enumerated().filter { live[$0.offset] }.map(\.element)

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
        for i in 0..<steps.count {
            let tasks = Parallelization.tasks(for: steps[i].kind, threads: threads)
            steps[i].tasks = tasks
            switch steps[i].kind {
            case .binary(_, _, _, let shape), .select(_, _, _, let shape):
                guard tasks > 1, let rows = shape.first else { break }
                steps[i].partShapes = (0..<tasks).map { t in
                    var part = shape
                    part[0] = rows * (t + 1) / tasks - rows * t / tasks
                    return part
                }
            default:
                break
            }
        }
        let usedThreads = steps.contains { $0.tasks > 1 } ? threads : 1
        let scratch = MemoryPlan.align(steps.map(\.scratch).max() ?? 0)
        self.shrinkageUnits = units
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
