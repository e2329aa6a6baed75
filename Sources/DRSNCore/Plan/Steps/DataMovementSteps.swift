import DRSNKernels

// Data movement steps: cheap, never split (one unit).

struct TransposeStep: StepKernel {
    var shape: [Int], permutation: [Int]

    var name: String { "transpose" }
    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.transpose(input: ctx.input(0), shape: shape, permutation: permutation, output: ctx.output())
    }
}

/// Concatenation of the inputs along an axis: `axisSizes` per input, `outer` x (axis) x `inner`.
struct ConcatStep: StepKernel {
    var axisSizes: [Int], outer: Int, inner: Int

    var name: String { "concat" }
    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.concat(inputs: (0..<ctx.inputCount).map { ctx.input($0) }, axisSizes: axisSizes, outer: outer, inner: inner,
                             output: ctx.output())
    }
}

struct SliceStep: StepKernel {
    var shape: [Int], starts: [Int], steps: [Int], outShape: [Int]

    var name: String { "slice" }
    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.slice(input: ctx.input(0), shape: shape, starts: starts, steps: steps, outShape: outShape, output: ctx.output())
    }
}

/// Constant-mode Pad.
struct PadStep: StepKernel {
    var shape: [Int], padsBegin: [Int], outShape: [Int], value: Float

    var name: String { "pad" }
    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.padConstant(input: ctx.input(0), shape: shape, padsBegin: padsBegin, outShape: outShape, value: value,
                                  output: ctx.output())
    }
}

/// Gather along `axis` with constant indices.
struct GatherStep: StepKernel {
    var shape: [Int], axis: Int, indices: [Int]

    var name: String { "gather" }
    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.gather(input: ctx.input(0), shape: shape, axis: axis, indices: indices, output: ctx.output())
    }
}
