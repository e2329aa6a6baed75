import DRSNKernels

/// Where a step reads an operand from.
enum Operand {
    /// A runtime value (arena, caller input or caller output, resolved by the memory plan).
    case value(Int)
    /// Constant data that the plan keeps alive.
    case constant(UnsafePointer<Float>)
}

/// One kernel invocation with every shape and parameter resolved.
enum StepKind {
    case conv(ConvParams, activation: Activation, fusion: ConvStepFusion = ConvStepFusion()) // inputs: x, w, [bias]; outputs: y, [|y| means]
    case gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
              cStrides: [Int]?)                           // inputs: a, b, [c broadcast to m x n]
    case batchedMatMul(batch: Int, m: Int, n: Int, k: Int, aOffsets: [Int], bOffsets: [Int]) // inputs: a, b
    case unary(UnaryOp, count: Int)
    case binary(BinaryOp, aStrides: [Int], bStrides: [Int], outShape: [Int])
    case select(cStrides: [Int], xStrides: [Int], yStrides: [Int], outShape: [Int])
    case reduce(ReduceOp, shape: [Int], axes: [Bool])
    case globalAveragePool(planes: Int, planeSize: Int)
    case maxPool(PoolParams)
    case averagePool(PoolParams)
    case softmax(outer: Int, axisSize: Int, inner: Int)
    case transpose(shape: [Int], permutation: [Int])
    case concat(axisSizes: [Int], outer: Int, inner: Int)
    case slice(shape: [Int], starts: [Int], steps: [Int], outShape: [Int])
    case pad(shape: [Int], padsBegin: [Int], outShape: [Int], value: Float)
    case gather(shape: [Int], axis: Int, indices: [Int])
    case scaleShift(batch: Int, channels: Int, inner: Int, relu: Bool) // inputs: x, scale, shift
    case copy(count: Int)
    /// Fused shrinkage: inputs r, tau, [residual]; tau[tauOffsets[plane]] per plane.
    case shrink(planeSize: Int, tauOffsets: [Int], residual: Bool, unit: Int)
    /// The shrinkage threshold network: inputs m [batch, inChannels], a [batch, outChannels], W1, W2, [b1], [b2].
    case thresholdNetwork(batch: Int, inChannels: Int, hidden: Int, outChannels: Int, transB1: Bool, transB2: Bool,
                          bias1: Bool, bias2: Bool)
    /// Per-plane mean of |x|.
    case absMean(planes: Int, planeSize: Int)
}

/// What a conv step does besides the convolution (`ConvFusionPass`; kernel side: `ConvFusion`).
struct ConvStepFusion {
    /// BatchNorm -> ReLU applied to the input while it is padded: constant scale / shift per input channel.
    var preScale: UnsafePointer<Float>? = nil
    var preShift: UnsafePointer<Float>? = nil
    /// The weights in the kernel's packed order (owned by the model's `PackedWeights`, which
    /// the plan keeps alive).
    var packedWeights: UnsafePointer<Float>? = nil
    /// The step's second output receives mean |y| per (image, output channel).
    var absMean: Bool = false
}

struct Step {
    var kind: StepKind
    var inputs: [Operand]
    var outputs: [Int]
    /// Scratch floats the step needs for the duration of its kernel.
    var scratch: Int
    /// For error messages and profiling.
    var nodeName: String
    /// Parallel tasks the step is split into (1 = run on the calling thread).
    var tasks: Int = 1
    /// For split broadcasting steps: the output shape of each task's rows, precomputed so a
    /// run allocates nothing.
    var partShapes: [[Int]] = []
}
