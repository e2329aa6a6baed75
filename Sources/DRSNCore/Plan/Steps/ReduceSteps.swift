import DRSNKernels

/// ReduceMean/Sum/Max of a dense tensor over the axes marked true (kept as size 1). Not split.
struct ReduceStep: StepKernel {
    var op: ReduceOp, shape: [Int], axes: [Bool]

    var name: String { "reduce" }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.reduce(op, input: ctx.input(0), shape: shape, axes: axes, output: ctx.output())
    }
}

/// Mean of each of `planes` planes of `planeSize` elements. Units are planes.
struct GlobalAveragePoolStep: StepKernel {
    var planes: Int, planeSize: Int

    var name: String { "globalAveragePool" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (planes, planeSize) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.globalAveragePool(input: ctx.input(0) + units.lowerBound * planeSize, output: ctx.output() + units.lowerBound,
                                        planes: units.count, planeSize: planeSize)
    }
}

/// MaxPool or AveragePool over `params.planes` planes. Units are planes.
struct PoolStep: StepKernel {
    var params: PoolParams
    var isMax: Bool

    var name: String { isMax ? "maxPool" : "averagePool" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        (params.planes, params.outHeight * params.outWidth * params.kernelHeight * params.kernelWidth)
    }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        var p = params
        let inPlane = p.inHeight * p.inWidth, outPlane = p.outHeight * p.outWidth
        p.planes = units.count
        let x = ctx.input(0) + units.lowerBound * inPlane, y = ctx.output() + units.lowerBound * outPlane
        if isMax { activeKernels.maxPool2D(p, input: x, output: y) } else { activeKernels.averagePool2D(p, input: x, output: y) }
    }
}
