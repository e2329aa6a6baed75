import DRSNKernels

/// LRN across the channels of x [batch, channels, inner]. Units are planes (batch * channels).
struct LRNStep: StepKernel {
    var batch: Int, channels: Int, inner: Int
    var size: Int, alpha: Float, beta: Float, bias: Float

    var name: String { "lrn" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (batch * channels, inner * (2 * size + 8)) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.lrn(input: ctx.input(0), output: ctx.output(), channels: channels, inner: inner, planes: units,
                          size: size, alpha: alpha, beta: beta, bias: bias)
    }
}

/// LayerNormalization output 0 over x [rows, cols]; inputs x, scale (cols floats) and
/// optionally bias (cols floats). Units are rows.
struct LayerNormStep: StepKernel {
    var rows: Int, cols: Int, epsilon: Float

    var name: String { "layerNorm" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (rows, cols * 6) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.layerNorm(input: ctx.input(0), output: ctx.output(), rows: units, cols: cols, scale: ctx.input(1),
                                bias: ctx.optionalInput(2), epsilon: epsilon)
    }
}

/// LayerNormalization output 1 (mean, `invStdDev` false) or 2 (1 / standard deviation) over
/// x [rows, cols]: one float per row. Units are rows.
struct LayerNormStatisticsStep: StepKernel {
    var rows: Int, cols: Int, epsilon: Float, invStdDev: Bool

    var name: String { "layerNormStatistics" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (rows, cols * 4) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let out = ctx.output()
        activeKernels.layerNormStatistics(input: ctx.input(0), rows: units, cols: cols, epsilon: epsilon,
                                          mean: invStdDev ? nil : out, invStdDev: invStdDev ? out : nil)
    }
}

/// InstanceNormalization over x [batch, channels, planeSize]; inputs x, scale and bias
/// (channels floats each). Units are planes.
struct InstanceNormStep: StepKernel {
    var batch: Int, channels: Int, planeSize: Int, epsilon: Float

    var name: String { "instanceNorm" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (batch * channels, planeSize * 5) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        activeKernels.instanceNorm(input: ctx.input(0), output: ctx.output(), planes: units, channels: channels,
                                   planeSize: planeSize, scale: ctx.input(1), bias: ctx.input(2), epsilon: epsilon)
    }
}
