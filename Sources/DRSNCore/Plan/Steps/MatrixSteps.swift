import DRSNKernels

/// C = alpha op(A) op(B) [+ beta C broadcast from input 2 with `cStrides`]. Inputs: a, b, [c].
/// Units are rows of the output.
struct GemmStep: StepKernel {
    var transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float
    /// Strides reading input 2 as m x n (nil: no C term).
    var cStrides: [Int]?

    var name: String { "gemm" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (m, 2 * n * k) }
    var flops: Int { 2 * m * n * k }
    var scratchFloats: Int { activeKernels.sgemmScratchElements(m: m, n: n, k: k) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let lo = units.lowerBound, hi = units.upperBound
        let out = ctx.output()
        if let cStrides {
            let c = ctx.input(2)
            for i in lo..<hi {
                for j in 0..<n { out[i * n + j] = c[i * cStrides[0] + j * cStrides[1]] }
            }
        }
        let a = ctx.input(0)
        activeKernels.sgemm(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha,
                            a: transA ? a + lo : a + lo * k, lda: transA ? m : k, b: ctx.input(1), ldb: transB ? k : n,
                            beta: beta, c: out + lo * n, ldc: n, scratch: ctx.scratch)
    }
}

/// Batched MatMul with broadcast batch dimensions: product i reads a + aOffsets[i], b + bOffsets[i].
/// Units are products.
struct BatchedMatMulStep: StepKernel {
    var batch: Int, m: Int, n: Int, k: Int
    var aOffsets: [Int], bOffsets: [Int]

    var name: String { "batchedMatMul" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (batch, 2 * m * n * k) }
    var flops: Int { 2 * batch * m * n * k }
    var scratchFloats: Int { activeKernels.sgemmScratchElements(m: m, n: n, k: k) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let a = ctx.input(0), b = ctx.input(1), out = ctx.output()
        for i in units {
            activeKernels.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a + aOffsets[i], lda: k,
                                b: b + bOffsets[i], ldb: n, beta: 0, c: out + i * m * n, ldc: n, scratch: ctx.scratch)
        }
    }
}

/// Softmax over `axisSize` elements at stride `inner`, `outer` times. Units are outer rows.
struct SoftmaxStep: StepKernel {
    var outer: Int, axisSize: Int, inner: Int

    var name: String { "softmax" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (outer, axisSize * inner * 8) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let off = units.lowerBound * axisSize * inner
        activeKernels.softmax(input: ctx.input(0) + off, output: ctx.output() + off, outer: units.count, axisSize: axisSize, inner: inner)
    }
}
