import DRSNKernels

/// Clip whose bounds are runtime tensors (graph inputs, or values computed by the graph):
/// inputs x, then the one-element min (when `hasMin`), then the one-element max (when
/// `hasMax`); an absent bound is ±infinity. Read once per run, then the `unary` clip
/// kernel as with constant bounds. Units are blocks of `elementBlock` elements.
struct RuntimeClipStep: StepKernel {
    var count: Int, hasMin: Bool, hasMax: Bool

    var name: String { "clip" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { elementBlockSplit(count: count, workPerElement: 4) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let lo = hasMin ? ctx.input(1)[0] : -Float.infinity
        let hi = hasMax ? ctx.input(hasMin ? 2 : 1)[0] : Float.infinity
        let (a, n) = elementRange(units, count: count)
        activeKernels.unary(.clip(min: lo, max: hi), input: ctx.input(0) + a, output: ctx.output() + a, count: n)
    }
}

/// Constant-mode Pad whose constant_value is a runtime one-element tensor (input 1), read
/// once per run; otherwise as `PadStep`.
struct RuntimeValuePadStep: StepKernel {
    var shape: [Int], padsBegin: [Int], outShape: [Int]

    var name: String { "pad" }
    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.padConstant(input: ctx.input(0), shape: shape, padsBegin: padsBegin, outShape: outShape,
                                  value: ctx.input(1)[0], output: ctx.output())
    }
}
