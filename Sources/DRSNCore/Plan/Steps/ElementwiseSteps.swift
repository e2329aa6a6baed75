import DRSNKernels

/// Elementwise ranges are split at multiples of this many elements.
let elementBlock = 64

/// Element blocks lo ..< hi of a `count`-element tensor: (first element, element count).
@inline(__always)
func elementRange(_ units: Range<Int>, count: Int) -> (start: Int, count: Int) {
    let a = units.lowerBound * elementBlock, e = min(count, units.upperBound * elementBlock)
    return (a, e - a)
}

/// The split of a `count`-element step into element blocks (`elementRange` reads it back), each
/// block costing `workPerElement` flop-equivalents per element.
@inline(__always)
func elementBlockSplit(count: Int, workPerElement: Int) -> (units: Int, workPerUnit: Int) {
    ((count + elementBlock - 1) / elementBlock, elementBlock * workPerElement)
}

/// A unary elementwise op over `count` elements. Units are blocks of `elementBlock` elements.
struct UnaryStep: StepKernel {
    var op: UnaryOp, count: Int

    var name: String { "unary" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { elementBlockSplit(count: count, workPerElement: 4) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let (a, n) = elementRange(units, count: count)
        activeKernels.unary(op, input: ctx.input(0) + a, output: ctx.output() + a, count: n)
    }
}

/// A dense copy of `count` elements (graph outputs that alias another value). Units are element blocks.
struct CopyStep: StepKernel {
    var count: Int

    var name: String { "copy" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { elementBlockSplit(count: count, workPerElement: 4) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let (a, n) = elementRange(units, count: count)
        (ctx.output() + a).update(from: ctx.input(0) + a, count: n)
    }
}

/// The output shape of each task's rows of a broadcasting step split over its first
/// dimension, precomputed so a run allocates nothing.
func rowPartShapes(_ shape: [Int], tasks: Int) -> [[Int]] {
    guard tasks > 1, let rows = shape.first else { return [] }
    return (0..<tasks).map { t in
        var part = shape
        part[0] = rows * (t + 1) / tasks - rows * t / tasks
        return part
    }
}

/// A broadcasting step split over the rows of its first output dimension; each task gets the
/// shape of its rows, computed in `prepare`.
protocol RowSplitStep: StepKernel {
    var outShape: [Int] { get }
    var partShapes: [[Int]] { get set }
}

extension RowSplitStep {
    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        guard let first = outShape.first else { return (1, 1) }
        return (first, outShape.dropFirst().reduce(1, *) * 2)
    }
    mutating func prepare(threads: Int, tasks: Int) { partShapes = rowPartShapes(outShape, tasks: tasks) }
}

/// A broadcasting binary op (arithmetic or comparison). Units are rows of the first output dimension.
struct BinaryStep: RowSplitStep {
    var op: BinaryOp
    var aStrides: [Int], bStrides: [Int], outShape: [Int]
    /// Per task, the shape of its rows (`prepare`).
    var partShapes: [[Int]] = []

    var name: String { "binary" }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let lo = units.lowerBound
        let inner = lo == 0 ? 0 : outShape.dropFirst().reduce(1, *)
        activeKernels.binary(op, a: ctx.input(0) + (lo == 0 ? 0 : lo * aStrides[0]), aStrides: aStrides,
                             b: ctx.input(1) + (lo == 0 ? 0 : lo * bStrides[0]), bStrides: bStrides, output: ctx.output() + lo * inner,
                             outShape: partShapes.isEmpty ? outShape : partShapes[task])
    }
}

/// where(condition, x, y) with broadcasting. Units are rows of the first output dimension.
struct SelectStep: RowSplitStep {
    var cStrides: [Int], xStrides: [Int], yStrides: [Int], outShape: [Int]
    var partShapes: [[Int]] = []

    var name: String { "select" }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let lo = units.lowerBound
        let inner = lo == 0 ? 0 : outShape.dropFirst().reduce(1, *)
        activeKernels.select(condition: ctx.input(0) + (lo == 0 ? 0 : lo * cStrides[0]), conditionStrides: cStrides,
                             x: ctx.input(1) + (lo == 0 ? 0 : lo * xStrides[0]), xStrides: xStrides,
                             y: ctx.input(2) + (lo == 0 ? 0 : lo * yStrides[0]), yStrides: yStrides,
                             output: ctx.output() + lo * inner, outShape: partShapes.isEmpty ? outShape : partShapes[task])
    }
}
