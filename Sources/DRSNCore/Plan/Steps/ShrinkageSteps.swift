import DRSNKernels

/// Fused soft thresholding of a shrinkage unit (ShrinkageFusion): inputs r, tau, [residual];
/// tau[tauOffsets[plane]] per plane of `planeSize` elements. Units are planes.
struct ShrinkStep: StepKernel {
    var planeSize: Int
    var tauOffsets: [Int]
    var residual: Bool
    /// The shrinkage unit (index into the plan's `shrinkageUnits`).
    var unit: Int

    var name: String { "shrink" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (tauOffsets.count, planeSize * 3) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        tauOffsets.withUnsafeBufferPointer { offsets in
            activeKernels.shrink(input: ctx.input(0), tau: ctx.input(1), tauOffsets: offsets.baseAddress!,
                                 residual: residual ? ctx.input(2) : nil, output: ctx.output(), planes: units,
                                 planeSize: planeSize, zeroCounts: ctx.zeroCounts(unit: unit))
        }
    }
}

/// The shrinkage threshold network (ThresholdNetworkFusion) as one step:
/// tau = a * sigmoid(FC2(relu(FC1(m)))). Inputs m [batch, inChannels], a [batch, outChannels],
/// W1, W2, [b1], [b2]. Units are samples.
struct ThresholdNetworkStep: StepKernel {
    var batch: Int, inChannels: Int, hidden: Int, outChannels: Int
    var transB1: Bool, transB2: Bool, bias1: Bool, bias2: Bool

    var name: String { "thresholdNetwork" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (batch, (inChannels + outChannels) * hidden * 2) }
    var flops: Int { 2 * batch * (inChannels + outChannels) * hidden }
    /// The hidden activations of one sample.
    var scratchFloats: Int { MemoryPlan.align(hidden) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.thresholdNetwork(m: ctx.input(0), a: ctx.input(1), w1: ctx.input(2), b1: bias1 ? ctx.input(4) : nil,
                                       w2: ctx.input(3), b2: bias2 ? ctx.input(bias1 ? 5 : 4) : nil, tau: ctx.output(), rows: units,
                                       channels: inChannels, hiddenCount: hidden, outChannels: outChannels,
                                       transB1: transB1, transB2: transB2, hidden: ctx.scratch)
    }
}

/// Per-plane mean of |x|. Units are planes.
struct AbsMeanStep: StepKernel {
    var planes: Int, planeSize: Int

    var name: String { "absMean" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (planes, planeSize) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.absMean(input: ctx.input(0) + units.lowerBound * planeSize, output: ctx.output() + units.lowerBound,
                              planes: units.count, planeSize: planeSize)
    }
}
