import DRSNKernels

/// A `unaryMath` function (Exp, Log, Tanh, Erf, Gelu, Pow by a scalar, ...) over `count`
/// elements. Units are blocks of `elementBlock` elements.
struct UnaryMathStep: StepKernel {
    var op: UnaryMathOp, count: Int

    var name: String { "unaryMath" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        elementBlockSplit(count: count, workPerElement: UnaryMathStep.workPerElement(op))
    }

    /// Rough flop-equivalents per element (for the split decision): a few for the
    /// arithmetic ones, a polynomial for the transcendental ones, two of them in double
    /// precision for a general power.
    static func workPerElement(_ op: UnaryMathOp) -> Int {
        switch op {
        case .reciprocal, .softsign, .hardSigmoid, .hardSwish: return 4
        case .pow(let e) where e == 1 || e == 2 || e == 3: return 4
        case .sqrt: return 16
        case .pow(let e) where e == 0.5: return 16
        case .pow: return 64
        case .exp, .log, .tanh, .erf, .elu, .selu, .geluTanh: return 24
        case .softplus, .gelu: return 40
        }
    }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let (a, n) = elementRange(units, count: count)
        activeKernels.unaryMath(op, input: ctx.input(0) + a, output: ctx.output() + a, count: n)
    }
}

/// A broadcasting `binaryMath` op (Pow, PRelu). Units are rows of the first output dimension.
struct BinaryMathStep: RowSplitStep {
    var op: BinaryMathOp
    var aStrides: [Int], bStrides: [Int], outShape: [Int]
    /// Per task, the shape of its rows (`prepare`).
    var partShapes: [[Int]] = []

    var name: String { "binaryMath" }

    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        guard let first = outShape.first else { return (1, 1) }
        return (first, outShape.dropFirst().reduce(1, *) * (op == .pow ? 64 : 2))
    }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let lo = units.lowerBound
        let inner = lo == 0 ? 0 : outShape.dropFirst().reduce(1, *)
        activeKernels.binaryMath(op, a: ctx.input(0) + (lo == 0 ? 0 : lo * aStrides[0]), aStrides: aStrides,
                                 b: ctx.input(1) + (lo == 0 ? 0 : lo * bStrides[0]), bStrides: bStrides,
                                 output: ctx.output() + lo * inner,
                                 outShape: partShapes.isEmpty ? outShape : partShapes[task])
    }
}
