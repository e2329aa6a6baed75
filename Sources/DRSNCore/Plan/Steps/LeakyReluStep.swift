import DRSNKernels

/// LeakyRelu over `count` elements (input x). Units are blocks of `elementBlock` elements.
struct LeakyReluStep: StepKernel {
    var count: Int
    var alpha: Float

    var name: String { "leakyRelu" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { elementBlockSplit(count: count, workPerElement: 2) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let (start, n) = elementRange(units, count: count)
        activeKernels.leakyRelu(input: ctx.input(0) + start, output: ctx.output() + start, count: n, alpha: alpha)
    }
}
